#include "m2msec/tls/net.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <optional>
#include <charconv>
#include <cstring>

#include "m2msec/core/text.h"
#include "m2msec/tls/hello.h"

namespace m2msec::tls::net {
namespace {

Error io_error(const std::string& what) { return Error(Category::kIo, what + ": " + std::strerror(errno)); }

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_UNSPEC;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

Result<Address> resolve(const Endpoint& at) {
  Address address;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  if (inet_pton(AF_INET, at.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(at.port);
    address.length = sizeof(sockaddr_in);
    address.family = AF_INET;
  } else if (inet_pton(AF_INET6, at.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(at.port);
    address.length = sizeof(sockaddr_in6);
    address.family = AF_INET6;
  } else {
    return Error::usage("not a numeric IP address: '" + at.host + "'");
  }
  return address;
}

Result<Socket> open_socket(int family, bool datagram) {
  const int fd = ::socket(family, (datagram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return io_error("socket");
  return Socket(fd);
}

}  // namespace

Result<Endpoint> Endpoint::parse(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return Error::usage("expected ADDRESS:PORT, got '" + std::string(text) + "'");
  std::string_view host = text.substr(0, colon);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535 || port_text.empty()) {
    return Error::usage("bad port in '" + std::string(text) + "'");
  }
  return Endpoint{std::string(host), static_cast<std::uint16_t>(port)};
}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = other.release();
  }
  return *this;
}

Socket::~Socket() {
  if (m_fd >= 0) ::close(m_fd);
}

bool is_url_target(std::string_view target) {
  constexpr std::string_view kAllowed = "-._~!$&'()*+,;=:@/?";
  const auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); };
  for (std::size_t i = 0; i < target.size(); ++i) {
    const char c = target[i];
    if (c == '%') {
      if (i + 2 >= target.size() || !hex(target[i + 1]) || !hex(target[i + 2])) return false;
      i += 2;
    } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 kAllowed.find(c) != std::string_view::npos)) {
      return false;
    }
  }
  return true;
}

Result<Url> Url::parse(std::string_view text, std::span<const Scheme> schemes) {
  const auto bad = [&](std::string_view why) { return Error::usage(concat({"URL '", text, "': ", why})); };
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return bad("no scheme");
  Url url;
  std::string scheme(text.substr(0, scheme_end));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto known = std::find_if(schemes.begin(), schemes.end(), [&](const Scheme& s) { return s.name == scheme; });
  if (known == schemes.end()) {
    std::string names;
    for (const Scheme& s : schemes) names += concat({names.empty() ? "" : " or ", s.name});
    return bad(concat({"the scheme must be ", names}));
  }
  url.scheme = std::move(scheme);
  const std::string_view rest = text.substr(scheme_end + 3);
  const auto authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  const std::string_view target = authority_end == std::string_view::npos ? "" : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) return bad("userinfo is not allowed");

  std::string_view host = authority;
  std::optional<std::string_view> port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') return bad("junk after the IPv6 address");
    if (!after.empty()) port = after.substr(1);
    in6_addr v6{};
    char canonical[INET6_ADDRSTRLEN] = {};
    if (::inet_pton(AF_INET6, std::string(host).c_str(), &v6) != 1) return bad("not an IPv6 address");
    url.host = ::inet_ntop(AF_INET6, &v6, canonical, sizeof canonical);
  } else {
    if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    in_addr v4{};
    if (::inet_pton(AF_INET, std::string(host).c_str(), &v4) == 1) {
      url.host = host;
    } else {
      auto name = parse_host_name(host);
      if (!name) return bad("the host is neither a DNS name nor an IP address");
      url.host = name->text();
    }
  }
  url.port = known->default_port;
  if (port) {
    unsigned number = 0;
    const auto [end, ec] = std::from_chars(port->data(), port->data() + port->size(), number);
    if (port->empty() || ec != std::errc{} || end != port->data() + port->size() || number == 0 || number > 65535) {
      return bad("the port must be a number from 1 to 65535");
    }
    url.port = static_cast<std::uint16_t>(number);
  }
  if (target.find('#') != std::string_view::npos) return bad("a fragment is not sent to a server");
  if (!is_url_target(target)) return bad("the path or query holds a character that must be percent-encoded");
  url.target = target.starts_with('/') ? std::string(target) : concat({"/", target});
  return url;
}

int Socket::release() {
  const int fd = m_fd;
  m_fd = -1;
  return fd;
}

Result<Socket> listen(const Endpoint& at, bool datagram) {
  M2MSEC_ASSIGN_OR_RETURN(const Address address, resolve(at));
  M2MSEC_ASSIGN_OR_RETURN(Socket socket, open_socket(address.family, datagram));
  const int one = 1;
  if (::setsockopt(socket.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return io_error("setsockopt");
  if (::bind(socket.fd(), address.get(), address.length) != 0) return io_error("bind " + at.host);
  if (!datagram && ::listen(socket.fd(), 64) != 0) return io_error("listen");
  return socket;
}

Result<std::uint16_t> local_port(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return io_error("getsockname");
  if (storage.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
}

namespace {

// Security associations carry request/response exchanges: each flight or message is written whole, and
// Nagle's algorithm would hold the next small one back until the peer's (delayed) ACK.
void no_delay(int fd) {
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

}  // namespace

Result<Socket> accept(int listening_fd) {
  const int fd = ::accept4(listening_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return io_error("accept");
  no_delay(fd);
  return Socket(fd);
}

Result<Socket> connect(const Endpoint& to, bool datagram) {
  M2MSEC_ASSIGN_OR_RETURN(const Address address, resolve(to));
  M2MSEC_ASSIGN_OR_RETURN(Socket socket, open_socket(address.family, datagram));
  if (::connect(socket.fd(), address.get(), address.length) != 0) return io_error("connect " + to.host);
  if (!datagram) no_delay(socket.fd());
  return socket;
}

std::string address_text(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    return concat({text, ":", std::to_string(ntohs(v4->sin_port))});
  }
  if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    return concat({"[", text, "]:", std::to_string(ntohs(v6->sin6_port))});
  }
  return {};
}

std::string peer_text(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return {};
  return address_text(storage);
}

Result<void> disconnect(int fd) {
  sockaddr unspecified{};
  unspecified.sa_family = AF_UNSPEC;
  if (::connect(fd, &unspecified, sizeof unspecified) != 0) return io_error("disconnect");
  return {};
}

void drain_and_close(Socket& socket, std::chrono::milliseconds patience) {
  int type = 0;
  socklen_t length = sizeof type;
  const bool stream = socket.fd() >= 0 && ::getsockopt(socket.fd(), SOL_SOCKET, SO_TYPE, &type, &length) == 0 &&
                      type == SOCK_STREAM;
  if (!stream) {  // a datagram has no reset to lose it to
    socket = Socket();
    return;
  }
  ::shutdown(socket.fd(), SHUT_WR);
  const auto deadline = std::chrono::steady_clock::now() + patience;
  char discard[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{socket.fd(), POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    if (::recv(socket.fd(), discard, sizeof discard, 0) <= 0) break;
  }
  socket = Socket();
}

}  // namespace m2msec::tls::net

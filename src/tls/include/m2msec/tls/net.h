// Sockets for security associations: numeric addresses only (no name resolution), TCP for TLS and UDP for
// DTLS. Errors are Category::kIo with the system's message.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "m2msec/core/result.h"

struct sockaddr_storage;

namespace m2msec::tls::net {

struct Endpoint {
  std::string host;  // numeric IPv4 or IPv6 address
  std::uint16_t port = 0;
  // "127.0.0.1:4433", "[::1]:4433". Fails with kUsage.
  static Result<Endpoint> parse(std::string_view text);
};

// A URL as the HTTP and CoAP clients take it (RFC 3986 §3): a scheme of `schemes` (case-insensitive, given back
// in lower case, with its default port); a host that is a DNS name, an IPv4 address or a bracketed IPv6 address
// (given back canonical and without brackets); a port from 1 to 65535; no userinfo, no fragment; a path and query
// of characters that need no percent-encoding ("/" when empty). Fails with kUsage naming what is wrong.
struct Url {
  struct Scheme {
    std::string_view name;  // lower case
    std::uint16_t default_port;
  };
  std::string scheme;
  std::string host;
  std::uint16_t port = 0;
  std::string target;
  static Result<Url> parse(std::string_view text, std::span<const Scheme> schemes);
};

// Whether a path and query holds only characters that need no percent-encoding (RFC 3986 §3.3, §3.4: pchar, "/"
// and "?", with "%" starting a percent-encoded octet).
bool is_url_target(std::string_view target);

// An owned file descriptor, closed on destruction.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : m_fd(fd) {}
  Socket(Socket&& other) noexcept : m_fd(other.release()) {}
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket();

  int fd() const { return m_fd; }
  int release();

 private:
  int m_fd = -1;
};

// A listening TCP socket (datagram=false) or a bound UDP socket (datagram=true). Port 0 picks a free one.
Result<Socket> listen(const Endpoint& at, bool datagram);
Result<std::uint16_t> local_port(int fd);
Result<Socket> accept(int listening_fd);
// A connected TCP or UDP socket.
Result<Socket> connect(const Endpoint& to, bool datagram);
// "127.0.0.1:41234", "[::1]:41234" for an IPv4 or IPv6 address ("" for another family).
std::string address_text(const sockaddr_storage& address);
// The address_text of a connected socket's peer ("" when it has none).
std::string peer_text(int fd);
// Undoes connect() on a UDP socket, so that it receives from any peer again.
Result<void> disconnect(int fd);
// Ends a TCP connection so that what was sent last (a fatal alert) reaches the peer: closing a socket
// with unread input makes the kernel send a reset, and the peer may then lose the alert. Sends FIN,
// then discards input until the peer closes, for at most `patience`. A UDP socket is simply closed.
void drain_and_close(Socket& socket, std::chrono::milliseconds patience = std::chrono::milliseconds(1000));

}  // namespace m2msec::tls::net

#include "m2msec/http/client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <boost/beast/http/rfc7230.hpp>
#include <array>
#include <charconv>

#include "m2msec/tls/hello.h"
#include "m2msec/tls/net.h"
#include "wire.h"

namespace m2msec::http {
namespace {

namespace bhttp = boost::beast::http;

std::uint16_t default_port(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

// The Host header of a request to the URL (RFC 9110 7.2): the port only when it is not the default.
std::string authority(const Url& url) {
  const std::string host = wire::url_host(url.host);
  return url.port == default_port(url.scheme) ? host : host + ":" + std::to_string(url.port);
}

// A read or write that failed below HTTP is the connection's fault, unless TLS named an alert.
Error transport_error(const Error& error) {
  return error.tls_alert() ? error : Error(Category::kIo, error.detail());
}

Result<tls::net::Socket> connect(const Url& url) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(url.host.c_str(), nullptr, &hints, &found); rc != 0) {
    return Error(Category::kIo, "resolve " + url.host + ": " + ::gai_strerror(rc));
  }
  const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, ::freeaddrinfo);
  Error last(Category::kIo, "no address for " + url.host);
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char text[NI_MAXHOST] = {};
    if (::getnameinfo(a->ai_addr, a->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) != 0) continue;
    Result<tls::net::Socket> socket = tls::net::connect({text, url.port}, false);
    if (socket) return socket;
    last = std::move(socket).error();
  }
  return last;
}

// Whether a Connection header of the request holds the "close" option (RFC 9112 9.6).
bool asks_to_close(const std::vector<Header>& headers) {
  for (const Header& header : headers) {
    if (!boost::beast::iequals(wire::view(header.name), "Connection")) continue;
    for (const auto token : bhttp::token_list(wire::view(header.value))) {
      if (boost::beast::iequals(token, "close")) return true;
    }
  }
  return false;
}

// kUsage when the request cannot be written: a method that is not a token, a header the wire cannot carry.
Result<void> check_sendable(const Request& request) {
  if (!wire::is_token(request.method)) return Error::usage("'" + request.method + "' is not an HTTP method");
  bhttp::fields scratch;
  return wire::add_headers(request.headers, scratch);
}

Result<wire::WireRequest> to_wire(const Url& url, std::string_view target, Request request) {
  M2MSEC_TRY(check_sendable(request));
  wire::WireRequest message;
  message.version(11);
  message.method_string(request.method);
  message.target(wire::view(target));
  M2MSEC_TRY(wire::add_headers(request.headers, message));
  if (message.count(bhttp::field::host) == 0) message.set(bhttp::field::host, authority(url));
  //= RFC 9110 §8.6
  //# A user agent SHOULD NOT send a Content-Length header field when the request message does not
  //# contain content and the method semantics do not anticipate such data.
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    message.content_length(request.body.size());
  }
  message.body() = std::move(request.body);
  // HTTP/1.1 keeps the connection by default; "close" anywhere becomes one normalized Connection field.
  if (asks_to_close(request.headers)) message.keep_alive(false);
  return message;
}

// The next final response; `buffer` keeps what arrived beyond it, `keep_alive` whether the server keeps the
// connection.
Result<Response> read_response(wire::Stream& stream, boost::beast::flat_buffer& buffer, bool head, std::size_t limit,
                               bool& keep_alive) {
  for (;;) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(limit);
    parser.header_limit(wire::header_limit_of(limit));
    parser.skip(head);
    boost::system::error_code ec;
    // The header first: Boost 1.74 parsing eagerly on from the header loses the body_limit error that a
    // Content-Length over the limit raises (the body state resets it).
    bhttp::read_header(stream, buffer, parser, ec);
    if (!ec) bhttp::read(stream, buffer, parser, ec);
    if (stream.failure()) return transport_error(*stream.failure());
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) {
      return Error(Category::kIo, "the server closed the connection before a complete response");
    }
    if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
      return Error(Category::kProtocol, "the response is over " + std::to_string(limit) + " octets");
    }
    if (ec) return Error(Category::kProtocol, "malformed response: " + ec.message());
    wire::WireResponse message = parser.release();
    // An interim response (100 Continue, 103 Early Hints): the final one follows.
    if (message.result_int() / 100 == 1) continue;
    keep_alive = message.keep_alive();
    return Response{message.result_int(), wire::headers_of(message), std::move(message.body())};
  }
}

}  // namespace

Result<Url> Url::parse(std::string_view text) {
  static constexpr std::array<tls::net::Url::Scheme, 2> kSchemes{{{"http", 80}, {"https", 443}}};
  M2MSEC_ASSIGN_OR_RETURN(tls::net::Url url, tls::net::Url::parse(text, kSchemes));
  return Url{std::move(url.scheme), std::move(url.host), url.port, std::move(url.target)};
}

struct ClientConnection::State {
  Url url;
  tls::net::Socket socket;
  std::unique_ptr<tls::Session> session;  // over socket (https)
  std::unique_ptr<wire::Channel> channel;  // over session or socket
  boost::beast::flat_buffer buffer;  // octets read beyond the last response
  bool reusable = true;  // false once either end asked to close, or after an error
  bool failed = false;   // an exchange failed: no close_notify on close()
};

ClientConnection::ClientConnection(std::unique_ptr<State> state) : m_state(std::move(state)) {}

ClientConnection::~ClientConnection() { close(); }

Result<std::unique_ptr<ClientConnection>> ClientConnection::open(const Url& url, std::shared_ptr<const tls::Context> tls,
                                                                 std::chrono::milliseconds timeout) {
  const bool https = url.scheme == "https";
  if (https != (tls != nullptr)) return Error::usage(https ? "https needs a TLS client context" : "http takes no TLS context");
  if (tls && (tls->config().role != tls::Role::kClient || tls->config().profile->transport != tls::Transport::kTls)) {
    return Error::usage("https needs a TLS (not DTLS) client context");
  }
  if (timeout.count() <= 0) return Error::usage("the timeout must be positive");
  auto state = std::make_unique<State>();
  state->url = url;
  M2MSEC_ASSIGN_OR_RETURN(state->socket, connect(url));
  wire::set_timeouts(state->socket.fd(), timeout);
  if (tls) {
    M2MSEC_ASSIGN_OR_RETURN(state->session, tls->session(state->socket.fd()));
    const Result<tls::Progress> handshake = state->session->handshake();
    if (!handshake) {
      tls::net::drain_and_close(state->socket);
      return handshake.error();
    }
    if (*handshake != tls::Progress::kDone) return Error(Category::kIo, "the TLS handshake timed out");
    state->channel = std::make_unique<wire::SessionChannel>(*state->session);
  } else {
    state->channel = std::make_unique<wire::SocketChannel>(state->socket.fd());
  }
  return std::unique_ptr<ClientConnection>(new ClientConnection(std::move(state)));
}

const Url& ClientConnection::url() const { return m_state->url; }

const tls::Session* ClientConnection::session() const { return m_state->session.get(); }

Result<Response> ClientConnection::send(Request request, std::size_t response_limit) {
  State& s = *m_state;
  if (!s.reusable || !s.channel) return Error(Category::kIo, "the connection is closed");
  // Whatever fails from here leaves the connection unusable (client.h); once writing starts, without a
  // close_notify on close().
  s.reusable = false;
  const std::string target = request.target.empty() ? s.url.target : std::move(request.target);
  if (!target.starts_with('/') || !tls::net::is_url_target(target)) return Error::usage("'" + target + "' is not an origin-form target");
  const bool head = request.method == "HEAD";
  M2MSEC_ASSIGN_OR_RETURN(wire::WireRequest message, to_wire(s.url, target, std::move(request)));
  s.failed = true;
  wire::Stream stream(*s.channel);
  if (auto written = wire::write(stream, message); !written) return transport_error(written.error());
  bool keep_alive = false;
  M2MSEC_ASSIGN_OR_RETURN(Response response, read_response(stream, s.buffer, head, response_limit, keep_alive));
  s.failed = false;
  s.reusable = keep_alive && message.keep_alive();
  return response;
}

void ClientConnection::close() {
  State& s = *m_state;
  if (s.session && !s.failed) s.session->close();
  s.reusable = false;
  s.channel.reset();
  s.session.reset();
  s.socket = tls::net::Socket();
}

Result<Response> send(const Url& url, Request request, std::shared_ptr<const tls::Context> tls,
                      std::size_t response_limit, std::chrono::milliseconds timeout) {
  // What cannot be sent is refused before connecting.
  M2MSEC_TRY(check_sendable(request));
  M2MSEC_ASSIGN_OR_RETURN(std::unique_ptr<ClientConnection> connection, ClientConnection::open(url, std::move(tls), timeout));
  request.target = url.target;
  request.headers.push_back({"Connection", "close"});
  Result<Response> response = connection->send(std::move(request), response_limit);
  connection->close();
  return response;
}

}  // namespace m2msec::http

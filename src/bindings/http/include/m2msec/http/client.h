// An HTTP/1.1 client for one request per connection (EST enrolment, OCSP queries): https over a TLS
// security association, or plain http.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "m2msec/core/result.h"
#include "m2msec/http/message.h"
#include "m2msec/tls/session.h"

namespace m2msec::http {

// An absolute http or https URL (RFC 3986, RFC 9110 4.2), strictly: no userinfo, no fragment, no empty or
// zero port, no IPv6 zone; the host is a DNS name, an IPv4 address or a bracketed IPv6 address; the path
// and query hold only characters a request-target may carry, with well-formed percent-encoding.
struct Url {
  std::string scheme;  // "http" or "https" (lower case)
  std::string host;    // lower case; an IPv6 address without its brackets
  std::uint16_t port = 0;  // the scheme's default (80, 443) when the URL names none
  std::string target;  // path and query; "/" when the URL has no path
  // Fails with kUsage.
  static Result<Url> parse(std::string_view text);
};

// A connection kept open for several exchanges (HTTP/1.1 keep-alive), e.g. the oneM2M client's, which
// also needs the TLS session of its security association (keying material export, the peer). The
// handshake runs in open(). Each send() writes one request to request.target (origin-form, "/mef"),
// adding Host (the URL's authority, unless the request has one) and Content-Length, and reads the
// response; the errors are those of send() below. After an error the connection is unusable.
class ClientConnection {
 public:
  static Result<std::unique_ptr<ClientConnection>> open(const Url& url, std::shared_ptr<const tls::Context> tls,
                                                        std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;
  ~ClientConnection();  // close()

  const Url& url() const;
  // The association (nullptr for http).
  const tls::Session* session() const;
  Result<Response> send(Request request, std::size_t response_limit = 1 << 20);
  // Sends close_notify (https) and closes the socket.
  void close();

 private:
  struct State;
  explicit ClientConnection(std::unique_ptr<State> state);
  std::unique_ptr<State> m_state;
};

// Sends `request` to url.target (request.target is ignored) over a fresh connection and returns the
// response. Adds Host (the URL's authority, unless the request has one), Content-Length and
// "Connection: close". https needs a TLS client context (its server_name goes in SNI); http takes none.
// `timeout` bounds each wait for the peer (read, write), not the whole exchange; connecting and name
// resolution use the system's limits. Errors: kUsage for a bad request or context; kIo for connection
// failures, timeouts and a response cut short; the handshake's error (kAuth with the TLS alert when
// authentication failed); kProtocol for a malformed response or one over `response_limit` octets (body or
// header). A TLS write to a peer that has gone raises SIGPIPE unless the process ignores it.
Result<Response> send(const Url& url, Request request, std::shared_ptr<const tls::Context> tls,
                      std::size_t response_limit = 1 << 20,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace m2msec::http

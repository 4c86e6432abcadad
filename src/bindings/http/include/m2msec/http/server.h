// An HTTP/1.1 server over TLS security associations (https) or plain TCP (http): blocking sockets, one
// thread per connection, keep-alive, bounded connections and message sizes. Requests that fail before the
// handler (malformed, no Host, too large) are answered by the server and the connection is closed; a
// connection whose TLS handshake fails is closed without a word (and counted).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "m2msec/core/result.h"
#include "m2msec/http/message.h"
#include "m2msec/tls/session.h"

namespace m2msec::http {

// What a handler knows about the connection a request came on.
struct Connection {
  // The TLS association (its peer() is the authenticated peer; exporters, channel bindings); nullptr for
  // plain HTTP.
  const tls::Session* session = nullptr;
  std::string remote_address;  // "127.0.0.1:41234", "[::1]:41234"
};

// Called on the connection's thread, so concurrently for different connections. A handler that throws
// answers 500; so does a response the wire cannot carry (a status outside 200-599, a header name that is
// not a token, a value with CR, LF or NUL, a body on 204 or 304). The server sets Content-Length and drops a
// handler's Content-Length and Transfer-Encoding; "Connection: close" in a response ends the connection.
using Handler = std::function<Response(const Request&, const Connection&)>;

struct ServerOptions {
  std::string host = "127.0.0.1";  // numeric address
  std::uint16_t port = 0;          // 0: any free port
  std::shared_ptr<const tls::Context> tls{};  // a TLS (not DTLS) server context; nullptr: plain HTTP
  Handler handler{};
  std::size_t body_limit = 64 * 1024;  // larger: 413, connection closed, handler not called
  std::size_t header_limit = 8 * 1024;  // larger: 431, connection closed
  // SO_RCVTIMEO / SO_SNDTIMEO of each connection: a peer silent for this long loses its connection.
  std::chrono::milliseconds idle_timeout{30000};
  std::size_t max_connections = 256;  // one more is answered 503 and closed
};

class Server {
 public:
  // Binds, listens and runs the accept thread. Ignores SIGPIPE for the whole process: a TLS write to a
  // peer that has gone would raise it (plain writes use MSG_NOSIGNAL).
  static Result<std::unique_ptr<Server>> start(ServerOptions options);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();  // stop()

  std::uint16_t port() const;
  std::string url() const;  // "https://127.0.0.1:PORT", "http://[::1]:PORT"
  std::uint64_t failed_handshakes() const;
  // Stops accepting, ends every connection (a blocked read returns at once) and joins the threads.
  void stop();

 private:
  struct State;
  explicit Server(std::unique_ptr<State> state);
  std::unique_ptr<State> m_state;
};

}  // namespace m2msec::http

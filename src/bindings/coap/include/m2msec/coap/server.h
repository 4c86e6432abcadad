// A CoAP server (RFC 7252) over DTLS 1.2 security associations (coaps) or plain UDP (coap), answering whole
// requests: the server runs the message layer (piggybacked ACKs, NON answers, de-duplication, Reset for
// format errors) and block-wise transfer (RFC 7959: Block1 reassembly, Block2 slicing), and the handler sees
// one request with its whole payload and none of the options 23, 27, 28 and 60.
//
// DTLS: one thread per association. The listening UDP socket answers ClientHellos without a valid cookie
// statelessly (tls::Context::accept_datagram, RFC 6347 4.2.1); a peer whose cookie is valid gets a connected
// socket of its own on the same port (SO_REUSEPORT: the kernel delivers its datagrams there) and a thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "m2msec/coap/message.h"
#include "m2msec/core/result.h"
#include "m2msec/tls/session.h"

namespace m2msec::coap {

// What a handler knows about the association a request came on (the same members as http::Connection, so one
// generic handler serves both bindings).
struct Connection {
  const tls::Session* session = nullptr;  // the DTLS association; nullptr on plain UDP
  std::string remote_address;             // "127.0.0.1:41234", "[::1]:41234"
};

// Called with a whole request (type, message ID and token as the last block carried them; payload complete).
// Returns the response: its code, options and payload are sent (the server sets type, message ID and token,
// and slices a payload larger than the block size by Block2). A handler that throws answers 5.00.
using Handler = std::function<Message(const Message& request, const Connection&)>;

struct ServerOptions {
  std::string host = "127.0.0.1";  // numeric address
  std::uint16_t port = 0;          // 0: any free port
  std::shared_ptr<const tls::Context> dtls{};  // a DTLS server context; nullptr: plain UDP
  Handler handler{};
  std::size_t body_limit = 64 * 1024;  // a larger request body (Block1 or Size1): 4.13 with Size1
  std::size_t block_size = 1024;       // Block2 size of large responses (16 ... 1024, a power of two)
  std::chrono::milliseconds idle_timeout{60000};  // a silent association is closed
  std::size_t max_associations = 256;             // more: the handshake is not continued
};

class Server {
 public:
  static Result<std::unique_ptr<Server>> start(ServerOptions options);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();  // stop()

  std::uint16_t port() const;
  std::string url() const;  // "coaps://127.0.0.1:PORT", "coap://[::1]:PORT"
  std::uint64_t failed_handshakes() const;
  std::size_t associations() const;  // DTLS associations alive now (after a valid cookie)
  void stop();

 private:
  struct State;
  explicit Server(std::unique_ptr<State> state);
  std::unique_ptr<State> m_state;
};

}  // namespace m2msec::coap

// A CoAP client (RFC 7252) over one DTLS 1.2 security association (coaps) or plain UDP (coap): the message
// layer of a requester (Confirmable requests retransmitted with exponential back-off, piggybacked and
// separate responses, duplicates and strangers ignored, Reset) and block-wise transfer (RFC 7959: Block1 for a
// large request body, Block2 to fetch a large response body), so that a caller sends one whole request and
// gets one whole response.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/coap/message.h"
#include "m2msec/coap/options.h"
#include "m2msec/core/result.h"
#include "m2msec/onem2m/primitive.h"
#include "m2msec/tls/net.h"
#include "m2msec/tls/session.h"

namespace m2msec::coap {

// An absolute coap or coaps URL (RFC 7252 §6.1, §6.2), as strict as http::Url: no userinfo, no fragment, no
// empty or zero port, no IPv6 zone; the host is a DNS name, an IPv4 address or a bracketed IPv6 address.
struct Url {
  std::string scheme;       // "coap" or "coaps" (lower case)
  std::string host;         // lower case; an IPv6 address without its brackets
  std::uint16_t port = 0;   // the scheme's default (5683, 5684) when the URL names none
  std::string target;       // path and query, percent-encoded as in the URL; "/" when the URL has no path
  // Fails with kUsage.
  static Result<Url> parse(std::string_view text);
  // "coaps://host:port" (brackets around an IPv6 address).
  std::string authority_url() const;
};

// The Uri-Path and Uri-Query options of a target ("/a/b?x=1&y"), percent-decoded (RFC 7252 §6.4 steps 8-9).
Result<std::vector<Option>> uri_options(std::string_view target);

struct ClientOptions {
  //= RFC 7252 §4.8
  //# Transmission parameters: ACK_TIMEOUT 2 s, ACK_RANDOM_FACTOR 1.5, MAX_RETRANSMIT 4 by default.
  std::chrono::milliseconds ack_timeout{2000};
  double ack_random_factor = 1.5;
  unsigned max_retransmit = 4;
  // How long to wait for a separate response once the request was acknowledged by an Empty ACK.
  std::chrono::milliseconds separate_response_timeout{60000};
  // Block size for Block1 (and the size asked for by Block2 when under 1024): 16 ... 1024, a power of two.
  std::size_t block_size = 1024;
  // A larger response body (Size2 announced, or Block2 reassembled) is refused with kProtocol.
  std::size_t body_limit = 1 << 20;
};

// One association with a CoAP server, for several requests one after the other (not thread-safe).
class ClientConnection {
 public:
  // A connected UDP socket to `to` (numeric address); with a DTLS client context, the DTLS handshake first
  // (its errors: kAuth with the alert, kIo when the peer never answers).
  static Result<ClientConnection> open(const tls::net::Endpoint& to, std::shared_ptr<const tls::Context> dtls,
                                       ClientOptions options = {});
  // The same to a URL's host (resolved, first address) and port. coaps needs a DTLS client context, coap
  // refuses one (kUsage).
  static Result<ClientConnection> open(const Url& url, std::shared_ptr<const tls::Context> dtls,
                                       ClientOptions options = {});
  ClientConnection(ClientConnection&&) noexcept;
  ClientConnection& operator=(ClientConnection&&) noexcept;
  ~ClientConnection();  // close()

  // The DTLS association; nullptr on plain UDP.
  const tls::Session* session() const;
  const ClientOptions& options() const;
  // How many datagrams this connection has sent (requests, retransmissions, ACKs, Resets): for tests.
  std::uint64_t datagrams_sent() const;

  // Sends `request` (a request code 0.01-0.31; its type, message ID and token are replaced: it goes as a
  // Confirmable message with a fresh message ID and a fresh 8-octet token) and returns the whole response
  // (its payload reassembled, without Block1/Block2/Size1/Size2 options). A request payload over block_size
  // goes by Block1; a response carrying Block2 is fetched to its end. The request must not carry Block or
  // Size options itself (kUsage).
  // Errors: kIo when no answer came after max_retransmit retransmissions (or no separate response in time),
  // or the association/socket failed; kProtocol for a Reset, a response code that is not 2.xx-5.xx, a
  // block-wise transfer that does not add up, or a body over body_limit.
  Result<Message> request(Message request);

  // Sends close_notify (DTLS) and closes the socket.
  void close();

 private:
  struct State;
  explicit ClientConnection(std::unique_ptr<State> state);
  std::unique_ptr<State> m_state;
};

// Sends one request primitive (TS-0008 mapping of coap/onem2m.h) and returns the response primitive, checked
// against the request's rqi.
Result<onem2m::Response> send_primitive(ClientConnection& connection, const onem2m::Request& request);

}  // namespace m2msec::coap

// A security association with a MEF, a MAF or a KMS that carries request primitives: the MEF Handshake or MAF
// Handshake (TS-0003 V3.18.0 8.3.5.2.2, 8.8.2.2: PSK or certificates) over TLS for an https URL (HTTP binding,
// keep-alive) or over DTLS 1.2 for a coaps URL (CoAP binding, TS-0008), then requests from the endpoint's
// originator, and the function's FQDN read from its base resource when needed.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "m2msec/coap/client.h"
#include "m2msec/core/result.h"
#include "m2msec/http/client.h"
#include "m2msec/json/json.h"
#include "m2msec/keys/identifiers.h"
#include "m2msec/onem2m/primitive.h"
#include "m2msec/onem2m/resources.h"
#include "m2msec/tls/credentials.h"
#include "m2msec/tls/session.h"

namespace m2msec::client {

// Where a function is and how to authenticate to it.
struct Endpoint {
  enum class Binding { kHttp, kCoap };
  Binding binding = Binding::kHttp;
  http::Url url;        // kHttp: https; its path is the base resource ("/mef", "/maf")
  coap::Url coap_url;   // kCoap: coaps (or coap, from plain()); its path is the base resource
  // A (D)TLS client context: the MEF / MAF Handshake's credential (PSK or certificate), with SNI set to the
  // function's authority (10.2.1). One context serves every association to the endpoint. nullptr only for a
  // plain coap endpoint.
  std::shared_ptr<const tls::Context> tls;
  // From of every request: the Credential-ID of a PSK ("10-<KpmID>" at a MEF, "11-<KmID>" at a MAF, 10.4), or
  // the identity the own certificate binds to (pki::bound_identity).
  std::string originator;

  // A PSK endpoint: SNI is `server_name`, or the URL's host when empty (an IP address URL needs one).
  static Result<Endpoint> psk(std::string_view url, std::string server_name, tls::PskIdentityKind kind,
                              tls::ClientPsk psk);
  // Any client configuration (certificates: own chain and key, the function's trust anchors). An https URL
  // uses config's profile; a coaps URL the DTLS 1.2 profile of the same credential kind (ts0003-dtls12-psk,
  // -cert, -rpk): everything else of the config (identities, validation) is the same.
  static Result<Endpoint> make(std::string_view url, tls::Config config, std::string originator);
  // A coap:// endpoint without any security association (plain UDP): only for a caller that allows it. Its
  // Channel has no session.
  static Result<Endpoint> plain(std::string_view url, std::string originator);

  // The path of the base resource ("/mef").
  const std::string& target() const { return binding == Binding::kHttp ? url.target : coap_url.target; }
};

class Channel {
 public:
  // Runs the handshake.
  static Result<Channel> open(const Endpoint& endpoint);
  Channel(Channel&&) noexcept;
  Channel& operator=(Channel&&) noexcept;
  ~Channel();

  // The association (a channel of a plain coap endpoint has none: secured() is false, and session() must not
  // be called).
  bool secured() const;
  const tls::Session& session() const;
  // MEF-FQDN / MAF-FQDN, as its base resource says (read on the first call: only the procedures that send or
  // check it pay for the RETRIEVE).
  Result<keys::Fqdn> fqdn();
  const std::string& base() const;       // "mef"
  const std::string& originator() const;  // the Credential-ID sent as From

  // Sends one request (fresh request identifier) and returns the content of a response with the
  // `expected` status code, checked as a representation of `type` (when given). Any other status code is
  // an error carrying that code (Error::rsc()) and the response's m2m:dbg text.
  Result<json::Object> call(onem2m::Operation op, std::string to, std::optional<onem2m::ResourceType> type,
                            std::optional<json::Value> content, Rsc expected);
  // The same, for a response without content (DELETE) or whose content the caller reads itself.
  Result<onem2m::Response> exchange(onem2m::Operation op, std::string to, std::optional<onem2m::ResourceType> type,
                                    std::optional<json::Value> content, Rsc expected);

 private:
  struct State;
  explicit Channel(std::unique_ptr<State> state);
  std::unique_ptr<State> m_state;
};

}  // namespace m2msec::client

// ESCertKE, End-to-End Certificate-based Key Establishment (TS-0003 V3.18.0 clause 8.7): two end-points
// run a TLS 1.2 handshake with certificates (ciphersuites of 10.2.3), carried in four ESCertKE messages,
// and both export pairwiseE2EKey and pairwiseE2EKeyID (label EXPORTER-oneM2M-ESCertKE, 48 octets, 10.3.1).
// The messages travel in two NOTIFY request/response exchanges as m2m:securityInfo with
// securityInfoType 6 (TS-0004 V3.32.0 7.5.1.2.12, TS-0001 V3.36.0 11.4.3).
//
// Framing (the specification leaves it open): each ESCertKE message is the raw TLS 1.2 record-layer
// octets of one handshake flight, exactly as a TLS peer would have sent them on a stream:
//   1  Initiator   ClientHello
//   2  Terminator  ServerHello, Certificate, ServerKeyExchange, CertificateRequest, ServerHelloDone
//   3  Initiator   Certificate, ClientKeyExchange, CertificateVerify, ChangeCipherSpec, Finished
//   4  Terminator  ChangeCipherSpec, Finished
// The Initiator is the TLS client, the Terminator the TLS server; the tls module's engine runs the
// handshake (profile "ts0003-tls12-cert", mutual authentication, 8.1.2.5 checks) over one end of a
// private non-blocking socketpair, whose other end turns what it writes into the next message.
//
// Each message is at most kMaxMessageSize octets and must be a whole number of TLS records; a flight
// that is cut short, carries anything after its last record, or arrives out of order is refused. Any
// failure ends the exchange: every later call fails too. Objects are not thread-safe (one exchange,
// one owner); EscertkeResponder is.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "m2msec/core/bytes.h"
#include "m2msec/core/clock.h"
#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"
#include "m2msec/tls/session.h"

namespace m2msec::e2e {

// The largest ESCertKE message sent or accepted, in octets (a flight with certificate chains is a few kB).
inline constexpr std::size_t kMaxMessageSize = 64 * 1024;

// m2m:securityInfoType "ESCertKE Message" (TS-0004 V3.32.0 6.3.4.2).
inline constexpr int kSecurityInfoTypeEscertke = 6;

// What both end-points hold once the exchange succeeded (8.7.2.2, 10.3.1).
struct PairwiseE2EKey {
  // pairwiseE2EKeyID: the 16 most significant exported octets, as 32 upper-case hex digits
  // (keys::kIdentifierHexCase), for use as a key identifier.
  std::string identifier;
  // pairwiseE2EKey: the 32 least significant exported octets.
  SecretBytes key;
  // The other end-point as the handshake authenticated it: at the Initiator the configured Terminator
  // identity (checked against the certificate, 8.1.2.5 (a)); at the Terminator the identity bound from
  // the Initiator's certificate (CSE-ID, Absolute AE-ID or Credential-ID, 8.2.2.2 step 4).
  tls::AuthenticatedPeer peer;

  PairwiseE2EKey clone() const { return {identifier, key.clone(), peer}; }
};

// The Initiating End-Point: the TLS client.
class EscertkeInitiator {
 public:
  // config: role kClient; profile null (then "ts0003-tls12-cert") or that profile; own certificate and
  // key; peer_policy with the trust anchor for the Terminator and its flavour; the Terminator's identity
  // as peer_policy.expected_identifier or, failing that, peer_identity / server_name (the SNI authority,
  // 10.2.1), which the Terminator's certificate must carry (8.1.2.5 (a)). Refused with kUsage otherwise,
  // and with kUnsupported for any other profile.
  static Result<EscertkeInitiator> create(tls::Config config);
  // The same with a context built once and shared by several exchanges.
  static Result<EscertkeInitiator> create(std::shared_ptr<const tls::Context> context);

  EscertkeInitiator(EscertkeInitiator&&) noexcept;
  EscertkeInitiator& operator=(EscertkeInitiator&&) noexcept;
  ~EscertkeInitiator();

  // ESCertKE message 1 (ClientHello).
  Result<Bytes> message1();
  // Takes message 2, authenticates the Terminator, returns message 3.
  Result<Bytes> message3(ByteView message2);
  // Takes message 4; the handshake is complete and the key is exported.
  Result<PairwiseE2EKey> finish(ByteView message4);

  // The association once finished (cipher_suite(), version(), channel_binding()); nullptr before.
  const tls::Session* session() const;

 private:
  struct Impl;
  explicit EscertkeInitiator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

// The Terminating End-Point: the TLS server.
class EscertkeTerminator {
 public:
  // config: role kServer; profile null (then "ts0003-tls12-cert") or that profile; own certificate and
  // key; peer_policy with the trust anchor for Initiators, their flavour and, when configured, the one
  // Initiator identifier to accept (8.7 B: "configured with the Initiator's certificate information").
  static Result<EscertkeTerminator> create(tls::Config config);
  static Result<EscertkeTerminator> create(std::shared_ptr<const tls::Context> context);

  EscertkeTerminator(EscertkeTerminator&&) noexcept;
  EscertkeTerminator& operator=(EscertkeTerminator&&) noexcept;
  ~EscertkeTerminator();

  // Takes message 1, returns message 2.
  Result<Bytes> message2(ByteView message1);
  // Takes message 3, authenticates the Initiator, returns message 4; result() then holds the key.
  Result<Bytes> message4(ByteView message3);
  // The key, once message4() succeeded (a copy each time).
  Result<PairwiseE2EKey> result() const;

  const tls::Session* session() const;

 private:
  struct Impl;
  explicit EscertkeTerminator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

// ---- NOTIFY carriage (TS-0004 V3.32.0 7.5.1.2.12) --------------------------------------------------

// {"m2m:seci":{"sit":6,"eckm":"<base64 of message>"}} (eckm is xs:base64Binary: RFC 4648 clause 4, padded).
// Refuses (kUsage) an empty message or one over kMaxMessageSize.
Result<std::string> build_escertke_seci(ByteView message);
// The ESCertKE message of such a content. Strict: exactly the members above, sit the integer 6, eckm
// canonical padded base64 of 1..kMaxMessageSize octets; anything else is a kUsage error (BAD_REQUEST).
Result<Bytes> parse_escertke_seci(std::string_view content);

struct EscertkeResponderOptions {
  // Exchanges waiting for their message 3, at most (one per From). A message 1 beyond that is refused
  // while none has expired; a new message 1 from the same From replaces that From's pending exchange.
  std::size_t max_pending = 64;
  // How long after message 1 its message 3 is accepted.
  std::chrono::seconds pending_lifetime{60};
  // ClientHello randoms already answered are remembered this long (at most max_remembered of them), and
  // a message 1 that repeats one is refused as a replay.
  std::chrono::seconds replay_window{600};
  std::size_t max_remembered = 4096;
  // Time source (default: the system clock).
  std::shared_ptr<const Clock> clock{};
  // Called when an exchange has succeeded, before message 4 is returned, with the From of the requests
  // and the key. An error refuses the exchange (no message 4, the key is dropped): this is where a
  // deployment checks that the certificate identity (key.peer.identity) may speak for that From.
  // Without it the key is bound to the certificate identity and From only correlates the messages.
  std::function<Result<void>(std::string_view from, const PairwiseE2EKey& key)> on_established{};
};

// The Terminator side of the NOTIFY exchanges: correlates message 3 with message 1 by the From of the
// request (TS-0001 V3.36.0 11.4.3) and keeps a bounded, expiring table of pending exchanges.
class EscertkeResponder {
 public:
  // terminator: as for EscertkeTerminator::create.
  static Result<std::unique_ptr<EscertkeResponder>> create(tls::Config terminator, EscertkeResponderOptions options = {});

  // The content of a NOTIFY request (the m2m:seci above) from `from`: returns the content of its response
  // (message 2 for a message 1, message 4 for a message 3). A message that is not a ClientHello is
  // message 3 of the From's pending exchange; without one it is refused (kProtocol). A failed message 3
  // ends the pending exchange.
  Result<std::string> handle(std::string_view from, std::string_view content);

  // Exchanges currently waiting for message 3 (expired ones included until the next call to handle()).
  std::size_t pending() const;

  ~EscertkeResponder();

 private:
  struct Impl;
  explicit EscertkeResponder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace m2msec::e2e

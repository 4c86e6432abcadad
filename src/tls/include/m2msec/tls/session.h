// Security associations over (D)TLS: a Context is built once from a Config (profile + credentials) and
// makes Sessions over connected sockets. Two backends sit behind this interface: OpenSSL 3 (PSK and
// certificates) and GnuTLS (raw public keys, which OpenSSL 3.0 cannot do); Context::create picks one.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "m2msec/core/bytes.h"
#include "m2msec/core/clock.h"
#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"
#include "m2msec/tls/credentials.h"
#include "m2msec/tls/profile.h"

namespace m2msec::tls {

enum class Role { kClient, kServer };

// Who the other end is, once the handshake succeeded.
struct AuthenticatedPeer {
  CredentialKind kind;
  // The credential's identifier: psk_identity; the matched subjectAltName value (or first one of the
  // flavour); the RFC 6920 ni URI of a raw public key.
  std::string identifier;
  // The oneM2M identity the association is bound to (8.2.1): CSE-ID / AE-ID / Credential-ID at a
  // server; the configured IdB (or the authority) at a client.
  std::string identity;
  // kind kCertificate with an empty identifier and identity: no client certificate was presented (a
  // server with PeerCertificatePolicy::client_certificate_optional only).
};

struct Config {
  Role role = Role::kClient;
  const SecurityProfile* profile = nullptr;
  // Client: the authority put in SNI (mandatory, 10.2.1); also the expected server identity when no
  // other is configured. Server: unused.
  std::string server_name;
  // Client: IdB, the identity the association binds to (8.2.2.x: "A binds to IdB"); defaults to
  // server_name.
  std::string peer_identity;

  // PSK profiles.
  std::shared_ptr<const PskResolver> psk_resolver;  // server
  std::optional<ClientPsk> psk;                     // client
  // Certificate profiles: own credential (mandatory at a server, and at a client: mutual TLS, 8.2.2.2
  // step 3) and what is required of the peer.
  std::optional<CertificateCredential> certificate;
  std::optional<PeerCertificatePolicy> peer_policy;
  // Server, certificate profiles: the OCSP response stapled for a client that asks (RFC 6066 clause 8).
  std::shared_ptr<const OcspStapleSource> ocsp_staple;
  // Raw-public-key profiles.
  std::optional<RawPublicKeyCredential> raw_public_key;

  // Time source for certificate validity (injected for tests).
  std::shared_ptr<const Clock> clock;
  // DTLS on a blocking socket: how long handshake() retransmits before it gives up. (DTLS drops a record
  // that does not authenticate without an alert, RFC 6347 4.1.2.7, so a wrong key ends in silence.)
  std::chrono::milliseconds dtls_handshake_timeout{30000};
};

enum class Progress { kDone, kWantRead, kWantWrite };

class Session {
 public:
  virtual ~Session() = default;

  // Runs the handshake. On a blocking socket it returns kDone or an error; on a non-blocking one it may
  // return kWantRead/kWantWrite (call again when the socket is ready). A failure carries the alert this
  // end sent or received (Error::tls_alert()) and Category::kAuth for authentication failures.
  virtual Result<Progress> handshake() = 0;

  // After a successful handshake only.
  virtual const AuthenticatedPeer& peer() const = 0;
  virtual std::string cipher_suite() const = 0;  // IANA name
  virtual Version version() const = 0;
  // RFC 5705 / RFC 8446 7.5 keying material, no context value (TS-0003 10.3.1).
  virtual Result<SecretBytes> export_keying_material(std::string_view label, std::size_t length) const = 0;
  // The channel binding of this association, equal at both ends: on TLS 1.2 and DTLS 1.2 "tls-unique"
  // (RFC 5929 3.1: the verify_data of the client's Finished, since every handshake here is a full one, 12
  // octets); on TLS 1.3 "tls-exporter" (RFC 9266 2: 32 octets exported with the label
  // "EXPORTER-Channel-Binding" and an empty context). It links a message to this association, as EST does
  // (RFC 7030 3.5: the CSR's challengePassword is the base64 of this value).
  virtual Result<Bytes> channel_binding() const = 0;

  // Application data. read() returns 0 octets when the peer closed the association.
  virtual Result<std::size_t> write(ByteView data) = 0;
  virtual Result<std::size_t> read(std::span<std::uint8_t> out) = 0;
  // Sends close_notify.
  virtual void close() = 0;
};

class Context {
 public:
  virtual ~Context() = default;
  // Checks the config against its profile (missing or superfluous credentials are kUsage errors) and
  // builds the backend's context. Fails closed: anything the backend cannot honour is an error.
  static Result<std::shared_ptr<Context>> create(Config config);

  virtual const Config& config() const = 0;
  // A session over a connected socket (TCP for TLS, UDP for DTLS). The session does not own fd. A write
  // to a peer that has closed raises SIGPIPE unless the process ignores it (the CLI does).
  virtual Result<std::unique_ptr<Session>> session(int fd) const = 0;
  // DTLS server: reads datagrams from the bound, unconnected UDP socket fd until a ClientHello carries a
  // valid stateless cookie (the others get a HelloVerifyRequest and leave no state, RFC 6347 4.2.1),
  // connects fd to that peer and returns the session that continues its handshake. Disconnect fd
  // (net::disconnect) after the session ends to accept the next peer. On a non-blocking fd it reads only
  // the datagrams already waiting and returns nullptr when none of them completed the cookie exchange
  // (make fd blocking before the session's handshake).
  virtual Result<std::unique_ptr<Session>> accept_datagram(int fd) const = 0;
};

}  // namespace m2msec::tls

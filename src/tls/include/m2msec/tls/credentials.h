// Credentials of a security association, behind one resolver interface so that a store, a MEF or a MAF
// can answer later (TS-0003 V3.18.0 clauses 8.2.2.1, 8.2.2.2, 8.2.2.3, 8.3.2.1, 8.8.2.2).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"
#include "m2msec/pki/certificate.h"
#include "m2msec/pki/identity.h"
#include "m2msec/pki/validate.h"

namespace m2msec::tls {

// What a psk_identity names (1.11 of our digest): the table of handshakes decides the syntax.
enum class PskIdentityKind {
  kKpsaId,         // PSK-based SAEF: KpsaID -> Kpsa (8.2.2.1), Credential-ID type 12
  kKeyIdentifier,  // MAF-based SAEF: RelativeKeyID@MAF-FQDN -> Kc (8.2.2.3), Credential-ID type 12
  kKpmId,          // MEF handshake / PPSK RSPF: KpmID -> Kpm (8.3.2.1, 8.3.5.2.2), type 10
  kKmId,           // MAF handshake: KmID -> Km (8.8.2.2), type 11
};
std::string_view psk_identity_kind_name(PskIdentityKind kind);  // "kpsa", "maf", "kpm", "km"
std::optional<PskIdentityKind> psk_identity_kind_named(std::string_view name);

// The canonical form of a psk_identity of that kind (the map key of resolvers), or kAuth when it is not
// of that syntax. KmID's relative part is not case-sensitive (10.6): its canonical form is lower case.
Result<std::string> canonical_psk_identity(PskIdentityKind kind, std::string_view text);

// What a resolver returns for a known identity.
struct PskCredential {
  SecretBytes key;
  // The oneM2M identity the association binds to: the CSE-ID/AE-ID configured or supplied for this
  // credential (8.2.1), or else the Credential-ID built from the identity (8.2.2.1 step 4).
  std::string bound_identity;
};

// Server side: psk_identity -> key. Implementations must take the same time for a known and an unknown
// identity; the engine hides the difference on the wire (an unknown identity fails exactly like a wrong
// key). Called from handshakes on any thread.
class PskResolver {
 public:
  virtual ~PskResolver() = default;
  virtual std::optional<PskCredential> resolve(std::string_view psk_identity) const = 0;
};

// A resolver holding keys in memory (tests, the CLI, and MAF-based SAEF until the MAF client lands).
class InMemoryPskResolver final : public PskResolver {
 public:
  explicit InMemoryPskResolver(PskIdentityKind kind) : m_kind(kind) {}
  // bound_identity empty: the Credential-ID of the identity is bound (8.2.2.1 step 4 / 8.2.2.3 step 5).
  Result<void> add(std::string_view psk_identity, SecretBytes key, std::string bound_identity = {});
  std::optional<PskCredential> resolve(std::string_view psk_identity) const override;

 private:
  PskIdentityKind m_kind;
  mutable std::mutex m_mutex;
  std::map<std::string, PskCredential, std::less<>> m_entries;
};

// Client side: the one identity and key it presents.
struct ClientPsk {
  std::string identity;
  SecretBytes key;
};

// An own certificate chain (leaf first) and its private key (8.1.2.3).
struct CertificateCredential {
  std::vector<pki::Certificate> chain;
  pki::PrivateKey key;
  static Result<CertificateCredential> load(const std::string& chain_pem, const std::string& key_pem);
};

// What an endpoint requires of its peer's certificate (8.1.2.4): a trust anchor always; and, when the
// peer's identifier is configured, an exact subjectAltName match of the flavour (8.1.2.5 (a)).
struct PeerCertificatePolicy {
  pki::TrustStore trust;
  pki::Flavour flavour = pki::Flavour::kCseId;
  std::optional<std::string> expected_identifier{};

  // Client: the server certificate's status by OCSP stapling (8.1.2.2, RFC 6066 clause 8). kIfStapled
  // and kRequireStaple ask for it (status_request) and check a stapled response (pki::check_ocsp_response);
  // kRequireStaple also refuses a server that staples none. A refusal sends certificate_revoked (44) or
  // bad_certificate_status_response (113), see docs/conformance.md.
  enum class StatusCheck { kNone, kIfStapled, kRequireStaple };
  StatusCheck status = StatusCheck::kNone;
  // Server: ask for a client certificate, but accept a client that presents none (an EST server's
  // /cacerts, RFC 7030 4.1.1); a certificate that is presented is still checked as above.
  bool client_certificate_optional = false;
};

// Server: the DER OCSPResponse for the own certificate, stapled when a client asks (RFC 6066 clause 8);
// nothing is stapled while current() has none. Called from handshakes on any thread.
class OcspStapleSource {
 public:
  virtual ~OcspStapleSource() = default;
  virtual std::optional<Bytes> current() const = 0;
};

// A staple that never changes (tests, and a response fetched once by the caller).
class FixedOcspStaple final : public OcspStapleSource {
 public:
  explicit FixedOcspStaple(Bytes der) : m_der(std::move(der)) {}
  std::optional<Bytes> current() const override { return m_der; }

 private:
  Bytes m_der;
};

// Raw public keys (RFC 7250): the own key, and optionally the peer's RFC 6920 identifier (8.1.2.5 1).
struct RawPublicKeyCredential {
  pki::PrivateKey key;
  std::optional<pki::PublicKeyId> expected_peer;
};

}  // namespace m2msec::tls

// The oneM2M identity carried by a certificate (TS-0003 V3.18.0 clauses 8.1.2.1, 8.1.2.5, 8.2.2.2,
// 10.1.1.4-10.1.1.8) and RFC 6920 public key identifiers for raw public keys (10.1.2).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/keys/identifiers.h"
#include "m2msec/pki/certificate.h"

namespace m2msec::pki {

// Certificate flavours of 8.1.2.1 (raw public keys are PublicKeyId below).
enum class Flavour { kDevice, kNodeId, kCseId, kAeId, kFqdn };
std::string_view flavour_name(Flavour f);               // "device", "node-id", "cse-id", "ae-id", "fqdn"
std::optional<Flavour> flavour_named(std::string_view name);

// The identifiers a certificate carries for a flavour, in subjectAltName order:
//   cse-id, fqdn: dNSName entries (fqdn also accepts URI entries)
//   ae-id:        uniformResourceIdentifier entries, as the Absolute AE-ID (e.g. //sp.example.com/CSE1/Cae1):
//                 "onem2m://sp.example.com/CSE1/Cae1" (what m2msec issues, see ae_id_uri) and the
//                 scheme-less "//sp.example.com/CSE1/Cae1" both give "//sp.example.com/CSE1/Cae1"
//   node-id:      uniformResourceIdentifier entries
//   device:       otherName entries, rendered as "<type-id OID>:<hex of the DER value>"
std::vector<std::string> identifiers(const Certificate& cert, Flavour flavour);

// TS-0001 Absolute AE-ID: "//" M2M-SP-ID FQDN, then "/S<stem>" (an SP-relative AE-ID-Stem) or
// "/<CSE-ID>/C<stem>" (a CSE-relative one); CSE-ID and stems are RFC 3986 unreserved characters.
bool is_absolute_ae_id(std::string_view text);

// The subjectAltName URI of an AE-ID certificate (10.1.1.5): "onem2m:" followed by the Absolute AE-ID,
// e.g. "onem2m://m2m.example.com/CSE1/Cae1". RFC 5280 4.2.1.6 wants a scheme in a URI name, and only a
// "scheme://host" URI can satisfy a CA's URI name constraint on the M2M-SP-ID (docs/conformance.md).
std::string ae_id_uri(std::string_view absolute_ae_id);

// 8.1.2.5 (a): an exact match between the configured identifier and one subjectAltName value of the
// flavour's form (DNS names compare case-insensitively, RFC 4343). No wildcards.
bool matches(const Certificate& cert, Flavour flavour, std::string_view configured_identifier);

// 8.2.2.2 step 4: the identity an SAEF binds to: the CSE-ID / Absolute AE-ID itself for cse-id / ae-id
// certificates; otherwise the Credential-ID of the certificate identifier (type 34 node-id, 31 device,
// and for fqdn the FQDN itself). Fails with kAuth (bad_certificate) when the certificate carries no
// identifier of the flavour.
Result<std::string> bound_identity(const Certificate& cert, Flavour flavour);

// RFC 6920 public key identifier over the DER SubjectPublicKeyInfo, hash suites of TS-0003 10.1.2.
enum class NiSuite { kSha256, kSha256_128, kSha256_120 };
// "sha-256", "sha-256-128", "sha-256-120" (RFC 6920 hash name registry); nullopt for any other name.
std::optional<NiSuite> ni_suite_named(std::string_view name);

class PublicKeyId {
 public:
  static PublicKeyId of(ByteView spki_der, NiSuite suite = NiSuite::kSha256);
  // "ni:///sha-256;<base64url digest, unpadded>" (also sha-256-128, sha-256-120); strict.
  static Result<PublicKeyId> parse(std::string_view ni_uri);
  std::string to_string() const;
  NiSuite suite() const { return m_suite; }
  // 10.1.2: hash the received key with this identifier's suite and compare (constant time).
  bool matches(ByteView spki_der) const;
  bool operator==(const PublicKeyId&) const = default;

 private:
  PublicKeyId(NiSuite suite, Bytes digest) : m_suite(suite), m_digest(std::move(digest)) {}
  NiSuite m_suite;
  Bytes m_digest;
};

}  // namespace m2msec::pki

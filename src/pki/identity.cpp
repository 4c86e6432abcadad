#include "m2msec/pki/identity.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <array>
#include <cstdint>

#include "internal.h"
#include "m2msec/core/encoding.h"
#include "m2msec/core/secret.h"
#include "m2msec/crypto/hash.h"

namespace m2msec::pki {
namespace {

using internal::kBadCertificate;

struct FlavourRow {
  Flavour flavour;
  std::string_view name;
};
constexpr std::array<FlavourRow, 5> kFlavours{{
    {Flavour::kDevice, "device"},
    {Flavour::kNodeId, "node-id"},
    {Flavour::kCseId, "cse-id"},
    {Flavour::kAeId, "ae-id"},
    {Flavour::kFqdn, "fqdn"},
}};

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// An IA5String SAN value as text; nullopt when it is empty or holds a NUL or a non-ASCII octet (a
// malformed IA5String, and the classic "good.example\0.evil" trick): such an entry never identifies.
std::optional<std::string> ia5_text(const ASN1_IA5STRING* s) {
  if (s == nullptr || s->length <= 0) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(s->data), static_cast<std::size_t>(s->length));
  for (char c : out) {
    if (c == '\0' || static_cast<unsigned char>(c) > 0x7e) return std::nullopt;
  }
  return out;
}

// otherName as "<type-id OID, dotted decimal>:<upper-case hex of the DER value>" (identity.h). TS-0003
// 10.1.1.4.1 gives no exact ASN.1 for the hardware instance identifier, so the value is kept opaque.
std::optional<std::string> other_name_text(const OTHERNAME* other) {
  if (other == nullptr || other->type_id == nullptr || other->value == nullptr) return std::nullopt;
  char oid[128];
  const int n = OBJ_obj2txt(oid, sizeof oid, other->type_id, 1);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof oid) return std::nullopt;
  unsigned char* der = nullptr;
  const int len = i2d_ASN1_TYPE(other->value, &der);
  if (len <= 0) return std::nullopt;
  std::string out = std::string(oid) + ":" +
                    hex_encode(ByteView(der, static_cast<std::size_t>(len)), keys::kIdentifierHexCase);
  OPENSSL_free(der);
  return out;
}

// 10.1.1.5: the scheme of the AE-ID URIs m2msec issues (ae_id_uri). Scheme names are case-insensitive
// (RFC 3986 3.1).
constexpr std::string_view kAeIdScheme = "onem2m:";

// An AE-ID URI as the Absolute AE-ID: "onem2m://..." loses its scheme, the scheme-less form stays.
std::string absolute_ae_id(std::string uri) {
  const std::string_view text = uri;
  if (equal_ignoring_case(text.substr(0, kAeIdScheme.size()), kAeIdScheme) &&
      text.substr(kAeIdScheme.size(), 2) == "//") {
    return uri.substr(kAeIdScheme.size());
  }
  return uri;
}

bool is_unreserved(char c) {  // RFC 3986 2.3
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

bool is_segment(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_unreserved(c)) return false;
  }
  return true;
}

// Renders a certificate identifier as a Credential-ID value. keys::CredentialId accepts letters, digits,
// '.', '-', '_' and '@' only, while Node-IDs (URIs, e.g. "urn:oid:...") and device identifiers
// ("<OID>:<hex>") contain ':' and possibly more. TS-0003 V3.18.0 8.2.2.2 step 4 / 10.4 do not say how to
// write them, so (docs/conformance.md, "choices"): every octet other than a letter, a digit, '.', '-'
// or '@' -- including '_' itself -- is written as '_' followed by its two upper-case hex digits
// ("urn:oid:1.2" -> "urn_3Aoid_3A1.2"). The rendering is injective (reversible), so two different
// identifiers never bind to the same Credential-ID.
std::string credential_value(std::string_view identifier) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : identifier) {
    const auto u = static_cast<unsigned char>(c);
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                       c == '-' || c == '@';
    if (plain) {
      out.push_back(c);
    } else {
      out.push_back('_');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0x0f]);
    }
  }
  return out;
}

struct SuiteRow {
  NiSuite suite;
  std::string_view name;    // RFC 6920 Named Information Hash Algorithm Registry
  std::size_t length;       // octets of the (truncated) SHA-256 digest
};
// TS-0003 V3.18.0 10.1.2: sha-256-120, sha-256-128 and sha-256 only.
constexpr std::array<SuiteRow, 3> kSuites{{
    {NiSuite::kSha256, "sha-256", 32},
    {NiSuite::kSha256_128, "sha-256-128", 16},
    {NiSuite::kSha256_120, "sha-256-120", 15},
}};

const SuiteRow& suite_row(NiSuite suite) {
  for (const SuiteRow& row : kSuites) {
    if (row.suite == suite) return row;
  }
  M2MSEC_CHECK(false);
  return kSuites[0];
}

constexpr std::string_view kNiPrefix = "ni:///";

}  // namespace

std::string_view flavour_name(Flavour f) {
  for (const FlavourRow& row : kFlavours) {
    if (row.flavour == f) return row.name;
  }
  return "unknown";
}

std::optional<NiSuite> ni_suite_named(std::string_view name) {
  for (const SuiteRow& row : kSuites) {
    if (row.name == name) return row.suite;
  }
  return std::nullopt;
}

std::optional<Flavour> flavour_named(std::string_view name) {
  for (const FlavourRow& row : kFlavours) {
    if (row.name == name) return row.flavour;
  }
  return std::nullopt;
}

namespace internal {

std::optional<std::string> identifier_of(const GENERAL_NAME* name, Flavour flavour) {
  switch (name->type) {
    case GEN_DNS:
      if (flavour == Flavour::kCseId || flavour == Flavour::kFqdn) return ia5_text(name->d.dNSName);
      return std::nullopt;
    case GEN_URI: {
      if (flavour != Flavour::kAeId && flavour != Flavour::kNodeId && flavour != Flavour::kFqdn) return std::nullopt;
      auto uri = ia5_text(name->d.uniformResourceIdentifier);
      if (uri && flavour == Flavour::kAeId) return absolute_ae_id(std::move(*uri));
      return uri;
    }
    case GEN_OTHERNAME:
      if (flavour == Flavour::kDevice) return other_name_text(name->d.otherName);
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::vector<std::string> identifiers_in(const GENERAL_NAMES* names, Flavour flavour) {
  std::vector<std::string> out;
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    if (auto text = identifier_of(sk_GENERAL_NAME_value(names, i), flavour)) out.push_back(std::move(*text));
  }
  return out;
}

}  // namespace internal

std::vector<std::string> identifiers(const Certificate& cert, Flavour flavour) {
  int critical = 0;
  // A certificate with two subjectAltName extensions yields none (critical == -2): fail closed.
  internal::GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.native(), NID_subject_alt_name, &critical, nullptr)));
  return internal::identifiers_in(names.get(), flavour);
}

//= TS-0001 V3.36.0 §7.2
//# Absolute-AE-ID is the M2M-SP-ID ("//" and an FQDN) followed by the SP-relative AE-ID: "/" and an
//# AE-ID-Stem starting with 'S', or "/" CSE-ID "/" and an AE-ID-Stem starting with 'C'.
bool is_absolute_ae_id(std::string_view text) {
  if (text.substr(0, 2) != "//") return false;
  text.remove_prefix(2);
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || !keys::Fqdn::parse(text.substr(0, slash))) return false;
  const std::string_view relative = text.substr(slash + 1);
  const auto second = relative.find('/');
  if (second == std::string_view::npos) return is_segment(relative) && relative.front() == 'S';
  const std::string_view stem = relative.substr(second + 1);
  return is_segment(relative.substr(0, second)) && is_segment(stem) && stem.front() == 'C';
}

//= TS-0003 V3.18.0 §10.1.1.5
//# The subjectAltName of an AE-ID certificate holds the full URI representation of the AE-ID.
std::string ae_id_uri(std::string_view absolute_ae_id) {
  return std::string(kAeIdScheme) + std::string(absolute_ae_id);
}

// TS-0003 V3.18.0 8.1.2.5 (a): an exact match with one subjectAltName value; 10.1.1.5-10.1.1.8 forbid
// wildcards, so a '*' on either side never matches. DNS names, and the digits-and-hex rendering of device
// identifiers, compare case-insensitively (RFC 4343); URIs (AE-IDs, Node-IDs) compare exactly.
bool matches(const Certificate& cert, Flavour flavour, std::string_view configured_identifier) {
  if (configured_identifier.empty() || configured_identifier.find('*') != std::string_view::npos) return false;
  const bool dns_like = flavour == Flavour::kCseId || flavour == Flavour::kFqdn || flavour == Flavour::kDevice;
  for (const std::string& id : identifiers(cert, flavour)) {
    if (id.find('*') != std::string::npos) continue;
    if (dns_like ? equal_ignoring_case(id, configured_identifier) : id == configured_identifier) return true;
  }
  return false;
}

// TS-0003 V3.18.0 8.2.2.2 step 4. A certificate may carry several identifiers of its flavour; the first
// in subjectAltName order is bound (the configured identifier, when there is one, was matched already).
Result<std::string> bound_identity(const Certificate& cert, Flavour flavour) {
  const std::vector<std::string> ids = identifiers(cert, flavour);
  if (ids.empty()) {
    return Error(Category::kAuth, "certificate carries no " + std::string(flavour_name(flavour)) + " identifier")
        .with_tls_alert(kBadCertificate);
  }
  const std::string& id = ids.front();
  switch (flavour) {
    case Flavour::kCseId:  // the CSE-ID's public domain name
    case Flavour::kAeId:   // the Absolute AE-ID
    case Flavour::kFqdn:   // the FQDN itself
      return id;
    case Flavour::kNodeId:
    case Flavour::kDevice: {
      const auto type = flavour == Flavour::kNodeId ? keys::CredIdType::kTlsNodeIdCertificate
                                                    : keys::CredIdType::kTlsDeviceCertificate;
      auto cred = keys::CredentialId::make(type, credential_value(id));
      if (!cred) {
        return Error(Category::kAuth, "certificate identifier unusable as a Credential-ID: " + cred.error().detail())
            .with_tls_alert(kBadCertificate);
      }
      return cred->to_string();
    }
  }
  return Error::internal("unknown certificate flavour");
}

PublicKeyId PublicKeyId::of(ByteView spki_der, NiSuite suite) {
  auto digest = crypto::Hash::sha256().digest(spki_der);
  M2MSEC_CHECK(digest.has_value());  // SHA-256 of the default provider cannot be missing
  Bytes d = std::move(digest).value();
  d.resize(suite_row(suite).length);  // RFC 6920 clause 2: truncated suites keep the leftmost octets
  return PublicKeyId(suite, std::move(d));
}

// Strict: exactly "ni:///<suite>;<digest>" in lower case, no authority, no query parameters, the digest
// in canonical unpadded base64url of exactly the suite's length.
Result<PublicKeyId> PublicKeyId::parse(std::string_view ni_uri) {
  if (ni_uri.substr(0, kNiPrefix.size()) != kNiPrefix) return Error::usage("ni URI: must start with \"ni:///\"");
  const std::string_view rest = ni_uri.substr(kNiPrefix.size());
  const auto semi = rest.find(';');
  if (semi == std::string_view::npos) return Error::usage("ni URI: missing ';'");
  const std::string_view name = rest.substr(0, semi);
  const std::string_view value = rest.substr(semi + 1);
  for (const SuiteRow& row : kSuites) {
    if (row.name != name) continue;
    auto digest = base64url_decode(value);
    if (!digest) return Error::usage("ni URI: digest is not canonical unpadded base64url");
    if (digest->size() != row.length) return Error::usage("ni URI: wrong digest length for " + std::string(name));
    return PublicKeyId(row.suite, std::move(digest).value());
  }
  return Error::usage("ni URI: hash suite not allowed by TS-0003 10.1.2");
}

std::string PublicKeyId::to_string() const {
  return std::string(kNiPrefix) + std::string(suite_row(m_suite).name) + ";" + base64url_encode(m_digest);
}

// TS-0003 V3.18.0 10.1.2: hash the received key with this identifier's suite and compare the digests.
bool PublicKeyId::matches(ByteView spki_der) const {
  const PublicKeyId received = of(spki_der, m_suite);
  return ct::equal(received.m_digest, m_digest);
}

}  // namespace m2msec::pki

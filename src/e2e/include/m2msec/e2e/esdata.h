// ESData, End-to-End Security of Data (TS-0003 V3.18.0 clause 8.5; TS-0004 V3.32.0 6.3.3, 6.3.4.2.38): a
// Source End-Point protects a payload (an attribute value such as the `con` of a <contentInstance>, or a
// primitive parameter such as a token) into an ESData Envelope that transit CSEs carry but cannot read or
// change; one or more Target End-Points open it.
//
// The three security classes (8.5.2.1) map onto JOSE (8.5.3):
//   encryption-only       a JWE (AES-GCM content encryption: confidentiality and integrity);
//   signature-only        a JWS (HMAC, RSA PKCS#1 v1.5 or ECDSA signatures);
//   nested sign-then-encrypt
//                         a JWS whose signatures are RS* or ES* only (8.5.2.4: certificate signatures, no
//                         HMAC), carried as the plaintext of a JWE. The JWE's protected header names the inner
//                         object with "cty": "JOSE" when the inner JWS is in the compact serialization and
//                         "JOSE+JSON" when it is in a JSON serialization (RFC 7515 clause 4.1.10, RFC 7516
//                         clause 4.1.12). The target refuses a nested envelope without one of these.
// The serialization follows m2m:contentSecurity: 1 compact, 2 JSON, 3 JSON then base64 (RFC 4648 clause 4,
// padded, no line breaks). The JSON form is the flattened one for one recipient / one signer and the
// general one for several; the target reads either. 4 and 5 (XML-ENC / XML-SIG) are not implemented:
// protect and unprotect refuse them with a kUnsupported error.
//
// Key management (8.5.2.2): "dir" (the one symmetric key is the CEK) only with exactly one recipient whose
// key is symmetric; in every other case a random CEK is wrapped for each recipient (A*KW, RSA-OAEP-256,
// ECDH-ES+A*KW). Several recipients and several signers are supported in the JSON serializations.
//
// Key identification ("kid"): V3.18.0 defines no "kid" format for ESData. m2msec recommends a Credential-ID
// (10.4) "<credIDTypeID>-<value>" (CredentialKid below) and enforces what its type says: 14 "dir" only, 15
// AES key wrap only, 16 HMAC only, 41-45 RSA-OAEP-256 / ECDH-ES+A*KW only, 51-55 RSA / ECDSA signatures
// only. So a signature-only credential never decrypts and an encryption credential never verifies
// (8.5.2.2.4.1 "Signature-only keys must not be used for encryption"). A key whose "kid" is not a
// Credential-ID is restricted only by its JWK "alg", "use" and "key_ops" members.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/jose/algorithms.h"
#include "m2msec/jose/jwk.h"

namespace m2msec::e2e {

// ---- Security classes and m2m:contentSecurity --------------------------------------------------------

// TS-0003 Table 8.5.2.1-1.
enum class SecurityClass : std::uint8_t { kEncryptionOnly, kSignatureOnly, kNestedSignThenEncrypt };
// "encryption-only", "signature-only", "nested-sign-then-encrypt".
std::string_view security_class_name(SecurityClass c);

// m2m:contentSecurity (TS-0004 Table 6.3.4.2.38-1).
enum class ContentSecurity : std::uint8_t {
  kNone = 0,             // ESData has not been applied
  kJoseCompact = 1,      // JWE and/or JWS, compact serialization
  kJoseJson = 2,         // JWE and/or JWS, JSON serialization
  kJoseJsonBase64 = 3,   // JSON serialization, then base64
  kXml = 4,              // XML-ENC and/or XML-SIG (not implemented)
  kXmlBase64 = 5,        // XML-ENC and/or XML-SIG, then base64 (not implemented)
};
// 0..5; anything else is a kUsage error.
Result<ContentSecurity> content_security_from_int(std::int64_t value);
// The media type of the envelope (TS-0004 Table 6.3.4.2.38-1 notes 3-5): "application/jose",
// "application/jose+json", "application/xenc+xml"; empty for kNone.
std::string_view envelope_media_type(ContentSecurity form);

// m2m:encodingType (TS-0004 Table 6.3.4.2.28-1): the transfer encoding of the payload itself.
enum class EncodingType : std::uint8_t { kPlain = 0, kBase64String = 1, kBase64Binary = 2 };

// m2m:contentInfo = <media-type> ":" <encodingType> [ ":" <contentSecurity> ] (TS-0004 6.3.3); an absent
// contentSecurity means 0. <media-type> is "type/subtype" of the payload (the plaintext, not the envelope)
// in RFC 6838 restricted-name characters, without parameters. Parsing is strict: one decimal digit per
// number, values in range, nothing else. Formatting omits ":0" for kNone.
struct ContentInfo {
  std::string media_type;
  EncodingType encoding = EncodingType::kPlain;
  ContentSecurity security = ContentSecurity::kNone;
};
Result<ContentInfo> parse_content_info(std::string_view text);
std::string format_content_info(const ContentInfo& info);

// ---- Credential-ID key identifiers (TS-0003 10.4, Table 12.3.2.1-1) ---------------------------------

// What an ESData credential of a given sec:credIDTypeID may do.
enum class CredentialUse : std::uint8_t {
  kDirectEncryption,  // 14: symmetric key used as the CEK ("dir")
  kKeyWrap,           // 15: symmetric key-encryption key (A128KW, A192KW, A256KW)
  kMac,               // 16: symmetric key for HMAC (signature-only class)
  kKeyManagement,     // 41-45: raw key / device / CSE-ID / AE-ID / Node-ID certificate for RSA-OAEP or ECDH-ES
  kSignature,         // 51-55: the same five kinds, for RSA or ECDSA signatures
};

// "<credIDTypeID>-<value>" for the ESData types 14, 15, 16, 41-45, 51-55. The value uses letters, digits,
// '.', '_', '-' and '@' (10.4); for the raw-public-key types 41 and 51 it may also be an RFC 6920 public key
// identifier "ni:///<suite>;<digest>" (10.1.2: suites sha-256, sha-256-128, sha-256-120 over the DER
// SubjectPublicKeyInfo), e.g. "51-ni:///sha-256;UyaQV-Ev4rdLoHyJJWCi11OHfrYv9E1aGQAlMO2X_-Q".
class CredentialKid {
 public:
  static Result<CredentialKid> make(unsigned type, std::string_view value);
  static Result<CredentialKid> parse(std::string_view kid);
  // 41 (encryption) or 51 (signature) with the ni identifier (suite sha-256) of an EC or RSA key.
  static Result<CredentialKid> for_raw_public_key(const jose::Jwk& key, bool signature);

  unsigned type() const { return m_type; }
  const std::string& value() const { return m_value; }
  CredentialUse use() const;
  bool is_ni() const;
  std::string to_string() const { return std::to_string(m_type) + "-" + m_value; }
  // The JOSE algorithms a credential of this type may be used with ("dir"; A*KW; HS*; RSA-OAEP-256 and
  // ECDH-ES+A*KW; RS* and ES*).
  bool permits(std::string_view alg) const;
  // For an ni value: whether the key's public part hashes to it (constant-time compare); false otherwise.
  bool matches(const jose::Jwk& key) const;

  bool operator==(const CredentialKid&) const = default;

 private:
  CredentialKid(unsigned type, std::string value) : m_type(type), m_value(std::move(value)) {}
  unsigned m_type;
  std::string m_value;
};

// ---- Protection at the Source End-Point --------------------------------------------------------------

// One credential the payload is encrypted to. `alg` defaults to the key's "alg" member, else to what its
// Credential-ID kid type or key type implies: oct → A128KW/A192KW/A256KW by size (type 14 → "dir"), RSA →
// RSA-OAEP-256, EC → ECDH-ES+A256KW.
struct EsdataRecipient {
  const jose::Jwk* key = nullptr;
  std::string alg{};
};

// One credential the payload is signed with. `alg` defaults to the key's "alg" member, else oct → HS256,
// RSA → RS256, EC → ES256/ES384/ES512 by curve.
struct EsdataSigner {
  const jose::Jwk* key = nullptr;
  std::string alg{};
};

struct ProtectOptions {
  SecurityClass security_class = SecurityClass::kEncryptionOnly;
  ContentSecurity form = ContentSecurity::kJoseCompact;
  std::vector<EsdataRecipient> recipients{};  // encryption-only and nested
  std::vector<EsdataSigner> signers{};        // signature-only and nested (inner)
  // A128GCM, A192GCM or A256GCM; empty: the size of the "dir" key, else A256GCM.
  std::string enc{};
  // Associated authenticated data (JWE "aad"), JSON serializations of the encrypting classes only.
  Bytes aad{};
};

// The envelope as text: the compact serialization, the JSON text, or its base64.
Result<std::string> protect(ByteView payload, const ProtectOptions& options);

// ---- Verification and decryption at the Target End-Point ----------------------------------------------

struct UnprotectOptions {
  ContentSecurity form = ContentSecurity::kJoseCompact;
  // Keys that may decrypt (the target's own private keys, shared symmetric keys).
  std::span<const jose::Jwk> decryption_keys{};
  // Trusted keys that may verify signatures (source public keys, shared HMAC keys).
  std::span<const jose::Jwk> verification_keys{};
  // Algorithms the target accepts (all of TS-0003 8.5.3 when empty).
  jose::AlgorithmPolicy policy{};
  // When set, an envelope of another class is refused (a target that expects signed data does not accept
  // an envelope that is only encrypted).
  std::optional<SecurityClass> expected_class{};
  // Signature-only and nested: every signature must verify (default: at least one, 8.5.2.3 "pick the
  // elements it can verify").
  bool require_all_signatures = false;
};

struct UnprotectedData {
  Bytes payload;
  SecurityClass security_class = SecurityClass::kEncryptionOnly;
  // The "kid" of the key that decrypted (encrypting classes; empty when the key has none).
  std::optional<std::string> decrypted_by{};
  // The "kid" of each key whose signature verified (signing classes), in signature order (8.5.2.3: the
  // target records which credentials verified the payload).
  std::vector<std::string> verified_by{};
  // The verified JWE AAD (JSON serializations; empty when none).
  Bytes aad{};
};

Result<UnprotectedData> unprotect(std::string_view envelope, const UnprotectOptions& options);

// ---- <contentInstance> content that the hosting CSE stores but cannot read ----------------------------

// The `con` and `cnf` attribute values of a protected <contentInstance>: `con` is the envelope, `cnf` the
// m2m:contentInfo naming the payload's media type and encoding and the contentSecurity of `options.form`.
struct ProtectedContent {
  std::string con;
  std::string cnf;
};
Result<ProtectedContent> protect_content(ByteView payload, std::string_view media_type, EncodingType encoding,
                                         const ProtectOptions& options);

// Reads `cnf` for the form (refused when its contentSecurity is 0), then unprotects `con`; the ContentInfo
// parsed from `cnf` is returned beside the data. `options.form` is ignored.
struct UnprotectedContent {
  UnprotectedData data;
  ContentInfo info;
};
Result<UnprotectedContent> unprotect_content(std::string_view con, std::string_view cnf, UnprotectOptions options);

}  // namespace m2msec::e2e

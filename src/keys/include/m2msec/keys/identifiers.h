// Identifier formats of TS-0003 V3.18.0: KeID (10.3.4), Key Identifier (10.3.5), KpsaID (10.5),
// KmID (10.6), Credential-ID (10.4, 12.2, Table 12.3.2.1-1). Every parse is strict: it refuses bad
// characters, a missing or repeated '@', empty parts and wrong lengths with a kUsage error
// (RSC BAD_REQUEST), and every accepted text formats back to a canonical form.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "m2msec/core/encoding.h"
#include "m2msec/core/result.h"
#include "m2msec/keys/key.h"

namespace m2msec::keys {

// Hex case of hexBinary() in identifiers. TS-0003 does not say; we emit the canonical lexical form of
// XML Schema xs:hexBinary (upper case) and accept either case on input. One constant, one place.
inline constexpr HexCase kIdentifierHexCase = HexCase::kUpper;

// A DNS name (RFC 1035 preferred syntax, RFC 1123 letters-digits-hyphen labels): 1-63 octets per
// label, at most 253 octets in all, no empty label, no trailing dot. Stored in lower case, since DNS
// names compare case-insensitively (RFC 4343).
class Fqdn {
 public:
  static Result<Fqdn> parse(std::string_view text);
  const std::string& text() const { return m_text; }
  bool operator==(const Fqdn&) const = default;

 private:
  explicit Fqdn(std::string text) : m_text(std::move(text)) {}
  std::string m_text;
};

// KeID = hexBinary(RelativeKeID) "@" MEF-FQDN (10.3.4).
class KeId {
 public:
  KeId(const RelativeKeId& relative, Fqdn mef) : m_relative(relative), m_mef(std::move(mef)) {}
  static Result<KeId> parse(std::string_view text);
  std::string to_string() const;
  const RelativeKeId& relative() const { return m_relative; }
  const Fqdn& mef() const { return m_mef; }
  bool operator==(const KeId&) const = default;

 private:
  RelativeKeId m_relative;
  Fqdn m_mef;
};

// Key Identifier = RelativeKeyID "@" MAF-FQDN (10.3.5), sent as psk_identity in the MAF-based SAEF.
// RelativeKeyID is hexBinary(KcID) when the key was exported, or any sec:relKeyID text (letters,
// digits, '.', '_', '-') when the MAF assigned it (8.8.2.7); the two are one syntax.
class KeyIdentifier {
 public:
  static KeyIdentifier from_kc_id(const KcId& kc_id, Fqdn maf);
  static Result<KeyIdentifier> make(std::string_view relative_key_id, Fqdn maf);
  static Result<KeyIdentifier> parse(std::string_view text);
  std::string to_string() const { return m_relative + "@" + m_maf.text(); }
  const std::string& relative_key_id() const { return m_relative; }
  const Fqdn& maf() const { return m_maf; }
  bool operator==(const KeyIdentifier&) const = default;

 private:
  KeyIdentifier(std::string relative, Fqdn maf) : m_relative(std::move(relative)), m_maf(std::move(maf)) {}
  std::string m_relative;
  Fqdn m_maf;
};

// KmID = MAF_RELATIVE_KmID "@" MAF-FQDN (10.6). The relative part is not case-sensitive, so equality
// ignores its case; to_string() keeps the case it was given.
class KmId {
 public:
  static Result<KmId> make(std::string_view relative, Fqdn maf);
  static Result<KmId> parse(std::string_view text);
  std::string to_string() const { return m_relative + "@" + m_maf.text(); }
  const std::string& relative() const { return m_relative; }
  const Fqdn& maf() const { return m_maf; }
  bool operator==(const KmId& other) const;

 private:
  KmId(std::string relative, Fqdn maf) : m_relative(std::move(relative)), m_maf(std::move(maf)) {}
  std::string m_relative;
  Fqdn m_maf;
};

// KpsaID = Issuer_Relative_KpsaID "@" Issuer-FQDN (10.5). Case-sensitive (the text says nothing else).
class KpsaId {
 public:
  static Result<KpsaId> make(std::string_view relative, Fqdn issuer);
  static Result<KpsaId> parse(std::string_view text);
  std::string to_string() const { return m_relative + "@" + m_issuer.text(); }
  const std::string& relative() const { return m_relative; }
  const Fqdn& issuer() const { return m_issuer; }
  bool operator==(const KpsaId&) const = default;

 private:
  KpsaId(std::string relative, Fqdn issuer) : m_relative(std::move(relative)), m_issuer(std::move(issuer)) {}
  std::string m_relative;
  Fqdn m_issuer;
};

// sec:credIDTypeID (Table 12.3.2.1-1).
enum class CredIdType : std::uint8_t {
  kMefSymmetricKey = 10,        // KpmID
  kMafSymmetricKey = 11,        // KmID
  kSaefSymmetricKey = 12,       // KpsaID or KcID
  kEsprimSymmetricKey = 13,     // pairwiseESPrimKeyID
  kEsdataEncryptionKey = 14,    // direct encryption
  kEsdataKeyWrapKey = 15,       // key wrap
  kEsdataHmacKey = 16,          // Signature-only class
  kTlsRawPublicKey = 30,
  kTlsDeviceCertificate = 31,
  kTlsCseIdCertificate = 32,
  kTlsAeIdCertificate = 33,
  kTlsNodeIdCertificate = 34,
  kEsdataKmRawPublicKey = 41,
  kEsdataKmDeviceCertificate = 42,
  kEsdataKmCseIdCertificate = 43,
  kEsdataKmAeIdCertificate = 44,
  kEsdataKmNodeIdCertificate = 45,
  kEsdataSigRawPublicKey = 51,
  kEsdataSigDeviceCertificate = 52,
  kEsdataSigCseIdCertificate = 53,
  kEsdataSigAeIdCertificate = 54,
  kEsdataSigNodeIdCertificate = 55,
};
std::optional<CredIdType> cred_id_type_from_int(unsigned value);

// Credential-ID = <type-ID> "-" <value> (10.4), e.g. "10-thiskey@mymef.com". The value uses letters,
// digits, '.', '_', '-' and '@'.
class CredentialId {
 public:
  static Result<CredentialId> make(CredIdType type, std::string_view value);
  static Result<CredentialId> parse(std::string_view text);
  std::string to_string() const;
  CredIdType type() const { return m_type; }
  const std::string& value() const { return m_value; }
  bool operator==(const CredentialId&) const = default;

 private:
  CredentialId(CredIdType type, std::string value) : m_type(type), m_value(std::move(value)) {}
  CredIdType m_type;
  std::string m_value;
};

}  // namespace m2msec::keys

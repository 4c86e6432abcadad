#include "m2msec/keys/identifiers.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "m2msec/core/encoding.h"

namespace m2msec::keys {
namespace {

// Longest relative part we accept. TS-0003 sets no bound; this one keeps every identifier well inside
// a TLS psk_identity (<= 2^16-1 octets) and bounds the work an attacker can cause.
constexpr std::size_t kMaxRelativeLength = 255;

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// Letters, digits, '.', '_', '-': the alphabet of sec:relKeyID (12.2), KmID and KpsaID relative parts
// (10.5, 10.6).
bool is_relative_char(char c) { return is_alnum(c) || c == '.' || c == '_' || c == '-'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

Result<std::string> check_relative(std::string_view what, std::string_view text) {
  if (text.empty()) return Error::usage(std::string(what) + ": empty relative part");
  if (text.size() > kMaxRelativeLength) return Error::usage(std::string(what) + ": relative part too long");
  for (char c : text) {
    if (!is_relative_char(c)) return Error::usage(std::string(what) + ": invalid character in relative part");
  }
  return std::string(text);
}

struct Scoped {
  std::string_view relative;
  Fqdn fqdn;
};

// Splits "<relative>@<fqdn>" at its only '@' and checks the FQDN.
Result<Scoped> split_scoped(std::string_view what, std::string_view text) {
  const auto at = text.find('@');
  if (at == std::string_view::npos) return Error::usage(std::string(what) + ": missing '@'");
  if (text.find('@', at + 1) != std::string_view::npos) return Error::usage(std::string(what) + ": more than one '@'");
  auto fqdn = Fqdn::parse(text.substr(at + 1));
  if (!fqdn) return Error::usage(std::string(what) + ": " + fqdn.error().detail());
  return Scoped{text.substr(0, at), std::move(fqdn).value()};
}

}  // namespace

Result<Fqdn> Fqdn::parse(std::string_view text) {
  if (text.empty()) return Error::usage("FQDN is empty");
  if (text.size() > 253) return Error::usage("FQDN longer than 253 octets");
  std::string out;
  out.reserve(text.size());
  std::size_t label_start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '.') {
      const std::string_view label = text.substr(label_start, i - label_start);
      if (label.empty()) return Error::usage("FQDN has an empty label");
      if (label.size() > 63) return Error::usage("FQDN label longer than 63 octets");
      if (label.front() == '-' || label.back() == '-') return Error::usage("FQDN label starts or ends with '-'");
      label_start = i + 1;
      if (i < text.size()) out.push_back('.');
      continue;
    }
    const char c = text[i];
    if (!is_alnum(c) && c != '-') return Error::usage("FQDN has an invalid character");
    out.push_back(lower(c));
  }
  return Fqdn(std::move(out));
}

//= TS-0003 V3.18.0 §10.3.4
//# KeID is hexBinary(RelativeKeID), the character '@', then the MEF's FQDN.
Result<KeId> KeId::parse(std::string_view text) {
  M2MSEC_ASSIGN_OR_RETURN(Scoped s, split_scoped("KeID", text));
  if (s.relative.size() != 2 * RelativeKeId::kSize) return Error::usage("KeID: RelativeKeID must be 32 hex digits");
  auto raw = hex_decode(s.relative);
  if (!raw) return Error::usage("KeID: RelativeKeID is not hex");
  M2MSEC_ASSIGN_OR_RETURN(RelativeKeId rel, RelativeKeId::from(*raw));
  return KeId(rel, std::move(s.fqdn));
}

std::string KeId::to_string() const { return hex_encode(m_relative.view(), kIdentifierHexCase) + "@" + m_mef.text(); }

//= TS-0003 V3.18.0 §10.3.5
//# Key Identifier is RelativeKeyID '@' MAF-FQDN, with RelativeKeyID = hexBinary(KcID).
KeyIdentifier KeyIdentifier::from_kc_id(const KcId& kc_id, Fqdn maf) {
  return KeyIdentifier(hex_encode(kc_id.view(), kIdentifierHexCase), std::move(maf));
}

Result<KeyIdentifier> KeyIdentifier::make(std::string_view relative_key_id, Fqdn maf) {
  M2MSEC_ASSIGN_OR_RETURN(std::string rel, check_relative("Key Identifier", relative_key_id));
  return KeyIdentifier(std::move(rel), std::move(maf));
}

Result<KeyIdentifier> KeyIdentifier::parse(std::string_view text) {
  M2MSEC_ASSIGN_OR_RETURN(Scoped s, split_scoped("Key Identifier", text));
  return make(s.relative, std::move(s.fqdn));
}

//= TS-0003 V3.18.0 §10.6
//# KmID is MAF_RELATIVE_KmID '@' MAF-FQDN; the relative part is not case-sensitive.
Result<KmId> KmId::make(std::string_view relative, Fqdn maf) {
  M2MSEC_ASSIGN_OR_RETURN(std::string rel, check_relative("KmID", relative));
  return KmId(std::move(rel), std::move(maf));
}

Result<KmId> KmId::parse(std::string_view text) {
  M2MSEC_ASSIGN_OR_RETURN(Scoped s, split_scoped("KmID", text));
  return make(s.relative, std::move(s.fqdn));
}

bool KmId::operator==(const KmId& other) const {
  return m_maf == other.m_maf &&
         std::equal(m_relative.begin(), m_relative.end(), other.m_relative.begin(), other.m_relative.end(),
                    [](char a, char b) { return lower(a) == lower(b); });
}

//= TS-0003 V3.18.0 §10.5
//# KpsaID is Issuer_Relative_KpsaID '@' Issuer-FQDN.
Result<KpsaId> KpsaId::make(std::string_view relative, Fqdn issuer) {
  M2MSEC_ASSIGN_OR_RETURN(std::string rel, check_relative("KpsaID", relative));
  return KpsaId(std::move(rel), std::move(issuer));
}

Result<KpsaId> KpsaId::parse(std::string_view text) {
  M2MSEC_ASSIGN_OR_RETURN(Scoped s, split_scoped("KpsaID", text));
  return make(s.relative, std::move(s.fqdn));
}

std::optional<CredIdType> cred_id_type_from_int(unsigned value) {
  static constexpr std::array<unsigned, 22> kDefined{10, 11, 12, 13, 14, 15, 16, 30, 31, 32, 33,
                                                     34, 41, 42, 43, 44, 45, 51, 52, 53, 54, 55};
  if (std::find(kDefined.begin(), kDefined.end(), value) == kDefined.end()) return std::nullopt;
  return static_cast<CredIdType>(value);
}

//= TS-0003 V3.18.0 §10.4
//# Credential-ID is the credential type ID, '-', then a value of letters, digits, '.', '_', '-', '@'.
Result<CredentialId> CredentialId::make(CredIdType type, std::string_view value) {
  if (value.empty()) return Error::usage("Credential-ID: empty value");
  if (value.size() > kMaxRelativeLength + 254) return Error::usage("Credential-ID: value too long");
  for (char c : value) {
    if (!is_relative_char(c) && c != '@') return Error::usage("Credential-ID: invalid character in value");
  }
  return CredentialId(type, std::string(value));
}

Result<CredentialId> CredentialId::parse(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return Error::usage("Credential-ID: missing '-'");
  const std::string_view type_text = text.substr(0, dash);
  // A canonical positive decimal: digits only, no sign, no leading zero.
  if (type_text.empty() || type_text.size() > 3 || type_text.front() == '0' ||
      !std::all_of(type_text.begin(), type_text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Error::usage("Credential-ID: type-ID is not a positive integer");
  }
  unsigned value = 0;
  std::from_chars(type_text.data(), type_text.data() + type_text.size(), value);
  const auto type = cred_id_type_from_int(value);
  if (!type) return Error::usage("Credential-ID: type-ID " + std::string(type_text) + " is not in sec:credIDTypeID");
  return make(*type, text.substr(dash + 1));
}

std::string CredentialId::to_string() const {
  return std::to_string(static_cast<unsigned>(m_type)) + "-" + m_value;
}

}  // namespace m2msec::keys

#include "m2msec/e2e/esdata.h"

#include <algorithm>
#include <cctype>

#include "m2msec/core/encoding.h"
#include "m2msec/core/secret.h"
#include "m2msec/jose/jwe.h"
#include "m2msec/jose/jws.h"
#include "m2msec/jose/serialization.h"
#include "m2msec/json/json.h"
#include "m2msec/keys/identifiers.h"
#include "m2msec/pki/identity.h"

namespace m2msec::e2e {
namespace {

Error malformed(std::string what) { return Error::usage("ESData: " + std::move(what)); }

// ---- m2m:contentInfo ---------------------------------------------------------------------------------

// RFC 6838 clause 4.2 restricted-name: 1-127 characters, the first a letter or digit.
bool is_restricted_name(std::string_view s) {
  if (s.empty() || s.size() > 127 || std::isalnum(static_cast<unsigned char>(s.front())) == 0) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::string_view("!#$&-^_.+").find(c) != std::string_view::npos;
  });
}

bool is_media_type(std::string_view s) {
  const auto slash = s.find('/');
  return slash != std::string_view::npos && is_restricted_name(s.substr(0, slash)) &&
         is_restricted_name(s.substr(slash + 1));
}

// The DER SubjectPublicKeyInfo of a JWK's public key: what an RFC 6920 identifier hashes (TS-0003 10.1.2).
Result<Bytes> spki_der(const jose::Jwk& key) {
  if (key.public_key() == nullptr) return malformed("a raw public key identifier needs an EC or RSA key");
  return key.public_key()->to_der();
}

// ---- algorithms ----------------------------------------------------------------------------------------

std::string_view gcm_for_size(std::size_t octets) {
  switch (octets) {
    case 16: return "A128GCM";
    case 24: return "A192GCM";
    case 32: return "A256GCM";
    default: return {};
  }
}

// The Credential-ID a kid is, if it is one of the ESData types (other kids are free text: nullopt).
std::optional<CredentialKid> credential_of(const std::string& kid) {
  if (kid.empty()) return std::nullopt;
  auto parsed = CredentialKid::parse(kid);
  if (!parsed) return std::nullopt;
  return std::move(*parsed);
}

Result<std::string> recipient_alg(const EsdataRecipient& r) {
  if (!r.alg.empty()) return r.alg;
  // A Credential-ID of type 14 (a direct-encryption key) makes "dir" the default for an "oct" key.
  const auto cred = credential_of(r.key->kid());
  if (r.key->alg().empty() && r.key->type() == jose::KeyType::kOct && cred &&
      cred->use() == CredentialUse::kDirectEncryption)
    return std::string("dir");
  std::string alg = r.key->default_key_management_alg();
  if (alg.empty()) return Error::usage("ESData: a symmetric recipient key is 16, 24 or 32 octets");
  return alg;
}

Result<std::string> signer_alg(const EsdataSigner& s) {
  return s.alg.empty() ? s.key->default_signature_alg() : s.alg;
}

// A key's own "kid", when it is a Credential-ID, must allow the algorithm, and an ni value must be the key's.
Result<void> check_credential(const jose::Jwk& key, std::string_view alg) {
  const auto cred = credential_of(key.kid());
  if (!cred) return {};
  if (!cred->permits(alg)) {
    return Error::usage("ESData: credential " + key.kid() + " (type " + std::to_string(cred->type()) +
                        ") may not be used with " + std::string(alg) + " (TS-0003 10.4, 8.5.2.2.4.1)");
  }
  if (cred->is_ni() && !cred->matches(key)) {
    return Error::usage("ESData: the ni identifier in kid " + key.kid() + " is not that of the key");
  }
  return {};
}

// The caller's policy narrowed to what one key may do. nullopt: the key may do nothing under the policy.
std::optional<jose::AlgorithmPolicy> policy_for_key(const jose::Jwk& key, const jose::AlgorithmPolicy& base,
                                                    bool for_signatures) {
  const auto cred = credential_of(key.kid());
  if (!cred) return base;
  if (cred->is_ni() && !cred->matches(key)) return std::nullopt;  // a misconfigured key is not used
  jose::AlgorithmPolicy out = base;
  out.jws.clear();
  out.jwe_alg.clear();
  if (for_signatures) {
    for (const jose::JwsAlgorithm& a : jose::jws_algorithms())
      if (cred->permits(a.name) && base.allows_jws(a.name)) out.jws.push_back(a.name);
    if (out.jws.empty()) return std::nullopt;
  } else {
    for (const jose::JweAlgorithm& a : jose::jwe_algorithms()) {
      const bool listed = base.jwe_alg.empty() ||
                          std::find(base.jwe_alg.begin(), base.jwe_alg.end(), a.name) != base.jwe_alg.end();
      if (cred->permits(a.name) && listed) out.jwe_alg.push_back(a.name);
    }
    if (out.jwe_alg.empty()) return std::nullopt;
  }
  return out;
}


// ---- protection ----------------------------------------------------------------------------------------

jose::Serialization json_form(std::size_t parties) {
  return parties == 1 ? jose::Serialization::kFlattened : jose::Serialization::kGeneral;
}

Result<void> check_form(ContentSecurity form) {
  switch (form) {
    case ContentSecurity::kJoseCompact:
    case ContentSecurity::kJoseJson:
    case ContentSecurity::kJoseJsonBase64: return {};
    case ContentSecurity::kNone: return Error::usage("ESData: contentSecurity 0 means no ESData is applied");
    case ContentSecurity::kXml:
    case ContentSecurity::kXmlBase64:
      return Error::unsupported("ESData: XML-ENC / XML-SIG (contentSecurity 4 and 5) is not implemented");
  }
  return Error::usage("ESData: unknown contentSecurity");
}

Result<std::string> sign_envelope(ByteView payload, const std::vector<EsdataSigner>& signers, bool compact,
                                  bool nested) {
  if (signers.empty()) return Error::usage("ESData: no signer");
  if (compact && signers.size() != 1)
    return Error::usage("ESData: the compact serialization carries one signature; use contentSecurity 2 or 3");
  std::vector<jose::Signer> list;
  for (const EsdataSigner& s : signers) {
    if (s.key == nullptr) return Error::usage("ESData: signer without a key");
    M2MSEC_ASSIGN_OR_RETURN(std::string alg, signer_alg(s));
    if (jose::find_jws_algorithm(alg) == nullptr)
      return Error::unsupported("ESData: signature algorithm '" + alg + "' is not permitted (TS-0003 8.5.3.3)");
    if (nested && !jose::is_public_key_signature(alg))
      return Error::usage("ESData: the nested class signs with RSA or ECDSA only, not " + alg + " (TS-0003 8.5.2.4)");
    M2MSEC_TRY(check_credential(*s.key, alg));
    list.push_back(jose::Signer{s.key, std::move(alg)});
  }
  M2MSEC_ASSIGN_OR_RETURN(const jose::Jws jws, jose::sign(payload, list));
  const jose::Serialization form = compact ? jose::Serialization::kCompact : json_form(list.size());
  return jws.serialize(form);
}

Result<std::string> encrypt_envelope(ByteView plaintext, const ProtectOptions& o, bool compact,
                                     std::string_view cty) {
  if (o.recipients.empty()) return Error::usage("ESData: no recipient");
  if (compact && o.recipients.size() != 1)
    return Error::usage("ESData: the compact serialization carries one recipient; use contentSecurity 2 or 3");
  if (compact && !o.aad.empty()) return Error::usage("ESData: AAD needs a JSON serialization (contentSecurity 2 or 3)");
  std::vector<jose::Recipient> list;
  const SecretBytes* direct = nullptr;
  for (const EsdataRecipient& r : o.recipients) {
    if (r.key == nullptr) return Error::usage("ESData: recipient without a key");
    M2MSEC_ASSIGN_OR_RETURN(std::string alg, recipient_alg(r));
    const jose::JweAlgorithm* a = jose::find_jwe_algorithm(alg);
    if (a == nullptr) return Error::unsupported("ESData: key management '" + alg + "' is not permitted (TS-0003 8.5.3.2)");
    if (a->mode == jose::KeyManagement::kDirect) {
      // TS-0003 8.5.2.2: direct encryption only with a single symmetric key; otherwise encrypted-key mode.
      if (o.recipients.size() != 1)
        return Error::usage("ESData: \"dir\" only with exactly one symmetric key (TS-0003 8.5.2.2)");
      if (r.key->type() != jose::KeyType::kOct) return Error::usage("ESData: \"dir\" needs a symmetric key");
      direct = r.key->symmetric_key();
    }
    M2MSEC_TRY(check_credential(*r.key, alg));
    list.push_back(jose::Recipient{r.key, std::move(alg)});
  }
  jose::EncryptOptions options;
  options.enc = o.enc;
  if (options.enc.empty()) {
    options.enc = direct != nullptr ? std::string(gcm_for_size(direct->size())) : std::string("A256GCM");
    if (options.enc.empty()) return Error::usage("ESData: a \"dir\" key is 16, 24 or 32 octets");
  }
  if (!cty.empty()) options.protected_header.set("cty", std::string(cty));
  options.aad = o.aad;
  M2MSEC_ASSIGN_OR_RETURN(const jose::Jwe jwe, jose::encrypt(plaintext, list, options));
  const jose::Serialization form = compact ? jose::Serialization::kCompact : json_form(list.size());
  return jwe.serialize(form);
}

// ---- unprotection --------------------------------------------------------------------------------------

enum class Inner { kNone, kCompact, kJson };

// What the JWE's "cty" says its plaintext is; only the integrity-protected header may say it.
Result<Inner> inner_of(const jose::Jwe& jwe) {
  if (jwe.shared_header().contains("cty")) return malformed("\"cty\" outside the protected header");
  for (const auto& r : jwe.recipients())
    if (r.header.contains("cty")) return malformed("\"cty\" outside the protected header");
  const json::Value* cty = jwe.protected_header().find("cty");
  if (cty == nullptr) return Inner::kNone;
  if (cty->string() == nullptr) return malformed("\"cty\" is not a string");
  const std::string& type = *cty->string();
  // "JWT" (RFC 7519 clause 5.2) is a nested JWT: a compact JWS inside.
  if (jose::is_media_type(type, "jose") || jose::is_media_type(type, "jwt")) return Inner::kCompact;
  if (jose::is_media_type(type, "jose+json")) return Inner::kJson;
  return Inner::kNone;  // the media type of an ordinary payload
}

Result<void> check_expected(const UnprotectOptions& o, SecurityClass found) {
  if (o.expected_class && *o.expected_class != found) {
    return Error(Category::kPolicy, Rsc::kBadRequest,
                 "ESData: an envelope of class " + std::string(security_class_name(found)) + " where " +
                     std::string(security_class_name(*o.expected_class)) + " is required");
  }
  return {};
}

struct Verified {
  Bytes payload;
  std::vector<std::string> kids;
};

// Each trusted key under its own narrowed policy; a signature counts once, for the first key that verifies it.
Result<Verified> verify_signatures(const jose::Jws& jws, const UnprotectOptions& o, const jose::AlgorithmPolicy& policy) {
  const std::size_t count = jws.signatures().size();
  std::vector<std::optional<std::string>> by(count);
  std::optional<Error> failure;
  bool any_key = false;
  for (const jose::Jwk& key : o.verification_keys) {
    const auto key_policy = policy_for_key(key, policy, /*for_signatures=*/true);
    if (!key_policy) continue;
    any_key = true;
    auto result = jose::verify(jws, std::span<const jose::Jwk>(&key, 1), *key_policy, false);
    if (!result) {
      if (!failure || failure->category() == Category::kAuth) failure = std::move(result).error();
      continue;
    }
    for (std::size_t i = 0; i < result->signatures.size(); ++i) {
      auto& slot = by[result->signatures[i]];
      if (!slot) slot = result->kids[i];
    }
  }
  Verified out;
  for (const auto& slot : by)
    if (slot) out.kids.push_back(*slot);
  if (out.kids.empty()) {
    if (!any_key) return Error(Category::kAuth, "ESData: no verification key may verify signatures under the policy");
    if (failure && failure->category() != Category::kAuth) return Error(failure->category(), "ESData: " + failure->detail());
    return Error(Category::kAuth, "ESData: no trusted key verifies a signature");
  }
  if (o.require_all_signatures && out.kids.size() != count)
    return Error(Category::kAuth, "ESData: not every signature verifies");
  out.payload = jws.payload();
  return out;
}

struct Decrypted {
  Bytes plaintext;
  std::string kid;
};

Result<Decrypted> decrypt_envelope(const jose::Jwe& jwe, const UnprotectOptions& o) {
  std::optional<Error> failure;
  bool any_key = false;
  for (const jose::Jwk& key : o.decryption_keys) {
    const auto key_policy = policy_for_key(key, o.policy, /*for_signatures=*/false);
    if (!key_policy) continue;
    any_key = true;
    auto result = jose::decrypt(jwe, std::span<const jose::Jwk>(&key, 1), *key_policy);
    if (result) {
      Decrypted out;
      out.plaintext.assign(result->plaintext.view().begin(), result->plaintext.view().end());
      out.kid = result->kid;
      return out;
    }
    if (result.error().category() == Category::kUsage) return std::move(result).error();
    if (!failure || failure->category() == Category::kAuth) failure = std::move(result).error();
  }
  if (!any_key) {
    return Error(Category::kAuth,
                 "ESData: no decryption key may decrypt under the policy (signature-only credentials never decrypt)");
  }
  if (failure && failure->category() != Category::kAuth) return Error(failure->category(), "ESData: " + failure->detail());
  return Error(Category::kAuth, "ESData: no key decrypts the envelope");
}

}  // namespace

std::string_view security_class_name(SecurityClass c) {
  switch (c) {
    case SecurityClass::kEncryptionOnly: return "encryption-only";
    case SecurityClass::kSignatureOnly: return "signature-only";
    case SecurityClass::kNestedSignThenEncrypt: return "nested-sign-then-encrypt";
  }
  return "unknown";
}

Result<ContentSecurity> content_security_from_int(std::int64_t value) {
  if (value < 0 || value > 5) return Error::usage("m2m:contentSecurity must be 0-5 (TS-0004 6.3.4.2.38)");
  return static_cast<ContentSecurity>(value);
}

std::string_view envelope_media_type(ContentSecurity form) {
  switch (form) {
    case ContentSecurity::kNone: return {};
    case ContentSecurity::kJoseCompact: return "application/jose";
    case ContentSecurity::kJoseJson:
    case ContentSecurity::kJoseJsonBase64: return "application/jose+json";
    case ContentSecurity::kXml:
    case ContentSecurity::kXmlBase64: return "application/xenc+xml";
  }
  return {};
}

//= TS-0004 V3.32.0 6.3.3 m2m:contentInfo
//# <type>/<subtype>:<encodingType>[:<contentSecurity>]; contentSecurity absent means 0.
Result<ContentInfo> parse_content_info(std::string_view text) {
  const auto first = text.find(':');
  if (first == std::string_view::npos) return Error::usage("m2m:contentInfo: missing ':<encodingType>'");
  ContentInfo info;
  const std::string_view media = text.substr(0, first);
  if (!is_media_type(media)) return Error::usage("m2m:contentInfo: the media type is not type/subtype");
  info.media_type = std::string(media);
  const std::string_view rest = text.substr(first + 1);
  const std::string_view encoding = rest.substr(0, rest.find(':'));
  if (encoding.size() != 1 || encoding[0] < '0' || encoding[0] > '2')
    return Error::usage("m2m:contentInfo: encodingType must be 0, 1 or 2 (TS-0004 6.3.4.2.28)");
  info.encoding = static_cast<EncodingType>(encoding[0] - '0');
  if (rest.size() > 1) {
    const std::string_view security = rest.substr(2);
    if (rest[1] != ':' || security.size() != 1 || security[0] < '0' || security[0] > '5')
      return Error::usage("m2m:contentInfo: contentSecurity must be 0-5 (TS-0004 6.3.4.2.38)");
    info.security = static_cast<ContentSecurity>(security[0] - '0');
  }
  return info;
}

std::string format_content_info(const ContentInfo& info) {
  std::string out = info.media_type + ":" + std::to_string(static_cast<unsigned>(info.encoding));
  if (info.security != ContentSecurity::kNone) out += ":" + std::to_string(static_cast<unsigned>(info.security));
  return out;
}

// ---- CredentialKid -------------------------------------------------------------------------------------

//= TS-0003 V3.18.0 §10.4, Table 12.3.2.1-1
//# Credential-ID = <credIDTypeID> "-" <value>; ESData types 14, 15, 16, 41-45, 51-55.
Result<CredentialKid> CredentialKid::make(unsigned type, std::string_view value) {
  const bool esdata = type == 14 || type == 15 || type == 16 || (type >= 41 && type <= 45) || (type >= 51 && type <= 55);
  if (!esdata) return Error::usage("Credential-ID: type " + std::to_string(type) + " is not an ESData credential type");
  if ((type == 41 || type == 51) && value.substr(0, 3) == "ni:") {
    M2MSEC_TRY(pki::PublicKeyId::parse(value));
    return CredentialKid(type, std::string(value));
  }
  const auto type_id = keys::cred_id_type_from_int(type);
  if (!type_id) return Error::internal("Credential-ID: type table mismatch");
  M2MSEC_ASSIGN_OR_RETURN(const keys::CredentialId id, keys::CredentialId::make(*type_id, value));
  return CredentialKid(type, id.value());
}

Result<CredentialKid> CredentialKid::parse(std::string_view kid) {
  const auto dash = kid.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash > 2) return Error::usage("Credential-ID: missing '<type>-'");
  unsigned type = 0;
  for (char c : kid.substr(0, dash)) {
    if (c < '0' || c > '9') return Error::usage("Credential-ID: type-ID is not a number");
    type = type * 10 + static_cast<unsigned>(c - '0');
  }
  if (kid.front() == '0') return Error::usage("Credential-ID: type-ID with a leading zero");
  return make(type, kid.substr(dash + 1));
}

Result<CredentialKid> CredentialKid::for_raw_public_key(const jose::Jwk& key, bool signature) {
  M2MSEC_ASSIGN_OR_RETURN(const Bytes der, spki_der(key));
  return CredentialKid(signature ? 51 : 41, pki::PublicKeyId::of(der).to_string());
}

CredentialUse CredentialKid::use() const {
  if (m_type == 14) return CredentialUse::kDirectEncryption;
  if (m_type == 15) return CredentialUse::kKeyWrap;
  if (m_type == 16) return CredentialUse::kMac;
  if (m_type >= 41 && m_type <= 45) return CredentialUse::kKeyManagement;
  return CredentialUse::kSignature;
}

bool CredentialKid::is_ni() const { return m_value.substr(0, 3) == "ni:"; }

bool CredentialKid::permits(std::string_view alg) const {
  if (const jose::JwsAlgorithm* s = jose::find_jws_algorithm(alg)) {
    if (use() == CredentialUse::kMac) return s->family == jose::JwsFamily::kHmac;
    if (use() == CredentialUse::kSignature) return s->family != jose::JwsFamily::kHmac;
    return false;
  }
  if (const jose::JweAlgorithm* e = jose::find_jwe_algorithm(alg)) {
    switch (use()) {
      case CredentialUse::kDirectEncryption: return e->mode == jose::KeyManagement::kDirect;
      case CredentialUse::kKeyWrap: return e->mode == jose::KeyManagement::kAesKeyWrap;
      case CredentialUse::kKeyManagement:
        return e->mode == jose::KeyManagement::kRsaOaep || e->mode == jose::KeyManagement::kEcdhEsKeyWrap;
      default: return false;
    }
  }
  return false;
}

bool CredentialKid::matches(const jose::Jwk& key) const {
  if (!is_ni()) return false;
  auto ni = pki::PublicKeyId::parse(m_value);
  auto der = spki_der(key);
  return ni && der && ni->matches(*der);
}

// ---- protect / unprotect -------------------------------------------------------------------------------

Result<std::string> protect(ByteView payload, const ProtectOptions& o) {
  M2MSEC_TRY(check_form(o.form));
  const bool compact = o.form == ContentSecurity::kJoseCompact;
  std::string envelope;
  switch (o.security_class) {
    case SecurityClass::kSignatureOnly: {
      if (!o.recipients.empty()) return Error::usage("ESData: the signature-only class has no recipients");
      if (!o.aad.empty()) return Error::usage("ESData: AAD belongs to the encrypting classes");
      M2MSEC_ASSIGN_OR_RETURN(envelope, sign_envelope(payload, o.signers, compact, false));
      break;
    }
    case SecurityClass::kEncryptionOnly: {
      if (!o.signers.empty()) return Error::usage("ESData: the encryption-only class has no signers");
      M2MSEC_ASSIGN_OR_RETURN(envelope, encrypt_envelope(payload, o, compact, {}));
      break;
    }
    case SecurityClass::kNestedSignThenEncrypt: {
      // The inner envelope uses the same family of serialization as the outer one.
      M2MSEC_ASSIGN_OR_RETURN(const std::string inner, sign_envelope(payload, o.signers, compact, true));
      M2MSEC_ASSIGN_OR_RETURN(envelope, encrypt_envelope(as_bytes(inner), o, compact, compact ? "JOSE" : "JOSE+JSON"));
      break;
    }
  }
  if (o.form == ContentSecurity::kJoseJsonBase64) return base64_encode(as_bytes(envelope));
  return envelope;
}

Result<UnprotectedData> unprotect(std::string_view envelope, const UnprotectOptions& o) {
  M2MSEC_TRY(check_form(o.form));
  // The bound every JOSE parser applies, before anything is decoded (base64 takes 4 octets for 3).
  if (envelope.size() > jose::kMaxObjectSize / 3 * 4 + 4) return malformed("envelope larger than 16 MiB");
  std::string text;
  if (o.form == ContentSecurity::kJoseJsonBase64) {
    auto decoded = base64_decode(envelope);
    if (!decoded) return malformed("contentSecurity 3 wants base64 (RFC 4648 clause 4, padded)");
    text.assign(decoded->begin(), decoded->end());
  } else {
    text = std::string(envelope);
  }
  if (text.empty()) return malformed("empty envelope");
  if (text.size() > jose::kMaxObjectSize) return malformed("envelope larger than 16 MiB");
  const bool json_text = text.front() == '{';
  if (json_text != (o.form != ContentSecurity::kJoseCompact)) {
    return malformed(o.form == ContentSecurity::kJoseCompact ? "contentSecurity 1 wants the compact serialization"
                                                             : "contentSecurity 2 and 3 want the JSON serialization");
  }
  bool is_jwe = false;
  if (json_text) {
    M2MSEC_ASSIGN_OR_RETURN(const json::Value v, json::parse(text));
    is_jwe = v.find("ciphertext") != nullptr;
    if (!is_jwe && v.find("payload") == nullptr) return malformed("neither a JWS nor a JWE");
  } else {
    const auto dots = std::count(text.begin(), text.end(), '.');
    if (dots != 2 && dots != 4) return malformed("a compact envelope has three (JWS) or five (JWE) parts");
    is_jwe = dots == 4;
  }

  UnprotectedData out;
  if (!is_jwe) {
    M2MSEC_TRY(check_expected(o, SecurityClass::kSignatureOnly));
    M2MSEC_ASSIGN_OR_RETURN(const jose::Jws jws, jose::Jws::parse(text));
    M2MSEC_ASSIGN_OR_RETURN(Verified verified, verify_signatures(jws, o, o.policy));
    out.payload = std::move(verified.payload);
    out.security_class = SecurityClass::kSignatureOnly;
    out.verified_by = std::move(verified.kids);
    return out;
  }

  M2MSEC_ASSIGN_OR_RETURN(const jose::Jwe jwe, jose::Jwe::parse(text));
  M2MSEC_ASSIGN_OR_RETURN(const Inner inner, inner_of(jwe));
  const SecurityClass found = inner == Inner::kNone ? SecurityClass::kEncryptionOnly : SecurityClass::kNestedSignThenEncrypt;
  M2MSEC_TRY(check_expected(o, found));
  M2MSEC_ASSIGN_OR_RETURN(Decrypted decrypted, decrypt_envelope(jwe, o));
  out.security_class = found;
  out.decrypted_by = std::move(decrypted.kid);
  out.aad = jwe.aad();
  if (found == SecurityClass::kEncryptionOnly) {
    out.payload = std::move(decrypted.plaintext);
    return out;
  }
  const std::string_view inner_text = as_text(decrypted.plaintext);
  if (inner_text.empty() || (inner_text.front() == '{') != (inner == Inner::kJson))
    return malformed("the inner envelope is not in the serialization \"cty\" names");
  auto jws = jose::Jws::parse(inner_text);
  if (!jws) return malformed("the inner envelope is not a JWS (" + jws.error().detail() + ")");
  const bool any_certificate_signature =
      std::any_of(jws->signatures().begin(), jws->signatures().end(), [](const jose::Jws::Signature& s) {
        const json::Value* alg = s.protected_header.find("alg");
        return alg != nullptr && alg->string() != nullptr && jose::is_public_key_signature(*alg->string());
      });
  if (!any_certificate_signature) {
    return Error(Category::kPolicy, Rsc::kBadRequest,
                 "ESData: the inner signatures of the nested class are RSA or ECDSA, never HMAC (TS-0003 8.5.2.4)");
  }
  M2MSEC_ASSIGN_OR_RETURN(Verified verified, verify_signatures(*jws, o, o.policy.without_hmac()));
  out.payload = std::move(verified.payload);
  out.verified_by = std::move(verified.kids);
  return out;
}

Result<ProtectedContent> protect_content(ByteView payload, std::string_view media_type, EncodingType encoding,
                                         const ProtectOptions& options) {
  if (!is_media_type(media_type)) return Error::usage("m2m:contentInfo: the media type is not type/subtype");
  M2MSEC_ASSIGN_OR_RETURN(std::string con, protect(payload, options));
  return ProtectedContent{std::move(con), format_content_info({std::string(media_type), encoding, options.form})};
}

Result<UnprotectedContent> unprotect_content(std::string_view con, std::string_view cnf, UnprotectOptions options) {
  M2MSEC_ASSIGN_OR_RETURN(ContentInfo info, parse_content_info(cnf));
  if (info.security == ContentSecurity::kNone) return malformed("the contentInfo says no ESData was applied");
  options.form = info.security;
  M2MSEC_ASSIGN_OR_RETURN(UnprotectedData data, unprotect(con, options));
  return UnprotectedContent{std::move(data), std::move(info)};
}

}  // namespace m2msec::e2e

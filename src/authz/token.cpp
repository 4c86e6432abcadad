#include "m2msec/authz/token.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "m2msec/core/encoding.h"
#include "m2msec/jose/jwe.h"
#include "m2msec/jose/jws.h"
#include "m2msec/jose/serialization.h"
#include "m2msec/keys/identifiers.h"

namespace m2msec::authz {
namespace {


// ---- errors --------------------------------------------------------------------------------------------

// Every refusal of a token: the caller answers 4103 ORIGINATOR_HAS_NO_PRIVILEGE (TS-0003 7.3.2.3 step 7.1.4
// says "respond with an error" without a code; INTERPRETATION), the detail is for logs.
Error deny(std::string reason, Category category = Category::kAuth) {
  return Error(category, Rsc::kOriginatorHasNoPrivilege, "token: " + std::move(reason));
}

Error bad_claims(std::string reason) { return Error::usage("token claim set: " + std::move(reason)); }

// ---- small syntax checks -------------------------------------------------------------------------------

bool is_base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// RFC 7519 clause 5.1/5.2: "typ"/"cty" "JWT".
bool is_jwt_media_type(const json::Value* v) {
  return v != nullptr && v->string() != nullptr && jose::is_media_type(*v->string(), "jwt");
}

// ---- claim-set members ---------------------------------------------------------------------------------

constexpr std::int64_t kMaxNumericDate = 253402300799;  // 9999-12-31T23:59:59Z

Result<std::string> string_member(const json::Object& o, std::string_view name) {
  const json::Value* v = o.find(name);
  if (v == nullptr) return bad_claims("\"" + std::string(name) + "\" is missing");
  if (v->string() == nullptr) return bad_claims("\"" + std::string(name) + "\" is not a string");
  return *v->string();
}

Result<std::optional<std::string>> optional_string(const json::Object& o, std::string_view name) {
  const json::Value* v = o.find(name);
  if (v == nullptr) return std::optional<std::string>();
  if (v->string() == nullptr) return bad_claims("\"" + std::string(name) + "\" is not a string");
  return std::optional<std::string>(*v->string());
}

Result<std::vector<std::string>> string_list(const json::Value& v, std::string_view name, bool allow_single) {
  std::vector<std::string> out;
  if (allow_single && v.string() != nullptr) {
    out.push_back(*v.string());
    return out;
  }
  if (v.array() == nullptr) return bad_claims("\"" + std::string(name) + "\" is not a list of strings");
  for (const json::Value& item : *v.array()) {
    if (item.string() == nullptr) return bad_claims("\"" + std::string(name) + "\" is not a list of strings");
    out.push_back(*item.string());
  }
  return out;
}

Result<Instant> numeric_date(const json::Object& o, std::string_view name) {
  const json::Value* v = o.find(name);
  if (v == nullptr) return bad_claims("\"" + std::string(name) + "\" is missing");
  const auto seconds = v->integer();
  // NumericDate may carry a fraction (RFC 7519 clause 2); m2m:timestamp has whole seconds only, so the
  // mapping of Table 7.3.2.6.2-1 is defined for integers: anything else is refused.
  if (!seconds || *seconds < 0 || *seconds > kMaxNumericDate)
    return bad_claims("\"" + std::string(name) + "\" is not a NumericDate in whole seconds from 1970 to 9999");
  return Instant(std::chrono::seconds(*seconds));
}

Result<std::string> version_member(const json::Object& o) {
  const bool vr = o.contains("vr");
  const bool tkvr = o.contains("tkvr");
  if (vr && tkvr) return bad_claims("both \"vr\" and \"tkvr\"");
  return string_member(o, vr ? "vr" : "tkvr");
}

Result<void> check_id_list(const json::Value& v, std::string_view name, bool role_ids) {
  if (v.array() == nullptr || v.array()->empty()) return bad_claims("\"" + std::string(name) + "\" is not a non-empty list");
  for (const json::Value& item : *v.array()) {
    const std::string* s = item.string();
    if (s == nullptr || !(role_ids ? is_role_or_token_id(*s) : is_m2m_id(*s)))
      return bad_claims("\"" + std::string(name) + "\" holds a value that is not " + (role_ids ? "an m2m:roleID" : "an m2m:ID"));
  }
  return {};
}

// ---- JOSE pieces ---------------------------------------------------------------------------------------

Result<json::Object> decode_object(std::string_view b64, std::string_view what) {
  auto bytes = base64url_decode(b64);
  if (!bytes) return deny(std::string(what) + " is not base64url", Category::kProtocol);
  auto value = json::parse(as_text(*bytes));
  if (!value || value->object() == nullptr) return deny(std::string(what) + " is not a JSON object", Category::kProtocol);
  return *value->object();
}

// m2m:dynAuthJWT: a compact JWS (three parts) or JWE (five parts) of base64url characters, the protected
// header not empty (TS-0004 6.3.3 m2m:e2eCompactJWS / m2m:e2eCompactJWE).
Result<std::vector<std::string_view>> split_compact(std::string_view token, std::size_t max_size) {
  if (token.empty()) return deny("empty token", Category::kProtocol);
  if (token.size() > max_size) return deny("token larger than " + std::to_string(max_size) + " octets", Category::kProtocol);
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= token.size(); ++i) {
    if (i == token.size() || token[i] == '.') {
      parts.push_back(token.substr(start, i - start));
      start = i + 1;
    } else if (!is_base64url_char(token[i])) {
      return deny("not an m2m:dynAuthJWT (a character outside base64url)", Category::kProtocol);
    }
  }
  if (parts.size() != 3 && parts.size() != 5)
    return deny("not an m2m:dynAuthJWT (three or five parts)", Category::kProtocol);
  if (parts[0].empty()) return deny("not an m2m:dynAuthJWT (empty header)", Category::kProtocol);
  if (parts.size() == 5 && (parts[2].empty() || parts[4].empty()))
    return deny("not an m2m:dynAuthJWT (JWE without IV or tag)", Category::kProtocol);
  return parts;
}

bool is_symmetric_management(std::string_view alg) {
  const jose::JweAlgorithm* a = jose::find_jwe_algorithm(alg);
  return a != nullptr && (a->mode == jose::KeyManagement::kDirect || a->mode == jose::KeyManagement::kAesKeyWrap);
}


Result<std::string> sign_jwt(std::string_view payload, const IssueOptions& o, bool nested) {
  if (o.signing_key == nullptr) return Error::usage("token: a signed token needs a signing key");
  const std::string alg = o.sign_alg.empty() ? o.signing_key->default_signature_alg() : o.sign_alg;
  if (nested && !jose::is_public_key_signature(alg))
    return Error::usage("token: a nested token is signed with RS* or ES*, not " + alg + " (TS-0003 8.5.2.4)");
  const jose::Signer signer{o.signing_key, alg, json::Object{{"typ", json::Value("JWT")}}};
  M2MSEC_ASSIGN_OR_RETURN(const jose::Jws jws, jose::sign(as_bytes(payload), std::span<const jose::Signer>(&signer, 1)));
  return jws.serialize(jose::Serialization::kCompact);
}

Result<std::string> encrypt_jwt(std::string_view plaintext, const IssueOptions& o, bool nested) {
  if (o.encryption_key == nullptr) return Error::usage("token: an encrypted token needs a recipient key");
  const std::string key_alg = o.key_alg.empty() ? o.encryption_key->default_key_management_alg() : o.key_alg;
  if (key_alg.empty()) return Error::usage("token: name the key-management algorithm for this recipient key");
  const jose::Recipient recipient{o.encryption_key, key_alg};
  jose::EncryptOptions options;
  options.enc = o.enc;
  options.protected_header.set("typ", "JWT");
  if (nested) options.protected_header.set("cty", "JWT");
  M2MSEC_ASSIGN_OR_RETURN(const jose::Jwe jwe,
                          jose::encrypt(as_bytes(plaintext), std::span<const jose::Recipient>(&recipient, 1), options));
  return jwe.serialize(jose::Serialization::kCompact);
}

// ---- validation ----------------------------------------------------------------------------------------

struct Opened {
  Bytes claims;
  std::string alg;
  std::string kid;
};

// Why one issuer did not take the token; the most telling reason over all issuers is reported.
enum class Miss { kNoKey, kPolicy, kUnauthenticated, kIssuerMismatch };

struct Misses {
  Miss worst = Miss::kNoKey;
  std::string reason;
  bool any = false;
  void add(Miss m, std::string why) {
    if (!any || m > worst) {
      worst = m;
      reason = std::move(why);
      any = true;
    }
  }
};

bool permits(const TrustedIssuer& issuer, TokenClass c) {
  switch (c) {
    case TokenClass::kUnsecured: return issuer.allow_unsecured;
    case TokenClass::kSigned: return issuer.accept_signed;
    case TokenClass::kEncrypted: return issuer.accept_encrypted;
    case TokenClass::kNested: return issuer.accept_nested;
  }
  return false;
}

}  // namespace

//= TS-0001 V3.36.0 7.1.14/7.1.15
//# Role-ID / Token-ID = issuerRelativeID "@" issuerID; issuerID an FQDN in lower case.
// The ID forms themselves are checked where they are used.
bool is_m2m_id(std::string_view s) {
  return !s.empty() && std::none_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

bool is_role_or_token_id(std::string_view text) {
  const auto at = text.find('@');
  if (at == std::string_view::npos || at == 0) return false;
  const std::string_view relative = text.substr(0, at);
  const bool relative_ok = std::all_of(relative.begin(), relative.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
  });
  // The issuer: an FQDN (keys::Fqdn, RFC 1123) already in lower case.
  const std::string_view issuer = text.substr(at + 1);
  const auto fqdn = keys::Fqdn::parse(issuer);
  return relative_ok && fqdn && fqdn->text() == issuer;
}

//= TS-0001 V3.36.0 Table 9.6.39-3
//# If the privileges element is present, resourceIDs shall be present; at least one of privileges/roleIDs.
Result<void> check_permissions(const json::Value& permissions) {
  const json::Object* o = permissions.object();
  if (o == nullptr) return bad_claims("\"tkps\" is not an object");
  for (const auto& member : *o)
    if (member.first != "pm") return bad_claims("\"tkps\" has an unknown member \"" + member.first + "\"");
  const json::Value* list = o->find("pm");
  if (list == nullptr) return {};
  if (list->array() == nullptr) return bad_claims("\"tkps\".\"pm\" is not a list");
  for (const json::Value& entry : *list->array()) {
    const json::Object* p = entry.object();
    if (p == nullptr) return bad_claims("a permission is not an object");
    for (const auto& member : *p) {
      if (member.first != "ris" && member.first != "pv" && member.first != "rids")
        return bad_claims("a permission has an unknown member \"" + member.first + "\"");
    }
    const json::Value* ris = p->find("ris");
    const json::Value* pv = p->find("pv");
    const json::Value* rids = p->find("rids");
    if (pv == nullptr && rids == nullptr) return bad_claims("a permission has neither privileges nor roleIDs");
    if (pv != nullptr && ris == nullptr) return bad_claims("a permission has privileges without resourceIDs");
    if (ris != nullptr) M2MSEC_TRY(check_id_list(*ris, "ris", false));
    if (rids != nullptr) M2MSEC_TRY(check_id_list(*rids, "rids", true));
    if (pv != nullptr) {
      // m2m:setOfAcrs: {"acr":[m2m:accessControlRule...]}, the rules themselves left to the access decision.
      const json::Object* acrs = pv->object();
      if (acrs == nullptr) return bad_claims("\"pv\" is not an m2m:setOfAcrs object");
      for (const auto& member : *acrs)
        if (member.first != "acr") return bad_claims("\"pv\" has an unknown member \"" + member.first + "\"");
      if (const json::Value* acr = acrs->find("acr")) {
        if (acr->array() == nullptr) return bad_claims("\"pv\".\"acr\" is not a list");
        for (const json::Value& rule : *acr->array())
          if (rule.object() == nullptr) return bad_claims("an access-control rule is not an object");
      }
    }
  }
  return {};
}

// ---- TokenClaimSet -------------------------------------------------------------------------------------

Result<void> TokenClaimSet::check() const {
  if (version.empty()) return bad_claims("empty version");
  if (!is_role_or_token_id(token_id)) return bad_claims("tokenID is not an m2m:tokenID (relative@issuer-fqdn)");
  if (!is_m2m_id(holder)) return bad_claims("holder is not an m2m:ID");
  if (!is_m2m_id(issuer)) return bad_claims("issuer is not an m2m:ID");
  if (not_before > not_after) return bad_claims("notBefore is after notAfter");
  const Instant last{std::chrono::seconds(kMaxNumericDate)};
  if (not_before < Instant{} || not_after > last) return bad_claims("times outside 1970-9999");
  if (audience) {
    for (const std::string& a : *audience)
      if (!is_m2m_id(a)) return bad_claims("an audience entry is not an m2m:ID");
  }
  if (permissions) M2MSEC_TRY(check_permissions(*permissions));
  return {};
}

Result<TokenClaimSet> TokenClaimSet::from_short_names(const json::Value& value) {
  const json::Object* o = value.object();
  if (o == nullptr) return bad_claims("not a JSON object");
  static constexpr std::array<std::string_view, 11> kKnown{"vr", "tkvr", "tkid", "tkhd", "tkis", "tknb",
                                                           "tkna", "tknm", "tkau", "tkps", "tkex"};
  for (const auto& member : *o) {
    if (std::find(kKnown.begin(), kKnown.end(), member.first) == kKnown.end())
      return bad_claims("unknown element \"" + member.first + "\"");
  }
  TokenClaimSet c;
  M2MSEC_ASSIGN_OR_RETURN(c.version, version_member(*o));
  M2MSEC_ASSIGN_OR_RETURN(c.token_id, string_member(*o, "tkid"));
  M2MSEC_ASSIGN_OR_RETURN(c.holder, string_member(*o, "tkhd"));
  M2MSEC_ASSIGN_OR_RETURN(c.issuer, string_member(*o, "tkis"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string nb, string_member(*o, "tknb"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string na, string_member(*o, "tkna"));
  M2MSEC_ASSIGN_OR_RETURN(c.not_before, parse_m2m_timestamp(nb));
  M2MSEC_ASSIGN_OR_RETURN(c.not_after, parse_m2m_timestamp(na));
  M2MSEC_ASSIGN_OR_RETURN(c.token_name, optional_string(*o, "tknm"));
  M2MSEC_ASSIGN_OR_RETURN(c.extension, optional_string(*o, "tkex"));
  if (const json::Value* aud = o->find("tkau")) {
    M2MSEC_ASSIGN_OR_RETURN(c.audience, string_list(*aud, "tkau", false));
  }
  if (const json::Value* ps = o->find("tkps")) c.permissions = *ps;
  M2MSEC_TRY(c.check());
  return c;
}

Result<json::Value> TokenClaimSet::to_short_names() const {
  M2MSEC_ASSIGN_OR_RETURN(std::string nb, format_m2m_timestamp(not_before));
  M2MSEC_ASSIGN_OR_RETURN(std::string na, format_m2m_timestamp(not_after));
  json::Object o{{"vr", json::Value(version)},
                 {"tkid", json::Value(token_id)},
                 {"tkhd", json::Value(holder)},
                 {"tkis", json::Value(issuer)},
                 {"tknb", json::Value(std::move(nb))},
                 {"tkna", json::Value(std::move(na))}};
  if (token_name) o.set("tknm", *token_name);
  if (audience) {
    json::Array list(audience->begin(), audience->end());
    o.set("tkau", std::move(list));
  }
  if (permissions) o.set("tkps", *permissions);
  if (extension) o.set("tkex", *extension);
  return json::Value(std::move(o));
}

//= TS-0003 V3.18.0 Table 7.3.2.6.2-1
//# tkvr, jti, iss, azp, nbf (NumericDate), exp (NumericDate), tknm, aud (array of StringOrURI), tkps, tkex.
Result<TokenClaimSet> TokenClaimSet::from_jwt_claims(const json::Value& claims) {
  const json::Object* o = claims.object();
  if (o == nullptr) return bad_claims("the JWT claims are not a JSON object");
  TokenClaimSet c;
  M2MSEC_ASSIGN_OR_RETURN(c.version, version_member(*o));
  M2MSEC_ASSIGN_OR_RETURN(c.token_id, string_member(*o, "jti"));
  M2MSEC_ASSIGN_OR_RETURN(c.holder, string_member(*o, "azp"));
  M2MSEC_ASSIGN_OR_RETURN(c.issuer, string_member(*o, "iss"));
  M2MSEC_ASSIGN_OR_RETURN(c.not_before, numeric_date(*o, "nbf"));
  M2MSEC_ASSIGN_OR_RETURN(c.not_after, numeric_date(*o, "exp"));
  M2MSEC_ASSIGN_OR_RETURN(c.token_name, optional_string(*o, "tknm"));
  M2MSEC_ASSIGN_OR_RETURN(c.extension, optional_string(*o, "tkex"));
  if (const json::Value* aud = o->find("aud")) {
    M2MSEC_ASSIGN_OR_RETURN(c.audience, string_list(*aud, "aud", true));
  }
  if (const json::Value* ps = o->find("tkps")) c.permissions = *ps;
  M2MSEC_TRY(c.check());
  return c;
}

json::Value TokenClaimSet::to_jwt_claims() const {
  json::Object o{{"tkvr", json::Value(version)},
                 {"jti", json::Value(token_id)},
                 {"iss", json::Value(issuer)},
                 {"azp", json::Value(holder)},
                 {"nbf", json::Value(static_cast<std::int64_t>(not_before.time_since_epoch().count()))},
                 {"exp", json::Value(static_cast<std::int64_t>(not_after.time_since_epoch().count()))}};
  if (token_name) o.set("tknm", *token_name);
  if (audience) {
    json::Array list(audience->begin(), audience->end());
    o.set("aud", std::move(list));
  }
  if (permissions) o.set("tkps", *permissions);
  if (extension) o.set("tkex", *extension);
  return o;
}

std::string_view token_class_name(TokenClass c) {
  switch (c) {
    case TokenClass::kUnsecured: return "unsecured";
    case TokenClass::kSigned: return "signed";
    case TokenClass::kEncrypted: return "encrypted";
    case TokenClass::kNested: return "nested";
  }
  return "unknown";
}

// ---- issuing -------------------------------------------------------------------------------------------

//= TS-0003 V3.18.0 §7.3.2.6.2 / §7.3.2.6.3
//# JWS and JWE: "typ":"JWT", no "cty"; nested: the JWE has "typ":"JWT" and "cty":"JWT".
Result<std::string> issue_token(const TokenClaimSet& claims, const IssueOptions& options) {
  M2MSEC_TRY(claims.check());
  const std::string payload = json::serialize(claims.to_jwt_claims());
  switch (options.token_class) {
    case TokenClass::kUnsecured: {
      const json::Object header{{"alg", json::Value("none")}, {"typ", json::Value("JWT")}};
      return base64url_encode(as_bytes(json::serialize(header))) + "." + base64url_encode(as_bytes(payload)) + ".";
    }
    case TokenClass::kSigned: return sign_jwt(payload, options, false);
    case TokenClass::kEncrypted: return encrypt_jwt(payload, options, false);
    case TokenClass::kNested: {
      M2MSEC_ASSIGN_OR_RETURN(const std::string inner, sign_jwt(payload, options, true));
      return encrypt_jwt(inner, options, true);
    }
  }
  return Error::usage("token: unknown class");
}

// ---- validating ----------------------------------------------------------------------------------------

TokenValidator::TokenValidator(ValidatorConfig config) : m_config(std::move(config)) {
  if (!m_config.clock) m_config.clock = std::make_shared<SystemClock>();
}

Result<ValidatedToken> TokenValidator::validate(std::string_view token, std::string_view originator) const {
  // 1. m2m:dynAuthJWT form.
  M2MSEC_ASSIGN_OR_RETURN(const std::vector<std::string_view> parts, split_compact(token, m_config.max_token_size));
  M2MSEC_ASSIGN_OR_RETURN(const json::Object header, decode_object(parts[0], "the JOSE header"));
  if (!is_jwt_media_type(header.find("typ"))) return deny("the JOSE header has no \"typ\":\"JWT\" (TS-0003 7.3.2.6.2)", Category::kProtocol);
  const json::Value* alg_value = header.find("alg");
  if (alg_value == nullptr || alg_value->string() == nullptr) return deny("the JOSE header has no \"alg\"", Category::kProtocol);
  const std::string alg = *alg_value->string();
  const json::Value* cty = header.find("cty");

  TokenClass token_class = TokenClass::kSigned;
  if (parts.size() == 3) {
    if (cty != nullptr) return deny("a JWS token with \"cty\" (TS-0003 7.3.2.6.2)", Category::kProtocol);
    token_class = alg == "none" ? TokenClass::kUnsecured : TokenClass::kSigned;
  } else if (cty == nullptr) {
    token_class = TokenClass::kEncrypted;
  } else if (is_jwt_media_type(cty)) {
    token_class = TokenClass::kNested;
  } else {
    return deny("a JWE token whose \"cty\" is not \"JWT\" (TS-0003 7.3.2.6.2)", Category::kProtocol);
  }

  ValidatedToken out;
  out.token_class = token_class;

  // 2. Security, per trusted issuer.
  if (token_class == TokenClass::kUnsecured) {
    if (!parts[2].empty()) return deny("an unsecured JWT has an empty signature (RFC 7519 clause 6.1)", Category::kProtocol);
    if (header.contains("crit")) return deny("\"crit\" in an unsecured JWT", Category::kProtocol);
    M2MSEC_ASSIGN_OR_RETURN(const json::Object claims_object, decode_object(parts[1], "the claim set"));
    auto claims = TokenClaimSet::from_jwt_claims(claims_object);
    if (!claims) return deny(claims.error().detail(), Category::kProtocol);
    const auto issuer = std::find_if(m_config.issuers.begin(), m_config.issuers.end(),
                                     [&](const TrustedIssuer& i) { return i.id == claims->issuer; });
    if (issuer == m_config.issuers.end()) return deny("issuer '" + claims->issuer + "' is not trusted");
    if (!issuer->allow_unsecured)
      return deny("unsecured (\"alg\":\"none\") tokens are not accepted from issuer '" + issuer->id + "'", Category::kPolicy);
    out.claims = std::move(*claims);
    out.issuer = issuer->id;
    out.alg = "none";
  } else {
    std::optional<jose::Jws> jws;
    std::optional<jose::Jwe> jwe;
    std::optional<std::string> unverified_iss;
    if (token_class == TokenClass::kSigned) {
      auto parsed = jose::Jws::parse(token);
      if (!parsed) return deny(parsed.error().detail(), Category::kProtocol);
      // Only for a clearer reason when nothing verifies: the issuer is decided by the key that verifies.
      if (auto claims = json::parse(as_text(parsed->payload())); claims && claims->find("iss") != nullptr) {
        const std::string* iss = claims->find("iss")->string();
        if (iss != nullptr) unverified_iss = *iss;
      }
      jws = std::move(*parsed);
    } else {
      auto parsed = jose::Jwe::parse(token);
      if (!parsed) return deny(parsed.error().detail(), Category::kProtocol);
      jwe = std::move(*parsed);
    }

    // Issuers that do not accept this class are tried too, never to accept the token but to say why it
    // was refused when its credentials are theirs.
    if (std::none_of(m_config.issuers.begin(), m_config.issuers.end(),
                     [&](const TrustedIssuer& i) { return permits(i, token_class); })) {
      return deny("no trusted issuer accepts " + std::string(token_class_name(token_class)) + " tokens", Category::kPolicy);
    }
    Misses misses;
    for (const TrustedIssuer& issuer : m_config.issuers) {
      Opened opened;
      auto note = [&](const Error& e) {
        const Miss m = e.category() == Category::kUnsupported ? Miss::kPolicy : Miss::kNoKey;
        misses.add(m, "issuer '" + issuer.id + "': " + e.detail());
      };
      if (jws) {
        auto verified = jose::verify(*jws, issuer.keys, issuer.policy);
        if (!verified) {
          if (verified.error().category() == Category::kUsage) return deny(verified.error().detail(), Category::kProtocol);
          note(verified.error());
          continue;
        }
        opened.claims = std::move(verified->payload);
        opened.alg = alg;
        opened.kid = verified->kids.front();
      } else {
        bool from_issuer = true;
        auto decrypted = jose::decrypt(*jwe, issuer.keys, issuer.policy);
        if (!decrypted && decrypted.error().category() != Category::kUsage && !m_config.decryption_keys.empty()) {
          from_issuer = false;
          auto own = jose::decrypt(*jwe, m_config.decryption_keys, issuer.policy);
          if (own || decrypted.error().category() == Category::kAuth) decrypted = std::move(own);
        }
        if (!decrypted) {
          if (decrypted.error().category() == Category::kUsage) return deny(decrypted.error().detail(), Category::kProtocol);
          note(decrypted.error());
          continue;
        }
        const std::string plaintext(as_text(decrypted->plaintext.view()));
        if (token_class == TokenClass::kEncrypted) {
          // TS-0003 Table 8.5.2.1-1: only a key shared with the issuer authenticates an encrypted token.
          if ((!from_issuer || !is_symmetric_management(alg)) && !issuer.allow_unauthenticated_encryption) {
            misses.add(Miss::kUnauthenticated, "an encryption-only token under " + alg +
                                                   " does not authenticate issuer '" + issuer.id + "'");
            continue;
          }
          opened.claims.assign(plaintext.begin(), plaintext.end());
          opened.alg = alg;
          opened.kid = decrypted->kid;
        } else {
          // Nested: the plaintext is a compact signed JWT, RS* or ES* (TS-0003 8.5.2.4), "typ":"JWT", no "cty".
          auto inner_parts = split_compact(plaintext, m_config.max_token_size);
          if (!inner_parts || inner_parts->size() != 3) return deny("the nested token does not carry a compact JWS", Category::kProtocol);
          M2MSEC_ASSIGN_OR_RETURN(const json::Object inner_header, decode_object((*inner_parts)[0], "the inner JOSE header"));
          if (!is_jwt_media_type(inner_header.find("typ")) || inner_header.contains("cty"))
            return deny("the inner JWS of a nested token needs \"typ\":\"JWT\" and no \"cty\" (TS-0003 7.3.2.6.2)", Category::kProtocol);
          const json::Value* inner_alg = inner_header.find("alg");
          if (inner_alg == nullptr || inner_alg->string() == nullptr || !jose::is_public_key_signature(*inner_alg->string()))
            return deny("the inner signature of a nested token must be RS* or ES* (TS-0003 8.5.2.4)", Category::kPolicy);
          auto inner = jose::Jws::parse(plaintext);
          if (!inner) return deny(inner.error().detail(), Category::kProtocol);
          auto verified = jose::verify(*inner, issuer.keys, issuer.policy.without_hmac());
          if (!verified) {
            if (verified.error().category() == Category::kUsage) return deny(verified.error().detail(), Category::kProtocol);
            note(verified.error());
            continue;
          }
          opened.claims = std::move(verified->payload);
          opened.alg = *inner_alg->string();
          opened.kid = verified->kids.front();
        }
      }
      // 3. The claim set, authenticated by this issuer's credentials.
      auto parsed = json::parse(as_text(opened.claims));
      if (!parsed) return deny("the claim set is not JSON", Category::kProtocol);
      auto claims = TokenClaimSet::from_jwt_claims(*parsed);
      if (!claims) return deny(claims.error().detail(), Category::kProtocol);
      if (claims->issuer != issuer.id) {
        misses.add(Miss::kIssuerMismatch, "the iss claim '" + claims->issuer +
                                              "' is not the issuer whose key verified the token ('" + issuer.id + "')");
        continue;
      }
      if (!permits(issuer, token_class)) {
        misses.add(Miss::kPolicy, "issuer '" + issuer.id + "' does not accept " +
                                      std::string(token_class_name(token_class)) + " tokens");
        continue;
      }
      out.claims = std::move(*claims);
      out.issuer = issuer.id;
      out.alg = std::move(opened.alg);
      out.kid = std::move(opened.kid);
      break;
    }
    if (out.issuer.empty()) {
      if (misses.worst == Miss::kNoKey) {
        const bool known = unverified_iss && std::any_of(m_config.issuers.begin(), m_config.issuers.end(),
                                                         [&](const TrustedIssuer& i) { return i.id == *unverified_iss; });
        if (unverified_iss && !known)
          return deny("issuer '" + *unverified_iss + "' is not trusted: no trusted issuer's key verifies the token");
        return deny("no trusted issuer's key verifies the token (" + misses.reason + ")");
      }
      return deny(misses.reason, misses.worst == Miss::kIssuerMismatch ? Category::kAuth : Category::kPolicy);
    }
  }

  // 4. Content (TS-0003 7.3.2.5, 7.3.2.3 step 7.1.3).
  const TokenClaimSet& c = out.claims;
  if (std::find(m_config.versions.begin(), m_config.versions.end(), c.version) == m_config.versions.end())
    return deny("unknown token version '" + c.version + "'", Category::kPolicy);
  const Instant now = std::chrono::floor<std::chrono::seconds>(m_config.clock->now());
  // from_jwt_claims checked the times lie in 1970-9999, so they format.
  if (now + m_config.clock_skew < c.not_before) return deny("not yet valid (notBefore " + format_m2m_timestamp(c.not_before).value() + ")", Category::kPolicy);
  if (now - m_config.clock_skew > c.not_after) return deny("expired (notAfter " + format_m2m_timestamp(c.not_after).value() + ")", Category::kPolicy);
  if (c.audience && !c.audience->empty()) {
    if (m_config.cse_id.empty()) return deny("the token names an audience and no CSE-ID is configured", Category::kPolicy);
    if (std::find(c.audience->begin(), c.audience->end(), m_config.cse_id) == c.audience->end())
      return deny("the audience does not name this CSE '" + m_config.cse_id + "'", Category::kPolicy);
  }
  if (!originator.empty() && c.holder != originator)
    return deny("the holder '" + c.holder + "' is not the originator '" + std::string(originator) + "'", Category::kPolicy);
  return out;
}

}  // namespace m2msec::authz

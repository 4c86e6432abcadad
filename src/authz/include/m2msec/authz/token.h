// oneM2M tokens as JWTs (TS-0003 V3.18.0 clauses 7.3.2.4-7.3.2.6; TS-0004 V3.32.0 m2m:tokenClaimSet,
// m2m:tokenPermissions, m2m:dynAuthJWT): the claim set in its oneM2M short-name form and in its JWT form
// (Table 7.3.2.6.2-1), issuing a token at a Token Issuer (DAS Server, Authorization Authority), and
// validating one at a Hosting CSE.
//
// Claim mapping (TS-0004 short name ⇄ JWT claim):
//   vr ⇄ tkvr   tkid ⇄ jti   tkhd ⇄ azp   tkis ⇄ iss   tknb ⇄ nbf   tkna ⇄ exp   tknm ⇄ tknm   tkau ⇄ aud
//   tkps ⇄ tkps   tkex ⇄ tkex
// TS-0003 names the version claim "tkvr" and TS-0004 gives the short name "vr": tokens are issued with
// "tkvr", and either is read (both at once is refused). tknb/tkna are m2m:timestamp "YYYYMMDDTHHMMSS" (UTC,
// no fraction, no zone), nbf/exp integer NumericDates. "aud" is issued as an array; a single string is read
// too (RFC 7519 clause 4.1.3). JWT claims this profile does not define are ignored (RFC 7519 clause 4).
//
// Forms (7.3.2.6.2), compact serialization only:
//   signed     JWS, protected header {"alg", ["kid",] "typ":"JWT"}, no "cty";
//   encrypted  JWE, protected header {"alg", "enc", ["kid",] "typ":"JWT"}, no "cty";
//   nested     a signed token (RS* or ES* only, TS-0003 8.5.2.4) as the plaintext of a JWE whose protected
//              header has "typ":"JWT" and "cty":"JWT";
//   unsecured  {"alg":"none","typ":"JWT"}, empty signature: issued only on request, accepted only from an
//              issuer configured to allow it (never by default).
//
// Validation (7.3.2.6.3, 7.3.2.5, 7.3.2.3 step 7.1.3) fails closed: every failure is an Error whose RSC is
// 4103 ORIGINATOR_HAS_NO_PRIVILEGE (the specification names no code; INTERPRETATION) and whose detail says
// why, for logs.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/clock.h"
#include "m2msec/core/result.h"
#include "m2msec/core/timestamp.h"
#include "m2msec/jose/algorithms.h"
#include "m2msec/jose/jwk.h"
#include "m2msec/json/json.h"

namespace m2msec::authz {

using Instant = std::chrono::sys_seconds;

// m2m:roleID and m2m:tokenID (TS-0001 7.1.14, 7.1.15): issuerRelativeID "@" issuerID, the relative part of
// letters, digits, '.', '_', '-', the issuer an all-lower-case FQDN.
bool is_role_or_token_id(std::string_view text);
// An m2m:ID as text (TS-0004 xs:anyURI): not empty, no space or control character.
bool is_m2m_id(std::string_view text);

// m2m:tokenPermissions {"pm":[m2m:tokenPermission...]}, each {"ris":[m2m:ID...], "pv":m2m:setOfAcrs,
// "rids":[m2m:roleID...]}. Structural checks of TS-0001 Table 9.6.39-3: "pv" requires "ris"; at least one of
// "pv" and "rids"; lists non-empty; no other members. The access-control rules inside "pv" ({"acr":[...]})
// are kept as they are, for the access decision to evaluate.
Result<void> check_permissions(const json::Value& permissions);

struct TokenClaimSet {
  std::string version = "1";
  std::string token_id;  // m2m:tokenID
  std::string holder;    // m2m:ID of the Originator the token is for
  std::string issuer;    // m2m:ID of the Token Issuer
  Instant not_before{};
  Instant not_after{};
  std::optional<std::string> token_name{};
  std::optional<std::vector<std::string>> audience{};  // CSE-IDs
  std::optional<json::Value> permissions{};            // m2m:tokenPermissions
  std::optional<std::string> extension{};

  // The short-name form: {"vr":"1","tkid":...,"tkhd":...,"tkis":...,"tknb":"20260101T000000",...}, times as
  // m2m:timestamp (core/timestamp.h), which the claim set limits to the years 1970-9999 (a non-negative
  // NumericDate). Reading accepts "tkvr" for "vr" and refuses members that are not claim-set elements;
  // writing fails only for times the format cannot hold.
  static Result<TokenClaimSet> from_short_names(const json::Value& value);
  Result<json::Value> to_short_names() const;

  // The JWT claim set of Table 7.3.2.6.2-1.
  static Result<TokenClaimSet> from_jwt_claims(const json::Value& claims);
  json::Value to_jwt_claims() const;

  // Mandatory elements present and well-formed, not_before <= not_after, permissions per check_permissions.
  Result<void> check() const;
};

// The ESData security class a token uses (7.3.2.6.2).
enum class TokenClass : std::uint8_t { kUnsecured, kSigned, kEncrypted, kNested };
std::string_view token_class_name(TokenClass c);  // "unsecured", "signed", "encrypted", "nested"

struct IssueOptions {
  TokenClass token_class = TokenClass::kSigned;
  // Signed and nested. alg defaults to the key's "alg", else HS256 / RS256 / ES256-ES512 by key type; nested
  // takes RS* and ES* only.
  const jose::Jwk* signing_key = nullptr;
  std::string sign_alg{};
  // Encrypted and nested. key_alg defaults to the key's "alg", else A128KW-A256KW by size, RSA-OAEP-256, or
  // ECDH-ES+A256KW.
  const jose::Jwk* encryption_key = nullptr;
  std::string key_alg{};
  std::string enc = "A256GCM";
};

// The m2m:dynAuthJWT for the claim set (checked first).
Result<std::string> issue_token(const TokenClaimSet& claims, const IssueOptions& options);

// What a Hosting CSE is configured with for one Token Issuer (7.3.2.6.3, "provided in a secure manner").
struct TrustedIssuer {
  std::string id;  // the "iss" its tokens carry
  // Its verification keys (public keys, shared HMAC keys) and the keys its tokens are encrypted under when
  // they are shared with it (symmetric "dir" / A*KW keys).
  std::vector<jose::Jwk> keys{};
  // The algorithms permitted for it (all of TS-0003 8.5.3 when empty) and the classes.
  jose::AlgorithmPolicy policy{};
  bool accept_signed = true;
  bool accept_encrypted = true;
  bool accept_nested = true;
  // "alg":"none" tokens claiming this issuer (no credential at all). Never by default.
  bool allow_unsecured = false;
  // An encryption-only token authenticates its issuer only when a key shared with that issuer ("dir",
  // A*KW) decrypts it; one that only the CSE's own private key decrypts (RSA-OAEP-256, ECDH-ES+A*KW) could
  // have been made by anyone holding the CSE's public key (TS-0003 Table 8.5.2.1-1: no source
  // verification). Such tokens are refused unless this is set.
  bool allow_unauthenticated_encryption = false;
};

struct ValidatorConfig {
  std::vector<TrustedIssuer> issuers{};
  // The Hosting CSE's own decryption keys (private keys tokens are encrypted to, whatever their issuer).
  std::vector<jose::Jwk> decryption_keys{};
  // The Hosting CSE's CSE-ID: a token with a non-empty audience must name it (exact, case-sensitive match;
  // no wildcards). A token with a non-empty audience is refused when this is empty.
  std::string cse_id{};
  std::chrono::seconds clock_skew{60};
  // Accepted "tkvr" values. TS-0003 7.3.2.4 says only "version of the token"; m2msec issues "1".
  std::vector<std::string> versions{"1"};
  // Largest token accepted, in octets.
  std::size_t max_token_size = 64 * 1024;
  std::shared_ptr<const Clock> clock{};  // default: the system clock
};

struct ValidatedToken {
  TokenClaimSet claims;
  TokenClass token_class = TokenClass::kSigned;
  std::string issuer;  // the configured issuer whose credentials verified it
  std::string alg;     // JWS "alg" (signed, nested inner) or JWE "alg" (encrypted)
  std::string kid;     // of the key that verified (signed, nested) or decrypted (encrypted); may be empty
};

class TokenValidator {
 public:
  explicit TokenValidator(ValidatorConfig config);

  // 7.3.2.6.3 validation of one m2m:dynAuthJWT: form, security (permitted class and algorithms for the
  // issuer whose key verified it), the claim mapping, then content: "iss" equals that issuer, version known,
  // audience (when not empty) names the CSE, holder equals `originator` (when given), nbf <= now <= exp
  // within the clock skew.
  Result<ValidatedToken> validate(std::string_view token, std::string_view originator = {}) const;

 private:
  ValidatorConfig m_config;
};

}  // namespace m2msec::authz

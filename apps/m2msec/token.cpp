// `m2msec token issue|verify`: oneM2M JWTs (TS-0003 V3.18.0 clause 7.3.2.6), compact serialization only.
//
// issue reads an m2m:tokenClaimSet in its short-name JSON form on stdin ({"vr":"1","tkid":...,"tknb":
// "20260101T000000",...}) and prints the m2m:dynAuthJWT and a newline. The class follows the keys: --key
// alone signs (JWS), --key with --encrypt-to signs then encrypts (nested), --class encrypted --encrypt-to
// encrypts only (JWE), --class unsecured makes an "alg":"none" token. Each key file holds exactly one key.
//
// verify reads one token on stdin and, when it is valid for the configured issuer, prints its claim set in
// the short-name form. --key holds the issuer's keys (public keys, shared HMAC or key-wrap keys),
// --decrypt-key the verifying CSE's own private keys for tokens encrypted to it; --audience is that CSE's
// CSE-ID (a token naming an audience is refused without it), --holder the Originator. A failure prints one
// line on stderr and nothing on stdout.
#include <charconv>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "jose_io.h"
#include "m2msec/authz/token.h"
#include "m2msec/json/json.h"

namespace m2msec::cli {
namespace {

Result<jose::Jwk> one_key(std::string_view path) {
  M2MSEC_ASSIGN_OR_RETURN(std::vector<jose::Jwk> keys, read_keys(path));
  if (keys.size() != 1) return Error::usage(std::string(path) + ": holds " + std::to_string(keys.size()) + " keys, name one");
  return std::move(keys.front());
}

Result<void> issue(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts,
                          Options::parse(args, {"key", "alg", "encrypt-to", "key-alg", "enc", "class"}));
  authz::IssueOptions options;
  const auto named = opts.get("class");
  if (!named) {
    options.token_class = opts.get("encrypt-to") ? authz::TokenClass::kNested : authz::TokenClass::kSigned;
  } else if (*named == "signed") {
    options.token_class = authz::TokenClass::kSigned;
  } else if (*named == "encrypted") {
    options.token_class = authz::TokenClass::kEncrypted;
  } else if (*named == "nested") {
    options.token_class = authz::TokenClass::kNested;
  } else if (*named == "unsecured") {
    options.token_class = authz::TokenClass::kUnsecured;
  } else {
    return Error::usage("--class must be signed, encrypted, nested or unsecured");
  }
  const bool signing = options.token_class == authz::TokenClass::kSigned || options.token_class == authz::TokenClass::kNested;
  const bool encrypting = options.token_class == authz::TokenClass::kEncrypted || options.token_class == authz::TokenClass::kNested;
  if (signing != opts.get("key").has_value())
    return Error::usage(signing ? "--key (the signing key) is needed" : "--key does not belong to this class");
  if (encrypting != opts.get("encrypt-to").has_value())
    return Error::usage(encrypting ? "--encrypt-to (the recipient key) is needed" : "--encrypt-to does not belong to this class");
  std::optional<jose::Jwk> signing_key;
  std::optional<jose::Jwk> encryption_key;
  if (signing) {
    M2MSEC_ASSIGN_OR_RETURN(signing_key, one_key(*opts.get("key")));
    options.signing_key = &*signing_key;
    options.sign_alg = std::string(opts.get("alg").value_or(""));
  }
  if (encrypting) {
    M2MSEC_ASSIGN_OR_RETURN(encryption_key, one_key(*opts.get("encrypt-to")));
    options.encryption_key = &*encryption_key;
    options.key_alg = std::string(opts.get("key-alg").value_or(""));
    options.enc = std::string(opts.get("enc").value_or("A256GCM"));
  }
  M2MSEC_ASSIGN_OR_RETURN(const std::string text, read_object());
  M2MSEC_ASSIGN_OR_RETURN(const json::Value value, json::parse(text));
  M2MSEC_ASSIGN_OR_RETURN(const authz::TokenClaimSet claims, authz::TokenClaimSet::from_short_names(value));
  M2MSEC_ASSIGN_OR_RETURN(const std::string token, authz::issue_token(claims, options));
  write_object(token);
  return {};
}

// --algs "ES256,A256KW,A256GCM": the issuer's permitted JWS algorithms, JWE key management and content
// encryption; every name must be one of TS-0003 8.5.3.
Result<jose::AlgorithmPolicy> policy_of(std::string_view list) {
  jose::AlgorithmPolicy policy;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const std::string_view name = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (const auto* s = jose::find_jws_algorithm(name)) {
      policy.jws.push_back(s->name);
    } else if (const auto* a = jose::find_jwe_algorithm(name)) {
      policy.jwe_alg.push_back(a->name);
    } else if (const auto* e = jose::find_jwe_encryption(name)) {
      policy.jwe_enc.push_back(e->name);
    } else {
      return Error::usage("--algs: '" + std::string(name) + "' is not a TS-0003 8.5.3 algorithm");
    }
  }
  return policy;
}

Result<void> verify(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts,
                          Options::parse(args, {"key", "issuer", "audience", "holder", "skew", "decrypt-key", "algs"},
                                         {"allow-unsecured", "allow-unauthenticated-encryption"}));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view key_path, opts.required("key"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view issuer_id, opts.required("issuer"));
  authz::TrustedIssuer issuer;
  issuer.id = std::string(issuer_id);
  M2MSEC_ASSIGN_OR_RETURN(issuer.keys, read_keys(key_path));
  issuer.allow_unsecured = opts.flag("allow-unsecured");
  issuer.allow_unauthenticated_encryption = opts.flag("allow-unauthenticated-encryption");
  if (const auto algs = opts.get("algs")) {
    M2MSEC_ASSIGN_OR_RETURN(issuer.policy, policy_of(*algs));
  }
  authz::ValidatorConfig config;
  config.issuers.push_back(std::move(issuer));
  if (const auto path = opts.get("decrypt-key")) {
    M2MSEC_ASSIGN_OR_RETURN(config.decryption_keys, read_keys(*path));
  }
  config.cse_id = std::string(opts.get("audience").value_or(""));
  if (const auto skew = opts.get("skew")) {
    unsigned long seconds = 0;
    const auto [end, ec] = std::from_chars(skew->data(), skew->data() + skew->size(), seconds);
    if (ec != std::errc{} || end != skew->data() + skew->size() || seconds > 86400)
      return Error::usage("--skew must be a number of seconds from 0 to 86400");
    config.clock_skew = std::chrono::seconds(seconds);
  }
  M2MSEC_ASSIGN_OR_RETURN(const std::string token, read_object());
  const authz::TokenValidator validator(std::move(config));
  M2MSEC_ASSIGN_OR_RETURN(const authz::ValidatedToken valid, validator.validate(token, opts.get("holder").value_or("")));
  M2MSEC_ASSIGN_OR_RETURN(const json::Value claims, valid.claims.to_short_names());
  write_object(json::serialize(claims));
  return {};
}

}  // namespace

Result<void> run_token(const std::vector<std::string_view>& args) {
  return dispatch("token", args, {{"issue", issue}, {"verify", verify}});
}

}  // namespace m2msec::cli

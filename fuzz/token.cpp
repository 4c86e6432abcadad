// Fuzz target: oneM2M JWT validation (authz::TokenValidator) with a fixed trusted key set, and the same input as
// an ESData compact envelope, an m2m:timestamp and an m2m:contentInfo:
//   nothing crashes, whatever the input;
//   an accepted token is from the configured issuer, for the configured holder, valid now within the skew,
//     and its claim set survives both mappings (JWT claims and short names) unchanged;
//   an accepted m2m:timestamp formats back to the same text; an accepted contentInfo re-parses to itself.
// The keys are fuzzing fixtures, computed at start-up from public labels so that the corpus in
// fuzz/corpus/token/ holds tokens that verify, with no key material in the repository: an EC P-256 key whose
// scalar is SHA-256("m2msec fuzz fixture fz-ec") (ES256 and ECDH-ES), an HS256 key 00 01 .. 1f and an
// A256KW key 20 21 .. 3f.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/authz/token.h"
#include "m2msec/core/timestamp.h"
#include "m2msec/crypto/hash.h"
#include "m2msec/crypto/signature.h"
#include "m2msec/e2e/esdata.h"
#include "m2msec/jose/jwk.h"
#include "m2msec/json/json.h"

namespace {

using namespace m2msec;

constexpr std::string_view kIssuer = "//fuzz.example.com/CIN/Cdas";
constexpr std::string_view kHolder = "//fuzz.example.com/CSE1/Capp";
constexpr std::int64_t kNow = 1767227400;  // 2026-01-01T00:30:00Z

struct Setup {
  std::vector<jose::Jwk> keys;
  std::unique_ptr<authz::TokenValidator> validator;
  std::shared_ptr<const Clock> clock = std::make_shared<ManualClock>(Clock::TimePoint(std::chrono::seconds(kNow)));

  Setup() {
    const std::string_view label = "m2msec fuzz fixture fz-ec";
    auto d = crypto::Hash::sha256().digest(ByteView(reinterpret_cast<const std::uint8_t*>(label.data()), label.size()));
    auto ec = crypto::SignatureScheme::named("ecdsa-p256-sha256").value().private_key_from_raw(*d);
    if (!ec) __builtin_trap();
    keys.push_back(jose::Jwk::from_private_key(std::move(*ec), "fz-ec").value());
    for (auto [kid, first] : {std::pair{"fz-hs", 0x00}, std::pair{"fz-kw", 0x20}}) {
      SecretBytes k(32);
      for (std::size_t i = 0; i < k.size(); ++i) k.data()[i] = static_cast<std::uint8_t>(first + static_cast<int>(i));
      keys.push_back(jose::Jwk::symmetric(std::move(k), kid));
    }
    authz::ValidatorConfig config;
    authz::TrustedIssuer issuer;
    issuer.id = std::string(kIssuer);
    issuer.keys = keys;
    issuer.allow_unsecured = true;  // so that the claim-set code is reached without a signature too
    config.issuers.push_back(std::move(issuer));
    config.cse_id = "//fuzz.example.com/CSE2";
    config.clock = clock;
    validator = std::make_unique<authz::TokenValidator>(std::move(config));
  }
};

std::string short_form(const authz::TokenClaimSet& c) { return json::serialize(c.to_short_names().value()); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Setup setup;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto valid = setup.validator->validate(text, kHolder)) {
    const authz::TokenClaimSet& c = valid->claims;
    if (valid->issuer != kIssuer || c.issuer != kIssuer || c.holder != kHolder) __builtin_trap();
    const authz::Instant now{std::chrono::seconds(kNow)};
    if (now + std::chrono::seconds(60) < c.not_before || now - std::chrono::seconds(60) > c.not_after) __builtin_trap();
    auto from_jwt = authz::TokenClaimSet::from_jwt_claims(c.to_jwt_claims());
    auto from_short = authz::TokenClaimSet::from_short_names(c.to_short_names().value());
    if (!from_jwt || !from_short || short_form(*from_jwt) != short_form(c) || short_form(*from_short) != short_form(c))
      __builtin_trap();
  }

  e2e::UnprotectOptions options;
  options.decryption_keys = setup.keys;
  options.verification_keys = setup.keys;
  (void)e2e::unprotect(text, options);

  if (auto t = parse_m2m_timestamp(text); t && format_m2m_timestamp(*t).value() != text) __builtin_trap();
  if (auto info = e2e::parse_content_info(text)) {
    auto again = e2e::parse_content_info(e2e::format_content_info(*info));
    if (!again || again->media_type != info->media_type || again->encoding != info->encoding ||
        again->security != info->security)
      __builtin_trap();
  }
  return 0;
}

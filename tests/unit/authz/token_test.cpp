// oneM2M JWTs (TS-0003 V3.18.0 7.3.2.4-7.3.2.6): m2m:timestamp ⇄ NumericDate, the claim mapping of Table
// 7.3.2.6.2-1, the permission structure checks of TS-0001 Table 9.6.39-3, the header profile of each
// class, and validation with its refusals (untrusted issuer, issuer mismatch, class or algorithm not
// permitted for the issuer, "alg":"none", HMAC key confusion, tampering, audience, holder, time with skew,
// version). Interop with jwcrypto is tests/cli/test_e2e_cli.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "m2msec/authz/token.h"
#include "m2msec/core/encoding.h"
#include "m2msec/jose/jwe.h"
#include "m2msec/jose/jws.h"

namespace m2msec::authz {
namespace {

using std::chrono::seconds;

jose::Jwk key_for(std::string_view alg, std::string kid) {
  auto made = jose::Jwk::generate(alg);
  EXPECT_TRUE(made) << made.error().to_string();
  jose::Jwk key = std::move(made).value();
  key.set_alg("");
  key.set_kid(std::move(kid));
  return key;
}

jose::Jwk public_of(const jose::Jwk& key) { return std::move(key.public_only()).value(); }

struct Keys {
  jose::Jwk issuer_ec = key_for("ES256", "das-es256");
  jose::Jwk issuer_rsa = key_for("RS256", "das-rs256");
  jose::Jwk issuer_mac = key_for("HS256", "das-hs256");
  jose::Jwk shared_kw = key_for("A256KW", "das-kw");
  jose::Jwk cse_rsa = key_for("RSA-OAEP-256", "cse2-oaep");
  jose::Jwk other_ec = key_for("ES256", "other-es256");
};
const Keys& keys() {
  static const Keys k;
  return k;
}

constexpr std::int64_t kNbf = 1767225600;  // 2026-01-01T00:00:00Z
constexpr std::int64_t kExp = 1767229200;  // 2026-01-01T01:00:00Z
const std::string kIssuer = "//sp.example.com/CIN/Cdas";
const std::string kHolder = "//sp.example.com/CSE1/Capp";
const std::string kCse = "//sp.example.com/CSE2";


TokenClaimSet claims() {
  auto value = json::parse(
      R"({"vr":"1","tkid":"t42@das.example.com","tkhd":"//sp.example.com/CSE1/Capp","tkis":"//sp.example.com/CIN/Cdas",)"
      R"("tknb":"20260101T000000","tkna":"20260101T010000","tkau":["//sp.example.com/CSE2"],)"
      R"("tkps":{"pm":[{"ris":["//sp.example.com/CSE2/cnt1"],"pv":{"acr":[{"acor":["//sp.example.com/CSE1/Capp"],"acop":2}]}}]}})");
  EXPECT_TRUE(value);
  auto c = TokenClaimSet::from_short_names(*value);
  EXPECT_TRUE(c) << c.error().to_string();
  return std::move(c).value();
}

std::string issue(const TokenClaimSet& c, TokenClass cls, const jose::Jwk* sign, const jose::Jwk* enc,
                  std::string sign_alg = {}, std::string key_alg = {}) {
  IssueOptions o;
  o.token_class = cls;
  o.signing_key = sign;
  o.encryption_key = enc;
  o.sign_alg = std::move(sign_alg);
  o.key_alg = std::move(key_alg);
  auto token = issue_token(c, o);
  EXPECT_TRUE(token) << token.error().to_string();
  return token ? *token : std::string();
}

ValidatorConfig config(std::int64_t now = kNbf + 60) {
  const Keys& k = keys();
  ValidatorConfig c;
  TrustedIssuer das;
  das.id = kIssuer;
  das.keys = {public_of(k.issuer_ec), public_of(k.issuer_rsa), k.issuer_mac, k.shared_kw};
  c.issuers.push_back(das);
  TrustedIssuer other;
  other.id = "//sp.example.com/CIN/Cother";
  other.keys = {public_of(k.other_ec)};
  c.issuers.push_back(other);
  c.decryption_keys = {k.cse_rsa};
  c.cse_id = kCse;
  c.clock = std::make_shared<ManualClock>(Clock::TimePoint(seconds(now)));
  return c;
}

ValidatedToken accepted(const std::string& token, const ValidatorConfig& c, std::string_view originator = kHolder) {
  auto v = TokenValidator(c).validate(token, originator);
  EXPECT_TRUE(v) << v.error().to_string();
  return v ? std::move(v).value() : ValidatedToken{};
}

// Refused with 4103 and a detail containing `why`.
void refused(const std::string& token, const ValidatorConfig& c, std::string_view why, std::string_view originator = kHolder) {
  auto v = TokenValidator(c).validate(token, originator);
  ASSERT_FALSE(v) << "accepted, expected: " << why;
  EXPECT_EQ(v.error().rsc(), Rsc::kOriginatorHasNoPrivilege);
  EXPECT_NE(v.error().detail().find(why), std::string::npos) << v.error().detail() << " / wanted: " << why;
}

json::Object header_of(std::string_view token) {
  auto bytes = base64url_decode(token.substr(0, token.find('.')));
  EXPECT_TRUE(bytes);
  auto v = json::parse(as_text(*bytes));
  EXPECT_TRUE(v && v->object());
  return *v->object();
}

// ---- m2m:timestamp, identifiers, permissions ------------------------------------------------------------

TEST(TokenIds, RoleAndTokenIds) {
  EXPECT_TRUE(is_role_or_token_id("1234abcd@role-issuer.com"));
  EXPECT_TRUE(is_role_or_token_id("t.4_2-x@das.example.com"));
  for (std::string_view bad : {"1234abcd@Role-Issuer.com", "@a.com", "a@", "a b@x.com", "a@b@c.com", "a@-x.com",
                               "a@x..com", "a@x.com.", "a/b@x.com", "nobody"}) {
    EXPECT_FALSE(is_role_or_token_id(bad)) << bad;
  }
}

TEST(TokenPermissions, StructureOfTable9639) {
  auto check = [](std::string_view text) { return check_permissions(*json::parse(text)); };
  EXPECT_TRUE(check(R"({"pm":[{"ris":["//sp/CSE2/cnt1"],"pv":{"acr":[{"acor":["all"],"acop":63}]}}]})"));
  EXPECT_TRUE(check(R"({"pm":[{"rids":["r1@role-issuer.com"]}]})"));
  EXPECT_TRUE(check(R"({"pm":[{"ris":["//sp/CSE2/cnt1"],"rids":["r1@role-issuer.com"]}]})"));
  EXPECT_TRUE(check(R"({"pm":[]})"));
  EXPECT_TRUE(check(R"({})"));
  EXPECT_FALSE(check(R"({"pm":[{"pv":{"acr":[]}}]})"));                // privileges without resourceIDs
  EXPECT_FALSE(check(R"({"pm":[{"ris":["//sp/CSE2/cnt1"]}]})"));       // neither privileges nor roleIDs
  EXPECT_FALSE(check(R"({"pm":[{"rids":["Role@X.com"]}]})"));          // not an m2m:roleID
  EXPECT_FALSE(check(R"({"pm":[{"rids":[]}]})"));
  EXPECT_FALSE(check(R"({"pm":[{"rids":["r@x.com"],"other":1}]})"));
  EXPECT_FALSE(check(R"({"pm":{}})"));
  EXPECT_FALSE(check(R"({"permission":[]})"));
  EXPECT_FALSE(check(R"({"pm":[{"ris":["a"],"pv":{"acr":{}}}]})"));
  EXPECT_FALSE(check(R"({"pm":[{"ris":["a"],"pv":[]}]})"));
  EXPECT_FALSE(check(R"([])"));
}

// ---- the claim set and its JWT mapping ------------------------------------------------------------------

TEST(TokenClaims, JwtMappingOfTable7326) {
  const TokenClaimSet c = claims();
  EXPECT_EQ(json::serialize(c.to_jwt_claims()),
            R"({"tkvr":"1","jti":"t42@das.example.com","iss":"//sp.example.com/CIN/Cdas","azp":"//sp.example.com/CSE1/Capp",)"
            R"("nbf":1767225600,"exp":1767229200,"aud":["//sp.example.com/CSE2"],)"
            R"("tkps":{"pm":[{"ris":["//sp.example.com/CSE2/cnt1"],"pv":{"acr":[{"acor":["//sp.example.com/CSE1/Capp"],"acop":2}]}}]}})");
  auto back = TokenClaimSet::from_jwt_claims(c.to_jwt_claims());
  ASSERT_TRUE(back);
  EXPECT_EQ(json::serialize(back->to_short_names().value()), json::serialize(c.to_short_names().value()));
  EXPECT_EQ(json::serialize(c.to_short_names().value()),
            R"({"vr":"1","tkid":"t42@das.example.com","tkhd":"//sp.example.com/CSE1/Capp","tkis":"//sp.example.com/CIN/Cdas",)"
            R"("tknb":"20260101T000000","tkna":"20260101T010000","tkau":["//sp.example.com/CSE2"],)"
            R"("tkps":{"pm":[{"ris":["//sp.example.com/CSE2/cnt1"],"pv":{"acr":[{"acor":["//sp.example.com/CSE1/Capp"],"acop":2}]}}]}})");
}

TEST(TokenClaims, ReadingAcceptsVrAndASingleAudienceString) {
  auto vr = TokenClaimSet::from_jwt_claims(*json::parse(
      R"({"vr":"1","jti":"a@b.com","iss":"i","azp":"h","nbf":0,"exp":10,"aud":"//sp/CSE2","sub":"ignored","iat":5})"));
  ASSERT_TRUE(vr) << vr.error().to_string();
  EXPECT_EQ(vr->version, "1");
  EXPECT_EQ(vr->audience, std::vector<std::string>{"//sp/CSE2"});
  for (std::string_view bad : {
           R"({"vr":"1","tkvr":"1","jti":"a@b.com","iss":"i","azp":"h","nbf":0,"exp":10})",  // both version names
           R"({"jti":"a@b.com","iss":"i","azp":"h","nbf":0,"exp":10})",                     // no version
           R"({"tkvr":"1","iss":"i","azp":"h","nbf":0,"exp":10})",                          // no jti
           R"({"tkvr":"1","jti":"a@b.com","azp":"h","nbf":0,"exp":10})",                    // no iss
           R"({"tkvr":"1","jti":"a@b.com","iss":"i","nbf":0,"exp":10})",                    // no azp
           R"({"tkvr":"1","jti":"a@b.com","iss":"i","azp":"h","exp":10})",                  // no nbf
           R"({"tkvr":"1","jti":"a@b.com","iss":"i","azp":"h","nbf":0.5,"exp":10})",        // fractional NumericDate
           R"({"tkvr":"1","jti":"a@b.com","iss":"i","azp":"h","nbf":-1,"exp":10})",
           R"({"tkvr":"1","jti":"a@b.com","iss":"i","azp":"h","nbf":"0","exp":10})",
           R"({"tkvr":"1","jti":"a@b.com","iss":"i","azp":"h","nbf":20,"exp":10})",         // nbf after exp
           R"({"tkvr":"1","jti":"a@b.com","iss":"i","azp":"h","nbf":0,"exp":253402300800})",
           R"({"tkvr":"1","jti":"not-a-token-id","iss":"i","azp":"h","nbf":0,"exp":10})",
           R"({"tkvr":"1","jti":"a@b.com","iss":"i","azp":"h","nbf":0,"exp":10,"aud":[1]})",
           R"({"tkvr":"1","jti":"a@b.com","iss":"i","azp":"h","nbf":0,"exp":10,"tkps":{"pm":[{"pv":{}}]}})",
           R"({"tkvr":1,"jti":"a@b.com","iss":"i","azp":"h","nbf":0,"exp":10})",
           R"({"tkvr":"1","jti":"a@b.com","iss":"","azp":"h","nbf":0,"exp":10})",
           R"([])"}) {
    EXPECT_FALSE(TokenClaimSet::from_jwt_claims(*json::parse(bad))) << bad;
  }
}

TEST(TokenClaims, ShortNamesAreStrict) {
  EXPECT_FALSE(TokenClaimSet::from_short_names(*json::parse(
      R"({"vr":"1","tkid":"a@b.com","tkhd":"h","tkis":"i","tknb":"20260101T000000","tkna":"20260101T010000","iss":"x"})")));
  EXPECT_FALSE(TokenClaimSet::from_short_names(
      *json::parse(R"({"vr":"1","tkid":"a@b.com","tkhd":"h","tkis":"i","tknb":1767225600,"tkna":"20260101T010000"})")));
  auto tkvr = TokenClaimSet::from_short_names(*json::parse(
      R"({"tkvr":"1","tkid":"a@b.com","tkhd":"h","tkis":"i","tknb":"20260101T000000","tkna":"20260101T010000","tknm":"n","tkex":"e"})"));
  ASSERT_TRUE(tkvr) << tkvr.error().to_string();
  EXPECT_EQ(tkvr->token_name, "n");
  EXPECT_EQ(tkvr->extension, "e");
  // Times follow the strict m2m:timestamp codec (core_test/M2mTimestamp.*) and lie in 1970-9999, the range of a
  // non-negative NumericDate.
  for (std::string_view nb : {"19691231T235959", "20260101T000000Z", "20260230T000000"}) {
    EXPECT_FALSE(TokenClaimSet::from_short_names(*json::parse(
        R"({"vr":"1","tkid":"a@b.com","tkhd":"h","tkis":"i","tknb":")" + std::string(nb) + R"(","tkna":"20260101T010000"})")))
        << nb;
  }
  TokenClaimSet early = *tkvr;
  early.not_before = Instant(seconds(-1));
  EXPECT_FALSE(early.check());
}

// ---- issuing: headers of 7.3.2.6.2 ---------------------------------------------------------------------

TEST(TokenIssue, SignedTokenHeader) {
  const std::string token = issue(claims(), TokenClass::kSigned, &keys().issuer_ec, nullptr);
  EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);
  const json::Object h = header_of(token);
  EXPECT_EQ(*h.find("alg")->string(), "ES256");
  EXPECT_EQ(*h.find("typ")->string(), "JWT");
  EXPECT_FALSE(h.contains("cty"));
  EXPECT_EQ(*h.find("kid")->string(), "das-es256");
}

TEST(TokenIssue, EncryptedTokenHeader) {
  const std::string token = issue(claims(), TokenClass::kEncrypted, nullptr, &keys().shared_kw);
  EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 4);
  const json::Object h = header_of(token);
  EXPECT_EQ(*h.find("alg")->string(), "A256KW");
  EXPECT_EQ(*h.find("enc")->string(), "A256GCM");
  EXPECT_EQ(*h.find("typ")->string(), "JWT");
  EXPECT_FALSE(h.contains("cty"));
}

TEST(TokenIssue, NestedTokenHeaders) {
  const Keys& k = keys();
  const std::string token = issue(claims(), TokenClass::kNested, &k.issuer_rsa, &k.cse_rsa);
  const json::Object h = header_of(token);
  EXPECT_EQ(*h.find("alg")->string(), "RSA-OAEP-256");
  EXPECT_EQ(*h.find("typ")->string(), "JWT");
  EXPECT_EQ(*h.find("cty")->string(), "JWT");
  auto jwe = jose::Jwe::parse(token);
  ASSERT_TRUE(jwe);
  auto plain = jose::decrypt(*jwe, std::span(&k.cse_rsa, 1));
  ASSERT_TRUE(plain);
  const std::string inner(as_text(plain->plaintext.view()));
  const json::Object ih = header_of(inner);
  EXPECT_EQ(*ih.find("alg")->string(), "RS256");
  EXPECT_EQ(*ih.find("typ")->string(), "JWT");
  EXPECT_FALSE(ih.contains("cty"));
}

TEST(TokenIssue, NestedRefusesHmacAndEveryClassChecksTheClaims) {
  const Keys& k = keys();
  IssueOptions o;
  o.token_class = TokenClass::kNested;
  o.signing_key = &k.issuer_mac;
  o.encryption_key = &k.shared_kw;
  auto r = issue_token(claims(), o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().detail().find("8.5.2.4"), std::string::npos);
  TokenClaimSet bad = claims();
  bad.token_id = "no-at-sign";
  o.token_class = TokenClass::kSigned;
  o.signing_key = &k.issuer_ec;
  EXPECT_FALSE(issue_token(bad, o));
  o.signing_key = nullptr;
  EXPECT_FALSE(issue_token(claims(), o));
}

// ---- validation: every class ---------------------------------------------------------------------------

TEST(TokenValidate, AcceptsEachSecuredClass) {
  const Keys& k = keys();
  const ValidatorConfig c = config();
  struct Case {
    TokenClass cls;
    const jose::Jwk* sign;
    const jose::Jwk* enc;
    std::string alg;
    std::string kid;
  };
  for (const Case& x : std::vector<Case>{{TokenClass::kSigned, &k.issuer_ec, nullptr, "ES256", "das-es256"},
                                         {TokenClass::kSigned, &k.issuer_rsa, nullptr, "RS256", "das-rs256"},
                                         {TokenClass::kSigned, &k.issuer_mac, nullptr, "HS256", "das-hs256"},
                                         {TokenClass::kEncrypted, nullptr, &k.shared_kw, "A256KW", "das-kw"},
                                         {TokenClass::kNested, &k.issuer_ec, &k.cse_rsa, "ES256", "das-es256"},
                                         {TokenClass::kNested, &k.issuer_rsa, &k.shared_kw, "RS256", "das-rs256"}}) {
    const ValidatedToken v = accepted(issue(claims(), x.cls, x.sign, x.enc), c);
    EXPECT_EQ(v.token_class, x.cls);
    EXPECT_EQ(v.issuer, kIssuer);
    EXPECT_EQ(v.alg, x.alg);
    EXPECT_EQ(v.kid, x.kid);
    EXPECT_EQ(json::serialize(v.claims.to_short_names().value()), json::serialize(claims().to_short_names().value()));
  }
}

TEST(TokenValidate, UnsecuredTokensOnlyWhenTheIssuerAllowsThem) {
  const std::string token = issue(claims(), TokenClass::kUnsecured, nullptr, nullptr);
  EXPECT_EQ(token.back(), '.');
  EXPECT_EQ(*header_of(token).find("alg")->string(), "none");
  ValidatorConfig c = config();
  refused(token, c, "unsecured");
  c.issuers.front().allow_unsecured = true;
  EXPECT_EQ(accepted(token, c).token_class, TokenClass::kUnsecured);
  refused(token + "AAAA", c, "empty signature");
  // An unsecured token naming an issuer nobody trusts.
  TokenClaimSet stranger = claims();
  stranger.issuer = "//sp.example.com/CIN/Cnobody";
  refused(issue(stranger, TokenClass::kUnsecured, nullptr, nullptr), c, "not trusted");
}

TEST(TokenValidate, EncryptionToTheCseKeyDoesNotAuthenticateTheIssuer) {
  const Keys& k = keys();
  const jose::Jwk cse_public = public_of(k.cse_rsa);
  const std::string token = issue(claims(), TokenClass::kEncrypted, nullptr, &cse_public);
  ValidatorConfig c = config();
  refused(token, c, "does not authenticate");
  c.issuers.front().allow_unauthenticated_encryption = true;
  EXPECT_EQ(accepted(token, c).token_class, TokenClass::kEncrypted);
}

// ---- validation: issuers, classes, algorithms ----------------------------------------------------------

TEST(TokenValidate, UntrustedIssuerAndIssuerMismatch) {
  const Keys& k = keys();
  const ValidatorConfig c = config();
  TokenClaimSet stranger = claims();
  stranger.issuer = "//sp.example.com/CIN/Cnobody";
  const jose::Jwk rogue = key_for("ES256", "das-es256");
  refused(issue(stranger, TokenClass::kSigned, &rogue, nullptr), c, "'//sp.example.com/CIN/Cnobody' is not trusted");
  // A trusted issuer's key cannot speak for an issuer nobody trusts.
  refused(issue(stranger, TokenClass::kSigned, &k.other_ec, nullptr), c, "is not the issuer whose key verified");
  // Signed with an unknown key in the trusted issuer's name.
  refused(issue(claims(), TokenClass::kSigned, &rogue, nullptr), c, "no trusted issuer's key verifies");
  // Signed by the other trusted issuer, claiming to be the DAS.
  refused(issue(claims(), TokenClass::kSigned, &k.other_ec, nullptr), c, "is not the issuer whose key verified");
  TokenClaimSet other = claims();
  other.issuer = "//sp.example.com/CIN/Cother";
  EXPECT_EQ(accepted(issue(other, TokenClass::kSigned, &k.other_ec, nullptr), c).issuer, "//sp.example.com/CIN/Cother");
  // The DAS's key, the other issuer's name.
  refused(issue(other, TokenClass::kSigned, &k.issuer_ec, nullptr), c, "is not the issuer whose key verified");
}

TEST(TokenValidate, ClassAndAlgorithmMustBePermittedForTheIssuer) {
  const Keys& k = keys();
  ValidatorConfig c = config();
  c.issuers.front().accept_encrypted = false;
  c.issuers.front().accept_nested = false;
  refused(issue(claims(), TokenClass::kEncrypted, nullptr, &k.shared_kw), c, "does not accept encrypted tokens");
  refused(issue(claims(), TokenClass::kNested, &k.issuer_ec, &k.cse_rsa), c, "does not accept nested tokens");
  c.issuers.back().accept_nested = false;
  refused(issue(claims(), TokenClass::kNested, &k.issuer_ec, &k.cse_rsa), c, "no trusted issuer accepts nested tokens");
  c = config();
  c.issuers.front().policy.jws = {"RS256"};
  refused(issue(claims(), TokenClass::kSigned, &k.issuer_ec, nullptr), c, "not permitted");
  EXPECT_TRUE(TokenValidator(c).validate(issue(claims(), TokenClass::kSigned, &k.issuer_rsa, nullptr), kHolder));
  c = config();
  c.issuers.front().policy.jwe_alg = {"RSA-OAEP-256"};
  refused(issue(claims(), TokenClass::kEncrypted, nullptr, &k.shared_kw), c, "not permitted");
}

TEST(TokenValidate, HmacKeyConfusionIsRefused) {
  const Keys& k = keys();
  // An HS256 token whose secret is the issuer's public RSA key, as an attacker would make it.
  const std::string public_text = json::serialize(*public_of(k.issuer_rsa).to_json(false));
  const jose::Jwk confused = jose::Jwk::symmetric(SecretBytes::copy_of(as_bytes(public_text)), "das-rs256");
  refused(issue(claims(), TokenClass::kSigned, &confused, nullptr), config(), "no trusted issuer's key verifies");
}

TEST(TokenValidate, NestedWithAnHmacInnerSignatureIsRefused) {
  const Keys& k = keys();
  // Made by hand: HS256 JWS, then a JWE with "cty":"JWT".
  IssueOptions o;
  o.token_class = TokenClass::kSigned;
  o.signing_key = &k.issuer_mac;
  const std::string inner = *issue_token(claims(), o);
  const jose::Recipient recipient{&k.shared_kw, "A256KW"};
  jose::EncryptOptions eo;
  eo.enc = "A256GCM";
  eo.protected_header.set("typ", "JWT");
  eo.protected_header.set("cty", "JWT");
  const std::string token = *jose::encrypt(as_bytes(inner), std::span(&recipient, 1), eo)->serialize(jose::Serialization::kCompact);
  refused(token, config(), "8.5.2.4");
}

TEST(TokenValidate, TamperingAndMalformedTokens) {
  const Keys& k = keys();
  const ValidatorConfig c = config();
  std::string token = issue(claims(), TokenClass::kSigned, &k.issuer_ec, nullptr);
  // Change the payload: holder swapped for another AE.
  const std::size_t a = token.find('.'), b = token.rfind('.');
  const Bytes payload = *base64url_decode(token.substr(a + 1, b - a - 1));
  std::string text(as_text(payload));
  text.replace(text.find("Capp"), 4, "Cevl");
  const std::string forged = token.substr(0, a + 1) + base64url_encode(as_bytes(text)) + token.substr(b);
  refused(forged, c, "no trusted issuer's key verifies", "//sp.example.com/CSE1/Cevl");
  std::string enc = issue(claims(), TokenClass::kEncrypted, nullptr, &k.shared_kw);
  enc[enc.rfind('.') - 3] ^= 1;
  refused(enc, c, "", kHolder);
  refused("", c, "empty");
  refused("a.b", c, "three or five parts");
  refused("a.b.c.d", c, "three or five parts");
  refused(token + " ", c, "outside base64url");
  refused("{\"payload\":\"x\"}", c, "outside base64url");
  refused(std::string(token.substr(a)), c, "empty header");
  ValidatorConfig small = c;
  small.max_token_size = 100;
  refused(token, small, "larger than");
}

TEST(TokenValidate, HeaderProfileIsEnforced) {
  const Keys& k = keys();
  const ValidatorConfig c = config();
  const std::string payload = json::serialize(claims().to_jwt_claims());
  auto sign_with = [&](json::Object extra) {
    const jose::Signer s{&k.issuer_ec, "ES256", std::move(extra)};
    return *jose::sign(as_bytes(payload), std::span(&s, 1))->serialize(jose::Serialization::kCompact);
  };
  refused(sign_with({}), c, "typ");
  refused(sign_with({{"typ", json::Value("JOSE")}}), c, "typ");
  refused(sign_with({{"typ", json::Value("JWT")}, {"cty", json::Value("JWT")}}), c, "cty");
  EXPECT_TRUE(TokenValidator(c).validate(sign_with({{"typ", json::Value("jwt")}}), kHolder));
  const jose::Recipient r{&k.shared_kw, "A256KW"};
  jose::EncryptOptions eo;
  eo.protected_header.set("typ", "JWT");
  eo.protected_header.set("cty", "json");
  refused(*jose::encrypt(as_bytes(payload), std::span(&r, 1), eo)->serialize(jose::Serialization::kCompact), c, "cty");
}

// ---- validation: content -------------------------------------------------------------------------------

TEST(TokenValidate, TimeWithClockSkew) {
  const std::string token = issue(claims(), TokenClass::kSigned, &keys().issuer_ec, nullptr);
  accepted(token, config(kNbf - 60));
  refused(token, config(kNbf - 61), "not yet valid");
  accepted(token, config(kExp + 60));
  refused(token, config(kExp + 61), "expired");
  ValidatorConfig strict = config(kNbf - 1);
  strict.clock_skew = seconds(0);
  refused(token, strict, "not yet valid");
  strict = config(kExp);
  strict.clock_skew = seconds(0);
  accepted(token, strict);  // notAfter itself is still valid
  strict = config(kExp + 1);
  strict.clock_skew = seconds(0);
  refused(token, strict, "expired");
}

TEST(TokenValidate, AudienceHolderAndVersion) {
  const Keys& k = keys();
  const std::string token = issue(claims(), TokenClass::kSigned, &k.issuer_ec, nullptr);
  ValidatorConfig c = config();
  c.cse_id = "//sp.example.com/CSE3";
  refused(token, c, "audience");
  c.cse_id.clear();
  refused(token, c, "no CSE-ID");
  TokenClaimSet open = claims();
  open.audience = std::vector<std::string>{};
  accepted(issue(open, TokenClass::kSigned, &k.issuer_ec, nullptr), c);  // an empty audience restricts nothing
  open.audience.reset();
  accepted(issue(open, TokenClass::kSigned, &k.issuer_ec, nullptr), c);

  refused(token, config(), "holder", "//sp.example.com/CSE1/Cother");
  accepted(token, config(), "");  // no originator given: holder not compared

  TokenClaimSet v2 = claims();
  v2.version = "2";
  const std::string t2 = issue(v2, TokenClass::kSigned, &k.issuer_ec, nullptr);
  refused(t2, config(), "version");
  c = config();
  c.versions = {"1", "2"};
  accepted(t2, c);
}

}  // namespace
}  // namespace m2msec::authz

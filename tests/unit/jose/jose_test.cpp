// JWK, JWS and JWE: RFC known answers, every permitted algorithm in every serialization, and the
// refusals (tampering, wrong keys, "none", algorithms outside TS-0003 8.5.3, key confusion, "crit",
// duplicate and overlapping header members, compression, sizes). Interop with independent
// implementations is tests/interop/test_jose.py.
#include <gtest/gtest.h>

#include <string>

#include "m2msec/core/encoding.h"
#include "m2msec/crypto/hash.h"
#include "m2msec/jose/jwe.h"
#include "m2msec/jose/jwk.h"
#include "m2msec/jose/jws.h"

namespace m2msec::jose {
namespace {

ByteView bytes_of(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }
std::string text_of(ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

Jwk must(Result<Jwk> r) {
  EXPECT_TRUE(r) << r.error().to_string();
  return std::move(r).value();
}

// RFC 7515 Appendix A.1: the HS256 example, verified exactly as printed (its header has CR LF inside).
TEST(Jws, VerifiesTheRfc7515HmacExample) {
  const Jwk key = must(Jwk::parse(
      R"({"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"})"));
  const std::string compact =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
      "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  auto jws = Jws::parse(compact);
  ASSERT_TRUE(jws) << jws.error().to_string();
  auto verified = verify(*jws, std::span(&key, 1));
  ASSERT_TRUE(verified) << verified.error().to_string();
  EXPECT_EQ(text_of(verified->payload), "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}");
  auto again = jws->serialize(Serialization::kCompact);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, compact);  // the received header octets are kept, not re-serialized
}

// RFC 7638 clause 3.1: the thumbprint of the example RSA key.
TEST(Jwk, ThumbprintOfTheRfc7638Example) {
  const Jwk key = must(Jwk::parse(
      R"({"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"})"));
  auto t = key.thumbprint();
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(Jwk, PrivateAndPublicFormsRoundTrip) {
  for (std::string_view alg : {"ES256", "ES384", "ES512", "RS256", "HS256"}) {
    const Jwk key = must(Jwk::generate(alg));
    auto text = key.to_json(true);
    ASSERT_TRUE(text);
    const Jwk back = must(Jwk::from_json(*text));
    EXPECT_EQ(*back.thumbprint(), *key.thumbprint()) << alg;
    EXPECT_EQ(back.kid(), key.kid());
    EXPECT_TRUE(back.has_secret());
    if (key.type() != KeyType::kOct) {
      auto pub = key.public_only();
      ASSERT_TRUE(pub);
      EXPECT_FALSE(pub->has_secret());
      EXPECT_FALSE(pub->to_json(false)->find("d"));
    }
  }
}

TEST(Jwk, RefusesMalformedKeys) {
  const char* bad[] = {
      R"({"kty":"oct"})",
      R"({"kty":"oct","k":""})",
      R"({"kty":"oct","k":"AAA="})",                       // padding
      R"({"kty":"EC","crv":"P-256","x":"AA","y":"AA"})",   // short coordinates
      R"({"kty":"EC","crv":"secp256k1","x":"AA","y":"AA"})",
      R"({"kty":"RSA","n":"AQAB","e":"AQAB"})",            // far below 2048 bits
      R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})",
      R"({"kty":"oct","k":"AAAA","key_ops":["sign","sign"]})",
      R"({"kty":"oct","k":"AAAA","kid":7})",
      R"([])",
  };
  for (const char* text : bad) EXPECT_FALSE(Jwk::parse(text)) << text;
}

TEST(Jwk, EcPrivatePartMustMatchThePublicPart) {
  auto a = Jwk::generate("ES256")->to_json(true);
  auto b = Jwk::generate("ES256")->to_json(true);
  json::Object mixed = *a->object();
  mixed.set("d", *b->find("d"));
  EXPECT_FALSE(Jwk::from_json(json::Value(mixed)));
}

struct Form {
  Serialization form;
  const char* name;
};
constexpr Form kForms[] = {{Serialization::kCompact, "compact"},
                           {Serialization::kFlattened, "flattened"},
                           {Serialization::kGeneral, "general"}};

TEST(Jws, EveryPermittedAlgorithmInEverySerialization) {
  for (const JwsAlgorithm& alg : jws_algorithms()) {
    const Jwk key = must(Jwk::generate(alg.name));
    const Jwk verifier = key.type() == KeyType::kOct ? key : must(key.public_only());
    const Signer signer{&key};
    auto jws = sign(bytes_of("payload \x01\xff"), std::span(&signer, 1));
    ASSERT_TRUE(jws) << alg.name;
    for (const Form& f : kForms) {
      auto text = jws->serialize(f.form);
      ASSERT_TRUE(text) << alg.name << " " << f.name;
      auto parsed = Jws::parse(*text);
      ASSERT_TRUE(parsed) << alg.name << " " << f.name;
      auto ok = verify(*parsed, std::span(&verifier, 1));
      ASSERT_TRUE(ok) << alg.name << " " << f.name << ": " << ok.error().to_string();
      EXPECT_EQ(text_of(ok->payload), "payload \x01\xff");
      EXPECT_EQ(ok->kids.front(), key.kid());
    }
  }
}

TEST(Jws, SeveralSignersAndPartialTrust) {
  const Jwk ec = must(Jwk::generate("ES256"));
  const Jwk mac = must(Jwk::generate("HS256"));
  const Signer signers[] = {{&ec}, {&mac, "", json::Object{{"typ", json::Value("JOSE")}}}};
  auto jws = sign(bytes_of("two"), signers);
  ASSERT_TRUE(jws);
  EXPECT_FALSE(jws->serialize(Serialization::kCompact));
  auto parsed = Jws::parse(*jws->serialize(Serialization::kGeneral));
  ASSERT_TRUE(parsed);
  const Jwk only_mac[] = {mac};
  auto some = verify(*parsed, only_mac);
  ASSERT_TRUE(some);
  EXPECT_EQ(some->signatures, std::vector<std::size_t>{1});
  EXPECT_FALSE(verify(*parsed, only_mac, {}, /*require_all=*/true));
  const Jwk both[] = {must(ec.public_only()), mac};
  EXPECT_TRUE(verify(*parsed, both, {}, true));
}

std::string flip_char(std::string s, std::size_t pos) {
  s[pos] = s[pos] == 'A' ? 'B' : 'A';
  return s;
}

TEST(Jws, RefusesTamperingAndWrongKeys) {
  const Jwk key = must(Jwk::generate("ES256"));
  const Jwk other = must(Jwk::generate("ES256"));
  const Signer signer{&key};
  const std::string compact = *sign(bytes_of("data"), std::span(&signer, 1))->serialize(Serialization::kCompact);
  const std::size_t dot1 = compact.find('.');
  const std::size_t dot2 = compact.find('.', dot1 + 1);
  for (std::size_t pos : {std::size_t{2}, dot1 + 2, dot2 + 2}) {
    auto parsed = Jws::parse(flip_char(compact, pos));
    if (parsed) {
      EXPECT_FALSE(verify(*parsed, std::span(&key, 1))) << pos;
    }
  }
  auto parsed = Jws::parse(compact);
  auto wrong = verify(*parsed, std::span(&other, 1));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().category(), Category::kAuth);
  // An unknown "kid" fails exactly like a wrong key.
  Jwk renamed = other;
  renamed.set_kid("someone-else");
  auto unknown = verify(*parsed, std::span(&renamed, 1));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().detail(), wrong.error().detail());
}

std::string b64(std::string_view s) { return base64url_encode(bytes_of(s)); }

TEST(Jws, RefusesNoneAndUnlistedAlgorithms) {
  const Jwk key = must(Jwk::generate("HS256"));
  const std::string payload = b64("p");
  for (std::string_view header : {R"({"alg":"none"})", R"({"alg":"PS256"})", R"({"alg":"HS1"})", R"({"alg":"EdDSA"})"}) {
    auto parsed = Jws::parse(b64(header) + "." + payload + "." + b64("sig"));
    ASSERT_TRUE(parsed);
    auto r = verify(*parsed, std::span(&key, 1));
    ASSERT_FALSE(r) << header;
    EXPECT_EQ(r.error().category(), Category::kUnsupported) << header;
  }
  EXPECT_FALSE(Jws::parse(b64(R"({"alg":"none"})") + "." + payload + "."));  // empty signature
  // A policy narrower than the table.
  const Signer signer{&key};
  auto jws = sign(bytes_of("x"), std::span(&signer, 1));
  AlgorithmPolicy only_es256;
  only_es256.jws = {"ES256"};
  EXPECT_FALSE(verify(*jws, std::span(&key, 1), only_es256));
}

// The classic confusion: an RS256 public key's octets used as an HS256 secret must never verify.
TEST(Jws, PublicKeyIsNeverAnHmacSecret) {
  const Jwk rsa = must(Jwk::generate("RS256"));
  const Jwk pub = must(rsa.public_only());
  const std::string pub_json = json::serialize(*pub.to_json(false));
  const Jwk forged_secret = Jwk::symmetric(SecretBytes::copy_of(bytes_of(pub_json)));
  const Signer signer{&forged_secret, "HS256"};
  auto forged = sign(bytes_of("admin"), std::span(&signer, 1));
  ASSERT_TRUE(forged);
  EXPECT_FALSE(verify(*forged, std::span(&pub, 1)));
  EXPECT_FALSE(pub.usable_for("HS256", "verify"));
  // And a key declared for one algorithm is not used for another.
  Jwk es = must(Jwk::generate("ES256"));
  EXPECT_FALSE(es.usable_for("ES384", "verify"));
  EXPECT_FALSE(es.usable_for("ECDH-ES+A128KW", "encrypt"));
}

TEST(Jws, HeaderRules) {
  const Jwk key = must(Jwk::generate("HS256"));
  auto signed_with = [&](json::Object extra) {
    const Signer signer{&key, "", std::move(extra)};
    return sign(bytes_of("p"), std::span(&signer, 1));
  };
  // "crit" is honoured: a parameter we were not told we understand makes the signature unusable.
  auto crit = signed_with(json::Object{{"crit", json::Array{json::Value("exp")}}, {"exp", json::Value(1)}});
  ASSERT_TRUE(crit);
  EXPECT_FALSE(verify(*crit, std::span(&key, 1)));
  AlgorithmPolicy understands_exp;
  understands_exp.understood_crit = {"exp"};
  EXPECT_TRUE(verify(*crit, std::span(&key, 1), understands_exp));
  for (json::Object bad : {json::Object{{"crit", json::Array{}}},
                           json::Object{{"crit", json::Array{json::Value("alg")}}},
                           json::Object{{"crit", json::Array{json::Value("exp")}}},  // names an absent member
                           json::Object{{"zip", json::Value("DEF")}}}) {
    auto jws = signed_with(bad);
    ASSERT_TRUE(jws);
    EXPECT_FALSE(verify(*jws, std::span(&key, 1), understands_exp)) << json::serialize(json::Value(bad));
  }
  const std::string payload = b64("p");
  EXPECT_FALSE(Jws::parse(b64(R"({"alg":"HS256","alg":"none"})") + "." + payload + "." + b64("x")));
  // A correct MAC whose "alg" sits only in the unprotected header is refused.
  const SecretBytes& k = *key.symmetric_key();
  auto mac = crypto::hmac(crypto::Hash::sha256(), k.view(), {bytes_of(b64("{}") + "." + payload)});
  ASSERT_TRUE(mac);
  auto unprotected_alg = Jws::parse(R"({"payload":")" + payload + R"(","protected":")" + b64("{}") +
                                    R"(","header":{"alg":"HS256"},"signature":")" + base64url_encode(mac->view()) + "\"}");
  ASSERT_TRUE(unprotected_alg);
  EXPECT_FALSE(verify(*unprotected_alg, std::span(&key, 1)));
  const Signer overlapping{&key, "", json::Object{{"typ", json::Value("a")}}, json::Object{{"typ", json::Value("b")}}};
  EXPECT_FALSE(sign(bytes_of("x"), std::span(&overlapping, 1)));
}

TEST(Jws, ParserRefusesMalformedText) {
  const char* bad[] = {"", "a.b", "a.b.c.d", "e30.e30.", "!!.e30.AAAA", R"({"payload":"e30"})",
                       R"({"payload":"e30","signatures":[]})", R"({"payload":"e30","signatures":[{}]})",
                       R"({"payload":"e30","signature":"AAAA","signatures":[{"signature":"AAAA"}]})"};
  for (const char* text : bad) EXPECT_FALSE(Jws::parse(text)) << text;
  EXPECT_FALSE(Jws::parse(std::string(kMaxObjectSize + 1, 'A')));
}

TEST(Jwe, EveryPermittedAlgorithmInEverySerialization) {
  for (const JweAlgorithm& alg : jwe_algorithms()) {
    for (const JweEncryption& enc : jwe_encryptions()) {
      const Jwk key = must(Jwk::generate(alg.name, enc.name));
      const Jwk encryptor = key.type() == KeyType::kOct ? key : must(key.public_only());
      const Recipient r{&encryptor};
      auto jwe = encrypt(bytes_of("secret text"), std::span(&r, 1), EncryptOptions{.enc = std::string(enc.name)});
      ASSERT_TRUE(jwe) << alg.name << " " << enc.name << ": " << jwe.error().to_string();
      for (const Form& f : kForms) {
        auto text = jwe->serialize(f.form);
        ASSERT_TRUE(text);
        auto parsed = Jwe::parse(*text);
        ASSERT_TRUE(parsed) << parsed.error().to_string();
        auto plain = decrypt(*parsed, std::span(&key, 1));
        ASSERT_TRUE(plain) << alg.name << " " << enc.name << " " << f.name << ": " << plain.error().to_string();
        EXPECT_EQ(text_of(plain->plaintext.view()), "secret text");
        EXPECT_EQ(plain->kid, key.kid());
      }
    }
  }
}

TEST(Jwe, SeveralRecipientsWithAadAndSharedHeader) {
  const Jwk kw = must(Jwk::generate("A128KW"));
  const Jwk ec = must(Jwk::generate("ECDH-ES+A256KW"));
  const Jwk rsa = must(Jwk::generate("RSA-OAEP-256"));
  const Jwk ec_pub = must(ec.public_only());
  const Jwk rsa_pub = must(rsa.public_only());
  const Recipient recipients[] = {{&kw}, {&ec_pub}, {&rsa_pub}};
  EncryptOptions options{.enc = "A256GCM"};
  options.aad = Bytes{1, 2, 3};
  options.header = json::Object{{"x-note", json::Value("shared")}};
  auto jwe = encrypt(bytes_of("for three"), recipients, options);
  ASSERT_TRUE(jwe) << jwe.error().to_string();
  EXPECT_FALSE(jwe->serialize(Serialization::kFlattened));
  auto parsed = Jwe::parse(*jwe->serialize(Serialization::kGeneral));
  ASSERT_TRUE(parsed);
  for (const Jwk* key : {&kw, &ec, &rsa}) {
    auto plain = decrypt(*parsed, std::span(key, 1));
    ASSERT_TRUE(plain) << plain.error().to_string();
    EXPECT_EQ(text_of(plain->plaintext.view()), "for three");
  }
  const Recipient two_dir[] = {{&kw, "dir"}, {&kw, "dir"}};
  EXPECT_FALSE(encrypt(bytes_of("x"), two_dir, EncryptOptions{}));
}

TEST(Jwe, RefusesTamperingWrongKeysAndUnlistedAlgorithms) {
  const Jwk key = must(Jwk::generate("A128KW"));
  const Jwk other = must(Jwk::generate("A128KW"));
  const Recipient r{&key};
  const std::string compact =
      *encrypt(bytes_of("data data data"), std::span(&r, 1), EncryptOptions{})->serialize(Serialization::kCompact);
  std::vector<std::size_t> dots;
  for (std::size_t i = 0; i < compact.size(); ++i)
    if (compact[i] == '.') dots.push_back(i);
  for (std::size_t pos : {std::size_t{3}, dots[0] + 3, dots[1] + 3, dots[2] + 3, dots[3] + 3}) {
    auto parsed = Jwe::parse(flip_char(compact, pos));
    if (parsed) {
      EXPECT_FALSE(decrypt(*parsed, std::span(&key, 1))) << pos;
    }
  }
  auto wrong = decrypt(*Jwe::parse(compact), std::span(&other, 1));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().category(), Category::kAuth);
  Jwk renamed = other;
  renamed.set_kid("unknown");
  EXPECT_EQ(decrypt(*Jwe::parse(compact), std::span(&renamed, 1)).error().detail(), wrong.error().detail());

  for (std::string_view header : {R"({"alg":"RSA1_5","enc":"A128GCM"})", R"({"alg":"ECDH-ES","enc":"A128GCM"})",
                                  R"({"alg":"A128KW","enc":"A128CBC-HS256"})", R"({"alg":"dir","enc":"A128GCM","zip":"DEF"})",
                                  R"({"alg":"PBES2-HS256+A128KW","enc":"A128GCM"})"}) {
    auto parsed = Jwe::parse(b64(header) + ".." + b64("123456789012") + "." + b64("c") + "." + b64("1234567890123456"));
    ASSERT_TRUE(parsed) << header;
    auto out = decrypt(*parsed, std::span(&key, 1));
    ASSERT_FALSE(out) << header;
    EXPECT_EQ(out.error().category(), Category::kUnsupported) << header;
  }
  AlgorithmPolicy esprim;
  esprim.jwe_alg = {"dir"};
  EXPECT_FALSE(decrypt(*Jwe::parse(compact), std::span(&key, 1), esprim));
}

TEST(Jwe, DirectKeyFromTheCaller) {
  const SecretBytes session = SecretBytes::copy_of(Bytes(32, 7));
  const Recipient r{nullptr, "dir"};
  EncryptOptions options{.enc = "A256GCM"};
  options.direct_key = &session;
  options.protected_header = json::Object{{"kid", json::Value("13-pk@keys.example.com")}, {"ori", json::Value("uO1")}};
  auto jwe = encrypt(bytes_of("inner"), std::span(&r, 1), options);
  ASSERT_TRUE(jwe) << jwe.error().to_string();
  auto parsed = Jwe::parse(*jwe->serialize(Serialization::kCompact));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed->protected_header().find("ori")->string(), "uO1");
  auto plain = decrypt(*parsed, {}, {}, &session);
  ASSERT_TRUE(plain);
  EXPECT_EQ(text_of(plain->plaintext.view()), "inner");
  const SecretBytes other = SecretBytes::copy_of(Bytes(32, 8));
  EXPECT_FALSE(decrypt(*parsed, {}, {}, &other));
}

// Found by fuzz_jose_object: a JSON object without a protected header has no compact form (RFC 7516 7.1).
TEST(Jose, CompactFormsNeedAProtectedHeader) {
  auto jwe = Jwe::parse(R"({"unprotected":{"alg":"A128KW","enc":"A128GCM"},"encrypted_key":"AAAA","iv":"AAAAAAAAAAAAAAAA",)"
                        R"("ciphertext":"AAAA","tag":"AAAAAAAAAAAAAAAAAAAAAA"})");
  ASSERT_TRUE(jwe) << jwe.error().to_string();
  EXPECT_FALSE(jwe->serialize(Serialization::kCompact));
  EXPECT_TRUE(jwe->serialize(Serialization::kFlattened));
  auto jws = Jws::parse(R"({"payload":"e30","header":{"alg":"HS256"},"signature":"AAAA"})");
  ASSERT_TRUE(jws);
  EXPECT_FALSE(jws->serialize(Serialization::kCompact));
}

TEST(Jwe, ParserRefusesMalformedText) {
  const char* bad[] = {"", "a.b.c.d", "a.b.c.d.e.f", ".a.b.c.d", R"({"iv":"AAAA"})",
                       R"({"protected":"e30","iv":"AAAAAAAAAAAAAAAA","ciphertext":"","tag":"AAAAAAAAAAAAAAAAAAAAAA","recipients":[]})"};
  for (const char* text : bad) EXPECT_FALSE(Jwe::parse(text)) << text;
  EXPECT_FALSE(Jwe::parse(std::string(kMaxObjectSize + 1, 'A')));
}

}  // namespace
}  // namespace m2msec::jose

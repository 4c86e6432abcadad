// ESData (TS-0003 V3.18.0 clause 8.5): the three security classes in the three JOSE forms of
// m2m:contentSecurity, several recipients and signers, direct mode, m2m:contentInfo, Credential-ID kids and
// the refusals (HMAC inside the nested class, a signature-only key that would decrypt, XML forms,
// tampering, downgrade of the class, "cty" outside the protected header). Interop with jwcrypto is
// tests/cli/test_e2e_cli.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "m2msec/core/encoding.h"
#include "m2msec/e2e/esdata.h"
#include "m2msec/jose/jwe.h"
#include "m2msec/jose/jws.h"

namespace m2msec::e2e {
namespace {

std::string text_of(ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

jose::Jwk key_for(std::string_view alg, std::string kid, std::string_view enc = {}) {
  auto made = jose::Jwk::generate(alg, enc);
  EXPECT_TRUE(made) << made.error().to_string();
  jose::Jwk key = std::move(made).value();
  key.set_alg("");
  key.set_kid(std::move(kid));
  return key;
}

jose::Jwk public_of(const jose::Jwk& key) {
  auto pub = key.public_only();
  EXPECT_TRUE(pub) << pub.error().to_string();
  return std::move(pub).value();
}

// One set of keys for the whole suite (RSA generation is slow).
struct Keys {
  jose::Jwk wrap = key_for("A256KW", "15-wrap1@keys.example.com");
  jose::Jwk wrap128 = key_for("A128KW", "15-wrap2@keys.example.com");
  jose::Jwk direct = key_for("dir", "14-direct1@keys.example.com", "A128GCM");
  jose::Jwk mac = key_for("HS256", "16-mac1@keys.example.com");
  jose::Jwk rsa_enc = key_for("RSA-OAEP-256", "43-cse2.example.com");
  jose::Jwk ec_enc = key_for("ECDH-ES+A128KW", "45-node7.example.com");
  jose::Jwk ec_sig = key_for("ES256", "53-cse1.example.com");
  jose::Jwk ec384_sig = key_for("ES384", "plain-kid-384");
  jose::Jwk rsa_sig = key_for("RS256", "54-ae1.example.com");
};
const Keys& keys() {
  static const Keys k;
  return k;
}

const std::string kPayload = R"({"temperature":21.5,"unit":"C"})";

ProtectOptions options(SecurityClass c, ContentSecurity form, std::vector<const jose::Jwk*> recipients,
                       std::vector<const jose::Jwk*> signers) {
  ProtectOptions o;
  o.security_class = c;
  o.form = form;
  for (const jose::Jwk* k : recipients) o.recipients.push_back({k});
  for (const jose::Jwk* k : signers) o.signers.push_back({k});
  return o;
}

UnprotectedData open_ok(const std::string& envelope, ContentSecurity form, std::vector<jose::Jwk> decrypt,
                        std::vector<jose::Jwk> verify) {
  UnprotectOptions o;
  o.form = form;
  o.decryption_keys = decrypt;
  o.verification_keys = verify;
  auto out = unprotect(envelope, o);
  EXPECT_TRUE(out) << out.error().to_string();
  return out ? std::move(out).value() : UnprotectedData{};
}

Error open_fails(const std::string& envelope, ContentSecurity form, std::vector<jose::Jwk> decrypt,
                 std::vector<jose::Jwk> verify, std::optional<SecurityClass> expected = {}) {
  UnprotectOptions o;
  o.form = form;
  o.decryption_keys = decrypt;
  o.verification_keys = verify;
  o.expected_class = expected;
  auto out = unprotect(envelope, o);
  EXPECT_FALSE(out);
  return out ? Error::internal("opened") : std::move(out).error();
}

constexpr ContentSecurity kForms[] = {ContentSecurity::kJoseCompact, ContentSecurity::kJoseJson,
                                      ContentSecurity::kJoseJsonBase64};

// ---- m2m:contentSecurity and m2m:contentInfo ----------------------------------------------------------

TEST(ContentSecurity, ValuesAndEnvelopeMediaTypes) {
  for (int v = 0; v <= 5; ++v) EXPECT_TRUE(content_security_from_int(v)) << v;
  EXPECT_FALSE(content_security_from_int(6));
  EXPECT_FALSE(content_security_from_int(-1));
  EXPECT_EQ(envelope_media_type(ContentSecurity::kJoseCompact), "application/jose");
  EXPECT_EQ(envelope_media_type(ContentSecurity::kJoseJson), "application/jose+json");
  EXPECT_EQ(envelope_media_type(ContentSecurity::kJoseJsonBase64), "application/jose+json");
  EXPECT_EQ(envelope_media_type(ContentSecurity::kNone), "");
}

TEST(ContentInfo, ParsesAndFormatsTheThreeParts) {
  auto info = parse_content_info("application/json:0:1");
  ASSERT_TRUE(info) << info.error().to_string();
  EXPECT_EQ(info->media_type, "application/json");
  EXPECT_EQ(info->encoding, EncodingType::kPlain);
  EXPECT_EQ(info->security, ContentSecurity::kJoseCompact);
  EXPECT_EQ(format_content_info(*info), "application/json:0:1");

  auto plain = parse_content_info("text/plain:1");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->encoding, EncodingType::kBase64String);
  EXPECT_EQ(plain->security, ContentSecurity::kNone);
  EXPECT_EQ(format_content_info(*plain), "text/plain:1");  // an absent contentSecurity means 0
  auto zero = parse_content_info("application/vnd.onem2m-res+json:2:0");
  ASSERT_TRUE(zero);
  EXPECT_EQ(format_content_info(*zero), "application/vnd.onem2m-res+json:2");
}

TEST(ContentInfo, RefusesEverythingElse) {
  for (std::string_view bad : {"application/json", "application/json:3", "application/json:0:6", "application/json:0:1:2",
                               "json:0", "application/json:00", "application/json:0:", "application/json::1",
                               " application/json:0", "application/json;charset=utf-8:0", "application/:0",
                               "/json:0", "application/json:0:01", ":0", ""}) {
    EXPECT_FALSE(parse_content_info(bad)) << bad;
  }
}

// ---- Credential-ID kids --------------------------------------------------------------------------------

TEST(CredentialKid, TypesAndUses) {
  auto wrap = CredentialKid::parse("15-wrapkey7@keys.example.com");
  ASSERT_TRUE(wrap) << wrap.error().to_string();
  EXPECT_EQ(wrap->type(), 15u);
  EXPECT_EQ(wrap->value(), "wrapkey7@keys.example.com");
  EXPECT_EQ(wrap->use(), CredentialUse::kKeyWrap);
  EXPECT_EQ(wrap->to_string(), "15-wrapkey7@keys.example.com");
  EXPECT_TRUE(wrap->permits("A256KW"));
  EXPECT_FALSE(wrap->permits("dir"));
  EXPECT_FALSE(wrap->permits("HS256"));

  EXPECT_TRUE(CredentialKid::parse("14-k")->permits("dir"));
  EXPECT_FALSE(CredentialKid::parse("14-k")->permits("A128KW"));
  EXPECT_TRUE(CredentialKid::parse("16-k")->permits("HS512"));
  EXPECT_FALSE(CredentialKid::parse("16-k")->permits("A256KW"));
  EXPECT_FALSE(CredentialKid::parse("16-k")->permits("RS256"));
  for (std::string_view t : {"41", "42", "43", "44", "45"}) {
    auto k = CredentialKid::parse(std::string(t) + "-x.example.com");
    ASSERT_TRUE(k) << t;
    EXPECT_EQ(k->use(), CredentialUse::kKeyManagement);
    EXPECT_TRUE(k->permits("RSA-OAEP-256"));
    EXPECT_TRUE(k->permits("ECDH-ES+A192KW"));
    EXPECT_FALSE(k->permits("ES256"));
  }
  for (std::string_view t : {"51", "52", "53", "54", "55"}) {
    auto k = CredentialKid::parse(std::string(t) + "-x.example.com");
    ASSERT_TRUE(k) << t;
    EXPECT_EQ(k->use(), CredentialUse::kSignature);
    EXPECT_TRUE(k->permits("RS384"));
    EXPECT_TRUE(k->permits("ES512"));
    EXPECT_FALSE(k->permits("HS256"));
    EXPECT_FALSE(k->permits("RSA-OAEP-256"));
  }
}

TEST(CredentialKid, RefusesOtherTypesAndCharacters) {
  for (std::string_view bad : {"10-thiskey@mymef.com", "12-x", "13-x", "30-x", "56-x", "015-x", "15-", "15", "-x", "15-a/b",
                               "15-a b", "x-15", "14-ni:///sha-256;AAAA", "151-x"}) {
    EXPECT_FALSE(CredentialKid::parse(bad)) << bad;
  }
}

TEST(CredentialKid, NiIdentifiersOfRawPublicKeys) {
  const jose::Jwk& key = keys().ec_sig;
  auto kid = CredentialKid::for_raw_public_key(key, /*signature=*/true);
  ASSERT_TRUE(kid) << kid.error().to_string();
  EXPECT_EQ(kid->type(), 51u);
  EXPECT_TRUE(kid->is_ni());
  EXPECT_EQ(kid->value().substr(0, 14), "ni:///sha-256;");
  EXPECT_TRUE(kid->matches(key));
  EXPECT_TRUE(kid->matches(public_of(key)));
  EXPECT_FALSE(kid->matches(keys().ec384_sig));
  auto again = CredentialKid::parse(kid->to_string());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *kid);
  // The truncated suites of TS-0003 10.1.2 match on their prefix.
  const std::string digest = kid->value().substr(14);
  const Bytes full = *base64url_decode(digest);
  auto short_kid = CredentialKid::parse("51-ni:///sha-256-128;" + base64url_encode(ByteView(full).first(16)));
  ASSERT_TRUE(short_kid);
  EXPECT_TRUE(short_kid->matches(key));
  EXPECT_FALSE(CredentialKid::parse("51-ni:///sha-256;" + base64url_encode(ByteView(full).first(16))));
  EXPECT_FALSE(CredentialKid::parse("51-ni:///sha-1;" + digest));
  EXPECT_FALSE(CredentialKid::parse("51-ni://example.com/sha-256;" + digest));
  EXPECT_TRUE(CredentialKid::for_raw_public_key(keys().rsa_enc, false));
  EXPECT_FALSE(CredentialKid::for_raw_public_key(keys().wrap, false));
}

// ---- the three classes in the three forms --------------------------------------------------------------

TEST(Esdata, EncryptionOnlyInEveryForm) {
  const Keys& k = keys();
  for (ContentSecurity form : kForms) {
    for (const jose::Jwk* key : {&k.wrap, &k.rsa_enc, &k.ec_enc}) {
      auto envelope = protect(as_bytes(kPayload), options(SecurityClass::kEncryptionOnly, form, {key}, {}));
      ASSERT_TRUE(envelope) << envelope.error().to_string();
      const UnprotectedData out = open_ok(*envelope, form, {*key}, {});
      EXPECT_EQ(text_of(out.payload), kPayload);
      EXPECT_EQ(out.security_class, SecurityClass::kEncryptionOnly);
      EXPECT_EQ(out.decrypted_by, key->kid());
      EXPECT_TRUE(out.verified_by.empty());
    }
  }
}

TEST(Esdata, SignatureOnlyInEveryForm) {
  const Keys& k = keys();
  for (ContentSecurity form : kForms) {
    for (const jose::Jwk* key : {&k.mac, &k.ec_sig, &k.rsa_sig, &k.ec384_sig}) {
      auto envelope = protect(as_bytes(kPayload), options(SecurityClass::kSignatureOnly, form, {}, {key}));
      ASSERT_TRUE(envelope) << envelope.error().to_string();
      const jose::Jwk verifier = key->type() == jose::KeyType::kOct ? *key : public_of(*key);
      const UnprotectedData out = open_ok(*envelope, form, {}, {verifier});
      EXPECT_EQ(text_of(out.payload), kPayload);
      EXPECT_EQ(out.security_class, SecurityClass::kSignatureOnly);
      EXPECT_EQ(out.verified_by, std::vector<std::string>{key->kid()});
    }
  }
}

TEST(Esdata, NestedSignThenEncryptInEveryForm) {
  const Keys& k = keys();
  for (ContentSecurity form : kForms) {
    auto envelope = protect(as_bytes(kPayload), options(SecurityClass::kNestedSignThenEncrypt, form, {&k.rsa_enc}, {&k.ec_sig}));
    ASSERT_TRUE(envelope) << envelope.error().to_string();
    const UnprotectedData out = open_ok(*envelope, form, {k.rsa_enc}, {public_of(k.ec_sig)});
    EXPECT_EQ(text_of(out.payload), kPayload);
    EXPECT_EQ(out.security_class, SecurityClass::kNestedSignThenEncrypt);
    EXPECT_EQ(out.decrypted_by, k.rsa_enc.kid());
    EXPECT_EQ(out.verified_by, std::vector<std::string>{k.ec_sig.kid()});
  }
}

TEST(Esdata, NestedNamesTheInnerSerializationInCty) {
  const Keys& k = keys();
  auto compact = protect(as_bytes(kPayload), options(SecurityClass::kNestedSignThenEncrypt, ContentSecurity::kJoseCompact,
                                                     {&k.wrap}, {&k.rsa_sig}));
  ASSERT_TRUE(compact);
  auto jwe = jose::Jwe::parse(*compact);
  ASSERT_TRUE(jwe);
  EXPECT_EQ(*jwe->protected_header().find("cty")->string(), "JOSE");
  auto json = protect(as_bytes(kPayload), options(SecurityClass::kNestedSignThenEncrypt, ContentSecurity::kJoseJson,
                                                  {&k.wrap}, {&k.rsa_sig}));
  ASSERT_TRUE(json);
  auto jwe2 = jose::Jwe::parse(*json);
  ASSERT_TRUE(jwe2);
  EXPECT_EQ(*jwe2->protected_header().find("cty")->string(), "JOSE+JSON");
}

TEST(Esdata, Base64FormIsTheJsonSerializationInBase64) {
  const Keys& k = keys();
  auto envelope = protect(as_bytes(kPayload), options(SecurityClass::kSignatureOnly, ContentSecurity::kJoseJsonBase64, {}, {&k.mac}));
  ASSERT_TRUE(envelope);
  auto decoded = base64_decode(*envelope);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(text_of(*decoded).front(), '{');
  EXPECT_TRUE(jose::Jws::parse(text_of(*decoded)));
}

// ---- several credentials -------------------------------------------------------------------------------

TEST(Esdata, SeveralRecipientsEachOpenTheJsonForm) {
  const Keys& k = keys();
  auto envelope = protect(as_bytes(kPayload), options(SecurityClass::kEncryptionOnly, ContentSecurity::kJoseJson,
                                                      {&k.wrap, &k.rsa_enc, &k.ec_enc}, {}));
  ASSERT_TRUE(envelope) << envelope.error().to_string();
  auto jwe = jose::Jwe::parse(*envelope);
  ASSERT_TRUE(jwe);
  EXPECT_EQ(jwe->recipients().size(), 3u);
  for (const jose::Jwk* key : {&k.wrap, &k.rsa_enc, &k.ec_enc}) {
    const UnprotectedData out = open_ok(*envelope, ContentSecurity::kJoseJson, {*key}, {});
    EXPECT_EQ(text_of(out.payload), kPayload);
    EXPECT_EQ(out.decrypted_by, key->kid());
  }
  EXPECT_FALSE(protect(as_bytes(kPayload), options(SecurityClass::kEncryptionOnly, ContentSecurity::kJoseCompact,
                                                   {&k.wrap, &k.rsa_enc}, {})));
}

TEST(Esdata, SeveralSignersAreRecordedInOrder) {
  const Keys& k = keys();
  auto envelope = protect(as_bytes(kPayload), options(SecurityClass::kSignatureOnly, ContentSecurity::kJoseJson, {},
                                                      {&k.ec_sig, &k.rsa_sig, &k.mac}));
  ASSERT_TRUE(envelope) << envelope.error().to_string();
  const UnprotectedData all = open_ok(*envelope, ContentSecurity::kJoseJson, {}, {k.mac, public_of(k.rsa_sig), public_of(k.ec_sig)});
  EXPECT_EQ(all.verified_by, (std::vector<std::string>{k.ec_sig.kid(), k.rsa_sig.kid(), k.mac.kid()}));
  const UnprotectedData one = open_ok(*envelope, ContentSecurity::kJoseJson, {}, {public_of(k.rsa_sig)});
  EXPECT_EQ(one.verified_by, std::vector<std::string>{k.rsa_sig.kid()});

  UnprotectOptions strict;
  strict.form = ContentSecurity::kJoseJson;
  const std::vector<jose::Jwk> only_rsa{public_of(k.rsa_sig)};
  strict.verification_keys = only_rsa;
  strict.require_all_signatures = true;
  EXPECT_FALSE(unprotect(*envelope, strict));
  EXPECT_FALSE(protect(as_bytes(kPayload), options(SecurityClass::kSignatureOnly, ContentSecurity::kJoseCompact, {},
                                                   {&k.ec_sig, &k.rsa_sig})));
}

// ---- direct mode (8.5.2.2) -----------------------------------------------------------------------------

TEST(Esdata, DirectModeWithExactlyOneSymmetricKey) {
  const Keys& k = keys();
  auto envelope = protect(as_bytes(kPayload), options(SecurityClass::kEncryptionOnly, ContentSecurity::kJoseCompact, {&k.direct}, {}));
  ASSERT_TRUE(envelope) << envelope.error().to_string();
  auto jwe = jose::Jwe::parse(*envelope);
  ASSERT_TRUE(jwe);
  EXPECT_EQ(*jwe->protected_header().find("alg")->string(), "dir");
  EXPECT_EQ(*jwe->protected_header().find("enc")->string(), "A128GCM");  // the key's size
  EXPECT_TRUE(jwe->recipients().front().encrypted_key.empty());
  EXPECT_EQ(text_of(open_ok(*envelope, ContentSecurity::kJoseCompact, {k.direct}, {}).payload), kPayload);

  ProtectOptions two = options(SecurityClass::kEncryptionOnly, ContentSecurity::kJoseJson, {&k.direct, &k.wrap}, {});
  auto refused = protect(as_bytes(kPayload), two);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().detail().find("8.5.2.2"), std::string::npos);
  ProtectOptions rsa_dir = options(SecurityClass::kEncryptionOnly, ContentSecurity::kJoseCompact, {&k.rsa_enc}, {});
  rsa_dir.recipients.front().alg = "dir";
  EXPECT_FALSE(protect(as_bytes(kPayload), rsa_dir));
  // A key-wrap credential (type 15) may not be used directly.
  ProtectOptions wrap_dir = options(SecurityClass::kEncryptionOnly, ContentSecurity::kJoseCompact, {&k.wrap}, {});
  wrap_dir.recipients.front().alg = "dir";
  EXPECT_FALSE(protect(as_bytes(kPayload), wrap_dir));
}

TEST(Esdata, AadIsProtectedAndReturnedInJsonForms) {
  const Keys& k = keys();
  ProtectOptions o = options(SecurityClass::kEncryptionOnly, ContentSecurity::kJoseJson, {&k.wrap}, {});
  o.aad = Bytes{'r', 'i', '=', '4', '2'};
  auto envelope = protect(as_bytes(kPayload), o);
  ASSERT_TRUE(envelope) << envelope.error().to_string();
  EXPECT_EQ(open_ok(*envelope, ContentSecurity::kJoseJson, {k.wrap}, {}).aad, o.aad);
  o.form = ContentSecurity::kJoseCompact;
  EXPECT_FALSE(protect(as_bytes(kPayload), o));
}

// ---- refusals ------------------------------------------------------------------------------------------

TEST(Esdata, NestedInnerSignaturesAreNeverHmac) {
  const Keys& k = keys();
  auto refused = protect(as_bytes(kPayload), options(SecurityClass::kNestedSignThenEncrypt, ContentSecurity::kJoseCompact,
                                                     {&k.wrap}, {&k.mac}));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().detail().find("8.5.2.4"), std::string::npos);

  // One made by hand: an HS256 JWS inside a JWE that says "cty":"JOSE".
  const jose::Signer signer{&k.mac, "HS256"};
  auto inner = jose::sign(as_bytes(kPayload), std::span(&signer, 1));
  ASSERT_TRUE(inner);
  const std::string inner_text = *inner->serialize(jose::Serialization::kCompact);
  const jose::Recipient recipient{&k.wrap, "A256KW"};
  jose::EncryptOptions eo;
  eo.protected_header.set("cty", "JOSE");
  auto outer = jose::encrypt(as_bytes(inner_text), std::span(&recipient, 1), eo);
  ASSERT_TRUE(outer);
  const std::string envelope = *outer->serialize(jose::Serialization::kCompact);
  const Error e = open_fails(envelope, ContentSecurity::kJoseCompact, {k.wrap}, {k.mac});
  EXPECT_NE(e.detail().find("8.5.2.4"), std::string::npos) << e.detail();
}

TEST(Esdata, SignatureOnlyCredentialsNeverDecryptAndViceVersa) {
  const Keys& k = keys();
  // A signature-only key (type 16) used as a recipient or as a decryption key.
  jose::Jwk mac_as_wrap = key_for("A256KW", "16-mac9@keys.example.com");
  EXPECT_FALSE(protect(as_bytes(kPayload), options(SecurityClass::kEncryptionOnly, ContentSecurity::kJoseCompact, {&mac_as_wrap}, {})));
  jose::Jwk same_bytes = k.wrap;
  same_bytes.set_kid("");
  auto envelope = protect(as_bytes(kPayload), options(SecurityClass::kEncryptionOnly, ContentSecurity::kJoseCompact, {&same_bytes}, {}));
  ASSERT_TRUE(envelope);
  jose::Jwk relabelled = k.wrap;
  relabelled.set_kid("16-mac1@keys.example.com");
  const Error e = open_fails(*envelope, ContentSecurity::kJoseCompact, {relabelled}, {});
  EXPECT_NE(e.detail().find("signature-only"), std::string::npos) << e.detail();
  jose::Jwk sig_cert = k.rsa_enc;
  sig_cert.set_kid("53-cse2.example.com");
  auto to_rsa = protect(as_bytes(kPayload), options(SecurityClass::kEncryptionOnly, ContentSecurity::kJoseCompact, {&k.rsa_enc}, {}));
  ASSERT_TRUE(to_rsa);
  sig_cert.set_kid(k.rsa_enc.kid());
  EXPECT_TRUE(unprotect(*to_rsa, {ContentSecurity::kJoseCompact, std::span(&sig_cert, 1)}));
  sig_cert.set_kid("53-cse2.example.com");
  open_fails(*to_rsa, ContentSecurity::kJoseCompact, {sig_cert}, {});

  // An encryption credential (type 15, 43) never verifies, nor signs.
  jose::Jwk wrap_as_mac = k.mac;
  wrap_as_mac.set_kid("15-wrap1@keys.example.com");
  EXPECT_FALSE(protect(as_bytes(kPayload), options(SecurityClass::kSignatureOnly, ContentSecurity::kJoseCompact, {}, {&wrap_as_mac})));
  auto signed_envelope = protect(as_bytes(kPayload), options(SecurityClass::kSignatureOnly, ContentSecurity::kJoseCompact, {}, {&k.mac}));
  ASSERT_TRUE(signed_envelope);
  jose::Jwk mac_relabelled = k.mac;
  mac_relabelled.set_kid("15-wrap1@keys.example.com");
  open_fails(*signed_envelope, ContentSecurity::kJoseCompact, {}, {mac_relabelled});
}

TEST(Esdata, XmlFormsAreNotImplemented) {
  const Keys& k = keys();
  for (ContentSecurity form : {ContentSecurity::kXml, ContentSecurity::kXmlBase64}) {
    auto p = protect(as_bytes(kPayload), options(SecurityClass::kSignatureOnly, form, {}, {&k.mac}));
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().category(), Category::kUnsupported);
    EXPECT_NE(p.error().detail().find("not implemented"), std::string::npos);
    auto u = unprotect("<xenc:EncryptedData/>", {form});
    ASSERT_FALSE(u);
    EXPECT_EQ(u.error().category(), Category::kUnsupported);
  }
  auto none = protect(as_bytes(kPayload), options(SecurityClass::kSignatureOnly, ContentSecurity::kNone, {}, {&k.mac}));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().category(), Category::kUsage);
}

TEST(Esdata, TamperingIsDetected) {
  const Keys& k = keys();
  for (SecurityClass c : {SecurityClass::kEncryptionOnly, SecurityClass::kSignatureOnly, SecurityClass::kNestedSignThenEncrypt}) {
    const bool enc = c != SecurityClass::kSignatureOnly;
    const bool sig = c != SecurityClass::kEncryptionOnly;
    auto envelope = protect(as_bytes(kPayload), options(c, ContentSecurity::kJoseCompact, enc ? std::vector<const jose::Jwk*>{&k.wrap} : std::vector<const jose::Jwk*>{},
                                                        sig ? std::vector<const jose::Jwk*>{&k.ec_sig} : std::vector<const jose::Jwk*>{}));
    ASSERT_TRUE(envelope) << envelope.error().to_string();
    // Change one character of the second-to-last part (the ciphertext, or the JWS payload).
    std::string t = *envelope;
    const std::size_t last = t.rfind('.');
    const std::size_t at = t.rfind('.', last - 1) + 1;
    t[at] = t[at] == 'A' ? 'B' : 'A';
    open_fails(t, ContentSecurity::kJoseCompact, {k.wrap}, {public_of(k.ec_sig)});
  }
}

TEST(Esdata, TheExpectedClassCannotBeDowngraded) {
  const Keys& k = keys();
  auto enc_only = protect(as_bytes(kPayload), options(SecurityClass::kEncryptionOnly, ContentSecurity::kJoseCompact, {&k.wrap}, {}));
  ASSERT_TRUE(enc_only);
  const Error e = open_fails(*enc_only, ContentSecurity::kJoseCompact, {k.wrap}, {}, SecurityClass::kNestedSignThenEncrypt);
  EXPECT_EQ(e.category(), Category::kPolicy);
}

TEST(Esdata, CtyOnlyCountsInTheProtectedHeader) {
  const Keys& k = keys();
  const jose::Recipient recipient{&k.wrap, "A256KW"};
  jose::EncryptOptions eo;
  eo.header.set("cty", "JOSE");
  auto jwe = jose::encrypt(as_bytes(kPayload), std::span(&recipient, 1), eo);
  ASSERT_TRUE(jwe);
  open_fails(*jwe->serialize(jose::Serialization::kFlattened), ContentSecurity::kJoseJson, {k.wrap}, {});
}

TEST(Esdata, TheFormMustMatchTheEnvelope) {
  const Keys& k = keys();
  auto compact = protect(as_bytes(kPayload), options(SecurityClass::kSignatureOnly, ContentSecurity::kJoseCompact, {}, {&k.mac}));
  ASSERT_TRUE(compact);
  open_fails(*compact, ContentSecurity::kJoseJson, {}, {k.mac});
  open_fails(*compact, ContentSecurity::kJoseJsonBase64, {}, {k.mac});
  auto json = protect(as_bytes(kPayload), options(SecurityClass::kSignatureOnly, ContentSecurity::kJoseJson, {}, {&k.mac}));
  ASSERT_TRUE(json);
  open_fails(*json, ContentSecurity::kJoseCompact, {}, {k.mac});
  open_fails("a.b.c.d", ContentSecurity::kJoseCompact, {}, {k.mac});
  open_fails("", ContentSecurity::kJoseCompact, {}, {k.mac});
  open_fails("{\"x\":1}", ContentSecurity::kJoseJson, {}, {k.mac});
}

TEST(Esdata, WrongKeysAndPolicyRefuse) {
  const Keys& k = keys();
  auto envelope = protect(as_bytes(kPayload), options(SecurityClass::kSignatureOnly, ContentSecurity::kJoseCompact, {}, {&k.ec_sig}));
  ASSERT_TRUE(envelope);
  open_fails(*envelope, ContentSecurity::kJoseCompact, {}, {public_of(k.ec384_sig)});
  UnprotectOptions rs_only;
  const jose::Jwk pub = public_of(k.ec_sig);
  rs_only.verification_keys = std::span(&pub, 1);
  rs_only.policy.jws = {"RS256"};
  EXPECT_FALSE(unprotect(*envelope, rs_only));
  auto enc = protect(as_bytes(kPayload), options(SecurityClass::kEncryptionOnly, ContentSecurity::kJoseCompact, {&k.wrap}, {}));
  ASSERT_TRUE(enc);
  open_fails(*enc, ContentSecurity::kJoseCompact, {k.wrap128}, {});
}

// ---- <contentInstance> ---------------------------------------------------------------------------------

TEST(Esdata, ContentInstanceConAndCnf) {
  const Keys& k = keys();
  auto content = protect_content(as_bytes(kPayload), "application/json", EncodingType::kPlain,
                                 options(SecurityClass::kNestedSignThenEncrypt, ContentSecurity::kJoseCompact, {&k.ec_enc}, {&k.ec_sig}));
  ASSERT_TRUE(content) << content.error().to_string();
  EXPECT_EQ(content->cnf, "application/json:0:1");
  EXPECT_EQ(std::count(content->con.begin(), content->con.end(), '.'), 4);
  UnprotectOptions o;
  const std::vector<jose::Jwk> dec{k.ec_enc};
  const std::vector<jose::Jwk> ver{public_of(k.ec_sig)};
  o.decryption_keys = dec;
  o.verification_keys = ver;
  auto opened = unprotect_content(content->con, content->cnf, o);
  ASSERT_TRUE(opened) << opened.error().to_string();
  EXPECT_EQ(text_of(opened->data.payload), kPayload);
  EXPECT_EQ(opened->info.media_type, "application/json");
  EXPECT_FALSE(unprotect_content(content->con, "application/json:0", o));
  EXPECT_FALSE(unprotect_content(content->con, "application/json:0:2", o));

  auto b64 = protect_content(as_bytes(kPayload), "application/json", EncodingType::kPlain,
                             options(SecurityClass::kEncryptionOnly, ContentSecurity::kJoseJsonBase64, {&k.wrap}, {}));
  ASSERT_TRUE(b64);
  EXPECT_EQ(b64->cnf, "application/json:0:3");
  EXPECT_FALSE(protect_content(as_bytes(kPayload), "json", EncodingType::kPlain,
                               options(SecurityClass::kEncryptionOnly, ContentSecurity::kJoseCompact, {&k.wrap}, {})));
}

TEST(Esdata, NiKidsMustBeTheKeys) {
  const Keys& k = keys();
  jose::Jwk signer = k.ec_sig;
  signer.set_kid(CredentialKid::for_raw_public_key(signer, true)->to_string());
  auto envelope = protect(as_bytes(kPayload), options(SecurityClass::kSignatureOnly, ContentSecurity::kJoseCompact, {}, {&signer}));
  ASSERT_TRUE(envelope) << envelope.error().to_string();
  const UnprotectedData out = open_ok(*envelope, ContentSecurity::kJoseCompact, {}, {public_of(signer)});
  EXPECT_EQ(out.verified_by, std::vector<std::string>{signer.kid()});
  // A trusted key labelled with another key's ni identifier is not used.
  jose::Jwk wrong = public_of(k.ec384_sig);
  wrong.set_kid(signer.kid());
  open_fails(*envelope, ContentSecurity::kJoseCompact, {}, {wrong});
  jose::Jwk mislabelled = k.ec384_sig;
  mislabelled.set_kid(signer.kid());
  EXPECT_FALSE(protect(as_bytes(kPayload), options(SecurityClass::kSignatureOnly, ContentSecurity::kJoseCompact, {}, {&mislabelled})));
}

}  // namespace
}  // namespace m2msec::e2e

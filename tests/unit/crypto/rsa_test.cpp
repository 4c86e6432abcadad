// RSA: RSASSA-PKCS1-v1_5 signatures (signature.h), keys from and to components and RSA-OAEP-256 (rsa.h). There
// is no fixed vector: the openssl command line is the oracle, on keys it generates.
#include "m2msec/crypto/rsa.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "m2msec/core/encoding.h"
#include "m2msec/crypto/key_info.h"
#include "m2msec/crypto/signature.h"
#include "oracle.h"

namespace m2msec::crypto {
namespace {

using test::read_file;
using test::run;
using test::TempDir;
using test::write_file;

SignatureScheme scheme(const char* name) {
  auto s = SignatureScheme::named(name);
  M2MSEC_CHECK(s.has_value());
  return *s;
}

void expect_usage(const Error& e) { EXPECT_EQ(e.category(), Category::kUsage) << e.to_string(); }

void expect_verification_failed(const Result<void>& r) {
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().category(), Category::kCrypto);
  EXPECT_EQ(r.error().detail(), "signature verification failed");
}

RsaPrivateComponents clone(const RsaPrivateComponents& c) {
  return {c.n, c.e, c.d.clone(), c.p.clone(), c.q.clone(), c.dp.clone(), c.dq.clone(), c.qi.clone()};
}

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

// One 2048-bit and one 1024-bit key from `openssl genpkey`, shared by the tests of this file.
class RsaOracle : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>("m2msec-rsa");
    ASSERT_EQ(run(*dir_, "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " + file("key.pem")), 0)
        << log();
    ASSERT_EQ(run(*dir_, "openssl pkey -in " + file("key.pem") + " -pubout -out " + file("pub.pem")), 0) << log();
    ASSERT_EQ(run(*dir_, "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out " + file("small.pem")),
              0)
        << log();
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static std::string file(const std::string& name) { return dir_->file(name); }
  static std::string log() { return read_file(dir_->file("log")); }
  static int openssl(const std::string& args) { return run(*dir_, "openssl " + args); }

  static PrivateKey key() { return PrivateKey::from_pem(read_file(file("key.pem"))).value(); }
  static PublicKey pub() { return PublicKey::from_pem(read_file(file("pub.pem"))).value(); }
  static PrivateKey small_key() { return PrivateKey::from_pem(read_file(file("small.pem"))).value(); }

  static inline std::unique_ptr<TempDir> dir_;
};

// ---- RSASSA-PKCS1-v1_5 (RFC 8017 clause 8.2) ----

TEST_F(RsaOracle, SignaturesAgreeWithOpenSslCliBothWays) {
  const Bytes message = concat({as_bytes("RFC 8017 clause 8.2 "), Bytes(1000, 0x5C)});
  write_file(file("msg.bin"), message);
  write_file(file("msg2.bin"), as_bytes("another message"));
  const PrivateKey k = key();
  const PublicKey p = pub();
  for (auto [name, digest] : {std::pair{"rsa-pkcs1-sha256", "-sha256"}, std::pair{"rsa-pkcs1-sha384", "-sha384"},
                              std::pair{"rsa-pkcs1-sha512", "-sha512"}}) {
    SCOPED_TRACE(name);
    const SignatureScheme s = scheme(name);
    auto sig = sign(s, k, message, SignatureEncoding::kRaw);
    ASSERT_TRUE(sig) << sig.error().to_string();
    EXPECT_EQ(sig->size(), 256u);

    // Ours -> the CLI.
    write_file(file("our.sig"), *sig);
    const std::string verify_cmd =
        std::string("dgst ") + digest + " -verify " + file("pub.pem") + " -signature " + file("our.sig") + " ";
    EXPECT_EQ(openssl(verify_cmd + file("msg.bin")), 0) << log();
    EXPECT_NE(openssl(verify_cmd + file("msg2.bin")), 0);
    Bytes tampered = *sig;
    tampered[100] ^= 0x01;
    write_file(file("our.sig"), tampered);
    EXPECT_NE(openssl(verify_cmd + file("msg.bin")), 0);

    // The CLI -> ours. PKCS #1 v1.5 is deterministic: the same octets.
    ASSERT_EQ(openssl(std::string("dgst ") + digest + " -sign " + file("key.pem") + " -out " + file("cli.sig") + " " +
                      file("msg.bin")),
              0)
        << log();
    const Bytes cli_sig = bytes_of(read_file(file("cli.sig")));
    EXPECT_EQ(cli_sig, *sig);
    EXPECT_TRUE(verify(s, p, message, cli_sig, SignatureEncoding::kRaw));
    expect_verification_failed(verify(s, p, as_bytes("another message"), cli_sig, SignatureEncoding::kRaw));
    for (std::size_t i : {std::size_t{0}, std::size_t{128}, std::size_t{255}}) {
      Bytes bad = cli_sig;
      bad[i] ^= 0x80;
      expect_verification_failed(verify(s, p, message, bad, SignatureEncoding::kRaw));
    }
    expect_verification_failed(verify(s, p, message, ByteView(cli_sig).first(255), SignatureEncoding::kRaw));
    expect_verification_failed(verify(s, p, message, concat({cli_sig, Bytes{0}}), SignatureEncoding::kRaw));
    expect_verification_failed(verify(s, p, message, Bytes{}, SignatureEncoding::kRaw));
  }
  // A signature under one hash does not verify under another.
  auto sig256 = sign(scheme("rsa-pkcs1-sha256"), k, message, SignatureEncoding::kRaw);
  ASSERT_TRUE(sig256);
  expect_verification_failed(verify(scheme("rsa-pkcs1-sha384"), p, message, *sig256, SignatureEncoding::kRaw));
}

TEST_F(RsaOracle, DerAndRawEncodingsAreTheSameOctets) {
  const SignatureScheme s = scheme("rsa-pkcs1-sha256");
  const PrivateKey k = key();
  auto der = sign(s, k, as_bytes("m"));  // the default, kDer
  auto raw = sign(s, k, as_bytes("m"), SignatureEncoding::kRaw);
  ASSERT_TRUE(der && raw);
  EXPECT_EQ(*der, *raw);
  EXPECT_TRUE(verify(s, pub(), as_bytes("m"), *raw, SignatureEncoding::kDer));
  EXPECT_TRUE(verify(s, pub(), as_bytes("m"), *der, SignatureEncoding::kRaw));
}

TEST_F(RsaOracle, ModuliBelow2048BitsAreRefused) {
  const SignatureScheme s = scheme("rsa-pkcs1-sha256");
  const PrivateKey small = small_key();
  auto small_pub = small.public_key();
  ASSERT_TRUE(small_pub);
  EXPECT_EQ(key_bits(*small_pub), 1024u);
  auto sig = sign(s, small, as_bytes("m"), SignatureEncoding::kRaw);
  ASSERT_FALSE(sig);
  expect_usage(sig.error());
  // A signature the CLI made with that key.
  write_file(file("m.bin"), as_bytes("m"));
  ASSERT_EQ(openssl("dgst -sha256 -sign " + file("small.pem") + " -out " + file("small.sig") + " " + file("m.bin")), 0);
  auto v = verify(s, *small_pub, as_bytes("m"), as_bytes(read_file(file("small.sig"))), SignatureEncoding::kRaw);
  ASSERT_FALSE(v);
  expect_usage(v.error());
  auto enc = rsa_oaep_sha256_encrypt(*small_pub, as_bytes("m"));
  ASSERT_FALSE(enc);
  expect_usage(enc.error());
  auto dec = rsa_oaep_sha256_decrypt(small, Bytes(128, 1));
  ASSERT_FALSE(dec);
  expect_usage(dec.error());
  // Its components are readable, but a key is not built from them.
  auto components = rsa_private_components(small);
  ASSERT_TRUE(components);
  auto rebuilt = rsa_private_key(*components);
  ASSERT_FALSE(rebuilt);
  expect_usage(rebuilt.error());
  auto rebuilt_pub = rsa_public_key({components->n, components->e});
  ASSERT_FALSE(rebuilt_pub);
  expect_usage(rebuilt_pub.error());
}

TEST(RsaSignature, GeneratedKeysAre2048BitsAndHaveNoRawForm) {
  for (const char* name : {"rsa-pkcs1-sha256", "rsa-pkcs1-sha384", "rsa-pkcs1-sha512"}) {
    SCOPED_TRACE(name);
    const SignatureScheme s = scheme(name);
    EXPECT_EQ(s.name(), name);
    EXPECT_EQ(s.algorithm_set(), AlgorithmSet::kDefault);
    auto raw_priv = s.private_key_from_raw(Bytes(256, 1));
    ASSERT_FALSE(raw_priv);
    EXPECT_EQ(raw_priv.error().category(), Category::kUnsupported);
    auto raw_pub = s.public_key_from_raw(Bytes(256, 1));
    ASSERT_FALSE(raw_pub);
    EXPECT_EQ(raw_pub.error().category(), Category::kUnsupported);
  }
  const SignatureScheme s = scheme("rsa-pkcs1-sha512");
  auto k = s.generate();
  ASSERT_TRUE(k) << k.error().to_string();
  auto p = k->public_key();
  ASSERT_TRUE(p);
  EXPECT_EQ(key_type(*k), KeyType::kRsa);
  EXPECT_EQ(key_bits(*p), 2048u);
  EXPECT_EQ(rsa_public_components(*p)->e, (Bytes{0x01, 0x00, 0x01}));
  auto sig = sign(s, *k, as_bytes("x"), SignatureEncoding::kRaw);
  ASSERT_TRUE(sig);
  EXPECT_TRUE(verify(s, *p, as_bytes("x"), *sig, SignatureEncoding::kRaw));
}

TEST(RsaSignature, RefusesKeysOfAnotherType) {
  const SignatureScheme rsa = scheme("rsa-pkcs1-sha256");
  const SignatureScheme ecdsa = scheme("ecdsa-p256-sha256");
  auto ec_key = ecdsa.generate();
  auto rsa_key = rsa.generate();
  ASSERT_TRUE(ec_key && rsa_key);
  auto s1 = sign(rsa, *ec_key, as_bytes("m"));
  ASSERT_FALSE(s1);
  expect_usage(s1.error());
  auto s2 = sign(ecdsa, *rsa_key, as_bytes("m"));
  ASSERT_FALSE(s2);
  expect_usage(s2.error());
  auto rsa_sig = sign(rsa, *rsa_key, as_bytes("m"));
  ASSERT_TRUE(rsa_sig);
  auto v = verify(rsa, *ec_key->public_key(), as_bytes("m"), *rsa_sig);
  ASSERT_FALSE(v);
  expect_usage(v.error());
  // Another RSA key: a bad signature.
  auto other = rsa.generate();
  ASSERT_TRUE(other);
  expect_verification_failed(verify(rsa, *other->public_key(), as_bytes("m"), *rsa_sig));
}

// ---- Components (RFC 8017 clause 3) ----

TEST_F(RsaOracle, ComponentsRoundTripAndSignTheSame) {
  const PrivateKey original = key();
  auto c = rsa_private_components(original);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->n.size(), 256u);
  EXPECT_NE(c->n.front(), 0);  // minimal
  EXPECT_EQ(c->e, (Bytes{0x01, 0x00, 0x01}));
  for (const SecretBytes* v : {&c->d, &c->p, &c->q, &c->dp, &c->dq, &c->qi}) {
    ASSERT_FALSE(v->empty());
    EXPECT_NE(v->view().front(), 0);
  }
  EXPECT_EQ(c->p.size(), 128u);
  EXPECT_EQ(c->q.size(), 128u);

  // The public components of the CLI's public key are the same n and e.
  auto pc = rsa_public_components(pub());
  ASSERT_TRUE(pc);
  EXPECT_EQ(pc->n, c->n);
  EXPECT_EQ(pc->e, c->e);

  // A key built from the components signs exactly as the original (PKCS #1 v1.5 is deterministic).
  auto rebuilt = rsa_private_key(*c);
  ASSERT_TRUE(rebuilt) << rebuilt.error().to_string();
  const SignatureScheme s = scheme("rsa-pkcs1-sha256");
  EXPECT_EQ(sign(s, *rebuilt, as_bytes("same"), SignatureEncoding::kRaw).value(),
            sign(s, original, as_bytes("same"), SignatureEncoding::kRaw).value());
  auto again = rsa_private_components(*rebuilt);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->n, c->n);
  EXPECT_TRUE(ct::equal(again->d.view(), c->d.view()));
  EXPECT_TRUE(ct::equal(again->qi.view(), c->qi.view()));

  // The rebuilt key is the CLI's key: its PKCS #8 is accepted by `openssl pkey -check`, and its public key
  // has the CLI's SubjectPublicKeyInfo.
  auto pem = rebuilt->to_pem();
  ASSERT_TRUE(pem);
  write_file(file("rebuilt.pem"), pem->view());
  EXPECT_EQ(openssl("pkey -in " + file("rebuilt.pem") + " -check -noout"), 0) << log();
  auto from_components = rsa_public_key({c->n, c->e});
  ASSERT_TRUE(from_components);
  EXPECT_EQ(from_components->to_der().value(), pub().to_der().value());
  EXPECT_TRUE(verify(s, *from_components, as_bytes("same"), sign(s, original, as_bytes("same")).value()));
}

TEST_F(RsaOracle, BadPublicComponentsRefused) {
  const RsaPublicComponents good = rsa_public_components(pub()).value();
  ASSERT_TRUE(rsa_public_key(good));
  auto refused = [](const RsaPublicComponents& c, const char* what) {
    auto k = rsa_public_key(c);
    ASSERT_FALSE(k) << what;
    expect_usage(k.error());
  };
  refused({concat({Bytes{0}, good.n}), good.e}, "n with a leading zero octet");
  Bytes even = good.n;
  even.back() ^= 0x01;
  refused({even, good.e}, "even n");
  Bytes short_n = good.n;
  short_n[0] = 0x7F;  // 2047 bits
  refused({short_n, good.e}, "2047-bit n");
  refused({Bytes(2049, 0xFF), good.e}, "16392-bit n");
  refused({{}, good.e}, "empty n");
  refused({good.n, {}}, "empty e");
  refused({good.n, Bytes{0x00, 0x01, 0x00, 0x01}}, "e with a leading zero octet");
  refused({good.n, Bytes{0x01}}, "e = 1");
  refused({good.n, Bytes{0x01, 0x00, 0x00}}, "even e");
  refused({good.n, good.n}, "e = n");
  EXPECT_TRUE(rsa_public_key({good.n, Bytes{0x03}}));  // small odd e is allowed (RFC 8017 clause 3.1)
}

TEST_F(RsaOracle, InconsistentPrivateComponentsRefused) {
  const RsaPrivateComponents good = rsa_private_components(key()).value();
  auto refused = [](const RsaPrivateComponents& c, const char* what) {
    auto k = rsa_private_key(c);
    ASSERT_FALSE(k) << what;
    expect_usage(k.error());
  };
  auto flip_last = [](SecretBytes& v) { v.data()[v.size() - 1] ^= 0x02; };
  {
    RsaPrivateComponents c = clone(good);
    flip_last(c.dp);
    refused(c, "dp");
  }
  {
    RsaPrivateComponents c = clone(good);
    flip_last(c.dq);
    refused(c, "dq");
  }
  {
    RsaPrivateComponents c = clone(good);
    flip_last(c.qi);
    refused(c, "qi");
  }
  {
    RsaPrivateComponents c = clone(good);
    flip_last(c.d);
    refused(c, "d");
  }
  {
    RsaPrivateComponents c = clone(good);
    flip_last(c.q);  // q + 2 or q - 2: n != p * q
    refused(c, "q");
  }
  {
    RsaPrivateComponents c = clone(good);
    std::swap(c.p, c.q);  // then qi is not q^-1 mod p
    std::swap(c.dp, c.dq);
    refused(c, "p and q swapped");
  }
  {
    RsaPrivateComponents c = clone(good);
    c.n.back() ^= 0x02;  // still odd, no longer p * q
    refused(c, "n");
  }
  {
    RsaPrivateComponents c = clone(good);
    c.qi = SecretBytes();
    refused(c, "missing qi");
  }
  // Another key's CRT values.
  auto other = rsa_private_components(scheme("rsa-pkcs1-sha256").generate().value()).value();
  {
    RsaPrivateComponents c = clone(good);
    c.dp = other.dp.clone();
    c.dq = other.dq.clone();
    refused(c, "another key's dp, dq");
  }
  EXPECT_TRUE(rsa_private_key(good));
}

TEST(RsaComponents, RefuseKeysOfAnotherType) {
  auto ec = SignatureScheme::named("ecdsa-p256-sha256")->generate();
  ASSERT_TRUE(ec);
  auto pc = rsa_public_components(*ec->public_key());
  ASSERT_FALSE(pc);
  expect_usage(pc.error());
  auto c = rsa_private_components(*ec);
  ASSERT_FALSE(c);
  expect_usage(c.error());
  auto enc = rsa_oaep_sha256_encrypt(*ec->public_key(), as_bytes("m"));
  ASSERT_FALSE(enc);
  expect_usage(enc.error());
  auto dec = rsa_oaep_sha256_decrypt(*ec, Bytes(256, 1));
  ASSERT_FALSE(dec);
  expect_usage(dec.error());
}

// ---- RSAES-OAEP with SHA-256 (RFC 8017 clause 7.1; RFC 7518 clause 4.3) ----

const std::string kOaepOpts =
    " -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 ";

TEST_F(RsaOracle, OaepAgreesWithOpenSslCliBothWays) {
  const PrivateKey k = key();
  // The CLI encrypts, we decrypt.
  const Bytes cek(32, 0x3C);
  write_file(file("cek.bin"), cek);
  ASSERT_EQ(openssl("pkeyutl -encrypt -pubin -inkey " + file("pub.pem") + kOaepOpts + "-in " + file("cek.bin") +
                    " -out " + file("cli.ct")),
            0)
      << log();
  const Bytes cli_ct = bytes_of(read_file(file("cli.ct")));
  ASSERT_EQ(cli_ct.size(), 256u);
  auto decrypted = rsa_oaep_sha256_decrypt(k, cli_ct);
  ASSERT_TRUE(decrypted) << decrypted.error().to_string();
  EXPECT_TRUE(ct::equal(decrypted->view(), cek));

  // We encrypt (up to the longest plaintext, k - 2 * 32 - 2 = 190 octets), the CLI decrypts.
  for (std::size_t n : {0u, 1u, 32u, 190u}) {
    SCOPED_TRACE(n);
    Bytes plaintext(n);
    for (std::size_t i = 0; i < n; ++i) plaintext[i] = static_cast<std::uint8_t>(i ^ 0xA5);
    auto ct = rsa_oaep_sha256_encrypt(pub(), plaintext);
    ASSERT_TRUE(ct) << ct.error().to_string();
    ASSERT_EQ(ct->size(), 256u);
    write_file(file("our.ct"), *ct);
    ASSERT_EQ(openssl("pkeyutl -decrypt -inkey " + file("key.pem") + kOaepOpts + "-in " + file("our.ct") + " -out " +
                      file("our.pt")),
              0)
        << log();
    EXPECT_EQ(bytes_of(read_file(file("our.pt"))), plaintext);
    auto back = rsa_oaep_sha256_decrypt(k, *ct);
    ASSERT_TRUE(back);
    EXPECT_TRUE(ct::equal(back->view(), plaintext));
  }
  // OAEP is randomized.
  EXPECT_NE(rsa_oaep_sha256_encrypt(pub(), cek).value(), rsa_oaep_sha256_encrypt(pub(), cek).value());
  auto too_long = rsa_oaep_sha256_encrypt(pub(), Bytes(191, 1));
  ASSERT_FALSE(too_long);
  expect_usage(too_long.error());
}

TEST_F(RsaOracle, OaepFailuresAreOneIndistinguishableError) {
  const PrivateKey k = key();
  const Bytes ct = rsa_oaep_sha256_encrypt(pub(), as_bytes("content encryption key")).value();
  std::set<std::string> details;
  auto expect_refused = [&](const Result<SecretBytes>& r, const std::string& what) {
    ASSERT_FALSE(r) << what;
    EXPECT_EQ(r.error().category(), Category::kCrypto) << what;
    details.insert(r.error().detail());
  };
  for (std::size_t i : {std::size_t{0}, std::size_t{1}, std::size_t{127}, std::size_t{255}}) {
    Bytes bad = ct;
    bad[i] ^= 0x01;
    expect_refused(rsa_oaep_sha256_decrypt(k, bad), "flipped octet " + std::to_string(i));
  }
  expect_refused(rsa_oaep_sha256_decrypt(k, ByteView(ct).first(255)), "truncated");
  expect_refused(rsa_oaep_sha256_decrypt(k, concat({ct, Bytes{0}})), "extended");
  expect_refused(rsa_oaep_sha256_decrypt(k, Bytes{}), "empty");
  expect_refused(rsa_oaep_sha256_decrypt(k, Bytes(256, 0xFF)), "above the modulus");
  expect_refused(rsa_oaep_sha256_decrypt(k, Bytes(256, 0x00)), "zero");
  auto other = scheme("rsa-pkcs1-sha256").generate();
  ASSERT_TRUE(other);
  expect_refused(rsa_oaep_sha256_decrypt(*other, ct), "another key");

  // Other paddings of the same plaintext, made by the CLI: PKCS #1 v1.5 and OAEP with SHA-1 (RSA-OAEP).
  write_file(file("pt.bin"), as_bytes("content encryption key"));
  ASSERT_EQ(openssl("pkeyutl -encrypt -pubin -inkey " + file("pub.pem") +
                    " -pkeyopt rsa_padding_mode:pkcs1 -in " + file("pt.bin") + " -out " + file("v15.ct")),
            0)
      << log();
  expect_refused(rsa_oaep_sha256_decrypt(k, bytes_of(read_file(file("v15.ct")))), "PKCS #1 v1.5 padding");
  ASSERT_EQ(openssl("pkeyutl -encrypt -pubin -inkey " + file("pub.pem") +
                    " -pkeyopt rsa_padding_mode:oaep -in " + file("pt.bin") + " -out " + file("sha1.ct")),
            0)
      << log();
  expect_refused(rsa_oaep_sha256_decrypt(k, bytes_of(read_file(file("sha1.ct")))), "OAEP with SHA-1");
  // A label (RFC 8017 clause 7.1.1: L) changes lHash.
  ASSERT_EQ(openssl("pkeyutl -encrypt -pubin -inkey " + file("pub.pem") + kOaepOpts +
                    "-pkeyopt rsa_oaep_label:00 -in " + file("pt.bin") + " -out " + file("label.ct")),
            0)
      << log();
  expect_refused(rsa_oaep_sha256_decrypt(k, bytes_of(read_file(file("label.ct")))), "non-empty label");

  EXPECT_EQ(details.size(), 1u) << "every failure must read the same";
  EXPECT_EQ(*details.begin(), "decryption failed");
  EXPECT_TRUE(ct::equal(rsa_oaep_sha256_decrypt(k, ct)->view(), as_bytes("content encryption key")));
}

}  // namespace
}  // namespace m2msec::crypto

// The GOST algorithm set through the registry: Streebog (RFC 6986), Kuznyechik (RFC 7801) and
// GOST R 34.10-2012 (RFC 7091) signatures, with the OpenSSL CLI and the GOST engine as the oracle.
#include <gtest/gtest.h>
// The test reads the curve of an engine key through the EC_KEY API, which OpenSSL 3 deprecates.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "m2msec/core/encoding.h"
#include "m2msec/crypto/block_cipher.h"
#include "m2msec/crypto/hash.h"
#include "m2msec/crypto/registry.h"
#include "m2msec/crypto/signature.h"
#include <algorithm>
#include <cstdlib>

#include "oracle.h"
#include "vectors.h"

namespace m2msec::crypto {
namespace {

TEST(Gost, StreebogRfc6986) {
  test::for_each_vector("gost.vec", [](const test::Vector& v) {
    if (v.section != "streebog") return;
    for (const char* name : {"streebog-256", "streebog-512"}) {
      auto hash = Hash::named(name);
      ASSERT_TRUE(hash) << hash.error().to_string();
      EXPECT_EQ(hex_encode(hash->digest(v.hex("Message")).value()), v.text(name)) << name;
    }
  });
}

TEST(Gost, HmacAndHkdfTakeAnyRegisteredHash) {
  // Algorithm agility: the same callers work with a national hash; the output size follows the hash.
  const Hash streebog = Hash::named("streebog-512").value();
  auto mac = hmac(streebog, Bytes(32, 1), {as_bytes("m2msec")});
  ASSERT_TRUE(mac);
  EXPECT_EQ(mac->size(), 64u);
  auto okm = hkdf(streebog, Bytes(8, 2), Bytes(32, 3), as_bytes("info"), 100);
  ASSERT_TRUE(okm);
  EXPECT_EQ(okm->size(), 100u);
}

TEST(BlockCipher, KnownAnswers) {
  int count = 0;
  test::for_each_vector("gost.vec", [&](const test::Vector& v) {
    if (v.section == "streebog") return;
    auto cipher = BlockCipher::named(v.section);
    ASSERT_TRUE(cipher) << cipher.error().to_string();
    Bytes out(cipher->block_size());
    ASSERT_TRUE(cipher->encrypt_block(v.hex("Key"), v.hex("Plaintext"), out));
    EXPECT_EQ(hex_encode(out), v.text("Ciphertext"));
    Bytes back(cipher->block_size());
    ASSERT_TRUE(cipher->decrypt_block(v.hex("Key"), out, back));
    EXPECT_EQ(back, v.hex("Plaintext"));
    ++count;
  });
  EXPECT_EQ(count, 3);
}

TEST(BlockCipher, RefusesWrongSizesAndNames) {
  const BlockCipher k = BlockCipher::named("kuznyechik").value();
  Bytes out(16);
  EXPECT_FALSE(k.encrypt_block(Bytes(16), Bytes(16), out));  // 128-bit key: Kuznyechik keys are 256 bits
  EXPECT_FALSE(k.encrypt_block(Bytes(32), Bytes(15), out));
  Bytes small(8);
  EXPECT_FALSE(k.encrypt_block(Bytes(32), Bytes(16), small));
  auto bad = BlockCipher::named("magma");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().category(), Category::kUnsupported);
  EXPECT_EQ(algorithm_names(Family::kBlockCipher), (std::vector<std::string_view>{"aes-128", "aes-256", "kuznyechik"}));
}

class GostSignature : public ::testing::TestWithParam<std::string_view> {};

TEST_P(GostSignature, SignVerifyAndTamper) {
  const SignatureScheme scheme = SignatureScheme::named(GetParam()).value();
  auto key = scheme.generate();
  ASSERT_TRUE(key) << key.error().to_string();
  const PublicKey pub = key->public_key().value();
  const Bytes msg{'o', 'n', 'e', 'M', '2', 'M'};
  auto sig = sign(scheme, *key, msg, SignatureEncoding::kRaw);
  ASSERT_TRUE(sig) << sig.error().to_string();
  EXPECT_EQ(sig->size(), GetParam() == "gost2012-256" ? 64u : 128u);
  EXPECT_TRUE(verify(scheme, pub, msg, *sig, SignatureEncoding::kRaw));

  Bytes bad = *sig;
  bad[bad.size() / 2] ^= 0x01;
  auto r = verify(scheme, pub, msg, bad, SignatureEncoding::kRaw);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().category(), Category::kCrypto);
  EXPECT_FALSE(verify(scheme, pub, Bytes{'x'}, *sig, SignatureEncoding::kRaw));
  EXPECT_FALSE(verify(scheme, pub, msg, Bytes(sig->begin(), sig->end() - 1), SignatureEncoding::kRaw));
  // GOST has no DER form in this API.
  EXPECT_EQ(sign(scheme, *key, msg).error().category(), Category::kUsage);
  // A key of another scheme is refused before any signing.
  const SignatureScheme p256 = SignatureScheme::named("ecdsa-p256-sha256").value();
  auto ec = p256.generate().value();
  EXPECT_EQ(sign(scheme, ec, msg, SignatureEncoding::kRaw).error().category(), Category::kUsage);
  EXPECT_EQ(verify(scheme, ec.public_key().value(), msg, *sig, SignatureEncoding::kRaw).error().category(),
            Category::kUsage);
}

// The OpenSSL CLI with the GOST engine verifies what we sign.
TEST_P(GostSignature, OpensslCliVerifiesOurSignature) {
  const SignatureScheme scheme = SignatureScheme::named(GetParam()).value();
  auto key = scheme.generate().value();
  auto pem = key.public_key().value().to_pem();
  ASSERT_TRUE(pem) << pem.error().to_string();
  const Bytes msg(1000, 0x61);
  const Bytes sig = sign(scheme, key, msg, SignatureEncoding::kRaw).value();

  const test::TempDir dir("m2msec-gost");
  test::write_file(dir.file("pub.pem"), as_bytes(*pem));
  test::write_file(dir.file("msg"), msg);
  test::write_file(dir.file("sig"), sig);
  Bytes bad = sig;
  bad[0] ^= 1;
  test::write_file(dir.file("bad"), bad);
  const std::string md = GetParam() == "gost2012-256" ? "-md_gost12_256" : "-md_gost12_512";
  auto cli = [&](const char* sig_file) {
    return test::run(dir, "openssl dgst -engine gost " + md + " -verify " + dir.file("pub.pem") + " -signature " +
                              dir.file(sig_file) + " " + dir.file("msg"));
  };
  EXPECT_EQ(cli("sig"), 0) << test::read_file(dir.file("log"));
  EXPECT_NE(cli("bad"), 0);
}

// And we verify what the OpenSSL CLI with the GOST engine signs, with a key it generated.
TEST_P(GostSignature, WeVerifyOpensslCliSignature) {
  const SignatureScheme scheme = SignatureScheme::named(GetParam()).value();
  const test::TempDir dir("m2msec-gost");
  const bool is256 = GetParam() == "gost2012-256";
  const std::string cmd =
      "cd " + dir.file("") + " && printf 'oneM2M' > msg && openssl genpkey -engine gost -algorithm " +
      (is256 ? "gost2012_256 -pkeyopt paramset:TCA" : "gost2012_512 -pkeyopt paramset:A") +
      " -out key.pem && openssl pkey -engine gost -in key.pem -pubout -out pub.pem"
      " && openssl dgst -engine gost " + (is256 ? "-md_gost12_256" : "-md_gost12_512") + " -sign key.pem -out sig msg";
  ASSERT_EQ(test::run(dir, cmd), 0) << test::read_file(dir.file("log"));
  const std::string sig_text = test::read_file(dir.file("sig"));
  const Bytes sig(sig_text.begin(), sig_text.end());
  auto pub = PublicKey::from_pem(test::read_file(dir.file("pub.pem")));
  ASSERT_TRUE(pub) << pub.error().to_string();
  EXPECT_TRUE(verify(scheme, *pub, as_bytes("oneM2M"), sig, SignatureEncoding::kRaw));
  EXPECT_FALSE(verify(scheme, *pub, as_bytes("oneM2N"), sig, SignatureEncoding::kRaw));
}

std::string bn_hex(const BIGNUM* bn) {
  char* text = BN_bn2hex(bn);
  std::string out(text);
  OPENSSL_free(text);
  return out;
}

std::string point_hex(const EC_GROUP* group, const EC_POINT* point) {
  BIGNUM* x = BN_new();
  BIGNUM* y = BN_new();
  EC_POINT_get_affine_coordinates(group, point, x, y, nullptr);
  std::string out = bn_hex(x) + " " + bn_hex(y);
  BN_free(x);
  BN_free(y);
  return out;
}

// An independent verifier written from RFC 7091 with Python integers (tests/oracles/gost3410_verify.py,
// itself checked against the RFC 7091 A.1 example) accepts our signatures, given the key's curve, the
// Streebog digest read as a little-endian integer (GOST R 34.10-2012 6.1 step 2 applied to the octet
// string), and the signature as s || r.
TEST_P(GostSignature, IndependentRfc7091VerifierAcceptsOurSignature) {
  const std::string oracle = std::string(M2MSEC_SOURCE_DIR) + "/tests/oracles/gost3410_verify.py";
  const test::TempDir dir("m2msec-gost");
  ASSERT_EQ(test::run(dir, "python3 " + oracle + " --self-test"), 0) << test::read_file(dir.file("log"));

  const SignatureScheme scheme = SignatureScheme::named(GetParam()).value();
  const Hash hash = Hash::named(GetParam() == "gost2012-256" ? "streebog-256" : "streebog-512").value();
  const PrivateKey key = scheme.generate().value();
  const Bytes msg{'o', 'n', 'e', 'M', '2', 'M'};
  const Bytes sig = sign(scheme, key, msg, SignatureEncoding::kRaw).value();
  const std::size_t half = sig.size() / 2;

  const auto* ec = static_cast<const EC_KEY*>(EVP_PKEY_get0(key.evp()));
  ASSERT_NE(ec, nullptr);
  const EC_GROUP* group = EC_KEY_get0_group(ec);
  BIGNUM* p = BN_new();
  BIGNUM* a = BN_new();
  BIGNUM* b = BN_new();
  ASSERT_EQ(EC_GROUP_get_curve(group, p, a, b, nullptr), 1);
  Bytes digest = hash.digest(msg).value();
  std::reverse(digest.begin(), digest.end());  // little-endian octets -> big-endian hex
  auto args = [&](ByteView e, ByteView r, ByteView s) {
    return bn_hex(p) + " " + bn_hex(a) + " " + bn_hex(b) + " " + bn_hex(EC_GROUP_get0_order(group)) + " " +
           point_hex(group, EC_GROUP_get0_generator(group)) + " " + point_hex(group, EC_KEY_get0_public_key(ec)) +
           " " + hex_encode(e) + " " + hex_encode(r) + " " + hex_encode(s);
  };
  const ByteView s_part = ByteView(sig).first(half);
  const ByteView r_part = ByteView(sig).subspan(half);
  EXPECT_EQ(test::run(dir, "python3 " + oracle + " " + args(digest, r_part, s_part)), 0)
      << test::read_file(dir.file("log"));
  Bytes other = digest;
  other.back() ^= 1;
  EXPECT_EQ(test::run(dir, "python3 " + oracle + " " + args(other, r_part, s_part)), 1);
  BN_free(p);
  BN_free(a);
  BN_free(b);
}

INSTANTIATE_TEST_SUITE_P(Rfc7091, GostSignature, ::testing::Values("gost2012-256", "gost2012-512"),
                         [](const auto& param_info) {
                           return param_info.param == "gost2012-256" ? std::string("bits256") : std::string("bits512");
                         });

}  // namespace
}  // namespace m2msec::crypto

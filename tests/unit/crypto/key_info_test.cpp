#include "m2msec/crypto/key_info.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "m2msec/core/encoding.h"
#include "m2msec/crypto/key_agreement.h"
#include "m2msec/crypto/signature.h"
#include "oracle.h"
#include "vectors.h"

namespace m2msec::crypto {
namespace {

void expect_usage(const Error& e) { EXPECT_EQ(e.category(), Category::kUsage) << e.to_string(); }

struct Expected {
  std::string group;
  std::size_t bits;
};

// The keys of RFC 6979 A.2.5-A.2.7: type, curve, size, and the private scalar as the RFC gives it.
TEST(KeyInfo, EcdsaVectorKeys) {
  const std::map<std::string, Expected> expected{{"ecdsa-p256-sha256", {"prime256v1", 256}},
                                                 {"ecdsa-p384-sha384", {"secp384r1", 384}},
                                                 {"ecdsa-p521-sha512", {"secp521r1", 521}}};
  const int n = test::for_each_vector("ecdsa_rfc6979.vec", [&](const test::Vector& v) {
    const Expected& e = expected.at(v.text("Scheme"));
    const SignatureScheme s = SignatureScheme::named(v.text("Scheme")).value();
    auto key = s.private_key_from_raw(v.hex("X"));
    ASSERT_TRUE(key);
    auto pub = s.public_key_from_raw(concat({Bytes{0x04}, v.hex("Ux"), v.hex("Uy")}));
    ASSERT_TRUE(pub);
    EXPECT_EQ(key_type(*key), KeyType::kEc);
    EXPECT_EQ(key_type(*pub), KeyType::kEc);
    EXPECT_EQ(ec_group_name(*pub).value(), e.group);
    EXPECT_EQ(key_bits(*pub), e.bits);
    auto d = ec_private_scalar(*key);
    ASSERT_TRUE(d) << d.error().to_string();
    EXPECT_EQ(hex_encode(d->view(), HexCase::kUpper), v.text("X"));  // P-521: 66 octets, leading 00
  });
  EXPECT_EQ(n, 6);
}

// The keys of RFC 5903 clause 8 and RFC 7027 Appendix A.1 (brainpoolP256r1; P-521 with a leading 00 octet).
TEST(KeyInfo, EcdhVectorKeys) {
  const std::map<std::string, Expected> expected{{"ecdh-p256", {"prime256v1", 256}},
                                                 {"ecdh-p384", {"secp384r1", 384}},
                                                 {"ecdh-p521", {"secp521r1", 521}},
                                                 {"ecdh-brainpoolp256r1", {"brainpoolP256r1", 256}}};
  const int n = test::for_each_vector("ecdh_rfc5903_rfc7027.vec", [&](const test::Vector& v) {
    const Expected& e = expected.at(v.text("Scheme"));
    const KeyAgreement ka = KeyAgreement::named(v.text("Scheme")).value();
    for (const char* field : {"PrivA", "PrivB"}) {
      auto key = ka.private_key_from_raw(v.hex(field));
      ASSERT_TRUE(key);
      auto pub = key->public_key();
      ASSERT_TRUE(pub);
      EXPECT_EQ(ec_group_name(*pub).value(), e.group);
      EXPECT_EQ(key_bits(*pub), e.bits);
      EXPECT_EQ(hex_encode(ec_private_scalar(*key)->view(), HexCase::kUpper), v.text(field));
    }
  });
  EXPECT_EQ(n, 4);
}

TEST(KeyInfo, ScalarIsLeftPaddedToTheFieldSize) {
  const SignatureScheme p256 = SignatureScheme::named("ecdsa-p256-sha256").value();
  Bytes one(32, 0);
  one.back() = 1;
  auto key = p256.private_key_from_raw(one);
  ASSERT_TRUE(key);
  auto d = ec_private_scalar(*key);
  ASSERT_TRUE(d);
  EXPECT_EQ(Bytes(d->view().begin(), d->view().end()), one);
}

TEST(KeyInfo, Ed25519AndRsaKeys) {
  const SignatureScheme ed = SignatureScheme::named("ed25519").value();
  test::for_each_vector("ed25519_rfc8032.vec", [&](const test::Vector& v) {
    auto key = ed.private_key_from_raw(v.hex("Seed"));
    ASSERT_TRUE(key);
    auto pub = key->public_key();
    ASSERT_TRUE(pub);
    EXPECT_EQ(key_type(*key), KeyType::kEd25519);
    EXPECT_EQ(key_type(*pub), KeyType::kEd25519);
    EXPECT_EQ(key_bits(*pub), 256u);
    auto name = ec_group_name(*pub);
    ASSERT_FALSE(name);
    expect_usage(name.error());
    auto d = ec_private_scalar(*key);
    ASSERT_FALSE(d);
    expect_usage(d.error());
  });

  auto rsa = SignatureScheme::named("rsa-pkcs1-sha256")->generate();
  ASSERT_TRUE(rsa);
  auto rsa_pub = rsa->public_key();
  ASSERT_TRUE(rsa_pub);
  EXPECT_EQ(key_type(*rsa), KeyType::kRsa);
  EXPECT_EQ(key_type(*rsa_pub), KeyType::kRsa);
  EXPECT_EQ(key_bits(*rsa_pub), 2048u);
  auto name = ec_group_name(*rsa_pub);
  ASSERT_FALSE(name);
  expect_usage(name.error());
  auto d = ec_private_scalar(*rsa);
  ASSERT_FALSE(d);
  expect_usage(d.error());
}

// Keys of other types and EC keys from the openssl CLI (named by their NIST name there).
TEST(KeyInfo, KeysFromTheOpenSslCli) {
  test::TempDir dir("m2msec-keyinfo");
  ASSERT_EQ(test::run(dir, "openssl genpkey -algorithm X25519 -out " + dir.file("x25519.pem")), 0);
  ASSERT_EQ(test::run(dir, "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out " +
                               dir.file("p384.pem")),
            0);
  auto x = PrivateKey::from_pem(test::read_file(dir.file("x25519.pem")));
  ASSERT_TRUE(x);
  EXPECT_EQ(key_type(*x), KeyType::kOther);
  EXPECT_EQ(key_type(*x->public_key()), KeyType::kOther);
  auto p384 = PrivateKey::from_pem(test::read_file(dir.file("p384.pem")));
  ASSERT_TRUE(p384);
  EXPECT_EQ(ec_group_name(*p384->public_key()).value(), "secp384r1");
  auto d = ec_private_scalar(*p384);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->size(), 48u);
  // The scalar rebuilds the same key.
  auto rebuilt = SignatureScheme::named("ecdsa-p384-sha384")->private_key_from_raw(d->view());
  ASSERT_TRUE(rebuilt);
  EXPECT_EQ(rebuilt->public_key()->raw().value(), p384->public_key()->raw().value());
}

}  // namespace
}  // namespace m2msec::crypto

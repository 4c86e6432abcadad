#include "m2msec/crypto/key_agreement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "m2msec/core/encoding.h"
#include "m2msec/crypto/registry.h"
#include "oracle.h"
#include "vectors.h"

namespace m2msec::crypto {
namespace {

KeyAgreement scheme(const std::string& name) {
  auto s = KeyAgreement::named(name);
  M2MSEC_CHECK(s.has_value());
  return *s;
}

void expect_usage(const Error& e) { EXPECT_EQ(e.category(), Category::kUsage) << e.to_string(); }

// RFC 5903 clauses 8.1, 8.2, 8.3 and RFC 7027 Appendix A.1.
TEST(Ecdh, RfcKnownAnswers) {
  const int n = test::for_each_vector("ecdh_rfc5903_rfc7027.vec", [](const test::Vector& v) {
    const KeyAgreement ka = scheme(v.text("Scheme"));
    const Bytes point_a = concat({Bytes{0x04}, v.hex("PubAx"), v.hex("PubAy")});
    const Bytes point_b = concat({Bytes{0x04}, v.hex("PubBx"), v.hex("PubBy")});
    const std::string shared = v.text("SharedX");

    auto a = ka.private_key_from_raw(v.hex("PrivA"));
    auto b = ka.private_key_from_raw(v.hex("PrivB"));
    ASSERT_TRUE(a && b);
    // g^i and g^r as the RFC lists them.
    auto a_pub = a->public_key();
    auto b_pub = b->public_key();
    ASSERT_TRUE(a_pub && b_pub);
    EXPECT_EQ(*a_pub->raw(), point_a);
    EXPECT_EQ(*b_pub->raw(), point_b);

    auto peer_a = ka.public_key_from_raw(point_a);
    auto peer_b = ka.public_key_from_raw(point_b);
    ASSERT_TRUE(peer_a && peer_b);
    auto z1 = derive_shared_secret(ka, *a, *peer_b);
    auto z2 = derive_shared_secret(ka, *b, *peer_a);
    ASSERT_TRUE(z1) << z1.error().to_string();
    ASSERT_TRUE(z2) << z2.error().to_string();
    EXPECT_EQ(hex_encode(z1->view(), HexCase::kUpper), shared);
    EXPECT_EQ(hex_encode(z2->view(), HexCase::kUpper), shared);
    EXPECT_EQ(z1->size(), ka.shared_secret_size());
    EXPECT_EQ(z1->size(), v.hex("PrivA").size());

    // A point next to the peer's (y + 1) is not on the curve.
    Bytes off = point_b;
    off.back() ^= 0x01;
    auto bad = ka.public_key_from_raw(off);
    ASSERT_FALSE(bad);
    expect_usage(bad.error());
  });
  EXPECT_EQ(n, 4);
}

TEST(Ecdh, GeneratedKeysAgree) {
  for (const char* name : {"ecdh-p256", "ecdh-p384", "ecdh-p521", "ecdh-brainpoolp256r1"}) {
    SCOPED_TRACE(name);
    const KeyAgreement ka = scheme(name);
    auto a = ka.generate();
    auto b = ka.generate();
    ASSERT_TRUE(a && b);
    auto a_pub = a->public_key();
    auto b_pub = b->public_key();
    ASSERT_TRUE(a_pub && b_pub);
    auto z1 = derive_shared_secret(ka, *a, *b_pub);
    auto z2 = derive_shared_secret(ka, *b, *a_pub);
    ASSERT_TRUE(z1 && z2);
    EXPECT_TRUE(ct::equal(z1->view(), z2->view()));
    EXPECT_EQ(z1->size(), ka.shared_secret_size());
    auto c = ka.generate();
    ASSERT_TRUE(c);
    auto z3 = derive_shared_secret(ka, *c, *b_pub);
    ASSERT_TRUE(z3);
    EXPECT_FALSE(ct::equal(z1->view(), z3->view()));
  }
}

TEST(Ecdh, RefusesKeysOfAnotherCurve) {
  const KeyAgreement p256 = scheme("ecdh-p256");
  const KeyAgreement p384 = scheme("ecdh-p384");
  const KeyAgreement bp = scheme("ecdh-brainpoolp256r1");
  auto k256 = p256.generate();
  auto k384 = p384.generate();
  auto kbp = bp.generate();
  auto ked = SignatureScheme::named("ed25519")->generate();
  ASSERT_TRUE(k256 && k384 && kbp && ked);
  auto pub256 = k256->public_key();
  auto pub384 = k384->public_key();
  auto pubbp = kbp->public_key();
  auto pubed = ked->public_key();
  ASSERT_TRUE(pub256 && pub384 && pubbp && pubed);

  // Own key on the wrong curve (brainpoolP256r1 and P-256 have the same size: still refused).
  for (auto* mine : {&*k384, &*kbp, &*ked}) {
    auto z = derive_shared_secret(p256, *mine, *pub256);
    ASSERT_FALSE(z);
    expect_usage(z.error());
  }
  // Peer key on the wrong curve.
  for (auto* peer : {&*pub384, &*pubbp, &*pubed}) {
    auto z = derive_shared_secret(p256, *k256, *peer);
    ASSERT_FALSE(z);
    expect_usage(z.error());
  }
  // Both keys agree with each other but not with the scheme.
  auto z = derive_shared_secret(p384, *k256, *pub256);
  ASSERT_FALSE(z);
  expect_usage(z.error());
}

TEST(Ecdh, RawImportRefusesBadValues) {
  const KeyAgreement ka = scheme("ecdh-p256");
  auto key = ka.generate();
  ASSERT_TRUE(key);
  auto raw = key->public_key()->raw();
  ASSERT_TRUE(raw);
  Bytes compressed(raw->begin(), raw->begin() + 33);
  compressed[0] = static_cast<std::uint8_t>(0x02 | (raw->back() & 1));
  Bytes wrong_prefix = *raw;
  wrong_prefix[0] = 0x06;
  Bytes infinity_like(65, 0);
  infinity_like[0] = 0x04;
  for (const Bytes& bad : {Bytes{}, Bytes{0x00}, compressed, wrong_prefix, infinity_like,
                           Bytes(raw->begin(), raw->end() - 1), concat({*raw, Bytes{0}})}) {
    auto p = ka.public_key_from_raw(bad);
    ASSERT_FALSE(p);
    expect_usage(p.error());
  }
  // A 48-octet P-384 point is not a P-256 point.
  auto other = scheme("ecdh-p384").generate();
  ASSERT_TRUE(other);
  auto p384_point = other->public_key()->raw();
  ASSERT_TRUE(p384_point);
  auto p = ka.public_key_from_raw(*p384_point);
  ASSERT_FALSE(p);
  expect_usage(p.error());

  for (const Bytes& bad : {Bytes(31, 7), Bytes(48, 7), Bytes(32, 0), Bytes(32, 0xFF)}) {
    auto k = ka.private_key_from_raw(bad);
    ASSERT_FALSE(k);
    expect_usage(k.error());
  }
}

TEST(Ecdh, OffCurvePointInSubjectPublicKeyInfoRefused) {
  auto key = scheme("ecdh-p256").generate();
  ASSERT_TRUE(key);
  auto der = key->public_key()->to_der();
  ASSERT_TRUE(der);
  Bytes bad = *der;
  bad.back() ^= 0x01;  // the last octet of y
  auto p = PublicKey::from_der(bad);
  ASSERT_FALSE(p);
  expect_usage(p.error());
}

TEST(Ecdh, RegistryNames) {
  const auto names = algorithm_names(Family::kKeyAgreement);
  EXPECT_EQ(names, (std::vector<std::string_view>{"ecdh-p256", "ecdh-p384", "ecdh-p521", "ecdh-brainpoolp256r1"}));
  for (const char* bad : {"", "ecdh", "ecdh-p224", "x25519", "ECDH-P256"}) {
    auto s = KeyAgreement::named(bad);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().category(), Category::kUnsupported);
  }
  EXPECT_EQ(scheme("ecdh-p384").name(), "ecdh-p384");
  EXPECT_EQ(scheme("ecdh-p384").shared_secret_size(), 48u);
  EXPECT_EQ(scheme("ecdh-p521").shared_secret_size(), 66u);
}

TEST(Ecdh, P521RawFormsAreSixtySixOctets) {
  const KeyAgreement ka = scheme("ecdh-p521");
  auto key = ka.generate();
  ASSERT_TRUE(key);
  auto raw = key->public_key()->raw();
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->size(), 1u + 2 * 66);
  EXPECT_TRUE(ka.public_key_from_raw(*raw));
  // 65 octets (the P-521 scalar without its leading zero octet) and 66 octets of 0xFF (above n) are refused.
  for (const Bytes& bad : {Bytes(65, 7), Bytes(66, 0xFF), Bytes(66, 0)}) {
    auto k = ka.private_key_from_raw(bad);
    ASSERT_FALSE(k);
    expect_usage(k.error());
  }
}

// ---- The OpenSSL command line as an independent oracle ----

using test::read_file;
using test::run;
using test::TempDir;

TEST(EcdhOracle, OpenSslCliDerivesTheSameSecret) {
  for (auto [name, curve] : {std::pair{"ecdh-p256", "P-256"}, std::pair{"ecdh-p384", "P-384"},
                             std::pair{"ecdh-p521", "P-521"}, std::pair{"ecdh-brainpoolp256r1", "brainpoolP256r1"}}) {
    SCOPED_TRACE(name);
    TempDir dir("m2msec-ecdh");
    const KeyAgreement ka = scheme(name);
    // The peer's key pair comes from the CLI; ours from the library.
    ASSERT_EQ(run(dir, std::string("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:") + curve +
                           " -pkeyopt ec_param_enc:named_curve -out " + dir.file("peer.pem")),
              0)
        << read_file(dir.file("log"));
    ASSERT_EQ(run(dir, "openssl pkey -in " + dir.file("peer.pem") + " -pubout -out " + dir.file("peer_pub.pem")), 0);
    auto mine = ka.generate();
    ASSERT_TRUE(mine);
    auto my_pub_pem = mine->public_key()->to_pem();
    ASSERT_TRUE(my_pub_pem);
    {
      std::ofstream(dir.file("my_pub.pem")) << *my_pub_pem;
    }
    ASSERT_EQ(run(dir, "openssl pkeyutl -derive -inkey " + dir.file("peer.pem") + " -peerkey " +
                           dir.file("my_pub.pem") + " -out " + dir.file("z.bin")),
              0)
        << read_file(dir.file("log"));
    const std::string cli_z = read_file(dir.file("z.bin"));

    auto peer = PublicKey::from_pem(read_file(dir.file("peer_pub.pem")));
    ASSERT_TRUE(peer);
    auto z = derive_shared_secret(ka, *mine, *peer);
    ASSERT_TRUE(z) << z.error().to_string();
    EXPECT_EQ(cli_z.size(), ka.shared_secret_size());
    EXPECT_TRUE(ct::equal(z->view(), as_bytes(cli_z)));
  }
}

}  // namespace
}  // namespace m2msec::crypto

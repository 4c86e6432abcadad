#include <gtest/gtest.h>

#include "m2msec/core/encoding.h"
#include "m2msec/crypto/hash.h"
#include "vectors.h"

namespace m2msec::crypto {
namespace {

TEST(Hkdf, Rfc5869KnownAnswers) {
  test::for_each_vector("hkdf_rfc5869.vec", [](const test::Vector& v) {
    const Hash sha256 = Hash::sha256();
    const std::size_t length = std::stoul(v.text("Length"));
    auto prk = hkdf_extract(sha256, v.hex("Salt"), v.hex("Ikm"));
    ASSERT_TRUE(prk) << prk.error().to_string();
    EXPECT_EQ(hex_encode(prk->view()), v.text("Prk"));
    auto okm = hkdf_expand(sha256, prk->view(), v.hex("Info"), length);
    ASSERT_TRUE(okm) << okm.error().to_string();
    EXPECT_EQ(hex_encode(okm->view()), v.text("Okm"));
    auto both = hkdf(sha256, v.hex("Salt"), v.hex("Ikm"), v.hex("Info"), length);
    ASSERT_TRUE(both);
    EXPECT_EQ(hex_encode(both->view()), v.text("Okm"));
  });
}

TEST(Hkdf, RefusesImpossibleLengthsAndShortPrk) {
  const Hash sha256 = Hash::sha256();
  const Bytes prk(32, 1);
  for (std::size_t bad : {std::size_t{0}, std::size_t{255 * 32 + 1}}) {
    auto r = hkdf_expand(sha256, prk, {}, bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().category(), Category::kUsage);
  }
  EXPECT_TRUE(hkdf_expand(sha256, prk, {}, 255 * 32));
  EXPECT_FALSE(hkdf_expand(sha256, Bytes(31, 1), {}, 32));
}

TEST(Sha2, Fips180KnownAnswers) {
  test::for_each_vector("sha2_fips180.vec", [](const test::Vector& v) {
    const Bytes message = v.hex("Message");
    for (const char* name : {"sha-256", "sha-384", "sha-512"}) {
      const Hash hash = Hash::named(name).value();
      auto digest = hash.digest(message);
      ASSERT_TRUE(digest);
      EXPECT_EQ(digest->size(), hash.size());
      EXPECT_EQ(hex_encode(*digest), v.text(name)) << name;
    }
  });
}

}  // namespace
}  // namespace m2msec::crypto

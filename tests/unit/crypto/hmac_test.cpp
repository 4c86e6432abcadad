#include <gtest/gtest.h>

#include "m2msec/core/encoding.h"
#include "m2msec/crypto/hash.h"
#include "vectors.h"

namespace m2msec::crypto {
namespace {

TEST(Hmac, Rfc4231KnownAnswers) {
  test::for_each_vector("hmac_rfc4231.vec", [](const test::Vector& v) {
    const Bytes key = v.hex("Key");
    const Bytes data = v.hex("Data");
    for (const char* name : {"sha-256", "sha-384", "sha-512"}) {
      auto hash = Hash::named(name);
      ASSERT_TRUE(hash);
      auto mac = hmac(*hash, key, {data});
      ASSERT_TRUE(mac) << mac.error().to_string();
      EXPECT_EQ(hex_encode(mac->view()), v.text(name)) << name;
    }
  });
}

TEST(Hmac, PartsAreConcatenated) {
  // Feeding "Hi " and "There" separately equals one call over "Hi There" (RFC 4231 case 1 data).
  const Bytes key(20, 0x0b);
  auto whole = hmac(Hash::sha256(), key, {as_bytes("Hi There")});
  auto parts = hmac(Hash::sha256(), key, {as_bytes("Hi "), as_bytes(""), as_bytes("There")});
  ASSERT_TRUE(whole && parts);
  EXPECT_TRUE(ct::equal(whole->view(), parts->view()));
}

TEST(Hash, UnknownNameIsUnsupported) {
  auto h = Hash::named("md5");
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().category(), Category::kUnsupported);
}

}  // namespace
}  // namespace m2msec::crypto

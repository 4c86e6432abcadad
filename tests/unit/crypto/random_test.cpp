#include <gtest/gtest.h>

#include <set>

#include "m2msec/core/encoding.h"
#include "m2msec/crypto/random.h"

namespace m2msec::crypto {
namespace {

TEST(Random, FillsTheRequestedSizeWithFreshOctets) {
  Rng& rng = system_rng();
  EXPECT_TRUE(random_bytes(rng, 0).value().empty());
  std::set<std::string> seen;  // hex text: GCC 12 -O3 warns falsely on std::set<std::vector>
  for (int i = 0; i < 16; ++i) {
    auto bytes = random_bytes(rng, 32);
    ASSERT_TRUE(bytes);
    ASSERT_EQ(bytes->size(), 32u);
    seen.insert(hex_encode(*bytes));
  }
  EXPECT_EQ(seen.size(), 16u);  // 16 draws of 256 bits never collide unless the generator is broken
  auto secret = random_secret(rng, 48);
  ASSERT_TRUE(secret);
  EXPECT_EQ(secret->size(), 48u);
  EXPECT_FALSE(ct::equal(secret->view(), Bytes(48, 0)));
}

TEST(Random, LargeRequestsAreFilledCompletely) {
  auto bytes = random_bytes(system_rng(), 1 << 20);
  ASSERT_TRUE(bytes);
  // Every octet value appears in 1 MiB of uniform output (the chance of a miss is below 2^-3000).
  std::set<std::uint8_t> values(bytes->begin(), bytes->end());
  EXPECT_EQ(values.size(), 256u);
}

}  // namespace
}  // namespace m2msec::crypto

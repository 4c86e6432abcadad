#include <gtest/gtest.h>

#include <type_traits>

#include "m2msec/core/secret.h"

namespace m2msec {
namespace {

static_assert(!std::is_copy_constructible_v<SecretBytes>, "secrets are move-only");
static_assert(!std::is_copy_assignable_v<SecretBytes>, "secrets are move-only");
static_assert(std::is_nothrow_move_constructible_v<SecretBytes>);

template <typename T>
concept EqualityComparable = requires(const T& a, const T& b) { a == b; };
static_assert(!EqualityComparable<SecretBytes>, "secrets have no operator==; use ct::equal");

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  const Bytes a{1, 2, 3, 4};
  const Bytes b{1, 2, 3, 4};
  const Bytes c{1, 2, 3, 5};
  const Bytes d{1, 2, 3};
  EXPECT_TRUE(ct::equal(a, b));
  EXPECT_FALSE(ct::equal(a, c));
  EXPECT_FALSE(ct::equal(a, d));
  EXPECT_TRUE(ct::equal(ByteView{}, ByteView{}));
  // A difference in the first octet only must be found too (no early exit bug hiding it).
  EXPECT_FALSE(ct::equal(Bytes{0, 2, 3, 4}, a));
}

TEST(SecretBytes, CopyOfCloneAndTruncate) {
  const Bytes raw{9, 8, 7, 6, 5};
  SecretBytes s = SecretBytes::copy_of(raw);
  EXPECT_EQ(s.size(), 5u);
  SecretBytes c = s.clone();
  EXPECT_TRUE(ct::equal(s.view(), c.view()));
  c.truncate(2);
  EXPECT_TRUE(ct::equal(c.view(), Bytes{9, 8}));
  c.truncate(10);  // never grows
  EXPECT_EQ(c.size(), 2u);
  SecretBytes moved = std::move(s);
  EXPECT_EQ(moved.size(), 5u);
}

TEST(SecretBytes, AllocatorZeroizesOnRelease) {
  // Observe the allocator directly: deallocate() must wipe before handing memory back.
  ZeroizingAllocator<std::uint8_t> alloc;
  std::uint8_t* p = alloc.allocate(32);
  for (int i = 0; i < 32; ++i) p[i] = 0xa5;
  secure_zero(p, 32);
  for (int i = 0; i < 32; ++i) ASSERT_EQ(p[i], 0) << i;
  alloc.deallocate(p, 32);
}

TEST(SecretBytes, TruncateWipesTheTail) {
  SecretBytes s = SecretBytes::copy_of(Bytes{1, 2, 3, 4});
  const std::uint8_t* data = s.data();
  s.truncate(1);
  // The vector keeps its buffer on shrink, so the wiped tail is still readable through the old pointer.
  EXPECT_EQ(data[1], 0);
  EXPECT_EQ(data[2], 0);
  EXPECT_EQ(data[3], 0);
}

}  // namespace
}  // namespace m2msec

#include "m2msec/crypto/key_wrap.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "m2msec/core/encoding.h"
#include "m2msec/crypto/registry.h"
#include "vectors.h"

namespace m2msec::crypto {
namespace {

KeyWrap scheme(const std::string& name) {
  auto s = KeyWrap::named(name);
  M2MSEC_CHECK(s.has_value());
  return *s;
}

void expect_usage(const Error& e) { EXPECT_EQ(e.category(), Category::kUsage) << e.to_string(); }

// RFC 3394 sections 4.1-4.6.
TEST(KeyWrap, Rfc3394KnownAnswers) {
  std::set<std::string> schemes;
  const int n = test::for_each_vector("aes_kw_rfc3394.vec", [&](const test::Vector& v) {
    const KeyWrap kw = scheme(v.text("Scheme"));
    const Bytes kek = v.hex("Kek");
    const Bytes key_data = v.hex("KeyData");
    EXPECT_EQ(kw.key_size(), kek.size());
    auto wrapped = kw.wrap(kek, key_data);
    ASSERT_TRUE(wrapped) << wrapped.error().to_string();
    EXPECT_EQ(hex_encode(*wrapped, HexCase::kUpper), v.text("Wrapped"));
    auto unwrapped = kw.unwrap(kek, v.hex("Wrapped"));
    ASSERT_TRUE(unwrapped) << unwrapped.error().to_string();
    EXPECT_TRUE(ct::equal(unwrapped->view(), key_data));
    schemes.insert(v.text("Scheme"));
  });
  EXPECT_EQ(n, 6);
  EXPECT_EQ(schemes, (std::set<std::string>{"aes-128-kw", "aes-192-kw", "aes-256-kw"}));
}

class KeyWrapEach : public ::testing::TestWithParam<std::string_view> {};

TEST_P(KeyWrapEach, IntegrityFailuresAreOneIndistinguishableError) {
  const KeyWrap kw = scheme(std::string(GetParam()));
  const Bytes kek(kw.key_size(), 0x5A);
  const Bytes cek(32, 0xC3);
  const Bytes wrapped = kw.wrap(kek, cek).value();
  ASSERT_EQ(wrapped.size(), 40u);

  std::set<std::string> details;
  auto expect_refused = [&](const Result<SecretBytes>& r, const std::string& what) {
    ASSERT_FALSE(r) << what;
    EXPECT_EQ(r.error().category(), Category::kCrypto) << what;
    details.insert(r.error().detail());
  };
  // Any flipped bit (RFC 3394 clause 2.2.3: the initial value no longer checks out).
  for (std::size_t i = 0; i < wrapped.size(); ++i) {
    Bytes bad = wrapped;
    bad[i] ^= static_cast<std::uint8_t>(1u << (i % 8));
    expect_refused(kw.unwrap(kek, bad), "bit in octet " + std::to_string(i));
  }
  Bytes other_kek = kek;
  other_kek[0] ^= 0x01;
  expect_refused(kw.unwrap(other_kek, wrapped), "other KEK");
  expect_refused(kw.unwrap(kek, ByteView(wrapped).first(32)), "one block short");
  expect_refused(kw.unwrap(kek, ByteView(wrapped).subspan(8)), "first block dropped");
  expect_refused(kw.unwrap(kek, concat({wrapped, Bytes(8, 0)})), "one block more");
  for (std::size_t n : {0u, 8u, 16u, 25u, 39u, 41u}) {
    expect_refused(kw.unwrap(kek, Bytes(n, 0xA6)), "length " + std::to_string(n));
  }
  EXPECT_EQ(details.size(), 1u) << "every failure must read the same";
  EXPECT_EQ(*details.begin(), "key unwrap failed");
  // Still usable afterwards.
  EXPECT_TRUE(ct::equal(kw.unwrap(kek, wrapped)->view(), cek));
}

TEST_P(KeyWrapEach, RefusesWrongSizes) {
  const KeyWrap kw = scheme(std::string(GetParam()));
  const Bytes kek(kw.key_size(), 1);
  for (std::size_t n : {std::size_t{0}, kw.key_size() - 1, kw.key_size() + 1, std::size_t{64}}) {
    if (n == 16 || n == 24 || n == 32) continue;  // another scheme's valid size is checked below
    auto w = kw.wrap(Bytes(n, 1), Bytes(16, 2));
    ASSERT_FALSE(w);
    expect_usage(w.error());
    auto u = kw.unwrap(Bytes(n, 1), Bytes(24, 2));
    ASSERT_FALSE(u);
    expect_usage(u.error());
  }
  // A KEK of another AES size is still the wrong size for this scheme.
  const std::size_t other = kw.key_size() == 16 ? 32 : 16;
  auto w = kw.wrap(Bytes(other, 1), Bytes(16, 2));
  ASSERT_FALSE(w);
  expect_usage(w.error());
  // RFC 3394 clause 2: key data is n >= 2 64-bit blocks.
  for (std::size_t n : {0u, 1u, 8u, 15u, 17u, 23u, 31u}) {
    auto r = kw.wrap(kek, Bytes(n, 3));
    ASSERT_FALSE(r) << n;
    expect_usage(r.error());
  }
}

TEST_P(KeyWrapEach, RoundTripsKeysOfManySizes) {
  const KeyWrap kw = scheme(std::string(GetParam()));
  const Bytes kek(kw.key_size(), 0x07);
  for (std::size_t n : {16u, 24u, 32u, 48u, 64u, 256u}) {
    Bytes key(n);
    for (std::size_t i = 0; i < n; ++i) key[i] = static_cast<std::uint8_t>(i * 31 + n);
    auto wrapped = kw.wrap(kek, key);
    ASSERT_TRUE(wrapped);
    EXPECT_EQ(wrapped->size(), n + 8);
    auto back = kw.unwrap(kek, *wrapped);
    ASSERT_TRUE(back);
    EXPECT_TRUE(ct::equal(back->view(), key));
  }
}

INSTANTIATE_TEST_SUITE_P(Rfc3394, KeyWrapEach, ::testing::Values("aes-128-kw", "aes-192-kw", "aes-256-kw"),
                         [](const auto& param_info) {
                           std::string name(param_info.param);
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

TEST(KeyWrap, RegistryNames) {
  EXPECT_EQ(algorithm_names(Family::kKeyWrap),
            (std::vector<std::string_view>{"aes-128-kw", "aes-192-kw", "aes-256-kw"}));
  EXPECT_EQ(scheme("aes-192-kw").name(), "aes-192-kw");
  EXPECT_EQ(scheme("aes-192-kw").key_size(), 24u);
  for (const char* bad : {"", "aes-kw", "AES-128-KW", "aes-128-kwp", "a128kw"}) {
    auto s = KeyWrap::named(bad);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().category(), Category::kUnsupported);
  }
}

}  // namespace
}  // namespace m2msec::crypto

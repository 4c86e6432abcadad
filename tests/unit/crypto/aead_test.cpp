#include <gtest/gtest.h>

#include <set>

#include "m2msec/core/encoding.h"
#include "m2msec/crypto/aead.h"
#include "m2msec/crypto/registry.h"
#include "vectors.h"

namespace m2msec::crypto {
namespace {

AeadKey key_for(const std::string& name, const Bytes& key) {
  return AeadKey::create(Aead::named(name).value(), key).value();
}

TEST(Aead, KnownAnswers) {
  std::set<std::string> covered;
  test::for_each_vector("aead.vec", [&](const test::Vector& v) {
    AeadKey key = key_for(v.section, v.hex("Key"));
    const Bytes nonce = v.hex("Nonce");
    const Bytes aad = v.hex("Aad");
    const Bytes plaintext = v.hex("Plaintext");
    const Bytes sealed = v.hex("Sealed");
    auto opened = key.open(nonce, aad, sealed);
    if (v.has("Result") && v.text("Result") == "invalid") {
      ASSERT_FALSE(opened);
      EXPECT_EQ(opened.error().category(), Category::kCrypto);
      return;
    }
    auto ours = key.seal(nonce, aad, plaintext);
    ASSERT_TRUE(ours) << ours.error().to_string();
    EXPECT_EQ(hex_encode(*ours), v.text("Sealed"));
    ASSERT_TRUE(opened) << opened.error().to_string();
    EXPECT_EQ(*opened, plaintext);
    covered.insert(v.section);
  });
  for (const char* name : {"aes-128-gcm", "aes-192-gcm", "aes-256-gcm", "aes-128-ccm", "aes-256-ccm", "aes-128-ccm-8",
                           "aes-256-ccm-8"}) {
    EXPECT_TRUE(covered.count(name)) << name;
  }
}

class AeadEach : public ::testing::TestWithParam<std::string_view> {};

TEST_P(AeadEach, TamperingFailsWithOneIndistinguishableError) {
  const Aead aead = Aead::named(GetParam()).value();
  AeadKey key = AeadKey::create(aead, Bytes(aead.key_size(), 0x42)).value();
  const Bytes nonce(12, 0x24), aad{1, 2, 3}, plaintext{10, 20, 30, 40, 50};
  const Bytes sealed = key.seal(nonce, aad, plaintext).value();
  ASSERT_EQ(sealed.size(), plaintext.size() + aead.tag_size());

  std::set<std::string> details;
  auto expect_refused = [&](const Result<Bytes>& r, const char* what) {
    ASSERT_FALSE(r) << what;
    EXPECT_EQ(r.error().category(), Category::kCrypto) << what;
    details.insert(r.error().detail());
  };
  Bytes bad_tag = sealed;
  bad_tag.back() ^= 0x01;
  expect_refused(key.open(nonce, aad, bad_tag), "tag");
  Bytes bad_ct = sealed;
  bad_ct.front() ^= 0x80;
  expect_refused(key.open(nonce, aad, bad_ct), "ciphertext");
  expect_refused(key.open(nonce, Bytes{1, 2, 4}, sealed), "aad");
  Bytes bad_nonce = nonce;
  bad_nonce[11] ^= 1;
  expect_refused(key.open(bad_nonce, aad, sealed), "nonce");
  AeadKey other = AeadKey::create(aead, Bytes(aead.key_size(), 0x43)).value();
  expect_refused(other.open(nonce, aad, sealed), "key");
  expect_refused(key.open(nonce, aad, Bytes(sealed.begin(), sealed.begin() + aead.tag_size() - 1)), "short");
  expect_refused(key.open(nonce, aad, Bytes(sealed.begin() + 1, sealed.end())), "truncated front");
  EXPECT_EQ(details.size(), 1u) << "every mismatch must read the same";
  // And the key still works after failures.
  EXPECT_EQ(key.open(nonce, aad, sealed).value(), plaintext);
}

TEST_P(AeadEach, RefusesWrongSizes) {
  const Aead aead = Aead::named(GetParam()).value();
  for (std::size_t n : {std::size_t{0}, aead.key_size() - 1, aead.key_size() + 1}) {
    auto k = AeadKey::create(aead, Bytes(n, 1));
    ASSERT_FALSE(k);
    EXPECT_EQ(k.error().category(), Category::kUsage);
  }
  AeadKey key = AeadKey::create(aead, Bytes(aead.key_size(), 1)).value();
  for (std::size_t n : {0u, 8u, 11u, 13u, 16u}) {
    auto r = key.seal(Bytes(n, 0), {}, Bytes{1});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().category(), Category::kUsage);
  }
  Bytes small(aead.tag_size());
  auto r = key.seal(Bytes(12, 0), {}, Bytes{1, 2}, small);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().category(), Category::kUsage);
}

TEST_P(AeadEach, OneKeyManyMessagesAnyOrder) {
  const Aead aead = Aead::named(GetParam()).value();
  AeadKey key = AeadKey::create(aead, Bytes(aead.key_size(), 7)).value();
  std::vector<Bytes> nonces, sealed;
  for (std::uint8_t i = 0; i < 3; ++i) {
    nonces.push_back(Bytes(12, i));
    sealed.push_back(key.seal(nonces.back(), Bytes{i}, Bytes(100 * i, i)).value());
  }
  for (int i : {2, 0, 1}) {
    const auto u = static_cast<std::uint8_t>(i);
    EXPECT_EQ(key.open(nonces[u], Bytes{u}, sealed[u]).value(), Bytes(100 * u, u));
  }
  AeadKey moved = std::move(key);
  EXPECT_EQ(moved.open(nonces[1], Bytes{1}, sealed[1]).value(), Bytes(100, 1));
}

TEST_P(AeadEach, OneDirectionKeysInteroperateAndRefuseTheOtherDirection) {
  const Aead aead = Aead::named(GetParam()).value();
  const Bytes k(aead.key_size(), 9), nonce(12, 1), aad{1, 2};
  AeadKey sealer = AeadKey::create(aead, k, AeadUse::kSealOnly).value();
  AeadKey opener = AeadKey::create(aead, k, AeadUse::kOpenOnly).value();
  AeadKey both = AeadKey::create(aead, k).value();
  const Bytes sealed = sealer.seal(nonce, aad, Bytes(33, 5)).value();
  EXPECT_EQ(sealed, both.seal(nonce, aad, Bytes(33, 5)).value());
  EXPECT_EQ(opener.open(nonce, aad, sealed).value(), Bytes(33, 5));
  EXPECT_EQ(sealer.open(nonce, aad, sealed).error().category(), Category::kUsage);
  EXPECT_EQ(opener.seal(nonce, aad, Bytes(1, 1)).error().category(), Category::kUsage);
}

INSTANTIATE_TEST_SUITE_P(AnnexL, AeadEach,
                         ::testing::Values("aes-128-gcm", "aes-192-gcm", "aes-256-gcm", "aes-128-ccm", "aes-256-ccm",
                                           "aes-128-ccm-8", "aes-256-ccm-8"),
                         [](const auto& param_info) {
                           std::string name(param_info.param);
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

TEST(Aead, RegistryListsTheAnnexLSetAndAes192Gcm) {
  EXPECT_EQ(algorithm_names(Family::kAead),
            (std::vector<std::string_view>{"aes-128-gcm", "aes-192-gcm", "aes-256-gcm", "aes-128-ccm", "aes-256-ccm",
                                           "aes-128-ccm-8", "aes-256-ccm-8"}));
  EXPECT_EQ(Aead::named("aes-192-gcm")->key_size(), 24u);
  EXPECT_EQ(Aead::named("aes-192-gcm")->tag_size(), 16u);
  auto unknown = Aead::named("chacha20-poly1305");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().category(), Category::kUnsupported);
}

}  // namespace
}  // namespace m2msec::crypto

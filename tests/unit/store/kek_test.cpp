// The key-encryption key (kek.h): AES-256-GCM with the binding as AAD, and its key file.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "backends.h"
#include "oracle.h"

namespace m2msec::store::test {
namespace {

const Bytes kPlain{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
                   0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};

int mode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

TEST(Kek, SealsAsNonceCiphertextTagAndOpensWithTheSameBinding) {
  const Kek kek = test_kek();
  auto sealed = kek.seal("enrolment:ke-1@mef", kPlain);
  ASSERT_TRUE(sealed) << sealed.error().to_string();
  EXPECT_EQ(sealed->size(), 12 + kPlain.size() + 16);
  auto again = kek.seal("enrolment:ke-1@mef", kPlain);
  ASSERT_TRUE(again);
  EXPECT_NE(*sealed, *again);  // a fresh nonce each time
  EXPECT_FALSE(std::equal(sealed->begin(), sealed->begin() + 12, again->begin()));

  auto opened = kek.open("enrolment:ke-1@mef", *sealed);
  ASSERT_TRUE(opened) << opened.error().to_string();
  EXPECT_TRUE(ct::equal(opened->view(), kPlain));

  auto empty = kek.seal("km:x", {});
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->size(), 28u);
  auto empty_opened = kek.open("km:x", *empty);
  ASSERT_TRUE(empty_opened);
  EXPECT_TRUE(empty_opened->empty());
}

// The format, checked with OpenSSL's EVP interface directly: AES-256-GCM, 12-octet nonce first, binding as AAD,
// 16-octet tag last.
TEST(Kek, OutputIsPlainAes256GcmWithTheBindingAsAad) {
  const Kek kek = test_kek(0x4b);
  const std::string binding = "kpm:abc";
  auto sealed = kek.seal(binding, kPlain);
  ASSERT_TRUE(sealed);
  Bytes key(32, 0x4b);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ASSERT_NE(ctx, nullptr);
  Bytes out(kPlain.size());
  int len = 0;
  int tail = 0;
  Bytes tag(sealed->end() - 16, sealed->end());
  bool ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key.data(), sealed->data()) == 1 &&
            EVP_DecryptUpdate(ctx, nullptr, &len, reinterpret_cast<const std::uint8_t*>(binding.data()),
                              static_cast<int>(binding.size())) == 1 &&
            EVP_DecryptUpdate(ctx, out.data(), &len, sealed->data() + 12, static_cast<int>(kPlain.size())) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag.data()) == 1 &&
            EVP_DecryptFinal_ex(ctx, out.data() + len, &tail) == 1;
  EVP_CIPHER_CTX_free(ctx);
  EXPECT_TRUE(ok);
  EXPECT_EQ(out, kPlain);
}

TEST(Kek, AnotherBindingAnotherKekOrAlteredOctetsFailAsCrypto) {
  const Kek kek = test_kek();
  auto sealed = kek.seal("enrolment:ke-1@mef", kPlain);
  ASSERT_TRUE(sealed);
  auto expect_crypto = [](const Result<SecretBytes>& r) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().category(), Category::kCrypto);
  };
  expect_crypto(kek.open("enrolment:ke-2@mef", *sealed));
  expect_crypto(kek.open("km:ke-1@mef", *sealed));
  expect_crypto(kek.open("", *sealed));
  expect_crypto(test_kek(0x4c).open("enrolment:ke-1@mef", *sealed));
  for (const std::size_t at : {std::size_t{0}, std::size_t{11}, std::size_t{12}, std::size_t{30}, sealed->size() - 1}) {
    Bytes altered = *sealed;
    altered[at] ^= 0x01;
    expect_crypto(kek.open("enrolment:ke-1@mef", altered));
  }
  expect_crypto(kek.open("enrolment:ke-1@mef", ByteView(*sealed).first(27)));
  expect_crypto(kek.open("enrolment:ke-1@mef", ByteView(*sealed).first(sealed->size() - 1)));
}

TEST(Kek, FromBytesTakesExactly32Octets) {
  EXPECT_TRUE(Kek::from_bytes(SecretBytes(32)));
  for (const std::size_t size : {0, 16, 31, 33, 64}) {
    auto kek = Kek::from_bytes(SecretBytes(size));
    ASSERT_FALSE(kek) << size;
    EXPECT_EQ(kek.error().category(), Category::kUsage);
  }
}

TEST(Kek, LoadOrCreateCreatesAPrivateKeyFileOnceAndReadsItBack) {
  m2msec::test::TempDir dir("m2msec-kek");
  const std::string path = dir.file("kek");
  auto created = Kek::load_or_create(path);
  ASSERT_TRUE(created) << created.error().to_string();
  EXPECT_EQ(mode_of(path), 0600);
  EXPECT_EQ(m2msec::test::read_file(path).size(), 32u);
  auto sealed = created->seal("km:x", kPlain);
  ASSERT_TRUE(sealed);

  auto loaded = Kek::load_or_create(path);
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  auto opened = loaded->open("km:x", *sealed);
  ASSERT_TRUE(opened);
  EXPECT_TRUE(ct::equal(opened->view(), kPlain));

  // Another file, another random key.
  auto other = Kek::load_or_create(dir.file("kek2"));
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->open("km:x", *sealed));
}

TEST(Kek, LoadOrCreateRefusesAnExposedOrMisSizedFile) {
  m2msec::test::TempDir dir("m2msec-kek");
  const std::string path = dir.file("kek");
  m2msec::test::write_file(path, Bytes(32, 0x11));
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  auto exposed = Kek::load_or_create(path);
  ASSERT_FALSE(exposed);
  EXPECT_EQ(exposed.error().category(), Category::kPolicy);
  ASSERT_EQ(::chmod(path.c_str(), 0604), 0);
  EXPECT_FALSE(Kek::load_or_create(path));
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  auto fine = Kek::load_or_create(path);
  ASSERT_TRUE(fine) << fine.error().to_string();
  EXPECT_TRUE(fine->open("x", test_kek(0x11).seal("x", kPlain).value()));  // the file's octets are the key

  for (const std::size_t size : {0, 31, 33}) {
    const std::string sized = dir.file("kek-" + std::to_string(size));
    m2msec::test::write_file(sized, Bytes(size, 0x22));
    ASSERT_EQ(::chmod(sized.c_str(), 0600), 0);
    auto refused = Kek::load_or_create(sized);
    ASSERT_FALSE(refused) << size;
    EXPECT_EQ(refused.error().category(), Category::kUsage);
    EXPECT_EQ(m2msec::test::read_file(sized).size(), size);  // never overwritten
  }

  // No directory is created, and a symbolic link is not followed.
  auto no_dir = Kek::load_or_create(dir.file("missing/kek"));
  ASSERT_FALSE(no_dir);
  EXPECT_EQ(no_dir.error().category(), Category::kIo);
  ASSERT_EQ(::symlink(path.c_str(), dir.file("link").c_str()), 0);
  EXPECT_FALSE(Kek::load_or_create(dir.file("link")));
}

}  // namespace
}  // namespace m2msec::store::test

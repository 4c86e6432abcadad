#include <gtest/gtest.h>

#include "m2msec/core/encoding.h"
#include "m2msec/core/text.h"

namespace m2msec {
namespace {

// RFC 4648 clause 10 test vectors (BASE16 and BASE64; base64url differs only in the alphabet and,
// for JOSE, in leaving the padding out).
struct Rfc4648 {
  const char* text;
  const char* base16;
  const char* base64url;
  const char* base64;
};
constexpr Rfc4648 kRfc4648[] = {
    {"", "", "", ""},
    {"f", "66", "Zg", "Zg=="},
    {"fo", "666F", "Zm8", "Zm8="},
    {"foo", "666F6F", "Zm9v", "Zm9v"},
    {"foob", "666F6F62", "Zm9vYg", "Zm9vYg=="},
    {"fooba", "666F6F6261", "Zm9vYmE", "Zm9vYmE="},
    {"foobar", "666F6F626172", "Zm9vYmFy", "Zm9vYmFy"},
};

TEST(Hex, Rfc4648Vectors) {
  for (const auto& v : kRfc4648) {
    EXPECT_EQ(hex_encode(as_bytes(v.text), HexCase::kUpper), v.base16);
    auto decoded = hex_decode(v.base16);
    ASSERT_TRUE(decoded) << v.base16;
    EXPECT_EQ(as_text(*decoded), v.text);
  }
}

TEST(Hex, LowerCaseByDefaultAndBothCasesAccepted) {
  const Bytes bytes{0xde, 0xad, 0xBE, 0xef};
  EXPECT_EQ(hex_encode(bytes), "deadbeef");
  EXPECT_EQ(*hex_decode("DeAdBeEf"), bytes);
}

TEST(Hex, RefusesMalformedInput) {
  for (const char* bad : {"0", "abc", "0g", "g0", " 00", "00 ", "0x00", "+1", "é0"}) {
    auto r = hex_decode(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().category(), Category::kUsage);
    EXPECT_EQ(r.error().rsc(), Rsc::kBadRequest);
  }
}

TEST(Hex, SecretDecodeMatchesPublicDecode) {
  auto s = hex_decode_secret("00ff10");
  ASSERT_TRUE(s);
  EXPECT_TRUE(ct::equal(s->view(), Bytes{0x00, 0xff, 0x10}));
  EXPECT_FALSE(hex_decode_secret("0z"));
}

TEST(Base64Url, Rfc4648Vectors) {
  for (const auto& v : kRfc4648) {
    EXPECT_EQ(base64url_encode(as_bytes(v.text)), v.base64url);
    auto decoded = base64url_decode(v.base64url);
    ASSERT_TRUE(decoded) << v.base64url;
    EXPECT_EQ(as_text(*decoded), v.text);
  }
}

TEST(Base64Url, UsesTheUrlSafeAlphabet) {
  // 0xfb 0xff 0xbf encodes to "+/+/" in base64 and "-_-_" in base64url (RFC 4648 clause 5).
  const Bytes bytes{0xfb, 0xff, 0xbf};
  EXPECT_EQ(base64url_encode(bytes), "-_-_");
  EXPECT_EQ(*base64url_decode("-_-_"), bytes);
  // RFC 7515 Appendix C example: octets 3, 236, 255, 224, 193 -> "A-z_4ME".
  EXPECT_EQ(base64url_encode(Bytes{3, 236, 255, 224, 193}), "A-z_4ME");
}

TEST(Base64Url, RefusesMalformedInput) {
  for (const char* bad : {"Zg==", "Zm8=", "+/+/", "Z", "Zm9vY", "Zm 9v", "Zm9v\n", "Zh", "Zm9"}) {
    // "Zh" and "Zm9" carry non-zero unused bits: not the canonical encoding of any octet string.
    auto r = base64url_decode(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().category(), Category::kUsage);
    }
  }
}

TEST(Base64, Rfc4648VectorsWithPadding) {
  for (const auto& v : kRfc4648) {
    EXPECT_EQ(base64_encode(as_bytes(v.text)), v.base64);
    auto decoded = base64_decode(v.base64);
    ASSERT_TRUE(decoded) << v.base64;
    EXPECT_EQ(as_text(*decoded), v.text);
  }
  EXPECT_EQ(base64_encode(Bytes{0xfb, 0xff, 0xbf}), "+/+/");
}

TEST(Base64, RefusesMalformedInput) {
  // Missing padding, the URL-safe alphabet, padding in the middle, too much padding, line breaks, and
  // non-zero unused bits ("Zh==").
  for (const char* bad : {"Zg", "Zm8", "-_-_", "Zg==Zg==", "Z===", "====", "Zm9v\n", "Zh==", "Zm9=", "Zm 9v"}) {
    auto r = base64_decode(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().category(), Category::kUsage);
    }
  }
}

}  // namespace
}  // namespace m2msec

namespace m2msec {
namespace {

TEST(Concat, JoinsPiecesInOrder) {
  EXPECT_EQ(concat({"a", "", "bc", std::string_view("d\0e", 3)}), std::string("abcd\0e", 6));
}

}  // namespace
}  // namespace m2msec

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

TEST(Split, KeepsEmptyPieces) {
  using Pieces = std::vector<std::string_view>;
  EXPECT_EQ(split("a,b,c", ','), (Pieces{"a", "b", "c"}));
  EXPECT_EQ(split("a,,b", ','), (Pieces{"a", "", "b"}));
  EXPECT_EQ(split(",a,", ','), (Pieces{"", "a", ""}));
  EXPECT_EQ(split("", ','), (Pieces{""}));
  EXPECT_EQ(split(",", ','), (Pieces{"", ""}));
  EXPECT_EQ(split("abc", ','), (Pieces{"abc"}));
  EXPECT_EQ(split("a/b,c", '/'), (Pieces{"a", "b,c"}));
  // A NUL is an ordinary octet, and the pieces view the text.
  const std::string text("a\0b+c", 5);
  const Pieces nul = split(text, '+');
  ASSERT_EQ(nul.size(), 2u);
  EXPECT_EQ(nul[0], std::string_view("a\0b", 3));
  EXPECT_EQ(nul[0].data(), text.data());
  EXPECT_EQ(nul[1].data(), text.data() + 4);
}

TEST(DecimalIn, DigitsWithoutSignOrLeadingZeroInRange) {
  EXPECT_EQ(decimal_in("0", 0, 10), 0u);
  EXPECT_EQ(decimal_in("10", 0, 10), 10u);
  EXPECT_EQ(decimal_in("7", 7, 7), 7u);
  EXPECT_EQ(decimal_in("255", 0, 255), 255u);
  EXPECT_EQ(decimal_in("18446744073709551615", 0, UINT64_MAX), UINT64_MAX);
  // Out of range, at either end.
  EXPECT_FALSE(decimal_in("11", 0, 10));
  EXPECT_FALSE(decimal_in("0", 1, 10));
  EXPECT_FALSE(decimal_in("256", 0, 255));
  EXPECT_FALSE(decimal_in("18446744073709551616", 0, UINT64_MAX));  // 2^64: overflows
  // Not the form.
  for (const std::string_view text : {"", "01", "00", "+1", "-1", "-0", " 1", "1 ", "1.0", "1e2", "0x1", "a", "1a"}) {
    EXPECT_FALSE(decimal_in(text, 0, UINT64_MAX)) << '"' << text << '"';
  }
  EXPECT_FALSE(decimal_in(std::string_view("1\0", 2), 0, 10));
}

}  // namespace
}  // namespace m2msec

// The strict JSON reader/writer: RFC 8259 grammar, the I-JSON rules of RFC 7493 clause 2, and the
// duplicate-member refusal JOSE requires (RFC 7515 clause 4).
#include "m2msec/json/json.h"

#include <gtest/gtest.h>

#include <string>

namespace m2msec::json {
namespace {

TEST(Json, ParsesTheRfc8259Example) {
  // RFC 8259 clause 13, first example (whitespace reduced).
  auto v = parse(R"({"Image":{"Width":800,"Height":600,"Title":"View from 15th Floor",
      "Thumbnail":{"Url":"http://www.example.com/image/481989943","Height":125,"Width":100},
      "Animated":false,"IDs":[116,943,234,38793]}})");
  ASSERT_TRUE(v) << v.error().to_string();
  const Value* image = v->find("Image");
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(image->find("Width")->integer(), 800);
  EXPECT_EQ(*image->find("Title")->string(), "View from 15th Floor");
  EXPECT_EQ(image->find("Animated")->boolean(), false);
  ASSERT_NE(image->find("IDs")->array(), nullptr);
  EXPECT_EQ(image->find("IDs")->array()->at(3).integer(), 38793);
}

TEST(Json, CompactInputRoundTripsByteForByte) {
  const std::string text = R"({"b":[1,-0.5,2e10,true,null,{}],"a":"x\"y\\z\u0001","c":[],"d":"é€😀"})";
  auto v = parse(text);
  ASSERT_TRUE(v);
  EXPECT_EQ(serialize(*v), text);
}

TEST(Json, WriterEscapesOnlyWhatItMust) {
  Object o{{"k", Value("a/b\n\"\\")}, {"n", Value(-42)}, {"t", Value(true)}, {"z", Value(nullptr)}};
  EXPECT_EQ(serialize(Value(o)), R"({"k":"a/b\u000a\"\\","n":-42,"t":true,"z":null})");
}

TEST(Json, DecodesEscapesAndSurrogatePairs) {
  auto v = parse(R"("\u00e9\ud83d\ude00\/\b\f\n\r\t")");
  ASSERT_TRUE(v);
  EXPECT_EQ(*v->string(), "\xC3\xA9\xF0\x9F\x98\x80/\b\f\n\r\t");
}

TEST(Json, IntegerOnlyWhenWrittenAsOne) {
  EXPECT_EQ(parse("9223372036854775807")->integer(), INT64_MAX);
  EXPECT_EQ(parse("-9223372036854775808")->integer(), INT64_MIN);
  EXPECT_FALSE(parse("9223372036854775808")->integer());
  EXPECT_FALSE(parse("1.0")->integer());
  EXPECT_FALSE(parse("1e3")->integer());
  EXPECT_FALSE(parse("\"1\"")->integer());
  EXPECT_EQ(*parse("-1.5E+3")->number_text(), "-1.5E+3");
}

TEST(Json, SetReplacesInPlaceAndEraseRemoves) {
  Object o{{"a", Value(1)}, {"b", Value(2)}};
  o.set("a", Value("x"));
  o.set("c", Value(3));
  EXPECT_EQ(serialize(Value(o)), R"({"a":"x","b":2,"c":3})");
  EXPECT_TRUE(o.erase("b"));
  EXPECT_FALSE(o.erase("b"));
  EXPECT_EQ(serialize(Value(o)), R"({"a":"x","c":3})");
}

// Each of these is not JSON, or breaks I-JSON; each must be refused.
TEST(Json, RefusesInvalidText) {
  const char* bad[] = {
      "",  " ", "{", "}", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\"}", "{a:1}", "{'a':1}", "[01]", "[1.]",
      "[.5]", "[1e]", "[+1]", "[-]", "[NaN]", "[Infinity]", "[tru]", "[nul]", "\"a", "\"\\x\"", "\"\\u12\"",
      "\"\\u12G4\"", "[1] [2]", "[1]x", "\"\t\"", "\"\x01\"", "{\"a\":1,\"a\":2}",
      "{\"a\":{\"b\":1,\"b\":1}}", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
      "\"\xC0\xAF\"",          // overlong '/'
      "\"\xE0\x80\xAF\"",      // overlong
      "\"\xED\xA0\x80\"",      // UTF-8 encoded surrogate
      "\"\xF4\x90\x80\x80\"",  // above U+10FFFF
      "\"\xC3\"",              // truncated sequence
      "\"\x80\"",              // lone continuation octet
      "\xEF\xBB\xBF{}",        // byte order mark
  };
  for (const char* text : bad) {
    auto v = parse(text);
    EXPECT_FALSE(v) << "accepted: " << text;
    if (!v) {
      EXPECT_EQ(v.error().category(), Category::kUsage);
    }
  }
}

TEST(Json, DuplicateNamesAreFoundInLargeObjects) {
  std::string text = "{";
  for (int i = 0; i < 5000; ++i) text += "\"k" + std::to_string(i) + "\":0,";
  EXPECT_TRUE(parse(text + "\"end\":0}"));
  EXPECT_FALSE(parse(text + "\"k4321\":0}"));
}

TEST(Json, NestingIsBounded) {
  const std::string deep_ok = std::string(64, '[') + std::string(64, ']');
  const std::string too_deep = std::string(65, '[') + std::string(65, ']');
  EXPECT_TRUE(parse(deep_ok));
  EXPECT_FALSE(parse(too_deep));
  EXPECT_FALSE(parse(std::string(100000, '[')));  // no stack exhaustion
  EXPECT_TRUE(parse(too_deep, ParseLimits{.max_depth = 100}));
}

TEST(Json, WhitespaceAroundTheValueIsAllowed) {
  auto v = parse(" \t\r\n{ \"a\" : [ 1 , 2 ] } \n");
  ASSERT_TRUE(v);
  EXPECT_EQ(serialize(*v), R"({"a":[1,2]})");
}

}  // namespace
}  // namespace m2msec::json

// ID_2 = FQDN@hexBinary(ID)@expirationTime (seed 002 8.3.7.2 step 2): parsing, the canonical form, refusals.
#include <gtest/gtest.h>

#include "m2msec/ibc/identity.h"

namespace m2msec::ibc {
namespace {

using std::chrono::sys_days;

TEST(IbcIdentity, ParsesAndFormatsTheCanonicalText) {
  // "CAE01" is 43 41 45 30 31 in ASCII; 2030-01-31T00:00:00Z.
  auto parsed = IbcIdentity::parse("MEF.Example.com@4341453031@20300131T000000");
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_EQ(parsed->fqdn, "mef.example.com");
  EXPECT_EQ(parsed->id, (Bytes{0x43, 0x41, 0x45, 0x30, 0x31}));
  EXPECT_EQ(parsed->expires, std::chrono::sys_seconds(sys_days(std::chrono::year(2030) / 1 / 31)));
  EXPECT_EQ(parsed->format().value(), "mef.example.com@4341453031@20300131T000000");
  // hexBinary of either case reads the same.
  auto upper = IbcIdentity::parse("mef.example.com@2F6353452D31@20300131T000000");
  ASSERT_TRUE(upper);
  EXPECT_EQ(upper->format().value(), "mef.example.com@2f6353452d31@20300131T000000");
}

TEST(IbcIdentity, RefusesAnythingElse) {
  for (const std::string_view text :
       {"", "mef.example.com", "mef.example.com@43", "mef.example.com@@20300131T000000",
        "mef.example.com@4@20300131T000000", "mef.example.com@4g@20300131T000000",
        "mef.example.com@43@2030-01-31T00:00:00", "mef.example.com@43@20300131T000000@x",
        "-bad-.example.com@43@20300131T000000", "@43@20300131T000000", "mef.example.com@43@"}) {
    auto parsed = IbcIdentity::parse(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().category(), Category::kUsage) << text;
  }
  EXPECT_FALSE((IbcIdentity{"mef.example.com", {}, {}}.format()));
  EXPECT_FALSE((IbcIdentity{"not a name", {0x43}, {}}.format()));
}

TEST(IbcIdentity, KeepsTheTimeOfDayAndAnyOctetsOfTheId) {
  // 2031-12-31T23:59:59Z; an ID with '@' (0x40), a zero octet and 0xff: hexBinary keeps the three parts apart.
  const IbcIdentity made{"mef.example.com", Bytes{0x40, 0x00, 0xff, 0x2f},
                         std::chrono::sys_seconds(sys_days(std::chrono::year(2031) / 12 / 31)) +
                             std::chrono::hours(23) + std::chrono::minutes(59) + std::chrono::seconds(59)};
  const std::string text = made.format().value();
  EXPECT_EQ(text, "mef.example.com@4000ff2f@20311231T235959");
  auto again = IbcIdentity::parse(text);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->id, made.id);
  EXPECT_EQ(again->expires, made.expires);
  // Mixed case reads the same, and is written in lower case.
  EXPECT_EQ(IbcIdentity::parse("mef.example.com@4000fF2F@20311231T235959").value().format().value(), text);
}

TEST(IbcIdentity, RefusesNonCanonicalTimesAndNames) {
  for (const std::string_view text : {"mef.example.com@43@20300131T000000Z", "mef.example.com@43@20300131T240000",
                                      "mef.example.com@43@20300230T000000", "mef.example.com@43@20300131t000000",
                                      "mef.example.com.@43@20300131T000000", "mef..example.com@43@20300131T000000",
                                      "mef_example.com@43@20300131T000000", " mef.example.com@43@20300131T000000"}) {
    EXPECT_FALSE(IbcIdentity::parse(text)) << text;
  }
  // A time the format cannot write.
  const IbcIdentity far{"mef.example.com", {0x43},
                        std::chrono::sys_seconds(sys_days(std::chrono::year(10000) / 1 / 1))};
  EXPECT_FALSE(far.format());
}

}  // namespace
}  // namespace m2msec::ibc

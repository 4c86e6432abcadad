// The xs:duration subset of retryDuration (TS-0003 V3.18.0 12.4.5): PnDTnHnMnS, whole numbers only.
#include "m2msec/onem2m/duration.h"

#include <gtest/gtest.h>

#include <limits>

namespace m2msec::onem2m {
namespace {

using std::chrono::seconds;

TEST(Duration, ReadsTheFixedLengthDesignators) {
  const struct {
    const char* text;
    std::int64_t seconds;
  } cases[] = {
      {"PT30S", 30},         {"PT0S", 0},           {"P0D", 0},          {"PT1M", 60},
      {"PT1H", 3600},        {"P1D", 86400},        {"P1DT1H1M1S", 90061}, {"PT90S", 90},
      {"PT36H", 129600},     {"P2DT0H", 172800},    {"PT1H30M", 5400},   {"P007D", 604800},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto parsed = parse_duration(c.text);
    ASSERT_TRUE(parsed) << parsed.error().to_string();
    EXPECT_EQ(parsed->count(), c.seconds);
  }
}

TEST(Duration, RefusesEveryOtherForm) {
  const char* cases[] = {
      "",       "P",        "PT",        "30",        "pt30s",      "PT30",     "PT-5S",    "-PT5S",
      "P1Y",    "P1M",      "P1W",       "PT1.5S",    "PT1,5S",     "P1H",      "PT1D",     "P1DT",
      "PT1S1M", "PT1H1H",   "P1D1D",     "PT1HT1M",   "P T1S",      "PT1S ",    "PTS",      "P1DT1H1M1S1",
      "PT99999999999999999999S", "P106751991167301D",  // overflow of 64-bit seconds
  };
  for (const char* text : cases) {
    SCOPED_TRACE(text);
    auto parsed = parse_duration(text);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().category(), Category::kUsage);
  }
}

TEST(Duration, FormatsTheShortestFormAndReadsItBack) {
  EXPECT_EQ(format_duration(seconds(0)), "PT0S");
  EXPECT_EQ(format_duration(seconds(30)), "PT30S");
  EXPECT_EQ(format_duration(seconds(3600)), "PT1H");
  EXPECT_EQ(format_duration(seconds(86400)), "P1D");
  EXPECT_EQ(format_duration(seconds(90061)), "P1DT1H1M1S");
  EXPECT_EQ(format_duration(seconds(86430)), "P1DT30S");
  EXPECT_EQ(format_duration(seconds(-30)), "-PT30S");
  EXPECT_EQ(format_duration(seconds(std::numeric_limits<std::int64_t>::min())), "-P106751991167300DT15H30M8S");
  for (const std::int64_t value : {std::int64_t{0}, std::int64_t{1}, std::int64_t{59}, std::int64_t{61},
                                   std::int64_t{3599}, std::int64_t{86399}, std::int64_t{86401}, std::int64_t{123456789},
                                   std::numeric_limits<std::int64_t>::max()}) {
    auto back = parse_duration(format_duration(seconds(value)));
    ASSERT_TRUE(back) << value;
    EXPECT_EQ(back->count(), value);
  }
  EXPECT_FALSE(parse_duration(format_duration(seconds(-1))));
}

}  // namespace
}  // namespace m2msec::onem2m

// The m2m:timestamp codec; the epoch values were computed with Python's calendar.timegm.
#include "m2msec/core/timestamp.h"

#include <gtest/gtest.h>

namespace m2msec {
namespace {

using std::chrono::seconds;
using std::chrono::sys_seconds;

sys_seconds at(std::int64_t s) { return sys_seconds(seconds(s)); }

TEST(M2mTimestamp, ParsesAndFormatsUtcWholeSeconds) {
  EXPECT_EQ(parse_m2m_timestamp("20260101T000000").value(), at(1767225600));
  EXPECT_EQ(parse_m2m_timestamp("20240229T235959").value(), at(1709251199));
  EXPECT_EQ(parse_m2m_timestamp("19691231T235959").value(), at(-1));
  EXPECT_EQ(parse_m2m_timestamp("00010101T000000").value(), at(-62135596800));
  EXPECT_EQ(parse_m2m_timestamp("99991231T235959").value(), at(253402300799));
  EXPECT_EQ(format_m2m_timestamp(at(0)).value(), "19700101T000000");
  EXPECT_EQ(format_m2m_timestamp(at(1767229200)).value(), "20260101T010000");
  EXPECT_EQ(format_m2m_timestamp(at(253402300799)).value(), "99991231T235959");
  EXPECT_EQ(format_m2m_timestamp(at(-1)).value(), "19691231T235959");
}

TEST(M2mTimestamp, RefusesEverythingElse) {
  for (std::string_view bad : {"", "20260101", "20260101T0000", "2026-01-01T00:00:00", "20261301T000000",
                               "20260230T000000", "20250229T000000", "20260101T240000", "20260101T006000",
                               "20260101T000060", "20260101t000000", "20260101T000000Z", "20260101T000000,5",
                               "2026010T000000", "2026011 T000000", "3600000", "+0260101T000000"}) {
    auto r = parse_m2m_timestamp(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().category(), Category::kUsage);
    EXPECT_EQ(r.error().rsc(), Rsc::kBadRequest);
  }
  EXPECT_FALSE(format_m2m_timestamp(at(253402300800)));  // 10000-01-01
  EXPECT_FALSE(format_m2m_timestamp(at(-62167219201)));  // before 0000-01-01
}

}  // namespace
}  // namespace m2msec

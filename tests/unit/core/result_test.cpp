#include <gtest/gtest.h>

#include <memory>

#include "m2msec/core/clock.h"
#include "m2msec/core/result.h"

namespace m2msec {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return Error::usage("not positive");
  return v;
}

Result<int> doubled(int v) {
  M2MSEC_ASSIGN_OR_RETURN(const int x, parse_positive(v));
  return 2 * x;
}

Result<void> check(int v) {
  M2MSEC_TRY(parse_positive(v));
  return {};
}

TEST(Result, ValueAndErrorPaths) {
  EXPECT_EQ(*doubled(21), 42);
  auto bad = doubled(-1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().category(), Category::kUsage);
  EXPECT_EQ(bad.error().rsc(), Rsc::kBadRequest);
  EXPECT_EQ(bad.error().detail(), "not positive");
  EXPECT_EQ(bad.error().to_string(), "usage BAD_REQUEST: not positive");
  EXPECT_TRUE(check(1));
  EXPECT_FALSE(check(0));
}

TEST(Result, HoldsMoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(Result, WrongAccessAborts) {
  EXPECT_DEATH({ (void)parse_positive(-1).value(); }, "check failed");
  EXPECT_DEATH({ (void)parse_positive(1).error(); }, "check failed");
}

TEST(Error, CarriesTlsAlertAndCategoryNames) {
  Error e = Error{Category::kAuth, "unknown psk identity"}.with_tls_alert(115);
  EXPECT_EQ(e.tls_alert(), 115);
  EXPECT_FALSE(e.rsc().has_value());
  EXPECT_EQ(e.to_string(), "auth: unknown psk identity");
  EXPECT_EQ(rsc_name(Rsc::kOriginatorHasNoPrivilege), "ORIGINATOR_HAS_NO_PRIVILEGE");
  EXPECT_EQ(static_cast<int>(Rsc::kOriginatorHasNoPrivilege), 4103);
}

TEST(ManualClock, MovesOnlyWhenTold) {
  ManualClock clock(Clock::TimePoint{std::chrono::seconds(1000)});
  EXPECT_EQ(clock.now(), Clock::TimePoint{std::chrono::seconds(1000)});
  clock.advance(std::chrono::seconds(5));
  EXPECT_EQ(clock.now(), Clock::TimePoint{std::chrono::seconds(1005)});
}

}  // namespace
}  // namespace m2msec

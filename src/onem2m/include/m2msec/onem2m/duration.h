// xs:duration values as oneM2M resources carry them (retryDuration, TS-0003 V3.18.0 12.4.5), in the subset
// of ISO 8601 durations that has a fixed length: "PnDTnHnMnS" with whole, non-negative numbers. Years and
// months (whose length depends on the calendar), weeks, fractions and signs are refused.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "m2msec/core/result.h"

namespace m2msec::onem2m {

// "P1DT2H", "PT30S", "P0D": each part at most once, in the order D, T, H, M, S, with at least one part and
// at least one after a "T". Errors are kUsage (BAD_REQUEST): another form, a negative or overflowing value.
Result<std::chrono::seconds> parse_duration(std::string_view text);

// The shortest form parse_duration reads back to the same value: "PT0S", "PT30S", "P1DT1H1M1S". A negative
// duration gets a leading '-' (as xs:duration writes it), which parse_duration refuses.
std::string format_duration(std::chrono::seconds duration);

}  // namespace m2msec::onem2m

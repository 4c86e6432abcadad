// m2m:timestamp (TS-0004 6.3.3), the absolute form m2m:absRelTimestamp also takes: ISO 8601 basic format
// YYYYMMDDTHHMMSS in UTC, whole seconds, years 0000-9999. Strict both ways: no zone designator, no fraction,
// no separators, a real calendar date and time; anything else is one kUsage error (RSC BAD_REQUEST).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "m2msec/core/result.h"

namespace m2msec {

Result<std::chrono::sys_seconds> parse_m2m_timestamp(std::string_view text);
// Refused (kUsage) for a time outside the years 0000-9999, which the format cannot write.
Result<std::string> format_m2m_timestamp(std::chrono::sys_seconds time);

}  // namespace m2msec

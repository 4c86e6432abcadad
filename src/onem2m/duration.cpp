#include "m2msec/onem2m/duration.h"

#include <cstdint>
#include <limits>

namespace m2msec::onem2m {
namespace {

Error bad_duration(std::string_view text, std::string_view why) {
  return Error::usage("duration '" + std::string(text) + "': " + std::string(why));
}

}  // namespace

//= ISO 8601-1:2019 §5.5.2.4 (XML Schema 1.1 Part 2 §3.3.6, the lexical form of xs:duration)
//# We read the fixed-length designators only: days, hours, minutes, seconds.
Result<std::chrono::seconds> parse_duration(std::string_view text) {
  if (text.empty() || text.front() != 'P') return bad_duration(text, "must start with 'P'");
  struct Unit {
    char designator;
    bool after_t;
    std::int64_t seconds;
  };
  constexpr Unit kUnits[] = {{'D', false, 86400}, {'H', true, 3600}, {'M', true, 60}, {'S', true, 1}};
  std::size_t next_unit = 0;  // units must come in order, each at most once
  bool in_time = false;
  bool any = false;
  bool any_after_t = false;
  std::int64_t total = 0;
  std::size_t i = 1;
  while (i < text.size()) {
    if (text[i] == 'T') {
      if (in_time) return bad_duration(text, "a second 'T'");
      in_time = true;
      ++i;
      continue;
    }
    const std::size_t start = i;
    std::int64_t number = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (__builtin_mul_overflow(number, 10, &number) || __builtin_add_overflow(number, text[i] - '0', &number)) {
        return bad_duration(text, "too large");
      }
      ++i;
    }
    if (i == start) return bad_duration(text, "a number must come before each designator");
    if (i == text.size()) return bad_duration(text, "a number without a designator");
    const char designator = text[i++];
    std::size_t unit = next_unit;
    while (unit < std::size(kUnits) && (kUnits[unit].designator != designator || kUnits[unit].after_t != in_time)) {
      ++unit;
    }
    if (unit == std::size(kUnits)) {
      return bad_duration(text, std::string("'") + designator + "' is not allowed here (only nD, then T with nH, nM, nS)");
    }
    next_unit = unit + 1;
    std::int64_t part = 0;
    if (__builtin_mul_overflow(number, kUnits[unit].seconds, &part) || __builtin_add_overflow(total, part, &total)) {
      return bad_duration(text, "too large");
    }
    any = true;
    any_after_t = any_after_t || in_time;
  }
  if (!any) return bad_duration(text, "no value");
  if (in_time && !any_after_t) return bad_duration(text, "'T' must be followed by hours, minutes or seconds");
  return std::chrono::seconds(total);
}

std::string format_duration(std::chrono::seconds duration) {
  const std::int64_t count = duration.count();
  // The magnitude as unsigned: the most negative count has no positive counterpart.
  std::uint64_t rest = count < 0 ? 0 - static_cast<std::uint64_t>(count) : static_cast<std::uint64_t>(count);
  std::string out = count < 0 ? "-P" : "P";
  if (rest == 0) return out + "T0S";
  const std::uint64_t days = rest / 86400;
  rest %= 86400;
  if (days != 0) out += std::to_string(days) + "D";
  if (rest == 0) return out;
  out += "T";
  if (const std::uint64_t hours = rest / 3600; hours != 0) out += std::to_string(hours) + "H";
  if (const std::uint64_t minutes = rest % 3600 / 60; minutes != 0) out += std::to_string(minutes) + "M";
  if (const std::uint64_t seconds = rest % 60; seconds != 0) out += std::to_string(seconds) + "S";
  return out;
}

}  // namespace m2msec::onem2m

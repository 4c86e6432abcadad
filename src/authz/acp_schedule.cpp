// accessControlWindow (TS-0003 V3.18.0 7.1.3 Table 7.1.3-3): m2m:scheduleEntry, the "extended crontab" of
// TS-0004 with seven fields, evaluated against rq_time in UTC.
//
// Interpretations (docs/conformance.md):
//   - all seven fields must match (AND), day of month and day of week included; classic cron ORs those two
//     when both are restricted, the oneM2M text does not say so;
//   - "*/n" is the whole range of the field with step n starting at the field's minimum ("*/2" in day of month
//     is 1,3,5,...; in year 2000,2002,...), exactly like "min-max/n"; "a-b/n" is a, a+n, ... up to b;
//   - numbers only (no month or weekday names), no wrapping ranges (a <= b), day of week 0-6 with 0 = Sunday
//     (7 is refused), fields separated by one or more spaces; anything else makes the entry malformed.
#include <charconv>

#include "acp_internal.h"
#include "m2msec/core/text.h"

namespace m2msec::authz {
namespace {

struct FieldRange {
  std::string_view name;
  unsigned min;
  unsigned max;
};
constexpr std::array<FieldRange, 7> kFields{{{"second", 0, 59},
                                             {"minute", 0, 59},
                                             {"hour", 0, 23},
                                             {"day of month", 1, 31},
                                             {"month", 1, 12},
                                             {"day of week", 0, 6},
                                             {"year", 2000, 9999}}};

Result<unsigned> number(std::string_view text, const FieldRange& field) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
    return Error::usage(concat({"'", text, "' is not a number in the ", field.name, " field"}));
  }
  return value;
}

// One field: "*" or a comma-separated list of n, a-b, a-b/s, */s. Calls allow(v) for every value it admits.
template <typename Allow>
Result<void> parse_field(std::string_view text, const FieldRange& field, Allow allow) {
  if (text == "*") {
    for (unsigned v = field.min; v <= field.max; ++v) allow(v);
    return {};
  }
  while (true) {
    const auto comma = text.find(',');
    std::string_view element = text.substr(0, comma);
    unsigned step = 1;
    if (const auto slash = element.find('/'); slash != std::string_view::npos) {
      M2MSEC_ASSIGN_OR_RETURN(step, number(element.substr(slash + 1), field));
      element = element.substr(0, slash);
      if (step == 0) return Error::usage(concat({"a step of 0 in the ", field.name, " field"}));
      if (element.find('-') == std::string_view::npos && element != "*") {
        return Error::usage(concat({"a step needs a range or '*' in the ", field.name, " field"}));
      }
    }
    unsigned first = field.min;
    unsigned last = field.max;
    if (element != "*") {
      const auto dash = element.find('-');
      M2MSEC_ASSIGN_OR_RETURN(first, number(element.substr(0, dash), field));
      last = first;
      if (dash != std::string_view::npos) {
        M2MSEC_ASSIGN_OR_RETURN(last, number(element.substr(dash + 1), field));
      }
      if (first < field.min || last > field.max || first > last) {
        return Error::usage(concat({"'", element, "' is outside ", std::to_string(field.min), "-",
                                    std::to_string(field.max), " in the ", field.name, " field"}));
      }
    }
    for (unsigned v = first;; v += step) {
      allow(v);
      if (last - v < step) break;  // also keeps v + step from wrapping
    }
    if (comma == std::string_view::npos) return {};
    text = text.substr(comma + 1);
  }
}

}  // namespace

Result<ScheduleEntry> ScheduleEntry::parse(std::string_view text) {
  std::array<std::string_view, 7> fields;
  std::size_t count = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto space = text.find(' ', pos);
    const std::string_view field = text.substr(pos, space - pos);
    if (field.empty() || count == fields.size()) {
      return Error::usage(concat({"'", text, "' is not 7 space-separated fields"}));
    }
    fields[count++] = field;
    if (space == std::string_view::npos) break;
    pos = text.find_first_not_of(' ', space);
    if (pos == std::string_view::npos) return Error::usage(concat({"'", text, "' ends with a space"}));
  }
  if (count != fields.size()) return Error::usage(concat({"'", text, "' is not 7 space-separated fields"}));
  ScheduleEntry entry;
  for (std::size_t i = 0; i < 6; ++i) {
    std::uint64_t& set = entry.m_sets[i];
    M2MSEC_TRY(parse_field(fields[i], kFields[i], [&set](unsigned v) { set |= std::uint64_t{1} << v; }));
  }
  entry.m_years.assign(kFields[6].max - kFields[6].min + 1, false);
  std::vector<bool>& years = entry.m_years;
  M2MSEC_TRY(parse_field(fields[6], kFields[6], [&years](unsigned v) { years[v - kFields[6].min] = true; }));
  return entry;
}

bool ScheduleEntry::matches(std::chrono::sys_seconds when) const {
  using namespace std::chrono;
  const sys_days day = floor<days>(when);
  const year_month_day date(day);
  const hh_mm_ss<seconds> time(when - day);
  const int y = static_cast<int>(date.year());
  if (y < static_cast<int>(kFields[6].min) || y > static_cast<int>(kFields[6].max)) return false;
  const std::array<unsigned, 6> values{static_cast<unsigned>(time.seconds().count()),
                                       static_cast<unsigned>(time.minutes().count()),
                                       static_cast<unsigned>(time.hours().count()),
                                       static_cast<unsigned>(date.day()),
                                       static_cast<unsigned>(date.month()),
                                       weekday(day).c_encoding()};  // 0 = Sunday
  for (std::size_t i = 0; i < values.size(); ++i) {
    if ((m_sets[i] >> values[i] & 1u) == 0) return false;
  }
  return m_years[static_cast<std::size_t>(y) - kFields[6].min];
}

}  // namespace m2msec::authz

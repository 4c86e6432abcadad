#include "m2msec/core/timestamp.h"

#include <cstdio>
#include <optional>

namespace m2msec {

Result<std::chrono::sys_seconds> parse_m2m_timestamp(std::string_view text) {
  using namespace std::chrono;
  auto bad = [] { return Error::usage("m2m:timestamp: not YYYYMMDDTHHMMSS (UTC, whole seconds)"); };
  if (text.size() != 15 || text[8] != 'T') return bad();
  auto number = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  const auto y = number(0, 4), mo = number(4, 2), d = number(6, 2), h = number(9, 2), mi = number(11, 2),
             s = number(13, 2);
  if (!y || !mo || !d || !h || !mi || !s) return bad();
  const year_month_day ymd{year(*y), month(static_cast<unsigned>(*mo)), day(static_cast<unsigned>(*d))};
  if (!ymd.ok() || *h > 23 || *mi > 59 || *s > 59) return bad();
  return sys_days(ymd) + hours(*h) + minutes(*mi) + seconds(*s);
}

Result<std::string> format_m2m_timestamp(std::chrono::sys_seconds time) {
  using namespace std::chrono;
  const auto day_start = floor<days>(time);
  const year_month_day ymd{day_start};
  const hh_mm_ss<seconds> hms{time - day_start};
  const int y = static_cast<int>(ymd.year());
  if (y < 0 || y > 9999) return Error::usage("m2m:timestamp: a time outside the years 0000-9999");
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02d", y, static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return std::string(buf);
}

}  // namespace m2msec

// Calendar dates and instants. A Date is a count of days since 1970-01-01 (proleptic Gregorian);
// an instant is milliseconds since the Unix epoch (UTC). Pure: no clock is read here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace umupaka {

struct Date {
  int32_t days = 0;  // days since 1970-01-01
  friend auto operator<=>(const Date&, const Date&) = default;
};

struct CivilDate {
  int32_t year = 1970;
  uint32_t month = 1;  // 1..12
  uint32_t day = 1;    // 1..31
};

// Howard Hinnant's days_from_civil / civil_from_days.
Date date_from_civil(int32_t year, uint32_t month, uint32_t day);
CivilDate civil_from_date(Date d);

// True if year/month/day names a real calendar day.
bool valid_civil(int32_t year, uint32_t month, uint32_t day);

// "YYYY-MM-DD" <-> Date. Parsing rejects anything else (including impossible days).
std::optional<Date> parse_iso_date(std::string_view text);
std::string format_iso_date(Date d);

constexpr int64_t ms_per_day = 86'400'000;

inline Date date_of_instant_ms(int64_t instant_ms) {
  int64_t d = instant_ms / ms_per_day;
  if (instant_ms < 0 && instant_ms % ms_per_day != 0) --d;
  return Date{static_cast<int32_t>(d)};
}

// "2026-11-29T09:33:17.123Z"
std::string format_iso_instant_ms(int64_t instant_ms);

}  // namespace umupaka

// RFC 3339 timestamps as STIX 2.1 and TAXII 2.1 use them: always UTC with a
// literal 'Z', an optional fraction of any length (kept to nanoseconds).
// Value type, thread-compatible.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ctihub {

class Timestamp {
 public:
  Timestamp() = default;
  Timestamp(int64_t seconds, uint32_t nanos, uint8_t fraction_digits = 0)
      : seconds_(seconds), nanos_(nanos), fraction_digits_(fraction_digits) {}

  // Parses "YYYY-MM-DDTHH:MM:SS[.f+]Z". Rejects other time zones, lower-case
  // separators, impossible dates (Feb 30) and times. Second 60 (leap) is
  // accepted as the schema allows and folded into the next second.
  static Result<Timestamp> Parse(std::string_view text);
  static Timestamp FromMicros(int64_t micros) {
    int64_t s = micros >= 0 ? micros / 1000000 : -((-micros + 999999) / 1000000);
    return Timestamp(s, static_cast<uint32_t>((micros - s * 1000000) * 1000), 6);
  }
  static Timestamp Now();  // system clock, microsecond precision

  int64_t seconds() const { return seconds_; }
  uint32_t nanos() const { return nanos_; }
  // How many fraction digits the text it was parsed from had (0 when none).
  int fraction_digits() const { return fraction_digits_; }
  int64_t micros() const { return seconds_ * 1000000 + nanos_ / 1000; }

  // Formats with exactly `digits` fraction digits (0..9); 0 omits the point.
  std::string Format(int digits) const;
  // Formats with the precision it was parsed with (at least milliseconds).
  std::string ToString() const;

  friend bool operator==(const Timestamp& a, const Timestamp& b) {
    return a.seconds_ == b.seconds_ && a.nanos_ == b.nanos_;
  }
  friend std::strong_ordering operator<=>(const Timestamp& a, const Timestamp& b) {
    if (auto c = a.seconds_ <=> b.seconds_; std::is_neq(c)) return c;
    return a.nanos_ <=> b.nanos_;
  }

 private:
  int64_t seconds_ = 0;
  uint32_t nanos_ = 0;
  uint8_t fraction_digits_ = 0;
};

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
bool IsValidDate(int64_t y, unsigned m, unsigned d);

}  // namespace ctihub

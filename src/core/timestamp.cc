#include "core/timestamp.h"

#include <chrono>
#include <cstdio>

namespace ctihub {
namespace {

bool ReadDigits(std::string_view s, size_t pos, size_t n, int64_t* out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

struct Civil {
  int64_t y;
  unsigned m, d;
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsValidDate(int64_t y, unsigned m, unsigned d) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  unsigned max = kDays[m - 1];
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m == 2 && leap) max = 29;
  return d <= max;
}

Result<Timestamp> Timestamp::Parse(std::string_view s) {
  // Fixed part: YYYY-MM-DDTHH:MM:SS
  int64_t y, mo, d, h, mi, se;
  if (s.size() < 20 || !ReadDigits(s, 0, 4, &y) || s[4] != '-' || !ReadDigits(s, 5, 2, &mo) ||
      s[7] != '-' || !ReadDigits(s, 8, 2, &d) || s[10] != 'T' || !ReadDigits(s, 11, 2, &h) ||
      s[13] != ':' || !ReadDigits(s, 14, 2, &mi) || s[16] != ':' || !ReadDigits(s, 17, 2, &se)) {
    return InvalidArgument("timestamp must have the form YYYY-MM-DDTHH:MM:SS[.fraction]Z");
  }
  if (!IsValidDate(y, static_cast<unsigned>(mo), static_cast<unsigned>(d))) {
    return InvalidArgument("timestamp has an impossible date");
  }
  if (h > 23 || mi > 59 || se > 60)
    return InvalidArgument("timestamp has an impossible time of day");
  size_t pos = 19;
  uint32_t nanos = 0;
  uint8_t digits = 0;
  if (s[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (pos - start < 9) nanos = nanos * 10 + static_cast<uint32_t>(s[pos] - '0');
      ++pos;
    }
    size_t n = pos - start;
    if (n == 0) return InvalidArgument("timestamp has a '.' without fraction digits");
    for (size_t i = n; i < 9; ++i) nanos *= 10;
    digits = static_cast<uint8_t>(n > 255 ? 255 : n);
  }
  if (pos != s.size() - 1 || s[pos] != 'Z') {
    return InvalidArgument("timestamp must be in UTC and end with 'Z'");
  }
  int64_t secs = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
                 h * 3600 + mi * 60 + se;
  return Timestamp(secs, nanos, digits);
}

Timestamp Timestamp::Now() {
  auto now = std::chrono::system_clock::now();
  int64_t us =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  return FromMicros(us);
}

std::string Timestamp::Format(int digits) const {
  if (digits < 0) digits = 0;
  if (digits > 9) digits = 9;
  int64_t days = seconds_ >= 0 ? seconds_ / 86400 : -((-seconds_ + 86399) / 86400);
  int64_t rem = seconds_ - days * 86400;
  Civil c = CivilFromDays(days);
  if (c.y < 0 || c.y > 9999) {  // outside RFC 3339: the slow, general path
    char buf[64];
    int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
                          static_cast<long long>(c.y), c.m, c.d, static_cast<long long>(rem / 3600),
                          static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
    std::string out(buf, static_cast<size_t>(n));
    if (digits > 0) {
      char frac[16];
      std::snprintf(frac, sizeof frac, "%09u", nanos_);
      out += '.';
      out.append(frac, static_cast<size_t>(digits));
    }
    out += 'Z';
    return out;
  }
  // Hot path (every stored and served version): fixed-width digits by hand.
  char buf[32];
  auto put = [](char* p, int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  };
  put(buf, c.y, 4);
  buf[4] = '-';
  put(buf + 5, c.m, 2);
  buf[7] = '-';
  put(buf + 8, c.d, 2);
  buf[10] = 'T';
  put(buf + 11, rem / 3600, 2);
  buf[13] = ':';
  put(buf + 14, rem / 60 % 60, 2);
  buf[16] = ':';
  put(buf + 17, rem % 60, 2);
  size_t n = 19;
  if (digits > 0) {
    buf[n++] = '.';
    char frac[9];
    put(frac, nanos_, 9);
    for (int i = 0; i < digits; ++i) buf[n++] = frac[i];
  }
  buf[n++] = 'Z';
  return std::string(buf, n);
}

std::string Timestamp::ToString() const {
  int digits = fraction_digits_ < 3 ? 3 : (fraction_digits_ > 9 ? 9 : fraction_digits_);
  return Format(digits);
}

}  // namespace ctihub

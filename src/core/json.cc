#include "core/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace ctihub::json {
namespace {

// A byte as an error message shows it: itself when printable ASCII, else "\\xHH".
std::string PrintableByte(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string(1, c);
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string{'\\', 'x', kHex[u >> 4], kHex[u & 0xf]};
}

std::string At(int64_t offset, std::string_view reason) {
  return "at byte " + std::to_string(offset) + ": " + std::string(reason);
}

// Iterative strict JSON (RFC 8259) scanner used only to explain failures.
class Scanner {
 public:
  Scanner(std::string_view s, uint32_t max_depth) : s_(s), max_depth_(max_depth) {}

  SyntaxError Run() {
    SkipWs();
    if (pos_ >= s_.size()) return Fail("empty document: expected a JSON value");
    if (!Value()) return err_;
    SkipWs();
    if (pos_ != s_.size()) return Fail("unexpected content after the JSON value");
    return {};
  }

 private:
  SyntaxError Fail(std::string reason) {
    err_ = {static_cast<int64_t>(pos_), std::move(reason)};
    return err_;
  }
  bool FailB(std::string reason) {
    Fail(std::move(reason));
    return false;
  }
  void SkipWs() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }

  // Containers are tracked on an explicit stack so deep input cannot overflow ours.
  bool Value() {
    std::vector<char> stack;  // '{' or '['
    for (;;) {
      SkipWs();
      if (pos_ >= s_.size()) return FailB("unexpected end of input: expected a value");
      char c = s_[pos_];
      bool opened = false;
      if (c == '{' || c == '[') {
        if (stack.size() + 1 > max_depth_)
          return FailB("nesting deeper than the limit of " + std::to_string(max_depth_));
        stack.push_back(c);
        ++pos_;
        SkipWs();
        if (pos_ < s_.size() && s_[pos_] == (c == '{' ? '}' : ']')) {
          ++pos_;
          stack.pop_back();
        } else {
          opened = true;
          if (c == '{' && !Key()) return false;
          if (c == '{' || c == '[') continue;
        }
      } else if (!Scalar()) {
        return false;
      }
      (void)opened;
      // After a value: close containers or expect a separator.
      for (;;) {
        if (stack.empty()) return true;
        SkipWs();
        if (pos_ >= s_.size())
          return FailB("unexpected end of input: unterminated " +
                       std::string(stack.back() == '{' ? "object" : "array"));
        char d = s_[pos_];
        char close = stack.back() == '{' ? '}' : ']';
        if (d == close) {
          ++pos_;
          stack.pop_back();
          continue;
        }
        if (d != ',') return FailB(std::string("expected ',' or '") + close + "'");
        ++pos_;
        if (stack.back() == '{' && !Key()) return false;
        break;
      }
    }
  }

  bool Key() {
    SkipWs();
    if (pos_ >= s_.size() || s_[pos_] != '"') return FailB("expected a string key");
    if (!String()) return false;
    SkipWs();
    if (pos_ >= s_.size() || s_[pos_] != ':') return FailB("expected ':' after key");
    ++pos_;
    return true;
  }

  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return FailB("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool Scalar() {
    char c = s_[pos_];
    if (c == '"') return String();
    if (c == 't') return Literal("true");
    if (c == 'f') return Literal("false");
    if (c == 'n') return Literal("null");
    if (c == '-' || (c >= '0' && c <= '9')) return Number();
    return FailB("unexpected character '" + PrintableByte(c) + "'");
  }

  bool Number() {
    size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    auto digits = [&] {
      size_t b = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ - b;
    };
    if (pos_ >= s_.size()) return FailB("number has no digits");
    if (s_[pos_] == '0') {
      ++pos_;
      if (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9')
        return FailB("number has a leading zero");
    } else if (digits() == 0) {
      return FailB("number has no digits");
    }
    bool integer = true;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      integer = false;
      if (digits() == 0) return FailB("number has no digits after '.'");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      integer = false;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) return FailB("number has no exponent digits");
    }
    std::string text(s_.substr(start, pos_ - start));
    if (integer) {
      // Integers past 64 bits are numbers like any other to JSON and JCS:
      // remember where they end so the parser can re-read them as doubles.
      size_t n = text.size() - (text[0] == '-');
      if (n > 18) big_int_ends_.push_back(pos_);
      if (!std::isfinite(std::strtod(text.c_str(), nullptr))) {
        pos_ = start;
        return FailB("number out of range");
      }
    } else if (!std::isfinite(std::strtod(text.c_str(), nullptr))) {
      pos_ = start;
      return FailB("number out of range");
    }
    return true;
  }

  bool String() {
    ++pos_;  // opening quote
    while (pos_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        if (pos_ + 1 >= s_.size()) break;
        char e = s_[pos_ + 1];
        if (e == 'u') {
          for (size_t i = 2; i < 6; ++i) {
            if (pos_ + i >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[pos_ + i])))
              return FailB("invalid \\u escape");
          }
          pos_ += 6;
          continue;
        }
        if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos)
          return FailB("invalid escape sequence");
        pos_ += 2;
        continue;
      }
      if (c < 0x20) return FailB("unescaped control character in string");
      if (c < 0x80) {
        ++pos_;
        continue;
      }
      size_t len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
      if (len == 0 || pos_ + len > s_.size()) return FailB("invalid UTF-8");
      uint32_t cp = c & (0x7f >> len);
      for (size_t i = 1; i < len; ++i) {
        unsigned char cc = static_cast<unsigned char>(s_[pos_ + i]);
        if ((cc & 0xc0) != 0x80) return FailB("invalid UTF-8");
        cp = cp << 6 | (cc & 0x3f);
      }
      if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
          (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) {
        return FailB("invalid UTF-8");
      }
      pos_ += len;
    }
    return FailB("unterminated string");
  }

  std::string_view s_;
  uint32_t max_depth_;
  size_t pos_ = 0;
  SyntaxError err_;

 public:
  std::vector<size_t> big_int_ends_;
};

bool HasDuplicate(Object obj, std::string* dup) {
  size_t n = obj.size();
  if (n < 2) return false;
  if (n <= 12) {
    std::string_view keys[12];
    size_t i = 0;
    for (auto [k, v] : obj) {
      for (size_t j = 0; j < i; ++j) {
        if (keys[j] == k) {
          *dup = std::string(k);
          return true;
        }
      }
      keys[i++] = k;
    }
    return false;
  }
  std::vector<std::string_view> keys;
  keys.reserve(n);
  for (auto [k, v] : obj) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  for (size_t i = 1; i < keys.size(); ++i) {
    if (keys[i] == keys[i - 1]) {
      *dup = std::string(keys[i]);
      return true;
    }
  }
  return false;
}

// Copies `text` with "e0" after each listed integer literal, making it a double.
std::string MarkAsDoubles(std::string_view text, const std::vector<size_t>& ends) {
  std::string out;
  out.reserve(text.size() + 2 * ends.size());
  size_t from = 0;
  for (size_t end : ends) {
    out.append(text.substr(from, end - from));
    out += "e0";
    from = end;
  }
  out.append(text.substr(from));
  return out;
}

// Next UTF-16 code unit sequence position helper: decodes one code point.
uint32_t DecodeUtf8(std::string_view s, size_t* i) {
  unsigned char c = static_cast<unsigned char>(s[*i]);
  if (c < 0x80) {
    ++*i;
    return c;
  }
  size_t len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
  uint32_t cp = c & (0x7f >> len);
  for (size_t k = 1; k < len && *i + k < s.size(); ++k)
    cp = cp << 6 | (static_cast<unsigned char>(s[*i + k]) & 0x3f);
  *i += len;
  return cp;
}

}  // namespace

JsonParser::JsonParser(ParseLimits limits) : limits_(limits), parser_(limits.max_bytes) {
  // Small first allocation; simdjson grows up to max_bytes keeping max_depth.
  if (parser_.allocate(1 << 16, limits_.max_depth + 1) != simdjson::SUCCESS) {
    // Allocation is retried by the first Parse(); nothing to do here.
  }
}

Result<Element> JsonParser::Parse(std::string_view text) {
  if (text.size() > limits_.max_bytes) {
    return LimitExceeded(
        At(static_cast<int64_t>(limits_.max_bytes),
           "document is larger than the limit of " + std::to_string(limits_.max_bytes) + " bytes"));
  }
  if (text.empty()) return InvalidArgument(At(0, "empty document: expected a JSON value"));
  Element root;
  auto err = parser_.parse(text.data(), text.size(), true).get(root);
  if (err) {
    Scanner scanner(text, limits_.max_depth);
    SyntaxError where = scanner.Run();
    if (where.offset < 0 && err == simdjson::NUMBER_ERROR && !scanner.big_int_ends_.empty()) {
      std::string widened = MarkAsDoubles(text, scanner.big_int_ends_);
      err = parser_.parse(widened.data(), widened.size(), true).get(root);
    }
  }
  if (err) {
    SyntaxError where = LocateSyntaxError(text, limits_.max_depth);
    if (where.offset >= 0) {
      Status st(where.reason.rfind("nesting", 0) == 0 ? ErrorCode::kLimitExceeded
                                                      : ErrorCode::kInvalidArgument,
                At(where.offset, where.reason));
      return st;
    }
    return InvalidArgument(std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  if (limits_.reject_duplicate_keys) {
    std::string dup;
    if (FindDuplicateKey(root, &dup))
      return InvalidArgument("duplicate key \"" + dup + "\" in an object");
  }
  return root;
}

SyntaxError LocateSyntaxError(std::string_view text, uint32_t max_depth) {
  return Scanner(text, max_depth).Run();
}

bool FindDuplicateKey(Element root, std::string* dup) {
  // Depth is bounded by the parser's max_depth, so recursion is bounded.
  switch (root.type()) {
    case Type::OBJECT: {
      Object obj = root.get_object().value_unsafe();
      if (HasDuplicate(obj, dup)) return true;
      for (auto [k, v] : obj) {
        if ((v.is_object() || v.is_array()) && FindDuplicateKey(v, dup)) return true;
      }
      return false;
    }
    case Type::ARRAY: {
      Array arr = root.get_array().value_unsafe();
      for (Element v : arr) {
        if ((v.is_object() || v.is_array()) && FindDuplicateKey(v, dup)) return true;
      }
      return false;
    }
    default:
      return false;
  }
}

void AppendQuoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void AppendJsNumber(std::string& out, double v) {
  if (v == 0) {
    out += '0';  // also -0
    return;
  }
  if (v < 0) {
    out += '-';
    v = -v;
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits += c;
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int exp10 = std::atoi(std::string(sci.substr(e + 1)).c_str());
  int k = static_cast<int>(digits.size());
  int n = exp10 + 1;  // value = 0.digits * 10^n
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<size_t>(n));
    out += '.';
    out.append(digits, static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += 'e';
    out += (n - 1 >= 0) ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
}

bool Utf16Less(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    unsigned char ca = static_cast<unsigned char>(a[i]), cb = static_cast<unsigned char>(b[j]);
    if (ca < 0x80 && cb < 0x80) {
      if (ca != cb) return ca < cb;
      ++i, ++j;
      continue;
    }
    uint32_t pa = DecodeUtf8(a, &i), pb = DecodeUtf8(b, &j);
    if (pa == pb) continue;
    // Compare first UTF-16 units: supplementary planes start with a surrogate (0xD800..).
    auto unit = [](uint32_t cp) { return cp >= 0x10000 ? 0xd800 + ((cp - 0x10000) >> 10) : cp; };
    uint32_t ua = unit(pa), ub = unit(pb);
    if (ua != ub) return ua < ub;
    auto low = [](uint32_t cp) { return 0xdc00 + ((cp - 0x10000) & 0x3ff); };
    return low(pa) < low(pb);
  }
  return i == a.size() && j < b.size();
}

void AppendCanonical(std::string& out, Element e) {
  switch (e.type()) {
    case Type::OBJECT: {
      Object obj = e.get_object().value_unsafe();
      std::vector<std::pair<std::string_view, Element>> members;
      members.reserve(obj.size());
      for (auto [k, v] : obj) members.emplace_back(k, v);
      std::sort(members.begin(), members.end(),
                [](const auto& x, const auto& y) { return Utf16Less(x.first, y.first); });
      out += '{';
      for (size_t i = 0; i < members.size(); ++i) {
        if (i) out += ',';
        AppendQuoted(out, members[i].first);
        out += ':';
        AppendCanonical(out, members[i].second);
      }
      out += '}';
      return;
    }
    case Type::ARRAY: {
      out += '[';
      bool first = true;
      Array arr = e.get_array().value_unsafe();
      for (Element v : arr) {
        if (!first) out += ',';
        first = false;
        AppendCanonical(out, v);
      }
      out += ']';
      return;
    }
    case Type::STRING:
      AppendQuoted(out, e.get_string().value_unsafe());
      return;
    case Type::INT64:
      AppendJsNumber(out, static_cast<double>(e.get_int64().value_unsafe()));
      return;
    case Type::UINT64:
      AppendJsNumber(out, static_cast<double>(e.get_uint64().value_unsafe()));
      return;
    case Type::DOUBLE:
      AppendJsNumber(out, e.get_double().value_unsafe());
      return;
    case Type::BOOL:
      out += e.get_bool().value_unsafe() ? "true" : "false";
      return;
    case Type::NULL_VALUE:
      out += "null";
      return;
  }
}

std::string CanonicalJson(Element e) {
  std::string out;
  AppendCanonical(out, e);
  return out;
}

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::OBJECT:
      return "object";
    case Type::ARRAY:
      return "array";
    case Type::STRING:
      return "string";
    case Type::INT64:
    case Type::UINT64:
      return "integer";
    case Type::DOUBLE:
      return "number";
    case Type::BOOL:
      return "boolean";
    case Type::NULL_VALUE:
      return "null";
  }
  return "unknown";
}

}  // namespace ctihub::json

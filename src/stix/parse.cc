#include "stix/parse.h"

#include <charconv>
#include <cmath>
#include <string>
#include <vector>

namespace ctihub::stix {
namespace {

std::string At(int64_t offset, std::string_view reason) {
  return "at byte " + std::to_string(offset) + ": " + std::string(reason);
}

// Rewrites core's "at byte N: reason" to an absolute offset.
Status Rebase(const Status& st, int64_t base) {
  std::string_view msg = st.message();
  constexpr std::string_view kAt = "at byte ";
  if (msg.substr(0, kAt.size()) == kAt) {
    int64_t n = 0;
    auto res = std::from_chars(msg.data() + kAt.size(), msg.data() + msg.size(), n);
    if (res.ec == std::errc()) {
      std::string_view rest(res.ptr, static_cast<size_t>(msg.data() + msg.size() - res.ptr));
      if (rest.substr(0, 2) == ": ") rest.remove_prefix(2);
      return Status(st.code(), std::string(st.NameOr("")), At(base + n, rest));
    }
  }
  return Status(st.code(), std::string(st.NameOr("")), At(base, msg));
}

}  // namespace

int64_t LocateDuplicateKey(std::string_view s, std::string_view* key) {
  // One key list per open container (arrays get an unused entry).
  std::vector<std::vector<std::string_view>> stack;
  std::vector<bool> is_object;
  size_t i = 0;
  bool expect_key = false;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') {
      size_t j = i + 1;
      while (j < s.size() && s[j] != '"') j += (s[j] == '\\') ? 2 : 1;
      if (j >= s.size()) return -1;
      std::string_view str = s.substr(i + 1, j - i - 1);
      if (expect_key && !stack.empty() && is_object.back()) {
        for (std::string_view k : stack.back()) {
          if (k == str) {
            if (key) *key = str;
            return static_cast<int64_t>(i);
          }
        }
        stack.back().push_back(str);
      }
      expect_key = false;
      i = j + 1;
      continue;
    }
    if (c == '{' || c == '[') {
      stack.emplace_back();
      is_object.push_back(c == '{');
      expect_key = c == '{';
    } else if (c == '}' || c == ']') {
      if (stack.empty()) return -1;
      stack.pop_back();
      is_object.pop_back();
      expect_key = false;
    } else if (c == ',') {
      expect_key = !is_object.empty() && is_object.back();
    }
    ++i;
  }
  return -1;
}

Result<json::Element> ParseObject(json::JsonParser& parser, std::string_view text,
                                  int64_t base_offset) {
  if (text.size() >= 2 &&
      ((text[0] == '\xff' && text[1] == '\xfe') || (text[0] == '\xfe' && text[1] == '\xff'))) {
    return InvalidArgument(
        At(base_offset, "text is UTF-16 (byte order mark); STIX JSON must be UTF-8"));
  }
  auto r = parser.Parse(text);
  if (r.ok()) return r;
  Status st = r.status();
  if (st.message().rfind("duplicate key", 0) == 0) {
    std::string_view key;
    int64_t at = LocateDuplicateKey(text, &key);
    return InvalidArgument(At(base_offset + (at < 0 ? 0 : at), st.message()));
  }
  return Rebase(st, base_offset);
}

}  // namespace ctihub::stix

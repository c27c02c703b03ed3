#include "store/columns.h"

#include <algorithm>
#include <utility>

namespace ctihub::store {

std::string JoinList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += '\n';
    out += s;
  }
  return out;
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    out.emplace_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

Result<Timestamp> ParseStoredTimestamp(std::string_view text) {
  auto ts = Timestamp::Parse(text);
  if (!ts.ok()) return Internal("corrupt timestamp in store: " + std::string(text));
  return ts;
}

std::string VersionKey(const Timestamp& t) { return t.Format(9); }

Result<Timestamp> StoredVersion(std::string_view key, int64_t digits) {
  auto ts = Timestamp::Parse(key);
  if (!ts.ok()) return Internal("corrupt version in store: " + std::string(key));
  return Timestamp(ts->seconds(), ts->nanos(),
                   static_cast<uint8_t>(std::clamp<int64_t>(digits, 0, 9)));
}

// The version text a status resource shows for an object.
std::string StatusVersionText(const NewObject& o, int64_t date_added_us) {
  return o.has_version ? o.version.ToString() : Timestamp::FromMicros(date_added_us).ToString();
}

namespace {

void AppendEscapedRecipient(std::string_view id, std::string& out) {
  for (char c : id) {
    if (c == '%') {
      out += "%25";
    } else if (c == '|') {
      out += "%7C";
    } else {
      out += c;
    }
  }
}

}  // namespace

std::string EncodeRecipients(const std::vector<std::string>& ids) {
  if (ids.empty()) return {};
  std::string out = "|";
  for (const auto& id : ids) {
    AppendEscapedRecipient(id, out);
    out += '|';
  }
  return out;
}

std::string RecipientNeedle(std::string_view id) {
  std::string out = "|";
  AppendEscapedRecipient(id, out);
  out += '|';
  return out;
}

std::vector<std::string> DecodeRecipients(std::string_view text) {
  std::vector<std::string> out;
  if (text.size() < 2) return out;
  text = text.substr(1, text.size() - 2);
  for (;;) {
    size_t bar = text.find('|');
    std::string_view item = text.substr(0, bar);
    std::string id;
    id.reserve(item.size());
    for (size_t i = 0; i < item.size(); ++i) {
      if (item[i] == '%' && item.substr(i, 3) == "%25") {
        id += '%';
        i += 2;
      } else if (item[i] == '%' && item.substr(i, 3) == "%7C") {
        id += '|';
        i += 2;
      } else {
        id += item[i];
      }
    }
    out.push_back(std::move(id));
    if (bar == std::string_view::npos) break;
    text.remove_prefix(bar + 1);
  }
  return out;
}

int64_t EncodeGranular(const AccessFacts& a) {
  if (!a.granular_levels) return 0;
  if (!a.granular_max_known || a.granular_max_tlp < -1 || a.granular_max_tlp > 4 ||
      a.granular_max_pap < -1 || a.granular_max_pap > 3)
    return 1;
  return 2 + (a.granular_max_tlp + 1) + 6 * (a.granular_max_pap + 1);
}

void DecodeGranular(int64_t v, AccessFacts& a) {
  a.granular_levels = v != 0;
  a.granular_max_known = v >= 2 && v < 2 + 6 * 5;
  a.granular_max_tlp = a.granular_max_known ? static_cast<int>((v - 2) % 6) - 1 : -1;
  a.granular_max_pap = a.granular_max_known ? static_cast<int>((v - 2) / 6) - 1 : -1;
}

}  // namespace ctihub::store

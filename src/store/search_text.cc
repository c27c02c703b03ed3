// SearchTextOf (store.h): the one definition of what the search index holds
// for an object version, shared by every backend.
#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "store/store.h"

namespace ctihub::store {
namespace {

// Keys whose string value (or array of strings) is searchable text.
constexpr std::string_view kTextKeys[] = {
    "name",    "description", "value",   "display_name", "path",    "key",
    "subject", "abstract",    "content", "labels",       "aliases", "body",
    "cpe",     "vendor",      "product", "explanation",  "opinion", "x_mitre_id"};

bool IsTextKey(std::string_view key) {
  for (std::string_view k : kTextKeys) {
    if (k == key) return true;
  }
  // Open vocabularies: indicator_types, malware_types, threat_actor_types, ...
  return key.size() > 6 && key.substr(key.size() - 6) == "_types";
}

bool IsJoiner(char c) { return c == '.' || c == '-' || c == '_'; }

// One value per line. A value with joiners ("evil.example.com",
// "198.51.100.7", "banking-trojan") is one token to the index (an exact value
// is one cheap lookup, not a phrase of common tokens); with `parts` its pieces
// follow on their own line, so "example" or "trojan" find it too.
void AppendLine(std::string& out, std::string_view v, bool parts) {
  if (v.empty()) return;
  if (!out.empty()) out += '\n';
  out += v;
  if (!parts || std::none_of(v.begin(), v.end(), IsJoiner)) return;
  out += '\n';
  for (char c : v) out += IsJoiner(c) ? ' ' : c;
}

// The quoted literals of a STIX pattern ('198.51.100.7', 'evil.example'):
// the values it matches, with \' and \\ unescaped.
void AppendPatternLiterals(std::string& out, std::string_view pattern, bool parts) {
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '\'') continue;
    std::string literal;
    size_t j = i + 1;
    for (; j < pattern.size() && pattern[j] != '\''; ++j) {
      if (pattern[j] == '\\' && j + 1 < pattern.size()) ++j;
      literal += pattern[j];
    }
    AppendLine(out, literal, parts);
    i = j;
  }
}

void AppendStrings(std::string& out, json::Element v, bool parts) {
  if (v.is_string()) {
    AppendLine(out, std::string_view(v.get_string().value()), parts);
  } else if (v.is_array()) {
    const json::Array items = v.get_array().value();
    for (json::Element e : items) {
      if (e.is_string()) AppendLine(out, std::string_view(e.get_string().value()), parts);
    }
  }
}

// Tokens as the SQLite index sees ASCII text (unicode61 with tokenchars
// '.-_'): runs of letters, digits and joiners, lower-cased (a byte >= 0x80
// counts as a letter: no Unicode tables here).
std::vector<std::string> SearchTokens(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : text) {
    const auto u = static_cast<unsigned char>(ch);
    if (std::isalnum(u) || u >= 0x80 || IsJoiner(ch)) {
      cur += static_cast<char>(std::tolower(u));
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// An FTS5 prefix phrase: the word's tokens adjacent in order, the last one a prefix.
bool PhraseMatches(const std::vector<std::string>& text, const std::vector<std::string>& phrase) {
  if (phrase.empty() || phrase.size() > text.size()) return false;
  for (size_t i = 0; i + phrase.size() <= text.size(); ++i) {
    bool all = true;
    for (size_t k = 0; k < phrase.size() && all; ++k) {
      const std::string& t = text[i + k];
      all =
          k + 1 == phrase.size() ? t.compare(0, phrase[k].size(), phrase[k]) == 0 : t == phrase[k];
    }
    if (all) return true;
  }
  return false;
}

}  // namespace

bool SearchTextMatches(std::string_view text, const std::vector<std::string>& words) {
  const std::vector<std::string> tokens = SearchTokens(text);
  return std::all_of(words.begin(), words.end(),
                     [&](const std::string& w) { return PhraseMatches(tokens, SearchTokens(w)); });
}

namespace {

// PostgreSQL refuses a lexeme of 2048 bytes or more: longer tokens are cut,
// on a UTF-8 character boundary, the same way on both sides.
constexpr size_t kMaxLexemeBytes = 2000;

std::string_view CutLexeme(std::string_view token) {
  if (token.size() <= kMaxLexemeBytes) return token;
  size_t end = kMaxLexemeBytes;
  while (end > 0 && (static_cast<unsigned char>(token[end]) & 0xC0) == 0x80) --end;
  return token.substr(0, end);
}

}  // namespace

std::string SearchLexemesOf(std::string_view json) {
  std::vector<std::string> tokens = SearchTokens(SearchTextOf(json));
  std::sort(tokens.begin(), tokens.end());
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
  std::string out;
  for (const std::string& t : tokens) {
    if (!out.empty()) out += ' ';
    out += CutLexeme(t);
  }
  return out;
}

std::string SearchTsQuery(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) {
    const std::vector<std::string> tokens = SearchTokens(w);
    if (tokens.empty()) return std::string();  // a word that matches nothing
    for (const std::string& t : tokens) {
      if (!out.empty()) out += " & ";
      out += '\'';
      for (char c : CutLexeme(t)) {
        if (c == '\'' || c == '\\') out += c;  // '' and \\ inside a quoted lexeme
        out += c;
      }
      out += "':*";
    }
  }
  return out;
}

std::string SearchTextOf(std::string_view text, bool parts) {
  thread_local json::JsonParser parser;
  auto doc = parser.Parse(text);
  std::string out;
  if (!doc.ok() || !doc->is_object()) return out;
  const json::Object fields = doc->get_object().value();
  for (auto field : fields) {
    const std::string_view key = field.key;
    if (IsTextKey(key)) {
      AppendStrings(out, field.value, parts);
    } else if (key == "pattern" && field.value.is_string()) {
      AppendPatternLiterals(out, std::string_view(field.value.get_string().value()), parts);
    } else if (key == "hashes" && field.value.is_object()) {
      const json::Object hashes = field.value.get_object().value();
      for (auto h : hashes) AppendStrings(out, h.value, parts);
    }
  }
  return out;
}

}  // namespace ctihub::store

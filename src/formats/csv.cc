// Implementation of csv.h.
#include "formats/csv.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace ctihub::formats {
namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The extractor type a mapped property must hold, when it knows one.
std::optional<IocType> ExpectedIoc(std::string_view type, std::string_view path) {
  if (path == "value") {
    if (type == "ipv4-addr") return IocType::kIpv4;
    if (type == "ipv6-addr") return IocType::kIpv6;
    if (type == "domain-name") return IocType::kDomain;
    if (type == "url") return IocType::kUrl;
    if (type == "email-addr") return IocType::kEmail;
  }
  if (type == "file") {
    if (path == "hashes.MD5" || path == "hashes.'MD5'") return IocType::kMd5;
    if (path == "hashes.'SHA-1'") return IocType::kSha1;
    if (path == "hashes.'SHA-256'") return IocType::kSha256;
    if (path == "hashes.'SHA-512'") return IocType::kSha512;
  }
  return std::nullopt;
}

std::string Trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

Result<CsvMapping> ParseCsvMapping(std::string_view spec) {
  size_t eq = spec.find('=');
  size_t colon = eq == std::string_view::npos ? eq : spec.find(':', eq);
  if (eq == 0 || eq == std::string_view::npos || colon == std::string_view::npos ||
      colon == eq + 1 || colon + 1 == spec.size()) {
    return InvalidArgument(
        "bad_csv_map",
        "--csv-map '" + std::string(spec) + "': expected COLUMN=TYPE:PATH, e.g. 1=ipv4-addr:value");
  }
  CsvMapping m;
  m.column = std::string(spec.substr(0, eq));
  m.type = std::string(spec.substr(eq + 1, colon - eq - 1));
  m.path = std::string(spec.substr(colon + 1));
  if (AllDigits(m.column) && (m.column.size() > 6 || std::stoul(m.column) == 0)) {
    return InvalidArgument("bad_csv_map",
                           "--csv-map '" + std::string(spec) + "': columns are numbered from 1");
  }
  return m;
}

Result<bool> ResolveCsvColumns(std::vector<CsvMapping>& maps,
                               const std::vector<std::string>& header) {
  bool named = std::any_of(maps.begin(), maps.end(),
                           [](const CsvMapping& m) { return !AllDigits(m.column); });
  for (CsvMapping& m : maps) {
    if (AllDigits(m.column)) {
      m.index = std::stoul(m.column) - 1;
      continue;
    }
    auto it = std::find_if(header.begin(), header.end(),
                           [&](const std::string& h) { return Trimmed(h) == m.column; });
    if (it == header.end()) {
      return InvalidArgument("bad_csv_map",
                             "--csv-map: no column named '" + m.column + "' in the header");
    }
    m.index = static_cast<size_t>(it - header.begin());
  }
  return named;
}

int CsvReader::Get() {
  int c = std::getc(in_);
  if (c == '\n') ++line_;
  return c;
}

Result<bool> CsvReader::Next(std::vector<std::string>* fields, int64_t* line) {
  fields->clear();
  if (done_) return false;
  *line = line_;
  std::string field;
  size_t bytes = 0;
  bool quoted = false, any = false;
  for (;;) {
    int c = Get();
    if (c == EOF) {
      done_ = true;
      if (quoted) return InvalidArgument("unterminated_quoted_field", "at the end of input");
      if (!any && field.empty() && fields->empty()) return false;
      fields->push_back(std::move(field));
      return true;
    }
    any = true;
    if (++bytes > kMaxCsvRecordBytes) {
      done_ = true;
      return LimitExceeded("record_too_long",
                           "a record is over " + std::to_string(kMaxCsvRecordBytes) + " bytes");
    }
    if (quoted) {
      if (c != '"') {
        field += static_cast<char>(c);
        continue;
      }
      int next = std::getc(in_);
      if (next == '"') {
        field += '"';
        continue;
      }
      if (next != EOF) std::ungetc(next, in_);
      quoted = false;
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c == ',') {
      fields->push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      if (!field.empty() && field.back() == '\r') field.pop_back();
      fields->push_back(std::move(field));
      return true;
    } else {
      field += static_cast<char>(c);
    }
  }
}

Result<std::vector<std::string>> CsvRowObjects(const std::vector<std::string>& row,
                                               const std::vector<CsvMapping>& maps,
                                               const GenerateOptions& options) {
  // Properties per SCO type, in the order the mappings name the types.
  std::vector<std::pair<std::string, std::vector<ScoProperty>>> groups;
  for (const CsvMapping& m : maps) {
    std::string cell = m.index < row.size() ? Trimmed(row[m.index]) : std::string();
    if (cell.empty()) continue;
    if (std::optional<IocType> want = ExpectedIoc(m.type, m.path)) {
      std::vector<Ioc> found = ExtractIocs(cell);
      if (found.size() != 1 || found[0].type != *want) {
        return InvalidArgument("cell_type_mismatch", "column " + m.column + ": '" +
                                                         cell.substr(0, 80) + "' is not " +
                                                         std::string(IocTypeName(*want)) + " (" +
                                                         m.type + ":" + m.path + ")");
      }
      cell = found[0].value;
    }
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& g) { return g.first == m.type; });
    if (it == groups.end()) it = groups.insert(groups.end(), {m.type, {}});
    it->second.push_back({m.path, std::move(cell)});
  }
  std::vector<std::string> objects;
  for (const auto& [type, props] : groups) {
    CTIHUB_ASSIGN_OR_RETURN(std::string sco, MakeSco(type, props));
    objects.push_back(std::move(sco));
    objects.push_back(MakeIndicator(ComparisonPattern(type, props), props.front().value, options));
  }
  return objects;
}

}  // namespace ctihub::formats

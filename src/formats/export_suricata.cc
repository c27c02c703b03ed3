// Suricata 7 rules (docs/formats/export.md): per exact value of an
// indicator, IPs and CIDRs as `ip` rules in both directions, domains as
// dns.query / tls.sni / http.host rules matching the name and its
// subdomains (dotprefix + endswith), URLs as an http.host + http.uri rule.
// File hashes go to the filemd5/filesha1/filesha256 list files beside the
// rules, each named by one rule. Every rule carries the STIX id in
// `metadata` and a sid derived from (STIX id, rule kind, value), so an
// indicator keeps its sids from one export to the next; a collision within
// one export moves the later rule to the next free sid.
#include <cstdint>
#include <unordered_set>

#include "formats/export_internal.h"

namespace ctihub::formats::exporting {
namespace {

constexpr uint32_t kSidBase = 1000000000;  // our rules' sids: [1e9, 2e9)
constexpr uint32_t kSidSpan = 1000000000;
constexpr uint32_t kListSidBase = 999999900;  // the three hash-list rules

// Escapes msg text: `"`, `;` and `\` get a backslash; bytes outside
// printable ASCII become '?'.
std::string MsgText(std::string_view s) {
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      out.push_back('?');
      continue;
    }
    if (c == '"' || c == ';' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// A content string: printable ASCII as it is, except `"`, `;`, `\` and `|`,
// which like every other byte are written as |XX|.
std::string Content(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '"' && c != ';' && c != '\\' && c != '|') {
      out.push_back(c);
      continue;
    }
    out += '|';
    out += kHex[u >> 4];
    out += kHex[u & 15];
    out += '|';
  }
  return out;
}

struct UrlParts {
  std::string host;
  std::string path;  // path and query, "/" at least
};

// scheme://[user@]host[:port][/path][?query]; nullopt without a host.
std::optional<UrlParts> SplitUrl(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::nullopt;
  std::string_view rest = url.substr(scheme + 3);
  size_t path_at = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_at);
  std::string_view path =
      path_at == std::string_view::npos ? std::string_view("/") : rest.substr(path_at);
  path = path.substr(0, path.find('#'));
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  if (!authority.empty() && authority.front() == '[') {
    authority = authority.substr(0, authority.find(']') + 1);
  } else {
    authority = authority.substr(0, authority.find(':'));
  }
  if (authority.empty()) return std::nullopt;
  UrlParts p;
  for (char c : authority) p.host.push_back(static_cast<char>(std::tolower(c)));
  p.path = path.empty() || path.front() == '?' ? "/" + std::string(path) : std::string(path);
  return p;
}

class SuricataExporter : public ValueExporter {
 public:
  SuricataExporter(const ExportOptions& o, ExportOutput& out, OpenSideOutput side)
      : ValueExporter(o, out), side_(std::move(side)) {}

  Status Begin() override {
    if (!options_.list.empty()) return {};
    for (Hashes& h : hashes_) {
      if (!side_) continue;
      CTIHUB_ASSIGN_OR_RETURN(h.file, side_(h.name));
    }
    return out_.Write("# ctihub Suricata 7 rules (" + OneLine(options_.source) + ")\n");
  }

  Status Finish() override {
    if (!options_.list.empty()) return {};
    for (Hashes& h : hashes_) {
      if (h.file) CTIHUB_RETURN_IF_ERROR(h.file->Write(h.pending));
      h.pending.clear();
      if (h.count == 0) continue;
      std::string rule = "alert http any any -> any any (msg:\"ctihub file " +
                         std::string(h.keyword.substr(4)) + " list\"; " + std::string(h.keyword) +
                         ":" + std::string(h.name) + "; sid:" + std::to_string(h.sid) +
                         "; rev:1;)\n";
      CTIHUB_RETURN_IF_ERROR(out_.Write(rule));
    }
    return {};
  }

 protected:
  void AppendValue(const IndicatorValue& v) override {
    switch (v.kind) {
      case ValueKind::kIpv4:
      case ValueKind::kIpv6:
      case ValueKind::kIpv4Cidr:
      case ValueKind::kIpv6Cidr:
        return Rule("ip", "ip", v.value, "ip any any <> [" + v.value + "] any", "");
      case ValueKind::kDomain:
        return Domain(v.value);
      case ValueKind::kUrl:
        return Url(v.value);
      case ValueKind::kMd5:
        return Hash(0, v.value);
      case ValueKind::kSha1:
        return Hash(1, v.value);
      case ValueKind::kSha256:
        return Hash(2, v.value);
      case ValueKind::kEmail:
      case ValueKind::kSha512:
        return;  // no Suricata keyword matches them (no filesha512)
    }
  }

 private:
  struct Hashes {
    std::string_view keyword;  // filemd5, ...
    std::string_view name;     // the list file
    uint32_t sid;
    std::unique_ptr<ExportOutput> file;
    std::string pending;  // flushed at Finish and every 64 KiB
    int64_t count = 0;
  };

  void Domain(const std::string& name) {
    if (name.empty() || name.find_first_of("\" ;\\|") != std::string::npos) return;
    const std::string body = "dotprefix; content:\"." + Content(name) + "\"; ";
    Rule("dns", "domain", name, "dns any any -> any any",
         "dns.query; " + body + "nocase; endswith; ");
    Rule("tls", "domain", name, "tls any any -> any any",
         "tls.sni; " + body + "nocase; endswith; ");
    // http.host is lower case already (nocase would be refused).
    Rule("http", "domain", name, "http any any -> any any", "http.host; " + body + "endswith; ");
  }

  void Url(const std::string& url) {
    auto parts = SplitUrl(url);
    if (!parts) return;
    std::string match = "http.host; content:\"" + Content(parts->host) +
                        "\"; bsize:" + std::to_string(parts->host.size()) +
                        "; http.uri; content:\"" + Content(parts->path) +
                        "\"; bsize:" + std::to_string(parts->path.size()) + "; ";
    Rule("url", "url", url, "http any any -> any any", match);
  }

  void Hash(int which, const std::string& value) {
    Hashes& h = hashes_[which];
    ++h.count;
    if (!options_.list.empty()) {
      if (options_.list == h.keyword) line_ += value + "\n";
      return;
    }
    line_ += "# " + std::string(facts_.id) + ": " + std::string(h.keyword.substr(4)) + " " + value +
             " in " + std::string(h.name) + "\n";
    if (!h.file) return;
    h.pending += value;
    h.pending += '\n';
    if (h.pending.size() > 65536) {
      if (!h.file->Write(h.pending).ok()) h.file.reset();  // reported by Finish's empty list
      h.pending.clear();
    }
  }

  // One rule: `header` after the action, `match` the keywords before msg's
  // companions. The rule's sid hashes (STIX id, kind, value).
  void Rule(std::string_view kind, std::string_view what, const std::string& value,
            const std::string& header, const std::string& match) {
    if (!options_.list.empty()) return;  // a list alone has no rules
    line_ += "alert " + header + " (msg:\"ctihub " + std::string(what) + " " + MsgText(value) +
             "\"; " + match + "metadata:stix_id " + std::string(facts_.id) + ", ctihub_kind " +
             std::string(kind) + "; sid:" + std::to_string(SidFor(kind, value)) + "; rev:1;)\n";
  }

  uint32_t SidFor(std::string_view kind, std::string_view value) {
    uint64_t h = 14695981039346656037ull;
    auto mix = [&](std::string_view s) {
      for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
      h = (h ^ 0xff) * 1099511628211ull;
    };
    mix(facts_.id);
    mix(kind);
    mix(value);
    uint32_t sid = kSidBase + static_cast<uint32_t>(h % kSidSpan);
    while (!sids_.insert(sid).second) sid = sid + 1 == kSidBase + kSidSpan ? kSidBase : sid + 1;
    return sid;
  }

  OpenSideOutput side_;
  Hashes hashes_[3] = {{"filemd5", kSuricataMd5List, kListSidBase + 1, nullptr, {}, 0},
                       {"filesha1", kSuricataSha1List, kListSidBase + 2, nullptr, {}, 0},
                       {"filesha256", kSuricataSha256List, kListSidBase + 3, nullptr, {}, 0}};
  std::unordered_set<uint32_t> sids_;
};

}  // namespace

std::unique_ptr<Exporter> MakeSuricataExporter(const ExportOptions& o, ExportOutput& out,
                                               OpenSideOutput side) {
  return std::make_unique<SuricataExporter>(o, out, std::move(side));
}

}  // namespace ctihub::formats::exporting

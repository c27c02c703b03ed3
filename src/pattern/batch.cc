#include "pattern/batch.h"

#include <cstring>
#include <functional>
#include <unordered_map>
#include <vector>

#include "core/json.h"
#include "pattern/evaluator.h"
#include "pattern/parser.h"

namespace ctihub::pattern {
namespace {

bool ParseVersion(std::string_view s, StixVersion* v) {
  if (s == "2.1") {
    *v = StixVersion::k21;
    return true;
  }
  if (s == "2.0") {
    *v = StixVersion::k20;
    return true;
  }
  return false;
}

// The fields of one input line; views into the parser's document.
struct BatchLine {
  std::string_view id;
  std::string_view pattern;
  StixVersion version = StixVersion::k21;
  json::Element observed;
};

Status ReadBatchLine(json::JsonParser& parser, std::string_view line, bool want_observed,
                     BatchLine* out) {
  auto root = parser.Parse(line);
  if (!root.ok()) return InvalidArgument("invalid JSON line: " + root.status().message());
  if (root->type() != json::Type::OBJECT) return InvalidArgument("line is not a JSON object");
  json::Object o = root->get_object().value_unsafe();
  if (o.at_key("id").get(out->id) != simdjson::SUCCESS)
    return InvalidArgument("missing string 'id'");
  if (o.at_key("pattern").get(out->pattern) != simdjson::SUCCESS)
    return InvalidArgument("missing string 'pattern'");
  json::Element v;
  if (o.at_key("stix_version").get(v) == simdjson::SUCCESS) {
    std::string_view vs;
    if (v.get(vs) != simdjson::SUCCESS || !ParseVersion(vs, &out->version))
      return InvalidArgument("stix_version must be \"2.0\" or \"2.1\"");
  }
  if (want_observed) {
    if (o.at_key("observed").get(out->observed) != simdjson::SUCCESS)
      return InvalidArgument("missing 'observed' array");
    if (out->observed.type() != json::Type::ARRAY)
      return InvalidArgument("'observed' must be an array");
  }
  return Status::Ok();
}

// Messages may quote pattern text, which need not be valid UTF-8: replace
// invalid sequences with U+FFFD so every output line is valid JSON text.
std::string ValidUtf8(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80             ? 1
               : (c & 0xE0) == 0xC0 ? 2
               : (c & 0xF0) == 0xE0 ? 3
               : (c & 0xF8) == 0xF0 ? 4
                                    : 0;
    bool ok = n > 0 && i + n <= s.size() && !(n == 2 && c < 0xC2);
    for (size_t k = 1; ok && k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) ok = false;
    if (ok && n == 3) {
      unsigned cp = ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6);
      if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) ok = false;
    }
    if (ok && n == 4) {
      unsigned cp = ((c & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 12);
      if (cp < 0x10000 || cp > 0x10FFFF) ok = false;
    }
    if (ok) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

bool IsAscii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

// Appends `s` as a JSON string, made valid UTF-8 first when it is not ASCII.
void AppendText(json::JsonWriter& w, std::string_view s) {
  if (IsAscii(s)) {
    w.String(s);
  } else {
    w.String(ValidUtf8(s));
  }
}

std::string Joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& w : v) {
    if (!s.empty()) s += "; ";
    s += w;
  }
  return s;
}

// What compiling (match) or parsing (validate) one pattern text gave.
struct CachedPattern {
  Status status;
  std::shared_ptr<const CompiledPattern> compiled;  // match mode, when status is ok
  std::string warnings;                             // validate mode: joined warnings
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

using PatternCache = std::unordered_map<std::string, CachedPattern, StringHash, std::equal_to<>>;

bool IsBlank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  return true;
}

}  // namespace

struct BatchRunner::Impl {
  BatchMode mode;
  json::JsonParser parser;
  ObservationSet observations;
  MatchResult match;
  PatternCache cache[2];  // by StixVersion
  size_t compilations = 0;

  // The cached result for (text, version), compiling or parsing it on a miss.
  const CachedPattern& Lookup(std::string_view text, StixVersion version) {
    PatternCache& c = cache[version == StixVersion::k21 ? 1 : 0];
    auto it = c.find(text);
    if (it != c.end()) return it->second;
    if (c.size() >= kMaxCachedPatterns) c.clear();
    ++compilations;
    PatternOptions opt;
    opt.version = version;
    CachedPattern entry;
    if (mode == BatchMode::kMatch) {
      auto cp = CompiledPattern::Compile(text, opt);
      if (cp.ok()) {
        entry.compiled = std::move(*cp);
      } else {
        entry.status = cp.status();
      }
    } else {
      auto parsed = ParsePattern(text, opt);
      if (parsed.ok()) {
        entry.warnings = Joined(parsed->warnings);
      } else {
        entry.status = parsed.status();
      }
    }
    return c.emplace(std::string(text), std::move(entry)).first->second;
  }

  void Validate(std::string_view line, std::string* out) {
    BatchLine bl;
    Status st = ReadBatchLine(parser, line, false, &bl);
    const CachedPattern* cached = st.ok() ? &Lookup(bl.pattern, bl.version) : nullptr;
    if (cached && !cached->status.ok()) st = cached->status;
    json::JsonWriter w(*out);
    w.BeginObject().Key("id");
    AppendText(w, bl.id);
    w.Key("result").String(st.ok() ? "valid" : "invalid").Key("message");
    if (st.ok()) {
      AppendText(w, cached->warnings);
    } else {
      AppendText(w, st.NamedMessage());
    }
    w.EndObject();
  }

  void Match(std::string_view line, std::string* out) {
    BatchLine bl;
    std::string error;
    bool matched = false;
    Status st = ReadBatchLine(parser, line, true, &bl);
    if (!st.ok()) {
      error = st.NamedMessage();
    } else if (const CachedPattern& cached = Lookup(bl.pattern, bl.version); !cached.status.ok()) {
      error = "invalid pattern: " + cached.status.NamedMessage();
    } else if (Status ls = observations.LoadElement(bl.observed, bl.version); !ls.ok()) {
      error = "invalid observed data: " + ls.NamedMessage();
    } else if (Status ms = cached.compiled->MatchInto(observations.observations(), &match);
               !ms.ok()) {
      error = ms.NamedMessage();
    } else {
      matched = match.matched;
    }
    json::JsonWriter w(*out);
    w.BeginObject().Key("id");
    AppendText(w, bl.id);
    bool failed = !error.empty() || !st.ok();
    w.Key("result").String(failed ? "error" : matched ? "match" : "nomatch").Key("message");
    AppendText(w, error);
    if (!failed && matched) {
      w.Key("bindings").BeginArray();
      for (size_t b : match.bindings) w.Int(static_cast<int64_t>(b));
      w.EndArray();
    }
    w.EndObject();
  }
};

BatchRunner::BatchRunner(BatchMode mode) : impl_(std::make_unique<Impl>()) { impl_->mode = mode; }
BatchRunner::~BatchRunner() = default;

void BatchRunner::AnswerLine(std::string_view line, std::string* out) {
  if (impl_->mode == BatchMode::kMatch) {
    impl_->Match(line, out);
  } else {
    impl_->Validate(line, out);
  }
}

std::string BatchRunner::Answer(std::string_view line) {
  std::string out;
  AnswerLine(line, &out);
  return out;
}

size_t BatchRunner::compilations() const { return impl_->compilations; }

namespace {

constexpr size_t kReadChunk = 1u << 20;   // bytes read at a time
constexpr size_t kWriteChunk = 1u << 20;  // output flushed in blocks of this size

// Collects answer lines and writes them to `out` in blocks.
class AnswerSink {
 public:
  AnswerSink(std::FILE* out, BatchMode mode) : out_(out), mode_(mode), runner_(mode) {
    answers_.reserve(kWriteChunk + 4096);
  }

  // Answers one input line (blank lines get no answer).
  Status Line(std::string_view line) {
    if (IsBlank(line)) return Status::Ok();
    if (line.size() >= kMaxBatchLineBytes) return TooLong();
    runner_.AnswerLine(line, &answers_);
    answers_ += '\n';
    return answers_.size() >= kWriteChunk ? Flush() : Status::Ok();
  }

  // Answers a line of kMaxBatchLineBytes or more (its id is not read).
  Status TooLong() {
    const Status too_long =
        LimitExceeded("batch_line_too_long",
                      "line is longer than " + std::to_string(kMaxBatchLineBytes) + " bytes");
    json::JsonWriter w(answers_);
    w.BeginObject().Key("id").String("").Key("result").String(
        mode_ == BatchMode::kMatch ? "error" : "invalid");
    w.Key("message").String(too_long.NamedMessage());
    w.EndObject();
    answers_ += '\n';
    return Status::Ok();
  }

  Status Finish() {
    CTIHUB_RETURN_IF_ERROR(Flush());
    if (std::fflush(out_) != 0) return Unavailable("cannot write the answers");
    return Status::Ok();
  }

 private:
  Status Flush() {
    if (!answers_.empty() &&
        std::fwrite(answers_.data(), 1, answers_.size(), out_) != answers_.size())
      return Unavailable("cannot write the answers");
    answers_.clear();
    return Status::Ok();
  }

  std::FILE* out_;
  BatchMode mode_;
  BatchRunner runner_;
  std::string answers_;
};

// Reads `in` in chunks; memory stays bounded by the longest line.
Status StreamLines(std::FILE* in, AnswerSink& sink) {
  std::vector<char> buf(kReadChunk);
  size_t have = 0;        // bytes in buf
  bool skipping = false;  // inside a line that was too long: drop bytes up to its newline
  bool eof = false;
  while (!eof) {
    if (have == buf.size()) {
      if (buf.size() >= kMaxBatchLineBytes) {
        // No newline in a whole buffer: answer the line now, drop the rest of it.
        if (!skipping) CTIHUB_RETURN_IF_ERROR(sink.TooLong());
        skipping = true;
        have = 0;
      } else {
        buf.resize(buf.size() * 2);
      }
    }
    size_t n = std::fread(buf.data() + have, 1, buf.size() - have, in);
    if (n == 0) {
      if (std::ferror(in)) return InvalidArgument("cannot read the input");
      eof = true;
    }
    size_t end = have + n;
    size_t start = 0;
    while (const void* nl = std::memchr(buf.data() + start, '\n', end - start)) {
      size_t stop = static_cast<size_t>(static_cast<const char*>(nl) - buf.data());
      if (!skipping)
        CTIHUB_RETURN_IF_ERROR(sink.Line(std::string_view(buf.data() + start, stop - start)));
      skipping = false;
      start = stop + 1;
    }
    if (eof && !skipping && start < end)
      CTIHUB_RETURN_IF_ERROR(sink.Line(std::string_view(buf.data() + start, end - start)));
    std::memmove(buf.data(), buf.data() + start, end - start);
    have = end - start;
  }
  return Status::Ok();
}

}  // namespace

Status RunBatch(std::FILE* in, std::FILE* out, BatchMode mode) {
  // Reading beats mapping here: on the VMs we measured, page faults on a
  // mapped file cost more CPU than copying the bytes (docs/PERFORMANCE.md).
  AnswerSink sink(out, mode);
  CTIHUB_RETURN_IF_ERROR(StreamLines(in, sink));
  return sink.Finish();
}

}  // namespace ctihub::pattern

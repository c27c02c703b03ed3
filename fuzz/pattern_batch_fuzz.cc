// The `pattern validate|match --batch` protocol: the input is a JSON Lines
// file. Every non-blank line must get exactly one answer line, each a JSON
// object with an "id" and a known "result"; anything else is a finding.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/json.h"
#include "pattern/batch.h"

namespace {

size_t NonBlankLines(std::string_view in) {
  size_t n = 0, start = 0;
  while (start <= in.size()) {
    size_t end = in.find('\n', start);
    if (end == std::string_view::npos) end = in.size();
    std::string_view line = in.substr(start, end - start);
    if (line.find_first_not_of(" \t\r\n") != std::string_view::npos) ++n;
    start = end + 1;
  }
  return n;
}

void CheckAnswers(const std::string& out, size_t want_lines, ctihub::pattern::BatchMode mode) {
  ctihub::json::JsonParser parser;
  size_t lines = 0, start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    if (end == std::string::npos) std::abort();  // every answer ends with a newline
    auto root = parser.Parse(std::string_view(out).substr(start, end - start));
    if (!root.ok() || root->type() != ctihub::json::Type::OBJECT) std::abort();
    std::string_view id, result;
    auto o = root->get_object().value_unsafe();
    if (o.at_key("id").get(id) != simdjson::SUCCESS ||
        o.at_key("result").get(result) != simdjson::SUCCESS)
      std::abort();
    bool known = mode == ctihub::pattern::BatchMode::kMatch
                     ? (result == "match" || result == "nomatch" || result == "error")
                     : (result == "valid" || result == "invalid");
    if (!known) std::abort();
    ++lines;
    start = end + 1;
  }
  if (lines != want_lines) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ctihub::pattern::BatchMode;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (BatchMode mode : {BatchMode::kValidate, BatchMode::kMatch}) {
    std::FILE* src = fmemopen(const_cast<char*>(in.data()), in.size(), "rb");
    if (!src) return 0;  // fmemopen refuses an empty buffer
    char* out_buf = nullptr;
    size_t out_len = 0;
    std::FILE* out = open_memstream(&out_buf, &out_len);
    ctihub::Status st = ctihub::pattern::RunBatch(src, out, mode);
    std::fclose(src);
    std::fclose(out);
    std::string answers(out_buf, out_len);
    std::free(out_buf);
    if (!st.ok()) std::abort();
    CheckAnswers(answers, NonBlankLines(in), mode);
  }
  return 0;
}

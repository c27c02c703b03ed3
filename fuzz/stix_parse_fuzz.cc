// STIX input path: any bytes through BundleReader (from memory and, with a
// tiny chunk size, from a FILE*), ParseObject, Validate, BundleCheck and
// DeterministicScoId. A rejected input is fine; a crash, a sanitizer report,
// the two reader modes disagreeing, or a line:column that differs from a
// plain count of the input's newlines is a finding.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "stix/bundle_check.h"
#include "stix/bundle_reader.h"
#include "stix/parse.h"
#include "stix/sco_id.h"
#include "stix/validate.h"

namespace {

struct Item {
  std::string text;
  int64_t offset;
  ctihub::stix::BundleReader::Position position;
};

// The obvious line:column of `offset`: newlines before it, counted from scratch.
ctihub::stix::BundleReader::Position SlowPosition(std::string_view input, int64_t offset) {
  ctihub::stix::BundleReader::Position p;
  int64_t line_start = 0;
  for (int64_t i = 0; i < offset; ++i) {
    if (input[static_cast<size_t>(i)] == '\n') {
      ++p.line;
      line_start = i + 1;
    }
  }
  p.column = offset - line_start + 1;
  return p;
}

std::vector<Item> ReadAll(ctihub::stix::BundleReader& reader, bool* failed) {
  std::vector<Item> items;
  *failed = false;
  for (int guard = 0; guard < 100000; ++guard) {
    int64_t offset = -1;
    auto next = reader.Next(&offset);
    if (!next.ok()) {
      *failed = true;
      break;
    }
    if (next->empty()) break;
    items.push_back({std::string(*next), offset, reader.PositionOf(offset)});
  }
  return items;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctihub;
  static json::JsonParser parser(json::ParseLimits{.max_bytes = 1 << 20, .max_depth = 32});
  std::string_view input(reinterpret_cast<const char*>(data), size);
  stix::BundleReaderOptions options{.max_object_bytes = 1 << 20, .chunk_bytes = 3};

  stix::BundleReader memory_reader(input, options);
  bool memory_failed = false;
  std::vector<Item> items = ReadAll(memory_reader, &memory_failed);

  // The FILE* path, crossing chunk borders everywhere, must agree.
  std::string copy(input);
  if (std::FILE* f = size ? fmemopen(copy.data(), copy.size(), "rb") : nullptr) {
    stix::BundleReader file_reader(f, options);
    bool file_failed = false;
    std::vector<Item> file_items = ReadAll(file_reader, &file_failed);
    std::fclose(f);
    if (file_failed != memory_failed || file_items.size() != items.size()) std::abort();
    for (size_t i = 0; i < items.size(); ++i) {
      if (items[i].text != file_items[i].text || items[i].offset != file_items[i].offset)
        std::abort();
      if (items[i].position.line != file_items[i].position.line ||
          items[i].position.column != file_items[i].position.column) {
        std::abort();
      }
    }
    if (file_reader.bundle_keys() != memory_reader.bundle_keys()) std::abort();
  }

  stix::BundleCheck bundle_check;
  for (const Item& item : items) {
    if (item.offset < 0 || static_cast<size_t>(item.offset) + item.text.size() > size) std::abort();
    auto slow = SlowPosition(input, item.offset);
    if (slow.line != item.position.line || slow.column != item.position.column) std::abort();
    if (input.substr(static_cast<size_t>(item.offset), item.text.size()) != item.text) std::abort();
    auto parsed = stix::ParseObject(parser, item.text, item.offset);
    if (!parsed.ok()) {
      if (parsed.status().code() == ErrorCode::kInternal) std::abort();
      continue;
    }
    bundle_check.AddObject(*parsed);
    stix::ValidateOptions vopts;
    vopts.bundle_spec_version = memory_reader.bundle_spec_version();
    stix::Report report = stix::Validate(*parsed, vopts);
    for (const auto& issue : report.errors) {
      if (issue.path.empty() || issue.path[0] != '$') std::abort();
    }
    if (parsed->is_object()) {
      auto id = stix::DeterministicScoId(*parsed);
      (void)id;
    }
  }
  if (!memory_failed) {
    stix::Report bundle = bundle_check.Finish(memory_reader, {});
    for (const auto& issue : bundle.errors) {
      if (issue.path.empty() || issue.path[0] != '$') std::abort();
    }
  }
  return 0;
}

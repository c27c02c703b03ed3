// STIX input path: any bytes through BundleReader (from memory and, with a
// tiny chunk size, from a FILE*), ParseObject, Validate and DeterministicScoId.
// A rejected input is fine; a crash, a sanitizer report, or the two reader
// modes disagreeing is a finding.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "stix/bundle_reader.h"
#include "stix/parse.h"
#include "stix/sco_id.h"
#include "stix/validate.h"

namespace {

struct Item {
  std::string text;
  int64_t offset;
};

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
    items.push_back({std::string(*next), offset});
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
      if (items[i].text != file_items[i].text || items[i].offset != file_items[i].offset) std::abort();
    }
  }

  for (const Item& item : items) {
    if (item.offset < 0 || static_cast<size_t>(item.offset) + item.text.size() > size) std::abort();
    if (input.substr(static_cast<size_t>(item.offset), item.text.size()) != item.text) std::abort();
    auto parsed = stix::ParseObject(parser, item.text, item.offset);
    if (!parsed.ok()) {
      if (parsed.status().code() == ErrorCode::kInternal) std::abort();
      continue;
    }
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
  return 0;
}

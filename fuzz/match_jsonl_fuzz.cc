// The jsonl reader of ctihub match (see match_reader_fuzz.h).
#include "match_reader_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return ctihub::matcher::fuzz::RunReader(ctihub::matcher::Format::kJsonLines, data, size);
}

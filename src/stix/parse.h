// Parsing one STIX object's JSON text with absolute byte offsets in errors.
// Thin layer over core's JsonParser: adds the offset of the text within its
// input (as BundleReader reports it), locates duplicate keys, and recognises
// UTF-16 / UTF-32 input. Not thread-safe (the parser is the caller's).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/json.h"
#include "core/result.h"

namespace ctihub::stix {

// Parses `text`, which starts at byte `base_offset` of its input. Errors are
// InvalidArgument (syntax, encoding, duplicate key) or LimitExceeded (size,
// depth), with "at byte N: reason" where N is absolute. The element stays valid
// until the next Parse on `parser`.
Result<json::Element> ParseObject(json::JsonParser& parser, std::string_view text,
                                  int64_t base_offset = 0);

// Offset (relative to `text`) of the second occurrence of a key in the same
// object, or -1. Only used on the error path.
int64_t LocateDuplicateKey(std::string_view text, std::string_view* key);

}  // namespace ctihub::stix

// Opaque keyset-pagination cursors for QueryObjects: the date_added of the
// last object of a page, with a format tag and a checksum so that a truncated,
// edited or foreign token is rejected (InvalidArgument) instead of silently
// paging from the wrong place. Not a secret: a cursor only says where to
// continue, never what the caller may see. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ctihub::store {

// "c1" + 16 hex digits of date_added_us + 8 hex digits of a checksum.
std::string EncodeCursor(int64_t date_added_us);
// InvalidArgument (name "bad_cursor" in the message) for anything that
// EncodeCursor did not produce.
Result<int64_t> DecodeCursor(std::string_view token);

}  // namespace ctihub::store

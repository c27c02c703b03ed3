// UTF-8 (RFC 3629): well-formedness, decoding to code points, repair. The one
// implementation in the tree. Well-formed excludes overlong forms, surrogates
// (U+D800..U+DFFF) and code points past U+10FFFF. Thread-safe (pure functions).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ctihub {

// Length (1..4) of the well-formed sequence starting at s[i], or 0 if it is ill-formed
// or truncated. REQUIRES: i < s.size().
size_t Utf8SequenceLength(std::string_view s, size_t i);

// Decodes the well-formed sequence at s[*i] into *cp and advances *i past it.
// Returns false (and leaves *i, *cp alone) if it is ill-formed. REQUIRES: *i < s.size().
bool NextCodePoint(std::string_view s, size_t* i, char32_t* cp);

// True if all of `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

// Decodes all of `s` into *out; false on the first ill-formed sequence.
bool DecodeUtf8(std::string_view s, std::u32string* out);

// `s` with each byte that does not start a well-formed sequence replaced by U+FFFD,
// so text quoted from untrusted input can be written into JSON.
std::string ToValidUtf8(std::string_view s);

}  // namespace ctihub

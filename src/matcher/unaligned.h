// Unaligned fixed-size loads for the matcher's word-at-a-time code (hashing,
// name compares): a memcpy of a constant size compiles to one load, with no
// alignment or aliasing trouble.
#pragma once

#include <cstdint>
#include <cstring>

namespace ctihub::matcher {

inline uint64_t Load8(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

inline uint32_t Load4(const char* p) {
  uint32_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

}  // namespace ctihub::matcher

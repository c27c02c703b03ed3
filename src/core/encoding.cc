#include "core/encoding.h"

#include <sodium.h>

namespace ctihub {

std::string Base64Encode(std::string_view bytes) {
  constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_encoded_len(bytes.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), kVariant);
  out.resize(out.size() - 1);  // sodium writes a terminating NUL
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  // libsodium accepts an unpadded tail even in the padded variant: require whole groups.
  if (text.size() % 4 != 0) {
    return InvalidArgument("bad_base64", "base64 length is not a multiple of 4");
  }
  std::string out(text.size() / 4 * 3, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return InvalidArgument("bad_base64", "invalid base64");
  }
  out.resize(len);
  return out;
}

bool IsBase64(std::string_view text) { return Base64Decode(text).ok(); }

bool IsHexDigits(std::string_view text) {
  for (char c : text) {
    if (HexDigitValue(c) < 0) return false;
  }
  return true;
}

std::string HexEncode(const uint8_t* data, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 0xf];
  }
  return out;
}

Result<std::string> HexDecode(std::string_view text) {
  if (text.size() % 2 != 0) return InvalidArgument("bad_hex", "odd number of hex digits");
  std::string out(text.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = HexDigitValue(text[2 * i]);
    const int lo = HexDigitValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgument("bad_hex", "invalid hex digit");
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

}  // namespace ctihub

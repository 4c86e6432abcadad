// Byte strings: Bytes for public data, ByteView for borrowed read-only views.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace m2msec {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// The octets of a text (no terminator), e.g. a TS-0003 derivation label.
inline ByteView as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

inline std::string_view as_text(ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Concatenation of any number of views (the `||` of the specifications).
Bytes concat(std::initializer_list<ByteView> parts);

}  // namespace m2msec

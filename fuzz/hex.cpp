// Fuzz target: hex_decode / hex_decode_secret. Property: accepted input re-encodes to its lower-case form,
// and the public and secret decoders agree.
#include <cstdint>
#include <string>
#include <string_view>

#include "m2msec/core/encoding.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto decoded = m2msec::hex_decode(text);
  auto secret = m2msec::hex_decode_secret(text);
  if (decoded.has_value() != secret.has_value()) __builtin_trap();
  if (!decoded) return 0;
  if (!m2msec::ct::equal(*decoded, secret->view())) __builtin_trap();
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  if (m2msec::hex_encode(*decoded) != lower) __builtin_trap();
  return 0;
}

// Fuzz target: base64url_decode. Properties: the decoder is canonical (an accepted text is exactly the
// encoding of what it decodes to), and encode/decode round-trips any octets.
#include <cstdint>
#include <string_view>

#include "m2msec/core/encoding.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto decoded = m2msec::base64url_decode(text)) {
    if (m2msec::base64url_encode(*decoded) != text) __builtin_trap();
  }
  const m2msec::ByteView raw(data, size);
  auto back = m2msec::base64url_decode(m2msec::base64url_encode(raw));
  if (!back || !m2msec::ct::equal(*back, raw)) __builtin_trap();
  return 0;
}

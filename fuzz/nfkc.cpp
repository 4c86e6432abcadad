// Fuzz target: keys::nfkc_utf8. Properties: accepted output is well-formed UTF-8 (accepted again) and
// NFKC is idempotent.
#include <cstdint>
#include <string_view>

#include "m2msec/keys/nfkc.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto once = m2msec::keys::nfkc_utf8(text);
  if (!once) return 0;
  auto twice = m2msec::keys::nfkc_utf8(*once);
  if (!twice || *twice != *once) __builtin_trap();
  return 0;
}

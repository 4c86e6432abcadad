// Fuzz target: json::parse, the reader every JOSE header, JWK, token and oneM2M body goes through:
//   it never crashes or overflows the stack;
//   when it accepts, the compact form it writes parses back to an equal value and is a fixed point
//     (writing that again gives the same octets).
#include <cstdint>
#include <string>
#include <string_view>

#include "m2msec/json/json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto value = m2msec::json::parse(text);
  if (!value) return 0;
  const std::string once = m2msec::json::serialize(*value);
  auto again = m2msec::json::parse(once);
  if (!again || !(*again == *value) || m2msec::json::serialize(*again) != once) __builtin_trap();
  return 0;
}

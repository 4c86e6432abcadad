// Fuzz target: the RFC 6920 ni URI parser of raw-public-key identifiers (TS-0003 V3.18.0 10.1.2).
// Properties: whatever is accepted is already canonical (to_string() gives the input back), reparses to an
// equal value, and matches() never crashes on the input octets as a key.
#include <cstdint>
#include <string>
#include <string_view>

#include "m2msec/pki/identity.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = m2msec::pki::PublicKeyId::parse(text);
  if (!parsed) return 0;
  const std::string formatted = parsed->to_string();
  check(formatted == text);
  auto again = m2msec::pki::PublicKeyId::parse(formatted);
  check(again && *again == *parsed && again->to_string() == formatted);
  check(m2msec::pki::PublicKeyId::of({data, size}, parsed->suite()).suite() == parsed->suite());
  (void)parsed->matches({data, size});
  return 0;
}

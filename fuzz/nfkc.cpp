// Fuzz target: keys::nfkc_utf8. Properties: it accepts exactly the well-formed UTF-8 of RFC 3629
// (checked by an independent validator here, not ICU), its output is well-formed UTF-8, and NFKC is
// idempotent: nfkc(nfkc(x)) == nfkc(x).
#include <cstdint>
#include <string_view>

#include "m2msec/keys/nfkc.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// RFC 3629 clause 4 (UTF8-octets ABNF): no overlongs, no surrogates, nothing above U+10FFFF.
bool well_formed_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // the range allowed for the second octet
    if (b0 <= 0x7f) {
      ++i;
      continue;
    } else if (b0 >= 0xc2 && b0 <= 0xdf) {
      n = 1;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      n = 2;
      if (b0 == 0xe0) lo = 0xa0;
      if (b0 == 0xed) hi = 0x9f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      n = 3;
      if (b0 == 0xf0) lo = 0x90;
      if (b0 == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (text.size() - i <= n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf)) return false;
    }
    i += n + 1;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto once = m2msec::keys::nfkc_utf8(text);
  check(once.has_value() == (!text.empty() && well_formed_utf8(text)));
  if (!once) return 0;
  check(!once->empty() && well_formed_utf8(*once));
  auto twice = m2msec::keys::nfkc_utf8(*once);
  check(twice && *twice == *once);
  return 0;
}

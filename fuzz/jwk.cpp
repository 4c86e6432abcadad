// Fuzz target: jose::JwkSet::parse (JWK and JWK Set import):
//   nothing crashes;
//   every accepted key exports (with its private part when it has one) to a JWK that imports again to a
//     key with the same RFC 7638 thumbprint, the same "kid" and the same secrecy.
#include <cstdint>
#include <string_view>

#include "m2msec/jose/jwk.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto set = m2msec::jose::JwkSet::parse(text);
  if (!set) return 0;
  for (const auto& key : set->keys) {
    auto exported = key.to_json(true);
    if (!exported) __builtin_trap();
    auto back = m2msec::jose::Jwk::from_json(*exported);
    if (!back || back->kid() != key.kid() || back->has_secret() != key.has_secret() ||
        back->thumbprint().value() != key.thumbprint().value())
      __builtin_trap();
  }
  return 0;
}

// Fuzz target: jose::Jws::parse and jose::Jwe::parse on any octets, then verification and decryption
// with fixed keys of every kind (none of which can have produced the input):
//   nothing crashes, nothing verifies or decrypts;
//   an accepted object re-serialized in each form it fits parses back to the same payload, headers and
//     signatures (JWS) or the same protected header and recipients (JWE).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/jose/jwe.h"
#include "m2msec/jose/jws.h"

namespace {

using namespace m2msec;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

const std::vector<jose::Jwk>& keys() {
  static const std::vector<jose::Jwk> k = [] {
    std::vector<jose::Jwk> out;
    for (const char* alg : {"HS256", "ES256", "A128KW", "ECDH-ES+A128KW"}) out.push_back(jose::Jwk::generate(alg).value());
    out.push_back(jose::Jwk::generate("dir", "A128GCM").value());
    return out;
  }();
  return k;
}

constexpr jose::Serialization kForms[] = {jose::Serialization::kCompact, jose::Serialization::kFlattened,
                                         jose::Serialization::kGeneral};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto jws = jose::Jws::parse(text)) {
    check(!jose::verify(*jws, keys()));
    for (auto form : kForms) {
      auto again = jws->serialize(form);
      if (!again) continue;
      auto back = jose::Jws::parse(*again);
      check(back && back->payload() == jws->payload() && back->signatures().size() == jws->signatures().size());
      for (std::size_t i = 0; i < back->signatures().size(); ++i) {
        check(back->signatures()[i].protected_b64 == jws->signatures()[i].protected_b64);
        check(back->signatures()[i].signature == jws->signatures()[i].signature);
      }
    }
  }
  if (auto jwe = jose::Jwe::parse(text)) {
    check(!jose::decrypt(*jwe, keys()));
    for (auto form : kForms) {
      auto again = jwe->serialize(form);
      if (!again) continue;
      auto back = jose::Jwe::parse(*again);
      check(back && back->protected_b64() == jwe->protected_b64() && back->aad() == jwe->aad() &&
            back->recipients().size() == jwe->recipients().size());
    }
  }
  return 0;
}

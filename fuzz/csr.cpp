// Fuzz target: PKCS #10 certificate requests from untrusted input, as the EST server receives them (DER)
// and the CLI reads them (PEM), then what the issuing CA reads from them.
// Properties: refusals are kProtocol; an accepted request re-encodes to DER and to PEM that both parse back
// to the same DER; the same octets never parse both as DER and as PEM; a request that passes
// check_csr_profile has a valid signature, at least one identifier and no '*' in any dNSName or URI.
#include <cstdint>
#include <string>
#include <string_view>

#include "m2msec/pki/csr.h"
#include "m2msec/pki/identity.h"

namespace {

using m2msec::pki::Csr;
using m2msec::pki::Flavour;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void exercise(const Csr& csr) {
  const m2msec::Bytes der = csr.der();
  auto from_der = Csr::from_der(der);
  check(from_der && from_der->der() == der);
  auto from_pem = Csr::from_pem(csr.pem());
  check(from_pem && from_pem->der() == der);

  (void)csr.challenge_password();
  bool any = false;
  for (Flavour f : {Flavour::kDevice, Flavour::kNodeId, Flavour::kCseId, Flavour::kAeId, Flavour::kFqdn}) {
    for (const std::string& id : csr.identifiers(f)) {
      check(!id.empty());
      any = true;
    }
  }
  auto profile = m2msec::pki::check_csr_profile(csr);
  check(profile || profile.error().category() == m2msec::Category::kProtocol);
  if (profile) {
    check(any && csr.verify_signature());
    for (const std::string& name : csr.identifiers(Flavour::kFqdn)) check(name.find('*') == std::string::npos);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto der = Csr::from_der({data, size});
  if (der) {
    exercise(*der);
  } else {
    check(der.error().category() == m2msec::Category::kProtocol);
  }
  auto pem = Csr::from_pem(std::string_view(reinterpret_cast<const char*>(data), size));
  if (pem) {
    check(!der);
    exercise(*pem);
  } else {
    check(pem.error().category() == m2msec::Category::kProtocol);
  }
  return 0;
}

// Fuzz target: X.509 certificates from untrusted DER (a peer's certificate, an EST response), then what
// m2msec reads from them: identifiers of every flavour and the TS-0003 V3.18.0 10.1.1 profile checks.
// Properties: an accepted certificate re-encodes to DER that parses to the same DER; every identifier is
// non-empty printable text that matches() accepts unless it holds a '*'; bound_identity of cse-id, ae-id
// and fqdn is the first identifier; a profile refusal is kAuth with alert 42, and a flavour's profile
// passes only with an identifier of that flavour and no wildcard.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "m2msec/pki/certificate.h"
#include "m2msec/pki/identity.h"
#include "m2msec/pki/profile.h"

namespace {

using m2msec::pki::Flavour;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_refusal(const m2msec::Result<void>& r) {
  check(r || (r.error().category() == m2msec::Category::kAuth && r.error().tls_alert() == 42));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto cert = m2msec::pki::Certificate::from_der({data, size});
  if (!cert) {
    check(cert.error().category() == m2msec::Category::kUsage);
    return 0;
  }
  const m2msec::Bytes der = cert->der();
  auto again = m2msec::pki::Certificate::from_der(der);
  check(again && again->der() == der);

  check_refusal(m2msec::pki::check_profile(*cert, std::nullopt));
  check_refusal(m2msec::pki::check_ca_profile(*cert));
  for (Flavour f : {Flavour::kDevice, Flavour::kNodeId, Flavour::kCseId, Flavour::kAeId, Flavour::kFqdn}) {
    const std::vector<std::string> ids = m2msec::pki::identifiers(*cert, f);
    bool wildcard = false;
    for (const std::string& id : ids) {
      check(!id.empty() && id.find('\0') == std::string::npos);
      wildcard = wildcard || id.find('*') != std::string::npos;
      check(m2msec::pki::matches(*cert, f, id) == (id.find('*') == std::string::npos));
    }
    auto profile = m2msec::pki::check_profile(*cert, f);
    check_refusal(profile);
    if (profile) check(!ids.empty() && !wildcard);
    auto bound = m2msec::pki::bound_identity(*cert, f);
    check(bound.has_value() || ids.empty() || f == Flavour::kNodeId || f == Flavour::kDevice);
    if (bound && (f == Flavour::kCseId || f == Flavour::kAeId || f == Flavour::kFqdn)) check(*bound == ids.front());
  }
  return 0;
}

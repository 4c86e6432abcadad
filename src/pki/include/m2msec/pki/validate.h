// Certificate path validation (TS-0003 V3.18.0 clause 8.1.2.2): RFC 5280 clause 6.1 basic path
// validation to a configured trust anchor, name constraints, validity period, and CRL status.
// This is the ONLY certificate validation path of m2msec: the TLS backends call it from their
// verification hooks, never a library default.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "m2msec/core/clock.h"
#include "m2msec/core/result.h"
#include "m2msec/pki/certificate.h"

namespace m2msec::pki {

// Trust anchors and revocation data, from the Credential/Association Configuration (8.1.2.2).
class TrustStore {
 public:
  // anchors_pem: one or more CA certificates (each one is a trust anchor). crl_pem: optional, may be
  // empty; when any CRL is configured, the end-entity certificate's status is checked and a missing CRL
  // for its issuer fails validation (fail closed).
  static Result<TrustStore> load(const std::string& anchors_pem, const std::string& crl_pem = {});
  TrustStore(std::vector<Certificate> anchors, std::vector<Crl> crls)
      : m_anchors(std::move(anchors)), m_crls(std::move(crls)) {}

  const std::vector<Certificate>& anchors() const { return m_anchors; }
  const std::vector<Crl>& crls() const { return m_crls; }

 private:
  std::vector<Certificate> m_anchors;
  std::vector<Crl> m_crls;
};

// Validates leaf with the untrusted intermediates the peer sent, at time `at`. A chain that does not
// reach a configured anchor fails (the chain is mandatory). On failure the Error has Category::kAuth and
// the TLS alert (RFC 5246 7.2.2) a handshake must send:
//   unknown_ca (48)            no path to an anchor (missing intermediate, unknown issuer)
//   certificate_expired (45)   outside notBefore/notAfter of any certificate in the path
//   certificate_revoked (44)   listed in a configured CRL
//   bad_certificate (42)       name-constraint violation, bad signature, malformed, outside the TS-0003
//                              10.1.1 profile (profile.h: check_profile for the leaf, check_ca_profile
//                              for every CA certificate of the path), other
// and the OpenSSL verify error text (or the profile check's) in detail().
Result<void> validate_path(const Certificate& leaf, std::span<const Certificate> intermediates,
                           const TrustStore& trust, Clock::TimePoint at);

}  // namespace m2msec::pki

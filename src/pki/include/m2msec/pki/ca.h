// The issuing CA of the MEF (TS-0003 V3.18.0 8.3.6, "MEF CA"): turns an EST certificate request into an
// end-entity certificate of the 10.1.1 profile for the identities the requester is authorised for.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "m2msec/core/clock.h"
#include "m2msec/core/result.h"
#include "m2msec/pki/certificate.h"
#include "m2msec/pki/csr.h"
#include "m2msec/pki/identity.h"
#include "m2msec/pki/validate.h"

namespace m2msec::pki {

// Which identities a requester may obtain (its authorisation, from the MEF's record of the authenticated client).
struct Authorisation {
  std::vector<std::pair<Flavour, std::string>> identities;
};

// Immutable once loaded: issue() may be called from many threads at once.
class IssuingCa {
 public:
  // chain_pem: the CA certificate first, then its own chain up to (not necessarily including) the root.
  // key_pem: the CA's private key. Both are PEM files. validity: of each issued certificate. kUsage when a
  // file is unusable, the key does not match, the certificate is no CA (CA:true, keyCertSign, a
  // subjectKeyIdentifier), a chain certificate is outside the 10.1.1 key / signature profile, or the
  // validity is not positive.
  static Result<IssuingCa> load(const std::string& chain_pem, const std::string& key_pem,
                                std::shared_ptr<const Clock> clock, std::chrono::seconds validity);

  // Issues a certificate for the CSR. The CSR must pass check_csr_profile (else kProtocol); every
  // subjectAltName entry it asks for must be an identity of the authorisation, same flavour form and exact
  // value (else kPolicy, naming the entry; a device otherName is kUnsupported). The CA builds every
  // extension itself and copies none from the CSR: basicConstraints CA:false and keyUsage digitalSignature
  // (both critical), subjectKeyIdentifier, authorityKeyIdentifier, and subjectAltName of the granted
  // identities (an AE-ID as ae_id_uri). Serial: 16 random octets, positive. Validity: from 5 minutes
  // before now to now + validity. Subject: CN = the first identity (empty, with a critical
  // subjectAltName, when longer than 64 characters). Signed ecdsa-with-SHA256. Before it is returned the
  // certificate must pass check_profile and validate_path to the chain's top certificate, so the CA's own
  // name constraints apply: kPolicy when they refuse it, kInternal for any other failure.
  Result<Certificate> issue(const Csr& csr, const Authorisation& who) const;

  const std::vector<Certificate>& chain() const { return m_chain; }  // CA certificate first

 private:
  IssuingCa(std::vector<Certificate> chain, PrivateKey key, std::shared_ptr<const Clock> clock,
            std::chrono::seconds validity)
      : m_chain(std::move(chain)),
        m_key(std::move(key)),
        m_trust({m_chain.back()}, {}),
        m_clock(std::move(clock)),
        m_validity(validity) {}

  std::vector<Certificate> m_chain;
  PrivateKey m_key;
  TrustStore m_trust;  // the chain's top certificate: issue() validates against it
  std::shared_ptr<const Clock> m_clock;
  std::chrono::seconds m_validity;
};

}  // namespace m2msec::pki

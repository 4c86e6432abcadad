// PKCS #10 certificate signing requests (RFC 2986) of the TS-0003 V3.18.0 10.1.4 profile, as EST
// (RFC 7030, TS-0003 8.3.6.2) carries them. Copying a Csr shares the underlying X509_REQ (immutable).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/pki/certificate.h"
#include "m2msec/pki/identity.h"

using X509_REQ = struct X509_req_st;

namespace m2msec::pki {

class Csr {
 public:
  // Strict: one DER CertificationRequest with nothing after it. Errors: Category::kProtocol.
  static Result<Csr> from_der(ByteView der);
  // Strict: exactly one "CERTIFICATE REQUEST" PEM block (RFC 7468 clause 7), nothing before it and at most
  // a line break after it. Errors: Category::kProtocol.
  static Result<Csr> from_pem(std::string_view pem);
  // The 10.1.4 CSR for one identifier: subject CN "m2msec", the key's SubjectPublicKeyInfo, an
  // extensionRequest with subjectAltName in the flavour's form (cse-id, fqdn: dNSName; ae-id: the URI
  // ae_id_uri(identifier); node-id: URI), a challengePassword attribute (UTF8String) when one is given,
  // signed ecdsa-with-SHA256. kUsage for a key or an identifier outside the profile (wildcards included),
  // kUnsupported for the device flavour (its identifiers are the manufacturer's, not requested).
  static Result<Csr> create(const PrivateKey& key, Flavour flavour, std::string_view identifier,
                            std::string_view challenge_password = {});

  X509_REQ* native() const { return m_req.get(); }
  Bytes der() const;
  std::string pem() const;
  // DER SubjectPublicKeyInfo of the requested key.
  Bytes spki_der() const;
  // The identifiers of the flavour that the extensionRequest's subjectAltName asks for, in the forms of
  // pki::identifiers (an AE-ID as the Absolute AE-ID). None when there is no such extension, or two.
  std::vector<std::string> identifiers(Flavour flavour) const;
  // The challengePassword attribute (PKCS #9, RFC 2985 5.4.1) as UTF-8; nullopt when absent, repeated,
  // multi-valued or not a DirectoryString.
  std::optional<std::string> challenge_password() const;
  // Proof of possession: the request is signed by the key it carries. kProtocol when it is not.
  Result<void> verify_signature() const;

 private:
  explicit Csr(std::shared_ptr<X509_REQ> r) : m_req(std::move(r)) {}
  std::shared_ptr<X509_REQ> m_req;
};

// TS-0003 V3.18.0 10.1.4 with the 10.1.1.1 / 10.1.1.3 details: an EC P-256 key (namedCurve, uncompressed
// point), signed ecdsa-with-SHA256 with a valid signature, and an extensionRequest whose subjectAltName
// holds at least one identifier and no '*' in any dNSName or URI. Errors: Category::kProtocol, the detail
// saying what is wrong.
Result<void> check_csr_profile(const Csr& csr);

}  // namespace m2msec::pki

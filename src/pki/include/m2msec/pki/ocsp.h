// Certificate status by OCSP (TS-0003 V3.18.0 clause 8.1.2.2, RFC 6960): requests for an OCSP
// responder over HTTP (RFC 6960 Appendix A; the HTTP exchange itself is the caller's) and the check of
// a response, fetched or stapled in a handshake (RFC 6066 clause 8). The multiple-status extension
// (RFC 6961) is not available: OpenSSL 3.0 does not implement it.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "m2msec/core/bytes.h"
#include "m2msec/core/clock.h"
#include "m2msec/core/result.h"
#include "m2msec/pki/certificate.h"
#include "m2msec/pki/validate.h"

namespace m2msec::pki {

enum class CertStatus { kGood, kRevoked, kUnknown };

struct OcspRequest {
  Bytes der;    // DER OCSPRequest, the body of an HTTP POST (Content-Type application/ocsp-request)
  Bytes nonce;  // the nonce sent (RFC 8954: 32 random octets), empty without one
};

// A request for the status of cert, issued by issuer. The CertID hashes are SHA-1: RFC 6960 leaves the
// algorithm open, the RFC 5019 profile that deployed responders implement requires SHA-1 (2.1.1).
// Fails with kUsage when issuer did not issue cert.
Result<OcspRequest> ocsp_request(const Certificate& cert, const Certificate& issuer, bool with_nonce = true);

// The status of cert (issued by issuer) in a DER OCSPResponse, at time `at`. The response must be
// successful and signed by the issuer itself or by a responder certificate the issuer issued for
// id-kp-OCSPSigning (RFC 6960 4.2.2.2), whose path is validated against trust at `at`; it must hold a
// SingleResponse for cert's CertID whose thisUpdate / nextUpdate bracket `at` (5 minutes of clock skew
// allowed; without nextUpdate, thisUpdate must be within those 5 minutes); and when expected_nonce is
// given and the response carries a nonce, the two must be equal. An unusable response fails with
// Category::kAuth and alert bad_certificate_status_response (113); the status itself is not judged here
// (see require_good).
Result<CertStatus> check_ocsp_response(ByteView response_der, const Certificate& cert, const Certificate& issuer,
                                       const TrustStore& trust, Clock::TimePoint at, ByteView expected_nonce = {});

// Succeeds for kGood. kRevoked fails as validate_path does for a revoked certificate (kAuth,
// certificate_revoked 44); kUnknown (the responder does not know the certificate) as an unusable
// response (kAuth, bad_certificate_status_response 113).
Result<void> require_good(CertStatus status);

// The first OCSP responder URI of cert's authorityInfoAccess extension (RFC 5280 4.2.2.1); kUsage
// when it names none.
Result<std::string> ocsp_responder_url(const Certificate& cert);

// The certificate among candidates that issued cert (its name and its signature), if any.
std::optional<Certificate> find_issuer(const Certificate& cert, std::span<const Certificate> candidates);

}  // namespace m2msec::pki

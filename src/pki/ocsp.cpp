#include "m2msec/pki/ocsp.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>

#include "internal.h"
#include "m2msec/crypto/openssl_errors.h"
#include "m2msec/crypto/random.h"

namespace m2msec::pki {
namespace {

// TLS AlertDescription values (RFC 5246 7.2.2, RFC 6066 clause 8).
constexpr std::uint8_t kCertificateRevoked = 44;
constexpr std::uint8_t kBadCertificateStatusResponse = 113;

// RFC 8954 2.1: a client's nonce is 32 octets.
constexpr std::size_t kNonceLength = 32;
// Clock skew allowed around thisUpdate and nextUpdate (what OCSP_check_validity calls `sec`; that function
// only knows the system clock, so the injected time is compared here).
constexpr std::chrono::minutes kSkew{5};

struct RequestFree {
  void operator()(OCSP_REQUEST* r) const { OCSP_REQUEST_free(r); }
};
struct ResponseFree {
  void operator()(OCSP_RESPONSE* r) const { OCSP_RESPONSE_free(r); }
};
struct BasicFree {
  void operator()(OCSP_BASICRESP* b) const { OCSP_BASICRESP_free(b); }
};
struct CertIdFree {
  void operator()(OCSP_CERTID* i) const { OCSP_CERTID_free(i); }
};
struct StringStackFree {
  void operator()(STACK_OF(OPENSSL_STRING) * s) const { X509_email_free(s); }
};
using RequestPtr = std::unique_ptr<OCSP_REQUEST, RequestFree>;
using ResponsePtr = std::unique_ptr<OCSP_RESPONSE, ResponseFree>;
using BasicPtr = std::unique_ptr<OCSP_BASICRESP, BasicFree>;
using CertIdPtr = std::unique_ptr<OCSP_CERTID, CertIdFree>;
using StringStackPtr = std::unique_ptr<STACK_OF(OPENSSL_STRING), StringStackFree>;

Error unusable(std::string detail) {
  return Error(Category::kAuth, "OCSP response: " + std::move(detail)).with_tls_alert(kBadCertificateStatusResponse);
}

// Whether issuer issued cert: its name and key identifier (X509_check_issued), and the signature.
bool issued_by(const Certificate& cert, const Certificate& issuer) {
  EVP_PKEY* key = X509_get0_pubkey(issuer.native());
  const bool issued = X509_check_issued(issuer.native(), cert.native()) == X509_V_OK && key != nullptr &&
                      X509_verify(cert.native(), key) == 1;
  ERR_clear_error();
  return issued;
}

// The signer's path is built as validate.cpp builds one: our own store of the configured anchors (its CRLs
// are not consulted: no CRL check is asked for),
// RFC 5280 strict checks, every anchor a trust anchor, the injected time. OCSP_basic_verify then requires
// the signer to be the CertID's issuer, or a certificate that issuer issued with id-kp-OCSPSigning;
// OCSP_NOEXPLICIT: no other signer is accepted, whatever trust settings an anchor carries.
Result<void> verify_signer(OCSP_BASICRESP* basic, const Certificate& issuer, const TrustStore& trust,
                           Clock::TimePoint at) {
  if (trust.anchors().empty()) return unusable("no trust anchor configured");
  auto made = internal::make_store(trust);
  if (!made) return unusable(made.error().detail());
  internal::StorePtr store = std::move(*made);
  X509_VERIFY_PARAM* param = X509_STORE_get0_param(store.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT | X509_V_FLAG_PARTIAL_CHAIN);
  X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(at));
  // The issuer may have signed the response itself, or be the link between a delegated responder and an
  // anchor: offered as an untrusted certificate.
  internal::BorrowedStackPtr untrusted(sk_X509_new_null());
  if (!untrusted || sk_X509_push(untrusted.get(), issuer.native()) <= 0) {
    return unusable(crypto::with_openssl_errors("sk_X509_push"));
  }
  //= TS-0003 V3.18.0 §8.1.2.2
  //# (RFC 6960 4.2.2.2) the response is signed by the CA that issued the certificate, or by a responder
  //# that CA authorised with id-kp-OCSPSigning; the signer's path is validated to a configured anchor.
  if (OCSP_basic_verify(basic, untrusted.get(), store.get(), OCSP_NOEXPLICIT) != 1) {
    return unusable(crypto::with_openssl_errors("the signer is not the issuer or a responder it authorised"));
  }
  return {};
}

// RFC 8954 2.1: the nonce extension's extnValue is the DER of Nonce ::= OCTET STRING.
Result<void> check_nonce(OCSP_BASICRESP* basic, ByteView expected) {
  const int index = OCSP_BASICRESP_get_ext_by_NID(basic, NID_id_pkix_OCSP_Nonce, -1);
  if (expected.empty() || index < 0) return {};
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(OCSP_BASICRESP_get_ext(basic, index));
  const unsigned char* p = ASN1_STRING_get0_data(value);
  const unsigned char* end = p + ASN1_STRING_length(value);
  internal::StringPtr nonce(d2i_ASN1_OCTET_STRING(nullptr, &p, ASN1_STRING_length(value)));
  ERR_clear_error();
  //= TS-0003 V3.18.0 §8.1.2.2
  //# (RFC 6960 4.4.1) a response to our request echoes its nonce; any other nonce is a replay.
  if (!nonce || p != end) return unusable("malformed nonce");
  const ByteView echoed(ASN1_STRING_get0_data(nonce.get()), static_cast<std::size_t>(ASN1_STRING_length(nonce.get())));
  if (!std::ranges::equal(echoed, expected)) return unusable("the nonce is not the one sent");
  return {};
}

// The SingleResponse for cert's CertID, in whatever hash algorithm the responder used for it.
Result<OCSP_SINGLERESP*> single_for(OCSP_BASICRESP* basic, const Certificate& cert, const Certificate& issuer) {
  OCSP_SINGLERESP* found = nullptr;
  for (int i = 0; found == nullptr && i < OCSP_resp_count(basic); ++i) {
    OCSP_SINGLERESP* single = OCSP_resp_get0(basic, i);
    const OCSP_CERTID* id = OCSP_SINGLERESP_get0_id(single);
    ASN1_OBJECT* hash = nullptr;
    OCSP_id_get0_info(nullptr, &hash, nullptr, nullptr, const_cast<OCSP_CERTID*>(id));
    const EVP_MD* md = hash != nullptr ? EVP_get_digestbyobj(hash) : nullptr;
    CertIdPtr ours(md != nullptr ? OCSP_cert_to_id(md, cert.native(), issuer.native()) : nullptr);
    if (ours && OCSP_id_cmp(ours.get(), id) == 0) found = single;
  }
  ERR_clear_error();
  if (found == nullptr) return unusable("no status for this certificate");
  return found;
}

// X509_cmp_time as a Result: -1 / 1 when t is before / after `when`, an error for a malformed time.
Result<int> compare(const ASN1_GENERALIZEDTIME* t, Clock::TimePoint when) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  const int order = X509_cmp_time(t, &seconds);
  if (order == 0) return unusable("malformed time");
  return order;
}

//= TS-0003 V3.18.0 §8.1.2.2
//# (RFC 6960 3.2 (5), 4.2.2.1) thisUpdate is not in the future and nextUpdate not in the past; a response
//# without nextUpdate says newer information is always available, so it is current only near thisUpdate.
Result<void> check_times(const ASN1_GENERALIZEDTIME* this_update, const ASN1_GENERALIZEDTIME* next_update,
                         Clock::TimePoint at) {
  M2MSEC_ASSIGN_OR_RETURN(const int issued, compare(this_update, at + kSkew));
  if (issued > 0) return unusable("thisUpdate is in the future");
  if (next_update != nullptr && ASN1_TIME_compare(next_update, this_update) < 0) {
    return unusable("nextUpdate precedes thisUpdate");
  }
  const ASN1_GENERALIZEDTIME* until = next_update != nullptr ? next_update : this_update;
  M2MSEC_ASSIGN_OR_RETURN(const int ends, compare(until, at - kSkew));
  if (ends < 0) return unusable(next_update != nullptr ? "nextUpdate has passed" : "stale (no nextUpdate)");
  return {};
}

}  // namespace

Result<OcspRequest> ocsp_request(const Certificate& cert, const Certificate& issuer, bool with_nonce) {
  if (!issued_by(cert, issuer)) return Error::usage("OCSP request: the issuer given did not issue the certificate");
  RequestPtr request(OCSP_REQUEST_new());
  // RFC 5019 2.1.1: SHA-1 CertID hashes, which every responder understands.
  OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), cert.native(), issuer.native());
  if (!request || id == nullptr || OCSP_request_add0_id(request.get(), id) == nullptr) {
    OCSP_CERTID_free(id);
    return Error::internal(crypto::with_openssl_errors("OCSP request"));
  }
  OcspRequest out;
  if (with_nonce) {
    M2MSEC_ASSIGN_OR_RETURN(out.nonce, crypto::random_bytes(crypto::system_rng(), kNonceLength));
    if (OCSP_request_add1_nonce(request.get(), out.nonce.data(), static_cast<int>(out.nonce.size())) != 1) {
      return Error::internal(crypto::with_openssl_errors("OCSP nonce"));
    }
  }
  out.der = internal::to_der(i2d_OCSP_REQUEST, request.get());
  if (out.der.empty()) return Error::internal(crypto::with_openssl_errors("OCSP request encoding"));
  return out;
}

Result<CertStatus> check_ocsp_response(ByteView response_der, const Certificate& cert, const Certificate& issuer,
                                       const TrustStore& trust, Clock::TimePoint at, ByteView expected_nonce) {
  if (!issued_by(cert, issuer)) return Error::usage("OCSP response: the issuer given did not issue the certificate");
  const unsigned char* p = response_der.data();
  ResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(response_der.size())));
  if (!response) return unusable(crypto::with_openssl_errors("malformed"));
  if (p != response_der.data() + response_der.size()) return unusable("followed by trailing octets");
  if (const int status = OCSP_response_status(response.get()); status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return unusable(std::string("the responder answered ") + OCSP_response_status_str(status));
  }
  BasicPtr basic(OCSP_response_get1_basic(response.get()));
  if (!basic) return unusable(crypto::with_openssl_errors("not a BasicOCSPResponse"));
  M2MSEC_TRY(verify_signer(basic.get(), issuer, trust, at));
  M2MSEC_TRY(check_nonce(basic.get(), expected_nonce));
  M2MSEC_ASSIGN_OR_RETURN(OCSP_SINGLERESP* single, single_for(basic.get(), cert, issuer));
  ASN1_GENERALIZEDTIME* this_update = nullptr;
  ASN1_GENERALIZEDTIME* next_update = nullptr;
  const int status = OCSP_single_get0_status(single, nullptr, nullptr, &this_update, &next_update);
  M2MSEC_TRY(check_times(this_update, next_update, at));
  switch (status) {
    case V_OCSP_CERTSTATUS_GOOD: return CertStatus::kGood;
    case V_OCSP_CERTSTATUS_REVOKED: return CertStatus::kRevoked;
    case V_OCSP_CERTSTATUS_UNKNOWN: return CertStatus::kUnknown;
    default: return unusable(crypto::with_openssl_errors("malformed SingleResponse"));
  }
}

Result<void> require_good(CertStatus status) {
  switch (status) {
    case CertStatus::kGood: return {};
    //= TS-0003 V3.18.0 §8.1.2.5
    //# (b) a revoked certificate aborts the handshake, with the alert a CRL gives (validate_path).
    case CertStatus::kRevoked:
      return Error(Category::kAuth, "certificate status: revoked (OCSP)").with_tls_alert(kCertificateRevoked);
    case CertStatus::kUnknown: break;
  }
  //= TS-0003 V3.18.0 §8.1.2.2
  //# (RFC 6066 clause 8) a response that does not show the certificate good is not satisfactory.
  return unusable("the responder does not know the certificate");
}

Result<std::string> ocsp_responder_url(const Certificate& cert) {
  StringStackPtr urls(X509_get1_ocsp(cert.native()));
  if (!urls || sk_OPENSSL_STRING_num(urls.get()) <= 0) {
    return Error::usage("the certificate names no OCSP responder (authorityInfoAccess id-ad-ocsp)");
  }
  return std::string(sk_OPENSSL_STRING_value(urls.get(), 0));
}

std::optional<Certificate> find_issuer(const Certificate& cert, std::span<const Certificate> candidates) {
  const auto it = std::ranges::find_if(candidates, [&](const Certificate& c) { return issued_by(cert, c); });
  if (it == candidates.end()) return std::nullopt;
  return *it;
}

}  // namespace m2msec::pki

#include "m2msec/pki/validate.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

#include "internal.h"
#include "m2msec/crypto/openssl_errors.h"
#include "m2msec/pki/profile.h"

namespace m2msec::pki {
namespace {

// TLS AlertDescription values (RFC 5246 clause 7.2.2, unchanged in RFC 8446 clause 6.2).
using internal::kBadCertificate;
constexpr std::uint8_t kCertificateRevoked = 44;
constexpr std::uint8_t kCertificateExpired = 45;
constexpr std::uint8_t kUnknownCa = 48;

// The alert a handshake sends for an X509_V_ERR_* code (validate.h lists the mapping).
std::uint8_t alert_for(int verify_error) {
  switch (verify_error) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return kUnknownCa;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return kCertificateExpired;
    case X509_V_ERR_CERT_REVOKED:
      return kCertificateRevoked;
    default:
      return kBadCertificate;
  }
}

// OpenSSL checks revocation before validity periods, so a CRL that is not valid at `at` hides a certificate
// that is not valid then either. The header promises certificate_expired for the latter: look for it.
bool is_crl_error(int verify_error) {
  switch (verify_error) {
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_HAS_EXPIRED:
      return true;
    default:
      return false;
  }
}

// X509_V_ERR_CERT_NOT_YET_VALID / _HAS_EXPIRED for the first certificate of the path built so far that
// is outside its validity period at `at`, else X509_V_OK.
int path_time_error(X509_STORE_CTX* ctx, std::time_t at) {
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx);
  for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i) {
    const X509* x = sk_X509_value(chain, i);
    if (X509_cmp_time(X509_get0_notBefore(x), &at) > 0) return X509_V_ERR_CERT_NOT_YET_VALID;
    if (X509_cmp_time(X509_get0_notAfter(x), &at) < 0) return X509_V_ERR_CERT_HAS_EXPIRED;
  }
  return X509_V_OK;
}

Error auth_error(std::uint8_t alert, std::string detail) {
  return Error(Category::kAuth, "certificate path validation: " + std::move(detail)).with_tls_alert(alert);
}

// Verification flags: TS-0003 V3.18.0 8.1.2.2 asks for RFC 5280 6.1 basic path validation.
//  - X509_V_FLAG_X509_STRICT: the RFC 5280 profile checks OpenSSL leaves out by default (CA basicConstraints
//    critical, key identifiers present, no explicit EC parameters, ...).
//  - X509_V_FLAG_PARTIAL_CHAIN: every configured certificate is a trust anchor (RFC 5280 6.1.1 (d)), also
//    an intermediate CA configured as one; a path must still end at a configured certificate.
//  - X509_V_FLAG_CRL_CHECK (only when a CRL is configured): the end-entity certificate's status; a
//    missing CRL for its issuer is an error (fail closed).
// Name constraints (RFC 5280 4.2.1.10, required of CAs by 8.1.2.2) are always checked by X509_verify_cert.
// No purpose / extendedKeyUsage is required: the 10.1.1 profiles define none.
unsigned long verify_flags(const TrustStore& trust) {
  unsigned long flags = X509_V_FLAG_X509_STRICT | X509_V_FLAG_PARTIAL_CHAIN;
  if (!trust.crls().empty()) flags |= X509_V_FLAG_CRL_CHECK;
  return flags;
}

// TS-0003 V3.18.0 10.1.1 on the path X509_verify_cert built: the leaf's common details and signature
// (check_profile), and the key and signature of each CA certificate above it, up to the anchor.
Result<void> check_path_profiles(X509_STORE_CTX* ctx) {
  const internal::OwnedStackPtr chain(X509_STORE_CTX_get1_chain(ctx));
  if (!chain) return auth_error(kBadCertificate, crypto::with_openssl_errors("X509_STORE_CTX_get1_chain"));
  for (int depth = 0; depth < sk_X509_num(chain.get()); ++depth) {
    const Certificate cert = Certificate::share(sk_X509_value(chain.get(), depth));
    auto checked = depth == 0 ? check_profile(cert, std::nullopt) : check_ca_profile(cert);
    if (!checked) {
      return auth_error(kBadCertificate, checked.error().detail() + " (depth " + std::to_string(depth) + ")");
    }
  }
  return {};
}

}  // namespace

namespace internal {

Result<StorePtr> make_store(const TrustStore& trust) {
  StorePtr store(X509_STORE_new());
  if (!store) return Error::internal(crypto::with_openssl_errors("X509_STORE_new"));
  for (const Certificate& anchor : trust.anchors()) {
    if (X509_STORE_add_cert(store.get(), anchor.native()) != 1) {
      return Error::internal(crypto::with_openssl_errors("adding a trust anchor"));
    }
  }
  for (const Crl& crl : trust.crls()) {
    if (X509_STORE_add_crl(store.get(), crl.native()) != 1) {
      return Error::internal(crypto::with_openssl_errors("adding a CRL"));
    }
  }
  return store;
}

}  // namespace internal

Result<TrustStore> TrustStore::load(const std::string& anchors_pem, const std::string& crl_pem) {
  M2MSEC_ASSIGN_OR_RETURN(std::vector<Certificate> anchors, Certificate::load_pem_file(anchors_pem));
  std::vector<Crl> crls;
  if (!crl_pem.empty()) {
    M2MSEC_ASSIGN_OR_RETURN(crls, Crl::load_pem_file(crl_pem));
  }
  return TrustStore(std::move(anchors), std::move(crls));
}

Result<void> validate_path(const Certificate& leaf, std::span<const Certificate> intermediates,
                           const TrustStore& trust, Clock::TimePoint at) {
  if (trust.anchors().empty()) return auth_error(kUnknownCa, "no trust anchor configured");
  auto made = internal::make_store(trust);
  if (!made) return auth_error(kBadCertificate, made.error().detail());
  internal::StorePtr store = std::move(*made);

  internal::BorrowedStackPtr untrusted(sk_X509_new_null());
  if (!untrusted) return auth_error(kBadCertificate, crypto::with_openssl_errors("sk_X509_new_null"));
  for (const Certificate& c : intermediates) {
    if (sk_X509_push(untrusted.get(), c.native()) <= 0) {
      return auth_error(kBadCertificate, crypto::with_openssl_errors("sk_X509_push"));
    }
  }

  internal::StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf.native(), untrusted.get()) != 1) {
    return auth_error(kBadCertificate, crypto::with_openssl_errors("X509_STORE_CTX_init"));
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_flags(param, verify_flags(trust));
  // The validation time is injected (never the library's clock), so expiry is testable and replayable.
  const std::time_t when = std::chrono::system_clock::to_time_t(at);
  X509_VERIFY_PARAM_set_time(param, when);

  if (X509_verify_cert(ctx.get()) == 1) return check_path_profiles(ctx.get());
  int err = X509_STORE_CTX_get_error(ctx.get());
  if (is_crl_error(err)) {
    if (const int time_err = path_time_error(ctx.get(), when); time_err != X509_V_OK) err = time_err;
  }
  const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  std::string detail = X509_verify_cert_error_string(err);
  detail += " (X509_V_ERR " + std::to_string(err) + ", depth " + std::to_string(depth) + ")";
  ERR_clear_error();  // the verify error above says it all
  return auth_error(alert_for(err), std::move(detail));
}

}  // namespace m2msec::pki

// Fuzz target: pki::check_ocsp_response on arbitrary octets, for a certificate pair made in-process at start
// (a self-signed P-256 issuer and a leaf it issued, from throwaway keys: no key file anywhere), with and
// without an expected nonce.
// Properties:
//   - no crash, leak or undefined behaviour, whatever the input;
//   - every input is refused as an unusable response (kAuth, bad_certificate_status_response 113): only the
//     issuer's key, generated in this process, could sign an acceptable one.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdint>
#include <memory>

#include "m2msec/pki/certificate.h"
#include "m2msec/pki/ocsp.h"
#include "m2msec/pki/validate.h"

namespace {

namespace pki = m2msec::pki;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* x) const { X509_free(x); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using CertPtr = std::unique_ptr<X509, CertFree>;

// A certificate for key, named cn, issued by issuer (itself when null) under issuer_key.
CertPtr make_certificate(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, long serial) {
  CertPtr x(X509_new());
  check(x != nullptr && X509_set_version(x.get(), X509_VERSION_3) == 1 &&
        ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial) == 1 &&
        X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600) != nullptr &&
        X509_gmtime_adj(X509_getm_notAfter(x.get()), 24 * 3600) != nullptr &&
        X509_NAME_add_entry_by_txt(X509_get_subject_name(x.get()), "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(cn), -1, -1, 0) == 1 &&
        X509_set_issuer_name(x.get(), X509_get_subject_name(issuer != nullptr ? issuer : x.get())) == 1 &&
        X509_set_pubkey(x.get(), key) == 1 && X509_sign(x.get(), issuer_key, EVP_sha256()) > 0);
  return x;
}

struct Fixture {
  pki::Certificate issuer;
  pki::Certificate leaf;
  pki::TrustStore trust;
};

Fixture make_fixture() {
  const KeyPtr issuer_key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  const KeyPtr leaf_key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  check(issuer_key != nullptr && leaf_key != nullptr);
  const CertPtr issuer = make_certificate(issuer_key.get(), "fuzz issuer", nullptr, issuer_key.get(), 1);
  const CertPtr leaf = make_certificate(leaf_key.get(), "fuzz leaf", issuer.get(), issuer_key.get(), 2);
  pki::Certificate issuer_cert = pki::Certificate::share(issuer.get());
  return Fixture{issuer_cert, pki::Certificate::share(leaf.get()), pki::TrustStore({issuer_cert}, {})};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Fixture fixture = make_fixture();
  static const m2msec::Bytes nonce(32, 0x5a);
  const m2msec::ByteView input(data, size);
  const auto now = std::chrono::system_clock::now();
  for (const m2msec::ByteView expected_nonce : {m2msec::ByteView(), m2msec::ByteView(nonce)}) {
    auto status = pki::check_ocsp_response(input, fixture.leaf, fixture.issuer, fixture.trust, now, expected_nonce);
    check(!status && status.error().category() == m2msec::Category::kAuth && status.error().tls_alert() == 113 &&
          !status.error().detail().empty());
  }
  return 0;
}

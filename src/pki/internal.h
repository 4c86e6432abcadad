// Internal helpers of the pki module's OpenSSL glue. Not a public header.
#pragma once

#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/pki/identity.h"
#include "m2msec/pki/validate.h"

namespace m2msec::pki::internal {

// TLS AlertDescription bad_certificate (RFC 5246 clause 7.2.2): every certificate refusal that has no more
// specific alert.
inline constexpr std::uint8_t kBadCertificate = 42;

struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
// A stack that borrows its certificates (each one is owned by a pki::Certificate).
struct BorrowedStackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
// A stack that owns one reference of each of its certificates.
struct OwnedStackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* g) const { GENERAL_NAMES_free(g); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct NameFree {
  void operator()(X509_NAME* n) const { X509_NAME_free(n); }
};
struct StringFree {
  void operator()(ASN1_STRING* s) const { ASN1_STRING_free(s); }
};
using StorePtr = std::unique_ptr<X509_STORE, StoreFree>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, StoreCtxFree>;
using BorrowedStackPtr = std::unique_ptr<STACK_OF(X509), BorrowedStackFree>;
using OwnedStackPtr = std::unique_ptr<STACK_OF(X509), OwnedStackFree>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, GeneralNamesFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using NamePtr = std::unique_ptr<X509_NAME, NameFree>;
using StringPtr = std::unique_ptr<ASN1_STRING, StringFree>;

// The DER encoding produced by an i2d_* function, or empty when it fails.
template <typename T>
Bytes to_der(int (*i2d)(const T*, unsigned char**), const T* object) {
  const int size = i2d(object, nullptr);
  if (size <= 0) return {};
  Bytes out(static_cast<std::size_t>(size));
  unsigned char* p = out.data();
  if (i2d(object, &p) != size) return {};
  return out;
}

// What write(BIO*) writes (a PEM_write_bio_* call), or empty when it fails. A memory BIO of `method`:
// BIO_s_secmem() for private keys, so that OpenSSL wipes its buffer.
template <typename Write>
std::string to_pem(Write write, const BIO_METHOD* method = BIO_s_mem()) {
  BioPtr bio(BIO_new(method));
  if (!bio || write(bio.get()) != 1) return {};
  std::string out(BIO_ctrl_pending(bio.get()), '\0');
  if (BIO_read(bio.get(), out.data(), static_cast<int>(out.size())) != static_cast<int>(out.size())) return {};
  return out;
}

// The text of one subjectAltName entry as an identifier of the flavour (identity.h), or nullopt when the
// entry does not have the flavour's form.
std::optional<std::string> identifier_of(const GENERAL_NAME* name, Flavour flavour);
// The identifiers of the flavour in a subjectAltName, in order (none for a null one).
std::vector<std::string> identifiers_in(const GENERAL_NAMES* names, Flavour flavour);

// The subjectAltName a CSR's extensionRequest asks for; null when there is none, or it is ambiguous (two
// extensionRequest attributes, two subjectAltName extensions).
GeneralNamesPtr requested_names(X509_REQ* req);
// Appends the subjectAltName entry of an identifier in its flavour's form (10.1.1.5-10.1.1.8): dNSName for
// cse-id and fqdn, the URI ae_id_uri() for ae-id, the URI itself for node-id. kUsage for an identifier
// not of that form (or holding a '*'), kUnsupported for device.
Result<void> add_identifier(GENERAL_NAMES* names, Flavour flavour, std::string_view identifier);
// A Name of one commonName (UTF8String); null when it cannot be made (longer than ub-common-name, 64).
NamePtr common_name(std::string_view cn);

// TS-0003 V3.18.0 10.1.1.1 key and 10.1.1.3 signature algorithm checks shared by certificates and CSRs:
// what is wrong, or nullopt when the key / AlgorithmIdentifier complies.
std::optional<std::string> key_problem(const X509_PUBKEY* key);
std::optional<std::string> signature_algorithm_problem(const X509_ALGOR* algorithm);
// The first subjectAltName entry (DNS or URI) holding a '*', which 10.1.1.5-10.1.1.8 forbid.
std::optional<std::string> wildcard_in(const GENERAL_NAMES* names);

// Our own X509_STORE with the configured anchors and CRLs only, never OpenSSL's default paths (8.1.2.2:
// trust anchors come from the Credential / Association Configuration). kInternal when OpenSSL fails.
Result<StorePtr> make_store(const TrustStore& trust);

}  // namespace m2msec::pki::internal

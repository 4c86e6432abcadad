#include "m2msec/pki/certs_only.h"

#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include <memory>

#include "m2msec/crypto/openssl_errors.h"

namespace m2msec::pki {
namespace {

struct Pkcs7Free {
  void operator()(PKCS7* p) const { PKCS7_free(p); }
};
using Pkcs7Ptr = std::unique_ptr<PKCS7, Pkcs7Free>;

Error malformed(std::string detail) { return Error(Category::kProtocol, "certs-only message: " + std::move(detail)); }

}  // namespace

Result<Bytes> encode_certs_only(std::span<const Certificate> certs) {
  Pkcs7Ptr p7(PKCS7_new());
  if (!p7 || PKCS7_set_type(p7.get(), NID_pkcs7_signed) != 1) {
    return Error::internal(crypto::with_openssl_errors("PKCS7_set_type"));
  }
  // RFC 7030 4.1.3: encapContentInfo is id-data with the content absent.
  p7->d.sign->contents->type = OBJ_nid2obj(NID_pkcs7_data);
  for (const Certificate& cert : certs) {
    if (PKCS7_add_certificate(p7.get(), cert.native()) != 1) {
      return Error::internal(crypto::with_openssl_errors("PKCS7_add_certificate"));
    }
  }
  const int size = i2d_PKCS7(p7.get(), nullptr);
  if (size <= 0) return Error::internal(crypto::with_openssl_errors("i2d_PKCS7"));
  Bytes out(static_cast<std::size_t>(size));
  unsigned char* p = out.data();
  if (i2d_PKCS7(p7.get(), &p) != size) return Error::internal("i2d_PKCS7 changed its size");
  return out;
}

Result<std::vector<Certificate>> decode_certs_only(ByteView der) {
  const unsigned char* p = der.data();
  Pkcs7Ptr p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
  if (!p7) return malformed(crypto::with_openssl_errors("not DER PKCS #7"));
  if (p != der.data() + der.size()) return malformed("trailing octets");
  if (OBJ_obj2nid(p7->type) != NID_pkcs7_signed || p7->d.sign == nullptr) return malformed("not a SignedData");
  if (sk_PKCS7_SIGNER_INFO_num(p7->d.sign->signer_info) > 0) return malformed("has signers");
  const int count = sk_X509_num(p7->d.sign->cert);
  if (count <= 0) return malformed("no certificate");
  std::vector<Certificate> out;
  for (int i = 0; i < count; ++i) out.push_back(Certificate::share(sk_X509_value(p7->d.sign->cert, i)));
  return out;
}

}  // namespace m2msec::pki

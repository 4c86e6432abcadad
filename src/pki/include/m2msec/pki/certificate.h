// X.509 certificates, CRLs and private keys as owned values (OpenSSL 3 underneath), loaded from PEM.
// Copying a Certificate shares the underlying X509 (reference-counted, immutable once loaded).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"

using X509 = struct x509_st;
using X509_CRL = struct X509_crl_st;
using EVP_PKEY = struct evp_pkey_st;

namespace m2msec::pki {

class Certificate {
 public:
  // Takes one reference of x (the caller keeps its own).
  static Certificate share(X509* x);
  static Result<Certificate> from_der(ByteView der);
  // Every certificate of a PEM file, in file order (leaf first for a chain file). Fails with kUsage when
  // the file cannot be read, holds no certificate or holds anything malformed.
  static Result<std::vector<Certificate>> load_pem_file(const std::string& path);

  X509* native() const { return m_x509.get(); }
  Bytes der() const;
  // One PEM block "CERTIFICATE" (RFC 7468).
  std::string pem() const;
  // DER SubjectPublicKeyInfo (the input of RFC 6920 public key identifiers).
  Bytes spki_der() const;

 private:
  explicit Certificate(std::shared_ptr<X509> x) : m_x509(std::move(x)) {}
  std::shared_ptr<X509> m_x509;
};

class Crl {
 public:
  static Result<std::vector<Crl>> load_pem_file(const std::string& path);
  X509_CRL* native() const { return m_crl.get(); }

 private:
  explicit Crl(std::shared_ptr<X509_CRL> c) : m_crl(std::move(c)) {}
  std::shared_ptr<X509_CRL> m_crl;
};

// A private key (kept by OpenSSL; never printed).
class PrivateKey {
 public:
  static Result<PrivateKey> load_pem_file(const std::string& path);
  // A fresh key of the TS-0003 10.1.1.1 profile: EC P-256 (named curve, uncompressed point).
  static Result<PrivateKey> generate_p256();
  EVP_PKEY* native() const { return m_key.get(); }
  // DER SubjectPublicKeyInfo of the matching public key.
  Bytes spki_der() const;
  // Unencrypted PKCS #8 PEM ("PRIVATE KEY", RFC 7468 clause 10): the secret itself, for a key file the
  // caller protects and never logs.
  std::string pem() const;

 private:
  explicit PrivateKey(std::shared_ptr<EVP_PKEY> k) : m_key(std::move(k)) {}
  std::shared_ptr<EVP_PKEY> m_key;
};

}  // namespace m2msec::pki

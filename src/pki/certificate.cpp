#include "m2msec/pki/certificate.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <functional>

#include "internal.h"
#include "m2msec/crypto/openssl_errors.h"

namespace m2msec::pki {

namespace {

using internal::BioPtr;

// Never prompts for a passphrase: an encrypted key file is refused, not read from the terminal.
int no_passphrase(char*, int, int, void*) { return -1; }

// Calls on_block(name, der) for every PEM block of the file, in order. Text outside the blocks (such as
// `openssl x509 -text` output) is skipped, as PEM allows (RFC 7468 clause 2).
Result<void> for_each_pem_block(const std::string& path,
                                const std::function<Result<void>(std::string_view, ByteView)>& on_block) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return Error::usage(crypto::with_openssl_errors("cannot read " + path));
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
      const unsigned long code = ERR_peek_last_error();
      ERR_clear_error();
      if (ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE) return {};
      return Error::usage(path + ": malformed PEM");
    }
    const std::string block_name(name);
    const bool encrypted = header != nullptr && header[0] != '\0';
    Result<void> r = encrypted ? Result<void>(Error::usage(path + ": encrypted PEM block"))
                               : on_block(block_name, ByteView(data, static_cast<std::size_t>(len)));
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    if (!r) return r;
  }
}

}  // namespace

Certificate Certificate::share(X509* x) {
  M2MSEC_CHECK(x != nullptr && X509_up_ref(x) == 1);
  return Certificate(std::shared_ptr<X509>(x, X509_free));
}

Result<Certificate> Certificate::from_der(ByteView der) {
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x == nullptr) return Error::usage(crypto::with_openssl_errors("malformed certificate"));
  std::shared_ptr<X509> owned(x, X509_free);
  if (p != der.data() + der.size()) return Error::usage("certificate followed by trailing octets");
  return Certificate(std::move(owned));
}

Result<std::vector<Certificate>> Certificate::load_pem_file(const std::string& path) {
  std::vector<Certificate> out;
  M2MSEC_TRY(for_each_pem_block(path, [&](std::string_view name, ByteView der) -> Result<void> {
    if (name != PEM_STRING_X509) return Error::usage(path + ": unexpected PEM block " + std::string(name));
    M2MSEC_ASSIGN_OR_RETURN(Certificate cert, from_der(der));
    out.push_back(std::move(cert));
    return {};
  }));
  if (out.empty()) return Error::usage(path + ": no certificate");
  return out;
}

Bytes Certificate::der() const { return internal::to_der(i2d_X509, m_x509.get()); }

std::string Certificate::pem() const {
  return internal::to_pem([this](BIO* bio) { return PEM_write_bio_X509(bio, m_x509.get()); });
}

Bytes Certificate::spki_der() const { return internal::to_der(i2d_X509_PUBKEY, X509_get_X509_PUBKEY(m_x509.get())); }

Result<std::vector<Crl>> Crl::load_pem_file(const std::string& path) {
  std::vector<Crl> out;
  M2MSEC_TRY(for_each_pem_block(path, [&](std::string_view name, ByteView der) -> Result<void> {
    if (name != PEM_STRING_X509_CRL) return Error::usage(path + ": unexpected PEM block " + std::string(name));
    const unsigned char* p = der.data();
    X509_CRL* c = d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size()));
    if (c == nullptr) return Error::usage(crypto::with_openssl_errors(path + ": malformed CRL"));
    std::shared_ptr<X509_CRL> owned(c, X509_CRL_free);
    if (p != der.data() + der.size()) return Error::usage(path + ": CRL followed by trailing octets");
    out.push_back(Crl(std::move(owned)));
    return {};
  }));
  if (out.empty()) return Error::usage(path + ": no CRL");
  return out;
}

Result<PrivateKey> PrivateKey::load_pem_file(const std::string& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return Error::usage(crypto::with_openssl_errors("cannot read " + path));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
  if (key == nullptr) return Error::usage(crypto::with_openssl_errors(path + ": no usable private key"));
  return PrivateKey(std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free));
}

//= TS-0003 V3.18.0 §10.1.1.1
//# Keys are id-ecPublicKey on the named curve secp256r1 (P-256), written as uncompressed points.
Result<PrivateKey> PrivateKey::generate_p256() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (key == nullptr) return Error::crypto(crypto::with_openssl_errors("P-256 key generation"));
  return PrivateKey(std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free));
}

Bytes PrivateKey::spki_der() const { return internal::to_der(i2d_PUBKEY, m_key.get()); }

std::string PrivateKey::pem() const {
  return internal::to_pem(
      [this](BIO* bio) {
        return PEM_write_bio_PKCS8PrivateKey(bio, m_key.get(), nullptr, nullptr, 0, nullptr, nullptr);
      },
      BIO_s_secmem());
}

}  // namespace m2msec::pki

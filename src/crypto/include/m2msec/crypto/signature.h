// Asymmetric keys and digital signatures, by name through the algorithm registry (registry.h).
//
// Schemes: "ecdsa-p256-sha256", "ecdsa-p384-sha384", "ecdsa-p521-sha512" (FIPS 186-4 / X9.62, curves of
// SEC 2), "ecdsa-brainpoolp256r1-sha256" (curve of RFC 5639 clause 3.4), "ed25519" (pure Ed25519, RFC 8032
// clause 5.1), "rsa-pkcs1-sha256", "rsa-pkcs1-sha384", "rsa-pkcs1-sha512" (RSASSA-PKCS1-v1_5, RFC 8017
// clause 8.2; moduli below 2048 bits are refused with kUsage, RFC 7518 clause 3.3). The GOST set adds
// "gost2012-256" and "gost2012-512" (GOST R 34.10-2012, RFC 7091) when its implementation is installed. A
// scheme fixes the key type, the curve and the hash: a key of another type or curve is refused
// (Category::kUsage), never silently accepted.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"
#include "m2msec/crypto/registry.h"

using EVP_PKEY = struct evp_pkey_st;

namespace m2msec::crypto {

// A public key (any type OpenSSL knows). Copyable: copies share the immutable OpenSSL key.
class PublicKey {
 public:
  // SubjectPublicKeyInfo (RFC 5280 clause 4.1), DER or PEM ("-----BEGIN PUBLIC KEY-----"). EC points
  // are checked to lie on their curve. Trailing data is refused.
  static Result<PublicKey> from_der(ByteView der);
  static Result<PublicKey> from_pem(std::string_view pem);

  // Takes ownership of one reference to `pkey` (must not be null).
  explicit PublicKey(EVP_PKEY* pkey) : m_pkey(pkey) {}
  PublicKey(const PublicKey& other);
  PublicKey& operator=(const PublicKey& other);
  PublicKey(PublicKey&& other) noexcept;
  PublicKey& operator=(PublicKey&& other) noexcept;
  ~PublicKey();

  Result<Bytes> to_der() const;
  Result<std::string> to_pem() const;
  // The raw public key: the uncompressed SEC1 point 04 || x || y (SEC 1 v2 clause 2.3.3) for EC keys,
  // the 32-octet encoding of RFC 8032 clause 5.1.2 for Ed25519.
  Result<Bytes> raw() const;

  const EVP_PKEY* evp() const { return m_pkey; }
  EVP_PKEY* evp() { return m_pkey; }

 private:
  EVP_PKEY* m_pkey;  // one reference owned
};

// A private key. Move-only; the OpenSSL key is freed (and its secret wiped by OpenSSL) on destruction.
class PrivateKey {
 public:
  // PKCS#8 (RFC 5958), PEM text "-----BEGIN PRIVATE KEY-----", unencrypted.
  static Result<PrivateKey> from_pem(std::string_view pem);

  // Takes ownership of one reference to `pkey` (must not be null).
  explicit PrivateKey(EVP_PKEY* pkey) : m_pkey(pkey) {}
  PrivateKey(PrivateKey&& other) noexcept;
  PrivateKey& operator=(PrivateKey&& other) noexcept;
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;
  ~PrivateKey();

  // Unencrypted PKCS#8 PEM text, in zeroizing memory.
  Result<SecretBytes> to_pem() const;
  Result<PublicKey> public_key() const;
  // The raw public key as PublicKey::raw() gives it, without building a PublicKey.
  Result<Bytes> public_raw() const;

  const EVP_PKEY* evp() const { return m_pkey; }
  EVP_PKEY* evp() { return m_pkey; }

 private:
  EVP_PKEY* m_pkey;  // one reference owned
};

// How a signature is carried. ECDSA: kDer is the X9.62 Ecdsa-Sig-Value SEQUENCE { r, s } (RFC 3279
// clause 2.2.3), kRaw is r || s, each left-padded to the field size (IEEE P1363; JOSE, RFC 7518 clause
// 3.4). RSA: both are the signature octets S of RFC 8017 clause 8.2.1, k octets (X.509 and JOSE carry
// them as they are). Schemes without a DER form (Ed25519, GOST) only accept kRaw.
enum class SignatureEncoding { kDer, kRaw };

// A signature scheme from the registry. Cheap to copy; valid for the life of the process.
class SignatureScheme {
 public:
  // Fails with Category::kUnsupported for an unknown name or when the scheme's algorithm set cannot be
  // loaded.
  static Result<SignatureScheme> named(std::string_view name);

  std::string_view name() const;
  AlgorithmSet algorithm_set() const;

  // A fresh key of this scheme's type and curve, from OpenSSL's DRBG (RSA: 2048 bits, e = 65537).
  Result<PrivateKey> generate() const;

  // Keys from their raw encodings, as test vectors give them: for ECDSA the scalar d (exactly the
  // curve's field size, 0 < d < n; the public point is computed) and the uncompressed point
  // 04 || x || y; for Ed25519 the 32-octet seed and 32-octet public key (RFC 8032 clause 5.1.5).
  // Refused with kUsage when the size is wrong or the value is not a valid key of this scheme; schemes
  // without a raw form here (GOST; RSA, whose keys rsa.h builds from components) answer kUnsupported.
  Result<PrivateKey> private_key_from_raw(ByteView raw) const;
  Result<PublicKey> public_key_from_raw(ByteView raw) const;

 private:
  explicit SignatureScheme(std::size_t row) : m_row(row) {}
  std::size_t m_row;

  friend Result<Bytes> sign(const SignatureScheme&, const PrivateKey&, ByteView, SignatureEncoding);
  friend Result<void> verify(const SignatureScheme&, const PublicKey&, ByteView, ByteView, SignatureEncoding);
};

// Signs `message` (hashed by the scheme; Ed25519 signs it as is). The key must be of the scheme's type
// and curve, and RSA keys of 2048 bits or more (kUsage otherwise).
Result<Bytes> sign(const SignatureScheme& scheme, const PrivateKey& key, ByteView message,
                   SignatureEncoding encoding = SignatureEncoding::kDer);

// Succeeds only for a valid signature. A key of the wrong type, curve or size is refused with kUsage; any bad
// signature (wrong value, wrong length, non-canonical encoding) is one Category::kCrypto error
// "signature verification failed".
Result<void> verify(const SignatureScheme& scheme, const PublicKey& key, ByteView message, ByteView signature,
                    SignatureEncoding encoding = SignatureEncoding::kDer);

}  // namespace m2msec::crypto

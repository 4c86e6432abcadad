// Elliptic-curve Diffie-Hellman key agreement, by name through the algorithm registry (registry.h).
//
// Schemes: "ecdh-p256", "ecdh-p384", "ecdh-p521" (the ECDH groups of RFC 5903) and "ecdh-brainpoolp256r1"
// (RFC 7027 / RFC 5639 clause 3.4). The shared secret is the x-coordinate of the shared point, field-size
// octets (SEC 1 v2 clause 3.3.1; RFC 5903 clause 9): 66 octets for P-521.
#pragma once

#include <cstddef>
#include <string_view>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"
#include "m2msec/crypto/signature.h"

namespace m2msec::crypto {

// A key agreement scheme from the registry. Cheap to copy; valid for the life of the process.
class KeyAgreement {
 public:
  // Fails with Category::kUnsupported for an unknown name.
  static Result<KeyAgreement> named(std::string_view name);

  std::string_view name() const;
  // Octets of the shared secret (the curve's field size).
  std::size_t shared_secret_size() const;

  // A fresh (ephemeral) key on this scheme's curve, from OpenSSL's DRBG.
  Result<PrivateKey> generate() const;

  // Keys from their raw encodings, as test vectors give them: the scalar d (exactly the field size,
  // 0 < d < n; the public point is computed) and the uncompressed point 04 || x || y (SEC 1 v2 clause
  // 2.3.3; x and y as RFC 5903 clause 8 lists them). A point not on the curve is refused (kUsage).
  Result<PrivateKey> private_key_from_raw(ByteView raw) const;
  Result<PublicKey> public_key_from_raw(ByteView raw) const;

 private:
  explicit KeyAgreement(std::size_t row) : m_row(row) {}
  std::size_t m_row;

  friend Result<SecretBytes> derive_shared_secret(const KeyAgreement&, const PrivateKey&, const PublicKey&);
};

// The shared secret of `mine` and `peer`. Both keys must be on the scheme's curve (kUsage otherwise); the
// peer's point is validated (SEC 1 v2 clause 3.2.2.1) before use.
Result<SecretBytes> derive_shared_secret(const KeyAgreement& scheme, const PrivateKey& mine, const PublicKey& peer);

}  // namespace m2msec::crypto

// ECCSI, Elliptic Curve-Based Certificateless Signatures for Identity-Based Encryption (RFC 6507), with the
// parameters of its test data and of the IBC credentials the MEF provisions: NIST P-256 and SHA-256 (N = 32).
// Points are SEC1 uncompressed octet strings (0x04 || x || y, 65 octets); scalars are N-octet big-endian.
//
// The KMS holds KSAK and publishes KPAK = [KSAK]G; for an identity ID it issues the Secret Signing Key SSK
// (secret) and the Public Validation Token PVT (RFC 6507 5.1.1). The user validates them before use (5.1.2),
// signs with them (5.2.1); anyone holding KPAK verifies a signature for ID (5.2.2).
#pragma once

#include <cstddef>

#include "m2msec/core/bytes.h"
#include "m2msec/core/clock.h"
#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"
#include "m2msec/crypto/random.h"

namespace m2msec::ibc {

inline constexpr std::size_t kEccsiScalarSize = 32;                         // N
inline constexpr std::size_t kEccsiPointSize = 2 * kEccsiScalarSize + 1;     // KPAK, PVT
inline constexpr std::size_t kEccsiSignatureSize = 4 * kEccsiScalarSize + 1;  // r || s || PVT

// The pair a KMS issues for one identity.
struct EccsiUserKey {
  SecretBytes ssk;  // N octets
  Bytes pvt;        // a point
};

class EccsiKms {
 public:
  // A fresh KSAK, uniform in [1, q-1].
  static Result<EccsiKms> generate(Rng& rng = crypto::system_rng());
  // A KSAK kept earlier (N octets, in [1, q-1]).
  static Result<EccsiKms> from_secret(ByteView ksak);

  const SecretBytes& ksak() const { return m_ksak; }
  const Bytes& kpak() const { return m_kpak; }
  // RFC 6507 5.1.1: v drawn from `rng` (rejection-sampled in [1, q-1]), PVT = [v]G, HS = hash(G || KPAK || ID
  // || PVT), SSK = KSAK + HS.v mod q; a draw giving SSK = 0 or PVT = O is drawn again.
  Result<EccsiUserKey> issue(ByteView id, Rng& rng = crypto::system_rng()) const;

 private:
  EccsiKms(SecretBytes ksak, Bytes kpak) : m_ksak(std::move(ksak)), m_kpak(std::move(kpak)) {}
  SecretBytes m_ksak;
  Bytes m_kpak;
};

// A user's validated signing key.
class EccsiSigner {
 public:
  // RFC 6507 5.1.2: PVT on the curve, SSK in [1, q-1], and KPAK = [SSK]G - [HS]PVT; otherwise an error
  // (Category::kCrypto) and no signer.
  static Result<EccsiSigner> validate(ByteView kpak, ByteView id, EccsiUserKey key);

  // RFC 6507 5.2.1: j drawn from `rng`; the signature r || s || PVT (kEccsiSignatureSize octets).
  Result<Bytes> sign(ByteView message, Rng& rng = crypto::system_rng()) const;

  const Bytes& hs() const { return m_hs; }
  const Bytes& pvt() const { return m_pvt; }

 private:
  EccsiSigner(SecretBytes ssk, Bytes pvt, Bytes hs) : m_ssk(std::move(ssk)), m_pvt(std::move(pvt)), m_hs(std::move(hs)) {}
  SecretBytes m_ssk;
  Bytes m_pvt;
  Bytes m_hs;
};

// RFC 6507 5.2.2: the signature of `message` by `id` under `kpak`. Every failure (malformed encoding, PVT off the
// curve, r or s out of range, mismatch) is Category::kCrypto with the reason.
Result<void> eccsi_verify(ByteView kpak, ByteView id, ByteView message, ByteView signature);

}  // namespace m2msec::ibc

// SAKKE, Sakai-Kasahara Key Encryption (RFC 6508), with parameter set 1 of RFC 6509 Appendix A: a 1024-bit prime
// p = 3 mod 4, q = (p + 1) / 4, E: y^2 = x^3 - 3x over F_p, n = 128-bit SSVs, SHA-256. Points are octet strings
// 0x04 || x || y with 128-octet coordinates; the encapsulated data is R_(b,S) || H.
//
// The KMS holds the master secret z_S and publishes Z_S = [z_S]P; the Receiver Secret Key of identity b is
// K_(b,S) = [(b + z_S)^-1]P, with b read as a big-endian integer. A sender encapsulates a random SSV to b with
// Z_S only (6.2.1); the receiver decapsulates with its RSK (6.2.2). g = <P, P> is the reduced Tate-Lichtenbaum
// pairing of the RFC, evaluated here with a Miller loop over F_p^2.
#pragma once

#include <cstddef>

#include "m2msec/core/bytes.h"
#include "m2msec/core/clock.h"
#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"
#include "m2msec/crypto/random.h"

namespace m2msec::ibc {

inline constexpr std::size_t kSakkeCoordinateSize = 128;
inline constexpr std::size_t kSakkePointSize = 2 * kSakkeCoordinateSize + 1;  // Z_S, K_(b,S), R_(b,S)
inline constexpr std::size_t kSakkeSsvSize = 16;                              // n / 8
inline constexpr std::size_t kSakkeEncapsulatedSize = kSakkePointSize + kSakkeSsvSize;

class SakkeKms {
 public:
  // A fresh z_S, uniform in [1, q-1].
  static Result<SakkeKms> generate(Rng& rng = crypto::system_rng());
  // A z_S kept earlier (big-endian, at most 128 octets, in [1, q-1]).
  static Result<SakkeKms> from_secret(ByteView z);

  const SecretBytes& z() const { return m_z; }
  const Bytes& public_key() const { return m_public; }  // Z_S
  // K_(b,S) for identity b. An identity with b + z_S = 0 mod q gets no key (an error).
  Result<SecretBytes> receiver_key(ByteView id) const;

 private:
  SakkeKms(SecretBytes z, Bytes public_key) : m_z(std::move(z)), m_public(std::move(public_key)) {}
  SecretBytes m_z;
  Bytes m_public;
};

// RFC 6508 6.1.2: the RSK is a point of the curve and <[b]P + Z_S, K_(b,S)> = g; otherwise Category::kCrypto.
Result<void> sakke_validate_receiver_key(ByteView public_key, ByteView id, ByteView rsk);

struct SakkeEncapsulation {
  SecretBytes ssv;  // kSakkeSsvSize octets
  Bytes data;       // R_(b,S) || H, kSakkeEncapsulatedSize octets
};
// RFC 6508 6.2.1: a fresh SSV drawn from `rng`, encapsulated to identity `id` under Z_S.
Result<SakkeEncapsulation> sakke_encapsulate(ByteView public_key, ByteView id, Rng& rng = crypto::system_rng());
// RFC 6508 6.2.2: the SSV, after checking R_(b,S) = [r]([b]P + Z_S); any failure is Category::kCrypto and gives
// no SSV.
Result<SecretBytes> sakke_decapsulate(ByteView public_key, ByteView id, ByteView rsk, ByteView data);

// The building blocks, exposed for known-answer tests against RFC 6508 Appendix A; not for protocol use.
namespace sakke_internal {
// RFC 6508 3.2: <R, Q> for two points of E (0x04 || x || y), as its PF_p representative (an L = 128-octet integer).
Result<Bytes> pairing(ByteView r, ByteView q);
// RFC 6508 2.1: x^e in PF_p, x an L-octet representative and e < q big-endian; the result is L octets.
Result<SecretBytes> pf_p_pow(ByteView x, ByteView e);
// RFC 6508 5.1: HashToIntegerRange(s, n, SHA-256), n big-endian; the result has the octet length of n.
Result<SecretBytes> hash_to_integer_range(ByteView s, ByteView n);
}  // namespace sakke_internal

}  // namespace m2msec::ibc

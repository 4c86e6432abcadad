// RSA keys from and to their components (RFC 8017 clause 3), and RSAES-OAEP with SHA-256 (RFC 8017 clause
// 7.1; JOSE "RSA-OAEP-256", RFC 7518 clause 4.3). RSA signatures are rows of the signature registry
// ("rsa-pkcs1-sha256", ..., signature.h). Every RSA operation refuses moduli below 2048 bits (kUsage), as
// RFC 7518 clauses 3.3 and 4.2 require.
#pragma once

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"
#include "m2msec/crypto/signature.h"

namespace m2msec::crypto {

// Integers are big-endian unsigned octet strings of minimal length (no leading zero octets), as JWK's
// Base64urlUInt carries them (RFC 7518 clause 2, clause 6.3).
struct RsaPublicComponents {
  Bytes n;  // modulus
  Bytes e;  // public exponent
};
struct RsaPrivateComponents {
  Bytes n;
  Bytes e;
  SecretBytes d;   // private exponent
  SecretBytes p;   // first prime factor
  SecretBytes q;   // second prime factor
  SecretBytes dp;  // d mod (p - 1)
  SecretBytes dq;  // d mod (q - 1)
  SecretBytes qi;  // q^-1 mod p
};

// A public key from (n, e). Refused with kUsage unless n is odd, minimal and of 2048 to 16384 bits, and e is
// minimal, odd and 1 < e < n (RFC 8017 clause 3.1).
Result<PublicKey> rsa_public_key(const RsaPublicComponents& components);
// A private key from all eight components. (n, e) are checked as above; components that do not form one
// consistent key (primes, n = p * q, d, the CRT values; OpenSSL's pairwise check) are refused with kUsage.
// The private values are read as big-endian unsigned integers.
Result<PrivateKey> rsa_private_key(const RsaPrivateComponents& components);

// The components of an RSA key (kUsage for keys of any other type). A private key without its CRT values
// is refused with kUsage.
Result<RsaPublicComponents> rsa_public_components(const PublicKey& key);
Result<RsaPrivateComponents> rsa_private_components(const PrivateKey& key);

// RSAES-OAEP-ENCRYPT (RFC 8017 clause 7.1.1) with SHA-256, MGF1 with SHA-256 and the empty label. The
// plaintext may be at most k - 66 octets (k: octets of the modulus), else kUsage.
Result<Bytes> rsa_oaep_sha256_encrypt(const PublicKey& key, ByteView plaintext);
// RSAES-OAEP-DECRYPT (RFC 8017 clause 7.1.2), same parameters. Whatever is wrong with the ciphertext
// (length, padding, label hash, another key) is the one Category::kCrypto error "decryption failed", as
// the RFC's clause 7.1.2 note requires. A key that is not RSA or below 2048 bits is refused with kUsage.
Result<SecretBytes> rsa_oaep_sha256_decrypt(const PrivateKey& key, ByteView ciphertext);

}  // namespace m2msec::crypto

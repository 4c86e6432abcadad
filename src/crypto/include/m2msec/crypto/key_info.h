// What a key is: its type, its curve, its size, and the EC private scalar (for JWK "crv", "d", and for
// choosing the signature scheme that fits a key).
#pragma once

#include <cstddef>
#include <string>

#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"
#include "m2msec/crypto/signature.h"

namespace m2msec::crypto {

enum class KeyType {
  kRsa,      // OpenSSL "RSA" (not RSA-PSS)
  kEc,       // an EC key, named curve or not
  kEd25519,
  kOther,    // anything else (Ed448, X25519, GOST, RSA-PSS, ...)
};

KeyType key_type(const PublicKey& key);
KeyType key_type(const PrivateKey& key);

// The OpenSSL short name of an EC key's named curve ("prime256v1", "secp384r1", "secp521r1",
// "brainpoolP256r1", ...). kUsage for keys that are not EC or have explicit curve parameters.
Result<std::string> ec_group_name(const PublicKey& key);

// The private scalar d of an EC key, left-padded to the curve's field size (SEC 1 v2 clause 2.3.7; RFC 7518
// clause 6.2.2.1). kUsage for keys that are not EC.
Result<SecretBytes> ec_private_scalar(const PrivateKey& key);

// The key's size in bits as OpenSSL counts it: RSA modulus bits, EC group order bits, 256 for Ed25519;
// 0 when unknown.
std::size_t key_bits(const PublicKey& key);

}  // namespace m2msec::crypto

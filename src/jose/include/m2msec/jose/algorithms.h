// The JOSE algorithms TS-0003 V3.18.0 clause 8.5.3 permits, as data. Nothing outside these tables is
// ever used: "none", PS*, RSA1_5, RSA-OAEP (SHA-1), plain ECDH-ES, PBES2, A*GCMKW, A*CBC-HS* and "zip"
// are refused wherever they appear.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace m2msec::jose {

// JWS "alg" (TS-0003 Table 8.5.3.3-2; RFC 7518 clause 3).
enum class JwsFamily { kHmac, kRsa, kEcdsa };
struct JwsAlgorithm {
  std::string_view name;    // "HS256"
  JwsFamily family;
  std::string_view hash;    // crypto::Hash name, "sha-256"
  std::string_view scheme;  // crypto::SignatureScheme name for RSA/ECDSA, empty for HMAC
  std::string_view curve;   // JWK "crv" an ECDSA key must have, empty otherwise
};

// JWE "alg" (TS-0003 Table 8.5.3.2-3; RFC 7518 clause 4).
enum class KeyManagement { kDirect, kAesKeyWrap, kRsaOaep, kEcdhEsKeyWrap };
struct JweAlgorithm {
  std::string_view name;      // "ECDH-ES+A128KW"
  KeyManagement mode;
  std::string_view key_wrap;  // crypto::KeyWrap name for the two key-wrap modes, empty otherwise
  std::size_t kek_size;       // octets of the AES-KW key (0 for dir and RSA-OAEP-256)
};

// JWE "enc" (TS-0003 Table 8.5.3.2-4; RFC 7518 clause 5.3).
struct JweEncryption {
  std::string_view name;  // "A128GCM"
  std::string_view aead;  // crypto::Aead name
  std::size_t key_size;   // CEK octets
};

std::span<const JwsAlgorithm> jws_algorithms();
std::span<const JweAlgorithm> jwe_algorithms();
std::span<const JweEncryption> jwe_encryptions();

// nullptr when the name is not in the table.
const JwsAlgorithm* find_jws_algorithm(std::string_view name);
const JweAlgorithm* find_jwe_algorithm(std::string_view name);
const JweEncryption* find_jwe_encryption(std::string_view name);

// RS* and ES*: signatures that a public key (a certificate's) verifies, as opposed to HMAC. The nested
// sign-then-encrypt class allows only these (TS-0003 8.5.2.4).
bool is_public_key_signature(std::string_view alg);

// A further restriction for one use: ESPrim allows only "dir" with A*GCM, a token issuer may be limited
// to the algorithms configured for it (TS-0003 7.3.2.6.3). Empty lists mean "all of the table".
struct AlgorithmPolicy {
  std::vector<std::string_view> jws;
  std::vector<std::string_view> jwe_alg;
  std::vector<std::string_view> jwe_enc;
  // Names a "crit" header may list that the caller processes itself (RFC 7515 clause 4.1.11).
  std::vector<std::string_view> understood_crit;

  bool allows_jws(std::string_view name) const;
  // This policy with the HMAC signatures removed: the certificate signatures (RS*, ES*) that the nested
  // sign-then-encrypt class requires (TS-0003 8.5.2.4).
  AlgorithmPolicy without_hmac() const;
  bool allows_jwe(std::string_view alg, std::string_view enc) const;
};

}  // namespace m2msec::jose

// Internal helpers shared by the crypto module's OpenSSL glue. Not a public header.
#pragma once

#include <openssl/evp.h>
#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/bytes.h"
#include "m2msec/core/error.h"
#include "m2msec/core/result.h"
#include "m2msec/crypto/registry.h"

namespace m2msec::crypto {
class PrivateKey;  // signature.h
class PublicKey;
}  // namespace m2msec::crypto

namespace m2msec::crypto::internal {

// The detail string of a failed OpenSSL call, with OpenSSL's error queue drained (so errors of one
// operation never leak into the next).
Error openssl_error(std::string_view what);

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

// Registry name lists of each family (registry.cpp joins them).
std::vector<std::string_view> hash_names();
std::vector<std::string_view> aead_names();
std::vector<std::string_view> signature_names();
std::vector<std::string_view> key_agreement_names();
std::vector<std::string_view> block_cipher_names();

// One row of the signature registry (the table kSignatures in signature.cpp).
enum class SignatureKind {
  kEcdsa,     // FIPS 186-4 ECDSA over a named curve; DER or raw r || s
  kEd25519,   // pure Ed25519, RFC 8032 clause 5.1
  kGost2012,  // GOST R 34.10-2012 (RFC 7091), through the GOST implementation (gost_signature.cpp)
};
struct SignatureRow {
  std::string_view name;        // our registry name
  SignatureKind kind;
  AlgorithmSet set;             // loaded by SignatureScheme::named
  std::string_view key_type;    // OpenSSL key type: "EC", "ED25519", or the GOST key type
  std::string_view group;       // OpenSSL curve name (EC), GOST parameter set; empty for Ed25519
  std::string_view digest;      // OpenSSL digest fetch name; empty for Ed25519 (it hashes internally)
  std::size_t field_size;       // octets of one signature component (r, s) or of the Ed25519 key
};

// The GOST engine (gost_signature.cpp), loaded once; null when it cannot be loaded. Loading it also lets
// OpenSSL encode and decode GOST keys, so load_algorithm_set(kGost) loads it.
ENGINE* gost_engine();

// GOST R 34.10-2012 key generation, signing and verification for rows of kind kGost2012: implemented in
// gost_signature.cpp. signature.cpp has already checked the encoding (kRaw only); these check the key.
Result<PrivateKey> gost_generate(const SignatureRow& row);
Result<Bytes> gost_sign(const SignatureRow& row, const PrivateKey& key, ByteView message);
Result<void> gost_verify(const SignatureRow& row, const PublicKey& key, ByteView message, ByteView signature);

// Key helpers of signature.cpp, shared with key_agreement.cpp.
// A fresh key of OpenSSL type `key_type` ("EC", "ED25519", ...) on `group` (empty: none to set).
Result<PrivateKey> generate_key(std::string_view key_type, std::string_view group);
// True when `pkey` is an EC key on the named curve `curve` (keys with explicit parameters never are).
bool is_ec_key_on(const EVP_PKEY* pkey, std::string_view curve);
// EC keys from a scalar d (field_size octets, 0 < d < n) or an uncompressed point 04 || x || y that must
// lie on the curve (SEC 1 v2 clause 3.2.2.1 public key validation). Refused with kUsage otherwise.
Result<PrivateKey> ec_private_key_from_scalar(std::string_view curve, std::size_t field_size, ByteView d);
Result<PublicKey> ec_public_key_from_point(std::string_view curve, std::size_t field_size, ByteView point);

}  // namespace m2msec::crypto::internal

// Internal helpers shared by the crypto module's OpenSSL glue. Not a public header.
#pragma once

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/bytes.h"
#include "m2msec/core/error.h"
#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"
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
struct BnFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
struct EcGroupFree {
  void operator()(EC_GROUP* g) const { EC_GROUP_free(g); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;  // cleared on free: fit for secrets
using EcGroupPtr = std::unique_ptr<EC_GROUP, EcGroupFree>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, ParamFree>;

// OpenSSL wants non-null pointers even for empty inputs (to its AEAD code a null input means "finish").
const std::uint8_t* non_null(ByteView v);

// OpenSSL's API takes non-const keys for operations that do not change them.
inline EVP_PKEY* mut(const EVP_PKEY* pkey) { return const_cast<EVP_PKEY*>(pkey); }

// The NID of a curve name, short ("prime256v1") or NIST ("P-256") form; NID_undef when unknown.
int curve_nid(std::string_view curve);
// The group of a named curve (either form of name); null when unknown.
EcGroupPtr group_of(std::string_view curve);

// A non-negative BIGNUM parameter of a key (OSSL_PKEY_PARAM_RSA_D, OSSL_PKEY_PARAM_PRIV_KEY, ...) as
// big-endian octets without leading zeros, read into zeroizing memory only (no BIGNUM copy).
Result<SecretBytes> secret_bn_param(const EVP_PKEY* pkey, const char* name);

// Registry name lists of each family (registry.cpp joins them).
std::vector<std::string_view> hash_names();
std::vector<std::string_view> aead_names();
std::vector<std::string_view> signature_names();
std::vector<std::string_view> key_agreement_names();
std::vector<std::string_view> block_cipher_names();
std::vector<std::string_view> key_wrap_names();

// One row of the signature registry (the table kSignatures in signature.cpp).
enum class SignatureKind {
  kEcdsa,     // FIPS 186-4 ECDSA over a named curve; DER or raw r || s
  kEd25519,   // pure Ed25519, RFC 8032 clause 5.1
  kGost2012,  // GOST R 34.10-2012 (RFC 7091), through the GOST implementation (gost_signature.cpp)
  kRsaPkcs1,  // RSASSA-PKCS1-v1_5, RFC 8017 clause 8.2
};
struct SignatureRow {
  std::string_view name;        // our registry name
  SignatureKind kind;
  AlgorithmSet set;             // loaded by SignatureScheme::named
  std::string_view key_type;    // OpenSSL key type: "EC", "ED25519", "RSA", or the GOST key type
  std::string_view group;       // OpenSSL curve name (EC), GOST parameter set; empty for Ed25519 and RSA
  std::string_view digest;      // OpenSSL digest fetch name; empty for Ed25519 (it hashes internally)
  std::size_t field_size;       // octets of one signature component (r, s) or of the Ed25519 key; 0 for RSA
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

// RSA helpers of rsa.cpp, shared with signature.cpp.
// The smallest modulus accepted anywhere (RFC 7518 clauses 3.3 and 4.2: 2048 bits or larger).
inline constexpr int kRsaMinBits = 2048;
// A fresh RSA key of `bits` bits, public exponent 65537.
Result<PrivateKey> generate_rsa_key(int bits);
// kUsage unless `pkey` is an RSA key (not RSA-PSS) of at least kRsaMinBits bits.
Result<void> check_rsa_key(const EVP_PKEY* pkey);

}  // namespace m2msec::crypto::internal

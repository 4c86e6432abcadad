#include "m2msec/crypto/rsa.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <climits>
#include <string>
#include <utility>
#include <vector>

#include "internal.h"

namespace m2msec::crypto {
namespace {

using internal::BnPtr;

// Larger moduli are refused before any arithmetic (OpenSSL's own limit, OPENSSL_RSA_MAX_MODULUS_BITS).
constexpr int kRsaMaxBits = 16384;

Error decryption_failed() {
  ERR_clear_error();  // the reason stays private (RFC 8017 clause 7.1.2, note)
  return Error::crypto("decryption failed");
}

Result<BnPtr> to_bn(ByteView v, bool secret) {
  if (v.size() > static_cast<std::size_t>(INT_MAX)) return Error::usage("RSA component too long");
  BnPtr bn(secret ? BN_secure_new() : BN_new());
  if (!bn || BN_bin2bn(internal::non_null(v), static_cast<int>(v.size()), bn.get()) == nullptr) {
    return internal::openssl_error("BN_bin2bn");
  }
  return bn;
}

// RFC 8017 clause 3.1 (n odd, 1 < e < n, e odd here) with the minimal encodings of RFC 7518 clause 6.3.1.
Result<std::pair<BnPtr, BnPtr>> public_bns(ByteView n, ByteView e) {
  if (n.empty() || n[0] == 0 || e.empty() || e[0] == 0) {
    return Error::usage("RSA n and e must be non-empty, without leading zero octets");
  }
  M2MSEC_ASSIGN_OR_RETURN(BnPtr n_bn, to_bn(n, false));
  M2MSEC_ASSIGN_OR_RETURN(BnPtr e_bn, to_bn(e, false));
  const int bits = BN_num_bits(n_bn.get());
  if (bits < internal::kRsaMinBits || bits > kRsaMaxBits) {
    return Error::usage("RSA modulus must have 2048 to 16384 bits, not " + std::to_string(bits));
  }
  if (!BN_is_odd(n_bn.get())) return Error::usage("RSA modulus must be odd");
  if (!BN_is_odd(e_bn.get()) || BN_is_one(e_bn.get()) || BN_cmp(e_bn.get(), n_bn.get()) >= 0) {
    return Error::usage("RSA public exponent must be odd and 1 < e < n");
  }
  return std::make_pair(std::move(n_bn), std::move(e_bn));
}

// An RSA key from named BIGNUM parameters (the BIGNUMs are copied; secure ones into secure memory).
Result<internal::PkeyPtr> from_data(const std::vector<std::pair<const char*, const BIGNUM*>>& values,
                                    int selection) {
  internal::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld) return internal::openssl_error("OSSL_PARAM_BLD_new");
  for (const auto& [name, bn] : values) {
    if (OSSL_PARAM_BLD_push_BN(bld.get(), name, bn) != 1) return internal::openssl_error("OSSL_PARAM_BLD_push_BN");
  }
  internal::ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  internal::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return internal::openssl_error("EVP_PKEY_fromdata_init");
  }
  EVP_PKEY* pkey = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &pkey, selection, params.get()) != 1) {
    ERR_clear_error();
    return Error::usage("RSA key components refused");
  }
  return internal::PkeyPtr(pkey);
}

Result<Bytes> public_bn_param(const EVP_PKEY* pkey, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) return internal::openssl_error("EVP_PKEY_get_bn_param");
  BnPtr bn(raw);
  Bytes out(static_cast<std::size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), out.data());
  return out;
}

Result<void> require_rsa(const EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "RSA") != 1) return Error::usage("not an RSA key");
  return {};
}

// RFC 7518 clause 4.3 "RSA-OAEP-256": SHA-256, MGF1 with SHA-256, empty label (OpenSSL's default label).
bool set_oaep_sha256(EVP_PKEY_CTX* ctx) {
  return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx, "SHA2-256", nullptr) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx, "SHA2-256", nullptr) == 1;
}
constexpr std::size_t kOaepSha256Overhead = 2 * 32 + 2;  // RFC 8017 clause 7.1.1 step 1b: mLen <= k - 2hLen - 2

}  // namespace

// ---- internal helpers (internal.h) ----

Result<PrivateKey> internal::generate_rsa_key(int bits) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), bits) != 1) {
    return openssl_error("RSA keygen init");
  }
  EVP_PKEY* pkey = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &pkey) != 1) return openssl_error("EVP_PKEY_generate(RSA)");
  return PrivateKey(pkey);
}

Result<void> internal::check_rsa_key(const EVP_PKEY* pkey) {
  M2MSEC_TRY(require_rsa(pkey));
  if (EVP_PKEY_get_bits(pkey) < kRsaMinBits) return Error::usage("RSA modulus below 2048 bits");
  return {};
}

// ---- components ----

Result<PublicKey> rsa_public_key(const RsaPublicComponents& c) {
  M2MSEC_ASSIGN_OR_RETURN(auto ne, public_bns(c.n, c.e));
  M2MSEC_ASSIGN_OR_RETURN(internal::PkeyPtr pkey,
                          from_data({{OSSL_PKEY_PARAM_RSA_N, ne.first.get()}, {OSSL_PKEY_PARAM_RSA_E, ne.second.get()}},
                                    EVP_PKEY_PUBLIC_KEY));
  return PublicKey(pkey.release());
}

Result<PrivateKey> rsa_private_key(const RsaPrivateComponents& c) {
  M2MSEC_ASSIGN_OR_RETURN(auto ne, public_bns(c.n, c.e));
  const std::pair<const char*, const SecretBytes*> secrets[] = {
      {OSSL_PKEY_PARAM_RSA_D, &c.d},           {OSSL_PKEY_PARAM_RSA_FACTOR1, &c.p},
      {OSSL_PKEY_PARAM_RSA_FACTOR2, &c.q},     {OSSL_PKEY_PARAM_RSA_EXPONENT1, &c.dp},
      {OSSL_PKEY_PARAM_RSA_EXPONENT2, &c.dq},  {OSSL_PKEY_PARAM_RSA_COEFFICIENT1, &c.qi},
  };
  std::vector<BnPtr> held;
  std::vector<std::pair<const char*, const BIGNUM*>> values{{OSSL_PKEY_PARAM_RSA_N, ne.first.get()},
                                                            {OSSL_PKEY_PARAM_RSA_E, ne.second.get()}};
  for (const auto& [name, value] : secrets) {
    if (value->empty()) return Error::usage(std::string("RSA private component missing: ") + name);
    M2MSEC_ASSIGN_OR_RETURN(BnPtr bn, to_bn(value->view(), true));
    values.emplace_back(name, bn.get());
    held.push_back(std::move(bn));
  }
  M2MSEC_ASSIGN_OR_RETURN(internal::PkeyPtr pkey, from_data(values, EVP_PKEY_KEYPAIR));
  // RFC 8017 clause 3.2: the components must form one key. OpenSSL checks the primes, n = p * q, d against e,
  // and the CRT values.
  internal::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!ctx) return internal::openssl_error("EVP_PKEY_CTX_new_from_pkey");
  if (EVP_PKEY_pairwise_check(ctx.get()) != 1) {
    ERR_clear_error();
    return Error::usage("RSA private key components are not consistent");
  }
  return PrivateKey(pkey.release());
}

Result<RsaPublicComponents> rsa_public_components(const PublicKey& key) {
  M2MSEC_TRY(require_rsa(key.evp()));
  RsaPublicComponents out;
  M2MSEC_ASSIGN_OR_RETURN(out.n, public_bn_param(key.evp(), OSSL_PKEY_PARAM_RSA_N));
  M2MSEC_ASSIGN_OR_RETURN(out.e, public_bn_param(key.evp(), OSSL_PKEY_PARAM_RSA_E));
  return out;
}

Result<RsaPrivateComponents> rsa_private_components(const PrivateKey& key) {
  const EVP_PKEY* pkey = key.evp();
  M2MSEC_TRY(require_rsa(pkey));
  RsaPrivateComponents out;
  M2MSEC_ASSIGN_OR_RETURN(out.n, public_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N));
  M2MSEC_ASSIGN_OR_RETURN(out.e, public_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E));
  const std::pair<const char*, SecretBytes*> secrets[] = {
      {OSSL_PKEY_PARAM_RSA_D, &out.d},           {OSSL_PKEY_PARAM_RSA_FACTOR1, &out.p},
      {OSSL_PKEY_PARAM_RSA_FACTOR2, &out.q},     {OSSL_PKEY_PARAM_RSA_EXPONENT1, &out.dp},
      {OSSL_PKEY_PARAM_RSA_EXPONENT2, &out.dq},  {OSSL_PKEY_PARAM_RSA_COEFFICIENT1, &out.qi},
  };
  for (const auto& [name, value] : secrets) {
    auto v = internal::secret_bn_param(pkey, name);
    if (!v) {
      ERR_clear_error();
      return Error::usage(std::string("RSA private key without component ") + name);
    }
    *value = std::move(v).value();
  }
  return out;
}

// ---- RSAES-OAEP ----

Result<Bytes> rsa_oaep_sha256_encrypt(const PublicKey& key, ByteView plaintext) {
  M2MSEC_TRY(internal::check_rsa_key(key.evp()));
  const auto k = static_cast<std::size_t>(EVP_PKEY_get_size(key.evp()));
  if (plaintext.size() + kOaepSha256Overhead > k) {
    return Error::usage("RSA-OAEP plaintext longer than " + std::to_string(k - kOaepSha256Overhead) + " octets");
  }
  internal::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, internal::mut(key.evp()), nullptr));
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 || !set_oaep_sha256(ctx.get())) {
    return internal::openssl_error("RSA-OAEP encrypt init");
  }
  Bytes out(k);
  std::size_t len = out.size();
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &len, internal::non_null(plaintext), plaintext.size()) != 1) {
    return internal::openssl_error("EVP_PKEY_encrypt");
  }
  out.resize(len);
  return out;
}

Result<SecretBytes> rsa_oaep_sha256_decrypt(const PrivateKey& key, ByteView ciphertext) {
  M2MSEC_TRY(internal::check_rsa_key(key.evp()));
  internal::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, internal::mut(key.evp()), nullptr));
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 || !set_oaep_sha256(ctx.get())) {
    return internal::openssl_error("RSA-OAEP decrypt init");
  }
  // RFC 8017 clause 7.1.2 step 1b: the ciphertext is exactly k octets.
  const auto k = static_cast<std::size_t>(EVP_PKEY_get_size(key.evp()));
  if (ciphertext.size() != k) return decryption_failed();
  SecretBytes out(k);
  std::size_t len = out.size();
  if (EVP_PKEY_decrypt(ctx.get(), out.data(), &len, ciphertext.data(), ciphertext.size()) != 1 || len > k) {
    return decryption_failed();
  }
  out.truncate(len);
  return out;
}

}  // namespace m2msec::crypto

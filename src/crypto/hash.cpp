#include "m2msec/crypto/hash.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <array>
#include <mutex>
#include <string>

#include "internal.h"
#include "m2msec/crypto/registry.h"

namespace m2msec::crypto {
namespace {

struct HashRow {
  std::string_view name;      // our registry name
  std::string_view evp_name;  // OpenSSL fetch name
  AlgorithmSet set;
};

// The registry rows of the hash family. Streebog is GOST R 34.11-2012 (RFC 6986).
constexpr std::array<HashRow, 5> kHashes{{
    {"sha-256", "SHA2-256", AlgorithmSet::kDefault},
    {"sha-384", "SHA2-384", AlgorithmSet::kDefault},
    {"sha-512", "SHA2-512", AlgorithmSet::kDefault},
    {"streebog-256", "md_gost12_256", AlgorithmSet::kGost},
    {"streebog-512", "md_gost12_512", AlgorithmSet::kGost},
}};

// Fetched once per row, kept for the life of the process.
struct Fetched {
  std::once_flag once;
  EVP_MD* md = nullptr;
};
std::array<Fetched, kHashes.size()> g_fetched;

const EVP_MD* fetch(std::size_t row) {
  std::call_once(g_fetched[row].once, [row] {
    g_fetched[row].md = EVP_MD_fetch(nullptr, std::string(kHashes[row].evp_name).c_str(), nullptr);
  });
  return g_fetched[row].md;
}

}  // namespace

Result<Hash> Hash::named(std::string_view name) {
  for (std::size_t i = 0; i < kHashes.size(); ++i) {
    if (kHashes[i].name != name) continue;
    M2MSEC_TRY(load_algorithm_set(kHashes[i].set));
    const EVP_MD* md = fetch(i);
    if (md == nullptr) return Error::unsupported("hash '" + std::string(name) + "' not available in OpenSSL");
    return Hash(kHashes[i].name, md, static_cast<std::size_t>(EVP_MD_get_size(md)));
  }
  return Error::unsupported("unknown hash '" + std::string(name) + "'");
}

// The default-set hashes are always present in OpenSSL 3; their absence is a broken installation.
Hash Hash::sha256() { return named("sha-256").value(); }
Hash Hash::sha384() { return named("sha-384").value(); }
Hash Hash::sha512() { return named("sha-512").value(); }

Result<Bytes> Hash::digest(ByteView data) const {
  Bytes out(m_size);
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, m_md, nullptr) != 1 || len != m_size) {
    return internal::openssl_error("EVP_Digest");
  }
  return out;
}

Result<SecretBytes> hmac(const Hash& hash, ByteView key, std::initializer_list<ByteView> parts) {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return internal::openssl_error("EVP_MAC_fetch(HMAC)");
  internal::MacCtxPtr ctx(EVP_MAC_CTX_new(mac));
  if (!ctx) return internal::openssl_error("EVP_MAC_CTX_new");
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(EVP_MD_get0_name(hash.evp())), 0),
      OSSL_PARAM_construct_end()};
  // An empty key is legal HMAC (RFC 2104 pads it); OpenSSL wants a non-null pointer for it.
  static const std::uint8_t kEmpty = 0;
  if (EVP_MAC_init(ctx.get(), key.empty() ? &kEmpty : key.data(), key.size(), params) != 1) {
    return internal::openssl_error("EVP_MAC_init");
  }
  for (ByteView part : parts) {
    if (EVP_MAC_update(ctx.get(), part.data(), part.size()) != 1) return internal::openssl_error("EVP_MAC_update");
  }
  SecretBytes out(hash.size());
  std::size_t len = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 || len != out.size()) {
    return internal::openssl_error("EVP_MAC_final");
  }
  return out;
}

namespace {

Result<SecretBytes> run_hkdf(const Hash& hash, int mode, ByteView salt, ByteView key, ByteView info,
                             std::size_t length) {
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) return internal::openssl_error("EVP_KDF_fetch(HKDF)");
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf), &EVP_KDF_CTX_free);
  if (!ctx) return internal::openssl_error("EVP_KDF_CTX_new");
  OSSL_PARAM params[6];
  std::size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(EVP_MD_get0_name(hash.evp())), 0);
  params[n++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(key.data()), key.size());
  // RFC 5869 2.2: "if not provided, [salt] is set to a string of HashLen zeros"; OpenSSL does that
  // when no salt parameter is given.
  if (!salt.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t*>(salt.data()), salt.size());
  }
  if (!info.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<std::uint8_t*>(info.data()), info.size());
  }
  params[n] = OSSL_PARAM_construct_end();
  SecretBytes out(length);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) return internal::openssl_error("EVP_KDF_derive(HKDF)");
  return out;
}

}  // namespace

Result<SecretBytes> hkdf_extract(const Hash& hash, ByteView salt, ByteView ikm) {
  return run_hkdf(hash, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, salt, ikm, {}, hash.size());
}

Result<SecretBytes> hkdf_expand(const Hash& hash, ByteView prk, ByteView info, std::size_t length) {
  if (length == 0 || length > 255 * hash.size()) {
    return Error::usage("HKDF-Expand: length must be 1.." + std::to_string(255 * hash.size()));
  }
  if (prk.size() < hash.size()) return Error::usage("HKDF-Expand: PRK shorter than the hash output");
  return run_hkdf(hash, EVP_KDF_HKDF_MODE_EXPAND_ONLY, {}, prk, info, length);
}

Result<SecretBytes> hkdf(const Hash& hash, ByteView salt, ByteView ikm, ByteView info, std::size_t length) {
  M2MSEC_ASSIGN_OR_RETURN(SecretBytes prk, hkdf_extract(hash, salt, ikm));
  return hkdf_expand(hash, prk.view(), info, length);
}

std::vector<std::string_view> internal::hash_names() {
  std::vector<std::string_view> out;
  for (const auto& row : kHashes) out.push_back(row.name);
  return out;
}

}  // namespace m2msec::crypto

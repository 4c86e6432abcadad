// Hash functions, HMAC (RFC 2104) and HKDF (RFC 5869), by name through the algorithm registry.
//
// Algorithm agility (ITU-T review, seed 001 item 1): callers hold a `Hash` handle obtained by name
// ("sha-256", "streebog-256", ...) and never name an OpenSSL algorithm themselves, so an alternative
// national set (GOST, registry.h) plugs in as new rows of the registry without touching callers.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string_view>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"

using EVP_MD = struct evp_md_st;

namespace m2msec::crypto {

// A hash function from the registry. Cheap to copy; valid for the life of the process.
class Hash {
 public:
  // Fails with Category::kUnsupported for an unknown name or when the algorithm's provider cannot
  // be loaded (e.g. the GOST provider is not installed).
  static Result<Hash> named(std::string_view name);
  static Hash sha256();
  static Hash sha384();
  static Hash sha512();

  std::string_view name() const { return m_name; }
  std::size_t size() const { return m_size; }
  const EVP_MD* evp() const { return m_md; }

  Result<Bytes> digest(ByteView data) const;

 private:
  Hash(std::string_view name, const EVP_MD* md, std::size_t size) : m_name(name), m_md(md), m_size(size) {}
  std::string_view m_name;
  const EVP_MD* m_md;
  std::size_t m_size;
};

// HMAC(key, parts[0] || parts[1] || ...): the parts are fed in order, so secret inputs never need to be
// concatenated into a non-zeroizing buffer. The output is hash.size() octets.
Result<SecretBytes> hmac(const Hash& hash, ByteView key, std::initializer_list<ByteView> parts);

// RFC 5869 clause 2.2. An empty salt means a string of hash.size() zero octets, as the RFC says.
Result<SecretBytes> hkdf_extract(const Hash& hash, ByteView salt, ByteView ikm);
// RFC 5869 clause 2.3. length <= 255 * hash.size().
Result<SecretBytes> hkdf_expand(const Hash& hash, ByteView prk, ByteView info, std::size_t length);
Result<SecretBytes> hkdf(const Hash& hash, ByteView salt, ByteView ikm, ByteView info, std::size_t length);

}  // namespace m2msec::crypto

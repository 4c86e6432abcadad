// AES Key Wrap (RFC 3394), by name through the algorithm registry (registry.h): "aes-128-kw", "aes-192-kw",
// "aes-256-kw" (JOSE A128KW / A192KW / A256KW, RFC 7518 clause 4.4). The default initial value A6A6A6A6A6A6A6A6
// (RFC 3394 clause 2.2.3.1) is used and checked.
#pragma once

#include <cstddef>
#include <string_view>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"

namespace m2msec::crypto {

// A key wrap algorithm from the registry. Cheap to copy; valid for the life of the process.
class KeyWrap {
 public:
  // Fails with Category::kUnsupported for an unknown name.
  static Result<KeyWrap> named(std::string_view name);

  std::string_view name() const;
  // Octets of the key-encryption key (16, 24 or 32).
  std::size_t key_size() const;

  // RFC 3394 clause 2.2.1: key_data of n >= 2 64-bit blocks in, (n + 1) blocks out. A KEK of the wrong size
  // or key data of another length is refused with kUsage.
  Result<Bytes> wrap(ByteView kek, ByteView key_data) const;
  // RFC 3394 clause 2.2.2 with the integrity check of clause 2.2.3. A KEK of the wrong size is refused with
  // kUsage; anything wrong with `wrapped` (length, integrity) is one Category::kCrypto error
  // "key unwrap failed".
  Result<SecretBytes> unwrap(ByteView kek, ByteView wrapped) const;

 private:
  explicit KeyWrap(std::size_t row) : m_row(row) {}
  std::size_t m_row;
};

}  // namespace m2msec::crypto

// The key-encryption key (KEK) that protects keys at rest: AES-256-GCM, with the record's kind and
// identifier as additional authenticated data, so a sealed key opens only in the record it was sealed for.
#pragma once

#include <string>
#include <string_view>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"

namespace m2msec::store {

class Kek {
 public:
  // Exactly 32 octets.
  static Result<Kek> from_bytes(SecretBytes key);
  // Reads the 32-octet key file at path, or creates it (mode 0600, fresh random key) when it does not exist.
  // Refuses a file of another size (kUsage) or one that group or others may access (kPolicy), and does not
  // follow a symbolic link or create the directory (kIo).
  static Result<Kek> load_or_create(const std::string& path);

  Kek(Kek&&) noexcept = default;
  Kek& operator=(Kek&&) noexcept = default;

  // nonce (12) || ciphertext || tag (16); binding is "<kind>:<identifier>" (e.g. "enrolment:<KeID>").
  Result<Bytes> seal(std::string_view binding, ByteView plaintext) const;
  // kCrypto when the tag does not verify (wrong KEK, wrong binding, tampered).
  Result<SecretBytes> open(std::string_view binding, ByteView sealed) const;

 private:
  explicit Kek(SecretBytes key) : m_key(std::move(key)) {}
  SecretBytes m_key;
};

}  // namespace m2msec::store

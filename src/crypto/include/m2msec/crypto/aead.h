// AEAD (RFC 5116) for the set of TS-0003 V3.18.0 Annex L: AES-128/256-GCM, AES-128/256-CCM and
// AES-128/256-CCM_8 (RFC 6655: 8-octet tag); and AES-192-GCM for JOSE (A192GCM, RFC 7518 clause 5.3).
// Every algorithm takes a 12-octet nonce (RFC 5116 N_MIN = N_MAX = 12) and appends its tag to the
// ciphertext.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"

using EVP_CIPHER = struct evp_cipher_st;
using EVP_CIPHER_CTX = struct evp_cipher_ctx_st;

namespace m2msec::crypto {

// An AEAD algorithm from the registry ("aes-128-gcm", "aes-192-gcm", "aes-256-gcm", "aes-128-ccm",
// "aes-256-ccm", "aes-128-ccm-8", "aes-256-ccm-8"). Cheap to copy.
class Aead {
 public:
  static Result<Aead> named(std::string_view name);

  std::string_view name() const;
  std::size_t key_size() const;
  std::size_t nonce_size() const { return 12; }
  std::size_t tag_size() const;

 private:
  friend class AeadKey;
  explicit Aead(std::size_t row) : m_row(row) {}
  std::size_t m_row;
};

enum class AeadUse { kBoth, kSealOnly, kOpenOnly };

// A key bound to one AEAD algorithm, its key schedule done once. Move-only; not for concurrent use
// (one AeadKey per thread).
class AeadKey {
 public:
  // Fails with kUsage when the key has the wrong size for the algorithm.
  // A key for one message (JOSE, ESPrim) sets up only the direction it needs: kSealOnly / kOpenOnly
  // halve the key-schedule work; the other operation then fails with kUsage.
  static Result<AeadKey> create(const Aead& aead, ByteView key, AeadUse use = AeadUse::kBoth);
  AeadKey(AeadKey&&) noexcept;
  AeadKey& operator=(AeadKey&&) noexcept;
  ~AeadKey();

  const Aead& aead() const { return m_aead; }

  // Writes ciphertext || tag (plaintext.size() + tag_size() octets) to out; returns the length written.
  Result<std::size_t> seal(ByteView nonce, ByteView aad, ByteView plaintext, std::span<std::uint8_t> out);
  // Reads ciphertext || tag and writes the plaintext to out. Any mismatch (tag, nonce, aad, key) is
  // one and the same Category::kCrypto error, and out is wiped.
  Result<std::size_t> open(ByteView nonce, ByteView aad, ByteView sealed, std::span<std::uint8_t> out);

  Result<Bytes> seal(ByteView nonce, ByteView aad, ByteView plaintext);
  Result<Bytes> open(ByteView nonce, ByteView aad, ByteView sealed);

 private:
  AeadKey(Aead aead, EVP_CIPHER_CTX* enc, EVP_CIPHER_CTX* dec) : m_aead(aead), m_enc(enc), m_dec(dec) {}
  Aead m_aead;
  EVP_CIPHER_CTX* m_enc;  // owned; keyed for encryption
  EVP_CIPHER_CTX* m_dec;  // owned; keyed for decryption
};

}  // namespace m2msec::crypto

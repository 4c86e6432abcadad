// JSON Web Encryption (RFC 7516): encrypt to one or more recipients, serialize in any of the three
// forms, parse any form, decrypt with a set of keys.
//
// Content encryption is AES-GCM (A128GCM, A192GCM, A256GCM) with a fresh random 96-bit IV per object.
// Key management: "dir" (one recipient only), A*KW, RSA-OAEP-256, ECDH-ES+A*KW (RFC 7518 clause 4.6,
// ephemeral key on the recipient's curve, Concat KDF). With one recipient its "alg", "kid" and "epk" go
// into the protected header; with several, into each recipient's header.
//
// Decryption is fail-closed and uniform: a disallowed algorithm, an unknown "kid", a wrong key, a key
// unwrap failure and a tag mismatch all end in errors that do not tell which key was tried; an RSA-OAEP
// failure continues with a random CEK (RFC 7516 clause 11.5) so that it is not distinguishable by time.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"
#include "m2msec/jose/algorithms.h"
#include "m2msec/jose/jwk.h"
#include "m2msec/jose/serialization.h"
#include "m2msec/json/json.h"

namespace m2msec::jose {

struct Recipient {
  const Jwk* key = nullptr;
  std::string alg{};  // defaults to the key's "alg" member
  json::Object header{};  // extra per-recipient members
};

struct EncryptOptions {
  std::string enc = "A128GCM";
  json::Object protected_header{};  // extra protected members ("typ", "cty", oneM2M's "ori"...)
  json::Object header{};            // shared unprotected header (JSON serializations only)
  Bytes aad{};                      // JWE AAD (JSON serializations only)
  // For "dir": the content encryption key itself, when the caller derives it (ESPrim's
  // sessionESPrimKey); otherwise the "dir" recipient's "oct" key is the CEK.
  const SecretBytes* direct_key = nullptr;
};

class Jwe {
 public:
  struct RecipientEntry {
    json::Object header{};
    Bytes encrypted_key;
  };

  static Result<Jwe> parse(std::string_view text);

  const std::string& protected_b64() const { return m_protected_b64; }
  const json::Object& protected_header() const { return m_protected; }
  const json::Object& shared_header() const { return m_shared; }
  const std::vector<RecipientEntry>& recipients() const { return m_recipients; }
  const Bytes& aad() const { return m_aad; }

  // Compact: one recipient, nothing unprotected, no AAD. Flattened: one recipient.
  Result<std::string> serialize(Serialization form) const;

 private:
  friend Result<Jwe> encrypt(ByteView, std::span<const Recipient>, const EncryptOptions&);
  friend class Decryptor;
  std::string m_protected_b64;
  json::Object m_protected;
  json::Object m_shared;
  std::vector<RecipientEntry> m_recipients;
  Bytes m_iv;
  Bytes m_ciphertext;
  Bytes m_tag;
  Bytes m_aad;
};

Result<Jwe> encrypt(ByteView plaintext, std::span<const Recipient> recipients, const EncryptOptions& options);

struct DecryptedJwe {
  SecretBytes plaintext;
  // The protected, shared and per-recipient headers of the recipient that decrypted, merged.
  json::Object header;
  std::size_t recipient = 0;
  std::string kid;  // of the key that decrypted (empty when it has none)
};

// Tries the recipients in order with the keys that may be used for them. For "dir" with a CEK the caller
// derives itself (ESPrim), pass it as `direct_key`.
Result<DecryptedJwe> decrypt(const Jwe& jwe, std::span<const Jwk> keys, const AlgorithmPolicy& policy = {},
                             const SecretBytes* direct_key = nullptr);

// The Concat KDF of NIST SP 800-56A clause 5.8.1 with SHA-256, as RFC 7518 clause 4.6.2 uses it for
// ECDH-ES: OtherInfo = AlgorithmID || PartyUInfo || PartyVInfo || SuppPubInfo, each of the first three
// prefixed with its 32-bit big-endian length, SuppPubInfo the key length in bits.
Result<SecretBytes> concat_kdf(ByteView z, std::string_view algorithm_id, ByteView apu, ByteView apv,
                               std::size_t key_size);

}  // namespace m2msec::jose

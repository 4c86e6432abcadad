// JSON Web Keys (RFC 7517) of the three types the permitted algorithms use: "oct", "EC" (P-256, P-384,
// P-521) and "RSA" (at least 2048 bits, two primes). Import is strict: members of the wrong type,
// non-canonical base64url, coordinates of the wrong length, a private part that does not match the
// public part, or a key too small for its use are refused (kUsage). Unknown members are ignored
// (RFC 7517 clause 4).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"
#include "m2msec/crypto/signature.h"
#include "m2msec/jose/algorithms.h"
#include "m2msec/json/json.h"

namespace m2msec::jose {

enum class KeyType { kOct, kEc, kRsa };

// Copies share the immutable key material.
class Jwk {
 public:
  static Result<Jwk> from_json(const json::Value& value);
  static Result<Jwk> parse(std::string_view text);
  static Jwk symmetric(SecretBytes key, std::string kid = {});
  static Result<Jwk> from_private_key(crypto::PrivateKey key, std::string kid = {});
  static Result<Jwk> from_public_key(crypto::PublicKey key, std::string kid = {});
  // A fresh key for `alg` (a JWS or JWE "alg", or for "dir" the "enc" it will be used with), with "alg"
  // and "kid" (its RFC 7638 thumbprint) set.
  static Result<Jwk> generate(std::string_view alg, std::string_view enc = {});

  KeyType type() const { return m_type; }
  const std::string& kid() const { return m_kid; }
  void set_kid(std::string kid) { m_kid = std::move(kid); }
  // The optional "alg", "use" and "key_ops" members (empty when absent).
  const std::string& alg() const { return m_alg; }
  void set_alg(std::string alg) { m_alg = std::move(alg); }
  const std::string& use() const { return m_use; }
  const std::vector<std::string>& key_ops() const { return m_key_ops; }
  // "P-256", "P-384", "P-521" for EC keys, empty otherwise.
  const std::string& curve() const { return m_curve; }

  // True for "oct" keys and for EC/RSA keys with their private part.
  bool has_secret() const;
  const SecretBytes* symmetric_key() const { return m_secret.get(); }
  const crypto::PublicKey* public_key() const { return m_public ? &*m_public : nullptr; }
  const crypto::PrivateKey* private_key() const { return m_private.get(); }

  // The key without its private part (an "oct" key has no public form: kUsage).
  Result<Jwk> public_only() const;
  // The JWK JSON; private members only when asked.
  Result<json::Value> to_json(bool with_private) const;
  // RFC 7638 thumbprint (SHA-256), base64url.
  Result<std::string> thumbprint() const;

  // Whether this key may be used with `alg` for `op` ("sign", "verify", "encrypt", "decrypt", i.e. the
  // JWK key_ops names): its type (and curve, and size) fit the algorithm, and its "alg", "use" and
  // "key_ops" members, when present, allow it. An HMAC algorithm only ever takes an "oct" key, so a
  // public key can never be used as an HMAC secret.
  bool usable_for(std::string_view alg, std::string_view op) const;

  // The algorithm to use the key with when the caller names none: the key's own "alg", else by its type.
  // Signing: oct HS256, RSA RS256, EC ES256/ES384/ES512 by curve. Key management: oct A128KW/A192KW/A256KW
  // by size (empty for another size), RSA RSA-OAEP-256, EC ECDH-ES+A256KW.
  std::string default_signature_alg() const;
  std::string default_key_management_alg() const;

 private:
  Jwk() = default;
  KeyType m_type = KeyType::kOct;
  std::string m_kid;
  std::string m_alg;
  std::string m_use;
  std::vector<std::string> m_key_ops;
  std::string m_curve;
  std::shared_ptr<const SecretBytes> m_secret;  // "oct" keys
  std::optional<crypto::PublicKey> m_public;
  std::shared_ptr<const crypto::PrivateKey> m_private;
};

// A JWK Set ({"keys":[...]}, RFC 7517 clause 5) or a single JWK read as a set of one.
struct JwkSet {
  std::vector<Jwk> keys;
  static Result<JwkSet> parse(std::string_view text);
};

}  // namespace m2msec::jose

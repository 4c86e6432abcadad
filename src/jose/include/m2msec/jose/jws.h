// JSON Web Signature (RFC 7515): sign with one or more keys, serialize in any of the three forms, parse
// any form, verify against a set of trusted keys.
//
// Verification is fail-closed: a signature counts only if its "alg" is permitted (algorithms.h and the
// caller's policy), its "crit" lists only parameters the caller understands, its protected and
// unprotected headers do not share a name, and a trusted key that may be used with that "alg" verifies
// it. An unknown "kid" and a wrong key give the same error.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/jose/algorithms.h"
#include "m2msec/jose/jwk.h"
#include "m2msec/jose/serialization.h"
#include "m2msec/json/json.h"

namespace m2msec::jose {

// One signer. "alg" defaults to the key's "alg" member; the key's "kid", when set, goes into the protected
// header. `protected_header` adds members (e.g. "typ", "cty"); `header` is the unprotected header (JSON
// serializations only).
struct Signer {
  const Jwk* key = nullptr;
  std::string alg{};
  json::Object protected_header{};
  json::Object header{};
};

class Jws {
 public:
  struct Signature {
    std::string protected_b64;       // exactly as received or produced
    json::Object protected_header{};
    json::Object header{};           // unprotected
    Bytes signature;
  };

  // Any serialization: compact (three dot-separated parts) or JSON (flattened or general).
  static Result<Jws> parse(std::string_view text);

  const Bytes& payload() const { return m_payload; }
  // The payload as it appears in the signing input (RFC 7515 clause 5.2 step 8).
  const std::string& payload_b64() const { return m_payload_b64; }
  const std::vector<Signature>& signatures() const { return m_signatures; }

  // Compact and flattened need exactly one signature; compact also no unprotected header.
  Result<std::string> serialize(Serialization form) const;

 private:
  friend Result<Jws> sign(ByteView, std::span<const Signer>);
  std::string m_payload_b64;
  Bytes m_payload;
  std::vector<Signature> m_signatures;
};

Result<Jws> sign(ByteView payload, std::span<const Signer> signers);

struct VerifiedJws {
  Bytes payload;
  // The signatures that verified (indexes into Jws::signatures()) and the "kid" of the key that verified
  // each (empty when the key has none).
  std::vector<std::size_t> signatures;
  std::vector<std::string> kids;
};

// Succeeds when at least one signature verifies with one of `keys` (RFC 7515 clause 7.2.1 leaves the
// choice to the application; ESData records which credentials verified, TS-0003 8.5.2.3). With
// `require_all`, every signature must verify.
Result<VerifiedJws> verify(const Jws& jws, std::span<const Jwk> keys, const AlgorithmPolicy& policy = {},
                           bool require_all = false);

}  // namespace m2msec::jose

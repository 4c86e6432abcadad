#include "m2msec/jose/algorithms.h"

#include <algorithm>
#include <array>

namespace m2msec::jose {
namespace {

// TS-0003 V3.18.0 Table 8.5.3.3-2. The spec writes "P-512" for ES512; the JOSE curve is P-521 (RFC 7518
// clause 3.4).
constexpr std::array<JwsAlgorithm, 9> kJws{{
    {"HS256", JwsFamily::kHmac, "sha-256", "", ""},
    {"HS384", JwsFamily::kHmac, "sha-384", "", ""},
    {"HS512", JwsFamily::kHmac, "sha-512", "", ""},
    {"RS256", JwsFamily::kRsa, "sha-256", "rsa-pkcs1-sha256", ""},
    {"RS384", JwsFamily::kRsa, "sha-384", "rsa-pkcs1-sha384", ""},
    {"RS512", JwsFamily::kRsa, "sha-512", "rsa-pkcs1-sha512", ""},
    {"ES256", JwsFamily::kEcdsa, "sha-256", "ecdsa-p256-sha256", "P-256"},
    {"ES384", JwsFamily::kEcdsa, "sha-384", "ecdsa-p384-sha384", "P-384"},
    {"ES512", JwsFamily::kEcdsa, "sha-512", "ecdsa-p521-sha512", "P-521"},
}};

// TS-0003 V3.18.0 Table 8.5.3.2-3 (plain "ECDH-ES" direct agreement is not in it).
constexpr std::array<JweAlgorithm, 8> kJweAlg{{
    {"dir", KeyManagement::kDirect, "", 0},
    {"A128KW", KeyManagement::kAesKeyWrap, "aes-128-kw", 16},
    {"A192KW", KeyManagement::kAesKeyWrap, "aes-192-kw", 24},
    {"A256KW", KeyManagement::kAesKeyWrap, "aes-256-kw", 32},
    {"RSA-OAEP-256", KeyManagement::kRsaOaep, "", 0},
    {"ECDH-ES+A128KW", KeyManagement::kEcdhEsKeyWrap, "aes-128-kw", 16},
    {"ECDH-ES+A192KW", KeyManagement::kEcdhEsKeyWrap, "aes-192-kw", 24},
    {"ECDH-ES+A256KW", KeyManagement::kEcdhEsKeyWrap, "aes-256-kw", 32},
}};

// TS-0003 V3.18.0 Table 8.5.3.2-4.
constexpr std::array<JweEncryption, 3> kJweEnc{{
    {"A128GCM", "aes-128-gcm", 16},
    {"A192GCM", "aes-192-gcm", 24},
    {"A256GCM", "aes-256-gcm", 32},
}};

template <typename Row, std::size_t N>
const Row* find(const std::array<Row, N>& table, std::string_view name) {
  auto it = std::find_if(table.begin(), table.end(), [&](const Row& r) { return r.name == name; });
  return it == table.end() ? nullptr : &*it;
}

bool listed(const std::vector<std::string_view>& allowed, std::string_view name) {
  return allowed.empty() || std::find(allowed.begin(), allowed.end(), name) != allowed.end();
}

}  // namespace

std::span<const JwsAlgorithm> jws_algorithms() { return kJws; }
std::span<const JweAlgorithm> jwe_algorithms() { return kJweAlg; }
std::span<const JweEncryption> jwe_encryptions() { return kJweEnc; }

const JwsAlgorithm* find_jws_algorithm(std::string_view name) { return find(kJws, name); }
const JweAlgorithm* find_jwe_algorithm(std::string_view name) { return find(kJweAlg, name); }
const JweEncryption* find_jwe_encryption(std::string_view name) { return find(kJweEnc, name); }

bool AlgorithmPolicy::allows_jws(std::string_view name) const {
  return find_jws_algorithm(name) != nullptr && listed(jws, name);
}

bool is_public_key_signature(std::string_view alg) {
  const JwsAlgorithm* a = find_jws_algorithm(alg);
  return a != nullptr && a->family != JwsFamily::kHmac;
}

AlgorithmPolicy AlgorithmPolicy::without_hmac() const {
  AlgorithmPolicy out = *this;
  out.jws.clear();
  for (const JwsAlgorithm& a : kJws)
    if (is_public_key_signature(a.name) && allows_jws(a.name)) out.jws.push_back(a.name);
  if (out.jws.empty()) out.jws.push_back("");  // no name matches "": nothing is allowed (empty means all)
  return out;
}

bool AlgorithmPolicy::allows_jwe(std::string_view alg, std::string_view enc) const {
  return find_jwe_algorithm(alg) != nullptr && find_jwe_encryption(enc) != nullptr && listed(jwe_alg, alg) &&
         listed(jwe_enc, enc);
}

}  // namespace m2msec::jose

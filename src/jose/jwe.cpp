#include "m2msec/jose/jwe.h"

#include <algorithm>

#include "internal.h"
#include "m2msec/core/byte_io.h"
#include "m2msec/core/encoding.h"
#include "m2msec/crypto/aead.h"
#include "m2msec/crypto/hash.h"
#include "m2msec/crypto/key_agreement.h"
#include "m2msec/crypto/key_wrap.h"
#include "m2msec/crypto/random.h"
#include "m2msec/crypto/rsa.h"

namespace m2msec::jose {
namespace {

using internal::malformed;

constexpr std::size_t kIvSize = 12;   // RFC 7518 clause 5.3: 96-bit IV
constexpr std::size_t kTagSize = 16;  // and 128-bit tag

ByteView text_bytes(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

// RFC 7516 clause 5.1 step 14: ASCII(BASE64URL(UTF8(protected))), then '.' BASE64URL(aad) if there is an AAD.
std::string additional_data(const std::string& protected_b64, const Bytes& aad) {
  if (aad.empty()) return protected_b64;
  return protected_b64 + "." + base64url_encode(aad);
}

std::string key_agreement_for(std::string_view crv) {
  if (crv == "P-256") return "ecdh-p256";
  if (crv == "P-384") return "ecdh-p384";
  return "ecdh-p521";
}

Error no_key() { return Error(Category::kAuth, "JWE: no key decrypts the content"); }

// The CEK wrapped for one recipient (whose key is null only for "dir" with a caller's key); for ECDH-ES
// the ephemeral public key goes into `header`.
Result<Bytes> wrap_for(const JweAlgorithm& alg, const Jwk* recipient, const SecretBytes& cek, json::Object& header) {
  if (alg.mode == KeyManagement::kDirect) return Bytes();
  const Jwk& key = *recipient;
  switch (alg.mode) {
    case KeyManagement::kDirect: return Bytes();
    case KeyManagement::kAesKeyWrap: {
      M2MSEC_ASSIGN_OR_RETURN(auto kw, crypto::KeyWrap::named(alg.key_wrap));
      return kw.wrap(key.symmetric_key()->view(), cek.view());
    }
    case KeyManagement::kRsaOaep: return crypto::rsa_oaep_sha256_encrypt(*key.public_key(), cek.view());
    case KeyManagement::kEcdhEsKeyWrap: {
      M2MSEC_ASSIGN_OR_RETURN(auto ka, crypto::KeyAgreement::named(key_agreement_for(key.curve())));
      M2MSEC_ASSIGN_OR_RETURN(auto ephemeral, ka.generate());
      M2MSEC_ASSIGN_OR_RETURN(SecretBytes z, crypto::derive_shared_secret(ka, ephemeral, *key.public_key()));
      M2MSEC_ASSIGN_OR_RETURN(SecretBytes kek, concat_kdf(z.view(), alg.name, {}, {}, alg.kek_size));
      M2MSEC_ASSIGN_OR_RETURN(Bytes epk_point, ephemeral.public_raw());
      header.set("epk", internal::ec_public_jwk(key.curve(), epk_point));
      M2MSEC_ASSIGN_OR_RETURN(auto kw, crypto::KeyWrap::named(alg.key_wrap));
      return kw.wrap(kek.view(), cek.view());
    }
  }
  return Error::internal("JWE: unknown key management mode");
}

// The CEK for one recipient with one key, or an error that names no detail.
Result<SecretBytes> unwrap_with(const JweAlgorithm& alg, const JweEncryption& enc, const Jwk& key,
                                const json::Object& merged, const Bytes& encrypted_key) {
  switch (alg.mode) {
    case KeyManagement::kDirect:
      if (!encrypted_key.empty()) return malformed("\"dir\" with an encrypted key");
      return key.symmetric_key()->clone();
    case KeyManagement::kAesKeyWrap: {
      M2MSEC_ASSIGN_OR_RETURN(auto kw, crypto::KeyWrap::named(alg.key_wrap));
      auto cek = kw.unwrap(key.symmetric_key()->view(), encrypted_key);
      if (!cek) return no_key();
      return std::move(*cek);
    }
    case KeyManagement::kRsaOaep: {
      // RFC 7516 clause 11.5: on failure go on with a random CEK, so that the failure shows only as the
      // tag mismatch every other wrong key produces.
      auto cek = crypto::rsa_oaep_sha256_decrypt(*key.private_key(), encrypted_key);
      if (cek && cek->size() == enc.key_size) return std::move(*cek);
      return crypto::random_secret(crypto::system_rng(), enc.key_size);
    }
    case KeyManagement::kEcdhEsKeyWrap: {
      const json::Value* epk_value = merged.find("epk");
      if (epk_value == nullptr) return malformed("ECDH-ES without \"epk\"");
      M2MSEC_ASSIGN_OR_RETURN(Jwk epk, Jwk::from_json(*epk_value));
      if (epk.type() != KeyType::kEc || epk.private_key() != nullptr) return malformed("\"epk\" is not an EC public key");
      if (epk.curve() != key.curve()) return no_key();
      M2MSEC_ASSIGN_OR_RETURN(auto apu, internal::optional_b64(merged, "apu"));
      M2MSEC_ASSIGN_OR_RETURN(auto apv, internal::optional_b64(merged, "apv"));
      M2MSEC_ASSIGN_OR_RETURN(auto ka, crypto::KeyAgreement::named(key_agreement_for(key.curve())));
      auto z = crypto::derive_shared_secret(ka, *key.private_key(), *epk.public_key());
      if (!z) return no_key();
      M2MSEC_ASSIGN_OR_RETURN(SecretBytes kek, concat_kdf(z->view(), alg.name, apu.value_or(Bytes()),
                                                          apv.value_or(Bytes()), alg.kek_size));
      M2MSEC_ASSIGN_OR_RETURN(auto kw, crypto::KeyWrap::named(alg.key_wrap));
      auto cek = kw.unwrap(kek.view(), encrypted_key);
      if (!cek) return no_key();
      return std::move(*cek);
    }
  }
  return Error::internal("JWE: unknown key management mode");
}

json::Object merged_header(std::initializer_list<const json::Object*> headers) {
  json::Object out;
  for (const json::Object* h : headers)
    for (const auto& [name, value] : *h) out.set(name, value);
  return out;
}

}  // namespace

Result<SecretBytes> concat_kdf(ByteView z, std::string_view algorithm_id, ByteView apu, ByteView apv,
                               std::size_t key_size) {
  ByteWriter other;
  auto with_length = [&](ByteView v) {
    other.write_u32(static_cast<std::uint32_t>(v.size()));
    other.write_bytes(v);
  };
  with_length(text_bytes(algorithm_id));
  with_length(apu);
  with_length(apv);
  other.write_u32(static_cast<std::uint32_t>(key_size * 8));
  const Bytes info = std::move(other).take();
  const crypto::Hash sha256 = crypto::Hash::sha256();
  SecretBytes out(key_size);
  std::size_t done = 0;
  for (std::uint32_t counter = 1; done < key_size; ++counter) {
    ByteWriter round;
    round.write_u32(counter);
    round.write_bytes(z);
    round.write_bytes(info);
    M2MSEC_ASSIGN_OR_RETURN(Bytes block, sha256.digest(round.bytes()));
    const std::size_t n = std::min(block.size(), key_size - done);
    std::copy_n(block.begin(), n, out.data() + done);
    std::fill(block.begin(), block.end(), std::uint8_t{0});
    done += n;
  }
  return out;
}

Result<Jwe> encrypt(ByteView plaintext, std::span<const Recipient> recipients, const EncryptOptions& options) {
  const JweEncryption* enc = find_jwe_encryption(options.enc);
  if (enc == nullptr) return Error::unsupported("JWE: content encryption '" + options.enc + "' is not permitted");
  if (recipients.empty()) return Error::usage("JWE: no recipient");
  const bool single = recipients.size() == 1;

  struct Planned {
    const JweAlgorithm* alg;
    const Jwk* key;
    json::Object header;
  };
  std::vector<Planned> planned;
  for (const Recipient& r : recipients) {
    if (r.key == nullptr && (options.direct_key == nullptr || (!r.alg.empty() && r.alg != "dir")))
      return Error::usage("JWE: recipient without a key");
    const std::string alg_name = !r.alg.empty() ? r.alg : r.key != nullptr ? r.key->alg() : "dir";
    const JweAlgorithm* alg = find_jwe_algorithm(alg_name);
    if (alg == nullptr) return Error::unsupported("JWE: key management '" + alg_name + "' is not permitted");
    if (alg->mode == KeyManagement::kDirect && !single)
      return Error::usage("JWE: \"dir\" takes exactly one recipient (TS-0003 8.5.2.2)");
    if (r.key != nullptr && !r.key->usable_for(alg_name, "encrypt"))
      return Error::usage("JWE: the key cannot be used with " + alg_name);
    json::Object header{{"alg", json::Value(alg_name)}};
    if (r.key != nullptr && !r.key->kid().empty()) header.set("kid", r.key->kid());
    for (const auto& [name, value] : r.header) header.set(name, value);
    planned.push_back({alg, r.key, std::move(header)});
  }

  SecretBytes cek;
  if (planned.front().alg->mode == KeyManagement::kDirect) {
    const SecretBytes* k = options.direct_key != nullptr ? options.direct_key : planned.front().key->symmetric_key();
    if (k->size() != enc->key_size) return Error::usage("JWE: the \"dir\" key does not have the size of " + options.enc);
    cek = k->clone();
  } else {
    M2MSEC_ASSIGN_OR_RETURN(cek, crypto::random_secret(crypto::system_rng(), enc->key_size));
  }

  Jwe jwe;
  jwe.m_shared = options.header;
  jwe.m_aad = options.aad;
  for (Planned& p : planned) {
    Jwe::RecipientEntry entry;
    M2MSEC_ASSIGN_OR_RETURN(entry.encrypted_key, wrap_for(*p.alg, p.key, cek, p.header));
    entry.header = std::move(p.header);
    jwe.m_recipients.push_back(std::move(entry));
  }
  // With one recipient everything it needs is integrity protected; with several, "enc" and the caller's
  // members are, and each recipient's own members stay in its header.
  if (single) {
    json::Object& h = jwe.m_recipients.front().header;
    jwe.m_protected.set("alg", *h.find("alg"));
    jwe.m_protected.set("enc", options.enc);
    for (const auto& [name, value] : h)
      if (name != "alg") jwe.m_protected.set(name, value);
    h = json::Object();
  } else {
    jwe.m_protected.set("enc", options.enc);
  }
  for (const auto& [name, value] : options.protected_header) {
    if (jwe.m_protected.contains(name)) return Error::usage("JWE: header member \"" + name + "\" set twice");
    jwe.m_protected.set(name, value);
  }
  for (const auto& r : jwe.m_recipients) M2MSEC_TRY(internal::check_disjoint({&jwe.m_protected, &jwe.m_shared, &r.header}));
  jwe.m_protected_b64 = internal::encode_header(jwe.m_protected);

  M2MSEC_ASSIGN_OR_RETURN(jwe.m_iv, crypto::random_bytes(crypto::system_rng(), kIvSize));
  M2MSEC_ASSIGN_OR_RETURN(auto aead, crypto::Aead::named(enc->aead));
  M2MSEC_ASSIGN_OR_RETURN(auto key, crypto::AeadKey::create(aead, cek.view(), crypto::AeadUse::kSealOnly));
  M2MSEC_ASSIGN_OR_RETURN(Bytes sealed, key.seal(jwe.m_iv, text_bytes(additional_data(jwe.m_protected_b64, jwe.m_aad)), plaintext));
  jwe.m_tag.assign(sealed.end() - kTagSize, sealed.end());
  sealed.resize(sealed.size() - kTagSize);
  jwe.m_ciphertext = std::move(sealed);
  return jwe;
}

Result<Jwe> Jwe::parse(std::string_view text) {
  M2MSEC_TRY(internal::check_size(text));
  Jwe jwe;
  if (text.front() != '{') {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
      const std::size_t dot = text.find('.', start);
      parts.push_back(text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    if (parts.size() == 3) return malformed("this is a JWS, not a JWE");
    if (parts.size() != 5) return malformed("a JWE compact serialization has five parts");
    if (parts[0].empty()) return malformed("empty protected header");
    jwe.m_protected_b64 = std::string(parts[0]);
    RecipientEntry entry;
    auto ek = base64url_decode(parts[1]);
    auto iv = base64url_decode(parts[2]);
    auto ct = base64url_decode(parts[3]);
    auto tag = base64url_decode(parts[4]);
    if (!ek || !iv || !ct || !tag) return malformed("a JWE part is not base64url");
    entry.encrypted_key = std::move(*ek);
    jwe.m_recipients.push_back(std::move(entry));
    jwe.m_iv = std::move(*iv);
    jwe.m_ciphertext = std::move(*ct);
    jwe.m_tag = std::move(*tag);
  } else {
    M2MSEC_ASSIGN_OR_RETURN(json::Value v, json::parse(text));
    M2MSEC_ASSIGN_OR_RETURN(const json::Object* o, internal::as_object(v, "JWE"));
    M2MSEC_ASSIGN_OR_RETURN(auto protected_b64, internal::optional_string(*o, "protected"));
    jwe.m_protected_b64 = protected_b64.value_or("");
    if (const json::Value* shared = o->find("unprotected")) {
      M2MSEC_ASSIGN_OR_RETURN(const json::Object* s, internal::as_object(*shared, "JWE \"unprotected\""));
      jwe.m_shared = *s;
    }
    auto entry_from = [](const json::Object& e) -> Result<RecipientEntry> {
      RecipientEntry entry;
      if (const json::Value* h = e.find("header")) {
        M2MSEC_ASSIGN_OR_RETURN(const json::Object* header, internal::as_object(*h, "JWE \"header\""));
        entry.header = *header;
      }
      M2MSEC_ASSIGN_OR_RETURN(auto ek, internal::optional_b64(e, "encrypted_key"));
      entry.encrypted_key = ek.value_or(Bytes());
      return entry;
    };
    if (const json::Value* list = o->find("recipients")) {
      if (o->contains("header") || o->contains("encrypted_key")) return malformed("general JWE with flattened members");
      if (list->array() == nullptr || list->array()->empty()) return malformed("\"recipients\" is not a non-empty array");
      for (const json::Value& item : *list->array()) {
        M2MSEC_ASSIGN_OR_RETURN(const json::Object* e, internal::as_object(item, "JWE recipient"));
        M2MSEC_ASSIGN_OR_RETURN(RecipientEntry entry, entry_from(*e));
        jwe.m_recipients.push_back(std::move(entry));
      }
    } else {
      M2MSEC_ASSIGN_OR_RETURN(RecipientEntry entry, entry_from(*o));
      jwe.m_recipients.push_back(std::move(entry));
    }
    M2MSEC_ASSIGN_OR_RETURN(auto aad, internal::optional_b64(*o, "aad"));
    jwe.m_aad = aad.value_or(Bytes());
    M2MSEC_ASSIGN_OR_RETURN(jwe.m_iv, internal::required_b64(*o, "iv"));
    M2MSEC_ASSIGN_OR_RETURN(jwe.m_ciphertext, internal::required_b64(*o, "ciphertext"));
    M2MSEC_ASSIGN_OR_RETURN(jwe.m_tag, internal::required_b64(*o, "tag"));
  }
  if (!jwe.m_protected_b64.empty()) {
    M2MSEC_ASSIGN_OR_RETURN(jwe.m_protected, internal::decode_header(jwe.m_protected_b64));
  }
  if (jwe.m_iv.size() != kIvSize) return malformed("the IV is not 96 bits");
  if (jwe.m_tag.size() != kTagSize) return malformed("the tag is not 128 bits");
  return jwe;
}

Result<std::string> Jwe::serialize(Serialization form) const {
  if (form != Serialization::kGeneral && m_recipients.size() != 1)
    return Error::usage("JWE: the compact and flattened serializations carry exactly one recipient");
  if (form == Serialization::kCompact) {
    if (!m_shared.empty() || !m_recipients.front().header.empty() || !m_aad.empty())
      return Error::usage("JWE: the compact serialization has no unprotected header and no AAD");
    if (m_protected_b64.empty()) return Error::usage("JWE: the compact serialization needs a protected header");
    return internal::dotted({m_protected_b64, base64url_encode(m_recipients.front().encrypted_key),
                             base64url_encode(m_iv), base64url_encode(m_ciphertext), base64url_encode(m_tag)});
  }
  auto entry_json = [](json::Object& o, const RecipientEntry& r) {
    if (!r.header.empty()) o.set("header", r.header);
    if (!r.encrypted_key.empty()) o.set("encrypted_key", base64url_encode(r.encrypted_key));
  };
  json::Object o;
  if (!m_protected_b64.empty()) o.set("protected", m_protected_b64);
  if (!m_shared.empty()) o.set("unprotected", m_shared);
  if (form == Serialization::kFlattened) {
    entry_json(o, m_recipients.front());
  } else {
    json::Array list;
    for (const RecipientEntry& r : m_recipients) {
      json::Object e;
      entry_json(e, r);
      list.emplace_back(std::move(e));
    }
    o.set("recipients", std::move(list));
  }
  if (!m_aad.empty()) o.set("aad", base64url_encode(m_aad));
  o.set("iv", base64url_encode(m_iv));
  o.set("ciphertext", base64url_encode(m_ciphertext));
  o.set("tag", base64url_encode(m_tag));
  return json::serialize(json::Value(std::move(o)));
}

// Decryption, one recipient and one key at a time.
class Decryptor {
 public:
  Decryptor(const Jwe& jwe, const AlgorithmPolicy& policy) : m_jwe(jwe), m_policy(policy) {}

  Result<DecryptedJwe> run(std::span<const Jwk> keys, const SecretBytes* direct_key) {
    std::vector<const json::Object*> unprotected{&m_jwe.m_shared};
    for (const auto& r : m_jwe.m_recipients) {
      if (r.header.contains("enc")) return malformed("\"enc\" in a recipient's header");
      unprotected.push_back(&r.header);
    }
    for (const json::Object* h : unprotected) M2MSEC_TRY(internal::check_crit_and_zip(m_jwe.m_protected, {h}, m_policy));
    M2MSEC_ASSIGN_OR_RETURN(auto enc_name, internal::header_string({&m_jwe.m_protected, &m_jwe.m_shared}, "enc"));
    if (!enc_name) return malformed("\"enc\" is missing");
    const JweEncryption* enc = find_jwe_encryption(*enc_name);
    if (enc == nullptr) return Error::unsupported("JOSE: content encryption '" + *enc_name + "' is not permitted");

    Result<DecryptedJwe> last = no_key();
    for (std::size_t i = 0; i < m_jwe.m_recipients.size(); ++i) {
      const Jwe::RecipientEntry& r = m_jwe.m_recipients[i];
      M2MSEC_TRY(internal::check_disjoint({&m_jwe.m_protected, &m_jwe.m_shared, &r.header}));
      json::Object merged = merged_header({&m_jwe.m_protected, &m_jwe.m_shared, &r.header});
      M2MSEC_ASSIGN_OR_RETURN(std::string alg_name, internal::required_string(merged, "alg"));
      const JweAlgorithm* alg = find_jwe_algorithm(alg_name);
      if (alg == nullptr || !m_policy.allows_jwe(alg_name, *enc_name)) {
        if (last.error().category() == Category::kAuth)
          last = Error::unsupported("JOSE: algorithm '" + alg_name + "' with '" + *enc_name + "' is not permitted");
        continue;
      }
      M2MSEC_ASSIGN_OR_RETURN(auto kid, internal::optional_string(merged, "kid"));
      if (alg->mode == KeyManagement::kDirect && direct_key != nullptr) {
        if (!r.encrypted_key.empty()) return malformed("\"dir\" with an encrypted key");
        auto out = open(*enc, direct_key->clone(), merged, i, "");
        if (out) return out;
        last = std::move(out);
        continue;
      }
      for (const Jwk& key : keys) {
        if (kid && !key.kid().empty() && key.kid() != *kid) continue;
        if (!key.usable_for(alg_name, "decrypt")) continue;
        auto cek = unwrap_with(*alg, *enc, key, merged, r.encrypted_key);
        if (!cek) {
          if (cek.error().category() == Category::kUsage) return std::move(cek).error();
          continue;
        }
        auto out = open(*enc, std::move(*cek), merged, i, key.kid());
        if (out) return out;
        if (last.error().category() == Category::kAuth) last = std::move(out);
      }
    }
    return last;
  }

 private:
  Result<DecryptedJwe> open(const JweEncryption& enc, SecretBytes cek, json::Object merged, std::size_t index,
                            const std::string& kid) const {
    if (cek.size() != enc.key_size) return no_key();
    M2MSEC_ASSIGN_OR_RETURN(auto aead, crypto::Aead::named(enc.aead));
    M2MSEC_ASSIGN_OR_RETURN(auto key, crypto::AeadKey::create(aead, cek.view(), crypto::AeadUse::kOpenOnly));
    Bytes sealed(m_jwe.m_ciphertext.size() + m_jwe.m_tag.size());
    std::copy(m_jwe.m_ciphertext.begin(), m_jwe.m_ciphertext.end(), sealed.begin());
    std::copy(m_jwe.m_tag.begin(), m_jwe.m_tag.end(), sealed.begin() + static_cast<std::ptrdiff_t>(m_jwe.m_ciphertext.size()));
    DecryptedJwe out;
    out.plaintext = SecretBytes(m_jwe.m_ciphertext.size());
    if (!key.open(m_jwe.m_iv, text_bytes(additional_data(m_jwe.m_protected_b64, m_jwe.m_aad)), sealed,
                  out.plaintext.writable())) {
      return no_key();
    }
    out.header = std::move(merged);
    out.recipient = index;
    out.kid = kid;
    return out;
  }

  const Jwe& m_jwe;
  const AlgorithmPolicy& m_policy;
};

Result<DecryptedJwe> decrypt(const Jwe& jwe, std::span<const Jwk> keys, const AlgorithmPolicy& policy,
                             const SecretBytes* direct_key) {
  return Decryptor(jwe, policy).run(keys, direct_key);
}

}  // namespace m2msec::jose

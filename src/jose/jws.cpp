#include "m2msec/jose/jws.h"

#include <algorithm>

#include "internal.h"
#include "m2msec/core/encoding.h"
#include "m2msec/core/secret.h"
#include "m2msec/crypto/hash.h"
#include "m2msec/crypto/signature.h"

namespace m2msec::jose {
namespace {

using internal::malformed;

ByteView text_bytes(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

// RFC 7515 clause 5.1 step 5: the signing input is ASCII(BASE64URL(UTF8(header)) || '.' || BASE64URL(payload)).
// HMAC takes it in parts; a signature scheme needs it in one piece.
Result<SecretBytes> mac(const JwsAlgorithm& alg, const Jwk& key, std::string_view protected_b64,
                        std::string_view payload_b64) {
  M2MSEC_ASSIGN_OR_RETURN(auto hash, crypto::Hash::named(alg.hash));
  return crypto::hmac(hash, key.symmetric_key()->view(),
                      {text_bytes(protected_b64), text_bytes("."), text_bytes(payload_b64)});
}

Result<Bytes> compute(const JwsAlgorithm& alg, const Jwk& key, std::string_view protected_b64,
                      std::string_view payload_b64) {
  if (alg.family == JwsFamily::kHmac) {
    M2MSEC_ASSIGN_OR_RETURN(SecretBytes m, mac(alg, key, protected_b64, payload_b64));
    return Bytes(m.view().begin(), m.view().end());
  }
  M2MSEC_ASSIGN_OR_RETURN(auto scheme, crypto::SignatureScheme::named(alg.scheme));
  return crypto::sign(scheme, *key.private_key(), text_bytes(internal::dotted({protected_b64, payload_b64})),
                      crypto::SignatureEncoding::kRaw);
}

bool check(const JwsAlgorithm& alg, const Jwk& key, std::string_view protected_b64, std::string_view payload_b64,
           ByteView signature) {
  if (alg.family == JwsFamily::kHmac) {
    auto m = mac(alg, key, protected_b64, payload_b64);
    return m && ct::equal(m->view(), signature);
  }
  auto scheme = crypto::SignatureScheme::named(alg.scheme);
  return scheme && crypto::verify(*scheme, *key.public_key(), text_bytes(internal::dotted({protected_b64, payload_b64})),
                                  signature, crypto::SignatureEncoding::kRaw);
}

Result<Jws::Signature> signature_from_json(const json::Object& o) {
  Jws::Signature sig;
  M2MSEC_ASSIGN_OR_RETURN(auto protected_b64, internal::optional_string(o, "protected"));
  if (protected_b64) {
    sig.protected_b64 = std::move(*protected_b64);
    M2MSEC_ASSIGN_OR_RETURN(sig.protected_header, internal::decode_header(sig.protected_b64));
  }
  if (const json::Value* header = o.find("header")) {
    M2MSEC_ASSIGN_OR_RETURN(const json::Object* h, internal::as_object(*header, "JWS \"header\""));
    sig.header = *h;
  }
  M2MSEC_ASSIGN_OR_RETURN(sig.signature, internal::required_b64(o, "signature"));
  return sig;
}

json::Object signature_to_json(const Jws::Signature& sig) {
  json::Object o;
  if (!sig.protected_b64.empty()) o.set("protected", sig.protected_b64);
  if (!sig.header.empty()) o.set("header", sig.header);
  o.set("signature", base64url_encode(sig.signature));
  return o;
}

// Why one signature did not verify; the most specific reason over all signatures is reported.
enum class Failure { kNone, kNoKey, kPolicy, kMalformed };

}  // namespace

Result<Jws> Jws::parse(std::string_view text) {
  M2MSEC_TRY(internal::check_size(text));
  Jws jws;
  if (text.front() != '{') {
    const auto dots = std::count(text.begin(), text.end(), '.');
    if (dots == 4) return malformed("this is a JWE, not a JWS");
    if (dots != 2) return malformed("a JWS compact serialization has three parts");
    const std::size_t a = text.find('.');
    const std::size_t b = text.find('.', a + 1);
    Signature sig;
    sig.protected_b64 = std::string(text.substr(0, a));
    if (sig.protected_b64.empty()) return malformed("empty protected header");
    M2MSEC_ASSIGN_OR_RETURN(sig.protected_header, internal::decode_header(sig.protected_b64));
    jws.m_payload_b64 = std::string(text.substr(a + 1, b - a - 1));
    auto signature = base64url_decode(text.substr(b + 1));
    if (!signature || signature->empty()) return malformed("signature is not base64url");
    sig.signature = std::move(*signature);
    jws.m_signatures.push_back(std::move(sig));
  } else {
    M2MSEC_ASSIGN_OR_RETURN(json::Value v, json::parse(text));
    M2MSEC_ASSIGN_OR_RETURN(const json::Object* o, internal::as_object(v, "JWS"));
    M2MSEC_ASSIGN_OR_RETURN(jws.m_payload_b64, internal::required_string(*o, "payload"));
    if (const json::Value* list = o->find("signatures")) {
      // General (RFC 7515 clause 7.2.1); the flattened members must not appear beside it.
      if (o->contains("signature") || o->contains("protected") || o->contains("header"))
        return malformed("general JWS with flattened members");
      if (list->array() == nullptr || list->array()->empty()) return malformed("\"signatures\" is not a non-empty array");
      for (const json::Value& entry : *list->array()) {
        M2MSEC_ASSIGN_OR_RETURN(const json::Object* e, internal::as_object(entry, "JWS signature"));
        M2MSEC_ASSIGN_OR_RETURN(Signature sig, signature_from_json(*e));
        jws.m_signatures.push_back(std::move(sig));
      }
    } else {
      M2MSEC_ASSIGN_OR_RETURN(Signature sig, signature_from_json(*o));
      jws.m_signatures.push_back(std::move(sig));
    }
  }
  auto payload = base64url_decode(jws.m_payload_b64);
  if (!payload) return malformed("payload is not base64url");
  jws.m_payload = std::move(*payload);
  return jws;
}

Result<std::string> Jws::serialize(Serialization form) const {
  if (form != Serialization::kGeneral && m_signatures.size() != 1)
    return Error::usage("JWS: the compact and flattened serializations carry exactly one signature");
  switch (form) {
    case Serialization::kCompact: {
      const Signature& sig = m_signatures.front();
      if (!sig.header.empty()) return Error::usage("JWS: the compact serialization has no unprotected header");
      if (sig.protected_b64.empty()) return Error::usage("JWS: the compact serialization needs a protected header");
      return internal::dotted({sig.protected_b64, m_payload_b64, base64url_encode(sig.signature)});
    }
    case Serialization::kFlattened: {
      json::Object o{{"payload", json::Value(m_payload_b64)}};
      for (auto& member : signature_to_json(m_signatures.front())) o.set(member.first, member.second);
      return json::serialize(json::Value(std::move(o)));
    }
    case Serialization::kGeneral: {
      json::Array list;
      for (const Signature& sig : m_signatures) list.emplace_back(signature_to_json(sig));
      json::Object o{{"payload", json::Value(m_payload_b64)}, {"signatures", json::Value(std::move(list))}};
      return json::serialize(json::Value(std::move(o)));
    }
  }
  return Error::internal("JWS: unknown serialization");
}

Result<Jws> sign(ByteView payload, std::span<const Signer> signers) {
  if (signers.empty()) return Error::usage("JWS: no signer");
  Jws jws;
  jws.m_payload.assign(payload.begin(), payload.end());
  jws.m_payload_b64 = base64url_encode(payload);
  for (const Signer& signer : signers) {
    if (signer.key == nullptr) return Error::usage("JWS: signer without a key");
    const std::string alg_name = signer.alg.empty() ? signer.key->alg() : signer.alg;
    const JwsAlgorithm* alg = find_jws_algorithm(alg_name);
    if (alg == nullptr) return Error::unsupported("JWS: algorithm '" + alg_name + "' is not permitted");
    if (!signer.key->usable_for(alg_name, "sign"))
      return Error::usage("JWS: the key cannot sign with " + alg_name);
    Jws::Signature sig;
    sig.protected_header.set("alg", alg_name);
    if (!signer.key->kid().empty() && !signer.protected_header.contains("kid") && !signer.header.contains("kid"))
      sig.protected_header.set("kid", signer.key->kid());
    for (const auto& [name, value] : signer.protected_header) {
      if (sig.protected_header.contains(name)) return Error::usage("JWS: header member \"" + name + "\" set twice");
      sig.protected_header.set(name, value);
    }
    sig.header = signer.header;
    M2MSEC_TRY(internal::check_disjoint({&sig.protected_header, &sig.header}));
    sig.protected_b64 = internal::encode_header(sig.protected_header);
    M2MSEC_ASSIGN_OR_RETURN(sig.signature, compute(*alg, *signer.key, sig.protected_b64, jws.m_payload_b64));
    jws.m_signatures.push_back(std::move(sig));
  }
  return jws;
}

Result<VerifiedJws> verify(const Jws& jws, std::span<const Jwk> keys, const AlgorithmPolicy& policy,
                           bool require_all) {
  VerifiedJws out;
  Failure worst = Failure::kNone;
  std::string reason;
  auto fail = [&](Failure f, std::string why) {
    if (f > worst) {
      worst = f;
      reason = std::move(why);
    }
  };
  const auto& sigs = jws.signatures();
  for (std::size_t i = 0; i < sigs.size(); ++i) {
    const Jws::Signature& sig = sigs[i];
    if (auto ok = internal::check_disjoint({&sig.protected_header, &sig.header}); !ok) {
      fail(Failure::kMalformed, ok.error().detail());
      continue;
    }
    if (auto ok = internal::check_crit_and_zip(sig.protected_header, {&sig.header}, policy); !ok) {
      fail(Failure::kMalformed, ok.error().detail());
      continue;
    }
    // "alg" must be integrity protected: an unprotected one could be swapped by anyone on the path.
    auto alg_name = internal::optional_string(sig.protected_header, "alg");
    if (!alg_name || !*alg_name) {
      fail(Failure::kMalformed, "JWS: \"alg\" is not in the protected header");
      continue;
    }
    const JwsAlgorithm* alg = find_jws_algorithm(**alg_name);
    if (alg == nullptr || !policy.allows_jws(**alg_name)) {
      fail(Failure::kPolicy, "JOSE: algorithm '" + **alg_name + "' is not permitted");
      continue;
    }
    auto kid = internal::header_string({&sig.protected_header, &sig.header}, "kid");
    if (!kid) {
      fail(Failure::kMalformed, kid.error().detail());
      continue;
    }
    bool verified = false;
    for (const Jwk& key : keys) {
      if (*kid && !key.kid().empty() && key.kid() != **kid) continue;
      if (!key.usable_for(**alg_name, "verify")) continue;
      if (check(*alg, key, sig.protected_b64, jws.payload_b64(), sig.signature)) {
        out.signatures.push_back(i);
        out.kids.push_back(key.kid());
        verified = true;
        break;
      }
    }
    if (!verified) fail(Failure::kNoKey, "JWS: no trusted key verifies the signature");
  }
  if (out.signatures.empty() || (require_all && out.signatures.size() != sigs.size())) {
    if (worst == Failure::kNoKey) return Error(Category::kAuth, reason);
    if (worst == Failure::kPolicy) return Error::unsupported(reason);
    return Error::usage(reason);
  }
  out.payload = jws.payload();
  return out;
}

}  // namespace m2msec::jose

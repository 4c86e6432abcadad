#include "m2msec/jose/jwk.h"

#include <algorithm>
#include <array>

#include "internal.h"
#include "m2msec/core/encoding.h"
#include "m2msec/crypto/hash.h"
#include "m2msec/crypto/key_info.h"
#include "m2msec/crypto/random.h"
#include "m2msec/crypto/rsa.h"

namespace m2msec::jose {
namespace {

using internal::malformed;

struct Curve {
  std::string_view crv;        // JWK name (RFC 7518 clause 6.2.1.1)
  std::string_view group;      // OpenSSL group name
  std::string_view scheme;     // crypto::SignatureScheme that builds keys on it
  std::size_t field_size;      // octets of x, y and d
};
constexpr std::array<Curve, 3> kCurves{{
    {"P-256", "prime256v1", "ecdsa-p256-sha256", 32},
    {"P-384", "secp384r1", "ecdsa-p384-sha384", 48},
    {"P-521", "secp521r1", "ecdsa-p521-sha512", 66},
}};

const Curve* curve_by(std::string_view Curve::*field, std::string_view value) {
  auto it = std::find_if(kCurves.begin(), kCurves.end(), [&](const Curve& c) { return c.*field == value; });
  return it == kCurves.end() ? nullptr : &*it;
}

std::string b64(ByteView bytes) { return base64url_encode(bytes); }

Result<SecretBytes> required_secret_b64(const json::Object& o, std::string_view name) {
  M2MSEC_ASSIGN_OR_RETURN(Bytes raw, internal::required_b64(o, name));
  SecretBytes out = SecretBytes::copy_of(raw);
  std::fill(raw.begin(), raw.end(), std::uint8_t{0});
  return out;
}

bool contains(const std::vector<std::string>& list, std::initializer_list<std::string_view> any) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& s) {
    return std::find(any.begin(), any.end(), s) != any.end();
  });
}

}  // namespace

Result<Jwk> Jwk::from_json(const json::Value& value) {
  M2MSEC_ASSIGN_OR_RETURN(const json::Object* o, internal::as_object(value, "JWK"));
  Jwk jwk;
  M2MSEC_ASSIGN_OR_RETURN(std::string kty, internal::required_string(*o, "kty"));
  M2MSEC_ASSIGN_OR_RETURN(auto kid, internal::optional_string(*o, "kid"));
  M2MSEC_ASSIGN_OR_RETURN(auto alg, internal::optional_string(*o, "alg"));
  M2MSEC_ASSIGN_OR_RETURN(auto use, internal::optional_string(*o, "use"));
  jwk.m_kid = kid.value_or("");
  jwk.m_alg = alg.value_or("");
  jwk.m_use = use.value_or("");
  if (const json::Value* ops = o->find("key_ops")) {
    if (ops->array() == nullptr) return malformed("JWK \"key_ops\" is not an array");
    for (const json::Value& op : *ops->array()) {
      if (op.string() == nullptr) return malformed("JWK \"key_ops\" holds a non-string");
      if (std::find(jwk.m_key_ops.begin(), jwk.m_key_ops.end(), *op.string()) != jwk.m_key_ops.end())
        return malformed("JWK \"key_ops\" repeats a value");
      jwk.m_key_ops.push_back(*op.string());
    }
  }

  if (kty == "oct") {
    jwk.m_type = KeyType::kOct;
    M2MSEC_ASSIGN_OR_RETURN(SecretBytes k, required_secret_b64(*o, "k"));
    if (k.empty()) return malformed("JWK \"k\" is empty");
    jwk.m_secret = std::make_shared<const SecretBytes>(std::move(k));
    return jwk;
  }
  if (kty == "EC") {
    jwk.m_type = KeyType::kEc;
    M2MSEC_ASSIGN_OR_RETURN(std::string crv, internal::required_string(*o, "crv"));
    const Curve* curve = curve_by(&Curve::crv, crv);
    if (curve == nullptr) return Error::unsupported("JWK curve '" + crv + "' is not supported");
    jwk.m_curve = crv;
    M2MSEC_ASSIGN_OR_RETURN(Bytes x, internal::required_b64(*o, "x"));
    M2MSEC_ASSIGN_OR_RETURN(Bytes y, internal::required_b64(*o, "y"));
    if (x.size() != curve->field_size || y.size() != curve->field_size)
      return malformed("JWK EC coordinates have the wrong length");  // RFC 7518 clause 6.2.1.2
    Bytes point(1 + 2 * curve->field_size);
    point[0] = 0x04;
    std::copy(x.begin(), x.end(), point.begin() + 1);
    std::copy(y.begin(), y.end(), point.begin() + 1 + static_cast<std::ptrdiff_t>(curve->field_size));
    M2MSEC_ASSIGN_OR_RETURN(auto scheme, crypto::SignatureScheme::named(curve->scheme));
    auto pub = scheme.public_key_from_raw(point);
    if (!pub) return malformed("JWK EC point is not on the curve");
    jwk.m_public = std::move(*pub);
    if (o->contains("d")) {
      M2MSEC_ASSIGN_OR_RETURN(SecretBytes d, required_secret_b64(*o, "d"));
      if (d.size() != curve->field_size) return malformed("JWK EC \"d\" has the wrong length");
      auto priv = scheme.private_key_from_raw(d.view());
      if (!priv) return malformed("JWK EC \"d\" is not a valid private key");
      M2MSEC_ASSIGN_OR_RETURN(auto derived, priv->public_key());
      M2MSEC_ASSIGN_OR_RETURN(Bytes derived_point, derived.raw());
      if (derived_point != point) return malformed("JWK EC \"d\" does not match \"x\" and \"y\"");
      jwk.m_private = std::make_shared<const crypto::PrivateKey>(std::move(*priv));
    }
    return jwk;
  }
  if (kty == "RSA") {
    jwk.m_type = KeyType::kRsa;
    if (o->contains("oth")) return Error::unsupported("JWK RSA keys with more than two primes are not supported");
    crypto::RsaPublicComponents pub_parts;
    M2MSEC_ASSIGN_OR_RETURN(pub_parts.n, internal::required_b64(*o, "n"));
    M2MSEC_ASSIGN_OR_RETURN(pub_parts.e, internal::required_b64(*o, "e"));
    if (!o->contains("d")) {
      auto pub = crypto::rsa_public_key(pub_parts);
      if (!pub) return malformed("JWK RSA public key refused: " + pub.error().detail());
      jwk.m_public = std::move(*pub);
      return jwk;
    }
    crypto::RsaPrivateComponents parts;
    parts.n = pub_parts.n;
    parts.e = pub_parts.e;
    M2MSEC_ASSIGN_OR_RETURN(parts.d, required_secret_b64(*o, "d"));
    M2MSEC_ASSIGN_OR_RETURN(parts.p, required_secret_b64(*o, "p"));
    M2MSEC_ASSIGN_OR_RETURN(parts.q, required_secret_b64(*o, "q"));
    M2MSEC_ASSIGN_OR_RETURN(parts.dp, required_secret_b64(*o, "dp"));
    M2MSEC_ASSIGN_OR_RETURN(parts.dq, required_secret_b64(*o, "dq"));
    M2MSEC_ASSIGN_OR_RETURN(parts.qi, required_secret_b64(*o, "qi"));
    auto priv = crypto::rsa_private_key(parts);
    if (!priv) return malformed("JWK RSA private key refused: " + priv.error().detail());
    M2MSEC_ASSIGN_OR_RETURN(auto pub, priv->public_key());
    jwk.m_public = std::move(pub);
    jwk.m_private = std::make_shared<const crypto::PrivateKey>(std::move(*priv));
    return jwk;
  }
  return Error::unsupported("JWK key type '" + kty + "' is not supported");
}

Result<Jwk> Jwk::parse(std::string_view text) {
  M2MSEC_ASSIGN_OR_RETURN(json::Value v, json::parse(text));
  return from_json(v);
}

Jwk Jwk::symmetric(SecretBytes key, std::string kid) {
  Jwk jwk;
  jwk.m_type = KeyType::kOct;
  jwk.m_secret = std::make_shared<const SecretBytes>(std::move(key));
  jwk.m_kid = std::move(kid);
  return jwk;
}

Result<Jwk> Jwk::from_public_key(crypto::PublicKey key, std::string kid) {
  Jwk jwk;
  jwk.m_kid = std::move(kid);
  switch (crypto::key_type(key)) {
    case crypto::KeyType::kRsa:
      jwk.m_type = KeyType::kRsa;
      M2MSEC_TRY(crypto::rsa_public_components(key));
      break;
    case crypto::KeyType::kEc: {
      jwk.m_type = KeyType::kEc;
      M2MSEC_ASSIGN_OR_RETURN(std::string group, crypto::ec_group_name(key));
      const Curve* curve = curve_by(&Curve::group, group);
      if (curve == nullptr) return Error::unsupported("JWK: curve " + group + " has no JOSE name");
      jwk.m_curve = std::string(curve->crv);
      break;
    }
    default: return Error::unsupported("JWK: only EC and RSA public keys are supported");
  }
  jwk.m_public = std::move(key);
  return jwk;
}

Result<Jwk> Jwk::from_private_key(crypto::PrivateKey key, std::string kid) {
  M2MSEC_ASSIGN_OR_RETURN(auto pub, key.public_key());
  M2MSEC_ASSIGN_OR_RETURN(Jwk jwk, from_public_key(std::move(pub), std::move(kid)));
  jwk.m_private = std::make_shared<const crypto::PrivateKey>(std::move(key));
  return jwk;
}

Result<Jwk> Jwk::generate(std::string_view alg, std::string_view enc) {
  Result<Jwk> made = Error::unsupported(concat({"JWK: no key type for algorithm '", alg, "'"}));
  auto oct = [](std::size_t size) -> Result<Jwk> {
    M2MSEC_ASSIGN_OR_RETURN(SecretBytes k, crypto::random_secret(crypto::system_rng(), size));
    return Jwk::symmetric(std::move(k));
  };
  auto asymmetric = [](std::string_view scheme_name) -> Result<Jwk> {
    M2MSEC_ASSIGN_OR_RETURN(auto scheme, crypto::SignatureScheme::named(scheme_name));
    M2MSEC_ASSIGN_OR_RETURN(auto key, scheme.generate());
    return Jwk::from_private_key(std::move(key));
  };
  if (const JwsAlgorithm* a = find_jws_algorithm(alg)) {
    if (a->family == JwsFamily::kHmac) {
      M2MSEC_ASSIGN_OR_RETURN(auto hash, crypto::Hash::named(a->hash));
      made = oct(hash.size());
    } else {
      made = asymmetric(a->scheme);
    }
  } else if (const JweAlgorithm* m = find_jwe_algorithm(alg)) {
    switch (m->mode) {
      case KeyManagement::kDirect: {
        const JweEncryption* e = find_jwe_encryption(enc);
        if (e == nullptr) return Error::usage("JWK: \"dir\" needs a permitted \"enc\" to size the key");
        made = oct(e->key_size);
        break;
      }
      case KeyManagement::kAesKeyWrap: made = oct(m->kek_size); break;
      case KeyManagement::kRsaOaep: made = asymmetric("rsa-pkcs1-sha256"); break;
      case KeyManagement::kEcdhEsKeyWrap: made = asymmetric("ecdsa-p256-sha256"); break;
    }
  }
  if (!made) return made;
  made->m_alg = std::string(alg);
  M2MSEC_ASSIGN_OR_RETURN(made->m_kid, made->thumbprint());
  return made;
}

bool Jwk::has_secret() const { return m_type == KeyType::kOct || m_private != nullptr; }

Result<Jwk> Jwk::public_only() const {
  if (m_type == KeyType::kOct) return Error::usage("JWK: a symmetric key has no public form");
  Jwk out = *this;
  out.m_private.reset();
  return out;
}

Result<json::Value> Jwk::to_json(bool with_private) const {
  json::Object o;
  switch (m_type) {
    case KeyType::kOct: o.set("kty", "oct"); break;
    case KeyType::kEc: o.set("kty", "EC"); break;
    case KeyType::kRsa: o.set("kty", "RSA"); break;
  }
  if (!m_kid.empty()) o.set("kid", m_kid);
  if (!m_use.empty()) o.set("use", m_use);
  if (!m_alg.empty()) o.set("alg", m_alg);
  if (!m_key_ops.empty()) {
    json::Array ops;
    for (const auto& op : m_key_ops) ops.emplace_back(op);
    o.set("key_ops", std::move(ops));
  }
  if (m_type == KeyType::kOct) {
    if (!with_private) return Error::usage("JWK: a symmetric key has no public form");
    o.set("k", b64(m_secret->view()));
    return json::Value(std::move(o));
  }
  if (m_type == KeyType::kEc) {
    M2MSEC_ASSIGN_OR_RETURN(Bytes point, m_public->raw());
    for (auto& member : internal::ec_public_jwk(m_curve, point)) o.set(member.first, member.second);
    if (with_private && m_private) {
      M2MSEC_ASSIGN_OR_RETURN(SecretBytes d, crypto::ec_private_scalar(*m_private));
      o.set("d", b64(d.view()));
    }
    return json::Value(std::move(o));
  }
  if (with_private && m_private) {
    M2MSEC_ASSIGN_OR_RETURN(auto parts, crypto::rsa_private_components(*m_private));
    o.set("n", b64(parts.n));
    o.set("e", b64(parts.e));
    o.set("d", b64(parts.d.view()));
    o.set("p", b64(parts.p.view()));
    o.set("q", b64(parts.q.view()));
    o.set("dp", b64(parts.dp.view()));
    o.set("dq", b64(parts.dq.view()));
    o.set("qi", b64(parts.qi.view()));
  } else {
    M2MSEC_ASSIGN_OR_RETURN(auto parts, crypto::rsa_public_components(*m_public));
    o.set("n", b64(parts.n));
    o.set("e", b64(parts.e));
  }
  return json::Value(std::move(o));
}

// RFC 7638 clause 3: the required members only, in lexicographic order, no whitespace, SHA-256.
Result<std::string> Jwk::thumbprint() const {
  json::Object o;
  if (m_type == KeyType::kOct) {
    o.set("k", b64(m_secret->view()));
    o.set("kty", "oct");
  } else {
    M2MSEC_ASSIGN_OR_RETURN(json::Value full, to_json(false));
    const json::Object& f = *full.object();
    if (m_type == KeyType::kEc) {
      for (std::string_view name : {"crv", "kty", "x", "y"}) o.set(std::string(name), *f.find(name));
    } else {
      for (std::string_view name : {"e", "kty", "n"}) o.set(std::string(name), *f.find(name));
    }
  }
  const std::string text = json::serialize(json::Value(std::move(o)));
  M2MSEC_ASSIGN_OR_RETURN(Bytes digest, crypto::Hash::sha256().digest(
                                            ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())));
  return b64(digest);
}

bool Jwk::usable_for(std::string_view alg, std::string_view op) const {
  if (!m_alg.empty() && m_alg != alg) return false;
  const bool signing = op == "sign" || op == "verify";
  if (!m_use.empty() && m_use != (signing ? "sig" : "enc")) return false;
  if (!m_key_ops.empty()) {
    const bool allowed =
        op == "sign"      ? contains(m_key_ops, {"sign"})
        : op == "verify"  ? contains(m_key_ops, {"verify"})
        : op == "encrypt" ? contains(m_key_ops, {"encrypt", "wrapKey", "deriveKey", "deriveBits"})
                          : contains(m_key_ops, {"decrypt", "unwrapKey", "deriveKey", "deriveBits"});
    if (!allowed) return false;
  }
  const bool needs_private = op == "sign" || op == "decrypt";
  if (needs_private && !has_secret()) return false;

  if (const JwsAlgorithm* a = find_jws_algorithm(alg)) {
    if (!signing) return false;
    switch (a->family) {
      case JwsFamily::kHmac: {
        // RFC 7518 clause 3.2: the key is at least as long as the hash output.
        auto hash = crypto::Hash::named(a->hash);
        return m_type == KeyType::kOct && hash && m_secret->size() >= hash->size();
      }
      case JwsFamily::kRsa: return m_type == KeyType::kRsa;
      case JwsFamily::kEcdsa: return m_type == KeyType::kEc && m_curve == a->curve;
    }
    return false;
  }
  if (const JweAlgorithm* a = find_jwe_algorithm(alg)) {
    if (signing) return false;
    switch (a->mode) {
      case KeyManagement::kDirect: return m_type == KeyType::kOct;
      case KeyManagement::kAesKeyWrap: return m_type == KeyType::kOct && m_secret->size() == a->kek_size;
      case KeyManagement::kRsaOaep: return m_type == KeyType::kRsa;
      case KeyManagement::kEcdhEsKeyWrap: return m_type == KeyType::kEc;
    }
  }
  return false;
}

std::string Jwk::default_signature_alg() const {
  if (!m_alg.empty()) return m_alg;
  switch (m_type) {
    case KeyType::kOct: return "HS256";
    case KeyType::kRsa: return "RS256";
    case KeyType::kEc: return m_curve == "P-256" ? "ES256" : m_curve == "P-384" ? "ES384" : "ES512";
  }
  return {};
}

std::string Jwk::default_key_management_alg() const {
  if (!m_alg.empty()) return m_alg;
  switch (m_type) {
    case KeyType::kOct: {
      const std::size_t n = m_secret->size();
      return n == 16 ? "A128KW" : n == 24 ? "A192KW" : n == 32 ? "A256KW" : "";
    }
    case KeyType::kRsa: return "RSA-OAEP-256";
    case KeyType::kEc: return "ECDH-ES+A256KW";
  }
  return {};
}

Result<JwkSet> JwkSet::parse(std::string_view text) {
  M2MSEC_ASSIGN_OR_RETURN(json::Value v, json::parse(text));
  M2MSEC_ASSIGN_OR_RETURN(const json::Object* o, internal::as_object(v, "JWK or JWK Set"));
  JwkSet set;
  const json::Value* keys = o->find("keys");
  if (keys == nullptr) {
    M2MSEC_ASSIGN_OR_RETURN(Jwk one, Jwk::from_json(v));
    set.keys.push_back(std::move(one));
    return set;
  }
  if (keys->array() == nullptr) return malformed("JWK Set \"keys\" is not an array");
  // RFC 7517 clause 5: keys of unsupported types are ignored; malformed supported keys are errors.
  for (const json::Value& k : *keys->array()) {
    auto jwk = Jwk::from_json(k);
    if (jwk) {
      set.keys.push_back(std::move(*jwk));
    } else if (jwk.error().category() != Category::kUnsupported) {
      return std::move(jwk).error();
    }
  }
  if (set.keys.empty()) return malformed("JWK Set holds no usable key");
  return set;
}

}  // namespace m2msec::jose

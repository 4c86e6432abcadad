// JOSE objects per second: JWE (dir+A128GCM, A128KW+A128GCM, ECDH-ES+A128KW with A128GCM) and JWS (HS256,
// ES256) at 1 KiB and 64 KiB of payload, produced (encrypt or sign, then the compact serialization) and
// consumed (parse of the compact text, then decrypt or verify), three ways in the same run:
//
//   ours  m2msec::jose: full object text in and out, keys made once.
//   peer  an independent JOSE library through a small harness, doing the same with the same keys:
//         cjose 0.6.2 (Debian libcjose-dev) for dir, A128KW, HS256 and ES256. cjose 0.6 has only direct
//         ECDH-ES, not ECDH-ES+A*KW, so ECDH-ES+A128KW uses latchset José 11 (Debian libjose-dev, the
//         library of the jose CLI), producing the compact form as `jose jwe enc -c` does. The benchmark's
//         label names the peer (scripts/bench shows it in its table).
//   raw   the minimal OpenSSL EVP work of the same operation without any JOSE framing (no JSON, no
//         base64url; the AAD of the JWE cases is a protected header of ours): dir is one AES-128-GCM
//         seal/open of the payload with a random IV and a key schedule made once; A128KW adds a random
//         CEK wrapped/unwrapped with AES-KW; ECDH-ES+A128KW adds a fresh ephemeral P-256 key (produce),
//         the decoding of its public point (consume), ECDH and the one SHA-256 of the Concat KDF; HS256 is
//         HMAC-SHA-256 of the payload with a keyed context; ES256 is SHA-256 of the payload and an ECDSA
//         P-256 signature (DER) / its verification.
//
// Before measuring, every benchmark checks (once per case and size): each implementation consumes its
// own object; the peer consumes ours and we consume the peer's; the raw code opens/verifies our object
// (with the same functions it is timed with); all three refuse a tampered object. A failed check is
// reported with SkipWithError. No timing is asserted.
//
// Names: "jose/<case>/<size>/<op>/ours|peer|raw", op "produce" or "consume".
#include <benchmark/benchmark.h>
#include <cjose/cjose.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
extern "C" {  // José's headers have no C++ guard
#include <jose/jwe.h>
}

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/encoding.h"
#include "m2msec/jose/jwe.h"
#include "m2msec/jose/jwk.h"
#include "m2msec/jose/jws.h"
#include "m2msec/json/json.h"

namespace {

namespace jose = m2msec::jose;
namespace json = m2msec::json;
using m2msec::Bytes;
using m2msec::ByteView;

enum class Peer { kCjose, kLibjose };
struct Case {
  const char* name;
  bool jwe;
  const char* alg;
  Peer peer;
};
constexpr Case kCases[] = {
    {"dir+A128GCM", true, "dir", Peer::kCjose},
    {"A128KW+A128GCM", true, "A128KW", Peer::kCjose},
    {"ECDH-ES+A128KW", true, "ECDH-ES+A128KW", Peer::kLibjose},
    {"HS256", false, "HS256", Peer::kCjose},
    {"ES256", false, "ES256", Peer::kCjose},
};
constexpr std::array<std::size_t, 2> kSizes{1024, 65536};
constexpr const char* kEnc = "A128GCM";
constexpr std::size_t kIvSize = 12, kTagSize = 16, kCekSize = 16, kWrappedSize = 24, kPointSize = 65;

const char* peer_name(Peer p) { return p == Peer::kCjose ? "cjose" : "libjose"; }
bool is(const Case& c, std::string_view alg) { return alg == c.alg; }

ByteView bytes_of(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

std::vector<std::string_view> split(std::string_view text) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t dot = text.find('.', start);
    parts.push_back(text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return parts;
    start = dot + 1;
  }
}

Bytes b64(std::string_view text) {
  auto decoded = m2msec::base64url_decode(text);
  return decoded ? std::move(*decoded) : Bytes();
}

// The object with one base64url character of its last part (tag or signature) changed.
std::string tampered(std::string text) {
  char& c = text[text.size() - 5];
  c = c == 'A' ? 'B' : 'A';
  return text;
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// A P-256 key from its uncompressed point and, for a private key, its scalar.
Pkey p256_key(EVP_PKEY_CTX* fromdata, ByteView point, ByteView d = {}) {
  BIGNUM* scalar = d.empty() ? nullptr : BN_bin2bn(d.data(), static_cast<int>(d.size()), nullptr);
  Bytes scalar_le(d.size());
  if (scalar != nullptr) BN_bn2nativepad(scalar, scalar_le.data(), static_cast<int>(scalar_le.size()));
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>("P-256"), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, const_cast<std::uint8_t*>(point.data()), point.size()),
      scalar == nullptr ? OSSL_PARAM_construct_end()
                        : OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PRIV_KEY, scalar_le.data(), scalar_le.size()),
      OSSL_PARAM_construct_end()};
  EVP_PKEY* key = nullptr;
  const int rc = EVP_PKEY_fromdata(fromdata, &key, scalar == nullptr ? EVP_PKEY_PUBLIC_KEY : EVP_PKEY_KEYPAIR, params);
  BN_clear_free(scalar);
  OPENSSL_cleanse(scalar_le.data(), scalar_le.size());
  return Pkey(rc == 1 ? key : nullptr);
}

// One case's key, in the form each side takes it. The JWK is made by m2msec and given to the others as JSON.
struct Keys {
  std::optional<jose::Jwk> ours_private;  // decrypts / signs
  std::optional<jose::Jwk> ours_public;   // encrypts / verifies (the same "oct" key for the symmetric cases)
  std::string kid;
  cjose_jwk_t* cjose_private = nullptr;
  cjose_jwk_t* cjose_public = nullptr;
  cjose_header_t* cjose_header = nullptr;  // {"alg", ["enc",] "kid"}: what ours puts in its protected header
  json_t* libjose_private = nullptr;
  json_t* libjose_public = nullptr;
  Bytes secret;  // "oct" keys
  Pkey ec_private, ec_public;

  Keys() = default;
  Keys(const Keys&) = delete;
  Keys& operator=(const Keys&) = delete;
  ~Keys() {
    cjose_jwk_release(cjose_private);
    cjose_jwk_release(cjose_public);
    cjose_header_release(cjose_header);
    json_decref(libjose_private);
    json_decref(libjose_public);
  }
};

std::unique_ptr<Keys> make_keys(const Case& c) {
  auto k = std::make_unique<Keys>();
  auto key = jose::Jwk::generate(c.alg, is(c, "dir") ? kEnc : "");
  if (!key) return nullptr;
  const bool symmetric = key->type() == jose::KeyType::kOct;
  auto pub = symmetric ? m2msec::Result<jose::Jwk>(*key) : key->public_only();
  auto private_json = key->to_json(true);
  if (!pub || !private_json) return nullptr;
  auto public_json = symmetric ? private_json : pub->to_json(false);
  if (!public_json) return nullptr;
  k->ours_private = std::move(*key);
  k->ours_public = std::move(*pub);
  k->kid = k->ours_private->kid();
  const std::string private_text = json::serialize(*private_json), public_text = json::serialize(*public_json);

  cjose_err err{};
  k->cjose_private = cjose_jwk_import(private_text.data(), private_text.size(), &err);
  k->cjose_public = cjose_jwk_import(public_text.data(), public_text.size(), &err);
  k->cjose_header = cjose_header_new(&err);
  bool ok = k->cjose_private != nullptr && k->cjose_public != nullptr && k->cjose_header != nullptr &&
            cjose_header_set(k->cjose_header, CJOSE_HDR_ALG, c.alg, &err) &&
            (!c.jwe || cjose_header_set(k->cjose_header, CJOSE_HDR_ENC, kEnc, &err)) &&
            cjose_header_set(k->cjose_header, CJOSE_HDR_KID, k->kid.c_str(), &err);
  k->libjose_private = json_loads(private_text.c_str(), 0, nullptr);
  k->libjose_public = json_loads(public_text.c_str(), 0, nullptr);
  ok = ok && k->libjose_private != nullptr && k->libjose_public != nullptr;

  // The raw side reads the same JWK members.
  auto member = [&](const char* name) {
    const json::Value* v = private_json->find(name);
    return v != nullptr && v->string() != nullptr ? b64(*v->string()) : Bytes();
  };
  if (symmetric) {
    k->secret = member("k");
    ok = ok && !k->secret.empty();
  } else {
    Bytes point{0x04};
    const Bytes x = member("x"), y = member("y"), d = member("d");
    point.insert(point.end(), x.begin(), x.end());
    point.insert(point.end(), y.begin(), y.end());
    EVP_PKEY_CTX* fromdata = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
    ok = ok && fromdata != nullptr && EVP_PKEY_fromdata_init(fromdata) == 1 && point.size() == kPointSize;
    if (ok) {
      k->ec_private = p256_key(fromdata, point, d);
      k->ec_public = p256_key(fromdata, point);
    }
    EVP_PKEY_CTX_free(fromdata);
    ok = ok && k->ec_private && k->ec_public;
  }
  return ok ? std::move(k) : nullptr;
}

// One implementation of a case at one size: produce or consume an object in the compact serialization.
// `out`, when given, receives the object / the plaintext or verified payload (for the checks); the timed
// loops pass nullptr.
class Impl {
 public:
  virtual ~Impl() = default;
  virtual bool produce(std::string* out) = 0;
  virtual bool consume(std::string_view text, Bytes* out) = 0;
};

class Ours final : public Impl {
 public:
  Ours(const Case& c, const Keys& k, ByteView payload)
      : m_case(c), m_keys(k), m_payload(payload), m_recipient{&*k.ours_public}, m_signer{&*k.ours_private} {
    m_options.enc = kEnc;
  }

  bool produce(std::string* out) override {
    auto text = m_case.jwe ? encrypted() : signed_();
    if (!text) return false;
    benchmark::DoNotOptimize(text->data());
    if (out != nullptr) *out = std::move(*text);
    return true;
  }

  bool consume(std::string_view text, Bytes* out) override {
    if (m_case.jwe) {
      auto jwe = jose::Jwe::parse(text);
      if (!jwe) return false;
      auto plain = jose::decrypt(*jwe, std::span(&*m_keys.ours_private, 1));
      if (!plain) return false;
      benchmark::DoNotOptimize(plain->plaintext.data());
      if (out != nullptr) out->assign(plain->plaintext.data(), plain->plaintext.data() + plain->plaintext.size());
      return true;
    }
    auto jws = jose::Jws::parse(text);
    if (!jws) return false;
    auto verified = jose::verify(*jws, std::span(&*m_keys.ours_public, 1));
    if (!verified) return false;
    benchmark::DoNotOptimize(verified->payload.data());
    if (out != nullptr) *out = std::move(verified->payload);
    return true;
  }

 private:
  m2msec::Result<std::string> encrypted() {
    auto jwe = jose::encrypt(m_payload, std::span(&m_recipient, 1), m_options);
    if (!jwe) return jwe.error();
    return jwe->serialize(jose::Serialization::kCompact);
  }
  m2msec::Result<std::string> signed_() {
    auto jws = jose::sign(m_payload, std::span(&m_signer, 1));
    if (!jws) return jws.error();
    return jws->serialize(jose::Serialization::kCompact);
  }

  const Case& m_case;
  const Keys& m_keys;
  ByteView m_payload;
  jose::Recipient m_recipient;
  jose::Signer m_signer;
  jose::EncryptOptions m_options;
};

// cjose: cjose_jwe_encrypt / cjose_jws_sign with the header {"alg", ["enc",] "kid"}, export to the compact
// form; import, decrypt / verify.
class Cjose final : public Impl {
 public:
  Cjose(const Case& c, const Keys& k, ByteView payload) : m_case(c), m_keys(k), m_payload(payload) {}

  bool produce(std::string* out) override {
    cjose_err err{};
    if (m_case.jwe) {
      cjose_jwe_t* jwe =
          cjose_jwe_encrypt(m_keys.cjose_public, m_keys.cjose_header, m_payload.data(), m_payload.size(), &err);
      char* text = jwe != nullptr ? cjose_jwe_export(jwe, &err) : nullptr;
      cjose_jwe_release(jwe);
      if (text == nullptr) return false;
      benchmark::DoNotOptimize(text);
      if (out != nullptr) out->assign(text);
      cjose_get_dealloc()(text);
      return true;
    }
    cjose_jws_t* jws =
        cjose_jws_sign(m_keys.cjose_private, m_keys.cjose_header, m_payload.data(), m_payload.size(), &err);
    const char* text = nullptr;
    const bool ok = jws != nullptr && cjose_jws_export(jws, &text, &err) && text != nullptr;
    benchmark::DoNotOptimize(text);
    if (ok && out != nullptr) out->assign(text);
    cjose_jws_release(jws);
    return ok;
  }

  bool consume(std::string_view text, Bytes* out) override {
    cjose_err err{};
    if (m_case.jwe) {
      cjose_jwe_t* jwe = cjose_jwe_import(text.data(), text.size(), &err);
      std::size_t size = 0;
      std::uint8_t* plain = jwe != nullptr ? cjose_jwe_decrypt(jwe, m_keys.cjose_private, &size, &err) : nullptr;
      cjose_jwe_release(jwe);
      if (plain == nullptr) return false;
      benchmark::DoNotOptimize(plain);
      if (out != nullptr) out->assign(plain, plain + size);
      cjose_get_dealloc()(plain);
      return true;
    }
    cjose_jws_t* jws = cjose_jws_import(text.data(), text.size(), &err);
    std::uint8_t* payload = nullptr;
    std::size_t size = 0;
    const bool ok = jws != nullptr && cjose_jws_verify(jws, m_keys.cjose_public, &err) &&
                    cjose_jws_get_plaintext(jws, &payload, &size, &err);
    benchmark::DoNotOptimize(payload);
    if (ok && out != nullptr) out->assign(payload, payload + size);
    cjose_jws_release(jws);
    return ok;
  }

 private:
  const Case& m_case;
  const Keys& m_keys;
  ByteView m_payload;
};

// José (JWE only): jose_jwe_enc_jwk, then every header member moved into the protected header and
// jose_jwe_enc_cek, then the five members joined by dots, as `jose jwe enc -c` does; for consuming, the
// five parts as a flattened JWE object into jose_jwe_dec, as `jose jwe dec` does with a compact input.
class Libjose final : public Impl {
 public:
  Libjose(const Case& c, const Keys& k, ByteView payload) : m_case(c), m_keys(k), m_payload(payload) {}

  bool produce(std::string* out) override {
    json_t* jwe = json_pack("{s:{s:s,s:s,s:s}}", "protected", "alg", m_case.alg, "enc", kEnc, "kid", m_keys.kid.c_str());
    json_t* cek = json_object();
    bool ok = jwe != nullptr && cek != nullptr && jose_jwe_enc_jwk(nullptr, jwe, nullptr, m_keys.libjose_public, cek);
    if (ok) {
      json_t* merged = jose_jwe_hdr(jwe, jwe);
      ok = merged != nullptr && json_object_set_new(jwe, "protected", merged) == 0;
      json_object_del(jwe, "header");
      json_object_del(jwe, "unprotected");
    }
    ok = ok && jose_jwe_enc_cek(nullptr, jwe, cek, m_payload.data(), m_payload.size());
    std::string text;
    for (const char* name : {"protected", "encrypted_key", "iv", "ciphertext", "tag"}) {
      const char* part = ok ? json_string_value(json_object_get(jwe, name)) : nullptr;
      ok = part != nullptr;
      if (!ok) break;
      if (!text.empty()) text += '.';
      text += part;
    }
    json_decref(cek);
    json_decref(jwe);
    benchmark::DoNotOptimize(text.data());
    if (ok && out != nullptr) *out = std::move(text);
    return ok;
  }

  bool consume(std::string_view text, Bytes* out) override {
    const auto p = split(text);
    if (p.size() != 5) return false;
    json_t* jwe = json_pack("{s:s%,s:s%,s:s%,s:s%,s:s%}", "protected", p[0].data(), p[0].size(), "encrypted_key",
                            p[1].data(), p[1].size(), "iv", p[2].data(), p[2].size(), "ciphertext", p[3].data(),
                            p[3].size(), "tag", p[4].data(), p[4].size());
    std::size_t size = 0;
    void* plain = jwe != nullptr ? jose_jwe_dec(nullptr, jwe, nullptr, m_keys.libjose_private, &size) : nullptr;
    json_decref(jwe);
    if (plain == nullptr) return false;
    benchmark::DoNotOptimize(plain);
    if (out != nullptr) out->assign(static_cast<std::uint8_t*>(plain), static_cast<std::uint8_t*>(plain) + size);
    OPENSSL_cleanse(plain, size);
    std::free(plain);
    return true;
  }

 private:
  const Case& m_case;
  const Keys& m_keys;
  ByteView m_payload;
};

// The raw OpenSSL baseline. Algorithms are fetched and contexts made once; produce() writes one message
// (the parts a JWE or JWS would carry, as octets), consume() opens / verifies the last one produced.
class Raw {
 public:
  Raw(const Case& c, const Keys& k, ByteView payload)
      : m_case(c), m_keys(k), m_payload(payload), m_ciphertext(payload.size()), m_plain(payload.size()) {
    m_gcm = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
    m_kw = EVP_CIPHER_fetch(nullptr, "AES-128-WRAP", nullptr);
    m_sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    m_hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    for (EVP_CIPHER_CTX** ctx : {&m_seal, &m_open, &m_wrap, &m_unwrap}) {
      *ctx = EVP_CIPHER_CTX_new();
      EVP_CIPHER_CTX_set_flags(*ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    }
    m_mac = EVP_MAC_CTX_new(m_hmac);
    bool ok = m_gcm != nullptr && m_kw != nullptr && m_sha256 != nullptr && m_mac != nullptr &&
              EVP_CipherInit_ex2(m_seal, m_gcm, nullptr, nullptr, 1, nullptr) == 1 &&
              EVP_CipherInit_ex2(m_open, m_gcm, nullptr, nullptr, 0, nullptr) == 1 &&
              EVP_CipherInit_ex2(m_wrap, m_kw, nullptr, nullptr, 1, nullptr) == 1 &&
              EVP_CipherInit_ex2(m_unwrap, m_kw, nullptr, nullptr, 0, nullptr) == 1;
    if (is(c, "dir")) {  // one key schedule for all messages
      ok = ok && EVP_CipherInit_ex2(m_seal, nullptr, k.secret.data(), nullptr, 1, nullptr) == 1 &&
           EVP_CipherInit_ex2(m_open, nullptr, k.secret.data(), nullptr, 0, nullptr) == 1;
    } else if (is(c, "HS256")) {  // a keyed HMAC context, re-initialised per message with the same key
      OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
                             OSSL_PARAM_construct_end()};
      ok = ok && EVP_MAC_init(m_mac, k.secret.data(), k.secret.size(), params) == 1;
    } else if (is(c, "ECDH-ES+A128KW")) {
      OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>("P-256"), 0),
                             OSSL_PARAM_construct_end()};
      m_keygen = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
      m_fromdata = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
      m_derive = EVP_PKEY_CTX_new_from_pkey(nullptr, k.ec_private.get(), nullptr);
      ok = ok && m_keygen != nullptr && EVP_PKEY_keygen_init(m_keygen) == 1 &&
           EVP_PKEY_CTX_set_params(m_keygen, params) == 1 && m_fromdata != nullptr &&
           EVP_PKEY_fromdata_init(m_fromdata) == 1 && m_derive != nullptr && EVP_PKEY_derive_init(m_derive) == 1;
    } else if (is(c, "ES256")) {
      m_sign = EVP_PKEY_CTX_new_from_pkey(nullptr, k.ec_private.get(), nullptr);
      m_verify = EVP_PKEY_CTX_new_from_pkey(nullptr, k.ec_public.get(), nullptr);
      ok = ok && m_sign != nullptr && EVP_PKEY_sign_init(m_sign) == 1 && m_verify != nullptr &&
           EVP_PKEY_verify_init(m_verify) == 1;
    }
    m_ready = ok;
  }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;
  ~Raw() {
    for (EVP_CIPHER_CTX* ctx : {m_seal, m_open, m_wrap, m_unwrap}) EVP_CIPHER_CTX_free(ctx);
    for (EVP_PKEY_CTX* ctx : {m_keygen, m_fromdata, m_derive, m_sign, m_verify}) EVP_PKEY_CTX_free(ctx);
    EVP_MAC_CTX_free(m_mac);
    EVP_MAC_free(m_hmac);
    EVP_MD_free(m_sha256);
    EVP_CIPHER_free(m_kw);
    EVP_CIPHER_free(m_gcm);
  }

  bool ready() const { return m_ready; }
  // The JWE cases authenticate a protected header of ours as the AAD, as a JWE does.
  void set_aad(std::string aad) { m_aad = std::move(aad); }

  bool produce() {
    if (!m_case.jwe) {
      return is(m_case, "HS256") ? hmac(m_payload, m_signature.data(), m_signature_size)
                                 : ecdsa_sign(m_payload, m_signature.data(), m_signature_size);
    }
    std::uint8_t fresh[kCekSize + kIvSize];  // CEK (unused by dir) and IV from one call
    std::uint8_t kek[kCekSize];
    const std::uint8_t* cek = fresh;
    bool ok = RAND_bytes(fresh, sizeof fresh) == 1;
    std::copy_n(fresh + kCekSize, kIvSize, m_iv);
    if (is(m_case, "dir")) {
      cek = nullptr;  // the context keeps the key
    } else if (is(m_case, "A128KW")) {
      ok = ok && kw(m_wrap, m_keys.secret.data(), cek, kCekSize, m_encrypted_key);
    } else {
      EVP_PKEY* ephemeral = nullptr;
      std::size_t point_size = 0;
      ok = ok && EVP_PKEY_keygen(m_keygen, &ephemeral) == 1 &&
           EVP_PKEY_get_octet_string_param(ephemeral, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, m_epk, sizeof m_epk,
                                           &point_size) == 1 &&
           point_size == kPointSize;
      EVP_PKEY_CTX* derive = ok ? EVP_PKEY_CTX_new_from_pkey(nullptr, ephemeral, nullptr) : nullptr;
      ok = ok && derive != nullptr && EVP_PKEY_derive_init(derive) == 1 &&
           ecdh_kek(derive, m_keys.ec_public.get(), kek) && kw(m_wrap, kek, cek, kCekSize, m_encrypted_key);
      EVP_PKEY_CTX_free(derive);
      EVP_PKEY_free(ephemeral);
      OPENSSL_cleanse(kek, sizeof kek);
    }
    ok = ok && gcm(m_seal, cek, m_iv, bytes_of(m_aad), m_payload, m_ciphertext.data(), m_tag);
    OPENSSL_cleanse(fresh, sizeof fresh);
    return ok;
  }

  bool consume(Bytes* out) {
    if (!m_case.jwe) {
      if (!verify(m_payload, m_signature.data(), m_signature_size)) return false;
      if (out != nullptr) out->assign(m_payload.begin(), m_payload.end());
      return true;
    }
    if (!open(bytes_of(m_aad), m_epk, m_encrypted_key, m_iv, m_ciphertext, m_tag, m_plain.data())) return false;
    benchmark::DoNotOptimize(m_plain.data());
    if (out != nullptr) *out = m_plain;
    return true;
  }

  // Whether the raw code, with the functions consume() is timed with, opens / verifies our compact object
  // to the payload.
  bool opens(std::string_view compact) {
    const auto p = split(compact);
    if (!m_case.jwe) {
      if (p.size() != 3 || b64(p[1]) != Bytes(m_payload.begin(), m_payload.end())) return false;
      const std::string input = std::string(p[0]) + "." + std::string(p[1]);
      const Bytes sig = b64(p[2]);
      if (is(m_case, "HS256")) return sig.size() == 32 && verify(bytes_of(input), sig.data(), sig.size());
      // ES256: r || s (RFC 7518 clause 3.4) to the DER ECDSA-Sig-Value EVP takes.
      if (sig.size() != 64) return false;
      ECDSA_SIG* s = ECDSA_SIG_new();
      ECDSA_SIG_set0(s, BN_bin2bn(sig.data(), 32, nullptr), BN_bin2bn(sig.data() + 32, 32, nullptr));
      unsigned char* der = nullptr;
      const int der_size = i2d_ECDSA_SIG(s, &der);
      const bool ok = der_size > 0 && verify(bytes_of(input), der, static_cast<std::size_t>(der_size));
      OPENSSL_free(der);
      ECDSA_SIG_free(s);
      return ok;
    }
    if (p.size() != 5) return false;
    const Bytes encrypted_key = b64(p[1]), iv = b64(p[2]), ciphertext = b64(p[3]), tag = b64(p[4]);
    if (iv.size() != kIvSize || tag.size() != kTagSize || ciphertext.size() != m_payload.size()) return false;
    if (encrypted_key.size() != (is(m_case, "dir") ? 0 : kWrappedSize)) return false;
    Bytes point;
    if (is(m_case, "ECDH-ES+A128KW")) {
      const Bytes header_text = b64(p[0]);
      auto header = json::parse(std::string_view(reinterpret_cast<const char*>(header_text.data()), header_text.size()));
      const json::Value* epk = header ? header->find("epk") : nullptr;
      if (epk == nullptr || epk->find("x") == nullptr || epk->find("y") == nullptr) return false;
      point = {0x04};
      for (const char* c : {"x", "y"}) {
        const Bytes v = epk->find(c)->string() != nullptr ? b64(*epk->find(c)->string()) : Bytes();
        point.insert(point.end(), v.begin(), v.end());
      }
      if (point.size() != kPointSize) return false;
    }
    Bytes plain(ciphertext.size());
    return open(bytes_of(p[0]), point.data(), encrypted_key.data(), iv.data(), ciphertext, tag.data(), plain.data()) &&
           plain == Bytes(m_payload.begin(), m_payload.end());
  }

  // A message with one octet of its tag or signature changed must not open / verify.
  bool refuses_tampered() {
    std::uint8_t* last = m_case.jwe ? &m_tag[3] : &m_signature[m_signature_size - 5];
    *last ^= 0x01;
    const bool refused = !consume(nullptr);
    *last ^= 0x01;
    return refused;
  }

 private:
  // AES-128-GCM with the key (nullptr: the one the context has) and IV; seals or opens as the context does.
  bool gcm(EVP_CIPHER_CTX* ctx, const std::uint8_t* key, const std::uint8_t* iv, ByteView aad, ByteView in,
           std::uint8_t* out, std::uint8_t* tag) {
    const bool seal = ctx == m_seal;
    int len = 0, tail = 0;
    return EVP_CipherInit_ex2(ctx, nullptr, key, iv, seal ? 1 : 0, nullptr) == 1 &&
           EVP_CipherUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1 &&
           EVP_CipherUpdate(ctx, out, &len, in.data(), static_cast<int>(in.size())) == 1 &&
           (seal || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagSize), tag) == 1) &&
           EVP_CipherFinal_ex(ctx, out + len, &tail) == 1 &&
           (!seal || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagSize), tag) == 1);
  }

  // AES-KW (RFC 3394) of a CEK, or its unwrapping, with the context's direction.
  bool kw(EVP_CIPHER_CTX* ctx, const std::uint8_t* kek, const std::uint8_t* in, std::size_t in_size, std::uint8_t* out) {
    const bool wrap = ctx == m_wrap;
    int len = 0, tail = 0;
    return EVP_CipherInit_ex2(ctx, nullptr, kek, nullptr, wrap ? 1 : 0, nullptr) == 1 &&
           EVP_CipherUpdate(ctx, out, &len, in, static_cast<int>(in_size)) == 1 &&
           static_cast<std::size_t>(len) == (wrap ? kWrappedSize : kCekSize) &&
           EVP_CipherFinal_ex(ctx, out + len, &tail) == 1;
  }

  // ECDH with the peer's key, then the Concat KDF of RFC 7518 clause 4.6.2 for a 128-bit key: one SHA-256
  // of counter 1 || Z || len || "ECDH-ES+A128KW" || len(apu) = 0 || len(apv) = 0 || 128.
  bool ecdh_kek(EVP_PKEY_CTX* derive, EVP_PKEY* peer, std::uint8_t* kek) {
    static constexpr char kAlg[] = "ECDH-ES+A128KW";
    std::uint8_t input[4 + 32 + 4 + sizeof kAlg - 1 + 4 + 4 + 4] = {0, 0, 0, 1};
    std::size_t z_size = 32;
    std::uint8_t* p = input + 4 + 32;
    *p++ = 0, *p++ = 0, *p++ = 0, *p++ = sizeof kAlg - 1;
    p = std::copy_n(kAlg, sizeof kAlg - 1, p);
    p += 8;  // two empty PartyInfo
    *p++ = 0, *p++ = 0, *p++ = 0, *p++ = 128;
    std::uint8_t digest[32];
    const bool ok = EVP_PKEY_derive_set_peer(derive, peer) == 1 && EVP_PKEY_derive(derive, input + 4, &z_size) == 1 &&
                    z_size == 32 && EVP_Digest(input, sizeof input, digest, nullptr, m_sha256, nullptr) == 1;
    std::copy_n(digest, kCekSize, kek);
    OPENSSL_cleanse(input, sizeof input);
    OPENSSL_cleanse(digest, sizeof digest);
    return ok;
  }

  // The JWE consumer's work: [decode the ephemeral point, ECDH, KDF,] [unwrap the CEK,] open.
  bool open(ByteView aad, const std::uint8_t* point, const std::uint8_t* encrypted_key, const std::uint8_t* iv,
            ByteView ciphertext, const std::uint8_t* tag, std::uint8_t* out) {
    std::uint8_t cek[kCekSize], kek[kCekSize];
    bool ok = true;
    if (is(m_case, "A128KW")) {
      ok = kw(m_unwrap, m_keys.secret.data(), encrypted_key, kWrappedSize, cek);
    } else if (is(m_case, "ECDH-ES+A128KW")) {
      Pkey ephemeral = p256_key(m_fromdata, ByteView(point, kPointSize));
      ok = ephemeral && ecdh_kek(m_derive, ephemeral.get(), kek) && kw(m_unwrap, kek, encrypted_key, kWrappedSize, cek);
    }
    ok = ok && gcm(m_open, is(m_case, "dir") ? nullptr : cek, iv, aad, ciphertext, out, const_cast<std::uint8_t*>(tag));
    OPENSSL_cleanse(cek, sizeof cek);
    OPENSSL_cleanse(kek, sizeof kek);
    return ok;
  }

  bool hmac(ByteView data, std::uint8_t* out, std::size_t& out_size) {
    return EVP_MAC_init(m_mac, nullptr, 0, nullptr) == 1 && EVP_MAC_update(m_mac, data.data(), data.size()) == 1 &&
           EVP_MAC_final(m_mac, out, &out_size, 32) == 1;
  }

  bool ecdsa_sign(ByteView data, std::uint8_t* out, std::size_t& out_size) {
    std::uint8_t digest[32];
    out_size = m_signature.size();
    return EVP_Digest(data.data(), data.size(), digest, nullptr, m_sha256, nullptr) == 1 &&
           EVP_PKEY_sign(m_sign, out, &out_size, digest, sizeof digest) == 1;
  }

  // HS256: recompute and compare in constant time; ES256: verify the DER signature.
  bool verify(ByteView data, const std::uint8_t* signature, std::size_t size) {
    std::uint8_t digest[32];
    std::size_t digest_size = 0;
    if (is(m_case, "HS256")) {
      return hmac(data, digest, digest_size) && size == digest_size && CRYPTO_memcmp(digest, signature, size) == 0;
    }
    return EVP_Digest(data.data(), data.size(), digest, nullptr, m_sha256, nullptr) == 1 &&
           EVP_PKEY_verify(m_verify, signature, size, digest, sizeof digest) == 1;
  }

  const Case& m_case;
  const Keys& m_keys;
  ByteView m_payload;
  std::string m_aad;
  bool m_ready = false;
  EVP_CIPHER* m_gcm = nullptr;
  EVP_CIPHER* m_kw = nullptr;
  EVP_MD* m_sha256 = nullptr;
  EVP_MAC* m_hmac = nullptr;
  EVP_MAC_CTX* m_mac = nullptr;
  EVP_CIPHER_CTX *m_seal = nullptr, *m_open = nullptr, *m_wrap = nullptr, *m_unwrap = nullptr;
  EVP_PKEY_CTX *m_keygen = nullptr, *m_fromdata = nullptr, *m_derive = nullptr, *m_sign = nullptr, *m_verify = nullptr;
  // The last message produced.
  std::uint8_t m_iv[kIvSize] = {};
  std::uint8_t m_epk[kPointSize] = {};
  std::uint8_t m_encrypted_key[kWrappedSize] = {};
  Bytes m_ciphertext;
  std::uint8_t m_tag[kTagSize] = {};
  std::array<std::uint8_t, 80> m_signature{};
  std::size_t m_signature_size = 0;
  Bytes m_plain;
};

// One case at one size: the three sides, the objects they consume, and the result of the checks.
struct Bench {
  const Case* c = nullptr;
  Bytes payload;
  std::unique_ptr<Impl> ours, peer;
  std::unique_ptr<Raw> raw;
  std::string ours_object, peer_object;  // what each side's consume benchmark consumes
  std::optional<std::string> failure;    // empty once checked and fine

  Bench(const Case& which, const Keys& keys, std::size_t size) : c(&which), payload(size) {
    for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<std::uint8_t>(i * 131 + 7);
    ours = std::make_unique<Ours>(which, keys, payload);
    if (which.peer == Peer::kCjose) {
      peer = std::make_unique<Cjose>(which, keys, payload);
    } else {
      peer = std::make_unique<Libjose>(which, keys, payload);
    }
    raw = std::make_unique<Raw>(which, keys, payload);
  }

  const std::string& checked() {
    if (!failure) failure = check();
    return *failure;
  }

 private:
  std::string check() {
    const std::string name = peer_name(c->peer);
    if (!raw->ready()) return "raw: OpenSSL set-up failed";
    Bytes got;
    std::string again;
    if (!ours->produce(&ours_object) || !ours->produce(&again)) return "ours: produce failed";
    if (!peer->produce(&peer_object)) return name + ": produce failed";
    // The peer reuses one header object: a second object must carry the same header (except ECDH-ES's epk).
    if (!is(*c, "ECDH-ES+A128KW")) {
      std::string peer_again;
      if (!peer->produce(&peer_again) || split(peer_again)[0] != split(peer_object)[0]) return name + ": header changes";
      if (split(again)[0] != split(ours_object)[0]) return "ours: header changes";
    }
    if (!ours->consume(ours_object, &got) || got != payload) return "ours cannot consume its own object";
    if (!peer->consume(peer_object, &got) || got != payload) return name + " cannot consume its own object";
    if (!peer->consume(ours_object, &got) || got != payload) return name + " cannot consume ours";
    if (!ours->consume(peer_object, &got) || got != payload) return "ours cannot consume " + name + "'s object";
    if (ours->consume(tampered(ours_object), nullptr) || ours->consume(tampered(peer_object), nullptr) ||
        peer->consume(tampered(ours_object), nullptr) || peer->consume(tampered(peer_object), nullptr)) {
      return "a tampered object was accepted";
    }
    raw->set_aad(std::string(split(ours_object)[0]));
    if (!raw->opens(ours_object)) return "raw OpenSSL does not open / verify ours";
    if (!raw->produce() || !raw->consume(&got) || got != payload) return "raw: round trip failed";
    if (!raw->refuses_tampered()) return "raw: a tampered message was accepted";
    return {};
  }
};

enum class Op { kProduce, kConsume };
enum class Side { kOurs, kPeer, kRaw };

void run(benchmark::State& state, Bench* b, Op op, Side side) {
  if (const std::string& why = b->checked(); !why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  if (side == Side::kPeer) state.SetLabel(peer_name(b->c->peer));
  Impl* impl = side == Side::kOurs ? b->ours.get() : b->peer.get();
  const std::string& object = side == Side::kOurs ? b->ours_object : b->peer_object;
  for (auto _ : state) {
    bool ok = false;
    if (side == Side::kRaw) {
      ok = op == Op::kProduce ? b->raw->produce() : b->raw->consume(nullptr);
    } else {
      ok = op == Op::kProduce ? impl->produce(nullptr) : impl->consume(object, nullptr);
    }
    if (!ok) {
      state.SkipWithError("failed while measuring");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b->payload.size()));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::unique_ptr<Keys>> keys;
  std::vector<std::unique_ptr<Bench>> benches;
  for (const Case& c : kCases) {
    keys.push_back(make_keys(c));
    if (!keys.back()) {
      std::fprintf(stderr, "bench_jose: cannot make the %s key for all three sides\n", c.name);
      return 1;
    }
    for (std::size_t size : kSizes) {
      benches.push_back(std::make_unique<Bench>(c, *keys.back(), size));
      for (Op op : {Op::kProduce, Op::kConsume}) {
        for (Side side : {Side::kOurs, Side::kPeer, Side::kRaw}) {
          const std::string name = std::string("jose/") + c.name + "/" + std::to_string(size) + "/" +
                                   (op == Op::kProduce ? "produce" : "consume") + "/" +
                                   (side == Side::kOurs ? "ours" : side == Side::kPeer ? "peer" : "raw");
          benchmark::RegisterBenchmark(name.c_str(), run, benches.back().get(), op, side);
        }
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  benches.clear();
  keys.clear();
  return 0;
}

// ESPrim (TS-0003 V3.18.0 8.4, 10.3.8; TS-0004 V3.32.0 7.6.2): sessionESPrimKey, the ESPrim Object, and the
// Originator and Target end-points.
#include "m2msec/e2e/esprim.h"

#include <algorithm>
#include <array>

#include "esprim_internal.h"
#include "m2msec/core/encoding.h"
#include "m2msec/crypto/random.h"
#include "m2msec/e2e/seci.h"
#include "m2msec/keys/derive.h"

namespace m2msec::e2e {

using internal::esprim_error;
using internal::malformed;

namespace {

// Octets of randomness in the esri we generate ("s"/"u" + 12 base64url characters).
constexpr std::size_t kRandIdEntropy = 9;
// The Originator starts a new session after this many objects (TS-0003 8.5.2.2.1 allows 2^32 per GCM key;
// the bound keeps the replay set small).
constexpr std::size_t kOriginatorMaxObjectsPerSession = 65536;

const std::vector<std::string_view> kDirOnly{"dir"};

// The third part (the IV) of a compact serialization that is_e2e_compact_jwe accepted.
std::string compact_iv(std::string_view text) {
  const std::size_t first = text.find('.');
  const std::size_t second = text.find('.', first + 1);
  const std::size_t third = text.find('.', second + 1);
  return std::string(text.substr(second + 1, third - second - 1));
}

bool contains(const std::vector<ProtocolAlg>& list, ProtocolAlg alg) {
  return std::find(list.begin(), list.end(), alg) != list.end();
}

bool subset(const std::vector<ProtocolAlg>& inner, const std::vector<ProtocolAlg>& outer) {
  return std::all_of(inner.begin(), inner.end(), [&](ProtocolAlg a) { return contains(outer, a); });
}

bool has_hmac(const std::vector<KeyGenAlg>& list) {
  return std::find(list.begin(), list.end(), KeyGenAlg::kHmacSha256) != list.end();
}

Result<std::string> new_rand_id(Rng& rng, char prefix) {
  M2MSEC_ASSIGN_OR_RETURN(Bytes random, crypto::random_bytes(rng, kRandIdEntropy));
  std::string id(1, prefix);
  id.append(base64url_encode(random));
  return id;
}

// Whole seconds: the precision esrx carries, so that the object and our record of it agree.
TimePoint whole_seconds(TimePoint t) { return std::chrono::floor<std::chrono::seconds>(t); }

TimePoint earliest(TimePoint a, TimePoint b, const std::optional<TimePoint>& c) {
  TimePoint out = std::min(a, b);
  return c ? std::min(out, *c) : out;
}

// The rand object's JSON value re-read from its carried text. For our own compact text, serializing it again
// gives the same octets (json.h: parse then serialize reproduces compact input).
Result<json::Value> carried_value(const std::string& text) { return json::parse(text); }

// A JWE compact ESPrim Object: "alg":"dir", "enc", "kid", then `extras` in order.
Result<std::string> seal(ByteView inner, ProtocolAlg enc, const std::string& kid, const SecretBytes& session_key,
                         const json::Object& extras) {
  M2MSEC_ASSIGN_OR_RETURN(SecretBytes cek, content_encryption_key(session_key, enc));
  const jose::Recipient recipient{nullptr, "dir", {}};
  jose::EncryptOptions options;
  options.enc = std::string(jwe_enc(enc));
  options.protected_header.set("kid", kid);
  for (const auto& [name, value] : extras) options.protected_header.set(name, value);
  options.direct_key = &cek;
  M2MSEC_ASSIGN_OR_RETURN(jose::Jwe jwe, jose::encrypt(inner, std::span<const jose::Recipient>(&recipient, 1), options));
  return jwe.serialize(jose::Serialization::kCompact);
}

// AEAD decryption with the CEK of `enc`. A tag mismatch is the only authentication failure jose reports
// (Category::kAuth) for a well-formed object: ESPRIM_BAD_MAC; anything else: ESPRIM_DECRYPTION_ERROR.
Result<jose::DecryptedJwe> open_object(const ParsedEsprimObject& parsed, ProtocolAlg enc, const SecretBytes& session_key) {
  auto cek = content_encryption_key(session_key, enc);
  if (!cek) return esprim_error(Rsc::kEsprimDecryptionError, cek.error().detail());
  jose::AlgorithmPolicy policy;
  policy.jwe_alg = kDirOnly;
  policy.jwe_enc = {jwe_enc(enc)};
  auto out = jose::decrypt(parsed.jwe, {}, policy, &*cek);
  if (!out) {
    if (out.error().category() == Category::kAuth)
      return esprim_error(Rsc::kEsprimBadMac, "the authentication tag does not verify");
    return esprim_error(Rsc::kEsprimDecryptionError, out.error().detail());
  }
  return std::move(*out);
}

Result<void> check_pairwise_key(const std::string& kid, const SecretBytes& key) {
  if (kid.empty()) return Error::usage("ESPrim: empty pairwiseESPrimKeyID");
  M2MSEC_TRY(keys::PairwiseEsprimKey::from(key.view()));  // 32 octets
  return {};
}

}  // namespace

//= TS-0003 V3.18.0 §10.3.8
//# sessionESPrimKey = HMAC-SHA256(pairwiseESPrimKey, receiverESPrimRandObject || originatorESPrimRandObject || label).
// ESPrim open point (10.3.8 does not say how the two objects become octets): each object is the exact UTF-8
// text of its JSON as carried on the wire ("esro"/"ero"/"rro" for the receiver's, "oro" for the
// originator's); received objects keep the octets they arrived as, so no re-serialization can change them.
Result<SecretBytes> session_esprim_key(ByteView pairwise_key, std::string_view receiver_object,
                                       std::string_view originator_object) {
  // The formula lives in src/keys (one implementation); pairwiseESPrimKey is 32 octets there, as every source
  // of it in TS-0003 gives (ESCertKE's pairwiseE2EKey, the MAF's Kc, 10.3.1).
  M2MSEC_ASSIGN_OR_RETURN(auto pairwise, keys::PairwiseEsprimKey::from(pairwise_key));
  M2MSEC_ASSIGN_OR_RETURN(auto session, keys::derive_session_esprim_key(pairwise, as_bytes(receiver_object),
                                                                       as_bytes(originator_object)));
  return SecretBytes::copy_of(session.view());
}

// ESPrim open point (10.3.8 gives 32 octets, A128GCM/A192GCM need 16/24, no rule is given): the leftmost
// 16 / 24 octets, as JOSE takes a MAC key from the left of a longer key (RFC 7518 5.2.2.1).
Result<SecretBytes> content_encryption_key(const SecretBytes& session_key, ProtocolAlg alg) {
  const std::size_t n = cek_size(alg);
  if (n == 0 || session_key.size() < n) return Error::usage("ESPrim: the sessionESPrimKey is too short");
  return SecretBytes::copy_of(session_key.view().first(n));
}

Result<ParsedEsprimObject> parse_esprim_object(std::string_view text) {
  //= TS-0003 V3.18.0 §8.4.3.2
  //# The ESPrim Object is a JWE Compact Serialization.
  if (!is_e2e_compact_jwe(text)) return malformed("the object is not a JWE compact serialization");
  auto jwe = jose::Jwe::parse(text);
  if (!jwe) return malformed(jwe.error().detail());
  ParsedEsprimObject out{std::move(*jwe), {}, {}};
  //= TS-0003 V3.18.0 §8.4.3.2
  //# The JWE Encrypted Key is empty (direct key agreement).
  if (!out.jwe.recipients().front().encrypted_key.empty()) return malformed("the JWE Encrypted Key is not empty");

  const json::Object& h = out.jwe.protected_header();
  // Table 8.4.3.2-2 lists the members; anything else ("zip", "crit", "epk", ...) is refused, fail closed.
  static constexpr std::array<std::string_view, 8> kMembers{"alg", "enc", "kid", "cty", "ori", "rri", "oro", "rro"};
  for (const auto& [name, value] : h) {
    if (std::find(kMembers.begin(), kMembers.end(), name) == kMembers.end())
      return malformed("header member \"" + name + "\" is not an ESPrim member");
  }
  auto required = [&](std::string_view name) -> Result<std::string> {
    const json::Value* v = h.find(name);
    if (v == nullptr || v->string() == nullptr || v->string()->empty())
      return malformed(concat({"header \"", name, "\" is missing or not a non-empty string"}));
    return *v->string();
  };
  M2MSEC_ASSIGN_OR_RETURN(const std::string alg, required("alg"));
  if (alg != "dir") return malformed("\"alg\" is not \"dir\"");
  M2MSEC_ASSIGN_OR_RETURN(out.header.enc, required("enc"));
  M2MSEC_ASSIGN_OR_RETURN(out.header.kid, required("kid"));
  M2MSEC_ASSIGN_OR_RETURN(out.header.ori, required("ori"));
  M2MSEC_ASSIGN_OR_RETURN(out.header.rri, required("rri"));
  if (!internal::is_ascii_ncname(out.header.ori) || !internal::is_ascii_ncname(out.header.rri))
    return malformed("\"ori\"/\"rri\" is not an NCName");
  if (const json::Value* cty = h.find("cty")) {
    if (cty->string() == nullptr) return malformed("\"cty\" is not a string");
    out.header.cty = *cty->string();
  }
  if (h.contains("oro") || h.contains("rro")) {
    // The objects' own octets inside the protected header: the HMAC input (see session_esprim_key).
    auto raw = base64url_decode(out.jwe.protected_b64());
    if (!raw) return malformed("protected header is not base64url");
    const std::string_view header_text = as_text(*raw);
    if (h.contains("oro")) {
      M2MSEC_ASSIGN_OR_RETURN(auto oro_text, internal::raw_member(header_text, "oro"));
      if (!oro_text) return malformed("\"oro\" not found in the header text");
      M2MSEC_ASSIGN_OR_RETURN(CarriedOriginatorRand oro, parse_originator_rand_object(*oro_text));
      out.header.oro = std::move(oro);
    }
    if (h.contains("rro")) {
      M2MSEC_ASSIGN_OR_RETURN(auto rro_text, internal::raw_member(header_text, "rro"));
      if (!rro_text) return malformed("\"rro\" not found in the header text");
      M2MSEC_ASSIGN_OR_RETURN(CarriedReceiverRand rro, parse_receiver_rand_object(*rro_text));
      out.header.rro = std::move(rro);
    }
  }
  // The IV as text (canonical: jose decoded it strictly).
  out.iv_b64 = compact_iv(text);
  return out;
}

Result<InnerIds> json_primitive_ids(ByteView inner) {
  auto value = json::parse(as_text(inner));
  if (!value || value->object() == nullptr) return malformed("the inner primitive is not a JSON object");
  const json::Value* from = value->find("fr");
  if (from == nullptr || from->string() == nullptr) return malformed("the inner primitive has no From (\"fr\")");
  InnerIds ids{*from->string(), std::nullopt};
  if (const json::Value* rqi = value->find("rqi")) {
    if (rqi->string() == nullptr) return malformed("the inner Request Identifier (\"rqi\") is not a string");
    ids.request_id = *rqi->string();
  }
  return ids;
}

// ---------------------------------------------------------------------------------------------------------
// Originator

Originator::Originator(const Clock& clock, Rng& rng, Options options)
    : m_clock(clock), m_rng(rng), m_options(std::move(options)) {}

Result<void> Originator::add_pairwise_key(std::string kid, SecretBytes key, std::optional<TimePoint> expiry) {
  M2MSEC_TRY(check_pairwise_key(kid, key));
  const std::lock_guard lock(m_mutex);
  // A new key under a known ID ends the sessions derived from the old one.
  std::erase_if(m_sessions, [&](const auto& s) { return s.first.kid == kid; });
  m_current.erase(kid);
  m_keys.insert_or_assign(std::move(kid), KeyEntry{std::move(key), expiry});
  return {};
}

Result<void> Originator::set_receiver_rand_object(std::string_view kid, std::string_view json_text) {
  M2MSEC_ASSIGN_OR_RETURN(CarriedReceiverRand rro, parse_receiver_rand_object(json_text));
  const std::lock_guard lock(m_mutex);
  if (m_keys.find(kid) == m_keys.end()) return Error::usage(concat({"ESPrim: no pairwiseESPrimKey ", kid}));
  //= TS-0003 V3.18.0 §8.4.2 B.2c
  //# A receiver rand object that has expired is not used.
  if (rro.object.expiry <= m_clock.now()) return esprim_error(Rsc::kEsprimUnknownRecvRandId, "the receiver rand object has expired");
  if (!has_hmac(rro.object.key_gen_alg_ids))
    return esprim_error(Rsc::kEsprimUnsupportedOption, "the receiver accepts no key generation algorithm we have");
  if (std::none_of(m_options.protocol_alg_ids.begin(), m_options.protocol_alg_ids.end(),
                   [&](ProtocolAlg a) { return contains(rro.object.protocol_alg_ids, a); }))
    return esprim_error(Rsc::kEsprimUnsupportedOption, "no esprimProtocolAndAlgID in common with the receiver");
  // A different receiver object means the caller wants new sessions to use it.
  if (auto current = m_current.find(kid); current != m_current.end()) {
    auto s = m_sessions.find(current->second);
    if (s == m_sessions.end() || s->second.rro.text != rro.text) m_current.erase(current);
  }
  m_receiver_objects.insert_or_assign(std::string(kid), std::move(rro));
  return {};
}

Result<void> Originator::accept_rand_object_response(std::string_view kid, std::string_view seci_body) {
  M2MSEC_ASSIGN_OR_RETURN(EsprimSecurityInfo info, parse_esprim_security_info(seci_body));
  //= TS-0004 V3.32.0 §7.5.1.2.11
  //# The Originator checks that securityInfoType is 4 (receiverESPrimRandObject Response).
  if (info.type != SecurityInfoType::kReceiverRandObjectResponse || !info.rand_object)
    return malformed("not a receiverESPrimRandObject Response (sit 4)");
  return set_receiver_rand_object(kid, info.rand_object->text);
}

bool Originator::needs_receiver_rand_object(std::string_view kid) const {
  const std::lock_guard lock(m_mutex);
  auto it = m_receiver_objects.find(kid);
  return it == m_receiver_objects.end() || it->second.object.expiry <= m_clock.now() + m_options.renew_margin;
}

Result<SessionId> Originator::start_session(std::string_view kid) {
  const std::lock_guard lock(m_mutex);
  return start_session_locked(kid, m_clock.now());
}

Result<SessionId> Originator::start_session_locked(std::string_view kid, TimePoint now) {
  purge_locked(now);
  auto key = m_keys.find(kid);
  if (key == m_keys.end() || (key->second.expiry && *key->second.expiry <= now))
    return esprim_error(Rsc::kEsprimUnknownKeyId, concat({"no valid pairwiseESPrimKey ", kid}));
  auto rro_it = m_receiver_objects.find(kid);
  if (rro_it == m_receiver_objects.end() || rro_it->second.object.expiry <= now + m_options.renew_margin)
    return esprim_error(Rsc::kEsprimUnknownRecvRandId, "a (new) receiver rand object is needed (B.2c)");
  const CarriedReceiverRand& rro = rro_it->second;

  //= TS-0003 V3.18.0 §8.4.2 B.2g
  //# One esprimKeyGenAlgID chosen from the receiver's list; esprimProtocolAndAlgIDs a subset of the receiver's.
  if (!has_hmac(rro.object.key_gen_alg_ids))
    return esprim_error(Rsc::kEsprimUnsupportedOption, "the receiver does not accept HMAC-SHA256");
  std::vector<ProtocolAlg> algs;
  for (ProtocolAlg a : m_options.protocol_alg_ids) {
    if (contains(rro.object.protocol_alg_ids, a) && !contains(algs, a)) algs.push_back(a);
  }
  if (algs.empty()) return esprim_error(Rsc::kEsprimUnsupportedOption, "no esprimProtocolAndAlgID in common");

  OriginatorRandObject oro;
  //= TS-0003 V3.18.0 §8.4.2 B.2g
  //# The esprimRandID is not-shared and unique among the Originator's non-shared objects.
  for (int attempt = 0;; ++attempt) {
    M2MSEC_ASSIGN_OR_RETURN(oro.id, new_rand_id(m_rng, 'u'));
    const bool taken = std::any_of(m_sessions.begin(), m_sessions.end(), [&](const auto& s) { return s.first.ori == oro.id; });
    if (!taken) break;
    if (attempt == 8) return Error::internal("ESPrim: the RNG repeats itself");
  }
  //= TS-0003 V3.18.0 §8.4.2 B.2g
  //# A fresh 128-bit esprimRandValue.
  M2MSEC_ASSIGN_OR_RETURN(oro.value, crypto::random_bytes(m_rng, kRandValueSize));
  //= TS-0003 V3.18.0 §8.4.2 B.2g
  //# The esprimRandExpiry is not later than the receiver object's.
  oro.expiry = whole_seconds(std::min(rro.object.expiry, now + m_options.rand_lifetime));
  oro.key_gen_alg_id = KeyGenAlg::kHmacSha256;
  oro.protocol_alg_ids = std::move(algs);
  M2MSEC_ASSIGN_OR_RETURN(CarriedOriginatorRand carried, carry(std::move(oro)));

  //= TS-0003 V3.18.0 §8.4.2 B.2h
  //# The Originator computes the sessionESPrimKey and caches it.
  M2MSEC_ASSIGN_OR_RETURN(SecretBytes session_key, session_esprim_key(key->second.key.view(), rro.text, carried.text));
  SessionId id{std::string(kid), carried.object.id, rro.object.id};
  Session session;
  session.key = std::move(session_key);
  session.expiry = earliest(carried.object.expiry, rro.object.expiry, key->second.expiry);
  session.oro = std::move(carried);
  session.rro = rro;
  m_sessions.insert_or_assign(id, std::move(session));
  m_current.insert_or_assign(std::string(kid), id);
  return id;
}

Result<std::string> Originator::protect_request(std::string_view kid, ByteView inner, const RequestOptions& options) {
  const std::lock_guard lock(m_mutex);
  const TimePoint now = m_clock.now();
  purge_locked(now);
  auto current = m_current.find(kid);
  std::optional<SessionId> id;
  if (current != m_current.end()) {
    auto s = m_sessions.find(current->second);
    if (s != m_sessions.end() && s->second.expiry > now + m_options.renew_margin &&
        s->second.ivs.size() < kOriginatorMaxObjectsPerSession)
      id = current->second;
  }
  if (!id) {
    M2MSEC_ASSIGN_OR_RETURN(id, start_session_locked(kid, now));
  }
  return protect_locked(*id, inner, options, now);
}

Result<std::string> Originator::protect_request(const SessionId& session, ByteView inner, const RequestOptions& options) {
  const std::lock_guard lock(m_mutex);
  return protect_locked(session, inner, options, m_clock.now());
}

Result<std::string> Originator::protect_locked(const SessionId& id, ByteView inner, const RequestOptions& options,
                                               TimePoint now) {
  auto it = m_sessions.find(id);
  if (it == m_sessions.end() || it->second.expiry <= now)
    return esprim_error(Rsc::kEsprimUnknownOrigRandId, "the session is unknown or has expired");
  Session& s = it->second;
  if (s.ivs.size() >= kOriginatorMaxObjectsPerSession)
    return esprim_error(Rsc::kEsprimUnknownOrigRandId, "the session is used up; start a new one");
  //= TS-0003 V3.18.0 §8.4.3.2
  //# "enc" is one of the originator rand object's esprimProtocolAndAlgIDs.
  const ProtocolAlg enc = options.enc.value_or(s.oro.object.protocol_alg_ids.front());
  if (!contains(s.oro.object.protocol_alg_ids, enc))
    return esprim_error(Rsc::kEsprimUnsupportedOption, "\"enc\" is not in the session's esprimProtocolAndAlgIDs");

  json::Object extras;
  if (options.cty) extras.set("cty", *options.cty);
  extras.set("ori", id.ori);
  extras.set("rri", id.rri);
  //= TS-0003 V3.18.0 §8.4.2 C.3
  //# If this could be the first object the Receiver sees for the originator rand object, the full object is sent.
  if (!s.confirmed) {
    M2MSEC_ASSIGN_OR_RETURN(json::Value oro, carried_value(s.oro.text));
    extras.set("oro", std::move(oro));
  }
  auto object = seal(inner, enc, id.kid, s.key, extras);
  if (!object) return esprim_error(Rsc::kEsprimEncryptionError, object.error().detail());
  s.ivs.insert(compact_iv(*object));  // a reflected request must not pass as a response
  return std::move(*object);
}

Result<Originator::Response> Originator::unprotect_response(std::string_view object) {
  M2MSEC_ASSIGN_OR_RETURN(ParsedEsprimObject parsed, parse_esprim_object(object));
  const EsprimHeader& h = parsed.header;
  //= TS-0003 V3.18.0 §8.4.3.2
  //# "oro" is sent only by the Originator.
  if (h.oro) return malformed("a response carries \"oro\"");
  const std::lock_guard lock(m_mutex);
  const TimePoint now = m_clock.now();
  purge_locked(now);
  //= TS-0003 V3.18.0 §8.4.2 C.10
  //# kid, ori and rri identify a session the Originator still considers valid; otherwise the response is discarded.
  auto key = m_keys.find(h.kid);
  if (key == m_keys.end() || (key->second.expiry && *key->second.expiry <= now))
    return esprim_error(Rsc::kEsprimUnknownKeyId, "unknown or expired pairwiseESPrimKeyID");
  const SessionId id{h.kid, h.ori, h.rri};
  auto it = m_sessions.find(id);
  if (it == m_sessions.end() || it->second.expiry <= now) {
    const bool ori_known = std::any_of(m_sessions.begin(), m_sessions.end(), [&](const auto& s) {
      return s.first.kid == h.kid && s.first.ori == h.ori && s.second.oro.object.expiry > now;
    });
    return esprim_error(ori_known ? Rsc::kEsprimUnknownRecvRandId : Rsc::kEsprimUnknownOrigRandId,
                        "the response names no valid session");
  }
  Session& s = it->second;
  const auto enc = protocol_alg_for_enc(h.enc);
  if (!enc || !contains(s.oro.object.protocol_alg_ids, *enc))
    return esprim_error(Rsc::kEsprimUnsupportedOption, "\"enc\" is not in the originator's esprimProtocolAndAlgIDs");
  M2MSEC_ASSIGN_OR_RETURN(jose::DecryptedJwe plain, open_object(parsed, *enc, s.key));
  if (s.ivs.contains(parsed.iv_b64)) return esprim_error(Rsc::kBadRequest, "a replayed or reflected ESPrim Object");
  s.ivs.insert(parsed.iv_b64);
  s.confirmed = true;
  // An in-band receiver rand object (8.4.3.2 "rro") serves the next session with this kid.
  if (h.rro && h.rro->object.expiry > now && has_hmac(h.rro->object.key_gen_alg_ids)) {
    m_receiver_objects.insert_or_assign(h.kid, *h.rro);
  }
  return Response{id, std::move(plain.plaintext), h.cty};
}

void Originator::purge_locked(TimePoint now) {
  std::erase_if(m_sessions, [&](const auto& s) { return s.second.expiry <= now; });
  std::erase_if(m_current, [&](const auto& c) { return !m_sessions.contains(c.second); });
  std::erase_if(m_receiver_objects, [&](const auto& r) { return r.second.object.expiry <= now; });
}

// ---------------------------------------------------------------------------------------------------------
// Target

Target::Target(const Clock& clock, Rng& rng, Options options)
    : m_clock(clock), m_rng(rng), m_options(std::move(options)) {}

Result<void> Target::add_pairwise_key(std::string kid, SecretBytes key, std::string identity,
                                      std::optional<TimePoint> expiry) {
  M2MSEC_TRY(check_pairwise_key(kid, key));
  if (identity.empty()) return Error::usage("ESPrim: a pairwiseESPrimKey must be bound to an identity");
  const std::lock_guard lock(m_mutex);
  std::erase_if(m_sessions, [&](const auto& s) { return s.first.kid == kid; });
  m_keys.insert_or_assign(std::move(kid), KeyEntry{std::move(key), std::move(identity), expiry});
  return {};
}

Result<CarriedReceiverRand> Target::issue_shared_rand_object() {
  const std::lock_guard lock(m_mutex);
  return issue_locked(true, m_clock.now());
}

Result<CarriedReceiverRand> Target::issue_unique_rand_object() {
  const std::lock_guard lock(m_mutex);
  return issue_locked(false, m_clock.now());
}

Result<CarriedReceiverRand> Target::issue_locked(bool shared, TimePoint now) {
  purge_locked(now, !shared && m_unique_count >= m_options.max_unique_rand_objects);
  if (!shared && m_unique_count >= m_options.max_unique_rand_objects && m_unique_count > 0) {
    // Full: the unique object closest to its expiry goes (its sessions keep their own copy).
    auto victim = m_issued.end();
    for (auto it = m_issued.begin(); it != m_issued.end(); ++it) {
      if (!it->second.shared && (victim == m_issued.end() || it->second.object.object.expiry < victim->second.object.object.expiry))
        victim = it;
    }
    if (victim != m_issued.end()) {
      m_issued.erase(victim);
      --m_unique_count;
    }
  }
  ReceiverRandObject object;
  //= TS-0003 V3.18.0 §8.4.2 B.1
  //# The esprimRandID shows whether the object is shared and is unique among the valid objects issued.
  for (int attempt = 0;; ++attempt) {
    M2MSEC_ASSIGN_OR_RETURN(object.id, new_rand_id(m_rng, shared ? 's' : 'u'));
    if (!m_issued.contains(object.id)) break;
    if (attempt == 8) return Error::internal("ESPrim: the RNG repeats itself");
  }
  //= TS-0003 V3.18.0 §8.4.2 B.1
  //# A fresh 128-bit esprimRandValue, an esprimRandExpiry, the accepted key generation and AEAD algorithms.
  M2MSEC_ASSIGN_OR_RETURN(object.value, crypto::random_bytes(m_rng, kRandValueSize));
  object.expiry = whole_seconds(now + (shared ? m_options.shared_lifetime : m_options.unique_lifetime));
  object.key_gen_alg_ids = m_options.key_gen_alg_ids;
  object.protocol_alg_ids = m_options.protocol_alg_ids;
  M2MSEC_ASSIGN_OR_RETURN(CarriedReceiverRand carried, carry(std::move(object)));
  m_issued.insert_or_assign(carried.object.id, IssuedRand{carried, shared});
  if (!shared) ++m_unique_count;
  return carried;
}

Result<std::string> Target::answer_rand_object_request(std::string_view seci_body) {
  M2MSEC_ASSIGN_OR_RETURN(EsprimSecurityInfo info, parse_esprim_security_info(seci_body));
  if (info.type != SecurityInfoType::kReceiverRandObjectRequest)
    return malformed("not a receiverESPrimRandObject Request (sit 3)");
  M2MSEC_ASSIGN_OR_RETURN(CarriedReceiverRand object, issue_unique_rand_object());
  return build_rand_object_response(object);
}

Result<Target::OpenedRequest> Target::open_request(std::string_view object) {
  //= TS-0004 V3.32.0 §7.6.2
  //# An ESPrim Object that cannot be parsed: BAD_REQUEST.
  auto parsed_or = parse_esprim_object(object);
  if (!parsed_or) return esprim_error(Rsc::kBadRequest, parsed_or.error().detail());
  ParsedEsprimObject& parsed = *parsed_or;
  const EsprimHeader& h = parsed.header;
  //= TS-0003 V3.18.0 §8.4.3.2
  //# "rro" is sent only by the Receiver.
  if (h.rro) return esprim_error(Rsc::kBadRequest, "a request carries \"rro\"");

  const std::lock_guard lock(m_mutex);
  const TimePoint now = m_clock.now();
  purge_locked(now, m_sessions.size() >= m_options.max_sessions ||
                        m_originator_objects.size() >= m_options.max_originator_rand_objects);

  //= TS-0003 V3.18.0 §8.4.2 C.6a
  //# An unknown or expired pairwiseESPrimKeyID: ESPRIM_UNKNOWN_KEY_ID.
  // ESPrim open point (C.6a, MAF ESPrim Framework): the "reserved string" that turns Kc into a
  // pairwiseESPrimKey is NOT FOUND in V3.18.0, so MAF-form IDs (KcID, RelativeKeyID@MAF-FQDN) are not resolved
  // with a MAF: only IDs provisioned with add_pairwise_key are known, anything else is ESPRIM_UNKNOWN_KEY_ID.
  auto key = m_keys.find(h.kid);
  if (key == m_keys.end()) return esprim_error(Rsc::kEsprimUnknownKeyId, "unknown pairwiseESPrimKeyID");
  if (key->second.expiry && *key->second.expiry <= now)
    return esprim_error(Rsc::kEsprimUnknownKeyId, "the pairwiseESPrimKey has expired");

  const SessionId id{h.kid, h.ori, h.rri};
  auto existing_it = m_sessions.find(id);
  Session* existing = existing_it == m_sessions.end() ? nullptr : &existing_it->second;

  //= TS-0003 V3.18.0 §8.4.2 C.6b.1
  //# A missing or expired receiver rand object: ESPRIM_UNKNOWN_RECV_RAND_ID.
  const CarriedReceiverRand* rro = nullptr;
  if (existing != nullptr) {
    rro = &existing->rro;
  } else if (auto issued = m_issued.find(h.rri); issued != m_issued.end()) {
    rro = &issued->second.object;
  }
  if (rro == nullptr) return esprim_error(Rsc::kEsprimUnknownRecvRandId, "unknown receiver rand ID");
  if (rro->object.expiry <= now) return esprim_error(Rsc::kEsprimUnknownRecvRandId, "the receiver rand object has expired");

  //= TS-0003 V3.18.0 §8.4.2 C.6b.2
  //# The originator rand object from "oro" (recorded) or from "ori" (looked up); missing or expired: ESPRIM_UNKNOWN_ORIG_RAND_ID.
  auto cached_oro = [&](const std::string& esri) -> const CarriedOriginatorRand* {
    if (existing != nullptr && esri == h.ori) return &existing->oro;
    auto c = m_originator_objects.find({h.kid, esri});
    return c == m_originator_objects.end() ? nullptr : &c->second;
  };
  const CarriedOriginatorRand* oro = nullptr;
  const CarriedOriginatorRand* to_record = nullptr;
  if (h.oro) {
    const CarriedOriginatorRand* cached = cached_oro(h.oro->object.id);
    // One esri names one object: another object under a recorded ID is refused, so that an unauthenticated
    // sender cannot displace the recorded one.
    if (cached != nullptr && cached->text != h.oro->text)
      return esprim_error(Rsc::kBadRequest, "\"oro\" reuses a recorded esri for another object");
    if (cached == nullptr) to_record = &*h.oro;
    // "ori" equal to "oro".esri at the start of a session; otherwise "oro" refreshes in-band (8.4.3.2).
    oro = h.oro->object.id == h.ori ? &*h.oro : cached_oro(h.ori);
  } else {
    oro = cached_oro(h.ori);
  }
  if (oro == nullptr) return esprim_error(Rsc::kEsprimUnknownOrigRandId, "unknown originator rand ID");
  //= TS-0003 V3.18.0 §8.4.2 C.6b.2 i
  //# The originator object's expiry is not in the past and not later than the receiver object's.
  // Code choice: an originator rand object that outlives the receiver's is not acceptable for this session:
  // ESPRIM_UNKNOWN_ORIG_RAND_ID ("unknown or expired", the Target may apply local policy, Table 7.6.2-1).
  if (oro->object.expiry <= now) return esprim_error(Rsc::kEsprimUnknownOrigRandId, "the originator rand object has expired");
  if (oro->object.expiry > rro->object.expiry)
    return esprim_error(Rsc::kEsprimUnknownOrigRandId, "the originator rand object outlives the receiver's");
  //= TS-0003 V3.18.0 §8.4.2 C.6b.2 ii
  //# The esprimKeyGenAlgID is one of the receiver's esprimKeyGenAlgIDs, else ESPRIM_UNSUPPORTED_OPTION.
  if (std::find(rro->object.key_gen_alg_ids.begin(), rro->object.key_gen_alg_ids.end(), oro->object.key_gen_alg_id) ==
      rro->object.key_gen_alg_ids.end())
    return esprim_error(Rsc::kEsprimUnsupportedOption, "esk is not one of the receiver's esks");
  //= TS-0003 V3.18.0 §8.4.2 C.6c.1
  //# The originator's AEAD list is a subset of the receiver's and "enc" is in the originator's, else ESPRIM_UNSUPPORTED_OPTION.
  if (!subset(oro->object.protocol_alg_ids, rro->object.protocol_alg_ids))
    return esprim_error(Rsc::kEsprimUnsupportedOption, "the originator's espa is not a subset of the receiver's");
  const auto enc = protocol_alg_for_enc(h.enc);
  if (!enc || !contains(oro->object.protocol_alg_ids, *enc))
    return esprim_error(Rsc::kEsprimUnsupportedOption, "\"enc\" is not in the originator's espa");

  // Bounded tables (local policy, Table 7.6.2-1 note on 4113): a full table refuses new sessions and a
  // used-up session refuses further objects; the Originator then starts a new session.
  if (existing == nullptr && m_sessions.size() >= m_options.max_sessions)
    return esprim_error(Rsc::kEsprimUnknownOrigRandId, "no room for a new session");
  if (existing != nullptr && existing->ivs.size() >= m_options.max_objects_per_session)
    return esprim_error(Rsc::kEsprimUnknownOrigRandId, "the session is used up");
  const bool record_needed = to_record != nullptr && to_record == oro;
  if (record_needed && m_originator_objects.size() >= m_options.max_originator_rand_objects)
    return esprim_error(Rsc::kEsprimUnknownOrigRandId, "no room for another originator rand object");

  //= TS-0003 V3.18.0 §8.4.2 C.6b.2 iii
  //# Derive the sessionESPrimKey (or take it from the cache).
  SecretBytes derived;
  if (existing == nullptr) {
    auto k = session_esprim_key(key->second.key.view(), rro->text, oro->text);
    if (!k) return esprim_error(Rsc::kEsprimDecryptionError, k.error().detail());
    derived = std::move(*k);
  }
  const SecretBytes& session_key = existing != nullptr ? existing->key : derived;

  //= TS-0003 V3.18.0 §8.4.2 C.6c.2
  //# AEAD decryption; an integrity failure is ESPRIM_BAD_MAC, other failures ESPRIM_DECRYPTION_ERROR.
  M2MSEC_ASSIGN_OR_RETURN(jose::DecryptedJwe plain, open_object(parsed, *enc, session_key));

  // Replay (not in V3.18.0, our addition): the same (kid, ori, rri, IV) twice is refused. Code choice:
  // BAD_REQUEST, since the object is well formed and every ESPrim code would be false here (the rand IDs are
  // known and valid, the tag verifies); 4113 would also tell the genuine Originator to drop a good session.
  // The error goes unprotected: a replay gets nothing the sender could not have captured.
  if (existing != nullptr && existing->ivs.contains(parsed.iv_b64))
    return esprim_error(Rsc::kBadRequest, "a replayed ESPrim Object");

  // Only now, authenticated by the tag (the header is the AEAD's associated data), is anything recorded.
  if (to_record != nullptr && to_record->object.expiry > now &&
      m_originator_objects.size() < m_options.max_originator_rand_objects) {
    m_originator_objects.insert_or_assign({h.kid, to_record->object.id}, *to_record);
  }
  if (existing == nullptr) {
    Session session;
    session.key = std::move(derived);
    session.expiry = earliest(oro->object.expiry, rro->object.expiry, key->second.expiry);
    session.oro = *oro;
    session.rro = *rro;
    existing = &m_sessions.insert_or_assign(id, std::move(session)).first->second;
  }
  existing->ivs.insert(parsed.iv_b64);

  OpenedRequest out;
  out.session = id;
  out.inner = std::move(plain.plaintext);
  out.cty = h.cty;
  out.enc = *enc;
  out.identity = key->second.identity;
  return out;
}

Result<void> Target::authenticate(OpenedRequest& request, const InnerIds& ids) {
  //= TS-0003 V3.18.0 §7.2.2
  //# The inner From must be the identity bound to the pairwiseESPrimKey, else ESPRIM_IMPERSONATION_ERROR.
  if (ids.from != request.identity)
    return esprim_error(Rsc::kEsprimImpersonationError, "the inner From is not the identity bound to the key");
  if (ids.request_id) {
    const std::lock_guard lock(m_mutex);
    // Replay of the inner request under a new object (our addition): BAD_REQUEST, as for a replayed object.
    auto s = m_sessions.find(request.session);
    if (s != m_sessions.end()) {
      if (s->second.request_ids.contains(*ids.request_id))
        return esprim_error(Rsc::kBadRequest, "the inner Request Identifier was already seen in this session");
      s->second.request_ids.insert(*ids.request_id);
    }
  }
  request.authenticated = true;
  return {};
}

Result<Target::OpenedRequest> Target::unprotect_request(std::string_view object, const InnerIdsExtractor& extract,
                                                        std::optional<SessionId>* session_out) {
  if (session_out != nullptr) session_out->reset();
  M2MSEC_ASSIGN_OR_RETURN(OpenedRequest request, open_request(object));
  if (session_out != nullptr) *session_out = request.session;
  auto ids = extract(request);
  if (!ids) return esprim_error(Rsc::kBadRequest, ids.error().detail());
  M2MSEC_TRY(authenticate(request, *ids));
  return request;
}

Result<std::string> Target::protect_response(const SessionId& session, ByteView inner, const ResponseOptions& options) {
  const std::lock_guard lock(m_mutex);
  const TimePoint now = m_clock.now();
  auto it = m_sessions.find(session);
  if (it == m_sessions.end() || it->second.expiry <= now)
    return esprim_error(Rsc::kEsprimEncryptionError, "the session is unknown or has expired");
  Session& s = it->second;
  //= TS-0003 V3.18.0 §8.4.2 C.8
  //# The response uses the same sessionESPrimKey and an "enc" from the originator's list; "oro" is never sent.
  const ProtocolAlg enc = options.enc.value_or(s.oro.object.protocol_alg_ids.front());
  if (!contains(s.oro.object.protocol_alg_ids, enc))
    return esprim_error(Rsc::kEsprimEncryptionError, "\"enc\" is not in the originator's espa");
  json::Object extras;
  if (options.cty) extras.set("cty", *options.cty);
  extras.set("ori", session.ori);
  extras.set("rri", session.rri);
  if (options.rro) {
    auto rro = carried_value(options.rro->text);
    if (!rro) return esprim_error(Rsc::kEsprimEncryptionError, rro.error().detail());
    extras.set("rro", std::move(*rro));
  }
  auto object = seal(inner, enc, session.kid, s.key, extras);
  if (!object) return esprim_error(Rsc::kEsprimEncryptionError, object.error().detail());
  s.ivs.insert(compact_iv(*object));  // a reflected response must not pass as a request
  return std::move(*object);
}

Result<std::string> Target::protect_response(const OpenedRequest& request, ByteView inner, ResponseOptions options) {
  if (!options.enc) options.enc = request.enc;
  return protect_response(request.session, inner, options);
}

void Target::purge_expired() {
  const std::lock_guard lock(m_mutex);
  purge_locked(m_clock.now(), true);
}

// Expired entries go at most once per second of the injected clock; lookups check expiry themselves.
void Target::purge_locked(TimePoint now, bool force) {
  if (!force && m_last_purge != TimePoint{} && now >= m_last_purge && now - m_last_purge < std::chrono::seconds(1))
    return;
  m_last_purge = now;
  std::erase_if(m_sessions, [&](const auto& s) { return s.second.expiry <= now; });
  std::erase_if(m_originator_objects, [&](const auto& o) { return o.second.object.expiry <= now; });
  for (auto it = m_issued.begin(); it != m_issued.end();) {
    if (it->second.object.object.expiry <= now) {
      if (!it->second.shared) --m_unique_count;
      it = m_issued.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace m2msec::e2e

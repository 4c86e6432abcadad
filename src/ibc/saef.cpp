#include "m2msec/ibc/saef.h"

#include <algorithm>

#include "m2msec/core/encoding.h"
#include "m2msec/core/text.h"
#include "m2msec/crypto/hash.h"
#include "m2msec/crypto/key_agreement.h"
#include "m2msec/crypto/random.h"
#include "m2msec/ibc/identity.h"

namespace m2msec::ibc {
namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kMessage1 = 1;
constexpr std::uint8_t kMessage2 = 2;
constexpr std::size_t kIdentityOctets = 16;
constexpr std::size_t kMaxField = 0xffff;
constexpr std::string_view kLabel1 = "oneM2M IBC-SAEF 1";
constexpr std::string_view kLabel2 = "oneM2M IBC-SAEF 2";
constexpr std::string_view kPskInfo = "oneM2M IBC-SAEF PSK";
constexpr std::string_view kIdentityPrefix = "ibc-saef:";

Error malformed(std::string_view what) {
  return Error(Category::kProtocol, Rsc::kBadRequest, concat({"IBC-SAEF: ", what}));
}
Error refused(std::string_view what) { return Error(Category::kAuth, concat({"IBC-SAEF: ", what})); }

// 0x01 type, then each field as a 2-octet big-endian length and its value.
Result<Bytes> encode_fields(std::uint8_t type, std::initializer_list<ByteView> fields) {
  Bytes out{kVersion, type};
  for (const ByteView value : fields) {
    if (value.size() > kMaxField) return Error::usage("IBC-SAEF: a field longer than 65535 octets");
    out.push_back(static_cast<std::uint8_t>(value.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(value.size()));
    out.insert(out.end(), value.begin(), value.end());
  }
  return out;
}

// Exactly `count` fields of a message of `type`, nothing after them.
Result<std::vector<ByteView>> split(ByteView message, std::uint8_t type, std::size_t count) {
  if (message.size() < 2 || message[0] != kVersion || message[1] != type) {
    return malformed("not a message of this exchange");
  }
  std::vector<ByteView> fields;
  std::size_t at = 2;
  while (at < message.size()) {
    if (fields.size() == count) return malformed("trailing octets");
    if (message.size() - at < 2) return malformed("a truncated length");
    const std::size_t length = (std::size_t{message[at]} << 8) | message[at + 1];
    if (message.size() - at - 2 < length) return malformed("a truncated field");
    fields.push_back(message.subspan(at + 2, length));
    at += 2 + length;
  }
  if (fields.size() != count) return malformed("a wrong number of fields");
  return fields;
}

Result<void> check_sizes(std::string_view id2, ByteView x, ByteView signature) {
  if (id2.empty()) return malformed("an empty ID_2");
  if (x.size() != kSaefPointSize || x[0] != 0x04) {
    return malformed("an ephemeral key that is not an uncompressed P-256 point");
  }
  if (signature.size() != kEccsiSignatureSize) return malformed("an ECCSI signature of the wrong length");
  return {};
}

Bytes bytes_of(ByteView view) { return Bytes(view.begin(), view.end()); }
std::string text_of(ByteView view) { return std::string(as_text(view)); }

crypto::KeyAgreement ecdh() { return crypto::KeyAgreement::named("ecdh-p256").value(); }

Result<Bytes> sha256_of(ByteView data) {
  M2MSEC_ASSIGN_OR_RETURN(const crypto::Hash sha256, crypto::Hash::named("sha-256"));
  return sha256.digest(data);
}

// The own ID_2, which must parse and must not have expired.
Result<IbcIdentity> own_identity(std::string_view id2, const Clock& clock) {
  auto own = IbcIdentity::parse(id2);
  if (!own) return Error::usage(concat({"IBC-SAEF: the own ID_2 does not parse: ", own.error().detail()}));
  if (own->expires <= std::chrono::time_point_cast<std::chrono::seconds>(clock.now())) {
    return Error::usage(concat({"IBC-SAEF: the own ID_2 has expired (re-provision): ", id2}));
  }
  return own;
}

// The peer's ID_2: issued by an accepted FQDN, unexpired, for a printable oneM2M ID; returns that CSE-ID or AE-ID.
Result<std::string> accepted_peer(std::string_view id2_text, const SaefPolicy& policy, const IbcIdentity& own) {
  auto peer = IbcIdentity::parse(id2_text);
  if (!peer) return refused("the peer's ID_2 does not parse");
  //= seed 002 §8.3.7.2 (ID_2 = FQDN@hexBinary(ID)@expirationTime)
  //# the FQDN names the MEF that issued the ID_2: only the MEFs of the policy (default: the own one) are trusted.
  const bool accepted = policy.fqdns.empty() ? peer->fqdn == own.fqdn : policy.fqdns.contains(peer->fqdn);
  if (!accepted) return refused(concat({"ID_2 issued by ", peer->fqdn, ", which is not accepted here"}));
  //= seed 002 §8.3.7.3 (Re-Provisioning before expirationTime)
  //# an ID_2 whose expirationTime has passed identifies nobody.
  if (peer->expires <= std::chrono::time_point_cast<std::chrono::seconds>(policy.clock->now())) {
    return refused(concat({"the peer's ID_2 has expired: ", id2_text}));
  }
  // CSE-IDs and AE-IDs are printable ASCII; anything else could not be bound to a TLS association unambiguously.
  const bool printable =
      std::all_of(peer->id.begin(), peer->id.end(), [](std::uint8_t c) { return c > 0x20 && c < 0x7f; });
  if (!printable) return refused("the ID in the peer's ID_2 is not a oneM2M ID");
  return text_of(peer->id);
}

// PSK and psk_identity from the ECDH secret and the two messages as they travelled.
Result<SaefKey> derive(const crypto::PrivateKey& mine, ByteView peer_public, ByteView message1, ByteView message2,
                       std::string peer_id, std::string peer_id2) {
  M2MSEC_ASSIGN_OR_RETURN(const crypto::PublicKey peer, ecdh().public_key_from_raw(peer_public));
  // derive_shared_secret validates the peer's point (SEC 1 v2 §3.2.2.1); OpenSSL's EC scalar multiplication with a
  // secret scalar is constant time. The secret lives in zeroizing memory.
  auto shared = crypto::derive_shared_secret(ecdh(), mine, peer);
  if (!shared) return refused("the peer's ephemeral key is not a valid P-256 point");
  M2MSEC_ASSIGN_OR_RETURN(const crypto::Hash sha256, crypto::Hash::named("sha-256"));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes transcript, sha256.digest(concat({message1, message2})));
  SaefKey out;
  //= docs/ibc-saef.md (key schedule)
  //# PSK = HKDF-SHA-256(salt = T, IKM = ECDH, info = label); psk_identity names T, not the key.
  M2MSEC_ASSIGN_OR_RETURN(out.psk, crypto::hkdf(sha256, transcript, shared->view(), as_bytes(kPskInfo), kSaefPskSize));
  out.psk_identity = concat({kIdentityPrefix, hex_encode(ByteView(transcript).first(kIdentityOctets))});
  out.peer_id = std::move(peer_id);
  out.peer_id2 = std::move(peer_id2);
  return out;
}

}  // namespace

Result<Bytes> SaefMessage1::signed_part() const {
  return encode_fields(kMessage1, {as_bytes(initiator_id2), as_bytes(responder_id), x, nonce});
}

Result<Bytes> SaefMessage1::encode() const {
  return encode_fields(kMessage1, {as_bytes(initiator_id2), as_bytes(responder_id), x, nonce, signature});
}

Result<SaefMessage1> SaefMessage1::parse(ByteView message) {
  M2MSEC_ASSIGN_OR_RETURN(const std::vector<ByteView> f, split(message, kMessage1, 5));
  M2MSEC_TRY(check_sizes(as_text(f[0]), f[2], f[4]));
  if (f[1].empty()) return malformed("an empty responder ID");
  if (f[3].size() != kSaefNonceSize) return malformed("a nonce that is not 32 octets");
  return SaefMessage1{text_of(f[0]), text_of(f[1]), bytes_of(f[2]), bytes_of(f[3]), bytes_of(f[4])};
}

Result<Bytes> SaefMessage2::signed_part() const {
  return encode_fields(kMessage2, {as_bytes(responder_id2), x});
}

Result<Bytes> SaefMessage2::encode() const {
  return encode_fields(kMessage2, {as_bytes(responder_id2), x, signature});
}

Result<SaefMessage2> SaefMessage2::parse(ByteView message) {
  M2MSEC_ASSIGN_OR_RETURN(const std::vector<ByteView> f, split(message, kMessage2, 3));
  M2MSEC_TRY(check_sizes(as_text(f[0]), f[1], f[2]));
  return SaefMessage2{text_of(f[0]), bytes_of(f[1]), bytes_of(f[2])};
}

Result<std::pair<SaefInitiator, Bytes>> SaefInitiator::start(const SaefCredential& self, std::string responder_id,
                                                             SaefPolicy policy) {
  if (responder_id.empty()) return Error::usage("IBC-SAEF: no responder ID");
  if (!policy.clock) return Error::usage("IBC-SAEF: no clock");
  M2MSEC_TRY(own_identity(self.id2, *policy.clock));
  crypto::KeyAgreement scheme = ecdh();
  M2MSEC_ASSIGN_OR_RETURN(crypto::PrivateKey ephemeral, scheme.generate());
  SaefMessage1 m1;
  m1.initiator_id2 = self.id2;
  m1.responder_id = responder_id;
  M2MSEC_ASSIGN_OR_RETURN(m1.x, ephemeral.public_raw());
  M2MSEC_ASSIGN_OR_RETURN(m1.nonce, crypto::random_bytes(crypto::system_rng(), kSaefNonceSize));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes to_sign, m1.signed_part());
  //= seed 002 §8.3.1 (IBC credentials for the IBC-based SAEF); docs/ibc-saef.md (message 1)
  //# A signs the whole of message 1 under its ID_2 (label first), so B knows X_A is A's.
  M2MSEC_ASSIGN_OR_RETURN(m1.signature, self.signer.sign(concat({as_bytes(kLabel1), to_sign})));
  M2MSEC_ASSIGN_OR_RETURN(Bytes message, m1.encode());
  SaefInitiator out;
  out.m_policy = std::move(policy);
  out.m_kpak = self.kpak;
  out.m_own_id2 = self.id2;
  out.m_responder_id = std::move(responder_id);
  out.m_ephemeral = std::make_unique<crypto::PrivateKey>(std::move(ephemeral));
  out.m_message1 = message;
  return std::pair<SaefInitiator, Bytes>(std::move(out), std::move(message));
}

Result<SaefKey> SaefInitiator::finish(ByteView message2) {
  if (!m_ephemeral) return Error::usage("IBC-SAEF: this exchange has finished already");
  M2MSEC_ASSIGN_OR_RETURN(const SaefMessage2 m2, SaefMessage2::parse(message2));
  M2MSEC_ASSIGN_OR_RETURN(const IbcIdentity own, IbcIdentity::parse(m_own_id2));
  M2MSEC_ASSIGN_OR_RETURN(std::string peer_id, accepted_peer(m2.responder_id2, m_policy, own));
  //= docs/ibc-saef.md (A checks message 2)
  //# the ID inside ID_2(B) must be the responder A asked for: another genuine entity answering is refused.
  if (peer_id != m_responder_id) return refused(concat({"the responder is ", peer_id, ", not ", m_responder_id}));
  //= docs/ibc-saef.md (message 2)
  //# B's signature covers A's message 1 (hashed), so it cannot be replayed to another exchange.
  M2MSEC_ASSIGN_OR_RETURN(const Bytes hash1, sha256_of(m_message1));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes signed_part, m2.signed_part());
  if (!eccsi_verify(m_kpak, as_bytes(m2.responder_id2), concat({as_bytes(kLabel2), hash1, signed_part}),
                    m2.signature)) {
    return refused("message 2 is not signed by the ID_2 it names");
  }
  M2MSEC_ASSIGN_OR_RETURN(SaefKey key,
                          derive(*m_ephemeral, m2.x, m_message1, message2, std::move(peer_id), m2.responder_id2));
  m_ephemeral.reset();  // x_A is no longer needed: forward secrecy from here on
  return key;
}

Result<std::pair<Bytes, SaefKey>> saef_respond(const SaefCredential& self, const SaefPolicy& policy,
                                               ByteView message1) {
  if (!policy.clock) return Error::usage("IBC-SAEF: no clock");
  M2MSEC_ASSIGN_OR_RETURN(const SaefMessage1 m1, SaefMessage1::parse(message1));
  M2MSEC_ASSIGN_OR_RETURN(const IbcIdentity own, own_identity(self.id2, *policy.clock));
  M2MSEC_ASSIGN_OR_RETURN(std::string peer_id, accepted_peer(m1.initiator_id2, policy, own));
  if (m1.responder_id != as_text(own.id)) return refused("message 1 is for another responder");
  M2MSEC_ASSIGN_OR_RETURN(const Bytes signed1, m1.signed_part());
  if (!eccsi_verify(self.kpak, as_bytes(m1.initiator_id2), concat({as_bytes(kLabel1), signed1}), m1.signature)) {
    return refused("message 1 is not signed by the ID_2 it names");
  }
  M2MSEC_ASSIGN_OR_RETURN(crypto::PrivateKey ephemeral, ecdh().generate());
  SaefMessage2 m2;
  m2.responder_id2 = self.id2;
  M2MSEC_ASSIGN_OR_RETURN(m2.x, ephemeral.public_raw());
  M2MSEC_ASSIGN_OR_RETURN(const Bytes hash1, sha256_of(message1));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes signed2, m2.signed_part());
  //= docs/ibc-saef.md (message 2)
  //# B signs its label, SHA-256(message 1) and message 2 up to the signature under its ID_2.
  M2MSEC_ASSIGN_OR_RETURN(m2.signature, self.signer.sign(concat({as_bytes(kLabel2), hash1, signed2})));
  M2MSEC_ASSIGN_OR_RETURN(Bytes message, m2.encode());
  M2MSEC_ASSIGN_OR_RETURN(SaefKey key,
                          derive(ephemeral, m1.x, message1, message, std::move(peer_id), m1.initiator_id2));
  // `ephemeral` (x_B) is freed, and cleared by OpenSSL, on return.
  return std::pair<Bytes, SaefKey>(std::move(message), std::move(key));
}

SaefKeyStore::SaefKeyStore(std::shared_ptr<const Clock> clock, std::chrono::seconds lifetime, std::size_t capacity,
                           std::size_t per_peer)
    : m_clock(std::move(clock)), m_lifetime(lifetime), m_capacity(std::max<std::size_t>(capacity, 1)),
      m_per_peer(std::max<std::size_t>(per_peer, 1)) {}

void SaefKeyStore::erase(Keys::iterator at) {
  const auto peer = m_by_peer.find(at->second.peer_id);
  if (peer != m_by_peer.end()) {
    std::erase(peer->second, at->second.order);
    if (peer->second.empty()) m_by_peer.erase(peer);
  }
  m_by_age.erase(at->second.order);
  m_keys.erase(at);  // the PSK's SecretBytes zeroize
}

void SaefKeyStore::add(SaefKey key) {
  const std::lock_guard lock(m_mutex);
  const auto now = m_clock->now();
  // Expired keys first (every key lives `lifetime`, so the oldest expire first).
  while (!m_by_age.empty()) {
    const auto oldest = m_keys.find(m_by_age.begin()->second);
    if (oldest->second.expires > now) break;
    erase(oldest);
  }
  if (const auto same = m_keys.find(key.psk_identity); same != m_keys.end()) erase(same);
  // This peer's oldest while it holds `per_peer`, then the oldest of all while the store is full.
  if (const auto peer = m_by_peer.find(key.peer_id); peer != m_by_peer.end() && peer->second.size() >= m_per_peer) {
    erase(m_keys.find(m_by_age.at(peer->second.front())));
  }
  while (m_keys.size() >= m_capacity) erase(m_keys.find(m_by_age.begin()->second));
  const std::uint64_t order = m_next++;
  m_by_age.emplace(order, key.psk_identity);
  m_by_peer[key.peer_id].push_back(order);
  m_keys.insert_or_assign(std::move(key.psk_identity),
                          Entry{std::move(key.psk), std::move(key.peer_id), now + m_lifetime, order});
}

std::optional<tls::PskCredential> SaefKeyStore::resolve(std::string_view psk_identity) const {
  const std::lock_guard lock(m_mutex);
  const auto found = m_keys.find(psk_identity);
  if (found == m_keys.end() || found->second.expires <= m_clock->now()) return std::nullopt;
  return tls::PskCredential{found->second.psk.clone(), found->second.peer_id};
}

std::size_t SaefKeyStore::size() const {
  const std::lock_guard lock(m_mutex);
  return m_keys.size();
}

}  // namespace m2msec::ibc

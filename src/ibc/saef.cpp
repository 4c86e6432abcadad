#include "m2msec/ibc/saef.h"

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
constexpr std::size_t kNonceSize = 32;
constexpr std::size_t kPskSize = 32;
constexpr std::size_t kIdentityOctets = 16;
constexpr std::string_view kLabel1 = "oneM2M IBC-SAEF 1";
constexpr std::string_view kLabel2 = "oneM2M IBC-SAEF 2";
constexpr std::string_view kPskInfo = "oneM2M IBC-SAEF PSK";
constexpr std::string_view kIdentityPrefix = "ibc-saef:";

Error malformed(std::string_view what) { return Error(Category::kProtocol, Rsc::kBadRequest, concat({"IBC-SAEF: ", what})); }
Error refused(std::string_view what) { return Error(Category::kAuth, concat({"IBC-SAEF: ", what})); }

void put_field(Bytes& out, ByteView value) {
  out.push_back(static_cast<std::uint8_t>(value.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(value.size()));
  out.insert(out.end(), value.begin(), value.end());
}

// The fields of a message of `type`; `signed_length` is where its signature field starts.
struct Parsed {
  std::vector<ByteView> fields;
  std::size_t signed_length = 0;
};
Result<Parsed> parse(ByteView message, std::uint8_t type, std::size_t count) {
  if (message.size() < 2 || message[0] != kVersion || message[1] != type) return malformed("not a message of this exchange");
  Parsed out;
  std::size_t at = 2;
  while (at < message.size()) {
    if (message.size() - at < 2) return malformed("a truncated length");
    const std::size_t length = (std::size_t{message[at]} << 8) | message[at + 1];
    if (message.size() - at - 2 < length) return malformed("a truncated field");
    if (out.fields.size() == count - 1) out.signed_length = at;
    out.fields.push_back(message.subspan(at + 2, length));
    at += 2 + length;
  }
  if (out.fields.size() != count) return malformed("a wrong number of fields");
  return out;
}

crypto::KeyAgreement ecdh() { return crypto::KeyAgreement::named("ecdh-p256").value(); }

// The peer's ID_2: issued by an accepted FQDN, unexpired; returns the CSE-ID or AE-ID in it.
Result<std::string> accepted_peer(std::string_view id2_text, const SaefPolicy& policy, std::string_view own_id2) {
  auto peer = IbcIdentity::parse(id2_text);
  if (!peer) return refused("the peer's ID_2 does not parse");
  M2MSEC_ASSIGN_OR_RETURN(const IbcIdentity own, IbcIdentity::parse(own_id2));
  const bool accepted = policy.fqdns.empty() ? peer->fqdn == own.fqdn : policy.fqdns.contains(peer->fqdn);
  if (!accepted) return refused(concat({"ID_2 issued by ", peer->fqdn, ", which is not accepted here"}));
  if (peer->expires <= std::chrono::time_point_cast<std::chrono::seconds>(policy.clock->now())) {
    return refused(concat({"the peer's ID_2 has expired: ", id2_text}));
  }
  return std::string(as_text(peer->id));
}

// PSK and psk_identity from the ECDH secret and the two messages.
Result<SaefKey> derive(const crypto::PrivateKey& mine, ByteView peer_public, ByteView message1, ByteView message2,
                       std::string peer_id, std::string peer_id2) {
  M2MSEC_ASSIGN_OR_RETURN(const crypto::PublicKey peer, ecdh().public_key_from_raw(peer_public));
  M2MSEC_ASSIGN_OR_RETURN(const SecretBytes shared, crypto::derive_shared_secret(ecdh(), mine, peer));
  M2MSEC_ASSIGN_OR_RETURN(const crypto::Hash sha256, crypto::Hash::named("sha-256"));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes transcript, sha256.digest(concat({message1, message2})));
  SaefKey out;
  M2MSEC_ASSIGN_OR_RETURN(out.psk, crypto::hkdf(sha256, transcript, shared.view(), as_bytes(kPskInfo), kPskSize));
  out.psk_identity = concat({kIdentityPrefix, hex_encode(ByteView(transcript).first(kIdentityOctets))});
  out.peer_id = std::move(peer_id);
  out.peer_id2 = std::move(peer_id2);
  return out;
}

Result<Bytes> sha256_of(ByteView data) {
  M2MSEC_ASSIGN_OR_RETURN(const crypto::Hash sha256, crypto::Hash::named("sha-256"));
  return sha256.digest(data);
}

}  // namespace

Result<std::pair<SaefInitiator, Bytes>> SaefInitiator::start(const SaefCredential& self, std::string responder_id,
                                                             SaefPolicy policy) {
  if (responder_id.empty()) return Error::usage("IBC-SAEF: no responder ID");
  SaefInitiator out;
  M2MSEC_ASSIGN_OR_RETURN(crypto::PrivateKey ephemeral, ecdh().generate());
  M2MSEC_ASSIGN_OR_RETURN(const Bytes x_a, ephemeral.public_raw());
  M2MSEC_ASSIGN_OR_RETURN(const Bytes nonce, crypto::random_bytes(crypto::system_rng(), kNonceSize));
  Bytes message{kVersion, kMessage1};
  put_field(message, as_bytes(self.id2));
  put_field(message, as_bytes(responder_id));
  put_field(message, x_a);
  put_field(message, nonce);
  //= seed 002 §8.3.1 (IBC credentials for the IBC-based SAEF); docs/ibc-saef.md
  //# A signs the whole of message 1 under its ID_2, so B knows X_A is A's.
  M2MSEC_ASSIGN_OR_RETURN(const Bytes signature, self.signer.sign(concat({as_bytes(kLabel1), message})));
  put_field(message, signature);
  out.m_policy = std::move(policy);
  out.m_kpak = self.kpak;
  out.m_responder_id = std::move(responder_id);
  out.m_ephemeral = std::make_shared<const crypto::PrivateKey>(std::move(ephemeral));
  out.m_message1 = message;
  return std::pair<SaefInitiator, Bytes>(std::move(out), std::move(message));
}

Result<SaefKey> SaefInitiator::finish(ByteView message2) const {
  M2MSEC_ASSIGN_OR_RETURN(const Parsed parsed, parse(message2, kMessage2, 3));
  const std::string peer_id2(as_text(parsed.fields[0]));
  auto own = parse(m_message1, kMessage1, 5);
  if (!own) return own.error();
  M2MSEC_ASSIGN_OR_RETURN(std::string peer_id, accepted_peer(peer_id2, m_policy, as_text(own->fields[0])));
  if (peer_id != m_responder_id) return refused(concat({"the responder is ", peer_id, ", not ", m_responder_id}));
  //= docs/ibc-saef.md (message 2)
  //# B's signature covers A's message 1 (hashed), so it cannot be replayed to another exchange.
  M2MSEC_ASSIGN_OR_RETURN(const Bytes hash1, sha256_of(m_message1));
  if (!eccsi_verify(m_kpak, as_bytes(peer_id2),
                    concat({as_bytes(kLabel2), hash1, message2.first(parsed.signed_length)}), parsed.fields[2])) {
    return refused("message 2 is not signed by the ID_2 it names");
  }
  return derive(*m_ephemeral, parsed.fields[1], m_message1, message2, std::move(peer_id), peer_id2);
}

Result<std::pair<Bytes, SaefKey>> saef_respond(const SaefCredential& self, const SaefPolicy& policy, ByteView message1) {
  M2MSEC_ASSIGN_OR_RETURN(const Parsed parsed, parse(message1, kMessage1, 5));
  const std::string peer_id2(as_text(parsed.fields[0]));
  M2MSEC_ASSIGN_OR_RETURN(std::string peer_id, accepted_peer(peer_id2, policy, self.id2));
  M2MSEC_ASSIGN_OR_RETURN(const IbcIdentity own, IbcIdentity::parse(self.id2));
  if (as_text(parsed.fields[1]) != as_text(own.id)) return refused("message 1 is for another responder");
  if (parsed.fields[3].size() != kNonceSize) return malformed("a nonce that is not 32 octets");
  if (!eccsi_verify(self.kpak, as_bytes(peer_id2), concat({as_bytes(kLabel1), message1.first(parsed.signed_length)}),
                    parsed.fields[4])) {
    return refused("message 1 is not signed by the ID_2 it names");
  }
  M2MSEC_ASSIGN_OR_RETURN(crypto::PrivateKey ephemeral, ecdh().generate());
  M2MSEC_ASSIGN_OR_RETURN(const Bytes x_b, ephemeral.public_raw());
  Bytes message{kVersion, kMessage2};
  put_field(message, as_bytes(self.id2));
  put_field(message, x_b);
  M2MSEC_ASSIGN_OR_RETURN(const Bytes hash1, sha256_of(message1));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes signature, self.signer.sign(concat({as_bytes(kLabel2), hash1, message})));
  put_field(message, signature);
  M2MSEC_ASSIGN_OR_RETURN(SaefKey key, derive(ephemeral, parsed.fields[2], message1, message, std::move(peer_id), peer_id2));
  return std::pair<Bytes, SaefKey>(std::move(message), std::move(key));
}

SaefKeyStore::SaefKeyStore(std::shared_ptr<const Clock> clock, std::chrono::seconds lifetime, std::size_t capacity)
    : m_clock(std::move(clock)), m_lifetime(lifetime), m_capacity(capacity) {}

void SaefKeyStore::add(SaefKey key) {
  const std::lock_guard lock(m_mutex);
  while (!m_keys.empty() && m_keys.size() >= m_capacity) {
    auto oldest = m_keys.begin();
    for (auto it = m_keys.begin(); it != m_keys.end(); ++it) {
      if (it->second.order < oldest->second.order) oldest = it;
    }
    m_keys.erase(oldest);
  }
  m_keys.insert_or_assign(std::move(key.psk_identity),
                          Entry{std::move(key.psk), std::move(key.peer_id), m_clock->now() + m_lifetime, m_next++});
}

std::optional<tls::PskCredential> SaefKeyStore::resolve(std::string_view psk_identity) const {
  const std::lock_guard lock(m_mutex);
  const auto found = m_keys.find(psk_identity);
  if (found == m_keys.end() || found->second.expires <= m_clock->now()) return std::nullopt;
  return tls::PskCredential{found->second.psk.clone(), found->second.peer_id};
}

}  // namespace m2msec::ibc

// The IBC-based Security Association Establishment Framework (seed 002: peers derive a shared secret from their
// SSK, the peer's ID and PVT, and the KPAK; the Release 4 text is not available to us). Ours, argued in
// docs/ibc-saef.md: one signed ephemeral ECDH exchange (P-256) carried as the content of one request and its
// response, each message signed with ECCSI (RFC 6507) under the sender's ID_2, then a (D)TLS-PSK handshake with
// the derived key, whose Finished messages confirm it. The association binds the peer's CSE-ID or AE-ID, the ID
// inside its ID_2.
//
//   message 1, A -> B: 0x01 0x01 | ID_2 of A | the oneM2M ID A wants to reach | X_A | N_A | ECCSI signature
//   message 2, B -> A: 0x01 0x02 | ID_2 of B | X_B | ECCSI signature
// Each field after the two octets is a 2-octet big-endian length and its value. A signs "oneM2M IBC-SAEF 1" and
// message 1 up to its signature; B signs "oneM2M IBC-SAEF 2", SHA-256(message 1) and message 2 up to its
// signature. With T = SHA-256(message 1 || message 2):
//   PSK          = HKDF-SHA-256(salt = T, IKM = ECDH(x, X_peer), info = "oneM2M IBC-SAEF PSK", 32 octets)
//   psk_identity = "ibc-saef:" || hex(T[0..16])
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "m2msec/core/bytes.h"
#include "m2msec/core/clock.h"
#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"
#include "m2msec/crypto/signature.h"
#include "m2msec/ibc/eccsi.h"
#include "m2msec/tls/credentials.h"

namespace m2msec::ibc {

// An entity's IBC credential as the SAEF uses it: its ID_2, its validated ECCSI key for that ID_2, and the KPAK of
// the KMS whose peers it accepts.
struct SaefCredential {
  std::string id2;
  EccsiSigner signer;
  Bytes kpak;
};

struct SaefPolicy {
  // The FQDNs (MEFs) whose ID_2 a peer may present; empty: only the FQDN of the own ID_2.
  std::set<std::string> fqdns;
  std::shared_ptr<const Clock> clock;
};

// What both ends hold after the exchange.
struct SaefKey {
  std::string psk_identity;
  SecretBytes psk;      // 32 octets
  std::string peer_id;  // the CSE-ID or AE-ID in the peer's ID_2: the identity the association binds
  std::string peer_id2;
};

class SaefInitiator {
 public:
  // Message 1 to the entity whose CSE-ID or AE-ID is `responder_id`.
  static Result<std::pair<SaefInitiator, Bytes>> start(const SaefCredential& self, std::string responder_id,
                                                       SaefPolicy policy);
  // Checks message 2 and derives the key. Every failure is kAuth (a peer that is not who it must be) or kProtocol
  // (a message that does not parse).
  Result<SaefKey> finish(ByteView message2) const;

 private:
  SaefInitiator() = default;
  SaefPolicy m_policy;
  Bytes m_kpak;
  std::string m_responder_id;
  std::shared_ptr<const crypto::PrivateKey> m_ephemeral;
  Bytes m_message1;
};

// The responder's side: checks message 1 (for this responder), answers message 2 and derives the key.
Result<std::pair<Bytes, SaefKey>> saef_respond(const SaefCredential& self, const SaefPolicy& policy, ByteView message1);

// The responder's keys, from the exchange until the TLS-PSK handshake that uses them: at most `capacity`, each for
// `lifetime`, the oldest dropped first. A PSK resolver for the TLS server: psk_identity -> PSK bound to the peer's
// CSE-ID or AE-ID; an unknown, expired or dropped identity fails like a wrong key.
class SaefKeyStore final : public tls::PskResolver {
 public:
  SaefKeyStore(std::shared_ptr<const Clock> clock, std::chrono::seconds lifetime, std::size_t capacity);
  void add(SaefKey key);
  std::optional<tls::PskCredential> resolve(std::string_view psk_identity) const override;

 private:
  struct Entry {
    SecretBytes psk;
    std::string peer_id;
    std::chrono::system_clock::time_point expires;
    std::uint64_t order;
  };
  std::shared_ptr<const Clock> m_clock;
  std::chrono::seconds m_lifetime;
  std::size_t m_capacity;
  mutable std::mutex m_mutex;
  std::map<std::string, Entry, std::less<>> m_keys;
  std::uint64_t m_next = 0;
};

}  // namespace m2msec::ibc

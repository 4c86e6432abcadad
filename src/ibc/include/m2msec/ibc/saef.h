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
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
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

inline constexpr std::size_t kSaefPointSize = 65;  // X_A, X_B: SEC1 uncompressed P-256 points
inline constexpr std::size_t kSaefNonceSize = 32;  // N_A
inline constexpr std::size_t kSaefPskSize = 32;

// The two messages as plain values. parse() is strict (kProtocol for anything but exactly this layout: the version,
// the message number, the fields each with its exact length where it has one, no trailing octets); encode() is
// its inverse (kUsage for a field longer than 65535 octets). The encoding is canonical, so parse then encode gives
// the octets back.
struct SaefMessage1 {
  std::string initiator_id2;  // ID_2 of A, as the KMS issued it (the ECCSI identity)
  std::string responder_id;   // the CSE-ID or AE-ID A wants to reach
  Bytes x;                    // X_A, kSaefPointSize octets
  Bytes nonce;                // N_A, kSaefNonceSize octets
  Bytes signature;            // Sig_A, kEccsiSignatureSize octets

  // The octets Sig_A covers after the label: the message up to the signature field.
  Result<Bytes> signed_part() const;
  Result<Bytes> encode() const;
  static Result<SaefMessage1> parse(ByteView message);
};

struct SaefMessage2 {
  std::string responder_id2;  // ID_2 of B
  Bytes x;                    // X_B
  Bytes signature;            // Sig_B

  // The message up to the signature field (Sig_B covers the label, SHA-256(message 1) and this).
  Result<Bytes> signed_part() const;
  Result<Bytes> encode() const;
  static Result<SaefMessage2> parse(ByteView message);
};

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
  SecretBytes psk;      // kSaefPskSize octets
  std::string peer_id;  // the CSE-ID or AE-ID in the peer's ID_2: the identity the association binds
  std::string peer_id2;
};

class SaefInitiator {
 public:
  // Message 1 to the entity whose CSE-ID or AE-ID is `responder_id`. kUsage if the own ID_2 does not parse or has
  // expired (no peer would accept it).
  static Result<std::pair<SaefInitiator, Bytes>> start(const SaefCredential& self, std::string responder_id,
                                                       SaefPolicy policy);
  // Checks message 2 and derives the key. Every failure is kAuth (a peer that is not who it must be) or kProtocol
  // (a message that does not parse); after a failure the initiator still waits for the genuine message 2. On
  // success the ephemeral private key is destroyed (OpenSSL clears it), so a second call is kUsage.
  Result<SaefKey> finish(ByteView message2);

 private:
  SaefInitiator() = default;
  SaefPolicy m_policy;
  Bytes m_kpak;
  std::string m_own_id2;
  std::string m_responder_id;
  std::unique_ptr<crypto::PrivateKey> m_ephemeral;
  Bytes m_message1;
};

// The responder's side: checks message 1 (for this responder), answers message 2 and derives the key. Stateless:
// the caller keeps the key (SaefKeyStore) for the TLS-PSK handshake.
Result<std::pair<Bytes, SaefKey>> saef_respond(const SaefCredential& self, const SaefPolicy& policy,
                                               ByteView message1);

// The responder's keys, from the exchange until the TLS-PSK handshake that uses them: at most `capacity` in all and
// at most `per_peer` for one peer ID, each for `lifetime`; when full, the oldest (of that peer, or of all) is
// dropped first. A replayed message 1 thus only ever pushes out keys of the peer it names. A PSK resolver for the
// TLS server: psk_identity -> PSK bound to the peer's CSE-ID or AE-ID; an unknown, expired or dropped identity
// fails like a wrong key.
class SaefKeyStore final : public tls::PskResolver {
 public:
  SaefKeyStore(std::shared_ptr<const Clock> clock, std::chrono::seconds lifetime, std::size_t capacity,
               std::size_t per_peer = 8);
  void add(SaefKey key);
  std::optional<tls::PskCredential> resolve(std::string_view psk_identity) const override;
  std::size_t size() const;

 private:
  struct Entry {
    SecretBytes psk;
    std::string peer_id;
    std::chrono::system_clock::time_point expires;
    std::uint64_t order;
  };
  using Keys = std::map<std::string, Entry, std::less<>>;
  void erase(Keys::iterator at);  // with m_mutex held

  std::shared_ptr<const Clock> m_clock;
  std::chrono::seconds m_lifetime;
  std::size_t m_capacity;
  std::size_t m_per_peer;
  mutable std::mutex m_mutex;
  Keys m_keys;
  std::map<std::uint64_t, std::string> m_by_age;                            // order -> psk_identity
  std::map<std::string, std::deque<std::uint64_t>, std::less<>> m_by_peer;  // peer ID -> its orders, oldest first
  std::uint64_t m_next = 0;
};

}  // namespace m2msec::ibc

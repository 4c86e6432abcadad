// The MAF client (TS-0003 V3.18.0 8.8.2): Client Registration, Key Registration and Key Retrieval, and the
// PSK resolver of Entity B in the MAF-based SAEF (8.2.2.3), which retrieves Kc from the MAF named in the Key
// Identifier the client presents.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "m2msec/client/channel.h"
#include "m2msec/core/clock.h"
#include "m2msec/keys/derive.h"

namespace m2msec::client {

struct MafRegistration {
  std::string registration_id;  // mafClientRegID
  std::string client_id;        // MAF Client ID
  std::chrono::sys_seconds expires{};
  std::optional<std::string> assigned_km_id;  // assignedSymmKeyID: the KmID to use from now on
};
// `maf`: kind kKmId with a KmID, or a KeID and the Km derived from Ke for this MAF (remote provisioning).
Result<MafRegistration> register_client(const Endpoint& maf, std::string admin_fqdn, std::chrono::seconds lifetime);

struct KeyRequest {
  keys::Suid suid = keys::Suid::kMafSaef;
  std::vector<std::string> target_ids;
  std::string admin_fqdn;  // empty: the MAF's FQDN
  std::chrono::seconds lifetime{std::chrono::hours(24)};
  std::optional<SecretBytes> key_value;  // absent: Kc exported with EXPORTER-oneM2M-Connection
};
struct RegisteredKey {
  keys::KeyIdentifier key_identifier;  // RelativeKeyID@MAF-FQDN, the psk_identity of the MAF-based SAEF
  SecretBytes key;
  std::chrono::sys_seconds expires{};
  std::vector<std::string> target_ids;
};
// The response is checked against the request (8.3.9.9.4: SUID, adminFQDN and targets as sent, Source
// Client ID is this client's, expiry not past); with an exported key, the RelativeKeyID must be hexBinary(KcID).
Result<RegisteredKey> register_key(const Endpoint& maf, const KeyRequest& request);

struct RetrievedKey {
  SecretBytes key;
  std::string source_client_id;
  keys::Suid suid = keys::Suid::kMafSaef;
  std::chrono::sys_seconds expires{};
  std::string admin_fqdn;
};
Result<RetrievedKey> retrieve_key(const Endpoint& maf, std::string_view relative_key_id);

// Entity B of the MAF-based SAEF (8.2.2.3 steps 4-6): a psk_identity "RelativeKeyID@MAF-FQDN" naming this
// MAF is resolved by Key Retrieval; the key is used only if its SUID is 32 (MAF-distributed, SAEF) and it
// has not expired, and the association is bound to the Source MAF Client ID. Any failure resolves to nothing
// (the handshake then fails like a wrong key).
class KeyRetrievalResolver final : public tls::PskResolver {
 public:
  KeyRetrievalResolver(Endpoint maf, keys::Fqdn maf_fqdn, std::shared_ptr<const Clock> clock)
      : m_maf(std::move(maf)), m_fqdn(std::move(maf_fqdn)), m_clock(std::move(clock)) {}
  std::optional<tls::PskCredential> resolve(std::string_view psk_identity) const override;

 private:
  Endpoint m_maf;
  keys::Fqdn m_fqdn;
  std::shared_ptr<const Clock> m_clock;
};

}  // namespace m2msec::client

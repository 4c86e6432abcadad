// The MEF client's side of IBC Credential Provisioning (seed 002 8.3.7): the request over the MEF association,
// and the checks of what comes back before anything is kept (RFC 6507 5.1.2 for SSK/PVT, RFC 6508 6.1.2 for
// the RSK, and the ID_2 it was issued for).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "m2msec/client/channel.h"
#include "m2msec/core/bytes.h"
#include "m2msec/core/secret.h"
#include "m2msec/ibc/saef.h"
#include "m2msec/json/json.h"
#include "m2msec/kms/kms.h"

namespace m2msec::client {

struct IbcCredential {
  std::string id2;  // FQDN@hexBinary(ID)@expirationTime
  std::chrono::sys_seconds expires{};
  SecretBytes ssk;  // ECCSI
  Bytes pvt;
  Bytes kpak;
  SecretBytes rsk;  // SAKKE
  Bytes z;
};

// Accepts the <mefIbcCred> representation a MEF answered only if ID_2 names `mef_fqdn` and `own_id`, has not
// expired at `now`, and the keys validate for ID_2: SSK/PVT under KPAK, the RSK under Z_S. Any failure is an
// error (kAuth for a credential that is not this client's, kCrypto for keys that do not validate).
Result<IbcCredential> accept_ibc_credential(const json::Object& representation, std::string_view mef_fqdn,
                                            std::string_view own_id, std::chrono::sys_seconds now);

// Initial provisioning (8.3.7.2) for `own_id`, or re-provisioning (8.3.7.3) of the credential `current` (ID_1).
Result<IbcCredential> provision_ibc(Channel& channel, std::string_view own_id,
                                    const std::optional<std::string>& current = std::nullopt);

// The credential as a file a user keeps (owner-readable only): lines "id2=", "ssk=", "pvt=", "kpak=", "rsk=",
// "z=" with hex values; and back (the keys are validated again on reading).
SecretBytes ibc_credential_text(const IbcCredential& credential);
Result<IbcCredential> parse_ibc_credential(std::string_view text);
// A credential file as the IBC-based SAEF signs with it (docs/ibc-saef.md): its ID_2, validated SSK/PVT and KPAK.
Result<ibc::SaefCredential> saef_credential(std::string_view text);

// A KMS in another process (m2msecd --roles kms), for a MEF: each call opens an association from `kms`, whose
// identity the KMS must list as a client.
class RemoteKms final : public kms::Issuer {
 public:
  explicit RemoteKms(Endpoint kms) : m_kms(std::move(kms)) {}
  Result<kms::IssuedKeys> issue(ByteView id) const override;

 private:
  Endpoint m_kms;
};

}  // namespace m2msec::client

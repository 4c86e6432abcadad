// The enrolee's side of PPSK RSPF with MEF Client Registration and MEF Client Commands (TS-0003 V3.18.0
// 8.3.2.1, 8.3.5.2.3, 8.3.9), and an Enrolment Target's /fetchCredentials client (8.3.2.1 step 6).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "m2msec/client/channel.h"
#include "m2msec/client/ibc.h"
#include "m2msec/keys/key.h"
#include "m2msec/mef/credentials.h"

namespace m2msec::client {

struct EnrolOptions {
  Endpoint mef;             // kind kKpmId: KpmID/Kpm
  std::string admin_fqdn;   // adminFQDN; empty: the MEF's FQDN
  std::chrono::seconds lifetime{std::chrono::hours(24 * 30)};  // the expirationTime proposed
  std::vector<std::string> labels;
  // The IBC credential held now (its ID_2): an IBC_PROV command renews it (8.3.7.3) instead of asking anew.
  std::optional<std::string> ibc_current{};
};

// A command the MEF issued and what this client reported (8.3.9.2 step 5, 8.3.9.3).
struct CommandReport {
  std::string cmd_id;
  std::int64_t cmd_class = 0;
  std::int64_t status = 0;  // sec:cmdStatusCode sent back
  std::string detail;       // why it failed, when it did
};

struct Enrolment {
  keys::KeId ke_id;
  keys::EnrolmentKey ke;
  std::string registration_id;  // MEFClientRegID
  std::string client_id;        // MEF Client ID
  std::chrono::sys_seconds expires{};
  std::vector<CommandReport> commands;
  // The retryDuration of the NO_MORE_COMMANDS that ended the exchange.
  std::chrono::seconds retry_after{0};
  // The IBC credential an IBC_PROV command provisioned, validated (the last one, if several).
  std::optional<IbcCredential> ibc{};
};

// Handshake (KpmID/Kpm), Enrolment Key export (EXPORTER-oneM2M-Bootstrap), MEF Client Registration, then the
// command loop of seed 002 figure 8.3.4.6-1 until NO_MORE_COMMANDS. The KeID the MEF reports must be the one
// this end exported. The client executes IBC_PROV (IBC Credential Provisioning, seed 002 8.3.4.5) and reports
// every other class MEF_CLIENT_CMD_CLASS_NOT_SUPPORTED (41), and MEF_CLIENT_CMD_REPEATED_CMD_ID (40) for a
// repeated cmdID.
Result<Enrolment> enrol(const EnrolOptions& options);

// /fetchCredentials over the HTTP binding, authenticated with the target's own MEF credential.
class RemoteCredentialSource final : public mef::CredentialSource {
 public:
  explicit RemoteCredentialSource(Endpoint mef) : m_mef(std::move(mef)) {}
  Result<mef::FetchedCredential> fetch(const keys::KeId& ke_id, keys::Suid suid) const override;

 private:
  Endpoint m_mef;
};

}  // namespace m2msec::client

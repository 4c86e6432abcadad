// The M2M Enrolment Function (TS-0003 V3.18.0 clause 8.3) on request primitives. Its resources:
//   mef                         <MEFBase>: RETRIEVE gives its FQDN; CREATE ty=7002 is MEF Client Registration,
//                               CREATE ty=7004 MEF Key Registration
//   mef/<MEFClientRegID>        RETRIEVE (Configuration Retrieval), UPDATE, DELETE
//   mef/<MEFClientRegID>/cmd    the <mefClientCmd>: RETRIEVE (Command Retrieve), UPDATE (Command Update)
//   mef/<RelativeKeyID>         RETRIEVE (Key Retrieval, by a listed target), UPDATE, DELETE (by the source)
//   fetchCredentials/<KeID>/<SUID>   RETRIEVE by an Enrolment Target (8.3.2.1 step 6)
//   mef, CREATE ty=7008         IBC Credential Provisioning (seed 002 8.3.7.2) and Re-Provisioning (8.3.7.3)
//
// PPSK RSPF (8.3.2.1): the MEF Handshake is TLS-PSK with KpmID/Kpm (EnroleeResolver). The Enrolment Key
// is exported from that association when the client registers in it: the MEF Client Registration of a
// PPSK association records Ke/KeID (EXPORTER-oneM2M-Bootstrap) and the registration together, and its
// response carries the KeID so the client can check that both ends hold the same.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "m2msec/core/clock.h"
#include "m2msec/core/result.h"
#include "m2msec/json/json.h"
#include "m2msec/keys/derive.h"
#include "m2msec/keys/identifiers.h"
#include "m2msec/kms/kms.h"
#include "m2msec/mef/credentials.h"
#include "m2msec/onem2m/primitive.h"
#include "m2msec/store/store.h"
#include "m2msec/tls/credentials.h"
#include "m2msec/tls/session.h"

namespace m2msec::mef {

struct ServiceOptions {
  keys::Fqdn fqdn;  // MEF-FQDN
  std::shared_ptr<store::Store> store;
  std::shared_ptr<const Clock> clock;
  // Enrolment Expiry (10.7) of enrolees configured without one.
  std::chrono::seconds enrolment_lifetime{std::chrono::hours(24 * 30)};
  std::chrono::seconds max_lifetime{std::chrono::hours(24 * 365)};
  // The Enrolment Target of enrolees configured without one (e.g. the MAF this MEF serves).
  std::string default_target{};
  // retryDuration of NO_MORE_COMMANDS (8.3.9.6).
  std::chrono::seconds retry_duration{std::chrono::hours(1)};
  // The MEFClientCfg attached to every registration (8.3.5.2.4); none when empty.
  std::optional<json::Object> client_cfg{};
  // IBC Credential Provisioning (seed 002 8.3.7): the KMS that issues the keys (none: refused, NOT_IMPLEMENTED)
  // and the lifetime of an ID_2 (capped by the caller's enrolment).
  std::shared_ptr<const kms::Issuer> kms{};
  std::chrono::seconds ibc_lifetime{std::chrono::hours(24 * 30)};
};

class Service {
 public:
  explicit Service(ServiceOptions options);
  // Answers one request that arrived on `session` (nullptr: no security association, refused with
  // SECURITY_ASSOCIATION_REQUIRED). Never throws.
  onem2m::Response handle(const onem2m::Request& request, const tls::Session* session) const;
  // The /fetchCredentials decision (8.3.2.1 step 6), for the HTTP resource and for a MAF in the same process.
  Result<FetchedCredential> fetch(const keys::KeId& ke_id, keys::Suid suid, std::string_view target_id) const;
  const keys::Fqdn& fqdn() const;

 private:
  struct State;
  std::shared_ptr<const State> m_state;
};

// The MEF Handshake's PSK side (8.3.5.2.2): KpmID -> Kpm from the store, bound to the enrolee's ID (or, for
// an enrolee configured without one, the Credential-ID "10-<KpmID>").
class EnroleeResolver final : public tls::PskResolver {
 public:
  explicit EnroleeResolver(std::shared_ptr<store::Store> store) : m_store(std::move(store)) {}
  std::optional<tls::PskCredential> resolve(std::string_view psk_identity) const override;

 private:
  std::shared_ptr<store::Store> m_store;
};

// MEF Client Commands (8.3.9) an operator queues for a client: cmdClassID and cmdArgs in short names
// (12.4.4-12.4.9). The class decides which member cmdArgs holds; arguments are checked before queueing.
// IBC_PROV (4) is our number for the IBC Credential Provisioning command of seed 002 8.3.4.5, which gives none;
// its cmdArgs member is ibcProvCmdArgs {IBCBasedURI}.
enum class CommandClass : std::uint8_t { kNoMoreCommands = 0, kCertProv = 1, kDevCfg = 2, kMoNode = 3, kIbcProv = 4 };
// "cert-prov", "dev-cfg", "mo-node", "ibc-prov"
std::optional<CommandClass> command_class_named(std::string_view name);
// Queues the command; returns its cmdID.
Result<std::string> queue_command(store::Store& store, std::string_view client_id, CommandClass command_class,
                                  const json::Object& arguments);

}  // namespace m2msec::mef

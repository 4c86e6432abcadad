// The M2M Authentication Function (TS-0003 V3.18.0 clause 8.8) on request primitives. Its resources:
//   maf                      <MAFBase>: RETRIEVE gives its FQDN; CREATE ty=7006 is MAF Client Registration,
//                            CREATE ty=7007 MAF Key Registration
//   maf/<mafClientRegID>     RETRIEVE (Configuration Retrieval), UPDATE, DELETE
//   maf/<RelativeKeyID>      RETRIEVE (Key Retrieval, by a listed target), UPDATE, DELETE (by the source)
//
// The MAF Handshake (8.8.2.2) is TLS-PSK with KmID/Km (CredentialResolver). A remotely provisioned client
// (8.8.2.3, PPSK RSPF with a MEF) has no KmID yet: it authenticates with its KeID as psk_identity and Km
// (10.3.2) as key; the MAF obtains that Km from the MEF (/fetchCredentials with SUID 21), and its Client
// Registration assigns the KmID (assignedSymmKeyID) the client uses from then on.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string_view>

#include "m2msec/core/clock.h"
#include "m2msec/json/json.h"
#include "m2msec/keys/identifiers.h"
#include "m2msec/mef/credentials.h"
#include "m2msec/onem2m/primitive.h"
#include "m2msec/store/store.h"
#include "m2msec/tls/credentials.h"
#include "m2msec/tls/session.h"

namespace m2msec::maf {

struct ServiceOptions {
  keys::Fqdn fqdn;  // MAF-FQDN = MAF-ID
  std::shared_ptr<store::Store> store;
  std::shared_ptr<const Clock> clock;
  std::chrono::seconds max_lifetime{std::chrono::hours(24 * 365)};
  // The mafClientCfg attached to every registration (8.8.2.4); none when empty.
  std::optional<json::Object> client_cfg{};
};

class Service {
 public:
  explicit Service(ServiceOptions options);
  // Answers one request that arrived on `session` (nullptr: refused with SECURITY_ASSOCIATION_REQUIRED).
  onem2m::Response handle(const onem2m::Request& request, const tls::Session* session) const;

 private:
  struct State;
  std::shared_ptr<const State> m_state;
};

// The MAF Handshake's PSK side: a KmID (pre-provisioned with `m2msec admin maf add-client`, or assigned by
// Client Registration), or the KeID of a remotely provisioned client, whose Km comes from `enrolments` (the
// MEF) on first use and is kept until the enrolment expires. Expired credentials resolve to nothing.
class CredentialResolver final : public tls::PskResolver {
 public:
  CredentialResolver(std::shared_ptr<store::Store> store, std::shared_ptr<const Clock> clock,
                     std::shared_ptr<const mef::CredentialSource> enrolments)
      : m_store(std::move(store)), m_clock(std::move(clock)), m_enrolments(std::move(enrolments)) {}
  std::optional<tls::PskCredential> resolve(std::string_view psk_identity) const override;

 private:
  std::shared_ptr<store::Store> m_store;
  std::shared_ptr<const Clock> m_clock;
  std::shared_ptr<const mef::CredentialSource> m_enrolments;
};

// The stored credential a psk_identity names (a KmID, compared case-insensitively in its relative part, or a
// KeID), if it has not expired at `now`.
Result<std::optional<store::MasterCredential>> find_credential(store::Store& store, std::string_view psk_identity,
                                                               store::Time now);

}  // namespace m2msec::maf

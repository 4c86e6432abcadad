// A secure hosting CSE (TS-0001 V3 resource procedures, TS-0004 V3.32.0, TS-0003 V3.18.0 clause 7) on request
// primitives. Resource types: <CSEBase> 5, <AE> 2, <container> 3, <contentInstance> 4, <accessControlPolicy> 1,
// <group> 9, <subscription> 23, <role> 31, <token> 32, <dynamicAuthorizationConsultation> 34. Targets are
// CSE-relative: structured ("cse-in/ae1/cnt1") or unstructured (a resource ID, "cnt-3f2a...").
//
// Security (the point of this CSE):
//   - the originator is proven by the security association: an AE registers under the credential of its
//     association (checked against the AppRules, TS-0013 TD_M2M_SE_01) and every later request whose From is
//     not the AE-ID bound to the association's credential is refused 4106 ORIGINATOR_NOT_AUTHENTICATED;
//   - every request is authorised by authz::decide over the applicable <accessControlPolicy> resources
//     (selfPrivileges for an ACP target, the parent's for CREATE and for types without acpi, the creator /
//     custodian when acpi is not set), then by valid tokens (tkns, tids) and roles (rids), then by Direct
//     Dynamic Authorization (daci); all deny: 4103 ORIGINATOR_HAS_NO_PRIVILEGE.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/authz/acp.h"
#include "m2msec/authz/token.h"
#include "m2msec/core/clock.h"
#include "m2msec/core/result.h"
#include "m2msec/onem2m/primitive.h"
#include "m2msec/store/store.h"
#include "m2msec/tls/session.h"

namespace m2msec::cse {

// Which AEs a credential may register (TS-0001 <serviceSubscribedAppRule>: applicableCredIDs, allowedApp-IDs,
// allowedAEs, allowedRole-IDs). Patterns take '*' for any run of characters; an empty list allows nothing.
struct AppRule {
  std::string credential;             // the association's credential identifier (PSK identity, certificate
                                      // identity), e.g. "test@onem2m.com"
  std::vector<std::string> app_ids{};  // allowed api values, e.g. "Nmyapp*"
  std::vector<std::string> ae_ids{};   // allowed AE-IDs (AE-ID-Stems), e.g. "C*"
  std::vector<std::string> role_ids{};  // Role-IDs its AEs may use in rids
};

// How the CSE reaches a notification target or a DAS: one NOTIFY to a URL (http:// or https://) or to an
// AE-ID/resource ID with a pointOfAccess. The daemon provides it over the HTTP binding.
using Notifier = std::function<Result<onem2m::Response>(std::string_view target, const onem2m::Request& notify)>;

struct ServiceOptions {
  std::string cse_id = "/id-in";       // SP-relative CSE-ID
  std::string sp_id = "//m2msec.example";  // M2M-SP-ID
  std::string resource_name = "cse-in";  // the <CSEBase> resourceName
  std::vector<std::string> supported_releases{"3"};  // srv of <CSEBase>; requests with another rvi: 4000
  // The admin originator (ACME's "CAdmin") and the credentials that prove it. Without a credential the admin
  // cannot be used at all (fail closed).
  std::string admin_originator = "CAdmin";
  std::vector<std::string> admin_credentials{};
  std::vector<AppRule> app_rules{};
  // Token issuers (DAS servers, Authorization Authorities) and the CSE's keys, for tkns/tids.
  authz::ValidatorConfig tokens{};
  std::shared_ptr<store::Store> store{};  // resources survive restarts; nullptr: in memory only
  std::shared_ptr<const Clock> clock{};
  Notifier notifier{};  // nullptr: subscriptions cannot be created (4000), no Direct Dynamic Authorization
};

// What the binding knows about where a request came from.
struct Origin {
  // The authenticated peer of the security association; nullopt: no association (refused 4107
  // SECURITY_ASSOCIATION_REQUIRED).
  std::optional<tls::AuthenticatedPeer> peer{};
  std::optional<authz::IpAddress> ip{};  // the source address (rq_ip)
};

class Service {
 public:
  // Loads the resources of the store (creating <CSEBase> on the first start).
  static Result<std::unique_ptr<Service>> open(ServiceOptions options);
  ~Service();
  // Answers one request; never throws. Thread-safe.
  onem2m::Response handle(const onem2m::Request& request, const Origin& origin);
  const ServiceOptions& options() const;

 private:
  struct State;
  explicit Service(std::unique_ptr<State> state);
  std::unique_ptr<State> m_state;
};

}  // namespace m2msec::cse

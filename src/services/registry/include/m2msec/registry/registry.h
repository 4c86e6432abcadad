// What the MEF and the MAF do alike. TS-0003 V3.18.0 gives the two functions the same procedures with the
// same parameters (8.3.5.2.3-8.3.5.2.10 and 8.8.2.3-8.8.2.10): a Client Registration record per
// administrating stakeholder, and Key Registrations whose keys only the listed targets may retrieve. The
// MEF and MAF services add what differs (the MEF's enrolment and commands, the MAF's KmID assignment).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "m2msec/core/clock.h"
#include "m2msec/core/result.h"
#include "m2msec/json/json.h"
#include "m2msec/keys/derive.h"
#include "m2msec/keys/identifiers.h"
#include "m2msec/onem2m/primitive.h"
#include "m2msec/onem2m/resources.h"
#include "m2msec/store/store.h"
#include "m2msec/tls/session.h"

namespace m2msec::registry {

// Who sent a request, as the security association authenticated it.
struct Caller {
  std::string client_id;                  // the MEF / MAF Client ID bound to the credential
  const tls::Session* session = nullptr;  // the association (its exporter makes key values)
  // Nothing the caller registers outlives the credential it authenticated with (10.7: keys derived from Ke
  // expire with Ke).
  store::Time credential_expires = store::Time::max();
};

struct Settings {
  store::Function function = store::Function::kMef;
  keys::Fqdn fqdn;   // this function's FQDN (MEF-FQDN / MAF-FQDN = MAF-ID)
  std::string base;  // the base resource name: "mef" or "maf"
  onem2m::ResourceType base_type = onem2m::ResourceType::kMefBase;
  onem2m::ResourceType client_type = onem2m::ResourceType::kMefClientReg;
  onem2m::ResourceType key_type = onem2m::ResourceType::kMefKeyReg;
  // Registration identifiers start with it ("mcr-", "acr-"); RelativeKeyIDs never do (they are hex digits or
  // sec:relKeyID text without '-' in that place), so one path segment names either.
  std::string_view registration_prefix = "mcr-";
  std::shared_ptr<store::Store> store;
  std::shared_ptr<const Clock> clock;
  std::chrono::seconds max_lifetime{std::chrono::hours(24 * 365)};
  // The SUIDs a key registration here may carry, and those of them that take exactly one target (SAEF and
  // ESPrim; ESData takes one or more: 8.3.5.2.7 step 3, 8.8.2.7).
  std::span<const keys::Suid> key_suids;
  std::span<const keys::Suid> single_target_suids;
  // The MEFClientCfg / mafClientCfg attached to every registration (8.3.5.2.4, 8.8.2.4); none when empty.
  std::optional<json::Object> client_cfg{};
};

store::Time now(const Settings& settings);
// A fresh random identifier: prefix + 32 hex digits.
std::string random_id(std::string_view prefix);

// The error response for a failed request (onem2m::error_response).
onem2m::Response failure(const onem2m::Request& request, const Error& error);
onem2m::Response success(const onem2m::Request& request, Rsc rsc, std::optional<json::Value> pc = std::nullopt);
// The response of a procedure: `rsc` with the representation of `type` made of `attributes`, or the failure.
onem2m::Response respond(const onem2m::Request& request, Rsc rsc, onem2m::ResourceType type,
                         Result<json::Object> attributes);

// The caller a request's security association authenticated (the MEF / MAF Handshake, 8.3.5.2.2, 8.8.2.2):
// the association's bound identity as Client ID; for a PSK association also its psk_identity and the
// Credential-ID of the key (type `psk_type`), which From may carry instead of the Client ID.
struct Authenticated {
  Caller caller;
  std::string credential_id;  // the Credential-ID of a PSK, or the identity of a certificate
  std::optional<std::string> psk_identity;
};
// SECURITY_ASSOCIATION_REQUIRED without an association, or with a certificate association whose client
// presented no certificate.
Result<Authenticated> authenticate(const tls::Session* session, keys::CredIdType psk_type);

// The checks every request passes before its procedure runs:
//  - From is the caller's Client ID, or the Credential-ID of the credential it authenticated with
//    (`credential_id`; the client may not know its Client ID before it registers); otherwise
//    ORIGINATOR_NOT_AUTHENTICATED (TS-0003 7.2.1);
//  - a request that changes state (CREATE, UPDATE, DELETE) carries a request identifier this originator
//    has not used in the last 24 hours; a replay is refused with CONFLICT and changes nothing.
Result<void> admit(const Settings& settings, const onem2m::Request& request, const Caller& caller,
                   std::string_view credential_id);

// The expirationTime a request proposes (`et` of the checked content), granted as the earliest of the
// proposal, now + max_lifetime and the caller's credential expiry. A proposal not in the future: BAD_REQUEST.
Result<store::Time> grant_expiry(const Settings& settings, const Caller& caller, const json::Value& proposed);

// Client Registration (8.3.5.2.3 / 8.8.2.3): checks the CREATE content and returns the record to store, with
// a fresh id; the service completes it (KeID, assignedSymmKeyID) and stores it.
Result<store::Registration> new_registration(const Settings& settings, const onem2m::Request& request,
                                             const Caller& caller);
// The representation of a registration: common and registration attributes, and its KeID (MEF) or
// assignedSymmKeyID (MAF) when it has one.
json::Object registration_attributes(const Settings& settings, const store::Registration& registration);
// The caller's own registration `id`, if it exists and has not expired; otherwise NOT_FOUND (a registration
// of another client is not found either).
Result<store::Registration> own_registration(const Settings& settings, const Caller& caller, std::string_view id);
// Configuration Retrieval (8.3.5.2.4 / 8.8.2.4): the representation with the client configuration; none
// attached is NOT_FOUND.
onem2m::Response retrieve_registration(const Settings& settings, const onem2m::Request& request, const Caller& caller,
                                       std::string_view id);
// Registration Update (8.3.5.2.5 / 8.8.2.5) and De-Registration (8.3.5.2.6 / 8.8.2.6) of an own registration.
onem2m::Response update_registration(const Settings& settings, const onem2m::Request& request, const Caller& caller,
                                     std::string_view id);
onem2m::Response delete_registration(const Settings& settings, const onem2m::Request& request, const Caller& caller,
                                     std::string_view id);

// What a function adds to the resources the MEF and MAF share.
struct Procedures {
  std::function<onem2m::Response()> create_registration;
  // The caller an UPDATE of registration `id` is granted as (the MEF caps it by the enrolment made with it).
  std::function<Result<Caller>(std::string_view id)> update_caller;
};

// The resources the MEF and MAF share: "<base>" (RETRIEVE: its FQDN; CREATE with the client type: registration,
// with the key type: key registration; another type: BAD_REQUEST), "<base>/<registration id>" (RETRIEVE, UPDATE,
// DELETE) and "<base>/<RelativeKeyID>" (RETRIEVE, UPDATE, DELETE). Another target is NOT_FOUND, another
// operation OPERATION_NOT_ALLOWED.
onem2m::Response route(const Settings& settings, const onem2m::Request& request, const Caller& caller,
                       const Procedures& procedures);
onem2m::Response not_found(const onem2m::Request& request);
onem2m::Response not_allowed(const onem2m::Request& request);

// Key Registration (8.3.5.2.7 / 8.8.2.7), Retrieval (8.3.5.2.8 / 8.8.2.8), Registration Update
// (8.3.5.2.9 / 8.8.2.9) and De-Registration (8.3.5.2.10 / 8.8.2.10).
onem2m::Response create_key(const Settings& settings, const onem2m::Request& request, const Caller& caller);
onem2m::Response retrieve_key(const Settings& settings, const onem2m::Request& request, const Caller& caller,
                              std::string_view relative_key_id);
onem2m::Response update_key(const Settings& settings, const onem2m::Request& request, const Caller& caller,
                            std::string_view relative_key_id);
onem2m::Response delete_key(const Settings& settings, const onem2m::Request& request, const Caller& caller,
                            std::string_view relative_key_id);

}  // namespace m2msec::registry

#include "m2msec/registry/registry.h"

#include <algorithm>

#include "m2msec/core/encoding.h"
#include "m2msec/core/text.h"
#include "m2msec/core/timestamp.h"
#include "m2msec/crypto/random.h"
#include "m2msec/keys/export.h"

namespace m2msec::registry {
namespace {

namespace attr = onem2m::attr;
using onem2m::Operation;

// How long a request identifier is remembered against replays.
constexpr std::chrono::hours kReplayWindow{24};

// Key values a client may register itself: at least 128 bits, at most what a PSK or HMAC key needs.
constexpr std::size_t kMinKeyValue = 16;
constexpr std::size_t kMaxKeyValue = 64;

Error bad_request(std::string detail) { return Error::usage(std::move(detail)); }

// Every refusal of a key operation says the same, so a caller cannot tell an unknown key from one it may
// not touch (unknown identifiers are indistinguishable from forbidden ones).
Error no_such_key() {
  return Error(Category::kPolicy, Rsc::kOriginatorHasNoPrivilege, "no key registration for this originator");
}

// Granted times are bounded by now + max_lifetime, well inside the years m2m:timestamp can write.
std::string timestamp(store::Time time) {
  auto text = format_m2m_timestamp(time);
  return text ? std::move(*text) : std::string("99991231T235959");
}

Result<json::Object> content(onem2m::ResourceType type, const onem2m::Request& request) {
  if (!request.pc) return bad_request("the request has no content");
  return onem2m::check_content(type, request.op, *request.pc);
}

//= TS-0003 V3.18.0 §8.3.5.2.3 / §8.8.2.3 (MEF-FQDN, MAF-FQDN in the request)
//# The request names the function it is for; a request meant for another MEF or MAF is refused.
Result<void> check_fqdn(const Settings& settings, const json::Object& object) {
  auto named = keys::Fqdn::parse(*object.find(attr::kFqdn)->string());
  if (!named || !(*named == settings.fqdn)) {
    return bad_request(concat({"this is ", settings.fqdn.text(), ", not ", *object.find(attr::kFqdn)->string()}));
  }
  return {};
}

Result<std::string> admin_fqdn(const json::Object& object) {
  M2MSEC_ASSIGN_OR_RETURN(const keys::Fqdn fqdn, keys::Fqdn::parse(*object.find(attr::kAdminFqdn)->string()));
  return fqdn.text();
}

// 8.3.5.2.7 step 3 / 8.8.2.7: exactly one target for SAEF and ESPrim keys, one or more for ESData keys.
Result<std::vector<std::string>> targets(const Settings& settings, keys::Suid suid, const json::Value* value) {
  if (value == nullptr) return bad_request("targetIDs is required: this function creates no target list itself");
  std::vector<std::string> out = onem2m::strings_of(*value);
  const bool single = std::find(settings.single_target_suids.begin(), settings.single_target_suids.end(), suid) !=
                      settings.single_target_suids.end();
  if (single && out.size() != 1) return bad_request("a key for SAEF or ESPrim has exactly one target");
  return out;
}

json::Object key_attributes(const Settings& settings, const store::KeyRegistration& key) {
  json::Object out{{std::string(attr::kResourceId), key.relative_key_id},
                   {std::string(attr::kResourceName), key.relative_key_id},
                   {std::string(attr::kResourceType), static_cast<std::int64_t>(settings.key_type)},
                   {std::string(attr::kParentId), settings.base},
                   {std::string(attr::kCreationTime), timestamp(key.created)},
                   {std::string(attr::kRelativeKeyId), key.relative_key_id},
                   {std::string(attr::kExpirationTime), timestamp(key.expires)},
                   {std::string(attr::kSourceClientId), key.source_client_id}};
  if (!key.labels.empty()) out.set(std::string(attr::kLabels), onem2m::string_list(key.labels));
  out.set(std::string(attr::kAdminFqdn), key.admin_fqdn);
  out.set(std::string(attr::kSuid), static_cast<std::int64_t>(key.suid));
  out.set(std::string(attr::kTargetIds), onem2m::string_list(key.target_ids));
  return out;
}

// The caller's own, unexpired key registration (update and de-registration are the source's business).
Result<store::KeyRegistration> own_key(const Settings& settings, const Caller& caller, std::string_view id) {
  M2MSEC_ASSIGN_OR_RETURN(auto found, settings.store->find_key_registration(settings.function, id));
  if (!found || found->expires <= now(settings) || found->source_client_id != caller.client_id) return no_such_key();
  return std::move(*found);
}

// What an UPDATE of either kind of registration may change alike (8.3.5.2.5, 8.3.5.2.9, 8.8.2.5, 8.8.2.9): the
// expirationTime (granted as on creation) and the labels; each one present is echoed in `answer`.
Result<void> expiry_and_labels(const Settings& settings, const Caller& caller, const json::Object& object,
                               std::optional<store::Time>& expires, std::optional<std::vector<std::string>>& labels,
                               json::Object& answer) {
  if (const auto* et = object.find(attr::kExpirationTime)) {
    M2MSEC_ASSIGN_OR_RETURN(expires, grant_expiry(settings, caller, *et));
    answer.set(std::string(attr::kExpirationTime), timestamp(*expires));
  }
  if (const auto* given = object.find(attr::kLabels)) {
    labels = onem2m::strings_of(*given);
    answer.set(std::string(attr::kLabels), *given);
  }
  return {};
}

}  // namespace

store::Time now(const Settings& settings) {
  return std::chrono::time_point_cast<std::chrono::seconds>(settings.clock->now());
}

std::string random_id(std::string_view prefix) {
  auto octets = crypto::random_bytes(crypto::system_rng(), 16);
  M2MSEC_CHECK(octets.has_value());
  return concat({prefix, hex_encode(*octets)});
}

onem2m::Response failure(const onem2m::Request& request, const Error& error) {
  return onem2m::error_response(request, error);
}

onem2m::Response success(const onem2m::Request& request, Rsc rsc, std::optional<json::Value> pc) {
  return onem2m::Response{rsc, request.rqi, std::move(pc)};
}

onem2m::Response respond(const onem2m::Request& request, Rsc rsc, onem2m::ResourceType type,
                         Result<json::Object> attributes) {
  if (!attributes) return failure(request, attributes.error());
  return success(request, rsc, onem2m::wrap(type, std::move(*attributes)));
}

Result<Authenticated> authenticate(const tls::Session* session, keys::CredIdType psk_type) {
  //= TS-0003 V3.18.0 §8.3.5.2.2, §8.8.2.2
  //# Every MEF and MAF procedure runs after a MEF / MAF Handshake: a mutually authenticated (D)TLS association.
  if (session == nullptr) {
    return Error(Category::kAuth, Rsc::kSecurityAssociationRequired, "requests are answered only over TLS");
  }
  const tls::AuthenticatedPeer& peer = session->peer();
  Authenticated out{Caller{peer.identity, session, store::Time::max()}, peer.identity, std::nullopt};
  if (peer.kind == tls::CredentialKind::kPsk) {
    M2MSEC_ASSIGN_OR_RETURN(const auto credential, keys::CredentialId::make(psk_type, peer.identifier));
    out.credential_id = credential.to_string();
    out.psk_identity = peer.identifier;
  } else if (peer.identity.empty()) {
    return Error(Category::kAuth, Rsc::kSecurityAssociationRequired, "the client presented no certificate");
  }
  return out;
}

Result<void> admit(const Settings& settings, const onem2m::Request& request, const Caller& caller,
                   std::string_view credential_id) {
  //= TS-0003 V3.18.0 §7.2.1
  //# The originator of every request must be the identity the security association authenticated.
  if (request.fr != caller.client_id && request.fr != credential_id) {
    return Error(Category::kAuth, Rsc::kOriginatorNotAuthenticated,
                 concat({"the originator '", request.fr, "' is not the authenticated client"}));
  }
  if (request.op == Operation::kRetrieve || request.op == Operation::kNotify) return {};
  const store::Time at = now(settings);
  M2MSEC_ASSIGN_OR_RETURN(const bool fresh, settings.store->remember_request(request.fr, request.rqi, at + kReplayWindow, at));
  if (!fresh) {
    return Error(Category::kPolicy, Rsc::kConflict, concat({"request identifier '", request.rqi, "' was used before"}));
  }
  return {};
}

Result<store::Time> grant_expiry(const Settings& settings, const Caller& caller, const json::Value& proposed) {
  M2MSEC_ASSIGN_OR_RETURN(const store::Time asked, parse_m2m_timestamp(*proposed.string()));
  const store::Time at = now(settings);
  if (asked <= at) return bad_request("the expirationTime has passed");
  return std::min({asked, at + settings.max_lifetime, caller.credential_expires});
}

Result<store::Registration> new_registration(const Settings& settings, const onem2m::Request& request,
                                             const Caller& caller) {
  M2MSEC_ASSIGN_OR_RETURN(const json::Object object, content(settings.client_type, request));
  M2MSEC_TRY(check_fqdn(settings, object));
  store::Registration out;
  out.function = settings.function;
  out.id = random_id(settings.registration_prefix);
  out.client_id = caller.client_id;
  M2MSEC_ASSIGN_OR_RETURN(out.admin_fqdn, admin_fqdn(object));
  if (const auto* labels = object.find(attr::kLabels)) out.labels = onem2m::strings_of(*labels);
  out.created = now(settings);
  M2MSEC_ASSIGN_OR_RETURN(out.expires, grant_expiry(settings, caller, *object.find(attr::kExpirationTime)));
  return out;
}

json::Object registration_attributes(const Settings& settings, const store::Registration& registration) {
  json::Object out{{std::string(attr::kResourceId), registration.id},
                   {std::string(attr::kResourceName), registration.id},
                   {std::string(attr::kResourceType), static_cast<std::int64_t>(settings.client_type)},
                   {std::string(attr::kParentId), settings.base},
                   {std::string(attr::kCreationTime), timestamp(registration.created)},
                   {std::string(attr::kExpirationTime), timestamp(registration.expires)}};
  if (!registration.labels.empty()) out.set(std::string(attr::kLabels), onem2m::string_list(registration.labels));
  out.set(std::string(attr::kAdminFqdn), registration.admin_fqdn);
  out.set(std::string(attr::kClientId), registration.client_id);
  if (!registration.ke_id.empty()) out.set(std::string(attr::kKeId), registration.ke_id);
  if (!registration.assigned_key_id.empty()) {
    out.set(std::string(attr::kAssignedSymmKeyId), registration.assigned_key_id);
  }
  return out;
}

onem2m::Response retrieve_registration(const Settings& settings, const onem2m::Request& request, const Caller& caller,
                                       std::string_view id) {
  //= TS-0003 V3.18.0 §8.3.5.2.4, §8.8.2.4
  //# Configuration Retrieval answers the configuration attached to the registration; none attached is an error.
  const auto run = [&]() -> Result<json::Object> {
    M2MSEC_ASSIGN_OR_RETURN(const store::Registration registration, own_registration(settings, caller, id));
    if (!settings.client_cfg) {
      return Error(Category::kPolicy, Rsc::kNotFound, "no client configuration is attached to the registration");
    }
    json::Object out = registration_attributes(settings, registration);
    out.set(std::string(attr::kClientCfg), *settings.client_cfg);
    return out;
  };
  return respond(request, Rsc::kOk, settings.client_type, run());
}

Result<store::Registration> own_registration(const Settings& settings, const Caller& caller, std::string_view id) {
  M2MSEC_ASSIGN_OR_RETURN(auto found, settings.store->find_registration(settings.function, id));
  if (!found || found->expires <= now(settings) || found->client_id != caller.client_id) {
    return Error(Category::kPolicy, Rsc::kNotFound, concat({"no registration '", id, "' of this client"}));
  }
  return std::move(*found);
}

onem2m::Response update_registration(const Settings& settings, const onem2m::Request& request, const Caller& caller,
                                     std::string_view id) {
  const auto run = [&]() -> Result<json::Object> {
    M2MSEC_TRY(own_registration(settings, caller, id));
    M2MSEC_ASSIGN_OR_RETURN(const json::Object object, content(settings.client_type, request));
    store::RegistrationChange change;
    json::Object answer;
    M2MSEC_TRY(expiry_and_labels(settings, caller, object, change.expires, change.labels, answer));
    M2MSEC_ASSIGN_OR_RETURN(const bool updated, settings.store->update_registration(settings.function, id, change));
    if (!updated) return Error(Category::kPolicy, Rsc::kNotFound, "the registration has gone");
    return answer;
  };
  return respond(request, Rsc::kUpdated, settings.client_type, run());
}

onem2m::Response delete_registration(const Settings& settings, const onem2m::Request& request, const Caller& caller,
                                     std::string_view id) {
  if (auto own = own_registration(settings, caller, id); !own) return failure(request, own.error());
  auto deleted = settings.store->delete_registration(settings.function, id);
  if (!deleted) return failure(request, deleted.error());
  if (!*deleted) return failure(request, Error(Category::kPolicy, Rsc::kNotFound, "the registration has gone"));
  return success(request, Rsc::kDeleted);
}

onem2m::Response create_key(const Settings& settings, const onem2m::Request& request, const Caller& caller) {
  const auto run = [&]() -> Result<json::Object> {
    M2MSEC_ASSIGN_OR_RETURN(const json::Object object, content(settings.key_type, request));
    M2MSEC_TRY(check_fqdn(settings, object));
    store::KeyRegistration key;
    key.function = settings.function;
    M2MSEC_ASSIGN_OR_RETURN(key.admin_fqdn, admin_fqdn(object));
    const auto suid = keys::suid_from_int(static_cast<unsigned>(*object.find(attr::kSuid)->integer()));
    if (!suid || std::find(settings.key_suids.begin(), settings.key_suids.end(), *suid) == settings.key_suids.end()) {
      return bad_request(concat({"SUID ", std::to_string(*object.find(attr::kSuid)->integer()),
                                 " is not one this function registers keys for"}));
    }
    key.suid = static_cast<std::uint32_t>(*suid);
    M2MSEC_ASSIGN_OR_RETURN(key.target_ids, targets(settings, *suid, object.find(attr::kTargetIds)));
    if (const auto* labels = object.find(attr::kLabels)) key.labels = onem2m::strings_of(*labels);
    key.source_client_id = caller.client_id;
    key.created = now(settings);
    M2MSEC_ASSIGN_OR_RETURN(key.expires, grant_expiry(settings, caller, *object.find(attr::kExpirationTime)));
    if (const auto* value = object.find(attr::kKeyValue)) {
      //= TS-0003 V3.18.0 §8.8.2.7 (§8.3.5.2.7)
      //# A self-generated Key Value; the function picks a previously unused RelativeKeyID for it.
      M2MSEC_ASSIGN_OR_RETURN(const Bytes octets, base64_decode(*value->string()));
      if (octets.size() < kMinKeyValue || octets.size() > kMaxKeyValue) {
        return bad_request("a Key Value has 16 to 64 octets");
      }
      key.key = SecretBytes::copy_of(octets);
      key.relative_key_id = random_id("");
    } else {
      //= TS-0003 V3.18.0 §8.8.2.7, §10.3.1, §10.3.5
      //# Without a Key Value both ends export Kc/KcID with "EXPORTER-oneM2M-Connection"; the RelativeKeyID
      //# the function assigns is hexBinary(KcID), which satisfies 10.3.5 and is unused (a fresh 128-bit value).
      if (caller.session == nullptr) return bad_request("no security association to export a key from");
      M2MSEC_ASSIGN_OR_RETURN(const SecretBytes exported, caller.session->export_keying_material(
                                                               keys::exporter_label(keys::ExportLabel::kConnection),
                                                               keys::kExportLength));
      M2MSEC_ASSIGN_OR_RETURN(auto split, keys::split_connection_export(exported.view()));
      key.key = SecretBytes::copy_of(split.key.view());
      key.relative_key_id = keys::KeyIdentifier::from_kc_id(split.id, settings.fqdn).relative_key_id();
    }
    M2MSEC_TRY(settings.store->add_key_registration(key));
    return key_attributes(settings, key);
  };
  return respond(request, Rsc::kCreated, settings.key_type, run());
}

onem2m::Response retrieve_key(const Settings& settings, const onem2m::Request& request, const Caller& caller,
                              std::string_view relative_key_id) {
  const auto run = [&]() -> Result<json::Object> {
    M2MSEC_ASSIGN_OR_RETURN(auto found, settings.store->find_key_registration(settings.function, relative_key_id));
    //= TS-0003 V3.18.0 §8.8.2.8 (§8.3.5.2.8)
    //# Only a target on the key's authorised list retrieves it, and only while it is valid.
    if (!found || found->expires <= now(settings) ||
        std::find(found->target_ids.begin(), found->target_ids.end(), caller.client_id) == found->target_ids.end()) {
      return no_such_key();
    }
    json::Object out = key_attributes(settings, *found);
    out.set(std::string(attr::kKeyValue), base64_encode(found->key.view()));
    return out;
  };
  return respond(request, Rsc::kOk, settings.key_type, run());
}

onem2m::Response update_key(const Settings& settings, const onem2m::Request& request, const Caller& caller,
                            std::string_view relative_key_id) {
  const auto run = [&]() -> Result<json::Object> {
    M2MSEC_ASSIGN_OR_RETURN(const store::KeyRegistration key, own_key(settings, caller, relative_key_id));
    M2MSEC_ASSIGN_OR_RETURN(const json::Object object, content(settings.key_type, request));
    store::KeyRegistrationChange change;
    json::Object answer;
    M2MSEC_TRY(expiry_and_labels(settings, caller, object, change.expires, change.labels, answer));
    if (const auto* value = object.find(attr::kTargetIds)) {
      const auto suid = keys::suid_from_int(key.suid);
      M2MSEC_CHECK(suid.has_value());
      M2MSEC_ASSIGN_OR_RETURN(change.target_ids, targets(settings, *suid, value));
      answer.set(std::string(attr::kTargetIds), *value);
    }
    M2MSEC_ASSIGN_OR_RETURN(const bool updated,
                            settings.store->update_key_registration(settings.function, relative_key_id, change));
    if (!updated) return no_such_key();
    return answer;
  };
  return respond(request, Rsc::kUpdated, settings.key_type, run());
}

onem2m::Response delete_key(const Settings& settings, const onem2m::Request& request, const Caller& caller,
                            std::string_view relative_key_id) {
  if (auto own = own_key(settings, caller, relative_key_id); !own) return failure(request, own.error());
  auto deleted = settings.store->delete_key_registration(settings.function, relative_key_id);
  if (!deleted) return failure(request, deleted.error());
  if (!*deleted) return failure(request, no_such_key());
  return success(request, Rsc::kDeleted);
}

onem2m::Response not_found(const onem2m::Request& request) {
  return failure(request, Error(Category::kUsage, Rsc::kNotFound, concat({"no resource '", request.to, "'"})));
}

onem2m::Response not_allowed(const onem2m::Request& request) {
  return failure(request, Error(Category::kUsage, Rsc::kOperationNotAllowed,
                                concat({onem2m::operation_name(request.op), " is not allowed on '", request.to, "'"})));
}

onem2m::Response route(const Settings& settings, const onem2m::Request& request, const Caller& caller,
                       const Procedures& procedures) {
  const Operation op = request.op;
  if (request.to == settings.base) {
    if (op == Operation::kRetrieve) {
      return success(request, Rsc::kOk,
                     onem2m::wrap(settings.base_type, json::Object{{std::string(attr::kResourceName), settings.base},
                                                                   {std::string(attr::kFqdn), settings.fqdn.text()}}));
    }
    if (op != Operation::kCreate) return not_allowed(request);
    if (request.ty == static_cast<std::uint32_t>(settings.client_type)) return procedures.create_registration();
    if (request.ty == static_cast<std::uint32_t>(settings.key_type)) return create_key(settings, request, caller);
    return failure(request, Error::usage(concat({"<", onem2m::resource_spec(settings.base_type).name, "> takes only <",
                                                 onem2m::resource_spec(settings.client_type).name, "> and <",
                                                 onem2m::resource_spec(settings.key_type).name, "> children"})));
  }
  const std::string_view to = request.to;
  if (!to.starts_with(settings.base) || to.size() < settings.base.size() + 2 || to[settings.base.size()] != '/' ||
      to.find('/', settings.base.size() + 1) != std::string_view::npos) {
    return not_found(request);
  }
  const std::string_view id = to.substr(settings.base.size() + 1);
  if (id.starts_with(settings.registration_prefix)) {
    switch (op) {
      case Operation::kRetrieve: return retrieve_registration(settings, request, caller, id);
      case Operation::kUpdate: {
        auto granted = procedures.update_caller(id);
        if (!granted) return failure(request, granted.error());
        return update_registration(settings, request, *granted, id);
      }
      case Operation::kDelete: return delete_registration(settings, request, caller, id);
      default: return not_allowed(request);
    }
  }
  switch (op) {
    case Operation::kRetrieve: return retrieve_key(settings, request, caller, id);
    case Operation::kUpdate: return update_key(settings, request, caller, id);
    case Operation::kDelete: return delete_key(settings, request, caller, id);
    default: return not_allowed(request);
  }
}

}  // namespace m2msec::registry

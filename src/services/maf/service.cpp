#include "m2msec/maf/service.h"

#include "m2msec/core/text.h"
#include "m2msec/onem2m/resources.h"
#include "m2msec/registry/registry.h"

namespace m2msec::maf {
namespace {

namespace attr = onem2m::attr;
using onem2m::Operation;
using onem2m::ResourceType;

constexpr std::string_view kBase = "maf";

// SUIDs of MAF-distributed keys (8.8.2.7): SAEF, ESPrim, ESData.
constexpr keys::Suid kKeySuids[] = {keys::Suid::kMafSaef, keys::Suid::kMafEsprim, keys::Suid::kMafEsdata,
                                    keys::Suid::kMafEsdataSignature};
constexpr keys::Suid kSingleTargetSuids[] = {keys::Suid::kMafSaef, keys::Suid::kMafEsprim};

store::Time seconds_of(const Clock& clock) { return std::chrono::time_point_cast<std::chrono::seconds>(clock.now()); }

}  // namespace

Result<std::optional<store::MasterCredential>> find_credential(store::Store& store, std::string_view psk_identity,
                                                               store::Time now) {
  // The identity is looked up as a KmID (relative part in lower case) and as a KeID (hex digits in upper
  // case): a KeID has the syntax of a KmID too.
  std::vector<std::string> spellings;
  if (auto km_id = tls::canonical_psk_identity(tls::PskIdentityKind::kKmId, psk_identity)) spellings.push_back(*km_id);
  if (auto ke_id = keys::KeId::parse(psk_identity)) spellings.push_back(ke_id->to_string());
  for (const auto& id : spellings) {
    M2MSEC_ASSIGN_OR_RETURN(auto found, store.find_master_credential(id));
    if (found && found->expires > now) return found;
  }
  return std::optional<store::MasterCredential>{};
}

std::optional<tls::PskCredential> CredentialResolver::resolve(std::string_view psk_identity) const {
  const store::Time now = seconds_of(*m_clock);
  auto found = find_credential(*m_store, psk_identity, now);
  if (!found) return std::nullopt;
  if (*found) return tls::PskCredential{std::move((*found)->km), std::move((*found)->client_id)};
  //= TS-0003 V3.18.0 §8.8.2.3 step 1 (remote provisioning), §8.3.2.1 step 6
  //# A client presenting a KeID: the MAF, as Enrolment Target, fetches its Km from the MEF with SUID 21.
  auto ke_id = keys::KeId::parse(psk_identity);
  if (!ke_id || !m_enrolments) return std::nullopt;
  auto fetched = m_enrolments->fetch(*ke_id, keys::Suid::kRspfMaf);
  if (!fetched || fetched->expires <= now) return std::nullopt;
  store::MasterCredential credential{ke_id->to_string(), fetched->key.clone(), fetched->enrolee_id, fetched->expires};
  if (!m_store->put_master_credential(credential)) return std::nullopt;
  return tls::PskCredential{std::move(fetched->key), std::move(fetched->enrolee_id)};
}

struct Service::State {
  ServiceOptions options;
  registry::Settings settings;

  // The caller of a request: a MAF Handshake with KmID/Km (or KeID/Km), or a certificate, authenticated it.
  struct Identified : registry::Authenticated {
    std::optional<store::MasterCredential> credential;  // a PSK association's
  };

  Result<Identified> identify(const tls::Session* session) const {
    //= TS-0003 V3.18.0 §8.2.2.3 step 5, Table 12.3.2.1-1
    //# The Credential-ID of a MAF credential is of type 11 (a KeID stands in for the KmID until one is assigned).
    M2MSEC_ASSIGN_OR_RETURN(registry::Authenticated authenticated,
                            registry::authenticate(session, keys::CredIdType::kMafSymmetricKey));
    Identified out{std::move(authenticated), std::nullopt};
    if (out.psk_identity) {
      M2MSEC_ASSIGN_OR_RETURN(out.credential, find_credential(*options.store, *out.psk_identity, registry::now(settings)));
      if (!out.credential) {
        return Error(Category::kPolicy, Rsc::kOriginatorHasNoPrivilege, "the association's key is not a MAF credential");
      }
      out.caller.client_id = out.credential->client_id;
      out.caller.credential_expires = out.credential->expires;
    }
    return out;
  }

  onem2m::Response create_registration(const onem2m::Request& request, const Identified& who) const {
    const auto run = [&]() -> Result<json::Object> {
      M2MSEC_ASSIGN_OR_RETURN(store::Registration registration,
                              registry::new_registration(settings, request, who.caller));
      std::optional<store::MasterCredential> assigned;
      if (who.credential && keys::KeId::parse(who.credential->id)) {
        //= TS-0003 V3.18.0 §8.8.2.3 (Table 8.8.2.3-2, assignedSymmKeyID)
        //# A remotely provisioned client gets a KmID, under which the MAF keeps its Km from now on.
        M2MSEC_ASSIGN_OR_RETURN(const keys::KmId km_id, keys::KmId::make(registry::random_id("km"), options.fqdn));
        M2MSEC_ASSIGN_OR_RETURN(std::string canonical,
                                tls::canonical_psk_identity(tls::PskIdentityKind::kKmId, km_id.to_string()));
        assigned = store::MasterCredential{std::move(canonical), who.credential->km.clone(), who.caller.client_id,
                                           who.credential->expires};
        registration.assigned_key_id = km_id.to_string();
      }
      M2MSEC_TRY(options.store->add_registration(registration, registration.created));
      if (assigned) M2MSEC_TRY(options.store->put_master_credential(*assigned));
      return registry::registration_attributes(settings, registration);
    };
    return registry::respond(request, Rsc::kCreated, ResourceType::kMafClientReg, run());
  }

};

Service::Service(ServiceOptions options) {
  registry::Settings settings{store::Function::kMaf, options.fqdn, std::string(kBase), ResourceType::kMafBase,
                              ResourceType::kMafClientReg, ResourceType::kMafKeyReg, "acr-", options.store,
                              options.clock, options.max_lifetime, kKeySuids, kSingleTargetSuids, options.client_cfg};
  m_state = std::make_shared<const State>(State{std::move(options), std::move(settings)});
}

onem2m::Response Service::handle(const onem2m::Request& request, const tls::Session* session) const {
  const State& s = *m_state;
  auto who = s.identify(session);
  if (!who) return registry::failure(request, who.error());
  if (auto admitted = registry::admit(s.settings, request, who->caller, who->credential_id); !admitted) {
    return registry::failure(request, admitted.error());
  }
  const auto& caller = *who;
  return registry::route(s.settings, request, who->caller,
                         registry::Procedures{[&] { return s.create_registration(request, caller); },
                                              [&](std::string_view) { return Result<registry::Caller>(caller.caller); }});
}

}  // namespace m2msec::maf

#include "m2msec/mef/service.h"

#include <algorithm>
#include <charconv>

#include "m2msec/core/encoding.h"
#include "m2msec/core/text.h"
#include "m2msec/core/timestamp.h"
#include "m2msec/ibc/identity.h"
#include "m2msec/keys/export.h"
#include "m2msec/onem2m/duration.h"
#include "m2msec/onem2m/resources.h"
#include "m2msec/registry/registry.h"

namespace m2msec::mef {
namespace {

namespace attr = onem2m::attr;
using onem2m::Operation;
using onem2m::ResourceType;

constexpr std::string_view kBase = "mef";
constexpr std::string_view kFetchCredentials = "fetchCredentials";
constexpr std::string_view kCommand = "cmd";

// SUIDs of keys the MEF registers (8.3.5.2.7): RSPF-provisioned keys for SAEF, ESPrim and ESData.
constexpr keys::Suid kKeySuids[] = {keys::Suid::kRspfSaef, keys::Suid::kRspfEsprim, keys::Suid::kRspfEsdata,
                                    keys::Suid::kRspfEsdataSignature};
constexpr keys::Suid kSingleTargetSuids[] = {keys::Suid::kRspfSaef, keys::Suid::kRspfEsprim};

// sec:cmdStatusCode (12.3.2.4).
constexpr std::int64_t kCmdIssued = 10;
constexpr std::int64_t kCmdReissued = 11;

// Every refusal of /fetchCredentials says the same: an unknown KeID, an expired enrolment and a target that
// may not fetch it are not told apart.
Error not_authorised() {
  return Error(Category::kPolicy, Rsc::kOriginatorHasNoPrivilege, "no credential for this target");
}

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (true) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    path.remove_prefix(slash + 1);
  }
}

}  // namespace

struct Service::State {
  ServiceOptions options;
  registry::Settings settings;

  // The caller of a request: a MEF Handshake with KpmID/Kpm, or a certificate, authenticated it.
  struct Identified : registry::Authenticated {
    std::optional<store::Enrolee> enrolee;  // a PSK association's
  };

  Result<Identified> identify(const tls::Session* session) const {
    M2MSEC_ASSIGN_OR_RETURN(registry::Authenticated authenticated,
                            registry::authenticate(session, keys::CredIdType::kMefSymmetricKey));
    Identified out{std::move(authenticated), std::nullopt};
    if (out.psk_identity) {
      M2MSEC_ASSIGN_OR_RETURN(const std::string kpm_id,
                              tls::canonical_psk_identity(tls::PskIdentityKind::kKpmId, *out.psk_identity));
      M2MSEC_ASSIGN_OR_RETURN(out.enrolee, options.store->find_enrolee(kpm_id));
      if (!out.enrolee) {
        return Error(Category::kPolicy, Rsc::kOriginatorHasNoPrivilege, "the association's key is not a MEF credential");
      }
    }
    return out;
  }

  //= TS-0003 V3.18.0 §10.7
  //# An update does not carry a registration past the enrolment made with it either: the caller's credential
  //# expiry, for the registration `id`, is its enrolment's.
  Result<registry::Caller> registration_caller(const registry::Caller& caller, std::string_view id) const {
    registry::Caller out = caller;
    M2MSEC_ASSIGN_OR_RETURN(const auto registration, options.store->find_registration(store::Function::kMef, id));
    if (!registration || registration->ke_id.empty()) return out;
    M2MSEC_ASSIGN_OR_RETURN(const auto enrolment, options.store->find_enrolment(registration->ke_id));
    if (enrolment) out.credential_expires = std::min(out.credential_expires, enrolment->expires);
    return out;
  }

  std::string target_of(const store::Enrolee* enrolee) const {
    return enrolee != nullptr && !enrolee->target_id.empty() ? enrolee->target_id : options.default_target;
  }

  //= TS-0003 V3.18.0 §8.3.2.1 steps 3-4, §8.3.5.2.3
  //# MEF Client Registration inside the PPSK RSPF association: the Enrolment Key and KeID are exported from
  //# it ("EXPORTER-oneM2M-Bootstrap") and stored with the registration, in one transaction.
  onem2m::Response create_registration(const onem2m::Request& request, const Identified& who) const {
    const auto run = [&]() -> Result<json::Object> {
      M2MSEC_ASSIGN_OR_RETURN(store::Registration registration,
                              registry::new_registration(settings, request, who.caller));
      M2MSEC_ASSIGN_OR_RETURN(const SecretBytes exported,
                              who.caller.session->export_keying_material(
                                  keys::exporter_label(keys::ExportLabel::kBootstrap), keys::kExportLength));
      M2MSEC_ASSIGN_OR_RETURN(auto split, keys::split_bootstrap_export(exported.view()));
      store::Enrolment enrolment;
      enrolment.ke_id = keys::KeId(split.id, options.fqdn).to_string();
      enrolment.ke = SecretBytes::copy_of(split.key.view());
      enrolment.kpm_id = who.enrolee ? who.enrolee->kpm_id : "";
      enrolment.enrolee_id = who.caller.client_id;
      enrolment.target_id = target_of(who.enrolee ? &*who.enrolee : nullptr);
      enrolment.created = registration.created;
      const std::chrono::seconds lifetime =
          who.enrolee && who.enrolee->lifetime.count() > 0 ? who.enrolee->lifetime : options.enrolment_lifetime;
      enrolment.expires = enrolment.created + lifetime;
      //= TS-0003 V3.18.0 §10.7
      //# Nothing made from Ke outlives it: the registration expires with the enrolment at the latest.
      registration.expires = std::min(registration.expires, enrolment.expires);
      registration.ke_id = enrolment.ke_id;
      // A client registering with several administrating stakeholders in one association has one Ke for all;
      // a second registration for the same adminFQDN in that association is a CONFLICT. In a new association
      // the registration is a re-enrolment: it replaces the client's registration for that adminFQDN and
      // revokes the enrolment that one carried (a device that lost its state can enrol again).
      M2MSEC_ASSIGN_OR_RETURN(const auto recorded, options.store->find_enrolment(enrolment.ke_id));
      M2MSEC_TRY(options.store->add_registration(registration, registration.created, recorded ? nullptr : &enrolment,
                                                 recorded ? store::Store::LiveHolder::kRefuse
                                                          : store::Store::LiveHolder::kReplace));

      json::Object out = registry::registration_attributes(settings, registration);
      //= seed 002, figure 8.3.4.6-1 steps 3-4
      //# A command waiting for the client is announced by a childResource reference to the <mefClientCmd>.
      M2MSEC_ASSIGN_OR_RETURN(const auto command, options.store->current_command(who.caller.client_id));
      if (command) {
        json::Object child{{"nm", std::string(kCommand)},
                           {"typ", static_cast<std::int64_t>(ResourceType::kMefClientCmd)},
                           {"val", concat({kBase, "/", registration.id, "/", kCommand})}};
        out.set(std::string(attr::kChildResource), json::Array{json::Value(std::move(child))});
      }
      return out;
    };
    return registry::respond(request, Rsc::kCreated, ResourceType::kMefClientReg, run());
  }

  json::Object command_attributes(std::string_view registration_id, std::string cmd_id, json::Value description,
                                  std::int64_t status) const {
    return json::Object{{std::string(attr::kResourceId), concat({registration_id, "/", kCommand})},
                        {std::string(attr::kResourceName), std::string(kCommand)},
                        {std::string(attr::kResourceType), static_cast<std::int64_t>(ResourceType::kMefClientCmd)},
                        {std::string(attr::kParentId), std::string(registration_id)},
                        {std::string(attr::kCmdId), std::move(cmd_id)},
                        {std::string(attr::kCmdDescription), std::move(description)},
                        {std::string(attr::kCmdStatusCode), status}};
  }

  //= TS-0003 V3.18.0 §8.3.9.2 step 4, §8.3.9.6
  //# The current command of the client, issued (10) or, when no status came for an earlier issue,
  //# reissued (11); when none is left, NO_MORE_COMMANDS with the retryDuration.
  Result<json::Object> current_command(std::string_view registration_id, const Identified& who) const {
    M2MSEC_ASSIGN_OR_RETURN(const auto command, options.store->current_command(who.caller.client_id));
    if (!command) {
      json::Object no_more{{std::string(attr::kRetryDuration), onem2m::format_duration(options.retry_duration)}};
      json::Object description{
          {std::string(attr::kCmdClassId), static_cast<std::int64_t>(CommandClass::kNoMoreCommands)},
          {std::string(attr::kCmdArgs), json::Object{{std::string(attr::kNoMoreCmdArgs), std::move(no_more)}}}};
      return command_attributes(registration_id, registry::random_id("n-"), std::move(description), kCmdIssued);
    }
    M2MSEC_ASSIGN_OR_RETURN(json::Value description, json::parse(command->description_json));
    const bool reissue = command->state == store::Command::State::kIssued;
    if (!reissue) {
      M2MSEC_TRY(options.store->set_command_state(who.caller.client_id, command->cmd_id, store::Command::State::kIssued,
                                                  std::nullopt));
    }
    return command_attributes(registration_id, command->cmd_id, std::move(description),
                              reissue ? kCmdReissued : kCmdIssued);
  }

  onem2m::Response command(const onem2m::Request& request, const Identified& who, std::string_view id) const {
    const auto run = [&]() -> Result<json::Object> {
      M2MSEC_TRY(registry::own_registration(settings, who.caller, id));
      if (request.op == Operation::kUpdate) {
        //= TS-0003 V3.18.0 §8.3.9.3
        //# A status for the most recently issued command is recorded; any other is discarded. Either way
        //# the response carries the next command.
        if (!request.pc) return Error::usage("the Command Update has no content");
        M2MSEC_ASSIGN_OR_RETURN(const json::Object object,
                                onem2m::check_content(ResourceType::kMefClientCmd, Operation::kUpdate, *request.pc));
        const std::string& cmd_id = *object.find(attr::kCmdId)->string();
        const std::int64_t status = *object.find(attr::kCmdStatusCode)->integer();
        M2MSEC_ASSIGN_OR_RETURN(const auto current, options.store->current_command(who.caller.client_id));
        if (current && current->state == store::Command::State::kIssued && current->cmd_id == cmd_id &&
            status <= 0xFFFF) {
          M2MSEC_TRY(options.store->set_command_state(who.caller.client_id, cmd_id, store::Command::State::kReported,
                                                      static_cast<std::uint32_t>(status)));
        }
      }
      return current_command(id, who);
    };
    return registry::respond(request, request.op == Operation::kUpdate ? Rsc::kUpdated : Rsc::kOk, ResourceType::kMefClientCmd, run());
  }

  //= seed 002 §8.3.7.2, §8.3.7.3
  //# IBC Credential Provisioning, inside the association of a MEF Handshake: the client names its ID (or its
  //# current ID_1 to renew it); the MEF makes a unique ID_2 = FQDN@hexBinary(ID)@expirationTime, has the KMS
  //# issue the keys of ID_2, and answers (ID_2, SSK, PVT, KPAK), with the SAKKE RSK and Z_S of the same KMS.
  onem2m::Response provision_ibc(const onem2m::Request& request, const Identified& who) const {
    const auto run = [&]() -> Result<json::Object> {
      if (!options.kms) return Error::unsupported("this MEF has no KMS for IBC credentials");
      if (!request.pc) return Error::usage("the IBC credential request has no content");
      M2MSEC_ASSIGN_OR_RETURN(const json::Object content,
                              onem2m::check_content(ResourceType::kMefIbcCred, Operation::kCreate, *request.pc));
      const json::Value* id = content.find(attr::kIbcId);
      const json::Value* id1 = content.find(attr::kIbcId1);
      if ((id == nullptr) == (id1 == nullptr)) return Error::usage("name exactly one of ibid (ID) and ibi1 (ID_1)");
      const store::Time now = registry::now(settings);
      std::string identity;
      if (id != nullptr) {
        identity = *id->string();
      } else {
        //= seed 002 §8.3.7.3 pre-condition A
        //# Only a credential this MEF issued to this client, and still valid, is renewed.
        M2MSEC_ASSIGN_OR_RETURN(const ibc::IbcIdentity current, ibc::IbcIdentity::parse(*id1->string()));
        M2MSEC_ASSIGN_OR_RETURN(const auto issued, options.store->find_ibc_identity(*id1->string()));
        if (!issued || issued->client_id != who.caller.client_id || issued->expires <= now ||
            current.fqdn != options.fqdn.text()) {
          return Error(Category::kPolicy, Rsc::kOriginatorHasNoPrivilege, "ID_1 is not a valid IBC identity of this client");
        }
        identity = std::string(as_text(current.id));
      }
      // The association proved the MEF Client ID: credentials are issued for it only (an ID of another entity
      // would let one enrolee sign as another).
      if (identity != who.caller.client_id) {
        return Error(Category::kPolicy, Rsc::kOriginatorHasNoPrivilege,
                     concat({"IBC credentials are issued for the caller's own ID ", who.caller.client_id}));
      }
      const store::Time expires = std::min(now + options.ibc_lifetime, who.caller.credential_expires);
      if (expires <= now) return Error(Category::kPolicy, Rsc::kOriginatorHasNoPrivilege, "the enrolment has expired");
      //= seed 002 §8.3.7.2 NOTE 1
      //# ID_2 is unique: the store refuses an ID_2 recorded before; the next one is a second earlier.
      std::string id2;
      store::Time id2_expires;
      for (int attempt = 0; id2.empty(); ++attempt) {
        if (attempt == 16) return Error(Category::kInternal, "no unique ID_2 could be made");
        ibc::IbcIdentity made{options.fqdn.text(), Bytes(as_bytes(identity).begin(), as_bytes(identity).end()),
                              expires - std::chrono::seconds(attempt)};
        M2MSEC_ASSIGN_OR_RETURN(std::string candidate, made.format());
        Result<void> added = options.store->add_ibc_identity(
            store::IbcIdentityRecord{candidate, who.caller.client_id, now, made.expires});
        if (added) {
          id2 = std::move(candidate);
          id2_expires = made.expires;
        } else if (added.error().rsc() != Rsc::kConflict) {
          return std::move(added).error();
        }
      }
      // A KMS that refuses or cannot be reached is this MEF's failure, not the client's (5000, no detail).
      auto keys = options.kms->issue(as_bytes(id2));
      if (!keys) return Error(Category::kIo, Rsc::kInternalServerError, "the KMS issued no keys: " + keys.error().to_string());
      M2MSEC_ASSIGN_OR_RETURN(const std::string expiration, format_m2m_timestamp(id2_expires));
      return json::Object{{std::string(attr::kIbcId2), id2},
                          {std::string(attr::kExpirationTime), expiration},
                          {std::string(attr::kSsk), base64_encode(keys->eccsi.ssk.view())},
                          {std::string(attr::kPvt), base64_encode(keys->eccsi.pvt)},
                          {std::string(attr::kKpak), base64_encode(keys->public_keys.kpak)},
                          {std::string(attr::kRsk), base64_encode(keys->rsk.view())},
                          {std::string(attr::kKmsPublicKey), base64_encode(keys->public_keys.z)}};
    };
    return registry::respond(request, Rsc::kCreated, ResourceType::kMefIbcCred, run());
  }

  //= TS-0003 V3.18.0 §8.3.2.1 step 6 (Tables 8.3.2.1-5, 8.3.2.1-6)
  //# RETRIEVE /fetchCredentials/<KeID>/<SUID> by an Enrolment Target.
  onem2m::Response fetch_credentials(const onem2m::Request& request, const Identified& who, std::string_view ke_text,
                                     std::string_view suid_text, const Service& self) const {
    const auto run = [&]() -> Result<json::Object> {
      M2MSEC_ASSIGN_OR_RETURN(const keys::KeId ke_id, keys::KeId::parse(ke_text));
      if (!(ke_id.mef() == options.fqdn)) {
        return Error::usage(concat({"the KeID names the MEF ", ke_id.mef().text(), ", this is ", options.fqdn.text()}));
      }
      unsigned number = 0;
      const auto [end, ec] = std::from_chars(suid_text.data(), suid_text.data() + suid_text.size(), number);
      const auto suid = keys::suid_from_int(number);
      if (ec != std::errc{} || end != suid_text.data() + suid_text.size() || !suid) {
        return Error::usage(concat({"'", suid_text, "' is not an m2m:suid"}));
      }
      M2MSEC_ASSIGN_OR_RETURN(const FetchedCredential credential, self.fetch(ke_id, *suid, who.caller.client_id));
      M2MSEC_ASSIGN_OR_RETURN(const std::string lifetime, format_m2m_timestamp(credential.expires));
      return json::Object{{std::string(attr::kStatus), true},
                          {std::string(attr::kCredential), base64_encode(credential.key.view())},
                          {std::string(attr::kEnroleeId), credential.enrolee_id},
                          {std::string(attr::kLifetime), lifetime}};
    };
    auto attributes = run();
    if (!attributes) {
      onem2m::Response out = registry::failure(request, attributes.error());
      out.pc = json::Object{{std::string(onem2m::kFetchedCredentialRoot),
                             json::Object{{std::string(attr::kStatus), false},
                                          {std::string(attr::kErrorString), attributes.error().detail()}}}};
      return out;
    }
    return registry::success(request, Rsc::kOk,
                             json::Object{{std::string(onem2m::kFetchedCredentialRoot), std::move(*attributes)}});
  }
};

Service::Service(ServiceOptions options) {
  registry::Settings settings{store::Function::kMef, options.fqdn, std::string(kBase), ResourceType::kMefBase,
                              ResourceType::kMefClientReg, ResourceType::kMefKeyReg, "mcr-", options.store,
                              options.clock, options.max_lifetime, kKeySuids, kSingleTargetSuids, options.client_cfg};
  m_state = std::make_shared<const State>(State{std::move(options), std::move(settings)});
}

const keys::Fqdn& Service::fqdn() const { return m_state->options.fqdn; }

onem2m::Response Service::handle(const onem2m::Request& request, const tls::Session* session) const {
  const State& s = *m_state;
  auto who = s.identify(session);
  if (!who) return registry::failure(request, who.error());
  if (auto admitted = registry::admit(s.settings, request, who->caller, who->credential_id); !admitted) {
    return registry::failure(request, admitted.error());
  }
  const std::vector<std::string_view> path = segments(request.to);
  const Operation op = request.op;
  if (path.size() == 3 && path[0] == kFetchCredentials) {
    if (op != Operation::kRetrieve) return registry::not_allowed(request);
    return s.fetch_credentials(request, *who, path[1], path[2], *this);
  }
  if (path.size() == 3 && path[0] == kBase && path[2] == kCommand) {
    if (op != Operation::kRetrieve && op != Operation::kUpdate) return registry::not_allowed(request);
    return s.command(request, *who, path[1]);
  }
  if (path.size() == 1 && path[0] == kBase && op == Operation::kCreate &&
      request.ty == static_cast<std::uint32_t>(ResourceType::kMefIbcCred)) {
    return s.provision_ibc(request, *who);
  }
  const auto& caller = *who;
  return registry::route(s.settings, request, who->caller,
                         registry::Procedures{[&] { return s.create_registration(request, caller); },
                                              [&](std::string_view id) { return s.registration_caller(caller.caller, id); }});
}

Result<FetchedCredential> Service::fetch(const keys::KeId& ke_id, keys::Suid suid, std::string_view target_id) const {
  const State& s = *m_state;
  M2MSEC_ASSIGN_OR_RETURN(const auto enrolment, s.options.store->find_enrolment(ke_id.to_string()));
  //= TS-0003 V3.18.0 §8.3.2.1 step 6 (c), §10.7
  //# The MEF checks that this target may fetch this enrolee's key for this usage, while Ke is valid.
  if (!enrolment || enrolment->expires <= registry::now(s.settings) || enrolment->target_id != target_id) {
    return not_authorised();
  }
  M2MSEC_ASSIGN_OR_RETURN(const keys::EnrolmentKey ke, keys::EnrolmentKey::from(enrolment->ke.view()));
  FetchedCredential out;
  out.enrolee_id = enrolment->enrolee_id;
  out.expires = enrolment->expires;
  switch (suid) {
    case keys::Suid::kRspfMaf: {
      //= TS-0003 V3.18.0 §8.8.2.3, §10.3.2
      //# A MAF fetching with SUID 21 obtains Km: the clause says the MAF "thereby" learns Km, so the MEF
      //# derives Km for the MAF-ID (the target), the key the enrolee derives itself from Ke.
      M2MSEC_ASSIGN_OR_RETURN(const auto km, keys::derive_km(ke, target_id));
      out.key = SecretBytes::copy_of(km.view());
      return out;
    }
    case keys::Suid::kRspfSaef:
    case keys::Suid::kRspfEsprim:
    case keys::Suid::kRspfEsdata:
    case keys::Suid::kRspfEsdataSignature: {
      //= TS-0003 V3.18.0 §10.3.7
      //# Other RSPF usages get the usage-constrained key for (SUID, Enrolment-Target-ID).
      M2MSEC_ASSIGN_OR_RETURN(const auto key, keys::derive_usage_constrained_key(ke, suid, target_id));
      out.key = SecretBytes::copy_of(key.view());
      return out;
    }
    default:
      return Error::usage("only RSPF-provisioned SUIDs (21-25) are fetched from a MEF");
  }
}

Result<FetchedCredential> LocalCredentialSource::fetch(const keys::KeId& ke_id, keys::Suid suid) const {
  return m_mef->fetch(ke_id, suid, m_target);
}

std::optional<tls::PskCredential> EnroleeResolver::resolve(std::string_view psk_identity) const {
  auto canonical = tls::canonical_psk_identity(tls::PskIdentityKind::kKpmId, psk_identity);
  if (!canonical) return std::nullopt;
  auto enrolee = m_store->find_enrolee(*canonical);
  if (!enrolee || !*enrolee) return std::nullopt;
  std::string bound = (*enrolee)->enrolee_id;
  if (bound.empty()) {
    auto credential = keys::CredentialId::make(keys::CredIdType::kMefSymmetricKey, *canonical);
    if (!credential) return std::nullopt;
    bound = credential->to_string();
  }
  return tls::PskCredential{std::move((*enrolee)->kpm), std::move(bound)};
}

std::optional<CommandClass> command_class_named(std::string_view name) {
  if (name == "cert-prov") return CommandClass::kCertProv;
  if (name == "dev-cfg") return CommandClass::kDevCfg;
  if (name == "mo-node") return CommandClass::kMoNode;
  if (name == "ibc-prov") return CommandClass::kIbcProv;
  return std::nullopt;
}

Result<std::string> queue_command(store::Store& store, std::string_view client_id, CommandClass command_class,
                                  const json::Object& arguments) {
  //= TS-0003 V3.18.0 §12.4.5
  //# cmdArgs is a choice: the member named after the class.
  std::string_view member;
  switch (command_class) {
    case CommandClass::kCertProv: member = attr::kCertProvCmdArgs; break;
    case CommandClass::kDevCfg: member = attr::kDevCfgCmdArgs; break;
    case CommandClass::kMoNode: member = attr::kMoNodeCmdArgs; break;
    case CommandClass::kIbcProv: member = attr::kIbcProvCmdArgs; break;
    case CommandClass::kNoMoreCommands:
      return Error::usage("NO_MORE_COMMANDS is issued by the MEF when the queue is empty, not queued");
  }
  if (client_id.empty()) return Error::usage("a command needs the MEF Client ID it is for");
  json::Object description{{std::string(attr::kCmdClassId), static_cast<std::int64_t>(command_class)},
                           {std::string(attr::kCmdArgs), json::Object{{std::string(member), arguments}}},
                           {std::string(attr::kTargetId), std::string(client_id)}};
  store::Command command;
  command.client_id = std::string(client_id);
  command.cmd_id = registry::random_id("c-");
  command.description_json = json::serialize(description);
  M2MSEC_TRY(store.add_command(command));
  return command.cmd_id;
}

}  // namespace m2msec::mef

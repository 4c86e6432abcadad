#include "m2msec/client/mef.h"

#include "m2msec/core/encoding.h"
#include "m2msec/core/text.h"
#include "m2msec/core/timestamp.h"
#include "m2msec/keys/export.h"
#include "m2msec/onem2m/duration.h"

namespace m2msec::client {
namespace {

namespace attr = onem2m::attr;
using onem2m::Operation;
using onem2m::ResourceType;

// sec:cmdClassID and sec:cmdStatusCode (12.3.2.3, 12.3.2.4).
constexpr std::int64_t kNoMoreCommands = 0;
constexpr std::int64_t kRepeatedCmdId = 40;
constexpr std::int64_t kClassNotSupported = 41;
constexpr std::int64_t kBadArguments = 42;
constexpr std::int64_t kOk = 20;
constexpr std::int64_t kUnacceptableArguments = 43;
constexpr std::int64_t kIbcProv = 4;
// IBC_PROV results in the pattern of CERT_PROV's 100/101 (seed 002 gives none): our numbers.
constexpr std::int64_t kIbcProvServerError = 500;
constexpr std::int64_t kIbcProvClientError = 501;

// A command loop that does not end is the MEF's fault; the client stops.
constexpr int kMaxCommands = 64;

//= seed 002 §8.3.4.5, §8.3.7.2 pre-condition A
//# IBC_PROV: the IBCBasedURI must name the MEF's FQDN; then (re-)provisioning over this association. A
//# credential that fails the client's checks is a client error; a refusal or a broken exchange a server error.
CommandReport run_ibc_command(Channel& channel, const json::Value& args, const keys::Fqdn& mef_fqdn,
                              const EnrolOptions& options, Enrolment& out, CommandReport report) {
  const json::Value* ibc_args = args.find(attr::kIbcProvCmdArgs);
  const json::Value* uri = ibc_args == nullptr ? nullptr : ibc_args->find(attr::kIbcBasedUri);
  if (uri == nullptr || uri->string() == nullptr) {
    report.status = kBadArguments;
    report.detail = "IBC_PROV without ibcProvCmdArgs.IBCBasedURI";
    return report;
  }
  // An https URI, or a coaps one when the MEF speaks the CoAP binding.
  std::string host;
  if (const auto url = http::Url::parse(*uri->string())) {
    host = url->host;
  } else if (const auto coap_url = coap::Url::parse(*uri->string())) {
    host = coap_url->host;
  }
  if (host.empty() || host != mef_fqdn.text()) {
    report.status = kUnacceptableArguments;
    report.detail = concat({"the IBCBasedURI ", *uri->string(), " does not name the MEF ", mef_fqdn.text()});
    return report;
  }
  const std::optional<std::string>& current = out.ibc ? std::optional<std::string>(out.ibc->id2) : options.ibc_current;
  auto credential = provision_ibc(channel, out.client_id, current);
  if (!credential) {
    const Category category = credential.error().category();
    report.status = category == Category::kAuth || category == Category::kCrypto ? kIbcProvClientError
                                                                                  : kIbcProvServerError;
    report.detail = credential.error().to_string();
    return report;
  }
  out.ibc = std::move(*credential);
  report.status = kOk;
  return report;
}

}  // namespace

Result<Enrolment> enrol(const EnrolOptions& options) {
  M2MSEC_ASSIGN_OR_RETURN(Channel channel, Channel::open(options.mef));
  if (!channel.secured()) return Error::usage("enrolment needs a security association with the MEF (https or coaps)");

  //= TS-0003 V3.18.0 §8.3.2.1 step 4, §10.3.1, §10.3.4
  //# Ke and RelativeKeID from this association; KeID = hexBinary(RelativeKeID)@MEF-FQDN.
  M2MSEC_ASSIGN_OR_RETURN(const SecretBytes exported,
                          channel.session().export_keying_material(keys::exporter_label(keys::ExportLabel::kBootstrap),
                                                                   keys::kExportLength));
  M2MSEC_ASSIGN_OR_RETURN(auto split, keys::split_bootstrap_export(exported.view()));
  M2MSEC_ASSIGN_OR_RETURN(const keys::Fqdn mef_fqdn, channel.fqdn());
  const keys::KeId ke_id(split.id, mef_fqdn);

  //= TS-0003 V3.18.0 §8.3.5.2.3
  //# MEF Client Registration: MEF-FQDN, the proposed expirationTime, labels, adminFQDN.
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  M2MSEC_ASSIGN_OR_RETURN(const std::string proposed, format_m2m_timestamp(now + options.lifetime));
  json::Object request{{std::string(attr::kFqdn), mef_fqdn.text()},
                       {std::string(attr::kExpirationTime), proposed},
                       {std::string(attr::kAdminFqdn),
                        options.admin_fqdn.empty() ? mef_fqdn.text() : options.admin_fqdn}};
  if (!options.labels.empty()) request.set(std::string(attr::kLabels), onem2m::string_list(options.labels));
  M2MSEC_ASSIGN_OR_RETURN(const json::Object registration,
                          channel.call(Operation::kCreate, channel.base(), ResourceType::kMefClientReg,
                                       onem2m::wrap(ResourceType::kMefClientReg, std::move(request)), Rsc::kCreated));
  M2MSEC_ASSIGN_OR_RETURN(const std::string reported, onem2m::string_member(registration, attr::kKeId));
  M2MSEC_ASSIGN_OR_RETURN(const keys::KeId reported_id, keys::KeId::parse(reported));
  if (!(reported_id == ke_id)) {
    return Error(Category::kAuth, concat({"the MEF recorded KeID ", reported, ", this end exported ", ke_id.to_string()}));
  }
  M2MSEC_ASSIGN_OR_RETURN(const keys::EnrolmentKey ke, keys::EnrolmentKey::from(split.key.view()));
  M2MSEC_ASSIGN_OR_RETURN(std::string registration_id, onem2m::string_member(registration, attr::kResourceId));
  M2MSEC_ASSIGN_OR_RETURN(std::string client_id, onem2m::string_member(registration, attr::kClientId));
  M2MSEC_ASSIGN_OR_RETURN(const auto expires, onem2m::timestamp_member(registration, attr::kExpirationTime));
  Enrolment out{ke_id, ke.clone(), std::move(registration_id), std::move(client_id), expires, {}, {}};

  //= TS-0003 V3.18.0 §8.3.4.6 (seed 002 figure 8.3.4.6-1), §8.3.9.2, §8.3.9.3
  //# After registering, Command Retrieve; each issued command is answered by a Command Update, whose
  //# response carries the next command, until NO_MORE_COMMANDS.
  const std::string command_path = concat({channel.base(), "/", out.registration_id, "/cmd"});
  M2MSEC_ASSIGN_OR_RETURN(json::Object command, channel.call(Operation::kRetrieve, command_path,
                                                             ResourceType::kMefClientCmd, std::nullopt, Rsc::kOk));
  std::string last_reported;
  for (int round = 0;; ++round) {
    if (round == kMaxCommands) return Error(Category::kProtocol, "the MEF issues commands without end");
    M2MSEC_ASSIGN_OR_RETURN(std::string cmd_id, onem2m::string_member(command, attr::kCmdId));
    const json::Value* description = command.find(attr::kCmdDescription);
    const json::Value* class_id = description == nullptr ? nullptr : description->find(attr::kCmdClassId);
    std::int64_t status = kClassNotSupported;
    std::int64_t command_class = -1;
    if (class_id == nullptr || !class_id->integer()) {
      status = kBadArguments;
    } else {
      command_class = *class_id->integer();
    }
    if (cmd_id == last_reported) {
      status = kRepeatedCmdId;
    } else if (command_class == kNoMoreCommands) {
      //= TS-0003 V3.18.0 §8.3.9.6
      //# NO_MORE_COMMANDS: no report; retry after retryDuration.
      const json::Value* args = description->find(attr::kCmdArgs);
      const json::Value* no_more = args == nullptr ? nullptr : args->find(attr::kNoMoreCmdArgs);
      const json::Value* retry = no_more == nullptr ? nullptr : no_more->find(attr::kRetryDuration);
      if (retry == nullptr || retry->string() == nullptr) {
        return Error(Category::kProtocol, "NO_MORE_COMMANDS without a retryDuration");
      }
      M2MSEC_ASSIGN_OR_RETURN(out.retry_after, onem2m::parse_duration(*retry->string()));
      return out;
    }
    CommandReport report{cmd_id, command_class, status, {}};
    if (status == kClassNotSupported && command_class == kIbcProv) {
      M2MSEC_ASSIGN_OR_RETURN(const keys::Fqdn fqdn, channel.fqdn());
      const json::Value* args = description->find(attr::kCmdArgs);
      report = run_ibc_command(channel, args == nullptr ? json::Value() : *args, fqdn, options, out, std::move(report));
      status = report.status;
    }
    out.commands.push_back(std::move(report));
    last_reported = cmd_id;
    json::Object update{{std::string(attr::kCmdId), cmd_id}, {std::string(attr::kCmdStatusCode), status}};
    M2MSEC_ASSIGN_OR_RETURN(command, channel.call(Operation::kUpdate, command_path, ResourceType::kMefClientCmd,
                                                  onem2m::wrap(ResourceType::kMefClientCmd, std::move(update)),
                                                  Rsc::kUpdated));
  }
}

Result<mef::FetchedCredential> RemoteCredentialSource::fetch(const keys::KeId& ke_id, keys::Suid suid) const {
  // The endpoint's URL names the MEF's base resource; /fetchCredentials sits at the root beside it.
  M2MSEC_ASSIGN_OR_RETURN(Channel channel, Channel::open(m_mef));
  M2MSEC_ASSIGN_OR_RETURN(const onem2m::Response response,
                          channel.exchange(Operation::kRetrieve,
                                           concat({"fetchCredentials/", ke_id.to_string(), "/",
                                                   keys::suid_octets(suid)}),
                                           std::nullopt, std::nullopt, Rsc::kOk));
  const json::Value* body = response.pc ? response.pc->find(onem2m::kFetchedCredentialRoot) : nullptr;
  if (body == nullptr || body->object() == nullptr) return Error(Category::kProtocol, "no m2m:fcred in the response");
  const json::Object& object = *body->object();
  const json::Value* status = object.find(attr::kStatus);
  if (status == nullptr || status->boolean() != true) return Error(Category::kProtocol, "the MEF reports no credential");
  M2MSEC_ASSIGN_OR_RETURN(const std::string credential, onem2m::string_member(object, attr::kCredential));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes key, base64_decode(credential));
  M2MSEC_ASSIGN_OR_RETURN(std::string enrolee_id, onem2m::string_member(object, attr::kEnroleeId));
  M2MSEC_ASSIGN_OR_RETURN(const auto expires, onem2m::timestamp_member(object, attr::kLifetime));
  return mef::FetchedCredential{SecretBytes::copy_of(key), std::move(enrolee_id), expires};
}

}  // namespace m2msec::client

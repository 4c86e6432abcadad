#include "m2msec/client/maf.h"

#include <algorithm>

#include "m2msec/core/encoding.h"
#include "m2msec/core/text.h"
#include "m2msec/core/timestamp.h"
#include "m2msec/keys/export.h"

namespace m2msec::client {
namespace {

namespace attr = onem2m::attr;
using onem2m::Operation;
using onem2m::ResourceType;

Result<std::chrono::sys_seconds> expiry_of(const json::Object& object) {
  M2MSEC_ASSIGN_OR_RETURN(const auto expires, onem2m::timestamp_member(object, attr::kExpirationTime));
  if (expires <= std::chrono::system_clock::now()) return Error(Category::kProtocol, "the granted expirationTime has passed");
  return expires;
}

Result<std::string> proposed_expiry(std::chrono::seconds lifetime) {
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  return format_m2m_timestamp(now + lifetime);
}

}  // namespace

Result<MafRegistration> register_client(const Endpoint& maf, std::string admin_fqdn, std::chrono::seconds lifetime) {
  M2MSEC_ASSIGN_OR_RETURN(Channel channel, Channel::open(maf));
  M2MSEC_ASSIGN_OR_RETURN(const keys::Fqdn maf_fqdn, channel.fqdn());
  if (admin_fqdn.empty()) admin_fqdn = maf_fqdn.text();
  M2MSEC_ASSIGN_OR_RETURN(std::string proposed, proposed_expiry(lifetime));
  //= TS-0003 V3.18.0 §8.8.2.3 (Table 8.8.2.3-1)
  json::Object request{{std::string(attr::kFqdn), maf_fqdn.text()},
                       {std::string(attr::kExpirationTime), std::move(proposed)},
                       {std::string(attr::kAdminFqdn), admin_fqdn}};
  M2MSEC_ASSIGN_OR_RETURN(const json::Object answer,
                          channel.call(Operation::kCreate, channel.base(), ResourceType::kMafClientReg,
                                       onem2m::wrap(ResourceType::kMafClientReg, std::move(request)), Rsc::kCreated));
  MafRegistration out;
  M2MSEC_ASSIGN_OR_RETURN(out.registration_id, onem2m::string_member(answer, attr::kResourceId));
  M2MSEC_ASSIGN_OR_RETURN(out.client_id, onem2m::string_member(answer, attr::kClientId));
  M2MSEC_ASSIGN_OR_RETURN(out.expires, expiry_of(answer));
  //= TS-0003 V3.18.0 §8.8.2.3 (check of 8.3.9.9.8)
  //# The adminFQDN must come back as sent.
  M2MSEC_ASSIGN_OR_RETURN(const std::string admin, onem2m::string_member(answer, attr::kAdminFqdn));
  if (admin != admin_fqdn) return Error(Category::kProtocol, "the MAF changed the adminFQDN");
  if (const json::Value* assigned = answer.find(attr::kAssignedSymmKeyId)) {
    M2MSEC_ASSIGN_OR_RETURN(const keys::KmId km_id, keys::KmId::parse(*assigned->string()));
    if (!(km_id.maf() == maf_fqdn)) return Error(Category::kProtocol, "the assigned KmID names another MAF");
    out.assigned_km_id = km_id.to_string();
  }
  return out;
}

Result<RegisteredKey> register_key(const Endpoint& maf, const KeyRequest& key_request) {
  if (key_request.target_ids.empty()) return Error::usage("a key registration needs at least one target");
  M2MSEC_ASSIGN_OR_RETURN(Channel channel, Channel::open(maf));
  M2MSEC_ASSIGN_OR_RETURN(const keys::Fqdn maf_fqdn, channel.fqdn());
  const std::string admin = key_request.admin_fqdn.empty() ? maf_fqdn.text() : key_request.admin_fqdn;
  M2MSEC_ASSIGN_OR_RETURN(std::string proposed, proposed_expiry(key_request.lifetime));
  //= TS-0003 V3.18.0 §8.8.2.7 (Table 8.8.2.7-1)
  json::Object request{{std::string(attr::kFqdn), maf_fqdn.text()},
                       {std::string(attr::kExpirationTime), std::move(proposed)},
                       {std::string(attr::kAdminFqdn), admin},
                       {std::string(attr::kSuid), static_cast<std::int64_t>(key_request.suid)},
                       {std::string(attr::kTargetIds), onem2m::string_list(key_request.target_ids)}};
  if (key_request.key_value) request.set(std::string(attr::kKeyValue), base64_encode(key_request.key_value->view()));
  M2MSEC_ASSIGN_OR_RETURN(const json::Object answer,
                          channel.call(Operation::kCreate, channel.base(), ResourceType::kMafKeyReg,
                                       onem2m::wrap(ResourceType::kMafKeyReg, std::move(request)), Rsc::kCreated));
  //= TS-0003 V3.18.0 §8.3.9.9.4 (and §8.3.9.9.5 for MAF keys)
  //# The response must give back the SUID, adminFQDN and targets sent, name this client as the source, and
  //# expire in the future.
  const json::Value* suid = answer.find(attr::kSuid);
  if (suid == nullptr || suid->integer() != static_cast<std::int64_t>(key_request.suid)) {
    return Error(Category::kProtocol, "the MAF changed the SUID");
  }
  M2MSEC_ASSIGN_OR_RETURN(const std::string admin_back, onem2m::string_member(answer, attr::kAdminFqdn));
  if (admin_back != admin) return Error(Category::kProtocol, "the MAF changed the adminFQDN");
  const json::Value* listed = answer.find(attr::kTargetIds);
  std::vector<std::string> targets = listed == nullptr ? std::vector<std::string>{} : onem2m::strings_of(*listed);
  if (targets != key_request.target_ids) return Error(Category::kProtocol, "the MAF changed the targets");
  // The Source MAF Client ID is the MAF's binding of this client's credential; a client registered only by
  // KmID may not know it, so its presence is checked, not its value.
  M2MSEC_TRY(onem2m::string_member(answer, attr::kSourceClientId));
  M2MSEC_ASSIGN_OR_RETURN(const auto expires, expiry_of(answer));
  M2MSEC_ASSIGN_OR_RETURN(const std::string relative, onem2m::string_member(answer, attr::kRelativeKeyId));
  M2MSEC_ASSIGN_OR_RETURN(keys::KeyIdentifier identifier, keys::KeyIdentifier::make(relative, maf_fqdn));

  SecretBytes key;
  if (key_request.key_value) {
    key = key_request.key_value->clone();
  } else {
    //= TS-0003 V3.18.0 §8.8.2.7, §10.3.1, §10.3.5
    //# Kc/KcID exported with EXPORTER-oneM2M-Connection; the RelativeKeyID is hexBinary(KcID).
    if (!channel.secured()) return Error::usage("a MAF key request needs a security association (https or coaps)");
    M2MSEC_ASSIGN_OR_RETURN(const SecretBytes exported,
                            channel.session().export_keying_material(
                                keys::exporter_label(keys::ExportLabel::kConnection), keys::kExportLength));
    M2MSEC_ASSIGN_OR_RETURN(auto split, keys::split_connection_export(exported.view()));
    const keys::KeyIdentifier expected = keys::KeyIdentifier::from_kc_id(split.id, maf_fqdn);
    if (!(expected == identifier)) return Error(Category::kAuth, "the RelativeKeyID is not hexBinary(KcID) of this association");
    key = SecretBytes::copy_of(split.key.view());
  }
  return RegisteredKey{std::move(identifier), std::move(key), expires, std::move(targets)};
}

Result<RetrievedKey> retrieve_key(const Endpoint& maf, std::string_view relative_key_id) {
  M2MSEC_ASSIGN_OR_RETURN(Channel channel, Channel::open(maf));
  //= TS-0003 V3.18.0 §8.8.2.8 (Table 8.8.2.8-2)
  M2MSEC_ASSIGN_OR_RETURN(const json::Object answer,
                          channel.call(Operation::kRetrieve, concat({channel.base(), "/", relative_key_id}),
                                       ResourceType::kMafKeyReg, std::nullopt, Rsc::kOk));
  RetrievedKey out;
  M2MSEC_ASSIGN_OR_RETURN(const std::string value, onem2m::string_member(answer, attr::kKeyValue));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes key, base64_decode(value));
  out.key = SecretBytes::copy_of(key);
  M2MSEC_ASSIGN_OR_RETURN(out.source_client_id, onem2m::string_member(answer, attr::kSourceClientId));
  const json::Value* suid = answer.find(attr::kSuid);
  const auto known = suid == nullptr || !suid->integer() ? std::nullopt
                                                         : keys::suid_from_int(static_cast<unsigned>(*suid->integer()));
  if (!known) return Error(Category::kProtocol, "the key registration has no known SUID");
  out.suid = *known;
  M2MSEC_ASSIGN_OR_RETURN(out.expires, expiry_of(answer));
  M2MSEC_ASSIGN_OR_RETURN(out.admin_fqdn, onem2m::string_member(answer, attr::kAdminFqdn));
  return out;
}

std::optional<tls::PskCredential> KeyRetrievalResolver::resolve(std::string_view psk_identity) const {
  //= TS-0003 V3.18.0 §8.2.2.3 step 4
  //# Entity B reads the MAF-FQDN from the Key Identifier and asks that MAF for the RelativeKeyID.
  auto identifier = keys::KeyIdentifier::parse(psk_identity);
  if (!identifier || !(identifier->maf() == m_fqdn)) return std::nullopt;
  auto retrieved = retrieve_key(m_maf, identifier->relative_key_id());
  //= TS-0003 V3.18.0 §8.2.2.3 steps 4 and 6
  //# Kc serves only the MAF-based SAEF (its SUID) and only while valid; after expiry the handshake fails.
  if (!retrieved || retrieved->suid != keys::Suid::kMafSaef || retrieved->expires <= m_clock->now()) return std::nullopt;
  return tls::PskCredential{std::move(retrieved->key), std::move(retrieved->source_client_id)};
}

}  // namespace m2msec::client

#include "m2msec/client/ibc.h"

#include "m2msec/core/encoding.h"
#include "m2msec/core/text.h"
#include "m2msec/ibc/eccsi.h"
#include "m2msec/ibc/identity.h"
#include "m2msec/ibc/sakke.h"
#include "m2msec/onem2m/resources.h"

namespace m2msec::client {
namespace {

namespace attr = onem2m::attr;

Result<Bytes> base64_member(const json::Object& object, std::string_view name) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string text, onem2m::string_member(object, name));
  return base64_decode(text);
}

// A secret member: the decoded copy is cleared once it is in a SecretBytes.
Result<SecretBytes> secret_member(const json::Object& object, std::string_view name) {
  M2MSEC_ASSIGN_OR_RETURN(Bytes decoded, base64_member(object, name));
  SecretBytes out = SecretBytes::copy_of(decoded);
  std::fill(decoded.begin(), decoded.end(), std::uint8_t{0});
  return out;
}

// RFC 6507 5.1.2 and RFC 6508 6.1.2: the keys are those of ID_2 under the KMS's public keys.
Result<void> validate_keys(const IbcCredential& credential) {
  ibc::EccsiUserKey key{credential.ssk.clone(), credential.pvt};
  M2MSEC_TRY(ibc::EccsiSigner::validate(credential.kpak, as_bytes(credential.id2), std::move(key)));
  return ibc::sakke_validate_receiver_key(credential.z, as_bytes(credential.id2), credential.rsk.view());
}

constexpr std::string_view kFields[] = {"id2=", "ssk=", "pvt=", "kpak=", "rsk=", "z="};

}  // namespace

Result<IbcCredential> accept_ibc_credential(const json::Object& representation, std::string_view mef_fqdn,
                                            std::string_view own_id, std::chrono::sys_seconds now) {
  IbcCredential out;
  M2MSEC_ASSIGN_OR_RETURN(out.id2, onem2m::string_member(representation, attr::kIbcId2));
  M2MSEC_ASSIGN_OR_RETURN(const ibc::IbcIdentity identity, ibc::IbcIdentity::parse(out.id2));
  //= seed 002 §8.3.7.2 pre-condition A, step 2
  //# ID_2 carries the MEF's FQDN and this client's own ID, and an expiry still ahead.
  if (identity.fqdn != mef_fqdn) {
    return Error(Category::kAuth, concat({"ID_2 names ", identity.fqdn, ", the MEF is ", mef_fqdn}));
  }
  if (as_text(identity.id) != own_id) {
    return Error(Category::kAuth, concat({"ID_2 is for ", as_text(identity.id), ", this client is ", own_id}));
  }
  if (identity.expires <= now) return Error(Category::kAuth, concat({"ID_2 has expired: ", out.id2}));
  out.expires = identity.expires;
  M2MSEC_ASSIGN_OR_RETURN(out.ssk, secret_member(representation, attr::kSsk));
  M2MSEC_ASSIGN_OR_RETURN(out.pvt, base64_member(representation, attr::kPvt));
  M2MSEC_ASSIGN_OR_RETURN(out.kpak, base64_member(representation, attr::kKpak));
  M2MSEC_ASSIGN_OR_RETURN(out.rsk, secret_member(representation, attr::kRsk));
  M2MSEC_ASSIGN_OR_RETURN(out.z, base64_member(representation, attr::kKmsPublicKey));
  M2MSEC_TRY(validate_keys(out));
  return out;
}

Result<IbcCredential> provision_ibc(Channel& channel, std::string_view own_id, const std::optional<std::string>& current) {
  M2MSEC_ASSIGN_OR_RETURN(const keys::Fqdn mef_fqdn, channel.fqdn());
  json::Object request;
  if (current) {
    request.set(std::string(attr::kIbcId1), *current);
  } else {
    request.set(std::string(attr::kIbcId), std::string(own_id));
  }
  M2MSEC_ASSIGN_OR_RETURN(const json::Object answer,
                          channel.call(onem2m::Operation::kCreate, channel.base(), onem2m::ResourceType::kMefIbcCred,
                                       onem2m::wrap(onem2m::ResourceType::kMefIbcCred, std::move(request)),
                                       Rsc::kCreated));
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  return accept_ibc_credential(answer, mef_fqdn.text(), own_id, now);
}

SecretBytes ibc_credential_text(const IbcCredential& c) {
  std::string text = concat({kFields[0], c.id2, "\n", kFields[1], hex_encode(c.ssk.view()), "\n", kFields[2],
                             hex_encode(c.pvt), "\n", kFields[3], hex_encode(c.kpak), "\n", kFields[4],
                             hex_encode(c.rsk.view()), "\n", kFields[5], hex_encode(c.z), "\n"});
  SecretBytes out = SecretBytes::copy_of(as_bytes(text));
  std::fill(text.begin(), text.end(), '\0');
  return out;
}

Result<IbcCredential> parse_ibc_credential(std::string_view text) {
  std::string_view values[std::size(kFields)];
  for (std::size_t i = 0; i < std::size(kFields); ++i) {
    const auto newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    if (!line.starts_with(kFields[i])) return Error::usage(concat({"an IBC credential file needs the line ", kFields[i], "..."}));
    values[i] = line.substr(kFields[i].size());
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
  }
  IbcCredential out;
  out.id2 = std::string(values[0]);
  M2MSEC_ASSIGN_OR_RETURN(const ibc::IbcIdentity identity, ibc::IbcIdentity::parse(out.id2));
  out.expires = identity.expires;
  M2MSEC_ASSIGN_OR_RETURN(out.ssk, hex_decode_secret(values[1]));
  M2MSEC_ASSIGN_OR_RETURN(out.pvt, hex_decode(values[2]));
  M2MSEC_ASSIGN_OR_RETURN(out.kpak, hex_decode(values[3]));
  M2MSEC_ASSIGN_OR_RETURN(out.rsk, hex_decode_secret(values[4]));
  M2MSEC_ASSIGN_OR_RETURN(out.z, hex_decode(values[5]));
  M2MSEC_TRY(validate_keys(out));
  return out;
}

Result<ibc::SaefCredential> saef_credential(std::string_view text) {
  M2MSEC_ASSIGN_OR_RETURN(IbcCredential held, parse_ibc_credential(text));
  M2MSEC_ASSIGN_OR_RETURN(ibc::EccsiSigner signer,
                          ibc::EccsiSigner::validate(held.kpak, as_bytes(held.id2), {std::move(held.ssk), held.pvt}));
  return ibc::SaefCredential{std::move(held.id2), std::move(signer), std::move(held.kpak)};
}

Result<kms::IssuedKeys> RemoteKms::issue(ByteView id) const {
  M2MSEC_ASSIGN_OR_RETURN(Channel channel, Channel::open(m_kms));
  json::Object request{{std::string(attr::kIbcId), std::string(as_text(id))}};
  M2MSEC_ASSIGN_OR_RETURN(const json::Object keys,
                          channel.call(onem2m::Operation::kCreate, channel.base(), onem2m::ResourceType::kKmsKey,
                                       onem2m::wrap(onem2m::ResourceType::kKmsKey, std::move(request)), Rsc::kCreated));
  kms::IssuedKeys out;
  M2MSEC_ASSIGN_OR_RETURN(out.eccsi.ssk, secret_member(keys, attr::kSsk));
  M2MSEC_ASSIGN_OR_RETURN(out.eccsi.pvt, base64_member(keys, attr::kPvt));
  M2MSEC_ASSIGN_OR_RETURN(out.rsk, secret_member(keys, attr::kRsk));
  M2MSEC_ASSIGN_OR_RETURN(out.public_keys.kpak, base64_member(keys, attr::kKpak));
  M2MSEC_ASSIGN_OR_RETURN(out.public_keys.z, base64_member(keys, attr::kKmsPublicKey));
  return out;
}

}  // namespace m2msec::client

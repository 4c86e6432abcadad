#include "m2msec/kms/service.h"

#include "m2msec/core/encoding.h"
#include "m2msec/core/text.h"
#include "m2msec/onem2m/resources.h"

namespace m2msec::kms {
namespace {

namespace attr = onem2m::attr;
using onem2m::Operation;
using onem2m::ResourceType;

constexpr std::string_view kBase = "kms";

json::Object public_attributes(const PublicParameters& parameters) {
  return json::Object{{std::string(attr::kResourceName), std::string(kBase)},
                      {std::string(attr::kResourceType), static_cast<std::int64_t>(ResourceType::kKmsBase)},
                      {std::string(attr::kKpak), base64_encode(parameters.kpak)},
                      {std::string(attr::kKmsPublicKey), base64_encode(parameters.z)}};
}

}  // namespace

onem2m::Response Service::handle(const onem2m::Request& request, const tls::Session* session) const {
  const auto run = [&]() -> Result<onem2m::Response> {
    if (session == nullptr) {
      return Error(Category::kAuth, Rsc::kSecurityAssociationRequired, "the KMS answers only over TLS");
    }
    const std::string& caller = session->peer().identity;
    if (caller.empty() || request.fr != caller) {
      return Error(Category::kAuth, Rsc::kOriginatorNotAuthenticated,
                   concat({"the originator '", request.fr, "' is not the authenticated client"}));
    }
    if (request.to != kBase) return Error(Category::kUsage, Rsc::kNotFound, concat({"no resource '", request.to, "' here"}));
    if (request.op == Operation::kRetrieve) {
      return onem2m::Response{Rsc::kOk, request.rqi,
                              onem2m::wrap(ResourceType::kKmsBase, public_attributes(m_options.issuer->parameters()))};
    }
    if (request.op != Operation::kCreate || request.ty != static_cast<std::uint32_t>(ResourceType::kKmsKey)) {
      return Error(Category::kUsage, Rsc::kOperationNotAllowed, "the KMS base takes RETRIEVE and CREATE of a kmsKey");
    }
    //= seed 002 §8.3.7.2 NOTE 2
    //# Only the MEFs this KMS serves have keys issued.
    if (!m_options.clients.contains(caller)) {
      return Error(Category::kPolicy, Rsc::kOriginatorHasNoPrivilege, "this caller may not have IBC keys issued");
    }
    if (!request.pc) return Error::usage("the key request has no content");
    M2MSEC_ASSIGN_OR_RETURN(const json::Object content,
                            onem2m::check_content(ResourceType::kKmsKey, Operation::kCreate, *request.pc));
    const std::string& id = *content.find(attr::kIbcId)->string();
    M2MSEC_ASSIGN_OR_RETURN(const IssuedKeys keys, m_options.issuer->issue(as_bytes(id)));
    json::Object out = public_attributes(keys.public_keys);
    out.set(std::string(attr::kResourceType), static_cast<std::int64_t>(ResourceType::kKmsKey));
    out.set(std::string(attr::kIbcId), id);
    out.set(std::string(attr::kSsk), base64_encode(keys.eccsi.ssk.view()));
    out.set(std::string(attr::kPvt), base64_encode(keys.eccsi.pvt));
    out.set(std::string(attr::kRsk), base64_encode(keys.rsk.view()));
    out.erase(attr::kResourceName);
    return onem2m::Response{Rsc::kCreated, request.rqi, onem2m::wrap(ResourceType::kKmsKey, std::move(out))};
  };
  auto response = run();
  if (!response) return onem2m::error_response(request, response.error());
  return std::move(*response);
}

}  // namespace m2msec::kms

#include "m2msec/core/error.h"

namespace m2msec {

std::string_view rsc_name(Rsc rsc) {
  switch (rsc) {
    case Rsc::kOk: return "OK";
    case Rsc::kCreated: return "CREATED";
    case Rsc::kDeleted: return "DELETED";
    case Rsc::kUpdated: return "UPDATED";
    case Rsc::kBadRequest: return "BAD_REQUEST";
    case Rsc::kNotFound: return "NOT_FOUND";
    case Rsc::kOperationNotAllowed: return "OPERATION_NOT_ALLOWED";
    case Rsc::kRequestTimeout: return "REQUEST_TIMEOUT";
    case Rsc::kSubscriptionCreatorHasNoPrivilege: return "SUBSCRIPTION_CREATOR_HAS_NO_PRIVILEGE";
    case Rsc::kContentsUnacceptable: return "CONTENTS_UNACCEPTABLE";
    case Rsc::kOriginatorHasNoPrivilege: return "ORIGINATOR_HAS_NO_PRIVILEGE";
    case Rsc::kConflict: return "CONFLICT";
    case Rsc::kOriginatorNotAuthenticated: return "ORIGINATOR_NOT_AUTHENTICATED";
    case Rsc::kSecurityAssociationRequired: return "SECURITY_ASSOCIATION_REQUIRED";
    case Rsc::kInvalidChildResourceType: return "INVALID_CHILD_RESOURCE_TYPE";
    case Rsc::kGroupMemberTypeInconsistent: return "GROUP_MEMBER_TYPE_INCONSISTENT";
    case Rsc::kEsprimUnsupportedOption: return "ESPRIM_UNSUPPORTED_OPTION";
    case Rsc::kEsprimUnknownKeyId: return "ESPRIM_UNKNOWN_KEY_ID";
    case Rsc::kEsprimUnknownOrigRandId: return "ESPRIM_UNKNOWN_ORIG_RAND_ID";
    case Rsc::kEsprimUnknownRecvRandId: return "ESPRIM_UNKNOWN_RECV_RAND_ID";
    case Rsc::kEsprimBadMac: return "ESPRIM_BAD_MAC";
    case Rsc::kEsprimImpersonationError: return "ESPRIM_IMPERSONATION_ERROR";
    case Rsc::kOriginatorHasAlreadyRegistered: return "ORIGINATOR_HAS_ALREADY_REGISTERED";
    case Rsc::kAppRuleValidationFailed: return "APP_RULE_VALIDATION_FAILED";
    case Rsc::kInternalServerError: return "INTERNAL_SERVER_ERROR";
    case Rsc::kNotImplemented: return "NOT_IMPLEMENTED";
    case Rsc::kReceiverHasNoPrivilege: return "RECEIVER_HAS_NO_PRIVILEGE";
    case Rsc::kSubscriptionVerificationInitiationFailed: return "SUBSCRIPTION_VERIFICATION_INITIATION_FAILED";
    case Rsc::kSubscriptionHostHasNoPrivilege: return "SUBSCRIPTION_HOST_HAS_NO_PRIVILEGE";
    case Rsc::kNotAcceptable: return "NOT_ACCEPTABLE";
    case Rsc::kEsprimDecryptionError: return "ESPRIM_DECRYPTION_ERROR";
    case Rsc::kEsprimEncryptionError: return "ESPRIM_ENCRYPTION_ERROR";
  }
  return "UNKNOWN_RSC";
}

std::string_view category_name(Category category) {
  switch (category) {
    case Category::kUsage: return "usage";
    case Category::kProtocol: return "protocol";
    case Category::kAuth: return "auth";
    case Category::kPolicy: return "policy";
    case Category::kCrypto: return "crypto";
    case Category::kUnsupported: return "unsupported";
    case Category::kIo: return "io";
    case Category::kStorage: return "storage";
    case Category::kInternal: return "internal";
  }
  return "unknown";
}

std::string Error::to_string() const {
  std::string out(category_name(m_category));
  if (m_rsc) {
    out += ' ';
    out += rsc_name(*m_rsc);
  }
  out += ": ";
  out += m_detail;
  return out;
}

}  // namespace m2msec

// Error values carried by Result<T>: a category, the oneM2M Response Status Code or (D)TLS alert a
// peer may see, and a detail string that never holds secrets. A peer is shown the detail only of an error
// about its own request (usage, protocol, auth, policy: onem2m::error_response), never of one inside the
// receiver (storage, crypto, I/O, internal).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace m2msec {

// oneM2M Response Status Codes (TS-0004 V3.32.0 clause 6.6). Only codes used by m2msec are listed;
// add codes here, with their TS-0004 name, when a procedure needs them.
enum class Rsc : std::uint16_t {
  kOk = 2000,
  kCreated = 2001,
  kDeleted = 2002,
  kUpdated = 2004,
  kBadRequest = 4000,
  kNotFound = 4004,
  kOperationNotAllowed = 4005,
  kRequestTimeout = 4008,
  kSubscriptionCreatorHasNoPrivilege = 4101,
  kContentsUnacceptable = 4102,
  kOriginatorHasNoPrivilege = 4103,
  kConflict = 4105,
  kOriginatorNotAuthenticated = 4106,
  kSecurityAssociationRequired = 4107,
  kInvalidChildResourceType = 4108,
  kGroupMemberTypeInconsistent = 4110,
  kEsprimUnsupportedOption = 4111,
  kEsprimUnknownKeyId = 4112,
  kEsprimUnknownOrigRandId = 4113,
  kEsprimUnknownRecvRandId = 4114,
  kEsprimBadMac = 4115,
  kEsprimImpersonationError = 4116,
  kOriginatorHasAlreadyRegistered = 4117,
  kAppRuleValidationFailed = 4126,
  kInternalServerError = 5000,
  kNotImplemented = 5001,
  kReceiverHasNoPrivilege = 5105,
  kSubscriptionVerificationInitiationFailed = 5204,
  kSubscriptionHostHasNoPrivilege = 5205,
  kNotAcceptable = 5207,
  kEsprimDecryptionError = 5210,
  kEsprimEncryptionError = 5211,
};

// The TS-0004 name of a code ("BAD_REQUEST"), for logs and the CLI.
std::string_view rsc_name(Rsc rsc);

// What kind of failure this is; decides how callers react (retry, refuse, report).
enum class Category : std::uint8_t {
  kUsage,     // the caller passed something malformed (bad hex, bad identifier, wrong key size)
  kProtocol,  // a peer sent something malformed or out of order
  kAuth,      // authentication failed (wrong key, unknown identity: deliberately not told apart)
  kPolicy,    // authenticated, but not allowed
  kCrypto,    // a cryptographic operation failed (tag mismatch, bad signature, backend failure)
  kUnsupported,  // an algorithm or feature that this build cannot provide
  kIo,
  kStorage,
  kInternal,  // a bug or an unexpected backend state
};

std::string_view category_name(Category category);

class Error {
 public:
  Error(Category category, std::string detail) : m_category(category), m_detail(std::move(detail)) {}
  Error(Category category, Rsc rsc, std::string detail)
      : m_category(category), m_rsc(rsc), m_detail(std::move(detail)) {}

  static Error usage(std::string detail) { return {Category::kUsage, Rsc::kBadRequest, std::move(detail)}; }
  static Error crypto(std::string detail) { return {Category::kCrypto, std::move(detail)}; }
  static Error unsupported(std::string detail) {
    return {Category::kUnsupported, Rsc::kNotImplemented, std::move(detail)};
  }
  static Error internal(std::string detail) {
    return {Category::kInternal, Rsc::kInternalServerError, std::move(detail)};
  }

  Error&& with_tls_alert(std::uint8_t alert) && {
    m_tls_alert = alert;
    return std::move(*this);
  }

  Category category() const { return m_category; }
  // The status code a oneM2M peer is told, if this error maps to one.
  std::optional<Rsc> rsc() const { return m_rsc; }
  // The (D)TLS alert description (RFC 8446 6.2) to send, if this error ends a handshake.
  std::optional<std::uint8_t> tls_alert() const { return m_tls_alert; }
  // The explanation (see the top of the file for when a peer sees it).
  const std::string& detail() const { return m_detail; }

  // "<category>[ <rsc-name>]: <detail>", for logs and CLI messages.
  std::string to_string() const;

 private:
  Category m_category;
  std::optional<Rsc> m_rsc;
  std::optional<std::uint8_t> m_tls_alert;
  std::string m_detail;
};

}  // namespace m2msec

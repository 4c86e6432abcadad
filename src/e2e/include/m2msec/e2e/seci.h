// The m2m:securityInfo bodies that carry ESPrim in the Content of a NOTIFY (TS-0004 V3.32.0 6.3.5.48,
// 7.5.1.2.11, 7.6.2; TS-0001 V3.36.0 11.4.2):
//   sit 3  receiverESPrimRandObject Request   {"m2m:seci":{"sit":3}}
//   sit 4  receiverESPrimRandObject Response  {"m2m:seci":{"sit":4,"ero":{...}}}
//   sit 5  ESPrim Object                       {"m2m:seci":{"sit":5,"epo":"<JWE compact>"}}
// The reader is strict: one top-level member "m2m:seci", an integer "sit", and exactly the member its type
// requires (6.3.5.48 NOTE: a sit-3 body has no other element). Every refusal is kUsage (BAD_REQUEST).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "m2msec/core/result.h"
#include "m2msec/e2e/esprim.h"

namespace m2msec::e2e {

// m2m:securityInfoType (TS-0004 6.3.4.2.35).
enum class SecurityInfoType : std::uint8_t {
  kDynamicAuthorizationRequest = 1,
  kDynamicAuthorizationResponse = 2,
  kReceiverRandObjectRequest = 3,
  kReceiverRandObjectResponse = 4,
  kEsprimObject = 5,
  kEscertkeMessage = 6,
  kDynamicAuthorizationRelationshipMappingRequest = 7,
  kDynamicAuthorizationRelationshipMappingResponse = 8,
};

std::string build_rand_object_request();
// "ero" is the object's carried text, unchanged.
std::string build_rand_object_response(const CarriedReceiverRand& object);
// Fails (kUsage) unless `esprim_object` has the m2m:e2eCompactJWE form.
Result<std::string> build_esprim_object_body(std::string_view esprim_object);

// The "sit" of any m2m:seci body (1-8), for dispatch; the rest of the body is not examined.
Result<SecurityInfoType> security_info_type(std::string_view body);

// A sit 3, 4 or 5 body; any other sit is refused.
struct EsprimSecurityInfo {
  SecurityInfoType type = SecurityInfoType::kReceiverRandObjectRequest;
  std::optional<CarriedReceiverRand> rand_object;  // sit 4: "ero", with the octets it arrived as
  std::optional<std::string> esprim_object;        // sit 5: "epo"
};
Result<EsprimSecurityInfo> parse_esprim_security_info(std::string_view body);

// m2m:e2eCompactJWE (TS-0004 6.3.3): five base64url parts separated by '.', the first and fourth non-empty.
bool is_e2e_compact_jwe(std::string_view text);

}  // namespace m2msec::e2e

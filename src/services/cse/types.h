// The resource types the hosting CSE serves (TS-0004 V3.32.0 clause 7.4, short names of clause 8.2): their JSON
// roots, which attributes a CREATE or UPDATE may carry, and which child types each one takes. Private to the cse
// module.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "m2msec/core/result.h"
#include "m2msec/json/json.h"
#include "m2msec/onem2m/primitive.h"

namespace m2msec::cse {

// m2m:resourceType values (TS-0004 Table 6.3.4.2.1-1).
namespace ty {
inline constexpr std::uint32_t kAccessControlPolicy = 1;
inline constexpr std::uint32_t kAe = 2;
inline constexpr std::uint32_t kContainer = 3;
inline constexpr std::uint32_t kContentInstance = 4;
inline constexpr std::uint32_t kCseBase = 5;
inline constexpr std::uint32_t kGroup = 9;
inline constexpr std::uint32_t kSubscription = 23;
inline constexpr std::uint32_t kRole = 31;
inline constexpr std::uint32_t kToken = 32;
inline constexpr std::uint32_t kDynamicAuthorizationConsultation = 34;
}  // namespace ty

// What a member's value must be.
enum class Kind : std::uint8_t {
  kString,     // a non-empty string
  kTimestamp,  // m2m:timestamp
  kCount,      // a non-negative integer
  kBool,
  kStrings,    // an array of strings (may be empty: m2m:labels)
  kIds,        // a non-empty array of non-empty strings (acpi, nu, mid, dap, ...)
  kObject,
  kAny,        // any value but null (content)
  kAbsRel,     // m2m:absRelTimestamp: a timestamp, or an integer (milliseconds from now)
  kNull,       // only null: "cr" in a CREATE asks the CSE to fill in the creator (TS-0004 7.4.6.1-2 creator)
};

enum class Presence : std::uint8_t { kNo, kOptional, kMandatory };

struct Attribute {
  std::string_view name;
  Kind kind;
  Presence create;
  Presence update;
};

struct TypeInfo {
  std::uint32_t type;
  std::string_view root;    // "m2m:cnt"
  std::string_view prefix;  // of the resource IDs the CSE assigns: "cnt"
  bool has_acpi;            // accessControlPolicyIDs / dynamicAuthorizationConsultationIDs are attributes of it
  std::span<const Attribute> attributes;  // its own, besides the common ones
  std::span<const std::uint32_t> children;
};

// nullptr for a type this CSE does not serve.
const TypeInfo* type_info(std::uint32_t type);

// The content of a CREATE or UPDATE of `type` (TS-0004 7.3.3.3 / 7.3.3.4): exactly {"<root>": {...}}, every
// member known and allowed for the operation, of its kind, the mandatory ones present; null only in an UPDATE
// and only for a member that is not mandatory at creation (it deletes the attribute). An UPDATE needs at least
// one member. Every failure is BAD_REQUEST naming the member.
Result<json::Object> check_content(const TypeInfo& info, onem2m::Operation op, const std::optional<json::Value>& pc);

}  // namespace m2msec::cse

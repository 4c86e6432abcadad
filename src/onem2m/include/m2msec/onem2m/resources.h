// The resource types of the MEF and MAF interfaces (TS-0003 V3.18.0 clauses 8.3.5, 8.3.9, 8.8.2) and their
// JSON short names: THE one mapping file. TS-0032, which defines these resources, is not available to us;
// every type code, attribute and short name below is derived from the procedure parameter tables of
// TS-0003 and is our choice where TS-0003 names nothing (docs/conformance.md, "MEF and MAF resources").
// Common attributes reuse their TS-0004 short names (ri, rn, pi, ty, ct, lt, et, lbl, ch).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/result.h"
#include "m2msec/json/json.h"
#include "m2msec/onem2m/primitive.h"

namespace m2msec::onem2m {

// Type codes in a range TS-0004 does not use (its types are below 100, its <mgmtObj> specialisations
// 1001-1033, its announced variants from 10001): 7001-7007, until TS-0032's codes can be read.
enum class ResourceType : std::uint32_t {
  kMefBase = 7001,       // <MEFBase>, the root of a MEF (its resource name is "mef")
  kMefClientReg = 7002,  // <mefClientReg>  (8.3.5.2.3-8.3.5.2.6)
  kMefClientCmd = 7003,  // <mefClientCmd>, child of <mefClientReg> (8.3.9)
  kMefKeyReg = 7004,     // <mefKeyReg>     (8.3.5.2.7-8.3.5.2.10)
  kMafBase = 7005,       // <MAFBase>, the root of a MAF (its resource name is "maf")
  kMafClientReg = 7006,  // <mafClientReg>  (8.8.2.3-8.8.2.6)
  kMafKeyReg = 7007,     // <mafKeyReg>     (8.8.2.7-8.8.2.10)
  // IBC credentials (seed 002 8.3.7; the Release 4 resources are not available to us either).
  kMefIbcCred = 7008,  // <mefIbcCred>: CREATE under <MEFBase> is IBC Credential (Re-)Provisioning (8.3.7.2/3)
  kKmsBase = 7009,     // <KMSBase>, the root of a KMS ("kms"): RETRIEVE gives KPAK and Z_S
  kKmsKey = 7010,      // <kmsKey>: CREATE under <KMSBase> issues SSK, PVT and the RSK of an identity
};

// JSON kinds an attribute may take.
enum class AttributeKind : std::uint8_t {
  kString,      // xs:string / xs:anyURI / m2m:ID
  kTimestamp,   // m2m:timestamp "YYYYMMDDTHHMMSS" (core/timestamp.h)
  kDuration,    // xs:duration, "PT30S" (the subset parse_duration reads)
  kInteger,     // a non-negative integer
  kBoolean,
  kStringList,  // m2m:labels, m2m:listOfM2MID: a non-empty array of strings
  kBase64,      // xs:base64Binary (RFC 4648 clause 4, padded)
  kObject,      // a nested structure, checked by the service that reads it
  kChildList,   // m2m:childResourceRef list: [{"nm":...,"typ":N,"val":...}]
};

// Where a member may appear in a request's content: kMandatory / kOptional / kAbsent (refused).
enum class Presence : std::uint8_t { kAbsent, kOptional, kMandatory };

struct AttributeSpec {
  std::string_view long_name;   // TS-0003's parameter name ("adminFQDN")
  std::string_view short_name;  // the JSON member name ("adfq")
  AttributeKind kind;
  Presence on_create;  // in a CREATE's content
  Presence on_update;  // in an UPDATE's content
};

struct ResourceSpec {
  ResourceType type;
  std::string_view name;  // "mefClientReg"
  std::string_view root;  // the content's single member: "m2m:mefcr"
  std::span<const AttributeSpec> attributes;  // everything a representation may hold
  // UPDATE: at least one of the optional members must be present (8.3.5.2.5, 8.3.5.2.9, 8.8.2.5, 8.8.2.9).
  bool update_needs_one;
};

const ResourceSpec& resource_spec(ResourceType type);
std::optional<ResourceType> resource_type_from_int(std::int64_t value);

// The short names services read and write (one constant per attribute; the spec table uses them too).
namespace attr {
inline constexpr std::string_view kResourceId = "ri";
inline constexpr std::string_view kResourceName = "rn";
inline constexpr std::string_view kResourceType = "ty";
inline constexpr std::string_view kParentId = "pi";
inline constexpr std::string_view kCreationTime = "ct";
inline constexpr std::string_view kLastModifiedTime = "lt";
inline constexpr std::string_view kExpirationTime = "et";
inline constexpr std::string_view kLabels = "lbl";
inline constexpr std::string_view kChildResource = "ch";
inline constexpr std::string_view kFqdn = "fqdn";               // MEF-FQDN / MAF-FQDN of the request
inline constexpr std::string_view kAdminFqdn = "adfq";          // adminFQDN
inline constexpr std::string_view kClientId = "mcid";           // MEF Client ID / MAF Client ID
inline constexpr std::string_view kClientCfg = "cfg";           // MEFClientCfg / mafClientCfg
inline constexpr std::string_view kKeId = "keid";               // the KeID of the enrolment (our addition)
inline constexpr std::string_view kAssignedSymmKeyId = "asid";  // assignedSymmKeyID (KmID, 8.8.2.3)
inline constexpr std::string_view kSuid = "suid";               // SUID, m2m:suid
inline constexpr std::string_view kTargetIds = "tgis";          // targetIDs
inline constexpr std::string_view kKeyValue = "kval";           // Key Value
inline constexpr std::string_view kRelativeKeyId = "rlki";      // RelativeKeyID
inline constexpr std::string_view kSourceClientId = "scid";     // Source MEF/MAF Client ID
inline constexpr std::string_view kCmdId = "cmid";              // cmdID
inline constexpr std::string_view kCmdDescription = "cmdd";     // cmdDescription (sec:cmdDescription)
inline constexpr std::string_view kCmdStatusCode = "cmst";      // cmdStatusCode (sec:cmdStatusCode)
// Inside cmdDescription (12.4.4-12.4.9).
inline constexpr std::string_view kCmdClassId = "ccid";         // cmdClassID
inline constexpr std::string_view kCmdArgs = "cmar";            // cmdArgs (one of the four below)
inline constexpr std::string_view kTargetId = "tgid";           // targetID
inline constexpr std::string_view kNoMoreCmdArgs = "nmca";      // noMoreCmdArgs {rtd}
inline constexpr std::string_view kRetryDuration = "rtd";       // retryDuration
inline constexpr std::string_view kCertProvCmdArgs = "cpca";    // certProvCmdArgs
inline constexpr std::string_view kDevCfgCmdArgs = "dcca";      // devCfgCmdArgs
inline constexpr std::string_view kMoNodeCmdArgs = "mnca";      // MONodeCmdArgs
inline constexpr std::string_view kIbcProvCmdArgs = "ibca";     // ibcProvCmdArgs (our addition) {ibcu}
inline constexpr std::string_view kIbcBasedUri = "ibcu";        // IBCBasedURI (8.3.7.2 pre-condition A)
// IBC credentials (seed 002 8.3.7) and the KMS.
inline constexpr std::string_view kIbcId = "ibid";              // ID: the CSE-ID or AE-ID credentials are for
inline constexpr std::string_view kIbcId1 = "ibi1";             // ID_1: the credential being renewed (8.3.7.3)
inline constexpr std::string_view kIbcId2 = "ibi2";             // ID_2 = FQDN@hexBinary(ID)@expirationTime
inline constexpr std::string_view kSsk = "ssk";                 // ECCSI Secret Signing Key
inline constexpr std::string_view kPvt = "pvt";                 // ECCSI Public Validation Token
inline constexpr std::string_view kKpak = "kpak";               // ECCSI KMS Public Authentication Key
inline constexpr std::string_view kRsk = "rsk";                 // SAKKE Receiver Secret Key
inline constexpr std::string_view kKmsPublicKey = "kmsz";       // SAKKE KMS Public Key Z_S
// The /fetchCredentials response (Tables 8.3.2.1-5 and -6).
inline constexpr std::string_view kStatus = "sts";
inline constexpr std::string_view kCredential = "cred";
inline constexpr std::string_view kEnroleeId = "eid";
inline constexpr std::string_view kLifetime = "lft";
inline constexpr std::string_view kErrorString = "errs";
}  // namespace attr

// The root of the /fetchCredentials response content: {"m2m:fcred": {"sts":true,"cred":...,"eid":...,"lft":...}}.
inline constexpr std::string_view kFetchedCredentialRoot = "m2m:fcred";

// Checks the content of a CREATE or UPDATE of `type` and returns its inner object: exactly one member named
// the type's root; every member known, of its kind, allowed for the operation; every mandatory one there;
// for an UPDATE that needs one, at least one optional member. Errors are kUsage (BAD_REQUEST) naming the
// member. A content with another root is also BAD_REQUEST.
Result<json::Object> check_content(ResourceType type, Operation op, const json::Value& pc);

// Checks a representation received in a response (client side): the root, and every member known and of
// its kind (presence is the caller's business). Returns the inner object.
Result<json::Object> check_representation(ResourceType type, const json::Value& pc);

// {"<root>": attributes}.
json::Value wrap(ResourceType type, json::Object attributes);

// Attribute values, for the services that write representations and the clients that read them.
// m2m:labels / m2m:listOfM2MID as a JSON array of strings, and back (a non-array gives none, non-strings are
// skipped: check_content / check_representation have refused them where it matters).
json::Value string_list(const std::vector<std::string>& items);
std::vector<std::string> strings_of(const json::Value& value);
// A string / m2m:timestamp member a representation must carry: kProtocol when it is absent or of another kind.
Result<std::string> string_member(const json::Object& object, std::string_view name);
Result<std::chrono::sys_seconds> timestamp_member(const json::Object& object, std::string_view name);

}  // namespace m2msec::onem2m

#include "m2msec/onem2m/resources.h"

#include <algorithm>

#include "m2msec/core/encoding.h"
#include "m2msec/core/text.h"
#include "m2msec/core/timestamp.h"
#include "m2msec/onem2m/duration.h"

namespace m2msec::onem2m {
namespace {

using K = AttributeKind;
using P = Presence;
constexpr P kNo = P::kAbsent;
constexpr P kOpt = P::kOptional;
constexpr P kMust = P::kMandatory;

// Read-only members every representation may carry (TS-0004 universal and common attributes).
#define M2MSEC_COMMON_ATTRIBUTES                                       \
  {"resourceID", attr::kResourceId, K::kString, kNo, kNo},             \
  {"resourceName", attr::kResourceName, K::kString, kNo, kNo},         \
  {"resourceType", attr::kResourceType, K::kInteger, kNo, kNo},        \
  {"parentID", attr::kParentId, K::kString, kNo, kNo},                 \
  {"creationTime", attr::kCreationTime, K::kTimestamp, kNo, kNo},      \
  {"lastModifiedTime", attr::kLastModifiedTime, K::kTimestamp, kNo, kNo}

constexpr AttributeSpec kBase[] = {
    M2MSEC_COMMON_ATTRIBUTES,
    {"fqdn", attr::kFqdn, K::kString, kNo, kNo},
};

//= TS-0003 V3.18.0 §8.3.5.2.3 / §8.8.2.3 (Tables 8.3.5.2.3-1/-2, 8.8.2.3-1/-2), §8.3.5.2.4 / §8.8.2.4
//# (Configuration Retrieval: MEFClientCfg), §8.3.5.2.5 / §8.8.2.5 (Update: expirationTime, labels).
constexpr AttributeSpec kMefClientReg[] = {
    M2MSEC_COMMON_ATTRIBUTES,
    {"MEF-FQDN", attr::kFqdn, K::kString, kMust, kNo},
    {"expirationTime", attr::kExpirationTime, K::kTimestamp, kMust, kOpt},
    {"labels", attr::kLabels, K::kStringList, kOpt, kOpt},
    {"adminFQDN", attr::kAdminFqdn, K::kString, kMust, kNo},
    {"MEF Client ID", attr::kClientId, K::kString, kNo, kNo},
    {"MEFClientCfg", attr::kClientCfg, K::kObject, kNo, kNo},
    {"KeID", attr::kKeId, K::kString, kNo, kNo},
    {"childResource", attr::kChildResource, K::kChildList, kNo, kNo},
};

//= TS-0003 V3.18.0 §8.3.9.2, §8.3.9.3, §12.4.4
//# Command Retrieve answers cmdID, cmdDescription, cmdStatusCode; Command Update sends cmdID and cmdStatusCode.
constexpr AttributeSpec kMefClientCmd[] = {
    M2MSEC_COMMON_ATTRIBUTES,
    {"cmdID", attr::kCmdId, K::kString, kNo, kMust},
    {"cmdDescription", attr::kCmdDescription, K::kObject, kNo, kNo},
    {"cmdStatusCode", attr::kCmdStatusCode, K::kInteger, kNo, kMust},
};

//= TS-0003 V3.18.0 §8.3.5.2.7-§8.3.5.2.10 / §8.8.2.7-§8.8.2.10 (Tables 8.3.5.2.7-1/-2, 8.3.5.2.8-2,
//# 8.8.2.7-1/-2, 8.8.2.8-2): one attribute set for MEF and MAF key registrations.
constexpr AttributeSpec kKeyReg[] = {
    M2MSEC_COMMON_ATTRIBUTES,
    {"MEF-FQDN / MAF-FQDN", attr::kFqdn, K::kString, kMust, kNo},
    {"expirationTime", attr::kExpirationTime, K::kTimestamp, kMust, kOpt},
    {"labels", attr::kLabels, K::kStringList, kOpt, kOpt},
    {"adminFQDN", attr::kAdminFqdn, K::kString, kMust, kNo},
    {"SUID", attr::kSuid, K::kInteger, kMust, kNo},
    {"targetIDs", attr::kTargetIds, K::kStringList, kOpt, kOpt},
    {"Key Value", attr::kKeyValue, K::kBase64, kOpt, kNo},
    {"RelativeKeyID", attr::kRelativeKeyId, K::kString, kNo, kNo},
    {"Source Client ID", attr::kSourceClientId, K::kString, kNo, kNo},
};

constexpr AttributeSpec kMafClientReg[] = {
    M2MSEC_COMMON_ATTRIBUTES,
    {"MAF-FQDN", attr::kFqdn, K::kString, kMust, kNo},
    {"expirationTime", attr::kExpirationTime, K::kTimestamp, kMust, kOpt},
    {"labels", attr::kLabels, K::kStringList, kOpt, kOpt},
    {"adminFQDN", attr::kAdminFqdn, K::kString, kMust, kNo},
    {"MAF Client ID", attr::kClientId, K::kString, kNo, kNo},
    {"mafClientCfg", attr::kClientCfg, K::kObject, kNo, kNo},
    {"assignedSymmKeyID", attr::kAssignedSymmKeyId, K::kString, kNo, kNo},
};

//= seed 002 §8.3.7.2, §8.3.7.3
//# The client sends its ID (initial) or its current ID_1 (re-provisioning); the MEF answers ID_2, SSK, PVT and
//# KPAK. The SAKKE RSK and Z_S of the same identity come with them (our addition: the KMS issues both).
constexpr AttributeSpec kMefIbcCred[] = {
    M2MSEC_COMMON_ATTRIBUTES,
    {"ID", attr::kIbcId, K::kString, kOpt, kNo},
    {"ID_1", attr::kIbcId1, K::kString, kOpt, kNo},
    {"expirationTime", attr::kExpirationTime, K::kTimestamp, kNo, kNo},
    {"ID_2", attr::kIbcId2, K::kString, kNo, kNo},
    {"SSK", attr::kSsk, K::kBase64, kNo, kNo},
    {"PVT", attr::kPvt, K::kBase64, kNo, kNo},
    {"KPAK", attr::kKpak, K::kBase64, kNo, kNo},
    {"RSK", attr::kRsk, K::kBase64, kNo, kNo},
    {"Z_S", attr::kKmsPublicKey, K::kBase64, kNo, kNo},
};

constexpr AttributeSpec kKmsBase[] = {
    M2MSEC_COMMON_ATTRIBUTES,
    {"KPAK", attr::kKpak, K::kBase64, kNo, kNo},
    {"Z_S", attr::kKmsPublicKey, K::kBase64, kNo, kNo},
};

//= seed 002 §8.3.7.2 NOTE 2
//# The MEF forwards ID_2 to the KMS, which returns SSK, PVT and KPAK.
constexpr AttributeSpec kKmsKey[] = {
    M2MSEC_COMMON_ATTRIBUTES,
    {"ID", attr::kIbcId, K::kString, kMust, kNo},
    {"SSK", attr::kSsk, K::kBase64, kNo, kNo},
    {"PVT", attr::kPvt, K::kBase64, kNo, kNo},
    {"KPAK", attr::kKpak, K::kBase64, kNo, kNo},
    {"RSK", attr::kRsk, K::kBase64, kNo, kNo},
    {"Z_S", attr::kKmsPublicKey, K::kBase64, kNo, kNo},
};

#undef M2MSEC_COMMON_ATTRIBUTES

constexpr ResourceSpec kSpecs[] = {
    {ResourceType::kMefBase, "MEFBase", "m2m:mefb", kBase, false},
    {ResourceType::kMefClientReg, "mefClientReg", "m2m:mefcr", kMefClientReg, true},
    {ResourceType::kMefClientCmd, "mefClientCmd", "m2m:mefcc", kMefClientCmd, false},
    {ResourceType::kMefKeyReg, "mefKeyReg", "m2m:mefkr", kKeyReg, true},
    {ResourceType::kMafBase, "MAFBase", "m2m:mafb", kBase, false},
    {ResourceType::kMafClientReg, "mafClientReg", "m2m:mafcr", kMafClientReg, true},
    {ResourceType::kMafKeyReg, "mafKeyReg", "m2m:mafkr", kKeyReg, true},
    {ResourceType::kMefIbcCred, "mefIbcCred", "m2m:mefic", kMefIbcCred, false},
    {ResourceType::kKmsBase, "KMSBase", "m2m:kmsb", kKmsBase, false},
    {ResourceType::kKmsKey, "kmsKey", "m2m:kmsk", kKmsKey, false},
};

const AttributeSpec* find_attribute(const ResourceSpec& spec, std::string_view short_name) {
  const auto found = std::find_if(spec.attributes.begin(), spec.attributes.end(),
                                  [&](const AttributeSpec& a) { return a.short_name == short_name; });
  return found == spec.attributes.end() ? nullptr : &*found;
}

Error bad_member(const ResourceSpec& spec, const AttributeSpec& attribute, std::string_view why) {
  return Error::usage(std::string(spec.root) + ": '" + std::string(attribute.short_name) + "' (" +
                      std::string(attribute.long_name) + ") " + std::string(why));
}

bool is_non_empty_string(const json::Value& value) { return value.string() != nullptr && !value.string()->empty(); }

//= TS-0004 V3.32.0 §6.3.5.29 (m2m:childResourceRef)
//# A child reference carries its name (nm), its type (typ) and its address (val), nothing else.
bool is_child_ref(const json::Value& value) {
  const json::Object* ref = value.object();
  if (ref == nullptr || ref->size() != 3) return false;
  const json::Value* name = ref->find("nm");
  const json::Value* type = ref->find("typ");
  const json::Value* address = ref->find("val");
  return name != nullptr && type != nullptr && address != nullptr && is_non_empty_string(*name) &&
         type->integer().value_or(-1) >= 0 && is_non_empty_string(*address);
}

// Whether the value has the attribute's kind; the reason when it has not.
std::optional<std::string_view> kind_mismatch(AttributeKind kind, const json::Value& value) {
  switch (kind) {
    case K::kString:
      if (value.string() == nullptr) return "must be a string";
      return std::nullopt;
    case K::kTimestamp:
      if (value.string() == nullptr || !parse_m2m_timestamp(*value.string())) return "must be a timestamp YYYYMMDDTHHMMSS";
      return std::nullopt;
    case K::kDuration:
      if (value.string() == nullptr || !parse_duration(*value.string())) return "must be a duration PnDTnHnMnS";
      return std::nullopt;
    case K::kInteger:
      if (value.integer().value_or(-1) < 0) return "must be a non-negative integer";
      return std::nullopt;
    case K::kBoolean:
      if (!value.boolean()) return "must be true or false";
      return std::nullopt;
    case K::kStringList: {
      const json::Array* list = value.array();
      if (list == nullptr || list->empty() || !std::all_of(list->begin(), list->end(), is_non_empty_string)) {
        return "must be a non-empty array of non-empty strings";
      }
      return std::nullopt;
    }
    case K::kBase64: {
      const std::string* text = value.string();
      const Result<Bytes> octets = text != nullptr ? base64_decode(*text) : Result<Bytes>(Error::usage("not a string"));
      if (!octets || octets->empty()) return "must be non-empty padded base64";
      return std::nullopt;
    }
    case K::kObject:
      if (value.object() == nullptr) return "must be an object";
      return std::nullopt;
    case K::kChildList: {
      const json::Array* list = value.array();
      if (list == nullptr || !std::all_of(list->begin(), list->end(), is_child_ref)) {
        return "must be an array of {\"nm\":string,\"typ\":integer,\"val\":string}";
      }
      return std::nullopt;
    }
  }
  return "has an unknown kind";
}

// The inner object of {"<root>": {...}}, every member known and of its kind.
Result<const json::Object*> inner_object(const ResourceSpec& spec, const json::Value& pc) {
  const json::Object* outer = pc.object();
  if (outer == nullptr || outer->size() != 1 || outer->begin()->first != spec.root ||
      outer->begin()->second.object() == nullptr) {
    return Error::usage("the content must be {\"" + std::string(spec.root) + "\": {...}} for a " + std::string(spec.name));
  }
  const json::Object* inner = outer->begin()->second.object();
  for (const auto& [name, value] : *inner) {
    const AttributeSpec* attribute = find_attribute(spec, name);
    if (attribute == nullptr) return Error::usage(std::string(spec.root) + ": unknown member '" + name + "'");
    if (const auto why = kind_mismatch(attribute->kind, value)) return bad_member(spec, *attribute, *why);
  }
  return inner;
}

}  // namespace

const ResourceSpec& resource_spec(ResourceType type) {
  const auto found = std::find_if(std::begin(kSpecs), std::end(kSpecs), [&](const ResourceSpec& s) { return s.type == type; });
  // Only a value cast from outside the enumeration misses.
  M2MSEC_CHECK(found != std::end(kSpecs));
  return *found;
}

std::optional<ResourceType> resource_type_from_int(std::int64_t value) {
  const auto found = std::find_if(std::begin(kSpecs), std::end(kSpecs),
                                  [&](const ResourceSpec& s) { return static_cast<std::int64_t>(s.type) == value; });
  if (found == std::end(kSpecs)) return std::nullopt;
  return found->type;
}

Result<json::Object> check_content(ResourceType type, Operation op, const json::Value& pc) {
  if (op != Operation::kCreate && op != Operation::kUpdate) {
    return Error::usage("a " + std::string(operation_name(op)) + " request carries no resource content to check");
  }
  const ResourceSpec& spec = resource_spec(type);
  M2MSEC_ASSIGN_OR_RETURN(const json::Object* inner, inner_object(spec, pc));
  const auto presence = [&](const AttributeSpec& a) { return op == Operation::kCreate ? a.on_create : a.on_update; };
  bool any_optional = false;
  for (const auto& member : *inner) {
    const AttributeSpec& attribute = *find_attribute(spec, member.first);
    // Read-only attributes, and any the TS-0003 tables do not list for the operation: refused, not ignored.
    if (presence(attribute) == P::kAbsent) {
      return bad_member(spec, attribute, "may not be set in a " + std::string(operation_name(op)));
    }
    any_optional = any_optional || presence(attribute) == P::kOptional;
  }
  for (const AttributeSpec& attribute : spec.attributes) {
    if (presence(attribute) == P::kMandatory && !inner->contains(attribute.short_name)) {
      return bad_member(spec, attribute, "is mandatory in a " + std::string(operation_name(op)));
    }
  }
  //= TS-0003 V3.18.0 §8.3.5.2.5, §8.3.5.2.9, §8.8.2.5, §8.8.2.9
  //# An update of a registration changes at least one of its updatable attributes.
  if (op == Operation::kUpdate && spec.update_needs_one && !any_optional) {
    return Error::usage(std::string(spec.root) + ": an UPDATE must change at least one attribute");
  }
  return *inner;
}

Result<json::Object> check_representation(ResourceType type, const json::Value& pc) {
  M2MSEC_ASSIGN_OR_RETURN(const json::Object* inner, inner_object(resource_spec(type), pc));
  return *inner;
}

json::Value wrap(ResourceType type, json::Object attributes) {
  return json::Value(json::Object{{std::string(resource_spec(type).root), json::Value(std::move(attributes))}});
}

json::Value string_list(const std::vector<std::string>& items) {
  json::Array out;
  for (const auto& item : items) out.emplace_back(item);
  return out;
}

std::vector<std::string> strings_of(const json::Value& value) {
  std::vector<std::string> out;
  if (value.array() == nullptr) return out;
  for (const auto& item : *value.array()) {
    if (item.string() != nullptr) out.push_back(*item.string());
  }
  return out;
}

Result<std::string> string_member(const json::Object& object, std::string_view name) {
  const json::Value* value = object.find(name);
  if (value == nullptr || value->string() == nullptr) {
    return Error(Category::kProtocol, concat({"the representation has no ", name}));
  }
  return *value->string();
}

Result<std::chrono::sys_seconds> timestamp_member(const json::Object& object, std::string_view name) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string text, string_member(object, name));
  return parse_m2m_timestamp(text);
}

}  // namespace m2msec::onem2m

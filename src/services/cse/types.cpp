#include "types.h"

#include <algorithm>

#include "m2msec/core/text.h"
#include "m2msec/core/timestamp.h"

namespace m2msec::cse {
namespace {

using P = Presence;

// Universal/common attributes a request may carry (TS-0004 Tables 7.4.x.1-2): resourceName (CREATE only),
// expirationTime, labels; accessControlPolicyIDs, dynamicAuthorizationConsultationIDs and custodian (Rel-4 "cstn",
// which ACME also serves) for the types that have them. The types with a creator list "cr" themselves: null
// asks for the creator to be recorded, which this CSE does for every resource anyway.
constexpr Attribute kCommon[] = {
    {"rn", Kind::kString, P::kOptional, P::kNo},
    {"et", Kind::kTimestamp, P::kOptional, P::kOptional},
    {"lbl", Kind::kStrings, P::kOptional, P::kOptional},
};
constexpr Attribute kAccessCommon[] = {
    {"acpi", Kind::kIds, P::kOptional, P::kOptional},
    {"daci", Kind::kIds, P::kOptional, P::kOptional},
    {"cstn", Kind::kString, P::kOptional, P::kOptional},
};

// TS-0004 Table 7.4.2.1-3: privileges and selfPrivileges.
constexpr Attribute kAcp[] = {
    {"pv", Kind::kObject, P::kMandatory, P::kOptional},
    {"pvs", Kind::kObject, P::kMandatory, P::kOptional},
};
// TS-0004 Table 7.4.5.1-3 (the attributes this CSE keeps).
constexpr Attribute kAe[] = {
    {"apn", Kind::kString, P::kOptional, P::kOptional},  {"api", Kind::kString, P::kMandatory, P::kNo},
    {"poa", Kind::kIds, P::kOptional, P::kOptional},     {"or", Kind::kString, P::kOptional, P::kOptional},
    {"nl", Kind::kString, P::kOptional, P::kOptional},   {"rr", Kind::kBool, P::kMandatory, P::kOptional},
    {"csz", Kind::kIds, P::kOptional, P::kOptional},     {"srv", Kind::kIds, P::kMandatory, P::kOptional},
};
// TS-0004 Table 7.4.6.1-3.
constexpr Attribute kContainer[] = {
    {"mni", Kind::kCount, P::kOptional, P::kOptional},
    {"mbs", Kind::kCount, P::kOptional, P::kOptional},
    {"mia", Kind::kCount, P::kOptional, P::kOptional},
    {"or", Kind::kString, P::kOptional, P::kOptional},
    {"cr", Kind::kNull, P::kOptional, P::kNo},
};
// TS-0004 Table 7.4.7.1-3 (no UPDATE at all: 7.4.7.2.3).
constexpr Attribute kContentInstance[] = {
    {"cnf", Kind::kString, P::kOptional, P::kNo},
    {"or", Kind::kString, P::kOptional, P::kNo},
    {"con", Kind::kAny, P::kMandatory, P::kNo},
    {"cr", Kind::kNull, P::kOptional, P::kNo},
};
// TS-0004 Table 7.4.13.1-3: memberType, maxNrOfMembers, memberIDs, membersAccessControlPolicyIDs, groupName.
constexpr Attribute kGroup[] = {
    {"mt", Kind::kCount, P::kMandatory, P::kNo},  {"mnm", Kind::kCount, P::kMandatory, P::kOptional},
    {"mid", Kind::kStrings, P::kMandatory, P::kOptional}, {"macp", Kind::kIds, P::kOptional, P::kOptional},
    {"gn", Kind::kString, P::kOptional, P::kOptional},    {"cr", Kind::kNull, P::kOptional, P::kNo},
};
// TS-0004 Table 7.4.8.1-3: eventNotificationCriteria, notificationURI, notificationContentType, subscriberURI.
constexpr Attribute kSubscription[] = {
    {"enc", Kind::kObject, P::kOptional, P::kOptional}, {"nu", Kind::kIds, P::kMandatory, P::kOptional},
    {"nct", Kind::kCount, P::kOptional, P::kOptional},  {"su", Kind::kString, P::kOptional, P::kNo},
    {"cr", Kind::kNull, P::kOptional, P::kNo},
};
// TS-0001 9.6.38 / digest 3.11: roleID, issuer, holder, notBefore, notAfter (all WO), roleName, tokenLink.
constexpr Attribute kRole[] = {
    {"rlid", Kind::kString, P::kMandatory, P::kNo},   {"tkis", Kind::kString, P::kMandatory, P::kNo},
    {"tkhd", Kind::kString, P::kMandatory, P::kNo},   {"tknb", Kind::kTimestamp, P::kMandatory, P::kNo},
    {"tkna", Kind::kTimestamp, P::kMandatory, P::kNo}, {"rlnm", Kind::kString, P::kOptional, P::kNo},
    {"rltl", Kind::kString, P::kOptional, P::kOptional},
};
// TS-0001 9.6.39 / digest 3.11: tokenID and tokenObject, the claims for information (all WO).
constexpr Attribute kToken[] = {
    {"tkid", Kind::kString, P::kMandatory, P::kNo}, {"tkob", Kind::kString, P::kMandatory, P::kNo},
    {"vr", Kind::kString, P::kOptional, P::kNo},    {"tkis", Kind::kString, P::kOptional, P::kNo},
    {"tkhd", Kind::kString, P::kOptional, P::kNo},  {"tknb", Kind::kTimestamp, P::kOptional, P::kNo},
    {"tkna", Kind::kTimestamp, P::kOptional, P::kNo}, {"tknm", Kind::kString, P::kOptional, P::kNo},
    {"tkau", Kind::kIds, P::kOptional, P::kNo},     {"tkps", Kind::kObject, P::kOptional, P::kNo},
    {"tkex", Kind::kString, P::kOptional, P::kNo},
};
// TS-0001 9.6.40 / digest 3.10: dynamicAuthorizationEnabled, -PoA, -Lifetime.
constexpr Attribute kDac[] = {
    {"dae", Kind::kBool, P::kMandatory, P::kOptional},
    {"dap", Kind::kIds, P::kMandatory, P::kOptional},
    {"dal", Kind::kAbsRel, P::kOptional, P::kOptional},
};
// <CSEBase> is never created by a request; the administrator may set its labels and policies.
constexpr Attribute kCseBase[] = {
    {"lbl", Kind::kStrings, P::kNo, P::kOptional},
    {"acpi", Kind::kIds, P::kNo, P::kOptional},
};

// Child resource types (TS-0004 Tables 7.4.x.1-4, the ones served here).
constexpr std::uint32_t kCseBaseChildren[] = {ty::kAe,    ty::kContainer, ty::kAccessControlPolicy,
                                              ty::kGroup, ty::kSubscription, ty::kRole,
                                              ty::kToken, ty::kDynamicAuthorizationConsultation};
constexpr std::uint32_t kAeChildren[] = {ty::kContainer, ty::kAccessControlPolicy, ty::kGroup, ty::kSubscription,
                                         ty::kDynamicAuthorizationConsultation};
constexpr std::uint32_t kContainerChildren[] = {ty::kContainer, ty::kContentInstance, ty::kSubscription};
constexpr std::uint32_t kSubscriptionOnly[] = {ty::kSubscription};

constexpr TypeInfo kTypes[] = {
    {ty::kAccessControlPolicy, "m2m:acp", "acp", false, kAcp, kSubscriptionOnly},
    {ty::kAe, "m2m:ae", "ae", true, kAe, kAeChildren},
    {ty::kContainer, "m2m:cnt", "cnt", true, kContainer, kContainerChildren},
    {ty::kContentInstance, "m2m:cin", "cin", false, kContentInstance, {}},
    {ty::kCseBase, "m2m:cb", "cb", false, kCseBase, kCseBaseChildren},
    {ty::kGroup, "m2m:grp", "grp", true, kGroup, kSubscriptionOnly},
    {ty::kSubscription, "m2m:sub", "sub", true, kSubscription, {}},
    {ty::kRole, "m2m:rol", "rol", true, kRole, {}},
    {ty::kToken, "m2m:tk", "tk", true, kToken, {}},
    {ty::kDynamicAuthorizationConsultation, "m2m:dac", "dac", true, kDac, {}},
};

const Attribute* find_attribute(const TypeInfo& info, std::string_view name) {
  const auto in = [&](std::span<const Attribute> list) -> const Attribute* {
    const auto it = std::find_if(list.begin(), list.end(), [&](const Attribute& a) { return a.name == name; });
    return it == list.end() ? nullptr : &*it;
  };
  if (const auto* own = in(info.attributes)) return own;
  if (info.type == ty::kCseBase) return nullptr;
  if (const auto* common = in(kCommon)) return common;
  return info.has_acpi ? in(kAccessCommon) : nullptr;
}

Error bad(std::string_view name, std::string_view why) { return Error::usage(concat({"'", name, "' ", why})); }

Result<void> check_kind(const Attribute& a, const json::Value& v) {
  switch (a.kind) {
    case Kind::kString:
      if (v.string() == nullptr || v.string()->empty()) return bad(a.name, "must be a non-empty string");
      return {};
    case Kind::kTimestamp:
      if (v.string() == nullptr || !parse_m2m_timestamp(*v.string())) return bad(a.name, "must be an m2m:timestamp");
      return {};
    case Kind::kCount:
      if (!v.integer() || *v.integer() < 0) return bad(a.name, "must be a non-negative integer");
      return {};
    case Kind::kBool:
      if (!v.boolean()) return bad(a.name, "must be a boolean");
      return {};
    case Kind::kStrings:
    case Kind::kIds: {
      const json::Array* items = v.array();
      if (items == nullptr) return bad(a.name, "must be a list of strings");
      if (a.kind == Kind::kIds && items->empty()) return bad(a.name, "must not be empty");
      for (const json::Value& item : *items) {
        if (item.string() == nullptr || (a.kind == Kind::kIds && item.string()->empty())) {
          return bad(a.name, "must be a list of strings");
        }
      }
      return {};
    }
    case Kind::kObject:
      if (v.object() == nullptr) return bad(a.name, "must be an object");
      return {};
    case Kind::kAny:
      return {};
    case Kind::kAbsRel:
      if ((v.string() != nullptr && parse_m2m_timestamp(*v.string())) || (v.integer() && *v.integer() >= 0)) return {};
      return bad(a.name, "must be an m2m:absRelTimestamp");
    case Kind::kNull:
      if (!v.is_null()) return bad(a.name, "is set by the hosting CSE");
      return {};
  }
  return bad(a.name, "has an unknown kind");
}

}  // namespace

const TypeInfo* type_info(std::uint32_t type) {
  const auto it = std::find_if(std::begin(kTypes), std::end(kTypes), [&](const TypeInfo& t) { return t.type == type; });
  return it == std::end(kTypes) ? nullptr : &*it;
}

//= TS-0004 V3.32.0 §7.3.3.3, §7.3.3.4
//# The representation of a CREATE / UPDATE: every attribute known, allowed for the operation and valid; the
//# mandatory ones of a CREATE present. Anything else is BAD_REQUEST.
Result<json::Object> check_content(const TypeInfo& info, onem2m::Operation op, const std::optional<json::Value>& pc) {
  const bool create = op == onem2m::Operation::kCreate;
  const json::Object* outer = pc ? pc->object() : nullptr;
  if (outer == nullptr || outer->size() != 1 || outer->begin()->first != info.root) {
    return Error::usage(concat({"the content must be {\"", info.root, "\":{...}}"}));
  }
  const json::Object* inner = outer->begin()->second.object();
  if (inner == nullptr) return Error::usage(concat({"'", info.root, "' must be an object"}));
  for (const auto& [name, value] : *inner) {
    const Attribute* a = find_attribute(info, name);
    if (a == nullptr) return bad(name, "is not an attribute of this resource type");
    const Presence presence = create ? a->create : a->update;
    if (presence == Presence::kNo) return bad(name, create ? "may not be given at creation" : "may not be updated");
    if (value.is_null() && a->kind != Kind::kNull) {
      if (create || a->create == Presence::kMandatory) return bad(name, "may not be null");
      continue;  // an UPDATE deleting an optional attribute
    }
    M2MSEC_TRY(check_kind(*a, value));
  }
  if (create) {
    const auto missing = [&](std::span<const Attribute> list) -> const Attribute* {
      for (const Attribute& a : list) {
        if (a.create == Presence::kMandatory && !inner->contains(a.name)) return &a;
      }
      return nullptr;
    };
    if (const Attribute* a = missing(info.attributes)) return bad(a->name, "is mandatory");
  } else if (inner->empty()) {
    return Error::usage("the UPDATE changes no attribute");
  }
  return *inner;
}

}  // namespace m2msec::cse

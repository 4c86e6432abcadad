// Access control policies (TS-0003 V3.18.0 clause 7.1; TS-0001 9.6.2; TS-0004 V3.32.0 6.3.5.26-28): the
// <accessControlPolicy> model in its JSON short names and ONE decision function.
//
//   decision = OR over the rules of every applicable policy (privileges "pv", or selfPrivileges "pvs" when the
//              target is the policy itself), stopping at the first rule that grants (permit-overrides, 7.1.4);
//   rule     = acaf AND acor AND acop AND acco AND acod (7.1.5).
//
// Fail closed: a rule whose members this engine does not know or cannot evaluate (an unknown member, a
// schedule entry that does not parse, an address that is not an IPv4/IPv6 prefix, a region with neither a
// country nor a circle, a context the request does not carry, a group that cannot be retrieved) never matches;
// it is kept with the reason so that a deny can say why. Parsing fails only when the JSON is not an m2m:acp /
// m2m:setOfAcrs at all.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "m2msec/core/result.h"
#include "m2msec/json/json.h"

namespace m2msec::authz {

// m2m:accessControlOperations bits (TS-0004 Table 6.3.4.2.29-1). DISCOVERY is a RETRIEVE with fu=1.
enum class AccessOperation : std::uint8_t {
  kCreate = 1,
  kRetrieve = 2,
  kUpdate = 4,
  kDelete = 8,
  kNotify = 16,
  kDiscovery = 32,
};
// The bit of a TS-0004 m2m:operation (1-5) and filterUsage (1 = discovery); nullopt outside 1-5.
std::optional<AccessOperation> access_operation(std::int64_t operation, bool discovery);

// The absolute forms of this Hosting CSE, to normalise originators before comparing (TS-0001 7.2): an
// AE-ID-Stem "Cxyz" is "<sp_id><cse_id>/Cxyz", an SP-relative "/cse/x" is "<sp_id>/cse/x", an absolute
// "//sp/cse/x" stays. Any other text not starting with '/' is taken as CSE-relative ("<sp_id><cse_id>/text");
// an "S" stem is SP-relative ("<sp_id>/Sxyz"). Empty stays empty (and matches no rule).
struct Scope {
  std::string sp_id;   // "//m2msec.example" (M2M-SP-ID with its leading "//")
  std::string cse_id;  // "/id-in" (SP-relative CSE-ID)
  std::string absolute(std::string_view id) const;
};

// An IPv4 or IPv6 address (v4 kept as its 4 octets). An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is IPv6 and
// matches only ipv6 entries: a binding on a dual-stack socket passes the IPv4 address instead.
struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> octets{};
  static Result<IpAddress> parse(std::string_view text);  // "192.0.2.1", "2001:db8::1" (no prefix, no zone)
};

// One m2m:scheduleEntry: 7 space-separated fields "second minute hour day-of-month month day-of-week year",
// evaluated in UTC (TS-0004 7.4.9.1 / TS-0003 7.1.3), day of week 0 = Sunday, year 2000-9999. A field is "*",
// or a comma-separated list of n, a-b, a-b/s, */s ("*/s" = "min-max/s", from the field's minimum). All seven
// fields must match (AND), day of month and day of week included.
class ScheduleEntry {
 public:
  static Result<ScheduleEntry> parse(std::string_view text);
  bool matches(std::chrono::sys_seconds when) const;

 private:
  std::array<std::uint64_t, 6> m_sets{};  // second, minute, hour, day, month, weekday: bit i = value i allowed
  std::vector<bool> m_years;              // index year - 2000
};

// A location a request comes from: a country (ISO 3166-1 alpha-2) or a point (degrees). A country rule needs
// the country and a circle rule the point: neither is derived from the other or from the address. A point is
// inside a circle when its great-circle distance (haversine, sphere of radius 6371008.8 m) is <= the radius.
struct Location {
  std::optional<std::string> country{};
  std::optional<std::pair<double, double>> point{};  // latitude, longitude
};

// True for an ISO 3166-1 alpha-2 code: the officially assigned ones and the user-assigned AA, QM-QZ, XA-XZ,
// ZZ. Upper case only.
bool is_country_code(std::string_view code);

// What the decision needs to know about one request (TS-0003 7.1.2).
struct AccessRequest {
  std::string originator;                      // From, as authenticated (any of the ID forms)
  AccessOperation operation = AccessOperation::kRetrieve;
  std::optional<std::uint32_t> created_type{};     // CREATE: the ty of the resource to create (acod chty)
  std::optional<std::uint32_t> target_type{};      // the type of the target (for CREATE: the parent) (acod ty)
  // CREATE: the target's containerDefinition, or its mgmtDefinition as decimal text (acod spty; TS-0003 7.1.3
  // compares "the specialization of the targeted resource").
  std::optional<std::string> specialization{};
  std::optional<IpAddress> ip{};                   // rq_ip
  std::optional<std::chrono::sys_seconds> time{};  // rq_time
  std::optional<Location> location{};              // rq_loc
  bool authenticated = false;                      // rq_authn
  std::vector<std::string> role_ids{};             // valid Role-IDs of the originator for this request
};

// Group membership for acor entries that name a <group>. lookup() receives the entry in its absolute form
// (Scope::absolute); it is asked only for entries without a wildcard that are not "all", an SP domain or a
// Role-ID, and only when no entry of the rule matched by itself. found = false: not a group (the entry was
// compared as an ID); available = false: a group that cannot be retrieved (that entry matches nothing and, if
// no other entry matches, the rule does not match, TS-0001 9.6.2.1). A decision that consulted a resolver is
// memoised only under the resolver's generation, so a membership change counts from the next decision.
struct GroupLookup {
  bool found = false;
  bool available = false;
  std::vector<std::string> members{};  // memberIDs, any ID form
};
class GroupResolver {
 public:
  virtual ~GroupResolver() = default;
  virtual GroupLookup lookup(std::string_view id) const = 0;
  // A number that changes whenever any lookup() answer could change (a group created, updated, deleted or
  // expired); nullopt (the default) when the resolver cannot promise that: its decisions are not memoised.
  virtual std::optional<std::uint64_t> generation() const { return std::nullopt; }
};

// Which rule set of a policy applies.
enum class RuleSetKind : std::uint8_t { kPrivileges, kSelfPrivileges };  // "pv", "pvs"

struct Decision {
  bool granted = false;
  // Granted: the rule that granted, "<policy id>/<pv|pvs>/<index>" (index from 0). Denied: empty.
  std::string rule{};
  // Why: the granting rule, or for a deny the reason of each rule that did not match, "; "-separated
  // ("acp1/pv/0: originator not listed; acp1/pv/1: unknown member 'acxx'").
  std::string reason{};
};

class Policy;

// One parsed m2m:setOfAcrs ({"acr":[...]}) with its rules compiled (patterns, schedules, prefixes, regions).
class RuleSet {
 public:
  struct Rule;
  static Result<RuleSet> parse(const json::Value& set_of_acrs);
  std::size_t size() const;
  // Problems that make rules unevaluable, for validation at CREATE/UPDATE of an <accessControlPolicy>
  // (a CSE refuses to store them, 4000); empty when every rule can be evaluated.
  std::vector<std::string> problems() const;
  ~RuleSet();
  RuleSet(RuleSet&&) noexcept;
  RuleSet& operator=(RuleSet&&) noexcept;

 private:
  friend class Policy;
  friend Decision decide(std::span<const std::shared_ptr<const Policy>>, RuleSetKind, const AccessRequest&,
                         const Scope&, const GroupResolver*);
  RuleSet();
  std::vector<Rule> m_rules;
};

// One <accessControlPolicy> version, compiled once and then immutable (the decision memo inside is
// thread-safe). A CSE keeps one Policy per (resource ID, version): decisions are memoised per policy version,
// and evaluating reads no storage.
class Policy {
 public:
  // From the m2m:acp object ({"pv":..., "pvs":..., "ri":..., ...}; the root "m2m:acp" is also accepted).
  static Result<std::shared_ptr<const Policy>> parse(const json::Value& acp, std::string id, std::uint64_t version);
  // From rule sets alone (token permissions, `m2msec acp eval`).
  static std::shared_ptr<const Policy> of(RuleSet privileges, std::string id);

  const std::string& id() const;
  std::uint64_t version() const;
  const RuleSet& rules(RuleSetKind kind) const;
  // How many decisions are memoised in this policy now (at most 4096; the memo is emptied when it would
  // grow beyond).
  std::size_t memoised() const;
  ~Policy();

 private:
  struct State;
  explicit Policy(std::unique_ptr<State> state);
  std::unique_ptr<State> m_state;
  friend Decision decide(std::span<const std::shared_ptr<const Policy>>, RuleSetKind, const AccessRequest&,
                         const Scope&, const GroupResolver*);
};

// The decision over the given policies (TS-0003 7.1.4 / 7.1.5). No policy: deny. A decision that depended
// only on (originator, operation, types, authentication, roles) is memoised in the policy for its version;
// one that consulted a context (time, address, location) is not, nor one that consulted a group of a resolver
// without a generation.
Decision decide(std::span<const std::shared_ptr<const Policy>> policies, RuleSetKind kind,
                const AccessRequest& request, const Scope& scope, const GroupResolver* groups = nullptr);

}  // namespace m2msec::authz

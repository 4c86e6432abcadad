// The <accessControlPolicy> model and the access decision (TS-0003 V3.18.0 7.1.3-7.1.5; TS-0004 V3.32.0
// 6.3.5.26-28). See acp.h for the contract; the interpretations made here are listed in docs/conformance.md
// ("Access control policies").
#include "m2msec/authz/acp.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <shared_mutex>

#include "acp_internal.h"
#include "m2msec/authz/token.h"
#include "m2msec/core/text.h"

namespace m2msec::authz {

// One m2m:accessControlRule, compiled. A rule with a problem keeps nothing else and never matches.
struct RuleSet::Rule {
  struct Originator {
    enum class Kind : std::uint8_t { kAll, kRole, kDomain, kId };
    // Which part of the Scope precedes an ID entry in its absolute form (TS-0001 7.2).
    enum class Form : std::uint8_t { kAbsolute, kSpRelative, kSpStem, kCseRelative };
    Kind kind = Kind::kId;
    Form form = Form::kAbsolute;
    bool wildcard = false;
    std::string text;
  };
  struct Context {
    std::vector<ScheduleEntry> windows;            // actw; empty: any time
    std::vector<acp_detail::Prefix> addresses;     // acip ipv4 and ipv6; empty: any address
    std::vector<std::string> countries;            // aclr accc
    std::optional<acp_detail::Circle> circle{};    // aclr accr
  };
  struct ObjectDetail {
    std::optional<std::uint32_t> type{};            // ty: of the target
    std::optional<std::string> specialization{};    // spty: of the target (cnd, or mgd as decimal text)
    std::vector<std::uint32_t> child_types;         // chty: of the resource to create
  };

  std::string problem;
  std::vector<Originator> originators;
  std::uint8_t operations = 0;
  bool authentication = false;
  std::vector<Context> contexts;
  std::vector<ObjectDetail> object_details;
};

namespace {

using Rule = RuleSet::Rule;
using Kind = Rule::Originator::Kind;
using Form = Rule::Originator::Form;

constexpr std::size_t kMemoLimit = 4096;

// ---- parsing ---------------------------------------------------------------------------------------------

Error malformed(std::string why) { return Error::usage(std::move(why)); }

Result<std::uint32_t> resource_type(const json::Value& v, std::string_view what) {
  const auto n = v.integer();
  if (!n || *n < 0 || *n > std::numeric_limits<std::uint32_t>::max()) {
    return malformed(concat({what, " is not a resource type"}));
  }
  return static_cast<std::uint32_t>(*n);
}

Result<double> number(const json::Value& v, double min, double max, std::string_view what) {
  const std::string* text = v.number_text();
  double value = 0;
  if (text == nullptr) return malformed(concat({what, " is not a number"}));
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size() || !std::isfinite(value) || value < min || value > max) {
    return malformed(concat({what, " '", *text, "' is out of range"}));
  }
  return value;
}

Result<void> parse_originators(const json::Value& v, Rule& rule) {
  const json::Array* list = v.array();
  if (list == nullptr) return malformed("acor is not a list");
  for (const json::Value& item : *list) {
    const std::string* text = item.string();
    if (text == nullptr || !is_m2m_id(*text)) return malformed("acor holds an entry that is not an ID");
    Rule::Originator o;
    o.text = *text;
    if (*text == "all") {
      o.kind = Kind::kAll;
    } else if (is_role_or_token_id(*text)) {
      o.kind = Kind::kRole;  // TS-0003 V3.18.0 7.1.3: no wildcards for Role-IDs (matched exactly)
    } else if (text->starts_with("//") && text->find('/', 2) == std::string::npos) {
      // TS-0003 V3.18.0 7.1.3: "Wildcard characters are not applicable to SP domain names".
      if (text->size() == 2 || text->find('*') != std::string::npos) {
        return malformed(concat({"acor entry '", *text, "' is not an SP domain (wildcards do not apply there)"}));
      }
      o.kind = Kind::kDomain;
    } else {
      o.kind = Kind::kId;
      o.wildcard = text->find('*') != std::string::npos;
      o.form = text->starts_with("//")  ? Form::kAbsolute
               : text->starts_with('/') ? Form::kSpRelative
               : text->starts_with('S') ? Form::kSpStem
                                        : Form::kCseRelative;
    }
    rule.originators.push_back(std::move(o));
  }
  return {};
}

Result<void> parse_addresses(const json::Value& v, Rule::Context& context) {
  const json::Object* o = v.object();
  if (o == nullptr) return malformed("acip is not an object");
  for (const auto& [name, value] : *o) {
    if (name != "ipv4" && name != "ipv6") return malformed(concat({"unknown acip member '", name, "'"}));
    const json::Array* list = value.array();
    if (list == nullptr) return malformed(concat({"acip ", name, " is not a list"}));
    for (const json::Value& item : *list) {
      const std::string* text = item.string();
      auto prefix = text == nullptr ? Result<acp_detail::Prefix>(malformed("not a string"))
                                    : acp_detail::parse_prefix(*text, name == "ipv6");
      if (!prefix) return malformed(concat({"malformed ", name, " entry: ", prefix.error().detail()}));
      context.addresses.push_back(*prefix);
    }
  }
  // An address constraint that admits no address cannot be evaluated either way: fail closed.
  if (context.addresses.empty()) return malformed("acip lists no address");
  return {};
}

Result<void> parse_region(const json::Value& v, Rule::Context& context) {
  const json::Object* o = v.object();
  if (o == nullptr) return malformed("aclr is not an object");
  for (const auto& [name, value] : *o) {
    if (name != "accc" && name != "accr") return malformed(concat({"unknown aclr member '", name, "'"}));
  }
  const json::Value* countries = o->find("accc");
  const json::Value* circle = o->find("accr");
  // TS-0004 m2m:locationRegion is a choice: a country list or one circle.
  if ((countries == nullptr) == (circle == nullptr)) return malformed("aclr needs exactly one of accc and accr");
  if (countries != nullptr) {
    const json::Array* list = countries->array();
    if (list == nullptr || list->empty()) return malformed("aclr accc is not a list of country codes");
    for (const json::Value& item : *list) {
      const std::string* code = item.string();
      if (code == nullptr || !is_country_code(*code)) return malformed("aclr accc holds an entry that is not an ISO 3166-1 alpha-2 code");
      context.countries.push_back(*code);
    }
    return {};
  }
  const json::Array* list = circle->array();
  if (list == nullptr || list->size() != 3) return malformed("aclr accr is not [latitude, longitude, radius]");
  acp_detail::Circle c;
  M2MSEC_ASSIGN_OR_RETURN(c.latitude, number((*list)[0], -90, 90, "aclr accr latitude"));
  M2MSEC_ASSIGN_OR_RETURN(c.longitude, number((*list)[1], -180, 180, "aclr accr longitude"));
  M2MSEC_ASSIGN_OR_RETURN(c.radius, number((*list)[2], 0, std::numeric_limits<double>::max(), "aclr accr radius"));
  context.circle = c;
  return {};
}

Result<void> parse_contexts(const json::Value& v, Rule& rule) {
  const json::Array* list = v.array();
  if (list == nullptr) return malformed("acco is not a list");
  for (const json::Value& item : *list) {
    const json::Object* o = item.object();
    if (o == nullptr) return malformed("acco holds an entry that is not an object");
    Rule::Context context;
    for (const auto& [name, value] : *o) {
      if (name == "actw") {
        const json::Array* windows = value.array();
        if (windows == nullptr) return malformed("actw is not a list");
        for (const json::Value& w : *windows) {
          auto entry = w.string() == nullptr ? Result<ScheduleEntry>(malformed("not a string"))
                                             : ScheduleEntry::parse(*w.string());
          if (!entry) return malformed("malformed actw entry: " + entry.error().detail());
          context.windows.push_back(std::move(entry).value());
        }
      } else if (name == "acip") {
        M2MSEC_TRY(parse_addresses(value, context));
      } else if (name == "aclr") {
        M2MSEC_TRY(parse_region(value, context));
      } else {
        return malformed(concat({"unknown context member '", name, "'"}));
      }
    }
    rule.contexts.push_back(std::move(context));
  }
  return {};
}

Result<void> parse_object_details(const json::Value& v, Rule& rule) {
  const json::Array* list = v.array();
  if (list == nullptr) return malformed("acod is not a list");
  for (const json::Value& item : *list) {
    const json::Object* o = item.object();
    if (o == nullptr) return malformed("acod holds an entry that is not an object");
    Rule::ObjectDetail detail;
    bool has_children = false;
    for (const auto& [name, value] : *o) {
      if (name == "ty") {
        M2MSEC_ASSIGN_OR_RETURN(detail.type, resource_type(value, "acod ty"));
      } else if (name == "spty") {
        // m2m:specializationType: {"cnd": anyURI} or {"mgd": m2m:mgmtDefinition}.
        const json::Object* s = value.object();
        if (s == nullptr || s->size() != 1) return malformed("acod spty is not {\"cnd\":...} or {\"mgd\":...}");
        const auto& [kind, id] = *s->begin();
        if (kind == "cnd" && id.string() != nullptr && is_m2m_id(*id.string())) {
          detail.specialization = *id.string();
        } else if (kind == "mgd" && id.integer() && *id.integer() >= 0) {
          detail.specialization = std::to_string(*id.integer());
        } else {
          return malformed("acod spty is not {\"cnd\":...} or {\"mgd\":...}");
        }
      } else if (name == "chty") {
        const json::Array* types = value.array();
        if (types == nullptr) return malformed("acod chty is not a list");
        for (const json::Value& t : *types) {
          M2MSEC_ASSIGN_OR_RETURN(const std::uint32_t type, resource_type(t, "acod chty entry"));
          detail.child_types.push_back(type);
        }
        has_children = true;
      } else {
        return malformed(concat({"unknown acod member '", name, "'"}));
      }
    }
    // TS-0003 V3.18.0 7.1.3: "If an access control rule includes accessControlObjectDetails, then
    // childResourceType is specified."
    if (!has_children) return malformed("acod entry without chty");
    rule.object_details.push_back(std::move(detail));
  }
  return {};
}

Result<void> parse_rule(const json::Value& v, Rule& rule) {
  const json::Object* o = v.object();
  if (o == nullptr) return malformed("the rule is not an object");
  bool has_originators = false;
  bool has_operations = false;
  for (const auto& [name, value] : *o) {
    if (name == "acor") {
      M2MSEC_TRY(parse_originators(value, rule));
      has_originators = true;
    } else if (name == "acop") {
      const auto bits = value.integer();
      if (!bits || *bits < 0 || *bits > 63) return malformed("acop is not an operation mask 0-63");
      rule.operations = static_cast<std::uint8_t>(*bits);
      has_operations = true;
    } else if (name == "acco") {
      M2MSEC_TRY(parse_contexts(value, rule));
    } else if (name == "acaf") {
      if (!value.boolean()) return malformed("acaf is not a boolean");
      rule.authentication = *value.boolean();
    } else if (name == "acod") {
      M2MSEC_TRY(parse_object_details(value, rule));
    } else {
      // Members of later releases (aca, acui, acec, acl, ...) included: the rule cannot be evaluated.
      return malformed(concat({"unknown member '", name, "'"}));
    }
  }
  if (!has_originators) return malformed("acor is missing");
  if (!has_operations) return malformed("acop is missing");
  return {};
}

// ---- evaluation ------------------------------------------------------------------------------------------

enum class Miss : std::uint8_t {
  kNone,
  kProblem,
  kNotAuthenticated,
  kOperation,
  kNoOriginator,
  kOriginator,
  kGroupUnavailable,
  kObjectDetails,
  kContext,
};

struct Verdict {
  Miss miss = Miss::kNone;
  std::string detail{};
};

struct Evaluation {
  const AccessRequest& request;
  const Scope& scope;
  const GroupResolver* groups;
  std::string originator{};  // the absolute form of request.originator, computed when first needed
  bool consulted = false;    // a context was consulted: the outcome must not be memoised
  bool consulted_groups = false;  // a group was looked up: memoised only under the resolver's generation
};

bool consume(std::string_view& text, std::string_view prefix) {
  if (!text.starts_with(prefix)) return false;
  text.remove_prefix(prefix.size());
  return true;
}

// The entry against the absolute originator, the entry taken in its absolute form (Scope::absolute), without
// building that form: the Scope part is compared literally, the entry's own text as a pattern.
bool id_matches(const Rule::Originator& o, std::string_view originator, const Scope& scope) {
  switch (o.kind) {
    case Kind::kAll:
      return true;
    case Kind::kDomain:
      // TS-0003 V3.18.0 7.1.3: an SP domain stands for every AE-ID and CSE-ID in it.
      return originator.size() > o.text.size() + 1 && originator.starts_with(o.text) && originator[o.text.size()] == '/';
    case Kind::kId:
      break;
    case Kind::kRole:
      return false;
  }
  std::string_view rest = originator;
  switch (o.form) {
    case Form::kAbsolute:
      break;
    case Form::kSpRelative:
      if (!consume(rest, scope.sp_id)) return false;
      break;
    case Form::kSpStem:
      if (!consume(rest, scope.sp_id) || !consume(rest, "/")) return false;
      break;
    case Form::kCseRelative:
      if (!consume(rest, scope.sp_id) || !consume(rest, scope.cse_id) || !consume(rest, "/")) return false;
      break;
  }
  return o.wildcard ? acp_detail::wildcard_match(o.text, rest) : rest == o.text;
}

// TS-0003 V3.18.0 7.1.3 accessControlOriginators: "all", IDs with wildcards, SP domains, Role-IDs, <group>
// resource-IDs. An entry naming a group that cannot be retrieved is indeterminate: the rule still matches
// through another entry, and otherwise does not (TS-0001 9.6.2.1: the request is rejected).
Verdict originator_verdict(const Rule& rule, Evaluation& ev) {
  if (ev.request.originator.empty()) return {Miss::kNoOriginator};
  if (ev.originator.empty()) ev.originator = ev.scope.absolute(ev.request.originator);
  for (const Rule::Originator& o : rule.originators) {
    if (o.kind == Kind::kRole) {
      const auto& roles = ev.request.role_ids;
      if (std::find(roles.begin(), roles.end(), o.text) != roles.end()) return {};
    } else if (id_matches(o, ev.originator, ev.scope)) {
      return {};
    }
  }
  if (ev.groups == nullptr) return {Miss::kOriginator};
  std::string unavailable;
  for (const Rule::Originator& o : rule.originators) {
    if (o.kind != Kind::kId || o.wildcard) continue;  // no wildcards in group resource-IDs (7.1.3)
    ev.consulted_groups = true;
    const std::string id = ev.scope.absolute(o.text);
    const GroupLookup group = ev.groups->lookup(id);
    if (!group.found) continue;
    if (!group.available) {
      if (unavailable.empty()) unavailable = id;
      continue;
    }
    for (const std::string& member : group.members) {
      if (!member.empty() && ev.scope.absolute(member) == ev.originator) return {};
    }
  }
  if (!unavailable.empty()) return {Miss::kGroupUnavailable, std::move(unavailable)};
  return {Miss::kOriginator};
}

// TS-0003 V3.18.0 7.1.3 accessControlObjectDetails: Create only; ty and spty compare the target (the parent
// of the resource to create), and only when they match is chty compared with the type to create.
bool object_details_match(const Rule& rule, const AccessRequest& r) {
  if (r.operation != AccessOperation::kCreate || rule.object_details.empty()) return true;
  if (!r.created_type) return false;
  return std::any_of(rule.object_details.begin(), rule.object_details.end(), [&r](const Rule::ObjectDetail& d) {
    if (d.type && (!r.target_type || *r.target_type != *d.type)) return false;
    if (d.specialization && (!r.specialization || *r.specialization != *d.specialization)) return false;
    return std::find(d.child_types.begin(), d.child_types.end(), *r.created_type) != d.child_types.end();
  });
}

// One accessControlContexts element: rq_time, rq_ip and rq_loc must each be admitted (AND). Returns why not,
// or empty. A request without the context a member needs is not admitted.
std::string_view context_miss(const Rule::Context& c, const AccessRequest& r) {
  if (!c.windows.empty()) {
    if (!r.time) return "the request carries no time";
    const auto when = *r.time;
    if (std::none_of(c.windows.begin(), c.windows.end(), [when](const ScheduleEntry& w) { return w.matches(when); })) {
      return "outside time window";
    }
  }
  if (!c.addresses.empty()) {
    if (!r.ip) return "the request carries no IP address";
    const IpAddress& ip = *r.ip;
    if (std::none_of(c.addresses.begin(), c.addresses.end(), [&ip](const acp_detail::Prefix& p) { return p.contains(ip); })) {
      return "address not listed";
    }
  }
  if (!c.countries.empty()) {
    // The country is never derived from a point or an address here: the request must carry it.
    if (!r.location || !r.location->country) return "the request carries no country";
    if (std::find(c.countries.begin(), c.countries.end(), *r.location->country) == c.countries.end()) {
      return "country not listed";
    }
  }
  if (c.circle) {
    if (!r.location || !r.location->point) return "the request carries no position";
    const auto [lat, lon] = *r.location->point;
    if (!(acp_detail::great_circle_metres(c.circle->latitude, c.circle->longitude, lat, lon) <= c.circle->radius)) {
      return "outside the circular region";
    }
  }
  return {};
}

Verdict evaluate_rule(const Rule& rule, Evaluation& ev) {
  const AccessRequest& r = ev.request;
  if (!rule.problem.empty()) return {Miss::kProblem, rule.problem};
  // TS-0003 V3.18.0 7.1.3 accessControlAuthenticationFlag: TRUE admits authenticated Originators only.
  if (rule.authentication && !r.authenticated) return {Miss::kNotAuthenticated};
  if ((rule.operations & static_cast<std::uint8_t>(r.operation)) == 0) return {Miss::kOperation};
  Verdict originator = originator_verdict(rule, ev);
  if (originator.miss != Miss::kNone) return originator;
  if (!object_details_match(rule, r)) return {Miss::kObjectDetails};
  if (rule.contexts.empty()) return {};  // "For pairs, any context parameters ... are admissible" (7.1.3)
  ev.consulted = true;
  std::string reasons;
  for (const Rule::Context& context : rule.contexts) {
    const std::string_view why = context_miss(context, r);
    if (why.empty()) return {};
    reasons.append(reasons.empty() ? "" : ", ").append(why);
  }
  if (rule.contexts.size() > 1) reasons = "no context matches (" + reasons + ")";
  return {Miss::kContext, std::move(reasons)};
}

std::string describe(const Verdict& v) {
  switch (v.miss) {
    case Miss::kNone:
      return "grants";
    case Miss::kProblem:
    case Miss::kContext:
      return v.detail;
    case Miss::kNotAuthenticated:
      return "originator not authenticated (acaf)";
    case Miss::kOperation:
      return "operation not permitted";
    case Miss::kNoOriginator:
      return "no originator";
    case Miss::kOriginator:
      return "originator not listed";
    case Miss::kGroupUnavailable:
      return "group '" + v.detail + "' cannot be retrieved";
    case Miss::kObjectDetails:
      return "object details do not match";
  }
  return "unknown";
}

std::string_view kind_name(RuleSetKind kind) { return kind == RuleSetKind::kPrivileges ? "pv" : "pvs"; }

// What one policy says: the index of the granting rule, or why none grants.
struct Outcome {
  std::optional<std::size_t> granted{};
  std::string reason{};
};

Outcome evaluate_rules(const std::vector<Rule>& rules, std::string_view id, RuleSetKind kind, Evaluation& ev) {
  Outcome out;
  std::vector<Verdict> misses;
  misses.reserve(rules.size());
  for (std::size_t i = 0; i < rules.size(); ++i) {
    Verdict v = evaluate_rule(rules[i], ev);
    if (v.miss == Miss::kNone) {
      out.granted = i;
      return out;
    }
    misses.push_back(std::move(v));
  }
  if (misses.empty()) out.reason = concat({id, "/", kind_name(kind), ": no rules"});
  for (std::size_t i = 0; i < misses.size(); ++i) {
    out.reason.append(i == 0 ? "" : "; ");
    out.reason.append(concat({id, "/", kind_name(kind), "/", std::to_string(i), ": ", describe(misses[i])}));
  }
  return out;
}

// Everything a memoised outcome may depend on, length-prefixed so that no two requests share a key.
std::string memo_key(RuleSetKind kind, const AccessRequest& r, const Scope& scope, const GroupResolver* groups,
                     std::optional<std::uint64_t> generation) {
  std::string key;
  key.reserve(64 + r.originator.size() + scope.sp_id.size() + scope.cse_id.size());
  auto text = [&key](std::string_view part) {
    key.append(std::to_string(part.size())).push_back(':');
    key.append(part);
  };
  auto type = [&key](const std::optional<std::uint32_t>& t) {
    key.append(t ? std::to_string(*t) : "-").push_back(',');
  };
  key.push_back(static_cast<char>('0' + static_cast<int>(kind)));
  key.push_back(static_cast<char>(r.operation));
  key.push_back(r.authenticated ? 'A' : 'a');
  key.push_back(groups != nullptr ? 'G' : 'g');
  key.append(generation ? std::to_string(*generation) : "-").push_back(',');
  type(r.created_type);
  type(r.target_type);
  key.push_back(r.specialization ? 'S' : 's');
  text(r.specialization.value_or(""));
  text(scope.sp_id);
  text(scope.cse_id);
  text(r.originator);
  for (const std::string& role : r.role_ids) text(role);
  return key;
}

}  // namespace

// ---- public interface ------------------------------------------------------------------------------------

std::optional<AccessOperation> access_operation(std::int64_t operation, bool discovery) {
  // TS-0003 V3.18.0 7.1.3: Discovery is a Retrieve with discovery filter usage.
  if (discovery) return operation == 2 ? std::optional(AccessOperation::kDiscovery) : std::nullopt;
  switch (operation) {
    case 1:
      return AccessOperation::kCreate;
    case 2:
      return AccessOperation::kRetrieve;
    case 3:
      return AccessOperation::kUpdate;
    case 4:
      return AccessOperation::kDelete;
    case 5:
      return AccessOperation::kNotify;
    default:
      return std::nullopt;
  }
}

std::string Scope::absolute(std::string_view id) const {
  if (id.empty() || id.starts_with("//")) return std::string(id);
  if (id.starts_with('/')) return concat({sp_id, id});
  if (id.starts_with('S')) return concat({sp_id, "/", id});
  return concat({sp_id, cse_id, "/", id});
}

RuleSet::RuleSet() = default;
RuleSet::~RuleSet() = default;
RuleSet::RuleSet(RuleSet&&) noexcept = default;
RuleSet& RuleSet::operator=(RuleSet&&) noexcept = default;

Result<RuleSet> RuleSet::parse(const json::Value& set_of_acrs) {
  const json::Object* o = set_of_acrs.object();
  if (o == nullptr) return Error::usage("access control rules: not an m2m:setOfAcrs object");
  for (const auto& [name, value] : *o) {
    if (name != "acr") return Error::usage("access control rules: unknown m2m:setOfAcrs member '" + name + "'");
  }
  RuleSet set;
  const json::Value* acr = o->find("acr");
  if (acr == nullptr) return set;
  const json::Array* list = acr->array();
  if (list == nullptr) return Error::usage("access control rules: acr is not a list");
  set.m_rules.reserve(list->size());
  for (const json::Value& item : *list) {
    Rule rule;
    if (auto parsed = parse_rule(item, rule); !parsed) {
      rule = Rule{};
      rule.problem = parsed.error().detail();
    }
    set.m_rules.push_back(std::move(rule));
  }
  return set;
}

std::size_t RuleSet::size() const { return m_rules.size(); }

std::vector<std::string> RuleSet::problems() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < m_rules.size(); ++i) {
    if (!m_rules[i].problem.empty()) out.push_back(concat({"acr[", std::to_string(i), "]: ", m_rules[i].problem}));
  }
  return out;
}

struct Policy::State {
  std::string id;
  std::uint64_t version = 0;
  RuleSet privileges;
  RuleSet self_privileges;
  mutable std::shared_mutex memo_mutex{};
  mutable std::unordered_map<std::string, Outcome> memo{};
};

Policy::Policy(std::unique_ptr<State> state) : m_state(std::move(state)) {}
Policy::~Policy() = default;

Result<std::shared_ptr<const Policy>> Policy::parse(const json::Value& acp, std::string id, std::uint64_t version) {
  const json::Value* body = &acp;
  if (const json::Object* root = acp.object(); root != nullptr && root->size() == 1 && root->contains("m2m:acp")) {
    body = root->find("m2m:acp");
  }
  if (body->object() == nullptr) return Error::usage("access control policy: not an m2m:acp object");
  const json::Value* pv = body->find("pv");
  if (pv == nullptr) return Error::usage("access control policy: pv (privileges) is missing");
  M2MSEC_ASSIGN_OR_RETURN(RuleSet privileges, RuleSet::parse(*pv));
  RuleSet self_privileges;
  if (const json::Value* pvs = body->find("pvs")) {
    M2MSEC_ASSIGN_OR_RETURN(self_privileges, RuleSet::parse(*pvs));
  }
  std::unique_ptr<State> state(new State{std::move(id), version, std::move(privileges), std::move(self_privileges)});
  return std::shared_ptr<const Policy>(new Policy(std::move(state)));
}

std::shared_ptr<const Policy> Policy::of(RuleSet privileges, std::string id) {
  std::unique_ptr<State> state(new State{std::move(id), 0, std::move(privileges), RuleSet()});
  return std::shared_ptr<const Policy>(new Policy(std::move(state)));
}

const std::string& Policy::id() const { return m_state->id; }
std::uint64_t Policy::version() const { return m_state->version; }
const RuleSet& Policy::rules(RuleSetKind kind) const {
  return kind == RuleSetKind::kPrivileges ? m_state->privileges : m_state->self_privileges;
}
std::size_t Policy::memoised() const {
  const std::shared_lock lock(m_state->memo_mutex);
  return m_state->memo.size();
}

Decision decide(std::span<const std::shared_ptr<const Policy>> policies, RuleSetKind kind,
                const AccessRequest& request, const Scope& scope, const GroupResolver* groups) {
  Decision decision;
  Evaluation ev{request, scope, groups};
  std::string key;
  const std::optional<std::uint64_t> generation = groups != nullptr ? groups->generation() : std::nullopt;
  for (const std::shared_ptr<const Policy>& policy : policies) {
    if (!policy) continue;
    const Policy::State& state = *policy->m_state;
    if (key.empty()) key = memo_key(kind, request, scope, groups, generation);
    std::optional<Outcome> outcome;
    {
      const std::shared_lock lock(state.memo_mutex);
      if (const auto it = state.memo.find(key); it != state.memo.end()) outcome = it->second;
    }
    if (!outcome) {
      ev.consulted = false;
      ev.consulted_groups = false;
      outcome = evaluate_rules(policy->rules(kind).m_rules, state.id, kind, ev);
      if (!ev.consulted && (!ev.consulted_groups || generation)) {
        const std::unique_lock lock(state.memo_mutex);
        if (state.memo.size() >= kMemoLimit) state.memo.clear();
        state.memo.emplace(key, *outcome);
      }
    }
    if (outcome->granted) {
      decision.granted = true;
      decision.rule = concat({state.id, "/", kind_name(kind), "/", std::to_string(*outcome->granted)});
      decision.reason = decision.rule;
      return decision;
    }
    decision.reason.append(decision.reason.empty() ? "" : "; ").append(outcome->reason);
  }
  // TS-0003 V3.18.0 7.1.4: no permitting rule, or no result, is "Deny".
  if (decision.reason.empty()) decision.reason = "no access control policy applies";
  return decision;
}

namespace acp_detail {

bool wildcard_match(std::string_view pattern, std::string_view id) {
  // Segment by segment: a '*' never reaches into the next segment, so both must have as many '/'.
  while (true) {
    const auto p_end = pattern.find('/');
    const auto i_end = id.find('/');
    if ((p_end == std::string_view::npos) != (i_end == std::string_view::npos)) return false;
    const std::string_view p = pattern.substr(0, p_end);
    const std::string_view s = id.substr(0, i_end);
    // Glob within one segment, '*' the only special character: on a mismatch, let the last '*' take one more
    // character and retry from there.
    std::size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
    while (si < s.size()) {
      if (pi < p.size() && p[pi] == '*') {
        star = pi++;
        mark = si;
      } else if (pi < p.size() && p[pi] == s[si]) {
        ++pi;
        ++si;
      } else if (star != std::string_view::npos) {
        pi = star + 1;
        si = ++mark;
      } else {
        return false;
      }
    }
    while (pi < p.size() && p[pi] == '*') ++pi;
    if (pi != p.size()) return false;
    if (p_end == std::string_view::npos) return true;
    pattern.remove_prefix(p_end + 1);
    id.remove_prefix(i_end + 1);
  }
}

}  // namespace acp_detail
}  // namespace m2msec::authz

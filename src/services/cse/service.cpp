#include "m2msec/cse/service.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "m2msec/core/encoding.h"
#include "m2msec/core/text.h"
#include "m2msec/core/timestamp.h"
#include "m2msec/crypto/random.h"
#include "m2msec/onem2m/resources.h"
#include "tree.h"
#include "types.h"

namespace m2msec::cse {

std::string Resource::text(std::string_view name) const {
  const json::Value* v = attrs.find(name);
  return v != nullptr && v->string() != nullptr ? *v->string() : std::string();
}

std::vector<std::string> Resource::list(std::string_view name) const {
  const json::Value* v = attrs.find(name);
  return v != nullptr ? onem2m::strings_of(*v) : std::vector<std::string>{};
}

std::string Resource::creator() const { return text(type() == ty::kAe ? "aei" : "cr"); }

json::Value Resource::representation() const { return json::Object{{std::string(info->root), attrs}}; }

namespace {

using authz::AccessOperation;
using onem2m::Operation;

// resultContent values (TS-0004 Table 6.3.4.2.7-1) this CSE answers.
constexpr std::int64_t kRcnNothing = 0;
constexpr std::int64_t kRcnAttributes = 1;
constexpr std::int64_t kRcnDiscoveryResultReferences = 11;
// m2m:memberType "mixed" (TS-0004 Table 6.3.4.2.11-1).
constexpr std::int64_t kMemberTypeMixed = 24;
// m2m:notificationEventType (TS-0004 Table 6.3.4.2.19-1) and m2m:notificationContentType (6.3.4.2.18).
constexpr std::int64_t kEventUpdate = 1;
constexpr std::int64_t kEventDelete = 2;
constexpr std::int64_t kEventChildCreated = 3;
constexpr std::int64_t kEventChildDeleted = 4;
constexpr std::int64_t kContentAllAttributes = 1;
constexpr std::int64_t kContentResourceId = 3;
// m2m:securityInfoType (TS-0004 Table 6.3.4.2.35-1).
constexpr std::int64_t kSitDasRequest = 1;
constexpr std::int64_t kSitDasResponse = 2;
// The virtual children of a <container> (latest, oldest): reserved names.
constexpr std::string_view kLatest = "la";
constexpr std::string_view kOldest = "ol";

Seconds floor_seconds(Clock::TimePoint t) { return std::chrono::floor<std::chrono::seconds>(t); }

std::string random_hex(std::size_t octets) {
  auto bytes = crypto::random_bytes(crypto::system_rng(), octets);
  M2MSEC_CHECK(bytes.has_value());
  return hex_encode(*bytes);
}

std::string timestamp(Seconds t) {
  auto text = format_m2m_timestamp(t);
  M2MSEC_CHECK(text.has_value());
  return std::move(text).value();
}

// An AppRule pattern: '*' stands for any run of characters.
bool glob(std::string_view pattern, std::string_view text) {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool any_glob(const std::vector<std::string>& patterns, std::string_view text) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) { return glob(p, text); });
}

// A credential pattern proves a peer when it matches the credential's identifier or the identity the
// association is bound to.
bool proves(std::string_view pattern, const tls::AuthenticatedPeer& peer) {
  return (!peer.identifier.empty() && glob(pattern, peer.identifier)) ||
         (!peer.identity.empty() && glob(pattern, peer.identity));
}

// What an <AE> records as the credential it registered with.
std::string credential_of(const tls::AuthenticatedPeer& peer) {
  return peer.identifier.empty() ? peer.identity : peer.identifier;
}

bool contains(std::span<const std::uint32_t> list, std::uint32_t value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string format_ip(const authz::IpAddress& ip) {
  char out[INET6_ADDRSTRLEN] = {};
  const int family = ip.v6 ? AF_INET6 : AF_INET;
  if (::inet_ntop(family, ip.octets.data(), out, sizeof(out)) == nullptr) return {};
  return out;
}

Error no_privilege() {
  return Error(Category::kPolicy, Rsc::kOriginatorHasNoPrivilege, "the originator has no privilege for this request");
}
Error not_found() { return Error(Category::kPolicy, Rsc::kNotFound, "no such resource"); }
Error not_authenticated() {
  return Error(Category::kAuth, Rsc::kOriginatorNotAuthenticated,
               "From is not the originator the security association authenticated");
}

// A oneM2M notification or consultation to send.
struct Outbound {
  std::string target;
  onem2m::Request request;
};

// Delivers notifications on a worker thread, off the request path, in the order they were posted. Stopping
// drops what is still queued.
class Delivery {
 public:
  explicit Delivery(Notifier notifier) : m_notifier(std::move(notifier)) {
    if (m_notifier) m_thread = std::thread([this] { run(); });
  }
  ~Delivery() {
    {
      std::lock_guard lock(m_mutex);
      m_stop = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable()) m_thread.join();
  }
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;

  void post(std::vector<Outbound> items) {
    if (items.empty() || !m_notifier) return;
    {
      std::lock_guard lock(m_mutex);
      for (Outbound& item : items) m_queue.push_back(std::move(item));
    }
    m_cv.notify_one();
  }

 private:
  void run() {
    while (true) {
      std::unique_lock lock(m_mutex);
      m_cv.wait(lock, [&] { return m_stop || !m_queue.empty(); });
      if (m_stop) return;
      Outbound item = std::move(m_queue.front());
      m_queue.pop_front();
      lock.unlock();
      // A failed delivery is not retried (no pendingNotification policy is supported).
      (void)m_notifier(item.target, item.request);
    }
  }

  Notifier m_notifier;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<Outbound> m_queue;
  bool m_stop = false;
  std::thread m_thread;
};

// What survives from one round of a request to the next (see State::handle).
struct Carry {
  bool dac_done = false;
  std::vector<std::string> dac_tokens;     // tokens a DAS Server returned
  std::optional<std::string> verified_ri;  // the <subscription> whose notification targets were verified
};

// A Direct Dynamic Authorization consultation to make without the lock.
struct Consultation {
  std::string holder;  // the resource whose policies the DAS may extend
  std::vector<std::string> poas;
  onem2m::Request notify;
};

// Subscription verification requests to make without the lock (TS-0004 7.5.1.2.3).
struct Verification {
  std::string ri;
  std::vector<Outbound> requests;
};

struct Step {
  std::optional<onem2m::Response> response{};
  std::optional<Consultation> consult{};
  std::optional<Verification> verify{};
};

// One request as it is being processed.
struct Ctx {
  const onem2m::Request& req;
  const Origin& origin;
  const Carry& carry;
  Seconds now;
  std::string originator{};  // From, authenticated
  bool admin = false;
  const Resource* ae = nullptr;     // the originator's <AE>
  std::vector<std::string> roles{};  // its valid Role-IDs (rids)
  std::optional<std::vector<authz::ValidatedToken>> tokens{};  // its valid tokens, once looked at
};

bool writes(Operation op) { return op == Operation::kCreate || op == Operation::kUpdate || op == Operation::kDelete; }

}  // namespace

struct Service::State {
  ServiceOptions options;
  authz::Scope scope;
  authz::TokenValidator validator;
  std::shared_ptr<const Clock> clock;

  mutable std::shared_mutex mutex;
  std::unordered_map<std::string, std::unique_ptr<Resource>> resources;  // by resource ID
  Resource* base = nullptr;
  std::unordered_map<std::string, Resource*> aes;          // by AE-ID
  std::unordered_multimap<std::string, Resource*> roles;   // <role> by roleID
  std::unordered_multimap<std::string, Resource*> tokens;  // <token> by tokenID
  std::multimap<Seconds, std::string> expiries;            // (expirationTime, resource ID)
  std::uint64_t next_seq = 1;
  std::atomic<std::uint64_t> policy_versions{0};
  // Changes with every resource indexed, updated or removed: the generation of the group lookups (under the
  // exclusive lock), so decisions that looked at groups can be memoised until the tree changes.
  std::uint64_t tree_generation = 0;
  Delivery delivery;  // last: stopped first

  static authz::ValidatorConfig validator_config(const ServiceOptions& options,
                                                 const std::shared_ptr<const Clock>& clock) {
    authz::ValidatorConfig config = options.tokens;
    //= TS-0003 V3.18.0 §7.3.2.6.3
    //# A token's audience, when not empty, must name this Hosting CSE: by default its Absolute CSE-ID.
    if (config.cse_id.empty()) config.cse_id = options.sp_id + options.cse_id;
    if (!config.clock) config.clock = clock;
    return config;
  }

  static std::shared_ptr<const Clock> clock_of(const ServiceOptions& options) {
    return options.clock ? options.clock : std::make_shared<SystemClock>();
  }

  explicit State(ServiceOptions o)
      : options(std::move(o)),
        scope{options.sp_id, options.cse_id},
        validator(validator_config(options, clock_of(options))),
        clock(clock_of(options)),
        delivery(options.notifier) {}

  Seconds now() const { return floor_seconds(clock->now()); }

  // ---------------------------------------------------------------- the tree

  static bool visible(const Resource& r, Seconds now) {
    for (const Resource* p = &r; p != nullptr; p = p->parent) {
      if (p->expires && *p->expires <= now) return false;
    }
    return true;
  }

  // The CSE-relative part of an ID in any of its forms ("//sp/cse/x", "/cse/x", "x").
  std::string_view local_part(std::string_view id) const {
    const std::string absolute = concat({scope.sp_id, scope.cse_id, "/"});
    const std::string relative = concat({scope.cse_id, "/"});
    if (id.starts_with(absolute)) return id.substr(absolute.size());
    if (id.starts_with(relative)) return id.substr(relative.size());
    return id;
  }

  bool same_id(std::string_view a, std::string_view b) const { return scope.absolute(a) == scope.absolute(b); }

  Resource* instance(const Resource& container, bool latest, Seconds now) const {
    const auto pick = [&](auto first, auto last) -> Resource* {
      for (; first != last; ++first) {
        if ((*first)->type() == ty::kContentInstance && visible(**first, now)) return *first;
      }
      return nullptr;
    };
    return latest ? pick(container.children.rbegin(), container.children.rend())
                  : pick(container.children.begin(), container.children.end());
  }

  // A target: structured ("cse-in/ae1/cnt1", ".../la") or unstructured (a resource ID, possibly followed by
  // structured parts). nullptr when there is none or it has expired.
  Resource* resolve(std::string_view to, Seconds now) const {
    std::size_t slash = to.find('/');
    const std::string_view first = to.substr(0, slash);
    Resource* r = nullptr;
    if (first == base->rn) {
      r = base;
    } else if (const auto it = resources.find(std::string(first)); it != resources.end()) {
      r = it->second.get();
    }
    while (r != nullptr && slash != std::string_view::npos) {
      to.remove_prefix(slash + 1);
      slash = to.find('/');
      const std::string_view segment = to.substr(0, slash);
      if (const auto child = r->by_rn.find(std::string(segment)); child != r->by_rn.end()) {
        r = child->second;
      } else if (r->type() == ty::kContainer && (segment == kLatest || segment == kOldest)) {
        r = instance(*r, segment == kLatest, now);
      } else {
        r = nullptr;
      }
    }
    return r != nullptr && visible(*r, now) ? r : nullptr;
  }

  Resource* find_id(std::string_view id, Seconds now) const {
    const std::string_view local = local_part(id);
    return local.empty() ? nullptr : resolve(local, now);
  }

  void index(std::unique_ptr<Resource> owned) {
    ++tree_generation;
    Resource* r = owned.get();
    resources[r->ri] = std::move(owned);
    if (!r->pi.empty()) {
      r->parent = resources.at(r->pi).get();
      r->path = concat({r->parent->path, "/", r->rn});
      r->parent->children.push_back(r);
      r->parent->by_rn[r->rn] = r;
    } else {
      r->path = r->rn;
      base = r;
    }
    if (r->type() == ty::kAe) aes[r->text("aei")] = r;
    if (r->type() == ty::kRole) roles.emplace(r->text("rlid"), r);
    if (r->type() == ty::kToken) tokens.emplace(r->text("tkid"), r);
    if (r->expires) expiries.emplace(*r->expires, r->ri);
    next_seq = std::max(next_seq, r->seq + 1);
  }

  template <typename Map>
  static void erase_value(Map& map, const std::string& key, const Resource* r) {
    const auto [first, last] = map.equal_range(key);
    for (auto it = first; it != last; ++it) {
      if (it->second == r) {
        map.erase(it);
        return;
      }
    }
  }

  void forget_expiry(const Resource& r) {
    if (!r.expires) return;
    const auto [first, last] = expiries.equal_range(*r.expires);
    for (auto it = first; it != last; ++it) {
      if (it->second == r.ri) {
        expiries.erase(it);
        return;
      }
    }
  }

  void unindex(Resource* r) {
    ++tree_generation;
    if (r->parent != nullptr) {
      auto& siblings = r->parent->children;
      siblings.erase(std::find(siblings.begin(), siblings.end(), r));
      r->parent->by_rn.erase(r->rn);
    }
    if (r->type() == ty::kAe) aes.erase(r->text("aei"));
    if (r->type() == ty::kRole) erase_value(roles, r->text("rlid"), r);
    if (r->type() == ty::kToken) erase_value(tokens, r->text("tkid"), r);
    forget_expiry(*r);
    resources.erase(r->ri);
  }

  // The parsed expirationTime and, for an <accessControlPolicy>, a newly compiled version (TS-0003 V3.18.0
  // §7.1: rules are compiled once per version, never on the request path).
  Result<void> compile(Resource& r) {
    r.expires.reset();
    if (const json::Value* et = r.attrs.find("et"); et != nullptr && et->string() != nullptr) {
      M2MSEC_ASSIGN_OR_RETURN(r.expires, parse_m2m_timestamp(*et->string()));
    }
    if (r.type() == ty::kAccessControlPolicy) {
      M2MSEC_ASSIGN_OR_RETURN(r.policy, authz::Policy::parse(json::Value(r.attrs), r.ri, ++policy_versions));
    }
    return {};
  }

  Result<void> persist(const Resource& r) const {
    if (!options.store) return {};
    json::Object body{{"seq", static_cast<std::int64_t>(r.seq)}, {"rep", r.attrs}};
    if (!r.credential.empty()) body.set("cred", r.credential);
    return options.store->put_resource(store::CseResource{r.ri, r.pi, r.type(), json::serialize(body)});
  }

  std::unique_ptr<Resource> base_resource() {
    auto r = std::make_unique<Resource>();
    r->ri = std::string(options.cse_id.starts_with('/') ? options.cse_id.substr(1) : options.cse_id);
    r->rn = options.resource_name;
    r->info = type_info(ty::kCseBase);
    r->seq = next_seq++;
    const std::string created = timestamp(now());
    json::Array releases;
    for (const std::string& release : options.supported_releases) releases.emplace_back(release);
    //= TS-0004 V3.32.0 §7.4.3.1 (Table 7.4.3.1-3)
    //# <CSEBase>: CSE-ID, cseType IN-CSE (1), supportedReleaseVersions.
    r->attrs = json::Object{{"ri", r->ri},           {"rn", r->rn},
                            {"ty", static_cast<std::int64_t>(ty::kCseBase)},
                            {"ct", created},         {"lt", created},
                            {"csi", options.cse_id}, {"cst", 1},
                            {"srv", json::Value(std::move(releases))}};
    return r;
  }

  Result<void> load() {
    std::vector<std::unique_ptr<Resource>> loaded;
    if (options.store) {
      M2MSEC_ASSIGN_OR_RETURN(const std::vector<store::CseResource> rows, options.store->load_resources());
      for (const store::CseResource& row : rows) {
        auto r = std::make_unique<Resource>();
        r->ri = row.ri;
        r->pi = row.pi;
        r->info = type_info(row.ty);
        M2MSEC_ASSIGN_OR_RETURN(json::Value body, json::parse(row.body));
        const json::Value* seq = body.find("seq");
        const json::Value* rep = body.find("rep");
        if (r->info == nullptr || seq == nullptr || !seq->integer() || rep == nullptr || rep->object() == nullptr) {
          return Error::internal(concat({"stored resource ", row.ri, " is not one this CSE wrote"}));
        }
        r->seq = static_cast<std::uint64_t>(*seq->integer());
        r->attrs = *rep->object();
        r->rn = r->text("rn");
        if (const json::Value* cred = body.find("cred"); cred != nullptr && cred->string() != nullptr) {
          r->credential = *cred->string();
        }
        M2MSEC_TRY(compile(*r));
        loaded.push_back(std::move(r));
      }
    }
    // Parents were created before their children: in creation order, every parent is indexed first. A
    // resource whose parent is gone (a crash between two writes of one deletion) is dropped.
    std::sort(loaded.begin(), loaded.end(), [](const auto& a, const auto& b) { return a->seq < b->seq; });
    for (auto& r : loaded) {
      if (r->type() == ty::kCseBase ? base == nullptr : resources.contains(r->pi)) index(std::move(r));
    }
    if (base == nullptr) {
      auto r = base_resource();
      M2MSEC_TRY(persist(*r));
      index(std::move(r));
    }
    return {};
  }

  // ---------------------------------------------------------------- authorization

  // Group membership for acor entries naming a local <group> (TS-0001 9.6.2.1).
  class Groups final : public authz::GroupResolver {
   public:
    Groups(const State& state, Seconds now) : m_state(state), m_now(now) {}
    authz::GroupLookup lookup(std::string_view id) const override {
      const std::string_view local = m_state.local_part(id);
      const auto it = m_state.resources.find(std::string(local));
      const Resource* r = it != m_state.resources.end() ? it->second.get() : m_state.resolve(local, m_now);
      if (r == nullptr || r->type() != ty::kGroup) return {};
      if (!visible(*r, m_now)) return {true, false, {}};
      return {true, true, r->list("mid")};
    }
    // Lookups answer the same until the tree changes, unless a resource has expired and is not purged yet
    // (its visibility then depends on the time).
    std::optional<std::uint64_t> generation() const override {
      if (!m_state.expiries.empty() && m_state.expiries.begin()->first <= m_now) return std::nullopt;
      return m_state.tree_generation;
    }

   private:
    const State& m_state;
    Seconds m_now;
  };

  // The resource whose accessControlPolicyIDs apply to `target` (TS-0001 10.2.3.1 step 2): its own, or its
  // parent's for a type without them (<contentInstance>).
  static const Resource& governing(const Resource& target) {
    return target.type() == ty::kContentInstance ? *target.parent : target;
  }

  std::vector<std::shared_ptr<const authz::Policy>> policies_of(const std::vector<std::string>& ids,
                                                                 Seconds now) const {
    std::vector<std::shared_ptr<const authz::Policy>> out;
    for (const std::string& id : ids) {
      // A referenced policy that is gone or expired contributes nothing (fail closed).
      const Resource* acp = find_id(id, now);
      if (acp != nullptr && acp->type() == ty::kAccessControlPolicy && acp->policy) out.push_back(acp->policy);
    }
    return out;
  }

  bool trusted_issuer(std::string_view id) const {
    return std::any_of(options.tokens.issuers.begin(), options.tokens.issuers.end(),
                       [&](const authz::TrustedIssuer& issuer) { return issuer.id == id; });
  }

  std::optional<authz::ValidatedToken> valid_token(std::string_view token, const Ctx& c) const {
    auto validated = validator.validate(token);
    //= TS-0003 V3.18.0 §7.3.2.6.3
    //# The holder must be the originator of the request (compared in absolute form, whatever form either uses).
    if (!validated || !same_id(validated->claims.holder, c.originator)) return std::nullopt;
    return std::move(validated).value();
  }

  //= TS-0003 V3.18.0 §7.3.2.3 step 7.1.3, §7.3.2.5
  //# The tokens of the request (tkns; tids through the <token> resources holding them), each validated; an
  //# invalid one grants nothing.
  const std::vector<authz::ValidatedToken>& valid_tokens(Ctx& c) const {
    if (c.tokens) return *c.tokens;
    c.tokens.emplace();
    const auto add = [&](std::string_view token) {
      if (auto v = valid_token(token, c)) c.tokens->push_back(std::move(*v));
    };
    for (const std::string& token : c.req.tkns) add(token);
    for (const std::string& token : c.carry.dac_tokens) add(token);
    for (const std::string& id : c.req.tids) {
      const auto [first, last] = tokens.equal_range(id);
      for (auto it = first; it != last; ++it) {
        if (visible(*it->second, c.now)) add(it->second->text("tkob"));
      }
    }
    return *c.tokens;
  }

  bool names(const json::Value& ids, const Resource& target) const {
    for (const std::string& id : onem2m::strings_of(ids)) {
      const std::string_view local = local_part(id);
      if (local == target.ri || local == target.path) return true;
    }
    return false;
  }

  //= TS-0003 V3.18.0 §7.1.4, §7.1.5; TS-0001 V3 §10.2.3.1 steps 1-5
  //# The access decision without Direct Dynamic Authorization: the target's policies (selfPrivileges of an
  //# <accessControlPolicy> target; the parent's for a <contentInstance>; only the creator / custodian when
  //# accessControlPolicyIDs is not set), then the permissions of the valid tokens.
  bool permitted(Ctx& c, AccessOperation op, const Resource& target, std::optional<std::uint32_t> created_type,
                 bool acpi_update = false) const {
    //= ACME CSE (fullAccessAdmin)
    //# The administrator, the operator of this CSE, has full access.
    if (c.admin) return true;
    const Resource& holder = governing(target);
    authz::AccessRequest request;
    request.originator = c.originator;
    request.operation = op;
    request.created_type = created_type;
    request.target_type = target.type();
    request.ip = c.origin.ip;
    request.time = c.now;
    request.authenticated = true;  // every request here comes over an association that proved its From
    request.role_ids = c.roles;
    const Groups groups(*this, c.now);

    std::vector<std::shared_ptr<const authz::Policy>> policies;
    authz::RuleSetKind kind = authz::RuleSetKind::kPrivileges;
    if (target.type() == ty::kAccessControlPolicy && !acpi_update) {
      kind = authz::RuleSetKind::kSelfPrivileges;
      if (target.policy) policies.push_back(target.policy);
    } else {
      const std::vector<std::string> ids = holder.list("acpi");
      //= TS-0001 V3 §9.6.1.3.2
      //# A change of accessControlPolicyIDs is checked against the selfPrivileges of the policies it names now.
      if (acpi_update) kind = authz::RuleSetKind::kSelfPrivileges;
      if (ids.empty()) {
        //= TS-0001 V3 §10.2.3.1 step 4
        //# No accessControlPolicyIDs: only the creator (or the custodian, when set) has access.
        const std::string custodian = holder.text("cstn");
        const std::string owner = custodian.empty() ? holder.creator() : custodian;
        if (!owner.empty() && same_id(owner, c.originator)) return true;
      } else {
        policies = policies_of(ids, c.now);
      }
    }
    if (authz::decide(policies, kind, request, scope, &groups).granted) return true;

    //= TS-0003 V3.18.0 §7.3.2.5
    //# Token permissions, entry by entry: "ris" limits an entry to those resources, "pv" is one more policy,
    //# "rids" are more roles of the originator.
    const auto& valid = valid_tokens(c);
    if (valid.empty()) return false;
    std::vector<std::shared_ptr<const authz::Policy>> token_policies;
    for (const authz::ValidatedToken& token : valid) {
      if (!token.claims.permissions) continue;
      const json::Value* entries = token.claims.permissions->find("pm");
      if (entries == nullptr || entries->array() == nullptr) continue;
      std::size_t index = 0;
      for (const json::Value& entry : *entries->array()) {
        const std::string id = concat({token.claims.token_id, "/pm/", std::to_string(index++)});
        if (const json::Value* ris = entry.find("ris"); ris != nullptr && !names(*ris, target)) continue;
        if (const json::Value* rids = entry.find("rids"); rids != nullptr) {
          for (std::string& role : onem2m::strings_of(*rids)) request.role_ids.push_back(std::move(role));
        }
        if (const json::Value* pv = entry.find("pv"); pv != nullptr) {
          if (auto rules = authz::RuleSet::parse(*pv)) token_policies.push_back(authz::Policy::of(std::move(*rules), id));
        }
      }
    }
    if (request.role_ids.size() > c.roles.size() && authz::decide(policies, kind, request, scope, &groups).granted) {
      return true;
    }
    return authz::decide(token_policies, authz::RuleSetKind::kPrivileges, request, scope, &groups).granted;
  }

  //= TS-0004 V3.32.0 §7.5.1.2.10; TS-0003 V3.18.0 §7.3.2.2
  //# Direct Dynamic Authorization: the <dynamicAuthorizationConsultation> resources named by the target's
  //# dynamicAuthorizationConsultationIDs (else its parent's), enabled ones only, are asked with a
  //# m2m:dynAuthDasRequest NOTIFY.
  std::optional<Consultation> consultation(const Ctx& c, const Resource& target) const {
    if (c.carry.dac_done || !options.notifier || target.type() == ty::kAccessControlPolicy) return std::nullopt;
    const Resource& holder = governing(target);
    std::vector<std::string> ids = holder.list("daci");
    if (ids.empty() && holder.parent != nullptr) ids = holder.parent->list("daci");
    Consultation out;
    out.holder = holder.ri;
    std::optional<json::Value> lifetime;
    for (const std::string& id : ids) {
      const Resource* dac = find_id(id, c.now);
      if (dac == nullptr || dac->type() != ty::kDynamicAuthorizationConsultation) continue;
      const json::Value* enabled = dac->attrs.find("dae");
      if (enabled == nullptr || enabled->boolean() != true) continue;
      for (std::string& poa : dac->list("dap")) out.poas.push_back(std::move(poa));
      if (const json::Value* dal = dac->attrs.find("dal"); dal != nullptr && !lifetime) lifetime = *dal;
    }
    if (out.poas.empty()) return std::nullopt;

    //= TS-0004 V3.32.0 §6.3.5.46
    //# m2m:dynAuthDasRequest: originator, targetedResourceType, operation, originatorIP, originatorRoleIDs,
    //# requestTimestamp, targetedResourceID, proposedPrivilegesLifetime, tokenIDs.
    json::Object request{{"or", scope.absolute(c.originator)},
                         {"trt", static_cast<std::int64_t>(target.type())},
                         {"op", static_cast<std::int64_t>(c.req.op)},
                         {"trid", concat({options.cse_id, "/", target.ri})},
                         {"rts", timestamp(c.now)}};
    if (c.origin.ip) {
      const std::string ip = format_ip(*c.origin.ip);
      if (!ip.empty()) request.set("oip", json::Object{{c.origin.ip->v6 ? "ip6" : "ip4", ip}});
    }
    if (!c.req.rids.empty()) request.set("orid", onem2m::string_list(c.req.rids));
    if (lifetime) request.set("ppl", *lifetime);
    if (!c.req.tids.empty()) request.set("tids", onem2m::string_list(c.req.tids));
    out.notify.op = Operation::kNotify;
    out.notify.fr = options.cse_id;
    out.notify.rqi = random_hex(8);
    out.notify.pc = json::Object{
        {"m2m:seci", json::Object{{"sit", kSitDasRequest}, {"dreq", json::Value(std::move(request))}}}};
    return out;
  }

  // Granted: nullopt. Denied with a consultation still to make: that consultation. Denied: 4103.
  Result<std::optional<Consultation>> authorize(Ctx& c, AccessOperation op, const Resource& target,
                                                std::optional<std::uint32_t> created_type = std::nullopt) const {
    if (permitted(c, op, target, created_type)) return std::optional<Consultation>{};
    if (auto call = consultation(c, target)) return std::optional<Consultation>(std::move(*call));
    //= TS-0001 V3 §10.2.3.1 step 8
    //# Every method denies: ORIGINATOR_HAS_NO_PRIVILEGE.
    return no_privilege();
  }

  // ---------------------------------------------------------------- originator binding

  //= TS-0003 V3.18.0 §7.2.1
  //# From must be the originator the security association authenticated: the administrator proven by an
  //# administrator credential, or the AE-ID of an <AE> registered with this very credential.
  Result<void> bind(Ctx& c) const {
    const tls::AuthenticatedPeer& peer = *c.origin.peer;
    const std::string& from = c.req.fr;
    if (!options.admin_originator.empty() && from == options.admin_originator) {
      const bool proven = std::any_of(options.admin_credentials.begin(), options.admin_credentials.end(),
                                      [&](const std::string& pattern) { return proves(pattern, peer); });
      if (!proven) return not_authenticated();
      c.admin = true;
      c.originator = from;
      return {};
    }
    const auto it = aes.find(std::string(local_part(from)));
    if (from.empty() || it == aes.end() || !visible(*it->second, c.now) ||
        it->second->credential != credential_of(peer)) {
      return not_authenticated();
    }
    c.ae = it->second;
    c.originator = it->first;
    c.roles = valid_roles(c);
    return {};
  }

  // The AppRules that admit this AE with this credential.
  bool admitted(const AppRule& rule, const tls::AuthenticatedPeer& peer, std::string_view api,
                std::string_view aei) const {
    return proves(rule.credential, peer) && any_glob(rule.app_ids, api) && any_glob(rule.ae_ids, aei);
  }

  //= TS-0003 V3.18.0 §7.4.3 step 4; TS-0001 V3 §7.1.14
  //# A Role-ID counts when the originator's AppRule allows it and a <role> with that roleID is held by the
  //# originator, was issued by a configured issuer and is valid now.
  std::vector<std::string> valid_roles(const Ctx& c) const {
    std::vector<std::string> out;
    const tls::AuthenticatedPeer& peer = *c.origin.peer;
    const std::string api = c.ae->text("api");
    for (const std::string& rid : c.req.rids) {
      if (!authz::is_role_or_token_id(rid)) continue;
      const bool allowed = std::any_of(options.app_rules.begin(), options.app_rules.end(), [&](const AppRule& rule) {
        return admitted(rule, peer, api, c.originator) && any_glob(rule.role_ids, rid);
      });
      if (!allowed) continue;
      const auto [first, last] = roles.equal_range(rid);
      for (auto it = first; it != last; ++it) {
        const Resource& role = *it->second;
        const auto from = parse_m2m_timestamp(role.text("tknb"));
        const auto until = parse_m2m_timestamp(role.text("tkna"));
        if (visible(role, c.now) && same_id(role.text("tkhd"), c.originator) && trusted_issuer(role.text("tkis")) &&
            from && until && *from <= c.now && c.now <= *until) {
          out.push_back(rid);
          break;
        }
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- helpers of the procedures

  // Whether the response carries the representation (resultContent, TS-0004 Table 6.3.4.2.7-1).
  static Result<bool> representation_wanted(const onem2m::Request& req) {
    const bool del = req.op == Operation::kDelete;
    if (!req.rcn) return !del;
    if (*req.rcn == kRcnNothing) return false;
    if (*req.rcn == kRcnAttributes) return true;
    return Error::usage("resultContent: only 0 (nothing) and 1 (attributes) are supported");
  }

  static onem2m::Response reply(const onem2m::Request& req, Rsc rsc, std::optional<json::Value> pc = std::nullopt) {
    return onem2m::Response{rsc, req.rqi, std::move(pc)};
  }

  Result<void> check_links(const json::Object& attrs, std::string_view name, std::uint32_t type, Seconds now) const {
    const json::Value* ids = attrs.find(name);
    if (ids == nullptr) return {};
    for (const std::string& id : onem2m::strings_of(*ids)) {
      const Resource* r = find_id(id, now);
      if (r == nullptr || r->type() != type) {
        return Error::usage(concat({"'", name, "' names '", id, "', which is not a resource of the right type here"}));
      }
    }
    return {};
  }

  static Result<void> check_rules(const json::Value& set, std::string_view name, bool need_one) {
    auto rules = authz::RuleSet::parse(set);
    if (!rules) return Error::usage(concat({"'", name, "': ", rules.error().detail()}));
    //= TS-0004 V3.32.0 §7.4.2.2.1, §7.4.2.2.3
    //# selfPrivileges needs at least one rule; rules this CSE cannot evaluate are refused, not stored.
    if (need_one && rules->size() == 0) return Error::usage(concat({"'", name, "' needs at least one rule"}));
    const std::vector<std::string> problems = rules->problems();
    if (!problems.empty()) return Error::usage(concat({"'", name, "': ", problems.front()}));
    return {};
  }

  // The checks of a representation as it will be stored (after an UPDATE merged into it), and the values the
  // CSE derives (group member count).
  Result<void> finish(std::uint32_t type, json::Object& attrs, const Ctx& c) const {
    if (const json::Value* et = attrs.find("et")) {
      const auto when = parse_m2m_timestamp(*et->string());
      if (!when || *when <= c.now) return Error::usage("'et' must be in the future");
    }
    M2MSEC_TRY(check_links(attrs, "acpi", ty::kAccessControlPolicy, c.now));
    M2MSEC_TRY(check_links(attrs, "daci", ty::kDynamicAuthorizationConsultation, c.now));
    switch (type) {
      case ty::kAccessControlPolicy:
        M2MSEC_TRY(check_rules(*attrs.find("pv"), "pv", false));
        M2MSEC_TRY(check_rules(*attrs.find("pvs"), "pvs", true));
        return {};
      case ty::kGroup: {
        //= TS-0004 V3.32.0 §7.4.13.2.1
        //# memberIDs without duplicates, at most maxNrOfMembers of them, local members of the memberType
        //# (unless mixed); currentNrOfMembers and memberTypeValidated follow.
        std::vector<std::string> members;
        for (std::string& id : attrs.find("mid") ? onem2m::strings_of(*attrs.find("mid")) : std::vector<std::string>{}) {
          if (std::find(members.begin(), members.end(), id) == members.end()) members.push_back(std::move(id));
        }
        const std::int64_t max = *attrs.find("mnm")->integer();
        if (static_cast<std::int64_t>(members.size()) > max) return Error::usage("more members than 'mnm' allows");
        const std::int64_t member_type = *attrs.find("mt")->integer();
        for (const std::string& id : members) {
          const Resource* member = find_id(id, c.now);
          if (member != nullptr && member_type != kMemberTypeMixed && member->type() != member_type) {
            return Error(Category::kUsage, Rsc::kGroupMemberTypeInconsistent,
                         concat({"member '", id, "' is not of the group's memberType"}));
          }
        }
        attrs.set("cnm", static_cast<std::int64_t>(members.size()));
        attrs.set("mid", onem2m::string_list(members));
        attrs.set("mtv", true);
        return {};
      }
      case ty::kSubscription: {
        if (!options.notifier) return Error::usage("this CSE cannot send notifications");
        if (const json::Value* enc = attrs.find("enc")) {
          for (const auto& [name, value] : *enc->object()) {
            // Criteria this CSE does not evaluate are refused rather than ignored (fail closed).
            if (name != "net" || value.array() == nullptr || value.array()->empty()) {
              return Error::usage(concat({"eventNotificationCriteria: '", name, "' is not supported"}));
            }
            for (const json::Value& event : *value.array()) {
              if (!event.integer() || *event.integer() < kEventUpdate || *event.integer() > kEventChildDeleted) {
                return Error::usage("eventNotificationCriteria: 'net' takes 1 to 4 here");
              }
            }
          }
        }
        if (const json::Value* nct = attrs.find("nct");
            nct != nullptr && *nct->integer() != kContentAllAttributes && *nct->integer() != kContentResourceId) {
          return Error::usage("notificationContentType: only 1 (all attributes) and 3 (resource ID) are supported");
        }
        return {};
      }
      case ty::kRole: {
        if (!authz::is_role_or_token_id(attrs.find("rlid") ? *attrs.find("rlid")->string() : "")) {
          return Error::usage("'rlid' is not an m2m:roleID");
        }
        if (*parse_m2m_timestamp(*attrs.find("tknb")->string()) > *parse_m2m_timestamp(*attrs.find("tkna")->string())) {
          return Error::usage("'tknb' is after 'tkna'");
        }
        return {};
      }
      case ty::kToken:
        if (!authz::is_role_or_token_id(*attrs.find("tkid")->string())) return Error::usage("'tkid' is not an m2m:tokenID");
        return {};
      default:
        return {};
    }
  }

  // Notifications of the <subscription> children of `subject` for an event about `about` (TS-0004 7.5.1.2.2:
  // m2m:notification {nev {rep, net}, sur}).
  void events(const Resource& subject, std::int64_t event, const Resource& about, Seconds now,
              std::vector<Outbound>& out) const {
    for (const Resource* sub : subject.children) {
      if (sub->type() != ty::kSubscription || !visible(*sub, now)) continue;
      std::vector<std::int64_t> wanted{kEventUpdate};
      if (const json::Value* enc = sub->attrs.find("enc"); enc != nullptr && enc->find("net") != nullptr) {
        wanted.clear();
        for (const json::Value& e : *enc->find("net")->array()) wanted.push_back(*e.integer());
      }
      if (std::find(wanted.begin(), wanted.end(), event) == wanted.end()) continue;
      const json::Value* nct = sub->attrs.find("nct");
      json::Value rep = nct != nullptr && nct->integer() == kContentResourceId ? json::Value(about.ri)
                                                                                 : about.representation();
      const json::Value content = json::Object{
          {"m2m:sgn", json::Object{{"nev", json::Object{{"rep", std::move(rep)}, {"net", event}}},
                                   {"sur", concat({options.cse_id, "/", sub->ri})}}}};
      for (const std::string& target : sub->list("nu")) {
        onem2m::Request notify;
        notify.op = Operation::kNotify;
        notify.to = target;
        notify.fr = options.cse_id;
        notify.rqi = random_hex(8);
        notify.pc = content;
        out.push_back({target, std::move(notify)});
      }
    }
  }

  // Removes `r` and everything below it: the store first (one transaction), then the tree.
  Result<void> remove(Resource* r, Seconds now, std::vector<Outbound>* notes) {
    std::vector<Resource*> order;  // children before parents
    const auto walk = [&](auto&& self, Resource* node) -> void {
      for (Resource* child : node->children) self(self, child);
      order.push_back(node);
    };
    walk(walk, r);
    if (options.store) {
      std::vector<std::string> ris;
      ris.reserve(order.size());
      for (const Resource* node : order) ris.push_back(node->ri);
      M2MSEC_TRY(options.store->delete_resources(ris));
    }
    if (notes != nullptr) {
      events(*r, kEventDelete, *r, now, *notes);
      if (r->parent != nullptr) events(*r->parent, kEventChildDeleted, *r, now, *notes);
    }
    Resource* parent = r->parent;
    const bool instance_removed = r->type() == ty::kContentInstance;
    for (Resource* node : order) unindex(node);
    if (instance_removed) M2MSEC_TRY(account(*parent, now));
    return {};
  }

  //= TS-0004 V3.32.0 §7.4.7.2.1 step 2c, §7.4.7.2.4
  //# currentNrOfInstances and currentByteSize of a <container> follow its <contentInstance> children.
  Result<void> account(Resource& container, Seconds now) {
    std::int64_t count = 0;
    std::int64_t bytes = 0;
    for (const Resource* child : container.children) {
      if (child->type() != ty::kContentInstance || !visible(*child, now)) continue;
      ++count;
      bytes += child->attrs.find("cs")->integer().value_or(0);
    }
    container.attrs.set("cni", count);
    container.attrs.set("cbs", bytes);
    return persist(container);
  }

  // Expired resources leave the tree (and the store) at the next write.
  void purge(Seconds now) {
    while (!expiries.empty() && expiries.begin()->first <= now) {
      const auto it = resources.find(expiries.begin()->second);
      expiries.erase(expiries.begin());
      if (it == resources.end()) continue;
      std::vector<Outbound> notes;
      // A store failure leaves the record behind; it is expired and purged again after the next load.
      if (remove(it->second.get(), now, &notes)) delivery.post(std::move(notes));
    }
  }

  // ---------------------------------------------------------------- procedures

  //= TS-0004 V3.32.0 §7.4.5.2.1; TS-0001 V3 §10.1.1.2.2; TS-0013 TD_M2M_SE_01
  //# AE registration: the association's credential must be admitted by an AppRule for the App-ID and the
  //# AE-ID (assigned "C..." / "S..." when From is empty, "C" or "S"); the <AE> records the credential.
  Result<Step> register_ae(Ctx& c) {
    const tls::AuthenticatedPeer& peer = *c.origin.peer;
    Resource* parent = resolve(c.req.to, c.now);
    if (parent == nullptr) return not_found();
    if (parent != base) {
      return Error(Category::kUsage, Rsc::kInvalidChildResourceType, "an <AE> registers under the <CSEBase>");
    }
    M2MSEC_ASSIGN_OR_RETURN(const bool wanted, representation_wanted(c.req));
    const TypeInfo& info = *type_info(ty::kAe);
    M2MSEC_ASSIGN_OR_RETURN(json::Object content, check_content(info, Operation::kCreate, c.req.pc));
    const std::string api = *content.find("api")->string();
    //= TS-0004 V3.32.0 §7.4.5.2.1
    //# An App-ID starts with 'R', 'r' or 'N'.
    if (api.front() != 'R' && api.front() != 'r' && api.front() != 'N') {
      return Error::usage("'api' must start with 'R' or 'N'");
    }
    const std::string from(local_part(c.req.fr));
    std::string aei;
    if (from.empty() || from == "C") {
      aei = "C" + random_hex(8);
    } else if (from == "S") {
      aei = "S" + random_hex(8);
    } else if ((from.front() == 'C' || from.front() == 'S') && from.find('/') == std::string::npos) {
      aei = from;
    } else {
      return Error(Category::kPolicy, Rsc::kAppRuleValidationFailed, "From is not an AE-ID-Stem");
    }
    const bool admitted_by_rule = std::any_of(options.app_rules.begin(), options.app_rules.end(),
                                              [&](const AppRule& rule) { return admitted(rule, peer, api, aei); });
    if (!admitted_by_rule) {
      return Error(Category::kPolicy, Rsc::kAppRuleValidationFailed, "no AppRule admits this registration");
    }
    if (aes.contains(aei) || resources.contains(aei)) {
      return Error(Category::kPolicy, Rsc::kOriginatorHasAlreadyRegistered, "this AE-ID is already registered");
    }
    c.originator = aei;
    auto r = std::make_unique<Resource>();
    r->ri = aei;
    r->credential = credential_of(peer);
    return insert(c, *parent, info, std::move(content), std::move(r), wanted);
  }

  Result<void> check_name(const Resource& parent, std::string_view rn) const {
    if (rn.find('/') != std::string_view::npos || rn == kLatest || rn == kOldest || rn == "." || rn == "..") {
      return Error::usage("'rn' may not contain '/' nor be a reserved name");
    }
    //= TS-0001 V3 §9.6.1.3.2 (resourceName)
    //# Siblings have different resource names: CONFLICT.
    if (parent.by_rn.contains(std::string(rn))) {
      return Error(Category::kPolicy, Rsc::kConflict, "a sibling already has this resource name");
    }
    return {};
  }

  // The common part of every CREATE once authorised and checked: attributes, name, store, tree, events.
  Result<Step> insert(Ctx& c, Resource& parent, const TypeInfo& info, json::Object content,
                      std::unique_ptr<Resource> r, bool wanted) {
    if (r->ri.empty()) r->ri = concat({info.prefix, "-", random_hex(10)});
    const json::Value* rn = content.find("rn");
    r->rn = rn != nullptr ? *rn->string() : r->ri;
    M2MSEC_TRY(check_name(parent, r->rn));
    r->pi = parent.ri;
    r->info = &info;
    const std::string created = timestamp(c.now);
    json::Object attrs{{"ri", r->ri},
                       {"rn", r->rn},
                       {"pi", r->pi},
                       {"ty", static_cast<std::int64_t>(info.type)},
                       {"ct", created},
                       {"lt", created}};
    for (const auto& [name, value] : content) {
      if (name != "rn" && name != "cr") attrs.set(name, value);
    }
    if (info.type == ty::kAe) {
      attrs.set("aei", r->ri);
    } else {
      //= TS-0004 V3.32.0 §7.4.8.2.1 Recv-6.5 (creator)
      //# The originator of the CREATE is recorded as the creator.
      attrs.set("cr", c.originator);
    }
    if (info.type == ty::kContainer) {
      attrs.set("cni", 0);
      attrs.set("cbs", 0);
    }
    if (info.type == ty::kContentInstance) {
      const json::Value& con = *attrs.find("con");
      const std::size_t size = con.string() != nullptr ? con.string()->size() : json::serialize(con).size();
      attrs.set("cs", static_cast<std::int64_t>(size));
      //= TS-0004 V3.32.0 §7.4.7.2.1 step 1
      //# Content larger than the container's maxByteSize is refused.
      if (const json::Value* mbs = parent.attrs.find("mbs"); mbs != nullptr && *mbs->integer() < static_cast<std::int64_t>(size)) {
        return Error(Category::kPolicy, Rsc::kNotAcceptable, "the content is larger than the container allows");
      }
      //= TS-0004 V3.32.0 §7.4.7.2.1 step 2e
      //# No instance outlives the container's maxInstanceAge.
      if (const json::Value* mia = parent.attrs.find("mia")) {
        const Seconds limit = c.now + std::chrono::seconds(*mia->integer());
        const json::Value* et = attrs.find("et");
        if (et == nullptr || *parse_m2m_timestamp(*et->string()) > limit) attrs.set("et", timestamp(limit));
      }
    }
    M2MSEC_TRY(finish(info.type, attrs, c));
    r->attrs = std::move(attrs);
    r->seq = next_seq++;
    if (auto compiled = compile(*r); !compiled) return Error::usage(compiled.error().detail());
    M2MSEC_TRY(persist(*r));

    std::vector<Outbound> notes;
    events(parent, kEventChildCreated, *r, c.now, notes);
    std::optional<json::Value> pc;
    if (wanted) pc = r->representation();
    index(std::move(r));
    if (info.type == ty::kContentInstance) M2MSEC_TRY(trim(parent, c.now));
    delivery.post(std::move(notes));
    return Step{reply(c.req, Rsc::kCreated, std::move(pc))};
  }

  //= TS-0004 V3.32.0 §7.4.7.2.1 step 2
  //# Past maxNrOfInstances or maxByteSize the oldest instances go, without notifications.
  Result<void> trim(Resource& container, Seconds now) {
    M2MSEC_TRY(account(container, now));
    const auto over = [&] {
      const json::Value* mni = container.attrs.find("mni");
      const json::Value* mbs = container.attrs.find("mbs");
      return (mni != nullptr && *container.attrs.find("cni")->integer() > *mni->integer()) ||
             (mbs != nullptr && *container.attrs.find("cbs")->integer() > *mbs->integer());
    };
    while (over()) {
      Resource* oldest = instance(container, false, now);
      if (oldest == nullptr) break;
      M2MSEC_TRY(remove(oldest, now, nullptr));
    }
    return {};
  }

  // Subscription verification targets (TS-0004 7.4.8.2.1 Recv-6.4): every notificationURI that is not the
  // originator.
  std::vector<Outbound> verification(const Ctx& c, const json::Object& content, std::string_view ri) const {
    std::vector<Outbound> out;
    for (const std::string& target : onem2m::strings_of(*content.find("nu"))) {
      if (same_id(target, c.originator)) continue;
      onem2m::Request notify;
      notify.op = Operation::kNotify;
      notify.to = target;
      notify.fr = options.cse_id;
      notify.rqi = random_hex(8);
      //= TS-0004 V3.32.0 §7.5.1.2.3
      //# m2m:notification {verificationRequest, subscriptionReference, creator}.
      notify.pc = json::Object{{"m2m:sgn", json::Object{{"vrq", true},
                                                         {"sur", concat({options.cse_id, "/", ri})},
                                                         {"cr", c.originator}}}};
      out.push_back({target, std::move(notify)});
    }
    return out;
  }

  Result<Step> create(Ctx& c) {
    Resource* parent = resolve(c.req.to, c.now);
    if (parent == nullptr) return not_found();
    const std::uint32_t type = *c.req.ty;
    const TypeInfo* info = type_info(type);
    if (info == nullptr) return Error::unsupported(concat({"resource type ", std::to_string(type), " is not served here"}));
    //= TS-0004 V3.32.0 §7.2.2.2 Recv-6.4
    //# A type the parent does not take: INVALID_CHILD_RESOURCE_TYPE.
    if (!contains(parent->info->children, type)) {
      return Error(Category::kUsage, Rsc::kInvalidChildResourceType, "the target does not take this resource type");
    }
    M2MSEC_ASSIGN_OR_RETURN(const bool wanted, representation_wanted(c.req));
    M2MSEC_ASSIGN_OR_RETURN(auto consult, authorize(c, AccessOperation::kCreate, *parent, type));
    if (consult) return Step{std::nullopt, std::move(consult), std::nullopt};
    M2MSEC_ASSIGN_OR_RETURN(json::Object content, check_content(*info, Operation::kCreate, c.req.pc));
    auto r = std::make_unique<Resource>();
    if (type == ty::kSubscription) {
      //= TS-0004 V3.32.0 §7.4.8.2.1 Recv-6.3
      //# The subscriber must be allowed to RETRIEVE the subscribed-to resource.
      if (!permitted(c, AccessOperation::kRetrieve, *parent, std::nullopt)) return no_privilege();
      if (!c.carry.verified_ri) {
        r->ri = concat({info->prefix, "-", random_hex(10)});
        json::Object probe = content;
        M2MSEC_TRY(finish(type, probe, c));
        std::vector<Outbound> requests = verification(c, content, r->ri);
        if (!requests.empty()) return Step{std::nullopt, std::nullopt, Verification{r->ri, std::move(requests)}};
      } else {
        r->ri = *c.carry.verified_ri;
      }
    }
    return insert(c, *parent, *info, std::move(content), std::move(r), wanted);
  }

  // The Discovery result (TS-0004 7.3.3.14, 7.3.3.17): descendants matching the filter for which the
  // originator has DISCOVERY privilege, as structured resource IDs.
  Result<Step> discover(Ctx& c, const Resource& target) {
    const onem2m::FilterCriteria& fc = *c.req.fc;
    if (c.req.rcn && *c.req.rcn != kRcnDiscoveryResultReferences) {
      return Error::usage("resultContent: discovery answers 11 (discovery result references)");
    }
    json::Array found;
    std::deque<std::pair<const Resource*, std::uint32_t>> queue;
    for (const Resource* child : target.children) queue.emplace_back(child, 1);
    while (!queue.empty() && !(fc.lim && found.size() >= *fc.lim)) {
      const auto [r, level] = queue.front();
      queue.pop_front();
      if (!visible(*r, c.now)) continue;
      const bool type_ok = fc.ty.empty() || std::find(fc.ty.begin(), fc.ty.end(), r->type()) != fc.ty.end();
      bool label_ok = fc.lbl.empty();
      if (!label_ok) {
        const std::vector<std::string> labels = r->list("lbl");
        label_ok = std::any_of(labels.begin(), labels.end(), [&](const std::string& label) {
          return std::find(fc.lbl.begin(), fc.lbl.end(), label) != fc.lbl.end();
        });
      }
      //= TS-0003 V3.18.0 §7.1.3; TS-0001 V3 §10.2.6
      //# Discovery lists only the resources the originator has DISCOVERY privilege on.
      if (type_ok && label_ok && permitted(c, AccessOperation::kDiscovery, *r, std::nullopt)) found.emplace_back(r->path);
      if (!fc.lvl || level < *fc.lvl) {
        for (const Resource* child : r->children) queue.emplace_back(child, level + 1);
      }
    }
    return Step{reply(c.req, Rsc::kOk, json::Object{{"m2m:uril", json::Value(std::move(found))}})};
  }

  Result<Step> retrieve(Ctx& c) {
    const Resource* target = resolve(c.req.to, c.now);
    if (target == nullptr) return not_found();
    if (c.req.fc && c.req.fc->fu == 1) return discover(c, *target);
    if (c.req.fc && (!c.req.fc->ty.empty() || !c.req.fc->lbl.empty() || c.req.fc->lim || c.req.fc->lvl)) {
      return Error::usage("conditional retrieval is not supported");
    }
    M2MSEC_ASSIGN_OR_RETURN(const bool wanted, representation_wanted(c.req));
    M2MSEC_ASSIGN_OR_RETURN(auto consult, authorize(c, AccessOperation::kRetrieve, *target));
    if (consult) return Step{std::nullopt, std::move(consult), std::nullopt};
    return Step{reply(c.req, Rsc::kOk, wanted ? std::optional<json::Value>(target->representation()) : std::nullopt)};
  }

  Result<Step> update(Ctx& c) {
    Resource* target = resolve(c.req.to, c.now);
    if (target == nullptr) return not_found();
    //= TS-0004 V3.32.0 §7.4.7.2.3
    //# A <contentInstance> is never updated: OPERATION_NOT_ALLOWED.
    if (target->type() == ty::kContentInstance) {
      return Error(Category::kPolicy, Rsc::kOperationNotAllowed, "a contentInstance cannot be updated");
    }
    M2MSEC_ASSIGN_OR_RETURN(const bool wanted, representation_wanted(c.req));
    const TypeInfo& info = *target->info;
    const json::Object* outer = c.req.pc ? c.req.pc->object() : nullptr;
    const json::Value* inner = outer != nullptr ? outer->find(info.root) : nullptr;
    const bool acpi_update = inner != nullptr && inner->object() != nullptr && inner->object()->contains("acpi");
    if (acpi_update) {
      //= TS-0001 V3 §9.6.1.3.2
      //# accessControlPolicyIDs is updated alone (BAD_REQUEST otherwise, as ACME answers), with UPDATE in the
      //# selfPrivileges of the policies it names now (the creator's when it names none).
      if (inner->object()->size() != 1) return Error::usage("'acpi' must be the only attribute of its UPDATE");
      if (!permitted(c, AccessOperation::kUpdate, *target, std::nullopt, true)) return no_privilege();
    } else {
      M2MSEC_ASSIGN_OR_RETURN(auto consult, authorize(c, AccessOperation::kUpdate, *target));
      if (consult) return Step{std::nullopt, std::move(consult), std::nullopt};
    }
    M2MSEC_ASSIGN_OR_RETURN(json::Object content, check_content(info, Operation::kUpdate, c.req.pc));
    json::Object merged = target->attrs;
    for (const auto& [name, value] : content) {
      if (value.is_null()) {
        merged.erase(name);
      } else {
        merged.set(name, value);
      }
    }
    merged.set("lt", timestamp(c.now));
    M2MSEC_TRY(finish(target->type(), merged, c));

    Resource updated;
    updated.ri = target->ri;
    updated.pi = target->pi;
    updated.info = target->info;
    updated.seq = target->seq;
    updated.attrs = std::move(merged);
    updated.credential = target->credential;
    if (auto compiled = compile(updated); !compiled) return Error::usage(compiled.error().detail());
    M2MSEC_TRY(persist(updated));
    forget_expiry(*target);
    ++tree_generation;
    target->attrs = std::move(updated.attrs);
    target->expires = updated.expires;
    target->policy = std::move(updated.policy);
    if (target->expires) expiries.emplace(*target->expires, target->ri);

    std::vector<Outbound> notes;
    events(*target, kEventUpdate, *target, c.now, notes);
    delivery.post(std::move(notes));
    return Step{reply(c.req, Rsc::kUpdated, wanted ? std::optional<json::Value>(target->representation()) : std::nullopt)};
  }

  Result<Step> erase(Ctx& c) {
    Resource* target = resolve(c.req.to, c.now);
    if (target == nullptr) return not_found();
    if (target == base) return Error(Category::kPolicy, Rsc::kOperationNotAllowed, "the CSEBase cannot be deleted");
    M2MSEC_ASSIGN_OR_RETURN(const bool wanted, representation_wanted(c.req));
    M2MSEC_ASSIGN_OR_RETURN(auto consult, authorize(c, AccessOperation::kDelete, *target));
    if (consult) return Step{std::nullopt, std::move(consult), std::nullopt};
    std::optional<json::Value> pc;
    if (wanted) pc = target->representation();
    std::vector<Outbound> notes;
    M2MSEC_TRY(remove(target, c.now, &notes));
    delivery.post(std::move(notes));
    return Step{reply(c.req, Rsc::kDeleted, std::move(pc))};
  }

  Result<Step> run(const onem2m::Request& req, const Origin& origin, const Carry& carry) {
    Ctx c{req, origin, carry, now()};
    if (writes(req.op)) purge(c.now);
    const bool supported = std::find(options.supported_releases.begin(), options.supported_releases.end(),
                                     req.rvi) != options.supported_releases.end();
    if (req.op == Operation::kCreate && req.ty == ty::kAe) {
      if (!supported) return Error::usage("releaseVersionIndicator not supported");
      return register_ae(c);
    }
    M2MSEC_TRY(bind(c));
    if (!supported) return Error::usage("releaseVersionIndicator not supported");
    switch (req.op) {
      case Operation::kCreate: return create(c);
      case Operation::kRetrieve: return retrieve(c);
      case Operation::kUpdate: return update(c);
      case Operation::kDelete: return erase(c);
      case Operation::kNotify: break;
    }
    return Error(Category::kPolicy, Rsc::kOperationNotAllowed, "this CSE takes no NOTIFY");
  }

  // ---------------------------------------------------------------- outbound exchanges (no lock held)

  //= TS-0004 V3.32.0 §7.5.1.2.10, §6.3.5.47
  //# The first DAS Server that answers m2m:dynAuthDasResponse (sit 2) decides: its grantedPrivileges become an
  //# <accessControlPolicy> child of the resource (expirationTime from privilegesLifetime, selfPrivileges for
  //# this CSE) linked in its accessControlPolicyIDs, and its tokens are validated with the request's.
  void consult(const Consultation& call, Carry& carry) {
    for (const std::string& poa : call.poas) {
      onem2m::Request notify = call.notify;
      notify.to = poa;
      auto response = options.notifier(poa, notify);
      if (!response || response->rsc != Rsc::kOk || !response->pc) continue;
      const json::Value* info = response->pc->find("m2m:seci");
      const json::Value* sit = info != nullptr ? info->find("sit") : nullptr;
      const json::Value* dres = info != nullptr ? info->find("dres") : nullptr;
      if (sit == nullptr || sit->integer() != kSitDasResponse || dres == nullptr || dres->object() == nullptr) continue;
      if (const json::Value* tkns = dres->find("tkns")) {
        for (std::string& token : onem2m::strings_of(*tkns)) carry.dac_tokens.push_back(std::move(token));
      }
      const json::Value* dai = dres->find("dai");
      const json::Value* gp = dai != nullptr ? dai->find("gp") : nullptr;
      if (gp != nullptr && check_rules(*gp, "gp", false)) {
        std::unique_lock lock(mutex);
        grant(call.holder, *gp, dai->find("pl"));
      }
      return;
    }
  }

  void grant(const std::string& holder_ri, const json::Value& privileges, const json::Value* lifetime) {
    const Seconds t = now();
    const auto it = resources.find(holder_ri);
    if (it == resources.end() || !visible(*it->second, t)) return;
    Resource& holder = *it->second;
    auto r = std::make_unique<Resource>();
    r->ri = concat({"acp-", random_hex(10)});
    r->rn = r->ri;
    r->pi = holder.ri;
    r->info = type_info(ty::kAccessControlPolicy);
    r->seq = next_seq++;
    const std::string created = timestamp(t);
    // selfPrivileges: this CSE may RETRIEVE, UPDATE and DELETE it (4 + 2 + 8).
    const json::Value self = json::Object{
        {"acr", json::Array{json::Object{{"acor", json::Array{options.cse_id}}, {"acop", 14}}}}};
    r->attrs = json::Object{{"ri", r->ri},  {"rn", r->rn},   {"pi", r->pi},
                            {"ty", static_cast<std::int64_t>(ty::kAccessControlPolicy)},
                            {"ct", created}, {"lt", created}, {"pv", privileges}, {"pvs", self}};
    if (lifetime != nullptr) {
      if (lifetime->string() != nullptr && parse_m2m_timestamp(*lifetime->string())) {
        r->attrs.set("et", *lifetime);
      } else if (lifetime->integer() && *lifetime->integer() >= 0) {
        r->attrs.set("et", timestamp(t + std::chrono::seconds(*lifetime->integer() / 1000)));
      }
    }
    if (!compile(*r) || !persist(*r)) return;
    std::vector<std::string> ids = holder.list("acpi");
    ids.push_back(r->ri);
    holder.attrs.set("acpi", onem2m::string_list(ids));
    index(std::move(r));
    (void)persist(holder);
  }

  //= TS-0004 V3.32.0 §7.4.8.2.1 Recv-6.4, §7.5.1.2.3
  //# Every verification request must be answered OK; otherwise the CREATE is refused
  //# (SUBSCRIPTION_VERIFICATION_INITIATION_FAILED).
  Result<void> verify(const Verification& v) const {
    for (const Outbound& out : v.requests) {
      auto response = options.notifier(out.target, out.request);
      if (!response || response->rsc != Rsc::kOk) {
        return Error(Category::kPolicy, Rsc::kSubscriptionVerificationInitiationFailed,
                     "a notification target did not accept the subscription");
      }
    }
    return {};
  }

  onem2m::Response handle(const onem2m::Request& request, const Origin& origin) {
    //= TS-0003 V3.18.0 §7.2.1
    //# Requests are answered only inside a security association.
    if (!origin.peer || (origin.peer->identifier.empty() && origin.peer->identity.empty())) {
      return onem2m::error_response(
          request, Error(Category::kAuth, Rsc::kSecurityAssociationRequired, "no security association"));
    }
    Carry carry;
    // At most: a consultation, a verification, then the request itself.
    for (int round = 0; round < 3; ++round) {
      Result<Step> step = [&] {
        if (writes(request.op)) {
          std::unique_lock lock(mutex);
          return run(request, origin, carry);
        }
        std::shared_lock lock(mutex);
        return run(request, origin, carry);
      }();
      if (!step) return onem2m::error_response(request, step.error());
      if (step->response) return std::move(*step->response);
      if (step->consult) {
        carry.dac_done = true;
        consult(*step->consult, carry);
      } else if (step->verify) {
        if (auto verified = verify(*step->verify); !verified) return onem2m::error_response(request, verified.error());
        carry.verified_ri = step->verify->ri;
      }
    }
    return onem2m::error_response(request, Error::internal("the request did not settle"));
  }
};

Service::Service(std::unique_ptr<State> state) : m_state(std::move(state)) {}
Service::~Service() = default;

Result<std::unique_ptr<Service>> Service::open(ServiceOptions options) {
  if (options.cse_id.size() < 2 || options.cse_id.front() != '/' || options.resource_name.empty() ||
      options.resource_name.find('/') != std::string::npos) {
    return Error::usage("the CSE needs a CSE-ID \"/...\" and a resource name without '/'");
  }
  auto state = std::make_unique<State>(std::move(options));
  M2MSEC_TRY(state->load());
  return std::unique_ptr<Service>(new Service(std::move(state)));
}

onem2m::Response Service::handle(const onem2m::Request& request, const Origin& origin) {
  return m_state->handle(request, origin);
}

const ServiceOptions& Service::options() const { return m_state->options; }

}  // namespace m2msec::cse

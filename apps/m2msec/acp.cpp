// `m2msec acp eval`: one access decision (TS-0003 V3.18.0 7.1.4-7.1.5) over the privileges (pv) of one
// <accessControlPolicy>.
//
// --policy is the resource in oneM2M JSON ({"m2m:acp":{...}}); its id is its "rn", else its "ri", else "acp".
// --request is a JSON object describing the request:
//   fr     originator (any ID form; normalised with --sp-id and --cse-id)      required
//   op     m2m:operation 1-5                                                   required
//   fu     filterUsage: 1 = discovery (a Retrieve only), 2 = conditional retrieval
//   ty     the type of the resource to create (Create only, and required there)
//   ip     rq_ip, an IPv4 or IPv6 address
//   time   rq_time, m2m:timestamp "YYYYMMDDTHHMMSS" in UTC (default: now)
//   cc     rq_loc as an ISO 3166-1 alpha-2 country code; lat, lon: rq_loc as a point (degrees, both or neither)
//   authn  rq_authn, true/false (default false)
//   rids   the originator's Role-IDs (list)
// The first line printed is "grant" or "deny"; the second "rule <policy>/pv/<index>" for a grant, or "no rule
// grants: <why, per rule>" for a deny. A deny exits 1 (after printing), so a caller that only looks at the
// exit status never takes it for a grant; bad input exits 2 with one line on stderr and prints nothing.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "files.h"
#include "m2msec/authz/acp.h"
#include "m2msec/authz/token.h"
#include "m2msec/core/text.h"
#include "m2msec/core/timestamp.h"
#include "m2msec/json/json.h"

namespace m2msec::cli {
namespace {

Error bad_request(std::string_view why) { return Error::usage(concat({"--request: ", why})); }

Result<double> degrees(const json::Value& v, std::string_view name, double limit) {
  const std::string* text = v.number_text();
  double value = 0;
  if (text != nullptr) {
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec == std::errc{} && end == text->data() + text->size() && std::fabs(value) <= limit) return value;
  }
  return bad_request(concat({"\"", name, "\" must be a number from -", std::to_string(static_cast<int>(limit)), " to ",
                             std::to_string(static_cast<int>(limit))}));
}

Result<authz::AccessRequest> read_request(const json::Value& value) {
  const json::Object* o = value.object();
  if (o == nullptr) return bad_request("not a JSON object");
  for (const auto& [name, member] : *o) {
    static constexpr std::string_view kKnown[] = {"fr", "op", "fu", "ty", "ip", "time", "cc", "lat", "lon", "authn", "rids"};
    if (std::find(std::begin(kKnown), std::end(kKnown), name) == std::end(kKnown)) {
      return bad_request(concat({"unknown member \"", name, "\""}));
    }
  }
  authz::AccessRequest r;
  const json::Value* fr = o->find("fr");
  if (fr == nullptr || fr->string() == nullptr || fr->string()->empty()) return bad_request("\"fr\" (a non-empty originator) is required");
  r.originator = *fr->string();

  const json::Value* op = o->find("op");
  const auto operation = op == nullptr ? std::nullopt : op->integer();
  if (!operation || *operation < 1 || *operation > 5) return bad_request("\"op\" must be an operation 1-5");
  bool discovery = false;
  if (const json::Value* fu = o->find("fu")) {
    const auto usage = fu->integer();
    if (!usage || (*usage != 1 && *usage != 2)) return bad_request("\"fu\" must be 1 (discovery) or 2 (conditional retrieval)");
    discovery = *usage == 1;
  }
  const auto bit = authz::access_operation(*operation, discovery);
  if (!bit) return bad_request("discovery (\"fu\":1) is a Retrieve (\"op\":2)");
  r.operation = *bit;

  if (const json::Value* ty = o->find("ty")) {
    const auto type = ty->integer();
    if (r.operation != authz::AccessOperation::kCreate) return bad_request("\"ty\" belongs to a Create (\"op\":1) only");
    if (!type || *type < 0 || *type > 0xffffffff) return bad_request("\"ty\" must be a resource type");
    r.created_type = static_cast<std::uint32_t>(*type);
  } else if (r.operation == authz::AccessOperation::kCreate) {
    return bad_request("a Create (\"op\":1) needs the type to create (\"ty\")");
  }

  if (const json::Value* ip = o->find("ip")) {
    if (ip->string() == nullptr) return bad_request("\"ip\" must be an IPv4 or IPv6 address");
    auto address = authz::IpAddress::parse(*ip->string());
    if (!address) return bad_request(address.error().detail());
    r.ip = *address;
  }

  if (const json::Value* time = o->find("time")) {
    auto when = time->string() == nullptr ? Result<std::chrono::sys_seconds>(Error::usage("not a string"))
                                          : parse_m2m_timestamp(*time->string());
    if (!when) return bad_request("\"time\" must be an m2m:timestamp YYYYMMDDTHHMMSS (UTC)");
    r.time = *when;
  } else {
    r.time = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  }

  authz::Location location;
  if (const json::Value* cc = o->find("cc")) {
    if (cc->string() == nullptr || !authz::is_country_code(*cc->string())) {
      return bad_request("\"cc\" must be an ISO 3166-1 alpha-2 country code (upper case)");
    }
    location.country = *cc->string();
  }
  const json::Value* lat = o->find("lat");
  const json::Value* lon = o->find("lon");
  if ((lat == nullptr) != (lon == nullptr)) return bad_request("\"lat\" and \"lon\" go together");
  if (lat != nullptr) {
    M2MSEC_ASSIGN_OR_RETURN(const double latitude, degrees(*lat, "lat", 90));
    M2MSEC_ASSIGN_OR_RETURN(const double longitude, degrees(*lon, "lon", 180));
    location.point = std::pair{latitude, longitude};
  }
  if (location.country || location.point) r.location = std::move(location);

  if (const json::Value* authn = o->find("authn")) {
    if (!authn->boolean()) return bad_request("\"authn\" must be true or false");
    r.authenticated = *authn->boolean();
  }

  if (const json::Value* rids = o->find("rids")) {
    if (rids->array() == nullptr) return bad_request("\"rids\" must be a list of Role-IDs");
    for (const json::Value& rid : *rids->array()) {
      if (rid.string() == nullptr || !authz::is_role_or_token_id(*rid.string())) {
        return bad_request("\"rids\" must be a list of Role-IDs");
      }
      r.role_ids.push_back(*rid.string());
    }
  }
  return r;
}

// The policy's id: its resource name, else its resource ID, else "acp".
std::string policy_id(const json::Value& value) {
  const json::Value* body = value.find("m2m:acp");
  if (body == nullptr) body = &value;
  for (const char* name : {"rn", "ri"}) {
    if (const json::Value* id = body->find(name); id != nullptr && id->string() != nullptr && !id->string()->empty()) {
      return *id->string();
    }
  }
  return "acp";
}

Result<json::Value> read_json(std::string_view option, std::string_view path) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string text, read_file(path));
  auto value = json::parse(text);
  if (!value) return Error::usage(concat({"--", option, " ", path, ": ", value.error().detail()}));
  return std::move(value).value();
}

Result<void> eval(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"policy", "request", "sp-id", "cse-id"}));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view policy_path, opts.required("policy"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view request_path, opts.required("request"));
  authz::Scope scope{std::string(opts.get("sp-id").value_or("//m2msec.example")),
                     std::string(opts.get("cse-id").value_or("/id-in"))};
  // An M2M-SP-ID "//fqdn" and an SP-relative CSE-ID "/cse" (TS-0001 7.2), one segment each.
  if (scope.sp_id.size() < 3 || !scope.sp_id.starts_with("//") || scope.sp_id.find('/', 2) != std::string::npos) {
    return Error::usage("--sp-id must be an M2M-SP-ID like //m2msec.example");
  }
  if (scope.cse_id.size() < 2 || scope.cse_id[0] != '/' || scope.cse_id.find('/', 1) != std::string::npos) {
    return Error::usage("--cse-id must be an SP-relative CSE-ID like /id-in");
  }
  M2MSEC_ASSIGN_OR_RETURN(const json::Value policy_json, read_json("policy", policy_path));
  auto policy = authz::Policy::parse(policy_json, policy_id(policy_json), 1);
  if (!policy) return Error::usage(concat({"--policy ", policy_path, ": ", policy.error().detail()}));
  M2MSEC_ASSIGN_OR_RETURN(const json::Value request_json, read_json("request", request_path));
  M2MSEC_ASSIGN_OR_RETURN(const authz::AccessRequest request, read_request(request_json));

  const std::shared_ptr<const authz::Policy> policies[] = {*policy};
  const authz::Decision decision = authz::decide(policies, authz::RuleSetKind::kPrivileges, request, scope);
  if (decision.granted) {
    std::cout << "grant\nrule " << decision.rule << '\n';
    return {};
  }
  std::cout << "deny\nno rule grants: " << decision.reason << '\n' << std::flush;
  return Error(Category::kPolicy, Rsc::kOriginatorHasNoPrivilege, "access denied");
}

}  // namespace

Result<void> run_acp(const std::vector<std::string_view>& args) { return dispatch("acp", args, {{"eval", eval}}); }

}  // namespace m2msec::cli

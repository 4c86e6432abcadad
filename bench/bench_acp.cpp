// Access decisions per second (TS-0003 V3.18.0 7.1.5) on one 10-rule <accessControlPolicy> whose rules carry
// time windows, IPv4/IPv6 prefixes, country codes, acaf and acod, compiled once and held in memory:
//
//   acp/contexts/ours      a request granted by the last rule; the nine before it name the originator and fail
//                          on a context, so every decision evaluates contexts (never memoised);
//   acp/memo/ours          a context-free request granted by rule 8 (acaf, acod, no contexts): from the memo;
//   acp/contexts/naive     the first request again, the way a CSE that reads the policy from storage per request
//                          pays for it: parse the JSON, compile the policy, decide.
//
// Before measuring, each benchmark checks that its decision is the expected one (and that the naive path agrees
// with ours). After the run the console output ends with the ratios naive / ours and contexts / memo.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "m2msec/authz/acp.h"

namespace {

using namespace m2msec;
using namespace std::chrono;

constexpr const char* kPolicy = R"({"m2m:acp":{"rn":"acp1","pv":{"acr":[
  {"acor":["Csensor*","1234abcd@role-issuer.com"],"acop":63,"acco":[{"actw":["* * 0-5 * * * *"]}]},
  {"acor":["Csensor*"],"acop":63,"acco":[{"acip":{"ipv4":["10.0.0.0/8","172.16.0.0/12"]}}]},
  {"acor":["Csensor*"],"acop":63,"acco":[{"aclr":{"accc":["KR","JP","US"]}}]},
  {"acor":["Csensor*"],"acop":63,"acco":[{"actw":["* * 8-17 * * 1-5 *"],"acip":{"ipv6":["2001:db8::/32"]}}]},
  {"acor":["Csensor*"],"acop":63,"acco":[{"actw":["* * * * * 0,6 *"]},{"aclr":{"accc":["DE"]}}]},
  {"acor":["Csensor*"],"acop":63,"acco":[{"actw":["* * 8-17 * * * *"],"acip":{"ipv4":["192.168.0.0/16"]},"aclr":{"accc":["DE","IT"]}}]},
  {"acor":["Csensor*"],"acop":63,"acaf":true,"acco":[{"actw":["* * * * 1-6 * *"]}]},
  {"acor":["Csensor*"],"acop":34,"acco":[{"acip":{"ipv4":["192.168.0.0/24"],"ipv6":["2001:db8:1::/48"]}}]},
  {"acor":["Cgateway"],"acop":3,"acaf":true,"acod":[{"ty":2,"chty":[3,4]}]},
  {"acor":["//sp2.example/cse9/*","Csensor*"],"acop":2,"acaf":true,
   "acco":[{"actw":["* * 8-17 * * 1-5 2026-2030"],"acip":{"ipv4":["192.168.0.0/16"],"ipv6":["2001:db8::/32"]},
            "aclr":{"accc":["FR","KR"]}}],
   "acod":[{"chty":[4]}]}]},
  "pvs":{"acr":[{"acor":["CAdmin"],"acop":63}]}}})";

const authz::Scope kScope{"//m2msec.example", "/id-in"};

authz::AccessRequest context_request() {
  authz::AccessRequest r;
  r.originator = "Csensor7";
  r.operation = authz::AccessOperation::kRetrieve;
  r.target_type = 3;
  r.ip = authz::IpAddress::parse("192.168.10.20").value();
  r.time = sys_days(year(2026) / 12 / 4) + hours(9) + minutes(30);  // a Friday
  r.location = authz::Location{"FR", std::nullopt};
  r.authenticated = true;
  return r;
}

authz::AccessRequest memo_request() {
  authz::AccessRequest r;
  r.originator = "/id-in/Cgateway";
  r.operation = authz::AccessOperation::kRetrieve;
  r.target_type = 2;
  r.authenticated = true;
  return r;
}

std::shared_ptr<const authz::Policy> compile(std::string_view text) {
  auto value = json::parse(text);
  if (!value) return nullptr;
  auto policy = authz::Policy::parse(*value, "acp1", 1);
  return policy ? std::move(policy).value() : nullptr;
}

authz::Decision decide_with(const std::shared_ptr<const authz::Policy>& policy, const authz::AccessRequest& r) {
  return authz::decide(std::span(&policy, 1), authz::RuleSetKind::kPrivileges, r, kScope);
}

// Ours: the policy compiled once, in memory.
void ours(benchmark::State& state, bool memo) {
  const auto policy = compile(kPolicy);
  const authz::AccessRequest r = memo ? memo_request() : context_request();
  const char* want = memo ? "acp1/pv/8" : "acp1/pv/9";
  if (!policy || !policy->rules(authz::RuleSetKind::kPrivileges).problems().empty()) {
    state.SkipWithError("the policy does not compile cleanly");
    return;
  }
  const authz::Decision first = decide_with(policy, r);
  if (!first.granted || first.rule != want || policy->memoised() != (memo ? 1u : 0u)) {
    state.SkipWithError(("unexpected decision: " + first.rule + " " + first.reason).c_str());
    return;
  }
  for (auto _ : state) {
    authz::Decision d = decide_with(policy, r);
    benchmark::DoNotOptimize(d.granted);
  }
  state.SetItemsProcessed(state.iterations());
}

// The naive baseline: parse and compile per request.
void naive(benchmark::State& state) {
  const authz::AccessRequest r = context_request();
  const auto policy = compile(kPolicy);
  const authz::Decision reference = policy ? decide_with(policy, r) : authz::Decision{};
  if (!reference.granted || reference.rule != "acp1/pv/9") {
    state.SkipWithError("the naive path does not reach the expected decision");
    return;
  }
  for (auto _ : state) {
    const auto fresh = compile(kPolicy);
    if (!fresh) {
      state.SkipWithError("parse failed while measuring");
      break;
    }
    authz::Decision d = decide_with(fresh, r);
    benchmark::DoNotOptimize(d.granted);
  }
  state.SetItemsProcessed(state.iterations());
}

// The console output, plus the time per decision of each benchmark for the ratios.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type == Run::RT_Iteration && !run.error_occurred) times[run.benchmark_name()] = run.GetAdjustedRealTime();
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> times;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("acp/contexts/ours", ours, false);
  benchmark::RegisterBenchmark("acp/memo/ours", ours, true);
  benchmark::RegisterBenchmark("acp/contexts/naive", naive);
  // With another output format (JSON for scripts/bench) the ratios are left to the caller.
  bool console = true;
  for (int i = 1; i < argc; ++i) console = console && std::strncmp(argv[i], "--benchmark_format", 18) != 0;
  benchmark::Initialize(&argc, argv);
  if (!console) {
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
  }
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  const auto& t = reporter.times;
  const auto ratio = [&t](const char* a, const char* b, const char* what) {
    if (t.count(a) && t.count(b) && t.at(b) > 0) std::printf("ratio %-40s %8.1f\n", what, t.at(a) / t.at(b));
  };
  ratio("acp/contexts/naive", "acp/contexts/ours", "naive per-request parse / ours (contexts)");
  ratio("acp/contexts/naive", "acp/memo/ours", "naive per-request parse / ours (memo)");
  ratio("acp/contexts/ours", "acp/memo/ours", "ours contexts / ours memo");
  return 0;
}

// Access control policies (TS-0003 V3.18.0 7.1.3-7.1.5): each accessControlRule member and context, with the
// traps (a '*' never crosses '/', originator text that looks like a regular expression, unknown members,
// prefix boundaries, regions, each schedule field), group membership changes, the memo, and the ISO 3166-1
// table against ICU's list. Expected values come from the spec's examples (Table 7.1.3-2, the schedule
// "* 0-5 2,6,10 * * * *"), calendar facts (2026-12-04 is a Friday), Python's math module (one haversine
// distance, noted where used) or are obvious by construction.
#include <gtest/gtest.h>
#include <unicode/uloc.h>

#include <atomic>
#include <cmath>
#include <map>
#include <set>
#include <thread>

#include "m2msec/authz/acp.h"
#include "m2msec/core/text.h"

namespace m2msec::authz {
namespace {

using namespace std::chrono;

const Scope kScope{"//m2msec.example", "/id-in"};

std::shared_ptr<const Policy> policy(std::string_view text, std::string id = "acp1", std::uint64_t version = 1) {
  auto value = json::parse(text);
  EXPECT_TRUE(value) << value.error().to_string();
  auto parsed = Policy::parse(*value, std::move(id), version);
  EXPECT_TRUE(parsed) << parsed.error().to_string();
  return std::move(parsed).value();
}

// A policy whose pv is the one rule given.
std::shared_ptr<const Policy> rule(std::string_view acr) {
  return policy(std::string(R"({"pv":{"acr":[)") + std::string(acr) + "]}}");
}

AccessRequest request(std::string originator, AccessOperation op = AccessOperation::kRetrieve) {
  AccessRequest r;
  r.originator = std::move(originator);
  r.operation = op;
  return r;
}

Decision decide_one(const std::shared_ptr<const Policy>& p, const AccessRequest& r,
                    const GroupResolver* groups = nullptr, RuleSetKind kind = RuleSetKind::kPrivileges) {
  return decide(std::span(&p, 1), kind, r, kScope, groups);
}

bool grants(const std::shared_ptr<const Policy>& p, const AccessRequest& r, const GroupResolver* groups = nullptr) {
  return decide_one(p, r, groups).granted;
}

// UTC civil time, through the standard library's calendar (not our code).
sys_seconds at(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return sys_days(year(y) / month(mo) / day(d)) + hours(h) + minutes(mi) + seconds(s);
}

AccessRequest timed(sys_seconds when) {
  AccessRequest r = request("Cae");
  r.time = when;
  return r;
}

std::shared_ptr<const Policy> window(std::string_view schedule) {
  return rule(std::string(R"({"acor":["all"],"acop":63,"acco":[{"actw":[")") + std::string(schedule) + "\"]}]}");
}

IpAddress ip(std::string_view text) { return IpAddress::parse(text).value(); }

AccessRequest from_ip(std::string_view text) {
  AccessRequest r = request("Cae");
  r.ip = ip(text);
  return r;
}

// ---- operations ------------------------------------------------------------------------------------------

TEST(AcpOperations, OperationAndFilterUsageToBit) {
  EXPECT_EQ(access_operation(1, false), AccessOperation::kCreate);
  EXPECT_EQ(access_operation(2, false), AccessOperation::kRetrieve);
  EXPECT_EQ(access_operation(3, false), AccessOperation::kUpdate);
  EXPECT_EQ(access_operation(4, false), AccessOperation::kDelete);
  EXPECT_EQ(access_operation(5, false), AccessOperation::kNotify);
  EXPECT_EQ(access_operation(2, true), AccessOperation::kDiscovery);
  EXPECT_EQ(access_operation(0, false), std::nullopt);
  EXPECT_EQ(access_operation(6, false), std::nullopt);
  EXPECT_EQ(access_operation(1, true), std::nullopt);  // discovery is a Retrieve
}

TEST(AcpOperations, BitMaskSelectsOperations) {
  // TS-0004 Table 6.3.4.2.29-1: 34 = RETRIEVE (2) + DISCOVERY (32).
  const auto p = rule(R"({"acor":["all"],"acop":34})");
  EXPECT_TRUE(grants(p, request("Cae", AccessOperation::kRetrieve)));
  EXPECT_TRUE(grants(p, request("Cae", AccessOperation::kDiscovery)));
  for (auto op : {AccessOperation::kCreate, AccessOperation::kUpdate, AccessOperation::kDelete, AccessOperation::kNotify}) {
    EXPECT_FALSE(grants(p, request("Cae", op)));
  }
  EXPECT_EQ(decide_one(p, request("Cae", AccessOperation::kUpdate)).reason, "acp1/pv/0: operation not permitted");
  EXPECT_FALSE(grants(rule(R"({"acor":["all"],"acop":0})"), request("Cae")));
  for (const char* bad : {R"({"acor":["all"],"acop":64})", R"({"acor":["all"],"acop":-1})", R"({"acor":["all"],"acop":"2"})",
                          R"({"acor":["all"]})", R"({"acop":63})"}) {
    const auto p2 = rule(bad);
    EXPECT_FALSE(grants(p2, request("Cae"))) << bad;
    EXPECT_EQ(p2->rules(RuleSetKind::kPrivileges).problems().size(), 1u) << bad;
  }
}

// ---- originators -----------------------------------------------------------------------------------------

TEST(AcpOriginators, ScopeAbsoluteForms) {
  EXPECT_EQ(kScope.absolute("Cabc"), "//m2msec.example/id-in/Cabc");
  EXPECT_EQ(kScope.absolute("Sabc"), "//m2msec.example/Sabc");
  EXPECT_EQ(kScope.absolute("/cse/x"), "//m2msec.example/cse/x");
  EXPECT_EQ(kScope.absolute("//sp/cse/x"), "//sp/cse/x");
}

TEST(AcpOriginators, AllAndExactInEveryForm) {
  const auto all = rule(R"({"acor":["all"],"acop":2})");
  EXPECT_TRUE(grants(all, request("//anyone.example/x/Cy")));
  EXPECT_FALSE(grants(all, request("")));  // no originator: nothing matches

  // An AE-ID-Stem entry and the same AE written in each form.
  const auto stem = rule(R"({"acor":["Cabc"],"acop":2})");
  for (const char* form : {"Cabc", "/id-in/Cabc", "//m2msec.example/id-in/Cabc"}) EXPECT_TRUE(grants(stem, request(form))) << form;
  for (const char* other : {"Cabcd", "/other-cse/Cabc", "//sp2.example/id-in/Cabc", "CABC"}) {
    EXPECT_FALSE(grants(stem, request(other))) << other;
  }
  EXPECT_EQ(decide_one(stem, request("Cxyz")).reason, "acp1/pv/0: originator not listed");
  // Entries in the absolute form match the stem of a local AE.
  EXPECT_TRUE(grants(rule(R"({"acor":["//m2msec.example/id-in/Cabc"],"acop":2})"), request("Cabc")));
  EXPECT_TRUE(grants(rule(R"({"acor":["/id-in/Cabc"],"acop":2})"), request("//m2msec.example/id-in/Cabc")));
  // An S-stem is SP-relative.
  const auto s = rule(R"({"acor":["Sabc"],"acop":2})");
  EXPECT_TRUE(grants(s, request("/Sabc")));
  EXPECT_FALSE(grants(s, request("/id-in/Sabc")));
}

struct Case {
  const char* entry;
  std::vector<const char*> match;
  std::vector<const char*> no_match;
};

TEST(AcpOriginators, WildcardExamplesOfTable7_1_3_2) {
  const std::vector<Case> cases{
      {"//m2msp.org/myCSEID", {"//m2msp.org/myCSEID"}, {"//m2msp.org/myCSEID2", "//m2msp.org/myCSEID/Cae", "/myCSEID"}},
      {"//*/myCSEID", {"//m2msp.org/myCSEID", "//sp.example/myCSEID"}, {"//m2msp.org/x/myCSEID", "//m2msp.org/myCSEIDx"}},
      {"//*/myCSE*",
       {"//m2msp.org/myCSE", "//m2msp.org/myCSE01", "//a.b/myCSEID"},
       {"//m2msp.org/myCSE01/C9886", "//m2msp.org/yourCSE", "//m2msp.org/x/myCSE1"}},
      {"/myCSEID", {"/myCSEID", "//m2msec.example/myCSEID"}, {"//m2msp.org/myCSEID", "/myCSEID/Cae"}},
      {"/myCSE*", {"/myCSE7", "//m2msec.example/myCSE"}, {"//m2msp.org/myCSE7", "/myCSE7/C1"}},
      {"//m2msp.org/S988", {"//m2msp.org/S988"}, {"//m2msp.org/S9880", "/S988"}},
      {"//*/myCSEID/C9886", {"//m2msp.org/myCSEID/C9886", "/myCSEID/C9886"}, {"//m2msp.org/myCSEID/C98860"}},
      {"//*/myCSE*/C9886", {"//m2msp.org/myCSE2/C9886"}, {"//m2msp.org/myCSE2/x/C9886", "//m2msp.org/myCSE2/C98"}},
      {"/myCSEID/C9886", {"/myCSEID/C9886"}, {"/myCSEID/C98861"}},
      {"/myCSEID/C98*", {"/myCSEID/C98", "/myCSEID/C9886"}, {"/myCSEID/C97", "/myCSEID/C98/x", "/myCSEID2/C9886"}},
      {"/myCSE*/C98*", {"/myCSE1/C981", "//m2msec.example/myCSE/C98"}, {"/myCSE1/x/C981", "//m2msp.org/myCSE1/C981"}},
      {"/SmyAE*", {"/SmyAE", "/SmyAE12", "SmyAE3"}, {"/id-in/SmyAE1", "/SmyAE1/x"}},
  };
  for (const Case& c : cases) {
    const auto p = rule(std::string(R"({"acor":[")") + c.entry + R"("],"acop":2})");
    for (const char* id : c.match) EXPECT_TRUE(grants(p, request(id))) << c.entry << " vs " << id;
    for (const char* id : c.no_match) EXPECT_FALSE(grants(p, request(id))) << c.entry << " vs " << id;
  }
}

TEST(AcpOriginators, StarNeverCrossesSlash) {
  const auto p = rule(R"({"acor":["/id-in/*"],"acop":2})");
  EXPECT_TRUE(grants(p, request("Cx")));
  EXPECT_TRUE(grants(p, request("/id-in/C")));
  EXPECT_FALSE(grants(p, request("/id-in/Cx/y")));
  const auto q = rule(R"({"acor":["//*"],"acop":2})");  // a domain with a wildcard: not applicable
  EXPECT_FALSE(grants(q, request("//m2msec.example/id-in/Cx")));
  EXPECT_EQ(q->rules(RuleSetKind::kPrivileges).problems().size(), 1u);
  const auto r = rule(R"({"acor":["//*/*/*"],"acop":2})");
  EXPECT_TRUE(grants(r, request("Cx")));
  EXPECT_FALSE(grants(r, request("/Sx")));
  EXPECT_FALSE(grants(r, request("//a/b/c/d")));
}

TEST(AcpOriginators, RegularExpressionTextIsLiteral) {
  for (const char* entry : {"C.*", "C[a-z]+", "C.", "C?", "C\\\\w+", "C(a|b)", "C^$"}) {
    const auto p = rule(std::string(R"({"acor":[")") + entry + R"("],"acop":2})");
    std::string literal = entry;
    if (literal == "C\\\\w+") literal = "C\\w+";  // the JSON escape
    EXPECT_TRUE(grants(p, request(literal))) << entry;
    for (const char* other : {"Cabc", "Ca", "C", "Cx", "Cab", "Cw"}) EXPECT_FALSE(grants(p, request(other))) << entry << " vs " << other;
  }
  // '*' is the only wildcard, and it still stands for itself's scope only: "C.*" is "C." then anything.
  const auto p = rule(R"({"acor":["C.*x"],"acop":2})");
  EXPECT_TRUE(grants(p, request("C.abcx")));
  EXPECT_FALSE(grants(p, request("CZabcx")));
}

TEST(AcpOriginators, SpDomain) {
  const auto p = rule(R"({"acor":["//sp.example"],"acop":2})");
  EXPECT_TRUE(grants(p, request("//sp.example/cse1")));
  EXPECT_TRUE(grants(p, request("//sp.example/cse1/Cae")));
  EXPECT_FALSE(grants(p, request("//sp.example")));
  EXPECT_FALSE(grants(p, request("//sp.example.evil/cse1")));
  EXPECT_FALSE(grants(p, request("//sp.exampl/cse1")));
  EXPECT_FALSE(grants(p, request("Cae")));
  // Our own domain covers every local form.
  EXPECT_TRUE(grants(rule(R"({"acor":["//m2msec.example"],"acop":2})"), request("Cae")));
}

TEST(AcpOriginators, RoleIds) {
  const auto p = rule(R"({"acor":["1234abcd@role-issuer.com"],"acop":2})");
  AccessRequest r = request("Cae");
  EXPECT_FALSE(grants(p, r));
  r.role_ids = {"other@role-issuer.com", "1234abcd@role-issuer.com"};
  EXPECT_TRUE(grants(p, r));
  // The originator's own ID is not a role.
  EXPECT_FALSE(grants(p, request("1234abcd@role-issuer.com")));
  // No wildcards for roles.
  const auto q = rule(R"({"acor":["*@role-issuer.com"],"acop":2})");
  AccessRequest s = request("Cae");
  s.role_ids = {"x@role-issuer.com"};
  EXPECT_FALSE(grants(q, s));
}

class Groups : public GroupResolver {
 public:
  GroupLookup lookup(std::string_view id) const override {
    lookups.push_back(std::string(id));
    const auto it = groups.find(std::string(id));
    return it == groups.end() ? GroupLookup{} : it->second;
  }
  std::map<std::string, GroupLookup> groups;
  mutable std::vector<std::string> lookups;
};

TEST(AcpOriginators, GroupMembershipIsReadAtEachDecision) {
  Groups groups;
  groups.groups["//m2msec.example/id-in/grp1"] = {true, true, {"Cae1", "//sp2.example/cse9/Cx"}};
  const auto p = rule(R"({"acor":["grp1"],"acop":2})");
  EXPECT_TRUE(grants(p, request("/id-in/Cae1"), &groups));
  EXPECT_TRUE(grants(p, request("//sp2.example/cse9/Cx"), &groups));
  EXPECT_FALSE(grants(p, request("Cae2"), &groups));
  EXPECT_EQ(groups.lookups.front(), "//m2msec.example/id-in/grp1");
  // The same policy object: a member removed loses access on the next decision.
  groups.groups["//m2msec.example/id-in/grp1"].members = {"//sp2.example/cse9/Cx"};
  EXPECT_FALSE(grants(p, request("Cae1"), &groups));
  groups.groups["//m2msec.example/id-in/grp1"].members.push_back("Cae2");
  EXPECT_TRUE(grants(p, request("Cae2"), &groups));
  EXPECT_EQ(p->memoised(), 0u);
  // Without a resolver a group entry is only an ID.
  EXPECT_FALSE(grants(p, request("Cae2")));
}

// A resolver that promises a generation: decisions that read a group are memoised under it, and a new
// generation (the group changed) is evaluated afresh.
class VersionedGroups final : public Groups {
 public:
  std::optional<std::uint64_t> generation() const override { return version; }
  std::optional<std::uint64_t> version = 1;
};

TEST(AcpOriginators, GroupDecisionsAreMemoisedOnlyUnderTheResolversGeneration) {
  VersionedGroups groups;
  groups.groups["//m2msec.example/id-in/grp1"] = {true, true, {"Cae1"}};
  const auto p = rule(R"({"acor":["grp1"],"acop":2})");
  EXPECT_TRUE(grants(p, request("Cae1"), &groups));
  EXPECT_EQ(p->memoised(), 1u);
  const std::size_t lookups = groups.lookups.size();
  EXPECT_TRUE(grants(p, request("Cae1"), &groups));
  EXPECT_EQ(groups.lookups.size(), lookups);  // answered from the memo
  // The member leaves and the generation moves: the next decision reads the group again.
  groups.groups["//m2msec.example/id-in/grp1"].members.clear();
  groups.version = 2;
  EXPECT_FALSE(grants(p, request("Cae1"), &groups));
  EXPECT_GT(groups.lookups.size(), lookups);
  // A resolver that cannot promise a generation gets nothing memoised.
  groups.version.reset();
  groups.groups["//m2msec.example/id-in/grp1"].members = {"Cae1"};
  const std::size_t before = p->memoised();
  EXPECT_TRUE(grants(p, request("Cae1"), &groups));
  EXPECT_EQ(p->memoised(), before);
}

TEST(AcpOriginators, UnavailableGroupOnlyFailsItsOwnEntry) {
  Groups groups;
  groups.groups["//m2msec.example/id-in/grp1"] = {true, false, {}};
  const auto p = rule(R"({"acor":["grp1"],"acop":2})");
  const Decision d = decide_one(p, request("Cae1"), &groups);
  EXPECT_FALSE(d.granted);
  EXPECT_EQ(d.reason, "acp1/pv/0: group '//m2msec.example/id-in/grp1' cannot be retrieved");
  // Another entry of the same rule that matches by itself still grants.
  EXPECT_TRUE(grants(rule(R"({"acor":["grp1","Cae1"],"acop":2})"), request("Cae1"), &groups));
  // Not a group: the entry is an ID.
  EXPECT_TRUE(grants(rule(R"({"acor":["Cae9"],"acop":2})"), request("Cae9"), &groups));
  // Wildcard entries are never looked up as groups.
  groups.lookups.clear();
  EXPECT_FALSE(grants(rule(R"({"acor":["grp*"],"acop":2})"), request("Cae1"), &groups));
  EXPECT_TRUE(groups.lookups.empty());
}

// ---- accessControlWindow -----------------------------------------------------------------------------------

TEST(AcpWindow, CalendarFacts) {
  // The facts the cases below rely on, checked with the standard library's calendar.
  EXPECT_EQ(weekday(sys_days(year(2026) / 12 / 4)), Friday);
  EXPECT_EQ(weekday(sys_days(year(2026) / 12 / 6)), Sunday);
}

TEST(AcpWindow, SpecExample) {
  // TS-0004: "* 0-5 2,6,10 * * * *" admits 2:00-2:05, 6:00-6:05 and 10:00-10:05 every day.
  const auto p = window("* 0-5 2,6,10 * * * *");
  for (auto t : {at(2026, 12, 4, 2, 0, 0), at(2026, 12, 4, 2, 5, 59), at(2026, 12, 4, 6, 3, 0), at(2026, 12, 4, 10, 5, 0),
                 at(2030, 1, 1, 6, 0, 0)}) {
    EXPECT_TRUE(grants(p, timed(t)));
  }
  for (auto t : {at(2026, 12, 4, 2, 6, 0), at(2026, 12, 4, 1, 59, 59), at(2026, 12, 4, 3, 0, 0), at(2026, 12, 4, 14, 0, 0),
                 at(2026, 12, 4, 22, 5, 0)}) {
    EXPECT_FALSE(grants(p, timed(t)));
  }
  EXPECT_EQ(decide_one(p, timed(at(2026, 12, 4, 3))).reason, "acp1/pv/0: outside time window");
  EXPECT_EQ(decide_one(p, request("Cae")).reason, "acp1/pv/0: the request carries no time");
}

TEST(AcpWindow, EachField) {
  const sys_seconds friday = at(2026, 12, 4, 10, 20, 30);
  struct W {
    const char* schedule;
    bool admits;
  };
  for (const W& w : std::vector<W>{{"30 * * * * * *", true},      {"31 * * * * * *", false},
                                   {"* 20 * * * * *", true},      {"* 21 * * * * *", false},
                                   {"* * 10 * * * *", true},      {"* * 11 * * * *", false},
                                   {"* * * 4 * * *", true},       {"* * * 5 * * *", false},
                                   {"* * * * 12 * *", true},      {"* * * * 11 * *", false},
                                   {"* * * * * 5 *", true},       {"* * * * * 0 *", false},
                                   {"* * * * * * 2026", true},    {"* * * * * * 2027", false},
                                   {"* * * * * * 2000-2026", true}, {"* * * * * * 2027-9999", false},
                                   {"30 20 10 4 12 5 2026", true}, {"* * * 4 * 1 *", false},  // day fields AND-ed
                                   {"* * * 1-3,4 * * *", true},   {"* * * 1-3,5 * * *", false}}) {
    EXPECT_EQ(grants(window(w.schedule), timed(friday)), w.admits) << w.schedule;
  }
  // 0 is Sunday.
  EXPECT_TRUE(grants(window("* * * * * 0 *"), timed(at(2026, 12, 6, 12))));
  EXPECT_FALSE(grants(window("* * * * * 0 *"), timed(at(2026, 12, 5, 12))));
  EXPECT_TRUE(grants(window("* * * * * 6 *"), timed(at(2026, 12, 5, 12))));
  // Years outside 2000-9999 never match.
  EXPECT_FALSE(grants(window("* * * * * * *"), timed(at(1999, 12, 31, 23, 59, 59))));
  EXPECT_TRUE(grants(window("* * * * * * *"), timed(at(2000, 1, 1))));
}

TEST(AcpWindow, Steps) {
  const auto every15 = window("*/15 * * * * * *");
  EXPECT_TRUE(grants(every15, timed(at(2026, 12, 4, 0, 0, 45))));
  EXPECT_FALSE(grants(every15, timed(at(2026, 12, 4, 0, 0, 46))));
  const auto even_hours = window("* * 0-23/2 * * * *");
  EXPECT_TRUE(grants(even_hours, timed(at(2026, 12, 4, 22))));
  EXPECT_FALSE(grants(even_hours, timed(at(2026, 12, 4, 23))));
  const auto ranged = window("10-20/5 * * * * * *");
  EXPECT_TRUE(grants(ranged, timed(at(2026, 12, 4, 0, 0, 15))));
  EXPECT_TRUE(grants(ranged, timed(at(2026, 12, 4, 0, 0, 20))));
  EXPECT_FALSE(grants(ranged, timed(at(2026, 12, 4, 0, 0, 16))));
  EXPECT_FALSE(grants(ranged, timed(at(2026, 12, 4, 0, 0, 25))));
  EXPECT_FALSE(grants(ranged, timed(at(2026, 12, 4, 0, 0, 5))));
  // "*/n" starts at the field's minimum (the interpretation documented in acp_schedule.cpp): days 1, 3, 5...
  const auto odd_days = window("* * * */2 * * *");
  EXPECT_TRUE(grants(odd_days, timed(at(2026, 12, 1))));
  EXPECT_TRUE(grants(odd_days, timed(at(2026, 12, 31))));
  EXPECT_FALSE(grants(odd_days, timed(at(2026, 12, 4))));
  const auto even_years = window("* * * * * * */2");
  EXPECT_TRUE(grants(even_years, timed(at(2026, 6, 1))));
  EXPECT_FALSE(grants(even_years, timed(at(2027, 6, 1))));
  // Any of several entries.
  const auto two = rule(R"({"acor":["all"],"acop":63,"acco":[{"actw":["* * 1 * * * *","* * 3 * * * *"]}]})");
  EXPECT_TRUE(grants(two, timed(at(2026, 12, 4, 3))));
  EXPECT_FALSE(grants(two, timed(at(2026, 12, 4, 2))));
}

TEST(AcpWindow, MalformedEntriesMakeTheRuleUnevaluable) {
  for (const char* bad : {"* * * * * *", "* * * * * * * *", "60 * * * * * *", "* 60 * * * * *", "* * 24 * * * *",
                          "* * * 0 * * *", "* * * 32 * * *", "* * * * 0 * *", "* * * * 13 * *", "* * * * * 7 *",
                          "* * * * * * 1999", "* * * * * * 10000", "*/0 * * * * * *", "5/2 * * * * * *", "3-1 * * * * * *",
                          "a * * * * * *", "1- * * * * * *", ",1 * * * * * *", " * * * * * * *", "* * * * * * * ",
                          "-1 * * * * * *", "* * * * * MON *", "*/ * * * * * *", "1-2-3 * * * * * *"}) {
    const auto p = window(bad);
    EXPECT_FALSE(grants(p, timed(at(2026, 12, 4)))) << bad;
    ASSERT_EQ(p->rules(RuleSetKind::kPrivileges).problems().size(), 1u) << bad;
    EXPECT_NE(p->rules(RuleSetKind::kPrivileges).problems()[0].find("malformed actw entry"), std::string::npos) << bad;
  }
  // Several spaces between fields are one separator.
  EXPECT_TRUE(ScheduleEntry::parse("*  *   * * * * *"));
  EXPECT_FALSE(ScheduleEntry::parse("* * * * * * 2026/5"));
}

// ---- accessControlIpAddresses ------------------------------------------------------------------------------

std::shared_ptr<const Policy> addresses(std::string_view acip) {
  return rule(std::string(R"({"acor":["all"],"acop":63,"acco":[{"acip":)") + std::string(acip) + "}]}");
}

TEST(AcpAddresses, Ipv4Prefixes) {
  const auto p = addresses(R"({"ipv4":["192.168.0.0/16"]})");
  EXPECT_TRUE(grants(p, from_ip("192.168.0.0")));
  EXPECT_TRUE(grants(p, from_ip("192.168.255.255")));
  EXPECT_FALSE(grants(p, from_ip("192.169.0.0")));
  EXPECT_FALSE(grants(p, from_ip("192.167.255.255")));
  EXPECT_FALSE(grants(p, from_ip("::ffff:192.168.1.1")));  // another family
  EXPECT_EQ(decide_one(p, from_ip("10.0.0.1")).reason, "acp1/pv/0: address not listed");
  EXPECT_EQ(decide_one(p, request("Cae")).reason, "acp1/pv/0: the request carries no IP address");
  // Prefix lengths that are not multiples of 8, and the extremes.
  const auto q = addresses(R"({"ipv4":["10.0.0.0/31","172.16.0.0/12"]})");
  EXPECT_TRUE(grants(q, from_ip("10.0.0.1")));
  EXPECT_FALSE(grants(q, from_ip("10.0.0.2")));
  EXPECT_TRUE(grants(q, from_ip("172.31.255.255")));
  EXPECT_FALSE(grants(q, from_ip("172.32.0.0")));
  EXPECT_FALSE(grants(q, from_ip("172.15.255.255")));
  const auto half = addresses(R"({"ipv4":["128.0.0.0/1"]})");
  EXPECT_TRUE(grants(half, from_ip("200.1.2.3")));
  EXPECT_FALSE(grants(half, from_ip("127.255.255.255")));
  const auto any = addresses(R"({"ipv4":["0.0.0.0/0"]})");
  EXPECT_TRUE(grants(any, from_ip("255.255.255.255")));
  EXPECT_FALSE(grants(any, from_ip("::1")));
  // No suffix: the host alone.
  const auto host = addresses(R"({"ipv4":["122.77.12.1"]})");
  EXPECT_TRUE(grants(host, from_ip("122.77.12.1")));
  EXPECT_FALSE(grants(host, from_ip("122.77.12.2")));
}

TEST(AcpAddresses, Ipv6Prefixes) {
  const auto p = addresses(R"({"ipv6":["Fadf:ddd0::/32"]})");  // the TS-0004 example, upper case
  EXPECT_TRUE(grants(p, from_ip("fadf:ddd0:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(grants(p, from_ip("fadf:ddd1::")));
  const auto q = addresses(R"({"ipv6":["2001:db8::/127","2001:db8:8000::/33"],"ipv4":["10.0.0.0/8"]})");
  EXPECT_TRUE(grants(q, from_ip("2001:db8::1")));
  EXPECT_FALSE(grants(q, from_ip("2001:db8::2")));
  EXPECT_TRUE(grants(q, from_ip("2001:db8:ffff::")));
  EXPECT_FALSE(grants(q, from_ip("2001:db8:7fff::")));
  EXPECT_TRUE(grants(q, from_ip("10.1.2.3")));
  EXPECT_TRUE(grants(addresses(R"({"ipv6":["::/0"]})"), from_ip("::1")));
  EXPECT_FALSE(grants(addresses(R"({"ipv6":["::/0"]})"), from_ip("127.0.0.1")));
  const auto host = addresses(R"({"ipv6":["2001:db8::5"]})");
  EXPECT_TRUE(grants(host, from_ip("2001:0db8:0:0:0:0:0:5")));
  EXPECT_FALSE(grants(host, from_ip("2001:db8::4")));
}

TEST(AcpAddresses, MalformedEntries) {
  for (const char* bad : {R"({"ipv4":["1.2.3"]})", R"({"ipv4":["1.2.3.4/33"]})", R"({"ipv4":["01.2.3.4"]})",
                          R"({"ipv4":["1.2.3.4/"]})", R"({"ipv4":["1.2.3.4/08"]})", R"({"ipv4":["10.125.1.0/16"]})",
                          R"({"ipv4":["2001:db8::/32"]})", R"({"ipv4":["1.2.3.4 "]})", R"({"ipv4":["1.2.3.256"]})",
                          R"({"ipv4":[7]})", R"({"ipv6":["2001:db8::/129"]})", R"({"ipv6":["10.0.0.0/8"]})",
                          R"({"ipv6":["fe80::1%eth0"]})", R"({"ipv6":["2001:db8::1/32"]})", R"({"ipv4":[]})", R"({})",
                          R"({"ipv5":["1.2.3.4"]})", R"({"ipv4":"1.2.3.4"})"}) {
    const auto p = addresses(bad);
    EXPECT_FALSE(grants(p, from_ip("1.2.3.4"))) << bad;
    EXPECT_EQ(p->rules(RuleSetKind::kPrivileges).problems().size(), 1u) << bad;
  }
  // The same entry well-formed grants: the refusals above are the entries', not the request's.
  EXPECT_TRUE(grants(addresses(R"({"ipv4":["1.2.3.4"]})"), from_ip("1.2.3.4")));
}

TEST(AcpAddresses, ParseRequestAddress) {
  EXPECT_TRUE(IpAddress::parse("192.0.2.1"));
  EXPECT_FALSE(IpAddress::parse("192.0.2.1")->v6);
  EXPECT_TRUE(IpAddress::parse("2001:db8::1")->v6);
  for (const char* bad : {"", "192.0.2", "192.0.2.1/24", " 192.0.2.1", "fe80::1%eth0", "host.example", "1.2.3.4.5"}) {
    EXPECT_FALSE(IpAddress::parse(bad)) << bad;
  }
}

// ---- accessControlLocationRegion ---------------------------------------------------------------------------

std::shared_ptr<const Policy> region(std::string_view aclr) {
  return rule(std::string(R"({"acor":["all"],"acop":63,"acco":[{"aclr":)") + std::string(aclr) + "}]}");
}

AccessRequest in_country(std::string code) {
  AccessRequest r = request("Cae");
  r.location = Location{code, std::nullopt};
  return r;
}

AccessRequest at_point(double lat, double lon) {
  AccessRequest r = request("Cae");
  r.location = Location{std::nullopt, std::pair{lat, lon}};
  return r;
}

TEST(AcpRegion, CountryCodes) {
  const auto p = region(R"({"accc":["KR","FR"]})");
  EXPECT_TRUE(grants(p, in_country("FR")));
  EXPECT_TRUE(grants(p, in_country("KR")));
  EXPECT_FALSE(grants(p, in_country("DE")));
  EXPECT_EQ(decide_one(p, in_country("DE")).reason, "acp1/pv/0: country not listed");
  EXPECT_FALSE(grants(p, at_point(48.85, 2.35)));  // no country derived from a point
  EXPECT_FALSE(grants(p, request("Cae")));
  EXPECT_FALSE(grants(p, from_ip("192.0.2.1")));  // nor from an address
  EXPECT_TRUE(grants(region(R"({"accc":["XA","ZZ","QM"]})"), in_country("QM")));  // user-assigned
  for (const char* bad : {R"({"accc":["EU"]})", R"({"accc":["UK"]})", R"({"accc":["fr"]})", R"({"accc":["FRA"]})",
                          R"({"accc":[]})", R"({"accc":"FR"})", R"({})", R"({"accc":["FR"],"accr":[0,0,1]})",
                          R"({"accc":["FR"],"acxx":1})"}) {
    const auto q = region(bad);
    EXPECT_FALSE(grants(q, in_country("FR"))) << bad;
    EXPECT_EQ(q->rules(RuleSetKind::kPrivileges).problems().size(), 1u) << bad;
  }
}

TEST(AcpRegion, IsCountryCode) {
  for (const char* code : {"FR", "KR", "US", "SS", "BQ", "AA", "QM", "QZ", "XA", "XK", "XZ", "ZZ"}) EXPECT_TRUE(is_country_code(code)) << code;
  for (const char* code : {"", "F", "FRA", "fr", "EU", "UK", "QL", "AN", "YU", "ZR", "OO", "F1"}) EXPECT_FALSE(is_country_code(code)) << code;
}

TEST(AcpRegion, CountryTableAgainstIcu) {
  // Every code we call officially assigned must be in ICU's list (an independent oracle); what ICU has beyond
  // ours must be among the codes ISO 3166-1 reserves or withdrew (and XK, user-assigned, which we accept too).
  std::set<std::string> icu;
  for (const char* const* c = uloc_getISOCountries(); *c != nullptr; ++c) icu.insert(*c);
  ASSERT_GT(icu.size(), 240u);
  const std::set<std::string> not_assigned{"AC", "AN", "BU", "CP", "CS", "DD", "DG", "EA", "EU", "EZ", "FX", "IC", "NT",
                                           "QU", "SU", "TA", "TP", "UK", "UN", "XK", "YD", "YU", "ZR"};
  auto user_assigned = [](const std::string& c) {
    return c == "AA" || c == "ZZ" || (c[0] == 'Q' && c[1] >= 'M') || c[0] == 'X';
  };
  std::size_t ours = 0;
  for (char a = 'A'; a <= 'Z'; ++a) {
    for (char b = 'A'; b <= 'Z'; ++b) {
      const std::string code{a, b};
      if (!is_country_code(code) || user_assigned(code)) continue;
      ++ours;
      EXPECT_TRUE(icu.count(code)) << code << " is not in ICU's list";
    }
  }
  EXPECT_EQ(ours, 249u);  // ISO 3166-1 has 249 officially assigned alpha-2 codes
  for (const std::string& code : icu) {
    EXPECT_TRUE(is_country_code(code) || not_assigned.count(code)) << code << " is in ICU's list but not ours";
  }
}

TEST(AcpRegion, CircleBoundaryByConstruction) {
  // Along a meridian the great-circle distance is R * delta-latitude (radians), R = 6371008.8 m.
  constexpr double kR = 6371008.8;
  constexpr double kDeg = 180.0 / 3.14159265358979323846;
  const auto p = region(R"({"accr":[0,0,1000]})");
  EXPECT_TRUE(grants(p, at_point(999.0 / kR * kDeg, 0)));
  EXPECT_TRUE(grants(p, at_point(999.999 / kR * kDeg, 0)));  // just inside
  EXPECT_FALSE(grants(p, at_point(1000.001 / kR * kDeg, 0)));  // just outside
  EXPECT_TRUE(grants(p, at_point(0, -999.9 / kR * kDeg)));  // along the equator too
  EXPECT_FALSE(grants(p, at_point(0, 1000.1 / kR * kDeg)));
  EXPECT_EQ(decide_one(p, at_point(1, 1)).reason, "acp1/pv/0: outside the circular region");
  EXPECT_FALSE(grants(p, in_country("FR")));  // a circle rule against a request carrying only a country
  EXPECT_EQ(decide_one(p, in_country("FR")).reason, "acp1/pv/0: the request carries no position");
  // Across the antimeridian: 179.9995 E and 179.9995 W are about 111 m apart at the equator.
  EXPECT_TRUE(grants(region(R"({"accr":[0,179.9995,200]})"), at_point(0, -179.9995)));
}

TEST(AcpRegion, CircleAgainstPythonHaversine) {
  // Paris (48.8566, 2.3522) to London (51.5074, -0.1278): 343556.53 m with Python's math module (haversine,
  // R = 6371008.8 m).
  EXPECT_TRUE(grants(region(R"({"accr":[48.8566,2.3522,343557]})"), at_point(51.5074, -0.1278)));
  EXPECT_FALSE(grants(region(R"({"accr":[48.8566,2.3522,343556]})"), at_point(51.5074, -0.1278)));
  for (const char* bad : {R"({"accr":[0,0]})", R"({"accr":[91,0,1]})", R"({"accr":[0,-181,1]})", R"({"accr":[0,0,-1]})",
                          R"({"accr":[0,0,"1"]})", R"({"accr":[0,0,1,2]})"}) {
    const auto q = region(bad);
    EXPECT_FALSE(grants(q, at_point(0, 0))) << bad;
    EXPECT_EQ(q->rules(RuleSetKind::kPrivileges).problems().size(), 1u) << bad;
  }
}

// ---- contexts together -------------------------------------------------------------------------------------

TEST(AcpContexts, AndWithinOrAcross) {
  // One context: time AND address AND country; two contexts: either.
  const auto p = rule(R"({"acor":["all"],"acop":63,"acco":[)"
                      R"({"actw":["* * 8-17 * * 1-5 *"],"acip":{"ipv4":["192.168.0.0/16"]},"aclr":{"accc":["KR","FR"]}},)"
                      R"({"acip":{"ipv6":["2001:db8::/32"]}}]})");
  AccessRequest r = request("Cae");
  r.time = at(2026, 12, 4, 9);  // a Friday, 09:00
  r.ip = ip("192.168.1.1");
  r.location = Location{"FR", std::nullopt};
  EXPECT_TRUE(grants(p, r));
  r.location = Location{"DE", std::nullopt};
  const Decision d = decide_one(p, r);
  EXPECT_FALSE(d.granted);
  EXPECT_EQ(d.reason, "acp1/pv/0: no context matches (country not listed, address not listed)");
  r.ip = ip("2001:db8::7");
  EXPECT_TRUE(grants(p, r));  // the second context
  r.ip = ip("192.168.1.1");
  r.location = Location{"KR", std::nullopt};
  r.time = at(2026, 12, 5, 9);  // Saturday
  EXPECT_FALSE(grants(p, r));
}

TEST(AcpContexts, UnknownContextMember) {
  const auto p = rule(R"({"acor":["all"],"acop":63,"acco":[{"acui":["u"]}]})");
  EXPECT_FALSE(grants(p, request("Cae")));
  EXPECT_EQ(decide_one(p, request("Cae")).reason, "acp1/pv/0: unknown context member 'acui'");
  EXPECT_FALSE(grants(rule(R"({"acor":["all"],"acop":63,"acco":{"actw":[]}})"), request("Cae")));
  EXPECT_FALSE(grants(rule(R"({"acor":["all"],"acop":63,"acco":[1]})"), request("Cae")));
  // Empty lists are the same as no contexts / no windows.
  EXPECT_TRUE(grants(rule(R"({"acor":["all"],"acop":63,"acco":[]})"), request("Cae")));
  EXPECT_TRUE(grants(rule(R"({"acor":["all"],"acop":63,"acco":[{"actw":[]}]})"), request("Cae")));
}

// ---- acaf, acod, unknown members -------------------------------------------------------------------------

TEST(AcpRule, AuthenticationFlag) {
  const auto required = rule(R"({"acor":["all"],"acop":63,"acaf":true})");
  AccessRequest r = request("Cae");
  EXPECT_FALSE(grants(required, r));
  EXPECT_EQ(decide_one(required, r).reason, "acp1/pv/0: originator not authenticated (acaf)");
  r.authenticated = true;
  EXPECT_TRUE(grants(required, r));
  const auto not_required = rule(R"({"acor":["all"],"acop":63,"acaf":false})");
  EXPECT_TRUE(grants(not_required, request("Cae")));
  EXPECT_TRUE(grants(not_required, r));
  EXPECT_FALSE(grants(rule(R"({"acor":["all"],"acop":63,"acaf":"true"})"), r));
}

AccessRequest create(std::uint32_t child, std::optional<std::uint32_t> target, std::optional<std::string> spec = {}) {
  AccessRequest r = request("Capp1", AccessOperation::kCreate);
  r.created_type = child;
  r.target_type = target;
  r.specialization = std::move(spec);
  return r;
}

TEST(AcpRule, ObjectDetails) {
  // The TS-0004 example: Capp1 may create <contentInstance> (4) under a <container> (3).
  const auto p = rule(R"({"acor":["Capp1"],"acop":5,"acod":[{"ty":3,"chty":[4]}]})");
  EXPECT_TRUE(grants(p, create(4, 3)));
  EXPECT_FALSE(grants(p, create(23, 3)));
  EXPECT_FALSE(grants(p, create(4, 2)));
  EXPECT_FALSE(grants(p, create(4, std::nullopt)));
  EXPECT_EQ(decide_one(p, create(23, 3)).reason, "acp1/pv/0: object details do not match");
  AccessRequest no_type = create(4, 3);
  no_type.created_type.reset();
  EXPECT_FALSE(grants(p, no_type));
  // Not a Create: object details do not apply.
  AccessRequest update = request("Capp1", AccessOperation::kUpdate);
  update.target_type = 2;
  EXPECT_TRUE(grants(p, update));
  // chty alone; several entries (OR).
  const auto q = rule(R"({"acor":["Capp1"],"acop":1,"acod":[{"chty":[4,23]},{"ty":2,"chty":[3]}]})");
  EXPECT_TRUE(grants(q, create(23, std::nullopt)));
  EXPECT_TRUE(grants(q, create(3, 2)));
  EXPECT_FALSE(grants(q, create(3, 5)));
  // spty compares the target's specialization.
  const auto s = rule(R"({"acor":["Capp1"],"acop":1,"acod":[{"ty":28,"spty":{"cnd":"org.onem2m.home.moduleclass.temperature"},"chty":[23]},)"
                      R"({"ty":13,"spty":{"mgd":1001},"chty":[23]}]})");
  EXPECT_TRUE(grants(s, create(23, 28, "org.onem2m.home.moduleclass.temperature")));
  EXPECT_FALSE(grants(s, create(23, 28, "org.onem2m.home.moduleclass.binarySwitch")));
  EXPECT_FALSE(grants(s, create(23, 28)));
  EXPECT_TRUE(grants(s, create(23, 13, "1001")));
  EXPECT_FALSE(grants(s, create(23, 13, "1002")));
  for (const char* bad : {R"({"ty":3})", R"({"ty":[3],"chty":[4]})", R"({"chty":4})", R"({"chty":["4"]})",
                          R"({"chty":[4],"spty":"x"})", R"({"chty":[4],"spty":{"cnd":"a","mgd":1}})", R"({"chty":[4],"xx":1})"}) {
    const auto b = rule(std::string(R"({"acor":["Capp1"],"acop":1,"acod":[)") + bad + "]}");
    EXPECT_FALSE(grants(b, create(4, 3))) << bad;
    EXPECT_EQ(b->rules(RuleSetKind::kPrivileges).problems().size(), 1u) << bad;
  }
}

TEST(AcpRule, UnknownMemberOnlyDisablesItsRule) {
  const auto p = policy(R"({"pv":{"acr":[{"acor":["all"],"acop":63,"acxx":1},{"acor":["Cae"],"acop":2}]}})");
  EXPECT_TRUE(grants(p, request("Cae")));
  const Decision d = decide_one(p, request("Cother"));
  EXPECT_FALSE(d.granted);
  EXPECT_EQ(d.reason, "acp1/pv/0: unknown member 'acxx'; acp1/pv/1: originator not listed");
  EXPECT_EQ(p->rules(RuleSetKind::kPrivileges).problems(), std::vector<std::string>{"acr[0]: unknown member 'acxx'"});
  // A later release's members are unknown here too.
  EXPECT_FALSE(grants(rule(R"({"acor":["all"],"acop":63,"aca":["lbl"]})"), request("Cae")));
  EXPECT_FALSE(grants(policy(R"({"pv":{"acr":[7]}})"), request("Cae")));
}

// ---- policies, rule sets, the decision -----------------------------------------------------------------------

TEST(AcpPolicy, PrivilegesAndSelfPrivileges) {
  const auto p = policy(R"({"m2m:acp":{"rn":"acp1","pv":{"acr":[{"acor":["Cae"],"acop":63}]},)"
                        R"("pvs":{"acr":[{"acor":["CAdmin"],"acop":63}]}}})");
  EXPECT_TRUE(decide_one(p, request("Cae"), nullptr, RuleSetKind::kPrivileges).granted);
  EXPECT_FALSE(decide_one(p, request("Cae"), nullptr, RuleSetKind::kSelfPrivileges).granted);
  EXPECT_FALSE(decide_one(p, request("CAdmin"), nullptr, RuleSetKind::kPrivileges).granted);
  const Decision d = decide_one(p, request("CAdmin"), nullptr, RuleSetKind::kSelfPrivileges);
  EXPECT_TRUE(d.granted);
  EXPECT_EQ(d.rule, "acp1/pvs/0");
  EXPECT_EQ(p->rules(RuleSetKind::kSelfPrivileges).size(), 1u);
}

TEST(AcpPolicy, OrAcrossRulesAndPolicies) {
  const auto a = policy(R"({"pv":{"acr":[{"acor":["Cx"],"acop":2},{"acor":["Cy"],"acop":2}]}})", "acp1");
  const auto b = policy(R"({"pv":{"acr":[{"acor":["Cz"],"acop":2}]}})", "acp2");
  const std::vector<std::shared_ptr<const Policy>> both{a, b};
  Decision d = decide(both, RuleSetKind::kPrivileges, request("Cy"), kScope);
  EXPECT_TRUE(d.granted);
  EXPECT_EQ(d.rule, "acp1/pv/1");
  d = decide(both, RuleSetKind::kPrivileges, request("Cz"), kScope);
  EXPECT_EQ(d.rule, "acp2/pv/0");
  d = decide(both, RuleSetKind::kPrivileges, request("Cw"), kScope);
  EXPECT_FALSE(d.granted);
  EXPECT_TRUE(d.rule.empty());
  EXPECT_EQ(d.reason, "acp1/pv/0: originator not listed; acp1/pv/1: originator not listed; acp2/pv/0: originator not listed");
  // No policy, or no rule: deny.
  d = decide({}, RuleSetKind::kPrivileges, request("Cw"), kScope);
  EXPECT_FALSE(d.granted);
  EXPECT_EQ(d.reason, "no access control policy applies");
  d = decide_one(policy(R"({"pv":{"acr":[]}})"), request("Cw"));
  EXPECT_FALSE(d.granted);
  EXPECT_EQ(d.reason, "acp1/pv: no rules");
  EXPECT_FALSE(decide_one(policy(R"({"pv":{}})"), request("Cw")).granted);
}

TEST(AcpPolicy, ParseErrors) {
  for (const char* bad : {R"([])", R"({"pvs":{"acr":[]}})", R"({"pv":[]})", R"({"pv":{"acr":{}}})",
                          R"({"pv":{"acr":[],"x":1}})", R"({"m2m:acp":[]})", R"({"pv":{"acr":[]},"pvs":"x"})"}) {
    auto value = json::parse(bad);
    ASSERT_TRUE(value);
    EXPECT_FALSE(Policy::parse(*value, "acp1", 1)) << bad;
  }
  auto set = RuleSet::parse(json::parse(R"({"acr":[{"acor":["all"],"acop":2}]})").value());
  ASSERT_TRUE(set);
  const auto p = Policy::of(std::move(set).value(), "token/0");
  EXPECT_EQ(p->id(), "token/0");
  EXPECT_EQ(p->version(), 0u);
  EXPECT_EQ(decide_one(p, request("Cae")).rule, "token/0/pv/0");
  EXPECT_FALSE(RuleSet::parse(json::Value(7)));
}

TEST(AcpMemo, ContextFreeDecisionsAreMemoisedOthersAreNot) {
  const auto p = policy(R"({"pv":{"acr":[{"acor":["Cae"],"acop":2},{"acor":["Ctimed"],"acop":2,"acco":[{"actw":["* * * * * * *"]}]}]}})");
  EXPECT_EQ(p->memoised(), 0u);
  EXPECT_TRUE(grants(p, request("Cae")));
  EXPECT_EQ(p->memoised(), 1u);
  EXPECT_TRUE(grants(p, request("Cae")));  // from the memo
  EXPECT_EQ(p->memoised(), 1u);
  EXPECT_FALSE(grants(p, request("Cother")));  // a deny is memoised too (no rule consulted a context)
  EXPECT_EQ(p->memoised(), 2u);
  AccessRequest timed_request = timed(at(2026, 12, 4));
  timed_request.originator = "Ctimed";
  EXPECT_TRUE(grants(p, timed_request));
  EXPECT_EQ(p->memoised(), 2u);
  timed_request.time.reset();
  EXPECT_FALSE(grants(p, timed_request));  // not the memoised grant of a moment ago
  EXPECT_EQ(p->memoised(), 2u);
  // Every input of the key counts: authentication, roles, operation.
  AccessRequest r = request("Cae");
  r.authenticated = true;
  EXPECT_TRUE(grants(p, r));
  r.operation = AccessOperation::kUpdate;
  EXPECT_FALSE(grants(p, r));
  EXPECT_EQ(p->memoised(), 4u);
}

TEST(AcpMemo, NewVersionIsANewPolicy) {
  const auto v1 = policy(R"({"pv":{"acr":[{"acor":["Cae"],"acop":2}]}})", "acp1", 1);
  EXPECT_TRUE(grants(v1, request("Cae")));
  const auto v2 = policy(R"({"pv":{"acr":[{"acor":["Cother"],"acop":2}]}})", "acp1", 2);
  EXPECT_FALSE(grants(v2, request("Cae")));
  EXPECT_TRUE(grants(v2, request("Cother")));
  EXPECT_TRUE(grants(v1, request("Cae")));
  EXPECT_EQ(v2->version(), 2u);
}

TEST(AcpMemo, BoundedAndSafeAcrossThreads) {
  const auto p = policy(R"({"pv":{"acr":[{"acor":["C1*"],"acop":2}]}})");
  for (int i = 0; i < 5000; ++i) {
    EXPECT_EQ(grants(p, request(concat({"C", std::to_string(i)}))), std::to_string(i).front() == '1') << i;
    ASSERT_LE(p->memoised(), 4096u);
  }
  std::atomic<int> wrong{0};
  auto work = [&](int offset) {
    for (int i = 0; i < 3000; ++i) {
      const int n = (i * 7 + offset) % 6000;
      if (grants(p, request(concat({"C", std::to_string(n)}))) != (std::to_string(n).front() == '1')) ++wrong;
    }
  };
  std::thread t1(work, 0), t2(work, 1);
  t1.join();
  t2.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace m2msec::authz

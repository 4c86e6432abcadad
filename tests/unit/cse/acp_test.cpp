// Authorisation by <accessControlPolicy> at the hosting CSE (TS-0001 V3 10.2.3.1; TS-0003 V3.18.0 7.1; digest
// B 3.6, 4.10): the creator default, privileges per operation bit, selfPrivileges of a policy, the rules for
// updating accessControlPolicyIDs, <contentInstance> under its parent's policies, <group> members in acor, and
// discovery filtered by the DISCOVERY privilege.
#include "fixture.h"

namespace m2msec::cse::test {
namespace {

// Alice's container "data" and a policy "acp" under her AE: pv grants `bob_ops` to Bob, pvs lets Alice do all.
struct Shared : World {
  std::string acp_ri;
  explicit Shared(int bob_ops) {
    open();
    register_alice_and_bob();
    EXPECT_EQ(create(kAliceCredential, "Calice", "cse-in/alice", 3, R"({"m2m:cnt":{"rn":"data"}})").rsc, Rsc::kCreated);
    const auto acp = create(kAliceCredential, "Calice", "cse-in/alice", 1,
                            R"({"m2m:acp":{"rn":"acp","pv":{"acr":[{"acor":["Cbob"],"acop":)" +
                                std::to_string(bob_ops) +
                                R"(}]},"pvs":{"acr":[{"acor":["Calice"],"acop":63}]}}})");
    EXPECT_EQ(acp.rsc, Rsc::kCreated);
    acp_ri = ri_of(acp);
    EXPECT_EQ(update(kAliceCredential, "Calice", "cse-in/alice/data", R"({"m2m:cnt":{"acpi":[")" + acp_ri + R"("]}})").rsc,
              Rsc::kUpdated);
  }
};

TEST(CseAcp, WithoutPoliciesOnlyTheCreatorHasAccess) {
  World w;
  w.open();
  w.register_alice_and_bob();
  ASSERT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice", 3, R"({"m2m:cnt":{"rn":"data"}})").rsc, Rsc::kCreated);
  const auto mine = w.retrieve(kAliceCredential, "Calice", "cse-in/alice/data");
  EXPECT_EQ(mine.rsc, Rsc::kOk);
  EXPECT_EQ(*World::attribute(mine, "cr")->string(), "Calice");
  EXPECT_EQ(w.retrieve(kBobCredential, "Cbob", "cse-in/alice/data").rsc, Rsc::kOriginatorHasNoPrivilege);
  EXPECT_EQ(w.create(kBobCredential, "Cbob", "cse-in/alice", 3, R"({"m2m:cnt":{}})").rsc, Rsc::kOriginatorHasNoPrivilege);
  EXPECT_EQ(w.remove(kBobCredential, "Cbob", "cse-in/alice/data").rsc, Rsc::kOriginatorHasNoPrivilege);
  // The CSEBase has no creator: only the administrator (full access) creates under it.
  EXPECT_EQ(w.create(kBobCredential, "Cbob", "cse-in", 3, R"({"m2m:cnt":{}})").rsc, Rsc::kOriginatorHasNoPrivilege);
  EXPECT_EQ(w.create(kAdminCredential, "CAdmin", "cse-in", 3, R"({"m2m:cnt":{"rn":"root"}})").rsc, Rsc::kCreated);
  EXPECT_EQ(w.retrieve(kAdminCredential, "CAdmin", "cse-in/alice/data").rsc, Rsc::kOk);
  // A custodian replaces the creator.
  EXPECT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/data", R"({"m2m:cnt":{"cstn":"Cbob"}})").rsc, Rsc::kUpdated);
  EXPECT_EQ(w.retrieve(kBobCredential, "Cbob", "cse-in/alice/data").rsc, Rsc::kOk);
  EXPECT_EQ(w.retrieve(kAliceCredential, "Calice", "cse-in/alice/data").rsc, Rsc::kOriginatorHasNoPrivilege);
}

// Each accessControlOperations bit grants its operation and nothing else (TS-0004 Table 6.3.4.2.29-1).
TEST(CseAcp, EachOperationBitGrantsItsOperationOnly) {
  struct Case {
    int bits;
    bool create, retrieve, update, remove;
  };
  for (const Case& k : {Case{1, true, false, false, false}, Case{2, false, true, false, false},
                        Case{4, false, false, true, false}, Case{8, false, false, false, true},
                        Case{16 + 32, false, false, false, false}, Case{15, true, true, true, true}}) {
    SCOPED_TRACE(k.bits);
    Shared w(k.bits);
    const auto expect = [](bool granted, Rsc ok) { return granted ? ok : Rsc::kOriginatorHasNoPrivilege; };
    EXPECT_EQ(w.create(kBobCredential, "Cbob", "cse-in/alice/data", 3, R"({"m2m:cnt":{"rn":"b"}})").rsc,
              expect(k.create, Rsc::kCreated));
    EXPECT_EQ(w.retrieve(kBobCredential, "Cbob", "cse-in/alice/data").rsc, expect(k.retrieve, Rsc::kOk));
    EXPECT_EQ(w.update(kBobCredential, "Cbob", "cse-in/alice/data", R"({"m2m:cnt":{"lbl":["x"]}})").rsc,
              expect(k.update, Rsc::kUpdated));
    EXPECT_EQ(w.remove(kBobCredential, "Cbob", "cse-in/alice/data").rsc, expect(k.remove, Rsc::kDeleted));
  }
}

TEST(CseAcp, PoliciesReplaceTheCreatorDefault) {
  Shared w(2);
  // With accessControlPolicyIDs set, Alice is only what the policies say: nothing in pv.
  EXPECT_EQ(w.retrieve(kAliceCredential, "Calice", "cse-in/alice/data").rsc, Rsc::kOriginatorHasNoPrivilege);
  // The policy itself is governed by its selfPrivileges: Alice yes, Bob no.
  EXPECT_EQ(w.retrieve(kAliceCredential, "Calice", "cse-in/alice/acp").rsc, Rsc::kOk);
  EXPECT_EQ(w.retrieve(kBobCredential, "Cbob", "cse-in/alice/acp").rsc, Rsc::kOriginatorHasNoPrivilege);
  EXPECT_EQ(w.update(kBobCredential, "Cbob", "cse-in/alice/acp", R"({"m2m:acp":{"lbl":["x"]}})").rsc,
            Rsc::kOriginatorHasNoPrivilege);
  // A new version of the policy applies at once.
  ASSERT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/acp",
                     R"({"m2m:acp":{"pv":{"acr":[{"acor":["Cbob","Calice"],"acop":2}]}}})").rsc,
            Rsc::kUpdated);
  EXPECT_EQ(w.retrieve(kAliceCredential, "Calice", "cse-in/alice/data").rsc, Rsc::kOk);
  ASSERT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/acp", R"({"m2m:acp":{"pv":{"acr":[]}}})").rsc,
            Rsc::kUpdated);
  EXPECT_EQ(w.retrieve(kBobCredential, "Cbob", "cse-in/alice/data").rsc, Rsc::kOriginatorHasNoPrivilege);
  // A deleted policy grants nothing.
  ASSERT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/acp",
                     R"({"m2m:acp":{"pv":{"acr":[{"acor":["Cbob"],"acop":2}]}}})").rsc,
            Rsc::kUpdated);
  EXPECT_EQ(w.retrieve(kBobCredential, "Cbob", "cse-in/alice/data").rsc, Rsc::kOk);
  ASSERT_EQ(w.remove(kAliceCredential, "Calice", "cse-in/alice/acp").rsc, Rsc::kDeleted);
  EXPECT_EQ(w.retrieve(kBobCredential, "Cbob", "cse-in/alice/data").rsc, Rsc::kOriginatorHasNoPrivilege);
}

TEST(CseAcp, AccessControlPolicyIdsUpdateRules) {
  Shared w(2 + 4);
  // acpi with another attribute: BAD_REQUEST.
  EXPECT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/data",
                     R"({"m2m:cnt":{"acpi":[")" + w.acp_ri + R"("],"lbl":["x"]}})").rsc,
            Rsc::kBadRequest);
  // Bob may UPDATE the container (pv) but not its acpi: that takes UPDATE in the selfPrivileges.
  EXPECT_EQ(w.update(kBobCredential, "Cbob", "cse-in/alice/data", R"({"m2m:cnt":{"lbl":["x"]}})").rsc, Rsc::kUpdated);
  EXPECT_EQ(w.update(kBobCredential, "Cbob", "cse-in/alice/data", R"({"m2m:cnt":{"acpi":null}})").rsc,
            Rsc::kOriginatorHasNoPrivilege);
  // acpi naming something that is not a policy.
  EXPECT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/data", R"({"m2m:cnt":{"acpi":["cse-in/alice"]}})").rsc,
            Rsc::kBadRequest);
  // Alice (UPDATE in pvs) removes it: back to the creator default.
  EXPECT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/data", R"({"m2m:cnt":{"acpi":null}})").rsc, Rsc::kUpdated);
  EXPECT_EQ(w.retrieve(kAliceCredential, "Calice", "cse-in/alice/data").rsc, Rsc::kOk);
  EXPECT_EQ(w.retrieve(kBobCredential, "Cbob", "cse-in/alice/data").rsc, Rsc::kOriginatorHasNoPrivilege);
  // Without acpi, only the creator may set it.
  EXPECT_EQ(w.update(kBobCredential, "Cbob", "cse-in/alice/data", R"({"m2m:cnt":{"acpi":[")" + w.acp_ri + R"("]}})").rsc,
            Rsc::kOriginatorHasNoPrivilege);
}

TEST(CseAcp, SelfPrivilegesAreMandatoryAndRulesMustBeEvaluable) {
  World w;
  w.open();
  w.register_alice_and_bob();
  const auto make = [&](std::string_view acp) { return w.create(kAliceCredential, "Calice", "cse-in/alice", 1, acp).rsc; };
  EXPECT_EQ(make(R"({"m2m:acp":{"pv":{"acr":[]}}})"), Rsc::kBadRequest);                            // no pvs
  EXPECT_EQ(make(R"({"m2m:acp":{"pv":{"acr":[]},"pvs":{"acr":[]}}})"), Rsc::kBadRequest);           // pvs empty
  EXPECT_EQ(make(R"({"m2m:acp":{"pvs":{"acr":[{"acor":["Calice"],"acop":63}]}}})"), Rsc::kBadRequest);  // no pv
  // A rule the engine cannot evaluate (a schedule entry that does not parse) is refused, not stored.
  EXPECT_EQ(make(R"({"m2m:acp":{"pv":{"acr":[{"acor":["Cbob"],"acop":2,"acco":[{"actw":["whenever"]}]}]},)"
                 R"("pvs":{"acr":[{"acor":["Calice"],"acop":63}]}}})"),
            Rsc::kBadRequest);
  const auto good = w.create(kAliceCredential, "Calice", "cse-in/alice", 1,
                             R"({"m2m:acp":{"pv":{"acr":[]},"pvs":{"acr":[{"acor":["Calice"],"acop":63}]}}})");
  ASSERT_EQ(good.rsc, Rsc::kCreated);
  // An UPDATE may not take the last selfPrivileges rule away either.
  EXPECT_EQ(w.update(kAliceCredential, "Calice", World::ri_of(good), R"({"m2m:acp":{"pvs":{"acr":[]}}})").rsc,
            Rsc::kBadRequest);
  EXPECT_EQ(w.update(kAliceCredential, "Calice", World::ri_of(good), R"({"m2m:acp":{"pvs":null}})").rsc,
            Rsc::kBadRequest);
}

TEST(CseAcp, ContentInstancesUseTheContainersPolicies) {
  Shared w(2);
  ASSERT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/acp",
                     R"({"m2m:acp":{"pv":{"acr":[{"acor":["Cbob"],"acop":2},{"acor":["Calice"],"acop":3}]}}})").rsc,
            Rsc::kUpdated);
  const auto cin = w.create(kAliceCredential, "Calice", "cse-in/alice/data", 4, R"({"m2m:cin":{"con":"21.5"}})");
  ASSERT_EQ(cin.rsc, Rsc::kCreated);
  EXPECT_EQ(*World::attribute(cin, "cs")->integer(), 4);
  EXPECT_EQ(w.retrieve(kBobCredential, "Cbob", "cse-in/alice/data/" + World::ri_of(cin)).rsc, Rsc::kOk);
  EXPECT_EQ(w.retrieve(kBobCredential, "Cbob", World::ri_of(cin)).rsc, Rsc::kOk);  // unstructured
  EXPECT_EQ(w.create(kBobCredential, "Cbob", "cse-in/alice/data", 4, R"({"m2m:cin":{"con":"x"}})").rsc,
            Rsc::kOriginatorHasNoPrivilege);
  EXPECT_EQ(w.remove(kBobCredential, "Cbob", World::ri_of(cin)).rsc, Rsc::kOriginatorHasNoPrivilege);
}

TEST(CseAcp, GroupMembersMatchAcor) {
  World w;
  w.open();
  w.register_alice_and_bob();
  ASSERT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice", 3, R"({"m2m:cnt":{"rn":"data"}})").rsc, Rsc::kCreated);
  const auto group = w.create(kAliceCredential, "Calice", "cse-in/alice", 9,
                              R"({"m2m:grp":{"rn":"friends","mt":2,"mnm":5,"mid":["Cbob","Cbob"]}})");
  ASSERT_EQ(group.rsc, Rsc::kCreated);
  EXPECT_EQ(*World::attribute(group, "cnm")->integer(), 1);  // duplicates removed
  const auto acp = w.create(kAliceCredential, "Calice", "cse-in/alice", 1,
                            R"({"m2m:acp":{"pv":{"acr":[{"acor":[")" + World::ri_of(group) +
                                R"("],"acop":2}]},"pvs":{"acr":[{"acor":["Calice"],"acop":63}]}}})");
  ASSERT_EQ(acp.rsc, Rsc::kCreated);
  ASSERT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/data",
                     R"({"m2m:cnt":{"acpi":[")" + World::ri_of(acp) + R"("]}})").rsc,
            Rsc::kUpdated);
  EXPECT_EQ(w.retrieve(kBobCredential, "Cbob", "cse-in/alice/data").rsc, Rsc::kOk);
  // Bob leaves the group: no more access.
  ASSERT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/friends", R"({"m2m:grp":{"mid":["Calice"]}})").rsc,
            Rsc::kUpdated);
  EXPECT_EQ(w.retrieve(kBobCredential, "Cbob", "cse-in/alice/data").rsc, Rsc::kOriginatorHasNoPrivilege);
  // Members of another type than memberType, more members than maxNrOfMembers.
  EXPECT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/friends", R"({"m2m:grp":{"mid":["cse-in/alice/data"]}})").rsc,
            Rsc::kGroupMemberTypeInconsistent);
  EXPECT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/friends", R"({"m2m:grp":{"mnm":0}})").rsc,
            Rsc::kBadRequest);
}

TEST(CseAcp, DiscoveryListsOnlyWhatTheOriginatorMayDiscover) {
  World w;
  w.open();
  w.register_alice_and_bob();
  const auto acp = w.create(kAliceCredential, "Calice", "cse-in/alice", 1,
                            R"({"m2m:acp":{"pv":{"acr":[{"acor":["Cbob"],"acop":32},{"acor":["Calice"],"acop":1}]},)"
                            R"("pvs":{"acr":[{"acor":["Calice"],"acop":63}]}}})");
  ASSERT_EQ(acp.rsc, Rsc::kCreated);
  const std::string acpi = R"(,"acpi":[")" + World::ri_of(acp) + R"("])";
  ASSERT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice", 3, R"({"m2m:cnt":{"rn":"a","lbl":["t"])" + acpi + "}}").rsc,
            Rsc::kCreated);
  ASSERT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice", 3, R"({"m2m:cnt":{"rn":"b")" + acpi + "}}").rsc,
            Rsc::kCreated);
  ASSERT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice", 3, R"({"m2m:cnt":{"rn":"hidden","lbl":["t"]}})").rsc,
            Rsc::kCreated);
  ASSERT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice/a", 3, R"({"m2m:cnt":{"rn":"deep")" + acpi + "}}").rsc,
            Rsc::kCreated);
  const auto discover = [&](std::string_view credential, std::string fr, onem2m::FilterCriteria fc) {
    onem2m::Request r = w.request(Operation::kRetrieve, "cse-in/alice", std::move(fr));
    fc.fu = 1;
    r.fc = fc;
    const auto response = w.send(r, credential);
    EXPECT_EQ(response.rsc, Rsc::kOk);
    std::vector<std::string> out;
    if (response.pc && response.pc->find("m2m:uril")) out = onem2m::strings_of(*response.pc->find("m2m:uril"));
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(discover(kBobCredential, "Cbob", {}), (V{"cse-in/alice/a", "cse-in/alice/b", "cse-in/alice/a/deep"}));
  onem2m::FilterCriteria labelled;
  labelled.lbl = {"t"};
  EXPECT_EQ(discover(kBobCredential, "Cbob", labelled), (V{"cse-in/alice/a"}));
  onem2m::FilterCriteria shallow;
  shallow.lvl = 1;
  EXPECT_EQ(discover(kBobCredential, "Cbob", shallow), (V{"cse-in/alice/a", "cse-in/alice/b"}));
  onem2m::FilterCriteria limited;
  limited.lim = 1;
  EXPECT_EQ(discover(kBobCredential, "Cbob", limited), (V{"cse-in/alice/a"}));
  onem2m::FilterCriteria policies;
  policies.ty = {1};
  EXPECT_EQ(discover(kBobCredential, "Cbob", policies), V{});
  // DISCOVERY is not RETRIEVE.
  EXPECT_EQ(w.retrieve(kBobCredential, "Cbob", "cse-in/alice/a").rsc, Rsc::kOriginatorHasNoPrivilege);
}

}  // namespace
}  // namespace m2msec::cse::test

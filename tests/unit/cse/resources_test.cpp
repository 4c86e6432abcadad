// Resource procedures of the hosting CSE (TS-0004 V3.32.0 7.3, 7.4): containers and their instances, subscriptions
// with verification and notifications, persistence across a restart, and the refusals of bad requests.
#include "fixture.h"

namespace m2msec::cse::test {
namespace {

using std::chrono::seconds;

struct Owned : World {
  Owned() {
    open();
    register_alice_and_bob();
    EXPECT_EQ(create(kAliceCredential, "Calice", "cse-in/alice", 3, R"({"m2m:cnt":{"rn":"data","mni":2}})").rsc,
              Rsc::kCreated);
  }
  onem2m::Response instance(std::string_view con) {
    return create(kAliceCredential, "Calice", "cse-in/alice/data", 4, R"({"m2m:cin":{"con":")" + std::string(con) + R"("}})");
  }
};

TEST(CseResources, ContainerKeepsCountsAndTheNewestInstances) {
  Owned w;
  const auto first = w.instance("a");
  ASSERT_EQ(first.rsc, Rsc::kCreated);
  ASSERT_EQ(w.instance("bb").rsc, Rsc::kCreated);
  ASSERT_EQ(w.instance("ccc").rsc, Rsc::kCreated);
  const auto data = w.retrieve(kAliceCredential, "Calice", "cse-in/alice/data");
  EXPECT_EQ(*World::attribute(data, "cni")->integer(), 2);  // mni 2: the oldest went
  EXPECT_EQ(*World::attribute(data, "cbs")->integer(), 5);
  EXPECT_EQ(w.retrieve(kAliceCredential, "Calice", World::ri_of(first)).rsc, Rsc::kNotFound);
  EXPECT_EQ(*World::attribute(w.retrieve(kAliceCredential, "Calice", "cse-in/alice/data/ol"), "con")->string(), "bb");
  EXPECT_EQ(*World::attribute(w.retrieve(kAliceCredential, "Calice", "cse-in/alice/data/la"), "con")->string(), "ccc");
  ASSERT_EQ(w.remove(kAliceCredential, "Calice", "cse-in/alice/data/la").rsc, Rsc::kDeleted);
  EXPECT_EQ(*World::attribute(w.retrieve(kAliceCredential, "Calice", "cse-in/alice/data"), "cbs")->integer(), 2);
  // maxByteSize: content larger than it is refused.
  ASSERT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/data", R"({"m2m:cnt":{"mbs":3}})").rsc, Rsc::kUpdated);
  EXPECT_EQ(w.instance("dddd").rsc, Rsc::kNotAcceptable);
  // An instance is never updated.
  EXPECT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/data/la", R"({"m2m:cin":{"lbl":["x"]}})").rsc,
            Rsc::kOperationNotAllowed);
}

TEST(CseResources, ExpiredResourcesAreGone) {
  Owned w;
  ASSERT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice", 3,
                     R"({"m2m:cnt":{"rn":"brief","et":")" + w.at(seconds(10)) + R"("}})").rsc,
            Rsc::kCreated);
  EXPECT_EQ(w.retrieve(kAliceCredential, "Calice", "cse-in/alice/brief").rsc, Rsc::kOk);
  w.clock->advance(seconds(10));
  EXPECT_EQ(w.retrieve(kAliceCredential, "Calice", "cse-in/alice/brief").rsc, Rsc::kNotFound);
  // The name is free again.
  EXPECT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice", 3, R"({"m2m:cnt":{"rn":"brief"}})").rsc, Rsc::kCreated);
  EXPECT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice", 3,
                     R"({"m2m:cnt":{"et":")" + w.at(seconds(-1)) + R"("}})").rsc,
            Rsc::kBadRequest);
}

TEST(CseResources, BadRequestsAreRefused) {
  Owned w;
  // An attribute the type does not have, or one the CSE sets.
  EXPECT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice", 3, R"({"m2m:cnt":{"bogus":1}})").rsc, Rsc::kBadRequest);
  EXPECT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice", 3, R"({"m2m:cnt":{"cni":1}})").rsc, Rsc::kBadRequest);
  EXPECT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice", 3, R"({"m2m:cnt":{"mni":-1}})").rsc, Rsc::kBadRequest);
  EXPECT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice", 3, R"({"m2m:ae":{}})").rsc, Rsc::kBadRequest);
  EXPECT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/data", R"({"m2m:cnt":{"rn":"x"}})").rsc, Rsc::kBadRequest);
  EXPECT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/data", R"({"m2m:cnt":{}})").rsc, Rsc::kBadRequest);
  // A child type the parent does not take.
  EXPECT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice", 4, R"({"m2m:cin":{"con":"x"}})").rsc,
            Rsc::kInvalidChildResourceType);
  EXPECT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice/data", 2, R"({"m2m:ae":{}})").rsc,
            Rsc::kInvalidChildResourceType);
  // Siblings with one name.
  EXPECT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice", 3, R"({"m2m:cnt":{"rn":"data"}})").rsc, Rsc::kConflict);
  EXPECT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice", 3, R"({"m2m:cnt":{"rn":"la"}})").rsc, Rsc::kBadRequest);
  // Unknown targets.
  EXPECT_EQ(w.retrieve(kAliceCredential, "Calice", "cse-in/alice/nothing").rsc, Rsc::kNotFound);
  EXPECT_EQ(w.retrieve(kAliceCredential, "Calice", "cnt-0000").rsc, Rsc::kNotFound);
  EXPECT_EQ(w.retrieve(kAliceCredential, "Calice", "other-cse/alice").rsc, Rsc::kNotFound);
  // resultContent and release version this CSE does not serve.
  onem2m::Request rcn = w.request(Operation::kRetrieve, "cse-in/alice/data", "Calice");
  rcn.rcn = 7;
  EXPECT_EQ(w.send(rcn, kAliceCredential).rsc, Rsc::kBadRequest);
  onem2m::Request rvi = w.request(Operation::kRetrieve, "cse-in/alice/data", "Calice");
  rvi.rvi = "1";
  EXPECT_EQ(w.send(rvi, kAliceCredential).rsc, Rsc::kBadRequest);
  // The CSEBase stays.
  EXPECT_EQ(w.remove(kAdminCredential, "CAdmin", "cse-in").rsc, Rsc::kOperationNotAllowed);
}

TEST(CseResources, ResultContentNothing) {
  Owned w;
  onem2m::Request r = w.request(Operation::kCreate, "cse-in/alice", "Calice");
  r.ty = 3;
  r.pc = J(R"({"m2m:cnt":{"rn":"quiet"}})");
  r.rcn = 0;
  const auto created = w.send(r, kAliceCredential);
  EXPECT_EQ(created.rsc, Rsc::kCreated);
  EXPECT_FALSE(created.pc.has_value());
  const auto deleted = w.remove(kAliceCredential, "Calice", "cse-in/alice/quiet");
  EXPECT_EQ(deleted.rsc, Rsc::kDeleted);
  EXPECT_FALSE(deleted.pc.has_value());
}

TEST(CseSubscriptions, VerifiedThenNotifiedOfUpdatesAndChildren) {
  Owned w;
  // Alice's own AE-ID as the target: no verification; default criteria: updates only.
  ASSERT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice/data", 23, R"({"m2m:sub":{"rn":"self","nu":["Calice"]}})").rsc,
            Rsc::kCreated);
  EXPECT_TRUE(w.wire.sent().empty());
  const auto sub = w.create(kAliceCredential, "Calice", "cse-in/alice/data", 23,
                            R"({"m2m:sub":{"rn":"watch","nu":["https://alice.example.com/n"],"enc":{"net":[1,3,4]}}})");
  ASSERT_EQ(sub.rsc, Rsc::kCreated);
  EXPECT_EQ(*World::attribute(sub, "cr")->string(), "Calice");
  // The verification request went out before the CREATE answered.
  auto sent = w.wire.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].first, "https://alice.example.com/n");
  EXPECT_EQ(sent[0].second.op, Operation::kNotify);
  EXPECT_EQ(sent[0].second.fr, "/id-in");
  const json::Value* vrq = sent[0].second.pc->find("m2m:sgn");
  ASSERT_NE(vrq, nullptr);
  EXPECT_EQ(vrq->find("vrq")->boolean(), true);
  EXPECT_EQ(*vrq->find("sur")->string(), "/id-in/" + World::ri_of(sub));
  EXPECT_EQ(*vrq->find("cr")->string(), "Calice");

  ASSERT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/data", R"({"m2m:cnt":{"lbl":["new"]}})").rsc, Rsc::kUpdated);
  const auto cin = w.instance("x");
  ASSERT_EQ(cin.rsc, Rsc::kCreated);
  ASSERT_EQ(w.remove(kAliceCredential, "Calice", World::ri_of(cin)).rsc, Rsc::kDeleted);
  // Delivered in order by one worker: the update to both subscriptions, the child events to "watch" only.
  sent = w.wire.wait_for(5);
  ASSERT_EQ(sent.size(), 5u);
  const auto event = [&](std::size_t i) { return sent[i].second.pc->find("m2m:sgn")->find("nev"); };
  EXPECT_EQ(sent[1].first, "Calice");
  EXPECT_EQ(*event(1)->find("net")->integer(), 1);
  EXPECT_EQ(sent[2].first, "https://alice.example.com/n");
  EXPECT_EQ(*event(2)->find("net")->integer(), 1);
  EXPECT_EQ(event(2)->find("rep")->find("m2m:cnt")->find("lbl")->array()->size(), 1u);
  EXPECT_EQ(sent[3].first, "https://alice.example.com/n");
  EXPECT_EQ(*event(3)->find("net")->integer(), 3);
  EXPECT_EQ(*event(3)->find("rep")->find("m2m:cin")->find("con")->string(), "x");
  EXPECT_EQ(sent[4].first, "https://alice.example.com/n");
  EXPECT_EQ(*event(4)->find("net")->integer(), 4);
  EXPECT_EQ(*sent[4].second.pc->find("m2m:sgn")->find("sur")->string(), "/id-in/" + World::ri_of(sub));
}

TEST(CseSubscriptions, RefusedWhenVerificationFailsOrWithoutNotifier) {
  Owned w;
  w.wire.answer_with([](std::string_view, const onem2m::Request& notify) -> Result<onem2m::Response> {
    return onem2m::Response{Rsc::kBadRequest, notify.rqi, std::nullopt};
  });
  EXPECT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice/data", 23,
                     R"({"m2m:sub":{"nu":["https://elsewhere.example.com/n"]}})").rsc,
            Rsc::kSubscriptionVerificationInitiationFailed);
  w.wire.answer_with([](std::string_view, const onem2m::Request&) -> Result<onem2m::Response> {
    return Error(Category::kIo, "unreachable");
  });
  EXPECT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice/data", 23,
                     R"({"m2m:sub":{"nu":["https://elsewhere.example.com/n"]}})").rsc,
            Rsc::kSubscriptionVerificationInitiationFailed);
  // The originator itself as the target: no verification.
  const std::size_t before = w.wire.sent().size();
  EXPECT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice/data", 23, R"({"m2m:sub":{"nu":["Calice"]}})").rsc,
            Rsc::kCreated);
  EXPECT_EQ(w.wire.sent().size(), before);
  // Criteria this CSE does not evaluate are refused.
  EXPECT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice/data", 23,
                     R"({"m2m:sub":{"nu":["Calice"],"enc":{"atr":["lbl"]}}})").rsc,
            Rsc::kBadRequest);
  // Bob may not subscribe to what he may not retrieve.
  EXPECT_EQ(w.create(kBobCredential, "Cbob", "cse-in/alice/data", 23, R"({"m2m:sub":{"nu":["Cbob"]}})").rsc,
            Rsc::kOriginatorHasNoPrivilege);

  World bare;
  bare.options.notifier = nullptr;
  bare.open();
  bare.register_alice_and_bob();
  EXPECT_EQ(bare.create(kAliceCredential, "Calice", "cse-in/alice", 23, R"({"m2m:sub":{"nu":["Calice"]}})").rsc,
            Rsc::kBadRequest);
}

TEST(CsePersistence, TheTreeSurvivesARestart) {
  Owned w;
  const auto acp = w.create(kAliceCredential, "Calice", "cse-in/alice", 1,
                            R"({"m2m:acp":{"rn":"acp","pv":{"acr":[{"acor":["Cbob"],"acop":2},{"acor":["Calice"],"acop":63}]},)"
                            R"("pvs":{"acr":[{"acor":["Calice"],"acop":63}]}}})");
  ASSERT_EQ(acp.rsc, Rsc::kCreated);
  ASSERT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/data", R"({"m2m:cnt":{"acpi":[")" + World::ri_of(acp) + R"("]}})").rsc,
            Rsc::kUpdated);
  const auto first = w.instance("one");
  ASSERT_EQ(first.rsc, Rsc::kCreated);
  ASSERT_EQ(w.instance("two").rsc, Rsc::kCreated);
  ASSERT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice", 3, R"({"m2m:cnt":{"rn":"gone"}})").rsc, Rsc::kCreated);
  ASSERT_EQ(w.remove(kAliceCredential, "Calice", "cse-in/alice/gone").rsc, Rsc::kDeleted);

  w.open();  // a new Service on the same store
  EXPECT_EQ(w.retrieve(kBobCredential, "Cbob", "cse-in/alice/data").rsc, Rsc::kOk);  // the policy still applies
  EXPECT_EQ(w.remove(kBobCredential, "Cbob", "cse-in/alice/data").rsc, Rsc::kOriginatorHasNoPrivilege);
  EXPECT_EQ(*World::attribute(w.retrieve(kBobCredential, "Cbob", "cse-in/alice/data/la"), "con")->string(), "two");
  EXPECT_EQ(*World::attribute(w.retrieve(kBobCredential, "Cbob", "cse-in/alice/data/ol"), "con")->string(), "one");
  EXPECT_EQ(w.retrieve(kBobCredential, "Cbob", World::ri_of(first)).rsc, Rsc::kOk);
  EXPECT_EQ(w.retrieve(kAliceCredential, "Calice", "cse-in/alice/gone").rsc, Rsc::kNotFound);
  // The AE is still bound to the credential it registered with.
  EXPECT_EQ(w.retrieve(kBobCredential, "Calice", "cse-in/alice").rsc, Rsc::kOriginatorNotAuthenticated);
  EXPECT_EQ(w.retrieve(kAliceCredential, "Calice", "cse-in/alice").rsc, Rsc::kOk);
  EXPECT_EQ(w.create(kAliceCredential, "Calice", "cse-in", 2, R"({"m2m:ae":{"api":"Nmyapp1","rr":false,"srv":["3"]}})").rsc,
            Rsc::kOriginatorHasAlreadyRegistered);
}

}  // namespace
}  // namespace m2msec::cse::test

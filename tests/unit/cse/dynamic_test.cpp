// Tokens, roles and Direct Dynamic Authorization at the hosting CSE (TS-0003 V3.18.0 7.3.2.2, 7.3.2.3, 7.3.2.5,
// 7.4; TS-0004 V3.32.0 7.5.1.2.10): what an ACP denies, a valid token (tkns, or tids through a <token>), a valid
// role or a DAS Server may grant; an expired token, one for another holder or another audience grants nothing.
#include "fixture.h"
#include "m2msec/authz/token.h"
#include "m2msec/jose/jwk.h"

namespace m2msec::cse::test {
namespace {

using std::chrono::seconds;

constexpr std::string_view kIssuer = "//m2msec.example/id-in/Cdas";
constexpr std::string_view kAudience = "//m2msec.example/id-in";  // the Absolute CSE-ID of this CSE
constexpr std::string_view kRole = "reader@aa.example.com";

jose::Jwk key_for(std::string_view alg) {
  auto made = jose::Jwk::generate(alg);
  EXPECT_TRUE(made) << made.error().to_string();
  jose::Jwk key = std::move(made).value();
  key.set_alg("");
  return key;
}

// Alice's container "data", no policy: only Alice; Bob's requests are denied by the ACP step.
struct Dynamic : World {
  jose::Jwk mac = key_for("HS256");
  jose::Jwk ec = key_for("ES256");

  Dynamic() {
    authz::TrustedIssuer das;
    das.id = std::string(kIssuer);
    das.keys.push_back(mac);
    das.keys.push_back(std::move(ec.public_only()).value());
    options.tokens.issuers.push_back(std::move(das));
    open();
    register_alice_and_bob();
    EXPECT_EQ(create(kAliceCredential, "Calice", "cse-in/alice", 3, R"({"m2m:cnt":{"rn":"data"}})").rsc, Rsc::kCreated);
  }

  authz::TokenClaimSet claims(std::string holder = "Cbob") const {
    authz::TokenClaimSet c;
    c.token_id = "t1@das.example.com";
    c.holder = std::move(holder);
    c.issuer = std::string(kIssuer);
    const auto now = std::chrono::floor<seconds>(clock->now());
    c.not_before = now - seconds(60);
    c.not_after = now + seconds(3600);
    c.audience = std::vector<std::string>{std::string(kAudience)};
    c.permissions = J(R"({"pm":[{"ris":["cse-in/alice/data"],"pv":{"acr":[{"acor":["Cbob"],"acop":2}]}}]})");
    return c;
  }
  std::string token(const authz::TokenClaimSet& c, const jose::Jwk& key) const {
    authz::IssueOptions o;
    o.signing_key = &key;
    auto t = authz::issue_token(c, o);
    EXPECT_TRUE(t) << t.error().to_string();
    return t ? *t : std::string();
  }
  onem2m::Response bob_retrieve(std::vector<std::string> tkns = {}, std::vector<std::string> tids = {},
                                std::vector<std::string> rids = {}) {
    onem2m::Request r = request(Operation::kRetrieve, "cse-in/alice/data", "Cbob");
    r.tkns = std::move(tkns);
    r.tids = std::move(tids);
    r.rids = std::move(rids);
    return send(r, kBobCredential);
  }
};

TEST(CseTokens, AValidTokenGrantsItsPermissions) {
  Dynamic w;
  EXPECT_EQ(w.bob_retrieve().rsc, Rsc::kOriginatorHasNoPrivilege);
  EXPECT_EQ(w.bob_retrieve({w.token(w.claims(), w.mac)}).rsc, Rsc::kOk);
  EXPECT_EQ(w.bob_retrieve({w.token(w.claims(), w.ec)}).rsc, Rsc::kOk);
  // Only what the token permits: RETRIEVE, not DELETE; only the resources in "ris".
  onem2m::Request del = w.request(Operation::kDelete, "cse-in/alice/data", "Cbob");
  del.tkns = {w.token(w.claims(), w.mac)};
  EXPECT_EQ(w.send(del, kBobCredential).rsc, Rsc::kOriginatorHasNoPrivilege);
  onem2m::Request other = w.request(Operation::kRetrieve, "cse-in/alice", "Cbob");
  other.tkns = {w.token(w.claims(), w.mac)};
  EXPECT_EQ(w.send(other, kBobCredential).rsc, Rsc::kOriginatorHasNoPrivilege);
}

TEST(CseTokens, ExpiredWrongHolderWrongAudienceOrUnknownKeyGrantNothing) {
  Dynamic w;
  const std::string good = w.token(w.claims(), w.mac);
  EXPECT_EQ(w.bob_retrieve({w.token(w.claims("Calice"), w.mac)}).rsc, Rsc::kOriginatorHasNoPrivilege);
  auto elsewhere = w.claims();
  elsewhere.audience = std::vector<std::string>{"//m2msec.example/id-other"};
  EXPECT_EQ(w.bob_retrieve({w.token(elsewhere, w.mac)}).rsc, Rsc::kOriginatorHasNoPrivilege);
  EXPECT_EQ(w.bob_retrieve({w.token(w.claims(), key_for("HS256"))}).rsc, Rsc::kOriginatorHasNoPrivilege);
  // Alice cannot use Bob's token (holder), even with a valid one of her own for Bob's name.
  onem2m::Request alice = w.request(Operation::kRetrieve, "cse-in/bob", "Calice");
  alice.tkns = {good};
  EXPECT_EQ(w.send(alice, kAliceCredential).rsc, Rsc::kOriginatorHasNoPrivilege);
  EXPECT_EQ(w.bob_retrieve({good}).rsc, Rsc::kOk);
  w.clock->advance(std::chrono::hours(2));  // past notAfter and the 60 s skew
  EXPECT_EQ(w.bob_retrieve({good}).rsc, Rsc::kOriginatorHasNoPrivilege);
}

TEST(CseTokens, TokenIdsAreLookedUpInTokenResources) {
  Dynamic w;
  const std::string jwt = w.token(w.claims(), w.mac);
  ASSERT_EQ(w.create(kAdminCredential, "CAdmin", "cse-in", 32,
                     R"({"m2m:tk":{"rn":"t1","tkid":"t1@das.example.com","tkob":")" + jwt + R"("}})").rsc,
            Rsc::kCreated);
  EXPECT_EQ(w.bob_retrieve({}, {"t1@das.example.com"}).rsc, Rsc::kOk);
  EXPECT_EQ(w.bob_retrieve({}, {"t2@das.example.com"}).rsc, Rsc::kOriginatorHasNoPrivilege);
  EXPECT_EQ(w.create(kAdminCredential, "CAdmin", "cse-in", 32, R"({"m2m:tk":{"tkid":"no id","tkob":"x.y.z"}})").rsc,
            Rsc::kBadRequest);
}

TEST(CseRoles, ARoleCountsWhenAllowedHeldAndValid) {
  Dynamic w;
  const auto acp = w.create(kAliceCredential, "Calice", "cse-in/alice", 1,
                            R"({"m2m:acp":{"pv":{"acr":[{"acor":[")" + std::string(kRole) + R"("],"acop":2}]},)"
                            R"("pvs":{"acr":[{"acor":["Calice"],"acop":63}]}}})");
  ASSERT_EQ(acp.rsc, Rsc::kCreated);
  ASSERT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/data",
                     R"({"m2m:cnt":{"acpi":[")" + World::ri_of(acp) + R"("]}})").rsc,
            Rsc::kUpdated);
  const std::string rids = std::string(kRole);
  EXPECT_EQ(w.bob_retrieve({}, {}, {rids}).rsc, Rsc::kOriginatorHasNoPrivilege);  // no <role> yet
  const std::string role = R"({"m2m:rol":{"rn":"r1","rlid":")" + rids + R"(","tkis":")" + std::string(kIssuer) +
                           R"(","tkhd":"Cbob","tknb":")" + w.at(seconds(-60)) + R"(","tkna":")" + w.at(seconds(600)) +
                           R"("}})";
  ASSERT_EQ(w.create(kAdminCredential, "CAdmin", "cse-in", 31, role).rsc, Rsc::kCreated);
  EXPECT_EQ(w.bob_retrieve({}, {}, {rids}).rsc, Rsc::kOk);
  EXPECT_EQ(w.bob_retrieve().rsc, Rsc::kOriginatorHasNoPrivilege);  // not claimed
  // Alice's AppRule does not allow the role, and the <role> is held by Bob anyway.
  onem2m::Request alice = w.request(Operation::kRetrieve, "cse-in/alice/data", "Calice");
  alice.rids = {rids};
  EXPECT_EQ(w.send(alice, kAliceCredential).rsc, Rsc::kOriginatorHasNoPrivilege);
  w.clock->advance(seconds(601));
  EXPECT_EQ(w.bob_retrieve({}, {}, {rids}).rsc, Rsc::kOriginatorHasNoPrivilege);
}

TEST(CseRoles, ARoleFromAnUntrustedIssuerCountsNot) {
  Dynamic w;
  const auto acp = w.create(kAliceCredential, "Calice", "cse-in/alice", 1,
                            R"({"m2m:acp":{"pv":{"acr":[{"acor":[")" + std::string(kRole) + R"("],"acop":2}]},)"
                            R"("pvs":{"acr":[{"acor":["Calice"],"acop":63}]}}})");
  ASSERT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/data",
                     R"({"m2m:cnt":{"acpi":[")" + World::ri_of(acp) + R"("]}})").rsc,
            Rsc::kUpdated);
  const std::string role = R"({"m2m:rol":{"rlid":")" + std::string(kRole) +
                           R"(","tkis":"//elsewhere.example/x","tkhd":"Cbob","tknb":")" + w.at(seconds(-60)) +
                           R"(","tkna":")" + w.at(seconds(600)) + R"("}})";
  ASSERT_EQ(w.create(kAdminCredential, "CAdmin", "cse-in", 31, role).rsc, Rsc::kCreated);
  EXPECT_EQ(w.bob_retrieve({}, {}, {std::string(kRole)}).rsc, Rsc::kOriginatorHasNoPrivilege);
}

// The DAS Server, as the test plays it: grants RETRIEVE to Bob for `lifetime`, or answers as told.
struct Das {
  int calls = 0;
  json::Value last_request;
};

TEST(CseDynamicAuthorization, ADasGrantCreatesALinkedPolicy) {
  Dynamic w;
  Das das;
  const std::string expires = w.at(seconds(300));
  w.wire.answer_with([&](std::string_view target, const onem2m::Request& notify) -> Result<onem2m::Response> {
    ++das.calls;
    EXPECT_EQ(target, "https://das.example.com/notify");
    EXPECT_EQ(notify.op, Operation::kNotify);
    das.last_request = *notify.pc;
    return onem2m::Response{
        Rsc::kOk, notify.rqi,
        J(R"({"m2m:seci":{"sit":2,"dres":{"dai":{"gp":{"acr":[{"acor":["Cbob"],"acop":2}]},"pl":")" + expires +
          R"("}}}})")};
  });
  const auto dac = w.create(kAliceCredential, "Calice", "cse-in/alice", 34,
                            R"({"m2m:dac":{"rn":"dac","dae":true,"dap":["https://das.example.com/notify"]}})");
  ASSERT_EQ(dac.rsc, Rsc::kCreated);
  ASSERT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/data",
                     R"({"m2m:cnt":{"daci":[")" + World::ri_of(dac) + R"("]}})").rsc,
            Rsc::kUpdated);
  EXPECT_EQ(w.bob_retrieve().rsc, Rsc::kOk);
  ASSERT_EQ(das.calls, 1);
  // m2m:securityInfo {sit 1, dreq}: the originator (absolute), the operation, the target.
  const json::Value* dreq = das.last_request.find("m2m:seci")->find("dreq");
  ASSERT_NE(dreq, nullptr);
  EXPECT_EQ(*das.last_request.find("m2m:seci")->find("sit")->integer(), 1);
  EXPECT_EQ(*dreq->find("or")->string(), "//m2msec.example/id-in/Cbob");
  EXPECT_EQ(*dreq->find("op")->integer(), 2);
  EXPECT_EQ(*dreq->find("trt")->integer(), 3);
  // The granted policy is linked: the next request needs no consultation; after "pl" it is gone.
  const auto data = w.retrieve(kAdminCredential, "CAdmin", "cse-in/alice/data");
  ASSERT_NE(World::attribute(data, "acpi"), nullptr);
  EXPECT_EQ(World::attribute(data, "acpi")->array()->size(), 1u);
  EXPECT_EQ(w.bob_retrieve().rsc, Rsc::kOk);
  EXPECT_EQ(das.calls, 1);
  EXPECT_EQ(w.remove(kBobCredential, "Cbob", "cse-in/alice/data").rsc, Rsc::kOriginatorHasNoPrivilege);
  w.clock->advance(seconds(301));
  w.wire.answer_with([&](std::string_view, const onem2m::Request& notify) -> Result<onem2m::Response> {
    ++das.calls;
    return onem2m::Response{Rsc::kOk, notify.rqi, std::nullopt};  // the DAS grants nothing more
  });
  EXPECT_EQ(w.bob_retrieve().rsc, Rsc::kOriginatorHasNoPrivilege);
  EXPECT_EQ(das.calls, 3);  // the earlier one, the one that denied the DELETE, this one
}

TEST(CseDynamicAuthorization, DasTokensAreValidatedAndUsed) {
  Dynamic w;
  const std::string jwt = w.token(w.claims(), w.ec);
  w.wire.answer_with([&](std::string_view, const onem2m::Request& notify) -> Result<onem2m::Response> {
    return onem2m::Response{Rsc::kOk, notify.rqi, J(R"({"m2m:seci":{"sit":2,"dres":{"tkns":[")" + jwt + R"("]}}})")};
  });
  const auto dac = w.create(kAliceCredential, "Calice", "cse-in/alice", 34,
                            R"({"m2m:dac":{"dae":true,"dap":["https://das.example.com/notify"]}})");
  // The parent's daci applies to a resource without its own.
  ASSERT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice", R"({"m2m:ae":{"daci":[")" + World::ri_of(dac) + R"("]}})").rsc,
            Rsc::kUpdated);
  EXPECT_EQ(w.bob_retrieve().rsc, Rsc::kOk);
  EXPECT_EQ(World::attribute(w.retrieve(kAdminCredential, "CAdmin", "cse-in/alice/data"), "acpi"), nullptr);
}

TEST(CseDynamicAuthorization, DisabledRefusingOrMalformedDasDenies) {
  Dynamic w;
  int calls = 0;
  w.wire.answer_with([&](std::string_view, const onem2m::Request& notify) -> Result<onem2m::Response> {
    ++calls;
    // sit 1 is not a response; a grant in it counts for nothing.
    return onem2m::Response{Rsc::kOk, notify.rqi,
                            J(R"({"m2m:seci":{"sit":1,"dres":{"dai":{"gp":{"acr":[{"acor":["Cbob"],"acop":2}]}}}}})")};
  });
  const auto dac = w.create(kAliceCredential, "Calice", "cse-in/alice", 34,
                            R"({"m2m:dac":{"rn":"dac","dae":false,"dap":["https://das.example.com/notify"]}})");
  ASSERT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/data",
                     R"({"m2m:cnt":{"daci":[")" + World::ri_of(dac) + R"("]}})").rsc,
            Rsc::kUpdated);
  EXPECT_EQ(w.bob_retrieve().rsc, Rsc::kOriginatorHasNoPrivilege);
  EXPECT_EQ(calls, 0);  // disabled: not asked
  ASSERT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/dac", R"({"m2m:dac":{"dae":true}})").rsc, Rsc::kUpdated);
  EXPECT_EQ(w.bob_retrieve().rsc, Rsc::kOriginatorHasNoPrivilege);
  EXPECT_EQ(calls, 1);
  // dap is mandatory and cannot be emptied.
  EXPECT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/dac", R"({"m2m:dac":{"dap":[]}})").rsc, Rsc::kBadRequest);
  EXPECT_EQ(w.update(kAliceCredential, "Calice", "cse-in/alice/dac", R"({"m2m:dac":{"dap":null}})").rsc, Rsc::kBadRequest);
  EXPECT_EQ(w.create(kAliceCredential, "Calice", "cse-in/alice", 34, R"({"m2m:dac":{"dae":true}})").rsc, Rsc::kBadRequest);
}

}  // namespace
}  // namespace m2msec::cse::test

// AE registration and originator binding (TS-0003 V3.18.0 7.2.1; TS-0004 V3.32.0 7.4.5.2.1; TS-0013
// TD_M2M_SE_01): accepted with the right credential, App-ID and AE-ID, refused otherwise; every later request
// must come over the credential the AE registered with.
#include "fixture.h"

namespace m2msec::cse::test {
namespace {

constexpr std::string_view kAe = R"({"m2m:ae":{"api":"Nmyapp1","rr":false,"srv":["3"]}})";

TEST(CseRegistration, NoAssociationIsSecurityAssociationRequired) {
  World w;
  w.open();
  const auto r = w.cse->handle(w.request(Operation::kRetrieve, "cse-in", "CAdmin"), Origin{});
  EXPECT_EQ(r.rsc, Rsc::kSecurityAssociationRequired);
  // A certificate association whose client presented no certificate is no association either.
  Origin empty;
  empty.peer = tls::AuthenticatedPeer{tls::CredentialKind::kCertificate, "", ""};
  EXPECT_EQ(w.cse->handle(w.request(Operation::kRetrieve, "cse-in", "CAdmin"), empty).rsc,
            Rsc::kSecurityAssociationRequired);
}

TEST(CseRegistration, AcceptedWithTheRightCredentialAndAssignedAnAeId) {
  World w;
  w.open();
  const auto r = w.create(kAliceCredential, "C", "cse-in", 2, kAe);
  ASSERT_EQ(r.rsc, Rsc::kCreated);
  const json::Value* aei = World::attribute(r, "aei");
  ASSERT_NE(aei, nullptr);
  ASSERT_NE(aei->string(), nullptr);
  EXPECT_EQ(aei->string()->front(), 'C');
  EXPECT_GT(aei->string()->size(), 1u);
  EXPECT_EQ(*World::attribute(r, "api")->string(), "Nmyapp1");
  // The AE then speaks as its AE-ID over the same credential (its own resource: creator default policy).
  EXPECT_EQ(w.retrieve(kAliceCredential, *aei->string(), "cse-in/" + World::ri_of(r)).rsc, Rsc::kOk);
  // With From empty the CSE assigns a "C" AE-ID as well; with "S" an "S" one (which Alice's rule refuses).
  const auto empty = w.create(kAliceCredential, "", "cse-in", 2, kAe);
  ASSERT_EQ(empty.rsc, Rsc::kCreated);
  EXPECT_EQ(World::attribute(empty, "aei")->string()->front(), 'C');
  EXPECT_NE(*World::attribute(empty, "aei")->string(), *aei->string());
  EXPECT_EQ(w.create(kAliceCredential, "S", "cse-in", 2, kAe).rsc, Rsc::kAppRuleValidationFailed);
}

TEST(CseRegistration, RefusedForTheWrongCredentialAppIdOrAeId) {
  World w;
  w.open();
  // No AppRule for this credential.
  EXPECT_EQ(w.create("mallory@psk.example.com", "C", "cse-in", 2, kAe).rsc, Rsc::kAppRuleValidationFailed);
  // Bob's credential may register only AE-IDs "Cbob*".
  EXPECT_EQ(w.create(kBobCredential, "Calice", "cse-in", 2, kAe).rsc, Rsc::kAppRuleValidationFailed);
  EXPECT_EQ(w.create(kBobCredential, "C", "cse-in", 2, kAe).rsc, Rsc::kAppRuleValidationFailed);
  // An App-ID outside "Nmyapp*".
  EXPECT_EQ(w.create(kAliceCredential, "C", "cse-in", 2, R"({"m2m:ae":{"api":"Nother","rr":false,"srv":["3"]}})").rsc,
            Rsc::kAppRuleValidationFailed);
  // An App-ID must start with 'R' or 'N' (TS-0004 7.4.5.2.1): BAD_REQUEST.
  EXPECT_EQ(w.create(kAliceCredential, "C", "cse-in", 2, R"({"m2m:ae":{"api":"myapp","rr":false,"srv":["3"]}})").rsc,
            Rsc::kBadRequest);
  // Mandatory attributes (rr, srv) missing.
  EXPECT_EQ(w.create(kAliceCredential, "C", "cse-in", 2, R"({"m2m:ae":{"api":"Nmyapp1"}})").rsc, Rsc::kBadRequest);
  // The right ones.
  EXPECT_EQ(w.create(kBobCredential, "Cbob", "cse-in", 2, kAe).rsc, Rsc::kCreated);
  // The same AE-ID twice.
  EXPECT_EQ(w.create(kBobCredential, "Cbob", "cse-in", 2, kAe).rsc, Rsc::kOriginatorHasAlreadyRegistered);
}

TEST(CseRegistration, FromMustBeTheOriginatorOfTheCredential) {
  World w;
  w.open();
  w.register_alice_and_bob();
  EXPECT_EQ(w.retrieve(kAliceCredential, "Calice", "cse-in/alice").rsc, Rsc::kOk);
  // The SP-relative and absolute forms of the AE-ID name the same originator.
  EXPECT_EQ(w.retrieve(kAliceCredential, "/id-in/Calice", "cse-in/alice").rsc, Rsc::kOk);
  EXPECT_EQ(w.retrieve(kAliceCredential, "//m2msec.example/id-in/Calice", "cse-in/alice").rsc, Rsc::kOk);
  // Bob's credential claiming to be Alice, an unknown AE-ID, an empty From: not authenticated.
  EXPECT_EQ(w.retrieve(kBobCredential, "Calice", "cse-in/alice").rsc, Rsc::kOriginatorNotAuthenticated);
  EXPECT_EQ(w.retrieve(kAliceCredential, "Cnobody", "cse-in/alice").rsc, Rsc::kOriginatorNotAuthenticated);
  EXPECT_EQ(w.retrieve(kAliceCredential, "", "cse-in/alice").rsc, Rsc::kOriginatorNotAuthenticated);
  // The administrator only with an administrator credential.
  EXPECT_EQ(w.retrieve(kAliceCredential, "CAdmin", "cse-in").rsc, Rsc::kOriginatorNotAuthenticated);
  EXPECT_EQ(w.retrieve(kAdminCredential, "CAdmin", "cse-in").rsc, Rsc::kOk);
  // Not authenticated comes before the target is even looked at.
  EXPECT_EQ(w.retrieve(kBobCredential, "Calice", "cse-in/nothing").rsc, Rsc::kOriginatorNotAuthenticated);
}

TEST(CseRegistration, AdminWithoutCredentialsCannotBeUsed) {
  World w;
  w.options.admin_credentials.clear();
  w.open();
  EXPECT_EQ(w.retrieve(kAdminCredential, "CAdmin", "cse-in").rsc, Rsc::kOriginatorNotAuthenticated);
}

}  // namespace
}  // namespace m2msec::cse::test

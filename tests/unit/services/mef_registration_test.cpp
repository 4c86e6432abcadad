// MEF Client Registration with the PPSK enrolment it carries (TS-0003 8.3.2.1, 8.3.5.2.3-8.3.5.2.6), and the
// checks every MEF request passes (originator, replay, security association, resource and operation).
#include <gtest/gtest.h>

#include "mef_fixture.h"

namespace m2msec::services::test {
namespace {

using onem2m::ResourceType;
using std::chrono::hours;
using std::chrono::seconds;

TEST_F(MefTest, EnrolmentStoresTheKeAndKeIdTheClientExported) {
  add_enrolee("kpm-a", 0x11, "Cdev-a", "", hours(2));
  auto a = connect("kpm-a", 0x11);
  ASSERT_TRUE(a->established());
  const store::Time created = w.now();
  auto r = do_register(*a, "Cdev-a", kAdmin, hours(24));
  ASSERT_EQ(code(r), 2001) << dump(r);

  const ClientEnrolment mine = client_enrolment(*a);
  ASSERT_EQ(mine.ke.size(), 32u);
  // The response: the resource and the enrolment the client can compare with its own.
  const std::string ri = text(r, kMefRoot, "ri");
  EXPECT_TRUE(ri.starts_with("mcr-")) << ri;
  EXPECT_EQ(ri.size(), 4u + 32u);
  EXPECT_EQ(text(r, kMefRoot, "rn"), ri);
  EXPECT_EQ(number(r, kMefRoot, "ty"), 7002);
  EXPECT_EQ(text(r, kMefRoot, "pi"), "mef");
  EXPECT_EQ(text(r, kMefRoot, "keid"), mine.ke_id);
  EXPECT_EQ(text(r, kMefRoot, "mcid"), "Cdev-a");
  EXPECT_EQ(text(r, kMefRoot, "adfq"), kAdmin);
  EXPECT_EQ(text(r, kMefRoot, "ct"), w.at(seconds(0)));
  // et: asked for 24 h, the enrolee's enrolment expires after 2 h, nothing outlives Ke (10.7).
  EXPECT_EQ(text(r, kMefRoot, "et"), w.at(hours(2)));
  EXPECT_EQ(member(r, kMefRoot, "ch"), nullptr);  // no command queued

  // The store: the registration and the enrolment, with the very Ke the client exported.
  auto reg = w.store->find_registration(store::Function::kMef, ri);
  ASSERT_TRUE(reg && *reg);
  EXPECT_EQ((*reg)->client_id, "Cdev-a");
  EXPECT_EQ((*reg)->ke_id, mine.ke_id);
  EXPECT_EQ((*reg)->admin_fqdn, kAdmin);
  EXPECT_EQ((*reg)->expires, created + hours(2));
  auto enrolment = w.store->find_enrolment(mine.ke_id);
  ASSERT_TRUE(enrolment && *enrolment);
  EXPECT_EQ(bytes_of((*enrolment)->ke.view()), mine.ke);
  EXPECT_EQ((*enrolment)->kpm_id, "kpm-a");
  EXPECT_EQ((*enrolment)->enrolee_id, "Cdev-a");
  EXPECT_EQ((*enrolment)->target_id, kMafFqdn);  // the MEF's default target
  EXPECT_EQ((*enrolment)->created, created);
  EXPECT_EQ((*enrolment)->expires, created + hours(2));
}

TEST_F(MefTest, EnroleeWithoutIdIsTheCredentialIdAndItsOwnTarget) {
  add_enrolee("kpm-b", 0x22, "", "Cmaf-other");
  auto a = connect("kpm-b", 0x22);
  ASSERT_TRUE(a->established());
  // The enrolee knows no Client ID yet: From is its Credential-ID "10-<KpmID>".
  auto r = do_register(*a, "10-kpm-b", kAdmin, hours(24));
  ASSERT_EQ(code(r), 2001) << dump(r);
  EXPECT_EQ(text(r, kMefRoot, "mcid"), "10-kpm-b");
  // The default enrolment lifetime (30 days) is longer than the 24 h asked for.
  EXPECT_EQ(text(r, kMefRoot, "et"), w.at(hours(24)));
  auto enrolment = w.store->find_enrolment(client_enrolment(*a).ke_id);
  ASSERT_TRUE(enrolment && *enrolment);
  EXPECT_EQ((*enrolment)->enrolee_id, "10-kpm-b");
  EXPECT_EQ((*enrolment)->target_id, "Cmaf-other");
  EXPECT_EQ((*enrolment)->expires, w.now() + hours(24 * 30));
}

TEST_F(MefTest, CredentialIdIsAnAcceptedOriginatorToo) {
  add_enrolee("kpm-a", 0x11, "Cdev-a");
  auto a = connect("kpm-a", 0x11);
  ASSERT_TRUE(a->established());
  auto r = do_register(*a, "10-kpm-a");
  ASSERT_EQ(code(r), 2001) << dump(r);
  EXPECT_EQ(text(r, kMefRoot, "mcid"), "Cdev-a");
}

// A registration for the same adminFQDN in a new association is a re-enrolment: it replaces the registration
// and revokes the Ke it carried (a device that lost its state can enrol again).
TEST_F(MefTest, ReEnrolmentInANewAssociationReplacesTheRegistrationAndRevokesTheOldKe) {
  add_enrolee("kpm-a", 0x11, "Cdev-a");
  auto first = connect("kpm-a", 0x11);
  auto r1 = do_register(*first, "Cdev-a");
  ASSERT_EQ(code(r1), 2001) << dump(r1);
  auto second = connect("kpm-a", 0x11);
  ASSERT_TRUE(second->established());
  auto r2 = do_register(*second, "Cdev-a");
  ASSERT_EQ(code(r2), 2001) << dump(r2);
  auto enrolments = w.store->list_enrolments();
  ASSERT_TRUE(enrolments);
  ASSERT_EQ(enrolments->size(), 1u);
  EXPECT_EQ(enrolments->front().ke_id, client_enrolment(*second).ke_id);
  auto old_one = w.store->find_enrolment(client_enrolment(*first).ke_id);
  ASSERT_TRUE(old_one);
  EXPECT_FALSE(*old_one);
  auto replaced = w.store->find_registration(store::Function::kMef, text(r1, kMefRoot, "ri"));
  ASSERT_TRUE(replaced);
  EXPECT_FALSE(*replaced);
}

// The same adminFQDN twice in one association is a duplicate: CONFLICT, nothing changes.
TEST_F(MefTest, SecondRegistrationForTheSameAdminInOneAssociationIsAConflict) {
  add_enrolee("kpm-a", 0x11, "Cdev-a");
  auto a = connect("kpm-a", 0x11);
  ASSERT_EQ(code(do_register(*a, "Cdev-a")), 2001);
  auto r = do_register(*a, "Cdev-a");
  EXPECT_EQ(code(r), 4105) << dump(r);
  auto enrolments = w.store->list_enrolments();
  ASSERT_TRUE(enrolments);
  EXPECT_EQ(enrolments->size(), 1u);
}

TEST_F(MefTest, AnotherAdminOnANewAssociationRegistersAgain) {
  add_enrolee("kpm-a", 0x11, "Cdev-a");
  auto first = connect("kpm-a", 0x11);
  auto r1 = do_register(*first, "Cdev-a", "admin.example.com");
  ASSERT_EQ(code(r1), 2001) << dump(r1);
  auto second = connect("kpm-a", 0x11);
  auto r2 = do_register(*second, "Cdev-a", "other-admin.example.org");
  ASSERT_EQ(code(r2), 2001) << dump(r2);
  EXPECT_NE(text(r1, kMefRoot, "ri"), text(r2, kMefRoot, "ri"));
  EXPECT_EQ(text(r2, kMefRoot, "adfq"), "other-admin.example.org");
  EXPECT_EQ(text(r2, kMefRoot, "keid"), client_enrolment(*second).ke_id);
  auto enrolments = w.store->list_enrolments();
  ASSERT_TRUE(enrolments);
  EXPECT_EQ(enrolments->size(), 2u);
}

// Two stakeholders registering in one PPSK association: the second registration is a new administrating
// stakeholder (8.3.5.1 step 3 allows one registration per adminFQDN), so it should be accepted.
TEST_F(MefTest, AnotherAdminInTheSameAssociationRegistersAgain) {
  add_enrolee("kpm-a", 0x11, "Cdev-a");
  auto a = connect("kpm-a", 0x11);
  auto r1 = do_register(*a, "Cdev-a", "admin.example.com");
  ASSERT_EQ(code(r1), 2001) << dump(r1);
  auto r2 = do_register(*a, "Cdev-a", "other-admin.example.org");
  EXPECT_EQ(code(r2), 2001) << dump(r2);
  EXPECT_EQ(text(r2, kMefRoot, "keid"), client_enrolment(*a).ke_id);
}

TEST_F(MefTest, ExpiredRegistrationIsReplaced) {
  add_enrolee("kpm-a", 0x11, "Cdev-a");
  auto first = connect("kpm-a", 0x11);
  auto r1 = do_register(*first, "Cdev-a", kAdmin, seconds(60));
  ASSERT_EQ(code(r1), 2001) << dump(r1);
  w.clock->advance(seconds(61));
  auto second = connect("kpm-a", 0x11);
  auto r2 = do_register(*second, "Cdev-a", kAdmin, hours(1));
  ASSERT_EQ(code(r2), 2001) << dump(r2);
  EXPECT_EQ(text(r2, kMefRoot, "et"), w.at(hours(1)));
  // The old one is gone for its client.
  make_service(json::Object{{"x", 1}});
  auto old = handle(request(Operation::kRetrieve, "mef/" + text(r1, kMefRoot, "ri"), "Cdev-a"), *second);
  EXPECT_EQ(code(old), 4004) << dump(old);
}

TEST_F(MefTest, RegistrationRefusesAnEtThatHasPassedAndAnotherMef) {
  add_enrolee("kpm-a", 0x11, "Cdev-a");
  auto a = connect("kpm-a", 0x11);
  json::Object past = registration();
  past.set("et", w.at(seconds(0)));
  auto r = handle(create("mef", "Cdev-a", ResourceType::kMefClientReg, past), *a);
  EXPECT_EQ(code(r), 4000) << dump(r);
  json::Object elsewhere = registration();
  elsewhere.set("fqdn", "mef.example.net");
  r = handle(create("mef", "Cdev-a", ResourceType::kMefClientReg, elsewhere), *a);
  EXPECT_EQ(code(r), 4000) << dump(r);
  auto enrolments = w.store->list_enrolments();
  ASSERT_TRUE(enrolments);
  EXPECT_TRUE(enrolments->empty());
}

TEST_F(MefTest, UpdateGrantsEtAndLabels) {
  add_enrolee("kpm-a", 0x11, "Cdev-a");
  auto a = connect("kpm-a", 0x11);
  auto r = do_register(*a, "Cdev-a", kAdmin, hours(1));
  ASSERT_EQ(code(r), 2001) << dump(r);
  const std::string path = "mef/" + text(r, kMefRoot, "ri");
  auto u = handle(update(path, "Cdev-a", ResourceType::kMefClientReg,
                         json::Object{{"et", w.at(hours(5))}, {"lbl", strings({"x", "y"})}}),
                  *a);
  ASSERT_EQ(code(u), 2004) << dump(u);
  EXPECT_EQ(text(u, kMefRoot, "et"), w.at(hours(5)));
  ASSERT_NE(member(u, kMefRoot, "lbl"), nullptr);
  EXPECT_EQ(*member(u, kMefRoot, "lbl"), json::Value(strings({"x", "y"})));
  auto reg = w.store->find_registration(store::Function::kMef, text(r, kMefRoot, "ri"));
  ASSERT_TRUE(reg && *reg);
  EXPECT_EQ((*reg)->expires, w.now() + hours(5));
  EXPECT_EQ((*reg)->labels, (std::vector<std::string>{"x", "y"}));

  // An update that changes nothing, and one with a member it may not change.
  auto empty = handle(update(path, "Cdev-a", ResourceType::kMefClientReg, json::Object{}), *a);
  EXPECT_EQ(code(empty), 4000) << dump(empty);
  auto adfq = handle(update(path, "Cdev-a", ResourceType::kMefClientReg, json::Object{{"adfq", "x.example.com"}}), *a);
  EXPECT_EQ(code(adfq), 4000) << dump(adfq);
}

// 10.7 as create_registration applies it: the registration expires with the enrolment at the latest. An
// update must not extend it past the enrolment either.
TEST_F(MefTest, UpdateDoesNotExtendTheRegistrationPastTheEnrolment) {
  add_enrolee("kpm-a", 0x11, "Cdev-a", "", hours(2));
  auto a = connect("kpm-a", 0x11);
  auto r = do_register(*a, "Cdev-a", kAdmin, hours(1));
  ASSERT_EQ(code(r), 2001) << dump(r);
  const std::string ri = text(r, kMefRoot, "ri");
  auto u = handle(
      update("mef/" + ri, "Cdev-a", ResourceType::kMefClientReg, json::Object{{"et", w.at(hours(24))}}), *a);
  ASSERT_EQ(code(u), 2004) << dump(u);
  EXPECT_EQ(text(u, kMefRoot, "et"), w.at(hours(2)));
  auto reg = w.store->find_registration(store::Function::kMef, ri);
  ASSERT_TRUE(reg && *reg);
  EXPECT_EQ((*reg)->expires, w.now() + hours(2));
}

TEST_F(MefTest, DeleteThenRetrieveIsNotFound) {
  add_enrolee("kpm-a", 0x11, "Cdev-a");
  make_service(json::Object{{"pol", "strict"}});
  auto a = connect("kpm-a", 0x11);
  auto r = do_register(*a, "Cdev-a");
  ASSERT_EQ(code(r), 2001) << dump(r);
  const std::string path = "mef/" + text(r, kMefRoot, "ri");
  ASSERT_EQ(code(handle(request(Operation::kRetrieve, path, "Cdev-a"), *a)), 2000);
  auto d = handle(request(Operation::kDelete, path, "Cdev-a"), *a);
  ASSERT_EQ(code(d), 2002) << dump(d);
  auto after = handle(request(Operation::kRetrieve, path, "Cdev-a"), *a);
  EXPECT_EQ(code(after), 4004) << dump(after);
  auto again = handle(request(Operation::kDelete, path, "Cdev-a"), *a);
  EXPECT_EQ(code(again), 4004) << dump(again);
  auto found = w.store->find_registration(store::Function::kMef, text(r, kMefRoot, "ri"));
  ASSERT_TRUE(found);
  EXPECT_FALSE(*found);
}

TEST_F(MefTest, AnotherClientsRegistrationIsNotFound) {
  add_enrolee("kpm-a", 0x11, "Cdev-a");
  add_enrolee("kpm-b", 0x22, "Cdev-b");
  make_service(json::Object{{"pol", "strict"}});
  auto a = connect("kpm-a", 0x11);
  auto b = connect("kpm-b", 0x22);
  auto r = do_register(*a, "Cdev-a");
  ASSERT_EQ(code(r), 2001) << dump(r);
  const std::string path = "mef/" + text(r, kMefRoot, "ri");
  auto get = handle(request(Operation::kRetrieve, path, "Cdev-b"), *b);
  EXPECT_EQ(code(get), 4004) << dump(get);
  auto upd = handle(update(path, "Cdev-b", ResourceType::kMefClientReg, json::Object{{"lbl", strings({"z"})}}), *b);
  EXPECT_EQ(code(upd), 4004) << dump(upd);
  auto del = handle(request(Operation::kDelete, path, "Cdev-b"), *b);
  EXPECT_EQ(code(del), 4004) << dump(del);
  auto cmd = handle(request(Operation::kRetrieve, path + "/cmd", "Cdev-b"), *b);
  EXPECT_EQ(code(cmd), 4004) << dump(cmd);
  // Still there, unchanged, for its own client.
  auto own = handle(request(Operation::kRetrieve, path, "Cdev-a"), *a);
  EXPECT_EQ(code(own), 2000) << dump(own);
  EXPECT_EQ(member(own, kMefRoot, "lbl"), nullptr);
}

TEST_F(MefTest, ConfigurationRetrieval) {
  add_enrolee("kpm-a", 0x11, "Cdev-a");
  auto a = connect("kpm-a", 0x11);
  auto r = do_register(*a, "Cdev-a");
  ASSERT_EQ(code(r), 2001) << dump(r);
  const std::string path = "mef/" + text(r, kMefRoot, "ri");
  auto none = handle(request(Operation::kRetrieve, path, "Cdev-a"), *a);
  EXPECT_EQ(code(none), 4004) << dump(none);

  const json::Object cfg{{"maf", std::string(kMafFqdn)}, {"poll", 30}};
  make_service(cfg);
  auto got = handle(request(Operation::kRetrieve, path, "Cdev-a"), *a);
  ASSERT_EQ(code(got), 2000) << dump(got);
  ASSERT_NE(member(got, kMefRoot, "cfg"), nullptr);
  EXPECT_EQ(*member(got, kMefRoot, "cfg"), json::Value(cfg));
  EXPECT_EQ(text(got, kMefRoot, "ri"), text(r, kMefRoot, "ri"));
  EXPECT_EQ(text(got, kMefRoot, "keid"), client_enrolment(*a).ke_id);
  EXPECT_EQ(text(got, kMefRoot, "mcid"), "Cdev-a");
}

TEST_F(MefTest, BaseRetrieveNamesTheMef) {
  add_enrolee("kpm-a", 0x11, "Cdev-a");
  auto a = connect("kpm-a", 0x11);
  auto r = handle(request(Operation::kRetrieve, "mef", "Cdev-a"), *a);
  ASSERT_EQ(code(r), 2000) << dump(r);
  EXPECT_EQ(text(r, "m2m:mefb", "fqdn"), kMefFqdn);
  EXPECT_EQ(text(r, "m2m:mefb", "rn"), "mef");
}

TEST_F(MefTest, NoSecurityAssociationIsRefused) {
  auto r = mef->handle(create("mef", "Cdev-a", ResourceType::kMefClientReg, registration()), nullptr);
  EXPECT_EQ(code(r), 4107) << dump(r);
  EXPECT_FALSE(dbg(r).empty());
  auto enrolments = w.store->list_enrolments();
  ASSERT_TRUE(enrolments);
  EXPECT_TRUE(enrolments->empty());
}

TEST_F(MefTest, AnOriginatorThatIsNotTheAuthenticatedClientIsRefused) {
  add_enrolee("kpm-a", 0x11, "Cdev-a");
  add_enrolee("kpm-b", 0x22, "Cdev-b");
  auto a = connect("kpm-a", 0x11);
  for (const char* from : {"Cdev-b", "10-kpm-b", "", "Cdev-a2"}) {
    SCOPED_TRACE(from);
    auto r = do_register(*a, from);
    EXPECT_EQ(code(r), 4106) << dump(r);
    auto get = handle(request(Operation::kRetrieve, "mef", from), *a);
    EXPECT_EQ(code(get), 4106) << dump(get);
  }
  auto enrolments = w.store->list_enrolments();
  ASSERT_TRUE(enrolments);
  EXPECT_TRUE(enrolments->empty());
}

TEST_F(MefTest, AReplayedRequestIdentifierIsAConflictAndChangesNothing) {
  add_enrolee("kpm-a", 0x11, "Cdev-a");
  auto a = connect("kpm-a", 0x11);
  auto r = do_register(*a, "Cdev-a", kAdmin, hours(1));
  ASSERT_EQ(code(r), 2001) << dump(r);
  const std::string ri = text(r, kMefRoot, "ri");
  auto u = update("mef/" + ri, "Cdev-a", ResourceType::kMefClientReg, json::Object{{"lbl", strings({"one"})}});
  ASSERT_EQ(code(handle(u, *a)), 2004);
  u.pc = onem2m::wrap(ResourceType::kMefClientReg, json::Object{{"lbl", strings({"two"})}});
  auto replay = handle(u, *a);
  EXPECT_EQ(code(replay), 4105) << dump(replay);
  auto reg = w.store->find_registration(store::Function::kMef, ri);
  ASSERT_TRUE(reg && *reg);
  EXPECT_EQ((*reg)->labels, std::vector<std::string>{"one"});
  // The same rqi from another originator is no replay.
  add_enrolee("kpm-b", 0x22, "Cdev-b");
  auto b = connect("kpm-b", 0x22);
  auto other = create("mef", "Cdev-b", ResourceType::kMefClientReg, registration());
  other.rqi = u.rqi;
  EXPECT_EQ(code(handle(other, *b)), 2001);
  // A RETRIEVE may repeat its rqi (it changes nothing).
  auto get = request(Operation::kRetrieve, "mef", "Cdev-a");
  EXPECT_EQ(code(handle(get, *a)), 2000);
  EXPECT_EQ(code(handle(get, *a)), 2000);

  // The identifier is remembered for 24 hours (the registration above expired after 1 hour).
  auto again = create("mef", "Cdev-a", ResourceType::kMefClientReg, registration(kAdmin, hours(48)));
  again.rqi = u.rqi;
  w.clock->advance(hours(24) - seconds(1));
  auto late = connect("kpm-a", 0x11);
  EXPECT_EQ(code(handle(again, *late)), 4105);
  w.clock->advance(seconds(2));
  auto later = connect("kpm-a", 0x11);
  again.pc = onem2m::wrap(ResourceType::kMefClientReg, registration());  // an et still in the future
  auto accepted = handle(again, *later);
  EXPECT_EQ(code(accepted), 2001) << dump(accepted);
}

TEST_F(MefTest, UnknownTypeWrongOperationAndUnknownPath) {
  add_enrolee("kpm-a", 0x11, "Cdev-a");
  auto a = connect("kpm-a", 0x11);
  auto mafcr = create("mef", "Cdev-a", ResourceType::kMafClientReg, registration());
  EXPECT_EQ(code(handle(mafcr, *a)), 4000) << dump(handle(mafcr, *a));
  auto ty99 = create("mef", "Cdev-a", ResourceType::kMefClientReg, registration());
  ty99.ty = 99;
  auto r = handle(ty99, *a);
  EXPECT_EQ(code(r), 4000) << dump(r);

  r = handle(request(Operation::kDelete, "mef", "Cdev-a"), *a);
  EXPECT_EQ(code(r), 4005) << dump(r);
  r = handle(request(Operation::kUpdate, "mef", "Cdev-a"), *a);
  EXPECT_EQ(code(r), 4005) << dump(r);
  r = handle(request(Operation::kNotify, "mef/mcr-0", "Cdev-a"), *a);
  EXPECT_EQ(code(r), 4005) << dump(r);
  r = handle(request(Operation::kDelete, "mef/mcr-0/cmd", "Cdev-a"), *a);
  EXPECT_EQ(code(r), 4005) << dump(r);
  r = handle(request(Operation::kCreate, "fetchCredentials/x/21", "Cdev-a", std::nullopt, 7002), *a);
  EXPECT_EQ(code(r), 4005) << dump(r);

  for (const char* to : {"maf", "mefx", "mef/a/b", "mef/a/b/c", "fetchCredentials", "other/x", "mef/"}) {
    SCOPED_TRACE(to);
    r = handle(request(Operation::kRetrieve, to, "Cdev-a"), *a);
    EXPECT_EQ(code(r), 4004) << dump(r);
  }
  r = handle(request(Operation::kRetrieve, "mef/mcr-00", "Cdev-a"), *a);
  EXPECT_EQ(code(r), 4004) << dump(r);
}

TEST_F(MefTest, UnknownEnroleeCannotEvenHandshake) {
  auto a = associate(resolver, "kpm-nobody", key_of(0x11));
  EXPECT_FALSE(a->established());
  add_enrolee("kpm-a", 0x11, "Cdev-a");
  auto wrong_key = associate(resolver, "kpm-a", key_of(0x12));
  EXPECT_FALSE(wrong_key->established());
}

}  // namespace
}  // namespace m2msec::services::test

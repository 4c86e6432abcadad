// The store's contract (store.h), one suite run against SQLite and PostgreSQL.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "backends.h"

namespace m2msec::store::test {
namespace {

using std::chrono::seconds;

const Time kT0 = Time(seconds(1'700'000'000));

SecretBytes key_of(std::uint8_t fill, std::size_t size = 32) {
  SecretBytes key(size);
  for (std::size_t i = 0; i < size; ++i) key.data()[i] = static_cast<std::uint8_t>(fill + i);
  return key;
}

bool same_key(const SecretBytes& a, const SecretBytes& b) { return ct::equal(a.view(), b.view()); }

void expect_conflict(const Result<void>& result) {
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().category(), Category::kPolicy) << result.error().to_string();
  EXPECT_EQ(result.error().rsc(), Rsc::kConflict) << result.error().to_string();
}

Enrolment enrolment(std::string ke_id, std::uint8_t fill, Time created) {
  return Enrolment{std::move(ke_id), key_of(fill), "kpm-1", "CAE01", "MAF-1", created, created + seconds(3600)};
}

Registration registration(Function function, std::string id, std::string client, std::string admin, Time expires) {
  Registration r;
  r.function = function;
  r.id = std::move(id);
  r.client_id = std::move(client);
  r.admin_fqdn = std::move(admin);
  r.labels = {"a", "b c"};
  r.created = kT0;
  r.expires = expires;
  return r;
}

KeyRegistration key_registration(Function function, std::string id, std::uint8_t fill) {
  KeyRegistration k;
  k.function = function;
  k.relative_key_id = std::move(id);
  k.key = key_of(fill);
  k.source_client_id = "CAE-src";
  k.admin_fqdn = "admin.example.com";
  k.labels = {"l1"};
  k.suid = 42;
  k.target_ids = {"CSE-1", "CAE-2"};
  k.created = kT0;
  k.expires = kT0 + seconds(600);
  return k;
}

Command command(std::string client, std::string cmd_id) {
  Command c;
  c.client_id = std::move(client);
  c.cmd_id = std::move(cmd_id);
  c.sequence = 999;  // ignored: the store assigns it
  c.description_json = R"({"cmdt":1})";
  return c;
}

class StoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    m_db = std::make_unique<Database>(GetParam());
    ASSERT_TRUE(m_db->ready()) << "no " << backend_name(GetParam()) << " database for this test";
    store = open();
    ASSERT_NE(store, nullptr);
  }

  std::unique_ptr<Store> open(std::uint8_t kek = 0x4b) {
    auto opened = m_db->open(test_kek(kek));
    EXPECT_TRUE(opened) << opened.error().to_string();
    return opened ? std::move(opened).value() : nullptr;
  }

  Database& db() { return *m_db; }

  std::unique_ptr<Database> m_db;
  std::unique_ptr<Store> store;
};

TEST_P(StoreContract, ReportsItsBackendAndAnswersPing) {
  EXPECT_EQ(store->backend(), backend_name(GetParam()));
  EXPECT_TRUE(store->ping());
}

TEST_P(StoreContract, EnroleeRoundTripsAndItsKpmIdIsUnique) {
  Enrolee e{"kpm-1", key_of(1, 16), "CAE01", "MAF-1", seconds(86400)};
  ASSERT_TRUE(store->add_enrolee(e));
  auto found = store->find_enrolee("kpm-1");
  ASSERT_TRUE(found) << found.error().to_string();
  ASSERT_TRUE(found->has_value());
  const Enrolee& got = **found;
  EXPECT_EQ(got.kpm_id, "kpm-1");
  EXPECT_TRUE(same_key(got.kpm, e.kpm));
  EXPECT_EQ(got.enrolee_id, "CAE01");
  EXPECT_EQ(got.target_id, "MAF-1");
  EXPECT_EQ(got.lifetime, seconds(86400));

  expect_conflict(store->add_enrolee(Enrolee{"kpm-1", key_of(2), "", "", seconds(0)}));
  auto still = store->find_enrolee("kpm-1");
  ASSERT_TRUE(still && still->has_value());
  EXPECT_TRUE(same_key((*still)->kpm, e.kpm));  // the conflicting add changed nothing

  // Empty optional fields round-trip as empty.
  ASSERT_TRUE(store->add_enrolee(Enrolee{"kpm-2", key_of(3), "", "", seconds(0)}));
  auto empty = store->find_enrolee("kpm-2");
  ASSERT_TRUE(empty && empty->has_value());
  EXPECT_EQ((*empty)->enrolee_id, "");
  EXPECT_EQ((*empty)->lifetime, seconds(0));

  auto missing = store->find_enrolee("kpm-3");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST_P(StoreContract, EnrolmentsRoundTripListOldestFirstAndTheirKeIdIsUnique) {
  ASSERT_TRUE(store->add_enrolment(enrolment("ke-b@mef", 2, kT0 + seconds(20))));
  ASSERT_TRUE(store->add_enrolment(enrolment("ke-a@mef", 1, kT0 + seconds(10))));
  ASSERT_TRUE(store->add_enrolment(enrolment("ke-c@mef", 3, kT0 + seconds(30))));
  expect_conflict(store->add_enrolment(enrolment("ke-a@mef", 9, kT0)));

  auto found = store->find_enrolment("ke-b@mef");
  ASSERT_TRUE(found && found->has_value());
  const Enrolment& got = **found;
  EXPECT_EQ(got.ke_id, "ke-b@mef");
  EXPECT_TRUE(same_key(got.ke, key_of(2)));
  EXPECT_EQ(got.kpm_id, "kpm-1");
  EXPECT_EQ(got.enrolee_id, "CAE01");
  EXPECT_EQ(got.target_id, "MAF-1");
  EXPECT_EQ(got.created, kT0 + seconds(20));
  EXPECT_EQ(got.expires, kT0 + seconds(3620));

  auto list = store->list_enrolments();
  ASSERT_TRUE(list) << list.error().to_string();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].ke_id, "ke-a@mef");
  EXPECT_EQ((*list)[1].ke_id, "ke-b@mef");
  EXPECT_EQ((*list)[2].ke_id, "ke-c@mef");
  EXPECT_TRUE(same_key((*list)[0].ke, key_of(1)));  // the conflicting add did not replace the key
  EXPECT_TRUE(same_key((*list)[2].ke, key_of(3)));

  auto missing = store->find_enrolment("ke-z@mef");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST_P(StoreContract, RegistrationRoundTripsWithAnyLabels) {
  Registration r = registration(Function::kMef, "reg-1", "CAE01", "admin.example.com", kT0 + seconds(100));
  r.labels = {"plain", "with, comma", "quote\" and \\ backslash", "", "ünïcødé", "tab\tnewline\n"};
  r.ke_id = "ke-1@mef";
  ASSERT_TRUE(store->add_registration(r, kT0));
  auto found = store->find_registration(Function::kMef, "reg-1");
  ASSERT_TRUE(found && found->has_value());
  const Registration& got = **found;
  EXPECT_EQ(got.function, Function::kMef);
  EXPECT_EQ(got.id, "reg-1");
  EXPECT_EQ(got.client_id, "CAE01");
  EXPECT_EQ(got.admin_fqdn, "admin.example.com");
  EXPECT_EQ(got.labels, r.labels);
  EXPECT_EQ(got.created, kT0);
  EXPECT_EQ(got.expires, kT0 + seconds(100));
  EXPECT_EQ(got.ke_id, "ke-1@mef");
  EXPECT_EQ(got.assigned_key_id, "");

  // MEF and MAF records are separate: the same id under the other function is another record.
  auto other = store->find_registration(Function::kMaf, "reg-1");
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->has_value());
  Registration maf = registration(Function::kMaf, "reg-1", "CAE01", "admin.example.com", kT0 + seconds(100));
  maf.labels = {};
  maf.assigned_key_id = "km-1@maf";
  ASSERT_TRUE(store->add_registration(maf, kT0));
  auto maf_found = store->find_registration(Function::kMaf, "reg-1");
  ASSERT_TRUE(maf_found && maf_found->has_value());
  EXPECT_TRUE((*maf_found)->labels.empty());
  EXPECT_EQ((*maf_found)->assigned_key_id, "km-1@maf");
}

TEST_P(StoreContract, RegistrationConflictsOnItsIdAndOnALiveRegistrationOfTheSameHolder) {
  ASSERT_TRUE(
      store->add_registration(registration(Function::kMef, "reg-1", "CAE01", "a.example", kT0 + seconds(100)), kT0));
  // The id is taken (whatever the holder).
  expect_conflict(
      store->add_registration(registration(Function::kMef, "reg-1", "CAE02", "b.example", kT0 + seconds(100)), kT0));
  // The same client and adminFQDN hold an unexpired registration.
  expect_conflict(store->add_registration(
      registration(Function::kMef, "reg-2", "CAE01", "a.example", kT0 + seconds(100)), kT0 + seconds(99)));
  // Another adminFQDN, another client, or the other function: allowed.
  EXPECT_TRUE(
      store->add_registration(registration(Function::kMef, "reg-3", "CAE01", "b.example", kT0 + seconds(100)), kT0));
  EXPECT_TRUE(
      store->add_registration(registration(Function::kMef, "reg-4", "CAE02", "a.example", kT0 + seconds(100)), kT0));
  EXPECT_TRUE(
      store->add_registration(registration(Function::kMaf, "reg-5", "CAE01", "a.example", kT0 + seconds(100)), kT0));
  auto absent = store->find_registration(Function::kMef, "reg-2");
  ASSERT_TRUE(absent);
  EXPECT_FALSE(absent->has_value());
}

TEST_P(StoreContract, AnExpiredRegistrationIsReplaced) {
  ASSERT_TRUE(
      store->add_registration(registration(Function::kMef, "old", "CAE01", "a.example", kT0 + seconds(100)), kT0));
  // At its expirationTime it no longer holds the place: a new registration replaces it.
  ASSERT_TRUE(store->add_registration(registration(Function::kMef, "new", "CAE01", "a.example", kT0 + seconds(500)),
                                      kT0 + seconds(100)));
  auto old_one = store->find_registration(Function::kMef, "old");
  ASSERT_TRUE(old_one);
  EXPECT_FALSE(old_one->has_value());
  auto new_one = store->find_registration(Function::kMef, "new");
  ASSERT_TRUE(new_one && new_one->has_value());
  EXPECT_EQ((*new_one)->expires, kT0 + seconds(500));
  // The replacement may even reuse the expired registration's id.
  ASSERT_TRUE(store->add_registration(registration(Function::kMef, "new", "CAE01", "a.example", kT0 + seconds(900)),
                                      kT0 + seconds(500)));
  auto reused = store->find_registration(Function::kMef, "new");
  ASSERT_TRUE(reused && reused->has_value());
  EXPECT_EQ((*reused)->expires, kT0 + seconds(900));
}

TEST_P(StoreContract, ARegistrationAndItsEnrolmentAreAddedTogetherOrNotAtAll) {
  const Enrolment first = enrolment("ke-1@mef", 1, kT0);
  ASSERT_TRUE(store->add_registration(registration(Function::kMef, "reg-1", "CAE01", "a.example", kT0 + seconds(100)),
                                      kT0, &first));
  auto e1 = store->find_enrolment("ke-1@mef");
  ASSERT_TRUE(e1 && e1->has_value());
  EXPECT_TRUE(same_key((*e1)->ke, key_of(1)));

  // A conflicting registration adds no enrolment.
  const Enrolment second = enrolment("ke-2@mef", 2, kT0);
  expect_conflict(store->add_registration(
      registration(Function::kMef, "reg-2", "CAE01", "a.example", kT0 + seconds(100)), kT0, &second));
  auto e2 = store->find_enrolment("ke-2@mef");
  ASSERT_TRUE(e2);
  EXPECT_FALSE(e2->has_value());

  // A conflicting enrolment (KeID taken) adds no registration.
  const Enrolment again = enrolment("ke-1@mef", 3, kT0);
  expect_conflict(store->add_registration(
      registration(Function::kMef, "reg-3", "CAE02", "a.example", kT0 + seconds(100)), kT0, &again));
  auto r3 = store->find_registration(Function::kMef, "reg-3");
  ASSERT_TRUE(r3);
  EXPECT_FALSE(r3->has_value());
  auto list = store->list_enrolments();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_TRUE(same_key((*list)[0].ke, key_of(1)));
}

TEST_P(StoreContract, AReplacingRegistrationSupersedesTheLiveOneAndItsEnrolment) {
  const Enrolment first = enrolment("ke-1@mef", 1, kT0);
  Registration a = registration(Function::kMef, "reg-1", "CAE01", "a.example", kT0 + seconds(100));
  a.ke_id = "ke-1@mef";
  ASSERT_TRUE(store->add_registration(a, kT0, &first));
  // A second adminFQDN registered in the same association shares ke-1.
  Registration b = registration(Function::kMef, "reg-2", "CAE01", "b.example", kT0 + seconds(100));
  b.ke_id = "ke-1@mef";
  ASSERT_TRUE(store->add_registration(b, kT0));

  // Re-enrolment for a.example: reg-1 goes; ke-1 stays, since reg-2 still refers to it.
  const Enrolment second = enrolment("ke-2@mef", 2, kT0);
  Registration a2 = registration(Function::kMef, "reg-3", "CAE01", "a.example", kT0 + seconds(100));
  a2.ke_id = "ke-2@mef";
  ASSERT_TRUE(store->add_registration(a2, kT0 + seconds(1), &second, Store::LiveHolder::kReplace));
  EXPECT_FALSE(store->find_registration(Function::kMef, "reg-1").value().has_value());
  EXPECT_TRUE(store->find_registration(Function::kMef, "reg-3").value().has_value());
  EXPECT_TRUE(store->find_enrolment("ke-1@mef").value().has_value());

  // Re-enrolment for b.example: reg-2 goes, and ke-1 with it (nothing refers to it any more).
  const Enrolment third = enrolment("ke-3@mef", 3, kT0);
  Registration b2 = registration(Function::kMef, "reg-4", "CAE01", "b.example", kT0 + seconds(100));
  b2.ke_id = "ke-3@mef";
  ASSERT_TRUE(store->add_registration(b2, kT0 + seconds(2), &third, Store::LiveHolder::kReplace));
  EXPECT_FALSE(store->find_registration(Function::kMef, "reg-2").value().has_value());
  EXPECT_FALSE(store->find_enrolment("ke-1@mef").value().has_value());
  EXPECT_TRUE(store->find_enrolment("ke-2@mef").value().has_value());
  EXPECT_TRUE(store->find_enrolment("ke-3@mef").value().has_value());
  // Another client's registration for the same adminFQDN is untouched.
  ASSERT_TRUE(store->add_registration(registration(Function::kMef, "reg-5", "CAE02", "a.example", kT0 + seconds(100)),
                                      kT0 + seconds(3), nullptr, Store::LiveHolder::kReplace));
  EXPECT_TRUE(store->find_registration(Function::kMef, "reg-3").value().has_value());
}

TEST_P(StoreContract, UpdateRegistrationChangesOnlyWhatItIsGiven) {
  ASSERT_TRUE(
      store->add_registration(registration(Function::kMaf, "reg-1", "CAE01", "a.example", kT0 + seconds(100)), kT0));
  RegistrationChange expiry;
  expiry.expires = kT0 + seconds(200);
  auto updated = store->update_registration(Function::kMaf, "reg-1", expiry);
  ASSERT_TRUE(updated);
  EXPECT_TRUE(*updated);
  auto got = store->find_registration(Function::kMaf, "reg-1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->expires, kT0 + seconds(200));
  EXPECT_EQ((*got)->labels, (std::vector<std::string>{"a", "b c"}));

  RegistrationChange others;
  others.labels = std::vector<std::string>{"x"};
  others.assigned_key_id = "km-1@maf";
  ASSERT_TRUE(store->update_registration(Function::kMaf, "reg-1", others).value());
  got = store->find_registration(Function::kMaf, "reg-1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->expires, kT0 + seconds(200));
  EXPECT_EQ((*got)->labels, std::vector<std::string>{"x"});
  EXPECT_EQ((*got)->assigned_key_id, "km-1@maf");
  EXPECT_EQ((*got)->client_id, "CAE01");

  // An empty change tells whether the record exists.
  EXPECT_TRUE(store->update_registration(Function::kMaf, "reg-1", RegistrationChange{}).value());
  EXPECT_FALSE(store->update_registration(Function::kMaf, "nope", RegistrationChange{}).value());
  EXPECT_FALSE(store->update_registration(Function::kMaf, "nope", expiry).value());
  EXPECT_FALSE(store->update_registration(Function::kMef, "reg-1", expiry).value());
}

TEST_P(StoreContract, DeleteRegistrationFreesTheHoldersPlace) {
  ASSERT_TRUE(
      store->add_registration(registration(Function::kMef, "reg-1", "CAE01", "a.example", kT0 + seconds(100)), kT0));
  EXPECT_FALSE(store->delete_registration(Function::kMaf, "reg-1").value());
  EXPECT_TRUE(store->delete_registration(Function::kMef, "reg-1").value());
  EXPECT_FALSE(store->delete_registration(Function::kMef, "reg-1").value());
  auto gone = store->find_registration(Function::kMef, "reg-1");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
  EXPECT_TRUE(
      store->add_registration(registration(Function::kMef, "reg-2", "CAE01", "a.example", kT0 + seconds(100)), kT0));
}

TEST_P(StoreContract, MasterCredentialIsInsertedOrReplaced) {
  ASSERT_TRUE(store->put_master_credential(MasterCredential{"km-1@maf", key_of(1), "CAE01", kT0 + seconds(10)}));
  auto got = store->find_master_credential("km-1@maf");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_TRUE(same_key((*got)->km, key_of(1)));
  EXPECT_EQ((*got)->client_id, "CAE01");
  EXPECT_EQ((*got)->expires, kT0 + seconds(10));

  ASSERT_TRUE(store->put_master_credential(MasterCredential{"km-1@maf", key_of(7, 48), "CAE02", kT0 + seconds(20)}));
  got = store->find_master_credential("km-1@maf");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_TRUE(same_key((*got)->km, key_of(7, 48)));
  EXPECT_EQ((*got)->client_id, "CAE02");
  EXPECT_EQ((*got)->expires, kT0 + seconds(20));

  auto missing = store->find_master_credential("km-2@maf");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST_P(StoreContract, KeyRegistrationsRoundTripConflictUpdateAndDelete) {
  ASSERT_TRUE(store->add_key_registration(key_registration(Function::kMaf, "rel-1", 1)));
  ASSERT_TRUE(store->add_key_registration(key_registration(Function::kMef, "rel-1", 2)));  // the other function
  expect_conflict(store->add_key_registration(key_registration(Function::kMaf, "rel-1", 3)));

  auto got = store->find_key_registration(Function::kMaf, "rel-1");
  ASSERT_TRUE(got && got->has_value());
  const KeyRegistration& k = **got;
  EXPECT_EQ(k.function, Function::kMaf);
  EXPECT_EQ(k.relative_key_id, "rel-1");
  EXPECT_TRUE(same_key(k.key, key_of(1)));
  EXPECT_EQ(k.source_client_id, "CAE-src");
  EXPECT_EQ(k.admin_fqdn, "admin.example.com");
  EXPECT_EQ(k.labels, std::vector<std::string>{"l1"});
  EXPECT_EQ(k.suid, 42u);
  EXPECT_EQ(k.target_ids, (std::vector<std::string>{"CSE-1", "CAE-2"}));
  EXPECT_EQ(k.created, kT0);
  EXPECT_EQ(k.expires, kT0 + seconds(600));
  auto mef = store->find_key_registration(Function::kMef, "rel-1");
  ASSERT_TRUE(mef && mef->has_value());
  EXPECT_TRUE(same_key((*mef)->key, key_of(2)));

  KeyRegistrationChange change;
  change.target_ids = std::vector<std::string>{};
  change.expires = kT0 + seconds(1200);
  EXPECT_TRUE(store->update_key_registration(Function::kMaf, "rel-1", change).value());
  EXPECT_FALSE(store->update_key_registration(Function::kMaf, "rel-2", change).value());
  got = store->find_key_registration(Function::kMaf, "rel-1");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_TRUE((*got)->target_ids.empty());
  EXPECT_EQ((*got)->expires, kT0 + seconds(1200));
  EXPECT_EQ((*got)->labels, std::vector<std::string>{"l1"});
  KeyRegistrationChange labels;
  labels.labels = std::vector<std::string>{"m", "n"};
  EXPECT_TRUE(store->update_key_registration(Function::kMaf, "rel-1", labels).value());
  EXPECT_EQ(store->find_key_registration(Function::kMaf, "rel-1").value()->labels,
            (std::vector<std::string>{"m", "n"}));
  EXPECT_TRUE(store->update_key_registration(Function::kMaf, "rel-1", KeyRegistrationChange{}).value());
  EXPECT_FALSE(store->update_key_registration(Function::kMaf, "rel-2", KeyRegistrationChange{}).value());

  EXPECT_TRUE(store->delete_key_registration(Function::kMaf, "rel-1").value());
  EXPECT_FALSE(store->delete_key_registration(Function::kMaf, "rel-1").value());
  EXPECT_FALSE(store->find_key_registration(Function::kMaf, "rel-1").value().has_value());
  EXPECT_TRUE(store->find_key_registration(Function::kMef, "rel-1").value().has_value());
  // Once deleted, the id is free again.
  EXPECT_TRUE(store->add_key_registration(key_registration(Function::kMaf, "rel-1", 4)));
}

TEST_P(StoreContract, CommandsAreIssuedInTheOrderQueued) {
  ASSERT_TRUE(store->add_command(command("CAE01", "c1")));
  ASSERT_TRUE(store->add_command(command("CAE02", "c1")));  // cmdIDs are per client
  ASSERT_TRUE(store->add_command(command("CAE01", "c2")));
  ASSERT_TRUE(store->add_command(command("CAE01", "c3")));
  expect_conflict(store->add_command(command("CAE01", "c2")));

  auto current = store->current_command("CAE01");
  ASSERT_TRUE(current && current->has_value());
  EXPECT_EQ((*current)->cmd_id, "c1");
  EXPECT_EQ((*current)->client_id, "CAE01");
  EXPECT_EQ((*current)->description_json, R"({"cmdt":1})");
  EXPECT_EQ((*current)->state, Command::State::kQueued);
  EXPECT_FALSE((*current)->status_code.has_value());
  const std::int64_t first_sequence = (*current)->sequence;
  EXPECT_NE(first_sequence, 999);

  // Issued is still current; reported moves the queue on.
  EXPECT_TRUE(store->set_command_state("CAE01", "c1", Command::State::kIssued, std::nullopt).value());
  current = store->current_command("CAE01");
  ASSERT_TRUE(current && current->has_value());
  EXPECT_EQ((*current)->cmd_id, "c1");
  EXPECT_EQ((*current)->state, Command::State::kIssued);
  EXPECT_TRUE(store->set_command_state("CAE01", "c1", Command::State::kReported, 2000u).value());
  current = store->current_command("CAE01");
  ASSERT_TRUE(current && current->has_value());
  EXPECT_EQ((*current)->cmd_id, "c2");
  EXPECT_GT((*current)->sequence, first_sequence);
  const std::int64_t second_sequence = (*current)->sequence;

  // A status is kept when a later state change gives none.
  EXPECT_TRUE(store->set_command_state("CAE01", "c2", Command::State::kIssued, 4000u).value());
  EXPECT_TRUE(store->set_command_state("CAE01", "c2", Command::State::kIssued, std::nullopt).value());
  current = store->current_command("CAE01");
  ASSERT_TRUE(current && current->has_value());
  EXPECT_EQ((*current)->status_code, std::optional<std::uint32_t>(4000u));
  EXPECT_TRUE(store->set_command_state("CAE01", "c2", Command::State::kReported, 0xffffffffu).value());

  current = store->current_command("CAE01");
  ASSERT_TRUE(current && current->has_value());
  EXPECT_EQ((*current)->cmd_id, "c3");
  EXPECT_GT((*current)->sequence, second_sequence);
  EXPECT_TRUE(store->set_command_state("CAE01", "c3", Command::State::kReported, 2000u).value());
  current = store->current_command("CAE01");
  ASSERT_TRUE(current);
  EXPECT_FALSE(current->has_value());

  EXPECT_FALSE(store->set_command_state("CAE01", "c9", Command::State::kReported, 2000u).value());
  EXPECT_FALSE(store->set_command_state("CAE09", "c1", Command::State::kReported, 2000u).value());
  auto other = store->current_command("CAE02");
  ASSERT_TRUE(other && other->has_value());
  EXPECT_EQ((*other)->cmd_id, "c1");

  // Sequences keep increasing, also for a command queued after the others were reported.
  ASSERT_TRUE(store->add_command(command("CAE01", "c4")));
  current = store->current_command("CAE01");
  ASSERT_TRUE(current && current->has_value());
  EXPECT_GT((*current)->sequence, second_sequence);
}

TEST_P(StoreContract, RememberRequestRefusesReplaysUntilExpiry) {
  EXPECT_TRUE(store->remember_request("CAE01", "req-1", kT0 + seconds(60), kT0).value());
  EXPECT_FALSE(store->remember_request("CAE01", "req-1", kT0 + seconds(60), kT0 + seconds(1)).value());
  EXPECT_TRUE(store->remember_request("CAE02", "req-1", kT0 + seconds(60), kT0).value());
  EXPECT_TRUE(store->remember_request("CAE01", "req-2", kT0 + seconds(60), kT0).value());
  EXPECT_FALSE(store->remember_request("CAE01", "req-1", kT0 + seconds(120), kT0 + seconds(59)).value());
  // At its expiry the pair is purged: the request id may be used again.
  EXPECT_TRUE(store->remember_request("CAE01", "req-1", kT0 + seconds(120), kT0 + seconds(60)).value());
  EXPECT_FALSE(store->remember_request("CAE01", "req-1", kT0 + seconds(180), kT0 + seconds(61)).value());
}

TEST_P(StoreContract, AKeySealedForOneRecordDoesNotOpenInAnother) {
  ASSERT_TRUE(store->add_enrolment(enrolment("ke-a@mef", 1, kT0)));
  ASSERT_TRUE(store->add_enrolment(enrolment("ke-b@mef", 2, kT0)));
  ASSERT_TRUE(
      db().raw("UPDATE enrolments SET sealed_ke = (SELECT sealed_ke FROM enrolments WHERE ke_id = 'ke-a@mef')"
               " WHERE ke_id = 'ke-b@mef'"));
  auto moved = store->find_enrolment("ke-b@mef");
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().category(), Category::kCrypto);
  auto list = store->list_enrolments();  // a record that does not open is never returned
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().category(), Category::kCrypto);
  auto intact = store->find_enrolment("ke-a@mef");
  ASSERT_TRUE(intact && intact->has_value());
  EXPECT_TRUE(same_key((*intact)->ke, key_of(1)));

  // Same relative key ID, other function: the binding differs ("mef-key:" against "maf-key:").
  ASSERT_TRUE(store->add_key_registration(key_registration(Function::kMef, "rel-1", 1)));
  ASSERT_TRUE(store->add_key_registration(key_registration(Function::kMaf, "rel-1", 2)));
  ASSERT_TRUE(
      db().raw("UPDATE key_registrations SET sealed_key = (SELECT sealed_key FROM key_registrations WHERE"
               " fn = 1 AND relative_key_id = 'rel-1') WHERE fn = 2 AND relative_key_id = 'rel-1'"));
  auto crossed = store->find_key_registration(Function::kMaf, "rel-1");
  ASSERT_FALSE(crossed);
  EXPECT_EQ(crossed.error().category(), Category::kCrypto);

  // A key moved between kinds: an enrolment's Ke as a KmID's Km under the same identifier.
  ASSERT_TRUE(store->put_master_credential(MasterCredential{"ke-a@mef", key_of(5), "CAE01", kT0}));
  ASSERT_TRUE(
      db().raw("UPDATE master_credentials SET sealed_km = (SELECT sealed_ke FROM enrolments WHERE"
               " ke_id = 'ke-a@mef') WHERE id = 'ke-a@mef'"));
  auto kind = store->find_master_credential("ke-a@mef");
  ASSERT_FALSE(kind);
  EXPECT_EQ(kind.error().category(), Category::kCrypto);

  // A truncated sealed key.
  ASSERT_TRUE(store->add_enrolee(Enrolee{"kpm-1", key_of(1), "", "", seconds(0)}));
  ASSERT_TRUE(db().raw("UPDATE enrolees SET sealed_kpm = substr(sealed_kpm, 1, 40) WHERE kpm_id = 'kpm-1'"));
  auto altered = store->find_enrolee("kpm-1");
  ASSERT_FALSE(altered);
  EXPECT_EQ(altered.error().category(), Category::kCrypto);
}

TEST_P(StoreContract, AnotherKekIsRefused) {
  ASSERT_TRUE(store->add_enrolee(Enrolee{"kpm-1", key_of(1), "", "", seconds(0)}));
  store.reset();
  auto wrong = db().open(test_kek(0x99));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().category(), Category::kCrypto);

  // Even without the check value, a record sealed with another KEK does not open.
  ASSERT_TRUE(db().raw("DELETE FROM kek_check"));
  auto opened = db().open(test_kek(0x99));
  ASSERT_TRUE(opened) << opened.error().to_string();
  auto found = (*opened)->find_enrolee("kpm-1");
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().category(), Category::kCrypto);
}

TEST_P(StoreContract, CseResourcesAreReplacedDeletedAsASetAndSurviveReopening) {
  ASSERT_TRUE(store->put_resource(CseResource{"cb", "", 5, R"({"rn":"cse-in"})"}));
  ASSERT_TRUE(store->put_resource(CseResource{"ae1", "cb", 2, R"({"rn":"ae1"})"}));
  ASSERT_TRUE(store->put_resource(CseResource{"cnt1", "ae1", 3, R"({"rn":"cnt1"})"}));
  ASSERT_TRUE(store->put_resource(CseResource{"cin1", "cnt1", 4, "{}"}));
  // Replacing by ri changes every column.
  ASSERT_TRUE(store->put_resource(CseResource{"cnt1", "cb", 3, R"({"rn":"moved"})"}));
  const std::vector<std::string> subtree{"ae1", "cin1", "no-such-ri"};
  ASSERT_TRUE(store->delete_resources(subtree));
  store.reset();
  store = open();
  ASSERT_NE(store, nullptr);
  auto loaded = store->load_resources();
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[0].ri, "cb");
  EXPECT_EQ((*loaded)[0].pi, "");
  EXPECT_EQ((*loaded)[0].ty, 5u);
  EXPECT_EQ((*loaded)[1].ri, "cnt1");
  EXPECT_EQ((*loaded)[1].pi, "cb");
  EXPECT_EQ((*loaded)[1].ty, 3u);
  EXPECT_EQ((*loaded)[1].body, R"({"rn":"moved"})");
}

TEST_P(StoreContract, IbcIdentitiesAreUniqueAndSurviveReopening) {
  const IbcIdentityRecord issued{"mef.example.com@43414530@20271231T000000", "CAE0", kT0 + seconds(100), kT0 + seconds(900)};
  ASSERT_TRUE(store->add_ibc_identity(issued));
  // The same ID_2 again, even for another client, is a conflict and changes nothing.
  auto again = store->add_ibc_identity(IbcIdentityRecord{issued.id2, "CAE9", kT0 + seconds(200), kT0 + seconds(999)});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().rsc(), Rsc::kConflict);
  store.reset();
  store = open();
  ASSERT_NE(store, nullptr);
  auto found = store->find_ibc_identity(issued.id2);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->client_id, "CAE0");
  EXPECT_EQ((*found)->created, kT0 + seconds(100));
  EXPECT_EQ((*found)->expires, kT0 + seconds(900));
  auto missing = store->find_ibc_identity("mef.example.com@43414531@20271231T000000");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST_P(StoreContract, ReopeningKeepsTheDataAndTheSchema) {
  ASSERT_TRUE(store->add_enrolee(Enrolee{"kpm-1", key_of(1), "CAE01", "", seconds(5)}));
  store.reset();
  for (int i = 0; i < 3; ++i) {
    store = open();
    ASSERT_NE(store, nullptr);
    auto found = store->find_enrolee("kpm-1");
    ASSERT_TRUE(found && found->has_value());
    EXPECT_TRUE(same_key((*found)->kpm, key_of(1)));
    store.reset();
  }
  EXPECT_GE(schema_version(), 1);
  // The version row says the current version: raising it past this build's is refused at open.
  ASSERT_TRUE(db().raw("UPDATE schema_version SET version = " + std::to_string(schema_version()) +
                       " WHERE version = " + std::to_string(schema_version())));
  ASSERT_NE(open(), nullptr);
  ASSERT_TRUE(db().raw("UPDATE schema_version SET version = " + std::to_string(schema_version() + 1)));
  auto newer = db().open(test_kek());
  ASSERT_FALSE(newer);
  EXPECT_EQ(newer.error().category(), Category::kStorage);
  EXPECT_NE(newer.error().detail().find("newer"), std::string::npos) << newer.error().detail();
}

// Replicas starting together on a fresh database: every one opens, the schema is made once.
TEST_P(StoreContract, ConcurrentOpensOfAFreshDatabaseMigrateOnce) {
  Database fresh(GetParam());
  ASSERT_TRUE(fresh.ready());
  constexpr int kReplicas = 4;
  std::vector<std::unique_ptr<Store>> stores(kReplicas);
  std::vector<std::string> errors(kReplicas);
  std::vector<std::thread> threads;
  for (int i = 0; i < kReplicas; ++i) {
    threads.emplace_back([&, i] {
      auto opened = fresh.open(test_kek());
      if (opened) {
        stores[static_cast<std::size_t>(i)] = std::move(opened).value();
      } else {
        errors[static_cast<std::size_t>(i)] = opened.error().to_string();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < kReplicas; ++i) {
    ASSERT_NE(stores[static_cast<std::size_t>(i)], nullptr) << errors[static_cast<std::size_t>(i)];
  }
  ASSERT_TRUE(stores[0]->add_enrolee(Enrolee{"kpm-1", key_of(1), "", "", seconds(0)}));
  EXPECT_TRUE(stores[3]->find_enrolee("kpm-1").value().has_value());
  // Another open finds one version row (two would be refused) and the current version.
  stores.clear();
  auto reopened = fresh.open(test_kek());
  EXPECT_TRUE(reopened) << reopened.error().to_string();
}

TEST_P(StoreContract, TwoStoresOnOneDatabaseSeeEachOthersWrites) {
  std::unique_ptr<Store> other = open();
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(store->add_enrolee(Enrolee{"kpm-1", key_of(1), "", "", seconds(0)}));
  EXPECT_TRUE(other->find_enrolee("kpm-1").value().has_value());
  ASSERT_TRUE(
      other->add_registration(registration(Function::kMef, "reg-1", "CAE01", "a.example", kT0 + seconds(100)), kT0));
  EXPECT_TRUE(store->find_registration(Function::kMef, "reg-1").value().has_value());
  expect_conflict(
      store->add_registration(registration(Function::kMef, "reg-2", "CAE01", "a.example", kT0 + seconds(100)), kT0));
  EXPECT_TRUE(other->remember_request("o", "r", kT0 + seconds(5), kT0).value());
  EXPECT_FALSE(store->remember_request("o", "r", kT0 + seconds(5), kT0).value());
}

TEST_P(StoreContract, ConcurrentWritersFromFourThreads) {
  std::unique_ptr<Store> other = open();
  ASSERT_NE(other, nullptr);
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::atomic<int> failures{0};
  std::atomic<int> winners{0};
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    // Two threads per Store object: one Store shared by threads, and two Stores on one database.
    Store* target = t % 2 == 0 ? store.get() : other.get();
    threads.emplace_back([&, t, target] {
      for (int i = 0; i < kEach; ++i) {
        const std::string id = "rel-" + std::to_string(t) + "-" + std::to_string(i);
        if (!target->add_key_registration(key_registration(Function::kMaf, id, static_cast<std::uint8_t>(t))))
          ++failures;
        if (!target->add_command(command("CAE01", "cmd-" + std::to_string(t) + "-" + std::to_string(i)))) ++failures;
      }
      // Every thread races for one id: exactly one wins.
      Result<void> race = target->add_key_registration(key_registration(Function::kMef, "contested", 9));
      if (race) {
        ++winners;
      } else if (race.error().rsc() == Rsc::kConflict) {
        ++conflicts;
      } else {
        ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(winners.load(), 1);
  EXPECT_EQ(conflicts.load(), kThreads - 1);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEach; ++i) {
      const std::string id = "rel-" + std::to_string(t) + "-" + std::to_string(i);
      auto got = store->find_key_registration(Function::kMaf, id);
      ASSERT_TRUE(got && got->has_value()) << id;
      EXPECT_TRUE(same_key((*got)->key, key_of(static_cast<std::uint8_t>(t))));
    }
  }
  // The commands come out one by one in a strictly increasing sequence, each exactly once.
  std::set<std::string> seen;
  std::int64_t last = 0;
  for (int n = 0; n < kThreads * kEach; ++n) {
    auto current = store->current_command("CAE01");
    ASSERT_TRUE(current && current->has_value());
    EXPECT_GT((*current)->sequence, last);
    last = (*current)->sequence;
    EXPECT_TRUE(seen.insert((*current)->cmd_id).second);
    ASSERT_TRUE(store->set_command_state("CAE01", (*current)->cmd_id, Command::State::kReported, 2000u).value());
  }
  EXPECT_FALSE(store->current_command("CAE01").value().has_value());
}

// A child process writes in a loop and tells the parent, through a pipe, each id whose write returned. It is
// killed with SIGKILL mid-stream; every id it acknowledged must then be in the database.
TEST_P(StoreContract, EveryAcknowledgedWriteSurvivesSigkill) {
  store.reset();  // the child opens its own; no connection crosses fork()
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    auto opened = db().open(test_kek());
    if (!opened) ::_exit(3);
    for (int i = 0;; ++i) {
      const std::string id = "rel-" + std::to_string(i);
      if (!(*opened)->add_key_registration(key_registration(Function::kMef, id, static_cast<std::uint8_t>(i)))) {
        ::_exit(4);
      }
      const std::string line = std::to_string(i) + "\n";
      if (::write(fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) ::_exit(5);
    }
  }
  ::close(fds[1]);
  std::string received;
  char buffer[256];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  // Wait for some acknowledgements, then kill the child while it is writing.
  while (std::count(received.begin(), received.end(), '\n') < 40 && std::chrono::steady_clock::now() < deadline) {
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    received.append(buffer, static_cast<std::size_t>(n));
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child stopped by itself, status " << status;
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;)
    received.append(buffer, static_cast<std::size_t>(n));
  ::close(fds[0]);

  std::vector<int> acknowledged;
  for (std::size_t start = 0, end; (end = received.find('\n', start)) != std::string::npos; start = end + 1) {
    acknowledged.push_back(std::stoi(received.substr(start, end - start)));
  }
  ASSERT_GE(acknowledged.size(), 40u);
  store = open();
  ASSERT_NE(store, nullptr);
  for (const int i : acknowledged) {
    auto got = store->find_key_registration(Function::kMef, "rel-" + std::to_string(i));
    ASSERT_TRUE(got) << got.error().to_string();
    ASSERT_TRUE(got->has_value()) << "acknowledged write " << i << " lost";
    EXPECT_TRUE(same_key((*got)->key, key_of(static_cast<std::uint8_t>(i))));
  }
}

// Cases are named .../0 and .../1 for GoogleTest; ctest shows the printed parameter (.../sqlite, .../postgresql).
INSTANTIATE_TEST_SUITE_P(, StoreContract, ::testing::Values(Backend::kSqlite, Backend::kPostgres));

}  // namespace
}  // namespace m2msec::store::test

// The MAF (TS-0003 8.8.2): Client Registration (KmID assignment for a KeID client), Key Registration with an
// exported or self-generated key, Key Retrieval by listed targets only, Update and De-Registration by the
// source; and the whole remote provisioning chain MEF enrolment -> /fetchCredentials -> MAF handshake.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "m2msec/keys/derive.h"
#include "maf_fixture.h"
#include "mef_fixture.h"

namespace m2msec::services::test {
namespace {

using onem2m::ResourceType;
using std::chrono::hours;
using std::chrono::seconds;

const std::string kKeId = "00112233445566778899AABBCCDDEEFF@" + std::string(kMefFqdn);

// ---- Client Registration ----

TEST_F(MafTest, KeIdClientGetsAnAssignedKmIdHoldingItsKm) {
  auto fixed = std::make_shared<FixedCredentialSource>(kKeId, 0x5a, "Cdev-a", w.now() + hours(48));
  use_source(fixed);
  auto a = connect(kKeId, key_of(0x5a));
  ASSERT_TRUE(a->established());
  EXPECT_EQ(fixed->calls, 1);
  EXPECT_EQ(fixed->last_suid, keys::Suid::kRspfMaf);
  // The association is bound to the enrolee ID the MEF gave.
  EXPECT_EQ(a->server->peer().identity, "Cdev-a");

  auto r = do_register(*a, "Cdev-a", kAdmin, hours(72));
  ASSERT_EQ(code(r), 2001) << dump(r);
  EXPECT_TRUE(text(r, kMafRoot, "ri").starts_with("acr-")) << dump(r);
  EXPECT_EQ(number(r, kMafRoot, "ty"), 7006);
  EXPECT_EQ(text(r, kMafRoot, "pi"), "maf");
  EXPECT_EQ(text(r, kMafRoot, "mcid"), "Cdev-a");
  // Nothing outlives the credential the client authenticated with (48 h).
  EXPECT_EQ(text(r, kMafRoot, "et"), w.at(hours(48)));
  const std::string asid = text(r, kMafRoot, "asid");
  auto km_id = keys::KmId::parse(asid);
  ASSERT_TRUE(km_id) << asid;
  EXPECT_EQ(km_id->maf().text(), kMafFqdn);

  // The assigned KmID holds the same Km, for the same client, until the same expiry.
  auto canonical = tls::canonical_psk_identity(tls::PskIdentityKind::kKmId, asid);
  ASSERT_TRUE(canonical);
  auto stored = w.store->find_master_credential(*canonical);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ(bytes_of((*stored)->km.view()), bytes_of(key_of(0x5a).view()));
  EXPECT_EQ((*stored)->client_id, "Cdev-a");
  EXPECT_EQ((*stored)->expires, w.now() + hours(48));
  auto reg = w.store->find_registration(store::Function::kMaf, text(r, kMafRoot, "ri"));
  ASSERT_TRUE(reg && *reg);
  EXPECT_EQ((*reg)->assigned_key_id, asid);

  // From now on the client authenticates with the KmID (in any case of its relative part), not asking the MEF.
  std::string upper = asid;
  std::transform(upper.begin(), upper.begin() + static_cast<std::ptrdiff_t>(upper.find('@')), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (const std::string& identity : {asid, upper}) {
    SCOPED_TRACE(identity);
    auto again = connect(identity, key_of(0x5a));
    ASSERT_TRUE(again->established());
    EXPECT_EQ(again->server->peer().identity, "Cdev-a");
    auto get = handle(request(Operation::kRetrieve, "maf", "Cdev-a"), *again);
    EXPECT_EQ(code(get), 2000) << dump(get);
    EXPECT_EQ(text(get, "m2m:mafb", "fqdn"), kMafFqdn);
  }
  EXPECT_EQ(fixed->calls, 1);
}

TEST_F(MafTest, KmIdClientRegistersWithoutAssignment) {
  add_km_client("km-src", 0x21, "Csrc", hours(10));
  auto a = connect_km("km-src", 0x21);
  ASSERT_TRUE(a->established());
  // From may be the Client ID or the Credential-ID "11-<KmID>".
  auto r = do_register(*a, "11-km-src@maf.example.com", kAdmin, hours(5));
  ASSERT_EQ(code(r), 2001) << dump(r);
  EXPECT_EQ(member(r, kMafRoot, "asid"), nullptr) << dump(r);
  EXPECT_EQ(text(r, kMafRoot, "mcid"), "Csrc");
  EXPECT_EQ(text(r, kMafRoot, "et"), w.at(hours(5)));
  auto reg = w.store->find_registration(store::Function::kMaf, text(r, kMafRoot, "ri"));
  ASSERT_TRUE(reg && *reg);
  EXPECT_TRUE((*reg)->assigned_key_id.empty());

  // One registration per adminFQDN; another admin is fine.
  auto dup = do_register(*a, "Csrc", kAdmin, hours(5));
  EXPECT_EQ(code(dup), 4105) << dump(dup);
  auto other = do_register(*a, "Csrc", "other-admin.example.org", hours(5));
  EXPECT_EQ(code(other), 2001) << dump(other);
}

TEST_F(MafTest, RegistrationUpdateRetrieveDelete) {
  add_km_client("km-src", 0x21, "Csrc");
  add_km_client("km-tgt", 0x22, "Ctgt");
  const json::Object cfg{{"saef", "on"}};
  make_service(cfg);
  auto a = connect_km("km-src", 0x21);
  auto b = connect_km("km-tgt", 0x22);
  auto r = do_register(*a, "Csrc");
  ASSERT_EQ(code(r), 2001) << dump(r);
  const std::string path = "maf/" + text(r, kMafRoot, "ri");
  auto got = handle(request(Operation::kRetrieve, path, "Csrc"), *a);
  ASSERT_EQ(code(got), 2000) << dump(got);
  ASSERT_NE(member(got, kMafRoot, "cfg"), nullptr);
  EXPECT_EQ(*member(got, kMafRoot, "cfg"), json::Value(cfg));
  EXPECT_EQ(code(handle(request(Operation::kRetrieve, path, "Ctgt"), *b)), 4004);
  auto u = handle(update(path, "Csrc", ResourceType::kMafClientReg, json::Object{{"lbl", strings({"a"})}}), *a);
  EXPECT_EQ(code(u), 2004) << dump(u);
  EXPECT_EQ(code(handle(request(Operation::kDelete, path, "Ctgt"), *b)), 4004);
  EXPECT_EQ(code(handle(request(Operation::kDelete, path, "Csrc"), *a)), 2002);
  EXPECT_EQ(code(handle(request(Operation::kRetrieve, path, "Csrc"), *a)), 4004);

  make_service();
  auto r2 = do_register(*a, "Csrc", "other.example.org");
  ASSERT_EQ(code(r2), 2001) << dump(r2);
  auto none = handle(request(Operation::kRetrieve, "maf/" + text(r2, kMafRoot, "ri"), "Csrc"), *a);
  EXPECT_EQ(code(none), 4004) << dump(none);
}

TEST_F(MafTest, RequestChecks) {
  add_km_client("km-src", 0x21, "Csrc");
  auto a = connect_km("km-src", 0x21);
  auto plain = maf->handle(create("maf", "Csrc", ResourceType::kMafClientReg, registration()), nullptr);
  EXPECT_EQ(code(plain), 4107) << dump(plain);
  auto impostor = do_register(*a, "Ctgt");
  EXPECT_EQ(code(impostor), 4106) << dump(impostor);
  auto mef_type = handle(create("maf", "Csrc", ResourceType::kMefClientReg, registration()), *a);
  EXPECT_EQ(code(mef_type), 4000) << dump(mef_type);
  EXPECT_EQ(code(handle(request(Operation::kDelete, "maf", "Csrc"), *a)), 4005);
  for (const char* to : {"mef", "maf/", "maf/a/b", "mafx/a"}) {
    SCOPED_TRACE(to);
    auto r = handle(request(Operation::kRetrieve, to, "Csrc"), *a);
    EXPECT_EQ(code(r), 4004) << dump(r);
  }
  auto create_once = create("maf", "Csrc", ResourceType::kMafClientReg, registration());
  EXPECT_EQ(code(handle(create_once, *a)), 2001);
  EXPECT_EQ(code(handle(create_once, *a)), 4105);
}

// ---- Key Registration and Retrieval ----

class MafKeyTest : public MafTest {
 protected:
  std::unique_ptr<Association> src, tgt, other;
  void SetUp() override {
    MafTest::SetUp();
    add_km_client("km-src", 0x21, "Csrc");
    add_km_client("km-tgt", 0x22, "Ctgt");
    add_km_client("km-x", 0x23, "Cx");
    src = connect_km("km-src", 0x21);
    tgt = connect_km("km-tgt", 0x22);
    other = connect_km("km-x", 0x23);
    ASSERT_TRUE(src->established() && tgt->established() && other->established());
  }
  onem2m::Response retrieve(const Association& a, const std::string& from, const std::string& id) const {
    return handle(request(Operation::kRetrieve, "maf/" + id, from), a);
  }
};

TEST_F(MafKeyTest, ExportedKeyIsTheClientsKcUnderHexKcId) {
  auto r = register_key(*src, "Csrc", key_registration(32, strings({"Ctgt"})));
  ASSERT_EQ(code(r), 2001) << dump(r);
  SecretBytes exported = src->client_export(keys::ExportLabel::kConnection);
  auto split = keys::split_connection_export(exported.view());
  ASSERT_TRUE(split);
  const std::string rlki = hex_encode(split->id.view(), HexCase::kUpper);
  EXPECT_EQ(text(r, kMafKeyRoot, "rlki"), rlki);
  EXPECT_EQ(text(r, kMafKeyRoot, "ri"), rlki);
  EXPECT_EQ(number(r, kMafKeyRoot, "ty"), 7007);
  EXPECT_EQ(text(r, kMafKeyRoot, "scid"), "Csrc");
  EXPECT_EQ(number(r, kMafKeyRoot, "suid"), 32);
  EXPECT_EQ(text(r, kMafKeyRoot, "et"), w.at(hours(24)));
  EXPECT_EQ(member(r, kMafKeyRoot, "kval"), nullptr);  // the source has the key already
  auto stored = w.store->find_key_registration(store::Function::kMaf, rlki);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ(bytes_of((*stored)->key.view()), bytes_of(split->key.view()));
  EXPECT_EQ((*stored)->target_ids, std::vector<std::string>{"Ctgt"});

  // The listed target retrieves it: the same Kc.
  auto got = retrieve(*tgt, "Ctgt", rlki);
  ASSERT_EQ(code(got), 2000) << dump(got);
  EXPECT_EQ(text(got, kMafKeyRoot, "kval"), base64_encode(split->key.view()));
  EXPECT_EQ(text(got, kMafKeyRoot, "scid"), "Csrc");
  // The Key Identifier a SAEF client would present is hexBinary(KcID)@MAF-FQDN.
  EXPECT_EQ(keys::KeyIdentifier::from_kc_id(split->id, fqdn(kMafFqdn)).to_string(), rlki + "@" + std::string(kMafFqdn));
}

TEST_F(MafKeyTest, SelfGeneratedKeyValueSizes) {
  for (std::size_t size : {16u, 32u, 64u}) {
    SCOPED_TRACE(size);
    json::Object o = key_registration(32, strings({"Ctgt"}));
    const SecretBytes value = key_of(static_cast<std::uint8_t>(size), size);
    o.set("kval", base64_encode(value.view()));
    auto r = register_key(*src, "Csrc", o);
    ASSERT_EQ(code(r), 2001) << dump(r);
    const std::string rlki = text(r, kMafKeyRoot, "rlki");
    EXPECT_EQ(rlki.size(), 32u) << rlki;
    EXPECT_EQ(rlki.find_first_not_of("0123456789abcdefABCDEF"), std::string::npos) << rlki;
    auto got = retrieve(*tgt, "Ctgt", rlki);
    ASSERT_EQ(code(got), 2000) << dump(got);
    EXPECT_EQ(text(got, kMafKeyRoot, "kval"), base64_encode(value.view()));
  }
  for (std::size_t size : {8u, 15u, 65u}) {
    SCOPED_TRACE(size);
    json::Object o = key_registration(32, strings({"Ctgt"}));
    o.set("kval", base64_encode(key_of(0x77, size).view()));
    auto r = register_key(*src, "Csrc", o);
    EXPECT_EQ(code(r), 4000) << dump(r);
  }
  json::Object bad = key_registration(32, strings({"Ctgt"}));
  bad.set("kval", "not base64!");
  EXPECT_EQ(code(register_key(*src, "Csrc", bad)), 4000);
}

TEST_F(MafKeyTest, SuidsAndTargets) {
  // RSPF SUIDs are the MEF's, not the MAF's.
  for (unsigned suid : {22u, 21u, 12u, 40u, 31u}) {
    SCOPED_TRACE(suid);
    auto r = register_key(*src, "Csrc", key_registration(suid, strings({"Ctgt"})));
    EXPECT_EQ(code(r), 4000) << dump(r);
  }
  // SAEF (32) and ESPrim (33) keys have exactly one target; ESData (34, 35) one or more.
  EXPECT_EQ(code(register_key(*src, "Csrc", key_registration(32, strings({"Ctgt", "Cx"})))), 4000);
  EXPECT_EQ(code(register_key(*src, "Csrc", key_registration(33, strings({"Ctgt", "Cx"})))), 4000);
  EXPECT_EQ(code(register_key(*src, "Csrc", key_registration(32, json::Array{}))), 4000);  // no targets
  auto esdata = register_key(*src, "Csrc", key_registration(34, strings({"Ctgt", "Cx"})));
  ASSERT_EQ(code(esdata), 2001) << dump(esdata);
  // One association exports one Kc/KcID: a second exported key from it would reuse the RelativeKeyID.
  auto again = register_key(*src, "Csrc", key_registration(34, strings({"Ctgt"})));
  EXPECT_EQ(code(again), 4105) << dump(again);
  json::Object sig = key_registration(35, strings({"Ctgt", "Cx"}));
  sig.set("kval", base64_encode(key_of(0x35).view()));
  EXPECT_EQ(code(register_key(*src, "Csrc", sig)), 2001);
  const std::string id = text(esdata, kMafKeyRoot, "rlki");
  EXPECT_EQ(code(retrieve(*tgt, "Ctgt", id)), 2000);
  EXPECT_EQ(code(retrieve(*other, "Cx", id)), 2000);
  // A key registration names this MAF.
  json::Object elsewhere = key_registration(34, strings({"Ctgt"}));
  elsewhere.set("fqdn", "maf.example.net");
  EXPECT_EQ(code(register_key(*tgt, "Ctgt", elsewhere)), 4000);
}

TEST_F(MafKeyTest, RetrievalRefusalsAreIndistinguishable) {
  json::Object o = key_registration(32, strings({"Ctgt"}), hours(1));
  o.set("kval", base64_encode(key_of(0x99).view()));
  auto r = register_key(*src, "Csrc", o);
  ASSERT_EQ(code(r), 2001) << dump(r);
  const std::string id = text(r, kMafKeyRoot, "rlki");
  auto by_other = retrieve(*other, "Cx", id);
  EXPECT_EQ(code(by_other), 4103) << dump(by_other);
  auto by_source = retrieve(*src, "Csrc", id);  // the source is not a listed target
  EXPECT_EQ(code(by_source), 4103) << dump(by_source);
  auto unknown = retrieve(*tgt, "Ctgt", "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(code(unknown), 4103) << dump(unknown);
  w.clock->advance(hours(1) - seconds(1));
  EXPECT_EQ(code(retrieve(*tgt, "Ctgt", id)), 2000);
  w.clock->advance(seconds(1));
  auto expired = retrieve(*tgt, "Ctgt", id);
  EXPECT_EQ(code(expired), 4103) << dump(expired);
  for (const auto* x : {&by_other, &by_source, &unknown, &expired}) {
    EXPECT_EQ(member(*x, kMafKeyRoot, "kval"), nullptr);
    EXPECT_FALSE(dbg(*x).empty());
    EXPECT_EQ(dbg(*x), dbg(by_other));
  }
}

TEST_F(MafKeyTest, KeyExpiryIsCappedByTheSourceCredential) {
  add_km_client("km-short", 0x24, "Cshort", hours(2));
  auto a = connect_km("km-short", 0x24);
  auto r = register_key(*a, "Cshort", key_registration(32, strings({"Ctgt"}), hours(24)));
  ASSERT_EQ(code(r), 2001) << dump(r);
  EXPECT_EQ(text(r, kMafKeyRoot, "et"), w.at(hours(2)));
}

TEST_F(MafKeyTest, UpdateAndDeleteOnlyByTheSource) {
  json::Object o = key_registration(32, strings({"Ctgt"}));
  o.set("kval", base64_encode(key_of(0x98).view()));
  auto r = register_key(*src, "Csrc", o);
  ASSERT_EQ(code(r), 2001) << dump(r);
  const std::string id = text(r, kMafKeyRoot, "rlki");
  const std::string path = "maf/" + id;

  auto foreign =
      handle(update(path, "Ctgt", ResourceType::kMafKeyReg, json::Object{{"tgis", strings({"Ctgt"})}}), *tgt);
  EXPECT_EQ(code(foreign), 4103) << dump(foreign);
  EXPECT_EQ(dbg(foreign), dbg(retrieve(*other, "Cx", id)));  // the same refusal as any other
  auto two =
      handle(update(path, "Csrc", ResourceType::kMafKeyReg, json::Object{{"tgis", strings({"Cx", "Ctgt"})}}), *src);
  EXPECT_EQ(code(two), 4000) << dump(two);
  auto empty = handle(update(path, "Csrc", ResourceType::kMafKeyReg, json::Object{}), *src);
  EXPECT_EQ(code(empty), 4000) << dump(empty);
  auto suid = handle(update(path, "Csrc", ResourceType::kMafKeyReg, json::Object{{"suid", 34}}), *src);
  EXPECT_EQ(code(suid), 4000) << dump(suid);

  auto u = handle(update(path, "Csrc", ResourceType::kMafKeyReg,
                         json::Object{{"tgis", strings({"Cx"})}, {"lbl", strings({"moved"})}, {"et", w.at(hours(3))}}),
                  *src);
  ASSERT_EQ(code(u), 2004) << dump(u);
  ASSERT_NE(member(u, kMafKeyRoot, "tgis"), nullptr);
  EXPECT_EQ(*member(u, kMafKeyRoot, "tgis"), json::Value(strings({"Cx"})));
  EXPECT_EQ(text(u, kMafKeyRoot, "et"), w.at(hours(3)));
  auto stored = w.store->find_key_registration(store::Function::kMaf, id);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->target_ids, std::vector<std::string>{"Cx"});
  EXPECT_EQ((*stored)->labels, std::vector<std::string>{"moved"});
  EXPECT_EQ((*stored)->expires, w.now() + hours(3));
  EXPECT_EQ(code(retrieve(*tgt, "Ctgt", id)), 4103);
  auto now_cx = retrieve(*other, "Cx", id);
  ASSERT_EQ(code(now_cx), 2000) << dump(now_cx);
  EXPECT_EQ(text(now_cx, kMafKeyRoot, "kval"), base64_encode(key_of(0x98).view()));

  EXPECT_EQ(code(handle(request(Operation::kDelete, path, "Cx"), *other)), 4103);
  EXPECT_EQ(code(retrieve(*other, "Cx", id)), 2000);
  auto d = handle(request(Operation::kDelete, path, "Csrc"), *src);
  EXPECT_EQ(code(d), 2002) << dump(d);
  auto gone = retrieve(*other, "Cx", id);
  EXPECT_EQ(code(gone), 4103) << dump(gone);
  EXPECT_EQ(code(handle(request(Operation::kDelete, path, "Csrc"), *src)), 4103);
}

// ---- The MEF registers RSPF keys (22-25), not MAF ones ----

TEST_F(MefTest, MefKeyRegistrationTakesRspfSuids) {
  add_enrolee("kpm-a", 0x11, "Cdev-a");
  add_enrolee("kpm-b", 0x22, "Cdev-b");
  auto a = connect("kpm-a", 0x11);
  auto b = connect("kpm-b", 0x22);
  auto key = [&](unsigned suid) {
    return json::Object{{"fqdn", std::string(kMefFqdn)}, {"et", w.at(hours(1))}, {"adfq", std::string(kAdmin)},
                        {"suid", static_cast<std::int64_t>(suid)}, {"tgis", strings({"Cdev-b"})},
                        {"kval", base64_encode(key_of(static_cast<std::uint8_t>(suid)).view())}};
  };
  EXPECT_EQ(code(handle(create("mef", "Cdev-a", ResourceType::kMefKeyReg, key(32)), *a)), 4000);
  EXPECT_EQ(code(handle(create("mef", "Cdev-a", ResourceType::kMefKeyReg, key(21)), *a)), 4000);
  auto r = handle(create("mef", "Cdev-a", ResourceType::kMefKeyReg, key(22)), *a);
  ASSERT_EQ(code(r), 2001) << dump(r);
  const std::string id = text(r, kMefKeyRoot, "rlki");
  auto got = handle(request(Operation::kRetrieve, "mef/" + id, "Cdev-b"), *b);
  ASSERT_EQ(code(got), 2000) << dump(got);
  EXPECT_EQ(text(got, kMefKeyRoot, "kval"), base64_encode(key_of(22).view()));
  EXPECT_EQ(code(handle(request(Operation::kRetrieve, "mef/" + id, "Cdev-a"), *a)), 4103);
  // The MAF's store records are separate: the same id is no MAF key.
  auto maf_side = w.store->find_key_registration(store::Function::kMaf, id);
  ASSERT_TRUE(maf_side);
  EXPECT_FALSE(*maf_side);
}

// ---- Remote provisioning end to end: MEF enrolment, /fetchCredentials (in process), MAF ----

TEST_F(MefTest, EnroleeReachesTheMafWithItsKeIdAndKm) {
  add_enrolee("kpm-a", 0x11, "Cdev-a", std::string(kMafFqdn), hours(48));
  auto a = connect("kpm-a", 0x11);
  auto r = do_register(*a, "Cdev-a");
  ASSERT_EQ(code(r), 2001) << dump(r);
  const ClientEnrolment mine = client_enrolment(*a);
  auto ke = keys::EnrolmentKey::from(ByteView(mine.ke));
  ASSERT_TRUE(ke);
  auto km = keys::derive_km(*ke, kMafFqdn);  // what the enrolee derives itself (10.3.2)
  ASSERT_TRUE(km);

  maf::ServiceOptions o{.fqdn = fqdn(kMafFqdn), .store = w.store, .clock = w.clock};
  auto maf_service = std::make_shared<maf::Service>(std::move(o));
  auto enrolments = std::make_shared<mef::LocalCredentialSource>(mef, std::string(kMafFqdn));
  auto maf_resolver = std::make_shared<maf::CredentialResolver>(w.store, w.clock, enrolments);

  // A wrong Km does not get in.
  auto wrong = associate(maf_resolver, mine.ke_id, key_of(0x01), std::string(kMafFqdn));
  EXPECT_FALSE(wrong->established());

  auto m = associate(maf_resolver, mine.ke_id, SecretBytes::copy_of(km->view()), std::string(kMafFqdn));
  ASSERT_TRUE(m->established());
  EXPECT_EQ(m->server->peer().identity, "Cdev-a");
  auto reg = maf_service->handle(
      create("maf", "Cdev-a", ResourceType::kMafClientReg,
             json::Object{{"fqdn", std::string(kMafFqdn)}, {"et", w.at(hours(24))}, {"adfq", std::string(kAdmin)}}),
      m->server.get());
  ASSERT_EQ(code(reg), 2001) << dump(reg);
  const std::string asid = text(reg, kMafRoot, "asid");
  auto canonical = tls::canonical_psk_identity(tls::PskIdentityKind::kKmId, asid);
  ASSERT_TRUE(canonical) << asid;
  auto stored = w.store->find_master_credential(*canonical);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ(bytes_of((*stored)->km.view()), bytes_of(km->view()));
  EXPECT_EQ((*stored)->expires, w.now() + hours(48));

  auto with_km_id = associate(maf_resolver, asid, SecretBytes::copy_of(km->view()), std::string(kMafFqdn));
  ASSERT_TRUE(with_km_id->established());
  EXPECT_EQ(with_km_id->server->peer().identity, "Cdev-a");

  // Once the enrolment has expired, neither the KeID nor the assigned KmID gets in.
  w.clock->advance(hours(48));
  EXPECT_FALSE(associate(maf_resolver, asid, SecretBytes::copy_of(km->view()), std::string(kMafFqdn))->established());
  EXPECT_FALSE(
      associate(maf_resolver, mine.ke_id, SecretBytes::copy_of(km->view()), std::string(kMafFqdn))->established());
}

}  // namespace
}  // namespace m2msec::services::test

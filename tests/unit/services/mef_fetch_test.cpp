// /fetchCredentials/<KeID>/<SUID> (TS-0003 8.3.2.1 step 6, 10.3.2, 10.3.7): the key an Enrolment Target
// obtains for an enrolee, compared with what the enrolee derives itself from the Ke of ITS end of the
// association (keys::derive_km / derive_usage_constrained_key, checked against Python's hmac in keys_test).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "m2msec/keys/derive.h"
#include "mef_fixture.h"

namespace m2msec::services::test {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

constexpr std::string_view kFcred = "m2m:fcred";

class MefFetchTest : public MefTest {
 protected:
  std::unique_ptr<Association> enrolee;  // the enrolee's PPSK association
  std::unique_ptr<Association> target;   // the Enrolment Target (the MAF, a MEF client with its own Kpm)
  std::unique_ptr<Association> other;    // a MEF client that is not the enrolee's target
  ClientEnrolment mine;
  const std::chrono::seconds lifetime = hours(48);

  void SetUp() override {
    MefTest::SetUp();
    add_enrolee("kpm-a", 0x11, "Cdev-a", std::string(kMafFqdn), lifetime);
    add_enrolee("kpm-maf", 0x33, std::string(kMafFqdn));
    add_enrolee("kpm-x", 0x44, "Cother");
    enrolee = connect("kpm-a", 0x11);
    target = connect("kpm-maf", 0x33);
    other = connect("kpm-x", 0x44);
    ASSERT_TRUE(enrolee->established() && target->established() && other->established());
    auto r = do_register(*enrolee, "Cdev-a");
    ASSERT_EQ(code(r), 2001) << dump(r);
    mine = client_enrolment(*enrolee);
    ASSERT_EQ(text(r, kMefRoot, "keid"), mine.ke_id);
  }

  onem2m::Response fetch(const Association& by, const std::string& from, const std::string& ke_id,
                         std::string_view suid) {
    return handle(request(Operation::kRetrieve, "fetchCredentials/" + ke_id + "/" + std::string(suid), from), by);
  }

  keys::EnrolmentKey client_ke() const { return std::move(keys::EnrolmentKey::from(ByteView(mine.ke))).value(); }

  static std::string errs(const onem2m::Response& r) {
    const json::Value* v = member(r, kFcred, "errs");
    return v && v->string() ? *v->string() : std::string();
  }
};

TEST_F(MefFetchTest, Suid21GivesTheKmTheEnroleeDerives) {
  auto r = fetch(*target, std::string(kMafFqdn), mine.ke_id, "21");
  ASSERT_EQ(code(r), 2000) << dump(r);
  auto km = keys::derive_km(client_ke(), kMafFqdn);
  ASSERT_TRUE(km);
  EXPECT_EQ(member(r, kFcred, "sts") ? member(r, kFcred, "sts")->boolean() : std::nullopt, true);
  EXPECT_EQ(text(r, kFcred, "cred"), base64_encode(km->view()));
  EXPECT_EQ(text(r, kFcred, "eid"), "Cdev-a");
  EXPECT_EQ(text(r, kFcred, "lft"), w.at(lifetime));

  // The in-process API gives the same.
  auto direct = mef->fetch(std::move(keys::KeId::parse(mine.ke_id)).value(), keys::Suid::kRspfMaf, kMafFqdn);
  ASSERT_TRUE(direct) << direct.error().to_string();
  EXPECT_EQ(bytes_of(direct->key.view()), bytes_of(km->view()));
  EXPECT_EQ(direct->enrolee_id, "Cdev-a");
  EXPECT_EQ(direct->expires, w.now() + lifetime);
}

TEST_F(MefFetchTest, Suids22To25GiveTheUsageConstrainedKeys) {
  for (keys::Suid suid : {keys::Suid::kRspfSaef, keys::Suid::kRspfEsprim, keys::Suid::kRspfEsdata,
                          keys::Suid::kRspfEsdataSignature}) {
    const std::string number = std::to_string(static_cast<unsigned>(suid));
    SCOPED_TRACE(number);
    auto r = fetch(*target, std::string(kMafFqdn), mine.ke_id, number);
    ASSERT_EQ(code(r), 2000) << dump(r);
    auto key = keys::derive_usage_constrained_key(client_ke(), suid, kMafFqdn);
    ASSERT_TRUE(key);
    EXPECT_EQ(text(r, kFcred, "cred"), base64_encode(key->view()));
    EXPECT_EQ(text(r, kFcred, "eid"), "Cdev-a");
  }
  // Different usages, different keys.
  EXPECT_NE(text(fetch(*target, std::string(kMafFqdn), mine.ke_id, "22"), kFcred, "cred"),
            text(fetch(*target, std::string(kMafFqdn), mine.ke_id, "21"), kFcred, "cred"));
}

TEST_F(MefFetchTest, KeIdIsAcceptedInLowerCaseHex) {
  std::string lower = mine.ke_id;
  const auto at = lower.find('@');
  std::transform(lower.begin(), lower.begin() + static_cast<std::ptrdiff_t>(at), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  ASSERT_NE(lower, mine.ke_id);
  auto r = fetch(*target, std::string(kMafFqdn), lower, "21");
  EXPECT_EQ(code(r), 2000) << dump(r);
}

TEST_F(MefFetchTest, RefusalsForUnknownExpiredAndForeignAreIndistinguishable) {
  auto wrong_target = fetch(*other, "Cother", mine.ke_id, "21");
  EXPECT_EQ(code(wrong_target), 4103) << dump(wrong_target);
  // The enrolee itself is not its own Enrolment Target either.
  auto self = fetch(*enrolee, "Cdev-a", mine.ke_id, "22");
  EXPECT_EQ(code(self), 4103) << dump(self);
  const std::string unknown_id = std::string(32, 'A') + "@" + std::string(kMefFqdn);
  auto unknown = fetch(*target, std::string(kMafFqdn), unknown_id, "21");
  EXPECT_EQ(code(unknown), 4103) << dump(unknown);

  // Just before the enrolment expires it is still there; at its expiry it is gone.
  w.clock->advance(lifetime - seconds(1));
  EXPECT_EQ(code(fetch(*target, std::string(kMafFqdn), mine.ke_id, "21")), 2000);
  w.clock->advance(seconds(1));
  auto expired = fetch(*target, std::string(kMafFqdn), mine.ke_id, "21");
  EXPECT_EQ(code(expired), 4103) << dump(expired);

  for (const auto* r : {&wrong_target, &self, &unknown, &expired}) {
    EXPECT_EQ(member(*r, kFcred, "sts") ? member(*r, kFcred, "sts")->boolean() : std::nullopt, false) << dump(*r);
    EXPECT_EQ(member(*r, kFcred, "cred"), nullptr);
    EXPECT_EQ(member(*r, kFcred, "eid"), nullptr);
    EXPECT_FALSE(errs(*r).empty());
    EXPECT_EQ(errs(*r), errs(wrong_target));
  }
}

TEST_F(MefFetchTest, MalformedRequestsAreBadRequests) {
  const std::string other_mef = mine.ke_id.substr(0, mine.ke_id.find('@')) + "@mef.example.net";
  for (const auto& [ke_id, suid] : std::vector<std::pair<std::string, std::string>>{
           {other_mef, "21"},          // a KeID of another MEF
           {mine.ke_id, "2x"},         // not a number
           {mine.ke_id, "-21"},
           {mine.ke_id, "21 "},
           {mine.ke_id, ""},
           {mine.ke_id, "31"},         // not an m2m:suid
           {mine.ke_id, "40"},         // certificate-based: not fetched from a MEF
           {mine.ke_id, "32"},         // MAF-distributed
           {mine.ke_id, "10"},
           {mine.ke_id, "4294967317"},  // 2^32 + 21: must not wrap to 21
           {"ABCD@" + std::string(kMefFqdn), "21"},  // not a KeID
           {"not-a-keid", "21"}}) {
    SCOPED_TRACE(ke_id + " / " + suid);
    auto r = fetch(*target, std::string(kMafFqdn), ke_id, suid);
    EXPECT_EQ(code(r), 4000) << dump(r);
    EXPECT_EQ(member(r, kFcred, "cred"), nullptr);
  }
}

TEST_F(MefFetchTest, FetchNeedsAnAuthenticatedOriginator) {
  auto r = fetch(*target, "Cdev-a", mine.ke_id, "21");
  EXPECT_EQ(code(r), 4106) << dump(r);
  auto plain = mef->handle(request(Operation::kRetrieve, "fetchCredentials/" + mine.ke_id + "/21",
                                   std::string(kMafFqdn)),
                           nullptr);
  EXPECT_EQ(code(plain), 4107) << dump(plain);
  EXPECT_EQ(member(plain, kFcred, "cred"), nullptr);
}

}  // namespace
}  // namespace m2msec::services::test

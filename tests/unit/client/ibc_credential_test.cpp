// The client's checks of an IBC credential before it keeps it (seed 002 8.3.7.2; RFC 6507 5.1.2, RFC 6508 6.1.2),
// and the credential file.
#include <gtest/gtest.h>

#include "m2msec/client/ibc.h"
#include "m2msec/core/encoding.h"
#include "m2msec/kms/kms.h"
#include "m2msec/onem2m/resources.h"

namespace m2msec::client {
namespace {

using std::chrono::sys_days;
constexpr std::string_view kMef = "mef.example.com";
constexpr std::string_view kOwn = "Cdev-a";
// "Cdev-a" is 43 64 65 76 2d 61 in ASCII.
constexpr std::string_view kId2 = "mef.example.com@436465762d61@20300131T000000";
const std::chrono::sys_seconds kNow{sys_days(std::chrono::year(2030) / 1 / 1)};

class IbcCredentialTest : public ::testing::Test {
 protected:
  std::unique_ptr<kms::LocalIssuer> kms_issuer;

  void SetUp() override {
    auto master = kms::generate_master();
    ASSERT_TRUE(master) << master.error().to_string();
    kms_issuer = std::make_unique<kms::LocalIssuer>(std::move(*master));
  }

  // What a MEF answers for `id2`, with the keys issued for `keys_for`.
  json::Object answer(std::string_view id2, std::string_view keys_for) const {
    auto keys = kms_issuer->issue(as_bytes(keys_for));
    EXPECT_TRUE(keys);
    if (!keys) return {};
    return json::Object{{"ibi2", std::string(id2)},
                        {"ssk", base64_encode(keys->eccsi.ssk.view())},
                        {"pvt", base64_encode(keys->eccsi.pvt)},
                        {"kpak", base64_encode(keys->public_keys.kpak)},
                        {"rsk", base64_encode(keys->rsk.view())},
                        {"kmsz", base64_encode(keys->public_keys.z)}};
  }
};

TEST_F(IbcCredentialTest, AcceptsKeysThatValidateForItsOwnId2) {
  auto accepted = accept_ibc_credential(answer(kId2, kId2), kMef, kOwn, kNow);
  ASSERT_TRUE(accepted) << accepted.error().to_string();
  EXPECT_EQ(accepted->id2, kId2);
  EXPECT_EQ(accepted->expires, std::chrono::sys_seconds(sys_days(std::chrono::year(2030) / 1 / 31)));
  const kms::PublicParameters parameters = kms_issuer->parameters();
  EXPECT_EQ(accepted->kpak, parameters.kpak);
  EXPECT_EQ(accepted->z, parameters.z);
}

TEST_F(IbcCredentialTest, RefusesAnId2ThatIsNotThisClientsAtThisMef) {
  const std::string other_mef = "other.example.com@436465762d61@20300131T000000";
  const std::string other_id = "mef.example.com@436465762d62@20300131T000000";
  for (const std::string& id2 : {other_mef, other_id}) {
    auto refused = accept_ibc_credential(answer(id2, id2), kMef, kOwn, kNow);
    ASSERT_FALSE(refused) << id2;
    EXPECT_EQ(refused.error().category(), Category::kAuth) << refused.error().to_string();
  }
  // Expired, and expiring right now.
  for (const auto now : {kNow + std::chrono::days(31), kNow + std::chrono::days(30)}) {
    auto refused = accept_ibc_credential(answer(kId2, kId2), kMef, kOwn, now);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().category(), Category::kAuth);
  }
  EXPECT_FALSE(accept_ibc_credential(answer("not-an-id2", "not-an-id2"), kMef, kOwn, kNow));
}

TEST_F(IbcCredentialTest, RefusesKeysThatDoNotValidate) {
  // Keys of another identity under the right ID_2.
  auto refused = accept_ibc_credential(answer(kId2, "mef.example.com@436465762d61@20300131T000001"), kMef, kOwn, kNow);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().category(), Category::kCrypto) << refused.error().to_string();
  // One key of another identity at a time: PVT (with its own SSK kept), then the RSK.
  const json::Object good = answer(kId2, kId2);
  const json::Object other = answer(kId2, "someone else");
  for (const std::string_view member : {"pvt", "ssk", "rsk", "kpak", "kmsz"}) {
    json::Object mixed = good;
    if (member == "kpak" || member == "kmsz") {
      // Another KMS's public key.
      auto master = kms::generate_master();
      ASSERT_TRUE(master);
      const Bytes other_public = member == "kpak" ? master->eccsi.kpak() : master->sakke.public_key();
      mixed.set(std::string(member), base64_encode(other_public));
    } else {
      mixed.set(std::string(member), *other.find(member)->string());
    }
    auto mixed_refused = accept_ibc_credential(mixed, kMef, kOwn, kNow);
    ASSERT_FALSE(mixed_refused) << member;
    EXPECT_EQ(mixed_refused.error().category(), Category::kCrypto) << member << ": " << mixed_refused.error().to_string();
  }
  json::Object missing = good;
  missing.erase("rsk");
  EXPECT_FALSE(accept_ibc_credential(missing, kMef, kOwn, kNow));
}

TEST_F(IbcCredentialTest, TheFileRoundTripsAndADamagedOneIsRefused) {
  auto accepted = accept_ibc_credential(answer(kId2, kId2), kMef, kOwn, kNow);
  ASSERT_TRUE(accepted);
  const SecretBytes text = ibc_credential_text(*accepted);
  auto back = parse_ibc_credential(as_text(text.view()));
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->id2, accepted->id2);
  EXPECT_EQ(hex_encode(back->ssk.view()), hex_encode(accepted->ssk.view()));
  EXPECT_EQ(back->pvt, accepted->pvt);
  EXPECT_EQ(back->rsk.size(), accepted->rsk.size());
  // The same file as the IBC-based SAEF signs with it.
  auto saef = saef_credential(as_text(text.view()));
  ASSERT_TRUE(saef) << saef.error().to_string();
  EXPECT_EQ(saef->id2, accepted->id2);
  EXPECT_EQ(saef->kpak, accepted->kpak);
  // A changed ID_2 no longer matches its keys; a missing line is refused.
  std::string changed(as_text(text.view()));
  changed.replace(changed.find("@2030"), 5, "@2031");
  EXPECT_FALSE(parse_ibc_credential(changed));
  EXPECT_FALSE(saef_credential(changed));
  std::string shortened(as_text(text.view()));
  shortened.erase(shortened.find("rsk="));
  EXPECT_FALSE(parse_ibc_credential(shortened));
}

}  // namespace
}  // namespace m2msec::client

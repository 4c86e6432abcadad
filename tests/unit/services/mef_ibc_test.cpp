// IBC Credential Provisioning at the MEF (seed 002 8.3.7.2, 8.3.7.3): ID_2 = FQDN@hexBinary(ID)@expirationTime for
// the caller's own ID only, unique, with keys from the KMS that validate for ID_2; re-provisioning of a credential
// this MEF issued to this client, still valid; every refusal with its status code.
#include <gtest/gtest.h>

#include "m2msec/core/encoding.h"
#include "m2msec/ibc/eccsi.h"
#include "m2msec/ibc/sakke.h"
#include "m2msec/kms/kms.h"
#include "mef_fixture.h"

namespace m2msec::services::test {
namespace {

using onem2m::ResourceType;

constexpr std::string_view kRoot = "m2m:mefic";
// "Cdev-a" in ASCII is 43 64 65 76 2d 61; the ManualClock starts at 2030-01-01T00:00:00.
constexpr std::string_view kId2 = "mef.example.com@436465762d61@20300131T000000";

class MefIbcTest : public MefTest {
 protected:
  std::shared_ptr<kms::LocalIssuer> kms_issuer;
  std::unique_ptr<Association> a;

  void SetUp() override {
    MefTest::SetUp();
    auto master = kms::generate_master();
    ASSERT_TRUE(master) << master.error().to_string();
    kms_issuer = std::make_shared<kms::LocalIssuer>(std::move(*master));
    with_kms(kms_issuer);
    add_enrolee("kpm-a", 0x11, "Cdev-a");
    add_enrolee("kpm-b", 0x22, "Cdev-b");
    a = connect("kpm-a", 0x11);
  }

  void with_kms(std::shared_ptr<const kms::Issuer> issuer) {
    mef::ServiceOptions o = options();
    o.kms = std::move(issuer);
    o.ibc_lifetime = std::chrono::hours(24 * 30);
    mef = std::make_shared<mef::Service>(std::move(o));
  }

  onem2m::Response ask(const Association& with, const std::string& from, json::Object content) const {
    return handle(create("mef", from, ResourceType::kMefIbcCred, std::move(content)), with);
  }
  onem2m::Response initial(const std::string& id = "Cdev-a") const { return ask(*a, "Cdev-a", {{"ibid", id}}); }

  static Bytes decoded(const onem2m::Response& r, std::string_view name) {
    auto out = base64_decode(text(r, kRoot, name));
    EXPECT_TRUE(out) << name;
    return out ? *out : Bytes();
  }

  // The keys of a response validate for its ID_2 (RFC 6507 5.1.2, RFC 6508 6.1.2) under the KMS's public keys.
  void expect_valid_keys(const onem2m::Response& r) {
    const std::string id2 = text(r, kRoot, "ibi2");
    const kms::PublicParameters parameters = kms_issuer->parameters();
    EXPECT_EQ(decoded(r, "kpak"), parameters.kpak);
    EXPECT_EQ(decoded(r, "kmsz"), parameters.z);
    Bytes ssk = decoded(r, "ssk");
    auto signer = ibc::EccsiSigner::validate(parameters.kpak, as_bytes(id2),
                                             ibc::EccsiUserKey{SecretBytes::copy_of(ssk), decoded(r, "pvt")});
    ASSERT_TRUE(signer) << signer.error().to_string();
    auto signature = signer->sign(as_bytes("hello"));
    ASSERT_TRUE(signature);
    EXPECT_TRUE(ibc::eccsi_verify(parameters.kpak, as_bytes(id2), as_bytes("hello"), *signature));
    EXPECT_TRUE(ibc::sakke_validate_receiver_key(parameters.z, as_bytes(id2), decoded(r, "rsk")));
  }
};

TEST_F(MefIbcTest, InitialProvisioningIssuesKeysForId2) {
  const auto r = initial();
  ASSERT_EQ(code(r), 2001) << dump(r);
  EXPECT_EQ(text(r, kRoot, "ibi2"), kId2);
  EXPECT_EQ(text(r, kRoot, "et"), "20300131T000000");
  expect_valid_keys(r);
  // The ID_2 is recorded for the client.
  auto recorded = w.store->find_ibc_identity(kId2);
  ASSERT_TRUE(recorded && recorded->has_value());
  EXPECT_EQ((*recorded)->client_id, "Cdev-a");
}

TEST_F(MefIbcTest, Id2IsUniqueWithinTheSameSecond) {
  const auto first = initial();
  const auto second = initial();
  ASSERT_EQ(code(first), 2001) << dump(first);
  ASSERT_EQ(code(second), 2001) << dump(second);
  EXPECT_EQ(text(first, kRoot, "ibi2"), kId2);
  // Same client, same second: the next ID_2 expires a second earlier.
  EXPECT_EQ(text(second, kRoot, "ibi2"), "mef.example.com@436465762d61@20300130T235959");
  expect_valid_keys(second);
}

TEST_F(MefIbcTest, OnlyTheCallersOwnIdGetsCredentials) {
  const auto r = initial("Cdev-b");
  EXPECT_EQ(code(r), 4103) << dump(r);
  auto recorded = w.store->find_ibc_identity("mef.example.com@436465762d62@20300131T000000");
  ASSERT_TRUE(recorded);
  EXPECT_FALSE(recorded->has_value());
}

TEST_F(MefIbcTest, NoSecurityAssociationNoCredentials) {
  const auto r = mef->handle(create("mef", "Cdev-a", ResourceType::kMefIbcCred, {{"ibid", "Cdev-a"}}), nullptr);
  EXPECT_EQ(code(r), 4107) << dump(r);
}

TEST_F(MefIbcTest, ExactlyOneOfIdAndId1) {
  EXPECT_EQ(code(ask(*a, "Cdev-a", {})), 4000);
  EXPECT_EQ(code(ask(*a, "Cdev-a", {{"ibid", "Cdev-a"}, {"ibi1", std::string(kId2)}})), 4000);
  EXPECT_EQ(code(ask(*a, "Cdev-a", {{"ssk", "AAAA"}})), 4000);
}

TEST_F(MefIbcTest, WithoutAKmsTheProcedureIsNotImplemented) {
  with_kms(nullptr);
  const auto r = initial();
  EXPECT_EQ(code(r), 5001) << dump(r);
}

TEST_F(MefIbcTest, ReProvisioningRenewsACurrentCredential) {
  ASSERT_EQ(code(initial()), 2001);
  w.clock->advance(std::chrono::hours(24 * 10));
  const auto r = ask(*a, "Cdev-a", {{"ibi1", std::string(kId2)}});
  ASSERT_EQ(code(r), 2001) << dump(r);
  EXPECT_EQ(text(r, kRoot, "ibi2"), "mef.example.com@436465762d61@20300210T000000");
  expect_valid_keys(r);
}

TEST_F(MefIbcTest, ReProvisioningRefusals) {
  ASSERT_EQ(code(initial()), 2001);
  // Never issued, another MEF's, malformed.
  EXPECT_EQ(code(ask(*a, "Cdev-a", {{"ibi1", "mef.example.com@436465762d61@20300131T000001"}})), 4103);
  EXPECT_EQ(code(ask(*a, "Cdev-a", {{"ibi1", "other.example.com@436465762d61@20300131T000000"}})), 4103);
  EXPECT_EQ(code(ask(*a, "Cdev-a", {{"ibi1", "not an ID_2"}})), 4000);
  // Another client's credential.
  auto b = connect("kpm-b", 0x22);
  EXPECT_EQ(code(ask(*b, "Cdev-b", {{"ibi1", std::string(kId2)}})), 4103);
  // Expired.
  w.clock->advance(std::chrono::hours(24 * 31));
  EXPECT_EQ(code(ask(*a, "Cdev-a", {{"ibi1", std::string(kId2)}})), 4103);
}

}  // namespace
}  // namespace m2msec::services::test

// The KMS (seed 002 8.3.7.2 NOTE 2): its master file, the in-process issuer, and its resource: public keys for any
// authenticated caller, keys of an identity only for the listed clients, every refusal with its status code.
#include <gtest/gtest.h>

#include "association.h"
#include "m2msec/core/encoding.h"
#include "m2msec/ibc/eccsi.h"
#include "m2msec/ibc/sakke.h"
#include "m2msec/kms/kms.h"
#include "m2msec/kms/service.h"

namespace m2msec::services::test {
namespace {

using onem2m::ResourceType;

class KmsTest : public ::testing::Test {
 protected:
  std::shared_ptr<kms::LocalIssuer> issuer;
  std::shared_ptr<kms::Service> service;
  std::shared_ptr<tls::InMemoryPskResolver> callers = std::make_shared<tls::InMemoryPskResolver>(tls::PskIdentityKind::kKpsaId);

  void SetUp() override {
    auto master = kms::generate_master();
    ASSERT_TRUE(master) << master.error().to_string();
    issuer = std::make_shared<kms::LocalIssuer>(std::move(*master));
    service = std::make_shared<kms::Service>(kms::ServiceOptions{issuer, {"mef-one@kms.example.com"}});
    ASSERT_TRUE(callers->add("mef-one@kms.example.com", key_of(0x31), "mef-one@kms.example.com"));
    ASSERT_TRUE(callers->add("someone@kms.example.com", key_of(0x32), "someone@kms.example.com"));
  }

  std::unique_ptr<Association> as(const std::string& who, std::uint8_t fill) {
    auto a = associate(callers, who, key_of(fill));
    EXPECT_TRUE(a->established());
    return a;
  }
  onem2m::Response issue(const Association& a, const std::string& from, const std::string& id) const {
    return service->handle(create("kms", from, ResourceType::kKmsKey, {{"ibid", id}}), a.server.get());
  }
  static Bytes decoded(const onem2m::Response& r, std::string_view root, std::string_view name) {
    auto out = base64_decode(text(r, root, name));
    EXPECT_TRUE(out) << name;
    return out ? *out : Bytes();
  }
};

TEST_F(KmsTest, MasterFileRoundTripsAndRefusesDamage) {
  auto master = kms::generate_master();
  ASSERT_TRUE(master);
  const SecretBytes text = kms::master_text(*master);
  auto back = kms::parse_master(as_text(text.view()));
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->eccsi.kpak(), master->eccsi.kpak());
  EXPECT_EQ(back->sakke.public_key(), master->sakke.public_key());
  EXPECT_FALSE(kms::parse_master(""));
  EXPECT_FALSE(kms::parse_master("ksak=00\nz=01\n"));  // KSAK 0 is not a key
  EXPECT_FALSE(kms::parse_master("z=01\nksak=01\n"));
  EXPECT_FALSE(kms::parse_master("ksak=zz\nz=01\n"));
}

TEST_F(KmsTest, AnyAuthenticatedCallerReadsThePublicKeys) {
  auto a = as("someone@kms.example.com", 0x32);
  const auto r = service->handle(request(Operation::kRetrieve, "kms", "someone@kms.example.com"), a->server.get());
  ASSERT_EQ(code(r), 2000) << dump(r);
  const kms::PublicParameters parameters = issuer->parameters();
  EXPECT_EQ(decoded(r, "m2m:kmsb", "kpak"), parameters.kpak);
  EXPECT_EQ(decoded(r, "m2m:kmsb", "kmsz"), parameters.z);
}

TEST_F(KmsTest, AListedClientGetsKeysThatValidate) {
  auto a = as("mef-one@kms.example.com", 0x31);
  const std::string id = "mef.example.com@436465762d61@20300131T000000";
  const auto r = issue(*a, "mef-one@kms.example.com", id);
  ASSERT_EQ(code(r), 2001) << dump(r);
  EXPECT_EQ(text(r, "m2m:kmsk", "ibid"), id);
  const Bytes kpak = decoded(r, "m2m:kmsk", "kpak");
  auto signer = ibc::EccsiSigner::validate(
      kpak, as_bytes(id), ibc::EccsiUserKey{SecretBytes::copy_of(decoded(r, "m2m:kmsk", "ssk")), decoded(r, "m2m:kmsk", "pvt")});
  EXPECT_TRUE(signer) << signer.error().to_string();
  EXPECT_TRUE(ibc::sakke_validate_receiver_key(decoded(r, "m2m:kmsk", "kmsz"), as_bytes(id), decoded(r, "m2m:kmsk", "rsk")));
}

TEST_F(KmsTest, Refusals) {
  auto listed = as("mef-one@kms.example.com", 0x31);
  auto other = as("someone@kms.example.com", 0x32);
  EXPECT_EQ(code(issue(*other, "someone@kms.example.com", "x")), 4103);
  EXPECT_EQ(code(issue(*listed, "someone@kms.example.com", "x")), 4106);  // From is not the association's identity
  EXPECT_EQ(code(service->handle(create("kms", "mef-one@kms.example.com", ResourceType::kKmsKey, {{"ibid", "x"}}), nullptr)), 4107);
  EXPECT_EQ(code(service->handle(request(Operation::kDelete, "kms", "mef-one@kms.example.com"), listed->server.get())), 4005);
  EXPECT_EQ(code(service->handle(request(Operation::kRetrieve, "kms/x", "mef-one@kms.example.com"), listed->server.get())), 4004);
  EXPECT_EQ(code(service->handle(create("kms", "mef-one@kms.example.com", ResourceType::kKmsKey, {{"ibid", "x"}, {"ssk", "AAAA"}}),
                                 listed->server.get())),
            4000);
  EXPECT_EQ(code(service->handle(create("kms", "mef-one@kms.example.com", ResourceType::kMefIbcCred, {{"ibid", "x"}}),
                                 listed->server.get())),
            4005);
}

}  // namespace
}  // namespace m2msec::services::test

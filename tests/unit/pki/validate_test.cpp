// Path validation (TS-0003 V3.18.0 8.1.2.2) against the openssl-CLI-generated test PKI, whose expected
// verdicts `openssl verify` confirms independently (ctest pki.testpki_selftest).
#include "m2msec/pki/validate.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "test_pki.h"

namespace m2msec::pki {
namespace {

using test::TestPki;
using namespace std::chrono_literals;

Clock::TimePoint now() { return std::chrono::system_clock::now(); }

std::vector<Certificate> intermediates(const TestPki& pki) { return {pki.cert("int")}; }

TrustStore trust(const TestPki& pki, bool with_crl) {
  return TrustStore::load(pki.file("root.pem"), with_crl ? pki.file("crl.pem") : std::string()).value();
}

void expect_alert(const Result<void>& r, std::uint8_t alert) {
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().category(), Category::kAuth);
  EXPECT_EQ(r.error().tls_alert(), alert) << r.error().detail();
  EXPECT_FALSE(r.error().detail().empty());
}

TEST(ValidatePath, GoodChainsPass) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  for (const char* name : {"server", "client", "ae", "other", "node", "device"}) {
    auto r = validate_path(pki.cert(name), intermediates(pki), trust(pki, false), now());
    EXPECT_TRUE(r) << name << ": " << (r ? "" : r.error().to_string());
  }
}

TEST(ValidatePath, ChainFileOrderIsLeafThenIntermediate) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  auto chain = Certificate::load_pem_file(pki.file("server.chain.pem"));
  ASSERT_TRUE(chain);
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ((*chain)[0].der(), pki.cert("server").der());
  EXPECT_EQ((*chain)[1].der(), pki.cert("int").der());
  const std::span<const Certificate> rest(chain->data() + 1, 1);
  EXPECT_TRUE(validate_path((*chain)[0], rest, trust(pki, true), now()));
}

TEST(ValidatePath, MissingIntermediateIsUnknownCa) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  expect_alert(validate_path(pki.cert("server"), {}, trust(pki, false), now()), 48);
}

TEST(ValidatePath, OtherTrustAnchorIsUnknownCa) {
  const TestPki& pki = TestPki::shared();
  const TestPki other{TestPki::Fresh{}};  // an unrelated PKI
  ASSERT_TRUE(pki.ok() && other.ok());
  const TrustStore foreign = TrustStore::load(other.file("root.pem")).value();
  expect_alert(validate_path(pki.cert("server"), intermediates(pki), foreign, now()), 48);
}

TEST(ValidatePath, EveryConfiguredCertificateIsAnAnchor) {
  // RFC 5280 6.1.1 (d): the intermediate configured as the trust anchor is enough.
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const TrustStore int_only = TrustStore::load(pki.file("int.pem")).value();
  EXPECT_TRUE(validate_path(pki.cert("server"), {}, int_only, now()));
}

TEST(ValidatePath, EmptyTrustStoreFails) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  expect_alert(validate_path(pki.cert("server"), intermediates(pki), TrustStore({}, {}), now()), 48);
}

TEST(ValidatePath, ExpiredIsCertificateExpired) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  expect_alert(validate_path(pki.cert("expired"), intermediates(pki), trust(pki, false), now()), 45);
}

TEST(ValidatePath, InjectedTimeBeforeNotBeforeIsCertificateExpired) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const Clock::TimePoint before = now() - 24h * 2;
  expect_alert(validate_path(pki.cert("server"), intermediates(pki), trust(pki, false), before), 45);
  // Also when a CRL is configured (OpenSSL would first see that the CRL is not yet valid either).
  expect_alert(validate_path(pki.cert("server"), intermediates(pki), trust(pki, true), before), 45);
  // And the injected time is what counts: the expired leaf was valid during 2020.
  const Clock::TimePoint in_2020 = std::chrono::sys_days{std::chrono::year{2020} / 6 / 1};
  auto r = validate_path(pki.cert("expired"), intermediates(pki), trust(pki, false), in_2020);
  ASSERT_FALSE(r);  // ... but its CAs were not (they were issued today)
  EXPECT_EQ(r.error().tls_alert(), 45);
  const Clock::TimePoint after_ca_expiry = now() + 24h * 3660;
  expect_alert(validate_path(pki.cert("server"), intermediates(pki), trust(pki, false), after_ca_expiry), 45);
  expect_alert(validate_path(pki.cert("server"), intermediates(pki), trust(pki, true), after_ca_expiry), 45);
  expect_alert(validate_path(pki.cert("expired"), intermediates(pki), trust(pki, true), now()), 45);
}

TEST(ValidatePath, RevokedWithCrlIsCertificateRevoked) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  expect_alert(validate_path(pki.cert("revoked"), intermediates(pki), trust(pki, true), now()), 44);
  EXPECT_TRUE(validate_path(pki.cert("server"), intermediates(pki), trust(pki, true), now()));
}

TEST(ValidatePath, RevokedWithoutCrlConfiguredPasses) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  EXPECT_TRUE(validate_path(pki.cert("revoked"), intermediates(pki), trust(pki, false), now()));
}

TEST(ValidatePath, CrlConfiguredButNoneForTheIssuerFailsClosed) {
  const TestPki& pki = TestPki::shared();
  const TestPki other{TestPki::Fresh{}};
  ASSERT_TRUE(pki.ok() && other.ok());
  // Both roots are anchors; only pki's intermediate has a CRL.
  auto anchors = Certificate::load_pem_file(pki.file("root.pem")).value();
  anchors.push_back(other.cert("root"));
  const TrustStore both(anchors, Crl::load_pem_file(pki.file("crl.pem")).value());
  EXPECT_TRUE(validate_path(pki.cert("server"), intermediates(pki), both, now()));
  const std::vector<Certificate> other_int{other.cert("int")};
  EXPECT_TRUE(validate_path(other.cert("server"), other_int, TrustStore(anchors, {}), now()));
  expect_alert(validate_path(other.cert("server"), other_int, both, now()), 42);
}

TEST(ValidatePath, NameConstraintViolationIsBadCertificate) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  expect_alert(validate_path(pki.cert("outside"), intermediates(pki), trust(pki, false), now()), 42);
}

TEST(ValidatePath, LeafIsNotAnIssuer) {
  // pathlen:0 on the intermediate and CA:false on leaves: a leaf passed as an "intermediate" for another
  // leaf does not make a path.
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const std::vector<Certificate> bogus{pki.cert("other")};
  auto r = validate_path(pki.cert("server"), bogus, trust(pki, false), now());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().tls_alert(), 48);
}

TEST(TrustStore, LoadRefusesMissingOrWrongFiles) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  for (auto r : {TrustStore::load(pki.file("absent.pem")), TrustStore::load(pki.file("server.key")),
                 TrustStore::load(pki.file("root.pem"), pki.file("root.pem")),
                 TrustStore::load(pki.file("root.pem"), pki.file("absent.pem"))}) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().category(), Category::kUsage) << r.error().to_string();
  }
  auto ok = TrustStore::load(pki.file("root.pem"), pki.file("crl.pem"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->anchors().size(), 1u);
  EXPECT_EQ(ok->crls().size(), 1u);
}

}  // namespace
}  // namespace m2msec::pki

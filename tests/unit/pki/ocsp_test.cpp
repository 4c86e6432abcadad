// Certificate status by OCSP (TS-0003 V3.18.0 8.1.2.2, RFC 6960): our requests answered by a real
// `openssl ocsp` responder (over HTTP, posted with curl, and from files), our verdict on its responses
// compared with the one `openssl ocsp -respin` gives, and the refusals. The statuses come from the index
// the test writes (test_ocsp.h), never from m2msec.
#include "m2msec/pki/ocsp.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "m2msec/core/encoding.h"
#include "test_ocsp.h"
#include "test_pki.h"

namespace m2msec::pki {
namespace {

using test::OcspResponder;
using test::TestPki;
using namespace std::chrono_literals;
namespace oracle = m2msec::test;

Clock::TimePoint now() { return std::chrono::system_clock::now(); }

TrustStore trust(const TestPki& pki) { return TrustStore::load(pki.file("root.pem")).value(); }

void expect_unusable(const Result<CertStatus>& r, std::string_view reason = {}) {
  ASSERT_FALSE(r) << "status " << static_cast<int>(*r);
  EXPECT_EQ(r.error().category(), Category::kAuth);
  EXPECT_EQ(r.error().tls_alert(), 113) << r.error().detail();
  EXPECT_NE(r.error().detail().find(reason), std::string::npos) << r.error().detail();
}

void expect_status(const Result<CertStatus>& r, CertStatus status) {
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, status);
}

class Ocsp : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pki.ok() && responder.ok()) << responder.log(); }

  Result<CertStatus> check(ByteView response, const std::string& leaf, Clock::TimePoint at = now(),
                           ByteView nonce = {}) const {
    return check_ocsp_response(response, pki.cert(leaf), pki.cert("int"), trust(pki), at, nonce);
  }

  const TestPki& pki = TestPki::shared();
  OcspResponder responder{pki};
};

TEST_F(Ocsp, RequestIsWhatTheOpensslCliReads) {
  auto request = ocsp_request(pki.cert("server"), pki.cert("int"));
  ASSERT_TRUE(request) << request.error().to_string();
  ASSERT_EQ(request->nonce.size(), 32u);
  oracle::write_file(responder.file("ours.der"), request->der);
  const std::string text_file = responder.file("ours.txt");
  ASSERT_EQ(oracle::run(responder.dir(), "(openssl ocsp -reqin " + responder.file("ours.der") + " -req_text > " +
                                             text_file + ")"),
            0);
  const std::string text = oracle::read_file(text_file);
  EXPECT_NE(text.find("Hash Algorithm: sha1"), std::string::npos) << text;
  ASSERT_EQ(oracle::run(responder.dir(), "(openssl x509 -in " + pki.file("server.pem") + " -noout -serial > " +
                                             responder.file("server.serial") + ")"),
            0);
  std::string serial = oracle::read_file(responder.file("server.serial"));  // "serial=<HEX>\n"
  serial = serial.substr(serial.find('=') + 1, serial.find('\n') - serial.find('=') - 1);
  EXPECT_NE(text.find("Serial Number: " + serial), std::string::npos) << text << serial;
  // The nonce extension holds the DER OCTET STRING of the 32 octets (RFC 8954 2.1).
  EXPECT_NE(text.find("0420" + hex_encode(request->nonce, HexCase::kUpper)), std::string::npos) << text;

  auto plain = ocsp_request(pki.cert("server"), pki.cert("int"), false);
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->nonce.empty());
  oracle::write_file(responder.file("plain.der"), plain->der);
  ASSERT_EQ(oracle::run(responder.dir(), "(openssl ocsp -reqin " + responder.file("plain.der") + " -req_text > " +
                                             text_file + ")"),
            0);
  EXPECT_EQ(oracle::read_file(text_file).find("OCSP Nonce"), std::string::npos);
}

TEST_F(Ocsp, RequestRefusesAnIssuerThatDidNotIssueTheCertificate) {
  auto r = ocsp_request(pki.cert("server"), pki.cert("root"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().category(), Category::kUsage);
}

TEST_F(Ocsp, RealResponderOverHttpWithADelegatedSigner) {
  //= type=test
  //= TS-0003 V3.18.0 §8.1.2.2
  const auto port = responder.serve_http(2);
  ASSERT_TRUE(port) << oracle::read_file(responder.file("http.log"));
  const struct {
    const char* leaf;
    const char* cli_status;
    CertStatus status;
  } cases[] = {{"server", "good", CertStatus::kGood}, {"revoked", "revoked", CertStatus::kRevoked}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.leaf);
    auto request = ocsp_request(pki.cert(c.leaf), pki.cert("int"));
    ASSERT_TRUE(request);
    const Bytes response = responder.post(*port, request->der);
    EXPECT_EQ(responder.cli_status(response, c.leaf), c.cli_status) << oracle::read_file(responder.file("http.log"));
    expect_status(check(response, c.leaf, now(), request->nonce), c.status);
  }
  // A revoked status fails as validate_path fails for a certificate a CRL revokes.
  auto revoked = require_good(CertStatus::kRevoked);
  ASSERT_FALSE(revoked);
  EXPECT_EQ(revoked.error().category(), Category::kAuth);
  EXPECT_EQ(revoked.error().tls_alert(), 44);
  EXPECT_TRUE(require_good(CertStatus::kGood));
}

TEST_F(Ocsp, ResponseSignedByTheIssuerItself) {
  const Bytes response = responder.respond(responder.cli_request("server"), "int");
  EXPECT_EQ(responder.cli_status(response, "server"), "good");
  expect_status(check(response, "server"), CertStatus::kGood);
}

TEST_F(Ocsp, CertIdOfAnotherHashIsFound) {
  const Bytes response = responder.respond(responder.cli_request("revoked", "sha256"));
  EXPECT_EQ(responder.cli_status(response, "revoked", "sha256"), "revoked");
  expect_status(check(response, "revoked"), CertStatus::kRevoked);
}

TEST_F(Ocsp, CertificateUnknownToTheResponder) {
  const Bytes response = responder.respond(responder.cli_request("ae"));
  EXPECT_EQ(responder.cli_status(response, "ae"), "unknown");
  auto status = check(response, "ae");
  ASSERT_TRUE(status) << status.error().to_string();
  EXPECT_EQ(*status, CertStatus::kUnknown);
  auto r = require_good(*status);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().category(), Category::kAuth);
  EXPECT_EQ(r.error().tls_alert(), 113);
}

TEST_F(Ocsp, SignerWithoutOcspSigningIsRefused) {
  //= type=test
  //= TS-0003 V3.18.0 §8.1.2.2
  // RFC 6960 4.2.2.2: issued by the CA, but not authorised for id-kp-OCSPSigning.
  const Bytes response = responder.respond(responder.cli_request("server"), "noeku");
  EXPECT_EQ(responder.cli_status(response, "server"), "");
  expect_unusable(check(response, "server"), "signer");
}

TEST_F(Ocsp, SelfSignedResponderIsRefused) {
  const Bytes response = responder.respond(responder.cli_request("server"), "selfsigned");
  EXPECT_EQ(responder.cli_status(response, "server"), "");
  expect_unusable(check(response, "server"), "signer");
}

TEST_F(Ocsp, ResponderOutsideTheTrustStoreIsRefused) {
  const TestPki other{TestPki::Fresh{}};
  ASSERT_TRUE(other.ok());
  const Bytes response = responder.respond(responder.cli_request("server"));
  expect_unusable(check_ocsp_response(response, pki.cert("server"), pki.cert("int"),
                                      TrustStore::load(other.file("root.pem")).value(), now()));
  expect_unusable(check_ocsp_response(response, pki.cert("server"), pki.cert("int"), TrustStore({}, {}), now()));
}

TEST_F(Ocsp, ResponseForAnotherCertificateIsRefused) {
  const Bytes response = responder.respond(responder.cli_request("other"));
  EXPECT_EQ(responder.cli_status(response, "other"), "good");
  expect_unusable(check(response, "server"), "no status for this certificate");
}

TEST_F(Ocsp, ResponseIsJudgedAtTheInjectedTime) {
  //= type=test
  //= TS-0003 V3.18.0 §8.1.2.2
  const Bytes request = responder.cli_request("server");
  const Bytes day = responder.respond(request);  // thisUpdate now, nextUpdate in a day
  expect_status(check(day, "server", now() + 23h), CertStatus::kGood);
  expect_status(check(day, "server", now() + 24h + 2min), CertStatus::kGood);  // within the clock skew
  expect_unusable(check(day, "server", now() + 24h + 10min), "nextUpdate has passed");
  expect_unusable(check(day, "server", now() + 24h * 365 * 30));  // far future
  // Before thisUpdate (and before the responder certificate was issued).
  expect_unusable(check(day, "server", now() - 10min));
  // Without nextUpdate, newer information is always available: current only near thisUpdate.
  const Bytes open_ended = responder.respond(request, "responder", "");
  expect_status(check(open_ended, "server"), CertStatus::kGood);
  expect_unusable(check(open_ended, "server", now() + 10min), "no nextUpdate");
}

TEST_F(Ocsp, NonceMustBeTheOneSent) {
  auto request = ocsp_request(pki.cert("server"), pki.cert("int"));
  ASSERT_TRUE(request);
  const Bytes response = responder.respond(request->der);
  expect_status(check(response, "server", now(), request->nonce), CertStatus::kGood);
  Bytes other_nonce = request->nonce;
  other_nonce[0] ^= 0x01;
  expect_unusable(check(response, "server", now(), other_nonce), "nonce");
  // A response without a nonce (a pre-produced one) is accepted: RFC 6960 leaves replay protection to
  // nextUpdate then.
  expect_status(check(responder.respond(responder.cli_request("server")), "server", now(), request->nonce), CertStatus::kGood);
}

TEST_F(Ocsp, GarbageIsRefused) {
  const Bytes good = responder.respond(responder.cli_request("server"));
  ASSERT_TRUE(check(good, "server"));
  Bytes trailing = good;
  trailing.push_back(0);
  Bytes flipped = good;
  flipped[flipped.size() - 5] ^= 0x01;  // in the signature
  const std::vector<Bytes> cases{
      {},
      Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2)),
      trailing,
      flipped,
      {0x30, 0x03, 0x0a, 0x01, 0x06},  // OCSPResponse, responseStatus unauthorized (6), no responseBytes
      {0x30, 0x03, 0x0a, 0x01, 0x00},  // successful, but no responseBytes
      Bytes(64, 0xff),
  };
  for (const Bytes& response : cases) {
    SCOPED_TRACE(hex_encode(response).substr(0, 32));
    expect_unusable(check(response, "server"));
  }
}

TEST(OcspResponderUrl, FromAuthorityInfoAccess) {
  const TestPki& pki = TestPki::shared();
  OcspResponder responder(pki);
  ASSERT_TRUE(responder.ok()) << responder.log();
  auto url = ocsp_responder_url(responder.cert("aia"));
  ASSERT_TRUE(url) << url.error().to_string();
  EXPECT_EQ(*url, test::kAiaResponderUrl);
  auto none = ocsp_responder_url(pki.cert("server"));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().category(), Category::kUsage);
}

TEST(FindIssuer, ByNameAndSignature) {
  const TestPki& pki = TestPki::shared();
  const TestPki other{TestPki::Fresh{}};
  ASSERT_TRUE(pki.ok() && other.ok());
  const std::vector<Certificate> candidates{pki.cert("other"), other.cert("int"), pki.cert("int"), pki.cert("root")};
  auto issuer = find_issuer(pki.cert("server"), candidates);
  ASSERT_TRUE(issuer);
  EXPECT_EQ(issuer->der(), pki.cert("int").der());
  // other's intermediate has the same name, but did not sign pki's leaves.
  const std::vector<Certificate> same_name{other.cert("int"), pki.cert("root")};
  EXPECT_FALSE(find_issuer(pki.cert("server"), same_name));
}

}  // namespace
}  // namespace m2msec::pki

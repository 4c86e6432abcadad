// The MEF's issuing CA (TS-0003 V3.18.0 8.3.6): what it issues is checked by `openssl verify` and
// `openssl x509 -text` (the independent oracle) as well as by validate_path, against testpki.py's estca
// (nameConstraints on DNS and on URI hosts) and int (on DNS only).
#include "m2msec/pki/ca.h"

#include <openssl/asn1.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "m2msec/core/encoding.h"
#include "m2msec/pki/profile.h"
#include "m2msec/pki/validate.h"
#include "openssl_cli.h"
#include "test_pki.h"

namespace m2msec::pki {
namespace {

using test::TestPki;
using namespace std::chrono_literals;
using Ids = std::vector<std::string>;

constexpr std::chrono::seconds kValidity = 24h * 30;
constexpr const char* kCseId = "mn-cse2.in-cse.m2m.example.com";
constexpr const char* kAeId = "//m2m.example.com/CSE1/Cae3";

IssuingCa load_ca(const TestPki& pki, const std::string& name, std::shared_ptr<const Clock> clock = nullptr) {
  if (!clock) clock = std::make_shared<SystemClock>();
  auto ca = IssuingCa::load(pki.file(name + ".pem"), pki.file(name + ".key"), std::move(clock), kValidity);
  EXPECT_TRUE(ca) << (ca ? "" : ca.error().to_string());
  return std::move(ca).value();
}

Authorisation only(Flavour flavour, const std::string& id) { return Authorisation{{{flavour, id}}}; }

Csr fresh_csr(Flavour flavour, const std::string& id) {
  return Csr::create(PrivateKey::generate_p256().value(), flavour, id).value();
}

Certificate issued(const IssuingCa& ca, const Csr& csr, const Authorisation& who) {
  auto cert = ca.issue(csr, who);
  EXPECT_TRUE(cert) << (cert ? "" : cert.error().to_string());
  return std::move(cert).value();
}

// The certificate written to <name>.pem in the test's own directory.
std::string write_cert(const TestPki& pki, const Certificate& cert, const std::string& name) {
  const std::string path = test::own_file(pki, name + ".pem");
  test::write_text(path, cert.pem());
  return path;
}

// `openssl verify -x509_strict -CAfile root.pem -untrusted <issuer>.pem`: its output ("...: OK" when good).
std::string openssl_verify(const TestPki& pki, const std::string& path, const std::string& issuer = "estca") {
  const std::string out = test::own_file(pki, "verify.out");
  m2msec::test::run(pki.dir(), "{ openssl verify -x509_strict -CAfile '" + pki.file("root.pem") + "' -untrusted '" +
                                   pki.file(issuer + ".pem") + "' '" + path + "' >'" + out + "' 2>&1; }");
  return m2msec::test::read_file(out);
}

void expect_error(const Result<Certificate>& r, Category category, const std::string& detail_part) {
  ASSERT_FALSE(r) << detail_part;
  EXPECT_EQ(r.error().category(), category) << r.error().to_string();
  EXPECT_NE(r.error().detail().find(detail_part), std::string::npos) << r.error().detail();
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(IssuingCa, IssuesACseIdCertificateThatOpensslVerifies) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const IssuingCa ca = load_ca(pki, "estca");
  ASSERT_EQ(ca.chain().size(), 1u);
  EXPECT_EQ(ca.chain().front().der(), pki.cert("estca").der());
  const PrivateKey key = PrivateKey::generate_p256().value();
  const Csr csr = Csr::create(key, Flavour::kCseId, kCseId, "one-time").value();
  const Certificate cert = issued(ca, csr, only(Flavour::kCseId, kCseId));

  const std::string path = write_cert(pki, cert, "cse");
  EXPECT_EQ(openssl_verify(pki, path), path + ": OK\n");
  const std::string text = test::openssl_output(pki, "x509 -noout -text -in '" + path + "'");
  for (const char* expected :
       {"Version: 3 (0x2)", "Signature Algorithm: ecdsa-with-SHA256", "Issuer: CN = m2msec test EST CA",
        "Subject: CN = mn-cse2.in-cse.m2m.example.com", "ASN1 OID: prime256v1",
        "X509v3 Basic Constraints: critical\n                CA:FALSE\n",
        "X509v3 Key Usage: critical\n                Digital Signature\n", "X509v3 Subject Key Identifier: ",
        "X509v3 Authority Key Identifier: ",
        "X509v3 Subject Alternative Name: \n                DNS:mn-cse2.in-cse.m2m.example.com\n"}) {
    EXPECT_TRUE(contains(text, expected)) << expected << "\n" << text;
  }
  EXPECT_EQ(X509_get_ext_count(cert.native()), 5);  // those five, nothing else
  // The authority key identifier is estca's subject key identifier.
  const std::string ski_text =
      test::openssl_output(pki, "x509 -noout -ext subjectKeyIdentifier -in '" + pki.file("estca.pem") + "'");
  const auto ski_start = ski_text.find_first_not_of(' ', ski_text.find('\n') + 1);
  const std::string ski = ski_text.substr(ski_start, ski_text.find('\n', ski_start) - ski_start);
  EXPECT_TRUE(contains(text, "X509v3 Authority Key Identifier: \n                " + ski + "\n")) << ski_text << text;

  EXPECT_EQ(cert.spki_der(), key.spki_der());
  EXPECT_TRUE(check_profile(cert, Flavour::kCseId));
  EXPECT_TRUE(matches(cert, Flavour::kCseId, kCseId));
  const std::vector<Certificate> estca{pki.cert("estca")};
  auto valid = validate_path(cert, estca, TrustStore::load(pki.file("root.pem"), pki.file("estca.crl.pem")).value(),
                             std::chrono::system_clock::now());
  EXPECT_TRUE(valid) << (valid ? "" : valid.error().to_string());
}

TEST(IssuingCa, SerialIsSixteenRandomPositiveOctetsAndValidityIsBackdated) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const auto start = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  const IssuingCa ca = load_ca(pki, "estca", std::make_shared<ManualClock>(start));
  std::set<std::string> serials;
  for (int i = 0; i < 4; ++i) {
    const Certificate cert = issued(ca, fresh_csr(Flavour::kCseId, kCseId), only(Flavour::kCseId, kCseId));
    const std::string path = write_cert(pki, cert, "serial");
    const std::string serial = test::openssl_output(pki, "x509 -noout -serial -in '" + path + "'");
    ASSERT_EQ(serial.size(), std::string("serial=\n").size() + 32) << serial;  // 16 octets in hex
    EXPECT_NE(std::string("4567").find(serial[7]), std::string::npos) << serial;  // positive, top octet >= 0x40
    serials.insert(serial);
    const std::time_t now = std::chrono::system_clock::to_time_t(start);
    EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_get0_notBefore(cert.native()), now - 300), 0);
    EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_get0_notAfter(cert.native()), now + kValidity.count()), 0);
    // The oracle agrees on the end: still valid a minute before it, no longer a minute after.
    const std::string checkend = "x509 -noout -in '" + path + "' -checkend ";
    EXPECT_TRUE(test::openssl(pki, checkend + std::to_string(kValidity.count() - 60)));
    EXPECT_FALSE(test::openssl(pki, checkend + std::to_string(kValidity.count() + 60)));
  }
  EXPECT_EQ(serials.size(), 4u);
}

TEST(IssuingCa, AeIdCertificateCarriesTheOnem2mUriUnderAUriNameConstraint) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const IssuingCa ca = load_ca(pki, "estca");
  // Asked for in the onem2m: form (ours) or in the scheme-less form (openssl's CSR): issued in the onem2m: form.
  const Csr legacy = Csr::from_pem(test::openssl_csr(pki, "legacy", test::kP256,
                                                     "-addext subjectAltName=URI:" + std::string(kAeId)))
                         .value();
  for (const Csr& csr : {fresh_csr(Flavour::kAeId, kAeId), legacy}) {
    const Certificate cert = issued(ca, csr, only(Flavour::kAeId, kAeId));
    const std::string path = write_cert(pki, cert, "ae");
    EXPECT_EQ(openssl_verify(pki, path), path + ": OK\n");
    const std::string text = test::openssl_output(pki, "x509 -noout -text -in '" + path + "'");
    EXPECT_TRUE(
        contains(text, "X509v3 Subject Alternative Name: \n                URI:onem2m://m2m.example.com/CSE1/Cae3\n"))
        << text;
    EXPECT_TRUE(contains(text, "Subject: CN = //m2m.example.com/CSE1/Cae3\n")) << text;
    EXPECT_EQ(identifiers(cert, Flavour::kAeId), Ids{kAeId});
    EXPECT_EQ(bound_identity(cert, Flavour::kAeId).value(), kAeId);
    EXPECT_TRUE(check_profile(cert, Flavour::kAeId));
  }
}

TEST(IssuingCa, OnlyAuthorisedIdentitiesAreIssued) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const IssuingCa ca = load_ca(pki, "estca");
  const Authorisation cse = only(Flavour::kCseId, kCseId);
  // Someone else's identity; another AE's AE-ID.
  expect_error(ca.issue(fresh_csr(Flavour::kCseId, "other-cse2.m2m.example.com"), cse), Category::kPolicy,
               "not authorised: other-cse2.m2m.example.com");
  expect_error(ca.issue(fresh_csr(Flavour::kAeId, "//m2m.example.com/CSE1/Cae4"), only(Flavour::kAeId, kAeId)),
               Category::kPolicy, "not authorised: onem2m://m2m.example.com/CSE1/Cae4");
  expect_error(ca.issue(fresh_csr(Flavour::kCseId, kCseId), Authorisation{}), Category::kPolicy, kCseId);
  // The exact value, in the flavour's form.
  expect_error(ca.issue(fresh_csr(Flavour::kCseId, "MN-CSE2.in-cse.m2m.example.com"), cse), Category::kPolicy,
               "MN-CSE2");
  const std::string as_uri =
      test::openssl_csr(pki, "as-uri", test::kP256, "-addext subjectAltName=URI:" + std::string(kCseId));
  expect_error(ca.issue(Csr::from_pem(as_uri).value(), cse), Category::kPolicy, kCseId);
  // Every entry must be authorised, whatever its type.
  const std::string two = test::openssl_csr(
      pki, "two", test::kP256, "-addext 'subjectAltName=DNS:" + std::string(kCseId) + ",DNS:evil2.m2m.example.com'");
  expect_error(ca.issue(Csr::from_pem(two).value(), cse), Category::kPolicy, "evil2.m2m.example.com");
  const std::string ip = test::openssl_csr(pki, "ip", test::kP256,
                                           "-addext 'subjectAltName=DNS:" + std::string(kCseId) + ",IP:192.0.2.1'");
  expect_error(ca.issue(Csr::from_pem(ip).value(), cse), Category::kPolicy, "another type");
  const std::string device = test::openssl_csr(pki, "device", test::kP256,
                                               "-addext 'subjectAltName=otherName:0.2.481.1;UTF8:100.3030.10011'");
  expect_error(ca.issue(Csr::from_pem(device).value(),
                        only(Flavour::kDevice, "0.2.481.1:0C0E3130302E333033302E3130303131")),
               Category::kUnsupported, "device");
  // Several authorised identities: the CSR may ask for any of them, and gets exactly those it asks for.
  const Authorisation both{{{Flavour::kCseId, kCseId}, {Flavour::kCseId, "mn-cse3.in-cse.m2m.example.com"}}};
  const std::string second = test::openssl_csr(pki, "second", test::kP256,
                                               "-addext subjectAltName=DNS:mn-cse3.in-cse.m2m.example.com");
  EXPECT_EQ(identifiers(issued(ca, Csr::from_pem(second).value(), both), Flavour::kCseId),
            Ids{"mn-cse3.in-cse.m2m.example.com"});
}

TEST(IssuingCa, CopiesNoExtensionOfTheRequest) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const IssuingCa ca = load_ca(pki, "estca");
  const std::string pem = test::openssl_csr(
      pki, "greedy", test::kP256,
      "-addext subjectAltName=DNS:" + std::string(kCseId) +
          " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
          " -addext extendedKeyUsage=serverAuth -addext 'nameConstraints=permitted;DNS:example.org'"
          " -addext 'crlDistributionPoints=URI:http://evil.example/crl'");
  const Certificate cert = issued(ca, Csr::from_pem(pem).value(), only(Flavour::kCseId, kCseId));
  const std::string path = write_cert(pki, cert, "greedy");
  EXPECT_EQ(openssl_verify(pki, path), path + ": OK\n");
  const std::string text = test::openssl_output(pki, "x509 -noout -text -in '" + path + "'");
  EXPECT_TRUE(contains(text, "CA:FALSE")) << text;
  for (const char* refused : {"CA:TRUE", "Certificate Sign", "CRL Sign", "Extended Key Usage", "Name Constraints",
                              "CRL Distribution Points", "evil.example"}) {
    EXPECT_FALSE(contains(text, refused)) << refused << "\n" << text;
  }
  EXPECT_EQ(X509_check_ca(cert.native()), 0);
}

TEST(IssuingCa, RefusesRequestsOutsideTheCsrProfile) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const IssuingCa ca = load_ca(pki, "estca");
  const Authorisation cse = only(Flavour::kCseId, kCseId);
  const std::string san = "-addext subjectAltName=DNS:" + std::string(kCseId);
  Bytes tampered = fresh_csr(Flavour::kCseId, kCseId).der();
  tampered.back() ^= 0x01;
  expect_error(ca.issue(Csr::from_der(tampered).value(), cse), Category::kProtocol, "bad signature");
  expect_error(ca.issue(Csr::from_pem(test::openssl_csr(pki, "rsa", test::kRsa2048, san)).value(), cse),
               Category::kProtocol, "id-ecPublicKey");
  expect_error(ca.issue(Csr::from_pem(test::openssl_csr(pki, "p384", test::kP384, san)).value(), cse),
               Category::kProtocol, "prime256v1");
  expect_error(ca.issue(Csr::from_pem(test::openssl_csr(pki, "none", test::kP256, "")).value(), cse),
               Category::kProtocol, "no subjectAltName");
  // Even when the wildcard itself is "authorised".
  expect_error(ca.issue(Csr::from_pem(test::openssl_csr(pki, "wild", test::kP256,
                                                        "-addext subjectAltName=DNS:*.m2m.example.com"))
                            .value(),
                        only(Flavour::kCseId, "*.m2m.example.com")),
               Category::kProtocol, "wildcard");
}

TEST(IssuingCa, ItsOwnNameConstraintsApply) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const IssuingCa estca = load_ca(pki, "estca");
  const IssuingCa inter = load_ca(pki, "int");
  // Authorised, but outside both CAs' DNS subtree.
  const std::string outside = "evil.other.example";
  expect_error(estca.issue(fresh_csr(Flavour::kCseId, outside), only(Flavour::kCseId, outside)), Category::kPolicy,
               "own constraints: certificate path validation: permitted subtree violation");
  expect_error(inter.issue(fresh_csr(Flavour::kCseId, outside), only(Flavour::kCseId, outside)), Category::kPolicy,
               "permitted subtree violation");
  // An AE-ID of another M2M-SP: outside estca's URI subtree; int constrains no URI.
  const std::string other_sp = "//m2m.other.example/CSE1/Cae1";
  expect_error(estca.issue(fresh_csr(Flavour::kAeId, other_sp), only(Flavour::kAeId, other_sp)), Category::kPolicy,
               "permitted subtree violation");
  const Certificate from_int = issued(inter, fresh_csr(Flavour::kAeId, other_sp), only(Flavour::kAeId, other_sp));
  EXPECT_TRUE(contains(openssl_verify(pki, write_cert(pki, from_int, "other-sp"), "int"), ": OK"));
  // A Node-ID URN has no host: estca's URI constraint cannot hold it (RFC 5280 4.2.1.10), int issues it.
  const std::string node = "urn:oid:0.2.481.1.100.3030.10012";
  expect_error(estca.issue(fresh_csr(Flavour::kNodeId, node), only(Flavour::kNodeId, node)), Category::kPolicy,
               "unsupported or invalid name syntax");
  const Certificate node_cert = issued(inter, fresh_csr(Flavour::kNodeId, node), only(Flavour::kNodeId, node));
  EXPECT_EQ(identifiers(node_cert, Flavour::kNodeId), Ids{node});
}

TEST(IssuingCa, AnIdentityTooLongForACommonNameGivesAnEmptySubject) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const IssuingCa ca = load_ca(pki, "estca");
  const std::string id = "a-rather-long-label-for-a-middle-node-cse-name.in-cse.m2m.example.com";
  ASSERT_GT(id.size(), 64u);  // ub-common-name
  const Certificate cert = issued(ca, fresh_csr(Flavour::kCseId, id), only(Flavour::kCseId, id));
  const std::string path = write_cert(pki, cert, "long");
  EXPECT_EQ(openssl_verify(pki, path), path + ": OK\n");  // -x509_strict: an empty subject needs a critical SAN
  const std::string text = test::openssl_output(pki, "x509 -noout -text -in '" + path + "'");
  EXPECT_TRUE(contains(text, "X509v3 Subject Alternative Name: critical\n                DNS:" + id + "\n")) << text;
  EXPECT_EQ(test::openssl_output(pki, "x509 -noout -subject -in '" + path + "'"), "subject=\n");
}

TEST(IssuingCa, IssuesFromManyThreadsAtOnce) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const IssuingCa ca = load_ca(pki, "estca");
  constexpr int kThreads = 4;
  constexpr int kEach = 8;
  std::vector<Csr> csrs;
  for (int i = 0; i < kThreads * kEach; ++i) csrs.push_back(fresh_csr(Flavour::kCseId, kCseId));
  std::vector<std::vector<std::string>> serials(kThreads);  // hex
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto cert = ca.issue(csrs[static_cast<std::size_t>(t * kEach + i)], only(Flavour::kCseId, kCseId));
        if (!cert) return;
        const ASN1_INTEGER* serial = X509_get0_serialNumber(cert->native());
        serials[static_cast<std::size_t>(t)].push_back(hex_encode(
            ByteView(ASN1_STRING_get0_data(serial), static_cast<std::size_t>(ASN1_STRING_length(serial)))));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<std::string> distinct;
  for (const auto& per_thread : serials) {
    EXPECT_EQ(per_thread.size(), static_cast<std::size_t>(kEach));
    distinct.insert(per_thread.begin(), per_thread.end());
  }
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kThreads * kEach));
}

TEST(IssuingCa, ChainMayGoUpToTheRoot) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const std::string chain = test::own_file(pki, "estca-chain.pem");
  test::write_text(chain, pki.cert("estca").pem() + pki.cert("root").pem());
  auto ca = IssuingCa::load(chain, pki.file("estca.key"), std::make_shared<SystemClock>(), kValidity);
  ASSERT_TRUE(ca) << ca.error().to_string();
  ASSERT_EQ(ca->chain().size(), 2u);
  EXPECT_EQ(ca->chain().back().der(), pki.cert("root").der());
  const Certificate cert = issued(*ca, fresh_csr(Flavour::kCseId, kCseId), only(Flavour::kCseId, kCseId));
  EXPECT_EQ(openssl_verify(pki, write_cert(pki, cert, "rooted")), test::own_file(pki, "rooted.pem") + ": OK\n");
}

TEST(IssuingCa, LoadRefusesWhatCannotIssue) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const auto clock = std::make_shared<SystemClock>();
  for (auto r : {IssuingCa::load(pki.file("estca.pem"), pki.file("int.key"), clock, kValidity),  // not its key
                 IssuingCa::load(pki.file("server.pem"), pki.file("server.key"), clock, kValidity),  // no CA
                 IssuingCa::load(pki.file("estca.pem"), pki.file("estca.key"), clock, 0s),
                 IssuingCa::load(pki.file("estca.pem"), pki.file("estca.key"), nullptr, kValidity),
                 IssuingCa::load(pki.file("absent.pem"), pki.file("estca.key"), clock, kValidity),
                 IssuingCa::load(pki.file("estca.pem"), pki.file("estca.pem"), clock, kValidity)}) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().category(), Category::kUsage) << r.error().to_string();
  }
}

}  // namespace
}  // namespace m2msec::pki

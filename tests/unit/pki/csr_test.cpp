// PKCS #10 requests of the TS-0003 V3.18.0 10.1.4 profile: CSRs written by `openssl req` (the independent
// oracle) parsed and checked by m2msec, and m2msec's own CSRs verified and printed by `openssl req`. Also
// the key generation and PEM output that requesting a certificate needs.
#include "m2msec/pki/csr.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "openssl_cli.h"
#include "test_pki.h"

namespace m2msec::pki {
namespace {

using test::TestPki;
using Ids = std::vector<std::string>;

void expect_protocol_error(const Result<void>& r, const std::string& detail_part) {
  ASSERT_FALSE(r) << detail_part;
  EXPECT_EQ(r.error().category(), Category::kProtocol);
  EXPECT_NE(r.error().detail().find(detail_part), std::string::npos) << r.error().detail();
}

Csr parse(const std::string& pem) {
  auto csr = Csr::from_pem(pem);
  EXPECT_TRUE(csr) << (csr ? "" : csr.error().to_string()) << "\n" << pem;
  return std::move(csr).value();
}

// The CSR's PEM written to <name>.csr in the test's own directory (for the oracle to read).
std::string write_csr(const TestPki& pki, const Csr& csr, const std::string& name) {
  const std::string path = test::own_file(pki, name + ".csr");
  test::write_text(path, csr.pem());
  return path;
}

TEST(Csr, OpensslCsrParsesAndPassesTheProfile) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const std::string pem = test::openssl_csr(
      pki, "oracle", test::kP256,
      "-addext 'subjectAltName=DNS:mn-cse2.in-cse.m2m.example.com,URI:onem2m://m2m.example.com/CSE1/Cae9'");
  const Csr csr = parse(pem);
  EXPECT_EQ(csr.pem(), pem);
  const std::string csr_path = test::own_file(pki, "oracle.csr");
  const std::string der_path = test::own_file(pki, "oracle.der");
  ASSERT_TRUE(test::openssl(pki, "req -in '" + csr_path + "' -outform DER -out '" + der_path + "'"));
  const Bytes der = test::read_bytes(der_path);
  EXPECT_EQ(csr.der(), der);
  auto again = Csr::from_der(der);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->der(), der);
  const std::string spki_path = test::own_file(pki, "oracle.spki");
  ASSERT_TRUE(test::openssl(pki, "pkey -in '" + test::own_file(pki, "oracle.key") + "' -pubout -outform DER -out '" +
                                     spki_path + "'"));
  EXPECT_EQ(csr.spki_der(), test::read_bytes(spki_path));

  EXPECT_EQ(csr.identifiers(Flavour::kCseId), Ids{"mn-cse2.in-cse.m2m.example.com"});
  EXPECT_EQ(csr.identifiers(Flavour::kAeId), Ids{"//m2m.example.com/CSE1/Cae9"});
  EXPECT_EQ(csr.identifiers(Flavour::kFqdn),
            (Ids{"mn-cse2.in-cse.m2m.example.com", "onem2m://m2m.example.com/CSE1/Cae9"}));
  EXPECT_TRUE(csr.identifiers(Flavour::kDevice).empty());
  EXPECT_EQ(csr.challenge_password(), "oracle-secret");
  EXPECT_TRUE(csr.verify_signature());
  auto checked = check_csr_profile(csr);
  EXPECT_TRUE(checked) << (checked ? "" : checked.error().to_string());
}

TEST(Csr, CreateIsVerifiedAndPrintedByOpensslReq) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const PrivateKey key = PrivateKey::generate_p256().value();
  struct Case {
    Flavour flavour;
    const char* identifier;
    const char* printed;  // the subjectAltName entry as `openssl req -text` prints it
  };
  for (const Case& c :
       {Case{Flavour::kCseId, "mn-cse2.in-cse.m2m.example.com", "DNS:mn-cse2.in-cse.m2m.example.com"},
        Case{Flavour::kAeId, "//m2m.example.com/CSE1/Cae2", "URI:onem2m://m2m.example.com/CSE1/Cae2"},
        Case{Flavour::kNodeId, "urn:oid:0.2.481.1.100.3030.10011", "URI:urn:oid:0.2.481.1.100.3030.10011"},
        Case{Flavour::kFqdn, "mef.m2m.example.com", "DNS:mef.m2m.example.com"}}) {
    auto csr = Csr::create(key, c.flavour, c.identifier);
    ASSERT_TRUE(csr) << c.identifier << ": " << csr.error().to_string();
    const std::string path = write_csr(pki, *csr, "ours");
    EXPECT_TRUE(test::openssl_verifies_csr(pki, path)) << test::log_of(pki);
    const std::string text = test::openssl_output(pki, "req -text -noout -in '" + path + "'");
    EXPECT_NE(text.find("X509v3 Subject Alternative Name: \n                    " + std::string(c.printed) + "\n"),
              std::string::npos)
        << text;
    for (const char* expected :
         {"Subject: CN = m2msec", "ecdsa-with-SHA256", "ASN1 OID: prime256v1", "Requested Extensions:"}) {
      EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
    }
    EXPECT_EQ(text.find("challengePassword"), std::string::npos) << text;
    EXPECT_EQ(csr->identifiers(c.flavour), Ids{c.identifier});
    EXPECT_EQ(csr->spki_der(), key.spki_der());
    EXPECT_FALSE(csr->challenge_password());
    EXPECT_TRUE(check_csr_profile(*csr));
    auto reparsed = Csr::from_pem(csr->pem());
    ASSERT_TRUE(reparsed);
    EXPECT_EQ(reparsed->der(), csr->der());
  }
}

TEST(Csr, ChallengePasswordIsAUtf8String) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const std::string password = "p\xC3\xA4sswort \xE2\x82\xAC 42";  // "pässwort € 42"
  const Csr csr = Csr::create(PrivateKey::generate_p256().value(), Flavour::kCseId, "mn-cse2.in-cse.m2m.example.com",
                              password)
                      .value();
  EXPECT_EQ(csr.challenge_password(), password);
  const std::string path = write_csr(pki, csr, "pw");
  EXPECT_TRUE(test::openssl_verifies_csr(pki, path)) << test::log_of(pki);
  const std::string parsed = test::openssl_output(pki, "asn1parse -in '" + path + "'");
  const auto at = parsed.find(":challengePassword");
  ASSERT_NE(at, std::string::npos) << parsed;
  // OBJECT challengePassword, then its SET, then the value.
  const auto set_line = parsed.find('\n', at) + 1;
  const auto value_line = parsed.find('\n', set_line) + 1;
  EXPECT_NE(parsed.substr(value_line, parsed.find('\n', value_line) - value_line).find("prim: UTF8STRING"),
            std::string::npos)
      << parsed;
}

TEST(Csr, FromPemIsStrict) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const Csr csr = Csr::create(PrivateKey::generate_p256().value(), Flavour::kCseId, "a.m2m.example.com").value();
  const std::string good = csr.pem();
  ASSERT_EQ(good.back(), '\n');
  std::string crlf;
  for (char c : good) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  for (const std::string& ok : {good, good.substr(0, good.size() - 1), crlf}) {
    auto r = Csr::from_pem(ok);
    ASSERT_TRUE(r) << ok;
    EXPECT_EQ(r->der(), csr.der());
  }
  std::string long_line = good;  // join the first two base64 lines: one line of more than 64 characters
  long_line.erase(long_line.find('\n', long_line.find('\n') + 1), 1);
  std::string renamed = good;
  renamed.replace(renamed.find("CERTIFICATE REQUEST"), 19, "NEW CERTIFICATE REQUEST");
  std::string broken = good;
  broken[good.find('\n') + 10] = '!';
  for (const std::string& bad : {
           good + "x", good + "\n", "\n" + good, "text\n" + good, good + good, long_line, renamed, broken,
           good.substr(0, good.find("-----END")), good.substr(good.find('\n') + 1),
           test::openssl_output(pki, "x509 -in '" + pki.file("server.pem") + "'"), std::string()}) {
    auto r = Csr::from_pem(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().category(), Category::kProtocol) << bad;
  }
}

TEST(Csr, FromDerIsStrict) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  Bytes der = Csr::create(PrivateKey::generate_p256().value(), Flavour::kCseId, "a.m2m.example.com").value().der();
  der.push_back(0);
  Bytes half(der.begin(), der.begin() + static_cast<std::ptrdiff_t>(der.size() / 2));
  for (const Bytes& bad : {der, half, Bytes{}, pki.cert("server").der()}) {
    auto r = Csr::from_der(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().category(), Category::kProtocol);
  }
}

TEST(Csr, BadSignatureIsRefused) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  Bytes der = Csr::create(PrivateKey::generate_p256().value(), Flavour::kCseId, "a.m2m.example.com").value().der();
  der.back() ^= 0x01;  // the last octet of the ECDSA signature's s
  const Csr tampered = Csr::from_der(der).value();
  expect_protocol_error(tampered.verify_signature(), "bad signature");
  expect_protocol_error(check_csr_profile(tampered), "bad signature");
  EXPECT_FALSE(test::openssl_verifies_csr(pki, write_csr(pki, tampered, "tampered")));
}

TEST(Csr, KeysAndDigestsOutsideTheProfileAreRefused) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const std::string san = " -addext subjectAltName=DNS:a.m2m.example.com";
  const std::string named = test::own_file(pki, "named.key");
  ASSERT_TRUE(test::openssl(pki, "genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '" + named + "'"));
  const std::string compressed = test::own_file(pki, "compressed.key");
  ASSERT_TRUE(test::openssl(pki, "ec -in '" + named + "' -conv_form compressed -out '" + compressed + "'"));
  struct Case {
    std::string key;
    std::string options;
    const char* why;
  };
  for (const Case& c : {Case{test::kRsa2048, "", "10.1.1.1"}, Case{test::kP384, "", "prime256v1"},
                        Case{test::kP256, " -sha384", "not ecdsa-with-SHA256"},
                        Case{"-key '" + compressed + "'", "", "uncompressed"}}) {
    const Csr csr = parse(test::openssl_csr(pki, "out", c.key, san + c.options));
    EXPECT_TRUE(csr.verify_signature());  // well signed, just not in the profile
    expect_protocol_error(check_csr_profile(csr), c.why);
  }
  EXPECT_TRUE(check_csr_profile(parse(test::openssl_csr(pki, "named", "-key '" + named + "'", san))));
}

TEST(Csr, SubjectAltNameWithAnIdentifierAndNoWildcardIsRequired) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  struct Case {
    const char* options;
    const char* why;
  };
  for (const Case& c : {Case{"", "no subjectAltName"}, Case{"-addext basicConstraints=CA:false", "no subjectAltName"},
                        Case{"-addext subjectAltName=IP:192.0.2.1", "no identifier"},
                        Case{"-addext subjectAltName=DNS:*.m2m.example.com", "wildcard"},
                        Case{"-addext 'subjectAltName=DNS:a.m2m.example.com,URI:onem2m://m2m.example.com/CSE1/C*'",
                             "wildcard"}}) {
    const Csr csr = parse(test::openssl_csr(pki, "san", test::kP256, c.options));
    expect_protocol_error(check_csr_profile(csr), c.why);
  }
  // An IP address beside an identifier is no profile matter (the CA refuses to issue it).
  EXPECT_TRUE(check_csr_profile(
      parse(test::openssl_csr(pki, "ip", test::kP256, "-addext 'subjectAltName=DNS:a.m2m.example.com,IP:192.0.2.1'"))));
}

TEST(Csr, CreateRefusesWhatIsOutsideTheProfile) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const PrivateKey key = PrivateKey::generate_p256().value();
  auto device = Csr::create(key, Flavour::kDevice, "0.2.481.1:0C0E3130302E333033302E3130303131");
  ASSERT_FALSE(device);
  EXPECT_EQ(device.error().category(), Category::kUnsupported);
  for (auto [flavour, id] : {std::pair{Flavour::kAeId, "m2m.example.com/CSE1/Cae1"},
                             std::pair{Flavour::kAeId, "onem2m://m2m.example.com/CSE1/Cae1"},
                             std::pair{Flavour::kAeId, "//m2m.example.com/CSE1/C*"},
                             std::pair{Flavour::kCseId, "*.m2m.example.com"}, std::pair{Flavour::kCseId, "a b.example"},
                             std::pair{Flavour::kCseId, "//m2m.example.com/CSE1/Cae1"}, std::pair{Flavour::kFqdn, ""},
                             std::pair{Flavour::kNodeId, "urn:oid:1.2 3"}, std::pair{Flavour::kNodeId, "urn:*"}}) {
    auto r = Csr::create(key, flavour, id);
    ASSERT_FALSE(r) << id;
    EXPECT_EQ(r.error().category(), Category::kUsage) << id;
  }
  auto rsa = Csr::create(PrivateKey::load_pem_file(pki.file("rsa.key")).value(), Flavour::kCseId, "a.m2m.example.com");
  ASSERT_FALSE(rsa);
  EXPECT_EQ(rsa.error().category(), Category::kUsage);
  EXPECT_NE(rsa.error().detail().find("id-ecPublicKey"), std::string::npos) << rsa.error().detail();
  for (const std::string& password : {std::string("\xff\xfe"), std::string(256, 'x')}) {
    auto r = Csr::create(key, Flavour::kCseId, "a.m2m.example.com", password);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().category(), Category::kUsage);
  }
  EXPECT_EQ(Csr::create(key, Flavour::kCseId, "a.m2m.example.com", std::string(255, 'x'))->challenge_password(),
            std::string(255, 'x'));
}

TEST(Csr, ChallengePasswordOfOtherStringTypes) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  // A PrintableString (DirectoryString allows it), which `openssl req` writes under string_mask = default.
  const std::string cnf = test::own_file(pki, "printable.cnf");
  test::write_text(cnf,
                   "[ req ]\ndistinguished_name = dn\nattributes = attrs\nprompt = no\nstring_mask = default\n"
                   "[ dn ]\nCN = oracle\n[ attrs ]\nchallengePassword = printable\n");
  const std::string path = test::own_file(pki, "printable.csr");
  ASSERT_TRUE(test::openssl(pki, "req -new " + test::kP256 + " -noenc -keyout '" + test::own_file(pki, "p.key") +
                                     "' -config '" + cnf + "' -addext subjectAltName=DNS:a.m2m.example.com -out '" +
                                     path + "'"))
      << test::log_of(pki);
  ASSERT_NE(test::openssl_output(pki, "asn1parse -in '" + path + "'").find("PRINTABLESTRING   :printable"),
            std::string::npos);
  EXPECT_EQ(parse(m2msec::test::read_file(path)).challenge_password(), "printable");
}

// ---- what requesting a certificate needs besides the CSR ------------------------------------------------

TEST(PrivateKey, GenerateP256GivesAProfileKeyAsPkcs8Pem) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const PrivateKey key = PrivateKey::generate_p256().value();
  const std::string pem = key.pem();
  EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u);
  const std::string path = test::own_file(pki, "generated.key");
  test::write_text(path, pem);
  const std::string text = test::openssl_output(pki, "pkey -in '" + path + "' -noout -text");
  EXPECT_NE(text.find("ASN1 OID: prime256v1"), std::string::npos) << text;
  EXPECT_NE(text.find("pub:\n    04:"), std::string::npos) << text;  // uncompressed
  const std::string spki = test::own_file(pki, "generated.spki");
  ASSERT_TRUE(test::openssl(pki, "pkey -in '" + path + "' -pubout -outform DER -out '" + spki + "'"));
  EXPECT_EQ(key.spki_der(), test::read_bytes(spki));
  EXPECT_EQ(PrivateKey::load_pem_file(path).value().spki_der(), key.spki_der());
  EXPECT_NE(PrivateKey::generate_p256().value().spki_der(), key.spki_der());
}

TEST(Certificate, PemIsWhatOpensslWrites) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  for (const char* name : {"server", "ae_scheme", "root"}) {
    const Certificate cert = pki.cert(name);
    EXPECT_EQ(cert.pem(), test::openssl_output(pki, "x509 -in '" + pki.file(std::string(name) + ".pem") + "'"));
  }
}

}  // namespace
}  // namespace m2msec::pki

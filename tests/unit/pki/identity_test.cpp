// Certificate identities (TS-0003 V3.18.0 8.1.2.1, 8.1.2.5, 8.2.2.2 step 4) and RFC 6920 public key
// identifiers (10.1.2). Expected identifiers are the subjectAltName values testpki.py asked openssl to
// write; expected ni URIs are computed by Python's hashlib and base64 (never by m2msec).
#include "m2msec/pki/identity.h"

#include <gtest/gtest.h>

#include <string>

#include "m2msec/core/encoding.h"
#include "test_pki.h"

namespace m2msec::pki {
namespace {

using test::TestPki;
using Ids = std::vector<std::string>;

TEST(Flavour, NamesRoundTrip) {
  for (Flavour f : {Flavour::kDevice, Flavour::kNodeId, Flavour::kCseId, Flavour::kAeId, Flavour::kFqdn}) {
    EXPECT_EQ(flavour_named(flavour_name(f)), f);
  }
  EXPECT_EQ(flavour_name(Flavour::kNodeId), "node-id");
  EXPECT_EQ(flavour_name(Flavour::kCseId), "cse-id");
  EXPECT_FALSE(flavour_named("CSE-ID"));
  EXPECT_FALSE(flavour_named("raw"));
}

TEST(Identifiers, PerFlavourInSubjectAltNameForm) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  EXPECT_EQ(identifiers(pki.cert("server"), Flavour::kCseId), Ids{"in-cse.m2m.example.com"});
  EXPECT_EQ(identifiers(pki.cert("client"), Flavour::kCseId), Ids{"mn-cse.in-cse.m2m.example.com"});
  EXPECT_EQ(identifiers(pki.cert("server"), Flavour::kFqdn), Ids{"in-cse.m2m.example.com"});
  EXPECT_EQ(identifiers(pki.cert("ae"), Flavour::kAeId), Ids{"//m2m.example.com/CSE1/Cae1"});
  EXPECT_EQ(identifiers(pki.cert("ae"), Flavour::kFqdn), Ids{"//m2m.example.com/CSE1/Cae1"});
  EXPECT_EQ(identifiers(pki.cert("node"), Flavour::kNodeId), Ids{"urn:oid:0.2.481.1.100.3030.10011"});
  // otherName 0.2.481.1 with value UTF8String "100.3030.10011": DER 0C 0E then the 14 ASCII octets
  // (X.690 8.23, written out by hand).
  EXPECT_EQ(identifiers(pki.cert("device"), Flavour::kDevice), Ids{"0.2.481.1:0C0E3130302E333033302E3130303131"});
  // A name of another form is not an identifier of the flavour.
  EXPECT_TRUE(identifiers(pki.cert("server"), Flavour::kAeId).empty());
  EXPECT_TRUE(identifiers(pki.cert("ae"), Flavour::kCseId).empty());
  EXPECT_TRUE(identifiers(pki.cert("server"), Flavour::kDevice).empty());
  EXPECT_TRUE(identifiers(pki.cert("device"), Flavour::kNodeId).empty());
  EXPECT_TRUE(identifiers(pki.cert("root"), Flavour::kCseId).empty());  // no subjectAltName at all
}

TEST(Matches, CseIdIsExactButCaseInsensitive) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const Certificate server = pki.cert("server");
  EXPECT_TRUE(matches(server, Flavour::kCseId, "in-cse.m2m.example.com"));
  EXPECT_TRUE(matches(server, Flavour::kCseId, "IN-CSE.M2M.Example.COM"));
  for (const char* other : {"m2m.example.com", "cse.m2m.example.com", "xin-cse.m2m.example.com",
                            "in-cse.m2m.example.com.", "in-cse.m2m.example.co", "", "*.m2m.example.com",
                            "other-cse.m2m.example.com"}) {
    EXPECT_FALSE(matches(server, Flavour::kCseId, other)) << other;
  }
  EXPECT_FALSE(matches(server, Flavour::kAeId, "in-cse.m2m.example.com"));  // a dNSName is not an AE-ID
  EXPECT_TRUE(matches(pki.cert("client"), Flavour::kCseId, "mn-cse.in-cse.m2m.example.com"));
}

TEST(Matches, AeIdIsAnExactUri) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const Certificate ae = pki.cert("ae");
  EXPECT_TRUE(matches(ae, Flavour::kAeId, "//m2m.example.com/CSE1/Cae1"));
  for (const char* other : {"//m2m.example.com/CSE1/cae1", "//m2m.example.com/CSE1/Cae", "//m2m.example.com/CSE1",
                            "m2m.example.com", "//m2m.example.com/CSE1/Cae1/", "//m2m.example.com/CSE1/*"}) {
    EXPECT_FALSE(matches(ae, Flavour::kAeId, other)) << other;
  }
  EXPECT_FALSE(matches(ae, Flavour::kCseId, "//m2m.example.com/CSE1/Cae1"));
}

TEST(Matches, FqdnAcceptsDnsNameAndUri) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  EXPECT_TRUE(matches(pki.cert("server"), Flavour::kFqdn, "In-Cse.m2m.example.com"));
  EXPECT_TRUE(matches(pki.cert("ae"), Flavour::kFqdn, "//m2m.example.com/CSE1/Cae1"));
  EXPECT_FALSE(matches(pki.cert("server"), Flavour::kFqdn, "m2m.example.com"));
}

TEST(Matches, NodeIdAndDevice) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  EXPECT_TRUE(matches(pki.cert("node"), Flavour::kNodeId, "urn:oid:0.2.481.1.100.3030.10011"));
  EXPECT_FALSE(matches(pki.cert("node"), Flavour::kNodeId, "urn:oid:0.2.481.1.100.3030.1001"));
  EXPECT_TRUE(matches(pki.cert("device"), Flavour::kDevice, "0.2.481.1:0C0E3130302E333033302E3130303131"));
  EXPECT_TRUE(matches(pki.cert("device"), Flavour::kDevice, "0.2.481.1:0c0e3130302e333033302e3130303131"));
  EXPECT_FALSE(matches(pki.cert("device"), Flavour::kDevice, "0.2.481.1:0C0E3130302E333033302E3130303132"));
}

TEST(Matches, NoWildcardIsEverAccepted) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const Certificate wildcard = pki.cert("wildcard");  // SAN DNS:*.m2m.example.com
  EXPECT_EQ(identifiers(wildcard, Flavour::kCseId), Ids{"*.m2m.example.com"});
  for (const char* id : {"in-cse.m2m.example.com", "x.m2m.example.com", "*.m2m.example.com", "m2m.example.com"}) {
    EXPECT_FALSE(matches(wildcard, Flavour::kCseId, id)) << id;
    EXPECT_FALSE(matches(wildcard, Flavour::kFqdn, id)) << id;
  }
}

TEST(BoundIdentity, PerFlavour) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  EXPECT_EQ(bound_identity(pki.cert("server"), Flavour::kCseId).value(), "in-cse.m2m.example.com");
  EXPECT_EQ(bound_identity(pki.cert("ae"), Flavour::kAeId).value(), "//m2m.example.com/CSE1/Cae1");
  EXPECT_EQ(bound_identity(pki.cert("server"), Flavour::kFqdn).value(), "in-cse.m2m.example.com");
  // Credential-IDs (10.4, type 34 / 31): ':' (0x3A) is written "_3A", see docs/conformance.md.
  EXPECT_EQ(bound_identity(pki.cert("node"), Flavour::kNodeId).value(), "34-urn_3Aoid_3A0.2.481.1.100.3030.10011");
  EXPECT_EQ(bound_identity(pki.cert("device"), Flavour::kDevice).value(),
            "31-0.2.481.1_3A0C0E3130302E333033302E3130303131");
  // Each is a valid Credential-ID of the right type.
  const auto cred = keys::CredentialId::parse(bound_identity(pki.cert("node"), Flavour::kNodeId).value());
  ASSERT_TRUE(cred);
  EXPECT_EQ(cred->type(), keys::CredIdType::kTlsNodeIdCertificate);
}

TEST(BoundIdentity, NoIdentifierOfTheFlavourIsBadCertificate) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  for (auto [name, flavour] : {std::pair{"server", Flavour::kAeId}, std::pair{"server", Flavour::kNodeId},
                               std::pair{"ae", Flavour::kCseId}, std::pair{"node", Flavour::kDevice}}) {
    auto r = bound_identity(pki.cert(name), flavour);
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().category(), Category::kAuth);
    EXPECT_EQ(r.error().tls_alert(), 42);
  }
}

// ---- RFC 6920 public key identifiers -------------------------------------------------------------------

struct Suite {
  NiSuite suite;
  const char* name;
  int length;
};
constexpr Suite kSuites[] = {
    {NiSuite::kSha256, "sha-256", 32},
    {NiSuite::kSha256_128, "sha-256-128", 16},
    {NiSuite::kSha256_120, "sha-256-120", 15},
};

// The ni URI of a DER file computed by Python (hashlib, base64): the independent oracle.
std::string python_ni(const TestPki& pki, const std::string& der_file, const Suite& s) {
  const std::string out = pki.dir().file(der_file + "." + s.name + ".ni");
  const std::string code =
      "import base64,hashlib,sys; d=hashlib.sha256(open(sys.argv[1],'rb').read()).digest()[:int(sys.argv[3])]; "
      "open(sys.argv[2],'w').write('ni:///'+sys.argv[4]+';'+base64.urlsafe_b64encode(d).decode().rstrip('='))";
  const std::string cmd = std::string(M2MSEC_PYTHON3) + " -c \"" + code + "\" '" + pki.file(der_file) + "' '" + out +
                          "' " + std::to_string(s.length) + " " + s.name;
  EXPECT_EQ(m2msec::test::run(pki.dir(), cmd), 0) << m2msec::test::read_file(pki.dir().file("log"));
  return m2msec::test::read_file(out);
}

Bytes spki(const TestPki& pki, const std::string& name) {
  const std::string text = m2msec::test::read_file(pki.file(name + ".spki.der"));
  return Bytes(text.begin(), text.end());
}

TEST(PublicKeyId, EqualsPythonHashlibForEverySuite) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const Bytes server = spki(pki, "rpk_server");
  ASSERT_FALSE(server.empty());
  for (const Suite& s : kSuites) {
    const std::string expected = python_ni(pki, "rpk_server.spki.der", s);
    ASSERT_EQ(expected.rfind(std::string("ni:///") + s.name + ";", 0), 0u) << expected;
    const PublicKeyId id = PublicKeyId::of(server, s.suite);
    EXPECT_EQ(id.to_string(), expected);
    EXPECT_EQ(id.suite(), s.suite);
    auto parsed = PublicKeyId::parse(expected);
    ASSERT_TRUE(parsed) << expected;
    EXPECT_EQ(*parsed, id);
    EXPECT_TRUE(parsed->matches(server));
    EXPECT_FALSE(parsed->matches(spki(pki, "rpk_client")));
    EXPECT_FALSE(parsed->matches({}));
  }
  EXPECT_EQ(PublicKeyId::of(server), PublicKeyId::of(server, NiSuite::kSha256));
}

TEST(PublicKeyId, MatchesTheCertificateKeyToo) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const PublicKeyId id = PublicKeyId::of(pki.cert("server").spki_der(), NiSuite::kSha256_120);
  EXPECT_TRUE(id.matches(PrivateKey::load_pem_file(pki.file("server.key")).value().spki_der()));
  EXPECT_FALSE(id.matches(pki.cert("client").spki_der()));
}

TEST(PublicKeyId, ParseIsStrict) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const std::string good = python_ni(pki, "rpk_server.spki.der", kSuites[0]);
  const std::string digest = good.substr(good.find(';') + 1);  // 43 base64url characters
  const std::string short_digest = python_ni(pki, "rpk_server.spki.der", kSuites[1]);
  const std::string digest16 = short_digest.substr(short_digest.find(';') + 1);
  ASSERT_TRUE(PublicKeyId::parse(good));
  for (const std::string& bad : {
           "ni://example.com/sha-256;" + digest,  // authority
           "NI:///sha-256;" + digest,             // not the canonical lower-case scheme
           "nih:///sha-256;" + digest,            // another scheme
           "ni:/sha-256;" + digest,               // bad prefix
           "ni:///sha-512;" + digest,             // suite not allowed by 10.1.2
           "ni:///sha-256-32;" + digest,          // suite not allowed by 10.1.2
           "ni:///SHA-256;" + digest,             // suite names are lower case
           "ni:///sha-256" + digest,              // no ';'
           "ni:///sha-256;" + digest + "=",       // padding
           "ni:///sha-256;" + digest.substr(0, 42) + "+",  // not the URL-safe alphabet
           "ni:///sha-256;" + digest.substr(0, 42) + "$",
           "ni:///sha-256;" + digest + "?ct=text/plain",   // query parameters
           "ni:///sha-256;" + digest + " ",
           "ni:///sha-256;" + digest16,           // 16 octets under sha-256
           "ni:///sha-256-120;" + digest16,       // 16 octets under sha-256-120
           "ni:///sha-256-128;" + digest,         // 32 octets under sha-256-128
           std::string("ni:///sha-256;"),
           std::string(),
       }) {
    auto r = PublicKeyId::parse(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().category(), Category::kUsage);
    }
  }
  // A non-canonical last character (unused bits set) is refused by the base64url decoder: 32 octets
  // leave 2 unused bits in the 43rd character.
  std::string noncanonical = digest;
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  noncanonical.back() = alphabet[alphabet.find(digest.back()) | 1];
  EXPECT_FALSE(PublicKeyId::parse("ni:///sha-256;" + noncanonical));
}

}  // namespace
}  // namespace m2msec::pki

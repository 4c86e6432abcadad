// TS-0003 V3.18.0 10.1.1 certificate profiles (check_profile, check_ca_profile) and their use by
// validate_path; the onem2m: AE-ID URIs of 10.1.1.5. Certificates come from testpki.py or from the openssl CLI
// here, each made to break one rule; `openssl verify` accepts the out-of-profile ones (pki.testpki_selftest),
// so only the profile check refuses them.
#include "m2msec/pki/profile.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "m2msec/pki/identity.h"
#include "m2msec/pki/validate.h"
#include "openssl_cli.h"
#include "test_pki.h"

namespace m2msec::pki {
namespace {

using test::TestPki;
using Ids = std::vector<std::string>;

Clock::TimePoint now() { return std::chrono::system_clock::now(); }

void expect_bad_certificate(const Result<void>& r, const std::string& detail_part) {
  ASSERT_FALSE(r) << detail_part;
  EXPECT_EQ(r.error().category(), Category::kAuth);
  EXPECT_EQ(r.error().tls_alert(), 42);
  EXPECT_NE(r.error().detail().find(detail_part), std::string::npos) << r.error().detail();
}

// Leaf extensions of the profile, with the given subjectAltName, as -addext options.
std::string leaf_extensions(const std::string& san) {
  return "-addext basicConstraints=critical,CA:false -addext keyUsage=critical,digitalSignature "
         "-addext 'subjectAltName=" + san + "'";
}

// A self-signed certificate from `openssl req -x509`: key options (test::kP256, ... or "-key <file>"),
// then other options (extensions, digest).
Certificate self_signed(const TestPki& pki, const std::string& name, const std::string& key,
                        const std::string& options) {
  const std::string pem = test::own_file(pki, name + ".pem");
  EXPECT_TRUE(test::openssl(pki, "req -x509 -new " + key + " -noenc -keyout '" + test::own_file(pki, name + ".key") +
                                     "' -config '" + test::req_config(pki) + "' -days 1 -sha256 " + options +
                                     " -out '" + pem + "'"))
      << test::log_of(pki);
  auto certs = Certificate::load_pem_file(pem);
  EXPECT_TRUE(certs) << pem;
  return certs ? certs->front() : pki.cert("server");
}

TEST(Profile, TestPkiLeavesComply) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  for (auto [name, flavour] : {std::pair{"server", Flavour::kCseId}, std::pair{"client", Flavour::kCseId},
                               std::pair{"ae", Flavour::kAeId}, std::pair{"other", Flavour::kCseId},
                               std::pair{"node", Flavour::kNodeId}, std::pair{"device", Flavour::kDevice},
                               std::pair{"mef", Flavour::kFqdn}, std::pair{"expired", Flavour::kCseId},
                               std::pair{"revoked", Flavour::kCseId}, std::pair{"outside", Flavour::kCseId},
                               std::pair{"est_client", Flavour::kCseId}, std::pair{"est_revoked", Flavour::kCseId},
                               std::pair{"est_expired", Flavour::kCseId}, std::pair{"ae_scheme", Flavour::kAeId}}) {
    const Certificate cert = pki.cert(name);
    auto common = check_profile(cert, std::nullopt);
    EXPECT_TRUE(common) << name << ": " << common.error().to_string();
    auto with_flavour = check_profile(cert, flavour);
    EXPECT_TRUE(with_flavour) << name << ": " << with_flavour.error().to_string();
  }
}

TEST(Profile, TestPkiCasComply) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  for (const char* name : {"root", "int", "estca"}) {
    auto r = check_ca_profile(pki.cert(name));
    EXPECT_TRUE(r) << name << ": " << r.error().to_string();
  }
}

TEST(Profile, RsaKeyIsOutside) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  expect_bad_certificate(check_profile(pki.cert("rsa"), std::nullopt), "10.1.1.1): public key is not id-ecPublicKey");
  expect_bad_certificate(check_profile(pki.cert("rsa"), Flavour::kCseId), "id-ecPublicKey");
  expect_bad_certificate(check_ca_profile(pki.cert("rsa")), "id-ecPublicKey");
}

TEST(Profile, KeyUsageWithDigitalSignatureIsRequiredOfLeaves) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  expect_bad_certificate(check_profile(pki.cert("nokeyusage"), std::nullopt), "10.1.1.1): no keyUsage extension");
  EXPECT_TRUE(check_ca_profile(pki.cert("nokeyusage")));  // key and signature comply
  const Certificate agreement =
      self_signed(pki, "agreement", test::kP256,
                  "-addext keyUsage=critical,keyAgreement -addext subjectAltName=DNS:x.m2m.example.com");
  expect_bad_certificate(check_profile(agreement, std::nullopt), "keyUsage does not assert digitalSignature");
}

TEST(Profile, OnlyP256WithAnUncompressedPointAndANamedCurve) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const std::string ext = leaf_extensions("DNS:x.m2m.example.com");
  EXPECT_TRUE(check_profile(self_signed(pki, "p256", test::kP256, ext), Flavour::kCseId));
  expect_bad_certificate(check_profile(self_signed(pki, "p384", test::kP384, ext), std::nullopt),
                         "not the namedCurve prime256v1");

  // The same P-256 key with explicit curve parameters, and with a compressed point (openssl ec rewrites it).
  const std::string named = test::own_file(pki, "named.key");
  ASSERT_TRUE(test::openssl(pki, "genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '" + named + "'"));
  const std::string explicit_key = test::own_file(pki, "explicit.key");
  ASSERT_TRUE(test::openssl(pki, "pkey -in '" + named + "' -ec_param_enc explicit -out '" + explicit_key + "'"))
      << test::log_of(pki);
  const std::string compressed_key = test::own_file(pki, "compressed.key");
  ASSERT_TRUE(test::openssl(pki, "ec -in '" + named + "' -conv_form compressed -out '" + compressed_key + "'"));
  EXPECT_TRUE(check_profile(self_signed(pki, "named", "-key '" + named + "'", ext), std::nullopt));
  expect_bad_certificate(check_profile(self_signed(pki, "explicit", "-key '" + explicit_key + "'", ext), std::nullopt),
                         "not the namedCurve prime256v1");
  const Certificate compressed = self_signed(pki, "compressed", "-key '" + compressed_key + "'", ext);
  // The oracle shows the point as compressed (02 or 03 first), so nothing else is what is refused.
  const std::string text =
      test::openssl_output(pki, "x509 -noout -text -in '" + test::own_file(pki, "compressed.pem") + "'");
  const std::string first_octet = text.substr(text.find_first_not_of(" \n", text.find("pub:") + 4), 3);
  ASSERT_TRUE(first_octet == "02:" || first_octet == "03:") << text;
  expect_bad_certificate(check_profile(compressed, std::nullopt), "not an uncompressed point");
}

TEST(Profile, SignatureMustBeEcdsaWithSha256) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const std::string ext = leaf_extensions("DNS:x.m2m.example.com");
  const Certificate sha384 = self_signed(pki, "sha384", test::kP256, ext + " -sha384");
  expect_bad_certificate(check_profile(sha384, std::nullopt),
                         "10.1.1.3): signature algorithm is not ecdsa-with-SHA256");
  expect_bad_certificate(check_ca_profile(sha384), "ecdsa-with-SHA256");
}

TEST(Profile, FlavourNeedsAnIdentifierOfItsForm) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  expect_bad_certificate(check_profile(pki.cert("server"), Flavour::kAeId), "10.1.1.5): subjectAltName holds no ae-id");
  expect_bad_certificate(check_profile(pki.cert("ae"), Flavour::kCseId), "10.1.1.7): subjectAltName holds no cse-id");
  expect_bad_certificate(check_profile(pki.cert("device"), Flavour::kNodeId), "10.1.1.8)");
  expect_bad_certificate(check_profile(pki.cert("node"), Flavour::kDevice), "10.1.1.4.1)");
  expect_bad_certificate(check_profile(pki.cert("root"), Flavour::kFqdn), "10.1.1.6)");
}

TEST(Profile, NoWildcardAnywhere) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  EXPECT_TRUE(check_profile(pki.cert("wildcard"), std::nullopt));  // the common details comply
  expect_bad_certificate(check_profile(pki.cert("wildcard"), Flavour::kCseId), "wildcard in *.m2m.example.com");
  expect_bad_certificate(check_profile(pki.cert("wildcard"), Flavour::kFqdn), "wildcard");
  // A wildcard beside a good identifier, in another entry form, still counts.
  const Certificate mixed = self_signed(
      pki, "mixed", test::kP256, leaf_extensions("URI:onem2m://m2m.example.com/CSE1/Cae1,DNS:*.m2m.example.com"));
  expect_bad_certificate(check_profile(mixed, Flavour::kAeId), "wildcard");
  const Certificate uri = self_signed(pki, "uri", test::kP256, leaf_extensions("URI:onem2m://m2m.example.com/CSE1/C*"));
  expect_bad_certificate(check_profile(uri, Flavour::kAeId), "wildcard");
}

TEST(Profile, AeIdEntriesAreAbsoluteAeIds) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  for (const char* good : {"URI:onem2m://m2m.example.com/CSE1/Cae1", "URI://m2m.example.com/CSE1/Cae1",
                           "URI:onem2m://m2m.example.com/S0001", "URI:ONEM2M://m2m.example.com/CSE1/C1"}) {
    auto r = check_profile(self_signed(pki, "good", test::kP256, leaf_extensions(good)), Flavour::kAeId);
    EXPECT_TRUE(r) << good << ": " << (r ? "" : r.error().to_string());
  }
  for (const char* bad : {"URI:onem2m:m2m.example.com/CSE1/Cae1", "URI:https://m2m.example.com/CSE1/Cae1",
                          "URI://m2m.example.com/CSE1", "URI://m2m.example.com/CSE1/Xae1",
                          "URI:onem2m://m2m.example.com/CSE1/Cae1,URI:urn:oid:1.2.3"}) {
    expect_bad_certificate(check_profile(self_signed(pki, "bad", test::kP256, leaf_extensions(bad)), Flavour::kAeId),
                           "10.1.1.5): not an Absolute AE-ID");
  }
}

TEST(AbsoluteAeId, Syntax) {
  for (const char* good : {"//m2m.example.com/CSE1/Cae1", "//m2m.example.com/S98821", "//sp/CSE3219/C9886",
                           "//m2m.example.com/in-cse_1.x~/C-._~"}) {
    EXPECT_TRUE(is_absolute_ae_id(good)) << good;
  }
  for (const char* bad : {"", "/", "//", "//m2m.example.com", "//m2m.example.com/", "//m2m.example.com/CSE1",
                          "//m2m.example.com/Cae1", "//m2m.example.com/CSE1/Sae1", "//m2m.example.com/CSE1/",
                          "//m2m.example.com//Cae1", "//m2m.example.com/CSE1/Cae1/", "//m2m.example.com/CSE1/C/x",
                          "//m2m_example.com/CSE1/Cae1", "//-m2m.example.com/S1", "m2m.example.com/CSE1/Cae1",
                          "onem2m://m2m.example.com/CSE1/Cae1", "//m2m.example.com/CSE 1/Cae1",
                          "//m2m.example.com/CSE1/Cae%31", "//m2m.example.com:80/CSE1/Cae1", "//m2m.example.com/S*"}) {
    EXPECT_FALSE(is_absolute_ae_id(bad)) << bad;
  }
  EXPECT_EQ(ae_id_uri("//m2m.example.com/CSE1/Cae1"), "onem2m://m2m.example.com/CSE1/Cae1");
}

TEST(Identifiers, Onem2mSchemeUriGivesTheAbsoluteAeId) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const Certificate ae = pki.cert("ae_scheme");  // URI:onem2m://m2m.example.com/CSE1/Cae2
  EXPECT_EQ(identifiers(ae, Flavour::kAeId), Ids{"//m2m.example.com/CSE1/Cae2"});
  // Other flavours read the URI as it is.
  EXPECT_EQ(identifiers(ae, Flavour::kFqdn), Ids{"onem2m://m2m.example.com/CSE1/Cae2"});
  EXPECT_EQ(identifiers(ae, Flavour::kNodeId), Ids{"onem2m://m2m.example.com/CSE1/Cae2"});
  EXPECT_TRUE(matches(ae, Flavour::kAeId, "//m2m.example.com/CSE1/Cae2"));
  EXPECT_FALSE(matches(ae, Flavour::kAeId, "onem2m://m2m.example.com/CSE1/Cae2"));
  EXPECT_FALSE(matches(ae, Flavour::kAeId, "//m2m.example.com/CSE1/Cae1"));
  EXPECT_EQ(bound_identity(ae, Flavour::kAeId).value(), "//m2m.example.com/CSE1/Cae2");
  // The legacy scheme-less form gives the same kind of value.
  EXPECT_EQ(identifiers(pki.cert("ae"), Flavour::kAeId), Ids{"//m2m.example.com/CSE1/Cae1"});
  // Only "onem2m:" followed by "//" is the AE-ID scheme; other URIs are kept whole.
  const Certificate odd = self_signed(pki, "odd", test::kP256,
                                      leaf_extensions("URI:onem2m:CSE1/Cae1,URI:Onem2M://m2m.example.com/S1"));
  EXPECT_EQ(identifiers(odd, Flavour::kAeId), (Ids{"onem2m:CSE1/Cae1", "//m2m.example.com/S1"}));
}

// ---- validate_path applies the profiles -----------------------------------------------------------------

TEST(ValidatePath, LeafOutsideTheProfileIsBadCertificate) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const TrustStore trust = TrustStore::load(pki.file("root.pem")).value();
  const std::vector<Certificate> inter{pki.cert("int")};
  for (auto [name, why] : {std::pair{"rsa", "id-ecPublicKey"}, std::pair{"nokeyusage", "no keyUsage"}}) {
    auto r = validate_path(pki.cert(name), inter, trust, now());
    expect_bad_certificate(r, why);
    if (!r) {
      EXPECT_NE(r.error().detail().find("(depth 0)"), std::string::npos) << r.error().detail();
    }
  }
  // The identity form is not validate_path's business: a wildcard leaf passes it (matches() refuses it).
  EXPECT_TRUE(validate_path(pki.cert("wildcard"), inter, trust, now()));
}

// A CA (trust anchor) with a key made by `keygen` and a P-256 leaf it signs with ecdsa-with-SHA256, both
// from the openssl CLI.
std::pair<Certificate, Certificate> ca_and_leaf(const TestPki& pki, const std::string& name,
                                                const std::string& keygen) {
  const std::string ca = test::own_file(pki, name + "-ca.pem");
  const std::string ca_key = test::own_file(pki, name + "-ca.key");
  EXPECT_TRUE(test::openssl(pki, "req -x509 -new " + keygen + " -noenc -keyout '" + ca_key + "' -out '" + ca +
                                     "' -config '" + test::req_config(pki) +
                                     "' -days 1 -sha256 -addext basicConstraints=critical,CA:true "
                                     "-addext keyUsage=critical,keyCertSign,digitalSignature "
                                     "-addext subjectKeyIdentifier=hash"))
      << test::log_of(pki);
  const std::string ext = test::own_file(pki, name + "-leaf.cnf");
  test::write_text(ext,
                   "[ leaf ]\nbasicConstraints = critical, CA:false\nkeyUsage = critical, digitalSignature\n"
                   "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n"
                   "subjectAltName = DNS:leaf.m2m.example.com\n");
  test::openssl_csr(pki, name + "-leaf", test::kP256, "");
  const std::string leaf = test::own_file(pki, name + "-leaf.pem");
  EXPECT_TRUE(test::openssl(pki, "x509 -req -in '" + test::own_file(pki, name + "-leaf.csr") + "' -CA '" + ca +
                                     "' -CAkey '" + ca_key + "' -set_serial 7 -days 1 -sha256 -extfile '" + ext +
                                     "' -extensions leaf -out '" + leaf + "'"))
      << test::log_of(pki);
  return {Certificate::load_pem_file(ca).value().front(), Certificate::load_pem_file(leaf).value().front()};
}

TEST(ValidatePath, CaOutsideTheProfileIsBadCertificate) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  // Control: the same construction with a P-256 CA validates.
  const auto [good_ca, good_leaf] = ca_and_leaf(pki, "p256", test::kP256);
  EXPECT_TRUE(check_profile(good_leaf, Flavour::kCseId));
  auto ok = validate_path(good_leaf, {}, TrustStore({good_ca}, {}), now());
  EXPECT_TRUE(ok) << (ok ? "" : ok.error().to_string());
  // A P-384 CA key: the leaf itself complies, the path does not.
  const auto [ca, leaf] = ca_and_leaf(pki, "p384", test::kP384);
  EXPECT_TRUE(check_profile(leaf, Flavour::kCseId));
  auto r = validate_path(leaf, {}, TrustStore({ca}, {}), now());
  expect_bad_certificate(r, "prime256v1");
  if (!r) {
    EXPECT_NE(r.error().detail().find("(depth 1)"), std::string::npos) << r.error().detail();
  }
}

TEST(ValidatePath, EstCaLeaves) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const TrustStore with_crl = TrustStore::load(pki.file("root.pem"), pki.file("estca.crl.pem")).value();
  const std::vector<Certificate> estca{pki.cert("estca")};
  for (const char* name : {"est_client", "ae_scheme"}) {
    auto r = validate_path(pki.cert(name), estca, with_crl, now());
    EXPECT_TRUE(r) << name << ": " << (r ? "" : r.error().to_string());
  }
  auto revoked = validate_path(pki.cert("est_revoked"), estca, with_crl, now());
  ASSERT_FALSE(revoked);
  EXPECT_EQ(revoked.error().tls_alert(), 44);
  auto expired = validate_path(pki.cert("est_expired"), estca, with_crl, now());
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().tls_alert(), 45);
  // The FQDN certificate of the MEF, below int.
  const std::vector<Certificate> inter{pki.cert("int")};
  EXPECT_TRUE(validate_path(pki.cert("mef"), inter, TrustStore::load(pki.file("root.pem")).value(), now()));
}

}  // namespace
}  // namespace m2msec::pki

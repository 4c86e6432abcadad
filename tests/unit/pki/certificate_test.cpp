// Certificates, CRLs and private keys loaded from PEM; their DER and SPKI DER compared with what the
// openssl CLI writes for the same files.
#include "m2msec/pki/certificate.h"

#include <gtest/gtest.h>

#include <string>

#include "test_pki.h"

namespace m2msec::pki {
namespace {

using test::TestPki;

Bytes file_bytes(const std::string& path) {
  const std::string text = m2msec::test::read_file(path);
  return Bytes(text.begin(), text.end());
}

// Runs an openssl command line writing to <out> in this process's own directory (the PKI may be shared
// by the whole ctest run) and returns what it wrote.
Bytes openssl_output(const TestPki& pki, const std::string& args, const std::string& out) {
  EXPECT_EQ(m2msec::test::run(pki.dir(), "openssl " + args + " -out '" + pki.dir().file(out) + "'"), 0)
      << m2msec::test::read_file(pki.dir().file("log"));
  return file_bytes(pki.dir().file(out));
}

TEST(Certificate, DerAndSpkiMatchOpensslCli) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const Certificate server = pki.cert("server");
  const Bytes der = openssl_output(pki, "x509 -in '" + pki.file("server.pem") + "' -outform DER", "server.der");
  EXPECT_EQ(server.der(), der);
  const Bytes spki =
      openssl_output(pki, "pkey -in '" + pki.file("server.key") + "' -pubout -outform DER", "server.spki.der");
  EXPECT_EQ(server.spki_der(), spki);
  ASSERT_FALSE(spki.empty());

  auto again = Certificate::from_der(der);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->der(), der);
}

TEST(Certificate, FromDerRefusesTrailingOctetsAndGarbage) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  Bytes der = pki.cert("server").der();
  der.push_back(0);
  EXPECT_FALSE(Certificate::from_der(der));
  der.resize(der.size() / 2);
  EXPECT_FALSE(Certificate::from_der(der));
  EXPECT_FALSE(Certificate::from_der({}));
}

TEST(Certificate, ShareKeepsTheCertificateAlive) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const Certificate original = pki.cert("client");
  const Certificate shared = Certificate::share(original.native());
  EXPECT_EQ(shared.native(), original.native());
  EXPECT_EQ(shared.der(), original.der());
}

TEST(Certificate, LoadPemFileRefusesWhatIsNotACertificateList) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const std::string empty = pki.file("empty.pem");
  m2msec::test::write_file(empty, {});
  const std::string mixed = pki.file("mixed.pem");
  const std::string text =
      m2msec::test::read_file(pki.file("server.pem")) + m2msec::test::read_file(pki.file("server.key"));
  m2msec::test::write_file(mixed, as_bytes(text));
  const std::string broken = pki.file("broken.pem");
  std::string cut = m2msec::test::read_file(pki.file("server.pem"));
  cut.erase(40, 20);
  m2msec::test::write_file(broken, as_bytes(cut));
  for (const std::string& path :
       {pki.file("absent.pem"), empty, mixed, broken, pki.file("crl.pem"), pki.file("server.key")}) {
    auto r = Certificate::load_pem_file(path);
    ASSERT_FALSE(r) << path;
    EXPECT_EQ(r.error().category(), Category::kUsage);
  }
}

TEST(Crl, LoadsTheCrlAndRefusesCertificates) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  auto crls = Crl::load_pem_file(pki.file("crl.pem"));
  ASSERT_TRUE(crls);
  EXPECT_EQ(crls->size(), 1u);
  EXPECT_NE(crls->front().native(), nullptr);
  EXPECT_FALSE(Crl::load_pem_file(pki.file("int.pem")));
}

TEST(PrivateKey, SpkiMatchesTheOpensslCliAndTheCertificate) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  auto rpk = PrivateKey::load_pem_file(pki.file("rpk_server.key"));
  ASSERT_TRUE(rpk);
  EXPECT_EQ(rpk->spki_der(), file_bytes(pki.file("rpk_server.spki.der")));
  auto key = PrivateKey::load_pem_file(pki.file("server.key"));
  ASSERT_TRUE(key);
  EXPECT_EQ(key->spki_der(), pki.cert("server").spki_der());
  EXPECT_NE(key->spki_der(), pki.cert("client").spki_der());
}

TEST(PrivateKey, RefusesNonKeysAndEncryptedKeysWithoutPrompting) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  EXPECT_FALSE(PrivateKey::load_pem_file(pki.file("absent.key")));
  EXPECT_FALSE(PrivateKey::load_pem_file(pki.file("server.pem")));
  openssl_output(pki, "pkey -in '" + pki.file("server.key") + "' -aes-128-cbc -passout pass:secret", "enc.key");
  auto r = PrivateKey::load_pem_file(pki.file("enc.key"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().category(), Category::kUsage);
}

}  // namespace
}  // namespace m2msec::pki

// The certs-only PKCS #7 message of EST (RFC 7030 4.1.3), checked against `openssl pkcs7` /
// `openssl crl2pkcs7` / `openssl cms` as independent encoders and decoders.
#include "m2msec/pki/certs_only.h"

#include <gtest/gtest.h>

#include "openssl_cli.h"
#include "test_pki.h"

namespace m2msec::pki {
namespace {

using test::TestPki;

TEST(CertsOnly, OpensslReadsWhatWeWriteInOrder) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const std::vector<Certificate> certs{pki.cert("int"), pki.cert("server")};
  auto der = encode_certs_only(certs);
  ASSERT_TRUE(der) << der.error().to_string();
  const std::string p7 = test::own_file(pki, "p7.der"), out = test::own_file(pki, "p7.pem");
  m2msec::test::write_file(p7, *der);
  ASSERT_TRUE(test::openssl(pki, "pkcs7 -inform DER -in '" + p7 + "' -print_certs -out '" + out + "'"))
      << test::log_of(pki);
  auto got = Certificate::load_pem_file(out);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].der(), certs[0].der());
  EXPECT_EQ((*got)[1].der(), certs[1].der());
  // RFC 7030 4.1.3: a SignedData whose encapsulated content is id-data.
  const std::string asn1 = test::openssl_output(pki, "asn1parse -inform DER -in '" + p7 + "'");
  EXPECT_NE(asn1.find(":pkcs7-signedData"), std::string::npos) << asn1;
  EXPECT_NE(asn1.find(":pkcs7-data"), std::string::npos) << asn1;
}

TEST(CertsOnly, WeReadWhatOpensslWrites) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  const std::string p7 = test::own_file(pki, "theirs.der");
  ASSERT_TRUE(test::openssl(pki, "crl2pkcs7 -nocrl -certfile '" + pki.file("server.pem") + "' -certfile '" +
                                     pki.file("int.pem") + "' -outform DER -out '" + p7 + "'"))
      << test::log_of(pki);
  auto got = decode_certs_only(test::read_bytes(p7));
  ASSERT_TRUE(got) << got.error().to_string();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].der(), pki.cert("server").der());
  EXPECT_EQ((*got)[1].der(), pki.cert("int").der());
}

TEST(CertsOnly, RefusesWhatIsNotACertsOnlyMessage) {
  const TestPki& pki = TestPki::shared();
  ASSERT_TRUE(pki.ok());
  // A SignedData with a signer (openssl cms -sign) is not certs-only.
  const std::string text = test::own_file(pki, "msg.txt"), signed_der = test::own_file(pki, "signed.der");
  test::write_text(text, "hello");
  ASSERT_TRUE(test::openssl(pki, "cms -sign -in '" + text + "' -signer '" + pki.file("server.pem") + "' -inkey '" +
                                     pki.file("server.key") + "' -outform DER -out '" + signed_der + "'"))
      << test::log_of(pki);
  auto signed_message = decode_certs_only(test::read_bytes(signed_der));
  ASSERT_FALSE(signed_message);
  EXPECT_EQ(signed_message.error().category(), Category::kProtocol);

  const std::string empty = test::own_file(pki, "empty.der");
  ASSERT_TRUE(test::openssl(pki, "crl2pkcs7 -nocrl -outform DER -out '" + empty + "'")) << test::log_of(pki);
  EXPECT_FALSE(decode_certs_only(test::read_bytes(empty)));

  auto good = encode_certs_only(std::vector<Certificate>{pki.cert("server")});
  ASSERT_TRUE(good);
  Bytes trailing(good->size() + 1, 0);
  std::copy(good->begin(), good->end(), trailing.begin());
  EXPECT_FALSE(decode_certs_only(trailing));
  EXPECT_FALSE(decode_certs_only(Bytes(good->begin(), good->end() - 1)));
  EXPECT_FALSE(decode_certs_only(pki.cert("server").der()));
  EXPECT_FALSE(decode_certs_only({}));
}

}  // namespace
}  // namespace m2msec::pki

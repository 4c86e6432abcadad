// EST-coaps (RFC 9148) in front of the EST service: requests built from the RFC's description (short paths of
// §4.1 Table 1, the Content-Format numbers of §8.1, the response codes of §4.5 as c.dd octets), answered by a
// real est::Service with the test PKI's estca, over real DTLS 1.2 associations (PSK and certificate). What comes
// back is checked with the openssl CLI: the certs-only message and the single certificate it parses, the chain
// `openssl verify` accepts, the subject and subjectAltName it prints.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "../tls/pair.h"
#include "m2msec/coap/server.h"
#include "m2msec/core/clock.h"
#include "m2msec/core/encoding.h"
#include "m2msec/core/text.h"
#include "m2msec/est/coaps.h"
#include "m2msec/est/server.h"
#include "m2msec/pki/ca.h"
#include "oracle.h"

namespace m2msec::est {
namespace {

namespace lb = tls::loopback;
using m2msec::test::TempDir;

// RFC 7252 §3 / §12.1: a code is class << 5 | detail.
constexpr std::uint8_t kGet = 0x01, kPost = 0x02, kPut = 0x03;
constexpr std::uint8_t kChanged = 0x44, kContent = 0x45;  // 2.04, 2.05
constexpr std::uint8_t kBadRequest = 0x80, kUnauthorized = 0x81, kBadOption = 0x82, kForbidden = 0x83,
                       kNotFound = 0x84, kMethodNotAllowed = 0x85, kNotAcceptable = 0x86,
                       kUnsupportedFormat = 0x8F;  // 4.00 4.01 4.02 4.03 4.04 4.05 4.06 4.15
// RFC 7252 §5.10 option numbers.
constexpr std::uint16_t kUriPath = 11, kContentFormat = 12, kUriQuery = 15, kAccept = 17;
// RFC 9148 §8.1 Content-Formats, as the two-octet uint option values (RFC 7252 §3.2).
const Bytes kCf281{0x01, 0x19}, kCf285{0x01, 0x1D}, kCf286{0x01, 0x1E}, kCf287{0x01, 0x1F};
const Bytes kCfTextPlain{};  // 0, text/plain: the empty uint

constexpr std::string_view kKpmId = "enrolee-1";
constexpr std::string_view kUnlinkedKpmId = "enrolee-2";
constexpr std::string_view kLinkedCse = "newcse.in-cse.m2m.example.com";
constexpr std::string_view kKpm = "est-coaps-unit-test-Kpm-32-octet";  // ASCII: coap-client -k takes it as is

coap::Option opt(std::uint16_t number, std::string_view text) { return coap::Option{number, Bytes(text.begin(), text.end())}; }

// A request for /.well-known/est/<last> (or any path given as segments).
coap::Message request(std::uint8_t method, std::vector<std::string_view> segments, std::vector<coap::Option> more = {},
                      Bytes payload = {}) {
  coap::Message m;
  m.code = method;
  m.message_id = 0x4242;
  m.token = {0x01, 0x02};
  for (std::string_view s : segments) m.options.push_back(opt(kUriPath, s));
  for (auto& o : more) m.options.push_back(std::move(o));
  m.payload = std::move(payload);
  return m;
}
std::vector<std::string_view> est_path(std::string_view fn) { return {".well-known", "est", fn}; }

std::optional<Bytes> option_value(const coap::Message& m, std::uint16_t number) {
  for (const auto& o : m.options) {
    if (o.number == number) return o.value;
  }
  return std::nullopt;
}
std::string text(const coap::Message& m) { return std::string(as_text(m.payload)); }

// The openssl CLI in a scratch directory.
struct Openssl {
  TempDir dir{"est-coaps"};
  int calls = 0;
  // Runs cmd; its stdout and stderr.
  std::string out(const std::string& cmd, int* status = nullptr) {
    const std::string file = dir.file("out" + std::to_string(++calls));
    // (run() appends its own redirection to the log: the inner subshell's wins.)
    const int rc = m2msec::test::run(dir, "( ( " + cmd + " ) > '" + file + "' 2>&1 )");
    if (status) *status = rc;
    return m2msec::test::read_file(file);
  }
  std::string write(const std::string& name, ByteView data) {
    m2msec::test::write_file(dir.file(name), data);
    return dir.file(name);
  }
  // A P-256 CSR made by `openssl req` with this subjectAltName (and challengePassword), as DER.
  Bytes csr(const std::string& name, const std::string& san, const std::string& password = {}) {
    const std::string config = dir.file(name + ".cnf");
    const std::string conf = concat({"[req]\nprompt = no\ndistinguished_name = dn\n", password.empty() ? "" : "attributes = attrs\n",
                                     "[dn]\nCN = ", name, "\n", password.empty() ? "" : "[attrs]\nchallengePassword = ", password,
                                     password.empty() ? "" : "\n"});
    m2msec::test::write_file(config, as_bytes(conf));
    int rc = 0;
    const std::string log = out(concat({"openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -config '", config,
                                        "' -keyout '", dir.file(name + ".key"), "' -addext 'subjectAltName=", san,
                                        "' -outform DER -out '", dir.file(name + ".csr"), "'"}),
                                &rc);
    EXPECT_EQ(rc, 0) << log;
    const std::string der = m2msec::test::read_file(dir.file(name + ".csr"));
    return Bytes(der.begin(), der.end());
  }
};

const pki::test::TestPki& pki_files() { return pki::test::TestPki::shared(); }

std::shared_ptr<const Service> make_service(bool require_pop_linking = false) {
  const auto& p = pki_files();
  auto ca = pki::IssuingCa::load(p.file("estca.pem"), p.file("estca.key"), std::make_shared<SystemClock>(), std::chrono::hours(24));
  EXPECT_TRUE(ca) << ca.error().to_string();
  if (!ca) return nullptr;
  auto enrolees = std::make_shared<InMemoryEnrolees>();
  enrolees->add(std::string(kKpmId), pki::Authorisation{{{pki::Flavour::kCseId, std::string(kLinkedCse)}}});
  ServiceOptions o{std::make_shared<const pki::IssuingCa>(std::move(*ca)), enrolees, pki::Flavour::kCseId, require_pop_linking};
  return std::make_shared<const Service>(std::move(o));
}

// One DTLS 1.2 association over a datagram socketpair, kept for the whole suite.
struct Association {
  int fds[2] = {-1, -1};
  lb::Established ends;
  coap::Connection server_side() const { return coap::Connection{ends.server.get(), "127.0.0.1:5684"}; }
  ~Association() {
    ends = {};
    if (fds[0] >= 0) ::close(fds[0]);
    if (fds[1] >= 0) ::close(fds[1]);
  }
};

std::unique_ptr<Association> associate(const std::shared_ptr<tls::Context>& client, const std::shared_ptr<tls::Context>& server) {
  auto a = std::make_unique<Association>();
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, a->fds), 0);
  a->ends = lb::establish(client, server, a->fds);
  EXPECT_TRUE(a->ends.client && a->ends.server);
  return a;
}

std::shared_ptr<tls::Context> psk_server() {
  auto keys = std::make_shared<tls::InMemoryPskResolver>(tls::PskIdentityKind::kKpmId);
  EXPECT_TRUE(keys->add(kKpmId, SecretBytes::copy_of(as_bytes(kKpm))));
  EXPECT_TRUE(keys->add(kUnlinkedKpmId, SecretBytes::copy_of(as_bytes(kKpm))));
  tls::Config c;
  c.role = tls::Role::kServer;
  c.profile = tls::find_profile("ts0003-dtls12-psk");
  c.psk_resolver = std::move(keys);
  c.dtls_handshake_timeout = lb::kDtlsTimeout;
  return lb::must(tls::Context::create(std::move(c)));
}

std::shared_ptr<tls::Context> psk_client(std::string_view identity) {
  tls::Config c;
  c.profile = tls::find_profile("ts0003-dtls12-psk");
  c.server_name = "mef.m2m.example.com";
  c.psk = tls::ClientPsk{std::string(identity), SecretBytes::copy_of(as_bytes(kKpm))};
  c.dtls_handshake_timeout = lb::kDtlsTimeout;
  return lb::must(tls::Context::create(std::move(c)));
}

class EstCoaps : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(pki_files().ok());
    service = make_service();
    psk = associate(psk_client(kKpmId), psk_server()).release();
    unlinked = associate(psk_client(kUnlinkedKpmId), psk_server()).release();
    const tls::SecurityProfile* cert_profile = tls::find_profile("ts0003-dtls12-cert");
    lb::CertSetup server_setup;
    server_setup.client_certificate_optional = true;
    lb::CertSetup client_setup;
    client_setup.own = "client";  // DNS:mn-cse.in-cse.m2m.example.com, issued by int
    cert = associate(lb::cert_endpoint(tls::Role::kClient, cert_profile, client_setup),
                     lb::cert_endpoint(tls::Role::kServer, cert_profile, server_setup))
               .release();
  }
  static void TearDownTestSuite() {
    delete psk;
    delete unlinked;
    delete cert;
    service.reset();
  }

  coap::Message over_psk(const coap::Message& m) { return handle_coaps(*service, m, psk->server_side()); }
  coap::Message over_cert(const coap::Message& m) { return handle_coaps(*service, m, cert->server_side()); }

  // An issued certificate (281 certs-only, or 287 with single) checked by the openssl CLI: parsed, verified up to
  // root.pem through estca.pem, with this subjectAltName and CN.
  void expect_issued(const coap::Message& answer, const std::string& san, bool single = false) {
    ASSERT_EQ(answer.code, kChanged) << text(answer);
    ASSERT_EQ(option_value(answer, kContentFormat), single ? kCf287 : kCf281);
    expect_certificate(answer.payload, san, single);
  }

  void expect_certificate(ByteView payload, const std::string& san, bool single = false) {
    const std::string der = ssl.write("issued" + std::to_string(ssl.calls) + ".der", payload);
    const std::string pem = der + ".pem";
    int rc = 0;
    const std::string parsed = single ? ssl.out(concat({"openssl x509 -inform DER -in '", der, "' -out '", pem, "'"}), &rc)
                                      : ssl.out(concat({"openssl pkcs7 -inform DER -in '", der, "' -print_certs -out '", pem, "'"}), &rc);
    ASSERT_EQ(rc, 0) << parsed;
    const auto& p = pki_files();
    const std::string verified =
        ssl.out(concat({"openssl verify -x509_strict -CAfile '", p.file("root.pem"), "' -untrusted '", p.file("estca.pem"), "' '", pem, "'"}), &rc);
    EXPECT_EQ(rc, 0) << verified;
    const std::string names = ssl.out(concat({"openssl x509 -in '", pem, "' -noout -ext subjectAltName -subject -issuer -nameopt RFC2253"}));
    EXPECT_NE(names.find(san), std::string::npos) << names;
    // IssuingCa: CN = the first granted identity; the issuer is estca.
    const std::string cn = concat({"CN=", san.substr(san.find(':') + 1)});
    EXPECT_NE(names.find(concat({"subject=", cn})), std::string::npos) << names;
    const std::string estca_subject = ssl.out(concat({"openssl x509 -in '", p.file("estca.pem"), "' -noout -subject -nameopt RFC2253"}));
    EXPECT_NE(names.find("issuer=" + estca_subject.substr(std::string("subject=").size())), std::string::npos) << names << estca_subject;
  }

  std::string fingerprint_of_pem(const std::string& pem) {
    return ssl.out(concat({"openssl x509 -in '", pem, "' -noout -fingerprint -sha256"}));
  }

  static inline std::shared_ptr<const Service> service;
  static inline Association* psk = nullptr;
  static inline Association* unlinked = nullptr;
  static inline Association* cert = nullptr;
  Openssl ssl;
};

// --- RFC 9148 §4.1, §4.3, §4.5: the functions ---

TEST_F(EstCoaps, CrtsIsTheCaInCertsOnly281With205) {
  const coap::Message answer = over_psk(request(kGet, est_path("crts")));
  ASSERT_EQ(answer.code, kContent) << text(answer);
  EXPECT_EQ(option_value(answer, kContentFormat), kCf281);
  const std::string der = ssl.write("crts.p7", answer.payload);
  int rc = 0;
  const std::string log = ssl.out(concat({"openssl pkcs7 -inform DER -in '", der, "' -print_certs -out '", der, ".pem'"}), &rc);
  ASSERT_EQ(rc, 0) << log;
  EXPECT_EQ(fingerprint_of_pem(der + ".pem"), fingerprint_of_pem(pki_files().file("estca.pem")));
  // Binary DER, not the base64 of EST over HTTPS: a SEQUENCE.
  ASSERT_FALSE(answer.payload.empty());
  EXPECT_EQ(answer.payload[0], 0x30);
}

TEST_F(EstCoaps, CrtsWithAccept287IsTheSingleDerCertificate) {
  const coap::Message answer = over_cert(request(kGet, est_path("crts"), {coap::Option{kAccept, kCf287}}));
  ASSERT_EQ(answer.code, kContent) << text(answer);
  EXPECT_EQ(option_value(answer, kContentFormat), kCf287);
  const std::string der = ssl.write("crts.der", answer.payload);
  int rc = 0;
  const std::string log = ssl.out(concat({"openssl x509 -inform DER -in '", der, "' -out '", der, ".pem'"}), &rc);
  ASSERT_EQ(rc, 0) << log;
  EXPECT_EQ(fingerprint_of_pem(der + ".pem"), fingerprint_of_pem(pki_files().file("estca.pem")));
}

TEST_F(EstCoaps, AttIsCsrAttrs285With205) {
  const coap::Message answer = over_psk(request(kGet, est_path("att"), {coap::Option{kAccept, kCf285}}));
  ASSERT_EQ(answer.code, kContent) << text(answer);
  EXPECT_EQ(option_value(answer, kContentFormat), kCf285);
  const std::string der = ssl.write("att.der", answer.payload);
  int rc = 0;
  const std::string parsed = ssl.out(concat({"openssl asn1parse -inform DER -in '", der, "'"}), &rc);
  ASSERT_EQ(rc, 0) << parsed;
  // TS-0003 8.3.6.2.2 step 2 / 10.1.1: challengePassword, P-256, ecdsa-with-SHA256, subjectAltName requested.
  for (const char* want : {"challengePassword", "prime256v1", "ecdsa-with-SHA256", "X509v3 Subject Alternative Name"}) {
    EXPECT_NE(parsed.find(want), std::string::npos) << want << "\n" << parsed;
  }
}

TEST_F(EstCoaps, SenOverPskEnrolsTheLinkedIdentityWith204) {
  const Bytes csr = ssl.csr("newcse", concat({"DNS:", kLinkedCse}));
  const coap::Message answer = over_psk(request(kPost, est_path("sen"), {coap::Option{kContentFormat, kCf286}}, csr));
  expect_issued(answer, concat({"DNS:", kLinkedCse}));
}

TEST_F(EstCoaps, SenWithAccept287IsTheIssuedCertificateAlone) {
  const Bytes csr = ssl.csr("newcse287", concat({"DNS:", kLinkedCse}));
  const coap::Message answer = over_psk(
      request(kPost, est_path("sen"), {coap::Option{kContentFormat, kCf286}, coap::Option{kAccept, kCf287}}, csr));
  expect_issued(answer, concat({"DNS:", kLinkedCse}), true);
}

TEST_F(EstCoaps, SrenWithTheCurrentCertificateKeepsItsIdentity) {
  const Bytes csr = ssl.csr("renew", std::string("DNS:") + std::string(lb::kClientCse));
  const coap::Message answer = over_cert(request(kPost, est_path("sren"), {coap::Option{kContentFormat, kCf286}}, csr));
  expect_issued(answer, std::string("DNS:") + std::string(lb::kClientCse));
}

TEST_F(EstCoaps, TheHandlerServesTheSameAsHandleCoaps) {
  const coap::Handler handler = coaps_handler(service);
  const coap::Message answer = handler(request(kGet, est_path("crts")), psk->server_side());
  EXPECT_EQ(answer.code, kContent);
  EXPECT_EQ(option_value(answer, kContentFormat), kCf281);
}

// --- RFC 9148 §4.1 discovery (RFC 6690) ---

TEST_F(EstCoaps, DiscoveryListsTheEstResourcesInLinkFormat) {
  const coap::Message answer = over_psk(request(kGet, {".well-known", "core"}, {opt(kUriQuery, "rt=ace.est*")}));
  ASSERT_EQ(answer.code, kContent);
  EXPECT_EQ(option_value(answer, kContentFormat), Bytes{40});  // application/link-format
  const std::string links = text(answer);
  for (const char* want : {"</.well-known/est/crts>;rt=\"ace.est.crts\";ct=\"281 287\"",
                           "</.well-known/est/sen>;rt=\"ace.est.sen\";ct=\"281 287\"",
                           "</.well-known/est/sren>;rt=\"ace.est.sren\";ct=\"281 287\"",
                           "</.well-known/est/att>;rt=\"ace.est.att\";ct=285"}) {
    EXPECT_NE(links.find(want), std::string::npos) << want << "\n" << links;
  }
  // No server-side key generation is offered, so none is advertised.
  EXPECT_EQ(links.find("skg"), std::string::npos) << links;
  EXPECT_EQ(links.find("skc"), std::string::npos) << links;

  const coap::Message one = over_psk(request(kGet, {".well-known", "core"}, {opt(kUriQuery, "rt=ace.est.sen")}));
  EXPECT_EQ(text(one), "</.well-known/est/sen>;rt=\"ace.est.sen\";ct=\"281 287\"");
  const coap::Message none = over_psk(request(kGet, {".well-known", "core"}, {opt(kUriQuery, "rt=core.rd")}));
  EXPECT_EQ(none.code, kContent);
  EXPECT_TRUE(none.payload.empty());
}

// --- Failure paths ---

TEST_F(EstCoaps, SenWithAnotherContentFormatIs415) {
  const Bytes csr = ssl.csr("cf", concat({"DNS:", kLinkedCse}));
  for (const Bytes& cf : {kCfTextPlain, kCf281, kCf285}) {
    const coap::Message answer = over_psk(request(kPost, est_path("sen"), {coap::Option{kContentFormat, cf}}, csr));
    EXPECT_EQ(answer.code, kUnsupportedFormat) << text(answer);
    EXPECT_FALSE(option_value(answer, kContentFormat));  // a diagnostic payload has none (RFC 7252 5.5.2)
  }
  const coap::Message without = over_psk(request(kPost, est_path("sen"), {}, csr));
  EXPECT_EQ(without.code, kUnsupportedFormat) << text(without);
}

TEST_F(EstCoaps, UnknownPathsAre404) {
  EXPECT_EQ(over_psk(request(kGet, est_path("cacerts"))).code, kNotFound);  // the RFC 7030 long name is not a short one
  EXPECT_EQ(over_psk(request(kGet, est_path("nope"))).code, kNotFound);
  EXPECT_EQ(over_psk(request(kGet, {".well-known", "est"})).code, kNotFound);
  EXPECT_EQ(over_psk(request(kGet, {".well-known", "est", "label", "crts"})).code, kNotFound);  // no CA labels
  EXPECT_EQ(over_psk(request(kGet, {"est", "crts"})).code, kNotFound);
  EXPECT_EQ(over_psk(request(kGet, {})).code, kNotFound);
  // Server-side key generation (OPTIONAL, RFC 9148 §4.2) is not offered.
  const Bytes csr = ssl.csr("skg", concat({"DNS:", kLinkedCse}));
  for (std::string_view fn : {"skg", "skc"}) {
    EXPECT_EQ(over_psk(request(kPost, est_path(fn), {coap::Option{kContentFormat, kCf286}}, csr)).code, kNotFound) << fn;
  }
}

TEST_F(EstCoaps, BadCsrIs400) {
  const Bytes garbage{0x30, 0x03, 0x02, 0x01, 0x00};
  EXPECT_EQ(over_psk(request(kPost, est_path("sen"), {coap::Option{kContentFormat, kCf286}}, garbage)).code, kBadRequest);
  EXPECT_EQ(over_psk(request(kPost, est_path("sen"), {coap::Option{kContentFormat, kCf286}})).code, kBadRequest);
  // An RSA key is outside the TS-0003 10.1.1.1 profile the CA enforces.
  int rc = 0;
  const std::string log = ssl.out(concat({"openssl req -new -newkey rsa:2048 -noenc -subj /CN=rsa -keyout '", ssl.dir.file("rsa.key"),
                                          "' -addext 'subjectAltName=DNS:", kLinkedCse, "' -outform DER -out '", ssl.dir.file("rsa.csr"), "'"}),
                                  &rc);
  ASSERT_EQ(rc, 0) << log;
  const std::string rsa = m2msec::test::read_file(ssl.dir.file("rsa.csr"));
  const coap::Message answer = over_psk(request(kPost, est_path("sen"), {coap::Option{kContentFormat, kCf286}}, Bytes(rsa.begin(), rsa.end())));
  EXPECT_EQ(answer.code, kBadRequest) << text(answer);
}

TEST_F(EstCoaps, UnauthenticatedClientsAreRefused401) {
  const Bytes csr = ssl.csr("anon", concat({"DNS:", kLinkedCse}));
  const coap::Connection plain{nullptr, "127.0.0.1:5683"};
  EXPECT_EQ(handle_coaps(*service, request(kPost, est_path("sen"), {coap::Option{kContentFormat, kCf286}}, csr), plain).code, kUnauthorized);
  // RFC 9148 §4: unlike RFC 7030, /crts and /att need an authenticated client too.
  EXPECT_EQ(handle_coaps(*service, request(kGet, est_path("crts")), plain).code, kUnauthorized);
  EXPECT_EQ(handle_coaps(*service, request(kGet, est_path("att")), plain).code, kUnauthorized);
  // (A certificate association without a client certificate cannot be made with our own DTLS client, which
  // needs one for a certificate profile; Service::enroll refuses it as it does over HTTPS, and the adapter's
  // gate is the same test on the peer's empty identifier.)
}

TEST_F(EstCoaps, ThePolicyOfTheServiceDecides403) {
  // A CSR for an identity that is not linked to the KpmID.
  const Bytes other = ssl.csr("other", "DNS:other-cse.m2m.example.com");
  EXPECT_EQ(over_psk(request(kPost, est_path("sen"), {coap::Option{kContentFormat, kCf286}}, other)).code, kForbidden);
  // A KpmID the MEF links to no identity.
  const Bytes csr = ssl.csr("unlinked", concat({"DNS:", kLinkedCse}));
  EXPECT_EQ(handle_coaps(*service, request(kPost, est_path("sen"), {coap::Option{kContentFormat, kCf286}}, csr), unlinked->server_side()).code,
            kForbidden);
  // Re-enrolment over PSK: TS-0003 8.3.6.2.3 wants the current certificate.
  EXPECT_EQ(over_psk(request(kPost, est_path("sren"), {coap::Option{kContentFormat, kCf286}}, csr)).code, kForbidden);
  // A certificate client enrols its own identity only.
  EXPECT_EQ(over_cert(request(kPost, est_path("sen"), {coap::Option{kContentFormat, kCf286}}, csr)).code, kForbidden);
}

TEST_F(EstCoaps, AnAcceptTheResourceCannotGiveIs406) {
  EXPECT_EQ(over_psk(request(kGet, est_path("crts"), {coap::Option{kAccept, kCf285}})).code, kNotAcceptable);
  EXPECT_EQ(over_psk(request(kGet, est_path("att"), {coap::Option{kAccept, kCf287}})).code, kNotAcceptable);
  EXPECT_EQ(over_psk(request(kGet, est_path("att"), {coap::Option{kAccept, Bytes{40}}})).code, kNotAcceptable);
  const Bytes csr = ssl.csr("acc", concat({"DNS:", kLinkedCse}));
  EXPECT_EQ(over_psk(request(kPost, est_path("sen"), {coap::Option{kContentFormat, kCf286}, coap::Option{kAccept, kCf286}}, csr)).code,
            kNotAcceptable);
}

TEST_F(EstCoaps, ALongerChainIsOnlyGivenAsCertsOnly) {
  // A CA whose chain file holds estca and root: /crts has two certificates, which 287 cannot carry.
  const auto& p = pki_files();
  const std::string chain = ssl.dir.file("chain.pem");
  m2msec::test::write_file(chain, as_bytes(m2msec::test::read_file(p.file("estca.pem")) + m2msec::test::read_file(p.file("root.pem"))));
  auto ca = pki::IssuingCa::load(chain, p.file("estca.key"), std::make_shared<SystemClock>(), std::chrono::hours(24));
  ASSERT_TRUE(ca) << ca.error().to_string();
  const Service two(ServiceOptions{std::make_shared<const pki::IssuingCa>(std::move(*ca)), nullptr, pki::Flavour::kCseId, false});
  EXPECT_EQ(handle_coaps(two, request(kGet, est_path("crts"), {coap::Option{kAccept, kCf287}}), psk->server_side()).code, kNotAcceptable);
  const coap::Message both = handle_coaps(two, request(kGet, est_path("crts")), psk->server_side());
  ASSERT_EQ(both.code, kContent);
  const std::string der = ssl.write("two.p7", both.payload);
  const std::string printed = ssl.out(concat({"openssl pkcs7 -inform DER -in '", der, "' -print_certs -noout"}));
  std::size_t subjects = 0;
  for (auto at = printed.find("subject="); at != std::string::npos; at = printed.find("subject=", at + 1)) ++subjects;
  EXPECT_EQ(subjects, 2u) << printed;
}

TEST_F(EstCoaps, AWrongMethodIs405AndAnUnknownCriticalOptionIs402) {
  EXPECT_EQ(over_psk(request(kPost, est_path("crts"))).code, kMethodNotAllowed);
  EXPECT_EQ(over_psk(request(kGet, est_path("sen"))).code, kMethodNotAllowed);
  EXPECT_EQ(over_psk(request(kPut, est_path("sen"), {coap::Option{kContentFormat, kCf286}})).code, kMethodNotAllowed);
  EXPECT_EQ(over_psk(request(kPost, {".well-known", "core"})).code, kMethodNotAllowed);
  // RFC 7252 5.4.1: option 9 is odd, so critical (OSCORE, RFC 8613, which this endpoint does not do); an even
  // (elective) option it does not know, 2, is ignored.
  EXPECT_EQ(over_psk(request(kGet, est_path("crts"), {coap::Option{9, {}}})).code, kBadOption);
  EXPECT_EQ(over_psk(request(kGet, est_path("crts"), {coap::Option{2, {}}})).code, kContent);
}

// --- RFC 7030 3.5 / RFC 9148 §3: PoP linking with the association's tls-unique ---

TEST_F(EstCoaps, PopLinkingUsesTheDtlsChannelBinding) {
  const auto strict = make_service(true);
  ASSERT_TRUE(strict);
  auto binding = psk->ends.client->channel_binding();
  ASSERT_TRUE(binding) << binding.error().to_string();
  const Bytes linked = ssl.csr("linked", concat({"DNS:", kLinkedCse}), base64_encode(*binding));
  expect_issued(handle_coaps(*strict, request(kPost, est_path("sen"), {coap::Option{kContentFormat, kCf286}}, linked), psk->server_side()),
                concat({"DNS:", kLinkedCse}));
  const Bytes wrong = ssl.csr("wrong", concat({"DNS:", kLinkedCse}), "AAAAAAAAAAAAAAAA");
  EXPECT_EQ(handle_coaps(*strict, request(kPost, est_path("sen"), {coap::Option{kContentFormat, kCf286}}, wrong), psk->server_side()).code,
            kBadRequest);
  const Bytes none = ssl.csr("none", concat({"DNS:", kLinkedCse}));
  EXPECT_EQ(handle_coaps(*strict, request(kPost, est_path("sen"), {coap::Option{kContentFormat, kCf286}}, none), psk->server_side()).code,
            kBadRequest);
}

// --- End to end: coap::Server over DTLS-PSK with this handler, libcoap's coap-client (GnuTLS) as the client ---

TEST_F(EstCoaps, CoapClientGnutlsEnrolsOverDtlsPsk) {
  coap::ServerOptions options;
  options.dtls = psk_server();
  options.handler = coaps_handler(service);
  auto server = coap::Server::start(std::move(options));
  ASSERT_TRUE(server) << server.error().to_string();
  // localhost, not 127.0.0.1: libcoap would put an IP literal in SNI, which RFC 6066 §3 forbids and our server refuses.
  const std::string base = concat({"coaps://localhost:", std::to_string((*server)->port()), "/.well-known/est/"});
  const auto client = [&](std::string_view identity, const std::string& args, const std::string& out) {
    int rc = 0;
    const std::string log = ssl.out(concat({"coap-client-gnutls -B 15 -k '", kKpm, "' -u '", identity, "' ", args, " -o '", out, "'"}), &rc);
    return log;
  };

  // A CSR made by `openssl req`, POSTed as Content-Format 286 to /sen; the 281 answer goes to `openssl verify`.
  ssl.csr("e2e", concat({"DNS:", kLinkedCse}));
  const std::string issued = ssl.dir.file("e2e.p7");
  std::string log = client(kKpmId, concat({"-m post -t 286 -f '", ssl.dir.file("e2e.csr"), "' ", base, "sen"}), issued);
  const std::string p7 = m2msec::test::read_file(issued);
  ASSERT_FALSE(p7.empty()) << log;
  expect_certificate(as_bytes(p7), concat({"DNS:", kLinkedCse}));

  // GET /crts asking for 287: the DER estca certificate.
  const std::string crt = ssl.dir.file("crts.der");
  log = client(kKpmId, concat({"-m get -A 287 ", base, "crts"}), crt);
  int rc = 0;
  log += ssl.out(concat({"openssl x509 -inform DER -in '", crt, "' -out '", crt, ".pem'"}), &rc);
  ASSERT_EQ(rc, 0) << log;
  EXPECT_EQ(fingerprint_of_pem(crt + ".pem"), fingerprint_of_pem(pki_files().file("estca.pem")));

  // A KpmID linked to no identity: refused, coap-client reports 4.03 and writes no certificate.
  const std::string refused = ssl.dir.file("refused.p7");
  log = client(kUnlinkedKpmId, concat({"-m post -t 286 -f '", ssl.dir.file("e2e.csr"), "' ", base, "sen"}), refused);
  EXPECT_NE(log.find("4.03"), std::string::npos) << log;
  EXPECT_TRUE(m2msec::test::read_file(refused).empty());
  (*server)->stop();
}

}  // namespace
}  // namespace m2msec::est

// est::Client over EST-coaps (RFC 9148): the client against coap::Server with est::coaps_handler and a real
// est::Service (the test PKI's estca), over real DTLS 1.2 associations (PSK with a KpmID, and a client
// certificate). What the client sends is checked against the RFC's description (the short paths of §4.1 Table 1,
// the Content-Format numbers of §8.1 as uint option values, the method codes of RFC 7252 §12.1); what it gets is
// checked with the openssl CLI (`openssl verify`, the subject and subjectAltName it prints, fingerprints). Failure
// paths: a refused enrolment (4.03 and the server's diagnostic), a wrong PSK (no handshake), answers that are not
// what RFC 9148 §4.3-§4.7 describe (scripted handlers), contexts of the wrong transport. Last, the built `m2msec
// cert enroll --est coaps://localhost:PORT` against an in-test server.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../tls/pair.h"
#include "m2msec/coap/server.h"
#include "m2msec/http/server.h"
#include "m2msec/core/clock.h"
#include "m2msec/core/encoding.h"
#include "m2msec/core/text.h"
#include "m2msec/est/client.h"
#include "m2msec/est/coaps.h"
#include "m2msec/est/server.h"
#include "m2msec/pki/ca.h"
#include "oracle.h"

namespace m2msec::est {
namespace {

namespace lb = tls::loopback;
using m2msec::test::TempDir;

// RFC 7252 §12.1: a code is class << 5 | detail.
constexpr std::uint8_t kGet = 0x01, kPost = 0x02;
constexpr std::uint8_t kChanged = 0x44, kContent = 0x45, kForbidden = 0x83, kServiceUnavailable = 0xA3;
// RFC 7252 §5.10 option numbers.
constexpr std::uint16_t kUriHost = 3, kUriPath = 11, kContentFormat = 12, kMaxAge = 14, kAccept = 17;
// RFC 9148 §8.1 Content-Formats as two-octet uint option values (RFC 7252 §3.2): 281, 285, 286, 287.
const Bytes kCf281{0x01, 0x19}, kCf285{0x01, 0x1D}, kCf286{0x01, 0x1E}, kCf287{0x01, 0x1F};

constexpr std::string_view kKpmId = "enrolee-1";
constexpr std::string_view kUnlinkedKpmId = "enrolee-2";
constexpr std::string_view kLinkedCse = "newcse.in-cse.m2m.example.com";
constexpr std::string_view kKpm = "est-coaps-client-test-Kpm-32-oct";

const pki::test::TestPki& pki_files() { return pki::test::TestPki::shared(); }

// The openssl CLI in a scratch directory.
struct Openssl {
  TempDir dir{"est-coaps-client"};
  int calls = 0;
  std::string out(const std::string& cmd, int* status = nullptr) {
    const std::string file = dir.file("out" + std::to_string(++calls));
    const int rc = m2msec::test::run(dir, "( ( " + cmd + " ) > '" + file + "' 2>&1 )");
    if (status) *status = rc;
    return m2msec::test::read_file(file);
  }
  std::string write(const std::string& name, std::string_view data) {
    m2msec::test::write_file(dir.file(name), as_bytes(data));
    return dir.file(name);
  }
  // A P-256 CSR made by `openssl req` with this subjectAltName; the PEM file's path.
  std::string csr(const std::string& name, const std::string& san) {
    int rc = 0;
    const std::string log = out(concat({"openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -subj '/CN=", name,
                                        "' -keyout '", dir.file(name + ".key"), "' -addext 'subjectAltName=", san, "' -out '",
                                        dir.file(name + ".csr"), "'"}),
                                &rc);
    EXPECT_EQ(rc, 0) << log;
    return dir.file(name + ".csr");
  }
  pki::Csr load_csr(const std::string& path) {
    auto csr = pki::Csr::from_pem(m2msec::test::read_file(path));
    EXPECT_TRUE(csr) << csr.error().to_string();
    return std::move(*csr);
  }
  std::string fingerprint(const std::string& pem) { return out(concat({"openssl x509 -in '", pem, "' -noout -fingerprint -sha256"})); }

  // A PEM file of certificates checked by the openssl CLI: its first one verifies up to root.pem through estca.pem,
  // with this subjectAltName, CN = the identity, and estca as the issuer.
  void expect_issued(const std::string& pem, const std::string& san) {
    const auto& p = pki_files();
    int rc = 0;
    const std::string verified =
        out(concat({"openssl verify -x509_strict -CAfile '", p.file("root.pem"), "' -untrusted '", p.file("estca.pem"), "' '", pem, "'"}), &rc);
    EXPECT_EQ(rc, 0) << verified;
    const std::string names = out(concat({"openssl x509 -in '", pem, "' -noout -ext subjectAltName -subject -issuer -nameopt RFC2253"}));
    EXPECT_NE(names.find(san), std::string::npos) << names;
    EXPECT_NE(names.find(concat({"subject=CN=", san.substr(san.find(':') + 1)})), std::string::npos) << names;
    const std::string estca = out(concat({"openssl x509 -in '", p.file("estca.pem"), "' -noout -subject -nameopt RFC2253"}));
    EXPECT_NE(names.find("issuer=" + estca.substr(std::string("subject=").size())), std::string::npos) << names << estca;
  }
};

std::string pem_of(const std::vector<pki::Certificate>& certs) {
  std::string out;
  for (const pki::Certificate& c : certs) out += c.pem();
  return out;
}

std::shared_ptr<const Service> make_service() {
  const auto& p = pki_files();
  auto ca = pki::IssuingCa::load(p.file("estca.pem"), p.file("estca.key"), std::make_shared<SystemClock>(), std::chrono::hours(24));
  EXPECT_TRUE(ca) << ca.error().to_string();
  if (!ca) return nullptr;
  auto enrolees = std::make_shared<InMemoryEnrolees>();
  enrolees->add(std::string(kKpmId), pki::Authorisation{{{pki::Flavour::kCseId, std::string(kLinkedCse)}}});
  ServiceOptions o{std::make_shared<const pki::IssuingCa>(std::move(*ca)), enrolees, pki::Flavour::kCseId, false};
  return std::make_shared<const Service>(std::move(o));
}

std::shared_ptr<tls::Context> psk_server(std::string_view profile = "ts0003-dtls12-psk") {
  auto keys = std::make_shared<tls::InMemoryPskResolver>(tls::PskIdentityKind::kKpmId);
  EXPECT_TRUE(keys->add(kKpmId, SecretBytes::copy_of(as_bytes(kKpm))));
  EXPECT_TRUE(keys->add(kUnlinkedKpmId, SecretBytes::copy_of(as_bytes(kKpm))));
  tls::Config c;
  c.role = tls::Role::kServer;
  c.profile = tls::find_profile(profile);
  c.psk_resolver = std::move(keys);
  c.dtls_handshake_timeout = lb::kDtlsTimeout;
  return lb::must(tls::Context::create(std::move(c)));
}

std::shared_ptr<tls::Context> psk_client(std::string_view identity, std::string_view key = kKpm,
                                         std::string_view profile = "ts0003-dtls12-psk") {
  tls::Config c;
  c.profile = tls::find_profile(profile);
  c.server_name = "mef.m2m.example.com";
  c.psk = tls::ClientPsk{std::string(identity), SecretBytes::copy_of(as_bytes(key))};
  c.dtls_handshake_timeout = lb::kDtlsTimeout;
  return lb::must(tls::Context::create(std::move(c)));
}

std::shared_ptr<tls::Context> cert_server() {
  lb::CertSetup setup;
  setup.client_certificate_optional = true;
  return lb::cert_endpoint(tls::Role::kServer, tls::find_profile("ts0003-dtls12-cert"), setup);
}

std::shared_ptr<tls::Context> cert_client() {
  lb::CertSetup setup;
  setup.own = "client";  // DNS:mn-cse.in-cse.m2m.example.com, issued by int
  return lb::cert_endpoint(tls::Role::kClient, tls::find_profile("ts0003-dtls12-cert"), setup);
}

// Quick retransmissions, so that a failure does not take RFC 7252's 45 s.
coap::ClientOptions quick(std::size_t block_size = 1024) {
  coap::ClientOptions o;
  o.ack_timeout = std::chrono::milliseconds(300);
  o.max_retransmit = 2;
  o.block_size = block_size;
  return o;
}

// The requests a server's handler saw (whole, after block-wise reassembly), and what it answered.
struct Recorder {
  std::mutex mutex;
  std::vector<coap::Message> requests;
  std::vector<coap::Message> responses;
  coap::Handler wrap(coap::Handler inner) {
    return [this, inner = std::move(inner)](const coap::Message& request, const coap::Connection& connection) {
      coap::Message response = inner(request, connection);
      const std::lock_guard lock(mutex);
      requests.push_back(request);
      responses.push_back(response);
      return response;
    };
  }
  coap::Message last_request() {
    const std::lock_guard lock(mutex);
    return requests.empty() ? coap::Message{} : requests.back();
  }
  coap::Message last_response() {
    const std::lock_guard lock(mutex);
    return responses.empty() ? coap::Message{} : responses.back();
  }
};

std::vector<std::string> uri_path(const coap::Message& m) {
  std::vector<std::string> out;
  for (const auto& o : m.options) {
    if (o.number == kUriPath) out.emplace_back(as_text(o.value));
  }
  return out;
}
std::optional<Bytes> option_value(const coap::Message& m, std::uint16_t number) {
  for (const auto& o : m.options) {
    if (o.number == number) return o.value;
  }
  return std::nullopt;
}

std::unique_ptr<coap::Server> start(std::shared_ptr<const tls::Context> dtls, coap::Handler handler, std::size_t block_size = 1024) {
  coap::ServerOptions options;
  options.dtls = std::move(dtls);
  options.handler = std::move(handler);
  options.block_size = block_size;
  auto server = coap::Server::start(std::move(options));
  EXPECT_TRUE(server) << server.error().to_string();
  return server ? std::move(*server) : nullptr;
}

std::string base_of(const coap::Server& server, std::string_view host = "127.0.0.1") {
  return concat({"coaps://", host, ":", std::to_string(server.port())});
}

class EstCoapsClient : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(pki_files().ok());
    service = make_service();
  }
  static void TearDownTestSuite() { service.reset(); }

  Client client(const coap::Server& server, std::shared_ptr<const tls::Context> dtls, coap::ClientOptions o = quick()) {
    auto c = Client::create(base_of(server), std::move(dtls), o);
    EXPECT_TRUE(c) << c.error().to_string();
    return std::move(*c);
  }

  static inline std::shared_ptr<const Service> service;
  Openssl ssl;
  Recorder recorder;
};

// --- The functions (RFC 9148 §4.1, §4.3, §4.5) ---

TEST_F(EstCoapsClient, EnrolsOverPskWithTheRequestRfc9148Describes) {
  auto server = start(psk_server(), recorder.wrap(coaps_handler(service)));
  ASSERT_TRUE(server);
  const Client est = client(*server, psk_client(kKpmId));
  EXPECT_TRUE(est.over_coaps());
  const std::string csr_path = ssl.csr("newcse", concat({"DNS:", kLinkedCse}));
  auto issued = est.enroll(ssl.load_csr(csr_path));
  ASSERT_TRUE(issued) << issued.error().to_string();
  ASSERT_FALSE(issued->empty());
  ssl.expect_issued(ssl.write("newcse.pem", pem_of(*issued)), concat({"DNS:", kLinkedCse}));

  // The request: POST /.well-known/est/sen, Content-Format 286 with the DER CSR, Accept 281; an IP literal
  // host sends no Uri-Host (RFC 7252 §6.4 step 5).
  const coap::Message sent = recorder.last_request();
  EXPECT_EQ(sent.code, kPost);
  EXPECT_EQ(uri_path(sent), (std::vector<std::string>{".well-known", "est", "sen"}));
  EXPECT_EQ(option_value(sent, kContentFormat), kCf286);
  EXPECT_EQ(option_value(sent, kAccept), kCf281);
  EXPECT_FALSE(option_value(sent, kUriHost));
  // The payload is the binary DER of the CSR `openssl req` made (not base64, RFC 9148 §4.3).
  int rc = 0;
  const std::string der_path = ssl.dir.file("newcse.csr.der");
  const std::string log = ssl.out(concat({"openssl req -in '", csr_path, "' -outform DER -out '", der_path, "'"}), &rc);
  ASSERT_EQ(rc, 0) << log;
  const std::string der = m2msec::test::read_file(der_path);
  EXPECT_EQ(sent.payload, Bytes(der.begin(), der.end()));
  EXPECT_EQ(recorder.last_response().code, kChanged);
  server->stop();
}

TEST_F(EstCoapsClient, ReenrolsAndEnrolsOverACertificateAssociation) {
  auto server = start(cert_server(), recorder.wrap(coaps_handler(service)));
  ASSERT_TRUE(server);
  const Client est = client(*server, cert_client());
  const std::string san = std::string("DNS:") + std::string(lb::kClientCse);
  auto renewed = est.enroll(ssl.load_csr(ssl.csr("renew", san)), /*reenroll=*/true);
  ASSERT_TRUE(renewed) << renewed.error().to_string();
  ssl.expect_issued(ssl.write("renew.pem", pem_of(*renewed)), san);
  EXPECT_EQ(uri_path(recorder.last_request()), (std::vector<std::string>{".well-known", "est", "sren"}));
  EXPECT_EQ(recorder.last_request().code, kPost);

  auto enrolled = est.enroll(ssl.load_csr(ssl.csr("again", san)));
  ASSERT_TRUE(enrolled) << enrolled.error().to_string();
  ssl.expect_issued(ssl.write("again.pem", pem_of(*enrolled)), san);
  EXPECT_EQ(uri_path(recorder.last_request()), (std::vector<std::string>{".well-known", "est", "sen"}));
  server->stop();
}

TEST_F(EstCoapsClient, CrtsIsTheEstCaAndAttTheCsrAttributes) {
  auto server = start(psk_server(), recorder.wrap(coaps_handler(service)));
  ASSERT_TRUE(server);
  const Client est = client(*server, psk_client(kKpmId));
  auto ca = est.ca_certificates();
  ASSERT_TRUE(ca) << ca.error().to_string();
  ASSERT_EQ(ca->size(), 1u);
  EXPECT_EQ(ssl.fingerprint(ssl.write("crts.pem", pem_of(*ca))), ssl.fingerprint(pki_files().file("estca.pem")));
  coap::Message sent = recorder.last_request();
  EXPECT_EQ(sent.code, kGet);
  EXPECT_EQ(uri_path(sent), (std::vector<std::string>{".well-known", "est", "crts"}));
  EXPECT_EQ(option_value(sent, kAccept), kCf281);
  EXPECT_TRUE(sent.payload.empty());

  auto attrs = est.csr_attributes();
  ASSERT_TRUE(attrs) << attrs.error().to_string();
  sent = recorder.last_request();
  EXPECT_EQ(sent.code, kGet);
  EXPECT_EQ(uri_path(sent), (std::vector<std::string>{".well-known", "est", "att"}));
  EXPECT_EQ(option_value(sent, kAccept), kCf285);
  const std::string att = ssl.dir.file("att.der");
  m2msec::test::write_file(att, *attrs);
  int rc = 0;
  const std::string parsed = ssl.out(concat({"openssl asn1parse -inform DER -in '", att, "'"}), &rc);
  ASSERT_EQ(rc, 0) << parsed;
  // TS-0003 8.3.6.2.2 step 2 / 10.1.1: challengePassword, P-256, ecdsa-with-SHA256, subjectAltName requested.
  for (const char* want : {"challengePassword", "prime256v1", "ecdsa-with-SHA256", "X509v3 Subject Alternative Name"}) {
    EXPECT_NE(parsed.find(want), std::string::npos) << want << "\n" << parsed;
  }
  server->stop();
}

TEST_F(EstCoapsClient, SmallBlocksBothWays) {
  // RFC 7959: a 64-octet Block1 for the CSR and 64-octet Block2 answers from the server; the result is the same.
  auto server = start(psk_server(), recorder.wrap(coaps_handler(service)), 64);
  ASSERT_TRUE(server);
  const Client est = client(*server, psk_client(kKpmId), quick(64));
  auto issued = est.enroll(ssl.load_csr(ssl.csr("blocks", concat({"DNS:", kLinkedCse}))));
  ASSERT_TRUE(issued) << issued.error().to_string();
  ssl.expect_issued(ssl.write("blocks.pem", pem_of(*issued)), concat({"DNS:", kLinkedCse}));
  auto ca = est.ca_certificates();
  ASSERT_TRUE(ca) << ca.error().to_string();
  EXPECT_EQ(ssl.fingerprint(ssl.write("blocks-crts.pem", pem_of(*ca))), ssl.fingerprint(pki_files().file("estca.pem")));
  server->stop();
}

TEST_F(EstCoapsClient, AHostNameGoesIntoUriHostAndABasePathPrecedesTheEstPath) {
  auto server = start(psk_server(), recorder.wrap(coaps_handler(service)));
  ASSERT_TRUE(server);
  auto est = Client::create(concat({base_of(*server, "localhost"), "/"}), psk_client(kKpmId), quick());
  ASSERT_TRUE(est) << est.error().to_string();
  ASSERT_TRUE(est->ca_certificates());
  EXPECT_EQ(option_value(recorder.last_request(), kUriHost), Bytes({'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't'}));
  EXPECT_EQ(uri_path(recorder.last_request()), (std::vector<std::string>{".well-known", "est", "crts"}));

  // A base with a path: /mef/.well-known/est/crts, which this server does not serve (4.04, an error).
  auto nested = Client::create(concat({base_of(*server), "/mef"}), psk_client(kKpmId), quick());
  ASSERT_TRUE(nested) << nested.error().to_string();
  auto refused = nested->ca_certificates();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().detail().find("4.04"), std::string::npos) << refused.error().to_string();
  EXPECT_EQ(uri_path(recorder.last_request()), (std::vector<std::string>{"mef", ".well-known", "est", "crts"}));
  server->stop();
}

// --- Failures ---

TEST_F(EstCoapsClient, ARefusedEnrolmentCarriesTheCodeAndTheDiagnostic) {
  auto server = start(psk_server(), recorder.wrap(coaps_handler(service)));
  ASSERT_TRUE(server);
  // A KpmID the MEF links to no identity.
  const pki::Csr csr = ssl.load_csr(ssl.csr("unlinked", concat({"DNS:", kLinkedCse})));
  auto refused = client(*server, psk_client(kUnlinkedKpmId)).enroll(csr);
  ASSERT_FALSE(refused);
  const coap::Message answer = recorder.last_response();
  ASSERT_EQ(answer.code, kForbidden);
  ASSERT_FALSE(answer.payload.empty());
  EXPECT_EQ(refused.error().category(), Category::kPolicy) << refused.error().to_string();
  EXPECT_NE(refused.error().detail().find("4.03"), std::string::npos) << refused.error().to_string();
  EXPECT_NE(refused.error().detail().find(std::string(as_text(answer.payload))), std::string::npos)
      << refused.error().to_string() << " / " << as_text(answer.payload);
  // A linked KpmID asking for another identity.
  auto other = client(*server, psk_client(kKpmId)).enroll(ssl.load_csr(ssl.csr("other", "DNS:other-cse.m2m.example.com")));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().category(), Category::kPolicy);
  EXPECT_NE(other.error().detail().find("4.03"), std::string::npos) << other.error().to_string();
  // Re-enrolment over PSK (TS-0003 8.3.6.2.3 wants the current certificate): /sren refused.
  auto sren = client(*server, psk_client(kKpmId)).enroll(csr, true);
  ASSERT_FALSE(sren);
  EXPECT_EQ(uri_path(recorder.last_request()), (std::vector<std::string>{".well-known", "est", "sren"}));
  EXPECT_NE(sren.error().detail().find("4.03"), std::string::npos) << sren.error().to_string();
  server->stop();
}

TEST_F(EstCoapsClient, AWrongPskFailsTheHandshake) {
  auto server = start(psk_server(), recorder.wrap(coaps_handler(service)));
  ASSERT_TRUE(server);
  const Client est = client(*server, psk_client(kKpmId, "not-the-Kpm-the-MEF-holds-32-oct"));
  auto ca = est.ca_certificates();
  ASSERT_FALSE(ca);
  // A DTLS server drops records it cannot authenticate (RFC 6347 4.1.2.7), so the client's handshake times out.
  EXPECT_EQ(ca.error().category(), Category::kIo) << ca.error().to_string();
  EXPECT_NE(ca.error().detail().find("handshake"), std::string::npos) << ca.error().to_string();
  // No request reached the EST service.
  const std::lock_guard lock(recorder.mutex);
  EXPECT_TRUE(recorder.requests.empty());
  // An identity the MEF does not know either.
  auto unknown = client(*server, psk_client("stranger")).ca_certificates();
  ASSERT_FALSE(unknown);
  EXPECT_TRUE(recorder.requests.empty());
}

// Scripted handlers for answers a real service does not give.
TEST_F(EstCoapsClient, AnswersThatAreNotWhatRfc9148DescribesAreErrors) {
  coap::Message scripted;
  const auto script = [&scripted](const coap::Message&, const coap::Connection&) { return scripted; };
  auto server = start(psk_server(), script);
  ASSERT_TRUE(server);
  const Client est = client(*server, psk_client(kKpmId));
  const pki::Csr csr = ssl.load_csr(ssl.csr("scripted", concat({"DNS:", kLinkedCse})));
  // The estca certificate as the single DER certificate, which 287 would carry.
  const auto estca = pki::Certificate::load_pem_file(pki_files().file("estca.pem"));
  ASSERT_TRUE(estca);

  // RFC 9148 §4.7: 5.03 with Max-Age 30.
  scripted = coap::Message{};
  scripted.code = kServiceUnavailable;
  scripted.options = {coap::Option{kMaxAge, Bytes{30}}};
  const std::string_view later = "try later";
  scripted.payload = Bytes(later.begin(), later.end());
  auto delayed = est.enroll(csr);
  ASSERT_FALSE(delayed);
  EXPECT_NE(delayed.error().detail().find("5.03"), std::string::npos) << delayed.error().to_string();
  EXPECT_NE(delayed.error().detail().find("retry after 30 s"), std::string::npos) << delayed.error().to_string();
  EXPECT_NE(delayed.error().detail().find("try later"), std::string::npos) << delayed.error().to_string();

  // RFC 9148 §4.5: /sen succeeds with 2.04, not 2.05.
  scripted = coap::Message{};
  scripted.code = kContent;
  scripted.options = {coap::Option{kContentFormat, kCf281}};
  auto wrong_code = est.enroll(csr);
  ASSERT_FALSE(wrong_code);
  EXPECT_NE(wrong_code.error().detail().find("2.05"), std::string::npos) << wrong_code.error().to_string();
  // ... and /crts with 2.05, not 2.04.
  scripted.code = kChanged;
  auto wrong_get = est.ca_certificates();
  ASSERT_FALSE(wrong_get);
  EXPECT_NE(wrong_get.error().detail().find("2.04"), std::string::npos) << wrong_get.error().to_string();

  // RFC 9148 §4.3: a 287 answer to an Accept: 281 request is not taken.
  scripted = coap::Message{};
  scripted.code = kContent;
  scripted.options = {coap::Option{kContentFormat, kCf287}};
  scripted.payload = estca->front().der();
  auto wrong_format = est.ca_certificates();
  ASSERT_FALSE(wrong_format);
  EXPECT_EQ(wrong_format.error().category(), Category::kProtocol);
  EXPECT_NE(wrong_format.error().detail().find("287"), std::string::npos) << wrong_format.error().to_string();

  // A 281 answer whose payload is no certs-only PKCS#7.
  scripted.options = {coap::Option{kContentFormat, kCf281}};
  scripted.payload = Bytes{0x30, 0x03, 0x02, 0x01, 0x00};
  EXPECT_FALSE(est.ca_certificates());
  server->stop();
}

TEST_F(EstCoapsClient, CreateRefusesContextsOfTheWrongTransport) {
  // coaps needs a DTLS client context.
  const auto tls_client = psk_client(kKpmId, kKpm, "ts0003-tls12-psk");
  auto over_tls = Client::create("coaps://mef.m2m.example.com", tls_client);
  ASSERT_FALSE(over_tls);
  EXPECT_EQ(over_tls.error().category(), Category::kUsage);
  auto server_context = Client::create("coaps://mef.m2m.example.com", psk_server());
  ASSERT_FALSE(server_context);
  EXPECT_EQ(server_context.error().category(), Category::kUsage);
  EXPECT_FALSE(Client::create("coaps://mef.m2m.example.com", nullptr));
  // https needs a TLS one.
  auto https_dtls = Client::create("https://mef.m2m.example.com", psk_client(kKpmId));
  ASSERT_FALSE(https_dtls);
  EXPECT_EQ(https_dtls.error().category(), Category::kUsage);
  // Plain coap and other schemes are refused (RFC 9148 §3: DTLS).
  EXPECT_FALSE(Client::create("coap://mef.m2m.example.com", psk_client(kKpmId)));
  EXPECT_FALSE(Client::create("http://mef.m2m.example.com", tls_client));
  // Both accepted with the right context; the scheme is case-insensitive (RFC 3986 3.1).
  auto ok = Client::create("COAPS://mef.m2m.example.com:5684", psk_client(kKpmId));
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_TRUE(ok->over_coaps());
  auto https = Client::create("https://mef.m2m.example.com:8443", tls_client);
  ASSERT_TRUE(https) << https.error().to_string();
  EXPECT_FALSE(https->over_coaps());
}

// The same client over HTTPS (RFC 7030, base64 bodies): the one code path after the transport gives the same.
TEST_F(EstCoapsClient, TheSameClientOverHttpsStillEnrols) {
  http::ServerOptions options;
  options.tls = psk_server("ts0003-tls12-psk");
  const auto svc = service;
  options.handler = [svc](const http::Request& request, const http::Connection& connection) { return svc->handle(request, connection); };
  auto server = http::Server::start(std::move(options));
  ASSERT_TRUE(server) << server.error().to_string();
  auto est = Client::create((*server)->url(), psk_client(kKpmId, kKpm, "ts0003-tls12-psk"));
  ASSERT_TRUE(est) << est.error().to_string();
  EXPECT_FALSE(est->over_coaps());
  auto issued = est->enroll(ssl.load_csr(ssl.csr("https", concat({"DNS:", kLinkedCse}))));
  ASSERT_TRUE(issued) << issued.error().to_string();
  ssl.expect_issued(ssl.write("https.pem", pem_of(*issued)), concat({"DNS:", kLinkedCse}));
  auto ca = est->ca_certificates();
  ASSERT_TRUE(ca) << ca.error().to_string();
  EXPECT_EQ(ssl.fingerprint(ssl.write("https-ca.pem", pem_of(*ca))), ssl.fingerprint(pki_files().file("estca.pem")));
  auto attrs = est->csr_attributes();
  ASSERT_TRUE(attrs) << attrs.error().to_string();
  EXPECT_FALSE(attrs->empty());
  auto refused = Client::create((*server)->url(), psk_client(kUnlinkedKpmId, kKpm, "ts0003-tls12-psk"));
  ASSERT_TRUE(refused);
  auto answer = refused->enroll(ssl.load_csr(ssl.csr("https-refused", concat({"DNS:", kLinkedCse}))));
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().category(), Category::kPolicy);
  EXPECT_NE(answer.error().detail().find("HTTP 403"), std::string::npos) << answer.error().to_string();
  (*server)->stop();
}

// --- The CLI: `m2msec cert enroll --est coaps://...` ---

// The m2msec binary next to this test's (both in the build's bin/), if it was built.
std::string m2msec_binary() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const auto cli = self.parent_path() / "m2msec";
  return std::filesystem::exists(cli, ec) ? cli.string() : std::string();
}

TEST_F(EstCoapsClient, TheCliEnrolsOverCoapsWithPskAndReenrolsWithItsCertificate) {
  const std::string cli = m2msec_binary();
  if (cli.empty()) GTEST_SKIP() << "the m2msec binary is not built next to est_test";
  auto psk = start(psk_server(), recorder.wrap(coaps_handler(service)));
  ASSERT_TRUE(psk);
  const std::string san = concat({"DNS:", kLinkedCse});
  const std::string csr = ssl.csr("cli", san);
  const std::string out = ssl.dir.file("cli.pem");
  const std::string cacerts = ssl.dir.file("cli-ca.pem");
  // PPSK RSPF: --psk-identity KpmID --psk HEX (the profile given on the command line is the TLS one: coaps:// makes
  // it ts0003-dtls12-psk).
  int rc = 0;
  std::string log = ssl.out(concat({"'", cli, "' cert enroll --est coaps://localhost:", std::to_string(psk->port()), " --csr '", csr,
                                    "' --out '", out, "' --cacerts-out '", cacerts, "' --psk-identity ", kKpmId, " --psk ",
                                    hex_encode(as_bytes(kKpm))}),
                            &rc);
  ASSERT_EQ(rc, 0) << log;
  EXPECT_NE(log.find(concat({"issued identity=", kLinkedCse})), std::string::npos) << log;
  ssl.expect_issued(out, san);
  EXPECT_EQ(ssl.fingerprint(cacerts), ssl.fingerprint(pki_files().file("estca.pem")));
  EXPECT_EQ(uri_path(recorder.last_request()), (std::vector<std::string>{".well-known", "est", "sen"}));
  EXPECT_EQ(option_value(recorder.last_request(), kUriHost), Bytes({'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't'}));

  // A refusal: the CLI fails and names the code.
  log = ssl.out(concat({"'", cli, "' cert enroll --est coaps://localhost:", std::to_string(psk->port()), " --csr '", csr, "' --out '",
                        ssl.dir.file("refused.pem"), "' --psk-identity ", kUnlinkedKpmId, " --psk ", hex_encode(as_bytes(kKpm))}),
                &rc);
  EXPECT_NE(rc, 0) << log;
  EXPECT_NE(log.find("4.03"), std::string::npos) << log;
  EXPECT_TRUE(m2msec::test::read_file(ssl.dir.file("refused.pem")).empty());
  psk->stop();

  // Certificate RSPF over coaps: the client's certificate, the MEF's certificate checked as a CSE-ID; /sren.
  auto certs = start(cert_server(), recorder.wrap(coaps_handler(service)));
  ASSERT_TRUE(certs);
  const auto& p = pki_files();
  const std::string own = std::string("DNS:") + std::string(lb::kClientCse);
  const std::string renew = ssl.csr("cli-renew", own);
  const std::string renewed = ssl.dir.file("cli-renew.pem");
  log = ssl.out(concat({"'", cli, "' cert enroll --est coaps://127.0.0.1:", std::to_string(certs->port()), " --csr '", renew, "' --out '",
                        renewed, "' --reenroll --cert '", p.file("client.chain.pem"), "' --key '", p.file("client.key"), "' --ca '",
                        p.file("root.pem"), "' --peer-flavour cse-id --sni ", lb::kAuthority}),
                &rc);
  ASSERT_EQ(rc, 0) << log;
  ssl.expect_issued(renewed, own);
  EXPECT_EQ(uri_path(recorder.last_request()), (std::vector<std::string>{".well-known", "est", "sren"}));
  certs->stop();
}

}  // namespace
}  // namespace m2msec::est

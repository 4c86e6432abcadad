// ESCertKE (TS-0003 V3.18.0 clause 8.7, transport TS-0004 V3.32.0 7.5.1.2.12 / TS-0001 V3.36.0 11.4.3):
// the four flights between our Initiator and Terminator, the key against the exporter of the same
// session split by src/keys, and both ends against independent TLS implementations: the Initiator's
// flights relayed over TCP to `openssl s_server -keymatexport`, and `openssl s_client -keymatexport`'s
// flights relayed to our Terminator. Then the refusals, the NOTIFY carriage (m2m:seci) and the
// Responder's From correlation, expiry, bounds and replay refusal.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <future>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "m2msec/core/encoding.h"
#include "m2msec/crypto/random.h"
#include "m2msec/e2e/escertke.h"
#include "m2msec/e2e/esprim.h"
#include "m2msec/keys/export.h"
#include "m2msec/keys/identifiers.h"
#include "m2msec/pki/validate.h"
#include "m2msec/tls/credentials.h"
#include "m2msec/tls/net.h"
#include "m2msec/tls/profile.h"
#include "m2msec/tls/session.h"
#include "oracle.h"
#include "test_pki.h"

namespace m2msec::e2e {
namespace {

using namespace std::chrono_literals;
using pki::test::TestPki;

// The CSE-IDs (public domain names) of the test PKI's server.pem (the Terminator) and client.pem (the
// Initiator).
constexpr std::string_view kTerminatorId = "in-cse.m2m.example.com";
constexpr std::string_view kInitiatorId = "mn-cse.in-cse.m2m.example.com";
constexpr std::string_view kOtherId = "other-cse.m2m.example.com";
constexpr std::string_view kLabel = "EXPORTER-oneM2M-ESCertKE";
constexpr std::string_view kFrom = "/mn-cse";

// An end-point's TLS configuration: <own>.chain.pem and <own>.key of `pki`, the anchor root.pem of
// `anchors`, CSE-ID certificates on both sides.
struct Setup {
  std::string own;
  std::optional<std::string> expected{};
  const TestPki* pki = nullptr;      // default: the shared one
  const TestPki* anchors = nullptr;  // default: the shared one
  const tls::SecurityProfile* profile = nullptr;
};

tls::Config config_of(tls::Role role, const Setup& s) {
  const TestPki& own_pki = s.pki ? *s.pki : TestPki::shared();
  const TestPki& anchor_pki = s.anchors ? *s.anchors : TestPki::shared();
  tls::Config c;
  c.role = role;
  c.profile = s.profile;
  if (role == tls::Role::kClient) c.server_name = std::string(kTerminatorId);
  auto own = tls::CertificateCredential::load(own_pki.file(s.own + ".chain.pem"), own_pki.file(s.own + ".key"));
  EXPECT_TRUE(own) << own.error().to_string();
  if (own) c.certificate = std::move(*own);
  auto trust = pki::TrustStore::load(anchor_pki.file("root.pem"));
  EXPECT_TRUE(trust) << trust.error().to_string();
  if (trust) c.peer_policy = tls::PeerCertificatePolicy{std::move(*trust), pki::Flavour::kCseId, s.expected};
  return c;
}

EscertkeInitiator initiator(Setup s = {.own = "client"}) {
  auto i = EscertkeInitiator::create(config_of(tls::Role::kClient, s));
  if (!i) ADD_FAILURE() << i.error().to_string();
  return std::move(i).value();
}

EscertkeTerminator terminator(Setup s = {.own = "server"}) {
  auto t = EscertkeTerminator::create(config_of(tls::Role::kServer, s));
  if (!t) ADD_FAILURE() << t.error().to_string();
  return std::move(t).value();
}

bool same(const SecretBytes& a, const SecretBytes& b) { return ct::equal(a.view(), b.view()); }

// The records of a message: (content type, fragment).
std::vector<std::pair<std::uint8_t, Bytes>> records_of(ByteView m) {
  std::vector<std::pair<std::uint8_t, Bytes>> out;
  for (std::size_t at = 0; at + 5 <= m.size();) {
    const std::size_t length = (std::size_t{m[at + 3]} << 8) | m[at + 4];
    if (at + 5 + length > m.size()) break;
    out.emplace_back(m[at], Bytes(m.begin() + static_cast<std::ptrdiff_t>(at + 5),
                                  m.begin() + static_cast<std::ptrdiff_t>(at + 5 + length)));
    at += 5 + length;
  }
  return out;
}

// The handshake message types of a message's plaintext handshake records (before any ChangeCipherSpec).
std::vector<int> handshake_types(ByteView m) {
  Bytes handshake;
  for (const auto& [type, fragment] : records_of(m)) {
    if (type == 20) break;
    if (type == 22) handshake.insert(handshake.end(), fragment.begin(), fragment.end());
  }
  std::vector<int> out;
  for (std::size_t at = 0; at + 4 <= handshake.size();) {
    const std::size_t length = (std::size_t{handshake[at + 1]} << 16) | (std::size_t{handshake[at + 2]} << 8) | handshake[at + 3];
    out.push_back(handshake[at]);
    at += 4 + length;
  }
  return out;
}

struct Flights {
  std::optional<Bytes> m1, m2, m3, m4;
  std::optional<PairwiseE2EKey> initiator_key, terminator_key;
};

// All four messages between the two ends, stopping at the first failure (the test asserts on it).
Flights exchange(EscertkeInitiator& i, EscertkeTerminator& t) {
  Flights r;
  auto m1 = i.message1();
  EXPECT_TRUE(m1) << m1.error().to_string();
  if (!m1) return r;
  r.m1 = *m1;
  auto m2 = t.message2(*m1);
  EXPECT_TRUE(m2) << m2.error().to_string();
  if (!m2) return r;
  r.m2 = *m2;
  auto m3 = i.message3(*m2);
  EXPECT_TRUE(m3) << m3.error().to_string();
  if (!m3) return r;
  r.m3 = *m3;
  auto m4 = t.message4(*m3);
  EXPECT_TRUE(m4) << m4.error().to_string();
  if (!m4) return r;
  r.m4 = *m4;
  auto key = i.finish(*m4);
  EXPECT_TRUE(key) << key.error().to_string();
  if (key) r.initiator_key = std::move(key).value();
  auto result = t.result();
  EXPECT_TRUE(result) << result.error().to_string();
  if (result) r.terminator_key = std::move(result).value();
  return r;
}

void expect_refused(const Result<Bytes>& r, Category category, std::string_view words) {
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().category(), category) << r.error().to_string();
  EXPECT_NE(r.error().detail().find(words), std::string::npos) << r.error().to_string();
}

// ---- the exchange -------------------------------------------------------------------------------------

TEST(Escertke, BothEndsHoldTheSameKeyAndIdentifier) {
  //= type=test
  //= TS-0003 V3.18.0 §8.7.2.2
  ASSERT_TRUE(TestPki::shared().ok());
  auto i = initiator();
  auto t = terminator();
  const Flights r = exchange(i, t);
  ASSERT_TRUE(r.initiator_key && r.terminator_key);
  EXPECT_EQ(r.initiator_key->identifier, r.terminator_key->identifier);
  EXPECT_TRUE(std::regex_match(r.initiator_key->identifier, std::regex("[0-9A-F]{32}"))) << r.initiator_key->identifier;
  EXPECT_EQ(r.initiator_key->key.size(), 32u);
  EXPECT_TRUE(same(r.initiator_key->key, r.terminator_key->key));
  // Each end bound the other: the configured Terminator identity, the Initiator's CSE-ID certificate.
  EXPECT_EQ(r.initiator_key->peer.identity, kTerminatorId);
  EXPECT_EQ(r.initiator_key->peer.kind, tls::CredentialKind::kCertificate);
  EXPECT_EQ(r.terminator_key->peer.identity, kInitiatorId);
  // TLS 1.2 with the 10.2.3 suite.
  ASSERT_TRUE(i.session() && t.session());
  EXPECT_EQ(i.session()->cipher_suite(), "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256");
  EXPECT_EQ(t.session()->cipher_suite(), "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256");
  EXPECT_EQ(i.session()->version(), tls::Version::kTls12);
}

// TS-0003 8.4.2 A: ESCertKE is one way to provision the pairwiseESPrimKey. The Initiator becomes the ESPrim
// Originator, the Terminator the Target, which binds the key to the identity ESCertKE authenticated: that
// identity may send protected requests, any other From is an impersonation (4116).
TEST(Escertke, ItsKeyProvisionsEsprim) {
  ASSERT_TRUE(TestPki::shared().ok());
  auto i = initiator();
  auto t = terminator();
  Flights r = exchange(i, t);
  ASSERT_TRUE(r.initiator_key && r.terminator_key);
  const std::string kid = "13-" + r.terminator_key->identifier;  // Credential-ID type 13 (Table 12.3.2.1-1)
  const ManualClock clock(std::chrono::system_clock::now());
  Target target(clock, crypto::system_rng());
  Originator originator(clock, crypto::system_rng());
  ASSERT_TRUE(target.add_pairwise_key(kid, r.terminator_key->key.clone(), r.terminator_key->peer.identity));
  ASSERT_TRUE(originator.add_pairwise_key(kid, r.initiator_key->key.clone()));
  auto shared = target.issue_shared_rand_object();
  ASSERT_TRUE(shared) << shared.error().to_string();
  ASSERT_TRUE(originator.set_receiver_rand_object(kid, shared->text));
  auto deliver = [&](std::string_view from, std::string_view rqi) {
    const std::string inner = std::string(R"({"op":2,"to":"/cse1/cnt1","fr":")") + std::string(from) +
                              R"(","rqi":")" + std::string(rqi) + R"(","rvi":"3"})";
    auto object = originator.protect_request(kid, ByteView(reinterpret_cast<const std::uint8_t*>(inner.data()), inner.size()));
    EXPECT_TRUE(object) << object.error().to_string();
    return target.unprotect_request(
        object.value(), [](const Target::OpenedRequest& o) { return json_primitive_ids(o.inner.view()); });
  };
  auto opened = deliver(kInitiatorId, "r1");
  ASSERT_TRUE(opened) << opened.error().to_string();
  EXPECT_TRUE(opened->authenticated);
  EXPECT_EQ(opened->identity, kInitiatorId);
  auto impostor = deliver("//sp.example.com/CSE1/Cother", "r2");
  ASSERT_FALSE(impostor);
  EXPECT_EQ(impostor.error().rsc(), Rsc::kEsprimImpersonationError);
}

TEST(Escertke, KeyIsTheKeysModuleSplitOfTheSessionsExport) {
  //= type=test
  //= TS-0003 V3.18.0 §10.3.1
  auto i = initiator();
  auto t = terminator();
  const Flights r = exchange(i, t);
  ASSERT_TRUE(r.initiator_key && r.terminator_key);
  for (const auto& [session, key] : {std::pair{i.session(), &*r.initiator_key}, std::pair{t.session(), &*r.terminator_key}}) {
    ASSERT_NE(session, nullptr);
    auto exported = session->export_keying_material(kLabel, 48);
    ASSERT_TRUE(exported) << exported.error().to_string();
    auto split = keys::split_escertke_export(exported->view());
    ASSERT_TRUE(split) << split.error().to_string();
    EXPECT_EQ(key->identifier, hex_encode(split->id.view(), keys::kIdentifierHexCase));
    EXPECT_TRUE(ct::equal(key->key.view(), split->key.view()));
    // The 16 most significant octets are the identifier, the 32 least significant the key.
    EXPECT_EQ(hex_encode(exported->view(), HexCase::kUpper), key->identifier + hex_encode(key->key.view(), HexCase::kUpper));
  }
}

TEST(Escertke, MessagesAreTheFourTls12Flights) {
  auto i = initiator();
  auto t = terminator();
  const Flights r = exchange(i, t);
  ASSERT_TRUE(r.m1 && r.m2 && r.m3 && r.m4);
  EXPECT_EQ(handshake_types(*r.m1), std::vector<int>({1}));                  // ClientHello
  EXPECT_EQ(handshake_types(*r.m2), std::vector<int>({2, 11, 12, 13, 14}));  // ServerHello .. ServerHelloDone
  EXPECT_EQ(handshake_types(*r.m3), std::vector<int>({11, 16, 15}));         // Certificate, ClientKeyExchange, CertificateVerify
  const auto m3 = records_of(*r.m3);
  ASSERT_GE(m3.size(), 2u);
  EXPECT_EQ(m3[m3.size() - 2].first, 20);  // ChangeCipherSpec, then the encrypted Finished
  EXPECT_EQ(m3.back().first, 22);
  const auto m4 = records_of(*r.m4);
  ASSERT_EQ(m4.size(), 2u);
  EXPECT_EQ(m4[0].first, 20);
  EXPECT_EQ(m4[1].first, 22);
}

TEST(Escertke, EachExchangeHasItsOwnKey) {
  auto i1 = initiator();
  auto t1 = terminator();
  auto i2 = initiator();
  auto t2 = terminator();
  const Flights a = exchange(i1, t1);
  const Flights b = exchange(i2, t2);
  ASSERT_TRUE(a.initiator_key && b.initiator_key);
  EXPECT_NE(a.initiator_key->identifier, b.initiator_key->identifier);
  EXPECT_FALSE(same(a.initiator_key->key, b.initiator_key->key));
}

TEST(Escertke, TerminatorConfiguredWithTheInitiatorsIdentity) {
  auto i = initiator();
  auto t = terminator({.own = "server", .expected = std::string(kInitiatorId)});
  const Flights r = exchange(i, t);
  ASSERT_TRUE(r.terminator_key);
  EXPECT_EQ(r.terminator_key->peer.identity, kInitiatorId);
}

// ---- against independent TLS implementations ---------------------------------------------------------

// Reads one TLS 1.2 flight from a TCP peer, record by record, up to its last message (a ClientHello,
// a ServerHelloDone, or the encrypted Finished after a ChangeCipherSpec). Stops early at an alert or at
// the end of the stream.
enum class FlightEnd { kClientHello, kServerHelloDone, kFinished };

bool read_exactly(int fd, std::uint8_t* out, std::size_t n) {
  for (std::size_t got = 0; got < n;) {
    const ssize_t r = ::recv(fd, out + got, n - got, 0);
    if (r <= 0) return false;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

Bytes read_flight(int fd, FlightEnd end) {
  Bytes flight;
  Bytes handshake;
  bool after_ccs = false;
  for (;;) {
    std::uint8_t header[5];
    if (!read_exactly(fd, header, sizeof header)) return flight;
    Bytes fragment((std::size_t{header[3]} << 8) | header[4]);
    if (!read_exactly(fd, fragment.data(), fragment.size())) return flight;
    flight.insert(flight.end(), header, header + sizeof header);
    flight.insert(flight.end(), fragment.begin(), fragment.end());
    if (header[0] == 21) return flight;
    if (header[0] == 20) after_ccs = true;
    if (header[0] != 22) continue;
    if (after_ccs) return flight;  // the Finished
    handshake.insert(handshake.end(), fragment.begin(), fragment.end());
    for (std::size_t at = 0; at + 4 <= handshake.size();) {
      const std::size_t length = (std::size_t{handshake[at + 1]} << 16) | (std::size_t{handshake[at + 2]} << 8) | handshake[at + 3];
      if (at + 4 + length > handshake.size()) break;
      if ((end == FlightEnd::kClientHello && handshake[at] == 1) || (end == FlightEnd::kServerHelloDone && handshake[at] == 14)) {
        return flight;
      }
      at += 4 + length;
    }
  }
}

bool send_all(int fd, ByteView data) {
  for (std::size_t sent = 0; sent < data.size();) {
    const ssize_t w = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (w <= 0) return false;
    sent += static_cast<std::size_t>(w);
  }
  return true;
}

void set_timeouts(int fd) {
  const timeval tv{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

bool eventually(const std::function<bool()>& condition) {
  for (const auto deadline = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < deadline;) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

// The 48 octets `openssl s_server|s_client -keymatexport` printed (hex), once it has printed them.
std::string keying_material(const std::string& output_file) {
  const std::regex pattern("Keying material: ([0-9A-F]{96})");
  std::smatch match;
  std::string out;
  eventually([&] {
    out = test::read_file(output_file);
    return std::regex_search(out, match, pattern);
  });
  EXPECT_FALSE(match.empty()) << out;
  return match.empty() ? std::string() : match[1].str();
}

class EscertkeInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki.ok());
    ::signal(SIGPIPE, SIG_IGN);
  }
  std::string f(const std::string& name) const {
    std::string quoted(1, '\'');
    quoted += pki.file(name);
    quoted += '\'';
    return quoted;
  }

  // The same 48 octets on both sides: ours split into identifier and key, theirs as printed.
  static void expect_same_export(const PairwiseE2EKey& ours, const std::string& printed) {
    ASSERT_EQ(printed.size(), 96u);
    EXPECT_EQ(ours.identifier + hex_encode(ours.key.view(), HexCase::kUpper), printed);
    auto theirs = hex_decode(printed);
    ASSERT_TRUE(theirs);
    auto split = keys::split_escertke_export(*theirs);
    ASSERT_TRUE(split) << split.error().to_string();
    EXPECT_EQ(ours.identifier, hex_encode(split->id.view(), keys::kIdentifierHexCase));
    EXPECT_TRUE(ct::equal(ours.key.view(), split->key.view()));
  }

  const TestPki& pki = TestPki::shared();
  test::TempDir dir{"m2msec-escertke"};
};

TEST_F(EscertkeInterop, InitiatorFlightsRelayedToOpensslSServer) {
  //= type=test
  //= TS-0003 V3.18.0 §10.3.1
  // s_server's stdin is a FIFO that we hold open: it must neither end (s_server would close the
  // connection) nor send anything.
  const std::string fifo = dir.file("stdin");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int keep_open = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(keep_open, 0);
  const std::string out = dir.file("s_server.out");
  ASSERT_EQ(test::run(dir, "(timeout 30 openssl s_server -tls1_2 -accept 127.0.0.1:0 -naccept 1 -cert " + f("server.pem") +
                               " -cert_chain " + f("int.pem") + " -key " + f("server.key") + " -Verify 2 -verify_return_error -CAfile " +
                               f("root.pem") + " -cipher ECDHE-ECDSA-AES128-SHA256 -keymatexport " + std::string(kLabel) +
                               " -keymatexportlen 48 < '" + fifo + "' > '" + out + "' 2>&1 &)"),
            0);
  std::smatch match;
  std::string announced;
  const std::regex accept("ACCEPT 127\\.0\\.0\\.1:([0-9]+)");
  eventually([&] {
    announced = test::read_file(out);
    return std::regex_search(announced, match, accept);
  });
  ASSERT_FALSE(match.empty()) << announced;
  const auto port = static_cast<std::uint16_t>(std::stoul(match[1].str()));

  std::optional<PairwiseE2EKey> key;
  {
    auto socket = tls::net::connect({"127.0.0.1", port}, false);
    ASSERT_TRUE(socket) << socket.error().to_string();
    set_timeouts(socket->fd());
    auto i = initiator();
    auto m1 = i.message1();
    ASSERT_TRUE(m1) << m1.error().to_string();
    ASSERT_TRUE(send_all(socket->fd(), *m1));
    const Bytes m2 = read_flight(socket->fd(), FlightEnd::kServerHelloDone);
    auto m3 = i.message3(m2);
    ASSERT_TRUE(m3) << m3.error().to_string() << "\n" << test::read_file(out);
    ASSERT_TRUE(send_all(socket->fd(), *m3));
    const Bytes m4 = read_flight(socket->fd(), FlightEnd::kFinished);
    auto finished = i.finish(m4);
    ASSERT_TRUE(finished) << finished.error().to_string() << "\n" << test::read_file(out);
    key = std::move(finished).value();
    EXPECT_EQ(key->peer.identity, kTerminatorId);
  }
  const std::string printed = keying_material(out);
  ::close(keep_open);
  expect_same_export(*key, printed);
  EXPECT_NE(test::read_file(out).find("CIPHER is ECDHE-ECDSA-AES128-SHA256"), std::string::npos);
}

TEST_F(EscertkeInterop, OpensslSClientFlightsRelayedToTerminator) {
  auto listening = tls::net::listen({"127.0.0.1", 0}, false);
  ASSERT_TRUE(listening) << listening.error().to_string();
  set_timeouts(listening->fd());
  const std::uint16_t port = tls::net::local_port(listening->fd()).value();
  const std::string out = dir.file("s_client.out");
  // s_client reads stdin only after its handshake; the empty line then ends its connection.
  ASSERT_EQ(test::run(dir, "(echo | timeout 30 openssl s_client -tls1_2 -connect 127.0.0.1:" + std::to_string(port) +
                               " -servername " + std::string(kTerminatorId) + " -CAfile " + f("root.pem") + " -cert " +
                               f("client.pem") + " -key " + f("client.key") + " -cert_chain " + f("int.pem") +
                               " -cipher ECDHE-ECDSA-AES128-SHA256 -keymatexport " + std::string(kLabel) +
                               " -keymatexportlen 48 > '" + out + "' 2>&1 &)"),
            0);
  auto accepted = tls::net::accept(listening->fd());
  ASSERT_TRUE(accepted) << accepted.error().to_string();
  set_timeouts(accepted->fd());
  auto t = terminator();
  const Bytes m1 = read_flight(accepted->fd(), FlightEnd::kClientHello);
  auto m2 = t.message2(m1);
  ASSERT_TRUE(m2) << m2.error().to_string() << "\n" << test::read_file(out);
  ASSERT_TRUE(send_all(accepted->fd(), *m2));
  const Bytes m3 = read_flight(accepted->fd(), FlightEnd::kFinished);
  auto m4 = t.message4(m3);
  ASSERT_TRUE(m4) << m4.error().to_string() << "\n" << test::read_file(out);
  ASSERT_TRUE(send_all(accepted->fd(), *m4));
  auto key = t.result();
  ASSERT_TRUE(key) << key.error().to_string();
  EXPECT_EQ(key->peer.identity, kInitiatorId);
  expect_same_export(*key, keying_material(out));
}

// ---- refusals -----------------------------------------------------------------------------------------

TEST(Escertke, WrongTerminatorIdentityIsRefusedByTheInitiator) {
  //= type=test
  //= TS-0003 V3.18.0 §8.1.2.5
  auto i = initiator({.own = "client", .expected = std::string(kOtherId)});
  auto t = terminator();
  auto m1 = i.message1();
  ASSERT_TRUE(m1);
  auto m2 = t.message2(*m1);
  ASSERT_TRUE(m2);
  auto m3 = i.message3(*m2);
  expect_refused(m3, Category::kAuth, "ESCertKE message 2");
  EXPECT_EQ(m3.error().tls_alert(), 42);  // bad_certificate
  EXPECT_EQ(i.session(), nullptr);
  // The exchange is over for good.
  auto later = i.finish(*m2);
  ASSERT_FALSE(later);
  EXPECT_NE(later.error().detail().find("already failed"), std::string::npos) << later.error().to_string();
}

TEST(Escertke, WrongInitiatorIdentityIsRefusedByTheTerminator) {
  auto i = initiator();
  auto t = terminator({.own = "server", .expected = std::string(kOtherId)});
  auto m1 = i.message1();
  auto m2 = t.message2(*m1);
  ASSERT_TRUE(m2);
  auto m3 = i.message3(*m2);
  ASSERT_TRUE(m3);
  expect_refused(t.message4(*m3), Category::kAuth, "ESCertKE message 3");
  EXPECT_FALSE(t.result());
}

TEST(Escertke, UntrustedCertificatesAreRefused) {
  //= type=test
  //= TS-0003 V3.18.0 §8.1.2.5
  const TestPki stranger{TestPki::Fresh{}};  // same names, another root
  ASSERT_TRUE(stranger.ok());
  {
    SCOPED_TRACE("a Terminator under an unknown root");
    auto i = initiator();
    auto t = terminator({.own = "server", .pki = &stranger});
    auto m2 = t.message2(*i.message1());
    ASSERT_TRUE(m2);
    auto m3 = i.message3(*m2);
    expect_refused(m3, Category::kAuth, "ESCertKE message 2");
    EXPECT_EQ(m3.error().tls_alert(), 48);  // unknown_ca
  }
  {
    SCOPED_TRACE("an Initiator under an unknown root");
    auto i = initiator({.own = "client", .pki = &stranger});
    auto t = terminator();
    auto m2 = t.message2(*i.message1());
    ASSERT_TRUE(m2);
    auto m3 = i.message3(*m2);  // the Initiator trusts the Terminator
    ASSERT_TRUE(m3) << m3.error().to_string();
    auto m4 = t.message4(*m3);
    expect_refused(m4, Category::kAuth, "ESCertKE message 3");
    EXPECT_EQ(m4.error().tls_alert(), 48);
  }
}

TEST(Escertke, TamperedMessage2IsRefused) {
  auto i = initiator();
  auto t = terminator();
  auto m2 = t.message2(*i.message1());
  ASSERT_TRUE(m2);
  Bytes tampered = *m2;
  tampered[20] ^= 0x01;  // in ServerHello.random, which the ServerKeyExchange signature covers
  expect_refused(i.message3(tampered), Category::kAuth, "ESCertKE message 2");
}

TEST(Escertke, TamperedMessage3IsRefused) {
  auto i = initiator();
  auto t = terminator();
  auto m2 = t.message2(*i.message1());
  ASSERT_TRUE(m2);
  auto m3 = i.message3(*m2);
  ASSERT_TRUE(m3);
  Bytes tampered = *m3;
  tampered.back() ^= 0x01;  // in the encrypted Finished
  expect_refused(t.message4(tampered), Category::kAuth, "ESCertKE message 3");
  EXPECT_FALSE(t.result());
}

TEST(Escertke, TamperedMessage4IsRefused) {
  auto i = initiator();
  auto t = terminator();
  auto m2 = t.message2(*i.message1());
  auto m3 = i.message3(*m2);
  ASSERT_TRUE(m3);
  auto m4 = t.message4(*m3);
  ASSERT_TRUE(m4);
  Bytes tampered = *m4;
  tampered.back() ^= 0x01;
  auto key = i.finish(tampered);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().category(), Category::kAuth) << key.error().to_string();
  EXPECT_EQ(i.session(), nullptr);
}

TEST(Escertke, TruncatedOrIncompleteFlightsAreRefused) {
  auto i = initiator();
  auto t = terminator();
  auto m2 = t.message2(*i.message1());
  ASSERT_TRUE(m2);
  {
    auto cut = initiator();
    ASSERT_TRUE(cut.message1());
    expect_refused(cut.message3(ByteView(*m2).first(m2->size() - 1)), Category::kProtocol, "ends inside a TLS record");
  }
  {
    // Whole records, but without the last one (ServerHelloDone): the Initiator would wait for more.
    auto short_flight = initiator();
    const auto m1 = short_flight.message1();
    ASSERT_TRUE(m1);
    auto t2 = terminator();
    auto m2b = t2.message2(*m1);
    ASSERT_TRUE(m2b);
    const auto records = records_of(*m2b);
    ASSERT_GE(records.size(), 2u);
    const std::size_t last = records.back().second.size() + 5;
    expect_refused(short_flight.message3(ByteView(*m2b).first(m2b->size() - last)), Category::kProtocol, "incomplete");
  }
  {
    auto junk = terminator();
    expect_refused(junk.message2(as_bytes("GET / HTTP/1.1\r\n\r\n")), Category::kProtocol, "ESCertKE message 1");
  }
  {
    // Application data is no part of a handshake flight.
    Bytes with_data = *m2;
    with_data.insert(with_data.end(), {23, 3, 3, 0, 1, 0});
    auto other = initiator();
    ASSERT_TRUE(other.message1());
    expect_refused(other.message3(with_data), Category::kProtocol, "content type 23");
  }
}

TEST(Escertke, TrailingRecordsAfterTheLastFlightAreRefused) {
  auto i = initiator();
  auto t = terminator();
  auto m2 = t.message2(*i.message1());
  auto m3 = i.message3(*m2);
  ASSERT_TRUE(m3);
  auto m4 = t.message4(*m3);
  ASSERT_TRUE(m4);
  Bytes longer = *m4;
  longer.insert(longer.end(), m4->begin() + 6, m4->end());  // a copy of the Finished record after it
  auto key = i.finish(longer);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().category(), Category::kProtocol) << key.error().to_string();
}

TEST(Escertke, MessagesOutOfOrderAreRefused) {
  auto i = initiator();
  auto t = terminator();
  // Message 3 before message 1 at the Terminator; message 2 and 4 before message 1 at the Initiator.
  expect_refused(t.message4(Bytes{22, 3, 3, 0, 1, 11}), Category::kProtocol, "ESCertKE message 3 before message 1");
  auto t2 = terminator();
  expect_refused(i.message3(Bytes{22, 3, 3, 0, 1, 2}), Category::kProtocol, "out of order");
  auto i2 = initiator();
  auto m1 = i2.message1();
  ASSERT_TRUE(m1);
  EXPECT_FALSE(i2.message1());  // a second message 1
  auto m2 = t2.message2(*m1);
  ASSERT_TRUE(m2);
  auto early = i2.finish(*m2);  // message 2 given as message 4
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().category(), Category::kProtocol);
}

TEST(Escertke, ReplayedMessage1AfterCompletionIsRefused) {
  auto i = initiator();
  auto t = terminator();
  const Flights r = exchange(i, t);
  ASSERT_TRUE(r.terminator_key && r.m1 && r.m3);
  expect_refused(t.message2(*r.m1), Category::kProtocol, "already complete");
  expect_refused(t.message4(*r.m3), Category::kProtocol, "already complete");
  // The key is still there.
  EXPECT_TRUE(t.result());
  // A fresh Terminator answers the replayed message 1, but the replayer cannot go on: the real
  // Initiator has finished and refuses the new message 2.
  auto fresh = terminator();
  auto m2 = fresh.message2(*r.m1);
  ASSERT_TRUE(m2);
  EXPECT_FALSE(i.message3(*m2));
}

TEST(Escertke, OversizedMessagesAreRefused) {
  auto i = initiator();
  ASSERT_TRUE(i.message1());
  // Whole records, 64 KiB + 5 octets in all.
  Bytes big;
  while (big.size() < kMaxMessageSize) {
    const std::size_t n = std::min<std::size_t>(16384, kMaxMessageSize - big.size() + 1);
    big.insert(big.end(), {22, 3, 3, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)});
    big.insert(big.end(), n, 0);
  }
  ASSERT_GT(big.size(), kMaxMessageSize);
  expect_refused(i.message3(big), Category::kProtocol, "more than the 65536 allowed");
  auto t = terminator();
  expect_refused(t.message2(big), Category::kProtocol, "more than the 65536 allowed");
  EXPECT_FALSE(build_escertke_seci(big));
  auto t2 = terminator();
  expect_refused(t2.message2({}), Category::kProtocol, "empty");
}

TEST(Escertke, ConfigurationsOtherThanTls12CertificatesAreRefused) {
  using tls::CredentialKind;
  using tls::Transport;
  using tls::Version;
  const auto* tls13 = tls::select_profile(Transport::kTls, Version::kTls13, CredentialKind::kCertificate);
  const auto* dtls = tls::select_profile(Transport::kDtls, Version::kTls12, CredentialKind::kCertificate);
  for (const auto* p : {tls13, dtls}) {
    auto i = EscertkeInitiator::create(config_of(tls::Role::kClient, {.own = "client", .profile = p}));
    ASSERT_FALSE(i);
    EXPECT_EQ(i.error().category(), Category::kUnsupported) << i.error().to_string();
  }
  // Roles: the Initiator is the client, the Terminator the server.
  auto swapped = EscertkeInitiator::create(config_of(tls::Role::kServer, {.own = "server"}));
  ASSERT_FALSE(swapped);
  EXPECT_EQ(swapped.error().category(), Category::kUsage);
  auto swapped2 = EscertkeTerminator::create(config_of(tls::Role::kClient, {.own = "client"}));
  ASSERT_FALSE(swapped2);
  EXPECT_EQ(swapped2.error().category(), Category::kUsage);
  // An explicit ts0003-tls12-cert is fine.
  const auto* cert12 = tls::find_profile("ts0003-tls12-cert");
  EXPECT_TRUE(EscertkeInitiator::create(config_of(tls::Role::kClient, {.own = "client", .profile = cert12})));
  // Without a certificate: the tls module's refusal.
  tls::Config bare = config_of(tls::Role::kClient, {.own = "client"});
  bare.certificate.reset();
  auto none = EscertkeInitiator::create(std::move(bare));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().category(), Category::kUsage);
}

// ---- NOTIFY carriage ----------------------------------------------------------------------------------

TEST(EscertkeSeci, BuildsAndParsesTheSecurityInfo) {
  //= type=test
  //= TS-0004 V3.32.0 §7.5.1.2.12
  const Bytes message{0x16, 0x03, 0x01, 0xfb, 0xff};
  auto built = build_escertke_seci(message);
  ASSERT_TRUE(built) << built.error().to_string();
  EXPECT_EQ(*built, R"({"m2m:seci":{"sit":6,"eckm":"FgMB+/8="}})");
  auto parsed = parse_escertke_seci(*built);
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_EQ(*parsed, message);
  // Member order and whitespace do not matter.
  auto spaced = parse_escertke_seci(" { \"m2m:seci\" : { \"eckm\" : \"FgMB+/8=\", \"sit\" : 6 } } ");
  ASSERT_TRUE(spaced) << spaced.error().to_string();
  EXPECT_EQ(*spaced, message);
}

TEST(EscertkeSeci, RefusesAnythingElse) {
  for (const char* bad : {
           "",
           "[]",
           R"({"m2m:seci":{"sit":5,"eckm":"FgMB+/8="}})",      // another securityInfoType
           R"({"m2m:seci":{"sit":"6","eckm":"FgMB+/8="}})",    // sit as a string
           R"({"m2m:seci":{"sit":6.0,"eckm":"FgMB+/8="}})",    // not an integer
           R"({"m2m:seci":{"sit":6}})",                        // no eckm
           R"({"m2m:seci":{"sit":6,"eckm":""}})",              // empty message
           R"({"m2m:seci":{"sit":6,"eckm":"FgMB-_8"}})",       // base64url, unpadded
           R"({"m2m:seci":{"sit":6,"eckm":"FgMB+/8"}})",       // missing padding
           R"({"m2m:seci":{"sit":6,"eckm":"FgMB+/8=","esob":"x"}})",  // another member
           R"({"m2m:seci":{"sit":6,"eckm":"FgMB+/8="},"x":1})",
           R"({"m2m:seci":{"sit":6,"sit":6,"eckm":"FgMB+/8="}})",  // duplicate member
           R"({"m2m:sec":{"sit":6,"eckm":"FgMB+/8="}})",
       }) {
    SCOPED_TRACE(bad);
    auto parsed = parse_escertke_seci(bad);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().category(), Category::kUsage);
    EXPECT_EQ(parsed.error().rsc(), Rsc::kBadRequest);
  }
  // 64 KiB is the limit, in base64 too.
  const Bytes largest(kMaxMessageSize, 0x16);
  auto at_limit = build_escertke_seci(largest);
  ASSERT_TRUE(at_limit);
  EXPECT_TRUE(parse_escertke_seci(*at_limit));
  const std::string over = R"({"m2m:seci":{"sit":6,"eckm":")" + base64_encode(Bytes(kMaxMessageSize + 1, 0x16)) + R"("}})";
  EXPECT_FALSE(parse_escertke_seci(over));
}

// ---- Responder (From correlation) ---------------------------------------------------------------------

struct Established {
  std::string from;
  std::optional<PairwiseE2EKey> key;
};

std::unique_ptr<EscertkeResponder> responder(EscertkeResponderOptions options = {}) {
  auto r = EscertkeResponder::create(config_of(tls::Role::kServer, {.own = "server"}), std::move(options));
  if (!r) ADD_FAILURE() << r.error().to_string();
  return r ? std::move(r).value() : nullptr;
}

// One NOTIFY: the request content carrying `message`, the response content's message.
Result<Bytes> notify(EscertkeResponder& r, std::string_view from, ByteView message) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string request, build_escertke_seci(message));
  M2MSEC_ASSIGN_OR_RETURN(const std::string response, r.handle(from, request));
  return parse_escertke_seci(response);
}

TEST(EscertkeResponder, TwoNotifiesEstablishTheKey) {
  //= type=test
  //= TS-0001 V3.36.0 §11.4.3
  std::vector<Established> seen;
  auto r = responder({.on_established = [&](std::string_view from, const PairwiseE2EKey& key) -> Result<void> {
    seen.push_back({std::string(from), key.clone()});
    return {};
  }});
  ASSERT_TRUE(r);
  auto i = initiator();
  auto m2 = notify(*r, kFrom, *i.message1());
  ASSERT_TRUE(m2) << m2.error().to_string();
  EXPECT_EQ(r->pending(), 1u);
  auto m3 = i.message3(*m2);
  ASSERT_TRUE(m3) << m3.error().to_string();
  auto m4 = notify(*r, kFrom, *m3);
  ASSERT_TRUE(m4) << m4.error().to_string();
  EXPECT_EQ(r->pending(), 0u);
  auto key = i.finish(*m4);
  ASSERT_TRUE(key) << key.error().to_string();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].from, kFrom);
  EXPECT_EQ(seen[0].key->identifier, key->identifier);
  EXPECT_TRUE(same(seen[0].key->key, key->key));
  EXPECT_EQ(seen[0].key->peer.identity, kInitiatorId);
}

TEST(EscertkeResponder, CorrelatesInterleavedExchangesByFrom) {
  std::map<std::string, std::string> identifiers;
  auto r = responder({.on_established = [&](std::string_view from, const PairwiseE2EKey& key) -> Result<void> {
    identifiers[std::string(from)] = key.identifier;
    return {};
  }});
  auto a = initiator();
  auto b = initiator();
  auto a2 = notify(*r, "/cse-a", *a.message1());
  auto b2 = notify(*r, "/cse-b", *b.message1());
  ASSERT_TRUE(a2 && b2);
  EXPECT_EQ(r->pending(), 2u);
  auto b4 = notify(*r, "/cse-b", *b.message3(*b2));
  auto a4 = notify(*r, "/cse-a", *a.message3(*a2));
  ASSERT_TRUE(a4 && b4) << (a4 ? "" : a4.error().to_string()) << (b4 ? "" : b4.error().to_string());
  auto ka = a.finish(*a4);
  auto kb = b.finish(*b4);
  ASSERT_TRUE(ka && kb);
  EXPECT_EQ(identifiers["/cse-a"], ka->identifier);
  EXPECT_EQ(identifiers["/cse-b"], kb->identifier);
  EXPECT_NE(ka->identifier, kb->identifier);
}

TEST(EscertkeResponder, Message3BeforeMessage1IsRefused) {
  auto r = responder();
  // A message 3 from a From with no pending exchange.
  auto i = initiator();
  auto t = terminator();
  auto m3 = i.message3(*t.message2(*i.message1()));
  ASSERT_TRUE(m3);
  expect_refused(notify(*r, kFrom, *m3), Category::kProtocol, "before message 1");
  // Nor is a message 3 taken from another From than its message 1's.
  auto j = initiator();
  auto m2 = notify(*r, "/cse-a", *j.message1());
  ASSERT_TRUE(m2);
  auto jm3 = j.message3(*m2);
  ASSERT_TRUE(jm3);
  expect_refused(notify(*r, "/cse-b", *jm3), Category::kProtocol, "before message 1");
  EXPECT_EQ(r->pending(), 1u);
}

TEST(EscertkeResponder, ReplayedMessage1IsRefused) {
  auto r = responder();
  auto i = initiator();
  const Bytes m1 = *i.message1();
  auto m2 = notify(*r, kFrom, m1);
  ASSERT_TRUE(m2);
  auto m4 = notify(*r, kFrom, *i.message3(*m2));
  ASSERT_TRUE(m4);
  ASSERT_TRUE(i.finish(*m4));
  // After completion, from the same From or any other.
  expect_refused(notify(*r, kFrom, m1), Category::kProtocol, "replayed");
  expect_refused(notify(*r, "/elsewhere", m1), Category::kProtocol, "replayed");
  EXPECT_EQ(r->pending(), 0u);
}

TEST(EscertkeResponder, PendingExchangesExpire) {
  auto clock = std::make_shared<ManualClock>(std::chrono::system_clock::now());
  auto r = responder({.pending_lifetime = 60s, .clock = clock});
  auto i = initiator();
  auto m2 = notify(*r, kFrom, *i.message1());
  ASSERT_TRUE(m2);
  auto m3 = i.message3(*m2);
  ASSERT_TRUE(m3);
  clock->advance(61s);
  expect_refused(notify(*r, kFrom, *m3), Category::kProtocol, "expired");
  EXPECT_EQ(r->pending(), 0u);
}

TEST(EscertkeResponder, PendingExchangesAreBounded) {
  auto clock = std::make_shared<ManualClock>(std::chrono::system_clock::now());
  auto r = responder({.max_pending = 2, .pending_lifetime = 60s, .clock = clock});
  auto a = initiator();
  auto b = initiator();
  auto c = initiator();
  ASSERT_TRUE(notify(*r, "/a", *a.message1()));
  ASSERT_TRUE(notify(*r, "/b", *b.message1()));
  auto refused = notify(*r, "/c", *c.message1());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().category(), Category::kPolicy) << refused.error().to_string();
  // A new message 1 from a From already waiting replaces its exchange.
  auto a_again = initiator();
  auto a2 = notify(*r, "/a", *a_again.message1());
  ASSERT_TRUE(a2) << a2.error().to_string();
  EXPECT_EQ(r->pending(), 2u);
  auto a4 = notify(*r, "/a", *a_again.message3(*a2));
  ASSERT_TRUE(a4) << a4.error().to_string();
  EXPECT_TRUE(a_again.finish(*a4));
  // Room again once the others expire.
  clock->advance(61s);
  auto d = initiator();
  EXPECT_TRUE(notify(*r, "/d", *d.message1()));
  EXPECT_EQ(r->pending(), 1u);
}

TEST(EscertkeResponder, ApplicationMayRefuseTheEstablishedKey) {
  auto r = responder({.on_established = [](std::string_view from, const PairwiseE2EKey& key) -> Result<void> {
    const std::string_view identity = key.peer.identity;
    if (from.starts_with('/') && from.substr(1) == identity.substr(0, identity.find('.'))) return {};
    return Error(Category::kPolicy, "From does not match the certificate");
  }});
  {
    auto i = initiator();
    auto m2 = notify(*r, "/impostor", *i.message1());
    ASSERT_TRUE(m2);
    auto m4 = notify(*r, "/impostor", *i.message3(*m2));
    ASSERT_FALSE(m4);
    EXPECT_EQ(m4.error().category(), Category::kPolicy) << m4.error().to_string();
  }
  {
    auto i = initiator();
    auto m2 = notify(*r, "/mn-cse", *i.message1());
    ASSERT_TRUE(m2);
    auto m4 = notify(*r, "/mn-cse", *i.message3(*m2));
    ASSERT_TRUE(m4) << m4.error().to_string();
    EXPECT_TRUE(i.finish(*m4));
  }
}

TEST(EscertkeResponder, FailedMessage3EndsTheExchange) {
  auto r = responder();
  auto i = initiator();
  auto m2 = notify(*r, kFrom, *i.message1());
  ASSERT_TRUE(m2);
  auto m3 = i.message3(*m2);
  ASSERT_TRUE(m3);
  Bytes tampered = *m3;
  tampered.back() ^= 0x01;
  expect_refused(notify(*r, kFrom, tampered), Category::kAuth, "ESCertKE message 3");
  // The genuine message 3 finds no exchange any more.
  expect_refused(notify(*r, kFrom, *m3), Category::kProtocol, "before message 1");
}

TEST(EscertkeResponder, ServesConcurrentInitiators) {
  std::mutex mutex;
  std::map<std::string, std::string> identifiers;
  auto r = responder({.on_established = [&](std::string_view from, const PairwiseE2EKey& key) -> Result<void> {
    std::lock_guard lock(mutex);
    identifiers[std::string(from)] = key.identifier;
    return {};
  }});
  ASSERT_TRUE(r);
  auto run = [&r](std::string from) -> std::optional<std::string> {
    auto i = EscertkeInitiator::create(config_of(tls::Role::kClient, {.own = "client"}));
    if (!i) return std::nullopt;
    auto m1 = i->message1();
    if (!m1) return std::nullopt;
    auto m2 = notify(*r, from, *m1);
    if (!m2) return std::nullopt;
    auto m3 = i->message3(*m2);
    if (!m3) return std::nullopt;
    auto m4 = notify(*r, from, *m3);
    if (!m4) return std::nullopt;
    auto key = i->finish(*m4);
    if (!key) return std::nullopt;
    return key->identifier;
  };
  std::vector<std::future<std::optional<std::string>>> runs;
  for (int n = 0; n < 4; ++n) runs.push_back(std::async(std::launch::async, run, "/cse-" + std::to_string(n)));
  for (int n = 0; n < 4; ++n) {
    const auto identifier = runs[static_cast<std::size_t>(n)].get();
    ASSERT_TRUE(identifier) << n;
    std::lock_guard lock(mutex);
    EXPECT_EQ(identifiers["/cse-" + std::to_string(n)], *identifier);
  }
  EXPECT_EQ(r->pending(), 0u);
}

TEST(EscertkeResponder, RefusesRequestsWithoutFromOrWithBadContent) {
  auto r = responder();
  auto i = initiator();
  auto content = build_escertke_seci(*i.message1());
  ASSERT_TRUE(content);
  auto no_from = r->handle("", *content);
  ASSERT_FALSE(no_from);
  EXPECT_EQ(no_from.error().category(), Category::kUsage);
  auto bad = r->handle(kFrom, R"({"m2m:seci":{"sit":5}})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().rsc(), Rsc::kBadRequest);
  EXPECT_EQ(r->pending(), 0u);
}

// The descriptors of the open file table of this process.
std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST(Escertke, ExchangesLeaveNoDescriptorsBehind) {
  auto warm = initiator();  // the shared PKI and contexts' first use
  const std::size_t before = open_descriptors();
  for (int n = 0; n < 5; ++n) {
    auto i = initiator();
    auto t = terminator();
    if (n % 2 == 0) {
      ASSERT_TRUE(exchange(i, t).initiator_key);
    } else {
      auto m2 = t.message2(*i.message1());  // abandoned half way
      ASSERT_TRUE(m2);
    }
  }
  {
    auto r = responder();
    auto i = initiator();
    ASSERT_TRUE(notify(*r, kFrom, *i.message1()));  // pending when the responder goes
  }
  EXPECT_EQ(open_descriptors(), before);
}

}  // namespace
}  // namespace m2msec::e2e

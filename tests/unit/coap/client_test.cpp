// The CoAP client (RFC 7252 message layer, RFC 7959 block-wise transfer) against real peers: libcoap's
// coap-server (Debian's libcoap3-bin: -notls over UDP, -gnutls and -openssl over DTLS 1.2 with PSK, certificates
// and raw public keys), whose own log (-v 7) shows what arrived; and scripted UDP peers of the test that drop,
// repeat, reset or never answer, to check retransmission (RFC 7252 §4.2, §4.8) by counting datagrams.
#include "m2msec/coap/client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../tls/pair.h"
#include "m2msec/coap/onem2m.h"
#include "m2msec/coap/server.h"
#include "m2msec/core/encoding.h"
#include "m2msec/core/text.h"
#include "m2msec/tls/profile.h"
#include "oracle.h"

extern char** environ;

namespace m2msec::coap {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

Bytes text(std::string_view s) { return Bytes(as_bytes(s).begin(), as_bytes(s).end()); }
std::string str(ByteView b) { return std::string(as_text(b)); }

constexpr std::uint8_t kGet = code(0, 1);
constexpr std::uint8_t kPut = code(0, 3);
constexpr std::uint8_t kContent = code(2, 5);

Message get(std::string_view target) {
  Message m;
  m.code = kGet;
  m.options = uri_options(target).value();
  return m;
}

// ---- libcoap's coap-server --------------------------------------------------------------------------------

bool bindable(std::uint16_t port, int type) {
  const int fd = ::socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// A port P with P and P + 1 free for UDP and TCP (coap-server takes P for coap and P + 1 for coaps).
std::uint16_t free_port_pair() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length);
    ::close(fd);
    const std::uint16_t p = ntohs(a.sin_port);
    if (p < 65535 && bindable(p, SOCK_DGRAM) && bindable(p, SOCK_STREAM) && bindable(p + 1, SOCK_DGRAM) &&
        bindable(p + 1, SOCK_STREAM)) {
      return p;
    }
  }
  return 0;
}

// Whether something listens on UDP 127.0.0.1:port (/proc/net/udp: "0100007F:PORT" in hex).
bool udp_listening(std::uint16_t port) {
  char needle[32];
  std::snprintf(needle, sizeof needle, "0100007F:%04X ", port);
  std::ifstream in("/proc/net/udp");
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(needle) != std::string::npos) return true;
  }
  return false;
}

class LibcoapServer {
 public:
  LibcoapServer(const std::string& program, std::vector<std::string> extra) {
    m_port = free_port_pair();
    std::vector<std::string> args{program, "-A", "127.0.0.1", "-p", std::to_string(m_port), "-v", "7"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = m_dir.file("server.log");
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawnp(&m_pid, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      m_pid = -1;
      return;
    }
    const bool dtls = program.find("notls") == std::string::npos;
    for (int i = 0; i < 100; ++i) {
      if (udp_listening(m_port) && (!dtls || udp_listening(m_port + 1))) {
        m_ready = true;
        break;
      }
      std::this_thread::sleep_for(50ms);
    }
  }
  ~LibcoapServer() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGTERM);
      int status = 0;
      ::waitpid(m_pid, &status, 0);
    }
  }
  bool ready() const { return m_ready; }
  tls::net::Endpoint plain() const { return {"127.0.0.1", m_port}; }
  tls::net::Endpoint secure() const { return {"127.0.0.1", static_cast<std::uint16_t>(m_port + 1)}; }
  std::string log() const { return test::read_file(m_dir.file("server.log")); }
  const test::TempDir& dir() const { return m_dir; }

 private:
  test::TempDir m_dir{"m2msec-coap-server"};
  pid_t m_pid = -1;
  std::uint16_t m_port = 0;
  bool m_ready = false;
};

// The lines of libcoap's log (-v 7 prints every PDU it receives as "v:1 t:CON c:PUT ... [ options ]") that
// are requests of ours with the given option, e.g. "Block1:3/M/256".
std::vector<std::string> logged_blocks(const std::string& log, const std::string& method, const std::string& option) {
  std::vector<std::string> out;
  const std::regex pattern(concat({"t:CON c:", method, " .*", option, ":([0-9]+/[M_]/[0-9]+)"}));
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, pattern)) out.push_back(m[1]);
  }
  return out;
}

// A printable body (libcoap's coap-client prints it as is).
Bytes printable_body(std::size_t n) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>('A' + (i * 7 + i / 26) % 26);
  return out;
}

// What libcoap's own client reads from a URL (the independent oracle for what a server holds).
std::string coap_client_get(const test::TempDir& dir, const std::string& url) {
  const std::string out = dir.file("coap-client.out");
  // test::run appends its own redirections: the command is grouped so that its output goes to the file.
  test::run(dir, concat({"(timeout 10 coap-client-notls -m get '", url, "' > ", out, ")"}));
  std::string got = test::read_file(out);
  if (!got.empty() && got.back() == '\n') got.pop_back();  // coap-client ends its output with a newline
  return got;
}

// ---- plain UDP against coap-server-notls -------------------------------------------------------------------

TEST(CoapClientLibcoap, GetTimeOverUdp) {
  LibcoapServer server("coap-server-notls", {});
  ASSERT_TRUE(server.ready()) << server.log();
  auto connection = ClientConnection::open(server.plain(), nullptr);
  ASSERT_TRUE(connection) << connection.error().to_string();
  EXPECT_EQ(connection->session(), nullptr);
  auto response = connection->request(get("/time"));
  ASSERT_TRUE(response) << response.error().to_string();
  EXPECT_EQ(response->code, kContent);
  // libcoap's /time resource answers "Mon DD HH:MM:SS".
  EXPECT_TRUE(std::regex_match(str(response->payload), std::regex("[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")))
      << str(response->payload);
  // The server saw our GET with a Uri-Path "time" (its log line for the request).
  EXPECT_NE(server.log().find("c:GET"), std::string::npos);
  // A second request on the same connection: a fresh message ID, answered too.
  auto again = connection->request(get("/"));
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_NE(str(again->payload).find("libcoap"), std::string::npos);
  // A resource the server does not have: its 4.04, returned as a response (not an error).
  auto missing = connection->request(get("/no/such/thing"));
  ASSERT_TRUE(missing) << missing.error().to_string();
  EXPECT_EQ(missing->code, code(4, 4));
}

TEST(CoapClientLibcoap, Block2FetchesTheWholeExampleData) {
  LibcoapServer server("coap-server-notls", {});
  ASSERT_TRUE(server.ready()) << server.log();
  const std::string url = concat({"coap://127.0.0.1:", std::to_string(server.plain().port), "/example_data"});
  const std::string expected = coap_client_get(server.dir(), url);
  ASSERT_GT(expected.size(), 1024u) << "libcoap's /example_data is expected to need more than one block";
  auto connection = ClientConnection::open(server.plain(), nullptr);
  ASSERT_TRUE(connection) << connection.error().to_string();
  auto response = connection->request(get("/example_data"));
  ASSERT_TRUE(response) << response.error().to_string();
  EXPECT_EQ(response->code, kContent);
  EXPECT_EQ(str(response->payload), expected);
  for (const Option& o : response->options) {
    EXPECT_TRUE(o.number != kOptionBlock2 && o.number != kOptionSize2) << o.number;
  }
  // We asked for block 1 at the server's 1024 octets (RFC 7959 §2.4: the size it chose).
  const auto asked = logged_blocks(server.log(), "GET", "Block2");
  EXPECT_NE(std::find(asked.begin(), asked.end(), "1/_/1024"), asked.end()) << server.log();

  // Smaller blocks asked for in the first request (early negotiation): 256 octets each.
  ClientOptions small;
  small.block_size = 256;
  auto c256 = ClientConnection::open(server.plain(), nullptr, small);
  ASSERT_TRUE(c256);
  auto r256 = c256->request(get("/example_data"));
  ASSERT_TRUE(r256) << r256.error().to_string();
  EXPECT_EQ(str(r256->payload), expected);
  const auto asked256 = logged_blocks(server.log(), "GET", "Block2");
  std::size_t count = 0;
  for (const auto& b : asked256) count += b.ends_with("/_/256") ? 1 : 0;
  // Block 0 (asked for in the first request) and the following ones, ceil(size / 256) in all.
  EXPECT_EQ(count, (expected.size() + 255) / 256) << server.log();

  // A body over the limit: refused by Size2 before the rest is fetched.
  ClientOptions tight;
  tight.body_limit = 1000;
  auto limited = ClientConnection::open(server.plain(), nullptr, tight);
  ASSERT_TRUE(limited);
  auto refused = limited->request(get("/example_data"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().category(), Category::kProtocol) << refused.error().to_string();
}

TEST(CoapClientLibcoap, Block1PutThenGetBack) {
  LibcoapServer server("coap-server-notls", {});
  ASSERT_TRUE(server.ready()) << server.log();
  ClientOptions options;
  options.block_size = 256;
  auto connection = ClientConnection::open(server.plain(), nullptr, options);
  ASSERT_TRUE(connection) << connection.error().to_string();
  const Bytes body = printable_body(3000);
  Message put = get("/example_data");
  put.code = kPut;
  put.payload = body;
  auto stored = connection->request(put);
  ASSERT_TRUE(stored) << stored.error().to_string();
  EXPECT_EQ(stored->code >> 5, 2) << static_cast<int>(stored->code);
  // What the server received: blocks 0 ... 11 of 256 octets, M set on all but the last (RFC 7959 §2.2).
  const auto blocks = logged_blocks(server.log(), "PUT", "Block1");
  std::vector<std::string> expected_blocks;
  for (int i = 0; i < 12; ++i) expected_blocks.push_back(concat({std::to_string(i), i < 11 ? "/M/256" : "/_/256"}));
  EXPECT_EQ(blocks, expected_blocks) << server.log();
  EXPECT_NE(server.log().find("Size1:3000"), std::string::npos);
  // libcoap's own client reads back what we stored, and so do we (by Block2).
  const std::string url = concat({"coap://127.0.0.1:", std::to_string(server.plain().port), "/example_data"});
  EXPECT_EQ(coap_client_get(server.dir(), url), str(body));
  auto back = connection->request(get("/example_data"));
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->payload, body);
}

// ---- DTLS against coap-server-gnutls / coap-server-openssl -------------------------------------------------

constexpr std::string_view kPskKey = "m2msec-coap-psk-key";
constexpr std::string_view kPskIdentity = "test@onem2m.com";

std::shared_ptr<tls::Context> psk_client(std::string_view key) {
  tls::Config c;
  c.profile = tls::find_profile("ts0003-dtls12-psk");
  c.server_name = "localhost";
  c.psk = tls::ClientPsk{std::string(kPskIdentity), SecretBytes::copy_of(as_bytes(key))};
  c.dtls_handshake_timeout = 3000ms;
  return tls::loopback::must(tls::Context::create(std::move(c)));
}

// A GET of /time and a Block1 PUT + Block2 GET over one association.
void exercise(ClientConnection& connection) {
  auto time = connection.request(get("/time"));
  ASSERT_TRUE(time) << time.error().to_string();
  EXPECT_EQ(time->code, kContent);
  EXPECT_FALSE(time->payload.empty());
  Message put = get("/example_data");
  put.code = kPut;
  put.payload = printable_body(2500);
  auto stored = connection.request(put);
  ASSERT_TRUE(stored) << stored.error().to_string();
  EXPECT_EQ(stored->code >> 5, 2);
  auto back = connection.request(get("/example_data"));
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->payload, put.payload);
}

class CoapClientDtls : public ::testing::TestWithParam<const char*> {};

TEST_P(CoapClientDtls, Psk) {
  LibcoapServer server(GetParam(), {"-k", std::string(kPskKey), "-h", "m2msec"});
  ASSERT_TRUE(server.ready()) << server.log();
  auto connection = ClientConnection::open(server.secure(), psk_client(kPskKey));
  ASSERT_TRUE(connection) << connection.error().to_string() << server.log();
  ASSERT_NE(connection->session(), nullptr);
  const auto& suites = tls::find_profile("ts0003-dtls12-psk")->cipher_suites;
  EXPECT_NE(std::find(suites.begin(), suites.end(), connection->session()->cipher_suite()), suites.end());
  EXPECT_EQ(connection->session()->version(), tls::Version::kTls12);
  exercise(*connection);
  // The identity reached the server (libcoap logs the identity a client presented).
  EXPECT_NE(server.log().find(std::string(kPskIdentity)), std::string::npos) << server.log();
}

TEST_P(CoapClientDtls, WrongPskFailsTheHandshake) {
  LibcoapServer server(GetParam(), {"-k", std::string(kPskKey), "-h", "m2msec"});
  ASSERT_TRUE(server.ready()) << server.log();
  auto connection = ClientConnection::open(server.secure(), psk_client("not-the-key"));
  ASSERT_FALSE(connection);
  EXPECT_TRUE(connection.error().category() == Category::kAuth || connection.error().category() == Category::kIo)
      << connection.error().to_string();
}

// A root CA and two leaves issued by it directly, made with the openssl CLI: server (CSE-ID
// in-cse.m2m.example.com) and client (mn-cse.in-cse.m2m.example.com). (The shared test PKI's leaves hang below
// an intermediate, and libcoap 4.3.1's OpenSSL flavour loads only the first certificate of its -C file, so it
// cannot validate a client chain through one.)
struct OneLevelPki {
  test::TempDir dir{"m2msec-coap-pki"};
  bool ok = true;
  OneLevelPki() {
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -noenc";
    ok = test::run(dir, concat({"openssl req -x509 -new ", ec, " -keyout ", file("ca.key"), " -out ", file("ca.pem"),
                                " -subj /CN=coap-test-root -days 2 -sha256 -addext basicConstraints=critical,CA:true",
                                " -addext keyUsage=critical,digitalSignature,keyCertSign,cRLSign"})) == 0;
    for (const auto& [name, san] : {std::pair{"server", "in-cse.m2m.example.com"}, {"client", "mn-cse.in-cse.m2m.example.com"}}) {
      test::write_file(file(concat({name, ".ext"})),
                       as_bytes(concat({"basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\n"
                                        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\nsubjectAltName=DNS:",
                                        san, "\n"})));
      ok = ok && test::run(dir, concat({"openssl req -new ", ec, " -keyout ", file(concat({name, ".key"})), " -out ",
                                        file(concat({name, ".csr"})), " -subj /CN=", name})) == 0 &&
           test::run(dir, concat({"openssl x509 -req -in ", file(concat({name, ".csr"})), " -CA ", file("ca.pem"),
                                  " -CAkey ", file("ca.key"), " -CAcreateserial -days 2 -sha256 -out ",
                                  file(concat({name, ".pem"})), " -extfile ", file(concat({name, ".ext"}))})) == 0;
    }
  }
  std::string file(const std::string& name) const { return dir.file(name); }
};

TEST_P(CoapClientDtls, Certificates) {
  OneLevelPki pki;
  ASSERT_TRUE(pki.ok) << test::read_file(pki.file("log"));
  // The server presents server.pem and checks ours against ca.pem (-C: mutual authentication).
  LibcoapServer server(GetParam(), {"-c", pki.file("server.pem"), "-j", pki.file("server.key"), "-C", pki.file("ca.pem")});
  ASSERT_TRUE(server.ready()) << server.log();
  tls::Config c;
  c.profile = tls::find_profile("ts0003-dtls12-cert");
  c.server_name = std::string(tls::loopback::kAuthority);
  c.certificate = tls::CertificateCredential::load(pki.file("client.pem"), pki.file("client.key")).value();
  c.peer_policy = tls::PeerCertificatePolicy{pki::TrustStore::load(pki.file("ca.pem"), "").value(),
                                             pki::Flavour::kCseId, std::nullopt};
  c.dtls_handshake_timeout = 3000ms;
  auto context = tls::loopback::must(tls::Context::create(std::move(c)));
  ASSERT_TRUE(context);
  auto connection = ClientConnection::open(server.secure(), context);
  ASSERT_TRUE(connection) << connection.error().to_string() << server.log();
  EXPECT_EQ(connection->session()->peer().identifier, tls::loopback::kAuthority);
  EXPECT_EQ(connection->session()->cipher_suite(), "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8");
  exercise(*connection);

  // A server whose certificate names another CSE (client.pem: mn-cse...): refused by our validation.
  LibcoapServer other(GetParam(), {"-c", pki.file("client.pem"), "-j", pki.file("client.key"), "-C", pki.file("ca.pem")});
  ASSERT_TRUE(other.ready());
  auto refused = ClientConnection::open(other.secure(), context);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().category(), Category::kAuth) << refused.error().to_string();
}

INSTANTIATE_TEST_SUITE_P(Libcoap, CoapClientDtls, ::testing::Values("coap-server-gnutls", "coap-server-openssl"),
                         [](const auto& param_info) { return std::string(param_info.param).substr(12); });

// Raw public keys (RFC 7250): libcoap does them with GnuTLS only (-M).
TEST(CoapClientLibcoap, RawPublicKeysWithGnutls) {
  test::TempDir dir("m2msec-coap-rpk");
  const std::string server_key = dir.file("server.pem");
  const std::string client_key = dir.file("client.pem");
  const std::string ni = dir.file("server.ni");
  // libcoap's -M file: an EC PRIVATE KEY (SEC 1) holds both halves.
  ASSERT_EQ(test::run(dir, "openssl ecparam -name prime256v1 -genkey -noout -out " + server_key), 0);
  ASSERT_EQ(test::run(dir, "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt "
                           "ec_param_enc:named_curve -out " + client_key), 0);
  // The server key's RFC 6920 identifier, computed outside m2msec.
  ASSERT_EQ(test::run(dir, concat({"(openssl pkey -in ", server_key, " -pubout -outform DER | python3 -c \"import sys, "
                                   "hashlib, base64; print('ni:///sha-256;' + base64.urlsafe_b64encode(hashlib.sha256("
                                   "sys.stdin.buffer.read()).digest()).decode().rstrip('='), end='')\" > ", ni, ")"})),
            0);
  LibcoapServer server("coap-server-gnutls", {"-M", server_key});
  ASSERT_TRUE(server.ready()) << server.log();
  tls::Config c;
  c.profile = tls::find_profile("ts0003-dtls12-rpk");
  c.server_name = "in-cse.example.com";
  c.raw_public_key = tls::RawPublicKeyCredential{pki::PrivateKey::load_pem_file(client_key).value(),
                                                  pki::PublicKeyId::parse(test::read_file(ni)).value()};
  c.dtls_handshake_timeout = 3000ms;
  auto context = tls::loopback::must(tls::Context::create(std::move(c)));
  auto connection = ClientConnection::open(server.secure(), context);
  ASSERT_TRUE(connection) << connection.error().to_string() << server.log();
  EXPECT_EQ(connection->session()->peer().identifier, test::read_file(ni));
  exercise(*connection);
}

// ---- scripted peers ---------------------------------------------------------------------------------------

// A UDP socket of the test standing for a server: receives, records and answers what the script says.
class ScriptedPeer {
 public:
  ScriptedPeer() {
    m_fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t length = sizeof a;
    ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &length);
    m_port = ntohs(a.sin_port);
  }
  ~ScriptedPeer() { ::close(m_fd); }
  tls::net::Endpoint endpoint() const { return {"127.0.0.1", m_port}; }

  struct Received {
    Bytes datagram;
    SteadyClock::time_point at;
  };
  // The next datagram within `wait`, or nothing.
  std::optional<Received> receive(std::chrono::milliseconds wait) {
    pollfd p{m_fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return std::nullopt;
    std::uint8_t buffer[2048];
    socklen_t length = sizeof m_client;
    const ssize_t n = ::recvfrom(m_fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&m_client), &length);
    if (n < 0) return std::nullopt;
    return Received{Bytes(buffer, buffer + n), SteadyClock::now()};
  }
  std::optional<Message> receive_message(std::chrono::milliseconds wait) {
    auto got = receive(wait);
    if (!got) return std::nullopt;
    auto m = parse(got->datagram);
    if (!m) return std::nullopt;
    return *m;
  }
  void send(const Message& m) {
    const Bytes d = serialize(m).value();
    ::sendto(m_fd, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&m_client), sizeof m_client);
  }

 private:
  int m_fd = -1;
  std::uint16_t m_port = 0;
  sockaddr_in m_client{};
};

Message piggybacked(const Message& request, std::string_view payload) {
  return Message{Type::kAcknowledgement, kContent, request.message_id, request.token, {}, text(payload)};
}

ClientOptions fast(unsigned max_retransmit = 4) {
  ClientOptions o;
  o.ack_timeout = 100ms;
  o.max_retransmit = max_retransmit;
  o.separate_response_timeout = 2000ms;
  return o;
}

TEST(CoapClientRetransmission, TheFirstCopyLostTheSecondAnswered) {
  ScriptedPeer peer;
  auto script = std::async(std::launch::async, [&] {
    auto first = peer.receive(3000ms);  // dropped
    auto second = peer.receive(3000ms);
    EXPECT_TRUE(first && second);
    if (!first || !second) return;
    //= RFC 7252 §4.2
    //# A retransmission is the very same message (same Message ID), after ACK_TIMEOUT ... * RANDOM_FACTOR.
    EXPECT_EQ(first->datagram, second->datagram);
    const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(second->at - first->at);
    EXPECT_GE(gap.count(), 99);
    EXPECT_LE(gap.count(), 150 + 150);  // 1.5 * ACK_TIMEOUT, and scheduling slack
    const Message request = parse(second->datagram).value();
    EXPECT_EQ(request.type, Type::kConfirmable);
    EXPECT_EQ(request.token.size(), 8u);
    peer.send(piggybacked(request, "second copy answered"));
    // Nothing more is sent once the answer came.
    EXPECT_FALSE(peer.receive(500ms));
  });
  auto connection = ClientConnection::open(peer.endpoint(), nullptr, fast());
  ASSERT_TRUE(connection);
  auto response = connection->request(get("/x"));
  ASSERT_TRUE(response) << response.error().to_string();
  EXPECT_EQ(str(response->payload), "second copy answered");
  script.get();
  EXPECT_EQ(connection->datagrams_sent(), 2u);
}

TEST(CoapClientRetransmission, SilenceEndsAfterMaxRetransmitWithBackOff) {
  ScriptedPeer peer;
  constexpr unsigned kMaxRetransmit = 3;
  auto script = std::async(std::launch::async, [&] {
    std::vector<ScriptedPeer::Received> got;
    while (auto r = peer.receive(2500ms)) got.push_back(*r);
    return got;
  });
  auto connection = ClientConnection::open(peer.endpoint(), nullptr, fast(kMaxRetransmit));
  ASSERT_TRUE(connection);
  const auto start = SteadyClock::now();
  auto response = connection->request(get("/x"));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().category(), Category::kIo);
  EXPECT_NE(response.error().detail().find("timed out"), std::string::npos) << response.error().to_string();
  const auto got = script.get();
  //= RFC 7252 §4.2
  //# The original transmission and MAX_RETRANSMIT retransmissions, each timeout twice the previous one.
  ASSERT_EQ(got.size(), kMaxRetransmit + 1);
  for (const auto& r : got) EXPECT_EQ(r.datagram, got[0].datagram);
  double initial = 0;
  for (std::size_t i = 1; i < got.size(); ++i) {
    const double gap = std::chrono::duration<double, std::milli>(got[i].at - got[i - 1].at).count();
    // Never early; late by at most the scheduling slack of a loaded (or sanitized) test machine.
    if (i == 1) {
      initial = gap;
      EXPECT_GE(gap, 99.0);
      EXPECT_LE(gap, 150.0 + 150);
    } else {
      const double expected = initial * static_cast<double>(1u << (i - 1));
      EXPECT_GE(gap, expected - 60.0) << "gap " << i;
      EXPECT_LE(gap, expected + 150.0) << "gap " << i;
    }
  }
  // The whole wait: initial * (1 + 2 + 4 + 8), between 1.5 s and 2.25 s (+ slack).
  EXPECT_GE(took.count(), 1500);
  EXPECT_LE(took.count(), 2250 + 600);
}

TEST(CoapClientRetransmission, ResetIsAProtocolError) {
  ScriptedPeer peer;
  auto script = std::async(std::launch::async, [&] {
    auto request = peer.receive_message(3000ms);
    ASSERT_TRUE(request);
    peer.send(Message{Type::kReset, kEmpty, request->message_id, {}, {}, {}});
  });
  auto connection = ClientConnection::open(peer.endpoint(), nullptr, fast());
  ASSERT_TRUE(connection);
  auto response = connection->request(get("/x"));
  script.get();
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().category(), Category::kProtocol) << response.error().to_string();
  EXPECT_EQ(connection->datagrams_sent(), 1u);
}

// A separate response (Empty ACK, then a CON response that we must acknowledge), then its duplicate while the
// next request is under way, a stale piggybacked answer and an answer with another token: only the right
// answers are taken, the duplicate is acknowledged again (RFC 7252 §4.5), the stranger's CON is reset.
TEST(CoapClientRetransmission, SeparateResponsesAndDuplicates) {
  ScriptedPeer peer;
  auto script = std::async(std::launch::async, [&] {
    auto first = peer.receive_message(3000ms);
    ASSERT_TRUE(first);
    peer.send(Message{Type::kAcknowledgement, kEmpty, first->message_id, {}, {}, {}});
    std::this_thread::sleep_for(300ms);  // longer than the ACK timeout: the Empty ACK stopped retransmission
    const Message separate{Type::kConfirmable, kContent, 0x4242, first->token, {}, text("one")};
    peer.send(separate);
    auto ack = peer.receive_message(3000ms);
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->type, Type::kAcknowledgement);
    EXPECT_EQ(ack->code, kEmpty);
    EXPECT_EQ(ack->message_id, 0x4242);

    auto second = peer.receive_message(3000ms);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->type, Type::kConfirmable);
    EXPECT_NE(second->message_id, first->message_id);
    EXPECT_NE(second->token, first->token);
    peer.send(separate);                          // our ACK "was lost": the same CON again
    peer.send(piggybacked(*first, "stale"));      // an answer to the first request's message ID
    Message wrong = piggybacked(*second, "wrong token");
    wrong.token = text("12345678");
    peer.send(wrong);                              // our message ID, another token
    peer.send(Message{Type::kConfirmable, kContent, 0x5151, text("87654321"), {}, text("stranger")});
    // The client acknowledges the duplicate again and resets the stranger.
    auto re_ack = peer.receive_message(3000ms);
    ASSERT_TRUE(re_ack);
    EXPECT_EQ(re_ack->type, Type::kAcknowledgement);
    EXPECT_EQ(re_ack->message_id, 0x4242);
    auto reset = peer.receive_message(3000ms);
    ASSERT_TRUE(reset);
    EXPECT_EQ(reset->type, Type::kReset);
    EXPECT_EQ(reset->message_id, 0x5151);
    peer.send(piggybacked(*second, "two"));
    peer.send(piggybacked(*second, "two again"));  // a duplicate of the answer, after it was taken
  });
  auto connection = ClientConnection::open(peer.endpoint(), nullptr, fast());
  ASSERT_TRUE(connection);
  auto one = connection->request(get("/one"));
  ASSERT_TRUE(one) << one.error().to_string();
  EXPECT_EQ(str(one->payload), "one");
  auto two = connection->request(get("/two"));
  ASSERT_TRUE(two) << two.error().to_string();
  EXPECT_EQ(str(two->payload), "two");
  script.get();
}

TEST(CoapClientRetransmission, NoSeparateResponseInTime) {
  ScriptedPeer peer;
  auto script = std::async(std::launch::async, [&] {
    auto first = peer.receive_message(3000ms);
    ASSERT_TRUE(first);
    peer.send(Message{Type::kAcknowledgement, kEmpty, first->message_id, {}, {}, {}});
    EXPECT_FALSE(peer.receive(2500ms));  // no retransmission after the Empty ACK
  });
  ClientOptions o = fast();
  o.separate_response_timeout = 500ms;
  auto connection = ClientConnection::open(peer.endpoint(), nullptr, o);
  ASSERT_TRUE(connection);
  auto response = connection->request(get("/x"));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().category(), Category::kIo);
  script.get();
}

TEST(CoapClientRetransmission, ResponseCodesOutsideTheResponseClassesAreRefused) {
  ScriptedPeer peer;
  auto script = std::async(std::launch::async, [&] {
    auto request = peer.receive_message(3000ms);
    ASSERT_TRUE(request);
    Message odd = piggybacked(*request, "");
    odd.code = code(3, 0);
    peer.send(odd);
  });
  auto connection = ClientConnection::open(peer.endpoint(), nullptr, fast());
  ASSERT_TRUE(connection);
  auto response = connection->request(get("/x"));
  script.get();
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().category(), Category::kProtocol);
}

// ---- block-wise negotiation against scripted peers ----------------------------------------------------------

std::optional<Block> block_in(const Message& m, std::uint16_t number) {
  const Option* o = find_option(m, number);
  return o == nullptr ? std::nullopt : decode_block(o->value);
}

// RFC 7959 §2.3: the server's 2.31 names a smaller SZX; the following blocks use it, numbered by the smaller size
// (the first 512 octets are blocks 0 and 1 of 256, so the next is block 2). The peer reassembles what came.
TEST(CoapClientBlockwise, LateNegotiationOfASmallerBlock1Size) {
  ScriptedPeer peer;
  const Bytes body = printable_body(1200);
  auto script = std::async(std::launch::async, [&] {
    Bytes got;
    std::vector<std::string> seen;
    for (;;) {
      auto m = peer.receive_message(3000ms);
      if (!m) break;
      const auto b = block_in(*m, kOptionBlock1);
      if (!b) break;
      seen.push_back(concat({std::to_string(b->num), b->more ? "/M/" : "/_/", std::to_string(b->size())}));
      EXPECT_EQ(got.size(), b->offset());
      got.insert(got.end(), m->payload.begin(), m->payload.end());
      Message answer{Type::kAcknowledgement, b->more ? code(2, 31) : code(2, 4), m->message_id, m->token, {}, {}};
      Block echo = *b;
      echo.szx = 4;  // 256 octets from now on
      if (b->more) answer.options.push_back(Option{kOptionBlock1, encode_block(echo)});
      peer.send(answer);
      if (!b->more) break;
    }
    return std::pair{got, seen};
  });
  ClientOptions o = fast();
  o.block_size = 512;
  auto connection = ClientConnection::open(peer.endpoint(), nullptr, o);
  ASSERT_TRUE(connection);
  Message put = get("/x");
  put.code = kPut;
  put.payload = body;
  auto response = connection->request(put);
  ASSERT_TRUE(response) << response.error().to_string();
  EXPECT_EQ(response->code, code(2, 4));
  const auto [got, seen] = script.get();
  EXPECT_EQ(got, body);
  EXPECT_EQ(seen, (std::vector<std::string>{"0/M/512", "2/M/256", "3/M/256", "4/_/256"}));
}

// RFC 7959 §2.9.3: 4.13 with a Block1 option of 128 octets to a whole 300-octet body: sent again in blocks of 128.
TEST(CoapClientBlockwise, RequestEntityTooLargeWithBlock1) {
  ScriptedPeer peer;
  const Bytes body = printable_body(300);
  auto script = std::async(std::launch::async, [&] {
    Bytes got;
    std::vector<std::string> seen;
    for (;;) {
      auto m = peer.receive_message(3000ms);
      if (!m) break;
      const auto b = block_in(*m, kOptionBlock1);
      if (!b) {
        seen.push_back(concat({"whole ", std::to_string(m->payload.size())}));
        Message too_large{Type::kAcknowledgement, code(4, 13), m->message_id, m->token, {}, {}};
        too_large.options.push_back(Option{kOptionBlock1, encode_block(Block{0, false, 3})});
        peer.send(too_large);
        continue;
      }
      seen.push_back(concat({std::to_string(b->num), b->more ? "/M/" : "/_/", std::to_string(b->size())}));
      got.insert(got.end(), m->payload.begin(), m->payload.end());
      Message answer{Type::kAcknowledgement, b->more ? code(2, 31) : code(2, 1), m->message_id, m->token, {}, {}};
      if (b->more) answer.options.push_back(Option{kOptionBlock1, encode_block(*b)});
      peer.send(answer);
      if (!b->more) break;
    }
    return std::pair{got, seen};
  });
  auto connection = ClientConnection::open(peer.endpoint(), nullptr, fast());
  ASSERT_TRUE(connection);
  Message post = get("/x");
  post.code = code(0, 2);
  post.payload = body;
  auto response = connection->request(post);
  ASSERT_TRUE(response) << response.error().to_string();
  EXPECT_EQ(response->code, code(2, 1));
  const auto [got, seen] = script.get();
  EXPECT_EQ(got, body);
  EXPECT_EQ(seen, (std::vector<std::string>{"whole 300", "0/M/128", "1/M/128", "2/_/128"}));
}

// Block2 answers that do not add up: the ETag changes mid-transfer; a block other than the one asked for.
TEST(CoapClientBlockwise, InconsistentBlock2IsRefused) {
  for (const bool change_etag : {true, false}) {
    ScriptedPeer peer;
    auto script = std::async(std::launch::async, [&] {
      for (int i = 0; i < 2; ++i) {
        auto m = peer.receive_message(3000ms);
        if (!m) return;
        const auto asked = block_in(*m, kOptionBlock2);
        const std::uint32_t num = asked ? asked->num : 0;
        Message answer{Type::kAcknowledgement, kContent, m->message_id, m->token, {}, Bytes(64, 'a')};
        answer.options.push_back(Option{4, Bytes{static_cast<std::uint8_t>(change_etag ? num : 0)}});  // ETag
        answer.options.push_back(Option{kOptionBlock2, encode_block(Block{change_etag || num == 0 ? num : num + 1, true, 2})});
        peer.send(answer);
      }
    });
    auto connection = ClientConnection::open(peer.endpoint(), nullptr, fast());
    ASSERT_TRUE(connection);
    auto response = connection->request(get("/x"));
    script.get();
    ASSERT_FALSE(response) << change_etag;
    EXPECT_EQ(response.error().category(), Category::kProtocol) << response.error().to_string();
  }
}

// ---- our client against our server ------------------------------------------------------------------------

// A request primitive over DTLS PSK to coap::Server with the oneM2M binding: the request's content (larger than
// a block: Block1) and the response's (Block2) arrive whole, the originator and rqi travel in their options, and
// both ends export the same keying material (RFC 5705) from the association.
TEST(CoapClientOwnServer, PrimitiveRoundTripOverDtlsPsk) {
  const tls::SecurityProfile* profile = tls::find_profile("ts0003-dtls12-psk");
  std::mutex mutex;
  std::optional<SecretBytes> server_exported;
  std::string server_peer;
  std::optional<onem2m::Request> received;
  const std::string big(3000, 'x');
  ServerOptions options;
  options.dtls = tls::loopback::psk_server(profile);
  options.block_size = 256;
  options.handler = primitive_handler([&](const onem2m::Request& request, const Connection& connection) {
    std::lock_guard lock(mutex);
    received = request;
    if (connection.session != nullptr) {
      auto exported = connection.session->export_keying_material(tls::loopback::kLabel, 32);
      if (exported) server_exported = std::move(exported).value();
      server_peer = connection.session->peer().identifier;
    }
    onem2m::Response response;
    response.rsc = Rsc::kCreated;
    response.rqi = request.rqi;
    response.pc = json::Value(json::Object{{"m2m:dbg", json::Value(std::string(big.rbegin(), big.rend()) + "!")}});
    return response;
  });
  auto server = Server::start(std::move(options));
  ASSERT_TRUE(server) << server.error().to_string();
  ClientOptions client_options;
  client_options.block_size = 512;
  auto connection = ClientConnection::open(tls::net::Endpoint{"127.0.0.1", (*server)->port()},
                                           tls::loopback::psk_client(profile), client_options);
  ASSERT_TRUE(connection) << connection.error().to_string();
  onem2m::Request request;
  request.op = onem2m::Operation::kCreate;
  request.to = "cse-in/ae1";
  request.fr = "Cdevice1";
  request.rqi = "req-0001";
  request.ty = 4;
  request.pc = json::Value(json::Object{{"m2m:cin", json::Value(json::Object{{"con", json::Value(big)}})}});
  auto response = send_primitive(*connection, request);
  ASSERT_TRUE(response) << response.error().to_string();
  EXPECT_EQ(response->rsc, Rsc::kCreated);
  EXPECT_EQ(response->rqi, "req-0001");
  ASSERT_TRUE(response->pc);
  const json::Value* dbg = response->pc->find("m2m:dbg");
  ASSERT_TRUE(dbg != nullptr && dbg->string() != nullptr);
  EXPECT_EQ(dbg->string()->size(), big.size() + 1);

  auto client_exported = connection->session()->export_keying_material(tls::loopback::kLabel, 32);
  ASSERT_TRUE(client_exported);
  std::lock_guard lock(mutex);
  ASSERT_TRUE(received);
  EXPECT_EQ(received->op, onem2m::Operation::kCreate);
  EXPECT_EQ(received->to, "cse-in/ae1");
  EXPECT_EQ(received->fr, "Cdevice1");
  EXPECT_EQ(received->ty, 4u);
  EXPECT_TRUE(received->pc && *received->pc == *request.pc);
  EXPECT_EQ(server_peer, tls::loopback::kIdentity);
  ASSERT_TRUE(server_exported);
  EXPECT_TRUE(tls::loopback::same(*server_exported, *client_exported));
}

// ---- usage --------------------------------------------------------------------------------------------------

TEST(CoapClientUsage, RefusedBeforeSending) {
  ScriptedPeer peer;
  ClientOptions bad;
  bad.block_size = 1000;
  EXPECT_FALSE(ClientConnection::open(peer.endpoint(), nullptr, bad));
  auto connection = ClientConnection::open(peer.endpoint(), nullptr, fast());
  ASSERT_TRUE(connection);
  Message response_code = get("/x");
  response_code.code = kContent;
  auto r = connection->request(response_code);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().category(), Category::kUsage);
  Message with_block = get("/x");
  with_block.options.push_back(Option{kOptionBlock2, {}});
  r = connection->request(with_block);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().category(), Category::kUsage);
  EXPECT_EQ(connection->datagrams_sent(), 0u);
  // A TLS (not DTLS) context, or a DTLS server one.
  auto tls_context = tls::loopback::psk_client(tls::find_profile("ts0003-tls12-psk"));
  EXPECT_FALSE(ClientConnection::open(peer.endpoint(), tls_context));
  auto dtls_server = tls::loopback::psk_server(tls::find_profile("ts0003-dtls12-psk"));
  EXPECT_FALSE(ClientConnection::open(peer.endpoint(), dtls_server));
}

// ---- URLs -----------------------------------------------------------------------------------------------------

TEST(CoapUrl, ParsesCoapAndCoaps) {
  auto u = Url::parse("coaps://MEF.example.com/mef");
  ASSERT_TRUE(u) << u.error().to_string();
  EXPECT_EQ(u->scheme, "coaps");
  EXPECT_EQ(u->host, "mef.example.com");
  EXPECT_EQ(u->port, 5684);  // RFC 7252 §6.2
  EXPECT_EQ(u->target, "/mef");
  u = Url::parse("COAP://[::1]:61616");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "coap");
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 61616);
  EXPECT_EQ(u->target, "/");
  EXPECT_EQ(u->authority_url(), "coap://[::1]:61616");
  EXPECT_EQ(Url::parse("coap://10.0.0.1")->port, 5683);  // RFC 7252 §6.1
  for (const char* bad : {"https://h/x", "coaps://user@h/x", "coaps://h:0/x", "coaps://h:70000/x", "coaps://h/x#f",
                          "coaps://h/a b", "coaps://[::1/x", "coaps://h:/x", "coaps://-h-/x"}) {
    EXPECT_FALSE(Url::parse(bad)) << bad;
  }
}

// RFC 7252 §6.5 example: coap://example.net/.well-known/core -> Uri-Path ".well-known", "core"; and a
// percent-encoded segment and query decoded into single options.
TEST(CoapUrl, UriOptions) {
  auto o = uri_options("/.well-known/core");
  ASSERT_TRUE(o);
  EXPECT_EQ(*o, (std::vector<Option>{{11, text(".well-known")}, {11, text("core")}}));
  o = uri_options("/%7Esensors/temp%2Fx?a=1&b%20c");
  ASSERT_TRUE(o);
  EXPECT_EQ(*o, (std::vector<Option>{{11, text("~sensors")}, {11, text("temp/x")}, {15, text("a=1")}, {15, text("b c")}}));
  o = uri_options("/");
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->empty());
  EXPECT_FALSE(uri_options("/a%2"));
}

}  // namespace
}  // namespace m2msec::coap

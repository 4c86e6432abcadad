// Raw-public-key associations (RFC 7250, GnuTLS backend), library level: our client against our server
// over socket pairs and UDP, keys made by the openssl CLI, RFC 6920 identifiers computed independently
// (openssl pkey -pubout -outform DER | python3 hashlib), and one TLS 1.3 run against gnutls-cli.
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "m2msec/core/encoding.h"
#include "m2msec/core/secret.h"
#include "m2msec/pki/certificate.h"
#include "m2msec/pki/identity.h"
#include "m2msec/tls/net.h"
#include "m2msec/tls/session.h"
#include "oracle.h"
#include "pair.h"

namespace m2msec::tls {
namespace {

using loopback::establish;
using loopback::expect_refused;
using loopback::expect_socket_timeouts;
using loopback::expect_success;
using loopback::failure;
using loopback::Outcome;
using loopback::Pair;
using loopback::printed;
using loopback::run_end;
using loopback::run_pair;
using loopback::same;
using loopback::set_timeouts;

using loopback::kLabel;
constexpr std::string_view kServerName = "in-cse.example.com";

// Keys and their identifiers, made once for the whole suite.
class RpkKeys {
 public:
  RpkKeys() : m_dir(std::make_shared<test::TempDir>("m2msec-rpk")) {}

  // A P-256 key (or another curve) and its ni URI, computed outside m2msec.
  void make(const std::string& name, const std::string& curve = "P-256") {
    const std::string key = file(name + ".pem");
    m_ok = m_ok &&
           test::run(dir(), "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:" + curve +
                                " -pkeyopt ec_param_enc:named_curve -out " + key) == 0 &&
           test::run(dir(), "openssl pkey -in " + key + " -pubout -out " + file(name + ".pub")) == 0 &&
           // test::run appends its own redirections: the pipeline is grouped so its output goes to the file.
           test::run(dir(), "(openssl pkey -in " + key + " -pubout -outform DER | python3 -c \"import sys, hashlib, "
                            "base64; print('ni:///sha-256;' + base64.urlsafe_b64encode(hashlib.sha256("
                            "sys.stdin.buffer.read()).digest()).decode().rstrip('='), end='')\" > " +
                                file(name + ".ni") + ")") == 0;
  }
  bool ok() const { return m_ok; }
  pki::PrivateKey key(const std::string& name) const {
    return pki::PrivateKey::load_pem_file(file(name + ".pem")).value();
  }
  std::string ni(const std::string& name) const { return test::read_file(file(name + ".ni")); }
  std::string file(const std::string& name) const { return m_dir->file(name); }
  const test::TempDir& dir() const { return *m_dir; }

 private:
  std::shared_ptr<test::TempDir> m_dir;
  bool m_ok = true;
};

// Made on first use, shared by every test of the program, removed at exit.
const RpkKeys& shared_keys() {
  static const RpkKeys keys = [] {
    RpkKeys k;
    for (const char* name : {"client", "server", "stranger"}) k.make(name);
    k.make("p384", "P-384");
    return k;
  }();
  return keys;
}

class RpkTest : public ::testing::Test {
 public:
  static const RpkKeys& keys() { return shared_keys(); }

 protected:
  void SetUp() override { ASSERT_TRUE(keys().ok()) << "the openssl/python3 key oracle failed"; }

  static const SecurityProfile* profile(std::string_view name) {
    const SecurityProfile* p = find_profile(name);
    EXPECT_NE(p, nullptr) << name;
    return p;
  }

  static Config config(Role role, const SecurityProfile* p, const std::string& own,
                       std::optional<std::string> expected_peer_ni) {
    Config c;
    c.role = role;
    c.profile = p;
    if (role == Role::kClient) c.server_name = std::string(kServerName);
    std::optional<pki::PublicKeyId> expected;
    if (expected_peer_ni) expected = pki::PublicKeyId::parse(*expected_peer_ni).value();
    c.raw_public_key = RawPublicKeyCredential{keys().key(own), expected};
    return c;
  }

  static std::shared_ptr<Context> context(Config c) {
    auto ctx = Context::create(std::move(c));
    EXPECT_TRUE(ctx) << (ctx ? "" : ctx.error().to_string());
    return ctx ? *ctx : nullptr;
  }
};

class RpkProfiles : public RpkTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(RpkProfiles, MutualHandshakeWithConfiguredIdentifiersExportsTheSameKeyingMaterial) {
  const SecurityProfile* p = profile(GetParam());
  ASSERT_NE(p, nullptr);
  auto client = context(config(Role::kClient, p, "client", keys().ni("server")));
  auto server = context(config(Role::kServer, p, "server", keys().ni("client")));
  ASSERT_TRUE(client && server);
  const Pair r = run_pair(client, server);
  expect_success(r, p);
  ASSERT_TRUE(r.client.peer && r.server.peer);
  EXPECT_EQ(r.client.peer->kind, CredentialKind::kRawPublicKey);
  EXPECT_EQ(r.client.peer->identifier, keys().ni("server"));
  EXPECT_EQ(r.server.peer->identifier, keys().ni("client"));
  // 8.2.2.2: A binds to IdB (here the SNI authority); B to the key's identifier (Credential-ID later).
  EXPECT_EQ(r.client.peer->identity, kServerName);
  EXPECT_EQ(r.server.peer->identity, keys().ni("client"));
}

TEST_P(RpkProfiles, WithoutConfiguredIdentifierAnyKeyIsAcceptedAndNamedByItsSha256Identifier) {
  const SecurityProfile* p = profile(GetParam());
  ASSERT_NE(p, nullptr);
  auto client = context(config(Role::kClient, p, "client", std::nullopt));
  auto server = context(config(Role::kServer, p, "server", std::nullopt));
  ASSERT_TRUE(client && server);
  const Pair r = run_pair(client, server);
  expect_success(r, p);
  ASSERT_TRUE(r.client.peer && r.server.peer);
  EXPECT_EQ(r.client.peer->identifier, keys().ni("server"));
  EXPECT_EQ(r.server.peer->identifier, keys().ni("client"));
  EXPECT_EQ(r.server.peer->identity, keys().ni("client"));
}

// Both ends refused with bad_certificate (42), as authentication failures.
void expect_key_refused(const Pair& r) {
  expect_refused(r, 42);
  for (const Outcome* o : {&r.client, &r.server}) {
    if (const auto& e = failure(*o)) {
      EXPECT_EQ(e->category(), Category::kAuth) << e->to_string();
    }
  }
}

TEST_P(RpkProfiles, ClientRejectsAServerKeyOtherThanTheConfiguredOne) {
  const SecurityProfile* p = profile(GetParam());
  ASSERT_NE(p, nullptr);
  auto client = context(config(Role::kClient, p, "client", keys().ni("stranger")));
  auto server = context(config(Role::kServer, p, "server", keys().ni("client")));
  ASSERT_TRUE(client && server);
  const Pair r = run_pair(client, server);
  //= TS-0003 V3.18.0 §8.1.2.5
  //# A raw public key that does not match the configured identifier aborts the handshake.
  expect_key_refused(r);
  EXPECT_TRUE(r.client.handshake_error && r.server.handshake_error);
}

TEST_P(RpkProfiles, ServerRejectsAClientKeyOtherThanTheConfiguredOne) {
  const SecurityProfile* p = profile(GetParam());
  ASSERT_NE(p, nullptr);
  auto client = context(config(Role::kClient, p, "client", keys().ni("server")));
  auto server = context(config(Role::kServer, p, "server", keys().ni("stranger")));
  ASSERT_TRUE(client && server);
  const Pair r = run_pair(client, server);
  expect_key_refused(r);
  EXPECT_TRUE(r.server.handshake_error);
  // RFC 8446: a TLS 1.3 client completes before the server checks its key, and learns of the refusal on
  // its first read; in 1.2 the refusal ends the client's handshake.
  EXPECT_EQ(r.client.handshake_error.has_value(), p->version != Version::kTls13);
}

INSTANTIATE_TEST_SUITE_P(AllRpkProfiles, RpkProfiles,
                         ::testing::Values("ts0003-tls12-rpk", "ts0003-tls13-rpk", "ts0003-dtls12-rpk"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                           std::string name = param_info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST_F(RpkTest, OwnKeyOutsideTheProfileIsRefusedWhenTheContextIsBuilt) {
  //= TS-0003 V3.18.0 §10.1.1.1
  //# Raw public keys are id-ecPublicKey on secp256r1: a P-384 key does not fit the profiles.
  auto c = Context::create(config(Role::kClient, profile("ts0003-tls13-rpk"), "p384", std::nullopt));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().category(), Category::kUsage) << c.error().to_string();
}

TEST_F(RpkTest, NonBlockingSocketsReportWhatTheHandshakeWaitsFor) {
  for (const char* name : {"ts0003-tls13-rpk", "ts0003-tls12-rpk", "ts0003-dtls12-rpk"}) {
    SCOPED_TRACE(name);
    const SecurityProfile* p = profile(name);
    auto client_ctx = context(config(Role::kClient, p, "client", keys().ni("server")));
    auto server_ctx = context(config(Role::kServer, p, "server", keys().ni("client")));
    ASSERT_TRUE(client_ctx && server_ctx);
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, p->transport == Transport::kDtls ? SOCK_DGRAM : SOCK_STREAM, 0, fds), 0);
    for (int fd : fds) ASSERT_EQ(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
    {
      auto client = client_ctx->session(fds[0]).value();
      auto server = server_ctx->session(fds[1]).value();
      bool client_done = false, server_done = false, saw_want_read = false;
      for (int round = 0; round < 200 && !(client_done && server_done); ++round) {
        for (auto [s, done] : {std::pair{client.get(), &client_done}, std::pair{server.get(), &server_done}}) {
          if (*done) continue;
          auto r = s->handshake();
          ASSERT_TRUE(r) << r.error().to_string();
          saw_want_read = saw_want_read || *r == Progress::kWantRead;
          *done = *r == Progress::kDone;
        }
      }
      ASSERT_TRUE(client_done && server_done);
      EXPECT_TRUE(saw_want_read);
      EXPECT_TRUE(same(client->export_keying_material(kLabel, 48).value(),
                       server->export_keying_material(kLabel, 48).value()));
      EXPECT_EQ(client->write(as_bytes("hello")).value(), 5u);
      std::uint8_t buffer[8];
      EXPECT_EQ(server->read(buffer).value(), 5u);
    }
    ::close(fds[0]);
    ::close(fds[1]);
  }
}

TEST_F(RpkTest, AnExpiredSocketTimeoutIsAnIoError) {
  const SecurityProfile* p = profile("ts0003-tls12-rpk");
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  {
    auto ends = establish(context(config(Role::kClient, p, "client", keys().ni("server"))),
                          context(config(Role::kServer, p, "server", keys().ni("client"))), fds);
    ASSERT_TRUE(ends.client && ends.server);
    expect_socket_timeouts(*ends.client, fds[0]);
  }
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_F(RpkTest, DtlsServerAcceptsAfterAStatelessCookieExchange) {
  const SecurityProfile* p = profile("ts0003-dtls12-rpk");
  auto client_ctx = context(config(Role::kClient, p, "client", keys().ni("server")));
  auto server_ctx = context(config(Role::kServer, p, "server", keys().ni("client")));
  ASSERT_TRUE(client_ctx && server_ctx);
  auto listening = net::listen(net::Endpoint{"127.0.0.1", 0}, true);
  ASSERT_TRUE(listening) << listening.error().to_string();
  const std::uint16_t port = net::local_port(listening->fd()).value();
  set_timeouts(listening->fd());

  // A stray datagram that is not a ClientHello is dropped without an answer.
  auto stray = net::connect(net::Endpoint{"127.0.0.1", port}, true).value();
  ASSERT_EQ(::send(stray.fd(), "junk", 4, 0), 4);

  auto server = std::async(std::launch::async, [&] {
    Outcome o;
    auto s = server_ctx->accept_datagram(listening->fd());
    EXPECT_TRUE(s) << (s ? "" : s.error().to_string());
    if (s) o = run_end(**s, Role::kServer);
    return o;
  });
  Outcome client;
  {
    auto socket = net::connect(net::Endpoint{"127.0.0.1", port}, true).value();
    set_timeouts(socket.fd());
    auto s = client_ctx->session(socket.fd()).value();
    client = run_end(*s, Role::kClient);
  }
  Pair r{std::move(client), server.get()};
  expect_success(r, p);
  EXPECT_EQ(r.server.peer->identifier, keys().ni("client"));
  // The stray socket got nothing back.
  pollfd pf{stray.fd(), POLLIN, 0};
  EXPECT_EQ(poll(&pf, 1, 0), 0);
  EXPECT_TRUE(net::disconnect(listening->fd()));
}

TEST_F(RpkTest, AccessorsAndExportBeforeTheHandshakeAreRefused) {
  auto ctx = context(config(Role::kClient, profile("ts0003-tls13-rpk"), "client", std::nullopt));
  ASSERT_TRUE(ctx);
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  {
    auto s = ctx->session(fds[0]).value();
    EXPECT_FALSE(s->export_keying_material(kLabel, 48));
    EXPECT_FALSE(s->channel_binding());
    std::uint8_t b[4];
    EXPECT_FALSE(s->read(b));
    EXPECT_FALSE(s->write(as_bytes("x")));
  }
  ::close(fds[0]);
  ::close(fds[1]);
}

// --- against GnuTLS's own command-line tools ---------------------------------------------------

bool have(const char* program) {
  return std::system((std::string("command -v ") + program + " >/dev/null 2>&1").c_str()) == 0;
}

// Our server, gnutls-cli as the client; gnutls-cli prints the RFC 5705 export of the same label.
struct CliRun {
  Outcome server;
  int cli_status = -1;
  std::string cli_log;
};
CliRun run_against_gnutls_cli(const std::shared_ptr<Context>& server_ctx, const std::string& priority,
                              const std::string& extra_args = {}, const std::string& client_key = "client") {
  CliRun run;
  auto listening = net::listen(net::Endpoint{"127.0.0.1", 0}, false).value();
  const std::uint16_t port = net::local_port(listening.fd()).value();
  auto server = std::async(std::launch::async, [&] {
    Outcome o;
    auto accepted = net::accept(listening.fd());
    EXPECT_TRUE(accepted);
    if (!accepted) return o;
    set_timeouts(accepted->fd());
    auto s = server_ctx->session(accepted->fd()).value();
    auto hs = s->handshake();
    auto ex = s->export_keying_material(kLabel, 48);
    if (ex) o.exported = std::move(ex).value();
    if (!hs) {
      o.handshake_error = hs.error();
    } else {
      o.peer = s->peer();
      o.cipher_suite = s->cipher_suite();
      if (auto binding = s->channel_binding()) o.channel_binding = std::move(binding).value();
      // Until gnutls-cli goes away (its stdin is empty): 0 octets or an error, never data.
      std::uint8_t buffer[64];
      auto r = s->read(buffer);
      if (!r) {
        o.data_error = r.error();
      } else {
        o.received.assign(reinterpret_cast<const char*>(buffer), *r);
      }
    }
    s->close();
    return o;
  });
  const RpkKeys& keys = RpkTest::keys();
  const std::string log = keys.file("cli.log");
  run.cli_status = test::run(
      keys.dir(), "(timeout 20 gnutls-cli --port=" + std::to_string(port) + " 127.0.0.1 --sni-hostname=" +
                        std::string(kServerName) + " --priority='" + priority + "' --rawpkkeyfile=" +
                        keys.file(client_key + ".pem") + " --rawpkfile=" + keys.file(client_key + ".pub") +
                        " --no-ca-verification --keymatexport=" + std::string(kLabel) +
                        " --keymatexportsize=48 " + extra_args + " </dev/null >" + log + " 2>&1)");
  run.server = server.get();
  run.cli_log = test::read_file(log);
  return run;
}

class RpkInterop : public RpkTest {
 protected:
  void SetUp() override {
    RpkTest::SetUp();
    if (!have("gnutls-cli") || !have("gnutls-serv")) GTEST_SKIP() << "gnutls-bin is not installed";
  }
};

TEST_F(RpkInterop, Tls13ExportEqualsGnutlsCliKeymatexport) {
  const SecurityProfile* p = profile("ts0003-tls13-rpk");
  auto server = context(config(Role::kServer, p, "server", keys().ni("client")));
  ASSERT_TRUE(server);
  const CliRun run = run_against_gnutls_cli(
      server, "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CTYPE-ALL:+CTYPE-CLI-RAWPK:+CTYPE-SRV-RAWPK");
  ASSERT_FALSE(run.server.handshake_error) << run.server.handshake_error->to_string() << "\n" << run.cli_log;
  ASSERT_EQ(run.cli_status, 0) << run.cli_log;
  ASSERT_TRUE(run.server.exported);
  EXPECT_EQ(printed(run.cli_log, "- Key material: "), hex_encode(run.server.exported->view())) << run.cli_log;
  EXPECT_EQ(run.server.peer->identifier, keys().ni("client"));
  EXPECT_EQ(run.server.cipher_suite, "TLS_AES_128_GCM_SHA256");
}

TEST_F(RpkInterop, ChannelBindingEqualsWhatGnutlsCliPrints) {
  // gnutls-cli --verbose prints the channel bindings of the association ("- Channel bindings").
  const struct {
    const char* profile;
    const char* versions;
    const char* type;
  } cases[] = {
      {"ts0003-tls12-rpk", "+VERS-TLS1.2:+SHA256", "tls-unique"},
      {"ts0003-tls13-rpk", "+VERS-TLS1.3", "tls-exporter"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.profile);
    auto server = context(config(Role::kServer, profile(c.profile), "server", keys().ni("client")));
    ASSERT_TRUE(server);
    const CliRun run = run_against_gnutls_cli(
        server, std::string("NORMAL:-VERS-ALL:") + c.versions + ":-CTYPE-ALL:+CTYPE-CLI-RAWPK:+CTYPE-SRV-RAWPK",
        "--verbose");
    ASSERT_FALSE(run.server.handshake_error) << run.server.handshake_error->to_string() << "\n" << run.cli_log;
    ASSERT_EQ(run.cli_status, 0) << run.cli_log;
    ASSERT_TRUE(run.server.channel_binding);
    EXPECT_EQ(printed(run.cli_log, " - '" + std::string(c.type) + "': "), hex_encode(*run.server.channel_binding))
        << run.cli_log;
  }
}

TEST_F(RpkInterop, Tls12PeerWithoutExtendedMasterSecretIsRefused) {
  const SecurityProfile* p = profile("ts0003-tls12-rpk");
  auto server = context(config(Role::kServer, p, "server", keys().ni("client")));
  ASSERT_TRUE(server);
  const CliRun run = run_against_gnutls_cli(
      server, "NORMAL:-VERS-ALL:+VERS-TLS1.2:+SHA256:-CTYPE-ALL:+CTYPE-CLI-RAWPK:+CTYPE-SRV-RAWPK:%NO_SESSION_HASH");
  ASSERT_TRUE(run.server.handshake_error) << run.cli_log;
  EXPECT_EQ(run.server.handshake_error->tls_alert(), 40) << run.server.handshake_error->to_string();
  EXPECT_NE(run.server.handshake_error->detail().find("does not use the extended master secret"), std::string::npos)
      << run.server.handshake_error->to_string();
  EXPECT_FALSE(run.server.exported);
  EXPECT_NE(run.cli_status, 0) << run.cli_log;
}

TEST_F(RpkInterop, PeerKeyOutsideTheProfileIsRefusedEvenWithoutConfiguredIdentifier) {
  // TLS 1.2's ecdsa_secp256r1_sha256 code point (0x0403) does not name the curve: a P-384 client key
  // signing with SHA-256 passes the handshake's own checks, and the key check refuses it.
  const SecurityProfile* p = profile("ts0003-tls12-rpk");
  auto server = context(config(Role::kServer, p, "server", std::nullopt));
  ASSERT_TRUE(server);
  const CliRun run = run_against_gnutls_cli(
      server, "NORMAL:-VERS-ALL:+VERS-TLS1.2:+SHA256:-CTYPE-ALL:+CTYPE-CLI-RAWPK:+CTYPE-SRV-RAWPK", "", "p384");
  ASSERT_TRUE(run.server.handshake_error) << run.cli_log;
  EXPECT_EQ(run.server.handshake_error->category(), Category::kAuth) << run.server.handshake_error->to_string();
  EXPECT_EQ(run.server.handshake_error->tls_alert(), 43) << run.server.handshake_error->to_string();
  EXPECT_FALSE(run.server.exported);
}

TEST_F(RpkInterop, Tls12ClientRenegotiationIsRefused) {
  const SecurityProfile* p = profile("ts0003-tls12-rpk");
  auto server = context(config(Role::kServer, p, "server", keys().ni("client")));
  ASSERT_TRUE(server);
  // gnutls-cli --rehandshake renegotiates right after the handshake; the server answers no_renegotiation.
  const CliRun run = run_against_gnutls_cli(
      server, "NORMAL:-VERS-ALL:+VERS-TLS1.2:+SHA256:-CTYPE-ALL:+CTYPE-CLI-RAWPK:+CTYPE-SRV-RAWPK", "--rehandshake");
  ASSERT_FALSE(run.server.handshake_error) << run.server.handshake_error->to_string();
  EXPECT_EQ(run.server.received, "");
  EXPECT_NE(run.cli_log.find("ReHandshake has failed"), std::string::npos) << run.cli_log;
  EXPECT_NE(run.cli_log.find("No renegotiation"), std::string::npos) << run.cli_log;
}

// Our client against gnutls-serv (started in the background, stopped by its pid).
struct ServRun {
  std::optional<Error> handshake_error;
  std::optional<AuthenticatedPeer> peer;
  std::string cipher_suite;
  std::optional<SecretBytes> exported;
  std::string serv_log;
};
ServRun run_against_gnutls_serv(const std::shared_ptr<Context>& client_ctx, const std::string& priority) {
  ServRun run;
  const RpkKeys& k = RpkTest::keys();
  std::uint16_t port = 0;
  {
    auto probe = net::listen(net::Endpoint{"127.0.0.1", 0}, false).value();
    port = net::local_port(probe.fd()).value();
  }
  const std::string log = k.file("serv.log");
  EXPECT_EQ(test::run(k.dir(), "(timeout 30 gnutls-serv --port=" + std::to_string(port) + " --priority='" + priority +
                                   "' --rawpkkeyfile=" + k.file("server.pem") + " --rawpkfile=" + k.file("server.pub") +
                                   " --require-client-cert --keymatexport=" + std::string(kLabel) +
                                   " --keymatexportsize=48 >" + log + " 2>&1 & echo $! >" + k.file("serv.pid") + ")"),
            0);
  const int pid = std::stoi(test::read_file(k.file("serv.pid")));
  std::optional<net::Socket> socket;
  for (int attempt = 0; attempt < 100 && !socket; ++attempt) {
    auto s = net::connect(net::Endpoint{"127.0.0.1", port}, false);
    if (s) {
      socket = std::move(s).value();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  EXPECT_TRUE(socket) << "gnutls-serv did not start";
  if (socket) {
    set_timeouts(socket->fd());
    auto s = client_ctx->session(socket->fd()).value();
    auto hs = s->handshake();
    if (!hs) {
      run.handshake_error = hs.error();
    } else {
      run.peer = s->peer();
      run.cipher_suite = s->cipher_suite();
    }
    auto ex = s->export_keying_material(kLabel, 48);
    if (ex) run.exported = std::move(ex).value();
    s->close();
  }
  socket.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ::kill(pid, SIGTERM);
  run.serv_log = test::read_file(log);
  return run;
}

// SNI carries the authority, and both ends export the same octets.
TEST_F(RpkInterop, Tls12ClientSendsSniAndExportsWhatGnutlsServExports) {
  const SecurityProfile* p = profile("ts0003-tls12-rpk");
  auto client = context(config(Role::kClient, p, "client", keys().ni("server")));
  ASSERT_TRUE(client);
  const ServRun run =
      run_against_gnutls_serv(client, "NORMAL:-VERS-ALL:+VERS-TLS1.2:+SHA256:-CTYPE-ALL:+CTYPE-CLI-RAWPK:+CTYPE-SRV-RAWPK");
  ASSERT_FALSE(run.handshake_error) << run.handshake_error->to_string() << "\n" << run.serv_log;
  EXPECT_EQ(run.peer->identifier, keys().ni("server"));
  EXPECT_EQ(run.cipher_suite, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256");
  //= TS-0003 V3.18.0 §10.2.1
  //# The client puts the authority in the SNI HostName.
  EXPECT_NE(run.serv_log.find("Given server name[1]: " + std::string(kServerName)), std::string::npos) << run.serv_log;
  ASSERT_TRUE(run.exported);
  EXPECT_EQ(printed(run.serv_log, "- Key material: "), hex_encode(run.exported->view())) << run.serv_log;
  EXPECT_NE(run.serv_log.find("extended master secret"), std::string::npos) << run.serv_log;
}

TEST_F(RpkInterop, Tls12ClientRefusesAServerWithoutExtendedMasterSecret) {
  const SecurityProfile* p = profile("ts0003-tls12-rpk");
  auto client = context(config(Role::kClient, p, "client", keys().ni("server")));
  ASSERT_TRUE(client);
  const ServRun run = run_against_gnutls_serv(
      client, "NORMAL:-VERS-ALL:+VERS-TLS1.2:+SHA256:-CTYPE-ALL:+CTYPE-CLI-RAWPK:+CTYPE-SRV-RAWPK:%NO_SESSION_HASH");
  ASSERT_TRUE(run.handshake_error) << run.serv_log;
  EXPECT_EQ(run.handshake_error->tls_alert(), 40) << run.handshake_error->to_string();
  EXPECT_NE(run.handshake_error->detail().find("does not use the extended master secret"), std::string::npos)
      << run.handshake_error->to_string();
  EXPECT_FALSE(run.exported);
}

}  // namespace
}  // namespace m2msec::tls

// Certificate status by OCSP stapling (TS-0003 V3.18.0 8.1.2.2, RFC 6066 clause 8) in the OpenSSL
// backend (the GnuTLS backend carries raw public keys only: no certificate, nothing to staple). The staples
// are responses of the `openssl ocsp` responder (test_ocsp.h). Our server's staple is read by
// `openssl s_client -status` and by our client; our client checks what `openssl s_server -status_file`
// staples. Also the optional client certificate of an EST server (RFC 7030 4.1.1), against
// `openssl s_client` without a certificate.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "m2msec/tls/credentials.h"
#include "m2msec/tls/net.h"
#include "m2msec/tls/profile.h"
#include "m2msec/tls/session.h"
#include "oracle.h"
#include "pair.h"
#include "test_ocsp.h"
#include "test_pki.h"

namespace m2msec::tls {
namespace {

using loopback::cert_endpoint;
using loopback::CertSetup;
using loopback::expect_refused;
using loopback::expect_success;
using loopback::failure;
using loopback::kAuthority;
using loopback::kClientCse;
using loopback::must;
using loopback::Outcome;
using loopback::profiles_of;
using loopback::run_pair;
using loopback::set_timeouts;
using pki::test::OcspResponder;
using pki::test::TestPki;
using StatusCheck = PeerCertificatePolicy::StatusCheck;
using namespace std::chrono_literals;
namespace oracle = m2msec::test;

const SecurityProfile* tls12() { return select_profile(Transport::kTls, Version::kTls12, CredentialKind::kCertificate); }
const SecurityProfile* tls13() { return select_profile(Transport::kTls, Version::kTls13, CredentialKind::kCertificate); }

// The alert a client sends for a revoked staple: TLS 1.3 staples with the certificate, which is refused
// like a revoked one (44); in TLS 1.2 the staple comes later, where OpenSSL 3.0 can only send 113.
std::uint8_t revoked_alert(const SecurityProfile* p) { return p->version == Version::kTls13 ? 44 : 113; }

class OcspStapling : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pki.ok() && responder.ok()) << responder.log(); }

  // The response of `openssl ocsp` for the leaf, as a file and as a staple.
  std::string response_file(const std::string& leaf, const std::string& validity = "-ndays 1") const {
    const std::string path = responder.file(leaf + ".resp.der");
    oracle::write_file(path, responder.respond(responder.cli_request(leaf), "responder", validity));
    return path;
  }
  std::shared_ptr<const OcspStapleSource> staple(const std::string& leaf, const std::string& validity = "-ndays 1") const {
    const std::string der = oracle::read_file(response_file(leaf, validity));
    return std::make_shared<FixedOcspStaple>(Bytes(der.begin(), der.end()));
  }

  // Our server against `openssl s_client <args>` (which sends one line, then goes away): what the server
  // saw and what s_client printed.
  struct ClientRun {
    Outcome server;
    std::string output;
  };
  ClientRun against_s_client(const std::shared_ptr<Context>& server, const std::string& args) const {
    ::signal(SIGPIPE, SIG_IGN);
    auto listening = net::listen(net::Endpoint{"127.0.0.1", 0}, false).value();
    const std::uint16_t port = net::local_port(listening.fd()).value();
    auto served = std::async(std::launch::async, [&] {
      Outcome o;
      auto accepted = net::accept(listening.fd());
      if (!accepted) return o;
      set_timeouts(accepted->fd());
      auto s = server->session(accepted->fd()).value();
      auto hs = s->handshake();
      if (!hs) {
        o.handshake_error = hs.error();
        return o;
      }
      o.peer = s->peer();
      std::uint8_t buffer[64];
      if (auto r = s->read(buffer)) o.received.assign(reinterpret_cast<const char*>(buffer), *r);
      s->close();
      return o;
    });
    const std::string out = responder.file("s_client.txt");
    oracle::run(responder.dir(), "(echo ping | timeout 20 openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                                     " -servername " + std::string(kAuthority) + " -CAfile " + pki.file("root.pem") +
                                     " " + args + " > " + out + " 2>&1)");
    return ClientRun{served.get(), oracle::read_file(out)};
  }

  // Our client against `openssl s_server -www <args>` serving <leaf>.pem with int.pem: what the client saw.
  Outcome against_s_server(const std::shared_ptr<Context>& client, const std::string& leaf,
                           const std::string& args) const {
    std::uint16_t port = 0;
    {
      auto probe = net::listen(net::Endpoint{"127.0.0.1", 0}, false).value();
      port = net::local_port(probe.fd()).value();
    }
    const std::string pid_file = responder.file("s_server.pid");
    EXPECT_EQ(oracle::run(responder.dir(), "(timeout 30 openssl s_server -www -naccept 1 -accept 127.0.0.1:" + std::to_string(port) +
                                               " -cert " + pki.file(leaf + ".pem") + " -key " + pki.file(leaf + ".key") +
                                               " -cert_chain " + pki.file("int.pem") + " " + args + " >" +
                                               responder.file("s_server.txt") + " 2>&1 & echo $! > " + pid_file + ")"),
              0);
    const int pid = std::stoi(oracle::read_file(pid_file));
    std::optional<net::Socket> socket;
    for (int attempt = 0; attempt < 100 && !socket; ++attempt) {
      if (auto s = net::connect(net::Endpoint{"127.0.0.1", port}, false)) {
        socket = std::move(s).value();
      } else {
        std::this_thread::sleep_for(50ms);
      }
    }
    Outcome o;
    EXPECT_TRUE(socket) << "s_server did not start";
    if (socket) {
      set_timeouts(socket->fd());
      auto s = client->session(socket->fd()).value();
      if (auto hs = s->handshake(); hs) {
        o.peer = s->peer();
      } else {
        o.handshake_error = hs.error();
      }
      s->close();
    }
    socket.reset();
    ::kill(pid, SIGTERM);
    return o;
  }

  const TestPki& pki = TestPki::shared();
  OcspResponder responder{pki};
};

TEST_F(OcspStapling, OurClientChecksWhatOurServerStaples) {
  //= type=test
  //= TS-0003 V3.18.0 §8.1.2.2
  const auto good = staple("server");
  for (const SecurityProfile* p : profiles_of(CredentialKind::kCertificate)) {
    SCOPED_TRACE(p->name);
    auto server = cert_endpoint(Role::kServer, p, {.staple = good});
    for (const StatusCheck check : {StatusCheck::kNone, StatusCheck::kIfStapled, StatusCheck::kRequireStaple}) {
      auto out = run_pair(cert_endpoint(Role::kClient, p, {.own = "client", .status = check}), server);
      expect_success(out, p);
      EXPECT_EQ(out.client.peer->identity, kAuthority);
    }
    // No staple: fine unless one is required.
    auto bare = cert_endpoint(Role::kServer, p, {});
    expect_success(run_pair(cert_endpoint(Role::kClient, p, {.own = "client", .status = StatusCheck::kIfStapled}), bare),
                   p);
    expect_refused(run_pair(cert_endpoint(Role::kClient, p, {.own = "client", .status = StatusCheck::kRequireStaple}),
                            bare),
                   113);
  }
}

TEST_F(OcspStapling, OurClientRefusesARevokedOrUnusableStaple) {
  //= type=test
  //= TS-0003 V3.18.0 §8.1.2.5
  const auto revoked = staple("revoked");
  const auto for_other = staple("other");
  const auto open_ended = staple("server", "");  // no nextUpdate: current for 5 minutes only
  auto later = std::make_shared<ManualClock>(std::chrono::system_clock::now() + 1h);
  for (const SecurityProfile* p : profiles_of(CredentialKind::kCertificate)) {
    SCOPED_TRACE(p->name);
    auto out = run_pair(cert_endpoint(Role::kClient, p,
                                      {.own = "client", .name = "revoked.m2m.example.com", .status = StatusCheck::kIfStapled}),
                        cert_endpoint(Role::kServer, p, {.own = "revoked", .staple = revoked}));
    expect_refused(out, revoked_alert(p));
    ASSERT_TRUE(failure(out.client));
    EXPECT_EQ(failure(out.client)->category(), Category::kAuth);
    EXPECT_NE(failure(out.client)->detail().find("revoked"), std::string::npos) << failure(out.client)->detail();

    expect_refused(run_pair(cert_endpoint(Role::kClient, p, {.own = "client", .status = StatusCheck::kIfStapled}),
                            cert_endpoint(Role::kServer, p, {.staple = for_other})),
                   113);
    // The staple is judged at the configured clock's time.
    expect_refused(run_pair(cert_endpoint(Role::kClient, p,
                                          {.own = "client", .clock = later, .status = StatusCheck::kIfStapled}),
                            cert_endpoint(Role::kServer, p, {.staple = open_ended})),
                   113);
  }
}

TEST_F(OcspStapling, OpensslSClientReadsOurStaple) {
  //= type=test
  //= TS-0003 V3.18.0 §8.1.2.2
  const auto good = staple("server");
  for (const auto& [p, version] : {std::pair{tls12(), "-tls1_2"}, std::pair{tls13(), "-tls1_3"}}) {
    SCOPED_TRACE(p->name);
    const ClientRun run = against_s_client(cert_endpoint(Role::kServer, p, {.staple = good}),
                                           std::string(version) + " -status -cert " + pki.file("client.pem") +
                                               " -key " + pki.file("client.key") + " -cert_chain " + pki.file("int.pem"));
    ASSERT_FALSE(run.server.handshake_error) << run.server.handshake_error->to_string() << "\n" << run.output;
    EXPECT_EQ(run.server.peer->identity, kClientCse);
    EXPECT_NE(run.output.find("OCSP Response Status: successful"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("Cert Status: good"), std::string::npos) << run.output;
  }
}

TEST_F(OcspStapling, OurClientChecksWhatOpensslSServerStaples) {
  //= type=test
  //= TS-0003 V3.18.0 §8.1.2.2
  const std::string good = response_file("server");
  const std::string revoked = response_file("revoked");
  for (const auto& [p, version] : {std::pair{tls12(), "-tls1_2"}, std::pair{tls13(), "-tls1_3"}}) {
    SCOPED_TRACE(p->name);
    const std::string v(version);
    auto ok = against_s_server(cert_endpoint(Role::kClient, p, {.own = "client", .status = StatusCheck::kRequireStaple}),
                               "server", v + " -status_file " + good);
    ASSERT_FALSE(ok.handshake_error) << ok.handshake_error->to_string();
    EXPECT_EQ(ok.peer->identity, kAuthority);

    auto refused = against_s_server(
        cert_endpoint(Role::kClient, p,
                      {.own = "client", .name = "revoked.m2m.example.com", .status = StatusCheck::kIfStapled}),
        "revoked", v + " -status_file " + revoked);
    ASSERT_TRUE(refused.handshake_error);
    EXPECT_EQ(refused.handshake_error->tls_alert(), revoked_alert(p)) << refused.handshake_error->to_string();
    EXPECT_EQ(refused.handshake_error->category(), Category::kAuth);

    auto none = against_s_server(cert_endpoint(Role::kClient, p, {.own = "client", .status = StatusCheck::kRequireStaple}),
                                 "server", v);
    ASSERT_TRUE(none.handshake_error);
    EXPECT_EQ(none.handshake_error->tls_alert(), 113) << none.handshake_error->to_string();

    auto optional = against_s_server(cert_endpoint(Role::kClient, p, {.own = "client", .status = StatusCheck::kIfStapled}),
                                     "server", v);
    EXPECT_FALSE(optional.handshake_error) << optional.handshake_error->to_string();
  }
}

TEST_F(OcspStapling, ClientCertificateCanBeOptionalAtAServer) {
  // RFC 7030 4.1.1: an EST server answers /cacerts without client authentication.
  for (const auto& [p, version] : {std::pair{tls12(), "-tls1_2"}, std::pair{tls13(), "-tls1_3"}}) {
    SCOPED_TRACE(p->name);
    const ClientRun anonymous = against_s_client(cert_endpoint(Role::kServer, p, {.client_certificate_optional = true}),
                                                 version);
    ASSERT_FALSE(anonymous.server.handshake_error) << anonymous.server.handshake_error->to_string() << "\n"
                                                   << anonymous.output;
    EXPECT_EQ(anonymous.server.peer->kind, CredentialKind::kCertificate);
    EXPECT_EQ(anonymous.server.peer->identifier, "");
    EXPECT_EQ(anonymous.server.peer->identity, "");
    EXPECT_EQ(anonymous.server.received, "ping\n");

    // Required (the default): handshake_failure (TLS 1.2) or certificate_required (TLS 1.3).
    const ClientRun refused = against_s_client(cert_endpoint(Role::kServer, p, {}), version);
    ASSERT_TRUE(refused.server.handshake_error) << refused.output;
    EXPECT_EQ(refused.server.handshake_error->tls_alert(), p->version == Version::kTls13 ? 116 : 40)
        << refused.server.handshake_error->to_string();

    // A certificate that is presented is still checked and bound.
    auto server = cert_endpoint(Role::kServer, p, {.client_certificate_optional = true});
    auto bound = run_pair(cert_endpoint(Role::kClient, p, {.own = "client"}), server);
    expect_success(bound, p);
    EXPECT_EQ(bound.server.peer->identity, kClientCse);
    expect_refused(run_pair(cert_endpoint(Role::kClient, p, {.own = "expired"}), server), 45);
  }
}

TEST_F(OcspStapling, ConfigsThatCannotApplyAreRefused) {
  const auto good = staple("server");
  const auto* cert = tls12();
  const auto refused = [](Config c) {
    auto context = Context::create(std::move(c));
    ASSERT_FALSE(context);
    EXPECT_EQ(context.error().category(), Category::kUsage) << context.error().to_string();
  };
  const auto endpoint = [&](Role role, const SecurityProfile* profile) {
    Config c;
    c.role = role;
    c.profile = profile;
    c.server_name = std::string(kAuthority);
    c.certificate = CertificateCredential::load(pki.file("server.chain.pem"), pki.file("server.key")).value();
    c.peer_policy = PeerCertificatePolicy{pki::TrustStore::load(pki.file("root.pem")).value(), pki::Flavour::kCseId, {}};
    return c;
  };
  Config client_staple = endpoint(Role::kClient, cert);
  client_staple.ocsp_staple = good;
  refused(std::move(client_staple));
  Config server_status = endpoint(Role::kServer, cert);
  server_status.peer_policy->status = StatusCheck::kRequireStaple;
  refused(std::move(server_status));
  Config client_optional = endpoint(Role::kClient, cert);
  client_optional.peer_policy->client_certificate_optional = true;
  refused(std::move(client_optional));
  Config psk;
  psk.role = Role::kServer;
  psk.profile = select_profile(Transport::kTls, Version::kTls12, CredentialKind::kPsk);
  psk.psk_resolver = std::make_shared<InMemoryPskResolver>(PskIdentityKind::kKpsaId);
  psk.ocsp_staple = good;
  refused(std::move(psk));
  Config rpk;
  rpk.role = Role::kServer;
  rpk.profile = select_profile(Transport::kTls, Version::kTls12, CredentialKind::kRawPublicKey);
  rpk.raw_public_key = RawPublicKeyCredential{pki::PrivateKey::load_pem_file(pki.file("rpk_server.key")).value(), {}};
  rpk.ocsp_staple = good;
  refused(std::move(rpk));
  // The same configs without the misplaced setting are fine.
  Config server = endpoint(Role::kServer, cert);
  server.ocsp_staple = good;
  EXPECT_TRUE(must(Context::create(std::move(server))));
}

}  // namespace
}  // namespace m2msec::tls

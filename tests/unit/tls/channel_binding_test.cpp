// Channel bindings (RFC 5929 tls-unique on (D)TLS 1.2, RFC 9266 tls-exporter on TLS 1.3), with which EST
// links a CSR to its association (RFC 7030 3.5). The expected values come from other implementations:
// Python's ssl module (SSLSocket.get_channel_binding("tls-unique")) as client and as server, and
// `openssl s_client -keymatexport EXPORTER-Channel-Binding`. The raw-public-key profiles are checked
// against gnutls-cli in rpk_test.cpp; every loopback association checks both ends agree (pair.h).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "m2msec/core/encoding.h"
#include "m2msec/tls/net.h"
#include "m2msec/tls/profile.h"
#include "m2msec/tls/session.h"
#include "oracle.h"
#include "pair.h"
#include "test_pki.h"

namespace m2msec::tls {
namespace {

using loopback::cert_endpoint;
using loopback::expect_success;
using loopback::kAuthority;
using loopback::Outcome;
using loopback::printed;
using loopback::profiles_of;
using loopback::psk_client;
using loopback::psk_server;
using loopback::run_end;
using loopback::run_pair;
using loopback::set_timeouts;
using pki::test::TestPki;
using namespace std::chrono_literals;

// A TLS 1.2 peer on Python's ssl module with the test PKI's client.* or server.* (root.pem the anchor).
// It prints its tls-unique in hex, then plays the other end of run_end ("ping", "pong").
//   client <root> <chain> <key> <port> <server name>
//   server <root> <chain> <key> <file it writes the port it listens on to>
constexpr std::string_view kPythonPeer = R"(import os, socket, ssl, sys
role, root, chain, key, where = sys.argv[1:6]
client = role == "client"
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT if client else ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.verify_mode = ssl.CERT_REQUIRED
ctx.load_verify_locations(root)
ctx.load_cert_chain(chain, key)
if client:
    tls = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(where))), server_hostname=sys.argv[6])
else:
    listener = socket.create_server(("127.0.0.1", 0))
    with open(where + ".tmp", "w") as f:
        f.write(str(listener.getsockname()[1]))
    os.rename(where + ".tmp", where)
    tls = ctx.wrap_socket(listener.accept()[0], server_side=True)
print(tls.get_channel_binding("tls-unique").hex(), flush=True)
if client:
    tls.sendall(b"ping")
    tls.recv(16)
else:
    tls.recv(16)
    tls.sendall(b"pong")
tls.close()
)";

const SecurityProfile* cert_profile(Version version) {
  return select_profile(Transport::kTls, version, CredentialKind::kCertificate);
}

class ChannelBinding : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki.ok());
    // A write to a peer that went away must be an error here, not a signal.
    ::signal(SIGPIPE, SIG_IGN);
    test::write_file(dir.file("peer.py"), as_bytes(kPythonPeer));
  }

  // Runs the Python peer (role "client" or "server") to its end; what it printed is in python.out.
  int python(const std::string& role, const std::string& args) const {
    return test::run(dir, "(timeout 20 " + std::string(M2MSEC_PYTHON3) + " " + dir.file("peer.py") + " " + role +
                              " " + pki.file("root.pem") + " " + pki.file(role + ".chain.pem") + " " +
                              pki.file(role + ".key") + " " + args + " > " + dir.file("python.out") + ")");
  }
  std::string python_printed() const {
    std::string out = test::read_file(dir.file("python.out"));
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  // Our server, in the background, for one connection to listening (run_end: "ping" in, "pong" out).
  static std::future<Outcome> serve_once(const std::shared_ptr<Context>& server, int listening) {
    return std::async(std::launch::async, [server, listening] {
      Outcome o;
      auto accepted = net::accept(listening);
      EXPECT_TRUE(accepted) << (accepted ? "" : accepted.error().to_string());
      if (!accepted) return o;
      set_timeouts(accepted->fd());
      auto s = server->session(accepted->fd());
      EXPECT_TRUE(s) << (s ? "" : s.error().to_string());
      if (s) o = run_end(**s, Role::kServer);
      return o;
    });
  }

  const TestPki& pki = TestPki::shared();
  test::TempDir dir{"m2msec-cb"};
};

TEST_F(ChannelBinding, Tls12ServerHoldsTheTlsUniqueOfAPythonClient) {
  //= type=test
  //= RFC 5929 §3.1
  auto listening = net::listen(net::Endpoint{"127.0.0.1", 0}, false).value();
  set_timeouts(listening.fd());
  const std::uint16_t port = net::local_port(listening.fd()).value();
  auto served = serve_once(cert_endpoint(Role::kServer, cert_profile(Version::kTls12), {}), listening.fd());
  const int status = python("client", std::to_string(port) + " " + std::string(kAuthority));
  const Outcome server = served.get();
  ASSERT_FALSE(server.handshake_error) << server.handshake_error->to_string() << "\n" << test::read_file(dir.file("log"));
  ASSERT_EQ(status, 0) << test::read_file(dir.file("log"));
  EXPECT_EQ(server.received, "ping");
  ASSERT_TRUE(server.channel_binding);
  EXPECT_EQ(hex_encode(*server.channel_binding), python_printed());
}

TEST_F(ChannelBinding, Tls12ClientHoldsTheTlsUniqueOfAPythonServer) {
  const std::string port_file = dir.file("port");
  auto peer = std::async(std::launch::async, [&] { return python("server", port_file); });
  std::string port;
  for (int attempt = 0; attempt < 200 && (port = test::read_file(port_file)).empty(); ++attempt) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_FALSE(port.empty()) << test::read_file(dir.file("log"));
  Outcome client;
  {
    auto socket = net::connect(net::Endpoint{"127.0.0.1", static_cast<std::uint16_t>(std::stoi(port))}, false).value();
    set_timeouts(socket.fd());
    auto s = cert_endpoint(Role::kClient, cert_profile(Version::kTls12), {.own = "client"})->session(socket.fd()).value();
    client = run_end(*s, Role::kClient);
  }
  const int status = peer.get();
  ASSERT_FALSE(client.handshake_error) << client.handshake_error->to_string() << "\n" << test::read_file(dir.file("log"));
  ASSERT_EQ(status, 0) << test::read_file(dir.file("log"));
  EXPECT_EQ(client.received, "pong");
  ASSERT_TRUE(client.channel_binding);
  EXPECT_EQ(hex_encode(*client.channel_binding), python_printed());
}

TEST_F(ChannelBinding, Tls13ServerHoldsTheTlsExporterOfOpensslSClient) {
  //= type=test
  //= RFC 9266 §2
  auto listening = net::listen(net::Endpoint{"127.0.0.1", 0}, false).value();
  set_timeouts(listening.fd());
  const std::uint16_t port = net::local_port(listening.fd()).value();
  auto served = serve_once(cert_endpoint(Role::kServer, cert_profile(Version::kTls13), {}), listening.fd());
  const std::string out = dir.file("s_client.txt");
  test::run(dir, "(echo ping | timeout 20 openssl s_client -tls1_3 -connect 127.0.0.1:" + std::to_string(port) +
                     " -servername " + std::string(kAuthority) + " -CAfile " + pki.file("root.pem") + " -cert " +
                     pki.file("client.pem") + " -key " + pki.file("client.key") + " -cert_chain " + pki.file("int.pem") +
                     " -keymatexport EXPORTER-Channel-Binding -keymatexportlen 32 > " + out + " 2>&1)");
  const Outcome server = served.get();
  const std::string output = test::read_file(out);
  ASSERT_FALSE(server.handshake_error) << server.handshake_error->to_string() << "\n" << output;
  ASSERT_TRUE(server.channel_binding);
  EXPECT_EQ(hex_encode(*server.channel_binding, HexCase::kUpper), printed(output, "Keying material: ")) << output;
}

TEST_F(ChannelBinding, EachPskAssociationHasItsOwn) {
  for (const SecurityProfile* p : profiles_of(CredentialKind::kPsk)) {
    SCOPED_TRACE(p->name);
    const auto server = psk_server(p);
    const auto first = run_pair(psk_client(p), server);
    const auto second = run_pair(psk_client(p), server);
    expect_success(first, p);  // both ends hold the same value
    expect_success(second, p);
    ASSERT_TRUE(first.server.channel_binding && second.server.channel_binding);
    EXPECT_NE(*first.server.channel_binding, *second.server.channel_binding);
  }
}

TEST_F(ChannelBinding, IsRefusedBeforeTheHandshake) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  {
    auto s = psk_client(select_profile(Transport::kTls, Version::kTls12, CredentialKind::kPsk))->session(fds[0]).value();
    auto binding = s->channel_binding();
    ASSERT_FALSE(binding);
    EXPECT_EQ(binding.error().category(), Category::kUsage);
  }
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace m2msec::tls

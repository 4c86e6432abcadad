// The HTTP(S) layer against peers from other implementations: curl and openssl s_client as clients of our
// server (TLS with certificates, TLS with a PSK, plain), openssl s_server -WWW and python3's http.server
// as servers for our client, and raw octets for what no polite client sends. Expected statuses are the
// ones RFC 9110 / RFC 9112 name; expected contents are the test's own inputs.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <regex>
#include <thread>

#include "m2msec/core/encoding.h"
#include "m2msec/http/client.h"
#include "m2msec/http/server.h"
#include "m2msec/pki/validate.h"
#include "m2msec/tls/net.h"
#include "m2msec/tls/profile.h"
#include "oracle.h"
#include "test_pki.h"

namespace m2msec::http {
namespace {

using m2msec::test::read_file;
using m2msec::test::run;
using m2msec::test::TempDir;
using pki::test::TestPki;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr std::string_view kAuthority = "in-cse.m2m.example.com";
constexpr std::string_view kClientCse = "mn-cse.in-cse.m2m.example.com";  // client.pem's CSE-ID
constexpr std::string_view kPskIdentity = "dev1@sp.example.com";
constexpr std::uint8_t kPskOctet = 0x5a;

std::shared_ptr<const tls::Context> must(Result<std::shared_ptr<tls::Context>> context) {
  EXPECT_TRUE(context) << context.error().to_string();
  return context ? *context : nullptr;
}

// The certificate profile, as the server (server.pem) or as a client (client.pem) calling kAuthority;
// `expected_peer`: the subjectAltName the peer's certificate must carry.
std::shared_ptr<const tls::Context> cert_context(tls::Role role, std::optional<std::string> expected_peer = std::nullopt) {
  const TestPki& pki = TestPki::shared();
  const std::string own = role == tls::Role::kServer ? "server" : "client";
  tls::Config c;
  c.role = role;
  c.profile = tls::find_profile("ts0003-tls12-cert");
  if (role == tls::Role::kClient) c.server_name = std::string(kAuthority);
  auto credential = tls::CertificateCredential::load(pki.file(own + ".chain.pem"), pki.file(own + ".key"));
  EXPECT_TRUE(credential) << credential.error().to_string();
  if (credential) c.certificate = std::move(*credential);
  auto trust = pki::TrustStore::load(pki.file("root.pem"), "");
  EXPECT_TRUE(trust) << trust.error().to_string();
  if (trust) c.peer_policy = tls::PeerCertificatePolicy{std::move(*trust), pki::Flavour::kCseId, std::move(expected_peer)};
  return must(tls::Context::create(std::move(c)));
}

std::shared_ptr<const tls::Context> psk_server_context() {
  auto resolver = std::make_shared<tls::InMemoryPskResolver>(tls::PskIdentityKind::kKpsaId);
  SecretBytes key(32);
  std::fill(key.writable().begin(), key.writable().end(), kPskOctet);
  EXPECT_TRUE(resolver->add(kPskIdentity, std::move(key)));
  tls::Config c;
  c.role = tls::Role::kServer;
  c.profile = tls::find_profile("ts0003-tls12-psk");
  c.psk_resolver = std::move(resolver);
  return must(tls::Context::create(std::move(c)));
}

// The handler most tests use: answers "you asked for <target>" and remembers what it was given.
class Recorder {
 public:
  static std::string answer_to(std::string_view target) { return "you asked for " + std::string(target); }

  Handler handler() {
    return [this](const Request& request, const Connection& connection) {
      std::lock_guard lock(m_mutex);
      m_requests.push_back(request);
      m_remotes.push_back(connection.remote_address);
      m_peers.push_back(connection.session ? connection.session->peer().identity : "");
      return Response{200, {{"Content-Type", "text/plain"}}, answer_to(request.target)};
    };
  }
  std::vector<Request> requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
  }
  std::vector<std::string> remotes() const {
    std::lock_guard lock(m_mutex);
    return m_remotes;
  }
  std::vector<std::string> peers() const {
    std::lock_guard lock(m_mutex);
    return m_peers;
  }

 private:
  mutable std::mutex m_mutex;
  std::vector<Request> m_requests;
  std::vector<std::string> m_remotes;
  std::vector<std::string> m_peers;
};

std::unique_ptr<Server> must_start(ServerOptions options) {
  auto server = Server::start(std::move(options));
  EXPECT_TRUE(server) << server.error().to_string();
  return server ? std::move(*server) : nullptr;
}

// curl with the client certificate, calling the server by its name on loopback.
std::string curl_with_certificate(std::uint16_t port) {
  const TestPki& pki = TestPki::shared();
  return "curl -sS --max-time 20 --cacert '" + pki.file("root.pem") + "' --cert '" + pki.file("client.chain.pem") +
         "' --key '" + pki.file("client.key") + "' --resolve " + std::string(kAuthority) + ":" +
         std::to_string(port) + ":127.0.0.1 ";
}

std::string https_url(std::uint16_t port, std::string_view path) {
  return "https://" + std::string(kAuthority) + ":" + std::to_string(port) + std::string(path);
}

// The status codes of the responses in a curl -D dump, in order.
std::vector<unsigned> statuses(const std::string& dump) {
  static const std::regex status_line("HTTP/1\\.[01] ([0-9]{3})");
  std::vector<unsigned> out;
  for (auto it = std::sregex_iterator(dump.begin(), dump.end(), status_line); it != std::sregex_iterator(); ++it) {
    out.push_back(static_cast<unsigned>(std::stoul((*it)[1])));
  }
  return out;
}

// Waits for a condition that another thread or process makes true.
bool eventually(const std::function<bool()>& condition) {
  for (const auto deadline = steady_clock::now() + std::chrono::seconds(10); steady_clock::now() < deadline;) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return condition();
}

// A plain TCP connection that speaks raw octets.
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port) {
    auto socket = tls::net::connect({"127.0.0.1", port}, false);
    EXPECT_TRUE(socket) << socket.error().to_string();
    if (socket) m_socket = std::move(*socket);
    const timeval tv{5, 0};
    ::setsockopt(m_socket.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  int fd() const { return m_socket.fd(); }
  void send(std::string_view octets) {
    EXPECT_EQ(::send(fd(), octets.data(), octets.size(), MSG_NOSIGNAL), static_cast<ssize_t>(octets.size()));
  }
  // What arrives until `end` has arrived (everything until the peer closes when end is empty), or 5 s pass.
  std::string receive(std::string_view end = {}) {
    char buffer[4096];
    while (end.empty() || m_received.find(end) == std::string::npos) {
      const ssize_t got = ::recv(fd(), buffer, sizeof buffer, 0);
      if (got <= 0) break;
      m_received.append(buffer, static_cast<std::size_t>(got));
    }
    return std::exchange(m_received, {});
  }

 private:
  tls::net::Socket m_socket;
  std::string m_received;
};

std::string exchange_raw(std::uint16_t port, std::string_view octets) {
  RawConnection connection(port);
  connection.send(octets);
  return connection.receive();
}

// A program serving in the background for one test, stopped by its pid.
class Background {
 public:
  Background(const TempDir& dir, const std::string& name, const std::string& cwd, const std::string& cmd)
      : m_out(dir.file(name + ".out")) {
    const std::string pid_file = dir.file(name + ".pid");
    EXPECT_EQ(run(dir, "( ( cd '" + cwd + "' && exec " + cmd + " ) >'" + m_out + "' 2>&1 & echo $! >'" + pid_file + "' )"),
              0);
    m_pid = std::atoi(read_file(pid_file).c_str());
  }
  ~Background() {
    if (m_pid > 0) ::kill(m_pid, SIGTERM);
  }
  // The port the program says it listens on (its output matches `announcement`, port in group 1).
  std::uint16_t port(const std::string& announcement) const {
    const std::regex pattern(announcement);
    std::smatch match;
    std::string out;
    eventually([&] {
      out = read_file(m_out);
      return std::regex_search(out, match, pattern);
    });
    EXPECT_FALSE(match.empty()) << out;
    return match.empty() ? 0 : static_cast<std::uint16_t>(std::stoul(match[1]));
  }

 private:
  std::string m_out;
  int m_pid = 0;
};

// ---- messages and URLs ----------------------------------------------------------------------------

TEST(HttpMessage, HeaderLookupIgnoresCaseAndTakesTheFirst) {
  const Request request{"GET", "/", {{"Content-Type", "a/b"}, {"X-Two", "1"}, {"x-two", "2"}}, ""};
  EXPECT_EQ(request.header("content-type"), "a/b");
  EXPECT_EQ(request.header("CONTENT-TYPE"), "a/b");
  EXPECT_EQ(request.header("x-TWO"), "1");
  EXPECT_FALSE(request.header("Content"));
  const Response response{200, {{"Retry-After", "5"}}, ""};
  EXPECT_EQ(response.header("retry-after"), "5");
  EXPECT_FALSE(response.header("Retry"));
}

TEST(HttpUrl, AcceptsAbsoluteHttpAndHttpsUrls) {
  //= type=test
  //= RFC 3986 §3
  const struct {
    const char* text;
    const char* scheme;
    const char* host;
    std::uint16_t port;
    const char* target;
  } cases[] = {
      {"http://ocsp.example.com", "http", "ocsp.example.com", 80, "/"},
      {"https://in-cse.m2m.example.com:8443/.well-known/est/simpleenroll", "https", "in-cse.m2m.example.com", 8443,
       "/.well-known/est/simpleenroll"},
      {"HTTPS://In-CSE.Example.COM/a?b=c&d=%2F", "https", "in-cse.example.com", 443, "/a?b=c&d=%2F"},
      {"http://127.0.0.1:8080/x", "http", "127.0.0.1", 8080, "/x"},
      {"http://[::1]:65535/", "http", "::1", 65535, "/"},
      {"https://[2001:DB8:0:0::1]", "https", "2001:db8::1", 443, "/"},
      {"http://example.com?q", "http", "example.com", 80, "/?q"},
      {"http://localhost:1/~user/a;b=c@d:e", "http", "localhost", 1, "/~user/a;b=c@d:e"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto url = Url::parse(c.text);
    ASSERT_TRUE(url) << url.error().to_string();
    EXPECT_EQ(url->scheme, c.scheme);
    EXPECT_EQ(url->host, c.host);
    EXPECT_EQ(url->port, c.port);
    EXPECT_EQ(url->target, c.target);
  }
}

TEST(HttpUrl, RefusesAnythingElse) {
  for (const char* text : {"", "example.com/x", "ftp://example.com/", "http:/example.com/", "http//example.com",
                           "http://", "http:///x", "http://:80/", "http://user@example.com/",
                           "http://user:pw@example.com/", "http://example.com:/", "http://example.com:0/",
                           "http://example.com:65536/", "http://example.com:8o/", "http://example.com:-1/",
                           "http://example.com/a#frag", "http://example.com/a b", "http://example.com/%zz",
                           "http://example.com/%2", "http://example.com/\x01", "http://example.com/caf\xc3\xa9",
                           "http://exa_mple.com/", "http://example.com./", "http://::1/", "http://[::1/",
                           "http://[::1]x/", "http://[zz::1]/", "http://[fe80::1%25eth0]/", "http://1.2.3.256/",
                           " http://example.com/", "http://example.com:80:80/"}) {
    SCOPED_TRACE(text);
    auto url = Url::parse(text);
    ASSERT_FALSE(url) << url->host;
    EXPECT_EQ(url.error().category(), Category::kUsage);
  }
}

// ---- our server, TLS with certificates, curl as the client -----------------------------------------

TEST(HttpsServer, CurlSendsTwoRequestsOverOneConnection) {
  TempDir dir("m2msec-http");
  Recorder recorder;
  auto server = must_start({.tls = cert_context(tls::Role::kServer), .handler = recorder.handler()});
  ASSERT_TRUE(server);
  const std::uint16_t port = server->port();
  ASSERT_EQ(run(dir, curl_with_certificate(port) + https_url(port, "/a") + " -o '" + dir.file("a") + "' " +
                         https_url(port, "/b?x=1") + " -o '" + dir.file("b") + "'"),
            0)
      << read_file(dir.file("log"));
  EXPECT_EQ(read_file(dir.file("a")), Recorder::answer_to("/a"));
  EXPECT_EQ(read_file(dir.file("b")), Recorder::answer_to("/b?x=1"));

  const auto requests = recorder.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[1].target, "/b?x=1");
  EXPECT_EQ(requests[0].header("HOST"), std::string(kAuthority) + ":" + std::to_string(port));
  EXPECT_TRUE(requests[0].header("user-agent").value_or("").starts_with("curl/"));
  // One connection (same client port), from the authenticated client.
  const auto remotes = recorder.remotes();
  EXPECT_EQ(remotes[0], remotes[1]);
  EXPECT_TRUE(remotes[0].starts_with("127.0.0.1:")) << remotes[0];
  EXPECT_EQ(recorder.peers(), std::vector<std::string>(2, std::string(kClientCse)));
}

TEST(HttpsServer, BodyOverTheLimitIs413AndNeverReachesTheHandler) {
  //= type=test
  //= RFC 9110 §15.5.14
  TempDir dir("m2msec-http");
  Recorder recorder;
  constexpr std::size_t kLimit = 1024;
  auto server = must_start({.tls = cert_context(tls::Role::kServer), .handler = recorder.handler(), .body_limit = kLimit});
  ASSERT_TRUE(server);
  const std::uint16_t port = server->port();
  m2msec::test::write_file(dir.file("at-limit"), as_bytes(std::string(kLimit, 'a')));
  m2msec::test::write_file(dir.file("over-limit"), as_bytes(std::string(4 * kLimit, 'o')));

  ASSERT_EQ(run(dir, curl_with_certificate(port) + "--data-binary @'" + dir.file("at-limit") + "' -D '" +
                         dir.file("at.headers") + "' -o /dev/null " + https_url(port, "/post")),
            0)
      << read_file(dir.file("log"));
  EXPECT_EQ(statuses(read_file(dir.file("at.headers"))).back(), 200u);
  ASSERT_EQ(recorder.requests().size(), 1u);
  EXPECT_EQ(recorder.requests()[0].method, "POST");
  EXPECT_EQ(recorder.requests()[0].body, std::string(kLimit, 'a'));

  run(dir, curl_with_certificate(port) + "--data-binary @'" + dir.file("over-limit") + "' -D '" +
               dir.file("over.headers") + "' -o /dev/null " + https_url(port, "/post"));
  EXPECT_EQ(statuses(read_file(dir.file("over.headers"))).back(), 413u) << read_file(dir.file("log"));
  EXPECT_EQ(recorder.requests().size(), 1u);
}

TEST(HttpsServer, ClientWithoutCertificateIsDroppedQuietlyAndCounted) {
  TempDir dir("m2msec-http");
  Recorder recorder;
  auto server = must_start({.tls = cert_context(tls::Role::kServer), .handler = recorder.handler()});
  ASSERT_TRUE(server);
  const std::uint16_t port = server->port();
  const TestPki& pki = TestPki::shared();
  EXPECT_NE(run(dir, "curl -sS --max-time 20 --cacert '" + pki.file("root.pem") + "' --resolve " +
                         std::string(kAuthority) + ":" + std::to_string(port) + ":127.0.0.1 " + https_url(port, "/x")),
            0);
  EXPECT_TRUE(eventually([&] { return server->failed_handshakes() == 1; }));
  EXPECT_TRUE(recorder.requests().empty());
  // The server carries on.
  EXPECT_EQ(run(dir, curl_with_certificate(port) + "-o /dev/null " + https_url(port, "/y")), 0)
      << read_file(dir.file("log"));
  EXPECT_EQ(recorder.requests().size(), 1u);
}

// ---- our server, TLS with a PSK, openssl s_client as the client ------------------------------------

TEST(HttpsServer, PskClientFromOpensslSClient) {
  TempDir dir("m2msec-http");
  auto server = must_start({.tls = psk_server_context(), .handler = [](const Request& request, const Connection& c) {
                              return Response{200, {}, request.method + " " + c.session->peer().identifier};
                            }});
  ASSERT_TRUE(server);
  const std::string request = "GET /psk HTTP/1.1\\r\\nHost: " + std::string(kAuthority) +
                              "\\r\\nConnection: close\\r\\n\\r\\n";
  const std::string key = hex_encode(Bytes(32, kPskOctet));
  ASSERT_EQ(run(dir, "( printf '" + request + "' | timeout 20 openssl s_client -quiet -connect 127.0.0.1:" +
                         std::to_string(server->port()) + " -servername " + std::string(kAuthority) +
                         " -tls1_2 -cipher PSK-AES128-CBC-SHA256 -psk_identity " + std::string(kPskIdentity) +
                         " -psk " + key + " >'" + dir.file("out") + "' )"),
            0)
      << read_file(dir.file("log"));
  const std::string out = read_file(dir.file("out"));
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n")) << out;
  EXPECT_TRUE(out.ends_with("\r\n\r\nGET " + std::string(kPskIdentity))) << out;
}

// ---- our server, plain HTTP: what the parser refuses, keep-alive, limits, stop ---------------------

TEST(HttpServer, MalformedRequestsAreRefusedAndTheConnectionClosed) {
  //= type=test
  //= RFC 9112 §3.2
  Recorder recorder;
  auto server = must_start({.handler = recorder.handler()});
  ASSERT_TRUE(server);
  const struct {
    const char* name;
    std::string octets;
    const char* status_line;
  } cases[] = {
      {"bad request line", "GARBAGE\r\n\r\n", "HTTP/1.1 400 "},
      {"space in the target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 400 "},
      {"no Host", "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 400 "},
      {"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "HTTP/1.1 400 "},
      {"bad Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n", "HTTP/1.1 400 "},
      {"header over the limit", "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(9000, 'b') + "\r\n\r\n",
       "HTTP/1.1 431 "},
      {"HTTP/2.0 in an HTTP/1 request line", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", "HTTP/1.1 400 "},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string out = exchange_raw(server->port(), c.octets);
    EXPECT_TRUE(out.starts_with(c.status_line)) << out;
    // One response, then the server closed.
    EXPECT_EQ(out.find("HTTP/1.1", 1), std::string::npos) << out;
  }
  EXPECT_TRUE(recorder.requests().empty());
}

TEST(HttpServer, HeadAndGetPipelinedAreAnsweredInOrder) {
  Recorder recorder;
  auto server = must_start({.handler = recorder.handler()});
  ASSERT_TRUE(server);
  const std::string out = exchange_raw(server->port(),
                                       "HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n"
                                       "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  const std::string body = Recorder::answer_to("/x");
  const auto second = out.find("HTTP/1.1 200 OK\r\n", 1);
  ASSERT_NE(second, std::string::npos) << out;
  const std::string head = out.substr(0, second);
  const std::string get = out.substr(second);
  // The HEAD response announces the GET's length but carries no body (RFC 9110 9.3.2).
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n")) << out;
  EXPECT_NE(head.find("Content-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos) << out;
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << out;
  EXPECT_TRUE(get.ends_with("\r\n\r\n" + body)) << out;
  EXPECT_NE(get.find("Connection: close\r\n"), std::string::npos) << out;
}

TEST(HttpServer, ExpectContinueGetsAnInterimResponseBeforeTheBody) {
  //= type=test
  //= RFC 9110 §10.1.1
  Recorder recorder;
  auto server = must_start({.handler = recorder.handler()});
  ASSERT_TRUE(server);
  RawConnection connection(server->port());
  connection.send("PUT /c HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  EXPECT_EQ(connection.receive("\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
  connection.send("body");
  EXPECT_TRUE(connection.receive(Recorder::answer_to("/c")).starts_with("HTTP/1.1 200 OK\r\n"));
  ASSERT_EQ(recorder.requests().size(), 1u);
  EXPECT_EQ(recorder.requests()[0].body, "body");
}

TEST(HttpServer, ChunkedBodyIsJoinedAndItsTrailerDropped) {
  //= type=test
  //= RFC 9112 §7.1.2
  Recorder recorder;
  auto server = must_start({.handler = recorder.handler()});
  ASSERT_TRUE(server);
  const std::string out = exchange_raw(server->port(),
                                       "POST /chunks HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                       "3\r\nabc\r\n2\r\nde\r\n0\r\nHost: b\r\nX-Late: 1\r\n\r\n"
                                       "GET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(out.ends_with(Recorder::answer_to("/next"))) << out;
  const auto requests = recorder.requests();
  ASSERT_EQ(requests.size(), 2u) << out;
  EXPECT_EQ(requests[0].body, "abcde");
  EXPECT_EQ(requests[0].header("host"), "a");
  EXPECT_FALSE(requests[0].header("x-late"));
}

TEST(HttpServer, HandlerFailuresAre500AndTheConnectionCarriesOn) {
  TempDir dir("m2msec-http");
  std::mutex mutex;
  std::vector<std::string> remotes;
  auto server = must_start({.handler = [&](const Request& request, const Connection& connection) -> Response {
    {
      std::lock_guard lock(mutex);
      remotes.push_back(connection.remote_address);
    }
    if (request.target == "/throw") throw std::runtime_error("handler bug");
    if (request.target == "/inject") return Response{200, {{"X-Split", "a\r\nSet-Cookie: evil"}}, "no"};
    if (request.target == "/status") return Response{42, {}, ""};
    return Response{200, {}, "fine"};
  }});
  ASSERT_TRUE(server);
  const std::string url = server->url();
  ASSERT_EQ(run(dir, "curl -sS --max-time 20 -D '" + dir.file("headers") + "' -o /dev/null -o /dev/null -o /dev/null " +
                         "-o '" + dir.file("last") + "' " + url + "/throw " + url + "/inject " + url + "/status " + url +
                         "/ok"),
            0)
      << read_file(dir.file("log"));
  const std::string headers = read_file(dir.file("headers"));
  EXPECT_EQ(statuses(headers), (std::vector<unsigned>{500, 500, 500, 200})) << headers;
  EXPECT_EQ(headers.find("evil"), std::string::npos) << headers;
  EXPECT_EQ(read_file(dir.file("last")), "fine");
  std::lock_guard lock(mutex);
  EXPECT_EQ(remotes, std::vector<std::string>(4, remotes.front()));
}

TEST(HttpServer, BeyondMaxConnectionsIs503) {
  Recorder recorder;
  auto server = must_start({.handler = recorder.handler(), .max_connections = 1});
  ASSERT_TRUE(server);
  RawConnection holder(server->port());
  holder.send("GET /held HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(holder.receive(Recorder::answer_to("/held")).starts_with("HTTP/1.1 200 OK\r\n"));

  const std::string refused = exchange_raw(server->port(), "GET /more HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_TRUE(refused.starts_with("HTTP/1.1 503 ")) << refused;

  ::shutdown(holder.fd(), SHUT_RDWR);
  EXPECT_TRUE(eventually([&] {
    return exchange_raw(server->port(), "GET /later HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .starts_with("HTTP/1.1 200 OK\r\n");
  }));
}

TEST(HttpsServer, StopEndsIdleConnectionsAtOnce) {
  Recorder recorder;
  auto server = must_start({.tls = cert_context(tls::Role::kServer), .handler = recorder.handler(),
                            .idle_timeout = std::chrono::seconds(60)});
  ASSERT_TRUE(server);
  // One client between requests on an established association, one that never starts its handshake.
  RawConnection silent(server->port());
  RawConnection between(server->port());
  auto session = cert_context(tls::Role::kClient)->session(between.fd());
  ASSERT_TRUE(session);
  auto handshake = (*session)->handshake();
  ASSERT_TRUE(handshake) << handshake.error().to_string();
  ASSERT_TRUE((*session)->write(as_bytes("GET /idle HTTP/1.1\r\nHost: a\r\n\r\n")));
  std::string heard;
  std::uint8_t buffer[1024];
  while (heard.find(Recorder::answer_to("/idle")) == std::string::npos) {
    auto got = (*session)->read(buffer);
    ASSERT_TRUE(got && *got > 0);
    heard.append(reinterpret_cast<const char*>(buffer), *got);
  }

  const auto started = steady_clock::now();
  server->stop();
  EXPECT_LT(steady_clock::now() - started, std::chrono::seconds(3));
  // Both connections are gone: the association ends, the silent socket reads its end.
  auto after = (*session)->read(buffer);
  EXPECT_TRUE(!after || *after == 0);
  EXPECT_EQ(silent.receive(), "");
}

// ---- our client -------------------------------------------------------------------------------------

TEST(HttpClient, FetchesAFileFromOpensslSServerWww) {
  ::signal(SIGPIPE, SIG_IGN);  // TLS writes to a peer that has gone (client.h)
  TempDir dir("m2msec-http");
  const TestPki& pki = TestPki::shared();
  const std::string content = "served by openssl s_server -WWW\n";
  m2msec::test::write_file(dir.file("hello.txt"), as_bytes(content));
  Background s_server(dir, "s_server", dir.file(""),
                      "openssl s_server -accept 127.0.0.1:0 -WWW -cert '" + pki.file("server.pem") +
                          "' -cert_chain '" + pki.file("int.pem") + "' -key '" + pki.file("server.key") +
                          "' -Verify 1 -CAfile '" + pki.file("root.pem") + "'");
  const std::uint16_t port = s_server.port("ACCEPT 127\\.0\\.0\\.1:([0-9]+)");
  ASSERT_NE(port, 0);
  auto url = Url::parse("https://127.0.0.1:" + std::to_string(port) + "/hello.txt");
  ASSERT_TRUE(url);
  auto response = send(*url, Request{"GET", "", {}, ""}, cert_context(tls::Role::kClient));
  ASSERT_TRUE(response) << response.error().to_string();
  EXPECT_EQ(response->status, 200u);
  EXPECT_EQ(response->header("content-type"), "text/plain");
  EXPECT_EQ(response->body, content);
}

TEST(HttpClient, FetchesFromPythonHttpServer) {
  TempDir dir("m2msec-http");
  const std::string content = "served by python3 http.server\n";
  m2msec::test::write_file(dir.file("hello.txt"), as_bytes(content));
  Background python(dir, "http.server", dir.file(""),
                    std::string(M2MSEC_PYTHON3) + " -u -m http.server --bind 127.0.0.1 0");
  const std::uint16_t port = python.port("port ([0-9]+)");
  ASSERT_NE(port, 0);
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  auto response = send(*Url::parse(base + "/hello.txt"), Request{"GET", "", {}, ""}, nullptr);
  ASSERT_TRUE(response) << response.error().to_string();
  EXPECT_EQ(response->status, 200u);
  EXPECT_EQ(response->header("Content-Length"), std::to_string(content.size()));
  EXPECT_EQ(response->body, content);

  auto missing = send(*Url::parse(base + "/nothing-here"), Request{"GET", "", {}, ""}, nullptr);
  ASSERT_TRUE(missing) << missing.error().to_string();
  EXPECT_EQ(missing->status, 404u);

  auto head = send(*Url::parse(base + "/hello.txt"), Request{"HEAD", "", {}, ""}, nullptr);
  ASSERT_TRUE(head) << head.error().to_string();
  EXPECT_EQ(head->status, 200u);
  EXPECT_EQ(head->header("Content-Length"), std::to_string(content.size()));
  EXPECT_EQ(head->body, "");
}

TEST(HttpClient, PostsToOurServerOverMutualTls) {
  std::optional<Request> seen;
  std::string seen_peer;
  auto server = must_start({.tls = cert_context(tls::Role::kServer),
                            .handler = [&](const Request& request, const Connection& connection) {
                              seen = request;
                              seen_peer = connection.session->peer().identity;
                              return Response{201, {{"Location", "/r/1"}}, "created " + request.body};
                            }});
  ASSERT_TRUE(server);
  auto url = Url::parse(server->url() + "/enroll?x=1");
  ASSERT_TRUE(url);
  auto response = send(*url, Request{"POST", "ignored", {{"Content-Type", "application/pkcs10"}}, "csr"},
                       cert_context(tls::Role::kClient));
  ASSERT_TRUE(response) << response.error().to_string();
  EXPECT_EQ(response->status, 201u);
  EXPECT_EQ(response->header("location"), "/r/1");
  EXPECT_EQ(response->body, "created csr");
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->target, "/enroll?x=1");
  EXPECT_EQ(seen->header("host"), "127.0.0.1:" + std::to_string(server->port()));
  EXPECT_EQ(seen->header("content-type"), "application/pkcs10");
  EXPECT_EQ(seen->body, "csr");
  EXPECT_EQ(seen_peer, kClientCse);
}

TEST(HttpClient, ResponseOverTheLimitIsAProtocolError) {
  auto server = must_start({.handler = [](const Request&, const Connection&) {
    return Response{200, {}, std::string(2000, 'r')};
  }});
  ASSERT_TRUE(server);
  auto url = Url::parse(server->url() + "/");
  ASSERT_TRUE(url);
  auto fits = send(*url, Request{"GET", "", {}, ""}, nullptr, 2000);
  ASSERT_TRUE(fits) << fits.error().to_string();
  EXPECT_EQ(fits->body.size(), 2000u);
  auto over = send(*url, Request{"GET", "", {}, ""}, nullptr, 1999);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().category(), Category::kProtocol) << over.error().to_string();
}

TEST(HttpClient, SilentServerTimesOut) {
  ::signal(SIGPIPE, SIG_IGN);
  // The kernel completes the TCP handshake for a listening socket; nobody ever reads or answers.
  auto listener = tls::net::listen({"127.0.0.1", 0}, false);
  ASSERT_TRUE(listener);
  const std::uint16_t port = *tls::net::local_port(listener->fd());
  const auto client = cert_context(tls::Role::kClient);
  for (const char* scheme : {"http", "https"}) {
    SCOPED_TRACE(scheme);
    auto url = Url::parse(std::string(scheme) + "://127.0.0.1:" + std::to_string(port) + "/");
    ASSERT_TRUE(url);
    const auto started = steady_clock::now();
    auto response = send(*url, Request{"GET", "", {}, ""},
                         url->scheme == "https" ? client : nullptr, 1 << 20, milliseconds(300));
    const auto took = steady_clock::now() - started;
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().category(), Category::kIo) << response.error().to_string();
    EXPECT_GE(took, milliseconds(300));
    EXPECT_LT(took, std::chrono::seconds(5));
  }
}

TEST(HttpClient, RefusedHandshakeIsAnAuthErrorWithTheAlert) {
  Recorder recorder;
  auto server = must_start({.tls = cert_context(tls::Role::kServer), .handler = recorder.handler()});
  ASSERT_TRUE(server);
  auto url = Url::parse(server->url() + "/");
  ASSERT_TRUE(url);
  // The client wants another CSE than the one the server's certificate names.
  auto response = send(*url, Request{"GET", "", {}, ""}, cert_context(tls::Role::kClient, "other.m2m.example.com"));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().category(), Category::kAuth) << response.error().to_string();
  EXPECT_TRUE(response.error().tls_alert()) << response.error().to_string();
  EXPECT_TRUE(eventually([&] { return server->failed_handshakes() == 1; }));
  EXPECT_TRUE(recorder.requests().empty());
}

TEST(HttpClient, RefusesWhatItCannotSendSafely) {
  auto https = Url::parse("https://127.0.0.1:1/");
  auto http = Url::parse("http://127.0.0.1:1/");
  ASSERT_TRUE(https && http);
  const auto client = cert_context(tls::Role::kClient);
  const struct {
    const char* name;
    const Url& url;
    Request request;
    std::shared_ptr<const tls::Context> tls;
  } cases[] = {
      {"https without a context", *https, {"GET", "", {}, ""}, nullptr},
      {"http with a context", *http, {"GET", "", {}, ""}, client},
      {"a server context", *https, {"GET", "", {}, ""}, cert_context(tls::Role::kServer)},
      {"a method that is not a token", *http, {"GE T", "", {}, ""}, nullptr},
      {"a header value with CR LF", *http, {"GET", "", {{"X-A", "1\r\nX-B: 2"}}, ""}, nullptr},
      {"a header name that is not a token", *http, {"GET", "", {{"X A", "1"}}, ""}, nullptr},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto response = send(c.url, c.request, c.tls);
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().category(), Category::kUsage) << response.error().to_string();
  }
}

}  // namespace
}  // namespace m2msec::http

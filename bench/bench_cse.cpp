// RETRIEVE requests per second on a <container> under an <accessControlPolicy>, against m2msecd --roles cse
// over HTTPS keep-alive (TLS 1.2 PSK), next to a raw Boost.Beast HTTPS server that does no work, in the same
// run and with the same client code. scripts/bench turns the results into ratios: raw/ours is how many
// do-nothing exchanges one secured RETRIEVE costs.
//
// Names (wall-clock time per request over all connections, UseRealTime; items_per_second):
//   cse/retrieve/ours/real_time/threads:N  N connections, each on its own thread, each sending GET of the
//       container as the bench AE, one request at a time, for the benchmark's duration. Every request runs
//       the CSE's whole path: the binding, the originator check against the association's credential, the
//       ACP decision on the container's acpi (TS-0003 V3.18.0 7.1), the retrieve from the store.
//   cse/retrieve/raw/real_time/threads:N   the same client against the baseline: an in-process HTTP/1.1
//       server (Boost.Beast over Boost.Asio SSL streams, blocking, one thread per connection as m2msecd's
//       server is) with the same TLS profile (TLS 1.2, PSK-AES128-CBC-SHA256, extended master secret, no
//       tickets, no renegotiation) and the same PSK. It answers every request 200 with the headers a oneM2M
//       client checks (X-M2M-RSC 2000, the request's X-M2M-RI and X-M2M-RVI echoed, Content-Type) and the
//       very body m2msecd returned for the container at set-up, so both sides parse the same octets.
// The client is m2msec::http::ClientConnection over one tls::Context and http::send_primitive for both; each
// response is checked the same way (2000, X-M2M-RI, an m2m:cnt named as the container). Connections are
// opened (handshake included) before the timed loop; the loop is only requests.
//
// Set-up (once per process, on the main thread before the benchmarks run; its failure is each benchmark's
// error, SkipWithError): a fresh
// directory under /tmp with a PSK file of random keys (RAND_bytes) for the bench AE and the admin, the app
// rule letting the AE register; m2msecd --roles cse --data-dir (SQLite) on 127.0.0.1:0. Over the admin's
// association: an ACP granting the AE RETRIEVE only; the AE registers over its own association; the admin
// creates a container under it linked to the ACP (acpi) and a contentInstance in it. Before measuring: the
// AE's GET of the container is 2000, its DELETE of it 4103 (the ACP decides, and grants only RETRIEVE), and
// the raw client and ours negotiate the same version and suite with both servers. m2msecd is stopped and
// the directory removed at exit.
//
// Duration: --benchmark_min_time (scripts/bench passes 0.2 with 5 repetitions); 2 s of measurement per row
// when not given (4-5 s of wall clock with Google Benchmark's calibration runs, about 20 s for the program).
#include <benchmark/benchmark.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "harness.h"
#include "m2msec/core/encoding.h"
#include "m2msec/core/secret.h"
#include "m2msec/http/client.h"
#include "m2msec/http/onem2m.h"
#include "m2msec/json/json.h"
#include "m2msec/onem2m/primitive.h"
#include "m2msec/tls/session.h"

#ifndef M2MSEC_BIN_DIR
#error "M2MSEC_BIN_DIR must name the directory of m2msecd"
#endif

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;
namespace http = m2msec::http;
namespace json = m2msec::json;
namespace onem2m = m2msec::onem2m;
namespace tls = m2msec::tls;
using m2msec::Rsc;
using m2msec::SecretBytes;
using m2msec::bench::last_lines;

constexpr const char* kServerName = "localhost";  // SNI; both servers ignore it
constexpr const char* kAePsk = "bench-ae@localhost";
constexpr const char* kAdminPsk = "bench-admin@localhost";
constexpr const char* kAdmin = "CAdmin";  // m2msecd's default admin originator
constexpr const char* kAeId = "Cbench-ae";
constexpr const char* kAppId = "Nbench";
constexpr const char* kCseBase = "cse-in";  // m2msecd's default <CSEBase> resourceName
constexpr const char* kAeName = "bench-ae";
constexpr const char* kContainerName = "cnt";
constexpr const char* kContainer = "cse-in/bench-ae/cnt";
constexpr const char* kRawSuite = "PSK-AES128-CBC-SHA256";
constexpr const char* kOurSuite = "TLS_PSK_WITH_AES_128_CBC_SHA256";

SecretBytes random_key() {
  SecretBytes key(32);
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) std::abort();
  return key;
}

// ---- the baseline: a raw HTTPS server that does no work ------------------------------------------------

class RawServer {
 public:
  // Listens on 127.0.0.1, any free port; nullptr (and why) when it cannot.
  static std::unique_ptr<RawServer> start(std::string identity, SecretBytes key, std::string body, std::string* why) {
    std::unique_ptr<RawServer> s(new RawServer(std::move(identity), std::move(key), std::move(body)));
    if (std::string failed = s->configure(); !failed.empty()) {
      *why = "raw server: " + failed;
      return nullptr;
    }
    s->m_accept_thread = std::thread([server = s.get()] { server->accept_loop(); });
    return s;
  }
  ~RawServer() { stop(); }

  int port() const { return m_port; }

  // Ends every connection (a blocked read returns at once) and joins the threads.
  void stop() {
    if (!m_accept_thread.joinable()) return;
    m_stopping = true;
    ::shutdown(m_acceptor.native_handle(), SHUT_RDWR);  // wakes the blocked accept()
    m_accept_thread.join();
    {
      std::lock_guard lock(m_mutex);
      for (Worker& w : m_workers) {
        if (!w.done) ::shutdown(w.socket.native_handle(), SHUT_RDWR);
      }
    }
    for (Worker& w : m_workers) w.thread.join();
    m_workers.clear();
  }

 private:
  struct Worker {
    explicit Worker(asio::io_context& io) : socket(io) {}
    asio::ip::tcp::socket socket;
    std::thread thread;
    bool done = false;  // under m_mutex: the socket is closed
  };

  RawServer(std::string identity, SecretBytes key, std::string body)
      : m_identity(std::move(identity)), m_key(std::move(key)), m_body(std::move(body)) {}

  static int server_index() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
  }

  // The one identity this server knows; an unknown one fails the handshake.
  static unsigned int psk_cb(SSL* ssl, const char* identity, unsigned char* psk, unsigned int max_len) {
    const auto* s = static_cast<const RawServer*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), server_index()));
    if (identity == nullptr || s->m_identity != identity || s->m_key.size() > max_len) return 0;
    std::memcpy(psk, s->m_key.data(), s->m_key.size());
    return static_cast<unsigned int>(s->m_key.size());
  }

  // The TLS options of m2msecd's listener (the ts0003-tls12-psk profile of src/tls) in raw libssl terms.
  std::string configure() {
    SSL_CTX* ctx = m_tls.native_handle();
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 || SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, kRawSuite) != 1 || SSL_CTX_set_ex_data(ctx, server_index(), this) != 1) {
      return "SSL_CTX set-up failed";
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_psk_server_callback(ctx, psk_cb);
    beast::error_code ec;
    const asio::ip::tcp::endpoint any_port(asio::ip::address_v4::loopback(), 0);
    if (m_acceptor.open(any_port.protocol(), ec); ec) return "open: " + ec.message();
    if (m_acceptor.bind(any_port, ec); ec) return "bind: " + ec.message();
    if (m_acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) return "listen: " + ec.message();
    m_port = m_acceptor.local_endpoint().port();
    return {};
  }

  void accept_loop() {
    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
      // Threads of connections that have ended are joined as new ones come.
      m_workers.remove_if([](Worker& w) {
        if (!w.done) return false;
        w.thread.join();
        return true;
      });
      Worker& w = m_workers.emplace_back(m_io);
      lock.unlock();
      beast::error_code ec;
      m_acceptor.accept(w.socket, ec);
      lock.lock();
      if (ec) {
        m_workers.pop_back();
        continue;
      }
      w.thread = std::thread([this, &w] { serve(w); });
    }
  }

  void serve(Worker& w) {
    asio::ssl::stream<asio::ip::tcp::socket&> stream(w.socket, m_tls);
    beast::error_code ec;
    if (stream.handshake(asio::ssl::stream_base::server, ec); !ec) {
      beast::flat_buffer buffer;
      for (;;) {
        bhttp::request<bhttp::string_body> request;
        if (bhttp::read(stream, buffer, request, ec); ec) break;
        bhttp::response<bhttp::string_body> response(bhttp::status::ok, request.version());
        response.set("X-M2M-RSC", "2000");
        response.set("X-M2M-RI", request["X-M2M-RI"]);
        if (const auto rvi = request.find("X-M2M-RVI"); rvi != request.end()) response.set("X-M2M-RVI", rvi->value());
        response.set(bhttp::field::content_type, "application/json");
        response.body() = m_body;
        response.keep_alive(request.keep_alive());
        response.prepare_payload();
        if (bhttp::write(stream, response, ec); ec || !response.keep_alive()) break;
      }
    }
    std::lock_guard lock(m_mutex);
    w.socket.close(ec);
    w.done = true;
  }

  std::string m_identity;
  SecretBytes m_key;
  std::string m_body;
  asio::io_context m_io;  // the sockets' executor; every operation here is blocking
  asio::ssl::context m_tls{asio::ssl::context::tls_server};
  asio::ip::tcp::acceptor m_acceptor{m_io};
  int m_port = 0;
  std::atomic<bool> m_stopping{false};
  std::thread m_accept_thread;
  std::mutex m_mutex;
  std::list<Worker> m_workers;  // a list: a Worker does not move while its thread runs
};

// ---- m2msecd --------------------------------------------------------------------------------------------

struct Fixture {
  m2msec::bench::ScratchDir dir;
  m2msec::bench::SetUpOnce set_up;  // the rest is usable once it is ready
  m2msec::bench::Daemon m2msecd;
  int port = 0;
  std::shared_ptr<const tls::Context> ae_tls;  // the client side of both servers
  std::unique_ptr<RawServer> raw;
};
Fixture* g_fixture = nullptr;

std::shared_ptr<const tls::Context> client_context(const char* identity, const SecretBytes& key, std::string* why) {
  tls::Config config;
  config.role = tls::Role::kClient;
  config.profile = tls::find_profile("ts0003-tls12-psk");
  config.server_name = kServerName;
  config.psk = tls::ClientPsk{identity, key.clone()};
  auto made = tls::Context::create(std::move(config));
  if (!made) {
    *why = std::string("client context: ") + made.error().to_string();
    return nullptr;
  }
  return std::move(*made);
}

std::unique_ptr<http::ClientConnection> connect(int port, std::shared_ptr<const tls::Context> context, std::string* why) {
  auto url = http::Url::parse("https://127.0.0.1:" + std::to_string(port));
  if (!url) {
    *why = url.error().to_string();
    return nullptr;
  }
  auto connection = http::ClientConnection::open(*url, std::move(context));
  if (!connection) {
    *why = "connect: " + connection.error().to_string();
    return nullptr;
  }
  return std::move(*connection);
}

// The negotiated version and suite must be those of the baseline's configuration.
std::string check_association(const http::ClientConnection& connection, const char* server) {
  const tls::Session& session = *connection.session();
  if (session.version() != tls::Version::kTls12 || session.cipher_suite() != kOurSuite) {
    return std::string(server) + " negotiated " + session.cipher_suite() + ", not TLS 1.2 " + kOurSuite;
  }
  return {};
}

onem2m::Request request(onem2m::Operation op, std::string to, std::string fr, std::string rqi) {
  onem2m::Request r;
  r.op = op;
  r.to = std::move(to);
  r.fr = std::move(fr);
  r.rqi = std::move(rqi);
  return r;
}

// Sends a request and requires `expected`; the response's content, or why not.
std::optional<json::Value> call(http::ClientConnection& connection, const onem2m::Request& r, Rsc expected,
                                std::string* why) {
  auto response = http::send_primitive(connection, r);
  if (!response) {
    *why = r.rqi + ": " + response.error().to_string();
    return std::nullopt;
  }
  if (response->rsc != expected) {
    *why = r.rqi + ": " + std::to_string(static_cast<unsigned>(response->rsc)) + " instead of " +
           std::to_string(static_cast<unsigned>(expected)) + (response->pc ? " " + json::serialize(*response->pc) : "");
    return std::nullopt;
  }
  return response->pc ? std::move(*response->pc) : json::Value(json::Object{});
}

onem2m::Request create(std::string to, std::string fr, std::string rqi, std::uint32_t ty, json::Value pc) {
  onem2m::Request r = request(onem2m::Operation::kCreate, std::move(to), std::move(fr), std::move(rqi));
  r.ty = ty;
  r.pc = std::move(pc);
  return r;
}

// The check of every benchmarked response, the same for both servers: an m2m:cnt named as the container.
bool is_the_container(const json::Value& pc) {
  const json::Value* cnt = pc.find("m2m:cnt");
  const json::Value* rn = cnt != nullptr ? cnt->find("rn") : nullptr;
  return rn != nullptr && rn->string() != nullptr && *rn->string() == kContainerName;
}

std::string start_m2msecd(Fixture& f, const fs::path& psk_file, const fs::path& app_rules) {
  const std::vector<std::string> argv{std::string(M2MSEC_BIN_DIR) + "/m2msecd",
                                      "--roles", "cse",
                                      "--listen", "127.0.0.1:0",
                                      "--psk-file", psk_file.string(),
                                      "--data-dir", (f.dir.path / "data").string(),
                                      "--admin-credential", kAdminPsk,
                                      "--app-rules", app_rules.string()};
  f.m2msecd = {"m2msecd", f.dir.path / "m2msecd.out", f.dir.path / "m2msecd.err"};
  static const std::regex listening("^listening role=cse url=https://127\\.0\\.0\\.1:(\\d+)\\b.*$");
  return f.m2msecd.start(
      argv, [&f](const std::string& out) { return (f.port = m2msec::bench::listening_port(out, listening)) != 0; },
      "its cse listener");
}

// The resources, then the checks; the container's representation (the baseline's body) in *body.
std::string provision(Fixture& f, const SecretBytes& admin_key, std::string* body) {
  std::string why;
  const auto admin_tls = client_context(kAdminPsk, admin_key, &why);
  const auto admin = admin_tls ? connect(f.port, admin_tls, &why) : nullptr;
  const auto ae = admin ? connect(f.port, f.ae_tls, &why) : nullptr;
  if (!ae) return why;
  if (why = check_association(*ae, "m2msecd"); !why.empty()) return why;

  // An ACP granting the AE RETRIEVE (acop 2) and nothing else; the admin may manage it (acop 63).
  const json::Value acp_pc(json::Object{{"m2m:acp", json::Object{
      {"rn", "benchAcp"},
      {"pv", json::Object{{"acr", json::Array{json::Object{{"acor", json::Array{kAeId}}, {"acop", 2}}}}}},
      {"pvs", json::Object{{"acr", json::Array{json::Object{{"acor", json::Array{kAdmin}}, {"acop", 63}}}}}}}}});
  const auto acp = call(*admin, create(kCseBase, kAdmin, "setup-acp", 1, acp_pc), Rsc::kCreated, &why);
  const json::Value* acp_ri = acp ? acp->find("m2m:acp") : nullptr;
  acp_ri = acp_ri != nullptr ? acp_ri->find("ri") : nullptr;
  if (acp_ri == nullptr || acp_ri->string() == nullptr) return why.empty() ? "the ACP came back without ri" : why;

  const json::Value ae_pc(json::Object{{"m2m:ae", json::Object{
      {"rn", kAeName}, {"api", kAppId}, {"rr", false}, {"srv", json::Array{"3"}}}}});
  if (!call(*ae, create(kCseBase, kAeId, "setup-ae", 2, ae_pc), Rsc::kCreated, &why)) return why;
  const json::Value cnt_pc(json::Object{{"m2m:cnt", json::Object{
      {"rn", kContainerName}, {"acpi", json::Array{*acp_ri->string()}}}}});
  const std::string ae_path = std::string(kCseBase) + "/" + kAeName;
  if (!call(*admin, create(ae_path, kAdmin, "setup-cnt", 3, cnt_pc), Rsc::kCreated, &why)) return why;
  const json::Value cin_pc(json::Object{{"m2m:cin", json::Object{{"cnf", "text/plain:0"}, {"con", "21.5"}}}});
  if (!call(*admin, create(kContainer, kAdmin, "setup-cin", 4, cin_pc), Rsc::kCreated, &why)) return why;

  // The AE may RETRIEVE the container, and only that (TS-0003 V3.18.0 7.1: its ACP grants acop 2).
  const onem2m::Request get = request(onem2m::Operation::kRetrieve, kContainer, kAeId, "check-get");
  auto exchange = ae->send(http::to_http_request(get));
  if (!exchange) return "check-get: " + exchange.error().to_string();
  auto got = http::from_http_response(*exchange, get.rqi);
  if (!got || got->rsc != Rsc::kOk || !got->pc || !is_the_container(*got->pc)) {
    return "check-get: not the container: " + last_lines(exchange->body);
  }
  *body = exchange->body;
  const onem2m::Request del = request(onem2m::Operation::kDelete, kContainer, kAeId, "check-delete");
  if (!call(*ae, del, Rsc::kOriginatorHasNoPrivilege, &why)) return why;
  return {};
}

std::string set_up(Fixture& f) {
  if (!f.dir.make("bench-cse")) return "cannot make a directory under /tmp";
  SecretBytes ae_key = random_key();
  const SecretBytes admin_key = random_key();
  const fs::path psk_file = f.dir.path / "psk", app_rules = f.dir.path / "app-rules";
  {
    std::ofstream psk(psk_file);
    psk << kAePsk << ' ' << m2msec::hex_encode(ae_key.view()) << '\n'
        << kAdminPsk << ' ' << m2msec::hex_encode(admin_key.view()) << '\n';
    std::ofstream rules(app_rules);
    rules << kAePsk << ' ' << kAppId << ' ' << kAeId << '\n';
    if (!psk || !rules) return "cannot write the PSK file or the app rules";
  }
  if (std::string why = start_m2msecd(f, psk_file, app_rules); !why.empty()) return why;

  std::string why, body;
  f.ae_tls = client_context(kAePsk, ae_key, &why);
  if (!f.ae_tls) return why;
  if (why = provision(f, admin_key, &body); !why.empty()) return why;
  f.raw = RawServer::start(kAePsk, std::move(ae_key), std::move(body), &why);
  if (!f.raw) return why;
  const auto raw = connect(f.raw->port(), f.ae_tls, &why);
  if (!raw) return "raw server: " + why;
  return check_association(*raw, "the raw server");
}

// Stops m2msecd and the baseline, removes the directory. Returns the problems (empty: none).
std::string cleanup() {
  if (g_fixture == nullptr) return {};
  Fixture& f = *g_fixture;
  if (f.raw) f.raw->stop();
  std::string problems = f.m2msecd.stop();
  if (!problems.empty()) problems += "\n";
  f.dir.remove();
  return problems;
}

void cleanup_on_signal() {
  if (g_fixture == nullptr) return;
  g_fixture->m2msecd.terminate();
  g_fixture->m2msecd.reap();
  g_fixture->dir.remove_blocking();
}

// ---- the benchmark ----------------------------------------------------------------------------------------

// One connection per thread; `raw` picks the server.
void retrieve(benchmark::State& state, bool raw) {
  if (!g_fixture->set_up.ready(state)) return;
  std::string why;
  const auto connection = connect(raw ? g_fixture->raw->port() : g_fixture->port, g_fixture->ae_tls, &why);
  if (!connection) return state.SkipWithError(why.c_str());
  onem2m::Request get = request(onem2m::Operation::kRetrieve, kContainer, kAeId, {});
  const std::string rqi_prefix = "b" + std::to_string(state.thread_index()) + "-";
  std::uint64_t sent = 0;
  for (auto _ : state) {
    get.rqi = rqi_prefix + std::to_string(++sent);
    auto response = http::send_primitive(*connection, get);
    if (!response || response->rsc != Rsc::kOk || !response->pc || !is_the_container(*response->pc)) {
      why = get.rqi + ": " + (response ? "not 2000 with the container" : response.error().to_string());
      state.SkipWithError(why.c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

int main(int argc, char** argv) {
  return m2msec::bench::run_program(argc, argv, {
      .name = "bench_cse",
      .default_min_time = "2",  // the measured time of a row unless the command line says otherwise
      .start = [] {
        g_fixture = new Fixture;
        return std::string();
      },
      .register_benchmarks = [] {
        for (const int connections : {1, 4}) {
          benchmark::RegisterBenchmark("cse/retrieve/ours", retrieve, false)->UseRealTime()->Threads(connections);
          benchmark::RegisterBenchmark("cse/retrieve/raw", retrieve, true)->UseRealTime()->Threads(connections);
        }
      },
      .before_run = [] { g_fixture->set_up.run([] { return set_up(*g_fixture); }); },
      .cleanup = cleanup,
      .cleanup_on_signal = cleanup_on_signal,
  });
}

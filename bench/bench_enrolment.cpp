// Enrolments and MAF key retrievals per second against one m2msecd (--roles mef,maf) on loopback, with its
// store on SQLite and on PostgreSQL, each next to the raw TLS-PSK handshake rate against the same listener in
// the same run. scripts/bench turns the results into ratios: how many raw handshakes one operation costs.
//
// Names (wall-clock time per operation, UseRealTime: the work is in another process; items_per_second):
//   enrolment/raw-psk-handshake/<store>  the baseline: a raw libssl TLS 1.2 client (PSK-AES128-CBC-SHA256,
//       SNI "localhost", extended master secret, no session resumption) connects, completes a full
//       handshake with the enrolee's KpmID/Kpm, sends close_notify and closes. The server's share includes
//       its PSK lookup in the store, so there is one baseline per store.
//   enrolment/<store>      one client::enrol: TCP connect, MEF Handshake (the same suite, checked), RETRIEVE of
//       the base resource, MEF Client Registration with the Enrolment Key export (a durable write of the
//       enrolment and the registration), Command Retrieve until NO_MORE_COMMANDS. Each iteration registers
//       with its own adminFQDN ("a<n>.example.com"): a second registration of the same client with the same
//       adminFQDN is refused while the first has not expired.
//   maf-retrieval/<store>  one client::retrieve_key: TCP connect, MAF Handshake with a pre-provisioned
//       KmID/Km, RETRIEVE of the base resource, Key Retrieval of a key another pre-provisioned client
//       registered (once, at set-up) for this one as target.
// <store> is sqlite (--data-dir) or postgresql (--database: a throwaway cluster of tests/support/pg_cluster.py,
// synchronous commit on).
//
// Each m2msecd (and the PostgreSQL cluster) is started once per process, when the first benchmark that needs
// it runs, in a fresh directory under /tmp, with credentials made at run time (RAND_bytes) and provisioned with
// `m2msec admin`; everything is stopped and removed at exit. Before measuring, set-up checks that the raw
// client and ours negotiate the same version and suite with the same listener, and that the key retrieved is
// the one registered. A server that cannot be started or set up is the benchmark's error (SkipWithError).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "harness.h"
#include "m2msec/client/channel.h"
#include "m2msec/client/maf.h"
#include "m2msec/client/mef.h"
#include "m2msec/core/encoding.h"
#include "m2msec/core/secret.h"
#include "m2msec/tls/credentials.h"
#include "m2msec/tls/session.h"

#ifndef M2MSEC_BIN_DIR
#error "M2MSEC_BIN_DIR must name the directory of m2msec and m2msecd"
#endif
#ifndef M2MSEC_SOURCE_DIR
#error "M2MSEC_SOURCE_DIR must name the source tree (for tests/support/pg_cluster.py)"
#endif
#ifndef M2MSEC_PYTHON3
#error "M2MSEC_PYTHON3 must name the Python 3 interpreter"
#endif

namespace {

namespace client = m2msec::client;
namespace tls = m2msec::tls;
using m2msec::Bytes;
using m2msec::SecretBytes;
using m2msec::bench::describe;
using m2msec::bench::last_lines;
using m2msec::bench::read_text;
using m2msec::bench::run_blocking;
using m2msec::bench::spawn;
using m2msec::bench::wait_for;
namespace fs = std::filesystem;

constexpr const char* kHost = "localhost";  // the SNI and URL host; m2msecd's default MEF-FQDN and MAF-FQDN
constexpr const char* kKpmId = "bench-enrolee";
constexpr const char* kEnroleeId = "Cbench-enrolee";
constexpr const char* kSourceKmId = "bench-source@localhost";
constexpr const char* kSourceClientId = "Cbench-source";
constexpr const char* kTargetKmId = "bench-target@localhost";
constexpr const char* kTargetClientId = "Cbench-target";
constexpr const char* kRawSuite = "PSK-AES128-CBC-SHA256";
constexpr const char* kOurSuite = "TLS_PSK_WITH_AES_128_CBC_SHA256";

std::string random_hex(std::size_t octets) {
  Bytes bytes(octets);
  if (RAND_bytes(bytes.data(), static_cast<int>(octets)) != 1) std::abort();
  return m2msec::hex_encode(bytes);
}

// ---- child processes -------------------------------------------------------------------------------------

// Runs a command to its end (at most two minutes). Empty on exit status 0, else what went wrong.
std::string run(const std::vector<std::string>& argv, const fs::path& log_stem) {
  const fs::path out = log_stem.string() + ".out", err = log_stem.string() + ".err";
  const pid_t pid = spawn(argv, out, err, true);
  if (pid < 0) return "fork failed";
  std::optional<int> status = wait_for(pid, std::chrono::minutes(2));
  if (!status) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return argv[0] + " did not finish";
  }
  if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) return {};
  std::string command;
  for (const std::string& a : argv) command += (command.empty() ? "" : " ") + a;
  return command + " failed (" + describe(*status) + "): " + last_lines(read_text(err) + read_text(out));
}

// ---- the servers -------------------------------------------------------------------------------------------

struct Server {
  std::string store;  // "sqlite" or "postgresql"
  std::string error;  // why it is not usable (then nothing below is set)
  std::vector<std::string> store_args;
  m2msec::bench::Daemon m2msecd;
  int port = 0;
  SecretBytes kpm;
  std::shared_ptr<client::Endpoint> mef;         // the enrolee: KpmID/Kpm
  std::shared_ptr<client::Endpoint> maf_target;  // the target of the registered key: KmID/Km
  std::string relative_key_id;
  SecretBytes key;  // what maf_target retrieves
};

struct Fixture {
  m2msec::bench::ScratchDir dir;
  bool pg_started = false;
  std::vector<std::string> pg_stop_argv;  // also for the signal handler
  std::map<std::string, std::unique_ptr<Server>> servers;
};
Fixture* g_fixture = nullptr;

// Stops everything and removes the directory. Returns the problems (empty: none).
std::string cleanup() {
  if (g_fixture == nullptr) return {};
  std::string problems;
  for (auto& [name, server] : g_fixture->servers) {
    if (const std::string why = server->m2msecd.stop(); !why.empty()) problems += why + "\n";
  }
  if (g_fixture->pg_started) {
    if (const std::string why = run(g_fixture->pg_stop_argv, g_fixture->dir.path / "pg-stop"); !why.empty()) {
      problems += why + "\n";
    }
  }
  g_fixture->dir.remove();
  return problems;
}

// On SIGINT/SIGTERM/SIGHUP: the same with only fork, exec, kill and waitpid.
void cleanup_on_signal() {
  if (g_fixture == nullptr) return;
  for (auto& [name, server] : g_fixture->servers) server->m2msecd.terminate();
  for (auto& [name, server] : g_fixture->servers) server->m2msecd.reap();
  if (g_fixture->pg_started) run_blocking(g_fixture->pg_stop_argv);
  g_fixture->dir.remove_blocking();
}

std::string admin(Server& s, const std::string& log, std::vector<std::string> command) {
  std::vector<std::string> argv{std::string(M2MSEC_BIN_DIR) + "/m2msec", "admin"};
  argv.insert(argv.end(), s.store_args.begin(), s.store_args.end());
  argv.insert(argv.end(), command.begin(), command.end());
  return run(argv, g_fixture->dir.path / (s.store + "-admin-" + log));
}

std::string start_postgres(Server& s) {
  const fs::path pg = g_fixture->dir.path / "pg";
  g_fixture->pg_started = true;  // a half-started cluster is stopped too
  if (std::string why = run({M2MSEC_PYTHON3, std::string(M2MSEC_SOURCE_DIR) + "/tests/support/pg_cluster.py", "start",
                             pg.string()},
                            g_fixture->dir.path / "pg-start");
      !why.empty()) {
    return why;
  }
  std::string conninfo = read_text(pg / "conninfo");
  while (!conninfo.empty() && conninfo.back() == '\n') conninfo.pop_back();
  if (conninfo.empty()) return "pg_cluster.py wrote no conninfo";
  s.store_args = {"--database", conninfo, "--kek-file", (g_fixture->dir.path / "pg.kek").string()};
  return {};
}

// One raw libssl TLS 1.2 PSK client, as the baseline.
struct RawClient {
  std::string identity;
  Bytes key;
  SSL_CTX* ctx = nullptr;
  ~RawClient() { SSL_CTX_free(ctx); }
};

unsigned int raw_psk(SSL* ssl, const char*, char* identity, unsigned int max_identity, unsigned char* psk,
                     unsigned int max_psk) {
  const auto* c = static_cast<const RawClient*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (c->identity.size() + 1 > max_identity || c->key.size() > max_psk) return 0;
  std::memcpy(identity, c->identity.c_str(), c->identity.size() + 1);
  std::memcpy(psk, c->key.data(), c->key.size());
  return static_cast<unsigned int>(c->key.size());
}

std::unique_ptr<RawClient> make_raw_client(const Server& s, std::string* why) {
  auto c = std::make_unique<RawClient>();
  c->identity = kKpmId;
  c->key.assign(s.kpm.view().begin(), s.kpm.view().end());
  c->ctx = SSL_CTX_new(TLS_client_method());
  if (c->ctx == nullptr || SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(c->ctx, TLS1_2_VERSION) != 1 || SSL_CTX_set_cipher_list(c->ctx, kRawSuite) != 1) {
    *why = "raw client: SSL_CTX set-up failed";
    return nullptr;
  }
  SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(c->ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_app_data(c->ctx, c.get());
  SSL_CTX_set_psk_client_callback(c->ctx, raw_psk);
  return c;
}

// Connect, full handshake, close_notify, close. Empty on success; with check, also the negotiated version,
// suite and extended master secret.
std::string raw_handshake(const RawClient& c, int port, bool check) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const std::string why = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return why;
  }
  SSL* ssl = SSL_new(c.ctx);
  std::string why;
  if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1 || SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                                               const_cast<char*>(kHost)) != 1) {
    why = "SSL_new";
  } else if (ERR_clear_error(); SSL_connect(ssl) != 1) {
    char text[256] = "no OpenSSL error";
    if (const unsigned long e = ERR_get_error(); e != 0) ERR_error_string_n(e, text, sizeof text);
    why = std::string("the raw handshake failed: ") + text;
  } else if (check && (SSL_version(ssl) != TLS1_2_VERSION || std::strcmp(SSL_get_cipher_name(ssl), kRawSuite) != 0 ||
                       SSL_get_extms_support(ssl) != 1)) {
    why = std::string("the raw handshake negotiated ") + SSL_get_version(ssl) + " " + SSL_get_cipher_name(ssl) +
          (SSL_get_extms_support(ssl) == 1 ? " with" : " without") + " extended master secret";
  } else {
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  ::close(fd);
  return why;
}

std::string start_m2msecd(Server& s) {
  std::vector<std::string> argv{std::string(M2MSEC_BIN_DIR) + "/m2msecd"};
  argv.insert(argv.end(), s.store_args.begin(), s.store_args.end());
  for (const char* a : {"--listen", "127.0.0.1:0", "--roles", "mef,maf"}) argv.emplace_back(a);
  const fs::path& dir = g_fixture->dir.path;
  s.m2msecd = {"m2msecd (" + s.store + ")", dir / (s.store + "-m2msecd.out"), dir / (s.store + "-m2msecd.err")};
  // The ops line is printed last.
  std::string why = s.m2msecd.start(
      argv, [](const std::string& out) { return out.find("listening role=ops") != std::string::npos; },
      "its listeners");
  if (!why.empty()) return why;
  static const std::regex listening("^listening role=mef url=https://127\\.0\\.0\\.1:(\\d+)/mef auth=psk$");
  const std::string out = read_text(s.m2msecd.out);
  s.port = m2msec::bench::listening_port(out, listening);
  if (s.port == 0) return "m2msecd printed no PSK MEF listener: " + last_lines(out);
  return {};
}

std::shared_ptr<client::Endpoint> endpoint(const Server& s, const char* role, tls::PskIdentityKind kind,
                                           const char* identity, const SecretBytes& key, std::string* why) {
  const std::string url = "https://" + std::string(kHost) + ":" + std::to_string(s.port) + "/" + role;
  auto made = client::Endpoint::psk(url, "", kind, tls::ClientPsk{identity, key.clone()});
  if (!made) {
    *why = std::string(role) + " endpoint: " + made.error().to_string();
    return nullptr;
  }
  return std::make_shared<client::Endpoint>(std::move(*made));
}

std::string set_up(Server& s) {
  if (s.store == "sqlite") {
    s.store_args = {"--data-dir", (g_fixture->dir.path / "sqlite").string()};
  } else if (std::string why = start_postgres(s); !why.empty()) {
    return "PostgreSQL: " + why;
  }
  // The enrolee and two pre-provisioned MAF clients: the source registers a key for the target.
  const std::string kpm = random_hex(32), source_km = random_hex(32), target_km = random_hex(32);
  for (const auto& [log, command] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"enrolee", {"mef", "add-enrolee", "--kpm-id", kKpmId, "--kpm", kpm, "--enrolee-id", kEnroleeId}},
           {"source", {"maf", "add-client", "--km-id", kSourceKmId, "--km", source_km, "--client-id", kSourceClientId}},
           {"target", {"maf", "add-client", "--km-id", kTargetKmId, "--km", target_km, "--client-id", kTargetClientId}}}) {
    if (std::string why = admin(s, log, command); !why.empty()) return why;
  }
  if (std::string why = start_m2msecd(s); !why.empty()) return why;

  std::string why;
  s.kpm = *m2msec::hex_decode_secret(kpm);
  s.mef = endpoint(s, "mef", tls::PskIdentityKind::kKpmId, kKpmId, s.kpm, &why);
  const SecretBytes source_key = *m2msec::hex_decode_secret(source_km), target_key = *m2msec::hex_decode_secret(target_km);
  const auto maf_source = s.mef ? endpoint(s, "maf", tls::PskIdentityKind::kKmId, kSourceKmId, source_key, &why) : nullptr;
  s.maf_target = maf_source ? endpoint(s, "maf", tls::PskIdentityKind::kKmId, kTargetKmId, target_key, &why) : nullptr;
  if (!s.maf_target) return why;

  // The raw client and ours negotiate the same with this listener.
  const auto raw = make_raw_client(s, &why);
  if (!raw) return why;
  if (why = raw_handshake(*raw, s.port, true); !why.empty()) return why;
  auto channel = client::Channel::open(*s.mef);
  if (!channel) return "ours: MEF Handshake: " + channel.error().to_string();
  if (channel->session().version() != tls::Version::kTls12 || channel->session().cipher_suite() != kOurSuite) {
    return "ours negotiated " + channel->session().cipher_suite() + ", the raw client " + kRawSuite;
  }

  client::KeyRequest request;
  request.target_ids = {kTargetClientId};
  auto registered = client::register_key(*maf_source, request);
  if (!registered) return "key registration: " + registered.error().to_string();
  s.relative_key_id = registered->key_identifier.relative_key_id();
  s.key = registered->key.clone();
  auto retrieved = client::retrieve_key(*s.maf_target, s.relative_key_id);
  if (!retrieved) return "key retrieval: " + retrieved.error().to_string();
  if (!m2msec::ct::equal(retrieved->key.view(), s.key.view()) || retrieved->source_client_id != kSourceClientId) {
    return "key retrieval: not the key registered, or not from " + std::string(kSourceClientId);
  }
  return {};
}

// The server of a store, started on first use; nullptr (and the reason in state) if it cannot be.
const Server* server(benchmark::State& state, const std::string& store) {
  auto& slot = g_fixture->servers[store];
  if (!slot) {
    slot = std::make_unique<Server>();
    slot->store = store;
    if (std::string why = set_up(*slot); !why.empty()) slot->error = store + ": " + why;
  }
  if (!slot->error.empty()) {
    state.SkipWithError(slot->error.c_str());
    return nullptr;
  }
  return slot.get();
}

// ---- the benchmarks ------------------------------------------------------------------------------------------

void raw_psk_handshake(benchmark::State& state, const std::string& store) {
  const Server* s = server(state, store);
  if (s == nullptr) return;
  std::string why;
  const auto raw = make_raw_client(*s, &why);
  if (!raw) return state.SkipWithError(why.c_str());
  for (auto _ : state) {
    if (why = raw_handshake(*raw, s->port, false); !why.empty()) {
      state.SkipWithError(why.c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

std::atomic<std::uint64_t> g_admin_counter{0};

void enrolment(benchmark::State& state, const std::string& store) {
  const Server* s = server(state, store);
  if (s == nullptr) return;
  client::EnrolOptions options;
  options.mef = *s->mef;
  for (auto _ : state) {
    options.admin_fqdn = "a" + std::to_string(++g_admin_counter) + ".example.com";
    if (auto done = client::enrol(options); !done) {
      state.SkipWithError(("enrol: " + done.error().to_string()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void maf_retrieval(benchmark::State& state, const std::string& store) {
  const Server* s = server(state, store);
  if (s == nullptr) return;
  for (auto _ : state) {
    auto done = client::retrieve_key(*s->maf_target, s->relative_key_id);
    if (!done || !m2msec::ct::equal(done->key.view(), s->key.view())) {
      state.SkipWithError(("retrieve_key: " + (done ? std::string("wrong key") : done.error().to_string())).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void register_all() {
  for (const std::string store : {"sqlite", "postgresql"}) {
    benchmark::RegisterBenchmark(("enrolment/raw-psk-handshake/" + store).c_str(), raw_psk_handshake, store)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("enrolment/" + store).c_str(), enrolment, store)->UseRealTime();
    benchmark::RegisterBenchmark(("maf-retrieval/" + store).c_str(), maf_retrieval, store)->UseRealTime();
  }
}

}  // namespace

int main(int argc, char** argv) {
  return m2msec::bench::run_program(argc, argv, {
      .name = "bench_enrolment",
      .start = [] {
        g_fixture = new Fixture;
        // As root, pg_cluster.py runs PostgreSQL as the postgres user, which must be able to reach DIR/pg.
        if (!g_fixture->dir.make("bench-enrolment") || ::chmod(g_fixture->dir.path.c_str(), 0711) != 0) {
          return std::string("cannot make a directory under /tmp");
        }
        g_fixture->pg_stop_argv = {M2MSEC_PYTHON3, std::string(M2MSEC_SOURCE_DIR) + "/tests/support/pg_cluster.py",
                                   "stop", (g_fixture->dir.path / "pg").string()};
        return std::string();
      },
      .register_benchmarks = register_all,
      .cleanup = cleanup,
      .cleanup_on_signal = cleanup_on_signal,
  });
}

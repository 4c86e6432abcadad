// Server-side handshake cost of the OpenSSL-backed security profiles, each next to a raw OpenSSL
// baseline doing the same handshake in the same run. scripts/bench turns the results into ratios.
//
// Transport: a non-blocking socketpair (AF_UNIX, SOCK_STREAM for TLS, SOCK_DGRAM for DTLS); client and
// server are stepped alternately in one thread. Only the server's share is timed: the thread CPU time
// spent inside the server's handshake calls (Session::handshake() / SSL_do_handshake()), reported as
// the benchmark's (manual) time per handshake and as a "hs_per_s" counter. Client work, socket setup and
// session creation/teardown are not counted.
//
// DTLS runs over AF_UNIX datagrams: there is no IP path MTU to query, so OpenSSL fragments every flight at
// its minimum MTU; the same on both sides (checked), but more records than over UDP.
//
// The raw baseline uses the same suite (the profile's first, which our server picks by its preference
// order; the raw client offers only that one), version, groups, signature schemes, options (no tickets,
// no session cache, no renegotiation, no compression, no auto chain, DTLS cookie exchange with an
// HMAC-SHA-256 cookie), the same PSK (a plain callback returning it) or the same certificate chains and
// keys (the peer verified by a plain X509_STORE holding the same root). What it does not do is exactly
// what m2msec adds: SNI parsing and matching, the extended-master-secret check, the unknown-identity
// stand-in key, src/pki path validation and identity binding.
//
// Names: "tls/<profile>/ours" vs "tls/<profile>/raw" (server CPU time per successful handshake);
// "tls-fail/<profile>/unknown-identity" vs "tls-fail/<profile>/wrong-key" (server CPU time per failed PSK
// handshake; both must cost the same: m2msec/tls/credentials.h, an unknown identity fails like a wrong
// key, on the wire and in time). DTLS has no such pair: it drops a record that fails its MAC silently.
//
// Keys are made at run time: the certificates by tests/support/testpki.py, the PSKs by RAND_bytes.
#include <benchmark/benchmark.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/secret.h"
#include "m2msec/pki/validate.h"
#include "m2msec/tls/credentials.h"
#include "m2msec/tls/profile.h"
#include "m2msec/tls/session.h"
#include "test_pki_dir.h"

namespace {

namespace tls = m2msec::tls;
using m2msec::Bytes;
using m2msec::ByteView;
using m2msec::SecretBytes;

constexpr const char* kServerName = "in-cse.m2m.example.com";
constexpr std::string_view kLabel = "EXPORTER-oneM2M-Bootstrap";
constexpr std::size_t kExportLength = 32;
// KpsaIDs (the PSK-based SAEF kind); the second one is never registered at the server.
constexpr const char* kIdentity = "bench-kpsa-1@in-cse.m2m.example.com";
constexpr const char* kUnknownIdentity = "bench-kpsa-2@in-cse.m2m.example.com";
// A handshake that needs more client/server steps than this is stuck.
constexpr int kMaxRounds = 200;

// ---- run-time material -----------------------------------------------------------------------------

struct Material {
  std::filesystem::path dir;
  Bytes psk = Bytes(32);
  Bytes wrong_psk = Bytes(32);
  std::string file(const char* name) const { return (dir / name).string(); }
};
Material* g_material = nullptr;

bool make_material() {
  g_material = new Material();
  const auto dir = m2msec::bench::make_test_pki("bench-tls");
  if (!dir) return false;
  g_material->dir = *dir;
  if (RAND_bytes(g_material->psk.data(), 32) != 1 || RAND_bytes(g_material->wrong_psk.data(), 32) != 1) return false;
  return g_material->psk != g_material->wrong_psk;
}

// ---- transport and stepping ----------------------------------------------------------------------

// The client's and the server's ends of a socketpair. With relay (the check handshakes only), there are
// two pairs and the harness moves the octets between them, counting what the server sends: octets and,
// on DTLS, datagrams (so the raw baseline must fragment its flights exactly as the engine does).
struct SocketPair {
  int client = -1;
  int server = -1;
  int relay_client = -1;  // peer of client
  int relay_server = -1;  // peer of server
  long server_octets = 0;
  long server_datagrams = 0;

  SocketPair(bool datagram, bool relay = false) : m_datagram(datagram) {
    int a[2], b[2];
    const int type = (datagram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
    if (::socketpair(AF_UNIX, type, 0, a) != 0) return;
    client = a[0];
    server = a[1];
    if (relay && ::socketpair(AF_UNIX, type, 0, b) == 0) {
      relay_client = server;  // the client's peer becomes a relay end
      server = b[0];
      relay_server = b[1];
    }
    m_ok = !relay || relay_server >= 0;
  }
  SocketPair(const SocketPair&) = delete;
  SocketPair& operator=(const SocketPair&) = delete;
  ~SocketPair() {
    for (const int fd : {client, server, relay_client, relay_server}) {
      if (fd >= 0) ::close(fd);
    }
  }
  bool ok() const { return m_ok && client >= 0 && server >= 0; }

  // Moves whatever is queued between the relay ends; a no-op without relay.
  void pump() {
    if (relay_server < 0) return;
    move(relay_server, relay_client, true);
    move(relay_client, relay_server, false);
  }

 private:
  void move(int from, int to, bool from_server) {
    std::array<std::uint8_t, 65536> buffer;
    for (;;) {
      const ssize_t n = ::recv(from, buffer.data(), buffer.size(), 0);
      if (n <= 0) return;
      // A full queue at the receiver only delays the handshake; the senders see it as WANT_WRITE.
      if (::send(to, buffer.data(), static_cast<std::size_t>(n), 0) != n) m_ok = false;
      if (from_server) {
        server_octets += n;
        if (m_datagram) ++server_datagrams;
      }
    }
  }
  bool m_datagram;
  bool m_ok = false;
};

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

enum class Step { kDone, kAgain, kFailed };

struct Run {
  bool client_done = false, server_done = false, client_failed = false, server_failed = false;
  double server_cpu = 0;  // seconds inside the server's handshake calls
  int server_calls = 0;
  bool succeeded() const { return client_done && server_done; }
};

// What a server sent in a check handshake.
struct Wire {
  long octets = 0;
  long datagrams = 0;  // DTLS
};

// Steps client, then server, until both are done, one of them failed, or kMaxRounds passed (the
// failed-handshake benchmarks time the server until it gives up). A relaying transport is pumped after
// every step.
template <typename ClientStep, typename ServerStep>
Run drive(ClientStep&& client_step, ServerStep&& server_step, SocketPair* transport = nullptr) {
  Run run;
  for (int round = 0; round < kMaxRounds && !(run.client_done && run.server_done); ++round) {
    if (!run.client_done) {
      const Step s = client_step();
      run.client_done = s == Step::kDone;
      run.client_failed = s == Step::kFailed;
    }
    if (transport) transport->pump();
    if (!run.server_done && !run.server_failed) {
      const double start = thread_cpu_seconds();
      const Step s = server_step();
      run.server_cpu += thread_cpu_seconds() - start;
      ++run.server_calls;
      run.server_done = s == Step::kDone;
      run.server_failed = s == Step::kFailed;
    }
    if (transport) transport->pump();
    if (run.server_failed || run.client_failed) break;
  }
  return run;
}

Step step_ours(tls::Session& session, std::optional<m2msec::Error>* error = nullptr) {
  auto progress = session.handshake();
  if (!progress) {
    if (error) *error = progress.error();
    return Step::kFailed;
  }
  return *progress == tls::Progress::kDone ? Step::kDone : Step::kAgain;
}

Step step_raw(SSL* ssl) {
  ERR_clear_error();  // as the engine does before every call
  const int ret = SSL_do_handshake(ssl);
  if (ret == 1) return Step::kDone;
  switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: return Step::kAgain;
    default: return Step::kFailed;
  }
}

void report(benchmark::State& state, int calls) {
  state.counters["hs_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["server_calls"] = benchmark::Counter(calls, benchmark::Counter::kAvgIterations);
}

// ---- ours ----------------------------------------------------------------------------------------

std::shared_ptr<tls::Context> ours_context(const tls::SecurityProfile& p, tls::Role role, const char* identity,
                                           const Bytes& psk, std::string* why) {
  const Material& m = *g_material;
  tls::Config c;
  c.role = role;
  c.profile = &p;
  if (role == tls::Role::kClient) c.server_name = kServerName;
  if (p.credential == tls::CredentialKind::kPsk) {
    if (role == tls::Role::kServer) {
      auto resolver = std::make_shared<tls::InMemoryPskResolver>(tls::PskIdentityKind::kKpsaId);
      if (auto added = resolver->add(kIdentity, SecretBytes::copy_of(m.psk)); !added) {
        *why = added.error().to_string();
        return nullptr;
      }
      c.psk_resolver = std::move(resolver);
    } else {
      c.psk = tls::ClientPsk{identity, SecretBytes::copy_of(psk)};
    }
  } else {
    const bool server = role == tls::Role::kServer;
    auto own = tls::CertificateCredential::load(m.file(server ? "server.chain.pem" : "client.chain.pem"),
                                                m.file(server ? "server.key" : "client.key"));
    auto trust = m2msec::pki::TrustStore::load(m.file("root.pem"));
    if (!own || !trust) {
      *why = !own ? own.error().to_string() : trust.error().to_string();
      return nullptr;
    }
    c.certificate = std::move(*own);
    c.peer_policy = tls::PeerCertificatePolicy{std::move(*trust), m2msec::pki::Flavour::kCseId, std::nullopt};
  }
  auto context = tls::Context::create(std::move(c));
  if (!context) {
    *why = context.error().to_string();
    return nullptr;
  }
  return *context;
}

struct OursPair {
  SocketPair sockets;
  std::unique_ptr<tls::Session> client, server;
  OursPair(const tls::Context& client_ctx, const tls::Context& server_ctx, bool datagram, bool relay = false)
      : sockets(datagram, relay) {
    if (!sockets.ok()) return;
    if (auto s = client_ctx.session(sockets.client)) client = std::move(*s);
    if (auto s = server_ctx.session(sockets.server)) server = std::move(*s);
  }
  bool ok() const { return client && server; }
  Run run(std::optional<m2msec::Error>* server_error = nullptr) {
    return drive([&] { return step_ours(*client); }, [&] { return step_ours(*server, server_error); }, &sockets);
  }
};

// One handshake, checked: the profile's first suite and version on both ends, equal exported keying
// material of the requested length, a bound peer identity at the server. Empty on success.
std::string check_ours(const tls::SecurityProfile& p, const tls::Context& cc, const tls::Context& sc,
                       Wire* wire = nullptr) {
  OursPair pair(cc, sc, p.transport == tls::Transport::kDtls, true);
  if (!pair.ok()) return "cannot make sessions";
  std::optional<m2msec::Error> error;
  const Run run = pair.run(&error);
  if (wire) *wire = Wire{pair.sockets.server_octets, pair.sockets.server_datagrams};
  if (!run.succeeded()) return "handshake failed" + (error ? ": " + error->to_string() : std::string());
  const std::string_view expected = p.cipher_suites.front();
  if (pair.server->cipher_suite() != expected || pair.client->cipher_suite() != expected) {
    return "negotiated " + pair.server->cipher_suite() + ", expected " + std::string(expected);
  }
  if (pair.server->version() != p.version) return "wrong version";
  auto a = pair.server->export_keying_material(kLabel, kExportLength);
  auto b = pair.client->export_keying_material(kLabel, kExportLength);
  if (!a || !b || a->size() != kExportLength || !m2msec::ct::equal(a->view(), b->view())) return "exporter mismatch";
  if (pair.server->peer().identity.empty()) return "no bound peer identity";
  return {};
}

// The failed handshakes: the client presents an identity the server does not know (with some key), or
// the known identity with a wrong key. The server must fail both, at the same cost.
void failure_ours(benchmark::State& state, const tls::SecurityProfile* p, bool unknown_identity) {
  std::string why;
  auto sc = ours_context(*p, tls::Role::kServer, kIdentity, g_material->psk, &why);
  auto cc = sc ? ours_context(*p, tls::Role::kClient, unknown_identity ? kUnknownIdentity : kIdentity,
                              g_material->wrong_psk, &why)
               : nullptr;
  auto good = sc ? ours_context(*p, tls::Role::kClient, kIdentity, g_material->psk, &why) : nullptr;
  if (!sc || !cc || !good) return state.SkipWithError(("context: " + why).c_str());
  // The server itself works (a correct client succeeds), so the failures below are the credential's.
  if (why = check_ours(*p, *good, *sc); !why.empty()) return state.SkipWithError(("ours: " + why).c_str());
  const bool datagram = p->transport == tls::Transport::kDtls;
  int calls = 0;
  for (auto _ : state) {
    OursPair pair(*cc, *sc, datagram);
    std::optional<m2msec::Error> error;
    const Run run = pair.ok() ? pair.run(&error) : Run{};
    if (!run.server_failed || !error || error->category() != m2msec::Category::kAuth) {
      state.SkipWithError(("the server did not refuse with an authentication failure" +
                           (error ? ": " + error->to_string() : std::string()))
                              .c_str());
      break;
    }
    calls += run.server_calls;
    state.SetIterationTime(run.server_cpu);
  }
  report(state, calls);
}

// ---- raw OpenSSL ---------------------------------------------------------------------------------

struct CtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;

std::string openssl_name(std::string_view iana) {
  if (iana == "TLS_PSK_WITH_AES_128_CBC_SHA256") return "PSK-AES128-CBC-SHA256";
  if (iana == "TLS_PSK_WITH_AES_128_CCM_8") return "PSK-AES128-CCM8";
  if (iana == "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256") return "ECDHE-ECDSA-AES128-SHA256";
  if (iana == "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8") return "ECDHE-ECDSA-AES128-CCM8";
  return std::string(iana);  // TLS 1.3 suites have one name
}

std::string colon_list(std::span<const std::string_view> items, bool openssl_names) {
  std::string out;
  for (const std::string_view item : items) {
    if (!out.empty()) out += ':';
    out += openssl_names ? openssl_name(item) : std::string(item);
  }
  return out;
}

// Per-context data of the raw callbacks.
struct RawData {
  std::string identity;
  Bytes key;
  Bytes cookie_key = Bytes(32);
};
int raw_data_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}
const RawData& raw_data(SSL* ssl) {
  return *static_cast<const RawData*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), raw_data_index()));
}

unsigned int raw_psk_server(SSL* ssl, const char* identity, unsigned char* psk, unsigned int max_len) {
  const RawData& d = raw_data(ssl);
  if (identity == nullptr || d.identity != identity || d.key.size() > max_len) return 0;
  std::memcpy(psk, d.key.data(), d.key.size());
  return static_cast<unsigned int>(d.key.size());
}

unsigned int raw_psk_client(SSL* ssl, const char*, char* identity, unsigned int max_identity_len, unsigned char* psk,
                            unsigned int max_psk_len) {
  const RawData& d = raw_data(ssl);
  if (d.identity.size() + 1 > max_identity_len || d.key.size() > max_psk_len) return 0;
  std::memcpy(identity, d.identity.c_str(), d.identity.size() + 1);
  std::memcpy(psk, d.key.data(), d.key.size());
  return static_cast<unsigned int>(d.key.size());
}

// RFC 6347 4.2.1 cookie: HMAC-SHA-256 of the peer's address and port under a per-context key.
bool raw_cookie(SSL* ssl, unsigned char* out, unsigned int* length) {
  BIO_ADDR* peer = BIO_ADDR_new();
  bool ok = peer != nullptr && BIO_dgram_get_peer(SSL_get_rbio(ssl), peer) > 0;
  unsigned char input[18]{};
  std::size_t address_length = 0;
  ok = ok && BIO_ADDR_rawaddress(peer, nullptr, &address_length) == 1 && address_length <= 16 &&
       BIO_ADDR_rawaddress(peer, input, &address_length) == 1;
  if (ok) {
    const unsigned short port = BIO_ADDR_rawport(peer);
    input[address_length] = static_cast<unsigned char>(port >> 8);
    input[address_length + 1] = static_cast<unsigned char>(port);
    const Bytes& key = raw_data(ssl).cookie_key;
    ok = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), input, address_length + 2, out, length) !=
         nullptr;
  }
  BIO_ADDR_free(peer);
  return ok;
}
int raw_cookie_generate(SSL* ssl, unsigned char* cookie, unsigned int* length) {
  return raw_cookie(ssl, cookie, length) ? 1 : 0;
}
int raw_cookie_verify(SSL* ssl, const unsigned char* cookie, unsigned int length) {
  unsigned char expected[EVP_MAX_MD_SIZE];
  unsigned int expected_length = 0;
  return raw_cookie(ssl, expected, &expected_length) && expected_length == length &&
                 CRYPTO_memcmp(expected, cookie, length) == 0
             ? 1
             : 0;
}

// A raw SSL_CTX for one end of a profile. The client offers only the profile's first suite.
CtxPtr raw_context(const tls::SecurityProfile& p, bool server, std::unique_ptr<RawData>& data, std::string* why) {
  const Material& m = *g_material;
  const bool dtls = p.transport == tls::Transport::kDtls;
  CtxPtr ctx(SSL_CTX_new(dtls ? DTLS_method() : TLS_method()));
  const auto fail = [&](const char* what) {
    *why = what;
    return CtxPtr();
  };
  if (!ctx) return fail("SSL_CTX_new");
  SSL_CTX* c = ctx.get();
  const int version = dtls ? DTLS1_2_VERSION : (p.version == tls::Version::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  if (SSL_CTX_set_min_proto_version(c, version) != 1 || SSL_CTX_set_max_proto_version(c, version) != 1) {
    return fail("version");
  }
  const std::span<const std::string_view> suites = server ? p.cipher_suites : p.cipher_suites.first(1);
  const std::string suite_list = colon_list(suites, true);
  if (p.version == tls::Version::kTls13) {
    if (SSL_CTX_set_ciphersuites(c, suite_list.c_str()) != 1) return fail("ciphersuites");
  } else if (SSL_CTX_set_cipher_list(c, suite_list.c_str()) != 1 || SSL_CTX_set_ciphersuites(c, "") != 1) {
    return fail("cipher list");
  }
  if (!p.groups.empty() && SSL_CTX_set1_groups_list(c, colon_list(p.groups, false).c_str()) != 1) {
    return fail("groups");
  }
  if (SSL_CTX_set1_sigalgs_list(c, colon_list(p.signature_schemes, false).c_str()) != 1) return fail("sigalgs");
  std::uint64_t options = SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET |
                          SSL_OP_CIPHER_SERVER_PREFERENCE;
  if (p.tls13_psk_without_dhe) options |= SSL_OP_ALLOW_NO_DHE_KEX;
  if (dtls && server) options |= SSL_OP_COOKIE_EXCHANGE;
  SSL_CTX_set_options(c, options);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(c, 0);
  SSL_CTX_set_mode(c, SSL_MODE_NO_AUTO_CHAIN);

  data = std::make_unique<RawData>();
  if (SSL_CTX_set_ex_data(c, raw_data_index(), data.get()) != 1) return fail("ex_data");
  if (server && dtls) {
    if (RAND_bytes(data->cookie_key.data(), static_cast<int>(data->cookie_key.size())) != 1) return fail("RAND_bytes");
    SSL_CTX_set_cookie_generate_cb(c, raw_cookie_generate);
    SSL_CTX_set_cookie_verify_cb(c, raw_cookie_verify);
  }
  if (p.credential == tls::CredentialKind::kPsk) {
    data->identity = kIdentity;
    data->key = m.psk;
    if (server) {
      SSL_CTX_set_psk_server_callback(c, raw_psk_server);
    } else {
      SSL_CTX_set_psk_client_callback(c, raw_psk_client);
    }
    return ctx;
  }
  const char* chain = server ? "server.chain.pem" : "client.chain.pem";
  const char* key = server ? "server.key" : "client.key";
  if (SSL_CTX_use_certificate_chain_file(c, m.file(chain).c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(c, m.file(key).c_str(), SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(c) != 1) {
    return fail("own certificate and key");
  }
  // The peer: a plain X509_STORE with the same root; mutual authentication as in the profile.
  FILE* root_file = std::fopen(m.file("root.pem").c_str(), "r");
  X509* root = root_file ? PEM_read_X509(root_file, nullptr, nullptr, nullptr) : nullptr;
  if (root_file) std::fclose(root_file);
  const bool added = root != nullptr && X509_STORE_add_cert(SSL_CTX_get_cert_store(c), root) == 1;
  X509_free(root);
  if (!added) return fail("root into X509_STORE");
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  return ctx;
}

// A BIO_dgram marked connected to the peer of a socketpair end: an unnamed AF_UNIX address (what
// getpeername() gives; the engine's session(fd) does the same). The peer's family sets the MTU overhead
// and so the fragmentation; make_setup() checks that both servers send the same datagrams.
bool attach_dgram(SSL* ssl, int fd) {
  BIO* bio = BIO_new_dgram(fd, BIO_NOCLOSE);
  BIO_ADDR* peer = BIO_ADDR_new();
  const bool ok = bio != nullptr && peer != nullptr && BIO_ADDR_rawmake(peer, AF_UNIX, "", 0, 0) == 1;
  if (ok) {
    SSL_set_bio(ssl, bio, bio);
    BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, peer);
  } else {
    BIO_free(bio);
  }
  BIO_ADDR_free(peer);
  return ok;
}

struct RawPair {
  SocketPair sockets;
  SslPtr client, server;
  RawPair(SSL_CTX* client_ctx, SSL_CTX* server_ctx, bool datagram, bool relay = false) : sockets(datagram, relay) {
    if (!sockets.ok()) return;
    SslPtr c(SSL_new(client_ctx)), s(SSL_new(server_ctx));
    if (!c || !s) return;
    const bool attached = datagram
                              ? attach_dgram(c.get(), sockets.client) && attach_dgram(s.get(), sockets.server)
                              : SSL_set_fd(c.get(), sockets.client) == 1 && SSL_set_fd(s.get(), sockets.server) == 1;
    if (!attached) return;
    SSL_set_connect_state(c.get());
    SSL_set_accept_state(s.get());
    // SNI, for the same ClientHello as ours (SSL_set_tlsext_host_name without its C cast).
    std::string name(kServerName);
    if (SSL_ctrl(c.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, name.data()) != 1) return;
    client = std::move(c);
    server = std::move(s);
  }
  bool ok() const { return client && server; }
  Run run() {
    return drive([&] { return step_raw(client.get()); }, [&] { return step_raw(server.get()); }, &sockets);
  }
};

std::string export_of(SSL* ssl, Bytes& out) {
  out.assign(kExportLength, 0);
  if (SSL_export_keying_material(ssl, out.data(), out.size(), kLabel.data(), kLabel.size(), nullptr, 0, 0) != 1) {
    return "SSL_export_keying_material failed";
  }
  return {};
}

std::string check_raw(const tls::SecurityProfile& p, SSL_CTX* cc, SSL_CTX* sc, Wire* wire) {
  RawPair pair(cc, sc, p.transport == tls::Transport::kDtls, true);
  if (!pair.ok()) return "cannot make SSLs";
  const Run run = pair.run();
  *wire = Wire{pair.sockets.server_octets, pair.sockets.server_datagrams};
  if (!run.succeeded()) {
    char buffer[256] = "no OpenSSL error";
    if (const unsigned long e = ERR_peek_last_error()) ERR_error_string_n(e, buffer, sizeof buffer);
    return std::string("handshake failed: ") + buffer;
  }
  const std::string expected(p.cipher_suites.front());
  for (SSL* s : {pair.client.get(), pair.server.get()}) {
    const SSL_CIPHER* cipher = SSL_get_current_cipher(s);
    const char* name = cipher ? SSL_CIPHER_standard_name(cipher) : nullptr;
    if (name == nullptr || expected != name) {
      return "negotiated " + std::string(name ? name : "?") + ", expected " + expected;
    }
    const bool v13 = SSL_version(s) == TLS1_3_VERSION;
    if (v13 != (p.version == tls::Version::kTls13)) return "wrong version";
    if (!v13 && SSL_get_extms_support(s) != 1) return "no extended master secret";
  }
  Bytes a, b;
  if (auto e = export_of(pair.server.get(), a); !e.empty()) return e;
  if (auto e = export_of(pair.client.get(), b); !e.empty()) return e;
  if (a != b || a.size() != kExportLength) return "exporter mismatch";
  if (p.credential == tls::CredentialKind::kCertificate) {
    for (SSL* s : {pair.client.get(), pair.server.get()}) {
      X509* peer = SSL_get1_peer_certificate(s);
      const bool verified = peer != nullptr && SSL_get_verify_result(s) == X509_V_OK;
      X509_free(peer);
      if (!verified) return "peer certificate not verified";
    }
  }
  return {};
}

// ---- the pairs ---------------------------------------------------------------------------------

// Both sides of a profile, each checked with one handshake before anything is timed. The servers must
// also have sent the same: the same octets (up to the length variation of one DER ECDSA signature) and
// on DTLS the same number of datagrams, so the same messages, the same (EC)DHE or none, the same chain
// and the same fragmentation.
struct Setup {
  std::shared_ptr<tls::Context> ours_client, ours_server;
  std::unique_ptr<RawData> raw_client_data, raw_server_data;
  CtxPtr raw_client, raw_server;
  Wire ours_wire, raw_wire;
};

std::string make_setup(const tls::SecurityProfile& p, Setup& s) {
  std::string why;
  s.ours_server = ours_context(p, tls::Role::kServer, kIdentity, g_material->psk, &why);
  if (s.ours_server) s.ours_client = ours_context(p, tls::Role::kClient, kIdentity, g_material->psk, &why);
  if (!s.ours_client) return "context: " + why;
  s.raw_server = raw_context(p, true, s.raw_server_data, &why);
  if (s.raw_server) s.raw_client = raw_context(p, false, s.raw_client_data, &why);
  if (!s.raw_client) return "raw context: " + why;
  if (why = check_ours(p, *s.ours_client, *s.ours_server, &s.ours_wire); !why.empty()) return "ours: " + why;
  if (why = check_raw(p, s.raw_client.get(), s.raw_server.get(), &s.raw_wire); !why.empty()) return "raw: " + why;
  // A DER ECDSA P-256 signature is usually 70 to 72 octets (r and s take 32 or 33), but an r or s with
  // leading zero octets makes it shorter (about 1 in 128 signatures is 69 or less): allow 4 octets; on
  // DTLS that can also move a fragment boundary of the flight (one more or less record: 13 + 12 header
  // octets).
  const bool cert = p.credential == tls::CredentialKind::kCertificate;
  const long octet_slack = !cert ? 0 : p.transport == tls::Transport::kDtls ? 4 + 2 * 25 : 4;
  if (std::abs(s.ours_wire.octets - s.raw_wire.octets) > octet_slack ||
      std::abs(s.ours_wire.datagrams - s.raw_wire.datagrams) > (cert ? 1 : 0)) {
    return "the servers sent different handshakes: ours " + std::to_string(s.ours_wire.octets) + " octets in " +
           std::to_string(s.ours_wire.datagrams) + " datagrams, raw " + std::to_string(s.raw_wire.octets) + " in " +
           std::to_string(s.raw_wire.datagrams);
  }
  return {};
}

void handshake_ours(benchmark::State& state, const tls::SecurityProfile* p) {
  Setup setup;
  if (const std::string why = make_setup(*p, setup); !why.empty()) return state.SkipWithError(why.c_str());
  const bool datagram = p->transport == tls::Transport::kDtls;
  int calls = 0;
  for (auto _ : state) {
    OursPair pair(*setup.ours_client, *setup.ours_server, datagram);
    const Run run = pair.ok() ? pair.run() : Run{};
    if (!run.succeeded()) {
      state.SkipWithError("ours: a handshake failed");
      break;
    }
    calls += run.server_calls;
    state.SetIterationTime(run.server_cpu);
  }
  report(state, calls);
  state.counters["server_octets"] = static_cast<double>(setup.ours_wire.octets);
}

void handshake_raw(benchmark::State& state, const tls::SecurityProfile* p) {
  Setup setup;
  if (const std::string why = make_setup(*p, setup); !why.empty()) return state.SkipWithError(why.c_str());
  const bool datagram = p->transport == tls::Transport::kDtls;
  int calls = 0;
  for (auto _ : state) {
    RawPair pair(setup.raw_client.get(), setup.raw_server.get(), datagram);
    const Run run = pair.ok() ? pair.run() : Run{};
    if (!run.succeeded()) {
      state.SkipWithError("raw: a handshake failed");
      break;
    }
    calls += run.server_calls;
    state.SetIterationTime(run.server_cpu);
  }
  report(state, calls);
  state.counters["server_octets"] = static_cast<double>(setup.raw_wire.octets);
}

bool uses_openssl(const tls::SecurityProfile& p) {
  return p.credential == tls::CredentialKind::kPsk || p.credential == tls::CredentialKind::kCertificate;
}

void register_all() {
  for (const tls::SecurityProfile& p : tls::all_profiles()) {
    if (!uses_openssl(p)) continue;  // raw public keys are the GnuTLS backend's
    const std::string base = "tls/" + std::string(p.name);
    benchmark::RegisterBenchmark((base + "/ours").c_str(), handshake_ours, &p)->UseManualTime();
    benchmark::RegisterBenchmark((base + "/raw").c_str(), handshake_raw, &p)->UseManualTime();
  }
  for (const tls::SecurityProfile& p : tls::all_profiles()) {
    // DTLS is left out: a record that fails its MAC is dropped silently (RFC 6347 4.1.2.7), so a DTLS
    // server never fails a wrong-key handshake, it waits for a retransmission.
    if (p.credential != tls::CredentialKind::kPsk || p.transport != tls::Transport::kTls) continue;
    const std::string base = "tls-fail/" + std::string(p.name);
    benchmark::RegisterBenchmark((base + "/unknown-identity").c_str(), failure_ours, &p, true)->UseManualTime();
    benchmark::RegisterBenchmark((base + "/wrong-key").c_str(), failure_ours, &p, false)->UseManualTime();
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (!make_material()) {
    std::fprintf(stderr, "bench_tls: cannot make the test PKI and PSKs\n");
    return 1;
  }
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ignored;
  std::filesystem::remove_all(g_material->dir, ignored);
  return 0;
}

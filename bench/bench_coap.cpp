// The oneM2M CoAP binding (TS-0008) over DTLS 1.2 PSK against m2msecd --roles cse, next to the same requests
// over HTTPS keep-alive on the same daemon and next to a raw OpenSSL DTLS server and client, all in one run.
// scripts/bench turns the results into cost ratios (time per operation): CoAPS/HTTPS and m2msecd/raw.
//
// Names (wall-clock time per operation, UseRealTime: the server is another process or thread; items_per_second):
//   coap/retrieve/coaps       a RETRIEVE of the <CSEBase> by the admin originator over one DTLS association kept
//       open (coap::ClientConnection, coap::send_primitive; Confirmable request, piggybacked response) to
//       m2msecd's --coaps-listen (ts0003-dtls12-psk: TLS_PSK_WITH_AES_128_CCM_8). Each response is checked
//       (2000, the request's RI, an m2m:cb).
//   coap/retrieve/https       the same RETRIEVE over one HTTPS keep-alive connection (http::ClientConnection,
//       http::send_primitive) to m2msecd's --listen (ts0003-tls12-psk: TLS_PSK_WITH_AES_128_CBC_SHA256).
//   coap/retrieve/raw-dtls    the baseline of the first: a raw OpenSSL DTLS 1.2 client sends the octets of the
//       CoAP request datagram to a raw OpenSSL DTLS server in this process, which answers every datagram with
//       as many octets as m2msecd's CoAP response had and does no other work. Same suite, same PSK.
//   coap/handshake/dtls       our DTLS client: UDP socket, full handshake with m2msecd's coaps listener (the
//       stateless cookie exchange included), close_notify, close.
//   coap/handshake/dtls-raw-client  the same with the raw OpenSSL DTLS client (so m2msecd's share alone can be
//       compared with the raw server's).
//   coap/handshake/tls        our TLS client: TCP connect, full TLS 1.2 PSK handshake with m2msecd's https
//       listener, close_notify, close.
//   coap/handshake/raw-dtls   the baseline: the raw DTLS client against the raw DTLS server.
//
// The raw DTLS server (test-only code, written on libssl directly): a UDP socket on 127.0.0.1; DTLSv1_listen
// answers a ClientHello without a valid cookie with a HelloVerifyRequest (RFC 6347 4.2.1, an HMAC-SHA-256
// cookie of the peer's address and port) and keeps no state; a peer with a valid cookie gets a connected UDP
// socket on the same port (SO_REUSEPORT) and a thread of its own, as m2msecd's coap::Server does. The same
// options as the ts0003-dtls12-psk profile: DTLS 1.2 only, the profile's suites in its order with server
// preference, no tickets, no session cache, no renegotiation, no compression; one identity and its key (a
// plain callback). It does not do what m2msecd adds: SNI checks, the extended-master-secret check, the
// PSK store lookup, CoAP message layer, the oneM2M binding and the CSE.
//
// Set-up (once per process, on the main thread before the benchmarks run; its failure is each benchmark's
// error, SkipWithError): a fresh
// directory under /tmp with a PSK file holding a random key (RAND_bytes) for the admin credential; m2msecd
// --roles cse --data-dir (SQLite) --listen 127.0.0.1:0 --coaps-listen 127.0.0.1:0. Before measuring: the
// RETRIEVE is 2000 with the <CSEBase> over both bindings, our clients and the raw one negotiate DTLS 1.2
// TLS_PSK_WITH_AES_128_CCM_8 (TLS 1.2 TLS_PSK_WITH_AES_128_CBC_SHA256 over HTTPS) with extended master secret,
// and the raw server's answer arrives whole. m2msecd is stopped and the directory removed at exit.
//
// Duration: --benchmark_min_time (scripts/bench passes 0.2 with 5 repetitions); 1 s per row when not given.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
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
#include "m2msec/coap/client.h"
#include "m2msec/coap/message.h"
#include "m2msec/coap/onem2m.h"
#include "m2msec/core/encoding.h"
#include "m2msec/core/secret.h"
#include "m2msec/http/client.h"
#include "m2msec/http/onem2m.h"
#include "m2msec/json/json.h"
#include "m2msec/onem2m/primitive.h"
#include "m2msec/tls/net.h"
#include "m2msec/tls/session.h"

#ifndef M2MSEC_BIN_DIR
#error "M2MSEC_BIN_DIR must name the directory of m2msecd"
#endif

namespace {

namespace coap = m2msec::coap;
namespace fs = std::filesystem;
namespace http = m2msec::http;
namespace json = m2msec::json;
namespace onem2m = m2msec::onem2m;
namespace tls = m2msec::tls;
using m2msec::Bytes;
using m2msec::Rsc;
using m2msec::SecretBytes;

constexpr const char* kServerName = "localhost";  // SNI (the raw server ignores it)
constexpr const char* kAdminPsk = "bench-admin@localhost";
constexpr const char* kAdmin = "CAdmin";  // m2msecd's default admin originator
constexpr const char* kCseBase = "cse-in";  // m2msecd's default <CSEBase> resourceName
constexpr const char* kDtlsSuite = "TLS_PSK_WITH_AES_128_CCM_8";
constexpr const char* kTlsSuite = "TLS_PSK_WITH_AES_128_CBC_SHA256";
// The raw server's suites: those of ts0003-dtls12-psk, in its order (OpenSSL names).
constexpr const char* kRawServerSuites = "PSK-AES128-CCM8:PSK-AES128-CBC-SHA256";
// The raw client offers only the suite our client negotiates.
constexpr const char* kRawClientSuite = "PSK-AES128-CCM8";
constexpr std::size_t kDatagramLimit = 65536;

SecretBytes random_key() {
  SecretBytes key(32);
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) std::abort();
  return key;
}

std::string openssl_error(const char* what) {
  char text[256] = "no OpenSSL error";
  if (const unsigned long e = ERR_get_error(); e != 0) ERR_error_string_n(e, text, sizeof text);
  ERR_clear_error();
  return std::string(what) + ": " + text;
}

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// ---- raw OpenSSL DTLS: the callbacks of both ends -------------------------------------------------------

struct CtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;

// What the callbacks of one SSL_CTX know: the one identity and its key, the cookie key (server).
struct RawCredentials {
  std::string identity;
  SecretBytes key;
  Bytes cookie_key = Bytes(32);
};

int credentials_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

const RawCredentials& credentials_of(SSL* ssl) {
  return *static_cast<const RawCredentials*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), credentials_index()));
}

// Server: the one identity it knows; any other fails the handshake.
unsigned int raw_server_psk(SSL* ssl, const char* identity, unsigned char* psk, unsigned int max_len) {
  const RawCredentials& c = credentials_of(ssl);
  if (identity == nullptr || c.identity != identity || c.key.size() > max_len) return 0;
  std::memcpy(psk, c.key.data(), c.key.size());
  return static_cast<unsigned int>(c.key.size());
}

unsigned int raw_client_psk(SSL* ssl, const char*, char* identity, unsigned int max_identity, unsigned char* psk,
                            unsigned int max_psk) {
  const RawCredentials& c = credentials_of(ssl);
  if (c.identity.size() + 1 > max_identity || c.key.size() > max_psk) return 0;
  std::memcpy(identity, c.identity.c_str(), c.identity.size() + 1);
  std::memcpy(psk, c.key.data(), c.key.size());
  return static_cast<unsigned int>(c.key.size());
}

// RFC 6347 4.2.1: a cookie the server can check without state, here HMAC-SHA-256 over the client's IPv4 address
// and port under a key made at start.
bool cookie_of(SSL* ssl, unsigned char* out, unsigned int* length) {
  BIO_ADDR* peer = BIO_ADDR_new();
  unsigned char input[6]{};
  std::size_t address_length = 0;
  bool ok = peer != nullptr && BIO_dgram_get_peer(SSL_get_rbio(ssl), peer) > 0 &&
            BIO_ADDR_rawaddress(peer, nullptr, &address_length) == 1 && address_length == 4 &&
            BIO_ADDR_rawaddress(peer, input, &address_length) == 1;
  if (ok) {
    const unsigned short port = BIO_ADDR_rawport(peer);  // network order, as it is
    std::memcpy(input + 4, &port, 2);
    const Bytes& key = credentials_of(ssl).cookie_key;
    ok = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), input, sizeof input, out, length) != nullptr;
  }
  BIO_ADDR_free(peer);
  return ok;
}

int generate_cookie(SSL* ssl, unsigned char* cookie, unsigned int* length) { return cookie_of(ssl, cookie, length) ? 1 : 0; }

int verify_cookie(SSL* ssl, const unsigned char* cookie, unsigned int length) {
  unsigned char expected[EVP_MAX_MD_SIZE];
  unsigned int expected_length = 0;
  return cookie_of(ssl, expected, &expected_length) && expected_length == length &&
                 CRYPTO_memcmp(expected, cookie, length) == 0
             ? 1
             : 0;
}

// A DTLS 1.2 context with the options of the ts0003-dtls12-psk profile; `credentials` must outlive it.
CtxPtr raw_dtls_context(bool server, RawCredentials& credentials, std::string* why) {
  CtxPtr ctx(SSL_CTX_new(DTLS_method()));
  SSL_CTX* c = ctx.get();
  if (c == nullptr || SSL_CTX_set_min_proto_version(c, DTLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(c, DTLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(c, server ? kRawServerSuites : kRawClientSuite) != 1 ||
      SSL_CTX_set_ex_data(c, credentials_index(), &credentials) != 1) {
    *why = openssl_error("raw DTLS context");
    return nullptr;
  }
  std::uint64_t options = SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET;
  if (server) options |= SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_COOKIE_EXCHANGE;
  SSL_CTX_set_options(c, options);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  if (server) {
    if (RAND_bytes(credentials.cookie_key.data(), static_cast<int>(credentials.cookie_key.size())) != 1) {
      *why = "RAND_bytes";
      return nullptr;
    }
    SSL_CTX_set_cookie_generate_cb(c, generate_cookie);
    SSL_CTX_set_cookie_verify_cb(c, verify_cookie);
    SSL_CTX_set_psk_server_callback(c, raw_server_psk);
  } else {
    SSL_CTX_set_psk_client_callback(c, raw_client_psk);
  }
  return ctx;
}

// A UDP socket on 127.0.0.1:port that other sockets may share (SO_REUSEPORT); -1 and *why on failure.
int shared_udp_socket(std::uint16_t port, std::string* why) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  const sockaddr_in at = loopback(port);
  if (fd < 0 || ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
      ::bind(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0) {
    *why = errno_text("raw DTLS server socket");
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

// ---- the raw DTLS server ------------------------------------------------------------------------------------

class RawDtlsServer {
 public:
  // Listens on 127.0.0.1, any free port; answers every datagram of an association with `reply`.
  static std::unique_ptr<RawDtlsServer> start(std::string identity, SecretBytes key, Bytes reply, std::string* why) {
    std::unique_ptr<RawDtlsServer> s(new RawDtlsServer(std::move(reply)));
    s->m_credentials.identity = std::move(identity);
    s->m_credentials.key = std::move(key);
    s->m_ctx = raw_dtls_context(true, s->m_credentials, why);
    if (!s->m_ctx) return nullptr;
    s->m_fd = shared_udp_socket(0, why);
    if (s->m_fd < 0) return nullptr;
    sockaddr_in bound{};
    socklen_t length = sizeof bound;
    // Non-blocking: DTLSv1_listen reads only what poll() saw waiting.
    if (::getsockname(s->m_fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0 || ::pipe2(s->m_wake, O_CLOEXEC) != 0 ||
        ::fcntl(s->m_fd, F_SETFL, ::fcntl(s->m_fd, F_GETFL) | O_NONBLOCK) != 0) {
      *why = errno_text("raw DTLS server");
      return nullptr;
    }
    s->m_port = ntohs(bound.sin_port);
    s->m_listener = std::thread([server = s.get()] { server->listen(); });
    return s;
  }
  RawDtlsServer(const RawDtlsServer&) = delete;
  RawDtlsServer& operator=(const RawDtlsServer&) = delete;
  ~RawDtlsServer() {
    stop();
    for (const int fd : {m_fd, m_wake[0], m_wake[1]}) {
      if (fd >= 0) ::close(fd);
    }
  }

  std::uint16_t port() const { return m_port; }
  // Associations whose handshake failed (a healthy run has none).
  std::uint64_t failed_handshakes() const { return m_failed; }

  // Ends every association (a blocked read returns at once) and joins the threads.
  void stop() {
    if (!m_listener.joinable()) return;
    m_stopping = true;
    const char byte = 0;
    if (::write(m_wake[1], &byte, 1) != 1) std::abort();
    m_listener.join();
    {
      std::lock_guard lock(m_mutex);
      for (Association& a : m_associations) {
        if (!a.done) ::shutdown(a.fd, SHUT_RDWR);
      }
    }
    for (Association& a : m_associations) a.thread.join();
    m_associations.clear();
  }

 private:
  struct Association {
    int fd = -1;
    SSL* ssl = nullptr;
    std::thread thread;
    bool done = false;  // under m_mutex
  };

  explicit RawDtlsServer(Bytes reply) : m_reply(std::move(reply)) {}

  // The listening socket: DTLSv1_listen until a ClientHello carries a valid cookie, then that peer's
  // association on a connected socket of its own and a thread.
  void listen() {
    SSL* ssl = nullptr;
    BIO_ADDR* peer = BIO_ADDR_new();
    while (!m_stopping) {
      pollfd fds[2] = {{m_wake[0], POLLIN, 0}, {m_fd, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
      if (m_stopping) break;
      if ((fds[1].revents & POLLIN) == 0) continue;
      reap();
      if (ssl == nullptr) {
        ssl = SSL_new(m_ctx.get());
        BIO* bio = BIO_new_dgram(m_fd, BIO_NOCLOSE);
        if (ssl == nullptr || bio == nullptr) break;
        SSL_set_bio(ssl, bio, bio);
      }
      // 0: the datagram was a ClientHello without a valid cookie (answered, forgotten) or not a ClientHello.
      ERR_clear_error();
      const int listened = DTLSv1_listen(ssl, peer);
      if (listened < 0) {
        SSL_free(ssl);
        ssl = nullptr;
        continue;
      }
      if (listened == 0) continue;
      std::string why;
      const int fd = shared_udp_socket(m_port, &why);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      std::size_t address_length = sizeof to.sin_addr;
      if (fd < 0 || BIO_ADDR_rawaddress(peer, &to.sin_addr, &address_length) != 1 || address_length != 4 ||
          (to.sin_port = BIO_ADDR_rawport(peer), ::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to)) != 0) {
        if (fd >= 0) ::close(fd);
        SSL_free(ssl);
        ssl = nullptr;
        ++m_failed;
        continue;
      }
      BIO* bio = SSL_get_rbio(ssl);
      BIO_set_fd(bio, fd, BIO_NOCLOSE);
      BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, peer);
      std::lock_guard lock(m_mutex);
      Association& a = m_associations.emplace_back();
      a.fd = fd;
      a.ssl = ssl;
      a.thread = std::thread([this, &a] { serve(a); });
      ssl = nullptr;
    }
    SSL_free(ssl);
    BIO_ADDR_free(peer);
  }

  // The rest of the handshake, then each datagram answered with the reply, until close_notify or an error.
  void serve(Association& a) {
    if (SSL_accept(a.ssl) == 1) {
      std::vector<unsigned char> buffer(kDatagramLimit);
      for (;;) {
        const int n = SSL_read(a.ssl, buffer.data(), static_cast<int>(buffer.size()));
        if (n <= 0) {
          if (SSL_get_error(a.ssl, n) == SSL_ERROR_ZERO_RETURN) SSL_shutdown(a.ssl);
          break;
        }
        if (SSL_write(a.ssl, m_reply.data(), static_cast<int>(m_reply.size())) <= 0) break;
      }
    } else {
      ++m_failed;
    }
    ERR_clear_error();
    SSL_free(a.ssl);
    std::lock_guard lock(m_mutex);
    ::close(a.fd);
    a.done = true;
  }

  void reap() {
    std::lock_guard lock(m_mutex);
    m_associations.remove_if([](Association& a) {
      if (!a.done) return false;
      a.thread.join();
      return true;
    });
  }

  Bytes m_reply;
  RawCredentials m_credentials;
  CtxPtr m_ctx;
  int m_fd = -1;
  int m_wake[2] = {-1, -1};
  std::uint16_t m_port = 0;
  std::atomic<bool> m_stopping{false};
  std::atomic<std::uint64_t> m_failed{0};
  std::thread m_listener;
  std::mutex m_mutex;
  std::list<Association> m_associations;  // a list: an Association does not move while its thread runs
};

// ---- the raw DTLS client ------------------------------------------------------------------------------------

class RawDtlsClient {
 public:
  static std::unique_ptr<RawDtlsClient> make(std::string identity, const SecretBytes& key, std::string* why) {
    std::unique_ptr<RawDtlsClient> c(new RawDtlsClient);
    c->m_credentials.identity = std::move(identity);
    c->m_credentials.key = key.clone();
    c->m_ctx = raw_dtls_context(false, c->m_credentials, why);
    return c->m_ctx ? std::move(c) : nullptr;
  }

  // One association: a connected UDP socket, the handshake (with SNI, as ours sends it).
  class Association {
   public:
    ~Association() {
      if (m_ssl != nullptr) {
        SSL_shutdown(m_ssl);  // close_notify; the peer's is not awaited
        SSL_free(m_ssl);
      }
      if (m_fd >= 0) ::close(m_fd);
    }
    Association(const Association&) = delete;
    Association& operator=(const Association&) = delete;

    // With check: DTLS 1.2, the CCM_8 suite, extended master secret.
    std::string connect(bool check) {
      ERR_clear_error();
      if (SSL_connect(m_ssl) != 1) return openssl_error("raw DTLS handshake");
      if (!check) return {};
      const SSL_CIPHER* cipher = SSL_get_current_cipher(m_ssl);
      const char* suite = cipher != nullptr ? SSL_CIPHER_standard_name(cipher) : "?";
      if (SSL_version(m_ssl) != DTLS1_2_VERSION || std::strcmp(suite, kDtlsSuite) != 0 || SSL_get_extms_support(m_ssl) != 1) {
        return std::string("the raw DTLS client negotiated ") + SSL_get_version(m_ssl) + " " + suite +
               (SSL_get_extms_support(m_ssl) == 1 ? " with" : " without") + " extended master secret";
      }
      return {};
    }

    // Sends `datagram` and reads one answer of `expected` octets.
    std::string exchange(const Bytes& datagram, std::size_t expected) {
      if (SSL_write(m_ssl, datagram.data(), static_cast<int>(datagram.size())) != static_cast<int>(datagram.size())) {
        return openssl_error("raw DTLS write");
      }
      const int n = SSL_read(m_ssl, m_buffer.data(), static_cast<int>(m_buffer.size()));
      if (n <= 0) return openssl_error("raw DTLS read");
      if (static_cast<std::size_t>(n) != expected) {
        return "the raw DTLS server answered " + std::to_string(n) + " octets, not " + std::to_string(expected);
      }
      return {};
    }

   private:
    friend class RawDtlsClient;
    Association() = default;
    int m_fd = -1;
    SSL* m_ssl = nullptr;
    std::vector<unsigned char> m_buffer = std::vector<unsigned char>(kDatagramLimit);
  };

  // The socket and SSL of an association to 127.0.0.1:port, before its handshake.
  std::unique_ptr<Association> open(std::uint16_t port, std::string* why) const {
    std::unique_ptr<Association> a(new Association);
    a->m_fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const sockaddr_in to = loopback(port);
    if (a->m_fd < 0 || ::connect(a->m_fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
      *why = errno_text("raw DTLS client socket");
      return nullptr;
    }
    a->m_ssl = SSL_new(m_ctx.get());
    BIO* bio = BIO_new_dgram(a->m_fd, BIO_NOCLOSE);
    BIO_ADDR* peer = BIO_ADDR_new();
    const bool ok = a->m_ssl != nullptr && bio != nullptr && peer != nullptr &&
                    BIO_ADDR_rawmake(peer, AF_INET, &to.sin_addr, sizeof to.sin_addr, to.sin_port) == 1;
    if (ok) {
      BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, peer);
      SSL_set_bio(a->m_ssl, bio, bio);
    } else {
      BIO_free(bio);
    }
    BIO_ADDR_free(peer);
    if (!ok || SSL_ctrl(a->m_ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                        const_cast<char*>(kServerName)) != 1) {
      *why = openssl_error("raw DTLS client SSL");
      return nullptr;
    }
    return a;
  }

 private:
  RawDtlsClient() = default;
  RawCredentials m_credentials;
  CtxPtr m_ctx;
};

// ---- m2msecd and the fixture --------------------------------------------------------------------------------

struct Fixture {
  m2msec::bench::ScratchDir dir;
  m2msec::bench::SetUpOnce set_up;  // the rest is usable once it is ready
  m2msec::bench::Daemon m2msecd;
  std::uint16_t https_port = 0;
  std::uint16_t coaps_port = 0;
  std::shared_ptr<const tls::Context> tls_client;   // ts0003-tls12-psk, the admin's PSK
  std::shared_ptr<const tls::Context> dtls_client;  // ts0003-dtls12-psk, the same PSK
  std::unique_ptr<RawDtlsClient> raw_client;
  std::unique_ptr<RawDtlsServer> raw_server;
  Bytes request_datagram;         // the CoAP RETRIEVE as our client sends it (the raw client sends these octets)
  std::size_t reply_octets = 0;   // the size of m2msecd's CoAP response datagram (the raw server's answer)
};
Fixture* g_fixture = nullptr;

std::shared_ptr<const tls::Context> client_context(const char* profile, const SecretBytes& key, std::string* why) {
  tls::Config config;
  config.role = tls::Role::kClient;
  config.profile = tls::find_profile(profile);
  config.server_name = kServerName;
  config.psk = tls::ClientPsk{kAdminPsk, key.clone()};
  auto made = tls::Context::create(std::move(config));
  if (!made) {
    *why = std::string(profile) + ": " + made.error().to_string();
    return nullptr;
  }
  return std::move(*made);
}

onem2m::Request retrieve_cse_base(std::string rqi) {
  onem2m::Request r;
  r.op = onem2m::Operation::kRetrieve;
  r.to = kCseBase;
  r.fr = kAdmin;
  r.rqi = std::move(rqi);
  return r;
}

// The check of every benchmarked response, the same over both bindings: 2000 with an m2m:cb.
std::string check_response(const onem2m::Response& response, const std::string& rqi) {
  if (response.rsc != Rsc::kOk) {
    return rqi + ": " + std::to_string(static_cast<unsigned>(response.rsc)) + " instead of 2000" +
           (response.pc ? " " + json::serialize(*response.pc) : "");
  }
  if (response.rqi != rqi) return rqi + ": the response carries RI " + response.rqi;
  if (!response.pc || response.pc->find("m2m:cb") == nullptr) return rqi + ": the response is not the <CSEBase>";
  return {};
}

std::unique_ptr<http::ClientConnection> https_connect(std::string* why) {
  auto url = http::Url::parse("https://127.0.0.1:" + std::to_string(g_fixture->https_port));
  if (!url) {
    *why = url.error().to_string();
    return nullptr;
  }
  auto connection = http::ClientConnection::open(*url, g_fixture->tls_client);
  if (!connection) {
    *why = "HTTPS connect: " + connection.error().to_string();
    return nullptr;
  }
  return std::move(*connection);
}

std::optional<coap::ClientConnection> coaps_connect(std::string* why) {
  auto connection = coap::ClientConnection::open(tls::net::Endpoint{"127.0.0.1", g_fixture->coaps_port},
                                                 g_fixture->dtls_client);
  if (!connection) {
    *why = "CoAPS connect: " + connection.error().to_string();
    return std::nullopt;
  }
  return std::move(*connection);
}

std::string start_m2msecd(Fixture& f, const fs::path& psk_file) {
  const std::vector<std::string> argv{std::string(M2MSEC_BIN_DIR) + "/m2msecd",
                                      "--roles", "cse",
                                      "--listen", "127.0.0.1:0",
                                      "--coaps-listen", "127.0.0.1:0",
                                      "--psk-file", psk_file.string(),
                                      "--data-dir", (f.dir.path / "data").string(),
                                      "--admin-credential", kAdminPsk};
  f.m2msecd = {"m2msecd", f.dir.path / "m2msecd.out", f.dir.path / "m2msecd.err"};
  static const std::regex https("^listening role=cse url=https://127\\.0\\.0\\.1:(\\d+)\\b.*$");
  static const std::regex coaps("^listening role=\\S+ url=coaps://127\\.0\\.0\\.1:(\\d+)\\b.*$");
  return f.m2msecd.start(
      argv,
      [&f](const std::string& out) {
        f.https_port = static_cast<std::uint16_t>(m2msec::bench::listening_port(out, https));
        f.coaps_port = static_cast<std::uint16_t>(m2msec::bench::listening_port(out, coaps));
        return f.https_port != 0 && f.coaps_port != 0;
      },
      "its https and coaps cse listeners");
}

// Both bindings answer the RETRIEVE, over the expected version and suite; the CoAP request's octets and the
// size of its response for the raw baseline.
std::string check_m2msecd(Fixture& f) {
  std::string why;
  const auto https = https_connect(&why);
  if (!https) return why;
  const tls::Session& tls_session = *https->session();
  if (tls_session.version() != tls::Version::kTls12 || tls_session.cipher_suite() != kTlsSuite) {
    return "HTTPS negotiated " + tls_session.cipher_suite() + ", not TLS 1.2 " + kTlsSuite;
  }
  const onem2m::Request get = retrieve_cse_base("check-https");
  auto over_https = http::send_primitive(*https, get);
  if (!over_https) return "HTTPS " + get.rqi + ": " + over_https.error().to_string();
  if (why = check_response(*over_https, get.rqi); !why.empty()) return "HTTPS " + why;

  auto coaps = coaps_connect(&why);
  if (!coaps) return why;
  const tls::Session* dtls_session = coaps->session();
  if (dtls_session == nullptr || dtls_session->version() != tls::Version::kTls12 ||
      dtls_session->cipher_suite() != kDtlsSuite) {
    return "CoAPS negotiated " + (dtls_session ? dtls_session->cipher_suite() : std::string("no DTLS")) +
           ", not DTLS 1.2 " + kDtlsSuite;
  }
  const onem2m::Request coap_get = retrieve_cse_base("check-coaps");
  auto over_coaps = coap::send_primitive(*coaps, coap_get);
  if (!over_coaps) return "CoAPS " + coap_get.rqi + ": " + over_coaps.error().to_string();
  if (why = check_response(*over_coaps, coap_get.rqi); !why.empty()) return "CoAPS " + why;

  // The octets of the same exchange at the message layer, for the raw baseline: the request as the client
  // sends it (a Confirmable with an 8-octet token), the response as it comes back (piggybacked on the ACK).
  auto request = coap::to_coap_request(retrieve_cse_base("b0-1"));
  if (!request) return "to_coap_request: " + request.error().to_string();
  request->type = coap::Type::kConfirmable;
  request->message_id = 1;
  request->token = Bytes(8, 0x5a);
  auto request_octets = coap::serialize(*request);
  auto response = coaps->request(*request);
  if (!request_octets || !response) return "the CoAP exchange for the raw baseline failed";
  //= TS-0008 V3.9.0 §6.2.4 (Table 6.2.4-1)
  //# A RETRIEVE answered 2000 (OK) goes back as 2.05 Content.
  if (response->code != coap::code(2, 5)) return "the CoAP answer to a RETRIEVE is not 2.05";
  response->type = coap::Type::kAcknowledgement;
  response->token = Bytes(8, 0x5a);
  auto response_octets = coap::serialize(*response);
  if (!response_octets) return "cannot serialize the CoAP response";
  f.request_datagram = std::move(*request_octets);
  f.reply_octets = response_octets->size();
  return {};
}

std::string set_up(Fixture& f) {
  if (!f.dir.make("bench-coap")) return "cannot make a directory under /tmp";
  const SecretBytes admin_key = random_key();
  const fs::path psk_file = f.dir.path / "psk";
  {
    std::ofstream psk(psk_file);
    psk << kAdminPsk << ' ' << m2msec::hex_encode(admin_key.view()) << '\n';
    if (!psk) return "cannot write the PSK file";
  }
  if (std::string why = start_m2msecd(f, psk_file); !why.empty()) return why;
  std::string why;
  f.tls_client = client_context("ts0003-tls12-psk", admin_key, &why);
  if (f.tls_client) f.dtls_client = client_context("ts0003-dtls12-psk", admin_key, &why);
  if (f.dtls_client) f.raw_client = RawDtlsClient::make(kAdminPsk, admin_key, &why);
  if (!f.raw_client) return why;
  if (why = check_m2msecd(f); !why.empty()) return why;

  // The raw client against m2msecd's listener, then the raw pair with one exchange of the baseline.
  auto to_m2msecd = f.raw_client->open(f.coaps_port, &why);
  if (!to_m2msecd) return why;
  if (why = to_m2msecd->connect(true); !why.empty()) return "against m2msecd: " + why;
  f.raw_server = RawDtlsServer::start(kAdminPsk, admin_key.clone(), Bytes(f.reply_octets, 0x42), &why);
  if (!f.raw_server) return why;
  auto raw = f.raw_client->open(f.raw_server->port(), &why);
  if (!raw) return why;
  if (why = raw->connect(true); !why.empty()) return "against the raw server: " + why;
  return raw->exchange(f.request_datagram, f.reply_octets);
}

// Stops m2msecd and the baseline, removes the directory. Returns the problems (empty: none).
std::string cleanup() {
  if (g_fixture == nullptr) return {};
  Fixture& f = *g_fixture;
  std::string problems;
  if (f.raw_server) {
    f.raw_server->stop();
    if (const std::uint64_t failed = f.raw_server->failed_handshakes(); failed != 0) {
      problems += "the raw DTLS server saw " + std::to_string(failed) + " failed handshakes\n";
    }
  }
  if (const std::string why = f.m2msecd.stop(); !why.empty()) problems += why + "\n";
  f.dir.remove();
  return problems;
}

void cleanup_on_signal() {
  if (g_fixture == nullptr) return;
  g_fixture->m2msecd.terminate();
  g_fixture->m2msecd.reap();
  g_fixture->dir.remove_blocking();
}

// The fixture, set up before the benchmarks run; false (and the reason in state) when it is not usable.
bool ready(benchmark::State& state) { return g_fixture->set_up.ready(state); }

// ---- the benchmarks -----------------------------------------------------------------------------------------

void retrieve_coaps(benchmark::State& state) {
  if (!ready(state)) return;
  std::string why;
  auto connection = coaps_connect(&why);
  if (!connection) return state.SkipWithError(why.c_str());
  onem2m::Request get = retrieve_cse_base({});
  std::uint64_t sent = 0;
  for (auto _ : state) {
    get.rqi = "c" + std::to_string(++sent);
    auto response = coap::send_primitive(*connection, get);
    why = response ? check_response(*response, get.rqi) : get.rqi + ": " + response.error().to_string();
    if (!why.empty()) {
      state.SkipWithError(why.c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void retrieve_https(benchmark::State& state) {
  if (!ready(state)) return;
  std::string why;
  const auto connection = https_connect(&why);
  if (!connection) return state.SkipWithError(why.c_str());
  onem2m::Request get = retrieve_cse_base({});
  std::uint64_t sent = 0;
  for (auto _ : state) {
    get.rqi = "h" + std::to_string(++sent);
    auto response = http::send_primitive(*connection, get);
    why = response ? check_response(*response, get.rqi) : get.rqi + ": " + response.error().to_string();
    if (!why.empty()) {
      state.SkipWithError(why.c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void retrieve_raw(benchmark::State& state) {
  if (!ready(state)) return;
  const Fixture& f = *g_fixture;
  std::string why;
  const auto association = f.raw_client->open(f.raw_server->port(), &why);
  if (!association || !(why = association->connect(false)).empty()) return state.SkipWithError(why.c_str());
  for (auto _ : state) {
    if (why = association->exchange(f.request_datagram, f.reply_octets); !why.empty()) {
      state.SkipWithError(why.c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["request_octets"] = static_cast<double>(f.request_datagram.size());
  state.counters["response_octets"] = static_cast<double>(f.reply_octets);
}

void handshake_dtls(benchmark::State& state) {
  if (!ready(state)) return;
  std::string why;
  for (auto _ : state) {
    auto connection = coaps_connect(&why);
    if (!connection) {
      state.SkipWithError(why.c_str());
      break;
    }
    connection->close();
  }
  state.SetItemsProcessed(state.iterations());
}

void handshake_tls(benchmark::State& state) {
  if (!ready(state)) return;
  std::string why;
  for (auto _ : state) {
    const auto connection = https_connect(&why);
    if (!connection) {
      state.SkipWithError(why.c_str());
      break;
    }
    connection->close();
  }
  state.SetItemsProcessed(state.iterations());
}

// The raw DTLS client against m2msecd (to_m2msecd) or against the raw server.
void handshake_raw(benchmark::State& state, bool to_m2msecd) {
  if (!ready(state)) return;
  const Fixture& f = *g_fixture;
  const std::uint16_t port = to_m2msecd ? f.coaps_port : f.raw_server->port();
  std::string why;
  for (auto _ : state) {
    const auto association = f.raw_client->open(port, &why);
    if (!association || !(why = association->connect(false)).empty()) {
      state.SkipWithError(why.c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

int main(int argc, char** argv) {
  return m2msec::bench::run_program(argc, argv, {
      .name = "bench_coap",
      .default_min_time = "1",  // the measured time of a row unless the command line says otherwise
      .start = [] {
        g_fixture = new Fixture;
        return std::string();
      },
      .register_benchmarks = [] {
        benchmark::RegisterBenchmark("coap/retrieve/coaps", retrieve_coaps)->UseRealTime();
        benchmark::RegisterBenchmark("coap/retrieve/https", retrieve_https)->UseRealTime();
        benchmark::RegisterBenchmark("coap/retrieve/raw-dtls", retrieve_raw)->UseRealTime();
        benchmark::RegisterBenchmark("coap/handshake/dtls", handshake_dtls)->UseRealTime();
        benchmark::RegisterBenchmark("coap/handshake/dtls-raw-client", handshake_raw, true)->UseRealTime();
        benchmark::RegisterBenchmark("coap/handshake/tls", handshake_tls)->UseRealTime();
        benchmark::RegisterBenchmark("coap/handshake/raw-dtls", handshake_raw, false)->UseRealTime();
      },
      .before_run = [] { g_fixture->set_up.run([] { return set_up(*g_fixture); }); },
      .cleanup = cleanup,
      .cleanup_on_signal = cleanup_on_signal,
  });
}

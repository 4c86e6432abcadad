// One security association between two of our own endpoints over a socketpair (stream for TLS, datagram
// for DTLS), one thread each, and what each end saw: the handshake, the exported keying material, the
// channel binding and a ping/pong of application data. Certificate endpoints use the test PKI of
// test_pki.h.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "m2msec/pki/validate.h"
#include "m2msec/tls/profile.h"
#include "m2msec/tls/session.h"
#include "test_pki.h"

namespace m2msec::tls::loopback {

inline constexpr std::string_view kLabel = "EXPORTER-oneM2M-Bootstrap";
// The CSE-IDs of the test PKI's server.pem and client.pem.
inline constexpr std::string_view kAuthority = "in-cse.m2m.example.com";
inline constexpr std::string_view kClientCse = "mn-cse.in-cse.m2m.example.com";
// The KpsaID of the PSK endpoints.
inline constexpr std::string_view kIdentity = "dev1@sp.example.com";
// A DTLS endpoint that is not answered gives up after this long (instead of 30 s).
inline constexpr std::chrono::milliseconds kDtlsTimeout{1500};

inline std::shared_ptr<Context> must(Result<std::shared_ptr<Context>> context) {
  EXPECT_TRUE(context) << context.error().to_string();
  return context ? *context : nullptr;
}

inline std::vector<const SecurityProfile*> profiles_of(CredentialKind kind) {
  std::vector<const SecurityProfile*> out;
  for (const SecurityProfile& p : all_profiles()) {
    if (p.credential == kind) out.push_back(&p);
  }
  return out;
}

inline SecretBytes key_of(std::uint8_t fill) {
  SecretBytes key(32);
  std::fill(key.writable().begin(), key.writable().end(), fill);
  return key;
}

// PSK endpoints: the server knows kIdentity with the key key_of(key).
inline std::shared_ptr<Context> psk_server(const SecurityProfile* profile, std::uint8_t key = 1) {
  auto resolver = std::make_shared<InMemoryPskResolver>(PskIdentityKind::kKpsaId);
  EXPECT_TRUE(resolver->add(kIdentity, key_of(key)));
  Config c;
  c.dtls_handshake_timeout = kDtlsTimeout;
  c.role = Role::kServer;
  c.profile = profile;
  c.psk_resolver = std::move(resolver);
  return must(Context::create(std::move(c)));
}

inline std::shared_ptr<Context> psk_client(const SecurityProfile* profile, std::string_view identity = kIdentity,
                                           std::uint8_t key = 1) {
  Config c;
  c.dtls_handshake_timeout = kDtlsTimeout;
  c.profile = profile;
  c.server_name = std::string(kAuthority);
  c.psk = ClientPsk{std::string(identity), key_of(key)};
  return must(Context::create(std::move(c)));
}

// A certificate endpoint: <own><chain_suffix> and <own>.key of the test PKI, root.pem as the trust anchor.
struct CertSetup {
  std::string own = "server";
  pki::Flavour flavour = pki::Flavour::kCseId;  // of the peer's certificate
  std::string name = std::string(kAuthority);  // client: the authority called (SNI)
  std::string chain_suffix = ".chain.pem";
  std::string crl{};
  std::optional<std::string> expected{};
  std::shared_ptr<const Clock> clock{};
  PeerCertificatePolicy::StatusCheck status = PeerCertificatePolicy::StatusCheck::kNone;  // client
  std::shared_ptr<const OcspStapleSource> staple{};                                       // server
  bool client_certificate_optional = false;                                                // server
};

inline std::shared_ptr<Context> cert_endpoint(Role role, const SecurityProfile* profile, const CertSetup& s) {
  const pki::test::TestPki& pki = pki::test::TestPki::shared();
  Config c;
  c.dtls_handshake_timeout = kDtlsTimeout;
  c.role = role;
  c.profile = profile;
  if (role == Role::kClient) c.server_name = s.name;
  auto own = CertificateCredential::load(pki.file(s.own + s.chain_suffix), pki.file(s.own + ".key"));
  EXPECT_TRUE(own) << own.error().to_string();
  if (own) c.certificate = std::move(*own);
  auto trust = pki::TrustStore::load(pki.file("root.pem"), s.crl.empty() ? "" : pki.file(s.crl));
  EXPECT_TRUE(trust) << trust.error().to_string();
  if (trust) {
    c.peer_policy = PeerCertificatePolicy{std::move(*trust), s.flavour, s.expected, s.status,
                                          s.client_certificate_optional};
  }
  c.ocsp_staple = s.staple;
  c.clock = s.clock;
  return must(Context::create(std::move(c)));
}

// What one end saw.
struct Outcome {
  std::optional<Error> handshake_error;
  std::optional<Error> data_error;  // the first read/write failure after a successful handshake
  std::optional<AuthenticatedPeer> peer;
  std::string cipher_suite;
  std::optional<Version> version;
  std::optional<SecretBytes> exported;
  bool export_refused = false;  // export_keying_material failed (expected after a failed handshake)
  std::optional<Bytes> channel_binding;
  std::string received;
};

// Runs one end: handshake, export, then the client sends "ping" and the server answers "pong".
inline Outcome run_end(Session& s, Role role) {
  Outcome o;
  auto hs = s.handshake();
  auto ex = s.export_keying_material(kLabel, 48);
  if (ex) {
    o.exported = std::move(ex).value();
  } else {
    o.export_refused = true;
  }
  if (!hs) {
    o.handshake_error = hs.error();
    return o;
  }
  EXPECT_EQ(*hs, Progress::kDone);
  o.peer = s.peer();
  o.cipher_suite = s.cipher_suite();
  o.version = s.version();
  auto binding = s.channel_binding();
  EXPECT_TRUE(binding) << binding.error().to_string();
  if (binding) o.channel_binding = std::move(binding).value();
  std::uint8_t buffer[16] = {};
  if (role == Role::kClient) {
    // A write may fail only because the peer already closed (EPIPE); the read then shows why.
    auto w = s.write(as_bytes("ping"));
    auto r = s.read(buffer);
    if (!r) {
      o.data_error = r.error();
    } else if (!w) {
      o.data_error = w.error();
    } else {
      o.received.assign(reinterpret_cast<const char*>(buffer), *r);
    }
  } else {
    auto r = s.read(buffer);
    if (!r) {
      o.data_error = r.error();
    } else {
      o.received.assign(reinterpret_cast<const char*>(buffer), *r);
      auto w = s.write(as_bytes("pong"));
      if (!w) o.data_error = w.error();
    }
  }
  s.close();
  return o;
}

// A safety net: a blocking end that waits too long fails instead of hanging the test.
inline void set_timeouts(int fd) {
  timeval tv{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

struct Pair {
  Outcome client;
  Outcome server;
};

// Both ends over a socketpair (stream for TLS, datagram for DTLS), one thread each.
inline Pair run_pair(const std::shared_ptr<Context>& client_ctx, const std::shared_ptr<Context>& server_ctx) {
  // A write to a closed peer must be an error here, not a signal (as in the CLI).
  ::signal(SIGPIPE, SIG_IGN);
  const bool dtls = client_ctx->config().profile->transport == Transport::kDtls;
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, dtls ? SOCK_DGRAM : SOCK_STREAM, 0, fds), 0);
  set_timeouts(fds[0]);
  set_timeouts(fds[1]);
  auto end = [](const std::shared_ptr<Context>& ctx, int fd) {
    Outcome o;
    auto s = ctx->session(fd);
    EXPECT_TRUE(s) << (s ? "" : s.error().to_string());
    if (s) o = run_end(**s, ctx->config().role);
    return o;
  };
  auto server = std::async(std::launch::async, end, server_ctx, fds[1]);
  Pair p;
  p.client = end(client_ctx, fds[0]);
  // The client's end stays open until the server has read what the client sent last (an alert, say:
  // over a socketpair, a datagram to a closed end fails the sender at once). A server still waiting
  // for a client that gave up without a word is then released by shutting the client's end.
  if (server.wait_for(std::chrono::seconds(3)) != std::future_status::ready) ::shutdown(fds[0], SHUT_RDWR);
  p.server = server.get();
  ::close(fds[0]);
  ::close(fds[1]);
  return p;
}

// Both ends of an association established over the stream socketpair fds (which the caller closes after
// the sessions are gone).
struct Established {
  std::unique_ptr<Session> client;
  std::unique_ptr<Session> server;
};
inline Established establish(const std::shared_ptr<Context>& client_ctx, const std::shared_ptr<Context>& server_ctx,
                             const int (&fds)[2]) {
  set_timeouts(fds[0]);
  set_timeouts(fds[1]);
  auto end = [](const std::shared_ptr<Context>& ctx, int fd) {
    auto s = ctx->session(fd);
    EXPECT_TRUE(s) << (s ? "" : s.error().to_string());
    if (!s) return std::unique_ptr<Session>();
    auto hs = (*s)->handshake();
    EXPECT_TRUE(hs) << (hs ? "" : hs.error().to_string());
    return hs ? std::move(s).value() : std::unique_ptr<Session>();
  };
  auto server = std::async(std::launch::async, end, server_ctx, fds[1]);
  auto client = end(client_ctx, fds[0]);
  return Established{std::move(client), server.get()};
}

// A blocking read with nothing sent, and a write the peer does not read, end when the socket's
// SO_RCVTIMEO / SO_SNDTIMEO expires: an I/O error that says it timed out, not a protocol one.
inline void expect_socket_timeouts(Session& s, int fd) {
  const timeval tv{0, 200'000};
  ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), 0);
  std::uint8_t buffer[16];
  auto r = s.read(buffer);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().category(), Category::kIo) << r.error().to_string();
  EXPECT_NE(r.error().detail().find("timed out"), std::string::npos) << r.error().to_string();
  // More than the socket buffers hold.
  const Bytes big(4 << 20, 0x5a);
  auto w = s.write(big);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().category(), Category::kIo) << w.error().to_string();
  EXPECT_NE(w.error().detail().find("timed out"), std::string::npos) << w.error().to_string();
}

// The rest of the last line of a peer program's output that holds marker (a value it printed).
inline std::string printed(const std::string& log, const std::string& marker) {
  const auto at = log.rfind(marker);
  if (at == std::string::npos) return {};
  const auto end = log.find('\n', at);
  return log.substr(at + marker.size(), end - at - marker.size());
}

inline bool same(const SecretBytes& a, const SecretBytes& b) { return std::ranges::equal(a.view(), b.view()); }

inline void expect_success(const Pair& p, const SecurityProfile* profile) {
  ASSERT_FALSE(p.client.handshake_error) << p.client.handshake_error->to_string();
  ASSERT_FALSE(p.server.handshake_error) << p.server.handshake_error->to_string();
  EXPECT_FALSE(p.client.data_error) << p.client.data_error->to_string();
  EXPECT_FALSE(p.server.data_error) << p.server.data_error->to_string();
  EXPECT_EQ(p.server.received, "ping");
  EXPECT_EQ(p.client.received, "pong");
  ASSERT_TRUE(p.client.exported && p.server.exported);
  EXPECT_EQ(p.client.exported->size(), 48u);
  EXPECT_TRUE(same(*p.client.exported, *p.server.exported));
  // One channel binding at both ends: tls-unique's verify_data on 1.2, tls-exporter's 32 octets on 1.3.
  ASSERT_TRUE(p.client.channel_binding && p.server.channel_binding);
  EXPECT_EQ(p.client.channel_binding->size(), profile->version == Version::kTls13 ? 32u : 12u);
  EXPECT_EQ(*p.client.channel_binding, *p.server.channel_binding);
  // Both ends agree on the profile's first (preferred) suite and version.
  EXPECT_EQ(p.client.cipher_suite, profile->cipher_suites[0]);
  EXPECT_EQ(p.server.cipher_suite, profile->cipher_suites[0]);
  EXPECT_EQ(p.client.version, profile->version);
}


// The failure an end saw: in the handshake, or (TLS 1.3 client refused by the server) on its first read.
inline const std::optional<Error>& failure(const Outcome& o) { return o.handshake_error ? o.handshake_error : o.data_error; }

// The end that detected the failure sent `alert`; the other received it. The refusing end never exports;
// the other may have completed first (a TLS 1.3 client refused by the server), but then it learns of the
// refusal on its first read and no data arrives.
inline void expect_refused(const Pair& out, std::uint8_t alert) {
  for (const Outcome* side : {&out.client, &out.server}) {
    const std::optional<Error>& e = failure(*side);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->tls_alert(), alert) << e->to_string();
    EXPECT_TRUE(side->received.empty());
    if (side->handshake_error) {
      EXPECT_TRUE(side->export_refused);
      EXPECT_FALSE(side->exported);
    }
  }
}

}  // namespace m2msec::tls::loopback

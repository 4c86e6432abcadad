// The OpenSSL 3 backend: PSK and certificate profiles over TLS 1.2, TLS 1.3 and DTLS 1.2.
// Certificates are validated by src/pki only (the cert-verify hook replaces OpenSSL's own path building).
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "backend.h"
#include "m2msec/crypto/hash.h"
#include "m2msec/crypto/openssl_errors.h"
#include "m2msec/crypto/random.h"
#include "m2msec/pki/ocsp.h"
#include "m2msec/tls/hello.h"

namespace m2msec::tls::detail {
namespace {

// TLS alert descriptions used here (RFC 8446 6.2).
constexpr std::uint8_t kHandshakeFailure = 40;
constexpr std::uint8_t kCertificateRevoked = 44;
constexpr std::uint8_t kDecodeError = 50;
constexpr std::uint8_t kUnrecognizedName = 112;
constexpr std::uint8_t kBadCertificateStatusResponse = 113;
constexpr std::uint8_t kInternalError = 80;
constexpr int kExtendedMasterSecretExt = 23;  // RFC 7627
constexpr int kServerNameExt = 0;             // RFC 6066
constexpr std::string_view kTlsExporterLabel = "EXPORTER-Channel-Binding";  // RFC 9266
constexpr std::size_t kTlsExporterLength = 32;

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
struct BioAddrFree {
  void operator()(BIO_ADDR* a) const { BIO_ADDR_free(a); }
};

// The OpenSSL name of an IANA cipher suite name (TLS 1.3 names are the same in both).
std::string_view openssl_suite_name(std::string_view iana) {
  static constexpr std::array<std::array<std::string_view, 2>, 4> kNames{{
      {"TLS_PSK_WITH_AES_128_CBC_SHA256", "PSK-AES128-CBC-SHA256"},
      {"TLS_PSK_WITH_AES_128_CCM_8", "PSK-AES128-CCM8"},
      {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256"},
      {"TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", "ECDHE-ECDSA-AES128-CCM8"},
  }};
  for (const auto& row : kNames) {
    if (row[0] == iana) return row[1];
  }
  return iana;
}

std::string joined(std::span<const std::string_view> items, std::string_view (*map)(std::string_view)) {
  std::string out;
  for (const std::string_view item : items) {
    if (!out.empty()) out += ':';
    out += map(item);
  }
  return out;
}

std::string_view same(std::string_view s) { return s; }

Error backend_error(const std::string& what) { return Error::internal(crypto::with_openssl_errors(what)); }

// The X509 verify error whose alert (OpenSSL's ssl_x509err2alert) is the one src/pki asked for.
int x509_error_for_alert(std::optional<std::uint8_t> alert) {
  switch (alert.value_or(42)) {
    case 44: return X509_V_ERR_CERT_REVOKED;
    case 45: return X509_V_ERR_CERT_HAS_EXPIRED;
    case 48: return X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
    default: return X509_V_ERR_CERT_REJECTED;  // bad_certificate
  }
}

// The certificates of a peer's chain other than its leaf (the intermediates it sent).
std::vector<pki::Certificate> others_than(X509* leaf, STACK_OF(X509) * chain) {
  std::vector<pki::Certificate> out;
  for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i) {
    X509* x = sk_X509_value(chain, i);
    if (x != leaf) out.push_back(pki::Certificate::share(x));
  }
  return out;
}

}  // namespace

class OpensslContext;
class OpensslSession;

// Per-connection state, reachable from callbacks through the SSL's ex_data.
struct Connection {
  const OpensslContext* context = nullptr;
  AuthenticatedPeer peer{};
  std::optional<Error> failure;  // why a callback refused, for the log
  std::optional<std::uint8_t> alert_sent;
  std::optional<std::uint8_t> alert_received;
  bool server_sent_ems = false;  // client: the ServerHello carried extended_master_secret
  bool status_checked = false;   // client: a stapled OCSP response showed the certificate good
  std::chrono::steady_clock::time_point deadline{};  // DTLS: when a blocking handshake gives up
};

class OpensslContext final : public Context, public std::enable_shared_from_this<OpensslContext> {
 public:
  static Result<std::shared_ptr<OpensslContext>> create(Config config);

  const Config& config() const override { return m_config; }
  Result<std::unique_ptr<Session>> session(int fd) const override;
  Result<std::unique_ptr<Session>> accept_datagram(int fd) const override;

  static int connection_index();
  static Connection& connection_of(SSL* ssl) {
    return *static_cast<Connection*>(SSL_get_ex_data(ssl, connection_index()));
  }

 private:
  explicit OpensslContext(Config config) : m_config(std::move(config)) {}
  Result<void> configure();
  Result<void> configure_certificate();
  // A session over fd: a socket BIO for TLS, a datagram BIO for DTLS.
  Result<std::unique_ptr<OpensslSession>> open(int fd) const;

  static unsigned int psk_server_cb(SSL* ssl, const char* identity, unsigned char* psk, unsigned int max_len);
  static unsigned int psk_client_cb(SSL* ssl, const char* hint, char* identity, unsigned int max_identity_len,
                                    unsigned char* psk, unsigned int max_psk_len);
  static int client_hello_cb(SSL* ssl, int* alert, void* arg);
  static int cert_verify_cb(X509_STORE_CTX* store, void* arg);
  static int staple_cb(SSL* ssl, void* arg);
  static int status_cb(SSL* ssl, void* arg);
  static void info_cb(const SSL* ssl, int where, int ret);
  static unsigned int dtls_timer_cb(SSL* ssl, unsigned int previous_us);
  static void message_cb(int write_p, int version, int content_type, const void* buf, std::size_t len, SSL* ssl,
                         void* arg);
  static int cookie_generate_cb(SSL* ssl, unsigned char* cookie, unsigned int* length);
  static int cookie_verify_cb(SSL* ssl, const unsigned char* cookie, unsigned int length);

  Result<SecretBytes> cookie_for(SSL* ssl) const;
  bool ems_ok(Connection& c) const;
  Result<bool> check_staple(SSL* ssl, const pki::Certificate& leaf, std::vector<pki::Certificate> candidates) const;

  Config m_config;
  std::unique_ptr<SSL_CTX, SslCtxFree> m_ctx;
  // Keys of this context only: one makes the stand-in PSK for unknown identities, one the DTLS cookies.
  SecretBytes m_unknown_identity_key;
  SecretBytes m_cookie_key;
  std::vector<std::string> m_served_names;  // server: the dNSNames of its own certificate
};

class OpensslSession final : public Session {
 public:
  OpensslSession(std::shared_ptr<const OpensslContext> context, SSL* ssl)
      : m_context(std::move(context)), m_ssl(ssl), m_connection(std::make_unique<Connection>()) {
    m_connection->context = m_context.get();
    SSL_set_ex_data(m_ssl.get(), OpensslContext::connection_index(), m_connection.get());
  }

  Result<Progress> handshake() override;
  const AuthenticatedPeer& peer() const override { return m_connection->peer; }
  std::string cipher_suite() const override {
    const SSL_CIPHER* cipher = SSL_get_current_cipher(m_ssl.get());
    const char* name = cipher ? SSL_CIPHER_standard_name(cipher) : nullptr;
    return name ? name : "";
  }
  Version version() const override {
    return SSL_version(m_ssl.get()) == TLS1_3_VERSION ? Version::kTls13 : Version::kTls12;
  }
  Result<SecretBytes> export_keying_material(std::string_view label, std::size_t length) const override;
  Result<Bytes> channel_binding() const override;
  Result<std::size_t> write(ByteView data) override;
  Result<std::size_t> read(std::span<std::uint8_t> out) override;
  void close() override {
    if (m_established) SSL_shutdown(m_ssl.get());
  }

  SSL* ssl() const { return m_ssl.get(); }

 private:
  bool blocking() const;
  Error failure(int ret, std::string_view during);
  Result<void> finish_handshake();

  std::shared_ptr<const OpensslContext> m_context;
  std::unique_ptr<SSL, SslFree> m_ssl;
  std::unique_ptr<Connection> m_connection;
  bool m_established = false;
};

// ---- context ------------------------------------------------------------------------------------

int OpensslContext::connection_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

Result<std::shared_ptr<OpensslContext>> OpensslContext::create(Config config) {
  std::shared_ptr<OpensslContext> context(new OpensslContext(std::move(config)));
  M2MSEC_TRY(context->configure());
  return context;
}

Result<void> OpensslContext::configure() {
  const SecurityProfile& p = *m_config.profile;
  const bool dtls = p.transport == Transport::kDtls;
  m_ctx.reset(SSL_CTX_new(dtls ? DTLS_method() : TLS_method()));
  if (!m_ctx) return backend_error("SSL_CTX_new");
  SSL_CTX* ctx = m_ctx.get();
  SSL_CTX_set_app_data(ctx, this);

  const int version = dtls ? DTLS1_2_VERSION : (p.version == Version::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  // One version per profile: TLS 1.0/1.1 (and SSL 3) are never negotiated (seed 000 item 2).
  if (SSL_CTX_set_min_proto_version(ctx, version) != 1 || SSL_CTX_set_max_proto_version(ctx, version) != 1) {
    return backend_error("protocol version");
  }
  const std::string suites = joined(p.cipher_suites, openssl_suite_name);
  if (p.version == Version::kTls13) {
    if (SSL_CTX_set_ciphersuites(ctx, suites.c_str()) != 1) return backend_error("TLS 1.3 suites " + suites);
  } else if (SSL_CTX_set_cipher_list(ctx, suites.c_str()) != 1 || SSL_CTX_set_ciphersuites(ctx, "") != 1) {
    return backend_error("cipher suites " + suites);
  }
  if (!p.groups.empty() && SSL_CTX_set1_groups_list(ctx, joined(p.groups, same).c_str()) != 1) {
    return backend_error("groups");
  }
  if (SSL_CTX_set1_sigalgs_list(ctx, joined(p.signature_schemes, same).c_str()) != 1) return backend_error("sigalgs");

  // No renegotiation at all (stricter than "secure renegotiation only", seed 000 item 3), no compression,
  // no session resumption (every association is a full handshake with the configured credentials).
  std::uint64_t options = SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET |
                          SSL_OP_CIPHER_SERVER_PREFERENCE;
  if (p.tls13_psk_without_dhe) options |= SSL_OP_ALLOW_NO_DHE_KEX;
  if (dtls && m_config.role == Role::kServer) options |= SSL_OP_COOKIE_EXCHANGE;
  SSL_CTX_set_options(ctx, options);
  SSL_CTX_clear_options(ctx, SSL_OP_LEGACY_SERVER_CONNECT | SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);  // send exactly the configured chain
  SSL_CTX_set_info_callback(ctx, info_cb);

  if (m_config.role == Role::kClient) SSL_CTX_set_msg_callback(ctx, message_cb);
  if (m_config.role == Role::kServer) SSL_CTX_set_client_hello_cb(ctx, client_hello_cb, nullptr);
  if (m_config.role == Role::kServer && dtls) {
    M2MSEC_ASSIGN_OR_RETURN(m_cookie_key, crypto::random_secret(crypto::system_rng(), 32));
    SSL_CTX_set_cookie_generate_cb(ctx, cookie_generate_cb);
    SSL_CTX_set_cookie_verify_cb(ctx, cookie_verify_cb);
  }
  if (p.credential == CredentialKind::kPsk) {
    if (m_config.role == Role::kServer) {
      M2MSEC_ASSIGN_OR_RETURN(m_unknown_identity_key, crypto::random_secret(crypto::system_rng(), 32));
      SSL_CTX_set_psk_server_callback(ctx, psk_server_cb);
    } else {
      SSL_CTX_set_psk_client_callback(ctx, psk_client_cb);
    }
    return {};
  }
  return configure_certificate();
}

Result<void> OpensslContext::configure_certificate() {
  SSL_CTX* ctx = m_ctx.get();
  const CertificateCredential& own = *m_config.certificate;
  if (SSL_CTX_use_certificate(ctx, own.chain.front().native()) != 1) return backend_error("own certificate");
  for (std::size_t i = 1; i < own.chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, own.chain[i].native()) != 1) return backend_error("own chain");
  }
  if (SSL_CTX_use_PrivateKey(ctx, own.key.native()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return backend_error("own private key");
  }
  if (m_config.role == Role::kServer) m_served_names = pki::identifiers(own.chain.front(), pki::Flavour::kCseId);
  const PeerCertificatePolicy& policy = *m_config.peer_policy;
  //= TS-0003 V3.18.0 §8.2.2.2
  //# Mutual authentication: the server requires the client's certificate (unless configured optional,
  //# for an EST server's /cacerts, RFC 7030 4.1.1).
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (policy.client_certificate_optional ? 0 : SSL_VERIFY_FAIL_IF_NO_PEER_CERT),
                     nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, cert_verify_cb, nullptr);

  int (*status)(SSL*, void*) = nullptr;
  if (m_config.role == Role::kServer && m_config.ocsp_staple) status = staple_cb;
  if (m_config.role == Role::kClient && policy.status != PeerCertificatePolicy::StatusCheck::kNone) {
    // SSL_CTX_set_tlsext_status_type: ask for an OCSP staple (status_request, RFC 6066 clause 8).
    if (SSL_CTX_ctrl(ctx, SSL_CTRL_SET_TLSEXT_STATUS_REQ_TYPE, TLSEXT_STATUSTYPE_ocsp, nullptr) != 1) {
      return backend_error("status_request");
    }
    status = status_cb;
  }
  if (status != nullptr) {
    // SSL_CTX_set_tlsext_status_cb is a macro with a C cast; the call it stands for:
    SSL_CTX_callback_ctrl(ctx, SSL_CTRL_SET_TLSEXT_STATUS_REQ_CB, reinterpret_cast<void (*)()>(status));
  }
  return {};
}


namespace {

// The connected peer of a UDP socket, for BIO_dgram (which then uses send() rather than sendto()).
Result<std::unique_ptr<BIO_ADDR, BioAddrFree>> peer_address(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    return Error(Category::kIo, std::string("getpeername: ") + std::strerror(errno));
  }
  std::unique_ptr<BIO_ADDR, BioAddrFree> address(BIO_ADDR_new());
  int ok = 0;
  if (storage.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage);
    ok = BIO_ADDR_rawmake(address.get(), AF_INET, &v4->sin_addr, sizeof v4->sin_addr, v4->sin_port);
  } else if (storage.ss_family == AF_UNIX) {
    ok = BIO_ADDR_rawmake(address.get(), AF_UNIX, "", 0, 0);  // an unnamed socketpair end
  } else {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    ok = BIO_ADDR_rawmake(address.get(), AF_INET6, &v6->sin6_addr, sizeof v6->sin6_addr, v6->sin6_port);
  }
  if (ok != 1) return backend_error("BIO_ADDR_rawmake");
  return address;
}

Result<void> connect_to(int fd, const BIO_ADDR* peer) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::size_t raw_length = 0;
  const int family = BIO_ADDR_family(peer);
  if (family == AF_INET) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    v4->sin_family = AF_INET;
    v4->sin_port = BIO_ADDR_rawport(peer);
    BIO_ADDR_rawaddress(peer, &v4->sin_addr, &raw_length);
    length = sizeof *v4;
  } else if (family == AF_INET6) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = BIO_ADDR_rawport(peer);
    BIO_ADDR_rawaddress(peer, &v6->sin6_addr, &raw_length);
    length = sizeof *v6;
  } else {
    return Error::internal("DTLS peer of an unknown address family");
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&storage), length) != 0) {
    return Error(Category::kIo, std::string("connect: ") + std::strerror(errno));
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<OpensslSession>> OpensslContext::open(int fd) const {
  ERR_clear_error();
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(m_ctx.get()));
  if (!ssl) return backend_error("SSL_new");
  if (m_config.profile->transport == Transport::kTls) {
    if (SSL_set_fd(ssl.get(), fd) != 1) return backend_error("SSL_set_fd");
  } else {
    BIO* bio = BIO_new_dgram(fd, BIO_NOCLOSE);
    if (bio == nullptr) return backend_error("BIO_new_dgram");
    SSL_set_bio(ssl.get(), bio, bio);
    DTLS_set_timer_cb(ssl.get(), dtls_timer_cb);
  }
  auto session = std::make_unique<OpensslSession>(shared_from_this(), ssl.release());
  SSL* raw = session->ssl();
  if (m_config.role == Role::kClient) {
    SSL_set_connect_state(raw);
    // SSL_set_tlsext_host_name is a macro with a C cast; the call it stands for:
    if (SSL_ctrl(raw, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(m_config.server_name.c_str())) != 1) {
      return backend_error("SNI");
    }
  } else {
    SSL_set_accept_state(raw);
  }
  return session;
}

Result<std::unique_ptr<Session>> OpensslContext::session(int fd) const {
  M2MSEC_ASSIGN_OR_RETURN(std::unique_ptr<OpensslSession> session, open(fd));
  if (m_config.profile->transport == Transport::kDtls) {
    M2MSEC_ASSIGN_OR_RETURN(auto peer, peer_address(fd));
    BIO_ctrl(SSL_get_rbio(session->ssl()), BIO_CTRL_DGRAM_SET_CONNECTED, 0, peer.get());
  }
  return std::unique_ptr<Session>(std::move(session));
}

Result<std::unique_ptr<Session>> OpensslContext::accept_datagram(int fd) const {
  if (m_config.profile->transport != Transport::kDtls || m_config.role != Role::kServer) {
    return Error::usage("accept_datagram is for DTLS servers");
  }
  M2MSEC_ASSIGN_OR_RETURN(std::unique_ptr<OpensslSession> session, open(fd));
  //= TS-0003 V3.18.0 §10.2.1
  //# DTLS 1.2 over UDP; the server keeps no state before a ClientHello returns its cookie (RFC 6347 4.2.1).
  std::unique_ptr<BIO_ADDR, BioAddrFree> peer(BIO_ADDR_new());
  int listened = 0;
  while ((listened = DTLSv1_listen(session->ssl(), peer.get())) == 0) {
    if (!more_datagrams(fd)) return std::unique_ptr<Session>();
  }
  if (listened < 0) return backend_error("DTLSv1_listen");
  M2MSEC_TRY(connect_to(fd, peer.get()));
  BIO_ctrl(SSL_get_rbio(session->ssl()), BIO_CTRL_DGRAM_SET_CONNECTED, 0, peer.get());
  return std::unique_ptr<Session>(std::move(session));
}

// ---- callbacks ----------------------------------------------------------------------------------

void OpensslContext::info_cb(const SSL* ssl, int where, int ret) {
  if ((where & SSL_CB_ALERT) == 0) return;
  auto* connection = static_cast<Connection*>(SSL_get_ex_data(ssl, connection_index()));
  if (connection == nullptr || (ret >> 8) != SSL3_AL_FATAL) return;
  auto& slot = (where & SSL_CB_WRITE) ? connection->alert_sent : connection->alert_received;
  if (!slot) slot = static_cast<std::uint8_t>(ret & 0xff);
}

// RFC 6347 4.2.4.1: retransmission timeouts start at 1 s and double. OpenSSL retransmits by itself inside
// a blocking read and gives up after 12 timeouts; past our deadline every timeout is 1 ms, so a blocking
// handshake ends on time ("read timeout expired") instead of sleeping through doubling timeouts.
unsigned int OpensslContext::dtls_timer_cb(SSL* ssl, unsigned int previous_us) {
  constexpr unsigned int kInitialUs = 1'000'000;
  constexpr unsigned int kMaximumUs = 60'000'000;
  constexpr unsigned int kPastDeadlineUs = 1'000;
  unsigned int next = previous_us == 0 ? kInitialUs : std::min(2 * previous_us, kMaximumUs);
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(connection_of(ssl).deadline -
                                                                         std::chrono::steady_clock::now());
  if (left.count() <= 0) return kPastDeadlineUs;
  return left.count() < next ? static_cast<unsigned int>(left.count()) : next;
}

int OpensslContext::client_hello_cb(SSL* ssl, int* alert, void*) {
  Connection& c = connection_of(ssl);
  const OpensslContext& self = *c.context;
  const auto refuse = [&](std::uint8_t code, std::string why) {
    c.failure = Error(Category::kProtocol, std::move(why)).with_tls_alert(code);
    *alert = code;
    return SSL_CLIENT_HELLO_ERROR;
  };
  const unsigned char* data = nullptr;
  std::size_t length = 0;
  //= TS-0003 V3.18.0 §10.2.1 (with seed 000 item 3: RFC 7627)
  //# TLS 1.2 and DTLS 1.2 associations use the extended master secret; a ClientHello without it is refused.
  if (self.m_config.profile->version == Version::kTls12 &&
      SSL_client_hello_get0_ext(ssl, kExtendedMasterSecretExt, &data, &length) != 1) {
    return refuse(kHandshakeFailure, "the client does not offer the extended master secret (RFC 7627)");
  }
  //= TS-0003 V3.18.0 §10.2.1
  //# The client names the authority in SNI; the server selects its credentials by it.
  if (SSL_client_hello_get0_ext(ssl, kServerNameExt, &data, &length) != 1) {
    return refuse(kUnrecognizedName, "the client sent no server_name");
  }
  auto name = parse_server_name_extension(ByteView(data, length));
  if (!name) return refuse(name.error().tls_alert().value_or(kDecodeError), name.error().detail());
  if (!self.m_served_names.empty() &&
      std::find(self.m_served_names.begin(), self.m_served_names.end(), name->text()) == self.m_served_names.end()) {
    return refuse(kUnrecognizedName, "no credential for server_name " + name->text());
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

// A client learns whether the server uses the extended master secret from the ServerHello; OpenSSL tells
// only once the handshake is over, too late to refuse before the Finished, so we read it ourselves.
void OpensslContext::message_cb(int write_p, int, int content_type, const void* buf, std::size_t len, SSL* ssl, void*) {
  const std::size_t header = SSL_is_dtls(ssl) ? 12 : 4;
  const auto* octets = static_cast<const std::uint8_t*>(buf);
  if (write_p != 0 || content_type != SSL3_RT_HANDSHAKE || len < header || octets[0] != SSL3_MT_SERVER_HELLO) return;
  auto* connection = static_cast<Connection*>(SSL_get_ex_data(ssl, connection_index()));
  auto extensions = parse_server_hello_extensions(ByteView(octets + header, len - header));
  if (connection == nullptr || !extensions) return;
  connection->server_sent_ems = std::find(extensions->begin(), extensions->end(), kExtendedMasterSecretExt) !=
                                extensions->end();
}

bool OpensslContext::ems_ok(Connection& c) const {
  if (m_config.role == Role::kServer || m_config.profile->version != Version::kTls12 || c.server_sent_ems) return true;
  c.failure = Error(Category::kProtocol, "the server did not use the extended master secret (RFC 7627)")
                  .with_tls_alert(kHandshakeFailure);
  return false;
}

unsigned int OpensslContext::psk_server_cb(SSL* ssl, const char* identity, unsigned char* psk, unsigned int max_len) {
  Connection& c = connection_of(ssl);
  const OpensslContext& self = *c.context;
  const std::string_view id = identity ? identity : "";
  // An unknown identity must fail exactly like a wrong key, on the wire and in time (Botan's
  // hide_unknown_users, s2n's blinding): the stand-in key is computed on every lookup, and an unknown
  // identity goes on with it to fail at the Finished / binder check like a wrong key does.
  auto stand_in = crypto::hmac(crypto::Hash::sha256(), self.m_unknown_identity_key.view(), {as_bytes(id)});
  std::optional<PskCredential> found = self.m_config.psk_resolver->resolve(id);
  if (!stand_in) return 0;
  const SecretBytes& key = found ? found->key : *stand_in;
  if (key.size() > max_len) return 0;
  std::copy(key.view().begin(), key.view().end(), psk);
  c.peer = found ? AuthenticatedPeer{CredentialKind::kPsk, std::string(id), found->bound_identity} : AuthenticatedPeer{};
  return static_cast<unsigned int>(key.size());
}

unsigned int OpensslContext::psk_client_cb(SSL* ssl, const char*, char* identity, unsigned int max_identity_len,
                                           unsigned char* psk, unsigned int max_psk_len) {
  Connection& c = connection_of(ssl);
  const OpensslContext& self = *c.context;
  if (!self.ems_ok(c)) return 0;
  const ClientPsk& own = *self.m_config.psk;
  if (own.identity.size() + 1 > max_identity_len || own.key.size() > max_psk_len) return 0;
  std::memcpy(identity, own.identity.c_str(), own.identity.size() + 1);
  std::copy(own.key.view().begin(), own.key.view().end(), psk);
  c.peer = AuthenticatedPeer{CredentialKind::kPsk, own.identity, self.m_config.peer_identity};
  return static_cast<unsigned int>(own.key.size());
}

int OpensslContext::cert_verify_cb(X509_STORE_CTX* store, void*) {
  SSL* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  Connection& c = connection_of(ssl);
  const OpensslContext& self = *c.context;
  const auto refuse = [&](Error error, int x509_error) {
    c.failure = std::move(error);
    X509_STORE_CTX_set_error(store, x509_error);
    return 0;
  };
  if (!self.ems_ok(c)) return refuse(*c.failure, X509_V_ERR_APPLICATION_VERIFICATION);

  const pki::Certificate leaf = pki::Certificate::share(X509_STORE_CTX_get0_cert(store));
  const std::vector<pki::Certificate> intermediates = others_than(leaf.native(), X509_STORE_CTX_get0_untrusted(store));
  const PeerCertificatePolicy& policy = *self.m_config.peer_policy;
  //= TS-0003 V3.18.0 §8.1.2.5
  //# (b) path validation and status check against the configured trust anchor; failure aborts.
  if (auto valid = pki::validate_path(leaf, intermediates, policy.trust, self.m_config.clock->now()); !valid) {
    const auto alert = valid.error().tls_alert();
    return refuse(std::move(valid).error(), x509_error_for_alert(alert));
  }
  // TLS 1.3 staples the OCSP response in the Certificate message, so a revoked status is refused here with
  // certificate_revoked. An unusable response, and every TLS 1.2 staple, is status_cb's (it sends 113).
  if (self.m_config.role == Role::kClient && policy.status != PeerCertificatePolicy::StatusCheck::kNone) {
    auto stapled = self.check_staple(ssl, leaf, intermediates);
    if (stapled) c.status_checked = *stapled;
    if (!stapled && stapled.error().tls_alert() == kCertificateRevoked) {
      return refuse(std::move(stapled).error(), X509_V_ERR_CERT_REVOKED);
    }
  }
  // The identifier the peer must carry: configured for it, or, at a client, the authority it called.
  std::optional<std::string> expected = policy.expected_identifier;
  if (!expected && self.m_config.role == Role::kClient) expected = self.m_config.peer_identity;
  //= TS-0003 V3.18.0 §8.1.2.5
  //# (a) an exact match between the configured identifier and a subjectAltName value, else abort.
  if (expected && !pki::matches(leaf, policy.flavour, *expected)) {
    return refuse(Error(Category::kAuth, "the certificate does not carry the " +
                                             std::string(pki::flavour_name(policy.flavour)) + " " + *expected)
                      .with_tls_alert(42),
                  X509_V_ERR_HOSTNAME_MISMATCH);
  }
  std::string identifier = expected.value_or("");
  if (identifier.empty()) {
    const auto all = pki::identifiers(leaf, policy.flavour);
    if (!all.empty()) identifier = all.front();
  }
  std::string identity = self.m_config.peer_identity;
  if (self.m_config.role == Role::kServer) {
    auto bound = pki::bound_identity(leaf, policy.flavour);
    if (!bound) {
      const auto alert = bound.error().tls_alert();
      return refuse(std::move(bound).error(), x509_error_for_alert(alert));
    }
    identity = std::move(*bound);
  }
  c.peer = AuthenticatedPeer{CredentialKind::kCertificate, std::move(identifier), std::move(identity)};
  return 1;
}

// Client: the OCSP response the server stapled, checked for its leaf (whose issuer is one of the
// certificates it sent or an anchor): true when it shows the certificate good, false when none was stapled.
Result<bool> OpensslContext::check_staple(SSL* ssl, const pki::Certificate& leaf,
                                          std::vector<pki::Certificate> candidates) const {
  unsigned char* der = nullptr;
  // SSL_get_tlsext_status_ocsp_resp is a macro with a C cast; the call it stands for:
  const long length = SSL_ctrl(ssl, SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP, 0, &der);
  if (length <= 0 || der == nullptr) return false;
  const pki::TrustStore& trust = m_config.peer_policy->trust;
  candidates.insert(candidates.end(), trust.anchors().begin(), trust.anchors().end());
  const std::optional<pki::Certificate> issuer = pki::find_issuer(leaf, candidates);
  if (!issuer) {
    return Error(Category::kAuth, "OCSP staple: no issuer of the server certificate at hand")
        .with_tls_alert(kBadCertificateStatusResponse);
  }
  M2MSEC_ASSIGN_OR_RETURN(const pki::CertStatus status,
                          pki::check_ocsp_response(ByteView(der, static_cast<std::size_t>(length)), leaf, *issuer,
                                                   trust, m_config.clock->now()));
  M2MSEC_TRY(pki::require_good(status));
  return true;
}

// Server: staples the current OCSP response for a client that asked (RFC 6066 clause 8).
int OpensslContext::staple_cb(SSL* ssl, void*) {
  const std::optional<Bytes> der = connection_of(ssl).context->m_config.ocsp_staple->current();
  if (!der || der->empty()) return SSL_TLSEXT_ERR_NOACK;
  // OpenSSL takes ownership of an OPENSSL_malloc'd buffer. SSL_set_tlsext_status_ocsp_resp is a macro
  // with a C cast; the call it stands for:
  void* copy = OPENSSL_memdup(der->data(), der->size());
  if (copy == nullptr) return SSL_TLSEXT_ERR_ALERT_FATAL;
  SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_STATUS_REQ_OCSP_RESP, static_cast<long>(der->size()), copy);
  return SSL_TLSEXT_ERR_OK;
}

// Client, once the server's first flight is in (after ServerHelloDone in TLS 1.2, after its Finished in
// TLS 1.3). Returning 0 makes OpenSSL send bad_certificate_status_response (113): in TLS 1.2 also for a
// revoked certificate, the only alert this callback can send.
int OpensslContext::status_cb(SSL* ssl, void*) {
  Connection& c = connection_of(ssl);
  if (c.status_checked) return 1;
  const OpensslContext& self = *c.context;
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr) return 0;
  //= TS-0003 V3.18.0 §8.1.2.2
  //# (RFC 6066 clause 8) a client that asked for the status checks a stapled OCSP response and aborts the
  //# handshake with bad_certificate_status_response when it is not satisfactory.
  auto stapled = self.check_staple(ssl, pki::Certificate::share(peer), others_than(peer, SSL_get_peer_cert_chain(ssl)));
  if (!stapled) {
    c.failure = std::move(stapled).error();
    return 0;
  }
  if (!*stapled && self.m_config.peer_policy->status == PeerCertificatePolicy::StatusCheck::kRequireStaple) {
    c.failure = Error(Category::kAuth, "the server stapled no OCSP response").with_tls_alert(kBadCertificateStatusResponse);
    return 0;
  }
  return 1;
}

Result<SecretBytes> OpensslContext::cookie_for(SSL* ssl) const {
  std::unique_ptr<BIO_ADDR, BioAddrFree> peer(BIO_ADDR_new());
  if (BIO_dgram_get_peer(SSL_get_rbio(ssl), peer.get()) <= 0) return backend_error("DTLS peer address");
  std::array<std::uint8_t, 16> address{};
  std::size_t length = 0;
  BIO_ADDR_rawaddress(peer.get(), nullptr, &length);
  if (length > address.size()) return Error::internal("DTLS peer address too long");
  BIO_ADDR_rawaddress(peer.get(), address.data(), &length);
  const std::uint16_t port = BIO_ADDR_rawport(peer.get());
  const std::array<std::uint8_t, 2> port_octets{static_cast<std::uint8_t>(port >> 8), static_cast<std::uint8_t>(port)};
  // RFC 6347 4.2.1: the cookie is a keyed MAC of the client's transport address.
  return crypto::hmac(crypto::Hash::sha256(), m_cookie_key.view(), {ByteView(address.data(), length), port_octets});
}

int OpensslContext::cookie_generate_cb(SSL* ssl, unsigned char* cookie, unsigned int* length) {
  const auto* self = static_cast<const OpensslContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  auto mac = self->cookie_for(ssl);
  if (!mac) return 0;
  std::copy(mac->view().begin(), mac->view().end(), cookie);
  *length = static_cast<unsigned int>(mac->size());
  return 1;
}

int OpensslContext::cookie_verify_cb(SSL* ssl, const unsigned char* cookie, unsigned int length) {
  const auto* self = static_cast<const OpensslContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  auto mac = self->cookie_for(ssl);
  return mac && ct::equal(mac->view(), ByteView(cookie, length)) ? 1 : 0;
}

// ---- session ------------------------------------------------------------------------------------

Error OpensslSession::failure(int ret, std::string_view during) {
  const int code = SSL_get_error(m_ssl.get(), ret);
  const int reason = ERR_GET_REASON(ERR_peek_last_error());
  const bool eof = code == SSL_ERROR_SYSCALL || reason == SSL_R_UNEXPECTED_EOF_WHILE_READING;
  const bool timed_out = reason == SSL_R_READ_TIMEOUT_EXPIRED;
  // The socket returned EAGAIN: a blocking one's SO_RCVTIMEO / SO_SNDTIMEO expired.
  const bool would_block = code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE;
  Connection& c = *m_connection;
  std::string detail(during);
  if (c.failure) detail += ": " + c.failure->detail();
  if (timed_out) detail += ": the DTLS handshake timed out (DTLS does not answer a wrong key)";
  if (would_block) detail += blocking() ? ": timed out (the socket's timeout expired)" : ": the socket is not ready";
  if (eof) detail += ": the peer closed the transport without close_notify";
  detail = crypto::with_openssl_errors(detail);
  std::optional<std::uint8_t> alert = c.alert_sent ? c.alert_sent : c.alert_received;
  if (alert) detail += std::string("; alert ") + (c.alert_sent ? "sent: " : "received: ") + std::string(alert_name(*alert));
  Category category = Category::kProtocol;
  if (c.failure) category = c.failure->category();
  if (alert && is_authentication_alert(*alert)) category = Category::kAuth;
  if ((eof || timed_out || would_block) && !c.alert_received) category = Category::kIo;
  Error error(category, std::move(detail));
  return alert ? std::move(error).with_tls_alert(*alert) : error;
}

bool OpensslSession::blocking() const {
  const int flags = ::fcntl(SSL_get_fd(m_ssl.get()), F_GETFL);
  return flags >= 0 && (flags & O_NONBLOCK) == 0;
}

Result<Progress> OpensslSession::handshake() {
  if (m_established) return Progress::kDone;
  auto& deadline = m_connection->deadline;
  if (deadline == std::chrono::steady_clock::time_point{}) {
    deadline = std::chrono::steady_clock::now() + m_context->config().dtls_handshake_timeout;
  }
  for (;;) {
    ERR_clear_error();
    const int ret = SSL_do_handshake(m_ssl.get());
    if (ret == 1) {
      M2MSEC_TRY(finish_handshake());
      return Progress::kDone;
    }
    const int code = SSL_get_error(m_ssl.get(), ret);
    // On a blocking DTLS socket a read returns when the retransmission timer fires: retransmit and wait
    // again, until the deadline.
    if (code == SSL_ERROR_WANT_READ && SSL_is_dtls(m_ssl.get()) && blocking()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        return Error(Category::kIo, "the DTLS handshake timed out (a wrong key is not answered in DTLS)");
      }
      if (DTLSv1_handle_timeout(m_ssl.get()) < 0) return failure(-1, "DTLS retransmission");
      continue;
    }
    switch (code) {
      case SSL_ERROR_WANT_READ: return Progress::kWantRead;
      case SSL_ERROR_WANT_WRITE: return Progress::kWantWrite;
      default: return failure(ret, "handshake");
    }
  }
}

Result<void> OpensslSession::finish_handshake() {
  Connection& c = *m_connection;
  // Belt and braces: the callbacks already refused these, but an association is never handed out
  // without an identity or, on 1.2, without the extended master secret.
  const Config& config = m_context->config();
  if (config.profile->version == Version::kTls12 && SSL_get_extms_support(m_ssl.get()) != 1) {
    SSL_shutdown(m_ssl.get());
    return Error(Category::kProtocol, "no extended master secret").with_tls_alert(kHandshakeFailure);
  }
  const bool without_client_certificate = config.role == Role::kServer && config.peer_policy &&
                                          config.peer_policy->client_certificate_optional &&
                                          SSL_get0_peer_certificate(m_ssl.get()) == nullptr;
  if (c.peer.identity.empty() && !without_client_certificate) {
    SSL_shutdown(m_ssl.get());
    return Error(Category::kAuth, "handshake completed without a bound peer identity").with_tls_alert(kInternalError);
  }
  // No client certificate was presented, as allowed: no identifier, no identity (session.h).
  if (without_client_certificate) c.peer = AuthenticatedPeer{CredentialKind::kCertificate, {}, {}};
  m_established = true;
  return {};
}

Result<SecretBytes> OpensslSession::export_keying_material(std::string_view label, std::size_t length) const {
  if (!m_established) return Error::usage("no keying material before the handshake completes");
  if (length == 0) return Error::usage("export length must be positive");
  SecretBytes out(length);
  //= TS-0003 V3.18.0 §10.3.1
  //# RFC 5705 export with the oneM2M label; TS-0003 gives no context value, so none is used.
  if (SSL_export_keying_material(m_ssl.get(), out.data(), length, label.data(), label.size(), nullptr, 0, 0) != 1) {
    return backend_error("SSL_export_keying_material");
  }
  return out;
}

Result<Bytes> OpensslSession::channel_binding() const {
  if (!m_established) return Error::usage("no channel binding before the handshake completes");
  if (version() == Version::kTls13) {
    Bytes out(kTlsExporterLength);
    //= RFC 9266 §2
    //# tls-exporter: 32 octets of the exporter with the label "EXPORTER-Channel-Binding" and an empty context.
    if (SSL_export_keying_material(m_ssl.get(), out.data(), out.size(), kTlsExporterLabel.data(),
                                   kTlsExporterLabel.size(), nullptr, 0, 1) != 1) {
      return backend_error("SSL_export_keying_material (tls-exporter)");
    }
    return out;
  }
  //= RFC 5929 §3.1
  //# tls-unique: the first Finished message of the most recent handshake. Every handshake here is a full
  //# one (no resumption, no renegotiation), so it is the client's: sent at a client, received at a server.
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> finished{};
  const std::size_t length = m_context->config().role == Role::kClient
                                 ? SSL_get_finished(m_ssl.get(), finished.data(), finished.size())
                                 : SSL_get_peer_finished(m_ssl.get(), finished.data(), finished.size());
  if (length == 0 || length > finished.size()) return Error::internal("no Finished message for tls-unique");
  return Bytes(finished.begin(), finished.begin() + static_cast<std::ptrdiff_t>(length));
}

Result<std::size_t> OpensslSession::write(ByteView data) {
  if (!m_established) return Error::usage("write before the handshake completes");
  std::size_t written = 0;
  ERR_clear_error();
  const int ret = SSL_write_ex(m_ssl.get(), data.data(), data.size(), &written);
  if (ret != 1) return failure(ret, "write");
  return written;
}

Result<std::size_t> OpensslSession::read(std::span<std::uint8_t> out) {
  if (!m_established) return Error::usage("read before the handshake completes");
  std::size_t got = 0;
  ERR_clear_error();
  const int ret = SSL_read_ex(m_ssl.get(), out.data(), out.size(), &got);
  if (ret == 1) return got;
  if (SSL_get_error(m_ssl.get(), ret) == SSL_ERROR_ZERO_RETURN) return std::size_t{0};
  return failure(ret, "read");
}

Result<std::shared_ptr<Context>> make_openssl_context(Config config) {
  M2MSEC_ASSIGN_OR_RETURN(std::shared_ptr<OpensslContext> context, OpensslContext::create(std::move(config)));
  return std::shared_ptr<Context>(std::move(context));
}

}  // namespace m2msec::tls::detail

// One GnuTLS association with raw public keys: mutual authentication, the peer's key checked against its
// RFC 6920 identifier in the verify callback, extended master secret required on (D)TLS 1.2,
// renegotiation refused, RFC 5705 export without context.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

#include "backend.h"
#include "gnutls_backend.h"
#include "m2msec/pki/identity.h"

namespace m2msec::tls::detail::gnutls {
namespace {

bool is_auth_error(int rc) {
  switch (rc) {
    case GNUTLS_E_CERTIFICATE_ERROR:
    case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
    case GNUTLS_E_CERTIFICATE_REQUIRED:
    case GNUTLS_E_NO_CERTIFICATE_FOUND:
    case GNUTLS_E_PK_SIG_VERIFY_FAILED:
    case GNUTLS_E_ERROR_IN_FINISHED_PACKET:
      return true;
    default:
      return false;
  }
}

// Failures of the transport itself: no alert can be sent or was received.
bool is_io_error(int rc) {
  return rc == GNUTLS_E_PUSH_ERROR || rc == GNUTLS_E_PULL_ERROR || rc == GNUTLS_E_PREMATURE_TERMINATION ||
         rc == GNUTLS_E_TIMEDOUT;
}

std::string alert_text(std::uint8_t alert) {
  return std::string(alert_name(alert)) + " (" + std::to_string(alert) + ")";
}

class GnutlsSession final : public Session {
 public:
  GnutlsSession(std::shared_ptr<const Shared> shared, int fd) : m_shared(std::move(shared)), m_fd(fd) {}

  Result<void> init(const gnutls_dtls_prestate_st* prestate) {
    const Config& c = m_shared->config;
    const bool dtls = c.profile->transport == Transport::kDtls;
    const int fl = fcntl(m_fd, F_GETFL);
    if (fl < 0) return Error(Category::kIo, std::string("fcntl: ") + std::strerror(errno));
    m_nonblocking = (fl & O_NONBLOCK) != 0;

    unsigned flags = (c.role == Role::kServer ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_ENABLE_RAWPK |
                     GNUTLS_NO_SIGNAL | GNUTLS_NO_TICKETS;
    if (dtls) flags |= GNUTLS_DATAGRAM;
    if (m_nonblocking) flags |= GNUTLS_NONBLOCK;
    gnutls_session_t s = nullptr;
    int rc = gnutls_init(&s, flags);
    if (rc < 0) return Error::crypto(std::string("gnutls_init: ") + gnutls_strerror(rc));
    m_session.reset(s);
    gnutls_session_set_ptr(s, this);

    rc = gnutls_priority_set(s, m_shared->priority.get());
    if (rc < 0) return Error::crypto(std::string("gnutls_priority_set: ") + gnutls_strerror(rc));
    rc = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, m_shared->credentials.get());
    if (rc < 0) return Error::crypto(std::string("gnutls_credentials_set: ") + gnutls_strerror(rc));
    if (c.role == Role::kServer) {
      //= TS-0003 V3.18.0 §8.2.2.2
      //# Mutual authentication: the server requests the client's key and refuses a handshake without one.
      gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
    } else {
      //= TS-0003 V3.18.0 §10.2.1
      //# The client puts the authority of its peer in the SNI HostName (RFC 6066 clause 3).
      if (c.server_name.empty()) return Error::usage("a client needs a server name for SNI");
      rc = gnutls_server_name_set(s, GNUTLS_NAME_DNS, c.server_name.data(), c.server_name.size());
      if (rc < 0) return Error::crypto(std::string("gnutls_server_name_set: ") + gnutls_strerror(rc));
    }
    if (c.profile->version == Version::kTls12) {
      // Extended master secret (RFC 7627) is required on 1.2: checked as soon as the hello that
      // negotiates it is processed, so that no session without it completes.
      gnutls_handshake_set_hook_function(
          s, c.role == Role::kServer ? GNUTLS_HANDSHAKE_CLIENT_HELLO : GNUTLS_HANDSHAKE_SERVER_HELLO, GNUTLS_HOOK_POST,
          ems_hook);
    }
    gnutls_transport_set_int(s, m_fd);
    gnutls_handshake_set_timeout(s, kHandshakeTimeoutMs);
    if (dtls) {
      gnutls_dtls_set_mtu(s, kDtlsMtu);
      gnutls_dtls_set_timeouts(s, kDtlsRetransmitMs, kHandshakeTimeoutMs);
      if (prestate != nullptr) gnutls_dtls_prestate_set(s, const_cast<gnutls_dtls_prestate_st*>(prestate));
    }
    return {};
  }

  Result<Progress> handshake() override {
    if (m_state == State::kEstablished) return Progress::kDone;
    if (m_state == State::kFailed) return *m_failure;
    for (;;) {
      const int rc = gnutls_handshake(m_session.get());
      if (rc == GNUTLS_E_SUCCESS) break;
      if (rc == GNUTLS_E_AGAIN) {
        if (!m_nonblocking) return fail_handshake(GNUTLS_E_TIMEDOUT);
        // DTLS: GnuTLS leaves the direction of its last send when it waits for the peer's next flight,
        // and a UDP send practically never blocks: the handshake waits for a datagram. (If a send did
        // block, the peer's retransmission wakes us up and GnuTLS retries the send then.)
        if (m_shared->config.profile->transport == Transport::kDtls) return Progress::kWantRead;
        return gnutls_record_get_direction(m_session.get()) == 1 ? Progress::kWantWrite : Progress::kWantRead;
      }
      // Interrupted calls and warning alerts (never fatal) let the handshake go on.
      if (rc == GNUTLS_E_INTERRUPTED || rc == GNUTLS_E_WARNING_ALERT_RECEIVED) continue;
      return fail_handshake(rc);
    }
    M2MSEC_TRY(check_established());
    m_state = State::kEstablished;
    return Progress::kDone;
  }

  const AuthenticatedPeer& peer() const override {
    M2MSEC_CHECK(m_state == State::kEstablished);
    return m_peer;
  }
  std::string cipher_suite() const override {
    M2MSEC_CHECK(m_state == State::kEstablished);
    return m_cipher_suite;
  }
  Version version() const override { return m_shared->config.profile->version; }

  Result<SecretBytes> export_keying_material(std::string_view label, std::size_t length) const override {
    if (m_state != State::kEstablished) return Error::usage("no established association to export keys from");
    if (label.empty() || length == 0 || length > 0xFFFF) return Error::usage("bad exporter label or length");
    SecretBytes out(length);
    //= TS-0003 V3.18.0 §10.3.1
    //# RFC 5705 keying material export; TS-0003 gives no context value, so none is used (NULL, not empty).
    const int rc = gnutls_prf_rfc5705(m_session.get(), label.size(), label.data(), 0, nullptr, length,
                                      reinterpret_cast<char*>(out.data()));
    if (rc < 0) return Error::crypto(std::string("keying material export failed: ") + gnutls_strerror(rc));
    return out;
  }

  Result<Bytes> channel_binding() const override {
    if (m_state != State::kEstablished) return Error::usage("no channel binding before the handshake completes");
    // Computed by GnuTLS: tls-exporter on TLS 1.3 (RFC 9266 2), tls-unique on (D)TLS 1.2 (RFC 5929 3.1).
    const gnutls_channel_binding_t type =
        version() == Version::kTls13 ? GNUTLS_CB_TLS_EXPORTER : GNUTLS_CB_TLS_UNIQUE;
    gnutls_datum_t cb{};
    const int rc = gnutls_session_channel_binding(m_session.get(), type, &cb);
    if (rc < 0) return Error::crypto(std::string("channel binding: ") + gnutls_strerror(rc));
    Bytes out(cb.data, cb.data + cb.size);
    gnutls_free(cb.data);
    return out;
  }

  Result<std::size_t> write(ByteView data) override {
    if (m_state != State::kEstablished) return Error::usage("no established association");
    const bool dtls = m_shared->config.profile->transport == Transport::kDtls;
    if (dtls && data.size() > gnutls_dtls_get_data_mtu(m_session.get())) {
      return Error::usage("datagram larger than the DTLS record payload limit");
    }
    std::size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = gnutls_record_send(m_session.get(), data.data() + sent, data.size() - sent);
      if (n >= 0) {
        sent += static_cast<std::size_t>(n);
        if (dtls) break;  // one datagram per call
        continue;
      }
      const int rc = static_cast<int>(n);
      if (rc == GNUTLS_E_INTERRUPTED) continue;
      if (rc == GNUTLS_E_AGAIN) {
        M2MSEC_TRY(wait_io());
        continue;
      }
      return record_error(rc);
    }
    return sent;
  }

  Result<std::size_t> read(std::span<std::uint8_t> out) override {
    if (m_state != State::kEstablished) return Error::usage("no established association");
    for (;;) {
      const ssize_t n = gnutls_record_recv(m_session.get(), out.data(), out.size());
      if (n >= 0) return static_cast<std::size_t>(n);
      const int rc = static_cast<int>(n);
      if (rc == GNUTLS_E_INTERRUPTED) continue;
      if (rc == GNUTLS_E_AGAIN) {
        M2MSEC_TRY(wait_io());
        continue;
      }
      if (rc == GNUTLS_E_REHANDSHAKE) {
        // Renegotiation is refused (seed 000 item 3); the association goes on.
        send_alert(GNUTLS_AL_WARNING, kAlertNoRenegotiation);
        continue;
      }
      if (!gnutls_error_is_fatal(rc)) continue;  // warning alerts; DTLS drops bad records itself
      return record_error(rc);
    }
  }

  void close() override {
    if (m_state != State::kEstablished) return;
    m_state = State::kClosed;
    // Best effort: close_notify only (SHUT_WR), no wait for the peer's.
    for (int tries = 0; tries < 100; ++tries) {
      const int rc = gnutls_bye(m_session.get(), GNUTLS_SHUT_WR);
      if (rc == GNUTLS_E_AGAIN && m_nonblocking && wait_io(1000)) continue;
      if (rc == GNUTLS_E_INTERRUPTED) continue;
      break;
    }
  }

  // The verify callback's work (TS-0003 8.1.2.5 1, 10.1.2). Returns 0 to go on.
  int verify_peer() {
    const Config& c = m_shared->config;
    if (gnutls_certificate_type_get2(m_session.get(), GNUTLS_CTYPE_PEERS) != GNUTLS_CRT_RAWPK) {
      return reject(kAlertUnsupportedCertificate, "the peer did not present a raw public key");
    }
    unsigned count = 0;
    const gnutls_datum_t* keys = gnutls_certificate_get_peers(m_session.get(), &count);
    if (keys == nullptr || count != 1 || keys[0].size == 0) {
      return reject(kAlertBadCertificate, "the peer presented no raw public key");
    }
    const ByteView spki(keys[0].data, keys[0].size);
    //= TS-0003 V3.18.0 §10.1.1.2
    //# A raw public key is id-ecPublicKey on secp256r1, uncompressed (the common profile, 10.1.1.1).
    if (!key_fits_profile(spki, *c.profile)) {
      return reject(kAlertUnsupportedCertificate, "the peer's raw public key does not fit the profile");
    }
    const auto& expected = c.raw_public_key->expected_peer;
    if (expected) {
      //= TS-0003 V3.18.0 §10.1.2
      //# Hash the received key with the suite of the configured identifier and compare the digests.
      if (!expected->matches(spki)) {
        return reject(kAlertBadCertificate, "the peer's raw public key does not match the configured identifier");
      }
      m_peer.identifier = expected->to_string();
    } else {
      // No identifier configured: any key proves possession; the server resolves the Credential-ID
      // (type 30) of this identifier later (8.2.2.2 step 4).
      m_peer.identifier = pki::PublicKeyId::of(spki, pki::NiSuite::kSha256).to_string();
    }
    m_peer.kind = CredentialKind::kRawPublicKey;
    //= TS-0003 V3.18.0 §8.2.2.2
    //# A binds to IdB in every case; B binds to the Credential-ID of the key identifier (resolved later).
    m_peer.identity = c.role == Role::kClient ? (c.peer_identity.empty() ? c.server_name : c.peer_identity)
                                              : m_peer.identifier;
    m_peer_verified = true;
    return 0;
  }

 private:
  enum class State { kHandshaking, kEstablished, kFailed, kClosed };

  static int ems_hook(gnutls_session_t s, unsigned /*htype*/, unsigned /*when*/, unsigned /*incoming*/,
                      const gnutls_datum_t* /*msg*/) {
    auto* self = static_cast<GnutlsSession*>(gnutls_session_get_ptr(s));
    if (self == nullptr) return GNUTLS_E_INTERNAL_ERROR;
    if (gnutls_session_ext_master_secret_status(s) == 0) {
      self->m_local_alert = kAlertHandshakeFailure;
      self->m_local_reason = "the peer does not use the extended master secret (RFC 7627)";
      self->m_local_is_auth = false;
      return GNUTLS_E_INSUFFICIENT_SECURITY;
    }
    return 0;
  }

  int reject(std::uint8_t alert, std::string reason) {
    m_local_alert = alert;
    m_local_reason = std::move(reason);
    m_local_is_auth = true;
    return GNUTLS_E_CERTIFICATE_ERROR;
  }

  // Sends an alert, retrying a while on a non-blocking socket. GnuTLS does not send one when a handshake
  // fails; this backend does, and records which.
  void send_alert(gnutls_alert_level_t level, std::uint8_t alert) {
    for (int tries = 0; tries < 100; ++tries) {
      const int rc = gnutls_alert_send(m_session.get(), level, static_cast<gnutls_alert_description_t>(alert));
      if (rc == GNUTLS_E_AGAIN && m_nonblocking && wait_io(1000)) continue;
      if (rc == GNUTLS_E_INTERRUPTED) continue;
      return;
    }
  }

  // Waits until the socket is ready in the direction GnuTLS last needed. A blocking socket gets here too:
  // when its SO_RCVTIMEO / SO_SNDTIMEO expired, and when GnuTLS consumed a post-handshake message (a TLS
  // 1.3 NewSessionTicket) and has no data yet; the wait is bounded by that timeout of the socket.
  Result<void> wait_io() {
    const bool sending = gnutls_record_get_direction(m_session.get()) == 1;
    if (!wait_io(m_nonblocking ? -1 : socket_timeout_ms(sending ? SO_SNDTIMEO : SO_RCVTIMEO))) {
      return Error(Category::kIo, std::string(sending ? "write" : "read") + ": timed out (the socket's timeout expired)");
    }
    return {};
  }
  int socket_timeout_ms(int option) const {
    timeval tv{};
    socklen_t length = sizeof tv;
    if (getsockopt(m_fd, SOL_SOCKET, option, &tv, &length) != 0 || (tv.tv_sec == 0 && tv.tv_usec == 0)) return -1;
    return static_cast<int>(tv.tv_sec * 1000 + tv.tv_usec / 1000);
  }
  bool wait_io(int timeout_ms) {
    pollfd p{m_fd, static_cast<short>(gnutls_record_get_direction(m_session.get()) == 1 ? POLLOUT : POLLIN), 0};
    for (;;) {
      const int rc = poll(&p, 1, timeout_ms);
      if (rc < 0 && errno == EINTR) continue;
      return rc > 0;
    }
  }

  Error fail_handshake(int rc) {
    std::optional<std::uint8_t> alert;
    Category category = Category::kProtocol;
    std::string detail = "handshake failed: ";
    // GnuTLS reports a fatal alert that arrives instead of a required client Certificate as
    // "no certificate found"; the alert is still recorded (gnutls_alert_get is 0 until one arrives).
    const bool alert_instead_of_certificate =
        rc == GNUTLS_E_NO_CERTIFICATE_FOUND && gnutls_alert_get(m_session.get()) != GNUTLS_A_CLOSE_NOTIFY;
    if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED || alert_instead_of_certificate) {
      alert = static_cast<std::uint8_t>(gnutls_alert_get(m_session.get()));
      category = is_authentication_alert(*alert) ? Category::kAuth : Category::kProtocol;
      detail += "the peer sent " + alert_text(*alert);
    } else if (m_local_alert) {
      alert = m_local_alert;
      category = m_local_is_auth ? Category::kAuth : Category::kProtocol;
      detail += m_local_reason + "; sent " + alert_text(*alert);
      send_alert(GNUTLS_AL_FATAL, *alert);
    } else if (is_io_error(rc)) {
      category = Category::kIo;
      detail += gnutls_strerror(rc);
    } else {
      int level = 0;
      const int mapped = gnutls_error_to_alert(rc, &level);
      alert = static_cast<std::uint8_t>(mapped >= 0 ? mapped : kAlertInternalError);
      category = is_auth_error(rc) ? Category::kAuth : Category::kProtocol;
      detail += std::string(gnutls_strerror(rc)) + "; sent " + alert_text(*alert);
      send_alert(GNUTLS_AL_FATAL, *alert);
    }
    return remember(alert ? Error(category, std::move(detail)).with_tls_alert(*alert)
                          : Error(category, std::move(detail)));
  }

  // After gnutls_handshake succeeded: what this backend requires beyond it (fail closed).
  Result<void> check_established() {
    gnutls_session_t s = m_session.get();
    const Config& c = m_shared->config;
    auto refuse = [this](Category category, std::uint8_t alert, std::string reason) {
      send_alert(GNUTLS_AL_FATAL, alert);
      return remember(Error(category, "handshake failed: " + reason + "; sent " + alert_text(alert))
                          .with_tls_alert(alert));
    };
    if (!m_peer_verified || gnutls_certificate_type_get2(s, GNUTLS_CTYPE_PEERS) != GNUTLS_CRT_RAWPK ||
        gnutls_certificate_type_get2(s, GNUTLS_CTYPE_OURS) != GNUTLS_CRT_RAWPK) {
      return refuse(Category::kAuth, kAlertHandshakeFailure, "the peer's raw public key was not verified");
    }
    const gnutls_protocol_t expected = c.profile->transport == Transport::kDtls ? GNUTLS_DTLS1_2
                                       : c.profile->version == Version::kTls13 ? GNUTLS_TLS1_3
                                                                               : GNUTLS_TLS1_2;
    if (gnutls_protocol_get_version(s) != expected) {
      return refuse(Category::kProtocol, kAlertHandshakeFailure, "another protocol version was negotiated");
    }
    if (expected != GNUTLS_TLS1_3 && gnutls_session_ext_master_secret_status(s) == 0) {
      return refuse(Category::kProtocol, kAlertHandshakeFailure, "no extended master secret (RFC 7627)");
    }
    const char* suite = gnutls_ciphersuite_get(s);
    const auto iana = iana_suite_name(suite != nullptr ? suite : "", *c.profile);
    if (!iana) return refuse(Category::kProtocol, kAlertHandshakeFailure, "a suite outside the profile was negotiated");
    m_cipher_suite = std::string(*iana);
    return {};
  }

  Error record_error(int rc) {
    if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED) {
      const auto alert = static_cast<std::uint8_t>(gnutls_alert_get(m_session.get()));
      return Error(is_authentication_alert(alert) ? Category::kAuth : Category::kProtocol,
                   "the peer sent " + alert_text(alert))
          .with_tls_alert(alert);
    }
    return Error(is_io_error(rc) ? Category::kIo : Category::kProtocol, gnutls_strerror(rc));
  }

  Error remember(Error e) {
    m_state = State::kFailed;
    m_failure = e;
    return e;
  }

  std::shared_ptr<const Shared> m_shared;
  int m_fd;
  bool m_nonblocking = false;
  SessionPtr m_session;
  State m_state = State::kHandshaking;
  std::optional<Error> m_failure;
  // The alert this end decided to send from a callback, and why.
  std::optional<std::uint8_t> m_local_alert;
  std::string m_local_reason;
  bool m_local_is_auth = false;
  bool m_peer_verified = false;
  AuthenticatedPeer m_peer{CredentialKind::kRawPublicKey, {}, {}};
  std::string m_cipher_suite;
};

}  // namespace

int verify_peer_callback(gnutls_session_t session) {
  auto* self = static_cast<GnutlsSession*>(gnutls_session_get_ptr(session));
  if (self == nullptr) return GNUTLS_E_CERTIFICATE_ERROR;
  return self->verify_peer();
}

Result<std::unique_ptr<Session>> make_session(std::shared_ptr<const Shared> shared, int fd,
                                              const gnutls_dtls_prestate_st* prestate) {
  auto session = std::make_unique<GnutlsSession>(std::move(shared), fd);
  M2MSEC_TRY(session->init(prestate));
  return std::unique_ptr<Session>(std::move(session));
}

}  // namespace m2msec::tls::detail::gnutls

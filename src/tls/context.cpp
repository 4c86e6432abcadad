// Context::create: checks a Config against its profile (fail closed: a missing credential, or one the
// profile does not use, is an error) and hands it to the backend that can honour it.
#include <fcntl.h>
#include <poll.h>

#include <array>
#include <utility>

#include "backend.h"
#include "m2msec/tls/hello.h"

namespace m2msec::tls {
namespace {

Result<void> require(bool condition, std::string_view what) {
  if (!condition) return Error::usage(std::string(what));
  return {};
}

// Certificate status by stapling (RFC 6066 clause 8) is asked for by a client and served by a server; a
// client certificate can be optional only at a server.
Result<void> check_certificate_roles(const Config& c) {
  const bool server = c.role == Role::kServer;
  M2MSEC_TRY(require(server || !c.ocsp_staple, "only a server staples an OCSP response"));
  M2MSEC_TRY(require(!server || c.peer_policy->status == PeerCertificatePolicy::StatusCheck::kNone,
                     "only a client checks a stapled certificate status"));
  return require(server || !c.peer_policy->client_certificate_optional,
                 "only a server can make the client certificate optional");
}

Result<void> check_credentials(const Config& c) {
  const bool server = c.role == Role::kServer;
  switch (c.profile->credential) {
    case CredentialKind::kPsk:
      M2MSEC_TRY(require(server ? c.psk_resolver != nullptr : c.psk.has_value(),
                         server ? "a PSK server needs a psk_identity resolver" : "a PSK client needs a psk_identity and key"));
      return require(!c.certificate && !c.peer_policy && !c.raw_public_key && !c.ocsp_staple,
                     "a PSK profile takes no certificate, OCSP staple or raw key");
    case CredentialKind::kCertificate:
      //= TS-0003 V3.18.0 §8.2.2.2
      //# Both ends authenticate with certificates: own credential and a trust anchor for the peer on each.
      M2MSEC_TRY(require(c.certificate.has_value(), "a certificate profile needs an own certificate and key"));
      M2MSEC_TRY(require(c.peer_policy.has_value(), "a certificate profile needs a trust anchor for the peer"));
      M2MSEC_TRY(check_certificate_roles(c));
      return require(!c.psk_resolver && !c.psk && !c.raw_public_key, "a certificate profile takes no PSK or raw key");
    case CredentialKind::kRawPublicKey:
      M2MSEC_TRY(require(c.raw_public_key.has_value(), "a raw-public-key profile needs an own key"));
      return require(!c.psk_resolver && !c.psk && !c.certificate && !c.peer_policy && !c.ocsp_staple,
                     "a raw-public-key profile takes no PSK, certificate or OCSP staple");
  }
  return Error::internal("unknown credential kind");
}

}  // namespace

Result<std::shared_ptr<Context>> Context::create(Config config) {
  if (config.profile == nullptr) return Error::usage("no security profile");
  if (config.role == Role::kClient) {
    //= TS-0003 V3.18.0 §10.2.1
    //# Every (D)TLS client puts its peer's authority in the SNI HostName (RFC 6066 clause 3).
    auto name = parse_host_name(config.server_name);
    if (!name) return Error::usage("the server name (SNI) must be a DNS host name: " + name.error().detail());
    config.server_name = name->text();
    if (config.peer_identity.empty()) config.peer_identity = config.server_name;
  }
  M2MSEC_TRY(check_credentials(config));
  if (!config.clock) config.clock = std::make_shared<SystemClock>();
  if (config.profile->credential == CredentialKind::kRawPublicKey) return detail::make_gnutls_context(std::move(config));
  return detail::make_openssl_context(std::move(config));
}

namespace detail {

std::string_view alert_name(std::uint8_t alert) {
  struct Row {
    std::uint8_t code;
    std::string_view name;
  };
  // RFC 8446 clause 6.2, with the TLS 1.2 codes of RFC 5246 clause 7.2.
  static constexpr std::array kAlerts{
      Row{0, "close_notify"},          Row{10, "unexpected_message"},     Row{20, "bad_record_mac"},
      Row{21, "decryption_failed"},    Row{22, "record_overflow"},        Row{40, "handshake_failure"},
      Row{42, "bad_certificate"},      Row{43, "unsupported_certificate"}, Row{44, "certificate_revoked"},
      Row{45, "certificate_expired"},  Row{46, "certificate_unknown"},    Row{47, "illegal_parameter"},
      Row{48, "unknown_ca"},           Row{49, "access_denied"},          Row{50, "decode_error"},
      Row{51, "decrypt_error"},        Row{70, "protocol_version"},       Row{71, "insufficient_security"},
      Row{80, "internal_error"},       Row{86, "inappropriate_fallback"}, Row{90, "user_canceled"},
      Row{100, "no_renegotiation"},    Row{109, "missing_extension"},     Row{110, "unsupported_extension"},
      Row{112, "unrecognized_name"},   Row{113, "bad_certificate_status_response"},
      Row{115, "unknown_psk_identity"}, Row{116, "certificate_required"}, Row{120, "no_application_protocol"},
  };
  for (const Row& r : kAlerts) {
    if (r.code == alert) return r.name;
  }
  return "unknown_alert";
}

bool is_authentication_alert(std::uint8_t alert) {
  switch (alert) {
    case 20:   // bad_record_mac: a TLS 1.2 Finished under a wrong PSK does not decrypt
    case 42:   // bad_certificate
    case 43:   // unsupported_certificate
    case 44:   // certificate_revoked
    case 45:   // certificate_expired
    case 46:   // certificate_unknown
    case 47:   // illegal_parameter: what OpenSSL 3.0 and GnuTLS 3.7 send for a TLS 1.3 binder under a wrong PSK
    case 48:   // unknown_ca
    case 49:   // access_denied
    case 51:   // decrypt_error: a signature, Finished or binder that does not verify
    case 113:  // bad_certificate_status_response: the stapled OCSP response does not show the certificate good
    case 115:  // unknown_psk_identity
    case 116:  // certificate_required
      return true;
    default:
      return false;
  }
}

bool more_datagrams(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0 && (flags & O_NONBLOCK) == 0) return true;
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0;
}

}  // namespace detail
}  // namespace m2msec::tls

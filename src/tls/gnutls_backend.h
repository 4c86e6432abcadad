// Internal: the GnuTLS backend (raw-public-key profiles, RFC 7250; OpenSSL 3.0 cannot negotiate them).
// gnutls_context.cpp turns a SecurityProfile into a GnuTLS priority string and holds the credentials;
// gnutls_session.cpp runs one association. Nothing here is a public header.
#pragma once

#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"
#include "m2msec/tls/session.h"

namespace m2msec::tls::detail::gnutls {

// TLS alert descriptions this backend sends itself (RFC 8446 clause 6.2).
inline constexpr std::uint8_t kAlertHandshakeFailure = 40;
inline constexpr std::uint8_t kAlertBadCertificate = 42;
inline constexpr std::uint8_t kAlertUnsupportedCertificate = 43;
inline constexpr std::uint8_t kAlertInternalError = 80;
inline constexpr std::uint8_t kAlertNoRenegotiation = 100;

// DTLS: the largest UDP payload that crosses any IPv6 path unfragmented (1280 - 40 - 8), the
// retransmission timer's start value and the whole handshake's limit (also used for TLS).
inline constexpr unsigned kDtlsMtu = 1232;
inline constexpr unsigned kDtlsRetransmitMs = 1000;
inline constexpr unsigned kHandshakeTimeoutMs = 30000;

struct CredentialsFree {
  void operator()(gnutls_certificate_credentials_t c) const { gnutls_certificate_free_credentials(c); }
};
struct PriorityFree {
  void operator()(gnutls_priority_t p) const { gnutls_priority_deinit(p); }
};
struct SessionFree {
  void operator()(gnutls_session_t s) const { gnutls_deinit(s); }
};
using CredentialsPtr = std::unique_ptr<std::remove_pointer_t<gnutls_certificate_credentials_t>, CredentialsFree>;
using PriorityPtr = std::unique_ptr<std::remove_pointer_t<gnutls_priority_t>, PriorityFree>;
using SessionPtr = std::unique_ptr<std::remove_pointer_t<gnutls_session_t>, SessionFree>;

// What a Context shares with its sessions (which may outlive it): immutable after construction, so
// sessions on several threads read it without locking.
struct Shared {
  Config config;
  CredentialsPtr credentials;  // own raw public key + private key, and the verify callback
  PriorityPtr priority;        // built from config.profile only
  SecretBytes cookie_key;      // DTLS server: HMAC key of the stateless cookies (random per Context)
};

// The IANA name of a negotiated suite, when it is one of the profile's (GnuTLS's canonical name, checked
// against the table in gnutls_context.cpp).
std::optional<std::string_view> iana_suite_name(std::string_view gnutls_canonical_name,
                                                const SecurityProfile& profile);

// Whether a DER SubjectPublicKeyInfo holds a key usable with one of the profile's signature schemes
// (TS-0003 10.1.1.1: id-ecPublicKey on secp256r1, uncompressed point).
bool key_fits_profile(ByteView spki_der, const SecurityProfile& profile);

// The verify callback installed on the credentials (gnutls_certificate_set_verify_function); it hands
// over to the session found through gnutls_session_get_ptr.
int verify_peer_callback(gnutls_session_t session);

// A session over fd; prestate continues a DTLS handshake whose cookie exchange Context::accept_datagram
// ran.
Result<std::unique_ptr<Session>> make_session(std::shared_ptr<const Shared> shared, int fd,
                                              const gnutls_dtls_prestate_st* prestate);

}  // namespace m2msec::tls::detail::gnutls

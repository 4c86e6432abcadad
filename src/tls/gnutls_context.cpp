// The GnuTLS backend's Context: raw-public-key profiles (RFC 7250) for TLS 1.2, TLS 1.3 and DTLS 1.2.
// The priority string is built from the SecurityProfile alone (fail closed: a name this file cannot map
// is an error, and the suites GnuTLS ends up offering must be exactly the profile's, in its order).
#include <gnutls/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "backend.h"
#include "gnutls_backend.h"

namespace m2msec::tls::detail {
namespace gnutls {
namespace {

using namespace std::string_view_literals;

// IANA cipher suite name -> code point and the GnuTLS priority keywords that enable it (the suites of the
// raw-public-key profiles; a profile naming another suite fails to build). GnuTLS enables the
// cross product of the kx/cipher/MAC keywords; the check after gnutls_priority_init rejects any extra.
struct SuiteRow {
  std::string_view iana;
  std::uint8_t code[2];
  std::string_view kx;  // empty for TLS 1.3 suites
  std::string_view cipher;
  std::string_view mac;
  bool tls13;
};
constexpr std::array kSuites{
    SuiteRow{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", {0xC0, 0x23}, "ECDHE-ECDSA", "AES-128-CBC", "SHA256", false},
    SuiteRow{"TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", {0xC0, 0xAE}, "ECDHE-ECDSA", "AES-128-CCM-8", "AEAD", false},
    SuiteRow{"TLS_AES_128_GCM_SHA256", {0x13, 0x01}, "", "AES-128-GCM", "AEAD", true},
    SuiteRow{"TLS_AES_128_CCM_8_SHA256", {0x13, 0x05}, "", "AES-128-CCM-8", "AEAD", true},
};

// RFC 8446 / RFC 8422 group names -> GnuTLS keyword.
struct GroupRow {
  std::string_view name;
  std::string_view keyword;
};
constexpr std::array kGroups{
    GroupRow{"secp256r1", "GROUP-SECP256R1"},
};

// RFC 8446 signature scheme names -> GnuTLS keywords (GnuTLS names the 1.2 code point without the curve,
// the 1.3 one with it) and the key that can make such signatures (OpenSSL type and group name).
struct SchemeRow {
  std::string_view name;
  std::string_view tls12_keyword;
  std::string_view tls13_keyword;
  std::string_view key_type;
  std::string_view key_group;
};
constexpr std::array kSchemes{
    SchemeRow{"ecdsa_secp256r1_sha256", "SIGN-ECDSA-SHA256", "SIGN-ECDSA-SECP256R1-SHA256", "EC", "prime256v1"},
};

template <typename Row, std::size_t N>
const Row* find_row(const std::array<Row, N>& table, std::string_view name) {
  for (const Row& r : table) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

const SuiteRow* find_suite(std::string_view iana) {
  for (const SuiteRow& r : kSuites) {
    if (r.iana == iana) return &r;
  }
  return nullptr;
}

void append_unique(std::vector<std::string_view>& list, std::string_view keyword) {
  for (std::string_view k : list) {
    if (k == keyword) return;
  }
  list.push_back(keyword);
}

Result<std::string> priority_string(const SecurityProfile& profile, Role role) {
  const bool tls13 = profile.version == Version::kTls13;
  if (profile.transport == Transport::kDtls && tls13) return Error::unsupported("DTLS 1.3 is not available");
  if (profile.cipher_suites.empty() || profile.groups.empty() || profile.signature_schemes.empty()) {
    return Error::usage("profile " + std::string(profile.name) + " lacks suites, groups or signature schemes");
  }
  std::vector<std::string_view> kx, ciphers, macs, groups, schemes;
  for (std::string_view name : profile.cipher_suites) {
    const SuiteRow* row = find_suite(name);
    if (row == nullptr) return Error::unsupported("cipher suite not available with GnuTLS: " + std::string(name));
    if (row->tls13 != tls13) return Error::usage("cipher suite of another TLS version: " + std::string(name));
    if (!row->kx.empty()) append_unique(kx, row->kx);
    append_unique(ciphers, row->cipher);
    append_unique(macs, row->mac);
  }
  for (std::string_view name : profile.groups) {
    const GroupRow* row = find_row(kGroups, name);
    if (row == nullptr) return Error::unsupported("group not available with GnuTLS: " + std::string(name));
    append_unique(groups, row->keyword);
  }
  for (std::string_view name : profile.signature_schemes) {
    const SchemeRow* row = find_row(kSchemes, name);
    if (row == nullptr) return Error::unsupported("signature scheme not available with GnuTLS: " + std::string(name));
    append_unique(schemes, tls13 ? row->tls13_keyword : row->tls12_keyword);
  }

  std::string s = "NONE";
  auto add = [&s](std::string_view prefix, std::string_view keyword) {
    s += ':';
    s += prefix;
    s += keyword;
  };
  //= TS-0003 V3.18.0 §10.2.1
  //# TCP: TLS 1.2 (TLS 1.3 as its own profile); UDP: DTLS 1.2.
  add("+", profile.transport == Transport::kDtls ? "VERS-DTLS1.2"sv : tls13 ? "VERS-TLS1.3"sv : "VERS-TLS1.2"sv);
  for (auto k : kx) add("+", k);
  for (auto k : ciphers) add("+", k);
  for (auto k : macs) add("+", k);
  for (auto k : groups) add("+", k);
  for (auto k : schemes) add("+", k);
  add("+", "COMP-NULL");
  //= TS-0003 V3.18.0 §10.2.3
  //# Raw public keys are authenticated with RFC 7250 (client_certificate_type / server_certificate_type).
  add("+", "CTYPE-CLI-RAWPK");
  add("+", "CTYPE-SRV-RAWPK");
  // Secure renegotiation (RFC 5746) required of the peer; renegotiation itself is refused by the
  // session. Extended master secret is on by default (no %NO_SESSION_HASH) and required by the session.
  // No tickets: every association runs the full handshake and so the peer-key check.
  add("%", "SAFE_RENEGOTIATION");
  add("%", "NO_TICKETS");
  if (role == Role::kServer) add("%", "SERVER_PRECEDENCE");
  return s;
}

// The suites GnuTLS will offer/accept must be exactly the profile's, in its order.
Result<void> check_suites(gnutls_priority_t priority, const SecurityProfile& profile) {
  std::vector<std::string_view> enabled;
  for (unsigned i = 0;; ++i) {
    unsigned index = 0;
    const int rc = gnutls_priority_get_cipher_suite_index(priority, i, &index);
    if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) break;
    if (rc < 0) continue;  // an entry not usable in this build
    unsigned char id[2] = {0, 0};
    if (gnutls_cipher_suite_info(index, id, nullptr, nullptr, nullptr, nullptr) == nullptr) continue;
    const SuiteRow* row = nullptr;
    for (const SuiteRow& r : kSuites) {
      if (r.code[0] == id[0] && r.code[1] == id[1]) row = &r;
    }
    if (row == nullptr) return Error::internal("GnuTLS enables a cipher suite outside the table");
    enabled.push_back(row->iana);
  }
  if (enabled.size() != profile.cipher_suites.size() ||
      !std::equal(enabled.begin(), enabled.end(), profile.cipher_suites.begin())) {
    std::string got;
    for (auto name : enabled) got += std::string(got.empty() ? "" : ",") + std::string(name);
    return Error::internal("GnuTLS would negotiate other cipher suites than profile " + std::string(profile.name) +
                           ": " + got);
  }
  return {};
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};

bool evp_key_fits(EVP_PKEY* key, const SecurityProfile& profile) {
  for (std::string_view name : profile.signature_schemes) {
    const SchemeRow* row = find_row(kSchemes, name);
    if (row == nullptr || !EVP_PKEY_is_a(key, std::string(row->key_type).c_str())) continue;
    char group[64] = {};
    std::size_t length = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &length) != 1) continue;
    if (std::string_view(group, length) != row->key_group) continue;
    //= TS-0003 V3.18.0 §10.1.1.1
    //# The public key is an uncompressed point (RFC 5480).
    if (EVP_PKEY_get_ec_point_conv_form(key) == POINT_CONVERSION_UNCOMPRESSED) return true;
  }
  return false;
}

// The private key as PKCS#8 DER (PrivateKeyInfo), the form GnuTLS imports.
Result<SecretBytes> pkcs8_der(EVP_PKEY* key) {
  PKCS8_PRIV_KEY_INFO* p8 = EVP_PKEY2PKCS8(key);
  if (p8 == nullptr) return Error::crypto("cannot encode the private key as PKCS#8");
  const int length = i2d_PKCS8_PRIV_KEY_INFO(p8, nullptr);
  if (length <= 0) {
    PKCS8_PRIV_KEY_INFO_free(p8);
    return Error::crypto("cannot encode the private key as PKCS#8");
  }
  SecretBytes der(static_cast<std::size_t>(length));
  unsigned char* out = der.data();
  const int written = i2d_PKCS8_PRIV_KEY_INFO(p8, &out);
  PKCS8_PRIV_KEY_INFO_free(p8);  // clears the key octets
  if (written != length) return Error::crypto("cannot encode the private key as PKCS#8");
  return der;
}

gnutls_datum_t datum(ByteView bytes) {
  return {const_cast<unsigned char*>(bytes.data()), static_cast<unsigned>(bytes.size())};
}

Error gnutls_failure(std::string_view what, int rc) {
  return Error::crypto(std::string(what) + ": " + gnutls_strerror(rc));
}

Error io_error(std::string_view what) {
  return Error(Category::kIo, std::string(what) + ": " + std::strerror(errno));
}

// gnutls_dtls_cookie_send's transport: a HelloVerifyRequest goes back to the datagram's source.
struct CookieReply {
  int fd;
  const sockaddr_storage* peer;
  socklen_t peer_length;
};
ssize_t send_cookie_reply(gnutls_transport_ptr_t ptr, const void* data, std::size_t size) {
  const auto* reply = static_cast<const CookieReply*>(ptr);
  return sendto(reply->fd, data, size, MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(reply->peer),
                reply->peer_length);
}

class GnutlsContext final : public Context {
 public:
  explicit GnutlsContext(std::shared_ptr<const Shared> shared) : m_shared(std::move(shared)) {}

  const Config& config() const override { return m_shared->config; }

  Result<std::unique_ptr<Session>> session(int fd) const override { return make_session(m_shared, fd, nullptr); }

  Result<std::unique_ptr<Session>> accept_datagram(int fd) const override {
    const Config& c = m_shared->config;
    if (c.role != Role::kServer || c.profile->transport != Transport::kDtls) {
      return Error::usage("accept_datagram is for DTLS servers");
    }
    gnutls_datum_t key = datum(m_shared->cookie_key.view());
    // Large enough for any ClientHello a client sends in one datagram; a longer one is truncated and
    // fails the cookie check (GnuTLS clients do not fragment it).
    std::vector<std::uint8_t> buffer(16384);
    for (;;) {
      if (!more_datagrams(fd)) return std::unique_ptr<Session>();
      sockaddr_storage peer{};
      socklen_t peer_length = sizeof peer;
      const ssize_t n = recvfrom(fd, buffer.data(), buffer.size(), MSG_PEEK, reinterpret_cast<sockaddr*>(&peer),
                                 &peer_length);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
        return io_error("recvfrom");
      }
      //= RFC 6347 §4.2.1
      //# The server keeps no state until a ClientHello returns a valid cookie (HelloVerifyRequest).
      gnutls_dtls_prestate_st prestate{};
      const int rc = gnutls_dtls_cookie_verify(&key, &peer, peer_length, buffer.data(), static_cast<std::size_t>(n),
                                               &prestate);
      if (rc == GNUTLS_E_SUCCESS) {
        // The ClientHello stays queued (peeked): the session reads it again once fd is connected.
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&peer), peer_length) != 0) return io_error("connect");
        return make_session(m_shared, fd, &prestate);
      }
      // Consume the datagram; answer a ClientHello without a valid cookie, drop anything else.
      (void)recv(fd, buffer.data(), buffer.size(), 0);
      if (rc == GNUTLS_E_BAD_COOKIE) {
        CookieReply reply{fd, &peer, peer_length};
        (void)gnutls_dtls_cookie_send(&key, &peer, peer_length, &prestate, &reply, send_cookie_reply);
      }
    }
  }

 private:
  std::shared_ptr<const Shared> m_shared;
};

}  // namespace

std::optional<std::string_view> iana_suite_name(std::string_view gnutls_canonical_name, const SecurityProfile& profile) {
  for (std::string_view name : profile.cipher_suites) {
    if (name == gnutls_canonical_name) return name;
  }
  return std::nullopt;
}

bool key_fits_profile(ByteView spki_der, const SecurityProfile& profile) {
  const unsigned char* p = spki_der.data();
  std::unique_ptr<EVP_PKEY, PkeyFree> key(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki_der.size())));
  if (!key || p != spki_der.data() + spki_der.size()) return false;  // malformed or trailing octets
  return evp_key_fits(key.get(), profile);
}

}  // namespace gnutls

Result<std::shared_ptr<Context>> make_gnutls_context(Config config) {
  using namespace gnutls;
  if (config.profile == nullptr || config.profile->credential != CredentialKind::kRawPublicKey) {
    return Error::usage("the GnuTLS backend serves raw-public-key profiles only");
  }
  if (!config.raw_public_key) return Error::usage("a raw-public-key profile needs an own key");
  const SecurityProfile& profile = *config.profile;
  EVP_PKEY* own = config.raw_public_key->key.native();
  //= TS-0003 V3.18.0 §10.1.1.2
  //# A raw public key follows the common profile: id-ecPublicKey on secp256r1, uncompressed.
  if (own == nullptr || !evp_key_fits(own, profile)) {
    return Error::usage("the own key does not fit the signature schemes of profile " + std::string(profile.name));
  }

  auto shared = std::make_shared<Shared>();
  M2MSEC_ASSIGN_OR_RETURN(const std::string priority_text, priority_string(profile, config.role));
  gnutls_priority_t priority = nullptr;
  const char* error_at = nullptr;
  int rc = gnutls_priority_init(&priority, priority_text.c_str(), &error_at);
  if (rc < 0) return gnutls_failure("GnuTLS rejects the priority string " + priority_text, rc);
  shared->priority.reset(priority);
  M2MSEC_TRY(check_suites(priority, profile));

  gnutls_certificate_credentials_t credentials = nullptr;
  rc = gnutls_certificate_allocate_credentials(&credentials);
  if (rc < 0) return gnutls_failure("gnutls_certificate_allocate_credentials", rc);
  shared->credentials.reset(credentials);
  const Bytes spki = config.raw_public_key->key.spki_der();
  M2MSEC_ASSIGN_OR_RETURN(const SecretBytes private_der, pkcs8_der(own));
  gnutls_datum_t spki_datum = datum(spki);
  gnutls_datum_t key_datum = datum(private_der.view());
  rc = gnutls_certificate_set_rawpk_key_mem(credentials, &spki_datum, &key_datum, GNUTLS_X509_FMT_DER, nullptr, 0,
                                            nullptr, 0, 0);
  if (rc < 0) return gnutls_failure("GnuTLS rejects the own raw public key", rc);
  //= TS-0003 V3.18.0 §8.1.2.5
  //# 1. Raw public key: the public key identifier is checked (10.1.2) during the handshake.
  gnutls_certificate_set_verify_function(credentials, verify_peer_callback);

  if (config.role == Role::kServer && profile.transport == Transport::kDtls) {
    shared->cookie_key = SecretBytes(32);
    rc = gnutls_rnd(GNUTLS_RND_KEY, shared->cookie_key.data(), shared->cookie_key.size());
    if (rc < 0) return gnutls_failure("gnutls_rnd", rc);
  }
  shared->config = std::move(config);
  return std::shared_ptr<Context>(std::make_shared<GnutlsContext>(std::move(shared)));
}

}  // namespace m2msec::tls::detail

// Security profiles (TS-0003 V3.18.0 clause 10.2) as the wire shows them: each profile's ClientHello is
// captured from our client, checked against the RFC code points of the profile's own lists, and pinned by
// tests/unit/tls/profiles.snapshot (a reviewed diff when anything visible changes; regenerate with
// M2MSEC_UPDATE_SNAPSHOTS=1).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "m2msec/core/byte_io.h"
#include "m2msec/tls/profile.h"
#include "m2msec/tls/session.h"
#include "test_pki.h"

namespace m2msec::tls {
namespace {

using pki::test::TestPki;

// Names of the code points, from the IANA TLS registries and the RFCs that define them.
const std::map<std::uint16_t, std::string> kSuites{
    {0x00AE, "TLS_PSK_WITH_AES_128_CBC_SHA256"},          // RFC 5487
    {0xC0A8, "TLS_PSK_WITH_AES_128_CCM_8"},               // RFC 6655
    {0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"},  // RFC 5289
    {0xC0AE, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"},       // RFC 7251
    {0x1301, "TLS_AES_128_GCM_SHA256"},                   // RFC 8446
    {0x1305, "TLS_AES_128_CCM_8_SHA256"},                 // RFC 8446
    {0x00FF, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"},        // RFC 5746
};
const std::map<std::uint16_t, std::string> kExtensions{
    {0, "server_name"},           {5, "status_request"},        {10, "supported_groups"},
    {11, "ec_point_formats"},     {13, "signature_algorithms"}, {16, "alpn"},
    {19, "client_certificate_type"}, {20, "server_certificate_type"}, {21, "padding"},
    {22, "encrypt_then_mac"},     {23, "extended_master_secret"}, {28, "record_size_limit"},
    {35, "session_ticket"},       {41, "pre_shared_key"},       {42, "early_data"},
    {43, "supported_versions"},   {44, "cookie"},               {45, "psk_key_exchange_modes"},
    {49, "post_handshake_auth"},  {50, "signature_algorithms_cert"}, {51, "key_share"},
    {0xff01, "renegotiation_info"},
};
const std::map<std::uint16_t, std::string> kGroups{{23, "secp256r1"}, {24, "secp384r1"}, {25, "secp521r1"}, {29, "x25519"}};
const std::map<std::uint16_t, std::string> kSchemes{{0x0403, "ecdsa_secp256r1_sha256"}, {0x0503, "ecdsa_secp384r1_sha384"},
                                                    {0x0804, "rsa_pss_rsae_sha256"}, {0x0401, "rsa_pkcs1_sha256"},
                                                    {0x0807, "ed25519"}};
const std::map<std::uint16_t, std::string> kVersions{{0x0303, "TLS1.2"}, {0x0304, "TLS1.3"}, {0xFEFD, "DTLS1.2"}};

std::string name_of(const std::map<std::uint16_t, std::string>& names, std::uint16_t code) {
  const auto it = names.find(code);
  if (it != names.end()) return it->second;
  std::ostringstream out;
  out << "0x" << std::hex << code;
  return out.str();
}

std::vector<std::uint16_t> u16_list(ByteView data) {
  std::vector<std::uint16_t> out;
  ByteReader r(data);
  while (r.remaining() >= 2) out.push_back(*r.read_u16());
  return out;
}

std::vector<std::string> names(const std::map<std::uint16_t, std::string>& table, const std::vector<std::uint16_t>& codes) {
  std::vector<std::string> out;
  for (const auto code : codes) out.push_back(name_of(table, code));
  return out;
}

struct ClientHello {
  std::uint16_t version = 0;
  std::vector<std::uint16_t> suites;
  Bytes compression;
  std::vector<std::pair<std::uint16_t, Bytes>> extensions;

  const Bytes* extension(std::uint16_t type) const {
    for (const auto& [t, data] : extensions) {
      if (t == type) return &data;
    }
    return nullptr;
  }
};

// The ClientHello body from the octets our client sent: TLS records (5-octet header) or DTLS records
// (13-octet header) carrying handshake fragments (DTLS: 12-octet header with offset and length).
ClientHello parse_client_hello(const std::vector<Bytes>& flights, bool dtls) {
  Bytes message;
  std::size_t message_length = 0;
  for (const Bytes& flight : flights) {
    ByteReader records(flight);
    while (!records.empty()) {
      EXPECT_EQ(*records.read_u8(), 22);  // handshake
      (void)records.read_bytes(dtls ? 10 : 2);
      ByteReader fragments(*records.read_prefixed_u16());
      while (!fragments.empty()) {
        EXPECT_EQ(*fragments.read_u8(), 1);  // client_hello
        message_length = *fragments.read_u24();
        std::size_t offset = 0;
        std::size_t length = message_length;
        if (dtls) {
          (void)fragments.read_u16();  // message_seq
          offset = *fragments.read_u24();
          length = *fragments.read_u24();
        }
        const ByteView piece = *fragments.read_bytes(length);
        if (message.size() < offset + length) message.resize(offset + length);
        std::copy(piece.begin(), piece.end(), message.begin() + static_cast<std::ptrdiff_t>(offset));
      }
    }
  }
  EXPECT_EQ(message.size(), message_length);
  ClientHello hello;
  ByteReader r(message);
  hello.version = *r.read_u16();
  (void)r.read_bytes(32);
  (void)r.read_prefixed_u8();        // session id
  if (dtls) (void)r.read_prefixed_u8();  // cookie
  hello.suites = u16_list(*r.read_prefixed_u16());
  const ByteView compression = *r.read_prefixed_u8();
  hello.compression.assign(compression.begin(), compression.end());
  ByteReader extensions(*r.read_prefixed_u16());
  EXPECT_TRUE(r.expect_end());
  while (!extensions.empty()) {
    const std::uint16_t type = *extensions.read_u16();
    const ByteView data = *extensions.read_prefixed_u16();
    hello.extensions.emplace_back(type, Bytes(data.begin(), data.end()));
  }
  return hello;
}

std::shared_ptr<Context> client_for(const SecurityProfile& p) {
  const TestPki& pki = TestPki::shared();
  Config c;
  c.profile = &p;
  c.server_name = "in-cse.m2m.example.com";
  switch (p.credential) {
    case CredentialKind::kPsk: c.psk = ClientPsk{"dev1@sp.example.com", SecretBytes(32)}; break;
    case CredentialKind::kCertificate:
      c.certificate = *CertificateCredential::load(pki.file("client.chain.pem"), pki.file("client.key"));
      c.peer_policy = PeerCertificatePolicy{*pki::TrustStore::load(pki.file("root.pem")), pki::Flavour::kCseId, {}};
      break;
    case CredentialKind::kRawPublicKey:
      c.raw_public_key = RawPublicKeyCredential{*pki::PrivateKey::load_pem_file(pki.file("rpk_client.key")), {}};
      break;
  }
  auto context = Context::create(std::move(c));
  EXPECT_TRUE(context) << context.error().to_string();
  return *context;
}

ClientHello capture(const SecurityProfile& p) {
  const bool dtls = p.transport == Transport::kDtls;
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, dtls ? SOCK_DGRAM : SOCK_STREAM, 0, fds), 0);
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
  std::vector<Bytes> flights;
  {
    auto context = client_for(p);
    auto session = context->session(fds[0]);
    EXPECT_TRUE(session);
    auto progress = (*session)->handshake();
    EXPECT_TRUE(progress && *progress == Progress::kWantRead);
    Bytes buffer(65536);
    for (ssize_t n; (n = ::recv(fds[1], buffer.data(), buffer.size(), 0)) > 0;) {
      flights.emplace_back(buffer.begin(), buffer.begin() + n);
    }
  }
  ::close(fds[0]);
  ::close(fds[1]);
  return parse_client_hello(flights, dtls);
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : " ") + item;
  return out;
}

// The profile, resolved to what its ClientHello shows.
std::string render(const SecurityProfile& p, const ClientHello& hello) {
  std::ostringstream out;
  out << '[' << p.name << "]\n";
  out << "client_version = " << name_of(kVersions, hello.version) << '\n';
  out << "cipher_suites = " << join(names(kSuites, hello.suites)) << '\n';
  std::vector<std::uint16_t> types;
  for (const auto& [type, data] : hello.extensions) types.push_back(type);
  out << "extensions = " << join(names(kExtensions, types)) << '\n';
  if (const Bytes* groups = hello.extension(10)) {
    out << "supported_groups = " << join(names(kGroups, u16_list(ByteView(*groups).subspan(2)))) << '\n';
  }
  if (const Bytes* schemes = hello.extension(13)) {
    out << "signature_algorithms = " << join(names(kSchemes, u16_list(ByteView(*schemes).subspan(2)))) << '\n';
  }
  if (const Bytes* versions = hello.extension(43)) {
    out << "supported_versions = " << join(names(kVersions, u16_list(ByteView(*versions).subspan(1)))) << '\n';
  }
  if (const Bytes* modes = hello.extension(45)) {
    std::vector<std::string> m;
    for (std::size_t i = 1; i < modes->size(); ++i) m.push_back((*modes)[i] == 0 ? "psk_ke" : (*modes)[i] == 1 ? "psk_dhe_ke" : "?");
    out << "psk_key_exchange_modes = " << join(m) << '\n';
  }
  return out.str();
}

std::string snapshot_path() {
  return std::string(M2MSEC_SOURCE_DIR) + "/tests/unit/tls/profiles.snapshot";
}

TEST(SecurityProfile, ClientHelloShowsExactlyTheProfile) {
  //= type=test
  //= TS-0003 V3.18.0 §10.2.2
  //= TS-0003 V3.18.0 §10.2.3
  std::string rendered;
  for (const SecurityProfile& p : all_profiles()) {
    SCOPED_TRACE(p.name);
    const ClientHello hello = capture(p);
    // Suites: the profile's list in its order (the RFC 5746 SCSV aside), nothing else.
    std::vector<std::string> suites = names(kSuites, hello.suites);
    std::erase(suites, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV");
    EXPECT_EQ(suites, std::vector<std::string>(p.cipher_suites.begin(), p.cipher_suites.end()));
    EXPECT_EQ(hello.compression, Bytes{0});
    ASSERT_NE(hello.extension(0), nullptr) << "SNI is mandatory (10.2.1)";
    if (p.groups.empty()) {
      EXPECT_EQ(hello.extension(10), nullptr);
    } else {
      ASSERT_NE(hello.extension(10), nullptr);
      EXPECT_EQ(names(kGroups, u16_list(ByteView(*hello.extension(10)).subspan(2))),
                std::vector<std::string>(p.groups.begin(), p.groups.end()));
    }
    ASSERT_NE(hello.extension(13), nullptr);
    EXPECT_EQ(names(kSchemes, u16_list(ByteView(*hello.extension(13)).subspan(2))),
              std::vector<std::string>(p.signature_schemes.begin(), p.signature_schemes.end()));
    EXPECT_EQ(hello.extension(35), nullptr) << "no session tickets";
    if (p.version == Version::kTls12) {
      // Seed 000 item 3: extended master secret (RFC 7627) and secure renegotiation (RFC 5746).
      EXPECT_NE(hello.extension(23), nullptr);
      EXPECT_TRUE(hello.extension(0xff01) != nullptr || std::count(hello.suites.begin(), hello.suites.end(), 0x00FF));
      EXPECT_EQ(hello.version, p.transport == Transport::kDtls ? 0xFEFD : 0x0303);
    } else {
      ASSERT_NE(hello.extension(43), nullptr);
      EXPECT_EQ(u16_list(ByteView(*hello.extension(43)).subspan(1)), std::vector<std::uint16_t>{0x0304});
    }
    if (p.credential == CredentialKind::kRawPublicKey) {
      EXPECT_NE(hello.extension(19), nullptr);  // RFC 7250
      EXPECT_NE(hello.extension(20), nullptr);
    }
    rendered += render(p, hello) + "\n";
  }
  if (std::getenv("M2MSEC_UPDATE_SNAPSHOTS") != nullptr) {
    std::ofstream(snapshot_path()) << rendered;
    GTEST_SKIP() << "snapshot rewritten: " << snapshot_path();
  }
  std::ifstream in(snapshot_path());
  std::stringstream pinned;
  pinned << in.rdbuf();
  EXPECT_EQ(rendered, pinned.str()) << "a profile's wire-visible lists changed; review, then regenerate with "
                                       "M2MSEC_UPDATE_SNAPSHOTS=1";
}

TEST(SecurityProfile, NamesAndSelection) {
  for (const SecurityProfile& p : all_profiles()) {
    EXPECT_EQ(find_profile(p.name), &p);
    EXPECT_EQ(select_profile(p.transport, p.version, p.credential, p.tls13_psk_without_dhe), &p);
  }
  EXPECT_EQ(find_profile("ts0003-tls11-psk"), nullptr);
  EXPECT_EQ(select_profile(Transport::kDtls, Version::kTls13, CredentialKind::kPsk), nullptr);
}

}  // namespace
}  // namespace m2msec::tls

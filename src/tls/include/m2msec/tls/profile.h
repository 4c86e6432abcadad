// (D)TLS security profiles (TS-0003 V3.18.0 clause 10.2) as named, immutable data. A profile fixes
// everything a peer can see on the wire: protocol version, cipher suites (IANA names, in preference
// order), groups, signature schemes and TLS 1.3 PSK key-exchange modes. Configuration names a profile;
// nothing else chooses algorithms. tests/unit/tls/profiles.snapshot pins each profile's ClientHello.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string_view>

namespace m2msec::tls {

enum class Transport { kTls, kDtls };
enum class Version { kTls12, kTls13 };  // DTLS: 1.2 only (no Debian 12 library has DTLS 1.3)
enum class CredentialKind { kPsk, kCertificate, kRawPublicKey };

std::string_view credential_kind_name(CredentialKind kind);  // "psk", "certificate", "raw-public-key"

struct SecurityProfile {
  std::string_view name;
  Transport transport;
  Version version;
  CredentialKind credential;
  // IANA cipher suite names, preference order.
  std::span<const std::string_view> cipher_suites;
  // Named groups for (EC)DHE (TLS 1.2 ECDHE suites, TLS 1.3 key shares); none for the TLS 1.2 PSK suites.
  std::span<const std::string_view> groups;
  // Signature schemes (RFC 8446 names). PSK profiles list them too: OpenSSL always sends the
  // signature_algorithms extension, and a pinned list keeps the ClientHello fixed.
  std::span<const std::string_view> signature_schemes;
  // TLS 1.3 external PSK: whether psk_ke (no (EC)DHE) is accepted. With false only psk_dhe_ke is used.
  bool tls13_psk_without_dhe;
};

// Every profile m2msec offers, in a fixed order.
std::span<const SecurityProfile> all_profiles();
const SecurityProfile* find_profile(std::string_view name);
// The one profile for a transport, version and credential kind (nullptr when there is none, e.g. DTLS 1.3).
const SecurityProfile* select_profile(Transport transport, Version version, CredentialKind credential,
                                      bool tls13_psk_without_dhe = false);

}  // namespace m2msec::tls

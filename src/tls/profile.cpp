// The (D)TLS profiles of TS-0003 V3.18.0 clause 10.2, with the ITU-T resolutions of seed 000 items 2-3
// (TLS 1.3 as a separate profile; extended master secret required on 1.2, no RC4, secure renegotiation
// only: enforced by the backends, not listed here because they are not choices).
#include "m2msec/tls/profile.h"

#include <array>

namespace m2msec::tls {
namespace {

using namespace std::string_view_literals;

//= TS-0003 V3.18.0 §10.2.2
//# TLS: TLS_PSK_WITH_AES_128_CBC_SHA256 at least; DTLS: TLS_PSK_WITH_AES_128_CCM_8 at least.
// A server in the Infrastructure Domain shall support all of them (10.2.1), so both are in both lists,
// the transport's mandatory suite first.
constexpr std::array kTlsPsk{"TLS_PSK_WITH_AES_128_CBC_SHA256"sv, "TLS_PSK_WITH_AES_128_CCM_8"sv};
constexpr std::array kDtlsPsk{"TLS_PSK_WITH_AES_128_CCM_8"sv, "TLS_PSK_WITH_AES_128_CBC_SHA256"sv};
//= TS-0003 V3.18.0 §10.2.3
//# TLS: TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 at least; DTLS: TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8.
constexpr std::array kTlsEcdsa{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"sv, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"sv};
constexpr std::array kDtlsEcdsa{"TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"sv, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"sv};
// TLS 1.3 (seed 000 item 2): the AES-128 suites matching the 1.2 set (GCM, and CCM_8 for constrained
// devices).
constexpr std::array kTls13{"TLS_AES_128_GCM_SHA256"sv, "TLS_AES_128_CCM_8_SHA256"sv};
// 10.1.1.1: keys on secp256r1, signatures ECDSA with SHA-256.
constexpr std::array kGroups{"secp256r1"sv};
constexpr std::array kSignatureSchemes{"ecdsa_secp256r1_sha256"sv};

constexpr SecurityProfile make(std::string_view name, Transport transport, Version version, CredentialKind kind,
                               std::span<const std::string_view> suites, bool psk_without_dhe = false) {
  // The TLS 1.2 PSK suites have no (EC)DHE, so those profiles name no group (and send none).
  const bool no_dhe = kind == CredentialKind::kPsk && version == Version::kTls12;
  return {name,  transport, version, kind, suites, no_dhe ? std::span<const std::string_view>() : kGroups,
          kSignatureSchemes, psk_without_dhe};
}

constexpr std::array kProfiles{
    make("ts0003-tls12-psk", Transport::kTls, Version::kTls12, CredentialKind::kPsk, kTlsPsk),
    make("ts0003-tls12-cert", Transport::kTls, Version::kTls12, CredentialKind::kCertificate, kTlsEcdsa),
    make("ts0003-tls12-rpk", Transport::kTls, Version::kTls12, CredentialKind::kRawPublicKey, kTlsEcdsa),
    make("ts0003-dtls12-psk", Transport::kDtls, Version::kTls12, CredentialKind::kPsk, kDtlsPsk),
    make("ts0003-dtls12-cert", Transport::kDtls, Version::kTls12, CredentialKind::kCertificate, kDtlsEcdsa),
    make("ts0003-dtls12-rpk", Transport::kDtls, Version::kTls12, CredentialKind::kRawPublicKey, kDtlsEcdsa),
    // External PSK with (EC)DHE only (psk_dhe_ke), and the variant that also accepts psk_ke.
    make("ts0003-tls13-psk-dhe", Transport::kTls, Version::kTls13, CredentialKind::kPsk, kTls13),
    make("ts0003-tls13-psk", Transport::kTls, Version::kTls13, CredentialKind::kPsk, kTls13, true),
    make("ts0003-tls13-cert", Transport::kTls, Version::kTls13, CredentialKind::kCertificate, kTls13),
    make("ts0003-tls13-rpk", Transport::kTls, Version::kTls13, CredentialKind::kRawPublicKey, kTls13),
};

}  // namespace

std::string_view credential_kind_name(CredentialKind kind) {
  switch (kind) {
    case CredentialKind::kPsk: return "psk";
    case CredentialKind::kCertificate: return "certificate";
    case CredentialKind::kRawPublicKey: return "raw-public-key";
  }
  return "?";
}

std::span<const SecurityProfile> all_profiles() { return kProfiles; }

const SecurityProfile* find_profile(std::string_view name) {
  for (const SecurityProfile& p : kProfiles) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const SecurityProfile* select_profile(Transport transport, Version version, CredentialKind credential,
                                      bool tls13_psk_without_dhe) {
  for (const SecurityProfile& p : kProfiles) {
    if (p.transport == transport && p.version == version && p.credential == credential &&
        p.tls13_psk_without_dhe == tls13_psk_without_dhe) {
      return &p;
    }
  }
  return nullptr;
}

}  // namespace m2msec::tls

#include "credentials.h"

#include "files.h"
#include "m2msec/core/encoding.h"

namespace m2msec::cli {
namespace {

Result<tls::CredentialKind> credential_kind(const Options& opts) {
  const int kinds = int{opts.get("psk-identity").has_value()} + int{opts.get("cert").has_value()} + int{opts.flag("rpk")};
  if (kinds != 1) return Error::usage("give exactly one credential: --psk-identity/--psk, --cert/--key/--ca or --rpk/--key");
  if (opts.get("psk-identity")) return tls::CredentialKind::kPsk;
  return opts.get("cert") ? tls::CredentialKind::kCertificate : tls::CredentialKind::kRawPublicKey;
}

Result<void> add_psk(const Options& opts, std::string_view default_kind, tls::Config& config) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view identity, opts.required("psk-identity"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view key_text, opts.required("psk"));
  M2MSEC_ASSIGN_OR_RETURN(SecretBytes key, hex_decode_secret(key_text));
  const auto kind = tls::psk_identity_kind_named(opts.get("psk-kind").value_or(default_kind));
  if (!kind) return Error::usage("--psk-kind must be kpsa, maf, kpm or km");
  const std::string peer_id(opts.get("peer-id").value_or(""));
  if (config.role == tls::Role::kServer) {
    auto resolver = std::make_shared<tls::InMemoryPskResolver>(*kind);
    M2MSEC_TRY(resolver->add(identity, std::move(key), peer_id));
    config.psk_resolver = std::move(resolver);
  } else {
    M2MSEC_TRY(tls::canonical_psk_identity(*kind, identity));
    config.psk = tls::ClientPsk{std::string(identity), std::move(key)};
    config.peer_identity = peer_id;
  }
  return {};
}

Result<void> add_certificate(const Options& opts, std::string_view default_flavour, tls::Config& config) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view chain, opts.required("cert"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view key, opts.required("key"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view ca, opts.required("ca"));
  M2MSEC_ASSIGN_OR_RETURN(config.certificate, tls::CertificateCredential::load(std::string(chain), std::string(key)));
  M2MSEC_ASSIGN_OR_RETURN(pki::TrustStore trust,
                          pki::TrustStore::load(std::string(ca), std::string(opts.get("crl").value_or(""))));
  const auto flavour = pki::flavour_named(opts.get("peer-flavour").value_or(default_flavour));
  if (!flavour) return Error::usage("--peer-flavour must be device, node-id, cse-id, ae-id or fqdn");
  tls::PeerCertificatePolicy policy{std::move(trust), *flavour, std::nullopt};
  if (const auto peer_id = opts.get("peer-id")) {
    policy.expected_identifier = std::string(*peer_id);
    if (config.role == tls::Role::kClient) config.peer_identity = std::string(*peer_id);
  }
  //= TS-0003 V3.18.0 §8.1.2.2
  //# Certificate status by OCSP stapling (RFC 6066 clause 8): a server staples a DER OCSP response, a
  //# client checks one (if-stapled) or requires one (require-staple).
  if (const auto status = opts.get("peer-status")) {
    if (*status == "if-stapled") policy.status = tls::PeerCertificatePolicy::StatusCheck::kIfStapled;
    else if (*status == "require-staple") policy.status = tls::PeerCertificatePolicy::StatusCheck::kRequireStaple;
    else return Error::usage("--peer-status must be if-stapled or require-staple");
  }
  if (const auto staple = opts.get("ocsp-staple")) {
    M2MSEC_ASSIGN_OR_RETURN(const std::string der, read_file(*staple));
    config.ocsp_staple = std::make_shared<tls::FixedOcspStaple>(Bytes(der.begin(), der.end()));
  }
  config.peer_policy = std::move(policy);
  return {};
}

Result<void> add_raw_public_key(const Options& opts, tls::Config& config) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view key, opts.required("key"));
  M2MSEC_ASSIGN_OR_RETURN(pki::PrivateKey own, pki::PrivateKey::load_pem_file(std::string(key)));
  tls::RawPublicKeyCredential credential{std::move(own), std::nullopt};
  if (const auto id = opts.get("peer-key-id")) {
    M2MSEC_ASSIGN_OR_RETURN(credential.expected_peer, pki::PublicKeyId::parse(*id));
  }
  config.raw_public_key = std::move(credential);
  return {};
}

}  // namespace

std::vector<std::string_view> credential_options(std::initializer_list<std::string_view> own) {
  std::vector<std::string_view> out{"sni",  "psk-identity", "psk", "psk-kind",     "peer-id",     "cert",
                                    "key",  "ca",           "crl", "peer-flavour", "peer-key-id", "peer-status",
                                    "ocsp-staple"};
  out.insert(out.end(), own);
  return out;
}

std::vector<std::string_view> credential_flags(std::initializer_list<std::string_view> own) {
  std::vector<std::string_view> out{"dtls", "tls1.3", "psk-ke", "rpk"};
  out.insert(out.end(), own);
  return out;
}

Result<tls::Config> tls_config_from(const Options& opts, tls::Role role, CredentialDefaults defaults) {
  const bool dtls = opts.flag("dtls");
  const bool tls13 = opts.flag("tls1.3");
  if (dtls && tls13) return Error::unsupported("DTLS 1.3 is not available: no Debian 12 TLS library implements it");
  M2MSEC_ASSIGN_OR_RETURN(const tls::CredentialKind kind, credential_kind(opts));
  if (opts.flag("psk-ke") && !(tls13 && kind == tls::CredentialKind::kPsk)) {
    return Error::usage("--psk-ke applies to TLS 1.3 PSK associations only");
  }
  tls::Config config;
  config.role = role;
  config.profile = tls::select_profile(dtls ? tls::Transport::kDtls : tls::Transport::kTls,
                                       tls13 ? tls::Version::kTls13 : tls::Version::kTls12, kind, opts.flag("psk-ke"));
  if (role == tls::Role::kClient) config.server_name = std::string(opts.get("sni").value_or(""));
  switch (kind) {
    case tls::CredentialKind::kPsk: M2MSEC_TRY(add_psk(opts, defaults.psk_kind, config)); break;
    case tls::CredentialKind::kCertificate: M2MSEC_TRY(add_certificate(opts, defaults.peer_flavour, config)); break;
    case tls::CredentialKind::kRawPublicKey: M2MSEC_TRY(add_raw_public_key(opts, config)); break;
  }
  return config;
}

}  // namespace m2msec::cli

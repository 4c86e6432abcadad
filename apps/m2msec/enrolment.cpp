// `m2msec enrol` (PPSK or certificate-based RSPF with a MEF) and `m2msec maf register|register-key|retrieve-key` (the MAF client):
// the device side of TS-0003 V3.18.0 clauses 8.3 and 8.8 against a URL. Results are "name=value" lines on
// stdout; keys only with --show-secrets.
#include <iostream>

#include "args.h"
#include "commands.h"
#include "files.h"
#include "m2msec/client/maf.h"
#include "m2msec/client/mef.h"
#include "m2msec/core/encoding.h"
#include "m2msec/core/text.h"
#include "m2msec/core/timestamp.h"
#include "m2msec/pki/identity.h"
#include "m2msec/tls/profile.h"

namespace m2msec::cli {
namespace {

std::string timestamp(std::chrono::sys_seconds time) {
  auto text = format_m2m_timestamp(time);
  return text ? std::move(*text) : std::string("?");
}

Result<std::chrono::seconds> seconds_option(const Options& opts, std::string_view name, std::chrono::seconds fallback) {
  M2MSEC_ASSIGN_OR_RETURN(const std::size_t value, opts.number(name, static_cast<std::size_t>(fallback.count())));
  return std::chrono::seconds(value);
}

// The endpoint of --<url option> URL [--sni NAME] with one credential: the PSK --<id option> ID
// --<key option> HEX, or --cert CHAIN.pem --key KEY.pem --ca ANCHORS.pem [--crl CRL.pem] [--flavour F] (the
// function presents an FQDN certificate for its authority, 10.1.3; F is the flavour of the own certificate,
// whose identity is the originator; default cse-id).
const std::vector<std::string_view> kCertificateOptions{"cert", "key", "ca", "crl", "flavour"};

Result<client::Endpoint> endpoint(const Options& opts, std::string_view url_option, std::string_view id_option,
                                  std::string_view key_option, tls::PskIdentityKind kind) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view url, opts.required(url_option));
  std::string sni(opts.get("sni").value_or(""));
  const bool psk = opts.get(id_option) || opts.get(key_option);
  const bool certificate = opts.get("cert") || opts.get("key") || opts.get("ca");
  if (psk && certificate && !opts.get("cert")) {
    return Error::usage(concat({"--ca goes with --cert/--key (a certificate-based handshake); an association with --",
                                id_option, "/--", key_option, " authenticates the server by that key"}));
  }
  if (psk == certificate) {
    return Error::usage(concat({"give one credential: --", id_option, "/--", key_option, ", or --cert/--key/--ca"}));
  }
  if (psk) {
    M2MSEC_ASSIGN_OR_RETURN(const std::string_view identity, opts.required(id_option));
    M2MSEC_ASSIGN_OR_RETURN(const std::string_view key_hex, opts.required(key_option));
    M2MSEC_ASSIGN_OR_RETURN(SecretBytes key, hex_decode_secret(key_hex));
    return client::Endpoint::psk(url, std::move(sni), kind, tls::ClientPsk{std::string(identity), std::move(key)});
  }
  //= TS-0003 V3.18.0 §8.3.5.2.2, §8.8.2.2
  //# Certificate-based MEF/MAF Handshake: the function's certificate against the provisioned anchors, the
  //# client's own certificate for mutual authentication.
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view cert, opts.required("cert"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view key, opts.required("key"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view ca, opts.required("ca"));
  const auto flavour = pki::flavour_named(opts.get("flavour").value_or("cse-id"));
  if (!flavour) return Error::usage("--flavour must be device, node-id, cse-id, ae-id or fqdn");
  tls::Config config;
  config.profile = tls::find_profile("ts0003-tls12-cert");
  config.server_name = std::move(sni);
  M2MSEC_ASSIGN_OR_RETURN(config.certificate, tls::CertificateCredential::load(std::string(cert), std::string(key)));
  M2MSEC_ASSIGN_OR_RETURN(pki::TrustStore trust,
                          pki::TrustStore::load(std::string(ca), std::string(opts.get("crl").value_or(""))));
  config.peer_policy = tls::PeerCertificatePolicy{std::move(trust), pki::Flavour::kFqdn, std::nullopt};
  M2MSEC_ASSIGN_OR_RETURN(std::string originator, pki::bound_identity(config.certificate->chain.front(), *flavour));
  return client::Endpoint::make(url, std::move(config), std::move(originator));
}

// A command's option names followed by those of a certificate credential.
std::vector<std::string_view> with_certificate(std::initializer_list<std::string_view> own) {
  std::vector<std::string_view> out(own);
  out.insert(out.end(), kCertificateOptions.begin(), kCertificateOptions.end());
  return out;
}

Result<client::Endpoint> maf_endpoint(const Options& opts) {
  return endpoint(opts, "maf", "km-id", "km", tls::PskIdentityKind::kKmId);
}

Result<void> maf_register(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts,
                          Options::parse(args, with_certificate({"maf", "sni", "km-id", "km", "admin-fqdn", "lifetime"})));
  M2MSEC_ASSIGN_OR_RETURN(const client::Endpoint maf, maf_endpoint(opts));
  M2MSEC_ASSIGN_OR_RETURN(const std::chrono::seconds lifetime, seconds_option(opts, "lifetime", std::chrono::hours(24 * 30)));
  M2MSEC_ASSIGN_OR_RETURN(const client::MafRegistration registration,
                          client::register_client(maf, std::string(opts.get("admin-fqdn").value_or("")), lifetime));
  std::cout << "registration=" << registration.registration_id << '\n'
            << "client-id=" << registration.client_id << '\n';
  // The KmID to use from now on: the one assigned (remote provisioning), or the one the client has.
  const std::string km_id = registration.assigned_km_id.value_or(std::string(opts.get("km-id").value_or("")));
  if (!km_id.empty()) std::cout << "km-id=" << km_id << '\n';
  std::cout << "expires=" << timestamp(registration.expires) << '\n';
  return {};
}

Result<void> maf_register_key(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts,
                          Options::parse(args, with_certificate({"maf", "sni", "km-id", "km", "targets", "suid", "admin-fqdn",
                                                                 "lifetime", "key-value"}),
                                         {"show-secrets"}));
  M2MSEC_ASSIGN_OR_RETURN(const client::Endpoint maf, maf_endpoint(opts));
  client::KeyRequest request;
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view targets, opts.required("targets"));
  request.target_ids = comma_list(targets);
  M2MSEC_ASSIGN_OR_RETURN(const std::size_t suid_number,
                          opts.number("suid", static_cast<std::size_t>(keys::Suid::kMafSaef)));
  const auto suid = keys::suid_from_int(static_cast<unsigned>(suid_number));
  if (!suid) return Error::usage("--suid must be an m2m:suid value");
  request.suid = *suid;
  request.admin_fqdn = std::string(opts.get("admin-fqdn").value_or(""));
  M2MSEC_ASSIGN_OR_RETURN(request.lifetime, seconds_option(opts, "lifetime", std::chrono::hours(24)));
  if (const auto key = opts.get("key-value")) {
    M2MSEC_ASSIGN_OR_RETURN(request.key_value, hex_decode_secret(*key));
  }
  M2MSEC_ASSIGN_OR_RETURN(const client::RegisteredKey key, client::register_key(maf, request));
  std::cout << "key-id=" << key.key_identifier.to_string() << '\n' << "expires=" << timestamp(key.expires) << '\n';
  if (opts.flag("show-secrets")) std::cout << "key=" << hex_encode(key.key.view()) << '\n';
  return {};
}

Result<void> maf_retrieve_key(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts,
                          Options::parse(args, with_certificate({"maf", "sni", "km-id", "km", "key-id"}), {"show-secrets"}));
  M2MSEC_ASSIGN_OR_RETURN(const client::Endpoint maf, maf_endpoint(opts));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view key_id_text, opts.required("key-id"));
  M2MSEC_ASSIGN_OR_RETURN(const keys::KeyIdentifier key_id, keys::KeyIdentifier::parse(key_id_text));
  M2MSEC_ASSIGN_OR_RETURN(const client::RetrievedKey key, client::retrieve_key(maf, key_id.relative_key_id()));
  std::cout << "source=" << key.source_client_id << '\n'
            << "suid=" << static_cast<unsigned>(key.suid) << '\n'
            << "expires=" << timestamp(key.expires) << '\n';
  if (opts.flag("show-secrets")) std::cout << "key=" << hex_encode(key.key.view()) << '\n';
  return {};
}

}  // namespace

Result<void> run_enrol(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts,
                          Options::parse(args, with_certificate({"mef", "sni", "kpm-id", "kpm", "admin-fqdn", "lifetime",
                                                                 "ibc-out", "ibc-current"}),
                                         {"show-secrets"}));
  client::EnrolOptions options;
  // An IBC credential an IBC_PROV command provisions is written to --ibc-out (owner-readable only); with
  // --ibc-current (such a file) the command renews that credential (seed 002 8.3.7.3).
  const auto ibc_out = opts.get("ibc-out");
  if (const auto current = opts.get("ibc-current")) {
    M2MSEC_ASSIGN_OR_RETURN(const std::string text, read_file(*current));
    M2MSEC_ASSIGN_OR_RETURN(const client::IbcCredential held, client::parse_ibc_credential(text));
    options.ibc_current = held.id2;
  }
  M2MSEC_ASSIGN_OR_RETURN(options.mef, endpoint(opts, "mef", "kpm-id", "kpm", tls::PskIdentityKind::kKpmId));
  options.admin_fqdn = std::string(opts.get("admin-fqdn").value_or(""));
  M2MSEC_ASSIGN_OR_RETURN(options.lifetime, seconds_option(opts, "lifetime", std::chrono::hours(24 * 30)));
  M2MSEC_ASSIGN_OR_RETURN(const client::Enrolment enrolment, client::enrol(options));
  std::cout << "keid=" << enrolment.ke_id.to_string() << '\n'
            << "registration=" << enrolment.registration_id << '\n'
            << "client-id=" << enrolment.client_id << '\n'
            << "expires=" << timestamp(enrolment.expires) << '\n';
  for (const auto& command : enrolment.commands) {
    std::cout << "command cmd-id=" << command.cmd_id << " class=" << command.cmd_class << " status=" << command.status;
    if (!command.detail.empty()) std::cout << " detail=\"" << command.detail << '"';
    std::cout << '\n';
  }
  if (enrolment.ibc) {
    std::cout << "ibc-id2=" << enrolment.ibc->id2 << '\n' << "ibc-expires=" << timestamp(enrolment.ibc->expires) << '\n';
    if (!ibc_out) return Error::usage("the MEF provisioned an IBC credential and no --ibc-out was given to keep it");
    M2MSEC_TRY(write_file(*ibc_out, as_text(client::ibc_credential_text(*enrolment.ibc).view()), /*secret=*/true));
  }
  std::cout << "retry-after=" << enrolment.retry_after.count() << '\n';
  if (opts.flag("show-secrets")) std::cout << "ke=" << hex_encode(enrolment.ke.view()) << '\n';
  return {};
}

Result<void> run_maf(const std::vector<std::string_view>& args) {
  return dispatch("maf", args,
                  {{"register", maf_register}, {"register-key", maf_register_key}, {"retrieve-key", maf_retrieve_key}});
}

}  // namespace m2msec::cli

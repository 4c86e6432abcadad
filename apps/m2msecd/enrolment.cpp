// The MEF, MAF and KMS roles: one TLS-PSK listener (TS-0003 V3.18.0 10.2.2) whose PSK resolver knows the enrolees'
// KpmIDs (MEF Handshake, 8.3.5.2.2) and the MAF clients' KmIDs and KeIDs (MAF Handshake, 8.8.2.2), optionally a
// certificate listener (--cert-listen), and one oneM2M HTTP binding in front of both services, which route by
// their base resource (mef, fetchCredentials, maf). Everything they keep is in the store, so several replicas can share one PostgreSQL database.
#include <filesystem>
#include <iostream>
#include <set>

#include "daemon.h"
#include "m2msec/client/ibc.h"
#include "m2msec/client/mef.h"
#include "m2msec/coap/onem2m.h"
#include "m2msec/core/encoding.h"
#include "m2msec/core/text.h"
#include "m2msec/crypto/random.h"
#include "m2msec/http/onem2m.h"
#include "m2msec/kms/service.h"
#include "m2msec/maf/service.h"
#include "m2msec/mef/service.h"
#include "m2msec/tls/net.h"
#include "m2msec/tls/profile.h"
#include "files.h"
#include "store.h"

namespace m2msec::daemon {
namespace {

constexpr std::string_view kDefaultFqdn = "localhost";
constexpr std::string_view kDevKpmId = "dev-device";
constexpr std::string_view kDevEnroleeId = "Cdev-device";

Result<keys::Fqdn> fqdn_option(const cli::Options& opts, std::string_view name) {
  return keys::Fqdn::parse(opts.get(name).value_or(kDefaultFqdn));
}

Result<std::chrono::seconds> seconds_option(const cli::Options& opts, std::string_view name, std::chrono::seconds fallback) {
  M2MSEC_ASSIGN_OR_RETURN(const std::size_t value, opts.number(name, static_cast<std::size_t>(fallback.count())));
  return std::chrono::seconds(value);
}

// --dev-credentials: an enrolee "dev-device" with a random Kpm, created on the first start and printed on every
// start, so that a developer can enrol at once. Never for production.
Result<void> dev_credentials(store::Store& store, const std::string& mef_url) {
  M2MSEC_ASSIGN_OR_RETURN(auto existing, store.find_enrolee(kDevKpmId));
  if (!existing) {
    store::Enrolee enrolee;
    enrolee.kpm_id = std::string(kDevKpmId);
    M2MSEC_ASSIGN_OR_RETURN(enrolee.kpm, crypto::random_secret(crypto::system_rng(), 32));
    enrolee.enrolee_id = std::string(kDevEnroleeId);
    M2MSEC_TRY(store.add_enrolee(enrolee));
    existing = std::move(enrolee);
  }
  const std::string kpm = hex_encode(existing->kpm.view());
  std::cout << "dev-credential kpm-id=" << existing->kpm_id << " kpm=" << kpm
            << " (DEVELOPMENT ONLY: generated on first start, kept in the data directory)\n"
            << "next: m2msec enrol --mef " << mef_url << " --kpm-id " << existing->kpm_id << " --kpm " << kpm
            << " --show-secrets" << std::endl;
  return {};
}

std::string role_of(std::string_view to) {
  const std::string_view first = to.substr(0, to.find('/'));
  if (first == "mef" || first == "fetchCredentials") return "mef";
  if (first == "maf") return "maf";
  if (first == "kms") return "kms";
  return "none";
}

// The KMS master secrets: --kms-master, or <data-dir>/kms-master made on the first start (owner-readable only).
Result<kms::MasterKeys> kms_master(const cli::Options& opts) {
  std::string path;
  if (const auto given = opts.get("kms-master")) {
    path = std::string(*given);
  } else if (const auto dir = opts.get("data-dir")) {
    path = concat({*dir, "/kms-master"});
    if (!std::filesystem::exists(path)) {
      M2MSEC_ASSIGN_OR_RETURN(const kms::MasterKeys made, kms::generate_master());
      M2MSEC_TRY(cli::write_file(path, as_text(kms::master_text(made).view()), /*secret=*/true));
      std::cout << "kms master secrets generated in " << path << std::endl;
    }
  } else {
    return Error::usage("the kms role needs --kms-master FILE or --data-dir");
  }
  M2MSEC_ASSIGN_OR_RETURN(std::string text, cli::read_file(path));
  auto master = kms::parse_master(text);
  std::fill(text.begin(), text.end(), '\0');  // the master secrets in hex: cleared as `m2msec ibc issue` does
  return master;
}

// The KMS the MEF asks: the one in this process, or --kms-url with the PSK --kms-psk-id / --kms-psk (whose
// identity the KMS lists in its --kms-clients); none without either.
Result<std::shared_ptr<const kms::Issuer>> mef_kms(const cli::Options& opts, std::shared_ptr<const kms::Issuer> local) {
  if (local) return local;
  const auto url = opts.get("kms-url");
  if (!url) return std::shared_ptr<const kms::Issuer>();
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view psk_id, opts.required("kms-psk-id"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view psk_hex, opts.required("kms-psk"));
  M2MSEC_ASSIGN_OR_RETURN(SecretBytes psk, hex_decode_secret(psk_hex));
  tls::Config config;
  config.profile = tls::find_profile("ts0003-tls12-psk");
  config.server_name = std::string(opts.get("kms-sni").value_or(""));
  config.psk = tls::ClientPsk{std::string(psk_id), std::move(psk)};
  M2MSEC_ASSIGN_OR_RETURN(client::Endpoint endpoint, client::Endpoint::make(*url, std::move(config), std::string(psk_id)));
  return std::shared_ptr<const kms::Issuer>(std::make_shared<client::RemoteKms>(std::move(endpoint)));
}

}  // namespace

Result<void> start_enrolment_roles(const cli::Options& opts, EnrolmentRoles roles, Running& running) {
  const bool mef_role = roles.mef;
  const bool maf_role = roles.maf;
  M2MSEC_ASSIGN_OR_RETURN(running.store, cli::open_store(opts));
  const auto clock = std::make_shared<SystemClock>();
  M2MSEC_ASSIGN_OR_RETURN(const keys::Fqdn mef_fqdn, fqdn_option(opts, "mef-fqdn"));
  M2MSEC_ASSIGN_OR_RETURN(const keys::Fqdn maf_fqdn, fqdn_option(opts, "maf-fqdn"));
  M2MSEC_ASSIGN_OR_RETURN(const std::chrono::seconds max_lifetime,
                          seconds_option(opts, "max-lifetime", std::chrono::hours(24 * 365)));
  std::vector<std::shared_ptr<const tls::PskResolver>> resolvers;

  //= seed 002 §8.3.7.2 NOTE 2
  //# The KMS holds KSAK and z_S and issues the keys of an ID_2; a MEF in this process asks it directly.
  std::shared_ptr<const kms::LocalIssuer> local_kms;
  std::shared_ptr<const kms::Service> kms_service;
  if (roles.kms) {
    M2MSEC_ASSIGN_OR_RETURN(kms::MasterKeys master, kms_master(opts));
    local_kms = std::make_shared<const kms::LocalIssuer>(std::move(master));
    const std::vector<std::string> clients = cli::comma_list(opts.get("kms-clients").value_or(""));
    kms_service = std::make_shared<const kms::Service>(
        kms::ServiceOptions{local_kms, std::set<std::string>(clients.begin(), clients.end())});
  }
  if (const auto psk_file = opts.get("psk-file")) {
    M2MSEC_ASSIGN_OR_RETURN(auto callers, load_psk_file(std::string(*psk_file)));
    resolvers.push_back(std::move(callers));
  }

  std::shared_ptr<const mef::Service> mef;
  if (mef_role) {
    mef::ServiceOptions options{mef_fqdn, running.store, clock};
    M2MSEC_ASSIGN_OR_RETURN(options.enrolment_lifetime,
                            seconds_option(opts, "enrolment-lifetime", std::chrono::hours(24 * 30)));
    M2MSEC_ASSIGN_OR_RETURN(options.retry_duration, seconds_option(opts, "retry-duration", std::chrono::hours(1)));
    options.max_lifetime = max_lifetime;
    // Enrolees configured without a target enrol for the MAF served here (or the one named).
    options.default_target = std::string(opts.get("enrolment-target").value_or(maf_role ? maf_fqdn.text() : ""));
    M2MSEC_ASSIGN_OR_RETURN(options.kms, mef_kms(opts, local_kms));
    M2MSEC_ASSIGN_OR_RETURN(options.ibc_lifetime, seconds_option(opts, "ibc-lifetime", std::chrono::hours(24 * 30)));
    mef = std::make_shared<const mef::Service>(std::move(options));
    resolvers.push_back(std::make_shared<mef::EnroleeResolver>(running.store));
  }

  std::shared_ptr<const maf::Service> maf;
  if (maf_role) {
    //= TS-0003 V3.18.0 §8.8.2.3, §8.3.2.1 step 6
    //# The MAF learns the Km of remotely provisioned clients from the MEF: in this process when the MEF role
    //# runs here, otherwise over the HTTP binding (--mef-url, authenticated with --mef-kpm-id/--mef-kpm).
    std::shared_ptr<const mef::CredentialSource> enrolments;
    if (mef) {
      enrolments = std::make_shared<mef::LocalCredentialSource>(mef, maf_fqdn.text());
    } else if (const auto url = opts.get("mef-url")) {
      M2MSEC_ASSIGN_OR_RETURN(const std::string_view kpm_id, opts.required("mef-kpm-id"));
      M2MSEC_ASSIGN_OR_RETURN(const std::string_view kpm_hex, opts.required("mef-kpm"));
      M2MSEC_ASSIGN_OR_RETURN(SecretBytes kpm, hex_decode_secret(kpm_hex));
      M2MSEC_ASSIGN_OR_RETURN(client::Endpoint endpoint,
                              client::Endpoint::psk(*url, std::string(opts.get("mef-sni").value_or("")),
                                                     tls::PskIdentityKind::kKpmId,
                                                     tls::ClientPsk{std::string(kpm_id), std::move(kpm)}));
      enrolments = std::make_shared<client::RemoteCredentialSource>(std::move(endpoint));
    }
    maf::ServiceOptions options{maf_fqdn, running.store, clock};
    options.max_lifetime = max_lifetime;
    maf = std::make_shared<const maf::Service>(std::move(options));
    resolvers.push_back(std::make_shared<maf::CredentialResolver>(running.store, clock, std::move(enrolments)));
  }

  const std::shared_ptr<Metrics> metrics = running.metrics;
  // One answer for both bindings: the connection is an http::Connection or a coap::Connection.
  const auto answer = [mef, maf, kms_service, metrics](const onem2m::Request& request, const auto& connection) {
    const auto start = std::chrono::steady_clock::now();
    const std::string role = role_of(request.to);
    onem2m::Response response;
    if (role == "mef" && mef) {
      response = mef->handle(request, connection.session);
    } else if (role == "maf" && maf) {
      response = maf->handle(request, connection.session);
    } else if (role == "kms" && kms_service) {
      response = kms_service->handle(request, connection.session);
    } else {
      response = onem2m::error_response(
          request, Error(Category::kUsage, Rsc::kNotFound, concat({"no resource '", request.to, "' here"})));
    }
    metrics->count_request(role, response.rsc, std::chrono::steady_clock::now() - start);
    return response;
  };
  const http::Handler handler = http::primitive_handler(answer);
  const coap::Handler coap_handler = coap::primitive_handler(answer);

  const auto announce = [&](std::string_view url, std::string_view auth) {
    if (mef) std::cout << "listening role=mef url=" << url << "/mef auth=" << auth << std::endl;
    if (maf) std::cout << "listening role=maf url=" << url << "/maf auth=" << auth << std::endl;
    if (kms_service) std::cout << "listening role=kms url=" << url << "/kms auth=" << auth << std::endl;
  };
  // One listener per kind of MEF / MAF Handshake, both in front of the same services.
  const auto listen_on = [&](std::string_view listen, tls::Config config, std::string_view auth) -> Result<std::string> {
    M2MSEC_ASSIGN_OR_RETURN(auto server, serve(listen, std::move(config), handler));
    metrics->watch(std::string(auth), [s = server.get()] { return s->failed_handshakes(); });
    announce(server->url(), auth);
    std::string port = std::to_string(server->port());
    running.servers.push_back(std::move(server));
    return port;
  };
  //= TS-0008 V3.9.0; TS-0003 V3.18.0 §10.2.1
  //# The same services over the CoAP binding on DTLS 1.2: the same PSK resolver or certificate checks, the
  //# DTLS profile of the same credential kind.
  const auto coaps_on = [&](std::string_view listen, tls::Config config, std::string_view auth) -> Result<void> {
    M2MSEC_ASSIGN_OR_RETURN(auto server, serve_coap(listen, std::move(config), coap_handler));
    metrics->watch(concat({"coaps-", auth}), [s = server.get()] { return s->failed_handshakes(); });
    announce(server->url(), auth);
    running.coap_servers.push_back(std::move(server));
    return {};
  };
  const auto psk_resolver = std::make_shared<ChainResolver>(std::move(resolvers));
  const auto psk_listener = [&](const tls::SecurityProfile* profile) {
    tls::Config config;
    config.role = tls::Role::kServer;
    config.profile = profile;
    config.psk_resolver = psk_resolver;
    config.clock = clock;
    return config;
  };
  const auto cert_listener = [&](std::string_view profile) -> Result<tls::Config> {
    //= TS-0003 V3.18.0 §8.3.5.2.2, §8.8.2.2, Table 10.1.3-1
    //# The certificate-based MEF/MAF Handshake: the function's FQDN certificate, the client's certificate
    //# checked against the configured anchors (--client-ca) and bound per its flavour (--client-flavour).
    M2MSEC_ASSIGN_OR_RETURN(tls::Config config, certificate_listener_config(opts, "cse-id"));
    config.profile = tls::find_profile(profile);
    config.clock = clock;
    return config;
  };
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view listen, opts.required("listen"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string psk_port, listen_on(listen, psk_listener(tls::find_profile("ts0003-tls12-psk")), "psk"));
  if (const auto cert_listen = opts.get("cert-listen")) {
    M2MSEC_ASSIGN_OR_RETURN(tls::Config config, cert_listener("ts0003-tls12-cert"));
    M2MSEC_TRY(listen_on(*cert_listen, std::move(config), "certificate"));
  }
  if (const auto coaps_listen = opts.get("coaps-listen")) {
    M2MSEC_TRY(coaps_on(*coaps_listen, psk_listener(tls::find_profile("ts0003-dtls12-psk")), "psk"));
  }
  if (const auto coaps_cert_listen = opts.get("coaps-cert-listen")) {
    M2MSEC_ASSIGN_OR_RETURN(tls::Config config, cert_listener("ts0003-dtls12-cert"));
    M2MSEC_TRY(coaps_on(*coaps_cert_listen, std::move(config), "certificate"));
  }
  const std::string mef_url = concat({"https://localhost:", psk_port, "/mef"});
  if (mef && opts.flag("dev-credentials")) M2MSEC_TRY(dev_credentials(*running.store, mef_url));
  return {};
}

}  // namespace m2msec::daemon

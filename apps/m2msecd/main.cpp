// m2msecd: the m2msec server. Roles are chosen by configuration; this build serves:
//   mef, maf  the M2M Enrolment Function and the M2M Authentication Function (TS-0003 V3.18.0 8.3, 8.8) over
//        the oneM2M HTTP binding on one TLS-PSK listener (--listen), with their state in the store
//        (--data-dir DIR: SQLite; --database CONNINFO: PostgreSQL), and /health and /metrics on --ops-listen;
//        with --cert-listen (and --cert, --key, --client-ca, --client-flavour) also a certificate listener.
//   kms  the Key Management Service of IBC credentials (seed 002 8.3.7), with mef/maf or alone on the same kind of
//        listener: master secrets from --kms-master FILE (`m2msec ibc kms-init`; default <data-dir>/kms-master,
//        made on the first start), keys issued to the identities of --kms-clients (and to the MEF in the same
//        process); --psk-file adds PSK callers. A MEF without the kms role asks --kms-url with --kms-psk-id /
//        --kms-psk; --ibc-lifetime (seconds) bounds the ID_2 it issues.
//        Without any argument m2msecd runs the embedded default: --data-dir var --listen 127.0.0.1:8443
//        --ops-listen 127.0.0.1:9464 --roles mef,maf --dev-credentials.
//   est  the MEF's certificate provisioning (TS-0003 V3.18.0 clause 8.3.6.2, RFC 7030) over HTTPS, on a
//        certificate endpoint (--listen; server FQDN certificate, client certificates optional) and, with
//        --psk-listen, on a PSK endpoint for PPSK RSPF enrolees (KpmID/Kpm from --enrolees); with
//        --require-pop-linking every CSR must carry the association's channel binding (RFC 7030 3.5); EST-coaps
//        (RFC 9148) with --coaps-cert-listen (client certificates) and --coaps-listen (PSK, needs --enrolees).
//   cse  the secure hosting CSE (TS-0003 V3.18.0 clause 7 access control over TS-0001/TS-0004 resources) over
//        the oneM2M HTTP binding on a TLS-PSK listener (--listen; AEs' KpsaID/Kpsa from --psk-file) and
//        optionally a certificate listener (--cert-listen), its resources in the store; --cse-id, --sp-id,
//        --cse-name, --admin-originator, --admin-credential, --app-rules, --token-issuers, --release;
//        --upper-tester adds the TS-0019 endpoint POST /__ut__; --ibc-credential FILE with --ibc-saef-listen
//        HOST:PORT (and --ibc-fqdns) makes it the responder of the IBC-based SAEF (docs/ibc-saef.md).
//   CoAP  every role also speaks the oneM2M CoAP binding (TS-0008) over DTLS 1.2: --coaps-listen HOST:PORT (PSK, the
//        credentials of the TLS-PSK listener), --coaps-cert-listen HOST:PORT (certificates, as --cert-listen); the
//        cse also --coaps-rpk-listen HOST:PORT with --rpk-key KEY.pem (raw public keys) and, only when asked for,
//        --coap-listen HOST:PORT (plain UDP, no security association).
// Options come from --config FILE (lines "name = value", or a bare "name" for a switch; '#' starts a
// comment) and the command line, which wins. At start one line per endpoint: `listening role=R url=U`.
// SIGINT/SIGTERM stop it gracefully. A role this build cannot serve stops start-up (fail closed).
#include <csignal>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>

#include "args.h"
#include "daemon.h"
#include "files.h"
#include "m2msec/core/encoding.h"
#include "m2msec/est/coaps.h"
#include "m2msec/est/server.h"
#include "m2msec/http/server.h"
#include "m2msec/tls/net.h"
#include "m2msec/tls/session.h"

namespace m2msec::daemon {

Result<void> for_each_line(const std::string& path,
                           const std::function<Result<void>(const std::string&, std::istringstream&)>& on_line) {
  std::ifstream in(path);
  if (!in) return Error::usage("cannot read " + path);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::istringstream words(line);
    M2MSEC_TRY(on_line(path + ":" + std::to_string(number), words));
  }
  return {};
}

// --psk-file: "<psk identity> <key hex>" per line. The identity is a KpsaID (TS-0003 V3.18.0 10.5) and the
// association is bound to it as it is, the credential the app rules and the admin credentials name.
Result<std::shared_ptr<tls::InMemoryPskResolver>> load_psk_file(const std::string& path) {
  auto resolver = std::make_shared<tls::InMemoryPskResolver>(tls::PskIdentityKind::kKpsaId);
  M2MSEC_TRY(for_each_line(path, [&](const std::string& where, std::istringstream& words) -> Result<void> {
    std::string identity, key_hex, extra;
    if (!(words >> identity >> key_hex) || (words >> extra)) {
      return Error::usage(where + ": expected '<psk identity> <key hex>'");
    }
    auto key = hex_decode_secret(key_hex);
    if (!key) return Error::usage(where + ": the key is not hex");
    if (auto added = resolver->add(identity, std::move(*key), identity); !added) {
      return Error::usage(where + ": " + added.error().detail());
    }
    return {};
  }));
  return resolver;
}

namespace {

using cli::Options;

const std::vector<std::string_view> kOptions{
    "config", "roles", "listen", "psk-listen", "ca-cert", "ca-key", "validity-days", "cert", "key", "client-ca",
    "client-crl", "client-flavour", "enrolees", "ocsp-staple",
    // the CoAP binding (mef, maf, kms, est, cse)
    "coaps-listen", "coaps-cert-listen", "coaps-rpk-listen", "rpk-key", "coap-listen",
    // mef, maf
    "data-dir", "database", "kek-file", "ops-listen", "mef-fqdn", "maf-fqdn", "enrolment-lifetime",
    "enrolment-target", "retry-duration", "max-lifetime", "mef-url", "mef-sni", "mef-kpm-id", "mef-kpm", "cert-listen",
    // kms, and the MEF's IBC Credential Provisioning
    "kms-master", "kms-clients", "kms-url", "kms-sni", "kms-psk-id", "kms-psk", "ibc-lifetime",
    // cse
    "psk-file", "cse-id", "sp-id", "cse-name", "admin-originator", "admin-credential", "app-rules", "token-issuers",
    "release", "ibc-credential", "ibc-saef-listen", "ibc-fqdns"};
const std::vector<std::string_view> kFlags{"require-pop-linking", "dev-credentials", "upper-tester"};

// The embedded default: everything on loopback, state in ./var, a development enrolee.
const std::vector<std::string_view> kEmbeddedDefault{"--data-dir", "var", "--listen", "127.0.0.1:8443",
                                                     "--ops-listen", "127.0.0.1:9464", "--roles", "mef,maf",
                                                     "--dev-credentials"};

// The configuration file as arguments, without the options the command line gives itself.
Result<std::vector<std::string>> file_arguments(const std::string& path, const Options& command_line) {
  std::vector<std::string> out;
  M2MSEC_TRY(for_each_line(path, [&](const std::string& where, std::istringstream& words) -> Result<void> {
    std::string name, equals, value, extra;
    words >> name;
    if ((words >> equals) && (equals != "=" || !(words >> value) || (words >> extra))) {
      return Error::usage(where + ": expected 'name = value'");
    }
    if (name == "config") return Error::usage(path + ": 'config' cannot be nested");
    if (command_line.get(name) || command_line.flag(name)) return {};
    out.push_back("--" + name);
    if (!value.empty()) out.push_back(value);
    return {};
  }));
  return out;
}

Result<Options> load_options(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(Options command_line, Options::parse(args, kOptions, kFlags));
  const auto config = command_line.get("config");
  if (!config) return command_line;
  M2MSEC_ASSIGN_OR_RETURN(const std::vector<std::string> from_file, file_arguments(std::string(*config), command_line));
  std::vector<std::string_view> all(args);
  all.insert(all.end(), from_file.begin(), from_file.end());
  return Options::parse(all, kOptions, kFlags);
}

// --enrolees: one enrolee per line, "<KpmID> <Kpm hex> <flavour>:<identifier>...": the pre-provisioned
// key and the identities the MEF links to it (8.3.6.2.2). The file holds secrets: keep it 0600.
struct Enrolees {
  std::shared_ptr<tls::InMemoryPskResolver> keys = std::make_shared<tls::InMemoryPskResolver>(tls::PskIdentityKind::kKpmId);
  std::shared_ptr<est::InMemoryEnrolees> identities = std::make_shared<est::InMemoryEnrolees>();
};

Result<Enrolees> load_enrolees(const std::string& path) {
  Enrolees out;
  M2MSEC_TRY(for_each_line(path, [&](const std::string& where, std::istringstream& words) -> Result<void> {
    std::string kpm_id, kpm_hex, entry;
    words >> kpm_id;
    if (!(words >> kpm_hex)) return Error::usage(where + ": expected '<KpmID> <Kpm hex> <flavour>:<id>...'");
    auto kpm = hex_decode_secret(kpm_hex);
    if (!kpm) return Error::usage(where + ": the Kpm is not hex");
    pki::Authorisation who;
    while (words >> entry) {
      const auto colon = entry.find(':');
      const auto flavour = colon == std::string::npos ? std::nullopt : pki::flavour_named(entry.substr(0, colon));
      if (!flavour) return Error::usage(where + ": '" + entry + "' is not <flavour>:<identifier>");
      who.identities.emplace_back(*flavour, entry.substr(colon + 1));
    }
    if (who.identities.empty()) return Error::usage(where + ": no identity for " + kpm_id);
    if (auto added = out.keys->add(kpm_id, std::move(*kpm)); !added) {
      return Error::usage(where + ": " + added.error().detail());
    }
    out.identities->add(kpm_id, std::move(who));
    return {};
  }));
  return out;
}

// An EST endpoint: the server and its `listening` line.
Result<std::unique_ptr<http::Server>> serve_est(std::string_view listen, tls::Config config, http::Handler handler,
                                                std::string_view auth) {
  M2MSEC_ASSIGN_OR_RETURN(auto server, serve(listen, std::move(config), std::move(handler)));
  std::cout << "listening role=est url=" << server->url() << "/.well-known/est auth=" << auth << std::endl;
  return server;
}

Result<void> start_est(const Options& opts, Running& running) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view listen, opts.required("listen"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view ca_cert, opts.required("ca-cert"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view ca_key, opts.required("ca-key"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view cert, opts.required("cert"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view key, opts.required("key"));
  M2MSEC_ASSIGN_OR_RETURN(const std::size_t days, opts.number("validity-days", 365));
  const auto flavour = pki::flavour_named(opts.get("client-flavour").value_or("cse-id"));
  if (!flavour) return Error::usage("--client-flavour must be device, node-id, cse-id, ae-id or fqdn");

  const auto clock = std::make_shared<SystemClock>();
  M2MSEC_ASSIGN_OR_RETURN(pki::IssuingCa loaded_ca, pki::IssuingCa::load(std::string(ca_cert), std::string(ca_key), clock,
                                                                         std::chrono::hours(24) * days));
  const auto ca = std::make_shared<const pki::IssuingCa>(std::move(loaded_ca));

  // Client certificates: those of this CA (re-provisioning) and of any --client-ca anchors (third-party
  // EST client certificates for initial provisioning, 8.3.6.2.2), with the CRLs of --client-crl.
  std::vector<pki::Certificate> anchors{ca->chain().front()};
  if (const auto extra = opts.get("client-ca")) {
    M2MSEC_ASSIGN_OR_RETURN(const auto more, pki::Certificate::load_pem_file(std::string(*extra)));
    anchors.insert(anchors.end(), more.begin(), more.end());
  }
  std::vector<pki::Crl> crls;
  if (const auto crl = opts.get("client-crl")) {
    M2MSEC_ASSIGN_OR_RETURN(crls, pki::Crl::load_pem_file(std::string(*crl)));
  }

  est::ServiceOptions service_options{ca, nullptr, *flavour, opts.flag("require-pop-linking")};
  std::optional<Enrolees> enrolees;
  if (const auto path = opts.get("enrolees")) {
    M2MSEC_ASSIGN_OR_RETURN(enrolees, load_enrolees(std::string(*path)));
    service_options.enrolees = enrolees->identities;
  }
  const auto service = std::make_shared<const est::Service>(std::move(service_options));
  const http::Handler handler = [service](const http::Request& r, const http::Connection& c) {
    return service->handle(r, c);
  };

  //= TS-0003 V3.18.0 §8.3.6.2
  //# TLS server-certificate and client-certificate authentication (RFC 7030 3.3.1, 3.3.2), explicit trust
  //# anchors only; /cacerts needs no client certificate (RFC 7030 4.1.1).
  M2MSEC_ASSIGN_OR_RETURN(const tls::CertificateCredential credential,
                          tls::CertificateCredential::load(std::string(cert), std::string(key)));
  tls::PeerCertificatePolicy clients{pki::TrustStore(std::move(anchors), std::move(crls))};
  clients.flavour = *flavour;
  clients.client_certificate_optional = true;
  //= TS-0003 V3.18.0 §8.1.2.2
  //# OCSP stapling (RFC 6066 clause 8): the MEF's certificate status for clients that ask for it.
  std::shared_ptr<const tls::OcspStapleSource> staple;
  if (const auto path = opts.get("ocsp-staple")) {
    M2MSEC_ASSIGN_OR_RETURN(const std::string der, cli::read_file(*path));
    staple = std::make_shared<tls::FixedOcspStaple>(Bytes(der.begin(), der.end()));
  }
  // The listeners' configs, over TLS (HTTPS) or DTLS (EST-coaps): the same credentials under either profile.
  const auto certificate_config = [&](std::string_view profile) {
    tls::Config config;
    config.role = tls::Role::kServer;
    config.profile = tls::find_profile(profile);
    config.certificate = credential;
    config.peer_policy = clients;
    config.clock = clock;
    config.ocsp_staple = staple;
    return config;
  };
  const auto psk_config = [&](std::string_view profile) {
    tls::Config config;
    config.role = tls::Role::kServer;
    config.profile = tls::find_profile(profile);
    config.psk_resolver = enrolees->keys;
    config.clock = clock;
    return config;
  };
  M2MSEC_ASSIGN_OR_RETURN(auto server, serve_est(listen, certificate_config("ts0003-tls12-cert"), handler, "certificate"));
  running.servers.push_back(std::move(server));

  if (const auto psk_listen = opts.get("psk-listen")) {
    //= TS-0003 V3.18.0 §8.3.6.2
    //# PPSK RSPF: certificate-less TLS mutual authentication (RFC 7030 3.3.3) with KpmID/Kpm.
    if (!enrolees) return Error::usage("--psk-listen needs --enrolees");
    M2MSEC_ASSIGN_OR_RETURN(auto psk_server, serve_est(*psk_listen, psk_config("ts0003-tls12-psk"), handler, "psk"));
    running.servers.push_back(std::move(psk_server));
  }

  // EST-coaps (RFC 9148): the same Service behind the CoAP short paths, on DTLS 1.2 listeners.
  const coap::Handler coaps_handler = est::coaps_handler(service);
  const auto serve_est_coaps = [&](std::string_view at, tls::Config config, std::string_view auth) -> Result<void> {
    M2MSEC_ASSIGN_OR_RETURN(auto coaps_server, serve_coap(at, std::move(config), coaps_handler));
    std::cout << "listening role=est url=" << coaps_server->url() << "/.well-known/est auth=" << auth << std::endl;
    running.coap_servers.push_back(std::move(coaps_server));
    return {};
  };
  if (const auto coaps_cert_listen = opts.get("coaps-cert-listen")) {
    //= RFC 9148 §3
    //# The server authenticates with its certificate and the EST-coaps client with a client certificate in the
    //# DTLS handshake (one the CA issued, or a third-party one the server trusts).
    M2MSEC_TRY(serve_est_coaps(*coaps_cert_listen, certificate_config("ts0003-dtls12-cert"), "certificate"));
  }
  if (const auto coaps_listen = opts.get("coaps-listen")) {
    //= TS-0003 V3.18.0 §8.3.6.2
    //# PPSK RSPF over DTLS-PSK with KpmID/Kpm: a oneM2M addition to RFC 9148, which names client certificates only.
    if (!enrolees) return Error::usage("--coaps-listen needs --enrolees");
    M2MSEC_TRY(serve_est_coaps(*coaps_listen, psk_config("ts0003-dtls12-psk"), "psk"));
  }
  return {};
}

// --roles: a comma-separated set of mef, maf, kms, est, cse. est and cse run alone (each has its own listeners
// and options).
struct Roles {
  bool mef = false;
  bool maf = false;
  bool kms = false;
  bool est = false;
  bool cse = false;
};

Result<Roles> parse_roles(std::string_view text) {
  Roles out;
  while (!text.empty()) {
    const std::string_view role = text.substr(0, text.find(','));
    if (role == "mef") out.mef = true;
    else if (role == "maf") out.maf = true;
    else if (role == "kms") out.kms = true;
    else if (role == "est") out.est = true;
    else if (role == "cse") out.cse = true;
    else return Error::unsupported("role '" + std::string(role) + "': this build serves mef, maf, kms, est and cse");
    text.remove_prefix(std::min(text.size(), role.size() + 1));
  }
  const int count = int{out.mef || out.maf || out.kms} + int{out.est} + int{out.cse};
  if (count == 0) return Error::usage("--roles names no role");
  if (count > 1) return Error::usage("the est and cse roles each run in an m2msecd of their own");
  return out;
}

Result<void> run(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, load_options(args.empty() ? kEmbeddedDefault : args));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view role_list, opts.required("roles"));
  M2MSEC_ASSIGN_OR_RETURN(const Roles roles, parse_roles(role_list));
  // The signals are taken by sigwait below, in this thread only: block them before any thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Running running;
  if (roles.est) {
    M2MSEC_TRY(start_est(opts, running));
  } else if (roles.cse) {
    M2MSEC_TRY(start_cse_role(opts, running));
    M2MSEC_TRY(start_ops(opts, running));
  } else {
    M2MSEC_TRY(start_enrolment_roles(opts, EnrolmentRoles{roles.mef, roles.maf, roles.kms}, running));
    M2MSEC_TRY(start_ops(opts, running));
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  for (auto& server : running.servers) server->stop();
  std::cout << "stopped signal=" << signal_number << std::endl;
  return {};
}

}  // namespace
}  // namespace m2msec::daemon

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.size() == 1 && args[0] == "--version") {
    std::cout << "m2msecd 0.1.0\n";
    return 0;
  }
  if (auto result = m2msec::daemon::run(args); !result) {
    std::cerr << "m2msecd: " << result.error().detail() << '\n';
    return result.error().category() == m2msec::Category::kUsage ? 2 : 1;
  }
  return 0;
}

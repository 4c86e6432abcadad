// The cse role: the secure hosting CSE (cse::Service) behind the oneM2M HTTP binding on a TLS-PSK listener
// (TS-0003 V3.18.0 8.2.2.1, PSK-based SAEF, with the 10.2.2 TLS profile) and, with --cert-listen, a certificate
// listener (8.2.2.2). Every request carries where it came from (the association's authenticated peer, the
// source address) into the service, which decides everything else. Notifications leave over the same binding
// (http:// or https:// targets). --upper-tester adds the TS-0019 Upper Tester endpoint POST /__ut__. With
// --ibc-credential the CSE is also the responder of the IBC-based SAEF (docs/ibc-saef.md): message 1 arrives by
// POST /ibc-saef on the plain-HTTP --ibc-saef-listen (the messages protect themselves), and the key it derives
// opens the TLS-PSK listener, bound to the AE-ID or CSE-ID in the initiator's ID_2.
#include <iostream>
#include <sstream>

#include "daemon.h"
#include "files.h"
#include "m2msec/client/ibc.h"
#include "m2msec/coap/onem2m.h"
#include "m2msec/core/clock.h"
#include "m2msec/core/encoding.h"
#include "m2msec/core/text.h"
#include "m2msec/cse/service.h"
#include "m2msec/http/client.h"
#include "m2msec/http/onem2m.h"
#include "m2msec/ibc/saef.h"
#include "m2msec/jose/jwk.h"
#include "m2msec/json/json.h"
#include "m2msec/pki/certificate.h"
#include "m2msec/pki/identity.h"
#include "m2msec/pki/validate.h"
#include "m2msec/tls/net.h"
#include "m2msec/tls/profile.h"
#include "store.h"

namespace m2msec::daemon {
namespace {

// The keys of IBC-based SAEF exchanges wait this long for their TLS-PSK handshake, at most this many at once.
constexpr std::chrono::seconds kSaefKeyLifetime{60};
constexpr std::size_t kSaefPendingKeys = 4096;
constexpr std::size_t kSaefMessageLimit = 4096;

// A notification target gets this long for each wait (connect aside) before the CSE gives up on it.
constexpr std::chrono::seconds kNotifyTimeout{5};
constexpr std::size_t kNotifyResponseLimit = 64 * 1024;
// Debian's bundle of the system's trust anchors: the https notification anchors without --client-ca.
constexpr std::string_view kSystemAnchors = "/etc/ssl/certs/ca-certificates.crt";

// --app-rules: "<credential> <app-IDs,...> <AE-IDs,...> [<role IDs,...>]" per line (TS-0001
// <serviceSubscribedAppRule>: applicableCredIDs, allowedApp-IDs, allowedAEs, allowedRole-IDs).
Result<std::vector<cse::AppRule>> load_app_rules(const std::string& path) {
  std::vector<cse::AppRule> rules;
  M2MSEC_TRY(for_each_line(path, [&](const std::string& where, std::istringstream& words) -> Result<void> {
    std::string credential, apps, aes, roles, extra;
    if (!(words >> credential >> apps >> aes) || ((words >> roles) && (words >> extra))) {
      return Error::usage(where + ": expected '<credential> <app-IDs> <AE-IDs> [<role IDs>]'");
    }
    rules.push_back(cse::AppRule{credential, cli::comma_list(apps), cli::comma_list(aes), cli::comma_list(roles)});
    return {};
  }));
  return rules;
}

// --token-issuers: {"issuers":[{"id":"<iss>","keys":{"keys":[<JWK>...]},"allow_unsecured":false}]}.
Result<std::vector<authz::TrustedIssuer>> load_token_issuers(const std::string& path) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string text, cli::read_file(path));
  const auto refuse = [&](std::string_view why) { return Error::usage(concat({path, ": ", why})); };
  M2MSEC_ASSIGN_OR_RETURN(const json::Value document, json::parse(text));
  const json::Object* root = document.object();
  const json::Value* list = root == nullptr ? nullptr : root->find("issuers");
  if (list == nullptr || list->array() == nullptr || root->size() != 1) {
    return refuse("expected {\"issuers\":[...]} and nothing else");
  }
  std::vector<authz::TrustedIssuer> issuers;
  for (const json::Value& entry : *list->array()) {
    const json::Object* object = entry.object();
    if (object == nullptr) return refuse("an issuer must be an object");
    authz::TrustedIssuer issuer;
    for (const auto& [name, value] : *object) {
      if (name == "id" && value.string() != nullptr && !value.string()->empty()) {
        issuer.id = *value.string();
      } else if (name == "keys" && value.object() != nullptr) {
        M2MSEC_ASSIGN_OR_RETURN(jose::JwkSet set, jose::JwkSet::parse(json::serialize(value)));
        issuer.keys = std::move(set.keys);
      } else if (name == "allow_unsecured" && value.boolean()) {
        issuer.allow_unsecured = *value.boolean();
      } else {
        return refuse("an issuer has \"id\" (a non-empty string), \"keys\" (a JWK Set) and \"allow_unsecured\" "
                      "(a boolean); '" + name + "' is not one of them or has the wrong type");
      }
    }
    if (issuer.id.empty()) return refuse("an issuer without \"id\"");
    issuers.push_back(std::move(issuer));
  }
  return issuers;
}

// "127.0.0.1:41234" -> 127.0.0.1, "[::1]:41234" -> ::1.
std::optional<authz::IpAddress> source_address(std::string_view remote) {
  std::string_view host = remote.substr(0, remote.rfind(':'));
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  auto ip = authz::IpAddress::parse(host);
  return ip ? std::optional<authz::IpAddress>(*ip) : std::nullopt;
}

// The Notifier of the service: one NOTIFY over the HTTP binding to an http:// or https:// URL. https
// targets are authenticated with the TS-0003 certificate profile (ts0003-tls12-cert, 10.1.1): a chain to
// `anchors` and the URL's host as a dNSName (or URI) of the certificate.
cse::Notifier make_notifier(std::shared_ptr<const pki::TrustStore> anchors, std::shared_ptr<const Clock> clock) {
  return [anchors, clock](std::string_view target, const onem2m::Request& notify) -> Result<onem2m::Response> {
    M2MSEC_ASSIGN_OR_RETURN(const http::Url url, http::Url::parse(target));
    std::shared_ptr<const tls::Context> context;
    if (url.scheme == "https") {
      if (!anchors) return Error::unsupported("https notification targets need trust anchors (--client-ca)");
      tls::Config config;
      config.role = tls::Role::kClient;
      config.profile = tls::find_profile("ts0003-tls12-cert");
      config.server_name = url.host;
      config.peer_policy = tls::PeerCertificatePolicy{*anchors, pki::Flavour::kFqdn, url.host};
      config.clock = clock;
      M2MSEC_ASSIGN_OR_RETURN(context, tls::Context::create(std::move(config)));
    }
    M2MSEC_ASSIGN_OR_RETURN(const http::Response response,
                            http::send(url, http::to_http_request(notify), context, kNotifyResponseLimit,
                                       kNotifyTimeout));
    return http::from_http_response(response, notify.rqi);
  };
}

// https notifications: the anchors of --client-ca, else the system's (kSystemAnchors); none readable: no https
// notifications (http ones still go).
std::shared_ptr<const pki::TrustStore> notification_anchors(const cli::Options& opts) {
  const std::string path(opts.get("client-ca").value_or(kSystemAnchors));
  auto loaded = pki::TrustStore::load(path);
  if (!loaded) {
    std::cerr << "m2msecd: https notification targets disabled: " << loaded.error().detail() << std::endl;
    return nullptr;
  }
  return std::make_shared<const pki::TrustStore>(std::move(*loaded));
}

//= TS-0019 (Upper Tester, as ACME's test suite speaks it: spec digest B 4.12)
//# POST /__ut__ with X-M2M-UTCMD "Status", "testCaseStart <name>", "testCaseEnd <name>" or "GetConfig <key>";
//# the answer in X-M2M-UTRSP. Nothing here changes the CSE: an unknown command is 400.
http::Response upper_tester(const http::Request& request, const cse::ServiceOptions& options) {
  const auto answer = [](unsigned status, Rsc rsc, std::string_view result) {
    http::Response out{status, {{"X-M2M-RSC", std::to_string(static_cast<unsigned>(rsc))}}, ""};
    if (!result.empty()) out.headers.push_back({"X-M2M-UTRSP", std::string(result)});
    return out;
  };
  const auto refused = answer(400, Rsc::kBadRequest, "");
  const auto command = request.header("X-M2M-UTCMD");
  if (request.method != "POST" || !command) return refused;
  std::istringstream words{std::string(*command)};
  std::string verb, argument, extra;
  words >> verb >> argument;
  if (words >> extra) return refused;
  if (verb == "Status" && argument.empty()) return answer(200, Rsc::kOk, "ok");
  if ((verb == "testCaseStart" || verb == "testCaseEnd") && !argument.empty()) {
    std::cout << "upper-tester " << verb << ' ' << argument << std::endl;
    return answer(200, Rsc::kOk, "ok");
  }
  if (verb == "GetConfig") {
    std::string releases;
    for (const std::string& release : options.supported_releases) releases += (releases.empty() ? "" : ",") + release;
    const std::pair<std::string_view, std::string> known[] = {
        {"cse.cseID", options.cse_id},
        {"cse.spID", options.sp_id},
        {"cse.resourceName", options.resource_name},
        {"cse.originator", options.admin_originator},
        {"cse.releaseVersion", options.supported_releases.back()},
        {"cse.supportedReleaseVersions", releases},
    };
    for (const auto& [key, value] : known) {
      if (key == argument) return answer(200, Rsc::kOk, value);
    }
  }
  return refused;
}

//= seed 002 §8.3.1 (IBC credentials used for the IBC-based SAEF); docs/ibc-saef.md
//# The responder: the CSE's own IBC credential (a file of `m2msec enrol --ibc-out`) answers message 1 with
//# message 2; the key goes to `keys` for the TLS-PSK listener.
Result<void> start_ibc_saef(const cli::Options& opts, std::shared_ptr<const Clock> clock,
                            std::shared_ptr<ibc::SaefKeyStore> keys, Running& running) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view path, opts.required("ibc-credential"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string text, cli::read_file(path));
  M2MSEC_ASSIGN_OR_RETURN(ibc::SaefCredential credential, client::saef_credential(text));
  auto self = std::make_shared<const ibc::SaefCredential>(std::move(credential));
  ibc::SaefPolicy policy{{}, std::move(clock)};
  if (const auto fqdns = opts.get("ibc-fqdns")) {
    for (std::string& fqdn : cli::comma_list(*fqdns)) policy.fqdns.insert(std::move(fqdn));
  }
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view listen, opts.required("ibc-saef-listen"));
  M2MSEC_ASSIGN_OR_RETURN(const tls::net::Endpoint at, tls::net::Endpoint::parse(listen));
  http::ServerOptions options;
  options.host = at.host;
  options.port = at.port;
  options.handler = [self, policy, keys](const http::Request& request, const http::Connection&) -> http::Response {
    const http::Header text_type{"Content-Type", "text/plain; charset=utf-8"};
    if (request.target != "/ibc-saef") return http::Response{404, {text_type}, "not found\n"};
    if (request.method != "POST") return http::Response{405, {text_type, {"Allow", "POST"}}, "only POST\n"};
    if (request.body.size() > kSaefMessageLimit) return http::Response{413, {text_type}, "message 1 too large\n"};
    auto answered = ibc::saef_respond(*self, policy, as_bytes(request.body));
    if (!answered) {
      // The prober learns only that it failed, and whether the message parsed; the reason goes to the log.
      std::cerr << "ibc-saef: " << answered.error().to_string() << std::endl;
      if (answered.error().category() == Category::kProtocol) return http::Response{400, {text_type}, "malformed\n"};
      return http::Response{403, {text_type}, "refused\n"};
    }
    keys->add(std::move(answered->second));
    return http::Response{200, {{"Content-Type", "application/octet-stream"}},
                          std::string(as_text(answered->first))};
  };
  M2MSEC_ASSIGN_OR_RETURN(auto server, http::Server::start(std::move(options)));
  std::cout << "listening role=cse-ibc-saef url=" << server->url() << "/ibc-saef" << std::endl;
  running.servers.push_back(std::move(server));
  return {};
}

}  // namespace

Result<void> start_cse_role(const cli::Options& opts, Running& running) {
  M2MSEC_ASSIGN_OR_RETURN(running.store, cli::open_store(opts));
  const auto clock = std::make_shared<SystemClock>();

  cse::ServiceOptions options;
  options.cse_id = std::string(opts.get("cse-id").value_or(options.cse_id));
  options.sp_id = std::string(opts.get("sp-id").value_or(options.sp_id));
  options.resource_name = std::string(opts.get("cse-name").value_or(options.resource_name));
  options.admin_originator = std::string(opts.get("admin-originator").value_or(options.admin_originator));
  if (const auto releases = opts.get("release")) options.supported_releases = cli::comma_list(*releases);
  if (options.supported_releases.empty()) return Error::usage("--release names no release");
  if (const auto admins = opts.get("admin-credential")) options.admin_credentials = cli::comma_list(*admins);
  if (const auto path = opts.get("app-rules")) {
    M2MSEC_ASSIGN_OR_RETURN(options.app_rules, load_app_rules(std::string(*path)));
  }
  if (const auto path = opts.get("token-issuers")) {
    M2MSEC_ASSIGN_OR_RETURN(options.tokens.issuers, load_token_issuers(std::string(*path)));
  }
  //= TS-0003 V3.18.0 §7.3.2.6.3
  //# A token's audience, when it has one, must name this Hosting CSE: its absolute CSE-ID.
  options.tokens.cse_id = options.sp_id + options.cse_id;
  options.tokens.clock = clock;
  options.store = running.store;
  options.clock = clock;
  options.notifier = make_notifier(notification_anchors(opts), clock);
  M2MSEC_ASSIGN_OR_RETURN(std::shared_ptr<cse::Service> service, cse::Service::open(std::move(options)));

  const std::shared_ptr<Metrics> metrics = running.metrics;
  // One answer for both bindings: the connection is an http::Connection or a coap::Connection.
  const auto answer = [service, metrics](const onem2m::Request& request, const auto& connection) {
    const auto start = std::chrono::steady_clock::now();
    cse::Origin origin;
    if (connection.session != nullptr) origin.peer = connection.session->peer();
    origin.ip = source_address(connection.remote_address);
    onem2m::Response response = service->handle(request, origin);
    metrics->count_request("cse", response.rsc, std::chrono::steady_clock::now() - start);
    return response;
  };
  const http::Handler primitives = http::primitive_handler(answer);
  http::Handler handler = primitives;
  if (opts.flag("upper-tester")) {
    handler = [service, primitives](const http::Request& request, const http::Connection& connection) {
      if (request.target == "/__ut__") return upper_tester(request, service->options());
      return primitives(request, connection);
    };
  }

  const auto listen_on = [&](std::string_view listen, tls::Config config, std::string_view role) -> Result<void> {
    config.clock = clock;
    M2MSEC_ASSIGN_OR_RETURN(auto server, serve(listen, std::move(config), handler));
    metrics->watch(std::string(role), [s = server.get()] { return s->failed_handshakes(); });
    std::cout << "listening role=" << role << " url=" << server->url() << std::endl;
    running.servers.push_back(std::move(server));
    return {};
  };

  //= TS-0003 V3.18.0 §8.2.2.1, §10.2.2; TS-0013 TD_M2M_SE_01
  //# PSK-based SAEF: TLS 1.2 with TLS_PSK_WITH_AES_128_CBC_SHA256 (and the other 10.2.2 suite), the
  //# provisioned KpsaID/Kpsa pairs of --psk-file.
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view psk_file, opts.required("psk-file"));
  tls::Config psk_config;
  psk_config.role = tls::Role::kServer;
  psk_config.profile = tls::find_profile("ts0003-tls12-psk");
  M2MSEC_ASSIGN_OR_RETURN(auto provisioned, load_psk_file(std::string(psk_file)));
  std::vector<std::shared_ptr<const tls::PskResolver>> resolvers{std::move(provisioned)};
  if (opts.get("ibc-credential")) {
    auto saef_keys = std::make_shared<ibc::SaefKeyStore>(clock, kSaefKeyLifetime, kSaefPendingKeys);
    M2MSEC_TRY(start_ibc_saef(opts, clock, saef_keys, running));
    resolvers.push_back(std::move(saef_keys));
  }
  const auto psk_resolver = std::make_shared<ChainResolver>(std::move(resolvers));
  psk_config.psk_resolver = psk_resolver;
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view listen, opts.required("listen"));
  M2MSEC_TRY(listen_on(listen, std::move(psk_config), "cse"));

  if (const auto cert_listen = opts.get("cert-listen")) {
    //= TS-0003 V3.18.0 §8.2.2.2
    //# Certificate-based SAEF: the CSE's certificate, the AE's checked against --client-ca and bound per
    //# --client-flavour (default ae-id: the AE-ID in a URI subjectAltName).
    M2MSEC_ASSIGN_OR_RETURN(tls::Config cert_config, certificate_listener_config(opts, "ae-id"));
    M2MSEC_TRY(listen_on(*cert_listen, std::move(cert_config), "cse-cert"));
  }

  //= TS-0008 V3.9.0; TS-0003 V3.18.0 §10.2.1
  //# The CoAP binding over DTLS 1.2 with the same credentials and checks: PSK (TLS_PSK_WITH_AES_128_CCM_8 first;
  //# TD_M2M_SE_01), certificates, raw public keys (RFC 7250; the association binds to the key's ni URI); plain
  //# UDP only where --coap-listen asks for it (no association: the CSE refuses what needs one, 4107).
  const coap::Handler coap_handler = coap::primitive_handler(answer);
  const auto coap_on = [&](std::string_view at, std::optional<tls::Config> config, std::string_view role) -> Result<void> {
    if (config) config->clock = clock;
    M2MSEC_ASSIGN_OR_RETURN(auto server, serve_coap(at, std::move(config), coap_handler));
    metrics->watch(std::string(role), [s = server.get()] { return s->failed_handshakes(); });
    std::cout << "listening role=" << role << " url=" << server->url() << std::endl;
    running.coap_servers.push_back(std::move(server));
    return {};
  };
  if (const auto coaps_listen = opts.get("coaps-listen")) {
    tls::Config config;
    config.role = tls::Role::kServer;
    config.profile = tls::find_profile("ts0003-dtls12-psk");
    config.psk_resolver = psk_resolver;
    M2MSEC_TRY(coap_on(*coaps_listen, std::move(config), "cse-coaps"));
  }
  if (const auto coaps_cert_listen = opts.get("coaps-cert-listen")) {
    M2MSEC_ASSIGN_OR_RETURN(tls::Config config, certificate_listener_config(opts, "ae-id"));
    config.profile = tls::find_profile("ts0003-dtls12-cert");
    M2MSEC_TRY(coap_on(*coaps_cert_listen, std::move(config), "cse-coaps-cert"));
  }
  if (const auto coaps_rpk_listen = opts.get("coaps-rpk-listen")) {
    M2MSEC_ASSIGN_OR_RETURN(const std::string_view key, opts.required("rpk-key"));
    M2MSEC_ASSIGN_OR_RETURN(pki::PrivateKey own, pki::PrivateKey::load_pem_file(std::string(key)));
    tls::Config config;
    config.role = tls::Role::kServer;
    config.profile = tls::find_profile("ts0003-dtls12-rpk");
    config.raw_public_key = tls::RawPublicKeyCredential{std::move(own), std::nullopt};
    M2MSEC_TRY(coap_on(*coaps_rpk_listen, std::move(config), "cse-coaps-rpk"));
  }
  if (const auto coap_listen = opts.get("coap-listen")) M2MSEC_TRY(coap_on(*coap_listen, std::nullopt, "cse-coap"));
  return {};
}

}  // namespace m2msec::daemon

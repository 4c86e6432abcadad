// What the roles share to listen: the HTTPS servers, and the operations endpoint: /health (200 "ok" while the store answers, 503 otherwise) and /metrics in the
// Prometheus text exposition format. Plain HTTP: bind it to loopback or a management network only.
#include <iostream>
#include <sstream>

#include "daemon.h"
#include "m2msec/core/text.h"
#include "m2msec/pki/identity.h"
#include "m2msec/pki/validate.h"
#include "m2msec/tls/net.h"
#include "m2msec/tls/profile.h"

namespace m2msec::daemon {

void Metrics::count_request(const std::string& role, Rsc rsc, std::chrono::nanoseconds took) {
  const std::lock_guard lock(m_mutex);
  ++m_requests[{role, static_cast<int>(rsc)}];
  auto& [seconds, count] = m_durations[role];
  seconds += std::chrono::duration<double>(took).count();
  ++count;
}

void Metrics::watch(std::string listener, std::function<std::uint64_t()> failed_handshakes) {
  const std::lock_guard lock(m_mutex);
  m_listeners.emplace_back(std::move(listener), std::move(failed_handshakes));
}

std::string Metrics::render(store::Store* store) const {
  std::ostringstream out;
  const std::lock_guard lock(m_mutex);
  out << "# HELP m2msec_requests_total Requests answered, by role and oneM2M response status code.\n"
         "# TYPE m2msec_requests_total counter\n";
  for (const auto& [key, count] : m_requests) {
    out << "m2msec_requests_total{role=\"" << key.first << "\",rsc=\"" << key.second << "\"} " << count << '\n';
  }
  out << "# HELP m2msec_request_duration_seconds Time spent answering requests, by role.\n"
         "# TYPE m2msec_request_duration_seconds summary\n";
  for (const auto& [role, value] : m_durations) {
    out << "m2msec_request_duration_seconds_sum{role=\"" << role << "\"} " << value.first << '\n'
        << "m2msec_request_duration_seconds_count{role=\"" << role << "\"} " << value.second << '\n';
  }
  out << "# HELP m2msec_failed_handshakes_total TLS and DTLS handshakes that failed, by listener.\n"
         "# TYPE m2msec_failed_handshakes_total counter\n";
  for (const auto& [listener, failed_handshakes] : m_listeners) {
    out << "m2msec_failed_handshakes_total{listener=\"" << listener << "\"} " << failed_handshakes() << '\n';
  }
  if (store != nullptr) {
    out << "# HELP m2msec_store_up Whether the store answered a ping (1) or not (0).\n"
           "# TYPE m2msec_store_up gauge\n"
        << "m2msec_store_up{backend=\"" << store->backend() << "\"} " << (store->ping() ? 1 : 0)
        << '\n';
  }
  return out.str();
}

Result<std::unique_ptr<http::Server>> serve(std::string_view listen, tls::Config config, http::Handler handler) {
  M2MSEC_ASSIGN_OR_RETURN(const tls::net::Endpoint at, tls::net::Endpoint::parse(listen));
  M2MSEC_ASSIGN_OR_RETURN(const auto context, tls::Context::create(std::move(config)));
  http::ServerOptions options;
  options.host = at.host;
  options.port = at.port;
  options.tls = context;
  options.handler = std::move(handler);
  return http::Server::start(std::move(options));
}

Result<std::unique_ptr<coap::Server>> serve_coap(std::string_view listen, std::optional<tls::Config> config,
                                                 coap::Handler handler) {
  M2MSEC_ASSIGN_OR_RETURN(const tls::net::Endpoint at, tls::net::Endpoint::parse(listen));
  coap::ServerOptions options;
  options.host = at.host;
  options.port = at.port;
  if (config) {
    M2MSEC_ASSIGN_OR_RETURN(options.dtls, tls::Context::create(std::move(*config)));
  }
  options.handler = std::move(handler);
  return coap::Server::start(std::move(options));
}

Result<tls::Config> certificate_listener_config(const cli::Options& opts, std::string_view default_flavour) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view cert, opts.required("cert"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view key, opts.required("key"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view client_ca, opts.required("client-ca"));
  const auto flavour = pki::flavour_named(opts.get("client-flavour").value_or(default_flavour));
  if (!flavour) return Error::usage("--client-flavour must be device, node-id, cse-id, ae-id or fqdn");
  tls::Config config;
  config.role = tls::Role::kServer;
  config.profile = tls::find_profile("ts0003-tls12-cert");
  M2MSEC_ASSIGN_OR_RETURN(config.certificate, tls::CertificateCredential::load(std::string(cert), std::string(key)));
  M2MSEC_ASSIGN_OR_RETURN(pki::TrustStore trust, pki::TrustStore::load(std::string(client_ca),
                                                                       std::string(opts.get("client-crl").value_or(""))));
  config.peer_policy = tls::PeerCertificatePolicy{std::move(trust), *flavour, std::nullopt};
  return config;
}

Result<void> start_ops(const cli::Options& opts, Running& running) {
  std::string listen(opts.get("ops-listen").value_or(""));
  if (listen.empty()) {
    M2MSEC_ASSIGN_OR_RETURN(const std::string_view main, opts.required("listen"));
    M2MSEC_ASSIGN_OR_RETURN(const tls::net::Endpoint at, tls::net::Endpoint::parse(main));
    listen = at.host.find(':') == std::string::npos ? concat({at.host, ":0"}) : concat({"[", at.host, "]:0"});
  }
  M2MSEC_ASSIGN_OR_RETURN(const tls::net::Endpoint at, tls::net::Endpoint::parse(listen));
  http::ServerOptions options;
  options.host = at.host;
  options.port = at.port;
  const std::shared_ptr<store::Store> store = running.store;
  const std::shared_ptr<const Metrics> metrics = running.metrics;
  options.handler = [store, metrics](const http::Request& request, const http::Connection&) -> http::Response {
    const http::Header text{"Content-Type", "text/plain; charset=utf-8"};
    if (request.method != "GET") return http::Response{405, {text, {"Allow", "GET"}}, "only GET\n"};
    if (request.target == "/health") {
      if (store) {
        if (auto ping = store->ping(); !ping) return http::Response{503, {text}, "store unavailable\n"};
      }
      return http::Response{200, {text}, "ok\n"};
    }
    if (request.target == "/metrics") {
      return http::Response{200, {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}}, metrics->render(store.get())};
    }
    return http::Response{404, {text}, "not found\n"};
  };
  M2MSEC_ASSIGN_OR_RETURN(auto server, http::Server::start(std::move(options)));
  std::cout << "listening role=ops url=" << server->url() << std::endl;
  running.servers.push_back(std::move(server));
  return {};
}

}  // namespace m2msec::daemon

// A minimal hosting CSE for the MAF-based SAEF system test (TS-0003 V3.18.0 8.2.2.3): Entity B accepts
// TLS-PSK whose psk_identity is a Key Identifier "RelativeKeyID@MAF-FQDN", retrieves Kc from that MAF with its
// own MAF credential (client::KeyRetrievalResolver), and answers every HTTP request with the authenticated
// peer it got: "identity=<Source MAF Client ID> identifier=<Key Identifier>".
//
//   cse_server --listen 127.0.0.1:0 --maf https://localhost:PORT/maf --km-id KMID --km HEX
//   prints "listening url=https://127.0.0.1:PORT" and serves until SIGTERM/SIGINT.
#include <csignal>
#include <iostream>

#include "args.h"
#include "m2msec/client/maf.h"
#include "m2msec/core/encoding.h"
#include "m2msec/http/server.h"
#include "m2msec/tls/net.h"
#include "m2msec/tls/profile.h"

namespace {

using namespace m2msec;

Result<void> run(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const cli::Options opts, cli::Options::parse(args, {"listen", "maf", "sni", "km-id", "km"}));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view url, opts.required("maf"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view km_id, opts.required("km-id"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view km_hex, opts.required("km"));
  M2MSEC_ASSIGN_OR_RETURN(SecretBytes km, hex_decode_secret(km_hex));
  M2MSEC_ASSIGN_OR_RETURN(client::Endpoint maf,
                          client::Endpoint::psk(url, std::string(opts.get("sni").value_or("")), tls::PskIdentityKind::kKmId,
                                                 tls::ClientPsk{std::string(km_id), std::move(km)}));
  M2MSEC_ASSIGN_OR_RETURN(const keys::KmId parsed_km_id, keys::KmId::parse(km_id));

  tls::Config config;
  config.role = tls::Role::kServer;
  config.profile = tls::find_profile("ts0003-tls12-psk");
  // The MAF that issued our KmID is the MAF whose Key Identifiers we accept.
  config.psk_resolver = std::make_shared<client::KeyRetrievalResolver>(std::move(maf), parsed_km_id.maf(),
                                                                       std::make_shared<SystemClock>());
  M2MSEC_ASSIGN_OR_RETURN(const auto context, tls::Context::create(std::move(config)));

  M2MSEC_ASSIGN_OR_RETURN(const std::string_view listen, opts.required("listen"));
  M2MSEC_ASSIGN_OR_RETURN(const tls::net::Endpoint at, tls::net::Endpoint::parse(listen));
  http::ServerOptions options;
  options.host = at.host;
  options.port = at.port;
  options.tls = context;
  options.handler = [](const http::Request&, const http::Connection& connection) {
    const tls::AuthenticatedPeer& peer = connection.session->peer();
    return http::Response{200, {{"Content-Type", "text/plain"}},
                          "identity=" + peer.identity + " identifier=" + peer.identifier + "\n"};
  };
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  M2MSEC_ASSIGN_OR_RETURN(auto server, http::Server::start(std::move(options)));
  std::cout << "listening url=" << server->url() << std::endl;
  int signal_number = 0;
  sigwait(&stop, &signal_number);
  server->stop();
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  if (auto result = run(std::vector<std::string_view>(argv + 1, argv + argc)); !result) {
    std::cerr << "cse_server: " << result.error().detail() << '\n';
    return 2;
  }
  return 0;
}

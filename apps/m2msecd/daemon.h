// What the parts of m2msecd share: the servers it runs and the metrics they feed.
#pragma once

#include <chrono>
#include <functional>
#include <sstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "m2msec/coap/server.h"
#include "m2msec/core/error.h"
#include "m2msec/http/server.h"
#include "m2msec/store/store.h"
#include "m2msec/tls/credentials.h"
#include "m2msec/tls/session.h"

namespace m2msec::daemon {

// Prometheus counters (text exposition format 0.0.4) of the requests each role answered.
class Metrics {
 public:
  void count_request(const std::string& role, Rsc rsc, std::chrono::nanoseconds took);
  // The failed (D)TLS handshakes of a listener are read from its server when rendering.
  void watch(std::string listener, std::function<std::uint64_t()> failed_handshakes);
  std::string render(store::Store* store) const;

 private:
  mutable std::mutex m_mutex;
  std::map<std::pair<std::string, int>, std::uint64_t> m_requests;
  std::map<std::string, std::pair<double, std::uint64_t>> m_durations;  // seconds, count
  std::vector<std::pair<std::string, std::function<std::uint64_t()>>> m_listeners;
};

struct Running {
  std::vector<std::unique_ptr<http::Server>> servers;
  std::vector<std::unique_ptr<coap::Server>> coap_servers;
  std::shared_ptr<store::Store> store;
  std::shared_ptr<Metrics> metrics = std::make_shared<Metrics>();
};

// An HTTPS server on `listen` (a numeric address and port) with a TLS context made from `config`.
Result<std::unique_ptr<http::Server>> serve(std::string_view listen, tls::Config config, http::Handler handler);
// The oneM2M CoAP binding (TS-0008) on `listen`: over DTLS with a context made from `config` (a DTLS profile), or
// over plain UDP when there is no config (only where a --coap-listen option asks for it).
Result<std::unique_ptr<coap::Server>> serve_coap(std::string_view listen, std::optional<tls::Config> config,
                                                 coap::Handler handler);
// The server side of a certificate listener (--cert-listen): ts0003-tls12-cert with --cert/--key, client
// certificates checked against --client-ca (and --client-crl) and bound per --client-flavour (else
// `default_flavour`).
Result<tls::Config> certificate_listener_config(const cli::Options& opts, std::string_view default_flavour);

// Calls on_line(where, words) for every line of the file that holds more than a comment ('#' to the end of
// the line) and white space; where is "<path>:<line number>" for messages.
Result<void> for_each_line(const std::string& path,
                           const std::function<Result<void>(const std::string&, std::istringstream&)>& on_line);

// The first resolver that knows the identity answers (KpmIDs, KmIDs and KeIDs, or provisioned KpsaIDs and the keys
// of IBC-based SAEF exchanges, live in separate places).
class ChainResolver final : public tls::PskResolver {
 public:
  explicit ChainResolver(std::vector<std::shared_ptr<const tls::PskResolver>> chain) : m_chain(std::move(chain)) {}
  std::optional<tls::PskCredential> resolve(std::string_view psk_identity) const override {
    for (const auto& resolver : m_chain) {
      if (auto found = resolver->resolve(psk_identity)) return found;
    }
    return std::nullopt;
  }

 private:
  std::vector<std::shared_ptr<const tls::PskResolver>> m_chain;
};

// --psk-file: "<psk identity> <key hex>" per line; each association is bound to its identity as it is.
Result<std::shared_ptr<tls::InMemoryPskResolver>> load_psk_file(const std::string& path);

// The MEF, MAF and KMS roles on one TLS-PSK listener (--listen), from the store of --data-dir / --database.
struct EnrolmentRoles {
  bool mef = false;
  bool maf = false;
  bool kms = false;
};
Result<void> start_enrolment_roles(const cli::Options& opts, EnrolmentRoles roles, Running& running);
// The secure hosting CSE (cse.cpp): a TLS-PSK listener (--listen, --psk-file), optionally a certificate listener.
Result<void> start_cse_role(const cli::Options& opts, Running& running);
// /health and /metrics over plain HTTP on --ops-listen (default: the --listen host, any free port).
Result<void> start_ops(const cli::Options& opts, Running& running);

}  // namespace m2msec::daemon

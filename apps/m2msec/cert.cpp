// `m2msec cert request|enroll|verify`: certificates for oneM2M identities (TS-0003 V3.18.0 clauses 10.1,
// 8.1.2, 8.3.6.2). A verification prints one line per certificate, `ok identity=<id> cert=<file>` or
// `fail cert=<file> alert=<n|none> reason=<detail>`, and exits non-zero when any fails.
#include <algorithm>
#include <cctype>
#include <iostream>
#include <iterator>
#include <sstream>

#include "args.h"
#include "files.h"
#include "commands.h"
#include "credentials.h"
#include "m2msec/coap/client.h"
#include "m2msec/core/text.h"
#include "m2msec/est/client.h"
#include "m2msec/http/client.h"
#include "m2msec/pki/csr.h"
#include "m2msec/pki/identity.h"
#include "m2msec/pki/ocsp.h"
#include "m2msec/pki/profile.h"
#include "m2msec/pki/validate.h"
#include "m2msec/tls/profile.h"

namespace m2msec::cli {
namespace {

// The flavour an identifier is written in: an Absolute AE-ID starts with "//" (TS-0001 7.2), anything
// else is taken as a CSE-ID's public domain name. --flavour says otherwise.
Result<pki::Flavour> flavour_of(const Options& opts, std::string_view id) {
  if (const auto named = opts.get("flavour")) {
    const auto flavour = pki::flavour_named(*named);
    if (!flavour) return Error::usage("--flavour must be device, node-id, cse-id, ae-id or fqdn");
    return *flavour;
  }
  return id.substr(0, 2) == "//" ? pki::Flavour::kAeId : pki::Flavour::kCseId;
}

// The flavour of a certificate's identity: --flavour, else the first of ae-id, cse-id, node-id, device
// whose subjectAltName form the certificate carries.
Result<pki::Flavour> flavour_of(const Options& opts, const pki::Certificate& cert) {
  if (opts.get("flavour")) return flavour_of(opts, std::string_view{});
  for (const pki::Flavour f : {pki::Flavour::kAeId, pki::Flavour::kCseId, pki::Flavour::kNodeId, pki::Flavour::kDevice}) {
    if (!pki::identifiers(cert, f).empty()) return f;
  }
  return Error(Category::kAuth, "the certificate carries no oneM2M identifier").with_tls_alert(42);
}

std::string pem_of(const std::vector<pki::Certificate>& certs) {
  std::string out;
  for (const pki::Certificate& c : certs) out += c.pem();
  return out;
}

Result<void> request(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"id", "key", "csr", "flavour", "challenge-password"}));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view id, opts.required("id"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view key_path, opts.required("key"));
  M2MSEC_ASSIGN_OR_RETURN(const pki::Flavour flavour, flavour_of(opts, id));
  M2MSEC_ASSIGN_OR_RETURN(const pki::PrivateKey key, pki::PrivateKey::generate_p256());
  M2MSEC_ASSIGN_OR_RETURN(const pki::Csr csr,
                          pki::Csr::create(key, flavour, id, opts.get("challenge-password").value_or("")));
  M2MSEC_TRY(write_file(key_path, key.pem(), /*secret=*/true));
  if (const auto csr_path = opts.get("csr")) return write_file(*csr_path, csr.pem());
  std::cout << csr.pem() << std::flush;
  return {};
}

// The MEF's host in the EST base URL; for coaps:// (EST-coaps, RFC 9148 §3: over DTLS) the profile becomes the
// DTLS 1.2 one of the same credential kind, as for the other client commands' coaps:// URLs.
Result<std::string> est_host(std::string_view base, tls::Config& config) {
  std::string scheme(base.substr(0, std::min(base.find("://"), base.size())));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "coaps") {
    M2MSEC_ASSIGN_OR_RETURN(const http::Url url, http::Url::parse(base));
    return url.host;
  }
  M2MSEC_ASSIGN_OR_RETURN(const coap::Url url, coap::Url::parse(base));
  if (config.profile == nullptr) return Error::usage("no security profile");
  if (config.profile->transport == tls::Transport::kTls) {
    if (config.profile->version != tls::Version::kTls12) {
      return Error::unsupported("DTLS 1.3 is not available: coaps runs over DTLS 1.2");
    }
    //= TS-0003 V3.18.0 §10.2.3
    //# DTLS 1.2 carries the same credentials as TLS (PSK, certificates, raw public keys) with its own suites.
    const tls::SecurityProfile* dtls =
        tls::select_profile(tls::Transport::kDtls, tls::Version::kTls12, config.profile->credential);
    if (dtls == nullptr) {
      return Error::unsupported(concat({"no DTLS profile for the credential of ", config.profile->name}));
    }
    config.profile = dtls;
  }
  return url.host;
}

Result<void> enroll(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts,
                          Options::parse(args, credential_options({"est", "csr", "out", "cacerts-out"}),
                                         credential_flags({"reenroll"})));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view base, opts.required("est"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view csr_path, opts.required("csr"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view out_path, opts.required("out"));
  // PPSK RSPF authenticates with KpmID/Kpm; certificate RSPF checks the MEF's FQDN certificate (8.3.6.2.2).
  M2MSEC_ASSIGN_OR_RETURN(tls::Config config, tls_config_from(opts, tls::Role::kClient, {"kpm", "fqdn"}));
  M2MSEC_ASSIGN_OR_RETURN(const std::string host, est_host(base, config));
  if (config.server_name.empty()) config.server_name = host;
  M2MSEC_ASSIGN_OR_RETURN(const auto context, tls::Context::create(std::move(config)));
  M2MSEC_ASSIGN_OR_RETURN(const est::Client client, est::Client::create(base, context));

  M2MSEC_ASSIGN_OR_RETURN(const std::string csr_text, read_file(csr_path));
  M2MSEC_ASSIGN_OR_RETURN(const pki::Csr csr, pki::Csr::from_pem(csr_text));
  if (const auto cacerts_path = opts.get("cacerts-out")) {
    M2MSEC_ASSIGN_OR_RETURN(const auto ca, client.ca_certificates());
    M2MSEC_TRY(write_file(*cacerts_path, pem_of(ca)));
  }
  M2MSEC_ASSIGN_OR_RETURN(const auto issued, client.enroll(csr, opts.flag("reenroll")));
  M2MSEC_TRY(write_file(out_path, pem_of(issued)));
  M2MSEC_ASSIGN_OR_RETURN(const pki::Flavour flavour, flavour_of(opts, issued.front()));
  std::cout << "issued identity=" << pki::identifiers(issued.front(), flavour).front() << std::endl;
  return {};
}

// RFC 6960 Appendix A: the leaf's status from the OCSP responder its authorityInfoAccess names, over
// plain HTTP (a POST of the DER request).
Result<void> check_status_by_ocsp(const pki::Certificate& leaf, const std::vector<pki::Certificate>& chain,
                                  const pki::TrustStore& trust, Clock::TimePoint at) {
  std::vector<pki::Certificate> candidates(chain);
  candidates.insert(candidates.end(), trust.anchors().begin(), trust.anchors().end());
  const auto issuer = pki::find_issuer(leaf, candidates);
  if (!issuer) return Error(Category::kAuth, "OCSP: the issuer is not at hand").with_tls_alert(48);
  M2MSEC_ASSIGN_OR_RETURN(const std::string responder, pki::ocsp_responder_url(leaf));
  M2MSEC_ASSIGN_OR_RETURN(const http::Url url, http::Url::parse(responder));
  M2MSEC_ASSIGN_OR_RETURN(const pki::OcspRequest request, pki::ocsp_request(leaf, *issuer));
  http::Request post{"POST", url.target, {{"Content-Type", "application/ocsp-request"}},
                     std::string(request.der.begin(), request.der.end())};
  M2MSEC_ASSIGN_OR_RETURN(const http::Response response, http::send(url, std::move(post), nullptr));
  if (response.status != 200) {
    return Error(Category::kAuth, "OCSP responder answered HTTP " + std::to_string(response.status)).with_tls_alert(113);
  }
  M2MSEC_ASSIGN_OR_RETURN(const pki::CertStatus status,
                          pki::check_ocsp_response(as_bytes(response.body), leaf, *issuer, trust, at, request.nonce));
  return pki::require_good(status);
}

// One certificate file (leaf first, then any intermediates): path validation, the status by OCSP when asked,
// the 10.1.1 profile, and the identity it binds to.
Result<std::string> verify_one(const Options& opts, const pki::TrustStore& trust,
                               const std::vector<pki::Certificate>& untrusted, const std::string& path) {
  M2MSEC_ASSIGN_OR_RETURN(std::vector<pki::Certificate> chain, pki::Certificate::load_pem_file(path));
  const pki::Certificate leaf = chain.front();
  chain.erase(chain.begin());
  chain.insert(chain.end(), untrusted.begin(), untrusted.end());
  const Clock::TimePoint now = SystemClock().now();
  M2MSEC_TRY(pki::validate_path(leaf, chain, trust, now));
  if (opts.flag("ocsp")) M2MSEC_TRY(check_status_by_ocsp(leaf, chain, trust, now));
  M2MSEC_ASSIGN_OR_RETURN(const pki::Flavour flavour, flavour_of(opts, leaf));
  M2MSEC_TRY(pki::check_profile(leaf, flavour));
  if (const auto id = opts.get("id"); id && !pki::matches(leaf, flavour, *id)) {
    return Error(Category::kAuth, "the certificate does not carry the " + std::string(pki::flavour_name(flavour)) +
                                      " " + std::string(*id))
        .with_tls_alert(42);
  }
  return pki::bound_identity(leaf, flavour);
}

Result<void> verify(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts,
                          Options::parse(args, {"ca", "crl", "untrusted", "flavour", "id"}, {"ocsp"}, /*positional=*/true));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view ca, opts.required("ca"));
  if (opts.positional().empty()) return Error::usage("name at least one certificate file");
  M2MSEC_ASSIGN_OR_RETURN(const pki::TrustStore trust,
                          pki::TrustStore::load(std::string(ca), std::string(opts.get("crl").value_or(""))));
  std::vector<pki::Certificate> untrusted;
  if (const auto path = opts.get("untrusted")) {
    M2MSEC_ASSIGN_OR_RETURN(untrusted, pki::Certificate::load_pem_file(std::string(*path)));
  }
  std::size_t failed = 0;
  for (const std::string& path : opts.positional()) {
    const auto identity = verify_one(opts, trust, untrusted, path);
    if (identity) {
      std::cout << "ok identity=" << *identity << " cert=" << path << '\n';
      continue;
    }
    ++failed;
    const auto alert = identity.error().tls_alert();
    std::cout << "fail cert=" << path << " alert=" << (alert ? std::to_string(*alert) : "none")
              << " reason=" << identity.error().detail() << '\n';
  }
  std::cout.flush();
  if (failed != 0) return Error(Category::kAuth, std::to_string(failed) + " certificate(s) failed verification");
  return {};
}

// RFC 6920 public key identifiers (TS-0003 10.1.2) both ways: the identifier of the key in a PEM file (a
// certificate or a private key), or whether that key matches a given identifier.
Result<void> ni(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, {"suite", "match"}, {}, /*positional=*/true));
  if (opts.positional().size() != 1) return Error::usage("name one PEM file (a certificate or a private key)");
  const std::string& path = opts.positional().front();
  Bytes spki;
  if (auto certs = pki::Certificate::load_pem_file(path)) {
    spki = certs->front().spki_der();
  } else {
    M2MSEC_ASSIGN_OR_RETURN(const pki::PrivateKey key, pki::PrivateKey::load_pem_file(path));
    spki = key.spki_der();
  }
  if (const auto match = opts.get("match")) {
    M2MSEC_ASSIGN_OR_RETURN(const pki::PublicKeyId expected, pki::PublicKeyId::parse(*match));
    if (!expected.matches(spki)) return Error(Category::kAuth, "the key does not match " + std::string(*match));
    std::cout << "match" << std::endl;
    return {};
  }
  const auto suite = pki::ni_suite_named(opts.get("suite").value_or("sha-256"));
  if (!suite) return Error::usage("--suite must be sha-256, sha-256-128 or sha-256-120");
  std::cout << pki::PublicKeyId::of(spki, *suite).to_string() << std::endl;
  return {};
}

}  // namespace

Result<void> run_cert(const std::vector<std::string_view>& args) {
  return dispatch("cert", args, {{"request", request}, {"enroll", enroll}, {"verify", verify}, {"ni", ni}});
}

}  // namespace m2msec::cli

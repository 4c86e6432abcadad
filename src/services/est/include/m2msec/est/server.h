// The MEF's certificate provisioning over EST (TS-0003 V3.18.0 clause 8.3.6.2, RFC 7030): the
// operations /cacerts, /csrattrs, /simpleenroll and /simplereenroll under /.well-known/est, answered
// from an issuing CA. The HTTP server and the TLS association in front of it authenticate the client;
// this service decides what that client may obtain.
//
// Who may enrol what:
//   PSK (KpmID/Kpm, PPSK RSPF, RFC 7030 3.3.3 certificate-less TLS): the identities the MEF links to that
//     KpmID (Enrolees). /simplereenroll is refused: re-provisioning runs over certificate RSPF (8.3.6.2.3).
//   Client certificate (RFC 7030 3.3.2): exactly the identity of the certificate presented (initial
//     provisioning with a third-party certificate, or re-provisioning with the current one).
//   No client authentication: /cacerts and /csrattrs only (RFC 7030 4.1.1, 4.5).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/http/server.h"
#include "m2msec/pki/ca.h"
#include "m2msec/pki/identity.h"

namespace m2msec::est {

// The identities the MEF links to each pre-provisioned key (8.3.6.2.2 precondition: "the MEF has an
// identifier for the client").
class Enrolees {
 public:
  virtual ~Enrolees() = default;
  virtual std::optional<pki::Authorisation> for_kpm_id(std::string_view kpm_id) const = 0;
};

class InMemoryEnrolees final : public Enrolees {
 public:
  void add(std::string kpm_id, pki::Authorisation who);
  std::optional<pki::Authorisation> for_kpm_id(std::string_view kpm_id) const override;

 private:
  mutable std::mutex m_mutex;
  std::map<std::string, pki::Authorisation, std::less<>> m_entries;
};

struct ServiceOptions {
  std::shared_ptr<const pki::IssuingCa> ca;
  std::shared_ptr<const Enrolees> enrolees;  // may be null: no PSK enrolment
  // The flavour of the client certificates this endpoint accepts (its tls::PeerCertificatePolicy's).
  pki::Flavour client_flavour = pki::Flavour::kCseId;
  // RFC 7030 3.5: a CSR's challengePassword, when present, must be the base64 of the association's channel
  // binding (tls::Session::channel_binding); with this set, a CSR without one is refused too.
  bool require_pop_linking = false;
};

// The DER CsrAttrs (RFC 7030 4.5.2) this MEF asks for (8.3.6.2.2 step 2, 10.1.4): challengePassword, an
// EC P-256 key, ecdsa-with-SHA256, and a subjectAltName in the extension request.
Bytes csr_attributes_der();

class Service {
 public:
  explicit Service(ServiceOptions options);
  // Answers one request; never throws. Errors are 4xx with a one-line text/plain reason.
  http::Response handle(const http::Request& request, const http::Connection& connection) const;

 private:
  http::Response enroll(const http::Request& request, const http::Connection& connection, bool reenroll) const;
  ServiceOptions m_options;
  // The two constant bodies, computed once: the CA chain as base64 certs-only, and the CSR attributes.
  std::string m_cacerts_body;
  std::string m_csrattrs_body;
};

}  // namespace m2msec::est

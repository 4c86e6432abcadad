// The EST client of a MEF client (TS-0003 V3.18.0 clause 8.3.6.2.2 / 8.3.6.2.3, RFC 7030 4.1-4.2), over
// one TLS association per request (PSK with KpmID/Kpm, or the client's certificate).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "m2msec/core/result.h"
#include "m2msec/http/client.h"
#include "m2msec/pki/certificate.h"
#include "m2msec/pki/csr.h"
#include "m2msec/tls/session.h"

namespace m2msec::est {

class Client {
 public:
  // base_url: the estBaseURI, e.g. "https://mef.example.com:8443" (its host is the MEF's FQDN, 8.3.6.2.2);
  // "/.well-known/est/..." is appended.
  static Result<Client> create(std::string_view base_url, std::shared_ptr<const tls::Context> tls);

  // Step 1: the CA certificates (RFC 7030 4.1).
  Result<std::vector<pki::Certificate>> ca_certificates() const;
  // Step 2: the DER CsrAttrs (RFC 7030 4.5).
  Result<Bytes> csr_attributes() const;
  // Step 3: /simpleenroll or /simplereenroll; the issued certificate (and whatever else the server sent).
  Result<std::vector<pki::Certificate>> enroll(const pki::Csr& csr, bool reenroll = false) const;

 private:
  Client(http::Url base, std::shared_ptr<const tls::Context> tls) : m_base(std::move(base)), m_tls(std::move(tls)) {}
  Result<http::Response> call(std::string method, std::string_view operation, std::string content_type,
                              std::string body) const;
  http::Url m_base;
  std::shared_ptr<const tls::Context> m_tls;
};

}  // namespace m2msec::est

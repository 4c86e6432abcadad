// The EST client of a MEF client (TS-0003 V3.18.0 clause 8.3.6.2.2 / 8.3.6.2.3), over one security association
// per request (PSK with KpmID/Kpm, or the client's certificate), on either transport:
//   https://  EST over HTTPS (RFC 7030 4.1-4.5): base64 bodies on a TLS connection;
//   coaps://  EST-coaps (RFC 9148): the short paths /crts, /att, /sen, /sren, binary DER payloads with CoAP
//             Content-Formats 281/285/286 (est/coaps.h), one Confirmable request (block-wise as needed) on a
//             DTLS 1.2 association.
// Only the exchange differs; what is sent (the DER CSR) and what is made of the answer (certificates from a
// certs-only PKCS#7, the DER CsrAttrs) is the same for both.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "m2msec/coap/client.h"
#include "m2msec/core/result.h"
#include "m2msec/http/client.h"
#include "m2msec/pki/certificate.h"
#include "m2msec/pki/csr.h"
#include "m2msec/tls/session.h"

namespace m2msec::est {

class Client {
 public:
  // base_url: the estBaseURI, e.g. "https://mef.example.com:8443" or "coaps://mef.example.com:5684" (its host is
  // the MEF's FQDN, 8.3.6.2.2); "/.well-known/est/..." is appended. `tls` is a client context of the URL's
  // transport: TLS for https, DTLS for coaps (the caller picks the profile); kUsage otherwise.
  static Result<Client> create(std::string_view base_url, std::shared_ptr<const tls::Context> tls);
  // The same with CoAP transmission parameters (coaps only; ignored for https).
  static Result<Client> create(std::string_view base_url, std::shared_ptr<const tls::Context> tls,
                               coap::ClientOptions coap_options);

  bool over_coaps() const { return std::holds_alternative<coap::Url>(m_base); }

  // Step 1: the CA certificates (RFC 7030 4.1; RFC 9148 /crts).
  Result<std::vector<pki::Certificate>> ca_certificates() const;
  // Step 2: the DER CsrAttrs (RFC 7030 4.5; RFC 9148 /att).
  Result<Bytes> csr_attributes() const;
  // Step 3: /simpleenroll or /simplereenroll (RFC 9148 /sen, /sren); the issued certificate (and whatever else
  // the server sent). A refusal is an error naming the HTTP status or CoAP code and the server's diagnostic text:
  // kAuth for 401 / 4.01, kPolicy for 403 / 4.03, kProtocol otherwise.
  Result<std::vector<pki::Certificate>> enroll(const pki::Csr& csr, bool reenroll = false) const;

  enum class Operation { kCaCerts, kCsrAttrs, kEnroll, kReenroll };

 private:
  Client(std::variant<http::Url, coap::Url> base, std::shared_ptr<const tls::Context> tls,
         coap::ClientOptions coap_options)
      : m_base(std::move(base)), m_tls(std::move(tls)), m_coap_options(coap_options) {}
  // One operation: the DER request body (a CSR, or nothing) in, the DER body of the successful answer out.
  Result<Bytes> exchange(Operation operation, ByteView request_der) const;
  Result<Bytes> exchange_https(const http::Url& base, Operation operation, ByteView request_der) const;
  Result<Bytes> exchange_coaps(const coap::Url& base, Operation operation, ByteView request_der) const;

  std::variant<http::Url, coap::Url> m_base;
  std::shared_ptr<const tls::Context> m_tls;
  coap::ClientOptions m_coap_options;
};

}  // namespace m2msec::est

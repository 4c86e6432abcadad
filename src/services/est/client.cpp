#include "m2msec/est/client.h"

#include "m2msec/est/wire.h"
#include "m2msec/pki/certs_only.h"

namespace m2msec::est {

Result<Client> Client::create(std::string_view base_url, std::shared_ptr<const tls::Context> tls) {
  M2MSEC_ASSIGN_OR_RETURN(http::Url url, http::Url::parse(base_url));
  if (url.scheme != "https") return Error::usage("EST runs over HTTPS only (RFC 7030 3.3)");
  if (!tls) return Error::usage("EST needs a TLS context");
  if (!url.target.empty() && url.target.back() == '/') url.target.pop_back();
  return Client(std::move(url), std::move(tls));
}

Result<http::Response> Client::call(std::string method, std::string_view operation, std::string content_type,
                                    std::string body) const {
  http::Url url = m_base;
  url.target += "/.well-known/est/";
  url.target += operation;
  http::Request request{std::move(method), url.target, {}, std::move(body)};
  if (!content_type.empty()) {
    request.headers.push_back({"Content-Type", std::move(content_type)});
    request.headers.push_back({"Content-Transfer-Encoding", "base64"});
  }
  M2MSEC_ASSIGN_OR_RETURN(http::Response response, http::send(url, std::move(request), m_tls));
  if (response.status != 200) {
    std::string reason = response.body;
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == '\r')) reason.pop_back();
    const Category category = response.status == 401 ? Category::kAuth
                              : response.status == 403 ? Category::kPolicy
                                                       : Category::kProtocol;
    return Error(category, "EST " + std::string(operation) + ": HTTP " + std::to_string(response.status) +
                               (reason.empty() ? "" : " (" + reason + ")"));
  }
  return response;
}

Result<std::vector<pki::Certificate>> Client::ca_certificates() const {
  M2MSEC_ASSIGN_OR_RETURN(http::Response response, call("GET", "cacerts", "", ""));
  M2MSEC_ASSIGN_OR_RETURN(Bytes der, mime_base64_decode(response.body));
  return pki::decode_certs_only(der);
}

Result<Bytes> Client::csr_attributes() const {
  M2MSEC_ASSIGN_OR_RETURN(http::Response response, call("GET", "csrattrs", "", ""));
  return mime_base64_decode(response.body);
}

Result<std::vector<pki::Certificate>> Client::enroll(const pki::Csr& csr, bool reenroll) const {
  M2MSEC_ASSIGN_OR_RETURN(http::Response response, call("POST", reenroll ? "simplereenroll" : "simpleenroll",
                                                        "application/pkcs10", mime_base64(csr.der())));
  M2MSEC_ASSIGN_OR_RETURN(Bytes der, mime_base64_decode(response.body));
  return pki::decode_certs_only(der);
}

}  // namespace m2msec::est

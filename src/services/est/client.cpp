#include "m2msec/est/client.h"

#include <arpa/inet.h>

#include <cctype>
#include <optional>

#include "m2msec/coap/options.h"
#include "m2msec/core/text.h"
#include "m2msec/est/coaps.h"
#include "m2msec/est/wire.h"
#include "m2msec/pki/certs_only.h"
#include "m2msec/tls/profile.h"

namespace m2msec::est {
namespace {

constexpr std::uint8_t kChanged = coap::code(2, 4);
constexpr std::uint8_t kContent = coap::code(2, 5);

// One EST operation on both transports.
struct OperationInfo {
  std::string_view operation;   // RFC 7030 3.2.2 path segment (HTTPS)
  std::string_view short_name;  // RFC 9148 §4.1 Table 1 short path (coaps)
  bool post;
  std::uint16_t response_format;  // RFC 9148 §4.3: the Content-Format the client asks for with Accept
};

const OperationInfo& info(Client::Operation operation) {
  static constexpr OperationInfo kInfo[] = {
      {"cacerts", "crts", false, kFormatCertsOnly},
      {"csrattrs", "att", false, kFormatCsrAttrs},
      {"simpleenroll", "sen", true, kFormatCertsOnly},
      {"simplereenroll", "sren", true, kFormatCertsOnly},
  };
  return kInfo[static_cast<std::size_t>(operation)];
}

std::string lower_scheme(std::string_view url) {
  const auto end = url.find("://");
  std::string scheme(url.substr(0, end == std::string_view::npos ? 0 : end));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return scheme;
}

std::string trimmed(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  return std::string(text);
}


bool is_ip_literal(const std::string& host) {
  in_addr v4{};
  in6_addr v6{};
  return ::inet_pton(AF_INET, host.c_str(), &v4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

Error refusal(Category category, std::string_view operation, std::string_view status, std::string_view reason) {
  return Error(category, concat({"EST ", operation, ": ", status, reason.empty() ? "" : " (", reason, reason.empty() ? "" : ")"}));
}

}  // namespace

Result<Client> Client::create(std::string_view base_url, std::shared_ptr<const tls::Context> tls) {
  return create(base_url, std::move(tls), coap::ClientOptions{});
}

Result<Client> Client::create(std::string_view base_url, std::shared_ptr<const tls::Context> tls,
                              coap::ClientOptions coap_options) {
  if (!tls) return Error::usage("EST needs a (D)TLS context");
  const tls::Config& config = tls->config();
  if (config.role != tls::Role::kClient || config.profile == nullptr) return Error::usage("EST needs a client (D)TLS context");
  const std::string scheme = lower_scheme(base_url);
  if (scheme == "coaps") {
    M2MSEC_ASSIGN_OR_RETURN(coap::Url url, coap::Url::parse(base_url));
    //= RFC 9148 §3
    //# EST-coaps runs over DTLS (1.2 here: no Debian 12 library has DTLS 1.3); the client authenticates in the
    //# DTLS handshake.
    if (config.profile->transport != tls::Transport::kDtls) {
      return Error::usage(concat({"EST over coaps needs a DTLS context, not ", config.profile->name}));
    }
    if (!url.target.empty() && url.target.back() == '/') url.target.pop_back();
    if (url.target.find('?') != std::string::npos) return Error::usage("the EST base URL takes no query");
    return Client(std::move(url), std::move(tls), coap_options);
  }
  if (scheme == "coap") return Error::usage("EST-coaps runs over DTLS only (RFC 9148 §3): use coaps://");
  M2MSEC_ASSIGN_OR_RETURN(http::Url url, http::Url::parse(base_url));
  if (url.scheme != "https") return Error::usage("EST runs over HTTPS (RFC 7030 3.3) or coaps (RFC 9148) only");
  if (config.profile->transport != tls::Transport::kTls) {
    return Error::usage(concat({"EST over HTTPS needs a TLS context, not ", config.profile->name}));
  }
  if (!url.target.empty() && url.target.back() == '/') url.target.pop_back();
  return Client(std::move(url), std::move(tls), coap_options);
}

Result<Bytes> Client::exchange(Operation operation, ByteView request_der) const {
  if (const auto* https = std::get_if<http::Url>(&m_base)) return exchange_https(*https, operation, request_der);
  return exchange_coaps(std::get<coap::Url>(m_base), operation, request_der);
}

Result<Bytes> Client::exchange_https(const http::Url& base, Operation operation, ByteView request_der) const {
  const OperationInfo& op = info(operation);
  http::Url url = base;
  url.target += concat({"/.well-known/est/", op.operation});
  http::Request request{op.post ? "POST" : "GET", url.target, {}, {}};
  if (op.post) {
    //= RFC 7030 4.2.1
    //# The PKCS#10 CSR goes base64-encoded as application/pkcs10.
    request.headers.push_back({"Content-Type", "application/pkcs10"});
    request.headers.push_back({"Content-Transfer-Encoding", "base64"});
    request.body = mime_base64(request_der);
  }
  M2MSEC_ASSIGN_OR_RETURN(http::Response response, http::send(url, std::move(request), m_tls));
  if (response.status != 200) {
    const Category category = response.status == 401   ? Category::kAuth
                              : response.status == 403 ? Category::kPolicy
                                                       : Category::kProtocol;
    return refusal(category, op.operation, concat({"HTTP ", std::to_string(response.status)}), trimmed(response.body));
  }
  //= RFC 7030 4.1.3, 4.2.3, 4.5.2
  //# Successful bodies are base64 (Content-Transfer-Encoding) of the DER.
  return mime_base64_decode(response.body);
}

Result<Bytes> Client::exchange_coaps(const coap::Url& base, Operation operation, ByteView request_der) const {
  const OperationInfo& op = info(operation);
  coap::Message request;
  request.code = op.post ? coap::kPost : coap::kGet;
  //= RFC 7252 §6.4
  //# Step 5: a host that is a name (not an IP literal) goes into Uri-Host; the port is the destination's.
  if (!is_ip_literal(base.host)) request.options.push_back(coap::Option{coap::kOptionUriHost, Bytes(base.host.begin(), base.host.end())});
  //= RFC 9148 §4.1
  //# The EST-coaps resources are /.well-known/est/ followed by the short name of the function (Table 1).
  M2MSEC_ASSIGN_OR_RETURN(std::vector<coap::Option> path,
                          coap::uri_options(concat({base.target, "/.well-known/est/", op.short_name})));
  for (coap::Option& option : path) request.options.push_back(std::move(option));
  //= RFC 9148 §4.3
  //# The client names the Content-Format it wants with Accept: 281 (certs-only PKCS#7) for /crts, /sen and
  //# /sren, 285 (CsrAttrs) for /att; a /sen or /sren request carries the DER PKCS#10 as Content-Format 286.
  request.options.push_back(coap::Option{coap::kOptionAccept, coap::encode_uint(op.response_format)});
  if (op.post) {
    request.options.push_back(coap::Option{coap::kOptionContentFormat, coap::encode_uint(kFormatPkcs10)});
    request.payload.assign(request_der.begin(), request_der.end());
  }
  M2MSEC_ASSIGN_OR_RETURN(coap::ClientConnection connection, coap::ClientConnection::open(base, m_tls, m_coap_options));
  auto answered = connection.request(std::move(request));
  connection.close();
  M2MSEC_ASSIGN_OR_RETURN(coap::Message response, std::move(answered));

  //= RFC 9148 §4.5
  //# Success is 2.05 (Content) for the GET functions /crts and /att, 2.04 (Changed) for the POST functions
  //# /sen and /sren.
  const std::uint8_t success = op.post ? kChanged : kContent;
  if (response.code != success) {
    const std::string reason = trimmed(as_text(response.payload));
    std::string status = concat({"CoAP ", coap::code_text(response.code)});
    if (response.code == coap::code(5, 3)) {
      //= RFC 9148 §4.7
      //# A 5.03 with Max-Age: the server is not ready (e.g. a delayed enrolment); the client may send the same
      //# request again after that many seconds.
      if (const coap::Option* max_age = coap::find_option(response, coap::kOptionMaxAge)) {
        if (const auto seconds = coap::decode_uint(max_age->value)) {
          status = concat({status, ", retry after ", std::to_string(*seconds), " s"});
        }
      }
    }
    //= RFC 9148 §4.5
    //# The EST HTTP errors 401 and 403 come as 4.01 and 4.03 (RFC 8075 mapping for the others).
    const Category category = response.code == coap::code(4, 1)   ? Category::kAuth
                              : response.code == coap::code(4, 3) ? Category::kPolicy
                                                                  : Category::kProtocol;
    return refusal(category, op.short_name, status, reason);
  }
  //= RFC 9148 §4.3
  //# The payload is the binary DER of the media type (no base64); its Content-Format is the one asked for.
  if (const coap::Option* format = coap::find_option(response, coap::kOptionContentFormat)) {
    const auto value = coap::decode_uint(format->value);
    if (!value || *value != op.response_format) {
      return Error(Category::kProtocol,
                   concat({"EST ", op.short_name, ": the answer is Content-Format ",
                           value ? std::to_string(*value) : std::string("(malformed)"), ", not the ",
                           std::to_string(op.response_format), " asked for"}));
    }
  }
  return std::move(response.payload);
}

Result<std::vector<pki::Certificate>> Client::ca_certificates() const {
  M2MSEC_ASSIGN_OR_RETURN(const Bytes der, exchange(Operation::kCaCerts, {}));
  return pki::decode_certs_only(der);
}

Result<Bytes> Client::csr_attributes() const { return exchange(Operation::kCsrAttrs, {}); }

Result<std::vector<pki::Certificate>> Client::enroll(const pki::Csr& csr, bool reenroll) const {
  M2MSEC_ASSIGN_OR_RETURN(const Bytes der, exchange(reenroll ? Operation::kReenroll : Operation::kEnroll, csr.der()));
  return pki::decode_certs_only(der);
}

}  // namespace m2msec::est

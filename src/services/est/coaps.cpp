#include "m2msec/est/coaps.h"

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/coap/options.h"
#include "m2msec/core/text.h"
#include "m2msec/est/wire.h"
#include "m2msec/pki/certs_only.h"

namespace m2msec::est {
namespace {

// One EST-coaps function: its short path (RFC 9148 §4.1 Table 1), the RFC 7030 operation behind it, and what its
// request and response carry.
struct Function {
  std::string_view short_name;
  std::string_view operation;     // under /.well-known/est/ at the Service
  bool post;
  std::uint16_t response_format;  // 281 or 285; 281 also allows Accept: 287
  std::string_view rt;            // RFC 9148 §8.2 resource type
};

constexpr Function kFunctions[] = {
    {"crts", "cacerts", false, kFormatCertsOnly, "ace.est.crts"},
    {"sen", "simpleenroll", true, kFormatCertsOnly, "ace.est.sen"},
    {"sren", "simplereenroll", true, kFormatCertsOnly, "ace.est.sren"},
    {"att", "csrattrs", false, kFormatCsrAttrs, "ace.est.att"},
};

coap::Message response(std::uint8_t code, std::string_view diagnostic = {}) {
  coap::Message out;
  out.code = code;
  out.payload.assign(diagnostic.begin(), diagnostic.end());
  return out;
}

coap::Message content(std::uint8_t code, std::uint16_t format, Bytes payload) {
  coap::Message out = response(code);
  out.options.push_back(coap::Option{coap::kOptionContentFormat, coap::encode_uint(format)});
  out.payload = std::move(payload);
  return out;
}

std::string option_text(const coap::Option& option) { return std::string(as_text(option.value)); }

std::vector<std::string> all_of(const coap::Message& message, std::uint16_t number) {
  std::vector<std::string> out;
  for (const coap::Option& option : message.options) {
    if (option.number == number) out.push_back(option_text(option));
  }
  return out;
}

// A uint option (Content-Format, Accept): nullopt when absent, 65536 when malformed (matches no format).
std::optional<std::uint32_t> format_option(const coap::Message& message, std::uint16_t number) {
  const coap::Option* option = coap::find_option(message, number);
  if (option == nullptr) return std::nullopt;
  const auto value = coap::decode_uint(option->value);
  return value.value_or(65536);
}

//= RFC 7252 §5.4.1
//# An unrecognized critical option (odd number) in a request is answered 4.02 (Bad Option); elective ones are
//# ignored.
std::optional<coap::Message> refuse_options(const coap::Message& request) {
  for (const coap::Option& option : request.options) {
    switch (option.number) {
      case coap::kOptionUriHost:  // one virtual host (RFC 9148 §4.4: Uri-Host and Uri-Port may be sent; they route nothing here)
      case coap::kOptionUriPort:
      case coap::kOptionUriPath:
      case coap::kOptionUriQuery:
      case coap::kOptionAccept:
      case coap::kOptionBlock1:
      case coap::kOptionBlock2:
        continue;
      case coap::kOptionProxyUri:
      case coap::kOptionProxyScheme:
        //= RFC 7252 §5.10.2
        //# An endpoint that is no proxy answers a Proxy-Uri / Proxy-Scheme request 5.05.
        return response(coap::code(5, 5), "this endpoint is no proxy");
      default:
        if ((option.number & 1U) != 0) {
          return response(coap::code(4, 2), concat({"unrecognized critical option ", std::to_string(option.number)}));
        }
    }
  }
  return std::nullopt;
}

bool authenticated(const coap::Connection& connection) {
  if (connection.session == nullptr) return false;
  const tls::AuthenticatedPeer& peer = connection.session->peer();
  // A certificate server with optional client certificates reports kCertificate with no identifier when none came.
  return !peer.identifier.empty();
}

//= RFC 9148 §4.5
//# The EST HTTP status codes 400, 401, 403, 404 and 503 become 4.00, 4.01, 4.03, 4.04 and 5.03; the others
//# follow the HTTP-to-CoAP mapping (RFC 8075 §7).
std::uint8_t error_code(unsigned status) {
  switch (status) {
    case 400: return coap::code(4, 0);
    case 401: return coap::code(4, 1);
    case 403: return coap::code(4, 3);
    case 404: return coap::code(4, 4);
    case 405: return coap::code(4, 5);
    case 406: return coap::code(4, 6);
    case 413: return coap::code(4, 13);
    case 415: return coap::code(4, 15);
    case 503: return coap::code(5, 3);
    default: return coap::code(5, 0);
  }
}

coap::Message failure(const http::Response& answer) {
  std::string_view reason = answer.body;
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == '\r')) reason.remove_suffix(1);
  coap::Message out = response(error_code(answer.status), reason);
  if (answer.status == 503) {
    //= RFC 9148 §4.7
    //# A delayed enrolment is 5.03 with Max-Age: the time after which the client sends the same request again.
    if (const auto retry = answer.header("Retry-After")) {
      std::uint32_t seconds = 0;
      const auto [end, ec] = std::from_chars(retry->data(), retry->data() + retry->size(), seconds);
      if (ec == std::errc() && end == retry->data() + retry->size()) {
        out.options.push_back(coap::Option{coap::kOptionMaxAge, coap::encode_uint(seconds)});
      }
    }
  }
  return out;
}

// RFC 6690 §4.1 filtering: "name=value" matches a link whose attribute holds value (one of its space-separated
// values), or a value starting with it when it ends in '*'.
bool matches(std::string_view attribute, std::string_view wanted) {
  const bool prefix = wanted.ends_with('*');
  if (prefix) wanted.remove_suffix(1);
  while (!attribute.empty()) {
    const auto space = attribute.find(' ');
    const std::string_view one = attribute.substr(0, space);
    if (prefix ? one.starts_with(wanted) : one == wanted) return true;
    if (space == std::string_view::npos) break;
    attribute.remove_prefix(space + 1);
  }
  return false;
}

constexpr std::string_view kAdvertisedCerts = "281 287";

//= RFC 9148 §4.1
//# Discovery: GET /.well-known/core with rt=ace.est* lists the EST-coaps resources with their resource types
//# and the Content-Formats a client may ask for with Accept; /skg and /skc only when offered.
coap::Message discovery(const coap::Message& request) {
  if (request.code != coap::kGet) return response(coap::code(4, 5), "/.well-known/core takes GET");
  std::string links;
  for (const Function& f : kFunctions) {
    const std::string href = concat({"/.well-known/est/", f.short_name});
    const std::string ct = f.response_format == kFormatCertsOnly ? std::string(kAdvertisedCerts)
                                                                  : std::to_string(f.response_format);
    bool keep = true;
    for (const std::string& query : all_of(request, coap::kOptionUriQuery)) {
      const auto equals = query.find('=');
      if (equals == std::string::npos) continue;
      const std::string_view name = std::string_view(query).substr(0, equals);
      const std::string_view value = std::string_view(query).substr(equals + 1);
      if (name == "rt") keep = keep && matches(f.rt, value);
      else if (name == "ct") keep = keep && matches(ct, value);
      else if (name == "href") keep = keep && matches(href, value);
      else keep = false;  // an attribute these links do not have
    }
    if (!keep) continue;
    const bool quoted = ct.find(' ') != std::string::npos;
    if (!links.empty()) links += ',';
    links += concat({"<", href, ">;rt=\"", f.rt, "\";ct=", quoted ? "\"" : "", ct, quoted ? "\"" : ""});
  }
  return content(coap::code(2, 5), kFormatLinkFormat, Bytes(links.begin(), links.end()));
}

}  // namespace

coap::Message handle_coaps(const Service& service, const coap::Message& request, const coap::Connection& connection) {
  try {
    if (auto refused = refuse_options(request)) return std::move(*refused);
    const std::vector<std::string> path = all_of(request, coap::kOptionUriPath);
    if (path.size() == 2 && path[0] == ".well-known" && path[1] == "core") return discovery(request);
    if (path.size() < 3 || path[0] != ".well-known" || path[1] != "est") return response(coap::code(4, 4), "not an EST resource");
    //= RFC 9148 §4.1
    //# /.well-known/est/<ArbitraryLabel>/<short-est>: CA labels are not used by this server.
    if (path.size() != 3) return response(coap::code(4, 4), "EST CA labels are not used");
    const Function* function = nullptr;
    for (const Function& f : kFunctions) {
      if (path[2] == f.short_name) function = &f;
    }
    //= RFC 9148 §4.2
    //# /skg and /skc (server-side key generation) are OPTIONAL; this server generates no keys (4.04).
    if (function == nullptr) return response(coap::code(4, 4), "unknown EST-coaps function");

    //= RFC 9148 §4
    //# The client is authenticated for every EST function, including those RFC 7030 serves anonymously.
    if (!authenticated(connection)) return response(coap::code(4, 1), "EST-coaps needs an authenticated DTLS client");

    const bool method_fits = request.code == (function->post ? coap::kPost : coap::kGet);
    const auto accept = format_option(request, coap::kOptionAccept);
    bool single = false;
    if (method_fits) {
      //= RFC 9148 §4.3
      //# Without Accept the server answers 281; 287 carries one certificate instead of a PKCS#7 container in a
      //# /crts, /sen or /sren response. RFC 7252 §5.10.4: a preferred format the server cannot give is 4.06.
      if (accept && *accept != function->response_format) {
        if (function->response_format != kFormatCertsOnly || *accept != kFormatPkixCert) {
          return response(coap::code(4, 6), concat({"this resource answers Content-Format ", std::to_string(function->response_format),
                                                    function->response_format == kFormatCertsOnly ? " or 287" : ""}));
        }
        single = true;
      }
      if (function->post) {
        //= RFC 9148 §4.3
        //# /sen and /sren requests carry Content-Format 286 (application/pkcs10); RFC 7252 §5.9.2.9: another
        //# format is 4.15.
        const auto format = format_option(request, coap::kOptionContentFormat);
        if (!format || *format != kFormatPkcs10) return response(coap::code(4, 15), "the payload must be Content-Format 286 (application/pkcs10)");
      }
    }

    // The RFC 7030 request: the same target and method (a method that does not fit is the Service's 405), the
    // DER CSR as the base64 body EST over HTTPS carries (RFC 7030 4.2.1).
    http::Request http_request;
    http_request.method = request.code == coap::kGet ? "GET" : request.code == coap::kPost ? "POST" : "COAP-" + std::to_string(request.code);
    http_request.target = concat({"/.well-known/est/", function->operation});
    if (request.code == coap::kPost) {
      http_request.headers = {{"Content-Type", "application/pkcs10"}, {"Content-Transfer-Encoding", "base64"}};
      http_request.body = mime_base64(request.payload);
    }
    const http::Response answer = service.handle(http_request, http::Connection{connection.session, connection.remote_address});
    if (answer.status != 200) return failure(answer);

    //= RFC 9148 §4.3
    //# Payloads are the DER of the media type, in binary, not base64.
    auto der = mime_base64_decode(answer.body);
    if (!der) return response(coap::code(5, 0), "internal error");
    //= RFC 9148 §4.5
    //# Success is 2.05 for the GET functions (/crts, /att) and 2.04 for the POST ones (/sen, /sren).
    const std::uint8_t success = function->post ? coap::code(2, 4) : coap::code(2, 5);
    if (!single) return content(success, function->response_format, std::move(*der));
    auto certs = pki::decode_certs_only(*der);
    if (!certs) return response(coap::code(5, 0), "internal error");
    if (certs->size() != 1) {
      return response(coap::code(4, 6), concat({"the answer holds ", std::to_string(certs->size()),
                                                " certificates: ask for Content-Format 281"}));
    }
    return content(success, kFormatPkixCert, certs->front().der());
  } catch (...) {
    return response(coap::code(5, 0), "internal error");
  }
}

coap::Handler coaps_handler(std::shared_ptr<const Service> service) {
  return [service = std::move(service)](const coap::Message& request, const coap::Connection& connection) {
    return handle_coaps(*service, request, connection);
  };
}

}  // namespace m2msec::est

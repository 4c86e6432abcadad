#include "m2msec/http/onem2m.h"

#include <charconv>
#include <limits>
#include <vector>

#include "wire.h"

namespace m2msec::http {
namespace {

constexpr std::string_view kOrigin = "X-M2M-Origin";
constexpr std::string_view kRequestId = "X-M2M-RI";
constexpr std::string_view kReleaseVersion = "X-M2M-RVI";
constexpr std::string_view kStatusCode = "X-M2M-RSC";
constexpr std::string_view kContentType = "Content-Type";
constexpr std::string_view kJson = "application/json";

bool iequals(std::string_view a, std::string_view b) { return boost::beast::iequals(wire::view(a), wire::view(b)); }

std::string_view trim(std::string_view text) {
  constexpr std::string_view kOws = " \t";
  const auto first = text.find_first_not_of(kOws);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kOws) - first + 1);
}

// A decimal number without sign or leading zero, within [1, max].
std::optional<std::uint64_t> positive_decimal(std::string_view text, std::uint64_t max) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || text.front() == '0' || ec != std::errc{} || end != text.data() + text.size() || value > max) {
    return std::nullopt;
  }
  return value;
}

//= TS-0009 V3.9.1 §6.4.3
//# The ty of a CREATE rides on the Content-Type as a ";ty=N" parameter.
// The media types we read are TS-0004 6.7's JSON ones; the only other parameter taken is charset=utf-8
// (RFC 8259 8.1: JSON text is UTF-8 anyway).
Result<std::optional<std::uint32_t>> parse_content_type(std::string_view value) {
  const auto refuse = [&](std::string_view why) {
    return Error::usage("Content-Type '" + std::string(value) + "': " + std::string(why));
  };
  std::vector<std::string_view> parts;
  for (std::size_t from = 0;;) {
    const auto semicolon = value.find(';', from);
    parts.push_back(value.substr(from, semicolon - from));
    if (semicolon == std::string_view::npos) break;
    from = semicolon + 1;
  }
  const std::string_view type = trim(parts.front());
  if (!iequals(type, kJson) && !iequals(type, "application/vnd.onem2m-res+json")) {
    return refuse("not application/json or application/vnd.onem2m-res+json");
  }
  std::optional<std::uint32_t> ty;
  bool charset = false;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const auto equals = parts[i].find('=');
    if (equals == std::string_view::npos) return refuse("a parameter without a value");
    const std::string_view name = trim(parts[i].substr(0, equals));
    const std::string_view text = trim(parts[i].substr(equals + 1));
    if (iequals(name, "ty") && !ty) {
      const auto number = positive_decimal(text, std::numeric_limits<std::uint32_t>::max());
      if (!number) return refuse("ty must be a positive decimal number");
      ty = static_cast<std::uint32_t>(*number);
    } else if (iequals(name, "charset") && !charset && (iequals(text, "utf-8") || iequals(text, "\"utf-8\""))) {
      charset = true;
    } else {
      return refuse("unexpected parameter '" + std::string(name) + "'");
    }
  }
  return ty;
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

int hex_value(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

// RFC 3986 3.3: what a path segment holds unencoded (pchar without '%').
bool is_path_char(char c) {
  constexpr std::string_view kAllowed = "-._~!$&'()*+,;=:@";
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         kAllowed.find(c) != std::string_view::npos;
}

//= TS-0009 V3.9.1 §6.2.2.1
//# A CSE-relative To is the path without its leading "/"; the SP-relative ("/~") and absolute ("/_")
//# forms are not ours to take.
Result<std::string> target_to_to(std::string_view target) {
  const auto refuse = [&](std::string_view why) {
    return Error::usage("request-target '" + std::string(target) + "': " + std::string(why));
  };
  if (target.find('?') != std::string_view::npos) return refuse("query parameters are not supported");
  if (!target.starts_with('/')) return refuse("not in origin form");
  std::string to;
  for (std::size_t i = 1; i < target.size(); ++i) {
    const char c = target[i];
    if (c == '%') {
      if (i + 2 >= target.size() || !is_hex(target[i + 1]) || !is_hex(target[i + 2])) {
        return refuse("malformed percent-encoding");
      }
      const char octet = static_cast<char>(hex_value(target[i + 1]) * 16 + hex_value(target[i + 2]));
      // An encoded NUL ends strings elsewhere; an encoded '/' would make one name of two segments.
      if (octet == '\0' || octet == '/') return refuse("%00 and %2F are not accepted");
      to += octet;
      i += 2;
    } else if (c == '/' || is_path_char(c)) {
      to += c;
    } else {
      return refuse("a character that must be percent-encoded");
    }
  }
  if (to.empty()) return refuse("no target resource");
  if (to.starts_with('/') || to == "~" || to == "_" || to.starts_with("~/") || to.starts_with("_/")) {
    return refuse("only CSE-relative targets are supported");
  }
  return to;
}

std::string to_target(std::string_view to) {
  constexpr char kHex[] = "0123456789ABCDEF";
  std::string target = "/";
  for (const char c : to) {
    if (c == '/' || is_path_char(c)) {
      target += c;
    } else {
      const auto octet = static_cast<unsigned char>(c);
      target += '%';
      target += kHex[octet >> 4];
      target += kHex[octet & 0x0f];
    }
  }
  return target;
}

Result<std::string> required_header(const Request& request, std::string_view name) {
  const std::optional<std::string_view> value = request.header(name);
  if (!value || value->empty()) return Error::usage("the " + std::string(name) + " header is missing");
  return std::string(*value);
}

Error protocol(std::string why) { return Error(Category::kProtocol, "oneM2M HTTP response: " + why); }

}  // namespace

//= TS-0009 V3.9.1 §6.2.1 (Table 6.2.1-1), §6.4.3, §6.4.7, §6.4.8, §6.4.22, §6.5
//# The method gives the operation (POST with ty: CREATE, without: NOTIFY); the X-M2M headers give From,
//# the request identifier and the release version; the body is the content.
Result<onem2m::Request> to_request_primitive(const Request& request) {
  onem2m::Request primitive;
  const std::string& method = request.method;
  if (method == "POST") {
    primitive.op = onem2m::Operation::kNotify;
  } else if (method == "GET") {
    primitive.op = onem2m::Operation::kRetrieve;
  } else if (method == "PUT") {
    primitive.op = onem2m::Operation::kUpdate;
  } else if (method == "DELETE") {
    primitive.op = onem2m::Operation::kDelete;
  } else {
    return Error::usage("the method " + method + " maps to no oneM2M operation");
  }
  M2MSEC_ASSIGN_OR_RETURN(primitive.to, target_to_to(request.target));
  M2MSEC_ASSIGN_OR_RETURN(primitive.fr, required_header(request, kOrigin));
  M2MSEC_ASSIGN_OR_RETURN(primitive.rqi, required_header(request, kRequestId));
  if (const auto rvi = request.header(kReleaseVersion)) {
    if (rvi->empty()) return Error::usage("the X-M2M-RVI header is empty");
    primitive.rvi = std::string(*rvi);
  }

  const bool takes_body = method == "POST" || method == "PUT";
  if (takes_body && request.body.empty()) return Error::usage(method + " needs a body (the content)");
  if (!takes_body && !request.body.empty()) return Error::usage(method + " takes no body");
  std::optional<std::uint32_t> ty;
  if (const auto content_type = request.header(kContentType)) {
    M2MSEC_ASSIGN_OR_RETURN(ty, parse_content_type(*content_type));
  } else if (takes_body) {
    return Error::usage("a body needs a Content-Type");
  }
  if (ty) {
    if (method != "POST") return Error::usage("ty goes with POST (CREATE) only");
    primitive.op = onem2m::Operation::kCreate;
    primitive.ty = ty;
  }
  if (takes_body) {
    M2MSEC_ASSIGN_OR_RETURN(json::Value content, json::parse(request.body));
    if (content.object() == nullptr) return Error::usage("the body must be a JSON object");
    primitive.pc = std::move(content);
  }
  return primitive;
}

//= TS-0009 V3.9.1 §6.3.2, §6.4.3, §6.4.8, §6.4.17
//# The status follows Table 6.3.2-1, X-M2M-RSC carries the oneM2M code, X-M2M-RI the request identifier.
Response from_response_primitive(const onem2m::Response& response) {
  Response out;
  out.status = onem2m::http_status(response.rsc);
  out.headers.push_back({std::string(kStatusCode), std::to_string(static_cast<unsigned>(response.rsc))});
  if (!response.rqi.empty()) out.headers.push_back({std::string(kRequestId), response.rqi});
  if (response.pc) {
    out.headers.push_back({std::string(kContentType), std::string(kJson)});
    out.body = json::serialize(*response.pc);
  }
  return out;
}

Handler primitive_handler(PrimitiveHandler handler) {
  return [handler = std::move(handler)](const Request& request, const Connection& connection) {
    onem2m::Response response;
    Result<onem2m::Request> primitive = to_request_primitive(request);
    if (!primitive) {
      onem2m::Request refused;
      refused.rqi = std::string(request.header(kRequestId).value_or(""));
      response = onem2m::error_response(refused, Error::usage(primitive.error().detail()));
    } else {
      try {
        response = handler(*primitive, connection);
      } catch (...) {
        // What the exception says stays here: it may name internals.
        response = onem2m::error_response(*primitive, Error::internal("the request could not be handled"));
      }
      // A response answers its request (TS-0004 7.2.1.2: the same Request Identifier).
      response.rqi = primitive->rqi;
    }
    Response out = from_response_primitive(response);
    //= TS-0009 V3.9.1 §6.4.22
    //# The release version indicator is mapped back, when the request carried one.
    if (const auto rvi = request.header(kReleaseVersion); rvi && !rvi->empty()) {
      out.headers.push_back({std::string(kReleaseVersion), std::string(*rvi)});
    }
    return out;
  };
}

Request to_http_request(const onem2m::Request& request) {
  Request out;
  switch (request.op) {
    case onem2m::Operation::kCreate:
    case onem2m::Operation::kNotify: out.method = "POST"; break;
    case onem2m::Operation::kRetrieve: out.method = "GET"; break;
    case onem2m::Operation::kUpdate: out.method = "PUT"; break;
    case onem2m::Operation::kDelete: out.method = "DELETE"; break;
  }
  out.target = to_target(request.to);
  if (!request.fr.empty()) out.headers.push_back({std::string(kOrigin), request.fr});
  out.headers.push_back({std::string(kRequestId), request.rqi});
  if (!request.rvi.empty()) out.headers.push_back({std::string(kReleaseVersion), request.rvi});
  out.headers.push_back({"Accept", std::string(kJson)});
  if (request.pc || request.ty) {
    std::string type(kJson);
    if (request.ty) type += ";ty=" + std::to_string(*request.ty);
    out.headers.push_back({std::string(kContentType), std::move(type)});
  }
  if (request.pc) out.body = json::serialize(*request.pc);
  return out;
}

Result<onem2m::Response> from_http_response(const Response& response, std::string_view expected_rqi) {
  const std::optional<std::string_view> code = response.header(kStatusCode);
  if (!code) return protocol("no X-M2M-RSC header (HTTP status " + std::to_string(response.status) + ")");
  const auto number = positive_decimal(*code, std::numeric_limits<std::uint16_t>::max());
  const std::optional<Rsc> rsc = number ? onem2m::rsc_from_int(static_cast<std::int64_t>(*number)) : std::nullopt;
  if (!rsc) return protocol("unknown X-M2M-RSC '" + std::string(*code) + "'");
  if (response.header(kRequestId) != expected_rqi) return protocol("the X-M2M-RI does not answer this request");
  onem2m::Response out{*rsc, std::string(expected_rqi), std::nullopt};
  if (!response.body.empty()) {
    Result<json::Value> content = json::parse(response.body);
    if (!content || content->object() == nullptr) return protocol("the body is not a JSON object");
    out.pc = std::move(*content);
  }
  return out;
}

Result<onem2m::Response> send_primitive(ClientConnection& connection, const onem2m::Request& request) {
  if (request.to.empty() || request.to.front() == '/') return Error::usage("the target must be CSE-relative");
  if (request.rqi.empty()) return Error::usage("a request needs a request identifier");
  if (request.ty.has_value() != (request.op == onem2m::Operation::kCreate)) {
    return Error::usage("ty goes with CREATE, and only with CREATE");
  }
  M2MSEC_ASSIGN_OR_RETURN(const Response response, connection.send(to_http_request(request)));
  return from_http_response(response, request.rqi);
}

}  // namespace m2msec::http

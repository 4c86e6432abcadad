#include "m2msec/http/onem2m.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "m2msec/core/text.h"
#include "m2msec/onem2m/query.h"
#include "wire.h"

namespace m2msec::http {
namespace {

constexpr std::string_view kOrigin = "X-M2M-Origin";
constexpr std::string_view kRequestId = "X-M2M-RI";
constexpr std::string_view kReleaseVersion = "X-M2M-RVI";
constexpr std::string_view kStatusCode = "X-M2M-RSC";
constexpr std::string_view kContentType = "Content-Type";
constexpr std::string_view kContentLocation = "Content-Location";
constexpr std::string_view kAuthorization = "Authorization";
constexpr std::string_view kJson = "application/json";

bool iequals(std::string_view a, std::string_view b) { return boost::beast::iequals(wire::view(a), wire::view(b)); }

std::string_view trim(std::string_view text) {
  constexpr std::string_view kOws = " \t";
  const auto first = text.find_first_not_of(kOws);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kOws) - first + 1);
}

//= TS-0009 V3.9.1 §6.4.3
//# The ty of a CREATE rides on the Content-Type as a ";ty=N" parameter.
// The media types we read are TS-0004 6.7's JSON ones; the only other parameter taken is charset=utf-8
// (RFC 8259 8.1: JSON text is UTF-8 anyway).
Result<std::optional<std::uint32_t>> parse_content_type(std::string_view value) {
  const auto refuse = [&](std::string_view why) {
    return Error::usage("Content-Type '" + std::string(value) + "': " + std::string(why));
  };
  const std::vector<std::string_view> parts = split(value, ';');
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
      const auto number = decimal_in(text, 1, std::numeric_limits<std::uint32_t>::max());
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

bool is_unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// RFC 3986 3.3: what a path segment holds unencoded (pchar without '%').
bool is_path_char(char c) { return is_unreserved(c) || std::string_view("!$&'()*+,;=:@").find(c) != std::string_view::npos; }

// RFC 3986 3.4: what a query holds unencoded, less the characters that structure it here ('&' between
// fields, '=' after a name, '+' between the values of a list: TS-0009 6.2.2.2).
bool is_query_value_char(char c) {
  return is_unreserved(c) || std::string_view("!$'()*,;:@/?").find(c) != std::string_view::npos;
}

// RFC 3986 2.1: `text` with its percent-encoded octets decoded; nullopt for malformed encoding, a character
// `raw` does not allow unencoded, or an encoded NUL (it would end the string elsewhere).
std::optional<std::string> percent_decode(std::string_view text, bool (*raw)(char)) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size() || !is_hex(text[i + 1]) || !is_hex(text[i + 2])) return std::nullopt;
      const char octet = static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      if (octet == '\0') return std::nullopt;
      out += octet;
      i += 2;
    } else if (raw(c)) {
      out += c;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// `text` with every octet but the unreserved ones percent-encoded; `keep` names more octets left as they are.
std::string percent_encode(std::string_view text, std::string_view keep) {
  constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    if (is_unreserved(c) || keep.find(c) != std::string_view::npos) {
      out += c;
    } else {
      const auto octet = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[octet >> 4];
      out += kHex[octet & 0x0f];
    }
  }
  return out;
}

//= TS-0009 V3.9.1 §6.2.2.1
//# A CSE-relative To is the path without its leading "/"; the SP-relative ("/~") and absolute ("/_")
//# forms are not ours to take.
Result<std::string> path_to_to(std::string_view path) {
  const auto refuse = [&](std::string_view why) {
    return Error::usage("request-target path '" + std::string(path) + "': " + std::string(why));
  };
  if (!path.starts_with('/')) return refuse("not in origin form");
  std::string to;
  const std::vector<std::string_view> segments = split(path.substr(1), '/');
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::optional<std::string> decoded = percent_decode(segments[i], is_path_char);
    if (!decoded) return refuse("malformed percent-encoding, %00, or a character that must be percent-encoded");
    // An encoded '/' would make one name of two segments.
    if (decoded->find('/') != std::string::npos) return refuse("%2F is not accepted");
    if (i > 0) to += '/';
    to += *decoded;
  }
  if (to.empty()) return refuse("no target resource");
  if (to.starts_with('/') || to == "~" || to == "_" || to.starts_with("~/") || to.starts_with("_/")) {
    return refuse("only CSE-relative targets are supported");
  }
  return to;
}

std::string to_target(std::string_view to) { return concat({"/", percent_encode(to, "/!$&'()*+,;=:@")}); }

Result<std::string> required_header(const Request& request, std::string_view name) {
  const std::optional<std::string_view> value = request.header(name);
  if (!value || value->empty()) return Error::usage("the " + std::string(name) + " header is missing");
  return std::string(*value);
}

Error protocol(std::string why) { return Error(Category::kProtocol, "oneM2M HTTP response: " + why); }

//= TS-0009 V3.9.1 §6.2.2.2 (Table 6.2.2.2-1)
//# Result Content (rcn), the filterCriteria elements labels (lbl), resourceType (ty), limit (lim),
//# filterUsage (fu) and level (lvl), Role IDs (rids) and Token IDs (tids) ride in the query as
//# field=value pairs joined by '&'; a 0..n field may repeat and lists its values with '+' (ty=2+3+4), a
//# 0..1 field occurs once (onem2m::QueryReader enforces both). Every other field of the table (rt, rp, da,
//# crb ... ofst, drt, ltids, tqi, asi, auri, sqi, attribute names) is refused: dropping it would lose a
//# condition or a parameter the originator relies on.
constexpr std::string_view kQueryFields[] = {"rcn", "fu", "lim", "lvl", "ty", "lbl", "rids", "tids"};

std::optional<std::string> decode_query_value(std::string_view text) {
  return percent_decode(text, is_query_value_char);
}

Result<void> read_query(std::string_view query, onem2m::Request& primitive) {
  onem2m::QueryReader reader(kQueryFields);
  for (const std::string_view field : split(query, '&')) {
    if (const Result<void> read = reader.read_field(field, primitive, decode_query_value); !read) {
      return Error::usage(concat({"query '", query, "': ", read.error().detail()}));
    }
  }
  return {};
}

// The query of a request primitive, in the order of Table 6.2.2.2-1; empty when it has none of the fields.
std::string query_of(const onem2m::Request& primitive) {
  std::string query;
  for (const onem2m::QueryField& field : onem2m::query_fields(primitive, kQueryFields)) {
    query += query.empty() ? "" : "&";
    query.append(field.name).append("=");
    for (std::size_t i = 0; i < field.values.size(); ++i) {
      if (i > 0) query += '+';
      query += percent_encode(field.values[i], "");
    }
  }
  return query;
}

//= TS-0009 V3.9.1 §6.4.19
//# The Tokens parameter (m2m:dynAuthJWT compact serializations) rides in the Authorization header, the tokens
//# separated by '+' (whitespace around them is not part of them).
Result<std::vector<std::string>> read_tokens(std::string_view header) {
  std::vector<std::string> tokens;
  for (const std::string_view piece : split(header, '+')) {
    const std::string_view token = trim(piece);
    if (!onem2m::is_compact_jose(token)) {
      return Error::usage("the Authorization header must hold JWS/JWE compact serializations separated by '+'");
    }
    tokens.emplace_back(token);
  }
  return tokens;
}

//= TS-0009 V3.9.1 §6.4.4
//# The response to a Create carries the created resource's URI in Content-Location when the Content holds
//# it: {"m2m:uri": ...} (resultContent 2) or {"m2m:rce": {"uri": ...}} (resultContent 3); the URI becomes
//# the request-target path it is addressed by (§6.2.2.1: "/" + a CSE-relative ID, "/~" + an SP-relative
//# one, "/_" + an absolute one without its first '/').
std::optional<std::string> content_location(const onem2m::Response& response) {
  if (!response.pc) return std::nullopt;
  const json::Value* uri = response.pc->find("m2m:uri");
  if (const json::Value* rce = response.pc->find("m2m:rce"); uri == nullptr && rce != nullptr) uri = rce->find("uri");
  const std::string* text = uri == nullptr ? nullptr : uri->string();
  if (text == nullptr || text->empty()) return std::nullopt;
  if (text->starts_with("//")) return "/_" + to_target(std::string_view(*text).substr(2));
  if (text->starts_with('/')) return "/~" + to_target(std::string_view(*text).substr(1));
  return to_target(*text);
}

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
  const std::string_view target = request.target;
  const auto question = target.find('?');
  M2MSEC_ASSIGN_OR_RETURN(primitive.to, path_to_to(target.substr(0, question)));
  if (question != std::string_view::npos) M2MSEC_TRY(read_query(target.substr(question + 1), primitive));
  if (const auto authorization = request.header(kAuthorization)) {
    M2MSEC_ASSIGN_OR_RETURN(primitive.tkns, read_tokens(*authorization));
  }
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
      response = onem2m::answer(*primitive, [&] { return handler(*primitive, connection); });
    }
    Response out = from_response_primitive(response);
    if (primitive && primitive->op == onem2m::Operation::kCreate && response.rsc == Rsc::kCreated) {
      if (auto location = content_location(response)) out.headers.push_back({std::string(kContentLocation), *location});
    }
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
  if (const std::string query = query_of(request); !query.empty()) out.target += "?" + query;
  if (!request.fr.empty()) out.headers.push_back({std::string(kOrigin), request.fr});
  out.headers.push_back({std::string(kRequestId), request.rqi});
  if (!request.rvi.empty()) out.headers.push_back({std::string(kReleaseVersion), request.rvi});
  out.headers.push_back({"Accept", std::string(kJson)});
  if (request.pc || request.ty) {
    std::string type(kJson);
    if (request.ty) type += ";ty=" + std::to_string(*request.ty);
    out.headers.push_back({std::string(kContentType), std::move(type)});
  }
  if (!request.tkns.empty()) {
    std::string tokens;
    for (const std::string& token : request.tkns) tokens += (tokens.empty() ? "" : "+") + token;
    out.headers.push_back({std::string(kAuthorization), std::move(tokens)});
  }
  if (request.pc) out.body = json::serialize(*request.pc);
  return out;
}

Result<onem2m::Response> from_http_response(const Response& response, std::string_view expected_rqi) {
  const std::optional<std::string_view> code = response.header(kStatusCode);
  if (!code) return protocol("no X-M2M-RSC header (HTTP status " + std::to_string(response.status) + ")");
  const auto number = decimal_in(*code, 1, std::numeric_limits<std::uint16_t>::max());
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
  if (!std::all_of(request.tkns.begin(), request.tkns.end(), onem2m::is_compact_jose)) {
    return Error::usage("a token must be a JWS/JWE compact serialization");
  }
  M2MSEC_ASSIGN_OR_RETURN(const Response response, connection.send(to_http_request(request)));
  return from_http_response(response, request.rqi);
}

}  // namespace m2msec::http

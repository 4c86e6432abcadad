#include "m2msec/coap/onem2m.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "m2msec/coap/options.h"
#include "m2msec/core/text.h"
#include "m2msec/onem2m/query.h"

namespace m2msec::coap {
namespace {

// A critical option we recognize: its name, its length range (RFC 7252 §5.4.3) and whether it may repeat
// (§5.4.5).
struct CriticalOption {
  std::uint16_t number;
  std::string_view name;
  std::size_t min;
  std::size_t max;
  bool repeatable;
};

//= RFC 7252 §5.10 (Table 4), RFC 7959 §2.1
//= TS-0008 V3.9.0 §6.2.2.4 (Table 6.2.2.4.0-1)
//# The critical options of a request this binding recognizes. If-Match (1) and If-None-Match (5) are left out
//# on purpose: we never send an ETag, so a conditional request cannot be honoured, and ignoring a critical
//# option is not allowed; they get 4.02 like any unknown one.
constexpr CriticalOption kRequestCritical[] = {
    {kOptionUriHost, "Uri-Host", 1, 255, false},
    {kOptionUriPort, "Uri-Port", 0, 2, false},
    {kOptionUriPath, "Uri-Path", 0, 255, true},
    {kOptionUriQuery, "Uri-Query", 0, 255, true},
    {kOptionAccept, "Accept", 0, 2, false},
    // The server's message layer handles (and strips) the block options; recognized so that the binding does
    // not contradict it.
    {kOptionBlock2, "Block2", 0, 3, false},
    {kOptionBlock1, "Block1", 0, 3, false},
    {kOptionProxyUri, "Proxy-Uri", 1, 1034, false},
    {kOptionProxyScheme, "Proxy-Scheme", 1, 255, false},
    // The "string 15" of the timestamps is taken as an exact length (the table's Length column; a oneM2M
    // timestamp in basic format, 20230801T120000, has 15 characters).
    {kOptionOt, "oneM2M-OT", 15, 15, false},
    {kOptionRturi, "oneM2M-RTURI", 0, 255, false},
    {kOptionTy, "oneM2M-TY", 0, 2, false},
    {kOptionRvi, "oneM2M-RVI", 1, 2, false},
    {kOptionAsri, "oneM2M-ASRI", 0, 255, false},
    {kOptionFr, "oneM2M-FR", 0, 255, false},
    {kOptionRqi, "oneM2M-RQI", 0, 255, false},
    {kOptionRqet, "oneM2M-RQET", 15, 15, false},
    {kOptionRset, "oneM2M-RSET", 15, 15, false},
    {kOptionOet, "oneM2M-OET", 15, 15, false},
    {kOptionEc, "oneM2M-EC", 0, 1, false},
    {kOptionRsc, "oneM2M-RSC", 0, 2, false},
    {kOptionGid, "oneM2M-GID", 0, 255, false},
    {kOptionCto, "oneM2M-CTO", 0, 2, false},
    {kOptionCts, "oneM2M-CTS", 0, 2, false},
    {kOptionAti, "oneM2M-ATI", 0, 255, false},
    {kOptionVsi, "oneM2M-VSI", 0, 255, false},
    {kOptionGtm, "oneM2M-GTM", 0, 512, false},
    {kOptionAus, "oneM2M-AUS", 0, 255, false},
};

//= TS-0008 V3.9.0 §6.2.2.4 (Table 6.2.2.4.0-1)
//# The critical options a response may carry that we read (RSC, RQI, RVI) or may ignore (OT and VSI only inform);
//# the block options are the client layer's. Any other critical option (CTO/CTS of a partial content, ...) makes
//# the response one we cannot read.
constexpr CriticalOption kResponseCritical[] = {
    {kOptionBlock2, "Block2", 0, 3, false},    {kOptionBlock1, "Block1", 0, 3, false},
    {kOptionOt, "oneM2M-OT", 15, 15, false},  {kOptionRvi, "oneM2M-RVI", 1, 2, false},
    {kOptionRqi, "oneM2M-RQI", 0, 255, false}, {kOptionRsc, "oneM2M-RSC", 0, 2, false},
    {kOptionVsi, "oneM2M-VSI", 0, 255, false},
};

// The oneM2M options of a request this binding cannot carry into the primitive: refused (BAD_REQUEST) rather
// than dropped, as the HTTP binding refuses query fields it does not map (dropping RQET or OET would lose a
// condition the originator relies on). RSC, CTO and CTS are parameters of a response.
constexpr std::uint16_t kUnmapped[] = {kOptionRturi, kOptionAsri, kOptionRqet, kOptionRset, kOptionOet,
                                       kOptionEc,    kOptionRsc,  kOptionGid,  kOptionCto,  kOptionCts,
                                       kOptionAti,   kOptionGtm,  kOptionAus};

std::string_view text_of(const Option& option) { return as_text(option.value); }


template <std::size_t N>
Result<void> check_critical(const Message& message, const CriticalOption (&known)[N], std::string_view what) {
  std::vector<std::uint16_t> seen;
  for (const Option& option : message.options) {
    //= RFC 7252 §5.4.6
    //# An option number whose lowest bit is set is critical.
    if ((option.number & 1U) == 0) continue;
    const auto* spec = std::find_if(std::begin(known), std::end(known),
                                    [&](const CriticalOption& c) { return c.number == option.number; });
    const std::string number = std::to_string(option.number);
    if (spec == std::end(known)) {
      return Error::usage(concat({"the critical option ", number, " of the ", what, " is not recognized"}));
    }
    //= RFC 7252 §5.4.3, §5.4.5
    //# A value outside the option's length range, and a repeat of a non-repeatable option, are treated like an
    //# unrecognized option.
    if (option.value.size() < spec->min || option.value.size() > spec->max) {
      return Error::usage(concat({"the ", spec->name, " option (", number, ") has ", std::to_string(option.value.size()),
                                  " octets, outside ", std::to_string(spec->min), "-", std::to_string(spec->max)}));
    }
    if (!spec->repeatable) {
      if (std::find(seen.begin(), seen.end(), option.number) != seen.end()) {
        return Error::usage(concat({"the ", spec->name, " option (", number, ") occurs more than once"}));
      }
      seen.push_back(option.number);
    }
  }
  return {};
}

// A Uri-Path or Location-Path segment we send or take: not empty, not "." or ".." (RFC 7252 §6.4 step 8 removes
// dot segments, so a segment that is one cannot have come from a URI), at most 255 octets.
bool is_segment(std::string_view segment) {
  return !segment.empty() && segment != "." && segment != ".." && segment.size() <= 255 &&
         segment.find('\0') == std::string_view::npos;
}

bool has_option(const Message& message, std::uint16_t number) { return find_option(message, number) != nullptr; }

//= TS-0008 V3.9.0 §6.2.2.3 (Table 6.2.2.3-1)
//# A CSE-relative To is the Uri-Path options, one per segment; a first segment "~" starts an SP-relative
//# one and "_" an absolute one: those are not ours to take (as on HTTP).
Result<std::string> read_to(const Message& request) {
  std::string to;
  for (const Option& option : request.options) {
    if (option.number != kOptionUriPath) continue;
    const std::string_view segment = text_of(option);
    if (!is_segment(segment) || segment.find('/') != std::string_view::npos) {
      return Error::usage(concat({"the Uri-Path segment '", segment, "' is empty, a dot segment, or holds '/' or NUL"}));
    }
    if (to.empty() && (segment == "~" || segment == "_")) {
      return Error::usage("only CSE-relative targets are supported (the Uri-Path starts with '~' or '_')");
    }
    if (!to.empty()) to += '/';
    to += segment;
  }
  if (to.empty()) return Error::usage("no Uri-Path: no target resource");
  return to;
}

//= TS-0008 V3.9.0 §6.2.2.3
//# Result Content (rcn), the filterCriteria elements fu, ty, lbl, lim, lvl, Tokens (tkns), Token IDs (tids),
//# Role IDs (rids) and the Operation (op) ride in the Uri-Query options in their TS-0004 short names.
// TS-0008 does not say how a list is written: we take one value per option, or several joined by '+' as
// TS-0009 6.2.2.2 writes them (so a value cannot hold '+'), and we send one value per option. Option values are
// already percent-decoded (RFC 7252 §6.4 step 9), so nothing is decoded here. Every other field (rt, rp, drt,
// da, crb ... attribute names) is refused: dropping it would lose a condition or a parameter. The fields' rules
// (0..1 or a list, the ranges, the tokens' form) are onem2m::QueryReader's.
constexpr std::string_view kQueryFields[] = {"rcn", "fu", "lim", "lvl", "ty", "lbl", "rids", "tids", "tkns", "op"};

Result<void> read_query(const Message& request, onem2m::Request& primitive, std::optional<onem2m::Operation>& op) {
  onem2m::QueryReader reader(kQueryFields);
  for (const Option& option : request.options) {
    if (option.number != kOptionUriQuery) continue;
    const std::string_view field = text_of(option);
    if (const Result<void> read = reader.read_field(field, primitive); !read) {
      return Error::usage(concat({"Uri-Query '", field, "': ", read.error().detail()}));
    }
  }
  op = reader.op();
  return {};
}

// The value of a non-repeatable string option as a non-empty string (check_critical_options has vouched for
// its length and uniqueness).
Result<std::string> required_string(const Message& request, std::uint16_t number, std::string_view name) {
  const Option* option = find_option(request, number);
  if (option == nullptr || option->value.empty()) return Error::usage(concat({"the ", name, " option is missing"}));
  return std::string(text_of(*option));
}

//= RFC 7252 §5.10.3, TS-0008 V3.9.0 §6.2.2.2
//# The JSON Content-Formats: application/json, and the oneM2M resource and notification JSON types. A
//# Content-Format value over 2 octets is outside its range: an elective option, so it is ignored (§5.4.3).
std::optional<std::uint32_t> content_format(const Message& message) {
  const Option* option = find_option(message, kOptionContentFormat);
  if (option == nullptr || option->value.size() > 2) return std::nullopt;
  return decode_uint(option->value);
}

bool is_json_format(std::uint32_t format) {
  return format == kFormatJson || format == kFormatOneM2mResJson || format == kFormatOneM2mNtfyJson;
}

std::string format_text(std::optional<std::uint32_t> format) {
  return format ? std::to_string(*format) : std::string("none");
}

Error protocol(std::string_view why) { return Error(Category::kProtocol, concat({"oneM2M CoAP response: ", why})); }

//= TS-0008 V3.9.0 §6.2.3
//# When the content of a response to a Create holds the created resource's URI, it goes in Location-Path. How a
//# non-CSE-relative URI is written is not said there: we write it as Table 6.2.2.3-1 writes a To ("~" or "_"
//# first). A URI with a segment a Location-Path cannot carry is left in the content only.
std::optional<std::vector<std::string_view>> location_path(const onem2m::Response& response) {
  if (response.rsc != Rsc::kCreated || !response.pc) return std::nullopt;
  const json::Value* uri = response.pc->find("m2m:uri");
  if (const json::Value* rce = response.pc->find("m2m:rce"); uri == nullptr && rce != nullptr) uri = rce->find("uri");
  const std::string* text = uri == nullptr ? nullptr : uri->string();
  if (text == nullptr || text->empty()) return std::nullopt;
  std::string_view rest = *text;
  std::vector<std::string_view> segments;
  if (rest.starts_with("//")) {
    segments.emplace_back("_");
    rest.remove_prefix(2);
  } else if (rest.starts_with('/')) {
    segments.emplace_back("~");
    rest.remove_prefix(1);
  }
  for (const std::string_view segment : split(rest, '/')) {
    if (!is_segment(segment)) return std::nullopt;
    segments.push_back(segment);
  }
  return segments;
}

Option string_option(std::uint16_t number, std::string_view text) {
  const ByteView bytes = as_bytes(text);
  return Option{number, Bytes(bytes.begin(), bytes.end())};
}

}  // namespace

Result<void> check_critical_options(const Message& request) {
  return check_critical(request, kRequestCritical, "request");
}

//= TS-0008 V3.9.0 §6.2.1 (Table 6.2.1-1), §6.2.2.4.1, §6.2.2.4.2, §6.2.2.4.12, §6.2.2.4.16, §6.2.3
//# The method gives the operation (a POST with oneM2M-TY is a CREATE, without it a NOTIFY); the oneM2M options
//# give From, the request identifier, the resource type and the release version; the payload is the content.
Result<onem2m::Request> to_request_primitive(const Message& request) {
  onem2m::Request primitive;
  const std::uint8_t method = request.code;
  if (method == kPost) {
    primitive.op = onem2m::Operation::kNotify;
  } else if (method == kGet) {
    primitive.op = onem2m::Operation::kRetrieve;
  } else if (method == kPut) {
    primitive.op = onem2m::Operation::kUpdate;
  } else if (method == kDelete) {
    primitive.op = onem2m::Operation::kDelete;
  } else if ((method >> 5) == 0 && method != kEmpty) {
    //= RFC 7252 §5.8
    //# A request with a method code we do not support is answered 4.05 (Method Not Allowed).
    return Error(Category::kUsage, Rsc::kOperationNotAllowed,
                 concat({"the method code ", code_text(method), " maps to no oneM2M operation"}));
  } else {
    return Error::usage(concat({"the code ", code_text(method), " is not a request"}));
  }
  M2MSEC_TRY(check_critical_options(request));
  //= RFC 7252 §5.7.2
  //# We are no forward proxy: a request naming Proxy-Uri or Proxy-Scheme is refused (5.05 by primitive_handler).
  if (has_option(request, kOptionProxyUri) || has_option(request, kOptionProxyScheme)) {
    return Error::usage("this endpoint is not a proxy (Proxy-Uri or Proxy-Scheme)");
  }
  for (const std::uint16_t number : kUnmapped) {
    if (has_option(request, number)) {
      const auto* spec = std::find_if(std::begin(kRequestCritical), std::end(kRequestCritical),
                                      [&](const CriticalOption& c) { return c.number == number; });
      return Error::usage(concat({"the ", spec->name, " option is not supported in a request"}));
    }
  }
  M2MSEC_ASSIGN_OR_RETURN(primitive.to, read_to(request));
  std::optional<onem2m::Operation> op_in_query;
  M2MSEC_TRY(read_query(request, primitive, op_in_query));
  M2MSEC_ASSIGN_OR_RETURN(primitive.fr, required_string(request, kOptionFr, "oneM2M-FR"));
  M2MSEC_ASSIGN_OR_RETURN(primitive.rqi, required_string(request, kOptionRqi, "oneM2M-RQI"));
  // An absent oneM2M-RVI leaves the primitive's default, as an absent X-M2M-RVI does on HTTP.
  if (const Option* rvi = find_option(request, kOptionRvi)) primitive.rvi = std::string(text_of(*rvi));

  if (const Option* ty = find_option(request, kOptionTy)) {
    if (method != kPost) return Error::usage("oneM2M-TY goes with POST (CREATE) only");
    const std::uint32_t value = *decode_uint(ty->value);  // at most 2 octets: checked above
    if (value == 0) return Error::usage("oneM2M-TY must be a positive resource type");
    primitive.op = onem2m::Operation::kCreate;
    primitive.ty = value;
  }
  //= TS-0008 V3.9.0 §6.2.1, §6.2.2.3
  //# The Operation may also ride in the query (the non-blocking cases, which need a POST). We have no
  //# non-blocking requests (rt is refused), so it is taken only when it names the operation the method and
  //# oneM2M-TY already give.
  if (op_in_query && *op_in_query != primitive.op) {
    return Error::usage(concat({"op=", std::to_string(static_cast<unsigned>(*op_in_query)), " in the query does not agree with the method (",
                                onem2m::operation_name(primitive.op), ")"}));
  }

  //= TS-0008 V3.9.0 §6.2.2.2
  //# A Hosting CSE that cannot answer in the Content-Format an Accept option names answers 4.06 (NOT_ACCEPTABLE).
  if (const Option* accept = find_option(request, kOptionAccept)) {
    const std::uint32_t format = *decode_uint(accept->value);
    if (format != kFormatJson && format != kFormatOneM2mResJson) {
      return Error(Category::kUsage, Rsc::kNotAcceptable,
                   concat({"Accept ", std::to_string(format), ": we answer in application/json (50) or 10001 only"}));
    }
  }

  const bool takes_payload = method == kPost || method == kPut;
  const std::string_view name = method == kPost ? "POST" : method == kPut ? "PUT" : method == kGet ? "GET" : "DELETE";
  if (takes_payload && request.payload.empty()) return Error::usage(concat({name, " needs a payload (the content)"}));
  if (!takes_payload && !request.payload.empty()) return Error::usage(concat({name, " takes no payload"}));
  if (takes_payload) {
    const std::optional<std::uint32_t> format = content_format(request);
    if (!format || !is_json_format(*format)) {
      return Error::usage(concat({"Content-Format ", format_text(format), ": the payload must be application/json (50), ",
                                  "vnd.onem2m-res+json (10001) or vnd.onem2m-ntfy+json (10003)"}));
    }
    M2MSEC_ASSIGN_OR_RETURN(json::Value content, json::parse(as_text(request.payload)));
    if (content.object() == nullptr) return Error::usage("the payload must be a JSON object");
    primitive.pc = std::move(content);
  }
  return primitive;
}

//= TS-0008 V3.9.0 §6.2.1, §6.2.2.4.2, §6.2.2.4.10, §6.2.3, §6.2.4
//# The code follows Table 6.2.4-1; oneM2M-RSC carries the oneM2M code, oneM2M-RQI the request identifier; the
//# content is the payload.
Message from_response_primitive(const onem2m::Response& response) {
  Message out;
  out.code = onem2m::coap_code(response.rsc);
  if (const auto segments = location_path(response)) {
    for (const std::string_view segment : *segments) out.options.push_back(string_option(kOptionLocationPath, segment));
  }
  if (response.pc) out.options.push_back({kOptionContentFormat, encode_uint(kFormatJson)});
  out.options.push_back({kOptionRsc, encode_uint(static_cast<std::uint32_t>(response.rsc))});
  if (!response.rqi.empty()) out.options.push_back(string_option(kOptionRqi, response.rqi));
  if (response.pc) {
    const std::string body = json::serialize(*response.pc);
    const ByteView bytes = as_bytes(body);
    out.payload.assign(bytes.begin(), bytes.end());
  }
  return out;
}

Handler primitive_handler(PrimitiveHandler handler) {
  return [handler = std::move(handler)](const Message& request, const Connection& connection) {
    onem2m::Response response;
    std::optional<std::uint8_t> refusal_code;
    Result<onem2m::Request> primitive = Error::usage("not translated");
    const Result<void> options = check_critical_options(request);
    if (!options) {
      //= RFC 7252 §5.4.1
      //# An unrecognized critical option in a request is answered 4.02 (Bad Option).
      refusal_code = code(4, 2);
      primitive = options.error();
    } else {
      primitive = to_request_primitive(request);
      if (!primitive && (has_option(request, kOptionProxyUri) || has_option(request, kOptionProxyScheme))) {
        refusal_code = code(5, 5);  // RFC 7252 §5.7.2: Proxying Not Supported
      }
    }
    if (!primitive) {
      onem2m::Request refused;
      // The request identifier goes back even on a refusal, when it is one we could have read.
      if (const Option* rqi = find_option(request, kOptionRqi); rqi != nullptr && rqi->value.size() <= 255) {
        refused.rqi = std::string(text_of(*rqi));
      }
      // The refusal's own status (4000, or 4005 for a method, 5207 for an Accept), its detail as m2m:dbg.
      const Error& why = primitive.error();
      response = onem2m::error_response(
          refused, Error(Category::kUsage, refusal_code ? Rsc::kBadRequest : why.rsc().value_or(Rsc::kBadRequest),
                         why.detail()));
    } else {
      response = onem2m::answer(*primitive, [&] { return handler(*primitive, connection); });
    }
    Message out = from_response_primitive(response);
    if (refusal_code) out.code = *refusal_code;
    if (primitive && primitive->op == onem2m::Operation::kNotify && response.rsc == Rsc::kOk) {
      //= TS-0008 V3.9.0 §6.2.4 (Table 6.2.4-1), §6.3.2 step 4
      //# A NOTIFY's OK is 2.04 (Changed) with an empty payload.
      out.code = code(2, 4);
      out.payload.clear();
      std::erase_if(out.options, [](const Option& o) { return o.number == kOptionContentFormat; });
    }
    //= TS-0008 V3.9.0 §6.2.2.2
    //# The response is in the Content-Format the Accept option asked for (to_request_primitive let only 50 and
    //# 10001 through; both are the same JSON text).
    if (const Option* accept = find_option(request, kOptionAccept); primitive && accept != nullptr) {
      for (Option& o : out.options) {
        if (o.number == kOptionContentFormat) o.value = encode_uint(*decode_uint(accept->value));
      }
    }
    //= TS-0008 V3.9.0 §6.2.2.4.16
    //# The release version indicator is mapped back, when the request carried one we could read.
    if (const Option* rvi = find_option(request, kOptionRvi); rvi != nullptr && !rvi->value.empty() &&
                                                              rvi->value.size() <= 2) {
      out.options.push_back(*rvi);
    }
    return out;
  };
}

Result<Message> to_coap_request(const onem2m::Request& request) {
  Message out;
  switch (request.op) {
    case onem2m::Operation::kCreate:
    case onem2m::Operation::kNotify: out.code = kPost; break;
    case onem2m::Operation::kRetrieve: out.code = kGet; break;
    case onem2m::Operation::kUpdate: out.code = kPut; break;
    case onem2m::Operation::kDelete: out.code = kDelete; break;
  }
  if (request.to.empty() || request.to.front() == '/') return Error::usage("the target must be CSE-relative");
  for (const std::string_view segment : split(request.to, '/')) {
    if (!is_segment(segment)) {
      return Error::usage(concat({"the target '", request.to, "' has an empty or dot segment, or one over 255 octets"}));
    }
    out.options.push_back(string_option(kOptionUriPath, segment));
  }
  if (request.rqi.empty() || request.rqi.size() > 255) return Error::usage("the request identifier must be 1-255 octets");
  if (request.fr.size() > 255) return Error::usage("From must be at most 255 octets");
  if (!request.rvi.empty() && request.rvi.size() > 2) return Error::usage("the release version must be 1-2 characters");
  if (request.ty.has_value() != (request.op == onem2m::Operation::kCreate)) {
    return Error::usage("ty goes with CREATE, and only with CREATE");
  }
  if (request.ty && (*request.ty == 0 || *request.ty > 0xffff)) {
    return Error::usage("ty must be 1-65535 (oneM2M-TY is a 2-octet uint)");
  }
  const bool takes_content = request.op == onem2m::Operation::kCreate || request.op == onem2m::Operation::kUpdate ||
                             request.op == onem2m::Operation::kNotify;
  if (takes_content != request.pc.has_value()) {
    return Error::usage(concat({onem2m::operation_name(request.op), takes_content ? " needs content" : " takes no content"}));
  }
  if (!std::all_of(request.tkns.begin(), request.tkns.end(), onem2m::is_compact_jose)) {
    return Error::usage("a token must be a JWS/JWE compact serialization");
  }

  //= TS-0008 V3.9.0 §6.2.2.3
  //# The query, one field per option (so one value per option), in the order of TS-0009's Table 6.2.2.2-1 (as
  //# the HTTP binding sends it). Tokens ride in the Uri-Query too (there is no Authorization option in CoAP).
  for (const onem2m::QueryField& field : onem2m::query_fields(request, kQueryFields)) {
    for (const std::string& value : field.values) {
      if (value.empty() || value.find('+') != std::string::npos || value.find('\0') != std::string::npos) {
        return Error::usage(concat({"the ", field.name, " value '", value, "' is empty or holds '+' or NUL"}));
      }
      std::string text = concat({field.name, "=", value});
      if (text.size() > 255) {
        return Error::usage(concat({"the ", field.name, " field is over 255 octets (a Uri-Query option)"}));
      }
      out.options.push_back(string_option(kOptionUriQuery, text));
    }
  }

  if (request.pc) out.options.push_back({kOptionContentFormat, encode_uint(kFormatJson)});
  out.options.push_back({kOptionAccept, encode_uint(kFormatJson)});
  if (request.ty) out.options.push_back({kOptionTy, encode_uint(*request.ty)});
  if (!request.rvi.empty()) out.options.push_back(string_option(kOptionRvi, request.rvi));
  if (!request.fr.empty()) out.options.push_back(string_option(kOptionFr, request.fr));
  out.options.push_back(string_option(kOptionRqi, request.rqi));
  if (request.pc) {
    const std::string body = json::serialize(*request.pc);
    const ByteView bytes = as_bytes(body);
    out.payload.assign(bytes.begin(), bytes.end());
  }
  // serialize() sorts by number; keep the message itself in that order too.
  std::stable_sort(out.options.begin(), out.options.end(),
                   [](const Option& a, const Option& b) { return a.number < b.number; });
  return out;
}

Result<onem2m::Response> from_coap_response(const Message& response, std::string_view expected_rqi) {
  const unsigned cls = response.code >> 5;
  if (cls != 2 && cls != 4 && cls != 5) return protocol(concat({"the code ", code_text(response.code), " is not a response"}));
  if (const Result<void> critical = check_critical(response, kResponseCritical, "response"); !critical) {
    return protocol(critical.error().detail());
  }
  //= TS-0008 V3.9.0 §6.2.4
  //# Several oneM2M codes share a CoAP code, so oneM2M-RSC is what tells them apart. We require it on every
  //# response (the table's rows all have one) and take it over the CoAP code, which is not cross-checked: a
  //# peer that picked 2.04 rather than 2.05 for a 2000 (the two rows of 2000) is still understood.
  const Option* code_option = find_option(response, kOptionRsc);
  if (code_option == nullptr) return protocol(concat({"no oneM2M-RSC option (CoAP code ", code_text(response.code), ")"}));
  const std::optional<Rsc> rsc = onem2m::rsc_from_int(*decode_uint(code_option->value));
  if (!rsc) return protocol(concat({"unknown oneM2M-RSC ", std::to_string(*decode_uint(code_option->value))}));
  const Option* rqi = find_option(response, kOptionRqi);
  if (rqi == nullptr || text_of(*rqi) != expected_rqi) return protocol("the oneM2M-RQI does not answer this request");
  onem2m::Response out{*rsc, std::string(expected_rqi), std::nullopt};
  if (!response.payload.empty()) {
    // Without a Content-Format the payload is still read as JSON (the HTTP binding does not look at Content-Type
    // either); a format that names something else is refused.
    if (has_option(response, kOptionContentFormat)) {
      const std::optional<std::uint32_t> format = content_format(response);
      if (format && !is_json_format(*format)) return protocol(concat({"Content-Format ", std::to_string(*format), " is not JSON"}));
    }
    Result<json::Value> content = json::parse(as_text(response.payload));
    if (!content || content->object() == nullptr) return protocol("the payload is not a JSON object");
    out.pc = std::move(*content);
  }
  return out;
}

}  // namespace m2msec::coap

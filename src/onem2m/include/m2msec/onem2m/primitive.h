// oneM2M request and response primitives (TS-0004 V3.32.0 clause 6.4) as plain values, with their JSON
// serialization in short names (TS-0004 clause 8.2). A binding (HTTP, CoAP) maps its wire format to these
// and back; a service only ever sees these.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/error.h"
#include "m2msec/core/result.h"
#include "m2msec/json/json.h"

namespace m2msec::onem2m {

// m2m:operation (TS-0004 Table 6.3.4.2.5-1).
enum class Operation : std::uint8_t { kCreate = 1, kRetrieve = 2, kUpdate = 3, kDelete = 4, kNotify = 5 };
std::string_view operation_name(Operation op);  // "CREATE", ...
std::optional<Operation> operation_from_int(std::int64_t value);

// Filter criteria (TS-0004 V3.32.0 6.3.5.8 m2m:filterCriteria), the members this implementation evaluates.
struct FilterCriteria {
  std::uint8_t fu = 2;               // filterUsage: 1 discovery, 2 conditional retrieval (default)
  std::vector<std::uint32_t> ty{};   // resourceType: any of them
  std::vector<std::string> lbl{};    // labels: any of them
  std::optional<std::uint32_t> lim{};  // limit: at most this many results
  std::optional<std::uint32_t> lvl{};  // level: at most this many levels below the target
};

// A request primitive (TS-0004 6.4.1): the parameters this implementation uses.
struct Request {
  Operation op = Operation::kRetrieve;
  std::string to;   // the target: a CSE-relative path ("mef/ri"), never starting with '/'
  std::string fr;   // the originator (From)
  std::string rqi;  // the request identifier
  std::optional<std::uint32_t> ty;  // CREATE only: the type of the resource to create
  std::optional<json::Value> pc;    // the content: {"<root short name>": {...}}
  std::string rvi = "3";            // releaseVersionIndicator
  std::optional<std::uint8_t> rcn{};  // resultContent (TS-0004 6.3.4.2.8)
  std::optional<FilterCriteria> fc{};  // filterCriteria
  // Dynamic authorization and roles (TS-0004 6.4.1, TS-0003 7.3, 7.4): tokens (m2m:dynAuthJWT), token IDs,
  // role IDs.
  std::vector<std::string> tkns{};
  std::vector<std::string> tids{};
  std::vector<std::string> rids{};
};

// A response primitive (rsc, rqi, pc; to/fr are not needed by the bindings we have).
struct Response {
  Rsc rsc = Rsc::kOk;
  std::string rqi;
  std::optional<json::Value> pc;
};

// A response for a request that failed: the error's status code (kInternalServerError when it has none) and,
// as content, {"m2m:dbg": "<why>"} (TS-0004 m2m:debugInfo): the error's detail when it is about the request
// (categories usage, protocol, auth, policy), "internal error" for a failure inside the receiver.
Response error_response(const Request& request, const Error& error);

// What a receiver answers to a request a binding handed over: handle()'s response with the request's identifier
// (TS-0004 7.2.1.2), or, when handle() throws, INTERNAL_SERVER_ERROR (5000) without what the exception says (it may
// name internals).
Response answer(const Request& request, const std::function<Response()>& handle);

// The HTTP status of a oneM2M status code (TS-0009 V3.9.1 Table 6.3.2-1): 2000/2002/2004 -> 200,
// 2001 -> 201, 4000 -> 400, 4004 -> 404, 4103 -> 403, 4105 -> 409, 4008 -> 504, 5000 -> 500, ...
unsigned http_status(Rsc rsc);
// The CoAP response code of a oneM2M status code (TS-0008 V3.9.0 Table 6.2.4-1) as the code octet of a CoAP
// message, class << 5 | detail (coap::code(cls, detail)): 2000 -> 2.05 (the RETRIEVE row; the CoAP binding
// answers a NOTIFY's 2000 with 2.04), 2001 -> 2.01, 2002 -> 2.02, 2004 -> 2.04, 4000 -> 4.00, 4004 -> 4.04,
// 4103/4105 -> 4.03, 4008 -> 5.04, 5207 -> 4.06, 5000 -> 5.00, ...
std::uint8_t coap_code(Rsc rsc);
// A status code from its number, if this implementation knows it.
std::optional<Rsc> rsc_from_int(std::int64_t value);

// The whole primitive as one JSON object in short names ({"op":1,"to":...,"fr":...,"rqi":...,"ty":...,
// "pc":{...},"rvi":"3","rcn":1,"fc":{"fu":1,"ty":[3],"lbl":[...],"lim":10,"lvl":2},"tkns":[...],"tids":[...],
// "rids":[...]} and {"rsc":2001,"rqi":...,"pc":{...}}; the lists non-empty), as the WebSocket/MQTT bindings carry
// them and as the fuzz target reads them. Parsing is strict: unknown members, wrong types, an op
// outside 1-5, ty without CREATE (or CREATE without ty), a missing or empty to or rqi, a to starting with
// '/' (CSE-relative only), an empty fr or rvi, a pc that is not an object are kUsage errors (BAD_REQUEST).
// An absent fr is "", an absent rvi "3"; serialize leaves out an empty fr.
std::string serialize(const Request& request);
Result<Request> parse_request(std::string_view json_text);
std::string serialize(const Response& response);
Result<Response> parse_response(std::string_view json_text);

}  // namespace m2msec::onem2m

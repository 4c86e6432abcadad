// The oneM2M HTTP binding (TS-0009 V3.9.1): request and response primitives <-> HTTP/1.1 messages.
//   op:   CREATE = POST with ";ty=N" in Content-Type, RETRIEVE = GET, UPDATE = PUT, DELETE = DELETE,
//         NOTIFY = POST without ty (6.2.1, 6.4.3).
//   to:   the request-target path without its leading '/' (CSE-relative form only, 6.2.2.1).
//   query (6.2.2.2, Table 6.2.2.2-1): rcn; the filter criteria fu, ty, lbl, lim, lvl; rids, tids. Lists as
//         '+'-joined values (ty=2+3+4) or repeated fields; values percent-encoded. Any other field (rt, rp,
//         drt, ltids, tqi, crb, attribute names, ...) is refused, as is an empty field or a 0..1 field twice.
//   tkns: the Authorization header, tokens joined by '+' (6.4.19).
//   fr:   X-M2M-Origin; rqi: X-M2M-RI; rvi: X-M2M-RVI; rsc: X-M2M-RSC (with the HTTP status of
//         onem2m::http_status); pc: the body, "application/json" (also accepted:
//         "application/vnd.onem2m-res+json"), short names.
//   A 2001 answer to a CREATE whose content holds the created resource's URI ("m2m:uri", "m2m:rce"/"uri")
//   carries it in Content-Location (6.4.4).
// A binding decides no policy: it only translates, and refuses what it cannot translate (BAD_REQUEST).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string_view>

#include "m2msec/core/result.h"
#include "m2msec/http/client.h"
#include "m2msec/http/message.h"
#include "m2msec/http/server.h"
#include "m2msec/onem2m/primitive.h"

namespace m2msec::http {

// Server side. Errors are kUsage (BAD_REQUEST) naming what is wrong: a missing X-M2M-Origin or X-M2M-RI, an
// unknown method, a bad or missing Content-Type on a body, ty on something other than POST, a query field
// we do not map or a malformed one, an Authorization header that is not '+'-joined compact JWS/JWE, a body
// that is not JSON.
Result<onem2m::Request> to_request_primitive(const Request& request);
Response from_response_primitive(const onem2m::Response& response);

// An http::Handler that translates, calls `handler`, and translates back; a request the binding refuses is
// answered BAD_REQUEST (with the X-M2M-RI it carried, if any, and {"m2m:dbg": why}) without calling
// `handler`. A handler that throws is answered INTERNAL_SERVER_ERROR (5000). The response always carries
// the request's X-M2M-RI, and its X-M2M-RVI when the request had one.
using PrimitiveHandler = std::function<onem2m::Response(const onem2m::Request&, const Connection&)>;
Handler primitive_handler(PrimitiveHandler handler);

// Client side. The target is "/" + to, percent-encoding what a path cannot carry, then the query of rcn, fc,
// rids and tids; tkns go in Authorization. ty needs CREATE (a CREATE without ty would be read as a NOTIFY:
// send_primitive refuses it, with kUsage, before sending, as it refuses a token that is not a compact
// serialization).
Request to_http_request(const onem2m::Request& request);
// Refuses (kProtocol) a response without X-M2M-RSC, with an unknown code, with an X-M2M-RI other than
// `expected_rqi`, or whose body is not JSON.
Result<onem2m::Response> from_http_response(const Response& response, std::string_view expected_rqi);

// Sends one primitive on an open connection (keep-alive) and returns the response primitive.
Result<onem2m::Response> send_primitive(ClientConnection& connection, const onem2m::Request& request);

}  // namespace m2msec::http

// The oneM2M CoAP binding (TS-0008 V3.9.0): request and response primitives <-> CoAP messages (RFC 7252).
//   op:   CREATE = POST (0.02) with the oneM2M-TY option, RETRIEVE = GET (0.01), UPDATE = PUT (0.03),
//         DELETE = DELETE (0.04), NOTIFY = POST without oneM2M-TY (6.2.1, Table 6.2.1-1).
//   to:   one Uri-Path option per segment (CSE-relative form only, 6.2.2.3; a first segment "~" or "_", the
//         SP-relative and absolute forms, is refused as on HTTP).
//   query (6.2.2.3): one "name=value" per Uri-Query option: rcn; the filter criteria fu, ty, lbl, lim, lvl;
//         rids, tids, tkns. A list field may repeat and may join its values with '+' (ty=2+3); we send one
//         option per value. op may be present and must agree with the method (no non-blocking requests).
//         Any other field is refused.
//   fr: oneM2M-FR (279); rqi: oneM2M-RQI (283); ty: oneM2M-TY (267); rvi: oneM2M-RVI (271); rsc:
//         oneM2M-RSC (307) with the code onem2m::coap_code gives (6.2.2.4, 6.2.4); pc: the payload, JSON short
//         names, Content-Format application/json (50); received also: the oneM2M JSON formats 10001, 10003.
//   A 2001 answer whose content holds the created resource's URI carries it in Location-Path (6.2.3).
// A binding decides no policy: it only translates, and refuses what it cannot translate (BAD_REQUEST).
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "m2msec/coap/message.h"
#include "m2msec/coap/server.h"
#include "m2msec/core/result.h"
#include "m2msec/onem2m/primitive.h"

namespace m2msec::coap {

//= TS-0008 V3.9.0 §6.2.2.4 (Table 6.2.2.4.0-1)
//# The oneM2M options. All numbers are odd, so all are critical (RFC 7252 §5.4.6), and none is repeatable.
inline constexpr std::uint16_t kOptionOt = 259;     // Originating Timestamp, string of 15
inline constexpr std::uint16_t kOptionRturi = 263;  // notificationURI of Response Type, string 0-255
inline constexpr std::uint16_t kOptionTy = 267;     // Resource Type, uint of 0-2 octets
inline constexpr std::uint16_t kOptionRvi = 271;    // Release Version Indicator, string 1-2
inline constexpr std::uint16_t kOptionAsri = 275;   // Authorization Signature Request Information, 0-255
inline constexpr std::uint16_t kOptionFr = 279;     // From, string 0-255
inline constexpr std::uint16_t kOptionRqi = 283;    // Request Identifier, string 0-255
inline constexpr std::uint16_t kOptionRqet = 291;   // Request Expiration Timestamp, string of 15
inline constexpr std::uint16_t kOptionRset = 295;   // Result Expiration Timestamp, string of 15
inline constexpr std::uint16_t kOptionOet = 299;    // Operation Execution Time, string of 15
inline constexpr std::uint16_t kOptionEc = 303;     // Event Category, uint of 0-1 octet
inline constexpr std::uint16_t kOptionRsc = 307;    // Response Status Code, uint of 0-2 octets
inline constexpr std::uint16_t kOptionGid = 311;    // Group Request Identifier, string 0-255
inline constexpr std::uint16_t kOptionCto = 319;    // Content Offset, uint of 0-2 octets
inline constexpr std::uint16_t kOptionCts = 323;    // Content Status, uint of 0-2 octets
inline constexpr std::uint16_t kOptionAti = 327;    // Assigned Token Identifiers, string 0-255
inline constexpr std::uint16_t kOptionVsi = 331;    // Vendor Information, string 0-255
inline constexpr std::uint16_t kOptionGtm = 335;    // Group Request Target Members, string 0-512
inline constexpr std::uint16_t kOptionAus = 339;    // Authorization Signatures, string 0-255

//= TS-0008 V3.9.0 §6.2.2.2 (Table 6.2.2.2-1)
//# Content-Format numbers: RFC 7252 §12.3's application/xml, json, cbor and the oneM2M media types.
// The oneM2M numbers are not IANA's (the table's NOTE says they may change on registration; IANA's
// registry has 10000 = application/vnd.ocf+cbor and 10001 = application/oscore): we read them from a peer but
// send only IANA's application/json.
inline constexpr std::uint16_t kFormatXml = 41;
inline constexpr std::uint16_t kFormatJson = 50;
inline constexpr std::uint16_t kFormatCbor = 60;
inline constexpr std::uint16_t kFormatOneM2mResJson = 10001;
inline constexpr std::uint16_t kFormatOneM2mJson = kFormatOneM2mResJson;
inline constexpr std::uint16_t kFormatOneM2mNtfyXml = 10002;
inline constexpr std::uint16_t kFormatOneM2mNtfyJson = 10003;
inline constexpr std::uint16_t kFormatOneM2mPreqXml = 10006;
inline constexpr std::uint16_t kFormatOneM2mPreqJson = 10007;
inline constexpr std::uint16_t kFormatOneM2mPrspXml = 10008;
inline constexpr std::uint16_t kFormatOneM2mPrspJson = 10009;
inline constexpr std::uint16_t kFormatOneM2mResCbor = 10010;
inline constexpr std::uint16_t kFormatOneM2mNtfyCbor = 10011;
inline constexpr std::uint16_t kFormatOneM2mPreqCbor = 10012;
inline constexpr std::uint16_t kFormatOneM2mPrspCbor = 10013;
inline constexpr std::uint16_t kFormatOneM2mResXml = 10014;

// Server side.
// RFC 7252 §5.4.1, §5.4.3, §5.4.5: kUsage naming the first critical option of `request` this binding does not
// recognize: a number that is neither RFC 7252/7959's nor TS-0008's, If-Match and If-None-Match (we keep no
// ETags, so no conditional request can be honoured), a value outside the option's length range, or a second
// occurrence of a non-repeatable option. primitive_handler answers these 4.02 (Bad Option).
Result<void> check_critical_options(const Message& request);
// Errors are kUsage naming what is wrong; their status is BAD_REQUEST except for a code that is no method we map
// (OPERATION_NOT_ALLOWED: RFC 7252 §5.8 wants 4.05) and an Accept we cannot answer (NOT_ACCEPTABLE, 4.06:
// TS-0008 §6.2.2.2). Refused: what check_critical_options refuses, a missing or empty oneM2M-FR or oneM2M-RQI,
// an empty oneM2M-RVI, oneM2M-TY on something other than POST, a oneM2M option we do not map (RQET, RSET, OET,
// RTURI, EC, GID, GTM, AUS, ASRI, ATI; RSC, CTO, CTS belong to responses), Proxy-Uri/Proxy-Scheme, a payload
// on GET/DELETE or none on POST/PUT, a payload without a JSON Content-Format or not a JSON object, a bad
// Uri-Path (none, an empty, "." or ".." segment, "~" or "_" first) or Uri-Query.
Result<onem2m::Request> to_request_primitive(const Message& request);
// The code of onem2m::coap_code, oneM2M-RSC, oneM2M-RQI (when not empty), the content as a JSON payload with
// Content-Format 50, and for a 2001 whose content holds the URI of the created resource ("m2m:uri" or
// "m2m:rce"/"uri"), that URI in Location-Path options ("~" or "_" first for an SP-relative or absolute one).
Message from_response_primitive(const onem2m::Response& response);

// A coap::Handler that translates, calls `handler`, and translates back. A refused request is answered with the
// code of the refusal's status (4.00, 4.05, 4.06) and the oneM2M-RQI it carried, if any, and {"m2m:dbg": why},
// without calling `handler`; an unrecognized critical option is answered 4.02 (Bad Option), Proxy-Uri or
// Proxy-Scheme 5.05 (Proxying Not Supported), both with oneM2M-RSC 4000 (a CoAP layer refusal: no row of
// Table 6.2.4-1 says otherwise). A handler that throws is answered 5.00 with 5000. The response always carries
// the request's oneM2M-RQI, and its oneM2M-RVI when the request had one; a NOTIFY's 2000 is 2.04 with no
// payload (TS-0008 §6.2.4, §6.3.2 step 4); an Accept of 10001 is honoured in the response's Content-Format.
using PrimitiveHandler = std::function<onem2m::Response(const onem2m::Request&, const Connection&)>;
Handler primitive_handler(PrimitiveHandler handler);

// Client side: code, Uri-Path, Uri-Query, Content-Format, Accept (50), the oneM2M options and the payload; the
// type, message ID and token are the client layer's. kUsage for what cannot be sent: a target that is not
// CSE-relative or has an empty, "." or ".." segment, an empty request identifier, ty without CREATE or CREATE
// without ty, a ty over 65535 (a 2-octet option), an option over its length (fr, rqi 255; rvi 1-2), a token that
// is not a compact JWS/JWE, a list value that is empty or holds '+', content on RETRIEVE/DELETE or none on
// CREATE/UPDATE/NOTIFY.
Result<Message> to_coap_request(const onem2m::Request& request);
// Refuses (kProtocol) a code that is not a response (2.xx, 4.xx, 5.xx), a response without oneM2M-RSC or with
// an unknown code, with a oneM2M-RQI other than `expected_rqi`, with a critical option we do not recognize
// (RFC 7252 §5.4.1), with a non-JSON Content-Format, or whose payload is not a JSON object.
Result<onem2m::Response> from_coap_response(const Message& response, std::string_view expected_rqi);

}  // namespace m2msec::coap

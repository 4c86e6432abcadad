// EST over secure CoAP (EST-coaps, RFC 9148) in front of the EST service: a CoAP request for one of the short
// paths under /.well-known/est is turned into the RFC 7030 request the Service answers (binary DER <-> the
// base64 bodies of EST over HTTPS), so that who may obtain what is decided in one place (Service::handle), and
// the answer comes back with the CoAP response code and Content-Format of RFC 9148 §4.3-§4.5.
//
//   GET  /.well-known/est/crts  -> /cacerts         2.05, 281 (or 287 with Accept: 287 and a one-certificate chain)
//   GET  /.well-known/est/att   -> /csrattrs        2.05, 285
//   POST /.well-known/est/sen   -> /simpleenroll    286 in, 2.04, 281 (or 287 with Accept: 287)
//   POST /.well-known/est/sren  -> /simplereenroll  286 in, 2.04, 281 (or 287 with Accept: 287)
//   /skg, /skc (server-side key generation, OPTIONAL in RFC 9148 §4.2): 4.04, the Service generates no keys.
//   GET  /.well-known/core      RFC 6690 link-format (40) of the four functions, filtered by Uri-Query (rt=ace.est*).
//
// Every EST function needs an authenticated client (RFC 9148 §4), /crts and /att included: 4.01 without one.
// Which credentials authenticate is the DTLS context's business: RFC 9148 §3 asks for a client certificate; the
// PSK (KpmID/Kpm) association of TS-0003 8.3.6.2.2 PPSK RSPF is served the same way as over HTTPS when the
// listener's context offers ts0003-dtls12-psk (a oneM2M deviation from RFC 9148 §3, as RFC 7030 3.3.3 is over
// HTTPS). Arbitrary CA labels are not used (4.04). The 5.03 + Max-Age of a delayed enrolment (§4.7) follows a
// 503 with Retry-After from the Service, which never answers so today.
#pragma once

#include <cstdint>
#include <memory>

#include "m2msec/coap/message.h"
#include "m2msec/coap/server.h"
#include "m2msec/est/server.h"

namespace m2msec::est {

// CoAP Content-Format identifiers (RFC 9148 §8.1, RFC 6690 §7.2).
inline constexpr std::uint16_t kFormatLinkFormat = 40;   // application/link-format
inline constexpr std::uint16_t kFormatCertsOnly = 281;   // application/pkcs7-mime; smime-type=certs-only
inline constexpr std::uint16_t kFormatCsrAttrs = 285;    // application/csrattrs
inline constexpr std::uint16_t kFormatPkcs10 = 286;      // application/pkcs10
inline constexpr std::uint16_t kFormatPkixCert = 287;    // application/pkix-cert

// Answers one EST-coaps request (the whole payload, as coap::Server hands it over); never throws. The response
// carries code, options and payload only (the server sets type, message ID and token). Errors carry a one-line
// diagnostic payload without Content-Format (RFC 7252 §5.5.2).
coap::Message handle_coaps(const Service& service, const coap::Message& request, const coap::Connection& connection);

// The same as a coap::Handler for coap::Server.
coap::Handler coaps_handler(std::shared_ptr<const Service> service);

}  // namespace m2msec::est

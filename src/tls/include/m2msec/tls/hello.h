// The pieces of hello messages that m2msec reads itself (and fuzzes), rather than trusting a TLS
// library's view: the server_name extension (RFC 6066 clause 3) a server selects its credentials by
// (TS-0003 V3.18.0 clause 10.2.1), and the extension list of a ServerHello (a client checks the extended
// master secret, RFC 7627, before it sends its Finished).
#pragma once

#include <cstdint>
#include <vector>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/keys/identifiers.h"

namespace m2msec::tls {

// A HostName as RFC 6066 clause 3 allows it: a DNS name whose last label is not all digits (so not an
// IPv4 literal; IPv6 literals fail the DNS syntax). Fails with kUsage.
Result<keys::Fqdn> parse_host_name(std::string_view text);

// extension_data = ServerNameList: a 2-octet length, then entries {u8 name_type, u16-prefixed name}.
// Accepts exactly one host_name (type 0) entry holding a DNS host name (RFC 6066: no IP literal, no
// trailing dot); anything else (no entry, two host_name entries, an unknown type, trailing octets, a
// name that is not a DNS name) fails with Category::kProtocol and alert decode_error (50) or
// illegal_parameter (47).
Result<keys::Fqdn> parse_server_name_extension(ByteView extension_data);

// The extension types of a TLS 1.2 / DTLS 1.2 ServerHello body (RFC 5246 7.4.1.3; the message after
// its 4-octet TLS or 12-octet DTLS handshake header), in order. Fails with kProtocol / decode_error (50) on
// malformed input, trailing octets or a repeated extension type.
Result<std::vector<std::uint16_t>> parse_server_hello_extensions(ByteView body);

}  // namespace m2msec::tls

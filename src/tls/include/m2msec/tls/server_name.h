// The server_name extension of a ClientHello (RFC 6066 clause 3), as a server reads it to choose its
// credentials (TS-0003 V3.18.0 clause 10.2.1). Ours, not the TLS library's, so that it is fuzzed.
#pragma once

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

}  // namespace m2msec::tls

// What EST bodies look like on the wire (RFC 7030 4.1.3, 4.2.3, 4.5.2): base64 with
// Content-Transfer-Encoding, as RFC 2045 writes it.
#pragma once

#include <string>
#include <string_view>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"

namespace m2msec::est {

// A base64 body in lines of 64 characters (RFC 2045 allows at most 76), and its decoding, which ignores
// line breaks and white space (Category::kProtocol when the rest is not base64).
std::string mime_base64(ByteView der);
Result<Bytes> mime_base64_decode(std::string_view body);

}  // namespace m2msec::est

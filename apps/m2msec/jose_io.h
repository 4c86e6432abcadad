// Input and output shared by the JOSE-based commands (jose, esdata, token): keys from JWK files, the
// object or payload from stdin, the result on stdout.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/jose/jwk.h"

namespace m2msec::cli {

// Every key of a file holding a JWK or a JWK Set.
Result<std::vector<jose::Jwk>> read_keys(std::string_view path);

// All of stdin, refused above jose::kMaxObjectSize (the same bound the parsers apply).
Result<std::string> read_stdin();

// stdin as a JOSE object: surrounding whitespace (a trailing newline) removed.
Result<std::string> read_object();

// Writes octets to stdout as they are (a payload), or text followed by a newline (an object).
void write_payload(ByteView payload);
void write_object(std::string_view text);

}  // namespace m2msec::cli

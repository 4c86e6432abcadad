// Text encodings of octet strings. Decoders are strict: anything that is not the canonical encoding
// is refused with a Category::kUsage error (RSC BAD_REQUEST), never silently repaired.
#pragma once

#include <string>
#include <string_view>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"

namespace m2msec {

enum class HexCase { kLower, kUpper };

// Base16 (RFC 4648 clause 8).
std::string hex_encode(ByteView bytes, HexCase letter_case = HexCase::kLower);
// Accepts both letter cases; refuses odd lengths and non-hex characters (no spaces, no "0x").
Result<Bytes> hex_decode(std::string_view text);
Result<SecretBytes> hex_decode_secret(std::string_view text);

// base64url (RFC 4648 clause 5) without padding, as JOSE uses it (RFC 7515 clause 2).
std::string base64url_encode(ByteView bytes);
// Refuses padding, characters outside the URL-safe alphabet, impossible lengths (4n+1) and
// non-canonical final characters (unused bits that are not zero, RFC 4648 clause 3.5).
Result<Bytes> base64url_decode(std::string_view text);

// base64 (RFC 4648 clause 4) with padding, as MIME bodies (EST, RFC 7030) and PEM use it. The decoder is
// as strict as base64url_decode and also wants the padding; strip line breaks before calling it.
std::string base64_encode(ByteView bytes);
Result<Bytes> base64_decode(std::string_view text);

}  // namespace m2msec

// Helpers shared by the JWK, JWS and JWE code: typed member access with one error style, and the header
// checks RFC 7515/7516 apply to every serialization.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/core/text.h"
#include "m2msec/jose/algorithms.h"
#include "m2msec/json/json.h"

namespace m2msec::jose::internal {

Error malformed(std::string_view what);

// The object of a JSON value, or a kUsage error naming `what`.
Result<const json::Object*> as_object(const json::Value& value, std::string_view what);
// A string member: nullopt when absent, an error when present but not a string.
Result<std::optional<std::string>> optional_string(const json::Object& object, std::string_view name);
Result<std::string> required_string(const json::Object& object, std::string_view name);
// A base64url member (RFC 7515 clause 2), strictly decoded.
Result<std::optional<Bytes>> optional_b64(const json::Object& object, std::string_view name);
Result<Bytes> required_b64(const json::Object& object, std::string_view name);

// BASE64URL(UTF8(header)) -> the header object.
Result<json::Object> decode_header(std::string_view b64);
std::string encode_header(const json::Object& header);

// The first of the objects that has `name` as a string member (headers are disjoint, so at most one has it).
Result<std::optional<std::string>> header_string(std::initializer_list<const json::Object*> headers,
                                                std::string_view name);

// RFC 7515 clause 7.2.1 / RFC 7516 clause 7.2.1: the header parameter names must be disjoint.
Result<void> check_disjoint(std::initializer_list<const json::Object*> headers);
// RFC 7515 clause 4.1.11: "crit" only in the protected header, a non-empty array of distinct names, none of
// them defined by the JOSE specifications, each understood by the caller. "zip" is refused: compression is
// not permitted (TS-0003 8.5.3) and invites compression oracles.
Result<void> check_crit_and_zip(const json::Object& protected_header,
                                std::initializer_list<const json::Object*> unprotected,
                                const AlgorithmPolicy& policy);

// The public JWK members of an EC key, {"kty":"EC","crv":..,"x":..,"y":..}, from its point 04 || x || y.
json::Object ec_public_jwk(std::string_view crv, ByteView point);

// Joins parts with '.' into one string sized once (the compact serializations, the JWS signing input).
std::string dotted(std::initializer_list<std::string_view> parts);

// Refuses input above kMaxObjectSize and input that is neither compact nor a JSON object.
Result<void> check_size(std::string_view text);

}  // namespace m2msec::jose::internal

// Helpers shared by the ESPrim sources: the error of each TS-0004 Table 7.6.2-1 case, NCName checks and
// the raw-text reader that keeps a nested JSON value's octets.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "m2msec/core/error.h"
#include "m2msec/core/result.h"
#include "m2msec/core/text.h"

namespace m2msec::e2e::internal {

// kUsage / BAD_REQUEST with an "ESPrim: " prefix.
Error malformed(std::string_view what);
// An error with the given ESPrim code (TS-0004 Table 7.6.2-1) and a category that fits it.
Error esprim_error(Rsc rsc, std::string_view what);

// xs:NCName restricted to ASCII: a letter or '_', then letters, digits, '.', '-', '_'; 1-255 characters.
bool is_ascii_ncname(std::string_view text);

// The text without JSON whitespace (RFC 8259 clause 2) at either end.
std::string_view trim_json_whitespace(std::string_view text);

// The exact text of the value of member `name` of the JSON object `object_text` (nullopt when there is no
// such member). Member names are compared after unescaping. Meant for text json::parse has accepted; on
// anything else it fails with kUsage, never reads out of bounds.
Result<std::optional<std::string_view>> raw_member(std::string_view object_text, std::string_view name);

}  // namespace m2msec::e2e::internal

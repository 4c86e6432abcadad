// The three JOSE serializations (RFC 7515 clause 7, RFC 7516 clause 7), and the size limit every
// parser applies before it decodes anything.
#pragma once

#include <cstddef>
#include <string_view>

#include "m2msec/core/result.h"

namespace m2msec::jose {

enum class Serialization { kCompact, kFlattened, kGeneral };

// "compact", "flattened", "general".
Result<Serialization> serialization_named(std::string_view name);

// Whether a "typ" or "cty" header value names `type` (given in lower case without "application/", e.g.
// "jwt", "jose+json"): RFC 7515 clauses 4.1.9 and 4.1.10 compare case-insensitively and let the
// "application/" prefix be left out.
bool is_media_type(std::string_view header_value, std::string_view type);

// Objects larger than this are refused before parsing (kUsage, RSC BAD_REQUEST): 16 MiB, above any
// oneM2M content a CSE accepts.
inline constexpr std::size_t kMaxObjectSize = std::size_t{16} << 20;

}  // namespace m2msec::jose

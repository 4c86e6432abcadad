// UTF-8 + Unicode NFKC normalisation, as TS-0003 V3.18.0 requires for MAF-ID (10.3.2),
// Enrolee-B-ID (10.3.3), Source ESF End-Point B's ID (10.3.6) and Enrolment-Target-ID (10.3.7).
#pragma once

#include <string>
#include <string_view>

#include "m2msec/core/result.h"

namespace m2msec::keys {

// Refuses ill-formed UTF-8 (RFC 3629: overlongs, surrogates, truncated sequences) and empty text,
// and returns the NFKC form (ICU).
Result<std::string> nfkc_utf8(std::string_view text);

}  // namespace m2msec::keys

// The identity of an IBC credential (seed 002 8.3.7.2 step 2): ID_2 = FQDN@hexBinary(ID)@expirationTime, the FQDN
// of the MEF that issued it, the octets of the CSE-ID or AE-ID it is for, and when it expires (m2m:timestamp,
// YYYYMMDDTHHMMSS, UTC). The string is what ECCSI signs under and SAKKE encapsulates to.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"

namespace m2msec::ibc {

struct IbcIdentity {
  std::string fqdn;  // lower case
  Bytes id;          // not empty
  std::chrono::sys_seconds expires{};

  // Three '@'-separated parts: an FQDN (RFC 1123 labels), hex digits of either case (an even, non-zero count) and
  // a timestamp; anything else is kUsage.
  static Result<IbcIdentity> parse(std::string_view text);
  // hexBinary in lower case (the seed writes no case; parse accepts both).
  Result<std::string> format() const;
};

}  // namespace m2msec::ibc

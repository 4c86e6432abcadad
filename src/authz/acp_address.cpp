// accessControlIpAddresses (TS-0003 V3.18.0 7.1.3 Table 7.1.3-3; TS-0004 m2m:ipv4 / m2m:ipv6): addresses and
// CIDR prefixes, compared with rq_ip.
#include <arpa/inet.h>

#include <algorithm>

#include "acp_internal.h"
#include "m2msec/core/text.h"

namespace m2msec::authz {

Result<IpAddress> IpAddress::parse(std::string_view text) {
  // inet_pton takes only the plain forms: dotted decimal with four parts (no leading zeros, no shorthand) and
  // RFC 4291 text; no prefix, no zone index, no surrounding space.
  const std::string copy(text);
  IpAddress address;
  if (copy.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, copy.c_str(), address.octets.data()) == 1) return address;
  } else if (inet_pton(AF_INET6, copy.c_str(), address.octets.data()) == 1) {
    address.v6 = true;
    return address;
  }
  return Error::usage("'" + copy + "' is not an IPv4 or IPv6 address");
}

namespace acp_detail {

Result<Prefix> parse_prefix(std::string_view text, bool v6) {
  const auto slash = text.find('/');
  Prefix prefix;
  auto base = IpAddress::parse(text.substr(0, slash));
  if (!base || base->v6 != v6) {
    return Error::usage(concat({"'", text, "' is not an ", v6 ? "IPv6" : "IPv4", " address or prefix"}));
  }
  prefix.base = *base;
  const unsigned bits = v6 ? 128 : 32;
  prefix.length = bits;
  if (slash != std::string_view::npos) {
    // The suffix: decimal, no sign, no leading zero, at most the address size (RFC 4632 3.1).
    const std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0')) {
      return Error::usage(concat({"'", text, "' has a malformed prefix length"}));
    }
    unsigned length = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return Error::usage(concat({"'", text, "' has a malformed prefix length"}));
      length = length * 10 + static_cast<unsigned>(c - '0');
    }
    if (length > bits) return Error::usage(concat({"'", text, "' has a prefix length beyond the address"}));
    prefix.length = length;
  }
  // A prefix with bits set beyond its length is refused rather than silently truncated: it usually means a
  // mistyped address or length, and whichever the author meant, guessing would grant the wrong hosts.
  IpAddress masked = prefix.base;
  for (unsigned i = prefix.length; i < bits; ++i) masked.octets[i / 8] &= static_cast<std::uint8_t>(~(0x80u >> (i % 8)));
  if (masked.octets != prefix.base.octets) {
    return Error::usage(concat({"'", text, "' has address bits set beyond its prefix length"}));
  }
  return prefix;
}

bool Prefix::contains(const IpAddress& address) const {
  if (address.v6 != base.v6) return false;
  const unsigned whole = length / 8;
  if (!std::equal(base.octets.begin(), base.octets.begin() + whole, address.octets.begin())) return false;
  const unsigned rest = length % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff00u >> rest);
  return (address.octets[whole] & mask) == base.octets[whole];
}

}  // namespace acp_detail
}  // namespace m2msec::authz

// Pieces of the access-control engine (acp.h) shared between its source files: address prefixes, regions and
// the originator wildcard. Not part of the public interface.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "m2msec/authz/acp.h"

namespace m2msec::authz::acp_detail {

// An m2m:ipv4 / m2m:ipv6 entry of acip: an address with an optional CIDR suffix (RFC 4632; none = the host
// alone, /32 or /128). Bits beyond the prefix must be zero.
struct Prefix {
  IpAddress base;
  unsigned length = 0;
  bool contains(const IpAddress& address) const;
};
Result<Prefix> parse_prefix(std::string_view text, bool v6);

// An m2m:circRegion: centre in degrees, radius in metres.
struct Circle {
  double latitude = 0;
  double longitude = 0;
  double radius = 0;
};
// The great-circle distance in metres between two points (degrees) on a sphere of radius 6371008.8 m (the
// IUGG mean Earth radius), by the haversine formula.
double great_circle_metres(double lat1, double lon1, double lat2, double lon2);

// An acor CSE-ID/AE-ID pattern against an ID: '*' stands for any run (possibly empty) of characters other
// than '/' (TS-0003 V3.18.0 7.1.3: "The scope of a "*" is terminated by a following "/" character"); every
// other character, '.', '[', '+', '?' and '\' included, stands for itself.
bool wildcard_match(std::string_view pattern, std::string_view id);

}  // namespace m2msec::authz::acp_detail

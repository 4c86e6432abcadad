// accessControlLocationRegion (TS-0003 V3.18.0 7.1.3 Table 7.1.3-3, Annex F; TS-0004 m2m:locationRegion):
// ISO 3166-1 alpha-2 country codes and circular regions, compared with rq_loc.
#include <algorithm>
#include <cmath>

#include "acp_internal.h"

namespace m2msec::authz {
namespace {

// The officially assigned ISO 3166-1 alpha-2 codes (249), sorted. Exceptionally reserved (e.g. EU, UK, IC),
// transitionally reserved and withdrawn codes are not country codes here.
constexpr std::array<std::string_view, 249> kAssigned{
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB",
    "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY",
    "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX",
    "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK",
    "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS",
    "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR",
    "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA",
    "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE",
    "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
    "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG",
    "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF",
    "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY",
    "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW"};
static_assert(std::is_sorted(kAssigned.begin(), kAssigned.end()));

constexpr double kEarthRadiusMetres = 6371008.8;  // IUGG mean radius R1
constexpr double kPi = 3.14159265358979323846;

}  // namespace

bool is_country_code(std::string_view code) {
  if (code.size() != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z') return false;
  // User-assigned code elements (ISO 3166-1 clause 8.1.3): AA, QM-QZ, XA-XZ, ZZ.
  if (code == "AA" || code == "ZZ" || (code[0] == 'Q' && code[1] >= 'M') || code[0] == 'X') return true;
  return std::binary_search(kAssigned.begin(), kAssigned.end(), code);
}

namespace acp_detail {

double great_circle_metres(double lat1, double lon1, double lat2, double lon2) {
  const double to_rad = kPi / 180.0;
  const double sin_dlat = std::sin((lat2 - lat1) * to_rad / 2);
  const double sin_dlon = std::sin((lon2 - lon1) * to_rad / 2);
  const double a = sin_dlat * sin_dlat + std::cos(lat1 * to_rad) * std::cos(lat2 * to_rad) * sin_dlon * sin_dlon;
  return 2 * kEarthRadiusMetres * std::asin(std::min(1.0, std::sqrt(a)));
}

}  // namespace acp_detail
}  // namespace m2msec::authz

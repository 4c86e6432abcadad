#include "m2msec/ibc/identity.h"

#include "m2msec/core/encoding.h"
#include "m2msec/core/text.h"
#include "m2msec/core/timestamp.h"
#include "m2msec/keys/identifiers.h"

namespace m2msec::ibc {

Result<IbcIdentity> IbcIdentity::parse(std::string_view text) {
  const auto first = text.find('@');
  const auto second = first == std::string_view::npos ? first : text.find('@', first + 1);
  if (second == std::string_view::npos || text.find('@', second + 1) != std::string_view::npos) {
    return Error::usage(concat({"'", text, "' is not FQDN@hexBinary(ID)@expirationTime"}));
  }
  IbcIdentity out;
  M2MSEC_ASSIGN_OR_RETURN(const keys::Fqdn fqdn, keys::Fqdn::parse(text.substr(0, first)));
  out.fqdn = fqdn.text();
  const std::string_view hex = text.substr(first + 1, second - first - 1);
  if (hex.empty()) return Error::usage("the ID of an ID_2 is empty");
  M2MSEC_ASSIGN_OR_RETURN(out.id, hex_decode(hex));
  M2MSEC_ASSIGN_OR_RETURN(out.expires, parse_m2m_timestamp(text.substr(second + 1)));
  return out;
}

Result<std::string> IbcIdentity::format() const {
  M2MSEC_ASSIGN_OR_RETURN(const keys::Fqdn checked, keys::Fqdn::parse(fqdn));
  if (id.empty()) return Error::usage("an ID_2 needs a non-empty ID");
  M2MSEC_ASSIGN_OR_RETURN(const std::string expiration, format_m2m_timestamp(expires));
  return concat({checked.text(), "@", hex_encode(id), "@", expiration});
}

}  // namespace m2msec::ibc

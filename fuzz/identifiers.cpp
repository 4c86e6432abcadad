// Fuzz target: the TS-0003 identifier parsers (Fqdn, KeID, Key Identifier, KmID, KpsaID, Credential-ID).
// Property: whatever is accepted formats back to a text that parses to an equal value, and formatting a
// canonical value is stable.
#include <cstdint>
#include <string_view>

#include "m2msec/keys/identifiers.h"

namespace {
template <typename T>
void round_trip(std::string_view text) {
  auto parsed = T::parse(text);
  if (!parsed) return;
  const std::string formatted = parsed->to_string();
  auto again = T::parse(formatted);
  if (!again || !(*again == *parsed) || again->to_string() != formatted) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto fqdn = m2msec::keys::Fqdn::parse(text)) {
    auto again = m2msec::keys::Fqdn::parse(fqdn->text());
    if (!again || !(*again == *fqdn)) __builtin_trap();
  }
  round_trip<m2msec::keys::KeId>(text);
  round_trip<m2msec::keys::KeyIdentifier>(text);
  round_trip<m2msec::keys::KmId>(text);
  round_trip<m2msec::keys::KpsaId>(text);
  round_trip<m2msec::keys::CredentialId>(text);
  return 0;
}

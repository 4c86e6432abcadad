// Fuzz target: the TS-0003 identifier parsers (Fqdn, KeID, Key Identifier, KmID, KpsaID, Credential-ID).
// Properties: whatever is accepted formats back to a text that parses to an equal value and formats the
// same again, and the formatted text is the input in canonical form: FQDNs in lower case, the KeID's
// RelativeKeID in upper-case hex, every other part exactly as given.
#include <cstdint>
#include <string>
#include <string_view>

#include "m2msec/keys/identifiers.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

std::string with_case(std::string_view text, bool upper) {
  std::string out(text);
  for (char& c : out) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// "<relative>@<fqdn>" with the FQDN lower-cased (and the relative part upper-cased for a KeID).
std::string canonical_scoped(std::string_view text, bool upper_relative) {
  const auto at = text.find('@');
  const std::string_view relative = text.substr(0, at);
  return (upper_relative ? with_case(relative, true) : std::string(relative)) + "@" +
         with_case(text.substr(at + 1), false);
}

template <typename T>
void round_trip(std::string_view text, const std::string& canonical) {
  auto parsed = T::parse(text);
  if (!parsed) return;
  const std::string formatted = parsed->to_string();
  check(formatted == canonical);
  auto again = T::parse(formatted);
  check(again && *again == *parsed && again->to_string() == formatted);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto fqdn = m2msec::keys::Fqdn::parse(text)) {
    check(fqdn->text() == with_case(text, false));
    auto again = m2msec::keys::Fqdn::parse(fqdn->text());
    check(again && *again == *fqdn && again->text() == fqdn->text());
  }
  if (text.find('@') != std::string_view::npos) {
    round_trip<m2msec::keys::KeId>(text, canonical_scoped(text, true));
    round_trip<m2msec::keys::KeyIdentifier>(text, canonical_scoped(text, false));
    round_trip<m2msec::keys::KmId>(text, canonical_scoped(text, false));
    round_trip<m2msec::keys::KpsaId>(text, canonical_scoped(text, false));
  } else {
    // Every scoped identifier needs its '@'.
    check(!m2msec::keys::KeId::parse(text) && !m2msec::keys::KeyIdentifier::parse(text) &&
          !m2msec::keys::KmId::parse(text) && !m2msec::keys::KpsaId::parse(text));
  }
  // The type-ID is a canonical decimal and the value is kept as given, so the text is already canonical.
  round_trip<m2msec::keys::CredentialId>(text, std::string(text));
  return 0;
}

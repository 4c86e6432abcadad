// Fuzz target: tls::canonical_psk_identity for every PskIdentityKind, and InMemoryPskResolver.
// Properties, for each kind:
//   - a canonical form canonicalizes to itself (idempotent), and a refusal is a kAuth error;
//   - whatever is accepted is accepted by InMemoryPskResolver::add, found again by resolve() under both
//     the input and its canonical form, and bound (no configured identity) to the Credential-ID
//     "<type>-<canonical form>" of the kind's type; whatever is refused is refused by add() and resolve();
// and across kinds (same syntax "<relative>@<FQDN>"): KpsaID and Key Identifier accept the same texts
// with the same canonical form, a KmID's canonical form is the lower-case of that, and every accepted
// KpsaID of at most 128 octets is also a valid KpmID, kept exactly as given.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "m2msec/core/secret.h"
#include "m2msec/keys/identifiers.h"
#include "m2msec/tls/credentials.h"

namespace {

namespace tls = m2msec::tls;
using tls::PskIdentityKind;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

std::string lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

unsigned credential_type(PskIdentityKind kind) {
  switch (kind) {
    case PskIdentityKind::kKpsaId:
    case PskIdentityKind::kKeyIdentifier: return 12;
    case PskIdentityKind::kKpmId: return 10;
    case PskIdentityKind::kKmId: return 11;
  }
  return 0;
}

// The canonical form of text for kind, or nothing; checks the per-kind properties.
std::optional<std::string> canonical(PskIdentityKind kind, std::string_view text) {
  // The kind's name round-trips (the CLI and config name kinds by it).
  check(tls::psk_identity_kind_named(tls::psk_identity_kind_name(kind)) == kind);

  auto result = tls::canonical_psk_identity(kind, text);
  tls::InMemoryPskResolver resolver(kind);
  if (!result) {
    check(result.error().category() == m2msec::Category::kAuth);
    check(!resolver.add(text, m2msec::SecretBytes::copy_of(m2msec::Bytes{0x01})));
    check(!resolver.resolve(text));
    return std::nullopt;
  }
  const std::string& form = *result;
  auto again = tls::canonical_psk_identity(kind, form);
  check(again && *again == form);

  check(resolver.add(form, m2msec::SecretBytes::copy_of(m2msec::Bytes{0x2a})).has_value());
  for (const std::string_view lookup : {text, std::string_view(form)}) {
    auto found = resolver.resolve(lookup);
    check(found && found->key.size() == 1 && found->key.view()[0] == 0x2a);
    check(found->bound_identity == std::to_string(credential_type(kind)) + "-" + form);
    auto credential_id = m2msec::keys::CredentialId::parse(found->bound_identity);
    check(credential_id && credential_id->value() == form);
  }
  // Adding under the (possibly non-canonical) input replaces that same entry.
  check(resolver.add(text, m2msec::SecretBytes::copy_of(m2msec::Bytes{0x2b}), "bound").has_value());
  auto replaced = resolver.resolve(form);
  check(replaced && replaced->key.view()[0] == 0x2b && replaced->bound_identity == "bound");
  return form;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto kpsa = canonical(PskIdentityKind::kKpsaId, text);
  const auto maf = canonical(PskIdentityKind::kKeyIdentifier, text);
  const auto kpm = canonical(PskIdentityKind::kKpmId, text);
  const auto km = canonical(PskIdentityKind::kKmId, text);

  check(kpsa == maf);
  check(km.has_value() == kpsa.has_value());
  if (kpsa) {
    check(*km == lower(*kpsa));
    if (text.size() <= 128) check(kpm == std::string(text));
  }
  // A KpmID is a Credential-ID value: kept exactly as given.
  if (kpm) check(*kpm == text);
  return 0;
}

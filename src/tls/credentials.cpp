// psk_identity syntax per handshake, the in-memory resolver and own-certificate loading.
#include "m2msec/tls/credentials.h"

#include <algorithm>
#include <cctype>
#include <array>

#include "m2msec/keys/identifiers.h"

namespace m2msec::tls {
namespace {

struct KindRow {
  PskIdentityKind kind;
  std::string_view name;
  keys::CredIdType cred_type;
};
constexpr std::array kKinds{
    KindRow{PskIdentityKind::kKpsaId, "kpsa", keys::CredIdType::kSaefSymmetricKey},
    KindRow{PskIdentityKind::kKeyIdentifier, "maf", keys::CredIdType::kSaefSymmetricKey},
    KindRow{PskIdentityKind::kKpmId, "kpm", keys::CredIdType::kMefSymmetricKey},
    KindRow{PskIdentityKind::kKmId, "km", keys::CredIdType::kMafSymmetricKey},
};

const KindRow& row(PskIdentityKind kind) {
  return *std::find_if(kKinds.begin(), kKinds.end(), [kind](const KindRow& r) { return r.kind == kind; });
}

// KpmID has no syntax in TS-0003 V3.18.0 (gap, docs/conformance.md). It names a credential of
// Credential-ID type 10 (Table 12.3.2.1-1), so we accept exactly what a Credential-ID value may hold.
constexpr std::size_t kMaxKpmIdLength = 128;

Result<std::string> canonical_kpm_id(std::string_view text) {
  if (text.empty() || text.size() > kMaxKpmIdLength) return Error::usage("KpmID length out of range");
  M2MSEC_ASSIGN_OR_RETURN(const keys::CredentialId id,
                          keys::CredentialId::make(keys::CredIdType::kMefSymmetricKey, text));
  return id.value();
}

template <typename Id>
Result<std::string> canonical_of(std::string_view text) {
  M2MSEC_ASSIGN_OR_RETURN(const Id id, Id::parse(text));
  return id.to_string();
}

Result<std::string> canonical_form(PskIdentityKind kind, std::string_view text) {
  switch (kind) {
    case PskIdentityKind::kKpsaId: return canonical_of<keys::KpsaId>(text);
    case PskIdentityKind::kKeyIdentifier: return canonical_of<keys::KeyIdentifier>(text);
    case PskIdentityKind::kKpmId: return canonical_kpm_id(text);
    case PskIdentityKind::kKmId: {
      // 10.6: the relative part of a KmID is not case-sensitive; one canonical spelling for lookups.
      M2MSEC_ASSIGN_OR_RETURN(std::string canonical, canonical_of<keys::KmId>(text));
      std::transform(canonical.begin(), canonical.end(), canonical.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return canonical;
    }
  }
  return Error::usage("unknown psk identity kind");
}

}  // namespace

std::string_view psk_identity_kind_name(PskIdentityKind kind) { return row(kind).name; }

std::optional<PskIdentityKind> psk_identity_kind_named(std::string_view name) {
  for (const KindRow& r : kKinds) {
    if (r.name == name) return r.kind;
  }
  return std::nullopt;
}

Result<std::string> canonical_psk_identity(PskIdentityKind kind, std::string_view text) {
  auto canonical = canonical_form(kind, text);
  // A psk_identity comes from the peer: a malformed one is an authentication failure like any other.
  if (!canonical) return Error(Category::kAuth, canonical.error().detail());
  return canonical;
}

Result<void> InMemoryPskResolver::add(std::string_view psk_identity, SecretBytes key, std::string bound_identity) {
  auto canonical = canonical_psk_identity(m_kind, psk_identity);
  if (!canonical) return Error::usage("bad " + std::string(psk_identity_kind_name(m_kind)) + " psk_identity: " +
                                      canonical.error().detail());
  if (key.empty()) return Error::usage("empty PSK");
  if (bound_identity.empty()) {
    //= TS-0003 V3.18.0 §8.2.2.1
    //# Without a configured CSE-ID/AE-ID, B binds the association to the Credential-ID of the identity.
    M2MSEC_ASSIGN_OR_RETURN(const keys::CredentialId cred, keys::CredentialId::make(row(m_kind).cred_type, *canonical));
    bound_identity = cred.to_string();
  }
  const std::lock_guard lock(m_mutex);
  m_entries.insert_or_assign(std::move(*canonical), PskCredential{std::move(key), std::move(bound_identity)});
  return {};
}

std::optional<PskCredential> InMemoryPskResolver::resolve(std::string_view psk_identity) const {
  auto canonical = canonical_psk_identity(m_kind, psk_identity);
  if (!canonical) return std::nullopt;
  const std::lock_guard lock(m_mutex);
  const auto it = m_entries.find(*canonical);
  if (it == m_entries.end()) return std::nullopt;
  return PskCredential{it->second.key.clone(), it->second.bound_identity};
}

Result<CertificateCredential> CertificateCredential::load(const std::string& chain_pem, const std::string& key_pem) {
  M2MSEC_ASSIGN_OR_RETURN(std::vector<pki::Certificate> chain, pki::Certificate::load_pem_file(chain_pem));
  M2MSEC_ASSIGN_OR_RETURN(pki::PrivateKey key, pki::PrivateKey::load_pem_file(key_pem));
  if (chain.front().spki_der() != key.spki_der()) {
    return Error::usage("the private key in " + key_pem + " does not match the certificate in " + chain_pem);
  }
  return CertificateCredential{std::move(chain), std::move(key)};
}

}  // namespace m2msec::tls

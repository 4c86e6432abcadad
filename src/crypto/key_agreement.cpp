#include "m2msec/crypto/key_agreement.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <array>
#include <string>

#include "internal.h"

namespace m2msec::crypto {
namespace {

struct KeyAgreementRow {
  std::string_view name;
  std::string_view group;  // OpenSSL curve name
  std::size_t field_size;  // octets of a coordinate, and of the shared secret
};

// ECDH (SEC 1 v2 clause 3.3.1) over P-256, P-384 and P-521 (RFC 5903 clauses 3.1-3.3) and brainpoolP256r1
// (RFC 5639 clause 3.4, as RFC 7027 uses it).
constexpr std::array<KeyAgreementRow, 4> kKeyAgreements{{
    {"ecdh-p256", "prime256v1", 32},
    {"ecdh-p384", "secp384r1", 48},
    {"ecdh-p521", "secp521r1", 66},  // RFC 5903 clause 3.3
    {"ecdh-brainpoolp256r1", "brainpoolP256r1", 32},
}};

}  // namespace

Result<KeyAgreement> KeyAgreement::named(std::string_view name) {
  for (std::size_t i = 0; i < kKeyAgreements.size(); ++i) {
    if (kKeyAgreements[i].name == name) return KeyAgreement(i);
  }
  return Error::unsupported("unknown key agreement '" + std::string(name) + "'");
}

std::string_view KeyAgreement::name() const { return kKeyAgreements[m_row].name; }
std::size_t KeyAgreement::shared_secret_size() const { return kKeyAgreements[m_row].field_size; }

Result<PrivateKey> KeyAgreement::generate() const {
  return internal::generate_key("EC", kKeyAgreements[m_row].group);
}

Result<PrivateKey> KeyAgreement::private_key_from_raw(ByteView raw) const {
  const KeyAgreementRow& row = kKeyAgreements[m_row];
  return internal::ec_private_key_from_scalar(row.group, row.field_size, raw);
}

Result<PublicKey> KeyAgreement::public_key_from_raw(ByteView raw) const {
  const KeyAgreementRow& row = kKeyAgreements[m_row];
  return internal::ec_public_key_from_point(row.group, row.field_size, raw);
}

Result<SecretBytes> derive_shared_secret(const KeyAgreement& scheme, const PrivateKey& mine, const PublicKey& peer) {
  const KeyAgreementRow& row = kKeyAgreements[scheme.m_row];
  if (!internal::is_ec_key_on(mine.evp(), row.group)) {
    return Error::usage("own key is not on the curve of '" + std::string(row.name) + "'");
  }
  if (!internal::is_ec_key_on(peer.evp(), row.group)) {
    return Error::usage("peer key is not on the curve of '" + std::string(row.name) + "'");
  }
  internal::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, internal::mut(mine.evp()), nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1) return internal::openssl_error("EVP_PKEY_derive_init");
  // validate_peer = 1: OpenSSL runs the public key check on the peer's point (SEC 1 v2 clause 3.2.2.1).
  if (EVP_PKEY_derive_set_peer_ex(ctx.get(), internal::mut(peer.evp()), 1) != 1) {
    ERR_clear_error();
    return Error::usage("peer public key is not a valid point of the curve");
  }
  SecretBytes out(row.field_size);
  std::size_t len = out.size();
  if (EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1 || len != out.size()) {
    return internal::openssl_error("EVP_PKEY_derive");
  }
  return out;
}

std::vector<std::string_view> internal::key_agreement_names() {
  std::vector<std::string_view> out;
  for (const auto& row : kKeyAgreements) out.push_back(row.name);
  return out;
}

}  // namespace m2msec::crypto

#include "m2msec/crypto/key_info.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include <algorithm>

#include "internal.h"

namespace m2msec::crypto {
namespace {

KeyType type_of(const EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "RSA") == 1) return KeyType::kRsa;
  if (EVP_PKEY_is_a(pkey, "EC") == 1) return KeyType::kEc;
  if (EVP_PKEY_is_a(pkey, "ED25519") == 1) return KeyType::kEd25519;
  return KeyType::kOther;
}

// The OpenSSL short name of an EC key's named curve; kUsage for other keys and explicit curve parameters.
Result<std::string> curve_short_name(const EVP_PKEY* pkey) {
  if (type_of(pkey) != KeyType::kEc) return Error::usage("not an EC key");
  char name[80];
  if (EVP_PKEY_get_group_name(pkey, name, sizeof name, nullptr) != 1) {
    ERR_clear_error();
    return Error::usage("EC key without a named curve");
  }
  const int nid = internal::curve_nid(name);
  const char* sn = nid == NID_undef ? nullptr : OBJ_nid2sn(nid);
  if (sn == nullptr) return Error::usage("EC key without a named curve");
  return std::string(sn);
}

}  // namespace

KeyType key_type(const PublicKey& key) { return type_of(key.evp()); }
KeyType key_type(const PrivateKey& key) { return type_of(key.evp()); }

Result<std::string> ec_group_name(const PublicKey& key) { return curve_short_name(key.evp()); }

Result<SecretBytes> ec_private_scalar(const PrivateKey& key) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string curve, curve_short_name(key.evp()));
  const internal::EcGroupPtr group = internal::group_of(curve);
  if (!group) return Error::internal("unknown curve " + curve);
  // SEC 1 v2 clause 2.3.7 / RFC 7518 clause 6.2.2.1: ceil(log2(p) / 8) octets.
  const auto field_size = static_cast<std::size_t>((EC_GROUP_get_degree(group.get()) + 7) / 8);
  M2MSEC_ASSIGN_OR_RETURN(const SecretBytes d, internal::secret_bn_param(key.evp(), OSSL_PKEY_PARAM_PRIV_KEY));
  if (d.size() > field_size) return Error::internal("EC private scalar larger than the field");
  SecretBytes out(field_size);
  std::copy(d.view().begin(), d.view().end(), out.data() + (field_size - d.size()));
  return out;
}

std::size_t key_bits(const PublicKey& key) {
  const int bits = EVP_PKEY_get_bits(key.evp());
  return bits > 0 ? static_cast<std::size_t>(bits) : 0;
}

}  // namespace m2msec::crypto

#include "bignum.h"

#include "m2msec/crypto/openssl_errors.h"

namespace m2msec::ibc::detail {

Result<BnPtr> new_bn(bool secret) {
  BnPtr bn(BN_secure_new());
  if (!bn) return Error::internal(crypto::with_openssl_errors("BN_secure_new"));
  if (secret) BN_set_flags(bn.get(), BN_FLG_CONSTTIME);
  return bn;
}

}  // namespace m2msec::ibc::detail

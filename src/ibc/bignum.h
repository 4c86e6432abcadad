// Ownership of the OpenSSL objects ECCSI and SAKKE compute with (internal to src/ibc).
#pragma once

#include <openssl/bn.h>
#include <openssl/ec.h>

#include <memory>
#include <string_view>

#include "m2msec/core/result.h"

namespace m2msec::ibc::detail {

struct BnFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
struct BnCtxFree {
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};
struct BnMontFree {
  void operator()(BN_MONT_CTX* m) const { BN_MONT_CTX_free(m); }
};
struct EcGroupFree {
  void operator()(EC_GROUP* g) const { EC_GROUP_free(g); }
};
struct EcPointFree {
  void operator()(EC_POINT* p) const { EC_POINT_clear_free(p); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using BnCtxPtr = std::unique_ptr<BN_CTX, BnCtxFree>;
using BnMontPtr = std::unique_ptr<BN_MONT_CTX, BnMontFree>;
using EcGroupPtr = std::unique_ptr<EC_GROUP, EcGroupFree>;
using EcPointPtr = std::unique_ptr<EC_POINT, EcPointFree>;

// A new BIGNUM, cleared when freed; one that will hold a secret computes with BN_FLG_CONSTTIME.
Result<BnPtr> new_bn(bool secret);

}  // namespace m2msec::ibc::detail

#include "internal.h"

#include <openssl/err.h>

#include <algorithm>
#include <bit>

#include "m2msec/crypto/openssl_errors.h"

namespace m2msec::crypto::internal {

Error openssl_error(std::string_view what) { return Error::crypto(with_openssl_errors(what)); }

const std::uint8_t* non_null(ByteView v) {
  static const std::uint8_t kEmpty[1] = {0};
  return v.empty() ? kEmpty : v.data();
}

Result<SecretBytes> secret_bn_param(const EVP_PKEY* pkey, const char* name) {
  // Every such parameter (RSA d, p, q, dp, dq, qi; the EC scalar) is below the key's modulus or group order:
  // get_bits octets always suffice (OpenSSL pads the EC scalar to exactly that size).
  const int bits = EVP_PKEY_get_bits(pkey);
  if (bits <= 0) return openssl_error("EVP_PKEY_get_bits");
  SecretBytes native((static_cast<std::size_t>(bits) + 7) / 8);
  OSSL_PARAM params[] = {OSSL_PARAM_construct_BN(name, native.data(), native.size()), OSSL_PARAM_construct_end()};
  if (EVP_PKEY_get_params(pkey, params) != 1 || OSSL_PARAM_modified(params) != 1 ||
      params[0].return_size > native.size()) {
    return openssl_error(std::string("EVP_PKEY_get_params(") + name + ")");
  }
  native.truncate(params[0].return_size);
  // OSSL_PARAM integers are in native byte order.
  if constexpr (std::endian::native == std::endian::little) std::reverse(native.data(), native.data() + native.size());
  const ByteView be = native.view();
  const auto first = std::find_if(be.begin(), be.end(), [](std::uint8_t b) { return b != 0; });
  return SecretBytes::copy_of(be.subspan(static_cast<std::size_t>(first - be.begin())));
}

}  // namespace m2msec::crypto::internal

namespace m2msec::crypto {

std::string with_openssl_errors(std::string_view what) {
  std::string detail(what);
  char buf[256];
  for (bool first = true; const unsigned long code = ERR_get_error(); first = false) {
    ERR_error_string_n(code, buf, sizeof buf);
    detail += first ? ": " : "; ";
    detail += buf;
  }
  return detail;
}

}  // namespace m2msec::crypto

#include "internal.h"

#include <openssl/err.h>

#include "m2msec/crypto/openssl_errors.h"

namespace m2msec::crypto::internal {

Error openssl_error(std::string_view what) { return Error::crypto(with_openssl_errors(what)); }

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

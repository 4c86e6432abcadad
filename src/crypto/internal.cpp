#include "internal.h"

#include <openssl/err.h>

namespace m2msec::crypto::internal {

Error openssl_error(std::string_view what) {
  std::string detail(what);
  unsigned long code = 0;
  char buf[256];
  bool first = true;
  while ((code = ERR_get_error()) != 0) {
    ERR_error_string_n(code, buf, sizeof buf);
    detail += first ? ": " : "; ";
    detail += buf;
    first = false;
  }
  return Error::crypto(std::move(detail));
}

}  // namespace m2msec::crypto::internal

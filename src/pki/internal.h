// Internal helpers of the pki module's OpenSSL glue. Not a public header.
#pragma once

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

namespace m2msec::pki::internal {

struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
// A stack that borrows its certificates (each one is owned by a pki::Certificate).
struct BorrowedStackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* g) const { GENERAL_NAMES_free(g); }
};
using StorePtr = std::unique_ptr<X509_STORE, StoreFree>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, StoreCtxFree>;
using BorrowedStackPtr = std::unique_ptr<STACK_OF(X509), BorrowedStackFree>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, GeneralNamesFree>;

}  // namespace m2msec::pki::internal

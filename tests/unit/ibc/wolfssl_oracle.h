// Debian's wolfSSL as a test-only oracle (GPL: linked into ibc_test and bench_ibc only): ownership of its RNG and
// points, and its length types.
#pragma once

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/random.h>

#include "m2msec/core/bytes.h"
#include "m2msec/core/error.h"
#include "m2msec/crypto/random.h"

namespace m2msec::ibc::test {

inline word32 size32(ByteView v) { return static_cast<word32>(v.size()); }

inline Bytes random(std::size_t n) {
  auto out = crypto::random_bytes(crypto::system_rng(), n);
  M2MSEC_CHECK(out.has_value());
  return *out;
}

class WolfRng {
 public:
  WolfRng() { M2MSEC_CHECK(wc_InitRng(&m_rng) == 0); }
  ~WolfRng() { wc_FreeRng(&m_rng); }
  WolfRng(const WolfRng&) = delete;
  WolfRng& operator=(const WolfRng&) = delete;
  WC_RNG* get() { return &m_rng; }

 private:
  WC_RNG m_rng{};
};

class WolfPoint {
 public:
  WolfPoint() : m_point(wc_ecc_new_point()) { M2MSEC_CHECK(m_point != nullptr); }
  ~WolfPoint() { wc_ecc_del_point(m_point); }
  WolfPoint(const WolfPoint&) = delete;
  WolfPoint& operator=(const WolfPoint&) = delete;
  ecc_point* get() { return m_point; }

 private:
  ecc_point* m_point;
};

}  // namespace m2msec::ibc::test

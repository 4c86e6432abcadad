#include "m2msec/crypto/random.h"

#include <openssl/rand.h>

#include <climits>

#include "internal.h"

namespace m2msec::crypto {
namespace {

class OpensslRng final : public Rng {
 public:
  Result<void> fill(std::span<std::uint8_t> out) override {
    // RAND_priv_bytes draws from the DRBG reserved for secret values.
    for (std::size_t done = 0; done < out.size();) {
      const std::size_t chunk = std::min<std::size_t>(out.size() - done, INT_MAX);
      if (RAND_priv_bytes(out.data() + done, static_cast<int>(chunk)) != 1) {
        return internal::openssl_error("RAND_priv_bytes");
      }
      done += chunk;
    }
    return {};
  }
};

}  // namespace

Rng& system_rng() {
  static OpensslRng rng;
  return rng;
}

Result<Bytes> random_bytes(Rng& rng, std::size_t n) {
  Bytes out(n);
  M2MSEC_TRY(rng.fill(out));
  return out;
}

Result<SecretBytes> random_secret(Rng& rng, std::size_t n) {
  SecretBytes out(n);
  M2MSEC_TRY(rng.fill(out.writable()));
  return out;
}

}  // namespace m2msec::crypto

// Secure random octets from OpenSSL's DRBG (seeded by the operating system).
#pragma once

#include <cstddef>

#include "m2msec/core/bytes.h"
#include "m2msec/core/clock.h"
#include "m2msec/core/secret.h"

namespace m2msec::crypto {

// The process-wide secure RNG (OpenSSL RAND_priv_bytes). Thread-safe.
Rng& system_rng();

Result<Bytes> random_bytes(Rng& rng, std::size_t n);
Result<SecretBytes> random_secret(Rng& rng, std::size_t n);

}  // namespace m2msec::crypto

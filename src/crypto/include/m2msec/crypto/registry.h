// The algorithm registry: which named algorithm sets this process can use.
//
// Every family (hash.h, aead.h, signature.h, key_agreement.h, block_cipher.h, key_wrap.h) keeps its own
// table of rows; a row names the algorithm, the OpenSSL implementation behind it and the algorithm set it
// belongs to. A set other than the default is loaded on first use. The GOST set (Streebog RFC 6986,
// Kuznyechik RFC 7801, GOST R 34.10-2012 RFC 7091) comes from Debian's libengine-gost-openssl.
#pragma once

#include <string_view>
#include <vector>

#include "m2msec/core/result.h"

namespace m2msec::crypto {

enum class AlgorithmSet {
  kDefault,  // OpenSSL's default provider: the algorithms TS-0003 names
  kGost,     // the Russian national set (ITU-T review, seed 001 item 1)
};

std::string_view algorithm_set_name(AlgorithmSet set);

// Makes the algorithms of `set` usable in this process (idempotent, thread-safe). Fails with
// Category::kUnsupported when the set's implementation is not installed.
Result<void> load_algorithm_set(AlgorithmSet set);

// Every registered algorithm name of one family, in registry order: for `m2msec algorithms` and tests.
enum class Family { kHash, kAead, kSignature, kKeyAgreement, kBlockCipher, kKeyWrap };
std::vector<std::string_view> algorithm_names(Family family);

}  // namespace m2msec::crypto

#include "m2msec/crypto/registry.h"

#include <openssl/provider.h>

#include <mutex>

#include "internal.h"

namespace m2msec::crypto {

std::string_view algorithm_set_name(AlgorithmSet set) {
  switch (set) {
    case AlgorithmSet::kDefault: return "default";
    case AlgorithmSet::kGost: return "gost";
  }
  return "unknown";
}

Result<void> load_algorithm_set(AlgorithmSet set) {
  switch (set) {
    case AlgorithmSet::kDefault:
      return {};
    case AlgorithmSet::kGost: {
      // The GOST provider (gostprov) gives Streebog and Kuznyechik to the default library context,
      // next to the default provider (retain_fallbacks = 1 keeps the default provider active).
      static std::once_flag once;
      static OSSL_PROVIDER* provider = nullptr;
      std::call_once(once, [] { provider = OSSL_PROVIDER_try_load(nullptr, "gostprov", 1); });
      if (provider == nullptr || internal::gost_engine() == nullptr) {
        return Error::unsupported("GOST algorithm set unavailable: the OpenSSL provider 'gostprov' or engine "
                                  "'gost' (Debian package libengine-gost-openssl) could not be loaded");
      }
      return {};
    }
  }
  return Error::unsupported("unknown algorithm set");
}

std::vector<std::string_view> algorithm_names(Family family) {
  switch (family) {
    case Family::kHash: return internal::hash_names();
    case Family::kAead: return internal::aead_names();
    case Family::kSignature: return internal::signature_names();
    case Family::kKeyAgreement: return internal::key_agreement_names();
    case Family::kBlockCipher: return internal::block_cipher_names();
    case Family::kKeyWrap: return internal::key_wrap_names();
  }
  return {};
}

}  // namespace m2msec::crypto

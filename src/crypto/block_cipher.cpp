#include "m2msec/crypto/block_cipher.h"

#include <openssl/evp.h>

#include <array>
#include <mutex>
#include <string>

#include "internal.h"
#include "m2msec/crypto/registry.h"

namespace m2msec::crypto {
namespace {

struct BlockRow {
  std::string_view name;
  std::string_view evp_name;  // the cipher in ECB mode, used for exactly one block
  AlgorithmSet set;
  std::size_t block_size;
  std::size_t key_size;
};

constexpr std::array<BlockRow, 3> kBlockCiphers{{
    {"aes-128", "AES-128-ECB", AlgorithmSet::kDefault, 16, 16},  // FIPS 197
    {"aes-256", "AES-256-ECB", AlgorithmSet::kDefault, 16, 32},
    {"kuznyechik", "kuznyechik-ecb", AlgorithmSet::kGost, 16, 32},  // GOST R 34.12-2015, RFC 7801
}};

struct Fetched {
  std::once_flag once;
  EVP_CIPHER* cipher = nullptr;
};
std::array<Fetched, kBlockCiphers.size()> g_fetched;

}  // namespace

Result<BlockCipher> BlockCipher::named(std::string_view name) {
  for (std::size_t i = 0; i < kBlockCiphers.size(); ++i) {
    if (kBlockCiphers[i].name != name) continue;
    M2MSEC_TRY(load_algorithm_set(kBlockCiphers[i].set));
    std::call_once(g_fetched[i].once, [i] {
      g_fetched[i].cipher = EVP_CIPHER_fetch(nullptr, std::string(kBlockCiphers[i].evp_name).c_str(), nullptr);
    });
    if (g_fetched[i].cipher == nullptr) return Error::unsupported("block cipher '" + std::string(name) + "' not available");
    return BlockCipher(i);
  }
  return Error::unsupported("unknown block cipher '" + std::string(name) + "'");
}

std::string_view BlockCipher::name() const { return kBlockCiphers[m_row].name; }
std::size_t BlockCipher::block_size() const { return kBlockCiphers[m_row].block_size; }
std::size_t BlockCipher::key_size() const { return kBlockCiphers[m_row].key_size; }

Result<void> BlockCipher::run(ByteView key, ByteView in, std::span<std::uint8_t> out, int enc) const {
  const BlockRow& row = kBlockCiphers[m_row];
  if (key.size() != row.key_size) return Error::usage(std::string(row.name) + ": wrong key size");
  if (in.size() != row.block_size || out.size() != row.block_size) {
    return Error::usage(std::string(row.name) + ": input and output must be one block");
  }
  internal::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int tail = 0;
  if (!ctx || EVP_CipherInit_ex(ctx.get(), g_fetched[m_row].cipher, nullptr, key.data(), nullptr, enc) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||
      EVP_CipherUpdate(ctx.get(), out.data(), &len, in.data(), static_cast<int>(in.size())) != 1 ||
      EVP_CipherFinal_ex(ctx.get(), out.data() + len, &tail) != 1 ||
      static_cast<std::size_t>(len + tail) != row.block_size) {
    return internal::openssl_error("block cipher");
  }
  return {};
}

Result<void> BlockCipher::encrypt_block(ByteView key, ByteView in, std::span<std::uint8_t> out) const {
  return run(key, in, out, 1);
}
Result<void> BlockCipher::decrypt_block(ByteView key, ByteView in, std::span<std::uint8_t> out) const {
  return run(key, in, out, 0);
}

std::vector<std::string_view> internal::block_cipher_names() {
  std::vector<std::string_view> out;
  for (const auto& row : kBlockCiphers) out.push_back(row.name);
  return out;
}

}  // namespace m2msec::crypto

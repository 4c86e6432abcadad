#include "m2msec/crypto/key_wrap.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <array>
#include <climits>
#include <mutex>
#include <span>
#include <string>

#include "internal.h"

namespace m2msec::crypto {
namespace {

struct KeyWrapRow {
  std::string_view name;
  std::string_view evp_name;  // OpenSSL's RFC 3394 wrap mode (default initial value)
  std::size_t key_size;
};

// RFC 3394 clause 2.2 over AES-128/192/256 (FIPS 197); the JOSE A128KW, A192KW, A256KW of RFC 7518 clause 4.4.
constexpr std::array<KeyWrapRow, 3> kKeyWraps{{
    {"aes-128-kw", "AES-128-WRAP", 16},
    {"aes-192-kw", "AES-192-WRAP", 24},
    {"aes-256-kw", "AES-256-WRAP", 32},
}};
constexpr std::size_t kSemiblock = 8;  // RFC 3394 clause 2: 64-bit blocks

struct Fetched {
  std::once_flag once;
  EVP_CIPHER* cipher = nullptr;
};
std::array<Fetched, kKeyWraps.size()> g_fetched;

const EVP_CIPHER* fetch(std::size_t row) {
  std::call_once(g_fetched[row].once, [row] {
    g_fetched[row].cipher = EVP_CIPHER_fetch(nullptr, std::string(kKeyWraps[row].evp_name).c_str(), nullptr);
  });
  return g_fetched[row].cipher;
}

Result<void> check_kek(const KeyWrapRow& row, ByteView kek) {
  if (kek.size() != row.key_size) {
    return Error::usage(std::string(row.name) + ": key-encryption key must be " + std::to_string(row.key_size) +
                        " octets");
  }
  return {};
}

// One whole wrap (enc = 1) or unwrap (enc = 0) of `in` into `out`, which has exactly the size of the result.
bool run(const EVP_CIPHER* cipher, ByteView kek, ByteView in, std::span<std::uint8_t> out, int enc) {
  internal::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || cipher == nullptr) return false;
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  int len = 0;
  int tail = 0;
  return EVP_CipherInit_ex(ctx.get(), cipher, nullptr, kek.data(), nullptr, enc) == 1 &&
         EVP_CipherUpdate(ctx.get(), out.data(), &len, in.data(), static_cast<int>(in.size())) == 1 &&
         EVP_CipherFinal_ex(ctx.get(), out.data() + len, &tail) == 1 &&
         static_cast<std::size_t>(len) + static_cast<std::size_t>(tail) == out.size();
}

Error unwrap_failed() {
  ERR_clear_error();  // every failure reads the same
  return Error::crypto("key unwrap failed");
}

}  // namespace

Result<KeyWrap> KeyWrap::named(std::string_view name) {
  for (std::size_t i = 0; i < kKeyWraps.size(); ++i) {
    if (kKeyWraps[i].name == name) return KeyWrap(i);
  }
  return Error::unsupported("unknown key wrap '" + std::string(name) + "'");
}

std::string_view KeyWrap::name() const { return kKeyWraps[m_row].name; }
std::size_t KeyWrap::key_size() const { return kKeyWraps[m_row].key_size; }

Result<Bytes> KeyWrap::wrap(ByteView kek, ByteView key_data) const {
  const KeyWrapRow& row = kKeyWraps[m_row];
  M2MSEC_TRY(check_kek(row, kek));
  // RFC 3394 clause 2.2.1: n >= 2 64-bit blocks of plaintext.
  if (key_data.size() < 2 * kSemiblock || key_data.size() % kSemiblock != 0 ||
      key_data.size() > static_cast<std::size_t>(INT_MAX) - kSemiblock) {
    return Error::usage("key data to wrap must be a multiple of 8 octets, at least 16");
  }
  Bytes out(key_data.size() + kSemiblock);
  if (!run(fetch(m_row), kek, key_data, out, 1)) return internal::openssl_error("AES key wrap");
  return out;
}

Result<SecretBytes> KeyWrap::unwrap(ByteView kek, ByteView wrapped) const {
  const KeyWrapRow& row = kKeyWraps[m_row];
  M2MSEC_TRY(check_kek(row, kek));
  // RFC 3394 clause 2.2.2: (n + 1) 64-bit blocks, n >= 2.
  if (wrapped.size() < 3 * kSemiblock || wrapped.size() % kSemiblock != 0 ||
      wrapped.size() > static_cast<std::size_t>(INT_MAX)) {
    return unwrap_failed();
  }
  SecretBytes out(wrapped.size() - kSemiblock);
  // RFC 3394 clause 2.2.3: OpenSSL checks the initial value and wipes its output when it differs.
  if (!run(fetch(m_row), kek, wrapped, out.writable(), 0)) return unwrap_failed();
  return out;
}

std::vector<std::string_view> internal::key_wrap_names() {
  std::vector<std::string_view> out;
  for (const auto& row : kKeyWraps) out.push_back(row.name);
  return out;
}

}  // namespace m2msec::crypto

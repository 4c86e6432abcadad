#include "m2msec/crypto/aead.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <array>
#include <climits>
#include <mutex>
#include <string>

#include "internal.h"

namespace m2msec::crypto {
namespace {

enum class Mode { kGcm, kCcm };

struct AeadRow {
  std::string_view name;
  std::string_view evp_name;
  Mode mode;
  std::size_t key_size;
  std::size_t tag_size;
};

//= TS-0003 V3.18.0 Annex L: the AEAD identifiers ALG_AEAD_AES_{128,256}_{GCM,CCM,CCM_8}.
// Sizes from RFC 5116 clause 5 and RFC 6655 clause 3 (CCM_8: 8-octet tag).
constexpr std::array<AeadRow, 7> kAeads{{
    {"aes-128-gcm", "AES-128-GCM", Mode::kGcm, 16, 16},
    {"aes-192-gcm", "AES-192-GCM", Mode::kGcm, 24, 16},  // not in Annex L: JOSE A192GCM (RFC 7518 clause 5.3)
    {"aes-256-gcm", "AES-256-GCM", Mode::kGcm, 32, 16},
    {"aes-128-ccm", "AES-128-CCM", Mode::kCcm, 16, 16},
    {"aes-256-ccm", "AES-256-CCM", Mode::kCcm, 32, 16},
    {"aes-128-ccm-8", "AES-128-CCM", Mode::kCcm, 16, 8},
    {"aes-256-ccm-8", "AES-256-CCM", Mode::kCcm, 32, 8},
}};
constexpr int kNonceSize = 12;

struct Fetched {
  std::once_flag once;
  EVP_CIPHER* cipher = nullptr;
};
std::array<Fetched, kAeads.size()> g_fetched;

const EVP_CIPHER* fetch(std::size_t row) {
  std::call_once(g_fetched[row].once, [row] {
    g_fetched[row].cipher = EVP_CIPHER_fetch(nullptr, std::string(kAeads[row].evp_name).c_str(), nullptr);
  });
  return g_fetched[row].cipher;
}

bool fits_int(std::size_t n) { return n <= static_cast<std::size_t>(INT_MAX); }

// Creates a context keyed for one direction. For CCM the nonce and tag lengths are fixed before the key.
EVP_CIPHER_CTX* keyed_context(const AeadRow& row, const EVP_CIPHER* cipher, ByteView key, int enc) {
  internal::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return nullptr;
  if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr, enc) != 1) return nullptr;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_IVLEN, kNonceSize, nullptr) != 1) return nullptr;
  if (row.mode == Mode::kCcm &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(row.tag_size), nullptr) != 1) {
    return nullptr;
  }
  if (EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, key.data(), nullptr, enc) != 1) return nullptr;
  return ctx.release();
}

}  // namespace

Result<Aead> Aead::named(std::string_view name) {
  for (std::size_t i = 0; i < kAeads.size(); ++i) {
    if (kAeads[i].name == name) return Aead(i);
  }
  return Error::unsupported("unknown AEAD '" + std::string(name) + "'");
}

std::string_view Aead::name() const { return kAeads[m_row].name; }
std::size_t Aead::key_size() const { return kAeads[m_row].key_size; }
std::size_t Aead::tag_size() const { return kAeads[m_row].tag_size; }

Result<AeadKey> AeadKey::create(const Aead& aead, ByteView key, AeadUse use) {
  const AeadRow& row = kAeads[aead.m_row];
  if (key.size() != row.key_size) {
    return Error::usage(std::string(row.name) + ": key must be " + std::to_string(row.key_size) + " octets");
  }
  const EVP_CIPHER* cipher = fetch(aead.m_row);
  if (cipher == nullptr) return internal::openssl_error("EVP_CIPHER_fetch");
  internal::CipherCtxPtr enc(use != AeadUse::kOpenOnly ? keyed_context(row, cipher, key, 1) : nullptr);
  internal::CipherCtxPtr dec(use != AeadUse::kSealOnly ? keyed_context(row, cipher, key, 0) : nullptr);
  if ((use != AeadUse::kOpenOnly && !enc) || (use != AeadUse::kSealOnly && !dec)) {
    return internal::openssl_error("AEAD key set-up");
  }
  return AeadKey(aead, enc.release(), dec.release());
}

AeadKey::AeadKey(AeadKey&& other) noexcept
    : m_aead(other.m_aead), m_enc(std::exchange(other.m_enc, nullptr)), m_dec(std::exchange(other.m_dec, nullptr)) {}

AeadKey& AeadKey::operator=(AeadKey&& other) noexcept {
  if (this != &other) {
    EVP_CIPHER_CTX_free(m_enc);
    EVP_CIPHER_CTX_free(m_dec);
    m_aead = other.m_aead;
    m_enc = std::exchange(other.m_enc, nullptr);
    m_dec = std::exchange(other.m_dec, nullptr);
  }
  return *this;
}

AeadKey::~AeadKey() {
  EVP_CIPHER_CTX_free(m_enc);  // frees and cleanses the key schedule
  EVP_CIPHER_CTX_free(m_dec);
}

Result<std::size_t> AeadKey::seal(ByteView nonce, ByteView aad, ByteView plaintext, std::span<std::uint8_t> out) {
  const AeadRow& row = kAeads[m_aead.m_row];
  if (m_enc == nullptr) return Error::usage("AEAD key created for opening only");
  if (nonce.size() != kNonceSize) return Error::usage("AEAD nonce must be 12 octets");
  if (!fits_int(plaintext.size()) || !fits_int(aad.size())) return Error::usage("AEAD input too long");
  const std::size_t total = plaintext.size() + row.tag_size;
  if (out.size() < total) return Error::usage("AEAD output buffer too small");
  int len = 0;
  if (EVP_EncryptInit_ex(m_enc, nullptr, nullptr, nullptr, nonce.data()) != 1) return internal::openssl_error("AEAD nonce");
  // CCM must know the message length before the associated data (RFC 3610 clause 2.2).
  if (row.mode == Mode::kCcm &&
      EVP_EncryptUpdate(m_enc, nullptr, &len, nullptr, static_cast<int>(plaintext.size())) != 1) {
    return internal::openssl_error("AEAD length");
  }
  if (!aad.empty() && EVP_EncryptUpdate(m_enc, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
    return internal::openssl_error("AEAD associated data");
  }
  std::uint8_t* dst = out.data();
  if (EVP_EncryptUpdate(m_enc, dst, &len, internal::non_null(plaintext), static_cast<int>(plaintext.size())) != 1) {
    return internal::openssl_error("AEAD encrypt");
  }
  int tail = 0;
  if (EVP_EncryptFinal_ex(m_enc, dst + len, &tail) != 1) return internal::openssl_error("AEAD final");
  if (static_cast<std::size_t>(len + tail) != plaintext.size()) return Error::internal("AEAD length mismatch");
  if (EVP_CIPHER_CTX_ctrl(m_enc, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(row.tag_size), dst + plaintext.size()) != 1) {
    return internal::openssl_error("AEAD tag");
  }
  return total;
}

Result<std::size_t> AeadKey::open(ByteView nonce, ByteView aad, ByteView sealed, std::span<std::uint8_t> out) {
  const AeadRow& row = kAeads[m_aead.m_row];
  if (m_dec == nullptr) return Error::usage("AEAD key created for sealing only");
  if (nonce.size() != kNonceSize) return Error::usage("AEAD nonce must be 12 octets");
  if (sealed.size() < row.tag_size) return Error::crypto("AEAD authentication failed");
  if (!fits_int(sealed.size()) || !fits_int(aad.size())) return Error::usage("AEAD input too long");
  const std::size_t n = sealed.size() - row.tag_size;
  if (out.size() < n) return Error::usage("AEAD output buffer too small");
  ByteView ciphertext = sealed.first(n);
  // OpenSSL takes the expected tag through a non-const pointer but does not modify it.
  auto* tag = const_cast<std::uint8_t*>(sealed.data() + n);

  // A null output pointer means "associated data" to OpenSSL, which would skip CCM's tag check.
  std::uint8_t scratch[1];
  std::uint8_t* dst = out.empty() ? scratch : out.data();
  int len = 0;
  bool ok = EVP_DecryptInit_ex(m_dec, nullptr, nullptr, nullptr, nonce.data()) == 1 &&
            EVP_CIPHER_CTX_ctrl(m_dec, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(row.tag_size), tag) == 1;
  if (ok && row.mode == Mode::kCcm) ok = EVP_DecryptUpdate(m_dec, nullptr, &len, nullptr, static_cast<int>(n)) == 1;
  if (ok && !aad.empty()) ok = EVP_DecryptUpdate(m_dec, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1;
  // For CCM the tag is checked by this update; for GCM by the final call.
  if (ok) ok = EVP_DecryptUpdate(m_dec, dst, &len, internal::non_null(ciphertext), static_cast<int>(n)) == 1;
  if (ok && row.mode == Mode::kGcm) {
    int tail = 0;
    ok = EVP_DecryptFinal_ex(m_dec, dst + len, &tail) == 1;
  }
  if (!ok) {
    secure_zero(dst, n);
    ERR_clear_error();  // the reason stays private: every mismatch is the same error
    return Error::crypto("AEAD authentication failed");
  }
  return n;
}

Result<Bytes> AeadKey::seal(ByteView nonce, ByteView aad, ByteView plaintext) {
  Bytes out(plaintext.size() + m_aead.tag_size());
  M2MSEC_ASSIGN_OR_RETURN(const std::size_t n, seal(nonce, aad, plaintext, out));
  out.resize(n);
  return out;
}

Result<Bytes> AeadKey::open(ByteView nonce, ByteView aad, ByteView sealed) {
  Bytes out(sealed.size() >= m_aead.tag_size() ? sealed.size() - m_aead.tag_size() : 0);
  M2MSEC_ASSIGN_OR_RETURN(const std::size_t n, open(nonce, aad, sealed, out));
  out.resize(n);
  return out;
}

std::vector<std::string_view> internal::aead_names() {
  std::vector<std::string_view> out;
  for (const auto& row : kAeads) out.push_back(row.name);
  return out;
}

}  // namespace m2msec::crypto

#include "m2msec/core/encoding.h"

#include <algorithm>
#include <array>

namespace m2msec {
namespace {

constexpr std::string_view kHexLower = "0123456789abcdef";
constexpr std::string_view kHexUpper = "0123456789ABCDEF";
constexpr std::string_view kB64Url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes into `out`, which has exactly text.size() / 2 octets.
Result<void> hex_decode_into(std::string_view text, std::span<std::uint8_t> out) {
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(text[2 * i]);
    const int lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Error::usage("hex: invalid character at offset " + std::to_string(hi < 0 ? 2 * i : 2 * i + 1));
    }
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return {};
}

Result<void> check_hex_length(std::string_view text) {
  if (text.size() % 2 != 0) return Error::usage("hex: odd number of digits");
  return {};
}

constexpr std::string_view kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int, 256> make_table(std::string_view alphabet) {
  std::array<int, 256> table{};
  for (auto& v : table) v = -1;
  for (std::size_t i = 0; i < alphabet.size(); ++i) table[static_cast<unsigned char>(alphabet[i])] = static_cast<int>(i);
  return table;
}
constexpr auto kB64UrlTable = make_table(kB64Url);
constexpr auto kB64Table = make_table(kB64);

// RFC 4648 clause 4 (padded) or clause 5 as JOSE uses it (unpadded): the two differ only in the alphabet
// and the padding.
std::string encode64(ByteView bytes, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t v = std::uint32_t{bytes[i]} << 16;
    if (n > 1) v |= std::uint32_t{bytes[i + 1]} << 8;
    if (n > 2) v |= bytes[i + 2];
    for (std::size_t k = 0; k < 4; ++k) {
      if (k <= n) out.push_back(alphabet[(v >> (18 - 6 * k)) & 63]);
      else if (pad) out.push_back('=');
    }
  }
  return out;
}

// Strict: only the alphabet, no impossible length, zero unused trailing bits (RFC 4648 clause 3.5).
Result<Bytes> decode64(std::string_view text, const std::array<int, 256>& table, std::string_view name) {
  if (text.size() % 4 == 1) return Error::usage(std::string(name) + ": impossible length");
  Bytes out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const int v = table[static_cast<unsigned char>(text[i])];
    if (v < 0) return Error::usage(std::string(name) + ": invalid character at offset " + std::to_string(i));
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xff));
    }
  }
  if ((acc & ((1u << bits) - 1)) != 0) return Error::usage(std::string(name) + ": non-canonical trailing bits");
  return out;
}

}  // namespace

std::string hex_encode(ByteView bytes, HexCase letter_case) {
  const std::string_view digits = letter_case == HexCase::kLower ? kHexLower : kHexUpper;
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0x0f]);
  }
  return out;
}

Result<Bytes> hex_decode(std::string_view text) {
  M2MSEC_TRY(check_hex_length(text));
  Bytes out(text.size() / 2);
  M2MSEC_TRY(hex_decode_into(text, out));
  return out;
}

Result<SecretBytes> hex_decode_secret(std::string_view text) {
  M2MSEC_TRY(check_hex_length(text));
  SecretBytes out(text.size() / 2);
  M2MSEC_TRY(hex_decode_into(text, out.writable()));
  return out;
}

std::string base64url_encode(ByteView bytes) { return encode64(bytes, kB64Url, false); }

Result<Bytes> base64url_decode(std::string_view text) { return decode64(text, kB64UrlTable, "base64url"); }

std::string base64_encode(ByteView bytes) { return encode64(bytes, kB64, true); }

Result<Bytes> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return Error::usage("base64: length is not a multiple of 4");
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  return decode64(text.substr(0, text.size() - padding), kB64Table, "base64");
}

}  // namespace m2msec

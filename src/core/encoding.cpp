#include "m2msec/core/encoding.h"

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

constexpr std::array<int, 256> make_b64url_table() {
  std::array<int, 256> table{};
  for (auto& v : table) v = -1;
  for (std::size_t i = 0; i < kB64Url.size(); ++i) table[static_cast<unsigned char>(kB64Url[i])] = static_cast<int>(i);
  return table;
}
constexpr auto kB64UrlTable = make_b64url_table();

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

std::string base64url_encode(ByteView bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    out.push_back(kB64Url[(v >> 18) & 63]);
    out.push_back(kB64Url[(v >> 12) & 63]);
    out.push_back(kB64Url[(v >> 6) & 63]);
    out.push_back(kB64Url[v & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t v = std::uint32_t{bytes[i]} << 16;
    out.push_back(kB64Url[(v >> 18) & 63]);
    out.push_back(kB64Url[(v >> 12) & 63]);
  } else if (rest == 2) {
    const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8);
    out.push_back(kB64Url[(v >> 18) & 63]);
    out.push_back(kB64Url[(v >> 12) & 63]);
    out.push_back(kB64Url[(v >> 6) & 63]);
  }
  return out;
}

Result<Bytes> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return Error::usage("base64url: impossible length");
  Bytes out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const int v = kB64UrlTable[static_cast<unsigned char>(text[i])];
    if (v < 0) return Error::usage("base64url: invalid character at offset " + std::to_string(i));
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xff));
    }
  }
  // The bits left over after the last full octet must be zero in the canonical encoding.
  if ((acc & ((1u << bits) - 1)) != 0) return Error::usage("base64url: non-canonical trailing bits");
  return out;
}

}  // namespace m2msec

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
// Whole 3-octet groups in one pass into a string sized once; the tail (1 or 2 octets) after it.
std::string encode64(ByteView bytes, std::string_view alphabet, bool pad) {
  const std::size_t groups = bytes.size() / 3;
  const std::size_t tail = bytes.size() % 3;
  std::string out(groups * 4 + (tail == 0 ? 0 : pad ? 4 : tail + 1), '=');
  const std::uint8_t* in = bytes.data();
  char* o = out.data();
  for (std::size_t g = 0; g < groups; ++g, in += 3, o += 4) {
    const std::uint32_t v = (std::uint32_t{in[0]} << 16) | (std::uint32_t{in[1]} << 8) | in[2];
    o[0] = alphabet[v >> 18];
    o[1] = alphabet[(v >> 12) & 63];
    o[2] = alphabet[(v >> 6) & 63];
    o[3] = alphabet[v & 63];
  }
  if (tail != 0) {
    const std::uint32_t v = (std::uint32_t{in[0]} << 16) | (tail == 2 ? std::uint32_t{in[1]} << 8 : 0);
    o[0] = alphabet[v >> 18];
    o[1] = alphabet[(v >> 12) & 63];
    if (tail == 2) o[2] = alphabet[(v >> 6) & 63];
  }
  return out;
}

// Strict: only the alphabet, no impossible length, zero unused trailing bits (RFC 4648 clause 3.5).
// Whole 4-character groups are decoded with one validity test per group; an error is located afterwards.
Result<Bytes> decode64(std::string_view text, const std::array<int, 256>& table, std::string_view name) {
  if (text.size() % 4 == 1) return Error::usage(std::string(name) + ": impossible length");
  const std::size_t groups = text.size() / 4;
  const std::size_t tail = text.size() % 4;  // 0, 2 or 3 characters: 0, 1 or 2 octets
  Bytes out(groups * 3 + (tail == 0 ? 0 : tail - 1));
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  std::uint8_t* o = out.data();
  auto invalid = [&]() -> Error {
    std::size_t at = 0;
    while (at < text.size() && table[static_cast<unsigned char>(text[at])] >= 0) ++at;
    return Error::usage(std::string(name) + ": invalid character at offset " + std::to_string(at));
  };
  for (std::size_t g = 0; g < groups; ++g, in += 4, o += 3) {
    const int a = table[in[0]], b = table[in[1]], c = table[in[2]], d = table[in[3]];
    if ((a | b | c | d) < 0) return invalid();
    const auto v = static_cast<std::uint32_t>((a << 18) | (b << 12) | (c << 6) | d);
    o[0] = static_cast<std::uint8_t>(v >> 16);
    o[1] = static_cast<std::uint8_t>(v >> 8);
    o[2] = static_cast<std::uint8_t>(v);
  }
  if (tail != 0) {
    const int a = table[in[0]], b = table[in[1]], c = tail == 3 ? table[in[2]] : 0;
    if ((a | b | c) < 0) return invalid();
    const auto v = static_cast<std::uint32_t>((a << 18) | (b << 12) | (c << 6));
    o[0] = static_cast<std::uint8_t>(v >> 16);
    if (tail == 3) o[1] = static_cast<std::uint8_t>(v >> 8);
    if ((v & (tail == 2 ? 0xFFFFu : 0xFFu)) != 0) return Error::usage(std::string(name) + ": non-canonical trailing bits");
  }
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

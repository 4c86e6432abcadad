// The option numbers of RFC 7252 and RFC 7959 that the binding, its clients and EST-coaps use, uint option values
// (RFC 7252 §3.2), and the Block1/Block2 value NUM | M | SZX (RFC 7959 §2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "m2msec/coap/message.h"
#include "m2msec/core/bytes.h"

namespace m2msec::coap {

// RFC 7252 §5.10 (Table 4).
inline constexpr std::uint16_t kOptionUriHost = 3;
inline constexpr std::uint16_t kOptionETag = 4;
inline constexpr std::uint16_t kOptionUriPort = 7;
inline constexpr std::uint16_t kOptionLocationPath = 8;
inline constexpr std::uint16_t kOptionUriPath = 11;
inline constexpr std::uint16_t kOptionContentFormat = 12;
inline constexpr std::uint16_t kOptionMaxAge = 14;
inline constexpr std::uint16_t kOptionUriQuery = 15;
inline constexpr std::uint16_t kOptionAccept = 17;
inline constexpr std::uint16_t kOptionProxyUri = 35;
inline constexpr std::uint16_t kOptionProxyScheme = 39;
inline constexpr std::uint16_t kOptionBlock2 = 23;  // RFC 7959 §2.1
inline constexpr std::uint16_t kOptionBlock1 = 27;
inline constexpr std::uint16_t kOptionSize2 = 28;  // RFC 7959 §4
inline constexpr std::uint16_t kOptionSize1 = 60;  // RFC 7252 §5.10.9

// RFC 7252 §3.2 uint: big endian in the fewest octets (0 is the empty value). A value over 4 octets is nullopt.
Bytes encode_uint(std::uint32_t value);
std::optional<std::uint32_t> decode_uint(ByteView value);

// The first option with this number, if any.
const Option* find_option(const Message& message, std::uint16_t number);

//= RFC 7959 §2.2
//# A block option: the block number (20 bits), whether more blocks follow, and the size exponent: a block is
//# 2^(szx + 4) octets, szx 0-6 (7 is reserved for BERT, which CoAP over UDP does not have).
struct Block {
  std::uint32_t num = 0;
  bool more = false;
  std::uint8_t szx = 6;
  std::size_t size() const { return std::size_t{16} << szx; }
  std::size_t offset() const { return static_cast<std::size_t>(num) * size(); }
};
// nullopt for a value over 3 octets, or szx 7.
std::optional<Block> decode_block(ByteView value);
Bytes encode_block(const Block& block);
// The szx of a block size (16 ... 1024, a power of two); nullopt otherwise.
std::optional<std::uint8_t> szx_of(std::size_t block_size);

}  // namespace m2msec::coap

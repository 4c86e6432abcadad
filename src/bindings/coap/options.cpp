#include "m2msec/coap/options.h"

namespace m2msec::coap {

Bytes encode_uint(std::uint32_t value) {
  Bytes out;
  for (int shift = 24; shift >= 0; shift -= 8) {
    const auto octet = static_cast<std::uint8_t>(value >> shift);
    if (octet != 0 || !out.empty()) out.push_back(octet);
  }
  return out;
}

std::optional<std::uint32_t> decode_uint(ByteView value) {
  if (value.size() > 4) return std::nullopt;
  std::uint32_t out = 0;
  for (std::uint8_t octet : value) out = (out << 8) | octet;
  return out;
}

const Option* find_option(const Message& message, std::uint16_t number) {
  for (const Option& option : message.options) {
    if (option.number == number) return &option;
  }
  return nullptr;
}

std::optional<Block> decode_block(ByteView value) {
  if (value.size() > 3) return std::nullopt;
  const std::uint32_t raw = *decode_uint(value);
  Block block{raw >> 4, (raw & 0x8) != 0, static_cast<std::uint8_t>(raw & 0x7)};
  if (block.szx == 7) return std::nullopt;
  return block;
}

Bytes encode_block(const Block& block) {
  return encode_uint((block.num << 4) | (block.more ? 0x8U : 0U) | block.szx);
}

std::optional<std::uint8_t> szx_of(std::size_t block_size) {
  for (std::uint8_t szx = 0; szx <= 6; ++szx) {
    if ((std::size_t{16} << szx) == block_size) return szx;
  }
  return std::nullopt;
}

}  // namespace m2msec::coap

// Single-block encryption with a raw block cipher from the registry ("aes-128", "aes-256", "kuznyechik").
// This is the primitive RFC 7801 specifies and tests for Kuznyechik; modes and AEADs are built elsewhere.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"

namespace m2msec::crypto {

class BlockCipher {
 public:
  static Result<BlockCipher> named(std::string_view name);
  std::string_view name() const;
  std::size_t block_size() const;
  std::size_t key_size() const;

  // One block in, one block out (no padding, no chaining). kUsage for wrong key, block or output sizes.
  Result<void> encrypt_block(ByteView key, ByteView in, std::span<std::uint8_t> out) const;
  Result<void> decrypt_block(ByteView key, ByteView in, std::span<std::uint8_t> out) const;

 private:
  explicit BlockCipher(std::size_t row) : m_row(row) {}
  Result<void> run(ByteView key, ByteView in, std::span<std::uint8_t> out, int enc) const;
  std::size_t m_row;
};

}  // namespace m2msec::crypto

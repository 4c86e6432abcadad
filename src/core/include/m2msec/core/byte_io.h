// Bounds-checked cursors for binary formats. Integers are big-endian (network order).
// A reader never reads past its view: every read returns a Result, and expect_end() refuses
// trailing octets, so a parser that ends with it accepts exactly one encoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"

namespace m2msec {

class ByteReader {
 public:
  explicit ByteReader(ByteView data) : m_data(data) {}

  std::size_t remaining() const { return m_data.size() - m_pos; }
  bool empty() const { return remaining() == 0; }

  Result<std::uint8_t> read_u8();
  Result<std::uint16_t> read_u16();
  Result<std::uint32_t> read_u24();
  Result<std::uint32_t> read_u32();
  Result<std::uint64_t> read_u64();
  // The next n octets, borrowed from the underlying view.
  Result<ByteView> read_bytes(std::size_t n);
  // A vector with a length prefix of 1 or 2 octets (TLS presentation language <0..2^8-1>, <0..2^16-1>).
  Result<ByteView> read_prefixed_u8();
  Result<ByteView> read_prefixed_u16();
  // Fails when any octet is left unread.
  Result<void> expect_end() const;

 private:
  Result<std::uint64_t> read_uint(std::size_t octets);
  ByteView m_data;
  std::size_t m_pos = 0;
};

class ByteWriter {
 public:
  void write_u8(std::uint8_t v) { write_uint(v, 1); }
  void write_u16(std::uint16_t v) { write_uint(v, 2); }
  Result<void> write_u24(std::uint32_t v);
  void write_u32(std::uint32_t v) { write_uint(v, 4); }
  void write_u64(std::uint64_t v) { write_uint(v, 8); }
  void write_bytes(ByteView bytes) { m_out.insert(m_out.end(), bytes.begin(), bytes.end()); }
  // Fail when the data is longer than the prefix can express.
  Result<void> write_prefixed_u8(ByteView bytes);
  Result<void> write_prefixed_u16(ByteView bytes);

  const Bytes& bytes() const { return m_out; }
  Bytes take() && { return std::move(m_out); }

 private:
  void write_uint(std::uint64_t v, std::size_t octets);
  Bytes m_out;
};

}  // namespace m2msec

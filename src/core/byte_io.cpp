#include "m2msec/core/byte_io.h"

#include <string>

namespace m2msec {
namespace {
Error truncated(std::size_t wanted, std::size_t have) {
  return Error{Category::kProtocol, Rsc::kBadRequest,
               "truncated input: need " + std::to_string(wanted) + " octets, " + std::to_string(have) + " left"};
}
}  // namespace

Result<std::uint64_t> ByteReader::read_uint(std::size_t octets) {
  if (remaining() < octets) return truncated(octets, remaining());
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < octets; ++i) v = (v << 8) | m_data[m_pos + i];
  m_pos += octets;
  return v;
}

Result<std::uint8_t> ByteReader::read_u8() {
  M2MSEC_ASSIGN_OR_RETURN(const std::uint64_t v, read_uint(1));
  return static_cast<std::uint8_t>(v);
}
Result<std::uint16_t> ByteReader::read_u16() {
  M2MSEC_ASSIGN_OR_RETURN(const std::uint64_t v, read_uint(2));
  return static_cast<std::uint16_t>(v);
}
Result<std::uint32_t> ByteReader::read_u24() {
  M2MSEC_ASSIGN_OR_RETURN(const std::uint64_t v, read_uint(3));
  return static_cast<std::uint32_t>(v);
}
Result<std::uint32_t> ByteReader::read_u32() {
  M2MSEC_ASSIGN_OR_RETURN(const std::uint64_t v, read_uint(4));
  return static_cast<std::uint32_t>(v);
}
Result<std::uint64_t> ByteReader::read_u64() { return read_uint(8); }

Result<ByteView> ByteReader::read_bytes(std::size_t n) {
  if (remaining() < n) return truncated(n, remaining());
  ByteView out = m_data.subspan(m_pos, n);
  m_pos += n;
  return out;
}

Result<ByteView> ByteReader::read_prefixed_u8() {
  M2MSEC_ASSIGN_OR_RETURN(const std::uint8_t n, read_u8());
  return read_bytes(n);
}

Result<ByteView> ByteReader::read_prefixed_u16() {
  M2MSEC_ASSIGN_OR_RETURN(const std::uint16_t n, read_u16());
  return read_bytes(n);
}

Result<void> ByteReader::expect_end() const {
  if (!empty()) {
    return Error{Category::kProtocol, Rsc::kBadRequest, std::to_string(remaining()) + " trailing octets"};
  }
  return {};
}

void ByteWriter::write_uint(std::uint64_t v, std::size_t octets) {
  for (std::size_t i = octets; i > 0; --i) m_out.push_back(static_cast<std::uint8_t>(v >> (8 * (i - 1))));
}

Result<void> ByteWriter::write_u24(std::uint32_t v) {
  if (v > 0xffffffu) return Error::usage("u24 out of range");
  write_uint(v, 3);
  return {};
}

Result<void> ByteWriter::write_prefixed_u8(ByteView bytes) {
  if (bytes.size() > std::numeric_limits<std::uint8_t>::max()) return Error::usage("vector longer than 255 octets");
  write_u8(static_cast<std::uint8_t>(bytes.size()));
  write_bytes(bytes);
  return {};
}

Result<void> ByteWriter::write_prefixed_u16(ByteView bytes) {
  if (bytes.size() > std::numeric_limits<std::uint16_t>::max()) return Error::usage("vector longer than 65535 octets");
  write_u16(static_cast<std::uint16_t>(bytes.size()));
  write_bytes(bytes);
  return {};
}

}  // namespace m2msec

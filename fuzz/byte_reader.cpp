// Fuzz target: ByteReader driven by the input itself. Layout: octet 0 gives the number of operations
// (mod 32), the next octets pick them (low nibble: which read; high nibble: the length for read_bytes),
// and the rest is the reader's view. Every step is checked against a model of the cursor: a read
// succeeds exactly when the octets are there, returns the big-endian value / the borrowed octets at the
// cursor, and never reaches past the view; remaining() and expect_end() agree with the model.
#include <cstdint>

#include "m2msec/core/byte_io.h"

namespace {

using m2msec::ByteView;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

std::uint64_t big_endian(ByteView input, std::size_t pos, std::size_t octets) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < octets; ++i) v = (v << 8) | input[pos + i];
  return v;
}

// A view returned by the reader must be exactly input[pos, pos + n); touching every octet lets ASan
// catch any view that reaches past the input buffer.
void check_view(ByteView view, ByteView input, std::size_t pos, std::size_t n) {
  check(view.size() == n && view.data() == input.data() + pos);
  unsigned sum = 0;
  for (std::uint8_t b : view) sum += b;
  volatile unsigned sink = sum;
  (void)sink;
}

template <typename T>
void fixed(m2msec::Result<T> got, ByteView input, std::size_t& pos, std::size_t octets) {
  const std::size_t left = input.size() - pos;
  check(got.has_value() == (octets <= left));
  if (!got) return;
  check(static_cast<std::uint64_t>(*got) == big_endian(input, pos, octets));
  pos += octets;
}

// A length-prefixed vector: on success the prefix and the body are consumed; on failure the cursor may
// stay or move past the prefix, but no further.
void prefixed(m2msec::ByteReader& reader, m2msec::Result<ByteView> got, ByteView input, std::size_t& pos,
              std::size_t prefix) {
  const std::size_t left = input.size() - pos;
  const bool fits = prefix <= left && prefix + big_endian(input, pos, prefix) <= left;
  check(got.has_value() == fits);
  if (got) {
    check_view(*got, input, pos + prefix, static_cast<std::size_t>(big_endian(input, pos, prefix)));
    pos += prefix + got->size();
    return;
  }
  const std::size_t now = input.size() - reader.remaining();
  check(now == pos || (prefix <= left && now == pos + prefix));
  pos = now;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t op_count = data[0] % 32 < size - 1 ? data[0] % 32 : size - 1;
  const ByteView ops(data + 1, op_count);
  const ByteView input(data + 1 + op_count, size - 1 - op_count);
  m2msec::ByteReader reader(input);
  std::size_t pos = 0;  // the model's cursor
  for (std::uint8_t op : ops) {
    check(reader.remaining() == input.size() - pos && reader.empty() == (pos == input.size()));
    switch ((op & 0x0f) % 9) {
      case 0: fixed(reader.read_u8(), input, pos, 1); break;
      case 1: fixed(reader.read_u16(), input, pos, 2); break;
      case 2: fixed(reader.read_u24(), input, pos, 3); break;
      case 3: fixed(reader.read_u32(), input, pos, 4); break;
      case 4: fixed(reader.read_u64(), input, pos, 8); break;
      case 5: {
        const std::size_t n = op >> 4;
        auto got = reader.read_bytes(n);
        check(got.has_value() == (n <= input.size() - pos));
        if (got) {
          check_view(*got, input, pos, n);
          pos += n;
        }
        break;
      }
      case 6: prefixed(reader, reader.read_prefixed_u8(), input, pos, 1); break;
      case 7: prefixed(reader, reader.read_prefixed_u16(), input, pos, 2); break;
      default: check(reader.expect_end().has_value() == (pos == input.size())); break;
    }
  }
  check(reader.remaining() == input.size() - pos);
  check(reader.expect_end().has_value() == (reader.remaining() == 0));
  return 0;
}

// Fuzz target: ByteReader driven by the input itself. The first octet of each step picks an operation; the
// reader must never read past its view, and remaining()/expect_end() must agree with what was consumed.
#include <cstdint>

#include "m2msec/core/byte_io.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const m2msec::ByteView ops(data, 1);
  m2msec::ByteReader reader(m2msec::ByteView(data + 1, size - 1));
  std::size_t consumed = 0;
  std::uint8_t op = ops[0];
  for (int step = 0; step < 64 && !reader.empty(); ++step, op = static_cast<std::uint8_t>(op * 7 + 3)) {
    const std::size_t before = reader.remaining();
    bool ok = false;
    switch (op % 7) {
      case 0: ok = reader.read_u8().has_value(); break;
      case 1: ok = reader.read_u16().has_value(); break;
      case 2: ok = reader.read_u24().has_value(); break;
      case 3: ok = reader.read_u32().has_value(); break;
      case 4: ok = reader.read_u64().has_value(); break;
      case 5: ok = reader.read_prefixed_u8().has_value(); break;
      default: ok = reader.read_prefixed_u16().has_value(); break;
    }
    if (reader.remaining() > before) __builtin_trap();
    consumed += before - reader.remaining();
    if (!ok && op % 7 <= 4 && reader.remaining() != before) __builtin_trap();  // a failed fixed read moves nothing
  }
  if (consumed + reader.remaining() != size - 1) __builtin_trap();
  if (reader.expect_end().has_value() != reader.empty()) __builtin_trap();
  return 0;
}

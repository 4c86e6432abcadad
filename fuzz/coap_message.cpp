// Fuzz target: the CoAP message parser (RFC 7252 §3). Property: the encoding is canonical (each delta and length
// has one form, options come in number order), so whatever parses serializes back to exactly the input.
#include <cstdint>

#include "m2msec/coap/message.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const m2msec::ByteView in(data, size);
  auto parsed = m2msec::coap::parse(in);
  if (!parsed) return 0;
  auto again = m2msec::coap::serialize(*parsed);
  if (!again || *again != m2msec::Bytes(in.begin(), in.end())) __builtin_trap();
  return 0;
}

#include "m2msec/core/bytes.h"

namespace m2msec {

Bytes concat(std::initializer_list<ByteView> parts) {
  std::size_t total = 0;
  for (ByteView p : parts) total += p.size();
  Bytes out;
  out.reserve(total);
  for (ByteView p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace m2msec

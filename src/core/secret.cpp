#include "m2msec/core/secret.h"

#include <string.h>  // explicit_bzero (glibc)

namespace m2msec {

void secure_zero(void* data, std::size_t size) {
  if (size != 0) explicit_bzero(data, size);
}

namespace ct {
bool equal(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  std::uint8_t diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<std::uint8_t>(a[i] ^ b[i]);
  // Keep the compiler from turning the loop into an early-exit comparison.
  __asm__ __volatile__("" : "+r"(diff));
  return diff == 0;
}
}  // namespace ct

}  // namespace m2msec

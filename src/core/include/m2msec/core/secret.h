// SecretBytes: key material. Zeroized whenever its memory is released, move-only (clone() is the one
// explicit copy), never printable and with no operator== (ct::equal is the only comparison).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "m2msec/core/bytes.h"

namespace m2msec {

namespace ct {
// Constant-time equality of two byte strings: the time depends on the lengths only, never on the
// contents. Different lengths compare unequal (lengths are not secret).
bool equal(ByteView a, ByteView b);
}  // namespace ct

// Overwrites memory in a way the optimiser may not remove.
void secure_zero(void* data, std::size_t size);

template <typename T>
struct ZeroizingAllocator {
  using value_type = T;
  ZeroizingAllocator() = default;
  template <typename U>
  ZeroizingAllocator(const ZeroizingAllocator<U>&) {}
  T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, std::size_t n) {
    secure_zero(p, n * sizeof(T));
    std::allocator<T>{}.deallocate(p, n);
  }
  template <typename U>
  bool operator==(const ZeroizingAllocator<U>&) const { return true; }
};

class SecretBytes {
 public:
  SecretBytes() = default;
  // n zero octets, to be filled by a producer (an RNG, a KDF).
  explicit SecretBytes(std::size_t n) : m_bytes(n) {}
  static SecretBytes copy_of(ByteView bytes) {
    SecretBytes out(bytes.size());
    std::copy(bytes.begin(), bytes.end(), out.m_bytes.begin());
    return out;
  }

  SecretBytes(SecretBytes&&) noexcept = default;
  SecretBytes& operator=(SecretBytes&&) noexcept = default;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes() = default;  // the allocator zeroizes

  SecretBytes clone() const { return copy_of(view()); }

  bool operator==(const SecretBytes&) const = delete;

  std::size_t size() const { return m_bytes.size(); }
  bool empty() const { return m_bytes.empty(); }
  const std::uint8_t* data() const { return m_bytes.data(); }
  std::uint8_t* data() { return m_bytes.data(); }
  // Explicit access to the secret octets; the name makes every use visible in review.
  ByteView view() const { return {m_bytes.data(), m_bytes.size()}; }
  std::span<std::uint8_t> writable() { return {m_bytes.data(), m_bytes.size()}; }
  // Shrinks to the first n octets (for producers that report the length they wrote).
  void truncate(std::size_t n) {
    if (n < m_bytes.size()) {
      secure_zero(m_bytes.data() + n, m_bytes.size() - n);
      m_bytes.resize(n);
    }
  }

 private:
  std::vector<std::uint8_t, ZeroizingAllocator<std::uint8_t>> m_bytes;
};

}  // namespace m2msec

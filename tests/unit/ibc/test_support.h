// What the ibc tests share: hex test data, and Rngs that hand out chosen octets (to reproduce the RFCs' v, j, SSV).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/clock.h"
#include "m2msec/core/encoding.h"

namespace m2msec::ibc::test {

inline Bytes h(std::string_view hex) {
  auto out = hex_decode(hex);
  M2MSEC_CHECK(out.has_value());
  return *out;
}

inline std::string upper(ByteView bytes) { return hex_encode(bytes, HexCase::kUpper); }

// Hands out the given draws in order, then fails.
class QueueRng final : public Rng {
 public:
  explicit QueueRng(std::vector<Bytes> draws) : m_draws(std::move(draws)) {}
  Result<void> fill(std::span<std::uint8_t> out) override {
    if (m_next >= m_draws.size()) return Error::internal("QueueRng: no draw left");
    const Bytes& d = m_draws[m_next++];
    if (d.size() != out.size()) return Error::internal("QueueRng: draw of the wrong size");
    std::copy(d.begin(), d.end(), out.begin());
    return {};
  }
  std::size_t used() const { return m_next; }

 private:
  std::vector<Bytes> m_draws;
  std::size_t m_next = 0;
};

// Always the same octets.
class ConstantRng final : public Rng {
 public:
  explicit ConstantRng(std::uint8_t value) : m_value(value) {}
  Result<void> fill(std::span<std::uint8_t> out) override {
    std::fill(out.begin(), out.end(), m_value);
    return {};
  }

 private:
  std::uint8_t m_value;
};

}  // namespace m2msec::ibc::test

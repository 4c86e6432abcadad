// Time and randomness are injected (constructor parameters), so expiry, replay windows and nonces can be
// tested exactly. Production code uses SystemClock and crypto::system_rng().
#pragma once

#include <chrono>
#include <cstdint>
#include <span>

#include "m2msec/core/result.h"

namespace m2msec {

class Clock {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

// A clock that only moves when told to: for tests and deterministic replays.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : m_now(start) {}
  TimePoint now() const override { return m_now; }
  void advance(std::chrono::system_clock::duration d) { m_now += d; }

 private:
  TimePoint m_now;
};

// A source of cryptographically secure random octets. fill() fails rather than return weak output.
class Rng {
 public:
  virtual ~Rng() = default;
  virtual Result<void> fill(std::span<std::uint8_t> out) = 0;
};

}  // namespace m2msec

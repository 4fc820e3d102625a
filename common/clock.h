// Monotonic time for deadlines and rates. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

namespace tessera {

// Milliseconds on the monotonic clock (not wall time).
inline int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Seconds on the monotonic clock, as a double, for rates.
inline double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace tessera

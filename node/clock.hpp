// The process's clocks, read only at the edges (the runtime, the command lines, tests of real
// components): the cores are handed the time and never read a clock (DESIGN.md §4).
#pragma once

#include <chrono>
#include <cstdint>

namespace umupaka {

// Milliseconds since the Unix epoch: the wall clock (records' hybrid logical clocks, the ledger's
// cluster time, tokens' dates).
inline int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Milliseconds of a monotonic clock: timers (gossip rounds, Raft ticks), durations.
inline int64_t steady_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace umupaka

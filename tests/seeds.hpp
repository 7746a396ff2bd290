// Signing seeds for tests: fixed, so that keys and signatures are the same in every run.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ledger/ids.hpp"

namespace umupaka::test {

// Every byte `b`.
inline SecretSeed filled_seed(uint8_t b) {
  SecretSeed s{};
  s.fill(b);
  return s;
}

// Bytes counting up from `first` (wrapping).
inline SecretSeed counting_seed(uint8_t first) {
  SecretSeed s{};
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(first + i);
  return s;
}

}  // namespace umupaka::test

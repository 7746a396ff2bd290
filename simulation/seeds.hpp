// Seeds for the simulator: one run seed turned into unrelated seeds for each purpose, with
// stable arithmetic (std::hash and <random> distributions differ between standard libraries).
#pragma once

#include <cstdint>
#include <string_view>

namespace umupaka::sim {

// SplitMix64 (Steele, Lea, Flood): turns related seeds into unrelated ones.
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// FNV-1a: a stable hash of a label.
inline uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

// A seed for one purpose (`label`, `salt`) of the run `seed`.
inline uint64_t derive(uint64_t seed, std::string_view label, uint64_t salt) {
  return splitmix64(splitmix64(seed ^ fnv1a(label)) ^ splitmix64(salt));
}

__extension__ typedef unsigned __int128 uint128;  // (GCC and Clang: as __builtin_clzll)

// -ln(u) for u = ((bits >> 11) + 1) / 2^53, in (0, 1]: an exponential draw with mean 1 from 64
// random bits. Computed in integers (log2 by repeated squaring in fixed point, 52 fraction bits)
// and then one exact conversion, a multiplication and a division, so that no maths library's
// rounding of log() enters a seed's run: every IEEE machine draws the same gaps. Within ~1e-15 of
// -std::log(u); 0 for u = 1, about 36.7 for the smallest u.
inline double neg_log_uniform(uint64_t bits) {
  const uint64_t x = (bits >> 11) + 1;  // [1, 2^53]
  const int e = 63 - __builtin_clzll(x);
  // m = x / 2^e in [1, 2) with 62 fraction bits.
  uint64_t m = e >= 62 ? x >> (e - 62) : x << (62 - e);
  uint64_t frac = 0;  // log2(m), 52 fraction bits
  for (int i = 51; i >= 0; --i) {
    m = static_cast<uint64_t>((static_cast<uint128>(m) * m) >> 62);
    if (m >> 63) {  // m * m >= 2
      m >>= 1;
      frac |= uint64_t{1} << i;
    }
  }
  // -ln(u) = ln 2 * (53 - log2(x)); the difference in units of 2^-52, below 2^58.
  const uint64_t units = (uint64_t{53 - static_cast<unsigned>(e)} << 52) - frac;
  return static_cast<double>(units) * 0.6931471805599453 / 0x1.0p52;
}

}  // namespace umupaka::sim

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

}  // namespace umupaka::sim

// Distinct types for identifiers, so an origin is never passed where a seq belongs.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>

namespace umupaka {

// A strongly typed wrapper: explicit construction, comparison, no arithmetic.
template <typename Tag, typename T>
struct StrongId {
  T value{};
  StrongId() = default;
  explicit StrongId(T v) : value(std::move(v)) {}
  friend auto operator<=>(const StrongId&, const StrongId&) = default;
  friend bool operator==(const StrongId&, const StrongId&) = default;
};

struct OriginTag {};
struct SeqTag {};
// The site id of the node that wrote and signed a record ("gatuna", "hq").
using OriginId = StrongId<OriginTag, std::string>;
// Position in one origin's feed, from 1.
using Seq = StrongId<SeqTag, uint64_t>;

// SHA-256 digest.
using Hash = std::array<uint8_t, 32>;
// Ed25519 signature and public key; 32-byte seed as the private key.
using Signature = std::array<uint8_t, 64>;
using PublicKey = std::array<uint8_t, 32>;
using SecretSeed = std::array<uint8_t, 32>;

inline constexpr Hash zero_hash{};

std::string to_hex(const uint8_t* data, size_t size);
template <size_t N>
std::string to_hex(const std::array<uint8_t, N>& a) {
  return to_hex(a.data(), N);
}
// Parses exactly 2*N lower- or upper-case hex digits.
bool from_hex(std::string_view hex, uint8_t* out, size_t size);

}  // namespace umupaka

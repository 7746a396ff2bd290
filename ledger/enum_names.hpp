// Names of enumerators, for JSON and messages. Each enum used in records specializes EnumNames
// with its names in enumerator order (enumerators are 0..N-1). The msgpack encoding uses the
// index; JSON and logs use the name.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace umupaka {

template <typename E>
struct EnumNames;  // specialize: static constexpr std::array<std::string_view, N> names

template <typename E>
constexpr std::string_view enum_name(E e) {
  const auto& names = EnumNames<E>::names;
  const auto i = static_cast<size_t>(e);
  return i < names.size() ? names[i] : std::string_view{"?"};
}

template <typename E>
constexpr std::optional<E> enum_from_name(std::string_view name) {
  const auto& names = EnumNames<E>::names;
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<E>(i);
  return std::nullopt;
}

template <typename E>
constexpr std::optional<E> enum_from_index(uint64_t i) {
  if (i >= EnumNames<E>::names.size()) return std::nullopt;
  return static_cast<E>(i);
}

#define UMUPAKA_ENUM_NAMES(E, ...)                                                \
  template <>                                                                     \
  struct EnumNames<E> {                                                           \
    static constexpr auto names = std::to_array<std::string_view>({__VA_ARGS__}); \
  }

}  // namespace umupaka

// Hybrid logical clock (Kulkarni et al.): 48 bits of physical milliseconds, 16 bits of logical
// counter. Orders records across sites consistently with causality while staying close to wall
// time. Pure: the caller passes the wall clock in.
#pragma once

#include <cstdint>

namespace umupaka {

struct Hlc {
  uint64_t value = 0;
  int64_t physical_ms() const { return static_cast<int64_t>(value >> 16); }
  uint16_t logical() const { return static_cast<uint16_t>(value & 0xffff); }
  static Hlc make(int64_t physical_ms, uint16_t logical) {
    return Hlc{(static_cast<uint64_t>(physical_ms) << 16) | logical};
  }
  friend auto operator<=>(const Hlc&, const Hlc&) = default;
};

class HlcClock {
 public:
  // A timestamp for a local event: strictly greater than every timestamp issued or observed.
  Hlc now(int64_t wall_ms) {
    const Hlc wall = Hlc::make(wall_ms < 0 ? 0 : wall_ms, 0);
    last_ = wall > last_ ? wall : Hlc{last_.value + 1};
    return last_;
  }
  // Take a remote timestamp into account (on receipt of a record).
  void observe(Hlc remote) {
    if (remote > last_) last_ = remote;
  }
  Hlc last() const { return last_; }

 private:
  Hlc last_{};
};

}  // namespace umupaka

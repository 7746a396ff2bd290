// Inflights: the bounded window of append messages sent to one follower and not yet acknowledged
// (etcd's tracker.Inflights). Each slot holds the last index the message carried; acknowledging
// index i frees every slot <= i. The window's capacity is Config::max_inflight_msgs.
#pragma once

#include <cstddef>
#include <deque>

#include "consensus/types.hpp"

namespace umupaka::raft {

class Inflights {
 public:
  explicit Inflights(size_t capacity);

  // Precondition: !full(), and `last` is above every index held (messages go out in order).
  void add(LogIndex last);
  // Frees every slot whose index is <= to.
  void free_le(LogIndex to);
  // Frees the oldest slot (a heartbeat response proves the follower is alive; without this a
  // window of lost messages would stall replication until the follower rejects).
  void free_first_one();
  bool full() const { return slots_.size() == capacity_; }
  size_t count() const { return slots_.size(); }
  size_t capacity() const { return capacity_; }
  void reset() { slots_.clear(); }

 private:
  std::deque<LogIndex> slots_;
  size_t capacity_;
};

}  // namespace umupaka::raft

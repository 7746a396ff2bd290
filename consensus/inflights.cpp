#include "consensus/inflights.hpp"

#include "consensus/assert.hpp"

namespace umupaka::raft {

Inflights::Inflights(size_t capacity) : capacity_(capacity) { UMUPAKA_RAFT_ASSERT(capacity > 0); }

void Inflights::add(LogIndex last) {
  UMUPAKA_RAFT_ASSERT_MSG(!full(), "inflight window full");
  UMUPAKA_RAFT_ASSERT(slots_.empty() || slots_.back() < last);
  slots_.push_back(last);
}

void Inflights::free_le(LogIndex to) {
  while (!slots_.empty() && slots_.front() <= to) slots_.pop_front();
}

void Inflights::free_first_one() {
  if (!slots_.empty()) slots_.pop_front();
}

}  // namespace umupaka::raft

#include "consensus/quorum.hpp"

#include <algorithm>
#include <functional>

#include "consensus/assert.hpp"

namespace umupaka::raft {

LogIndex majority_committed_index(std::vector<LogIndex> acked) {
  UMUPAKA_RAFT_ASSERT(!acked.empty());
  std::sort(acked.begin(), acked.end(), std::greater<>());
  // The q-th largest value is held by q voters: a majority.
  return acked[majority_size(acked.size()) - 1];
}

VoteResult majority_vote_result(size_t voters, size_t granted, size_t rejected) {
  UMUPAKA_RAFT_ASSERT(granted + rejected <= voters);
  if (voters == 0) return VoteResult::won;  // by convention, as etcd; never campaigned on
  const size_t q = majority_size(voters);
  if (granted >= q) return VoteResult::won;
  const size_t missing = voters - granted - rejected;
  if (granted + missing >= q) return VoteResult::pending;
  return VoteResult::lost;
}

}  // namespace umupaka::raft

// Majority quorums over one voter set (etcd's quorum.MajorityConfig, without joint consensus:
// membership changes here move one node at a time).
#pragma once

#include <cstddef>
#include <vector>

#include "consensus/types.hpp"

namespace umupaka::raft {

enum class VoteResult : uint8_t { pending, lost, won };

// Votes needed out of n voters.
inline size_t majority_size(size_t voters) { return voters / 2 + 1; }

// The highest index acknowledged by a majority, given each voter's acknowledged index.
// Precondition: at least one voter.
LogIndex majority_committed_index(std::vector<LogIndex> acked);

// The outcome of an election among `voters` voters so far.
VoteResult majority_vote_result(size_t voters, size_t granted, size_t rejected);

}  // namespace umupaka::raft

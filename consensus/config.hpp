// Config: everything a Raft node is started with. Every limit is a field here, checked by
// validate(); RawNode::create refuses a Config that does not validate.
#pragma once

#include <cstdint>

#include "consensus/result.hpp"
#include "consensus/storage.hpp"
#include "consensus/types.hpp"

namespace umupaka::raft {

// Upper bounds that validate() enforces, so that arithmetic on the fields cannot overflow and a
// typo cannot ask for unbounded memory.
inline constexpr uint32_t election_tick_max = 1'000'000;
inline constexpr uint64_t max_inflight_msgs_max = 1 << 16;
inline constexpr uint64_t max_pending_reads_max = 1 << 20;
inline constexpr size_t node_id_bytes_max = 64;
// The byte limits (max_size_per_msg, max_committed_size_per_ready, max_uncommitted_entries_size):
// each is memory the node may hold at once for it. An application whose transport frames are
// smaller keeps max_size_per_msg below its frame limit itself.
inline constexpr uint64_t byte_limit_max = uint64_t{1} << 30;

struct Config {
  // This node's id (a site slug); not empty.
  NodeId id;
  // Ticks without hearing from a leader before a follower campaigns. The actual timeout is drawn
  // from [election_tick, 2 * election_tick - 1] on each reset, from the seeded PRNG.
  // A leader with check_quorum steps down after election_tick ticks without a quorum.
  uint32_t election_tick = 10;
  // Ticks between a leader's heartbeats. Must be less than election_tick (typically 1/10).
  uint32_t heartbeat_tick = 1;
  // Ticks between a leader's heartbeats to learners; 0 means heartbeat_tick. Learners never
  // campaign, so a heartbeat is no lease to them: they hear every commit in the appends the leader
  // sends when its commit index moves, and a heartbeat only repairs an append lost while the log
  // is idle. Where learners are most of the cluster (border posts under a few voters), a slower
  // beat to them removes most of the heartbeat traffic. Only learners the leader replicates to
  // (progress in replicate state) get the slower beat; one being probed gets every beat, since a
  // heartbeat's answer is what resumes a paused probe (a new leader reaches its learners within a
  // beat). Must not be below heartbeat_tick.
  uint32_t learner_heartbeat_tick = 0;
  // Where the durable log is read from; borrowed, must outlive the node. Not null.
  const Storage* storage = nullptr;
  // The last index the application's state machine has applied, on (re)start: committed entries
  // after it are handed out again. 0 means first_index() - 1 of the storage; an application that
  // compacts behind its snapshot passes the snapshot's index. Must lie within
  // [first_index() - 1, hard state commit].
  LogIndex applied = 0;
  // Bytes of entries (entry_size_bytes) per append message; a single larger entry still goes
  // out alone.
  uint64_t max_size_per_msg = 64 * 1024;
  // Bytes of committed entries (entry_size_bytes) handed out per Ready.
  uint64_t max_committed_size_per_ready = 1024 * 1024;
  // Leader: bytes of payload (entry_payload_bytes) proposed but not yet committed; beyond it,
  // proposals fail with Errc::limit_exceeded.
  uint64_t max_uncommitted_entries_size = 1024 * 1024;
  // Append messages in flight per follower in replicate state (the pipelining window).
  uint64_t max_inflight_msgs = 256;
  // Read requests pending confirmation at a leader; beyond it, Errc::limit_exceeded (local) or
  // dropped (forwarded).
  uint64_t max_pending_reads = 1024;
  // Run a pre-election first (Raft thesis §9.6): a node whose log is behind, or that cannot reach
  // a quorum, does not bump its term and so does not disrupt the cluster when it comes back. One
  // whose log is up to date still does unless check_quorum is on too: pre-votes are refused
  // during a live leader's lease only with it (as in etcd-io/raft). The order plane sets both.
  bool pre_vote = true;
  // A leader steps down when it has not heard from a quorum within election_tick, and followers
  // ignore vote requests while they hear from a live leader (leader lease).
  bool check_quorum = true;
  // Seeds the node's own PRNG (std::mt19937_64), which draws its election timeouts. Give each
  // node a different seed.
  uint64_t seed = 0;

  // Ok, or Errc::invalid_config naming the first bad field. Reads the storage's initial state to
  // check `applied`.
  Status validate() const;
};

}  // namespace umupaka::raft

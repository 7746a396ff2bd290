// ProgressTracker: the configuration a node currently uses (voters and learners, as of the last
// applied conf change or snapshot), the leader's Progress of every member, and the votes of the
// current election (etcd's tracker.ProgressTracker plus confchange.Changer, one node at a time).
//
// Members are kept in std::map so that every walk is in sorted id order (deterministic output).
// Learners receive the log but never count toward a quorum, for commit, votes or liveness.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "consensus/progress.hpp"
#include "consensus/quorum.hpp"
#include "consensus/result.hpp"
#include "consensus/types.hpp"

namespace umupaka::raft {

class ProgressTracker {
 public:
  explicit ProgressTracker(size_t max_inflight) : max_inflight_(max_inflight) {}

  // Replace the configuration by `cs`; every member's progress starts over (match 0, next
  // last_index + 1). Precondition: cs.well_formed().
  void reset(const ConfState& cs, LogIndex last_index);
  // Whether `cc` applies to the current configuration: Errc::conf_change_invalid if it would
  // remove or demote the last voter, promote a node that is not a learner, or name no node.
  Status check(const ConfChange& cc) const;
  // Apply `cc` (one node at a time). A change that check() rejects leaves the configuration as it
  // is. New members start with match 0, next last_index (the leader probes its last entry).
  void apply(const ConfChange& cc, LogIndex last_index);

  ConfState conf_state() const;
  bool is_voter(const NodeId& id) const;
  bool is_learner(const NodeId& id) const;
  size_t voter_count() const { return voter_count_; }
  // The only voter is `id`.
  bool is_singleton(const NodeId& id) const { return voter_count_ == 1 && is_voter(id); }

  Progress* progress(const NodeId& id);
  const Progress* progress(const NodeId& id) const;
  std::map<NodeId, Progress>& all() { return progress_; }
  const std::map<NodeId, Progress>& all() const { return progress_; }

  // The highest index a majority of voters acknowledged (match). Precondition: voters exist.
  LogIndex committed() const;
  // Whether a majority of voters were recently active (self counted as active).
  bool quorum_active(const NodeId& self) const;

  void reset_votes() { votes_.clear(); }
  // Records id's first answer in this election (later answers are ignored).
  void record_vote(const NodeId& id, bool granted);
  // Tally among voters only.
  VoteResult tally_votes() const;
  // Majority of voters among `acks` (ReadIndex confirmations).
  VoteResult ack_result(const std::map<NodeId, bool>& acks) const;
  size_t granted_votes() const;

 private:
  std::map<NodeId, Progress> progress_;
  std::map<NodeId, bool> votes_;
  size_t voter_count_ = 0;
  size_t max_inflight_;
};

}  // namespace umupaka::raft

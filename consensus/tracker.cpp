#include "consensus/tracker.hpp"

#include <algorithm>
#include <vector>

#include "consensus/assert.hpp"

namespace umupaka::raft {

void ProgressTracker::reset(const ConfState& cs, LogIndex last_index) {
  UMUPAKA_RAFT_ASSERT(cs.well_formed());
  progress_.clear();
  votes_.clear();
  voter_count_ = 0;
  for (const NodeId& id : cs.voters) {
    progress_.emplace(id, Progress(0, last_index + 1, max_inflight_, false));
    ++voter_count_;
  }
  for (const NodeId& id : cs.learners) {
    progress_.emplace(id, Progress(0, last_index + 1, max_inflight_, true));
  }
}

Status ProgressTracker::check(const ConfChange& cc) const {
  if (cc.node.empty()) return make_error(Errc::conf_change_invalid, "conf change names no node");
  switch (cc.type) {
    case ConfChangeType::add_voter:
      return {};
    case ConfChangeType::add_learner:
      if (is_voter(cc.node) && voter_count_ == 1) {
        return make_error(Errc::conf_change_invalid, "add_learner: would demote the last voter");
      }
      return {};
    case ConfChangeType::promote_learner:
      if (!is_learner(cc.node)) {
        return make_error(Errc::conf_change_invalid, "promote_learner: not a learner: " + cc.node);
      }
      return {};
    case ConfChangeType::remove_node:
      if (is_voter(cc.node) && voter_count_ == 1) {
        return make_error(Errc::conf_change_invalid, "remove_node: would remove the last voter");
      }
      return {};
  }
  return make_error(Errc::conf_change_invalid, "unknown conf change type");
}

void ProgressTracker::apply(const ConfChange& cc, LogIndex last_index) {
  if (!check(cc).ok()) return;
  const LogIndex next = std::max<LogIndex>(last_index, 1);
  auto it = progress_.find(cc.node);
  switch (cc.type) {
    case ConfChangeType::add_voter:
    case ConfChangeType::promote_learner:
      if (it == progress_.end()) {
        Progress pr(0, next, max_inflight_, false);
        pr.set_recent_active(true);
        progress_.emplace(cc.node, std::move(pr));
        ++voter_count_;
      } else if (it->second.is_learner()) {
        it->second.set_learner(false);
        ++voter_count_;
      }
      break;
    case ConfChangeType::add_learner:
      if (it == progress_.end()) {
        Progress pr(0, next, max_inflight_, true);
        pr.set_recent_active(true);
        progress_.emplace(cc.node, std::move(pr));
      } else if (!it->second.is_learner()) {
        it->second.set_learner(true);
        --voter_count_;
      }
      break;
    case ConfChangeType::remove_node:
      if (it != progress_.end()) {
        if (!it->second.is_learner()) --voter_count_;
        progress_.erase(it);
      }
      break;
  }
  UMUPAKA_RAFT_ASSERT(conf_state().well_formed());
}

ConfState ProgressTracker::conf_state() const {
  ConfState cs;
  for (const auto& [id, pr] : progress_) {
    (pr.is_learner() ? cs.learners : cs.voters).push_back(id);
  }
  UMUPAKA_RAFT_ASSERT(cs.voters.size() == voter_count_);
  return cs;
}

bool ProgressTracker::is_voter(const NodeId& id) const {
  const auto it = progress_.find(id);
  return it != progress_.end() && !it->second.is_learner();
}

bool ProgressTracker::is_learner(const NodeId& id) const {
  const auto it = progress_.find(id);
  return it != progress_.end() && it->second.is_learner();
}

Progress* ProgressTracker::progress(const NodeId& id) {
  const auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

const Progress* ProgressTracker::progress(const NodeId& id) const {
  const auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

LogIndex ProgressTracker::committed() const {
  std::vector<LogIndex> acked;
  acked.reserve(voter_count_);
  for (const auto& [id, pr] : progress_) {
    if (!pr.is_learner()) acked.push_back(pr.match());
  }
  return majority_committed_index(std::move(acked));
}

bool ProgressTracker::quorum_active(const NodeId& self) const {
  size_t active = 0;
  for (const auto& [id, pr] : progress_) {
    if (pr.is_learner()) continue;
    if (id == self || pr.recent_active()) ++active;
  }
  return active >= majority_size(voter_count_);
}

void ProgressTracker::record_vote(const NodeId& id, bool granted) { votes_.emplace(id, granted); }

VoteResult ProgressTracker::tally_votes() const { return ack_result(votes_); }

VoteResult ProgressTracker::ack_result(const std::map<NodeId, bool>& acks) const {
  size_t granted = 0;
  size_t rejected = 0;
  for (const auto& [id, yes] : acks) {
    if (!is_voter(id)) continue;
    (yes ? granted : rejected) += 1;
  }
  return majority_vote_result(voter_count_, granted, rejected);
}

size_t ProgressTracker::granted_votes() const {
  size_t granted = 0;
  for (const auto& [id, yes] : votes_) granted += (yes && is_voter(id)) ? 1 : 0;
  return granted;
}

}  // namespace umupaka::raft

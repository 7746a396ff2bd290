#include "consensus/progress.hpp"

#include <algorithm>

#include "consensus/assert.hpp"

namespace umupaka::raft {

const char* progress_state_name(ProgressState s) {
  switch (s) {
    case ProgressState::probe:
      return "probe";
    case ProgressState::replicate:
      return "replicate";
    case ProgressState::snapshot:
      return "snapshot";
  }
  return "unknown";
}

Progress::Progress(LogIndex match, LogIndex next, size_t max_inflight, bool is_learner)
    : match_(match), next_(next), is_learner_(is_learner), inflights_(max_inflight) {
  UMUPAKA_RAFT_ASSERT(next_ >= 1);
}

void Progress::reset_state(ProgressState state) {
  probe_sent_ = false;
  pending_snapshot_ = 0;
  state_ = state;
  inflights_.reset();
}

void Progress::become_probe() {
  // After a snapshot, resume right after it (or after match, whichever is later).
  if (state_ == ProgressState::snapshot) {
    const LogIndex pending = pending_snapshot_;
    reset_state(ProgressState::probe);
    next_ = std::max(match_ + 1, pending + 1);
  } else {
    reset_state(ProgressState::probe);
    next_ = match_ + 1;
  }
}

void Progress::lost_entries(LogIndex held) {
  reset_state(ProgressState::probe);
  match_ = std::min(match_, held);
  next_ = match_ + 1;
}

void Progress::become_replicate() {
  reset_state(ProgressState::replicate);
  next_ = match_ + 1;
}

void Progress::become_snapshot(LogIndex snapshot_index) {
  UMUPAKA_RAFT_ASSERT(snapshot_index > 0);
  reset_state(ProgressState::snapshot);
  pending_snapshot_ = snapshot_index;
}

bool Progress::maybe_update(LogIndex n) {
  bool updated = false;
  if (match_ < n) {
    match_ = n;
    updated = true;
    probe_sent_ = false;
  }
  next_ = std::max(next_, n + 1);
  return updated;
}

bool Progress::maybe_decr_to(LogIndex rejected, LogIndex match_hint) {
  if (state_ == ProgressState::replicate) {
    // Stale if the rejected index is already known to match.
    if (rejected <= match_) return false;
    next_ = match_ + 1;
    return true;
  }
  // Probe or snapshot: only the answer to the latest probe counts.
  if (next_ - 1 != rejected) return false;
  next_ = std::max<LogIndex>(std::min(rejected, match_hint + 1), 1);
  next_ = std::max(next_, match_ + 1);
  probe_sent_ = false;
  return true;
}

void Progress::sent_entries(LogIndex last) {
  switch (state_) {
    case ProgressState::replicate:
      optimistic_update(last);
      inflights_.add(last);
      break;
    case ProgressState::probe:
      probe_sent_ = true;
      break;
    case ProgressState::snapshot:
      UMUPAKA_RAFT_ASSERT_MSG(false, "sending entries in snapshot state");
  }
}

void Progress::heard_heartbeat_response() {
  probe_sent_ = false;
  if (state_ == ProgressState::replicate && inflights_.full()) inflights_.free_first_one();
}

bool Progress::is_paused() const {
  switch (state_) {
    case ProgressState::probe:
      return probe_sent_;
    case ProgressState::replicate:
      return inflights_.full();
    case ProgressState::snapshot:
      return true;
  }
  return true;
}

}  // namespace umupaka::raft

// Progress: the leader's view of one follower's log (etcd's tracker.Progress), and the flow
// control state that decides what to send it next.
//
//   probe      we do not know where the follower's log ends: send one append at a time and wait
//              for its answer (paused after each send until a response or heartbeat response);
//   replicate  the follower keeps up: stream appends optimistically, up to the inflight window;
//   snapshot   the follower needs entries we compacted away: a snapshot is on its way, nothing
//              else is sent until report_snapshot or an append response past it.
//
// Invariants: match < next; in snapshot state pending_snapshot > 0 (until a failed report).
#pragma once

#include <cstddef>
#include <cstdint>

#include "consensus/inflights.hpp"
#include "consensus/types.hpp"

namespace umupaka::raft {

enum class ProgressState : uint8_t { probe, replicate, snapshot };
const char* progress_state_name(ProgressState s);

class Progress {
 public:
  Progress(LogIndex match, LogIndex next, size_t max_inflight, bool is_learner);

  void become_probe();
  // The follower lost acknowledged entries (its durable state went back): it holds up to `held`;
  // probed from there.
  void lost_entries(LogIndex held);
  void become_replicate();
  void become_snapshot(LogIndex snapshot_index);

  // An append response acknowledged index n: true if match advanced.
  bool maybe_update(LogIndex n);
  // Appends up to n are on their way (replicate state).
  void optimistic_update(LogIndex n) { next_ = n + 1; }
  // The follower rejected an append at index `rejected`, hinting that its log matches up to at
  // most match_hint. False if the rejection is stale (out of order).
  bool maybe_decr_to(LogIndex rejected, LogIndex match_hint);
  // Book-keeping after sending an append carrying entries [.., last]: fills the window in
  // replicate state, pauses in probe state.
  void sent_entries(LogIndex last);
  // A heartbeat response arrived: resume probing, free one slot of a full window.
  void heard_heartbeat_response();
  bool is_paused() const;

  LogIndex match() const { return match_; }
  LogIndex next() const { return next_; }
  ProgressState state() const { return state_; }
  LogIndex pending_snapshot() const { return pending_snapshot_; }
  void clear_pending_snapshot() { pending_snapshot_ = 0; }
  void pause_probe() { probe_sent_ = true; }
  bool recent_active() const { return recent_active_; }
  void set_recent_active(bool active) { recent_active_ = active; }
  bool is_learner() const { return is_learner_; }
  void set_learner(bool learner) { is_learner_ = learner; }
  const Inflights& inflights() const { return inflights_; }
  void free_inflights_le(LogIndex to) { inflights_.free_le(to); }

 private:
  void reset_state(ProgressState state);

  LogIndex match_;
  LogIndex next_;
  ProgressState state_ = ProgressState::probe;
  LogIndex pending_snapshot_ = 0;
  bool recent_active_ = false;
  bool probe_sent_ = false;
  bool is_learner_;
  Inflights inflights_;
};

}  // namespace umupaka::raft

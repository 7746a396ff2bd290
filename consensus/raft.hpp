// Raft: the consensus state machine of one node (etcd's raft.go). Pure: no I/O, no clock, no
// threads; the only randomness is a PRNG seeded from Config::seed. Driven through RawNode
// (raw_node.hpp), which is the interface callers use; Raft itself is the protocol.
//
// What it implements (Raft paper and Ongaro's thesis, as etcd does):
//   - leader election with randomized timeouts drawn from [election_tick, 2*election_tick - 1];
//   - PreVote (thesis §9.6) and CheckQuorum with leader lease (followers hearing from a live
//     leader ignore vote requests; a leader that has not heard from a quorum within an election
//     timeout steps down);
//   - log replication batched by max_size_per_msg, pipelined up to max_inflight_msgs per
//     follower, with probe/replicate/snapshot progress states (progress.hpp);
//   - commitment only by counting replicas of an entry of the current term (§5.4.2);
//   - learners, which receive the log but never vote, campaign or count toward a quorum;
//   - membership changes one node at a time, at most one pending, taking effect when the
//     application applies them (apply_conf_change); a new leader may propose one only after
//     applying its own first entry;
//   - leader transfer (transfer_leader, timeout_now), snapshots for followers behind the
//     compacted log, and linearizable reads (ReadIndex, confirmed by a heartbeat round).
//
// Roles are the usual ones; each has its own step function (step_leader, step_candidate shared
// by pre-candidate and candidate, step_follower) and tick function.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "consensus/config.hpp"
#include "consensus/raft_log.hpp"
#include "consensus/read_only.hpp"
#include "consensus/tracker.hpp"
#include "consensus/types.hpp"

namespace umupaka::raft {

// Volatile state that the application may want to display: who leads, and our role.
struct SoftState {
  NodeId leader;
  Role role = Role::follower;
  friend bool operator==(const SoftState&, const SoftState&) = default;
};

// A leader's view of one member, for status().
struct ProgressStatus {
  NodeId id;
  LogIndex match = 0;
  LogIndex next = 0;
  ProgressState state = ProgressState::probe;
  bool is_learner = false;
  bool recent_active = false;
  bool paused = false;
  uint64_t inflight_msgs = 0;
};

struct RaftStatus {
  NodeId id;
  Role role = Role::follower;
  Term term = 0;
  NodeId vote;
  NodeId leader;
  LogIndex commit = 0;
  LogIndex applied = 0;
  LogIndex last_index = 0;
  NodeId lead_transferee;
  ConfState conf_state;
  std::vector<ProgressStatus> progress;  // leader only, sorted by id (self included)
};

class Raft {
 public:
  // Precondition: config.validate().ok(). Starts as a follower from the storage's state.
  explicit Raft(const Config& config);

  // Feeds one message (from a peer, or local: term 0). Errors are values for proposals and
  // requests that cannot be served (see result.hpp); everything else returns ok.
  Status step(Message m);
  // One tick of logical time.
  void tick();
  // Applies a committed conf change to the configuration in use; returns the new configuration.
  ConfState apply_conf_change(const ConfChange& cc);

  // Output, taken by RawNode when it builds a Ready.
  std::vector<Message> take_messages();
  std::vector<ReadState> take_read_states();
  bool has_messages() const { return !msgs_.empty(); }
  bool has_read_states() const { return !read_states_.empty(); }
  // The application persisted and applied what a Ready held.
  void advance(LogIndex applied_index, const std::optional<Entry>& last_persisted,
               LogIndex persisted_snapshot_index, uint64_t applied_payload_bytes);

  SoftState soft_state() const { return SoftState{lead_, role_}; }
  HardState hard_state() const { return HardState{term_, vote_, log_.committed()}; }
  RaftStatus status() const;
  const RaftLog& log() const { return log_; }
  const ProgressTracker& tracker() const { return tracker_; }
  const NodeId& id() const { return id_; }
  Role role() const { return role_; }
  Term term() const { return term_; }
  const NodeId& leader() const { return lead_; }

 private:
  enum class CampaignType : uint8_t { pre_election, election, transfer };

  // Role changes.
  void become_follower(Term term, const NodeId& lead);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void reset(Term term);
  void reset_randomized_election_timeout();

  // Role step functions.
  Status step_leader(Message& m);
  Status step_candidate(Message& m);
  Status step_follower(Message& m);
  void tick_election();
  void tick_heartbeat();

  // Elections.
  bool promotable() const;
  void hup(CampaignType t);
  void campaign(CampaignType t);
  void handle_vote_request(const Message& m);
  bool in_lease() const;

  // Leader.
  Status handle_proposal(Message& m);
  Status handle_read_index(const Message& m);
  void send_read_index_confirmation(const Message& m);
  void release_pending_reads();
  void answer_reads_won();
  void respond_read(const Message& request, LogIndex index);
  bool committed_entry_in_current_term() const;
  void handle_append_response(const Message& m, Progress& pr);
  void handle_heartbeat_response(const Message& m, Progress& pr);
  void handle_transfer_leader(const Message& m, Progress& pr);
  bool append_entry(std::vector<Entry>& es);
  bool maybe_commit();
  void bcast_append();
  void send_append(const NodeId& to) { maybe_send_append(to, true); }
  bool maybe_send_append(const NodeId& to, bool send_if_empty);
  void bcast_heartbeat();
  void bcast_heartbeat_with_context(const std::string& context);
  void send_heartbeat(const NodeId& to, const std::string& context);
  void send_timeout_now(const NodeId& to);
  void abort_leader_transfer() { lead_transferee_.clear(); }
  bool increase_uncommitted_size(const std::vector<Entry>& es);

  // Follower.
  void handle_append_entries(const Message& m);
  void handle_heartbeat(const Message& m);
  void handle_snapshot(const Message& m);
  bool restore(const Snapshot& snap);

  ConfState switch_to_config();
  void send(Message m);

  NodeId id_;
  Term term_ = 0;
  NodeId vote_;
  NodeId lead_;
  Role role_ = Role::follower;
  RaftLog log_;
  ProgressTracker tracker_;
  std::vector<Message> msgs_;
  std::vector<ReadState> read_states_;
  ReadOnly read_only_;
  std::vector<Message> pending_read_msgs_;  // reads waiting for a commit in the current term
  NodeId lead_transferee_;
  LogIndex pending_conf_index_ = 0;  // leader: conf changes up to here may be unapplied
  uint64_t uncommitted_size_bytes_ = 0;
  uint32_t election_elapsed_ = 0;  // ticks since reset (leader: since last check_quorum)
  uint32_t heartbeat_elapsed_ = 0;
  uint32_t election_timeout_;
  uint32_t heartbeat_timeout_;
  uint32_t learner_heartbeat_elapsed_ = 0;
  uint32_t learner_heartbeat_timeout_;
  bool beat_learners_ = true;  // false while a periodic beat is not due at learners
  uint32_t randomized_election_timeout_ = 0;
  uint64_t max_size_per_msg_;
  uint64_t max_uncommitted_size_bytes_;
  uint64_t max_pending_reads_;
  bool pre_vote_;
  bool check_quorum_;
  std::mt19937_64 rng_;
};

}  // namespace umupaka::raft

// RawNode: the interface of one Raft node (etcd's rawnode.go). Single-threaded: the caller drives
// it from one thread (or one event loop), feeding it ticks, peer messages and requests, and
// handling each Ready it returns.
//
// THE READY CONTRACT. Whenever has_ready() is true (check after every call below), the caller
// takes rd = ready() and, in this order:
//
//   1. Persists, atomically and durably:
//        - rd.snapshot if present (replacing the stored log up to its index: MemoryStorage::
//          apply_snapshot), then
//        - rd.entries (appended; an entry at an index already stored replaces it and everything
//          after it: MemoryStorage::append), then
//        - rd.hard_state if present.
//      If rd.must_sync, the write is fsync'd before going on (a new term, vote, commit index or
//      entries: losing them could make this node vote twice, forget acknowledged entries, or
//      restart with entries applied beyond its commit index). Otherwise it may be left to the
//      next sync. (The order plane syncs every write: the flag is for drivers that batch.)
//   2. Sends rd.messages, only now: a message may acknowledge an entry or a vote that must not
//      be lost. Delivery is best effort (messages may be lost, duplicated or reordered). If a
//      snap message cannot be delivered, call report_snapshot(to, false); once it is delivered
//      and installed, report_snapshot(to, true). If a peer is unreachable, report_unreachable.
//   3. Applies to the state machine, in order: rd.snapshot's data if present, then
//      rd.committed_entries. For a conf_change entry, call apply_conf_change(decoded change) and
//      store the ConfState it returns with the state (it is the configuration for a snapshot
//      taken at that index). Normal entries with empty data are the leaders' no-ops.
//   4. Serves rd.read_states: a read with that context may be answered once the state machine
//      has applied rd.read_states[k].index.
//   5. Calls advance(rd).
//
// ready() may not be called again before advance(); has_ready() is false meanwhile. tick, step
// and the requests may be called between ready() and advance(); their output comes in the next
// Ready. (A snap message is the exception: step refuses it until advance(), with
// Errc::snapshot_temporarily_unavailable, so that a Ready's configuration changes are never
// applied on top of a newer snapshot's configuration.) rd.soft_state, when present, is
// informational (leader and role changed).
//
// PROPOSALS on a node that is not the leader are forwarded to the leader it knows, and
// propose() returns ok: forwarding is best effort, and a proposal is known to be accepted only
// when it comes back committed. Without a known leader (or during an election) propose() fails
// with Errc::no_leader and nothing is sent; the caller retries later. A leader refuses with
// Errc::proposal_dropped (leadership transfer in progress, or removed from the configuration),
// Errc::limit_exceeded (max_uncommitted_entries_size) or, for conf changes,
// Errc::conf_change_pending / Errc::conf_change_invalid. Forwarded proposals refused by the leader
// are dropped without an answer.
//
// CONFIGURATION CHANGES move one node at a time (ConfChangeType). At most one may be pending: the
// leader refuses another until the previous is applied, and a new leader refuses any until its
// first entry is applied. A change takes effect on each node when that node applies it. A leader
// that applies its own removal or demotion steps down (handing over to an up-to-date voter with
// timeout_now where it can); a removed or demoted follower stops campaigning and voting.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "consensus/config.hpp"
#include "consensus/raft.hpp"
#include "consensus/result.hpp"
#include "consensus/types.hpp"

namespace umupaka::raft {

struct Ready {
  std::optional<SoftState> soft_state;   // changed since the last Ready
  std::optional<HardState> hard_state;   // changed since the last Ready: persist
  std::vector<Entry> entries;            // persist before sending messages
  std::optional<Snapshot> snapshot;      // persist, then apply, before committed_entries
  std::vector<Entry> committed_entries;  // apply, in order
  std::vector<Message> messages;         // send only after persisting
  std::vector<ReadState> read_states;    // serve once applied up to their index
  bool must_sync = false;                // fsync the persisted state before sending
};

class RawNode {
 public:
  // Errc::invalid_config if config.validate() fails. The storage is borrowed.
  static Result<RawNode> create(const Config& config);

  // One tick of logical time (the runtime's timer; the simulator's clock).
  void tick();
  // Start an election now (pre-vote first when enabled). Ignored by a leader, a learner, or a node
  // outside the configuration.
  void campaign();
  // Propose opaque data for the log. See PROPOSALS above for the errors.
  Status propose(std::string data);
  Status propose_conf_change(const ConfChange& cc);
  // Feed a message from a peer. Errc::step_local_msg for a type only the node itself makes,
  // Errc::step_peer_not_found for a response from outside the configuration, Errc::decode for a
  // malformed message; all are dropped.
  Status step(Message m);

  bool has_ready() const;
  // Precondition: no Ready outstanding (advance() called for the previous one).
  Ready ready();
  // Precondition: rd is the outstanding Ready, handled as the contract says.
  void advance(const Ready& rd);

  // Apply a committed conf change (step 3 of the contract); returns the new configuration.
  ConfState apply_conf_change(const ConfChange& cc);
  // Ask the leader to hand leadership to `to` (a voter). Forwarded like a proposal;
  // Errc::no_leader when no leader is known. The transfer is abandoned after an election timeout.
  Status transfer_leadership(const NodeId& to);
  // Request a linearizable read; the answer comes as a ReadState with the same context, in a
  // later Ready, once a heartbeat round confirmed leadership. `context` must be non-empty and
  // never used before by any node of the cluster (a node id and a counter, say), as etcd requires:
  // heartbeat replies are matched to reads by context alone, so a late reply to an earlier read
  // with the same context could confirm a read the leader no longer has the right to answer.
  // Errc::no_leader when no leader is known (or during an election), Errc::limit_exceeded past
  // max_pending_reads. A read may also never be answered (the leader changed, or messages were
  // lost): the caller times out and retries with a new context.
  Status read_index(std::string context);

  RaftStatus status() const { return raft_.status(); }
  // The transport failed to deliver a message to `id`.
  void report_unreachable(const NodeId& id);
  // A snapshot sent to `id` was installed (ok) or could not be delivered (!ok).
  void report_snapshot(const NodeId& id, bool ok);

  const Raft& raft() const { return raft_; }

 private:
  explicit RawNode(const Config& config);

  Raft raft_;
  SoftState prev_soft_;
  HardState prev_hard_;
  bool ready_outstanding_ = false;
};

}  // namespace umupaka::raft

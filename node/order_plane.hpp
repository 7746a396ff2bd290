// The order plane (DESIGN.md §3): Raft among the voters orders ledger entries (frontier deltas).
// Runs on the network thread (production) or the simulator's loop: one thread. Persistence is
// LMDB (Raft log and hard state, fsync'd before any message that depends on them is sent);
// application goes through the caller's SubmitApply (production: the writer thread; the simulator:
// its writer queue, at a later step), whose completion must come back on the same thread.
//
// - The leader proposes, every interval, the frontier it holds beyond what it proposed before.
// - A voter acknowledges an append only when it durably holds every record the entries cover:
//   until then the append is held back and the missing records are fetched by gossip. So a
//   committed frontier is always held by a majority of voters.
// - Committed entries are applied one at a time, in order, once every covered record is held
//   (a learner may wait for records); applying assigns global positions (ledger_apply.hpp).
// - After applying, the leader signs the ledger head (size, Merkle root, cluster time), at most
//   once every head_interval_ms.
// - The Raft configuration follows the membership (root records) through the Raft log: the
//   leader proposes one configuration change at a time (remove a revoked site, promote a
//   certified voter once it has caught up as a learner, add a new site as a learner, demote);
//   every node applies the committed changes in log order, so the same log gives the same
//   configuration everywhere. On start the configuration is rebuilt from the genesis record and
//   the conf-change entries of the persisted log (docs/ledger.md, "Membership").
// - Log compaction: every `snapshot_entries` applied entries a node snapshots its ledger (size,
//   Merkle root, cluster time, frontier; no records) and drops its log up to
//   `snapshot_keep_entries` below it. A node that needs entries the leader compacted gets the
//   snapshot instead, fetches the records its frontier covers by gossip and the ledger's rows from
//   a peer, segment by segment, each checked against the snapshot's Merkle root, then applies the
//   entries after it (docs/ledger.md, "Snapshots").
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "consensus/memory_storage.hpp"
#include "consensus/raw_node.hpp"
#include "ledger/crypto.hpp"
#include "ledger/ledger_entry.hpp"
#include "ledger/membership.hpp"
#include "node/ledger_apply.hpp"
#include "storage/store.hpp"

namespace umupaka {

struct OrderOptions {
  std::string self;
  std::string network_id;
  uint32_t tick_ms = 100;        // one Raft tick
  uint32_t election_ticks = 10;  // election timeout: 10..19 ticks
  uint32_t heartbeat_ticks = 1;
  // Heartbeats to learners (the border posts, embassies): every 5 ticks. They hear commits in the
  // appends sent when the commit moves; see raft::Config::learner_heartbeat_tick.
  uint32_t learner_heartbeat_ticks = 5;
  uint32_t propose_interval_ms = 20;
  // The leader signs and gossips the ledger head after applying, at most this often: every node
  // verifies and stores each head, so one per entry would cost as much as the records.
  uint32_t head_interval_ms = 5000;
  // Log compaction: a snapshot once this many entries were applied since the last one (0: never),
  // keeping this many entries below it for followers a little behind.
  uint64_t snapshot_entries = 10'000;
  uint64_t snapshot_keep_entries = 5'000;
  uint64_t seed = 1;
};

struct OrderStatus {
  bool enabled = false;
  std::string role;
  uint64_t term = 0;
  std::string leader;
  uint64_t commit = 0;
  uint64_t applied = 0;
  uint64_t last_index = 0;
  std::vector<std::pair<std::string, uint64_t>> match;  // leader: each member's match index
  uint64_t held_appends = 0;                            // appends waiting for records (voter rule)
  uint64_t apply_waiting = 0;  // committed entries waiting for records or the writer
  uint64_t proposals = 0;
  uint64_t raft_restarts = 0;   // Raft state not persisted (disk): restarted from the store
  uint64_t snapshot_index = 0;  // the latest snapshot (this node's or installed)
  uint64_t conf_index = 0;      // the last configuration change applied (or the snapshot's)
  uint64_t first_index = 0;     // the first entry still in the log
  // A snapshot being installed (0: none): its index, and the ledger's size against its size.
  uint64_t installing = 0;
  uint64_t install_size = 0;
  uint64_t install_target = 0;
  uint64_t snapshots_made = 0;
  uint64_t snapshots_installed = 0;
  uint64_t segments_refused = 0;  // install segments that did not match the snapshot's root
  uint64_t messages_refused = 0;  // Raft messages a peer may not send (a learner's append,
                                  // a forwarded proposal) or appends not held (limits)
  uint64_t heads_refused = 0;     // signed heads whose root is not this ledger's at their size
  uint64_t segment_requests = 0;  // peers' asks for ledger rows (their snapshot installs)
  uint64_t segment_requests_dropped = 0;  // replaced by the same peer's next before answered
  uint64_t head_waiting = 0;        // the size of the nearest head kept until the ledger reaches it
  uint64_t heads_waiting = 0;       // heads kept so (the nearest of each signer)
  std::vector<std::string> voters;  // the Raft configuration this node applied
  std::vector<std::string> learners;  //
  std::string vote;                   // the vote in this term
  std::optional<LedgerHead> head;     // latest signed head received or made
};

class OrderPlane {
 public:
  // Callbacks into the runtime: send a Raft message / a signed head to peers; ask a peer for
  // missing records (gossip catch-up) and, by hash, for the `wanted` chains of a forked feed.
  // SendRaft answers whether the transport took the message (false: the peer is not connected or
  // its send queue is full); Raft then treats the peer as unreachable (a follower being
  // replicated to falls back to probing) and a snapshot as not sent.
  using SendRaft = std::function<bool(const std::string& to, raft::Message)>;
  using SendHead = std::function<void(const LedgerHead&)>;
  using CatchUp =
      std::function<void(const std::string& peer, const std::vector<WantedChain>& wanted)>;
  // Applies a committed entry or an install segment (apply_ledger_work in one durable write) and
  // calls `done` on the order plane's thread, later; false if it cannot take the work now.
  using ApplyDone = std::function<void(Result<ApplyOutcome>)>;
  using SubmitApply = std::function<bool(LedgerWork work, ApplyDone done)>;
  // Sends a ledger segment to a peer: a request (`request`, rows empty) or an answer.
  using SendSegment =
      std::function<void(const std::string& to, const LedgerSegment& segment, bool request)>;

  OrderPlane(OrderOptions options, const Membership& membership, SecretSeed signing_seed,
             Store& store, SubmitApply submit_apply, SendRaft send, SendHead send_head,
             CatchUp catch_up, SendSegment send_segment);

  // Loads the Raft state from the store and creates the Raft node: the configuration is the
  // genesis record's, changed by the conf-change entries of the persisted log up to the applied
  // index (later ones Raft hands out again). A site outside that configuration (certified after
  // the genesis) starts as a non-member and learns the log once the leader adds it.
  // Errc::forbidden (this site is not a member), Errc::storage / invalid_field.
  Status start();

  // Checks a signed head's signature. Production's is Ed25519 every time; the simulator's
  // memoizes across its nodes by (key, bytes, signature), a pure function's memo.
  using SignatureCheck =
      std::function<bool(const PublicKey& key, std::string_view bytes, const Signature& sig)>;
  void set_head_verifier(SignatureCheck check) { verify_head_ = std::move(check); }

  // The membership changed (root records committed). Remembered; the leader reconciles the Raft
  // configuration with it on its next ticks, one change at a time.
  void on_membership(const Membership& membership);

  // Drive (network thread only).
  void on_message(raft::Message m, int64_t now_ms);
  void on_head(const LedgerHead& head);
  // A peer asks for ledger rows (its snapshot install) / answers this node's request. A peer's
  // asks are answered at most once per segment_answer_interval_ms (an answer is up to 1,024 rows
  // for a few bytes asked): one that comes sooner waits for tick(), and replaces any of the
  // peer's still waiting (an installer has one ask out at a time).
  void on_segment_request(const std::string& from, const LedgerSegment& request, int64_t now_ms);
  static constexpr int64_t segment_answer_interval_ms = 10;
  void on_segment(const std::string& from, LedgerSegment segment);
  void tick(int64_t now_ms, int64_t wall_ms);
  // When tick() next has timed work (a Raft tick, a proposal, a restart attempt): the driver
  // calls it then at the latest.
  int64_t next_due_ms() const;

  OrderStatus status() const;
  bool is_voter() const { return voter_; }
  // Role, term, vote and commit index, without the rest of status() (cheap enough to call after
  // every simulated step). Empty while the Raft node restarts.
  struct Brief {
    raft::Role role = raft::Role::follower;
    raft::HardState hard_state;
  };
  std::optional<Brief> brief() const {
    if (!node_) return std::nullopt;
    return Brief{node_->raft().role(), node_->raft().hard_state()};
  }

 private:
  void process_ready();
  void retry_held();
  // Whether `m` waits before Raft steps it (the voter rule, and a learner's root records): held
  // (or refused when the held appends are full) or dropped; false: step it now.
  bool hold_back(raft::Message& m, const std::optional<LedgerSnapshot>& snapshot);
  // A learner the membership certifies as a voter (not yet promoted): it keeps the voter rule.
  bool voter_elect() const;
  // Leader: the index a learner's log must reach before it is promoted (0: none yet). That of
  // the applied entry by which this leader's ledger took in its membership: the learner
  // acknowledged it only with that membership (hold_back), so as a voter-elect, and checked every
  // append after it by the voter rule.
  uint64_t promotion_gate();
  void pump_apply();
  void maybe_propose(int64_t wall_ms);
  void on_applied(Result<ApplyOutcome> r);
  // Install of the snapshot at the front of to_apply_: records first, then rows from a peer.
  void install_step(const StoreTxn& txn);
  void on_installed(Result<ApplyOutcome> r);
  // After applying, and on ticks: snapshot the ledger and compact the log, when due: every
  // snapshot_entries applied entries, and at once after a configuration change once the log was
  // compacted before (a site added since must get a snapshot whose configuration names it: Raft
  // refuses one that does not).
  void maybe_snapshot();
  // Leader: proposes the next configuration change the membership calls for, if any is due and
  // safe (a quorum of the new configuration recently active, never the last voter).
  void maybe_change_conf();
  // A committed conf-change entry: applied to Raft, and to what this node knows of it.
  void apply_conf_entry(const raft::Entry& e);
  // The Raft state could not be persisted (disk full or failing): drop the in-memory Raft node
  // without sending anything that depended on it, and start again from the store on a later tick,
  // as a restarted process would.
  void restart_raft(const Error& why);
  // Forgets the Raft node and everything in flight with it (start() builds them again).
  void drop_raft();

  OrderOptions opt_;
  Membership membership_;
  SigningKey key_;
  Store& store_;
  SubmitApply submit_apply_;
  SendRaft send_;
  SendHead send_head_;
  CatchUp catch_up_;
  SendSegment send_segment_;
  SignatureCheck verify_head_ = verify_signature;
  bool voter_ = false;
  std::unique_ptr<raft::MemoryStorage> storage_;
  std::optional<raft::RawNode> node_;
  int64_t next_tick_ms_ = 0;
  int64_t next_propose_ms_ = 0;
  std::map<std::string, uint64_t, std::less<>> proposed_;  // leader: highest seq proposed
  // Leader: forks proposed (origin -> wall time), proposed again if not raised 5 s later.
  std::map<std::string, int64_t, std::less<>> proposed_forks_;
  // Leader: the store snapshot whose feeds held nothing to propose. The same snapshot again holds
  // nothing either, so the scan of every feed is skipped (most ticks at a leader).
  std::optional<uint64_t> idle_snapshot_;
  std::string last_leader_;
  std::deque<raft::Message> held_;
  uint64_t held_bytes_ = 0;  // bytes of entries and snapshots in held_ (held_bytes_max)
  // Committed work in log order: entries, and snapshots to install (`snapshot` set).
  struct Pending {
    uint64_t index = 0;
    LedgerEntry entry;
    std::optional<LedgerSnapshot> snapshot;
  };
  std::deque<Pending> to_apply_;
  size_t apply_in_flight_ = 0;   // entries submitted to the writer, front of to_apply_
  uint64_t last_submitted_ = 0;  // Raft index of the last ledger entry submitted
  bool apply_failed_ = false;
  int64_t apply_retry_ms_ = 0;
  uint64_t applied_ = 0;
  uint64_t proposals_ = 0;
  std::optional<LedgerHead> head_;
  // Verified heads beyond this node's ledger, the nearest of each signer (a voter): served
  // (stored) once the ledger reaches their size, so that a node never serves a head it cannot
  // prove against.
  std::map<std::string, LedgerHead, std::less<>> pending_heads_;
  void store_pending_heads();
  void store_head(const LedgerHead& h);
  std::optional<LedgerHead> head_due_;  // leader: applied, not signed and sent yet
  // Leader: the last head it signed, sent again every head_resend_ms while no newer one is due
  // (a head goes out once, and a node down or joined since would otherwise wait for traffic).
  std::optional<LedgerHead> signed_head_;
  int64_t next_head_resend_ms_ = 0;
  static constexpr int64_t head_resend_ms = 30'000;
  int64_t next_head_ms_ = 0;
  uint64_t epoch_ = 0;  // bumped by restart_raft: completions of an older epoch are ignored
  uint64_t raft_restarts_ = 0;
  bool persist_failing_ = false;
  int64_t restart_backoff_ms_ = 0;  // wait before the next start() while persisting fails
  static constexpr int64_t restart_backoff_max_ms = 5'000;
  // The root seq of the membership behind the last applied conf change: a leader whose
  // membership is older proposes nothing (it could undo a newer change).
  uint64_t conf_root_seq_ = 0;
  // The index of a conf change in this node's log, not yet applied, that makes it a voter (0:
  // none): the voter rule applies to the entries after it already, as the leader counts their
  // acknowledgements once it has applied the change.
  uint64_t voter_from_index_ = 0;
  // A voter-elect: the log index through which it checked that it holds the records of the
  // entries it took before it knew (hold_back); lowered to where an append taken unchecked
  // (as a plain learner) may overwrite the log.
  uint64_t elect_checked_ = 0;
  // Leader: promotion_gate() for the membership at root seq promotion_gate_root_seq_.
  uint64_t promotion_gate_root_seq_ = 0;
  uint64_t promotion_gate_ = 0;
  int64_t next_conf_ms_ = 0;
  int64_t now_ms_ = 0;
  // Compaction and install.
  uint64_t snapshot_index_ = 0;
  uint64_t last_conf_index_ = 0;  // the last conf change applied (or the snapshot's index)
  uint64_t snapshots_made_ = 0;
  uint64_t snapshots_installed_ = 0;
  uint64_t segments_refused_ = 0;
  uint64_t messages_refused_ = 0;
  uint64_t heads_refused_ = 0;
  std::optional<std::pair<uint64_t, Hash>> refused_head_;  // (size, root) of the last refused
  // Peers' asks for ledger rows, paced (on_segment_request); members only, so bounded.
  struct SegmentAsker {
    int64_t answered_ms = INT64_MIN / 2;
    std::optional<LedgerSegment> waiting;
  };
  std::map<std::string, SegmentAsker, std::less<>> segment_askers_;
  uint64_t segment_requests_ = 0;
  uint64_t segment_requests_dropped_ = 0;
  void answer_segment(const std::string& to, SegmentAsker& asker, const LedgerSegment& request,
                      int64_t now_ms);
  static uint64_t entries_bytes(const raft::Message& m);
  uint64_t install_asked_from_ = UINT64_MAX;  // the position last asked for (none: UINT64_MAX)
  int64_t install_asked_ms_ = 0;
  uint64_t install_turn_ = 0;  // which peer to ask: the leader first, then each voter in turn
};

}  // namespace umupaka

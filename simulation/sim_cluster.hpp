// SimCluster: the deterministic in-process cluster harness (DESIGN.md §5: one core, two drivers).
// N nodes in one process, each with its own real LMDB store, its own NodeCore and GossipCore,
// joined to one network made by make_genesis, talking through a SimNetwork (sim_network.hpp) in
// simulated milliseconds. Nothing here reads a clock, starts a thread or asks the OS for
// randomness: keys, gossip seeds and network faults all derive from Options::seed, so one seed
// is one run, and trace_hash() proves it.
//
// How each node is driven: exactly as production drives it, single-threaded.
//   - Every write goes through the node's writer queue, and the writer's batches run as
//     production's Writer runs them: run_group_commit (node/group_commit.hpp), items of every
//     kind mixed, up to limits::group_commit_records_max records, in one Store::write. A batch
//     runs Options::write_ms after work reached an idle writer (the time a commit takes), the
//     next write_ms later while work waits. After it, in the order NetworkRuntime's loop takes
//     the writer's notifications: the commands' results, the applies' (the order plane's
//     ApplyDone), a changed membership (set_membership), the records this node originated
//     (GossipCore::on_committed: the commit hook's path), the ingest results
//     (GossipCore::on_ingested; a failed ingest's only for evidence, as the runtime).
//   - An officer's command joins the queue. submit() leaves it there: it is answered when its
//     batch commits, write_ms or more later, and a crash before then loses it unanswered, as a
//     killed process loses its queue. record() waits for it: the writer runs batches at once, at
//     the current time, until the command's is done (the simulated clock does not move).
//   - The order plane's applies (LedgerWork) join the queue: they stay outstanding while the
//     node goes on receiving Raft messages and ticking, as in production.
//   - A frame due at a node is decoded (decode_gossip) and handed to GossipCore::on_message with
//     a FeedReader over a fresh read snapshot of the node's store (NetworkRuntime's StoreFeeds).
//   - Every node is ticked every Options::tick_ms (NetworkOptions::tick_ms in production).
//   - After every call into a gossip core, its take_messages() are encoded (encode_gossip) and
//     sent through the SimNetwork, and its take_ingest() batches join the writer's queue (a
//     full queue drops them, as the runtime does: they are fetched again).
//
// Crashes: crash(site) drops the node's in-memory state (GossipCore, NodeCore, the writer's
// queue: never committed, never acknowledged) and closes its store; messages due at a crashed node
// are dropped. restart(site) reopens the store, recovers a new NodeCore from it
// (NodeCore::recover), and starts a new GossipCore (seeded anew from the boot count) with
// set_membership and set_quarantine. Committed data survives the crash: the stores run with
// lmdb::EnvOptions{.sync = false} for speed, and without fsync LMDB still hands every committed
// transaction to the OS (the page cache) before mdb_txn_commit returns, so a process crash loses
// nothing; only an OS crash or power loss would, and this harness does not model those (that would
// need a simulated disk).
//
// Invariants, checked after every step and every action (LogCabin's invariants, TigerBeetle's
// checks): what must always hold and what may only grow. Violations are recorded (not thrown) in
// violations(); tests check them.
//   - no acknowledged record is lost: the origin of every acknowledged (origin, seq, hash) still
//     holds it with the same hash (after each step that wrote the origin's store: its newest
//     acknowledged record; in verify_stores(): every one);
//   - nothing unverified is stored: every record a node stores opens (open_record) under its
//     origin's key from the genesis (the root key for root records), decodes as (origin, seq)
//     and links to its predecessor; every piece of evidence stored is two records signed by the
//     origin that conflict. Checked incrementally, on each record once as it appears, and in
//     full by verify_stores();
//   - feeds only grow: a node's head of any origin never goes back, and never changes its hash
//     at the same seq.
//
// Single-threaded. Not copyable. The temporary directory (when Options::dir is empty) is removed
// by the destructor.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ledger/crypto.hpp"
#include "ledger/merkle.hpp"
#include "ledger/records.hpp"
#include "node/commands.hpp"
#include "node/gossip.hpp"
#include "node/group_commit.hpp"
#include "node/node_core.hpp"
#include "node/order_plane.hpp"
#include "simulation/sim_network.hpp"
#include "storage/store.hpp"

namespace umupaka::sim {

struct SimSite {
  std::string id;  // a site id: "hq", "gatuna"
  SiteKind kind = SiteKind::border_post;
  VoterRole role = VoterRole::learner;
};

struct SimClusterOptions {
  std::vector<SimSite> sites;  // at least one voter
  uint64_t seed = 1;
  // How every node classes its links to its peers (SWIM timings, anti-entropy interval and
  // bandwidth share of GossipConfig); `links` overrides it per peer site, for every node.
  swim::LinkClass link = swim::LinkClass::lan;
  std::map<std::string, swim::LinkClass, std::less<>> links;
  // Gossip settings for every node. The seeds (gossip.seed, gossip.swim.seed) are replaced by
  // per-node seeds derived from `seed`, the site and its boot count.
  GossipConfig gossip;
  // The SimNetwork's default link, for every directed pair (cluster.network() sets others).
  LinkSpec network;
  // Where the stores go (one subdirectory per site). Empty: a new temporary directory, removed
  // by the destructor. A given directory must not hold stores of another run.
  std::string dir;
  std::string network_id = "rwanda-sim";
  // The simulated clock at the start: also the wall time the records carry. 2026-03-02 06:00 UTC.
  int64_t start_ms = 1'772'431'200'000;
  uint32_t tick_ms = 20;
  // How long a node's group commit takes: work queued at an idle writer is committed write_ms
  // later, with whatever else was queued by then; while work waits, one batch every write_ms.
  // (record() waits for its command's batch at once, without advancing the clock; submit()
  // leaves the command queued until its batch is due.)
  uint32_t write_ms = 1;
  // The order plane (Raft among the voters, the ledger) at every node, as production runs it.
  bool order = true;
  uint32_t raft_tick_ms = 100;  // OrderOptions::tick_ms
  uint32_t election_ticks = 10;
  // Log compaction (OrderOptions::snapshot_entries, snapshot_keep_entries).
  uint64_t snapshot_entries = OrderOptions{}.snapshot_entries;
  uint64_t snapshot_keep_entries = OrderOptions{}.snapshot_keep_entries;
  // Width of the buckets of simulated time in which latencies are kept (replication_lag(),
  // commit_latency()).
  int64_t sample_bucket_ms = 60'000;
};

// Latencies observed per site, in buckets of simulated time: site -> bucket start (ms since the
// run's start) -> latencies in ms, in the order observed.
struct LatencySeries {
  std::map<std::string, std::map<int64_t, std::vector<uint32_t>>, std::less<>> by_site;
  uint64_t count() const;
};

// What a site's ledger holds (from its store).
struct LedgerInfo {
  uint64_t applied_index = 0;  // Raft index
  uint64_t size = 0;           // records
  Hash root{};
  uint64_t conflicts = 0;  // conflict alerts raised
};

// A record whose origin answered the officer: it must never be lost.
struct Acknowledged {
  std::string origin;
  uint64_t seq = 0;
  Hash hash{};
};

struct SimClusterStats {
  uint64_t steps = 0;
  uint64_t ticks = 0;
  uint64_t frames_delivered = 0;
  uint64_t frames_to_crashed = 0;  // due at a crashed node: dropped
  uint64_t frames_invalid = 0;     // decode_gossip refused them
  uint64_t frames_refused = 0;     // from a site the receiver does not know (ZAP refuses)
  uint64_t ingest_commits = 0;     // committed group commits with received records in them
  uint64_t write_batches = 0;      // group commits run (and failed) by the nodes' writers
  uint64_t mixed_batches = 0;      // of them, with items of more than one kind
  uint64_t records_recorded = 0;   // commands that recorded a record
  uint64_t commands_refused = 0;   // commands not recorded (refused, failed, paused, queue full)
  uint64_t commands_lost = 0;      // commands queued at a crash: never answered, never recorded
  uint64_t records_checked = 0;    // stored records verified by the invariant checks
  uint64_t crashes = 0;
  uint64_t leader_changes = 0;     // a new (term, leader) seen
  uint64_t snapshot_installs = 0;  // snapshot installs completed (docs/ledger.md, "Snapshots")
  uint64_t max_term = 0;
  uint64_t writes_failed = 0;  // group commits refused by an injected full disk
};

class SimCluster {
 public:
  using Options = SimClusterOptions;

  // Creates the stores, keys (from Options::seed), the genesis (make_genesis, root key from the
  // seed), and joins every node; no step is run. Asserts on any set-up failure.
  explicit SimCluster(Options options);
  // Whether the genesis the constructor makes for `sites` (at `start_ms`) fits a record
  // (limits::record_encoded_bytes_max): many sites with long ids may not. The constructor asserts
  // it; check first what a person wrote.
  static Status genesis_fits(const std::vector<SimSite>& sites, const std::string& network_id,
                             int64_t start_ms);
  ~SimCluster();
  SimCluster(const SimCluster&) = delete;
  SimCluster& operator=(const SimCluster&) = delete;

  // --- Driving --------------------------------------------------------------------------------

  // Records `command` at `site` now (see the header comment). An error is the core's refusal, a
  // failed commit, or Errc::unavailable (the site paused, its writer's queue full, or the site
  // crashed in a completion before the command's batch: counted in commands_lost, not
  // commands_refused); nothing was recorded then. On success
  // the record is acknowledged: the invariants hold the cluster to it. Precondition: the site is
  // live.
  Result<Recorded> record(const std::string& site, const Command& command);
  // Queues `command` at `site`'s writer and returns at once, as an officer's request arrives
  // while the node works: it is answered when its batch commits (acknowledged then, or counted
  // in commands_refused), or lost unanswered if the site crashes first (commands_lost). An error
  // is Errc::unavailable (the site paused, or its writer's queue full): nothing was queued.
  // Precondition: the site is live.
  Status submit(const std::string& site, const Command& command);

  // Advances the clock to the next event (a delivery, a push, a writer's batch or a tick) and
  // handles everything due then: deliveries first, in (time, seq) order, then pushes, then one
  // batch of each writer due, then ticks, in site order; then checks the invariants. Does nothing
  // if no event is pending (every node crashed, nothing in flight).
  void step();
  // Steps through every event up to now_ms() + ms, then sets the clock to that time.
  void run_for(int64_t ms);
  // Runs until converged(ignore) (checked every check_every_ms) or until timeout_ms passed.
  // True if converged.
  bool run_until_converged(int64_t timeout_ms, const std::set<std::string>& ignore = {},
                           int64_t check_every_ms = 50);
  // Runs until done() (checked every check_every_ms) or until timeout_ms passed.
  bool run_until(int64_t timeout_ms, int64_t check_every_ms, const std::function<bool()>& done);

  // A site set up after the start, as a new post is: keys from Options::seed, its own store,
  // joined to the genesis, started now. Its peers know nothing of it until HQ certifies it (a
  // root record with the returned entry: make_root_record, post_membership) and the
  // certification reaches them by gossip, as in production, where their ZAP refuses it until
  // then; the order plane's leader then adds it to the Raft configuration. Precondition: the id
  // is new.
  SiteEntry add_site(const SimSite& site);

  // Crash and restart (see the header comment). Preconditions: live / not live.
  void crash(const std::string& site);
  // `mark`: as `umupaka-node run` (keep: no flag), `run --restored` or `run --drop-restore-hold`
  // (NodeCore::set_restore_mark).
  enum class RestoreMark { keep, restored, dropped };
  void restart(const std::string& site, RestoreMark mark = RestoreMark::keep);

  // Clock skew and jumps: the site's wall clock (the time its records and ledger entries carry)
  // is the simulated time plus `offset_ms` from now on. Its timers (gossip, Raft) run on the
  // monotonic simulated clock, as production's run on steady_clock.
  void set_clock_offset(const std::string& site, int64_t offset_ms);
  int64_t clock_offset(const std::string& site) const;
  // Disk full: every write of the site's store fails with Errc::disk_full (nothing written)
  // until cleared. Commands are refused, ingests and applies retried, Raft stops at the site.
  void set_disk_full(const std::string& site, bool full);
  // A writer backed up: each of the site's group commits (records, ledger applies, commands)
  // takes `ms` from now on (0: Options::write_ms again). Raft's own writes, synchronous in the
  // order plane, are not slowed: the site's records fall behind its Raft log, as a site's do
  // after a long outage (far more records to fetch than entries). Kept across a restart.
  void set_write_ms(const std::string& site, uint32_t ms);
  // A long pause (GC, a hung VM): the site runs nothing for `ms`; frames due at it wait and are
  // delivered when it resumes. Precondition: live.
  void pause(const std::string& site, int64_t ms);
  // Crashes the site right after the next Raft message it sends (the message leaves): a crash at
  // an arbitrary point of the order plane's work; `armed` false takes it back. Precondition: live.
  void crash_after_next_send(const std::string& site, bool armed = true);

  // Delivers `message` to `to` as if `from` had sent it (the transport names `from`, as the ZAP
  // handler's User-Id does), at the next step, with no network fault: a byzantine peer. An empty
  // message.from is set to `from`; any other value is sent as given. The frame goes through
  // encode_gossip / decode_gossip like every other.
  void inject(const std::string& from, const std::string& to, GossipMessage message);

  // A root-signed membership record from the admin tool, through the path of POST /v1/membership:
  // opened against the node's root key and checked whole, then ingested (IngestKind::posted)
  // through the writer's queue, waited for as record() waits; a membership change reaches the
  // node's gossip core through the commit hook's path. Errors: open_record's, validate_record's,
  // Errc::invalid_field (not a root record of this network), Errc::unavailable (the site
  // paused or held after a restore, the writer's queue full, or the node crashed first), or the
  // commit's.
  Result<IngestResult> post_membership(const std::string& site, const SignedRecord& record);

  // Runs `fn` in one write transaction of the site's store, behind its node core's back (a disk
  // or software fault), then checks the invariants: for tests of the checks themselves.
  // Precondition: live.
  void tamper(const std::string& site, const std::function<void(StoreTxn&)>& fn);

  // --- Observing ------------------------------------------------------------------------------

  int64_t now_ms() const { return now_ms_; }
  const std::vector<std::string>& sites() const { return site_ids_; }
  bool live(const std::string& site) const;
  // Live but paused (pause): its process runs nothing until the pause ends.
  bool paused(const std::string& site) const;
  // Items waiting in the site's writer queue, by kind. Precondition: live.
  struct WritesQueued {
    size_t commands = 0, ingests = 0, applies = 0;
  };
  WritesQueued writes_queued(const std::string& site) const;
  // The heads of every feed the node holds, by origin. Precondition: live.
  std::vector<FrontierEntry> heads(const std::string& site) const;
  // The head seq of `origin` at `site` (0: none). Precondition: live.
  uint64_t head_seq(const std::string& site, const std::string& origin) const;
  std::optional<SignedRecord> stored_record(const std::string& site, const std::string& origin,
                                            uint64_t seq) const;
  // Whether the node holds the version of (origin, seq) whose hash is `hash`: in its feed, its
  // evidence or beside the feed (StoreTxn::version). Precondition: live.
  bool holds_version(const std::string& site, const std::string& origin, uint64_t seq,
                     const Hash& hash) const;
  std::vector<StoreTxn::EvidenceEntry> evidence(const std::string& site) const;
  // True if every live node outside `ignore` holds identical heads for every origin outside
  // `ignore`.
  bool converged(const std::set<std::string>& ignore = {}) const {
    return converged(ignore, ignore);
  }
  // The same, with the sites left out and the origins left out given apart (an equivocator's own
  // node still has to hold everyone else's records).
  bool converged(const std::set<std::string>& ignore_sites,
                 const std::set<std::string>& ignore_origins) const;

  // Preconditions: live.
  const NodeCore& core(const std::string& site) const;
  const GossipCore& gossip(const std::string& site) const;

  // The order plane's status and the ledger at a site. Preconditions: live (and Options::order).
  OrderStatus order_status(const std::string& site) const;
  LedgerInfo ledger(const std::string& site) const;
  // The ledger position of (origin, seq) at the site, if it has one. Precondition: live.
  std::optional<uint64_t> position_of(const std::string& site, const std::string& origin,
                                      uint64_t seq) const;
  // The conflict alerts the site's ledger raised, in ledger order. Precondition: live.
  std::vector<ConflictAlert> conflicts(const std::string& site) const;
  // How far `origin`'s feed is in the site's ledger (its ledger frontier).
  uint64_t ledger_seq(const std::string& site, const std::string& origin) const;
  // True if every live node outside `ignore` applied the same ledger (size and root), and that
  // ledger covers every record the nodes hold of the origins outside `ignore`.
  bool ledgers_converged(const std::set<std::string>& ignore = {}) const {
    return ledgers_converged(ignore, ignore);
  }
  bool ledgers_converged(const std::set<std::string>& ignore_sites,
                         const std::set<std::string>& ignore_origins) const;
  // Runs until converged(ignore) && ledgers_converged(ignore), or timeout_ms passed.
  bool run_until_settled(int64_t timeout_ms, const std::set<std::string>& ignore = {},
                         int64_t check_every_ms = 100);
  // Replication lag: from a record's acknowledgement at its origin to its being stored at the
  // site (other sites' records only). Commit latency: from acknowledgement to the record's
  // application to the site's ledger (every record, its origin's included).
  const LatencySeries& replication_lag() const { return lag_; }
  const LatencySeries& commit_latency() const { return commit_; }

  // SHA-256 chained over every delivered frame (time, from, to, bytes), every ingest result
  // (site, origin, seq, outcome), every acknowledged record and every crash and restart.
  const Hash& trace_hash() const { return trace_; }

  SimNetwork& network() { return net_; }
  const SimNetwork& network() const { return net_; }
  const SimClusterStats& stats() const { return stats_; }
  const std::vector<Acknowledged>& acknowledged() const { return acknowledged_; }

  // The network's set-up, for tests that forge or sign records.
  const std::string& network_id() const { return options_.network_id; }
  const SignedRecord& genesis() const { return genesis_; }
  const SecretSeed& root_seed() const { return root_seed_; }
  SigningKey signing_key(const std::string& site) const;

  // Invariant violations found so far (the first violations_max), each naming the seed, the time
  // and the site.
  static constexpr size_t violations_max = 50;
  const std::vector<std::string>& violations() const { return violations_; }
  // Every check in full on every live node: every stored record and piece of evidence verified
  // from scratch, every acknowledged record held by its origin. Adds to violations().
  void verify_stores();

 private:
  struct Node;
  struct PendingWrite;

  Node& node(const std::string& site);
  const Node& node(const std::string& site) const;
  SiteEntry new_node(const SimSite& site);  // keys, directory; not started
  void open_and_start(Node& n);
  void start_node(Node& n);  // NodeCore (recovered) + GossipCore from the open store
  void start_order(Node& n);
  int64_t wall_ms(const Node& n) const;
  void drive_order(Node& n, const std::function<void()>& fn);
  GossipConfig gossip_config(const Node& n) const;
  void set_membership(Node& n, bool start = true);  // start: the order plane, once named
  std::unique_ptr<StoreTxn> snapshot(const Node& n) const;

  int64_t next_event_ms() const;
  void deliver(Delivery d);
  void tick(Node& n);
  // Sends the core's messages and queues its ingest batches for the writer.
  void pump(Node& n);
  // The node's writer: queue (false when full, as Writer::enqueue); queue an officer's command
  // (refused, and counted, when paused or full); answer a command whose batch is done; one batch;
  // and queue and wait (post_membership; an error if the queue is full or the node crashed first).
  bool enqueue_write(Node& n, PendingWrite w);
  uint32_t write_ms(const Node& n) const;  // a group commit's duration at n
  Status enqueue_command(Node& n, const Command& command,
                         std::optional<Result<WriteResult>>* waiter);
  void answer(Node& n, const Result<Recorded>& result);
  void write_turn(Node& n);
  Result<WriteResult> write_and_wait(Node& n, WriteWork work);
  // Calls into the order plane; false if that crashed the node (SimCrash).
  bool call_order(Node& n, const std::function<void()>& fn);

  void check_invariants();
  void check_node(Node& n, bool full);
  // `n` is leader in `term`: at most one site is (Raft's election safety).
  void note_leader(const Node& n, uint64_t term);
  void check_raft(Node& n);
  void check_ledger(Node& n);
  void violation(const Node& n, const std::string& what);

  void trace(std::string_view bytes) { trace({bytes}); }
  // The trace goes on as the hash of itself and the parts (the parts are not copied).
  void trace(std::initializer_list<std::string_view> parts);

  Options options_;
  LatencySeries lag_;
  LatencySeries commit_;
  std::map<std::string, std::vector<int64_t>, std::less<>> ack_ms_;  // origin -> by seq - 1
  std::map<uint64_t, std::string> leaders_;                          // term -> leader
  std::map<uint64_t, uint64_t> committed_entries_;  // index -> digest of the committed entry
  std::vector<Hash> canon_positions_;  // the agreed ledger: record hash at each position
  merkle::MemoryTree canon_tree_;
  // Records whose signature verified with the key, by some node's gossip core (RecordVerifier)
  // or by a check: (key, hash of the record's bytes and signature).
  std::set<std::pair<PublicKey, Hash>> verified_;
  // Signed heads some node's order plane verified: (key, SHA-256 of bytes and signature).
  std::set<std::pair<PublicKey, Hash>> heads_verified_;
  std::map<uint64_t, std::vector<std::string>> canon_conflicts_;  // position -> alerts
  std::string root_dir_;
  bool remove_dir_ = false;
  SecretSeed root_seed_{};
  SignedRecord genesis_;
  std::map<std::string, PublicKey, std::less<>> keys_;  // origin -> verifying key (genesis)
  std::vector<std::string> site_ids_;
  std::vector<std::unique_ptr<Node>> nodes_;  // in site order
  SimNetwork net_;
  int64_t now_ms_ = 0;
  std::vector<Acknowledged> acknowledged_;
  std::map<std::string, Acknowledged, std::less<>> newest_acknowledged_;  // by origin
  Hash trace_{};
  std::vector<std::string> violations_;
  SimClusterStats stats_;
};

}  // namespace umupaka::sim

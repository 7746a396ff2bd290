// Network: an in-memory cluster of RawNodes over MemoryStorage, for tests (etcd's raft_test.go
// network, with the faults of TigerBeetle's simulator). Everything is driven by one seed: message
// delays (hence reordering), duplication and random drops come from the network's own PRNG, and
// each node's PRNG seed is derived from it and the node's id. Same seed, same run.
//
// Each node's Ready is handled exactly as raw_node.hpp's contract says: persist snapshot, entries
// and hard state to the node's MemoryStorage (which survives a crash), then send the messages
// (into the network), then apply the snapshot and committed entries to the node's state machine,
// then record read states, then advance. Invariants (invariants.hpp) are checked after every step:
// every tick, delivery, proposal and request.
//
// The state machine is a 64-bit digest folded over the applied entries; snapshots carry it as
// their data. A crash drops the RawNode and the state machine; a restart rebuilds both from the
// storage (hard state, persisted entries, snapshot) and re-applies the committed entries.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "consensus/memory_storage.hpp"
#include "consensus/raw_node.hpp"
#include "tests/consensus/invariants.hpp"

namespace umupaka::raft::testing {

struct NetworkOptions {
  uint64_t seed = 1;
  uint32_t election_tick = 10;
  uint32_t heartbeat_tick = 1;
  uint32_t learner_heartbeat_tick = 0;  // 0: heartbeat_tick
  bool pre_vote = true;
  bool check_quorum = true;
  uint64_t max_size_per_msg = 4096;
  uint64_t max_inflight_msgs = 16;
  uint64_t max_uncommitted_entries_size = 1 << 20;
  uint64_t max_committed_size_per_ready = 1 << 20;
  uint64_t max_pending_reads = 1024;
  // Faults of the wire. A message waits 0..delay_steps_max deliveries (0: FIFO, no reordering).
  uint32_t delay_steps_max = 0;
  double duplicate_probability = 0;
  // The application snapshots and compacts once it has applied this many entries past its last
  // snapshot (0: never), keeping compact_keep_entries entries behind the snapshot.
  uint64_t snapshot_every_entries = 0;
  uint64_t compact_keep_entries = 0;
};

struct Peer {
  NodeId id;
  std::unique_ptr<MemoryStorage> storage;  // durable: survives crashes
  std::optional<RawNode> node;             // empty while crashed
  // The state machine (volatile).
  LogIndex applied = 0;
  uint64_t digest = 0;
  ConfState conf;
  std::vector<std::string> applied_data;  // normal entries' data since (re)start, in order
  std::vector<ReadState> reads;
  uint64_t snapshots_installed = 0;
  // Readies that handed out committed entries, and the largest such hand-out (entries, bytes by
  // entry_size_bytes): what max_committed_size_per_ready bounds.
  uint64_t committed_readies = 0;
  size_t committed_entries_max = 0;
  uint64_t committed_bytes_max = 0;
};

class Network {
 public:
  Network(NetworkOptions options, const std::vector<NodeId>& voters,
          const std::vector<NodeId>& learners = {})
      : options_(options), rng_(options.seed) {
    ConfState genesis{voters, learners};
    std::sort(genesis.voters.begin(), genesis.voters.end());
    std::sort(genesis.learners.begin(), genesis.learners.end());
    for (const NodeId& id : genesis.voters) add(id, genesis);
    for (const NodeId& id : genesis.learners) add(id, genesis);
    invariants_.set_context("seed " + std::to_string(options.seed));
    invariants_.set_logs(&logs_);
  }

  ~Network() {
    check_full();
    if (!invariants_.ok()) ADD_FAILURE() << "invariants broken:\n" << invariants_.report();
  }

  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // --- Nodes ---------------------------------------------------------------------------------

  // A node that is in no configuration yet, with an empty log: it learns both from a leader after
  // a conf change adds it.
  void add_node(const NodeId& id) { add(id, ConfState{}); }

  RawNode& node(const NodeId& id) {
    Peer& p = peer(id);
    EXPECT_TRUE(p.node.has_value()) << id << " is down";
    return *p.node;
  }
  Peer& peer(const NodeId& id) {
    auto it = peers_.find(id);
    EXPECT_TRUE(it != peers_.end()) << "no node " << id;
    return it->second;
  }
  bool alive(const NodeId& id) const { return peers_.at(id).node.has_value(); }
  std::vector<NodeId> ids() const {
    std::vector<NodeId> out;
    for (const auto& [id, p] : peers_) out.push_back(id);
    return out;
  }
  RaftStatus status(const NodeId& id) { return node(id).status(); }

  // The live leader with the highest term, or empty.
  NodeId leader() const {
    NodeId best;
    Term best_term = 0;
    for (const auto& [id, p] : peers_) {
      if (!p.node) continue;
      const RaftStatus st = p.node->status();
      if (st.role == Role::leader && st.term >= best_term) {
        best = id;
        best_term = st.term;
      }
    }
    return best;
  }

  // Drops the node and its state machine; its storage survives.
  void crash(const NodeId& id) {
    Peer& p = peer(id);
    p.node.reset();
    p.reads.clear();
    step_done();
  }

  // Puts a crashed node's storage back to `backup` (a store restored from a backup: durable state
  // going back, which Raft does not assume); the invariants forget that node's own history.
  void restore(const NodeId& id, const MemoryStorage& backup) {
    Peer& p = peer(id);
    EXPECT_FALSE(p.node.has_value());
    *p.storage = backup;
    invariants_.forget(id);
  }

  // Rebuilds the node from its storage: hard state, persisted entries and snapshot only.
  void restart(const NodeId& id) {
    Peer& p = peer(id);
    EXPECT_FALSE(p.node.has_value());
    Config c = config_for(p);
    c.applied = p.storage->snapshot()->meta.index;  // the state machine restarts from it
    auto created = RawNode::create(c);
    EXPECT_TRUE(created.ok()) << created.error().message;
    p.node.emplace(std::move(created).value());
    const Snapshot snap = *p.storage->snapshot();
    p.applied = snap.meta.index;
    p.digest = snap.empty() ? 0 : std::stoull(snap.data);
    p.conf = snap.meta.conf_state;
    p.applied_data.clear();
    process_ready(p);
    step_done();
  }

  // --- Faults --------------------------------------------------------------------------------

  void cut(const NodeId& a, const NodeId& b) {
    drop_[{a, b}] = 1.0;
    drop_[{b, a}] = 1.0;
  }
  void isolate(const NodeId& id) {
    for (const auto& [other, p] : peers_) {
      if (other != id) cut(id, other);
    }
  }
  void drop(const NodeId& from, const NodeId& to, double probability) {
    drop_[{from, to}] = probability;
  }
  // Heals every cut and drop (crashed nodes stay down).
  void recover() { drop_.clear(); }
  // Drops every message in flight (a transport that loses its queues). Senders of snapshots are
  // told, as the Ready contract requires.
  void clear_wire() {
    std::vector<InFlight> lost = std::move(wire_);
    wire_.clear();
    for (const InFlight& f : lost) {
      if (f.m.type != MessageType::snap || !peers_.count(f.m.from)) continue;
      Peer& sender = peers_.at(f.m.from);
      if (!sender.node) continue;
      sender.node->report_snapshot(f.m.to, false);
      process_ready(sender);
    }
    step_done();
  }
  size_t in_flight() const { return wire_.size(); }
  // A hook on every delivery (hand-written scenarios): return false to drop the message; it may
  // also rewrite it. Cleared by set_filter(nullptr).
  void set_filter(std::function<bool(Message&)> filter) { filter_ = std::move(filter); }

  // --- Driving -------------------------------------------------------------------------------

  void tick(const NodeId& id) {
    Peer& p = peer(id);
    if (p.node) {
      p.node->tick();
      process_ready(p);
    }
    step_done();
  }
  void tick_all() {
    for (auto& [id, p] : peers_) tick(id);
  }
  void campaign(const NodeId& id) {
    Peer& p = peer(id);
    p.node->campaign();
    process_ready(p);
    step_done();
  }
  Status propose(const NodeId& id, std::string data) {
    Peer& p = peer(id);
    Status s = p.node->propose(std::move(data));
    process_ready(p);
    step_done();
    return s;
  }
  Status propose_conf_change(const NodeId& id, const ConfChange& cc) {
    Peer& p = peer(id);
    Status s = p.node->propose_conf_change(cc);
    process_ready(p);
    step_done();
    return s;
  }
  Status transfer_leadership(const NodeId& id, const NodeId& to) {
    Peer& p = peer(id);
    Status s = p.node->transfer_leadership(to);
    process_ready(p);
    step_done();
    return s;
  }
  Status read_index(const NodeId& id, std::string context) {
    Peer& p = peer(id);
    invariants_.on_read_request(context);
    Status s = p.node->read_index(std::move(context));
    process_ready(p);
    step_done();
    return s;
  }

  // Delivers `m` at once, past the wire and its faults (a forged or replayed message), as if the
  // transport had received it.
  void inject(Message m) {
    Peer& to = peer(m.to);
    if (to.node) {
      (void)to.node->step(std::move(m));
      process_ready(to);
    }
    step_done();
  }

  // Delivers (or drops) the next message due. False if the wire is empty.
  bool deliver_one() {
    if (wire_.empty()) return false;
    ++now_;
    // Earliest due first; ties in send order.
    auto it = std::min_element(wire_.begin(), wire_.end(), [](const auto& a, const auto& b) {
      return std::tie(a.due, a.seq) < std::tie(b.due, b.seq);
    });
    InFlight f = std::move(*it);
    wire_.erase(it);
    deliver(f.m);
    step_done();
    return true;
  }

  // Delivers until the wire is empty (or max_deliveries). Returns deliveries made.
  size_t stabilize(size_t max_deliveries = 100000) {
    size_t n = 0;
    while (n < max_deliveries && deliver_one()) ++n;
    return n;
  }

  // `rounds` times: tick every node once, then deliver everything.
  void run(size_t rounds) {
    for (size_t r = 0; r < rounds; ++r) {
      tick_all();
      stabilize();
    }
  }

  // Ticks until some node is leader (at most `rounds`); returns it or empty.
  NodeId wait_for_leader(size_t rounds = 200) {
    for (size_t r = 0; r < rounds; ++r) {
      if (NodeId l = leader(); !l.empty()) return l;
      tick_all();
      stabilize();
    }
    return leader();
  }

  // Campaigns at `id` and delivers everything: `id` is leader if it can be.
  void elect(const NodeId& id) {
    campaign(id);
    stabilize();
  }

  // Whether `data` was applied at `id` since its last (re)start.
  bool applied(const NodeId& id, const std::string& data) {
    const auto& v = peer(id).applied_data;
    return std::find(v.begin(), v.end(), data) != v.end();
  }

  // Every node's state, one line each (for failure messages).
  std::string describe() const {
    std::string out;
    for (const auto& [id, p] : peers_) {
      out += id + ": ";
      if (!p.node) {
        out += "down\n";
        continue;
      }
      const RaftStatus st = p.node->status();
      out += std::string(role_name(st.role)) + " term " + std::to_string(st.term) + " vote '" +
             st.vote + "' leader '" + st.leader + "' commit " + std::to_string(st.commit) +
             " applied " + std::to_string(st.applied) + " last " + std::to_string(st.last_index) +
             " first " + std::to_string(p.storage->first_index()) + " voters";
      for (const NodeId& v : st.conf_state.voters) out += " " + v;
      out += " learners";
      for (const NodeId& v : st.conf_state.learners) out += " " + v;
      for (const ProgressStatus& pr : st.progress) {
        out += "\n    " + pr.id + " match " + std::to_string(pr.match) + " next " +
               std::to_string(pr.next) + " " + progress_state_name(pr.state) +
               (pr.paused ? " paused" : "") + (pr.recent_active ? " active" : "") + " inflight " +
               std::to_string(pr.inflight_msgs);
      }
      out += "\n";
    }
    return out;
  }

  Invariants& invariants() { return invariants_; }
  bool ok() const { return invariants_.ok(); }

  void check_full() {
    std::vector<std::pair<NodeId, const MemoryStorage*>> logs;
    for (const auto& [id, p] : peers_) logs.emplace_back(id, p.storage.get());
    invariants_.check_full(logs);
  }

  std::mt19937_64& rng() { return rng_; }
  bool chance(double p) { return p > 0 && static_cast<double>(rng_() >> 11) * 0x1.0p-53 < p; }
  const NetworkOptions& options() const { return options_; }

 private:
  struct InFlight {
    uint64_t due;
    uint64_t seq;
    Message m;
  };

  void add(const NodeId& id, const ConfState& genesis) {
    Peer p;
    p.id = id;
    p.storage = std::make_unique<MemoryStorage>(genesis);
    p.conf = genesis;
    auto created = RawNode::create(config_for(p));
    EXPECT_TRUE(created.ok()) << created.error().message;
    p.node.emplace(std::move(created).value());
    logs_[id] = p.storage.get();
    peers_.emplace(id, std::move(p));
  }

  Config config_for(const Peer& p) const {
    Config c;
    c.id = p.id;
    c.election_tick = options_.election_tick;
    c.heartbeat_tick = options_.heartbeat_tick;
    c.learner_heartbeat_tick = options_.learner_heartbeat_tick;
    c.storage = p.storage.get();
    c.applied = 0;  // a new node: nothing applied
    c.max_size_per_msg = options_.max_size_per_msg;
    c.max_inflight_msgs = options_.max_inflight_msgs;
    c.max_uncommitted_entries_size = options_.max_uncommitted_entries_size;
    c.max_committed_size_per_ready = options_.max_committed_size_per_ready;
    c.max_pending_reads = options_.max_pending_reads;
    c.pre_vote = options_.pre_vote;
    c.check_quorum = options_.check_quorum;
    // Each node its own seed, derived from the network's and its id (FNV-1a).
    uint64_t h = 1469598103934665603ull ^ options_.seed;
    for (char ch : p.id) h = (h ^ static_cast<uint8_t>(ch)) * 1099511628211ull;
    c.seed = h;
    return c;
  }

  static uint64_t fold(uint64_t digest, const Entry& e) {
    uint64_t h = digest ^ 1469598103934665603ull;
    auto mix = [&h](uint64_t v) {
      for (int i = 0; i < 8; ++i) h = (h ^ ((v >> (8 * i)) & 0xff)) * 1099511628211ull;
    };
    mix(e.index);
    mix(e.term);
    mix(static_cast<uint64_t>(e.type));
    for (char ch : e.data) h = (h ^ static_cast<uint8_t>(ch)) * 1099511628211ull;
    return h;
  }

  // The Ready contract, exactly.
  void process_ready(Peer& p) {
    while (p.node && p.node->has_ready()) {
      Ready rd = p.node->ready();
      invariants_.before_persist(p.id, *p.storage, rd);
      // 1. Persist snapshot, entries, hard state (fsync'd if must_sync: memory is always durable).
      if (rd.snapshot) {
        const Status s = p.storage->apply_snapshot(*rd.snapshot);
        EXPECT_TRUE(s.ok()) << s.error().message;
      }
      p.storage->append(rd.entries);
      if (rd.hard_state) p.storage->set_hard_state(*rd.hard_state);
      invariants_.after_persist(p.id, *p.storage, rd);
      // 2. Send.
      const RaftStatus st = p.node->status();
      for (Message& m : rd.messages) {
        std::optional<RaftStatus> to;
        if (const auto r = peers_.find(m.to); r != peers_.end() && r->second.node)
          to = r->second.node->status();
        invariants_.on_send(p.id, st, m, to ? &*to : nullptr);
        send(std::move(m));
      }
      // 3. Apply.
      if (rd.snapshot) {
        p.applied = rd.snapshot->meta.index;
        p.digest = std::stoull(rd.snapshot->data);
        p.conf = rd.snapshot->meta.conf_state;
        p.applied_data.clear();
        ++p.snapshots_installed;
        invariants_.on_apply_snapshot(p.id, *rd.snapshot, p.digest);
      }
      if (!rd.committed_entries.empty()) {
        uint64_t bytes = 0;
        for (const Entry& e : rd.committed_entries) bytes += entry_size_bytes(e);
        ++p.committed_readies;
        p.committed_entries_max = std::max(p.committed_entries_max, rd.committed_entries.size());
        p.committed_bytes_max = std::max(p.committed_bytes_max, bytes);
      }
      for (const Entry& e : rd.committed_entries) {
        EXPECT_EQ(e.index, p.applied + 1) << p.id << " applies out of order";
        if (e.type == EntryType::conf_change) {
          auto cc = decode_conf_change(e.data);
          EXPECT_TRUE(cc.ok());
          if (cc.ok()) p.conf = p.node->apply_conf_change(*cc);
        } else if (!e.data.empty()) {
          p.applied_data.push_back(e.data);
        }
        p.applied = e.index;
        p.digest = fold(p.digest, e);
        invariants_.on_apply(p.id, p.storage->hard_state().term, e, p.digest);
      }
      // 4. Reads.
      for (const ReadState& rs : rd.read_states) invariants_.on_read_state(p.id, rs);
      p.reads.insert(p.reads.end(), rd.read_states.begin(), rd.read_states.end());
      // 5. Advance.
      p.node->advance(rd);
      maybe_compact(p);
    }
  }

  void maybe_compact(Peer& p) {
    if (options_.snapshot_every_entries == 0) return;
    const LogIndex snap_index = p.storage->snapshot()->meta.index;
    if (p.applied < snap_index + options_.snapshot_every_entries) return;
    if (p.applied > p.storage->last_index()) return;
    auto snap = p.storage->create_snapshot(p.applied, p.conf, std::to_string(p.digest));
    EXPECT_TRUE(snap.ok());
    if (p.applied > options_.compact_keep_entries) {
      const LogIndex to = p.applied - options_.compact_keep_entries;
      if (to >= p.storage->first_index()) (void)p.storage->compact(to);
    }
  }

  void send(Message m) {
    const uint64_t due =
        now_ + (options_.delay_steps_max == 0 ? 0 : rng_() % (options_.delay_steps_max + 1));
    if (chance(options_.duplicate_probability)) {
      const uint64_t due2 = now_ + rng_() % (options_.delay_steps_max + 1);
      wire_.push_back(InFlight{due2, seq_++, m});
    }
    wire_.push_back(InFlight{due, seq_++, std::move(m)});
  }

  void deliver(Message& m) {
    const auto d = drop_.find({m.from, m.to});
    const bool dropped = (d != drop_.end() && (d->second >= 1.0 || chance(d->second))) ||
                         !peers_.count(m.to) || !peers_.at(m.to).node;
    Peer* sender = peers_.count(m.from) ? &peers_.at(m.from) : nullptr;
    if (dropped || (filter_ && !filter_(m))) {
      // The transport tells the sender, as a real one would on a failed send.
      if (sender && sender->node && m.type == MessageType::snap) {
        sender->node->report_snapshot(m.to, false);
        process_ready(*sender);
      } else if (sender && sender->node && m.type == MessageType::app && chance(0.5)) {
        sender->node->report_unreachable(m.to);
        process_ready(*sender);
      }
      return;
    }
    Peer& to = peers_.at(m.to);
    const MessageType type = m.type;
    const bool stepped = to.node->step(std::move(m)).ok();
    process_ready(to);
    // A snapshot the receiver refused (RawNode::step) is reported lost, as a real transport
    // learns from the receiver's answer; the leader sends it again.
    if (type == MessageType::snap && sender && sender->node) {
      sender->node->report_snapshot(to.id, stepped);
      process_ready(*sender);
    }
  }

  void step_done() {
    for (auto& [id, p] : peers_) {
      invariants_.check_node(id, *p.storage, p.node ? &*p.node : nullptr);
    }
  }

  NetworkOptions options_;
  std::mt19937_64 rng_;
  std::map<NodeId, Peer> peers_;
  std::map<NodeId, const MemoryStorage*> logs_;  // every node's durable log, for the invariants
  std::vector<InFlight> wire_;
  std::map<std::pair<NodeId, NodeId>, double> drop_;
  uint64_t now_ = 0;
  uint64_t seq_ = 0;
  std::function<bool(Message&)> filter_;
  Invariants invariants_;
};

}  // namespace umupaka::raft::testing

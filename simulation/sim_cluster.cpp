#include "simulation/sim_cluster.hpp"

#include <stdlib.h>

#include <algorithm>
#include <array>
#include <deque>
#include <filesystem>
#include <random>
#include <tuple>

#include "ledger/assert.hpp"
#include "ledger/codec.hpp"
#include "ledger/ledger_entry.hpp"
#include "ledger/limits.hpp"
#include "ledger/record.hpp"
#include "ledger/validate.hpp"
#include "node/frame_route.hpp"
#include "node/group_commit.hpp"
#include "node/network_setup.hpp"
#include "node/store_feeds.hpp"
#include "simulation/seeds.hpp"

namespace umupaka::sim {
namespace {

template <size_t N>
std::array<uint8_t, N> random_bytes(uint64_t seed, std::string_view label) {
  std::mt19937_64 rng(derive(seed, label, 0));
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; i += 8) {
    const uint64_t v = rng();
    for (size_t k = 0; k < 8 && i + k < N; ++k) out[i + k] = static_cast<uint8_t>(v >> (8 * k));
  }
  return out;
}

// Z85 (ZeroMQ RFC 32) of 32 bytes: the form of a transport key in a SiteEntry.
std::string z85(const std::array<uint8_t, 32>& bytes) {
  static constexpr char alphabet[] =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 4) {
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) v = (v << 8) | bytes[i + k];
    char chunk[5];
    for (int k = 4; k >= 0; --k) {
      chunk[k] = alphabet[v % 85];
      v /= 85;
    }
    out.append(chunk, 5);
  }
  return out;
}

void append_u64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Thrown from a node's Raft send callback to crash it at that point (crash_after_next_send);
// caught where the simulator called into the node.
struct SimCrash {};

uint64_t digest64(std::string_view bytes) {
  const Hash h = sha256(bytes);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | h[i];
  return v;
}

}  // namespace

uint64_t LatencySeries::count() const {
  uint64_t n = 0;
  for (const auto& [site, buckets] : by_site)
    for (const auto& [t, v] : buckets) n += v.size();
  return n;
}

// --- Nodes -----------------------------------------------------------------------------------

struct SimCluster::PendingWrite {
  WriteWork work;
  std::shared_ptr<IngestBatch> batch;  // an ingest from the gossip core: told on_ingested
  OrderPlane::ApplyDone apply_done;    // an apply the order plane submitted
  std::optional<Result<WriteResult>>* waiter = nullptr;  // record(), post_membership()
};

struct SimCluster::Node {
  SimSite site;
  size_t index = 0;
  SecretSeed seed{};
  std::string dir;
  std::unique_ptr<Store> store;  // empty while crashed
  FrontierCache frontier_cache;  // of `store`; emptied with it
  std::unique_ptr<NodeCore> core;
  std::unique_ptr<GossipCore> gossip;
  std::unique_ptr<OrderPlane> order;  // empty while crashed or when Options::order is off
  // The node's writer (node/writer.hpp): work queued for group commit, taken in batches by
  // write_turn at write_due_ms and run by run_group_commit, as production's Writer runs it.
  std::deque<PendingWrite> writes;
  int64_t write_due_ms = INT64_MAX;
  uint64_t boot = 0;  // starts and restarts so far
  // When the site was set up (add_site; the start for the others): records acknowledged before
  // are not part of its latencies (it receives them when it installs, not when they were new).
  int64_t added_ms = 0;
  // Faults.
  int64_t clock_offset = 0;
  bool disk_full = false;
  uint32_t write_ms = 0;  // set_write_ms (0: Options::write_ms)
  int64_t paused_until = 0;
  std::vector<Delivery> held;  // frames that arrived during a pause
  bool crash_after_send = false;
  // Raft invariant state, kept across crashes: the highest term of a message this node sent (not
  // a pre-vote), and the vote it granted in vote_term; the commit index seen in this boot; how far
  // its committed Raft log and its ledger were compared with the canonical ones.
  uint64_t max_term_sent = 0;
  uint64_t vote_term = 0;
  std::string vote_for;
  uint64_t ack_term = 0;  // the highest term of an append it acknowledged, and the index
  uint64_t acked_index = 0;
  uint64_t commit_seen = 0;
  uint64_t raft_checked = 0;
  uint64_t ledger_checked = 0;
  int64_t next_tick_ms = 0;
  bool dirty = false;         // the store was written since the last check
  bool raft_touched = false;  // the order plane was driven since the last check
  // Invariant state, kept across crashes: the heads last seen (verified up to there) and the
  // evidence already verified.
  std::map<std::string, FeedHead, std::less<>> known;
  std::set<std::tuple<std::string, uint64_t, Hash, Hash>> evidence_checked;

  bool live() const { return core != nullptr; }
};

// --- Set-up ----------------------------------------------------------------------------------

SimCluster::SimCluster(Options options)
    : options_(std::move(options)),
      net_(derive(options_.seed, "network", 0), options_.network),
      now_ms_(options_.start_ms) {
  UMUPAKA_ASSERT(!options_.sites.empty());
  UMUPAKA_ASSERT(options_.tick_ms > 0);
  namespace fs = std::filesystem;
  if (options_.dir.empty()) {
    std::string pattern = (fs::temp_directory_path() / "umupaka-sim-XXXXXX").string();
    UMUPAKA_ASSERT_MSG(::mkdtemp(pattern.data()) != nullptr, "cannot create a temp directory");
    root_dir_ = pattern;
    remove_dir_ = true;
  } else {
    root_dir_ = options_.dir;
    std::error_code ec;
    fs::create_directories(root_dir_, ec);
    UMUPAKA_ASSERT_MSG(!ec, "cannot create the cluster directory");
  }

  root_seed_ = random_bytes<32>(options_.seed, "root");
  keys_[root_origin] = SigningKey::from_seed(root_seed_).public_key();
  std::vector<SiteEntry> entries;
  for (const SimSite& site : options_.sites) entries.push_back(new_node(site));
  auto genesis = make_genesis(root_seed_, options_.network_id, entries, options_.start_ms);
  UMUPAKA_ASSERT_MSG(genesis.ok(), "make_genesis failed (check the sites: ids, one voter)");
  genesis_ = std::move(genesis).value();
  trace(std::string_view(reinterpret_cast<const char*>(genesis_.hash.data()), 32));

  for (auto& n : nodes_) open_and_start(*n);
  check_invariants();
}

namespace {

// A simulated site's genesis entry under its keys.
SiteEntry sim_entry(const SimSite& site, const PublicKey& signing_key, std::string transport_key) {
  SiteEntry e;
  e.site = site.id;
  e.kind = site.kind;
  e.role = site.role;
  e.signing_key = signing_key;
  e.transport_key = std::move(transport_key);
  e.peer = "tcp://" + site.id + ".sim:7500";
  e.api = "http://" + site.id + ".sim:7400";
  return e;
}

}  // namespace

Status SimCluster::genesis_fits(const std::vector<SimSite>& sites, const std::string& network_id,
                                int64_t start_ms) {
  // Keys are of fixed size (and must differ): any keys give the genesis its size.
  std::vector<SiteEntry> entries;
  for (const SimSite& site : sites)
    entries.push_back(sim_entry(
        site, SigningKey::from_seed(random_bytes<32>(0, "signing:" + site.id)).public_key(),
        z85(random_bytes<32>(0, "transport:" + site.id))));
  auto genesis =
      make_genesis(random_bytes<32>(0, "root"), network_id, std::move(entries), start_ms);
  if (!genesis.ok()) return genesis.error();
  return {};
}

SiteEntry SimCluster::new_node(const SimSite& site) {
  auto n = std::make_unique<Node>();
  n->site = site;
  n->index = nodes_.size();
  n->seed = random_bytes<32>(options_.seed, "signing:" + n->site.id);
  n->added_ms = now_ms_;
  n->dir = root_dir_ + "/" + n->site.id;
  UMUPAKA_ASSERT_MSG(!keys_.count(n->site.id), "site ids must be unique");
  SiteEntry e = sim_entry(n->site, SigningKey::from_seed(n->seed).public_key(),
                          z85(random_bytes<32>(options_.seed, "transport:" + n->site.id)));
  keys_[n->site.id] = e.signing_key;
  site_ids_.push_back(n->site.id);
  nodes_.push_back(std::move(n));
  return e;
}

void SimCluster::open_and_start(Node& n) {
  auto store = Store::open(n.dir, lmdb::EnvOptions{.sync = false, .write_map = true});
  UMUPAKA_ASSERT_MSG(store.ok(), "cannot open a node's store");
  n.store = std::move(store).value();
  start_node(n);
}

SiteEntry SimCluster::add_site(const SimSite& site) {
  SiteEntry e = new_node(site);
  open_and_start(*nodes_.back());
  std::string t = "S" + site.id;
  trace(t);
  check_invariants();
  return e;
}

SimCluster::~SimCluster() {
  nodes_.clear();  // closes the stores
  if (remove_dir_) {
    std::error_code ec;
    std::filesystem::remove_all(root_dir_, ec);
  }
}

GossipConfig SimCluster::gossip_config(const Node& n) const {
  GossipConfig c = options_.gossip;
  c.seed = derive(options_.seed, "gossip:" + n.site.id, n.boot);
  c.swim.seed = derive(options_.seed, "swim:" + n.site.id, n.boot);
  return c;
}

void SimCluster::start_node(Node& n) {
  UMUPAKA_ASSERT(n.store != nullptr && !n.live());
  ++n.boot;
  n.core = std::make_unique<NodeCore>(NodeIdentity{options_.network_id, n.site.id, n.site.kind},
                                      SigningKey::from_seed(n.seed));
  {
    auto txn = snapshot(n);
    const Status recovered = n.core->recover(*txn, wall_ms(n));
    UMUPAKA_ASSERT_MSG(recovered.ok(), "NodeCore::recover failed");
  }
  if (!n.core->membership().joined()) {
    const Status joined = join_network(*n.core, *n.store, genesis_);
    UMUPAKA_ASSERT_MSG(joined.ok(), "NodeCore::join failed");
    n.dirty = true;
  }
  n.gossip = std::make_unique<GossipCore>(n.site.id, gossip_config(n));
  // One Ed25519 check per record and key for the whole simulated network (gossip.hpp).
  n.gossip->set_record_verifier([this](const PublicKey& key, const SignedRecord& sr) {
    if (verified_.count({key, sr.hash})) return true;
    const bool ok = verify_record_signature(key, sr);
    if (ok) verified_.insert({key, sr.hash});
    return ok;
  });
  set_membership(n, /*start=*/false);
  n.gossip->set_quarantine(n.core->quarantine());
  {
    auto txn = snapshot(n);
    for (const auto& e : txn->evidence()) n.gossip->set_evidence(e.origin, e.a, e.b);
  }
  if (options_.order && n.core->membership().site(n.site.id) != nullptr) start_order(n);
  // Ticks staggered by site, on a grid of tick_ms from now.
  n.next_tick_ms = now_ms_ + 1 + static_cast<int64_t>((n.index * 7) % options_.tick_ms);
}

void SimCluster::start_order(Node& n) {
  OrderOptions oo;
  oo.self = n.site.id;
  oo.network_id = options_.network_id;
  oo.tick_ms = options_.raft_tick_ms;
  oo.election_ticks = options_.election_ticks;
  oo.snapshot_entries = options_.snapshot_entries;
  oo.snapshot_keep_entries = options_.snapshot_keep_entries;
  oo.seed = derive(options_.seed, "raft:" + n.site.id, n.boot);
  Node* np = &n;
  n.order = std::make_unique<OrderPlane>(
      oo, n.core->membership(), n.seed, *n.store,
      [this, np](LedgerWork work, OrderPlane::ApplyDone done) {
        return enqueue_write(*np, PendingWrite{std::move(work), {}, std::move(done)});
      },
      [this, np](const std::string& to, raft::Message m) {
        // What only a leader sends names it leader of its term, though it may crash or step
        // down before the end of the step, when the other checks look.
        if (m.type == raft::MessageType::app || m.type == raft::MessageType::heartbeat ||
            m.type == raft::MessageType::snap || m.type == raft::MessageType::timeout_now)
          note_leader(*np, m.term);
        if (m.type != raft::MessageType::pre_vote && m.type != raft::MessageType::pre_vote_resp) {
          np->max_term_sent = std::max(np->max_term_sent, m.term);
          if (m.type == raft::MessageType::vote_resp && !m.reject) {
            np->vote_term = m.term;
            np->vote_for = to;
          }
          // Within a term a follower's log is never cut below what it acknowledged.
          if (m.type == raft::MessageType::app_resp && !m.reject) {
            if (m.term > np->ack_term) np->acked_index = 0;
            np->ack_term = std::max(np->ack_term, m.term);
            np->acked_index = std::max(np->acked_index, m.index);
          }
        }
        GossipMessage g;
        g.type = GossipType::raft;
        g.from = np->site.id;
        g.raft = std::move(m);
        const bool taken = net_.send(np->site.id, to, encode_gossip(g), now_ms_);
        if (np->crash_after_send) {
          np->crash_after_send = false;
          throw SimCrash{};
        }
        return taken;
      },
      [this, np](const LedgerHead& h) {
        GossipMessage g;
        g.type = GossipType::head;
        g.from = np->site.id;
        g.head = h;
        const std::string frame = encode_gossip(g);
        for (const auto& id : site_ids_)
          if (id != np->site.id) net_.send(np->site.id, id, frame, now_ms_);
      },
      [this, np](const std::string& peer, const std::vector<WantedChain>& wanted) {
        if (peer.empty() || peer == np->site.id) return;
        const StoreFeeds feeds(snapshot(*np), &np->frontier_cache);
        np->gossip->request_catch_up(peer, feeds, now_ms_);
        if (!wanted.empty()) np->gossip->request_versions(peer, wanted, now_ms_);
      },
      [this, np](const std::string& to, const LedgerSegment& segment, bool request) {
        if (to == np->site.id) return;
        GossipMessage g;
        g.type = request ? GossipType::ledger_fetch : GossipType::ledger_rows;
        g.from = np->site.id;
        g.segment = segment;
        net_.send(np->site.id, to, encode_gossip(g), now_ms_);
      });
  // One Ed25519 check per signed head for the whole simulated network.
  n.order->set_head_verifier(
      [this](const PublicKey& key, std::string_view bytes, const Signature& sig) {
        std::string all(bytes);
        all.append(reinterpret_cast<const char*>(sig.data()), sig.size());
        const std::pair<PublicKey, Hash> id{key, sha256(all)};
        if (heads_verified_.count(id)) return true;
        const bool ok = verify_signature(key, bytes, sig);
        if (ok) heads_verified_.insert(id);
        return ok;
      });
  n.raft_touched = true;
  const Status started = n.order->start();
  if (!started.ok()) {
    UMUPAKA_ASSERT_MSG(started.error().code == Errc::forbidden, "OrderPlane::start failed");
    n.order.reset();  // not a member of the network (a site outside the Raft configuration
                      // starts as a non-member and learns the log once the leader adds it)
    return;
  }
  // A restarted node must remember every term it spoke in and every vote it granted.
  const OrderStatus st = n.order->status();
  if (st.term < n.max_term_sent)
    violation(n, "restarted in Raft term " + std::to_string(st.term) + " after sending in term " +
                     std::to_string(n.max_term_sent) + ": its state was not persisted first");
  else if (st.term == n.vote_term && !n.vote_for.empty() && st.vote != n.vote_for)
    violation(n, "forgot its vote for " + n.vote_for + " in term " + std::to_string(n.vote_term) +
                     ": its state was not persisted first");
  else if (st.term == n.ack_term && st.last_index < n.acked_index)
    violation(n, "restarted with its Raft log at " + std::to_string(st.last_index) +
                     " after acknowledging " + std::to_string(n.acked_index) + " in term " +
                     std::to_string(n.ack_term) + ": its log was not persisted first");
  n.commit_seen = 0;
}

int64_t SimCluster::wall_ms(const Node& n) const { return now_ms_ + n.clock_offset; }

// Calls into the node's order plane (fn), then sends and queues the gossip work it caused; a
// crash on send (SimCrash) crashes the node there. The applies it submits are queued for the
// node's writer (write_turn), as production's are.
void SimCluster::drive_order(Node& n, const std::function<void()>& fn) {
  if (call_order(n, fn)) pump(n);
}

bool SimCluster::call_order(Node& n, const std::function<void()>& fn) {
  n.raft_touched = true;
  try {
    fn();
    return true;
  } catch (const SimCrash&) {
    crash(n.site.id);
    return false;
  }
}

SimCluster::WritesQueued SimCluster::writes_queued(const std::string& site) const {
  const Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "writes_queued of a crashed site");
  WritesQueued q;
  for (const auto& w : n.writes) {
    if (std::holds_alternative<Command>(w.work))
      ++q.commands;
    else if (std::holds_alternative<LedgerWork>(w.work))
      ++q.applies;
    else
      ++q.ingests;
  }
  return q;
}

bool SimCluster::enqueue_write(Node& n, PendingWrite w) {
  // As Writer::enqueue: a full queue refuses (the API answers 503, the gossip core fetches the
  // records again, the order plane retries the apply).
  if (n.writes.size() >= limits::write_queue_depth_max) return false;
  n.writes.push_back(std::move(w));
  if (n.write_due_ms == INT64_MAX) n.write_due_ms = now_ms_ + write_ms(n);
  return true;
}

void SimCluster::write_turn(Node& n) {
  UMUPAKA_ASSERT(n.live() && !n.writes.empty());
  // As Writer::run: every waiting item, up to group_commit_records_max records.
  std::vector<PendingWrite> batch;
  std::vector<WriteWork> work;
  size_t weight = 0;
  while (!n.writes.empty() &&
         joins_batch(batch.size(), weight, write_weight(n.writes.front().work))) {
    weight += write_weight(n.writes.front().work);
    batch.push_back(std::move(n.writes.front()));
    n.writes.pop_front();
    work.push_back(std::move(batch.back().work));
  }
  n.write_due_ms = n.writes.empty() ? INT64_MAX : now_ms_ + write_ms(n);
  GroupCommitOutcome out = run_group_commit(*n.core, *n.store, work, [&] { return wall_ms(n); });
  ++stats_.write_batches;
  if (std::any_of(work.begin(), work.end(),
                  [&](const WriteWork& w) { return w.index() != work.front().index(); }))
    ++stats_.mixed_batches;
  if (out.committed.ok()) {
    n.dirty = true;
  } else if (n.disk_full) {
    ++stats_.writes_failed;
  } else {
    violation(n, "a group commit failed: " + out.committed.error().message);
  }
  const auto result = [&](size_t i) -> WriteResult {
    if (out.committed.ok()) return std::move(out.results[i]);
    if (std::holds_alternative<Command>(work[i])) return Result<Recorded>(out.committed.error());
    if (std::holds_alternative<LedgerWork>(work[i]))
      return Result<ApplyOutcome>(out.committed.error());
    return std::vector<IngestResult>{};  // as the runtime hands the gossip core a failed ingest
  };
  // The officers' answers first: the writer's own callbacks give them (api.cpp).
  for (size_t i = 0; i < batch.size(); ++i) {
    const bool command = std::holds_alternative<Command>(work[i]);
    if (batch[i].waiter == nullptr && !command) continue;
    WriteResult r = result(i);
    if (command) answer(n, std::get<Result<Recorded>>(r));
    if (batch[i].waiter == nullptr) continue;
    if (out.committed.ok())
      batch[i].waiter->emplace(std::move(r));
    else
      batch[i].waiter->emplace(out.committed.error());
  }
  // Then the network thread's share, in the order its loop takes the writer's notifications
  // (NetworkRuntime): applies done, a changed membership, the records this node originated,
  // ingest results.
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!batch[i].apply_done) continue;
    auto r = std::get<Result<ApplyOutcome>>(result(i));
    const auto& a = std::get<LedgerWork>(work[i]);
    if (r.ok() && r->applied) {
      if (a.snapshot) ++stats_.snapshot_installs;
      std::string t = "L" + n.site.id + '\0';
      append_u64(t, a.index);
      append_u64(t, r->size);
      t.append(reinterpret_cast<const char*>(r->root.data()), 32);
      trace(t);
    }
    if (!n.live() || !call_order(n, [&] { batch[i].apply_done(std::move(r)); })) return;
  }
  if (!n.live()) return;
  if (out.membership_changed) set_membership(n);
  if (!out.local.empty()) n.gossip->on_committed(out.local, now_ms_);
  std::optional<StoreFeeds> feeds;
  bool ingested = false;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!batch[i].batch) continue;
    const IngestBatch& b = *batch[i].batch;
    auto rs = std::get<std::vector<IngestResult>>(result(i));
    ingested = true;
    if (out.committed.ok()) {
      std::string t = "I" + n.site.id + '\0';
      for (const IngestResult& r : rs) {
        t += r.origin + '\0';
        append_u64(t, r.seq);
        t.push_back(static_cast<char>(r.outcome));
      }
      trace(t);
    }
    // As NetworkRuntime: results of a failed ingest reach the gossip core for evidence only.
    if (rs.size() != b.records.size() && b.kind != IngestKind::evidence) continue;
    if (!feeds) feeds.emplace(snapshot(n), &n.frontier_cache);
    n.gossip->on_ingested(b, rs, *feeds, now_ms_);
  }
  if (ingested && out.committed.ok()) ++stats_.ingest_commits;
  feeds.reset();
  pump(n);
}

Result<WriteResult> SimCluster::write_and_wait(Node& n, WriteWork work) {
  std::optional<Result<WriteResult>> result;
  if (!enqueue_write(n, PendingWrite{std::move(work), {}, {}, &result}))
    return make_error(Errc::unavailable, "write queue full; retry");
  // The writer works through what was queued before, in batches, the last of them with this.
  while (!result && n.live()) write_turn(n);
  if (!result) return make_error(Errc::unavailable, "the site crashed before the write committed");
  return std::move(*result);
}

void SimCluster::set_membership(Node& n, bool start) {
  n.gossip->set_membership(n.core->membership(), options_.links, options_.link, now_ms_);
  // The order plane only remembers it (its leader reconciles the Raft configuration on ticks).
  // As the runtime: a node starts its order plane once the membership names it.
  if (n.order)
    n.order->on_membership(n.core->membership());
  else if (start && options_.order && n.core->membership().site(n.site.id) != nullptr)
    start_order(n);
}

std::unique_ptr<StoreTxn> SimCluster::snapshot(const Node& n) const {
  UMUPAKA_ASSERT(n.store != nullptr);
  auto txn = n.store->read();
  UMUPAKA_ASSERT_MSG(txn.ok(), "cannot open a read transaction");
  return std::move(txn).value();
}

SimCluster::Node& SimCluster::node(const std::string& site) {
  for (auto& n : nodes_)
    if (n->site.id == site) return *n;
  assert_fail("site", __FILE__, __LINE__, "no such site in the cluster");
}

const SimCluster::Node& SimCluster::node(const std::string& site) const {
  for (const auto& n : nodes_)
    if (n->site.id == site) return *n;
  assert_fail("site", __FILE__, __LINE__, "no such site in the cluster");
}

// --- Driving ---------------------------------------------------------------------------------

Status SimCluster::enqueue_command(Node& n, const Command& command,
                                   std::optional<Result<WriteResult>>* waiter) {
  UMUPAKA_ASSERT_MSG(n.live(), "a command at a crashed site");
  // A paused process answers nobody (its writer does not run either).
  if (n.paused_until > now_ms_) {
    ++stats_.commands_refused;
    return make_error(Errc::unavailable, "the site is paused");
  }
  // As the API: the command joins the writer's queue; its batch may hold received records and
  // ledger applies too, and the new record reaches the gossip core through the commit hook's
  // path (write_turn).
  if (!enqueue_write(n, PendingWrite{command, {}, {}, waiter})) {
    ++stats_.commands_refused;
    return make_error(Errc::unavailable, "write queue full; retry");
  }
  return {};
}

// A command's batch is done (write_turn): the officer is answered.
void SimCluster::answer(Node& n, const Result<Recorded>& result) {
  if (!result.ok()) {
    ++stats_.commands_refused;
    return;
  }
  ++stats_.records_recorded;
  const Recorded& r = result.value();
  UMUPAKA_ASSERT(r.ref.origin == n.site.id);
  Acknowledged ack{r.ref.origin, r.ref.seq, r.hash};
  acknowledged_.push_back(ack);
  auto& times = ack_ms_[ack.origin];
  if (times.size() < ack.seq) times.resize(ack.seq, -1);
  times[ack.seq - 1] = now_ms_;
  newest_acknowledged_[ack.origin] = ack;
  std::string t = "A" + ack.origin + '\0';
  append_u64(t, ack.seq);
  t.append(reinterpret_cast<const char*>(ack.hash.data()), ack.hash.size());
  trace(t);
}

Status SimCluster::submit(const std::string& site, const Command& command) {
  return enqueue_command(node(site), command, nullptr);
}

Result<Recorded> SimCluster::record(const std::string& site, const Command& command) {
  Node& n = node(site);
  std::optional<Result<WriteResult>> written;
  RETURN_IF_ERROR(enqueue_command(n, command, &written));
  // The writer works through what was queued before, in batches, the last of them with this.
  while (!written && n.live()) write_turn(n);
  check_invariants();
  if (!written)
    return make_error(Errc::unavailable, "the site crashed before the command's batch committed");
  if (!written->ok()) return written->error();
  return std::get<Result<Recorded>>(std::move(*written).value());
}

int64_t SimCluster::next_event_ms() const {
  int64_t next = INT64_MAX;
  if (const auto d = net_.next_delivery_ms()) next = *d;
  for (const auto& n : nodes_) {
    if (!n->live()) continue;
    next = std::min(next, std::max(n->next_tick_ms, n->paused_until));
    if (n->write_due_ms != INT64_MAX)
      next = std::min(next, std::max(n->write_due_ms, n->paused_until));
    // Records waiting for their push (GossipConfig::push_interval_ms), as the runtime's poll
    // wakes for them.
    if (const auto due = n->gossip->push_due_ms())
      next = std::min(next, std::max({*due, n->paused_until, now_ms_}));
  }
  return next;
}

void SimCluster::step() {
  const int64_t t = next_event_ms();
  if (t == INT64_MAX) return;
  UMUPAKA_ASSERT(t >= now_ms_);
  now_ms_ = t;
  ++stats_.steps;
  while (auto d = net_.pop_due(now_ms_)) deliver(std::move(*d));
  for (auto& n : nodes_) {
    if (!n->live() || n->paused_until > now_ms_) continue;
    if (const auto due = n->gossip->push_due_ms(); due && *due <= now_ms_) {
      n->gossip->flush_pushes(now_ms_);
      pump(*n);
    }
  }
  // Each node's writer: one batch per step when due (a batch's callbacks may queue more).
  for (auto& n : nodes_)
    if (n->live() && n->write_due_ms <= now_ms_ && n->paused_until <= now_ms_) write_turn(*n);
  for (auto& n : nodes_) {
    if (!n->live() || n->next_tick_ms > now_ms_ || n->paused_until > now_ms_) continue;
    tick(*n);
    n->next_tick_ms += options_.tick_ms;
    // After a pause the node catches up with its timers at once, as a resumed process does.
    if (n->next_tick_ms <= now_ms_) n->next_tick_ms = now_ms_ + options_.tick_ms;
  }
  check_invariants();
}

void SimCluster::run_for(int64_t ms) {
  UMUPAKA_ASSERT(ms >= 0);
  const int64_t end = now_ms_ + ms;
  while (next_event_ms() <= end) step();
  now_ms_ = end;
}

bool SimCluster::run_until(int64_t timeout_ms, int64_t check_every_ms,
                           const std::function<bool()>& done) {
  UMUPAKA_ASSERT(check_every_ms > 0);
  const int64_t end = now_ms_ + timeout_ms;
  while (!done()) {
    if (now_ms_ >= end) return false;
    run_for(std::min(check_every_ms, end - now_ms_));
  }
  return true;
}

bool SimCluster::run_until_converged(int64_t timeout_ms, const std::set<std::string>& ignore,
                                     int64_t check_every_ms) {
  return run_until(timeout_ms, check_every_ms, [&] { return converged(ignore); });
}

void SimCluster::deliver(Delivery d) {
  Node& n = node(d.to);
  if (!n.live()) {
    ++stats_.frames_to_crashed;
    return;
  }
  if (n.paused_until > now_ms_) {
    n.held.push_back(std::move(d));
    return;
  }
  ++stats_.frames_delivered;
  std::string t = "D";
  append_u64(t, static_cast<uint64_t>(d.at_ms));
  trace({t, d.from, std::string_view("\0", 1), d.to, std::string_view("\0", 1), d.frame});
  // As the runtime's ZAP handler: a connection from a key the membership does not certify is
  // refused (a site set up but not yet certified, add_site).
  if (n.core->membership().site(d.from) == nullptr) {
    ++stats_.frames_refused;
    return;
  }
  auto m = decode_gossip(d.frame);
  if (!m.ok() || m->from != d.from) {
    ++stats_.frames_invalid;
    return;
  }
  // As NetworkRuntime (node/frame_route.hpp).
  switch (route_frame(*m, d.from)) {
    case FrameRoute::refused:
      ++stats_.frames_invalid;
      return;
    case FrameRoute::order:
      if (n.order)
        drive_order(n, [&] { deliver_to_order(*n.order, std::move(m).value(), d.from, now_ms_); });
      return;
    case FrameRoute::gossip:
      break;
  }
  {
    const StoreFeeds feeds(snapshot(n), &n.frontier_cache);
    n.gossip->on_message(d.from, std::move(m).value(), feeds, now_ms_);
  }
  pump(n);
}

void SimCluster::tick(Node& n) {
  ++stats_.ticks;
  // Frames that arrived during a pause, in arrival order.
  std::vector<Delivery> held;
  held.swap(n.held);
  for (auto& d : held) {
    if (!n.live()) return;
    deliver(std::move(d));
  }
  if (!n.live()) return;
  {
    const StoreFeeds feeds(snapshot(n), &n.frontier_cache);
    n.gossip->on_tick(feeds, now_ms_);
  }
  pump(n);
  if (n.order) drive_order(n, [&] { n.order->tick(now_ms_, wall_ms(n)); });
}

void SimCluster::pump(Node& n) {
  // As the runtime does after each round (NetworkRuntime's flush): messages out, received
  // records to the writer (their results come back through write_turn).
  if (!n.live()) return;
  n.core->note_peer_claims(n.gossip->claims());
  for (auto& o : n.gossip->take_messages())
    net_.send(n.site.id, o.to, encode_gossip(o.message), now_ms_);
  for (auto& batch : n.gossip->take_ingest()) {
    auto shared = std::make_shared<IngestBatch>(std::move(batch));
    // A full queue drops them: they are fetched again (NetworkRuntime's ingest_refused).
    enqueue_write(n, PendingWrite{IngestWork{shared->records, shared->kind}, shared});
  }
}

void SimCluster::crash(const std::string& site) {
  Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "crash of a crashed site");
  check_node(n, false);  // the last look at its store before it goes
  ++stats_.crashes;
  n.order.reset();
  // Queued, never committed: lost with the process, and the officers waiting never answered.
  stats_.commands_lost += static_cast<uint64_t>(
      std::count_if(n.writes.begin(), n.writes.end(),
                    [](const PendingWrite& w) { return std::holds_alternative<Command>(w.work); }));
  n.writes.clear();
  n.write_due_ms = INT64_MAX;
  n.held.clear();
  n.paused_until = 0;
  n.crash_after_send = false;
  n.gossip.reset();
  n.core.reset();
  n.store.reset();
  n.frontier_cache = {};
  trace("C" + site);
}

void SimCluster::restart(const std::string& site, RestoreMark mark) {
  Node& n = node(site);
  UMUPAKA_ASSERT_MSG(!n.live(), "restart of a live site");
  auto store = Store::open(n.dir, lmdb::EnvOptions{.sync = false, .write_map = true});
  UMUPAKA_ASSERT_MSG(store.ok(), "cannot reopen a node's store");
  n.store = std::move(store).value();
  // As umupaka-node run: the mark is written before the core recovers.
  if (mark != RestoreMark::keep)
    UMUPAKA_ASSERT(n.store
                       ->write([&](StoreTxn& txn) -> Status {
                         NodeCore::set_restore_mark(txn, mark == RestoreMark::restored);
                         return {};
                       })
                       .ok());
  if (n.disk_full)
    n.store->inject_write_failure(Error::make(Errc::disk_full, "disk full (simulated)"));
  start_node(n);
  trace("R" + site);
  n.dirty = true;
  check_invariants();
}

void SimCluster::inject(const std::string& from, const std::string& to, GossipMessage message) {
  if (message.from.empty()) message.from = from;
  net_.inject(from, to, encode_gossip(message), now_ms_);
}

Result<IngestResult> SimCluster::post_membership(const std::string& site,
                                                 const SignedRecord& record) {
  Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "post_membership at a crashed site");
  if (n.paused_until > now_ms_) return make_error(Errc::unavailable, "the site is paused");
  // As the API: a node held after a restore posts no membership record (made from an old root
  // head, it would fork the membership).
  RETURN_IF_ERROR(n.core->restore_hold_status());
  const Membership& m = n.core->membership();
  auto rec = open_record(record, m.root_key());
  if (!rec.ok()) return rec.error();
  if (rec->header.origin.value != root_origin || rec->header.network_id != m.network_id())
    return make_error(Errc::invalid_field, "not a root record of network " + m.network_id(),
                      "origin");
  RETURN_IF_ERROR(validate_record(*rec));  // as the API (api.cpp, POST /v1/membership)
  // As the API refuses it (api.cpp, POST /v1/membership).
  if (const auto* rv = std::get_if<SiteRevoked>(&rec->body); rv != nullptr && n.order) {
    const OrderStatus order = n.order->status();
    if (!order.enabled || order.voters.empty())
      return make_error(Errc::unavailable, "the ledger configuration is not known right now");
    RETURN_IF_ERROR(m.revocation_keeps_quorum(*rv, order.voters));
  }
  // As the API: one posted record through the writer's queue, waited for.
  IngestWork work{{VerifiedRecord{record, std::move(rec).value()}}, IngestKind::posted};
  auto written = write_and_wait(n, std::move(work));
  if (!written.ok()) return written.error();
  auto results = std::get<std::vector<IngestResult>>(std::move(written).value());
  const IngestResult result = results.front();
  std::string t = "M" + site + '\0' + result.origin + '\0';
  append_u64(t, result.seq);
  t.push_back(static_cast<char>(result.outcome));
  trace(t);
  if (n.live()) pump(n);
  check_invariants();
  return result;
}

void SimCluster::tamper(const std::string& site, const std::function<void(StoreTxn&)>& fn) {
  Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "tamper with a crashed site's store");
  const Status written = n.store->write([&](StoreTxn& txn) -> Status {
    fn(txn);
    return {};
  });
  UMUPAKA_ASSERT_MSG(written.ok(), "tamper: the write failed");
  n.dirty = true;
  check_invariants();
}

void SimCluster::set_clock_offset(const std::string& site, int64_t offset_ms) {
  node(site).clock_offset = offset_ms;
  std::string t = "K" + site + '\0';
  append_u64(t, static_cast<uint64_t>(offset_ms));
  trace(t);
}

int64_t SimCluster::clock_offset(const std::string& site) const { return node(site).clock_offset; }

void SimCluster::set_write_ms(const std::string& site, uint32_t ms) {
  node(site).write_ms = ms;
  trace({"W", site, std::to_string(ms)});
}

uint32_t SimCluster::write_ms(const Node& n) const {
  return n.write_ms != 0 ? n.write_ms : options_.write_ms;
}

void SimCluster::set_disk_full(const std::string& site, bool full) {
  Node& n = node(site);
  n.disk_full = full;
  if (n.store)
    n.store->inject_write_failure(
        full ? std::optional<Error>(Error::make(Errc::disk_full, "disk full (simulated)"))
             : std::nullopt);
  trace((full ? "F" : "f") + site);
}

void SimCluster::pause(const std::string& site, int64_t ms) {
  Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "pause of a crashed site");
  UMUPAKA_ASSERT(ms >= 0);
  n.paused_until = std::max(n.paused_until, now_ms_ + ms);
  std::string t = "P" + site + '\0';
  append_u64(t, static_cast<uint64_t>(ms));
  trace(t);
}

void SimCluster::crash_after_next_send(const std::string& site, bool armed) {
  Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "crash_after_next_send at a crashed site");
  n.crash_after_send = armed;
}

// --- Observing -------------------------------------------------------------------------------

OrderStatus SimCluster::order_status(const std::string& site) const {
  const Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "order_status of a crashed site");
  return n.order ? n.order->status() : OrderStatus{};
}

LedgerInfo SimCluster::ledger(const std::string& site) const {
  const Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "ledger of a crashed site");
  const auto txn = snapshot(n);
  const LedgerMeta m = read_ledger_meta(*txn);
  LedgerInfo info;
  info.applied_index = m.applied_index;
  info.size = m.size;
  info.root = ledger_root(*txn, m.size);
  info.conflicts = txn->conflicts_from(0, SIZE_MAX).size();
  return info;
}

std::optional<uint64_t> SimCluster::position_of(const std::string& site, const std::string& origin,
                                                uint64_t seq) const {
  const Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "position_of at a crashed site");
  return snapshot(n)->position_of(origin, seq);
}

std::vector<ConflictAlert> SimCluster::conflicts(const std::string& site) const {
  const Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "conflicts of a crashed site");
  std::vector<ConflictAlert> out;
  for (const auto& bytes : snapshot(n)->conflicts_from(0, SIZE_MAX)) {
    auto c = decode_conflict(bytes);
    UMUPAKA_ASSERT_MSG(c.ok(), "a stored conflict alert does not decode");
    out.push_back(std::move(c).value());
  }
  return out;
}

bool SimCluster::ledgers_converged(const std::set<std::string>& ignore_sites,
                                   const std::set<std::string>& ignore) const {
  std::optional<std::pair<uint64_t, Hash>> first;
  for (const auto& n : nodes_) {
    if (!n->live() || ignore_sites.count(n->site.id)) continue;
    const auto txn = snapshot(*n);
    const LedgerMeta m = read_ledger_meta(*txn);
    const std::pair<uint64_t, Hash> mine{m.size, ledger_root(*txn, m.size)};
    if (!first)
      first = mine;
    else if (*first != mine)
      return false;
    // The ledger covers every record held (of the origins not ignored).
    for (const auto& [origin, head] : txn->heads())
      if (!ignore.count(origin) && umupaka::ledger_seq(*txn, origin) != head.seq) return false;
  }
  return true;
}

bool SimCluster::run_until_settled(int64_t timeout_ms, const std::set<std::string>& ignore,
                                   int64_t check_every_ms) {
  return run_until(timeout_ms, check_every_ms, [&] {
    return converged(ignore) && (!options_.order || ledgers_converged(ignore));
  });
}

bool SimCluster::live(const std::string& site) const { return node(site).live(); }

bool SimCluster::paused(const std::string& site) const {
  const Node& n = node(site);
  return n.live() && n.paused_until > now_ms_;
}

uint64_t SimCluster::ledger_seq(const std::string& site, const std::string& origin) const {
  const Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "ledger_seq of a crashed site");
  return umupaka::ledger_seq(*snapshot(n), origin);
}

std::vector<FrontierEntry> SimCluster::heads(const std::string& site) const {
  const Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "heads of a crashed site");
  std::vector<FrontierEntry> out;
  for (const auto& [origin, head] : snapshot(n)->heads())
    out.push_back(FrontierEntry{origin, head.seq, head.hash});
  return out;
}

uint64_t SimCluster::head_seq(const std::string& site, const std::string& origin) const {
  const Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "head_seq of a crashed site");
  const auto h = snapshot(n)->head(origin);
  return h ? h->seq : 0;
}

std::optional<SignedRecord> SimCluster::stored_record(const std::string& site,
                                                      const std::string& origin,
                                                      uint64_t seq) const {
  const Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "stored_record of a crashed site");
  return snapshot(n)->record(origin, seq);
}

bool SimCluster::holds_version(const std::string& site, const std::string& origin, uint64_t seq,
                               const Hash& hash) const {
  const Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "holds_version of a crashed site");
  return snapshot(n)->version(origin, seq, hash).has_value();
}

std::vector<StoreTxn::EvidenceEntry> SimCluster::evidence(const std::string& site) const {
  const Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "evidence of a crashed site");
  return snapshot(n)->evidence();
}

bool SimCluster::converged(const std::set<std::string>& ignore_sites,
                           const std::set<std::string>& ignore) const {
  std::optional<std::vector<FrontierEntry>> first;
  for (const auto& n : nodes_) {
    if (!n->live() || ignore_sites.count(n->site.id)) continue;
    std::vector<FrontierEntry> h;
    for (const auto& [origin, head] : snapshot(*n)->heads())
      if (!ignore.count(origin)) h.push_back(FrontierEntry{origin, head.seq, head.hash});
    if (!first) {
      first = std::move(h);
    } else if (*first != h) {
      return false;
    }
  }
  return true;
}

const NodeCore& SimCluster::core(const std::string& site) const {
  const Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "core of a crashed site");
  return *n.core;
}

const GossipCore& SimCluster::gossip(const std::string& site) const {
  const Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "gossip of a crashed site");
  return *n.gossip;
}

SigningKey SimCluster::signing_key(const std::string& site) const {
  return SigningKey::from_seed(node(site).seed);
}

void SimCluster::trace(std::initializer_list<std::string_view> parts) {
  std::array<std::string_view, 8> all;
  UMUPAKA_ASSERT(parts.size() < all.size());
  all[0] = std::string_view(reinterpret_cast<const char*>(trace_.data()), trace_.size());
  std::copy(parts.begin(), parts.end(), all.begin() + 1);
  trace_ = sha256(all.data(), parts.size() + 1);
}

// --- Invariants ------------------------------------------------------------------------------

void SimCluster::violation(const Node& n, const std::string& what) {
  if (violations_.size() >= violations_max) return;
  violations_.push_back(
      "seed " + std::to_string(options_.seed) + ", step " + std::to_string(stats_.steps) +
      ", t=" + std::to_string(now_ms_ - options_.start_ms) + " ms, at " + n.site.id + ": " + what);
}

void SimCluster::check_invariants() {
  for (auto& n : nodes_) {
    if (!n->live()) continue;
    // A node's Raft state moves only while the simulator drives its order plane.
    if (n->order && n->raft_touched) check_raft(*n);
    n->raft_touched = false;
    if (!n->dirty) continue;
    check_node(*n, false);
    if (options_.order) check_ledger(*n);
    n->dirty = false;
  }
}

void SimCluster::note_leader(const Node& n, uint64_t term) {
  auto [it, inserted] = leaders_.emplace(term, n.site.id);
  if (inserted) {
    ++stats_.leader_changes;
    std::string t = "E" + n.site.id + '\0';
    append_u64(t, term);
    trace(t);
  } else if (it->second != n.site.id) {
    violation(n, "is leader in term " + std::to_string(term) + ", where " + it->second +
                     " was leader: two leaders in one term");
  }
}

// Raft's safety, from outside (Raft paper §5.2, §5.4): one leader per term; a commit index that
// never goes back within a boot; committed entries identical at every node (log matching and
// state-machine safety, compared through the entries as each node persisted them).
void SimCluster::check_raft(Node& n) {
  const auto brief = n.order->brief();
  if (!brief) return;  // restarting after a failed write
  const uint64_t term = brief->hard_state.term;
  const uint64_t commit = brief->hard_state.commit;
  if (term > stats_.max_term) stats_.max_term = term;
  if (brief->role == raft::Role::leader) note_leader(n, term);
  if (commit < n.commit_seen)
    violation(n, "its Raft commit index went back from " + std::to_string(n.commit_seen) + " to " +
                     std::to_string(commit));
  n.commit_seen = std::max(n.commit_seen, commit);
  if (commit <= n.raft_checked) return;
  const auto txn = snapshot(n);
  for (const auto& [index, bytes] : txn->raft_entries(n.raft_checked + 1)) {
    if (index > commit) break;
    const uint64_t d = digest64(bytes);
    // Keyed by index: entries a node compacted before they were looked at (or that an installed
    // snapshot skipped) leave gaps, and the entries after them are still compared.
    const auto [at, first] = committed_entries_.emplace(index, d);
    if (!first && at->second != d) {
      violation(n, "committed Raft entry " + std::to_string(index) +
                       " differs from the one other nodes committed");
      break;
    }
    n.raft_checked = index;
  }
}

// The ledger, after each write: positions only grow; the record at every position, the conflict
// alerts raised there and the Merkle root agree with every other node's (the canonical ledger is
// whatever any node applied first); commit latencies are sampled on the way.
void SimCluster::check_ledger(Node& n) {
  const auto txn = snapshot(n);
  const LedgerMeta m = read_ledger_meta(*txn);
  if (m.size < n.ledger_checked) {
    violation(n, "its ledger went back from " + std::to_string(n.ledger_checked) + " to " +
                     std::to_string(m.size) + " records");
    return;
  }
  if (m.size == n.ledger_checked) return;
  // The conflicts raised at the new positions, by position.
  std::map<uint64_t, std::vector<std::string>> raised;
  for (auto& bytes : txn->conflicts_from(n.ledger_checked, SIZE_MAX)) {
    auto c = decode_conflict(bytes);
    if (!c.ok()) {
      violation(n, "stores a conflict alert that does not decode");
      return;
    }
    if (c->position < m.size) raised[c->position].push_back(std::move(bytes));
  }
  const int64_t bucket =
      (now_ms_ - options_.start_ms) / options_.sample_bucket_ms * options_.sample_bucket_ms;
  auto& samples = commit_.by_site[n.site.id][bucket];
  for (uint64_t p = n.ledger_checked; p < m.size; ++p) {
    const auto ref = txn->at_position(p);
    // A forked slot: the ledger names the version it holds (the feed's, the evidence's or a kept
    // one); its Merkle leaf must agree.
    auto sr = ref ? txn->version(ref->origin, ref->seq, ref->hash) : std::nullopt;
    if (const auto leaf = txn->merkle_node(0, p);
        sr && (!leaf || merkle::leaf_hash(sr->hash) != *leaf)) {
      violation(n, "its Merkle leaf at position " + std::to_string(p) +
                       " is not the hash of the record its ledger names there");
      return;
    }
    if (!sr) {
      violation(n, "its ledger position " + std::to_string(p) + " names no record it holds");
      return;
    }
    if (p >= canon_positions_.size()) {
      canon_positions_.push_back(sr->hash);
      canon_tree_.append(merkle::leaf_hash(sr->hash));
      if (auto it = raised.find(p); it != raised.end()) canon_conflicts_[p] = it->second;
    } else {
      if (canon_positions_[p] != sr->hash) {
        violation(n, "holds " + ref->origin + "/" + std::to_string(ref->seq) +
                         " at ledger position " + std::to_string(p) +
                         ", where another node holds another record");
        return;
      }
      const auto it = raised.find(p);
      const auto canon = canon_conflicts_.find(p);
      const bool same =
          (it == raised.end() && canon == canon_conflicts_.end()) ||
          (it != raised.end() && canon != canon_conflicts_.end() && it->second == canon->second);
      if (!same) {
        violation(n, "raised other conflict alerts at ledger position " + std::to_string(p) +
                         " than another node did");
        return;
      }
    }
    if (const auto a = ack_ms_.find(ref->origin);
        a != ack_ms_.end() && ref->seq <= a->second.size() && a->second[ref->seq - 1] >= n.added_ms)
      samples.push_back(static_cast<uint32_t>(now_ms_ - a->second[ref->seq - 1]));
  }
  if (ledger_root(*txn, m.size) != merkle::root(canon_tree_, m.size)) {
    // Name the first leaf that differs.
    std::string where;
    for (uint64_t p = 0; p < m.size && where.empty(); ++p) {
      const auto leaf = txn->merkle_node(0, p);
      if (!leaf || *leaf != merkle::leaf_hash(canon_positions_[p])) {
        const auto ref = txn->at_position(p);
        where = " (first at position " + std::to_string(p) + ": " +
                (ref ? ref->origin + "/" + std::to_string(ref->seq) : std::string("?")) + ")";
      }
    }
    violation(n, "its Merkle root at size " + std::to_string(m.size) +
                     " differs from the root of the agreed ledger" + where);
    return;
  }
  n.ledger_checked = m.size;
}

void SimCluster::verify_stores() {
  for (auto& n : nodes_)
    if (n->live()) check_node(*n, true);
}

// `full`: verify every record and piece of evidence from scratch and every acknowledged record;
// otherwise only what appeared since the last check, and the newest acknowledged record.
void SimCluster::check_node(Node& n, bool full) {
  const auto txn = snapshot(n);
  const auto heads = txn->heads();
  std::set<std::string, std::less<>> present;
  for (const auto& [origin, head] : heads) {
    present.insert(origin);
    const std::string feed = origin + "/";
    const FeedHead known = n.known.count(origin) ? n.known.at(origin) : FeedHead{};
    if (head.seq < known.seq) {
      violation(n, "the head of " + origin + " went back from " + std::to_string(known.seq) +
                       " to " + std::to_string(head.seq));
      continue;
    }
    if (head.seq == known.seq && head.hash != known.hash) {
      violation(n,
                "the head of " + origin + " changed its hash at seq " + std::to_string(head.seq));
      continue;
    }
    const auto key = keys_.find(origin);
    if (key == keys_.end()) {
      violation(n, "holds a feed of " + origin + ", which is not in the genesis");
      continue;
    }
    uint64_t seq = full ? 1 : known.seq + 1;
    Hash prev = full || known.seq == 0 ? zero_hash : known.hash;
    bool ok = true;
    for (; seq <= head.seq; ++seq) {
      const auto sr = txn->record(origin, seq);
      if (!sr) {
        violation(n, "misses " + feed + std::to_string(seq) + " below its head");
        ok = false;
        break;
      }
      // Bytes already verified (here, or by a gossip core: the hash covers the bytes and the
      // signature) are decoded only; the signature is checked once per distinct record and key.
      const Hash h_bytes = record_hash(sr->encoded, sr->signature);
      const bool seen = h_bytes == sr->hash && verified_.count({key->second, h_bytes}) > 0;
      auto r = seen ? decode_record(sr->encoded) : open_record(*sr, key->second);
      if (r.ok() && !seen) verified_.insert({key->second, h_bytes});
      if (!r.ok()) {
        violation(n, "stores " + feed + std::to_string(seq) +
                         ", which does not open: " + r.error().message);
        ok = false;
        break;
      }
      const RecordHeader& h = r->header;
      if (h.origin.value != origin || h.seq.value != seq || h.prev_hash != prev ||
          h.network_id != options_.network_id) {
        violation(n, "stores " + feed + std::to_string(seq) +
                         " under a header that does not continue the feed");
        ok = false;
        break;
      }
      ++stats_.records_checked;
      prev = sr->hash;
      if (!full && origin != n.site.id) {
        if (const auto a = ack_ms_.find(origin);
            a != ack_ms_.end() && seq <= a->second.size() && a->second[seq - 1] >= n.added_ms) {
          const int64_t bucket =
              (now_ms_ - options_.start_ms) / options_.sample_bucket_ms * options_.sample_bucket_ms;
          lag_.by_site[n.site.id][bucket].push_back(
              static_cast<uint32_t>(now_ms_ - a->second[seq - 1]));
        }
      }
    }
    if (ok && prev != head.hash)
      violation(n, "the head of " + origin + " names a hash that its record does not have");
    if (ok) n.known[origin] = head;
  }
  for (const auto& [origin, head] : n.known)
    if (!present.count(origin)) violation(n, "lost the whole feed of " + origin);

  for (const auto& e : txn->evidence()) {
    const auto id = std::make_tuple(e.origin, e.seq, e.a.hash, e.b.hash);
    if (!full && n.evidence_checked.count(id)) continue;
    const std::string what = "evidence against " + e.origin + " at " + std::to_string(e.seq);
    const auto key = keys_.find(e.origin);
    if (key == keys_.end()) {
      violation(n, what + " names an origin not in the genesis");
      continue;
    }
    auto a = open_record(e.a, key->second);
    auto b = open_record(e.b, key->second);
    if (!a.ok() || !b.ok()) {
      violation(n, what + " holds a record that does not open");
      continue;
    }
    const RecordHeader& ha = a->header;
    const RecordHeader& hb = b->header;
    const bool same_slot = ha.seq == hb.seq && e.a.hash != e.b.hash;
    const bool broken_link = hb.seq.value == ha.seq.value + 1 && hb.prev_hash != e.a.hash;
    if (ha.origin.value != e.origin || hb.origin.value != e.origin || hb.seq.value != e.seq ||
        !(same_slot || broken_link)) {
      violation(n, what + " is not a conflict of that origin");
      continue;
    }
    n.evidence_checked.insert(id);
  }
  // Versions kept beside the feeds (forks, records past a cut-off): each signed by its origin.
  if (full)
    for (const SignedRecord& v : txn->versions()) {
      const auto d = decode_record(v.encoded);
      const auto key = d.ok() ? keys_.find(d->header.origin.value) : keys_.end();
      if (key == keys_.end() || !open_record(v, key->second).ok())
        violation(n, "keeps a version that is not signed by its origin");
    }

  // No acknowledged record lost: this node's own, the newest after each step, all in full.
  auto check_ack = [&](const Acknowledged& a) {
    const auto sr = txn->record(a.origin, a.seq);
    if (!sr || sr->hash != a.hash)
      violation(n, "lost its acknowledged record " + a.origin + "/" + std::to_string(a.seq));
  };
  if (full) {
    for (const auto& a : acknowledged_)
      if (a.origin == n.site.id) check_ack(a);
  } else if (const auto it = newest_acknowledged_.find(n.site.id);
             it != newest_acknowledged_.end()) {
    check_ack(it->second);
  }
}

}  // namespace umupaka::sim

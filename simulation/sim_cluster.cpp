#include "simulation/sim_cluster.hpp"

#include <stdlib.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <random>
#include <tuple>

#include "ledger/assert.hpp"
#include "ledger/codec.hpp"
#include "ledger/limits.hpp"
#include "ledger/record.hpp"
#include "node/network_setup.hpp"
#include "node/store_feeds.hpp"

namespace umupaka::sim {
namespace {

// SplitMix64 (Steele, Lea, Flood): turns related seeds into unrelated ones.
uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// FNV-1a: a stable hash of a label (std::hash may differ between standard libraries).
uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

// A seed for one purpose (`label`, `salt`) of the run `seed`.
uint64_t derive(uint64_t seed, std::string_view label, uint64_t salt) {
  return splitmix64(splitmix64(seed ^ fnv1a(label)) ^ splitmix64(salt));
}

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

}  // namespace

// --- Nodes -----------------------------------------------------------------------------------

struct SimCluster::Node {
  SimSite site;
  size_t index = 0;
  SecretSeed seed{};
  std::string dir;
  std::unique_ptr<Store> store;  // empty while crashed
  std::unique_ptr<NodeCore> core;
  std::unique_ptr<GossipCore> gossip;
  uint64_t boot = 0;  // starts and restarts so far
  int64_t next_tick_ms = 0;
  bool dirty = false;  // the store was written since the last check
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
  for (size_t i = 0; i < options_.sites.size(); ++i) {
    auto n = std::make_unique<Node>();
    n->site = options_.sites[i];
    n->index = i;
    n->seed = random_bytes<32>(options_.seed, "signing:" + n->site.id);
    n->dir = root_dir_ + "/" + n->site.id;
    UMUPAKA_ASSERT_MSG(!keys_.count(n->site.id), "site ids must be unique");
    SiteEntry e;
    e.site = n->site.id;
    e.kind = n->site.kind;
    e.role = n->site.role;
    e.signing_key = SigningKey::from_seed(n->seed).public_key();
    e.transport_key = z85(random_bytes<32>(options_.seed, "transport:" + n->site.id));
    e.peer = "tcp://" + n->site.id + ".sim:7500";
    e.api = "http://" + n->site.id + ".sim:7400";
    keys_[n->site.id] = e.signing_key;
    entries.push_back(std::move(e));
    site_ids_.push_back(n->site.id);
    nodes_.push_back(std::move(n));
  }
  auto genesis = make_genesis(root_seed_, options_.network_id, entries, options_.start_ms);
  UMUPAKA_ASSERT_MSG(genesis.ok(), "make_genesis failed (check the sites: ids, one voter)");
  genesis_ = std::move(genesis).value();
  trace(std::string_view(reinterpret_cast<const char*>(genesis_.hash.data()), 32));

  for (auto& n : nodes_) {
    auto store = Store::open(n->dir, lmdb::EnvOptions{.sync = false});
    UMUPAKA_ASSERT_MSG(store.ok(), "cannot open a node's store");
    n->store = std::move(store).value();
    start_node(*n);
  }
  check_invariants();
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
    const Status recovered = n.core->recover(*txn);
    UMUPAKA_ASSERT_MSG(recovered.ok(), "NodeCore::recover failed");
  }
  if (!n.core->membership().joined()) {
    const Status joined =
        n.store->write([&](StoreTxn& txn) { return n.core->join(genesis_, txn); });
    UMUPAKA_ASSERT_MSG(joined.ok(), "NodeCore::join failed");
    n.dirty = true;
  }
  n.gossip = std::make_unique<GossipCore>(n.site.id, gossip_config(n));
  set_membership(n);
  n.gossip->set_quarantine(n.core->quarantine());
  {
    auto txn = snapshot(n);
    for (const auto& e : txn->evidence()) n.gossip->set_evidence(e.origin, e.a, e.b);
  }
  // Ticks staggered by site, on a grid of tick_ms from now.
  n.next_tick_ms = now_ms_ + 1 + static_cast<int64_t>((n.index * 7) % options_.tick_ms);
}

void SimCluster::set_membership(Node& n) {
  n.gossip->set_membership(n.core->membership(), options_.links, options_.link, now_ms_);
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

Result<Recorded> SimCluster::record(const std::string& site, const Command& command) {
  Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "record at a crashed site");
  std::optional<Result<Recorded>> result;
  std::vector<SignedRecord> local;
  // As Writer::run, for a batch of one command.
  const Status committed = n.store->write([&](StoreTxn& txn) -> Status {
    local.clear();
    n.core->begin_batch();
    result.emplace(n.core->execute(command, txn, now_ms_));
    if (result->ok()) {
      auto sr = txn.record((*result)->ref.origin, (*result)->ref.seq);
      UMUPAKA_ASSERT(sr.has_value());
      local.push_back(std::move(*sr));
    }
    return {};
  });
  if (!committed.ok()) {
    n.core->commit_failed();
    ++stats_.commands_refused;
    return committed.error();
  }
  n.core->commit_succeeded();
  n.dirty = true;
  if (!result->ok()) {
    ++stats_.commands_refused;
    return std::move(*result);
  }
  ++stats_.records_recorded;
  const Recorded& r = result->value();
  Acknowledged ack{r.ref.origin, r.ref.seq, r.hash};
  acknowledged_.push_back(ack);
  newest_acknowledged_[ack.origin] = ack;
  std::string t = "A" + ack.origin + '\0';
  append_u64(t, ack.seq);
  t.append(reinterpret_cast<const char*>(ack.hash.data()), ack.hash.size());
  trace(t);
  // The commit hook's path: the new record goes to the gossip core, which pushes it.
  n.gossip->on_committed(local, now_ms_);
  pump(n);
  check_invariants();
  return std::move(*result);
}

int64_t SimCluster::next_event_ms() const {
  int64_t next = INT64_MAX;
  if (const auto d = net_.next_delivery_ms()) next = *d;
  for (const auto& n : nodes_)
    if (n->live()) next = std::min(next, n->next_tick_ms);
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
    if (!n->live() || n->next_tick_ms > now_ms_) continue;
    tick(*n);
    n->next_tick_ms += options_.tick_ms;
  }
  check_invariants();
}

void SimCluster::run_for(int64_t ms) {
  UMUPAKA_ASSERT(ms >= 0);
  const int64_t end = now_ms_ + ms;
  while (next_event_ms() <= end) step();
  now_ms_ = end;
}

bool SimCluster::run_until_converged(int64_t timeout_ms, const std::set<std::string>& ignore,
                                     int64_t check_every_ms) {
  UMUPAKA_ASSERT(check_every_ms > 0);
  const int64_t end = now_ms_ + timeout_ms;
  while (!converged(ignore)) {
    if (now_ms_ >= end) return false;
    run_for(std::min(check_every_ms, end - now_ms_));
  }
  return true;
}

void SimCluster::deliver(Delivery d) {
  Node& n = node(d.to);
  if (!n.live()) {
    ++stats_.frames_to_crashed;
    return;
  }
  ++stats_.frames_delivered;
  std::string t = "D";
  append_u64(t, static_cast<uint64_t>(d.at_ms));
  t += d.from + '\0' + d.to + '\0';
  t += d.frame;
  trace(t);
  auto m = decode_gossip(d.frame);
  if (!m.ok()) {
    ++stats_.frames_invalid;
    return;
  }
  {
    const StoreFeeds feeds(snapshot(n));
    n.gossip->on_message(d.from, std::move(m).value(), feeds, now_ms_);
  }
  pump(n);
}

void SimCluster::tick(Node& n) {
  ++stats_.ticks;
  {
    const StoreFeeds feeds(snapshot(n));
    n.gossip->on_tick(feeds, now_ms_);
  }
  pump(n);
}

void SimCluster::pump(Node& n) {
  for (;;) {
    for (auto& o : n.gossip->take_messages())
      net_.send(n.site.id, o.to, encode_gossip(o.message), now_ms_);
    auto batches = n.gossip->take_ingest();
    if (batches.empty()) return;
    ingest(n, std::move(batches));
  }
}

void SimCluster::ingest(Node& n, std::vector<IngestBatch> batches) {
  // Group commit as Writer::run: items in order, up to group_commit_records_max records per
  // transaction (an item larger than that alone).
  size_t i = 0;
  while (i < batches.size()) {
    size_t j = i, weight = 0;
    while (j < batches.size()) {
      const size_t w = std::max<size_t>(1, batches[j].records.size());
      if (j > i && weight + w > limits::group_commit_records_max) break;
      weight += w;
      ++j;
    }
    std::vector<std::vector<IngestResult>> results;
    const uint64_t root_before = n.core->membership().root_seq();
    const Status committed = n.store->write([&](StoreTxn& txn) -> Status {
      results.clear();
      n.core->begin_batch();
      for (size_t k = i; k < j; ++k) {
        const IngestBatch& b = batches[k];
        std::vector<IngestResult> out;
        if (b.evidence) {
          UMUPAKA_ASSERT(b.records.size() == 2);
          const VerifiedRecord& a = b.records[0];
          out.push_back(n.core->record_evidence(
              Equivocation{a.signed_record, b.records[1].signed_record},
              a.record.header.origin.value, b.records[1].record.header.seq.value, txn));
        } else {
          for (const VerifiedRecord& v : b.records) out.push_back(n.core->ingest(v, txn));
        }
        results.push_back(std::move(out));
      }
      return {};
    });
    if (!committed.ok()) {
      // Production hands the gossip core no results then (the records are fetched again).
      n.core->commit_failed();
      violation(n, "an ingest commit failed: " + committed.error().message);
      i = j;
      continue;
    }
    n.core->commit_succeeded();
    n.dirty = true;
    ++stats_.ingest_commits;
    // The commit hook: a changed membership reaches the gossip core first (connect_peers).
    if (n.core->membership().root_seq() != root_before) set_membership(n);
    for (size_t k = i; k < j; ++k) {
      const auto& rs = results[k - i];
      std::string t = "I" + n.site.id + '\0';
      for (const IngestResult& r : rs) {
        t += r.origin + '\0';
        append_u64(t, r.seq);
        t.push_back(static_cast<char>(r.outcome));
      }
      trace(t);
      const StoreFeeds feeds(snapshot(n));
      n.gossip->on_ingested(batches[k], rs, feeds, now_ms_);
    }
    i = j;
  }
}

void SimCluster::crash(const std::string& site) {
  Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "crash of a crashed site");
  check_node(n, false);  // the last look at its store before it goes
  n.gossip.reset();
  n.core.reset();
  n.store.reset();
  trace("C" + site);
}

void SimCluster::restart(const std::string& site) {
  Node& n = node(site);
  UMUPAKA_ASSERT_MSG(!n.live(), "restart of a live site");
  auto store = Store::open(n.dir, lmdb::EnvOptions{.sync = false});
  UMUPAKA_ASSERT_MSG(store.ok(), "cannot reopen a node's store");
  n.store = std::move(store).value();
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
  const Membership& m = n.core->membership();
  auto rec = open_record(record, m.root_key());
  if (!rec.ok()) return rec.error();
  if (rec->header.origin.value != root_origin || rec->header.network_id != m.network_id())
    return make_error(Errc::invalid_field, "not a root record of network " + m.network_id(),
                      "origin");
  const VerifiedRecord v{record, std::move(rec).value()};
  std::optional<IngestResult> result;
  const uint64_t root_before = m.root_seq();
  const Status committed = n.store->write([&](StoreTxn& txn) -> Status {
    n.core->begin_batch();
    result = n.core->ingest(v, txn);
    return {};
  });
  if (!committed.ok()) {
    n.core->commit_failed();
    return committed.error();
  }
  n.core->commit_succeeded();
  n.dirty = true;
  if (n.core->membership().root_seq() != root_before) set_membership(n);
  std::string t = "M" + site + '\0' + result->origin + '\0';
  append_u64(t, result->seq);
  t.push_back(static_cast<char>(result->outcome));
  trace(t);
  pump(n);
  check_invariants();
  return *result;
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

// --- Observing -------------------------------------------------------------------------------

bool SimCluster::live(const std::string& site) const { return node(site).live(); }

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

std::vector<StoreTxn::EvidenceEntry> SimCluster::evidence(const std::string& site) const {
  const Node& n = node(site);
  UMUPAKA_ASSERT_MSG(n.live(), "evidence of a crashed site");
  return snapshot(n)->evidence();
}

bool SimCluster::converged(const std::set<std::string>& ignore) const {
  std::optional<std::vector<FrontierEntry>> first;
  for (const auto& n : nodes_) {
    if (!n->live() || ignore.count(n->site.id)) continue;
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

void SimCluster::trace(std::string_view bytes) {
  std::string buf(reinterpret_cast<const char*>(trace_.data()), trace_.size());
  buf.append(bytes);
  trace_ = sha256(buf);
}

// --- Invariants ------------------------------------------------------------------------------

void SimCluster::violation(const Node& n, const std::string& what) {
  if (violations_.size() >= violations_max) return;
  violations_.push_back("seed " + std::to_string(options_.seed) +
                        ", t=" + std::to_string(now_ms_ - options_.start_ms) + " ms, at " +
                        n.site.id + ": " + what);
}

void SimCluster::check_invariants() {
  for (auto& n : nodes_) {
    if (!n->live() || !n->dirty) continue;
    check_node(*n, false);
    n->dirty = false;
  }
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
      auto r = open_record(*sr, key->second);
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

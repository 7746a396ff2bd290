#include "node/ledger_apply.hpp"

#include <algorithm>
#include <cstring>
#include <map>

#include "ledger/assert.hpp"
#include "ledger/codec.hpp"
#include "ledger/conflicts.hpp"
#include "ledger/limits.hpp"
#include "ledger/msgpack_visit.hpp"

namespace umupaka {
namespace {

constexpr std::string_view meta_applied = "ledger.applied_index";
constexpr std::string_view meta_size = "ledger.size";
constexpr std::string_view meta_time = "ledger.cluster_time_ms";
constexpr std::string_view frontier_prefix = "ledger.frontier.";

std::string u64_bytes(uint64_t v) {
  std::string s;
  for (int i = 7; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}
uint64_t bytes_u64(std::string_view s) {
  UMUPAKA_ASSERT(s.size() >= 8);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}
uint64_t meta_u64(const StoreTxn& txn, std::string_view key) {
  const auto v = txn.meta(key);
  return v ? bytes_u64(*v) : 0;
}

// A stored ledger tip: seq:u64 and the hash of the version the ledger holds there.
std::pair<uint64_t, Hash> parse_ledger_tip(std::string_view v) {
  Hash h = zero_hash;
  UMUPAKA_ASSERT_MSG(v.size() == 8 + h.size(), "corrupt ledger frontier");
  std::memcpy(h.data(), v.data() + 8, h.size());
  return {bytes_u64(v), h};
}

// The ledger frontier of `origin` (seq 0 and the zero hash: nothing of it in the ledger).
std::pair<uint64_t, Hash> ledger_tip(const StoreTxn& txn, std::string_view origin) {
  const auto v = txn.meta(std::string(frontier_prefix) + std::string(origin));
  if (!v) return {0, zero_hash};
  return parse_ledger_tip(*v);
}

void put_ledger_tip(StoreTxn& txn, std::string_view origin, uint64_t seq, const Hash& hash) {
  std::string tip = u64_bytes(seq);
  tip.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  txn.put_meta(std::string(frontier_prefix) + std::string(origin), tip);
}

void put_ledger_meta(StoreTxn& txn, const LedgerMeta& meta) {
  txn.put_meta(meta_applied, u64_bytes(meta.applied_index));
  txn.put_meta(meta_size, u64_bytes(meta.size));
  txn.put_meta(meta_time, u64_bytes(meta.cluster_time_ms));
}

// The stored subtrees with the ones a segment adds on top, before they are written.
class OverlayTree : public merkle::SubtreeReader {
 public:
  explicit OverlayTree(const merkle::SubtreeReader& base) : base_(base) {}
  Hash subtree(uint32_t level, uint64_t index) const override {
    const auto it = added_.find({level, index});
    return it != added_.end() ? it->second : base_.subtree(level, index);
  }
  void put(const merkle::Node& n) { added_[{n.level, n.index}] = n.hash; }

 private:
  const merkle::SubtreeReader& base_;
  std::map<std::pair<uint32_t, uint64_t>, Hash> added_;
};

std::string revocation_key(std::string_view site) { return "r:" + std::string(site); }

// The conflict detector's state, in the ledger_state table.
class StoreLedgerState : public LedgerStateStore {
 public:
  explicit StoreLedgerState(StoreTxn& txn) : txn_(txn) {}
  template <typename T>
  std::optional<T> get(const std::string& key) const {
    const auto v = txn_.ledger_state(key);
    if (!v) return std::nullopt;
    auto d = msgpack_visit::decode_struct<T>(*v);
    UMUPAKA_ASSERT_MSG(d.ok(), "corrupt ledger state");
    return std::move(d).value();
  }
  template <typename T>
  void put(const std::string& key, const T& value) {
    txn_.put_ledger_state(key, msgpack_visit::encode_struct(value));
  }
  std::optional<LedgerPresence> presence(std::string_view k) const override {
    return get<LedgerPresence>("p:" + std::string(k));
  }
  void put_presence(std::string_view k, const LedgerPresence& v) override {
    put("p:" + std::string(k), v);
  }
  std::optional<LedgerPermitUse> permit_use(std::string_view id) const override {
    return get<LedgerPermitUse>("u:" + std::string(id));
  }
  void put_permit_use(std::string_view id, const LedgerPermitUse& v) override {
    put("u:" + std::string(id), v);
  }
  std::optional<LedgerPermitTerms> permit_terms(std::string_view id) const override {
    return get<LedgerPermitTerms>("t:" + std::string(id));
  }
  void put_permit_terms(std::string_view id, const LedgerPermitTerms& v) override {
    put("t:" + std::string(id), v);
  }
  std::optional<LedgerDocumentReport> document_report(std::string_view k) const override {
    return get<LedgerDocumentReport>("d:" + std::string(k));
  }
  void put_document_report(std::string_view k, const LedgerDocumentReport& v) override {
    put("d:" + std::string(k), v);
  }
  std::optional<std::string> linked_national_id(std::string_view k) const override {
    return txn_.ledger_state("n:" + std::string(k));
  }
  void link_national_id(std::string_view k, std::string_view nid) override {
    txn_.put_ledger_state("n:" + std::string(k), nid);
  }
  std::optional<uint64_t> position_of(std::string_view origin, uint64_t seq) const override {
    return txn_.position_of(origin, seq);
  }
  std::optional<LedgerRevocation> revocation(std::string_view site) const override {
    return ledger_revocation(txn_, site);
  }
  void put_revocation(std::string_view site, const LedgerRevocation& v) override {
    put(revocation_key(site), v);
  }

 private:
  StoreTxn& txn_;
};

}  // namespace

Result<ConflictAlert> decode_conflict(std::string_view bytes) {
  return msgpack_visit::decode_struct<ConflictAlert>(bytes);
}

namespace {

// The forks raised so far, in the order raised (ledger_state "forks"): one per origin, so that a
// fork committed again (a new leader proposing it before it knew) raises nothing.
struct RaisedForks {
  std::vector<RaisedFork> forks;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("forks", s.forks);
  }
};
constexpr std::string_view forks_key = "forks";

std::vector<RaisedFork> raised_forks(const StoreTxn& txn) {
  const auto v = txn.ledger_state(forks_key);
  if (!v) return {};
  auto d = msgpack_visit::decode_struct<RaisedForks>(*v, msgpack_visit::order_unpack_limit());
  UMUPAKA_ASSERT_MSG(d.ok(), "corrupt ledger state (forks)");
  return std::move(d->forks);
}

bool fork_raised(const std::vector<RaisedFork>& forks, std::string_view origin) {
  return std::any_of(forks.begin(), forks.end(),
                     [&](const RaisedFork& r) { return r.fork.origin == origin; });
}

// The next free index among the alerts at `position` (alerts are keyed by (position, n)).
uint32_t next_conflict_n(const StoreTxn& txn, uint64_t position) {
  uint32_t n = 0;
  for (const auto& bytes : txn.conflicts_from(position, SIZE_MAX)) {
    auto c = decode_conflict(bytes);
    // This node's own table: a row that does not decode is corruption (docs/decisions.md), not a
    // free index to write over.
    UMUPAKA_ASSERT_MSG(c.ok(), "a stored conflict alert does not decode");
    if (c->position != position) break;
    ++n;
  }
  return n;
}

ConflictAlert fork_alert(const RaisedFork& r) {
  const LedgerFork& f = r.fork;
  const uint64_t frozen_at = r.frozen_at;
  ConflictAlert a;
  a.kind = ConflictKind::forked_feed;
  a.position = r.position;
  a.record = RecordRef{f.origin, f.seq};
  a.subject = f.origin;
  // The pair is two records at seq, or record seq-1 and a record seq that does not link to it
  // (NodeCore::ingest, gossip.cpp's receive_evidence); the fork names only the hashes, so the
  // text says both.
  const std::string n = std::to_string(f.seq);
  const std::string pair = f.seq > 1 ? "two different records " + n + ", or a record " + n +
                                           " that does not link to its record " +
                                           std::to_string(f.seq - 1)
                                     : "two different records " + n;
  a.explanation = f.origin + " signed two records that cannot both be in its feed at record " + n +
                  " (hashes " + to_hex(f.a).substr(0, 16) + "…, " + to_hex(f.b).substr(0, 16) +
                  "…: " + pair +
                  "): its key was used twice or its store was copied. Its feed is frozen in the "
                  "ledger at record " +
                  std::to_string(frozen_at) +
                  " and both records are kept as evidence; revoke the site's key and certify it "
                  "again.";
  return a;
}

// Stores the fork's alert after the alerts already at its position, and notes the fork.
// At most limits::gossip_array_items_max forks (one per origin: a snapshot names no more), so
// that the state always decodes; past that, the same at every node, none is raised.
bool raise_fork(StoreTxn& txn, std::vector<RaisedFork>& forks, const RaisedFork& r) {
  if (forks.size() >= limits::gossip_array_items_max) return false;
  txn.put_conflict(r.position, next_conflict_n(txn, r.position),
                   msgpack_visit::encode_struct(fork_alert(r)));
  forks.push_back(r);
  txn.put_ledger_state(forks_key, msgpack_visit::encode_struct(RaisedForks{forks}));
  return true;
}

}  // namespace

std::optional<LedgerRevocation> ledger_revocation(const StoreTxn& txn, std::string_view site) {
  const auto v = txn.ledger_state(revocation_key(site));
  if (!v) return std::nullopt;
  auto d = msgpack_visit::decode_struct<LedgerRevocation>(*v);
  UMUPAKA_ASSERT_MSG(d.ok(), "corrupt ledger state");
  return std::move(d).value();
}

bool void_in_ledger(const StoreTxn& txn, std::string_view origin, uint64_t seq, uint64_t position) {
  const auto rv = ledger_revocation(txn, origin);
  return rv && seq > rv->cutoff && position > rv->position;
}

bool fork_in_ledger(const StoreTxn& txn, std::string_view origin) {
  return fork_raised(raised_forks(txn), origin);
}

LedgerMeta read_ledger_meta(const StoreTxn& txn) {
  return LedgerMeta{meta_u64(txn, meta_applied), meta_u64(txn, meta_size),
                    meta_u64(txn, meta_time)};
}

uint64_t ledger_seq(const StoreTxn& txn, std::string_view origin) {
  return meta_u64(txn, std::string(frontier_prefix) + std::string(origin));
}

std::vector<LedgerItem> ledger_frontier(const StoreTxn& txn) {
  // From the ledger's own tips, not the feeds' heads: the ledger may hold an origin's records
  // only beside its feed (a revoked site's past the cut-off; a fork's other branch).
  std::vector<LedgerItem> out;
  for (const auto& [name, value] : txn.meta_with_prefix(frontier_prefix)) {
    const auto [seq, hash] = parse_ledger_tip(value);
    if (seq == 0) continue;
    out.push_back(LedgerItem{name.substr(frontier_prefix.size()), seq, hash});
  }
  return out;
}

Hash StoreSubtrees::subtree(uint32_t level, uint64_t index) const {
  const auto h = txn_.merkle_node(level, index);
  if (h) return *h;
  // After a put of this transaction failed (a full map), reads find nothing: Store::write aborts
  // the transaction and runs it again once the map has grown, so what is computed here is
  // thrown away.
  UMUPAKA_ASSERT_MSG(txn_.write_error().has_value(), "missing Merkle subtree");
  return Hash{};
}

Hash ledger_root(const StoreTxn& txn, uint64_t size) {
  if (size == 0) return merkle::empty_root();
  return merkle::root(StoreSubtrees(txn), size);
}

Coverage covers(const StoreTxn& txn, const LedgerEntry& entry, const Membership& membership,
                std::vector<WantedChain>* wanted, std::string_view self) {
  Coverage out = Coverage::held;
  // A fork is acknowledged only by a node that checked an equivocation of the origin itself:
  // it holds both records named (each signature checked when stored), or evidence of its own
  // against the origin (found another way: two records at one seq where the leader's pair is a
  // record and the next one that does not link to it, or the reverse). A pair of the second kind
  // names records at seq and seq - 1: each is looked for, and fetched by hash, at both.
  if (!entry.forks.empty()) {
    const std::vector<RaisedFork> raised = raised_forks(txn);
    for (const LedgerFork& f : entry.forks) {
      if (fork_raised(raised, f.origin) || txn.has_evidence(f.origin)) continue;
      for (const Hash& h : {f.a, f.b}) {
        if (txn.version(f.origin, f.seq, h) || (f.seq > 1 && txn.version(f.origin, f.seq - 1, h)))
          continue;
        out = Coverage::missing;
        if (!wanted) continue;
        wanted->push_back(WantedChain{f.origin, f.seq, h, f.seq - 1});
        if (f.seq > 1) wanted->push_back(WantedChain{f.origin, f.seq - 1, h, f.seq - 2});
      }
    }
  }
  for (const LedgerItem& item : entry.items) {
    const uint64_t from = ledger_seq(txn, item.origin);
    if (item.seq <= from) continue;
    const auto held = txn.record(item.origin, item.seq);
    if (held && held->hash == item.hash) continue;  // the feed's chain, linked down to seq 1
    // Not the feed's own: a plain gap that catch-up fills, unless the origin forked (this node
    // holds another record at the tip, or evidence against the origin), it is this node's own
    // feed (records signed with its key elsewhere) or the origin was revoked before the seq named
    // (a leader that had not heard of the revocation proposed it; the feed here refuses it): then
    // the named branch comes by hash, as far down as this node lacks it, kept beside the feed.
    if (!held && item.origin != self && !txn.has_evidence(item.origin) &&
        !membership.past_cut_off(item.origin, item.seq)) {
      out = Coverage::missing;
      continue;
    }
    Hash expected = item.hash;
    for (uint64_t seq = item.seq; seq > from; --seq) {
      const auto v = txn.version(item.origin, seq, expected);
      if (!v) {
        out = Coverage::missing;
        if (wanted) wanted->push_back(WantedChain{item.origin, seq, expected, from});
        break;
      }
      auto rec = decode_record(v->encoded);
      UMUPAKA_ASSERT_MSG(rec.ok(), "a stored record does not decode");
      expected = rec->header.prev_hash;
      // The rest of the chain is the feed's own.
      if (const auto below = txn.record(item.origin, seq - 1); below && below->hash == expected)
        break;
    }
  }
  return out;
}

namespace {
// The outcome of applying again what is applied already: nothing, and the ledger as it is.
ApplyOutcome applied_before(const StoreTxn& txn, const LedgerMeta& meta) {
  ApplyOutcome out;
  out.size = meta.size;
  out.root = ledger_root(txn, meta.size);
  out.cluster_time_ms = meta.cluster_time_ms;
  return out;
}
}  // namespace

Result<ApplyOutcome> apply_ledger_entry(StoreTxn& txn, uint64_t index, uint64_t prev_index,
                                        const LedgerEntry& entry) {
  LedgerMeta meta = read_ledger_meta(txn);
  if (index <= meta.applied_index) return applied_before(txn, meta);
  ApplyOutcome out;
  if (meta.applied_index < prev_index)
    return make_error(Errc::unavailable, "the previous ledger entry is not applied yet");
  struct New {
    uint64_t hlc;
    std::string origin;
    uint64_t seq;
    SignedRecord sr;
    Record record;
  };
  std::vector<New> fresh;
  std::vector<LedgerItem> advanced;
  for (const LedgerItem& item : entry.items) {
    const auto [from, from_hash] = ledger_tip(txn, item.origin);
    if (item.seq <= from) continue;
    // The chain the entry names, from its tip back to the ledger's frontier. Where the origin
    // equivocated and this node holds the other version, the named one comes from the evidence
    // or the kept versions; without it (not arrived yet) the entry waits, so every node
    // positions the same records.
    std::vector<New> chain;
    Hash expected = item.hash;
    for (uint64_t seq = item.seq; seq > from; --seq) {
      auto sr = txn.version(item.origin, seq, expected);
      if (!sr)
        return make_error(Errc::unavailable, "record " + item.origin + "/" + std::to_string(seq) +
                                                 " not held yet (or only another version of it)");
      auto rec = decode_record(sr->encoded);
      UMUPAKA_ASSERT_MSG(rec.ok(), "a stored record does not decode");
      expected = rec->header.prev_hash;
      chain.push_back(
          New{rec->header.hlc.value, item.origin, seq, std::move(*sr), std::move(rec).value()});
    }
    // A chain that does not continue the version the ledger holds is a fork's other branch
    // (proposed by a leader that did not know of the fork): skipped, as at every node.
    if (expected != from_hash) continue;
    // A feed keeps its own order in the ledger: sorted by HLC, a record whose clock is behind
    // its predecessor's (an origin that misbehaves; an honest one never goes back) is sorted as
    // if it had its predecessor's clock, so seq n+1 never takes a position before seq n.
    uint64_t floor = 0;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      it->hlc = std::max(it->hlc, floor);
      floor = it->hlc;
      fresh.push_back(std::move(*it));
    }
    advanced.push_back(item);
  }
  std::sort(fresh.begin(), fresh.end(), [](const New& a, const New& b) {
    return std::tie(a.hlc, a.origin, a.seq) < std::tie(b.hlc, b.origin, b.seq);
  });
  // Forks first, at the position the next record takes (nothing is written before this point,
  // so an entry that waits for records leaves no trace).
  if (!entry.forks.empty()) {
    std::vector<RaisedFork> forks = raised_forks(txn);
    for (const LedgerFork& f : entry.forks) {
      if (fork_raised(forks, f.origin)) continue;
      if (raise_fork(txn, forks, RaisedFork{f, meta.size, ledger_seq(txn, f.origin)}))
        ++out.conflicts;
    }
  }
  const uint64_t first_position = meta.size;
  StoreSubtrees tree(txn);
  StoreLedgerState state(txn);
  // The ledger's cluster time as of this entry: never behind an earlier entry's, so a new leader
  // whose clock is behind cannot date records earlier than the ledger already has.
  const uint64_t cluster_time = std::max(meta.cluster_time_ms, entry.cluster_time_ms);
  for (New& n : fresh) {
    const uint64_t position = meta.size;
    txn.put_position(position, n.origin, n.seq, n.sr.hash, cluster_time);
    for (const auto& node : merkle::on_append(tree, position + 1, merkle::leaf_hash(n.sr.hash)))
      txn.put_merkle_node(node.level, node.index, node.hash);
    const auto alerts =
        apply_in_ledger_order(state, n.record, RecordRef{n.origin, n.seq}, position, cluster_time);
    // After any fork alert raised at this position.
    const uint32_t base = position == first_position ? next_conflict_n(txn, position) : 0;
    for (uint32_t i = 0; i < alerts.size(); ++i)
      txn.put_conflict(position, base + i, msgpack_visit::encode_struct(alerts[i]));
    out.conflicts += alerts.size();
    meta.size = position + 1;
  }
  for (const LedgerItem& item : advanced) put_ledger_tip(txn, item.origin, item.seq, item.hash);
  meta.applied_index = index;
  meta.cluster_time_ms = cluster_time;
  put_ledger_meta(txn, meta);
  out.applied = true;
  out.size = meta.size;
  out.root = ledger_root(txn, meta.size);
  out.new_records = fresh.size();
  out.cluster_time_ms = meta.cluster_time_ms;
  return out;
}

LedgerSnapshot ledger_snapshot(const StoreTxn& txn) {
  const LedgerMeta meta = read_ledger_meta(txn);
  LedgerSnapshot s;
  s.size = meta.size;
  s.root = ledger_root(txn, meta.size);
  s.cluster_time_ms = meta.cluster_time_ms;
  s.frontier = ledger_frontier(txn);
  s.forks = raised_forks(txn);
  return s;
}

Result<LedgerSegment> read_ledger_segment(const StoreTxn& txn, uint64_t from, uint64_t size,
                                          size_t rows_max) {
  const LedgerMeta meta = read_ledger_meta(txn);
  if (size > meta.size)
    return make_error(Errc::unavailable, "this ledger holds " + std::to_string(meta.size) +
                                             " records, fewer than " + std::to_string(size));
  if (from > size)
    return make_error(Errc::invalid_field, "segment start " + std::to_string(from) +
                                               " is past the ledger size " + std::to_string(size));
  LedgerSegment seg;
  seg.from = from;
  seg.size = size;
  const uint64_t end = std::min<uint64_t>(size, from + std::max<size_t>(rows_max, 1));
  seg.rows.reserve(end - from);
  for (uint64_t p = from; p < end; ++p) {
    auto at = txn.at_position(p);
    if (!at) return make_error(Errc::storage, "ledger position " + std::to_string(p) + " missing");
    seg.rows.push_back(LedgerRow{std::move(at->origin), at->seq, at->hash, at->cluster_time_ms});
  }
  if (end < size) {
    ASSIGN_OR_RETURN(seg.proof, merkle::consistency_proof(StoreSubtrees(txn), end, size));
  }
  return seg;
}

Result<ApplyOutcome> apply_ledger_segment(StoreTxn& txn, uint64_t index,
                                          const LedgerSnapshot& snapshot,
                                          const LedgerSegment& segment) {
  LedgerMeta meta = read_ledger_meta(txn);
  if (index <= meta.applied_index) return applied_before(txn, meta);
  ApplyOutcome out;
  const uint64_t end = segment.from + segment.rows.size();
  // Asked at this ledger's size, and the ledger has moved past it since (an earlier segment,
  // queued before the order plane restarted, landed first): nothing the peer did wrong.
  if (segment.size == snapshot.size && segment.from < meta.size)
    return make_error(Errc::conflict, "ledger segment from " + std::to_string(segment.from) +
                                          " is stale: this ledger holds " +
                                          std::to_string(meta.size) + " rows now");
  if (segment.size != snapshot.size || segment.from != meta.size || end > snapshot.size ||
      (segment.rows.empty() && end != snapshot.size))
    return make_error(Errc::invalid_field,
                      "ledger segment [" + std::to_string(segment.from) + ", " +
                          std::to_string(end) + ") of " + std::to_string(segment.size) +
                          " does not continue this ledger of " + std::to_string(meta.size) +
                          " towards the snapshot's " + std::to_string(snapshot.size));
  // 1. Check, writing nothing: the records are held, and the tree they make is the snapshot's.
  struct Row {
    SignedRecord sr;
    Record record;
    std::vector<merkle::Node> nodes;
  };
  std::vector<Row> rows;
  rows.reserve(segment.rows.size());
  const StoreSubtrees stored(txn);
  OverlayTree tree(stored);
  for (size_t i = 0; i < segment.rows.size(); ++i) {
    const LedgerRow& r = segment.rows[i];
    auto sr = txn.version(r.origin, r.seq, r.hash);
    if (!sr)
      return make_error(Errc::unavailable, "record " + r.origin + "/" + std::to_string(r.seq) +
                                               " not held yet (or only another version of it)");
    auto rec = decode_record(sr->encoded);
    UMUPAKA_ASSERT_MSG(rec.ok(), "a stored record does not decode");
    if (rec->header.origin.value != r.origin || rec->header.seq.value != r.seq)
      return make_error(Errc::invalid_field, "ledger row names the wrong record");
    auto nodes = merkle::on_append(tree, segment.from + i + 1, merkle::leaf_hash(sr->hash));
    for (const auto& n : nodes) tree.put(n);
    rows.push_back(Row{std::move(*sr), std::move(rec).value(), std::move(nodes)});
  }
  const Hash root = end == 0 ? merkle::empty_root() : merkle::root(tree, end);
  const bool consistent =
      end == snapshot.size
          ? root == snapshot.root
          : merkle::verify_consistency(end, snapshot.size, root, snapshot.root, segment.proof);
  if (!consistent)
    return make_error(Errc::invalid_field,
                      "ledger segment ending at " + std::to_string(end) +
                          " is not a prefix of the snapshot's ledger (Merkle root " +
                          to_hex(snapshot.root) + " of " + std::to_string(snapshot.size) + ")");
  for (const RaisedFork& f : snapshot.forks)
    if (f.position > snapshot.size)
      return make_error(Errc::invalid_field, "a fork of the snapshot lies beyond its ledger");
  // 2. Write, as apply_ledger_entry writes each record; the fork alerts before the row at their
  // position (those at the snapshot's size after the last row), as entries raised them.
  std::vector<RaisedFork> forks = raised_forks(txn);
  auto raise_forks_at = [&](uint64_t position) {
    for (const RaisedFork& f : snapshot.forks)
      if (f.position == position && !fork_raised(forks, f.fork.origin)) {
        if (raise_fork(txn, forks, f)) ++out.conflicts;
      }
  };
  StoreLedgerState state(txn);
  for (size_t i = 0; i < rows.size(); ++i) {
    const LedgerRow& r = segment.rows[i];
    const uint64_t position = segment.from + i;
    raise_forks_at(position);
    txn.put_position(position, r.origin, r.seq, r.hash, r.cluster_time_ms);
    for (const auto& n : rows[i].nodes) txn.put_merkle_node(n.level, n.index, n.hash);
    const auto alerts = apply_in_ledger_order(state, rows[i].record, RecordRef{r.origin, r.seq},
                                              position, r.cluster_time_ms);
    const uint32_t base = next_conflict_n(txn, position);
    for (uint32_t k = 0; k < alerts.size(); ++k)
      txn.put_conflict(position, base + k, msgpack_visit::encode_struct(alerts[k]));
    out.conflicts += alerts.size();
    if (r.seq > ledger_tip(txn, r.origin).first) put_ledger_tip(txn, r.origin, r.seq, r.hash);
    meta.cluster_time_ms = std::max(meta.cluster_time_ms, r.cluster_time_ms);
  }
  meta.size = end;
  if (end == snapshot.size) {
    raise_forks_at(end);
    for (const LedgerItem& item : snapshot.frontier)
      put_ledger_tip(txn, item.origin, item.seq, item.hash);
    meta.applied_index = index;
    meta.cluster_time_ms = std::max(meta.cluster_time_ms, snapshot.cluster_time_ms);
    out.applied = true;
  }
  put_ledger_meta(txn, meta);
  out.size = end;
  out.root = root;
  out.cluster_time_ms = meta.cluster_time_ms;
  out.new_records = rows.size();
  return out;
}

void advance_ledger_applied(StoreTxn& txn, uint64_t index) {
  LedgerMeta meta = read_ledger_meta(txn);
  if (index <= meta.applied_index) return;
  meta.applied_index = index;
  put_ledger_meta(txn, meta);
}

Result<ApplyOutcome> apply_ledger_work(StoreTxn& txn, const LedgerWork& work) {
  if (work.snapshot) return apply_ledger_segment(txn, work.index, *work.snapshot, work.segment);
  return apply_ledger_entry(txn, work.index, work.prev_index, work.entry);
}

}  // namespace umupaka

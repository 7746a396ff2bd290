#include "node/ledger_apply.hpp"

#include <algorithm>
#include <cstring>

#include "ledger/assert.hpp"
#include "ledger/codec.hpp"
#include "ledger/conflicts.hpp"
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

// The ledger frontier of `origin`: seq:u64 and the hash of the version the ledger holds there.
std::pair<uint64_t, Hash> ledger_tip(const StoreTxn& txn, std::string_view origin) {
  const auto v = txn.meta(std::string(frontier_prefix) + std::string(origin));
  if (!v) return {0, zero_hash};
  Hash h = zero_hash;
  UMUPAKA_ASSERT_MSG(v->size() == 8 + h.size(), "corrupt ledger frontier");
  std::memcpy(h.data(), v->data() + 8, h.size());
  return {bytes_u64(*v), h};
}

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

 private:
  StoreTxn& txn_;
};

}  // namespace

Result<ConflictAlert> decode_conflict(std::string_view bytes) {
  return msgpack_visit::decode_struct<ConflictAlert>(bytes);
}

LedgerMeta read_ledger_meta(const StoreTxn& txn) {
  return LedgerMeta{meta_u64(txn, meta_applied), meta_u64(txn, meta_size),
                    meta_u64(txn, meta_time)};
}

uint64_t ledger_seq(const StoreTxn& txn, std::string_view origin) {
  return meta_u64(txn, std::string(frontier_prefix) + std::string(origin));
}

std::vector<LedgerItem> ledger_frontier(const StoreTxn& txn) {
  std::vector<LedgerItem> out;
  for (const auto& [origin, head] : txn.heads()) {
    const auto [seq, hash] = ledger_tip(txn, origin);
    if (seq == 0) continue;
    out.push_back(LedgerItem{origin, seq, hash});
  }
  return out;
}

Hash StoreSubtrees::subtree(uint32_t level, uint64_t index) const {
  const auto h = txn_.merkle_node(level, index);
  UMUPAKA_ASSERT_MSG(h.has_value(), "missing Merkle subtree");
  return *h;
}

Hash ledger_root(const StoreTxn& txn, uint64_t size) {
  if (size == 0) return merkle::empty_root();
  return merkle::root(StoreSubtrees(txn), size);
}

Coverage covers(const StoreTxn& txn, const LedgerEntry& entry, std::vector<WantedChain>* wanted,
                std::string_view self) {
  Coverage out = Coverage::held;
  for (const LedgerItem& item : entry.items) {
    const uint64_t from = ledger_seq(txn, item.origin);
    if (item.seq <= from) continue;
    const auto held = txn.record(item.origin, item.seq);
    if (held && held->hash == item.hash) continue;  // the feed's chain, linked down to seq 1
    // Not the feed's own: a plain gap that catch-up fills, unless the origin forked (this node
    // holds another record at the tip, or evidence against the origin) or it is this node's own
    // feed (records signed with its key elsewhere): then the named branch comes by hash, as far
    // down as this node lacks it.
    if (!held && item.origin != self && !txn.has_evidence(item.origin)) {
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

Result<ApplyOutcome> apply_ledger_entry(StoreTxn& txn, uint64_t index, uint64_t prev_index,
                                        const LedgerEntry& entry) {
  LedgerMeta meta = read_ledger_meta(txn);
  ApplyOutcome out;
  if (index <= meta.applied_index) {
    out.size = meta.size;
    out.root = ledger_root(txn, meta.size);
    return out;
  }
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
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) fresh.push_back(std::move(*it));
    advanced.push_back(item);
  }
  std::sort(fresh.begin(), fresh.end(), [](const New& a, const New& b) {
    return std::tie(a.hlc, a.origin, a.seq) < std::tie(b.hlc, b.origin, b.seq);
  });
  StoreSubtrees tree(txn);
  StoreLedgerState state(txn);
  // The ledger's cluster time as of this entry: never behind an earlier entry's, so a new leader
  // whose clock is behind cannot date records earlier than the ledger already has.
  const uint64_t cluster_time = std::max(meta.cluster_time_ms, entry.cluster_time_ms);
  for (New& n : fresh) {
    const uint64_t position = meta.size;
    txn.put_position(position, n.origin, n.seq, n.sr.hash);
    for (const auto& node : merkle::on_append(tree, position + 1, merkle::leaf_hash(n.sr.hash)))
      txn.put_merkle_node(node.level, node.index, node.hash);
    const auto alerts =
        apply_in_ledger_order(state, n.record, RecordRef{n.origin, n.seq}, position, cluster_time);
    for (uint32_t i = 0; i < alerts.size(); ++i)
      txn.put_conflict(position, i, msgpack_visit::encode_struct(alerts[i]));
    out.conflicts += alerts.size();
    meta.size = position + 1;
  }
  for (const LedgerItem& item : advanced) {
    std::string tip = u64_bytes(item.seq);
    tip.append(reinterpret_cast<const char*>(item.hash.data()), item.hash.size());
    txn.put_meta(std::string(frontier_prefix) + item.origin, tip);
  }
  meta.applied_index = index;
  meta.cluster_time_ms = cluster_time;
  txn.put_meta(meta_applied, u64_bytes(meta.applied_index));
  txn.put_meta(meta_size, u64_bytes(meta.size));
  txn.put_meta(meta_time, u64_bytes(meta.cluster_time_ms));
  out.applied = true;
  out.size = meta.size;
  out.root = ledger_root(txn, meta.size);
  out.new_records = fresh.size();
  return out;
}

}  // namespace umupaka

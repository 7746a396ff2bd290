// The order plane's data (DESIGN.md §3): what Raft orders, and what the leader signs.
//
// A ledger entry is a frontier delta: for each origin whose feed advanced, the seq and hash the
// proposer held. Committing it commits every record of those feeds up to there. Applying entries
// in log order gives every node the same global order of records (the ledger): the records an
// entry newly covers, sorted by (HLC, origin, seq), take the next positions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/ids.hpp"
#include "ledger/result.hpp"

namespace umupaka {

struct LedgerItem {
  std::string origin;
  uint64_t seq = 0;
  Hash hash{};
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("origin", s.origin);
    v("seq", s.seq);
    v("hash", s.hash);
  }
  friend bool operator==(const LedgerItem&, const LedgerItem&) = default;
};

// Records the ledger names that ordinary catch-up cannot bring: those of an origin that
// equivocated, on the branch this node does not hold. The chain that ends at (origin, seq, hash),
// followed back by prev_hash down to seq after+1; fetched by hash (gossip `fetch`).
struct WantedChain {
  std::string origin;
  uint64_t seq = 0;
  Hash hash{};
  uint64_t after = 0;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("origin", s.origin);
    v("seq", s.seq);
    v("hash", s.hash);
    v("after", s.after);
  }
  friend bool operator==(const WantedChain&, const WantedChain&) = default;
};

// A fork the proposer holds evidence of: two records signed by `origin` at `seq`, hashes
// `a` < `b`. Committing it raises a forked_feed conflict alert at every node, once per origin;
// a voter acknowledges it only when it holds both records (so each signature was checked).
struct LedgerFork {
  std::string origin;
  uint64_t seq = 0;
  Hash a{}, b{};
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("origin", s.origin);
    v("seq", s.seq);
    v("a", s.a);
    v("b", s.b);
  }
  friend bool operator==(const LedgerFork&, const LedgerFork&) = default;
};

// A fork the ledger raised its forked_feed alert for: at `position` (the size of the ledger
// then), the origin's feed frozen in the ledger at `frozen_at`. The alert is made from this
// (ledger_apply.cpp), so a snapshot carries these, not the alerts' text.
struct RaisedFork {
  LedgerFork fork;
  uint64_t position = 0;
  uint64_t frozen_at = 0;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("fork", s.fork);
    v("position", s.position);
    v("frozen_at", s.frozen_at);
  }
  friend bool operator==(const RaisedFork&, const RaisedFork&) = default;
};

// Version 2 added `forks`.
inline constexpr uint32_t ledger_entry_version = 2;

struct LedgerEntry {
  uint32_t version = ledger_entry_version;
  std::string proposer;
  uint64_t cluster_time_ms = 0;  // the leader's clock: time-dependent rules use it
  std::vector<LedgerItem> items;
  std::vector<LedgerFork> forks;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("version", s.version);
    v("proposer", s.proposer);
    v("cluster_time_ms", s.cluster_time_ms);
    v("items", s.items);
    v("forks", s.forks);
  }
};

// A ledger head signed by the leader that applied it: anyone holding the voter's public key can
// check that the ledger of `size` records has Merkle root `root` (RFC 6962 hashing).
struct LedgerHead {
  std::string network_id;
  uint64_t size = 0;
  Hash root{};
  uint64_t cluster_time_ms = 0;
  std::string signer;
  Signature signature{};
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("network_id", s.network_id);
    v("size", s.size);
    v("root", s.root);
    v("cluster_time_ms", s.cluster_time_ms);
    v("signer", s.signer);
    v("signature", s.signature);
  }
};

// --- Log compaction (docs/ledger.md, "Snapshots") ---------------------------------------------
//
// A Raft snapshot of the ledger at Raft index I carries no records: only what the ledger is at I,
// so that a node behind the compacted log can rebuild it. That node holds (or fetches by gossip)
// the records the frontier covers, then fetches the ledger's rows (position -> record, the cluster
// time it was applied at) from a peer, segment by segment, each checked against `root` by an RFC
// 6962 consistency proof, and applies them with the same rules as entries.
// Version 2 added `forks`.
inline constexpr uint32_t ledger_snapshot_version = 2;

struct LedgerSnapshot {
  uint32_t version = ledger_snapshot_version;
  uint64_t size = 0;  // records in the ledger at the snapshot's index
  Hash root{};        // its Merkle root
  uint64_t cluster_time_ms = 0;
  std::vector<LedgerItem> frontier;  // each origin's seq and hash in the ledger
  uint64_t conf_root_seq = 0;        // the root seq behind the last configuration change
  // The forks raised so far (positions <= size), in the order raised: an install writes each
  // one's alert before the row at its position, as applying entries did.
  std::vector<RaisedFork> forks;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("version", s.version);
    v("size", s.size);
    v("root", s.root);
    v("cluster_time_ms", s.cluster_time_ms);
    v("frontier", s.frontier);
    v("conf_root_seq", s.conf_root_seq);
    v("forks", s.forks);
  }
  friend bool operator==(const LedgerSnapshot&, const LedgerSnapshot&) = default;
};

// One ledger position: the record there and the ledger's cluster time when it was applied.
struct LedgerRow {
  std::string origin;
  uint64_t seq = 0;
  Hash hash{};
  uint64_t cluster_time_ms = 0;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("origin", s.origin);
    v("seq", s.seq);
    v("hash", s.hash);
    v("cluster_time_ms", s.cluster_time_ms);
  }
  friend bool operator==(const LedgerRow&, const LedgerRow&) = default;
};

// Rows [from, from + rows.size()) of a ledger of `size` records, with the RFC 6962 consistency
// proof from the tree of the first from + rows.size() records to the tree of `size` (empty when
// the rows reach `size`). Asked for by (from, size); `rows` empty in a request.
struct LedgerSegment {
  uint64_t from = 0;
  uint64_t size = 0;
  std::vector<LedgerRow> rows;
  std::vector<Hash> proof;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("from", s.from);
    v("size", s.size);
    v("rows", s.rows);
    v("proof", s.proof);
  }
};

std::string encode_ledger_snapshot(const LedgerSnapshot& s);
Result<LedgerSnapshot> decode_ledger_snapshot(std::string_view bytes);

std::string encode_ledger_entry(const LedgerEntry& e);
Result<LedgerEntry> decode_ledger_entry(std::string_view bytes);
// The bytes a head's signature covers: msgpack [network_id, size, root, cluster_time_ms, signer].
std::string ledger_head_signing_bytes(const LedgerHead& h);
std::string encode_ledger_head(const LedgerHead& h);
Result<LedgerHead> decode_ledger_head(std::string_view bytes);

}  // namespace umupaka

// Applying committed ledger entries to the store: global positions, the Merkle tree, the ledger
// frontier and conflict alerts, in one LMDB transaction per batch. Deterministic: every node that
// applies the same entries to the same records writes the same tables.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ledger/conflicts.hpp"
#include "ledger/ledger_entry.hpp"
#include "ledger/membership.hpp"
#include "ledger/merkle.hpp"
#include "storage/store.hpp"

namespace umupaka {

struct LedgerMeta {
  uint64_t applied_index = 0;  // the last Raft index applied
  uint64_t size = 0;           // records in the ledger
  uint64_t cluster_time_ms = 0;
};

LedgerMeta read_ledger_meta(const StoreTxn& txn);
// The ledger frontier: how far `origin`'s feed is in the ledger.
uint64_t ledger_seq(const StoreTxn& txn, std::string_view origin);
std::vector<LedgerItem> ledger_frontier(const StoreTxn& txn);

// The Merkle tree's perfect subtrees as stored.
class StoreSubtrees : public merkle::SubtreeReader {
 public:
  explicit StoreSubtrees(const StoreTxn& txn) : txn_(txn) {}
  Hash subtree(uint32_t level, uint64_t index) const override;

 private:
  const StoreTxn& txn_;
};

Hash ledger_root(const StoreTxn& txn, uint64_t size);

enum class Coverage : uint8_t { held, missing };
// Whether this node holds every record `entry` covers beyond the ledger's frontier (with the
// hashes the entry names: a forked origin's other branch counts where it is kept as versions).
// Where a named chain cannot come by ordinary catch-up (this node holds another version of it,
// or the origin is quarantined, or it is this node's own feed, `self`, which only this node
// writes, or it goes past the origin's revocation cut-off in `membership`, which this node's feed
// refuses), the chains to fetch by hash are added to `wanted`.
Coverage covers(const StoreTxn& txn, const LedgerEntry& entry, const Membership& membership,
                std::vector<WantedChain>* wanted = nullptr, std::string_view self = {});

struct ApplyOutcome {
  bool applied = false;  // false: index already applied
  uint64_t size = 0;
  Hash root{};
  uint64_t new_records = 0;
  uint64_t conflicts = 0;
  uint64_t cluster_time_ms = 0;  // the ledger's cluster time after the apply
};

// Applies the committed entry at Raft `index`: the records it newly covers, sorted by
// (HLC, origin, seq), take the next positions; Merkle subtrees and the frontier advance; conflicts
// found in ledger order are stored. The time-dependent rules (conflicts.hpp) date each record by
// its HLC bounded by the ledger's cluster time: the largest cluster_time_ms of the entries applied
// so far, this one included (LedgerMeta::cluster_time_ms after the apply). Errc::unavailable if a
// covered record is not held yet (the caller fetches it and retries). Where the origin
// equivocated and this node holds the other version of a named record, the named version is taken
// from the evidence or the kept versions (StoreTxn::version); until it arrives, the entry waits
// (Errc::unavailable): every node positions the same records. An item whose chain does not link
// to the version of the origin the ledger already holds (a fork's other branch) is skipped, the
// same way at every node. `prev_index`: the Raft
// index of the ledger entry applied just before this one (0 for the first): if the store has not
// applied it (an earlier apply in the same pipeline failed), this one fails with Errc::unavailable
// too, so entries never apply out of order.
Result<ApplyOutcome> apply_ledger_entry(StoreTxn& txn, uint64_t index, uint64_t prev_index,
                                        const LedgerEntry& entry);

// --- Snapshots (docs/ledger.md, "Snapshots") ---------------------------------------------------

// The ledger as this store holds it now (size, root, cluster time, frontier); conf_root_seq is
// the caller's.
LedgerSnapshot ledger_snapshot(const StoreTxn& txn);

// Rows [from, min(size, from + rows_max)) of this ledger, with the consistency proof from their end
// to `size`. Errc::unavailable if this ledger holds fewer than `size` records; Errc::invalid_field
// if from > size.
Result<LedgerSegment> read_ledger_segment(const StoreTxn& txn, uint64_t from, uint64_t size,
                                          size_t rows_max);

// Applies a segment of the install of `snapshot`, taken at Raft `index`: the rows take the next
// positions (the segment must start at this ledger's size), each applied as apply_ledger_entry
// applies a record, at the cluster time the row carries. Checked before anything is written: every
// row names a record this store holds with that hash (else Errc::unavailable: fetch it, retry),
// and the new Merkle tree is a prefix of the snapshot's (its root equal to the snapshot's at the
// end, or the segment's consistency proof verifies; else Errc::invalid_field: ask another peer).
// A segment that no longer starts at this ledger's size (it moved since the segment was asked
// for): Errc::conflict, ask again.
// The segment that reaches the snapshot's size completes the install: the ledger frontier becomes
// the snapshot's, and the applied index `index` (outcome.applied).
Result<ApplyOutcome> apply_ledger_segment(StoreTxn& txn, uint64_t index,
                                          const LedgerSnapshot& snapshot,
                                          const LedgerSegment& segment);

// Moves the ledger's applied index up to Raft `index` where only entries that change nothing in
// the ledger (configuration changes, a leader's empty entry) lie between (the caller knows): a
// snapshot taken there finds the ledger at its index after a restart.
void advance_ledger_applied(StoreTxn& txn, uint64_t index);

// What the order plane hands the writer: a committed entry, or a segment of a snapshot install.
struct LedgerWork {
  uint64_t index = 0;       // Raft index of the entry (or of the snapshot)
  uint64_t prev_index = 0;  // entries only: see apply_ledger_entry
  LedgerEntry entry;
  std::optional<LedgerSnapshot> snapshot;  // set: apply `segment` of this snapshot's install
  LedgerSegment segment;
};
Result<ApplyOutcome> apply_ledger_work(StoreTxn& txn, const LedgerWork& work);

// A stored conflict alert.
Result<ConflictAlert> decode_conflict(std::string_view bytes);

// A site's revocation as the ledger applied it (ledger state), if it did.
std::optional<LedgerRevocation> ledger_revocation(const StoreTxn& txn, std::string_view site);
// Whether the committed record (origin, seq) at `position` is void: past its site's cut-off and
// ordered after the revocation (conflicts.hpp, revoked_site_record).
bool void_in_ledger(const StoreTxn& txn, std::string_view origin, uint64_t seq, uint64_t position);

// Whether the ledger raised a forked_feed alert against `origin` (a committed LedgerFork).
bool fork_in_ledger(const StoreTxn& txn, std::string_view origin);

}  // namespace umupaka

// One group commit, without a thread: the body of the writer's loop (writer.hpp), shared by the
// Writer, which runs it on its thread, and the simulator's writer (simulation/sim_cluster.hpp),
// which runs it at simulated times. So the simulator executes a node's writes with production's
// batch code: mixed items (commands, received records, ledger applies) in one transaction, the
// same begin_batch / commit_succeeded / commit_failed around it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <variant>
#include <vector>

#include "ledger/limits.hpp"
#include "node/ledger_apply.hpp"
#include "node/node_core.hpp"
#include "storage/store.hpp"

namespace umupaka {

// Records received for ingest (NodeCore::ingest_batch).
struct IngestWork {
  std::vector<VerifiedRecord> records;
  IngestKind kind = IngestKind::feed;
};

// What one item of a batch asks: record a command, store received records, apply a committed
// ledger entry (or a segment of a snapshot install).
using WriteWork = std::variant<Command, IngestWork, LedgerWork>;
// Its result, of the same alternative.
using WriteResult = std::variant<Result<Recorded>, std::vector<IngestResult>, Result<ApplyOutcome>>;

// What an item weighs against limits::group_commit_records_max: its records (at least 1).
size_t write_weight(const WriteWork& work);

// Whether the next item (weighing `next`) joins a batch of `items` items weighing `weight`: the
// first always does (an item heavier than the limit goes alone), the others while the batch stays
// within limits::group_commit_records_max.
inline bool joins_batch(size_t items, size_t weight, size_t next) {
  return items == 0 || weight + next <= limits::group_commit_records_max;
}

struct GroupCommitOutcome {
  Status committed;                  // the transaction's: on failure nothing of it was written
  std::vector<WriteResult> results;  // one per item, in order, when committed
  std::vector<SignedRecord> local;   // the records this node originated in it
  bool membership_changed = false;
};

// Runs every item of `batch`, in order, in one Store::write (durable when the store syncs): each
// item's own failure (bad input) is its result and the transaction still commits; a failed
// commit (disk full) fails the whole batch. Commands take their wall time from `wall_ms`, called
// once per command in each run of the transaction (it runs again after a map growth).
GroupCommitOutcome run_group_commit(NodeCore& core, Store& store, std::span<WriteWork> batch,
                                    const std::function<int64_t()>& wall_ms);

// Joins `core` to the network of `genesis` (NodeCore::join) in a durable write of its own: the
// core adopts the network only when that committed. Not while a writer runs on the core.
Status join_network(NodeCore& core, Store& store, const SignedRecord& genesis);

}  // namespace umupaka

#include "node/group_commit.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "ledger/assert.hpp"

namespace umupaka {

size_t write_weight(const WriteWork& work) {
  if (const auto* i = std::get_if<IngestWork>(&work)) return std::max<size_t>(1, i->records.size());
  if (const auto* a = std::get_if<LedgerWork>(&work); a && a->snapshot)
    return std::max<size_t>(1, a->segment.rows.size());
  return 1;
}

GroupCommitOutcome run_group_commit(NodeCore& core, Store& store, std::span<WriteWork> batch,
                                    const std::function<int64_t()>& wall_ms) {
  GroupCommitOutcome out;
  const uint64_t root_before = core.membership().root_seq();
  const bool restore_hold = core.restore_hold();
  // The transaction may run more than once (map growth): results are rebuilt each time.
  out.committed = store.write([&](StoreTxn& txn) -> Status {
    out.results.clear();
    out.local.clear();
    core.begin_batch();
    for (WriteWork& work : batch) {
      if (auto* c = std::get_if<Command>(&work)) {
        Result<Recorded> r = core.execute(*c, txn, wall_ms());
        if (r.ok() && !r->replayed) {  // a replay's record is an earlier batch's
          // A put of this batch that filled the map (a view's, after the append) leaves the
          // transaction refusing reads: Store::write then grows the map and runs the batch
          // again, so there is nothing to take from this run.
          auto sr = txn.record(r->ref.origin, r->ref.seq);
          UMUPAKA_ASSERT(sr.has_value() || txn.write_error());
          if (sr) out.local.push_back(std::move(*sr));
        }
        out.results.emplace_back(std::move(r));
      } else if (auto* ap = std::get_if<LedgerWork>(&work)) {
        out.results.emplace_back(apply_ledger_work(txn, *ap));
      } else {
        auto& in = std::get<IngestWork>(work);
        out.results.emplace_back(core.ingest_batch(in.records, in.kind, txn));
      }
    }
    return {};
  });
  if (!out.committed.ok()) {
    core.commit_failed();
    out.results.clear();
    out.local.clear();
    return out;
  }
  core.commit_succeeded();
  out.membership_changed = core.membership().root_seq() != root_before;
  if (restore_hold && !core.restore_hold())
    for (const auto& res : out.results)
      if (const auto* r = std::get_if<Result<Recorded>>(&res);
          r != nullptr && r->ok() && !(*r)->replayed) {
        spdlog::info(
            "restored store: {} peers heard, none claiming more of this site's own feed than seq "
            "{}; recording again from seq {}",
            core.peers_heard(), (*r)->ref.seq - 1, (*r)->ref.seq);
        break;
      }
  return out;
}

Status join_network(NodeCore& core, Store& store, const SignedRecord& genesis) {
  Status joined = store.write([&](StoreTxn& txn) {
    core.begin_batch();  // again in a run after a map growth
    return core.join(genesis, txn);
  });
  if (joined.ok())
    core.commit_succeeded();
  else
    core.commit_failed();
  return joined;
}

}  // namespace umupaka

// MemoryStorage: a Storage held in memory, for tests and the simulator. It stands for the durable
// store: whatever was written to it survives a simulated crash of the node that uses it.
//
// Layout: ents_[0] is a dummy entry holding the snapshot's (index, term); ents_[1..] are the
// entries after the snapshot. Not thread-safe: one driver thread, as for RawNode.
#pragma once

#include <vector>

#include "consensus/storage.hpp"

namespace umupaka::raft {

class MemoryStorage final : public Storage {
 public:
  // An empty log and an empty configuration: a node that will learn both from a leader.
  MemoryStorage();
  // An empty log whose configuration at index 0 is `genesis` (the bootstrap membership).
  explicit MemoryStorage(ConfState genesis);

  Result<InitialState> initial_state() const override;
  Result<std::vector<Entry>> entries(LogIndex lo, LogIndex hi,
                                     uint64_t max_size_bytes) const override;
  Result<Term> term(LogIndex i) const override;
  LogIndex first_index() const override;
  LogIndex last_index() const override;
  Result<Snapshot> snapshot() const override;

  // Writes (the application's side).
  void set_hard_state(const HardState& hs);
  // Replaces the whole log with `snap`. Errc::snapshot_out_of_date unless it is newer than the
  // snapshot held.
  Status apply_snapshot(const Snapshot& snap);
  // Appends consecutive entries, truncating any conflicting suffix first; entries at or below the
  // snapshot are ignored. Precondition: entries[0].index <= last_index() + 1.
  void append(const std::vector<Entry>& entries);
  // Records a snapshot at applied index i (first_index() - 1 < i <= last_index()) with the
  // application's state `data` and the configuration as of i. Does not compact.
  // Errc::snapshot_out_of_date if i is not past the snapshot held.
  Result<Snapshot> create_snapshot(LogIndex i, const ConfState& conf_state, std::string data);
  // Discards entries up to and including compact_index (<= last_index()). Errc::compacted if
  // already compacted that far. Callers compact only at or below a snapshot they created.
  Status compact(LogIndex compact_index);

  const HardState& hard_state() const { return hard_state_; }
  // The index of the snapshot held (snapshot() without copying its data).
  LogIndex snapshot_index() const { return snapshot_.meta.index; }

 private:
  LogIndex offset() const { return ents_[0].index; }

  HardState hard_state_;
  Snapshot snapshot_;
  std::vector<Entry> ents_;
};

}  // namespace umupaka::raft

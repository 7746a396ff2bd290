// UnstableLog: the tail of the Raft log that Raft has accepted but the application has not yet
// persisted: at most one incoming snapshot, then entries from `offset`. Internal to RaftLog.
//
// Invariants: entries are consecutive from offset(); with a snapshot, offset() ==
// snapshot->meta.index + 1 until the snapshot is stable.
#pragma once

#include <optional>
#include <vector>

#include "consensus/types.hpp"

namespace umupaka::raft {

class UnstableLog {
 public:
  explicit UnstableLog(LogIndex offset) : offset_(offset) {}

  // The first index covered if a snapshot is pending.
  std::optional<LogIndex> maybe_first_index() const;
  // The last index held (entries, else the snapshot).
  std::optional<LogIndex> maybe_last_index() const;
  // The term of entry i if held here.
  std::optional<Term> maybe_term(LogIndex i) const;

  // Entries up to (i, t) were persisted: drop them. Ignored when (i, t) no longer matches (the
  // entries were replaced meanwhile).
  void stable_to(LogIndex i, Term t);
  // The snapshot at index i was persisted.
  void stable_snap_to(LogIndex i);
  // Replace everything by an incoming snapshot.
  void restore(Snapshot snap);
  // Append `ents` (consecutive), truncating any held suffix from ents[0].index.
  void truncate_and_append(const std::vector<Entry>& ents);
  // Entries [lo, hi), both within the held range.
  std::vector<Entry> slice(LogIndex lo, LogIndex hi) const;

  LogIndex offset() const { return offset_; }
  const std::vector<Entry>& entries() const { return entries_; }
  const std::optional<Snapshot>& snapshot() const { return snapshot_; }

 private:
  std::optional<Snapshot> snapshot_;
  std::vector<Entry> entries_;
  LogIndex offset_;
};

}  // namespace umupaka::raft

// RaftLog: the node's view of the whole log, stitching the durable Storage (entries the
// application persisted) and the UnstableLog (entries Raft accepted but the application has not
// persisted yet). Internal to Raft; etcd's raftLog.
//
// Invariants: applied <= committed <= last_index(); first_index() - 1 <= applied; committed
// entries are never truncated.
#pragma once

#include <optional>
#include <vector>

#include "consensus/storage.hpp"
#include "consensus/unstable_log.hpp"

namespace umupaka::raft {

class RaftLog {
 public:
  // `storage` is borrowed and outlives the log. max_committed_size_bytes bounds the committed
  // entries handed out per Ready (next_committed_entries).
  RaftLog(const Storage* storage, uint64_t max_committed_size_bytes);

  // Follower side of app: if our entry at `index` has term `log_term`, append `ents` (dropping any
  // conflicting suffix), commit up to min(committed, last new index) and return that last new
  // index; otherwise nullopt.
  std::optional<LogIndex> maybe_append(LogIndex index, Term log_term, LogIndex committed,
                                       const std::vector<Entry>& ents);
  // Appends consecutive entries after at least `committed`; returns the new last index.
  LogIndex append(const std::vector<Entry>& ents);
  // The first index in `ents` whose term differs from ours (or that we lack); 0 if none.
  LogIndex find_conflict(const std::vector<Entry>& ents) const;
  // The largest index <= index whose term is <= term, and that term (a reject hint, so that a
  // leader skips a whole term of conflicting entries per round trip).
  std::pair<LogIndex, Term> find_conflict_by_term(LogIndex index, Term term) const;

  const std::vector<Entry>& unstable_entries() const { return unstable_.entries(); }
  // Committed entries not yet applied, up to max_committed_size_bytes (at least one).
  std::vector<Entry> next_committed_entries() const;
  bool has_next_committed_entries() const;
  const std::optional<Snapshot>& unstable_snapshot() const { return unstable_.snapshot(); }
  bool has_pending_snapshot() const { return unstable_.snapshot().has_value(); }
  // The snapshot to send a follower: the pending one, else the storage's.
  Result<Snapshot> snapshot() const;

  LogIndex first_index() const;
  LogIndex last_index() const;
  Term last_term() const;
  // Term of entry i: Errc::compacted below first_index() - 1, Errc::unavailable past the end.
  Result<Term> term(LogIndex i) const;
  // term(i), with 0 for an index we do not hold.
  Term term_or_zero(LogIndex i) const;
  bool match_term(LogIndex i, Term t) const;
  // Entries from i, up to max_size_bytes; Errc::compacted if i is below first_index().
  Result<std::vector<Entry>> entries(LogIndex i, uint64_t max_size_bytes) const;
  // Entries [lo, hi) up to max_size_bytes; Errc::compacted if lo < first_index().
  Result<std::vector<Entry>> slice(LogIndex lo, LogIndex hi, uint64_t max_size_bytes) const;
  // Raft §5.4.1: a candidate's log (last_index, last_term) is at least as up to date as ours.
  bool is_up_to_date(LogIndex last_index, Term last_term) const;

  void commit_to(LogIndex to_commit);
  // Leader: commit up to max_index if that entry is of `term` (§5.4.2: only entries of the
  // current term are committed by counting replicas). True if committed advanced.
  bool maybe_commit(LogIndex max_index, Term term);
  void applied_to(LogIndex i);
  void stable_to(LogIndex i, Term t) { unstable_.stable_to(i, t); }
  void stable_snap_to(LogIndex i) { unstable_.stable_snap_to(i); }
  // Replace the log by an incoming snapshot (committed = its index).
  void restore(Snapshot snap);

  LogIndex committed() const { return committed_; }
  LogIndex applied() const { return applied_; }
  // Restart: the HardState's commit, which must lie within the log.
  void load_committed(LogIndex commit);

 private:
  const Storage* storage_;
  UnstableLog unstable_;
  LogIndex committed_ = 0;
  LogIndex applied_ = 0;
  uint64_t max_committed_size_bytes_;
};

}  // namespace umupaka::raft

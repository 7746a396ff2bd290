// Storage: the read side of the Raft log that the core consults (etcd's raft.Storage).
//
// The application owns the storage and writes it (persisting each Ready, see raw_node.hpp); Raft
// only reads it, from the one thread that drives the node. Entries Raft has handed out in a Ready
// but that the application has not yet persisted are held by Raft itself ("unstable"), so a
// Storage only ever answers for durable state.
//
// Indexes: the storage holds a snapshot covering [1, first_index() - 1] and entries
// [first_index(), last_index()]; term(first_index() - 1) is the snapshot's term. An empty log has
// first_index() == last_index() + 1.
//
// Errors are values: Errc::compacted for an index below first_index() - 1 (or below first_index()
// for entries()), Errc::unavailable for an index above last_index(), and
// Errc::snapshot_temporarily_unavailable from snapshot() while one is being built. Any other
// failure is fatal to the node: Raft asserts, as it cannot make progress without its log.
#pragma once

#include <cstdint>
#include <vector>

#include "consensus/result.hpp"
#include "consensus/types.hpp"

namespace umupaka::raft {

// What a node starts from: its last persisted HardState and the configuration of its snapshot.
// Conf changes committed after the snapshot are re-applied by the application as it re-applies
// the committed entries (RawNode::apply_conf_change).
struct InitialState {
  HardState hard_state;
  ConfState conf_state;
};

class Storage {
 public:
  virtual ~Storage() = default;

  virtual Result<InitialState> initial_state() const = 0;
  // Entries [lo, hi), cut to the first entries whose entry_size_bytes sum to at most
  // max_size_bytes, but always at least one entry when lo < hi.
  // Preconditions: first_index() <= lo (else Errc::compacted), lo <= hi <= last_index() + 1.
  virtual Result<std::vector<Entry>> entries(LogIndex lo, LogIndex hi,
                                             uint64_t max_size_bytes) const = 0;
  // The term of entry i, for first_index() - 1 <= i <= last_index().
  virtual Result<Term> term(LogIndex i) const = 0;
  virtual LogIndex first_index() const = 0;
  virtual LogIndex last_index() const = 0;
  // The most recent snapshot. Its meta.index is first_index() - 1 or more.
  virtual Result<Snapshot> snapshot() const = 0;
};

// Cuts `entries` to the longest prefix (at least one entry) whose sizes sum to max_size_bytes.
void limit_size(std::vector<Entry>& entries, uint64_t max_size_bytes);

}  // namespace umupaka::raft

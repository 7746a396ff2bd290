#include "consensus/memory_storage.hpp"

#include <utility>

#include "consensus/assert.hpp"

namespace umupaka::raft {

void limit_size(std::vector<Entry>& entries, uint64_t max_size_bytes) {
  if (entries.empty()) return;
  uint64_t size_bytes = entry_size_bytes(entries[0]);
  size_t keep = 1;
  for (; keep < entries.size(); ++keep) {
    size_bytes += entry_size_bytes(entries[keep]);
    if (size_bytes > max_size_bytes) break;
  }
  entries.resize(keep);
}

MemoryStorage::MemoryStorage() : ents_(1) {}

MemoryStorage::MemoryStorage(ConfState genesis) : ents_(1) {
  UMUPAKA_RAFT_ASSERT(genesis.well_formed());
  snapshot_.meta.conf_state = std::move(genesis);
}

Result<InitialState> MemoryStorage::initial_state() const {
  return InitialState{hard_state_, snapshot_.meta.conf_state};
}

Result<std::vector<Entry>> MemoryStorage::entries(LogIndex lo, LogIndex hi,
                                                  uint64_t max_size_bytes) const {
  UMUPAKA_RAFT_ASSERT(lo <= hi);
  if (lo <= offset()) return make_error(Errc::compacted, "entries below first index");
  UMUPAKA_RAFT_ASSERT_MSG(hi <= last_index() + 1, "entries beyond last index");
  if (ents_.size() == 1) return make_error(Errc::unavailable, "log is empty");
  std::vector<Entry> out(ents_.begin() + static_cast<ptrdiff_t>(lo - offset()),
                         ents_.begin() + static_cast<ptrdiff_t>(hi - offset()));
  limit_size(out, max_size_bytes);
  return out;
}

Result<Term> MemoryStorage::term(LogIndex i) const {
  if (i < offset()) return make_error(Errc::compacted, "term below snapshot");
  if (i - offset() >= ents_.size()) return make_error(Errc::unavailable, "term beyond last");
  return ents_[i - offset()].term;
}

LogIndex MemoryStorage::first_index() const { return offset() + 1; }

LogIndex MemoryStorage::last_index() const { return offset() + ents_.size() - 1; }

Result<Snapshot> MemoryStorage::snapshot() const { return snapshot_; }

void MemoryStorage::set_hard_state(const HardState& hs) {
  UMUPAKA_RAFT_ASSERT(hs.term >= hard_state_.term);
  hard_state_ = hs;
}

Status MemoryStorage::apply_snapshot(const Snapshot& snap) {
  UMUPAKA_RAFT_ASSERT(snap.meta.conf_state.well_formed());
  if (snap.meta.index <= snapshot_.meta.index) {
    return make_error(Errc::snapshot_out_of_date, "snapshot not newer than the one held");
  }
  snapshot_ = snap;
  ents_.assign(1, Entry{snap.meta.term, snap.meta.index, EntryType::normal, {}});
  return {};
}

void MemoryStorage::append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  for (size_t i = 1; i < entries.size(); ++i) {
    UMUPAKA_RAFT_ASSERT(entries[i].index == entries[i - 1].index + 1);
  }
  const LogIndex first = first_index();
  const LogIndex last = entries.back().index;
  if (last < first) return;  // all compacted
  size_t skip = 0;
  if (first > entries[0].index) skip = first - entries[0].index;
  const LogIndex start = entries[skip].index;
  UMUPAKA_RAFT_ASSERT_MSG(start <= last_index() + 1, "missing log entries before append");
  ents_.resize(start - offset());
  ents_.insert(ents_.end(), entries.begin() + static_cast<ptrdiff_t>(skip), entries.end());
  UMUPAKA_RAFT_ASSERT(last_index() == last);
}

Result<Snapshot> MemoryStorage::create_snapshot(LogIndex i, const ConfState& conf_state,
                                                std::string data) {
  UMUPAKA_RAFT_ASSERT(conf_state.well_formed());
  if (i <= snapshot_.meta.index) {
    return make_error(Errc::snapshot_out_of_date, "snapshot not newer than the one held");
  }
  UMUPAKA_RAFT_ASSERT_MSG(i <= last_index(), "snapshot beyond last index");
  UMUPAKA_RAFT_ASSERT(i >= offset());
  snapshot_.meta.index = i;
  snapshot_.meta.term = ents_[i - offset()].term;
  snapshot_.meta.conf_state = conf_state;
  snapshot_.data = std::move(data);
  return snapshot_;
}

Status MemoryStorage::compact(LogIndex compact_index) {
  if (compact_index <= offset()) return make_error(Errc::compacted, "already compacted");
  UMUPAKA_RAFT_ASSERT_MSG(compact_index <= last_index(), "compact beyond last index");
  const size_t cut = compact_index - offset();
  Entry dummy{ents_[cut].term, ents_[cut].index, EntryType::normal, {}};
  std::vector<Entry> rest;
  rest.reserve(ents_.size() - cut);
  rest.push_back(std::move(dummy));
  rest.insert(rest.end(), std::make_move_iterator(ents_.begin() + static_cast<ptrdiff_t>(cut + 1)),
              std::make_move_iterator(ents_.end()));
  ents_ = std::move(rest);
  return {};
}

}  // namespace umupaka::raft

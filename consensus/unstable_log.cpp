#include "consensus/unstable_log.hpp"

#include <utility>

#include "consensus/assert.hpp"

namespace umupaka::raft {

std::optional<LogIndex> UnstableLog::maybe_first_index() const {
  if (snapshot_) return snapshot_->meta.index + 1;
  return std::nullopt;
}

std::optional<LogIndex> UnstableLog::maybe_last_index() const {
  if (!entries_.empty()) return offset_ + entries_.size() - 1;
  if (snapshot_) return snapshot_->meta.index;
  return std::nullopt;
}

std::optional<Term> UnstableLog::maybe_term(LogIndex i) const {
  if (i < offset_) {
    if (snapshot_ && snapshot_->meta.index == i) return snapshot_->meta.term;
    return std::nullopt;
  }
  const auto last = maybe_last_index();
  if (!last || i > *last) return std::nullopt;
  if (entries_.empty()) return std::nullopt;  // only a snapshot, and i == offset_ is not in it
  return entries_[i - offset_].term;
}

void UnstableLog::stable_to(LogIndex i, Term t) {
  const auto gt = maybe_term(i);
  if (!gt || *gt != t || i < offset_) return;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(i + 1 - offset_));
  offset_ = i + 1;
}

void UnstableLog::stable_snap_to(LogIndex i) {
  if (snapshot_ && snapshot_->meta.index == i) snapshot_.reset();
}

void UnstableLog::restore(Snapshot snap) {
  offset_ = snap.meta.index + 1;
  entries_.clear();
  snapshot_ = std::move(snap);
}

void UnstableLog::truncate_and_append(const std::vector<Entry>& ents) {
  if (ents.empty()) return;
  const LogIndex after = ents[0].index;
  if (after == offset_ + entries_.size()) {
    entries_.insert(entries_.end(), ents.begin(), ents.end());
  } else if (after <= offset_) {
    // Replace everything held; the caller made sure nothing committed is lost.
    offset_ = after;
    entries_ = ents;
  } else {
    entries_.resize(after - offset_);
    entries_.insert(entries_.end(), ents.begin(), ents.end());
  }
  UMUPAKA_RAFT_ASSERT(entries_.front().index == offset_);
  UMUPAKA_RAFT_ASSERT(entries_.back().index == offset_ + entries_.size() - 1);
}

std::vector<Entry> UnstableLog::slice(LogIndex lo, LogIndex hi) const {
  UMUPAKA_RAFT_ASSERT(lo <= hi);
  UMUPAKA_RAFT_ASSERT(offset_ <= lo && hi <= offset_ + entries_.size());
  return std::vector<Entry>(entries_.begin() + static_cast<ptrdiff_t>(lo - offset_),
                            entries_.begin() + static_cast<ptrdiff_t>(hi - offset_));
}

}  // namespace umupaka::raft

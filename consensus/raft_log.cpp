#include "consensus/raft_log.hpp"

#include <algorithm>
#include <utility>

#include "consensus/assert.hpp"

namespace umupaka::raft {

RaftLog::RaftLog(const Storage* storage, uint64_t max_committed_size_bytes)
    : storage_(storage),
      unstable_(storage->last_index() + 1),
      max_committed_size_bytes_(max_committed_size_bytes) {
  UMUPAKA_RAFT_ASSERT(storage_ != nullptr);
  UMUPAKA_RAFT_ASSERT(max_committed_size_bytes_ > 0);
  const LogIndex first = storage_->first_index();
  UMUPAKA_RAFT_ASSERT(first >= 1);
  committed_ = first - 1;
  applied_ = first - 1;
}

std::optional<LogIndex> RaftLog::maybe_append(LogIndex index, Term log_term, LogIndex committed,
                                              const std::vector<Entry>& ents) {
  if (!match_term(index, log_term)) return std::nullopt;
  const LogIndex last_new = index + ents.size();
  const LogIndex conflict = find_conflict(ents);
  if (conflict != 0) {
    UMUPAKA_RAFT_ASSERT_MSG(conflict > committed_, "entry conflicts with a committed entry");
    const size_t skip = conflict - (index + 1);
    append(std::vector<Entry>(ents.begin() + static_cast<ptrdiff_t>(skip), ents.end()));
  }
  commit_to(std::min(committed, last_new));
  return last_new;
}

LogIndex RaftLog::append(const std::vector<Entry>& ents) {
  if (ents.empty()) return last_index();
  UMUPAKA_RAFT_ASSERT_MSG(ents[0].index - 1 >= committed_, "append would truncate commits");
  UMUPAKA_RAFT_ASSERT(ents[0].index <= last_index() + 1);
  unstable_.truncate_and_append(ents);
  return last_index();
}

LogIndex RaftLog::find_conflict(const std::vector<Entry>& ents) const {
  for (const Entry& e : ents) {
    if (!match_term(e.index, e.term)) return e.index;
  }
  return 0;
}

std::pair<LogIndex, Term> RaftLog::find_conflict_by_term(LogIndex index, Term term) const {
  for (; index > 0; --index) {
    const auto t = this->term(index);
    if (!t.ok()) return {index, 0};  // compacted or unavailable: no better hint
    if (*t <= term) return {index, *t};
  }
  return {0, 0};
}

std::vector<Entry> RaftLog::next_committed_entries() const {
  const LogIndex off = std::max(applied_ + 1, first_index());
  if (committed_ + 1 <= off) return {};
  auto ents = slice(off, committed_ + 1, max_committed_size_bytes_);
  UMUPAKA_RAFT_ASSERT_MSG(ents.ok(), "committed entries unavailable");
  return std::move(ents).value();
}

bool RaftLog::has_next_committed_entries() const {
  const LogIndex off = std::max(applied_ + 1, first_index());
  return committed_ + 1 > off;
}

Result<Snapshot> RaftLog::snapshot() const {
  if (unstable_.snapshot()) return *unstable_.snapshot();
  return storage_->snapshot();
}

LogIndex RaftLog::first_index() const {
  if (const auto i = unstable_.maybe_first_index()) return *i;
  return storage_->first_index();
}

LogIndex RaftLog::last_index() const {
  if (const auto i = unstable_.maybe_last_index()) return *i;
  return storage_->last_index();
}

Term RaftLog::last_term() const {
  const auto t = term(last_index());
  UMUPAKA_RAFT_ASSERT_MSG(t.ok(), "term of the last entry unavailable");
  return *t;
}

Result<Term> RaftLog::term(LogIndex i) const {
  const LogIndex dummy = first_index() - 1;
  if (i < dummy) return make_error(Errc::compacted, "term of a compacted entry");
  if (i > last_index()) return make_error(Errc::unavailable, "term past the last entry");
  if (const auto t = unstable_.maybe_term(i)) return *t;
  auto t = storage_->term(i);
  UMUPAKA_RAFT_ASSERT_MSG(t.ok() || t.code() == Errc::compacted || t.code() == Errc::unavailable,
                          "storage failed");
  return t;
}

Term RaftLog::term_or_zero(LogIndex i) const {
  const auto t = term(i);
  return t.ok() ? *t : 0;
}

bool RaftLog::match_term(LogIndex i, Term t) const {
  const auto got = term(i);
  return got.ok() && *got == t;
}

Result<std::vector<Entry>> RaftLog::entries(LogIndex i, uint64_t max_size_bytes) const {
  if (i > last_index()) return std::vector<Entry>{};
  return slice(i, last_index() + 1, max_size_bytes);
}

Result<std::vector<Entry>> RaftLog::slice(LogIndex lo, LogIndex hi, uint64_t max_size_bytes) const {
  UMUPAKA_RAFT_ASSERT(lo <= hi);
  if (lo < first_index()) return make_error(Errc::compacted, "slice below first index");
  UMUPAKA_RAFT_ASSERT_MSG(hi <= last_index() + 1, "slice past the last entry");
  std::vector<Entry> out;
  if (lo == hi) return out;
  const LogIndex uoff = unstable_.offset();
  if (lo < uoff) {
    auto stored = storage_->entries(lo, std::min(hi, uoff), max_size_bytes);
    if (!stored.ok()) {
      UMUPAKA_RAFT_ASSERT_MSG(stored.code() == Errc::compacted, "storage failed");
      return stored.error();
    }
    out = std::move(stored).value();
    // Storage cut the batch short for size: the unstable part would not fit either.
    if (out.size() < std::min(hi, uoff) - lo) return out;
  }
  if (hi > uoff) {
    auto tail = unstable_.slice(std::max(lo, uoff), hi);
    out.insert(out.end(), std::make_move_iterator(tail.begin()),
               std::make_move_iterator(tail.end()));
  }
  limit_size(out, max_size_bytes);
  return out;
}

bool RaftLog::is_up_to_date(LogIndex last_index, Term last_term) const {
  const Term ours = this->last_term();
  return last_term > ours || (last_term == ours && last_index >= this->last_index());
}

void RaftLog::commit_to(LogIndex to_commit) {
  if (committed_ >= to_commit) return;  // never decrease
  UMUPAKA_RAFT_ASSERT_MSG(to_commit <= last_index(), "commit past the last entry");
  committed_ = to_commit;
}

bool RaftLog::maybe_commit(LogIndex max_index, Term term) {
  if (max_index > committed_ && term_or_zero(max_index) == term) {
    commit_to(max_index);
    return true;
  }
  return false;
}

void RaftLog::applied_to(LogIndex i) {
  if (i == 0) return;
  UMUPAKA_RAFT_ASSERT_MSG(committed_ >= i && i >= applied_, "applied out of range");
  applied_ = i;
}

void RaftLog::restore(Snapshot snap) {
  committed_ = snap.meta.index;
  unstable_.restore(std::move(snap));
}

void RaftLog::load_committed(LogIndex commit) {
  UMUPAKA_RAFT_ASSERT_MSG(commit >= committed_ && commit <= last_index(),
                          "hard state commit outside the log");
  committed_ = commit;
}

}  // namespace umupaka::raft

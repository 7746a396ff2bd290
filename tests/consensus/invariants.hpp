// Invariants: the safety properties of Raft, checked by the test network (network.hpp) after every
// step of every test, in the manner of LogCabin's RaftConsensusInvariants: what must always hold,
// and what may only grow.
//
//   election safety       at most one leader per term, ever;
//   log matching          two entries with the same index and term have the same content and the
//                         same predecessor term, so (by induction) identical prefixes; checked
//                         incrementally on every persisted entry, and pairwise in full by
//                         check_full();
//   leader completeness   a new leader's log holds every entry known to be committed;
//                         a committed entry is never overwritten;
//   state-machine safety  no two nodes apply different entries (or reach different states) at
//                         the same index, snapshots included;
//   monotonicity          each node's persisted term and commit index never decrease, across
//                         crashes too;
//   one vote per term     a node's persisted vote never changes within a term, and it grants at
//                         most one vote per term;
//   learners              a node that is a learner (or not a member) in its own configuration never
//                         grants a vote and is never leader;
//   linearizable reads    a read index answered for a request is at least every index known to
//                         be committed when the request was made.
//
// Failures are recorded (not thrown); the network reports them when it is destroyed and tests may
// check ok() earlier. Only the first few are kept.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "consensus/memory_storage.hpp"
#include "consensus/raw_node.hpp"

namespace umupaka::raft::testing {

class Invariants {
 public:
  bool ok() const { return failures_.empty(); }
  const std::vector<std::string>& failures() const { return failures_; }
  std::string report() const {
    std::string out;
    for (const std::string& f : failures_) out += f + "\n";
    return out;
  }
  // Every node's durable log, by id (for checking leaders elected before an entry was known to be
  // committed); borrowed.
  void set_logs(const std::map<NodeId, const MemoryStorage*>* logs) { logs_ = logs; }
  // Context added to each failure (the test's seed and step).
  void set_context(std::string context) { context_ = std::move(context); }

  // Before a Ready is persisted: entries it overwrites must not be committed.
  void before_persist(const NodeId& id, const MemoryStorage& s, const Ready& rd) {
    if (rd.entries.empty() || rd.snapshot) return;
    const LogIndex from = std::max(rd.entries.front().index, s.first_index());
    for (LogIndex i = from; i <= s.last_index(); ++i) {
      const auto old_term = s.term(i);
      if (!old_term.ok()) continue;
      const LogIndex k = i - rd.entries.front().index;
      if (k < rd.entries.size() && rd.entries[k].term == *old_term) continue;  // not overwritten
      const auto c = committed_.find(i);
      if (c != committed_.end() && c->second == *old_term) {
        fail(id, "overwrites committed entry " + std::to_string(i) + " of term " +
                     std::to_string(*old_term));
      }
      if (i <= s.hard_state().commit) {
        fail(id, "overwrites entry " + std::to_string(i) + " at or below its own commit index");
      }
    }
  }

  // After a Ready is persisted: each new entry agrees with every other log holding the same
  // (index, term).
  void after_persist(const NodeId& id, const MemoryStorage& s, const Ready& rd) {
    for (const Entry& e : rd.entries) {
      if (e.index < s.first_index()) continue;
      const auto prev = s.term(e.index - 1);
      EntryKey key{e.index, e.term};
      EntryFact fact{prev.ok() ? *prev : UINT64_MAX, e.type, e.data};
      auto [it, inserted] = entries_.emplace(key, fact);
      if (inserted) continue;
      if (it->second.type != fact.type || it->second.data != fact.data) {
        fail(id, "log matching: entry (" + std::to_string(e.index) + ", " + std::to_string(e.term) +
                     ") differs from another log's");
      }
      if (fact.prev_term != UINT64_MAX && it->second.prev_term != UINT64_MAX &&
          fact.prev_term != it->second.prev_term) {
        fail(id, "log matching: entry (" + std::to_string(e.index) + ", " + std::to_string(e.term) +
                     ") follows a different term than in another log");
      }
      if (it->second.prev_term == UINT64_MAX) it->second.prev_term = fact.prev_term;
    }
    if (rd.snapshot) {
      const auto c = committed_.find(rd.snapshot->meta.index);
      if (c != committed_.end() && c->second != rd.snapshot->meta.term) {
        fail(id, "snapshot at " + std::to_string(rd.snapshot->meta.index) +
                     " has the term of an uncommitted entry");
      }
    }
  }

  // A message leaves `id`, whose status is `st` at that moment; `to` is the receiver's status
  // (null while it is down).
  void on_send(const NodeId& id, const RaftStatus& st, const Message& m, const RaftStatus* to) {
    const bool grant =
        !m.reject && (m.type == MessageType::vote_resp || m.type == MessageType::pre_vote_resp);
    if (!grant) return;
    // Learners vote only when asked by a candidate that counts them as voters (a promotion not
    // yet in the learner's log); no other candidate asks them.
    if (!st.conf_state.is_voter(id) && to != nullptr && !to->conf_state.is_voter(id)) {
      fail(id, std::string("grants a ") + message_type_name(m.type) +
                   " to a candidate that does not count it as a voter");
    }
    if (m.type != MessageType::vote_resp) return;
    auto [it, inserted] = granted_.emplace(std::make_pair(id, m.term), m.to);
    if (!inserted && it->second != m.to) {
      fail(id,
           "grants two votes in term " + std::to_string(m.term) + ": " + it->second + ", " + m.to);
    }
  }

  // `id`, at term `term`, applied `e`, reaching state `digest`.
  void on_apply(const NodeId& id, Term term, const Entry& e, uint64_t digest) {
    // Applied means committed: recorded here too, since an application that compacts right after
    // applying may cut the entry from its log before check_node() would read it there.
    note_committed(id, e.index, e.term, term);
    auto [it, inserted] = applied_.emplace(e.index, AppliedFact{e.term, e.type, e.data, digest});
    if (inserted) return;
    if (it->second.term != e.term || it->second.type != e.type || it->second.data != e.data) {
      fail(id, "state-machine safety: applies a different entry at " + std::to_string(e.index));
    } else if (it->second.digest != digest) {
      fail(id, "state-machine safety: different state after applying " + std::to_string(e.index));
    }
  }

  // `id` restored the state machine from a snapshot.
  void on_apply_snapshot(const NodeId& id, const Snapshot& snap, uint64_t digest) {
    const auto it = applied_.find(snap.meta.index);
    if (it != applied_.end() && it->second.digest != digest) {
      fail(id, "snapshot at " + std::to_string(snap.meta.index) +
                   " holds a state no node reached there");
    }
  }

  // `id`'s durable state was put back on purpose (a test restoring a backup, which Raft does not
  // assume): its own history starts again from what it holds now.
  void forget(const NodeId& id) { history_.erase(id); }

  // After every step, for every node (node == nullptr while it is down).
  void check_node(const NodeId& id, const MemoryStorage& s, const RawNode* node) {
    const HardState& hs = s.hard_state();
    NodeHistory& h = history_[id];
    if (hs.term < h.term) fail(id, "persisted term decreased");
    if (hs.commit < h.commit) fail(id, "persisted commit index decreased");
    if (hs.term == h.term && !h.vote.empty() && hs.vote != h.vote) {
      fail(id, "changed its vote within term " + std::to_string(hs.term));
    }
    // Newly committed entries become known as committed.
    for (LogIndex i = std::max(h.commit + 1, s.first_index()); i <= hs.commit; ++i) {
      const auto t = s.term(i);
      if (!t.ok()) {
        fail(id, "commit index " + std::to_string(hs.commit) + " past its persisted log");
        break;
      }
      note_committed(id, i, *t, hs.term);
    }
    h.term = hs.term;
    h.commit = hs.commit;
    h.vote = hs.vote;
    if (node == nullptr) return;
    const RaftStatus st = node->status();
    if (st.term != hs.term || st.commit != hs.commit || st.vote != hs.vote) {
      fail(id, "in-memory hard state differs from the persisted one after a handled Ready");
    }
    if (st.applied > st.commit) fail(id, "applied past commit");
    if (st.role != Role::leader) return;
    if (!st.conf_state.is_voter(id)) fail(id, "leader while not a voter in its own configuration");
    auto [it, inserted] = leaders_.emplace(st.term, id);
    if (!inserted && it->second != id) {
      fail(id, "election safety: second leader in term " + std::to_string(st.term) + " (" +
                   it->second + " was)");
    }
    if (inserted) check_leader_completeness(id, s);
  }

  // Full pairwise log matching over the persisted logs (quadratic: call at the end of a run).
  void check_full(const std::vector<std::pair<NodeId, const MemoryStorage*>>& logs) {
    for (size_t a = 0; a < logs.size(); ++a) {
      for (size_t b = a + 1; b < logs.size(); ++b) {
        const MemoryStorage& x = *logs[a].second;
        const MemoryStorage& y = *logs[b].second;
        const LogIndex lo = std::max(x.first_index(), y.first_index());
        const LogIndex hi = std::min(x.last_index(), y.last_index());
        LogIndex agree = 0;  // highest index with the same term in both
        for (LogIndex i = hi; i >= lo && i > 0; --i) {
          if (*x.term(i) == *y.term(i)) {
            agree = i;
            break;
          }
        }
        if (agree < lo) continue;
        const auto xe = x.entries(lo, agree + 1, UINT64_MAX);
        const auto ye = y.entries(lo, agree + 1, UINT64_MAX);
        if (!xe.ok() || !ye.ok() || *xe != *ye) {
          fail(logs[a].first, "log matching: logs of " + logs[a].first + " and " + logs[b].first +
                                  " agree at " + std::to_string(agree) + " but differ before");
        }
      }
    }
  }

  // A read request with `context` made now: its answer must be at least every index committed so
  // far. (Contexts are unique per request, as read_index() requires.)
  void on_read_request(const std::string& context) {
    read_floor_[context] = committed_.empty() ? 0 : committed_.rbegin()->first;
  }
  // `id` was answered `rs`.
  void on_read_state(const NodeId& id, const ReadState& rs) {
    const auto it = read_floor_.find(rs.context);
    if (it == read_floor_.end()) {
      fail(id, "answers a read nobody asked for: '" + rs.context + "'");
    } else if (rs.index < it->second) {
      fail(id, "stale read '" + rs.context + "': index " + std::to_string(rs.index) + " below " +
                   std::to_string(it->second) + ", committed before it was asked");
    }
  }

  const std::map<LogIndex, Term>& committed() const { return committed_; }
  size_t leaders_elected() const { return leaders_.size(); }

 private:
  struct EntryKey {
    LogIndex index;
    Term term;
    friend auto operator<=>(const EntryKey&, const EntryKey&) = default;
  };
  struct EntryFact {
    Term prev_term;  // UINT64_MAX: unknown (compacted)
    EntryType type;
    std::string data;
  };
  struct AppliedFact {
    Term term;
    EntryType type;
    std::string data;
    uint64_t digest;
  };
  struct NodeHistory {
    Term term = 0;
    LogIndex commit = 0;
    NodeId vote;
  };

  // (index, term) is committed, seen at `id` in term `seen_in`. It was committed by a leader of
  // term seen_in or earlier (the leader learns first, in its own term), so every leader of a term
  // after seen_in must hold it (Raft's leader completeness). Leaders elected before it became
  // known are checked now, on their logs as they are (a committed entry is never overwritten,
  // which before_persist checks). An entry of an older term committed by a later leader (the
  // figure-8 case) is not required of the leaders between.
  void note_committed(const NodeId& id, LogIndex index, Term term, Term seen_in) {
    auto [it, inserted] = committed_.emplace(index, term);
    if (!inserted) {
      if (it->second != term) {
        fail(id, "commits (" + std::to_string(index) + ", " + std::to_string(term) +
                     ") where another node committed term " + std::to_string(it->second));
      }
      return;
    }
    if (!logs_) return;
    for (auto l = leaders_.upper_bound(seen_in); l != leaders_.end(); ++l) {
      const auto log = logs_->find(l->second);
      if (log == logs_->end()) continue;
      const MemoryStorage& s = *log->second;
      if (index < s.first_index()) continue;
      const auto t = s.term(index);
      if (!t.ok() || *t != term) {
        fail(l->second, "leader completeness: leader of term " + std::to_string(l->first) +
                            " lacks (" + std::to_string(index) + ", " + std::to_string(term) +
                            "), committed");
      }
    }
  }

  void check_leader_completeness(const NodeId& id, const MemoryStorage& s) {
    for (const auto& [index, term] : committed_) {
      if (index < s.first_index()) continue;  // covered by its snapshot (checked on install)
      const auto t = s.term(index);
      if (!t.ok() || *t != term) {
        fail(id, "leader completeness: new leader lacks committed entry (" + std::to_string(index) +
                     ", " + std::to_string(term) + ")");
        return;
      }
    }
  }

  void fail(const NodeId& id, const std::string& what) {
    if (failures_.size() >= 8) return;
    failures_.push_back(context_ + " node " + id + ": " + what);
  }

  std::map<Term, NodeId> leaders_;
  std::map<EntryKey, EntryFact> entries_;
  std::map<LogIndex, Term> committed_;
  std::map<LogIndex, AppliedFact> applied_;
  std::map<std::pair<NodeId, Term>, NodeId> granted_;
  std::map<NodeId, NodeHistory> history_;
  std::map<std::string, LogIndex> read_floor_;
  std::vector<std::string> failures_;
  std::string context_;
  const std::map<NodeId, const MemoryStorage*>* logs_ = nullptr;
};

}  // namespace umupaka::raft::testing

// Config::validate: every bad value is refused with Errc::invalid_config naming its field.
#include "consensus/config.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "consensus/memory_storage.hpp"
#include "consensus/raw_node.hpp"

namespace umupaka::raft {
namespace {

struct Case {
  const char* name;
  std::function<void(Config&)> mutate;
  const char* field;  // nullptr: valid
};

// A storage whose initial configuration is not sorted, unique and disjoint (MemoryStorage refuses
// to hold one): as a corrupt store would hand it over.
class MalformedConfStorage : public Storage {
 public:
  Result<InitialState> initial_state() const override {
    return InitialState{HardState{}, ConfState{{"b", "a"}, {}}};
  }
  Result<std::vector<Entry>> entries(LogIndex lo, LogIndex hi, uint64_t max) const override {
    return inner_.entries(lo, hi, max);
  }
  Result<Term> term(LogIndex i) const override { return inner_.term(i); }
  LogIndex first_index() const override { return inner_.first_index(); }
  LogIndex last_index() const override { return inner_.last_index(); }
  Result<Snapshot> snapshot() const override { return inner_.snapshot(); }

 private:
  MemoryStorage inner_;
};

TEST(RaftConfig, ValidateTable) {
  MemoryStorage storage(ConfState{{"a", "b", "c"}, {}});
  HardState hs;
  hs.term = 2;
  hs.commit = 3;
  storage.append({Entry{1, 1, EntryType::normal, ""}, Entry{1, 2, EntryType::normal, "x"},
                  Entry{2, 3, EntryType::normal, "y"}});
  storage.set_hard_state(hs);
  MemoryStorage bad_storage(ConfState{{"a"}, {}});
  HardState bad_hs;
  bad_hs.commit = 5;  // past its empty log
  bad_storage.set_hard_state(bad_hs);
  MalformedConfStorage malformed;
  // Entries 1..5, a snapshot at 4 and the log compacted through it: first index 5.
  auto compacted = [](uint64_t commit) {
    auto st = std::make_unique<MemoryStorage>(ConfState{{"a"}, {}});
    std::vector<Entry> ents;
    for (uint64_t i = 1; i <= 5; ++i) ents.push_back(Entry{1, i, EntryType::normal, "x"});
    st->append(ents);
    HardState state;
    state.term = 1;
    state.commit = commit;
    st->set_hard_state(state);
    EXPECT_TRUE(st->create_snapshot(4, ConfState{{"a"}, {}}, "").ok());
    EXPECT_TRUE(st->compact(4).ok());
    return st;
  };
  const auto commit_below_snapshot = compacted(2);
  const auto committed = compacted(5);

  const std::vector<Case> cases = {
      {"defaults", [](Config&) {}, nullptr},
      {"empty id", [](Config& c) { c.id = ""; }, "id"},
      {"long id", [](Config& c) { c.id = std::string(65, 'x'); }, "id"},
      {"zero heartbeat", [](Config& c) { c.heartbeat_tick = 0; }, "heartbeat_tick"},
      {"heartbeat == election",
       [](Config& c) {
         c.heartbeat_tick = 10;
         c.election_tick = 10;
       },
       "election_tick"},
      {"heartbeat > election",
       [](Config& c) {
         c.heartbeat_tick = 11;
         c.election_tick = 10;
       },
       "election_tick"},
      {"zero election", [](Config& c) { c.election_tick = 0; }, "election_tick"},
      {"learner beat below the beat",
       [](Config& c) {
         c.heartbeat_tick = 2;
         c.learner_heartbeat_tick = 1;
       },
       "learner_heartbeat_tick"},
      {"learner beat slower than an election", [](Config& c) { c.learner_heartbeat_tick = 50; },
       nullptr},
      {"huge learner beat", [](Config& c) { c.learner_heartbeat_tick = election_tick_max + 1; },
       "learner_heartbeat_tick"},
      {"huge election", [](Config& c) { c.election_tick = election_tick_max + 1; },
       "election_tick"},
      {"null storage", [](Config& c) { c.storage = nullptr; }, "storage"},
      {"zero max_size_per_msg", [](Config& c) { c.max_size_per_msg = 0; }, "max_size_per_msg"},
      {"huge max_size_per_msg", [](Config& c) { c.max_size_per_msg = byte_limit_max + 1; },
       "max_size_per_msg"},
      {"max_size_per_msg at the bound", [](Config& c) { c.max_size_per_msg = byte_limit_max; },
       nullptr},
      {"huge committed per ready",
       [](Config& c) { c.max_committed_size_per_ready = byte_limit_max + 1; },
       "max_committed_size_per_ready"},
      {"huge uncommitted", [](Config& c) { c.max_uncommitted_entries_size = byte_limit_max + 1; },
       "max_uncommitted_entries_size"},
      {"malformed configuration", [&](Config& c) { c.storage = &malformed; }, "storage"},
      {"commit below the snapshot", [&](Config& c) { c.storage = commit_below_snapshot.get(); },
       "storage"},
      {"applied below the snapshot",
       [&](Config& c) {
         c.storage = committed.get();
         c.applied = 2;
       },
       "applied"},
      {"applied at the snapshot",
       [&](Config& c) {
         c.storage = committed.get();
         c.applied = 4;
       },
       nullptr},
      {"zero committed per ready", [](Config& c) { c.max_committed_size_per_ready = 0; },
       "max_committed_size_per_ready"},
      {"zero uncommitted", [](Config& c) { c.max_uncommitted_entries_size = 0; },
       "max_uncommitted_entries_size"},
      {"zero inflight", [](Config& c) { c.max_inflight_msgs = 0; }, "max_inflight_msgs"},
      {"huge inflight", [](Config& c) { c.max_inflight_msgs = max_inflight_msgs_max + 1; },
       "max_inflight_msgs"},
      {"zero pending reads", [](Config& c) { c.max_pending_reads = 0; }, "max_pending_reads"},
      {"huge pending reads", [](Config& c) { c.max_pending_reads = max_pending_reads_max + 1; },
       "max_pending_reads"},
      {"applied at commit", [](Config& c) { c.applied = 3; }, nullptr},
      {"applied past commit", [](Config& c) { c.applied = 4; }, "applied"},
      {"commit outside the log", [&](Config& c) { c.storage = &bad_storage; }, "storage"},
      {"no pre_vote, no check_quorum",
       [](Config& c) {
         c.pre_vote = false;
         c.check_quorum = false;
       },
       nullptr},
  };
  for (const Case& tc : cases) {
    Config c;
    c.id = "a";
    c.storage = &storage;
    tc.mutate(c);
    const Status s = c.validate();
    if (tc.field == nullptr) {
      EXPECT_TRUE(s.ok()) << tc.name << ": " << s.error().message;
      EXPECT_TRUE(RawNode::create(c).ok()) << tc.name;
    } else {
      ASSERT_FALSE(s.ok()) << tc.name;
      EXPECT_EQ(s.code(), Errc::invalid_config) << tc.name;
      EXPECT_EQ(s.error().field, tc.field) << tc.name << ": " << s.error().message;
      const auto node = RawNode::create(c);
      EXPECT_FALSE(node.ok()) << tc.name;
    }
  }
}

TEST(RaftConfig, ElectionTimeoutIsRandomizedWithinOneToTwoElectionTicks) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    MemoryStorage storage(ConfState{{"a", "b", "c"}, {}});
    Config c;
    c.id = "a";
    c.storage = &storage;
    c.election_tick = 10;
    c.seed = seed;
    auto node = RawNode::create(c);
    ASSERT_TRUE(node.ok());
    int ticks = 0;
    while (node->status().role == Role::follower && ticks < 100) {
      node->tick();
      ++ticks;
    }
    EXPECT_GE(ticks, 10) << seed;
    EXPECT_LE(ticks, 19) << seed;
  }
}

}  // namespace
}  // namespace umupaka::raft

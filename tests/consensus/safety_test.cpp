// Safety under failures: the Raft paper's figure 8 (an old-term entry is never committed by
// counting replicas), elections under partitions, and a deposed leader whose uncommitted entries
// are overwritten.
#include <gtest/gtest.h>

#include "tests/consensus/network.hpp"

namespace umupaka::raft::testing {
namespace {

const std::vector<NodeId> five = {"s1", "s2", "s3", "s4", "s5"};

// Campaigns at `id` until it leads (a pre-vote may first have to learn the cluster's term).
bool elect_until(Network& net, const NodeId& id, int attempts = 5) {
  for (int k = 0; k < attempts; ++k) {
    net.elect(id);
    if (net.status(id).role == Role::leader) return true;
  }
  return false;
}

void partition(Network& net, const std::vector<NodeId>& a, const std::vector<NodeId>& b) {
  for (const NodeId& x : a) {
    for (const NodeId& y : b) net.cut(x, y);
  }
}

// Figure 8, (a) to (d): s1 replicates its term-2 entry to a majority in term 4, but must not count
// it committed; s5 may then be elected and overwrite it, and nobody ever applies it.
TEST(RaftSafety, Figure8LeaderDoesNotCommitOldTermEntryByCounting) {
  // Without leases: figure 8 is about the commit rule, and its elections follow crashes at once.
  NetworkOptions o{.seed = 8, .check_quorum = false};
  o.max_size_per_msg = 1;  // one entry per message, so that we can hold back one entry
  Network net(o, five);
  ASSERT_TRUE(elect_until(net, "s1"));
  const Term t1 = net.status("s1").term;
  // (a) s1 replicates "A" (index 2, term t1) to s2 only.
  for (const char* x : {"s3", "s4", "s5"}) net.cut("s1", x);
  ASSERT_TRUE(net.propose("s1", "A").ok());
  net.stabilize();
  ASSERT_EQ(*net.peer("s2").storage->term(2), t1);
  ASSERT_EQ(net.status("s1").commit, 1u);
  // (b) s1 crashes; s5 wins with s3, s4 and appends its empty entry at index 2, which reaches
  // nobody.
  net.crash("s1");
  net.recover();
  net.set_filter([](Message& m) { return !(m.from == "s5" && m.type == MessageType::app); });
  ASSERT_TRUE(elect_until(net, "s5"));
  const Term t5 = net.status("s5").term;
  ASSERT_GT(t5, t1);
  ASSERT_EQ(*net.peer("s5").storage->term(2), t5);
  // (c) s5 crashes; s1 restarts and wins (s2, s3, s4). It replicates "A" to s3 - a majority holds
  // index 2 of term t1 - but its own empty entry (index 3) is held back.
  net.crash("s5");
  net.set_filter(nullptr);
  net.restart("s1");
  net.set_filter([](Message& m) {
    if (m.type != MessageType::app) return true;
    std::erase_if(m.entries, [](const Entry& e) { return e.index >= 3; });
    return true;
  });
  ASSERT_TRUE(elect_until(net, "s1"));
  const Term t_c = net.status("s1").term;
  ASSERT_GT(t_c, t5);
  net.run(3);
  ASSERT_EQ(net.status("s1").role, Role::leader);
  int holding_a = 0;
  for (const char* id : {"s1", "s2", "s3"}) {
    holding_a += net.peer(id).storage->term(2).ok() && *net.peer(id).storage->term(2) == t1;
  }
  ASSERT_EQ(holding_a, 3);  // a majority of five
  EXPECT_EQ(net.status("s1").commit, 1u) << "old-term entry committed by counting replicas";
  // (d) s1 crashes before its term's entry spreads; s5 returns and is elected by s2, s3, s4
  // (its last term t5 beats their t1), overwriting "A" everywhere. Safe, since "A" was never
  // committed; the invariants check that no committed entry is overwritten.
  net.crash("s1");
  net.set_filter(nullptr);
  net.restart("s5");
  ASSERT_TRUE(elect_until(net, "s5"));
  ASSERT_TRUE(net.propose("s5", "B").ok());
  net.restart("s1");
  net.run(5);
  for (const NodeId& id : five) {
    EXPECT_FALSE(net.applied(id, "A")) << id;
    EXPECT_TRUE(net.applied(id, "B")) << id;
    EXPECT_EQ(*net.peer(id).storage->term(2), t5) << id;
  }
}

// Figure 8 (e): once s1 replicates an entry of its own term to a majority, both commit, and s5 can
// no longer be elected.
TEST(RaftSafety, Figure8CurrentTermEntryCommitsThePrefix) {
  NetworkOptions o{.seed = 9, .check_quorum = false};
  Network net(o, five);
  ASSERT_TRUE(elect_until(net, "s1"));
  for (const char* x : {"s3", "s4", "s5"}) net.cut("s1", x);
  ASSERT_TRUE(net.propose("s1", "A").ok());
  net.stabilize();
  net.crash("s1");
  net.recover();
  net.set_filter([](Message& m) { return !(m.from == "s5" && m.type == MessageType::app); });
  ASSERT_TRUE(elect_until(net, "s5"));
  net.crash("s5");
  net.set_filter(nullptr);
  net.restart("s1");
  ASSERT_TRUE(elect_until(net, "s1"));
  net.stabilize();
  EXPECT_EQ(net.status("s1").commit, 3u);  // "A" at 2 with s1's empty entry at 3
  net.crash("s1");
  net.restart("s5");
  for (int k = 0; k < 3; ++k) net.elect("s5");
  EXPECT_NE(net.status("s5").role, Role::leader);
  const NodeId lead = net.wait_for_leader();
  ASSERT_FALSE(lead.empty());
  net.run(5);
  for (const char* id : {"s2", "s3", "s4", "s5"}) EXPECT_TRUE(net.applied(id, "A")) << id;
}

TEST(RaftSafety, MinorityPartitionCannotElectMajorityCanAndHealingConverges) {
  Network net(NetworkOptions{.seed = 11}, five);
  ASSERT_TRUE(elect_until(net, "s1"));
  ASSERT_TRUE(net.propose("s1", "before").ok());
  net.stabilize();
  partition(net, {"s1", "s2"}, {"s3", "s4", "s5"});
  // The old leader keeps proposing in the minority: nothing commits there.
  ASSERT_TRUE(net.propose("s1", "minority-1").ok());
  const LogIndex minority_commit = net.status("s1").commit;
  net.run(60);  // six election timeouts and more
  EXPECT_EQ(net.status("s1").commit, minority_commit);
  EXPECT_EQ(net.status("s2").commit, minority_commit);
  EXPECT_NE(net.status("s1").role, Role::leader);  // check_quorum: stepped down
  EXPECT_NE(net.status("s2").role, Role::leader);
  // The majority elected one of its own and commits.
  const NodeId lead = net.leader();
  ASSERT_TRUE(lead == "s3" || lead == "s4" || lead == "s5") << lead;
  ASSERT_TRUE(net.propose(lead, "majority-1").ok());
  net.stabilize();
  EXPECT_TRUE(net.applied("s4", "majority-1"));
  EXPECT_FALSE(net.applied("s1", "majority-1"));
  // Heal: one leader, one log.
  net.recover();
  net.run(20);
  const NodeId healed = net.leader();
  ASSERT_FALSE(healed.empty());
  for (const NodeId& id : five) {
    EXPECT_TRUE(net.applied(id, "majority-1")) << id;
    EXPECT_FALSE(net.applied(id, "minority-1")) << id;
    EXPECT_EQ(net.status(id).commit, net.status(healed).commit) << id;
    EXPECT_EQ(net.status(id).leader, healed) << id;
  }
}

TEST(RaftSafety, EvenSplitElectsNobody) {
  Network net(NetworkOptions{.seed = 12}, {"a", "b", "c", "d"});
  partition(net, {"a", "b"}, {"c", "d"});
  net.run(100);
  EXPECT_TRUE(net.leader().empty());
  net.recover();
  EXPECT_FALSE(net.wait_for_leader().empty());
}

TEST(RaftSafety, DeposedLeaderStepsDownAndItsUncommittedEntriesAreOverwritten) {
  // Without leases, so that "b" may be elected at once while "a" is cut off; pre_vote makes the
  // followers answer a stale leader's messages with their newer term.
  NetworkOptions o{.seed = 13, .check_quorum = false};
  Network net(o, {"a", "b", "c"});
  ASSERT_TRUE(elect_until(net, "a"));
  const Term old_term = net.status("a").term;
  net.isolate("a");
  // "a" is not ticked, so it still believes it leads; it accepts a proposal nobody will see.
  ASSERT_TRUE(net.propose("a", "stale").ok());
  ASSERT_EQ(net.status("a").role, Role::leader);
  for (int k = 0; k < 5 && net.status("b").role != Role::leader; ++k) {
    net.elect("b");
  }
  ASSERT_EQ(net.status("b").role, Role::leader);
  ASSERT_TRUE(net.propose("b", "fresh").ok());
  net.stabilize();
  const Term new_term = net.status("b").term;
  ASSERT_GT(new_term, old_term);
  // "a" comes back: its next message has a stale term; the answer carries the new term.
  net.recover();
  net.tick("a");  // a heartbeat from the stale leader
  net.stabilize();
  EXPECT_EQ(net.status("a").role, Role::follower);
  EXPECT_EQ(net.status("a").term, new_term);
  net.run(3);
  EXPECT_TRUE(net.applied("a", "fresh"));
  EXPECT_FALSE(net.applied("a", "stale"));
  EXPECT_EQ(net.status("a").leader, "b");
  EXPECT_EQ(net.status("a").commit, net.status("b").commit);
}

TEST(RaftSafety, CrashedFollowerRestartsFromPersistedStateOnly) {
  Network net(NetworkOptions{.seed = 14}, {"a", "b", "c"});
  ASSERT_TRUE(elect_until(net, "a"));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(net.propose("a", "x" + std::to_string(i)).ok());
  net.stabilize();
  const HardState before = net.peer("c").storage->hard_state();
  net.crash("c");
  for (int i = 5; i < 10; ++i) ASSERT_TRUE(net.propose("a", "x" + std::to_string(i)).ok());
  net.stabilize();
  net.restart("c");
  EXPECT_EQ(net.status("c").term, before.term);
  EXPECT_EQ(net.peer("c").applied_data.size(), 5u);  // re-applied from its own log
  net.run(3);
  EXPECT_EQ(net.peer("c").applied_data.size(), 10u);
  EXPECT_EQ(net.peer("c").digest, net.peer("a").digest);
}

}  // namespace
}  // namespace umupaka::raft::testing

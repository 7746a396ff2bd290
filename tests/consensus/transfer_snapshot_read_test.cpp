// Leader transfer, snapshot install for a follower behind the compacted log, and linearizable
// reads with ReadIndex.
#include <gtest/gtest.h>

#include "tests/consensus/network.hpp"

namespace umupaka::raft::testing {
namespace {

const std::vector<NodeId> three = {"airport", "dr-site", "hq"};

bool elect_until(Network& net, const NodeId& id, int attempts = 5) {
  for (int k = 0; k < attempts; ++k) {
    net.elect(id);
    if (net.status(id).role == Role::leader) return true;
  }
  return false;
}

bool has_read(Network& net, const NodeId& id, const std::string& context, LogIndex* index) {
  for (const ReadState& rs : net.peer(id).reads) {
    if (rs.context == context) {
      if (index) *index = rs.index;
      return true;
    }
  }
  return false;
}

// --- Leader transfer -------------------------------------------------------------------------

TEST(RaftTransfer, LeaderHandsOverToAnUpToDateVoter) {
  Network net(NetworkOptions{.seed = 41}, three);
  ASSERT_TRUE(elect_until(net, "hq"));
  const Term term = net.status("hq").term;
  ASSERT_TRUE(net.transfer_leadership("hq", "airport").ok());
  net.stabilize();
  EXPECT_EQ(net.leader(), "airport");
  EXPECT_EQ(net.status("airport").term, term + 1);
  EXPECT_EQ(net.status("hq").leader, "airport");
}

TEST(RaftTransfer, RequestOnAFollowerIsForwarded) {
  Network net(NetworkOptions{.seed = 42}, three);
  ASSERT_TRUE(elect_until(net, "hq"));
  ASSERT_TRUE(net.transfer_leadership("dr-site", "dr-site").ok());
  net.stabilize();
  EXPECT_EQ(net.leader(), "dr-site");
}

TEST(RaftTransfer, LaggingTransfereeCatchesUpFirstAndProposalsWaitMeanwhile) {
  Network net(NetworkOptions{.seed = 43}, three);
  ASSERT_TRUE(elect_until(net, "hq"));
  net.isolate("airport");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(net.propose("hq", "x" + std::to_string(i)).ok());
  net.stabilize();
  net.recover();
  const LogIndex leader_last = net.status("hq").last_index;
  ASSERT_LT(net.status("airport").last_index, leader_last);
  // timeout_now leaves only once the transferee holds the leader's whole log.
  int timeout_nows = 0;
  net.set_filter([&](Message& m) {
    if (m.type == MessageType::timeout_now) {
      ++timeout_nows;
      EXPECT_EQ(net.status("airport").last_index, leader_last) << "timeout_now sent too early";
    }
    return true;
  });
  ASSERT_TRUE(net.transfer_leadership("hq", "airport").ok());
  EXPECT_EQ(net.status("hq").lead_transferee, "airport");
  EXPECT_EQ(net.propose("hq", "during-transfer").code(), Errc::proposal_dropped);
  net.run(5);  // heartbeats resume the follower's probing, then timeout_now
  net.set_filter(nullptr);
  EXPECT_EQ(timeout_nows, 1);
  EXPECT_EQ(net.leader(), "airport");
  EXPECT_TRUE(net.applied("airport", "x4"));
}

TEST(RaftTransfer, UnreachableTransfereeIsAbandonedAfterAnElectionTimeout) {
  Network net(NetworkOptions{.seed = 44}, three);
  ASSERT_TRUE(elect_until(net, "hq"));
  net.isolate("airport");
  ASSERT_TRUE(net.propose("hq", "behind").ok());
  net.stabilize();
  ASSERT_TRUE(net.transfer_leadership("hq", "airport").ok());
  for (int t = 0; t < 10; ++t) net.tick("hq");
  net.stabilize();
  EXPECT_EQ(net.status("hq").role, Role::leader);
  EXPECT_EQ(net.status("hq").lead_transferee, "");
  EXPECT_TRUE(net.propose("hq", "after-abort").ok());
}

TEST(RaftTransfer, TransferToALearnerIsIgnored) {
  Network net(NetworkOptions{.seed = 45}, three, {"gatuna"});
  ASSERT_TRUE(elect_until(net, "hq"));
  ASSERT_TRUE(net.transfer_leadership("hq", "gatuna").ok());
  net.stabilize();
  EXPECT_EQ(net.leader(), "hq");
  EXPECT_EQ(net.status("hq").lead_transferee, "");
}

// --- Snapshots -------------------------------------------------------------------------------

TEST(RaftSnapshot, FollowerBehindTheCompactedLogInstallsASnapshot) {
  NetworkOptions o{.seed = 46};
  o.snapshot_every_entries = 10;
  o.compact_keep_entries = 2;
  Network net(o, three);
  ASSERT_TRUE(elect_until(net, "hq"));
  ASSERT_TRUE(net.propose("hq", "early").ok());
  net.stabilize();
  net.crash("airport");
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(net.propose("hq", "x" + std::to_string(i)).ok());
  net.stabilize();
  ASSERT_GT(net.peer("hq").storage->first_index(), net.peer("airport").storage->last_index() + 1);
  net.restart("airport");
  bool saw_snapshot_state = false;
  net.set_filter([&](Message& m) {
    saw_snapshot_state = saw_snapshot_state || m.type == MessageType::snap;
    return true;
  });
  net.run(5);
  EXPECT_TRUE(saw_snapshot_state);
  EXPECT_EQ(net.peer("airport").snapshots_installed, 1u);
  EXPECT_EQ(net.status("airport").commit, net.status("hq").commit);
  EXPECT_EQ(net.peer("airport").digest, net.peer("hq").digest);  // same state machine
  // Replication goes on normally after the snapshot.
  ASSERT_TRUE(net.propose("hq", "after-snapshot").ok());
  net.stabilize();
  EXPECT_TRUE(net.applied("airport", "after-snapshot"));
  for (const ProgressStatus& pr : net.status("hq").progress) {
    EXPECT_EQ(pr.state, ProgressState::replicate) << pr.id;
  }
}

// Snapshots a follower must not install (a duplicate or delayed one at or below its commit, one
// from before it was a member) change nothing; one whose last entry it already holds only tells
// it that the entry is committed.
TEST(RaftSnapshot, StaleForeignOrAlreadyHeldSnapshotsAreNotInstalled) {
  Network net(NetworkOptions{.seed = 64}, three);
  ASSERT_TRUE(elect_until(net, "hq"));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(net.propose("hq", "e" + std::to_string(i)).ok());
  net.stabilize();
  net.run(2);
  const RaftStatus hq = net.status("hq");
  const auto snap_msg = [&](LogIndex index, Term term, ConfState cs) {
    Message m;
    m.type = MessageType::snap;
    m.from = "hq";
    m.to = "airport";
    m.term = hq.term;
    Snapshot snap;
    snap.meta.index = index;
    snap.meta.term = term;
    snap.meta.conf_state = std::move(cs);
    snap.data = "0";
    m.snapshot = snap;
    return m;
  };
  const ConfState members{three, {}};
  const LogIndex commit = net.status("airport").commit;
  ASSERT_EQ(commit, hq.commit);
  // At or below the commit index, whatever its term (one that differs from the log's would
  // otherwise replace committed entries).
  net.inject(snap_msg(commit, hq.term, members));
  net.inject(snap_msg(commit - 2, hq.term, members));
  net.inject(snap_msg(commit - 1, hq.term + 1, members));
  // From a configuration without this node.
  net.inject(snap_msg(commit + 5, hq.term, ConfState{{"dr-site", "hq"}, {}}));
  EXPECT_EQ(net.peer("airport").snapshots_installed, 0u);
  EXPECT_EQ(net.status("airport").commit, commit);
  EXPECT_EQ(net.status("airport").last_index, commit);
  EXPECT_EQ(net.peer("airport").applied_data.size(), 5u);

  // Entries held but not known committed: the answers to the leader are lost.
  net.set_filter([](Message& m) { return m.type != MessageType::app_resp; });
  ASSERT_TRUE(net.propose("hq", "held-1").ok());
  ASSERT_TRUE(net.propose("hq", "held-2").ok());
  net.stabilize();
  const LogIndex last = net.status("airport").last_index;
  ASSERT_EQ(last, commit + 2);
  ASSERT_EQ(net.status("airport").commit, commit);
  net.inject(snap_msg(last, hq.term, members));
  EXPECT_EQ(net.peer("airport").snapshots_installed, 0u);
  EXPECT_EQ(net.status("airport").commit, last);
  EXPECT_EQ(net.status("airport").last_index, last);
  EXPECT_TRUE(net.applied("airport", "held-2"));  // applied from its own log
  net.set_filter(nullptr);
  net.run(3);
}

TEST(RaftSnapshot, LostSnapshotIsRetried) {
  NetworkOptions o{.seed = 47};
  o.snapshot_every_entries = 5;
  Network net(o, three);
  ASSERT_TRUE(elect_until(net, "hq"));
  net.crash("airport");
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(net.propose("hq", "x" + std::to_string(i)).ok());
  net.stabilize();
  net.restart("airport");
  int snaps_dropped = 0;
  net.set_filter([&](Message& m) {
    if (m.type == MessageType::snap && snaps_dropped == 0) {
      ++snaps_dropped;
      return false;  // the transport reports the failure
    }
    return true;
  });
  net.run(10);
  EXPECT_EQ(snaps_dropped, 1);
  EXPECT_EQ(net.peer("airport").snapshots_installed, 1u);
  EXPECT_EQ(net.peer("airport").digest, net.peer("hq").digest);
}

TEST(RaftSnapshot, NewNodeJoinsFromASnapshot) {
  NetworkOptions o{.seed = 48};
  o.snapshot_every_entries = 5;
  Network net(o, three);
  ASSERT_TRUE(elect_until(net, "hq"));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(net.propose("hq", "x" + std::to_string(i)).ok());
  net.stabilize();
  net.add_node("gatuna");
  ASSERT_TRUE(
      net.propose_conf_change("hq", ConfChange{ConfChangeType::add_learner, "gatuna", ""}).ok());
  net.stabilize();
  // The leader's snapshot predates the change until it takes a new one.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(net.propose("hq", "y" + std::to_string(i)).ok());
  net.run(10);
  EXPECT_GE(net.peer("gatuna").snapshots_installed, 1u);
  EXPECT_EQ(net.peer("gatuna").digest, net.peer("hq").digest);
  EXPECT_TRUE(net.status("gatuna").conf_state.is_learner("gatuna"));
}

// --- ReadIndex -------------------------------------------------------------------------------

TEST(RaftReadIndex, LeaderAnswersOnlyAfterAHeartbeatRoundConfirmsIt) {
  Network net(NetworkOptions{.seed = 51}, three);
  ASSERT_TRUE(elect_until(net, "hq"));
  ASSERT_TRUE(net.propose("hq", "w1").ok());
  net.stabilize();
  ASSERT_TRUE(net.read_index("hq", "read-1").ok());
  EXPECT_FALSE(has_read(net, "hq", "read-1", nullptr));  // not before the round
  net.stabilize();
  LogIndex index = 0;
  ASSERT_TRUE(has_read(net, "hq", "read-1", &index));
  EXPECT_EQ(index, net.status("hq").commit);
  EXPECT_LE(index, net.peer("hq").applied);
}

TEST(RaftReadIndex, FollowerReadIsServedByTheLeader) {
  Network net(NetworkOptions{.seed = 52}, three, {"gatuna"});
  ASSERT_TRUE(elect_until(net, "hq"));
  ASSERT_TRUE(net.propose("hq", "w1").ok());
  net.stabilize();
  ASSERT_TRUE(net.read_index("gatuna", "learner-read").ok());
  ASSERT_TRUE(net.read_index("airport", "follower-read").ok());
  net.stabilize();
  LogIndex index = 0;
  ASSERT_TRUE(has_read(net, "gatuna", "learner-read", &index));
  EXPECT_EQ(index, net.status("hq").commit);
  ASSERT_TRUE(has_read(net, "airport", "follower-read", &index));
  EXPECT_EQ(index, net.status("hq").commit);
  EXPECT_FALSE(has_read(net, "hq", "follower-read", nullptr));
}

TEST(RaftReadIndex, DeposedLeaderNeverAnswers) {
  Network net(NetworkOptions{.seed = 53, .check_quorum = false}, three);
  ASSERT_TRUE(elect_until(net, "hq"));
  net.isolate("hq");
  ASSERT_TRUE(net.read_index("hq", "stale-read").ok());  // it still believes it leads
  ASSERT_TRUE(elect_until(net, "airport"));
  ASSERT_TRUE(net.propose("airport", "newer-write").ok());
  net.stabilize();
  net.run(5);
  EXPECT_FALSE(has_read(net, "hq", "stale-read", nullptr));
  net.recover();
  net.run(10);  // "hq" learns it was deposed; the pending read is dropped, never answered
  EXPECT_EQ(net.status("hq").leader, "airport");
  EXPECT_FALSE(has_read(net, "hq", "stale-read", nullptr));
  // Not even once it leads again, when heartbeat replies would confirm a read still pending at
  // its old commit index, below "newer-write" (fails if reset() keeps pending reads).
  ASSERT_TRUE(net.transfer_leadership("airport", "hq").ok());
  net.stabilize();
  ASSERT_EQ(net.leader(), "hq") << net.describe();
  net.run(5);
  EXPECT_FALSE(has_read(net, "hq", "stale-read", nullptr));
}

TEST(RaftReadIndex, NewLeaderWaitsForAnEntryOfItsTerm) {
  Network net(NetworkOptions{.seed = 54}, three);
  // Hold back the append responses: the new leader's empty entry does not commit.
  net.set_filter([](Message& m) { return m.type != MessageType::app_resp; });
  ASSERT_TRUE(elect_until(net, "hq"));
  ASSERT_EQ(net.status("hq").commit, 0u);
  ASSERT_TRUE(net.read_index("hq", "early-read").ok());
  net.run(3);
  EXPECT_FALSE(has_read(net, "hq", "early-read", nullptr));
  net.set_filter(nullptr);
  net.run(3);
  LogIndex index = 0;
  ASSERT_TRUE(has_read(net, "hq", "early-read", &index));
  EXPECT_GE(index, 1u);
}

// A read waits for a voter that goes quiet (its heartbeat responses lost; its append responses
// still come, so its own removal commits). Once the removal leaves the leader the only voter, the
// leader alone is the quorum: the read is answered then, not left pending until it is deposed.
TEST(RaftReadIndex, AReadPendingWhenAVoterIsRemovedIsAnsweredByTheSmallerQuorum) {
  Network net(NetworkOptions{.seed = 56}, {"airport", "hq"});
  ASSERT_TRUE(elect_until(net, "hq"));
  ASSERT_TRUE(net.propose("hq", "w1").ok());
  net.stabilize();
  net.set_filter([](Message& m) { return m.type != MessageType::heartbeat_resp; });
  ASSERT_TRUE(net.read_index("hq", "read-before-removal").ok());
  net.run(5);
  ASSERT_FALSE(has_read(net, "hq", "read-before-removal", nullptr));
  ASSERT_TRUE(
      net.propose_conf_change("hq", ConfChange{ConfChangeType::remove_node, "airport", ""}).ok());
  net.run(10);
  ASSERT_EQ(net.status("hq").conf_state.voters, std::vector<NodeId>{"hq"}) << net.describe();
  EXPECT_EQ(net.status("hq").role, Role::leader);
  LogIndex index = 0;
  EXPECT_TRUE(has_read(net, "hq", "read-before-removal", &index)) << net.describe();
  EXPECT_GE(index, 2u);  // the commit index when the read arrived: w1 at least
}

TEST(RaftReadIndex, SingleVoterAnswersAtOnce) {
  Network net(NetworkOptions{.seed = 55}, {"hq"});
  ASSERT_TRUE(elect_until(net, "hq"));
  ASSERT_TRUE(net.read_index("hq", "solo").ok());
  EXPECT_TRUE(has_read(net, "hq", "solo", nullptr));
}

}  // namespace
}  // namespace umupaka::raft::testing

// PreVote, CheckQuorum with leader lease, and learners (which never vote nor count for quorum).
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

// A node cut off for many election timeouts comes back: with pre_vote it never raised its term,
// so the leader keeps leading in the same term.
TEST(RaftPreVote, RejoiningPartitionedNodeDoesNotDisruptTheCluster) {
  Network net(NetworkOptions{.seed = 21, .pre_vote = true, .check_quorum = false}, three);
  ASSERT_TRUE(elect_until(net, "hq"));
  const Term term = net.status("hq").term;
  net.isolate("airport");
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(net.propose("hq", "while-away-" + std::to_string(i)).ok());
  net.run(100);  // "airport" pre-campaigns again and again
  EXPECT_EQ(net.status("airport").term, term);
  EXPECT_NE(net.status("airport").role, Role::leader);
  net.recover();
  net.run(30);
  EXPECT_EQ(net.status("hq").role, Role::leader);
  EXPECT_EQ(net.status("hq").term, term);
  EXPECT_EQ(net.status("airport").term, term);
  EXPECT_EQ(net.status("airport").leader, "hq");
  EXPECT_TRUE(net.applied("airport", "while-away-2"));
}

// The same without pre_vote: the rejoining node's inflated term deposes the leader. This is the
// disruption pre_vote prevents.
TEST(RaftPreVote, WithoutPreVoteTheRejoiningNodeBumpsTheTerm) {
  Network net(NetworkOptions{.seed = 21, .pre_vote = false, .check_quorum = false}, three);
  ASSERT_TRUE(elect_until(net, "hq"));
  const Term term = net.status("hq").term;
  net.isolate("airport");
  net.run(100);
  EXPECT_GT(net.status("airport").term, term + 3);
  net.recover();
  net.run(30);
  EXPECT_GT(net.status("hq").term, term);  // the cluster had to move to a new term
}

TEST(RaftPreVote, PreVoteDoesNotChangeVotersTermOrVote) {
  Network net(NetworkOptions{.seed = 22, .pre_vote = true, .check_quorum = false}, three);
  net.campaign("hq");
  // The two pre-vote requests delivered (FIFO wire) and granted; the grants are in flight.
  ASSERT_EQ(net.in_flight(), 2u);
  ASSERT_TRUE(net.deliver_one());
  ASSERT_TRUE(net.deliver_one());
  ASSERT_EQ(net.in_flight(), 2u);
  for (const NodeId& id : three) {
    EXPECT_EQ(net.status(id).term, 0u) << id;
    EXPECT_EQ(net.status(id).vote, "") << id;
  }
  net.stabilize();
  EXPECT_EQ(net.status("hq").role, Role::leader);
  EXPECT_EQ(net.status("hq").term, 1u);
}

TEST(RaftCheckQuorum, LeaderInMinorityStepsDown) {
  Network net(NetworkOptions{.seed = 23, .check_quorum = true}, three);
  ASSERT_TRUE(elect_until(net, "hq"));
  net.isolate("hq");
  // Within an election timeout (10 ticks) plus one, the leader notices it heard from nobody.
  for (int t = 0; t < 2 * 10 + 1; ++t) net.tick("hq");
  EXPECT_EQ(net.status("hq").role, Role::follower);
  EXPECT_EQ(net.status("hq").leader, "");
}

TEST(RaftCheckQuorum, LeaderHearingFromAQuorumStaysLeader) {
  Network net(NetworkOptions{.seed = 24, .check_quorum = true}, {"a", "b", "c", "d", "e"});
  ASSERT_TRUE(elect_until(net, "a"));
  net.isolate("d");
  net.isolate("e");
  net.run(50);
  EXPECT_EQ(net.status("a").role, Role::leader);
}

// Leader lease: a follower that hears from a live leader ignores a vote request, even one with a
// higher term, from a node that would otherwise disrupt the cluster.
TEST(RaftCheckQuorum, FollowersIgnoreVotesWhileTheLeaderIsAlive) {
  Network net(NetworkOptions{.seed = 25, .pre_vote = false, .check_quorum = true}, three);
  ASSERT_TRUE(elect_until(net, "hq"));
  const Term term = net.status("hq").term;
  net.campaign("airport");  // a vote request with term + 1
  net.stabilize();
  EXPECT_EQ(net.status("dr-site").term, term);  // ignored entirely
  EXPECT_EQ(net.status("dr-site").vote, "hq");
  EXPECT_NE(net.status("airport").role, Role::leader);
  net.run(30);
  EXPECT_FALSE(net.leader().empty());
}

// Three voters and five learners: with two voters down, the learners' acknowledgements do not
// make a quorum, and no learner ever campaigns or votes.
TEST(RaftLearners, LearnersNeverCountForQuorumNorVote) {
  const std::vector<NodeId> learners = {"embassy-kampala", "embassy-nairobi", "gatuna", "kagitumba",
                                        "rubavu"};
  Network net(NetworkOptions{.seed = 26}, three, learners);
  ASSERT_TRUE(elect_until(net, "hq"));
  ASSERT_TRUE(net.propose("hq", "first").ok());
  net.stabilize();
  for (const NodeId& id : learners) {
    EXPECT_TRUE(net.applied(id, "first")) << id;
    EXPECT_TRUE(net.status(id).conf_state.is_learner(id)) << id;
  }
  net.crash("airport");
  net.crash("dr-site");
  const LogIndex commit = net.status("hq").commit;
  ASSERT_TRUE(net.propose("hq", "no-quorum").ok());
  net.run(8);  // less than an election timeout: "hq" is still leader
  EXPECT_EQ(net.status("hq").commit, commit);
  for (const NodeId& id : learners) {
    EXPECT_EQ(net.status(id).last_index, commit + 1) << id;  // replicated to every learner
    EXPECT_FALSE(net.applied(id, "no-quorum")) << id;
  }
  net.run(100);  // the leader steps down (check_quorum); learners never campaign
  EXPECT_TRUE(net.leader().empty());
  for (const NodeId& id : learners) {
    EXPECT_EQ(net.status(id).role, Role::follower) << id;
    EXPECT_EQ(net.status(id).vote, "") << id;
  }
  net.restart("airport");
  ASSERT_FALSE(net.wait_for_leader().empty());
  net.run(5);
  EXPECT_TRUE(net.applied("gatuna", "no-quorum"));
}

// Learners hear heartbeats at their own, slower beat; voters at every heartbeat_tick. A commit
// still reaches a learner at once, in the append the leader sends when its commit moves.
TEST(RaftLearners, LearnersGetHeartbeatsAtTheirOwnBeatAndCommitsAtOnce) {
  const std::vector<NodeId> learners = {"gatuna", "rubavu"};
  Network net(NetworkOptions{.seed = 28, .learner_heartbeat_tick = 5}, three, learners);
  ASSERT_TRUE(elect_until(net, "hq"));
  net.stabilize();
  std::map<NodeId, int> beats;
  net.set_filter([&](Message& m) {
    if (m.type == MessageType::heartbeat) ++beats[m.to];
    return true;
  });
  for (int t = 0; t < 20; ++t) {
    net.tick("hq");
    net.stabilize();
  }
  EXPECT_EQ(beats["airport"], 20);
  EXPECT_EQ(beats["dr-site"], 20);
  for (const NodeId& id : learners) EXPECT_EQ(beats[id], 4) << id;
  ASSERT_TRUE(net.propose("hq", "between-beats").ok());
  net.stabilize();  // no tick: no heartbeat
  for (const NodeId& id : learners) EXPECT_TRUE(net.applied(id, "between-beats")) << id;
  net.set_filter(nullptr);
}

// A learner the leader is still probing (here: a new leader whose probes are lost) gets every
// beat: the heartbeat's answer is what lets a paused probe go on.
TEST(RaftLearners, ALearnerBeingProbedGetsEveryBeat) {
  const std::vector<NodeId> learners = {"gatuna", "rubavu"};
  Network net(NetworkOptions{.seed = 29, .learner_heartbeat_tick = 5}, three, learners);
  ASSERT_TRUE(elect_until(net, "hq"));
  net.stabilize();
  ASSERT_TRUE(net.transfer_leadership("hq", "airport").ok());
  std::map<NodeId, int> beats;
  net.set_filter([&](Message& m) {
    const bool to_learner = m.to == "gatuna" || m.to == "rubavu";
    if (m.from == "airport" && to_learner && m.type == MessageType::heartbeat) ++beats[m.to];
    return !(to_learner && m.type == MessageType::app);  // the probes never arrive
  });
  net.stabilize();
  ASSERT_EQ(net.leader(), "airport");
  beats.clear();
  for (int t = 0; t < 10; ++t) {
    net.tick("airport");
    net.stabilize();
  }
  for (const NodeId& id : learners) EXPECT_EQ(beats[id], 10) << id;
  net.set_filter(nullptr);
  net.run(3);
  ASSERT_TRUE(net.propose("airport", "after-transfer").ok());
  net.stabilize();
  for (const NodeId& id : learners) EXPECT_TRUE(net.applied(id, "after-transfer")) << id;
}

// A learner whose store went back (put back from a backup) holds less than it acknowledged. The
// leader never tells it to commit past what it acknowledged, so its heartbeat reply says what it
// holds, and the leader sends the entries again (it ignored every rejection before, as stale:
// the learner stayed behind for good; etcd panics here).
TEST(RaftLearners, ALearnerThatLostAcknowledgedEntriesIsSentThemAgain) {
  Network net(NetworkOptions{.seed = 31}, three, {"gatuna"});
  ASSERT_TRUE(elect_until(net, "hq"));
  net.stabilize();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(net.propose("hq", "before-" + std::to_string(i)).ok());
  net.stabilize();
  const MemoryStorage backup = *net.peer("gatuna").storage;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(net.propose("hq", "after-" + std::to_string(i)).ok());
  net.stabilize();
  ASSERT_GT(net.peer("gatuna").storage->last_index(), backup.last_index());
  net.crash("gatuna");
  net.restore("gatuna", backup);
  net.restart("gatuna");
  for (int t = 0; t < 5; ++t) {
    net.tick("hq");
    net.stabilize();
  }
  ASSERT_TRUE(net.propose("hq", "after-restore").ok());
  net.stabilize();
  EXPECT_EQ(net.peer("gatuna").storage->last_index(), net.peer("hq").storage->last_index());
  EXPECT_TRUE(net.applied("gatuna", "after-4"));
  EXPECT_TRUE(net.applied("gatuna", "after-restore"));
}

// hq leads, cut off from the other voters but not from the learner gatuna: six entries reach
// gatuna and no voter ("doomed-0".."doomed-5"). gatuna's store then is the backup. airport is
// elected, hq cut off from everyone, and commits `winners` entries ("winner-0"..), which gatuna
// takes over the doomed ones. Then gatuna's store is put back to the backup and it restarts.
void restore_a_learner_holding_a_deposed_leaders_entries(Network& net, int winners,
                                                         MemoryStorage& backup) {
  ASSERT_TRUE(elect_until(net, "hq"));
  ASSERT_TRUE(net.propose("hq", "first").ok());
  net.stabilize();
  net.cut("hq", "airport");
  net.cut("hq", "dr-site");
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(net.propose("hq", "doomed-" + std::to_string(i)).ok());
  net.stabilize();
  backup = *net.peer("gatuna").storage;
  ASSERT_GT(backup.last_index(), net.peer("airport").storage->last_index() + 4);
  net.isolate("hq");
  ASSERT_TRUE(elect_until(net, "airport"));
  for (int i = 0; i < winners; ++i)
    ASSERT_TRUE(net.propose("airport", "winner-" + std::to_string(i)).ok());
  net.stabilize();
  ASSERT_TRUE(net.applied("gatuna", "winner-" + std::to_string(winners - 1)));
  net.crash("gatuna");
  net.restore("gatuna", backup);
  net.restart("gatuna");
}

// `beats` heartbeat rounds of `leader`, each delivered in full.
void beat(Network& net, const NodeId& leader, int beats) {
  for (int t = 0; t < beats; ++t) {
    net.tick(leader);
    net.stabilize();
  }
}

bool applied_any_doomed(Network& net, const NodeId& id) {
  for (int i = 0; i < 6; ++i)
    if (net.applied(id, "doomed-" + std::to_string(i))) return true;
  return false;
}

// After the restore: the leader's next entry reaches the learner, which applied none of the
// deposed leader's.
void expect_the_learner_follows_again(Network& net) {
  ASSERT_TRUE(net.propose("airport", "after-restore").ok());
  net.stabilize();
  EXPECT_TRUE(net.ok()) << net.describe();
  EXPECT_FALSE(applied_any_doomed(net, "gatuna"));
  EXPECT_TRUE(net.applied("gatuna", "after-restore"));
}

// A learner's store put back from a backup that holds entries of a deposed leader, never
// committed, where the cluster has since committed others (which the learner had acknowledged).
// The leader's heartbeat names the term of the entry it says is committed; the learner, holding
// another there, commits nothing of its own, says so, and the leader overwrites its log (it
// committed and applied the deposed leader's entry before: a ledger unlike every other).
TEST(RaftLearners, ALearnerRestoredWithADeposedLeadersEntriesNeverCommitsThem) {
  Network net(NetworkOptions{.seed = 32, .check_quorum = false}, three, {"gatuna"});
  MemoryStorage backup;
  // Two winners: the backup's log reaches past them (the heartbeat's commit is within it).
  ASSERT_NO_FATAL_FAILURE(restore_a_learner_holding_a_deposed_leaders_entries(net, 2, backup));
  ASSERT_LT(net.peer("airport").storage->last_index(), backup.last_index());
  beat(net, "airport", 5);
  ASSERT_NO_FATAL_FAILURE(expect_the_learner_follows_again(net));
  EXPECT_TRUE(net.applied("gatuna", "winner-1"));
  EXPECT_EQ(net.peer("gatuna").storage->last_index(), net.peer("airport").storage->last_index());
}

// The same, with the leader's log compacted past the deposed leader's entries, and its snapshots
// lost on the way for a while: the heartbeats it sends meanwhile name no term for an index it no
// longer holds, so they commit nothing (they carried commit = the learner's old match, and the
// learner committed the deposed leader's entry there).
TEST(RaftLearners, ALearnerRestoredBehindACompactedLeaderCommitsNothingUntilTheSnapshot) {
  Network net(NetworkOptions{.seed = 33,
                             .check_quorum = false,
                             .snapshot_every_entries = 4,
                             .compact_keep_entries = 0},
              three, {"gatuna"});
  MemoryStorage backup;
  ASSERT_NO_FATAL_FAILURE(restore_a_learner_holding_a_deposed_leaders_entries(net, 12, backup));
  ASSERT_GT(net.peer("airport").storage->first_index(), backup.last_index() + 1)
      << "the leader must have compacted past the doomed entries";
  net.set_filter([](Message& m) { return m.type != MessageType::snap; });
  beat(net, "airport", 10);
  EXPECT_TRUE(net.ok()) << net.describe();
  EXPECT_EQ(net.status("gatuna").commit, backup.hard_state().commit);
  EXPECT_FALSE(applied_any_doomed(net, "gatuna"));
  net.set_filter(nullptr);
  beat(net, "airport", 5);
  ASSERT_NO_FATAL_FAILURE(expect_the_learner_follows_again(net));
  EXPECT_EQ(net.status("gatuna").commit, net.status("airport").commit);
}

// Learners' grants never count, even when they arrive (forged, or from a learner that believes
// it is a voter): a candidate among three voters with two down is not elected by five learners'
// votes, nor passes its pre-vote with them; and a read the leader must confirm is not confirmed
// by learners' heartbeat replies alone.
TEST(RaftLearners, LearnersGrantsAndAcksDoNotMakeAQuorum) {
  const std::vector<NodeId> learners = {"embassy-kampala", "embassy-nairobi", "gatuna", "kagitumba",
                                        "rubavu"};
  for (const bool pre_vote : {false, true}) {
    SCOPED_TRACE(pre_vote ? "pre_vote" : "vote");
    Network net(NetworkOptions{.seed = 30, .pre_vote = pre_vote, .check_quorum = true}, three,
                learners);
    ASSERT_TRUE(elect_until(net, "hq"));
    net.stabilize();
    net.crash("airport");
    net.crash("dr-site");
    net.run(40);  // the leader steps down (check_quorum): nobody leads
    ASSERT_TRUE(net.leader().empty()) << net.describe();
    net.campaign("hq");
    const RaftStatus st = net.status("hq");
    const Term term = pre_vote ? st.term + 1 : st.term;  // a pre-vote asks for the next term
    for (const NodeId& l : learners) {
      Message grant;
      grant.type = pre_vote ? MessageType::pre_vote_resp : MessageType::vote_resp;
      grant.from = l;
      grant.to = "hq";
      grant.term = term;
      net.inject(grant);
    }
    EXPECT_NE(net.status("hq").role, Role::leader) << net.describe();
    if (pre_vote) {
      EXPECT_EQ(net.status("hq").term, st.term) << "became a candidate";
    }
  }

  Network net(NetworkOptions{.seed = 31}, three, learners);
  ASSERT_TRUE(elect_until(net, "hq"));
  ASSERT_TRUE(net.propose("hq", "x").ok());
  net.stabilize();
  // The voters' heartbeat replies are lost; the learners' arrive.
  net.set_filter([](Message& m) {
    return !(m.type == MessageType::heartbeat_resp && (m.from == "airport" || m.from == "dr-site"));
  });
  ASSERT_TRUE(net.read_index("hq", "learners-only").ok());
  net.stabilize();
  for (int t = 0; t < 3; ++t) {
    net.tick("hq");
    net.stabilize();
  }
  for (const ReadState& rs : net.peer("hq").reads) EXPECT_NE(rs.context, "learners-only");
  net.set_filter(nullptr);
  net.tick("hq");
  net.stabilize();
  bool answered = false;
  for (const ReadState& rs : net.peer("hq").reads) answered |= rs.context == "learners-only";
  EXPECT_TRUE(answered) << net.describe();
}

TEST(RaftLearners, LearnerCampaignIsIgnored) {
  Network net(NetworkOptions{.seed = 27}, three, {"gatuna"});
  net.campaign("gatuna");
  net.stabilize();
  EXPECT_EQ(net.status("gatuna").role, Role::follower);
  EXPECT_EQ(net.status("gatuna").term, 0u);
  EXPECT_EQ(net.in_flight(), 0u);
}

}  // namespace
}  // namespace umupaka::raft::testing

// Membership changes one node at a time, under failures: adding a voter, promoting a learner,
// removing the leader, demoting a voter; the one-pending-change rule.
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

// Proposes `cc` at the current leader and runs until every live member applied it.
void change(Network& net, const ConfChange& cc) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    const NodeId lead = net.wait_for_leader();
    ASSERT_FALSE(lead.empty());
    const Status s = net.propose_conf_change(lead, cc);
    if (s.ok()) {
      net.run(10);
      return;
    }
    ASSERT_TRUE(s.code() == Errc::conf_change_pending || s.code() == Errc::no_leader)
        << errc_name(s.code()) << " " << s.error().message;
    net.run(3);
  }
  FAIL() << "could not propose the change";
}

TEST(RaftMembership, AddVoterUnderMessageLoss) {
  Network net(NetworkOptions{.seed = 31, .delay_steps_max = 2}, three);
  ASSERT_TRUE(elect_until(net, "hq"));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(net.propose("hq", "x" + std::to_string(i)).ok());
  net.stabilize();
  net.add_node("kigali-airport-2");
  for (const NodeId& id : three) net.drop(id, "kigali-airport-2", 0.3);
  change(net, ConfChange{ConfChangeType::add_voter, "kigali-airport-2", ""});
  net.recover();
  net.run(10);
  for (const NodeId& id : three) {
    EXPECT_TRUE(net.status(id).conf_state.is_voter("kigali-airport-2")) << id;
  }
  EXPECT_TRUE(net.status("kigali-airport-2").conf_state.is_voter("kigali-airport-2"));
  EXPECT_TRUE(net.applied("kigali-airport-2", "x4"));
  // Four voters: a quorum is three. Two crashed old voters leave two: nothing commits; one is
  // enough to lose.
  net.crash("airport");
  const NodeId lead = net.wait_for_leader();
  ASSERT_FALSE(lead.empty());
  ASSERT_TRUE(net.propose(lead, "with-new-voter").ok());
  net.run(5);
  EXPECT_TRUE(net.applied("kigali-airport-2", "with-new-voter"));
  net.crash(lead == "dr-site" ? "hq" : "dr-site");
  // The leader survived (only a follower crashed) and leads for less than an election timeout.
  const NodeId lead2 = net.leader();
  ASSERT_EQ(lead2, lead);
  const LogIndex commit = net.status(lead2).commit;
  ASSERT_TRUE(net.propose(lead2, "no-quorum").ok());
  net.run(5);
  EXPECT_EQ(net.status(lead2).commit, commit);
  EXPECT_FALSE(net.applied("kigali-airport-2", "no-quorum"));
}

// The leader fails with a conf change in its log that reached one follower only, unacknowledged.
// That follower wins (its log is longer); the change is still pending in its log, so a second
// change is refused until the first commits under the new leader; then both apply everywhere,
// one at a time, and the old leader rejoins with the same configuration.
TEST(RaftMembership, AChangeUncommittedWhenTheLeaderFailsCommitsUnderTheNextOne) {
  Network net(NetworkOptions{.seed = 38}, three);
  ASSERT_TRUE(elect_until(net, "hq"));
  net.stabilize();
  net.add_node("gatuna");
  net.add_node("rubavu");
  // The append reaches "airport" only, and its answer is lost.
  net.set_filter([](Message& m) {
    if (m.from == "hq" && m.to == "dr-site" && m.type == MessageType::app) return false;
    return !(m.from == "airport" && m.to == "hq" && m.type == MessageType::app_resp);
  });
  ASSERT_TRUE(
      net.propose_conf_change("hq", ConfChange{ConfChangeType::add_learner, "gatuna", ""}).ok());
  net.stabilize();
  const LogIndex at = net.status("hq").last_index;
  ASSERT_EQ(net.status("airport").last_index, at);
  ASSERT_LT(net.status("hq").commit, at);
  net.crash("hq");
  // "dr-site" lacks the entry and cannot win against "airport"'s longer log. The new leader's
  // appends go unanswered for now, so nothing of its term commits yet.
  net.set_filter([](Message& m) { return m.type != MessageType::app_resp; });
  ASSERT_EQ(net.wait_for_leader(), "airport") << net.describe();
  ASSERT_LT(net.status("airport").commit, at);
  EXPECT_EQ(
      net.propose_conf_change("airport", ConfChange{ConfChangeType::add_learner, "rubavu", ""})
          .code(),
      Errc::conf_change_pending);
  net.set_filter(nullptr);
  net.run(3);
  EXPECT_TRUE(net.status("airport").conf_state.is_learner("gatuna"));
  EXPECT_TRUE(net.status("dr-site").conf_state.is_learner("gatuna"));
  ASSERT_TRUE(
      net.propose_conf_change("airport", ConfChange{ConfChangeType::add_learner, "rubavu", ""})
          .ok());
  net.run(5);
  net.restart("hq");
  net.run(10);
  for (const NodeId& id :
       {NodeId("airport"), NodeId("dr-site"), NodeId("gatuna"), NodeId("hq"), NodeId("rubavu")}) {
    const ConfState cs = net.status(id).conf_state;
    // (The new nodes replay the log from index 1, without the genesis voters of index 0.)
    if (id != "gatuna" && id != "rubavu") {
      EXPECT_EQ(cs.voters, three) << id;
    }
    EXPECT_EQ(cs.learners, (std::vector<NodeId>{"gatuna", "rubavu"})) << id;
  }
}

// A voter removed while it was cut off never learns it; when the cut heals, its campaigns
// disturb nobody: the leader keeps its term (PreVote and the leader lease).
TEST(RaftMembership, AVoterRemovedWhileCutOffDoesNotDisruptTheRest) {
  Network net(NetworkOptions{.seed = 39}, {"airport", "dr-site", "hq", "rubavu"});
  ASSERT_TRUE(elect_until(net, "hq"));
  net.stabilize();
  net.isolate("rubavu");
  change(net, ConfChange{ConfChangeType::remove_node, "rubavu", ""});
  ASSERT_EQ(net.leader(), "hq");
  EXPECT_EQ(net.status("hq").conf_state.voters, three);
  EXPECT_TRUE(net.status("rubavu").conf_state.is_voter("rubavu"));  // it does not know
  net.run(50);                                                      // it pre-campaigns, alone
  const Term term = net.status("hq").term;
  net.recover();
  net.run(100);
  EXPECT_EQ(net.leader(), "hq");
  EXPECT_EQ(net.status("hq").term, term);
  ASSERT_TRUE(net.propose("hq", "after-heal").ok());
  net.run(3);
  for (const NodeId& id : three) EXPECT_TRUE(net.applied(id, "after-heal")) << id;
}

TEST(RaftMembership, PromoteLearnerThenItCanLead) {
  Network net(NetworkOptions{.seed = 32}, three, {"gatuna"});
  ASSERT_TRUE(elect_until(net, "hq"));
  EXPECT_EQ(
      net.propose_conf_change("hq", ConfChange{ConfChangeType::promote_learner, "hq", ""}).code(),
      Errc::conf_change_invalid);  // not a learner
  change(net, ConfChange{ConfChangeType::promote_learner, "gatuna", ""});
  for (const NodeId& id : {NodeId("airport"), NodeId("gatuna"), NodeId("hq")}) {
    EXPECT_TRUE(net.status(id).conf_state.is_voter("gatuna")) << id;
  }
  ASSERT_TRUE(net.transfer_leadership("hq", "gatuna").ok());
  net.stabilize();
  EXPECT_EQ(net.leader(), "gatuna");
  // Now a voter, it counts: with two of four voters down nothing commits.
  net.crash("airport");
  net.crash("dr-site");
  const LogIndex commit = net.status("gatuna").commit;
  ASSERT_TRUE(net.propose("gatuna", "needs-three").ok());
  net.run(5);
  EXPECT_EQ(net.status("gatuna").commit, commit);
}

// etcd-io/raft's case: a learner's promotion is committed by the two voters while the learner is
// cut off, then the leader fails. Only the other voter can win (it holds every committed entry),
// and it needs the vote of the promoted node, which still believes itself a learner.
TEST(RaftMembership, APromotedLearnerThatDoesNotKnowItVotes) {
  Network net(NetworkOptions{.seed = 34}, {"dr-site", "hq"}, {"gatuna"});
  ASSERT_TRUE(elect_until(net, "hq"));
  net.stabilize();
  net.isolate("gatuna");
  ASSERT_TRUE(
      net.propose_conf_change("hq", ConfChange{ConfChangeType::promote_learner, "gatuna", ""})
          .ok());
  net.stabilize();
  ASSERT_TRUE(net.status("dr-site").conf_state.is_voter("gatuna"));
  ASSERT_TRUE(net.status("gatuna").conf_state.is_learner("gatuna"));
  net.crash("hq");
  net.recover();
  EXPECT_EQ(net.wait_for_leader(), "dr-site");
  ASSERT_TRUE(net.propose("dr-site", "after-promotion").ok());
  net.run(5);
  EXPECT_TRUE(net.applied("gatuna", "after-promotion"));
  EXPECT_TRUE(net.status("gatuna").conf_state.is_voter("gatuna"));
}

TEST(RaftMembership, RemoveTheLeaderItStepsDownAndTheRestGoOn) {
  Network net(NetworkOptions{.seed = 33}, {"airport", "dr-site", "hq", "rubavu"});
  ASSERT_TRUE(elect_until(net, "hq"));
  net.crash("rubavu");  // a failure during the change
  ASSERT_TRUE(
      net.propose_conf_change("hq", ConfChange{ConfChangeType::remove_node, "hq", ""}).ok());
  EXPECT_EQ(net.propose_conf_change("hq", ConfChange{ConfChangeType::add_learner, "x", ""}).code(),
            Errc::conf_change_pending);
  net.stabilize();
  // Applied at "hq": it stepped down; it is no member of its own configuration any more.
  EXPECT_NE(net.status("hq").role, Role::leader);
  EXPECT_FALSE(net.status("hq").conf_state.contains("hq"));
  net.restart("rubavu");
  const NodeId lead = net.wait_for_leader();
  ASSERT_TRUE(lead == "airport" || lead == "dr-site" || lead == "rubavu") << lead;
  ASSERT_TRUE(net.propose(lead, "after-removal").ok());
  net.run(30);
  for (const NodeId& id : {NodeId("airport"), NodeId("dr-site"), NodeId("rubavu")}) {
    EXPECT_TRUE(net.applied(id, "after-removal")) << id;
    EXPECT_FALSE(net.status(id).conf_state.contains("hq")) << id;
  }
  // The removed node never campaigns again.
  const Term term = net.status("hq").term;
  net.run(50);
  EXPECT_NE(net.status("hq").role, Role::leader);
  EXPECT_EQ(net.status("hq").term, term);
}

TEST(RaftMembership, DemoteAVoterToLearner) {
  Network net(NetworkOptions{.seed = 34}, {"airport", "dr-site", "hq", "rubavu"});
  ASSERT_TRUE(elect_until(net, "hq"));
  change(net, ConfChange{ConfChangeType::add_learner, "rubavu", ""});
  EXPECT_TRUE(net.status("hq").conf_state.is_learner("rubavu"));
  EXPECT_TRUE(net.status("rubavu").conf_state.is_learner("rubavu"));
  // Three voters now: one down still commits.
  net.crash("airport");
  ASSERT_TRUE(net.propose("hq", "three-voters").ok());
  net.run(3);
  EXPECT_TRUE(net.applied("rubavu", "three-voters"));
  EXPECT_TRUE(net.applied("hq", "three-voters"));
}

TEST(RaftMembership, RemovingOrDemotingTheLastVoterIsRefused) {
  Network net(NetworkOptions{.seed = 35}, {"hq"}, {"gatuna"});
  ASSERT_TRUE(elect_until(net, "hq"));
  EXPECT_EQ(net.propose_conf_change("hq", ConfChange{ConfChangeType::remove_node, "hq", ""}).code(),
            Errc::conf_change_invalid);
  EXPECT_EQ(net.propose_conf_change("hq", ConfChange{ConfChangeType::add_learner, "hq", ""}).code(),
            Errc::conf_change_invalid);
  EXPECT_TRUE(
      net.propose_conf_change("hq", ConfChange{ConfChangeType::remove_node, "gatuna", ""}).ok());
  net.stabilize();
  EXPECT_FALSE(net.status("hq").conf_state.contains("gatuna"));
}

TEST(RaftMembership, NewLeaderProposesNoChangeBeforeApplyingItsFirstEntry) {
  Network net(NetworkOptions{.seed = 36, .check_quorum = false}, three);
  ASSERT_TRUE(elect_until(net, "hq"));
  net.isolate("hq");
  // A new leader is elected; until it hears back about its empty entry, no change.
  net.set_filter([](Message& m) { return m.type != MessageType::app_resp; });
  ASSERT_TRUE(elect_until(net, "airport"));
  EXPECT_EQ(
      net.propose_conf_change("airport", ConfChange{ConfChangeType::add_learner, "x", ""}).code(),
      Errc::conf_change_pending);
  net.set_filter(nullptr);
  net.run(3);
  EXPECT_TRUE(
      net.propose_conf_change("airport", ConfChange{ConfChangeType::add_learner, "x", ""}).ok());
}

TEST(RaftMembership, ForwardedConfChangeFromAFollower) {
  Network net(NetworkOptions{.seed = 37}, three);
  ASSERT_TRUE(elect_until(net, "hq"));
  net.add_node("gatuna");
  ASSERT_TRUE(net.propose_conf_change(
                     "airport", ConfChange{ConfChangeType::add_learner, "gatuna", "signed-by-root"})
                  .ok());
  net.run(10);
  EXPECT_TRUE(net.status("hq").conf_state.is_learner("gatuna"));
  EXPECT_TRUE(net.status("gatuna").conf_state.is_learner("gatuna"));
}

}  // namespace
}  // namespace umupaka::raft::testing

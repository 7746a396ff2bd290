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
  const NodeId lead2 = net.leader();
  if (!lead2.empty()) {
    const LogIndex commit = net.status(lead2).commit;
    (void)net.propose(lead2, "no-quorum");
    net.run(5);
    EXPECT_EQ(net.status(lead2).commit, commit);
  }
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

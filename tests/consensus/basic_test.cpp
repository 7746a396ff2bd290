// Elections and replication in a healthy cluster; proposal forwarding; limits.
#include <gtest/gtest.h>

#include "tests/consensus/network.hpp"

namespace umupaka::raft::testing {
namespace {

const std::vector<NodeId> three = {"airport", "dr-site", "hq"};

TEST(RaftBasic, ElectsOneLeaderByTimeoutAndReplicates) {
  Network net(NetworkOptions{.seed = 7}, three);
  const NodeId lead = net.wait_for_leader();
  ASSERT_FALSE(lead.empty());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(net.propose(lead, "frontier-" + std::to_string(i)).ok());
  net.stabilize();
  for (const NodeId& id : three) {
    EXPECT_EQ(net.peer(id).applied_data.size(), 10u) << id;
    EXPECT_EQ(net.status(id).commit, net.status(lead).commit);
    EXPECT_EQ(net.status(id).leader, lead);
  }
  EXPECT_TRUE(net.ok()) << net.invariants().report();
}

}  // namespace
}  // namespace umupaka::raft::testing

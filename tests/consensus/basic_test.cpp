// Elections and replication in a healthy cluster; proposal forwarding and its errors; the flow
// control limits (batching, inflight window, uncommitted size).
#include <gtest/gtest.h>

#include <limits>

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

TEST(RaftBasic, ElectsOneLeaderByTimeoutAndReplicates) {
  Network net(NetworkOptions{.seed = 7}, three);
  const NodeId lead = net.wait_for_leader();
  ASSERT_FALSE(lead.empty());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(net.propose(lead, "frontier-" + std::to_string(i)).ok());
  }
  net.stabilize();
  for (const NodeId& id : three) {
    EXPECT_EQ(net.peer(id).applied_data.size(), 10u) << id;
    EXPECT_EQ(net.status(id).commit, net.status(lead).commit);
    EXPECT_EQ(net.status(id).leader, lead);
    EXPECT_EQ(net.status(id).term, net.status(lead).term);
  }
}

TEST(RaftBasic, CampaignWinsAndNewLeaderCommitsAnEmptyEntryOfItsTerm) {
  Network net(NetworkOptions{.seed = 1}, three);
  net.elect("hq");
  const RaftStatus st = net.status("hq");
  ASSERT_EQ(st.role, Role::leader);
  EXPECT_EQ(st.term, 1u);
  EXPECT_EQ(st.commit, 1u);  // the leader's empty entry
  EXPECT_EQ(net.status("airport").leader, "hq");
  ASSERT_EQ(st.progress.size(), 3u);
  for (const ProgressStatus& pr : st.progress) {
    EXPECT_EQ(pr.match, 1u) << pr.id;
    EXPECT_EQ(pr.state, ProgressState::replicate) << pr.id;
  }
}

// A follower the leader fell back to probing (reported unreachable) while it lacks nothing gets
// an empty append with the next heartbeat reply and is replicated to again at once, not only
// after the next new entry (etcd's rule).
TEST(RaftBasic, AProbedFollowerThatLacksNothingIsReplicatedToAgain) {
  Network net(NetworkOptions{.seed = 1}, three);
  net.elect("hq");
  net.stabilize();
  net.node("hq").report_unreachable("airport");
  auto state_of = [&](const NodeId& id) {
    for (const ProgressStatus& pr : net.status("hq").progress)
      if (pr.id == id) return pr.state;
    return ProgressState::snapshot;
  };
  ASSERT_EQ(state_of("airport"), ProgressState::probe);
  for (int t = 0; t < 3; ++t) {  // a heartbeat round
    net.tick("hq");
    net.stabilize();
  }
  EXPECT_EQ(state_of("airport"), ProgressState::replicate);
}

TEST(RaftBasic, SingleVoterCommitsAlone) {
  Network net(NetworkOptions{.seed = 3}, {"hq"});
  net.elect("hq");
  ASSERT_EQ(net.status("hq").role, Role::leader);
  ASSERT_TRUE(net.propose("hq", "x").ok());
  EXPECT_TRUE(net.applied("hq", "x"));
}

TEST(RaftBasic, FollowerForwardsProposalsToTheLeader) {
  Network net(NetworkOptions{.seed = 2}, three);
  net.elect("hq");
  ASSERT_TRUE(net.propose("airport", "from-airport").ok());
  net.stabilize();
  for (const NodeId& id : three) EXPECT_TRUE(net.applied(id, "from-airport")) << id;
}

TEST(RaftBasic, ProposalWithoutLeaderFailsWithNoLeader) {
  Network net(NetworkOptions{.seed = 2}, three);
  const Status s = net.propose("airport", "lost");
  EXPECT_EQ(s.code(), Errc::no_leader);
  EXPECT_EQ(net.in_flight(), 0u);  // nothing was sent
  EXPECT_EQ(net.read_index("airport", "r").code(), Errc::no_leader);
  EXPECT_EQ(net.transfer_leadership("airport", "hq").code(), Errc::no_leader);
}

TEST(RaftBasic, CandidateRejectsProposalsWithNoLeader) {
  Network net(NetworkOptions{.seed = 2, .pre_vote = false}, three);
  net.campaign("hq");  // votes in flight
  ASSERT_EQ(net.status("hq").role, Role::candidate);
  EXPECT_EQ(net.propose("hq", "x").code(), Errc::no_leader);
}

TEST(RaftBasic, BatchesBySizeAndPipelinesWithinTheInflightWindow) {
  NetworkOptions o{.seed = 4};
  o.max_size_per_msg = 3 * (entry_overhead_bytes + 10);  // three 10-byte entries per message
  o.max_inflight_msgs = 2;
  Network net(o, three);
  net.elect("hq");
  size_t apps = 0;
  size_t max_batch = 0;
  net.set_filter([&](Message& m) {
    if (m.type == MessageType::app && !m.entries.empty()) {
      ++apps;
      max_batch = std::max(max_batch, m.entries.size());
    }
    return true;
  });
  // Propose 30 entries without delivering anything: the window caps what is in flight.
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(net.propose("hq", "0123456789").ok());
  for (const ProgressStatus& pr : net.status("hq").progress) {
    if (pr.id == "hq") continue;
    EXPECT_LE(pr.inflight_msgs, 2u);
    EXPECT_TRUE(pr.paused);
  }
  net.stabilize();
  EXPECT_EQ(max_batch, 3u);
  EXPECT_GE(apps, 2u * 10u);  // two followers, at least ten batches each
  for (const NodeId& id : three) EXPECT_EQ(net.peer(id).applied_data.size(), 30u) << id;
}

TEST(RaftBasic, UncommittedSizeLimitRefusesProposals) {
  NetworkOptions o{.seed = 5};
  o.max_uncommitted_entries_size = 100;
  Network net(o, three);
  net.elect("hq");
  net.isolate("hq");  // nothing commits
  const std::string forty(40, 'x');
  EXPECT_TRUE(net.propose("hq", forty).ok());
  EXPECT_TRUE(net.propose("hq", forty).ok());
  EXPECT_EQ(net.propose("hq", forty).code(), Errc::limit_exceeded);
  net.recover();
  net.run(3);
  EXPECT_TRUE(net.propose("hq", forty).ok());  // committed entries free the budget
}

// max_committed_size_per_ready: a node restarting with many committed entries to apply again
// gets them over several Readies, none above the limit (or a single entry), all in order.
TEST(RaftBasic, CommittedEntriesAreHandedOutWithinTheLimitPerReady) {
  constexpr uint64_t cap = 3 * (20 + entry_overhead_bytes);  // three 20-byte entries
  Network net(NetworkOptions{.seed = 12, .max_committed_size_per_ready = cap}, three);
  ASSERT_TRUE(elect_until(net, "hq"));
  const auto name = [](int i) {  // 20 bytes
    return "entry-" + std::string(14 - std::to_string(i).size(), '0') + std::to_string(i);
  };
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(net.propose("hq", name(i)).ok());
  net.stabilize();
  net.run(2);
  ASSERT_TRUE(net.applied("airport", name(29)));
  net.crash("airport");
  net.restart("airport");  // applies all 31 committed entries again
  const Peer& p = net.peer("airport");
  EXPECT_EQ(p.applied_data.size(), 30u);
  EXPECT_EQ(p.applied_data.back(), name(29));
  EXPECT_GE(p.committed_readies, 10u);
  EXPECT_LE(p.committed_bytes_max, cap);
  EXPECT_EQ(p.committed_entries_max, 3u);
}

// max_pending_reads: while reads cannot be confirmed (heartbeat replies lost), the leader holds
// at most the limit; one more local read is refused with limit_exceeded, a forwarded one is
// dropped (never answered); the held ones are answered once replies come through.
TEST(RaftBasic, PendingReadsAreBoundedByTheLimit) {
  Network net(NetworkOptions{.seed = 13, .max_pending_reads = 2}, three);
  ASSERT_TRUE(elect_until(net, "hq"));
  net.stabilize();
  net.set_filter([](Message& m) { return m.type != MessageType::heartbeat_resp; });
  ASSERT_TRUE(net.read_index("hq", "held-1").ok());
  ASSERT_TRUE(net.read_index("hq", "held-2").ok());
  net.stabilize();
  EXPECT_EQ(net.read_index("hq", "one-too-many").error().code, Errc::limit_exceeded);
  ASSERT_TRUE(net.read_index("airport", "forwarded").ok());  // the follower forwards it
  net.stabilize();
  net.set_filter(nullptr);
  net.tick("hq");
  net.stabilize();
  std::set<std::string> answered;
  for (const NodeId& id : three)
    for (const ReadState& rs : net.peer(id).reads) answered.insert(rs.context);
  EXPECT_EQ(answered, (std::set<std::string>{"held-1", "held-2"}));
}

// An acknowledgement beyond the leader's log (a forged or corrupt message from a member) changes
// nothing: the leader neither asserts nor moves the peer's progress past its log.
TEST(RaftBasic, AnAcknowledgementBeyondTheLogIsIgnored) {
  Network net(NetworkOptions{.seed = 14}, three, {"gatuna"});
  ASSERT_TRUE(elect_until(net, "hq"));
  net.stabilize();
  const RaftStatus before = net.status("hq");
  for (const NodeId& from : {NodeId("gatuna"), NodeId("airport")}) {
    Message m;
    m.type = MessageType::app_resp;
    m.from = from;
    m.to = "hq";
    m.term = before.term;
    m.index = before.last_index + 1;
    net.inject(m);
  }
  ASSERT_TRUE(net.propose("hq", "after").ok());
  net.stabilize();
  const RaftStatus after = net.status("hq");
  EXPECT_EQ(after.role, Role::leader);
  for (const ProgressStatus& pr : after.progress) EXPECT_LE(pr.match, after.last_index) << pr.id;
  EXPECT_TRUE(net.applied("gatuna", "after"));
  EXPECT_TRUE(net.applied("airport", "after"));
}

// Node "a" of the three voters a, b, c, on `storage` (which holds that configuration).
Result<RawNode> node_a(MemoryStorage& storage) {
  Config c;
  c.id = "a";
  c.storage = &storage;
  return RawNode::create(c);
}

// A message from peer b to node a.
Message from_b(MessageType type, uint64_t term, uint64_t index = 0) {
  Message m;
  m.type = type;
  m.from = "b";
  m.to = "a";
  m.term = term;
  m.index = index;
  return m;
}

// A follower answers an append of an older term with its own term and index 0 (to depose a stale
// leader): reaching a leader of that term which probes the follower, it says nothing of the
// follower's log, and once ended the probe, sending the whole log (or a snapshot) again.
TEST(RaftBasic, AnAnswerToAnOlderTermsAppendDoesNotEndAProbe) {
  MemoryStorage storage(ConfState{{"a", "b", "c"}, {}});
  auto node = node_a(storage);
  ASSERT_TRUE(node.ok());
  node->campaign();
  auto settle = [&] {
    while (node->has_ready()) {
      Ready rd = node->ready();
      if (rd.hard_state) storage.set_hard_state(*rd.hard_state);
      storage.append(rd.entries);
      node->advance(rd);
    }
  };
  settle();
  for (MessageType t : {MessageType::pre_vote_resp, MessageType::vote_resp}) {
    ASSERT_TRUE(node->step(from_b(t, 1)).ok());
    settle();
  }
  ASSERT_EQ(node->status().role, Role::leader);
  auto state_of_b = [&] {
    for (const ProgressStatus& p : node->status().progress)
      if (p.id == "b") return p.state;
    return ProgressState::snapshot;
  };
  ASSERT_EQ(state_of_b(), ProgressState::probe);
  ASSERT_TRUE(node->step(from_b(MessageType::app_resp, 1, 0)).ok());
  EXPECT_EQ(state_of_b(), ProgressState::probe);
  // The real answer to the probe ends it.
  ASSERT_TRUE(node->step(from_b(MessageType::app_resp, 1, 1)).ok());
  EXPECT_EQ(state_of_b(), ProgressState::replicate);
}

// A Ready must be synced for what losing would break: a term, vote, commit index or entries;
// not for messages alone (a pre-vote).
TEST(RaftBasic, ReadyMustSyncForTheHardStateOrEntriesNotForMessagesAlone) {
  MemoryStorage storage(ConfState{{"a", "b", "c"}, {}});
  auto node = node_a(storage);
  ASSERT_TRUE(node.ok());
  EXPECT_FALSE(node->has_ready());
  node->campaign();  // pre-vote: no term change, only messages
  ASSERT_TRUE(node->has_ready());
  Ready rd = node->ready();
  EXPECT_FALSE(rd.must_sync);
  EXPECT_FALSE(rd.hard_state.has_value());
  ASSERT_EQ(rd.messages.size(), 2u);
  EXPECT_EQ(rd.messages[0].type, MessageType::pre_vote);
  EXPECT_EQ(rd.messages[0].term, 1u);
  ASSERT_TRUE(rd.soft_state.has_value());
  EXPECT_EQ(rd.soft_state->role, Role::pre_candidate);
  EXPECT_FALSE(node->has_ready());  // outstanding
  node->advance(rd);
  ASSERT_TRUE(node->step(from_b(MessageType::pre_vote_resp, 1)).ok());
  rd = node->ready();
  EXPECT_TRUE(rd.must_sync);  // now a candidate: new term and vote
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->term, 1u);
  EXPECT_EQ(rd.hard_state->vote, "a");
  storage.set_hard_state(*rd.hard_state);
  node->advance(rd);
  ASSERT_TRUE(node->step(from_b(MessageType::vote_resp, 1)).ok());
  rd = node->ready();  // the leader's empty entry
  EXPECT_TRUE(rd.must_sync);
  ASSERT_EQ(rd.entries.size(), 1u);
  storage.append(rd.entries);
  node->advance(rd);
  // b acknowledges it: committed. Only the commit index changes, and the entry is handed out to
  // apply: a state machine that applies it durably needs the commit durable first.
  ASSERT_TRUE(node->step(from_b(MessageType::app_resp, 1, 1)).ok());
  rd = node->ready();
  EXPECT_TRUE(rd.entries.empty());
  ASSERT_EQ(rd.committed_entries.size(), 1u);
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->commit, 1u);
  EXPECT_EQ(rd.hard_state->term, 1u);
  EXPECT_TRUE(rd.must_sync);
  node->advance(rd);
}

// A snapshot arriving between ready() and advance() is refused: installed then, the caller would
// apply the outstanding Ready's older configuration changes on top of the snapshot's own. After
// advance() the same snapshot is installed.
TEST(RaftBasic, ASnapshotIsNotInstalledWhileAReadyIsOutstanding) {
  MemoryStorage storage(ConfState{{"a", "b", "c"}, {}});
  auto node = node_a(storage);
  ASSERT_TRUE(node.ok());
  node->campaign();
  ASSERT_TRUE(node->has_ready());
  const Ready rd = node->ready();
  Message snap;
  snap.type = MessageType::snap;
  snap.from = "b";
  snap.term = 1;
  snap.snapshot = Snapshot{SnapshotMeta{20, 1, ConfState{{"a", "b", "c"}, {}}}, "state"};
  EXPECT_EQ(node->step(snap).code(), Errc::snapshot_temporarily_unavailable);
  node->advance(rd);
  ASSERT_TRUE(node->step(snap).ok());
  ASSERT_TRUE(node->has_ready());
  const Ready after = node->ready();
  ASSERT_TRUE(after.snapshot.has_value());
  EXPECT_EQ(after.snapshot->meta.index, 20u);
  node->advance(after);
}

TEST(RaftBasic, PeersCannotSendLocalMessagesOrStrangeResponses) {
  MemoryStorage storage(ConfState{{"a", "b", "c"}, {}});
  auto node = node_a(storage);
  ASSERT_TRUE(node.ok());
  Message m;
  m.type = MessageType::hup;
  m.from = "b";
  EXPECT_EQ(node->step(m).code(), Errc::step_local_msg);
  m.type = MessageType::app_resp;
  m.from = "stranger";
  m.term = 1;
  EXPECT_EQ(node->step(m).code(), Errc::step_peer_not_found);
  m.type = MessageType::snap;
  m.from = "b";
  EXPECT_EQ(node->step(m).code(), Errc::decode);  // no snapshot
  // Term 0 is for messages local to the receiver: from a peer, only a forwarded proposal or
  // read carries it.
  for (MessageType t : {MessageType::app, MessageType::heartbeat, MessageType::app_resp,
                        MessageType::timeout_now, MessageType::vote}) {
    Message z;
    z.type = t;
    z.from = "b";
    z.term = 0;
    EXPECT_EQ(node->step(z).code(), Errc::decode) << static_cast<int>(t);
  }
  // Nor from this node's own id (its answer would go to itself).
  for (MessageType t :
       {MessageType::vote, MessageType::app, MessageType::heartbeat, MessageType::heartbeat_resp}) {
    Message self;
    self.type = t;
    self.from = "a";
    self.to = "a";
    self.term = 1;
    EXPECT_EQ(node->step(self).code(), Errc::decode) << static_cast<int>(t);
  }
  EXPECT_EQ(node->status().term, 0u);
}

// A term or index no honest node reaches (beyond 2^62) is refused before the core sees it: a
// transfer_leader of term 2^64-1 was once adopted and stored, and the next election computed
// term + 1 = 0 and stopped the node; a snapshot at index 2^64-1 overflowed the next index.
TEST(RaftBasic, TermsAndIndexesNoHonestPeerReachesAreRefused) {
  MemoryStorage storage(ConfState{{"a", "b", "c"}, {}});
  auto node = node_a(storage);
  ASSERT_TRUE(node.ok());
  constexpr uint64_t huge = std::numeric_limits<uint64_t>::max();
  Message m;
  m.type = MessageType::transfer_leader;
  m.from = "b";
  m.term = huge;
  EXPECT_EQ(node->step(m).code(), Errc::decode);
  m.term = (uint64_t{1} << 62) + 1;
  EXPECT_EQ(node->step(m).code(), Errc::decode);
  Message app;
  app.type = MessageType::app;
  app.from = "b";
  app.term = 1;
  app.index = huge - 1;
  EXPECT_EQ(node->step(app).code(), Errc::decode);
  app.index = 0;
  app.commit = huge;
  EXPECT_EQ(node->step(app).code(), Errc::decode);
  app.commit = 0;
  app.entries.push_back(Entry{huge, 1, EntryType::normal, "x"});
  EXPECT_EQ(node->step(app).code(), Errc::decode);
  Message snap;
  snap.type = MessageType::snap;
  snap.from = "b";
  snap.term = 1;
  snap.snapshot = Snapshot{};
  snap.snapshot->data = "s";
  snap.snapshot->meta.index = huge;
  snap.snapshot->meta.term = 1;
  snap.snapshot->meta.conf_state = ConfState{{"a", "b", "c"}, {}};
  EXPECT_EQ(node->step(snap).code(), Errc::decode);
  EXPECT_EQ(node->status().term, 0u);
  // The largest accepted term (here a heartbeat's) still leaves room to campaign.
  Message beat;
  beat.type = MessageType::heartbeat;
  beat.from = "b";
  beat.term = uint64_t{1} << 62;
  ASSERT_TRUE(node->step(beat).ok());
  EXPECT_EQ(node->status().term, uint64_t{1} << 62);
  node->campaign();
  EXPECT_GE(node->status().term, uint64_t{1} << 62);
}

}  // namespace
}  // namespace umupaka::raft::testing

// The order plane's timers, driven by hand: one voter on a real store in a temporary directory.
#include "node/order_plane.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "ledger/crypto.hpp"
#include "ledger/ledger_entry.hpp"
#include "ledger/merkle.hpp"
#include "ledger/record.hpp"
#include "node/commands.hpp"
#include "node/group_commit.hpp"
#include "node/network_setup.hpp"
#include "node/node_core.hpp"
#include "node/queries.hpp"
#include "storage/store.hpp"
#include "tests/seeds.hpp"

namespace umupaka {
namespace {

// `origin`'s record at `seq` after `prev`: document `number` reported lost.
Record lost_document(const std::string& origin, uint64_t seq, const Hash& prev,
                     const std::string& number) {
  Record r;
  r.header.network_id = "net-test";
  r.header.origin = OriginId(origin);
  r.header.seq = Seq(seq);
  r.header.prev_hash = prev;
  r.header.hlc = Hlc::make(1'000 + static_cast<int64_t>(seq), 0);
  r.body = DocumentStatusChange{"RWA", number, DocumentStatus::lost, "reported", "officer-1"};
  return r;
}

// The root record that certifies gatuna again, as a voter, after `m`'s root feed.
void gatuna_voter_certification(const Membership& m, VerifiedRecord& out) {
  SiteEntry g = m.site("gatuna")->entry;
  g.role = VoterRole::voter;
  auto root = make_root_record(test::filled_seed(1), "net-test", m.root_seq(), m.root_head(),
                               SiteCertified{g}, 2'000);
  ASSERT_TRUE(root.ok()) << root.error().message;
  auto rec = open_record(*root, m.root_key());
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  out = VerifiedRecord{*root, *rec};
}

// Certifies gatuna again in `m`, as a voter (the root record is not stored: held nowhere but in
// the membership).
void make_gatuna_a_voter(Membership& m) {
  VerifiedRecord root;
  ASSERT_NO_FATAL_FAILURE(gatuna_voter_certification(m, root));
  ASSERT_TRUE(m.apply(root.record, root.signed_record.hash).ok());
}

// One voter's order plane on a real store in a temporary directory, driven by hand.
class OrderPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(::mkdtemp(dir.data()), nullptr);
    const SecretSeed root = test::filled_seed(1);
    SiteEntry hq;
    hq.site = "hq";
    hq.kind = SiteKind::hq;
    hq.role = VoterRole::voter;
    hq.signing_key = SigningKey::from_seed(hq_seed).public_key();
    hq.transport_key = std::string(40, 'a');
    hq.peer = "tcp://127.0.0.1:7500";
    hq.api = "http://127.0.0.1:7400";
    // A post as a learner beside it.
    SiteEntry gatuna = hq;
    gatuna.site = "gatuna";
    gatuna.kind = SiteKind::border_post;
    gatuna.role = VoterRole::learner;
    gatuna.signing_key = SigningKey::from_seed(test::filled_seed(3)).public_key();
    gatuna.transport_key = std::string(40, 'b');
    gatuna.peer = "tcp://127.0.0.1:7501";
    gatuna.api = "http://127.0.0.1:7401";
    auto genesis = make_genesis(root, "net-test", {hq, gatuna}, 1'000);
    ASSERT_TRUE(genesis.ok()) << genesis.error().message;
    genesis_record = *genesis;
    auto opened = Store::open(dir + "/store");
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store = std::move(opened).value();
    core = std::make_unique<NodeCore>(NodeIdentity{"net-test", "hq", SiteKind::hq},
                                      SigningKey::from_seed(hq_seed));
    ASSERT_TRUE(join_network(*core, *store, *genesis).ok());
    make_plane();
    ASSERT_TRUE(plane->start().ok());
  }
  // hq's order plane on `store`, not started (a restart makes a new one on the same store).
  void make_plane() {
    OrderOptions o;
    o.self = "hq";
    o.network_id = "net-test";
    o.tick_ms = 50;
    o.propose_interval_ms = 20;
    plane = std::make_unique<OrderPlane>(
        o, core->membership(), hq_seed, *store,
        [this](LedgerWork work, OrderPlane::ApplyDone done) {
          if (!applies) return false;
          applies_waiting.emplace_back(std::move(work), std::move(done));
          return true;
        },
        [this](const std::string& to, raft::Message m) {
          if (m.type == raft::MessageType::app) apps_to[to] += 1;
          return transport_takes;
        },
        [](const LedgerHead&) {}, [](const std::string&, const std::vector<WantedChain>&) {},
        [this](const std::string& to, const LedgerSegment&, bool request) {
          if (!request) segments_to[to] += 1;
        });
  }
  void TearDown() override {
    plane.reset();
    core.reset();
    store.reset();
    std::filesystem::remove_all(dir);
  }

  // gatuna's record at `seq` after `prev` (a document reported lost), signed with its key.
  static SignedRecord gatuna_record(uint64_t seq, const Hash& prev, const std::string& number) {
    return seal(lost_document("gatuna", seq, prev, number),
                SigningKey::from_seed(test::filled_seed(3)));
  }

  // gatuna acknowledges hq's log through `index`.
  void gatuna_acknowledges(uint64_t index, int64_t now_ms) {
    raft::Message ack;
    ack.type = raft::MessageType::app_resp;
    ack.from = "gatuna";
    ack.to = "hq";
    ack.term = plane->status().term;
    ack.index = index;
    plane->on_message(ack, now_ms);
  }

  // hq's membership with gatuna certified as a voter, told to hq's order plane.
  void certify_gatuna_as_voter() {
    Membership m = core->membership();
    ASSERT_NO_FATAL_FAILURE(make_gatuna_a_voter(m));
    plane->on_membership(m);
  }

  // Applies what the order plane handed the writer (`applies`), each in one write, as the
  // writer does after the plane's call returned.
  void run_applies() {
    auto waiting = std::move(applies_waiting);
    applies_waiting.clear();
    for (auto& [work, done] : waiting) {
      Result<ApplyOutcome> outcome = make_error(Errc::storage, "not applied");
      const Status s = store->write([&](StoreTxn& t) -> Status {
        outcome = apply_ledger_work(t, work);
        if (!outcome.ok()) return outcome.error();
        return {};
      });
      ASSERT_TRUE(s.ok()) << s.error().message;
      done(std::move(outcome));
    }
  }

  std::string dir = (std::filesystem::temp_directory_path() / "umupaka-order-XXXXXX").string();
  SignedRecord genesis_record;
  const SecretSeed hq_seed = test::filled_seed(2);
  std::unique_ptr<Store> store;
  std::unique_ptr<NodeCore> core;
  std::unique_ptr<OrderPlane> plane;
  bool applies = false;  // committed entries applied (run_applies), or the writer refuses them
  std::vector<std::pair<LedgerWork, OrderPlane::ApplyDone>> applies_waiting;
  bool transport_takes = true;                  // what the sender answers
  std::map<std::string, uint64_t> apps_to;      // appends sent, by follower
  std::map<std::string, uint64_t> segments_to;  // ledger rows answered, by peer
};

// A peer's asks for ledger rows (a snapshot install's; each answer up to 1,024 rows for a few
// bytes asked) are answered at most once per interval: a flood of asks costs one read and one
// answer per interval, the last ask waiting for the next tick; a site not in the membership is
// not answered at all.
TEST_F(OrderPlaneTest, APeersAsksForLedgerRowsAreAnsweredAtMostOncePerInterval) {
  OrderPlane& p = *plane;
  constexpr int64_t interval = OrderPlane::segment_answer_interval_ms;
  LedgerSegment ask;     // rows [0, 0) of an empty ledger: a valid, empty segment
  p.tick(9'999, 9'999);  // the Raft timers start: none due before 10'019
  ASSERT_GT(p.next_due_ms(), 10'000 + interval);
  p.on_segment_request("gatuna", ask, 10'000);
  EXPECT_EQ(segments_to["gatuna"], 1u);
  for (int i = 0; i < 100; ++i) p.on_segment_request("gatuna", ask, 10'001);
  EXPECT_EQ(segments_to["gatuna"], 1u);
  EXPECT_EQ(p.next_due_ms(), 10'000 + interval);  // the driver wakes for the waiting ask
  p.tick(10'000 + interval - 1, 10'000);
  EXPECT_EQ(segments_to["gatuna"], 1u);
  p.tick(10'000 + interval, 10'000);
  EXPECT_EQ(segments_to["gatuna"], 2u);  // the last ask, answered when the interval was up
  p.tick(10'000 + 3 * interval, 10'000);
  EXPECT_EQ(segments_to["gatuna"], 2u);  // nothing waits any more
  p.on_segment_request("gatuna", ask, 10'000 + 3 * interval);
  EXPECT_EQ(segments_to["gatuna"], 3u);  // a later ask is answered at once
  p.on_segment_request("nowhere", ask, 10'000 + 3 * interval);
  EXPECT_EQ(segments_to.count("nowhere"), 0u);
  EXPECT_EQ(p.status().segment_requests, 102u);
  EXPECT_EQ(p.status().segment_requests_dropped, 99u);
}

// Raft ticks keep to their grid whatever the driver's timing: a call 9 ms late does not push the
// next tick 9 ms later (a loop woken only now and then would otherwise stretch every election),
// and a call after a long pause starts a fresh grid rather than ticking to catch up.
TEST_F(OrderPlaneTest, TicksKeepToTheirGridWhenCalledLate) {
  OrderPlane& p = *plane;
  p.tick(10'000, 10'000);              // the first tick and proposal: the grids start here
  EXPECT_EQ(p.next_due_ms(), 10'020);  // the next proposal
  p.tick(10'029, 10'029);              // 9 ms late
  EXPECT_EQ(p.next_due_ms(), 10'040);  // still on the 20 ms grid, not 10'049
  p.tick(10'040, 10'040);
  EXPECT_EQ(p.next_due_ms(), 10'050);  // the tick, on its 50 ms grid
  p.tick(10'059, 10'059);              // the tick, 9 ms late
  EXPECT_EQ(p.next_due_ms(), 10'060);  // the proposal
  p.tick(10'060, 10'060);
  p.tick(10'080, 10'080);
  EXPECT_EQ(p.next_due_ms(), 10'100);  // tick and proposal both due at 10'100, not 10'109
  p.tick(15'003, 15'003);              // after a long pause: fresh grids, no catching up
  EXPECT_EQ(p.next_due_ms(), 15'023);
}

// A head signed by a voter but beyond this node's ledger (empty here) is kept aside, not served:
// no proof this node serves could be checked against it; the nearest one is kept, so that one of
// an impossible size cannot keep the real ones out. One the ledger holds is served only if its
// root is this ledger's at its size.
TEST_F(OrderPlaneTest, AHeadBeyondTheLedgerOrWithAnotherRootIsNotServed) {
  const auto signed_head = [&](uint64_t size, Hash root) {
    LedgerHead h;
    h.network_id = "net-test";
    h.size = size;
    h.root = root;
    h.cluster_time_ms = 15'000;
    h.signer = "hq";
    h.signature = SigningKey::from_seed(hq_seed).sign(ledger_head_signing_bytes(h));
    return h;
  };
  plane->on_head(signed_head(100, Hash{}));
  plane->tick(10'000, 10'000);
  EXPECT_FALSE(plane->status().head.has_value());
  EXPECT_FALSE((*store->read())->meta("ledger.head").has_value());
  EXPECT_EQ(plane->status().head_waiting, 100u);
  plane->on_head(signed_head(uint64_t{1} << 62, Hash{}));
  EXPECT_EQ(plane->status().head_waiting, 100u);
  plane->on_head(signed_head(50, Hash{}));
  EXPECT_EQ(plane->status().head_waiting, 50u);
  // The ledger's size (0) but not its root.
  Hash other = merkle::empty_root();
  other[0] ^= 1;
  plane->on_head(signed_head(0, other));
  EXPECT_FALSE(plane->status().head.has_value());
  EXPECT_EQ(plane->status().heads_refused, 1u);
  plane->on_head(signed_head(0, other));  // sent again: not checked (nor written) again
  EXPECT_EQ(plane->status().heads_refused, 1u);
  EXPECT_FALSE((*store->read())->meta("ledger.head").has_value());
  plane->on_head(signed_head(0, merkle::empty_root()));
  ASSERT_TRUE(plane->status().head.has_value());
  EXPECT_EQ(plane->status().head->size, 0u);
  EXPECT_TRUE((*store->read())->meta("ledger.head").has_value());
}

// Each voter's nearest head beyond the ledger is kept aside: a misbehaving voter's head just
// beyond the ledger (of a wrong root, refused once the ledger reaches it) does not keep out the
// heads another voter signs meanwhile; a signer's farther heads wait behind its nearest.
TEST_F(OrderPlaneTest, AVotersHeadJustBeyondTheLedgerDoesNotKeepOutAnothers) {
  ASSERT_NO_FATAL_FAILURE(certify_gatuna_as_voter());
  const auto head_by = [&](const std::string& signer, const SecretSeed& seed, uint64_t size) {
    LedgerHead h;
    h.network_id = "net-test";
    h.size = size;
    h.root[0] = 7;  // not this ledger's at any size
    h.cluster_time_ms = 15'000;
    h.signer = signer;
    h.signature = SigningKey::from_seed(seed).sign(ledger_head_signing_bytes(h));
    return h;
  };
  plane->on_head(head_by("gatuna", test::filled_seed(3), 1));
  EXPECT_EQ(plane->status().head_waiting, 1u);
  EXPECT_EQ(plane->status().heads_waiting, 1u);
  plane->on_head(head_by("hq", hq_seed, 2));  // kept beside gatuna's
  EXPECT_EQ(plane->status().head_waiting, 1u);
  EXPECT_EQ(plane->status().heads_waiting, 2u);
  plane->on_head(head_by("hq", hq_seed, 5));  // behind hq's nearest
  plane->on_head(head_by("gatuna", test::filled_seed(3), uint64_t{1} << 62));  // behind gatuna's
  EXPECT_EQ(plane->status().heads_waiting, 2u);
  plane->on_head(head_by("rusumo", test::filled_seed(4), 1));  // not a member: not kept
  EXPECT_EQ(plane->status().heads_waiting, 2u);
  plane->tick(10'000, 10'000);  // the ledger (0) reaches neither: both still wait
  EXPECT_EQ(plane->status().heads_waiting, 2u);
  EXPECT_FALSE(plane->status().head.has_value());
}

// Raft trusts its members; the order plane does not trust a learner that far: what only a leader
// or a candidate sends (append, heartbeat, snapshot, vote requests, timeout_now), and forwarded
// proposals, are refused from a learner, before Raft sees them. A heartbeat of a higher term
// from it would otherwise depose the leader and could commit entries the cluster never agreed.
TEST_F(OrderPlaneTest, ALearnerCannotSpeakAsALeaderOrACandidate) {
  OrderPlane& p = *plane;
  for (int64_t t = 10'000; t < 12'000 && p.status().role != "leader"; t += 50) p.tick(t, t);
  ASSERT_EQ(p.status().role, "leader");
  const OrderStatus before = p.status();
  using raft::MessageType;
  // Also its answers of a higher term (Raft steps down at any message of a higher term) and a
  // transfer_leader.
  for (MessageType type :
       {MessageType::heartbeat, MessageType::app, MessageType::vote, MessageType::pre_vote,
        MessageType::timeout_now, MessageType::prop, MessageType::read_index, MessageType::app_resp,
        MessageType::heartbeat_resp, MessageType::vote_resp, MessageType::pre_vote_resp,
        MessageType::read_index_resp, MessageType::transfer_leader}) {
    raft::Message m;
    m.type = type;
    m.from = "gatuna";
    m.to = "hq";
    m.term = type == MessageType::prop || type == MessageType::read_index ? 0 : before.term + 5;
    m.index = before.last_index + 10;
    m.log_term = before.term + 5;
    m.commit = before.last_index + 10;
    if (type == MessageType::app || type == MessageType::prop)
      m.entries.push_back(
          raft::Entry{before.term + 5, before.last_index + 1, raft::EntryType::normal, "forged"});
    p.on_message(m, 12'000);
  }
  const OrderStatus after = p.status();
  EXPECT_EQ(after.role, "leader");
  EXPECT_EQ(after.term, before.term);
  EXPECT_EQ(after.commit, before.commit);
  EXPECT_EQ(after.last_index, before.last_index);
  EXPECT_EQ(after.messages_refused, before.messages_refused + 13);
  // An answer of the leader's own term is taken as ever.
  raft::Message ack;
  ack.type = MessageType::app_resp;
  ack.from = "gatuna";
  ack.to = "hq";
  ack.term = before.term;
  ack.index = before.last_index;
  p.on_message(ack, 12'000);
  EXPECT_EQ(p.status().messages_refused, after.messages_refused);
}

// No node asks for the lead: a transfer_leader, even from a voter, is refused before Raft sees
// it (taken, it would stop the leader's proposals for an election timeout each time).
TEST_F(OrderPlaneTest, ATransferOfTheLeadIsRefusedFromAVoterToo) {
  OrderPlane& p = *plane;
  for (int64_t t = 10'000; t < 12'000 && p.status().role != "leader"; t += 50) p.tick(t, t);
  ASSERT_EQ(p.status().role, "leader");
  ASSERT_NO_FATAL_FAILURE(certify_gatuna_as_voter());
  const OrderStatus before = p.status();
  raft::Message m;
  m.type = raft::MessageType::transfer_leader;
  m.from = "gatuna";
  m.to = "hq";
  m.term = before.term;
  p.on_message(m, 12'000);
  EXPECT_EQ(p.status().messages_refused, before.messages_refused + 1);
  EXPECT_EQ(p.status().role, "leader");
}

// A learner certified as a voter is promoted only once the leader's ledger took in the
// certification and the learner's log reached that entry: a learner acknowledges an entry naming
// root records only with them in its membership, so from there on it acknowledges as a
// voter-elect, by the voter rule. Here the certification is held (the membership) but never
// applied: however caught up gatuna's log, the leader does not promote it.
TEST_F(OrderPlaneTest, ALearnerIsNotPromotedBeforeItsCertificationIsInTheLedger) {
  OrderPlane& p = *plane;
  int64_t t = 10'000;
  for (; t < 12'000 && p.status().role != "leader"; t += 50) p.tick(t, t);
  ASSERT_EQ(p.status().role, "leader");
  ASSERT_EQ(p.status().learners, std::vector<std::string>{"gatuna"});
  ASSERT_NO_FATAL_FAILURE(certify_gatuna_as_voter());
  // gatuna acknowledges all the leader's log, every tick, for 2 s.
  for (int i = 0; i < 40; ++i) {
    t += 50;
    p.tick(t, t);
    gatuna_acknowledges(p.status().last_index, t);
  }
  EXPECT_EQ(p.status().voters, std::vector<std::string>{"hq"});
  EXPECT_EQ(p.status().learners, std::vector<std::string>{"gatuna"});
}

// The promotion gate opens: the certification stored at the leader goes into its ledger at some
// entry G. gatuna, answering every tick, stays a learner while the leader has not applied G
// (committed is not enough: the gate is read from the ledger), and while its log is short of G
// once it has; it is promoted once its log reaches G.
TEST_F(OrderPlaneTest, ALearnerIsPromotedOnceItsLogReachesTheEntryThatTookItsCertification) {
  applies = true;
  OrderPlane& p = *plane;
  int64_t t = 10'000;
  auto step = [&] {
    t += 50;
    p.tick(t, t);
    run_applies();
  };
  while (t < 12'000 && (p.status().role != "leader" || p.status().applied == 0)) step();
  ASSERT_EQ(p.status().role, "leader");
  // The certification reaches hq as a record of the root feed.
  VerifiedRecord cert;
  ASSERT_NO_FATAL_FAILURE(gatuna_voter_certification(core->membership(), cert));
  ASSERT_TRUE(store
                  ->write([&](StoreTxn& txn) -> Status {
                    EXPECT_EQ(core->ingest(cert, txn).outcome, IngestOutcome::stored);
                    return {};
                  })
                  .ok());
  core->commit_succeeded();
  ASSERT_EQ(core->membership().site("gatuna")->entry.role, VoterRole::voter);
  p.on_membership(core->membership());
  const uint64_t root_seq = cert.record.header.seq.value;
  auto ledger_root_seq = [&] {
    auto txn = store->read();
    EXPECT_TRUE(txn.ok());
    return txn.ok() ? ledger_seq(**txn, root_origin) : 0;
  };
  // For 1 s the writer takes nothing (the entry naming the certification commits, but waits to
  // apply), then applies again; gatuna answers every tick with all that hq applied, or once the
  // certification is applied, with one entry short of the gate, for 2 s.
  uint64_t gate = 0;
  for (int i = 0; i < 200 && (gate == 0 || i < 60); ++i) {
    applies = i >= 20;
    step();
    if (gate == 0 && ledger_root_seq() >= root_seq) gate = p.status().applied;
    const uint64_t match = gate == 0 ? p.status().applied : gate - 1;
    gatuna_acknowledges(match, t);
    ASSERT_EQ(p.status().learners, std::vector<std::string>{"gatuna"})
        << "promoted at match " << match << ", gate " << gate << ", step " << i;
    if (i < 20) {
      ASSERT_EQ(gate, 0u) << "applied while the writer took nothing";
    }
  }
  ASSERT_NE(gate, 0u) << "the certification never went into the ledger";
  // gatuna's log reaches the gate: it is promoted.
  for (int i = 0; i < 40 && p.status().learners.size() == 1; ++i) {
    gatuna_acknowledges(p.status().last_index, t);
    step();
  }
  EXPECT_EQ(p.status().voters, (std::vector<std::string>{"gatuna", "hq"}));
  EXPECT_TRUE(p.status().learners.empty());
}

// A stored signed head that does not decode is derived data (docs/decisions.md): a restart
// passes over it (no head, where the raft log or hard state would stop the node), and the next
// head the leader signs replaces it; a later restart reads that one back.
TEST_F(OrderPlaneTest, AStoredHeadThatDoesNotDecodeIsPassedOverAtStartAndReplaced) {
  applies = true;
  plane.reset();
  ASSERT_TRUE(store
                  ->write([](StoreTxn& t) -> Status {
                    // The order plane's key for its head; 0xc1 is never valid msgpack.
                    t.put_meta("ledger.head", std::string("\xc1 not a head", 12));
                    return {};
                  })
                  .ok());
  make_plane();
  ASSERT_TRUE(plane->start().ok());
  EXPECT_FALSE(plane->status().head.has_value());
  int64_t t = 10'000;
  for (int i = 0; i < 200 && !plane->status().head; ++i) {
    t += 50;
    plane->tick(t, t);
    run_applies();
  }
  ASSERT_TRUE(plane->status().head.has_value()) << "no head signed after the bad one";
  const LedgerHead signed_head = *plane->status().head;
  plane.reset();
  make_plane();
  ASSERT_TRUE(plane->start().ok());
  ASSERT_TRUE(plane->status().head.has_value());
  EXPECT_EQ(plane->status().head->size, signed_head.size);
  EXPECT_EQ(plane->status().head->root, signed_head.root);
}

// A join whose commit fails (a full disk) leaves the node as it was: not joined, of its own
// standalone network, its store without the genesis; the same join then succeeds. (The core took
// the network inside the transaction before, so the second join was refused as "joined".)
TEST_F(OrderPlaneTest, AJoinWhoseCommitFailedLeavesTheNodeUnjoinedAndCanBeRunAgain) {
  auto opened = Store::open(dir + "/gatuna");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  Store& gatuna_store = **opened;
  NodeCore gatuna(NodeIdentity{"standalone-gatuna", "gatuna", SiteKind::border_post},
                  SigningKey::from_seed(test::filled_seed(3)));
  gatuna_store.inject_write_failure(make_error(Errc::disk_full, "injected: the disk is full"));
  const Status failed = join_network(gatuna, gatuna_store, genesis_record);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, Errc::disk_full);
  EXPECT_FALSE(gatuna.membership().joined());
  EXPECT_EQ(gatuna.identity().network_id, "standalone-gatuna");
  {
    auto txn = gatuna_store.read();
    ASSERT_TRUE(txn.ok());
    EXPECT_FALSE((*txn)->record(root_origin, 1).has_value());
  }
  gatuna_store.inject_write_failure(std::nullopt);
  const Status joined = join_network(gatuna, gatuna_store, genesis_record);
  ASSERT_TRUE(joined.ok()) << joined.error().message;
  EXPECT_TRUE(gatuna.membership().joined());
  EXPECT_EQ(gatuna.identity().network_id, "net-test");
  auto txn = gatuna_store.read();
  ASSERT_TRUE(txn.ok());
  EXPECT_TRUE((*txn)->record(root_origin, 1).has_value());
}

// gatuna's own order plane beside hq's (a learner on a store of its own), fed hq's Raft messages
// by hand; hq's records (a feed of two) come to it only when a test gives them.
class GatunaLearner {
 public:
  GatunaLearner(const std::string& dir, const SignedRecord& genesis, const SecretSeed& hq_seed)
      : core_(NodeIdentity{"net-test", "gatuna", SiteKind::border_post},
              SigningKey::from_seed(test::filled_seed(3))) {
    auto opened = Store::open(dir + "/gatuna");
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
    EXPECT_TRUE(join_network(core_, *store_, genesis).ok());
    OrderOptions o;
    o.self = "gatuna";
    o.network_id = "net-test";
    o.tick_ms = 50;
    plane = std::make_unique<OrderPlane>(
        o, core_.membership(), test::filled_seed(3), *store_,
        [](LedgerWork, OrderPlane::ApplyDone) { return false; },  // nothing applies
        [this](const std::string&, raft::Message m) {
          to_hq.push_back(std::move(m));
          return true;
        },
        [](const LedgerHead&) {}, [](const std::string&, const std::vector<WantedChain>&) {},
        [](const std::string&, const LedgerSegment&, bool) {});
    EXPECT_TRUE(plane->start().ok());
    Hash prev{};
    for (uint64_t seq = 1; seq <= 2; ++seq) {
      const Record r = lost_document("hq", seq, prev, "PC100000" + std::to_string(seq));
      hq_records_.push_back(VerifiedRecord{seal(r, SigningKey::from_seed(hq_seed)), r});
      prev = hq_records_.back().signed_record.hash;
    }
  }

  // hq's record `seq` named in the ledger.
  LedgerItem item(uint64_t seq) const {
    return LedgerItem{"hq", seq, hq_records_.at(seq - 1).signed_record.hash};
  }
  static std::string entry_naming(std::vector<LedgerItem> items) {
    LedgerEntry e;
    e.proposer = "hq";
    e.cluster_time_ms = 5'000;
    e.items = std::move(items);
    return encode_ledger_entry(e);
  }
  // hq's append of `data` at `index`, after an entry of term 1 (none at index 1); `commit`: hq's
  // commit index.
  void append(uint64_t index, std::string data, uint64_t commit = 0) {
    raft::Message m;
    m.type = raft::MessageType::app;
    m.from = "hq";
    m.to = "gatuna";
    m.term = 1;
    m.index = index - 1;
    m.log_term = index == 1 ? 0 : 1;
    m.commit = commit;
    m.entries.push_back(raft::Entry{1, index, raft::EntryType::normal, std::move(data)});
    plane->on_message(std::move(m), 10'000);
  }
  // hq's snapshot of its ledger at Raft index `index`, of hq's records through `seq`.
  void snapshot(uint64_t index, uint64_t seq) {
    LedgerSnapshot ls;
    ls.size = seq;
    ls.root = merkle::empty_root();
    ls.frontier = {item(seq)};
    raft::Message snap;
    snap.type = raft::MessageType::snap;
    snap.from = "hq";
    snap.to = "gatuna";
    snap.term = 1;
    snap.snapshot =
        raft::Snapshot{raft::SnapshotMeta{index, 1, raft::ConfState{{"hq"}, {"gatuna"}}},
                       encode_ledger_snapshot(ls)};
    plane->on_message(std::move(snap), 10'000);
  }
  // Whether gatuna acknowledged the log through `index`.
  bool acknowledged(uint64_t index) const {
    for (const raft::Message& m : to_hq)
      if (m.type == raft::MessageType::app_resp && !m.reject && m.index >= index) return true;
    return false;
  }
  // The membership certifies gatuna as a voter: a voter-elect.
  void certify_as_voter() {
    Membership m = core_.membership();
    ASSERT_NO_FATAL_FAILURE(make_gatuna_a_voter(m));
    plane->on_membership(m);
  }
  // hq's records reach gatuna.
  void take_hq_records() {
    ASSERT_TRUE(store_
                    ->write([&](StoreTxn& t) -> Status {
                      for (const VerifiedRecord& r : hq_records_)
                        EXPECT_EQ(core_.ingest(r, t).outcome, IngestOutcome::stored);
                      return {};
                    })
                    .ok());
    core_.commit_succeeded();
  }

  std::unique_ptr<OrderPlane> plane;
  std::vector<raft::Message> to_hq;

 private:
  NodeCore core_;
  std::unique_ptr<Store> store_;
  std::vector<VerifiedRecord> hq_records_;
};

// The learner's side of a promotion. As a plain learner gatuna acknowledges entries whose records
// it lacks (the voter rule is not its own). Certified as a voter (a voter-elect), it acknowledges
// nothing more until it holds the records of the entries it took before, an origin of them quiet
// since included; nor a snapshot whose frontier names records it lacks. Its acknowledgements then
// say that it holds the records, which is what the leader promotes on.
TEST_F(OrderPlaneTest, AVoterElectAcknowledgesOnlyWhatItHoldsTheRecordsOf) {
  GatunaLearner g(dir, genesis_record, hq_seed);
  // A plain learner: takes hq's seq 1 entry without the record.
  g.append(1, g.entry_naming({g.item(1)}));
  ASSERT_TRUE(g.acknowledged(1));
  // Certified as a voter: an entry naming nothing it lacks waits for the one before.
  ASSERT_NO_FATAL_FAILURE(g.certify_as_voter());
  g.append(2, g.entry_naming({}));
  EXPECT_FALSE(g.acknowledged(2));
  EXPECT_EQ(g.plane->status().held_appends, 1u);
  // A snapshot of hq's ledger at index 5, covering seq 2: held too, the records being missing.
  g.snapshot(5, 2);
  EXPECT_FALSE(g.acknowledged(2));
  EXPECT_EQ(g.plane->status().held_appends, 2u);
  // Sent again (after each probe), it replaces the copy held.
  g.snapshot(5, 2);
  EXPECT_EQ(g.plane->status().held_appends, 2u);
  // An append Raft refuses (after an entry this log lacks) acknowledges nothing: it is not held
  // (the leader learns at once where the logs match), whatever the records.
  g.to_hq.clear();
  g.append(9, g.entry_naming({}));
  EXPECT_EQ(g.plane->status().held_appends, 2u);
  ASSERT_EQ(g.to_hq.size(), 1u);
  EXPECT_TRUE(g.to_hq[0].type == raft::MessageType::app_resp && g.to_hq[0].reject);
  // The records come: what was held is acknowledged, in order, at the next tick.
  ASSERT_NO_FATAL_FAILURE(g.take_hq_records());
  g.plane->tick(10'050, 10'050);
  EXPECT_TRUE(g.acknowledged(2));
  EXPECT_TRUE(g.acknowledged(5));
  EXPECT_EQ(g.plane->status().held_appends, 0u);
}

// A learner's committed entries may wait to apply (records missing) while a snapshot after them
// replaces its log: certified as a voter, it checks what waits to apply (those entries, and the
// snapshot queued after them), not only its log.
TEST_F(OrderPlaneTest, AVoterElectChecksCommittedEntriesASnapshotTookOutOfItsLog) {
  GatunaLearner g(dir, genesis_record, hq_seed);
  // A plain learner: entry 1 (hq's seq 1, not held) committed, waiting to apply.
  g.append(1, g.entry_naming({g.item(1)}), 1);
  ASSERT_TRUE(g.acknowledged(1));
  // A snapshot at 5 (hq's ledger through seq 1) replaces the log: entry 1 is no longer in it,
  // only queued to apply.
  g.snapshot(5, 1);
  ASSERT_TRUE(g.acknowledged(5));
  ASSERT_NO_FATAL_FAILURE(g.certify_as_voter());
  // Certified: entry 6 waits for entry 1's record, which is not in its log any more.
  g.append(6, g.entry_naming({}), 5);
  EXPECT_FALSE(g.acknowledged(6));
  EXPECT_EQ(g.plane->status().held_appends, 1u);
  ASSERT_NO_FATAL_FAILURE(g.take_hq_records());
  g.plane->tick(10'050, 10'050);
  EXPECT_TRUE(g.acknowledged(6));
}

// A Raft message the transport could not take (the peer not connected, its queue full) is lost:
// the leader stops streaming appends to that follower and probes it (one append until it
// answers) instead of filling a queue that does not drain, as etcd's ReportUnreachable.
TEST_F(OrderPlaneTest, AFollowerTheTransportCannotTakeMessagesForIsProbed) {
  OrderPlane& p = *plane;
  int64_t t = 10'000;
  for (; t < 12'000 && p.status().role != "leader"; t += 50) p.tick(t, t);
  ASSERT_EQ(p.status().role, "leader");
  // A record of this node's own; the plane proposes the frontier that covers it.
  uint32_t n = 0;
  const auto record_one = [&] {
    Command c;
    c.officer = "officer-1";
    c.body = DocumentStatusRequest{"RWA", "PC" + std::to_string(1'000'000 + n++),
                                   DocumentStatus::lost, std::nullopt};
    ASSERT_TRUE(store
                    ->write([&](StoreTxn& txn) -> Status {
                      auto r = core->execute(c, txn, t);
                      if (!r.ok()) return r.error();
                      return {};
                    })
                    .ok());
    core->commit_succeeded();
  };
  // gatuna acknowledges everything the leader holds: it is replicated to (pipelined).
  const auto ack = [&] {
    const OrderStatus st = p.status();
    raft::Message m;
    m.type = raft::MessageType::app_resp;
    m.from = "gatuna";
    m.to = "hq";
    m.term = st.term;
    m.index = st.last_index;
    p.on_message(m, t);
  };
  ack();
  for (int i = 0; i < 3; ++i) {
    record_one();
    t += 20;
    p.tick(t, t);
    ack();
  }
  const uint64_t streamed = apps_to["gatuna"];
  ASSERT_GE(streamed, 3u);  // one append per proposal while the transport takes them
  // Now the transport cannot take them: one append lost, one probe, then nothing until gatuna
  // answers (each proposal would otherwise send one more).
  transport_takes = false;
  const uint64_t last_before = p.status().last_index;
  for (int i = 0; i < 6; ++i) {
    record_one();
    t += 20;
    p.tick(t, t);
  }
  ASSERT_GE(p.status().last_index, last_before + 6);
  EXPECT_LE(apps_to["gatuna"] - streamed, 2u);
}

// The ledger's frontier (snapshots, GET /v1/ledger/frontier) comes from the ledger's own tips: an
// origin whose committed records this node keeps only beside its feed (a revoked site's record past
// the cut-off, fetched by hash) is named too. Listed from the feeds' heads, it was left out, and
// a node installing such a snapshot never fetched the record.
TEST_F(OrderPlaneTest, TheLedgerFrontierNamesAnOriginHeldOnlyBesideItsFeed) {
  Record r;
  r.header.network_id = "net-test";
  r.header.origin = OriginId("gatuna");
  r.header.seq = Seq(1);
  r.header.hlc = Hlc::make(1'000, 0);
  r.body = DocumentStatusChange{"RWA", "PC7654300", DocumentStatus::lost, "reported", "officer-1"};
  const SignedRecord sr = seal(r, SigningKey::from_seed(test::filled_seed(3)));
  ASSERT_TRUE(store
                  ->write([&](StoreTxn& t) -> Status {
                    t.put_version("gatuna", 1, sr);
                    LedgerEntry e;
                    e.proposer = "hq";
                    e.cluster_time_ms = 2'000;
                    e.items.push_back(LedgerItem{"gatuna", 1, sr.hash});
                    auto applied = apply_ledger_entry(t, 1, 0, e);
                    if (!applied.ok()) return applied.error();
                    EXPECT_EQ(applied->new_records, 1u);
                    return {};
                  })
                  .ok());
  auto txn = store->read();
  ASSERT_TRUE(txn.ok());
  EXPECT_FALSE((*txn)->head("gatuna").has_value());
  const std::vector<LedgerItem> want{LedgerItem{"gatuna", 1, sr.hash}};
  EXPECT_EQ(ledger_frontier(**txn), want);
  EXPECT_EQ(ledger_snapshot(**txn).frontier, want);
}

// A revocation ordered before a record of the revoked site past its cut-off makes that record
// void: one revoked_site_record alert at its position, and "void": true where the API shows it.
TEST_F(OrderPlaneTest, ARecordPastACutOffOrderedAfterTheRevocationIsVoid) {
  std::optional<FeedHead> root_head;
  {
    auto txn = store->read();
    ASSERT_TRUE(txn.ok());
    root_head = (*txn)->head("root");
  }
  ASSERT_TRUE(root_head.has_value());
  auto revocation = make_root_record(test::filled_seed(1), "net-test", 1, root_head->hash,
                                     SiteRevoked{"gatuna", 0, "stolen laptop"}, 5'000);
  ASSERT_TRUE(revocation.ok()) << revocation.error().message;
  Record r;
  r.header.network_id = "net-test";
  r.header.origin = OriginId("gatuna");
  r.header.seq = Seq(1);
  r.header.hlc = Hlc::make(6'000, 0);  // after the revocation in ledger order
  r.body = DocumentStatusChange{"RWA", "PC7654300", DocumentStatus::lost, "reported", "officer-1"};
  const SignedRecord late = seal(r, SigningKey::from_seed(test::filled_seed(3)));
  ASSERT_TRUE(
      store
          ->write([&](StoreTxn& t) -> Status {
            t.put_version("root", 2, *revocation);
            t.put_version("gatuna", 1, late);
            LedgerEntry e;
            e.proposer = "hq";
            e.cluster_time_ms = 7'000;
            e.items = {LedgerItem{"gatuna", 1, late.hash}, LedgerItem{"root", 2, revocation->hash}};
            auto applied = apply_ledger_entry(t, 1, 0, e);
            if (!applied.ok()) return applied.error();
            EXPECT_EQ(applied->new_records, 3u);  // the genesis, the revocation, gatuna/1
            EXPECT_EQ(applied->conflicts, 1u);
            return {};
          })
          .ok());
  auto txn = store->read();
  ASSERT_TRUE(txn.ok());
  const auto state = [](std::string_view, uint64_t) { return "seen"; };
  const NodeIdentity self{"net-test", "hq", SiteKind::hq};
  const PublicKey key = SigningKey::from_seed(hq_seed).public_key();
  const nlohmann::json j = record_json(**txn, "gatuna", 1, false, self, key, state).value();
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["state"], "committed");
  EXPECT_EQ(j["position"], 2u);
  EXPECT_EQ(j.value("void", false), true);
  const nlohmann::json rj = record_json(**txn, "root", 2, false, self, key, state).value();
  EXPECT_EQ(rj["position"], 1u);
  EXPECT_FALSE(rj.contains("void"));
  EXPECT_TRUE(void_in_ledger(**txn, "gatuna", 1, 2));
  EXPECT_FALSE(void_in_ledger(**txn, "gatuna", 1, 0));  // had it been ordered before
}

// A leader may name a fork by a record and the next one that does not link to it (the pair its
// node found: seq n and n + 1, filed at n + 1), while another voter found the same origin's
// equivocation as two records at one seq. That voter once never acknowledged the entry (it held
// neither record at n + 1 and could not fetch one of seq n as n + 1), stalling the ledger: its own
// evidence against the origin now suffices, and without evidence the pair's records are looked
// for, and fetched by hash, at both seqs.
TEST_F(OrderPlaneTest, AForkNamedAsABrokenLinkIsHeldByAVoterThatFoundItAnotherWay) {
  const SignedRecord one = gatuna_record(1, Hash{}, "PC1000001");
  const SignedRecord two = gatuna_record(2, one.hash, "PC1000002");
  const SignedRecord two_other = gatuna_record(2, one.hash, "PC1000003");  // equivocation at seq 2
  const SignedRecord three = gatuna_record(3, two_other.hash, "PC1000004");  // on the other branch
  LedgerEntry e;
  e.proposer = "hq";
  e.forks.push_back(LedgerFork{"gatuna", 3, two.hash, three.hash});  // the broken link, at 3
  const auto check = [&](std::vector<WantedChain>* wanted) {
    auto txn = store->read();
    EXPECT_TRUE(txn.ok());
    return covers(**txn, e, core->membership(), wanted, "hq");
  };
  // Holding gatuna/1 and /2 only: missing; both records asked for at seq 3 and seq 2.
  ASSERT_TRUE(store
                  ->write([&](StoreTxn& t) -> Status {
                    t.put_version("gatuna", 1, one);
                    t.put_version("gatuna", 2, two);
                    return {};
                  })
                  .ok());
  std::vector<WantedChain> wanted;
  EXPECT_EQ(check(&wanted), Coverage::missing);
  EXPECT_NE(std::find(wanted.begin(), wanted.end(), WantedChain{"gatuna", 2, three.hash, 1}),
            wanted.end());
  EXPECT_NE(std::find(wanted.begin(), wanted.end(), WantedChain{"gatuna", 3, three.hash, 2}),
            wanted.end());
  // gatuna/3 fetched: both records held, at seq 2 and seq 3.
  ASSERT_TRUE(store
                  ->write([&](StoreTxn& t) -> Status {
                    t.put_version("gatuna", 3, three);
                    return {};
                  })
                  .ok());
  EXPECT_EQ(check(nullptr), Coverage::held);
}

TEST_F(OrderPlaneTest, AVotersOwnEvidenceAgainstTheOriginHoldsAForkNamedOtherwise) {
  const SignedRecord one = gatuna_record(1, Hash{}, "PC1000001");
  const SignedRecord two = gatuna_record(2, one.hash, "PC1000002");
  const SignedRecord two_other = gatuna_record(2, one.hash, "PC1000003");
  Hash named_a{}, named_b{};  // a pair this node never saw
  named_a.fill(0x5a);
  named_b.fill(0x5b);
  LedgerEntry e;
  e.proposer = "hq";
  e.forks.push_back(LedgerFork{"gatuna", 3, named_a, named_b});
  const auto check = [&] {
    auto txn = store->read();
    EXPECT_TRUE(txn.ok());
    return covers(**txn, e, core->membership(), nullptr, "hq");
  };
  EXPECT_EQ(check(), Coverage::missing);
  ASSERT_TRUE(store
                  ->write([&](StoreTxn& t) -> Status {
                    t.put_version("gatuna", 1, one);
                    t.put_evidence("gatuna", 2, two, two_other);
                    return {};
                  })
                  .ok());
  EXPECT_EQ(check(), Coverage::held);
}

// A ledger entry may name records of this site's own feed signed with its key on another machine
// since this node started (a stolen key): the feed refuses them, but fetched because the ledger
// named them they are kept beside it, so this node applies the entry as every other node does.
// They were refused outright, and this node's ledger stopped there until a restart.
TEST_F(OrderPlaneTest, OwnRecordsSignedElsewhereThatTheLedgerNamesAreKeptBesideTheFeed) {
  {
    auto txn = store->read();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(core->recover(**txn, 1'800'000'000'000).ok());  // this node starts
  }
  Record r;
  r.header.network_id = "net-test";
  r.header.origin = OriginId("hq");
  r.header.seq = Seq(1);
  r.header.hlc = Hlc::make(1'900'000'000'000, 0);  // long after this node started
  r.body = DocumentStatusChange{"RWA", "PC7654300", DocumentStatus::lost, "reported", "officer-1"};
  const SignedRecord sr = seal(r, SigningKey::from_seed(hq_seed));
  IngestResult feed, version;
  ASSERT_TRUE(store
                  ->write([&](StoreTxn& t) -> Status {
                    feed = core->ingest(VerifiedRecord{sr, r}, t);
                    version = core->ingest_version(VerifiedRecord{sr, r}, t);
                    return {};
                  })
                  .ok());
  EXPECT_EQ(feed.outcome, IngestOutcome::rejected);  // gossip's copy: refused by the feed
  EXPECT_EQ(version.outcome, IngestOutcome::stored);
  auto txn = store->read();
  ASSERT_TRUE(txn.ok());
  EXPECT_FALSE((*txn)->head("hq").has_value());
  EXPECT_TRUE((*txn)->version("hq", 1, sr.hash).has_value());
  LedgerEntry e;
  e.proposer = "kigali-airport";
  e.items.push_back(LedgerItem{"hq", 1, sr.hash});
  EXPECT_EQ(covers(**txn, e, core->membership(), nullptr, "hq"), Coverage::held);
}

// A snapshot may name more forks than a record's decoding limits admit (64; a network of a
// hundred sites could see that many equivocate, and a compromised leader can claim them): the
// install writes them, and the ledger state they make still reads (it once stopped the node at
// the next read, and at every restart).
TEST_F(OrderPlaneTest, ASnapshotWithManyForksInstallsAndItsStateStillReads) {
  LedgerSnapshot snap;
  snap.size = 0;
  snap.root = merkle::empty_root();
  for (int i = 0; i < 100; ++i) {
    Hash a{}, b{};
    a.fill(1);
    b.fill(2);
    snap.forks.push_back(RaisedFork{LedgerFork{"site-" + std::to_string(i), 5, a, b}, 0, 4});
  }
  LedgerSegment segment;  // rows [0, 0): the ledger is empty, the forks at its size
  ASSERT_TRUE(store
                  ->write([&](StoreTxn& t) -> Status {
                    auto applied = apply_ledger_segment(t, 7, snap, segment);
                    if (!applied.ok()) return applied.error();
                    EXPECT_EQ(applied->conflicts, 100u);
                    return {};
                  })
                  .ok());
  auto txn = store->read();
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(ledger_snapshot(**txn).forks.size(), 100u);
}

// A segment asked at the ledger's size that arrives once the ledger has moved past it (an earlier
// one, queued before the order plane restarted, landed first) is stale, Errc::conflict: asked
// again, and not counted against the peer (Errc::invalid_field moves the install to another
// peer). One beyond the ledger's size, or that does not fit the snapshot, is the peer's fault.
TEST_F(OrderPlaneTest, ASegmentOvertakenByTheLedgerIsStaleNotThePeersFault) {
  LedgerSnapshot snap;
  snap.size = 4;
  snap.root = merkle::empty_root();
  const auto segment = [](uint64_t from, uint64_t size) {
    LedgerSegment s;
    s.from = from;
    s.size = size;
    return s;
  };
  const auto code = [](const Result<ApplyOutcome>& r) {
    return r.ok() ? Errc::ok : r.error().code;
  };
  const Status written = store->write([&](StoreTxn& t) -> Status {
    t.put_meta("ledger.size", std::string("\0\0\0\0\0\0\0\2", 8));  // 2 rows in
    EXPECT_EQ(read_ledger_meta(t).size, 2u);
    EXPECT_EQ(code(apply_ledger_segment(t, 7, snap, segment(1, 4))), Errc::conflict);
    LedgerSegment beyond = segment(3, 4);  // a row at a position never asked for
    beyond.rows.push_back(LedgerRow{"gatuna", 1, Hash{}, 1'000});
    EXPECT_EQ(code(apply_ledger_segment(t, 7, snap, beyond)), Errc::invalid_field);
    EXPECT_EQ(code(apply_ledger_segment(t, 7, snap, segment(UINT64_MAX, 4))), Errc::invalid_field);
    EXPECT_EQ(code(apply_ledger_segment(t, 7, snap, segment(2, 5))),
              Errc::invalid_field);  // another snapshot's
    return make_error(Errc::conflict, "nothing of it kept");
  });
  EXPECT_EQ(written.ok() ? Errc::ok : written.error().code, Errc::conflict);
  EXPECT_EQ(read_ledger_meta(**store->read()).size, 0u);
}

// A map that fills while an entry is applied: the put that fills it may be a position, a Merkle
// node, a view or the ledger state, and the Merkle reads after it then find nothing. Applying must
// not take that for a missing subtree (it once aborted the process there, and again at every
// restart, since the committed entry is applied again): the store grows the map and the entry is
// applied whole. 80 entries of 60 records each, from a 256 KiB map.
TEST(LedgerApplyMapGrowth, AnEntryAppliedWhileTheMapFillsIsAppliedWhole) {
  std::string dir = (std::filesystem::temp_directory_path() / "umupaka-apply-XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  {
    auto opened = Store::open(dir + "/store", lmdb::EnvOptions{.map_bytes = 256 << 10});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    Store& store = **opened;
    const SigningKey key = SigningKey::from_seed(test::filled_seed(3));
    Hash prev{};
    uint64_t seq = 0;
    std::vector<Hash> hashes;  // of gatuna/1, gatuna/2, ...: the ledger's order here
    constexpr uint64_t entries = 80, per_entry = 60;
    for (uint64_t index = 1; index <= entries; ++index) {
      std::vector<SignedRecord> batch;
      for (uint64_t i = 0; i < per_entry; ++i) {
        Record r;
        r.header.network_id = "net-test";
        r.header.origin = OriginId("gatuna");
        r.header.seq = Seq(++seq);
        r.header.prev_hash = prev;
        r.header.hlc = Hlc::make(1'000 + static_cast<int64_t>(seq), 0);
        r.body = DocumentStatusChange{"RWA", "PC" + std::to_string(7'000'000 + seq),
                                      DocumentStatus::lost, "reported", "officer-1"};
        batch.push_back(seal(r, key));
        prev = batch.back().hash;
        hashes.push_back(prev);
      }
      const Status s = store.write([&](StoreTxn& t) -> Status {
        for (uint64_t i = 0; i < per_entry; ++i)
          t.put_version("gatuna", seq - per_entry + 1 + i, batch[i]);
        LedgerEntry e;
        e.proposer = "hq";
        e.cluster_time_ms = 2'000 + static_cast<int64_t>(index);
        e.items.push_back(LedgerItem{"gatuna", seq, prev});
        auto applied = apply_ledger_entry(t, index, index - 1, e);
        if (!applied.ok()) return applied.error();
        return {};
      });
      ASSERT_TRUE(s.ok()) << "entry " << index << ": " << s.error().message;
    }
    EXPECT_GE(store.map_grows(), 3u);
    auto txn = store.read();
    ASSERT_TRUE(txn.ok());
    const LedgerSnapshot snap = ledger_snapshot(**txn);
    EXPECT_EQ(snap.size, entries * per_entry);
    // The root is the RFC 6962 root of the records' hashes in order, as if nothing had failed.
    merkle::MemoryTree tree;
    for (const Hash& h : hashes) tree.append(merkle::leaf_hash(h));
    ASSERT_EQ(tree.size(), snap.size);
    EXPECT_EQ(snap.root, merkle::root(tree, snap.size));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace umupaka

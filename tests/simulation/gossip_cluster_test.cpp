// The data plane end to end (DESIGN.md §3): real node cores, gossip cores and LMDB stores in one
// process, on a simulated network with faults (simulation/sim_cluster.hpp), fed with realistic
// traffic from the posts' profiles (node/traffic.hpp). The cluster checks its invariants after
// every step (no acknowledged record lost, nothing unverified stored, feeds only grow); each test
// checks them once more in full at the end and asserts its own property.
//
// Seeds: the multi-seed test runs ten seeds, or only UMUPAKA_TEST_SEED when set; every test
// prints its seed on failure (SCOPED_TRACE). Re-run with UMUPAKA_TEST_SEED=<seed> to reproduce.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ledger/assert.hpp"
#include "ledger/codec.hpp"
#include "ledger/date.hpp"
#include "ledger/record.hpp"
#include "node/network_setup.hpp"
#include "node/traffic.hpp"
#include "simulation/byzantine.hpp"
#include "simulation/sim_cluster.hpp"
#include "tests/simulation/sim_test_support.hpp"

namespace umupaka::sim {
namespace {

using namespace simtest;

// A head of `origin` as every node holds it (after convergence).
// (a) No faults: everything recorded reaches everyone.
TEST(GossipCluster, ConvergesWithoutFaults) {
  const uint64_t seed = test_seeds({20260302}).front();
  SCOPED_TRACE(seed_trace(seed));
  const auto options = cluster_options(seed, 7, clean_link());
  SimCluster c(options);
  Traffic traffic(c, posts_of(options, {"hq"}), seed);
  traffic.run(4'000, 100);
  EXPECT_GT(traffic.recorded, 200u);
  EXPECT_TRUE(c.run_until_converged(10'000)) << describe(c);
  expect_everyone_holds_acknowledged(c);
  expect_invariants(c);
}

// A quiet network skips anti-entropy rounds where neither side has anything new, and still gets
// a late record everywhere: the node that has it starts the rounds.
TEST(GossipCluster, QuietNetworkSkipsDigestsAndStillSpreadsRecords) {
  const uint64_t seed = test_seeds({77}).front();
  SCOPED_TRACE(seed_trace(seed));
  const auto options = cluster_options(seed, 7, clean_link());
  SimCluster c(options);
  Traffic traffic(c, posts_of(options, {"hq"}), seed);
  traffic.run(1'000, 100);
  ASSERT_TRUE(c.run_until_converged(10'000)) << describe(c);
  c.run_for(2'000);
  auto skipped = [&] {
    uint64_t n = 0;
    for (const auto& site : c.sites()) n += c.gossip(site).stats().digests_skipped;
    return n;
  };
  const uint64_t before = skipped();
  c.run_for(10'000);
  // Seven nodes, six peers each, one round per peer per 500 ms: ~840 rounds in 10 s, most idle.
  EXPECT_GT(skipped() - before, 400u);
  traffic.run(300, 100);
  EXPECT_TRUE(c.run_until_converged(10'000)) << describe(c);
  expect_everyone_holds_acknowledged(c);
  expect_invariants(c);
}

// A node's records committed less than push_interval_ms after its last push wait and travel
// together: each peer checks one signature for the run (its links cover the rest). The first
// record after a quiet spell leaves at once. With the interval at 0 every commit is its own push
// and each peer checks every record.
TEST(GossipCluster, RecordsWithinAPushIntervalCostEachPeerOneSignatureCheck) {
  const uint64_t seed = test_seeds({606}).front();
  SCOPED_TRACE(seed_trace(seed));
  for (const uint32_t interval : {20u, 0u}) {
    SCOPED_TRACE("push_interval_ms " + std::to_string(interval));
    auto options = cluster_options(seed, 3, clean_link());
    options.gossip.push_interval_ms = interval;
    SimCluster c(options);
    c.run_for(3'000);
    TrafficGenerator gen(profile_for("gatuna", SiteKind::border_post), seed, 300);
    auto record_one = [&] {
      for (;;)
        for (auto& e : gen.next(date_of_instant_ms(c.now_ms())))
          if (std::holds_alternative<CrossingRequest>(e.body)) {
            ASSERT_TRUE(c.record("gatuna", Command{std::move(e.body), "officer-1"}).ok());
            return;
          }
    };
    auto checks = [&] {
      uint64_t n = 0;
      for (const auto& site : c.sites())
        if (site != "gatuna") n += c.gossip(site).stats().signatures_verified;
      return n;
    };
    const uint64_t before = checks();
    record_one();
    EXPECT_FALSE(c.gossip("gatuna").push_due_ms().has_value());  // pushed at once
    const int64_t first_push = c.now_ms();
    c.run_for(1);
    record_one();
    record_one();
    if (interval > 0) {
      ASSERT_TRUE(c.gossip("gatuna").push_due_ms().has_value());
      EXPECT_EQ(*c.gossip("gatuna").push_due_ms(), first_push + interval);
    }
    ASSERT_TRUE(c.run_until_converged(5'000)) << describe(c);
    EXPECT_FALSE(c.gossip("gatuna").push_due_ms().has_value());
    EXPECT_EQ(checks() - before, interval > 0 ? 2u * 2 : 2u * 3);
    expect_everyone_holds_acknowledged(c);
    expect_invariants(c);
  }
}

// In a network larger than anti_entropy_peers_max + 1, a node runs at most that many rounds per
// interval (here 2 of 6 peers per 500 ms), and records still reach everyone.
TEST(GossipCluster, AntiEntropyRoundsAreBoundedPerInterval) {
  const uint64_t seed = test_seeds({88}).front();
  SCOPED_TRACE(seed_trace(seed));
  auto options = cluster_options(seed, 7, clean_link());
  options.gossip.anti_entropy_peers_max = 2;
  SimCluster c(options);
  Traffic traffic(c, posts_of(options, {"hq"}), seed);
  traffic.run(1'000, 100);
  const uint64_t before = c.gossip("hq").stats().anti_entropy_rounds;
  traffic.run(10'000, 50);  // records all the time: no round is idle
  const uint64_t rounds = c.gossip("hq").stats().anti_entropy_rounds - before;
  EXPECT_GT(rounds, 20u);
  EXPECT_LE(rounds, 44u);  // 2 per 500 ms over 10 s, and the spread's rounding
  EXPECT_TRUE(c.run_until_converged(10'000)) << describe(c);
  expect_everyone_holds_acknowledged(c);
  expect_invariants(c);
}

// (b) Loss, duplication, reordering and delay: converges once traffic stops, for ten seeds.
TEST(GossipCluster, ConvergesDespiteLossDuplicationAndReordering) {
  for (const uint64_t seed : test_seeds({1, 2, 3, 5, 8, 13, 21, 34, 55, 89})) {
    SCOPED_TRACE(seed_trace(seed));
    const auto options = cluster_options(seed, 5, lossy_link());
    SimCluster c(options);
    Traffic traffic(c, posts_of(options, {"hq"}), seed);
    traffic.run(4'000, 100);
    EXPECT_TRUE(c.run_until_converged(60'000)) << describe(c);
    EXPECT_GT(c.network().stats().lost, 0u);
    EXPECT_GT(c.network().stats().duplicated, 0u);
    expect_everyone_holds_acknowledged(c);
    expect_invariants(c);
  }
}

// (c) Two posts cut off from the rest keep gossiping with each other; after the heal, everyone
// converges.
TEST(GossipCluster, PartitionedPairKeepsExchangingAndConvergesAfterHeal) {
  const uint64_t seed = test_seeds({77}).front();
  SCOPED_TRACE(seed_trace(seed));
  const auto options = cluster_options(seed, 7, clean_link());
  SimCluster c(options);
  Traffic traffic(c, posts_of(options, {"hq"}), seed);
  traffic.run(1'000, 100);
  ASSERT_TRUE(c.run_until_converged(10'000)) << describe(c);

  const std::vector<std::string> pair = {"rusumo", "kagitumba"};
  const std::vector<std::string> rest = {"hq", "kigali-airport", "gatuna", "rubavu-corniche",
                                         "nemba"};
  const uint64_t rusumo_before = c.head_seq("rusumo", "rusumo");
  const uint64_t kagitumba_before = c.head_seq("kagitumba", "kagitumba");
  c.network().partition(pair, rest);
  traffic.run(5'000, 100);  // both sides record; the rest declares the pair dead meanwhile
  c.run_for(2'000);

  // The pair exchanged their new records across the cut-off period...
  const uint64_t rusumo_now = c.head_seq("rusumo", "rusumo");
  const uint64_t kagitumba_now = c.head_seq("kagitumba", "kagitumba");
  EXPECT_GT(rusumo_now, rusumo_before);
  EXPECT_GT(kagitumba_now, kagitumba_before);
  EXPECT_EQ(c.head_seq("kagitumba", "rusumo"), rusumo_now);
  EXPECT_EQ(c.head_seq("rusumo", "kagitumba"), kagitumba_now);
  EXPECT_TRUE(c.converged({"hq", "kigali-airport", "gatuna", "rubavu-corniche", "nemba"}));
  // ...and so did the rest, while none of the pair's new records crossed.
  EXPECT_TRUE(c.converged({"rusumo", "kagitumba"}));
  for (const auto& site : rest) {
    EXPECT_EQ(c.head_seq(site, "rusumo"), rusumo_before) << site;
    EXPECT_EQ(c.head_seq(site, "kagitumba"), kagitumba_before) << site;
  }
  EXPECT_GT(c.head_seq("hq", "gatuna"), c.head_seq("rusumo", "gatuna"));

  c.network().heal();
  EXPECT_TRUE(c.run_until_converged(30'000)) << describe(c);
  expect_everyone_holds_acknowledged(c);
  expect_invariants(c);
}

// (d) A node crashed while the others record catches up after its restart, and keeps every
// record it had acknowledged.
TEST(GossipCluster, CrashedNodeCatchesUpAfterRestart) {
  const uint64_t seed = test_seeds({4242}).front();
  SCOPED_TRACE(seed_trace(seed));
  const auto options = cluster_options(seed, 6, clean_link());
  SimCluster c(options);
  Traffic traffic(c, posts_of(options, {"hq"}), seed);
  traffic.run(1'500, 100);
  const uint64_t own_before_crash = c.head_seq("rusumo", "rusumo");
  ASSERT_GT(own_before_crash, 0u);
  c.crash("rusumo");
  traffic.run(4'000, 100);  // the others record; rusumo's messages in flight are dropped
  c.restart("rusumo");
  EXPECT_EQ(c.head_seq("rusumo", "rusumo"), own_before_crash);
  EXPECT_LT(c.head_seq("rusumo", "gatuna"), c.head_seq("gatuna", "gatuna"));
  traffic.run(1'000, 100);  // rusumo records again, continuing its feed
  EXPECT_GT(c.head_seq("rusumo", "rusumo"), own_before_crash);
  EXPECT_TRUE(c.run_until_converged(30'000)) << describe(c);
  EXPECT_GT(c.stats().frames_to_crashed, 0u);
  expect_everyone_holds_acknowledged(c);
  expect_invariants(c);
}

// (e) A record of a member's origin with a bad signature, relayed by a peer (alone, and as a
// linked run), is rejected by the receiver and never stored anywhere.
TEST(GossipCluster, ForgedRecordIsNeverStored) {
  const uint64_t seed = test_seeds({99}).front();
  SCOPED_TRACE(seed_trace(seed));
  const auto options = cluster_options(seed, 6, clean_link());
  SimCluster c(options);
  Traffic traffic(c, posts_of(options, {"hq"}), seed);
  traffic.run(1'000, 100);
  ASSERT_TRUE(c.run_until_converged(10'000)) << describe(c);

  const FrontierEntry head = head_of(c, "gatuna", "gatuna");
  const auto base = c.stored_record("gatuna", "gatuna", head.seq);
  ASSERT_TRUE(base.has_value());
  SecretSeed wrong{};
  wrong.fill(7);
  const SigningKey forger = SigningKey::from_seed(wrong);
  const SignedRecord forged = reseal(*base, head.seq + 1, head.hash, 1, forger);
  std::vector<SignedRecord> run;
  Hash prev = head.hash;
  for (uint64_t i = 1; i <= 3; ++i) {
    run.push_back(reseal(*base, head.seq + i, prev, i, forger));
    prev = run.back().hash;
  }
  const uint64_t rejected_rusumo = c.gossip("rusumo").stats().records_rejected;
  const uint64_t rejected_kagitumba = c.gossip("kagitumba").stats().records_rejected;
  c.inject("hq", "rusumo", message_of(GossipType::push, {forged}));
  c.inject("kigali-airport", "kagitumba", message_of(GossipType::records, run));
  c.run_for(3'000);

  EXPECT_GE(c.gossip("rusumo").stats().records_rejected, rejected_rusumo + 1);
  EXPECT_GE(c.gossip("kagitumba").stats().records_rejected, rejected_kagitumba + 3);
  for (const auto& site : c.sites()) EXPECT_EQ(c.head_seq(site, "gatuna"), head.seq) << site;

  // gatuna's real next record takes the slot everywhere.
  traffic.run(1'000, 100);
  ASSERT_TRUE(c.run_until_converged(10'000)) << describe(c);
  const auto real = c.stored_record("gatuna", "gatuna", head.seq + 1);
  ASSERT_TRUE(real.has_value());
  for (const auto& site : c.sites()) {
    const auto held = c.stored_record(site, "gatuna", head.seq + 1);
    ASSERT_TRUE(held.has_value()) << site;
    EXPECT_EQ(held->hash, real->hash) << site;
    EXPECT_NE(held->hash, forged.hash) << site;
    EXPECT_TRUE(c.core(site).quarantine().empty()) << site;
  }
  expect_everyone_holds_acknowledged(c);
  expect_invariants(c);
}

// A member signs, with its own key, records its node would never have sealed: seq 0 (found no
// record at its slot: the writer aborted), a revocation outside HQ's root feed (voided another
// site's feed in the ledger), a document number too long for the store's index (failed every
// write it was batched with). Every peer refuses them as it refuses a forged signature; the
// member's real next record takes the slot, and nothing else is quarantined.
TEST(GossipCluster, ARecordBreakingTheRulesItsOriginChecksIsRefusedByEveryPeer) {
  const uint64_t seed = test_seeds({101}).front();
  SCOPED_TRACE(seed_trace(seed));
  const auto options = cluster_options(seed, 6, clean_link());
  SimCluster c(options);
  Traffic traffic(c, posts_of(options, {"hq"}), seed);
  traffic.run(1'000, 100);
  ASSERT_TRUE(c.run_until_converged(10'000)) << describe(c);

  const FrontierEntry head = head_of(c, "gatuna", "gatuna");
  const auto base = c.stored_record("gatuna", "gatuna", head.seq);
  ASSERT_TRUE(base.has_value());
  const SigningKey key = c.signing_key("gatuna");
  auto signed_as = [&](auto change) {
    auto r = decode_record(base->encoded);
    UMUPAKA_ASSERT(r.ok());
    r->header.seq = Seq(head.seq + 1);
    r->header.prev_hash = head.hash;
    change(*r);
    return seal(*r, key);
  };
  const SignedRecord seq_zero = signed_as([](Record& r) {
    r.header.seq = Seq(0);
    r.header.prev_hash = zero_hash;
  });
  const SignedRecord revocation = signed_as([](Record& r) {
    r.body = SiteRevoked{"rusumo", 0, "forged"};
  });
  const SignedRecord long_number = signed_as([](Record& r) {
    auto* crossing = std::get_if<Crossing>(&r.body);
    UMUPAKA_ASSERT(crossing != nullptr);
    crossing->document.number = std::string(600, 'A');
  });
  std::vector<uint64_t> rejected;
  for (const auto& site : c.sites()) rejected.push_back(c.gossip(site).stats().records_rejected);
  c.inject("gatuna", "hq", message_of(GossipType::push, {seq_zero}));
  c.inject("gatuna", "rusumo", message_of(GossipType::push, {revocation}));
  c.inject("gatuna", "kagitumba", message_of(GossipType::push, {long_number}));
  c.inject("gatuna", "kigali-airport", message_of(GossipType::records, {seq_zero, revocation}));
  c.run_for(3'000);

  for (size_t i = 0; i < c.sites().size(); ++i) {
    const std::string& site = c.sites()[i];
    if (site == "hq" || site == "rusumo" || site == "kagitumba" || site == "kigali-airport") {
      EXPECT_GE(c.gossip(site).stats().records_rejected, rejected[i] + 1) << site;
    }
    EXPECT_EQ(c.head_seq(site, "gatuna"), head.seq) << site;
  }
  traffic.run(1'000, 100);
  ASSERT_TRUE(c.run_until_converged(10'000)) << describe(c);
  const auto real = c.stored_record("gatuna", "gatuna", head.seq + 1);
  ASSERT_TRUE(real.has_value());
  for (const auto& site : c.sites()) {
    const auto held = c.stored_record(site, "gatuna", head.seq + 1);
    ASSERT_TRUE(held.has_value()) << site;
    EXPECT_EQ(held->hash, real->hash) << site;
    EXPECT_TRUE(c.core(site).quarantine().empty()) << site;
  }
  expect_everyone_holds_acknowledged(c);
  expect_invariants(c);
}

// One evidence frame cannot make a node check thousands of signatures: 2,000 pairs of one
// record twice, or of a real record and a forged one, cost at most one pair's checks, and the
// frame is refused. (Each pair was checked, both records, before the pair was judged.)
TEST(GossipCluster, AFloodOfBogusEvidenceInOneFrameCostsOnePairsChecks) {
  const uint64_t seed = test_seeds({103}).front();
  SCOPED_TRACE(seed_trace(seed));
  const auto options = cluster_options(seed, 6, clean_link());
  SimCluster c(options);
  Traffic traffic(c, posts_of(options, {"hq"}), seed);
  traffic.run(1'000, 100);
  ASSERT_TRUE(c.run_until_converged(10'000)) << describe(c);
  const FrontierEntry head = head_of(c, "gatuna", "gatuna");
  const auto real = c.stored_record("gatuna", "gatuna", head.seq);
  ASSERT_TRUE(real.has_value());
  SecretSeed wrong{};
  wrong.fill(9);
  const SignedRecord forged = reseal(*real, head.seq, real->hash, 1, SigningKey::from_seed(wrong));
  const WireRecord r{real->encoded, real->signature}, f{forged.encoded, forged.signature};
  for (const WireRecord& other : {r, f}) {
    GossipMessage m;
    m.type = GossipType::evidence;
    m.evidence.assign(2'000, WireEvidence{r, other});
    const auto before = c.gossip("rusumo").stats();
    c.inject("hq", "rusumo", std::move(m));
    c.run_for(500);
    const auto after = c.gossip("rusumo").stats();
    EXPECT_LE(after.signatures_verified - before.signatures_verified, 2u);
    EXPECT_EQ(after.messages_invalid - before.messages_invalid, 1u);
  }
  for (const auto& site : c.sites()) EXPECT_TRUE(c.core(site).quarantine().empty()) << site;
  // A pair this node does not admit (an origin revoked since, or not certified here yet: an
  // honest peer may hold one) is skipped, and the pairs after it are still read.
  SecretSeed other{};
  other.fill(11);
  auto stranger = decode_record(real->encoded);
  ASSERT_TRUE(stranger.ok());
  stranger->header.origin = OriginId("nemba");
  const SignedRecord s1 = seal(*stranger, SigningKey::from_seed(other));
  stranger->header.hlc = Hlc{stranger->header.hlc.value + 1};
  const SignedRecord s2 = seal(*stranger, SigningKey::from_seed(other));
  const SignedRecord twin = reseal(*real, head.seq, decode_record(real->encoded)->header.prev_hash,
                                   1, c.signing_key("gatuna"));
  GossipMessage m;
  m.type = GossipType::evidence;
  m.evidence = {WireEvidence{{s1.encoded, s1.signature}, {s2.encoded, s2.signature}},
                WireEvidence{r, {twin.encoded, twin.signature}}};
  c.inject("hq", "rusumo", std::move(m));
  c.run_for(500);
  EXPECT_EQ(c.core("rusumo").quarantine().count("gatuna"), 1u);
  expect_invariants(c);
}

// A peer that keeps saying it holds nothing gets the records it lacks at most once per 125 ms,
// not a batch for each of its digests; a node catching up still gets its batches back to back.
TEST(GossipCluster, DigestsFasterThanANodeSendsThemAreNotAnsweredWithRecords) {
  const uint64_t seed = test_seeds({105}).front();
  SCOPED_TRACE(seed_trace(seed));
  auto options = cluster_options(seed, 6, clean_link());
  options.gossip.batch_records_max = 20;  // so that a catch-up takes many batches
  SimCluster c(options);
  Traffic traffic(c, posts_of(options, {"hq"}), seed);
  traffic.run(1'000, 100);
  ASSERT_TRUE(c.run_until_converged(10'000)) << describe(c);
  const auto before = c.gossip("rusumo").stats();
  for (int i = 0; i < 100; ++i) {
    GossipMessage m;
    m.type = GossipType::digest;
    c.inject("hq", "rusumo", std::move(m));
  }
  c.run_for(60);
  const auto after = c.gossip("rusumo").stats();
  EXPECT_GE(after.digests_refused - before.digests_refused, 98u);
  // A node far behind still catches up, its batches back to back: the reply that follows a
  // batch marked `more` is answered at once. (3 s here; without that exception, ~30 s.)
  c.crash("gatuna");
  traffic.run(8'000, 10);
  c.restart("gatuna");
  uint64_t behind = 0;
  for (const auto& h : c.heads("hq")) behind += h.seq - c.head_seq("gatuna", h.origin);
  EXPECT_GT(behind, 150u * 20u);
  EXPECT_TRUE(c.run_until_converged(6'000)) << describe(c);
  expect_everyone_holds_acknowledged(c);
  expect_invariants(c);
}

// A SWIM message names its sender; it must be the peer the transport authenticated, or one
// member could answer our probes of another (a dead one would never be suspected).
TEST(GossipCluster, ASwimMessageInAnotherMembersNameIsRefused) {
  const uint64_t seed = test_seeds({104}).front();
  SCOPED_TRACE(seed_trace(seed));
  const auto options = cluster_options(seed, 6, clean_link());
  SimCluster c(options);
  c.run_for(2'000);
  GossipMessage m;
  m.type = GossipType::swim;
  m.swim = swim::Message{swim::MessageType::ping, "gatuna", "rusumo", 1, "rusumo", {}};
  const uint64_t before = c.gossip("rusumo").stats().messages_invalid;
  c.inject("hq", "rusumo", m);
  c.run_for(100);
  EXPECT_EQ(c.gossip("rusumo").stats().messages_invalid, before + 1);
  // The same ping in its own sender's name is answered as ever.
  m.from = "gatuna";
  c.inject("gatuna", "rusumo", m);
  c.run_for(100);
  EXPECT_EQ(c.gossip("rusumo").stats().messages_invalid, before + 1);
  expect_invariants(c);
}

// A frame of an order-plane type (Raft, ledger head, ledger segment) that lacks its payload is
// routed to the gossip core, which counts it invalid: refused visibly, not dropped in silence.
TEST(GossipCluster, AnOrderPlaneFrameWithoutItsPayloadIsCountedInvalid) {
  const uint64_t seed = test_seeds({104}).front();
  SCOPED_TRACE(seed_trace(seed));
  const auto options = cluster_options(seed, 6, clean_link());
  SimCluster c(options);
  c.run_for(2'000);
  uint64_t expected = c.gossip("rusumo").stats().messages_invalid;
  for (const GossipType t :
       {GossipType::raft, GossipType::head, GossipType::ledger_fetch, GossipType::ledger_rows}) {
    SCOPED_TRACE(static_cast<int>(t));
    GossipMessage m;
    m.type = t;
    c.inject("hq", "rusumo", std::move(m));
    c.run_for(100);
    EXPECT_EQ(c.gossip("rusumo").stats().messages_invalid, ++expected);
  }
  expect_invariants(c);
}

// A `versions` answer that nobody asked for is refused, even when its records are truly signed
// by their origin (a second version of a slot): versions are taken only as the chains a node
// fetched by hash because its committed ledger names them.
TEST(GossipCluster, VersionsNotAskedForAreRefused) {
  const uint64_t seed = test_seeds({2024}).front();
  SCOPED_TRACE(seed_trace(seed));
  const auto options = cluster_options(seed, 5, clean_link());
  SimCluster c(options);
  Traffic traffic(c, posts_of(options, {"hq"}), seed);
  traffic.run(1'000, 100);
  ASSERT_TRUE(c.run_until_converged(10'000)) << describe(c);
  const FrontierEntry head = head_of(c, "gatuna", "gatuna");
  const auto base = c.stored_record("gatuna", "gatuna", head.seq);
  ASSERT_TRUE(base.has_value());
  const SignedRecord other = reseal(*base, head.seq, base->hash, 1, c.signing_key("gatuna"));
  const SignedRecord next = reseal(*base, head.seq + 1, head.hash, 2, c.signing_key("gatuna"));
  const uint64_t rejected = c.gossip("rusumo").stats().records_rejected;
  c.inject("hq", "rusumo", message_of(GossipType::versions, {next, other}));
  c.run_for(2'000);
  EXPECT_EQ(c.gossip("rusumo").stats().records_rejected, rejected + 2);
  EXPECT_EQ(c.gossip("rusumo").stats().versions_received, 0u);
  EXPECT_EQ(c.head_seq("rusumo", "gatuna"), head.seq);
  EXPECT_TRUE(c.core("rusumo").quarantine().empty());
  expect_invariants(c);
}

// (f) HQ revokes a post (a SiteRevoked root record through POST /v1/membership's path) while the
// post is cut off and keeps recording; its records past the cut-off never reach another store,
// neither by gossip after the heal nor relayed by a peer, although signed with its real key.
TEST(GossipCluster, RecordPastRevocationCutOffIsNeverStored) {
  const uint64_t seed = test_seeds({314}).front();
  SCOPED_TRACE(seed_trace(seed));
  const auto options = cluster_options(seed, 6, clean_link());
  SimCluster c(options);
  Traffic traffic(c, posts_of(options, {"hq"}), seed);
  traffic.run(1'000, 100);
  ASSERT_TRUE(c.run_until_converged(10'000)) << describe(c);

  const std::string revoked = "rusumo";
  const std::vector<std::string> others = {"hq", "kigali-airport", "gatuna", "rubavu-corniche",
                                           "kagitumba"};
  c.network().partition({revoked}, others);
  const uint64_t cutoff = c.head_seq(revoked, revoked);
  const Membership& m = c.core("hq").membership();
  auto root = make_root_record(c.root_seed(), c.network_id(), m.root_seq(), m.root_head(),
                               SiteRevoked{revoked, cutoff, "signing key compromised"}, c.now_ms());
  ASSERT_TRUE(root.ok()) << root.error().message;
  auto posted = c.post_membership("hq", *root);
  ASSERT_TRUE(posted.ok()) << posted.error().message;
  EXPECT_EQ(posted->outcome, IngestOutcome::stored) << posted->reason;

  traffic.run(3'000, 100);  // the revoked post, unaware, records past its cut-off
  ASSERT_GT(c.head_seq(revoked, revoked), cutoff);
  ASSERT_TRUE(c.run_until_converged(10'000, {revoked})) << describe(c);
  for (const auto& site : others) {
    const MemberSite* s = c.core(site).membership().site(revoked);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->revoked_after, std::optional<uint64_t>(cutoff)) << site;
    for (const auto& p : c.gossip(site).peers()) EXPECT_NE(p.site, revoked) << site;
  }

  c.network().heal();
  c.run_for(5'000);
  // A peer relays the revoked post's real record past the cut-off, and a fresh one signed with
  // its real key.
  const auto past = c.stored_record(revoked, revoked, cutoff + 1);
  ASSERT_TRUE(past.has_value());
  const FrontierEntry own = head_of(c, revoked, revoked);
  const auto newest = c.stored_record(revoked, revoked, own.seq);
  ASSERT_TRUE(newest.has_value());
  const SignedRecord fresh = reseal(*newest, own.seq + 1, own.hash, 1, c.signing_key(revoked));
  const uint64_t rejected = c.gossip("gatuna").stats().records_rejected;
  c.inject("kagitumba", "gatuna", message_of(GossipType::push, {*past}));
  c.inject("kagitumba", "gatuna", message_of(GossipType::push, {fresh}));
  c.run_for(3'000);
  EXPECT_GE(c.gossip("gatuna").stats().records_rejected, rejected + 2);
  for (const auto& site : others) EXPECT_EQ(c.head_seq(site, revoked), cutoff) << site;
  EXPECT_TRUE(c.converged({revoked})) << describe(c);
  expect_everyone_holds_acknowledged(c, {revoked});
  expect_invariants(c);
}

// Rusumo, cut off from every other site, records past `cutoff` (its head as the others hold it);
// `past` gets its records cutoff + 2 and cutoff + 3, which a peer can relay without cutoff + 1.
void cut_off_rusumo_recording_past(SimCluster& c, Traffic& traffic, uint64_t& cutoff,
                                   std::vector<SignedRecord>& past) {
  c.network().partition({"rusumo"},
                        {"hq", "kigali-airport", "gatuna", "rubavu-corniche", "kagitumba"});
  cutoff = c.head_seq("gatuna", "rusumo");
  traffic.run(2'000, 100);
  ASSERT_GE(c.head_seq("rusumo", "rusumo"), cutoff + 3);
  for (const uint64_t seq : {cutoff + 2, cutoff + 3}) {
    const auto r = c.stored_record("rusumo", "rusumo", seq);
    ASSERT_TRUE(r.has_value()) << seq;
    past.push_back(*r);
  }
}

// HQ's revocation of `site` at `cutoff`, posted at `at` (POST /v1/membership's path).
void post_revocation(SimCluster& c, const std::string& at, const std::string& site,
                     uint64_t cutoff) {
  const Membership& m = c.core(at).membership();
  auto root = make_root_record(c.root_seed(), c.network_id(), m.root_seq(), m.root_head(),
                               SiteRevoked{site, cutoff, "post closed"}, c.now_ms());
  ASSERT_TRUE(root.ok()) << root.error().message;
  const auto posted = c.post_membership(at, *root);
  ASSERT_TRUE(posted.ok()) << posted.error().message;
  EXPECT_EQ(posted->outcome, IngestOutcome::stored) << posted->reason;
}

// Records of a post that a node holds out of order (their predecessor not there yet) when HQ's
// revocation of the post arrives: those past its cut-off can never be stored, and are let go.
TEST(GossipCluster, HeldRecordsPastARevocationCutOffAreLetGo) {
  const uint64_t seed = test_seeds({315}).front();
  SCOPED_TRACE(seed_trace(seed));
  const auto options = cluster_options(seed, 6, clean_link());
  SimCluster c(options);
  Traffic traffic(c, posts_of(options, {"hq"}), seed);
  traffic.run(1'000, 100);
  ASSERT_TRUE(c.run_until_converged(10'000)) << describe(c);

  uint64_t cutoff = 0;
  std::vector<SignedRecord> past;
  ASSERT_NO_FATAL_FAILURE(cut_off_rusumo_recording_past(c, traffic, cutoff, past));
  // A peer relays them to Gatuna, without the one before: Gatuna holds them.
  c.inject("kagitumba", "gatuna", message_of(GossipType::push, past));
  c.run_for(50);
  ASSERT_EQ(c.gossip("gatuna").records_held(), 2u);

  ASSERT_NO_FATAL_FAILURE(post_revocation(c, "hq", "rusumo", cutoff));
  ASSERT_TRUE(c.run_until(10'000, 20, [&] {
    const MemberSite* s = c.core("gatuna").membership().site("rusumo");
    return s != nullptr && s->revoked_after.has_value();
  }));
  EXPECT_EQ(c.gossip("gatuna").records_held(), 0u);
  EXPECT_EQ(c.head_seq("gatuna", "rusumo"), cutoff);
  expect_invariants(c);
}

// The same records reported as a gap by a batch that commits with the revocation itself (the
// membership change reaches the gossip core first, then the gap): they are not held either.
TEST(GossipCluster, RecordsFoundMissingTheirPredecessorInTheRevocationsBatchAreNotHeld) {
  const uint64_t seed = test_seeds({316}).front();
  SCOPED_TRACE(seed_trace(seed));
  const auto options = cluster_options(seed, 6, clean_link());
  SimCluster c(options);
  Traffic traffic(c, posts_of(options, {"hq"}), seed);
  traffic.run(1'000, 100);
  ASSERT_TRUE(c.run_until_converged(10'000)) << describe(c);

  uint64_t cutoff = 0;
  std::vector<SignedRecord> past;
  ASSERT_NO_FATAL_FAILURE(cut_off_rusumo_recording_past(c, traffic, cutoff, past));
  c.inject("kagitumba", "gatuna", message_of(GossipType::push, past));
  // Delivered and queued for Gatuna's writer, not yet written.
  bool queued = false;
  for (int i = 0; i < 100 && !queued; ++i) {
    c.step();
    queued = c.writes_queued("gatuna").ingests > 0;
  }
  ASSERT_TRUE(queued);
  // Not written yet (else they would be held now: written alone, they are a gap).
  ASSERT_EQ(c.gossip("gatuna").records_held(), 0u);
  const uint64_t gaps = c.gossip("gatuna").stats().records_gap;
  // The revocation, posted at Gatuna, joins the same batch, after them.
  ASSERT_NO_FATAL_FAILURE(post_revocation(c, "gatuna", "rusumo", cutoff));
  // They were found missing their predecessor in that batch (written after the revocation, in
  // a batch of their own, they would have been refused, not a gap).
  EXPECT_EQ(c.gossip("gatuna").stats().records_gap, gaps + 2);
  EXPECT_EQ(c.gossip("gatuna").records_held(), 0u);
  c.run_for(2'000);
  EXPECT_EQ(c.gossip("gatuna").records_held(), 0u);
  EXPECT_EQ(c.head_seq("gatuna", "rusumo"), cutoff);
  expect_invariants(c);
}

// (g) Equivocation: two records of one origin at the same seq, both signed with its key, arrive
// at two different nodes. Every node ends up with the origin quarantined and the evidence stored.
TEST(GossipCluster, EquivocationQuarantinesTheOriginEverywhere) {
  const uint64_t seed = test_seeds({2718}).front();
  SCOPED_TRACE(seed_trace(seed));
  const auto options = cluster_options(seed, 6, clean_link());
  SimCluster c(options);
  Traffic traffic(c, posts_of(options, {"hq"}), seed);
  traffic.run(1'000, 100);
  ASSERT_TRUE(c.run_until_converged(10'000)) << describe(c);

  const std::string liar = "kagitumba";
  const FrontierEntry head = head_of(c, liar, liar);
  const auto base = c.stored_record(liar, liar, head.seq);
  ASSERT_TRUE(base.has_value());
  const SigningKey key = c.signing_key(liar);
  const SignedRecord a = reseal(*base, head.seq + 1, head.hash, 1, key);
  const SignedRecord b = reseal(*base, head.seq + 1, head.hash, 2, key);
  ASSERT_NE(a.hash, b.hash);
  c.inject(liar, "hq", message_of(GossipType::push, {a}));
  c.inject(liar, "rubavu-corniche", message_of(GossipType::push, {b}));
  c.run_for(5'000);

  for (const auto& site : c.sites()) {
    EXPECT_TRUE(c.core(site).quarantine().count(liar)) << site;
    bool evidence = false;
    for (const auto& e : c.evidence(site)) evidence |= e.origin == liar;
    EXPECT_TRUE(evidence) << site;
  }
  // The others go on as before.
  traffic.run(1'000, 100);
  EXPECT_TRUE(c.run_until_converged(10'000, {liar})) << describe(c);
  expect_everyone_holds_acknowledged(c, {liar});
  expect_invariants(c);
}

// (h) Determinism: one seed, one run.
Hash scenario_trace(uint64_t seed) {
  const auto options = cluster_options(seed, 5, lossy_link());
  SimCluster c(options);
  Traffic traffic(c, posts_of(options, {"hq"}), seed);
  traffic.run(1'000, 100);
  c.crash("gatuna");
  traffic.run(1'000, 100);
  c.restart("gatuna");
  c.network().cut_one_way("rusumo", "hq");
  traffic.run(1'000, 100);
  c.network().heal();
  EXPECT_TRUE(c.run_until_converged(30'000)) << describe(c);
  expect_invariants(c);
  return c.trace_hash();
}

TEST(GossipCluster, SameSeedSameTraceDifferentSeedDifferentTrace) {
  const uint64_t seed = test_seeds({1234}).front();
  SCOPED_TRACE(seed_trace(seed));
  const Hash first = scenario_trace(seed);
  const Hash again = scenario_trace(seed);
  const Hash other = scenario_trace(seed + 1);
  EXPECT_EQ(to_hex(first), to_hex(again));
  EXPECT_NE(to_hex(first), to_hex(other));
}

// The checks themselves: a record with a bad signature stored behind the gossip core's back is
// reported at once.
TEST(GossipCluster, ChecksReportARecordStoredWithoutVerification) {
  const uint64_t seed = test_seeds({11}).front();
  SCOPED_TRACE(seed_trace(seed));
  const auto options = cluster_options(seed, 5, clean_link());
  SimCluster c(options);
  Traffic traffic(c, posts_of(options, {"hq"}), seed);
  traffic.run(500, 100);
  ASSERT_TRUE(c.run_until_converged(10'000)) << describe(c);
  c.verify_stores();
  ASSERT_TRUE(c.violations().empty()) << joined(c.violations());

  const FrontierEntry head = head_of(c, "rusumo", "gatuna");
  const auto base = c.stored_record("rusumo", "gatuna", head.seq);
  ASSERT_TRUE(base.has_value());
  SecretSeed wrong{};
  wrong.fill(7);
  const SignedRecord forged =
      reseal(*base, head.seq + 1, head.hash, 1, SigningKey::from_seed(wrong));
  c.tamper("rusumo", [&](StoreTxn& txn) {
    auto r = decode_record(forged.encoded);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(txn.append(forged, r->header).ok());
  });
  ASSERT_EQ(c.violations().size(), 1u) << joined(c.violations());
  EXPECT_NE(c.violations().front().find("does not open"), std::string::npos);
  EXPECT_NE(c.violations().front().find("seed " + std::to_string(seed)), std::string::npos);
}

// Known gaps, found with this harness; enable once fixed (see docs or the harness's report).
//
// Equivocation evidence is flooded once, when a node first detects it (GossipCore::on_ingested,
// evidence_sent_), and anti-entropy never carries evidence (send_missing skips quarantined feeds).
// A node that was down (or cut off) during the flood never learns of the fork, and never
// quarantines the origin.
TEST(GossipCluster, EquivocationReachesANodeThatWasDownDuringTheFlood) {
  const uint64_t seed = test_seeds({2718}).front();
  SCOPED_TRACE(seed_trace(seed));
  const auto options = cluster_options(seed, 6, clean_link());
  SimCluster c(options);
  Traffic traffic(c, posts_of(options, {"hq"}), seed);
  traffic.run(1'000, 100);
  ASSERT_TRUE(c.run_until_converged(10'000)) << describe(c);
  const std::string liar = "kagitumba";
  const FrontierEntry head = head_of(c, liar, liar);
  const auto base = c.stored_record(liar, liar, head.seq);
  ASSERT_TRUE(base.has_value());
  const SigningKey key = c.signing_key(liar);
  c.crash("rusumo");
  c.inject(liar, "hq",
           message_of(GossipType::push, {reseal(*base, head.seq + 1, head.hash, 1, key)}));
  c.inject(liar, "rubavu-corniche",
           message_of(GossipType::push, {reseal(*base, head.seq + 1, head.hash, 2, key)}));
  c.run_for(5'000);
  c.restart("rusumo");
  traffic.run(2'000, 100);
  c.run_for(20'000);
  for (const auto& site : c.sites()) EXPECT_TRUE(c.core(site).quarantine().count(liar)) << site;
  expect_invariants(c);
}

// A record held for a gap (GossipCore::hold) whose origin is then quarantined is never released
// nor dropped: GossipCore::on_tick asks its sender to catch up, every catch_up_interval_ms,
// forever.
TEST(GossipCluster, HeldRecordsOfAQuarantinedOriginAreDropped) {
  const uint64_t seed = test_seeds({2718}).front();
  SCOPED_TRACE(seed_trace(seed));
  auto options = cluster_options(seed, 6, clean_link());
  // The gossip core alone: the order plane asks for catch-ups of its own (a ledger entry naming
  // a2, which gatuna can no longer take: the open equivocation stall of docs/simulator.md).
  options.order = false;
  SimCluster c(options);
  Traffic traffic(c, posts_of(options, {"hq"}), seed);
  traffic.run(1'000, 100);
  ASSERT_TRUE(c.run_until_converged(10'000)) << describe(c);
  const std::string liar = "kagitumba";
  const FrontierEntry head = head_of(c, liar, liar);
  const auto base = c.stored_record(liar, liar, head.seq);
  ASSERT_TRUE(base.has_value());
  const SigningKey key = c.signing_key(liar);
  const SignedRecord a = reseal(*base, head.seq + 1, head.hash, 1, key);
  const SignedRecord a2 = reseal(*base, head.seq + 2, a.hash, 2, key);
  const SignedRecord b = reseal(*base, head.seq + 1, head.hash, 3, key);
  c.inject(liar, "gatuna", message_of(GossipType::push, {a2}));  // held: seq + 1 is missing
  c.run_for(100);
  c.inject(liar, "hq", message_of(GossipType::push, {a}));
  c.inject(liar, "rubavu-corniche", message_of(GossipType::push, {b}));
  c.run_for(2'000);
  ASSERT_TRUE(c.core("gatuna").quarantine().count(liar));
  const uint64_t before = c.gossip("gatuna").stats().catch_up_requests;
  c.run_for(20'000);
  EXPECT_EQ(c.gossip("gatuna").stats().catch_up_requests, before);
  expect_invariants(c);
}

}  // namespace
}  // namespace umupaka::sim

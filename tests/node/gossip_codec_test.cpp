// Gossip frames carrying the order plane's data: a Raft snapshot of a large network's ledger
// decodes (records keep their own size limit, checked when they are verified: gossip.cpp).
#include <gtest/gtest.h>

#include "ledger/ledger_entry.hpp"
#include "ledger/limits.hpp"
#include "ledger/membership.hpp"
#include "ledger/record.hpp"
#include "node/frame_route.hpp"
#include "node/gossip.hpp"
#include "node/network_setup.hpp"

namespace umupaka {
namespace {

LedgerSnapshot snapshot_of(size_t origins) {
  LedgerSnapshot s;
  s.size = 1'000'000;
  for (size_t i = 0; i < origins; ++i)
    s.frontier.push_back(LedgerItem{"embassy-number-" + std::to_string(i), 1'000 + i, Hash{}});
  return s;
}

TEST(GossipCodec, ASnapshotOfAThousandOriginsTravelsInOneRaftMessage) {
  const std::string data = encode_ledger_snapshot(snapshot_of(1000));
  ASSERT_GT(data.size(), limits::record_encoded_bytes_max);  // the old limit refused it
  raft::Message m;
  m.type = raft::MessageType::snap;
  m.from = "hq";
  m.to = "gatuna";
  m.snapshot = raft::Snapshot{};
  m.snapshot->meta.index = 10'000;
  m.snapshot->meta.term = 3;
  m.snapshot->meta.conf_state.voters = {"hq"};
  m.snapshot->data = data;
  GossipMessage g;
  g.type = GossipType::raft;
  g.from = "hq";
  g.raft = m;
  auto d = decode_gossip(encode_gossip(g));
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_TRUE(d->raft && d->raft->snapshot);
  auto ls = decode_ledger_snapshot(d->raft->snapshot->data);
  ASSERT_TRUE(ls.ok()) << ls.error().message;
  EXPECT_EQ(*ls, snapshot_of(1000));
}

// Honest frames at their arrays' limits decode: 4,096 frontier entries, 4,096 Raft entries.
TEST(GossipCodec, FramesFullToTheirArraysLimitsDecode) {
  GossipMessage digest;
  digest.type = GossipType::digest;
  digest.from = "hq";
  for (size_t i = 0; i < limits::gossip_array_items_max; ++i)
    digest.frontier.push_back(LedgerItem{"post-" + std::to_string(i), i, Hash{}});
  auto d = decode_gossip(encode_gossip(digest));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->frontier.size(), limits::gossip_array_items_max);
  GossipMessage app;
  app.type = GossipType::raft;
  app.from = "hq";
  app.raft = raft::Message{};
  app.raft->type = raft::MessageType::app;
  for (uint64_t i = 1; i <= limits::gossip_array_items_max; ++i)
    app.raft->entries.push_back(raft::Entry{2, i, raft::EntryType::normal, ""});
  app.records.resize(limits::gossip_array_items_max, WireRecord{"x", Signature{}});
  d = decode_gossip(encode_gossip(app));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->raft->entries.size(), limits::gossip_array_items_max);
}

// A frame within 4 MiB whose arrays declare millions of elements (nils, one byte each) is refused
// before msgpack-c builds ~200 MiB of objects for it; so is one nested past the depth limit.
TEST(GossipCodec, AFrameDeclaringMoreElementsThanItsBudgetIsRefusedUnbuilt) {
  std::string frame = "\xdc\x05\xfe";  // an array of 1,534 ...
  for (int i = 0; i < 1534; ++i) {
    frame += "\xdc\x0a\xab";  // ... arrays of 2,731 nils
    frame.append(2731, '\xc0');
  }
  ASSERT_LE(frame.size(), limits::gossip_frame_bytes_max);
  auto d = decode_gossip(frame);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, Errc::limit_exceeded);
  EXPECT_NE(d.error().message.find("elements"), std::string::npos) << d.error().message;
  const std::string deep(1'000'000, '\x91');  // [[[[...
  d = decode_gossip(deep);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, Errc::limit_exceeded);
}

// A Raft entry's or snapshot's data is a string of up to 1 MiB inside a frame, so the frame's pass
// counts it as one element: its own arrays are summed before msgpack-c builds them. The largest
// honest data, every array full (4,096 origins, 4,096 forks), decodes.
TEST(GossipCodec, OrderDataDeclaringMoreElementsThanItsBudgetIsRefusedUnbuilt) {
  LedgerEntry e;
  e.proposer = "hq";
  LedgerSnapshot s;
  for (uint64_t i = 0; i < limits::gossip_array_items_max; ++i) {
    const std::string origin = "post-" + std::to_string(i);
    e.items.push_back(LedgerItem{origin, i + 1, Hash{}});
    e.forks.push_back(LedgerFork{origin, i + 1, Hash{}, Hash{}});
    s.frontier.push_back(LedgerItem{origin, i + 1, Hash{}});
    s.forks.push_back(RaisedFork{LedgerFork{origin, i + 1, Hash{}, Hash{}}, i, i});
  }
  const std::string entry = encode_ledger_entry(e), snapshot = encode_ledger_snapshot(s);
  ASSERT_LE(snapshot.size(), limits::order_data_bytes_max);
  auto de = decode_ledger_entry(entry);
  ASSERT_TRUE(de.ok()) << de.error().message;
  EXPECT_EQ(de->forks.size(), limits::gossip_array_items_max);
  auto ds = decode_ledger_snapshot(snapshot);
  ASSERT_TRUE(ds.ok()) << ds.error().message;
  EXPECT_EQ(*ds, s);

  // 1 MiB: a ledger entry's five fields, its items 255 arrays of 4,095 nils (1 M elements).
  std::string bad("\x95\x02\xa2hq\x00\xdc\x00\xff", 9);
  for (int i = 0; i < 255; ++i) {
    bad += "\xdc\x0f\xff";
    bad.append(4095, '\xc0');
  }
  bad += "\x90";
  ASSERT_LE(bad.size(), limits::order_data_bytes_max);
  const auto bad_entry = decode_ledger_entry(bad);
  ASSERT_FALSE(bad_entry.ok());
  EXPECT_EQ(bad_entry.error().code, Errc::limit_exceeded) << bad_entry.error().message;
  EXPECT_NE(bad_entry.error().message.find("elements"), std::string::npos);
  const auto bad_snapshot = decode_ledger_snapshot(bad);
  ASSERT_FALSE(bad_snapshot.ok());
  EXPECT_EQ(bad_snapshot.error().code, Errc::limit_exceeded) << bad_snapshot.error().message;
}

// Entries and snapshots of another version than this code writes are refused, not misread.
TEST(GossipCodec, LedgerEntriesAndSnapshotsOfAnotherVersionAreRefused) {
  LedgerEntry e;
  e.proposer = "hq";
  e.items.push_back(LedgerItem{"gatuna", 7, Hash{}});
  ASSERT_TRUE(decode_ledger_entry(encode_ledger_entry(e)).ok());
  e.version = ledger_entry_version + 1;
  const auto bad_entry = decode_ledger_entry(encode_ledger_entry(e));
  ASSERT_FALSE(bad_entry.ok());
  EXPECT_EQ(bad_entry.error().code, Errc::decode);
  LedgerSnapshot s = snapshot_of(3);
  ASSERT_TRUE(decode_ledger_snapshot(encode_ledger_snapshot(s)).ok());
  s.version = ledger_snapshot_version + 1;
  const auto bad_snapshot = decode_ledger_snapshot(encode_ledger_snapshot(s));
  ASSERT_FALSE(bad_snapshot.ok());
  EXPECT_EQ(bad_snapshot.error().code, Errc::decode);
}

// An entry naming an origin twice is refused (a voter turned leader could propose one): once
// committed it is skipped at every node alike, never applied twice over one origin's tip.
TEST(GossipCodec, ALedgerEntryNamingAnOriginTwiceIsRefused) {
  LedgerEntry e;
  e.proposer = "hq";
  e.items.push_back(LedgerItem{"gatuna", 3, Hash{}});
  e.items.push_back(LedgerItem{"rusumo", 3, Hash{}});
  ASSERT_TRUE(decode_ledger_entry(encode_ledger_entry(e)).ok());
  for (const uint64_t seq : {3, 2}) {
    LedgerEntry twice = e;
    twice.items.push_back(LedgerItem{"gatuna", seq, Hash{}});
    const auto d = decode_ledger_entry(encode_ledger_entry(twice));
    ASSERT_FALSE(d.ok()) << "seq " << seq;
    EXPECT_EQ(d.error().code, Errc::decode);
    EXPECT_NE(d.error().message.find("gatuna"), std::string::npos) << d.error().message;
  }
}

// Forks travel in entries and snapshots (version 2) and come back as they were: the decoding
// limits of the order plane admit them.
TEST(GossipCodec, ForksRoundTripInEntriesAndSnapshots) {
  Hash a{}, b{};
  a.fill(0x11);
  b.fill(0x22);
  LedgerEntry e;
  e.proposer = "hq";
  e.forks.push_back(LedgerFork{"gatuna", 812, a, b});
  const auto de = decode_ledger_entry(encode_ledger_entry(e));
  ASSERT_TRUE(de.ok()) << de.error().message;
  EXPECT_EQ(de->forks, e.forks);
  LedgerSnapshot s = snapshot_of(5);
  s.forks.push_back(RaisedFork{LedgerFork{"gatuna", 812, a, b}, 4'000, 811});
  const auto ds = decode_ledger_snapshot(encode_ledger_snapshot(s));
  ASSERT_TRUE(ds.ok()) << ds.error().message;
  EXPECT_EQ(*ds, s);
}

// The push interval is a bounded setting: 0 (every commit at once) up to a second.
TEST(GossipConfigTest, PushIntervalIsBounded) {
  GossipConfig c;
  EXPECT_TRUE(c.validate().ok());
  c.push_interval_ms = 0;
  EXPECT_TRUE(c.validate().ok());
  c.push_interval_ms = 1000;
  EXPECT_TRUE(c.validate().ok());
  c.push_interval_ms = 1001;
  const Status s = c.validate();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().field, "gossip.push_interval_ms");
}

// Frames reach the order plane or the gossip core by one routine (runtime and simulator alike):
// a Raft message only from the site it names as sender; a frame of an order-plane type without
// its payload goes to the gossip core, which counts it invalid.
TEST(FrameRouteTest, OrderPlaneFramesAndTheirSender) {
  GossipMessage m;
  m.type = GossipType::raft;
  EXPECT_EQ(route_frame(m, "hq"), FrameRoute::gossip);
  m.raft.emplace();
  m.raft->from = "hq";
  EXPECT_EQ(route_frame(m, "hq"), FrameRoute::order);
  EXPECT_EQ(route_frame(m, "gatuna"), FrameRoute::refused);
  GossipMessage h;
  h.type = GossipType::head;
  EXPECT_EQ(route_frame(h, "hq"), FrameRoute::gossip);
  h.head.emplace();
  EXPECT_EQ(route_frame(h, "hq"), FrameRoute::order);
  for (const GossipType t : {GossipType::ledger_fetch, GossipType::ledger_rows}) {
    GossipMessage g;
    g.type = t;
    EXPECT_EQ(route_frame(g, "hq"), FrameRoute::gossip);
    g.segment.emplace();
    EXPECT_EQ(route_frame(g, "hq"), FrameRoute::order);
  }
  for (const GossipType t :
       {GossipType::swim, GossipType::push, GossipType::digest, GossipType::records,
        GossipType::evidence, GossipType::fetch, GossipType::versions}) {
    GossipMessage g;
    g.type = t;
    EXPECT_EQ(route_frame(g, "hq"), FrameRoute::gossip);
  }
}

// Three sites (hq a voter, gatuna and rusumo learners) and gatuna's records 1..10, chained; the
// gossip core of rusumo.
struct ThreeSites {
  SecretSeed gatuna_seed{};
  Membership membership;
  std::vector<SignedRecord> chain;

  explicit ThreeSites(size_t records = 10) {
    SecretSeed root{};
    root.fill(1);
    gatuna_seed.fill(3);
    std::vector<SiteEntry> sites;
    for (const std::string id : {"gatuna", "hq", "rusumo"}) {
      SiteEntry e;
      e.site = id;
      e.kind = id == "hq" ? SiteKind::hq : SiteKind::border_post;
      e.role = id == "hq" ? VoterRole::voter : VoterRole::learner;
      SecretSeed s{};
      s.fill(id == "gatuna" ? 3 : id == "hq" ? 2 : 4);
      e.signing_key = SigningKey::from_seed(s).public_key();
      e.transport_key = std::string(40, static_cast<char>('a' + sites.size()));
      e.peer = "tcp://127.0.0.1:" + std::to_string(7500 + sites.size());
      e.api = "http://127.0.0.1:" + std::to_string(7400 + sites.size());
      sites.push_back(e);
    }
    auto genesis = make_genesis(root, "net-test", sites, 1'000);
    EXPECT_TRUE(genesis.ok());
    auto m = Membership::from_genesis(*genesis);
    EXPECT_TRUE(m.ok());
    membership = std::move(m).value();
    const SigningKey key = SigningKey::from_seed(gatuna_seed);
    Hash prev = zero_hash;
    for (uint64_t seq = 1; seq <= records; ++seq) {
      Record r;
      r.header.network_id = "net-test";
      r.header.origin = OriginId("gatuna");
      r.header.seq = Seq(seq);
      r.header.prev_hash = prev;
      r.header.hlc = Hlc::make(1'800'000'000'000 + seq, 0);
      Crossing c;
      c.post = "gatuna";
      c.traveller = Person{"NAKATO", "ERIC", "UGA", std::nullopt, Sex::male};
      c.document = DocumentRef{DocumentKind::passport, "UGA", "UG" + std::to_string(100000 + seq),
                               std::nullopt};
      c.officer = "officer-1";
      r.body = c;
      chain.push_back(seal(r, key));
      prev = chain.back().hash;
    }
  }
  std::unique_ptr<GossipCore> rusumo() const {
    auto core = std::make_unique<GossipCore>("rusumo", GossipConfig{});
    core->set_membership(membership, {}, swim::LinkClass::lan, 0);
    return core;
  }
};

struct NoFeeds : FeedReader {
  std::vector<FrontierEntry> none;
  const std::vector<FrontierEntry>& frontier() const override { return none; }
  std::optional<SignedRecord> record(std::string_view, uint64_t) const override { return {}; }
  std::optional<SignedRecord> version(std::string_view, uint64_t, const Hash&) const override {
    return {};
  }
};

std::vector<uint64_t> seqs_taken(GossipCore& core) {
  std::vector<uint64_t> out;
  for (const IngestBatch& b : core.take_ingest())
    for (const VerifiedRecord& v : b.records) out.push_back(v.record.header.seq.value);
  return out;
}

// A chain fetched by hash (`fetch`) is taken down to the seq the fetch asked for and no further:
// a peer answering with a longer chain of truly signed records cannot make the node keep them
// (each kept version is stored for good).
TEST(GossipVersions, AFetchedChainIsTakenDownToWhereItWasAskedForOnly) {
  const ThreeSites net;
  auto core = net.rusumo();
  const auto& chain = net.chain;
  // Asked: the chain ending at 10, down to (not including) 7.
  core->request_versions("hq", {WantedChain{"gatuna", 10, chain[9].hash, 7}}, 1'000);
  GossipMessage answer;
  answer.type = GossipType::versions;
  answer.from = "hq";
  for (uint64_t seq = 10; seq >= 1; --seq)
    answer.records.push_back(WireRecord{chain[seq - 1].encoded, chain[seq - 1].signature});
  core->on_message("hq", answer, NoFeeds{}, 1'100);
  EXPECT_EQ(seqs_taken(*core), (std::vector<uint64_t>{10, 9, 8}));
  EXPECT_EQ(core->stats().versions_received, 3u);
}

// A feed reader holding a chain's records as versions (what answers a fetch).
struct VersionFeeds : NoFeeds {
  const std::vector<SignedRecord>* chain = nullptr;
  std::optional<SignedRecord> version(std::string_view, uint64_t seq,
                                      const Hash& hash) const override {
    if (seq == 0 || seq > chain->size() || (*chain)[seq - 1].hash != hash) return {};
    return (*chain)[seq - 1];
  }
};

// A peer's fetches are answered at most once per fetch_answer_interval_ms: a few bytes asked can
// cost a whole batch sent, and a node asks one peer at most once per catch_up_interval_ms, so
// faster fetches are a misbehaving peer's and are dropped (counted).
TEST(GossipVersions, APeersFetchesAreAnsweredAtMostOncePerInterval) {
  const ThreeSites net;
  auto core = net.rusumo();
  VersionFeeds feeds;
  feeds.chain = &net.chain;
  GossipMessage fetch;
  fetch.type = GossipType::fetch;
  fetch.from = "gatuna";
  fetch.wanted.push_back(WantedChain{"gatuna", 10, net.chain[9].hash, 0});
  const auto versions_sent = [&] {
    uint64_t n = 0;
    for (const auto& o : core->take_messages())
      if (o.message.type == GossipType::versions) n += o.message.records.size();
    return n;
  };
  core->on_message("gatuna", fetch, feeds, 1'000);
  EXPECT_EQ(versions_sent(), 10u);
  for (int64_t t = 1'001; t < 1'000 + fetch_answer_interval_ms; t += 5)
    core->on_message("gatuna", fetch, feeds, t);
  EXPECT_EQ(versions_sent(), 0u);
  EXPECT_GT(core->stats().fetches_refused, 20u);
  // A node asking at its own pace is always answered.
  core->on_message("gatuna", fetch, feeds, 1'000 + catch_up_interval_ms);
  EXPECT_EQ(versions_sent(), 10u);
}

// A peer forwards only records it verified: once a signature in its message fails, the rest of
// the message is refused unchecked. A flood of forged records costs one check per message.
TEST(GossipRecords, AForgedSignatureEndsTheChecksOfItsMessage) {
  const ThreeSites net;
  auto core = net.rusumo();
  GossipMessage push;
  push.type = GossipType::push;
  push.from = "hq";
  push.hops = 1;
  for (const SignedRecord& sr : net.chain)
    push.records.push_back(WireRecord{sr.encoded, sr.signature});
  push.records[0].signature[5] ^= 0x01;  // record 1 forged: its link to record 2 breaks too
  core->on_message("hq", push, NoFeeds{}, 1'000);
  EXPECT_TRUE(seqs_taken(*core).empty());
  EXPECT_EQ(core->stats().signatures_verified, 1u);
  EXPECT_EQ(core->stats().records_rejected, 10u);
  // The same records, all truly signed, from the same peer: taken (the peer is not banned).
  push.records[0].signature = net.chain[0].signature;
  core->on_message("hq", push, NoFeeds{}, 1'100);
  EXPECT_EQ(seqs_taken(*core).size(), 10u);
}

// Records held for a gap (a peer's records far ahead of a feed): at most pending_per_origin_max
// of one origin, the rest dropped (anti-entropy brings them again in order).
TEST(GossipRecords, OneOriginHoldsAtMostItsShareOfTheTable) {
  const ThreeSites net(pending_per_origin_max + 60);
  auto core = net.rusumo();
  GossipMessage push;
  push.type = GossipType::push;
  push.from = "hq";
  push.hops = 1;
  for (size_t i = 2; i < net.chain.size(); ++i)  // 1 and 2 missing
    push.records.push_back(WireRecord{net.chain[i].encoded, net.chain[i].signature});
  core->on_message("hq", push, NoFeeds{}, 1'000);
  // The store finds each a gap (its feed lacks 1 and 2): the core holds them.
  for (const IngestBatch& b : core->take_ingest()) {
    std::vector<IngestResult> results;
    for (const VerifiedRecord& v : b.records)
      results.push_back(
          IngestResult{IngestOutcome::gap, "gatuna", v.record.header.seq.value, {}, std::nullopt});
    core->on_ingested(b, results, NoFeeds{}, 1'000);
  }
  EXPECT_EQ(core->stats().pending_held, pending_per_origin_max);
  EXPECT_EQ(core->stats().pending_dropped, 58u);
}

// A peer's digest is kept only for origins this node knows, once each: made-up origins (of any
// length) and repeats are dropped and counted, not held with the peer and copied for status.
TEST(GossipDigest, OnlyTheMembershipsOriginsOfADigestAreKeptOnceEach) {
  const ThreeSites net;
  auto core = net.rusumo();
  GossipMessage digest;
  digest.type = GossipType::digest;
  digest.from = "hq";
  digest.reply = true;
  digest.frontier = {
      FrontierEntry{"gatuna", 4, net.chain[3].hash},
      FrontierEntry{std::string(100'000, 'x'), 7, zero_hash}, FrontierEntry{"ruhwa", 3, zero_hash},
      FrontierEntry{"gatuna", 9, net.chain[8].hash}, FrontierEntry{"root", 2, zero_hash}};
  core->on_message("hq", digest, NoFeeds{}, 1'000);
  EXPECT_EQ(core->stats().frontier_entries_dropped, 3u);
  std::vector<FrontierEntry> kept;
  for (const PeerStatus& p : core->peers())
    if (p.site == "hq") kept = p.frontier;
  EXPECT_EQ(kept, (std::vector<FrontierEntry>{digest.frontier[0], digest.frontier[4]}));
  EXPECT_EQ(core->seen_by_peers("gatuna"), 4u);
  EXPECT_EQ(core->seen_by_peers("ruhwa"), 0u);
}

}  // namespace
}  // namespace umupaka

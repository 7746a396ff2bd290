// Gossip frames carrying the order plane's data: a Raft snapshot of a large network's ledger
// decodes (records keep their own size limit, checked when they are verified: gossip.cpp).
#include <gtest/gtest.h>

#include "ledger/ledger_entry.hpp"
#include "ledger/limits.hpp"
#include "node/frame_route.hpp"
#include "node/gossip.hpp"

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

}  // namespace
}  // namespace umupaka

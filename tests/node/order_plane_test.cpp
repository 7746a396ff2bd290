// The order plane's timers, driven by hand: one voter on a real store in a temporary directory.
#include "node/order_plane.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "ledger/crypto.hpp"
#include "node/network_setup.hpp"
#include "node/node_core.hpp"
#include "storage/store.hpp"

namespace umupaka {
namespace {

SecretSeed seed_of(uint8_t b) {
  SecretSeed s{};
  s.fill(b);
  return s;
}

// Raft ticks keep to their grid whatever the driver's timing: a call 9 ms late does not push the
// next tick 9 ms later (a loop woken only now and then would otherwise stretch every election),
// and a call after a long pause starts a fresh grid rather than ticking to catch up.
TEST(OrderPlaneTest, TicksKeepToTheirGridWhenCalledLate) {
  std::string dir = (std::filesystem::temp_directory_path() / "umupaka-order-XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  {
    const SecretSeed root = seed_of(1), hq_seed = seed_of(2);
    SiteEntry hq;
    hq.site = "hq";
    hq.kind = SiteKind::hq;
    hq.role = VoterRole::voter;
    hq.signing_key = SigningKey::from_seed(hq_seed).public_key();
    hq.transport_key = std::string(40, 'a');
    hq.peer = "tcp://127.0.0.1:7500";
    hq.api = "http://127.0.0.1:7400";
    auto genesis = make_genesis(root, "net-test", {hq}, 1'000);
    ASSERT_TRUE(genesis.ok()) << genesis.error().message;
    auto store = Store::open(dir + "/store");
    ASSERT_TRUE(store.ok()) << store.error().message;
    NodeCore core(NodeIdentity{"net-test", "hq", SiteKind::hq}, SigningKey::from_seed(hq_seed));
    ASSERT_TRUE((*store)->write([&](StoreTxn& t) { return core.join(*genesis, t); }).ok());
    core.commit_succeeded();

    OrderOptions o;
    o.self = "hq";
    o.network_id = "net-test";
    o.tick_ms = 50;
    o.propose_interval_ms = 20;
    OrderPlane plane(
        o, core.membership(), hq_seed, **store,
        [](LedgerWork, OrderPlane::ApplyDone) { return false; },
        [](const std::string&, raft::Message) {}, [](const LedgerHead&) {},
        [](const std::string&, const std::vector<WantedChain>&) {},
        [](const std::string&, const LedgerSegment&, bool) {});
    ASSERT_TRUE(plane.start().ok());
    plane.tick(10'000, 10'000);              // the first tick and proposal: the grids start here
    EXPECT_EQ(plane.next_due_ms(), 10'020);  // the next proposal
    plane.tick(10'029, 10'029);              // 9 ms late
    EXPECT_EQ(plane.next_due_ms(), 10'040);  // still on the 20 ms grid, not 10'049
    plane.tick(10'040, 10'040);
    EXPECT_EQ(plane.next_due_ms(), 10'050);  // the tick, on its 50 ms grid
    plane.tick(10'059, 10'059);              // the tick, 9 ms late
    EXPECT_EQ(plane.next_due_ms(), 10'060);  // the proposal
    plane.tick(10'060, 10'060);
    plane.tick(10'080, 10'080);
    EXPECT_EQ(plane.next_due_ms(), 10'100);  // tick and proposal both due at 10'100, not 10'109
    plane.tick(15'003, 15'003);              // after a long pause: fresh grids, no catching up
    EXPECT_EQ(plane.next_due_ms(), 15'023);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace umupaka

// The writer's group commit: pacing ([storage] group_commit_pace).
#include "node/writer.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <memory>
#include <thread>

#include "ledger/date.hpp"
#include "ledger/limits.hpp"
#include "node/clock.hpp"
#include "node/config.hpp"
#include "node/traffic.hpp"

namespace umupaka::test {
namespace {

using std::chrono::milliseconds;

TEST(Writer, PaceWaitIsThePaceTimesTheLastTransactionAtMostTheCap) {
  EXPECT_EQ(Writer::pace_wait(0, milliseconds(5)), Writer::Duration::zero());
  EXPECT_EQ(Writer::pace_wait(3, milliseconds(2)), milliseconds(6));
  EXPECT_EQ(Writer::pace_wait(limits::group_commit_pace_max, milliseconds(5)),
            milliseconds(limits::group_commit_pace_wait_max_ms));
}

// A standalone node's store and core, and officers submitting crossings from several threads,
// each waiting for its answer before the next (as the API's connections do).
struct Answered {
  uint64_t answered = 0, recorded = 0;
  Writer::Stats stats;
  uint64_t map_grows = 0, own_head = 0;
};

Answered run_officers(uint32_t pace, size_t map_bytes = 0, int each = 40) {
  char tmpl[] = "/tmp/umupaka-writer-test-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  Answered out;
  {
    auto cfg = init_data_dir(dir, "gatuna", SiteKind::border_post, "", "127.0.0.1:0");
    EXPECT_TRUE(cfg.ok()) << cfg.error().message;
    auto seed = load_signing_seed(dir);
    auto store = Store::open(dir + "/store", lmdb::EnvOptions{.map_bytes = map_bytes});
    EXPECT_TRUE(seed.ok() && store.ok());
    NodeCore core(NodeIdentity{cfg->network_id, cfg->site, cfg->kind},
                  SigningKey::from_seed(*seed));
    {
      auto txn = (*store)->read();
      EXPECT_TRUE(core.recover(**txn, wall_clock_ms()).ok());
    }
    Writer writer(core, **store, wall_clock_ms, pace);
    constexpr int officers = 4;
    std::atomic<uint64_t> answered{0}, recorded{0};
    std::vector<std::thread> threads;
    for (int o = 0; o < officers; ++o)
      threads.emplace_back([&, o] {
        TrafficGenerator gen(profile_for("gatuna", SiteKind::border_post), 7 + o, 1000);
        const Date today = date_of_instant_ms(wall_clock_ms());
        int sent = 0;
        while (sent < each)
          for (auto& ev : gen.next(today)) {
            if (sent == each) break;
            ++sent;
            auto done = std::make_shared<std::promise<void>>();
            auto answer = done->get_future();
            const bool queued = writer.submit(Command{std::move(ev.body), "officer"},
                                              [&, done](Result<Recorded> r) {
                                                ++answered;
                                                recorded += r.ok();
                                                done->set_value();
                                              });
            ASSERT_TRUE(queued);
            answer.wait();
          }
      });
    for (auto& t : threads) t.join();
    writer.stop();
    out.answered = answered;
    out.recorded = recorded;
    out.stats = writer.stats();
    out.map_grows = (*store)->map_grows();
    auto txn = (*store)->read();
    EXPECT_TRUE(txn.ok());
    if (txn.ok()) {
      const auto head = (*txn)->head("gatuna");
      out.own_head = head ? head->seq : 0;
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return out;
}

TEST(Writer, PacedBatchesWaitAfterTheLastYetEveryCommandIsAnswered) {
  const Answered unpaced = run_officers(0);
  EXPECT_EQ(unpaced.answered, 160u);
  EXPECT_EQ(unpaced.stats.paced, 0u);
  EXPECT_EQ(unpaced.stats.records, unpaced.recorded);

  const Answered paced = run_officers(10);
  EXPECT_EQ(paced.answered, 160u);
  EXPECT_EQ(paced.stats.records, paced.recorded);
  EXPECT_GT(paced.recorded, 120u);  // the crossings are recorded (a few may be refused by rules)
  // Officers answered by one batch submit again at once: their crossings wait for the pace (it
  // gathers them: here 41 batches for 160 crossings, against 57-79 unpaced; not asserted, it
  // depends on the threads' timing).
  EXPECT_GE(paced.stats.paced, 10u);
  std::printf("batches: unpaced %llu, paced %llu (paced waits %llu)\n",
              static_cast<unsigned long long>(unpaced.stats.batches),
              static_cast<unsigned long long>(paced.stats.batches),
              static_cast<unsigned long long>(paced.stats.paced));
}

// A map that fills during a batch: the put that fills it may be the append or any view's after
// it (a crossing writes more view pages than feed pages). The writer must not take the poisoned
// transaction's empty reads for a lost record (it once aborted the process there): the store
// grows the map, the batch runs again, and every crossing recorded is answered and held.
TEST(Writer, AMapFilledMidBatchGrowsAndEveryAnsweredCrossingIsHeld) {
  const Answered a = run_officers(0, 256 << 10, 1000);
  EXPECT_EQ(a.answered, 4000u);
  EXPECT_GT(a.recorded, 3000u);
  EXPECT_GE(a.map_grows, 4u);
  EXPECT_EQ(a.stats.records, a.recorded);
  EXPECT_EQ(a.own_head, a.recorded);
}

}  // namespace
}  // namespace umupaka::test

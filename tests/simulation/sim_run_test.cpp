// The scenario runner (simulation/sim_run.hpp) on sites that join during a run: a founding
// network, a post and a voter that open later (one of them while the certifier, HQ, is down),
// the post crashed after it opened. Everything the runner checks holds, the joined sites install
// a snapshot, and the run is the same twice.
#include "simulation/sim_run.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "simulation/scenario.hpp"
#include "tests/simulation/sim_test_support.hpp"

namespace umupaka::sim {
namespace {

const std::string joining = R"(
duration = "20m"
settle = "5m"
start = "2026-03-02T05:00:00Z"
snapshot_entries = 40
snapshot_keep_entries = 10

[links.fibre]
latency_ms = 2
jitter_ms = 2
swim = "lan"

[links.wan]
latency_ms = 25
jitter_ms = 20
loss = 0.005
bytes_per_second = 250_000
swim = "wan"

[[sites]]
id = "hq"
kind = "hq"
role = "voter"
link = "fibre"

[[sites]]
id = "dr-kigali"
kind = "hq"
role = "voter"
link = "fibre"

[[sites]]
id = "kigali-airport"
kind = "airport"
role = "voter"
link = "fibre"
traffic = "kigali-airport"

[[sites]]
id = "gatuna"
kind = "border-post"
link = "wan"
traffic = "gatuna"

[[sites]]
id = "rusumo"
kind = "border-post"
link = "wan"
traffic = "rusumo"
joins = "5m"

[[sites]]
id = "dr-huye"
kind = "hq"
role = "voter"
link = "wan"
joins = "10m"

[[faults]]
kind = "crash"
at = "8m"
for = "1m"
sites = ["rusumo"]

# HQ, where the root key certifies new sites, is down when dr-huye opens.
[[faults]]
kind = "crash"
at = "9m30s"
for = "3m"
sites = ["hq"]
)";

TEST(SimRun, SitesThatJoinInstallTheLedgerAndTakeTheirRole) {
  auto s = parse_scenario(joining, "joining.toml");
  ASSERT_TRUE(s.ok()) << s.error().message;
  const uint64_t seed = simtest::test_seeds({7}).front();
  SCOPED_TRACE(simtest::seed_trace(seed));
  RunOptions o;
  o.seed = seed;
  const RunReport r = run_scenario(*s, o);
  for (const auto& c : r.checks) EXPECT_TRUE(c.passed) << c.name << ": " << c.detail;
  EXPECT_TRUE(r.violations.empty()) << r.violations.front();
  ASSERT_TRUE(r.passed()) << render_summary(r);
  // The runner checks the Raft configuration against the scenario's roles.
  EXPECT_TRUE(std::any_of(r.checks.begin(), r.checks.end(), [](const CheckResult& c) {
    return c.name.find("Raft configuration") != std::string::npos;
  }));
  EXPECT_GT(r.snapshot_installs, 0u);  // the log was compacted before they joined
  EXPECT_EQ(r.sites.size(), 6u);
  bool joined_event = false;
  for (const auto& f : r.faults) joined_event |= f.kind == "join" && f.detail == "dr-huye (voter)";
  EXPECT_TRUE(joined_event);
  // A joined site's latencies count the records made since it joined, not the older ones it
  // installed: dr-huye joined at 10 min, was certified once HQ restarted at 12.5 min.
  for (const std::string site : {"rusumo", "dr-huye"}) {
    const auto p = std::find_if(r.per_site.begin(), r.per_site.end(),
                                [&](const SiteSeries& x) { return x.site == site; });
    ASSERT_NE(p, r.per_site.end()) << site;
    EXPECT_GT(p->lag.count, 0u) << site;
    EXPECT_LT(p->lag.max, 600'000) << site;
  }

  const RunReport again = run_scenario(*s, o);
  EXPECT_EQ(again.trace_hex, r.trace_hex);
}

// A genesis over a record's 16 KiB (many founding sites with long ids) is an error to report, not
// an abort of the simulator (umupaka-sim exits 2 naming it); make_genesis refuses it for
// `umupaka-admin network create` alike.
TEST(CheckGenesis, AGenesisOverARecordsSizeIsAnErrorNotAnAbort) {
  std::vector<SimSite> sites{{"hq", SiteKind::hq, VoterRole::voter}};
  for (int i = 0; i < 55; ++i)
    sites.push_back(SimSite{"s" + std::to_string(100 + i) + std::string(60, 'x')});
  const Status too_big = SimCluster::genesis_fits(sites, "rwanda-sim", Scenario{}.start_ms);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code, Errc::limit_exceeded);
  EXPECT_NE(too_big.error().message.find("bytes encoded, over the 16384"), std::string::npos)
      << too_big.error().message;
  sites.resize(40);
  EXPECT_TRUE(SimCluster::genesis_fits(sites, "rwanda-sim", Scenario{}.start_ms).ok());
}

}  // namespace
}  // namespace umupaka::sim

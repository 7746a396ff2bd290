// One simulated run of a scenario (umupaka-sim run), and many (umupaka-sim swarm).
//
// run_scenario builds a SimCluster from the scenario (sites, voters, link classes: a pair of
// sites is joined by the slower of their two classes), then drives it in simulated time:
//   - traffic: each site with a profile receives travellers as a Poisson process whose rate is
//     its profile's crossings at that local hour (Rwanda, UTC+2) times its scale and the
//     scenario's; each traveller is one TrafficGenerator::next() (a crossing, with a visa on
//     arrival first for some); an embassy issues visas during office hours. A site that is
//     crashed, paused or out of disk turns its travellers away (counted as refused);
//   - faults: the scheduled ones, and in swarm mode `swarm.faults` more drawn from the seed
//     (kinds, times, durations, sites, offsets); every fault ends by the end of traffic or when
//     its duration runs out, and every node is restarted and every link healed before settling;
//   - then up to `settle_ms` for every node to hold every record and one ledger covering them.
// A violation of the cluster's invariants stops the run at once. The checks at the end make the
// report's check list; the run passes if all pass and no invariant was violated.
//
// Determinism: every draw comes from generators seeded from the seed (nothing reads a clock but
// the wall-time measurement, which is not part of the trace), so the same scenario and seed
// give the same trace hash.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "simulation/report.hpp"
#include "simulation/scenario.hpp"

namespace umupaka::sim {

struct RunOptions {
  uint64_t seed = 1;
  std::string scenario_path;  // for the replay command
  // Draw random faults as the scenario's [swarm] table says (also when it is not enabled).
  bool swarm = false;
  // Overrides of the scenario (0: the scenario's).
  int64_t duration_ms = 0;
  double traffic_scale = 0;
  std::optional<uint64_t> snapshot_entries;       // log compaction at every node
  std::optional<uint64_t> snapshot_keep_entries;  //
  // Progress lines for a person watching (simulated time, records, ledger); may be empty.
  std::function<void(const std::string&)> progress;
  int64_t progress_every_ms = 3'600'000;  // simulated
};

RunReport run_scenario(const Scenario& scenario, const RunOptions& options);
// Whether the scenario's founding sites make a genesis that fits a record (SimCluster::
// genesis_fits); run_scenario asserts it. A scenario a person wrote is checked first.
Status check_genesis(const Scenario& scenario);

// The group commit time (SimClusterOptions::write_ms) a swarm run with `seed` gives every node:
// one of 0, 1, 2, 5, 10 and 20 ms, from an instant commit to a slow disk's, drawn from the seed
// apart from the faults' draws.
uint32_t swarm_write_ms(uint64_t seed);

struct SwarmFailure {
  uint64_t seed = 0;
  std::string first_violation;  // or the first failed check
  std::string replay;
};
struct SwarmResult {
  uint64_t runs = 0;
  std::vector<SwarmFailure> failures;
  double wall_seconds = 0;
  int64_t simulated_ms = 0;
};
// Runs seeds first_seed .. first_seed + seeds - 1 with random faults (stopping at the first
// failure if `stop_on_failure`); `each` (may be empty) sees every run's report.
// `base`: the scenario path and overrides every run takes (its seed and swarm are set per run).
SwarmResult run_swarm(const Scenario& scenario, const RunOptions& base, uint64_t first_seed,
                      uint64_t seeds, bool stop_on_failure,
                      const std::function<void(const RunReport&)>& each);

}  // namespace umupaka::sim

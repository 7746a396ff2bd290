// Scenarios of the deterministic simulator (umupaka-sim run SCENARIO --seed S): the network (link
// classes and sites, hand-written or generated), the traffic, the scheduled faults, the random
// faults of a swarm run and what must hold at the end. Written in TOML (simulation/scenarios/,
// format in docs/simulator.md); this file is the data model and its strict parser: every key is
// checked, unknown keys are refused, and an error names the field and, where toml++ knows it, the
// file, line and column. The runner turns a Scenario into a run; nothing here simulates.
//
// Times: every time in a scenario is a duration string with units ("24h", "2h30m", "90s",
// "250ms"); fault times are offsets from the start of traffic. The simulated wall clock starts at
// `start` (UTC). Rwanda is UTC+2 and the posts' hourly traffic weights are local time: the hour of
// a simulated instant t is ((t / 3'600'000) + 2) mod 24 (scenario_local_hour()).
//
// Pure: parse_scenario() reads a string; load_scenario() reads one file and nothing else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/records.hpp"
#include "ledger/result.hpp"
#include "node/swim.hpp"
#include "simulation/sim_network.hpp"

namespace umupaka::sim {

// A link class ([links.NAME]): what a site's network connection looks like ("fibre", "wan",
// "satellite"). Two sites talk over the slower of their two classes (the higher latency).
struct ScenarioLink {
  std::string name;
  LinkSpec spec;
  swim::LinkClass swim_class = swim::LinkClass::wan;  // the nodes' SWIM and gossip timings
};

// Traffic profiles a site may name besides the post ids of post_profiles(): the generic small
// post of profile_for(), and visa issuing at an embassy (its volume is the runner's).
inline constexpr std::string_view small_post_traffic = "small-post";
inline constexpr std::string_view embassy_traffic = "embassy";

struct ScenarioSite {
  std::string id;
  SiteKind kind = SiteKind::border_post;
  VoterRole role = VoterRole::learner;
  std::string link;  // name of its link class
  // A post id of post_profiles(), small_post_traffic, embassy_traffic, or "" for none (HQ).
  std::string traffic;
  double traffic_scale = 1.0;  // multiplies the profile's volume
  bool generated = false;      // added by [generate]
  // A site that opens during the run (`joins`, since the start of traffic): not in the genesis;
  // it starts then with an empty store, HQ certifies it, and its traffic begins. nullopt: a
  // founding site, there from the start.
  std::optional<int64_t> joins_ms;
  // Present at `t_ms` since the start of traffic.
  bool present_at(int64_t t_ms) const { return !joins_ms || *joins_ms <= t_ms; }
};

enum class FaultKind : uint8_t {
  partition,         // `sites` cut from `group2` (empty: every other site), both ways
  cut_one_way,       // what `sites` send to `group2` (empty: every other site) is dropped
  isolate,           // each of `sites` cut from every other site
  crash,             // `sites` crash; restarted `duration_ms` later
  pause,             // `sites` run nothing for `duration_ms` (frames wait for them)
  clock_skew,        // `sites`' clocks off by `offset_ms` for `duration_ms` (0: to the end)
  clock_jump,        // `sites`' clocks step by `offset_ms` and stay stepped (instant)
  disk_full,         // every write of `sites`' stores fails for `duration_ms`
  degrade,           // links between `sites` and `group2` (empty: every other) become `link`
  crash_leader,      // whoever leads at `at_ms` crashes; restarted `duration_ms` later
  forge,             // a record claiming `sites[0]` as origin, not signed by it, sent to
                     // `group2` (empty: every other site): refused, never stored
  equivocate,        // `sites[0]` signs two different records at one seq; the second goes to
                     // `group2` (empty: the runner splits the others in two), the first to the rest
  crash_after_send,  // each of `sites` crashes right after its next Raft message; restarted
                     // `duration_ms` after the crash
  revoke,  // HQ (the certifier) revokes `sites[0]`, cut-off up to 10 records below the site's head
           // as HQ holds it; the site records on, unheard (instant; left out of the final checks
           // past the cut-off)
};
inline constexpr size_t fault_kind_count = 14;
static_assert(static_cast<size_t>(FaultKind::revoke) + 1 == fault_kind_count);

// "partition", "cut-one-way", ..., "crash-after-send": the names scenario files use.
std::string_view fault_kind_name(FaultKind kind);

struct ScenarioFault {
  FaultKind kind = FaultKind::partition;
  int64_t at_ms = 0;  // since the start of traffic
  // How long it lasts. Instant faults (clock-jump, forge, equivocate, revoke): 0. Every other kind
  // must end (> 0), so the final checks can expect convergence; clock-skew alone may be 0: to the
  // end.
  int64_t duration_ms = 0;
  std::vector<std::string> sites;   // see FaultKind; empty only for crash-leader
  std::vector<std::string> group2;  // see FaultKind; disjoint from `sites`
  int64_t offset_ms = 0;            // clock-skew, clock-jump: non-zero
  LinkSpec link;                    // degrade: the links' spec during the fault
};

// Random faults for `umupaka-sim swarm`: `faults` faults drawn per seed, kinds uniformly from
// `kinds`, starting uniformly during traffic.
struct SwarmSpec {
  bool enabled = false;
  uint32_t faults = 10;
  std::vector<FaultKind> kinds;       // never empty after parsing (default: every kind)
  int64_t max_duration_ms = 300'000;  // a drawn fault lasts 1 s .. this
  int64_t max_offset_ms = 600'000;    // clock faults: offsets in [-this, this]
  LinkSpec degrade{.latency_ms = 800, .jitter_ms = 400, .loss = 0.2};  // degrade faults' links
};

struct Scenario {
  std::string name;  // default: the file's name without ".toml"
  std::string description;
  std::string start = "2026-03-02T04:00:00Z";  // simulated wall clock at the start (UTC)
  int64_t start_ms = 1'772'424'000'000;        // `start` parsed
  int64_t duration_ms = 0;                     // how long traffic runs (> 0)
  int64_t settle_ms = 600'000;  // after traffic and faults end, time to converge before the checks
  double traffic_scale = 1.0;   // global multiplier on every site's traffic
  uint32_t tick_ms = 20, raft_tick_ms = 100, election_ticks = 10;
  // How long a node's group commit takes (SimClusterOptions::write_ms). A swarm run draws its own
  // for each seed (swarm_write_ms).
  uint32_t write_ms = 1;
  // Log compaction at every node (node.toml [raft] snapshot_entries, snapshot_keep_entries).
  // (The defaults are OrderOptions's.)
  uint64_t snapshot_entries = 10'000;
  uint64_t snapshot_keep_entries = 5'000;
  std::vector<ScenarioLink> links;    // by name
  std::vector<ScenarioSite> sites;    // written ones in file order, then generated ones
  std::vector<ScenarioFault> faults;  // in file order
  SwarmSpec swarm;
  // Expectations checked at the end, besides the invariants every run checks.
  bool expect_evidence = false;  // every live node holds evidence of equivocation

  const ScenarioLink* find_link(std::string_view name) const;
  const ScenarioSite* find_site(std::string_view id) const;
};

// Local hour in Rwanda (UTC+2), 0..23, of the simulated instant `instant_ms` (ms since the epoch).
int scenario_local_hour(int64_t instant_ms);

// "24h", "2h30m", "90s", "1m30s", "250ms": one or more integer-and-unit parts, units h, m, s, ms,
// each at most once and in that order; a leading '-' when `allow_negative`. nullopt otherwise.
std::optional<int64_t> parse_duration_ms(std::string_view text, bool allow_negative = false);
// The shortest form parse_duration_ms() reads back: "2h30m", "0s", "-5m".
std::string format_duration_ms(int64_t ms);

// Parses and validates a scenario. `source_name` (a path or a name) prefixes error messages and
// gives the default name. Errors: Errc::invalid_field, field = the key's path ("sites[2].link",
// "faults[0].at"), message = "SOURCE:LINE:COL: PATH: what is wrong".
Result<Scenario> parse_scenario(std::string_view toml_text, std::string_view source_name);
// Reads the file at `path` and parses it. Errors: Errc::io, or parse_scenario's.
Result<Scenario> load_scenario(const std::string& path);

// The scenario with traffic cut to `duration_ms` (`umupaka-sim run --duration`): the sites that
// would join, and the faults that would start, at or after the new end are left out, so that the
// run does not wait for them. `left_out` gets one line for each ("nemba joins at 30m: after the
// run's end (10m), left out"). A longer duration changes only the duration.
Scenario cut_to(const Scenario& s, int64_t duration_ms, std::vector<std::string>& left_out);

}  // namespace umupaka::sim

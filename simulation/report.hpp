// Reports of a simulated run (umupaka-sim run --report DIR): a summary a person reads at a glance,
// a JSON report for tools, and SVG charts of replication lag and commit latency over simulated
// time, one line per site. Pure: builds strings; write_report() alone touches the file system.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/result.hpp"
#include "simulation/sim_cluster.hpp"

namespace umupaka::sim {

struct Percentiles {
  uint64_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0;  // ms; all 0 when count == 0
};
// Nearest-rank percentiles of `values` (taken by value: sorted here).
Percentiles percentiles(std::vector<uint32_t> values);

// One bucket of simulated time at one site.
struct SeriesPoint {
  int64_t t_ms = 0;  // bucket start, since the run's start
  uint64_t count = 0;
  double p50 = 0, p99 = 0, max = 0;
};
struct SiteSeries {
  std::string site;
  Percentiles lag, commit;  // over the whole run
  std::vector<SeriesPoint> lag_points, commit_points;
};

// A fault of the scenario (scheduled or drawn), for the summary and the charts' shading.
struct FaultEvent {
  int64_t from_ms = 0, to_ms = 0;  // since the run's start; from == to for an instant
  std::string kind;                // "partition", "crash", "disk-full", "clock-jump", ...
  std::string detail;              // "rusumo | rest", "hq"
};

struct CheckResult {
  std::string name;  // "no acknowledged record lost", "ledgers agree", ...
  bool passed = false;
  std::string detail;
};

struct RunReport {
  std::string scenario;
  uint64_t seed = 0;
  std::string trace_hex;
  std::string replay;  // the command that replays this run
  int64_t simulated_ms = 0;
  double wall_seconds = 0;
  std::vector<std::string> sites;
  std::vector<std::string> voters;
  uint64_t records_acknowledged = 0;
  uint64_t commands_refused = 0;
  uint64_t commands_lost = 0;  // queued at a crashed site, never answered
  uint64_t ledger_size = 0;    // the largest ledger at the end
  uint64_t conflicts_raised = 0;
  uint64_t leader_changes = 0;
  uint64_t snapshot_installs = 0;
  uint64_t max_term = 0;
  uint64_t crashes = 0;
  // The nodes' writers: how long a group commit took (SimClusterOptions::write_ms), how many
  // ran, and how many of them held items of more than one kind (commands, received records,
  // ledger applies).
  uint32_t write_ms = 0;
  uint64_t write_batches = 0, mixed_batches = 0;
  Percentiles lag, commit;  // every site together
  std::vector<SiteSeries> per_site;
  std::vector<FaultEvent> faults;
  std::vector<CheckResult> checks;
  std::vector<std::string> violations;
  SimNetworkStats network;
  bool passed() const;  // every check passed and no violation
};

// Fills per_site, lag and commit from the cluster's series (bucket width: the cluster's).
void add_latencies(RunReport& report, const LatencySeries& lag, const LatencySeries& commit);

std::string render_summary(const RunReport& report);
std::string render_json(const RunReport& report);
enum class Chart : uint8_t { lag, commit };
// An SVG line chart: simulated time (h) across, p99 latency (ms, log scale) up, one line per site,
// faults shaded, a legend.
std::string render_svg(const RunReport& report, Chart chart);

// Writes DIR/summary.txt, DIR/report.json, DIR/lag.svg, DIR/commit.svg (DIR created if missing).
// Errc::io on failure.
Status write_report(const RunReport& report, const std::string& dir);

}  // namespace umupaka::sim

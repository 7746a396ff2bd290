// umupaka-sim: local networks of real nodes, and deterministic simulated runs.
//
//   umupaka-sim local up --dir DIR [--sites ID[:KIND],...] [--voters ID,...] [--base-port P]
//                        [--link lan|wan|satellite] [--snapshot-entries N]
//                        [--snapshot-keep-entries K] [--group-commit-pace P]
//   umupaka-sim local down --dir DIR
//   umupaka-sim local start --dir DIR --site ID      (restart one stopped node)
//   umupaka-sim local add --dir DIR --site ID[:KIND] [--role learner|voter] (certify, start)
//   umupaka-sim run SCENARIO --seed S [--report DIR] [--swarm] [--duration D]
//                   [--traffic-scale X] [--quiet]
//   umupaka-sim swarm [SCENARIO] [--seeds K] [--first-seed N] [--report DIR] [--stop-on-failure]
//   (run and swarm: [--snapshot-entries N] [--snapshot-keep-entries K] override the scenario's)
//
// SCENARIO is a path to a TOML file or the name of a shipped one (simulation/scenarios/NAME.toml).
// `run` prints the summary and, last, trace=<hex>; it exits 1 when a check fails.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "ledger/limits.hpp"
#include "node/command_line.hpp"
#include "simulation/local_network.hpp"
#include "simulation/sim_run.hpp"

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::string default_node_binary() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const auto& candidate : {self.parent_path() / "umupaka-node",
                                  self.parent_path().parent_path() / "node" / "umupaka-node"})
      if (std::filesystem::exists(candidate)) return candidate.string();
  }
  return "/usr/local/bin/umupaka-node";
}

// A path, or the name of a shipped scenario: installed (PREFIX/share/umupaka/scenarios beside
// PREFIX/bin, by `cmake --install`), or in the source tree the binary was built from.
std::string find_scenario(const std::string& name) {
  namespace fs = std::filesystem;
  if (fs::exists(name)) return name;
  std::vector<fs::path> dirs;
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    dirs.push_back(self.parent_path() / "scenarios");
    dirs.push_back(self.parent_path().parent_path() / "share" / "umupaka" / "scenarios");
  }
  dirs.push_back(UMUPAKA_SOURCE_SCENARIOS);
  for (const auto& d : dirs)
    for (const auto& candidate : {d / name, d / (name + ".toml")})
      if (fs::exists(candidate)) return candidate.string();
  return name;  // load_scenario names the missing file
}

int fail(const std::string& message) {
  std::fprintf(stderr, "umupaka-sim: %s\n", message.c_str());
  return 2;
}

// local up / add: bad arguments or a bad network.json exit 2, anything else (a port taken, a node
// that does not start) 1, as docs/operations.md says of every command.
int local_failure(const umupaka::Error& e) {
  std::fprintf(stderr, "umupaka-sim: %s\n", e.message.c_str());
  return e.code == umupaka::Errc::invalid_field ? 2 : 1;
}

int run_command(const std::string& name, const umupaka::sim::RunOptions& base,
                const std::string& report_dir, bool quiet) {
  const std::string path = find_scenario(name);
  auto scenario = umupaka::sim::load_scenario(path);
  if (!scenario.ok()) return fail(scenario.error().message);
  if (auto fits = umupaka::sim::check_genesis(*scenario); !fits.ok())
    return fail(path + ": the founding sites' genesis: " + fits.error().message);
  umupaka::sim::RunOptions o = base;
  o.scenario_path = name;
  if (!quiet)
    o.progress = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  const auto report = umupaka::sim::run_scenario(*scenario, o);
  if (!report_dir.empty()) {
    // Writing the report failed (the disk): a runtime error, exit 1 (2 is for bad arguments).
    if (auto s = umupaka::sim::write_report(report, report_dir); !s.ok()) {
      std::fprintf(stderr, "umupaka-sim: %s\n", s.error().message.c_str());
      return 1;
    }
  }
  std::fputs(umupaka::sim::render_summary(report).c_str(), stdout);
  return report.passed() ? 0 : 1;
}

int swarm_command(const std::string& name, const umupaka::sim::RunOptions& base,
                  uint64_t first_seed, uint64_t seeds, bool stop_on_failure,
                  const std::string& report_dir) {
  const std::string path = find_scenario(name);
  auto scenario = umupaka::sim::load_scenario(path);
  if (!scenario.ok()) return fail(scenario.error().message);
  if (auto fits = umupaka::sim::check_genesis(*scenario); !fits.ok())
    return fail(path + ": the founding sites' genesis: " + fits.error().message);
  umupaka::sim::RunOptions o = base;
  o.scenario_path = name;
  const auto result = umupaka::sim::run_swarm(
      *scenario, o, first_seed, seeds, stop_on_failure, [&](const umupaka::sim::RunReport& r) {
        std::printf("seed %llu: %s  %.1f s  records=%llu  write_ms=%u  trace=%s\n",
                    static_cast<unsigned long long>(r.seed), r.passed() ? "ok  " : "FAIL",
                    r.wall_seconds, static_cast<unsigned long long>(r.records_acknowledged),
                    r.write_ms, r.trace_hex.c_str());
        std::fflush(stdout);
        if (!r.passed() && !report_dir.empty()) {
          const std::string to = report_dir + "/seed-" + std::to_string(r.seed);
          // (The swarm exits 1 for the failed seed anyway; its report is said to be missing.)
          if (const auto s = umupaka::sim::write_report(r, to); !s.ok())
            std::fprintf(stderr, "umupaka-sim: the report of seed %llu was not written to %s: %s\n",
                         static_cast<unsigned long long>(r.seed), to.c_str(),
                         s.error().message.c_str());
        }
      });
  std::printf("\n%llu seeds, %zu failed, %.1f s wall, %.1f seeds/min\n",
              static_cast<unsigned long long>(result.runs), result.failures.size(),
              result.wall_seconds,
              result.wall_seconds > 0 ? result.runs * 60.0 / result.wall_seconds : 0.0);
  for (const auto& f : result.failures)
    std::printf("FAIL seed %llu: %s\n  replay: %s\n", static_cast<unsigned long long>(f.seed),
                f.first_violation.c_str(), f.replay.c_str());
  return result.failures.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"umupaka-sim: local networks and deterministic simulation"};
  app.require_subcommand(1);
  auto* local = app.add_subcommand("local", "real nodes on 127.0.0.1");
  local->require_subcommand(1);
  std::string dir, sites, voters, link = "wan", node_bin = default_node_binary(), site;
  uint16_t base_port = 7400;
  auto* up = local->add_subcommand("up", "create and start a local network");
  up->add_option("--dir", dir)->required();
  up->add_option("--sites", sites, "comma-separated ID or ID:KIND");
  up->add_option("--voters", voters, "comma-separated voter sites");
  up->add_option("--base-port", base_port, "API ports from here, peer ports from here + 100");
  up->add_option("--link", link, "link class between the nodes");
  up->add_option("--node-bin", node_bin, "umupaka-node binary");
  std::optional<uint64_t> snapshot_entries, snapshot_keep_entries;
  // The bounds node.toml takes (docs/operations.md): past them every node would refuse to start.
  const auto snapshot_range = CLI::Range(uint64_t{0}, uint64_t{100'000'000});
  up->add_option("--snapshot-entries", snapshot_entries,
                 "[raft] snapshot_entries of every node (a log snapshot every N applied entries)")
      ->check(snapshot_range);
  up->add_option("--snapshot-keep-entries", snapshot_keep_entries,
                 "[raft] snapshot_keep_entries of every node (entries kept below a snapshot)")
      ->check(snapshot_range);
  uint32_t pace = umupaka::sim::LocalUpOptions{}.group_commit_pace;
  up->add_option("--group-commit-pace", pace,
                 "[storage] group_commit_pace of every node (0 off; default 3: the nodes share "
                 "this machine's disk)")
      ->check(CLI::Range(0u, umupaka::limits::group_commit_pace_max));
  auto* down = local->add_subcommand("down", "stop a local network");
  down->add_option("--dir", dir)->required();
  auto* start = local->add_subcommand("start", "start one site's node again");
  start->add_option("--dir", dir)->required();
  start->add_option("--site", site)->required();
  bool restored = false;
  start->add_flag("--restored", restored,
                  "the store was restored from a backup: umupaka-node run --restored "
                  "(docs/operations.md)");
  std::string role = "learner";
  auto* add = local->add_subcommand("add", "certify one more site (as HQ would) and start it");
  add->add_option("--dir", dir)->required();
  add->add_option("--site", site, "ID or ID:KIND")->required();
  add->add_option("--role", role, "learner | voter (joins as a learner, promoted once caught up)")
      ->check(CLI::IsMember({"learner", "voter"}));
  add->add_option("--node-bin", node_bin, "umupaka-node binary");

  std::string scenario, report_dir, duration;
  umupaka::sim::RunOptions run_options;
  bool quiet = false;
  auto* run = app.add_subcommand("run", "simulate a scenario, deterministically from a seed");
  run->add_option("scenario", scenario, "a scenario file, or the name of a shipped one")
      ->required();
  run->add_option("--seed", run_options.seed, "the run's seed")
      ->required()
      ->check(umupaka::not_negative);
  run->add_option("--report", report_dir, "write summary.txt, report.json and charts here");
  run->add_flag("--swarm", run_options.swarm, "also draw random faults from the seed");
  run->add_option("--duration", duration, "traffic duration instead of the scenario's (6h, 90m)");
  run->add_option("--traffic-scale", run_options.traffic_scale,
                  "traffic multiplier instead of the scenario's")
      ->check(umupaka::finite_range(0.000001, 10'000));
  run->add_flag("--quiet", quiet, "no progress lines on stderr");

  uint64_t seeds = 20, first_seed = 1;
  std::string swarm_scenario = "swarm";
  auto* swarm = app.add_subcommand("swarm", "many seeds with random faults");
  swarm->add_option("scenario", swarm_scenario, "a scenario file or name (default: swarm)");
  swarm->add_option("--seeds", seeds, "how many seeds")->check(CLI::Range(1u, 1'000'000u));
  swarm->add_option("--first-seed", first_seed, "the first seed")->check(umupaka::not_negative);
  swarm->add_option("--report", report_dir, "reports of failed seeds go here (seed-N/)");
  bool stop_on_failure = false;
  swarm->add_flag("--stop-on-failure", stop_on_failure, "stop at the first failed seed");
  for (auto* cmd : {run, swarm}) {
    cmd->add_option("--snapshot-entries", run_options.snapshot_entries,
                    "log compaction at every node instead of the scenario's: a snapshot every N "
                    "applied entries (0: never)")
        ->check(snapshot_range);
    cmd->add_option("--snapshot-keep-entries", run_options.snapshot_keep_entries,
                    "entries kept below a snapshot instead of the scenario's")
        ->check(snapshot_range);
  }
  if (const auto rc = umupaka::parse_command_line(app, argc, argv)) return *rc;

  // The nodes' own logs (elections, warnings) would drown the report: errors only.
  if (run->parsed() || swarm->parsed()) spdlog::set_level(spdlog::level::err);
  if (run->parsed()) {
    if (!duration.empty()) {
      const auto d = umupaka::sim::parse_duration_ms(duration);
      if (!d || *d <= 0) return fail("--duration: not a duration: " + duration);
      run_options.duration_ms = *d;
    }
    return run_command(scenario, run_options, report_dir, quiet);
  }
  if (swarm->parsed() && seeds - 1 > UINT64_MAX - first_seed)  // the last seed past 2^64-1
    return fail("--first-seed " + std::to_string(first_seed) + " with --seeds " +
                std::to_string(seeds) + " runs past the last seed, 2^64-1");
  if (swarm->parsed())
    return swarm_command(swarm_scenario, run_options, first_seed, seeds, stop_on_failure,
                         report_dir);

  if (up->parsed()) {
    umupaka::sim::LocalUpOptions o;
    o.dir = std::filesystem::absolute(dir).string();
    o.sites = split(sites);
    o.voters = split(voters);
    o.base_port = base_port;
    o.link = link;
    o.node_binary = std::filesystem::absolute(node_bin).string();
    o.snapshot_entries = snapshot_entries;
    o.snapshot_keep_entries = snapshot_keep_entries;
    o.group_commit_pace = pace;
    auto s = umupaka::sim::local_up(o);
    if (!s.ok()) return local_failure(s.error());
    std::printf("network up: %s/network.json\n", o.dir.c_str());
    return 0;
  }
  if (down->parsed()) {
    auto s = umupaka::sim::local_down(std::filesystem::absolute(dir).string());
    if (!s.ok()) {
      std::fprintf(stderr, "umupaka-sim: %s\n", s.error().message.c_str());
      return 1;
    }
    std::printf("network down\n");
    return 0;
  }
  if (add->parsed()) {
    umupaka::sim::LocalAddOptions o;
    o.dir = std::filesystem::absolute(dir).string();
    o.site = site;
    o.role = role;
    o.node_binary = std::filesystem::absolute(node_bin).string();
    auto pid = umupaka::sim::local_add(o);
    if (!pid.ok()) return local_failure(pid.error());
    std::printf("%s certified and started, pid %d\n", site.substr(0, site.find(':')).c_str(), *pid);
    return 0;
  }
  if (start->parsed()) {
    auto pid = umupaka::sim::start_site(
        std::filesystem::absolute(dir).string(), site,
        restored ? std::vector<std::string>{"--restored"} : std::vector<std::string>{});
    if (!pid.ok()) {
      std::fprintf(stderr, "umupaka-sim: %s\n", pid.error().message.c_str());
      return 1;
    }
    std::printf("%s started, pid %d\n", site.c_str(), *pid);
    return 0;
  }
  return 2;
}

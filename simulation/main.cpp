// umupaka-sim: local networks of real nodes (and, with the simulator, deterministic runs).
//
//   umupaka-sim local up --dir DIR [--sites ID[:KIND],...] [--voters ID,...] [--base-port P]
//                        [--link lan|wan|satellite]
//   umupaka-sim local down --dir DIR
//   umupaka-sim local start --dir DIR --site ID      (restart one stopped node)
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "simulation/local_network.hpp"

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
  auto* down = local->add_subcommand("down", "stop a local network");
  down->add_option("--dir", dir)->required();
  auto* start = local->add_subcommand("start", "start one site's node again");
  start->add_option("--dir", dir)->required();
  start->add_option("--site", site)->required();
  CLI11_PARSE(app, argc, argv);

  if (up->parsed()) {
    umupaka::sim::LocalUpOptions o;
    o.dir = std::filesystem::absolute(dir).string();
    o.sites = split(sites);
    o.voters = split(voters);
    o.base_port = base_port;
    o.link = link;
    o.node_binary = std::filesystem::absolute(node_bin).string();
    auto s = umupaka::sim::local_up(o);
    if (!s.ok()) {
      std::fprintf(stderr, "umupaka-sim: %s\n", s.error().message.c_str());
      return 1;
    }
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
  if (start->parsed()) {
    auto pid = umupaka::sim::start_site(std::filesystem::absolute(dir).string(), site);
    if (!pid.ok()) {
      std::fprintf(stderr, "umupaka-sim: %s\n", pid.error().message.c_str());
      return 1;
    }
    std::printf("%s started, pid %d\n", site.c_str(), *pid);
    return 0;
  }
  return 2;
}

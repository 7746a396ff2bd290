// Replication benchmarks on a local network of real nodes (umupaka-sim local up).
//
//   replication_bench lag --dir DIR [--nodes 5] [--rate 1000] [--seconds 20]
//       crossings posted at every node in turn at RATE records/s in all; every node's feed heads
//       polled in turn, 5 ms between rounds (the round time is printed); lag of a record = the
//       first poll at which every other node holds it,
//       minus the moment its origin answered 201 (accepted). Prints p50/p99/max, and bytes on
//       the wire per record (transport bytes sent by all nodes / records).
//   replication_bench commit --dir DIR [--nodes 5] [--rate 1000] [--seconds 20] [--held]
//                            [--group-commit-pace P]
//       as lag, to committed at every node (each node's /v1/ledger/frontier polled), LAN Raft
//       timings, 3 voters; --held also polls the feeds, to report the gossip part.
//   replication_bench catchup --dir DIR [--records 1000000]
//       HQ's store is filled offline with RECORDS records; then HQ and a node that has none
//       start, and the time until that node holds them all is measured.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "node/config.hpp"
#include "node/http_client.hpp"
#include "node/json_visit.hpp"
#include "node/node_core.hpp"
#include "node/traffic.hpp"
#include "simulation/local_network.hpp"
#include "storage/store.hpp"

namespace {

using namespace umupaka;
using json = nlohmann::json;
using clk = std::chrono::steady_clock;

double ms_since(clk::time_point t0) {
  return std::chrono::duration<double, std::milli>(clk::now() - t0).count();
}
int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

std::string node_binary(const char* argv0) {
  std::string self = argv0;
  const auto slash = self.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : self.substr(0, slash);
  return dir + "/../node/umupaka-node";
}

uint64_t transport_bytes(const json& network, const std::string& token) {
  uint64_t total = 0;
  for (const auto& s : network["sites"]) {
    HttpClient c(s["api"], token);
    const json st = json::parse(c.get("/v1/status").body, nullptr, false);
    if (st.is_object()) total += st["network"]["transport"].value("bytes_out", 0ull);
  }
  return total;
}

int lag(const std::string& dir, const std::string& bin, int nodes, double rate, double seconds,
        bool committed, bool held_too, uint32_t pace) {
  const std::vector<std::string> all = {
      "hq", "gatuna", "rusumo", "kagitumba", "kigali-airport", "cyanika", "nemba"};
  sim::LocalUpOptions opts;
  opts.dir = dir;
  opts.sites.assign(all.begin(), all.begin() + std::min<size_t>(nodes, all.size()));
  opts.node_binary = bin;
  opts.base_port = 9400;
  opts.group_commit_pace = pace;
  if (committed) {
    opts.link = "lan";  // one machine: LAN timings (Raft tick 50 ms)
    if (nodes >= 5) opts.voters = {"hq", "kigali-airport", "gatuna"};
  }
  if (auto s = sim::local_up(opts); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.error().message.c_str());
    return 1;
  }
  const json network = json::parse(*read_file(dir + "/network.json"));
  const std::string token = network["admin_token"];
  std::vector<std::string> sites, apis;
  for (const auto& s : network["sites"]) {
    sites.push_back(s["id"]);
    apis.push_back(s["api"]);
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));  // let SWIM settle
  const uint64_t bytes_before = transport_bytes(network, token);

  // accepted[origin index][seq] = ms since t0
  std::mutex mu;
  std::vector<std::map<uint64_t, double>> accepted(sites.size());
  // first_seen[node][origin] = vector of (ms, head)
  std::vector<std::vector<std::vector<std::pair<double, uint64_t>>>> seen(
      sites.size(), std::vector<std::vector<std::pair<double, uint64_t>>>(sites.size()));
  // With --held, also when every node first held each record (its feeds): the gossip part.
  auto held = seen;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> polls{0};
  const auto t0 = clk::now();

  std::thread poller([&] {
    std::vector<std::unique_ptr<HttpClient>> clients;
    for (const auto& a : apis) clients.push_back(std::make_unique<HttpClient>(a, token));
    std::vector<std::vector<uint64_t>> last(sites.size(), std::vector<uint64_t>(sites.size(), 0));
    while (!stop) {
      for (size_t n = 0; n < sites.size(); ++n) {
        if (held_too) {
          const json f = json::parse(clients[n]->get("/v1/feeds").body, nullptr, false);
          const double t = ms_since(t0);
          if (f.is_object())
            for (const auto& e : f["feeds"]) {
              const auto it = std::find(sites.begin(), sites.end(), e["origin"]);
              if (it == sites.end()) continue;
              auto& v = held[n][static_cast<size_t>(it - sites.begin())];
              const uint64_t seq = e["seq"];
              if (v.empty() || seq > v.back().second) v.emplace_back(t, seq);
            }
        }
        const auto r = clients[n]->get(committed ? "/v1/ledger/frontier" : "/v1/feeds");
        const double t = ms_since(t0);
        const json f = json::parse(r.body, nullptr, false);
        if (!f.is_object()) continue;
        std::vector<std::pair<std::string, uint64_t>> heads;
        if (committed) {
          for (auto it = f["frontier"].begin(); it != f["frontier"].end(); ++it)
            heads.emplace_back(it.key(), it.value().get<uint64_t>());
        } else {
          for (const auto& e : f["feeds"]) heads.emplace_back(e["origin"], e["seq"]);
        }
        for (const auto& [origin, seq] : heads) {
          const auto it = std::find(sites.begin(), sites.end(), origin);
          if (it == sites.end()) continue;
          const size_t o = static_cast<size_t>(it - sites.begin());
          if (seq > last[n][o]) {
            last[n][o] = seq;
            seen[n][o].emplace_back(t, seq);
          }
        }
      }
      ++polls;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });

  // Open loop: each request is sent at its slot in the schedule, whatever the answers before it
  // took. With too few writers a slow answer (a loaded machine) holds back the requests after it,
  // which then leave in a burst: the offered rate is not the one asked for, and the burst inflates
  // the tail. 32 requests in flight cover answers of up to 32 ms at 1,000/s.
  const unsigned writers = 32;
  std::atomic<uint64_t> next{0};
  const uint64_t total = static_cast<uint64_t>(rate * seconds);
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      std::vector<std::unique_ptr<HttpClient>> clients;
      for (const auto& a : apis) clients.push_back(std::make_unique<HttpClient>(a, token));
      std::vector<std::unique_ptr<TrafficGenerator>> gens;
      for (const auto& s : sites)
        gens.push_back(std::make_unique<TrafficGenerator>(profile_for(s, SiteKind::border_post),
                                                          1000 + w, 5000));
      const Date today = date_of_instant_ms(wall_ms());
      for (;;) {
        const uint64_t i = next++;
        if (i >= total) break;
        std::this_thread::sleep_until(
            t0 + std::chrono::microseconds(static_cast<int64_t>(i * 1e6 / rate)));
        const size_t o = i % sites.size();
        CrossingRequest c;
        for (auto& ev : gens[o]->next(today))
          if (auto* cr = std::get_if<CrossingRequest>(&ev.body)) c = *cr;
        if (sites[o] == "hq") c.post = "gatuna";  // HQ records a crossing by naming its post
        const auto r = clients[o]->post("/v1/crossings",
                                        json_visit::without_nulls(json_visit::to_json(c)).dump());
        const double t = ms_since(t0);
        if (r.status != 201) continue;
        const json j = json::parse(r.body);
        std::lock_guard lock(mu);
        accepted[o][j["seq"].get<uint64_t>()] = t;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double write_ms = ms_since(t0);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  stop = true;
  poller.join();
  const double poll_ms = ms_since(t0) / static_cast<double>(std::max<uint64_t>(1, polls));
  const uint64_t bytes_after = transport_bytes(network, token);

  // The time from accepted until every node (but the origin, for `held`) shows the record.
  auto at_all = [&](const auto& shown, bool with_origin, uint64_t& unseen, uint64_t& records) {
    std::vector<double> lags;
    for (size_t o = 0; o < sites.size(); ++o) {
      for (const auto& [seq, t_acc] : accepted[o]) {
        ++records;
        double worst = 0;
        bool everywhere = true;
        for (size_t n = 0; n < sites.size(); ++n) {
          if (n == o && !with_origin) continue;
          const auto& v = shown[n][o];
          auto it = std::lower_bound(v.begin(), v.end(), seq,
                                     [](const auto& p, uint64_t s) { return p.second < s; });
          if (it == v.end()) {
            everywhere = false;
            break;
          }
          worst = std::max(worst, it->first - t_acc);
        }
        if (everywhere)
          lags.push_back(std::max(0.0, worst));
        else
          ++unseen;
      }
    }
    return lags;
  };
  uint64_t unseen = 0, records = 0;
  std::vector<double> lags = at_all(seen, committed, unseen, records);
  if (held_too) {
    uint64_t held_unseen = 0, held_records = 0;
    std::vector<double> h = at_all(held, false, held_unseen, held_records);
    std::sort(h.begin(), h.end());
    std::printf("held by every other node (gossip): p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
                pct(h, 0.5), pct(h, 0.99), pct(h, 1.0));
  }
  std::printf(
      "%s: %zu nodes, %.0f records/s offered, %llu accepted in %.1f s (%.0f/s); "
      "%s at all: p50 %.1f ms, p99 %.1f ms, max %.1f ms; not everywhere: %llu; "
      "wire: %.0f bytes per record (all nodes' transport bytes / records); "
      "every node polled every %.1f ms\n",
      committed ? "commit" : "lag", sites.size(), rate, static_cast<unsigned long long>(records),
      write_ms / 1000, records / (write_ms / 1000), committed ? "committed" : "seen",
      pct(lags, 0.5), pct(lags, 0.99), pct(lags, 1.0), static_cast<unsigned long long>(unseen),
      records ? static_cast<double>(bytes_after - bytes_before) / records : 0.0, poll_ms);
  (void)sim::local_down(dir);
  return unseen == 0 ? 0 : 1;
}

int catchup(const std::string& dir, const std::string& bin, uint64_t records) {
  sim::LocalUpOptions opts;
  opts.dir = dir;
  opts.sites = {"hq", "gatuna"};
  opts.node_binary = bin;
  opts.base_port = 9500;
  opts.link = "lan";  // one machine: no WAN bandwidth cap, so the node's own rate is measured
  if (auto s = sim::local_up(opts); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.error().message.c_str());
    return 1;
  }
  (void)sim::local_down(dir);
  std::rename((dir + "/network.down.json").c_str(), (dir + "/network.json").c_str());
  const std::string filled = dir + "/filled";
  if (::access(filled.c_str(), F_OK) == 0) {
    // A previous run filled HQ; reuse it and start gatuna from scratch.
    std::printf("reusing the filled HQ store\n");
  }
  // Fill HQ's store offline, as the node core would record them.
  if (::access(filled.c_str(), F_OK) != 0) {
    auto cfg = load_config(dir + "/hq");
    auto store = Store::open(dir + "/hq/store");
    auto seed = load_signing_seed(dir + "/hq");
    NodeCore core(NodeIdentity{cfg->network_id, cfg->site, cfg->kind},
                  SigningKey::from_seed(*seed));
    auto txn = (*store)->read();
    (void)core.recover(**txn, wall_ms());
    txn.value().reset();
    TrafficGenerator gen(profile_for("gatuna", SiteKind::border_post), 3, 100000);
    const Date today = date_of_instant_ms(wall_ms());
    const auto t0 = clk::now();
    uint64_t done = 0;
    while (done < records) {
      std::vector<Command> batch;
      while (batch.size() < 2000 && done + batch.size() < records)
        for (auto& ev : gen.next(today)) {
          // HQ records a crossing by naming its post.
          if (auto* c = std::get_if<CrossingRequest>(&ev.body)) c->post = "gatuna";
          batch.push_back(Command{std::move(ev.body), "bench"});
        }
      auto s = (*store)->write([&](StoreTxn& t) -> Status {
        core.begin_batch();
        for (const auto& c : batch) (void)core.execute(c, t, wall_ms());
        return {};
      });
      if (!s.ok()) return 1;
      core.commit_succeeded();
      done += batch.size();
    }
    std::printf("filled hq with %llu records in %.1f s\n", static_cast<unsigned long long>(done),
                ms_since(t0) / 1000);
  }
  const json network = json::parse(*read_file(dir + "/network.json"));
  const std::string token = network["admin_token"];
  auto hq = sim::start_site(dir, "hq");
  const auto t0 = clk::now();
  auto gatuna = sim::start_site(dir, "gatuna");
  if (!hq.ok() || !gatuna.ok()) return 1;
  HttpClient c(network["sites"][1]["api"], token);
  uint64_t have = 0;
  while (have < records && ms_since(t0) < 600'000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const json f = json::parse(c.get("/v1/feeds").body, nullptr, false);
    if (!f.is_object()) continue;
    for (const auto& e : f["feeds"])
      if (e["origin"] == "hq") have = e["seq"];
  }
  const double s = ms_since(t0) / 1000;
  std::printf("catch-up: %llu records in %.1f s (%.0f records/s)\n",
              static_cast<unsigned long long>(have), s, have / s);
  (void)sim::local_down(dir);
  return have >= records ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"replication_bench"};
  app.require_subcommand(1);
  std::string dir, bin = node_binary(argv[0]);
  int nodes = 5;
  double rate = 1000, seconds = 20;
  uint64_t records = 1'000'000;
  auto* l = app.add_subcommand("lag");
  l->add_option("--dir", dir)->required();
  l->add_option("--nodes", nodes);
  l->add_option("--rate", rate);
  l->add_option("--seconds", seconds);
  auto* cm = app.add_subcommand("commit", "as lag, to committed at every node");
  cm->add_option("--dir", dir)->required();
  cm->add_option("--nodes", nodes);
  cm->add_option("--rate", rate);
  cm->add_option("--seconds", seconds);
  bool held_too = false;
  cm->add_flag("--held", held_too,
               "also poll every node's feeds, to report when every other node held each record "
               "(twice the polling: the harness then costs the nodes more CPU)");
  uint32_t pace = sim::LocalUpOptions{}.group_commit_pace;
  for (auto* sub : {l, cm})
    sub->add_option("--group-commit-pace", pace,
                    "[storage] group_commit_pace of every node (0: off; default as local up)");
  auto* c = app.add_subcommand("catchup");
  c->add_option("--dir", dir)->required();
  c->add_option("--records", records);
  app.add_option("--node-bin", bin);
  CLI11_PARSE(app, argc, argv);
  signal(SIGPIPE, SIG_IGN);
  if (l->parsed()) return lag(dir, bin, nodes, rate, seconds, false, false, pace);
  if (cm->parsed()) return lag(dir, bin, nodes, rate, seconds, true, held_too, pace);
  return catchup(dir, bin, records);
}

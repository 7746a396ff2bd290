// Traveller query latency on a store holding N records.
//
//   query_bench fill  --data DIR [--records 1000000] [--population 100000] [--seed 1]
//       creates a node data directory (umupaka-node can serve it) and records N realistic
//       crossings through the node core, in group commits of 1,000.
//   query_bench query --data DIR [--queries 20000] [--http URL --token T]
//       looks up random travellers seen in the store: in process (the query code the API runs,
//       on an LMDB read snapshot) or through the HTTP API; prints p50/p90/p99/max in µs.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "ledger/codec.hpp"
#include "node/config.hpp"
#include "node/http_client.hpp"
#include "node/queries.hpp"
#include "node/traffic.hpp"
#include "storage/store.hpp"

namespace {

using namespace umupaka;
using clk = std::chrono::steady_clock;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double pct(std::vector<double>& v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

int fill(const std::string& data, uint64_t records, size_t population, uint64_t seed) {
  auto cfg = init_data_dir(data, "gatuna", SiteKind::border_post, "net-bench", "");
  if (!cfg.ok()) {
    std::fprintf(stderr, "%s\n", cfg.error().message.c_str());
    return 1;
  }
  auto store = Store::open(data + "/store");
  auto seed_key = load_signing_seed(data);
  if (!store.ok() || !seed_key.ok()) return 1;
  NodeCore core(NodeIdentity{cfg->network_id, cfg->site, cfg->kind},
                SigningKey::from_seed(*seed_key));
  TrafficGenerator gen(profile_for("gatuna", SiteKind::border_post), seed, population);
  const Date today = date_of_instant_ms(wall_ms());
  uint64_t done = 0, rejected = 0;
  const auto t0 = clk::now();
  while (done < records) {
    std::vector<Command> batch;
    while (batch.size() < 1000 && done + batch.size() < records)
      for (auto& ev : gen.next(today))
        batch.push_back(Command{std::move(ev.body), "officer-bench"});
    auto s = (*store)->write([&](StoreTxn& txn) -> Status {
      rejected = 0;
      for (const Command& c : batch)
        if (!core.execute(c, txn, wall_ms()).ok()) ++rejected;
      return {};
    });
    if (!s.ok()) {
      std::fprintf(stderr, "write: %s\n", s.error().message.c_str());
      return 1;
    }
    done += batch.size();
    if (done % 100000 < 1000)
      std::printf("%llu records, %.0f/s\n", static_cast<unsigned long long>(done),
                  done / std::chrono::duration<double>(clk::now() - t0).count());
  }
  std::printf("filled %s with %llu records in %.1f s\n", data.c_str(),
              static_cast<unsigned long long>(done),
              std::chrono::duration<double>(clk::now() - t0).count());
  return 0;
}

int query(const std::string& data, size_t queries, const std::string& http,
          const std::string& token) {
  auto cfg = load_config(data);
  auto store = Store::open(data + "/store");
  if (!cfg.ok() || !store.ok()) return 1;
  // Sample documents from the feed itself.
  std::vector<std::pair<std::string, std::string>> docs;
  uint64_t head = 0;
  {
    auto txn = (*store)->read();
    const auto h = (*txn)->head(cfg->site);
    head = h ? h->seq : 0;
    std::mt19937_64 rng(7);
    for (size_t i = 0; i < 5000 && head > 0; ++i) {
      const auto sr = (*txn)->record(cfg->site, 1 + rng() % head);
      auto rec = decode_record(sr->encoded);
      if (const auto* c = std::get_if<Crossing>(&rec->body))
        docs.emplace_back(c->document.country, c->document.number);
    }
  }
  if (docs.empty()) return 1;
  const NodeIdentity self{cfg->network_id, cfg->site, cfg->kind};
  const Date today = date_of_instant_ms(wall_ms());
  std::mt19937_64 rng(11);
  std::vector<double> us;
  size_t crossings_seen = 0;
  std::unique_ptr<HttpClient> client;
  if (!http.empty()) client = std::make_unique<HttpClient>(http, token);
  for (size_t i = 0; i < queries; ++i) {
    const auto& [country, number] = docs[rng() % docs.size()];
    const auto t = clk::now();
    if (client) {
      const auto r = client->get("/v1/travellers/" + country + "/" + number);
      if (r.status != 200) return 1;
      crossings_seen += r.body.size() > 0;
    } else {
      auto txn = (*store)->read();
      const auto j = traveller_picture(**txn, self, country, number, today,
                                       [](std::string_view, uint64_t) { return "accepted"; });
      if (!j.ok()) {
        std::fprintf(stderr, "query_bench: %s\n", j.error().message.c_str());
        return 1;
      }
      crossings_seen += (*j)["crossings"].size();
    }
    us.push_back(std::chrono::duration<double, std::micro>(clk::now() - t).count());
  }
  std::printf(
      "%s: %zu traveller queries on %llu records: p50 %.0f us, p90 %.0f us, p99 %.0f us, "
      "max %.0f us (%.1f crossings per traveller)\n",
      client ? "http" : "in-process", queries, static_cast<unsigned long long>(head), pct(us, 0.5),
      pct(us, 0.9), pct(us, 0.99), pct(us, 1.0),
      client ? 0.0 : static_cast<double>(crossings_seen) / queries);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"query_bench: traveller query latency at scale"};
  app.require_subcommand(1);
  std::string data, http, token;
  uint64_t records = 1'000'000, seed = 1;
  size_t population = 100'000, queries = 20'000;
  auto* f = app.add_subcommand("fill", "create and fill a node data directory");
  f->add_option("--data", data)->required();
  f->add_option("--records", records);
  f->add_option("--population", population);
  f->add_option("--seed", seed);
  auto* q = app.add_subcommand("query", "measure traveller queries");
  q->add_option("--data", data)->required();
  q->add_option("--queries", queries);
  q->add_option("--http", http, "API base URL: measure through HTTP");
  q->add_option("--token", token);
  CLI11_PARSE(app, argc, argv);
  if (f->parsed()) return fill(data, records, population, seed);
  return query(data, queries, http, token);
}

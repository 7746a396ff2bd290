// umupaka-traffic: drives a node's API with realistic border traffic (node/traffic.hpp) and
// reports what it recorded and flagged, with latency percentiles. The demo's traffic source and
// the API load benchmark.
//
//   umupaka-traffic --api http://127.0.0.1:7400 --token T [--admin-token A --watchlist 40]
//                   [--post SITE] [--rate R] [--duration S | --count N] [--concurrency C]
//                   [--seed N] [--population N] [--no-keys] [--quiet] [--json]
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "node/clock.hpp"
#include "node/command_line.hpp"
#include "node/http_client.hpp"
#include "node/json_visit.hpp"
#include "node/traffic.hpp"

namespace {

using namespace umupaka;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

const char* path_of(const CommandBody& b) {
  if (std::holds_alternative<CrossingRequest>(b)) return "/v1/crossings";
  if (std::holds_alternative<PermitRequest>(b)) return "/v1/permits";
  if (std::holds_alternative<AlertRequest>(b)) return "/v1/alerts";
  return nullptr;
}

// The request body as a desk application sends it: optional fields it leaves out are absent.
std::string body_json(const CommandBody& b) {
  return json_visit::without_nulls(
             std::visit([](const auto& r) { return json_visit::to_json(r); }, b))
      .dump();
}

// Sends a write as a desk application does: with an Idempotency-Key, and again with the same key
// when the answer was lost (no answer, or a 503 while the node is busy or restarting), so that a
// retry never records a traveller twice (docs/api.md, "Retries").
// An empty `key`: no header, and no retry (a retry without a key could record twice).
HttpResponse post_with_retries(HttpClient& client, const std::string& path, const std::string& body,
                               const std::string& key, uint64_t& retries) {
  if (key.empty()) return client.post(path, body);
  const std::vector<std::string> headers{"Idempotency-Key: " + key};
  HttpResponse r;
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (attempt > 0) {
      ++retries;
      std::this_thread::sleep_for(std::chrono::milliseconds(250 << (attempt - 1)));
    }
    r = client.post(path, body, headers);
    if (r.status != 0 && r.status != 503) break;
  }
  return r;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"umupaka-traffic: realistic border traffic against a node's API"};
  std::string api = "http://127.0.0.1:7400", token, admin_token, post, kind_name = "border-post",
              watchlist_at;
  double rate = 5, duration_s = 30;
  uint64_t count = 0, seed = 1;
  size_t population = 2000, watchlist = 0;
  unsigned concurrency = 1;
  bool quiet = false, as_json = false, no_keys = false;
  app.add_option("--api", api, "node API base URL");
  app.add_option("--token", token, "officer token")->required();
  app.add_option("--admin-token", admin_token, "hq-admin token (to plant the watchlist)");
  app.add_option("--post", post,
                 "site id of the post the crossings name (default: the node's own; a border "
                 "post's or airport's, so HQ names one)");
  app.add_option("--kind", kind_name, "site kind when the post has no profile");
  app.add_option("--rate", rate, "travellers per second (0: as fast as possible)")
      ->check(finite_range(0, 1e6));
  app.add_option("--duration", duration_s, "seconds to run (ignored with --count)")
      ->check(finite_range(0.001, 1e9));
  app.add_option("--count", count, "travellers to send, then stop");
  app.add_option("--seed", seed, "generator seed")->check(not_negative);
  app.add_option("--population", population, "distinct travellers using the post")
      ->check(CLI::Range(1u, 100'000'000u));
  app.add_option("--watchlist", watchlist, "alerts and document reports to plant first");
  app.add_option("--watchlist-at", watchlist_at,
                 "API URL of the node (HQ) to plant the watchlist at (default: --api)");
  app.add_option("--concurrency", concurrency, "parallel connections")->check(CLI::Range(1u, 256u));
  app.add_flag("--no-keys", no_keys,
               "send writes without an Idempotency-Key, and never retry them (benchmarks)");
  app.add_flag("--quiet", quiet, "print only the summary");
  app.add_flag("--json", as_json, "print the summary as JSON");
  if (const auto rc = umupaka::parse_command_line(app, argc, argv)) return *rc;

  const bool name_post = !post.empty();
  if (!name_post) {
    HttpClient probe(api, token);
    const auto r = probe.get("/v1/status");
    if (r.status != 200) {
      std::fprintf(stderr, "umupaka-traffic: cannot reach %s/v1/status: %s %s\n", api.c_str(),
                   r.error.c_str(), r.body.c_str());
      return 1;
    }
    const json s = json::parse(r.body, nullptr, false);
    post = s.value("site", "small-post");
    kind_name = s.value("kind", kind_name);
    if (kind_name == "embassy") {
      std::fprintf(stderr,
                   "umupaka-traffic: %s is an embassy, which records no crossing: drive a border "
                   "post or an airport (or HQ, with --post SITE)\n",
                   post.c_str());
      return 2;
    }
    if (kind_name == "hq") {
      std::fprintf(stderr,
                   "umupaka-traffic: %s is hq, where no traveller crosses: name a border post or "
                   "an airport with --post SITE\n",
                   post.c_str());
      return 2;
    }
  }
  const auto kind = enum_from_name<SiteKind>(kind_name).value_or(SiteKind::border_post);
  const PostProfile& profile = profile_for(post, kind);
  TrafficGenerator gen(profile, seed, population);
  const Date today = date_of_instant_ms(wall_clock_ms());
  // Keys unique to this run: its start, process and the traveller's index.
  const std::string key_prefix =
      "traffic-" + std::to_string(wall_clock_ms()) + "-" + std::to_string(::getpid()) + "-";
  const auto key_of = [&](const std::string& suffix) {
    return no_keys ? std::string() : key_prefix + suffix;
  };
  std::atomic<uint64_t> retries{0};

  if (watchlist > 0) {
    if (admin_token.empty()) {
      std::fprintf(stderr, "umupaka-traffic: --watchlist needs --admin-token\n");
      return 2;
    }
    const std::string at = watchlist_at.empty() ? api : watchlist_at;
    HttpClient admin(at, admin_token);
    size_t planted = 0, tried = 0;
    for (const CommandBody& b : gen.watchlist(watchlist, today)) {
      std::string path;
      if (const auto* d = std::get_if<DocumentStatusRequest>(&b)) {
        path = "/v1/travel-documents/" + d->country + "/" + d->number + "/status";
      } else {
        path = path_of(b);
      }
      uint64_t retried = 0;
      const auto r = post_with_retries(admin, path, body_json(b),
                                       key_of("w" + std::to_string(tried++)), retried);
      retries += retried;
      if (r.status == 0) {  // retried already: the traffic would run against no watchlist
        std::fprintf(stderr, "umupaka-traffic: cannot reach %s to plant the watchlist: %s\n",
                     at.c_str(), r.error.c_str());
        return 1;
      }
      if (r.status == 201)
        ++planted;
      else
        std::fprintf(stderr, "watchlist %s: %ld %s\n", path.c_str(), r.status, r.body.c_str());
    }
    if (planted == 0) {
      std::fprintf(stderr, "umupaka-traffic: none of %zu watchlist entries was planted at %s\n",
                   watchlist, at.c_str());
      return 1;
    }
    if (!quiet) std::printf("planted %zu watchlist entries at %s\n", planted, at.c_str());
  }

  const bool tty = isatty(STDOUT_FILENO) != 0;
  const char* red = tty ? "\033[31m" : "";
  const char* yellow = tty ? "\033[33m" : "";
  const char* reset = tty ? "\033[0m" : "";
  if (!quiet)
    std::printf(
        "traffic at %s (%s), profile %s, %s\n", post.c_str(), profile.name, profile.site,
        rate > 0 ? (std::to_string(rate) + " travellers/s").c_str() : "as fast as possible");

  std::mutex mu;  // generator, output and statistics
  std::vector<double> crossing_ms, permit_ms;
  uint64_t verdicts[3] = {0, 0, 0}, errors = 0, sent = 0;
  std::atomic<uint64_t> next_index{0};
  std::atomic<bool> stop{false};
  const auto t0 = clock_type::now();
  const auto deadline = t0 + std::chrono::milliseconds(static_cast<int64_t>(duration_s * 1000));

  auto worker = [&] {
    HttpClient client(api, token);
    for (;;) {
      const uint64_t i = next_index++;
      if (count > 0 ? i >= count : clock_type::now() >= deadline) break;
      if (stop) break;
      if (rate > 0) {
        const auto due = t0 + std::chrono::microseconds(static_cast<int64_t>(i * 1e6 / rate));
        if (count == 0 && due >= deadline) break;
        std::this_thread::sleep_until(due);
      }
      std::vector<TrafficEvent> events;
      {
        std::lock_guard lock(mu);
        events = gen.next(today);
      }
      if (name_post)
        for (TrafficEvent& ev : events)
          if (auto* c = std::get_if<CrossingRequest>(&ev.body)) c->post = post;
      for (size_t e = 0; e < events.size(); ++e) {
        const TrafficEvent& ev = events[e];
        const auto s = clock_type::now();
        uint64_t retried = 0;
        const auto r =
            post_with_retries(client, path_of(ev.body), body_json(ev.body),
                              key_of(std::to_string(i) + "-" + std::to_string(e)), retried);
        retries += retried;
        const double ms = std::chrono::duration<double, std::milli>(clock_type::now() - s).count();
        std::lock_guard lock(mu);
        ++sent;
        if (r.status != 201) {
          ++errors;
          std::fprintf(stderr, "%s: %ld %s %s\n", path_of(ev.body), r.status, r.error.c_str(),
                       r.body.c_str());
          if (r.status == 0) stop = true;
          continue;
        }
        const bool is_crossing = std::holds_alternative<CrossingRequest>(ev.body);
        (is_crossing ? crossing_ms : permit_ms).push_back(ms);
        if (!is_crossing) continue;
        const json j = json::parse(r.body, nullptr, false);
        const std::string verdict = j.value("verdict", "?");
        const auto v = enum_from_name<Verdict>(verdict).value_or(Verdict::clear);
        verdicts[static_cast<int>(v)]++;
        if (quiet) continue;
        const json& t = j["traveller"];
        const json& d = j["document"];
        std::string line = j.value("time", "").substr(11, 12) + " " + j.value("origin", "") + "/" +
                           std::to_string(j.value("seq", 0)) + " " +
                           std::string(enum_name(std::get<CrossingRequest>(ev.body).direction)) +
                           " " + t.value("nationality", "") + " " + t.value("surname", "") + " " +
                           t.value("given_names", "") + " (" + d.value("kind", "") + " " +
                           d.value("number", "") + ") -> " + verdict + ", " +
                           j.value("decision", "");
        const char* color = v == Verdict::deny ? red : v == Verdict::refer ? yellow : "";
        std::printf("%s%s%s\n", color, line.c_str(), color[0] ? reset : "");
        if (v != Verdict::clear)
          for (const auto& f : j["findings"])
            if (f.value("verdict", "") != "clear")
              std::printf("%s    %s: %s%s\n", color, f.value("check", "").c_str(),
                          f.value("reason", "").c_str(), reset);
        std::fflush(stdout);
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < concurrency; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  const double elapsed_s = std::chrono::duration<double>(clock_type::now() - t0).count();

  const uint64_t recorded = crossing_ms.size() + permit_ms.size();
  std::vector<double> all = crossing_ms;
  all.insert(all.end(), permit_ms.begin(), permit_ms.end());
  const json summary{
      {"post", post},
      {"seconds", elapsed_s},
      {"requests", sent},
      {"recorded", recorded},
      {"errors", errors},
      {"retries", retries.load()},
      {"records_per_second", recorded / std::max(elapsed_s, 1e-9)},
      {"crossings", crossing_ms.size()},
      {"permits", permit_ms.size()},
      {"verdicts", {{"clear", verdicts[0]}, {"refer", verdicts[1]}, {"deny", verdicts[2]}}},
      {"latency_ms",
       {{"p50", percentile(all, 0.50)},
        {"p90", percentile(all, 0.90)},
        {"p99", percentile(all, 0.99)},
        {"max", percentile(all, 1.0)}}}};
  if (as_json) {
    std::printf("%s\n", summary.dump().c_str());
  } else {
    std::printf(
        "\n%s: %llu records in %.1f s (%.0f/s), %llu crossings: %llu clear, %llu refer, %llu deny; "
        "%llu permits; %llu errors, %llu retries; latency p50 %.2f ms, p99 %.2f ms\n",
        post.c_str(), static_cast<unsigned long long>(recorded), elapsed_s,
        recorded / std::max(elapsed_s, 1e-9), static_cast<unsigned long long>(crossing_ms.size()),
        static_cast<unsigned long long>(verdicts[0]), static_cast<unsigned long long>(verdicts[1]),
        static_cast<unsigned long long>(verdicts[2]),
        static_cast<unsigned long long>(permit_ms.size()), static_cast<unsigned long long>(errors),
        static_cast<unsigned long long>(retries.load()), percentile(all, 0.5),
        percentile(all, 0.99));
  }
  return errors > 0 && recorded == 0 ? 1 : 0;
}

// Shared by the simulated-cluster tests: seeds, the Rwanda sites, officers' traffic at the posts,
// and the end-of-test checks. Header-only, for tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ledger/date.hpp"
#include "node/traffic.hpp"
#include "simulation/sim_cluster.hpp"

namespace umupaka::sim::simtest {

inline std::vector<uint64_t> test_seeds(std::vector<uint64_t> defaults) {
  if (const char* s = std::getenv("UMUPAKA_TEST_SEED"); s != nullptr && *s != '\0')
    return {std::strtoull(s, nullptr, 10)};
  return defaults;
}

inline std::string seed_trace(uint64_t seed) {
  return "seed " + std::to_string(seed) +
         " (re-run with UMUPAKA_TEST_SEED=" + std::to_string(seed) + ")";
}

// The head of `origin`'s feed as `site` holds it (seq 0 if none).
inline FrontierEntry head_of(const SimCluster& c, const std::string& site,
                             const std::string& origin) {
  for (const auto& h : c.heads(site))
    if (h.origin == origin) return h;
  return FrontierEntry{origin, 0, zero_hash};
}

// HQ, the airport and border posts of docs/rwanda-posts.md; HQ and the airport vote.
inline std::vector<SimSite> rwanda_sites(size_t n) {
  std::vector<SimSite> all = {{"hq", SiteKind::hq, VoterRole::voter},
                              {"kigali-airport", SiteKind::airport, VoterRole::voter},
                              {"gatuna", SiteKind::border_post, VoterRole::learner},
                              {"rubavu-corniche", SiteKind::border_post, VoterRole::learner},
                              {"rusumo", SiteKind::border_post, VoterRole::learner},
                              {"kagitumba", SiteKind::border_post, VoterRole::learner},
                              {"nemba", SiteKind::border_post, VoterRole::learner}};
  all.resize(n);
  return all;
}

// A national WAN as seen from the posts: 10-40 ms one way, no faults.
inline LinkSpec clean_link() { return LinkSpec{10, 30, 0, 0, 0}; }
// A bad day: 20-120 ms (reordering), a fifth of the messages lost, 5% duplicated, 500 kB/s.
inline LinkSpec lossy_link() { return LinkSpec{20, 100, 0.20, 0.05, 500'000}; }

inline SimCluster::Options cluster_options(uint64_t seed, size_t sites, LinkSpec link) {
  SimCluster::Options o;
  o.sites = rwanda_sites(sites);
  o.seed = seed;
  o.link = swim::LinkClass::lan;
  o.network = link;
  return o;
}

// Officers at the posts: one TrafficGenerator per post, seeded from the test's seed.
class Traffic {
 public:
  Traffic(SimCluster& cluster, const std::vector<SimSite>& posts, uint64_t seed)
      : cluster_(cluster) {
    for (size_t i = 0; i < posts.size(); ++i)
      posts_.push_back(
          Post{posts[i].id, std::make_unique<TrafficGenerator>(
                                profile_for(posts[i].id, posts[i].kind), seed * 1000 + i, 300)});
  }

  // For `duration_ms`: every `gap_ms`, the next traveller at each live post (a crossing, with a
  // visa on arrival first for some), the cluster running in between.
  void run(int64_t duration_ms, int64_t gap_ms) {
    const int64_t end = cluster_.now_ms() + duration_ms;
    while (cluster_.now_ms() < end) {
      for (auto& p : posts_) {
        if (!cluster_.live(p.site)) continue;
        for (auto& event : p.generator->next(date_of_instant_ms(cluster_.now_ms()))) {
          if (!cluster_.live(p.site)) break;  // (a write's completion may crash it)
          auto r = cluster_.record(p.site, Command{std::move(event.body), "officer-" + p.site});
          (r.ok() ? recorded : refused)++;
        }
      }
      cluster_.run_for(gap_ms);
    }
  }

  size_t recorded = 0;
  size_t refused = 0;

 private:
  struct Post {
    std::string site;
    std::unique_ptr<TrafficGenerator> generator;
  };
  SimCluster& cluster_;
  std::vector<Post> posts_;
};

inline std::vector<SimSite> posts_of(const SimCluster::Options& o,
                                     const std::set<std::string>& skip) {
  std::vector<SimSite> out;
  for (const auto& s : o.sites)
    if (!skip.count(s.id)) out.push_back(s);
  return out;
}

inline std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

inline std::string describe(const SimCluster& c) {
  std::string out;
  for (const auto& site : c.sites()) {
    if (!c.live(site)) {
      out += site + ": crashed\n";
      continue;
    }
    out += site + ":";
    for (const auto& h : c.heads(site)) out += " " + h.origin + "=" + std::to_string(h.seq);
    out += "\n";
  }
  const auto& n = c.network().stats();
  out += "network: sent " + std::to_string(n.sent) + ", delivered " + std::to_string(n.delivered) +
         ", lost " + std::to_string(n.lost) + ", duplicated " + std::to_string(n.duplicated) +
         ", cut " + std::to_string(n.cut) + "\n";
  return out;
}

// Every invariant in full, once more, at the end of a test.
inline void expect_invariants(SimCluster& c) {
  c.verify_stores();
  EXPECT_TRUE(c.violations().empty()) << joined(c.violations());
}

// Every acknowledged record is held, with its hash, by every live node outside `ignore`.
inline void expect_everyone_holds_acknowledged(const SimCluster& c,
                                               const std::set<std::string>& ignore = {}) {
  size_t missing = 0;
  for (const auto& site : c.sites()) {
    if (!c.live(site) || ignore.count(site)) continue;
    for (const auto& a : c.acknowledged()) {
      if (ignore.count(a.origin)) continue;
      const auto sr = c.stored_record(site, a.origin, a.seq);
      if (!sr || sr->hash != a.hash) {
        if (++missing <= 5)
          ADD_FAILURE() << site << " lacks acknowledged " << a.origin << "/" << a.seq;
      }
    }
  }
  EXPECT_EQ(missing, 0u);
}

}  // namespace umupaka::sim::simtest

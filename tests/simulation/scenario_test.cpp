// Scenario files of the simulator (simulation/scenario.hpp): every shipped file parses and says
// what its description promises; durations; [generate]; and each validation error names the
// field, the file and the line.
#include "simulation/scenario.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "node/traffic.hpp"
#include "simulation/seeds.hpp"

namespace umupaka::sim {
namespace {

const std::string scenario_dir = UMUPAKA_SCENARIO_DIR;

Scenario load(const std::string& name) {
  auto s = load_scenario(scenario_dir + "/" + name + ".toml");
  EXPECT_TRUE(s.ok()) << name << ": " << (s.ok() ? "" : s.error().message);
  return s.ok() ? std::move(s).value() : Scenario{};
}

std::vector<std::string> voters(const Scenario& s) {
  std::vector<std::string> out;
  for (const auto& site : s.sites)
    if (site.role == VoterRole::voter) out.push_back(site.id);
  return out;
}

// Local hour (Rwanda) at which a fault starts.
int local_hour_at(const Scenario& s, const ScenarioFault& f) {
  return scenario_local_hour(s.start_ms + f.at_ms);
}

// --- Shipped scenarios -----------------------------------------------------------------------

TEST(ShippedScenarios, EveryFileParses) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(scenario_dir)) {
    if (entry.path().extension() != ".toml") continue;
    SCOPED_TRACE(entry.path().string());
    auto s = load_scenario(entry.path().string());
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->name, entry.path().stem().string());
    EXPECT_FALSE(s->description.empty());
    names.insert(s->name);
  }
  const std::set<std::string> expected = {
      "rwanda", "hq-outage", "rusumo-outage",    "byzantine", "fifty-nodes", "leader-crash-peak",
      "swarm",  "new-sites", "crash-after-send", "revocation"};
  EXPECT_EQ(names, expected);
}

TEST(ShippedScenarios, RwandaIsAReferenceDay) {
  const Scenario s = load("rwanda");
  EXPECT_EQ(voters(s), (std::vector<std::string>{"hq", "dr-kigali", "kigali-airport"}));
  EXPECT_EQ(s.duration_ms, 24 * 3'600'000);
  EXPECT_EQ(s.traffic_scale, 1.0);
  EXPECT_TRUE(s.faults.empty());
  EXPECT_FALSE(s.swarm.enabled);
  EXPECT_EQ(scenario_local_hour(s.start_ms), 6);
  // Every post of post_profiles() runs its own profile, at its real volume.
  uint64_t per_day = 0;
  for (const auto& p : post_profiles()) {
    const ScenarioSite* site = s.find_site(p.site);
    ASSERT_NE(site, nullptr) << p.site;
    EXPECT_EQ(site->traffic, p.site);
    EXPECT_EQ(site->traffic_scale, 1.0);
    per_day += p.crossings_per_day;
  }
  EXPECT_GE(per_day, 60'000u);  // the national total: 60,000-100,000 a day
  EXPECT_LE(per_day, 100'000u);
  size_t embassies = 0;
  for (const auto& site : s.sites)
    if (site.kind == SiteKind::embassy) {
      ++embassies;
      EXPECT_EQ(site.traffic, embassy_traffic);
      EXPECT_EQ(site.link, "satellite");
    }
  EXPECT_EQ(embassies, 4u);
  for (const auto& link : s.links) {
    EXPECT_GT(link.spec.loss, 0) << link.name;  // mild loss and jitter everywhere
    EXPECT_GT(link.spec.jitter_ms, 0u) << link.name;
  }
}

// The fault scenarios run on the Rwanda network, unchanged.
TEST(ShippedScenarios, FaultScenariosUseTheRwandaNetwork) {
  const Scenario rwanda = load("rwanda");
  for (const char* name : {"hq-outage", "rusumo-outage", "leader-crash-peak", "byzantine"}) {
    SCOPED_TRACE(name);
    const Scenario s = load(name);
    ASSERT_EQ(s.sites.size(), rwanda.sites.size());
    for (size_t i = 0; i < s.sites.size(); ++i) {
      EXPECT_EQ(s.sites[i].id, rwanda.sites[i].id);
      EXPECT_EQ(s.sites[i].kind, rwanda.sites[i].kind);
      EXPECT_EQ(s.sites[i].role, rwanda.sites[i].role);
      EXPECT_EQ(s.sites[i].link, rwanda.sites[i].link);
      EXPECT_EQ(s.sites[i].traffic, rwanda.sites[i].traffic);
    }
    ASSERT_EQ(s.links.size(), rwanda.links.size());
    for (size_t i = 0; i < s.links.size(); ++i) {
      EXPECT_EQ(s.links[i].name, rwanda.links[i].name);
      EXPECT_EQ(s.links[i].spec.latency_ms, rwanda.links[i].spec.latency_ms);
      EXPECT_EQ(s.links[i].spec.loss, rwanda.links[i].spec.loss);
      EXPECT_EQ(s.links[i].spec.bytes_per_second, rwanda.links[i].spec.bytes_per_second);
    }
    EXPECT_FALSE(s.faults.empty());
  }
}

TEST(ShippedScenarios, HqOutageIsolatesHqInTheMorningPeak) {
  const Scenario s = load("hq-outage");
  ASSERT_EQ(s.faults.size(), 1u);
  const ScenarioFault& f = s.faults[0];
  EXPECT_EQ(f.kind, FaultKind::isolate);
  EXPECT_EQ(f.sites, std::vector<std::string>{"hq"});
  EXPECT_EQ(f.duration_ms, 6 * 3'600'000);
  const int hour = local_hour_at(s, f);
  EXPECT_TRUE(hour >= 6 && hour < 10) << hour;
}

TEST(ShippedScenarios, RusumoOutageAndLeaderCrash) {
  const Scenario s = load("rusumo-outage");
  ASSERT_EQ(s.faults.size(), 2u);
  EXPECT_EQ(s.faults[0].kind, FaultKind::isolate);
  EXPECT_EQ(s.faults[0].sites, std::vector<std::string>{"rusumo"});
  EXPECT_EQ(local_hour_at(s, s.faults[0]), 6);
  EXPECT_EQ(s.faults[0].duration_ms, 6 * 3'600'000);
  EXPECT_EQ(s.faults[1].kind, FaultKind::crash_leader);
  EXPECT_TRUE(s.faults[1].sites.empty());
  EXPECT_EQ(local_hour_at(s, s.faults[1]), 7);
  EXPECT_EQ(s.faults[1].duration_ms, 2 * 60'000);
}

TEST(ShippedScenarios, LeaderCrashesInRubavusPeak) {
  const Scenario s = load("leader-crash-peak");
  ASSERT_GE(s.faults.size(), 3u);
  for (const auto& f : s.faults) {
    EXPECT_EQ(f.kind, FaultKind::crash_leader);
    EXPECT_EQ(local_hour_at(s, f), 7);
    EXPECT_GT(f.duration_ms, 0);
  }
}

TEST(ShippedScenarios, ByzantineExpectsEvidence) {
  const Scenario s = load("byzantine");
  EXPECT_TRUE(s.expect_evidence);
  auto has = [&](FaultKind k) {
    return std::any_of(s.faults.begin(), s.faults.end(),
                       [k](const ScenarioFault& f) { return f.kind == k; });
  };
  EXPECT_TRUE(has(FaultKind::forge));
  EXPECT_TRUE(has(FaultKind::equivocate));
  for (const auto& f : s.faults) EXPECT_EQ(f.sites.size(), 1u);
}

TEST(ShippedScenarios, FiftyNodes) {
  const Scenario s = load("fifty-nodes");
  EXPECT_EQ(s.sites.size(), 50u);
  EXPECT_GE(voters(s).size(), 3u);
  EXPECT_LE(voters(s).size(), 5u);
  EXPECT_EQ(s.duration_ms, 24 * 3'600'000);
  std::set<std::string> ids;
  for (const auto& site : s.sites) ids.insert(site.id);
  EXPECT_EQ(ids.size(), 50u);
}

// Every kind but revoke, which came later (adding it would change every seed's faults) and has
// its own scenario.
TEST(ShippedScenarios, SwarmDrawsEveryKindButRevoke) {
  const Scenario s = load("swarm");
  EXPECT_TRUE(s.swarm.enabled);
  EXPECT_EQ(s.swarm.kinds.size(), fault_kind_count - 1);
  EXPECT_EQ(std::count(s.swarm.kinds.begin(), s.swarm.kinds.end(), FaultKind::revoke), 0);
  const Scenario r = load("revocation");
  EXPECT_EQ(std::count(r.swarm.kinds.begin(), r.swarm.kinds.end(), FaultKind::revoke), 1);
  EXPECT_EQ(voters(s).size(), 3u);
  EXPECT_EQ(s.sites.size(), 6u);
  EXPECT_EQ(s.duration_ms, 20 * 60'000);
  EXPECT_TRUE(s.faults.empty());
}

// The example of docs/simulator.md parses.
TEST(ShippedScenarios, NewSitesJoinDuringTheMorning) {
  const Scenario s = load("new-sites");
  std::vector<std::string> founding, joining;
  for (const auto& site : s.sites) (site.joins_ms ? joining : founding).push_back(site.id);
  EXPECT_EQ(founding,
            (std::vector<std::string>{"hq", "dr-kigali", "kigali-airport", "gatuna", "rusumo"}));
  EXPECT_EQ(joining, (std::vector<std::string>{"nemba", "embassy-addis-ababa", "dr-huye"}));
  const ScenarioSite* huye = s.find_site("dr-huye");
  ASSERT_NE(huye, nullptr);
  EXPECT_EQ(huye->role, VoterRole::voter);
  // dr-huye is certified while HQ is isolated.
  const auto hq_cut = std::find_if(s.faults.begin(), s.faults.end(), [](const ScenarioFault& f) {
    return f.kind == FaultKind::isolate && f.sites == std::vector<std::string>{"hq"};
  });
  ASSERT_NE(hq_cut, s.faults.end());
  EXPECT_LT(hq_cut->at_ms, *huye->joins_ms);
  EXPECT_GT(hq_cut->at_ms + hq_cut->duration_ms, *huye->joins_ms);
  // Compacted often enough that the joining sites install a snapshot.
  EXPECT_LE(s.snapshot_entries, 1'000u);
}

// `run --duration 35m` of new-sites: Nemba (30m) joins; the embassy, dr-huye and every fault come
// after the end and are left out, each named. Run whole, they crashed the simulator: a crash of
// Nemba ended at the shortened end, restarting a site that had never joined.
TEST(CutTo, LeavesOutTheSitesAndFaultsAfterTheNewEnd) {
  const Scenario s = load("new-sites");
  std::vector<std::string> left_out;
  const Scenario cut = cut_to(s, 35 * 60'000, left_out);
  EXPECT_EQ(cut.duration_ms, 35 * 60'000);
  std::vector<std::string> sites;
  for (const auto& site : cut.sites) sites.push_back(site.id);
  EXPECT_EQ(sites, (std::vector<std::string>{"hq", "dr-kigali", "kigali-airport", "gatuna",
                                             "rusumo", "nemba"}));
  EXPECT_TRUE(cut.faults.empty());
  ASSERT_EQ(left_out.size(), 2 + s.faults.size());
  EXPECT_EQ(left_out[0], "embassy-addis-ababa joins at 1h: after the run's end (35m), left out");
  EXPECT_EQ(left_out[2], "crash at 45m: after the run's end (35m), left out");
  // A fault or a join exactly at the new end is after it; one just before is kept.
  left_out.clear();
  EXPECT_EQ(cut_to(s, 45 * 60'000, left_out).faults.size(), 0u);
  EXPECT_EQ(cut_to(s, 45 * 60'000 + 1, left_out).faults.size(), 1u);
  EXPECT_EQ(cut_to(s, 30 * 60'000, left_out).sites.size(), 5u);
  // Not shorter: only the duration changes.
  left_out.clear();
  const Scenario longer = cut_to(s, s.duration_ms * 2, left_out);
  EXPECT_EQ(longer.sites.size(), s.sites.size());
  EXPECT_EQ(longer.faults.size(), s.faults.size());
  EXPECT_TRUE(left_out.empty());
}

TEST(ShippedScenarios, DocumentationExample) {
  std::ifstream in(scenario_dir + "/../../docs/simulator.md");
  ASSERT_TRUE(in);
  std::ostringstream doc;
  doc << in.rdbuf();
  const std::string text = doc.str();
  const size_t begin = text.find("```toml\n");
  ASSERT_NE(begin, std::string::npos);
  const size_t end = text.find("```", begin + 8);
  ASSERT_NE(end, std::string::npos);
  auto s = parse_scenario(text.substr(begin + 8, end - begin - 8), "docs/simulator.md example");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->sites.size(), 9u);
  EXPECT_EQ(s->faults.size(), 3u);
}

// --- Durations, names, hours -----------------------------------------------------------------

TEST(Durations, Parse) {
  EXPECT_EQ(parse_duration_ms("24h"), 86'400'000);
  EXPECT_EQ(parse_duration_ms("6h"), 21'600'000);
  EXPECT_EQ(parse_duration_ms("90m"), 5'400'000);
  EXPECT_EQ(parse_duration_ms("30s"), 30'000);
  EXPECT_EQ(parse_duration_ms("250ms"), 250);
  EXPECT_EQ(parse_duration_ms("2h30m"), 9'000'000);
  EXPECT_EQ(parse_duration_ms("1m30s500ms"), 90'500);
  EXPECT_EQ(parse_duration_ms("0s"), 0);
  EXPECT_EQ(parse_duration_ms("-5m", true), -300'000);
}

TEST(Durations, Refuse) {
  for (const char* bad : {"", "5", "h", "1.5h", "30m2h", "1m1m", "5 m", "5d", "1hm", "-", "m5",
                          "99999999999999h", "1h-5m"})
    EXPECT_FALSE(parse_duration_ms(bad, true).has_value()) << bad;
  EXPECT_FALSE(parse_duration_ms("-5m").has_value());
}

TEST(Durations, FormatReadsBack) {
  for (int64_t ms : {int64_t{0}, int64_t{250}, int64_t{90'500}, int64_t{9'000'000},
                     int64_t{86'400'000}, int64_t{-300'000}, int64_t{3'723'004}}) {
    const std::string text = format_duration_ms(ms);
    EXPECT_EQ(parse_duration_ms(text, true), ms) << text;
  }
  EXPECT_EQ(format_duration_ms(9'000'000), "2h30m");
  EXPECT_EQ(format_duration_ms(0), "0s");
}

TEST(FaultKinds, NamesAreDistinct) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < fault_kind_count; ++i)
    names.insert(fault_kind_name(static_cast<FaultKind>(i)));
  EXPECT_EQ(names.size(), fault_kind_count);
  EXPECT_EQ(fault_kind_name(FaultKind::crash_after_send), "crash-after-send");
  EXPECT_EQ(fault_kind_name(FaultKind::revoke), "revoke");
}

TEST(LocalHour, RwandaIsUtcPlusTwo) {
  EXPECT_EQ(scenario_local_hour(Scenario{}.start_ms), 6);  // 04:00 UTC
  EXPECT_EQ(scenario_local_hour(Scenario{}.start_ms + 19 * 3'600'000), 1);
}

// --- Parsing and validation ------------------------------------------------------------------

// A minimal valid scenario; tests append tables (or prepend top-level keys).
const std::string minimal = R"(duration = "1h"

[links.wan]
latency_ms = 20
swim = "wan"

[[sites]]
id = "hq"
kind = "hq"
role = "voter"
link = "wan"

[[sites]]
id = "gatuna"
kind = "border-post"
link = "wan"
traffic = "gatuna"
)";

TEST(Parse, MinimalTakesDefaults) {
  auto s = parse_scenario(minimal, "dir/minimal.toml");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->name, "minimal");
  EXPECT_EQ(s->start, "2026-03-02T04:00:00Z");
  EXPECT_EQ(s->start_ms, 1'772'424'000'000);
  EXPECT_EQ(s->duration_ms, 3'600'000);
  EXPECT_EQ(s->settle_ms, 600'000);
  EXPECT_EQ(s->tick_ms, 20u);
  EXPECT_EQ(s->raft_tick_ms, 100u);
  EXPECT_EQ(s->election_ticks, 10u);
  EXPECT_EQ(s->write_ms, 1u);
  ASSERT_EQ(s->links.size(), 1u);
  EXPECT_EQ(s->links[0].spec.latency_ms, 20u);
  EXPECT_EQ(s->links[0].spec.jitter_ms, 0u);
  EXPECT_EQ(s->links[0].swim_class, swim::LinkClass::wan);
  ASSERT_EQ(s->sites.size(), 2u);
  EXPECT_EQ(s->sites[1].role, VoterRole::learner);
  EXPECT_EQ(s->sites[1].kind, SiteKind::border_post);
  EXPECT_TRUE(s->sites[0].traffic.empty());
  EXPECT_FALSE(s->swarm.enabled);
  // `umupaka-sim swarm` may still run it: it then draws faults of every kind (an empty list
  // crashed the draw).
  EXPECT_EQ(s->swarm.kinds.size(), fault_kind_count);
  EXPECT_FALSE(s->expect_evidence);
}

TEST(Parse, WriteMsZeroIsAnInstantCommit) {
  auto s = parse_scenario("write_ms = 0\n" + minimal, "dir/minimal.toml");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->write_ms, 0u);
}

TEST(Parse, FaultsOfEveryKind) {
  const std::string text = minimal + R"(
[[sites]]
id = "rusumo"
kind = "border-post"
link = "wan"
traffic = "rusumo"

[[faults]]
kind = "partition"
at = "10m"
for = "5m"
sites = ["hq"]
group2 = ["gatuna"]

[[faults]]
kind = "clock-skew"
at = "0s"
sites = ["gatuna"]
offset = "-90s"

[[faults]]
kind = "clock-jump"
at = "20m"
sites = ["rusumo"]
offset = "1h"

[[faults]]
kind = "degrade"
at = "30m"
for = "2m"
sites = ["rusumo"]
link = { latency_ms = 900, loss = 0.25 }

[[faults]]
kind = "crash-leader"
at = "40m"
for = "1m"

[[faults]]
kind = "equivocate"
at = "50m"
sites = ["gatuna"]

[expect]
evidence = true
)";
  auto s = parse_scenario(text, "t.toml");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->faults.size(), 6u);
  EXPECT_EQ(s->faults[0].group2, std::vector<std::string>{"gatuna"});
  EXPECT_EQ(s->faults[0].duration_ms, 300'000);
  EXPECT_EQ(s->faults[1].offset_ms, -90'000);
  EXPECT_EQ(s->faults[1].duration_ms, 0);  // skewed to the end
  EXPECT_EQ(s->faults[2].offset_ms, 3'600'000);
  EXPECT_EQ(s->faults[3].link.latency_ms, 900u);
  EXPECT_EQ(s->faults[3].link.loss, 0.25);
  EXPECT_TRUE(s->faults[4].sites.empty());
  EXPECT_TRUE(s->expect_evidence);
}

TEST(Parse, SitesThatJoin) {
  auto s = parse_scenario(minimal + "joins = \"20m\"\n", "joins.toml");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_FALSE(s->sites[0].joins_ms);
  ASSERT_TRUE(s->sites[1].joins_ms);
  EXPECT_EQ(*s->sites[1].joins_ms, 1'200'000);
  EXPECT_TRUE(s->sites[0].present_at(0));
  EXPECT_FALSE(s->sites[1].present_at(1'199'999));
  EXPECT_TRUE(s->sites[1].present_at(1'200'000));
  // A fault may name a joining site from its joining on, and take it as the other side before.
  auto f = parse_scenario(minimal + "joins = \"20m\"\n" +
                              "\n[[faults]]\nkind = \"crash\"\nat = \"20m\"\nfor = \"1m\"\n"
                              "sites = [\"gatuna\"]\n"
                              "\n[[faults]]\nkind = \"partition\"\nat = \"1m\"\nfor = \"30m\"\n"
                              "sites = [\"hq\"]\ngroup2 = [\"gatuna\"]\n",
                          "joins.toml");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->faults.size(), 2u);
}

// A fault may take a site that joins later as its other side (cut off from it before it joins);
// cut before that site joins, the fault has no other side left and is left out, named (run, it
// looked up links of a site the run no longer has).
TEST(CutTo, AFaultWhoseGroup2JoinsAfterTheNewEndIsLeftOut) {
  auto s = parse_scenario(minimal + "joins = \"20m\"\n" +
                              "\n[[faults]]\nkind = \"degrade\"\nat = \"1m\"\nfor = \"30m\"\n"
                              "sites = [\"hq\"]\ngroup2 = [\"gatuna\"]\n"
                              "[faults.link]\nlatency_ms = 900\n",
                          "joins.toml");
  ASSERT_TRUE(s.ok()) << s.error().message;
  std::vector<std::string> left_out;
  const Scenario cut = cut_to(*s, 10 * 60'000, left_out);
  EXPECT_EQ(cut.sites.size(), 1u);
  EXPECT_TRUE(cut.faults.empty());
  EXPECT_EQ(left_out, (std::vector<std::string>{
                          "gatuna joins at 20m: after the run's end (10m), left out",
                          "degrade at 1m: every site of its group2 joins after the run's end "
                          "(10m), left out"}));
  left_out.clear();
  EXPECT_EQ(cut_to(*s, 25 * 60'000, left_out).faults.at(0).group2,
            std::vector<std::string>{"gatuna"});
  EXPECT_TRUE(left_out.empty());
}

// The founding sites are named in the genesis, which holds at most 64 (the minimal two and 62
// generated posts); sites that join later are not.
TEST(Parse, AtMost64FoundingSites) {
  auto with_posts = [](int posts) {
    return parse_scenario(
        minimal + "\n[generate]\nposts = " + std::to_string(posts) + "\npost_link = \"wan\"\n",
        "t.toml");
  };
  ASSERT_TRUE(with_posts(62).ok()) << with_posts(62).error().message;
  const auto refused = with_posts(63);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "sites");
  EXPECT_NE(refused.error().message.find("at most 64 founding sites"), std::string::npos)
      << refused.error().message;
}

TEST(Parse, GenerateMakesFiftySites) {
  const std::string text = minimal + R"(
[links.satellite]
latency_ms = 300
swim = "satellite"

[generate]
posts = 40
post_link = "wan"
embassies = 8
embassy_link = "satellite"
embassy_traffic_scale = 0.5
)";
  auto s = parse_scenario(text, "t.toml");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->sites.size(), 50u);
  const ScenarioSite* post = s->find_site("post-40");
  ASSERT_NE(post, nullptr);
  EXPECT_TRUE(post->generated);
  EXPECT_EQ(post->kind, SiteKind::border_post);
  EXPECT_EQ(post->role, VoterRole::learner);
  EXPECT_EQ(post->traffic, small_post_traffic);
  EXPECT_EQ(post->link, "wan");
  const ScenarioSite* embassy = s->find_site("embassy-8");
  ASSERT_NE(embassy, nullptr);
  EXPECT_EQ(embassy->kind, SiteKind::embassy);
  EXPECT_EQ(embassy->traffic, embassy_traffic);
  EXPECT_EQ(embassy->traffic_scale, 0.5);
  EXPECT_EQ(embassy->link, "satellite");
  EXPECT_EQ(s->find_site("post-41"), nullptr);
}

TEST(Parse, SwarmDefaultsToEveryKind) {
  auto s = parse_scenario(minimal + "\n[swarm]\nfaults = 3\n", "t.toml");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(s->swarm.enabled);
  EXPECT_EQ(s->swarm.faults, 3u);
  EXPECT_EQ(s->swarm.kinds.size(), fault_kind_count);
}

// The error of parsing `text`: it must fail, name `field`, point at the file (and a line), and
// say `says`.
void expect_error(const std::string& text, const std::string& field, const std::string& says) {
  auto s = parse_scenario(text, "bad.toml");
  ASSERT_FALSE(s.ok()) << "expected an error at " << field;
  EXPECT_EQ(s.error().code, Errc::invalid_field);
  EXPECT_EQ(s.error().field, field) << s.error().message;
  EXPECT_NE(s.error().message.find(says), std::string::npos) << s.error().message;
  EXPECT_EQ(s.error().message.rfind("bad.toml:", 0), 0u) << s.error().message;
  EXPECT_NE(s.error().message.find(field), std::string::npos) << s.error().message;
}

// The line number the error names.
int error_line(const std::string& text) {
  auto s = parse_scenario(text, "bad.toml");
  if (s.ok()) return -1;
  const std::string& m = s.error().message;
  return std::stoi(m.substr(m.find(':') + 1));
}

TEST(Errors, UnknownKeys) {
  expect_error("durration = \"1h\"\n" + minimal, "durration", "unknown key");
  expect_error(minimal + "colour = \"red\"\n", "sites[1].colour", "unknown key");
  expect_error(minimal + "\n[links.fibre]\nlatency = 2\nswim = \"lan\"\n", "links.fibre.latency",
               "expected one of: latency_ms");
  expect_error(minimal + "\n[expect]\nconflicts = true\n", "expect.conflicts", "unknown key");
  EXPECT_EQ(error_line(minimal + "colour = \"red\"\n"), 18);
}

TEST(Errors, UnknownSiteInFault) {
  const std::string text =
      minimal +
      "\n[[faults]]\nkind = \"crash\"\nat = \"1m\"\nfor = \"1m\"\nsites = [\"hq\", "
      "\"rusumo\"]\n";
  expect_error(text, "faults[0].sites[1]", "unknown site 'rusumo'");
  EXPECT_EQ(error_line(text), 23);
  expect_error(minimal +
                   "\n[[faults]]\nkind = \"partition\"\nat = \"1m\"\nfor = \"1m\"\nsites = "
                   "[\"hq\"]\ngroup2 = [\"nowhere\"]\n",
               "faults[0].group2[0]", "unknown site 'nowhere'");
}

TEST(Errors, DuplicateSiteIds) {
  expect_error(minimal + "\n[[sites]]\nid = \"hq\"\nkind = \"hq\"\nlink = \"wan\"\n", "sites[2].id",
               "duplicate site id 'hq'");
  // A generated id may not collide with a written one either.
  expect_error(minimal +
                   "\n[[sites]]\nid = \"post-2\"\nkind = \"border-post\"\nlink = "
                   "\"wan\"\n\n[generate]\nposts = 3\npost_link = \"wan\"\n",
               "generate.posts", "duplicate site id 'post-2'");
}

TEST(Errors, AtLeastOneVoter) {
  std::string text = minimal;
  text.replace(text.find("role = \"voter\"\n"), 15, "");
  expect_error(text, "sites", "no founding site (without `joins`) has role = \"voter\"");
  // Voters that join later do not make a network: one must be there from the start.
  std::string late = minimal;
  late.replace(late.find("role = \"voter\"\n"), 15, "role = \"voter\"\njoins = \"5m\"\n");
  expect_error(late, "sites", "no founding site");
  expect_error(minimal + "role = \"leader\"\n", "sites[1].role", "\"voter\" or \"learner\"");
}

TEST(Errors, Joins) {
  expect_error(minimal + "joins = \"1h\"\n", "sites[1].joins", "must be within the traffic");
  expect_error(minimal + "joins = \"-5m\"\n", "sites[1].joins", "must not be negative");
  expect_error(minimal + "joins = 300\n", "sites[1].joins", "duration string");
  expect_error(minimal + "joins = \"20m\"\n" +
                   "\n[[faults]]\nkind = \"crash\"\nat = \"19m\"\nfor = \"1m\"\n"
                   "sites = [\"gatuna\"]\n",
               "faults[0].sites", "'gatuna' joins at 20m, after this fault starts (at = \"19m\")");
}

TEST(Errors, UnknownLinkClass) {
  std::string text = minimal;
  text.replace(text.rfind("link = \"wan\""), 12, "link = \"fibr\"");
  expect_error(text, "sites[1].link", "unknown link class 'fibr' (defined: wan)");
  expect_error(minimal + "\n[generate]\nposts = 2\npost_link = \"satellite\"\n",
               "generate.post_link", "unknown link class 'satellite'");
  expect_error(minimal + "\n[generate]\nposts = 2\n", "generate.post_link", "missing");
  expect_error(minimal + "\n[links.lora]\nlatency_ms = 2\nswim = \"radio\"\n", "links.lora.swim",
               "\"lan\", \"wan\" or \"satellite\"");
}

TEST(Errors, Durations) {
  std::string text = minimal;
  text.replace(0, 15, "duration = \"-1h\"");
  expect_error(text, "duration", "must not be negative");
  text = minimal;
  text.replace(0, 15, "duration = 3600");
  expect_error(text, "duration", "duration string");
  text = minimal;
  text.replace(0, 15, "duration = \"1 hour\"");
  expect_error(text, "duration", "duration string");
  text = minimal;
  text.replace(0, 15, "duration = \"0s\"");
  expect_error(text, "duration", "longer than 0");
  expect_error("settle = \"-10m\"\n" + minimal, "settle", "must not be negative");
  const std::string fault = "\n[[faults]]\nkind = \"crash\"\nsites = [\"gatuna\"]\n";
  expect_error(minimal + fault + "at = \"-5m\"\nfor = \"1m\"\n", "faults[0].at",
               "must not be negative");
  expect_error(minimal + fault + "at = \"5m\"\nfor = \"-1m\"\n", "faults[0].for",
               "must not be negative");
  expect_error(minimal + fault + "at = \"5m\"\n", "faults[0].for", "missing");
  expect_error(minimal + fault + "at = \"5m\"\nfor = \"0s\"\n", "faults[0].for", "longer than 0");
  expect_error(minimal + fault + "at = \"2h\"\nfor = \"1m\"\n", "faults[0].at",
               "before the end of traffic");
  expect_error("start = \"2026-02-30T04:00:00Z\"\n" + minimal, "start", "UTC instant");
}

TEST(Errors, Probabilities) {
  std::string text = minimal;
  text.replace(text.find("swim = \"wan\""), 12, "loss = 1.5\nswim = \"wan\"");
  expect_error(text, "links.wan.loss", "must be in [0, 1], got 1.5");
  text = minimal;
  text.replace(text.find("swim = \"wan\""), 12, "duplicate = -0.1\nswim = \"wan\"");
  expect_error(text, "links.wan.duplicate", "must be in [0, 1]");
  expect_error(minimal +
                   "\n[[faults]]\nkind = \"degrade\"\nat = \"1m\"\nfor = \"1m\"\nsites = "
                   "[\"gatuna\"]\nlink = { loss = 2 }\n",
               "faults[0].link.loss", "must be in [0, 1]");
  expect_error(minimal + "\n[swarm]\ndegrade = { duplicate = 1.01 }\n", "swarm.degrade.duplicate",
               "must be in [0, 1]");
  expect_error("traffic_scale = -1\n" + minimal, "traffic_scale", "must be in [0,");
}

TEST(Errors, TrafficProfiles) {
  expect_error(minimal +
                   "\n[[sites]]\nid = \"x\"\nkind = \"border-post\"\nlink = "
                   "\"wan\"\ntraffic = \"rubavu\"\n",
               "sites[2].traffic",
               "unknown traffic profile 'rubavu' (known: small-post, embassy, "
               "rubavu-corniche");
  expect_error(minimal +
                   "\n[[sites]]\nid = \"x\"\nkind = \"border-post\"\nlink = "
                   "\"wan\"\ntraffic = \"kigali-airport\"\n",
               "sites[2].traffic", "is for kind \"airport\"");
  expect_error(minimal +
                   "\n[[sites]]\nid = \"x\"\nkind = \"hq\"\nlink = "
                   "\"wan\"\ntraffic = \"embassy\"\n",
               "sites[2].traffic", "needs kind = \"embassy\"");
}

TEST(Errors, FaultShapes) {
  const std::string f = "\n[[faults]]\nat = \"1m\"\n";
  expect_error(minimal + f + "kind = \"meteor\"\n", "faults[0].kind", "unknown fault kind");
  expect_error(minimal + f +
                   "kind = \"partition\"\nfor = \"1m\"\nsites = [\"hq\"]\noffset = "
                   "\"1m\"\n",
               "faults[0].offset", "does not apply to a partition fault");
  expect_error(minimal + f + "kind = \"crash-leader\"\nfor = \"1m\"\nsites = [\"hq\"]\n",
               "faults[0].sites", "does not apply");
  expect_error(minimal + f + "kind = \"forge\"\nsites = [\"hq\", \"gatuna\"]\n", "faults[0].sites",
               "exactly one site");
  expect_error(minimal + f + "kind = \"forge\"\nsites = [\"hq\"]\nfor = \"1m\"\n", "faults[0].for",
               "does not apply");
  expect_error(minimal + f +
                   "kind = \"partition\"\nfor = \"1m\"\nsites = [\"hq\"]\ngroup2 = "
                   "[\"hq\"]\n",
               "faults[0].group2", "in both sites and group2");
  expect_error(minimal + f + "kind = \"isolate\"\nfor = \"1m\"\nsites = [\"hq\", \"gatuna\"]\n",
               "faults[0].sites", "names every site");
  expect_error(minimal + f + "kind = \"clock-jump\"\nsites = [\"hq\"]\n", "faults[0].offset",
               "missing");
  expect_error(minimal + f + "kind = \"degrade\"\nfor = \"1m\"\nsites = [\"hq\"]\n",
               "faults[0].link", "missing");
  expect_error(minimal + f + "kind = \"pause\"\nfor = \"1m\"\nsites = [\"hq\", \"hq\"]\n",
               "faults[0].sites[1]", "listed twice");
  expect_error(minimal + "\n[expect]\nevidence = true\n", "expect.evidence", "no equivocate fault");
  expect_error(minimal + "\n[swarm]\nkinds = [\"crash\", \"flood\"]\n", "swarm.kinds[1]",
               "unknown fault kind 'flood'");
}

TEST(Errors, TypesAndSyntax) {
  expect_error("tick_ms = \"20\"\n" + minimal, "tick_ms", "must be an integer");
  expect_error("raft_tick_ms = 1\n" + minimal, "raft_tick_ms", "must be in 10..10000");
  expect_error("write_ms = 1001\n" + minimal, "write_ms", "must be in 0..1000");
  expect_error("duration = \"1h\"\n[links.wan]\nswim = \"wan\"\n[sites]\nid = \"hq\"\n", "sites",
               "must be an array of tables ([[sites]])");
  expect_error("duration = \"1h\"\n[links]\n", "links", "at least one link class");
  expect_error("duration = \"1h\"\n", "links", "missing");
  std::string missing = minimal;
  missing.replace(0, 15, "");
  expect_error(missing, "duration", "missing");
  // TOML syntax errors keep toml++'s position.
  auto s = parse_scenario(minimal + "\nid = = 3\n", "bad.toml");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message.rfind("bad.toml:19:", 0), 0u) << s.error().message;
}

TEST(Load, MissingFileIsAnIoError) {
  auto s = load_scenario(scenario_dir + "/no-such-scenario.toml");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::io);
}

// The arrivals' exponential gaps are drawn without the maths library (neg_log_uniform): exact
// at the ends and at powers of two, within 1e-15 of -std::log elsewhere, and with mean 1.
TEST(Seeds, ExponentialDrawsNeedNoMathsLibrary) {
  EXPECT_EQ(neg_log_uniform(~uint64_t{0}), 0.0);                               // u = 1
  EXPECT_EQ(neg_log_uniform((uint64_t{1} << 63) - 2048), 0.6931471805599453);  // u = 1/2
  EXPECT_NEAR(neg_log_uniform(0), 53 * 0.6931471805599453, 1e-13);             // u = 2^-53
  uint64_t state = 1;
  double sum = 0;
  const int n = 200'000;
  for (int i = 0; i < n; ++i) {
    state = splitmix64(state);
    const double u = static_cast<double>((state >> 11) + 1) * 0x1.0p-53;
    const double got = neg_log_uniform(state);
    ASSERT_NEAR(got, -std::log(u), 1e-15 + 1e-14 * got) << "bits " << state;
    sum += got;
  }
  EXPECT_NEAR(sum / n, 1.0, 0.01);
}

}  // namespace
}  // namespace umupaka::sim

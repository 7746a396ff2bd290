// Reports of a simulated run (simulation/report.hpp): nearest-rank percentiles, the series built
// from the cluster's latencies, and the four renderings (summary, JSON, two SVG charts) and their
// files. The SVG is checked for well-formed XML by a small tag matcher below, enough for the
// subset render_svg writes (elements, attributes, text; no comments, CDATA or doctype).
#include "simulation/report.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace umupaka::sim {
namespace {

using json = nlohmann::json;

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// True if every '&' starts one of XML's five entities.
bool entities_ok(const std::string& text) {
  for (size_t at = text.find('&'); at != std::string::npos; at = text.find('&', at + 1)) {
    const std::string rest = text.substr(at, 6);
    if (rest.rfind("&amp;", 0) != 0 && rest.rfind("&lt;", 0) != 0 && rest.rfind("&gt;", 0) != 0 &&
        rest.rfind("&quot;", 0) != 0 && rest.rfind("&apos;", 0) != 0)
      return false;
  }
  return true;
}

// Well-formed: tags nest and close, attribute values are quoted and hold no '<', text holds no
// '>', entities are valid, and one root element spans the document. Returns "" or the fault.
std::string xml_fault(const std::string& doc) {
  if (!entities_ok(doc)) return "bad entity";
  std::vector<std::string> open;
  size_t i = 0;
  bool root_closed = false;
  while (i < doc.size()) {
    if (doc[i] != '<') {
      if (doc[i] == '>') return "'>' in text at " + std::to_string(i);
      if (open.empty() && doc[i] != '\n') return "text outside the root at " + std::to_string(i);
      ++i;
      continue;
    }
    if (root_closed) return "a second root at " + std::to_string(i);
    // A tag: scan to its '>', skipping quoted attribute values.
    size_t j = i + 1;
    char quote = 0;
    for (; j < doc.size(); ++j) {
      if (quote != 0) {
        if (doc[j] == '<') return "'<' in an attribute at " + std::to_string(j);
        if (doc[j] == quote) quote = 0;
      } else if (doc[j] == '"' || doc[j] == '\'') {
        quote = doc[j];
      } else if (doc[j] == '>') {
        break;
      }
    }
    if (j == doc.size()) return "unterminated tag at " + std::to_string(i);
    std::string tag = doc.substr(i + 1, j - i - 1);
    if (tag.empty()) return "empty tag at " + std::to_string(i);
    if (tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (open.empty() || open.back() != name) return "unbalanced </" + name + ">";
      open.pop_back();
      if (open.empty()) root_closed = true;
    } else if (tag.back() != '/') {
      open.push_back(tag.substr(0, tag.find_first_of(" \n")));
    } else if (open.empty()) {
      root_closed = true;
    }
    i = j + 1;
  }
  if (!open.empty()) return "<" + open.back() + "> not closed";
  return root_closed ? "" : "no root element";
}

// A run of three sites over 1:01:01, one of them with a name XML must escape.
RunReport sample_report() {
  RunReport r;
  r.scenario = "wan-partition";
  r.seed = 42;
  r.trace_hex = "00ff";
  r.replay = "umupaka-sim run --scenario wan-partition --seed 42";
  r.simulated_ms = 3'661'000;
  r.wall_seconds = 12.5;
  r.sites = {"hq", "rusumo", "a&b<c>"};
  r.voters = {"hq"};
  r.records_acknowledged = 1200;
  r.commands_refused = 3;
  r.commands_lost = 2;
  r.ledger_size = 1199;
  r.conflicts_raised = 2;
  r.leader_changes = 4;
  r.max_term = 5;
  r.crashes = 1;
  r.write_ms = 5;
  r.write_batches = 900;
  r.mixed_batches = 12;
  r.faults = {
      {.from_ms = 600'000, .to_ms = 1'200'000, .kind = "partition", .detail = "rusumo | rest"},
      {.from_ms = 1'800'000, .to_ms = 1'800'000, .kind = "crash", .detail = "hq"}};
  r.checks = {{.name = "no acknowledged record lost", .passed = true},
              {.name = "ledgers agree", .passed = true, .detail = "root 1a2b"}};
  r.network = {.sent = 10,
               .injected = 1,
               .delivered = 8,
               .lost = 1,
               .duplicated = 2,
               .cut = 1,
               .bytes_sent = 4096};
  LatencySeries lag, commit;
  lag.by_site["rusumo"] = {{0, {120, 80, 100}}, {60'000, {2500}}, {3'600'000, {90}}};
  lag.by_site["a&b<c>"] = {{0, {0, 5}}};
  commit.by_site["hq"] = {{0, {300, 200}}, {60'000, {250}}};
  commit.by_site["rusumo"] = {{0, {400}}};
  add_latencies(r, lag, commit);
  return r;
}

std::string read_all(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(Percentiles, EmptyIsAllZero) {
  const Percentiles p = percentiles({});
  EXPECT_EQ(p.count, 0u);
  EXPECT_EQ(p.p50, 0);
  EXPECT_EQ(p.p90, 0);
  EXPECT_EQ(p.p99, 0);
  EXPECT_EQ(p.max, 0);
}

TEST(Percentiles, OneValueIsEveryPercentile) {
  const Percentiles p = percentiles({7});
  EXPECT_EQ(p.count, 1u);
  EXPECT_EQ(p.p50, 7);
  EXPECT_EQ(p.p90, 7);
  EXPECT_EQ(p.p99, 7);
  EXPECT_EQ(p.max, 7);
}

TEST(Percentiles, NearestRankOfKnownLists) {
  // 1..100 shuffled: the p-th percentile is p.
  std::vector<uint32_t> hundred(100);
  for (uint32_t i = 0; i < 100; ++i) hundred[i] = i + 1;
  std::shuffle(hundred.begin(), hundred.end(), std::mt19937(7));
  Percentiles p = percentiles(hundred);
  EXPECT_EQ(p.count, 100u);
  EXPECT_EQ(p.p50, 50);
  EXPECT_EQ(p.p90, 90);
  EXPECT_EQ(p.p99, 99);
  EXPECT_EQ(p.max, 100);

  // 10 values: ranks ceil(5) = 5, ceil(9) = 9, ceil(9.9) = 10.
  p = percentiles({100, 90, 80, 70, 60, 50, 40, 30, 20, 10});
  EXPECT_EQ(p.p50, 50);
  EXPECT_EQ(p.p90, 90);
  EXPECT_EQ(p.p99, 100);

  // 3 values: ranks ceil(1.5) = 2, ceil(2.7) = 3, ceil(2.97) = 3.
  p = percentiles({3, 1, 2});
  EXPECT_EQ(p.p50, 2);
  EXPECT_EQ(p.p90, 3);
  EXPECT_EQ(p.p99, 3);

  // 2 values: the median is the lower one.
  p = percentiles({9, 4});
  EXPECT_EQ(p.p50, 4);
  EXPECT_EQ(p.max, 9);
}

TEST(AddLatencies, BuildsPerSiteSeriesAndTotals) {
  const RunReport r = sample_report();
  // The report's sites in its order, a site without samples included.
  ASSERT_EQ(r.per_site.size(), 3u);
  EXPECT_EQ(r.per_site[0].site, "hq");
  EXPECT_EQ(r.per_site[1].site, "rusumo");
  EXPECT_EQ(r.per_site[2].site, "a&b<c>");

  const SiteSeries& hq = r.per_site[0];
  EXPECT_TRUE(hq.lag_points.empty());
  EXPECT_EQ(hq.lag.count, 0u);
  ASSERT_EQ(hq.commit_points.size(), 2u);
  EXPECT_EQ(hq.commit_points[0].t_ms, 0);
  EXPECT_EQ(hq.commit_points[0].count, 2u);
  EXPECT_EQ(hq.commit_points[0].p50, 200);
  EXPECT_EQ(hq.commit_points[0].p99, 300);
  EXPECT_EQ(hq.commit_points[1].t_ms, 60'000);
  EXPECT_EQ(hq.commit.count, 3u);
  EXPECT_EQ(hq.commit.p50, 250);

  const SiteSeries& rusumo = r.per_site[1];
  ASSERT_EQ(rusumo.lag_points.size(), 3u);
  EXPECT_EQ(rusumo.lag_points[0].t_ms, 0);
  EXPECT_EQ(rusumo.lag_points[0].count, 3u);
  EXPECT_EQ(rusumo.lag_points[0].p50, 100);
  EXPECT_EQ(rusumo.lag_points[0].max, 120);
  EXPECT_EQ(rusumo.lag_points[1].t_ms, 60'000);
  EXPECT_EQ(rusumo.lag_points[1].p99, 2500);
  EXPECT_EQ(rusumo.lag_points[2].t_ms, 3'600'000);
  EXPECT_EQ(rusumo.lag.count, 5u);
  EXPECT_EQ(rusumo.lag.max, 2500);

  // Every site together: lag {0, 5, 80, 90, 100, 120, 2500}, commit {200, 250, 300, 400}.
  EXPECT_EQ(r.lag.count, 7u);
  EXPECT_EQ(r.lag.p50, 90);
  EXPECT_EQ(r.lag.max, 2500);
  EXPECT_EQ(r.commit.count, 4u);
  EXPECT_EQ(r.commit.p50, 250);
  EXPECT_EQ(r.commit.p99, 400);
}

TEST(AddLatencies, AppendsSitesOnlyTheSeriesNameAndReplacesPerSite) {
  RunReport r;
  r.sites = {"hq"};
  LatencySeries lag, commit;
  lag.by_site["zeta"] = {{0, {1}}};
  commit.by_site["alpha"] = {{0, {2}}};
  add_latencies(r, lag, commit);
  add_latencies(r, lag, commit);  // a second call replaces, never appends
  ASSERT_EQ(r.per_site.size(), 3u);
  EXPECT_EQ(r.per_site[0].site, "hq");
  EXPECT_EQ(r.per_site[1].site, "zeta");
  EXPECT_EQ(r.per_site[2].site, "alpha");
  EXPECT_EQ(r.lag.count, 1u);
  EXPECT_EQ(r.commit.count, 1u);
}

TEST(RunReport, PassedNeedsEveryCheckAndNoViolation) {
  RunReport r = sample_report();
  EXPECT_TRUE(r.passed());
  r.violations = {"seed 42 t=1000 hq: feed went back"};
  EXPECT_FALSE(r.passed());
  r.violations.clear();
  r.checks[1].passed = false;
  EXPECT_FALSE(r.passed());
}

TEST(RenderJson, ParsesAndHoldsTheFields) {
  RunReport r = sample_report();
  r.checks[1].passed = false;
  r.violations = {"v1"};
  const json j = json::parse(render_json(r));
  EXPECT_EQ(j["scenario"], "wan-partition");
  EXPECT_EQ(j["seed"], 42u);
  EXPECT_EQ(j["passed"], false);
  EXPECT_EQ(j["trace"], "00ff");
  EXPECT_EQ(j["replay"], r.replay);
  EXPECT_EQ(j["simulated_ms"], 3'661'000);
  EXPECT_DOUBLE_EQ(j["wall_seconds"].get<double>(), 12.5);
  EXPECT_EQ(j["sites"].size(), 3u);
  EXPECT_EQ(j["voters"], json::array({"hq"}));
  EXPECT_EQ(j["records_acknowledged"], 1200u);
  EXPECT_EQ(j["commands_refused"], 3u);
  EXPECT_EQ(j["commands_lost"], 2u);
  EXPECT_EQ(j["ledger_size"], 1199u);
  EXPECT_EQ(j["conflicts_raised"], 2u);
  EXPECT_EQ(j["leader_changes"], 4u);
  EXPECT_EQ(j["max_term"], 5u);
  EXPECT_EQ(j["crashes"], 1u);
  EXPECT_EQ(j["write_ms"], 5u);
  EXPECT_EQ(j["write_batches"], 900u);
  EXPECT_EQ(j["mixed_batches"], 12u);
  EXPECT_EQ(j["lag"]["count"], 7u);
  EXPECT_EQ(j["lag"]["p50"], 90.0);
  EXPECT_EQ(j["commit"]["p99"], 400.0);
  ASSERT_EQ(j["per_site"].size(), 3u);
  EXPECT_EQ(j["per_site"][1]["site"], "rusumo");
  EXPECT_EQ(j["per_site"][1]["lag"]["max"], 2500.0);
  ASSERT_EQ(j["per_site"][1]["lag_points"].size(), 3u);
  EXPECT_EQ(j["per_site"][1]["lag_points"][1]["t_ms"], 60'000);
  EXPECT_EQ(j["per_site"][1]["lag_points"][1]["p99"], 2500.0);
  EXPECT_EQ(j["per_site"][0]["lag_points"].size(), 0u);
  ASSERT_EQ(j["faults"].size(), 2u);
  EXPECT_EQ(j["faults"][0]["kind"], "partition");
  EXPECT_EQ(j["faults"][0]["from_ms"], 600'000);
  EXPECT_EQ(j["faults"][0]["detail"], "rusumo | rest");
  ASSERT_EQ(j["checks"].size(), 2u);
  EXPECT_EQ(j["checks"][1]["name"], "ledgers agree");
  EXPECT_EQ(j["checks"][1]["passed"], false);
  EXPECT_EQ(j["violations"], json::array({"v1"}));
  EXPECT_EQ(j["network"]["sent"], 10u);
  EXPECT_EQ(j["network"]["bytes_sent"], 4096u);
}

TEST(RenderJson, KeepsA64BitSeedExact) {
  RunReport r;
  r.seed = UINT64_MAX;
  EXPECT_EQ(json::parse(render_json(r))["seed"].get<uint64_t>(), UINT64_MAX);
}

TEST(RenderSvg, IsWellFormedWithOneLinePerSiteWithData) {
  const RunReport r = sample_report();
  for (const Chart chart : {Chart::lag, Chart::commit}) {
    const std::string svg = render_svg(r, chart);
    SCOPED_TRACE(chart == Chart::lag ? "lag" : "commit");
    EXPECT_EQ(svg.rfind("<svg", 0), 0u);
    EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
    EXPECT_EQ(xml_fault(svg), "");
    // lag: rusumo and a&b<c> have samples; commit: hq and rusumo.
    EXPECT_EQ(count_of(svg, "<polyline "), 2u);
    EXPECT_EQ(count_of(svg, "points=\"\""), 0u);
    EXPECT_NE(svg.find("wan-partition, seed 42"), std::string::npos);
    EXPECT_NE(svg.find(chart == Chart::lag ? "Replication lag" : "Commit latency"),
              std::string::npos);
    // The faults, shaded, with their titles; the axes' labels.
    EXPECT_NE(svg.find("<title>partition rusumo | rest, 0:10:00-0:20:00</title>"),
              std::string::npos);
    EXPECT_NE(svg.find("<title>crash hq, 0:30:00</title>"), std::string::npos);
    EXPECT_NE(svg.find(">1 ms<"), std::string::npos);
    EXPECT_NE(svg.find(">1 s<"), std::string::npos);
    EXPECT_NE(svg.find(">1:00<"), std::string::npos);
    EXPECT_NE(svg.find("simulated time"), std::string::npos);
    EXPECT_NE(svg.find(">fault</text>"), std::string::npos);  // the shading in the legend
  }
  const std::string lag = render_svg(r, Chart::lag);
  EXPECT_NE(lag.find("a&amp;b&lt;c&gt;"), std::string::npos);
  EXPECT_EQ(lag.find("a&b"), std::string::npos);
  // 2500 ms needs the 10 s decade.
  EXPECT_NE(lag.find(">10 s<"), std::string::npos);
  // Deterministic.
  EXPECT_EQ(lag, render_svg(r, Chart::lag));
}

TEST(RenderSvg, ManySitesCycleThePaletteAndNoDataStillRenders) {
  RunReport r;
  r.scenario = "big";
  LatencySeries lag;
  for (int i = 0; i < 30; ++i)
    lag.by_site["site" + std::to_string(100 + i)] = {{0, {1}}, {60'000, {0}}};
  add_latencies(r, lag, {});
  const std::string svg = render_svg(r, Chart::lag);
  EXPECT_EQ(xml_fault(svg), "");
  EXPECT_EQ(count_of(svg, "<polyline "), 30u);
  EXPECT_GT(count_of(svg, "stroke-dasharray"), 0u);  // past twelve sites: dashed

  const std::string empty = render_svg(r, Chart::commit);
  EXPECT_EQ(xml_fault(empty), "");
  EXPECT_EQ(count_of(empty, "<polyline "), 0u);
  EXPECT_NE(empty.find("no samples"), std::string::npos);
  EXPECT_EQ(xml_fault(render_svg(RunReport{}, Chart::lag)), "");
}

TEST(RenderSummary, ShowsTheRunAndEndsWithTheTrace) {
  const RunReport r = sample_report();
  const std::string s = render_summary(r);
  EXPECT_NE(s.find("wan-partition"), std::string::npos);
  EXPECT_NE(s.find("seed 42"), std::string::npos);
  EXPECT_NE(s.find("PASS"), std::string::npos);
  EXPECT_EQ(s.find("FAIL"), std::string::npos);
  EXPECT_NE(s.find("1:01:01"), std::string::npos);
  EXPECT_NE(s.find("292.9x"), std::string::npos);  // 3661 s / 12.5 s
  EXPECT_NE(s.find("1200 acknowledged, 3 refused, 2 lost in a crash"), std::string::npos);
  EXPECT_NE(s.find("900 group commits of 5 ms, 12 of them mixed"), std::string::npos);
  EXPECT_NE(s.find("rusumo | rest"), std::string::npos);
  EXPECT_NE(s.find("ok    no acknowledged record lost"), std::string::npos);
  EXPECT_NE(s.find("ledgers agree: root 1a2b"), std::string::npos);
  EXPECT_NE(s.find("a&b<c>"), std::string::npos);  // plain text: no escaping
  EXPECT_NE(s.find(r.replay), std::string::npos);
  const std::string last = "\ntrace=00ff\n";
  ASSERT_GE(s.size(), last.size());
  EXPECT_EQ(s.substr(s.size() - last.size()), last);
  // Per-site rows: rusumo's lag p50 100 and p99 2500, commit 400, samples 5/1.
  const size_t row = s.find("\nrusumo");
  ASSERT_NE(row, std::string::npos);
  const std::string line = s.substr(row + 1, s.find('\n', row + 1) - row - 1);
  EXPECT_NE(line.find(" 100 "), std::string::npos) << line;
  EXPECT_NE(line.find(" 2500 "), std::string::npos) << line;
  EXPECT_NE(line.find(" 5/1"), std::string::npos) << line;
}

TEST(RenderSummary, ShowsFailAndTheFirstTwentyViolations) {
  RunReport r = sample_report();
  r.checks[1].passed = false;
  for (int i = 0; i < 25; ++i) r.violations.push_back("violation " + std::to_string(i));
  const std::string s = render_summary(r);
  EXPECT_EQ(s.find("FAIL"), s.find('\n') - 4);  // on the first line
  EXPECT_NE(s.find("  FAIL  ledgers agree"), std::string::npos);
  EXPECT_NE(s.find("violation 19\n"), std::string::npos);
  EXPECT_EQ(s.find("violation 20\n"), std::string::npos);
  EXPECT_NE(s.find("... and 5 more"), std::string::npos);
  EXPECT_EQ(s.substr(s.size() - 11), "trace=00ff\n");
}

class WriteReport : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = std::filesystem::path(::testing::TempDir()) /
            (std::string("umupaka-report-") + info->name() + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::filesystem::path root_;
};

TEST_F(WriteReport, WritesTheFourFilesCreatingTheDirectory) {
  const RunReport r = sample_report();
  const std::filesystem::path dir = root_ / "a" / "b";
  const Status s = write_report(r, dir.string());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(read_all(dir / "summary.txt"), render_summary(r));
  EXPECT_EQ(read_all(dir / "report.json"), render_json(r));
  EXPECT_EQ(read_all(dir / "lag.svg"), render_svg(r, Chart::lag));
  EXPECT_EQ(read_all(dir / "commit.svg"), render_svg(r, Chart::commit));
  // Again into the same directory: the files are replaced.
  ASSERT_TRUE(write_report(RunReport{}, dir.string()).ok());
  EXPECT_EQ(read_all(dir / "summary.txt"), render_summary(RunReport{}));
}

TEST_F(WriteReport, FailsWithIoUnderARegularFile) {
  std::filesystem::create_directories(root_);
  const std::filesystem::path file = root_ / "plain";
  std::ofstream(file) << "x";
  const std::string dir = (file / "report").string();
  const Status s = write_report(sample_report(), dir);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::io);
  EXPECT_NE(s.error().message.find(dir), std::string::npos) << s.error().message;
}

TEST_F(WriteReport, FailsWithIoWhenAFileCannotBeWritten) {
  // report.json is a directory: the summary is written, the JSON is not.
  std::filesystem::create_directories(root_ / "report.json");
  const Status s = write_report(sample_report(), root_.string());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::io);
  EXPECT_NE(s.error().message.find((root_ / "report.json").string()), std::string::npos)
      << s.error().message;
}

}  // namespace
}  // namespace umupaka::sim

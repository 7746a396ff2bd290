#include "simulation/report.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>
#include <utility>

namespace umupaka::sim {
namespace {

using json = nlohmann::ordered_json;  // keys in the order written, for a person reading it

// --- Number formatting: std::to_chars, so no locale can change a byte of the output. ----------

std::string fixed(double v, int precision) {
  std::array<char, 64> buf{};
  const auto r =
      std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::fixed, precision);
  return std::string(buf.data(), r.ptr);
}

// "h:mm:ss" of a duration in ms (negative durations, never expected, clamp to 0).
std::string hms(int64_t ms) {
  const int64_t s = std::max<int64_t>(ms, 0) / 1000;
  std::string out = std::to_string(s / 3600) + ":";
  const int64_t m = s / 60 % 60, sec = s % 60;
  out += (m < 10 ? "0" : "") + std::to_string(m) + ":";
  out += (sec < 10 ? "0" : "") + std::to_string(sec);
  return out;
}

// `s` left-aligned, or right-aligned, in a field of `width` characters (never cut).
std::string pad(const std::string& s, size_t width, bool right = false) {
  if (s.size() >= width) return s;
  const std::string fill(width - s.size(), ' ');
  return right ? fill + s : s + fill;
}

// Latencies are whole milliseconds, so their percentiles are too.
std::string ms(double v) { return fixed(v, 0); }

// --- Percentiles and series -------------------------------------------------------------------

// The 1-based nearest rank of the p-th percentile of n values: ceil(p * n / 100), in integers so
// that no rounding of p / 100 can shift it.
size_t rank(uint64_t p, size_t n) { return std::max<size_t>(1, (p * n + 99) / 100); }

SeriesPoint point(int64_t t_ms, const std::vector<uint32_t>& values) {
  const Percentiles p = percentiles(values);
  return SeriesPoint{.t_ms = t_ms, .count = p.count, .p50 = p.p50, .p99 = p.p99, .max = p.max};
}

// Every latency of a site's buckets, in bucket order.
std::vector<uint32_t> all_values(const std::map<int64_t, std::vector<uint32_t>>& buckets) {
  std::vector<uint32_t> out;
  for (const auto& [t, values] : buckets) out.insert(out.end(), values.begin(), values.end());
  return out;
}

// --- JSON -------------------------------------------------------------------------------------

json to_json(const Percentiles& p) {
  return {{"count", p.count}, {"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}, {"max", p.max}};
}

json to_json(const std::vector<SeriesPoint>& points) {
  json out = json::array();
  for (const SeriesPoint& pt : points)
    out.push_back({{"t_ms", pt.t_ms},
                   {"count", pt.count},
                   {"p50", pt.p50},
                   {"p99", pt.p99},
                   {"max", pt.max}});
  return out;
}

// --- SVG --------------------------------------------------------------------------------------

// Text and attribute values: the five characters XML reserves.
std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Twelve colours told apart at a glance (Tableau's ten and two darker ones); past twelve sites
// the colours repeat with a dash pattern per round.
constexpr std::array<const char*, 12> palette = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                                 "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                                 "#bcbd22", "#17becf", "#393b79", "#ad494a"};
constexpr std::array<const char*, 3> dashes = {"", "6 3", "2 2"};
// Faults: light shading, under the lines.
constexpr const char* fault_fill = "fill=\"#d62728\" fill-opacity=\"0.12\"";

// Chart geometry, in pixels. The legend sits right of the plot; the chart grows downwards when
// the legend needs more room than the plot.
constexpr double chart_width = 960, plot_height = 440;
constexpr double margin_left = 70, margin_right = 190, margin_top = 50, margin_bottom = 50;
constexpr double legend_row = 16;

// Candidate x tick steps: 1, 5, 10, 15, 30 min; 1, 2, 3, 6, 12 h; 1, 2, 7 days.
constexpr std::array<int64_t, 13> x_steps_min = {1,   5,   10,  15,   30,   60,   120,
                                                 180, 360, 720, 1440, 2880, 10080};

// "h:mm" of a tick at `at_ms`.
std::string hm(int64_t at_ms) {
  const int64_t min = at_ms / 60'000;
  const int64_t m = min % 60;
  return std::to_string(min / 60) + ":" + (m < 10 ? "0" : "") + std::to_string(m);
}

// "1 ms", "10 ms", "100 ms", "1 s", "10 s", ... for the decade 10^e ms.
std::string decade_label(int e) {
  if (e < 3) return std::string("1") + std::string(e, '0') + " ms";
  return std::string("1") + std::string(e - 3, '0') + " s";
}

const std::vector<SeriesPoint>& points_of(const SiteSeries& s, Chart chart) {
  return chart == Chart::lag ? s.lag_points : s.commit_points;
}

}  // namespace

Percentiles percentiles(std::vector<uint32_t> values) {
  Percentiles p;
  if (values.empty()) return p;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  p.count = n;
  p.p50 = values[rank(50, n) - 1];
  p.p90 = values[rank(90, n) - 1];
  p.p99 = values[rank(99, n) - 1];
  p.max = values.back();
  return p;
}

bool RunReport::passed() const {
  return violations.empty() &&
         std::all_of(checks.begin(), checks.end(), [](const CheckResult& c) { return c.passed; });
}

// The sites of the report come first, in its order (a site that saw nothing shows with no
// samples), then any other site of the series, in name order.
void add_latencies(RunReport& report, const LatencySeries& lag, const LatencySeries& commit) {
  std::vector<std::string> order = report.sites;
  std::set<std::string, std::less<>> seen(order.begin(), order.end());
  for (const LatencySeries* series : {&lag, &commit})
    for (const auto& [site, buckets] : series->by_site)
      if (seen.insert(site).second) order.push_back(site);

  std::vector<uint32_t> every_lag, every_commit;
  report.per_site.clear();
  for (const std::string& site : order) {
    SiteSeries s{.site = site};
    if (const auto it = lag.by_site.find(site); it != lag.by_site.end()) {
      for (const auto& [t, values] : it->second) s.lag_points.push_back(point(t, values));
      const std::vector<uint32_t> values = all_values(it->second);
      every_lag.insert(every_lag.end(), values.begin(), values.end());
      s.lag = percentiles(values);
    }
    if (const auto it = commit.by_site.find(site); it != commit.by_site.end()) {
      for (const auto& [t, values] : it->second) s.commit_points.push_back(point(t, values));
      const std::vector<uint32_t> values = all_values(it->second);
      every_commit.insert(every_commit.end(), values.begin(), values.end());
      s.commit = percentiles(values);
    }
    report.per_site.push_back(std::move(s));
  }
  report.lag = percentiles(std::move(every_lag));
  report.commit = percentiles(std::move(every_commit));
}

std::string render_summary(const RunReport& r) {
  std::string out;
  const auto line = [&out](const std::string& label, const std::string& text) {
    out += pad(label, 12) + text + "\n";
  };
  const auto pcts = [](const Percentiles& p) {
    if (p.count == 0) return std::string("no samples");
    return "p50 " + ms(p.p50) + " ms, p90 " + ms(p.p90) + " ms, p99 " + ms(p.p99) + " ms, max " +
           ms(p.max) + " ms (" + std::to_string(p.count) + " samples)";
  };

  out += "Umupaka simulation: " + r.scenario + ", seed " + std::to_string(r.seed) + ": " +
         (r.passed() ? "PASS" : "FAIL") + "\n\n";

  std::string duration = hms(r.simulated_ms) + " simulated in " + fixed(r.wall_seconds, 1) + " s";
  if (r.wall_seconds > 0)
    duration += " (" + fixed(static_cast<double>(r.simulated_ms) / 1000 / r.wall_seconds, 1) + "x)";
  line("duration", duration);
  std::string voters;
  for (const std::string& v : r.voters) voters += (voters.empty() ? "" : ", ") + v;
  line("sites", std::to_string(r.sites.size()) + ", " + std::to_string(r.voters.size()) +
                    " voters" + (voters.empty() ? "" : " (" + voters + ")"));
  line("records", std::to_string(r.records_acknowledged) + " acknowledged, " +
                      std::to_string(r.commands_refused) + " refused, " +
                      std::to_string(r.commands_lost) + " lost in a crash");
  line("ledger", std::to_string(r.ledger_size) + " records, " + std::to_string(r.conflicts_raised) +
                     " conflicts raised");
  line("raft", std::to_string(r.leader_changes) + " leader changes, max term " +
                   std::to_string(r.max_term) + ", " + std::to_string(r.snapshot_installs) +
                   " snapshot installs");
  line("crashes", std::to_string(r.crashes));
  line("writers", std::to_string(r.write_batches) + " group commits of " +
                      std::to_string(r.write_ms) + " ms, " + std::to_string(r.mixed_batches) +
                      " of them mixed");
  line("lag", pcts(r.lag));
  line("commit", pcts(r.commit));

  // Per-site table: the site column as wide as the longest name.
  size_t site_width = 4;
  for (const SiteSeries& s : r.per_site) site_width = std::max(site_width, s.site.size());
  const auto cell = [](const Percentiles& p, double v) { return p.count == 0 ? "-" : ms(v); };
  out += "\n" + pad("site", site_width) + pad("lag p50", 10, true) + pad("lag p99", 10, true) +
         pad("commit p50", 12, true) + pad("commit p99", 12, true) + pad("samples", 16, true) +
         "\n";
  for (const SiteSeries& s : r.per_site) {
    out += pad(s.site, site_width) + pad(cell(s.lag, s.lag.p50), 10, true) +
           pad(cell(s.lag, s.lag.p99), 10, true) + pad(cell(s.commit, s.commit.p50), 12, true) +
           pad(cell(s.commit, s.commit.p99), 12, true) +
           pad(std::to_string(s.lag.count) + "/" + std::to_string(s.commit.count), 16, true) + "\n";
  }
  out += "(latencies in ms; samples: lag/commit)\n";

  out += "\nfaults (" + std::to_string(r.faults.size()) + ")\n";
  for (const FaultEvent& f : r.faults) {
    const std::string when =
        f.from_ms == f.to_ms ? hms(f.from_ms) : hms(f.from_ms) + "-" + hms(f.to_ms);
    out += "  " + pad(when, 18) + pad(f.kind, 17) + f.detail + "\n";
  }

  out += "\nchecks (" + std::to_string(r.checks.size()) + ")\n";
  for (const CheckResult& c : r.checks)
    out += std::string(c.passed ? "  ok    " : "  FAIL  ") + c.name +
           (c.detail.empty() ? "" : ": " + c.detail) + "\n";

  constexpr size_t violations_shown = 20;
  out += "\nviolations (" + std::to_string(r.violations.size()) + ")\n";
  for (size_t i = 0; i < r.violations.size() && i < violations_shown; ++i)
    out += "  " + r.violations[i] + "\n";
  if (r.violations.size() > violations_shown)
    out += "  ... and " + std::to_string(r.violations.size() - violations_shown) + " more\n";

  const SimNetworkStats& n = r.network;
  out += "\n";
  line("network", std::to_string(n.sent) + " frames sent, " + std::to_string(n.delivered) +
                      " delivered, " + std::to_string(n.lost) + " lost, " +
                      std::to_string(n.duplicated) + " duplicated, " + std::to_string(n.cut) +
                      " cut, " + std::to_string(n.overflow) + " dropped by full queues, " +
                      std::to_string(n.injected) + " injected; " + std::to_string(n.bytes_sent) +
                      " bytes");
  line("replay", r.replay);
  out += "trace=" + r.trace_hex + "\n";
  return out;
}

std::string render_json(const RunReport& r) {
  json per_site = json::array();
  for (const SiteSeries& s : r.per_site)
    per_site.push_back({{"site", s.site},
                        {"lag", to_json(s.lag)},
                        {"commit", to_json(s.commit)},
                        {"lag_points", to_json(s.lag_points)},
                        {"commit_points", to_json(s.commit_points)}});
  json faults = json::array();
  for (const FaultEvent& f : r.faults)
    faults.push_back(
        {{"from_ms", f.from_ms}, {"to_ms", f.to_ms}, {"kind", f.kind}, {"detail", f.detail}});
  json checks = json::array();
  for (const CheckResult& c : r.checks)
    checks.push_back({{"name", c.name}, {"passed", c.passed}, {"detail", c.detail}});
  const SimNetworkStats& n = r.network;

  const json j = {
      {"scenario", r.scenario},
      {"seed", r.seed},
      {"passed", r.passed()},
      {"trace", r.trace_hex},
      {"replay", r.replay},
      {"simulated_ms", r.simulated_ms},
      {"wall_seconds", r.wall_seconds},
      {"sites", r.sites},
      {"voters", r.voters},
      {"records_acknowledged", r.records_acknowledged},
      {"commands_refused", r.commands_refused},
      {"commands_lost", r.commands_lost},
      {"ledger_size", r.ledger_size},
      {"conflicts_raised", r.conflicts_raised},
      {"leader_changes", r.leader_changes},
      {"snapshot_installs", r.snapshot_installs},
      {"max_term", r.max_term},
      {"crashes", r.crashes},
      {"write_ms", r.write_ms},
      {"write_batches", r.write_batches},
      {"mixed_batches", r.mixed_batches},
      {"lag", to_json(r.lag)},
      {"commit", to_json(r.commit)},
      {"per_site", std::move(per_site)},
      {"faults", std::move(faults)},
      {"checks", std::move(checks)},
      {"violations", r.violations},
      {"network",
       {{"sent", n.sent},
        {"injected", n.injected},
        {"delivered", n.delivered},
        {"lost", n.lost},
        {"duplicated", n.duplicated},
        {"cut", n.cut},
        {"overflow", n.overflow},
        {"bytes_sent", n.bytes_sent}}},
  };
  return j.dump(2) + "\n";
}

std::string render_svg(const RunReport& r, Chart chart) {
  // The x range: the run, or the last point if the run's length is missing; at least a minute.
  int64_t end_ms = std::max<int64_t>(r.simulated_ms, 60'000);
  double max_ms = 1;
  size_t lines = 0;
  for (const SiteSeries& s : r.per_site) {
    const auto& pts = points_of(s, chart);
    if (!pts.empty()) ++lines;
    for (const SeriesPoint& p : pts) {
      end_ms = std::max(end_ms, p.t_ms);
      max_ms = std::max(max_ms, p.p99);
    }
  }
  // The y range: whole decades from 1 ms (p99s below are drawn at 1 ms) to the largest p99, and
  // at least to 1 s, so a quiet run still has a readable axis.
  const int top_decade = std::max(3, static_cast<int>(std::ceil(std::log10(max_ms) - 1e-9)));

  const double height =
      std::max(margin_top + plot_height + margin_bottom,
               margin_top + legend_row * static_cast<double>(lines + 3) + margin_bottom);
  const double plot_width = chart_width - margin_left - margin_right;
  const double x0 = margin_left, y0 = margin_top + plot_height;  // the plot's bottom left
  const auto x_of = [&](int64_t t_ms) {
    const double t = static_cast<double>(std::clamp<int64_t>(t_ms, 0, end_ms));
    return x0 + t / static_cast<double>(end_ms) * plot_width;
  };
  const auto y_of = [&](double v) {
    return y0 - std::log10(std::max(v, 1.0)) / top_decade * plot_height;
  };
  const auto px = [](double v) { return fixed(v, 1); };

  const std::string what = chart == Chart::lag ? "Replication lag" : "Commit latency";
  std::string out;
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + px(chart_width) + "\" height=\"" +
         px(height) + "\" viewBox=\"0 0 " + px(chart_width) + " " + px(height) +
         "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  out += "<text x=\"" + px(x0) + "\" y=\"28\" font-size=\"16\" font-weight=\"bold\">" +
         xml_escape(what + " p99 per site: " + r.scenario + ", seed " + std::to_string(r.seed)) +
         "</text>\n";

  // Faults first, under everything else.
  for (const FaultEvent& f : r.faults) {
    const double left = x_of(f.from_ms);
    const double width = std::max(x_of(f.to_ms) - left, 2.0);  // an instant: a thin band
    const std::string when =
        f.from_ms == f.to_ms ? hms(f.from_ms) : hms(f.from_ms) + "-" + hms(f.to_ms);
    out += "<rect x=\"" + px(left) + "\" y=\"" + px(margin_top) + "\" width=\"" + px(width) +
           "\" height=\"" + px(plot_height) + "\" " + fault_fill + "><title>" +
           xml_escape(f.kind + (f.detail.empty() ? "" : " " + f.detail) + ", " + when) +
           "</title></rect>\n";
  }

  // Axes, grid and ticks.
  out += "<g stroke=\"#dddddd\" stroke-width=\"1\">\n";
  for (int e = 1; e <= top_decade; ++e)
    out += "<line x1=\"" + px(x0) + "\" y1=\"" + px(y_of(std::pow(10.0, e))) + "\" x2=\"" +
           px(x0 + plot_width) + "\" y2=\"" + px(y_of(std::pow(10.0, e))) + "\"/>\n";
  out += "</g>\n";
  out += "<g stroke=\"black\" stroke-width=\"1\">\n";
  out += "<line x1=\"" + px(x0) + "\" y1=\"" + px(y0) + "\" x2=\"" + px(x0 + plot_width) +
         "\" y2=\"" + px(y0) + "\"/>\n";
  out += "<line x1=\"" + px(x0) + "\" y1=\"" + px(margin_top) + "\" x2=\"" + px(x0) + "\" y2=\"" +
         px(y0) + "\"/>\n";
  out += "</g>\n";

  int64_t step_ms = x_steps_min.back() * 60'000;
  for (const int64_t m : x_steps_min)
    if (end_ms / (m * 60'000) <= 10) {
      step_ms = m * 60'000;
      break;
    }
  out += "<g text-anchor=\"middle\">\n";
  for (int64_t t = 0; t <= end_ms; t += step_ms)
    out += "<line x1=\"" + px(x_of(t)) + "\" y1=\"" + px(y0) + "\" x2=\"" + px(x_of(t)) +
           "\" y2=\"" + px(y0 + 5) + "\" stroke=\"black\"/><text x=\"" + px(x_of(t)) + "\" y=\"" +
           px(y0 + 18) + "\">" + hm(t) + "</text>\n";
  out += "<text x=\"" + px(x0 + plot_width / 2) + "\" y=\"" + px(y0 + 38) +
         "\">simulated time (h:mm)</text>\n";
  out += "</g>\n";
  out += "<g text-anchor=\"end\">\n";
  for (int e = 0; e <= top_decade; ++e)
    out += "<line x1=\"" + px(x0 - 5) + "\" y1=\"" + px(y_of(std::pow(10.0, e))) + "\" x2=\"" +
           px(x0) + "\" y2=\"" + px(y_of(std::pow(10.0, e))) + "\" stroke=\"black\"/><text x=\"" +
           px(x0 - 8) + "\" y=\"" + px(y_of(std::pow(10.0, e)) + 4) + "\">" + decade_label(e) +
           "</text>\n";
  out += "</g>\n";
  out += "<text transform=\"translate(16 " + px(margin_top + plot_height / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">p99 (log scale)</text>\n";

  // One line per site with samples, and its legend entry.
  size_t i = 0;
  const double legend_x = x0 + plot_width + 20;
  out += "<text x=\"" + px(legend_x) + "\" y=\"" + px(margin_top) +
         "\" font-weight=\"bold\">site</text>\n";
  for (const SiteSeries& s : r.per_site) {
    const auto& pts = points_of(s, chart);
    if (pts.empty()) continue;
    const std::string colour = palette[i % palette.size()];
    const std::string dash = dashes[i / palette.size() % dashes.size()];
    const std::string style = "fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"1.5\"" +
                              (dash.empty() ? "" : " stroke-dasharray=\"" + dash + "\"");
    out += "<polyline " + style + " points=\"";
    for (size_t k = 0; k < pts.size(); ++k)
      out += (k == 0 ? "" : " ") + px(x_of(pts[k].t_ms)) + "," + px(y_of(pts[k].p99));
    out += "\"><title>" + xml_escape(s.site) + "</title></polyline>\n";
    if (pts.size() == 1)  // a line of one point draws nothing: mark it
      out += "<circle cx=\"" + px(x_of(pts[0].t_ms)) + "\" cy=\"" + px(y_of(pts[0].p99)) +
             "\" r=\"2.5\" fill=\"" + colour + "\"/>\n";
    const double ly = margin_top + legend_row * static_cast<double>(i + 1);
    out += "<line x1=\"" + px(legend_x) + "\" y1=\"" + px(ly - 4) + "\" x2=\"" + px(legend_x + 20) +
           "\" y2=\"" + px(ly - 4) + "\" " + style + "/><text x=\"" + px(legend_x + 26) +
           "\" y=\"" + px(ly) + "\">" + xml_escape(s.site) + "</text>\n";
    ++i;
  }
  if (!r.faults.empty()) {
    const double ly = margin_top + legend_row * static_cast<double>(i + 2);
    out += "<rect x=\"" + px(legend_x) + "\" y=\"" + px(ly - 10) +
           "\" width=\"20\" height=\"12\" " + fault_fill + "/><text x=\"" + px(legend_x + 26) +
           "\" y=\"" + px(ly) + "\">fault</text>\n";
  }
  if (lines == 0)
    out += "<text x=\"" + px(x0 + plot_width / 2) + "\" y=\"" + px(margin_top + plot_height / 2) +
           "\" text-anchor=\"middle\" fill=\"#7f7f7f\">no samples</text>\n";
  out += "</svg>\n";
  return out;
}

Status write_report(const RunReport& report, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(Errc::io, "cannot create " + dir + ": " + ec.message());
  const std::array<std::pair<const char*, std::string>, 4> files = {{
      {"summary.txt", render_summary(report)},
      {"report.json", render_json(report)},
      {"lag.svg", render_svg(report, Chart::lag)},
      {"commit.svg", render_svg(report, Chart::commit)},
  }};
  for (const auto& [name, text] : files) {
    const std::string path = (std::filesystem::path(dir) / name).string();
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f) return make_error(Errc::io, "cannot write " + path);
  }
  return {};
}

}  // namespace umupaka::sim

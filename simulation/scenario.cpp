#include "simulation/scenario.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <utility>

#include "ledger/date.hpp"
#include "ledger/enum_names.hpp"
#include "ledger/limits.hpp"
#include "ledger/validate.hpp"
#include "node/traffic.hpp"

namespace umupaka::sim {
namespace {

constexpr std::array<std::string_view, fault_kind_count> fault_names = {
    "partition",  "cut-one-way", "isolate",          "crash",   "pause",
    "clock-skew", "clock-jump",  "disk-full",        "degrade", "crash-leader",
    "forge",      "equivocate",  "crash-after-send", "revoke"};

std::optional<FaultKind> fault_kind_from_name(std::string_view name) {
  for (size_t i = 0; i < fault_names.size(); ++i)
    if (fault_names[i] == name) return static_cast<FaultKind>(i);
  return std::nullopt;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Bounds of the numbers a scenario may hold: generous, but they keep arithmetic on them exact and
// catch a unit mistake (a latency in microseconds, a scale in percent).
constexpr int64_t link_ms_max = 600'000;
constexpr uint64_t bytes_per_second_max = 100'000'000'000;
constexpr double traffic_scale_max = 10'000;
constexpr int64_t generated_max = 1000;
constexpr int64_t swarm_faults_max = 10'000;

// Reads one table of the file: typed getters that name the key's path and its position in every
// error. Keys are checked against the table's allowed list before anything is read.
class TableReader {
 public:
  TableReader(std::string_view source, const toml::table& table, std::string path)
      : source_(source), table_(table), path_(std::move(path)) {}

  std::string field(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  const toml::node* node(std::string_view key) const { return table_.get(key); }
  bool has(std::string_view key) const { return node(key) != nullptr; }

  // The error at `at` (or at this table when `at` has no position), for `field`.
  Error error(const toml::node* at, const std::string& fld, const std::string& what) const {
    const toml::node* where = at != nullptr && at->source().begin.line > 0 ? at : &table_;
    std::string msg(source_);
    if (const auto& b = where->source().begin; b.line > 0)
      msg += ":" + std::to_string(b.line) + ":" + std::to_string(b.column);
    msg += ": " + (fld.empty() ? std::string("(top level)") : fld) + ": " + what;
    return make_error(Errc::invalid_field, std::move(msg), fld);
  }
  Error error(std::string_view key, const std::string& what) const {
    return error(node(key), field(key), what);
  }

  Status keys(std::initializer_list<std::string_view> allowed) const {
    for (const auto& [k, v] : table_) {
      bool known = false;
      for (auto a : allowed) known = known || a == k.str();
      if (known) continue;
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return error(&v, field(k.str()), "unknown key (expected one of: " + list + ")");
    }
    return {};
  }

  Status require(std::string_view key) const {
    if (!has(key)) return error(nullptr, field(key), "missing (required)");
    return {};
  }

  Status string(std::string_view key, std::string& out, bool required = false) const {
    if (required) RETURN_IF_ERROR(require(key));
    const toml::node* n = node(key);
    if (n == nullptr) return {};
    if (!n->is_string()) return error(key, "must be a string");
    out = *n->value<std::string>();
    return {};
  }

  Status boolean(std::string_view key, bool& out) const {
    const toml::node* n = node(key);
    if (n == nullptr) return {};
    if (!n->is_boolean()) return error(key, "must be true or false");
    out = *n->value<bool>();
    return {};
  }

  Status integer(std::string_view key, int64_t& out, int64_t min, int64_t max,
                 bool required = false) const {
    if (required) RETURN_IF_ERROR(require(key));
    const toml::node* n = node(key);
    if (n == nullptr) return {};
    if (!n->is_integer()) return error(key, "must be an integer");
    const int64_t v = *n->value<int64_t>();
    if (v < min || v > max)
      return error(key, "must be in " + std::to_string(min) + ".." + std::to_string(max) +
                            ", got " + std::to_string(v));
    out = v;
    return {};
  }

  template <typename U>
  Status unsigned_integer(std::string_view key, U& out, int64_t min, int64_t max) const {
    int64_t v = static_cast<int64_t>(out);
    RETURN_IF_ERROR(integer(key, v, min, max));
    out = static_cast<U>(v);
    return {};
  }

  // An integer or a float, finite, in [min, max].
  Status number(std::string_view key, double& out, double min, double max) const {
    const toml::node* n = node(key);
    if (n == nullptr) return {};
    if (!n->is_number()) return error(key, "must be a number");
    const double v = *n->value<double>();
    if (!std::isfinite(v) || v < min || v > max) {
      std::ostringstream s;
      s << "must be in [" << min << ", " << max << "], got " << v;
      return error(key, s.str());
    }
    out = v;
    return {};
  }

  // A duration string ("2h30m"); negative only if allowed.
  Status duration(std::string_view key, int64_t& out, bool required = false,
                  bool allow_negative = false) const {
    if (required) RETURN_IF_ERROR(require(key));
    const toml::node* n = node(key);
    if (n == nullptr) return {};
    const char* form = "must be a duration string with units h, m, s, ms, e.g. \"2h30m\", \"90s\"";
    if (!n->is_string()) return error(key, form);
    const std::string text = *n->value<std::string>();
    if (!allow_negative && !text.empty() && text[0] == '-')
      return error(key, "must not be negative, got \"" + text + "\"");
    const auto v = parse_duration_ms(text, allow_negative);
    if (!v) return error(key, std::string(form) + ", got \"" + text + "\"");
    out = *v;
    return {};
  }

  // An array of strings, each unique.
  Status string_list(std::string_view key, std::vector<std::string>& out) const {
    const toml::node* n = node(key);
    if (n == nullptr) return {};
    const toml::array* a = n->as_array();
    if (a == nullptr) return error(key, "must be an array of strings");
    out.clear();
    for (size_t i = 0; i < a->size(); ++i) {
      const toml::node& item = *a->get(i);
      const std::string fld = field(key) + "[" + std::to_string(i) + "]";
      if (!item.is_string()) return error(&item, fld, "must be a string");
      std::string s = *item.value<std::string>();
      for (const auto& prev : out)
        if (prev == s) return error(&item, fld, "'" + s + "' is listed twice");
      out.push_back(std::move(s));
    }
    return {};
  }

  // A sub-table (nullptr when absent); anything else under the key is an error.
  Result<const toml::table*> subtable(std::string_view key) const {
    const toml::node* n = node(key);
    if (n == nullptr) return static_cast<const toml::table*>(nullptr);
    if (!n->is_table()) return error(key, "must be a table");
    return n->as_table();
  }

 private:
  std::string_view source_;
  const toml::table& table_;
  std::string path_;
};

// The LinkSpec keys of a link class, a degrade fault's `link` and [swarm.degrade]; `spec` holds
// the defaults on entry.
Status read_link_spec(const TableReader& r, LinkSpec& spec) {
  int64_t v = spec.latency_ms;
  RETURN_IF_ERROR(r.integer("latency_ms", v, 0, link_ms_max));
  spec.latency_ms = static_cast<uint32_t>(v);
  v = spec.jitter_ms;
  RETURN_IF_ERROR(r.integer("jitter_ms", v, 0, link_ms_max));
  spec.jitter_ms = static_cast<uint32_t>(v);
  RETURN_IF_ERROR(r.number("loss", spec.loss, 0, 1));
  RETURN_IF_ERROR(r.number("duplicate", spec.duplicate, 0, 1));
  v = static_cast<int64_t>(spec.bytes_per_second);
  RETURN_IF_ERROR(r.integer("bytes_per_second", v, 0, bytes_per_second_max));
  spec.bytes_per_second = static_cast<uint64_t>(v);
  return {};
}

Status check_link_spec_keys(const TableReader& r, bool with_swim) {
  if (with_swim)
    return r.keys({"latency_ms", "jitter_ms", "loss", "duplicate", "bytes_per_second", "swim"});
  return r.keys({"latency_ms", "jitter_ms", "loss", "duplicate", "bytes_per_second"});
}

std::optional<int64_t> parse_start(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SSZ
  if (s.size() != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
      s[16] != ':' || s[19] != 'Z')
    return std::nullopt;
  auto num = [&](size_t at, size_t len) -> std::optional<int> {
    int v = 0;
    for (size_t i = at; i < at + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2),
             sec = num(17, 2);
  if (!y || !mo || !d || !h || !mi || !sec || *h > 23 || *mi > 59 || *sec > 59 ||
      !valid_civil(*y, static_cast<uint32_t>(*mo), static_cast<uint32_t>(*d)))
    return std::nullopt;
  const Date date = date_from_civil(*y, static_cast<uint32_t>(*mo), static_cast<uint32_t>(*d));
  return int64_t{date.days} * ms_per_day + ((*h * 60 + *mi) * 60 + *sec) * int64_t{1000};
}

// Whether `traffic` is a profile a site of `kind` may run.
Status check_traffic(const TableReader& r, const std::string& traffic, SiteKind kind) {
  if (traffic.empty()) return {};
  if (traffic == embassy_traffic) {
    if (kind != SiteKind::embassy)
      return r.error("traffic", "\"embassy\" (visa issuing) needs kind = \"embassy\"");
    return {};
  }
  if (traffic == small_post_traffic) {
    if (kind != SiteKind::border_post)
      return r.error("traffic", "\"small-post\" needs kind = \"border-post\"");
    return {};
  }
  std::string known = std::string(small_post_traffic) + ", " + std::string(embassy_traffic);
  for (const auto& p : post_profiles()) {
    if (traffic == p.site) {
      if (kind != p.kind)
        return r.error("traffic", "profile '" + traffic + "' is for kind \"" +
                                      std::string(enum_name(p.kind)) + "\", the site is \"" +
                                      std::string(enum_name(kind)) + "\"");
      return {};
    }
    known += std::string(", ") + p.site;
  }
  return r.error("traffic", "unknown traffic profile '" + traffic + "' (known: " + known + ")");
}

class ScenarioParser {
 public:
  ScenarioParser(std::string_view source, const toml::table& root)
      : source_(source), root_(source, root, "") {}

  Result<Scenario> parse() {
    RETURN_IF_ERROR(root_.keys({"name", "description", "start", "duration", "settle",
                                "traffic_scale", "tick_ms", "raft_tick_ms", "election_ticks",
                                "write_ms", "snapshot_entries", "snapshot_keep_entries", "links",
                                "sites", "generate", "faults", "swarm", "expect"}));
    RETURN_IF_ERROR(top_level());
    RETURN_IF_ERROR(links());
    RETURN_IF_ERROR(sites());
    RETURN_IF_ERROR(generate());
    if (s_.sites.size() > swim::members_max)
      return root_.error("sites", "at most " + std::to_string(swim::members_max) + " sites, got " +
                                      std::to_string(s_.sites.size()));
    const size_t founding = static_cast<size_t>(std::count_if(
        s_.sites.begin(), s_.sites.end(), [](const ScenarioSite& s) { return !s.joins_ms; }));
    if (founding > limits::genesis_sites_max)
      return root_.error("sites", "at most " + std::to_string(limits::genesis_sites_max) +
                                      " founding sites (without `joins`: the genesis names them), "
                                      "got " +
                                      std::to_string(founding));
    bool voter = false;
    for (const auto& site : s_.sites)
      voter = voter || (site.role == VoterRole::voter && !site.joins_ms);
    if (!voter)
      return root_.error("sites",
                         "no founding site (without `joins`) has role = \"voter\" (at least one "
                         "needed)");
    RETURN_IF_ERROR(faults());
    RETURN_IF_ERROR(swarm());
    RETURN_IF_ERROR(expect());
    return std::move(s_);
  }

 private:
  Status top_level() {
    std::string stem(source_);
    if (const auto slash = stem.rfind('/'); slash != std::string::npos) stem.erase(0, slash + 1);
    if (stem.size() > 5 && stem.ends_with(".toml")) stem.resize(stem.size() - 5);
    s_.name = stem;
    RETURN_IF_ERROR(root_.string("name", s_.name));
    if (!valid_object_id(s_.name))
      return root_.error("name", "must be letters, digits, '-', '_', '.' (1.." +
                                     std::to_string(limits::id_bytes_max) + " bytes)");
    RETURN_IF_ERROR(root_.string("description", s_.description));
    RETURN_IF_ERROR(root_.string("start", s_.start));
    const auto start = parse_start(s_.start);
    if (!start)
      return root_.error(
          "start", "must be a UTC instant \"YYYY-MM-DDTHH:MM:SSZ\", got \"" + s_.start + "\"");
    s_.start_ms = *start;
    RETURN_IF_ERROR(root_.duration("duration", s_.duration_ms, true));
    if (s_.duration_ms <= 0) return root_.error("duration", "must be longer than 0");
    RETURN_IF_ERROR(root_.duration("settle", s_.settle_ms));
    RETURN_IF_ERROR(root_.number("traffic_scale", s_.traffic_scale, 0, traffic_scale_max));
    RETURN_IF_ERROR(root_.unsigned_integer("tick_ms", s_.tick_ms, 1, 1000));
    RETURN_IF_ERROR(root_.unsigned_integer("raft_tick_ms", s_.raft_tick_ms, 10, 10'000));
    RETURN_IF_ERROR(root_.unsigned_integer("election_ticks", s_.election_ticks, 2, 1000));
    RETURN_IF_ERROR(root_.unsigned_integer("write_ms", s_.write_ms, 0, 1000));
    RETURN_IF_ERROR(
        root_.unsigned_integer("snapshot_entries", s_.snapshot_entries, 0, 100'000'000));
    RETURN_IF_ERROR(
        root_.unsigned_integer("snapshot_keep_entries", s_.snapshot_keep_entries, 0, 100'000'000));
    return {};
  }

  Status links() {
    RETURN_IF_ERROR(root_.require("links"));
    ASSIGN_OR_RETURN(const toml::table* t, root_.subtable("links"));
    if (t->empty()) return root_.error("links", "define at least one link class ([links.NAME])");
    for (const auto& [name, value] : *t) {
      const std::string path = "links." + std::string(name.str());
      if (!value.is_table()) return root_.error(&value, path, "must be a table ([" + path + "])");
      const TableReader r(source_, *value.as_table(), path);
      if (!valid_site_id(name.str()))
        return r.error(&value, path,
                       "link class names are slugs: lower-case letters, digits and '-'");
      RETURN_IF_ERROR(check_link_spec_keys(r, true));
      ScenarioLink link;
      link.name = std::string(name.str());
      RETURN_IF_ERROR(read_link_spec(r, link.spec));
      std::string swim_name = "wan";
      RETURN_IF_ERROR(r.string("swim", swim_name, true));
      const auto cls = enum_from_name<swim::LinkClass>(swim_name);
      if (!cls)
        return r.error("swim",
                       "must be \"lan\", \"wan\" or \"satellite\", got \"" + swim_name + "\"");
      link.swim_class = *cls;
      s_.links.push_back(std::move(link));
    }
    return {};
  }

  // The name of a defined link class under `key` of `r`.
  Status link_ref(const TableReader& r, std::string_view key, std::string& out) const {
    RETURN_IF_ERROR(r.string(key, out, true));
    if (s_.find_link(out) != nullptr) return {};
    std::vector<std::string> names;
    for (const auto& l : s_.links) names.push_back(l.name);
    return r.error(key, "unknown link class '" + out + "' (defined: " + join(names) + ")");
  }

  // `key`: where the id comes from ("id" of a written site, "posts" or "embassies").
  Status add_site(const TableReader& r, std::string_view key, ScenarioSite site) {
    if (s_.find_site(site.id) != nullptr)
      return r.error(key, "duplicate site id '" + site.id + "'");
    s_.sites.push_back(std::move(site));
    return {};
  }

  Status sites() {
    const toml::node* n = root_.node("sites");
    if (n == nullptr) return {};
    const toml::array* a = n->as_array();
    if (a == nullptr || !a->is_array_of_tables())
      return root_.error("sites", "must be an array of tables ([[sites]])");
    for (size_t i = 0; i < a->size(); ++i) {
      const TableReader r(source_, *a->get(i)->as_table(), "sites[" + std::to_string(i) + "]");
      RETURN_IF_ERROR(r.keys({"id", "kind", "role", "link", "traffic", "traffic_scale", "joins"}));
      ScenarioSite site;
      RETURN_IF_ERROR(r.string("id", site.id, true));
      if (!valid_site_id(site.id))
        return r.error("id",
                       "site ids are slugs: lower-case letters, digits and '-', starting "
                       "with a letter, got '" +
                           site.id + "'");
      std::string kind, role = "learner";
      RETURN_IF_ERROR(r.string("kind", kind, true));
      const auto k = enum_from_name<SiteKind>(kind);
      if (!k)
        return r.error("kind",
                       "must be \"hq\", \"border-post\", \"airport\" or \"embassy\", "
                       "got \"" +
                           kind + "\"");
      site.kind = *k;
      RETURN_IF_ERROR(r.string("role", role));
      const auto v = enum_from_name<VoterRole>(role);
      if (!v) return r.error("role", "must be \"voter\" or \"learner\", got \"" + role + "\"");
      site.role = *v;
      RETURN_IF_ERROR(link_ref(r, "link", site.link));
      RETURN_IF_ERROR(r.string("traffic", site.traffic));
      RETURN_IF_ERROR(check_traffic(r, site.traffic, site.kind));
      RETURN_IF_ERROR(r.number("traffic_scale", site.traffic_scale, 0, traffic_scale_max));
      if (r.has("joins")) {
        int64_t joins = 0;
        RETURN_IF_ERROR(r.duration("joins", joins, true));
        if (joins < 0 || joins >= s_.duration_ms)
          return r.error("joins", "must be within the traffic (0s .. before duration = \"" +
                                      format_duration_ms(s_.duration_ms) + "\")");
        site.joins_ms = joins;
      }
      RETURN_IF_ERROR(add_site(r, "id", std::move(site)));
    }
    return {};
  }

  // [generate]: post-1..post-N (generic small posts) and embassy-1..embassy-M, learners.
  Status generate() {
    ASSIGN_OR_RETURN(const toml::table* t, root_.subtable("generate"));
    if (t == nullptr) return {};
    const TableReader r(source_, *t, "generate");
    RETURN_IF_ERROR(r.keys({"posts", "embassies", "post_link", "embassy_link", "post_traffic_scale",
                            "embassy_traffic_scale"}));
    int64_t posts = 0, embassies = 0;
    double post_scale = 1.0, embassy_scale = 1.0;
    RETURN_IF_ERROR(r.integer("posts", posts, 0, generated_max));
    RETURN_IF_ERROR(r.integer("embassies", embassies, 0, generated_max));
    RETURN_IF_ERROR(r.number("post_traffic_scale", post_scale, 0, traffic_scale_max));
    RETURN_IF_ERROR(r.number("embassy_traffic_scale", embassy_scale, 0, traffic_scale_max));
    std::string post_link, embassy_link;
    if (posts > 0) RETURN_IF_ERROR(link_ref(r, "post_link", post_link));
    if (embassies > 0) RETURN_IF_ERROR(link_ref(r, "embassy_link", embassy_link));
    auto make = [&](std::string_view key, const char* prefix, int64_t count, SiteKind kind,
                    const std::string& link, std::string_view traffic, double scale) -> Status {
      for (int64_t i = 1; i <= count; ++i) {
        ScenarioSite site{.id = prefix + std::to_string(i),
                          .kind = kind,
                          .role = VoterRole::learner,
                          .link = link,
                          .traffic = std::string(traffic),
                          .traffic_scale = scale,
                          .generated = true};
        RETURN_IF_ERROR(add_site(r, key, std::move(site)));
      }
      return {};
    };
    RETURN_IF_ERROR(make("posts", "post-", posts, SiteKind::border_post, post_link,
                         small_post_traffic, post_scale));
    return make("embassies", "embassy-", embassies, SiteKind::embassy, embassy_link,
                embassy_traffic, embassy_scale);
  }

  // A list of site ids under `key`, each a known site.
  Status site_list(const TableReader& r, std::string_view key, std::vector<std::string>& out) {
    RETURN_IF_ERROR(r.string_list(key, out));
    const toml::array* a = r.has(key) ? r.node(key)->as_array() : nullptr;
    for (size_t i = 0; i < out.size(); ++i)
      if (s_.find_site(out[i]) == nullptr)
        return r.error(a != nullptr ? a->get(i) : nullptr,
                       r.field(key) + "[" + std::to_string(i) + "]",
                       "unknown site '" + out[i] + "'");
    return {};
  }

  Status fault(const TableReader& r) {
    RETURN_IF_ERROR(r.keys({"kind", "at", "for", "sites", "group2", "offset", "link"}));
    ScenarioFault f;
    std::string kind;
    RETURN_IF_ERROR(r.string("kind", kind, true));
    const auto k = fault_kind_from_name(kind);
    if (!k) {
      std::vector<std::string> names(fault_names.begin(), fault_names.end());
      return r.error("kind", "unknown fault kind '" + kind + "' (known: " + join(names) + ")");
    }
    f.kind = *k;
    RETURN_IF_ERROR(r.duration("at", f.at_ms, true));
    if (f.at_ms >= s_.duration_ms)
      return r.error("at", "must be before the end of traffic (duration = \"" +
                               format_duration_ms(s_.duration_ms) + "\")");

    // What each kind takes: how many sites, and which of for / group2 / offset / link.
    enum class For { none, required, optional };
    struct Rule {
      size_t min_sites, max_sites;
      For lasts;
      bool group2, offset, link;
    };
    constexpr size_t any = SIZE_MAX;
    Rule rule{1, any, For::required, false, false, false};
    switch (f.kind) {
      case FaultKind::partition:
      case FaultKind::cut_one_way:
        rule.group2 = true;
        break;
      case FaultKind::degrade:
        rule.group2 = rule.link = true;
        break;
      case FaultKind::clock_skew:
        rule.lasts = For::optional;
        rule.offset = true;
        break;
      case FaultKind::clock_jump:
        rule.lasts = For::none;
        rule.offset = true;
        break;
      case FaultKind::crash_leader:
        rule.min_sites = rule.max_sites = 0;
        break;
      case FaultKind::forge:
      case FaultKind::equivocate:
        rule = Rule{1, 1, For::none, true, false, false};
        break;
      case FaultKind::revoke:
        rule = Rule{1, 1, For::none, false, false, false};
        break;
      case FaultKind::isolate:
      case FaultKind::crash:
      case FaultKind::pause:
      case FaultKind::disk_full:
      case FaultKind::crash_after_send:
        break;
    }
    const std::string what = "a " + kind + " fault";
    auto refuse = [&](std::string_view key) -> Status {
      if (r.has(key)) return r.error(key, "does not apply to " + what);
      return {};
    };

    if (rule.max_sites == 0) {
      RETURN_IF_ERROR(refuse("sites"));
    } else {
      RETURN_IF_ERROR(r.require("sites"));
      RETURN_IF_ERROR(site_list(r, "sites", f.sites));
      if (f.sites.size() < rule.min_sites || f.sites.size() > rule.max_sites)
        return r.error("sites", rule.max_sites == 1 ? what + " names exactly one site"
                                                    : what + " names at least one site");
      for (const auto& id : f.sites)
        if (const ScenarioSite* site = s_.find_site(id); !site->present_at(f.at_ms))
          return r.error("sites", "'" + id + "' joins at " + format_duration_ms(*site->joins_ms) +
                                      ", after this fault starts (at = \"" +
                                      format_duration_ms(f.at_ms) + "\")");
    }
    if (rule.group2) {
      RETURN_IF_ERROR(site_list(r, "group2", f.group2));
      for (const auto& g : f.group2)
        for (const auto& s : f.sites)
          if (g == s) return r.error("group2", "'" + g + "' is in both sites and group2");
    } else {
      RETURN_IF_ERROR(refuse("group2"));
    }
    const bool cuts = f.kind == FaultKind::partition || f.kind == FaultKind::cut_one_way ||
                      f.kind == FaultKind::isolate || f.kind == FaultKind::degrade;
    if (cuts && f.group2.empty() && f.sites.size() == s_.sites.size())
      return r.error("sites", "names every site: nothing is left on the other side");

    switch (rule.lasts) {
      case For::none:
        RETURN_IF_ERROR(refuse("for"));
        break;
      case For::required:
        RETURN_IF_ERROR(r.duration("for", f.duration_ms, true));
        if (f.duration_ms <= 0)
          return r.error("for", "must be longer than 0: every " + kind +
                                    " fault ends, so the final checks can expect convergence");
        break;
      case For::optional:
        RETURN_IF_ERROR(r.duration("for", f.duration_ms));
        break;
    }
    if (rule.offset) {
      RETURN_IF_ERROR(r.duration("offset", f.offset_ms, true, true));
      if (f.offset_ms == 0) return r.error("offset", "must not be 0");
    } else {
      RETURN_IF_ERROR(refuse("offset"));
    }
    if (rule.link) {
      RETURN_IF_ERROR(r.require("link"));
      ASSIGN_OR_RETURN(const toml::table* lt, r.subtable("link"));
      const TableReader lr(source_, *lt, r.field("link"));
      RETURN_IF_ERROR(check_link_spec_keys(lr, false));
      RETURN_IF_ERROR(read_link_spec(lr, f.link));
    } else {
      RETURN_IF_ERROR(refuse("link"));
    }
    s_.faults.push_back(std::move(f));
    return {};
  }

  Status faults() {
    const toml::node* n = root_.node("faults");
    if (n == nullptr) return {};
    const toml::array* a = n->as_array();
    if (a == nullptr || !a->is_array_of_tables())
      return root_.error("faults", "must be an array of tables ([[faults]])");
    for (size_t i = 0; i < a->size(); ++i)
      RETURN_IF_ERROR(
          fault(TableReader(source_, *a->get(i)->as_table(), "faults[" + std::to_string(i) + "]")));
    return {};
  }

  Status swarm() {
    SwarmSpec& w = s_.swarm;
    const auto every_kind = [&w] {
      for (size_t i = 0; i < fault_kind_count; ++i) w.kinds.push_back(static_cast<FaultKind>(i));
    };
    ASSIGN_OR_RETURN(const toml::table* t, root_.subtable("swarm"));
    if (t == nullptr) {
      every_kind();  // `umupaka-sim swarm` on a scenario without [swarm] draws every kind
      return {};
    }
    const TableReader r(source_, *t, "swarm");
    RETURN_IF_ERROR(
        r.keys({"enabled", "faults", "kinds", "max_duration", "max_offset", "degrade"}));
    w.enabled = true;
    RETURN_IF_ERROR(r.boolean("enabled", w.enabled));
    RETURN_IF_ERROR(r.unsigned_integer("faults", w.faults, 1, swarm_faults_max));
    std::vector<std::string> kinds;
    RETURN_IF_ERROR(r.string_list("kinds", kinds));
    if (r.has("kinds") && kinds.empty())
      return r.error("kinds", "must name at least one fault kind (omit it for every kind)");
    for (size_t i = 0; i < kinds.size(); ++i) {
      const auto k = fault_kind_from_name(kinds[i]);
      if (!k) {
        std::vector<std::string> names(fault_names.begin(), fault_names.end());
        return r.error(r.node("kinds")->as_array()->get(i),
                       "swarm.kinds[" + std::to_string(i) + "]",
                       "unknown fault kind '" + kinds[i] + "' (known: " + join(names) + ")");
      }
      w.kinds.push_back(*k);
    }
    if (w.kinds.empty()) every_kind();
    RETURN_IF_ERROR(r.duration("max_duration", w.max_duration_ms));
    if (w.max_duration_ms < 1000) return r.error("max_duration", "must be at least 1s");
    RETURN_IF_ERROR(r.duration("max_offset", w.max_offset_ms));
    if (w.max_offset_ms <= 0) return r.error("max_offset", "must be longer than 0");
    ASSIGN_OR_RETURN(const toml::table* dt, r.subtable("degrade"));
    if (dt != nullptr) {
      const TableReader dr(source_, *dt, "swarm.degrade");
      RETURN_IF_ERROR(check_link_spec_keys(dr, false));
      RETURN_IF_ERROR(read_link_spec(dr, w.degrade));
    }
    return {};
  }

  Status expect() {
    ASSIGN_OR_RETURN(const toml::table* t, root_.subtable("expect"));
    if (t == nullptr) return {};
    const TableReader r(source_, *t, "expect");
    RETURN_IF_ERROR(r.keys({"evidence"}));
    RETURN_IF_ERROR(r.boolean("evidence", s_.expect_evidence));
    if (!s_.expect_evidence) return {};
    bool equivocation = false;
    for (const auto& f : s_.faults) equivocation = equivocation || f.kind == FaultKind::equivocate;
    if (!equivocation)
      return r.error("evidence",
                     "no equivocate fault is scheduled: nothing would produce evidence");
    return {};
  }

  std::string_view source_;
  TableReader root_;
  Scenario s_;
};

}  // namespace

std::string_view fault_kind_name(FaultKind kind) {
  const auto i = static_cast<size_t>(kind);
  return i < fault_names.size() ? fault_names[i] : std::string_view{"?"};
}

const ScenarioLink* Scenario::find_link(std::string_view link_name) const {
  for (const auto& l : links)
    if (l.name == link_name) return &l;
  return nullptr;
}

const ScenarioSite* Scenario::find_site(std::string_view id) const {
  for (const auto& s : sites)
    if (s.id == id) return &s;
  return nullptr;
}

Scenario cut_to(const Scenario& s, int64_t duration_ms, std::vector<std::string>& left_out) {
  Scenario out = s;
  out.duration_ms = duration_ms;
  const std::string after =
      ": after the run's end (" + format_duration_ms(duration_ms) + "), left out";
  std::erase_if(out.sites, [&](const ScenarioSite& site) {
    if (!site.joins_ms || *site.joins_ms < duration_ms) return false;
    left_out.push_back(site.id + " joins at " + format_duration_ms(*site.joins_ms) + after);
    return true;
  });
  // A fault's `sites` are there when it starts (the parser checks), so a fault kept names sites
  // kept. Its `group2` may name a site that joins later (cut off from it before it joins): one
  // left out is dropped from it, and the fault left out if that empties its group2 (an empty one
  // would mean every other site).
  std::erase_if(out.faults, [&](ScenarioFault& f) {
    const std::string what =
        std::string(fault_kind_name(f.kind)) + " at " + format_duration_ms(f.at_ms);
    if (f.at_ms >= duration_ms) {
      left_out.push_back(what + after);
      return true;
    }
    const bool named = !f.group2.empty();
    std::erase_if(f.group2, [&](const std::string& id) { return out.find_site(id) == nullptr; });
    if (named && f.group2.empty()) {
      left_out.push_back(what + ": every site of its group2 joins after the run's end (" +
                         format_duration_ms(duration_ms) + "), left out");
      return true;
    }
    return false;
  });
  return out;
}

int scenario_local_hour(int64_t instant_ms) {
  constexpr int64_t hour_ms = 3'600'000;
  int64_t h = instant_ms / hour_ms;
  if (instant_ms < 0 && instant_ms % hour_ms != 0) --h;
  return static_cast<int>(((h + 2) % 24 + 24) % 24);
}

std::optional<int64_t> parse_duration_ms(std::string_view text, bool allow_negative) {
  // Units by rank: each at most once, in decreasing order.
  struct Unit {
    std::string_view name;
    int64_t ms;
  };
  constexpr std::array<Unit, 4> units = {Unit{"h", 3'600'000}, Unit{"m", 60'000}, Unit{"s", 1000},
                                         Unit{"ms", 1}};
  constexpr int64_t part_max = 1'000'000'000'000;  // no part beyond 10^12 of its unit
  bool negative = false;
  if (!text.empty() && text[0] == '-') {
    if (!allow_negative) return std::nullopt;
    negative = true;
    text.remove_prefix(1);
  }
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  size_t next_unit = 0;
  while (!text.empty()) {
    int64_t n = 0;
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
      n = n * 10 + (text[digits] - '0');
      if (n > part_max) return std::nullopt;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    text.remove_prefix(digits);
    // "ms" before "m": the longest unit name that matches.
    size_t u = units.size();
    for (size_t i = 0; i < units.size(); ++i)
      if (text.starts_with(units[i].name) &&
          (u == units.size() || units[i].name.size() > units[u].name.size()))
        u = i;
    if (u == units.size() || u < next_unit) return std::nullopt;
    text.remove_prefix(units[u].name.size());
    next_unit = u + 1;
    if (n > (INT64_MAX / 4 - total) / units[u].ms) return std::nullopt;
    total += n * units[u].ms;
  }
  return negative ? -total : total;
}

std::string format_duration_ms(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out = ms < 0 ? "-" : "";
  uint64_t v = ms < 0 ? 0 - static_cast<uint64_t>(ms) : static_cast<uint64_t>(ms);
  for (const auto& [name, unit] : {std::pair{"h", 3'600'000ULL}, std::pair{"m", 60'000ULL},
                                   std::pair{"s", 1000ULL}, std::pair{"ms", 1ULL}}) {
    if (v >= unit) out += std::to_string(v / unit) + name;
    v %= unit;
  }
  return out;
}

Result<Scenario> parse_scenario(std::string_view toml_text, std::string_view source_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    return make_error(Errc::invalid_field,
                      std::string(source_name) + ":" + std::to_string(b.line) + ":" +
                          std::to_string(b.column) + ": " + std::string(e.description()),
                      "toml");
  }
  return ScenarioParser(source_name, root).parse();
}

Result<Scenario> load_scenario(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::io, "cannot read scenario " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return make_error(Errc::io, "cannot read scenario " + path);
  return parse_scenario(text.str(), path);
}

}  // namespace umupaka::sim

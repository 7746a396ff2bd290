#include "simulation/sim_run.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>

#include "ledger/assert.hpp"
#include "ledger/codec.hpp"
#include "ledger/date.hpp"
#include "ledger/ids.hpp"
#include "ledger/record.hpp"
#include "node/network_setup.hpp"
#include "node/traffic.hpp"
#include "simulation/byzantine.hpp"
#include "simulation/seeds.hpp"

namespace umupaka::sim {
namespace {

// Draws by plain arithmetic (not <random> distributions): the same on every standard library.
class Draw {
 public:
  explicit Draw(uint64_t seed) : rng_(seed) {}
  double exponential() { return neg_log_uniform(rng_()); }  // mean 1
  uint64_t below(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  int64_t between(int64_t lo, int64_t hi) {  // [lo, hi]
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1));
  }

 private:
  std::mt19937_64 rng_;
};

constexpr int64_t hour_ms = 3'600'000;
// An embassy issues this many visas a working day (08:00-17:00 local), at traffic_scale 1: an
// assumption (the directorate publishes no per-mission figure); scale it in the scenario.
constexpr double embassy_visas_per_day = 40;

// One source of officers' commands: a post's travellers, or an embassy's visa applicants.
struct Source {
  std::string site;
  bool embassy = false;
  const PostProfile* profile = nullptr;
  std::unique_ptr<TrafficGenerator> generator;
  double scale = 1;
  Draw draw{0};
  int64_t next_ms = INT64_MAX;
  uint64_t issued = 0;
};

double rate_per_second(const Source& s, int64_t instant_ms) {
  const int hour = scenario_local_hour(instant_ms);
  if (s.embassy) return hour >= 8 && hour < 17 ? s.scale * embassy_visas_per_day / (9 * 3600.0) : 0;
  return s.scale * crossings_per_second(*s.profile, hour);
}

// The next arrival after `from`: exponential gaps at the rate of the hour; the rate changes on
// the hour, so a gap that crosses it is drawn again from there (memoryless).
int64_t next_arrival(Source& s, int64_t from) {
  int64_t t = from;
  for (int guard = 0; guard < 24 * 8; ++guard) {
    const int64_t hour_end = (t / hour_ms + 1) * hour_ms;
    const double rate = rate_per_second(s, t);
    if (rate > 0) {
      const double gap_ms = s.draw.exponential() / rate * 1000.0;
      if (t + gap_ms < static_cast<double>(hour_end))
        return std::max<int64_t>(t + 1, t + static_cast<int64_t>(gap_ms));
    }
    t = hour_end;
  }
  return INT64_MAX;  // no traffic at any hour
}

// A visa applicant at an embassy: a single-entry visa for a passport holder.
Command embassy_visa(const Source& s, uint64_t n, Date today) {
  static const char* const surnames[] = {"SMITH",  "MULLER", "DUBOIS", "ROSSI",    "NGUYEN",
                                         "TANAKA", "OKAFOR", "SILVA",  "KOWALSKI", "JOHANSSON"};
  static const char* const given[] = {"JAMES", "ANNA",  "LUCAS", "SOPHIE", "WEI",
                                      "AMARA", "DAVID", "ELENA", "OMAR",   "GRACE"};
  static const char* const states[] = {"USA", "GBR", "DEU", "FRA", "BEL", "CHN", "IND", "JPN"};
  PermitRequest p;
  p.kind = PermitKind::single_entry_visa;
  p.holder.surname = surnames[n % 10];
  p.holder.given_names = given[(n / 10) % 10];
  p.holder.nationality = states[(n / 100) % 8];
  p.holder.birth_date = Date{static_cast<int32_t>((n * 7919) % 15000)};
  p.document.kind = DocumentKind::passport;
  p.document.country = p.holder.nationality;
  p.document.number = "E" + std::to_string(10'000'000 + (n * 104729) % 89'999'999);
  p.document.expiry = Date{today.days + 1500};
  p.valid_from = today;
  p.valid_until = Date{today.days + 90};
  return Command{std::move(p), "consul-" + s.site};
}

// The slower of two link classes: the one with the higher base latency.
const ScenarioLink& slower(const ScenarioLink& a, const ScenarioLink& b) {
  return b.spec.latency_ms > a.spec.latency_ms ? b : a;
}

// --- The run -------------------------------------------------------------------------------

class Runner {
 public:
  Runner(const Scenario& s, const RunOptions& o)
      : s_(s), o_(o), draw_(derive(o.seed, "run", 0)), cluster_(cluster_options()) {
    for (const auto& site : s_.sites)
      if (site.role == VoterRole::voter) voters_.push_back(site.id);
    set_links();
    make_sources();
    schedule_faults();
    schedule_joins();
  }

  RunReport run();

 private:
  SimCluster::Options cluster_options() const;
  void set_links();
  void make_sources();
  void schedule_faults();
  // Sites with `joins`: started at their time, then certified by the certifier (certify()).
  void schedule_joins();
  // Posts a root record certifying each site that joined and is not certified yet, at the
  // certifier; while it is down or its store refuses, again a second later.
  void certify();
  // Posts a root record revoking `site` at the certifier (a revoke fault).
  void revoke(const std::string& site);
  // The sites the final checks leave out as nodes, and the origins left out of convergence.
  std::set<std::string> revoked_sites() const;
  std::set<std::string> ignored_origins() const;
  // Empty when every live node not revoked holds each revoked site's feed up to its cut-off, in
  // its feed and in its ledger (left out of convergence, the feed still counts that far); else
  // the first node and site that fall short.
  std::string revoked_short() const;
  // Every live node applied the scenario's configuration: its voters voting, the rest learners.
  // Empty when so, else the first node that differs and what it has.
  std::string conf_difference() const;
  void draw_faults(std::vector<ScenarioFault>& out);
  void schedule(const ScenarioFault& f);
  void at(int64_t t, std::function<void()> fn) { actions_.emplace(std::make_pair(t, seq_++), fn); }
  void apply_cuts();
  void serve(Source& src);
  void restart_all();
  void check(RunReport& r, std::string name, bool passed, std::string detail = {});
  // In the network: a founding site, or one that has joined.
  bool present(const std::string& site) const {
    const auto& ids = cluster_.sites();
    return std::find(ids.begin(), ids.end(), site) != ids.end();
  }
  bool live(const std::string& site) const { return present(site) && cluster_.live(site); }
  std::vector<std::string> others(const std::vector<std::string>& group) const;
  // The newest record `origin` holds of its own feed, or a note that `fault` found none.
  std::optional<SignedRecord> newest_record(const std::string& origin, const std::string& fault,
                                            int64_t at_ms);

  const Scenario& s_;
  const RunOptions& o_;
  Draw draw_;
  SimCluster cluster_;
  int64_t t0_ = 0;
  int64_t end_ = 0;
  std::vector<std::string> voters_;
  std::vector<Source> sources_;
  std::map<std::pair<std::string, std::string>, LinkSpec> base_links_;
  std::map<std::pair<int64_t, uint64_t>, std::function<void()>> actions_;
  uint64_t seq_ = 0;
  std::map<uint64_t, std::vector<std::pair<std::string, std::string>>> cuts_;  // fault -> cuts
  std::map<std::string, int> disk_full_;                                       // site -> count
  std::set<std::string> liars_;  // origins that equivocated: ignored for convergence
  // Sites HQ revoked, with their cut-offs: left out as nodes (their peers stop talking to them)
  // and, past the cut-off, as origins.
  struct Revoked {
    uint64_t cutoff = 0;
    uint64_t root_seq = 0;  // the SiteRevoked record's seq in the root feed
  };
  std::map<std::string, Revoked> revoked_;
  std::map<std::string, uint64_t> liar_seq_;  // the seq each liar equivocated at (the first)
  std::vector<std::pair<std::string, Hash>> forged_;  // (claimed origin, hash): never stored
  std::vector<FaultEvent> events_;
  std::vector<std::string> notes_;
  uint64_t refused_ = 0;    // commands at a crashed site
  uint64_t submitted_ = 0;  // commands offered to a live site (SimCluster::submit)
  // Where HQ's root key certifies joining sites: the first founding site of kind hq, else the
  // first founding voter. One place, so that root records form one chain.
  std::string certifier_;
  std::map<std::string, SiteEntry> uncertified_;  // joined, certification not yet posted
  bool certify_scheduled_ = false;
};

SimCluster::Options Runner::cluster_options() const {
  SimCluster::Options c;
  for (const auto& site : s_.sites)
    if (!site.joins_ms) c.sites.push_back(SimSite{site.id, site.kind, site.role});
  c.seed = o_.seed;
  c.start_ms = s_.start_ms;
  c.tick_ms = s_.tick_ms;
  c.raft_tick_ms = s_.raft_tick_ms;
  c.election_ticks = s_.election_ticks;
  c.write_ms = (o_.swarm || s_.swarm.enabled) ? swarm_write_ms(o_.seed) : s_.write_ms;
  c.snapshot_entries = o_.snapshot_entries.value_or(s_.snapshot_entries);
  c.snapshot_keep_entries = o_.snapshot_keep_entries.value_or(s_.snapshot_keep_entries);
  const int64_t duration = o_.duration_ms > 0 ? o_.duration_ms : s_.duration_ms;
  // About a hundred points per chart, never finer than a minute.
  c.sample_bucket_ms = std::max<int64_t>(60'000, (duration + s_.settle_ms) / 100 / 60'000 * 60'000);
  // Each node times its link to a peer by the peer's class (SWIM, anti-entropy, bandwidth).
  for (const auto& site : s_.sites)
    if (const ScenarioLink* l = s_.find_link(site.link)) c.links[site.id] = l->swim_class;
  c.link = swim::LinkClass::wan;
  return c;
}

void Runner::set_links() {
  for (const auto& a : s_.sites)
    for (const auto& b : s_.sites) {
      if (a.id == b.id) continue;
      const ScenarioLink* la = s_.find_link(a.link);
      const ScenarioLink* lb = s_.find_link(b.link);
      UMUPAKA_ASSERT(la != nullptr && lb != nullptr);  // the parser checked
      const LinkSpec spec = slower(*la, *lb).spec;
      base_links_[{a.id, b.id}] = spec;
      cluster_.network().set_link(a.id, b.id, spec);
    }
}

void Runner::make_sources() {
  t0_ = cluster_.now_ms();
  end_ = t0_ + (o_.duration_ms > 0 ? o_.duration_ms : s_.duration_ms);
  const double global = o_.traffic_scale > 0 ? o_.traffic_scale : s_.traffic_scale;
  for (const auto& site : s_.sites) {
    if (site.traffic.empty()) continue;
    Source src;
    src.site = site.id;
    src.scale = site.traffic_scale * global;
    src.draw = Draw(derive(o_.seed, "traffic:" + site.id, 0));
    if (site.traffic == embassy_traffic) {
      src.embassy = true;
    } else {
      src.profile = &profile_for(site.traffic, site.kind);
      const double daily = src.profile->crossings_per_day * src.scale;
      const size_t population = static_cast<size_t>(std::clamp(daily / 2, 200.0, 30'000.0));
      src.generator = std::make_unique<TrafficGenerator>(
          *src.profile, derive(o_.seed, "people:" + site.id, 0), population);
    }
    if (src.scale <= 0) continue;
    src.next_ms = next_arrival(src, t0_ + site.joins_ms.value_or(0));
    sources_.push_back(std::move(src));
  }
}

std::vector<std::string> Runner::others(const std::vector<std::string>& group) const {
  std::vector<std::string> out;
  for (const auto& site : s_.sites)
    if (std::find(group.begin(), group.end(), site.id) == group.end()) out.push_back(site.id);
  return out;
}

std::optional<SignedRecord> Runner::newest_record(const std::string& origin,
                                                  const std::string& fault, int64_t at_ms) {
  const uint64_t head = live(origin) ? cluster_.head_seq(origin, origin) : 0;
  if (head == 0) {
    notes_.push_back(fault + " at " + format_duration_ms(at_ms - t0_) + ": " + origin +
                     " has no record of its own yet (or is down)");
    return std::nullopt;
  }
  return cluster_.stored_record(origin, origin, head);
}

void Runner::draw_faults(std::vector<ScenarioFault>& out) {
  const SwarmSpec& w = s_.swarm;
  const int64_t duration = end_ - t0_;
  std::vector<std::string> ids;
  auto pick = [&] { return ids[draw_.below(ids.size())]; };
  for (uint32_t i = 0; i < w.faults; ++i) {
    ScenarioFault f;
    f.kind = w.kinds[draw_.below(w.kinds.size())];
    f.at_ms = draw_.between(0, std::max<int64_t>(0, duration - 1));
    // The sites there when the fault starts.
    ids.clear();
    for (const auto& site : s_.sites)
      if (site.present_at(f.at_ms)) ids.push_back(site.id);
    f.duration_ms = draw_.between(1'000, std::max<int64_t>(1'000, w.max_duration_ms));
    switch (f.kind) {
      case FaultKind::partition:
      case FaultKind::cut_one_way:
      case FaultKind::degrade: {
        // A random group of 1 .. n/2 sites against the rest.
        std::vector<std::string> shuffled = ids;
        for (size_t k = shuffled.size(); k > 1; --k)
          std::swap(shuffled[k - 1], shuffled[draw_.below(k)]);
        const size_t n = 1 + draw_.below(std::max<size_t>(1, ids.size() / 2));
        f.sites.assign(shuffled.begin(), shuffled.begin() + static_cast<ptrdiff_t>(n));
        if (f.kind == FaultKind::degrade) f.link = w.degrade;
        break;
      }
      case FaultKind::clock_skew:
      case FaultKind::clock_jump:
        f.sites = {pick()};
        f.offset_ms = draw_.between(-w.max_offset_ms, w.max_offset_ms);
        if (f.offset_ms == 0) f.offset_ms = 1'000;
        if (f.kind == FaultKind::clock_jump) f.duration_ms = 0;
        break;
      case FaultKind::crash_leader:
        break;
      case FaultKind::forge:
      case FaultKind::equivocate:
      case FaultKind::revoke:
        f.sites = {pick()};
        f.duration_ms = 0;
        break;
      default:
        f.sites = {pick()};
        break;
    }
    out.push_back(std::move(f));
  }
}

void Runner::schedule_faults() {
  std::vector<ScenarioFault> faults = s_.faults;
  if (o_.swarm || s_.swarm.enabled) draw_faults(faults);
  for (const auto& f : faults) schedule(f);
}

void Runner::schedule_joins() {
  for (const auto& site : s_.sites)
    if (!site.joins_ms && certifier_.empty() && site.kind == SiteKind::hq) certifier_ = site.id;
  for (const auto& site : s_.sites)
    if (!site.joins_ms && certifier_.empty() && site.role == VoterRole::voter) certifier_ = site.id;
  UMUPAKA_ASSERT(!certifier_.empty());  // the parser requires a founding voter
  for (const auto& site : s_.sites) {
    if (!site.joins_ms) continue;
    const int64_t t = t0_ + *site.joins_ms;
    at(t, [this, site] {
      uncertified_[site.id] = cluster_.add_site(SimSite{site.id, site.kind, site.role});
      certify();
    });
    events_.push_back(FaultEvent{*site.joins_ms, *site.joins_ms, "join",
                                 site.id + (site.role == VoterRole::voter ? " (voter)" : "")});
  }
}

void Runner::certify() {
  while (!uncertified_.empty() && live(certifier_)) {
    const auto it = uncertified_.begin();
    const Membership& m = cluster_.core(certifier_).membership();
    auto root = make_root_record(cluster_.root_seed(), cluster_.network_id(), m.root_seq(),
                                 m.root_head(), SiteCertified{it->second}, cluster_.now_ms());
    UMUPAKA_ASSERT_MSG(root.ok(), "a root record certifying a joining site");
    auto posted = cluster_.post_membership(certifier_, *root);
    if (!posted.ok() || posted->outcome != IngestOutcome::stored) break;  // e.g. its disk full
    uncertified_.erase(it);
  }
  if (uncertified_.empty() || certify_scheduled_) return;
  certify_scheduled_ = true;
  at(cluster_.now_ms() + 1'000, [this] {
    certify_scheduled_ = false;
    certify();
  });
}

void Runner::revoke(const std::string& site) {
  const std::string when = format_duration_ms(cluster_.now_ms() - t0_);
  if (site == certifier_ || revoked_.count(site) || !present(site) || !live(certifier_)) {
    notes_.push_back("revoke at " + when + ": " + site + " not revoked (" +
                     (site == certifier_     ? "HQ does not revoke itself"
                      : revoked_.count(site) ? "revoked already"
                      : !present(site)       ? "not in the network yet"
                                             : certifier_ + " is down") +
                     ")");
    return;
  }
  const Membership& m = cluster_.core(certifier_).membership();
  // HQ may learn late that the key was stolen: the cut-off goes up to 10 records below what it
  // holds, records the ledger may have committed already (they stand, named by the revocation).
  const uint64_t held = cluster_.head_seq(certifier_, site);
  const uint64_t cutoff = held - draw_.below(std::min<uint64_t>(held, 10) + 1);
  auto root =
      make_root_record(cluster_.root_seed(), cluster_.network_id(), m.root_seq(), m.root_head(),
                       SiteRevoked{site, cutoff, "key compromised"}, cluster_.now_ms());
  UMUPAKA_ASSERT_MSG(root.ok(), "a root record revoking a site");
  auto posted = cluster_.post_membership(certifier_, *root);
  if (!posted.ok() || posted->outcome != IngestOutcome::stored) {
    notes_.push_back("revoke at " + when + ": " + site + " not revoked (" +
                     (posted.ok() ? posted->reason : posted.error().message) + ")");
    return;
  }
  revoked_[site] = Revoked{cutoff, posted->seq};
}

std::set<std::string> Runner::revoked_sites() const {
  std::set<std::string> out;
  for (const auto& [site, rv] : revoked_) out.insert(site);
  return out;
}

std::set<std::string> Runner::ignored_origins() const {
  std::set<std::string> out = liars_;
  for (const auto& [site, rv] : revoked_) out.insert(site);
  return out;
}

std::string Runner::revoked_short() const {
  for (const auto& site : s_.sites) {
    if (!live(site.id) || revoked_.count(site.id)) continue;
    for (const auto& [origin, rv] : revoked_) {
      if (liars_.count(origin)) continue;
      const uint64_t held = cluster_.head_seq(site.id, origin);
      const uint64_t ledger = cluster_.ledger_seq(site.id, origin);
      if (held < rv.cutoff || ledger < rv.cutoff)
        return site.id + " holds " + origin + " to " + std::to_string(held) + ", its ledger to " +
               std::to_string(ledger) + ", cut-off " + std::to_string(rv.cutoff);
    }
  }
  return {};
}

std::string Runner::conf_difference() const {
  std::vector<std::string> voters, learners;
  for (const auto& site : s_.sites)
    if (!revoked_.count(site.id))
      (site.role == VoterRole::voter ? voters : learners).push_back(site.id);
  std::sort(voters.begin(), voters.end());
  std::sort(learners.begin(), learners.end());
  for (const auto& site : s_.sites) {
    if (!live(site.id) || revoked_.count(site.id)) continue;
    const OrderStatus st = cluster_.order_status(site.id);
    if (st.voters != voters || st.learners != learners) {
      std::string d = site.id + " has voters [";
      for (const auto& v : st.voters) d += (d.back() == '[' ? "" : ",") + v;
      d += "], learners [";
      for (const auto& l : st.learners) d += (d.back() == '[' ? "" : ",") + l;
      return d + "]";
    }
  }
  return {};
}

void Runner::apply_cuts() {
  cluster_.network().heal();
  for (const auto& [id, cuts] : cuts_)
    for (const auto& [from, to] : cuts) cluster_.network().cut_one_way(from, to);
}

void Runner::schedule(const ScenarioFault& f) {
  const int64_t start = t0_ + f.at_ms;
  const int64_t stop = std::min(end_, start + f.duration_ms);
  const uint64_t id = seq_;
  std::string who;
  for (const auto& site : f.sites) who += (who.empty() ? "" : ",") + site;
  FaultEvent ev{f.at_ms, stop - t0_, std::string(fault_kind_name(f.kind)), who};
  auto group2 = [this, &f] { return f.group2.empty() ? others(f.sites) : f.group2; };
  switch (f.kind) {
    case FaultKind::partition:
    case FaultKind::cut_one_way:
    case FaultKind::isolate: {
      std::vector<std::pair<std::string, std::string>> cuts;
      const std::vector<std::string> g2 =
          f.kind == FaultKind::isolate ? std::vector<std::string>{} : group2();
      for (const auto& a : f.sites) {
        const std::vector<std::string> rest = f.kind == FaultKind::isolate ? others({a}) : g2;
        for (const auto& b : rest) {
          cuts.emplace_back(a, b);
          if (f.kind != FaultKind::cut_one_way) cuts.emplace_back(b, a);
        }
      }
      if (f.kind != FaultKind::isolate)
        ev.detail = who + " | " + (f.group2.empty() ? "rest" : [&] {
                      std::string g;
                      for (const auto& x : f.group2) g += (g.empty() ? "" : ",") + x;
                      return g;
                    }());
      at(start, [this, id, cuts] {
        cuts_[id] = cuts;
        apply_cuts();
      });
      at(stop, [this, id] {
        cuts_.erase(id);
        apply_cuts();
      });
      break;
    }
    case FaultKind::degrade: {
      const auto g2 = group2();
      at(start, [this, f, g2] {
        for (const auto& a : f.sites)
          for (const auto& b : g2) cluster_.network().set_links(a, b, f.link);
      });
      at(stop, [this, f, g2] {
        for (const auto& a : f.sites)
          for (const auto& b : g2) {
            cluster_.network().set_link(a, b, base_links_.at({a, b}));
            cluster_.network().set_link(b, a, base_links_.at({b, a}));
          }
      });
      break;
    }
    case FaultKind::crash:
    case FaultKind::crash_after_send:
      at(start, [this, f] {
        for (const auto& site : f.sites) {
          if (!live(site)) continue;
          if (f.kind == FaultKind::crash)
            cluster_.crash(site);
          else
            cluster_.crash_after_next_send(site);
        }
      });
      at(stop, [this, f] {
        for (const auto& site : f.sites) {
          if (!live(site))
            cluster_.restart(site);
          else if (f.kind == FaultKind::crash_after_send)
            cluster_.crash_after_next_send(site, false);  // it sent nothing meanwhile: disarmed
        }
      });
      break;
    case FaultKind::crash_leader: {
      auto victim = std::make_shared<std::string>();
      at(start, [this, victim, start] {
        for (const auto& site : voters_)
          if (live(site) && cluster_.order_status(site).role == "leader") *victim = site;
        if (victim->empty()) {
          notes_.push_back("crash-leader at " + format_duration_ms(start - t0_) +
                           ": no leader to crash");
          return;
        }
        cluster_.crash(*victim);
      });
      at(stop, [this, victim] {
        if (!victim->empty() && !live(*victim)) cluster_.restart(*victim);
      });
      ev.detail = "the leader";
      break;
    }
    case FaultKind::pause:
      at(start, [this, f, stop, start] {
        for (const auto& site : f.sites)
          if (live(site)) cluster_.pause(site, stop - start);
      });
      break;
    case FaultKind::clock_skew:
    case FaultKind::clock_jump: {
      const int64_t stop_skew =
          f.kind == FaultKind::clock_skew && f.duration_ms > 0 ? stop : INT64_MAX;
      at(start, [this, f] {
        for (const auto& site : f.sites)
          cluster_.set_clock_offset(site, cluster_.clock_offset(site) + f.offset_ms);
      });
      if (stop_skew != INT64_MAX)
        at(stop_skew, [this, f] {
          for (const auto& site : f.sites)
            cluster_.set_clock_offset(site, cluster_.clock_offset(site) - f.offset_ms);
        });
      else
        ev.to_ms = ev.from_ms;
      ev.detail =
          who + " " + (f.offset_ms > 0 ? "+" : "-") + format_duration_ms(std::abs(f.offset_ms));
      break;
    }
    case FaultKind::disk_full:
      at(start, [this, f] {
        for (const auto& site : f.sites)
          if (disk_full_[site]++ == 0) cluster_.set_disk_full(site, true);
      });
      at(stop, [this, f] {
        for (const auto& site : f.sites)
          if (--disk_full_[site] == 0) cluster_.set_disk_full(site, false);
      });
      break;
    case FaultKind::forge: {
      const auto receivers = group2();
      at(start, [this, f, receivers, start] {
        const std::string& origin = f.sites.front();
        const auto base = newest_record(origin, "forge", start);
        if (!base) return;
        const uint64_t head = cluster_.head_seq(origin, origin);
        SecretSeed wrong{};
        const uint64_t k = derive(o_.seed, "forger", start);
        for (size_t i = 0; i < wrong.size(); ++i)
          wrong[i] = static_cast<uint8_t>(k >> (8 * (i % 8)));
        wrong[31] ^= 0x5a;
        const SignedRecord forged =
            reseal(*base, head + 1, base->hash, 1, SigningKey::from_seed(wrong));
        forged_.emplace_back(origin, forged.hash);
        for (const auto& r : receivers) {
          if (!live(r)) continue;
          // Sent by a member that is neither the claimed origin nor the receiver (the transport
          // names the sender).
          for (const auto& sender : s_.sites)
            if (sender.id != origin && sender.id != r && present(sender.id)) {
              cluster_.inject(sender.id, r, message_of(GossipType::push, {forged}));
              break;
            }
        }
      });
      ev.to_ms = ev.from_ms;
      break;
    }
    case FaultKind::revoke:
      at(start, [this, f] { revoke(f.sites.front()); });
      ev.to_ms = ev.from_ms;
      break;
    case FaultKind::equivocate: {
      at(start, [this, f, start] {
        const std::string& origin = f.sites.front();
        // The origin's newest real record goes out as usual; a second version of the same slot,
        // signed with the origin's key, goes to the second group (as a compromised site would
        // do): two versions, one slot.
        const auto real = newest_record(origin, "equivocate", start);
        if (!real) return;
        const uint64_t head = cluster_.head_seq(origin, origin);
        auto decoded = decode_record(real->encoded);
        UMUPAKA_ASSERT(decoded.ok());
        const SignedRecord other =
            reseal(*real, head, decoded->header.prev_hash, 1, cluster_.signing_key(origin));
        std::vector<std::string> rest = others({origin});
        std::vector<std::string> second = f.group2;
        if (second.empty())
          second.assign(rest.begin() + static_cast<ptrdiff_t>(rest.size() / 2), rest.end());
        for (const auto& r : rest) {
          if (!live(r)) continue;
          const bool gets_other = std::find(second.begin(), second.end(), r) != second.end();
          cluster_.inject(origin, r, message_of(GossipType::push, {gets_other ? other : *real}));
        }
        liars_.insert(origin);
        liar_seq_.emplace(origin, head);
      });
      ev.to_ms = ev.from_ms;
      break;
    }
  }
  events_.push_back(std::move(ev));
}

void Runner::serve(Source& src) {
  const int64_t now = cluster_.now_ms();
  const Date today = date_of_instant_ms(now);
  std::vector<Command> commands;
  if (src.embassy) {
    commands.push_back(embassy_visa(src, src.issued++, today));
  } else {
    for (auto& e : src.generator->next(today))
      commands.push_back(Command{std::move(e.body), "officer-" + src.site});
  }
  for (auto& c : commands) {
    if (!live(src.site)) {
      ++refused_;
      continue;
    }
    // Queued at the site's writer and answered when its batch commits (or lost unanswered if the
    // site crashes first); a paused site or a full queue turns the officer away at once. The
    // cluster counts every outcome.
    ++submitted_;
    (void)cluster_.submit(src.site, c);
  }
  src.next_ms = next_arrival(src, now);
}

void Runner::restart_all() {
  cuts_.clear();
  apply_cuts();
  for (const auto& [pair, spec] : base_links_)
    cluster_.network().set_link(pair.first, pair.second, spec);
  for (auto& [site, count] : disk_full_)
    if (count > 0) {
      count = 0;
      cluster_.set_disk_full(site, false);
    }
  for (const auto& site : s_.sites) {
    if (!present(site.id)) continue;  // joins after the traffic: the parser refuses it
    if (!live(site.id)) cluster_.restart(site.id);
    cluster_.crash_after_next_send(site.id, false);  // one not yet fired: over with the rest
  }
  certify();  // a joined site whose certification waited for the certifier
}

void Runner::check(RunReport& r, std::string name, bool passed, std::string detail) {
  r.checks.push_back(CheckResult{std::move(name), passed, std::move(detail)});
}

RunReport Runner::run() {
  const auto wall_start = std::chrono::steady_clock::now();
  RunReport r;
  r.scenario = s_.name;
  r.seed = o_.seed;
  for (const auto& site : s_.sites) r.sites.push_back(site.id);
  r.voters = voters_;
  r.replay = "umupaka-sim run " + (o_.scenario_path.empty() ? s_.name : o_.scenario_path) +
             " --seed " + std::to_string(o_.seed);
  if (o_.swarm && !s_.swarm.enabled) r.replay += " --swarm";
  if (o_.duration_ms > 0) r.replay += " --duration " + format_duration_ms(o_.duration_ms);
  if (o_.traffic_scale > 0) r.replay += " --traffic-scale " + std::to_string(o_.traffic_scale);
  if (o_.snapshot_entries)
    r.replay += " --snapshot-entries " + std::to_string(*o_.snapshot_entries);
  if (o_.snapshot_keep_entries)
    r.replay += " --snapshot-keep-entries " + std::to_string(*o_.snapshot_keep_entries);

  int64_t next_progress = t0_ + o_.progress_every_ms;
  bool stopped = false;
  while (cluster_.now_ms() < end_) {
    int64_t next = end_;
    if (!actions_.empty()) next = std::min(next, actions_.begin()->first.first);
    for (const auto& src : sources_) next = std::min(next, src.next_ms);
    if (o_.progress) next = std::min(next, next_progress);
    if (next > cluster_.now_ms()) cluster_.run_for(next - cluster_.now_ms());
    if (!cluster_.violations().empty()) {
      stopped = true;
      break;
    }
    while (!actions_.empty() && actions_.begin()->first.first <= cluster_.now_ms()) {
      auto fn = std::move(actions_.begin()->second);
      actions_.erase(actions_.begin());
      fn();
    }
    for (auto& src : sources_)
      while (src.next_ms <= cluster_.now_ms()) serve(src);
    if (o_.progress && cluster_.now_ms() >= next_progress) {
      next_progress += o_.progress_every_ms;
      uint64_t size = 0;
      for (const auto& site : s_.sites)
        if (live(site.id)) size = std::max(size, cluster_.ledger(site.id).size);
      o_.progress("t=" + format_duration_ms(cluster_.now_ms() - t0_) +
                  " records=" + std::to_string(cluster_.acknowledged().size()) +
                  " ledger=" + std::to_string(size));
    }
  }
  // Faults end with the traffic; then the network settles.
  bool settled = false;
  if (!stopped) {
    restart_all();
    // Actions left (the end of faults past the traffic) are moot now.
    actions_.clear();
    // Every node, an equivocator's own included, ends holding every other origin's records and
    // the one ledger.
    const std::set<std::string> sites_out = revoked_sites(), origins_out = ignored_origins();
    settled = cluster_.run_until(s_.settle_ms, 1'000, [&] {
      return cluster_.converged(sites_out, origins_out) &&
             cluster_.ledgers_converged(sites_out, origins_out) && conf_difference().empty() &&
             revoked_short().empty();
    });
    cluster_.verify_stores();
  }

  // --- The checks ---
  const auto& violations = cluster_.violations();
  check(r, "invariants after every step", violations.empty(),
        violations.empty()
            ? std::to_string(cluster_.stats().steps) + " steps"
            : std::to_string(violations.size()) + " violation(s), first: " + violations.front());
  if (!stopped) {
    const std::set<std::string> sites_out = revoked_sites(), origins_out = ignored_origins();
    std::string ignored;
    for (const auto& l : liars_) ignored += (ignored.empty() ? " (but the feed of " : ", ") + l;
    if (!ignored.empty()) ignored += ", who equivocated)";
    for (const auto& [site, rv] : revoked_)
      ignored += " (" + site + ", revoked after seq " + std::to_string(rv.cutoff) +
                 ": its feed past that, and its node)";
    check(r, "every node holds every record" + ignored, cluster_.converged(sites_out, origins_out));
    // No officer left waiting: each command a live site took was answered (recorded or refused)
    // or lost unanswered in a crash.
    const SimClusterStats& cs = cluster_.stats();
    const uint64_t accounted = cs.records_recorded + cs.commands_refused + cs.commands_lost;
    check(r, "every command a live site took was answered or lost in a crash",
          accounted == submitted_,
          std::to_string(submitted_) + " taken, " + std::to_string(cs.records_recorded) +
              " recorded, " + std::to_string(cs.commands_refused) + " refused, " +
              std::to_string(cs.commands_lost) + " lost");
    if (!revoked_.empty()) {
      const std::string short_of = revoked_short();
      check(r, "every node's feed and ledger hold each revoked site's records to its cut-off",
            short_of.empty(), short_of);
    }
    std::string ledgers;
    if (!settled)
      for (const auto& site : s_.sites) {
        if (!live(site.id)) continue;
        const LedgerInfo l = cluster_.ledger(site.id);
        const OrderStatus st = cluster_.order_status(site.id);
        ledgers += "; " + site.id + " " + st.role + " commit " + std::to_string(st.commit) +
                   " applied " + std::to_string(l.applied_index) + " size " +
                   std::to_string(l.size) + " waiting " + std::to_string(st.apply_waiting) +
                   " held " + std::to_string(st.held_appends);
        if (!st.match.empty()) {
          ledgers += " (match";
          for (const auto& [id, m] : st.match) ledgers += " " + id + "=" + std::to_string(m);
          ledgers += ")";
        }
      }
    check(r, "one ledger everywhere, covering every record",
          settled && cluster_.ledgers_converged(sites_out, origins_out),
          settled ? "" : "not settled within " + format_duration_ms(s_.settle_ms) + ledgers);
    const std::string conf = conf_difference();
    check(r, "the scenario's voters and learners in every node's Raft configuration", conf.empty(),
          conf);
    uint64_t missing = 0, checked = 0, liars_checked = 0;
    std::string first;
    for (const auto& site : s_.sites)
      if (!live(site.id)) check(r, site.id + " is up at the end", false);
    // An equivocator's records before its fork are one chain, whichever branch a node saw; the
    // ledger froze its feed where the evidence reached the leader, and a node refuses the
    // quarantined feed's gossip, so what every node must hold of it is what the ledger covers
    // below the fork (fetched for the ledger, kept beside the feed if need be). The ledger's
    // frozen seq is the same at every node (checked above), read at the first live one.
    std::map<std::string, uint64_t> liar_must_hold;
    for (const auto& liar : liars_)
      for (const auto& site : s_.sites)
        if (live(site.id) && !revoked_.count(site.id)) {
          liar_must_hold[liar] =
              std::min(liar_seq_.at(liar) - 1, cluster_.ledger_seq(site.id, liar));
          break;
        }
    for (const auto& a : cluster_.acknowledged()) {
      bool liar = false;
      if (const auto l = liar_must_hold.find(a.origin); l != liar_must_hold.end()) {
        if (a.seq > l->second) continue;
        liar = true;
      } else if (liars_.count(a.origin)) {
        continue;
      }
      if (const auto rv = revoked_.find(a.origin);
          rv != revoked_.end() && a.seq > rv->second.cutoff)
        continue;
      ++checked;
      liars_checked += liar;
      for (const auto& site : s_.sites) {
        if (!live(site.id) || revoked_.count(site.id)) continue;
        const bool held = liar ? cluster_.holds_version(site.id, a.origin, a.seq, a.hash) : [&] {
          const auto sr = cluster_.stored_record(site.id, a.origin, a.seq);
          return sr && sr->hash == a.hash;
        }();
        if (!held && missing++ == 0)
          first = a.origin + "/" + std::to_string(a.seq) + " at " + site.id;
      }
    }
    check(r, "every acknowledged record at every node", missing == 0,
          std::to_string(checked) + " of " + std::to_string(cluster_.acknowledged().size()) +
              " records checked" +
              (liars_.empty() ? ""
                              : " (" + std::to_string(liars_checked) +
                                    " of equivocators, below their fork and in the ledger)") +
              (missing == 0 ? "" : ": " + std::to_string(missing) + " missing, first " + first));
    if (!forged_.empty()) {
      uint64_t stored = 0;
      for (const auto& [origin, hash] : forged_)
        for (const auto& site : s_.sites)
          for (const auto& h :
               live(site.id) ? cluster_.heads(site.id) : std::vector<FrontierEntry>{})
            if (h.origin == origin) {
              for (uint64_t seq = 1; seq <= h.seq; ++seq) {
                const auto sr = cluster_.stored_record(site.id, origin, seq);
                if (sr && sr->hash == hash) ++stored;
              }
            }
      check(r, "forged records stored nowhere", stored == 0,
            std::to_string(forged_.size()) + " forged");
    }
    if (!revoked_.empty() && settled) {
      // What the ledger holds of a revoked site past its cut-off (a leader took it before it
      // heard of the revocation, or HQ set the cut-off below what was committed), judged by its
      // position: before the revocation's it stands (not void; named by the revocation's alert if
      // among the first ledger_revoked_records_named_max), after it it is void
      // (docs/ledger.md, "Revocation in ledger order").
      uint64_t past = 0, stand = 0, void_ = 0, wrong = 0;
      std::string first_wrong;
      for (const auto& site : s_.sites) {
        if (!live(site.id) || revoked_.count(site.id)) continue;
        const std::vector<ConflictAlert> alerts = cluster_.conflicts(site.id);
        for (const auto& [origin, rv] : revoked_) {
          const auto at = cluster_.position_of(site.id, root_origin, rv.root_seq);
          const uint64_t in_ledger = cluster_.ledger_seq(site.id, origin);
          for (uint64_t seq = rv.cutoff + 1; seq <= in_ledger; ++seq) {
            const RecordRef ref{origin, seq};
            const auto p = cluster_.position_of(site.id, origin, seq);
            bool named = false, voided = false;
            for (const auto& a : alerts) {
              if (a.kind != ConflictKind::revoked_site_record) continue;
              voided |= a.record == ref;
              named |= std::find(a.related.begin(), a.related.end(), ref) != a.related.end();
            }
            const bool before = p && at && *p < *at;
            const bool right =
                p && at &&
                (before ? !voided && (named || seq - rv.cutoff > ledger_revoked_records_named_max)
                        : voided && !named);
            ++past;
            stand += before;
            void_ += !before;
            if (!right && wrong++ == 0)
              first_wrong = site.id + ": " + origin + "/" + std::to_string(seq);
          }
        }
      }
      check(r, "records past a revocation cut-off in the ledger stand before it, void after",
            wrong == 0,
            std::to_string(past) + " at the nodes (" + std::to_string(stand) + " stand, " +
                std::to_string(void_) + " void)" +
                (wrong == 0 ? "" : ", first wrong " + first_wrong));
    }
    if (!liars_.empty() || s_.expect_evidence) {
      uint64_t without = 0;
      std::string first_without;
      for (const auto& site : s_.sites)
        for (const auto& liar : liars_) {
          // A revoked liar's records past its cut-off, evidence included, are refused: an
          // equivocation there need not reach every node (one up to the cut-off must).
          const auto rv = revoked_.find(liar);
          if (site.id == liar || !live(site.id) || revoked_.count(site.id) ||
              (rv != revoked_.end() && liar_seq_.at(liar) > rv->second.cutoff))
            continue;
          bool found = false;
          for (const auto& e : cluster_.evidence(site.id)) found |= e.origin == liar;
          if (!found && without++ == 0) first_without = site.id + " has none against " + liar;
          // And the ledger's alert for HQ (its position and words are compared at every step).
          bool alerted = false;
          for (const auto& c : cluster_.conflicts(site.id))
            alerted |= c.kind == ConflictKind::forked_feed && c.subject == liar;
          if (!alerted && without++ == 0)
            first_without = site.id + "'s ledger raised no forked_feed alert against " + liar;
        }
      check(r, "equivocation detected at every node, with a forked_feed alert in its ledger",
            without == 0 && (!s_.expect_evidence || !liars_.empty()),
            liars_.empty() ? "no equivocation took place" : first_without);
    }
  }
  r.violations = violations;

  // --- The figures ---
  r.trace_hex = to_hex(cluster_.trace_hash());
  r.simulated_ms = cluster_.now_ms() - t0_;
  r.records_acknowledged = cluster_.acknowledged().size();
  r.commands_refused = cluster_.stats().commands_refused + refused_;
  r.commands_lost = cluster_.stats().commands_lost;
  for (const auto& site : s_.sites) {
    if (!live(site.id)) continue;
    const LedgerInfo l = cluster_.ledger(site.id);
    r.ledger_size = std::max(r.ledger_size, l.size);
    r.conflicts_raised = std::max(r.conflicts_raised, l.conflicts);
  }
  r.leader_changes = cluster_.stats().leader_changes;
  r.snapshot_installs = cluster_.stats().snapshot_installs;
  r.max_term = cluster_.stats().max_term;
  r.crashes = cluster_.stats().crashes;
  r.write_ms = cluster_options().write_ms;
  r.write_batches = cluster_.stats().write_batches;
  r.mixed_batches = cluster_.stats().mixed_batches;
  r.network = cluster_.network().stats();
  std::sort(events_.begin(), events_.end(),
            [](const FaultEvent& a, const FaultEvent& b) { return a.from_ms < b.from_ms; });
  r.faults = events_;
  for (const auto& n : notes_) r.faults.push_back(FaultEvent{0, 0, "note", n});
  add_latencies(r, cluster_.replication_lag(), cluster_.commit_latency());
  r.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return r;
}

}  // namespace

uint32_t swarm_write_ms(uint64_t seed) {
  static constexpr uint32_t choices[] = {0, 1, 2, 5, 10, 20};
  return choices[derive(seed, "write_ms", 0) % std::size(choices)];
}

Status check_genesis(const Scenario& scenario) {
  std::vector<SimSite> founding;
  for (const auto& site : scenario.sites)
    if (!site.joins_ms) founding.push_back(SimSite{site.id, site.kind, site.role});
  return SimCluster::genesis_fits(founding, SimClusterOptions{}.network_id, scenario.start_ms);
}

RunReport run_scenario(const Scenario& scenario, const RunOptions& options) {
  std::vector<std::string> left_out;
  const Scenario s =
      options.duration_ms > 0 ? cut_to(scenario, options.duration_ms, left_out) : scenario;
  Runner runner(s, options);
  RunReport r = runner.run();
  for (const auto& n : left_out) r.faults.push_back(FaultEvent{0, 0, "note", n});
  return r;
}

SwarmResult run_swarm(const Scenario& scenario, const RunOptions& base, uint64_t first_seed,
                      uint64_t seeds, bool stop_on_failure,
                      const std::function<void(const RunReport&)>& each) {
  SwarmResult out;
  const auto wall_start = std::chrono::steady_clock::now();
  for (uint64_t run = 0; run < seeds; ++run) {  // counted: first_seed + seeds may be 2^64
    const uint64_t seed = first_seed + run;
    RunOptions o = base;
    o.seed = seed;
    o.swarm = true;
    const RunReport r = run_scenario(scenario, o);
    ++out.runs;
    out.simulated_ms += r.simulated_ms;
    if (each) each(r);
    if (!r.passed()) {
      SwarmFailure f;
      f.seed = seed;
      f.replay = r.replay;
      if (!r.violations.empty()) {
        f.first_violation = r.violations.front();
      } else {
        for (const auto& c : r.checks)
          if (!c.passed) {
            f.first_violation = c.name + (c.detail.empty() ? "" : ": " + c.detail);
            break;
          }
      }
      out.failures.push_back(std::move(f));
      if (stop_on_failure) break;
    }
  }
  out.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return out;
}

}  // namespace umupaka::sim

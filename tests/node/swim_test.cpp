// The SWIM failure detector (node/swim.hpp): unit tests of its rules, then whole clusters of
// detectors on a seeded in-memory network (delay, jitter, loss, partitions, one-way cuts, crashes,
// restarts) in simulated milliseconds. Bounds are derived from the Config, never from wall time.
//
// Seeds: each cluster test runs a few seeds, or only UMUPAKA_TEST_SEED when set, and prints the
// seed on failure (SCOPED_TRACE). Re-run with UMUPAKA_TEST_SEED=<seed> to reproduce.
#include "node/swim.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#ifndef MSGPACK_NO_BOOST
#define MSGPACK_NO_BOOST
#endif
#include "ledger/msgpack_visit.hpp"

namespace umupaka::swim {
namespace {

using Event = Detector::Event;

std::vector<uint64_t> test_seeds() {
  if (const char* s = std::getenv("UMUPAKA_TEST_SEED"); s != nullptr && *s != '\0')
    return {std::strtoull(s, nullptr, 10)};
  return {20260310, 7, 42, 1001, 31337};
}

std::string seed_trace(uint64_t seed) {
  return "seed " + std::to_string(seed) +
         " (re-run with UMUPAKA_TEST_SEED=" + std::to_string(seed) + ")";
}

// --- A seeded in-memory network ---------------------------------------------------------------

struct LinkSpec {
  int64_t delay_ms = 1;   // one-way
  int64_t jitter_ms = 0;  // added uniformly in [0, jitter_ms]
  double loss = 0.0;      // probability that one message is lost
};

// Runs detectors in one simulated clock. Each node is ticked every tick_ms; messages arrive after
// their link's delay; everything random comes from the seed, so one seed is one run.
class Network {
 public:
  static constexpr int64_t tick_ms = 10;

  Network(uint64_t seed, std::vector<std::string> sites, Config config = {})
      : rng_state_(seed), seed_(seed), sites_(std::move(sites)), config_(config) {}

  // How `a` classifies its link to `b` and how messages a -> b and b -> a travel. Link classes
  // come from the membership records, so they are set before the nodes start (first run).
  void set_link(const std::string& a, const std::string& b, LinkClass cls, LinkSpec spec) {
    EXPECT_TRUE(nodes_.empty()) << "link classes are fixed when the nodes start";
    class_[{a, b}] = cls;
    class_[{b, a}] = cls;
    spec_[{a, b}] = spec;
    spec_[{b, a}] = spec;
  }
  void set_default(LinkSpec spec) { default_spec_ = spec; }
  // Every pair of sites on one link class and spec.
  void set_all(LinkClass cls, LinkSpec spec) {
    for (const auto& a : sites_)
      for (const auto& b : sites_)
        if (a < b) set_link(a, b, cls, spec);
  }
  // Loss on every message to or from `site`.
  void set_lossy(const std::string& site, double loss) {
    for (const auto& other : sites_) {
      if (other == site) continue;
      spec_[{site, other}] = spec(site, other);
      spec_[{site, other}].loss = loss;
      spec_[{other, site}] = spec(other, site);
      spec_[{other, site}].loss = loss;
    }
  }
  void cut(const std::string& from, const std::string& to) { cuts_.insert({from, to}); }
  void uncut(const std::string& from, const std::string& to) { cuts_.erase({from, to}); }
  // Sites in different groups cannot talk; every site starts in group 0.
  void isolate(const std::string& site) { group_[site] = 1; }
  void heal() { group_.clear(); }

  // The node stops: no ticks, messages to it are lost.
  void crash(const std::string& site) { down_.insert(site); }
  // A new process at the same site: a fresh Detector (new seed), members from the records.
  void restart(const std::string& site) {
    down_.erase(site);
    start(site);
  }

  Detector& node(const std::string& site) {
    start_all();
    return *nodes_.at(site);
  }
  int64_t now() const { return now_ms_; }

  void run_until(int64_t end_ms) {
    start_all();
    for (;;) {
      const int64_t next_message =
          in_flight_.empty() ? end_ms + 1 : in_flight_.begin()->first.first;
      const int64_t t = std::min(next_tick_ms_, next_message);
      if (t > end_ms) break;
      now_ms_ = t;
      if (next_message <= next_tick_ms_) {
        Message m = std::move(in_flight_.begin()->second);
        in_flight_.erase(in_flight_.begin());
        deliver(m);
      } else {
        for (const auto& s : sites_) {
          if (down_.contains(s)) continue;
          nodes_.at(s)->tick(now_ms_);
          flush(s);
        }
        next_tick_ms_ += tick_ms;
      }
    }
    now_ms_ = end_ms;
  }
  void run_for(int64_t ms) { run_until(now_ms_ + ms); }

  struct Logged {
    std::string observer;
    Event event;
    friend bool operator==(const Logged&, const Logged&) = default;
  };
  const std::vector<Logged>& log() const { return log_; }
  // Events about `member` seen at `observer`.
  std::vector<Event> events(const std::string& observer, const std::string& member) const {
    std::vector<Event> out;
    for (const auto& l : log_)
      if (l.observer == observer && l.event.member == member) out.push_back(l.event);
    return out;
  }
  size_t count(const std::string& member, MemberState to) const {
    return static_cast<size_t>(std::count_if(log_.begin(), log_.end(), [&](const Logged& l) {
      return l.event.member == member && l.event.to == to;
    }));
  }
  MemberState state_at(const std::string& observer, const std::string& member) {
    return node(observer).member(member)->state;
  }
  uint64_t incarnation_at(const std::string& observer, const std::string& member) {
    return node(observer).member(member)->incarnation;
  }
  // Every running site holds every other running site alive at its current incarnation.
  bool converged_alive() {
    for (const auto& o : sites_) {
      if (down_.contains(o)) continue;
      for (const auto& m : sites_) {
        if (m == o || down_.contains(m)) continue;
        const auto mm = node(o).member(m);
        if (!mm || mm->state != MemberState::alive) return false;
        if (mm->incarnation != node(m).incarnation()) return false;
      }
    }
    return true;
  }
  uint64_t rejected() const { return rejected_; }
  uint64_t trace_hash() const { return trace_hash_; }
  uint64_t seed() const { return seed_; }

 private:
  uint64_t next_random() {
    uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double unit() { return static_cast<double>(next_random() >> 11) * 0x1.0p-53; }

  LinkClass link_class(const std::string& a, const std::string& b) const {
    auto it = class_.find({a, b});
    return it == class_.end() ? LinkClass::lan : it->second;
  }
  LinkSpec spec(const std::string& a, const std::string& b) const {
    auto it = spec_.find({a, b});
    return it == spec_.end() ? default_spec_ : it->second;
  }

  void start_all() {
    if (nodes_.empty())
      for (const auto& s : sites_) start(s);
  }

  void start(const std::string& site) {
    Config c = config_;
    uint64_t h = 14695981039346656037ULL;  // FNV-1a of the site id: the same in every build
    for (unsigned char ch : site) h = (h ^ ch) * 1099511628211ULL;
    c.seed = seed_ * 1000003 + h + 7919 * boots_[site]++;
    auto d = std::make_unique<Detector>(site, c);
    for (const auto& other : sites_) {
      if (other != site) {
        EXPECT_TRUE(d->add_member(other, link_class(site, other)).ok());
      }
    }
    nodes_[site] = std::move(d);
  }

  void flush(const std::string& site) {
    Detector& d = *nodes_.at(site);
    for (auto& m : d.take_outbox()) send(std::move(m));
    for (auto& e : d.take_events()) log_.push_back(Logged{site, std::move(e)});
  }

  void hash(uint64_t v) {
    trace_hash_ ^= v;
    trace_hash_ *= 1099511628211ULL;
  }
  void hash(const std::string& s) {
    for (unsigned char c : s) hash(uint64_t{c});
    hash(uint64_t{0xff});
  }

  void send(Message m) {
    hash(static_cast<uint64_t>(now_ms_));
    hash(static_cast<uint64_t>(m.type));
    hash(m.from);
    hash(m.to);
    hash(m.seq);
    hash(m.target);
    for (const auto& u : m.updates) {
      hash(u.member);
      hash(static_cast<uint64_t>(u.state));
      hash(u.incarnation);
    }
    if (cuts_.contains({m.from, m.to})) return;
    if (group_[m.from] != group_[m.to]) return;
    const LinkSpec s = spec(m.from, m.to);
    if (s.loss > 0 && unit() < s.loss) return;
    int64_t delay = s.delay_ms;
    if (s.jitter_ms > 0) delay += static_cast<int64_t>(next_random() % uint64_t(s.jitter_ms + 1));
    in_flight_.emplace(std::pair{now_ms_ + delay, order_++}, std::move(m));
  }

  void deliver(const Message& m) {
    if (down_.contains(m.to)) return;
    Detector& d = *nodes_.at(m.to);
    if (!d.on_message(m, now_ms_).ok()) ++rejected_;
    flush(m.to);
  }

  uint64_t rng_state_;
  uint64_t seed_;
  std::vector<std::string> sites_;
  Config config_;
  std::map<std::string, std::unique_ptr<Detector>> nodes_;
  std::map<std::string, uint64_t> boots_;
  std::map<std::pair<std::string, std::string>, LinkClass> class_;
  std::map<std::pair<std::string, std::string>, LinkSpec> spec_;
  LinkSpec default_spec_;
  std::set<std::pair<std::string, std::string>> cuts_;
  std::map<std::string, int> group_;
  std::set<std::string> down_;
  std::map<std::pair<int64_t, uint64_t>, Message> in_flight_;
  uint64_t order_ = 0;
  int64_t now_ms_ = 0;
  int64_t next_tick_ms_ = 0;
  std::vector<Logged> log_;
  uint64_t rejected_ = 0;
  uint64_t trace_hash_ = 14695981039346656037ULL;
};

const std::vector<std::string> kSites = {"gatuna", "hq", "kigali-airport", "rubavu-corniche",
                                         "rusumo"};

// --- Unit tests -------------------------------------------------------------------------------

TEST(SwimNames, EnumNames) {
  EXPECT_EQ(enum_name(LinkClass::lan), "lan");
  EXPECT_EQ(enum_name(LinkClass::wan), "wan");
  EXPECT_EQ(enum_name(LinkClass::satellite), "satellite");
  EXPECT_EQ(enum_name(MemberState::alive), "alive");
  EXPECT_EQ(enum_name(MemberState::suspect), "suspect");
  EXPECT_EQ(enum_name(MemberState::dead), "dead");
  EXPECT_EQ(enum_name(MessageType::ping_req), "ping_req");
  EXPECT_EQ(enum_from_name<LinkClass>("satellite"), LinkClass::satellite);
}

TEST(SwimConfig, DefaultsAreValidAndSlowerLinksGetMoreTime) {
  const Config c;
  EXPECT_TRUE(c.validate().ok());
  EXPECT_LT(c.lan.probe_interval_ms, c.wan.probe_interval_ms);
  EXPECT_LT(c.wan.probe_interval_ms, c.satellite.probe_interval_ms);
  EXPECT_LT(c.lan.suspicion_timeout_ms, c.wan.suspicion_timeout_ms);
  EXPECT_LT(c.wan.suspicion_timeout_ms, c.satellite.suspicion_timeout_ms);
  // A satellite round trip (~600 ms, ~800 with jitter) fits the direct timeout, and a relayed
  // answer (two such round trips) fits what remains of the period after it.
  EXPECT_GT(c.satellite.probe_timeout_ms, 800u);
  EXPECT_GE(c.satellite.probe_interval_ms - c.satellite.probe_timeout_ms, 2 * 800u);
  EXPECT_EQ(&c.timing(LinkClass::wan), &c.wan);
}

TEST(SwimConfig, ValidateRejectsBadValues) {
  struct Case {
    const char* field;
    std::function<void(Config&)> break_it;
  };
  const std::vector<Case> cases = {
      {"lan.probe_interval_ms", [](Config& c) { c.lan.probe_interval_ms = 0; }},
      {"wan.probe_interval_ms", [](Config& c) { c.wan.probe_interval_ms = 3'600'000; }},
      {"wan.probe_timeout_ms", [](Config& c) { c.wan.probe_timeout_ms = 0; }},
      {"satellite.indirect_timeout_ms", [](Config& c) { c.satellite.indirect_timeout_ms = 0; }},
      {"lan.probe_timeout_ms", [](Config& c) { c.lan.probe_timeout_ms = 400; }},
      {"satellite.probe_timeout_ms", [](Config& c) { c.satellite.probe_timeout_ms = 2'500; }},
      {"wan.suspicion_timeout_ms", [](Config& c) { c.wan.suspicion_timeout_ms = 1'000; }},
      {"lan.suspicion_timeout_ms", [](Config& c) { c.lan.suspicion_timeout_ms = 0; }},
      {"satellite.suspicion_timeout_ms",
       [](Config& c) { c.satellite.suspicion_timeout_ms = 4'000'000; }},
      {"indirect_probes", [](Config& c) { c.indirect_probes = 9; }},
      {"piggyback_updates_max", [](Config& c) { c.piggyback_updates_max = 0; }},
      {"piggyback_updates_max", [](Config& c) { c.piggyback_updates_max = 65; }},
      {"retransmit_multiplier", [](Config& c) { c.retransmit_multiplier = 0; }},
      {"retransmit_multiplier", [](Config& c) { c.retransmit_multiplier = 17; }},
  };
  for (const auto& k : cases) {
    Config c;
    k.break_it(c);
    const Status s = c.validate();
    ASSERT_FALSE(s.ok()) << k.field;
    EXPECT_EQ(s.error().code, Errc::invalid_field) << k.field;
    EXPECT_EQ(s.error().field, k.field);
  }
  Config edge;
  edge.indirect_probes = 0;  // direct probing only: allowed
  edge.piggyback_updates_max = piggyback_updates_limit;
  edge.retransmit_multiplier = retransmit_multiplier_max;
  EXPECT_TRUE(edge.validate().ok());
}

TEST(SwimMessage, RoundTripsThroughTheProjectCodec) {
  Message m{MessageType::ping_req,
            "gatuna",
            "hq",
            77,
            "embassy-nairobi",
            {{"embassy-nairobi", MemberState::suspect, 3}, {"rusumo", MemberState::dead, 0}}};
  const std::string bytes = msgpack_visit::encode_struct(m);
  auto back = msgpack_visit::decode_struct<Message>(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, m);

  Message full{MessageType::ack, "a", "b", 1, "a", {}};
  full.updates.assign(piggyback_updates_limit,
                      Update{std::string(64, 'x'), MemberState::dead, ~uint64_t{0}});
  auto full_back = msgpack_visit::decode_struct<Message>(msgpack_visit::encode_struct(full));
  ASSERT_TRUE(full_back.ok()) << full_back.error().message;
  EXPECT_EQ(*full_back, full);
}

TEST(SwimDetector, MembershipErrorsAndLimit) {
  Detector d("hq", Config{});
  EXPECT_TRUE(d.add_member("gatuna", LinkClass::wan).ok());
  EXPECT_EQ(d.add_member("gatuna", LinkClass::lan).error().code, Errc::conflict);
  EXPECT_EQ(d.add_member("hq", LinkClass::lan).error().code, Errc::invalid_field);
  EXPECT_EQ(d.add_member("", LinkClass::lan).error().code, Errc::invalid_field);
  EXPECT_EQ(d.add_member(std::string(65, 'a'), LinkClass::lan).error().code, Errc::invalid_field);
  EXPECT_EQ(d.remove_member("rusumo").error().code, Errc::not_found);
  EXPECT_TRUE(d.remove_member("gatuna").ok());
  EXPECT_FALSE(d.member("gatuna").has_value());

  for (size_t i = 0; i < members_max; ++i)
    ASSERT_TRUE(d.add_member("site-" + std::to_string(i), LinkClass::wan).ok());
  EXPECT_EQ(d.add_member("one-too-many", LinkClass::wan).error().code, Errc::limit_exceeded);
  const auto all = d.members();
  ASSERT_EQ(all.size(), members_max);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(),
                             [](const auto& a, const auto& b) { return a.id < b.id; }));
}

// Drives one detector with no answers at all and returns the targets of its pings.
std::vector<std::string> ping_targets(uint64_t seed, size_t probes) {
  Config c;
  c.seed = seed;
  Detector d("hq", c);
  for (const auto& s : kSites) {
    if (s != "hq") {
      EXPECT_TRUE(d.add_member(s, LinkClass::lan).ok());
    }
  }
  std::vector<std::string> targets;
  for (int64_t t = 0; targets.size() < probes; t += 10) {
    d.tick(t);
    for (const auto& m : d.take_outbox())
      if (m.type == MessageType::ping) targets.push_back(m.to);
  }
  return targets;
}

TEST(SwimDetector, RoundRobinProbesEveryMemberOncePerRoundInASeededShuffle) {
  const auto targets = ping_targets(5, 12);
  std::vector<std::string> others(kSites.begin(), kSites.end());
  std::erase(others, "hq");
  for (size_t round = 0; round < 3; ++round) {
    std::vector<std::string> r(targets.begin() + round * 4, targets.begin() + round * 4 + 4);
    std::sort(r.begin(), r.end());
    EXPECT_EQ(r, others) << "round " << round;
  }
  EXPECT_EQ(ping_targets(5, 12), targets);  // same seed, same order
  bool differs = false;
  for (uint64_t s = 6; s < 12 && !differs; ++s) differs = ping_targets(s, 12) != targets;
  EXPECT_TRUE(differs) << "the shuffle should depend on the seed";
}

Message msg(MessageType type, std::string from, std::string to, uint64_t seq, std::string target,
            std::vector<Update> updates = {}) {
  return Message{type, std::move(from), std::move(to), seq, std::move(target), std::move(updates)};
}

// One detector "hq" with members gatuna and rusumo; updates arrive from rusumo.
struct Single {
  Detector d{"hq", Config{}};
  int64_t now = 0;
  Single() {
    EXPECT_TRUE(d.add_member("gatuna", LinkClass::lan).ok());
    EXPECT_TRUE(d.add_member("rusumo", LinkClass::lan).ok());
  }
  void hear(MemberState state, uint64_t incarnation, std::string member = "gatuna") {
    now += 1;
    const Status s = d.on_message(
        msg(MessageType::ack, "rusumo", "hq", 999, "rusumo", {{member, state, incarnation}}), now);
    EXPECT_TRUE(s.ok()) << s.error().message;
  }
  MemberState state() { return d.member("gatuna")->state; }
  uint64_t inc() { return d.member("gatuna")->incarnation; }
};

TEST(SwimDetector, RemovingAMemberMidProbeForgetsEverythingAboutIt) {
  Detector d("hq", Config{});
  ASSERT_TRUE(d.add_member("gatuna", LinkClass::lan).ok());
  ASSERT_TRUE(d.add_member("rusumo", LinkClass::lan).ok());
  d.tick(0);
  auto out = d.take_outbox();
  ASSERT_EQ(out.size(), 1u);
  const std::string target = out[0].to;
  const std::string other = target == "gatuna" ? "rusumo" : "gatuna";
  // The other member asks us to relay to the target, then the target leaves the membership.
  ASSERT_TRUE(d.on_message(msg(MessageType::ping_req, other, "hq", 9, target), 1).ok());
  ASSERT_TRUE(d.remove_member(target).ok());
  (void)d.take_outbox();
  for (int64_t t = 10; t < 10'000; t += 10) d.tick(t);
  for (const auto& m : d.take_outbox()) {
    EXPECT_EQ(m.to, other);
    EXPECT_NE(m.target, target);
  }
  for (const auto& e : d.take_events()) EXPECT_EQ(e.member, other);  // it never answers
  // Re-added later: a fresh member.
  ASSERT_TRUE(d.add_member(target, LinkClass::wan).ok());
  EXPECT_EQ(d.member(target)->state, MemberState::alive);
  EXPECT_EQ(d.member(target)->link, LinkClass::wan);
  EXPECT_EQ(d.member(target)->state_since_ms, 9'990);
}

TEST(SwimDetector, IncarnationOverrideRules) {
  Single s;
  s.hear(MemberState::suspect, 0);  // suspect(i) overrides alive(j) when i >= j
  EXPECT_EQ(s.state(), MemberState::suspect);
  s.hear(MemberState::alive, 0);  // alive(i) overrides suspect(j) only when i > j
  EXPECT_EQ(s.state(), MemberState::suspect);
  s.hear(MemberState::alive, 1);
  EXPECT_EQ(s.state(), MemberState::alive);
  EXPECT_EQ(s.inc(), 1u);
  s.hear(MemberState::suspect, 0);  // stale
  EXPECT_EQ(s.state(), MemberState::alive);
  s.hear(MemberState::suspect, 1);
  EXPECT_EQ(s.state(), MemberState::suspect);
  s.hear(MemberState::dead, 1);  // dead overrides suspect of the same incarnation
  EXPECT_EQ(s.state(), MemberState::dead);
  s.hear(MemberState::alive, 1);  // the dead stay dead without a higher incarnation
  s.hear(MemberState::suspect, 1);
  EXPECT_EQ(s.state(), MemberState::dead);
  s.hear(MemberState::alive, 2);  // a restarted site rejoins
  EXPECT_EQ(s.state(), MemberState::alive);
  EXPECT_EQ(s.inc(), 2u);
  s.hear(MemberState::dead, 1);  // dead of a lower incarnation is stale
  EXPECT_EQ(s.state(), MemberState::alive);
  s.hear(MemberState::dead, 2);  // dead overrides alive of the same incarnation
  EXPECT_EQ(s.state(), MemberState::dead);

  const auto events = s.d.take_events();
  const std::vector<std::pair<MemberState, MemberState>> expected = {
      {MemberState::alive, MemberState::suspect}, {MemberState::suspect, MemberState::alive},
      {MemberState::alive, MemberState::suspect}, {MemberState::suspect, MemberState::dead},
      {MemberState::dead, MemberState::alive},    {MemberState::alive, MemberState::dead}};
  ASSERT_EQ(events.size(), expected.size());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].member, "gatuna");
    EXPECT_EQ(events[i].from, expected[i].first) << i;
    EXPECT_EQ(events[i].to, expected[i].second) << i;
  }
  EXPECT_EQ(s.d.member("gatuna")->state_since_ms, events.back().at_ms);
  EXPECT_EQ(s.d.member("rusumo")->last_contact_ms, s.now);
  EXPECT_EQ(s.d.member("gatuna")->last_contact_ms, never_ms);  // gossip is not contact
}

TEST(SwimDetector, HearingItselfSuspectedOrDeadRefutesWithAHigherIncarnation) {
  Single s;
  EXPECT_EQ(s.d.incarnation(), 0u);
  s.hear(MemberState::suspect, 0, "hq");
  EXPECT_EQ(s.d.incarnation(), 1u);
  s.hear(MemberState::dead, 4, "hq");
  EXPECT_EQ(s.d.incarnation(), 5u);
  s.hear(MemberState::suspect, 2, "hq");  // stale: repeat the refutation, do not bump
  EXPECT_EQ(s.d.incarnation(), 5u);
  EXPECT_EQ(s.d.stats().refutations, 2u);
  EXPECT_TRUE(s.d.take_events().empty());  // we are not our own member

  // The refutation rides on the very next message.
  s.d.tick(s.now);
  const auto out = s.d.take_outbox();
  ASSERT_FALSE(out.empty());
  const Update refutation{"hq", MemberState::alive, 5};
  for (const auto& m : out)
    EXPECT_NE(std::find(m.updates.begin(), m.updates.end(), refutation), m.updates.end());
}

// An incarnation far above what is known is not believed: a peer claiming "gatuna is dead at
// 2^64-1" (or "you are dead at 2^64-1") would otherwise make the member dead for good, unable
// to refute.
TEST(SwimDetector, AnIncarnationBeyondBeliefIsIgnored) {
  Single s;
  const uint64_t ignored = s.d.stats().updates_ignored;
  s.hear(MemberState::dead, ~uint64_t{0});
  EXPECT_EQ(s.state(), MemberState::alive);
  s.hear(MemberState::dead, ~uint64_t{0}, "hq");
  EXPECT_EQ(s.d.incarnation(), 0u);
  EXPECT_EQ(s.d.stats().updates_ignored, ignored + 2);
  s.hear(MemberState::suspect, incarnation_jump_max);  // within reach: believed
  EXPECT_EQ(s.state(), MemberState::suspect);
  s.hear(MemberState::alive, incarnation_jump_max + 1);  // and refuted by the member
  EXPECT_EQ(s.state(), MemberState::alive);
}

TEST(SwimDetector, UnknownIdsAreIgnored) {
  Single s;
  const auto before = s.d.members();
  s.hear(MemberState::alive, 9, "ghost");
  s.hear(MemberState::dead, 9, "ghost");
  s.hear(MemberState::suspect, 9, "embassy-unknown");
  EXPECT_EQ(s.d.members(), [&] {  // only rusumo's contact time moved
    auto m = before;
    m[1].last_contact_ms = s.now;
    return m;
  }());
  EXPECT_FALSE(s.d.member("ghost").has_value());
  EXPECT_TRUE(s.d.take_events().empty());
  EXPECT_EQ(s.d.stats().updates_ignored, 3u);

  // Nothing about them is disseminated.
  for (int64_t t = s.now; t < s.now + 3000; t += 10) s.d.tick(t);
  for (const auto& m : s.d.take_outbox()) {
    EXPECT_NE(m.to, "ghost");
    for (const auto& u : m.updates) EXPECT_TRUE(u.member == "gatuna" || u.member == "rusumo");
  }

  // Messages from strangers or not for us change nothing and are not answered.
  const int64_t t = s.now + 3000;
  const Status stranger = s.d.on_message(
      msg(MessageType::ping, "ghost", "hq", 1, "hq", {{"gatuna", MemberState::dead, 7}}), t);
  EXPECT_EQ(stranger.error().code, Errc::not_found);
  EXPECT_EQ(s.d.on_message(msg(MessageType::ping, "gatuna", "rusumo", 1, "rusumo"), t).error().code,
            Errc::invalid_field);
  EXPECT_EQ(s.d.on_message(msg(MessageType::ping_req, "gatuna", "hq", 1, "ghost"), t).error().code,
            Errc::not_found);
  EXPECT_NE(s.d.member("gatuna")->state, MemberState::dead);
  EXPECT_TRUE(s.d.take_outbox().empty());
  EXPECT_EQ(s.d.stats().messages_ignored, 3u);
}

TEST(SwimDetector, HelperRelaysAckOrAnswersNack) {
  Detector d("hq", Config{});
  ASSERT_TRUE(d.add_member("gatuna", LinkClass::lan).ok());
  ASSERT_TRUE(d.add_member("rusumo", LinkClass::wan).ok());
  // gatuna asks hq to ping rusumo.
  ASSERT_TRUE(d.on_message(msg(MessageType::ping_req, "gatuna", "hq", 41, "rusumo"), 0).ok());
  auto out = d.take_outbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, MessageType::ping);
  EXPECT_EQ(out[0].to, "rusumo");
  const uint64_t relay_seq = out[0].seq;
  ASSERT_TRUE(d.on_message(msg(MessageType::ack, "rusumo", "hq", relay_seq, "rusumo"), 80).ok());
  out = d.take_outbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, MessageType::ack);
  EXPECT_EQ(out[0].to, "gatuna");
  EXPECT_EQ(out[0].seq, 41u);
  EXPECT_EQ(out[0].target, "rusumo");

  // No answer from rusumo within the WAN indirect timeout: nack to gatuna, once.
  ASSERT_TRUE(d.on_message(msg(MessageType::ping_req, "gatuna", "hq", 42, "rusumo"), 100).ok());
  (void)d.take_outbox();
  d.tick(100 + Config{}.wan.indirect_timeout_ms - 1);
  for (const auto& m : d.take_outbox()) EXPECT_NE(m.type, MessageType::nack);
  d.tick(100 + Config{}.wan.indirect_timeout_ms);
  d.tick(100 + Config{}.wan.indirect_timeout_ms + 10);
  out = d.take_outbox();
  const auto nacks = std::count_if(out.begin(), out.end(), [](const Message& m) {
    return m.type == MessageType::nack && m.to == "gatuna" && m.seq == 42 && m.target == "rusumo";
  });
  EXPECT_EQ(nacks, 1);
}

TEST(SwimDetector, PiggybackIsBoundedNewestFirstAndRetransmitsAreLimited) {
  Config c;
  c.piggyback_updates_max = 3;
  c.retransmit_multiplier = 2;
  Detector d("hq", c);
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back("site-" + std::to_string(i));
  for (const auto& id : ids) ASSERT_TRUE(d.add_member(id, LinkClass::lan).ok());
  // site-0 tells us about site-1..site-5 (suspect), one message each: five queued updates.
  int64_t t = 0;
  for (int i = 1; i <= 5; ++i)
    ASSERT_TRUE(d.on_message(msg(MessageType::ack, "site-0", "hq", 1, "site-0",
                                 {{ids[static_cast<size_t>(i)], MemberState::suspect, 0}}),
                             ++t)
                    .ok());
  (void)d.take_outbox();
  // Answer pings from site-0 and count how often each update goes out.
  std::map<std::string, int> sent;
  std::vector<std::vector<Update>> seen;
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(
        d.on_message(msg(MessageType::ping, "site-0", "hq", 100 + uint64_t(i), "hq"), ++t).ok());
    for (const auto& m : d.take_outbox()) {
      EXPECT_LE(m.updates.size(), 3u);
      for (const auto& u : m.updates) ++sent[u.member];
      seen.push_back(m.updates);
    }
  }
  // n = 7 (six members and us): limit = 2 * ceil(log2(8)) = 6 transmissions each.
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(sent[ids[static_cast<size_t>(i)]], 6) << i;
  ASSERT_FALSE(seen.empty());
  ASSERT_EQ(seen[0].size(), 3u);
  EXPECT_EQ(seen[0][0].member, "site-5");  // newest first
  EXPECT_EQ(seen[0][1].member, "site-4");
  EXPECT_EQ(seen[0][2].member, "site-3");
  EXPECT_TRUE(seen.back().empty());
}

TEST(SwimDetector, TellsTheAccusedEvenAfterGossipDiedDown) {
  Detector d("hq", Config{});
  ASSERT_TRUE(d.add_member("gatuna", LinkClass::lan).ok());
  ASSERT_TRUE(d.add_member("rusumo", LinkClass::lan).ok());
  ASSERT_TRUE(d.on_message(msg(MessageType::ack, "rusumo", "hq", 1, "rusumo",
                               {{"gatuna", MemberState::dead, 3}}),
                           0)
                  .ok());
  for (int i = 0; i < 50; ++i)  // exhaust the dissemination of dead(gatuna, 3)
    ASSERT_TRUE(
        d.on_message(msg(MessageType::ping, "rusumo", "hq", 2 + uint64_t(i), "hq"), 1).ok());
  (void)d.take_outbox();
  // gatuna restarted and pings us: the ack says what we believe about it.
  ASSERT_TRUE(d.on_message(msg(MessageType::ping, "gatuna", "hq", 1, "hq"), 2).ok());
  const auto out = d.take_outbox();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_FALSE(out[0].updates.empty());
  EXPECT_EQ(out[0].updates[0], (Update{"gatuna", MemberState::dead, 3}));
  // Contact alone does not revive; its refutation does.
  EXPECT_EQ(d.member("gatuna")->state, MemberState::dead);
  EXPECT_EQ(d.member("gatuna")->last_contact_ms, 2);
  ASSERT_TRUE(d.on_message(msg(MessageType::ack, "gatuna", "hq", 5, "gatuna",
                               {{"gatuna", MemberState::alive, 4}}),
                           3)
                  .ok());
  EXPECT_EQ(d.member("gatuna")->state, MemberState::alive);
  EXPECT_EQ(d.member("gatuna")->incarnation, 4u);
}

// --- Cluster tests ----------------------------------------------------------------------------

TEST(SwimCluster, NoLossEveryoneStaysAliveWithoutSuspicion) {
  for (uint64_t seed : test_seeds()) {
    SCOPED_TRACE(seed_trace(seed));
    Network net(seed, kSites);
    net.set_default(LinkSpec{2, 3, 0.0});
    net.run_until(120'000);
    EXPECT_TRUE(net.log().empty())
        << net.log().size() << " state changes, first about " << net.log().front().event.member;
    EXPECT_TRUE(net.converged_alive());
    EXPECT_EQ(net.rejected(), 0u);
    for (const auto& s : kSites) {
      EXPECT_EQ(net.node(s).incarnation(), 0u);
      EXPECT_EQ(net.node(s).local_health(), 0u);
      EXPECT_GT(net.node(s).stats().probes_started, 120'000u / Config{}.lan.probe_interval_ms / 2);
      for (const auto& m : net.node(s).members()) EXPECT_GE(m.last_contact_ms, 110'000);
    }
  }
}

// A crash is detected by every other node within a bound that follows from the config: each node
// probes every member once per round of (n - 1) probes, so the crashed one is probed at most
// 2(n - 1) - 1 periods after the crash; the probe ends a period later (suspect); the suspicion
// expires after suspicion_timeout (dead). Every timer may run late by one tick.
TEST(SwimCluster, CrashedMemberBecomesSuspectThenDeadEverywhereWithinBound) {
  for (const LinkClass cls : {LinkClass::lan, LinkClass::wan}) {
    for (uint64_t seed : test_seeds()) {
      SCOPED_TRACE(seed_trace(seed) + " link " + std::string(enum_name(cls)));
      const Config config;
      Network net(seed, kSites, config);
      const LinkSpec link{cls == LinkClass::lan ? 1 : 40, 20, 0.0};
      net.set_all(cls, link);
      const int64_t max_delay_ms = link.delay_ms + link.jitter_ms;
      net.run_until(20'000);
      const int64_t crash_ms = net.now();
      net.crash("rusumo");
      const Timing& t = config.timing(cls);
      const int64_t period_ms = t.probe_interval_ms + Network::tick_ms;
      const int64_t n = static_cast<int64_t>(kSites.size());
      const int64_t suspect_bound_ms = crash_ms + 2 * (n - 1) * period_ms;
      const int64_t dead_bound_ms = suspect_bound_ms + t.suspicion_timeout_ms + Network::tick_ms;
      net.run_until(dead_bound_ms + 60'000);
      for (const auto& o : kSites) {
        if (o == "rusumo") continue;
        SCOPED_TRACE("observer " + o);
        const auto ev = net.events(o, "rusumo");
        ASSERT_EQ(ev.size(), 2u);
        EXPECT_EQ(ev[0].from, MemberState::alive);
        EXPECT_EQ(ev[0].to, MemberState::suspect);
        EXPECT_EQ(ev[1].to, MemberState::dead);
        EXPECT_GT(ev[0].at_ms, crash_ms);
        EXPECT_LE(ev[0].at_ms, suspect_bound_ms);
        EXPECT_LE(ev[1].at_ms, dead_bound_ms);
        EXPECT_GE(ev[1].at_ms - ev[0].at_ms, 0);
        EXPECT_EQ(net.state_at(o, "rusumo"), MemberState::dead);
        // Messages already on the wire at the crash still arrive.
        EXPECT_LE(net.node(o).member("rusumo")->last_contact_ms, crash_ms + max_delay_ms);
        EXPECT_EQ(net.node(o).local_health(), 0u);
      }
      // Nobody else was ever suspected.
      EXPECT_EQ(net.log().size(), 2 * (kSites.size() - 1));
    }
  }
}

// A border post on a bad national link (WAN class: 10 s to refute). On LAN timings (3 s) a
// 30%-lossy node loses all of its refutations for a whole suspicion timeout about once in five
// simulated hours (six losses in a row), which is what the longer WAN timeout is for.
constexpr LinkClass kLossyClass = LinkClass::wan;

TEST(SwimCluster, LossyMemberIsNotDeclaredDeadThanksToIndirectProbes) {
  for (uint64_t seed : test_seeds()) {
    SCOPED_TRACE(seed_trace(seed));
    // 30% of the messages to and from gatuna are lost, for ten simulated minutes.
    Network net(seed, kSites);
    net.set_all(kLossyClass, LinkSpec{20, 10, 0.0});
    net.set_lossy("gatuna", 0.30);
    net.run_until(600'000);
    // Nobody declares gatuna dead, and the healthy sites never declare anyone dead. (gatuna's
    // own view may flap: it can miss a refutation for a whole suspicion timeout.)
    EXPECT_EQ(net.count("gatuna", MemberState::dead), 0u);
    for (const auto& l : net.log())
      EXPECT_TRUE(l.observer == "gatuna" || l.event.to != MemberState::dead)
          << l.observer << " declared " << l.event.member << " dead at " << l.event.at_ms;
    for (const auto& o : kSites) {
      if (o != "gatuna") {
        EXPECT_NE(net.state_at(o, "gatuna"), MemberState::dead) << o;
      }
    }

    // Only probes of gatuna can fail at the other sites. A direct probe fails with probability
    // 1 - 0.7^2 = 51%; with three helpers each relayed path also survives with 0.49, so a probe
    // fails with 0.51 * 0.51^3 = 7%. Without helpers the same link fails probes far more often.
    auto failed_probes_of_gatuna = [](Network& n) {
      uint64_t failed = 0;
      for (const auto& s : kSites)
        if (s != "gatuna") failed += n.node(s).stats().probes_failed;
      return failed;
    };
    Config direct_only;
    direct_only.indirect_probes = 0;
    Network bare(seed, kSites, direct_only);
    bare.set_all(kLossyClass, LinkSpec{20, 10, 0.0});
    bare.set_lossy("gatuna", 0.30);
    bare.run_until(600'000);
    const uint64_t with_helpers = failed_probes_of_gatuna(net);
    const uint64_t without = failed_probes_of_gatuna(bare);
    EXPECT_GT(without, 4 * with_helpers) << "with helpers " << with_helpers;
    EXPECT_GT(bare.count("gatuna", MemberState::suspect),
              net.count("gatuna", MemberState::suspect));
  }
}

TEST(SwimCluster, OneWayCutIsBridgedByHelpers) {
  for (uint64_t seed : test_seeds()) {
    SCOPED_TRACE(seed_trace(seed));
    Network net(seed, kSites);
    net.set_default(LinkSpec{5, 5, 0.0});
    net.cut("hq", "rusumo");  // hq's packets never reach rusumo; the other way works
    net.run_until(300'000);
    EXPECT_TRUE(net.log().empty()) << net.log().size() << " state changes";
    EXPECT_GT(net.node("hq").stats().probes_started, 0u);
  }
}

TEST(SwimCluster, ShortPartitionIsSuspectedThenRefuted) {
  for (uint64_t seed : test_seeds()) {
    SCOPED_TRACE(seed_trace(seed));
    Config c;
    Network net(seed, kSites, c);
    net.set_all(LinkClass::wan, LinkSpec{30, 20, 0.0});
    net.run_until(10'000);
    net.isolate("rubavu-corniche");
    // Heal one period after the first suspicion, well within the suspicion timeout.
    while (net.count("rubavu-corniche", MemberState::suspect) == 0 && net.now() < 60'000)
      net.run_for(Network::tick_ms);
    net.run_for(c.wan.probe_interval_ms);
    net.heal();
    net.run_for(c.wan.suspicion_timeout_ms * 2);
    EXPECT_GE(net.count("rubavu-corniche", MemberState::suspect), 1u);
    EXPECT_EQ(net.count("rubavu-corniche", MemberState::dead), 0u);
    EXPECT_GE(net.node("rubavu-corniche").incarnation(), 1u);
    EXPECT_TRUE(net.converged_alive());
    for (const auto& o : kSites) {
      if (o != "rubavu-corniche") {
        EXPECT_EQ(net.incarnation_at(o, "rubavu-corniche"),
                  net.node("rubavu-corniche").incarnation());
      }
    }
  }
}

TEST(SwimCluster, LongPartitionIsDeclaredDeadThenRejoinsWithHigherIncarnation) {
  for (uint64_t seed : test_seeds()) {
    SCOPED_TRACE(seed_trace(seed));
    Network net(seed, kSites);
    net.set_default(LinkSpec{2, 3, 0.0});
    net.run_until(5'000);
    net.isolate("gatuna");
    net.run_for(60'000);
    for (const auto& o : kSites) {
      if (o == "gatuna") continue;
      EXPECT_EQ(net.state_at(o, "gatuna"), MemberState::dead) << o;
      EXPECT_EQ(net.state_at("gatuna", o), MemberState::dead) << o;  // it thinks the same of us
    }
    // Lifeguard: the isolated node saw no nacks and slowed down.
    EXPECT_GT(net.node("gatuna").local_health(), 0u);
    net.heal();
    net.run_for(60'000);
    EXPECT_TRUE(net.converged_alive());
    EXPECT_GE(net.node("gatuna").incarnation(), 1u);
    for (const auto& o : kSites) {
      if (o == "gatuna") continue;
      const auto ev = net.events(o, "gatuna");
      ASSERT_GE(ev.size(), 3u) << o;
      EXPECT_EQ(ev.back().to, MemberState::alive) << o;
    }
    EXPECT_EQ(net.rejected(), 0u);
  }
}

TEST(SwimCluster, RestartedMemberComesBackAlive) {
  for (uint64_t seed : test_seeds()) {
    SCOPED_TRACE(seed_trace(seed));
    Network net(seed, kSites);
    net.set_default(LinkSpec{2, 3, 0.0});
    net.run_until(5'000);
    net.crash("kigali-airport");
    net.run_for(30'000);
    uint64_t dead_incarnation = 0;
    for (const auto& o : kSites) {
      if (o == "kigali-airport") continue;
      ASSERT_EQ(net.state_at(o, "kigali-airport"), MemberState::dead) << o;
      dead_incarnation = std::max(dead_incarnation, net.incarnation_at(o, "kigali-airport"));
    }
    net.restart("kigali-airport");  // a new process: incarnation 0, everyone alive at 0
    EXPECT_EQ(net.node("kigali-airport").incarnation(), 0u);
    // It learns of its death at its first exchange and refutes within a few LAN periods.
    net.run_for(10'000);
    EXPECT_TRUE(net.converged_alive());
    EXPECT_GT(net.node("kigali-airport").incarnation(), dead_incarnation);
    for (const auto& o : kSites) {
      if (o == "kigali-airport") continue;
      const auto ev = net.events(o, "kigali-airport");
      ASSERT_FALSE(ev.empty());
      EXPECT_EQ(ev.back().from, MemberState::dead) << o;
      EXPECT_EQ(ev.back().to, MemberState::alive) << o;
    }
  }
}

// An embassy behind VSAT: ~600 ms round trip (300 ms each way, up to 100 ms jitter), classified
// satellite at both ends, national WAN elsewhere.
void satellite_setup(Network& net, LinkClass embassy_class) {
  net.set_all(LinkClass::wan, LinkSpec{20, 10, 0.0});
  for (const auto& a : kSites)
    if (a != "embassy-nairobi")
      net.set_link(a, "embassy-nairobi", embassy_class, LinkSpec{300, 100, 0.0});
}

TEST(SwimCluster, SatelliteRoundTripIsNotSuspected) {
  std::vector<std::string> sites = kSites;
  sites.push_back("embassy-nairobi");
  for (uint64_t seed : test_seeds()) {
    SCOPED_TRACE(seed_trace(seed));
    Network net(seed, sites);
    satellite_setup(net, LinkClass::satellite);
    net.run_until(600'000);
    EXPECT_TRUE(net.log().empty()) << net.log().size() << " state changes";
    EXPECT_TRUE(net.converged_alive());
    EXPECT_GT(net.node("embassy-nairobi").stats().probes_started, 100u);
    EXPECT_EQ(net.node("embassy-nairobi").stats().probes_failed, 0u);

    // The same link misclassified as LAN (a 500 ms period, shorter than the round trip) is
    // suspected again and again: the timings of the link class are what make it work.
    Network wrong(seed, sites);
    satellite_setup(wrong, LinkClass::lan);
    wrong.run_until(600'000);
    EXPECT_GT(wrong.count("embassy-nairobi", MemberState::suspect), 10u);
  }
}

TEST(SwimCluster, SameSeedSameRun) {
  auto run = [](uint64_t seed) {
    Network net(seed, kSites);
    net.set_default(LinkSpec{5, 20, 0.10});
    net.set_lossy("rusumo", 0.4);
    net.run_until(30'000);
    net.crash("hq");
    net.cut("gatuna", "kigali-airport");
    net.run_for(30'000);
    net.restart("hq");
    net.run_for(30'000);
    return std::pair{net.log(), net.trace_hash()};
  };
  for (uint64_t seed : test_seeds()) {
    SCOPED_TRACE(seed_trace(seed));
    const auto a = run(seed);
    const auto b = run(seed);
    EXPECT_FALSE(a.first.empty());
    EXPECT_EQ(a.first, b.first);
    EXPECT_EQ(a.second, b.second);
    EXPECT_NE(run(seed + 1).second, a.second);
  }
}

}  // namespace
}  // namespace umupaka::swim

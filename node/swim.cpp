#include "node/swim.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <limits>
#include <utility>

#include "ledger/assert.hpp"

namespace umupaka::swim {

namespace {

// Precedence at equal incarnation: alive < suspect < dead (the enumerator order).
constexpr uint8_t rank(MemberState s) { return static_cast<uint8_t>(s); }
static_assert(rank(MemberState::alive) < rank(MemberState::suspect));
static_assert(rank(MemberState::suspect) < rank(MemberState::dead));

// The SWIM/Lifeguard override rules as one total order on (incarnation, state): a newer
// incarnation always wins; at equal incarnation dead beats suspect beats alive. Hence
// alive(i) overrides suspect(j) iff i > j, suspect(i) overrides alive(j) iff i >= j, dead(i)
// overrides alive/suspect(j) iff i >= j, and only a higher incarnation revives the dead.
bool supersedes(uint64_t incarnation, MemberState state, uint64_t current_incarnation,
                MemberState current_state) {
  if (incarnation != current_incarnation) return incarnation > current_incarnation;
  return rank(state) > rank(current_state);
}

bool valid_id(const std::string& id) { return !id.empty() && id.size() <= limits::id_bytes_max; }

bool valid_state(MemberState s) { return rank(s) <= rank(MemberState::dead); }

bool valid_type(MessageType t) {
  return static_cast<uint8_t>(t) <= static_cast<uint8_t>(MessageType::nack);
}

// ceil(log2(x)) for x >= 1.
uint32_t ceil_log2(uint64_t x) { return x <= 1 ? 0 : static_cast<uint32_t>(std::bit_width(x - 1)); }

Status invalid(std::string field, std::string message) {
  return make_error(Errc::invalid_field, std::move(message), std::move(field));
}

Status validate_timing(const Timing& t, const std::string& name) {
  if (t.probe_interval_ms == 0 || t.probe_interval_ms > probe_interval_ms_max)
    return invalid(name + ".probe_interval_ms", "must be in 1..600000 ms");
  if (t.probe_timeout_ms == 0) return invalid(name + ".probe_timeout_ms", "must be positive");
  if (t.indirect_timeout_ms == 0) return invalid(name + ".indirect_timeout_ms", "must be positive");
  if (uint64_t{t.probe_timeout_ms} + t.indirect_timeout_ms >= t.probe_interval_ms)
    return invalid(name + ".probe_timeout_ms",
                   "probe_timeout_ms + indirect_timeout_ms must be below probe_interval_ms");
  if (t.suspicion_timeout_ms > suspicion_timeout_ms_max)
    return invalid(name + ".suspicion_timeout_ms", "must be at most 3600000 ms");
  if (uint64_t{t.suspicion_timeout_ms} < uint64_t{suspicion_periods_min} * t.probe_interval_ms)
    return invalid(name + ".suspicion_timeout_ms",
                   "must be at least 2 probe intervals, for the suspect to refute");
  return {};
}

}  // namespace

// --- Config ----------------------------------------------------------------------------------

const Timing& Config::timing(LinkClass link) const {
  switch (link) {
    case LinkClass::lan:
      return lan;
    case LinkClass::wan:
      return wan;
    case LinkClass::satellite:
      return satellite;
  }
  UMUPAKA_ASSERT_MSG(false, "unknown link class");
}

Status Config::validate() const {
  RETURN_IF_ERROR(validate_timing(lan, "lan"));
  RETURN_IF_ERROR(validate_timing(wan, "wan"));
  RETURN_IF_ERROR(validate_timing(satellite, "satellite"));
  if (indirect_probes > indirect_probes_max) return invalid("indirect_probes", "must be at most 8");
  if (piggyback_updates_max == 0 || piggyback_updates_max > piggyback_updates_limit)
    return invalid("piggyback_updates_max", "must be in 1..64");
  if (retransmit_multiplier == 0 || retransmit_multiplier > retransmit_multiplier_max)
    return invalid("retransmit_multiplier", "must be in 1..16");
  return {};
}

// --- Detector: membership and queries --------------------------------------------------------

Detector::Detector(std::string self, Config config)
    : self_(std::move(self)), config_(config), rng_state_(config.seed) {
  UMUPAKA_ASSERT_MSG(valid_id(self_), "self id must be 1..id_bytes_max bytes");
  UMUPAKA_ASSERT_MSG(config_.validate().ok(), "Config::validate() must pass");
}

Status Detector::add_member(const std::string& id, LinkClass link) {
  if (!valid_id(id)) return invalid("id", "member id must be 1..64 bytes");
  if (id == self_) return invalid("id", "a node is not its own member");
  if (static_cast<uint8_t>(link) > static_cast<uint8_t>(LinkClass::satellite))
    return invalid("link", "unknown link class");
  if (members_.contains(id)) return make_error(Errc::conflict, "already a member: " + id, "id");
  if (members_.size() >= members_max)
    return make_error(Errc::limit_exceeded, "members_max (1024) reached", "id");
  Entry e;
  e.link = link;
  e.state_since_ms = now_ms_ == never_ms ? 0 : now_ms_;
  members_.emplace(id, e);
  // Probe it within the current round, at a random place among the members still to come.
  UMUPAKA_ASSERT(probe_index_ <= probe_order_.size());
  const size_t remaining = probe_order_.size() - probe_index_;
  const size_t pos = probe_index_ + static_cast<size_t>(uniform(remaining + 1));
  probe_order_.insert(probe_order_.begin() + static_cast<std::ptrdiff_t>(pos), id);
  UMUPAKA_ASSERT(members_.size() <= members_max);
  return {};
}

Status Detector::remove_member(const std::string& id) {
  auto it = members_.find(id);
  if (it == members_.end()) return make_error(Errc::not_found, "not a member: " + id, "id");
  members_.erase(it);
  auto pos = std::find(probe_order_.begin(), probe_order_.end(), id);
  if (pos != probe_order_.end()) {
    const auto index = static_cast<size_t>(pos - probe_order_.begin());
    probe_order_.erase(pos);
    if (index < probe_index_) --probe_index_;
  }
  broadcasts_.erase(id);
  if (probe_ && probe_->target == id) probe_.reset();  // the next probe starts on schedule
  std::erase_if(
      relays_, [&](const auto& kv) { return kv.second.requester == id || kv.second.target == id; });
  UMUPAKA_ASSERT(probe_index_ <= probe_order_.size());
  UMUPAKA_ASSERT(!members_.contains(id));
  return {};
}

std::vector<Detector::Member> Detector::members() const {
  std::vector<Member> out;
  out.reserve(members_.size());
  for (const auto& [id, e] : members_)
    out.push_back(Member{id, e.link, e.state, e.incarnation, e.last_contact_ms, e.state_since_ms});
  return out;
}

std::optional<Detector::Member> Detector::member(const std::string& id) const {
  auto it = members_.find(id);
  if (it == members_.end()) return std::nullopt;
  const Entry& e = it->second;
  return Member{id, e.link, e.state, e.incarnation, e.last_contact_ms, e.state_since_ms};
}

std::optional<MemberState> Detector::state_of(const std::string& id) const {
  auto it = members_.find(id);
  if (it == members_.end()) return std::nullopt;
  return it->second.state;
}

std::vector<Message> Detector::take_outbox() { return std::exchange(outbox_, {}); }

std::vector<Detector::Event> Detector::take_events() { return std::exchange(events_, {}); }

// --- Detector: input -------------------------------------------------------------------------

void Detector::advance_time(int64_t now_ms) {
  UMUPAKA_ASSERT_MSG(now_ms >= now_ms_, "time must not go backwards");
  now_ms_ = now_ms;
}

Status Detector::on_message(const Message& m, int64_t now_ms) {
  advance_time(now_ms);
  // Validate everything before changing anything.
  Status valid = [&]() -> Status {
    if (m.to != self_) return invalid("to", "not addressed to this node");
    if (m.from == self_) return invalid("from", "message from ourselves");
    if (!valid_id(m.from)) return invalid("from", "bad member id");
    if (!valid_type(m.type)) return invalid("type", "unknown message type");
    if (!members_.contains(m.from))
      return make_error(Errc::not_found, "sender is not a member: " + m.from, "from");
    if (m.updates.size() > piggyback_updates_limit)
      return make_error(Errc::limit_exceeded, "more than 64 updates", "updates");
    for (const Update& u : m.updates) {
      if (!valid_id(u.member)) return invalid("updates.member", "bad member id");
      if (!valid_state(u.state)) return invalid("updates.state", "unknown state");
    }
    switch (m.type) {
      case MessageType::ping:
        if (m.target != self_) return invalid("target", "a ping's target is its receiver");
        break;
      case MessageType::ping_req:
        if (m.target == self_ || m.target == m.from)
          return invalid("target", "ping_req target must be a third member");
        if (!members_.contains(m.target))
          return make_error(Errc::not_found, "ping_req target is not a member: " + m.target,
                            "target");
        if (relays_.size() >= relays_pending_max) {
          ++stats_.relays_refused;
          return make_error(Errc::limit_exceeded, "relays_pending_max (256) reached", "target");
        }
        break;
      case MessageType::ack:
      case MessageType::nack:
        if (!valid_id(m.target)) return invalid("target", "bad member id");
        break;
    }
    return {};
  }();
  if (!valid.ok()) {
    ++stats_.messages_ignored;
    return valid;
  }

  members_.at(m.from).last_contact_ms = now_ms;
  for (const Update& u : m.updates) apply_update(u, now_ms);

  switch (m.type) {
    case MessageType::ping:
      send(MessageType::ack, m.from, m.seq, self_);
      break;
    case MessageType::ack: {
      if (probe_ && m.seq == probe_->seq && m.target == probe_->target) {
        const bool from_helper = std::find(probe_->helpers.begin(), probe_->helpers.end(),
                                           m.from) != probe_->helpers.end();
        if (m.from == probe_->target || from_helper) probe_->acked = true;
      }
      auto r = relays_.find(m.seq);
      if (r != relays_.end() && r->second.target == m.from && m.target == m.from) {
        const Relay relay = r->second;
        relays_.erase(r);
        send(MessageType::ack, relay.requester, relay.requester_seq, relay.target);
      }
      break;
    }
    case MessageType::ping_req: {
      const uint64_t seq = ++seq_;
      const Timing& t = config_.timing(members_.at(m.target).link);
      relays_[seq] = Relay{m.from, m.seq, m.target, now_ms + int64_t{t.indirect_timeout_ms}};
      UMUPAKA_ASSERT(relays_.size() <= relays_pending_max);
      send(MessageType::ping, m.target, seq, m.target);
      break;
    }
    case MessageType::nack: {
      if (probe_ && m.seq == probe_->seq && m.target == probe_->target) {
        for (size_t i = 0; i < probe_->helpers.size(); ++i) {
          if (probe_->helpers[i] == m.from && !probe_->nacked[i]) {
            probe_->nacked[i] = true;
            ++stats_.nacks_received;
          }
        }
      }
      break;
    }
  }
  return {};
}

void Detector::apply_update(const Update& u, int64_t now_ms) {
  if (u.member == self_) {
    // Only this node raises its own incarnation; an accusation far above it is a lie (a faulty
    // or hostile peer) that would take every refutation with it (at 2^64-1 none is possible).
    if (u.incarnation > incarnation_ && u.incarnation - incarnation_ > incarnation_jump_max) {
      ++stats_.updates_ignored;
      return;
    }
    if (u.state != MemberState::alive) refute(u.incarnation);
    return;  // an alive about us tells us nothing we need
  }
  auto it = members_.find(u.member);
  if (it == members_.end()) {
    ++stats_.updates_ignored;  // membership comes from signed records, never from gossip
    return;
  }
  Entry& e = it->second;
  // Incarnations move by one per refutation: a jump far beyond what we know is not the member's
  // (and at 2^64-1 it could never refute a "dead").
  if (u.incarnation > e.incarnation && u.incarnation - e.incarnation > incarnation_jump_max) {
    ++stats_.updates_ignored;
    return;
  }
  if (!supersedes(u.incarnation, u.state, e.incarnation, e.state)) return;
  set_state(u.member, e, u.state, u.incarnation, now_ms);
  enqueue_broadcast(u);
}

void Detector::refute(uint64_t accused_incarnation) {
  if (accused_incarnation >= incarnation_) {
    if (accused_incarnation == std::numeric_limits<uint64_t>::max()) return;  // cannot outbid
    incarnation_ = accused_incarnation + 1;
    ++stats_.refutations;
    local_health_ = std::min(local_health_ + 1, local_health_multiplier_max - 1);
  }
  // A stale accusation (someone missed our earlier refutation): repeat the current one.
  enqueue_broadcast(Update{self_, MemberState::alive, incarnation_});
  UMUPAKA_ASSERT(incarnation_ > accused_incarnation);
}

void Detector::set_state(const std::string& id, Entry& e, MemberState state, uint64_t incarnation,
                         int64_t now_ms) {
  UMUPAKA_ASSERT(supersedes(incarnation, state, e.incarnation, e.state));
  const MemberState from = e.state;
  e.incarnation = incarnation;
  if (state == MemberState::suspect) {
    e.suspicion_deadline_ms = now_ms + int64_t{config_.timing(e.link).suspicion_timeout_ms};
    next_suspicion_deadline_ms_ = std::min(next_suspicion_deadline_ms_, e.suspicion_deadline_ms);
  }
  if (state != from) {
    e.state = state;
    e.state_since_ms = now_ms;
    emit_event(Event{id, from, state, now_ms});
  }
}

void Detector::emit_event(Event e) {
  if (events_.size() >= events_queued_max) {
    ++stats_.events_dropped;
    return;
  }
  events_.push_back(std::move(e));
}

// --- Detector: dissemination -----------------------------------------------------------------

void Detector::enqueue_broadcast(Update u) {
  std::string key = u.member;
  broadcasts_[std::move(key)] = Broadcast{std::move(u), 0, ++broadcast_order_};
  UMUPAKA_ASSERT(broadcasts_.size() <= updates_queued_max);
}

uint32_t Detector::retransmit_limit() const {
  const uint64_t n = members_.size() + 1;  // the cluster, this node included
  const uint32_t limit = config_.retransmit_multiplier * ceil_log2(n + 1);
  UMUPAKA_ASSERT(limit >= 1);
  return limit;
}

std::vector<Update> Detector::piggyback_for(const std::string& to) {
  std::vector<Update> out;
  // Tell the accused: whoever we hold suspect or dead hears it from us directly, so that it can
  // refute even after the gossip about it has died down (a restarted or re-connected site).
  auto it = members_.find(to);
  if (it != members_.end() && it->second.state != MemberState::alive)
    out.push_back(Update{to, it->second.state, it->second.incarnation});

  // Fewest transmissions first, then newest first; nothing about the recipient itself.
  std::vector<std::map<std::string, Broadcast>::iterator> queued;
  queued.reserve(broadcasts_.size());
  for (auto b = broadcasts_.begin(); b != broadcasts_.end(); ++b)
    if (b->first != to) queued.push_back(b);
  std::sort(queued.begin(), queued.end(), [](const auto& a, const auto& b) {
    if (a->second.transmits != b->second.transmits)
      return a->second.transmits < b->second.transmits;
    return a->second.order > b->second.order;
  });
  const uint32_t limit = retransmit_limit();
  for (auto b : queued) {
    if (out.size() >= config_.piggyback_updates_max) break;
    out.push_back(b->second.update);
    if (++b->second.transmits >= limit) broadcasts_.erase(b);
  }
  UMUPAKA_ASSERT(out.size() <= config_.piggyback_updates_max);
  return out;
}

void Detector::send(MessageType type, const std::string& to, uint64_t seq,
                    const std::string& target) {
  UMUPAKA_ASSERT(to != self_);
  if (outbox_.size() >= outbox_messages_max) {
    ++stats_.outbox_dropped;
    return;
  }
  outbox_.push_back(Message{type, self_, to, seq, target, piggyback_for(to)});
}

// --- Detector: timers and probing ------------------------------------------------------------

void Detector::tick(int64_t now_ms) {
  advance_time(now_ms);
  expire_relays(now_ms);
  step_probe(now_ms);
  expire_suspicions(now_ms);
  if (!probe_ && (!next_probe_ms_ || now_ms >= *next_probe_ms_)) start_probe(now_ms);
}

void Detector::expire_relays(int64_t now_ms) {
  for (auto it = relays_.begin(); it != relays_.end();) {
    if (now_ms < it->second.deadline_ms) {
      ++it;
      continue;
    }
    const Relay relay = it->second;
    it = relays_.erase(it);
    if (members_.contains(relay.requester))
      send(MessageType::nack, relay.requester, relay.requester_seq, relay.target);
  }
}

void Detector::step_probe(int64_t now_ms) {
  if (!probe_) return;
  Probe& p = *probe_;
  if (!p.acked && !p.indirect_sent && !p.target_dead && now_ms >= p.timeout_at_ms) {
    p.indirect_sent = true;
    p.helpers = pick_helpers(p.target, members_.at(p.target).link);
    p.nacked.assign(p.helpers.size(), false);
    for (const std::string& h : p.helpers) send(MessageType::ping_req, h, p.seq, p.target);
  }
  if (now_ms >= p.end_ms) finish_probe(now_ms);
}

void Detector::finish_probe(int64_t now_ms) {
  UMUPAKA_ASSERT(probe_);
  const Probe p = std::move(*probe_);
  probe_.reset();
  auto it = members_.find(p.target);
  UMUPAKA_ASSERT_MSG(it != members_.end(), "removing a member cancels its probe");
  if (p.acked) {
    if (local_health_ > 0) --local_health_;
    return;
  }
  if (p.target_dead) return;  // still dead: nothing learned
  ++stats_.probes_failed;
  // Lifeguard: helpers that did not even nack suggest that our own link is the problem.
  const auto missing = static_cast<uint32_t>(std::count(p.nacked.begin(), p.nacked.end(), false));
  local_health_ = std::min(local_health_ + missing, local_health_multiplier_max - 1);
  Entry& e = it->second;
  if (e.state == MemberState::alive) {
    set_state(p.target, e, MemberState::suspect, e.incarnation, now_ms);
    enqueue_broadcast(Update{p.target, MemberState::suspect, e.incarnation});
  }
}

void Detector::expire_suspicions(int64_t now_ms) {
  // Every tick: look at the members only when some suspicion may have run out.
  if (now_ms < next_suspicion_deadline_ms_) return;
  next_suspicion_deadline_ms_ = INT64_MAX;
  for (auto& [id, e] : members_) {
    if (e.state != MemberState::suspect) continue;
    if (now_ms < e.suspicion_deadline_ms) {
      next_suspicion_deadline_ms_ = std::min(next_suspicion_deadline_ms_, e.suspicion_deadline_ms);
      continue;
    }
    set_state(id, e, MemberState::dead, e.incarnation, now_ms);
    enqueue_broadcast(Update{id, MemberState::dead, e.incarnation});
  }
}

void Detector::start_probe(int64_t now_ms) {
  const std::optional<std::string> target = next_probe_target();
  if (!target) return;  // no members yet: try again next tick
  const Entry& e = members_.at(*target);
  const Timing& t = config_.timing(e.link);
  const int64_t multiplier = int64_t{1} + local_health_;
  UMUPAKA_ASSERT(multiplier >= 1 && multiplier <= local_health_multiplier_max);
  Probe p;
  p.target = *target;
  p.seq = ++seq_;
  p.timeout_at_ms = now_ms + multiplier * t.probe_timeout_ms;
  p.end_ms = now_ms + multiplier * t.probe_interval_ms;
  p.target_dead = e.state == MemberState::dead;
  UMUPAKA_ASSERT(p.timeout_at_ms < p.end_ms);
  next_probe_ms_ = p.end_ms;
  probe_ = std::move(p);
  ++stats_.probes_started;
  send(MessageType::ping, *target, probe_->seq, *target);
}

std::optional<std::string> Detector::next_probe_target() {
  for (int pass = 0; pass < 2; ++pass) {
    while (probe_index_ < probe_order_.size()) {
      const std::string& id = probe_order_[probe_index_++];
      if (members_.contains(id)) return id;
    }
    // A new round: every member once (dead ones too, so that a returning site is noticed), in
    // a fresh seeded shuffle of the sorted ids.
    probe_order_.clear();
    probe_index_ = 0;
    for (const auto& kv : members_) probe_order_.push_back(kv.first);
    for (size_t i = probe_order_.size(); i > 1; --i)
      std::swap(probe_order_[i - 1], probe_order_[static_cast<size_t>(uniform(i))]);
    if (probe_order_.empty()) return std::nullopt;
  }
  return std::nullopt;
}

std::vector<std::string> Detector::pick_helpers(const std::string& target, LinkClass link) {
  std::vector<std::string> candidates;
  for (const auto& [id, e] : members_)
    if (id != target && e.state == MemberState::alive) candidates.push_back(id);
  for (size_t i = candidates.size(); i > 1; --i)
    std::swap(candidates[i - 1], candidates[static_cast<size_t>(uniform(i))]);
  // Prefer helpers we reach no slower than the target, so their answer fits in the period.
  std::stable_partition(candidates.begin(), candidates.end(),
                        [&](const std::string& id) { return members_.at(id).link <= link; });
  if (candidates.size() > config_.indirect_probes) candidates.resize(config_.indirect_probes);
  return candidates;
}

// --- PRNG: SplitMix64 (Steele, Lea, Flood 2014). Spelled out rather than <random>'s
// distributions, whose output differs between standard libraries. ---------------------------

uint64_t Detector::next_random() {
  uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Detector::uniform(uint64_t n) {
  UMUPAKA_ASSERT(n > 0);
  const uint64_t threshold = (0 - n) % n;  // reject the biased low end
  for (;;) {
    const uint64_t r = next_random();
    if (r >= threshold) return r % n;
  }
}

}  // namespace umupaka::swim

#include "node/gossip.hpp"

#include <algorithm>
#include <set>

#include "ledger/assert.hpp"
#include "ledger/codec.hpp"
#include "ledger/limits.hpp"
#include "ledger/msgpack_visit.hpp"
#include "ledger/record.hpp"
#include "ledger/validate.hpp"

namespace umupaka {

namespace {
// FNV-1a over a frontier and the count of evidence held: equal frontiers, equal fingerprints.
uint64_t frontier_fingerprint(const std::vector<FrontierEntry>& frontier, size_t evidence) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const void* data, size_t n) {
    const auto* b = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  };
  for (const FrontierEntry& e : frontier) {
    mix(e.origin.data(), e.origin.size());
    mix(&e.seq, sizeof e.seq);
    mix(e.hash.data(), e.hash.size());
  }
  mix(&evidence, sizeof evidence);
  return h;
}
}  // namespace

const LinkLimits& GossipConfig::link(swim::LinkClass c) const {
  switch (c) {
    case swim::LinkClass::lan:
      return lan;
    case swim::LinkClass::wan:
      return wan;
    case swim::LinkClass::satellite:
      return satellite;
  }
  return wan;
}

Status GossipConfig::validate() const {
  RETURN_IF_ERROR(swim.validate());
  for (const LinkLimits* l : {&lan, &wan, &satellite})
    if (l->anti_entropy_interval_ms == 0 || l->anti_entropy_interval_ms > 600'000)
      return make_error(Errc::invalid_field, "anti_entropy_interval_ms must be 1..600000",
                        "gossip.anti_entropy_interval_ms");
  if (anti_entropy_peers_max == 0 || anti_entropy_peers_max > 1024)
    return make_error(Errc::invalid_field, "anti_entropy_peers_max must be 1..1024",
                      "gossip.anti_entropy_peers_max");
  if (push_fanout == 0 || push_fanout > 16)
    return make_error(Errc::invalid_field, "push_fanout must be 1..16", "gossip.push_fanout");
  if (push_hops_max == 0 || push_hops_max > 8)
    return make_error(Errc::invalid_field, "push_hops_max must be 1..8", "gossip.push_hops_max");
  if (push_interval_ms > 1000)
    return make_error(Errc::invalid_field, "push_interval_ms must be 0..1000",
                      "gossip.push_interval_ms");
  if (batch_records_max == 0 || batch_records_max > limits::gossip_array_items_max)
    return make_error(Errc::invalid_field, "batch_records_max must be 1..4096",
                      "gossip.batch_records_max");
  if (batch_bytes_max < limits::record_encoded_bytes_max ||
      batch_bytes_max > limits::gossip_frame_bytes_max / 2)
    return make_error(Errc::invalid_field, "batch_bytes_max must be 16 KiB..2 MiB",
                      "gossip.batch_bytes_max");
  return {};
}

std::string encode_gossip(const GossipMessage& m) { return msgpack_visit::encode_struct(m); }

Result<GossipMessage> decode_gossip(std::string_view frame) {
  if (frame.size() > limits::gossip_frame_bytes_max)
    return make_error(Errc::limit_exceeded, "gossip frame of " + std::to_string(frame.size()) +
                                                " bytes exceeds the limit");
  if (!msgpack_visit::within_element_budget(frame, limits::gossip_frame_elements_max,
                                            limits::msgpack_depth_max))
    return make_error(Errc::limit_exceeded, "gossip frame declares more than " +
                                                std::to_string(limits::gossip_frame_elements_max) +
                                                " elements in all, or nests deeper than " +
                                                std::to_string(limits::msgpack_depth_max));
  // Strings: records (each checked against record_encoded_bytes_max again when verified) and
  // the Raft entries' and snapshots' data.
  const msgpack::unpack_limit limit(limits::gossip_array_items_max, 0, limits::order_data_bytes_max,
                                    64, 0, limits::msgpack_depth_max);
  ASSIGN_OR_RETURN(GossipMessage m,
                   msgpack_visit::decode_struct<GossipMessage>(frame, limit, false));
  if (m.version != gossip_version)
    return make_error(Errc::decode, "unknown gossip version " + std::to_string(m.version));
  return m;
}

GossipCore::GossipCore(std::string self, GossipConfig config)
    : self_(std::move(self)),
      config_(std::move(config)),
      detector_(self_, config_.swim),
      rng_(config_.seed) {
  UMUPAKA_ASSERT(config_.validate().ok());
}

void GossipCore::set_membership(const Membership& m,
                                const std::map<std::string, swim::LinkClass, std::less<>>& links,
                                swim::LinkClass default_link, int64_t now_ms) {
  membership_ = m;
  next_round_ms_ = 0;  // new peers may be due at once
  std::set<std::string, std::less<>> wanted;
  for (const auto& [id, site] : m.sites())
    if (id != self_ && !site.revoked_after) wanted.insert(id);
  for (auto it = peers_.begin(); it != peers_.end();) {
    if (!wanted.count(it->first)) {
      (void)detector_.remove_member(it->first);
      heard_.erase(it->first);
      it = peers_.erase(it);
    } else {
      ++it;
    }
  }
  // Held records of a site revoked since, past its cut-off, will never be stored (the
  // revocation refuses them): they go, freeing the table for records that can be.
  for (const auto& [id, site] : m.sites()) {
    if (!site.revoked_after) continue;
    auto p = pending_.find(id);
    if (p == pending_.end()) continue;
    auto& slot = p->second;
    for (auto it = slot.upper_bound(*site.revoked_after); it != slot.end();) {
      it = slot.erase(it);
      --pending_count_;
    }
    if (slot.empty()) pending_.erase(p);
  }
  for (const auto& id : wanted) {
    if (peers_.count(id)) continue;
    auto l = links.find(id);
    Peer p;
    p.link = l != links.end() ? l->second : default_link;
    p.tokens_at_ms = now_ms;
    p.next_anti_entropy_ms = now_ms;
    peers_.emplace(id, p);
    (void)detector_.add_member(id, p.link);
  }
}

void GossipCore::set_evidence(const std::string& origin, const SignedRecord& a,
                              const SignedRecord& b) {
  evidence_[origin] =
      WireEvidence{WireRecord{a.encoded, a.signature}, WireRecord{b.encoded, b.signature}};
}

void GossipCore::set_quarantine(const std::map<std::string, uint64_t, std::less<>>& q) {
  for (const auto& [o, s] : q) quarantine_[o] = s;
}

bool GossipCore::alive(const std::string& peer) const {
  const auto state = detector_.state_of(peer);
  return state && *state != swim::MemberState::dead;
}

std::vector<std::string> GossipCore::alive_peers() const {
  std::vector<std::string> out;
  for (const auto& [id, p] : peers_)
    if (alive(id)) out.push_back(id);
  return out;
}

std::vector<std::string> GossipCore::pick(std::vector<std::string> from, size_t n) {
  // Fisher-Yates with modulo draws, not std::shuffle: the same choice on every standard library
  // (the engine's output is fixed by the standard, shuffle's use of it is not), so a simulator
  // seed replays anywhere.
  for (size_t k = from.size(); k > 1; --k) std::swap(from[k - 1], from[rng_() % k]);
  if (from.size() > n) from.resize(n);
  std::sort(from.begin(), from.end());
  return from;
}

uint64_t GossipCore::budget(Peer& p, int64_t now_ms) {
  const uint64_t rate = config_.link(p.link).bytes_per_second_max;
  if (rate == 0) return UINT64_MAX;
  // A token bucket holding at most one second of traffic.
  const double elapsed_s =
      static_cast<double>(std::max<int64_t>(0, now_ms - p.tokens_at_ms)) / 1000;
  p.tokens = std::min<double>(static_cast<double>(rate), p.tokens + elapsed_s * rate);
  p.tokens_at_ms = now_ms;
  return p.tokens <= 0 ? 0 : static_cast<uint64_t>(p.tokens);
}

void GossipCore::send(const std::string& to, GossipMessage m, int64_t now_ms) {
  m.from = self_;
  auto it = peers_.find(to);
  if (it != peers_.end()) {
    uint64_t bytes = 64;
    for (const auto& r : m.records) bytes += r.encoded.size() + 80;
    budget(it->second, now_ms);
    it->second.tokens -= static_cast<double>(bytes);
    it->second.bytes_sent += bytes;
  }
  ++stats_.messages_out;
  outbox_.push_back(Outgoing{to, std::move(m)});
}

void GossipCore::pump_swim(int64_t now_ms) {
  for (auto& sm : detector_.take_outbox()) {
    GossipMessage m;
    m.type = GossipType::swim;
    const std::string to = sm.to;
    m.swim = std::move(sm);
    send(to, std::move(m), now_ms);
  }
  (void)detector_.take_events();
}

void GossipCore::hold(VerifiedRecord record, const std::string& from, int64_t now_ms) {
  const std::string origin = record.record.header.origin.value;
  const uint64_t seq = record.record.header.seq.value;
  // Past a revocation cut-off it can never be stored (a batch ingested before the revocation
  // reached this core may report it as a gap after set_membership let the others go).
  if (membership_.past_cut_off(origin, seq)) return;
  auto& slot = pending_[origin];
  if (slot.count(seq)) return;
  if (pending_count_ >= pending_records_max || slot.size() >= pending_per_origin_max) {
    ++stats_.pending_dropped;  // anti-entropy fetches it again
    return;
  }
  slot.emplace(seq, Pending{std::move(record), from, now_ms});
  ++pending_count_;
  ++stats_.pending_held;
}

// After `origin` stored `seq`, the held records that now follow it go to ingest.
void GossipCore::release_after(const std::string& origin, uint64_t seq, const FeedReader& feeds) {
  auto it = pending_.find(origin);
  if (it == pending_.end()) return;
  auto& slot = it->second;
  // A held record at or below seq: the same as the one now stored (dropped), or another version
  // of its slot, which is equivocation evidence: ingested, so that the store proves the fork.
  IngestBatch forks;
  while (!slot.empty() && slot.begin()->first <= seq) {
    Pending& held = slot.begin()->second;
    const auto stored = feeds.record(origin, slot.begin()->first);
    if (stored && stored->hash != held.record.signed_record.hash) {
      forks.from = held.from;
      forks.records.push_back(std::move(held.record));
    }
    slot.erase(slot.begin());
    --pending_count_;
  }
  if (!forks.records.empty()) ingest_.push_back(std::move(forks));
  IngestBatch batch;
  uint64_t next = seq + 1;
  while (!slot.empty() && slot.begin()->first == next) {
    batch.from = slot.begin()->second.from;
    batch.records.push_back(std::move(slot.begin()->second.record));
    slot.erase(slot.begin());
    --pending_count_;
    ++next;
  }
  if (slot.empty()) pending_.erase(it);
  if (!batch.records.empty()) ingest_.push_back(std::move(batch));
}

void GossipCore::catch_up(const std::string& peer, const FeedReader& feeds, int64_t now_ms) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || now_ms - it->second.catch_up_sent_ms < catch_up_interval_ms) return;
  it->second.catch_up_sent_ms = now_ms;
  ++stats_.catch_up_requests;
  GossipMessage m;
  m.type = GossipType::digest;
  m.reply = true;
  m.frontier = feeds.frontier();
  send(peer, std::move(m), now_ms);
}

void GossipCore::on_tick(const FeedReader& feeds, int64_t now_ms) {
  detector_.tick(now_ms);
  pump_swim(now_ms);
  flush_pushes(now_ms);
  // Gaps that pushes did not fill in time: ask the peer that sent the held record.
  for (const auto& [origin, slot] : pending_) {
    if (slot.empty() || quarantine_.count(origin)) continue;
    const Pending& first = slot.begin()->second;
    if (now_ms - first.since_ms >= pending_fetch_after_ms && alive(first.from))
      catch_up(first.from, feeds, now_ms);
  }
  // Anti-entropy: one peer per tick at most, among those due; random for spread. The peers are
  // looked at only when one may be due (a peer back from the dead is seen within a second).
  if (now_ms < next_round_ms_) return;
  std::vector<std::string> due;
  next_round_ms_ = now_ms + 1000;
  size_t live = 0;
  for (auto& [id, p] : peers_) {
    if (!alive(id)) continue;
    ++live;
    if (p.next_anti_entropy_ms <= now_ms)
      due.push_back(id);
    else
      next_round_ms_ = std::min(next_round_ms_, p.next_anti_entropy_ms);
  }
  if (due.empty()) return;
  if (due.size() > 1) next_round_ms_ = now_ms;  // the others are due at the next tick
  const std::string peer = pick(due, 1).front();
  Peer& p = peers_.at(peer);
  // Spread the rounds at start: each peer is due again after its interval times the number of
  // peers due now. Once spread, one peer is due at a time, so each peer gets a round every
  // interval. (Digests are then most of a quiet network's frames: 57% in the simulator's Rwanda
  // scenario. One round per interval in all was tried; it doubled the replication lag, since
  // pushes reach only push_fanout peers over push_hops_max.) In a network of more than
  // anti_entropy_peers_max + 1 sites, each peer gets a round every interval times
  // ceil(peers / anti_entropy_peers_max): at most that many rounds per interval per node, so the
  // rounds grow with the nodes, not with their square.
  const auto interval = config_.link(p.link).anti_entropy_interval_ms;
  const auto spread =
      std::max<int64_t>(static_cast<int64_t>((live + config_.anti_entropy_peers_max - 1) /
                                             config_.anti_entropy_peers_max),
                        static_cast<int64_t>(due.size()));
  p.next_anti_entropy_ms = now_ms + static_cast<int64_t>(interval) * std::max<int64_t>(1, spread);
  next_round_ms_ = std::min(next_round_ms_, p.next_anti_entropy_ms);
  GossipMessage m;
  m.type = GossipType::digest;
  m.frontier = feeds.frontier();
  for (const auto& [origin, e] : evidence_) m.quarantined.push_back(origin);
  // Nothing new on either side since the last round with this peer: a lost message shows as a
  // difference between the frontiers, so only the refresh interval bounds what this could miss.
  const uint64_t fingerprint = frontier_fingerprint(m.frontier, evidence_.size());
  if (fingerprint == p.digest_fingerprint && p.frontier == m.frontier &&
      now_ms - p.digest_sent_ms < anti_entropy_refresh_ms) {
    ++stats_.digests_skipped;
    return;
  }
  p.digest_fingerprint = fingerprint;
  p.digest_sent_ms = now_ms;
  ++stats_.anti_entropy_rounds;
  send(peer, std::move(m), now_ms);
}

void GossipCore::on_message(const std::string& from, GossipMessage m, const FeedReader& feeds,
                            int64_t now_ms) {
  ++stats_.messages_in;
  if (m.from != from || !peers_.count(from)) {
    ++stats_.messages_invalid;
    return;
  }
  switch (m.type) {
    case GossipType::swim:
      // The SWIM sender is the authenticated peer (a relay acks in its own name): otherwise one
      // member could answer our probes for another, dead one.
      if (!m.swim || m.swim->from != from || !detector_.on_message(*m.swim, now_ms).ok())
        ++stats_.messages_invalid;
      pump_swim(now_ms);
      return;
    case GossipType::digest:
      answer_digest(from, m, feeds, now_ms);
      return;
    case GossipType::push:
    case GossipType::records:
      receive_records(from, m, feeds, now_ms);
      return;
    case GossipType::evidence:
      receive_evidence(m);
      return;
    case GossipType::fetch:
      answer_fetch(from, m, feeds, now_ms);
      return;
    case GossipType::versions:
      receive_versions(from, m);
      return;
    case GossipType::raft:
    case GossipType::head:
    case GossipType::ledger_fetch:
    case GossipType::ledger_rows:
      // The order plane's: the runtime routes them there (route_frame), and hands them here only
      // when the frame lacks its payload.
      ++stats_.messages_invalid;
      return;
  }
}

void GossipCore::answer_digest(const std::string& from, const GossipMessage& m,
                               const FeedReader& feeds, int64_t now_ms) {
  // Kept (and copied for status every publish) only for origins this node knows, once each: a
  // digest of 4,096 made-up origins of a megabyte each would otherwise stay with the peer.
  std::vector<FrontierEntry>& kept = peers_.at(from).frontier;
  kept.clear();
  std::set<std::string_view> named;  // views into m.frontier, which outlives the loop
  for (const auto& e : m.frontier) {
    if ((e.origin != root_origin && membership_.site(e.origin) == nullptr) ||
        !named.insert(e.origin).second) {
      ++stats_.frontier_entries_dropped;
      continue;
    }
    kept.push_back(e);
  }
  heard_.insert(from);
  for (const auto& e : kept) {
    if (e.origin == self_) own_seq_claimed_ = std::max(own_seq_claimed_, e.seq);
    if (e.origin == root_origin) root_seq_claimed_ = std::max(root_seq_claimed_, e.seq);
  }
  // What the peer lacks, at most once per digest_answer_interval_ms: a digest of a few bytes can
  // ask for up to batch_bytes_max. The reply that pipelines a catch-up (it follows a batch of
  // ours marked `more`) is answered at once, a batch for each.
  Peer& p = peers_.at(from);
  if ((m.reply && p.more_outstanding) || now_ms - p.missing_sent_ms >= digest_answer_interval_ms) {
    p.missing_sent_ms = now_ms;
    // Evidence the peer has not got (it was down during the flood): the repair path.
    GossipMessage ev;
    ev.type = GossipType::evidence;
    for (const auto& [origin, e] : evidence_)
      if (std::find(m.quarantined.begin(), m.quarantined.end(), origin) == m.quarantined.end())
        ev.evidence.push_back(e);
    if (!ev.evidence.empty()) send(from, std::move(ev), now_ms);
    send_missing(from, kept, feeds, now_ms);
  } else {
    ++stats_.digests_refused;
  }
  if (!m.reply) {
    GossipMessage r;
    r.type = GossipType::digest;
    r.reply = true;
    r.frontier = feeds.frontier();
    for (const auto& [origin, e] : evidence_) r.quarantined.push_back(origin);
    send(from, std::move(r), now_ms);
  }
}

void GossipCore::send_missing(const std::string& to, const std::vector<FrontierEntry>& theirs,
                              const FeedReader& feeds, int64_t now_ms) {
  // The peer's frontier by origin (sorted views: no allocation per origin, once per digest).
  std::vector<const FrontierEntry*> have;
  have.reserve(theirs.size());
  for (const auto& e : theirs) have.push_back(&e);
  const auto by_origin = [](const FrontierEntry* a, const FrontierEntry* b) {
    return a->origin < b->origin;
  };
  std::sort(have.begin(), have.end(), by_origin);
  const auto find_have = [&](std::string_view origin) -> const FrontierEntry* {
    const auto it =
        std::lower_bound(have.begin(), have.end(), origin,
                         [](const FrontierEntry* e, std::string_view o) { return e->origin < o; });
    return it != have.end() && (*it)->origin == origin ? *it : nullptr;
  };
  const auto quarantined = [&](const std::string& origin) {
    return !quarantine_.empty() && quarantine_.count(origin) > 0;
  };
  Peer& p = peers_.at(to);
  const uint64_t allowance = std::min<uint64_t>(budget(p, now_ms), config_.batch_bytes_max);
  GossipMessage m;
  m.type = GossipType::records;
  uint64_t bytes = 0;
  // Same seq, different hash: the two nodes hold different records of one origin. Sending ours
  // at the peer's head lets it see the fork (equivocation evidence), which comparing seqs alone
  // would never reveal. (Where we are ahead, the records we send next do not link to the peer's
  // head, which shows it the fork the same way.)
  const std::vector<FrontierEntry>& ours = feeds.frontier();
  for (const auto& mine : ours) {
    const FrontierEntry* e = find_have(mine.origin);
    if (e == nullptr || quarantined(mine.origin) || e->seq != mine.seq || e->hash == mine.hash)
      continue;
    if (const auto record = feeds.record(e->origin, e->seq))
      m.records.push_back(WireRecord{record->encoded, record->signature});
  }
  for (const auto& mine : ours) {
    if (quarantined(mine.origin)) continue;  // a quarantined feed spreads only as evidence
    const FrontierEntry* theirs_at = find_have(mine.origin);
    uint64_t from_seq = theirs_at == nullptr ? 1 : theirs_at->seq + 1;
    // Records sent moments ago are still in flight (or being stored): do not send them again
    // unless the window passed without the peer's frontier moving past them.
    if (auto f = p.in_flight.find(mine.origin);
        f != p.in_flight.end() && now_ms - f->second.second < in_flight_window_ms)
      from_seq = std::max(from_seq, f->second.first + 1);
    for (uint64_t seq = from_seq; seq <= mine.seq; ++seq) {
      if (m.records.size() >= config_.batch_records_max) {
        m.more = true;
        break;
      }
      const auto sr = feeds.record(mine.origin, seq);
      if (!sr) break;
      if (bytes + sr->encoded.size() > allowance && !m.records.empty()) {
        m.more = true;
        if (allowance < config_.batch_bytes_max) ++stats_.bandwidth_deferred;
        break;
      }
      bytes += sr->encoded.size() + 80;
      m.records.push_back(WireRecord{sr->encoded, sr->signature});
      p.in_flight[mine.origin] = {seq, now_ms};
    }
    if (m.more) break;
  }
  p.more_outstanding = m.more;
  if (!m.records.empty()) send(to, std::move(m), now_ms);
}

std::optional<VerifiedRecord> GossipCore::verify_one(const WireRecord& w, bool check_signature,
                                                     bool any_origin_state) {
  if (w.encoded.size() > limits::record_encoded_bytes_max) return std::nullopt;
  auto r = decode_record(w.encoded);
  if (!r.ok()) return std::nullopt;
  // The rules its origin's node checked before signing (a member may sign anything with its key:
  // a seq 0, a membership body outside the root feed, a field the store cannot index).
  if (!validate_record(*r).ok()) return std::nullopt;
  const RecordHeader& h = r->header;
  if (!membership_.joined() || h.network_id != membership_.network_id()) return std::nullopt;
  if (!any_origin_state && quarantine_.count(h.origin.value)) return std::nullopt;
  if (!any_origin_state && !membership_.admits(h.origin.value, h.seq.value).ok())
    return std::nullopt;
  const auto key = membership_.key_of(h.origin.value);  // (none: not a member)
  if (!key) return std::nullopt;
  VerifiedRecord v;
  v.signed_record.encoded = w.encoded;
  v.signed_record.signature = w.signature;
  v.signed_record.hash = record_hash(w.encoded, w.signature);
  if (check_signature) {
    ++stats_.signatures_verified;
    if (!verifier_(*key, v.signed_record)) return std::nullopt;
  }
  v.record = std::move(r).value();
  return v;
}

void GossipCore::receive_records(const std::string& from, const GossipMessage& m,
                                 const FeedReader& feeds, int64_t now_ms) {
  stats_.records_in += m.records.size();
  IngestBatch batch;
  batch.from = from;
  batch.pushed = m.type == GossipType::push;
  batch.hops = m.hops;
  batch.more = m.more;
  // Decode and admit everything first; drop what this node already holds, identical (pushes and
  // anti-entropy overlap), before paying for any signature. A different record at a held slot is
  // kept: it is a fork, and its signature decides whether it is evidence.
  std::map<std::string, uint64_t, std::less<>> held;
  for (const auto& e : feeds.frontier()) held[e.origin] = e.seq;
  std::vector<VerifiedRecord> decoded;
  decoded.reserve(m.records.size());
  for (const WireRecord& w : m.records) {
    auto v = verify_one(w, /*check_signature=*/false);
    if (!v) {
      ++stats_.records_rejected;
      continue;
    }
    const auto& h = v->record.header;
    auto it = held.find(h.origin.value);
    if (it != held.end() && h.seq.value <= it->second) {
      const auto mine = feeds.record(h.origin.value, h.seq.value);
      if (mine && mine->hash == v->signed_record.hash) {
        ++stats_.records_duplicate;
        continue;
      }
    }
    decoded.push_back(std::move(*v));
  }
  // Split into runs of one origin with consecutive seqs; verify each run by its links and its
  // newest signature, falling back to every signature where the links do not hold. A peer
  // forwards only records it verified: once one signature in its message fails, the rest of the
  // message is refused unchecked, so a flood of forged records costs one check per message, not
  // one per record.
  bool forged = false;
  size_t i = 0;
  while (i < decoded.size()) {
    std::vector<VerifiedRecord> run;
    bool linked = true;
    size_t j = i;
    for (; j < decoded.size(); ++j) {
      if (!run.empty()) {
        const RecordHeader& prev = run.back().record.header;
        const RecordHeader& cur = decoded[j].record.header;
        if (cur.origin != prev.origin || cur.seq.value != prev.seq.value + 1) break;
        if (cur.prev_hash != run.back().signed_record.hash) linked = false;
      }
      run.push_back(std::move(decoded[j]));
    }
    i = j;
    if (forged) {
      stats_.records_rejected += run.size();
      continue;
    }
    const auto key = membership_.key_of(run.back().record.header.origin.value);
    UMUPAKA_ASSERT(key.has_value());  // verify_one admitted the origin
    bool ok = false;
    if (linked && run.size() > 1) {
      ++stats_.signatures_verified;
      ok = verifier_(*key, run.back().signed_record);
      if (ok) stats_.runs_verified_by_chain += run.size() - 1;
    }
    if (!ok) {
      // In order, up to the first that fails: the rest of the message is not checked.
      std::vector<VerifiedRecord> checked;
      for (auto& v : run) {
        if (forged) {
          ++stats_.records_rejected;
          continue;
        }
        ++stats_.signatures_verified;
        if (verifier_(*key, v.signed_record)) {
          checked.push_back(std::move(v));
        } else {
          ++stats_.records_rejected;
          forged = true;
        }
      }
      run = std::move(checked);
    }
    stats_.records_verified += run.size();
    for (auto& v : run) batch.records.push_back(std::move(v));
  }
  if (m.more) {
    // Pipelined catch-up: ask for the next batch now, as if this one were already stored, so the
    // transfer of the next overlaps the ingest of this one. A batch that then fails to store
    // leaves a gap that the next round repairs.
    std::vector<FrontierEntry> ahead = feeds.frontier();
    for (const auto& v : batch.records) {
      const auto& h = v.record.header;
      auto it = std::find_if(ahead.begin(), ahead.end(),
                             [&](const FrontierEntry& e) { return e.origin == h.origin.value; });
      if (it == ahead.end()) {
        if (h.seq.value == 1)
          ahead.push_back(FrontierEntry{h.origin.value, 1, v.signed_record.hash});
      } else if (h.seq.value == it->seq + 1) {
        it->seq = h.seq.value;
        it->hash = v.signed_record.hash;
      }
    }
    GossipMessage r;
    r.type = GossipType::digest;
    r.reply = true;
    r.frontier = std::move(ahead);
    ++stats_.catch_up_requests;
    peers_.at(from).catch_up_sent_ms = now_ms;
    send(from, std::move(r), now_ms);
    batch.more = false;  // already asked
  }
  if (!batch.records.empty()) ingest_.push_back(std::move(batch));
}

void GossipCore::receive_evidence(const GossipMessage& m) {
  // An honest peer sends one pair per origin (answer_digest, the flood in on_ingested), each of
  // two different records. Anything else, or a pair that fails its checks, ends the message: a
  // peer cannot make this thread verify thousands of signatures with one frame.
  std::set<std::string, std::less<>> origins;
  for (const WireEvidence& e : m.evidence) {
    auto h = decode_record(e.a.encoded);
    auto h2 = decode_record(e.b.encoded);
    if (!h.ok() || !h2.ok() ||
        record_hash(e.a.encoded, e.a.signature) == record_hash(e.b.encoded, e.b.signature)) {
      ++stats_.messages_invalid;
      return;
    }
    const std::string& origin = h->header.origin.value;
    if (!origins.insert(origin).second) {
      ++stats_.messages_invalid;
      return;
    }
    // Evidence against an origin already quarantined here is old news, not an error; against one
    // this node does not admit at those seqs (revoked since, or not yet certified here), a pair
    // an honest peer may well hold: skipped, and the rest of the message still read.
    if (quarantine_.count(origin)) continue;
    if (!membership_.admits(origin, h->header.seq.value).ok() ||
        !membership_.admits(h2->header.origin.value, h2->header.seq.value).ok())
      continue;
    auto a = verify_one(e.a, true);
    auto b = a ? verify_one(e.b, true) : std::nullopt;
    if (!a || !b) {
      ++stats_.messages_invalid;
      return;
    }
    const RecordHeader& ha = a->record.header;
    const RecordHeader& hb = b->record.header;
    const bool same_slot = ha.origin == hb.origin && ha.seq == hb.seq &&
                           a->signed_record.hash != b->signed_record.hash;
    const bool broken_link = ha.origin == hb.origin && hb.seq.value == ha.seq.value + 1 &&
                             hb.prev_hash != a->signed_record.hash;
    if (!same_slot && !broken_link) {
      ++stats_.messages_invalid;
      return;
    }
    IngestBatch batch;
    batch.from = m.from;
    batch.records.push_back(std::move(*a));
    batch.records.push_back(std::move(*b));
    batch.kind = IngestKind::evidence;
    ingest_.push_back(std::move(batch));
  }
}

// Chains asked for in one fetch, and how long an unanswered tip stays wanted.
constexpr size_t fetch_chains_max = 64;
constexpr int64_t wanted_ttl_ms = 30'000;

void GossipCore::request_versions(const std::string& peer, const std::vector<WantedChain>& wanted,
                                  int64_t now_ms) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || wanted.empty() ||
      now_ms - it->second.fetch_sent_ms < catch_up_interval_ms)
    return;
  it->second.fetch_sent_ms = now_ms;
  std::erase_if(wanted_, [&](const auto& w) { return now_ms - w.second.asked_ms > wanted_ttl_ms; });
  GossipMessage m;
  m.type = GossipType::fetch;
  for (const WantedChain& w : wanted) {
    if (m.wanted.size() == fetch_chains_max) break;
    m.wanted.push_back(w);
    wanted_[{w.origin, w.seq, w.hash}] = Wanted{now_ms, w.after};
  }
  ++stats_.fetch_requests;
  send(peer, std::move(m), now_ms);
}

void GossipCore::answer_fetch(const std::string& from, const GossipMessage& m,
                              const FeedReader& feeds, int64_t now_ms) {
  if (m.wanted.size() > fetch_chains_max) {
    ++stats_.messages_invalid;
    return;
  }
  Peer& p = peers_.at(from);
  if (now_ms - p.fetch_answered_ms < fetch_answer_interval_ms) {
    ++stats_.fetches_refused;
    return;
  }
  p.fetch_answered_ms = now_ms;
  GossipMessage r;
  r.type = GossipType::versions;
  uint64_t bytes = 0;
  for (const WantedChain& w : m.wanted) {
    Hash expected = w.hash;
    for (uint64_t seq = w.seq; seq > w.after; --seq) {
      if (r.records.size() >= config_.batch_records_max || bytes >= config_.batch_bytes_max) break;
      const auto sr = feeds.version(w.origin, seq, expected);
      if (!sr) break;
      auto rec = decode_record(sr->encoded);
      if (!rec.ok()) break;
      bytes += sr->encoded.size() + 80;
      r.records.push_back(WireRecord{sr->encoded, sr->signature});
      expected = rec->header.prev_hash;
    }
  }
  if (!r.records.empty()) send(from, std::move(r), now_ms);
}

void GossipCore::receive_versions(const std::string& from, const GossipMessage& m) {
  IngestBatch batch;
  batch.from = from;
  batch.kind = IngestKind::versions;
  // Only the chains asked for: a record is taken if it is a wanted tip, or the predecessor (by
  // seq and prev_hash) of the record taken just before it. Each one's own signature is checked
  // (forks are rare; no shortcut by links).
  std::optional<std::tuple<std::string, uint64_t, Hash>> next;  // the predecessor expected
  uint64_t chain_after = 0;  // where the chain being taken stops (the fetch's `after`)
  for (const WireRecord& w : m.records) {
    auto v = verify_one(w, /*check_signature=*/false, /*any_origin_state=*/true);
    if (!v) {
      ++stats_.records_rejected;
      next.reset();
      continue;
    }
    const RecordHeader& h = v->record.header;
    const std::tuple<std::string, uint64_t, Hash> id{h.origin.value, h.seq.value,
                                                     v->signed_record.hash};
    const auto tip = wanted_.find(id);
    if (tip == wanted_.end() && next != id) {
      ++stats_.records_rejected;
      next.reset();
      continue;
    }
    const auto key = membership_.key_of(h.origin.value);
    ++stats_.signatures_verified;
    if (!key || !verifier_(*key, v->signed_record)) {
      ++stats_.records_rejected;
      next.reset();
      continue;
    }
    if (tip != wanted_.end()) {
      chain_after = tip->second.after;
      wanted_.erase(tip);
    }
    next.reset();
    // Down to the seq the fetch asked for, no further: a peer cannot make this node keep a
    // chain longer than it asked for.
    if (h.seq.value > 1 && h.seq.value - 1 > chain_after)
      next.emplace(h.origin.value, h.seq.value - 1, h.prev_hash);
    ++stats_.versions_received;
    batch.records.push_back(std::move(*v));
  }
  if (!batch.records.empty()) ingest_.push_back(std::move(batch));
}

void GossipCore::push(const std::vector<WireRecord>& records, uint32_t hops,
                      const std::string& except, int64_t now_ms) {
  if (records.empty()) return;
  std::vector<std::string> targets;
  for (auto& id : alive_peers())
    if (id != except) targets.push_back(id);
  for (const auto& to : pick(targets, config_.push_fanout)) {
    GossipMessage m;
    m.type = GossipType::push;
    m.hops = hops;
    m.records = records;
    send(to, std::move(m), now_ms);
  }
}

void GossipCore::on_committed(const std::vector<SignedRecord>& local, int64_t now_ms) {
  for (const auto& sr : local) push_waiting_.push_back(WireRecord{sr.encoded, sr.signature});
  flush_pushes(now_ms);
}

std::optional<int64_t> GossipCore::push_due_ms() const {
  if (push_waiting_.empty()) return std::nullopt;
  return pushed_ms_ + config_.push_interval_ms;
}

void GossipCore::flush_pushes(int64_t now_ms) {
  if (push_waiting_.empty() || now_ms < pushed_ms_ + config_.push_interval_ms) return;
  pushed_ms_ = now_ms;
  std::vector<WireRecord> w;
  for (auto& r : push_waiting_) {
    w.push_back(std::move(r));
    if (w.size() == config_.batch_records_max) {
      push(w, 1, {}, now_ms);
      w.clear();
    }
  }
  push_waiting_.clear();
  push(w, 1, {}, now_ms);
}

void GossipCore::on_ingested(const IngestBatch& batch, const std::vector<IngestResult>& results,
                             const FeedReader& feeds, int64_t now_ms) {
  const bool evidence = batch.kind == IngestKind::evidence;
  UMUPAKA_ASSERT(results.size() == batch.records.size() || evidence);
  std::vector<WireRecord> forward;
  std::map<std::string, uint64_t> stored_up_to;
  for (size_t i = 0; i < results.size(); ++i) {
    const IngestResult& r = results[i];
    switch (r.outcome) {
      case IngestOutcome::stored:
        ++stats_.records_stored;
        stored_up_to[r.origin] = std::max(stored_up_to[r.origin], r.seq);
        if (i < batch.records.size())
          forward.push_back(WireRecord{batch.records[i].signed_record.encoded,
                                       batch.records[i].signed_record.signature});
        break;
      case IngestOutcome::duplicate:
        ++stats_.records_duplicate;
        stored_up_to[r.origin] = std::max(stored_up_to[r.origin], r.seq);
        break;
      case IngestOutcome::gap:
        ++stats_.records_gap;
        if (i < batch.records.size() && batch.kind == IngestKind::feed)
          hold(batch.records[i], batch.from, now_ms);
        break;
      case IngestOutcome::rejected:
        ++stats_.records_rejected;
        break;
      case IngestOutcome::equivocation:
        ++stats_.equivocations;
        quarantine_[r.origin] = r.seq;
        if (auto p = pending_.find(r.origin); p != pending_.end()) {
          pending_count_ -= p->second.size();
          pending_.erase(p);
        }
        if (r.evidence) set_evidence(r.origin, r.evidence->a, r.evidence->b);
        if (r.evidence && !evidence_sent_.count(r.origin)) {
          evidence_sent_.insert(r.origin);
          GossipMessage m;
          m.type = GossipType::evidence;
          m.evidence.push_back(
              WireEvidence{WireRecord{r.evidence->a.encoded, r.evidence->a.signature},
                           WireRecord{r.evidence->b.encoded, r.evidence->b.signature}});
          for (const auto& to : alive_peers()) send(to, m, now_ms);
        }
        break;
    }
  }
  // Forward new pushed records only when the origin's push could not reach everyone directly.
  if (batch.pushed && batch.hops < config_.push_hops_max && peers_.size() > config_.push_fanout) {
    // Forward only what was new here, and never records of a quarantined origin.
    std::vector<WireRecord> clean;
    for (auto& w : forward) {
      auto r = decode_record(w.encoded);
      if (r.ok() && !quarantine_.count(r->header.origin.value)) clean.push_back(std::move(w));
    }
    push(clean, batch.hops + 1, batch.from, now_ms);
  }
  for (const auto& [origin, seq] : stored_up_to) release_after(origin, seq, feeds);
  // A batch cut at a limit: tell the sender where we are now, so it sends the rest.
  if (batch.more && peers_.count(batch.from)) {
    peers_.at(batch.from).catch_up_sent_ms = INT64_MIN / 2;  // the sender waits for us
    catch_up(batch.from, feeds, now_ms);
  }
}

void GossipCore::on_send_failed(const std::string& to) {
  auto it = peers_.find(to);
  if (it != peers_.end()) ++it->second.send_failures;
}

std::vector<Outgoing> GossipCore::take_messages() {
  std::vector<Outgoing> out;
  out.swap(outbox_);
  return out;
}

std::vector<IngestBatch> GossipCore::take_ingest() {
  std::vector<IngestBatch> out;
  out.swap(ingest_);
  return out;
}

std::vector<PeerStatus> GossipCore::peers() const {
  std::vector<PeerStatus> out;
  for (const auto& [id, p] : peers_) {
    PeerStatus s;
    s.site = id;
    s.link = p.link;
    if (const auto m = detector_.member(id)) {
      s.state = m->state;
      s.last_contact_ms = m->last_contact_ms;
    }
    s.frontier = p.frontier;
    s.bytes_sent = p.bytes_sent;
    s.send_failures = p.send_failures;
    out.push_back(std::move(s));
  }
  return out;
}

uint64_t GossipCore::seen_by_peers(std::string_view origin) const {
  uint64_t best = 0;
  for (const auto& [id, p] : peers_)
    for (const auto& e : p.frontier)
      if (e.origin == origin) best = std::max(best, e.seq);
  return best;
}

}  // namespace umupaka

#include "simulation/sim_network.hpp"

#include <algorithm>

#include "ledger/assert.hpp"

namespace umupaka::sim {

SimNetwork::SimNetwork(uint64_t seed, LinkSpec default_link)
    : rng_(seed), default_link_(default_link) {}

void SimNetwork::set_link(const std::string& from, const std::string& to, const LinkSpec& spec) {
  UMUPAKA_ASSERT(spec.loss >= 0 && spec.loss <= 1 && spec.duplicate >= 0 && spec.duplicate <= 1);
  links_[{from, to}] = spec;
}

void SimNetwork::set_links(const std::string& a, const std::string& b, const LinkSpec& spec) {
  set_link(a, b, spec);
  set_link(b, a, spec);
}

void SimNetwork::set_default_link(const LinkSpec& spec) {
  UMUPAKA_ASSERT(spec.loss >= 0 && spec.loss <= 1 && spec.duplicate >= 0 && spec.duplicate <= 1);
  default_link_ = spec;
}

const LinkSpec& SimNetwork::link(const std::string& from, const std::string& to) const {
  const auto it = links_.find(PairView{from, to});
  return it == links_.end() ? default_link_ : it->second;
}

void SimNetwork::cut(const std::string& a, const std::string& b) {
  cuts_.insert({a, b});
  cuts_.insert({b, a});
}

void SimNetwork::cut_one_way(const std::string& from, const std::string& to) {
  cuts_.insert({from, to});
}

void SimNetwork::partition(const std::vector<std::string>& group1,
                           const std::vector<std::string>& group2) {
  for (const auto& a : group1)
    for (const auto& b : group2) cut(a, b);
}

void SimNetwork::heal() { cuts_.clear(); }

bool SimNetwork::reachable(const std::string& from, const std::string& to) const {
  return cuts_.empty() || cuts_.count(PairView{from, to}) == 0;
}

uint64_t SimNetwork::below(uint64_t n) {
  UMUPAKA_ASSERT(n > 0);
  return rng_() % n;  // the modulo bias is below 2^-40 for the small n used here
}

bool SimNetwork::chance(double p) {
  if (p <= 0) return false;
  // 53 random bits as a double in [0, 1).
  const double u = static_cast<double>(rng_() >> 11) * (1.0 / 9007199254740992.0);
  return u < p;
}

void SimNetwork::schedule(Delivery d) {
  d.seq = next_seq_++;
  const auto key = std::make_pair(d.at_ms, d.seq);
  queue_.emplace(key, std::move(d));
}

bool SimNetwork::send(const std::string& from, const std::string& to, std::string frame,
                      int64_t now_ms) {
  UMUPAKA_ASSERT(now_ms >= last_send_ms_);
  last_send_ms_ = now_ms;
  ++stats_.sent;
  stats_.bytes_sent += frame.size();
  const LinkSpec& spec = link(from, to);
  // The draws happen in the same order for every message, whatever their outcome, so a change of
  // one link's fault does not shift the faults of the others.
  const uint64_t jitter = below(uint64_t{spec.jitter_ms} + 1);
  const bool lost = chance(spec.loss);
  const bool twice = chance(spec.duplicate);
  const uint64_t jitter_copy = below(uint64_t{spec.jitter_ms} + 1);

  // Bandwidth: the frame leaves when the link is free and it has been transmitted.
  int64_t departure_ms = now_ms;
  if (spec.bytes_per_second > 0) {
    auto slot = busy_until_ms_.find(PairView{from, to});
    if (slot == busy_until_ms_.end()) slot = busy_until_ms_.emplace(Pair{from, to}, 0).first;
    int64_t& busy = slot->second;
    if (busy - now_ms > static_cast<int64_t>(spec.queue_max_ms)) {
      ++stats_.overflow;
      return false;
    }
    const auto transmit_ms = static_cast<int64_t>(
        (static_cast<uint64_t>(frame.size()) * 1000 + spec.bytes_per_second - 1) /
        spec.bytes_per_second);
    departure_ms = std::max(busy, now_ms) + transmit_ms;
    busy = departure_ms;
  }
  if (!reachable(from, to)) {
    ++stats_.cut;
    return true;
  }
  if (lost) {
    ++stats_.lost;
    return true;
  }
  const int64_t base = departure_ms + spec.latency_ms;
  if (twice) {
    ++stats_.duplicated;
    schedule(Delivery{base + static_cast<int64_t>(jitter_copy), 0, from, to, frame, false});
  }
  schedule(Delivery{base + static_cast<int64_t>(jitter), 0, from, to, std::move(frame), false});
  return true;
}

void SimNetwork::inject(const std::string& from, const std::string& to, std::string frame,
                        int64_t at_ms) {
  ++stats_.injected;
  schedule(Delivery{at_ms, 0, from, to, std::move(frame), true});
}

std::optional<int64_t> SimNetwork::next_delivery_ms() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.begin()->first.first;
}

std::optional<Delivery> SimNetwork::pop_due(int64_t now_ms) {
  while (!queue_.empty() && queue_.begin()->first.first <= now_ms) {
    auto node = queue_.extract(queue_.begin());
    Delivery d = std::move(node.mapped());
    if (!d.injected && !reachable(d.from, d.to)) {
      ++stats_.cut;
      continue;
    }
    ++stats_.delivered;
    return d;
  }
  return std::nullopt;
}

}  // namespace umupaka::sim

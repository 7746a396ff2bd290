// SimNetwork: a seeded, simulated network between named nodes, for the deterministic cluster
// harness (sim_cluster.hpp). It carries opaque frames (the encoded gossip messages, so the real
// codec runs at both ends) and applies the faults of a wide-area network:
//
//   latency      per directed link: base + a uniform draw in [0, jitter]; the jitter reorders
//                messages on a link, as a real WAN path does;
//   loss         each message is lost with the link's probability;
//   duplication  a delivered message arrives a second time with the link's probability (the copy
//                draws its own latency);
//   bandwidth    a link of B bytes/s takes size * 1000 / B ms to put a message on the wire, and
//                messages queue behind each other (the link is busy until the previous one left),
//                up to queue_max_ms of backlog: beyond that they are dropped;
//   partitions   cut(a, b) both ways, cut_one_way(from, to), partition(group1, group2), heal().
//                A cut drops what is sent across it and what was in flight across it when it is
//                delivered, so a partition takes effect at once.
//
// Determinism: every random draw comes from one std::mt19937_64 seeded by the caller, in the order
// of the calls, and draws are turned into numbers by plain arithmetic (not by <random>
// distributions, whose output differs between standard libraries). Deliveries are ordered by
// (time, sequence number of the send), so ties are broken by send order. Time is the caller's
// simulated clock in milliseconds; nothing here reads a clock.
//
// Single-threaded; no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace umupaka::sim {

// One direction of the link between two nodes.
struct LinkSpec {
  uint32_t latency_ms = 10;       // one-way, base
  uint32_t jitter_ms = 0;         // added uniformly in [0, jitter_ms]
  double loss = 0;                // probability that a message is lost, [0, 1]
  double duplicate = 0;           // probability that a delivered message arrives twice, [0, 1]
  uint64_t bytes_per_second = 0;  // 0: unlimited
  // A frame that would wait longer than this behind the link's backlog is dropped: a full send
  // queue (ZeroMQ's high-water mark drops the same way). Only with a bandwidth limit.
  uint32_t queue_max_ms = 5'000;
};

// A frame due at `at_ms`. `seq` orders frames due at the same time (send order).
struct Delivery {
  int64_t at_ms = 0;
  uint64_t seq = 0;
  std::string from;
  std::string to;
  std::string frame;
  bool injected = false;  // put in by inject(): no fault applies to it
};

struct SimNetworkStats {
  uint64_t sent = 0;        // frames given to send()
  uint64_t injected = 0;    // frames given to inject()
  uint64_t delivered = 0;   // frames handed out by pop_due()
  uint64_t lost = 0;        // lost by the link's loss probability
  uint64_t duplicated = 0;  // extra copies scheduled
  uint64_t cut = 0;         // dropped by a partition (at send or at delivery)
  uint64_t overflow = 0;    // dropped: the link's send queue was full (LinkSpec::queue_max_ms)
  uint64_t bytes_sent = 0;
};

class SimNetwork {
 public:
  // `default_link` applies to every directed link without its own spec.
  SimNetwork(uint64_t seed, LinkSpec default_link);

  // Link specs: one direction, or both.
  void set_link(const std::string& from, const std::string& to, const LinkSpec& spec);
  void set_links(const std::string& a, const std::string& b, const LinkSpec& spec);
  void set_default_link(const LinkSpec& spec);
  const LinkSpec& link(const std::string& from, const std::string& to) const;

  // Partitions. cut(a, b) cuts both directions; partition() cuts every pair across the groups.
  // heal() restores every link (specs are kept).
  void cut(const std::string& a, const std::string& b);
  void cut_one_way(const std::string& from, const std::string& to);
  void partition(const std::vector<std::string>& group1, const std::vector<std::string>& group2);
  void heal();
  bool reachable(const std::string& from, const std::string& to) const;

  // Sends `frame` from `from` to `to` at `now_ms`, subject to the link's faults.
  // Precondition: now_ms is not earlier than a previous call's.
  // False when the frame could not even be queued (its link's send queue full): the sender sees
  // that, as a ZeroMQ send fails with EAGAIN at the high-water mark. Every other loss is silent.
  bool send(const std::string& from, const std::string& to, std::string frame, int64_t now_ms);
  // Queues `frame` for delivery at `at_ms` exactly, with no fault (loss, duplication, latency,
  // bandwidth, partition): the byzantine tests' forged messages.
  void inject(const std::string& from, const std::string& to, std::string frame, int64_t at_ms);

  // The time of the earliest queued delivery, if any.
  std::optional<int64_t> next_delivery_ms() const;
  // Removes and returns the earliest delivery due at or before `now_ms`, if any. A delivery whose
  // link was cut while it was in flight is dropped here (counted in stats().cut).
  std::optional<Delivery> pop_due(int64_t now_ms);
  size_t in_flight() const { return queue_.size(); }

  const SimNetworkStats& stats() const { return stats_; }

 private:
  using Pair = std::pair<std::string, std::string>;
  // Looks a (from, to) pair up without copying the two names (twice per frame otherwise).
  using PairView = std::pair<std::string_view, std::string_view>;
  struct PairLess {
    using is_transparent = void;
    static PairView view(const Pair& p) { return {p.first, p.second}; }
    static PairView view(const PairView& p) { return p; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return view(a) < view(b);
    }
  };
  uint64_t below(uint64_t n);  // uniform in [0, n), n > 0
  bool chance(double p);       // true with probability p
  void schedule(Delivery d);

  std::mt19937_64 rng_;
  LinkSpec default_link_;
  std::map<Pair, LinkSpec, PairLess> links_;
  std::set<Pair, PairLess> cuts_;                    // directed
  std::map<Pair, int64_t, PairLess> busy_until_ms_;  // bandwidth: when the last message left
  // The queue of deliveries, ordered by (at_ms, seq): a priority queue whose entries can be
  // moved out.
  std::map<std::pair<int64_t, uint64_t>, Delivery> queue_;
  uint64_t next_seq_ = 0;
  int64_t last_send_ms_ = INT64_MIN;
  SimNetworkStats stats_;
};

}  // namespace umupaka::sim

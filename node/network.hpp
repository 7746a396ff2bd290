// The network runtime: ZeroMQ over TCP with CURVE between nodes, driving the gossip core on one
// thread. I/O at the edge; the protocol is in gossip.hpp.
//
// Sockets (one context per node):
//   in   ROUTER, CURVE server, bound at the node's peer endpoint. A ZAP handler admits only
//        transport keys certified in the membership (and not revoked); it names the peer's site
//        in the connection's User-Id, which is how a message's sender is known (never from the
//        message). ZMQ_MAXMSGSIZE drops oversized frames before they are read; every frame is
//        size-checked again and decoded with msgpack limits.
//   out  ROUTER, CURVE client, connected to every peer (routing id = the peer's site),
//        ZMQ_ROUTER_MANDATORY and a send high-water mark: a full queue or an unreachable peer is
//        a visible send failure (metrics, status), never a silent drop. ZeroMQ's heartbeats
//        (ZMTP 3.1) detect dead connections; reconnection backs off from 100 ms to 5 s.
//   zap  REP at inproc://zeromq.zap.01.
// Other threads talk to the runtime through a locked inbox and an eventfd that wakes its poll.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "node/gossip.hpp"
#include "node/order_plane.hpp"
#include "node/writer.hpp"
#include "storage/store.hpp"

namespace umupaka {

struct NetworkOptions {
  std::string self;
  std::string listen;            // "tcp://127.0.0.1:7500"
  std::string transport_public;  // Z85
  std::string transport_secret;  // Z85
  GossipConfig gossip;
  swim::LinkClass default_link = swim::LinkClass::wan;
  std::map<std::string, swim::LinkClass, std::less<>> links;
  uint32_t tick_ms = 20;
  SecretSeed signing_seed{};  // the node's key: signs ledger heads when it leads
  OrderOptions order;         // Raft timings; self/network_id filled in by the runtime
  // Told (on the network thread) what peers' digests claimed (NodeCore::note_peer_claims).
  std::function<void(const PeerClaims&)> peer_claims;
};

struct NetworkCounters {
  uint64_t frames_in = 0, frames_out = 0, bytes_in = 0, bytes_out = 0;
  uint64_t frames_rejected = 0;   // oversized or undecodable
  uint64_t send_would_block = 0;  // EAGAIN: the peer's high-water mark is reached
  uint64_t send_unreachable = 0;  // EHOSTUNREACH: no connection to the peer
  uint64_t zap_admitted = 0, zap_refused = 0;
  uint64_t ingest_refused = 0;  // the writer's queue was full: fetched again later
  uint64_t redials = 0;  // peers dialled again: they reached us while we had no connection to them
};

struct NetworkStatus {
  std::vector<PeerStatus> peers;
  GossipStats gossip;
  uint64_t records_held = 0;  // out-of-order records held for their predecessors (GossipCore)
  NetworkCounters counters;
  std::map<std::string, uint64_t, std::less<>> quarantine;
  std::map<std::string, uint64_t, std::less<>> seen_by_peers;  // origin -> highest seq a peer holds
  OrderStatus order;
};

class NetworkRuntime {
 public:
  // `store` and `writer` must outlive the runtime.
  NetworkRuntime(NetworkOptions options, Store& store, Writer& writer);
  ~NetworkRuntime();
  NetworkRuntime(const NetworkRuntime&) = delete;
  NetworkRuntime& operator=(const NetworkRuntime&) = delete;

  // Binds, connects to the peers of `membership` and starts the thread. Errc::io.
  Status start(const Membership& membership,
               const std::map<std::string, uint64_t, std::less<>>& quarantine);
  void stop();

  // From the writer's commit hook (any thread, must not block).
  void notify_committed(const std::vector<SignedRecord>& local, const Membership* changed);

  NetworkStatus status() const;
  // The membership as the network thread last applied it.
  Membership membership() const;
  // Highest seq of `origin` some peer is known to hold.
  uint64_t seen_by_peers(std::string_view origin) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace umupaka

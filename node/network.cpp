#include "node/network.hpp"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <set>
#include <zmq.hpp>

#include "ledger/assert.hpp"
#include "ledger/limits.hpp"
#include "node/clock.hpp"
#include "node/frame_route.hpp"
#include "node/store_feeds.hpp"

namespace umupaka {
namespace {

constexpr const char* zap_endpoint = "inproc://zeromq.zap.01";
// A peer we cannot send to although its messages reach us is dialled again after this long, and
// at most this often (ZeroMQ's own reconnection after a dropped connection takes ≤ 500 ms).
constexpr int64_t peer_redial_ms = 2000;
// Any peer we have had no connection to for this long is dialled again, at most this often (see
// redial_if_refused).
constexpr int64_t peer_redial_idle_ms = 10'000;
constexpr const char* zap_domain = "umupaka";

}  // namespace

struct NetworkRuntime::Impl {
  NetworkOptions opt;
  Store& store;
  Writer& writer;
  GossipCore gossip;
  FrontierCache frontier_cache;  // the network thread's, as the gossip core
  zmq::context_t ctx{1};
  std::unique_ptr<zmq::socket_t> in, out, zap;
  int wake_fd = -1;  // set before the thread starts, closed by stop() under wake_mu
  std::mutex wake_mu;
  std::thread thread;
  std::atomic<bool> running{false};

  // Shared with other threads.
  mutable std::mutex mu;
  struct Ingested {
    IngestBatch batch;
    std::vector<IngestResult> results;
  };
  std::vector<SignedRecord> committed_local;
  std::optional<Membership> membership_update;
  std::deque<Ingested> ingested;
  std::deque<std::function<void()>> posted;  // closures to run on the network thread
  NetworkStatus snapshot;
  std::unique_ptr<OrderPlane> order;
  Membership membership_snapshot;

  // Network-thread state.
  Membership membership;
  // Each peer's endpoint, the routing id of our connection to it on `out` and the transport key it
  // was dialled with. The routing id is the site id, or "site~N" when dialled again (libzmq
  // asserts if a new connection reuses the routing id of one it has not finished tearing down).
  struct Dialled {
    std::string endpoint;
    std::string route;
    std::string key;
  };
  std::map<std::string, Dialled, std::less<>> connected;
  std::set<std::string, std::less<>> dialled_before;
  uint64_t dials = 0;
  // Peers our `out` socket has no connection to (sends fail EHOSTUNREACH), since when; and when
  // each was last dialled again (see redial_if_refused).
  std::map<std::string, int64_t, std::less<>> unreachable_since;
  std::map<std::string, int64_t, std::less<>> redialled_at;
  NetworkCounters counters;

  Impl(NetworkOptions o, Store& s, Writer& w)
      : opt(std::move(o)), store(s), writer(w), gossip(opt.self, opt.gossip) {}

  // The order plane, once this site is a member (at start, or when its certification arrives).
  void start_order() {
    if (order || membership.site(opt.self) == nullptr) return;
    OrderOptions oo = opt.order;
    oo.self = opt.self;
    oo.network_id = membership.network_id();
    Impl* impl = this;
    order = std::make_unique<OrderPlane>(
        oo, membership, opt.signing_seed, store,
        // The writer applies; its callback comes back to this thread through `posted`.
        [impl](LedgerWork work, OrderPlane::ApplyDone done) {
          return impl->writer.submit_apply(
              std::move(work), [impl, done = std::move(done)](Result<ApplyOutcome> r) mutable {
                {
                  std::lock_guard lock(impl->mu);
                  impl->posted.push_back(
                      [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
                }
                impl->wake();
              });
        },
        [impl](const std::string& to, raft::Message rm) {
          GossipMessage g;
          g.type = GossipType::raft;
          g.from = impl->opt.self;
          g.raft = std::move(rm);
          return impl->send_frame(to, g);
        },
        [impl](const LedgerHead& h) {
          GossipMessage g;
          g.type = GossipType::head;
          g.from = impl->opt.self;
          g.head = h;
          for (const auto& [id, ep] : impl->connected) impl->send_frame(id, g);
        },
        [impl](const std::string& peer, const std::vector<WantedChain>& wanted) {
          if (peer.empty()) return;
          auto feeds = impl->feeds();
          impl->gossip.request_catch_up(peer, *feeds, steady_clock_ms());
          if (!wanted.empty()) impl->gossip.request_versions(peer, wanted, steady_clock_ms());
        },
        [impl](const std::string& to, const LedgerSegment& segment, bool request) {
          GossipMessage g;
          g.type = request ? GossipType::ledger_fetch : GossipType::ledger_rows;
          g.from = impl->opt.self;
          g.segment = segment;
          impl->send_frame(to, g);
        });
    if (auto s = order->start(); !s.ok()) {
      spdlog::warn("order plane not started: {}", s.error().message);
      order.reset();
    }
  }

  // From any thread. The writer's callbacks still call it while stop() closes the descriptor
  // (the writer stops after the network): under wake_mu, a closed one is never written to (nor a
  // descriptor number reused by then).
  void wake() {
    std::lock_guard lock(wake_mu);
    if (wake_fd < 0) return;
    const uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
  }

  std::unique_ptr<StoreFeeds> feeds() {
    auto txn = store.read();
    UMUPAKA_ASSERT_MSG(txn.ok(), "cannot open a read transaction");
    return std::make_unique<StoreFeeds>(std::move(txn).value(), &frontier_cache);
  }

  void connect_peers() {
    std::map<std::string, std::string, std::less<>> wanted;
    for (const auto& [id, s] : membership.sites())
      if (id != opt.self && !s.revoked_after) wanted[id] = s.entry.peer;
    for (auto it = connected.begin(); it != connected.end();) {
      auto w = wanted.find(it->first);
      const MemberSite* s = membership.site(it->first);
      // A new endpoint or a new transport key (a site certified again): dial it again.
      if (w == wanted.end() || w->second != it->second.endpoint ||
          s->entry.transport_key != it->second.key) {
        try {
          out->disconnect(it->second.endpoint);
        } catch (const zmq::error_t&) {
        }
        it = connected.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& [id, endpoint] : wanted)
      if (!connected.count(id)) dial(id, endpoint);
    gossip.set_membership(membership, opt.links, opt.default_link, steady_clock_ms());
  }

  void dial(const std::string& id, const std::string& endpoint) {
    const MemberSite* s = membership.site(id);
    uint8_t server_key[32];
    if (s == nullptr || zmq_z85_decode(server_key, s->entry.transport_key.c_str()) == nullptr) {
      spdlog::error("peer {}: invalid transport key", id);
      return;
    }
    try {
      const std::string route =
          dialled_before.insert(id).second ? id : id + "~" + std::to_string(++dials);
      out->set(zmq::sockopt::curve_serverkey, zmq::const_buffer(server_key, 32));
      out->set(zmq::sockopt::connect_routing_id, route);
      out->connect(endpoint);
      connected[id] = Dialled{endpoint, route, s->entry.transport_key};
    } catch (const zmq::error_t& e) {
      spdlog::error("peer {}: cannot connect to {}: {}", id, endpoint, e.what());
    }
  }

  void note_send(const std::string& to, bool unreachable) {
    if (!unreachable) {
      unreachable_since.erase(to);
      redialled_at.erase(to);
    } else {
      unreachable_since.try_emplace(to, steady_clock_ms());
    }
  }

  // A peer that refused our CURVE handshake (its ZAP did not know our key yet: a site certified
  // after the genesis dials every member at once, before they have its certification) is never
  // dialled again by ZeroMQ: a refused handshake is a protocol error, which ends the connection
  // for good. So when a peer's messages reach us (it knows us now) while we have had no
  // connection to it for `peer_redial_ms`, dial it again, at most that often. (Two sites cannot
  // both refuse each other: a node dials only sites it knows, and knowledge only grows.) Any other
  // connection ZeroMQ ended for good, with a peer whose messages do not reach us, is dialled again
  // after `peer_redial_idle_ms` (`redial_idle`), at most that often.
  void redial_if_refused(const std::string& from, int64_t after_ms = peer_redial_ms) {
    const auto u = unreachable_since.find(from);
    const auto c = connected.find(from);
    if (u == unreachable_since.end() || c == connected.end()) return;
    const int64_t now = steady_clock_ms();
    if (now - u->second < after_ms) return;
    const auto r = redialled_at.find(from);
    if (r != redialled_at.end() && now - r->second < after_ms) return;
    // Logged once per outage (a site offline for a day is dialled again every 10 s).
    spdlog::log(r == redialled_at.end() ? spdlog::level::info : spdlog::level::debug,
                "peer {}: no connection to it for {} ms; dialling again", from, now - u->second);
    redialled_at[from] = now;
    ++counters.redials;
    const std::string endpoint = c->second.endpoint;
    try {
      out->disconnect(endpoint);
    } catch (const zmq::error_t&) {
    }
    connected.erase(c);
    dial(from, endpoint);
  }

  void redial_idle() {
    std::vector<std::string> peers;
    for (const auto& [id, since] : unreachable_since) peers.push_back(id);
    for (const auto& id : peers) redial_if_refused(id, peer_redial_idle_ms);
  }

  // ZAP (RFC 27): admit CURVE clients whose key is certified; name their site as User-Id.
  void handle_zap() {
    std::vector<zmq::message_t> req;
    for (;;) {
      zmq::message_t part;
      if (!zap->recv(part, zmq::recv_flags::dontwait)) break;
      const bool more = part.more();
      req.push_back(std::move(part));
      if (!more) break;
    }
    if (req.size() < 6) return;
    std::string status = "400", text = "refused", user;
    const std::string mechanism = req[5].to_string();
    if (mechanism == "CURVE" && req.size() >= 7 && req[6].size() == 32) {
      char z85[41] = {};
      zmq_z85_encode(z85, static_cast<const uint8_t*>(req[6].data()), 32);
      if (auto site = membership.site_of_transport_key(z85); site && *site != opt.self) {
        status = "200";
        text = "OK";
        user = *site;
      }
    }
    (status == "200" ? counters.zap_admitted : counters.zap_refused)++;
    if (status != "200") spdlog::warn("refused a peer connection: key not certified");
    zap->send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
    zap->send(req[1], zmq::send_flags::sndmore);
    zap->send(zmq::buffer(status), zmq::send_flags::sndmore);
    zap->send(zmq::buffer(text), zmq::send_flags::sndmore);
    zap->send(zmq::buffer(user), zmq::send_flags::sndmore);
    zap->send(zmq::str_buffer(""), zmq::send_flags::none);
  }

  void handle_in(std::unique_ptr<StoreFeeds>& feeds) {
    for (int n = 0; n < 256; ++n) {
      zmq::message_t id, payload;
      if (!in->recv(id, zmq::recv_flags::dontwait)) return;
      if (!id.more() || !in->recv(payload, zmq::recv_flags::none)) continue;
      while (payload.more()) {  // unexpected extra frames: drain and reject
        zmq::message_t extra;
        (void)in->recv(extra, zmq::recv_flags::none);
        payload.rebuild(0);
        ++counters.frames_rejected;
      }
      ++counters.frames_in;
      counters.bytes_in += payload.size();
      const char* user = zmq_msg_gets(payload.handle(), "User-Id");
      if (user == nullptr || payload.size() > limits::gossip_frame_bytes_max) {
        ++counters.frames_rejected;
        continue;
      }
      auto m = decode_gossip(payload.to_string_view());
      if (!m.ok()) {
        ++counters.frames_rejected;
        continue;
      }
      if (m->from != user) {
        ++counters.frames_rejected;
        continue;
      }
      redial_if_refused(m->from);
      switch (route_frame(*m, user)) {
        case FrameRoute::refused:
          ++counters.frames_rejected;
          continue;
        case FrameRoute::order:
          // The order plane writes: no read transaction of this thread may be open (growing the
          // LMDB map waits for every transaction to end, this thread's own too).
          feeds.reset();
          if (order) deliver_to_order(*order, std::move(m).value(), user, steady_clock_ms());
          continue;
        case FrameRoute::gossip:
          break;
      }
      if (!feeds) feeds = this->feeds();
      gossip.on_message(user, std::move(m).value(), *feeds, steady_clock_ms());
    }
  }

  // The routing id of our connection to `to` on `out` (see Dialled).
  const std::string& route(const std::string& to) const {
    const auto c = connected.find(to);
    return c == connected.end() ? to : c->second.route;
  }

  // Whether ZeroMQ took the frame (false: the peer is not connected, or its queue is full).
  bool send_frame(const std::string& to, const GossipMessage& message) {
    const std::string frame = encode_gossip(message);
    try {
      auto sent =
          out->send(zmq::buffer(route(to)), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      if (sent) sent = out->send(zmq::buffer(frame), zmq::send_flags::dontwait);
      if (!sent) {
        ++counters.send_would_block;
      } else {
        ++counters.frames_out;
        counters.bytes_out += frame.size();
      }
      note_send(to, false);
      return sent.has_value();
    } catch (const zmq::error_t& e) {
      if (e.num() == EHOSTUNREACH) ++counters.send_unreachable;
      note_send(to, e.num() == EHOSTUNREACH);
      return false;
    }
  }

  void flush(std::unique_ptr<StoreFeeds>& feeds) {
    if (opt.peer_claims) opt.peer_claims(gossip.claims());
    for (auto& o : gossip.take_messages()) {
      const std::string frame = encode_gossip(o.message);
      try {
        auto sent = out->send(zmq::buffer(route(o.to)),
                              zmq::send_flags::sndmore | zmq::send_flags::dontwait);
        if (sent) sent = out->send(zmq::buffer(frame), zmq::send_flags::dontwait);
        if (!sent) {
          ++counters.send_would_block;
          gossip.on_send_failed(o.to);
        } else {
          ++counters.frames_out;
          counters.bytes_out += frame.size();
        }
        note_send(o.to, false);
      } catch (const zmq::error_t& e) {
        note_send(o.to, e.num() == EHOSTUNREACH);
        if (e.num() == EHOSTUNREACH) {
          ++counters.send_unreachable;
        } else {
          spdlog::warn("send to {}: {}", o.to, e.what());
        }
        gossip.on_send_failed(o.to);
      }
    }
    for (auto& batch : gossip.take_ingest()) {
      auto records = batch.records;
      const IngestKind kind = batch.kind;
      auto shared = std::make_shared<IngestBatch>(std::move(batch));
      const bool queued = writer.submit_ingest(
          std::move(records), kind, [this, shared](Result<std::vector<IngestResult>> r) {
            std::lock_guard lock(mu);
            ingested.push_back(Ingested{
                std::move(*shared), r.ok() ? std::move(r).value() : std::vector<IngestResult>{}});
            wake();
          });
      if (!queued) ++counters.ingest_refused;
    }
    (void)feeds;
  }

  void publish() {
    NetworkStatus s;
    if (order) s.order = order->status();
    s.peers = gossip.peers();
    s.gossip = gossip.stats();
    s.records_held = gossip.records_held();
    s.counters = counters;
    for (const auto& [id, site] : membership.sites())
      s.seen_by_peers[id] = gossip.seen_by_peers(id);
    s.seen_by_peers[root_origin] = gossip.seen_by_peers(root_origin);
    std::lock_guard lock(mu);
    s.quarantine = snapshot.quarantine;
    snapshot = std::move(s);
  }

  // The status the API serves (/v1/status) is at most this old: fresh enough to watch a failover.
  static constexpr int64_t status_publish_ms = 50;

  void loop() {
    int64_t next_tick = steady_clock_ms();
    int64_t next_publish = 0;
    while (running) {
      const int64_t now = steady_clock_ms();
      int64_t wake_at = std::min(next_tick, gossip.push_due_ms().value_or(next_tick));
      if (order) wake_at = std::min(wake_at, order->next_due_ms());
      const long timeout = std::max<int64_t>(0, wake_at - now);
      zmq::pollitem_t items[] = {{in->handle(), 0, ZMQ_POLLIN, 0},
                                 {zap->handle(), 0, ZMQ_POLLIN, 0},
                                 {nullptr, wake_fd, ZMQ_POLLIN, 0}};
      try {
        zmq::poll(items, 3, std::chrono::milliseconds(timeout));
      } catch (const zmq::error_t& e) {
        if (e.num() == ETERM) return;
        continue;
      }
      std::unique_ptr<StoreFeeds> feeds;
      if (items[1].revents & ZMQ_POLLIN) handle_zap();
      if (items[2].revents & ZMQ_POLLIN) {
        uint64_t v = 0;
        [[maybe_unused]] auto n = ::read(wake_fd, &v, sizeof v);
      }
      // Notifications from other threads.
      std::vector<SignedRecord> local;
      std::optional<Membership> update;
      std::deque<Ingested> done;
      std::deque<std::function<void()>> closures;
      {
        std::lock_guard lock(mu);
        local.swap(committed_local);
        update.swap(membership_update);
        done.swap(ingested);
        closures.swap(posted);
      }
      for (auto& f : closures) f();
      if (update) {
        membership = std::move(*update);
        connect_peers();
        // The Raft configuration follows the membership through the log (the leader proposes).
        if (order)
          order->on_membership(membership);
        else
          start_order();
        std::lock_guard lock(mu);
        membership_snapshot = membership;
      }
      if (!local.empty()) gossip.on_committed(local, steady_clock_ms());
      gossip.flush_pushes(steady_clock_ms());
      for (auto& d : done) {
        if (!feeds) feeds = this->feeds();
        if (d.results.size() == d.batch.records.size() || d.batch.kind == IngestKind::evidence) {
          uint64_t own = 0, own_last = 0;
          for (const auto& r : d.results) {
            if (r.outcome == IngestOutcome::equivocation) {
              std::lock_guard lock(mu);
              snapshot.quarantine[r.origin] = r.seq;
            }
            if (r.outcome == IngestOutcome::stored && r.origin == opt.self &&
                d.batch.kind == IngestKind::feed) {
              ++own;
              own_last = std::max(own_last, r.seq);
            }
          }
          if (own > 0)
            spdlog::warn(
                "took back {} records of this site's own feed from {} (up to seq {}): this store "
                "had lost them (restored from a backup?); recording resumes once it holds them all",
                own, d.batch.from, own_last);
          gossip.on_ingested(d.batch, d.results, *feeds, steady_clock_ms());
        }
      }
      if (items[0].revents & ZMQ_POLLIN) handle_in(feeds);
      if (steady_clock_ms() >= next_tick) {
        if (!feeds) feeds = this->feeds();
        gossip.on_tick(*feeds, steady_clock_ms());
        redial_idle();
        next_tick = steady_clock_ms() + opt.tick_ms;
      }
      if (order) {
        feeds.reset();  // the order plane opens its own snapshots and writes
        order->tick(steady_clock_ms(), wall_clock_ms());
      }
      flush(feeds);
      if (steady_clock_ms() >= next_publish) {
        publish();
        next_publish = steady_clock_ms() + status_publish_ms;
      }
    }
  }
};

NetworkRuntime::NetworkRuntime(NetworkOptions options, Store& store, Writer& writer)
    : impl_(std::make_unique<Impl>(std::move(options), store, writer)) {}

NetworkRuntime::~NetworkRuntime() { stop(); }

Status NetworkRuntime::start(const Membership& membership,
                             const std::map<std::string, uint64_t, std::less<>>& quarantine) {
  Impl& m = *impl_;
  if (!zmq_has("curve")) return make_error(Errc::io, "libzmq was built without CURVE");
  m.membership = membership;
  m.membership_snapshot = membership;
  m.gossip.set_quarantine(quarantine);
  if (auto txn = m.store.read(); txn.ok())
    for (const auto& e : (*txn)->evidence()) m.gossip.set_evidence(e.origin, e.a, e.b);
  m.snapshot.quarantine = quarantine;
  m.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (m.wake_fd < 0) return make_error(Errc::io, "eventfd failed");
  try {
    m.zap = std::make_unique<zmq::socket_t>(m.ctx, zmq::socket_type::rep);
    m.zap->set(zmq::sockopt::linger, 0);
    m.zap->bind(zap_endpoint);

    m.in = std::make_unique<zmq::socket_t>(m.ctx, zmq::socket_type::router);
    m.in->set(zmq::sockopt::linger, 0);
    m.in->set(zmq::sockopt::curve_server, 1);
    m.in->set(zmq::sockopt::curve_secretkey, m.opt.transport_secret);
    m.in->set(zmq::sockopt::zap_domain, zap_domain);
    m.in->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(limits::gossip_frame_bytes_max));
    m.in->set(zmq::sockopt::rcvhwm, limits::peer_receive_hwm_messages);
    m.in->set(zmq::sockopt::heartbeat_ivl, 1000);
    m.in->set(zmq::sockopt::heartbeat_timeout, 5000);
    m.in->bind(m.opt.listen);

    m.out = std::make_unique<zmq::socket_t>(m.ctx, zmq::socket_type::router);
    m.out->set(zmq::sockopt::linger, 0);
    m.out->set(zmq::sockopt::router_mandatory, 1);
    m.out->set(zmq::sockopt::sndhwm, limits::peer_send_hwm_messages);
    m.out->set(zmq::sockopt::routing_id, m.opt.self);
    m.out->set(zmq::sockopt::curve_publickey, m.opt.transport_public);
    m.out->set(zmq::sockopt::curve_secretkey, m.opt.transport_secret);
    m.out->set(zmq::sockopt::reconnect_ivl, 100);
    m.out->set(zmq::sockopt::reconnect_ivl_max, 500);
    m.out->set(zmq::sockopt::heartbeat_ivl, 1000);
    m.out->set(zmq::sockopt::heartbeat_timeout, 5000);
    m.out->set(zmq::sockopt::heartbeat_ttl, 10000);
  } catch (const zmq::error_t& e) {
    return make_error(Errc::io,
                      "cannot set up the peer endpoint " + m.opt.listen + ": " + e.what());
  }
  m.connect_peers();
  m.start_order();
  m.running = true;
  m.thread = std::thread([&m] { m.loop(); });
  return {};
}

void NetworkRuntime::stop() {
  Impl& m = *impl_;
  if (!m.running.exchange(false)) return;
  m.wake();
  if (m.thread.joinable()) m.thread.join();
  m.in.reset();
  m.out.reset();
  m.zap.reset();
  m.ctx.close();
  std::lock_guard lock(m.wake_mu);
  if (m.wake_fd >= 0) ::close(m.wake_fd);
  m.wake_fd = -1;
}

void NetworkRuntime::notify_committed(const std::vector<SignedRecord>& local,
                                      const Membership* changed) {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    m.committed_local.insert(m.committed_local.end(), local.begin(), local.end());
    if (changed != nullptr) m.membership_update = *changed;
  }
  m.wake();
}

NetworkStatus NetworkRuntime::status() const {
  std::lock_guard lock(impl_->mu);
  return impl_->snapshot;
}

Membership NetworkRuntime::membership() const {
  std::lock_guard lock(impl_->mu);
  return impl_->membership_snapshot;
}

uint64_t NetworkRuntime::seen_by_peers(std::string_view origin) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->snapshot.seen_by_peers.find(origin);
  return it == impl_->snapshot.seen_by_peers.end() ? 0 : it->second;
}

}  // namespace umupaka

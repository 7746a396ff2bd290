// SWIM failure detector (Das, Gupta, Motivala 2002) with the Lifeguard refinements that matter
// here (Dadgar et al. 2018: nacks and local health), as a pure, deterministic state machine.
//
// Every node probes its peers in a shuffled round-robin: ping, then, if no ack arrives within the
// probe timeout, ping_req through a few other members; a peer that answers none of them by the end
// of the probe period is *suspect*, and a suspicion not refuted within the suspicion timeout makes
// it *dead*. State changes travel piggybacked on the probe messages themselves (infection-style
// dissemination). All timings depend on the link class of the probed peer: a satellite embassy is
// given the time its ~600 ms round trip needs, a LAN peer at HQ is not.
//
// Pure: no I/O, no clock, no threads. Time is an input (`now_ms`, any monotonic millisecond clock;
// calls must not go back in time); randomness comes from Config::seed. The same calls with the same
// seed produce the same messages and events, byte for byte.
//
// Membership is not gossiped: the caller adds and removes members from the committed, root-signed
// membership records. The detector never invents a member; updates and messages about ids it was
// not given are ignored.
//
// Beyond the paper, because membership is fixed by records rather than by joins:
//  - Dead members stay in the probe rotation (direct ping only, no verdict), so a site that
//    comes back after a partition or a restart is noticed without a join protocol.
//  - Every message to a member we hold suspect or dead carries that belief first ("tell the
//    accused", Lifeguard's buddy system), so it can refute even after the gossip has died down;
//    a refutation (alive at a higher incarnation) is what revives it, never mere contact.
//  - A node that hears a stale accusation (below its incarnation) repeats its current alive.
//
// Driving it (single thread, no reentrancy):
//   Detector d("gatuna", config);          // config.validate() must be ok
//   d.add_member("hq", LinkClass::wan);     // from membership records
//   every ~10-50 ms:  d.tick(now_ms);
//   on each frame:    d.on_message(decoded, now_ms);
//   after each call:  for (auto& m : d.take_outbox()) transport.send(m.to, encode(m));
//                     for (auto& e : d.take_events()) log / tell gossip and Raft;
// Ticks set the resolution of every timer: a tick every g ms delays each timer by at most g.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ledger/enum_names.hpp"
#include "ledger/limits.hpp"
#include "ledger/result.hpp"

namespace umupaka::swim {

// How this node reaches a peer. Decided by the operator per site pair (membership records), not
// measured, so that timings are stable and every run is reproducible.
enum class LinkClass : uint8_t { lan, wan, satellite };

enum class MemberState : uint8_t { alive, suspect, dead };

// --- Limits (DESIGN.md §7). Local to the detector; they move to ledger/limits.hpp when the gossip
// runtime is wired in. -----------------------------------------------------------------------

// Members one detector tracks. The network is on the order of 100 sites (border posts, airports,
// embassies, HQ, DR); 1024 is 10x that and keeps the per-message sort of the update queue cheap.
inline constexpr size_t members_max = 1024;
// The most an update may raise a member's incarnation over what this node knows (its own
// included). A member raises its own by one per refutation; a node cut off for a long time may
// miss many. Beyond this the update is ignored: no peer can push an incarnation to 2^64-1, where
// its owner could never refute again.
inline constexpr uint64_t incarnation_jump_max = uint64_t{1} << 20;
// Updates queued for dissemination: at most one per member plus one about ourselves (a newer
// update about a member replaces the queued one), so this bound holds by construction.
inline constexpr size_t updates_queued_max = members_max + 1;
// Updates piggybacked on one message: bounded by the msgpack codec's array limit, so that every
// message the detector builds also decodes; 64 updates of <= 64-byte ids stay under 6 KiB.
inline constexpr uint32_t piggyback_updates_limit =
    static_cast<uint32_t>(limits::msgpack_array_items_max);
// Helpers asked per failed direct probe. Lifeguard uses 3; more than 8 adds load for no accuracy.
inline constexpr uint32_t indirect_probes_max = 8;
// Retransmit multiplier: memberlist uses 4 on LANs; beyond 16 updates only add bandwidth.
inline constexpr uint32_t retransmit_multiplier_max = 16;
// ping_req relays this node serves at once. Each prober asks `indirect_probes` helpers per period,
// so a helper normally serves a handful; past this the request is refused (Stats::relays_refused).
inline constexpr size_t relays_pending_max = 256;
// Messages waiting in the outbox. One call emits at most 1 + indirect_probes_max + the relays that
// expire; the caller drains after every call. Past this a message is dropped and counted
// (Stats::outbox_dropped): the protocol tolerates loss by design.
inline constexpr size_t outbox_messages_max = 1024;
// Events waiting for take_events(). Past this an event is dropped and counted.
inline constexpr size_t events_queued_max = 4096;
// Lifeguard local health: probe interval and probe timeout are multiplied by (1 + local_health),
// local_health in [0, local_health_multiplier_max - 1]. memberlist uses 8.
inline constexpr uint32_t local_health_multiplier_max = 8;
// Timing sanity: a probe interval above 10 minutes or a suspicion timeout above 1 hour is a typo,
// and these bounds keep every deadline far from int64 overflow.
inline constexpr uint32_t probe_interval_ms_max = 10 * 60 * 1000;
inline constexpr uint32_t suspicion_timeout_ms_max = 60 * 60 * 1000;
// A suspect must get at least this many probe periods to hear the accusation and refute it.
inline constexpr uint32_t suspicion_periods_min = 2;

static_assert(piggyback_updates_limit >= 2, "room for the accused's own state and one more");
static_assert(updates_queued_max > members_max);
static_assert(outbox_messages_max >= 1 + indirect_probes_max + relays_pending_max,
              "one tick can emit a ping, the ping_reqs and a nack per expiring relay");
static_assert(uint64_t{probe_interval_ms_max} * local_health_multiplier_max <
              uint64_t{std::numeric_limits<int32_t>::max()});

// --- Configuration ---------------------------------------------------------------------------

// Timings for probing a peer over one link class.
//   probe_interval_ms:    one probe period (the time between two probes this node starts).
//   probe_timeout_ms:     wait for a direct ack before asking helpers (ping_req).
//   indirect_timeout_ms:  a helper's wait for the target's ack before it answers nack.
//   suspicion_timeout_ms: how long a suspect has to refute before it is declared dead.
// Constraint: probe_timeout + indirect_timeout < probe_interval; the remainder is the budget for
// the prober <-> helper round trip of the relayed ack or nack.
struct Timing {
  uint32_t probe_interval_ms = 0;
  uint32_t probe_timeout_ms = 0;
  uint32_t indirect_timeout_ms = 0;
  uint32_t suspicion_timeout_ms = 0;
  friend bool operator==(const Timing&, const Timing&) = default;
};

struct Config {
  // LAN (HQ, the airport's own segment): RTT < 1 ms. A 200 ms timeout tolerates a loaded host's
  // scheduling stalls; 500 ms periods detect a crash within seconds; 3 s (6 periods) is ample
  // for the accused to hear the suspicion and refute it. Helpers get 200 ms; 100 ms remain for
  // the prober <-> helper round trip (helpers are picked on links no slower than the target's).
  Timing lan{500, 200, 200, 3'000};
  // WAN (national fibre to border posts: RTT 10-60 ms; internet to embassies: up to ~350 ms).
  // 500 ms direct timeout covers the worst embassy RTT with jitter; helpers get the same 500 ms;
  // the period is 1.5 s (not 1 s) so the remaining 500 ms still carry the relayed answer across
  // an intercontinental helper. 10 s of suspicion rides out a routing flap.
  Timing wan{1'500, 500, 500, 10'000};
  // Satellite (VSAT to remote posts and embassies): RTT ~600 ms, jitter to ~800 ms, bursty loss
  // in rain fade. 1.5 s direct timeout = 2.5 RTT; helpers wait 1.5 s as well; 1 s remains for the
  // prober <-> helper round trip, which itself may cross the satellite (prober on VSAT). A 2 s
  // period could not fit one indirect round trip, hence 4 s. 30 s of suspicion lets refutations
  // cross the slow hop several times before anyone declares a site dead.
  Timing satellite{4'000, 1'500, 1'500, 30'000};
  // Helpers per failed direct probe (Lifeguard's 3): with 3 independent paths a 30%-lossy peer
  // fails a probe in ~7% of periods instead of ~51%.
  uint32_t indirect_probes = 3;
  // Updates piggybacked per message. 8 spreads a burst (a site and its neighbours failing) fast
  // while keeping a ping under 1 KiB. Chosen fewest-sent first, then newest first; none about the
  // recipient itself, except our belief that it is suspect or dead, which always goes first.
  uint32_t piggyback_updates_max = 8;
  // Each update is sent about retransmit_multiplier * ceil(log2(n + 1)) times (n = cluster size
  // including this node): enough for infection-style dissemination to reach everyone w.h.p.
  uint32_t retransmit_multiplier = 3;
  // Seeds the round-robin shuffles and helper choice. Give each node its own (e.g. a hash of the
  // site id and boot counter); the same seed replays the same run.
  uint64_t seed = 0;

  const Timing& timing(LinkClass link) const;
  // ok, or Errc::invalid_field naming the offending field ("wan.probe_timeout_ms").
  Status validate() const;
};

// --- Messages --------------------------------------------------------------------------------

enum class MessageType : uint8_t {
  ping,      // from -> to: are you there? `target` = `to`.
  ack,       // answer to a ping (`target` = the pinged member) or relayed by a helper (seq is the
             // prober's seq of the ping_req).
  ping_req,  // prober -> helper: ping `target` for me, answer with ack or nack under my `seq`.
  nack,      // helper -> prober: `target` did not answer me in time (so my link to you works).
};

// One piece of gossip: `member` is in `state` at `incarnation`.
struct Update {
  std::string member;
  MemberState state = MemberState::alive;
  uint64_t incarnation = 0;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("member", s.member);
    v("state", s.state);
    v("incarnation", s.incarnation);
  }
  friend bool operator==(const Update&, const Update&) = default;
};

struct Message {
  MessageType type = MessageType::ping;
  std::string from;
  std::string to;
  uint64_t seq = 0;             // the prober's sequence number; acks and nacks echo it
  std::string target;           // the member whose liveness is in question
  std::vector<Update> updates;  // piggybacked gossip, at most piggyback_updates_limit
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("type", s.type);
    v("from", s.from);
    v("to", s.to);
    v("seq", s.seq);
    v("target", s.target);
    v("updates", s.updates);
  }
  friend bool operator==(const Message&, const Message&) = default;
};

// "Never": the last_contact_ms of a member never heard from directly.
inline constexpr int64_t never_ms = std::numeric_limits<int64_t>::min();

// --- The detector ----------------------------------------------------------------------------

class Detector {
 public:
  struct Member {
    std::string id;
    LinkClass link = LinkClass::lan;
    MemberState state = MemberState::alive;
    uint64_t incarnation = 0;
    int64_t last_contact_ms = never_ms;  // last message received directly from it
    int64_t state_since_ms = 0;          // when this node last changed its state
    friend bool operator==(const Member&, const Member&) = default;
  };

  // A state change of a member as this node saw it.
  struct Event {
    std::string member;
    MemberState from = MemberState::alive;
    MemberState to = MemberState::alive;
    int64_t at_ms = 0;
    friend bool operator==(const Event&, const Event&) = default;
  };

  // Counters for monitoring. Only grow.
  struct Stats {
    uint64_t probes_started = 0;
    uint64_t probes_failed = 0;     // no ack by the end of the period
    uint64_t nacks_received = 0;    // helpers that confirmed our link to them works
    uint64_t refutations = 0;       // times we heard ourselves suspected or dead and refuted
    uint64_t messages_ignored = 0;  // on_message returned an error
    uint64_t updates_ignored = 0;   // updates about ids we do not know, or beyond belief
    uint64_t relays_refused = 0;    // ping_req refused at relays_pending_max
    uint64_t outbox_dropped = 0;    // messages dropped at outbox_messages_max
    uint64_t events_dropped = 0;    // events dropped at events_queued_max
  };

  // Precondition: config.validate() is ok; `self` is a non-empty id of at most
  // limits::id_bytes_max bytes. Starts with no members and incarnation 0.
  Detector(std::string self, Config config);

  // Starts tracking `id` as alive at incarnation 0 (state_since_ms = the latest time seen).
  // Errors: invalid_field (empty, too long, or our own id), conflict (already a member),
  // limit_exceeded (members_max).
  Status add_member(const std::string& id, LinkClass link);
  // Stops tracking `id`: forgets its state, queued updates, a probe or relays involving it.
  // Errors: not_found.
  Status remove_member(const std::string& id);

  // Handles one message addressed to this node. Piggybacked updates are applied first (so a reply
  // already carries our refutation), then the message itself. Errors (the message is ignored and
  // nothing changes): invalid_field (not addressed to us, from ourselves, malformed ids, a ping
  // whose target is not us), not_found (sender or ping_req target is not a member),
  // limit_exceeded (more than piggyback_updates_limit updates; a ping_req at relays_pending_max).
  // Precondition: now_ms >= every now_ms given before.
  Status on_message(const Message& message, int64_t now_ms);

  // Advances timers: relays that time out (nack), the current probe (ping_req, verdict),
  // suspicions that expire (dead), the next probe. Precondition as on_message.
  void tick(int64_t now_ms);

  // Messages to send, in the order produced. The caller sends each to `to`; loss is tolerated.
  std::vector<Message> take_outbox();
  // State changes since the last call, in the order they happened.
  std::vector<Event> take_events();

  // Every member, sorted by id.
  std::vector<Member> members() const;
  std::optional<Member> member(const std::string& id) const;
  // The member's state alone (no copy of the rest): called per peer on every gossip step.
  std::optional<MemberState> state_of(const std::string& id) const;
  // Our own incarnation: raised only to refute a suspicion or a death notice about us.
  uint64_t incarnation() const { return incarnation_; }
  // Lifeguard local health score, 0 = healthy; raised by failed probes that helpers did not nack
  // and by refutations, lowered by successful probes.
  uint32_t local_health() const { return local_health_; }
  const Stats& stats() const { return stats_; }
  const std::string& self() const { return self_; }
  const Config& config() const { return config_; }

 private:
  struct Entry {
    LinkClass link = LinkClass::lan;
    MemberState state = MemberState::alive;
    uint64_t incarnation = 0;
    int64_t last_contact_ms = never_ms;
    int64_t state_since_ms = 0;
    int64_t suspicion_deadline_ms = 0;  // meaningful while suspect
  };
  struct Broadcast {
    Update update;
    uint32_t transmits = 0;
    uint64_t order = 0;  // enqueue order: larger = newer
  };
  struct Probe {
    std::string target;
    uint64_t seq = 0;
    int64_t timeout_at_ms = 0;  // ask helpers from here
    int64_t end_ms = 0;         // verdict here
    bool acked = false;
    bool indirect_sent = false;
    bool target_dead = false;  // probing a dead member: direct ping only, no verdict
    std::vector<std::string> helpers;
    std::vector<bool> nacked;  // parallel to helpers
  };
  struct Relay {
    std::string requester;
    uint64_t requester_seq = 0;
    std::string target;
    int64_t deadline_ms = 0;
  };

  void advance_time(int64_t now_ms);
  void apply_update(const Update& u, int64_t now_ms);
  void refute(uint64_t accused_incarnation);
  void set_state(const std::string& id, Entry& e, MemberState state, uint64_t incarnation,
                 int64_t now_ms);
  void enqueue_broadcast(Update u);
  void send(MessageType type, const std::string& to, uint64_t seq, const std::string& target);
  std::vector<Update> piggyback_for(const std::string& to);
  uint32_t retransmit_limit() const;

  void expire_relays(int64_t now_ms);
  void step_probe(int64_t now_ms);
  void finish_probe(int64_t now_ms);
  void expire_suspicions(int64_t now_ms);
  void start_probe(int64_t now_ms);
  std::optional<std::string> next_probe_target();
  std::vector<std::string> pick_helpers(const std::string& target, LinkClass link);
  void emit_event(Event e);

  uint64_t next_random();
  uint64_t uniform(uint64_t n);  // in [0, n), n > 0

  std::string self_;
  Config config_;
  uint64_t rng_state_;
  uint64_t incarnation_ = 0;
  uint32_t local_health_ = 0;
  uint64_t seq_ = 0;
  uint64_t broadcast_order_ = 0;
  int64_t now_ms_ = never_ms;
  std::optional<int64_t> next_probe_ms_;

  std::map<std::string, Entry> members_;
  // The earliest suspicion deadline of a suspect member (INT64_MAX: none), a lower bound.
  int64_t next_suspicion_deadline_ms_ = INT64_MAX;
  std::vector<std::string> probe_order_;  // this round's shuffled order
  size_t probe_index_ = 0;                // next position in probe_order_
  std::optional<Probe> probe_;
  std::map<uint64_t, Relay> relays_;             // by the seq of our ping to the target
  std::map<std::string, Broadcast> broadcasts_;  // by member; at most one each
  std::vector<Message> outbox_;
  std::vector<Event> events_;
  Stats stats_;
};

}  // namespace umupaka::swim

namespace umupaka {
UMUPAKA_ENUM_NAMES(swim::LinkClass, "lan", "wan", "satellite");
UMUPAKA_ENUM_NAMES(swim::MemberState, "alive", "suspect", "dead");
UMUPAKA_ENUM_NAMES(swim::MessageType, "ping", "ack", "ping_req", "nack");
}  // namespace umupaka

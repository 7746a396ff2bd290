// The gossip core: the data plane of DESIGN.md §3. Moves signed records between nodes and never
// lets an unverified one reach the store. Pure and single-threaded: messages, ticks and
// notifications go in; messages to send and verified records to ingest come out. Failure
// detection is the SWIM detector (swim.hpp), carried in the same messages.
//
// - Push: records newly committed at this node (its own, or new ones received by push) go to
//   `push_fanout` alive peers, up to `push_hops_max` hops from their origin. Received ones are
//   forwarded at once; the node's own wait if it pushed less than `push_interval_ms` ago, and
//   then go together (one signature check per run at each peer).
// - Anti-entropy: every interval (per link class) a random alive peer gets our frontier (the
//   head of every feed we hold); it sends back, in bounded batches, the records of every feed
//   where it is ahead, and its own frontier, so we do the same for it (push-pull). Feeds whose
//   heads agree cost nothing but their frontier entry. A full batch asks for the next at once.
// - Verification before ingest: decoded strictly, of this network, origin admitted by the
//   membership (member, not past its revocation cut-off, not quarantined). A single record needs
//   its own signature; a consecutive run of one feed needs its hash links and the newest
//   record's signature (the record hash covers the signature, so the links authenticate every
//   record and signature of the run).
// - Equivocation: two signed records of one origin that cannot both be in its feed are evidence;
//   the store keeps both, the evidence is gossiped to every peer, and the origin is quarantined.
// - Versions: records of a forked (or quarantined) origin that the committed ledger names but
//   this node does not hold in its feed are asked for by hash (`fetch`: the chain ending at a
//   hash, down to a seq); the answer (`versions`) is accepted only as that chain: the first
//   record has the hash asked for, each next one is the previous one's predecessor by prev_hash,
//   and each is signed by its origin (a member, quarantined or not).
//
// Driving it (the runtime, or the simulator):
//   core.on_message(from, message, feeds, now);  core.on_tick(feeds, now);
//   core.on_committed(local_records, now);       core.on_ingested(batch, results, now);
//   then send take_messages(), hand take_ingest() batches to the store, and call on_ingested.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "consensus/types.hpp"
#include "ledger/ledger_entry.hpp"
#include "ledger/membership.hpp"
#include "ledger/records.hpp"
#include "node/node_core.hpp"
#include "node/raft_wire.hpp"
#include "node/swim.hpp"

namespace umupaka {

// --- Wire messages ---------------------------------------------------------------------------

// A record as sent: its signed bytes and signature (the receiver recomputes the hash).
struct WireRecord {
  std::string encoded;
  Signature signature{};
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("encoded", s.encoded);
    v("signature", s.signature);
  }
};

// A feed's head as gossip exchanges it: the same shape as a ledger item.
using FrontierEntry = LedgerItem;

struct WireEvidence {
  WireRecord a;
  WireRecord b;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("a", s.a);
    v("b", s.b);
  }
};

enum class GossipType : uint8_t {
  swim,          // failure detection (swim field)
  push,          // new records (records, hops)
  digest,        // our frontier; `reply` false asks for the peer's in return
  records,       // a batch of records the peer lacks; `more` if the batch was cut at a limit
  evidence,      // equivocation evidence
  raft,          // the order plane's Raft messages (raft field)
  head,          // a ledger head signed by the leader (head field)
  fetch,         // asks for the `wanted` chains of a forked feed, by hash
  versions,      // records answering a fetch, each chain newest first
  ledger_fetch,  // a snapshot install asks for ledger rows (segment: from, size)
  ledger_rows,   // the rows answering it (segment)
};
UMUPAKA_ENUM_NAMES(GossipType, "swim", "push", "digest", "records", "evidence", "raft", "head",
                   "fetch", "versions", "ledger_fetch", "ledger_rows");

inline constexpr uint32_t gossip_version = 1;

struct GossipMessage {
  uint32_t version = gossip_version;
  GossipType type = GossipType::swim;
  std::string from;
  std::optional<swim::Message> swim;
  std::vector<WireRecord> records;
  uint32_t hops = 0;
  std::vector<FrontierEntry> frontier;
  bool reply = false;
  bool more = false;
  std::vector<WireEvidence> evidence;
  std::vector<std::string> quarantined;  // digest: origins the sender holds evidence against
  std::optional<raft::Message> raft;
  std::optional<LedgerHead> head;
  std::vector<WantedChain> wanted;       // fetch
  std::optional<LedgerSegment> segment;  // ledger_fetch, ledger_rows
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("version", s.version);
    v("type", s.type);
    v("from", s.from);
    v("swim", s.swim);
    v("records", s.records);
    v("hops", s.hops);
    v("frontier", s.frontier);
    v("reply", s.reply);
    v("more", s.more);
    v("evidence", s.evidence);
    v("quarantined", s.quarantined);
    v("raft", s.raft);
    v("head", s.head);
    v("wanted", s.wanted);
    v("segment", s.segment);
  }
};

// --- Configuration ---------------------------------------------------------------------------

struct LinkLimits {
  uint32_t anti_entropy_interval_ms = 1000;
  uint64_t bytes_per_second_max = 0;  // 0: unlimited
};

struct GossipConfig {
  swim::Config swim;
  LinkLimits lan{500, 0};
  LinkLimits wan{1'000, 4'000'000};      // a 32 Mbit/s share of a post's WAN link
  LinkLimits satellite{3'000, 128'000};  // ~1 Mbit/s VSAT share
  // Anti-entropy rounds per interval per node, at most: each peer every interval up to this many
  // peers (Rwanda's 15 sites: every peer, every interval), fewer often beyond.
  uint32_t anti_entropy_peers_max = 16;
  uint32_t push_fanout = 4;
  uint32_t push_hops_max = 2;
  // This node's new records go to peers at once unless it pushed less than this long ago; then
  // they wait, with any that follow, until this long after that push (0: every commit at once).
  // Under load a peer gets one push, so one signature check, per interval instead of one per
  // group commit; an officer's isolated record still leaves at once.
  uint32_t push_interval_ms = 20;
  uint32_t batch_records_max = 2000;    // records in one `records` message
  uint64_t batch_bytes_max = 2u << 20;  // bytes of records in one message
  uint64_t seed = 1;
  const LinkLimits& link(swim::LinkClass c) const;
  Status validate() const;
};

// --- Inputs the core reads -------------------------------------------------------------------

// Read access to the feeds this node holds (an LMDB snapshot in production).
class FeedReader {
 public:
  virtual ~FeedReader() = default;
  // Valid as long as the reader.
  virtual const std::vector<FrontierEntry>& frontier() const = 0;
  virtual std::optional<SignedRecord> record(std::string_view origin, uint64_t seq) const = 0;
  // The version of (origin, seq) with `hash`: the feed's, the evidence's or a kept one.
  virtual std::optional<SignedRecord> version(std::string_view origin, uint64_t seq,
                                              const Hash& hash) const = 0;
};

// --- Outputs ---------------------------------------------------------------------------------

struct Outgoing {
  std::string to;
  GossipMessage message;
};

struct IngestBatch {
  std::string from;  // the peer that sent them
  bool pushed = false;
  uint32_t hops = 0;
  bool more = false;  // the sender cut its batch at a limit: ask for the rest after ingest
  IngestKind kind = IngestKind::feed;
  std::vector<VerifiedRecord> records;
};

struct PeerStatus {
  std::string site;
  swim::MemberState state = swim::MemberState::alive;
  swim::LinkClass link = swim::LinkClass::wan;
  int64_t last_contact_ms = swim::never_ms;
  std::vector<FrontierEntry> frontier;  // the peer's heads as of its last digest
  uint64_t bytes_sent = 0;
  uint64_t send_failures = 0;  // reported by the transport (back-pressure, unreachable)
};

struct GossipStats {
  uint64_t messages_in = 0, messages_out = 0;
  uint64_t records_in = 0;        // records received in push/records messages
  uint64_t records_verified = 0;  // passed verification and went to ingest
  uint64_t records_stored = 0;    // ingest outcome stored
  uint64_t records_duplicate = 0;
  uint64_t records_gap = 0;       // arrived before their predecessors: fetched again
  uint64_t records_rejected = 0;  // failed verification or admission
  uint64_t signatures_verified = 0;
  uint64_t runs_verified_by_chain = 0;  // records accepted by chain links + newest signature
  uint64_t equivocations = 0;
  uint64_t messages_invalid = 0;
  uint64_t bandwidth_deferred = 0;   // batches cut short by a link's bandwidth limit
  uint64_t pending_held = 0;         // out-of-order records held until their predecessors arrive
  uint64_t pending_dropped = 0;      // held records dropped at pending_records_max (refetched)
  uint64_t catch_up_requests = 0;    // digests sent to ask a peer for what we miss
  uint64_t anti_entropy_rounds = 0;  // digests sent by the anti-entropy schedule
  uint64_t digests_skipped = 0;      // anti-entropy rounds with nothing new on either side
  uint64_t fetch_requests = 0;       // fetches of a forked feed's records by hash
  uint64_t fetches_refused = 0;      // a peer's fetches asked faster than a node asks (see below)
  uint64_t digests_refused = 0;      // a peer's digests not answered with records (too soon)
  uint64_t versions_received = 0;    // records that answered them and were verified
  uint64_t frontier_entries_dropped = 0;  // digest entries of origins unknown here, or repeated
};

// Checks a record's signature with its origin's key. Production's is Ed25519 every time
// (verify_record_signature). The simulator's memoizes across its nodes by (key, record hash):
// verification is a pure function of key, bytes and signature, and the record hash covers the
// bytes and the signature, so a memo hit is exactly the answer a fresh check would give.
using RecordVerifier = std::function<bool(const PublicKey& key, const SignedRecord& record)>;
inline bool verify_record_signature(const PublicKey& key, const SignedRecord& record) {
  return verify_signature(key, record.encoded, record.signature);
}

// Out-of-order records held while their predecessors are in flight (pushes from several peers
// arrive in any order): 8,192 records of ~1 KiB, a few seconds of national peak traffic.
inline constexpr size_t pending_records_max = 8192;
// Of them, at most this many of one origin: one peer's records far ahead of a feed cannot take
// the table. (They are not let go by age: a held record is also how a node proves a fork, when
// the other version of its slot arrives; dropping held records after a minute lost that proof
// at a leader in the byzantine swarm, seed 4000.)
inline constexpr size_t pending_per_origin_max = 2048;
// A gap older than this is fetched by anti-entropy from a peer that is ahead.
inline constexpr int64_t pending_fetch_after_ms = 300;
// Records sent to a peer are not sent again for this long, unless its frontier shows it lost
// them: covers transfer plus ingest of a full batch on a loaded node.
inline constexpr int64_t in_flight_window_ms = 2000;
// An anti-entropy round is skipped when neither side has anything new for the other (our frontier
// unchanged since our last digest to the peer, and equal to the peer's as it last told us), but
// not for longer than this: a safety net for anything the bookkeeping missed.
inline constexpr int64_t anti_entropy_refresh_ms = 30'000;
// At most one catch-up request per peer per this interval.
inline constexpr int64_t catch_up_interval_ms = 250;
// A peer's fetches are answered at most once per this interval: a node asks one peer at most once
// per catch_up_interval_ms, and an answer may be up to batch_bytes_max for a few bytes asked, so
// faster fetches (a misbehaving peer) would make this node send without bound on unmetered links.
inline constexpr int64_t fetch_answer_interval_ms = catch_up_interval_ms / 2;
// Likewise for what a peer's digests show it lacks (but a catch-up's pipelined reply, below).
inline constexpr int64_t digest_answer_interval_ms = catch_up_interval_ms / 2;

class GossipCore {
 public:
  GossipCore(std::string self, GossipConfig config);
  void set_record_verifier(RecordVerifier verifier) { verifier_ = std::move(verifier); }

  // (Re)reads the peers from the membership: every certified, unrevoked site but this one. Link
  // classes come from `links` (site -> class), default `default_link`.
  void set_membership(const Membership& membership,
                      const std::map<std::string, swim::LinkClass, std::less<>>& links,
                      swim::LinkClass default_link, int64_t now_ms);
  void set_quarantine(const std::map<std::string, uint64_t, std::less<>>& quarantine);
  // Evidence held in the store (at start): offered to peers whose digests lack it.
  void set_evidence(const std::string& origin, const SignedRecord& a, const SignedRecord& b);

  void on_message(const std::string& from, GossipMessage message, const FeedReader& feeds,
                  int64_t now_ms);
  void on_tick(const FeedReader& feeds, int64_t now_ms);
  // Records this node's writer just committed that originate here: pushed to peers, at once or
  // when due (GossipConfig::push_interval_ms).
  void on_committed(const std::vector<SignedRecord>& local, int64_t now_ms);
  // When records waiting to be pushed are due (nullopt: none wait); the driver calls
  // flush_pushes then (on_tick does too).
  std::optional<int64_t> push_due_ms() const;
  void flush_pushes(int64_t now_ms);
  // The outcome of ingesting `batch` (results parallel to batch.records).
  void on_ingested(const IngestBatch& batch, const std::vector<IngestResult>& results,
                   const FeedReader& feeds, int64_t now_ms);
  // Asks `peer` for what this node lacks (rate-limited per peer).
  void request_catch_up(const std::string& peer, const FeedReader& feeds, int64_t now_ms) {
    catch_up(peer, feeds, now_ms);
  }
  // Asks `peer` for the chains the ledger names that this node holds only in another version
  // (rate-limited per peer, like catch-up).
  void request_versions(const std::string& peer, const std::vector<WantedChain>& wanted,
                        int64_t now_ms);
  // The transport could not hand a message to `to` (high-water mark, unreachable).
  void on_send_failed(const std::string& to);

  std::vector<Outgoing> take_messages();
  std::vector<IngestBatch> take_ingest();

  std::vector<PeerStatus> peers() const;
  const GossipStats& stats() const { return stats_; }
  // Out-of-order records held right now, waiting for their predecessors (pending_records_max).
  size_t records_held() const { return pending_count_; }
  // Highest seq of `origin` that some peer reported holding (for "seen" states).
  uint64_t seen_by_peers(std::string_view origin) const;
  // What peers' digests claimed, kept as they arrive: seen_by_peers(self), the distinct peers
  // (still members) heard since this core started, and the highest seq of the root feed (the
  // membership) claimed. The runtime reads it after every round (NodeCore::note_peer_claims),
  // where a scan of every peer's frontier would cost too much.
  PeerClaims claims() const {
    return PeerClaims{own_seq_claimed_, heard_.size(), root_seq_claimed_};
  }
  const swim::Detector& detector() const { return detector_; }

 private:
  struct Peer {
    swim::LinkClass link = swim::LinkClass::wan;
    std::vector<FrontierEntry> frontier;
    int64_t next_anti_entropy_ms = 0;
    // The last digest sent to this peer: the fingerprint of our frontier then, and when.
    uint64_t digest_fingerprint = 0;
    int64_t digest_sent_ms = INT64_MIN / 2;
    double tokens = 0;  // bandwidth bucket, bytes
    int64_t tokens_at_ms = 0;
    uint64_t bytes_sent = 0;
    uint64_t send_failures = 0;
    int64_t catch_up_sent_ms = INT64_MIN / 2;
    int64_t fetch_sent_ms = INT64_MIN / 2;
    int64_t fetch_answered_ms = INT64_MIN / 2;  // when a fetch of this peer's was last answered
    int64_t missing_sent_ms = INT64_MIN / 2;    // when a digest of this peer's was last answered
    bool more_outstanding = false;              // the last batch sent it was marked `more`
    // origin -> (highest seq sent, when): records in flight to this peer.
    std::map<std::string, std::pair<uint64_t, int64_t>, std::less<>> in_flight;
  };
  struct Pending {
    VerifiedRecord record;
    std::string from;
    int64_t since_ms = 0;
  };
  void hold(VerifiedRecord record, const std::string& from, int64_t now_ms);
  void release_after(const std::string& origin, uint64_t seq, const FeedReader& feeds);
  void catch_up(const std::string& peer, const FeedReader& feeds, int64_t now_ms);

  void send(const std::string& to, GossipMessage m, int64_t now_ms);
  void pump_swim(int64_t now_ms);
  bool alive(const std::string& peer) const;
  std::vector<std::string> alive_peers() const;
  std::vector<std::string> pick(std::vector<std::string> from, size_t n);
  void answer_digest(const std::string& from, const GossipMessage& m, const FeedReader& feeds,
                     int64_t now_ms);
  void send_missing(const std::string& to, const std::vector<FrontierEntry>& theirs,
                    const FeedReader& feeds, int64_t now_ms);
  void receive_records(const std::string& from, const GossipMessage& m, const FeedReader& feeds,
                       int64_t now_ms);
  void receive_evidence(const GossipMessage& m);
  void answer_fetch(const std::string& from, const GossipMessage& m, const FeedReader& feeds,
                    int64_t now_ms);
  void receive_versions(const std::string& from, const GossipMessage& m);
  void push(const std::vector<WireRecord>& records, uint32_t hops, const std::string& except,
            int64_t now_ms);
  uint64_t budget(Peer& p, int64_t now_ms);
  // `any_origin_state`: admit a member's record even if its origin is quarantined or the record
  // is past the origin's revocation cut-off (fetched versions: the ledger names them).
  std::optional<VerifiedRecord> verify_one(const WireRecord& w, bool check_signature,
                                           bool any_origin_state = false);

  std::string self_;
  // claims()
  uint64_t own_seq_claimed_ = 0;
  std::set<std::string, std::less<>> heard_;
  uint64_t root_seq_claimed_ = 0;
  GossipConfig config_;
  RecordVerifier verifier_ = verify_record_signature;
  swim::Detector detector_;
  Membership membership_;
  std::map<std::string, uint64_t, std::less<>> quarantine_;
  std::map<std::string, Peer, std::less<>> peers_;
  int64_t next_round_ms_ = 0;  // no anti-entropy round is due before this
  std::mt19937_64 rng_;
  std::vector<Outgoing> outbox_;
  std::vector<IngestBatch> ingest_;
  std::set<std::string, std::less<>> evidence_sent_;           // origins whose evidence we flooded
  std::map<std::string, WireEvidence, std::less<>> evidence_;  // origin -> evidence held
  std::map<std::string, std::map<uint64_t, Pending>, std::less<>> pending_;
  // Chain tips asked for by fetch: (origin, seq, hash) -> when.
  // Chains asked for by fetch, by tip: when asked, and the seq the chain stops above (the answer
  // is taken down to it, no further).
  struct Wanted {
    int64_t asked_ms = 0;
    uint64_t after = 0;
  };
  std::map<std::tuple<std::string, uint64_t, Hash>, Wanted> wanted_;
  size_t pending_count_ = 0;
  // This node's records waiting for the next push, and when the last push went.
  std::vector<WireRecord> push_waiting_;
  int64_t pushed_ms_ = INT64_MIN / 2;
  GossipStats stats_;
};

// Wire framing: a GossipMessage as canonical msgpack, size-checked and decoded with the
// transport's unpack limits. Errc::limit_exceeded, Errc::decode.
std::string encode_gossip(const GossipMessage& m);
Result<GossipMessage> decode_gossip(std::string_view frame);

}  // namespace umupaka

// The node core: turns officers' commands into signed records. Pure and single-threaded: it reads
// and writes only through the store transaction it is given, takes the time as an argument, and
// never touches sockets, threads or the clock, so the simulator runs exactly this code.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "ledger/checks.hpp"
#include "ledger/crypto.hpp"
#include "ledger/hlc.hpp"
#include "ledger/membership.hpp"
#include "ledger/records.hpp"
#include "node/commands.hpp"
#include "storage/store.hpp"

namespace umupaka {

struct NodeIdentity {
  std::string network_id;
  std::string site;
  SiteKind kind = SiteKind::border_post;
};

// The outcome of a command that recorded a record.
struct Recorded {
  RecordRef ref;
  Hash hash{};
  Hlc hlc;
  RecordType type = RecordType::crossing;
  std::string object_id;              // the permit or alert id, where the record makes one
  std::optional<CheckResult> checks;  // crossings only
  std::optional<Decision> decision;   // crossings only
  std::optional<Crossing> crossing;   // crossings only: the recorded body
  // The command carried an Idempotency-Key this node had recorded it for: this is that record,
  // and nothing new was recorded.
  bool replayed = false;
};

// A record received from another node, already verified by the gossip core (signature or chain,
// membership, network) and decoded.
struct VerifiedRecord {
  SignedRecord signed_record;
  Record record;
};

// What ingesting one received record did.
enum class IngestOutcome : uint8_t {
  stored,        // new, appended and applied to the views
  duplicate,     // already held, identical
  gap,           // does not continue the feed yet (earlier records missing): fetch them first
  equivocation,  // conflicts with a held record of the same origin: evidence kept, origin
                 // quarantined
  rejected,      // not admissible now (revoked, quarantined, not a member, wrong network)
};
UMUPAKA_ENUM_NAMES(IngestOutcome, "stored", "duplicate", "gap", "equivocation", "rejected");

// Two records signed by one origin that cannot both be in its feed: `a` and `b` share origin and
// seq with different hashes, or `b` follows seq(a) but does not link to a.
struct Equivocation {
  SignedRecord a;
  SignedRecord b;
};

// What a batch of received records is.
enum class IngestKind : uint8_t {
  feed,      // records for the feeds (push, anti-entropy)
  evidence,  // records[0] and records[1]: equivocation evidence
  versions,  // a forked origin's records the ledger names, fetched by hash (kept beside the feed)
  posted,    // records posted to this node's API (membership records from umupaka-admin): one at
             // a seq this node already holds under another hash, or at the next seq but not
             // linked to the head, is refused, not taken as the evidence of a fork (which would
             // quarantine the root feed for good)
};

struct IngestResult {
  IngestOutcome outcome = IngestOutcome::stored;
  std::string origin;
  uint64_t seq = 0;
  std::string reason;                    // for rejected
  std::optional<Equivocation> evidence;  // for equivocation
};

// Records of a node's own feed offered back by peers (a store restored from a backup) are taken
// only if signed before the node started, give or take this much (the previous run's clock may have
// been a little ahead of this one's); later ones were signed by another machine with its key.
inline constexpr int64_t own_clock_slack_ms = 60'000;

// What peers' digests said, as the network thread last saw them.
struct PeerClaims {
  uint64_t own_seq = 0;    // the highest seq of this node's own feed a peer claimed (0: none)
  size_t peers_heard = 0;  // distinct peers, still members, whose digest arrived since the start
  uint64_t root_seq = 0;   // the highest seq of the root feed (the membership) a peer claimed
};

class NodeCore {
 public:
  NodeCore(NodeIdentity identity, SigningKey key);

  // Restores the clock from this node's own feed head so timestamps never go backwards across a
  // restart, and the membership from the root feed. Call once, before execute.
  // `wall_ms`: now. Records of this node's own feed that peers offer are taken back only if signed
  // before then (give or take own_clock_slack_ms): later ones were signed by another machine.
  Status recover(const StoreTxn& txn, int64_t wall_ms);

  // Stores the genesis (root/1) in `txn` and stages its network, adopted at commit_succeeded(),
  // as a batch's membership is: a transaction run again after a map growth, or one whose commit
  // failed, leaves the node unjoined. Only on a node whose own feed is empty. join_network
  // (group_commit.hpp) runs it in a write of its own.
  Status join(const SignedRecord& genesis, StoreTxn& txn);

  // Ingests a verified record from another node (or a root record from the admin tool): checks
  // admission against the membership, the feed's continuity and conflicts; appends and applies it.
  // Root records update the membership once the transaction commits (commit_succeeded).
  IngestResult ingest(const VerifiedRecord& record, StoreTxn& txn);

  // Stores equivocation evidence received from a peer (already verified: both signed by the
  // origin, conflicting) and quarantines the origin.
  IngestResult record_evidence(const Equivocation& evidence, const std::string& origin,
                               uint64_t seq, StoreTxn& txn);

  // A record fetched by hash because the ledger names it (verified: signed by its origin, a
  // member). Goes into the feed where it continues it (ingest); otherwise, as the other branch
  // of a fork (which ingest then proves, storing the evidence), it is kept beside the feed
  // (StoreTxn::put_version): outcome stored, or equivocation when it revealed the fork. A record
  // past its origin's revocation cut-off is kept beside the feed at once (the feed refuses it).
  IngestResult ingest_version(const VerifiedRecord& record, StoreTxn& txn);

  // One received batch, as the gossip core handed it over: results parallel to `records`
  // (evidence: one result).
  std::vector<IngestResult> ingest_batch(const std::vector<VerifiedRecord>& records,
                                         IngestKind kind, StoreTxn& txn);

  // Called by the writer around each transaction: membership changes staged by ingest take
  // effect only when the transaction committed.
  void begin_batch();
  void commit_succeeded();
  void commit_failed();

  const Membership& membership() const { return membership_; }
  bool quarantined(std::string_view origin) const;
  // Origins quarantined for equivocation, with the seq of the conflict.
  const std::map<std::string, uint64_t, std::less<>>& quarantine() const { return quarantine_; }

  // How far this node's own feed goes elsewhere, beyond what this store holds, or 0. Since every
  // record is durable here before any peer sees it, a peer offering a record of our own feed
  // beyond our head (signed with our key: proof) means this store lost records it had signed
  // (restored from a backup, a disk copied back) or our key signs elsewhere. From then on the
  // heads peers claim for our feed in their digests count too (unsigned: believed only after
  // such proof, so a peer cannot stop a sound node from recording by claiming): the records come
  // in batches, and recording before the last one arrived would fork the feed. execute() refuses
  // to record while the feed is behind (here or in the committed ledger): a fork quarantines the
  // site for good. Ingest takes the records back from the peers, and recording goes on once the
  // store holds all they claim. Safe to call from any thread.
  uint64_t own_seq_elsewhere() const;
  // The network thread, after peers' digests (GossipCore::claims()).
  void note_peer_claims(const PeerClaims& claims);
  // A store put back from a backup (`umupaka-node run --restored`): the operator says it may
  // have lost records it signed. Recording (and posting membership records, which a restored
  // HQ could fork the root feed with) waits, 503, until digests from a majority of the other
  // sites have arrived and this store's membership is as far as any of them claims (a stale
  // membership would count too few sites); the heads they claim for this node's feed count at
  // once, without a signed record beyond the head as proof (409 while the store holds less).
  // The first record committed after that ends the hold: from then on the usual rule above
  // applies. A heuristic, not a proof: a majority of sites that all lack the lost tail would
  // let the node fork its feed.
  // The hold is a mark in the store (meta "node.restore_hold"), written before recover() reads
  // it and cleared in the transaction of the record that ends it: a node that stops or crashes
  // while held holds again at its next start, with the flag or without. Ingest sets it too when
  // a peer offers a record of this node's own feed beyond its head (the proof that the store lost
  // records, otherwise only in memory), and clears it once ingest took all of them back: stopped
  // before that, the node holds at its next start. Setting it false is the operator's way out (`run
  // --drop-restore-hold`, docs/operations.md).
  static void set_restore_mark(StoreTxn& txn, bool held);
  bool restore_hold() const { return restore_hold_.load(std::memory_order_acquire); }
  size_t peers_heard() const { return peers_heard_.load(std::memory_order_acquire); }
  // Why the hold still refuses (Errc::unavailable), or ok. Safe to call from any thread.
  Status restore_hold_status() const;
  // Records of this node's own feed taken back from peers (ingest): each one this store had lost,
  // linking to its head. Safe to read from any thread.
  uint64_t own_records_recovered() const { return own_recovered_.load(std::memory_order_relaxed); }

  // Validates `command`, runs the checks for a crossing, seals the record as the next of this
  // node's feed, appends it and applies it to the views, all inside `txn`. The caller commits
  // (durably) before telling anyone. On error nothing has been written to `txn`.
  // With an Idempotency-Key (Command::idempotency) that this officer used here before for the same
  // request, nothing is recorded: the answer is the record it made then (Recorded::replayed); for
  // another request, Errc::conflict. A key is kept limits::idempotency_key_retention_ms from
  // `now_ms` (each record made forgets a few expired ones).
  Result<Recorded> execute(const Command& command, StoreTxn& txn, int64_t now_ms);

  // The checks a crossing would get now, without recording anything (POST /v1/checks). Safe to
  // call from any thread: it reads the membership as last committed (published_membership_).
  Result<CheckResult> check(const CrossingRequest& request, const ViewReader& views,
                            int64_t now_ms) const;

  const NodeIdentity& identity() const { return identity_; }
  const PublicKey& public_key() const { return key_.public_key(); }

 private:
  Result<Crossing> crossing_from(const CrossingRequest& r, Date today) const;
  Result<Recorded> seal_and_store(RecordBody body, StoreTxn& txn, Hlc hlc,
                                  const std::optional<FeedHead>& head);
  Result<Recorded> execute_once(const Command& command, StoreTxn& txn, int64_t now_ms);
  // The answer a command with a known Idempotency-Key gets again: the record `entry` names.
  Result<Recorded> replay(const IdempotencyEntry& entry, const IdempotencyKey& key,
                          const StoreTxn& txn) const;

  void load_quarantine(const StoreTxn& txn);
  // A peer offered record `seq` of this node's own feed: noted if beyond what this store holds,
  // and the restore mark set in `txn` (cleared by the ingest that takes the last of them back).
  void note_own_record_elsewhere(uint64_t seq, StoreTxn& txn);

  NodeIdentity identity_;
  SigningKey key_;
  HlcClock clock_;
  Membership membership_;
  std::optional<Membership> staged_membership_;
  std::map<std::string, uint64_t, std::less<>> quarantine_;
  std::map<std::string, uint64_t, std::less<>> staged_quarantine_;
  std::atomic<uint64_t> own_seq_offered_{0};
  std::atomic<uint64_t> own_seq_claimed_{0};
  std::atomic<size_t> peers_heard_{0};
  std::atomic<uint64_t> root_seq_claimed_{0};
  bool staged_hold_lift_ = false;
  // The membership's other live sites and root seq, for restore_hold_status() on any thread.
  std::atomic<size_t> member_others_{0};
  std::atomic<uint64_t> member_root_seq_{0};
  // The membership as last committed, for check() on the API's threads.
  std::atomic<std::shared_ptr<const Membership>> published_membership_{
      std::make_shared<const Membership>()};
  void publish_membership();
  std::atomic<bool> restore_hold_{false};
  int64_t started_wall_ms_ = INT64_MAX / 2;  // recover(): records of our own signed before it
  uint64_t staged_own_recovered_ = 0;
  std::atomic<uint64_t> own_recovered_{0};
};

// CrossingRequest -> CheckRequest, parsing the MRZ if one was given. A post other than this site
// must be a live border post or airport of `members`. Errors name the field.
Result<CheckRequest> check_request_from(const CrossingRequest& r, const NodeIdentity& identity,
                                        const Membership& members, Date today);

}  // namespace umupaka

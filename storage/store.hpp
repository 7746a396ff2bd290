// The node's durable state in one LMDB environment: feeds (every record by origin and seq), feed
// heads, metadata, and the views (views.hpp) with their indexes.
//
// Tables (keys are byte strings; integers big-endian so that key order is numeric order):
//   feeds            origin '\0' seq:u64           -> signature(64) hash(32) encoded
//   heads            origin                        -> seq:u64 hash(32)
//   meta             name                          -> bytes
//   documents        country '\0' number           -> DocumentView
//   permits          permit_id                     -> PermitView
//   permit_index     person_key '\0' permit_id     -> ""
//   alerts           alert_id                      -> AlertView
//   alert_index      person_key '\0' alert_id      -> ""
//   name_alerts      birth_date:i32+2^31 '\0' id   -> ""
//   presence         person_key                    -> PresenceView
//   traveller_index  person_key '\0' origin '\0' seq:u64 -> ""
//   evidence         origin '\0' seq:u64            -> len:u32 stored(a) stored(b)
//   versions         origin '\0' seq:u64 hash(32)   -> stored record: other versions of a forked
//                                                     feed that the ledger names
//   raft_log         index:u64                     -> a Raft entry (msgpack, node/)
//   ledger_order     position:u64                  -> origin '\0' seq:u64 hash(32) cluster_time:u64
//                                                     (global order; the ledger's cluster time
//                                                     when the position was applied)
//   positions        origin '\0' seq:u64            -> position:u64
//   merkle           level:u32 index:u64           -> hash(32) (perfect subtrees, RFC 6962)
//   conflicts        position:u64 '\0' n:u32        -> a conflict alert (msgpack)
//   ledger_state     key                           -> the ledger's deterministic state
//   idempotency      subject '\0' key              -> an officer's Idempotency-Key: the record it
//                                                     made (IdempotencyEntry; this node's only,
//                                                     never gossiped)
//   idempotency_age  created_ms:u64 subject '\0' key -> "" (the keys in the order they expire)
//
// The meta entry "store.format" names the layout above (and the encodings of what the tables
// hold) that the store was created with: store_format. A store of another format, or one
// written before formats were recorded, is refused at open rather than misread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ledger/records.hpp"
#include "ledger/views.hpp"
#include "storage/lmdb.hpp"

namespace umupaka {

struct FeedHead {
  uint64_t seq = 0;
  Hash hash = zero_hash;
};

struct Tables {
  MDB_dbi feeds, heads, meta, documents, permits, permit_index, alerts, alert_index, name_alerts,
      presence, traveller_index, evidence, raft_log, ledger_order, positions, merkle, conflicts,
      ledger_state, versions, idempotency, idempotency_age;
};

// What an officer's Idempotency-Key made at this node (docs/api.md, "Retries"): the record of
// this node's own feed it recorded, the request it was made for (a fingerprint of method, path
// and body), and what the answer said that the record does not keep.
struct IdempotencyEntry {
  uint64_t seq = 0;
  Hash fingerprint{};
  int64_t created_ms = 0;  // the node's wall clock when recorded: the key expires from then
  int32_t overstay_days = 0;
  std::optional<Date> allowed_until;
  friend bool operator==(const IdempotencyEntry&, const IdempotencyEntry&) = default;
};

// A transaction over the store: reads always; writes when opened by Store::write. Implements the
// views' interfaces so the domain's apply_record and run_checks work on it directly.
class StoreTxn : public ViewStore {
 public:
  StoreTxn(lmdb::Txn txn, const Tables& tables) : txn_(std::move(txn)), t_(tables) {}

  // --- feeds ---
  std::optional<FeedHead> head(std::string_view origin) const;
  std::vector<std::pair<std::string, FeedHead>> heads() const;
  // Identifies the committed state a read transaction sees: two read transactions with the same
  // id see the same store (LMDB's transaction id). Not meaningful for a write transaction.
  uint64_t snapshot_id() const { return txn_.id(); }
  std::optional<SignedRecord> record(std::string_view origin, uint64_t seq) const;
  // Appends a sealed record at its origin's head: seq and link must continue the feed.
  // Errc::chain_broken if they do not; Errc::conflict if the slot is taken.
  Status append(const SignedRecord& sr, const RecordHeader& header);
  // Records indexed under a person key, in key order (origin, seq), at most `limit`.
  std::vector<RecordRef> traveller_records(std::string_view person_key, size_t limit) const;
  // Equivocation evidence: two records signed by `origin` that conflict at `seq`.
  void put_evidence(std::string_view origin, uint64_t seq, const SignedRecord& a,
                    const SignedRecord& b);
  struct EvidenceEntry {
    std::string origin;
    uint64_t seq = 0;
    SignedRecord a, b;
  };
  std::vector<EvidenceEntry> evidence() const;
  // The evidence of a fork at (origin, seq), if stored.
  std::optional<EvidenceEntry> evidence_at(std::string_view origin, uint64_t seq) const;
  // Whether any evidence against `origin` is stored (it is quarantined).
  bool has_evidence(std::string_view origin) const;
  // A record the ledger names that the feed does not hold at `seq`: a fork's other branch, or a
  // record past its origin's revocation cut-off (fetched because the ledger names them). Kept
  // beside the feed, never in it.
  void put_version(std::string_view origin, uint64_t seq, const SignedRecord& sr);
  // The version of (origin, seq) whose hash is `hash`: the feed's record, the evidence's or a
  // kept version; empty if none of them has that hash.
  std::optional<SignedRecord> version(std::string_view origin, uint64_t seq,
                                      const Hash& hash) const;
  // Every kept version (the simulator re-verifies them).
  std::vector<SignedRecord> versions() const;
  std::optional<std::string> meta(std::string_view name) const;
  // Every meta entry whose name starts with `prefix`, in name order (names and values).
  std::vector<std::pair<std::string, std::string>> meta_with_prefix(std::string_view prefix) const;

  // --- Raft log (entries as bytes; the node encodes them) ---
  void put_raft_entry(uint64_t index, std::string_view bytes);
  // Deletes entries with index >= from (a new leader overwrote them).
  void truncate_raft_log(uint64_t from);
  // Deletes entries with index <= through (compacted: a snapshot covers them).
  void compact_raft_log(uint64_t through);
  std::vector<std::pair<uint64_t, std::string>> raft_entries(uint64_t from) const;

  // --- The ledger: global order, Merkle subtrees, conflicts, deterministic state ---
  std::optional<uint64_t> position_of(std::string_view origin, uint64_t seq) const;
  // The record at a ledger position, with the hash of the version the ledger holds (where the
  // origin forked, this node's feed may hold the other one).
  struct Positioned {
    std::string origin;
    uint64_t seq = 0;
    Hash hash{};
    uint64_t cluster_time_ms = 0;  // 0 in stores written before it was kept
  };
  std::optional<Positioned> at_position(uint64_t position) const;
  void put_position(uint64_t position, std::string_view origin, uint64_t seq, const Hash& hash,
                    uint64_t cluster_time_ms);
  std::optional<Hash> merkle_node(uint32_t level, uint64_t index) const;
  void put_merkle_node(uint32_t level, uint64_t index, const Hash& hash);
  void put_conflict(uint64_t position, uint32_t n, std::string_view bytes);
  // Conflicts with position >= first, in (position, n) order, at most `limit`.
  std::vector<std::string> conflicts_from(uint64_t first, size_t limit) const;
  // --- Idempotency keys (this node's own officers' retries) ---
  std::optional<IdempotencyEntry> idempotency(std::string_view subject, std::string_view key) const;
  void put_idempotency(std::string_view subject, std::string_view key, const IdempotencyEntry& e);
  // Forgets at most `max` keys created before `before_ms`, oldest first; how many it forgot.
  size_t expire_idempotency(int64_t before_ms, size_t max);

  std::optional<std::string> ledger_state(std::string_view key) const;
  void put_ledger_state(std::string_view key, std::string_view value);
  void put_meta(std::string_view name, std::string_view value);
  size_t count_of(MDB_dbi table) const;
  const Tables& tables() const { return t_; }

  // --- ViewReader ---
  std::optional<DocumentView> document(std::string_view country,
                                       std::string_view number) const override;
  std::optional<PermitView> permit(std::string_view permit_id) const override;
  std::vector<std::string> permits_of(std::string_view person_key) const override;
  std::optional<AlertView> alert(std::string_view alert_id) const override;
  std::vector<std::string> alerts_of(std::string_view person_key) const override;
  std::vector<std::string> name_alerts_born(Date birth_date) const override;
  std::optional<PresenceView> presence(std::string_view person_key) const override;

  // --- ViewStore --- (writes; a failure is remembered and returned by Store::write)
  void put_document(const DocumentView& view) override;
  void put_permit(const PermitView& view) override;
  void index_permit(std::string_view person_key, std::string_view permit_id) override;
  void put_alert(const AlertView& view) override;
  void index_alert(std::string_view person_key, std::string_view alert_id) override;
  void index_name_alert(Date birth_date, std::string_view alert_id) override;
  void put_presence(std::string_view person_key, const PresenceView& view) override;
  void index_traveller_record(std::string_view person_key, const RecordRef& ref) override;

  // The first storage error in this transaction, if any (views' writes return void by design:
  // the domain code cannot act on a disk error; the store turns it into the batch's outcome).
  // After one, reads find nothing (LMDB refuses the rest of a failed transaction).
  const std::optional<Error>& write_error() const { return write_error_; }
  lmdb::Txn& txn() { return txn_; }

 private:
  void note(Status s) const;
  std::optional<std::string_view> get(MDB_dbi dbi, std::string_view key) const;
  std::vector<std::string> suffixes(MDB_dbi dbi, std::string_view prefix, size_t limit) const;
  lmdb::Txn txn_;
  const Tables& t_;
  mutable std::optional<Error> write_error_;
};

// The store's layout and encodings, recorded at creation (meta "store.format"). Raised by any
// change that a build of the previous format would misread.
inline constexpr uint32_t store_format = 1;

class Store {
 public:
  // Opens or creates the store in `dir`. Errc::conflict for a store of another format
  // (store_format) or one of a build that recorded none.
  static Result<std::unique_ptr<Store>> open(const std::string& dir,
                                             const lmdb::EnvOptions& options = {});

  // A read-only snapshot.
  Result<std::unique_ptr<StoreTxn>> read() const;

  // Runs `fn` in one write transaction and commits it durably (fsync) when fn returns ok. On
  // MDB_MAP_FULL the transaction is aborted, the map grown and fn run again from the start: fn must
  // have no effect outside the transaction until write returns ok. Errc::disk_full when the disk
  // (or the map's maximum) is full: nothing of this call is written. After a failed write it
  // looks whether LMDB declared the store unusable (on_fatal's hook runs then).
  Status write(const std::function<Status(StoreTxn&)>& fn);

  const lmdb::Env& env() const { return *env_; }
  // LMDB declared the store unusable until it is opened again (lmdb::Env::fatal): `hook` is
  // called once, on the thread that first found it so. Set before other threads use the store.
  bool fatal() const { return env_->fatal(); }
  void on_fatal(std::function<void()> hook) { env_->on_fatal(std::move(hook)); }
  uint64_t map_grows() const { return env_->grows(); }

  // Fault injection (the simulator's full disk): while set, every write runs fn, then aborts
  // and returns `failure`, as a commit refused by the disk does: nothing of it is written.
  void inject_write_failure(std::optional<Error> failure) { injected_ = std::move(failure); }
  // Fault injection: LMDB's fatal state (lmdb::Env::inject_fatal).
  void inject_fatal() { env_->inject_fatal(); }
  // Fault injection (tests of the API's failed reads): while set, in every read transaction
  // begun (read()) the first `after_reads` reads succeed and every one after fails, as reads LMDB
  // refuses (lmdb::Txn::fail_reads_after); nullopt: off. Safe to switch while other threads read.
  void inject_read_failure(std::optional<uint64_t> after_reads) {
    read_failure_after_.store(after_reads.value_or(UINT64_MAX), std::memory_order_relaxed);
  }
  // Reads failed so far by that injection.
  uint64_t injected_read_failures() const {
    return injected_read_failures_.load(std::memory_order_relaxed);
  }

 private:
  Store() = default;
  // At open: refuses a store of another format (before_tables: only meta is open yet, nothing
  // else created), then records store_format in a new store and refuses one with data but none.
  Status check_format(const std::string& dir, bool before_tables);
  std::unique_ptr<lmdb::Env> env_;
  Tables tables_{};
  std::optional<Error> injected_;
  std::atomic<uint64_t> read_failure_after_{UINT64_MAX};
  mutable std::atomic<uint64_t> injected_read_failures_{0};
};

// Stored form of a sealed record in the feeds table.
std::string encode_stored_record(const SignedRecord& sr);
std::optional<SignedRecord> decode_stored_record(std::string_view bytes);

}  // namespace umupaka

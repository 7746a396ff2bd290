// The node core: turns officers' commands into signed records. Pure and single-threaded: it reads
// and writes only through the store transaction it is given, takes the time as an argument, and
// never touches sockets, threads or the clock, so the simulator runs exactly this code.
#pragma once

#include <optional>
#include <string>

#include "ledger/checks.hpp"
#include "ledger/crypto.hpp"
#include "ledger/hlc.hpp"
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
  std::string object_id;               // the permit or alert id, where the record makes one
  std::optional<CheckResult> checks;   // crossings only
  std::optional<Decision> decision;    // crossings only
  std::optional<Crossing> crossing;    // crossings only: the recorded body
};

class NodeCore {
 public:
  NodeCore(NodeIdentity identity, SigningKey key);

  // Restores the clock from this node's own feed head so timestamps never go backwards across a
  // restart. Call once, before execute.
  void recover(const StoreTxn& txn);

  // Validates `command`, runs the checks for a crossing, seals the record as the next of this
  // node's feed, appends it and applies it to the views, all inside `txn`. The caller commits
  // (durably) before telling anyone. On error nothing has been written to `txn`.
  Result<Recorded> execute(const Command& command, StoreTxn& txn, int64_t now_ms);

  // The checks a crossing would get now, without recording anything (POST /v1/checks).
  Result<CheckResult> check(const CrossingRequest& request, const ViewReader& views,
                            int64_t now_ms) const;

  const NodeIdentity& identity() const { return identity_; }
  const PublicKey& public_key() const { return key_.public_key(); }

 private:
  struct Prepared;
  Result<Crossing> crossing_from(const CrossingRequest& r, Date today) const;
  Result<Recorded> seal_and_store(RecordBody body, StoreTxn& txn, Hlc hlc,
                                  const std::optional<FeedHead>& head);

  NodeIdentity identity_;
  SigningKey key_;
  HlcClock clock_;
};

// CrossingRequest -> CheckRequest, parsing the MRZ if one was given. Errors name the field.
Result<CheckRequest> check_request_from(const CrossingRequest& r, const NodeIdentity& identity,
                                        Date today);

}  // namespace umupaka

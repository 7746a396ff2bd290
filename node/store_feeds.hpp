// The gossip core's view of a node's store: the feeds of one LMDB read snapshot. Used by the
// network runtime and by the simulator, so both drive the gossip core the same way.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "node/gossip.hpp"
#include "storage/store.hpp"

namespace umupaka {

// The frontier of the newest snapshot read, kept by whoever opens snapshots of one store (a
// node's runtime, a simulated node): a snapshot with the same id has the same frontier, and
// most snapshots follow no write (a digest, a SWIM frame, a Raft message).
struct FrontierCache {
  uint64_t snapshot_id = 0;
  std::shared_ptr<const std::vector<FrontierEntry>> frontier;  // null: none yet
};

class StoreFeeds : public FeedReader {
 public:
  // `cache` (optional) must outlive the feeds and serve one store only.
  explicit StoreFeeds(std::unique_ptr<StoreTxn> txn, FrontierCache* cache = nullptr)
      : txn_(std::move(txn)), cache_(cache) {}
  const std::vector<FrontierEntry>& frontier() const override {
    if (frontier_) return *frontier_;
    const uint64_t id = txn_->snapshot_id();
    if (cache_ != nullptr && cache_->frontier && cache_->snapshot_id == id) {
      frontier_ = cache_->frontier;
      return *frontier_;
    }
    auto f = std::make_shared<std::vector<FrontierEntry>>();
    for (const auto& [origin, head] : txn_->heads())
      f->push_back(FrontierEntry{origin, head.seq, head.hash});
    frontier_ = std::move(f);
    // Only a newer snapshot replaces the cached frontier (feeds holding the old one keep it).
    if (cache_ != nullptr && (!cache_->frontier || id > cache_->snapshot_id)) {
      cache_->frontier = frontier_;
      cache_->snapshot_id = id;
    }
    return *frontier_;
  }
  std::optional<SignedRecord> record(std::string_view origin, uint64_t seq) const override {
    return txn_->record(origin, seq);
  }
  std::optional<SignedRecord> version(std::string_view origin, uint64_t seq,
                                      const Hash& hash) const override {
    return txn_->version(origin, seq, hash);
  }

 private:
  std::unique_ptr<StoreTxn> txn_;
  FrontierCache* cache_;
  mutable std::shared_ptr<const std::vector<FrontierEntry>> frontier_;
};

}  // namespace umupaka

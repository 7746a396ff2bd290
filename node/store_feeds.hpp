// The gossip core's view of a node's store: the feeds of one LMDB read snapshot. Used by the
// network runtime and by the simulator, so both drive the gossip core the same way.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "node/gossip.hpp"
#include "storage/store.hpp"

namespace umupaka {

class StoreFeeds : public FeedReader {
 public:
  explicit StoreFeeds(std::unique_ptr<StoreTxn> txn) : txn_(std::move(txn)) {}
  // Read once per snapshot: the gossip core asks for it several times per message.
  std::vector<FrontierEntry> frontier() const override {
    if (!frontier_) {
      frontier_.emplace();
      for (const auto& [origin, head] : txn_->heads())
        frontier_->push_back(FrontierEntry{origin, head.seq, head.hash});
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
  mutable std::optional<std::vector<FrontierEntry>> frontier_;
};

}  // namespace umupaka

#include "node/writer.hpp"

#include "ledger/limits.hpp"

namespace umupaka {

Writer::Writer(NodeCore& core, Store& store, Clock clock)
    : core_(core), store_(store), clock_(std::move(clock)) {
  thread_ = std::thread([this] { run(); });
}

Writer::~Writer() { stop(); }

bool Writer::submit(Command command, Callback done) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    if (queue_.size() >= limits::write_queue_depth_max) {
      ++stats_.queue_full;
      return false;
    }
    queue_.push_back(Item{std::move(command), std::move(done)});
  }
  cv_.notify_one();
  return true;
}

void Writer::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

Writer::Stats Writer::stats() const {
  std::lock_guard lock(mu_);
  Stats s = stats_;
  s.queue_depth = queue_.size();
  return s;
}

void Writer::run() {
  std::vector<Item> batch;
  std::vector<Result<Recorded>> results;
  for (;;) {
    batch.clear();
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      while (!queue_.empty() && batch.size() < limits::group_commit_records_max) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    // The transaction may run more than once (map growth): results are rebuilt each time.
    const Status committed = store_.write([&](StoreTxn& txn) -> Status {
      results.clear();
      for (Item& item : batch) results.push_back(core_.execute(item.command, txn, clock_()));
      return {};
    });
    uint64_t ok = 0, rejected = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!committed.ok()) {
        batch[i].done(committed.error());
      } else {
        (results[i].ok() ? ok : rejected)++;
        batch[i].done(std::move(results[i]));
      }
    }
    std::lock_guard lock(mu_);
    ++stats_.batches;
    stats_.records += ok;
    stats_.rejected += rejected;
    if (!committed.ok()) ++stats_.commit_failures;
    stats_.batch_records_max = std::max<uint64_t>(stats_.batch_records_max, batch.size());
  }
}

}  // namespace umupaka

// Group commit: the single writer thread of a node. API threads submit commands; the writer takes
// every waiting command (up to limits::group_commit_records_max), executes them in order through
// the node core inside one LMDB write transaction, commits it durably (fsync), and only then
// calls each command's callback. A command's failure (bad input) fails only that command; a
// failed commit (disk full) fails the whole batch and nothing of it is acknowledged.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "node/node_core.hpp"
#include "storage/store.hpp"

namespace umupaka {

class Writer {
 public:
  using Callback = std::function<void(Result<Recorded>)>;
  using Clock = std::function<int64_t()>;  // wall clock, ms since the epoch

  // `core` and `store` must outlive the writer. Starts the thread.
  Writer(NodeCore& core, Store& store, Clock clock);
  ~Writer();  // stop()s
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Queues a command; false (and the callback is not called) when the queue is at
  // limits::write_queue_depth_max or the writer is stopping: the API answers 503.
  bool submit(Command command, Callback done);

  // Executes everything queued, then stops the thread. Idempotent.
  void stop();

  struct Stats {
    uint64_t batches = 0;
    uint64_t records = 0;
    uint64_t rejected = 0;        // commands refused by the core (bad input, conflict)
    uint64_t commit_failures = 0;
    uint64_t batch_records_max = 0;
    uint64_t queue_full = 0;      // submissions refused because the queue was full
    size_t queue_depth = 0;
  };
  Stats stats() const;

 private:
  struct Item {
    Command command;
    Callback done;
  };
  void run();

  NodeCore& core_;
  Store& store_;
  Clock clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace umupaka

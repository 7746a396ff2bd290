// Group commit: the single writer thread of a node, and the only thread that runs the node core.
// API threads submit commands, the network thread submits received records; the writer takes
// every waiting item (up to limits::group_commit_records_max records), executes them in order
// inside one LMDB write transaction, commits it durably (fsync), and only then calls each item's
// callback. The batch itself is run_group_commit (group_commit.hpp), which the simulator runs too.
// An item's failure (bad input) fails only that item; a failed commit (disk full) fails the whole
// batch and nothing of it is acknowledged.
//
// Pacing (off by default): with pace P > 0, after a batch whose transaction took D the writer
// gathers for P x D more (at most limits::group_commit_pace_wait_max_ms) before the next, unless a
// full batch is already waiting; so it spends about 1/(1+P) of its time in transactions (more when
// the cap cuts the wait short, D > 20 ms / P, or full batches keep coming). For
// nodes that share one disk (a local network on one machine), whose flushes otherwise queue behind
// each other's; a node on a disk of its own answers its officers soonest without it
// (docs/decisions.md, bench/README.md).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <variant>

#include "node/group_commit.hpp"
#include "storage/store.hpp"

namespace umupaka {

class Writer {
 public:
  using Callback = std::function<void(Result<Recorded>)>;
  using IngestCallback = std::function<void(Result<std::vector<IngestResult>>)>;
  using ApplyCallback = std::function<void(Result<ApplyOutcome>)>;
  using Clock = std::function<int64_t()>;  // wall clock, ms since the epoch
  // Called on the writer thread after every successful commit with the records this node
  // originated in it, and the new membership if it changed. Must not block.
  using CommitHook =
      std::function<void(const std::vector<SignedRecord>& local, const Membership* changed)>;

  // `core` and `store` must outlive the writer. Starts the thread. `pace`: the pacing factor (0:
  // off, at most limits::group_commit_pace_max).
  Writer(NodeCore& core, Store& store, Clock clock, uint32_t pace = 0);
  ~Writer();  // stop()s
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Set before any submission.
  void set_commit_hook(CommitHook hook) { hook_ = std::move(hook); }
  uint32_t pace() const { return pace_; }

  using Duration = std::chrono::steady_clock::duration;
  // How long after a transaction that took `took` the next may start: pace x took, at most
  // limits::group_commit_pace_wait_max_ms (zero when pace is 0).
  static Duration pace_wait(uint32_t pace, Duration took);

  // Queues a command; false (and the callback is not called) when the queue is at
  // limits::write_queue_depth_max or the writer is stopping: the API answers 503.
  bool submit(Command command, Callback done);
  // Queues received records (verified) for ingest (NodeCore::ingest_batch). False when full or
  // stopping: the records will be fetched again.
  bool submit_ingest(std::vector<VerifiedRecord> records, IngestKind kind, IngestCallback done);

  // Queues a committed ledger entry (or a segment of a snapshot install) to apply
  // (apply_ledger_work). False when full or stopping.
  bool submit_apply(LedgerWork work, ApplyCallback done);

  // Executes everything queued, then stops the thread. Idempotent.
  void stop();

  struct Stats {
    uint64_t batches = 0;
    uint64_t records = 0;   // records this node originated
    uint64_t ingested = 0;  // records received and stored
    uint64_t rejected = 0;  // commands refused by the core (bad input, conflict)
    uint64_t commit_failures = 0;
    uint64_t batch_records_max = 0;
    uint64_t queue_full = 0;  // submissions refused because the queue was full
    uint64_t paced = 0;       // batches that began after a pacing wait, with work waiting
    size_t queue_depth = 0;
  };
  Stats stats() const;

 private:
  struct Item {
    WriteWork work;
    Callback done;
    IngestCallback ingest_done;
    ApplyCallback apply_done;
  };
  bool enqueue(Item item);
  void run();

  NodeCore& core_;
  Store& store_;
  Clock clock_;
  CommitHook hook_;
  const uint32_t pace_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  size_t queued_weight_ = 0;
  bool stopping_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace umupaka

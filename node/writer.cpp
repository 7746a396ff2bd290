#include "node/writer.hpp"

#include <spdlog/spdlog.h>

#include "ledger/assert.hpp"
#include "ledger/limits.hpp"

namespace umupaka {

Writer::Writer(NodeCore& core, Store& store, Clock clock, uint32_t pace)
    : core_(core), store_(store), clock_(std::move(clock)), pace_(pace) {
  UMUPAKA_ASSERT(pace <= limits::group_commit_pace_max);
  thread_ = std::thread([this] { run(); });
}

Writer::~Writer() { stop(); }

bool Writer::enqueue(Item item) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    if (queue_.size() >= limits::write_queue_depth_max) {
      ++stats_.queue_full;
      return false;
    }
    queued_weight_ += write_weight(item.work);
    queue_.push_back(std::move(item));
  }
  cv_.notify_one();
  return true;
}

bool Writer::submit(Command command, Callback done) {
  return enqueue(Item{std::move(command), std::move(done), {}, {}});
}

bool Writer::submit_ingest(std::vector<VerifiedRecord> records, IngestKind kind,
                           IngestCallback done) {
  UMUPAKA_ASSERT(kind != IngestKind::evidence || records.size() == 2);
  return enqueue(Item{IngestWork{std::move(records), kind}, {}, std::move(done), {}});
}

bool Writer::submit_apply(LedgerWork work, ApplyCallback done) {
  return enqueue(Item{std::move(work), {}, {}, std::move(done)});
}

Writer::Duration Writer::pace_wait(uint32_t pace, Duration took) {
  return std::min<Duration>(took * pace,
                            std::chrono::milliseconds(limits::group_commit_pace_wait_max_ms));
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
  std::vector<WriteWork> work;
  // When the last transaction ended and how long it took (pacing).
  auto last_end = std::chrono::steady_clock::time_point{};
  Duration last_took{};
  uint64_t paced = 0;
  for (;;) {
    batch.clear();
    {
      std::unique_lock lock(mu_);
      const auto not_before = last_end + pace_wait(pace_, last_took);
      // Gather until then, unless a full batch is waiting or the writer stops.
      const auto enough = [&] {
        return stopping_ || queued_weight_ >= limits::group_commit_records_max;
      };
      if (pace_ > 0 && std::chrono::steady_clock::now() < not_before && !enough()) {
        cv_.wait_until(lock, not_before, enough);
        if (!queue_.empty()) ++paced;  // work waited (or gathered) for the pace
      }
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      size_t weight = 0;
      while (!queue_.empty() &&
             joins_batch(batch.size(), weight, write_weight(queue_.front().work))) {
        weight += write_weight(queue_.front().work);
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_weight_ -= weight;
    }
    const auto started = std::chrono::steady_clock::now();
    work.clear();
    for (Item& item : batch) work.push_back(std::move(item.work));
    GroupCommitOutcome out = run_group_commit(core_, store_, work, clock_);
    last_end = std::chrono::steady_clock::now();
    last_took = last_end - started;
    uint64_t ok = 0, rejected = 0, ingested = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      Item& item = batch[i];
      // A callback that throws (a reply that cannot be sent) costs its own answer only: the
      // others are still told, and the writer goes on.
      try {
        if (!out.committed.ok()) {
          if (item.done) item.done(out.committed.error());
          if (item.ingest_done) item.ingest_done(out.committed.error());
          if (item.apply_done) item.apply_done(out.committed.error());
        } else if (auto* r = std::get_if<Result<Recorded>>(&out.results[i])) {
          if (!r->ok())
            ++rejected;
          else if (!(*r)->replayed)
            ++ok;
          item.done(std::move(*r));
        } else if (auto* ap = std::get_if<Result<ApplyOutcome>>(&out.results[i])) {
          item.apply_done(std::move(*ap));
        } else {
          auto& v = std::get<std::vector<IngestResult>>(out.results[i]);
          for (const auto& x : v) ingested += x.outcome == IngestOutcome::stored;
          item.ingest_done(std::move(v));
        }
      } catch (const std::exception& e) {
        spdlog::error("writer: a completion callback failed: {}", e.what());
      }
    }
    if (out.committed.ok() && hook_ && (!out.local.empty() || out.membership_changed))
      hook_(out.local, out.membership_changed ? &core_.membership() : nullptr);
    std::lock_guard lock(mu_);
    ++stats_.batches;
    stats_.records += ok;
    stats_.ingested += ingested;
    stats_.rejected += rejected;
    stats_.paced = paced;
    if (!out.committed.ok()) ++stats_.commit_failures;
    stats_.batch_records_max = std::max<uint64_t>(stats_.batch_records_max, batch.size());
  }
}

}  // namespace umupaka

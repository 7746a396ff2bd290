#include "node/writer.hpp"

#include <spdlog/spdlog.h>

#include "ledger/assert.hpp"
#include "ledger/limits.hpp"

namespace umupaka {

size_t Writer::Item::weight() const {
  if (const auto* i = std::get_if<Ingest>(&work)) return std::max<size_t>(1, i->records.size());
  if (const auto* a = std::get_if<Apply>(&work); a && a->snapshot)
    return std::max<size_t>(1, a->segment.rows.size());
  return 1;
}

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
    queued_weight_ += item.weight();
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
  return enqueue(Item{Ingest{std::move(records), kind}, {}, std::move(done), {}});
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
  std::vector<std::variant<Result<Recorded>, std::vector<IngestResult>, Result<ApplyOutcome>>>
      results;
  std::vector<SignedRecord> local;
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
      while (!queue_.empty() && (batch.empty() || weight + queue_.front().weight() <=
                                                      limits::group_commit_records_max)) {
        weight += queue_.front().weight();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_weight_ -= weight;
    }
    const auto started = std::chrono::steady_clock::now();
    bool membership_changed = false;
    // The transaction may run more than once (map growth): results are rebuilt each time.
    const uint64_t root_before = core_.membership().root_seq();
    const bool restore_hold = core_.restore_hold();
    const Status committed = store_.write([&](StoreTxn& txn) -> Status {
      results.clear();
      local.clear();
      core_.begin_batch();
      for (Item& item : batch) {
        if (auto* c = std::get_if<Command>(&item.work)) {
          Result<Recorded> r = core_.execute(*c, txn, clock_());
          if (r.ok()) {
            // A put of this batch that filled the map (a view's, after the append) leaves the
            // transaction refusing reads: Store::write then grows the map and runs the batch
            // again, so there is nothing to take from this run.
            auto sr = txn.record(r->ref.origin, r->ref.seq);
            UMUPAKA_ASSERT(sr.has_value() || txn.write_error());
            if (sr) local.push_back(std::move(*sr));
          }
          results.emplace_back(std::move(r));
        } else if (auto* ap = std::get_if<Apply>(&item.work)) {
          results.emplace_back(apply_ledger_work(txn, *ap));
        } else {
          auto& in = std::get<Ingest>(item.work);
          results.emplace_back(core_.ingest_batch(in.records, in.kind, txn));
        }
      }
      return {};
    });
    if (committed.ok()) {
      core_.commit_succeeded();
      membership_changed = core_.membership().root_seq() != root_before;
      if (restore_hold && !core_.restore_hold())
        for (const auto& res : results)
          if (const auto* r = std::get_if<Result<Recorded>>(&res); r != nullptr && r->ok()) {
            spdlog::info(
                "restored store: {} peers heard, none claiming more of this site's own feed "
                "than seq {}; recording again from seq {}",
                core_.peers_heard(), (*r)->ref.seq - 1, (*r)->ref.seq);
            break;
          }
    } else {
      core_.commit_failed();
    }
    last_end = std::chrono::steady_clock::now();
    last_took = last_end - started;
    uint64_t ok = 0, rejected = 0, ingested = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      Item& item = batch[i];
      // A callback that throws (a reply that cannot be sent) costs its own answer only: the
      // others are still told, and the writer goes on.
      try {
        if (!committed.ok()) {
          if (item.done) item.done(committed.error());
          if (item.ingest_done) item.ingest_done(committed.error());
          if (item.apply_done) item.apply_done(committed.error());
        } else if (auto* r = std::get_if<Result<Recorded>>(&results[i])) {
          (r->ok() ? ok : rejected)++;
          item.done(std::move(*r));
        } else if (auto* ap = std::get_if<Result<ApplyOutcome>>(&results[i])) {
          item.apply_done(std::move(*ap));
        } else {
          auto& v = std::get<std::vector<IngestResult>>(results[i]);
          for (const auto& x : v) ingested += x.outcome == IngestOutcome::stored;
          item.ingest_done(std::move(v));
        }
      } catch (const std::exception& e) {
        spdlog::error("writer: a completion callback failed: {}", e.what());
      }
    }
    if (committed.ok() && hook_ && (!local.empty() || membership_changed))
      hook_(local, membership_changed ? &core_.membership() : nullptr);
    std::lock_guard lock(mu_);
    ++stats_.batches;
    stats_.records += ok;
    stats_.ingested += ingested;
    stats_.rejected += rejected;
    stats_.paced = paced;
    if (!committed.ok()) ++stats_.commit_failures;
    stats_.batch_records_max = std::max<uint64_t>(stats_.batch_records_max, batch.size());
  }
}

}  // namespace umupaka

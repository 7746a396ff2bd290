// A thin, owning wrapper over LMDB (lmdb.h): environment, transactions, named tables. LMDB error
// codes are translated to Errc here and go no further. Threading: one write transaction at a time
// (LMDB serializes writers); read transactions from any thread (the environment is opened with
// MDB_NOTLS). Map growth needs no transaction active in the process, so every transaction holds
// a shared lock on the environment and growth takes it exclusively.
#pragma once

#include <lmdb.h>

#include <atomic>
#include <cerrno>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "ledger/result.hpp"

namespace umupaka::lmdb {

Error translate(int rc, std::string_view what);

class Env;

class Txn {
 public:
  Txn(Txn&& o) noexcept;
  Txn& operator=(Txn&&) = delete;
  ~Txn();  // aborts if neither committed nor aborted

  MDB_txn* raw() const { return txn_; }
  bool read_only() const { return read_only_; }
  // LMDB's transaction id: for a read transaction, the id of the write transaction whose
  // committed state it sees (equal ids, equal snapshots).
  uint64_t id() const;

  // The value at `key`, or nullopt. The view is valid until the transaction ends.
  Result<std::optional<std::string_view>> get(MDB_dbi dbi, std::string_view key) const;
  Status put(MDB_dbi dbi, std::string_view key, std::string_view value);
  // Fails with Errc::conflict if the key exists.
  Status insert(MDB_dbi dbi, std::string_view key, std::string_view value);
  Status del(MDB_dbi dbi, std::string_view key);
  // Visits keys starting with `prefix` in key order until fn returns false or `limit` is reached.
  template <typename Fn>
  Status scan_prefix(MDB_dbi dbi, std::string_view prefix, size_t limit, Fn&& fn) const;
  // Visits every entry in key order from `from` (inclusive).
  template <typename Fn>
  Status scan_from(MDB_dbi dbi, std::string_view from, Fn&& fn) const;
  Result<size_t> count(MDB_dbi dbi) const;

  // Commits (fsync before returning, unless the environment was opened without sync).
  Status commit();
  void abort();

  // Fault injection (Store::inject_read_failure): the next `reads` reads succeed (a get, a count,
  // each step of a scan), then every read fails as LMDB's own would (EIO: Errc::storage), each
  // one counted in `*failed`.
  void fail_reads_after(uint64_t reads, std::atomic<uint64_t>* failed) {
    reads_left_ = reads;
    reads_failed_ = failed;
  }

 private:
  friend class Env;
  Txn(MDB_txn* txn, bool read_only, std::shared_lock<std::shared_timed_mutex> lock, const Env* env);
  MDB_txn* txn_ = nullptr;
  const Env* env_ = nullptr;
  bool read_only_ = true;
  mutable uint64_t reads_left_ = UINT64_MAX;  // fail_reads_after (UINT64_MAX: never)
  std::atomic<uint64_t>* reads_failed_ = nullptr;
  // Whether the read about to be made fails by injection (fail_reads_after).
  bool read_fails() const {
    if (reads_left_ == UINT64_MAX) return false;
    if (reads_left_ > 0) {
      --reads_left_;
      return false;
    }
    if (reads_failed_ != nullptr) reads_failed_->fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  void release_lock();
  std::shared_lock<std::shared_timed_mutex> lock_;
};

struct EnvOptions {
  size_t map_bytes = 0;  // 0: limits::map_bytes_initial
  unsigned tables_max = 0;
  bool sync = true;  // false only for benchmarks that say so
  // MDB_WRITEMAP: pages are written in place in the map, with no write system call per commit.
  // The simulator's stores (unsynced anyway); a stray write through the map could corrupt a
  // production store, so nodes never use it.
  bool write_map = false;
  // How long grow() waits for the read and write transactions open in other threads to end
  // (0: 10 s). A thread that grows while it holds a transaction of its own would wait for itself;
  // after this it gets an error instead of hanging.
  uint32_t grow_wait_ms = 0;
};

class Env {
 public:
  // Opens (creating) the environment in directory `dir` and clears stale reader slots left by
  // killed processes.
  static Result<std::unique_ptr<Env>> open(const std::string& dir, const EnvOptions& options);
  ~Env();

  Result<MDB_dbi> open_table(const std::string& name);
  Result<Txn> begin_read();
  Result<Txn> begin_write();
  // Doubles the map up to limits::map_bytes_max, unless it grew since the caller's transaction
  // found it full at `seen` bytes (map_bytes() then): two threads that fill it at once grow it
  // once. Call with no transaction of this thread open: it waits for every open transaction to
  // end, and fails with Errc::storage (nothing changed) if they do not within
  // EnvOptions::grow_wait_ms.
  Status grow(size_t seen);
  size_t map_bytes() const { return map_bytes_.load(std::memory_order_acquire); }
  uint64_t grows() const { return grows_.load(std::memory_order_relaxed); }  // since opened
  int stale_readers_cleared() const { return stale_readers_cleared_; }
  MDB_env* raw() const { return env_; }
  // Classifies a failed write: LMDB reports a short write on a full disk as EIO, so the disk's
  // free space and the process's file-size limit decide between Errc::disk_full and
  // Errc::storage.
  Error write_failure(int rc, std::string_view what) const;

  // Whether LMDB declared the environment unusable (MDB_PANIC: a meta page's write failed); every
  // transaction then fails until it is opened again, in a new process. `hook` is called once,
  // on the thread whose transaction first found it so. Set before other threads use the
  // environment.
  bool fatal() const { return fatal_.load(std::memory_order_acquire); }
  void on_fatal(std::function<void()> hook) { fatal_hook_ = std::move(hook); }
  // Fault injection (tests): every transaction begun from now on fails as in that state.
  void inject_fatal() { injected_fatal_.store(true, std::memory_order_release); }

 private:
  // begin_read, begin_write; notes the fatal state (MDB_PANIC) and runs the hook.
  Result<Txn> begin(bool read_only);
  std::atomic<bool> fatal_{false};
  std::atomic<bool> injected_fatal_{false};
  std::function<void()> fatal_hook_;

  Env() = default;
  MDB_env* env_ = nullptr;
  std::string dir_;
  std::atomic<size_t> map_bytes_{0};  // changed under resize_mutex_; read by any thread
  std::atomic<uint64_t> grows_{0};
  int stale_readers_cleared_ = 0;
  std::shared_lock<std::shared_timed_mutex> lock_for_txn();
  mutable std::shared_timed_mutex resize_mutex_;
  std::atomic<int> grows_pending_{0};  // growths waiting for the open transactions
  uint32_t grow_wait_ms_ = 0;
};

inline MDB_val as_val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
inline std::string_view as_view(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

template <typename Fn>
Status Txn::scan_prefix(MDB_dbi dbi, std::string_view prefix, size_t limit, Fn&& fn) const {
  MDB_cursor* cur = nullptr;
  int rc = mdb_cursor_open(txn_, dbi, &cur);
  if (rc != 0) return translate(rc, "cursor open");
  MDB_val k = as_val(prefix), v{};
  rc = read_fails() ? EIO : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
  size_t n = 0;
  while (rc == 0 && n < limit) {
    const std::string_view key = as_view(k);
    if (key.substr(0, prefix.size()) != prefix) break;
    ++n;
    if (!fn(key, as_view(v))) break;
    rc = read_fails() ? EIO : mdb_cursor_get(cur, &k, &v, MDB_NEXT);
  }
  mdb_cursor_close(cur);
  if (rc != 0 && rc != MDB_NOTFOUND) return translate(rc, "cursor scan");
  return {};
}

template <typename Fn>
Status Txn::scan_from(MDB_dbi dbi, std::string_view from, Fn&& fn) const {
  MDB_cursor* cur = nullptr;
  int rc = mdb_cursor_open(txn_, dbi, &cur);
  if (rc != 0) return translate(rc, "cursor open");
  MDB_val k = as_val(from), v{};
  rc = read_fails() ? EIO : mdb_cursor_get(cur, &k, &v, from.empty() ? MDB_FIRST : MDB_SET_RANGE);
  while (rc == 0) {
    if (!fn(as_view(k), as_view(v))) break;
    rc = read_fails() ? EIO : mdb_cursor_get(cur, &k, &v, MDB_NEXT);
  }
  mdb_cursor_close(cur);
  if (rc != 0 && rc != MDB_NOTFOUND) return translate(rc, "cursor scan");
  return {};
}

}  // namespace umupaka::lmdb

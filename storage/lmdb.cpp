#include "storage/lmdb.hpp"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "ledger/assert.hpp"
#include "ledger/limits.hpp"

namespace umupaka::lmdb {

Error translate(int rc, std::string_view what) {
  const std::string msg = std::string(what) + ": " + mdb_strerror(rc);
  switch (rc) {
    case MDB_MAP_FULL:
      return make_error(Errc::map_full, msg);
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return make_error(Errc::disk_full, msg);
    case MDB_NOTFOUND:
      return make_error(Errc::not_found, msg);
    case MDB_KEYEXIST:
      return make_error(Errc::conflict, msg);
    case MDB_PANIC:
      // A failed write of a meta page (an I/O error; a full disk on a copy-on-write file system)
      // leaves the environment unusable until it is opened again: every later write fails alike.
      return make_error(Errc::storage, msg +
                                           " (the store must be opened again: restart the node "
                                           "once the disk is sound; nothing acknowledged is lost)");
    default:
      return make_error(Errc::storage, msg);
  }
}

namespace {
// Transactions this thread holds open (of any environment): one that holds one and begins
// another is let straight in, as the growth waits for its first anyway (Env::lock_for_txn).
thread_local int txns_open_here = 0;
}  // namespace

Txn::Txn(MDB_txn* txn, bool read_only, std::shared_lock<std::shared_timed_mutex> lock,
         const Env* env)
    : txn_(txn), env_(env), read_only_(read_only), lock_(std::move(lock)) {
  if (lock_.owns_lock()) ++txns_open_here;
}

Txn::Txn(Txn&& o) noexcept
    : txn_(std::exchange(o.txn_, nullptr)),
      env_(o.env_),
      read_only_(o.read_only_),
      reads_left_(o.reads_left_),
      reads_failed_(o.reads_failed_),
      lock_(std::move(o.lock_)) {}

Txn::~Txn() { abort(); }

void Txn::abort() {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
  txn_ = nullptr;
  release_lock();
}

uint64_t Txn::id() const { return static_cast<uint64_t>(mdb_txn_id(txn_)); }

Status Txn::commit() {
  UMUPAKA_ASSERT(txn_ != nullptr);
  const int rc = mdb_txn_commit(txn_);  // frees the transaction whatever the outcome
  txn_ = nullptr;
  release_lock();
  if (rc != 0) return env_ != nullptr ? env_->write_failure(rc, "commit") : translate(rc, "commit");
  return {};
}

Result<std::optional<std::string_view>> Txn::get(MDB_dbi dbi, std::string_view key) const {
  // No key outside LMDB's bounds is stored: not found, rather than an error (MDB_BAD_VALSIZE)
  // that would fail the whole write transaction a lookup runs in.
  const size_t key_max =
      env_ != nullptr ? static_cast<size_t>(mdb_env_get_maxkeysize(env_->raw())) : 511;
  if (key.empty() || key.size() > key_max) return std::optional<std::string_view>{};
  MDB_val k = as_val(key), v{};
  const int rc = read_fails() ? EIO : mdb_get(txn_, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string_view>{};
  if (rc != 0) return translate(rc, "get");
  return std::optional<std::string_view>{as_view(v)};
}

Status Txn::put(MDB_dbi dbi, std::string_view key, std::string_view value) {
  UMUPAKA_ASSERT(!read_only_);
  MDB_val k = as_val(key), v = as_val(value);
  const int rc = mdb_put(txn_, dbi, &k, &v, 0);
  if (rc != 0) return translate(rc, "put");
  return {};
}

Status Txn::insert(MDB_dbi dbi, std::string_view key, std::string_view value) {
  UMUPAKA_ASSERT(!read_only_);
  MDB_val k = as_val(key), v = as_val(value);
  const int rc = mdb_put(txn_, dbi, &k, &v, MDB_NOOVERWRITE);
  if (rc != 0) return translate(rc, "insert");
  return {};
}

Status Txn::del(MDB_dbi dbi, std::string_view key) {
  UMUPAKA_ASSERT(!read_only_);
  MDB_val k = as_val(key);
  const int rc = mdb_del(txn_, dbi, &k, nullptr);
  if (rc != 0 && rc != MDB_NOTFOUND) return translate(rc, "del");
  return {};
}

Result<size_t> Txn::count(MDB_dbi dbi) const {
  MDB_stat st{};
  const int rc = read_fails() ? EIO : mdb_stat(txn_, dbi, &st);
  if (rc != 0) return translate(rc, "stat");
  return static_cast<size_t>(st.ms_entries);
}

Result<std::unique_ptr<Env>> Env::open(const std::string& dir, const EnvOptions& options) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return make_error(Errc::io, "cannot create " + dir + ": " + std::strerror(errno));
  std::unique_ptr<Env> env(new Env());
  env->dir_ = dir;
  int rc = mdb_env_create(&env->env_);
  if (rc != 0) return translate(rc, "env create");
  env->map_bytes_ = options.map_bytes != 0 ? options.map_bytes : limits::map_bytes_initial;
  env->grow_wait_ms_ = options.grow_wait_ms != 0 ? options.grow_wait_ms : 10'000;
  rc = mdb_env_set_mapsize(env->env_, env->map_bytes_);
  if (rc != 0) return translate(rc, "set map size");
  rc = mdb_env_set_maxdbs(env->env_,
                          options.tables_max != 0 ? options.tables_max : limits::lmdb_tables_max);
  if (rc != 0) return translate(rc, "set max tables");
  rc = mdb_env_set_maxreaders(env->env_, limits::lmdb_readers_max);
  if (rc != 0) return translate(rc, "set max readers");
  unsigned flags = MDB_NOTLS;
  if (!options.sync) flags |= MDB_NOSYNC;
  if (options.write_map) flags |= MDB_WRITEMAP;
  rc = mdb_env_open(env->env_, dir.c_str(), flags, 0600);
  if (rc != 0) return translate(rc, "open " + dir);
  // The file may be larger than our default (grown in an earlier run): adopt its size.
  MDB_envinfo info{};
  mdb_env_info(env->env_, &info);
  env->map_bytes_ = info.me_mapsize;
  mdb_reader_check(env->env_, &env->stale_readers_cleared_);
  return env;
}

Env::~Env() {
  if (env_ != nullptr) mdb_env_close(env_);
}

Result<MDB_dbi> Env::open_table(const std::string& name) {
  ASSIGN_OR_RETURN(Txn txn, begin_write());
  MDB_dbi dbi = 0;
  const int rc = mdb_dbi_open(txn.raw(), name.c_str(), MDB_CREATE, &dbi);
  if (rc != 0) return translate(rc, "open table " + name);
  RETURN_IF_ERROR(txn.commit());
  return dbi;
}

// A transaction begins only when no growth waits (grow): the shared mutex lets new readers in
// ahead of a waiting writer, so steady overlapping reads (API and network threads) could hold a
// growth off until grow_wait_ms and fail the write. A thread that already holds a transaction
// (the network thread reads the feeds while the order plane's read is open) does not wait: it
// would wait for a growth that waits for it.
std::shared_lock<std::shared_timed_mutex> Env::lock_for_txn() {
  while (txns_open_here == 0 && grows_pending_.load(std::memory_order_acquire) > 0)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  return std::shared_lock(resize_mutex_);
}

void Txn::release_lock() {
  if (!lock_.owns_lock()) return;
  lock_.unlock();
  --txns_open_here;
}

Result<Txn> Env::begin(bool read_only) {
  int rc = 0;
  {
    std::shared_lock lock = lock_for_txn();
    MDB_txn* txn = nullptr;
    rc = injected_fatal_.load(std::memory_order_acquire)
             ? MDB_PANIC
             : mdb_txn_begin(env_, nullptr, read_only ? MDB_RDONLY : 0, &txn);
    if (rc == 0) return Txn(txn, read_only, std::move(lock), this);
  }
  // The hook runs once, outside the lock: a hook that blocks (a stalled log) holds up no growth.
  if (rc == MDB_PANIC && !fatal_.exchange(true, std::memory_order_acq_rel) && fatal_hook_)
    fatal_hook_();
  return translate(rc, read_only ? "begin read" : "begin write");
}

Result<Txn> Env::begin_read() { return begin(true); }
Result<Txn> Env::begin_write() { return begin(false); }

Error Env::write_failure(int rc, std::string_view what) const {
  if (rc != EIO && rc != ENOSPC && rc != EFBIG && rc != EDQUOT) return translate(rc, what);
  // Room left: free space on the file system, and the file-size limit if one is set.
  constexpr uint64_t room_bytes_min = 8ull * 1024 * 1024;
  struct statvfs fs {};
  const bool disk_low =
      ::statvfs(dir_.c_str(), &fs) == 0 && uint64_t{fs.f_bavail} * fs.f_frsize < room_bytes_min;
  rlimit lim{};
  struct stat st {};
  const bool file_capped = ::getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY &&
                           ::stat((dir_ + "/data.mdb").c_str(), &st) == 0 &&
                           static_cast<uint64_t>(st.st_size) + room_bytes_min > lim.rlim_cur;
  if (rc != EIO || disk_low || file_capped)
    return make_error(Errc::disk_full, std::string(what) + ": no space left for the store in " +
                                           dir_ + " (" + mdb_strerror(rc) +
                                           "); nothing of this write was recorded");
  return translate(rc, what);
}

Status Env::grow(size_t seen) {
  std::unique_lock lock(resize_mutex_, std::defer_lock);
  // Counted: the writer and the network thread may both be growing.
  grows_pending_.fetch_add(1, std::memory_order_acq_rel);
  const bool locked = lock.try_lock_for(std::chrono::milliseconds(grow_wait_ms_));
  grows_pending_.fetch_sub(1, std::memory_order_acq_rel);
  if (!locked)
    return make_error(Errc::storage,
                      "grow map: a transaction stayed open for " + std::to_string(grow_wait_ms_) +
                          " ms (one of this thread's own?); nothing of this write was recorded");
  const size_t now = map_bytes_.load(std::memory_order_acquire);
  if (now > seen) return {};  // another thread grew it meanwhile
  if (now >= limits::map_bytes_max)
    return make_error(Errc::disk_full, "the store reached its maximum map size");
  const size_t next = std::min(now * 2, limits::map_bytes_max);
  const int rc = mdb_env_set_mapsize(env_, next);
  if (rc != 0) return translate(rc, "grow map");
  map_bytes_.store(next, std::memory_order_release);
  grows_.fetch_add(1, std::memory_order_relaxed);
  return {};
}

}  // namespace umupaka::lmdb

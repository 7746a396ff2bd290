// An LD_PRELOAD library for the integration tests: LMDB's meta-page writes fail with EIO (as a
// disk's I/O error would) once the file named by UMUPAKA_TEST_FAIL_META_WRITES exists. LMDB then
// marks the environment unusable (MDB_FATAL_ERROR) and every later transaction gets MDB_PANIC:
// the state a node must stop in, to be started again (docs/operations.md, "Disk").
//
// LMDB writes its two meta pages, pages 0 and 1, with pwrite at offsets below two pages; data pages
// lie beyond them. Other writes pass through untouched.
#include <dlfcn.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace {

using pwrite_fn = ssize_t (*)(int, const void*, size_t, off_t);

// LMDB's page size is the OS's: 4 KiB here (and at most 64 KiB anywhere).
bool meta_page_write(off_t offset) { return offset < 2 * ::sysconf(_SC_PAGESIZE); }

}  // namespace

extern "C" ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  static const auto real = reinterpret_cast<pwrite_fn>(::dlsym(RTLD_NEXT, "pwrite"));
  const char* trigger = std::getenv("UMUPAKA_TEST_FAIL_META_WRITES");
  if (trigger != nullptr && meta_page_write(offset) && ::access(trigger, F_OK) == 0) {
    errno = EIO;
    return -1;
  }
  return real(fd, buf, count, offset);
}

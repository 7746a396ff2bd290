#include "consensus/assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace umupaka::raft {

void assert_fail(const char* expr, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "umupaka raft: assertion failed: %s at %s:%d %s\n", expr, file, line, msg);
  std::fflush(stderr);
  std::abort();
}

}  // namespace umupaka::raft

// UMUPAKA_RAFT_ASSERT: stays on in every build (independent of NDEBUG). For programmer errors and
// broken invariants of the Raft core, never for bad input from a peer or the caller (those are
// Result errors). A copy of ledger/assert.hpp's idea, so that consensus/ depends on nothing else of
// the project.
#pragma once

namespace umupaka::raft {
[[noreturn]] void assert_fail(const char* expr, const char* file, int line, const char* msg);
}  // namespace umupaka::raft

#define UMUPAKA_RAFT_ASSERT(cond)                                             \
  do {                                                                        \
    if (!(cond)) ::umupaka::raft::assert_fail(#cond, __FILE__, __LINE__, ""); \
  } while (0)

#define UMUPAKA_RAFT_ASSERT_MSG(cond, msg)                                       \
  do {                                                                           \
    if (!(cond)) ::umupaka::raft::assert_fail(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)

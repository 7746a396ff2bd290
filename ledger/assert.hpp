// UMUPAKA_ASSERT: stays on in every build (independent of NDEBUG). For programmer errors and
// invariants, never for bad input (bad input is a Result error).
#pragma once

namespace umupaka {
[[noreturn]] void assert_fail(const char* expr, const char* file, int line, const char* msg);
}

#define UMUPAKA_ASSERT(cond)                                            \
  do {                                                                  \
    if (!(cond)) ::umupaka::assert_fail(#cond, __FILE__, __LINE__, ""); \
  } while (0)

#define UMUPAKA_ASSERT_MSG(cond, msg)                                    \
  do {                                                                   \
    if (!(cond)) ::umupaka::assert_fail(#cond, __FILE__, __LINE__, msg); \
  } while (0)

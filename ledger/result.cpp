#include "ledger/result.hpp"

#include <cstdio>
#include <cstdlib>

#include "ledger/assert.hpp"

namespace umupaka {

const char* error_code_name(Errc code) {
  switch (code) {
    case Errc::ok:
      return "ok";
    case Errc::invalid_field:
      return "invalid_field";
    case Errc::mrz_format:
      return "mrz_format";
    case Errc::mrz_check_digit:
      return "mrz_check_digit";
    case Errc::decode:
      return "decode";
    case Errc::bad_signature:
      return "bad_signature";
    case Errc::chain_broken:
      return "chain_broken";
    case Errc::not_found:
      return "not_found";
    case Errc::conflict:
      return "conflict";
    case Errc::limit_exceeded:
      return "limit_exceeded";
    case Errc::storage:
      return "storage";
    case Errc::disk_full:
      return "disk_full";
    case Errc::map_full:
      return "map_full";
    case Errc::unauthorized:
      return "unauthorized";
    case Errc::forbidden:
      return "forbidden";
    case Errc::unavailable:
      return "unavailable";
    case Errc::io:
      return "io";
  }
  return "unknown";
}

void assert_fail(const char* expr, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "umupaka: assertion failed: %s at %s:%d %s\n", expr, file, line, msg);
  std::fflush(stderr);
  std::abort();
}

}  // namespace umupaka

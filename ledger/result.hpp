// Result<T>: a value or an Error, shaped like std::expected (absent from C++20 on g++ 12 / clang
// 14). Errors are values at module edges; programmer errors are assertions (see assert.hpp).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace umupaka {

// One error code space for the whole project, grouped by module. Codes are stable: the HTTP API
// maps them to statuses and clients may match on their names (error_code_name).
enum class Errc {
  ok = 0,
  // ledger: input and domain
  invalid_field,    // a field fails validation; Error::field names it
  mrz_format,       // MRZ shape, length or character set wrong
  mrz_check_digit,  // an MRZ check digit does not match
  decode,           // bytes are not a canonical encoding of a known record
  bad_signature,    // Ed25519 signature does not verify
  chain_broken,     // seq or previous hash does not continue the feed
  not_found,        // a referenced record, permit, alert or document does not exist
  conflict,         // the request contradicts stored state (e.g. lifting a lifted alert)
  limit_exceeded,   // a named limit in limits.hpp was hit
  // storage
  storage,    // LMDB failure other than below
  disk_full,  // the disk or map cannot grow; nothing was written
  map_full,   // LMDB map full: storage grows the map and retries; never leaves storage/
  // node / API
  unauthorized,  // missing or unknown token
  forbidden,     // the token's role may not do this
  unavailable,   // the node is shutting down or overloaded
  io,            // file or socket error
};

const char* error_code_name(Errc code);

struct Error {
  Errc code = Errc::ok;
  std::string message;
  std::string field;  // the offending field, where one is to blame ("document.number")

  static Error make(Errc c, std::string msg, std::string fld = {}) {
    return Error{c, std::move(msg), std::move(fld)};
  }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return err_; }

 private:
  Error err_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Error make_error(Errc c, std::string msg, std::string field = {}) {
  return Error::make(c, std::move(msg), std::move(field));
}

}  // namespace umupaka

#define UMUPAKA_CONCAT_INNER(a, b) a##b
#define UMUPAKA_CONCAT(a, b) UMUPAKA_CONCAT_INNER(a, b)

// Return the error of a Result/Status expression, if any.
#define RETURN_IF_ERROR(expr)                                  \
  do {                                                         \
    auto umupaka_status_ = (expr);                             \
    if (!umupaka_status_.ok()) return umupaka_status_.error(); \
  } while (0)

// auto x = ASSIGN_OR_RETURN-style helper: declares `lhs` from a Result or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr)                           \
  auto UMUPAKA_CONCAT(umupaka_result_, __LINE__) = (expr);    \
  if (!UMUPAKA_CONCAT(umupaka_result_, __LINE__).ok())        \
    return UMUPAKA_CONCAT(umupaka_result_, __LINE__).error(); \
  lhs = std::move(UMUPAKA_CONCAT(umupaka_result_, __LINE__)).value()

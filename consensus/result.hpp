// Result<T>: a value or an Error, shaped like std::expected, local to the Raft core so that
// consensus/ depends on nothing else of the project. Errors are values at the module edge
// (storage reads, proposals, configuration); programmer errors are assertions (assert.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace umupaka::raft {

// Every error the Raft core returns. Codes are stable; callers may match on them.
enum class Errc : uint8_t {
  ok = 0,
  // Config::validate: a field is out of range; Error::field names it.
  invalid_config,
  // Storage reads (storage.hpp).
  compacted,             // the index is below the storage's first index (compacted away)
  unavailable,           // the index is above the storage's last index
  snapshot_out_of_date,  // MemoryStorage: a snapshot not newer than the one held
  snapshot_temporarily_unavailable,  // the storage is still building a snapshot, or a snap
                                     // message came while a Ready was outstanding; retry later
  // Proposals and requests (raw_node.hpp).
  no_leader,            // this node is not the leader and knows of none to forward to
  proposal_dropped,     // the leader refuses for now: leadership transfer in progress, or it
                        // was removed from the configuration
  limit_exceeded,       // Config::max_uncommitted_entries_size would be exceeded
  conf_change_pending,  // a configuration change is not yet applied; one at a time
  conf_change_invalid,  // the change does not fit the configuration (see conf_change.hpp)
  // Inputs from peers.
  step_local_msg,       // a peer sent a message type that only the node itself may make
  step_peer_not_found,  // a response from a node outside the configuration
  decode,               // bytes are not a valid encoding (ConfChange)
};

const char* errc_name(Errc code);

struct Error {
  Errc code = Errc::ok;
  std::string message;
  std::string field;  // Config::validate: the offending field

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
  Errc code() const { return ok() ? Errc::ok : error().code; }

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
  Errc code() const { return ok_ ? Errc::ok : err_.code; }

 private:
  Error err_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Error make_error(Errc c, std::string msg, std::string field = {}) {
  return Error::make(c, std::move(msg), std::move(field));
}

}  // namespace umupaka::raft

#include "consensus/config.hpp"

#include <string>

namespace umupaka::raft {

namespace {
Error bad(const char* field, std::string why) {
  return make_error(Errc::invalid_config, std::string(field) + ": " + why, field);
}
}  // namespace

Status Config::validate() const {
  if (id.empty()) return bad("id", "must not be empty (empty means none)");
  if (id.size() > node_id_bytes_max) return bad("id", "longer than node_id_bytes_max");
  if (heartbeat_tick == 0) return bad("heartbeat_tick", "must be positive");
  if (election_tick <= heartbeat_tick) {
    return bad("election_tick", "must be greater than heartbeat_tick");
  }
  if (election_tick > election_tick_max) return bad("election_tick", "above election_tick_max");
  if (learner_heartbeat_tick != 0 && learner_heartbeat_tick < heartbeat_tick) {
    return bad("learner_heartbeat_tick", "must not be below heartbeat_tick (0: heartbeat_tick)");
  }
  if (learner_heartbeat_tick > election_tick_max) {
    return bad("learner_heartbeat_tick", "above election_tick_max");
  }
  if (storage == nullptr) return bad("storage", "must not be null");
  if (max_size_per_msg == 0) return bad("max_size_per_msg", "must be positive");
  if (max_size_per_msg > byte_limit_max) return bad("max_size_per_msg", "above byte_limit_max");
  if (max_committed_size_per_ready == 0) {
    return bad("max_committed_size_per_ready", "must be positive");
  }
  if (max_committed_size_per_ready > byte_limit_max) {
    return bad("max_committed_size_per_ready", "above byte_limit_max");
  }
  if (max_uncommitted_entries_size == 0) {
    return bad("max_uncommitted_entries_size", "must be positive");
  }
  if (max_uncommitted_entries_size > byte_limit_max) {
    return bad("max_uncommitted_entries_size", "above byte_limit_max");
  }
  if (max_inflight_msgs == 0) return bad("max_inflight_msgs", "must be positive");
  if (max_inflight_msgs > max_inflight_msgs_max) {
    return bad("max_inflight_msgs", "above max_inflight_msgs_max");
  }
  if (max_pending_reads == 0) return bad("max_pending_reads", "must be positive");
  if (max_pending_reads > max_pending_reads_max) {
    return bad("max_pending_reads", "above max_pending_reads_max");
  }
  const auto init = storage->initial_state();
  if (!init.ok()) return bad("storage", "initial state unreadable: " + init.error().message);
  if (!init->conf_state.well_formed()) {
    return bad("storage", "configuration not sorted, unique and disjoint");
  }
  if (init->hard_state.commit > storage->last_index() ||
      init->hard_state.commit + 1 < storage->first_index()) {
    return bad("storage", "hard state commit outside the stored log");
  }
  if (applied > init->hard_state.commit) {
    return bad("applied", "beyond the persisted commit index");
  }
  if (applied != 0 && applied + 1 < storage->first_index()) {
    return bad("applied", "below the storage's snapshot");
  }
  return {};
}

}  // namespace umupaka::raft

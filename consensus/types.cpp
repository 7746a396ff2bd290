#include "consensus/types.hpp"

#include <algorithm>

#include "consensus/assert.hpp"

namespace umupaka::raft {

const char* errc_name(Errc code) {
  switch (code) {
    case Errc::ok:
      return "ok";
    case Errc::invalid_config:
      return "invalid_config";
    case Errc::compacted:
      return "compacted";
    case Errc::unavailable:
      return "unavailable";
    case Errc::snapshot_out_of_date:
      return "snapshot_out_of_date";
    case Errc::snapshot_temporarily_unavailable:
      return "snapshot_temporarily_unavailable";
    case Errc::no_leader:
      return "no_leader";
    case Errc::proposal_dropped:
      return "proposal_dropped";
    case Errc::limit_exceeded:
      return "limit_exceeded";
    case Errc::conf_change_pending:
      return "conf_change_pending";
    case Errc::conf_change_invalid:
      return "conf_change_invalid";
    case Errc::step_local_msg:
      return "step_local_msg";
    case Errc::step_peer_not_found:
      return "step_peer_not_found";
    case Errc::decode:
      return "decode";
  }
  return "unknown";
}

bool ConfState::is_voter(const NodeId& id) const {
  return std::binary_search(voters.begin(), voters.end(), id);
}

bool ConfState::is_learner(const NodeId& id) const {
  return std::binary_search(learners.begin(), learners.end(), id);
}

namespace {
bool sorted_unique_nonempty(const std::vector<NodeId>& ids) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].empty()) return false;
    if (i > 0 && !(ids[i - 1] < ids[i])) return false;
  }
  return true;
}
}  // namespace

bool ConfState::well_formed() const {
  if (!sorted_unique_nonempty(voters) || !sorted_unique_nonempty(learners)) return false;
  for (const NodeId& id : learners) {
    if (is_voter(id)) return false;
  }
  return true;
}

namespace {
constexpr uint8_t conf_change_format_version = 1;

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_bytes(std::string& out, const std::string& s) {
  UMUPAKA_RAFT_ASSERT(s.size() <= UINT32_MAX);
  put_u32(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

// Reads a length-prefixed byte string at `pos`; false if the input is too short.
bool get_bytes(std::string_view in, size_t& pos, std::string& out) {
  if (in.size() - pos < 4) return false;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) {
    n |= static_cast<uint32_t>(static_cast<uint8_t>(in[pos + i])) << (8 * i);
  }
  pos += 4;
  if (in.size() - pos < n) return false;
  out.assign(in.substr(pos, n));
  pos += n;
  return true;
}
}  // namespace

std::string encode_conf_change(const ConfChange& cc) {
  std::string out;
  out.reserve(2 + 8 + cc.node.size() + cc.context.size());
  out.push_back(static_cast<char>(conf_change_format_version));
  out.push_back(static_cast<char>(cc.type));
  put_bytes(out, cc.node);
  put_bytes(out, cc.context);
  return out;
}

Result<ConfChange> decode_conf_change(std::string_view bytes) {
  if (bytes.size() < 2) return make_error(Errc::decode, "conf change: too short");
  if (static_cast<uint8_t>(bytes[0]) != conf_change_format_version) {
    return make_error(Errc::decode, "conf change: unknown format version");
  }
  const auto type = static_cast<uint8_t>(bytes[1]);
  if (type > static_cast<uint8_t>(ConfChangeType::promote_learner)) {
    return make_error(Errc::decode, "conf change: unknown type");
  }
  ConfChange cc;
  cc.type = static_cast<ConfChangeType>(type);
  size_t pos = 2;
  if (!get_bytes(bytes, pos, cc.node)) return make_error(Errc::decode, "conf change: node cut");
  if (!get_bytes(bytes, pos, cc.context)) {
    return make_error(Errc::decode, "conf change: context cut");
  }
  if (pos != bytes.size()) return make_error(Errc::decode, "conf change: trailing bytes");
  return cc;
}

const char* message_type_name(MessageType t) {
  switch (t) {
    case MessageType::app:
      return "app";
    case MessageType::app_resp:
      return "app_resp";
    case MessageType::vote:
      return "vote";
    case MessageType::vote_resp:
      return "vote_resp";
    case MessageType::pre_vote:
      return "pre_vote";
    case MessageType::pre_vote_resp:
      return "pre_vote_resp";
    case MessageType::heartbeat:
      return "heartbeat";
    case MessageType::heartbeat_resp:
      return "heartbeat_resp";
    case MessageType::snap:
      return "snap";
    case MessageType::timeout_now:
      return "timeout_now";
    case MessageType::read_index:
      return "read_index";
    case MessageType::read_index_resp:
      return "read_index_resp";
    case MessageType::transfer_leader:
      return "transfer_leader";
    case MessageType::prop:
      return "prop";
    case MessageType::hup:
      return "hup";
    case MessageType::beat:
      return "beat";
    case MessageType::check_quorum:
      return "check_quorum";
    case MessageType::snap_status:
      return "snap_status";
    case MessageType::unreachable:
      return "unreachable";
  }
  return "unknown";
}

bool is_local_message(MessageType t) {
  switch (t) {
    case MessageType::hup:
    case MessageType::beat:
    case MessageType::check_quorum:
    case MessageType::snap_status:
    case MessageType::unreachable:
      return true;
    default:
      return false;
  }
}

bool is_response_message(MessageType t) {
  switch (t) {
    case MessageType::app_resp:
    case MessageType::vote_resp:
    case MessageType::pre_vote_resp:
    case MessageType::heartbeat_resp:
    case MessageType::read_index_resp:
      return true;
    default:
      return false;
  }
}

const char* role_name(Role r) {
  switch (r) {
    case Role::follower:
      return "follower";
    case Role::pre_candidate:
      return "pre_candidate";
    case Role::candidate:
      return "candidate";
    case Role::leader:
      return "leader";
  }
  return "unknown";
}

}  // namespace umupaka::raft

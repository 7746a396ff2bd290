#include "consensus/raw_node.hpp"

#include <utility>

#include "consensus/assert.hpp"

namespace umupaka::raft {

Result<RawNode> RawNode::create(const Config& config) {
  if (Status valid = config.validate(); !valid.ok()) return valid.error();
  return RawNode(config);
}

RawNode::RawNode(const Config& config)
    : raft_(config), prev_soft_(raft_.soft_state()), prev_hard_(raft_.hard_state()) {}

void RawNode::tick() { raft_.tick(); }

void RawNode::campaign() {
  Message m;
  m.type = MessageType::hup;
  m.from = raft_.id();
  (void)raft_.step(std::move(m));
}

Status RawNode::propose(std::string data) {
  Message m;
  m.type = MessageType::prop;
  m.from = raft_.id();
  m.entries.push_back(Entry{0, 0, EntryType::normal, std::move(data)});
  return raft_.step(std::move(m));
}

Status RawNode::propose_conf_change(const ConfChange& cc) {
  if (cc.node.empty()) return make_error(Errc::conf_change_invalid, "conf change names no node");
  Message m;
  m.type = MessageType::prop;
  m.from = raft_.id();
  m.entries.push_back(Entry{0, 0, EntryType::conf_change, encode_conf_change(cc)});
  return raft_.step(std::move(m));
}

namespace {
// Cheap shape checks on a peer's message, so that a malformed one is an error value rather than
// an assertion deep in the core.
Status check_shape(const Message& m) {
  if (m.from.empty()) return make_error(Errc::decode, "message without sender");
  // No term or index beyond term_index_max: adopted and stored, it would stop the node at its
  // next election or snapshot, and again at each restart.
  constexpr uint64_t number_max = term_index_max;
  bool too_big = m.term > number_max || m.log_term > number_max || m.index > number_max ||
                 m.commit > number_max || m.reject_hint > number_max;
  for (const Entry& e : m.entries) too_big = too_big || e.term > number_max || e.index > number_max;
  if (m.snapshot)
    too_big = too_big || m.snapshot->meta.index > number_max || m.snapshot->meta.term > number_max;
  if (too_big) return make_error(Errc::decode, "a term or index beyond 2^62");
  for (size_t i = 0; i < m.entries.size(); ++i) {
    if (m.type == MessageType::app && m.entries[i].index != m.index + 1 + i) {
      return make_error(Errc::decode, "append entries not consecutive after index");
    }
  }
  if (m.type == MessageType::prop && m.entries.empty()) {
    return make_error(Errc::decode, "proposal without entries");
  }
  if (m.type == MessageType::snap) {
    if (!m.snapshot || m.snapshot->empty() || !m.snapshot->meta.conf_state.well_formed()) {
      return make_error(Errc::decode, "snap without a valid snapshot");
    }
  }
  // Term 0 marks a message local to the receiver (the core skips the term checks for it); from a
  // peer only a forwarded proposal or read carries it. An append without a term, say, would
  // otherwise be taken as from the current leader and could cut uncommitted entries.
  if (m.term == 0 && m.type != MessageType::prop && m.type != MessageType::read_index)
    return make_error(Errc::decode, "a peer's message without a term");
  if (m.type == MessageType::read_index && m.context.empty()) {
    return make_error(Errc::decode, "read without context");
  }
  return {};
}
}  // namespace

Status RawNode::step(Message m) {
  if (is_local_message(m.type)) {
    return make_error(Errc::step_local_msg, "a peer may not send a local message type");
  }
  if (Status shape = check_shape(m); !shape.ok()) return shape;
  // A peer's message names that peer: one naming this node would have its answer sent to this
  // node itself (an assertion), or a leader take it for its own progress.
  if (m.from == raft_.id()) return make_error(Errc::decode, "a peer's message from this node's id");
  // A snapshot replaces the configuration. Installed while a Ready is outstanding, the caller
  // would then apply that Ready's older configuration changes on top of the snapshot's (and lose
  // a voter it re-added since, say). Refused until advance(); the leader sends it again.
  if (m.type == MessageType::snap && ready_outstanding_)
    return make_error(Errc::snapshot_temporarily_unavailable,
                      "a snapshot is installed only between Readies (after advance())");
  if (is_response_message(m.type) && raft_.tracker().progress(m.from) == nullptr) {
    return make_error(Errc::step_peer_not_found, "response from outside the configuration");
  }
  return raft_.step(std::move(m));
}

bool RawNode::has_ready() const {
  if (ready_outstanding_) return false;
  if (raft_.soft_state() != prev_soft_) return true;
  const HardState hs = raft_.hard_state();
  if (!hs.empty() && hs != prev_hard_) return true;
  const RaftLog& log = raft_.log();
  return log.has_pending_snapshot() || !log.unstable_entries().empty() || raft_.has_messages() ||
         log.has_next_committed_entries() || raft_.has_read_states();
}

Ready RawNode::ready() {
  UMUPAKA_RAFT_ASSERT_MSG(!ready_outstanding_, "ready() before advance() of the previous Ready");
  Ready rd;
  const RaftLog& log = raft_.log();
  rd.entries = log.unstable_entries();
  rd.committed_entries = log.next_committed_entries();
  if (log.unstable_snapshot()) rd.snapshot = *log.unstable_snapshot();
  rd.messages = raft_.take_messages();
  rd.read_states = raft_.take_read_states();
  const SoftState soft = raft_.soft_state();
  if (soft != prev_soft_) {
    rd.soft_state = soft;
    prev_soft_ = soft;
  }
  const HardState hard = raft_.hard_state();
  if (hard != prev_hard_) {
    // The commit index too: the entries this Ready hands out to apply are committed by it, and
    // a state machine that applied them durably must not find a lower commit at its restart
    // (Config::validate refuses applied beyond commit: the node could not start).
    rd.must_sync = true;
    rd.hard_state = hard;
    prev_hard_ = hard;
  }
  rd.must_sync = rd.must_sync || !rd.entries.empty() || rd.snapshot.has_value();
  // Entries to apply are committed, hence within what is (or is in this Ready) persisted.
  if (!rd.committed_entries.empty()) {
    UMUPAKA_RAFT_ASSERT(rd.committed_entries.back().index <= hard.commit);
  }
  ready_outstanding_ = true;
  return rd;
}

void RawNode::advance(const Ready& rd) {
  UMUPAKA_RAFT_ASSERT_MSG(ready_outstanding_, "advance() without an outstanding Ready");
  ready_outstanding_ = false;
  LogIndex applied = 0;
  uint64_t applied_payload_bytes = 0;
  for (const Entry& e : rd.committed_entries) applied_payload_bytes += entry_payload_bytes(e);
  if (!rd.committed_entries.empty()) {
    applied = rd.committed_entries.back().index;
  } else if (rd.snapshot) {
    applied = rd.snapshot->meta.index;
  }
  std::optional<Entry> last_persisted;
  if (!rd.entries.empty()) {
    const Entry& e = rd.entries.back();
    last_persisted = Entry{e.term, e.index, e.type, {}};
  }
  raft_.advance(applied, last_persisted, rd.snapshot ? rd.snapshot->meta.index : 0,
                applied_payload_bytes);
}

ConfState RawNode::apply_conf_change(const ConfChange& cc) { return raft_.apply_conf_change(cc); }

Status RawNode::transfer_leadership(const NodeId& to) {
  UMUPAKA_RAFT_ASSERT(!to.empty());
  Message m;
  m.type = MessageType::transfer_leader;
  m.from = to;
  return raft_.step(std::move(m));
}

Status RawNode::read_index(std::string context) {
  UMUPAKA_RAFT_ASSERT_MSG(!context.empty(), "read context must not be empty");
  Message m;
  m.type = MessageType::read_index;
  m.context = std::move(context);
  return raft_.step(std::move(m));
}

void RawNode::report_unreachable(const NodeId& id) {
  Message m;
  m.type = MessageType::unreachable;
  m.from = id;
  (void)raft_.step(std::move(m));
}

void RawNode::report_snapshot(const NodeId& id, bool ok) {
  Message m;
  m.type = MessageType::snap_status;
  m.from = id;
  m.reject = !ok;
  (void)raft_.step(std::move(m));
}

}  // namespace umupaka::raft

#include "consensus/raft.hpp"

#include <algorithm>
#include <utility>

#include "consensus/assert.hpp"

namespace umupaka::raft {

namespace {
bool is_vote_type(MessageType t) {
  return t == MessageType::vote || t == MessageType::vote_resp || t == MessageType::pre_vote ||
         t == MessageType::pre_vote_resp;
}

Message make_message(MessageType type, const NodeId& to) {
  Message m;
  m.type = type;
  m.to = to;
  return m;
}
}  // namespace

Raft::Raft(const Config& config)
    : id_(config.id),
      log_(config.storage, config.max_committed_size_per_ready),
      tracker_(config.max_inflight_msgs),
      election_timeout_(config.election_tick),
      heartbeat_timeout_(config.heartbeat_tick),
      learner_heartbeat_timeout_(config.learner_heartbeat_tick == 0
                                     ? config.heartbeat_tick
                                     : config.learner_heartbeat_tick),
      max_size_per_msg_(config.max_size_per_msg),
      max_uncommitted_size_bytes_(config.max_uncommitted_entries_size),
      max_pending_reads_(config.max_pending_reads),
      pre_vote_(config.pre_vote),
      check_quorum_(config.check_quorum),
      rng_(config.seed) {
  const Status valid = config.validate();
  UMUPAKA_RAFT_ASSERT_MSG(valid.ok(), valid.error().message.c_str());
  auto init = config.storage->initial_state();
  UMUPAKA_RAFT_ASSERT(init.ok());
  tracker_.reset(init->conf_state, log_.last_index());
  if (!init->hard_state.empty()) {
    log_.load_committed(init->hard_state.commit);
    term_ = init->hard_state.term;
    vote_ = init->hard_state.vote;
  }
  if (config.applied > 0) log_.applied_to(config.applied);
  become_follower(term_, NodeId());
}

// --- Role changes ----------------------------------------------------------------------------

void Raft::reset(Term term) {
  if (term_ != term) {
    UMUPAKA_RAFT_ASSERT(term > term_);
    term_ = term;
    vote_.clear();
  }
  lead_.clear();
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  reset_randomized_election_timeout();
  abort_leader_transfer();
  tracker_.reset_votes();
  const LogIndex last = log_.last_index();
  for (auto& [id, pr] : tracker_.all()) {
    pr = Progress(id == id_ ? last : 0, last + 1, pr.inflights().capacity(), pr.is_learner());
  }
  pending_conf_index_ = 0;
  uncommitted_size_bytes_ = 0;
  read_only_.clear();
  pending_read_msgs_.clear();
}

void Raft::reset_randomized_election_timeout() {
  // Modulo rather than std::uniform_int_distribution: the same draw on every standard library.
  randomized_election_timeout_ =
      election_timeout_ + static_cast<uint32_t>(rng_() % election_timeout_);
  UMUPAKA_RAFT_ASSERT(randomized_election_timeout_ >= election_timeout_);
  UMUPAKA_RAFT_ASSERT(randomized_election_timeout_ < 2 * election_timeout_);
}

void Raft::become_follower(Term term, const NodeId& lead) {
  reset(term);
  lead_ = lead;
  role_ = Role::follower;
}

void Raft::become_pre_candidate() {
  UMUPAKA_RAFT_ASSERT_MSG(role_ != Role::leader, "leader cannot become pre-candidate");
  // Neither the term nor the vote changes: a pre-election is only a poll.
  tracker_.reset_votes();
  lead_.clear();
  role_ = Role::pre_candidate;
}

void Raft::become_candidate() {
  UMUPAKA_RAFT_ASSERT_MSG(role_ != Role::leader, "leader cannot become candidate");
  reset(term_ + 1);
  vote_ = id_;
  role_ = Role::candidate;
}

void Raft::become_leader() {
  UMUPAKA_RAFT_ASSERT_MSG(role_ == Role::candidate || role_ == Role::pre_candidate,
                          "only a candidate becomes leader");
  UMUPAKA_RAFT_ASSERT(tracker_.is_voter(id_));
  reset(term_);
  lead_ = id_;
  role_ = Role::leader;
  Progress* self = tracker_.progress(id_);
  self->become_replicate();
  self->set_recent_active(true);
  std::vector<Entry> empty(1);
  const bool appended = append_entry(empty);
  UMUPAKA_RAFT_ASSERT_MSG(appended, "empty entry must never be refused");
  // Conf changes already in the log may be unapplied, and a leader must commit an entry of its own
  // term before it changes the configuration (the single-server-change fix, Ongaro, raft-dev
  // 2015): propose no change until our empty entry is applied.
  pending_conf_index_ = log_.last_index();
}

// --- Step ------------------------------------------------------------------------------------

bool Raft::in_lease() const {
  return check_quorum_ && !lead_.empty() && election_elapsed_ < election_timeout_;
}

Status Raft::step(Message m) {
  if (m.term == 0) {
    // Local message (or a forwarded prop / read_index, which carry no term).
  } else if (m.term > term_) {
    if (m.type == MessageType::vote || m.type == MessageType::pre_vote) {
      const bool force = m.context == campaign_transfer_context;
      // Leader lease: while we hear from a live leader, a vote request is a disruption (a node
      // rejoining from a partition, or one removed from the configuration). Ignore it entirely,
      // without taking its term.
      if (!force && in_lease()) return {};
    }
    if (m.type == MessageType::pre_vote) {
      // Never change our term in response to a pre-vote.
    } else if (m.type == MessageType::pre_vote_resp && !m.reject) {
      // A grant to our pre-vote carries the term we will campaign in; counted below.
    } else if (m.type == MessageType::app || m.type == MessageType::heartbeat ||
               m.type == MessageType::snap) {
      become_follower(m.term, m.from);
    } else {
      become_follower(m.term, NodeId());
    }
  } else if (m.term < term_) {
    if ((check_quorum_ || pre_vote_) &&
        (m.type == MessageType::heartbeat || m.type == MessageType::app)) {
      // A stale leader: with check_quorum or pre_vote, nobody else may ever tell it about the
      // newer term (their elections did not reach it), so answer with our term to depose it.
      send(make_message(MessageType::app_resp, m.from));
    } else if (m.type == MessageType::pre_vote) {
      Message resp = make_message(MessageType::pre_vote_resp, m.from);
      resp.term = term_;
      resp.reject = true;
      send(std::move(resp));
    }
    return {};  // ignore anything else from an older term
  }

  switch (m.type) {
    case MessageType::hup:
      hup(pre_vote_ ? CampaignType::pre_election : CampaignType::election);
      return {};
    case MessageType::vote:
    case MessageType::pre_vote:
      handle_vote_request(m);
      return {};
    default:
      break;
  }
  switch (role_) {
    case Role::leader:
      return step_leader(m);
    case Role::candidate:
    case Role::pre_candidate:
      return step_candidate(m);
    case Role::follower:
      return step_follower(m);
  }
  return {};
}

void Raft::handle_vote_request(const Message& m) {
  const bool pre = m.type == MessageType::pre_vote;
  // We may vote again for the same candidate (a repeated request), for anyone if we have not
  // voted and know no leader in this term, and in a pre-vote for any future term.
  const bool can_vote =
      vote_ == m.from || (vote_.empty() && lead_.empty()) || (pre && m.term > term_);
  // A candidate asks only the voters of its configuration, and counts only theirs. A node that
  // believes itself a learner votes when asked all the same (as etcd-io/raft does): its promotion
  // can be committed by the other voters before it reaches its log, and a candidate holding every
  // committed entry may then need its vote. Refusing left such a cluster without a leader for
  // good (the Raft swarm, seed 29). Learners still never campaign.
  Message resp = make_message(pre ? MessageType::pre_vote_resp : MessageType::vote_resp, m.from);
  if (can_vote && log_.is_up_to_date(m.index, m.log_term)) {
    // The response carries the request's term: a pre-vote grant for a future term must not be
    // dropped as stale by the pre-candidate, which is still at the old term.
    resp.term = m.term;
    send(std::move(resp));
    if (!pre) {
      election_elapsed_ = 0;
      vote_ = m.from;
    }
  } else {
    resp.term = term_;
    resp.reject = true;
    send(std::move(resp));
  }
}

// --- Ticks -----------------------------------------------------------------------------------

void Raft::tick() {
  if (role_ == Role::leader) {
    tick_heartbeat();
  } else {
    tick_election();
  }
}

void Raft::tick_election() {
  ++election_elapsed_;
  if (promotable() && election_elapsed_ >= randomized_election_timeout_) {
    election_elapsed_ = 0;
    Message m;
    m.type = MessageType::hup;
    m.from = id_;
    (void)step(std::move(m));
  }
}

void Raft::tick_heartbeat() {
  ++heartbeat_elapsed_;
  ++learner_heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= election_timeout_) {
    election_elapsed_ = 0;
    if (check_quorum_) {
      Message m;
      m.type = MessageType::check_quorum;
      m.from = id_;
      (void)step(std::move(m));
    }
    // A transfer not done within an election timeout is abandoned; we lead on.
    if (role_ == Role::leader) abort_leader_transfer();
  }
  if (role_ != Role::leader) return;
  if (heartbeat_elapsed_ >= heartbeat_timeout_) {
    heartbeat_elapsed_ = 0;
    beat_learners_ = learner_heartbeat_elapsed_ >= learner_heartbeat_timeout_;
    if (beat_learners_) learner_heartbeat_elapsed_ = 0;
    Message m;
    m.type = MessageType::beat;
    m.from = id_;
    (void)step(std::move(m));
    beat_learners_ = true;
  }
}

// --- Elections -------------------------------------------------------------------------------

bool Raft::promotable() const { return tracker_.is_voter(id_) && !log_.has_pending_snapshot(); }

void Raft::hup(CampaignType t) {
  if (role_ == Role::leader) return;
  if (!promotable()) return;
  // A configuration change that is committed but not yet applied may remove us or change the
  // quorum: campaign only once it is applied.
  if (log_.committed() > log_.applied()) {
    auto ents = log_.slice(log_.applied() + 1, log_.committed() + 1, UINT64_MAX);
    if (!ents.ok()) return;
    for (const Entry& e : *ents) {
      if (e.type == EntryType::conf_change) return;
    }
  }
  campaign(t);
}

void Raft::campaign(CampaignType t) {
  Term term = 0;
  MessageType type = MessageType::vote;
  if (t == CampaignType::pre_election) {
    become_pre_candidate();
    type = MessageType::pre_vote;
    term = term_ + 1;  // the term we would campaign in; ours does not change yet
  } else {
    become_candidate();
    term = term_;
  }
  tracker_.record_vote(id_, true);
  if (tracker_.tally_votes() == VoteResult::won) {
    // A single voter wins at once.
    if (t == CampaignType::pre_election) {
      campaign(CampaignType::election);
    } else {
      become_leader();
    }
    return;
  }
  for (const auto& [id, pr] : tracker_.all()) {
    if (id == id_ || pr.is_learner()) continue;
    Message m = make_message(type, id);
    m.term = term;
    m.log_term = log_.last_term();
    m.index = log_.last_index();
    if (t == CampaignType::transfer) m.context = std::string(campaign_transfer_context);
    send(std::move(m));
  }
}

Status Raft::step_candidate(Message& m) {
  const MessageType my_resp =
      role_ == Role::pre_candidate ? MessageType::pre_vote_resp : MessageType::vote_resp;
  switch (m.type) {
    case MessageType::prop:
      return make_error(Errc::no_leader, "proposal dropped: election in progress, no leader");
    case MessageType::read_index:
      return make_error(Errc::no_leader, "read dropped: election in progress, no leader");
    case MessageType::transfer_leader:
      return make_error(Errc::no_leader, "transfer dropped: election in progress, no leader");
    case MessageType::app:
      become_follower(m.term, m.from);
      handle_append_entries(m);
      return {};
    case MessageType::heartbeat:
      become_follower(m.term, m.from);
      handle_heartbeat(m);
      return {};
    case MessageType::snap:
      become_follower(m.term, m.from);
      handle_snapshot(m);
      return {};
    default:
      break;
  }
  if (m.type == my_resp) {
    tracker_.record_vote(m.from, !m.reject);
    switch (tracker_.tally_votes()) {
      case VoteResult::won:
        if (role_ == Role::pre_candidate) {
          campaign(CampaignType::election);
        } else {
          become_leader();
          bcast_append();
        }
        break;
      case VoteResult::lost:
        // A rejection from a higher term already made us a follower in step().
        become_follower(term_, NodeId());
        break;
      case VoteResult::pending:
        break;
    }
  }
  return {};
}

// --- Follower --------------------------------------------------------------------------------

Status Raft::step_follower(Message& m) {
  switch (m.type) {
    case MessageType::prop:
      if (lead_.empty()) return make_error(Errc::no_leader, "proposal dropped: no leader known");
      m.to = lead_;
      m.term = 0;
      send(std::move(m));
      return {};
    case MessageType::app:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_append_entries(m);
      return {};
    case MessageType::heartbeat:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_heartbeat(m);
      return {};
    case MessageType::snap:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_snapshot(m);
      return {};
    case MessageType::transfer_leader:
      if (lead_.empty()) return make_error(Errc::no_leader, "transfer dropped: no leader known");
      m.to = lead_;
      m.term = 0;
      send(std::move(m));
      return {};
    case MessageType::timeout_now:
      // A transfer: campaign at once, without a pre-vote (we know the leader wants us) and past
      // other followers' leases.
      hup(CampaignType::transfer);
      return {};
    case MessageType::read_index:
      if (lead_.empty()) return make_error(Errc::no_leader, "read dropped: no leader known");
      m.to = lead_;
      m.term = 0;
      send(std::move(m));
      return {};
    case MessageType::read_index_resp:
      read_states_.push_back(ReadState{m.index, m.context});
      return {};
    default:
      return {};
  }
}

void Raft::handle_append_entries(const Message& m) {
  if (m.index < log_.committed()) {
    Message resp = make_message(MessageType::app_resp, m.from);
    resp.index = log_.committed();
    send(std::move(resp));
    return;
  }
  Message resp = make_message(MessageType::app_resp, m.from);
  if (const auto last_new = log_.maybe_append(m.index, m.log_term, m.commit, m.entries)) {
    resp.index = *last_new;
  } else {
    // Hint the leader where our log may match: the last index at or below m.index whose term is
    // at most m.log_term, so it can skip a whole conflicting term per round trip.
    const LogIndex hint = std::min(m.index, log_.last_index());
    const auto [hint_index, hint_term] = log_.find_conflict_by_term(hint, m.log_term);
    resp.index = m.index;
    resp.reject = true;
    resp.reject_hint = hint_index;
    resp.log_term = hint_term;
  }
  send(std::move(resp));
}

void Raft::handle_heartbeat(const Message& m) {
  Message resp = make_message(MessageType::heartbeat_resp, m.from);
  resp.context = m.context;
  if (m.commit > log_.last_index()) {
    // A leader never tells a follower to commit beyond what it acknowledged: this log lost
    // entries it had acknowledged (its store put back from a backup; etcd panics here). Said so,
    // with what it holds, so that the leader sends them again; nothing is committed meanwhile
    // (what it holds may differ from the leader's log too).
    resp.reject = true;
    resp.reject_hint = log_.last_index();
  } else if (m.commit > log_.committed() && log_.term_or_zero(m.commit) != m.log_term) {
    // This log holds another entry where the leader's is committed: one a deposed leader sent,
    // kept by a store put back from a backup taken before the leader's replaced it. Committed,
    // it would be applied although the cluster never committed it. Said so; the leader probes
    // this log from below and overwrites it.
    resp.reject = true;
    resp.reject_hint = m.commit - 1;
  } else {
    log_.commit_to(m.commit);
  }
  send(std::move(resp));
}

void Raft::handle_snapshot(const Message& m) {
  Message resp = make_message(MessageType::app_resp, m.from);
  if (m.snapshot && restore(*m.snapshot)) {
    resp.index = log_.last_index();
  } else {
    resp.index = log_.committed();
  }
  send(std::move(resp));
}

bool Raft::restore(const Snapshot& snap) {
  UMUPAKA_RAFT_ASSERT(role_ == Role::follower);
  if (snap.meta.index <= log_.committed()) return false;
  // A snapshot from before we joined: we cannot run without knowing we are a member.
  if (!snap.meta.conf_state.contains(id_)) return false;
  if (log_.match_term(snap.meta.index, snap.meta.term)) {
    // We already hold that entry: just learn it is committed.
    log_.commit_to(snap.meta.index);
    return false;
  }
  log_.restore(snap);
  tracker_.reset(snap.meta.conf_state, log_.last_index());
  const ConfState cs = switch_to_config();
  UMUPAKA_RAFT_ASSERT(cs == snap.meta.conf_state);
  return true;
}

// --- Leader ----------------------------------------------------------------------------------

Status Raft::step_leader(Message& m) {
  switch (m.type) {
    case MessageType::beat:
      bcast_heartbeat();
      return {};
    case MessageType::check_quorum:
      if (!tracker_.quorum_active(id_)) {
        become_follower(term_, NodeId());
        return {};
      }
      for (auto& [id, pr] : tracker_.all()) {
        if (id != id_) pr.set_recent_active(false);
      }
      return {};
    case MessageType::prop:
      return handle_proposal(m);
    case MessageType::read_index:
      return handle_read_index(m);
    default:
      break;
  }
  Progress* pr = tracker_.progress(m.from);
  if (pr == nullptr) return {};
  switch (m.type) {
    case MessageType::app_resp:
      handle_append_response(m, *pr);
      break;
    case MessageType::heartbeat_resp:
      handle_heartbeat_response(m, *pr);
      break;
    case MessageType::snap_status:
      if (pr->state() != ProgressState::snapshot) break;
      if (m.reject) pr->clear_pending_snapshot();
      // Success: wait for the follower's append response before sending more. Failure: wait for a
      // heartbeat response before trying again.
      pr->become_probe();
      pr->pause_probe();
      break;
    case MessageType::unreachable:
      // An optimistic append was probably lost: fall back to probing.
      if (pr->state() == ProgressState::replicate) pr->become_probe();
      break;
    case MessageType::transfer_leader:
      handle_transfer_leader(m, *pr);
      break;
    default:
      break;
  }
  return {};
}

Status Raft::handle_proposal(Message& m) {
  UMUPAKA_RAFT_ASSERT_MSG(!m.entries.empty(), "empty proposal");
  if (tracker_.progress(id_) == nullptr) {
    return make_error(Errc::proposal_dropped, "this leader was removed from the configuration");
  }
  if (!lead_transferee_.empty()) {
    return make_error(Errc::proposal_dropped, "leadership transfer in progress");
  }
  std::optional<size_t> conf_at;
  for (size_t i = 0; i < m.entries.size(); ++i) {
    if (m.entries[i].type != EntryType::conf_change) continue;
    if (conf_at) return make_error(Errc::conf_change_invalid, "more than one change at once");
    conf_at = i;
    const auto cc = decode_conf_change(m.entries[i].data);
    if (!cc.ok()) return make_error(Errc::conf_change_invalid, cc.error().message);
    if (pending_conf_index_ > log_.applied()) {
      return make_error(Errc::conf_change_pending,
                        "a configuration change is not yet applied; one at a time");
    }
    if (Status fits = tracker_.check(*cc); !fits.ok()) return fits;
  }
  const LogIndex first_new = log_.last_index() + 1;
  if (!append_entry(m.entries)) {
    return make_error(Errc::limit_exceeded, "max_uncommitted_entries_size reached");
  }
  if (conf_at) pending_conf_index_ = first_new + *conf_at;
  bcast_append();
  return {};
}

bool Raft::committed_entry_in_current_term() const {
  return log_.term_or_zero(log_.committed()) == term_;
}

Status Raft::handle_read_index(const Message& m) {
  if (tracker_.is_singleton(id_)) {
    respond_read(m, log_.committed());
    return {};
  }
  if (read_only_.pending_count() + pending_read_msgs_.size() >= max_pending_reads_) {
    return make_error(Errc::limit_exceeded, "max_pending_reads reached");
  }
  // Until an entry of our term is committed we do not know the true commit index (§6.4).
  if (!committed_entry_in_current_term()) {
    pending_read_msgs_.push_back(m);
    return {};
  }
  send_read_index_confirmation(m);
  return {};
}

void Raft::send_read_index_confirmation(const Message& m) {
  if (!read_only_.add_request(log_.committed(), m)) return;  // context already pending
  const auto* acks = read_only_.recv_ack(id_, m.context);
  UMUPAKA_RAFT_ASSERT(acks != nullptr);
  bcast_heartbeat_with_context(m.context);
  // A read held for an entry of this term (release_pending_reads) may find the voters shrunk
  // to the leader alone since: its own acknowledgement is the quorum then.
  answer_reads_won();
}

// Pending reads whose acknowledgements already make a quorum of the current configuration are
// answered now, the newest such and every one before it: when a removal shrank the voters, the
// acknowledgements a read waited for may never come (the removed voter's are refused).
void Raft::answer_reads_won() {
  std::string newest;
  for (const std::string& context : read_only_.contexts()) {
    const auto* acks = read_only_.acks(context);
    if (acks != nullptr && tracker_.ack_result(*acks) == VoteResult::won) newest = context;
  }
  if (newest.empty()) return;
  for (const ReadIndexStatus& rs : read_only_.advance(newest)) respond_read(rs.request, rs.index);
}

void Raft::release_pending_reads() {
  if (pending_read_msgs_.empty() || !committed_entry_in_current_term()) return;
  std::vector<Message> msgs = std::move(pending_read_msgs_);
  pending_read_msgs_.clear();
  for (const Message& m : msgs) send_read_index_confirmation(m);
}

void Raft::respond_read(const Message& request, LogIndex index) {
  if (request.from.empty() || request.from == id_) {
    read_states_.push_back(ReadState{index, request.context});
    return;
  }
  Message resp = make_message(MessageType::read_index_resp, request.from);
  resp.index = index;
  resp.context = request.context;
  send(std::move(resp));
}

void Raft::handle_append_response(const Message& m, Progress& pr) {
  pr.set_recent_active(true);
  if (m.reject) {
    LogIndex next_probe = m.reject_hint;
    if (m.log_term > 0) {
      // The follower's log holds term m.log_term at the hint: find our last entry of at most that
      // term, where the logs may match.
      next_probe = log_.find_conflict_by_term(m.reject_hint, m.log_term).first;
    }
    if (pr.maybe_decr_to(m.index, next_probe)) {
      if (pr.state() == ProgressState::replicate) pr.become_probe();
      send_append(m.from);
    }
    return;
  }
  // No peer can hold what this log does not: an acknowledgement beyond it is not from a follower
  // of ours (a forged or corrupt message) and would move the peer's next index past the log.
  if (m.index > log_.last_index()) return;
  const bool was_paused = pr.is_paused();
  // A probe answered at the match index (an empty append to a follower already caught up) also
  // ends the probe, as in etcd: otherwise it would wait for the next new entry.
  // (Not at index 0, which no real answer to a probe names once the leader has its empty entry:
  // that is a follower's answer to an append of an older term, which says nothing of its log,
  // and taken as one it would send the whole log, or a snapshot, again.)
  const bool probe_at_match =
      pr.state() == ProgressState::probe && m.index == pr.match() && m.index > 0;
  if (!pr.maybe_update(m.index) && !probe_at_match) return;
  switch (pr.state()) {
    case ProgressState::probe:
      pr.become_replicate();
      break;
    case ProgressState::snapshot:
      if (pr.match() >= pr.pending_snapshot()) {
        pr.become_probe();
        pr.become_replicate();
      }
      break;
    case ProgressState::replicate:
      pr.free_inflights_le(m.index);
      break;
  }
  if (maybe_commit()) {
    release_pending_reads();
    bcast_append();
  } else if (was_paused) {
    send_append(m.from);
  }
  // The window may have room for several batches now.
  while (maybe_send_append(m.from, false)) {
  }
  if (m.from == lead_transferee_ && pr.match() == log_.last_index()) {
    send_timeout_now(m.from);
  }
}

void Raft::handle_heartbeat_response(const Message& m, Progress& pr) {
  pr.set_recent_active(true);
  pr.heard_heartbeat_response();
  // The follower lost entries it had acknowledged (handle_heartbeat): probe it from what it holds.
  // (Its acknowledgements may have counted for commits; Raft cannot undo that, only make its
  // copy whole again.)
  if (m.reject && m.reject_hint < pr.match()) pr.lost_entries(m.reject_hint);
  // A follower being probed gets an append, empty if it lacks nothing, so the probe can end.
  if (pr.match() < log_.last_index() || pr.state() == ProgressState::probe) send_append(m.from);
  if (m.context.empty()) return;
  const auto* acks = read_only_.recv_ack(m.from, m.context);
  if (acks == nullptr || tracker_.ack_result(*acks) != VoteResult::won) return;
  for (const ReadIndexStatus& rs : read_only_.advance(m.context)) {
    respond_read(rs.request, rs.index);
  }
}

void Raft::handle_transfer_leader(const Message& m, Progress& pr) {
  const NodeId& transferee = m.from;
  if (pr.is_learner()) return;  // a learner cannot lead
  if (!lead_transferee_.empty()) {
    if (lead_transferee_ == transferee) return;  // already on its way
    abort_leader_transfer();
  }
  if (transferee == id_) return;  // already leader
  // The transfer must finish within an election timeout (tick_heartbeat aborts it).
  election_elapsed_ = 0;
  lead_transferee_ = transferee;
  if (pr.match() == log_.last_index()) {
    send_timeout_now(transferee);
  } else {
    send_append(transferee);
  }
}

bool Raft::increase_uncommitted_size(const std::vector<Entry>& es) {
  uint64_t size_bytes = 0;
  for (const Entry& e : es) size_bytes += entry_payload_bytes(e);
  // Always admit one proposal into an empty pipeline, however large.
  if (uncommitted_size_bytes_ > 0 && size_bytes > 0 &&
      uncommitted_size_bytes_ + size_bytes > max_uncommitted_size_bytes_) {
    return false;
  }
  uncommitted_size_bytes_ += size_bytes;
  return true;
}

bool Raft::append_entry(std::vector<Entry>& es) {
  LogIndex last = log_.last_index();
  for (size_t i = 0; i < es.size(); ++i) {
    es[i].term = term_;
    es[i].index = last + 1 + i;
  }
  if (!increase_uncommitted_size(es)) return false;
  last = log_.append(es);
  Progress* self = tracker_.progress(id_);
  UMUPAKA_RAFT_ASSERT(self != nullptr);
  self->maybe_update(last);
  maybe_commit();
  return true;
}

bool Raft::maybe_commit() {
  if (tracker_.voter_count() == 0) return false;
  return log_.maybe_commit(tracker_.committed(), term_);
}

void Raft::bcast_append() {
  for (const auto& [id, pr] : tracker_.all()) {
    if (id != id_) send_append(id);
  }
}

bool Raft::maybe_send_append(const NodeId& to, bool send_if_empty) {
  Progress* pr = tracker_.progress(to);
  UMUPAKA_RAFT_ASSERT(pr != nullptr);
  if (pr->is_paused()) return false;
  const LogIndex prev_index = pr->next() - 1;
  const auto prev_term = log_.term(prev_index);
  auto ents = log_.entries(pr->next(), max_size_per_msg_);
  if (prev_term.ok() && ents.ok()) {
    if (ents->empty() && !send_if_empty) return false;
    Message m = make_message(MessageType::app, to);
    m.index = prev_index;
    m.log_term = *prev_term;
    m.commit = log_.committed();
    if (!ents->empty()) pr->sent_entries(ents->back().index);
    m.entries = std::move(ents).value();
    send(std::move(m));
    return true;
  }
  // The entries it needs are compacted: send a snapshot instead.
  UMUPAKA_RAFT_ASSERT((!prev_term.ok() && prev_term.code() == Errc::compacted) ||
                      (!ents.ok() && ents.code() == Errc::compacted));
  if (!pr->recent_active()) return false;  // not worth a snapshot until it shows life
  auto snap = log_.snapshot();
  if (!snap.ok()) {
    UMUPAKA_RAFT_ASSERT(snap.code() == Errc::snapshot_temporarily_unavailable);
    return false;
  }
  UMUPAKA_RAFT_ASSERT_MSG(!snap->empty(), "log compacted without a snapshot");
  pr->become_snapshot(snap->meta.index);
  Message m = make_message(MessageType::snap, to);
  m.snapshot = std::move(snap).value();
  send(std::move(m));
  return true;
}

void Raft::bcast_heartbeat() {
  const std::string& context = read_only_.last_pending_context();
  for (const auto& [id, pr] : tracker_.all()) {
    // A learner still being probed (a new leader, a rejected append) gets every beat: the
    // answer to a heartbeat is what lets a paused probe go on.
    const bool slow = pr.is_learner() && pr.state() == ProgressState::replicate;
    if (id != id_ && (beat_learners_ || !slow)) send_heartbeat(id, context);
  }
}

void Raft::bcast_heartbeat_with_context(const std::string& context) {
  for (const auto& [id, pr] : tracker_.all()) {
    if (id != id_) send_heartbeat(id, context);
  }
}

void Raft::send_heartbeat(const NodeId& to, const std::string& context) {
  const Progress* pr = tracker_.progress(to);
  UMUPAKA_RAFT_ASSERT(pr != nullptr);
  Message m = make_message(MessageType::heartbeat, to);
  // Never tell a follower to commit past what it is known to hold, and say the term of the entry
  // there, so that a follower holding another entry at that index does not commit it. An entry
  // compacted away has no term here: then no commit at all (the follower needs the snapshot).
  m.commit = std::min(pr->match(), log_.committed());
  m.log_term = log_.term_or_zero(m.commit);
  if (m.log_term == 0) m.commit = 0;
  m.context = context;
  send(std::move(m));
}

void Raft::send_timeout_now(const NodeId& to) { send(make_message(MessageType::timeout_now, to)); }

// --- Configuration ---------------------------------------------------------------------------

ConfState Raft::apply_conf_change(const ConfChange& cc) {
  tracker_.apply(cc, log_.last_index());
  return switch_to_config();
}

ConfState Raft::switch_to_config() {
  ConfState cs = tracker_.conf_state();
  const bool voter = tracker_.is_voter(id_);
  if (!voter && role_ == Role::leader) {
    // Removed or demoted while leading: hand over to the most up-to-date voter if it holds our
    // whole log, then step down. Either way the remaining voters elect a leader whose log holds
    // every committed entry.
    NodeId best;
    LogIndex best_match = 0;
    for (const auto& [id, pr] : tracker_.all()) {
      if (id == id_ || pr.is_learner() || pr.match() <= best_match) continue;
      best = id;
      best_match = pr.match();
    }
    if (!best.empty() && best_match == log_.last_index()) send_timeout_now(best);
    become_follower(term_, NodeId());
    return cs;
  }
  if (!voter && (role_ == Role::candidate || role_ == Role::pre_candidate)) {
    become_follower(term_, NodeId());
    return cs;
  }
  if (role_ != Role::leader || cs.voters.empty()) return cs;
  // The quorum may have changed: commit what the new quorum holds, and bring new members in.
  if (maybe_commit()) {
    bcast_append();
  } else {
    for (const auto& [id, pr] : tracker_.all()) {
      if (id != id_) maybe_send_append(id, false);
    }
  }
  if (!lead_transferee_.empty() && !tracker_.is_voter(lead_transferee_)) abort_leader_transfer();
  answer_reads_won();
  return cs;
}

// --- Output ----------------------------------------------------------------------------------

void Raft::send(Message m) {
  UMUPAKA_RAFT_ASSERT(!m.to.empty() && m.to != id_);
  if (m.from.empty()) m.from = id_;
  if (is_vote_type(m.type)) {
    UMUPAKA_RAFT_ASSERT_MSG(m.term != 0, "vote messages carry their term");
  } else {
    UMUPAKA_RAFT_ASSERT_MSG(m.term == 0, "term is set here");
    // Forwarded proposals and reads stay term-less: the leader treats them as local.
    if (m.type != MessageType::prop && m.type != MessageType::read_index) m.term = term_;
  }
  msgs_.push_back(std::move(m));
}

std::vector<Message> Raft::take_messages() {
  std::vector<Message> out = std::move(msgs_);
  msgs_.clear();
  return out;
}

std::vector<ReadState> Raft::take_read_states() {
  std::vector<ReadState> out = std::move(read_states_);
  read_states_.clear();
  return out;
}

void Raft::advance(LogIndex applied_index, const std::optional<Entry>& last_persisted,
                   LogIndex persisted_snapshot_index, uint64_t applied_payload_bytes) {
  if (role_ == Role::leader) {
    uncommitted_size_bytes_ -= std::min(uncommitted_size_bytes_, applied_payload_bytes);
  }
  if (persisted_snapshot_index > 0) log_.stable_snap_to(persisted_snapshot_index);
  if (last_persisted) log_.stable_to(last_persisted->index, last_persisted->term);
  if (applied_index > 0) log_.applied_to(applied_index);
}

RaftStatus Raft::status() const {
  RaftStatus s;
  s.id = id_;
  s.role = role_;
  s.term = term_;
  s.vote = vote_;
  s.leader = lead_;
  s.commit = log_.committed();
  s.applied = log_.applied();
  s.last_index = log_.last_index();
  s.lead_transferee = lead_transferee_;
  s.conf_state = tracker_.conf_state();
  if (role_ == Role::leader) {
    for (const auto& [id, pr] : tracker_.all()) {
      s.progress.push_back(ProgressStatus{id, pr.match(), pr.next(), pr.state(), pr.is_learner(),
                                          pr.recent_active(), pr.is_paused(),
                                          pr.inflights().count()});
    }
  }
  return s;
}

}  // namespace umupaka::raft

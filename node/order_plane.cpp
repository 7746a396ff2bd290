#include "node/order_plane.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "ledger/assert.hpp"
#include "ledger/msgpack_visit.hpp"
#include "node/raft_wire.hpp"

namespace umupaka {
namespace {

constexpr std::string_view meta_hard_state = "raft.hard_state";
constexpr std::string_view meta_head = "ledger.head";
// Appends held back for missing records, and committed entries waiting to apply.
constexpr size_t held_appends_max = 1024;
// Proposals in the Raft log not yet committed: bounds the leader's work ahead of the voters.
constexpr uint64_t uncommitted_proposals_max = 64;

raft::ConfState conf_of(const Membership& m) {
  raft::ConfState cs;
  cs.voters = m.voters();
  cs.learners = m.learners();
  return cs;
}

}  // namespace

OrderPlane::OrderPlane(OrderOptions options, const Membership& membership, SecretSeed signing_seed,
                       Store& store, SubmitApply submit_apply, SendRaft send, SendHead send_head,
                       CatchUp catch_up)
    : opt_(std::move(options)),
      membership_(membership),
      key_(SigningKey::from_seed(signing_seed)),
      store_(store),
      submit_apply_(std::move(submit_apply)),
      send_(std::move(send)),
      send_head_(std::move(send_head)),
      catch_up_(std::move(catch_up)) {
  const MemberSite* self = membership_.site(opt_.self);
  voter_ = self != nullptr && self->entry.role == VoterRole::voter;
}

Status OrderPlane::start() {
  const raft::ConfState cs = conf_of(membership_);
  const bool member =
      std::find(cs.voters.begin(), cs.voters.end(), opt_.self) != cs.voters.end() ||
      std::find(cs.learners.begin(), cs.learners.end(), opt_.self) != cs.learners.end();
  if (!member) return make_error(Errc::forbidden, "this site is not in the ledger's configuration");
  node_.reset();
  held_.clear();
  to_apply_.clear();
  apply_in_flight_ = 0;
  apply_failed_ = false;
  ++epoch_;
  storage_ = std::make_unique<raft::MemoryStorage>(cs);
  uint64_t applied = 0;
  {
    ASSIGN_OR_RETURN(auto txn, store_.read());
    if (auto hs = txn->meta(meta_hard_state)) {
      auto d = msgpack_visit::decode_struct<raft::HardState>(*hs);
      if (!d.ok()) return make_error(Errc::storage, "corrupt Raft hard state");
      storage_->set_hard_state(*d);
    }
    std::vector<raft::Entry> entries;
    for (auto& [index, bytes] : txn->raft_entries(1)) {
      auto e = msgpack_visit::decode_struct<raft::Entry>(bytes);
      if (!e.ok() || e->index != index) return make_error(Errc::storage, "corrupt Raft log");
      entries.push_back(std::move(e).value());
    }
    if (!entries.empty()) storage_->append(entries);
    applied = read_ledger_meta(*txn).applied_index;
    if (auto h = txn->meta(meta_head))
      if (auto d = decode_ledger_head(*h); d.ok()) head_ = *d;
  }
  // Entries at or below `applied` were applied; the ledger frontier marks where we are. Raft
  // re-delivers everything after it (empty and configuration entries included).
  const uint64_t last = storage_->last_index();
  if (applied > last) applied = last;
  applied_ = applied;
  raft::Config c;
  c.id = opt_.self;
  c.election_tick = opt_.election_ticks;
  c.heartbeat_tick = opt_.heartbeat_ticks;
  c.storage = storage_.get();
  c.applied = applied;
  c.pre_vote = true;
  c.check_quorum = true;
  c.seed = opt_.seed;
  auto node = raft::RawNode::create(c);
  if (!node.ok()) return make_error(Errc::invalid_field, "Raft: " + node.error().message);
  node_.emplace(std::move(node).value());
  return {};
}

void OrderPlane::restart_raft(const Error& why) {
  spdlog::error(
      "the Raft state could not be persisted ({}); the order plane restarts from the "
      "store",
      why.message);
  node_.reset();
  held_.clear();
  to_apply_.clear();
  apply_in_flight_ = 0;
  ++epoch_;
  ++raft_restarts_;
}

void OrderPlane::on_message(raft::Message m, int64_t now_ms) {
  (void)now_ms;
  if (!node_) return;  // restarting: the sender will send again
  // The voter rule: an append is acknowledged only once its records are durably held here.
  if (voter_ && m.type == raft::MessageType::app && !m.entries.empty()) {
    auto txn = store_.read();
    if (txn.ok()) {
      for (const raft::Entry& e : m.entries) {
        if (e.type != raft::EntryType::normal || e.data.empty()) continue;
        auto le = decode_ledger_entry(e.data);
        if (!le.ok()) continue;
        const Coverage c = covers(**txn, *le);
        if (c == Coverage::conflict) {
          spdlog::warn("ledger entry {} from {} names a record that conflicts with ours", e.index,
                       m.from);
          return;  // never acknowledge a frontier we hold differently
        }
        if (c == Coverage::missing) {
          const std::string leader = m.from;
          if (held_.size() < held_appends_max) held_.push_back(std::move(m));
          catch_up_(leader);
          return;
        }
      }
    }
  }
  const auto s = node_->step(std::move(m));
  (void)s;  // stale or foreign messages are refused by Raft itself
  process_ready();
}

void OrderPlane::retry_held() {
  if (held_.empty()) return;
  std::deque<raft::Message> again;
  again.swap(held_);
  for (auto& m : again) on_message(std::move(m), 0);
}

void OrderPlane::on_head(const LedgerHead& h) {
  const MemberSite* signer = membership_.site(h.signer);
  if (signer == nullptr || signer->entry.role != VoterRole::voter ||
      h.network_id != opt_.network_id)
    return;
  if (!verify_signature(signer->entry.signing_key, ledger_head_signing_bytes(h), h.signature))
    return;
  if (head_ && head_->size >= h.size) return;
  head_ = h;
  (void)store_.write([&](StoreTxn& txn) -> Status {
    txn.put_meta(meta_head, encode_ledger_head(h));
    return {};
  });
}

void OrderPlane::tick(int64_t now_ms, int64_t wall_ms) {
  if (!node_) {
    if (now_ms < next_tick_ms_) return;
    next_tick_ms_ = now_ms + opt_.tick_ms;
    if (!start().ok()) return;  // the store is still failing: try again next tick
  }
  retry_held();
  if (!node_) return;
  if (now_ms >= next_tick_ms_) {
    node_->tick();
    next_tick_ms_ = now_ms + opt_.tick_ms;
  }
  if (now_ms >= next_propose_ms_) {
    maybe_propose(wall_ms);
    next_propose_ms_ = now_ms + opt_.propose_interval_ms;
  }
  process_ready();
  if (node_ && apply_in_flight_ == 0 && now_ms >= apply_retry_ms_) pump_apply();
}

void OrderPlane::maybe_propose(int64_t wall_ms) {
  if (!node_) return;
  const raft::RaftStatus st = node_->status();
  if (st.role != raft::Role::leader) {
    proposed_.clear();
    return;
  }
  if (st.last_index > st.commit + uncommitted_proposals_max) return;
  auto txn = store_.read();
  if (!txn.ok()) return;
  LedgerEntry e;
  e.proposer = opt_.self;
  e.cluster_time_ms = static_cast<uint64_t>(wall_ms);
  for (const auto& [origin, head] : (*txn)->heads()) {
    uint64_t& known = proposed_[origin];
    known = std::max(known, ledger_seq(**txn, origin));
    if (head.seq > known) {
      e.items.push_back(LedgerItem{origin, head.seq, head.hash});
      known = head.seq;
    }
  }
  if (e.items.empty()) return;
  if (node_->propose(encode_ledger_entry(e)).ok()) ++proposals_;
}

void OrderPlane::process_ready() {
  while (node_->has_ready()) {
    raft::Ready rd = node_->ready();
    if (rd.soft_state && rd.soft_state->leader != last_leader_) {
      last_leader_ = rd.soft_state->leader;
      spdlog::info("ledger leader is now {}", last_leader_.empty() ? "(none)" : last_leader_);
    }
    auto send_all = [&] {
      for (auto& m : rd.messages) {
        const std::string to = m.to;
        send_(to, std::move(m));
      }
      rd.messages.clear();
    };
#ifdef UMUPAKA_BUG_SEND_BEFORE_PERSIST
    // A bug reintroduced on purpose, compiled only into the simulator's bug-hunt build
    // (umupaka-sim-bug-send-before-persist): votes and appends acknowledged before the state
    // they promise is durable. A crash in between forgets a vote; the swarm must catch it.
    send_all();
#endif
    // 1. Persist entries and hard state (fsync) before any message that depends on them.
    if (!rd.entries.empty() || rd.hard_state) {
      const Status s = store_.write([&](StoreTxn& txn) -> Status {
        if (!rd.entries.empty()) {
          txn.truncate_raft_log(rd.entries.front().index);
          for (const raft::Entry& e : rd.entries)
            txn.put_raft_entry(e.index, msgpack_visit::encode_struct(e));
        }
        if (rd.hard_state)
          txn.put_meta(meta_hard_state, msgpack_visit::encode_struct(*rd.hard_state));
        return {};
      });
      // Without durable state this node must not speak: drop the Raft node, start again.
      if (!s.ok()) {
        restart_raft(s.error());
        return;
      }
      if (!rd.entries.empty()) storage_->append(rd.entries);
      if (rd.hard_state) storage_->set_hard_state(*rd.hard_state);
    }
    // 2. Send.
    send_all();
    // 3. Queue committed entries for application, in order.
    for (const raft::Entry& e : rd.committed_entries) {
      if (e.type == raft::EntryType::conf_change) {
        if (auto cc = raft::decode_conf_change(e.data); cc.ok()) node_->apply_conf_change(*cc);
        continue;
      }
      if (e.data.empty() || e.index <= applied_) continue;
      auto le = decode_ledger_entry(e.data);
      if (!le.ok()) continue;
      to_apply_.emplace_back(e.index, std::move(le).value());
    }
    node_->advance(rd);
  }
}

// Entries applied at once through the writer (pipelined; they apply strictly in order).
constexpr size_t apply_pipeline_max = 16;

void OrderPlane::pump_apply() {
  if (apply_in_flight_ > 0 || to_apply_.empty()) return;
  auto txn = store_.read();
  if (!txn.ok()) return;
  size_t n = 0;
  uint64_t prev = read_ledger_meta(**txn).applied_index;
  while (n < to_apply_.size() && n < apply_pipeline_max) {
    auto& [index, entry] = to_apply_[n];
    if (covers(**txn, entry) == Coverage::missing) {
      if (n == 0) {
        // A learner (or a voter behind) fetches the records, then tries again.
        const std::string leader = node_->status().leader;
        catch_up_(leader.empty() ? entry.proposer : leader);
        apply_retry_ms_ = next_tick_ms_;
      }
      break;
    }
    const bool queued =
        submit_apply_(index, prev, entry, [this, epoch = epoch_](Result<ApplyOutcome> r) {
          if (epoch == epoch_) on_applied(std::move(r));
        });
    if (!queued) break;
    prev = index;
    ++n;
  }
  apply_in_flight_ = n;
  apply_failed_ = false;
}

void OrderPlane::on_applied(Result<ApplyOutcome> r) {
  UMUPAKA_ASSERT(apply_in_flight_ > 0 && !to_apply_.empty());
  --apply_in_flight_;
  if (!r.ok() || apply_failed_) {
    // Records missing or the disk failed: this and the rest of the pipeline retry later.
    apply_failed_ = true;
    apply_retry_ms_ = next_tick_ms_;
    if (apply_in_flight_ == 0) apply_failed_ = false;  // the pipeline drained: retry from tick
    return;
  }
  const uint64_t index = to_apply_.front().first;
  const uint64_t time = to_apply_.front().second.cluster_time_ms;
  to_apply_.pop_front();
  applied_ = std::max(applied_, index);
  if (r->applied && node_->status().role == raft::Role::leader && apply_in_flight_ == 0) {
    LedgerHead h;
    h.network_id = opt_.network_id;
    h.size = r->size;
    h.root = r->root;
    h.cluster_time_ms = time;
    h.signer = opt_.self;
    h.signature = key_.sign(ledger_head_signing_bytes(h));
    on_head(h);
    send_head_(h);
  }
  if (apply_in_flight_ == 0) pump_apply();
}

OrderStatus OrderPlane::status() const {
  OrderStatus s;
  if (!node_) return s;
  const raft::RaftStatus st = node_->status();
  s.enabled = true;
  s.role = std::string(enum_name(st.role));
  s.term = st.term;
  s.vote = st.vote;
  s.leader = st.leader;
  s.commit = st.commit;
  s.applied = applied_;
  s.last_index = st.last_index;
  for (const auto& p : st.progress) s.match.emplace_back(p.id, p.match);
  s.held_appends = held_.size();
  s.apply_waiting = to_apply_.size();
  s.proposals = proposals_;
  s.raft_restarts = raft_restarts_;
  s.head = head_;
  return s;
}

}  // namespace umupaka

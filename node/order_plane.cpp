#include "node/order_plane.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "consensus/tracker.hpp"
#include "ledger/assert.hpp"
#include "ledger/limits.hpp"
#include "ledger/msgpack_visit.hpp"
#include "node/raft_wire.hpp"

namespace umupaka {
namespace {

constexpr std::string_view meta_hard_state = "raft.hard_state";
constexpr std::string_view meta_head = "ledger.head";
constexpr std::string_view meta_snapshot = "raft.snapshot";
// A segment asked for and not answered is asked for again (of the next peer) after this long.
constexpr int64_t install_ask_timeout_ms = 2'000;
// Appends held back for missing records, and committed entries waiting to apply.
constexpr size_t held_appends_max = 1024;
// And at most this many bytes of entries and snapshots among them (an append is at most 64 KiB
// of entries, or one larger entry; one snapshot is held at a time: legitimate holds stay far
// below).
constexpr uint64_t held_bytes_max = 64ull << 20;
// Proposals in the Raft log not yet committed: bounds the leader's work ahead of the voters.
constexpr uint64_t uncommitted_proposals_max = 64;

// A new voter is promoted once its log is at most this many entries behind the commit index.
constexpr uint64_t promote_lag_max = 16;

raft::ConfState conf_of(const Membership& m) {
  raft::ConfState cs;
  cs.voters = m.voters();
  cs.learners = m.learners();
  return cs;
}

// A conf change's context names the root seq of the membership that called for it: "root:N".
std::string conf_context(uint64_t root_seq) { return "root:" + std::to_string(root_seq); }

uint64_t context_root_seq(std::string_view context) {
  constexpr std::string_view prefix = "root:";
  if (context.substr(0, prefix.size()) != prefix) return 0;
  uint64_t seq = 0;
  const char* first = context.data() + prefix.size();
  const char* last = context.data() + context.size();
  const auto [ptr, ec] = std::from_chars(first, last, seq);
  return ec == std::errc() && ptr == last ? seq : 0;
}

// The stored Raft log and snapshot decode under the limits a Raft message carries them with
// (decode_gossip's): entry and snapshot data up to order_data_bytes_max, configurations of many
// sites.
msgpack::unpack_limit stored_raft_limit() {
  return msgpack::unpack_limit(limits::gossip_array_items_max, 0, limits::order_data_bytes_max, 64,
                               0, limits::msgpack_depth_max);
}

// Bytes of entries per Raft append. An append carries at most this much, or one entry alone of up
// to order_data_bytes_max, so it always fits in a gossip frame.
constexpr uint64_t append_bytes_max = 64 * 1024;
static_assert(append_bytes_max <= limits::order_data_bytes_max);
static_assert(limits::order_data_bytes_max < limits::gossip_frame_bytes_max);

bool makes_voter(const raft::ConfChange& cc, const std::string& self) {
  return cc.node == self && (cc.type == raft::ConfChangeType::add_voter ||
                             cc.type == raft::ConfChangeType::promote_learner);
}

std::string join_ids(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ", ") + id;
  return out;
}

}  // namespace

OrderPlane::OrderPlane(OrderOptions options, const Membership& membership, SecretSeed signing_seed,
                       Store& store, SubmitApply submit_apply, SendRaft send, SendHead send_head,
                       CatchUp catch_up, SendSegment send_segment)
    : opt_(std::move(options)),
      membership_(membership),
      key_(SigningKey::from_seed(signing_seed)),
      store_(store),
      submit_apply_(std::move(submit_apply)),
      send_(std::move(send)),
      send_head_(std::move(send_head)),
      catch_up_(std::move(catch_up)),
      send_segment_(std::move(send_segment)) {}

Status OrderPlane::start() {
  if (membership_.site(opt_.self) == nullptr)
    return make_error(Errc::forbidden, "this site is not a member of the network");
  drop_raft();
  uint64_t applied = 0;
  raft::ConfState genesis;
  std::optional<raft::HardState> hard_state;
  std::optional<raft::Snapshot> snapshot;
  std::optional<LedgerSnapshot> ledger_snapshot;
  std::vector<raft::Entry> entries;
  {
    ASSIGN_OR_RETURN(auto txn, store_.read());
    // The configuration at index 0 is the genesis record's, the same at every node.
    const std::optional<SignedRecord> g = txn->record(root_origin, 1);
    if (!g) return make_error(Errc::storage, "the store holds no genesis record");
    auto gm = Membership::from_genesis(*g);
    if (!gm.ok()) return make_error(Errc::storage, "the stored genesis: " + gm.error().message);
    genesis = conf_of(*gm);
    if (auto hs = txn->meta(meta_hard_state)) {
      auto d = msgpack_visit::decode_struct<raft::HardState>(*hs);
      if (!d.ok()) return make_error(Errc::storage, "corrupt Raft hard state");
      // A term no honest node reaches (one an older build adopted from a forged message) would
      // overflow at the next election: a clear error at start, not a crash after it.
      if (d->term > raft::term_index_max || d->commit > raft::term_index_max)
        return make_error(Errc::storage,
                          "the stored Raft hard state holds a term or commit index "
                          "beyond 2^62 (adopted from a forged message by an older "
                          "build); restore this site's store from a backup "
                          "taken before it");
      hard_state = *d;
    }
    if (auto sn = txn->meta(meta_snapshot)) {
      auto d = msgpack_visit::decode_struct<raft::Snapshot>(*sn, stored_raft_limit());
      if (!d.ok()) return make_error(Errc::storage, "corrupt Raft snapshot");
      auto ls = decode_ledger_snapshot(d->data);
      if (!ls.ok()) return make_error(Errc::storage, "corrupt ledger snapshot");
      snapshot = std::move(d).value();
      ledger_snapshot = std::move(ls).value();
    }
    // Every entry on disk: those kept below the snapshot too (snapshot_keep_entries), so that a
    // follower a little behind still gets entries after a restart, not a whole snapshot.
    for (auto& [index, bytes] : txn->raft_entries(1)) {
      auto e = msgpack_visit::decode_struct<raft::Entry>(bytes, stored_raft_limit());
      if (!e.ok() || e->index != index) return make_error(Errc::storage, "corrupt Raft log");
      if (!entries.empty() && index != entries.back().index + 1) {
        // (Written contiguously: a hole is damage. Below the snapshot it costs only the entries
        // before it; above, the log cannot be used.)
        if (index > (snapshot ? snapshot->meta.index : 0) + 1)
          return make_error(Errc::storage,
                            "the Raft log has a hole before " + std::to_string(index));
        entries.clear();
      }
      entries.push_back(std::move(e).value());
    }
    applied = read_ledger_meta(*txn).applied_index;
    if (auto h = txn->meta(meta_head)) {
      // Derived, and replaced by the next head the leader signs (docs/decisions.md): passed
      // over with a warning, since the API answers 500 for it until then.
      if (auto d = decode_ledger_head(*h); d.ok())
        head_ = *d;
      else
        spdlog::warn(
            "the stored signed ledger head does not decode ({}): passed over until the "
            "leader signs a new one",
            d.error().message);
    }
  }
  // Entries at or below `applied` were applied; the ledger frontier marks where we are. Raft
  // re-delivers everything after it (empty and configuration entries included).
  const uint64_t snap_index = snapshot ? snapshot->meta.index : 0;
  // Entries at or below the snapshot are kept in the log only if they reach up to it and agree
  // with it (the entry at its index has its term); the snapshot stands for everything up to it.
  std::vector<raft::Entry> kept;
  {
    const auto after = std::find_if(entries.begin(), entries.end(),
                                    [&](const raft::Entry& e) { return e.index > snap_index; });
    const bool reaches =
        snapshot && after != entries.begin() && std::prev(after)->index == snap_index &&
        std::prev(after)->term == snapshot->meta.term && entries.front().index < snap_index &&
        hard_state && hard_state->commit >= snap_index;
    if (reaches)
      kept.assign(std::make_move_iterator(entries.begin()), std::make_move_iterator(after));
    entries.erase(entries.begin(), after);
  }
  if (!entries.empty() && entries.front().index != snap_index + 1)
    return make_error(Errc::storage, "the Raft log has a hole after " + std::to_string(snap_index));
  const uint64_t last = entries.empty() ? snap_index : entries.back().index;
  if (applied > last) applied = last;
  applied_ = applied;
  // The configuration as of `applied`: the genesis (or the snapshot's), changed by the conf-change
  // entries up to it (committed, as `applied` is). Those after it come again in a Ready and are
  // applied then.
  raft::ProgressTracker conf(1);
  conf.reset(snapshot ? snapshot->meta.conf_state : genesis, 0);
  conf_root_seq_ = ledger_snapshot ? ledger_snapshot->conf_root_seq : 0;
  voter_from_index_ = 0;
  snapshot_index_ = snap_index;
  last_conf_index_ = snap_index;
  for (const raft::Entry& e : entries) {
    if (e.type != raft::EntryType::conf_change) continue;
    auto cc = raft::decode_conf_change(e.data);
    if (!cc.ok()) continue;  // Raft hands it out again; apply_conf_entry skips it the same way
    if (e.index <= applied) {
      conf.apply(*cc, 0);
      last_conf_index_ = e.index;
      conf_root_seq_ = std::max(conf_root_seq_, context_root_seq(cc->context));
    } else if (makes_voter(*cc, opt_.self)) {
      voter_from_index_ = std::max(voter_from_index_, e.index);
    }
  }
  const raft::ConfState cs = conf.conf_state();
  voter_ = cs.is_voter(opt_.self);
  // A site outside `cs` (certified after the genesis) starts as a non-member: it neither votes
  // nor campaigns, and learns the log (and its own admission) from the leader once added.
  // With a snapshot, Raft starts from it (its configuration, applied at its index) and hands out
  // the committed entries after it again: conf changes are applied again, ledger entries up to
  // `applied` skipped (process_ready).
  if (snapshot && !kept.empty()) {
    // The log from the first entry kept (standing in for a snapshot at it, as a compaction
    // leaves it), then the snapshot recorded over it without cutting it.
    storage_ = std::make_unique<raft::MemoryStorage>();
    raft::Snapshot base;
    base.meta.index = kept.front().index;
    base.meta.term = kept.front().term;
    base.meta.conf_state = snapshot->meta.conf_state;
    if (!storage_->apply_snapshot(base).ok())
      return make_error(Errc::storage, "the kept Raft log does not apply");
    kept.erase(kept.begin());
    storage_->append(kept);
    if (!storage_->create_snapshot(snap_index, snapshot->meta.conf_state, snapshot->data).ok())
      return make_error(Errc::storage, "the stored Raft snapshot does not apply");
  } else if (snapshot) {
    storage_ = std::make_unique<raft::MemoryStorage>();
    if (!storage_->apply_snapshot(*snapshot).ok())
      return make_error(Errc::storage, "the stored Raft snapshot does not apply");
  } else {
    storage_ = std::make_unique<raft::MemoryStorage>(cs);
  }
  if (hard_state) storage_->set_hard_state(*hard_state);
  if (!entries.empty()) storage_->append(entries);
  // A snapshot received but not yet installed in the ledger (a restart during the install):
  // the install goes on before anything after it applies.
  if (snapshot && applied < snap_index)
    to_apply_.push_back(Pending{snap_index, {}, ledger_snapshot});
  raft::Config c;
  c.id = opt_.self;
  c.election_tick = opt_.election_ticks;
  c.heartbeat_tick = opt_.heartbeat_ticks;
  c.learner_heartbeat_tick = opt_.learner_heartbeat_ticks;
  c.storage = storage_.get();
  c.max_size_per_msg = append_bytes_max;
  c.applied = snapshot ? snap_index : applied;
  c.pre_vote = true;
  c.check_quorum = true;
  c.seed = opt_.seed;
  auto node = raft::RawNode::create(c);
  if (!node.ok()) return make_error(Errc::invalid_field, "Raft: " + node.error().message);
  node_.emplace(std::move(node).value());
  // Re-apply at once the committed conf changes after `applied`, so that the node does not step
  // a message under an older configuration than its log holds.
  process_ready();
  return {};
}

void OrderPlane::on_membership(const Membership& membership) {
  if (!membership.joined() || membership.network_id() != membership_.network_id()) return;
  if (membership.root_seq() < membership_.root_seq()) return;  // never back
  membership_ = membership;
  next_conf_ms_ = 0;  // the leader looks at its next tick
}

void OrderPlane::restart_raft(const Error& why) {
  // Logged once per outage: the order plane retries every tick while the disk stays full.
  if (!persist_failing_)
    spdlog::error(
        "the Raft state could not be persisted ({}); the order plane restarts from the store "
        "until it can write again",
        why.message);
  // Each restart reads the whole Raft log again: while the disk stays full, wait longer between
  // attempts, from one tick up to restart_backoff_max_ms.
  restart_backoff_ms_ = persist_failing_
                            ? std::min<int64_t>(restart_backoff_ms_ * 2, restart_backoff_max_ms)
                            : int64_t{opt_.tick_ms};
  persist_failing_ = true;
  drop_raft();
  ++raft_restarts_;
}

void OrderPlane::drop_raft() {
  node_.reset();
  held_.clear();
  held_bytes_ = 0;
  elect_checked_ = 0;
  to_apply_.clear();
  apply_in_flight_ = 0;
  apply_failed_ = false;
  install_asked_from_ = UINT64_MAX;
  ++epoch_;  // completions of applies submitted before are ignored
}

void OrderPlane::on_message(raft::Message m, int64_t now_ms) {
  if (now_ms > 0) now_ms_ = now_ms;
  if (!node_) return;  // restarting: the sender will send again
  // Only members not revoked speak in the order plane (the transport admits no others either).
  const MemberSite* from = membership_.site(m.from);
  if (from == nullptr || from->revoked_after) return;
  // Raft trusts its members; a certified site is not trusted that far. What only a leader or a
  // candidate sends comes only from a site that may lead: a voter by the root-signed membership
  // or by the Raft configuration (which follows the membership through the log, so either may be
  // ahead). A learner's forged append, heartbeat, snapshot or vote request would otherwise be
  // taken as a leader's or a candidate's (committing entries, raising terms, replacing the log).
  // timeout_now comes only from the leader. Proposals and reads are never forwarded here (only
  // the leader proposes): a peer's are dropped. So is a transfer_leader, from anyone: no node asks
  // for the lead (the Raft core's transfer serves its tests), and a voter's request would stop
  // the leader's proposals for an election timeout each time it was sent.
  // Raft also steps down at any message of a term above its own. A learner never campaigns, so
  // it has no such term of its own: its answers and requests of a higher term are refused too
  // (the voters tell of a new term).
  const bool may_lead =
      from->entry.role == VoterRole::voter || node_->raft().tracker().conf_state().is_voter(m.from);
  switch (m.type) {
    case raft::MessageType::app:
    case raft::MessageType::heartbeat:
    case raft::MessageType::snap:
    case raft::MessageType::timeout_now:
    case raft::MessageType::vote:
    case raft::MessageType::pre_vote:
      if (!may_lead ||
          (m.type == raft::MessageType::timeout_now && m.from != node_->raft().leader())) {
        ++messages_refused_;
        return;
      }
      break;
    case raft::MessageType::prop:
    case raft::MessageType::read_index:
    case raft::MessageType::transfer_leader:
      ++messages_refused_;
      return;
    default:
      if (!may_lead && m.term > node_->raft().term()) {
        ++messages_refused_;
        return;
      }
      break;
  }
  // A snapshot whose data is not a ledger snapshot is dropped before Raft restores it (Raft
  // would replace the log with it; nothing could install it).
  std::optional<LedgerSnapshot> snapshot;
  if (m.type == raft::MessageType::snap) {
    auto decoded = m.snapshot ? decode_ledger_snapshot(m.snapshot->data)
                              : Result<LedgerSnapshot>(make_error(Errc::decode, "no data"));
    if (!decoded.ok()) {
      spdlog::warn("a Raft snapshot from {} without a valid ledger snapshot: dropped", m.from);
      return;
    }
    snapshot = std::move(decoded).value();
  }
  // Only what Raft would take is held back: a message of an older term is refused by Raft below,
  // and holding it would keep memory for nothing.
  if (m.term >= node_->raft().term() && hold_back(m, snapshot)) return;
  const auto s = node_->step(std::move(m));
  (void)s;  // stale or foreign messages are refused by Raft itself
  process_ready();
}

bool OrderPlane::voter_elect() const {
  const MemberSite* site = membership_.site(opt_.self);
  return site != nullptr && !site->revoked_after && site->entry.role == VoterRole::voter;
}

bool OrderPlane::hold_back(raft::Message& m, const std::optional<LedgerSnapshot>& snapshot) {
  // The voter rule: an append is acknowledged only once its records are durably held here. It
  // holds from a conf change that makes this node a voter on, even before that change is
  // applied, and at a learner the membership certifies as a voter (a voter-elect): the leader
  // promotes it on its acknowledgements, which then say that it holds the records, not only the
  // entries. A learner takes in the root records an entry or a snapshot covers before it
  // acknowledges it (one of them may certify it as a voter), so that it acknowledges nothing
  // past a certification unchecked (docs/ledger.md, "Membership").
  const bool elect = !voter_ && voter_from_index_ == 0 && voter_elect();
  bool check = voter_ || voter_from_index_ != 0 || elect;
  // The root records `items` name beyond this node's membership.
  auto root_beyond = [&](const std::vector<LedgerItem>& items) {
    LedgerEntry part;
    for (const LedgerItem& item : items)
      if (item.origin == root_origin && item.seq > membership_.root_seq())
        part.items.push_back(item);
    return part;
  };
  std::unique_ptr<StoreTxn> txn;
  // Whether `entry` must wait: records missing (fetched), or root records held but not yet in
  // the membership (it follows the store by a moment: retried on the next tick).
  auto must_wait = [&](const LedgerEntry& entry, bool whole) -> std::optional<bool> {
    if (!txn) {
      auto t = store_.read();
      if (!t.ok()) return std::nullopt;  // cannot check: not acknowledged; sent again
      txn = std::move(t).value();
    }
    std::vector<WantedChain> wanted;
    const bool missing = covers(*txn, entry, membership_, &wanted, opt_.self) == Coverage::missing;
    if (missing) {
      if (!wanted.empty())
        spdlog::debug("ledger entry from {} names records of a forked feed: fetching them", m.from);
      catch_up_(m.from, wanted);
    }
    return missing || !whole;
  };
  const raft::RaftLog& log = node_->raft().log();
  // A voter-elect's log may hold entries it took as a plain learner, unchecked (an origin they
  // name may be quiet since). Before it acknowledges through `upto` (what Raft's answer will
  // say), it holds the records of the entries through there that stay: committed ones not yet
  // applied (to_apply_, with any snapshot queued to install; some may be compacted out of the log
  // by that snapshot already) and the log's. Applied entries' records are held already.
  auto backlog_wait = [&](uint64_t upto) -> std::optional<bool> {
    for (const Pending& p : to_apply_) {
      if (p.index <= elect_checked_) continue;
      LedgerEntry frontier;
      if (p.snapshot) frontier.items = p.snapshot->frontier;
      if (auto w = must_wait(p.snapshot ? frontier : p.entry, true); w != false) return w;
      elect_checked_ = p.index;
    }
    upto = std::min(upto, log.last_index());
    for (uint64_t i = std::max({elect_checked_, applied_, log.first_index() - 1}) + 1; i <= upto;
         ++i) {
      auto es = log.slice(i, i + 1, UINT64_MAX);
      if (!es.ok() || es->empty()) return false;  // compacted meanwhile: applied
      const raft::Entry& e = es->front();
      if (e.type == raft::EntryType::normal && !e.data.empty()) {
        if (auto le = decode_ledger_entry(e.data); le.ok()) {
          if (auto w = must_wait(*le, true); w != false) return w;
        }
      }
      elect_checked_ = i;
    }
    return false;
  };
  std::optional<bool> wait;
  if (m.type == raft::MessageType::snap && snapshot) {
    LedgerEntry covered;
    if (elect) {  // its records, as the voter rule would for the entries it replaces
      covered.items = snapshot->frontier;
    } else if (!check) {
      covered = root_beyond(snapshot->frontier);
    }
    wait = covered.items.empty() ? std::optional<bool>(false) : must_wait(covered, elect);
    // Not installed (at or below the commit index, or an entry held already), Raft answers its
    // commit index: the entries through there are checked too.
    if (elect && wait == false) wait = backlog_wait(log.committed());
    if (!elect) elect_checked_ = std::min(elect_checked_, m.snapshot->meta.index);
  } else if (m.type == raft::MessageType::app) {
    // An append that Raft refuses (its previous entry not in this log) acknowledges nothing:
    // stepped at once, it lets the leader find where the logs match (and overwrite a tail that
    // holding it back for that tail's records would keep forever). One below the commit index
    // is answered with the commit index, its entries not taken.
    const bool refused = m.index >= log.committed() && !log.match_term(m.index, m.log_term);
    if (refused) return false;
    if (!elect) elect_checked_ = std::min(elect_checked_, m.index);  // a tail it may overwrite
    wait = elect ? backlog_wait(std::max(m.index, log.committed())) : std::optional<bool>(false);
    if (m.index < log.committed()) m.entries.clear();  // not taken: nothing to check or hold
    for (const raft::Entry& e : m.entries) {
      if (wait != false) break;
      if (e.type == raft::EntryType::conf_change) {
        if (auto cc = raft::decode_conf_change(e.data); cc.ok() && makes_voter(*cc, opt_.self)) {
          voter_from_index_ = std::max(voter_from_index_, e.index);
          check = true;
        }
        continue;
      }
      if (e.data.empty()) continue;
      auto le = decode_ledger_entry(e.data);
      if (!le.ok()) continue;
      if (check) {
        wait = must_wait(*le, true);
      } else if (LedgerEntry part = root_beyond(le->items); !part.items.empty()) {
        wait = must_wait(part, false);
      }
    }
  } else {
    return false;
  }
  if (!wait) return true;  // the store could not be read: dropped, the leader sends it again
  if (!*wait) return false;
  if (m.type == raft::MessageType::snap) {
    // The leader sends a snapshot again after each probe while this one is held: the newest
    // one replaces those it held (64 copies would fill held_bytes_max and keep out appends).
    for (auto it = held_.begin(); it != held_.end();) {
      if (it->type == raft::MessageType::snap &&
          it->snapshot->meta.index <= m.snapshot->meta.index) {
        held_bytes_ -= entries_bytes(*it);
        it = held_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (const uint64_t b = entries_bytes(m);
      held_.size() < held_appends_max && held_bytes_ + b <= held_bytes_max) {
    held_.push_back(std::move(m));
    held_bytes_ += b;
  } else {
    ++messages_refused_;  // not acknowledged: the leader sends it again
  }
  return true;
}

uint64_t OrderPlane::entries_bytes(const raft::Message& m) {
  uint64_t n = m.snapshot ? m.snapshot->data.size() : 0;  // a held snapshot's too
  for (const raft::Entry& e : m.entries) n += raft::entry_size_bytes(e);
  return n;
}

void OrderPlane::retry_held() {
  if (held_.empty()) return;
  std::deque<raft::Message> again;
  again.swap(held_);
  held_bytes_ = 0;
  // In order; once one is held back again (its records still missing), the ones after it wait
  // unchecked: they append after it, and checking each costs a walk of the store.
  while (!again.empty()) {
    const size_t before = held_.size();
    raft::Message m = std::move(again.front());
    again.pop_front();
    on_message(std::move(m), 0);
    if (held_.size() > before) break;
  }
  // (The bytes held are kept as appends come and go: summing them again for each of up to
  // 1,024 appends made every tick quadratic while a node waited for records; the swarm's seed
  // 9300 took 100 s.)
  for (auto& m : again) {
    const uint64_t b = entries_bytes(m);
    if (held_.size() < held_appends_max && held_bytes_ + b <= held_bytes_max) {
      held_.push_back(std::move(m));
      held_bytes_ += b;
    }
  }
}

void OrderPlane::on_head(const LedgerHead& h) {
  // The signer: a member not revoked, a voter by the membership or by the Raft configuration
  // (which follows the membership through the log, so either may be ahead).
  const MemberSite* signer = membership_.site(h.signer);
  if (signer == nullptr || signer->revoked_after || h.network_id != opt_.network_id) return;
  const bool conf_voter = node_ && node_->raft().tracker().conf_state().is_voter(h.signer);
  if (signer->entry.role != VoterRole::voter && !conf_voter) return;
  if (head_ && head_->size >= h.size) return;  // not newer: no need to check it
  // The head refused last, sent again (heads are resent while idle): not checked again.
  if (refused_head_ && refused_head_->first == h.size && refused_head_->second == h.root) return;
  uint64_t ledger_size = 0;
  {
    auto txn = store_.read();
    if (!txn.ok()) return;
    ledger_size = read_ledger_meta(**txn).size;
  }
  const bool beyond = h.size > ledger_size;
  // Kept aside: each signer's nearest head beyond the ledger (stored once the ledger reaches it),
  // so that one of an impossible size cannot keep out the real ones, and a misbehaving voter's
  // (of a wrong root, just beyond the ledger) cannot keep out another voter's.
  if (beyond) {
    const auto kept = pending_heads_.find(h.signer);
    if (kept != pending_heads_.end() && kept->second.size <= h.size) return;
  }
  if (!verify_head_(signer->entry.signing_key, ledger_head_signing_bytes(h), h.signature)) return;
  if (beyond)
    pending_heads_[h.signer] = h;  // stored by tick() once this ledger has caught up
  else
    store_head(h);
}

void OrderPlane::store_pending_heads() {
  uint64_t ledger_size = 0;
  {
    auto txn = store_.read();
    if (!txn.ok()) return;
    ledger_size = read_ledger_meta(**txn).size;
  }
  // The ledger reached them: the largest first (one that does not match is refused, and the
  // next is tried); the ones at or below the head served are dropped.
  std::vector<LedgerHead> reached;
  for (auto it = pending_heads_.begin(); it != pending_heads_.end();) {
    if (head_ && head_->size >= it->second.size) {
      it = pending_heads_.erase(it);
    } else if (it->second.size <= ledger_size) {
      reached.push_back(std::move(it->second));
      it = pending_heads_.erase(it);
    } else {
      ++it;
    }
  }
  std::sort(reached.begin(), reached.end(),
            [](const LedgerHead& a, const LedgerHead& b) { return a.size > b.size; });
  for (const LedgerHead& h : reached)
    if (!head_ || head_->size < h.size) store_head(h);
}

void OrderPlane::store_head(const LedgerHead& h) {
  // A head is served only if this ledger has its root at its size: a signed head that does not
  // match (a misbehaving voter's, or this ledger gone wrong) would make every proof fail.
  const Status s = store_.write([&](StoreTxn& txn) -> Status {
    if (read_ledger_meta(txn).size < h.size || ledger_root(txn, h.size) != h.root)
      return make_error(Errc::conflict, "the head's root is not this ledger's at its size");
    txn.put_meta(meta_head, encode_ledger_head(h));
    return {};
  });
  if (s.ok()) {
    head_ = h;
  } else if (s.error().code == Errc::conflict) {
    refused_head_ = {h.size, h.root};
    if (heads_refused_++ == 0)
      spdlog::warn(
          "a ledger head signed by {} (size {}) does not match this ledger's root at "
          "that size: not served (ledger.raft.heads_refused)",
          h.signer, h.size);
  }
}

namespace {

// The time after `due` on its grid of `interval`, or one interval from now if a whole interval
// was missed (a paused process resumes on a fresh grid rather than catching up tick by tick).
int64_t next_on_grid(int64_t due, int64_t now_ms, int64_t interval) {
  due += interval;
  return due > now_ms ? due : now_ms + interval;
}

}  // namespace

int64_t OrderPlane::next_due_ms() const {
  int64_t due = node_ ? std::min(next_tick_ms_, next_propose_ms_)
                      : next_tick_ms_;  // the next restart attempt
  for (const auto& [id, asker] : segment_askers_)
    if (asker.waiting) due = std::min(due, asker.answered_ms + segment_answer_interval_ms);
  return due;
}

void OrderPlane::tick(int64_t now_ms, int64_t wall_ms) {
  now_ms_ = now_ms;
  for (auto& [id, asker] : segment_askers_) {
    if (!asker.waiting || now_ms < asker.answered_ms + segment_answer_interval_ms) continue;
    const LedgerSegment request = std::move(*asker.waiting);
    asker.waiting.reset();
    answer_segment(id, asker, request, now_ms);
  }
  if (!node_) {
    if (now_ms < next_tick_ms_) return;
    next_tick_ms_ = now_ms + (persist_failing_ ? restart_backoff_ms_ : int64_t{opt_.tick_ms});
    if (!start().ok()) return;  // the store is still failing: try again later
  }
  retry_held();
  if (!node_) return;
  // Ticks and proposals keep to their grid (the next is due one interval after the last was due,
  // not after it ran): a late call does not stretch the Raft clock, so elections time out after
  // 10-19 ticks of tick_ms, however often the driver happens to call.
  if (now_ms >= next_tick_ms_) {
    node_->tick();
    next_tick_ms_ = next_on_grid(next_tick_ms_, now_ms, opt_.tick_ms);
  }
  if (now_ms >= next_propose_ms_) {
    maybe_propose(wall_ms);
    next_propose_ms_ = next_on_grid(next_propose_ms_, now_ms, opt_.propose_interval_ms);
  }
  if (node_ && now_ms >= next_conf_ms_) {
    maybe_change_conf();
    next_conf_ms_ = now_ms + opt_.tick_ms;
  }
  process_ready();
  if (!pending_heads_.empty()) store_pending_heads();
  if (node_ && apply_in_flight_ == 0 && now_ms >= apply_retry_ms_) pump_apply();
  if (node_ && apply_in_flight_ == 0) maybe_snapshot();
  if (head_due_ && now_ms >= next_head_ms_) {
    LedgerHead h = std::move(*head_due_);
    head_due_.reset();
    next_head_ms_ = now_ms + opt_.head_interval_ms;
    h.signature = key_.sign(ledger_head_signing_bytes(h));
    on_head(h);
    send_head_(h);
    signed_head_ = h;
    next_head_resend_ms_ = now_ms + head_resend_ms;
  } else if (signed_head_ && now_ms >= next_head_resend_ms_) {
    // Idle: no new head, so the last one again, for nodes that were down or joined since.
    if (node_ && node_->raft().role() == raft::Role::leader) send_head_(*signed_head_);
    next_head_resend_ms_ = now_ms + head_resend_ms;
  }
}

// A fork proposed but not in the ledger this long after is proposed again (the entry was lost
// with a leader change, or Raft dropped the proposal).
constexpr int64_t fork_repropose_ms = 5'000;

void OrderPlane::maybe_propose(int64_t wall_ms) {
  if (!node_) return;
  const raft::Raft& r = node_->raft();
  if (r.role() != raft::Role::leader) {
    proposed_.clear();
    proposed_forks_.clear();
    idle_snapshot_.reset();
    return;
  }
  if (r.log().last_index() > r.log().committed() + uncommitted_proposals_max) return;
  auto txn = store_.read();
  if (!txn.ok()) return;
  const uint64_t snapshot = (*txn)->snapshot_id();
  if (idle_snapshot_ == snapshot) return;
  LedgerEntry e;
  e.proposer = opt_.self;
  e.cluster_time_ms = static_cast<uint64_t>(wall_ms);
  for (const auto& [origin, head] : (*txn)->heads()) {
    // An origin that equivocated is frozen in the ledger where it stood: its feed here may be
    // either branch, and its records are no longer accepted anyway.
    if ((*txn)->has_evidence(origin)) continue;
    // A revoked origin goes no further than its cut-off (a record past it, stored before the
    // revocation arrived, is refused by the other feeds; proposed, the ledger would take it).
    uint64_t seq = head.seq;
    Hash hash = head.hash;
    if (const MemberSite* m = membership_.site(origin);
        m != nullptr && m->revoked_after && seq > *m->revoked_after) {
      seq = *m->revoked_after;
      const auto at = seq == 0 ? std::nullopt : (*txn)->record(origin, seq);
      if (!at) continue;
      hash = at->hash;
    }
    uint64_t& known = proposed_[origin];
    known = std::max(known, ledger_seq(**txn, origin));
    if (seq > known) e.items.push_back(LedgerItem{origin, seq, hash});  // known: if Raft takes it
  }
  // Forks this leader holds evidence of and the ledger has not raised: one per origin.
  std::set<std::string, std::less<>> forked;
  for (auto& ev : (*txn)->evidence()) {
    if (!forked.insert(ev.origin).second) continue;
    if (fork_in_ledger(**txn, ev.origin)) {
      proposed_forks_.erase(ev.origin);
      continue;
    }
    const auto p = proposed_forks_.find(ev.origin);
    if (p != proposed_forks_.end() && wall_ms - p->second < fork_repropose_ms) continue;
    LedgerFork f{ev.origin, ev.seq, ev.a.hash, ev.b.hash};
    if (f.b < f.a) std::swap(f.a, f.b);
    e.forks.push_back(std::move(f));
  }
  if (e.items.empty() && e.forks.empty()) {
    // (A fork waiting to be proposed again keeps this snapshot from counting as idle.)
    if (proposed_forks_.empty()) idle_snapshot_ = snapshot;
    return;
  }
  // Counted as proposed only if Raft takes the entry: one it refuses (a leadership transfer under
  // way, the uncommitted-size limit) is proposed again next round, quiet feeds included.
  if (!node_->propose(encode_ledger_entry(e)).ok()) return;
  ++proposals_;
  for (const LedgerItem& item : e.items) proposed_[item.origin] = item.seq;
  for (const LedgerFork& f : e.forks) proposed_forks_[f.origin] = wall_ms;
}

void OrderPlane::process_ready() {
  // A failed write drops the node (restart_raft), from any caller's process_ready.
  while (node_ && node_->has_ready()) {
    raft::Ready rd = node_->ready();
    if (rd.soft_state && rd.soft_state->leader != last_leader_) {
      last_leader_ = rd.soft_state->leader;
      spdlog::info("ledger leader is now {}", last_leader_.empty() ? "(none)" : last_leader_);
    }
    auto send_all = [&] {
      std::vector<std::pair<std::string, bool>> snapshots_to;
      std::set<std::string> unreachable;
      for (auto& m : rd.messages) {
        const std::string to = m.to;
        const bool snap = m.type == raft::MessageType::snap;
        const bool taken = send_(to, std::move(m));
        if (snap) snapshots_to.emplace_back(to, taken);
        if (!taken) unreachable.insert(to);
      }
      rd.messages.clear();
      // A message the transport could not take is lost: Raft stops pipelining to that peer and
      // probes it again (etcd's ReportUnreachable).
      for (const auto& to : unreachable) node_->report_unreachable(to);
      // The transport took the snapshot: the follower answers once Raft restored it (it then
      // installs the ledger by itself); until then the leader probes it (a lost snapshot is sent
      // again once a probe finds the follower still behind the compacted log). Not taken: the
      // leader may send it again at once.
      for (const auto& [to, taken] : snapshots_to) node_->report_snapshot(to, taken);
    };
#ifdef UMUPAKA_BUG_SEND_BEFORE_PERSIST
    // A bug reintroduced on purpose, compiled only into the simulator's bug-hunt build
    // (umupaka-sim-bug-send-before-persist): votes and appends acknowledged before the state
    // they promise is durable. A crash in between forgets a vote; the swarm must catch it.
    send_all();
#endif
    // 1. Persist entries and hard state (fsync) before any message that depends on them.
    if (!rd.entries.empty() || rd.hard_state || rd.snapshot) {
      const Status s = store_.write([&](StoreTxn& txn) -> Status {
        if (rd.snapshot) {
          // The snapshot replaces the whole log (MemoryStorage::apply_snapshot).
          txn.truncate_raft_log(0);
          txn.put_meta(meta_snapshot, msgpack_visit::encode_struct(*rd.snapshot));
        }
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
      if (rd.snapshot) {
        const raft::Status applied = storage_->apply_snapshot(*rd.snapshot);
        UMUPAKA_ASSERT_MSG(applied.ok(), "Raft handed out a snapshot older than the stored one");
        snapshot_index_ = rd.snapshot->meta.index;
      }
      if (!rd.entries.empty()) storage_->append(rd.entries);
      if (rd.hard_state) storage_->set_hard_state(*rd.hard_state);
      if (persist_failing_) {
        spdlog::info("the Raft state is persisted again");
        persist_failing_ = false;
      }
    }
    // 2. Send.
    send_all();
    // 3. Queue the snapshot's install, then committed entries, for application, in order.
    if (rd.snapshot) {
      auto ls = decode_ledger_snapshot(rd.snapshot->data);
      // Checked in on_message before Raft saw it.
      UMUPAKA_ASSERT_MSG(ls.ok(), "a Raft snapshot without a ledger snapshot");
      const raft::ConfState& cs = rd.snapshot->meta.conf_state;
      voter_ = cs.is_voter(opt_.self);
      if (voter_from_index_ <= rd.snapshot->meta.index) voter_from_index_ = 0;
      conf_root_seq_ = std::max(conf_root_seq_, ls->conf_root_seq);
      last_conf_index_ = rd.snapshot->meta.index;
      install_asked_from_ = UINT64_MAX;
      spdlog::info(
          "ledger snapshot at {} received (ledger of {} records): installing it from peers",
          rd.snapshot->meta.index, ls->size);
      to_apply_.push_back(Pending{rd.snapshot->meta.index, {}, std::move(ls).value()});
    }
    for (const raft::Entry& e : rd.committed_entries) {
      if (e.type == raft::EntryType::conf_change) {
        apply_conf_entry(e);
        continue;
      }
      if (e.data.empty() || e.index <= applied_) continue;
      auto le = decode_ledger_entry(e.data);
      if (!le.ok()) continue;
      to_apply_.push_back(Pending{e.index, std::move(le).value(), std::nullopt});
    }
    node_->advance(rd);
  }
}

void OrderPlane::apply_conf_entry(const raft::Entry& e) {
  auto cc = raft::decode_conf_change(e.data);
  if (!cc.ok()) return;  // the same at every node: no change
  const raft::ConfState cs = node_->apply_conf_change(*cc);
  last_conf_index_ = std::max(last_conf_index_, e.index);
  voter_ = cs.is_voter(opt_.self);
  if (cc->node == opt_.self && e.index >= voter_from_index_) voter_from_index_ = 0;
  conf_root_seq_ = std::max(conf_root_seq_, context_root_seq(cc->context));
  spdlog::info("ledger configuration at {}: voters [{}], learners [{}]", e.index,
               join_ids(cs.voters), join_ids(cs.learners));
}

void OrderPlane::maybe_change_conf() {
  if (!node_ || !membership_.joined()) return;
  if (node_->raft().role() != raft::Role::leader) return;
  const raft::RaftStatus st = node_->status();
  // A membership older than the one behind the last change could undo a newer change.
  if (membership_.root_seq() < conf_root_seq_) return;
  // One change at a time: Raft refuses a change while another is in the log but not applied,
  // and before this leader applied its own first entry; the change is looked at again later.
  const raft::ConfState& cs = st.conf_state;
  const std::vector<std::string> want_voters = membership_.voters();
  const std::vector<std::string> want_learners = membership_.learners();
  auto wanted = [&](const std::string& id, const std::vector<std::string>& list) {
    return std::binary_search(list.begin(), list.end(), id);
  };
  auto progress = [&](const std::string& id) -> const raft::ProgressStatus* {
    for (const auto& p : st.progress)
      if (p.id == id) return &p;
    return nullptr;
  };
  // Never a configuration without a quorum of voters that recently answered this leader.
  auto quorum_active = [&](const std::vector<std::string>& voters) {
    if (voters.empty()) return false;
    size_t active = 0;
    for (const auto& id : voters) {
      const raft::ProgressStatus* p = progress(id);
      if (id == opt_.self || (p != nullptr && p->recent_active)) ++active;
    }
    return 2 * active > voters.size();
  };
  auto without = [](std::vector<std::string> ids, const std::string& id) {
    ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
    return ids;
  };
  std::optional<raft::ConfChange> change;
  // 1. Remove revoked (or unknown) sites: others first, this leader last (it then steps down).
  std::vector<std::string> members = cs.voters;
  members.insert(members.end(), cs.learners.begin(), cs.learners.end());
  std::stable_partition(members.begin(), members.end(),
                        [&](const std::string& id) { return id != opt_.self; });
  for (const auto& id : members) {
    if (change) break;
    if (wanted(id, want_voters) || wanted(id, want_learners)) continue;
    if (cs.is_voter(id) && !quorum_active(without(cs.voters, id))) continue;
    change = raft::ConfChange{raft::ConfChangeType::remove_node, id, {}};
  }
  // 2. Promote a learner certified as a voter, once its log has caught up, past the entry that
  // took its certification into the ledger (so it also holds the records: promotion_gate()).
  for (const auto& id : want_voters) {
    if (change) break;
    if (!cs.is_learner(id)) continue;
    const raft::ProgressStatus* p = progress(id);
    if (p == nullptr || !p->recent_active || p->match == 0 ||
        p->match + promote_lag_max < st.commit)
      continue;
    if (const uint64_t gate = promotion_gate(); gate == 0 || p->match < gate) continue;
    std::vector<std::string> voters = cs.voters;
    voters.push_back(id);
    if (!quorum_active(voters)) continue;
    change = raft::ConfChange{raft::ConfChangeType::promote_learner, id, {}};
  }
  // 3. Add a site certified after the genesis, as a learner first (a voter is promoted later).
  for (const auto* list : {&want_voters, &want_learners}) {
    for (const auto& id : *list) {
      if (change) break;
      if (!cs.contains(id)) change = raft::ConfChange{raft::ConfChangeType::add_learner, id, {}};
    }
  }
  // 4. Demote a voter certified again as a learner: this leader last.
  std::vector<std::string> demote = cs.voters;
  std::stable_partition(demote.begin(), demote.end(),
                        [&](const std::string& id) { return id != opt_.self; });
  for (const auto& id : demote) {
    if (change) break;
    if (!wanted(id, want_learners)) continue;
    if (!quorum_active(without(cs.voters, id))) continue;
    change = raft::ConfChange{raft::ConfChangeType::add_learner, id, {}};
  }
  if (!change) return;
  change->context = conf_context(membership_.root_seq());
  const raft::Status s = node_->propose_conf_change(*change);
  if (!s.ok()) return;  // pending, or refused: looked at again next tick
  spdlog::info("ledger configuration change proposed: {} {} (root seq {})",
               change->type == raft::ConfChangeType::remove_node       ? "remove"
               : change->type == raft::ConfChangeType::promote_learner ? "promote"
               : cs.is_voter(change->node)                             ? "demote"
                                                                       : "add learner",
               change->node, membership_.root_seq());
  process_ready();
}

uint64_t OrderPlane::promotion_gate() {
  if (promotion_gate_root_seq_ != membership_.root_seq()) {
    promotion_gate_root_seq_ = membership_.root_seq();
    promotion_gate_ = 0;
  }
  if (promotion_gate_ != 0) return promotion_gate_;
  auto txn = store_.read();
  if (!txn.ok()) return 0;
  if (ledger_seq(**txn, root_origin) < promotion_gate_root_seq_) return 0;  // not committed yet
  const uint64_t applied = read_ledger_meta(**txn).applied_index;
  if ((*txn)->write_error() || applied == 0) return 0;  // a failed read: looked at again later
  promotion_gate_ = applied;
  return promotion_gate_;
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
    if (to_apply_[n].snapshot) {
      // A snapshot installs alone: what comes before it applies first.
      if (n == 0) {
        install_step(**txn);
        if (apply_in_flight_ > 0 || to_apply_.empty() || to_apply_.front().snapshot) return;
        continue;  // installed already: go on with the entries after it
      }
      break;
    }
    const uint64_t index = to_apply_[n].index;
    const LedgerEntry& entry = to_apply_[n].entry;
    std::vector<WantedChain> wanted;
    if (covers(**txn, entry, membership_, &wanted, opt_.self) == Coverage::missing) {
      if (n == 0) {
        // A learner (or a voter behind) fetches the records, then tries again.
        const std::string leader = node_->status().leader;
        catch_up_(leader.empty() || leader == opt_.self ? entry.proposer : leader, wanted);
        apply_retry_ms_ = next_tick_ms_;
      }
      break;
    }
    LedgerWork work;
    work.index = index;
    work.prev_index = prev;
    work.entry = entry;
    const bool queued =
        submit_apply_(std::move(work), [this, epoch = epoch_](Result<ApplyOutcome> r) {
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
  const uint64_t index = to_apply_.front().index;
  to_apply_.pop_front();
  applied_ = std::max(applied_, index);
  if (r->applied && node_->raft().role() == raft::Role::leader && apply_in_flight_ == 0) {
    // Signed and gossiped from tick(), at most every head_interval_ms.
    LedgerHead h;
    h.network_id = opt_.network_id;
    h.size = r->size;
    h.root = r->root;
    h.cluster_time_ms = r->cluster_time_ms;  // the ledger's, which never goes back
    h.signer = opt_.self;
    head_due_ = std::move(h);
  }
  if (apply_in_flight_ == 0) {
    maybe_snapshot();
    pump_apply();
  }
}

void OrderPlane::install_step(const StoreTxn& txn) {
  const Pending& p = to_apply_.front();
  const LedgerSnapshot& snap = *p.snapshot;
  const LedgerMeta meta = read_ledger_meta(txn);
  if (meta.applied_index >= p.index) {  // installed before a restart, or the entries were here
    applied_ = std::max(applied_, p.index);
    to_apply_.pop_front();
    return;
  }
  // Whom to ask: the leader, else (and after a failure) the snapshot's voters in turn.
  std::vector<std::string> peers;
  const std::string leader = node_->status().leader;
  if (!leader.empty() && leader != opt_.self) peers.push_back(leader);
  for (const auto& v : node_->raft().tracker().conf_state().voters)
    if (v != opt_.self && v != leader) peers.push_back(v);
  if (peers.empty()) return;
  const std::string& peer = peers[install_turn_ % peers.size()];
  // 1. The records the snapshot's frontier covers, by gossip (as a learner fetches for entries).
  LedgerEntry covered;
  covered.items = snap.frontier;
  std::vector<WantedChain> wanted;
  if (covers(txn, covered, membership_, &wanted, opt_.self) == Coverage::missing) {
    catch_up_(peer, wanted);
    apply_retry_ms_ = next_tick_ms_;
    return;
  }
  // 2. The ledger's rows, a segment at a time; asked again of the next peer if unanswered.
  if (install_asked_from_ == meta.size && now_ms_ < install_asked_ms_ + install_ask_timeout_ms)
    return;
  if (install_asked_from_ == meta.size) ++install_turn_;
  install_asked_from_ = meta.size;
  install_asked_ms_ = now_ms_;
  LedgerSegment ask;
  ask.from = meta.size;
  ask.size = snap.size;
  send_segment_(peers[install_turn_ % peers.size()], ask, true);
}

void OrderPlane::on_segment_request(const std::string& from, const LedgerSegment& request,
                                    int64_t now_ms) {
  if (const MemberSite* site = membership_.site(from); site == nullptr || site->revoked_after)
    return;
  ++segment_requests_;
  SegmentAsker& asker = segment_askers_[from];
  if (now_ms >= asker.answered_ms + segment_answer_interval_ms) {
    asker.waiting.reset();
    answer_segment(from, asker, request, now_ms);
    return;
  }
  if (asker.waiting) ++segment_requests_dropped_;
  asker.waiting = request;  // answered by tick() when the interval is up
}

void OrderPlane::answer_segment(const std::string& to, SegmentAsker& asker,
                                const LedgerSegment& request, int64_t now_ms) {
  asker.answered_ms = now_ms;
  // (Asked before, answered now: revoked since, it gets nothing.)
  if (const MemberSite* site = membership_.site(to); site == nullptr || site->revoked_after) return;
  auto txn = store_.read();
  if (!txn.ok()) return;
  auto seg =
      read_ledger_segment(**txn, request.from, request.size, limits::ledger_segment_rows_max);
  if (!seg.ok()) return;  // this ledger is not that far yet: the asker turns to another peer
  send_segment_(to, *seg, false);
}

void OrderPlane::on_segment(const std::string& from, LedgerSegment segment) {
  if (!node_ || apply_in_flight_ > 0 || to_apply_.empty() || !to_apply_.front().snapshot) return;
  // Rows come from voters only: the Merkle root binds each row's record and position, not the
  // cluster time it carries, which the voters are trusted with as the leader is with an entry's.
  if (!node_->raft().tracker().conf_state().is_voter(from) || from == opt_.self) return;
  const Pending& p = to_apply_.front();
  if (install_asked_from_ == UINT64_MAX || segment.from != install_asked_from_ ||
      segment.size != p.snapshot->size)
    return;  // not asked for (now): stale, or nothing asked
  LedgerWork work;
  work.index = p.index;
  work.snapshot = p.snapshot;
  work.segment = std::move(segment);
  const bool queued =
      submit_apply_(std::move(work), [this, epoch = epoch_](Result<ApplyOutcome> r) {
        if (epoch == epoch_) on_installed(std::move(r));
      });
  if (queued) {
    apply_in_flight_ = 1;
  } else {  // the writer is full: ask again later, of the same peer
    install_asked_from_ = UINT64_MAX;
    apply_retry_ms_ = next_tick_ms_;
  }
}

void OrderPlane::on_installed(Result<ApplyOutcome> r) {
  UMUPAKA_ASSERT(apply_in_flight_ == 1 && !to_apply_.empty() && to_apply_.front().snapshot);
  apply_in_flight_ = 0;
  install_asked_from_ = UINT64_MAX;  // ask for the next segment (or again) at once
  if (!r.ok()) {
    if (r.error().code == Errc::invalid_field) {
      spdlog::warn("ledger segment refused ({}): asking another peer", r.error().message);
      ++install_turn_;
      ++segments_refused_;
    }
    apply_retry_ms_ = next_tick_ms_;
    return;
  }
  if (r->applied) {
    const uint64_t index = to_apply_.front().index;
    to_apply_.pop_front();
    applied_ = std::max(applied_, index);
    ++snapshots_installed_;
    spdlog::info("ledger snapshot at {} installed: {} records, root {}", index, r->size,
                 to_hex(r->root));
  }
  pump_apply();
}

void OrderPlane::maybe_snapshot() {
  if (!node_ || opt_.snapshot_entries == 0 || apply_in_flight_ > 0) return;
  if (!to_apply_.empty() && to_apply_.front().snapshot) return;
  // The index: the last applied ledger entry; the configuration as of it must be the one Raft
  // holds (no conf change after it applied). After a conf change: the last entry Raft handed out,
  // once every ledger entry up to it is applied (nothing waits), so the conf change is under it.
  uint64_t at = 0;
  if (applied_ >= snapshot_index_ + opt_.snapshot_entries && last_conf_index_ <= applied_) {
    at = applied_;
  } else if (snapshot_index_ > 0 && last_conf_index_ > snapshot_index_ && to_apply_.empty()) {
    at = node_->raft().log().applied();
    if (at < last_conf_index_) return;
  }
  if (at == 0 || at <= snapshot_index_) return;
  LedgerSnapshot ls;
  {
    auto txn = store_.read();
    if (!txn.ok() || read_ledger_meta(**txn).applied_index != applied_) return;
    ls = ledger_snapshot(**txn);
  }
  ls.conf_root_seq = conf_root_seq_;
  const auto term = storage_->term(at);
  if (!term.ok() || at <= storage_->snapshot_index()) return;
  raft::Snapshot snap;
  snap.meta.index = at;
  snap.meta.term = *term;
  snap.meta.conf_state = node_->raft().tracker().conf_state();
  snap.data = encode_ledger_snapshot(ls);
  const uint64_t compact_to = at > opt_.snapshot_keep_entries ? at - opt_.snapshot_keep_entries : 0;
  // Persisted before the log is cut: a restart finds the snapshot, then the entries after it. A
  // snapshot past the last ledger entry (after a conf change) moves the ledger's applied index to
  // it in the same write, or a restart would take it for a snapshot still to install.
  const Status s = store_.write([&](StoreTxn& t) -> Status {
    advance_ledger_applied(t, at);
    t.put_meta(meta_snapshot, msgpack_visit::encode_struct(snap));
    if (compact_to > 0) t.compact_raft_log(compact_to);
    return {};
  });
  // The memory changes only once the disk has it: a failed write leaves both as they were, and
  // the same index is tried again.
  if (!s.ok()) return;
  const auto held = storage_->create_snapshot(at, snap.meta.conf_state, std::move(snap.data));
  UMUPAKA_ASSERT_MSG(held.ok() && held->meta.term == snap.meta.term,
                     "a snapshot written could not be held");
  if (compact_to >= storage_->first_index()) (void)storage_->compact(compact_to);
  applied_ = std::max(applied_, at);
  snapshot_index_ = at;
  ++snapshots_made_;
  spdlog::info("ledger snapshot at {} ({} records); log compacted through {}", at, ls.size,
               compact_to);
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
  s.snapshot_index = snapshot_index_;
  s.conf_index = last_conf_index_;
  s.first_index = storage_->first_index();
  if (!to_apply_.empty() && to_apply_.front().snapshot) {
    s.installing = to_apply_.front().index;
    s.install_target = to_apply_.front().snapshot->size;
    if (auto txn = store_.read(); txn.ok()) s.install_size = read_ledger_meta(**txn).size;
  }
  s.snapshots_made = snapshots_made_;
  s.snapshots_installed = snapshots_installed_;
  s.segments_refused = segments_refused_;
  s.messages_refused = messages_refused_;
  s.heads_refused = heads_refused_;
  s.segment_requests = segment_requests_;
  s.segment_requests_dropped = segment_requests_dropped_;
  s.head_waiting = 0;
  for (const auto& [signer, h] : pending_heads_)
    if (s.head_waiting == 0 || h.size < s.head_waiting) s.head_waiting = h.size;
  s.heads_waiting = pending_heads_.size();
  s.voters = st.conf_state.voters;
  s.learners = st.conf_state.learners;
  s.head = head_;
  return s;
}

}  // namespace umupaka

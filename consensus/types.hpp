// The Raft core's vocabulary: entries, persistent state, configurations, snapshots and messages.
//
// Every struct lists its fields once, in a static visit(self, visitor), as ledger/records.hpp does:
// the project's codecs walk these to put messages on the wire and entries on disk. Field order is
// the encoding order and must never change. Field types are limited to std::string, bool,
// uint32_t, uint64_t, enums with a uint8_t underlying type, std::optional<T>, std::vector<T> and
// nested visitable structs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consensus/result.hpp"

namespace umupaka::raft {

// A node is named by its site slug ("hq", "kigali-airport"). The empty string means "none".
using NodeId = std::string;
// A Raft term; 0 before the first election.
using Term = uint64_t;
// A position in the replicated log, from 1; 0 is the empty prefix.
using LogIndex = uint64_t;
// The largest term or index a peer's message may carry (RawNode::step refuses more) and a stored
// hard state may hold. Both grow by one per election or entry: no honest node comes near 2^62
// (a thousand a second for 146 million years), and a larger value would overflow `+ 1` in the
// core at the next election or snapshot, stopping every node that adopted it.
inline constexpr uint64_t term_index_max = uint64_t{1} << 62;

// --- Log entries -----------------------------------------------------------------------------

enum class EntryType : uint8_t { normal, conf_change };

// One log entry. `data` is opaque to Raft for normal entries (a frontier digest for the ledger)
// and an encoded ConfChange (encode_conf_change) for conf_change entries. An entry with empty
// data is a no-op (each new leader appends one).
struct Entry {
  Term term = 0;
  LogIndex index = 0;
  EntryType type = EntryType::normal;
  std::string data;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("term", s.term);
    v("index", s.index);
    v("type", s.type);
    v("data", s.data);
  }
  friend bool operator==(const Entry&, const Entry&) = default;
};

// Bytes an entry counts for in message and Ready size limits: its payload plus a fixed allowance
// for term, index and type as encoded on the wire.
inline constexpr uint64_t entry_overhead_bytes = 24;
inline uint64_t entry_size_bytes(const Entry& e) { return e.data.size() + entry_overhead_bytes; }
// Bytes an entry counts for in the uncommitted-proposals limit: its payload only, so that the
// leader's empty entries are free.
inline uint64_t entry_payload_bytes(const Entry& e) { return e.data.size(); }

// --- Persistent state ------------------------------------------------------------------------

// What a node must persist (and fsync) before it sends the messages of the same Ready.
struct HardState {
  Term term = 0;
  NodeId vote;  // the candidate voted for in `term`, or empty
  LogIndex commit = 0;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("term", s.term);
    v("vote", s.vote);
    v("commit", s.commit);
  }
  bool empty() const { return term == 0 && vote.empty() && commit == 0; }
  friend bool operator==(const HardState&, const HardState&) = default;
};

// A configuration: who votes and who only learns. Both lists are sorted, without duplicates, and
// disjoint.
struct ConfState {
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("voters", s.voters);
    v("learners", s.learners);
  }
  bool is_voter(const NodeId& id) const;
  bool is_learner(const NodeId& id) const;
  bool contains(const NodeId& id) const { return is_voter(id) || is_learner(id); }
  // Sorted, unique, disjoint, no empty ids.
  bool well_formed() const;
  friend bool operator==(const ConfState&, const ConfState&) = default;
};

// --- Configuration changes -------------------------------------------------------------------

// One node at a time (Raft thesis §4.1, as etcd's "simple" changes):
//   add_voter        a new node joins as a voter (a learner named here is promoted);
//   add_learner      a new node joins as a learner (a voter named here is demoted);
//   remove_node      a voter or learner leaves;
//   promote_learner  an existing learner becomes a voter.
enum class ConfChangeType : uint8_t { add_voter, add_learner, remove_node, promote_learner };

struct ConfChange {
  ConfChangeType type = ConfChangeType::add_voter;
  NodeId node;
  std::string context;  // opaque to Raft (e.g. the network root's signature over the change)
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("type", s.type);
    v("node", s.node);
    v("context", s.context);
  }
  friend bool operator==(const ConfChange&, const ConfChange&) = default;
};

// The bytes of a conf_change entry: version byte 1, type byte, then node and context each as a
// 4-byte little-endian length followed by the bytes. decode rejects anything else (Errc::decode).
std::string encode_conf_change(const ConfChange& cc);
Result<ConfChange> decode_conf_change(std::string_view bytes);

// --- Snapshots -------------------------------------------------------------------------------

struct SnapshotMeta {
  LogIndex index = 0;    // the last entry the snapshot covers
  Term term = 0;         // that entry's term
  ConfState conf_state;  // the configuration as of `index`
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("index", s.index);
    v("term", s.term);
    v("conf_state", s.conf_state);
  }
  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

// The application's state as of meta.index; `data` is opaque to Raft.
struct Snapshot {
  SnapshotMeta meta;
  std::string data;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("meta", s.meta);
    v("data", s.data);
  }
  bool empty() const { return meta.index == 0; }
  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

// --- Messages --------------------------------------------------------------------------------

enum class MessageType : uint8_t {
  // Between peers.
  app,              // leader -> follower: entries after (index, log_term), leader's commit
  app_resp,         // follower -> leader: accepted up to index, or reject with a hint
  vote,             // candidate -> voter: vote for me in term, my last (index, log_term)
  vote_resp,        // voter -> candidate
  pre_vote,         // pre-candidate -> voter: would you vote for me in term (not yet taken)?
  pre_vote_resp,    // voter -> pre-candidate
  heartbeat,        // leader -> follower: commit (capped at the follower's match), read context
  heartbeat_resp,   // follower -> leader: echoes the read context
  snap,             // leader -> follower: install `snapshot`
  timeout_now,      // leader -> transferee: campaign now, ignoring leases
  read_index,       // follower -> leader: a linearizable read with `context`
  read_index_resp,  // leader -> follower: read at or after `index`
  transfer_leader,  // follower -> leader (forwarded): transfer leadership to `from`
  prop,             // follower -> leader (forwarded): append `entries`
  // Local to a node; a peer sending one is rejected with Errc::step_local_msg.
  hup,           // start an election
  beat,          // leader: send heartbeats
  check_quorum,  // leader: step down unless a quorum was heard from
  snap_status,   // report_snapshot: `from` finished (reject = failed) installing a snapshot
  unreachable,   // report_unreachable: a message to `from` could not be delivered
};

const char* message_type_name(MessageType t);
// True for the types a peer may never send.
bool is_local_message(MessageType t);
// True for responses (app_resp, vote_resp, pre_vote_resp, heartbeat_resp, read_index_resp).
bool is_response_message(MessageType t);

struct Message {
  MessageType type = MessageType::app;
  NodeId from;
  NodeId to;
  Term term = 0;      // 0 for messages local to the receiver (forwarded prop and read_index)
  Term log_term = 0;  // app: term of `index`; vote: candidate's last term; app_resp: hint term;
                      // heartbeat: term of the entry at `commit` (0: not said)
  LogIndex index = 0;
  std::vector<Entry> entries;
  LogIndex commit = 0;
  bool reject = false;
  LogIndex reject_hint = 0;
  std::optional<Snapshot> snapshot;
  std::string context;  // read_index context; "transfer" on a forced (leader transfer) vote
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("type", s.type);
    v("from", s.from);
    v("to", s.to);
    v("term", s.term);
    v("log_term", s.log_term);
    v("index", s.index);
    v("entries", s.entries);
    v("commit", s.commit);
    v("reject", s.reject);
    v("reject_hint", s.reject_hint);
    v("snapshot", s.snapshot);
    v("context", s.context);
  }
  friend bool operator==(const Message&, const Message&) = default;
};

// The context of a vote request sent on leadership transfer: voters grant it even while they
// hear from a live leader.
inline constexpr std::string_view campaign_transfer_context = "transfer";

// --- Roles and reads -------------------------------------------------------------------------

enum class Role : uint8_t { follower, pre_candidate, candidate, leader };
const char* role_name(Role r);

// A linearizable read became safe: once the local state machine has applied `index`, a read
// served from it reflects every write committed before read_index(context) was called.
struct ReadState {
  LogIndex index = 0;
  std::string context;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("index", s.index);
    v("context", s.context);
  }
  friend bool operator==(const ReadState&, const ReadState&) = default;
};

}  // namespace umupaka::raft

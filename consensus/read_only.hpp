// ReadOnly: the leader's pending linearizable reads (etcd's readOnly, ReadOnlySafe only).
//
// A read_index request records the leader's commit index at arrival; the leader then sends a
// heartbeat round carrying the request's context. Once a majority of voters echo that context (or
// a later one: heartbeats are answered in order), the leader knows it was still the leader when
// the request arrived, and every request up to that context is answered with its recorded index.
// Contexts are chosen by the application and must be unique among pending requests; a repeated
// context is ignored. Everything pending is dropped when the node stops being leader (the caller
// retries elsewhere): a deposed leader never answers a read.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "consensus/types.hpp"

namespace umupaka::raft {

struct ReadIndexStatus {
  Message request;  // the original read_index message (from: requester, context)
  LogIndex index = 0;
  std::map<NodeId, bool> acks;
};

class ReadOnly {
 public:
  // Returns false (and records nothing) if `request.context` is already pending.
  bool add_request(LogIndex index, const Message& request);
  // Records id's acknowledgement of `context`; nullptr if the context is not pending.
  const std::map<NodeId, bool>* recv_ack(const NodeId& id, const std::string& context);
  // Removes and returns every request up to and including `context`, oldest first.
  std::vector<ReadIndexStatus> advance(const std::string& context);
  // The newest pending context, or empty.
  std::string last_pending_context() const;
  // The pending contexts, oldest first, and the acknowledgements of one (nullptr if not pending).
  const std::deque<std::string>& contexts() const { return queue_; }
  const std::map<NodeId, bool>* acks(const std::string& context) const;
  size_t pending_count() const { return queue_.size(); }
  void clear() {
    pending_.clear();
    queue_.clear();
  }

 private:
  std::map<std::string, ReadIndexStatus> pending_;
  std::deque<std::string> queue_;
};

}  // namespace umupaka::raft

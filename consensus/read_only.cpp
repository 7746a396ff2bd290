#include "consensus/read_only.hpp"

#include <algorithm>

#include "consensus/assert.hpp"

namespace umupaka::raft {

bool ReadOnly::add_request(LogIndex index, const Message& request) {
  if (pending_.count(request.context) != 0) return false;
  pending_.emplace(request.context, ReadIndexStatus{request, index, {}});
  queue_.push_back(request.context);
  UMUPAKA_RAFT_ASSERT(pending_.size() == queue_.size());
  return true;
}

const std::map<NodeId, bool>* ReadOnly::recv_ack(const NodeId& id, const std::string& context) {
  const auto it = pending_.find(context);
  if (it == pending_.end()) return nullptr;
  it->second.acks[id] = true;
  return &it->second.acks;
}

const std::map<NodeId, bool>* ReadOnly::acks(const std::string& context) const {
  const auto it = pending_.find(context);
  return it == pending_.end() ? nullptr : &it->second.acks;
}

std::vector<ReadIndexStatus> ReadOnly::advance(const std::string& context) {
  std::vector<ReadIndexStatus> out;
  const auto pos = std::find(queue_.begin(), queue_.end(), context);
  if (pos == queue_.end()) return out;
  const auto count = static_cast<size_t>(pos - queue_.begin()) + 1;
  for (size_t k = 0; k < count; ++k) {
    auto it = pending_.find(queue_.front());
    UMUPAKA_RAFT_ASSERT(it != pending_.end());
    out.push_back(std::move(it->second));
    pending_.erase(it);
    queue_.pop_front();
  }
  UMUPAKA_RAFT_ASSERT(pending_.size() == queue_.size());
  return out;
}

std::string ReadOnly::last_pending_context() const {
  return queue_.empty() ? std::string() : queue_.back();
}

}  // namespace umupaka::raft

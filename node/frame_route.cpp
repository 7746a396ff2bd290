#include "node/frame_route.hpp"

#include "ledger/assert.hpp"

namespace umupaka {

FrameRoute route_frame(const GossipMessage& m, const std::string& from) {
  switch (m.type) {
    case GossipType::raft:
      if (!m.raft) return FrameRoute::gossip;  // malformed: the gossip core counts it invalid
      return m.raft->from == from ? FrameRoute::order : FrameRoute::refused;
    case GossipType::head:
      return m.head ? FrameRoute::order : FrameRoute::gossip;
    case GossipType::ledger_fetch:
    case GossipType::ledger_rows:
      return m.segment ? FrameRoute::order : FrameRoute::gossip;
    case GossipType::swim:
    case GossipType::push:
    case GossipType::digest:
    case GossipType::records:
    case GossipType::evidence:
    case GossipType::fetch:
    case GossipType::versions:
      return FrameRoute::gossip;
  }
  return FrameRoute::gossip;
}

void deliver_to_order(OrderPlane& order, GossipMessage m, const std::string& from, int64_t now_ms) {
  UMUPAKA_ASSERT(route_frame(m, from) == FrameRoute::order);
  if (m.type == GossipType::raft)
    order.on_message(std::move(*m.raft), now_ms);
  else if (m.type == GossipType::head)
    order.on_head(*m.head);
  else if (m.type == GossipType::ledger_fetch)
    order.on_segment_request(from, *m.segment, now_ms);
  else  // ledger_rows
    order.on_segment(from, std::move(*m.segment));
}

}  // namespace umupaka

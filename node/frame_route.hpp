// Where a frame from a peer goes once decoded: the order plane takes Raft messages, signed ledger
// heads and ledger segments; everything else is the gossip core's. One routine for the runtime
// (NetworkRuntime) and the simulator (SimCluster), so that both route every frame alike.
#pragma once

#include <cstdint>
#include <string>

#include "node/gossip.hpp"
#include "node/order_plane.hpp"

namespace umupaka {

enum class FrameRoute : uint8_t {
  order,    // deliver_to_order
  gossip,   // GossipCore::on_message
  refused,  // a Raft message claiming another sender than the connection's site
};

// `from`: the site the transport named for the connection (ZAP), never a field of the message.
FrameRoute route_frame(const GossipMessage& m, const std::string& from);

// Hands a frame routed to the order plane to it. Precondition: route_frame(m, from) is order.
void deliver_to_order(OrderPlane& order, GossipMessage m, const std::string& from, int64_t now_ms);

}  // namespace umupaka

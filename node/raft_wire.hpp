// Names for the consensus core's enums (consensus/ depends on nothing of ours, so they are
// declared here), which the msgpack and JSON visitors need to carry Raft messages between nodes.
#pragma once

#include "consensus/raft.hpp"
#include "consensus/types.hpp"
#include "ledger/enum_names.hpp"

namespace umupaka {
UMUPAKA_ENUM_NAMES(raft::EntryType, "normal", "conf_change");
UMUPAKA_ENUM_NAMES(raft::MessageType, "app", "app_resp", "vote", "vote_resp", "pre_vote",
                   "pre_vote_resp", "heartbeat", "heartbeat_resp", "snap", "timeout_now",
                   "read_index", "read_index_resp", "transfer_leader", "prop", "hup", "beat",
                   "check_quorum", "snap_status", "unreachable");
UMUPAKA_ENUM_NAMES(raft::ConfChangeType, "add_voter", "add_learner", "remove_node",
                   "promote_learner");
UMUPAKA_ENUM_NAMES(raft::Role, "follower", "pre_candidate", "candidate", "leader");
}  // namespace umupaka

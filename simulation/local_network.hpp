// Real local networks for testing and demos: `umupaka-sim local up` creates a network of real
// umupaka-node processes on 127.0.0.1 (keys, root key, genesis, tokens), starts them and writes
// DIR/network.json; `local add` certifies and starts one more site; `local down` stops them.
//
// network.json: {"network_id", "admin_token", "root_key", "root_public_key", "genesis",
//                "sites": [{"id", "kind", "role", "api", "peer", "pid", "data", "restart"}]}
// where `restart` is the exact command line that starts that site's node again.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ledger/result.hpp"

namespace umupaka::sim {

struct LocalUpOptions {
  std::string dir;
  std::vector<std::string> sites;   // "id" or "id:kind"; kinds guessed from ids when not given
  std::vector<std::string> voters;  // default: hq, an airport, and one more site
  uint16_t base_port = 7400;        // API base+i, peers base+100+i; 0: any free ports
  std::string link = "wan";         // robust timings on a shared, loaded machine
  std::string node_binary;          // umupaka-node
  std::string network_id = "rwanda-local";
  // Written to every node.toml when set ([raft] snapshot_entries, snapshot_keep_entries).
  std::optional<uint64_t> snapshot_entries;
  std::optional<uint64_t> snapshot_keep_entries;
  // [storage] group_commit_pace of every node: the nodes of a local network share one disk, whose
  // flushes pacing spares (docs/decisions.md); 0 turns it off.
  uint32_t group_commit_pace = 3;
};

// The default sites: HQ, five posts (the airport among them) and an embassy.
std::vector<std::string> default_sites();

Status local_up(const LocalUpOptions& options);
Status local_down(const std::string& dir);

struct LocalAddOptions {
  std::string dir;
  std::string site;              // "id" or "id:kind"
  std::string role = "learner";  // "learner" or "voter" (a voter joins as a learner first)
  std::string node_binary;       // umupaka-node
};

// Adds a site to a running local network after its genesis, as HQ would: a new node is set up
// (same link, [raft] and [storage] settings as the first site's), HQ certifies it with the root key
// through the first site's API, it joins with the genesis and starts; network.json lists it.
// Returns its pid.
Result<int> local_add(const LocalAddOptions& options);

// Starts one site's node again from its `restart` command line; returns the new pid.
Result<int> start_site(const std::string& dir, const std::string& site,
                       const std::vector<std::string>& extra_args = {});

}  // namespace umupaka::sim

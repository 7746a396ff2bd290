// A node's data directory: configuration (node.toml), keys, bearer tokens, the store and the
// access log. This is I/O at the edge; the core never reads files.
//
//   DATA/node.toml            site, kind, network id, API and peer endpoints, gossip, Raft,
//                             storage (docs/operations.md)
//   DATA/keys/signing.seed    Ed25519 seed, hex, mode 0600
//   DATA/keys/transport.key   Curve25519 secret key, Z85, mode 0600 (ZeroMQ CURVE)
//   DATA/keys/transport.pub   Curve25519 public key, Z85
//   DATA/tokens               one line per token: sha256(token) hex, role, subject, created
//   DATA/store/               LMDB environment
//   DATA/access.log           one JSON line per read of a person's data
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/crypto.hpp"
#include "ledger/records.hpp"
#include "ledger/result.hpp"

namespace umupaka {

inline constexpr uint16_t default_api_port = 7400;

inline constexpr uint16_t default_peer_port = 7500;

struct NodeConfig {
  std::string data_dir;
  std::string network_id;
  std::string site;
  SiteKind kind = SiteKind::border_post;
  std::string api_address = "127.0.0.1";
  uint16_t api_port = default_api_port;
  // Where peers reach this node (ZeroMQ CURVE), bound and advertised in the join request.
  std::string peer_listen = "tcp://127.0.0.1:7500";
  // Link class to peers ("lan", "wan", "satellite"), and per-site overrides.
  std::string link = "wan";
  std::map<std::string, std::string, std::less<>> links;
  // One Raft tick; elections time out after 10-19 ticks (LAN: 50 ms; WAN default 100 ms).
  uint32_t raft_tick_ms = 100;
  // Log compaction (docs/ledger.md, "Snapshots"): a snapshot every this many applied entries
  // (0: never), keeping this many entries below it.
  uint64_t raft_snapshot_entries = 10'000;
  uint64_t raft_snapshot_keep_entries = 5'000;
  // Heartbeats to learners every this many ticks (OrderOptions::learner_heartbeat_ticks).
  uint32_t raft_learner_heartbeat_ticks = 5;
  // Group-commit pacing ([storage] group_commit_pace, 0..limits::group_commit_pace_max; 0 off): for
  // nodes that share one disk (docs/decisions.md).
  uint32_t group_commit_pace = 0;
};

// Creates DATA with a new configuration and fresh keys. Errc::conflict if DATA already holds a
// node. `network_id` empty: a new standalone network id is generated.
// `api` empty: 127.0.0.1:default_api_port; `peer` empty: tcp://127.0.0.1:default_peer_port.
// Also writes DATA/join-request.json, the request HQ certifies.
Result<NodeConfig> init_data_dir(const std::string& data_dir, const std::string& site,
                                 SiteKind kind, const std::string& network_id,
                                 const std::string& api, const std::string& peer = {},
                                 const std::string& link = {});
// Rewrites node.toml from `config` (after a join changes the network id).
Status save_config(const NodeConfig& config);
Result<std::string> load_transport_secret_key(const std::string& data_dir);
Result<NodeConfig> load_config(const std::string& data_dir);
Result<SecretSeed> load_signing_seed(const std::string& data_dir);
Result<std::string> load_transport_public_key(const std::string& data_dir);

// "127.0.0.1:7400" -> address and port. Errc::invalid_field on anything else.
Status parse_listen(const std::string& text, std::string& address, uint16_t& port);
// A link class as node.toml, `init --link` and `umupaka-sim local up --link` take it: lan, wan or
// satellite.
bool valid_link_class(std::string_view link);

enum class Role : uint8_t { officer, consular, hq_admin, auditor };
UMUPAKA_ENUM_NAMES(Role, "officer", "consular", "hq-admin", "auditor");

struct TokenEntry {
  Hash token_hash{};
  Role role = Role::officer;
  std::string subject;  // who holds it; recorded as the officer of what they write
  std::string created;  // ISO instant
};

// Makes a new random token for `role`, appends its hash to DATA/tokens and returns the token (the
// only time it exists in clear).
Result<std::string> create_token(const std::string& data_dir, Role role, const std::string& subject,
                                 int64_t now_ms);
Result<std::vector<TokenEntry>> load_tokens(const std::string& data_dir);
// Appends an existing token (made elsewhere, e.g. one admin token for a whole local network).
Status add_token(const std::string& data_dir, const std::string& token, Role role,
                 const std::string& subject, int64_t now_ms);

// Reads the whole of a small file. Errc::io.
Result<std::string> read_file(const std::string& path);
// Writes a file atomically (temp file, fsync, rename, fsync of the directory).
Status write_file_atomic(const std::string& path, const std::string& content, unsigned mode);

}  // namespace umupaka

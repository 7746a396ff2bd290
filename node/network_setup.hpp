// Setting up a network: join requests (what a new site sends HQ), the genesis and the other
// root-signed membership records, and their files. Used by umupaka-node (init, join), by
// umupaka-admin and by umupaka-sim's local networks.
//
// Files (JSON):
//   join request  {"site", "kind", "signing_key" (hex), "transport_key" (Z85), "peer", "api"}
//   genesis       {"network_id", "record": {"encoded": base64, "signature": hex}, "sites": [...]}
//   root key      {"root_seed": hex}   (HQ's offline key; mode 0600)
#pragma once

#include <string>
#include <vector>

#include "ledger/crypto.hpp"
#include "ledger/records.hpp"
#include "ledger/result.hpp"

namespace umupaka {

Result<SiteEntry> read_join_request(const std::string& path);
Status write_join_request(const std::string& path, const SiteEntry& entry);

// Creates a root key file (fails if it exists) / reads one.
Result<SecretSeed> create_root_key(const std::string& path);
Result<SecretSeed> read_root_key(const std::string& path);

// The genesis record root/1 of network `network_id`, signed by the root key.
Result<SignedRecord> make_genesis(const SecretSeed& root_seed, const std::string& network_id,
                                  std::vector<SiteEntry> sites, int64_t now_ms);
// The next root record after (prev_seq, prev_hash), signed by the root key.
Result<SignedRecord> make_root_record(const SecretSeed& root_seed, const std::string& network_id,
                                      uint64_t prev_seq, const Hash& prev_hash, RecordBody body,
                                      int64_t now_ms);

Status write_genesis(const std::string& path, const SignedRecord& genesis);
Result<SignedRecord> read_genesis(const std::string& path);

// A signed record as the API and files carry it: {"encoded": base64, "signature": hex}.
std::string signed_record_json(const SignedRecord& sr);
Result<SignedRecord> signed_record_from_json(const std::string& json_text);

}  // namespace umupaka

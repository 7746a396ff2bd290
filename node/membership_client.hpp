// Root-signed membership changes submitted through a node's API (hq-admin token): used by
// umupaka-admin (certify, revoke) and by umupaka-sim's local networks (local add).
#pragma once

#include <string>

#include "ledger/crypto.hpp"
#include "ledger/records.hpp"
#include "ledger/result.hpp"
#include "node/http_client.hpp"

namespace umupaka {

// Reads the node's membership (network id, root head), signs the next root record with `body`
// and posts it to /v1/membership. Returns the node's answer (JSON) when it was recorded.
Result<std::string> submit_root_record(HttpClient& node, const SecretSeed& root_seed,
                                       RecordBody body, int64_t now_ms);

}  // namespace umupaka

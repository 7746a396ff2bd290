// Read-side queries of the API: a record as JSON, and a traveller's whole picture (crossings,
// documents, permits, alerts, presence, overstay as of today). Read-only over one store snapshot.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "node/node_core.hpp"
#include "storage/store.hpp"

namespace umupaka {

// The state of record (origin, seq) as this node knows it: "accepted", "seen" or "committed".
using RecordStateFn = std::function<const char*(std::string_view origin, uint64_t seq)>;

// The record (origin, seq) as JSON, or null if absent. `full` adds the header, signature and
// `encoded` (base64 of the signed bytes), and the origin's public key when it is `self`.
// `version`: that version of the slot (a forked origin's; the ledger names it by hash) instead of
// the feed's. A feed record that is not the version the ledger committed at its slot shows state
// "forked", no position, and `committed_hash`. A slot the feed does not hold but the ledger
// committed (kept beside the feed) shows the committed version. A committed record that the ledger
// made void (a revoked site's past its cut-off, ordered after the revocation) has "void": true.
// Null when the node does not hold the record; Errc::storage when it holds one that does not
// decode (it was checked when it came in: the store is at fault).
Result<nlohmann::json> record_json(const StoreTxn& txn, std::string_view origin, uint64_t seq,
                                   bool full, const NodeIdentity& self, const PublicKey& self_key,
                                   const RecordStateFn& state, const Hash* version = nullptr);

// GET /v1/travellers/{country}/{number}. `country` normalized, `number` validated by the caller.
// Errc::storage when an index names a record or view the store does not hold or cannot decode.
Result<nlohmann::json> traveller_picture(const StoreTxn& txn, const NodeIdentity& self,
                                         const std::string& country, const std::string& number,
                                         Date today, const RecordStateFn& state);

}  // namespace umupaka

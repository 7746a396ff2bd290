// Sealing (encode + sign + hash) and opening (decode + verify) of records.
#pragma once

#include "ledger/codec.hpp"
#include "ledger/crypto.hpp"

namespace umupaka {

// A record's hash: SHA-256(encoded || signature). Covering the signature too means a feed's hash
// chain authenticates every signature in it: checking the links of a run of records and the
// newest one's signature proves them all (gossip catch-up relies on this).
Hash record_hash(std::string_view encoded, const Signature& signature);

// Encodes, signs and hashes a record. The caller has validated it (validate.hpp) and set its
// header (seq, prev_hash, hlc) to continue its origin's feed.
SignedRecord seal(const Record& record, const SigningKey& key);

// Decodes `signed_record.encoded`, checks that its hash matches and that the signature verifies
// under `origin_key`. Errc::decode, Errc::bad_signature.
Result<Record> open_record(const SignedRecord& signed_record, const PublicKey& origin_key);

// Checks that `next` continues a feed whose head is (head_seq, head_hash): seq + 1 and the link.
Status check_chain(const RecordHeader& next, uint64_t head_seq, const Hash& head_hash);

}  // namespace umupaka

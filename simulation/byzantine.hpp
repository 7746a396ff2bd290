// What a byzantine peer sends, for the simulator's forge and equivocate faults and the tests:
// records re-sealed at another place of a feed, and the gossip message that carries them.
#pragma once

#include <cstdint>
#include <vector>

#include "ledger/assert.hpp"
#include "ledger/codec.hpp"
#include "ledger/record.hpp"
#include "node/gossip.hpp"

namespace umupaka::sim {

// `base` re-sealed with `key` as record `seq` of its origin after `prev`, its HLC moved by
// `hlc_bump` (so that two re-sealings differ). With the origin's key: an equivocation; with
// another: a forgery.
inline SignedRecord reseal(const SignedRecord& base, uint64_t seq, const Hash& prev,
                           uint64_t hlc_bump, const SigningKey& key) {
  auto r = decode_record(base.encoded);
  UMUPAKA_ASSERT(r.ok());
  r->header.seq = Seq(seq);
  r->header.prev_hash = prev;
  r->header.hlc = Hlc{r->header.hlc.value + hlc_bump};
  return seal(*r, key);
}

// A gossip message of `type` (push or records) carrying `records`, one hop old.
inline GossipMessage message_of(GossipType type, const std::vector<SignedRecord>& records) {
  GossipMessage m;
  m.type = type;
  m.hops = 1;
  for (const auto& sr : records) m.records.push_back(WireRecord{sr.encoded, sr.signature});
  return m;
}

}  // namespace umupaka::sim

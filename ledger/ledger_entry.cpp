#include "ledger/ledger_entry.hpp"

#include <set>
#include <string_view>

#include "ledger/limits.hpp"
#include "ledger/msgpack_visit.hpp"

namespace umupaka {

std::string encode_ledger_entry(const LedgerEntry& e) { return msgpack_visit::encode_struct(e); }

namespace {

// A ledger entry or snapshot, of the version this code writes.
template <typename T>
Result<T> decode_versioned(std::string_view bytes, uint32_t version, const char* what) {
  if (!msgpack_visit::within_element_budget(bytes, limits::order_data_elements_max,
                                            limits::msgpack_depth_max))
    return make_error(Errc::limit_exceeded, std::string(what) + " declares more than " +
                                                std::to_string(limits::order_data_elements_max) +
                                                " elements in all, or nests deeper than " +
                                                std::to_string(limits::msgpack_depth_max));
  ASSIGN_OR_RETURN(T v,
                   msgpack_visit::decode_struct<T>(bytes, msgpack_visit::order_unpack_limit()));
  if (v.version != version)
    return make_error(Errc::decode,
                      std::string("unknown ") + what + " version " + std::to_string(v.version));
  return v;
}
}  // namespace

std::string encode_ledger_snapshot(const LedgerSnapshot& s) {
  return msgpack_visit::encode_struct(s);
}

Result<LedgerSnapshot> decode_ledger_snapshot(std::string_view bytes) {
  return decode_versioned<LedgerSnapshot>(bytes, ledger_snapshot_version, "ledger snapshot");
}

Result<LedgerEntry> decode_ledger_entry(std::string_view bytes) {
  ASSIGN_OR_RETURN(LedgerEntry e,
                   decode_versioned<LedgerEntry>(bytes, ledger_entry_version, "ledger entry"));
  // A frontier delta names each origin once (a proposer walks the feeds' heads). Applying reads
  // each origin's ledger tip before writing any: an origin named twice would take its records
  // twice. Refused here, such an entry is a no-op at every node alike, even once committed.
  std::set<std::string_view> origins;
  for (const LedgerItem& item : e.items)
    if (!origins.insert(item.origin).second)
      return make_error(Errc::decode, "ledger entry names origin " + item.origin + " twice");
  return e;
}

std::string ledger_head_signing_bytes(const LedgerHead& h) {
  msgpack_visit::StringBuffer buf;
  msgpack_visit::Packer pk(buf);
  msgpack_visit::Encoder e{pk};
  pk.pack_array(5);
  e.put(h.network_id);
  e.put(h.size);
  e.put(h.root);
  e.put(h.cluster_time_ms);
  e.put(h.signer);
  return std::move(buf.bytes);
}

std::string encode_ledger_head(const LedgerHead& h) { return msgpack_visit::encode_struct(h); }

Result<LedgerHead> decode_ledger_head(std::string_view bytes) {
  return msgpack_visit::decode_struct<LedgerHead>(bytes);
}

}  // namespace umupaka

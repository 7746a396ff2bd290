#include "ledger/codec.hpp"

#include "ledger/assert.hpp"
#include "ledger/limits.hpp"
#include "ledger/msgpack_visit.hpp"

namespace umupaka {
namespace {

using namespace msgpack_visit;

template <typename T>
void encode_body(Encoder& e, const T& body) {
  e.put(body);
}

template <size_t I = 0>
bool decode_body(Decoder& d, uint64_t type, const msgpack::object& o, RecordBody& out) {
  if constexpr (I < std::variant_size_v<RecordBody>) {
    if (type == I + 1) {
      std::variant_alternative_t<I, RecordBody> body{};
      if (!d.get(o, "", body)) return false;
      out = std::move(body);
      return true;
    }
    return decode_body<I + 1>(d, type, o, out);
  } else {
    return d.fail("type", "unknown record type " + std::to_string(type));
  }
}

constexpr uint32_t envelope_fields = 8;

}  // namespace

std::string encode_record(const Record& r) {
  StringBuffer buf;
  Packer pk(buf);
  Encoder e{pk};
  const RecordHeader& h = r.header;
  pk.pack_array(envelope_fields);
  e.put(uint64_t{h.version});
  e.put(h.network_id);
  e.put(h.origin.value);
  e.put(h.seq.value);
  pk.pack_bin(static_cast<uint32_t>(h.prev_hash.size()));
  pk.pack_bin_body(reinterpret_cast<const char*>(h.prev_hash.data()),
                   static_cast<uint32_t>(h.prev_hash.size()));
  e.put(h.hlc.value);
  e.put(uint64_t{static_cast<uint64_t>(type_of(r.body))});
  std::visit([&](const auto& body) { encode_body(e, body); }, r.body);
  return std::move(buf.bytes);
}

Result<Record> decode_record(std::string_view bytes) {
  if (bytes.size() > limits::record_encoded_bytes_max)
    return make_error(Errc::limit_exceeded, "record of " + std::to_string(bytes.size()) +
                                                " bytes exceeds the limit of " +
                                                std::to_string(limits::record_encoded_bytes_max));
  const msgpack::unpack_limit limit = record_unpack_limit();
  msgpack::object_handle oh;
  size_t offset = 0;
  try {
    oh = msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr, limit);
  } catch (const std::exception& ex) {
    return make_error(Errc::decode, std::string("malformed msgpack: ") + ex.what());
  }
  if (offset != bytes.size()) return make_error(Errc::decode, "trailing bytes after the record");
  const msgpack::object& o = oh.get();
  if (o.type != msgpack::type::ARRAY || o.via.array.size != envelope_fields)
    return make_error(Errc::decode, "record is not an 8-element array");
  const msgpack::object* a = o.via.array.ptr;
  Decoder d;
  Record r;
  uint64_t version = 0, type = 0;
  bool ok = d.get(a[0], "version", version);
  if (ok && version != record_version)
    return make_error(Errc::decode, "unknown record version " + std::to_string(version), "version");
  r.header.version = static_cast<uint32_t>(version);
  ok = ok && d.get(a[1], "network_id", r.header.network_id);
  ok = ok && d.get(a[2], "origin", r.header.origin.value);
  ok = ok && d.get(a[3], "seq", r.header.seq.value);
  if (ok) {
    if (a[4].type != msgpack::type::BIN || a[4].via.bin.size != r.header.prev_hash.size()) {
      ok = d.fail("prev_hash", "expected 32 bytes");
    } else {
      std::memcpy(r.header.prev_hash.data(), a[4].via.bin.ptr, r.header.prev_hash.size());
    }
  }
  ok = ok && d.get(a[5], "hlc", r.header.hlc.value);
  ok = ok && d.get(a[6], "type", type);
  ok = ok && decode_body(d, type, a[7], r.body);
  if (!ok) return make_error(Errc::decode, d.error_message, d.error_field);
  // Canonical form: the only accepted bytes are those the encoder produces.
  if (encode_record(r) != bytes) return make_error(Errc::decode, "non-canonical encoding");
  return r;
}

namespace msgpack_visit {
namespace {

// Sums what arrays and maps declare, and their depth; stops the parse once past either bound.
struct ElementBudget : msgpack::null_visitor {
  size_t left, depth_left;
  bool exceeded = false;
  ElementBudget(size_t elements, size_t depth) : left(elements), depth_left(depth) {}
  bool take(uint64_t n) {
    if (n > left || depth_left == 0) {
      exceeded = true;
      return false;
    }
    left -= n;
    --depth_left;
    return true;
  }
  bool start_array(uint32_t n) { return take(n); }
  bool start_map(uint32_t n) { return take(uint64_t{n} * 2); }
  bool end_array() {
    ++depth_left;
    return true;
  }
  bool end_map() {
    ++depth_left;
    return true;
  }
};

}  // namespace

bool within_element_budget(std::string_view bytes, size_t elements_max, size_t depth_max) {
  ElementBudget budget(elements_max, depth_max);
  size_t offset = 0;
  try {
    msgpack::parse(bytes.data(), bytes.size(), offset, budget);
  } catch (const std::exception&) {
    // Malformed or too large a size for this parser: unpack refuses it as it always has.
  }
  return !budget.exceeded;
}

}  // namespace msgpack_visit
}  // namespace umupaka

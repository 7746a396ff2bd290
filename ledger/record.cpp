#include "ledger/record.hpp"

#include "ledger/assert.hpp"
#include "ledger/limits.hpp"

namespace umupaka {

Hash record_hash(std::string_view encoded, const Signature& signature) {
  std::string buf;
  buf.reserve(encoded.size() + signature.size());
  buf.append(encoded);
  buf.append(reinterpret_cast<const char*>(signature.data()), signature.size());
  return sha256(buf);
}

SignedRecord seal(const Record& record, const SigningKey& key) {
  SignedRecord out;
  out.encoded = encode_record(record);
  UMUPAKA_ASSERT(out.encoded.size() <= limits::record_encoded_bytes_max);
  out.signature = key.sign(out.encoded);
  out.hash = record_hash(out.encoded, out.signature);
  return out;
}

Result<Record> open_record(const SignedRecord& sr, const PublicKey& origin_key) {
  if (record_hash(sr.encoded, sr.signature) != sr.hash)
    return make_error(Errc::decode, "record hash does not match its bytes and signature", "hash");
  ASSIGN_OR_RETURN(Record r, decode_record(sr.encoded));
  if (!verify_signature(origin_key, sr.encoded, sr.signature))
    return make_error(Errc::bad_signature, "signature does not verify under the origin's key",
                      "signature");
  return r;
}

Status check_chain(const RecordHeader& next, uint64_t head_seq, const Hash& head_hash) {
  if (next.seq.value != head_seq + 1)
    return make_error(
        Errc::chain_broken,
        "seq " + std::to_string(next.seq.value) + " does not follow " + std::to_string(head_seq),
        "seq");
  if (next.prev_hash != head_hash)
    return make_error(Errc::chain_broken, "previous hash does not match the feed head",
                      "prev_hash");
  return {};
}

const char* record_type_name(RecordType t) {
  switch (t) {
    case RecordType::crossing:
      return "crossing";
    case RecordType::permit:
      return "permit";
    case RecordType::permit_status:
      return "permit_status";
    case RecordType::travel_document:
      return "travel_document";
    case RecordType::document_status:
      return "document_status";
    case RecordType::alert:
      return "alert";
    case RecordType::alert_lift:
      return "alert_lift";
    case RecordType::genesis:
      return "genesis";
    case RecordType::site_certified:
      return "site_certified";
    case RecordType::site_revoked:
      return "site_revoked";
  }
  return "unknown";
}

std::optional<RecordType> record_type_from_name(std::string_view name) {
  for (uint8_t i = 1; i <= record_type_max; ++i) {
    auto t = static_cast<RecordType>(i);
    if (name == record_type_name(t)) return t;
  }
  return std::nullopt;
}

std::string to_hex(const uint8_t* data, size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 15];
  }
  return out;
}

bool from_hex(std::string_view hex, uint8_t* out, size_t size) {
  if (hex.size() != size * 2) return false;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < size; ++i) {
    const int hi = nib(hex[2 * i]), lo = nib(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace umupaka

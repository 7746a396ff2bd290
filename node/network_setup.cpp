#include "node/network_setup.hpp"

#include <botan/base64.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "ledger/limits.hpp"
#include "ledger/record.hpp"
#include "ledger/validate.hpp"
#include "node/config.hpp"
#include "node/json_visit.hpp"

namespace umupaka {

using json = nlohmann::json;

namespace {

Result<json> read_json(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, read_file(path));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error(Errc::invalid_field, path + " is not JSON", path);
  return j;
}

json signed_json(const SignedRecord& sr) {
  return json{{"encoded", Botan::base64_encode(reinterpret_cast<const uint8_t*>(sr.encoded.data()),
                                               sr.encoded.size())},
              {"signature", to_hex(sr.signature)}};
}

Result<SignedRecord> signed_from(const json& j) {
  if (!j.is_object() || !j.contains("encoded") || !j.contains("signature") ||
      !j["encoded"].is_string() || !j["signature"].is_string())
    return make_error(Errc::invalid_field, "expected {\"encoded\": base64, \"signature\": hex}",
                      "record");
  for (const auto& [key, value] : j.items())
    if (key != "encoded" && key != "signature")
      return make_error(Errc::invalid_field, "unknown field", key);
  SignedRecord sr;
  try {
    const auto bytes = Botan::base64_decode(j["encoded"].get<std::string>());
    sr.encoded.assign(bytes.begin(), bytes.end());
  } catch (const std::exception&) {
    return make_error(Errc::invalid_field, "encoded is not base64", "encoded");
  }
  if (!from_hex(j["signature"].get<std::string>(), sr.signature.data(), sr.signature.size()))
    return make_error(Errc::invalid_field, "signature must be 128 hex digits", "signature");
  sr.hash = record_hash(sr.encoded, sr.signature);
  return sr;
}

}  // namespace

Result<SiteEntry> read_join_request(const std::string& path) {
  ASSIGN_OR_RETURN(json j, read_json(path));
  auto e = json_visit::from_json<SiteEntry>(j);
  if (!e.ok())
    return make_error(Errc::invalid_field, path + ": " + e.error().message, e.error().field);
  return e;
}

Status write_join_request(const std::string& path, const SiteEntry& entry) {
  return write_file_atomic(path, json_visit::to_json(entry).dump(2) + "\n", 0644);
}

Result<SecretSeed> create_root_key(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0)
    return make_error(Errc::conflict, path + " exists: a root key is never overwritten");
  SecretSeed seed{};
  os_random_bytes(seed.data(), seed.size());
  RETURN_IF_ERROR(write_file_atomic(path, json{{"root_seed", to_hex(seed)}}.dump() + "\n", 0600));
  return seed;
}

Result<SecretSeed> read_root_key(const std::string& path) {
  ASSIGN_OR_RETURN(json j, read_json(path));
  SecretSeed seed{};
  if (!j.contains("root_seed") || !j["root_seed"].is_string() ||
      !from_hex(j["root_seed"].get<std::string>(), seed.data(), seed.size()))
    return make_error(Errc::invalid_field, path + ": expected {\"root_seed\": 64 hex digits}");
  return seed;
}

Result<SignedRecord> make_root_record(const SecretSeed& root_seed, const std::string& network_id,
                                      uint64_t prev_seq, const Hash& prev_hash, RecordBody body,
                                      int64_t now_ms) {
  Record r;
  r.header.network_id = network_id;
  r.header.origin = OriginId(root_origin);
  r.header.seq = Seq(prev_seq + 1);
  r.header.prev_hash = prev_hash;
  r.header.hlc = Hlc::make(now_ms, 0);
  r.body = std::move(body);
  RETURN_IF_ERROR(validate_record(r));
  // Every record fits limits::record_encoded_bytes_max; a genesis of many sites with long ids and
  // endpoints may not.
  if (const size_t bytes = encode_record(r).size(); bytes > limits::record_encoded_bytes_max)
    return make_error(Errc::limit_exceeded,
                      "the record would be " + std::to_string(bytes) + " bytes encoded, over the " +
                          std::to_string(limits::record_encoded_bytes_max) +
                          " a record may have: fewer sites in it (certify the others after), or "
                          "shorter site ids and endpoints");
  return seal(r, SigningKey::from_seed(root_seed));
}

Result<SignedRecord> make_genesis(const SecretSeed& root_seed, const std::string& network_id,
                                  std::vector<SiteEntry> sites, int64_t now_ms) {
  Genesis g;
  g.network_id = network_id;
  g.root_key = SigningKey::from_seed(root_seed).public_key();
  g.sites = std::move(sites);
  return make_root_record(root_seed, network_id, 0, zero_hash, std::move(g), now_ms);
}

Status write_genesis(const std::string& path, const SignedRecord& genesis) {
  ASSIGN_OR_RETURN(Record r, decode_record(genesis.encoded));
  const auto* g = std::get_if<Genesis>(&r.body);
  if (g == nullptr) return make_error(Errc::invalid_field, "not a genesis record");
  json j{{"network_id", g->network_id},
         {"record", signed_json(genesis)},
         {"root_key", to_hex(g->root_key)},
         {"sites", json_visit::to_json(g->sites)}};
  return write_file_atomic(path, j.dump(2) + "\n", 0644);
}

Result<SignedRecord> read_genesis(const std::string& path) {
  ASSIGN_OR_RETURN(json j, read_json(path));
  if (!j.contains("record")) return make_error(Errc::invalid_field, path + ": no \"record\"");
  return signed_from(j["record"]);
}

std::string signed_record_json(const SignedRecord& sr) { return signed_json(sr).dump(); }

Result<SignedRecord> signed_record_from_json(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error(Errc::invalid_field, "not JSON", "record");
  return signed_from(j);
}

}  // namespace umupaka

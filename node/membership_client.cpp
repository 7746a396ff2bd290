#include "node/membership_client.hpp"

#include <nlohmann/json.hpp>

#include "node/network_setup.hpp"

namespace umupaka {

Result<std::string> submit_root_record(HttpClient& node, const SecretSeed& root_seed,
                                       RecordBody body, int64_t now_ms) {
  using json = nlohmann::json;
  const auto r = node.get("/v1/membership");
  if (r.status != 200)
    return make_error(Errc::unavailable,
                      "GET /v1/membership: " + std::to_string(r.status) + " " + r.error + r.body);
  const json m = json::parse(r.body, nullptr, false);
  if (!m.is_object() || !m.value("joined", false))
    return make_error(Errc::conflict, "the node has not joined a network");
  Hash head{};
  if (!m["root_head"].is_string() || !m["root_seq"].is_number_unsigned() ||
      !m["network_id"].is_string() ||
      !from_hex(m["root_head"].get<std::string>(), head.data(), head.size()))
    return make_error(Errc::invalid_field, "bad membership from the node", "root_head");
  ASSIGN_OR_RETURN(SignedRecord sr,
                   make_root_record(root_seed, m["network_id"].get<std::string>(),
                                    m["root_seq"].get<uint64_t>(), head, std::move(body), now_ms));
  const auto p = node.post("/v1/membership", signed_record_json(sr));
  if (p.status != 201)
    return make_error(Errc::conflict,
                      "refused: " + std::to_string(p.status) + " " + p.error + p.body);
  return p.body;
}

}  // namespace umupaka

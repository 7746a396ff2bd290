#include "node/queries.hpp"

#include <botan/base64.h>

#include <algorithm>
#include <queue>
#include <set>
#include <utility>
#include <vector>

#include "ledger/checks.hpp"
#include "ledger/codec.hpp"
#include "ledger/limits.hpp"
#include "node/json_visit.hpp"
#include "node/ledger_apply.hpp"

namespace umupaka {

using json = nlohmann::json;

namespace {

std::string base64(std::string_view bytes) {
  return Botan::base64_encode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

// The `max` most recent records (by HLC) indexed under `key`, and whether there were more. The
// index lists them by (origin, seq), and within one feed seq order is clock order, so the newest
// come off the ends of each origin's run: a merge from the ends reads only the records it keeps.
std::pair<std::vector<RecordRef>, bool> newest_records(const StoreTxn& txn, const std::string& key,
                                                       size_t max) {
  std::vector<RecordRef> all = txn.traveller_records(key, limits::traveller_index_scan_max);
  if (all.size() <= max) return {std::move(all), false};
  auto hlc_of = [&](const RecordRef& r) -> uint64_t {
    const auto sr = txn.record(r.origin, r.seq);
    if (!sr) return 0;
    const auto rec = decode_record(sr->encoded);
    return rec.ok() ? rec->header.hlc.value : 0;
  };
  std::vector<std::pair<size_t, size_t>> runs;  // [begin, end) of each origin's run in `all`
  for (size_t i = 0; i < all.size(); ++i)
    if (i == 0 || all[i].origin != all[i - 1].origin)
      runs.emplace_back(i, i + 1);
    else
      runs.back().second = i + 1;
  std::priority_queue<std::pair<uint64_t, size_t>> newest;  // (clock of a run's last, run)
  for (size_t r = 0; r < runs.size(); ++r) newest.emplace(hlc_of(all[runs[r].second - 1]), r);
  std::vector<RecordRef> out;
  while (out.size() < max && !newest.empty()) {
    const size_t r = newest.top().second;
    newest.pop();
    auto& [begin, end] = runs[r];
    out.push_back(std::move(all[--end]));
    if (end > begin) newest.emplace(hlc_of(all[end - 1]), r);
  }
  return {std::move(out), true};
}

}  // namespace

Result<json> record_json(const StoreTxn& txn, std::string_view origin, uint64_t seq, bool full,
                         const NodeIdentity& self, const PublicKey& self_key,
                         const RecordStateFn& state, const Hash* version) {
  auto sr = version ? txn.version(origin, seq, *version) : txn.record(origin, seq);
  // Not in the feed but in the ledger (kept beside the feed: a fork's committed branch, a record
  // past a revocation cut-off that the ledger took): the committed version.
  if (!sr && !version)
    if (const auto pos = txn.position_of(origin, seq))
      if (const auto at = txn.at_position(*pos)) sr = txn.version(origin, seq, at->hash);
  if (!sr) return json(nullptr);
  auto rec = decode_record(sr->encoded);
  if (!rec.ok())
    return make_error(Errc::storage, "the stored record " + std::string(origin) + "/" +
                                         std::to_string(seq) +
                                         " does not decode: " + rec.error().message);
  const Record& r = rec.value();
  json j{{"origin", r.header.origin.value},
         {"seq", r.header.seq.value},
         {"type", record_type_name(type_of(r.body))},
         {"state", state(origin, seq)},
         {"position", nullptr},
         {"time", format_iso_instant_ms(r.header.hlc.physical_ms())},
         {"hash", to_hex(sr->hash)}};
  if (const auto pos = txn.position_of(origin, seq)) {
    const auto at = txn.at_position(*pos);
    if (at && at->hash == sr->hash) {
      j["state"] = "committed";
      j["position"] = *pos;
      // Past its site's revocation cut-off and ordered after the revocation: evidence only.
      if (void_in_ledger(txn, origin, seq, *pos)) j["void"] = true;
    } else if (at) {
      j["state"] = "forked";
      j["committed_hash"] = to_hex(at->hash);
    }
  }
  j["body"] = std::visit([](const auto& b) { return json_visit::to_json(b); }, r.body);
  if (full) {
    j["network_id"] = r.header.network_id;
    j["hlc"] = r.header.hlc.value;
    j["prev_hash"] = to_hex(r.header.prev_hash);
    j["signature"] = to_hex(sr->signature);
    j["encoded"] = base64(sr->encoded);
    if (r.header.origin.value == self.site) j["origin_public_key"] = to_hex(self_key);
  }
  return j;
}

Result<json> traveller_picture(const StoreTxn& txn, const NodeIdentity& self,
                               const std::string& country, const std::string& number, Date today,
                               const RecordStateFn& state) {
  const auto doc = txn.document(country, number);
  std::vector<std::string> keys{document_key(country, number)};
  if (doc && doc->national_id) keys.push_back(national_id_key(*doc->national_id));

  std::set<RecordRef> refs;
  bool truncated = false;
  std::vector<std::pair<uint64_t, json>> crossings, documents, permit_changes, other;
  std::optional<Crossing> latest;
  uint64_t latest_hlc = 0;
  std::set<std::string> permit_ids, alert_ids;
  // The indexes are written with the records and views they name, in one transaction: an entry
  // whose record or view is not there (or does not decode) is the store's fault, answered 500
  // `storage`, never a shorter picture.
  std::optional<std::string> fault;
  // The newest records under `key` not yet taken, sorted into the lists.
  auto take = [&](const std::string& key) {
    auto [found, more] = newest_records(txn, key, limits::traveller_records_max);
    truncated |= more;
    for (auto& ref : found) {
      if (!refs.insert(ref).second) continue;
      const auto sr = txn.record(ref.origin, ref.seq);
      auto rec =
          sr ? decode_record(sr->encoded) : Result<Record>(make_error(Errc::storage, "missing"));
      if (!rec.ok()) {
        if (!fault)
          fault = "the traveller index names " + ref.origin + "/" + std::to_string(ref.seq) +
                  (sr ? ", which does not decode: " + rec.error().message : ", which is not held");
        continue;
      }
      auto listed = record_json(txn, ref.origin, ref.seq, false, self, PublicKey{}, state);
      if (!listed.ok()) {
        if (!fault) fault = listed.error().message;
        continue;
      }
      json item = std::move(listed).value();
      const uint64_t hlc = rec->header.hlc.value;
      if (const auto* c = std::get_if<Crossing>(&rec->body)) {
        if (hlc >= latest_hlc) {
          latest = *c;
          latest_hlc = hlc;
        }
        crossings.emplace_back(hlc, std::move(item));
      } else if (const auto* p = std::get_if<Permit>(&rec->body)) {
        permit_ids.insert(p->permit_id);
      } else if (std::holds_alternative<PermitStatusChange>(rec->body)) {
        permit_changes.emplace_back(hlc, std::move(item));  // every one (the view keeps the last)
      } else if (std::holds_alternative<TravelDocumentIssued>(rec->body) ||
                 std::holds_alternative<DocumentStatusChange>(rec->body)) {
        documents.emplace_back(hlc, std::move(item));
      } else {
        other.emplace_back(hlc, std::move(item));
      }
    }
  };
  for (const auto& k : keys) take(k);
  // Learn a national ID from the crossings themselves (a card crossing carries one), and take
  // the records it links too (the views index every crossing under it, and presence is kept
  // by it): one link, not a chain of them.
  std::optional<std::string> nid = doc ? doc->national_id : std::nullopt;
  if (!nid && latest && latest->national_id) nid = latest->national_id;
  if (nid && std::find(keys.begin(), keys.end(), national_id_key(*nid)) == keys.end()) {
    keys.push_back(national_id_key(*nid));
    take(keys.back());
  }
  for (const auto& k : keys) {
    for (auto& id : txn.permits_of(k)) permit_ids.insert(id);
    for (auto& id : txn.alerts_of(k)) alert_ids.insert(id);
  }
  auto by_time = [](auto& v) {
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    json out = json::array();
    for (auto& [t, j] : v) out.push_back(std::move(j));
    return out;
  };
  json j;
  j["document"] = {{"country", country},
                   {"number", number},
                   {"kind", doc && doc->kind ? json(enum_name(*doc->kind)) : json(nullptr)},
                   {"status", doc && doc->status ? json(enum_name(*doc->status)) : json(nullptr)},
                   {"expiry", doc ? json_visit::to_json(doc->expiry) : json(nullptr)},
                   {"national_id", nid ? json(*nid) : json(nullptr)}};
  j["traveller"] = latest ? json_visit::to_json(latest->traveller) : json(nullptr);
  j["crossings"] = by_time(crossings);
  j["documents"] = by_time(documents);
  json permits = json::array();
  for (const auto& id : permit_ids) {
    if (auto pv = txn.permit(id))
      permits.push_back(json_visit::to_json(*pv));
    else if (!fault)
      fault = "the permit index names " + id + ", which has no view";
  }
  j["permits"] = std::move(permits);
  j["permit_changes"] = by_time(permit_changes);
  json alerts = json::array();
  for (const auto& id : alert_ids) {
    if (auto av = txn.alert(id))
      alerts.push_back(json_visit::to_json(*av));
    else if (!fault)
      fault = "the alert index names " + id + ", which has no view";
  }
  if (fault) return make_error(Errc::storage, *fault);
  j["alerts"] = std::move(alerts);

  DocumentRef dref{doc && doc->kind ? *doc->kind : DocumentKind::passport, country, number,
                   doc ? doc->expiry : std::nullopt};
  const std::string pkey = presence_key(txn, dref, nid);
  const auto presence = txn.presence(pkey);
  j["presence"] = presence ? json_visit::to_json(*presence) : json(nullptr);
  // Overstay as of today: the checks an exit would get now.
  j["overstay"] = nullptr;
  if (presence && presence->inside && latest) {
    CheckRequest exit;
    exit.direction = Direction::exit;
    exit.post = self.site;
    exit.traveller = latest->traveller;
    exit.document = dref;
    exit.national_id = nid;
    exit.today = today;
    const CheckResult cr = run_checks(exit, txn);
    j["overstay"] = {{"allowed_until", json_visit::to_json(cr.allowed_until)},
                     {"days", cr.overstay_days},
                     {"as_of", format_iso_date(exit.today)}};
  }
  j["records_truncated"] = truncated;
  return j;
}

}  // namespace umupaka

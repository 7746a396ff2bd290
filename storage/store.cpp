#include "storage/store.hpp"

#include <cstring>

#include "ledger/assert.hpp"
#include "ledger/limits.hpp"
#include "ledger/msgpack_visit.hpp"

namespace umupaka {
namespace {

using msgpack_visit::decode_struct;
using msgpack_visit::encode_struct;

void append_u64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void append_u32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t read_u32(std::string_view s) {
  UMUPAKA_ASSERT(s.size() >= 4);
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}

uint64_t read_u64(std::string_view s) {
  UMUPAKA_ASSERT(s.size() >= 8);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}

std::string feed_key(std::string_view origin, uint64_t seq) {
  std::string k(origin);
  k.push_back('\0');
  append_u64(k, seq);
  return k;
}

std::string pair_key(std::string_view a, std::string_view b) {
  std::string k(a);
  k.push_back('\0');
  k.append(b);
  return k;
}

std::string prefix_of(std::string_view a) {
  std::string k(a);
  k.push_back('\0');
  return k;
}

std::string date_key(Date d) {
  // Bias to unsigned so that key order is date order.
  const uint32_t biased = static_cast<uint32_t>(d.days) ^ 0x80000000u;
  std::string k;
  for (int i = 3; i >= 0; --i) k.push_back(static_cast<char>((biased >> (8 * i)) & 0xff));
  return k;
}

template <typename T>
std::optional<T> decode_view(std::optional<std::string_view> v) {
  if (!v) return std::nullopt;
  // Up to gossip_array_items_max items: a permit's view of an older build kept every status
  // change (more than a record's 64 items), and still reads (the next change trims it).
  auto decoded = decode_struct<T>(
      *v, msgpack::unpack_limit(limits::gossip_array_items_max, limits::msgpack_map_pairs_max,
                                limits::msgpack_str_bytes_max, limits::msgpack_bin_bytes_max, 0,
                                limits::msgpack_depth_max));
  // Our own tables hold only what we wrote: a decode failure is corruption, not input.
  UMUPAKA_ASSERT_MSG(decoded.ok(), "corrupt view entry");
  return std::move(decoded).value();
}

}  // namespace

std::string encode_stored_record(const SignedRecord& sr) {
  std::string out;
  out.reserve(sr.signature.size() + sr.hash.size() + sr.encoded.size());
  out.append(reinterpret_cast<const char*>(sr.signature.data()), sr.signature.size());
  out.append(reinterpret_cast<const char*>(sr.hash.data()), sr.hash.size());
  out.append(sr.encoded);
  return out;
}

std::optional<SignedRecord> decode_stored_record(std::string_view b) {
  SignedRecord sr;
  if (b.size() < sr.signature.size() + sr.hash.size()) return std::nullopt;
  std::memcpy(sr.signature.data(), b.data(), sr.signature.size());
  std::memcpy(sr.hash.data(), b.data() + sr.signature.size(), sr.hash.size());
  sr.encoded.assign(b.substr(sr.signature.size() + sr.hash.size()));
  return sr;
}

void StoreTxn::note(Status s) const {
  if (!s.ok() && !write_error_) write_error_ = s.error();
}

// Reads go through here. Once a write of this transaction failed (a full map, say), LMDB refuses
// everything else in it (MDB_BAD_TXN): reads then find nothing, and Store::write, seeing the
// remembered error, aborts the transaction and retries after growing the map.
std::optional<std::string_view> StoreTxn::get(MDB_dbi dbi, std::string_view key) const {
  if (write_error_) return std::nullopt;
  auto v = txn_.get(dbi, key);
  if (!v.ok()) {
    note(v.error());
    return std::nullopt;
  }
  return v.value();
}

std::vector<std::string> StoreTxn::suffixes(MDB_dbi dbi, std::string_view prefix,
                                            size_t limit) const {
  std::vector<std::string> out;
  if (write_error_) return out;
  const std::string p = prefix_of(prefix);
  note(txn_.scan_prefix(dbi, p, limit, [&](std::string_view k, std::string_view) {
    out.emplace_back(k.substr(p.size()));
    return true;
  }));
  return out;
}

std::optional<FeedHead> StoreTxn::head(std::string_view origin) const {
  const auto v = get(t_.heads, origin);
  if (!v) return std::nullopt;
  const std::string_view b = *v;
  UMUPAKA_ASSERT(b.size() == 8 + 32);
  FeedHead h;
  h.seq = read_u64(b);
  std::memcpy(h.hash.data(), b.data() + 8, 32);
  return h;
}

std::vector<std::pair<std::string, FeedHead>> StoreTxn::heads() const {
  std::vector<std::pair<std::string, FeedHead>> out;
  if (write_error_) return out;
  auto s = txn_.scan_from(t_.heads, "", [&](std::string_view k, std::string_view b) {
    UMUPAKA_ASSERT(b.size() == 8 + 32);
    FeedHead h;
    h.seq = read_u64(b);
    std::memcpy(h.hash.data(), b.data() + 8, 32);
    out.emplace_back(std::string(k), h);
    return true;
  });
  note(s);
  return out;
}

std::optional<SignedRecord> StoreTxn::record(std::string_view origin, uint64_t seq) const {
  const auto v = get(t_.feeds, feed_key(origin, seq));
  if (!v) return std::nullopt;
  auto sr = decode_stored_record(*v);
  UMUPAKA_ASSERT_MSG(sr.has_value(), "corrupt feed entry");
  return sr;
}

Status StoreTxn::append(const SignedRecord& sr, const RecordHeader& header) {
  const auto h = head(header.origin.value);
  const uint64_t head_seq = h ? h->seq : 0;
  const Hash head_hash = h ? h->hash : zero_hash;
  if (header.seq.value != head_seq + 1 || header.prev_hash != head_hash)
    return make_error(Errc::chain_broken, "record does not continue the feed of " +
                                              header.origin.value + " at seq " +
                                              std::to_string(head_seq));
  Status s = txn_.insert(t_.feeds, feed_key(header.origin.value, header.seq.value),
                         encode_stored_record(sr));
  if (s.ok()) {
    std::string hv;
    append_u64(hv, header.seq.value);
    hv.append(reinterpret_cast<const char*>(sr.hash.data()), sr.hash.size());
    s = txn_.put(t_.heads, header.origin.value, hv);
  }
  // A storage failure poisons the transaction: remembered so that Store::write grows and retries
  // even if the caller keeps the error as one item's result.
  if (!s.ok() && s.error().code != Errc::conflict) note(s);
  return s;
}

std::vector<RecordRef> StoreTxn::traveller_records(std::string_view person_key,
                                                   size_t limit) const {
  std::vector<RecordRef> out;
  if (write_error_) return out;
  const std::string p = prefix_of(person_key);
  auto s =
      txn_.scan_prefix(t_.traveller_index, p, limit, [&](std::string_view k, std::string_view) {
        const std::string_view rest = k.substr(p.size());
        const size_t z = rest.find('\0');
        UMUPAKA_ASSERT(z != std::string_view::npos && rest.size() == z + 1 + 8);
        out.push_back(RecordRef{std::string(rest.substr(0, z)), read_u64(rest.substr(z + 1))});
        return true;
      });
  note(s);
  return out;
}

void StoreTxn::put_evidence(std::string_view origin, uint64_t seq, const SignedRecord& a,
                            const SignedRecord& b) {
  const std::string sa = encode_stored_record(a), sb = encode_stored_record(b);
  std::string v;
  for (int i = 3; i >= 0; --i) v.push_back(static_cast<char>((sa.size() >> (8 * i)) & 0xff));
  v += sa;
  v += sb;
  note(txn_.put(t_.evidence, feed_key(origin, seq), v));
}

namespace {
StoreTxn::EvidenceEntry decode_evidence(std::string_view k, std::string_view v) {
  const size_t z = k.find('\0');
  UMUPAKA_ASSERT(z != std::string_view::npos && k.size() == z + 1 + 8 && v.size() >= 4);
  uint32_t la = 0;
  for (int i = 0; i < 4; ++i) la = (la << 8) | static_cast<uint8_t>(v[i]);
  UMUPAKA_ASSERT(v.size() >= 4 + la);
  auto a = decode_stored_record(v.substr(4, la));
  auto b = decode_stored_record(v.substr(4 + la));
  UMUPAKA_ASSERT(a && b);
  return StoreTxn::EvidenceEntry{std::string(k.substr(0, z)), read_u64(k.substr(z + 1)), *a, *b};
}
}  // namespace

std::vector<StoreTxn::EvidenceEntry> StoreTxn::evidence() const {
  std::vector<EvidenceEntry> out;
  if (write_error_) return out;
  auto s = txn_.scan_from(t_.evidence, "", [&](std::string_view k, std::string_view v) {
    out.push_back(decode_evidence(k, v));
    return true;
  });
  note(s);
  return out;
}

std::optional<StoreTxn::EvidenceEntry> StoreTxn::evidence_at(std::string_view origin,
                                                             uint64_t seq) const {
  const std::string k = feed_key(origin, seq);
  const auto v = get(t_.evidence, k);
  if (!v) return std::nullopt;
  return decode_evidence(k, *v);
}

bool StoreTxn::has_evidence(std::string_view origin) const {
  bool found = false;
  std::string prefix(origin);
  prefix.push_back('\0');
  note(txn_.scan_prefix(t_.evidence, prefix, 1, [&](std::string_view, std::string_view) {
    found = true;
    return false;
  }));
  return found;
}

void StoreTxn::put_version(std::string_view origin, uint64_t seq, const SignedRecord& sr) {
  std::string k = feed_key(origin, seq);
  k.append(reinterpret_cast<const char*>(sr.hash.data()), sr.hash.size());
  note(txn_.put(t_.versions, k, encode_stored_record(sr)));
}

std::optional<SignedRecord> StoreTxn::version(std::string_view origin, uint64_t seq,
                                              const Hash& hash) const {
  if (auto sr = record(origin, seq); sr && sr->hash == hash) return sr;
  if (auto e = evidence_at(origin, seq)) {
    if (e->a.hash == hash) return std::move(e->a);
    if (e->b.hash == hash) return std::move(e->b);
  }
  std::string k = feed_key(origin, seq);
  k.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  const auto v = get(t_.versions, k);
  if (!v) return std::nullopt;
  auto sr = decode_stored_record(*v);
  UMUPAKA_ASSERT_MSG(sr.has_value(), "a stored version does not decode");
  return sr;
}

std::vector<SignedRecord> StoreTxn::versions() const {
  std::vector<SignedRecord> out;
  if (write_error_) return out;
  note(txn_.scan_from(t_.versions, "", [&](std::string_view, std::string_view v) {
    auto sr = decode_stored_record(v);
    UMUPAKA_ASSERT_MSG(sr.has_value(), "a stored version does not decode");
    out.push_back(std::move(*sr));
    return true;
  }));
  return out;
}

namespace {
std::string u64_key(uint64_t v) {
  std::string k;
  append_u64(k, v);
  return k;
}
}  // namespace

void StoreTxn::put_raft_entry(uint64_t index, std::string_view bytes) {
  note(txn_.put(t_.raft_log, u64_key(index), bytes));
}

void StoreTxn::truncate_raft_log(uint64_t from) {
  std::vector<std::string> doomed;
  note(txn_.scan_from(t_.raft_log, u64_key(from), [&](std::string_view k, std::string_view) {
    doomed.emplace_back(k);
    return true;
  }));
  for (const auto& k : doomed) note(txn_.del(t_.raft_log, k));
}

void StoreTxn::compact_raft_log(uint64_t through) {
  std::vector<std::string> doomed;
  note(txn_.scan_from(t_.raft_log, u64_key(0), [&](std::string_view k, std::string_view) {
    if (read_u64(k) > through) return false;
    doomed.emplace_back(k);
    return true;
  }));
  for (const auto& k : doomed) note(txn_.del(t_.raft_log, k));
}

std::vector<std::pair<uint64_t, std::string>> StoreTxn::raft_entries(uint64_t from) const {
  std::vector<std::pair<uint64_t, std::string>> out;
  if (write_error_) return out;
  note(txn_.scan_from(t_.raft_log, u64_key(from), [&](std::string_view k, std::string_view v) {
    out.emplace_back(read_u64(k), std::string(v));
    return true;
  }));
  return out;
}

std::optional<uint64_t> StoreTxn::position_of(std::string_view origin, uint64_t seq) const {
  const auto v = get(t_.positions, feed_key(origin, seq));
  if (!v) return std::nullopt;
  return read_u64(*v);
}

std::optional<StoreTxn::Positioned> StoreTxn::at_position(uint64_t position) const {
  const auto v = get(t_.ledger_order, u64_key(position));
  if (!v) return std::nullopt;
  const size_t z = v->find('\0');
  Positioned out;
  const size_t base = z + 1 + 8 + out.hash.size();
  UMUPAKA_ASSERT(z != std::string_view::npos && (v->size() == base || v->size() == base + 8));
  out.origin = std::string(v->substr(0, z));
  out.seq = read_u64(v->substr(z + 1));
  std::memcpy(out.hash.data(), v->data() + z + 1 + 8, out.hash.size());
  if (v->size() == base + 8) out.cluster_time_ms = read_u64(v->substr(base));
  return out;
}

void StoreTxn::put_position(uint64_t position, std::string_view origin, uint64_t seq,
                            const Hash& hash, uint64_t cluster_time_ms) {
  std::string value = feed_key(origin, seq);
  value.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  append_u64(value, cluster_time_ms);
  note(txn_.insert(t_.ledger_order, u64_key(position), value));
  note(txn_.insert(t_.positions, feed_key(origin, seq), u64_key(position)));
}

std::optional<Hash> StoreTxn::merkle_node(uint32_t level, uint64_t index) const {
  std::string k;
  for (int i = 3; i >= 0; --i) k.push_back(static_cast<char>((level >> (8 * i)) & 0xff));
  append_u64(k, index);
  const auto v = get(t_.merkle, k);
  if (!v || v->size() != 32) return std::nullopt;
  Hash h{};
  std::memcpy(h.data(), v->data(), 32);
  return h;
}

void StoreTxn::put_merkle_node(uint32_t level, uint64_t index, const Hash& hash) {
  std::string k;
  for (int i = 3; i >= 0; --i) k.push_back(static_cast<char>((level >> (8 * i)) & 0xff));
  append_u64(k, index);
  note(txn_.put(t_.merkle, k,
                std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size())));
}

void StoreTxn::put_conflict(uint64_t position, uint32_t n, std::string_view bytes) {
  std::string k = u64_key(position);
  for (int i = 3; i >= 0; --i) k.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  note(txn_.put(t_.conflicts, k, bytes));
}

std::vector<std::string> StoreTxn::conflicts_from(uint64_t first, size_t limit) const {
  std::vector<std::string> out;
  if (write_error_ || limit == 0) return out;
  note(txn_.scan_from(t_.conflicts, u64_key(first), [&](std::string_view, std::string_view v) {
    out.emplace_back(v);
    return out.size() < limit;
  }));
  return out;
}

// idempotency: seq:u64 fingerprint(32) created_ms:u64 overstay_days:u32 has_until:u8 until:u32
std::optional<IdempotencyEntry> StoreTxn::idempotency(std::string_view subject,
                                                      std::string_view key) const {
  const auto v = get(t_.idempotency, pair_key(subject, key));
  if (!v) return std::nullopt;
  IdempotencyEntry e;
  // Our own table holds only what we wrote: another size is corruption, not input.
  UMUPAKA_ASSERT_MSG(v->size() == 8 + e.fingerprint.size() + 8 + 4 + 1 + 4,
                     "corrupt idempotency entry");
  std::string_view b = *v;
  e.seq = read_u64(b);
  std::memcpy(e.fingerprint.data(), b.data() + 8, e.fingerprint.size());
  b.remove_prefix(8 + e.fingerprint.size());
  e.created_ms = static_cast<int64_t>(read_u64(b));
  e.overstay_days = static_cast<int32_t>(read_u32(b.substr(8)));
  if (b[12] != 0) e.allowed_until = Date{static_cast<int32_t>(read_u32(b.substr(13)))};
  return e;
}

void StoreTxn::put_idempotency(std::string_view subject, std::string_view key,
                               const IdempotencyEntry& e) {
  std::string v;
  append_u64(v, e.seq);
  v.append(reinterpret_cast<const char*>(e.fingerprint.data()), e.fingerprint.size());
  append_u64(v, static_cast<uint64_t>(e.created_ms));
  append_u32(v, static_cast<uint32_t>(e.overstay_days));
  v.push_back(e.allowed_until ? 1 : 0);
  append_u32(v, static_cast<uint32_t>(e.allowed_until ? e.allowed_until->days : 0));
  const std::string k = pair_key(subject, key);
  if (const auto old = idempotency(subject, key)) {
    std::string age;
    append_u64(age, static_cast<uint64_t>(old->created_ms));
    note(txn_.del(t_.idempotency_age, age + k));
  }
  note(txn_.put(t_.idempotency, k, v));
  std::string age;
  append_u64(age, static_cast<uint64_t>(e.created_ms));
  note(txn_.put(t_.idempotency_age, age + k, ""));
}

size_t StoreTxn::expire_idempotency(int64_t before_ms, size_t max) {
  if (write_error_ || before_ms <= 0) return 0;
  std::vector<std::string> expired;
  note(txn_.scan_from(t_.idempotency_age, "", [&](std::string_view k, std::string_view) {
    if (expired.size() >= max || k.size() < 8 || read_u64(k) >= static_cast<uint64_t>(before_ms))
      return false;
    expired.emplace_back(k);
    return true;
  }));
  for (const std::string& k : expired) {
    note(txn_.del(t_.idempotency_age, k));
    note(txn_.del(t_.idempotency, std::string_view(k).substr(8)));
  }
  return expired.size();
}

std::optional<std::string> StoreTxn::ledger_state(std::string_view key) const {
  const auto v = get(t_.ledger_state, key);
  if (!v) return std::nullopt;
  return std::string(*v);
}

void StoreTxn::put_ledger_state(std::string_view key, std::string_view value) {
  note(txn_.put(t_.ledger_state, key, value));
}

std::optional<std::string> StoreTxn::meta(std::string_view name) const {
  const auto v = get(t_.meta, name);
  if (!v) return std::nullopt;
  return std::string(*v);
}

std::vector<std::pair<std::string, std::string>> StoreTxn::meta_with_prefix(
    std::string_view prefix) const {
  std::vector<std::pair<std::string, std::string>> out;
  if (write_error_) return out;
  auto s = txn_.scan_from(t_.meta, prefix, [&](std::string_view k, std::string_view v) {
    if (k.substr(0, prefix.size()) != prefix) return false;
    out.emplace_back(std::string(k), std::string(v));
    return true;
  });
  note(s);
  return out;
}

void StoreTxn::put_meta(std::string_view name, std::string_view value) {
  note(txn_.put(t_.meta, name, value));
}

size_t StoreTxn::count_of(MDB_dbi table) const {
  auto n = txn_.count(table);
  if (!n.ok()) note(n.error());
  return n.ok() ? n.value() : 0;
}

std::optional<DocumentView> StoreTxn::document(std::string_view country,
                                               std::string_view number) const {
  return decode_view<DocumentView>(get(t_.documents, pair_key(country, number)));
}
std::optional<PermitView> StoreTxn::permit(std::string_view permit_id) const {
  return decode_view<PermitView>(get(t_.permits, permit_id));
}
std::vector<std::string> StoreTxn::permits_of(std::string_view person_key) const {
  return suffixes(t_.permit_index, person_key, limits::permits_per_holder_max);
}
std::optional<AlertView> StoreTxn::alert(std::string_view alert_id) const {
  return decode_view<AlertView>(get(t_.alerts, alert_id));
}
std::vector<std::string> StoreTxn::alerts_of(std::string_view person_key) const {
  return suffixes(t_.alert_index, person_key, limits::alert_candidates_per_birth_date_max);
}
std::vector<std::string> StoreTxn::name_alerts_born(Date birth_date) const {
  return suffixes(t_.name_alerts, date_key(birth_date),
                  limits::alert_candidates_per_birth_date_max);
}
std::optional<PresenceView> StoreTxn::presence(std::string_view person_key) const {
  return decode_view<PresenceView>(get(t_.presence, person_key));
}

void StoreTxn::put_document(const DocumentView& v) {
  note(txn_.put(t_.documents, pair_key(v.country, v.number), encode_struct(v)));
}
void StoreTxn::put_permit(const PermitView& v) {
  note(txn_.put(t_.permits, v.permit.permit_id, encode_struct(v)));
}
void StoreTxn::index_permit(std::string_view person_key, std::string_view permit_id) {
  note(txn_.put(t_.permit_index, pair_key(person_key, permit_id), ""));
}
void StoreTxn::put_alert(const AlertView& v) {
  note(txn_.put(t_.alerts, v.alert.alert_id, encode_struct(v)));
}
void StoreTxn::index_alert(std::string_view person_key, std::string_view alert_id) {
  note(txn_.put(t_.alert_index, pair_key(person_key, alert_id), ""));
}
void StoreTxn::index_name_alert(Date birth_date, std::string_view alert_id) {
  note(txn_.put(t_.name_alerts, pair_key(date_key(birth_date), alert_id), ""));
}
void StoreTxn::put_presence(std::string_view person_key, const PresenceView& v) {
  note(txn_.put(t_.presence, person_key, encode_struct(v)));
}
void StoreTxn::index_traveller_record(std::string_view person_key, const RecordRef& ref) {
  std::string k = prefix_of(person_key);
  k.append(ref.origin);
  k.push_back('\0');
  append_u64(k, ref.seq);
  note(txn_.put(t_.traveller_index, k, ""));
}

Result<std::unique_ptr<Store>> Store::open(const std::string& dir,
                                           const lmdb::EnvOptions& options) {
  std::unique_ptr<Store> s(new Store());
  ASSIGN_OR_RETURN(s->env_, lmdb::Env::open(dir, options));
  struct Named {
    MDB_dbi* dbi;
    const char* name;
  };
  Tables& t = s->tables_;
  // meta first: a store of another format is refused before anything is created in it.
  const Named tables[] = {{&t.meta, "meta"},
                          {&t.feeds, "feeds"},
                          {&t.heads, "heads"},
                          {&t.documents, "documents"},
                          {&t.permits, "permits"},
                          {&t.permit_index, "permit_index"},
                          {&t.alerts, "alerts"},
                          {&t.alert_index, "alert_index"},
                          {&t.name_alerts, "name_alerts"},
                          {&t.presence, "presence"},
                          {&t.traveller_index, "traveller_index"},
                          {&t.evidence, "evidence"},
                          {&t.raft_log, "raft_log"},
                          {&t.ledger_order, "ledger_order"},
                          {&t.positions, "positions"},
                          {&t.merkle, "merkle"},
                          {&t.conflicts, "conflicts"},
                          {&t.ledger_state, "ledger_state"},
                          {&t.versions, "versions"},
                          {&t.idempotency, "idempotency"},
                          {&t.idempotency_age, "idempotency_age"}};
  for (const Named& n : tables) {
    // Opening a table writes only when it is new; a full disk at first start shows up here.
    for (;;) {
      const size_t seen = s->env_->map_bytes();
      auto dbi = s->env_->open_table(n.name);
      if (dbi.ok()) {
        *n.dbi = dbi.value();
        break;
      }
      if (dbi.error().code != Errc::map_full || !s->env_->grow(seen).ok()) return dbi.error();
    }
    if (n.dbi == &t.meta) RETURN_IF_ERROR(s->check_format(dir, /*before_tables=*/true));
  }
  RETURN_IF_ERROR(s->check_format(dir, /*before_tables=*/false));
  return s;
}

Status Store::check_format(const std::string& dir, bool before_tables) {
  static constexpr std::string_view key = "store.format";
  bool fresh = false;
  {
    if (before_tables) {  // only meta is open: a format recorded must be this build's
      ASSIGN_OR_RETURN(lmdb::Txn txn, env_->begin_read());
      ASSIGN_OR_RETURN(const auto f, txn.get(tables_.meta, key));
      if (!f || *f == std::to_string(store_format)) return {};
      return make_error(Errc::conflict, "the store in " + dir + " is of format " + std::string(*f) +
                                            "; this build reads format " +
                                            std::to_string(store_format) +
                                            " only (docs/operations.md, \"Store format\")");
    }
    ASSIGN_OR_RETURN(auto txn, read());
    if (txn->meta(key)) return {};  // this build's (checked before the tables were opened)
    if (txn->write_error()) return *txn->write_error();
    ASSIGN_OR_RETURN(const size_t metas, txn->txn().count(tables_.meta));
    ASSIGN_OR_RETURN(const size_t heads, txn->txn().count(tables_.heads));
    ASSIGN_OR_RETURN(const size_t log, txn->txn().count(tables_.raft_log));
    fresh = metas == 0 && heads == 0 && log == 0;
  }
  if (!fresh)
    return make_error(Errc::conflict,
                      "the store in " + dir +
                          " was written by a build that recorded no store format; this build "
                          "reads format " +
                          std::to_string(store_format) +
                          " only (docs/operations.md, \"Store format\")");
  return write([&](StoreTxn& txn) -> Status {
    txn.put_meta(key, std::to_string(store_format));
    return {};
  });
}

Result<std::unique_ptr<StoreTxn>> Store::read() const {
  ASSIGN_OR_RETURN(lmdb::Txn txn, env_->begin_read());
  if (const uint64_t after = read_failure_after_.load(std::memory_order_relaxed);
      after != UINT64_MAX)
    txn.fail_reads_after(after, &injected_read_failures_);
  return std::make_unique<StoreTxn>(std::move(txn), tables_);
}

Status Store::write(const std::function<Status(StoreTxn&)>& fn) {
  for (;;) {
    Status outcome;
    bool commit_failed = false;
    size_t seen = 0;  // the map's size while this transaction runs (no growth meanwhile)
    {
      ASSIGN_OR_RETURN(lmdb::Txn raw, env_->begin_write());
      seen = env_->map_bytes();
      StoreTxn txn(std::move(raw), tables_);
      outcome = fn(txn);
      // A storage error is the root cause of whatever fn made of it (a read that found nothing
      // in a poisoned transaction, say): it decides the outcome.
      if (txn.write_error()) outcome = *txn.write_error();
      if (outcome.ok() && injected_) outcome = *injected_;
      if (outcome.ok()) {
        outcome = txn.txn().commit();
        commit_failed = !outcome.ok();
      }
      // txn aborts on scope exit if not committed
    }
    if (outcome.ok()) return outcome;
    // A failed commit may have left LMDB's fatal state (a meta page's write failed): a transaction
    // begun now says so, and the fatal hook runs, rather than at the next one, which an idle node
    // may not begin for a while. (Only a commit writes a meta page.)
    if (commit_failed && outcome.error().code != Errc::map_full && !env_->fatal())
      (void)env_->begin_read();
    // A full map (from a put or the commit) grows and retries; a full disk (ENOSPC) gives up with
    // nothing written.
    if (outcome.error().code == Errc::map_full) {
      RETURN_IF_ERROR(env_->grow(seen));
      continue;
    }
    return outcome;
  }
}

}  // namespace umupaka

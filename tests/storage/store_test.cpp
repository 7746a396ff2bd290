// The LMDB store (store.hpp): feeds with chain checks, all-or-nothing writes, views' tables,
// prefix scans, map growth, and durability across SIGKILL of a writer process.
//
// Every test works in its own directory made by mkdtemp under /tmp and removed at the end.
#include "storage/store.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ledger/assert.hpp"
#include "ledger/codec.hpp"
#include "ledger/crypto.hpp"
#include "ledger/record.hpp"
#include "ledger/views.hpp"
#include "node/store_feeds.hpp"
#include "tests/ledger/memory_views.hpp"
#include "tests/seeds.hpp"

namespace umupaka {
namespace {

using test::dump_view;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/umupaka-store-test-XXXXXX";
    const char* p = ::mkdtemp(tmpl.data());
    UMUPAKA_ASSERT_MSG(p != nullptr, "mkdtemp failed");
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Date day(const char* iso) {
  const std::optional<Date> d = parse_iso_date(iso);
  UMUPAKA_ASSERT(d.has_value());
  return *d;
}

struct Sealed {
  SignedRecord sr;
  RecordHeader header;
};

// One origin's feed: seals records that continue it, with a key from a fixed seed.
class Feed {
 public:
  Feed(std::string origin, uint8_t key_seed)
      : origin_(std::move(origin)), key_(SigningKey::from_seed(test::counting_seed(key_seed))) {}

  // The record at `seq` linking to `prev`; `variant` makes a different record at the same place.
  Sealed make(uint64_t seq, const Hash& prev, int variant = 0) const {
    Crossing c;
    c.direction = seq % 2 == 0 ? Direction::exit : Direction::entry;
    c.post = origin_;
    c.mode = TravelMode::pedestrian;
    c.traveller = Person{"UWASE", "AIMEE", "RWA", day("1992-02-14"), Sex::female};
    c.document = DocumentRef{DocumentKind::border_pass, "RWA", "BP" + std::to_string(seq % 977),
                             day("2030-06-30")};
    c.officer = "officer-1";
    c.note = variant == 0 ? "" : "variant " + std::to_string(variant);
    Record r;
    r.header.network_id = "rw-border";
    r.header.origin = OriginId(origin_);
    r.header.seq = Seq(seq);
    r.header.prev_hash = prev;
    r.header.hlc = Hlc::make(1'773'000'000'000 + static_cast<int64_t>(seq), 0);
    r.body = std::move(c);
    return Sealed{seal(r, key_), r.header};
  }
  Sealed next() {
    Sealed s = make(seq_ + 1, hash_);
    seq_ = s.header.seq.value;
    hash_ = s.sr.hash;
    return s;
  }
  void continue_from(uint64_t seq, const Hash& hash) {
    seq_ = seq;
    hash_ = hash;
  }
  const std::string& origin() const { return origin_; }
  const PublicKey& public_key() const { return key_.public_key(); }
  uint64_t seq() const { return seq_; }
  const Hash& hash() const { return hash_; }

 private:
  std::string origin_;
  SigningKey key_;
  uint64_t seq_ = 0;
  Hash hash_ = zero_hash;
};

std::unique_ptr<Store> open_store(const std::string& dir, const lmdb::EnvOptions& options = {}) {
  auto s = Store::open(dir, options);
  UMUPAKA_ASSERT_MSG(s.ok(), "Store::open failed");
  return std::move(s).value();
}

std::unique_ptr<StoreTxn> snapshot(const Store& store) {
  auto t = store.read();
  UMUPAKA_ASSERT_MSG(t.ok(), "Store::read failed");
  return std::move(t).value();
}

Status append_all(Store& store, const std::vector<Sealed>& batch) {
  return store.write([&](StoreTxn& txn) -> Status {
    for (const Sealed& s : batch) RETURN_IF_ERROR(txn.append(s.sr, s.header));
    return {};
  });
}

std::vector<Sealed> next_records(Feed& feed, size_t n) {
  std::vector<Sealed> out;
  for (size_t i = 0; i < n; ++i) out.push_back(feed.next());
  return out;
}

void expect_same(const SignedRecord& got, const SignedRecord& want) {
  EXPECT_EQ(got.encoded, want.encoded);
  EXPECT_EQ(got.signature, want.signature);
  EXPECT_EQ(got.hash, want.hash);
}

// Walks origin's feed from 1 to its head: every record present, opening under `key`, at its
// seq, linked to the previous one; signatures verified from `verify_from` on (the chain of
// hashes is checked everywhere). Returns the head seq.
uint64_t check_feed(const StoreTxn& txn, std::string_view origin, const PublicKey& key,
                    uint64_t verify_from = 1) {
  const std::optional<FeedHead> head = txn.head(origin);
  if (!head) return 0;
  Hash prev = zero_hash;
  for (uint64_t seq = 1; seq <= head->seq; ++seq) {
    const std::optional<SignedRecord> sr = txn.record(origin, seq);
    EXPECT_TRUE(sr.has_value()) << origin << " seq " << seq << " missing below head " << head->seq;
    if (!sr) return head->seq;
    EXPECT_EQ(record_hash(sr->encoded, sr->signature), sr->hash) << "seq " << seq;
    const Result<Record> r =
        seq >= verify_from ? open_record(*sr, key) : decode_record(sr->encoded);
    EXPECT_TRUE(r.ok()) << "seq " << seq << ": " << r.error().message;
    if (!r.ok()) return head->seq;
    EXPECT_EQ(r->header.seq.value, seq);
    EXPECT_EQ(r->header.origin.value, origin);
    EXPECT_EQ(r->header.prev_hash, prev) << "chain broken at seq " << seq;
    if (r->header.prev_hash != prev) return head->seq;
    prev = sr->hash;
  }
  EXPECT_EQ(prev, head->hash) << "head hash is not the hash of the head record";
  EXPECT_FALSE(txn.record(origin, head->seq + 1).has_value()) << "a record beyond the head";
  return head->seq;
}

// --- Feeds ----------------------------------------------------------------------------------

TEST(StoreFeeds, AppendsChainsOfSeveralOriginsAndReadsThemBack) {
  TempDir dir;
  auto store = open_store(dir.path());
  Feed gatuna("gatuna", 1), hq("hq", 2);
  std::vector<Sealed> written_gatuna, written_hq;
  for (int round = 0; round < 5; ++round) {
    const auto a = next_records(gatuna, 10);
    const auto b = next_records(hq, 4);
    written_gatuna.insert(written_gatuna.end(), a.begin(), a.end());
    written_hq.insert(written_hq.end(), b.begin(), b.end());
    // Both origins in one transaction.
    std::vector<Sealed> both = a;
    both.insert(both.end(), b.begin(), b.end());
    ASSERT_TRUE(append_all(*store, both).ok());
  }
  auto txn = snapshot(*store);
  const std::optional<FeedHead> head = txn->head("gatuna");
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->seq, 50u);
  EXPECT_EQ(head->hash, gatuna.hash());
  EXPECT_FALSE(txn->head("nowhere").has_value());
  EXPECT_FALSE(txn->head("gat").has_value());
  const auto heads = txn->heads();
  ASSERT_EQ(heads.size(), 2u);
  EXPECT_EQ(heads[0].first, "gatuna");
  EXPECT_EQ(heads[0].second.seq, 50u);
  EXPECT_EQ(heads[1].first, "hq");
  EXPECT_EQ(heads[1].second.seq, 20u);
  EXPECT_EQ(heads[1].second.hash, hq.hash());
  for (const Sealed& s : written_gatuna) {
    const auto got = txn->record("gatuna", s.header.seq.value);
    ASSERT_TRUE(got.has_value()) << s.header.seq.value;
    expect_same(*got, s.sr);
  }
  for (const Sealed& s : written_hq) {
    const auto got = txn->record("hq", s.header.seq.value);
    ASSERT_TRUE(got.has_value()) << s.header.seq.value;
    expect_same(*got, s.sr);
  }
  EXPECT_EQ(check_feed(*txn, "gatuna", gatuna.public_key()), 50u);
  EXPECT_EQ(check_feed(*txn, "hq", hq.public_key()), 20u);
  EXPECT_FALSE(txn->record("gatuna", 0).has_value());
  EXPECT_EQ(txn->count_of(txn->tables().feeds), 70u);
}

// The frontier cache: snapshots with one LMDB transaction id share one frontier; a write makes
// the next snapshot read it again; an older snapshot still open never sees (nor caches) a newer
// frontier.
TEST(StoreFeeds, FrontierCacheServesOnlySnapshotsOfTheSameCommit) {
  TempDir dir;
  auto store = open_store(dir.path());
  Feed gatuna("gatuna", 1);
  ASSERT_TRUE(append_all(*store, next_records(gatuna, 3)).ok());
  FrontierCache cache;
  const StoreFeeds first(snapshot(*store), &cache);
  ASSERT_EQ(first.frontier().size(), 1u);
  EXPECT_EQ(first.frontier()[0].seq, 3u);
  const StoreFeeds same(snapshot(*store), &cache);
  EXPECT_EQ(&same.frontier(), &first.frontier());  // read once
  auto before_write = snapshot(*store);
  ASSERT_TRUE(append_all(*store, next_records(gatuna, 2)).ok());
  const StoreFeeds after(snapshot(*store), &cache);
  ASSERT_EQ(after.frontier().size(), 1u);
  EXPECT_EQ(after.frontier()[0].seq, 5u);
  EXPECT_EQ(after.frontier()[0].hash, gatuna.hash());
  EXPECT_EQ(first.frontier()[0].seq, 3u);  // a reader keeps what it read
  const StoreFeeds older(std::move(before_write), &cache);
  EXPECT_EQ(older.frontier()[0].seq, 3u);
  const StoreFeeds newest(snapshot(*store), &cache);
  EXPECT_EQ(&newest.frontier(), &after.frontier());  // the cache kept the newer one
}

TEST(StoreFeeds, AppendRejectsGapsForksAndRepeats) {
  TempDir dir;
  auto store = open_store(dir.path());
  Feed feed("gatuna", 1);
  const auto first = next_records(feed, 3);
  ASSERT_TRUE(append_all(*store, first).ok());
  const Hash h3 = feed.hash();

  struct Case {
    const char* name;
    Sealed record;
  };
  Feed stranger("rubavu", 3);
  const Case cases[] = {
      {"gap", feed.make(5, h3)},
      {"fork: seq 4 linking to record 2", feed.make(4, first[1].sr.hash)},
      {"fork: seq 4 linking to nothing", feed.make(4, zero_hash)},
      {"repeat of seq 3, same record", first[2]},
      {"repeat of seq 3, another record", feed.make(3, first[1].sr.hash, 1)},
      {"seq 1 again", feed.make(1, zero_hash, 1)},
      {"new origin starting at 2", stranger.make(2, zero_hash)},
      {"new origin seq 1 with a link", stranger.make(1, h3)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Status s = append_all(*store, {c.record});
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, Errc::chain_broken) << s.error().message;
  }
  auto txn = snapshot(*store);
  ASSERT_TRUE(txn->head("gatuna").has_value());
  EXPECT_EQ(txn->head("gatuna")->seq, 3u);
  EXPECT_EQ(txn->head("gatuna")->hash, h3);
  EXPECT_FALSE(txn->head("rubavu").has_value());
  EXPECT_FALSE(txn->record("gatuna", 4).has_value());
  EXPECT_FALSE(txn->record("gatuna", 5).has_value());
  expect_same(*txn->record("gatuna", 3), first[2].sr);
  EXPECT_EQ(check_feed(*txn, "gatuna", feed.public_key()), 3u);
}

TEST(StoreFeeds, AppendAfterAFailedBatchContinuesFromTheCommittedHead) {
  TempDir dir;
  auto store = open_store(dir.path());
  Feed feed("gatuna", 1);
  ASSERT_TRUE(append_all(*store, next_records(feed, 2)).ok());
  const uint64_t committed_seq = feed.seq();
  const Hash committed_hash = feed.hash();
  // A batch of three good records then a gap: nothing of it lands.
  auto batch = next_records(feed, 3);
  batch.push_back(feed.make(feed.seq() + 2, feed.hash()));
  const Status s = append_all(*store, batch);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::chain_broken);
  {
    auto txn = snapshot(*store);
    EXPECT_EQ(txn->head("gatuna")->seq, committed_seq);
    for (uint64_t seq = committed_seq + 1; seq <= committed_seq + 4; ++seq)
      EXPECT_FALSE(txn->record("gatuna", seq).has_value()) << seq;
  }
  // The same three good records, now alone, are accepted.
  feed.continue_from(committed_seq, committed_hash);
  batch = next_records(feed, 3);
  ASSERT_TRUE(append_all(*store, batch).ok());
  auto txn = snapshot(*store);
  EXPECT_EQ(check_feed(*txn, "gatuna", feed.public_key()), committed_seq + 3);
}

// --- All or nothing -------------------------------------------------------------------------

DocumentView document_view(std::string number) {
  DocumentView v;
  v.country = "UTO";
  v.number = std::move(number);
  v.kind = DocumentKind::passport;
  v.national_id = "1199280012345678";
  v.expiry = day("2031-04-15");
  v.status = DocumentStatus::stolen;
  v.status_record = RecordRef{"hq", 17};
  v.issued_record = RecordRef{"hq", 3};
  return v;
}

// LMDB's fatal state (a meta page whose write failed) lasts until the environment is opened
// again: the error says so, for the operator reading the log.
TEST(StoreErrors, AFatalEnvironmentSaysToRestartTheNode) {
  const Error e = lmdb::translate(MDB_PANIC, "begin write");
  EXPECT_EQ(e.code, Errc::storage);
  EXPECT_NE(e.message.find("restart the node"), std::string::npos) << e.message;
  EXPECT_EQ(lmdb::translate(ENOSPC, "commit").code, Errc::disk_full);
}

// Once LMDB declares the environment unusable every transaction fails, reads too, and the store
// calls its fatal hook once (the node stops on it, to be started again), whichever thread and
// however many transactions find it so.
TEST(StoreErrors, AFatalEnvironmentFailsEveryTransactionAndCallsItsHookOnce) {
  TempDir dir;
  auto store = open_store(dir.path());
  std::atomic<int> hooked{0};
  store->on_fatal([&] { ++hooked; });
  ASSERT_TRUE(store
                  ->write([](StoreTxn& txn) -> Status {
                    txn.put_meta("before", "1");
                    return {};
                  })
                  .ok());
  EXPECT_FALSE(store->fatal());
  EXPECT_EQ(hooked, 0);
  store->inject_fatal();
  const Status w = store->write([](StoreTxn& txn) -> Status {
    txn.put_meta("after", "1");
    return {};
  });
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, Errc::storage);
  EXPECT_NE(w.error().message.find("restart the node"), std::string::npos) << w.error().message;
  EXPECT_TRUE(store->fatal());
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t)
    readers.emplace_back([&] {
      for (int i = 0; i < 50; ++i) EXPECT_FALSE(store->read().ok());
    });
  for (auto& r : readers) r.join();
  EXPECT_EQ(hooked, 1);
}

TEST(StoreMeta, EntriesWithAPrefixComeInNameOrderAndNoOthers) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_TRUE(store
                  ->write([](StoreTxn& txn) -> Status {
                    for (const char* name :
                         {"ledger.size", "ledger.frontier.rusumo", "ledger.frontier.gatuna",
                          "ledger.frontier", "ledger.frontiers", "m"})
                      txn.put_meta(name, std::string(name) + "!");
                    return {};
                  })
                  .ok());
  auto txn = snapshot(*store);
  using Entries = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(txn->meta_with_prefix("ledger.frontier."),
            (Entries{{"ledger.frontier.gatuna", "ledger.frontier.gatuna!"},
                     {"ledger.frontier.rusumo", "ledger.frontier.rusumo!"}}));
  EXPECT_TRUE(txn->meta_with_prefix("z").empty());
  EXPECT_EQ(txn->meta_with_prefix("").size(), 7u);  // and store.format
}

// A store records its format when it is created. One of another format, or one with data but no
// format (a build before formats were recorded), is refused at open with an error that says so,
// rather than misread; nothing in it is changed.
TEST(StoreFormat, AStoreOfAnotherFormatOrOfNoneIsRefusedAtOpen) {
  TempDir dir;
  Feed feed("gatuna", 1);
  {
    auto store = open_store(dir.path());
    EXPECT_EQ(snapshot(*store)->meta("store.format"), std::to_string(store_format));
    ASSERT_TRUE(append_all(*store, next_records(feed, 2)).ok());
  }
  EXPECT_TRUE(Store::open(dir.path()).ok());  // its own format
  // The format in the store's meta table, read or written below the Store (as another build would).
  const auto raw_format = [&](bool write, const auto& use) {
    auto env = lmdb::Env::open(dir.path(), {});
    ASSERT_TRUE(env.ok());
    auto meta = (*env)->open_table("meta");
    ASSERT_TRUE(meta.ok());
    auto txn = write ? (*env)->begin_write() : (*env)->begin_read();
    ASSERT_TRUE(txn.ok());
    use(*txn, *meta);
    if (write) {
      ASSERT_TRUE(txn->commit().ok());
    }
  };
  const auto set_format = [&](std::optional<std::string> value) {
    raw_format(true, [&](lmdb::Txn& txn, MDB_dbi meta) {
      ASSERT_TRUE(
          (value ? txn.put(meta, "store.format", *value) : txn.del(meta, "store.format")).ok());
    });
  };
  ASSERT_NO_FATAL_FAILURE(set_format(std::to_string(store_format + 1)));
  auto other = Store::open(dir.path());
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, Errc::conflict);
  EXPECT_NE(other.error().message.find("of format " + std::to_string(store_format + 1)),
            std::string::npos)
      << other.error().message;
  ASSERT_NO_FATAL_FAILURE(set_format(std::nullopt));
  auto none = Store::open(dir.path());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::conflict);
  EXPECT_NE(none.error().message.find("recorded no store format"), std::string::npos)
      << none.error().message;
  // Refused, not rewritten: the format is still missing, the records still there.
  raw_format(false, [](lmdb::Txn& txn, MDB_dbi meta) {
    auto f = txn.get(meta, "store.format");
    ASSERT_TRUE(f.ok());
    EXPECT_FALSE(f->has_value());
  });
  ASSERT_NO_FATAL_FAILURE(set_format(std::to_string(store_format)));
  auto again = Store::open(dir.path());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(snapshot(**again)->head("gatuna")->seq, 2u);
}

TEST(StoreWrite, AFunctionReturningAnErrorCommitsNothing) {
  TempDir dir;
  auto store = open_store(dir.path());
  Feed feed("gatuna", 1);
  ASSERT_TRUE(append_all(*store, next_records(feed, 1)).ok());
  const Sealed second = feed.next();

  bool seen_inside = false;
  const Status s = store->write([&](StoreTxn& txn) -> Status {
    RETURN_IF_ERROR(txn.append(second.sr, second.header));
    txn.put_meta("cursor", "42");
    txn.put_document(document_view("L898902C3"));
    txn.index_traveller_record("doc:UTO:L898902C3", RecordRef{"gatuna", 2});
    // The writes are there inside the transaction...
    seen_inside = txn.meta("cursor") == std::optional<std::string>("42") &&
                  txn.document("UTO", "L898902C3").has_value() && txn.head("gatuna")->seq == 2;
    return make_error(Errc::conflict, "the caller changed its mind");
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::conflict);
  EXPECT_EQ(s.error().message, "the caller changed its mind");
  EXPECT_TRUE(seen_inside);
  // ...and none of them after.
  auto txn = snapshot(*store);
  EXPECT_FALSE(txn->meta("cursor").has_value());
  EXPECT_FALSE(txn->document("UTO", "L898902C3").has_value());
  EXPECT_TRUE(txn->traveller_records("doc:UTO:L898902C3", 10).empty());
  EXPECT_EQ(txn->head("gatuna")->seq, 1u);
  EXPECT_FALSE(txn->record("gatuna", 2).has_value());
}

TEST(StoreWrite, AChainErrorAfterViewWritesCommitsNothing) {
  TempDir dir;
  auto store = open_store(dir.path());
  Feed feed("gatuna", 1);
  const Sealed first = feed.next();
  const Status s = store->write([&](StoreTxn& txn) -> Status {
    RETURN_IF_ERROR(txn.append(first.sr, first.header));
    txn.put_meta("cursor", "1");
    return txn.append(first.sr, first.header);  // a repeat: chain_broken
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::chain_broken);
  auto txn = snapshot(*store);
  EXPECT_FALSE(txn->head("gatuna").has_value());
  EXPECT_FALSE(txn->record("gatuna", 1).has_value());
  EXPECT_FALSE(txn->meta("cursor").has_value());
  EXPECT_EQ(txn->count_of(txn->tables().feeds), 0u);
}

TEST(StoreWrite, ASnapshotDoesNotSeeLaterCommits) {
  TempDir dir;
  auto store = open_store(dir.path());
  Feed feed("gatuna", 1);
  ASSERT_TRUE(append_all(*store, next_records(feed, 1)).ok());
  {
    auto before = snapshot(*store);
    EXPECT_EQ(before->head("gatuna")->seq, 1u);
  }
  ASSERT_TRUE(append_all(*store, next_records(feed, 1)).ok());
  auto after = snapshot(*store);
  EXPECT_EQ(after->head("gatuna")->seq, 2u);
}

// --- Views and reopening --------------------------------------------------------------------

PermitView permit_view() {
  PermitView v;
  v.permit.permit_id = "VOA-2026-000123";
  v.permit.kind = PermitKind::visa_on_arrival;
  v.permit.holder = Person{"ERIKSSON", "ANNA", "UTO", day("1974-08-12"), Sex::female};
  v.permit.document = DocumentRef{DocumentKind::passport, "UTO", "L898902C3", day("2031-04-15")};
  v.permit.valid_from = day("2026-03-10");
  v.permit.valid_until = day("2026-04-08");
  v.permit.entries_allowed = 1;
  v.permit.stay_days_max = 30;
  v.permit.issuing_site = "kigali-airport";
  v.permit.officer = "officer-2";
  v.permit.note = "Murakaza neza \xf0\x9f\x87\xb7\xf0\x9f\x87\xbc";
  v.issued_record = RecordRef{"kigali-airport", 9};
  v.state = PermitState::revoked;
  v.valid_until = day("2026-05-08");
  v.entries_used = 1;
  v.status_records = {RecordRef{"hq", 10}, RecordRef{"hq", 11}};
  return v;
}

AlertView alert_view(std::string id) {
  AlertView v;
  v.alert.alert_id = std::move(id);
  v.alert.subject.kind = AlertSubjectKind::name;
  v.alert.subject.surname = "MUGABO";
  v.alert.subject.birth_date = day("1950-01-01");
  v.alert.category = "wanted";
  v.alert.action = AlertAction::deny;
  v.alert.reason = "warrant 12/2025";
  v.alert.expires_on = day("2027-01-01");
  v.alert.officer = "officer-6";
  v.record = RecordRef{"hq", 21};
  v.lifted = true;
  v.lift_record = RecordRef{"hq", 22};
  return v;
}

PresenceView presence_view() {
  PresenceView v;
  v.inside = true;
  v.since = day("2026-03-10");
  v.post = "gatuna";
  v.last_crossing = RecordRef{"gatuna", 2};
  v.permit_id = "VOA-2026-000123";
  v.nationality = "UTO";
  return v;
}

TEST(StoreViews, ReopenFindsHeadsRecordsAndViews) {
  TempDir dir;
  Feed gatuna("gatuna", 1), hq("hq", 2);
  const auto records_gatuna = next_records(gatuna, 7);
  const auto records_hq = next_records(hq, 3);
  const Date born_1950 = day("1950-01-01");  // negative days
  {
    auto store = open_store(dir.path());
    ASSERT_TRUE(append_all(*store, records_gatuna).ok());
    const Status s = store->write([&](StoreTxn& txn) -> Status {
      for (const Sealed& r : records_hq) RETURN_IF_ERROR(txn.append(r.sr, r.header));
      txn.put_document(document_view("L898902C3"));
      txn.put_document(document_view("L898902C"));
      txn.put_permit(permit_view());
      txn.index_permit("doc:UTO:L898902C3", "VOA-2026-000123");
      txn.index_permit("doc:UTO:L898902C3", "EATV-1");
      txn.put_alert(alert_view("alert-1"));
      txn.put_alert(alert_view("alert-2"));
      txn.index_alert("nid:1199280012345678", "alert-1");
      txn.index_name_alert(born_1950, "alert-1");
      txn.index_name_alert(name_alert_no_birth_date, "alert-2");
      txn.put_presence("doc:UTO:L898902C3", presence_view());
      txn.index_traveller_record("doc:UTO:L898902C3", RecordRef{"gatuna", 2});
      txn.put_meta("applied", "gatuna:7");
      return {};
    });
    ASSERT_TRUE(s.ok()) << s.error().message;
  }  // the store is closed here

  auto store = open_store(dir.path());
  auto txn = snapshot(*store);
  EXPECT_EQ(check_feed(*txn, "gatuna", gatuna.public_key()), 7u);
  EXPECT_EQ(check_feed(*txn, "hq", hq.public_key()), 3u);
  EXPECT_EQ(txn->head("gatuna")->hash, gatuna.hash());
  EXPECT_EQ(txn->head("hq")->hash, hq.hash());
  for (const Sealed& r : records_gatuna)
    expect_same(*txn->record("gatuna", r.header.seq.value), r.sr);

  const auto doc = txn->document("UTO", "L898902C3");
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(dump_view(*doc), dump_view(document_view("L898902C3")));
  ASSERT_TRUE(txn->document("UTO", "L898902C").has_value());
  EXPECT_EQ(txn->document("UTO", "L898902C")->number, "L898902C");
  EXPECT_FALSE(txn->document("UTO", "L898902").has_value());
  EXPECT_FALSE(txn->document("UT", "OL898902C3").has_value());  // the separator matters

  const auto permit = txn->permit("VOA-2026-000123");
  ASSERT_TRUE(permit.has_value());
  EXPECT_EQ(dump_view(*permit), dump_view(permit_view()));
  EXPECT_EQ(permit->permit, permit_view().permit);
  EXPECT_EQ(txn->permits_of("doc:UTO:L898902C3"),
            (std::vector<std::string>{"EATV-1", "VOA-2026-000123"}));  // key order

  const auto alert = txn->alert("alert-1");
  ASSERT_TRUE(alert.has_value());
  EXPECT_EQ(dump_view(*alert), dump_view(alert_view("alert-1")));
  EXPECT_EQ(txn->alerts_of("nid:1199280012345678"), std::vector<std::string>{"alert-1"});
  EXPECT_EQ(txn->name_alerts_born(born_1950), std::vector<std::string>{"alert-1"});
  EXPECT_EQ(txn->name_alerts_born(name_alert_no_birth_date), std::vector<std::string>{"alert-2"});
  EXPECT_TRUE(txn->name_alerts_born(Date{born_1950.days + 1}).empty());

  const auto presence = txn->presence("doc:UTO:L898902C3");
  ASSERT_TRUE(presence.has_value());
  EXPECT_EQ(dump_view(*presence), dump_view(presence_view()));
  EXPECT_FALSE(txn->presence("doc:UTO:L898902C").has_value());

  EXPECT_EQ(txn->traveller_records("doc:UTO:L898902C3", 10),
            std::vector<RecordRef>{(RecordRef{"gatuna", 2})});
  EXPECT_EQ(txn->meta("applied"), std::optional<std::string>("gatuna:7"));
  EXPECT_FALSE(txn->meta("applie").has_value());
}

TEST(StoreViews, TravellerRecordsDoNotLeakAcrossKeysThatArePrefixesOfEachOther) {
  TempDir dir;
  auto store = open_store(dir.path());
  const std::vector<RecordRef> l1 = {{"gat", 9},           {"gatuna", 1},   {"gatuna", 2},
                                     {"gatuna", 10},       {"gatuna", 255}, {"gatuna", 256},
                                     {"gatuna", 1u << 24}, {"hq", 3}};
  const std::vector<RecordRef> l12 = {{"gatuna", 5}, {"hq", 1}};
  const std::vector<RecordRef> l = {{"gatuna", 7}};
  ASSERT_TRUE(store
                  ->write([&](StoreTxn& txn) -> Status {
                    // Inserted out of order: the index orders them.
                    for (auto it = l1.rbegin(); it != l1.rend(); ++it)
                      txn.index_traveller_record("doc:UTO:L1", *it);
                    for (const RecordRef& r : l12) txn.index_traveller_record("doc:UTO:L12", r);
                    for (const RecordRef& r : l) txn.index_traveller_record("doc:UTO:L", r);
                    txn.index_permit("doc:UTO:L1", "P-1");
                    txn.index_permit("doc:UTO:L12", "P-12");
                    txn.index_alert("doc:UTO:L1", "A-1");
                    txn.index_alert("doc:UTO:L12", "A-12");
                    return {};
                  })
                  .ok());
  auto txn = snapshot(*store);
  EXPECT_EQ(txn->traveller_records("doc:UTO:L1", 100), l1);
  EXPECT_EQ(txn->traveller_records("doc:UTO:L12", 100), l12);
  EXPECT_EQ(txn->traveller_records("doc:UTO:L", 100), l);
  EXPECT_TRUE(txn->traveller_records("doc:UTO:", 100).empty());
  EXPECT_TRUE(txn->traveller_records("doc:UTO:L123", 100).empty());
  // The limit keeps the first records in key order.
  EXPECT_EQ(txn->traveller_records("doc:UTO:L1", 3),
            std::vector<RecordRef>(l1.begin(), l1.begin() + 3));
  EXPECT_TRUE(txn->traveller_records("doc:UTO:L1", 0).empty());
  EXPECT_EQ(txn->permits_of("doc:UTO:L1"), std::vector<std::string>{"P-1"});
  EXPECT_EQ(txn->permits_of("doc:UTO:L12"), std::vector<std::string>{"P-12"});
  EXPECT_EQ(txn->alerts_of("doc:UTO:L1"), std::vector<std::string>{"A-1"});
  EXPECT_EQ(txn->alerts_of("doc:UTO:L12"), std::vector<std::string>{"A-12"});
  EXPECT_TRUE(txn->permits_of("doc:UTO:L").empty());
}

TEST(StoreViews, NameAlertsByBirthDateKeepTheirOwnDay) {
  TempDir dir;
  auto store = open_store(dir.path());
  const std::vector<int32_t> days = {INT32_MIN, -25567, -1, 0, 1, 255, 256, 20000, INT32_MAX};
  ASSERT_TRUE(store
                  ->write([&](StoreTxn& txn) -> Status {
                    for (int32_t d : days) {
                      txn.index_name_alert(Date{d}, "alert-" + std::to_string(d));
                      txn.index_name_alert(Date{d}, "other-" + std::to_string(d));
                    }
                    return {};
                  })
                  .ok());
  auto txn = snapshot(*store);
  for (int32_t d : days) {
    EXPECT_EQ(
        txn->name_alerts_born(Date{d}),
        (std::vector<std::string>{"alert-" + std::to_string(d), "other-" + std::to_string(d)}))
        << d;
  }
  EXPECT_TRUE(txn->name_alerts_born(Date{2}).empty());
  EXPECT_TRUE(txn->name_alerts_born(Date{-2}).empty());
}

// --- Map growth -----------------------------------------------------------------------------

// Two threads whose transactions find the map full at once (the writer's and the network
// thread's) grow it once: the second sees it grew since its transaction ran. It grew twice.
TEST(StoreMapGrowth, TwoGrowthsForOneFullMapGrowItOnce) {
  TempDir dir;
  auto env = lmdb::Env::open(dir.path(), lmdb::EnvOptions{.map_bytes = 1 << 20});
  ASSERT_TRUE(env.ok()) << env.error().message;
  const size_t seen = (*env)->map_bytes();
  ASSERT_TRUE((*env)->grow(seen).ok());
  EXPECT_EQ((*env)->map_bytes(), 2 * seen);
  ASSERT_TRUE((*env)->grow(seen).ok());
  EXPECT_EQ((*env)->map_bytes(), 2 * seen);
  ASSERT_TRUE((*env)->grow((*env)->map_bytes()).ok());  // full again at the new size
  EXPECT_EQ((*env)->map_bytes(), 4 * seen);
  EXPECT_EQ((*env)->grows(), 2u);
}

TEST(StoreMapGrowth, TwentyThousandRecordsInA1MiBMap) {
  TempDir dir;
  constexpr size_t map_bytes = 1 << 20;
  constexpr size_t total = 20000, batch = 500;
  Feed feed("gatuna", 1);
  std::vector<Hash> hashes;
  {
    auto store = open_store(dir.path(), lmdb::EnvOptions{.map_bytes = map_bytes});
    EXPECT_EQ(store->env().map_bytes(), map_bytes);
    for (size_t done = 0; done < total; done += batch) {
      const auto records = next_records(feed, batch);
      for (const Sealed& s : records) hashes.push_back(s.sr.hash);
      const Status s = append_all(*store, records);
      ASSERT_TRUE(s.ok()) << "after " << done << " records: " << s.error().message;
    }
    EXPECT_GT(store->map_grows(), 0u);
    EXPECT_GT(store->env().map_bytes(), map_bytes);
    auto txn = snapshot(*store);
    EXPECT_EQ(txn->count_of(txn->tables().feeds), total);
    EXPECT_EQ(check_feed(*txn, "gatuna", feed.public_key()), total);
    for (uint64_t seq = 1; seq <= total; ++seq) {
      const auto sr = txn->record("gatuna", seq);
      ASSERT_TRUE(sr.has_value()) << seq;
      ASSERT_EQ(sr->hash, hashes[seq - 1]) << seq;
    }
  }
  // Reopened with the small size, the store adopts its file's size and keeps growing.
  auto store = open_store(dir.path(), lmdb::EnvOptions{.map_bytes = map_bytes});
  EXPECT_GT(store->env().map_bytes(), map_bytes);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(append_all(*store, next_records(feed, batch)).ok());
  auto txn = snapshot(*store);
  EXPECT_EQ(txn->head("gatuna")->seq, total + 4 * batch);
  EXPECT_EQ(txn->head("gatuna")->hash, feed.hash());
}

TEST(StoreMapGrowth, ViewWritesThatFillTheMapAreRetried) {
  // Puts through the view interface remember their first error; a full map among them makes
  // Store::write grow and run the function again.
  TempDir dir;
  auto store = open_store(dir.path(), lmdb::EnvOptions{.map_bytes = 1 << 20});
  int runs = 0;
  const Status s = store->write([&](StoreTxn& txn) -> Status {
    ++runs;
    for (int i = 0; i < 20000; ++i) {
      txn.put_document(document_view("L" + std::to_string(i)));
      txn.index_traveller_record("doc:UTO:L" + std::to_string(i), RecordRef{"gatuna", 1});
    }
    return {};
  });
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_GT(store->map_grows(), 0u);
  EXPECT_EQ(runs, static_cast<int>(store->map_grows()) + 1);
  auto txn = snapshot(*store);
  EXPECT_EQ(txn->count_of(txn->tables().documents), 20000u);
  EXPECT_EQ(dump_view(*txn->document("UTO", "L19999")), dump_view(document_view("L19999")));
}

// A thread that writes while it holds a read transaction of the same store would wait for
// itself when the map must grow (the network thread once did, with a gossip frame's read open
// while a Raft message made it write). It gets an error after grow_wait_ms, with nothing
// written, and the same write succeeds once the read is closed.
TEST(StoreMapGrowth, GrowingUnderThisThreadsOwnReadFailsInsteadOfHanging) {
  TempDir dir;
  auto store = open_store(dir.path(), lmdb::EnvOptions{.map_bytes = 1 << 20, .grow_wait_ms = 200});
  const auto fill = [](StoreTxn& txn) -> Status {
    for (int i = 0; i < 20000; ++i) txn.put_document(document_view("L" + std::to_string(i)));
    return {};
  };
  {
    auto held = store->read();
    ASSERT_TRUE(held.ok());
    const Status s = store->write(fill);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, Errc::storage) << s.error().message;
    EXPECT_NE(s.error().message.find("stayed open"), std::string::npos) << s.error().message;
  }
  {
    auto txn = snapshot(*store);
    EXPECT_EQ(txn->count_of(txn->tables().documents), 0u);
  }
  const Status s = store->write(fill);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto txn = snapshot(*store);
  EXPECT_EQ(txn->count_of(txn->tables().documents), 20000u);
}

// Reads that overlap without a gap (API and network threads under load) do not hold a growth of
// the map off: the readers' shared lock lets new readers in ahead of a waiting growth, so new
// transactions wait while one is pending, and the write that filled the map succeeds.
TEST(StoreMapGrowth, OverlappingReadsOnOtherThreadsDoNotStarveAGrowth) {
  TempDir dir;
  auto store = open_store(dir.path(), lmdb::EnvOptions{.map_bytes = 1 << 20, .grow_wait_ms = 1000});
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t)
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto txn = store->read();
        if (!txn.ok()) continue;
        (void)(*txn)->head("gatuna");
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a request's read
        ++reads;
      }
    });
  while (reads.load() < 20) std::this_thread::yield();
  const Status s = store->write([](StoreTxn& txn) -> Status {
    for (int i = 0; i < 20000; ++i) txn.put_document(document_view("L" + std::to_string(i)));
    return {};
  });
  stop = true;
  for (auto& t : readers) t.join();
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_GT(store->map_grows(), 0u);
}

// A thread that holds a read and begins another (the network thread reads the feeds while the
// order plane's read is open) is not held back by a pending growth: the growth waits for its
// first read, so holding the second back would stall both until grow_wait_ms.
TEST(StoreMapGrowth, ASecondReadOfAThreadHoldingOneIsNotHeldBackByAGrowth) {
  TempDir dir;
  auto store = open_store(dir.path(), lmdb::EnvOptions{.map_bytes = 1 << 20, .grow_wait_ms = 2000});
  std::atomic<bool> holding{false};
  std::chrono::steady_clock::duration second_read_took{};
  std::thread reader([&] {
    auto first = store->read();
    ASSERT_TRUE(first.ok());
    holding = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the growth is pending now
    const auto t0 = std::chrono::steady_clock::now();
    auto second = store->read();
    second_read_took = std::chrono::steady_clock::now() - t0;
    ASSERT_TRUE(second.ok());
  });
  while (!holding.load()) std::this_thread::yield();
  const Status s = store->write([](StoreTxn& txn) -> Status {
    for (int i = 0; i < 20000; ++i) txn.put_document(document_view("L" + std::to_string(i)));
    return {};
  });
  reader.join();
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_LT(second_read_took, std::chrono::milliseconds(1000));
}

// The node's writer keeps each command's outcome as a per-item result and returns ok from the
// write function (node/writer.cpp). An append that failed on a full map must still make
// Store::write grow the map and run the batch again, not fail the whole batch.
TEST(StoreMapGrowth, AnAppendFailureKeptAsAResultStillGrowsTheMap) {
  TempDir dir;
  auto store = open_store(dir.path(), lmdb::EnvOptions{.map_bytes = 1 << 20});
  Feed feed("gatuna", 1);
  const auto records = next_records(feed, 20000);
  std::vector<Errc> item_errors;
  const Status s = store->write([&](StoreTxn& txn) -> Status {
    item_errors.clear();
    for (const Sealed& r : records) {
      const Status appended = txn.append(r.sr, r.header);
      if (!appended.ok()) {
        item_errors.push_back(appended.error().code);
        break;  // no further use of the transaction
      }
    }
    return {};
  });
  ASSERT_TRUE(s.ok()) << error_code_name(s.error().code) << ": " << s.error().message
                      << " (the write function saw "
                      << (item_errors.empty() ? "no error" : error_code_name(item_errors[0]))
                      << ")";
  EXPECT_TRUE(item_errors.empty());
  EXPECT_GT(store->map_grows(), 0u);
  auto txn = snapshot(*store);
  EXPECT_EQ(txn->head("gatuna")->seq, 20000u);
}

// The node's writer runs, for each record of a batch: reads (feed head, views), the append,
// then the views' reads and writes, all in one Store::write. When a put fills the map midway,
// Store::write must still grow the map and rerun the batch; the process must not abort. Run
// in a child process (death-test machinery) so that an abort fails this test only.
TEST(StoreMapGrowthDeathTest, ReadsAfterAPutThatFilledTheMapDoNotAbort) {
  TempDir dir;
  const std::string path = dir.path();
  EXPECT_EXIT(
      {
        auto store = open_store(path, lmdb::EnvOptions{.map_bytes = 1 << 20});
        Feed feed("gatuna", 1);
        for (int b = 0; b < 40; ++b) {
          const auto records = next_records(feed, 500);
          const Status s = store->write([&](StoreTxn& txn) -> Status {
            for (const Sealed& r : records) {
              const std::string number = "L" + std::to_string(r.header.seq.value);
              // A read, as apply_record does before it writes.
              const std::optional<DocumentView> existing = txn.document("UTO", number);
              if (existing) return make_error(Errc::conflict, "document already there");
              RETURN_IF_ERROR(txn.append(r.sr, r.header));
              DocumentView v = document_view(number);
              v.issued_record = RecordRef{"gatuna", r.header.seq.value};
              txn.put_document(v);
              txn.index_traveller_record("doc:UTO:" + number,
                                         RecordRef{"gatuna", r.header.seq.value});
            }
            return {};
          });
          if (!s.ok()) {
            std::fprintf(stderr, "write failed: %s\n", s.error().message.c_str());
            std::_Exit(2);
          }
        }
        auto txn = snapshot(*store);
        if (txn->head("gatuna")->seq != 20000 || store->map_grows() == 0) std::_Exit(3);
        if (txn->count_of(txn->tables().documents) != 20000) std::_Exit(4);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

// --- Crash safety ---------------------------------------------------------------------------

// The child: its own Store::open after fork, then one Store::write per batch of 1-50 records,
// forever; after each commit returns, the last committed seq goes to `ack_fd`. A read snapshot
// taken after each acknowledgement checks the head and stays open during the next write, so
// that SIGKILL always leaves a reader slot of a dead process behind.
[[noreturn]] void run_writer(const std::string& dir, int ack_fd, uint32_t seed) {
  auto opened = Store::open(dir);
  if (!opened.ok()) std::_Exit(10);
  std::unique_ptr<Store> store = std::move(opened).value();
  Feed feed("gatuna", 1);
  {
    auto txn = store->read();
    if (!txn.ok()) std::_Exit(11);
    if (const auto head = (*txn)->head("gatuna")) feed.continue_from(head->seq, head->hash);
  }
  std::mt19937 rng(seed);
  std::unique_ptr<StoreTxn> held;
  for (;;) {
    const size_t n = 1 + rng() % 50;
    const auto records = next_records(feed, n);
    if (!append_all(*store, records).ok()) std::_Exit(12);
    const uint64_t acked = feed.seq();
    if (::write(ack_fd, &acked, sizeof acked) != static_cast<ssize_t>(sizeof acked)) std::_Exit(13);
    auto txn = store->read();
    if (!txn.ok()) std::_Exit(14);
    const auto head = (*txn)->head("gatuna");
    if (!head || head->seq != acked) std::_Exit(15);
    held = std::move(txn).value();  // the previous snapshot ends after this one began
  }
}

// Reads 8-byte acknowledgements from a pipe.
class AckReader {
 public:
  explicit AckReader(int fd) : fd_(fd) {}
  // Reads what arrives within timeout_ms (-1: until at least one byte or EOF).
  void read_for(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    const int rc = ::poll(&p, 1, timeout_ms);
    if (rc <= 0) return;
    char buf[4096];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n == 0) eof_ = true;
    if (n <= 0) return;
    pending_.append(buf, static_cast<size_t>(n));
    while (pending_.size() >= 8) {
      uint64_t seq = 0;
      std::memcpy(&seq, pending_.data(), 8);
      pending_.erase(0, 8);
      EXPECT_GT(seq, last_) << "acknowledgements must increase";
      last_ = seq;
      ++count_;
    }
  }
  void drain() {
    while (!eof_) read_for(-1);
    EXPECT_TRUE(pending_.empty()) << "a partial acknowledgement";
  }
  uint64_t last() const { return last_; }
  uint64_t count() const { return count_; }
  bool eof() const { return eof_; }
  void continue_after(uint64_t last) { last_ = last; }

 private:
  int fd_;
  std::string pending_;
  uint64_t last_ = 0;
  uint64_t count_ = 0;
  bool eof_ = false;
};

TEST(StoreCrash, EveryAcknowledgedRecordSurvivesSigkill) {
  TempDir dir;
  const Feed verifier("gatuna", 1);
  uint64_t acked = 0, head_seq = 0;
  constexpr auto kill_after = std::chrono::milliseconds(1500);
  for (uint32_t round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0) << std::strerror(errno);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0) << std::strerror(errno);
    if (pid == 0) {
      ::close(fds[0]);
      run_writer(dir.path(), fds[1], 1000 + round);
    }
    ::close(fds[1]);
    AckReader acks(fds[0]);
    acks.continue_after(acked);
    // Wait for the first acknowledgement of this round (no clock involved), then let the child
    // write for a while and kill it wherever it is.
    while (acks.count() == 0 && !acks.eof()) acks.read_for(-1);
    const auto deadline = std::chrono::steady_clock::now() + kill_after;
    while (!acks.eof()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      acks.read_for(static_cast<int>(left.count()));
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    acks.drain();  // acknowledgements written before the kill
    ::close(fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the writer stopped on its own: "
        << (WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status)) : "signal");
    ASSERT_GT(acks.count(), 0u);
    acked = acks.last();

    auto store = Store::open(dir.path());
    ASSERT_TRUE(store.ok()) << store.error().message;
    EXPECT_GE(store.value()->env().stale_readers_cleared(), 0);
    {
      auto txn = snapshot(*store.value());
      const auto head = txn->head("gatuna");
      ASSERT_TRUE(head.has_value());
      EXPECT_GE(head->seq, acked) << "an acknowledged record was lost";
      EXPECT_GE(head->seq, head_seq) << "the head went backwards";
      // Signatures of the records new this round; the hash chain from 1 every round.
      EXPECT_EQ(check_feed(*txn, "gatuna", verifier.public_key(), head_seq + 1), head->seq);
      head_seq = head->seq;
      std::printf("round %u: acknowledged %llu, head %llu, stale readers cleared %d\n", round,
                  static_cast<unsigned long long>(acked), static_cast<unsigned long long>(head_seq),
                  store.value()->env().stale_readers_cleared());
    }
    // The reopened store accepts the next record of the feed (the write lock is free again).
    Feed feed("gatuna", 1);
    {
      auto txn = snapshot(*store.value());
      feed.continue_from(txn->head("gatuna")->seq, txn->head("gatuna")->hash);
    }
    ASSERT_TRUE(append_all(*store.value(), next_records(feed, 1)).ok());
    head_seq = feed.seq();
    acked = feed.seq();
    // Closed before the next fork: the child never shares this process's environment.
  }
}

}  // namespace
}  // namespace umupaka

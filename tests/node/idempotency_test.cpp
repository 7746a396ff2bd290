// Idempotency keys (docs/api.md, "Retries"): the node core answers a retried command with the
// record its key made, never a second record; the store keeps the keys and forgets them in age
// order.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <memory>

#include "ledger/date.hpp"
#include "ledger/limits.hpp"
#include "node/group_commit.hpp"
#include "node/node_core.hpp"
#include "storage/store.hpp"

namespace umupaka::test {
namespace {

constexpr int64_t t0 = 1'790'000'000'000;  // 2026-09-21, the wall clock these tests pass

class TempStore {
 public:
  TempStore() {
    char tmpl[] = "/tmp/umupaka-idempotency-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    reopen();
  }
  ~TempStore() {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void reopen() {
    store_.reset();
    auto s = Store::open(dir_);
    EXPECT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value();
  }
  Store& operator*() { return *store_; }
  Store* operator->() { return store_.get(); }

 private:
  std::string dir_;
  std::unique_ptr<Store> store_;
};

Hash fingerprint(uint8_t b) {
  Hash h{};
  h.fill(b);
  return h;
}

void write(TempStore& store, const std::function<void(StoreTxn&)>& fn) {
  ASSERT_TRUE(store
                  ->write([&](StoreTxn& txn) -> Status {
                    fn(txn);
                    return {};
                  })
                  .ok());
}

TEST(IdempotencyStore, EntriesReadBackAndExpireOldestFirstAtMostMaxAtATime) {
  TempStore store;
  const IdempotencyEntry a{7, fingerprint(1), 1000, 3, Date{20'000}};
  const IdempotencyEntry b{8, fingerprint(2), 3000, 0, std::nullopt};
  const IdempotencyEntry c{9, fingerprint(3), 2000, -1, Date{-5}};
  write(store, [&](StoreTxn& txn) {
    txn.put_idempotency("officer-1", "k", a);
    txn.put_idempotency("officer-2", "k", b);
    txn.put_idempotency("officer-1", "k2", c);
  });
  store.reopen();
  {
    auto txn = store->read();
    ASSERT_TRUE(txn.ok());
    EXPECT_EQ((*txn)->idempotency("officer-1", "k"), a);
    EXPECT_EQ((*txn)->idempotency("officer-2", "k"), b);
    EXPECT_EQ((*txn)->idempotency("officer-1", "k2"), c);
    // A subject that is a prefix of another's, a key of another subject: not found.
    EXPECT_EQ((*txn)->idempotency("officer-", "1k"), std::nullopt);
    EXPECT_EQ((*txn)->idempotency("officer-2", "k2"), std::nullopt);
  }
  // Created before 3000: a (1000) and c (2000), one at a time, oldest first; b stays.
  size_t forgot = 0;
  write(store, [&](StoreTxn& txn) { forgot = txn.expire_idempotency(3000, 1); });
  EXPECT_EQ(forgot, 1u);
  {
    auto txn = store->read();
    EXPECT_EQ((*txn)->idempotency("officer-1", "k"), std::nullopt);
    EXPECT_EQ((*txn)->idempotency("officer-1", "k2"), c);
  }
  write(store, [&](StoreTxn& txn) { forgot = txn.expire_idempotency(3000, 10); });
  EXPECT_EQ(forgot, 1u);
  auto txn = store->read();
  EXPECT_EQ((*txn)->idempotency("officer-1", "k2"), std::nullopt);
  EXPECT_EQ((*txn)->idempotency("officer-2", "k"), b);
  EXPECT_EQ((*txn)->count_of((*txn)->tables().idempotency_age), 1u);
}

// A Ugandan's entry on passport `number`.
CrossingRequest crossing(const std::string& number) {
  CrossingRequest r;
  r.traveller = Person{"MUGISHA", "ERIC", "UGA", date_from_civil(1990, 5, 17), Sex::male};
  r.document = DocumentRef{DocumentKind::passport, "UGA", number, date_from_civil(2031, 1, 1)};
  return r;
}

// A desk's i-th crossing, with a key of its own.
Command keyed_crossing(int i) {
  return Command{crossing("UG" + std::to_string(1000000 + i)), "officer-7",
                 IdempotencyKey{"desk-" + std::to_string(i), fingerprint(uint8_t(i))}};
}

// A standalone node's core on a store of its own.
class IdempotentCore : public ::testing::Test {
 protected:
  void SetUp() override { restart(); }
  void restart() {
    store.reopen();
    core = std::make_unique<NodeCore>(NodeIdentity{"net-test", "gatuna", SiteKind::border_post},
                                      SigningKey::from_seed(SecretSeed{}));
    auto txn = store->read();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(core->recover(**txn, t0).ok());
  }

  static Command with_key(CommandBody body, const std::string& officer, const std::string& key,
                          uint8_t request) {
    return Command{std::move(body), officer, IdempotencyKey{key, fingerprint(request)}};
  }

  // Executes the commands in one transaction, as one group commit does.
  std::vector<Result<Recorded>> run(std::vector<Command> commands, int64_t now = t0) {
    std::vector<Result<Recorded>> out;
    const Status s = store->write([&](StoreTxn& txn) -> Status {
      out.clear();
      for (const Command& c : commands) out.push_back(core->execute(c, txn, now));
      return {};
    });
    EXPECT_TRUE(s.ok());
    return out;
  }
  Result<Recorded> run_one(Command c, int64_t now = t0) {
    std::vector<Command> v;
    v.push_back(std::move(c));
    return std::move(run(std::move(v), now).front());
  }
  uint64_t own_head() {
    auto txn = store->read();
    const auto h = (*txn)->head("gatuna");
    return h ? h->seq : 0;
  }

  TempStore store;
  std::unique_ptr<NodeCore> core;
};

void expect_same_answer(const Recorded& first, const Recorded& again) {
  EXPECT_FALSE(first.replayed);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.ref.origin, first.ref.origin);
  EXPECT_EQ(again.ref.seq, first.ref.seq);
  EXPECT_EQ(again.hash, first.hash);
  EXPECT_EQ(again.hlc, first.hlc);
  EXPECT_EQ(again.type, first.type);
  EXPECT_EQ(again.object_id, first.object_id);
  EXPECT_EQ(again.crossing, first.crossing);
  EXPECT_EQ(again.decision, first.decision);
  ASSERT_EQ(again.checks.has_value(), first.checks.has_value());
  if (!first.checks) return;
  EXPECT_EQ(again.checks->verdict, first.checks->verdict);
  EXPECT_EQ(again.checks->findings, first.checks->findings);
  EXPECT_EQ(again.checks->permit_id, first.checks->permit_id);
  EXPECT_EQ(again.checks->overstay_days, first.checks->overstay_days);
  EXPECT_EQ(again.checks->allowed_until, first.checks->allowed_until);
}

TEST_F(IdempotentCore, ARetryGetsTheFirstAnswerAndRecordsNothing) {
  const auto first = run_one(with_key(crossing("UG1000001"), "officer-7", "desk-1", 1));
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(first->checks && first->checks->allowed_until);  // a visa-free stay's last day
  // Later, and after a restart (the key is in the store, not in memory).
  restart();
  const auto again =
      run_one(with_key(crossing("UG1000001"), "officer-7", "desk-1", 1), t0 + 60'000);
  ASSERT_TRUE(again.ok()) << again.error().message;
  expect_same_answer(*first, *again);
  EXPECT_EQ(own_head(), 1u);
}

TEST_F(IdempotentCore, EachKindOfWriteIsAnsweredAgainWithItsObjectId) {
  PermitRequest permit;
  permit.kind = PermitKind::visa_on_arrival;
  permit.holder = Person{"DOE", "JANE", "USA", date_from_civil(1985, 1, 2), Sex::female};
  permit.document =
      DocumentRef{DocumentKind::passport, "USA", "X1234567", date_from_civil(2030, 1, 1)};
  AlertRequest alert;
  alert.subject.kind = AlertSubjectKind::document;
  alert.subject.document_country = "KEN";
  alert.subject.document_number = "K7654321";
  alert.category = "wanted";
  std::vector<Command> first_batch;
  first_batch.push_back(with_key(permit, "officer-7", "p", 1));
  first_batch.push_back(with_key(alert, "officer-7", "a", 2));
  const auto first = run(std::move(first_batch));
  ASSERT_TRUE(first[0].ok() && first[1].ok());
  ASSERT_FALSE(first[0]->object_id.empty());
  ASSERT_FALSE(first[1]->object_id.empty());
  PermitStatusRequest revoke{first[0]->object_id, PermitAction::revoke, std::nullopt, "error"};
  AlertLiftRequest lift{first[1]->object_id, std::nullopt};
  std::vector<Command> second_batch;
  second_batch.push_back(with_key(revoke, "officer-7", "r", 3));
  second_batch.push_back(with_key(lift, "officer-7", "l", 4));
  const auto second = run(std::move(second_batch));
  ASSERT_TRUE(second[0].ok() && second[1].ok());

  std::vector<Command> retries;
  retries.push_back(with_key(permit, "officer-7", "p", 1));
  retries.push_back(with_key(alert, "officer-7", "a", 2));
  retries.push_back(with_key(revoke, "officer-7", "r", 3));
  retries.push_back(with_key(lift, "officer-7", "l", 4));
  const auto again = run(std::move(retries));
  for (size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(again[i].ok()) << again[i].error().message;
    expect_same_answer(i < 2 ? *first[i] : *second[i - 2], *again[i]);
  }
  EXPECT_EQ(own_head(), 4u);
}

TEST_F(IdempotentCore, TheSameKeyInOneGroupCommitRecordsOnce) {
  std::vector<Command> batch;
  batch.push_back(with_key(crossing("UG1000001"), "officer-7", "desk-1", 1));
  batch.push_back(with_key(crossing("UG1000001"), "officer-7", "desk-1", 1));
  const auto out = run(std::move(batch));
  ASSERT_TRUE(out[0].ok() && out[1].ok());
  expect_same_answer(*out[0], *out[1]);
  EXPECT_EQ(own_head(), 1u);
}

TEST_F(IdempotentCore, AKeyReusedForAnotherRequestIsRefusedAndRecordsNothing) {
  ASSERT_TRUE(run_one(with_key(crossing("UG1000001"), "officer-7", "desk-1", 1)).ok());
  const auto other = run_one(with_key(crossing("UG2000002"), "officer-7", "desk-1", 2));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, Errc::conflict);
  EXPECT_EQ(other.error().field, "Idempotency-Key");
  EXPECT_NE(other.error().message.find("gatuna/1"), std::string::npos) << other.error().message;
  EXPECT_EQ(own_head(), 1u);
}

TEST_F(IdempotentCore, KeysAreEachOfficersOwnAndCommandsWithoutOneAlwaysRecord) {
  ASSERT_TRUE(run_one(with_key(crossing("UG1000001"), "officer-7", "desk-1", 1)).ok());
  const auto other_officer = run_one(with_key(crossing("UG1000001"), "officer-8", "desk-1", 1));
  ASSERT_TRUE(other_officer.ok());
  EXPECT_FALSE(other_officer->replayed);
  EXPECT_EQ(other_officer->ref.seq, 2u);
  ASSERT_TRUE(run_one(Command{crossing("UG1000001"), "officer-7"}).ok());
  ASSERT_TRUE(run_one(Command{crossing("UG1000001"), "officer-7"}).ok());
  EXPECT_EQ(own_head(), 4u);
}

TEST_F(IdempotentCore, AFailedCommandKeepsNoKeySoItsRetryIsExecuted) {
  // A revocation of a permit not (yet) held here: refused, and no key kept...
  PermitRequest permit;
  permit.permit_id = "gatuna-p1";
  permit.holder = Person{"DOE", "JANE", "USA", date_from_civil(1985, 1, 2), Sex::female};
  permit.document =
      DocumentRef{DocumentKind::passport, "USA", "X1234567", date_from_civil(2030, 1, 1)};
  PermitStatusRequest revoke{"gatuna-p1", PermitAction::revoke, std::nullopt, "error"};
  const auto failed = run_one(with_key(revoke, "officer-7", "k", 1));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, Errc::not_found);
  {
    auto txn = store->read();
    EXPECT_EQ((*txn)->idempotency("officer-7", "k"), std::nullopt);
  }
  // ...so its retry, once the permit is here, is executed: it revokes.
  ASSERT_TRUE(run_one(Command{permit, "officer-7"}).ok());
  const auto retried = run_one(with_key(revoke, "officer-7", "k", 1));
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_FALSE(retried->replayed);
  EXPECT_EQ(retried->ref.seq, 2u);
  auto txn = store->read();
  EXPECT_EQ((*txn)->permit("gatuna-p1")->state, PermitState::revoked);
}

TEST_F(IdempotentCore, AKeyIsKeptForTheRetentionExactlyAndLaterWritesForgetIt) {
  ASSERT_TRUE(run_one(with_key(crossing("UG1000001"), "officer-7", "desk-1", 1)).ok());
  ASSERT_TRUE(run_one(with_key(crossing("UG2000002"), "officer-8", "desk-2", 2)).ok());
  const int64_t last = t0 + limits::idempotency_key_retention_ms;
  // Answered again up to the retention's last millisecond...
  const auto kept = run_one(with_key(crossing("UG1000001"), "officer-7", "desk-1", 1), last);
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(kept->replayed);
  // ...and past it the key is gone, though no write forgot it yet: the same key records anew.
  const auto anew = run_one(with_key(crossing("UG1000001"), "officer-7", "desk-1", 1), last + 1);
  ASSERT_TRUE(anew.ok());
  EXPECT_FALSE(anew->replayed);
  EXPECT_EQ(anew->ref.seq, 3u);
  // That write forgot the other expired key: the table shrinks without a sweep of its own.
  auto txn = store->read();
  EXPECT_EQ((*txn)->idempotency("officer-8", "desk-2"), std::nullopt);
  EXPECT_EQ((*txn)->idempotency("officer-7", "desk-1")->created_ms, last + 1);
  EXPECT_EQ((*txn)->count_of((*txn)->tables().idempotency_age), 1u);
}

// A batch of keyed commands that fills a small map is run again after the map grew: each key
// ends with its own record, once, and is answered with it again.
TEST(IdempotentCoreMapGrowth, KeysOfABatchRunAgainAfterAGrowthEachHoldTheirOwnRecord) {
  char tmpl[] = "/tmp/umupaka-idempotency-growth-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  {
    auto opened = Store::open(dir, lmdb::EnvOptions{.map_bytes = 256 * 1024});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    Store& store = **opened;
    NodeCore core(NodeIdentity{"net-test", "gatuna", SiteKind::border_post},
                  SigningKey::from_seed(SecretSeed{}));
    {
      auto txn = store.read();
      ASSERT_TRUE(core.recover(**txn, t0).ok());
    }
    std::vector<WriteWork> batch;
    constexpr int n = 300;
    for (int i = 0; i < n; ++i) batch.emplace_back(keyed_crossing(i));
    const auto out = run_group_commit(core, store, batch, [] { return t0; });
    ASSERT_TRUE(out.committed.ok()) << out.committed.error().message;
    ASSERT_GT(store.map_grows(), 0u) << "the batch did not fill the map";
    for (int i = 0; i < n; ++i)
      ASSERT_EQ(std::get<Result<Recorded>>(out.results[i])->ref.seq, uint64_t(i + 1));
    batch.clear();
    for (int i = 0; i < n; ++i) batch.emplace_back(keyed_crossing(i));
    const auto again = run_group_commit(core, store, batch, [] { return t0 + 1; });
    ASSERT_TRUE(again.committed.ok());
    EXPECT_TRUE(again.local.empty()) << "a replay's record is not this batch's";
    for (int i = 0; i < n; ++i) {
      const auto& r = std::get<Result<Recorded>>(again.results[i]);
      ASSERT_TRUE(r.ok() && r->replayed);
      EXPECT_EQ(r->ref.seq, uint64_t(i + 1));
    }
    auto txn = store.read();
    EXPECT_EQ((*txn)->head("gatuna")->seq, uint64_t(n));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace umupaka::test

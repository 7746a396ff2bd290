// Integration tests of the committed ledger on real processes: 3 voters and 2 learners.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>

#include "ledger/conflicts.hpp"
#include "ledger/crypto.hpp"
#include "ledger/ledger_entry.hpp"
#include "ledger/merkle.hpp"
#include "ledger/msgpack_visit.hpp"
#include "node/config.hpp"
#include "node/membership_client.hpp"
#include "node/network_setup.hpp"
#include "simulation/local_network.hpp"
#include "storage/lmdb.hpp"
#include "storage/store.hpp"
#include "tests/node/node_process.hpp"

namespace umupaka::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

json crossing(const std::string& number) { return typed_crossing("KEN", number, "OTIENO"); }
// HQ's sites (hq, dr-kigali) record a crossing only by naming its post.
json crossing_at(const std::string& post, const std::string& number) {
  json c = crossing(number);
  c["post"] = post;
  return c;
}

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sim::LocalUpOptions o;
    o.dir = dir.path() + "/net";
    o.sites = {"hq", "kigali-airport", "dr-kigali", "gatuna", "rusumo"};
    o.voters = {"hq", "kigali-airport", "dr-kigali"};
    o.base_port = 0;  // any free ports
    o.node_binary = UMUPAKA_NODE_BIN;
    o.snapshot_entries = snapshot_entries;
    o.snapshot_keep_entries = snapshot_keep_entries;
    auto up = sim::local_up(o);
    ASSERT_TRUE(up.ok()) << up.error().message;
    read_network();
    token = network["admin_token"];
  }
  void TearDown() override { (void)sim::local_down(dir.path() + "/net"); }

  // network.json as umupaka-sim wrote it: every site's API and pid.
  void read_network() {
    network = json::parse(*read_file(dir.path() + "/net/network.json"));
    for (const auto& s : network["sites"]) {
      api[s["id"]] = s["api"];
      pid[s["id"]] = s["pid"];
    }
  }

  json status(const std::string& site) {
    HttpClient c(api[site], token);
    c.set_timeout_ms(2000);
    return parse(c.get("/v1/status"));
  }
  std::string leader() {
    for (const auto& [id, a] : api) {
      const json s = status(id);
      if (s.is_object() && s["ledger"]["raft"]["role"] == "leader") return id;
    }
    return {};
  }
  // Every node reports the same ledger size (= every record held) and root.
  bool ledgers_agree(uint64_t min_size) {
    std::string root;
    uint64_t size = 0;
    for (const auto& [id, a] : api) {
      const json s = status(id);
      if (!s.is_object()) return false;
      const uint64_t records = s["counts"]["records"];
      const uint64_t ledger = s["ledger"]["size"];
      if (ledger != records || ledger < min_size) return false;
      if (root.empty()) {
        root = s["ledger"]["root"];
        size = ledger;
      } else if (s["ledger"]["root"] != root || ledger != size) {
        return false;
      }
    }
    return true;
  }

  // Each node's records and ledger, for failure messages.
  std::string ledgers() {
    std::string out;
    for (const auto& [id, a] : api) {
      const json s = status(id);
      out += "\n" + id + ": " +
             (s.is_object()
                  ? "records " + s["counts"]["records"].dump() + " ledger " + s["ledger"].dump()
                  : std::string("(no status)"));
    }
    return out;
  }

  std::optional<uint64_t> snapshot_entries;
  std::optional<uint64_t> snapshot_keep_entries;
  TempDir dir;
  json network;
  std::string token;
  std::map<std::string, std::string> api;
  std::map<std::string, int> pid;
};

TEST_F(LedgerTest, LearnersNeverLeadAndEveryNodeAppliesTheSameLedger) {
  ASSERT_TRUE(wait_until([&] { return !leader().empty(); }, 20s));
  const std::string l = leader();
  EXPECT_TRUE(l == "hq" || l == "kigali-airport" || l == "dr-kigali") << l;
  HttpClient gatuna(api["gatuna"], token);
  for (int i = 0; i < 30; ++i)
    ASSERT_EQ(
        gatuna.post("/v1/crossings", crossing("KE" + std::to_string(1000000 + i)).dump()).status,
        201);
  ASSERT_TRUE(wait_until([&] { return ledgers_agree(31); }, 30s));
  const json rec = parse(HttpClient(api["rusumo"], token).get("/v1/records/gatuna/7"));
  EXPECT_EQ(rec["state"], "committed");
  EXPECT_TRUE(rec["position"].is_number());
  // The change feed lists records in global order with consecutive positions.
  const json feed = parse(HttpClient(api["hq"], token).get("/v1/ledger?after=0&limit=10"));
  ASSERT_EQ(feed["records"].size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(feed["records"][i]["position"], i + 1);
}

TEST_F(LedgerTest, ProofsAndTheSignedHeadVerifyIndependently) {
  ASSERT_TRUE(wait_until([&] { return !leader().empty(); }, 20s));
  HttpClient hq(api["hq"], token);
  for (int i = 0; i < 40; ++i)
    ASSERT_EQ(hq.post("/v1/crossings",
                      crossing_at("kigali-airport", "KP" + std::to_string(1000000 + i)).dump())
                  .status,
              201);
  ASSERT_TRUE(wait_until([&] { return ledgers_agree(41); }, 30s));
  HttpClient learner(api["rusumo"], token);
  ASSERT_TRUE(wait_until(
      [&] { return parse(learner.get("/v1/ledger/head")).value("size", 0) >= 41; }, 20s));
  const json head = parse(learner.get("/v1/ledger/head"));
  // The head's signature, under the signer's key from the membership.
  const json m = parse(learner.get("/v1/membership"));
  PublicKey key{};
  for (const auto& s : m["sites"])
    if (s["site"] == head["signer"])
      from_hex(s["signing_key"].get<std::string>(), key.data(), key.size());
  LedgerHead h;
  h.network_id = head["network_id"];
  h.size = head["size"];
  from_hex(head["root"].get<std::string>(), h.root.data(), h.root.size());
  h.cluster_time_ms = head["cluster_time_ms"];
  h.signer = head["signer"];
  from_hex(head["signature"].get<std::string>(), h.signature.data(), h.signature.size());
  EXPECT_TRUE(verify_signature(key, ledger_head_signing_bytes(h), h.signature));
  // Inclusion of a few records, and consistency of an earlier size, against the signed root.
  for (uint64_t p : {uint64_t{0}, uint64_t{7}, h.size - 1}) {
    const json pr = parse(learner.get("/v1/ledger/proof/inclusion?position=" + std::to_string(p) +
                                      "&size=" + std::to_string(h.size)));
    Hash leaf{};
    from_hex(pr["leaf_hash"].get<std::string>(), leaf.data(), leaf.size());
    Hash record{};
    from_hex(pr["record_hash"].get<std::string>(), record.data(), record.size());
    EXPECT_EQ(leaf, merkle::leaf_hash(record));
    std::vector<Hash> path;
    for (const auto& x : pr["audit_path"]) {
      Hash y{};
      from_hex(x.get<std::string>(), y.data(), y.size());
      path.push_back(y);
    }
    EXPECT_TRUE(merkle::verify_inclusion(leaf, p, h.size, path, h.root)) << p;
    // Its size is the signed head's (a later head may have been signed since).
    EXPECT_EQ(pr["covered_by_signed_head"], true) << pr;
    EXPECT_GE(pr["signed_head_size"].get<uint64_t>(), h.size) << pr;
  }
  const json cp =
      parse(learner.get("/v1/ledger/proof/consistency?from=10&to=" + std::to_string(h.size)));
  Hash r1{};
  from_hex(cp["from_root"].get<std::string>(), r1.data(), r1.size());
  std::vector<Hash> proof;
  for (const auto& x : cp["proof"]) {
    Hash y{};
    from_hex(x.get<std::string>(), y.data(), y.size());
    proof.push_back(y);
  }
  EXPECT_TRUE(merkle::verify_consistency(10, h.size, r1, h.root, proof));
  EXPECT_EQ(cp["covered_by_signed_head"], true) << cp;

  // Bad parameters: a clear 422 naming the parameter, never a dropped connection or a silent
  // default.
  const std::string n = std::to_string(h.size);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"/v1/ledger/proof/inclusion?position=abc&size=" + n, "position"},
      {"/v1/ledger/proof/inclusion?size=" + n, "position"},
      {"/v1/ledger/proof/inclusion?position=" + n + "&size=" + n, "position"},
      {"/v1/ledger/proof/inclusion?position=1&size=abc", "size"},
      {"/v1/ledger/proof/inclusion?position=1&size=99999999", "size"},
      {"/v1/ledger/proof/inclusion?position=18446744073709551616", "position"},
      {"/v1/ledger/proof/inclusion?position=-1", "position"},
      {"/v1/ledger/proof/inclusion?position=%zz", "query"},
      {"/v1/ledger?a=%zz", "query"},
      {"/v1/ledger?after=5&after=1", "after"},
      {"/v1/ledger?limit=1&limit=0", "limit"},
      {"/v1/ledger?after", "after"},
      {"/v1/ledger/proof/consistency?from=0&to=" + n, "from"},
      {"/v1/ledger/proof/consistency?from=5&to=3", "from"},
      {"/v1/ledger/proof/consistency?from=1&to=99999999", "to"},
      {"/v1/ledger/proof/consistency?from=1", "to"},
      {"/v1/ledger?after=x", "after"},
      {"/v1/ledger?limit=0", "limit"},
      {"/v1/ledger?limit=100000", "limit"},
      {"/v1/ledger?limit=-1", "limit"},
      {"/v1/ledger?=1", "query"},  // a value without a name
      {"/v1/conflicts?after=1e3", "after"},
      {"/v1/records/hq/18446744073709551616", "seq"},
      {"/v1/records/hq/abc", "seq"},
      // A parameter the path does not take (a misspelling would get the default's answer).
      {"/v1/ledger/proof/inclusion?position=1&sise=" + n, "sise"},
      {"/v1/ledger/proof/consistency?from=1&to=" + n + "&size=3", "size"},
      {"/v1/ledger?after=1&limt=5", "limt"},
      {"/v1/ledger?verbose", "verbose"},
      {"/v1/conflicts?after=1&limit=5", "limit"},
      {"/v1/ledger/head?size=10", "size"},
      {"/v1/ledger/frontier?after=1", "after"},
  };
  for (const auto& [path, field] : bad) {
    const auto r = hq.get(path);
    EXPECT_EQ(r.status, 422) << path << " " << r.body;
    const json j = json::parse(r.body, nullptr, false);
    EXPECT_EQ(j.value("field", ""), field) << path << " " << r.body;
  }
  // The range a parameter takes, as the path takes it.
  EXPECT_NE(hq.get("/v1/ledger?limit=-1").body.find("from 1 to 1000"), std::string::npos);
  EXPECT_EQ(hq.get("/v1/records/hq/18446744073709551615").status, 404);
  // Past the end of the ledger: an empty page, not a wrap to its start.
  const json end = parse(hq.get("/v1/ledger?after=18446744073709551615"));
  EXPECT_TRUE(end["records"].empty()) << end.dump();
  EXPECT_EQ(end["next_after"], json(UINT64_MAX));
  // Conflicts: every alert without `after`, with the cursor to go on from.
  const json c = parse(hq.get("/v1/conflicts"));
  EXPECT_TRUE(c.contains("next_after")) << c.dump();
}

TEST_F(LedgerTest, LeaderKilledUnderLoadLosesNoAcknowledgedRecord) {
  ASSERT_TRUE(wait_until([&] { return !leader().empty(); }, 20s));
  std::mutex mu;
  std::vector<std::tuple<std::string, uint64_t, std::string>> acked;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  // A writer at every node: whichever is leader, officers are recording there when it is killed
  // (at HQ's sites, crossings at the airport).
  const std::vector<std::tuple<std::string, std::string, std::string>> sites = {
      {"gatuna", "gatuna", "KG"},
      {"rusumo", "rusumo", "KR"},
      {"hq", "kigali-airport", "KH"},
      {"kigali-airport", "kigali-airport", "KI"},
      {"dr-kigali", "kigali-airport", "KD"}};
  for (const auto& [site_id, post_id, prefix_id] : sites) {
    writers.emplace_back([&, site = site_id, post = post_id, prefix = prefix_id] {
      HttpClient c(api[site], token);
      c.set_timeout_ms(3000);
      for (int i = 0; !stop; ++i) {
        auto r =
            c.post("/v1/crossings", crossing_at(post, prefix + std::to_string(1000000 + i)).dump());
        if (r.status != 201) {
          std::this_thread::sleep_for(50ms);
          continue;
        }
        const json j = parse(r);
        std::lock_guard lock(mu);
        acked.emplace_back(site, j["seq"].get<uint64_t>(), j["hash"].get<std::string>());
      }
    });
  }
  std::this_thread::sleep_for(1500ms);
  const std::string victim = leader();
  ASSERT_FALSE(victim.empty());
  ASSERT_EQ(::kill(pid[victim], SIGKILL), 0);
  std::this_thread::sleep_for(2000ms);
  // A new leader among the surviving voters.
  EXPECT_TRUE(wait_until(
      [&] {
        const std::string l = leader();
        return !l.empty() && l != victim;
      },
      20s));
  auto restarted = sim::start_site(dir.path() + "/net", victim);
  ASSERT_TRUE(restarted.ok());
  std::this_thread::sleep_for(1000ms);
  stop = true;
  for (auto& w : writers) w.join();
  ASSERT_GT(acked.size(), 20u);
  ASSERT_TRUE(wait_until([&] { return ledgers_agree(acked.size()); }, 60s));
  // Every acknowledged record is committed, with the hash the officer was given, at every node:
  // each node's whole ledger read through the change feed.
  for (const auto& [site, a] : api) {
    HttpClient c(a, token);
    std::map<std::pair<std::string, uint64_t>, std::string> ledger;  // (origin, seq) -> hash
    std::string after;
    for (int page = 0; page < 1000; ++page) {
      const json j = parse(c.get("/v1/ledger?limit=1000" + after));
      ASSERT_TRUE(j.is_object()) << site;
      for (const auto& r : j["records"]) {
        EXPECT_EQ(r["state"], "committed") << site << " " << r.dump();
        ledger[{r["origin"], r["seq"]}] = r["hash"];
      }
      if (j["records"].empty()) break;
      after = "&after=" + j["next_after"].dump();
    }
    size_t missing = 0;
    for (const auto& [origin, seq, hash] : acked) {
      const auto it = ledger.find({origin, seq});
      if (it == ledger.end() || it->second != hash) {
        if (++missing <= 5)
          ADD_FAILURE() << site << " lacks acknowledged " << origin << "/" << seq << " " << hash;
      }
    }
    EXPECT_EQ(missing, 0u) << site << ": " << missing << " of " << acked.size()
                           << " acknowledged records not in its ledger" << ledgers();
  }
}

// The HQ console on a real node: `umupaka-admin audit` verifies a healthy ledger (OK) and, once
// the store's global order is tampered with behind the node's back (two records of one feed
// swapped), reports the fault at the first position that does not hold; `umupaka-admin
// conflicts` lists the alerts.
TEST_F(LedgerTest, AuditVerifiesTheLedgerAndReportsTheFirstFault) {
  ASSERT_TRUE(wait_until([&] { return !leader().empty(); }, 20s));
  HttpClient hq(api["hq"], token);
  for (int i = 0; i < 20; ++i)
    ASSERT_EQ(hq.post("/v1/crossings",
                      crossing_at("kigali-airport", "KA" + std::to_string(1000000 + i)).dump())
                  .status,
              201);
  ASSERT_TRUE(wait_until([&] { return ledgers_agree(21); }, 30s));
  HttpClient rusumo(api["rusumo"], token);
  ASSERT_TRUE(
      wait_until([&] { return parse(rusumo.get("/v1/ledger/head")).value("size", 0) >= 21; }, 20s));
  auto admin = [&](const std::string& args) {
    const std::string cmd = std::string(UMUPAKA_ADMIN_BIN) + " " + args + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    for (size_t n; p != nullptr && (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    const int status = p == nullptr ? -1 : ::pclose(p);
    return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
  };
  const std::string at = " --node " + api["rusumo"] + " --token " + token;
  const auto [ok_rc, ok_out] = admin("audit" + at);
  EXPECT_EQ(ok_rc, 0) << ok_out;
  EXPECT_NE(ok_out.find("signed head verified"), std::string::npos) << ok_out;
  EXPECT_NE(ok_out.find("\nOK"), std::string::npos) << ok_out;
  // The root key pinned: the network's passes, another is a fault before any record is read.
  const std::string root_key = parse(rusumo.get("/v1/membership")).value("root_key", "");
  ASSERT_EQ(root_key.size(), 64u);
  const auto [pinned_rc, pinned_out] = admin("audit" + at + " --root-public-key " + root_key);
  EXPECT_EQ(pinned_rc, 0) << pinned_out;
  std::string other_key = root_key;
  other_key[0] = other_key[0] == '0' ? '1' : '0';
  const auto [other_rc, other_out] = admin("audit" + at + " --root-public-key " + other_key);
  EXPECT_EQ(other_rc, 1) << other_out;
  EXPECT_NE(other_out.find("FAULT at the start: the node's network root key is " + root_key),
            std::string::npos)
      << other_out;
  EXPECT_EQ(admin("audit" + at + " --root-public-key 12ab").first, 2);
  // Not audited (exit 3, not 1): a token refused, a node that does not answer.
  const auto [refused_rc, refused_out] =
      admin("audit --node " + api["rusumo"] + " --token not-a-token");
  EXPECT_EQ(refused_rc, 3) << refused_out;
  EXPECT_NE(refused_out.find("audit incomplete: GET /v1/membership: 401"), std::string::npos)
      << refused_out;
  EXPECT_EQ(admin("audit --node http://127.0.0.1:1 --token " + token).first, 3);
  const auto [c_rc, c_out] = admin("conflicts" + at);
  EXPECT_EQ(c_rc, 0) << c_out;
  EXPECT_NE(c_out.find("conflict alert(s)"), std::string::npos) << c_out;

  const uint64_t size_before = parse(rusumo.get("/v1/ledger/frontier")).value("size", uint64_t{0});
  ASSERT_GE(size_before, 21u);
  // Swap two of HQ's records in rusumo's global order, the node stopped.
  const std::string net = dir.path() + "/net";
  ASSERT_EQ(::kill(pid["rusumo"], SIGTERM), 0);
  ASSERT_TRUE(wait_until([&] { return ::waitpid(pid["rusumo"], nullptr, WNOHANG) != 0; }, 10s));
  // Positions are insert-only in the store's own API: the tamperer writes LMDB directly.
  auto key = [](uint64_t v) {
    std::string k;
    for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return k;
  };
  // rusumo's global order (its table ledger_order), changed in one transaction.
  auto write_order = [&](const std::function<void(lmdb::Txn&, MDB_dbi)>& change) {
    auto env = lmdb::Env::open(net + "/rusumo/store", lmdb::EnvOptions{.tables_max = 64});
    ASSERT_TRUE(env.ok()) << env.error().message;
    auto order = (*env)->open_table("ledger_order");
    ASSERT_TRUE(order.ok()) << order.error().message;
    auto txn = (*env)->begin_write();
    ASSERT_TRUE(txn.ok()) << txn.error().message;
    change(*txn, *order);
    ASSERT_TRUE(txn->commit().ok());
  };
  // Swaps the rows of positions p and p + 1 if they are of one feed (rows hold the feed key,
  // origin and seq, so two rows of one feed share their first bytes) or `any_feed`.
  auto swap_rows = [&](lmdb::Txn& txn, MDB_dbi order, uint64_t p, bool any_feed) {
    auto a = txn.get(order, key(p));
    auto b = txn.get(order, key(p + 1));
    EXPECT_TRUE(a.ok() && b.ok() && *a && *b);
    if (!a.ok() || !b.ok() || !*a || !*b) return false;
    const std::string va(**a), vb(**b);
    if (!any_feed && (va.substr(0, 2) != vb.substr(0, 2) || va.size() != vb.size())) return false;
    EXPECT_TRUE(txn.put(order, key(p), vb).ok());
    EXPECT_TRUE(txn.put(order, key(p + 1), va).ok());
    return true;
  };
  uint64_t swapped = 0;
  write_order([&](lmdb::Txn& txn, MDB_dbi order) {
    for (uint64_t p = 1; p + 1 < 21 && swapped == 0; ++p)
      if (swap_rows(txn, order, p, false)) swapped = p;
  });
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_GT(swapped, 0u);
  // And more conflict alerts at one position than a page holds (1,000), three at the next: the
  // first page is that whole position, the second the next one (none skipped).
  {
    auto store = Store::open(net + "/rusumo/store");
    ASSERT_TRUE(store.ok()) << store.error().message;
    ASSERT_TRUE((*store)
                    ->write([size_before](StoreTxn& t) -> Status {
                      for (uint64_t p : {uint64_t{2}, uint64_t{3}})
                        for (uint32_t n = 0; n < (p == 2 ? 1'200u : 3u); ++n) {
                          ConflictAlert a;
                          a.kind = ConflictKind::entry_while_present;
                          a.position = p;
                          a.record = RecordRef{"hq", p};
                          a.explanation = "planted " + std::to_string(n);
                          t.put_conflict(p, 100 + n, msgpack_visit::encode_struct(a));
                        }
                      // And one at the position the next record will take (as a fork alert
                      // is raised before the record after it is committed).
                      ConflictAlert tail;
                      tail.kind = ConflictKind::forked_feed;
                      tail.position = size_before;
                      tail.record = RecordRef{"hq", 1};
                      tail.explanation = "planted at the tail";
                      t.put_conflict(size_before, 0, msgpack_visit::encode_struct(tail));
                      return {};
                    })
                    .ok());
  }
  auto restarted = sim::start_site(net, "rusumo");
  ASSERT_TRUE(restarted.ok()) << restarted.error().message;
  ASSERT_TRUE(wait_until([&] { return status("rusumo").is_object(); }, 20s));
  const auto [bad_rc, bad_out] = admin("audit" + at);
  EXPECT_EQ(bad_rc, 1) << bad_out;
  EXPECT_NE(bad_out.find("FAULT at position " + std::to_string(swapped) + ":"), std::string::npos)
      << bad_out;
  HttpClient r(api["rusumo"], token);
  const json p1 = parse(r.get("/v1/conflicts?after=1"));
  ASSERT_TRUE(p1.is_object());
  size_t planted = 0;
  for (const auto& a : p1["conflicts"]) {
    EXPECT_EQ(a["position"], 2) << a.dump();
    planted += a["explanation"].get<std::string>().rfind("planted", 0) == 0;
  }
  EXPECT_EQ(planted, 1'200u);
  EXPECT_EQ(p1["next_after"], 2);
  const json p2 = parse(r.get("/v1/conflicts?after=2"));
  size_t at3 = 0;
  for (const auto& a : p2["conflicts"]) at3 += a["position"] == 3;
  EXPECT_GE(at3, 3u) << p2.dump().substr(0, 400);
  // The alert at the tail is not listed while no record is there (a page ending at it would
  // make the next start past the alerts of the record that joins it), and is once one is.
  const std::string past = "/v1/conflicts?after=" + std::to_string(size_before - 1);
  const json none = parse(r.get(past));
  EXPECT_TRUE(none["conflicts"].empty()) << none.dump();
  EXPECT_EQ(none["next_after"], size_before - 1);
  ASSERT_EQ(hq.post("/v1/crossings", crossing_at("kigali-airport", "KA2000000").dump()).status,
            201);
  ASSERT_TRUE(wait_until(
      [&] { return parse(r.get("/v1/ledger/frontier")).value("size", uint64_t{0}) > size_before; },
      20s));
  const json tail = parse(r.get(past));
  ASSERT_EQ(tail["conflicts"].size(), 1u) << tail.dump();
  EXPECT_EQ(tail["conflicts"][0]["explanation"], "planted at the tail");
  EXPECT_EQ(tail["next_after"], size_before);

  // The swap undone and the row of position 7 deleted instead: the change feed answers 500
  // `storage` for a page that would hold it (never a short page), and the audit reports the
  // fault there, not an audit cut short at position 7 and passed.
  ASSERT_EQ(::kill(*restarted, SIGTERM), 0);
  ASSERT_TRUE(wait_until([&] { return ::waitpid(*restarted, nullptr, WNOHANG) != 0; }, 10s));
  write_order([&](lmdb::Txn& txn, MDB_dbi order) {
    EXPECT_TRUE(swap_rows(txn, order, swapped, true));
    EXPECT_TRUE(txn.del(order, key(7)).ok());
  });
  ASSERT_FALSE(HasFatalFailure());
  auto again = sim::start_site(net, "rusumo");
  ASSERT_TRUE(again.ok()) << again.error().message;
  ASSERT_TRUE(wait_until([&] { return status("rusumo").is_object(); }, 20s));
  const auto page = HttpClient(api["rusumo"], token).get("/v1/ledger?after=4&limit=10");
  EXPECT_EQ(page.status, 500) << page.body;
  EXPECT_EQ(parse(page).value("code", ""), "storage") << page.body;
  const auto [gap_rc, gap_out] = admin("audit" + at);
  EXPECT_EQ(gap_rc, 1) << gap_out;
  EXPECT_NE(gap_out.find("FAULT at position 7: the node cannot read its ledger here"),
            std::string::npos)
      << gap_out;
}

// A site certified again with a new peer endpoint (a post moved to another address): every peer
// drops its connection to the old endpoint and dials the new one, and the site's records and the
// ledger flow again both ways. (Dialling the same site again under its old routing id could abort
// the node inside libzmq: a new connection must not reuse a routing id still being torn down.)
TEST_F(LedgerTest, ASiteCertifiedAgainAtANewEndpointIsReachedThere) {
  ASSERT_TRUE(wait_until([&] { return !leader().empty(); }, 20s));
  const std::string net = dir.path() + "/net";
  const std::string data = net + "/gatuna";
  ASSERT_EQ(::kill(pid["gatuna"], SIGTERM), 0);
  ASSERT_TRUE(wait_until([&] { return !status("gatuna").is_object(); }, 10s));
  auto cfg = load_config(data);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  const std::string moved = "tcp://127.0.0.1:" + std::to_string(free_port());
  cfg->peer_listen = moved;
  ASSERT_TRUE(save_config(*cfg).ok());
  auto entry = read_join_request(data + "/join-request.json");
  ASSERT_TRUE(entry.ok()) << entry.error().message;
  entry->peer = moved;
  entry->role = VoterRole::learner;
  auto root = read_root_key(network["root_key"].get<std::string>());
  ASSERT_TRUE(root.ok());
  HttpClient hq(api["hq"], token);
  auto certified = submit_root_record(hq, *root, SiteCertified{*entry}, 1'790'000'000'000);
  ASSERT_TRUE(certified.ok()) << certified.error().message;
  // Every running node learns the new endpoint (and keeps running).
  ASSERT_TRUE(wait_until(
      [&] {
        for (const std::string s : {"hq", "kigali-airport", "dr-kigali", "rusumo"}) {
          const json m = parse(HttpClient(api[s], token).get("/v1/membership"));
          if (!m.is_object()) return false;
          bool found = false;
          for (const auto& site : m["sites"])
            if (site["site"] == "gatuna" && site["peer"] == moved) found = true;
          if (!found) return false;
        }
        return true;
      },
      20s));
  auto restarted = sim::start_site(net, "gatuna");
  ASSERT_TRUE(restarted.ok()) << restarted.error().message;
  pid["gatuna"] = *restarted;
  HttpClient gatuna(api["gatuna"], token), rusumo(api["rusumo"], token);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(
        gatuna.post("/v1/crossings", crossing("KN" + std::to_string(1000000 + i)).dump()).status,
        201);
    ASSERT_EQ(
        rusumo.post("/v1/crossings", crossing("KR" + std::to_string(1000000 + i)).dump()).status,
        201);
  }
  ASSERT_TRUE(wait_until([&] { return ledgers_agree(22); }, 60s)) << ledgers();
  for (const auto& [site, p] : pid) EXPECT_EQ(::kill(p, 0), 0) << site << " is not running";
}

// Every node snapshots its ledger every 10 applied entries and keeps 2 below it.
class CompactingLedgerTest : public LedgerTest {
 protected:
  void SetUp() override {
    snapshot_entries = 10;
    snapshot_keep_entries = 2;
    LedgerTest::SetUp();
  }
};

// A learner stopped while the others go on comes back behind the leader's compacted log: it
// installs the snapshot (records by gossip, ledger rows from a voter checked against the Merkle
// root), then follows the log, and ends with the same ledger and root as every other node.
TEST_F(CompactingLedgerTest, ALearnerBehindTheCompactedLogInstallsASnapshot) {
  ASSERT_TRUE(wait_until([&] { return !leader().empty(); }, 20s));
  ASSERT_EQ(::kill(pid["rusumo"], SIGTERM), 0);
  ASSERT_TRUE(wait_until(
      [&] { return ::kill(pid["rusumo"], 0) != 0 || !status("rusumo").is_object(); }, 10s));
  HttpClient gatuna(api["gatuna"], token);
  for (int i = 0; i < 60; ++i) {
    ASSERT_EQ(
        gatuna.post("/v1/crossings", crossing("KS" + std::to_string(1000000 + i)).dump()).status,
        201);
    std::this_thread::sleep_for(30ms);  // one ledger entry each, about
  }
  // The leader compacted its log past where rusumo stopped.
  ASSERT_TRUE(wait_until(
      [&] {
        const std::string l = leader();
        const json s = l.empty() ? json() : status(l);
        return s.is_object() && s["ledger"]["raft"]["first_index"].get<uint64_t>() > 20;
      },
      30s));
  // Each voter restarts in turn (from its snapshot and the entries after it). This also drops the
  // appends a leader queued for rusumo before it compacted (ZeroMQ keeps them for a peer that is
  // away), so rusumo can only catch up through a snapshot.
  for (const std::string v : {"hq", "kigali-airport", "dr-kigali"}) {
    ASSERT_EQ(::kill(pid[v], SIGTERM), 0);
    ASSERT_TRUE(wait_until([&] { return !status(v).is_object(); }, 10s));
    std::this_thread::sleep_for(500ms);
    auto r = sim::start_site(dir.path() + "/net", v);
    ASSERT_TRUE(r.ok()) << r.error().message;
    pid[v] = *r;
    ASSERT_TRUE(wait_until([&] { return !leader().empty(); }, 20s)) << v;
    const json st = status(v)["ledger"]["raft"];
    EXPECT_GT(st["snapshot_index"].get<uint64_t>(), 0u) << v << " " << st.dump();
  }
  auto restarted = sim::start_site(dir.path() + "/net", "rusumo");
  ASSERT_TRUE(restarted.ok()) << restarted.error().message;
  pid["rusumo"] = *restarted;
  ASSERT_TRUE(wait_until([&] { return ledgers_agree(61); }, 60s));
  // (The Raft part of /v1/status is the network thread's latest published view: waited for.)
  EXPECT_TRUE(wait_until(
      [&] {
        const json r = status("rusumo")["ledger"]["raft"];
        return r["snapshots_installed"].get<uint64_t>() >= 1 && r["installing"].is_null();
      },
      10s))
      << status("rusumo")["ledger"].dump();
  // It serves the change feed and proofs like any node.
  const json rec = parse(HttpClient(api["rusumo"], token).get("/v1/records/gatuna/30"));
  EXPECT_EQ(rec["state"], "committed");
}

// Sites certified after the genesis, into a network whose log is compacted: each new node starts
// outside the Raft configuration, the leader adds it as a learner (a voter is promoted once it
// holds the log), it installs a snapshot and ends with the same ledger and root as every node.
TEST_F(CompactingLedgerTest, SitesCertifiedAfterTheGenesisJoinAndInstallASnapshot) {
  ASSERT_TRUE(wait_until([&] { return !leader().empty(); }, 20s));
  HttpClient gatuna(api["gatuna"], token);
  auto write = [&](const std::string& prefix, int count) {
    for (int i = 0; i < count; ++i) {
      ASSERT_EQ(gatuna.post("/v1/crossings", crossing(prefix + std::to_string(1000000 + i)).dump())
                    .status,
                201);
      std::this_thread::sleep_for(30ms);  // one ledger entry each, about
    }
  };
  write("KL", 40);
  ASSERT_TRUE(wait_until(
      [&] {
        const std::string l = leader();
        const json s = l.empty() ? json() : status(l);
        return s.is_object() && s["ledger"]["raft"]["first_index"].get<uint64_t>() > 10;
      },
      30s));
  const std::string net = dir.path() + "/net";
  for (const auto& [site, role] : std::vector<std::pair<std::string, std::string>>{
           {"kagitumba", "learner"}, {"kigali-airport-2:airport", "voter"}}) {
    sim::LocalAddOptions o;
    o.dir = net;
    o.site = site;
    o.role = role;
    o.node_binary = UMUPAKA_NODE_BIN;
    auto added = sim::local_add(o);
    ASSERT_TRUE(added.ok()) << site << ": " << added.error().message;
  }
  read_network();
  ASSERT_EQ(api.size(), 7u);
  write("KM", 10);
  ASSERT_TRUE(wait_until([&] { return ledgers_agree(53); }, 60s)) << ledgers();
  // Every node applied the same configuration: the new voter promoted, the new post a learner.
  const json voters = json::array({"dr-kigali", "hq", "kigali-airport", "kigali-airport-2"});
  const json learners = json::array({"gatuna", "kagitumba", "rusumo"});
  EXPECT_TRUE(wait_until(
      [&] {
        for (const auto& [site, a] : api) {
          const json r = status(site)["ledger"]["raft"];
          if (r["voters"] != voters || r["learners"] != learners) return false;
        }
        return true;
      },
      20s))
      << status("hq")["ledger"]["raft"].dump();
  for (const std::string site : {"kagitumba", "kigali-airport-2"}) {
    // The Raft part of /v1/status is the network thread's latest published view, which may trail
    // the ledger read from the store just above: waited for.
    EXPECT_TRUE(wait_until(
        [&] {
          const json r = status(site)["ledger"]["raft"];
          return r["snapshots_installed"].get<uint64_t>() >= 1 && r["installing"].is_null();
        },
        10s))
        << site << " " << status(site)["ledger"]["raft"].dump();
    const json rec = parse(HttpClient(api[site], token).get("/v1/records/gatuna/5"));
    EXPECT_EQ(rec["state"], "committed") << site;
  }
}

}  // namespace
// A join that committed the genesis to the store but could not write node.toml (a full disk)
// left a node that could neither run nor join again ("the store belongs to network X, the
// configuration to Y"). The same join again finishes it, and a join repeated after success
// changes nothing. Also: a bad --role exits 2 at the admin console, as at every command.
TEST(NodeJoin, AJoinWhoseConfigurationWasNotWrittenIsFinishedByTheSameJoin) {
  TempDir dir;
  const std::string d = dir.path(), node = UMUPAKA_NODE_BIN, admin = UMUPAKA_ADMIN_BIN;
  NodeProcess p(d + "/hq", "hq", "hq");
  ASSERT_TRUE(p.init_ok());
  ASSERT_EQ(run_command(admin + " keygen --root-key " + d + "/root.key >/dev/null").second, 0);
  ASSERT_EQ(run_command(admin + " network create --root-key " + d +
                        "/root.key --network-id net-join --join " + d +
                        "/hq/join-request.json --out " + d + "/genesis.json >/dev/null")
                .second,
            0);
  const auto standalone = load_config(d + "/hq");
  ASSERT_TRUE(standalone.ok()) << standalone.error().message;
  const std::string join = node + " join --data " + d + "/hq --genesis " + d + "/genesis.json";
  ASSERT_EQ(run_command(join + " >/dev/null").second, 0);
  auto joined = load_config(d + "/hq");
  ASSERT_TRUE(joined.ok());
  EXPECT_EQ(joined->network_id, "net-join");
  // node.toml as a failed save leaves it: the store joined, the configuration still standalone.
  ASSERT_TRUE(save_config(*standalone).ok());
  const auto [out, rc] = run_command(join + " 2>&1");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("node.toml completed"), std::string::npos) << out;
  joined = load_config(d + "/hq");
  ASSERT_TRUE(joined.ok());
  EXPECT_EQ(joined->network_id, "net-join");
  const auto [again, again_rc] = run_command(join + " 2>&1");
  EXPECT_EQ(again_rc, 0) << again;
  EXPECT_NE(again.find("already joined"), std::string::npos) << again;
  // The node runs in its network.
  ASSERT_TRUE(p.start());
  EXPECT_EQ(parse(HttpClient(p.base(), p.token("auditor", "a")).get("/v1/status"))["network_id"],
            "net-join");
  EXPECT_EQ(run_command(admin + " certify --root-key " + d + "/root.key --node http://x --token t" +
                        " --join " + d + "/hq/join-request.json --role bogus 2>/dev/null")
                .second,
            2);
}

}  // namespace umupaka::test

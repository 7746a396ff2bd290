// Integration tests of a network of real umupaka-node processes on 127.0.0.1: replication,
// catch-up, partitions, and what a hostile peer cannot do.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>
#include <zmq.hpp>

#include "ledger/record.hpp"
#include "node/config.hpp"
#include "node/gossip.hpp"
#include "node/network_setup.hpp"
#include "simulation/local_network.hpp"
#include "tests/node/node_process.hpp"

namespace umupaka::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

json crossing(const std::string& number) { return typed_crossing("UGA", number, "NAKATO"); }

class NetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sim::LocalUpOptions o;
    o.dir = dir.path() + "/net";
    o.sites = {"hq", "gatuna", "rusumo", "kagitumba", "kigali-airport"};
    o.base_port = 0;  // any free ports
    o.node_binary = UMUPAKA_NODE_BIN;
    auto up = sim::local_up(o);
    ASSERT_TRUE(up.ok()) << up.error().message;
    auto text = read_file(o.dir + "/network.json");
    ASSERT_TRUE(text.ok());
    network = json::parse(*text);
    token = network["admin_token"];
    for (const auto& s : network["sites"]) {
      api[s["id"]] = s["api"];
      pid[s["id"]] = s["pid"];
      data[s["id"]] = s["data"];
    }
  }
  void TearDown() override {
    for (auto& [id, p] : pid) ::kill(p, SIGCONT);
    // Whatever the test did, every node ends with the same committed ledger.
    if (!HasFatalFailure()) {
      EXPECT_TRUE(wait_until([&] { return ledgers_agree(); }, 30s)) << ledgers();
    }
    (void)sim::local_down(dir.path() + "/net");
  }

  // Every node answers with the same ledger (size and root), not empty; a site HQ revoked is
  // cut off by its peers and left out.
  bool ledgers_agree() {
    std::set<std::string> revoked;
    const json m = parse(client("hq")->get("/v1/membership"));
    if (!m.is_object()) return false;
    for (const auto& site : m["sites"])
      if (!site["revoked_after"].is_null()) revoked.insert(site["site"]);
    std::optional<std::pair<uint64_t, std::string>> first;
    for (const auto& [id, a] : api) {
      if (revoked.count(id)) continue;
      HttpClient c(a, token);
      c.set_timeout_ms(2000);
      const json s = parse(c.get("/v1/status"));
      if (!s.is_object() || !s.contains("ledger")) return false;
      const std::pair<uint64_t, std::string> l{s["ledger"]["size"], s["ledger"]["root"]};
      if (l.first == 0 || (first && l != *first)) return false;
      first = l;
    }
    return true;
  }
  std::string ledgers() {
    std::string out;
    for (const auto& [id, a] : api) {
      HttpClient c(a, token);
      c.set_timeout_ms(2000);
      const json s = parse(c.get("/v1/status"));
      out += "\n" + id + ": " + (s.is_object() ? s["ledger"].dump() : std::string("(no status)"));
    }
    return out;
  }

  std::unique_ptr<HttpClient> client(const std::string& site) {
    return std::make_unique<HttpClient>(api[site], token);
  }
  std::map<std::string, uint64_t> heads(const std::string& site) {
    std::map<std::string, uint64_t> out;
    const json f = parse(client(site)->get("/v1/feeds"));
    if (!f.is_object()) return out;
    for (const auto& e : f["feeds"]) out[e["origin"]] = e["seq"];
    return out;
  }
  json status(const std::string& site) { return parse(client(site)->get("/v1/status")); }
  bool all_hold(const std::vector<std::string>& sites,
                const std::map<std::string, uint64_t>& want) {
    for (const auto& s : sites) {
      const auto h = heads(s);
      for (const auto& [origin, seq] : want) {
        auto it = h.find(origin);
        if (it == h.end() || it->second < seq) return false;
      }
    }
    return true;
  }
  std::vector<std::string> sites() const {
    std::vector<std::string> out;
    for (const auto& [id, a] : api) out.push_back(id);
    return out;
  }
  // Writes n crossings at `site` (HQ's at Gatuna: HQ names the post); returns its head afterwards.
  uint64_t write(const std::string& site, int n, const std::string& tag) {
    auto c = client(site);
    uint64_t seq = 0;
    for (int i = 0; i < n; ++i) {
      json body = crossing(tag + std::to_string(100000 + i));
      if (site == "hq") body["post"] = "gatuna";
      auto r = c->post("/v1/crossings", body.dump());
      EXPECT_EQ(r.status, 201) << r.body;
      seq = parse(r)["seq"];
    }
    return seq;
  }

  // A DEALER speaking as `as_site` (with its certified transport keys) to `to_site`'s peer port.
  std::unique_ptr<zmq::socket_t> rogue(const std::string& as_site, const std::string& to_site) {
    auto pub = load_transport_public_key(data[as_site]);
    auto sec = load_transport_secret_key(data[as_site]);
    auto server = load_transport_public_key(data[to_site]);
    auto s = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::dealer);
    s->set(zmq::sockopt::linger, 0);
    s->set(zmq::sockopt::curve_publickey, *pub);
    s->set(zmq::sockopt::curve_secretkey, *sec);
    s->set(zmq::sockopt::curve_serverkey, *server);
    s->set(zmq::sockopt::routing_id, as_site + "-rogue");
    std::string peer;
    for (const auto& x : network["sites"])
      if (x["id"] == to_site) peer = x["peer"];
    s->connect(peer);
    return s;
  }
  // A record of `origin` at `seq` linked to `prev`, signed with `seed`.
  SignedRecord forge(const std::string& origin, uint64_t seq, const Hash& prev,
                     const SecretSeed& seed, const std::string& number) {
    Record r;
    r.header.network_id = network["network_id"];
    r.header.origin = OriginId(origin);
    r.header.seq = Seq(seq);
    r.header.prev_hash = prev;
    r.header.hlc = Hlc::make(1'800'000'000'000, 0);
    Crossing c;
    c.post = origin;
    c.traveller = Person{"FORGED", "RECORD", "UGA", std::nullopt, Sex::female};
    c.document = DocumentRef{DocumentKind::passport, "UGA", number, std::nullopt};
    c.officer = "nobody";
    r.body = c;
    return seal(r, SigningKey::from_seed(seed));
  }
  void push(zmq::socket_t& s, const std::string& as_site,
            const std::vector<SignedRecord>& records) {
    GossipMessage m;
    m.type = GossipType::push;
    m.from = as_site;
    m.hops = 1;
    for (const auto& sr : records) m.records.push_back(WireRecord{sr.encoded, sr.signature});
    const std::string frame = encode_gossip(m);
    s.send(zmq::buffer(frame), zmq::send_flags::none);
  }
  // HQ revokes `site` after seq `cutoff`: a root record made from HQ's membership head, posted to
  // HQ's API (umupaka-admin revoke's path).
  HttpResponse revoke(const std::string& site, uint64_t cutoff, const std::string& reason) {
    auto root = read_root_key(network["root_key"].get<std::string>());
    EXPECT_TRUE(root.ok());
    if (!root.ok()) return HttpResponse{};
    const json m = parse(client("hq")->get("/v1/membership"));
    Hash root_head{};
    EXPECT_TRUE(from_hex(m["root_head"].get<std::string>(), root_head.data(), root_head.size()));
    auto rec = make_root_record(*root, network["network_id"].get<std::string>(),
                                m["root_seq"].get<uint64_t>(), root_head,
                                SiteRevoked{site, cutoff, reason}, 1'800'000'000'000);
    EXPECT_TRUE(rec.ok());
    if (!rec.ok()) return HttpResponse{};
    return client("hq")->post("/v1/membership", signed_record_json(*rec));
  }

  Hash head_hash(const std::string& at, const std::string& origin) {
    const json f = parse(client(at)->get("/v1/feeds"));
    Hash h{};
    for (const auto& e : f["feeds"])
      if (e["origin"] == origin) from_hex(e["hash"].get<std::string>(), h.data(), h.size());
    return h;
  }

  TempDir dir;
  json network;
  std::string token;
  std::map<std::string, std::string> api, data;
  std::map<std::string, int> pid;
  zmq::context_t ctx;
};

TEST_F(NetworkTest, RecordsWrittenAtEveryNodeAppearAtEveryOther) {
  std::map<std::string, uint64_t> want;
  for (const auto& s : sites()) want[s] = write(s, 20, "U" + std::to_string(s.size()));
  ASSERT_TRUE(wait_until([&] { return all_hold(sites(), want); }, 30s));
  // A record from another origin is served everywhere, marked seen, with its signature.
  const json rec = parse(client("kigali-airport")->get("/v1/records/gatuna/5"));
  EXPECT_EQ(rec["origin"], "gatuna");
  EXPECT_TRUE(rec["state"] == "seen" || rec["state"] == "committed") << rec["state"];
  // The origin learns its records were seen elsewhere.
  EXPECT_TRUE(wait_until(
      [&] {
        const json state = parse(client("gatuna")->get("/v1/records/gatuna/20"))["state"];
        return state == "seen" || state == "committed";
      },
      15s));
  const json st = status("hq");
  EXPECT_EQ(st["network"]["peers"].size(), 4u);
  EXPECT_TRUE(st["network"]["quarantined"].empty());
}

// A node whose store is put back from a backup (its own feed behind what the network holds of
// it) learns so from its peers and does not record over what it lost: a record now would fork
// its feed, and a fork quarantines the site for good. It takes its lost records back from the
// peers (more than one gossip batch of them: it must not record between two batches) and then
// records again, continuing the feed. Nothing forks; nothing is lost.
TEST_F(NetworkTest, ANodeRestoredFromABackupTakesItsFeedBackBeforeRecording) {
  namespace fs = std::filesystem;
  const uint64_t first = write("gatuna", 3, "B");
  ASSERT_TRUE(wait_until([&] { return all_hold(sites(), {{"gatuna", first}}); }, 20s));
  const std::string store = data["gatuna"] + "/store";
  const std::string backup = dir.path() + "/gatuna-backup";
  const auto stop = [&](int sig) {
    ASSERT_EQ(::kill(pid["gatuna"], sig), 0);
    ASSERT_TRUE(wait_until([&] { return !status("gatuna").is_object(); }, 10s));
    std::this_thread::sleep_for(300ms);  // the process gone, its store closed
  };
  stop(SIGTERM);
  fs::copy(store, backup, fs::copy_options::recursive);
  auto restarted = sim::start_site(dir.path() + "/net", "gatuna");
  ASSERT_TRUE(restarted.ok()) << restarted.error().message;
  pid["gatuna"] = *restarted;
  // More than one gossip batch (batch_records_max, 2,000), from four officers at once.
  const int lost = static_cast<int>(GossipConfig{}.batch_records_max) + 100;
  {
    std::vector<std::thread> officers;
    for (int k = 0; k < 4; ++k)
      officers.emplace_back([&, k] { write("gatuna", lost / 4, "C" + std::to_string(k)); });
    for (auto& o : officers) o.join();
  }
  const uint64_t later = heads("gatuna")["gatuna"];
  ASSERT_EQ(later, first + static_cast<uint64_t>(lost));
  ASSERT_TRUE(wait_until([&] { return all_hold(sites(), {{"gatuna", later}}); }, 60s));

  stop(SIGKILL);
  fs::remove_all(store);
  fs::copy(backup, store, fs::copy_options::recursive);
  // Started as docs/operations.md tells an operator to, and used at once: until a majority of
  // its peers said how far its feed goes it records nothing (503), then, until it holds all
  // they claim, every attempt is refused (409) and nothing is written; once it holds them,
  // recording continues the feed.
  restarted = sim::start_site(dir.path() + "/net", "gatuna", {"--restored"});
  ASSERT_TRUE(restarted.ok()) << restarted.error().message;
  pid["gatuna"] = *restarted;
  uint64_t recorded = 0;
  int held = 0;
  int behind = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        auto r = client("gatuna")->post("/v1/crossings", crossing("D100001").dump());
        if (r.status == 503 && r.body.find("restored store") != std::string::npos) {
          ++held;
          return false;
        }
        if (r.status == 409) {
          EXPECT_NE(r.body.find("restored from a backup"), std::string::npos) << r.body;
          ++behind;
          return false;
        }
        EXPECT_EQ(r.status, 201) << r.body;
        if (r.status != 201) return false;
        recorded = json::parse(r.body)["seq"].get<uint64_t>();
        return true;
      },
      60s));
  EXPECT_EQ(recorded, later + 1);
  std::printf("restored gatuna: %d answers 503 (hold), %d answers 409 (behind)\n", held, behind);
  const json own = status("gatuna")["own_feed"];
  EXPECT_EQ(own["restore_hold"], false) << own.dump();
  EXPECT_EQ(own["seq"], later + 1) << own.dump();
  EXPECT_EQ(own["behind"], false) << own.dump();
  EXPECT_EQ(own["recovered"], later - first) << own.dump();
  ASSERT_TRUE(wait_until([&] { return all_hold(sites(), {{"gatuna", later + 1}}); }, 20s));
  for (const auto& site : sites())
    EXPECT_TRUE(status(site)["network"]["quarantined"].empty()) << site;

  // The hold is kept in the store: killed while held (before any record), started again without
  // the flag, the node still holds; --drop-restore-hold ends it.
  const auto start = [&](std::vector<std::string> args) {
    auto p = sim::start_site(dir.path() + "/net", "gatuna", std::move(args));
    ASSERT_TRUE(p.ok()) << p.error().message;
    pid["gatuna"] = *p;
  };
  stop(SIGKILL);
  start({"--restored"});
  EXPECT_EQ(status("gatuna")["own_feed"]["restore_hold"], true);
  stop(SIGKILL);
  start({});
  EXPECT_EQ(status("gatuna")["own_feed"]["restore_hold"], true);
  stop(SIGTERM);
  start({"--drop-restore-hold"});
  EXPECT_EQ(status("gatuna")["own_feed"]["restore_hold"], false);
  auto r = client("gatuna")->post("/v1/crossings", crossing("D100002").dump());
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(NetworkTest, AStoppedNodeCatchesUpAfterRestart) {
  ASSERT_EQ(::kill(pid["rusumo"], SIGTERM), 0);
  ASSERT_TRUE(
      wait_until([&] { return ::kill(pid["rusumo"], 0) != 0 || heads("rusumo").empty(); }, 10s));
  std::map<std::string, uint64_t> want;
  for (const auto& s : {"hq", "gatuna", "kagitumba"}) want[s] = write(s, 50, "C");
  auto restarted = sim::start_site(dir.path() + "/net", "rusumo");
  ASSERT_TRUE(restarted.ok()) << restarted.error().message;
  pid["rusumo"] = *restarted;
  EXPECT_TRUE(wait_until([&] { return all_hold({"rusumo"}, want); }, 30s));
}

TEST_F(NetworkTest, TwoNodesCutOffKeepExchanging) {
  // Freeze three nodes: gatuna and rusumo can reach only each other.
  for (const auto& s : {"hq", "kagitumba", "kigali-airport"}) ASSERT_EQ(::kill(pid[s], SIGSTOP), 0);
  std::map<std::string, uint64_t> want;
  want["gatuna"] = write("gatuna", 10, "G");
  want["rusumo"] = write("rusumo", 10, "R");
  EXPECT_TRUE(wait_until([&] { return all_hold({"gatuna", "rusumo"}, want); }, 30s));
  for (const auto& s : {"hq", "kagitumba", "kigali-airport"}) ASSERT_EQ(::kill(pid[s], SIGCONT), 0);
  EXPECT_TRUE(wait_until([&] { return all_hold(sites(), want); }, 30s));
}

TEST_F(NetworkTest, ANonMemberZeroMqClientIsRefused) {
  char pub[41] = {}, sec[41] = {};
  ASSERT_EQ(zmq_curve_keypair(pub, sec), 0);
  auto server = load_transport_public_key(data["hq"]);
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::curve_publickey, std::string(pub));
  s.set(zmq::sockopt::curve_secretkey, std::string(sec));
  s.set(zmq::sockopt::curve_serverkey, *server);
  std::string peer;
  for (const auto& x : network["sites"])
    if (x["id"] == "hq") peer = x["peer"];
  s.connect(peer);
  zmq::socket_t plain(ctx, zmq::socket_type::dealer);  // no CURVE at all
  plain.set(zmq::sockopt::linger, 0);
  plain.connect(peer);
  GossipMessage m;
  m.type = GossipType::digest;
  m.from = "gatuna";
  (void)s.send(zmq::buffer(encode_gossip(m)), zmq::send_flags::dontwait);
  (void)plain.send(zmq::buffer(encode_gossip(m)), zmq::send_flags::dontwait);
  EXPECT_TRUE(wait_until(
      [&] { return status("hq")["network"]["transport"]["zap_refused"].get<uint64_t>() >= 1; },
      10s));
}

TEST_F(NetworkTest, AForgedRecordIsRejectedEverywhere) {
  const uint64_t head = write("gatuna", 3, "F");
  ASSERT_TRUE(wait_until([&] { return all_hold({"hq"}, {{"gatuna", head}}); }, 20s));
  SecretSeed wrong{};
  wrong.fill(42);
  const SignedRecord forged = forge("gatuna", head + 1, head_hash("hq", "gatuna"), wrong, "X1");
  auto s = rogue("kagitumba", "hq");  // a certified peer relays it
  std::this_thread::sleep_for(300ms);
  push(*s, "kagitumba", {forged});
  EXPECT_TRUE(wait_until(
      [&] { return status("hq")["network"]["gossip"]["records_rejected"].get<uint64_t>() >= 1; },
      10s));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(heads("hq")["gatuna"], head);
  EXPECT_EQ(client("hq")->get("/v1/records/gatuna/" + std::to_string(head + 1)).status, 404);
}

TEST_F(NetworkTest, ARecordPastARevocationCutOffIsRejected) {
  const uint64_t head = write("kagitumba", 3, "K");
  ASSERT_TRUE(wait_until([&] { return all_hold(sites(), {{"kagitumba", head}}); }, 20s));
  // HQ revokes kagitumba after its current head.
  const json m = parse(client("hq")->get("/v1/membership"));
  auto r = revoke("kagitumba", head, "stolen server");
  ASSERT_EQ(r.status, 201) << r.body;
  // Another record at the same seq (an admin working from a membership that moved on): 409 and
  // nothing written; above all no fork of the root feed, which would freeze the membership.
  auto root = read_root_key(network["root_key"].get<std::string>());
  ASSERT_TRUE(root.ok());
  Hash root_head{};
  ASSERT_TRUE(from_hex(m["root_head"].get<std::string>(), root_head.data(), root_head.size()));
  auto stale = make_root_record(*root, network["network_id"].get<std::string>(),
                                m["root_seq"].get<uint64_t>(), root_head,
                                SiteRevoked{"rusumo", 1, "a stale view"}, 1'800'000'000'001);
  ASSERT_TRUE(stale.ok());
  r = client("hq")->post("/v1/membership", signed_record_json(*stale));
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_TRUE(status("hq")["network"]["quarantined"].empty());
  EXPECT_EQ(client("hq")->post("/v1/membership", "{\"not json").status, 400);
  {
    // A root record that breaks the rules (a control character in its reason), signed with the
    // root key by hand rather than by umupaka-admin: 422 naming the field, nothing written
    // (every peer would refuse it, and the root feed would stop everywhere but here).
    const json now = parse(client("hq")->get("/v1/membership"));
    Hash now_head{};
    ASSERT_TRUE(from_hex(now["root_head"].get<std::string>(), now_head.data(), now_head.size()));
    Record bad;
    bad.header.network_id = network["network_id"].get<std::string>();
    bad.header.origin = OriginId(root_origin);
    bad.header.seq = Seq(now["root_seq"].get<uint64_t>() + 1);
    bad.header.prev_hash = now_head;
    bad.header.hlc = Hlc::make(1'800'000'000'002, 0);
    bad.body = SiteRevoked{"kagitumba", 1, "bell \x07"};
    r = client("hq")->post("/v1/membership",
                           signed_record_json(seal(bad, SigningKey::from_seed(*root))));
    EXPECT_EQ(r.status, 422) << r.body;
    EXPECT_EQ(parse(r).value("field", ""), "reason") << r.body;
    EXPECT_EQ(parse(client("hq")->get("/v1/membership"))["root_seq"], now["root_seq"]);
    // The next seq, but linked to an older record than the head (made by hand from two views):
    // 409, nothing written, and no evidence of a fork (the root feed is not quarantined).
    Record unlinked = bad;
    unlinked.header.prev_hash = root_head;
    unlinked.body = SiteRevoked{"rusumo", 1, "from an older head"};
    r = client("hq")->post("/v1/membership",
                           signed_record_json(seal(unlinked, SigningKey::from_seed(*root))));
    EXPECT_EQ(r.status, 409) << r.body;
    // Refused before ingest (which would have stored it as the evidence of a fork, with the
    // same status and no reason of its own).
    EXPECT_NE(r.body.find("its prev_hash is not the hash of this node's root/" +
                          std::to_string(now["root_seq"].get<uint64_t>())),
              std::string::npos)
        << r.body;
    EXPECT_EQ(parse(client("hq")->get("/v1/membership"))["root_seq"], now["root_seq"]);
    EXPECT_TRUE(status("hq")["network"]["quarantined"].empty());
  }
  json with_extra = json::parse(signed_record_json(*stale));
  with_extra["note"] = "an unknown field";
  r = client("hq")->post("/v1/membership", with_extra.dump());
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("note"), std::string::npos) << r.body;
  // Every other site knows of the revocation before the revoked one records again (a site that
  // has not heard of it yet would still take the record).
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& s : {"hq", "gatuna", "rusumo", "kigali-airport"})
          if (parse(client(s)->get("/v1/membership"))["root_seq"] != 2) return false;
        return true;
      },
      20s));
  // The revoked site's own key signs a record past the cut-off: nobody takes it.
  auto seed = load_signing_seed(data["kagitumba"]);
  ASSERT_TRUE(seed.ok());
  const SignedRecord late =
      forge("kagitumba", head + 1, head_hash("gatuna", "kagitumba"), *seed, "K9");
  auto s = rogue("rusumo", "gatuna");
  std::this_thread::sleep_for(300ms);
  push(*s, "rusumo", {late});
  EXPECT_TRUE(wait_until(
      [&] {
        return status("gatuna")["network"]["gossip"]["records_rejected"].get<uint64_t>() >= 1;
      },
      10s));
  EXPECT_EQ(heads("gatuna")["kagitumba"], head);
  // What the revoked node records now (it may not even have heard of its revocation: its peers
  // stopped talking to it) never reaches anyone else.
  (void)client("kagitumba")->post("/v1/crossings", crossing("K10").dump());
  std::this_thread::sleep_for(2s);
  for (const auto& site : {"hq", "gatuna", "rusumo", "kigali-airport"})
    EXPECT_EQ(heads(site)["kagitumba"], head) << site;
  const json membership = parse(client("gatuna")->get("/v1/membership"));
  bool revoked = false;
  for (const auto& site : membership["sites"])
    if (site["site"] == "kagitumba") revoked = site["revoked_after"] == head;
  EXPECT_TRUE(revoked);
}

// HQ learns that a site's key was stolen earlier than it thought and revokes it with a cut-off
// below records the ledger already committed: those stand (the ledger took them first), and the
// revocation names them in one conflict alert, at the same position at every node. A site is
// revoked once: a second cut-off is refused.
TEST_F(NetworkTest, ARevocationBelowCommittedRecordsNamesThemEverywhere) {
  const uint64_t head = write("kagitumba", 3, "S");
  const auto committed_everywhere = [&](uint64_t seq) {
    for (const auto& site : sites()) {
      const json r = parse(client(site)->get("/v1/records/kagitumba/" + std::to_string(seq)));
      if (!r.is_object() || r["state"] != "committed") return false;
    }
    return true;
  };
  ASSERT_TRUE(wait_until([&] { return committed_everywhere(head); }, 30s)) << ledgers();
  auto r = revoke("kagitumba", head - 2, "key stolen");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::vector<std::string> others{"hq", "gatuna", "rusumo", "kigali-airport"};
  const auto alert_at = [&](const std::string& site) -> json {
    const json c = parse(client(site)->get("/v1/conflicts"));
    if (!c.is_object()) return nullptr;
    for (const auto& a : c["conflicts"])
      if (a["kind"] == "revoked_site_record") return a;
    return nullptr;
  };
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& site : others)
          if (alert_at(site).is_null()) return false;
        return true;
      },
      30s))
      << ledgers();
  const json alert = alert_at("hq");
  EXPECT_EQ(alert["subject"], "kagitumba");
  EXPECT_EQ(alert["record"]["origin"], "root");
  ASSERT_EQ(alert["related"].size(), 2u) << alert.dump();
  EXPECT_EQ(alert["related"][0]["seq"], head - 1);
  EXPECT_EQ(alert["related"][1]["seq"], head);
  for (const auto& site : others) EXPECT_EQ(alert_at(site), alert) << site;
  // They stand: committed, not void.
  const json last = parse(client("gatuna")->get("/v1/records/kagitumba/" + std::to_string(head)));
  EXPECT_EQ(last["state"], "committed");
  EXPECT_FALSE(last.contains("void")) << last.dump();
  // Revoked once.
  r = revoke("kagitumba", head, "key stolen");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("already revoked"), std::string::npos) << r.body;
}

TEST_F(NetworkTest, AForkedFeedIsEvidenceAndTheOriginIsQuarantinedEverywhere) {
  const uint64_t head = write("rusumo", 2, "Q");
  ASSERT_TRUE(wait_until([&] { return all_hold(sites(), {{"rusumo", head}}); }, 20s));
  // Someone with rusumo's signing key signs two different records at the same seq.
  auto seed = load_signing_seed(data["rusumo"]);
  ASSERT_TRUE(seed.ok());
  const Hash prev = head_hash("hq", "rusumo");
  const SignedRecord a = forge("rusumo", head + 1, prev, *seed, "FORKA");
  const SignedRecord b = forge("rusumo", head + 1, prev, *seed, "FORKB");
  auto to_hq = rogue("gatuna", "hq");
  auto to_airport = rogue("gatuna", "kigali-airport");
  std::this_thread::sleep_for(300ms);
  push(*to_hq, "gatuna", {a});
  push(*to_airport, "gatuna", {b});
  EXPECT_TRUE(wait_until(
      [&] {
        for (const auto& s : sites()) {
          const json q = status(s)["network"]["quarantined"];
          bool found = false;
          for (const auto& e : q) found = found || e["origin"] == "rusumo";
          if (!found && s != "rusumo") return false;
        }
        return true;
      },
      30s));
}

}  // namespace
}  // namespace umupaka::test

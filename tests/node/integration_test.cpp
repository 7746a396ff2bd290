// Integration tests: the real umupaka-node binary on 127.0.0.1, driven over HTTP.
#include <botan/base64.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "ledger/codec.hpp"
#include "ledger/crypto.hpp"
#include "ledger/limits.hpp"
#include "node/config.hpp"
#include "tests/node/node_process.hpp"

namespace umupaka::test {
namespace {

using json = nlohmann::json;

const json specimen_mrz = {"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
                           "L898902C36UTO7408122F1204159ZE184226B<<<<<10"};

json ug_crossing(const std::string& number, const std::string& direction = "entry") {
  return typed_crossing("UGA", number, "MUGISHA", direction);
}

class NodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node = std::make_unique<NodeProcess>(dir.path() + "/node", "gatuna");
    ASSERT_TRUE(node->init_ok());
    officer_token = node->token("officer", "officer-7");
    admin_token = node->token("hq-admin", "hq-1");
    consular_token = node->token("consular", "consul-1");
    auditor_token = node->token("auditor", "audit-1");
    ASSERT_TRUE(node->start()) << "node did not start; see " << node->data() << "/node.out";
    officer = std::make_unique<HttpClient>(node->base(), officer_token);
    admin = std::make_unique<HttpClient>(node->base(), admin_token);
  }
  json feeds() { return parse(officer->get("/v1/feeds")); }

  TempDir dir;
  std::unique_ptr<NodeProcess> node;
  std::string officer_token, admin_token, consular_token, auditor_token;
  std::unique_ptr<HttpClient> officer, admin;
};

TEST_F(NodeTest, RecordsACrossingFromTheMrzAndServesAVerifiableRecord) {
  auto r =
      officer->post("/v1/crossings", json{{"direction", "entry"}, {"mrz", specimen_mrz}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  json c = parse(r);
  EXPECT_EQ(c["origin"], "gatuna");
  EXPECT_EQ(c["seq"], 1);
  EXPECT_EQ(c["state"], "accepted");
  EXPECT_EQ(c["verdict"], "deny");  // the specimen passport expired in 2012
  EXPECT_EQ(c["decision"], "refused");
  EXPECT_EQ(c["traveller"]["surname"], "ERIKSSON");

  r = officer->get("/v1/records/gatuna/1");
  ASSERT_EQ(r.status, 200) << r.body;
  json rec = parse(r);
  EXPECT_EQ(rec["type"], "crossing");
  EXPECT_EQ(rec["body"]["officer"], "officer-7");
  EXPECT_EQ(rec["body"]["from_mrz"], true);
  EXPECT_EQ(rec["hash"], c["hash"]);
  // Anyone can check it: the signature covers exactly `encoded`, the hash is its SHA-256.
  const auto bytes = Botan::base64_decode(rec["encoded"].get<std::string>());
  const std::string encoded(bytes.begin(), bytes.end());
  PublicKey key{};
  Signature sig{};
  const json status = parse(officer->get("/v1/status"));
  ASSERT_TRUE(
      from_hex(status["public_keys"]["signing"].get<std::string>(), key.data(), key.size()));
  ASSERT_TRUE(from_hex(rec["signature"].get<std::string>(), sig.data(), sig.size()));
  EXPECT_TRUE(verify_signature(key, encoded, sig));
  EXPECT_EQ(to_hex(sha256(encoded + std::string(sig.begin(), sig.end()))), rec["hash"]);
  auto decoded = decode_record(encoded);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->header.origin.value, "gatuna");

  r = officer->get("/v1/travellers/UTO/L898902C3");
  ASSERT_EQ(r.status, 200) << r.body;
  json t = parse(r);
  ASSERT_EQ(t["crossings"].size(), 1u);
  EXPECT_EQ(t["traveller"]["given_names"], "ANNA MARIA");
  EXPECT_TRUE(t["presence"].is_null());  // refused: not in the country
  EXPECT_EQ(officer->get("/v1/records/gatuna/2").status, 404);
}

// An origin that is no site id is refused as input (it was looked up, and not found: a 404).
TEST_F(NodeTest, ARecordOfAnOriginThatIsNoSiteIdIsRefusedAsInput) {
  for (const std::string& origin :
       {std::string(600, 'a'), std::string("Gatuna"), std::string("a_b")}) {
    auto r = officer->get("/v1/records/" + origin + "/1");
    EXPECT_EQ(r.status, 422) << origin.size() << " " << r.body;
    EXPECT_EQ(parse(r)["field"], "origin") << r.body;
  }
  EXPECT_EQ(officer->get("/v1/records/gatuna/1").status, 404);
}

TEST_F(NodeTest, PermitsAlertsAndDocumentsChangeWhatTheChecksSay) {
  // A foreigner without a visa is referred; with a visa on arrival, admitted.
  auto r = officer->post("/v1/checks", json{{"direction", "entry"},
                                            {"traveller",
                                             {{"surname", "SMITH"},
                                              {"given_names", "JAMES"},
                                              {"nationality", "GBR"},
                                              {"birth_date", "1980-01-02"},
                                              {"sex", "M"}}},
                                            {"document",
                                             {{"kind", "passport"},
                                              {"country", "GBR"},
                                              {"number", "GB1234567"},
                                              {"expiry", "2030-01-01"}}}}
                                           .dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse(r)["verdict"], "refer");
  json permit{{"kind", "visa_on_arrival"},
              {"holder",
               {{"surname", "SMITH"},
                {"given_names", "JAMES"},
                {"nationality", "GBR"},
                {"birth_date", "1980-01-02"},
                {"sex", "M"}}},
              {"document",
               {{"kind", "passport"},
                {"country", "GBR"},
                {"number", "GB1234567"},
                {"expiry", "2030-01-01"}}}};
  r = officer->post("/v1/permits", permit.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string permit_id = parse(r)["id"];
  EXPECT_EQ(permit_id, "gatuna-1");
  json crossing = json{
      {"direction", "entry"}, {"traveller", permit["holder"]}, {"document", permit["document"]}};
  r = officer->post("/v1/crossings", crossing.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(parse(r)["verdict"], "clear");
  EXPECT_EQ(parse(r)["permit_id"], permit_id);

  // Extend, then revoke; a second revoke conflicts.
  r = officer->post(
      "/v1/permits/" + permit_id + "/status",
      json{{"action", "extend"}, {"valid_until", "2099-01-01"}, {"reason", "medical"}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  r = admin->post("/v1/permits/" + permit_id + "/status",
                  json{{"action", "revoke"}, {"reason", "fraud"}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(admin
                ->post("/v1/permits/" + permit_id + "/status",
                       json{{"action", "revoke"}, {"reason", "again"}}.dump())
                .status,
            409);
  EXPECT_EQ(
      admin->post("/v1/permits/nope/status", json{{"action", "cancel"}, {"reason", "x"}}.dump())
          .status,
      404);

  // A passport issued and linked to a national ID, then reported stolen: denied.
  HttpClient consular(node->base(), consular_token);
  r = consular.post("/v1/travel-documents", json{{"document",
                                                  {{"kind", "passport"},
                                                   {"country", "RWA"},
                                                   {"number", "PC7654321"},
                                                   {"expiry", "2033-03-03"}}},
                                                 {"holder",
                                                  {{"surname", "UWIMANA"},
                                                   {"given_names", "ALINE"},
                                                   {"nationality", "RWA"},
                                                   {"birth_date", "1995-07-07"},
                                                   {"sex", "F"}}},
                                                 {"national_id", "1199580012345678"}}
                                                .dump());
  ASSERT_EQ(r.status, 201) << r.body;
  r = officer->post("/v1/travel-documents/RWA/PC7654321/status",
                    json{{"status", "stolen"}, {"reason", "reported at Nyarugenge police"}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  json exit{{"direction", "exit"},
            {"traveller",
             {{"surname", "UWIMANA"},
              {"given_names", "ALINE"},
              {"nationality", "RWA"},
              {"birth_date", "1995-07-07"},
              {"sex", "F"}}},
            {"document",
             {{"kind", "passport"},
              {"country", "RWA"},
              {"number", "PC7654321"},
              {"expiry", "2033-03-03"}}}};
  r = officer->post("/v1/crossings", exit.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(parse(r)["verdict"], "deny");
  json t = parse(officer->get("/v1/travellers/RWA/PC7654321"));
  EXPECT_EQ(t["document"]["status"], "stolen");
  EXPECT_EQ(t["document"]["national_id"], "1199580012345678");

  // A name alert with a spelling variant refers; lifted, it no longer does.
  r = admin->post("/v1/alerts", json{{"alert_id", "A-77"},
                                     {"subject",
                                      {{"kind", "name"},
                                       {"surname", "MUGGISHA"},
                                       {"given_names", "ERIC"},
                                       {"birth_date", "1990-05-17"}}},
                                     {"category", "wanted"},
                                     {"action", "refer"}}
                                    .dump());
  ASSERT_EQ(r.status, 201) << r.body;
  r = officer->post("/v1/checks", ug_crossing("UG0000001").dump());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(parse(r)["verdict"], "refer") << r.body;
  EXPECT_NE(r.body.find("A-77"), std::string::npos);
  EXPECT_EQ(officer->del("/v1/alerts/A-77").status, 403);  // officers cannot lift alerts
  r = admin->del("/v1/alerts/A-77", json{{"reason", "arrested"}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(admin->del("/v1/alerts/A-77").status, 409);
  r = officer->post("/v1/checks", ug_crossing("UG0000001").dump());
  EXPECT_EQ(parse(r)["verdict"], "clear") << r.body;
}

TEST_F(NodeTest, BadInputGetsAClearErrorAndWritesNothing) {
  ASSERT_EQ(officer->post("/v1/crossings", ug_crossing("UG1111111").dump()).status, 201);
  const json before = feeds();

  struct Case {
    std::string what;
    HttpResponse response;
    long status;
    std::string code;
    std::string field;
  };
  json wrong_digit{{"direction", "entry"},
                   {"mrz",
                    {"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
                     "L898902C36UTO7408122F1204159ZE184226B<<<<<19"}}};
  json unknown_field = ug_crossing("UG2222222");
  unknown_field["colour"] = "blue";
  json nested_unknown = ug_crossing("UG2222222");
  nested_unknown["traveller"]["eyes"] = "brown";
  json bad_enum = ug_crossing("UG2222222");
  bad_enum["direction"] = "sideways";
  json missing = ug_crossing("UG2222222");
  missing["traveller"].erase("surname");
  json bad_date = ug_crossing("UG2222222");
  bad_date["traveller"]["birth_date"] = "1990-02-30";
  json bad_number = ug_crossing("ug-2222");
  // Longer than any LMDB key: once failed the whole group commit it was batched with.
  json long_number = ug_crossing(std::string(600, 'A'));
  json bad_state = ug_crossing("UG2222222");
  bad_state["traveller"]["nationality"] = "QQQ";
  json long_permit = ug_crossing("UG2222222");
  long_permit["permit_id"] = std::string(600, 'p');
  HttpClient nobody(node->base(), "");
  HttpClient forger(node->base(), "umk_not_a_real_token");
  HttpClient auditor(node->base(), auditor_token);
  const std::string huge(200 * 1024, 'x');

  std::vector<Case> cases = {
      {"malformed JSON", officer->post("/v1/crossings", "{\"direction\": "), 400, "malformed_json",
       ""},
      {"unknown field", officer->post("/v1/crossings", unknown_field.dump()), 422, "invalid_field",
       "colour"},
      {"nested unknown field", officer->post("/v1/crossings", nested_unknown.dump()), 422,
       "invalid_field", "traveller.eyes"},
      {"bad enum", officer->post("/v1/crossings", bad_enum.dump()), 422, "invalid_field",
       "direction"},
      {"missing field", officer->post("/v1/crossings", missing.dump()), 422, "invalid_field",
       "traveller.surname"},
      {"impossible date", officer->post("/v1/crossings", bad_date.dump()), 422, "invalid_field",
       "traveller.birth_date"},
      {"bad document number", officer->post("/v1/crossings", bad_number.dump()), 422,
       "invalid_field", "document.number"},
      {"document number longer than a store key",
       officer->post("/v1/crossings", long_number.dump()), 422, "invalid_field", "document.number"},
      {"same, dry run", officer->post("/v1/checks", long_number.dump()), 422, "invalid_field",
       "document.number"},
      {"unknown nationality, dry run", officer->post("/v1/checks", bad_state.dump()), 422,
       "invalid_field", "traveller.nationality"},
      {"permit id longer than a store key", officer->post("/v1/crossings", long_permit.dump()), 422,
       "invalid_field", "permit_id"},
      {"permit id in the path not an id",
       admin->post("/v1/permits/" + std::string(600, 'p') + "/status",
                   json{{"action", "revoke"}, {"reason", "x"}}.dump()),
       422, "invalid_field", "permit_id"},
      {"a path whose escapes are not UTF-8",
       admin->post("/v1/permits/%FF%FE/status", json{{"action", "revoke"}, {"reason", "x"}}.dump()),
       400, "bad_request", ""},
      {"wrong check digit", officer->post("/v1/crossings", wrong_digit.dump()), 422,
       "mrz_check_digit", "mrz.composite"},
      {"oversized body", officer->post("/v1/crossings", "{\"note\":\"" + huge + "\"}"), 413,
       "limit_exceeded", ""},
      {"no token", nobody.post("/v1/crossings", ug_crossing("UG3333333").dump()), 401,
       "unauthorized", ""},
      {"unknown token", forger.post("/v1/crossings", ug_crossing("UG3333333").dump()), 401,
       "unauthorized", ""},
      {"wrong role", auditor.post("/v1/crossings", ug_crossing("UG3333333").dump()), 403,
       "forbidden", ""},
      {"an officer issuing a residence permit",
       officer->post("/v1/permits", json{{"kind", "residence"},
                                         {"holder", ug_crossing("UG3333333")["traveller"]},
                                         {"document", ug_crossing("UG3333333")["document"]}}
                                        .dump()),
       403, "forbidden", "kind"},
      {"a single-entry visa of unlimited entries",
       officer->post("/v1/permits", json{{"kind", "visa_on_arrival"},
                                         {"entries_allowed", 0},
                                         {"holder", ug_crossing("UG3333333")["traveller"]},
                                         {"document", ug_crossing("UG3333333")["document"]}}
                                        .dump()),
       422, "invalid_field", "entries_allowed"},
      {"an officer revoking a document",
       officer->post("/v1/travel-documents/UGA/UG3333333/status",
                     json{{"status", "revoked"}, {"reason", "x"}}.dump()),
       403, "forbidden", "status"},
      {"unknown path", officer->post("/v1/crossing", ug_crossing("UG3333333").dump()), 404,
       "not_found", ""},
      {"admit against deny without a note",
       officer->post(
           "/v1/crossings",
           json{{"direction", "entry"}, {"mrz", specimen_mrz}, {"decision", "admitted"}}.dump()),
       422, "invalid_field", "note"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(c.response.status, c.status) << c.response.body;
    const json e = parse(c.response);
    ASSERT_TRUE(e.is_object()) << c.response.body;
    EXPECT_EQ(e["code"], c.code);
    EXPECT_FALSE(e["message"].get<std::string>().empty());
    if (!c.field.empty()) {
      EXPECT_EQ(e["field"], c.field);
    }
  }
  EXPECT_EQ(feeds(), before);
  // The node still works after all that.
  EXPECT_EQ(officer->post("/v1/crossings", ug_crossing("UG4444444").dump()).status, 201);
  EXPECT_EQ(officer->get("/healthz").status, 200);
  const auto metrics = officer->get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("umupaka_records_stored 2"), std::string::npos) << metrics.body;
}

// docs/operations.md: "Delete a line to revoke a token". The next request with it is refused;
// the other tokens go on; a tokens file that is gone admits nobody.
TEST_F(NodeTest, ATokenDeletedFromTheFileIsRefusedAtOnce) {
  ASSERT_EQ(officer->get("/v1/status").status, 200);
  const std::string path = node->data() + "/tokens";
  auto text = read_file(path);
  ASSERT_TRUE(text.ok());
  std::string kept;
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);)
    if (line.find("officer-7") == std::string::npos) kept += line + "\n";
  ASSERT_NE(kept.size(), text->size());
  {
    std::ofstream out(path + ".new");
    out << kept;
  }
  ASSERT_EQ(std::rename((path + ".new").c_str(), path.c_str()), 0);
  EXPECT_EQ(officer->get("/v1/status").status, 401);
  EXPECT_EQ(officer->post("/v1/crossings", ug_crossing("UG5555555").dump()).status, 401);
  EXPECT_EQ(admin->get("/v1/status").status, 200);
  ASSERT_EQ(std::remove(path.c_str()), 0);
  EXPECT_EQ(admin->get("/v1/status").status, 401);
}

// A permit extended again and again (an officer's loop, or a peer's records): its view keeps the
// most recent status changes only, so it still decodes. The 65th change once stored a view no
// read could decode, and the next read of the permit (its GET, a crossing's check) stopped the
// node, at every node the records reached.
TEST_F(NodeTest, APermitExtendedManyTimesStillReadsAndChecks) {
  json permit{{"kind", "visa_on_arrival"},
              {"holder",
               {{"surname", "OKELLO"},
                {"given_names", "PETER"},
                {"nationality", "UGA"},
                {"birth_date", "1985-05-05"},
                {"sex", "M"}}},
              {"document",
               {{"kind", "passport"},
                {"country", "UGA"},
                {"number", "B7654321"},
                {"expiry", "2031-01-01"}}}};
  auto r = officer->post("/v1/permits", permit.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = parse(r)["id"];
  for (int i = 0; i < 70; ++i) {
    r = officer->post("/v1/permits/" + id + "/status",
                      json{{"action", "extend"},
                           {"valid_until", std::to_string(2030 + i) + "-01-01"},  // later each time
                           {"reason", "again"}}
                          .dump());
    ASSERT_EQ(r.status, 201) << i << ": " << r.body;
  }
  r = officer->get("/v1/travellers/UGA/B7654321");
  ASSERT_EQ(r.status, 200) << r.body;
  const json permits = parse(r)["permits"];
  ASSERT_EQ(permits.size(), 1u) << r.body;
  EXPECT_EQ(permits[0]["state"], "valid");
  EXPECT_EQ(permits[0]["status_records"].size(), limits::permit_status_records_kept);
  EXPECT_EQ(parse(r)["permit_changes"].size(), 70u);  // every one, as recorded
  r = officer->post("/v1/crossings", json{{"direction", "entry"},
                                          {"traveller", permit["holder"]},
                                          {"document", permit["document"]}}
                                         .dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(parse(r)["permit_id"], id);
}

// A Rwandan leaves on one passport and comes back on a new one, both crossings carrying her
// national ID: the old passport's picture lists both (the national ID links them, and presence,
// kept by it, names the second), not only the one typed on that passport.
TEST_F(NodeTest, TheTravellersPictureListsTheCrossingsHerNationalIdLinks) {
  json out = typed_crossing("RWA", "PC100001", "UWIMANA", "exit");
  out["national_id"] = "1199580012345678";
  auto r = officer->post("/v1/crossings", out.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  json in = typed_crossing("RWA", "PC200002", "UWIMANA", "entry");
  in["national_id"] = "1199580012345678";
  r = officer->post("/v1/crossings", in.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string back = parse(r)["hash"];
  const json t = parse(officer->get("/v1/travellers/RWA/PC100001"));
  EXPECT_EQ(t["document"]["national_id"], "1199580012345678") << t.dump();
  ASSERT_EQ(t["crossings"].size(), 2u) << t.dump();
  EXPECT_EQ(t["crossings"][0]["body"]["direction"], "exit") << t.dump();
  EXPECT_EQ(t["crossings"][1]["hash"], back) << t.dump();
  EXPECT_EQ(t["presence"]["inside"], true) << t.dump();
  EXPECT_EQ(t["records_truncated"], false);
}

// A commuter past the 2,000 records a picture lists: the newest 2,000 are listed (the oldest
// dropped), no more, and the picture says it was cut.
TEST_F(NodeTest, APictureCutAtItsLimitListsTheNewestRecords) {
  std::string first, last;
  const size_t n = limits::traveller_records_max + 1;
  for (size_t i = 0; i < n; ++i) {
    auto r = officer->post("/v1/crossings",
                           ug_crossing("B1000001", i % 2 == 0 ? "entry" : "exit").dump());
    ASSERT_EQ(r.status, 201) << i << ": " << r.body;
    (i == 0 ? first : last) = parse(r)["hash"];
  }
  const json t = parse(officer->get("/v1/travellers/UGA/B1000001"));
  EXPECT_EQ(t["records_truncated"], true);
  ASSERT_EQ(t["crossings"].size(), limits::traveller_records_max);
  EXPECT_NE(t["crossings"][0]["hash"], first);
  EXPECT_EQ(t["crossings"].back()["hash"], last);
}

// docs/operations.md: exit code 2 for bad arguments or configuration, 0 after --help.
TEST(NodeCommandLine, BadArgumentsExitWithTwo) {
  const std::string node = UMUPAKA_NODE_BIN;
  EXPECT_EQ(run_command(node + " run 2>/dev/null").second, 2);  // --data missing
  EXPECT_EQ(run_command(node + " run --data /nonexistent --no-such-option 2>/dev/null").second, 2);
  EXPECT_EQ(run_command(node + " frobnicate 2>/dev/null").second, 2);
  EXPECT_EQ(run_command(node + " --help").second, 0);
  TempDir dir;
  EXPECT_EQ(run_command(node + " init --data " + dir.path() +
                        "/n --site Not_A_Site --kind hq 2>/dev/null")
                .second,
            2);
}

TEST_F(NodeTest, SigtermStopsCleanlyAndARestartFindsEverything) {
  std::vector<std::string> hashes;
  for (int i = 0; i < 20; ++i) {
    auto r = officer->post("/v1/crossings", ug_crossing("UG5" + std::to_string(100000 + i)).dump());
    ASSERT_EQ(r.status, 201) << r.body;
    hashes.push_back(parse(r)["hash"]);
  }
  EXPECT_EQ(node->kill(SIGTERM), 0);
  ASSERT_TRUE(node->start());
  officer = std::make_unique<HttpClient>(node->base(), officer_token);
  for (size_t i = 0; i < hashes.size(); ++i) {
    json rec = parse(officer->get("/v1/records/gatuna/" + std::to_string(i + 1)));
    EXPECT_EQ(rec["hash"], hashes[i]);
  }
  auto r = officer->post("/v1/crossings", ug_crossing("UG6000000").dump());
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(parse(r)["seq"], 21);
}

// Four desks post crossings, each on a connection of its own, until `node` is SIGKILLed 1.5 s
// in: `post(client, desk, i)` sends the desk's i-th and says whether it was answered (201).
void sigkill_under_load(NodeProcess& node, const std::string& token,
                        const std::function<bool(HttpClient&, int, int)>& post) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> desks;
  for (int t = 0; t < 4; ++t)
    desks.emplace_back([&, t] {
      HttpClient c(node.base(), token);
      c.set_timeout_ms(5000);
      for (int i = 0; !stop && post(c, t, i); ++i) {
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  node.kill(SIGKILL);
  stop = true;
  for (auto& d : desks) d.join();
}

std::string desk_body(int desk, int i) {
  return ug_crossing("UG" + std::to_string(desk) + std::to_string(1000000 + i)).dump();
}

TEST_F(NodeTest, SigkillUnderLoadLosesNoAcknowledgedRecord) {
  std::mutex mu;
  std::vector<std::pair<uint64_t, std::string>> acknowledged;
  sigkill_under_load(*node, officer_token, [&](HttpClient& c, int desk, int i) {
    auto r = c.post("/v1/crossings", desk_body(desk, i));
    if (r.status != 201) return false;  // the node was killed
    json j = parse(r);
    std::lock_guard lock(mu);
    acknowledged.emplace_back(j["seq"].get<uint64_t>(), j["hash"].get<std::string>());
    return true;
  });
  ASSERT_GT(acknowledged.size(), 10u);
  ASSERT_TRUE(node->start());
  officer = std::make_unique<HttpClient>(node->base(), officer_token);
  for (const auto& [seq, hash] : acknowledged) {
    json rec = parse(officer->get("/v1/records/gatuna/" + std::to_string(seq)));
    ASSERT_EQ(rec["hash"], hash) << "acknowledged record " << seq << " lost or changed";
  }
}

// Desks retry, with the same Idempotency-Key, every write whose answer the SIGKILL cut off, and
// also every answered one: after the restart each is answered 201; the answered ones are replays
// of what they were told (the keys were durable with their records), and the feed holds exactly
// one record per key, whether the cut-off write had committed (replayed) or not (recorded now).
TEST_F(NodeTest, RetriesWithTheirKeysAfterASigkillRecordEachCrossingOnce) {
  struct Sent {
    std::string key, body;
    long status = 0;
    json answer;
  };
  std::vector<std::vector<Sent>> sent(4);  // each desk's own
  sigkill_under_load(*node, officer_token, [&](HttpClient& c, int desk, int i) {
    Sent s{"desk-" + std::to_string(desk) + "-" + std::to_string(i), desk_body(desk, i)};
    const auto r = c.post("/v1/crossings", s.body, {"Idempotency-Key: " + s.key});
    s.status = r.status;
    s.answer = parse(r);
    sent[desk].push_back(s);
    return r.status == 201;  // else the node was killed
  });
  ASSERT_TRUE(node->start());
  officer = std::make_unique<HttpClient>(node->base(), officer_token);
  std::set<uint64_t> seqs;
  size_t keys = 0, cut_off = 0;
  for (const auto& desk : sent)
    for (const Sent& s : desk) {
      ++keys;
      const auto r = officer->post("/v1/crossings", s.body, {"Idempotency-Key: " + s.key});
      ASSERT_EQ(r.status, 201) << s.key << ": " << r.body;
      json again = parse(r);
      EXPECT_TRUE(seqs.insert(again["seq"].get<uint64_t>()).second)
          << s.key << " answered with a seq another key has: " << r.body;
      if (s.status == 201) {
        EXPECT_EQ(again["replayed"], true) << s.key;
        again.erase("replayed");
        EXPECT_EQ(again, s.answer) << s.key;
      } else {
        ++cut_off;
      }
    }
  ASSERT_GT(keys, 10u);
  EXPECT_GT(cut_off, 0u);
  const json f = feeds();
  ASSERT_EQ(f["feeds"].size(), 1u) << f;
  EXPECT_EQ(f["feeds"][0]["seq"].get<uint64_t>(), keys) << "a record per key, and no other";
}

// A disk whose writes of LMDB's meta pages fail (an I/O error, injected by an LD_PRELOAD library):
// the commit fails (500, nothing acknowledged), LMDB declares the store unusable, and the node
// stops by itself with exit code 75, for its supervisor to start it again. Started again on a
// sound disk, it holds every acknowledged record and records on from there.
TEST_F(NodeTest, AStoreLmdbDeclaresUnusableStopsTheNodeWithExitCode75) {
  auto first = officer->post("/v1/crossings", ug_crossing("UG7000001").dump());
  ASSERT_EQ(first.status, 201) << first.body;
  ASSERT_EQ(node->kill(SIGTERM), 0);
  const std::string trigger = dir.path() + "/disk-fails";
  node->set_env("LD_PRELOAD", UMUPAKA_FAIL_META_WRITES_LIB);
  node->set_env("UMUPAKA_TEST_FAIL_META_WRITES", trigger);
  const char* asan = std::getenv("ASAN_OPTIONS");  // the debug preset's ASan, preloaded after
  node->set_env("ASAN_OPTIONS",
                (asan != nullptr ? std::string(asan) + ":" : "") + "verify_asan_link_order=0");
  ASSERT_TRUE(node->start());
  officer = std::make_unique<HttpClient>(node->base(), officer_token);
  auto second = officer->post("/v1/crossings", ug_crossing("UG7000002").dump());
  ASSERT_EQ(second.status, 201) << "the library fails nothing before the trigger: " << second.body;
  std::ofstream(trigger) << "fail\n";
  const auto failed = officer->post("/v1/crossings", ug_crossing("UG7000003").dump());
  EXPECT_EQ(failed.status, 500) << failed.body;
  EXPECT_EQ(parse(failed)["code"], "storage") << failed.body;
  const int code = node->wait_exit(20'000);
  std::ifstream log_file(node->data() + "/node.out");
  const std::string log((std::istreambuf_iterator<char>(log_file)),
                        std::istreambuf_iterator<char>());
  ASSERT_EQ(code, 75) << log;
  EXPECT_NE(log.find("the store is unusable"), std::string::npos) << log;

  std::filesystem::remove(trigger);  // the disk is sound again
  ASSERT_TRUE(node->start());
  officer = std::make_unique<HttpClient>(node->base(), officer_token);
  for (const auto& acknowledged : {parse(first), parse(second)})
    EXPECT_EQ(parse(officer->get("/v1/records/gatuna/" +
                                 std::to_string(acknowledged["seq"].get<uint64_t>())))["hash"],
              acknowledged["hash"]);
  const auto next = officer->post("/v1/crossings", ug_crossing("UG7000003").dump());
  ASSERT_EQ(next.status, 201) << next.body;
  EXPECT_EQ(parse(next)["seq"], 3);
}

TEST_F(NodeTest, AFullDiskIsAClearErrorAndLosesNothingAcknowledged) {
  std::vector<std::pair<uint64_t, std::string>> acknowledged;
  for (int i = 0; i < 10; ++i) {
    auto r = officer->post("/v1/crossings", ug_crossing("UG7" + std::to_string(100000 + i)).dump());
    ASSERT_EQ(r.status, 201);
    acknowledged.emplace_back(parse(r)["seq"].get<uint64_t>(), parse(r)["hash"].get<std::string>());
  }
  ASSERT_EQ(node->kill(SIGTERM), 0);
  // Restart with files capped a little above the store's current size: writes soon hit the cap.
  const auto size = std::filesystem::file_size(node->data() + "/store/data.mdb");
  ASSERT_TRUE(node->start(size + 256 * 1024));
  officer = std::make_unique<HttpClient>(node->base(), officer_token);
  int full = 0;
  for (int i = 0; i < 5000 && full == 0; ++i) {
    auto r = officer->post("/v1/crossings", ug_crossing("UG8" + std::to_string(100000 + i)).dump());
    if (r.status == 201) {
      acknowledged.emplace_back(parse(r)["seq"].get<uint64_t>(),
                                parse(r)["hash"].get<std::string>());
    } else {
      ASSERT_EQ(r.status, 507) << r.body;
      EXPECT_EQ(parse(r)["code"], "disk_full");
      ++full;
    }
  }
  ASSERT_EQ(full, 1) << "the cap was never reached";
  // Reads still work, and so does the node once space is back.
  EXPECT_EQ(officer->get("/v1/status").status, 200);
  EXPECT_EQ(node->kill(SIGTERM), 0);
  ASSERT_TRUE(node->start());
  officer = std::make_unique<HttpClient>(node->base(), officer_token);
  for (const auto& [seq, hash] : acknowledged)
    ASSERT_EQ(parse(officer->get("/v1/records/gatuna/" + std::to_string(seq)))["hash"], hash);
  auto r = officer->post("/v1/crossings", ug_crossing("UG9000000").dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(parse(r)["seq"].get<uint64_t>(), acknowledged.back().first + 1);
}

}  // namespace
}  // namespace umupaka::test

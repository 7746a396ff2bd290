// The API in process: the production ApiServer, Writer, NodeCore and Store of a standalone node,
// wired as umupaka-node run wires them, on a free loopback port; the store's fault injection makes
// its reads fail, which nothing outside the process can do.
#include "node/api.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ledger/assert.hpp"
#include "ledger/crypto.hpp"
#include "ledger/limits.hpp"
#include "ledger/views.hpp"
#include "node/clock.hpp"
#include "node/config.hpp"
#include "node/node_core.hpp"
#include "node/writer.hpp"
#include "storage/store.hpp"
#include "tests/node/node_process.hpp"

namespace umupaka::test {
namespace {

using json = nlohmann::json;

// A standalone node served in this process (as umupaka-node run serves one, without a network).
class InProcessNode {
 public:
  // Sets up the data directory and serves it; an error says which step failed.
  Status start(const std::string& data) {
    ASSIGN_OR_RETURN(config_,
                     init_data_dir(data, "gatuna", SiteKind::border_post, {}, "127.0.0.1:0"));
    ASSIGN_OR_RETURN(const SecretSeed seed, load_signing_seed(data));
    ASSIGN_OR_RETURN(const std::string transport, load_transport_public_key(data));
    ASSIGN_OR_RETURN(store_, Store::open(data + "/store"));
    core_ = std::make_unique<NodeCore>(NodeIdentity{config_.network_id, config_.site, config_.kind},
                                       SigningKey::from_seed(seed));
    {
      ASSIGN_OR_RETURN(auto txn, store_->read());
      RETURN_IF_ERROR(core_->recover(*txn, wall_clock_ms()));
    }
    writer_ = std::make_unique<Writer>(*core_, *store_, wall_clock_ms);
    server_ = std::make_unique<ApiServer>(
        ApiDeps{config_, *core_, *store_, *writer_, transport, wall_clock_ms, nullptr});
    // Port 0: the kernel's choice, read back once bound (a port picked free beforehand could be
    // taken by another test in between).
    RETURN_IF_ERROR(server_->start("127.0.0.1", 0, 2));
    port_ = server_->port();
    return {};
  }
  ~InProcessNode() {
    if (server_) server_->close_acceptor();
    if (writer_) writer_->stop();
    if (server_) server_->stop();
  }

  Store& store() { return *store_; }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  uint16_t port_ = 0;
  NodeConfig config_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<NodeCore> core_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<ApiServer> server_;
};

// That node started in a temporary directory, with an officer's and an auditor's client.
class ApiInProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string data = dir.path() + "/node";
    const Status started = node.start(data);
    ASSERT_TRUE(started.ok()) << started.error().message;
    auto officer_token = create_token(data, Role::officer, "officer-7", wall_clock_ms());
    auto auditor_token = create_token(data, Role::auditor, "audit-1", wall_clock_ms());
    ASSERT_TRUE(officer_token.ok() && auditor_token.ok());
    officer.emplace(node.base(), *officer_token);
    auditor.emplace(node.base(), *auditor_token);
    ASSERT_TRUE(wait_until([&] { return officer->get("/healthz").status == 200; },
                           std::chrono::seconds(10)));
  }

  TempDir dir;  // outlives the node
  InProcessNode node;
  std::optional<HttpClient> officer;
  std::optional<HttpClient> auditor;
};

json check_of(const std::string& number) {
  return typed_crossing("UGA", number);  // a check takes a crossing's body
}

// One request sent as raw HTTP/1.1 to the node at `base`: the whole response, headers included
// (HttpClient gives the body only), in lower case.
std::string raw_http(const std::string& base, const std::string& method, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(std::stoi(base.substr(base.rfind(':') + 1))));
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string request = method + " " + path +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
                                "Connection: close\r\n\r\n";
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, size_t(n));
  }
  ::close(fd);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// A served path asked with a method it is not served for: 405, its Allow header and its JSON
// naming the methods the path takes; never a 404 that says the path does not exist. An unknown
// path stays a 404.
TEST_F(ApiInProcess, AServedPathAskedWithAnotherMethodAnswers405WithAllow) {
  const struct {
    const char* method;
    const char* path;
    const char* allow;
  } cases[] = {
      {"POST", "/v1/ledger", "get"},
      {"DELETE", "/v1/membership", "get, post"},
      {"GET", "/v1/crossings", "post"},
      {"PUT", "/v1/permits/P-1/status", "post"},
      {"DELETE", "/v1/records/gatuna/1", "get"},
      {"GET", "/v1/alerts/A-1", "delete"},
  };
  for (const auto& c : cases) {
    const std::string r = raw_http(node.base(), c.method, c.path);
    EXPECT_EQ(r.rfind("http/1.1 405", 0), 0u) << c.method << " " << c.path << ": " << r;
    EXPECT_NE(r.find("\r\nallow: " + std::string(c.allow) + "\r\n"), std::string::npos)
        << c.method << " " << c.path << ": " << r;
    EXPECT_NE(r.find("\"code\":\"method_not_allowed\""), std::string::npos) << r;
  }
  const HttpResponse get = officer->get("/v1/crossings");
  EXPECT_EQ(get.status, 405) << get.body;
  EXPECT_EQ(parse(get).value("message", ""), "GET /v1/crossings: this path takes POST") << get.body;
  const HttpResponse unknown = officer->post("/v1/ledgers", "{}");
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_EQ(parse(unknown).value("code", ""), "not_found") << unknown.body;
  // The methods a path is served for are still served.
  EXPECT_EQ(auditor->get("/v1/ledger").status, 200);
}

// A path past api_path_bytes_max is refused before the router's std::regex sees it: a ~48 KB
// path parameter overflowed an API thread's stack there and killed the node, token or not.
TEST_F(ApiInProcess, AnOverlongPathIsRefusedBeforeRouting) {
  const std::string longest =
      std::string("/v1/records/") + std::string(limits::api_path_bytes_max - 14, 'a') + "/1";
  ASSERT_EQ(longest.size(), limits::api_path_bytes_max);
  const HttpResponse at_limit = officer->get(longest);
  EXPECT_EQ(at_limit.status, 422) << at_limit.body;  // read, and the origin refused
  const std::string huge(100'000, 'a');
  for (const std::string& path :
       {"/v1/records/" + huge + "/1", "/v1/records/gatuna/" + std::string(60'000, '1'),
        "/v1/travellers/USA/" + huge, "/v1/alerts/" + huge}) {
    const HttpResponse r = officer->get(path.substr(0, 60'000));
    EXPECT_EQ(r.status, 414) << r.body;
    EXPECT_EQ(parse(r).value("code", ""), "limit_exceeded") << r.body;
  }
  HttpClient anonymous(node.base(), "");
  EXPECT_EQ(anonymous.get("/v1/records/" + std::string(50'000, 'a') + "/1").status, 414);
  EXPECT_EQ(officer->get("/healthz").status, 200);
}

// Every read the store could not complete answers 500 `storage`: never a 404 for a record that is
// there, an empty page, a zero count or a check's verdict made without the traveller's alerts.
// /metrics still answers, counting the failure and leaving out the count it could not read. When
// the store reads again, so does every answer.
TEST_F(ApiInProcess, AFailedStoreReadAnswers500NeverAFalseNotFoundOrVerdict) {
  auto r = officer->post("/v1/crossings", typed_crossing("UGA", "UG7000001").dump());
  ASSERT_EQ(r.status, 201) << r.body;

  // Every read of the store, and its answer on this standalone node while the store reads (no
  // ledger: no signed head yet, no position to prove).
  const std::vector<std::pair<std::string, long>> reads = {
      {"/v1/records/gatuna/1", 200},
      {"/v1/travellers/UGA/UG7000001", 200},
      {"/v1/feeds", 200},
      {"/v1/status", 200},
      {"/v1/ledger?after=0&limit=10", 200},
      {"/v1/ledger/frontier", 200},
      {"/v1/ledger/head", 404},
      {"/v1/ledger/proof/inclusion?position=0&size=1", 422},
      {"/v1/ledger/proof/consistency?from=1&to=1", 422},
      {"/v1/conflicts", 200}};
  const auto answers = [&] {
    for (const auto& [path, status] : reads) {
      r = auditor->get(path);
      EXPECT_EQ(r.status, status) << path << ": " << r.body;
    }
    r = officer->post("/v1/checks", check_of("UG7000001").dump());
    EXPECT_EQ(r.status, 200) << r.body;
  };
  answers();

  node.store().inject_read_failure(0);
  for (const auto& [path, status] : reads) {
    r = auditor->get(path);
    EXPECT_EQ(r.status, 500) << path << ": " << r.body;
    EXPECT_EQ(parse(r)["code"], "storage") << path << ": " << r.body;
  }
  r = officer->post("/v1/checks", check_of("UG7000001").dump());
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_EQ(parse(r)["code"], "storage") << r.body;
  r = auditor->get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("umupaka_records_stored"), std::string::npos) << r.body;
  EXPECT_NE(
      r.body.find("umupaka_store_read_failures_total " + std::to_string(reads.size() + 2) + "\n"),
      std::string::npos)
      << r.body;

  node.store().inject_read_failure(std::nullopt);
  answers();
  r = auditor->get("/metrics");
  EXPECT_NE(r.body.find("umupaka_records_stored 1\n"), std::string::npos) << r.body;
}

// A read may fail at any point of a request, not only at its first: for every read-only request
// and every n, the request whose reads fail from the (n+1)-th on answers 500 `storage`, or, when it
// made no more than n reads, exactly what it answers when every read succeeds. Never a false 404,
// a shortened page, a count or a check's verdict made on part of the data, nor a crash.
// The traveller picture is read through indexes written with the records and views they name:
// an index entry whose record or view the store does not hold is the store's fault, 500
// `storage` naming it, never a picture silently short of it (a crossing or a permit missing from
// what the officer sees).
TEST_F(ApiInProcess, ATravellerIndexNamingWhatIsNotHeldAnswers500) {
  for (const char* number : {"UG7000002", "UG7000003"}) {
    const auto r = officer->post("/v1/crossings", typed_crossing("UGA", number).dump());
    ASSERT_EQ(r.status, 201) << r.body;
    ASSERT_EQ(auditor->get(std::string("/v1/travellers/UGA/") + number).status, 200);
  }
  ASSERT_TRUE(
      node.store()
          .write([](StoreTxn& t) -> Status {
            t.index_traveller_record(document_key("UGA", "UG7000002"), RecordRef{"gatuna", 999});
            t.index_permit(document_key("UGA", "UG7000003"), "gatuna-p-404");
            return {};
          })
          .ok());
  const auto a = auditor->get("/v1/travellers/UGA/UG7000002");
  EXPECT_EQ(a.status, 500) << a.body;
  EXPECT_EQ(parse(a).value("code", ""), "storage") << a.body;
  EXPECT_NE(a.body.find("gatuna/999"), std::string::npos) << a.body;
  const auto b = auditor->get("/v1/travellers/UGA/UG7000003");
  EXPECT_EQ(b.status, 500) << b.body;
  EXPECT_NE(b.body.find("gatuna-p-404"), std::string::npos) << b.body;
  // Other travellers are answered as ever.
  EXPECT_EQ(auditor->get("/v1/travellers/UGA/UG7000009").status, 200);
}

// A record the store holds but whose bytes do not decode (it was checked when it came in) is the
// store's fault: 500 `storage` naming it, never a 200 carrying an error in place of the record.
TEST_F(ApiInProcess, AHeldRecordThatDoesNotDecodeAnswers500) {
  const auto r = officer->post("/v1/crossings", typed_crossing("UGA", "UG7000004").dump());
  ASSERT_EQ(r.status, 201) << r.body;
  ASSERT_TRUE(node.store()
                  .write([](StoreTxn& t) -> Status {
                    const auto head = t.head("gatuna");
                    if (!head) return make_error(Errc::not_found, "no feed head");
                    SignedRecord garbage;
                    garbage.encoded = "not a record";
                    garbage.hash = sha256("not a record");
                    RecordHeader h;
                    h.network_id = "net";
                    h.origin = OriginId("gatuna");
                    h.seq = Seq(head->seq + 1);
                    h.prev_hash = head->hash;
                    return t.append(garbage, h);
                  })
                  .ok());
  const auto a = auditor->get("/v1/records/gatuna/2");
  EXPECT_EQ(a.status, 500) << a.body;
  EXPECT_EQ(parse(a).value("code", ""), "storage") << a.body;
  EXPECT_NE(a.body.find("gatuna/2 does not decode"), std::string::npos) << a.body;
  EXPECT_EQ(auditor->get("/v1/records/gatuna/1").status, 200);
}

TEST_F(ApiInProcess, AReadFailingAtAnyPointAnswers500OrTheWholeAnswer) {
  // Travellers with several records each, one of them with a document reported lost.
  for (int i = 0; i < 3; ++i) {
    for (const char* direction : {"entry", "exit"}) {
      auto r = officer->post(
          "/v1/crossings",
          typed_crossing("UGA", "UG700000" + std::to_string(i), "MUGISHA", direction).dump());
      ASSERT_EQ(r.status, 201) << r.body;
    }
  }
  auto r = officer->post("/v1/travel-documents/UGA/UG7000001/status",
                         json{{"status", "lost"}, {"reason", "reported at the desk"}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;

  struct Request {
    std::string path;
    std::string check;  // POST /v1/checks of this document number, if not empty
    bool whole = true;  // compare the whole body (not for /v1/status: it tells the time)
  };
  const std::vector<Request> requests = {
      {"/v1/records/gatuna/3", "", true},
      {"/v1/records/gatuna/99", "", true},  // 404 when the reads succeed
      {"/v1/travellers/UGA/UG7000001", "", true},
      {"/v1/travellers/UGA/UG7000009", "", true},
      {"/v1/feeds", "", true},
      {"/v1/status", "", false},
      {"/v1/ledger?after=0&limit=10", "", true},
      {"/v1/ledger/frontier", "", true},
      {"/v1/ledger/head", "", true},
      {"/v1/conflicts", "", true},
      {"/v1/checks", "UG7000001", true},
      {"/v1/checks", "UG7000002", true}};
  const auto send = [&](const Request& q) {
    return q.check.empty() ? auditor->get(q.path) : officer->post(q.path, check_of(q.check).dump());
  };
  for (const Request& q : requests) {
    const std::string what = q.path + " " + q.check;
    const auto whole = send(q);
    ASSERT_NE(whole.status, 500) << what << ": " << whole.body;
    bool done = false;
    for (uint64_t n = 0; n < 10'000 && !done; ++n) {
      node.store().inject_read_failure(n);
      const uint64_t failed_before = node.store().injected_read_failures();
      r = send(q);
      node.store().inject_read_failure(std::nullopt);
      if (node.store().injected_read_failures() == failed_before) {
        done = true;  // n reads or fewer: every one succeeded
        EXPECT_EQ(r.status, whole.status) << what << " after " << n << " reads: " << r.body;
        if (q.whole) {
          EXPECT_EQ(r.body, whole.body) << what << " after " << n << " reads";
        }
      } else {
        EXPECT_EQ(r.status, 500) << what << ", reads failing after " << n << ": " << r.body;
        EXPECT_EQ(parse(r)["code"], "storage") << what << ": " << r.body;
      }
    }
    EXPECT_TRUE(done) << what;
  }
}

// What a record may hold but an officer may not ask for, refused at the origin with the field
// named, nothing recorded: text that says nothing ("   ", a zero-width space) where something must
// be said, a birth date after today, an id of the form nodes give by default (taken by hand, it
// made the node refuse its own default later as "already exists"), an extension that shortens.
TEST_F(ApiInProcess, RequestsThatSayNothingTakeAGivenIdOrShortenAPermitAreRefused) {
  auto admin_token =
      create_token(dir.path() + "/node", Role::hq_admin, "hq-admin-1", wall_clock_ms());
  ASSERT_TRUE(admin_token.ok());
  HttpClient admin(node.base(), *admin_token);
  auto seq = [&] { return parse(officer->get("/v1/status"))["own_feed"]["seq"]; };
  auto refused = [&](const HttpResponse& r, const std::string& field) {
    EXPECT_EQ(r.status, 422) << r.body;
    EXPECT_EQ(parse(r)["field"], field) << r.body;
  };
  ASSERT_EQ(officer
                ->post("/v1/travel-documents/UGA/B103/status",
                       json{{"status", "stolen"}, {"reason", "reported at Kampala"}}.dump())
                .status,
            201);
  const json recorded_before = seq();
  json against_deny = typed_crossing("UGA", "B103");
  against_deny["decision"] = "admitted";
  against_deny["note"] = "  \u200b ";
  refused(officer->post("/v1/crossings", against_deny.dump()), "note");

  for (const std::string blank : {"   ", "\u200b", "\u00a0\u2060\ufeff"}) {
    json c = typed_crossing("UGA", "B100");
    c["traveller"]["surname"] = json::parse("\"" + blank + "\"");
    refused(officer->post("/v1/crossings", c.dump()), "traveller.surname");
    refused(officer->post("/v1/checks", c.dump()), "traveller.surname");
  }
  // A name drawn in another order than it is stored in (U+202E RIGHT-TO-LEFT OVERRIDE, U+2067
  // RIGHT-TO-LEFT ISOLATE): "MUGISHA" stored as "\u202eAHSIGUM" reads as the one, matches as the
  // other.
  for (const std::string field : {"surname", "given_names"}) {
    for (const char* control : {"\u202e", "\u2067"}) {
      json c = typed_crossing("UGA", "B100");
      c["traveller"][field] = json::parse(std::string("\"") + control + "AHSIGUM\"");
      refused(officer->post("/v1/crossings", c.dump()), "traveller." + field);
      refused(officer->post("/v1/checks", c.dump()), "traveller." + field);
    }
  }
  json arabic = typed_crossing("UGA", "B104");  // a right-to-left script needs no control
  arabic["traveller"]["given_names"] = "\u0645\u062d\u0645\u062f";
  EXPECT_EQ(officer->post("/v1/checks", arabic.dump()).status, 200);
  // A post this standalone node's membership does not hold (CheckRequestFrom tests the rest).
  json elsewhere = typed_crossing("UGA", "B105");
  elsewhere["post"] = "rusumo";
  refused(officer->post("/v1/crossings", elsewhere.dump()), "post");
  refused(officer->post("/v1/checks", elsewhere.dump()), "post");
  json born_after_today = typed_crossing("UGA", "B101");
  born_after_today["traveller"]["birth_date"] =
      format_iso_date(Date{date_of_instant_ms(wall_clock_ms()).days + 2});  // past any midnight
  refused(officer->post("/v1/crossings", born_after_today.dump()), "traveller.birth_date");

  json permit{{"kind", "work"},
              {"holder", typed_crossing("UGA", "B102")["traveller"]},
              {"document", typed_crossing("UGA", "B102")["document"]},
              {"valid_until", "2030-01-01"}};
  for (const std::string taken : {"gatuna-30", "rusumo-5", "kigali-airport-7"}) {
    permit["permit_id"] = taken;
    refused(admin.post("/v1/permits", permit.dump()), "permit_id");
  }
  json alert{{"alert_id", "hq-9"},
             {"category", "wanted"},
             {"action", "refer"},
             {"subject", {{"kind", "national_id"}, {"national_id", "1199080012345678"}}}};
  refused(admin.post("/v1/alerts", alert.dump()), "alert_id");
  json expired = alert;
  expired["alert_id"] = "A-76";
  expired["expires_on"] = "2000-01-01";
  refused(admin.post("/v1/alerts", expired.dump()), "expires_on");
  json overridden{
      {"alert_id", "A-78"},
      {"category", "wanted"},
      {"action", "refer"},
      {"subject", {{"kind", "name"}, {"surname", "KAGABO"}, {"given_names", "\u202eNAEJ"}}}};
  refused(admin.post("/v1/alerts", overridden.dump()), "subject.given_names");
  overridden["subject"]["surname"] = "\u202aKAGABO";
  refused(admin.post("/v1/alerts", overridden.dump()), "subject.surname");
  EXPECT_EQ(seq(), recorded_before);

  // Chosen ids of other forms are taken; then the extensions.
  permit["permit_id"] = "WP-2026-0001";
  ASSERT_EQ(admin.post("/v1/permits", permit.dump()).status, 201);
  alert["alert_id"] = "A-77";
  ASSERT_EQ(admin.post("/v1/alerts", alert.dump()).status, 201);
  const json after_two = seq();
  const std::string status = "/v1/permits/WP-2026-0001/status";
  for (const std::string until : {"2030-01-01", "2029-06-30", "2020-01-01"})
    refused(officer->post(
                status,
                json{{"action", "extend"}, {"valid_until", until}, {"reason", "renewed"}}.dump()),
            "valid_until");
  refused(admin.post(status, json{{"action", "revoke"}, {"reason", " \u200b "}}.dump()), "reason");
  EXPECT_EQ(seq(), after_two);
  EXPECT_EQ(
      officer
          ->post(status,
                 json{{"action", "extend"}, {"valid_until", "2030-01-02"}, {"reason", "renewed"}}
                     .dump())
          .status,
      201);
}

// A name given twice in one object is ambiguous (a JSON reader may keep either): 422 naming its
// path, nothing recorded. Read as the last one, {"direction": "entry", ..., "direction": "exit"}
// recorded an exit.
TEST_F(ApiInProcess, ANameGivenTwiceInABodyIsRefusedWithItsPath) {
  const std::string crossing = typed_crossing("UGA", "B200").dump();
  const std::string twice_top = "{\"direction\":\"exit\"," + crossing.substr(1);
  std::string twice_nested = crossing;
  twice_nested.insert(twice_nested.find("\"sex\""), "\"sex\":\"F\",");
  ASSERT_NE(twice_nested, crossing);
  for (const auto& [body, field] :
       {std::pair{twice_top, "direction"}, std::pair{twice_nested, "traveller.sex"}}) {
    for (const std::string path : {"/v1/crossings", "/v1/checks"}) {
      const HttpResponse r = officer->post(path, body);
      EXPECT_EQ(r.status, 422) << path << ": " << r.body;
      EXPECT_EQ(parse(r)["field"], field) << r.body;
    }
  }
  EXPECT_EQ(parse(officer->get("/v1/status"))["own_feed"]["seq"], 0);
  EXPECT_EQ(officer->post("/v1/crossings", crossing).status, 201);
}

// Headers as HTTP reads them: the Authorization scheme in any case, whitespace around a value not
// part of it; a header that may come once, given twice, is 400 naming it and records nothing
// (the first was taken: a retry with the second key recorded the traveller again).
TEST_F(ApiInProcess, HeadersAreReadOnceEachWithoutTheWhitespaceAround) {
  auto token = create_token(dir.path() + "/node", Role::officer, "officer-9", wall_clock_ms());
  ASSERT_TRUE(token.ok());
  HttpClient bare(node.base(), "");
  const std::string check = check_of("B300").dump();
  for (const std::string& auth : {"bearer " + *token, "BEARER   " + *token + "  "})
    EXPECT_EQ(bare.post("/v1/checks", check, {"Authorization: " + auth}).status, 200) << auth;
  EXPECT_EQ(bare.post("/v1/checks", check, {"Authorization: Basic " + *token}).status, 401);
  const HttpResponse twice = bare.post(
      "/v1/checks", check, {"Authorization: Bearer " + *token, "Authorization: Bearer x"});
  EXPECT_EQ(twice.status, 400) << twice.body;
  EXPECT_EQ(parse(twice)["field"], "Authorization");

  const std::string auth = "Authorization: Bearer " + *token;
  const std::string crossing = typed_crossing("UGA", "B301").dump();
  const HttpResponse two_keys =
      bare.post("/v1/crossings", crossing, {auth, "Idempotency-Key: k-1", "Idempotency-Key: k-2"});
  EXPECT_EQ(two_keys.status, 400) << two_keys.body;
  EXPECT_EQ(parse(two_keys)["field"], "Idempotency-Key");
  EXPECT_EQ(parse(officer->get("/v1/status"))["own_feed"]["seq"], 0);
  const HttpResponse first = bare.post("/v1/crossings", crossing, {auth, "Idempotency-Key: k-1 "});
  ASSERT_EQ(first.status, 201) << first.body;
  const HttpResponse again = bare.post("/v1/crossings", crossing, {auth, "Idempotency-Key:  k-1"});
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(parse(again)["replayed"], true) << again.body;
  EXPECT_EQ(parse(officer->get("/v1/status"))["own_feed"]["seq"], 1);
}

// An officer's desk whose answer was lost sends the write again with the same Idempotency-Key:
// it gets the first answer (201, `replayed`, the Idempotent-Replayed header), never a second
// record. The key on another request is refused (409), a malformed key too (422), and nothing
// is recorded by either.
TEST_F(ApiInProcess, ARetryWithItsIdempotencyKeyGetsTheFirstAnswerNotASecondRecord) {
  const auto own_head = [&] {
    const json feeds = parse(officer->get("/v1/feeds"));
    for (const auto& f : feeds["feeds"])
      if (f["origin"] == "gatuna") return f["seq"].get<uint64_t>();
    return uint64_t{0};
  };
  const std::string body = typed_crossing("UGA", "UG7100001").dump();
  const std::vector<std::string> key{"Idempotency-Key: desk-3-20261202-0001"};
  const auto first = officer->post("/v1/crossings", body, key);
  ASSERT_EQ(first.status, 201) << first.body;
  json first_json = parse(first);
  EXPECT_FALSE(first_json.contains("replayed"));
  std::string first_headers = first.headers;
  std::transform(first_headers.begin(), first_headers.end(), first_headers.begin(), ::tolower);
  EXPECT_EQ(first_headers.find("idempotent-replayed"), std::string::npos);

  const auto again = officer->post("/v1/crossings", body, key);
  ASSERT_EQ(again.status, 201) << again.body;
  json again_json = parse(again);
  EXPECT_EQ(again_json["replayed"], true);
  std::string headers = again.headers;
  std::transform(headers.begin(), headers.end(), headers.begin(), ::tolower);
  EXPECT_NE(headers.find("idempotent-replayed: true"), std::string::npos) << again.headers;
  again_json.erase("replayed");
  EXPECT_EQ(again_json, first_json);
  EXPECT_EQ(own_head(), 1u);

  // The same key with another body, or on another path: refused, naming the header.
  const auto other = officer->post("/v1/crossings", typed_crossing("UGA", "UG7100002").dump(), key);
  EXPECT_EQ(other.status, 409) << other.body;
  EXPECT_EQ(parse(other)["field"], "Idempotency-Key");
  const auto other_path = officer->post("/v1/checks", body, key);
  EXPECT_EQ(other_path.status, 200) << "a check records nothing and takes no key";
  for (const std::string& bad : {std::string(limits::idempotency_key_bytes_max + 1, 'k'),
                                 std::string("two words"), std::string("")}) {
    // curl sends "Name;" as the header with an empty value ("Name:" would drop it).
    const auto r = officer->post("/v1/crossings", body,
                                 {bad.empty() ? "Idempotency-Key;" : "Idempotency-Key: " + bad});
    EXPECT_EQ(r.status, 422) << "key '" << bad << "': " << r.body;
    EXPECT_EQ(parse(r)["field"], "Idempotency-Key");
  }
  // The longest key is taken; without a key, every write records.
  EXPECT_EQ(officer
                ->post("/v1/crossings", body,
                       {"Idempotency-Key: " + std::string(limits::idempotency_key_bytes_max, 'k')})
                .status,
            201);
  EXPECT_EQ(officer->post("/v1/crossings", body).status, 201);
  EXPECT_EQ(officer->post("/v1/crossings", body).status, 201);
  EXPECT_EQ(own_head(), 4u);
  EXPECT_NE(officer->get("/metrics").body.find("umupaka_api_idempotent_replays_total 1\n"),
            std::string::npos);
}

}  // namespace
}  // namespace umupaka::test

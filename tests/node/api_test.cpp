// The API in process: the production ApiServer, Writer, NodeCore and Store of a standalone node,
// wired as umupaka-node run wires them, on a free loopback port; the store's fault injection makes
// its reads fail, which nothing outside the process can do.
#include "node/api.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ledger/assert.hpp"
#include "node/config.hpp"
#include "node/node_core.hpp"
#include "node/writer.hpp"
#include "storage/store.hpp"
#include "tests/node/node_process.hpp"

namespace umupaka::test {
namespace {

using json = nlohmann::json;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A standalone node served in this process (as umupaka-node run serves one, without a network).
class InProcessNode {
 public:
  explicit InProcessNode(const std::string& data) : port_(free_port()) {
    auto cfg = init_data_dir(data, "gatuna", SiteKind::border_post, {},
                             "127.0.0.1:" + std::to_string(port_));
    UMUPAKA_ASSERT_MSG(cfg.ok(), "init_data_dir");
    config_ = std::move(cfg).value();
    auto seed = load_signing_seed(data);
    auto transport = load_transport_public_key(data);
    auto store = Store::open(data + "/store");
    UMUPAKA_ASSERT_MSG(seed.ok() && transport.ok() && store.ok(), "node data");
    store_ = std::move(store).value();
    core_ = std::make_unique<NodeCore>(NodeIdentity{config_.network_id, config_.site, config_.kind},
                                       SigningKey::from_seed(*seed));
    {
      auto txn = store_->read();
      UMUPAKA_ASSERT_MSG(txn.ok() && core_->recover(**txn, wall_ms()).ok(), "recover");
    }
    writer_ = std::make_unique<Writer>(*core_, *store_, wall_ms);
    server_ = std::make_unique<ApiServer>(
        ApiDeps{config_, *core_, *store_, *writer_, *transport, wall_ms, nullptr});
    UMUPAKA_ASSERT_MSG(server_->start("127.0.0.1", port_, 2).ok(), "api start");
  }
  ~InProcessNode() {
    server_->close_acceptor();
    writer_->stop();
    server_->stop();
  }

  Store& store() { return *store_; }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  uint16_t port_;
  NodeConfig config_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<NodeCore> core_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<ApiServer> server_;
};

json check_of(const std::string& number) {
  return typed_crossing("UGA", number);  // a check takes a crossing's body
}

// Every read the store could not complete answers 500 `storage`: never a 404 for a record that is
// there, an empty page, a zero count or a check's verdict made without the traveller's alerts.
// /metrics still answers, counting the failure and leaving out the count it could not read. When
// the store reads again, so does every answer.
TEST(ApiInProcess, AFailedStoreReadAnswers500NeverAFalseNotFoundOrVerdict) {
  TempDir dir;
  const std::string data = dir.path() + "/node";
  InProcessNode node(data);
  auto officer_token = create_token(data, Role::officer, "officer-7", wall_ms());
  auto auditor_token = create_token(data, Role::auditor, "audit-1", wall_ms());
  ASSERT_TRUE(officer_token.ok() && auditor_token.ok());
  HttpClient officer(node.base(), *officer_token);
  HttpClient auditor(node.base(), *auditor_token);
  ASSERT_TRUE(
      wait_until([&] { return officer.get("/healthz").status == 200; }, std::chrono::seconds(10)));
  auto r = officer.post("/v1/crossings", typed_crossing("UGA", "UG7000001").dump());
  ASSERT_EQ(r.status, 201) << r.body;

  const std::vector<std::string> reads = {
      "/v1/records/gatuna/1",        "/v1/travellers/UGA/UG7000001", "/v1/feeds",    "/v1/status",
      "/v1/ledger?after=0&limit=10", "/v1/ledger/frontier",          "/v1/conflicts"};
  std::vector<long> healthy;
  for (const auto& path : reads) healthy.push_back(auditor.get(path).status);
  const long check_healthy = officer.post("/v1/checks", check_of("UG7000001").dump()).status;
  EXPECT_EQ(check_healthy, 200);
  EXPECT_EQ(healthy.front(), 200);
  EXPECT_EQ(healthy[1], 200);

  node.store().inject_read_failure(true);
  for (const auto& path : reads) {
    r = auditor.get(path);
    EXPECT_EQ(r.status, 500) << path << ": " << r.body;
    EXPECT_EQ(parse(r)["code"], "storage") << path << ": " << r.body;
  }
  r = officer.post("/v1/checks", check_of("UG7000001").dump());
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_EQ(parse(r)["code"], "storage") << r.body;
  r = auditor.get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("umupaka_records_stored"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("umupaka_store_read_failures_total " + std::to_string(reads.size() + 2)),
            std::string::npos)
      << r.body;

  node.store().inject_read_failure(false);
  for (size_t i = 0; i < reads.size(); ++i)
    EXPECT_EQ(auditor.get(reads[i]).status, healthy[i]) << reads[i];
  EXPECT_EQ(officer.post("/v1/checks", check_of("UG7000001").dump()).status, 200);
  r = auditor.get("/metrics");
  EXPECT_NE(r.body.find("umupaka_records_stored 1\n"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace umupaka::test

// `umupaka-admin audit` against a node whose answers change while it audits: a proxy in front of a
// real node (HQ, the one voter, and Gatuna) forwards every GET and rewrites some answers, as a
// node whose membership changes halfway (a site certified while the audit pages, a key or root
// swapped) or whose membership lags its Raft configuration would give them.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <restinio/all.hpp>

#include "node/config.hpp"
#include "simulation/local_network.hpp"
#include "tests/node/node_process.hpp"

namespace umupaka::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// Forwards each GET to `node` (with the network's token) and hands the answer's body to
// `rewrite` with its path and how many times that path was asked before.
class RewritingProxy {
 public:
  using Rewrite = std::function<void(const std::string& path, int asked_before, json& body)>;

  RewritingProxy(std::string node, std::string token)
      : node_(std::move(node)), token_(std::move(token)) {
    // Any free port, read back once bound (run_async returns when the server listens).
    server_ = restinio::run_async(
        restinio::own_io_context(),
        restinio::server_settings_t<>{}
            .address("127.0.0.1")
            .port(0)
            .acceptor_post_bind_hook([this](restinio::asio_ns::ip::tcp::acceptor& a) {
              port_ = a.local_endpoint().port();
            })
            .request_handler(
                [this](restinio::request_handle_t req) { return forward(std::move(req)); }),
        1);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void set_rewrite(Rewrite r) {
    std::lock_guard lock(mu_);
    rewrite_ = std::move(r);
    asked_.clear();
  }
  int asked(const std::string& path) {
    std::lock_guard lock(mu_);
    return asked_[path];
  }

 private:
  restinio::request_handling_status_t forward(restinio::request_handle_t req) {
    const std::string target(req->header().request_target());
    const std::string path(req->header().path());
    HttpClient client(node_, token_);
    const HttpResponse r = client.get(target);
    std::string body = r.body;
    {
      std::lock_guard lock(mu_);
      const int before = asked_[path]++;
      json j = json::parse(r.body, nullptr, false);
      if (r.status == 200 && j.is_object() && rewrite_) {
        rewrite_(path, before, j);
        body = j.dump();
      }
    }
    req
        ->create_response(restinio::http_status_line_t{
            restinio::http_status_code_t{static_cast<std::uint16_t>(r.status)}, "Proxied"})
        .append_header(restinio::http_field::content_type, "application/json")
        .set_body(body)
        .done();
    return restinio::request_accepted();
  }

  std::string node_, token_;
  uint16_t port_ = 0;
  std::mutex mu_;
  Rewrite rewrite_;
  std::map<std::string, int> asked_;
  restinio::running_server_handle_t<restinio::default_traits_t> server_;
};

// The membership answer without `site` among its sites.
void drop_site(json& membership, const std::string& site) {
  json kept = json::array();
  for (const auto& s : membership["sites"])
    if (s["site"] != site) kept.push_back(s);
  membership["sites"] = kept;
}

// Another 64-digit hex key than `hex`.
std::string other_key(std::string hex) {
  hex[0] = hex[0] == '0' ? '1' : '0';
  return hex;
}

// One network for the suite: the proxy rewrites answers, nothing changes the nodes.
class AuditTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir = new TempDir;
    sim::LocalUpOptions o;
    o.dir = dir->path() + "/net";
    o.sites = {"hq", "gatuna"};
    o.voters = {"hq"};
    o.base_port = 0;
    o.node_binary = UMUPAKA_NODE_BIN;
    auto up = sim::local_up(o);
    ASSERT_TRUE(up.ok()) << up.error().message;
    const json network = json::parse(*read_file(dir->path() + "/net/network.json"));
    token = network["admin_token"];
    for (const auto& s : network["sites"]) api[s["id"]] = s["api"];
    // HQ's records committed first, then Gatuna's: HQ's feed is checked before the audit meets
    // Gatuna's first record. HQ records crossings at Gatuna by naming the post.
    HttpClient hq(api["hq"], token);
    const uint64_t start = ledger_size();
    for (int i = 0; i < 3; ++i) {
      json c = typed_crossing("KEN", "HQ" + std::to_string(i));
      c["post"] = "gatuna";
      ASSERT_EQ(hq.post("/v1/crossings", c.dump()).status, 201);
    }
    ASSERT_TRUE(wait_until([&] { return ledger_size() >= start + 3; }, 30s));
    HttpClient gatuna(api["gatuna"], token);
    for (int i = 0; i < 3; ++i)
      ASSERT_EQ(gatuna.post("/v1/crossings", typed_crossing("UGA", "GA" + std::to_string(i)).dump())
                    .status,
                201);
    ASSERT_TRUE(wait_until([&] { return ledger_size() >= start + 6; }, 30s));
    ASSERT_TRUE(wait_until(
        [&] { return parse(hq.get("/v1/ledger/head")).value("size", uint64_t{0}) >= start + 6; },
        30s));
    ready = true;
  }
  static void TearDownTestSuite() {
    (void)sim::local_down(dir->path() + "/net");
    delete dir;
  }
  void SetUp() override {
    ASSERT_TRUE(ready) << "the network was not set up";
    proxy = std::make_unique<RewritingProxy>(api["hq"], token);
  }

  static uint64_t ledger_size() {
    return parse(HttpClient(api["hq"], token).get("/v1/ledger/frontier"))
        .value("size", uint64_t{0});
  }

  // `umupaka-admin audit` of HQ through the proxy: exit code and output.
  std::pair<int, std::string> audit() {
    const std::string cmd = std::string(UMUPAKA_ADMIN_BIN) + " audit --node " + proxy->url() +
                            " --token " + token + " 2>&1";
    const auto [out, rc] = run_command(cmd);
    return {rc, out};
  }

  static inline TempDir* dir = nullptr;
  static inline std::string token;
  static inline std::map<std::string, std::string> api;
  static inline bool ready = false;
  std::unique_ptr<RewritingProxy> proxy;
};

// Unchanged answers pass: the proxy itself changes nothing.
TEST_F(AuditTest, ThroughAProxyThatChangesNothingTheLedgerVerifies) {
  proxy->set_rewrite([](const std::string&, int, json&) {});
  const auto [rc, out] = audit();
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("signed head verified"), std::string::npos) << out;
  EXPECT_EQ(proxy->asked("/v1/membership"), 1) << out;
}

// A site certified while the audit pages: its first record sends the audit back to the
// membership, which now names it; the audit goes on and passes.
TEST_F(AuditTest, ASiteCertifiedWhileTheAuditPagesIsReadAgain) {
  proxy->set_rewrite([](const std::string& path, int before, json& body) {
    if (path == "/v1/membership" && before == 0) drop_site(body, "gatuna");
  });
  const auto [rc, out] = audit();
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("\nOK"), std::string::npos) << out;
  EXPECT_EQ(proxy->asked("/v1/membership"), 2) << out;
}

// Read again, the membership may only add: another key for a site whose records were already
// checked (HQ's) is a fault of the membership, not an audit that goes on under the new key.
TEST_F(AuditTest, AKeyChangedWhenTheMembershipIsReadAgainIsAFault) {
  proxy->set_rewrite([](const std::string& path, int before, json& body) {
    if (path != "/v1/membership") return;
    if (before == 0) return drop_site(body, "gatuna");
    for (auto& s : body["sites"])
      if (s["site"] == "hq") s["signing_key"] = other_key(s["signing_key"]);
  });
  const auto [rc, out] = audit();
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("FAULT in the membership: read again, the node's membership gives hq "
                     "another key than the one its records were verified with"),
            std::string::npos)
      << out;
}

// Nor may the root key change under the audit.
TEST_F(AuditTest, ARootKeyChangedWhenTheMembershipIsReadAgainIsAFault) {
  proxy->set_rewrite([](const std::string& path, int before, json& body) {
    if (path != "/v1/membership") return;
    if (before == 0) return drop_site(body, "gatuna");
    body["root_key"] = other_key(body["root_key"]);
  });
  const auto [rc, out] = audit();
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("FAULT in the membership: read again, the node's membership names network"),
            std::string::npos)
      << out;
}

// The head's signer is a voter by the Raft configuration (/v1/status) when the membership does
// not list it yet, as nodes accept heads; a signer that is a voter by neither is a fault.
TEST_F(AuditTest, TheHeadsSignerIsAVoterByTheRaftConfigurationOrAFault) {
  proxy->set_rewrite([](const std::string& path, int, json& body) {
    if (path == "/v1/membership") body["voters"] = json::array();
  });
  const auto [rc, out] = audit();
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("signed by hq"), std::string::npos) << out;
  EXPECT_GE(proxy->asked("/v1/status"), 1) << out;

  proxy->set_rewrite([](const std::string& path, int, json& body) {
    if (path == "/v1/membership") body["voters"] = json::array();
    if (path == "/v1/status") body["ledger"]["raft"]["voters"] = json::array();
  });
  const auto [not_rc, not_out] = audit();
  EXPECT_EQ(not_rc, 1) << not_out;
  EXPECT_NE(not_out.find("the head is signed by hq, not a voter"), std::string::npos) << not_out;
}

}  // namespace
}  // namespace umupaka::test

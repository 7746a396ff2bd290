// umupaka-admin: the HQ administrator's console. Holds the network root key offline and talks to
// nodes only through their HTTP API.
//
//   umupaka-admin keygen --root-key FILE
//   umupaka-admin network create --root-key FILE --network-id ID --join REQ.json...
//                                [--voters A,B,C] --out genesis.json
//   umupaka-admin certify --root-key FILE --node URL --token T --join REQ.json
//                         [--role voter|learner]
//   umupaka-admin revoke --root-key FILE --node URL --token T --site ID --cutoff SEQ
//                        [--reason TEXT]
//   umupaka-admin audit --node URL --token T [--root-public-key HEX]
//   umupaka-admin conflicts --node URL --token T [--after P]
//   umupaka-admin feeds --network DIR/network.json
//   umupaka-admin status --node URL --token T        (or --network DIR/network.json)
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "admin/audit.hpp"
#include "ledger/codec.hpp"
#include "ledger/crypto.hpp"
#include "ledger/record.hpp"
#include "ledger/validate.hpp"
#include "node/clock.hpp"
#include "node/command_line.hpp"
#include "node/config.hpp"
#include "node/http_client.hpp"
#include "node/membership_client.hpp"
#include "node/network_setup.hpp"

namespace {

using namespace umupaka;
using namespace std::chrono_literals;
using json = nlohmann::json;

int fail(const Error& e) {
  std::fprintf(stderr, "umupaka-admin: %s%s%s\n", e.message.c_str(),
               e.field.empty() ? "" : " (field: ", e.field.empty() ? "" : (e.field + ")").c_str());
  return 1;
}

int fail(const std::string& msg) {
  std::fprintf(stderr, "umupaka-admin: %s\n", msg.c_str());
  return 1;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    const std::string part =
        s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Submits a root record made from the node's current root head.
int submit_root_record(const std::string& root_key, const std::string& node,
                       const std::string& token, RecordBody body, const char* what) {
  auto seed = read_root_key(root_key);
  if (!seed.ok()) return fail(seed.error());
  HttpClient client(node, token);
  auto r = umupaka::submit_root_record(client, *seed, std::move(body), wall_clock_ms());
  if (!r.ok()) return fail(std::string(what) + ": " + r.error().message);
  std::printf("%s: %s\n", what, r->c_str());
  return 0;
}

// HQ's list of conflict alerts, in ledger order (GET /v1/conflicts, every page): one line each,
// the explanation under it; `after`: only those at positions after it.
int conflicts(const std::string& node, const std::string& token, std::optional<uint64_t> after) {
  HttpClient c(node, token);
  uint64_t shown = 0;
  for (;;) {
    std::string path = "/v1/conflicts";
    if (after) path += "?after=" + std::to_string(*after);
    const auto r = c.get(path);
    if (r.status != 200)
      return fail("GET " + path + ": " + std::to_string(r.status) + " " + r.error + r.body);
    const json page = json::parse(r.body, nullptr, false);
    if (!page.is_object() || page.at("conflicts").empty()) break;
    for (const auto& a : page.at("conflicts")) {
      std::printf("%-10llu %-30s %s/%llu  %s\n  %s\n",
                  static_cast<unsigned long long>(a.value("position", uint64_t{0})),
                  a.value("kind", "?").c_str(), a.at("record").value("origin", "?").c_str(),
                  static_cast<unsigned long long>(a.at("record").value("seq", uint64_t{0})),
                  a.value("subject", "").c_str(), a.value("explanation", "").c_str());
      ++shown;
    }
    after = page.at("next_after").get<uint64_t>();
  }
  std::printf("%llu conflict alert(s)\n", static_cast<unsigned long long>(shown));
  return 0;
}

int status_of(const std::string& node, const std::string& token) {
  HttpClient client(node, token);
  const auto r = client.get("/v1/status");
  if (r.status != 200) return fail(node + ": " + std::to_string(r.status) + " " + r.error);
  const json s = json::parse(r.body, nullptr, false);
  std::printf("%-18s %-12s records %-8llu", s.value("site", "?").c_str(),
              s.value("kind", "?").c_str(),
              static_cast<unsigned long long>(s.at("counts").value("records", 0)));
  const json& n = s.at("network");
  if (n.value("joined", false)) {
    int alive = 0, suspect = 0, dead = 0;
    for (const auto& p : n.at("peers")) {
      const std::string st = p.value("state", "");
      (st == "alive" ? alive : st == "suspect" ? suspect : dead)++;
    }
    std::printf(" peers %d alive %d suspect %d dead, quarantined %zu", alive, suspect, dead,
                n.at("quarantined").size());
  }
  // The committed ledger: nodes that agree show the same size and root (the root's first 16 hex
  // digits, enough to tell), and which node leads.
  if (const json& l = s.value("ledger", json::object()); l.is_object() && l.contains("size")) {
    std::printf(", ledger %llu root %.16s", static_cast<unsigned long long>(l.value("size", 0)),
                l.value("root", "").c_str());
    if (const json& raft = l.value("raft", json::object()); raft.value("enabled", false))
      std::printf(", raft %s term %llu", raft.value("role", "?").c_str(),
                  static_cast<unsigned long long>(raft.value("term", 0)));
  }
  std::printf("\n");
  return 0;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"umupaka-admin: the HQ console"};
  app.require_subcommand(1);
  std::string root_key, network_id, out, voters, node, token, join, role = "learner", site, reason,
                                                                    network_file;
  std::vector<std::string> joins;
  uint64_t cutoff = 0;

  auto* keygen = app.add_subcommand("keygen", "create the network root key (keep it offline)");
  keygen->add_option("--root-key", root_key)->required();

  auto* network = app.add_subcommand("network", "network set-up");
  network->require_subcommand(1);
  auto* create = network->add_subcommand("create", "make the genesis from join requests");
  create->add_option("--root-key", root_key)->required();
  create->add_option("--network-id", network_id)->required();
  create->add_option("--join", joins, "join request files")->required();
  create->add_option("--voters", voters, "comma-separated voter sites (default: hq or the first)");
  create->add_option("--out", out, "genesis file to write")->required();

  auto* certify = app.add_subcommand("certify", "admit a site from its join request");
  certify->add_option("--root-key", root_key)->required();
  certify->add_option("--node", node, "any node's API URL")->required();
  certify->add_option("--token", token, "hq-admin token")->required();
  certify->add_option("--join", join)->required();
  certify->add_option("--role", role, "voter | learner")
      ->check(CLI::IsMember({"voter", "learner"}));

  auto* revoke = app.add_subcommand("revoke", "revoke a site");
  revoke->add_option("--root-key", root_key)->required();
  revoke->add_option("--node", node)->required();
  revoke->add_option("--token", token)->required();
  revoke->add_option("--site", site)->required();
  revoke->add_option("--cutoff", cutoff, "last accepted seq of the site's feed")
      ->required()
      ->check(not_negative);
  revoke->add_option("--reason", reason);

  auto* audit_cmd =
      app.add_subcommand("audit", "verify a node's whole ledger; report the first fault");
  audit_cmd->add_option("--node", node)->required();
  audit_cmd->add_option("--token", token, "auditor or hq-admin token")->required();
  std::string root_public_key;
  audit_cmd->add_option("--root-public-key", root_public_key,
                        "the network root key to trust (hex, as keygen prints it)");

  std::optional<uint64_t> conflicts_after;
  auto* conflicts_cmd =
      app.add_subcommand("conflicts", "the ledger's conflict alerts for HQ, in ledger order");
  conflicts_cmd->add_option("--node", node)->required();
  conflicts_cmd->add_option("--token", token, "hq-admin or auditor token")->required();
  conflicts_cmd->add_option("--after", conflicts_after, "only those after this ledger position")
      ->check(not_negative);

  auto* feeds = app.add_subcommand("feeds", "which records each node holds, per origin");
  feeds->add_option("--network", network_file, "network.json of umupaka-sim local up")->required();

  auto* status = app.add_subcommand("status", "one line per node");
  status->add_option("--node", node);
  status->add_option("--token", token);
  status->add_option("--network", network_file, "network.json of umupaka-sim local up");

  if (const auto rc = umupaka::parse_command_line(app, argc, argv)) return *rc;

  if (keygen->parsed()) {
    auto seed = create_root_key(root_key);
    if (!seed.ok()) return fail(seed.error());
    std::printf("root key written to %s; public key %s\n", root_key.c_str(),
                to_hex(SigningKey::from_seed(*seed).public_key()).c_str());
    return 0;
  }
  if (create->parsed()) {
    auto seed = read_root_key(root_key);
    if (!seed.ok()) return fail(seed.error());
    std::vector<SiteEntry> sites;
    for (const auto& path : joins) {
      auto e = read_join_request(path);
      if (!e.ok()) return fail(e.error());
      sites.push_back(*e);
    }
    std::vector<std::string> v = split(voters);
    for (const auto& name : v)
      if (std::none_of(sites.begin(), sites.end(),
                       [&](const SiteEntry& e) { return e.site == name; })) {
        std::fprintf(stderr, "umupaka-admin: --voters names %s, which no --join request is\n",
                     name.c_str());
        return 2;
      }
    if (v.empty()) {
      for (const auto& e : sites)
        if (e.site == "hq") v.push_back("hq");
      if (v.empty()) v.push_back(sites.front().site);
    }
    for (auto& e : sites)
      e.role =
          std::find(v.begin(), v.end(), e.site) != v.end() ? VoterRole::voter : VoterRole::learner;
    auto g = make_genesis(*seed, network_id, sites, wall_clock_ms());
    if (!g.ok()) return fail(g.error());
    if (auto s = write_genesis(out, *g); !s.ok()) return fail(s.error());
    std::printf("genesis of %s with %zu sites (%zu voters) written to %s\n", network_id.c_str(),
                sites.size(), v.size(), out.c_str());
    return 0;
  }
  if (certify->parsed()) {
    auto e = read_join_request(join);
    if (!e.ok()) return fail(e.error());
    const auto r = enum_from_name<VoterRole>(role);
    if (!r) return fail("role must be voter or learner");
    e->role = *r;
    return submit_root_record(root_key, node, token, SiteCertified{*e}, "certified");
  }
  if (revoke->parsed())
    return submit_root_record(root_key, node, token, SiteRevoked{site, cutoff, reason}, "revoked");
  if (audit_cmd->parsed()) {
    AuditOptions o{node, token, std::nullopt};
    if (!root_public_key.empty()) {
      PublicKey k{};
      if (root_public_key.size() != 2 * k.size() ||
          !from_hex(root_public_key, k.data(), k.size())) {
        std::fprintf(stderr, "umupaka-admin: --root-public-key must be 64 hex digits\n");
        return 2;
      }
      o.root_key = k;
    }
    return audit(o);
  }
  if (conflicts_cmd->parsed()) return conflicts(node, token, conflicts_after);
  // network.json of `umupaka-sim local up`, checked for what feeds and status read of it.
  const auto read_network = [&]() -> Result<json> {
    ASSIGN_OR_RETURN(const std::string text, read_file(network_file));
    const json n = json::parse(text, nullptr, false);
    const auto is_string = [](const json& j, const char* k) {
      return j.is_object() && j.contains(k) && j.at(k).is_string();
    };
    bool ok = is_string(n, "admin_token") && n.contains("sites") && n.at("sites").is_array();
    for (const auto& entry : ok ? n.at("sites") : json::array())
      ok = ok && is_string(entry, "id") && is_string(entry, "api");
    if (!ok)
      return make_error(Errc::invalid_field,
                        network_file +
                            " is not a network.json of umupaka-sim local up (admin_token, and "
                            "sites each with id and api)");
    return n;
  };
  if (feeds->parsed()) {
    const auto net = read_network();
    if (!net.ok()) {
      fail(net.error());
      return 2;  // the file named on the command line
    }
    const json& n = *net;
    std::vector<std::string> ids;
    for (const auto& s : n.at("sites")) ids.push_back(s.at("id"));
    std::printf("%-18s", "held at \\ origin");
    for (const auto& id : ids) std::printf(" %10.10s", id.c_str());
    std::printf("\n");
    for (const auto& s : n.at("sites")) {
      HttpClient c(s.at("api"), n.at("admin_token"));
      const json f = json::parse(c.get("/v1/feeds").body, nullptr, false);
      std::map<std::string, uint64_t> h;
      if (f.is_object() && f.contains("feeds"))
        for (const auto& e : f.at("feeds"))
          h[e.at("origin").get<std::string>()] = e.at("seq").get<uint64_t>();
      std::printf("%-18s", s.at("id").get<std::string>().c_str());
      for (const auto& id : ids) std::printf(" %10llu", static_cast<unsigned long long>(h[id]));
      std::printf("%s\n", f.is_object() ? "" : "  (unreachable)");
    }
    return 0;
  }
  if (status->parsed()) {
    if (!network_file.empty()) {
      const auto net = read_network();
      if (!net.ok()) {
        fail(net.error());
        return 2;
      }
      const json& n = *net;
      int rc = 0;
      for (const auto& s : n.at("sites")) rc |= status_of(s.at("api"), n.at("admin_token"));
      return rc;
    }
    return status_of(node, token);
  }
  return 2;
}

// What a node answers, or a file holds, may be anything: an answer of the wrong shape is a clear
// error and exit 1, never a crash.
int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "umupaka-admin: an answer or file is not what was expected: %s\n",
                 e.what());
    return 1;
  }
}

#include "simulation/local_network.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "ledger/validate.hpp"
#include "node/clock.hpp"
#include "node/config.hpp"
#include "node/http_client.hpp"
#include "node/membership_client.hpp"
#include "node/network_setup.hpp"

namespace umupaka::sim {
namespace {

using json = nlohmann::json;

std::string kind_for(const std::string& id) {
  if (id == "hq" || id.rfind("hq-", 0) == 0 || id.rfind("dr-", 0) == 0) return "hq";
  if (id.find("airport") != std::string::npos) return "airport";
  if (id.rfind("embassy", 0) == 0 || id.rfind("mission", 0) == 0) return "embassy";
  return "border-post";
}

// Runs argv, waits; stdout/stderr appended to `log`.
Status run_and_wait(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::_Exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return make_error(Errc::io, "'" + argv[0] + " " + argv[1] + "' failed; see " + log);
  return {};
}

// Starts argv detached (own session), stdout/stderr to `log`; returns the pid.
int spawn(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::_Exit(127);
  }
  return pid;
}

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ' ') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// A port the kernel says is free on 127.0.0.1 now (bound and released at once).
uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  uint16_t port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    socklen_t len = sizeof a;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) port = ntohs(a.sin_port);
  }
  if (fd >= 0) ::close(fd);
  return port;
}

// Whether a port is free to listen on at 127.0.0.1 (as the nodes bind theirs, address reused).
bool port_free(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return true;  // cannot tell: the node will say
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return free;
}

// Whether `pid` runs the site's `restart` command line (perhaps with more arguments after it). A
// pid in network.json may have ended, and its number gone to another process since.
bool runs(int pid, const std::string& restart) {
  if (pid <= 0 || restart.empty()) return false;
  auto text = read_file("/proc/" + std::to_string(pid) + "/cmdline");
  if (!text.ok()) return false;
  std::vector<std::string> argv;
  std::string cur;
  for (char c : *text) {
    if (c == '\0') {
      argv.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  const std::vector<std::string> want = split_words(restart);
  return argv.size() >= want.size() && std::equal(want.begin(), want.end(), argv.begin());
}

// Waits until our child `pid` answers /healthz at `api` as itself (a node of another network on
// that port answers too); fails as soon as the child exits.
Status wait_ready(int pid, const std::string& site, const std::string& api, const std::string& log,
                  int timeout_ms) {
  HttpClient c(api, "");
  c.set_timeout_ms(500);
  for (int waited = 0;; waited += 100) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return make_error(Errc::unavailable,
                        "node " + site + " exited as it started (" +
                            (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                               : "signal " + std::to_string(WTERMSIG(status))) +
                            "); see " + log);
    const HttpResponse r = c.get("/healthz");
    if (r.status == 200) {
      const json h = json::parse(r.body, nullptr, false);
      if (h.is_object() && h.value("pid", 0) == pid) return {};
    }
    if (waited >= timeout_ms)
      return make_error(Errc::unavailable, "node " + site + " did not answer at " + api +
                                               " within " + std::to_string(timeout_ms / 1000) +
                                               " s; see " + log);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// SIGTERM to each, SIGKILL to those still running 10 s later.
void stop_all(std::vector<int> pids) {
  std::vector<int> signalled;
  for (int pid : pids)
    if (pid > 0 && ::kill(pid, SIGTERM) == 0) signalled.push_back(pid);
  for (int waited = 0; waited < 10000 && !signalled.empty(); waited += 50) {
    std::vector<int> left;
    for (int pid : signalled) {
      int status = 0;
      const pid_t r = ::waitpid(pid, &status, WNOHANG);
      const bool gone = r == pid || (r < 0 && ::kill(pid, 0) != 0);
      if (!gone) left.push_back(pid);
    }
    signalled.swap(left);
    if (!signalled.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (int pid : signalled) ::kill(pid, SIGKILL);
}

Result<json> read_network(const std::string& dir) {
  ASSIGN_OR_RETURN(std::string text, read_file(dir + "/network.json"));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error(Errc::invalid_field, dir + "/network.json is not JSON");
  return j;
}

}  // namespace

std::vector<std::string> default_sites() {
  return {"hq",        "gatuna",         "rubavu-corniche", "rusumo",
          "kagitumba", "kigali-airport", "embassy-nairobi"};
}

Status local_up(const LocalUpOptions& o) {
  const std::vector<std::string> sites = o.sites.empty() ? default_sites() : o.sites;
  std::vector<std::pair<std::string, std::string>> ids;  // id, kind
  // Arguments are checked before anything is made or started: a bad one is the command line's
  // fault (exit 2), not a node that failed to start.
  std::set<std::string> seen;
  for (const auto& s : sites) {
    const auto colon = s.find(':');
    const std::string id = s.substr(0, colon);
    if (!valid_site_id(id)) return make_error(Errc::invalid_field, "bad site id " + id, "sites");
    if (!seen.insert(id).second)
      return make_error(Errc::invalid_field, "site " + id + " is given twice", "sites");
    const std::string kind = colon == std::string::npos ? kind_for(id) : s.substr(colon + 1);
    if (!enum_from_name<SiteKind>(kind))
      return make_error(
          Errc::invalid_field,
          "site " + id + ": kind " + kind + " is none of hq, border-post, airport, embassy",
          "sites");
    ids.emplace_back(id, kind);
  }
  for (const auto& v : o.voters)
    if (!seen.count(v))
      return make_error(Errc::invalid_field, "voter " + v + " is not one of the sites", "voters");
  if (!valid_link_class(o.link))
    return make_error(Errc::invalid_field, "link must be lan, wan or satellite, got " + o.link,
                      "link");
  if (o.base_port != 0 && o.base_port + 100 + ids.size() - 1 > 65535)
    return make_error(Errc::invalid_field,
                      "base port " + std::to_string(o.base_port) + " leaves no room for " +
                          std::to_string(ids.size()) + " peer ports (base + 100 + i)",
                      "base_port");
  if (o.base_port != 0)
    for (size_t i = 0; i < ids.size(); ++i)
      for (const auto& [port, what] :
           {std::pair{o.base_port + i, "API port (base + "},
            std::pair{o.base_port + 100 + i, "peer port (base + 100 + "}})
        if (!port_free(static_cast<uint16_t>(port)))
          return make_error(Errc::conflict, "port " + std::to_string(port) + ", the " + what +
                                                std::to_string(i) + ") of " + ids[i].first +
                                                ", is in use; nothing was started: choose "
                                                "another --base-port");
  if (::mkdir(o.dir.c_str(), 0755) != 0 && errno != EEXIST)
    return make_error(Errc::io, "cannot create " + o.dir);
  struct stat st {};
  if (::stat((o.dir + "/network.json").c_str(), &st) == 0)
    return make_error(Errc::conflict, o.dir +
                                          " holds a network already: `local down` stops it; "
                                          "remove the directory to make a new one there");
  if (::stat((o.dir + "/network.down.json").c_str(), &st) == 0)
    return make_error(Errc::conflict, o.dir +
                                          " holds a network that was stopped "
                                          "(network.down.json): remove the directory to make a "
                                          "new one there");
  std::vector<std::string> voters = o.voters;
  if (voters.empty()) {
    for (const auto& [id, kind] : ids)
      if ((kind == "hq" || kind == "airport") && voters.size() < 3) voters.push_back(id);
    for (const auto& [id, kind] : ids)
      if (voters.size() < std::min<size_t>(3, ids.size()) &&
          std::find(voters.begin(), voters.end(), id) == voters.end())
        voters.push_back(id);
  }

  // Keys and configuration of every site.
  std::vector<SiteEntry> entries;
  std::vector<std::string> apis;
  std::set<uint16_t> taken;
  auto any_free = [&] {
    for (;;) {
      const uint16_t p = free_port();
      if (p != 0 && taken.insert(p).second) return p;
    }
  };
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto& [id, kind] = ids[i];
    const std::string data = o.dir + "/" + id;
    const uint16_t api_port = o.base_port ? static_cast<uint16_t>(o.base_port + i) : any_free();
    const uint16_t peer_port =
        o.base_port ? static_cast<uint16_t>(o.base_port + 100 + i) : any_free();
    const std::string api = "127.0.0.1:" + std::to_string(api_port);
    const std::string peer = "tcp://127.0.0.1:" + std::to_string(peer_port);
    apis.push_back("http://" + api);
    RETURN_IF_ERROR(run_and_wait({o.node_binary, "init", "--data", data, "--site", id, "--kind",
                                  kind, "--api", api, "--peer", peer, "--link", o.link},
                                 o.dir + "/" + id + ".log"));
    {
      ASSIGN_OR_RETURN(NodeConfig cfg, load_config(data));
      if (o.snapshot_entries) cfg.raft_snapshot_entries = *o.snapshot_entries;
      if (o.snapshot_keep_entries) cfg.raft_snapshot_keep_entries = *o.snapshot_keep_entries;
      cfg.group_commit_pace = o.group_commit_pace;
      RETURN_IF_ERROR(save_config(cfg));
    }
    ASSIGN_OR_RETURN(SiteEntry e, read_join_request(data + "/join-request.json"));
    e.role = std::find(voters.begin(), voters.end(), id) != voters.end() ? VoterRole::voter
                                                                         : VoterRole::learner;
    entries.push_back(e);
  }
  // The network: a root key, the genesis, every node joined; one admin token for all.
  const std::string root_path = o.dir + "/root-key.json";
  ASSIGN_OR_RETURN(SecretSeed root, create_root_key(root_path));
  ASSIGN_OR_RETURN(SignedRecord genesis,
                   make_genesis(root, o.network_id, entries, wall_clock_ms()));
  const std::string genesis_path = o.dir + "/genesis.json";
  RETURN_IF_ERROR(write_genesis(genesis_path, genesis));
  uint8_t raw[24];
  os_random_bytes(raw, sizeof raw);
  const std::string admin_token = "umk_" + to_hex(raw, sizeof raw);
  json out{{"network_id", o.network_id},
           {"admin_token", admin_token},
           {"root_key", root_path},
           // What an auditor pins: umupaka-admin audit --root-public-key.
           {"root_public_key", to_hex(SigningKey::from_seed(root).public_key())},
           {"genesis", genesis_path},
           {"sites", json::array()}};
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto& [id, kind] = ids[i];
    const std::string data = o.dir + "/" + id;
    RETURN_IF_ERROR(run_and_wait({o.node_binary, "join", "--data", data, "--genesis", genesis_path},
                                 o.dir + "/" + id + ".log"));
    RETURN_IF_ERROR(add_token(data, admin_token, Role::hq_admin, "hq-admin", wall_clock_ms()));
    const std::string restart = o.node_binary + " run --data " + data;
    const int pid = spawn(split_words(restart), o.dir + "/" + id + ".log");
    out["sites"].push_back({{"id", id},
                            {"kind", kind},
                            {"role", enum_name(entries[i].role)},
                            {"api", apis[i]},
                            {"peer", entries[i].peer},
                            {"pid", pid},
                            {"data", data},
                            {"restart", restart}});
  }
  RETURN_IF_ERROR(write_file_atomic(o.dir + "/network.json", out.dump(2) + "\n", 0644));
  for (const auto& s : out["sites"]) {
    const std::string id = s["id"];
    if (Status ready = wait_ready(s["pid"], id, s["api"], o.dir + "/" + id + ".log", 20000);
        !ready.ok()) {
      // Not a network: every node is stopped, and network.json names no process.
      std::vector<int> pids;
      for (auto& t : out["sites"]) {
        pids.push_back(t["pid"]);
        t["pid"] = 0;
      }
      stop_all(pids);
      (void)write_file_atomic(o.dir + "/network.json", out.dump(2) + "\n", 0644);
      return make_error(ready.error().code,
                        ready.error().message + "; every node of " + o.dir + " was stopped");
    }
  }
  return {};
}

Result<int> local_add(const LocalAddOptions& o) {
  ASSIGN_OR_RETURN(json n, read_network(o.dir));
  const auto colon = o.site.find(':');
  const std::string id = o.site.substr(0, colon);
  const std::string kind = colon == std::string::npos ? kind_for(id) : o.site.substr(colon + 1);
  if (!valid_site_id(id)) return make_error(Errc::invalid_field, "bad site id " + id, "site");
  const auto role = enum_from_name<VoterRole>(o.role);
  if (!role) return make_error(Errc::invalid_field, "role must be voter or learner", "role");
  if (!n["sites"].is_array() || n["sites"].empty())
    return make_error(Errc::invalid_field, o.dir + "/network.json lists no sites");
  std::set<uint16_t> taken;
  for (const auto& s : n["sites"]) {
    if (s["id"] == id) return make_error(Errc::conflict, id + " is in the network already");
    for (const char* k : {"api", "peer"}) {
      const std::string a = s.value(k, "");
      const auto c = a.rfind(':');
      if (c != std::string::npos) taken.insert(static_cast<uint16_t>(std::atoi(a.c_str() + c + 1)));
    }
  }
  auto any_free = [&] {
    for (;;) {
      const uint16_t p = free_port();
      if (p != 0 && taken.insert(p).second) return p;
    }
  };
  // The same link class, Raft settings and group-commit pacing as the first site (HQ in a default
  // network).
  const json& first = n["sites"][0];
  ASSIGN_OR_RETURN(NodeConfig like, load_config(first["data"].get<std::string>()));
  const std::string data = o.dir + "/" + id;
  const std::string log = o.dir + "/" + id + ".log";
  const std::string api = "127.0.0.1:" + std::to_string(any_free());
  const std::string peer = "tcp://127.0.0.1:" + std::to_string(any_free());
  RETURN_IF_ERROR(run_and_wait({o.node_binary, "init", "--data", data, "--site", id, "--kind", kind,
                                "--api", api, "--peer", peer, "--link", like.link},
                               log));
  ASSIGN_OR_RETURN(NodeConfig cfg, load_config(data));
  cfg.raft_snapshot_entries = like.raft_snapshot_entries;
  cfg.raft_snapshot_keep_entries = like.raft_snapshot_keep_entries;
  cfg.raft_learner_heartbeat_ticks = like.raft_learner_heartbeat_ticks;
  cfg.raft_tick_ms = like.raft_tick_ms;
  cfg.group_commit_pace = like.group_commit_pace;
  RETURN_IF_ERROR(save_config(cfg));
  // HQ certifies it: a root record through the first site's API.
  ASSIGN_OR_RETURN(SiteEntry entry, read_join_request(data + "/join-request.json"));
  entry.role = *role;
  ASSIGN_OR_RETURN(SecretSeed root, read_root_key(n["root_key"].get<std::string>()));
  HttpClient hq(first["api"].get<std::string>(), n["admin_token"].get<std::string>());
  if (auto c = submit_root_record(hq, root, SiteCertified{entry}, wall_clock_ms()); !c.ok())
    return c.error();
  RETURN_IF_ERROR(run_and_wait(
      {o.node_binary, "join", "--data", data, "--genesis", n["genesis"].get<std::string>()}, log));
  RETURN_IF_ERROR(add_token(data, n["admin_token"].get<std::string>(), Role::hq_admin, "hq-admin",
                            wall_clock_ms()));
  const std::string restart = o.node_binary + " run --data " + data;
  const int pid = spawn(split_words(restart), log);
  const Status ready = wait_ready(pid, id, "http://" + api, log, 20000);
  // Certified, it is in the network either way: listed, with its pid while it runs.
  n["sites"].push_back({{"id", id},
                        {"kind", kind},
                        {"role", o.role},
                        {"api", "http://" + api},
                        {"peer", peer},
                        {"pid", runs(pid, restart) ? pid : 0},
                        {"data", data},
                        {"restart", restart}});
  RETURN_IF_ERROR(write_file_atomic(o.dir + "/network.json", n.dump(2) + "\n", 0644));
  if (!ready.ok()) return ready.error();
  return pid;
}

Result<int> start_site(const std::string& dir, const std::string& site,
                       const std::vector<std::string>& extra_args) {
  ASSIGN_OR_RETURN(json n, read_network(dir));
  for (auto& s : n["sites"]) {
    if (s["id"] != site) continue;
    const std::string restart = s["restart"];
    if (const int running = s.value("pid", 0); runs(running, restart))
      return make_error(Errc::conflict,
                        site + " is running already (pid " + std::to_string(running) + ")");
    std::vector<std::string> args = split_words(restart);
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    const std::string log = dir + "/" + site + ".log";
    const int pid = spawn(args, log);
    const Status ready = wait_ready(pid, site, s["api"], log, 20000);
    // A node that exited is not recorded; one slow to answer is, for `local down` to stop.
    if (runs(pid, restart)) {
      s["pid"] = pid;
      RETURN_IF_ERROR(write_file_atomic(dir + "/network.json", n.dump(2) + "\n", 0644));
    }
    if (!ready.ok()) return ready.error();
    return pid;
  }
  return make_error(Errc::not_found, "no site " + site + " in " + dir + "/network.json");
}

Status local_down(const std::string& dir) {
  ASSIGN_OR_RETURN(json n, read_network(dir));
  // Only the processes that still run their site's node: a pid of one that ended may belong to
  // another process now.
  std::vector<int> pids;
  for (const auto& s : n["sites"])
    if (const int pid = s.value("pid", 0); runs(pid, s.value("restart", ""))) pids.push_back(pid);
  stop_all(pids);
  ::rename((dir + "/network.json").c_str(), (dir + "/network.down.json").c_str());
  return {};
}

}  // namespace umupaka::sim

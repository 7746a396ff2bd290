// umupaka-node: the process that runs at every site.
//
//   umupaka-node init --data DIR --site ID --kind KIND [--network ID] [--api ADDR:PORT]
//                     [--peer tcp://ADDR:PORT] [--link lan|wan|satellite]
//   umupaka-node join --data DIR --genesis FILE
//   umupaka-node token create --data DIR --role ROLE [--subject NAME]
//   umupaka-node run --data DIR [--api 127.0.0.1:PORT] [--threads N]
//                    [--restored | --drop-restore-hold]
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "ledger/membership.hpp"
#include "ledger/records.hpp"
#include "node/api.hpp"
#include "node/clock.hpp"
#include "node/command_line.hpp"
#include "node/config.hpp"
#include "node/network.hpp"
#include "node/network_setup.hpp"
#include "node/node_core.hpp"
#include "node/writer.hpp"
#include "storage/store.hpp"

namespace {

using namespace umupaka;

// `run`'s exit code when LMDB declared the store unusable (EX_TEMPFAIL: start it again).
constexpr int exit_store_unusable = 75;

int fail(const Error& e) {
  std::fprintf(stderr, "umupaka-node: %s%s%s\n", e.message.c_str(),
               e.field.empty() ? "" : " (field: ", e.field.empty() ? "" : (e.field + ")").c_str());
  return e.code == Errc::invalid_field || e.code == Errc::conflict ? 2 : 1;
}

int cmd_init(const std::string& data, const std::string& site, const std::string& kind_name,
             const std::string& network, const std::string& api, const std::string& peer,
             const std::string& link) {
  const auto kind = enum_from_name<SiteKind>(kind_name);
  if (!kind)
    return fail(make_error(Errc::invalid_field,
                           "kind must be one of: hq, border-post, airport, embassy", "kind"));
  // The join request gives HQ this address for the site's API; port 0 would be another at every
  // start, and reachable at none of them (run --api ADDR:0 takes one for a single run).
  if (!api.empty()) {
    std::string address;
    uint16_t port = 0;
    if (parse_listen(api, address, port).ok() && port == 0)
      return fail(make_error(Errc::invalid_field,
                             "--api " + api +
                                 ": a node's API needs a fixed port (HQ and the admin tools reach "
                                 "it at the address its join request gives)",
                             "api"));
  }
  auto cfg = init_data_dir(data, site, *kind, network, api, peer, link);
  if (!cfg.ok()) return fail(cfg.error());
  auto store = Store::open(data + "/store");
  if (!store.ok()) return fail(store.error());
  auto seed = load_signing_seed(data);
  if (!seed.ok()) return fail(seed.error());
  const SigningKey key = SigningKey::from_seed(*seed);
  auto transport = load_transport_public_key(data);
  if (!transport.ok()) return fail(transport.error());
  SiteEntry request;
  request.site = cfg->site;
  request.kind = cfg->kind;
  request.role = VoterRole::learner;
  request.signing_key = key.public_key();
  request.transport_key = *transport;
  request.peer = cfg->peer_listen;
  request.api = "http://" + cfg->api_address + ":" + std::to_string(cfg->api_port);
  if (auto w = write_join_request(data + "/join-request.json", request); !w.ok())
    return fail(w.error());
  std::printf(
      "initialized %s: site %s (%s), standalone network %s\nsigning key %s\ntransport key "
      "%s\njoin request for HQ: %s/join-request.json\n",
      data.c_str(), cfg->site.c_str(), kind_name.c_str(), cfg->network_id.c_str(),
      to_hex(key.public_key()).c_str(), transport->c_str(), data.c_str());
  return 0;
}

int cmd_join(const std::string& data, const std::string& genesis_path) {
  auto cfg = load_config(data);
  if (!cfg.ok()) return fail(cfg.error());
  auto genesis = read_genesis(genesis_path);
  if (!genesis.ok()) return fail(genesis.error());
  auto seed = load_signing_seed(data);
  if (!seed.ok()) return fail(seed.error());
  auto store = Store::open(data + "/store");
  if (!store.ok()) return fail(store.error());
  NodeCore core(NodeIdentity{cfg->network_id, cfg->site, cfg->kind}, SigningKey::from_seed(*seed));
  {
    auto txn = (*store)->read();
    if (!txn.ok()) return fail(txn.error());
    // The store already holds this genesis: a join that wrote the store but not node.toml (a full
    // disk) is finished by the same join again, and a join repeated after success changes nothing.
    if (const auto held = (*txn)->record(root_origin, 1); held && held->hash == genesis->hash) {
      auto m = Membership::from_genesis(*held);
      if (!m.ok()) return fail(m.error());
      if (cfg->network_id == m->network_id()) {
        std::printf("already joined network %s\n", cfg->network_id.c_str());
        return 0;
      }
      cfg->network_id = m->network_id();
      if (auto s = save_config(*cfg); !s.ok()) return fail(s.error());
      std::printf("joined network %s (node.toml completed: the last join did not write it)\n",
                  cfg->network_id.c_str());
      return 0;
    }
    if (auto r = core.recover(**txn, wall_clock_ms()); !r.ok()) return fail(r.error());
  }
  // A genesis that certifies this site under other keys was not made from this node's
  // join-request.json: its records would verify nowhere, and peers would refuse its connections.
  {
    auto m = Membership::from_genesis(*genesis);
    if (!m.ok()) return fail(m.error());
    if (const MemberSite* entry = m->site(cfg->site)) {
      auto transport = load_transport_public_key(data);
      if (!transport.ok()) return fail(transport.error());
      const bool signing_differs =
          entry->entry.signing_key != SigningKey::from_seed(*seed).public_key();
      if (signing_differs || entry->entry.transport_key != *transport)
        return fail(make_error(
            Errc::invalid_field,
            genesis_path + " certifies site " + cfg->site + " under another " +
                (signing_differs ? "signing" : "transport") + " key than this node's (" + data +
                "/keys): it was not made from this node's join-request.json; nothing was joined"));
    }
  }
  auto joined = join_network(core, **store, *genesis);
  if (!joined.ok()) return fail(joined.error());
  cfg->network_id = core.membership().network_id();
  if (auto s = save_config(*cfg); !s.ok()) return fail(s.error());
  const MemberSite* self = core.membership().site(cfg->site);
  std::printf(
      "joined network %s (%zu sites); %s\n", cfg->network_id.c_str(),
      core.membership().sites().size(),
      self != nullptr
          ? ("this site is certified as a " + std::string(enum_name(self->entry.role))).c_str()
          : "this site is not certified yet: HQ certifies its join request");
  return 0;
}

int cmd_token_create(const std::string& data, const std::string& role_name, std::string subject) {
  const auto role = enum_from_name<Role>(role_name);
  if (!role)
    return fail(make_error(Errc::invalid_field,
                           "role must be one of: officer, consular, hq-admin, auditor", "role"));
  if (subject.empty()) {
    uint8_t r[3];
    os_random_bytes(r, sizeof r);
    subject = role_name + "-" + to_hex(r, sizeof r);
  }
  auto token = create_token(data, *role, subject, wall_clock_ms());
  if (!token.ok()) return fail(token.error());
  std::printf("%s\n", token->c_str());
  return 0;
}

int cmd_run(const std::string& data, const std::string& api, unsigned threads, bool restored,
            bool drop_restore_hold) {
  // SIGINT/SIGTERM are taken by sigwait in this thread only: block them before any thread starts.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto cfg = load_config(data);
  if (!cfg.ok()) return fail(cfg.error());
  if (!api.empty()) {
    auto s = parse_listen(api, cfg->api_address, cfg->api_port);
    if (!s.ok()) return fail(s.error());
  }
  auto seed = load_signing_seed(data);
  if (!seed.ok()) return fail(seed.error());
  auto transport = load_transport_public_key(data);
  if (!transport.ok()) return fail(transport.error());
  // Declared before the store, whose fatal hook sets it: it outlives the store.
  std::atomic<bool> store_unusable{false};
  auto store = Store::open(data + "/store");
  if (!store.ok()) return fail(store.error());
  // LMDB's fatal state (a failed write of a meta page) ends only in a new process: stop as on
  // SIGTERM, and exit with exit_store_unusable so that a supervisor starts the node again
  // (docs/operations.md, "Disk").
  (*store)->on_fatal([&store_unusable] {
    store_unusable = true;
    spdlog::critical(
        "the store is unusable until it is opened again (LMDB: MDB_PANIC, a write of its meta page "
        "failed): stopping with exit code {} so that the node is started again; nothing "
        "acknowledged is lost (docs/operations.md, \"Disk\")",
        exit_store_unusable);
    ::kill(::getpid(), SIGTERM);
  });
  // A start-up step that failed because the store became unusable exits 75 too.
  const auto failed = [&store_unusable](const Error& e) {
    const int rc = fail(e);
    return store_unusable ? exit_store_unusable : rc;
  };
  if ((*store)->env().stale_readers_cleared() > 0)
    spdlog::warn("cleared {} stale LMDB reader slots", (*store)->env().stale_readers_cleared());

  NodeCore core(NodeIdentity{cfg->network_id, cfg->site, cfg->kind}, SigningKey::from_seed(*seed));
  // The restore hold is a mark in the store (NodeCore::set_restore_mark): set by --restored, kept
  // across restarts until the first record ends it, dropped by --drop-restore-hold.
  if (restored || drop_restore_hold) {
    const Status marked = (*store)->write([&](StoreTxn& txn) -> Status {
      NodeCore::set_restore_mark(txn, restored);
      return {};
    });
    if (!marked.ok()) return failed(marked.error());
  }
  {
    auto txn = (*store)->read();
    if (!txn.ok()) return failed(txn.error());
    auto rec = core.recover(**txn, wall_clock_ms());
    if (!rec.ok()) return failed(rec.error());
  }
  if (drop_restore_hold)
    spdlog::warn(
        "--drop-restore-hold: the restore hold is dropped; this node records by the usual rule "
        "(it refuses while a peer has proven more of its own feed than this store holds)");
  if (core.restore_hold())
    spdlog::warn(
        "started on a restored store ({}): recording waits until a majority of the other sites "
        "have said how far this site's own feed goes, and until this store holds that far "
        "(docs/operations.md)",
        restored ? "--restored"
                 : "marked by an earlier --restored, or by a peer's record showing this store "
                   "lost records it signed, with no record since");
  // Copies for the network thread, taken before the writer starts.
  const Membership membership = core.membership();
  const auto quarantine = core.quarantine();
  Writer writer(core, **store, wall_clock_ms, cfg->group_commit_pace);
  std::unique_ptr<NetworkRuntime> network;
  if (membership.joined()) {
    auto secret = load_transport_secret_key(data);
    if (!secret.ok()) return failed(secret.error());
    NetworkOptions opt;
    opt.self = cfg->site;
    opt.listen = cfg->peer_listen;
    opt.transport_public = *transport;
    opt.transport_secret = *secret;
    opt.default_link = enum_from_name<swim::LinkClass>(cfg->link).value_or(swim::LinkClass::wan);
    for (const auto& [site, cls] : cfg->links)
      opt.links[site] = enum_from_name<swim::LinkClass>(cls).value_or(opt.default_link);
    opt.gossip.seed = std::hash<std::string>{}(cfg->site) ^ static_cast<uint64_t>(wall_clock_ms());
    opt.gossip.swim.seed = opt.gossip.seed + 1;
    opt.signing_seed = *seed;
    opt.order.seed = opt.gossip.seed + 2;
    opt.order.tick_ms = cfg->raft_tick_ms;
    opt.order.snapshot_entries = cfg->raft_snapshot_entries;
    opt.order.learner_heartbeat_ticks = cfg->raft_learner_heartbeat_ticks;
    opt.order.snapshot_keep_entries = cfg->raft_snapshot_keep_entries;
    opt.peer_claims = [&core](const PeerClaims& claims) { core.note_peer_claims(claims); };
    network = std::make_unique<NetworkRuntime>(std::move(opt), **store, writer);
    NetworkRuntime* net = network.get();
    writer.set_commit_hook([net](const std::vector<SignedRecord>& local, const Membership* m) {
      net->notify_committed(local, m);
    });
    if (auto s = network->start(membership, quarantine); !s.ok()) {
      writer.stop();
      return failed(s.error());
    }
  }
  ApiServer server(ApiDeps{*cfg, core, **store, writer, *transport, wall_clock_ms, network.get()});
  auto started = server.start(cfg->api_address, cfg->api_port, threads);
  if (!started.ok()) {
    if (network) network->stop();
    writer.stop();
    return failed(started.error());
  }
  spdlog::info("umupaka-node {} ({}) serving http://{}:{} (network {})", cfg->site,
               enum_name(cfg->kind), cfg->api_address, server.port(), cfg->network_id);
  // A line for scripts that wait for readiness, with the port bound (the kernel's for --api :0).
  std::printf("ready http://%s:%u\n", cfg->api_address.c_str(), unsigned{server.port()});
  std::fflush(stdout);
  const int sig = ApiServer::wait_for_shutdown_signal();
  spdlog::info("signal {}: stopping (finishing queued writes)", sig);
  server.close_acceptor();
  if (network) network->stop();  // no more received records reach the writer
  writer.stop();                 // everything queued is executed, committed and answered
  server.stop();
  if (store_unusable) {
    spdlog::critical("stopped: the store is unusable; exit {}", exit_store_unusable);
    return exit_store_unusable;
  }
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"umupaka-node: the border-management ledger node"};
  app.require_subcommand(1);

  std::string data, site, kind, network, api, role, subject, peer, link, genesis;
  unsigned threads = 2;

  auto* init = app.add_subcommand("init", "create a node's keys and configuration");
  init->add_option("--data", data, "data directory")->required();
  init->add_option("--site", site, "site id (e.g. gatuna, kigali-airport, hq)")->required();
  init->add_option("--kind", kind, "hq | border-post | airport | embassy")->required();
  init->add_option("--network", network, "network id (default: a new standalone network)");
  init->add_option("--api", api, "API listen address ADDR:PORT (default 127.0.0.1:7400)");
  init->add_option("--peer", peer, "peer endpoint tcp://ADDR:PORT (default tcp://127.0.0.1:7500)");
  init->add_option("--link", link, "link class to peers: lan | wan | satellite (default wan)");

  auto* join = app.add_subcommand("join", "adopt a network's genesis (before the first record)");
  join->add_option("--data", data, "data directory")->required();
  join->add_option("--genesis", genesis, "genesis file from umupaka-admin network create")
      ->required();

  auto* token = app.add_subcommand("token", "manage bearer tokens");
  token->require_subcommand(1);
  auto* create = token->add_subcommand("create", "print a new bearer token on stdout");
  create->add_option("--data", data, "data directory")->required();
  create->add_option("--role", role, "officer | consular | hq-admin | auditor")->required();
  create->add_option("--subject", subject, "who holds it (recorded as the officer)");

  auto* run = app.add_subcommand("run", "serve the HTTP/JSON API");
  run->add_option("--data", data, "data directory")->required();
  run->add_option("--api", api, "listen address ADDR:PORT (default from node.toml)");
  run->add_option("--threads", threads, "HTTP threads")->check(CLI::Range(1u, 64u));
  bool restored = false;
  run->add_flag("--restored", restored,
                "the store was put back from a backup: take this site's lost records back from "
                "its peers before recording");
  bool drop_restore_hold = false;
  run->add_flag("--drop-restore-hold", drop_restore_hold,
                "end the hold an earlier --restored left (HQ has looked): record by the usual "
                "rule")
      ->excludes("--restored");

  if (const auto rc = umupaka::parse_command_line(app, argc, argv)) return *rc;
  if (init->parsed()) return cmd_init(data, site, kind, network, api, peer, link);
  if (join->parsed()) return cmd_join(data, genesis);
  if (create->parsed()) return cmd_token_create(data, role, subject);
  if (run->parsed()) return cmd_run(data, api, threads, restored, drop_restore_hold);
  return 2;
}

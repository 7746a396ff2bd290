// The node's HTTP/JSON API (docs/api.md), on RESTinio. Handlers parse and authenticate on the
// server's threads, hand writes to the Writer (group commit) and answer when the record is durable;
// reads use LMDB read transactions concurrently with the writer. Bound to loopback by default.
#pragma once

#include <memory>
#include <string>

#include "node/config.hpp"
#include "node/network.hpp"
#include "node/node_core.hpp"
#include "node/writer.hpp"
#include "storage/store.hpp"

namespace umupaka {

struct ApiDeps {
  const NodeConfig& config;
  const NodeCore& core;  // identity, keys and dry-run checks (const: no writes from here)
  Store& store;
  Writer& writer;
  std::string transport_public_key;  // Z85
  Writer::Clock clock;
  const NetworkRuntime* network = nullptr;  // null on a standalone node
};

class ApiServer {
 public:
  explicit ApiServer(ApiDeps deps);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and serves on `threads` threads; returns once listening. Errc::io if the address
  // cannot be bound.
  Status start(const std::string& address, uint16_t port, unsigned threads);
  // The port listened on once start() succeeded: the one asked for, or the kernel's choice if
  // that was 0.
  uint16_t port() const;
  // Blocks until SIGINT or SIGTERM (which the caller has blocked in every thread beforehand).
  static int wait_for_shutdown_signal();
  // Stops accepting connections; requests in flight still get their answers.
  void close_acceptor();
  // Stops the server's threads. Call after the writer has drained.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace umupaka

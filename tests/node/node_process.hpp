// Test support: runs the real umupaka-node binary (path from UMUPAKA_NODE_BIN) in a temporary
// data directory on a free loopback port.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "node/http_client.hpp"

namespace umupaka::test {

inline uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Runs a command, returns its stdout (trailing newline stripped) and exit status.
inline std::pair<std::string, int> run_command(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {"", -1};
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

inline nlohmann::json parse(const HttpResponse& r) {
  return nlohmann::json::parse(r.body, nullptr, false);
}

// Polls `pred` every 50 ms until it holds or `timeout` passes; returns its last value.
template <typename Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

// A typed entry crossing of a passport holder of `country`.
inline nlohmann::json typed_crossing(const std::string& country, const std::string& number,
                                     const std::string& surname = "MUGISHA",
                                     const std::string& direction = "entry") {
  return nlohmann::json{
      {"direction", direction},
      {"traveller",
       {{"surname", surname},
        {"given_names", "ERIC"},
        {"nationality", country},
        {"birth_date", "1990-05-17"},
        {"sex", "M"}}},
      {"document",
       {{"kind", "passport"}, {"country", country}, {"number", number}, {"expiry", "2031-01-01"}}}};
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/umupaka-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  // UMUPAKA_KEEP_TEST_DIRS=1 keeps the directory (the nodes' logs and stores) for a look after.
  ~TempDir() {
    if (std::getenv("UMUPAKA_KEEP_TEST_DIRS") != nullptr) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class NodeProcess {
 public:
  NodeProcess(std::string data, std::string site, std::string kind = "border-post")
      : data_(std::move(data)), site_(std::move(site)), port_(free_port()) {
    const auto [out, rc] =
        run_command(std::string(UMUPAKA_NODE_BIN) + " init --data " + data_ + " --site " + site_ +
                    " --kind " + kind + " --api 127.0.0.1:" + std::to_string(port_));
    init_ok_ = rc == 0;
  }
  ~NodeProcess() { kill(SIGKILL); }

  bool init_ok() const { return init_ok_; }
  std::string token(const std::string& role, const std::string& subject) const {
    return run_command(std::string(UMUPAKA_NODE_BIN) + " token create --data " + data_ +
                       " --role " + role + " --subject " + subject)
        .first;
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& data() const { return data_; }

  // An environment variable for the processes start() runs.
  void set_env(std::string name, std::string value) {
    env_.emplace_back(std::move(name), std::move(value));
  }

  // Waits up to `timeout_ms` for the process to exit by itself: its exit code (or 128+signal), or
  // -1 if it is still running.
  int wait_exit(int timeout_ms) {
    if (pid_ <= 0) return -1;
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }

  // Starts `run` and waits until /healthz answers (up to 20 s). `file_bytes_max` > 0 limits the
  // size of any file the node writes (RLIMIT_FSIZE, SIGXFSZ ignored): a full disk, as LMDB sees it.
  bool start(rlim_t file_bytes_max = 0) {
    pid_ = ::fork();
    if (pid_ == 0) {
      if (file_bytes_max > 0) {
        ::signal(SIGXFSZ, SIG_IGN);
        const rlimit lim{file_bytes_max, file_bytes_max};
        ::setrlimit(RLIMIT_FSIZE, &lim);
      }
      for (const auto& [name, value] : env_) ::setenv(name.c_str(), value.c_str(), 1);
      const std::string log = data_ + "/node.out";
      std::freopen(log.c_str(), "a", stdout);
      std::freopen(log.c_str(), "a", stderr);
      ::execl(UMUPAKA_NODE_BIN, UMUPAKA_NODE_BIN, "run", "--data", data_.c_str(),
              static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    HttpClient probe(base(), "");
    probe.set_timeout_ms(500);
    for (int i = 0; i < 400; ++i) {
      if (probe.get("/healthz").status == 200) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  // Sends `sig` and waits for the process; returns its exit code (or 128+signal).
  int kill(int sig) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  std::string data_, site_;
  uint16_t port_;
  pid_t pid_ = -1;
  bool init_ok_ = false;
  std::vector<std::pair<std::string, std::string>> env_;
};

}  // namespace umupaka::test

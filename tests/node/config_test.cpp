// node.toml: what is read, its defaults, and what is refused with a clear error.
#include "node/config.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace umupaka::test {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/umupaka-config-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void write_toml(const std::string& dir, const std::string& raft) {
  std::ofstream f(dir + "/node.toml");
  f << "[node]\nnetwork_id = \"net-1\"\nsite = \"gatuna\"\nkind = \"border-post\"\n"
    << "[raft]\n"
    << raft;
}

TEST(NodeConfig, RaftSettingsHaveDefaults) {
  TempDir dir;
  write_toml(dir.path(), "tick_ms = 50\n");
  auto c = load_config(dir.path());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->raft_tick_ms, 50u);
  EXPECT_EQ(c->raft_snapshot_entries, 10'000u);
  EXPECT_EQ(c->raft_snapshot_keep_entries, 5'000u);
  EXPECT_EQ(c->raft_learner_heartbeat_ticks, 5u);
}

TEST(NodeConfig, RaftSettingsAreReadAndSavedAgain) {
  TempDir dir;
  write_toml(dir.path(),
             "snapshot_entries = 100\nsnapshot_keep_entries = 0\nlearner_heartbeat_ticks = 1\n");
  auto c = load_config(dir.path());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->raft_snapshot_entries, 100u);
  EXPECT_EQ(c->raft_snapshot_keep_entries, 0u);
  EXPECT_EQ(c->raft_learner_heartbeat_ticks, 1u);
  ASSERT_TRUE(save_config(*c).ok());
  auto again = load_config(dir.path());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->raft_snapshot_entries, 100u);
  EXPECT_EQ(again->raft_snapshot_keep_entries, 0u);
  EXPECT_EQ(again->raft_learner_heartbeat_ticks, 1u);
}

TEST(NodeConfig, GroupCommitPacingIsOffUnlessSetAndSavedAgain) {
  TempDir dir;
  write_toml(dir.path(), "");
  auto c = load_config(dir.path());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->group_commit_pace, 0u);
  c->group_commit_pace = 3;
  ASSERT_TRUE(save_config(*c).ok());
  auto again = load_config(dir.path());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->group_commit_pace, 3u);
}

TEST(NodeConfig, OutOfRangeRaftSettingsAreRefusedByName) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"tick_ms = 5\n", "raft.tick_ms"},
      {"snapshot_entries = -1\n", "raft.snapshot_entries"},
      {"snapshot_keep_entries = -5\n", "raft.snapshot_keep_entries"},
      {"learner_heartbeat_ticks = 0\n", "raft.learner_heartbeat_ticks"},
      {"learner_heartbeat_ticks = 11\n", "raft.learner_heartbeat_ticks"},
      // A misspelt link class was once taken as `wan` without a word.
      {"[gossip]\nlink = \"lann\"\n", "gossip.link"},
      {"[gossip.links]\nrusumo = \"fast\"\n", "gossip.links"},
      {"[storage]\ngroup_commit_pace = 11\n", "storage.group_commit_pace"},
      {"[storage]\ngroup_commit_pace = -1\n", "storage.group_commit_pace"},
  };
  for (const auto& [toml, field] : bad) {
    TempDir dir;
    write_toml(dir.path(), toml);
    auto c = load_config(dir.path());
    ASSERT_FALSE(c.ok()) << toml;
    EXPECT_EQ(c.error().code, Errc::invalid_field) << toml;
    EXPECT_EQ(c.error().field, field) << toml;
  }
}

// A key this version does not read, a value of the wrong type, or a [node] value that does not
// hold: refused naming the key, never passed over for its default (a misspelt `tick_m = 50` ran
// the node at the default 100 ms without a word).
TEST(NodeConfig, UnknownKeysWrongTypesAndBadNodeValuesAreRefusedByName) {
  const std::string node = "network_id = \"net-1\"\nsite = \"gatuna\"\nkind = \"border-post\"\n";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"[node]\n" + node + "[raft]\ntick_m = 50\n", "raft.tick_m"},
      {"[node]\n" + node + "[storage]\ngroup_commit_paces = 3\n", "storage.group_commit_paces"},
      {"[node]\n" + node + "[rafts]\ntick_ms = 50\n", "rafts"},
      {"[node]\n" + node + "colour = \"blue\"\n", "node.colour"},
      {"[node]\n" + node + "[raft]\ntick_ms = \"50\"\n", "raft.tick_ms"},
      {"[node]\n" + node + "[storage]\ngroup_commit_pace = 3.0\n", "storage.group_commit_pace"},
      {"[node]\n" + node + "[api]\nlisten = 7400\n", "api.listen"},
      {"[node]\n" + node + "[gossip]\nlinks = \"lan\"\n", "gossip.links"},
      {"raft = 1\n[node]\n" + node, "raft"},
      // Beyond 32 bits, once cut to 50 before its range was checked.
      {"[node]\n" + node + "[raft]\ntick_ms = 4294967346\n", "raft.tick_ms"},
      {"[node]\nsite = \"gatuna\"\nkind = \"border-post\"\n", "node.network_id"},
      {"[node]\nnetwork_id = \"net 1\"\nsite = \"gatuna\"\nkind = \"border-post\"\n",
       "node.network_id"},
      {"[node]\nnetwork_id = \"net-1\"\nsite = \"Gatuna\"\nkind = \"border-post\"\n", "node.site"},
      {"[node]\nnetwork_id = \"net-1\"\nsite = \"gatuna\"\nkind = \"border_post\"\n", "node.kind"},
      {"[node]\n" + node + "[api]\nlisten = \"127.0.0.1\"\n", "api.listen"},
      {"[node]\n" + node + "[peer]\nlisten = \"127.0.0.1:7500\"\n", "peer.listen"},
      {"[node]\n" + node + "[gossip.links]\n\"Rusumo\" = \"lan\"\n", "gossip.links"},
  };
  for (const auto& [toml, field] : bad) {
    TempDir dir;
    std::ofstream(dir.path() + "/node.toml") << toml;
    auto c = load_config(dir.path());
    ASSERT_FALSE(c.ok()) << toml;
    EXPECT_EQ(c.error().code, Errc::invalid_field) << toml;
    EXPECT_EQ(c.error().field, field) << toml << c.error().message;
  }
  // What a node writes (init, save_config) loads again: every key it writes is one it reads.
  TempDir dir;
  std::ofstream(dir.path() + "/node.toml")
      << "[node]\n"
      << node << "[gossip.links]\nrusumo = \"lan\"\n[peer]\nlisten = \"tcp://127.0.0.1:7501\"\n";
  auto c = load_config(dir.path());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->peer_listen, "tcp://127.0.0.1:7501");
  ASSERT_TRUE(save_config(*c).ok());
  auto again = load_config(dir.path());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->links.at("rusumo"), "lan");
}

// A token line the disk takes only in part (a full disk; here a file-size limit) is taken back:
// the file keeps loading with the tokens it had, and the next token is made once there is room.
// A torn line left behind once made every token of the node fail (401) until edited by hand.
TEST(NodeTokens, AnAppendTheDiskTookOnlyInPartLeavesTheFileLoading) {
  TempDir dir;
  std::ofstream(dir.path() + "/tokens") << "# tokens\n";  // as init leaves it
  auto first = create_token(dir.path(), Role::officer, "officer-1", 1'800'000'000'000);
  ASSERT_TRUE(first.ok()) << first.error().message;
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() + "/tokens").c_str(), &st), 0);
  // Room for 40 more bytes of a ~120-byte line; SIGXFSZ ignored, so write() returns short.
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto* const old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit tight = old;
  tight.rlim_cur = static_cast<rlim_t>(st.st_size) + 40;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tight), 0);
  auto second = create_token(dir.path(), Role::officer, "officer-2", 1'800'000'000'001);
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, Errc::io);
  struct stat after {};
  ASSERT_EQ(::stat((dir.path() + "/tokens").c_str(), &after), 0);
  EXPECT_EQ(after.st_size, st.st_size);
  auto loaded = load_tokens(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ(loaded->front().subject, "officer-1");
  auto third = create_token(dir.path(), Role::officer, "officer-3", 1'800'000'000'002);
  ASSERT_TRUE(third.ok()) << third.error().message;
  loaded = load_tokens(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->size(), 2u);
}

}  // namespace
}  // namespace umupaka::test

#include "node/config.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "ledger/date.hpp"
#include "ledger/limits.hpp"
#include "ledger/validate.hpp"

namespace umupaka {
namespace {

Error io_error(const std::string& what) {
  return make_error(Errc::io, what + ": " + std::strerror(errno));
}

Status make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return io_error("mkdir " + path);
  return {};
}

Status fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return io_error("open " + path);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return io_error("fsync " + path);
  return {};
}

std::string dir_of(const std::string& path) {
  const auto p = path.rfind('/');
  return p == std::string::npos ? "." : path.substr(0, p);
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status write_file_atomic(const std::string& path, const std::string& content, unsigned mode) {
  if (path.empty()) return make_error(Errc::invalid_field, "no file name given");
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0) return io_error("open " + tmp);
  // A failure leaves no temporary file behind (it may hold part of a key).
  auto failed = [&](const std::string& what) {
    const Status e = io_error(what + " " + tmp);
    ::unlink(tmp.c_str());
    return e;
  };
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return failed("write");
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return failed("fsync");
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return failed("rename");
  return fsync_path(dir_of(path), O_RDONLY | O_DIRECTORY);
}

bool valid_link_class(std::string_view link) {
  return link == "lan" || link == "wan" || link == "satellite";
}

Status parse_listen(const std::string& text, std::string& address, uint16_t& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return make_error(Errc::invalid_field, "expected ADDRESS:PORT, got '" + text + "'", "api");
  const std::string p = text.substr(colon + 1);
  unsigned long v = 0;
  for (char c : p) {
    if (c < '0' || c > '9')
      return make_error(Errc::invalid_field, "port must be a number in '" + text + "'", "api");
    v = v * 10 + static_cast<unsigned long>(c - '0');
    if (v > 65535) return make_error(Errc::invalid_field, "port out of range", "api");
  }
  address = text.substr(0, colon);
  port = static_cast<uint16_t>(v);
  return {};
}

Result<NodeConfig> init_data_dir(const std::string& data_dir, const std::string& site,
                                 SiteKind kind, const std::string& network_id,
                                 const std::string& api, const std::string& peer,
                                 const std::string& link) {
  if (!valid_site_id(site))
    return make_error(Errc::invalid_field,
                      "site must be a slug of lower-case letters, digits and '-'", "site");
  NodeConfig c;
  if (!api.empty()) RETURN_IF_ERROR(parse_listen(api, c.api_address, c.api_port));
  if (!peer.empty()) {
    if (!valid_tcp_endpoint(peer))
      return make_error(Errc::invalid_field,
                        "peer must be tcp://HOST:PORT (port 1..65535), got '" + peer + "'", "peer");
    // The join request gives it to the other sites, which dial it: "*" is no address to dial.
    if (peer.rfind("tcp://*:", 0) == 0)
      return make_error(Errc::invalid_field,
                        "peer is the address the other sites dial: give this node's own, not *",
                        "peer");
    c.peer_listen = peer;
  }
  if (!link.empty()) {
    if (!valid_link_class(link))
      return make_error(Errc::invalid_field, "link must be lan, wan or satellite", "link");
    c.link = link;
    c.raft_tick_ms = link == "lan" ? 50 : link == "wan" ? 100 : 300;
  }
  struct stat st {};
  if (::stat((data_dir + "/node.toml").c_str(), &st) == 0)
    return make_error(Errc::conflict, data_dir + " already holds a node (node.toml exists)");
  RETURN_IF_ERROR(make_dir(data_dir));
  RETURN_IF_ERROR(make_dir(data_dir + "/keys"));

  c.data_dir = data_dir;
  c.site = site;
  c.kind = kind;
  if (network_id.empty()) {
    uint8_t id[8];
    os_random_bytes(id, sizeof id);
    c.network_id = "net-" + to_hex(id, sizeof id);
  } else {
    if (!valid_object_id(network_id))
      return make_error(Errc::invalid_field, "network id must be letters, digits, '-', '_', '.'",
                        "network");
    c.network_id = network_id;
  }

  SecretSeed seed{};
  os_random_bytes(seed.data(), seed.size());
  RETURN_IF_ERROR(write_file_atomic(data_dir + "/keys/signing.seed", to_hex(seed) + "\n", 0600));
  char pub[41] = {}, sec[41] = {};
  if (zmq_curve_keypair(pub, sec) != 0)
    return make_error(Errc::io, "cannot generate a CURVE key pair (libzmq without CURVE?)");
  RETURN_IF_ERROR(
      write_file_atomic(data_dir + "/keys/transport.key", std::string(sec) + "\n", 0600));
  RETURN_IF_ERROR(
      write_file_atomic(data_dir + "/keys/transport.pub", std::string(pub) + "\n", 0644));

  RETURN_IF_ERROR(save_config(c));
  RETURN_IF_ERROR(write_file_atomic(data_dir + "/tokens", "", 0600));
  return c;
}

Status save_config(const NodeConfig& c) {
  toml::table links;
  for (const auto& [site, cls] : c.links) links.insert(site, cls);
  toml::table t{
      {"node", toml::table{{"network_id", c.network_id},
                           {"site", c.site},
                           {"kind", std::string(enum_name(c.kind))}}},
      {"api", toml::table{{"listen", c.api_address + ":" + std::to_string(c.api_port)}}},
      {"peer", toml::table{{"listen", c.peer_listen}}},
      {"gossip", toml::table{{"link", c.link}, {"links", links}}},
      {"raft",
       toml::table{
           {"tick_ms", static_cast<int64_t>(c.raft_tick_ms)},
           {"snapshot_entries", static_cast<int64_t>(c.raft_snapshot_entries)},
           {"snapshot_keep_entries", static_cast<int64_t>(c.raft_snapshot_keep_entries)},
           {"learner_heartbeat_ticks", static_cast<int64_t>(c.raft_learner_heartbeat_ticks)}}},
      {"storage", toml::table{{"group_commit_pace", static_cast<int64_t>(c.group_commit_pace)}}},
  };
  std::ostringstream ss;
  ss << "# Umupaka node configuration. See docs/operations.md.\n" << t << "\n";
  return write_file_atomic(c.data_dir + "/node.toml", ss.str(), 0644);
}

Result<std::string> load_transport_secret_key(const std::string& data_dir) {
  ASSIGN_OR_RETURN(std::string text, read_file(data_dir + "/keys/transport.key"));
  return trim(text);
}

Status add_token(const std::string& data_dir, const std::string& token, Role role,
                 const std::string& subject, int64_t now_ms) {
  const std::string line = to_hex(sha256(token)) + " " + std::string(enum_name(role)) + " " +
                           subject + " " + format_iso_instant_ms(now_ms) + "\n";
  const std::string path = data_dir + "/tokens";
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("open " + path);
  // One appender at a time, so that a failed append can be taken back: a part of a line left
  // by a full disk would make the whole file fail to load, and the node then admits no token.
  struct stat st {};
  if (::flock(fd, LOCK_EX) != 0 || ::fstat(fd, &st) != 0) {
    const Error e = io_error("lock " + path);
    ::close(fd);
    return e;
  }
  const ssize_t n = ::write(fd, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) {
    const Error e =
        n < 0 ? io_error("append " + path)
              : make_error(Errc::io, "append " + path + ": the disk took " + std::to_string(n) +
                                         " of " + std::to_string(line.size()) + " bytes");
    if (n > 0) {
      (void)!::ftruncate(fd, st.st_size);
      (void)::fsync(fd);
    }
    ::close(fd);
    return e;
  }
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return io_error("fsync " + path);
  return {};
}

namespace {

// What node.toml may hold: each table's keys and whether each is a string or an integer
// (`gossip.links` is a table of strings, checked where it is read).
enum class TomlKind { string, integer, table };
const std::map<std::string, std::map<std::string, TomlKind>>& node_toml_schema() {
  static const std::map<std::string, std::map<std::string, TomlKind>> schema = {
      {"node",
       {{"network_id", TomlKind::string}, {"site", TomlKind::string}, {"kind", TomlKind::string}}},
      {"api", {{"listen", TomlKind::string}}},
      {"peer", {{"listen", TomlKind::string}}},
      {"gossip", {{"link", TomlKind::string}, {"links", TomlKind::table}}},
      {"raft",
       {{"tick_ms", TomlKind::integer},
        {"snapshot_entries", TomlKind::integer},
        {"snapshot_keep_entries", TomlKind::integer},
        {"learner_heartbeat_ticks", TomlKind::integer}}},
      {"storage", {{"group_commit_pace", TomlKind::integer}}},
  };
  return schema;
}

// Every table and key is one this version reads, of the type it takes: a misspelt key (or a
// number written as a string) would otherwise be passed over and its default used in silence.
Status check_node_toml_schema(const toml::table& t, const std::string& file) {
  const auto& schema = node_toml_schema();
  for (const auto& [section_key, section_node] : t) {
    const std::string section(section_key.str());
    const auto known = schema.find(section);
    if (known == schema.end()) {
      std::string tables;
      for (const auto& [name, keys] : schema) tables += (tables.empty() ? "" : ", ") + name;
      return make_error(Errc::invalid_field,
                        file + ": unknown table [" + section + "] (node.toml has " + tables + ")",
                        section);
    }
    const toml::table* keys = section_node.as_table();
    if (keys == nullptr)
      return make_error(Errc::invalid_field,
                        file + ": " + section + " must be a table [" + section + "]", section);
    for (const auto& [key_name, value] : *keys) {
      const std::string key(key_name.str());
      const std::string field = section + "." + key;
      const auto kind = known->second.find(key);
      if (kind == known->second.end()) {
        std::string names;
        for (const auto& [name, k] : known->second) names += (names.empty() ? "" : ", ") + name;
        return make_error(
            Errc::invalid_field,
            file + ": [" + section + "] has no key " + key + " (it takes " + names + ")", field);
      }
      const bool ok = kind->second == TomlKind::string    ? value.is_string()
                      : kind->second == TomlKind::integer ? value.is_integer()
                                                          : value.is_table();
      if (!ok)
        return make_error(Errc::invalid_field,
                          file + ": [" + section + "] " + key + " must be " +
                              (kind->second == TomlKind::string    ? "a string"
                               : kind->second == TomlKind::integer ? "a whole number"
                                                                   : "a table"),
                          field);
    }
  }
  return {};
}

}  // namespace

Result<NodeConfig> load_config(const std::string& data_dir) {
  const std::string file = data_dir + "/node.toml";
  toml::table t;
  try {
    t = toml::parse_file(file);
  } catch (const toml::parse_error& e) {
    return make_error(Errc::invalid_field, file + ": " + std::string(e.description()), "node.toml");
  }
  RETURN_IF_ERROR(check_node_toml_schema(t, file));
  NodeConfig c;
  c.data_dir = data_dir;
  c.network_id = t["node"]["network_id"].value_or(std::string{});
  c.site = t["node"]["site"].value_or(std::string{});
  const std::string kind_name = t["node"]["kind"].value_or(std::string{});
  const auto kind = enum_from_name<SiteKind>(kind_name);
  if (!valid_object_id(c.network_id))
    return make_error(Errc::invalid_field,
                      file + ": [node] network_id is required: letters, digits, '-', '_', '.'",
                      "node.network_id");
  if (!valid_site_id(c.site))
    return make_error(Errc::invalid_field,
                      file + ": [node] site is required: lower-case letters, digits and '-'",
                      "node.site");
  if (!kind) {
    std::string kinds;
    for (const SiteKind k :
         {SiteKind::border_post, SiteKind::airport, SiteKind::embassy, SiteKind::hq})
      kinds += (kinds.empty() ? "" : ", ") + std::string(enum_name(k));
    return make_error(
        Errc::invalid_field,
        file + ": [node] kind is required: one of " + kinds + " (got '" + kind_name + "')",
        "node.kind");
  }
  c.kind = *kind;
  const std::string listen = t["api"]["listen"].value_or(std::string("127.0.0.1:7400"));
  if (const Status s = parse_listen(listen, c.api_address, c.api_port); !s.ok())
    return make_error(Errc::invalid_field, file + ": [api] listen: " + s.error().message,
                      "api.listen");
  c.peer_listen = t["peer"]["listen"].value_or(c.peer_listen);
  if (!valid_tcp_endpoint(c.peer_listen))
    return make_error(Errc::invalid_field,
                      file + ": [peer] listen must be tcp://HOST:PORT (port 1..65535), got '" +
                          c.peer_listen + "'",
                      "peer.listen");
  c.link = t["gossip"]["link"].value_or(c.link);
  if (!valid_link_class(c.link))
    return make_error(Errc::invalid_field,
                      data_dir + "/node.toml: [gossip] link must be lan, wan or satellite",
                      "gossip.link");
  const int64_t tick_ms = t["raft"]["tick_ms"].value_or(int64_t{100});
  if (tick_ms < 10 || tick_ms > 10'000)
    return make_error(Errc::invalid_field,
                      data_dir + "/node.toml: [raft] tick_ms must be 10..10000", "raft.tick_ms");
  c.raft_tick_ms = static_cast<uint32_t>(tick_ms);
  const int64_t snapshot_entries = t["raft"]["snapshot_entries"].value_or(int64_t{10'000});
  const int64_t keep_entries = t["raft"]["snapshot_keep_entries"].value_or(int64_t{5'000});
  if (snapshot_entries < 0 || snapshot_entries > 100'000'000)
    return make_error(Errc::invalid_field,
                      data_dir + "/node.toml: [raft] snapshot_entries must be 0..100000000",
                      "raft.snapshot_entries");
  if (keep_entries < 0 || keep_entries > 100'000'000)
    return make_error(Errc::invalid_field,
                      data_dir + "/node.toml: [raft] snapshot_keep_entries must be 0..100000000",
                      "raft.snapshot_keep_entries");
  const int64_t learner_beat = t["raft"]["learner_heartbeat_ticks"].value_or(int64_t{5});
  // At least one tick, and within the election timeout (10 ticks): raft::Config validates it too.
  if (learner_beat < 1 || learner_beat > 10)
    return make_error(Errc::invalid_field,
                      data_dir + "/node.toml: [raft] learner_heartbeat_ticks must be 1..10",
                      "raft.learner_heartbeat_ticks");
  c.raft_learner_heartbeat_ticks = static_cast<uint32_t>(learner_beat);
  const int64_t pace = t["storage"]["group_commit_pace"].value_or(int64_t{0});
  if (pace < 0 || pace > limits::group_commit_pace_max)
    return make_error(Errc::invalid_field,
                      data_dir + "/node.toml: [storage] group_commit_pace must be 0.." +
                          std::to_string(limits::group_commit_pace_max),
                      "storage.group_commit_pace");
  c.group_commit_pace = static_cast<uint32_t>(pace);
  c.raft_snapshot_entries = static_cast<uint64_t>(snapshot_entries);
  c.raft_snapshot_keep_entries = static_cast<uint64_t>(keep_entries);
  if (const toml::table* links = t["gossip"]["links"].as_table())
    for (const auto& [site, cls] : *links) {
      const std::string v = cls.value_or(std::string{});
      if (!valid_link_class(v))
        return make_error(Errc::invalid_field,
                          data_dir + "/node.toml: [gossip.links] " + std::string(site.str()) +
                              " must be lan, wan or satellite",
                          "gossip.links");
      if (!valid_site_id(site.str()))
        return make_error(Errc::invalid_field,
                          data_dir + "/node.toml: [gossip.links] '" + std::string(site.str()) +
                              "' is not a site id (lower-case letters, digits and '-')",
                          "gossip.links");
      c.links[std::string(site.str())] = v;
    }
  return c;
}

Result<SecretSeed> load_signing_seed(const std::string& data_dir) {
  ASSIGN_OR_RETURN(std::string text, read_file(data_dir + "/keys/signing.seed"));
  SecretSeed seed{};
  if (!from_hex(trim(text), seed.data(), seed.size()))
    return make_error(Errc::invalid_field, "keys/signing.seed is not 64 hex digits",
                      "signing.seed");
  return seed;
}

Result<std::string> load_transport_public_key(const std::string& data_dir) {
  ASSIGN_OR_RETURN(std::string text, read_file(data_dir + "/keys/transport.pub"));
  return trim(text);
}

Result<std::string> create_token(const std::string& data_dir, Role role, const std::string& subject,
                                 int64_t now_ms) {
  if (!valid_object_id(subject))
    return make_error(Errc::invalid_field, "subject must be letters, digits, '-', '_', '.'",
                      "subject");
  ASSIGN_OR_RETURN(std::vector<TokenEntry> existing, load_tokens(data_dir));
  if (existing.size() >= limits::tokens_max)
    return make_error(Errc::limit_exceeded, "this node holds the maximum number of tokens");
  uint8_t raw[24];
  os_random_bytes(raw, sizeof raw);
  const std::string token = "umk_" + to_hex(raw, sizeof raw);
  RETURN_IF_ERROR(add_token(data_dir, token, role, subject, now_ms));
  return token;
}

Result<std::vector<TokenEntry>> load_tokens(const std::string& data_dir) {
  ASSIGN_OR_RETURN(std::string text, read_file(data_dir + "/tokens"));
  std::vector<TokenEntry> out;
  std::istringstream in(text);
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string hash_hex, role, subject, created;
    ls >> hash_hex >> role >> subject >> created;
    TokenEntry e;
    const auto r = enum_from_name<Role>(role);
    if (!from_hex(hash_hex, e.token_hash.data(), e.token_hash.size()) || !r || subject.empty())
      return make_error(Errc::invalid_field,
                        data_dir + "/tokens line " + std::to_string(line_no) + " is malformed",
                        "tokens");
    e.role = *r;
    e.subject = subject;
    e.created = created;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace umupaka

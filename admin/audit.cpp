#include "admin/audit.hpp"

#include <botan/base64.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "ledger/crypto.hpp"
#include "ledger/ledger_entry.hpp"
#include "ledger/merkle.hpp"
#include "ledger/record.hpp"
#include "ledger/records.hpp"
#include "node/http_client.hpp"

namespace umupaka {
namespace {

using json = nlohmann::json;

// The audit could not be made (exit audit_incomplete): what the node answered, or did not.
struct Incomplete : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The node's membership answered again contradicts the one records were verified with (another
// root key or network, another key for a site already checked): a fault (exit audit_fault).
struct MembershipFault : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string describe(const std::string& path, const HttpResponse& r) {
  if (r.status == 0) return "GET " + path + ": no answer (" + r.error + ")";
  return "GET " + path + ": " + std::to_string(r.status) + " " + r.body.substr(0, 300);
}

template <size_t N>
bool hex_into(const json& j, std::array<uint8_t, N>& out) {
  return j.is_string() && j.get<std::string>().size() == 2 * N &&
         from_hex(j.get<std::string>(), out.data(), N);
}

class Auditor {
 public:
  explicit Auditor(const AuditOptions& o) : opt_(o), client_(o.node, o.token) {}

  int run() {
    load_membership();
    if (opt_.root_key && *opt_.root_key != root_key_)
      return fault("at the start", "the node's network root key is " + to_hex(root_key_) +
                                       ", not the one given (--root-public-key " +
                                       to_hex(*opt_.root_key) + ")");
    if (!opt_.root_key)
      std::printf("root key %s as the node gives it (pin it with --root-public-key)\n",
                  to_hex(root_key_).c_str());
    // The head first: a node stores a head only once its ledger holds the head's size, so the
    // ledger paged to its end passes that size, and the root is taken there on the way.
    const std::optional<json> head = get_head();
    if (head) {
      head_size_ = head->at("size").get<uint64_t>();
      if (head_size_ == 0) root_at_head_ = range_.root();
    }
    if (const int rc = page_through(); rc != audit_verified) return rc;
    std::set<std::string> signers;
    for (const auto& [origin, chain] : chains_) signers.insert(origin);
    if (const int rc = check_keys_certified(std::move(signers)); rc != audit_verified) return rc;
    std::printf("%llu records verified (signatures, hashes, %zu feeds' chains); Merkle root %s\n",
                static_cast<unsigned long long>(range_.size()), chains_.size(),
                to_hex(range_.root()).c_str());
    if (!head) {
      std::printf("no signed head to compare with yet\nOK\n");
      return audit_verified;
    }
    return check_head(*head);
  }

 private:
  // The parsed answer of a GET that must succeed.
  json get_json(const std::string& path) {
    const HttpResponse r = client_.get(path);
    if (r.status != 200) throw Incomplete(describe(path, r));
    json j = json::parse(r.body, nullptr, false);
    if (!j.is_object()) throw Incomplete("GET " + path + ": the answer is not a JSON object");
    return j;
  }

  // The membership's keys and voters, read again when a record names an origin they lack (a site
  // certified while the audit pages) or the head a signer that is not a voter in it. Read again,
  // it may only add: the network, the root key and the key of every site whose records were
  // already checked must be what they were (or the pinned root key, and the keys records were
  // verified with, could be swapped halfway).
  void load_membership() {
    const json m = get_json("/v1/membership");
    std::string network_id;
    PublicKey root_key{};
    std::map<std::string, PublicKey> keys;
    std::set<std::string> voters;
    try {
      if (!m.value("joined", false)) throw Incomplete(opt_.node + " is not a joined node");
      network_id = m.at("network_id").get<std::string>();
      if (!hex_into(m.at("root_key"), root_key))
        throw Incomplete("the membership's root key is not 32 bytes of hex");
      keys[root_origin] = root_key;
      for (const auto& site : m.at("sites")) {
        PublicKey k{};
        if (!hex_into(site.at("signing_key"), k))
          throw Incomplete("the membership's key of a site is not 32 bytes of hex");
        keys[site.at("site").get<std::string>()] = k;
      }
      voters = m.at("voters").get<std::set<std::string>>();
    } catch (const json::exception& e) {
      throw Incomplete(std::string("GET /v1/membership: the answer is malformed: ") + e.what());
    }
    if (membership_read_) {
      if (network_id != network_id_ || root_key != root_key_)
        throw MembershipFault("read again, the node's membership names network " + network_id +
                              " and root key " + to_hex(root_key) + ", not " + network_id_ +
                              " and " + to_hex(root_key_));
      for (const auto& [origin, chain] : chains_) {
        const auto now = keys.find(origin);
        if (now == keys.end() || now->second != keys_.at(origin))
          throw MembershipFault("read again, the node's membership gives " + origin +
                                " another key than the one its records were verified with");
      }
    }
    network_id_ = std::move(network_id);
    root_key_ = root_key;
    keys_ = std::move(keys);
    voters_ = std::move(voters);
    membership_read_ = true;
  }

  // The latest signed head; none before the first (404). Any other answer, a 500 for a head the
  // node's store holds but cannot decode included, leaves the audit incomplete: never taken as
  // "no head yet", which would skip the root's check.
  std::optional<json> get_head() {
    const std::string path = "/v1/ledger/head";
    const HttpResponse r = client_.get(path);
    if (r.status == 404) return std::nullopt;
    if (r.status != 200) throw Incomplete(describe(path, r));
    json h = json::parse(r.body, nullptr, false);
    if (!h.is_object() || !h.contains("size")) throw Incomplete(path + ": not a ledger head");
    return h;
  }

  int fault(const std::string& where, const std::string& what) {
    std::printf("FAULT %s: %s\n", where.c_str(), what.c_str());
    return audit_fault;
  }
  int fault_here(const std::string& what) {
    return fault("at position " + std::to_string(range_.size()), what);
  }

  // Every page of the change feed, each record checked in order.
  int page_through() {
    std::optional<uint64_t> after;
    uint64_t served_size = 0;
    uint64_t limit = 1000;
    bool retried = false;  // the page of one, asked again once (a read that failed in passing)
    for (;;) {
      std::string path = "/v1/ledger?limit=" + std::to_string(limit);
      if (after) path += "&after=" + std::to_string(*after);
      const HttpResponse r = client_.get(path);
      if (r.status == 500) {
        // The node's store cannot give a record of this page (a row missing, a read failing):
        // a fault of the ledger this node holds. Pages half as long (twice as long again after
        // each that is served) find its position; a page of one that still fails is the fault's.
        const json e = json::parse(r.body, nullptr, false);
        if (e.is_object() && e.value("code", "") == "storage") {
          if (limit > 1) {
            limit /= 2;
            continue;
          }
          if (!retried) {
            retried = true;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            continue;
          }
          return fault_here("the node cannot read its ledger here: " + e.value("message", ""));
        }
      }
      if (r.status != 200) throw Incomplete(describe(path, r));
      const json page = json::parse(r.body, nullptr, false);
      if (!page.is_object()) throw Incomplete("GET " + path + ": the answer is not a JSON object");
      served_size = std::max(served_size, page.at("size").get<uint64_t>());
      const json& records = page.at("records");
      if (records.empty()) break;
      for (const auto& rec : records) {
        int rc = audit_verified;
        try {
          rc = check_record(rec);
        } catch (const Incomplete&) {
          throw;  // the membership read again did not answer
        } catch (const MembershipFault&) {
          throw;
        } catch (const std::exception& e) {
          rc = fault_here(std::string("the record served here is malformed: ") + e.what());
        }
        if (rc != audit_verified) return rc;
        if (range_.size() == head_size_) root_at_head_ = range_.root();
      }
      after = page.at("next_after").get<uint64_t>();
      limit = std::min<uint64_t>(1000, limit * 2);
      retried = false;
    }
    // A page that ends before the size the node gave (a node that stops at a missing row).
    if (range_.size() < served_size)
      return fault_here("the ledger has " + std::to_string(served_size) +
                        " records but none is served from here on");
    return audit_verified;
  }

  // One record of the change feed, at position range_.size().
  int check_record(const json& rec) {
    if (rec.at("position") != range_.size()) return fault_here("positions are not consecutive");
    SignedRecord sr;
    const auto bytes = Botan::base64_decode(rec.at("encoded").get<std::string>());
    sr.encoded.assign(bytes.begin(), bytes.end());
    if (!hex_into(rec.at("signature"), sr.signature))
      return fault_here("the record served here is malformed: its signature is not hex");
    sr.hash = record_hash(sr.encoded, sr.signature);
    if (to_hex(sr.hash) != rec.at("hash"))
      return fault_here("hash does not match the record's bytes");
    const std::string origin = rec.at("origin");
    auto k = keys_.find(origin);
    if (k == keys_.end() && reread_for_.insert(origin).second) {
      load_membership();  // certified since the audit began?
      k = keys_.find(origin);
    }
    if (k == keys_.end()) return fault_here(origin + " is not a member");
    auto opened = open_record(sr, k->second);
    if (!opened.ok())
      return fault_here(origin + "/" + std::to_string(rec.at("seq").get<uint64_t>()) + ": " +
                        opened.error().message);
    // The record says what the node lists it as: its own header names origin, seq, network.
    if (opened->header.origin.value != origin || opened->header.seq.value != rec.at("seq") ||
        opened->header.network_id != network_id_)
      return fault_here(
          "the record listed as " + origin + "/" + std::to_string(rec.at("seq").get<uint64_t>()) +
          " is " + opened->header.origin.value + "/" + std::to_string(opened->header.seq.value) +
          " of network " + opened->header.network_id);
    const uint64_t seq = opened->header.seq.value;
    auto& [last_seq, last_hash] = chains_[origin];
    if (seq != last_seq + 1 || opened->header.prev_hash != (last_seq == 0 ? zero_hash : last_hash))
      return fault_here(origin + "/" + std::to_string(seq) + " does not continue its feed");
    last_seq = seq;
    last_hash = sr.hash;
    // The root's records (verified under the root key above) certify each site's key.
    if (origin == root_origin) {
      if (const auto* g = std::get_if<Genesis>(&opened->body)) {
        if (g->root_key != root_key_)
          return fault_here("the genesis names another root key, " + to_hex(g->root_key));
        for (const SiteEntry& e : g->sites) certified_[e.site] = e.signing_key;
      } else if (const auto* c = std::get_if<SiteCertified>(&opened->body)) {
        certified_[c->entry.site] = c->entry.signing_key;
      }
    }
    range_.append(merkle::leaf_hash(sr.hash));
    return audit_verified;
  }

  // The node's membership answer gave the keys records were verified with: each must be the one
  // the root certified in this ledger (a site's records are proposed with its certification or
  // after it, so by the ledger's end every such key is there). Sites by name.
  int check_keys_certified(std::set<std::string> sites) {
    sites.erase(std::string(root_origin));
    for (const std::string& site : sites) {
      const auto c = certified_.find(site);
      if (c == certified_.end())
        return fault("in the membership", site + " signs in this ledger, but no record of the " +
                                              "root in it certifies " + site);
      if (c->second != keys_.at(site))
        return fault("in the membership", "the node gives " + site + "'s key as " +
                                              to_hex(keys_.at(site)) + "; the root certified " +
                                              to_hex(c->second));
    }
    return audit_verified;
  }

  // The signed head: its root is the ledger's at its size, its network this one, its signer a
  // voter (by the membership or by the Raft configuration, as nodes accept heads) whose key
  // verifies it.
  int check_head(const json& head) {
    const std::string where = "at the signed head (size " + std::to_string(head_size_) + ")";
    if (!root_at_head_)
      return fault(where, "the head is ahead of the served ledger (" +
                              std::to_string(range_.size()) + " records)");
    LedgerHead h;
    h.network_id = head.at("network_id");
    h.size = head_size_;
    h.cluster_time_ms = head.at("cluster_time_ms");
    h.signer = head.at("signer");
    if (!hex_into(head.at("root"), h.root) || !hex_into(head.at("signature"), h.signature))
      throw Incomplete("/v1/ledger/head: root or signature is not hex");
    if (h.root != *root_at_head_)
      return fault(where, "the Merkle root at the head's size, " + to_hex(*root_at_head_) +
                              ", differs from the signed root " + to_hex(h.root));
    if (h.network_id != network_id_)
      return fault(where, "the head is of network " + h.network_id + ", not " + network_id_);
    if (!is_voter(h.signer))
      return fault(where, "the head is signed by " + h.signer + ", not a voter");
    if (keys_.count(h.signer))
      if (const int rc = check_keys_certified({h.signer}); rc != audit_verified) return rc;
    const auto signer = keys_.find(h.signer);
    if (signer == keys_.end() ||
        !verify_signature(signer->second, ledger_head_signing_bytes(h), h.signature))
      return fault(where, "the head's signature does not verify under " + h.signer + "'s key");
    std::printf("signed head verified: size %llu, root %s, signed by %s\nOK\n",
                static_cast<unsigned long long>(h.size), to_hex(h.root).c_str(), h.signer.c_str());
    return audit_verified;
  }

  bool is_voter(const std::string& site) {
    if (voters_.count(site)) return true;
    load_membership();  // promoted since it was read?
    if (voters_.count(site)) return true;
    // The Raft configuration, as nodes accept heads (OrderPlane::on_head): /v1/status's
    // ledger.raft.voters (absent on a node whose order plane is off).
    const json status = get_json("/v1/status");
    const json* raft = nullptr;
    if (status.contains("ledger") && status["ledger"].is_object() &&
        status["ledger"].contains("raft"))
      raft = &status["ledger"]["raft"];
    if (raft == nullptr || !raft->contains("voters")) return false;
    const auto raft_voters = raft->at("voters").get<std::vector<std::string>>();
    return std::find(raft_voters.begin(), raft_voters.end(), site) != raft_voters.end();
  }

  const AuditOptions& opt_;
  HttpClient client_;
  std::string network_id_;
  PublicKey root_key_{};
  std::map<std::string, PublicKey> keys_;
  std::set<std::string> voters_;
  bool membership_read_ = false;
  std::set<std::string> reread_for_;            // origins the membership was read again for
  std::map<std::string, PublicKey> certified_;  // site -> key, by the root's records so far
  std::map<std::string, std::pair<uint64_t, Hash>> chains_;
  merkle::CompactRange range_;
  uint64_t head_size_ = 0;
  std::optional<Hash> root_at_head_;
};

}  // namespace

int audit(const AuditOptions& options) {
  try {
    return Auditor(options).run();
  } catch (const MembershipFault& e) {
    std::printf("FAULT in the membership: %s\n", e.what());
    return audit_fault;
  } catch (const Incomplete& e) {
    std::fprintf(stderr, "umupaka-admin: audit incomplete: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr,
                 "umupaka-admin: audit incomplete: an answer is not what was expected: %s\n",
                 e.what());
  }
  return audit_incomplete;
}

}  // namespace umupaka

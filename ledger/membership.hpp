// The network's membership, derived from the root feed (records signed by the network root key):
// the genesis, then certifications and revocations in feed order. Pure.
//
// It answers the questions every node asks of a record or a peer: is this origin a member, which
// key verifies its records, is this seq past its revocation cut-off, which site holds this
// transport key.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ledger/records.hpp"
#include "ledger/result.hpp"

namespace umupaka {

struct MemberSite {
  SiteEntry entry;
  std::optional<uint64_t> revoked_after;  // records with seq > this are rejected
  std::string revoke_reason;
};

class Membership {
 public:
  // An empty membership (a standalone node before it joins a network).
  Membership() = default;

  // From the genesis record: checks that it is root/1 of its network and is signed by the root key
  // it names. Errc::decode, Errc::bad_signature, Errc::invalid_field.
  static Result<Membership> from_genesis(const SignedRecord& genesis);

  bool joined() const { return !network_id_.empty(); }
  const std::string& network_id() const { return network_id_; }
  const PublicKey& root_key() const { return root_key_; }
  uint64_t root_seq() const { return root_seq_; }
  const Hash& root_head() const { return root_head_; }

  // Applies the next root record (seq root_seq()+1, already verified and linked by the caller).
  Status apply(const Record& root_record, const Hash& hash);

  // Whether the Raft configuration `raft_voters` (as the node that takes the record has it) keeps
  // a majority of voters not revoked once `revocation` is applied, so that the leader can commit
  // the revoked site's removal: messages from a revoked site are dropped, and a configuration
  // change needs a majority of the configuration it changes. Errc::conflict otherwise (revoking
  // the second of two voters, or a voter while another's removal is still pending). A site not
  // in `raft_voters` (a learner): ok. The caller must have a configuration (api.cpp answers 503
  // while the order plane restarts). Checked where a membership record is posted, not when
  // one is applied: the configuration differs from node to node for a while. A voter since made
  // a learner in the membership counts as gone (its demotion may commit first).
  Status revocation_keeps_quorum(const SiteRevoked& revocation,
                                 const std::vector<std::string>& raft_voters) const;

  const MemberSite* site(std::string_view id) const;
  const std::map<std::string, MemberSite, std::less<>>& sites() const { return sites_; }
  // The key that verifies records of `origin` ("root" -> the root key).
  std::optional<PublicKey> key_of(std::string_view origin) const;
  // Ok if `origin` may have written record `seq`: a member (or root), not past its cut-off.
  Status admits(std::string_view origin, uint64_t seq) const;
  // Whether `origin` is a member revoked before record `seq` (a feed refuses it; the ledger may
  // still name it, where a leader proposed it before it heard of the revocation).
  bool past_cut_off(std::string_view origin, uint64_t seq) const;
  // The site certified with this transport key, if it is not revoked.
  std::optional<std::string> site_of_transport_key(std::string_view z85) const;
  std::vector<std::string> voters() const;
  std::vector<std::string> learners() const;

 private:
  std::string network_id_;
  PublicKey root_key_{};
  uint64_t root_seq_ = 0;
  Hash root_head_{};
  std::map<std::string, MemberSite, std::less<>> sites_;
};

}  // namespace umupaka

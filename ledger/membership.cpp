#include "ledger/membership.hpp"

#include <algorithm>

#include "ledger/assert.hpp"
#include "ledger/record.hpp"
#include "ledger/validate.hpp"

namespace umupaka {

Result<Membership> Membership::from_genesis(const SignedRecord& sr) {
  ASSIGN_OR_RETURN(Record r, decode_record(sr.encoded));
  const auto* g = std::get_if<Genesis>(&r.body);
  if (g == nullptr || r.header.origin.value != root_origin || r.header.seq.value != 1)
    return make_error(Errc::invalid_field, "not a genesis record (root/1)", "genesis");
  RETURN_IF_ERROR(validate_record(r));
  if (g->network_id != r.header.network_id)
    return make_error(Errc::invalid_field, "genesis names another network than its header",
                      "network_id");
  ASSIGN_OR_RETURN(Record verified, open_record(sr, g->root_key));
  (void)verified;
  Membership m;
  m.network_id_ = g->network_id;
  m.root_key_ = g->root_key;
  m.root_seq_ = 1;
  m.root_head_ = sr.hash;
  for (const SiteEntry& e : g->sites) m.sites_[e.site] = MemberSite{e, std::nullopt, {}};
  return m;
}

Status Membership::apply(const Record& r, const Hash& hash) {
  UMUPAKA_ASSERT(joined());
  if (r.header.origin.value != root_origin || r.header.seq.value != root_seq_ + 1 ||
      r.header.prev_hash != root_head_)
    return make_error(Errc::chain_broken, "root record does not continue the root feed", "seq");
  if (const auto* c = std::get_if<SiteCertified>(&r.body)) {
    const SiteEntry& e = c->entry;
    for (const auto& [id, s] : sites_) {
      if (id == e.site) continue;
      if (s.entry.signing_key == e.signing_key || s.entry.transport_key == e.transport_key)
        return make_error(Errc::conflict, "keys of " + e.site + " are certified for " + id,
                          "entry");
    }
    auto it = sites_.find(e.site);
    if (it != sites_.end()) {
      if (it->second.revoked_after)
        return make_error(Errc::conflict, e.site + " is revoked; certify a new site id", "entry");
      if (it->second.entry.signing_key != e.signing_key)
        return make_error(Errc::conflict, e.site + " keeps its signing key; revoke it to rekey",
                          "entry.signing_key");
    }
    sites_[e.site].entry = e;
  } else if (const auto* rv = std::get_if<SiteRevoked>(&r.body)) {
    auto it = sites_.find(rv->site);
    if (it == sites_.end())
      return make_error(Errc::not_found, "no site " + rv->site + " to revoke", "site");
    // Once: the ledger voids the site's records past the first cut-off from the revocation's
    // position on, and a second cut-off would contradict what it already decided.
    if (it->second.revoked_after)
      return make_error(Errc::conflict,
                        rv->site + " is already revoked (after seq " +
                            std::to_string(*it->second.revoked_after) + ")",
                        "site");
    it->second.revoked_after = rv->seq_cutoff;
    it->second.revoke_reason = rv->reason;
  } else {
    return make_error(Errc::invalid_field, "not a membership record", "type");
  }
  root_seq_ = r.header.seq.value;
  root_head_ = hash;
  return {};
}

const MemberSite* Membership::site(std::string_view id) const {
  auto it = sites_.find(id);
  return it == sites_.end() ? nullptr : &it->second;
}

std::optional<PublicKey> Membership::key_of(std::string_view origin) const {
  if (origin == root_origin) return root_key_;
  const MemberSite* s = site(origin);
  if (s == nullptr) return std::nullopt;
  return s->entry.signing_key;
}

Status Membership::admits(std::string_view origin, uint64_t seq) const {
  if (origin == root_origin) return {};
  const MemberSite* s = site(origin);
  if (s == nullptr)
    return make_error(Errc::forbidden, std::string(origin) + " is not a member of the network",
                      "origin");
  if (s->revoked_after && seq > *s->revoked_after)
    return make_error(Errc::forbidden,
                      std::string(origin) + " was revoked after seq " +
                          std::to_string(*s->revoked_after) + "; record " + std::to_string(seq) +
                          " is rejected",
                      "seq");
  return {};
}

Status Membership::revocation_keeps_quorum(const SiteRevoked& revocation,
                                           const std::vector<std::string>& raft_voters) const {
  if (std::find(raft_voters.begin(), raft_voters.end(), revocation.site) == raft_voters.end())
    return {};
  std::vector<std::string> left;
  for (const auto& v : raft_voters) {
    const MemberSite* s = site(v);
    // (A voter the membership has made a learner since counts as gone: its demotion may be
    // committed before the removal.)
    if (v != revocation.site && s != nullptr && !s->revoked_after &&
        s->entry.role == VoterRole::voter)
      left.push_back(v);
  }
  const size_t majority = raft_voters.size() / 2 + 1;
  if (left.size() >= majority) return {};
  std::string names;
  for (const auto& v : left) names += (names.empty() ? "" : ", ") + v;
  return make_error(Errc::conflict,
                    "revoking " + revocation.site + " would leave " + std::to_string(left.size()) +
                        " of the " + std::to_string(raft_voters.size()) +
                        " voters of the ledger's configuration able to vote (" +
                        (names.empty() ? "none" : names) + "), fewer than the " +
                        std::to_string(majority) +
                        " needed to commit its removal: certify another voter (or wait until "
                        "an earlier revoked voter is removed) first",
                    "site");
}

bool Membership::past_cut_off(std::string_view origin, uint64_t seq) const {
  const MemberSite* s = site(origin);
  return s != nullptr && s->revoked_after && seq > *s->revoked_after;
}

std::optional<std::string> Membership::site_of_transport_key(std::string_view z85) const {
  for (const auto& [id, s] : sites_)
    if (s.entry.transport_key == z85 && !s.revoked_after) return id;
  return std::nullopt;
}

std::vector<std::string> Membership::voters() const {
  std::vector<std::string> out;
  for (const auto& [id, s] : sites_)
    if (s.entry.role == VoterRole::voter && !s.revoked_after) out.push_back(id);
  return out;
}

std::vector<std::string> Membership::learners() const {
  std::vector<std::string> out;
  for (const auto& [id, s] : sites_)
    if (s.entry.role == VoterRole::learner && !s.revoked_after) out.push_back(id);
  return out;
}

}  // namespace umupaka

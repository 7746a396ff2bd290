#include "node/node_core.hpp"

#include "ledger/assert.hpp"
#include "ledger/codec.hpp"
#include "ledger/countries.hpp"
#include "ledger/limits.hpp"
#include "ledger/mrz.hpp"
#include "ledger/record.hpp"
#include "ledger/validate.hpp"
#include "node/ledger_apply.hpp"

namespace umupaka {
namespace {

struct KindDefaults {
  uint32_t valid_days;
  uint32_t entries_allowed;
  uint32_t stay_days_max;
};

// Defaults when a permit request leaves them out (docs/travel-rules.md).
KindDefaults defaults_for(PermitKind kind) {
  switch (kind) {
    case PermitKind::visa_on_arrival:
      return {30, 1, 30};
    case PermitKind::single_entry_visa:
      return {90, 1, 30};
    case PermitKind::multiple_entry_visa:
      return {365, 0, 90};
    case PermitKind::east_africa_tourist_visa:
      return {90, 0, 90};
    case PermitKind::residence:
      return {730, 0, 0};
    case PermitKind::work:
      return {730, 0, 0};
  }
  return {30, 1, 30};
}

DocumentKind document_kind_from_mrz(const mrz::Document& d) {
  const char c = d.document_code.empty() ? 'P' : d.document_code[0];
  switch (c) {
    case 'P':
      return DocumentKind::passport;
    case 'I':
    case 'A':
    case 'C':
      return DocumentKind::national_id_card;
    default:
      return DocumentKind::other;
  }
}

Sex sex_from_mrz(char c) {
  if (c == 'F') return Sex::female;
  if (c == 'M') return Sex::male;
  return Sex::unspecified;
}

std::string generated_id(const std::string& site, uint64_t seq) {
  return site + "-" + std::to_string(seq);
}

// What an officer's request may not say though a record may: checked at the origin only, not by
// validate_body, so that records already in ledgers (and peers' records) stay valid.

// Text that must say something ("   ", a zero-width space say nothing): refused as if empty.
Status check_visible(std::string_view text, const std::string& field) {
  if (!text.empty() && !has_visible_text(text))
    return make_error(Errc::invalid_field, field + " holds only spaces or invisible characters",
                      field);
  return {};
}

// A name drawn in the order it is stored and matched in.
Status check_name(std::string_view name, const std::string& field) {
  if (has_direction_control(name))
    return make_error(Errc::invalid_field,
                      field +
                          " holds a bidirectional override, embedding or isolate (U+202A-U+202E, "
                          "U+2066-U+2069): the name would not read as it is matched",
                      field);
  return {};
}

// A person as the request names them: a surname to read, names drawn as stored, born by today.
Status check_person(const Person& p, const std::string& prefix, Date today) {
  RETURN_IF_ERROR(check_visible(p.surname, prefix + ".surname"));
  RETURN_IF_ERROR(check_name(p.surname, prefix + ".surname"));
  RETURN_IF_ERROR(check_name(p.given_names, prefix + ".given_names"));
  if (p.birth_date && today < *p.birth_date)
    return make_error(Errc::invalid_field,
                      prefix + ".birth_date " + format_iso_date(*p.birth_date) +
                          " is after today (" + format_iso_date(today) + ")",
                      prefix + ".birth_date");
  return {};
}

// An id chosen by hand may not take the form of those nodes give, or it could take one a node
// gives later (which would then refuse its own default as "already exists").
Status check_chosen_id(const std::optional<std::string>& id, const std::string& field) {
  if (id && generated_id_form(*id))
    return make_error(Errc::invalid_field,
                      field + " " + *id +
                          " has the form <site>-<number> of the ids nodes give: leave it out to "
                          "get one, or choose another",
                      field);
  return {};
}

bool is_crossing_point(SiteKind kind) {
  return kind == SiteKind::border_post || kind == SiteKind::airport;
}

// The kind of the post a request names: a border post or an airport, where travellers cross.
// Another site than this one must be a live one of the network, so that presence and the "entered
// through another post" conflict name a place that exists. HQ records a crossing only by naming
// its post; an embassy, abroad, records none.
Result<SiteKind> post_kind(const std::string& post, const NodeIdentity& identity,
                           const Membership& members) {
  if (identity.kind == SiteKind::embassy)
    return make_error(Errc::invalid_field,
                      identity.site +
                          " is an embassy: crossings are recorded at border posts and airports "
                          "(or by HQ, naming the post)",
                      "post");
  if (post == identity.site) {
    if (!is_crossing_point(identity.kind))
      return make_error(Errc::invalid_field,
                        post + " is a site of kind " + std::string(enum_name(identity.kind)) +
                            ", not a border post or an airport: name the post of the crossing",
                        "post");
    return identity.kind;
  }
  const MemberSite* site = members.site(post);
  if (site == nullptr)
    return make_error(Errc::invalid_field, "post " + post + " is not a site of this network",
                      "post");
  if (site->revoked_after)
    return make_error(Errc::invalid_field, "post " + post + " was revoked by HQ", "post");
  if (!is_crossing_point(site->entry.kind))
    return make_error(Errc::invalid_field,
                      "post " + post + " is " + std::string(enum_name(site->entry.kind)) +
                          ", not a border post or an airport",
                      "post");
  return site->entry.kind;
}

}  // namespace

Result<CheckRequest> check_request_from(const CrossingRequest& r, const NodeIdentity& identity,
                                        const Membership& members, Date today) {
  CheckRequest req;
  req.direction = r.direction;
  req.post = r.post.value_or(identity.site);
  if (!valid_site_id(req.post))
    return make_error(Errc::invalid_field, "post is not a valid site id", "post");
  ASSIGN_OR_RETURN(const SiteKind kind, post_kind(req.post, identity, members));
  req.mode = r.mode.value_or(kind == SiteKind::airport ? TravelMode::air : TravelMode::road);
  req.national_id = r.national_id;
  req.permit_id = r.permit_id;
  req.today = today;
  if (r.mrz) {
    if (r.traveller || r.document)
      return make_error(Errc::invalid_field, "give either mrz or traveller and document, not both",
                        "mrz");
    ASSIGN_OR_RETURN(mrz::Document d, mrz::parse(*r.mrz, today));
    if (d.format == mrz::Format::mrv_a || d.format == mrz::Format::mrv_b)
      return make_error(Errc::invalid_field,
                        "this MRZ is a visa's; read the travel document's MRZ for a crossing",
                        "mrz");
    req.traveller.surname = d.surname;
    req.traveller.given_names = d.given_names;
    req.traveller.nationality = std::string(normalize_state_code(d.nationality));
    req.traveller.birth_date = d.birth_date;
    req.traveller.sex = sex_from_mrz(d.sex);
    req.document.kind = document_kind_from_mrz(d);
    req.document.country = std::string(normalize_state_code(d.issuing_state));
    req.document.number = d.document_number;
    req.document.expiry = d.expiry_date;
  } else {
    if (!r.traveller)
      return make_error(Errc::invalid_field, "traveller is required (or mrz)", "traveller");
    if (!r.document)
      return make_error(Errc::invalid_field, "document is required (or mrz)", "document");
    req.traveller = *r.traveller;
    req.document = *r.document;
  }
  RETURN_IF_ERROR(check_person(req.traveller, "traveller", today));
  // What the checks look up by (store keys) is checked before they run, as the record would be.
  if (!valid_document_number(req.document.number))
    return make_error(Errc::invalid_field,
                      "document.number must be 1-24 upper-case letters and digits",
                      r.mrz ? "mrz" : "document.number");
  if (req.national_id && !valid_national_id(*req.national_id))
    return make_error(Errc::invalid_field, "national_id must be exactly 16 digits", "national_id");
  if (req.permit_id && !valid_object_id(*req.permit_id))
    return make_error(Errc::invalid_field, "permit_id is not a valid id", "permit_id");
  return req;
}

NodeCore::NodeCore(NodeIdentity identity, SigningKey key)
    : identity_(std::move(identity)), key_(std::move(key)) {
  UMUPAKA_ASSERT(valid_site_id(identity_.site));
  UMUPAKA_ASSERT(valid_object_id(identity_.network_id));
}

namespace {
constexpr std::string_view meta_restore_hold = "node.restore_hold";
}  // namespace

void NodeCore::set_restore_mark(StoreTxn& txn, bool held) {
  const std::string_view value = held ? "1" : "0";
  if (txn.meta(meta_restore_hold).value_or("0") != value) txn.put_meta(meta_restore_hold, value);
}

Status NodeCore::recover(const StoreTxn& txn, int64_t wall_ms) {
  started_wall_ms_ = wall_ms;
  restore_hold_.store(txn.meta(meta_restore_hold).value_or("0") != "0", std::memory_order_release);
  if (const auto head = txn.head(identity_.site)) {
    const auto sr = txn.record(identity_.site, head->seq);
    UMUPAKA_ASSERT(sr.has_value());
    auto rec = decode_record(sr->encoded);
    UMUPAKA_ASSERT_MSG(rec.ok(), "own feed head does not decode");
    clock_.observe(rec->header.hlc);
  }
  // Membership: the root feed, replayed from the genesis.
  if (const auto root = txn.head(root_origin)) {
    const auto genesis = txn.record(root_origin, 1);
    UMUPAKA_ASSERT(genesis.has_value());
    ASSIGN_OR_RETURN(membership_, Membership::from_genesis(*genesis));
    for (uint64_t seq = 2; seq <= root->seq; ++seq) {
      const auto sr = txn.record(root_origin, seq);
      UMUPAKA_ASSERT(sr.has_value());
      ASSIGN_OR_RETURN(Record r, decode_record(sr->encoded));
      RETURN_IF_ERROR(membership_.apply(r, sr->hash));
    }
    if (membership_.network_id() != identity_.network_id)
      return make_error(Errc::conflict, "the store belongs to network " + membership_.network_id() +
                                            ", the configuration to " + identity_.network_id);
  }
  load_quarantine(txn);
  publish_membership();
  return {};
}

void NodeCore::publish_membership() {
  size_t others = 0;
  for (const auto& [id, site] : membership_.sites())
    if (id != identity_.site && !site.revoked_after) ++others;
  member_others_.store(others, std::memory_order_relaxed);
  member_root_seq_.store(membership_.root_seq(), std::memory_order_relaxed);
  published_membership_.store(std::make_shared<const Membership>(membership_));
}

void NodeCore::load_quarantine(const StoreTxn& txn) {
  quarantine_.clear();
  for (const auto& e : txn.evidence())
    if (!quarantine_.count(e.origin)) quarantine_[e.origin] = e.seq;
}

Status NodeCore::join(const SignedRecord& genesis, StoreTxn& txn) {
  if (txn.head(identity_.site))
    return make_error(Errc::conflict,
                      "this node has recorded records already; a node joins a network before "
                      "its first record");
  if (membership_.joined()) return make_error(Errc::conflict, "this node has joined a network");
  ASSIGN_OR_RETURN(Membership m, Membership::from_genesis(genesis));
  ASSIGN_OR_RETURN(Record r, decode_record(genesis.encoded));
  RETURN_IF_ERROR(txn.append(genesis, r.header));
  staged_membership_ = std::move(m);
  return {};
}

bool NodeCore::quarantined(std::string_view origin) const {
  return quarantine_.count(origin) > 0 || staged_quarantine_.count(origin) > 0;
}

void NodeCore::begin_batch() {
  staged_membership_.reset();
  staged_quarantine_.clear();
  staged_own_recovered_ = 0;
  staged_hold_lift_ = false;
}

void NodeCore::commit_succeeded() {
  if (staged_membership_) {
    membership_ = std::move(*staged_membership_);
    // Changes at join only (before the API threads read it): written only then.
    if (identity_.network_id != membership_.network_id())
      identity_.network_id = membership_.network_id();
    publish_membership();
  }
  for (auto& [o, s] : staged_quarantine_)
    if (!quarantine_.count(o)) quarantine_[o] = s;
  if (staged_own_recovered_ > 0)
    own_recovered_.fetch_add(staged_own_recovered_, std::memory_order_relaxed);
  if (staged_hold_lift_) restore_hold_.store(false, std::memory_order_release);
  begin_batch();
}

void NodeCore::commit_failed() { begin_batch(); }

IngestResult NodeCore::record_evidence(const Equivocation& e, const std::string& origin,
                                       uint64_t seq, StoreTxn& txn) {
  IngestResult out{IngestOutcome::equivocation, origin, seq, {}, e};
  if (quarantined(origin)) {
    out.outcome = IngestOutcome::duplicate;
    return out;
  }
  txn.put_evidence(origin, seq, e.a, e.b);
  staged_quarantine_[origin] = seq;
  return out;
}

IngestResult NodeCore::ingest_version(const VerifiedRecord& in, StoreTxn& txn) {
  const std::string& origin = in.record.header.origin.value;
  const uint64_t seq = in.record.header.seq.value;
  if (const auto held = txn.record(origin, seq); held && held->hash == in.signed_record.hash)
    return IngestResult{IngestOutcome::duplicate, origin, seq, {}, std::nullopt};
  const Membership& m = staged_membership_ ? *staged_membership_ : membership_;
  if (!m.joined() || in.record.header.network_id != m.network_id())
    return IngestResult{IngestOutcome::rejected, origin, seq, "record of another network", {}};
  if (auto s = validate_header(in.record.header, in.record.body); !s.ok())
    return IngestResult{IngestOutcome::rejected, origin, seq, s.error().message, {}};
  // Past a revocation cut-off the feed refuses it, but the ledger named it (a leader proposed it
  // before it heard of the revocation): kept beside the feed, for the ledger only.
  const bool past_cut_off = m.past_cut_off(origin, seq);
  if (auto s = m.admits(origin, seq); !s.ok() && !past_cut_off)
    return IngestResult{IngestOutcome::rejected, origin, seq, s.error().message, {}};
  IngestResult out{IngestOutcome::stored, origin, seq, {}, std::nullopt};
  if (!quarantined(origin) && !past_cut_off) {
    out = ingest(in, txn);
    // Kept as a version only on a gap (until the feed catches up), an equivocation (the fork,
    // now proven), or a record of this site's own feed the feed refuses (signed with its key on
    // another machine since this node started: the ledger named it all the same, and every node
    // must apply it alike); anything else is the feed's answer.
    const bool own_refused = origin == identity_.site && out.outcome == IngestOutcome::rejected;
    if (out.outcome != IngestOutcome::gap && out.outcome != IngestOutcome::equivocation &&
        !own_refused)
      return out;
    if (out.outcome == IngestOutcome::gap || own_refused)
      out = {IngestOutcome::stored, origin, seq, {}, std::nullopt};
  }
  txn.put_version(origin, seq, in.signed_record);
  return out;
}

std::vector<IngestResult> NodeCore::ingest_batch(const std::vector<VerifiedRecord>& records,
                                                 IngestKind kind, StoreTxn& txn) {
  std::vector<IngestResult> out;
  switch (kind) {
    case IngestKind::evidence: {
      UMUPAKA_ASSERT(records.size() == 2);
      const VerifiedRecord& a = records[0];
      out.push_back(record_evidence(Equivocation{a.signed_record, records[1].signed_record},
                                    a.record.header.origin.value,
                                    records[1].record.header.seq.value, txn));
      break;
    }
    case IngestKind::versions:
      for (const VerifiedRecord& v : records) out.push_back(ingest_version(v, txn));
      break;
    case IngestKind::feed:
      for (const VerifiedRecord& v : records) out.push_back(ingest(v, txn));
      break;
    case IngestKind::posted:
      for (const VerifiedRecord& v : records) {
        const std::string& origin = v.record.header.origin.value;
        const uint64_t seq = v.record.header.seq.value;
        // Whole, as every peer will check it (GossipCore::verify_one): one they all refuse
        // would stop the root feed everywhere but here.
        if (auto s = validate_record(v.record); !s.ok()) {
          out.push_back(
              IngestResult{IngestOutcome::rejected, origin, seq, s.error().message, std::nullopt});
          continue;
        }
        if (const auto held = txn.record(origin, seq); held && held->hash != v.signed_record.hash) {
          out.push_back(IngestResult{IngestOutcome::rejected, origin, seq,
                                     "this node already holds another record " + origin + "/" +
                                         std::to_string(seq) +
                                         " (the feed moved on): make it again from the head",
                                     std::nullopt});
          continue;
        }
        // The next seq but not linked to the head (made from another head, or by hand): taken
        // as a feed record, it would be the evidence of a fork, and quarantine the root feed.
        if (const auto head = txn.head(origin);
            head && seq == head->seq + 1 && v.record.header.prev_hash != head->hash) {
          out.push_back(IngestResult{IngestOutcome::rejected, origin, seq,
                                     "its prev_hash is not the hash of this node's " + origin +
                                         "/" + std::to_string(head->seq) +
                                         ": make it again from the head",
                                     std::nullopt});
          continue;
        }
        out.push_back(ingest(v, txn));
      }
      break;
  }
  return out;
}

IngestResult NodeCore::ingest(const VerifiedRecord& in, StoreTxn& txn) {
  const Record& r = in.record;
  const SignedRecord& sr = in.signed_record;
  const std::string& origin = r.header.origin.value;
  const uint64_t seq = r.header.seq.value;
  IngestResult out{IngestOutcome::stored, origin, seq, {}, std::nullopt};
  auto reject = [&](std::string why) {
    out.outcome = IngestOutcome::rejected;
    out.reason = std::move(why);
    return out;
  };
  const Membership& m = staged_membership_ ? *staged_membership_ : membership_;
  if (!m.joined()) return reject("this node has not joined a network");
  if (r.header.network_id != m.network_id()) return reject("record of another network");
  // (The gossip core checked it whole; the header again here, whatever the caller: a seq 0
  // would find no record at its slot below.)
  if (auto s = validate_header(r.header, r.body); !s.ok()) return reject(s.error().message);
  if (quarantined(origin)) return reject(origin + " is quarantined for equivocation");
  // A peer offering records of our own feed beyond our head holds records this store lost
  // (restored from a backup): noted, so recording stops (execute) until the store holds all the
  // network holds of it. Those signed before this process started are ours, and taken back like
  // any feed's records: in order, each linking to the last (a gap waits; one that does not link
  // is a fork of our own key, evidence like any other). One signed since is not ours: our key
  // signs on another machine; refused, and recording stays stopped (HQ must act).
  if (origin == identity_.site) {
    note_own_record_elsewhere(seq, txn);
    if (r.header.hlc.physical_ms() > started_wall_ms_ + own_clock_slack_ms)
      return reject(
          "a record of this site's own feed signed after this node started: the "
          "site's key signs on another machine (docs/operations.md)");
  }
  if (auto s = m.admits(origin, seq); !s.ok()) return reject(s.error().message);

  const auto head = txn.head(origin);
  const uint64_t head_seq = head ? head->seq : 0;
  auto conflict = [&](const SignedRecord& held) {
    out.outcome = IngestOutcome::equivocation;
    out.evidence = Equivocation{held, sr};
    txn.put_evidence(origin, seq, held, sr);
    staged_quarantine_[origin] = seq;
    return out;
  };
  if (seq <= head_seq) {
    const auto held = txn.record(origin, seq);
    UMUPAKA_ASSERT(held.has_value());
    if (held->hash == sr.hash) {
      out.outcome = IngestOutcome::duplicate;
      return out;
    }
    return conflict(*held);
  }
  if (seq > head_seq + 1) {
    out.outcome = IngestOutcome::gap;
    return out;
  }
  if (head && r.header.prev_hash != head->hash) {
    const auto held = txn.record(origin, head_seq);
    UMUPAKA_ASSERT(held.has_value());
    return conflict(*held);
  }
  if (origin == root_origin) {
    Membership next = m;
    if (auto s = next.apply(r, sr.hash); !s.ok()) return reject(s.error().message);
    staged_membership_ = std::move(next);
  }
  if (auto s = txn.append(sr, r.header); !s.ok()) return reject(s.error().message);
  apply_record(txn, r, RecordRef{origin, seq});
  if (origin == identity_.site) {
    clock_.observe(r.header.hlc);  // our next record comes after the ones taken back
    ++staged_own_recovered_;
    // The store holds all the network was seen to hold of our feed again: the mark that proof set
    // (note_own_record_elsewhere) goes in the same transaction. A hold the node started with
    // (--restored, or a mark from before a restart) ends only with its first record.
    if (!restore_hold() && seq >= own_seq_elsewhere()) set_restore_mark(txn, false);
  }
  return out;
}

void NodeCore::note_peer_claims(const PeerClaims& claims) {
  uint64_t seen = own_seq_claimed_.load(std::memory_order_relaxed);
  while (claims.own_seq > seen && !own_seq_claimed_.compare_exchange_weak(seen, claims.own_seq)) {
  }
  root_seq_claimed_.store(claims.root_seq, std::memory_order_relaxed);
  // After the claims: whoever sees the peers heard sees what they claimed.
  peers_heard_.store(claims.peers_heard, std::memory_order_release);
}

Status NodeCore::restore_hold_status() const {
  if (!restore_hold()) return {};
  const size_t heard = peers_heard_.load(std::memory_order_acquire);
  const uint64_t root_claimed = root_seq_claimed_.load(std::memory_order_relaxed);
  const size_t others = member_others_.load(std::memory_order_relaxed);
  const uint64_t root_seq = member_root_seq_.load(std::memory_order_relaxed);
  const size_t needed = others == 0 ? 0 : others / 2 + 1;
  const std::string why =
      "this node was started on a restored store (run --restored), or on one shown to have lost "
      "records it signed: it records once a majority of the other sites have said how far this "
      "site's own feed goes; ";
  if (heard < needed)
    return make_error(Errc::unavailable, why + std::to_string(heard) + " of the " +
                                             std::to_string(others) + " heard so far, " +
                                             std::to_string(needed) +
                                             " needed. Nothing was recorded; retry");
  if (root_seq < root_claimed)
    return make_error(Errc::unavailable,
                      why + "its membership is still behind the peers' (root seq " +
                          std::to_string(root_seq) + " of " + std::to_string(root_claimed) +
                          "). Nothing was recorded; retry");
  return {};
}

uint64_t NodeCore::own_seq_elsewhere() const {
  const uint64_t offered = own_seq_offered_.load(std::memory_order_relaxed);
  if (offered == 0 && !restore_hold()) return 0;
  return std::max(offered, own_seq_claimed_.load(std::memory_order_acquire));
}

void NodeCore::note_own_record_elsewhere(uint64_t seq, StoreTxn& txn) {
  const auto head = txn.head(identity_.site);
  if (seq <= (head ? head->seq : 0)) return;
  // Kept in the store too: stopped before the store holds them, the node holds at its next start
  // as a restored one does (until a majority of peers spoke, their claims counting at once), or
  // it would record over the lost tail before any peer offered it again.
  set_restore_mark(txn, true);
  uint64_t seen = own_seq_offered_.load(std::memory_order_relaxed);
  while (seq > seen && !own_seq_offered_.compare_exchange_weak(seen, seq)) {
  }
}

namespace {
// The crossing a request makes, as recorded (the checks' outcome aside).
Crossing crossing_of(const CheckRequest& req, const CrossingRequest& r,
                     const std::string& officer) {
  Crossing c;
  c.direction = req.direction;
  c.post = req.post;
  c.mode = req.mode;
  c.traveller = req.traveller;
  c.document = req.document;
  c.national_id = req.national_id;
  c.permit_id = r.permit_id;
  c.officer = officer;
  c.note = r.note.value_or("");
  c.from_mrz = r.mrz.has_value();
  return c;
}
}  // namespace

Result<CheckResult> NodeCore::check(const CrossingRequest& request, const ViewReader& views,
                                    int64_t now_ms) const {
  const std::shared_ptr<const Membership> members = published_membership_.load();
  ASSIGN_OR_RETURN(CheckRequest req,
                   check_request_from(request, identity_, *members, date_of_instant_ms(now_ms)));
  // A dry run refuses what recording would refuse: the crossing as it would be written, checked
  // as the record is (the outcome of the checks aside).
  RETURN_IF_ERROR(validate_body(RecordBody{crossing_of(req, request, "checks")}));
  return run_checks(req, views);
}

namespace {

// What a command's answer says of the record it made (the checks and the object id aside).
Recorded recorded_of(const Record& rec, const SignedRecord& sr) {
  Recorded out;
  out.ref = RecordRef{rec.header.origin.value, rec.header.seq.value};
  out.hash = sr.hash;
  out.hlc = rec.header.hlc;
  out.type = type_of(rec.body);
  if (const auto* c = std::get_if<Crossing>(&rec.body)) out.crossing = *c;
  return out;
}

}  // namespace

Result<Recorded> NodeCore::seal_and_store(RecordBody body, StoreTxn& txn, Hlc hlc,
                                          const std::optional<FeedHead>& head) {
  Record rec;
  rec.header.network_id = identity_.network_id;
  rec.header.origin = OriginId(identity_.site);
  rec.header.seq = Seq(head ? head->seq + 1 : 1);
  rec.header.prev_hash = head ? head->hash : zero_hash;
  rec.header.hlc = hlc;
  rec.body = std::move(body);
  RETURN_IF_ERROR(validate_record(rec));
  const SignedRecord sr = seal(rec, key_);
  RETURN_IF_ERROR(txn.append(sr, rec.header));
  const RecordRef ref{identity_.site, rec.header.seq.value};
  apply_record(txn, rec, ref);
  return recorded_of(rec, sr);
}

Result<Recorded> NodeCore::replay(const IdempotencyEntry& entry, const IdempotencyKey& key,
                                  const StoreTxn& txn) const {
  const std::string ref = identity_.site + "/" + std::to_string(entry.seq);
  if (entry.fingerprint != key.fingerprint)
    return make_error(Errc::conflict,
                      "Idempotency-Key " + key.key +
                          " was used at this node for another request (" + ref +
                          "); nothing was recorded. A new request needs a key of its own; a retry "
                          "must repeat the request unchanged",
                      "Idempotency-Key");
  // The key and its record were written in one transaction of this store, which never drops a
  // record of its own feed: a record missing or unreadable is the store's fault.
  const std::optional<SignedRecord> sr = txn.record(identity_.site, entry.seq);
  if (!sr)
    return make_error(Errc::storage, "the record " + ref + " made for Idempotency-Key " + key.key +
                                         " is not in the store");
  Result<Record> rec = decode_record(sr->encoded);
  if (!rec.ok())
    return make_error(Errc::storage,
                      "the record " + ref + " does not decode: " + rec.error().message);
  Recorded out = recorded_of(*rec, *sr);
  out.replayed = true;
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, Permit> || std::is_same_v<T, PermitStatusChange>)
          out.object_id = body.permit_id;
        else if constexpr (std::is_same_v<T, Alert> || std::is_same_v<T, AlertLift>)
          out.object_id = body.alert_id;
      },
      rec->body);
  if (out.crossing) {
    out.decision = out.crossing->decision;
    out.checks = CheckResult{out.crossing->verdict, out.crossing->findings, out.crossing->permit_id,
                             entry.overstay_days, entry.allowed_until};
  }
  return out;
}

Result<Recorded> NodeCore::execute(const Command& command, StoreTxn& txn, int64_t now_ms) {
  const auto& key = command.idempotency;
  if (key) {
    // Kept for the retention exactly: one past it is gone, whether or not a write forgot it yet
    // (the put below replaces it).
    const auto entry = txn.idempotency(command.officer, key->key);
    if (entry && entry->created_ms >= now_ms - limits::idempotency_key_retention_ms)
      return replay(*entry, *key, txn);
  }
  Result<Recorded> done = execute_once(command, txn, now_ms);
  if (!done.ok()) return done;
  if (key)
    txn.put_idempotency(
        command.officer, key->key,
        IdempotencyEntry{done->ref.seq, key->fingerprint, now_ms,
                         done->checks ? done->checks->overstay_days : 0,
                         done->checks ? done->checks->allowed_until : std::nullopt});
  txn.expire_idempotency(now_ms - limits::idempotency_key_retention_ms,
                         limits::idempotency_keys_expired_per_write);
  return done;
}

Result<Recorded> NodeCore::execute_once(const Command& command, StoreTxn& txn, int64_t now_ms) {
  const std::optional<FeedHead> head = txn.head(identity_.site);
  const uint64_t seq = head ? head->seq + 1 : 1;
  // The record's time is its HLC; the checks' "today" is the date of that time, so the record
  // carries everything needed to re-derive its verdict.
  const Hlc hlc = clock_.now(now_ms);
  const Date today = date_of_instant_ms(hlc.physical_ms());
  const std::string& officer = command.officer;
  if (const MemberSite* self = membership_.site(identity_.site);
      self != nullptr && self->revoked_after && seq > *self->revoked_after)
    return make_error(Errc::forbidden, "this site was revoked by HQ; it cannot record (" +
                                           self->revoke_reason + ")");
  if (quarantined(identity_.site))
    return make_error(Errc::forbidden,
                      "this site's feed is quarantined: two different records were signed with its "
                      "key; HQ must investigate before it records again");
  const bool held = restore_hold();
  if (held) RETURN_IF_ERROR(restore_hold_status());
  if (const uint64_t elsewhere = std::max(own_seq_elsewhere(), ledger_seq(txn, identity_.site));
      elsewhere >= seq)
    return make_error(Errc::conflict,
                      "this site's own feed reaches seq " + std::to_string(elsewhere) +
                          " elsewhere in the network but only " + std::to_string(seq - 1) +
                          " here: this store lost records it had signed (restored from a "
                          "backup?) or its signing key is in use elsewhere; recording now would "
                          "fork the feed. Nothing was recorded; see docs/operations.md");

  Result<Recorded> done = std::visit(
      [&](const auto& r) -> Result<Recorded> {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, CrossingRequest>) {
          ASSIGN_OR_RETURN(CheckRequest req, check_request_from(r, identity_, membership_, today));
          CheckResult checks = run_checks(req, txn);
          Crossing c = crossing_of(req, r, officer);
          if (!c.permit_id) c.permit_id = checks.permit_id;
          c.verdict = checks.verdict;
          c.findings = checks.findings;
          c.decision = r.decision.value_or(default_decision(checks.verdict));
          if (c.decision == Decision::admitted && c.verdict == Verdict::deny)
            RETURN_IF_ERROR(check_visible(c.note, "note"));
          ASSIGN_OR_RETURN(Recorded out, seal_and_store(std::move(c), txn, hlc, head));
          out.decision = out.crossing->decision;
          out.checks = std::move(checks);
          return out;
        } else if constexpr (std::is_same_v<T, PermitRequest>) {
          RETURN_IF_ERROR(check_chosen_id(r.permit_id, "permit_id"));
          RETURN_IF_ERROR(check_person(r.holder, "holder", today));
          const KindDefaults d = defaults_for(r.kind);
          Permit p;
          p.permit_id = r.permit_id.value_or(generated_id(identity_.site, seq));
          if (!valid_object_id(p.permit_id))
            return make_error(Errc::invalid_field, "permit_id is not a valid id", "permit_id");
          if (txn.permit(p.permit_id))
            return make_error(Errc::conflict, "permit " + p.permit_id + " already exists",
                              "permit_id");
          p.kind = r.kind;
          p.holder = r.holder;
          p.document = r.document;
          p.national_id = r.national_id;
          p.valid_from = r.valid_from.value_or(today);
          p.valid_until = r.valid_until.value_or(
              Date{p.valid_from.days + static_cast<int32_t>(d.valid_days) - 1});
          // A single-entry kind allows one entry: 0 (unlimited) or 2 would make it another kind,
          // and a second entry on it would never be raised as a reuse.
          if (d.entries_allowed == 1 && r.entries_allowed && *r.entries_allowed != 1)
            return make_error(Errc::invalid_field,
                              std::string(enum_name(r.kind)) +
                                  " allows one entry: entries_allowed must be 1 or left out",
                              "entries_allowed");
          p.entries_allowed = r.entries_allowed.value_or(d.entries_allowed);
          p.stay_days_max = r.stay_days_max.value_or(d.stay_days_max);
          p.issuing_site = identity_.site;
          p.officer = officer;
          p.note = r.note.value_or("");
          std::string id = p.permit_id;
          ASSIGN_OR_RETURN(Recorded out, seal_and_store(std::move(p), txn, hlc, head));
          out.object_id = std::move(id);
          return out;
        } else if constexpr (std::is_same_v<T, PermitStatusRequest>) {
          if (!valid_object_id(r.permit_id))
            return make_error(Errc::invalid_field, "permit_id is not a valid id", "permit_id");
          const auto view = txn.permit(r.permit_id);
          if (!view)
            return make_error(Errc::not_found, "no permit " + r.permit_id + " at this node",
                              "permit_id");
          if (view->state != PermitState::valid)
            return make_error(
                Errc::conflict,
                "permit " + r.permit_id + " is already " + std::string(enum_name(view->state)),
                "permit_id");
          RETURN_IF_ERROR(check_visible(r.reason, "reason"));
          // An extension ends the permit later than it ends now (a revocation ends it sooner).
          if (r.action == PermitAction::extend && r.valid_until &&
              *r.valid_until <= view->valid_until)
            return make_error(Errc::invalid_field,
                              "an extension must end after the permit's current valid_until, " +
                                  format_iso_date(view->valid_until) + "; " +
                                  format_iso_date(*r.valid_until) + " is not after it",
                              "valid_until");
          PermitStatusChange s{r.permit_id, r.action, r.valid_until, r.reason, officer};
          ASSIGN_OR_RETURN(Recorded out, seal_and_store(std::move(s), txn, hlc, head));
          out.object_id = r.permit_id;
          return out;
        } else if constexpr (std::is_same_v<T, TravelDocumentRequest>) {
          RETURN_IF_ERROR(check_person(r.holder, "holder", today));
          const auto view = txn.document(r.document.country, r.document.number);
          if (view && view->issued_record)
            return make_error(
                Errc::conflict,
                "document " + r.document.country + " " + r.document.number + " was already issued",
                "document.number");
          TravelDocumentIssued t{r.document,     r.holder,
                                 r.national_id,  r.issued_on.value_or(today),
                                 identity_.site, officer};
          return seal_and_store(std::move(t), txn, hlc, head);
        } else if constexpr (std::is_same_v<T, DocumentStatusRequest>) {
          DocumentStatusChange s{r.country, r.number, r.status, r.reason.value_or(""), officer};
          return seal_and_store(std::move(s), txn, hlc, head);
        } else if constexpr (std::is_same_v<T, AlertRequest>) {
          RETURN_IF_ERROR(check_chosen_id(r.alert_id, "alert_id"));
          if (r.expires_on && *r.expires_on < today)
            return make_error(Errc::invalid_field,
                              "expires_on " + format_iso_date(*r.expires_on) +
                                  " is before today (" + format_iso_date(today) +
                                  "): the alert would never apply",
                              "expires_on");
          if (r.subject.surname) {
            RETURN_IF_ERROR(check_visible(*r.subject.surname, "subject.surname"));
            RETURN_IF_ERROR(check_name(*r.subject.surname, "subject.surname"));
          }
          if (r.subject.given_names)
            RETURN_IF_ERROR(check_name(*r.subject.given_names, "subject.given_names"));
          Alert a;
          a.alert_id = r.alert_id.value_or(generated_id(identity_.site, seq));
          if (!valid_object_id(a.alert_id))
            return make_error(Errc::invalid_field, "alert_id is not a valid id", "alert_id");
          if (txn.alert(a.alert_id))
            return make_error(Errc::conflict, "alert " + a.alert_id + " already exists",
                              "alert_id");
          a.subject = r.subject;
          a.category = r.category;
          a.action = r.action;
          a.reason = r.reason.value_or("");
          a.expires_on = r.expires_on;
          a.officer = officer;
          std::string id = a.alert_id;
          ASSIGN_OR_RETURN(Recorded out, seal_and_store(std::move(a), txn, hlc, head));
          out.object_id = std::move(id);
          return out;
        } else {
          static_assert(std::is_same_v<T, AlertLiftRequest>);
          if (!valid_object_id(r.alert_id))
            return make_error(Errc::invalid_field, "alert_id is not a valid id", "alert_id");
          const auto view = txn.alert(r.alert_id);
          if (!view)
            return make_error(Errc::not_found, "no alert " + r.alert_id + " at this node",
                              "alert_id");
          if (view->lifted)
            return make_error(Errc::conflict, "alert " + r.alert_id + " is already lifted",
                              "alert_id");
          AlertLift l{r.alert_id, r.reason.value_or(""), officer};
          ASSIGN_OR_RETURN(Recorded out, seal_and_store(std::move(l), txn, hlc, head));
          out.object_id = r.alert_id;
          return out;
        }
      },
      command.body);
  if (held && done.ok()) {  // ended when the transaction commits
    set_restore_mark(txn, false);
    staged_hold_lift_ = true;
  }
  return done;
}

}  // namespace umupaka

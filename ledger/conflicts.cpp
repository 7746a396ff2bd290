#include "ledger/conflicts.hpp"

#include <algorithm>
#include <type_traits>
#include <utility>

#include "ledger/assert.hpp"
#include "ledger/checks.hpp"
#include "ledger/countries.hpp"

namespace umupaka {
namespace {

// An optional identifier counts as known only when it holds text (as in views.cpp).
bool known(const std::optional<std::string>& id) { return id.has_value() && !id->empty(); }

// "gatuna/12": a record as HQ looks it up.
std::string ref_text(const RecordRef& ref) { return ref.origin + "/" + std::to_string(ref.seq); }

std::string refs_text(const std::vector<RecordRef>& refs) {
  std::string text;
  for (const RecordRef& ref : refs) {
    if (!text.empty()) text += ", ";
    text += ref_text(ref);
  }
  return text;
}

// The record being applied: what every rule needs to name it and date it.
struct Current {
  const Record& record;
  const RecordRef& ref;
  uint64_t position;
  uint64_t time_ms;  // its ledger time
};

Date date_of(uint64_t time_ms) { return date_of_instant_ms(static_cast<int64_t>(time_ms)); }

// "2026-03-02", noting when the record's own clock ran ahead of the cluster time that bounds it.
std::string record_date(const Current& cur) {
  std::string text = format_iso_date(date_of(cur.time_ms));
  const auto claimed = static_cast<uint64_t>(cur.record.header.hlc.physical_ms());
  if (claimed > cur.time_ms + ledger_clock_ahead_note_ms)
    text += " by cluster time (its post's clock said " + format_iso_date(date_of(claimed)) + ")";
  return text;
}

// "ledger position 42, record gatuna/12"
std::string where(uint64_t position, const RecordRef& ref) {
  return "ledger position " + std::to_string(position) + ", record " + ref_text(ref);
}

std::string entries_text(uint32_t n) {
  return std::to_string(n) + (n == 1 ? " entry" : " entries");
}

// "admitted entry at rusumo on 2026-03-02 (ledger position 42, record rusumo/7)"
std::string crossing_text(const Crossing& c, const Current& cur) {
  std::string text(enum_name(c.decision));
  text.append(" ").append(enum_name(c.direction));
  text.append(" at ").append(c.post).append(" on ").append(record_date(cur));
  text.append(" (").append(where(cur.position, cur.ref)).append(")");
  return text;
}

// The traveller's nationality as the checks take it: the person's, else the document's state.
std::string nationality_of(const Crossing& c) {
  std::string_view n = normalize_state_code(c.traveller.nationality);
  if (n.empty()) n = normalize_state_code(c.document.country);
  return std::string(n);
}

// The names of the uses behind `uses`, noting those counted but not kept.
std::string uses_text(const std::vector<RecordRef>& uses, uint32_t counted) {
  std::string text = refs_text(uses);
  if (counted > uses.size()) {
    text += (uses.empty() ? "" : " and ") + std::to_string(counted - uses.size()) + " more";
  }
  return text;
}

ConflictAlert make_alert(ConflictKind kind, uint64_t position, const RecordRef& ref,
                         std::vector<RecordRef> related, std::string subject,
                         std::string explanation) {
  ConflictAlert alert;
  alert.kind = kind;
  alert.position = position;
  alert.record = ref;
  alert.related = std::move(related);
  alert.subject = std::move(subject);
  alert.explanation = std::move(explanation);
  return alert;
}

// A crossing on a document reported (lost, stolen, revoked) earlier in ledger order. Any
// decision: the document was presented, whatever the officer decided.
void check_document_report(const LedgerStateStore& state, const Crossing& c,
                           const std::string& doc_key, const Current& cur,
                           std::vector<ConflictAlert>& alerts) {
  const std::optional<LedgerDocumentReport> report = state.document_report(doc_key);
  if (!report) return;
  UMUPAKA_ASSERT_MSG(report->position < cur.position, "records applied out of ledger order");
  std::string explanation =
      "Document " + doc_key + " was reported " + std::string(enum_name(report->status)) + " (" +
      where(report->position, report->record) + ") before the " + crossing_text(c, cur) + " on it.";
  alerts.push_back(make_alert(ConflictKind::crossing_on_reported_document, cur.position, cur.ref,
                              {report->record}, doc_key, std::move(explanation)));
}

// An admitted entry on a permit whose (extended) validity ended before the entry's ledger date.
void check_permit_expiry(const LedgerStateStore& state, const Crossing& c, const Current& cur,
                         std::vector<ConflictAlert>& alerts) {
  const std::string& permit_id = *c.permit_id;
  const std::optional<LedgerPermitTerms> terms = state.permit_terms(permit_id);
  if (!terms || terms->pending()) return;  // not issued yet in ledger order: not judged
  if (date_of(cur.time_ms) < terms->valid_from) {
    UMUPAKA_ASSERT_MSG(terms->position < cur.position, "records applied out of ledger order");
    alerts.push_back(make_alert(
        ConflictKind::permit_not_yet_valid, cur.position, cur.ref, {terms->issued}, permit_id,
        "Permit " + permit_id + " is valid from " + format_iso_date(terms->valid_from) + " (" +
            where(terms->position, terms->issued) + ") but was used for the " +
            crossing_text(c, cur) + "."));
    return;
  }
  if (date_of(cur.time_ms) <= terms->valid_until) return;
  UMUPAKA_ASSERT_MSG(terms->position < cur.position, "records applied out of ledger order");
  std::vector<RecordRef> related{terms->issued};
  std::string validity = "was valid until " + format_iso_date(terms->valid_until) + " (" +
                         where(terms->position, terms->issued);
  if (terms->extended) {
    related.push_back(*terms->extended);
    validity += ", extended by record " + ref_text(*terms->extended);
  }
  std::string explanation = "Permit " + permit_id + " " + validity + ") but was used for the " +
                            crossing_text(c, cur) + ".";
  alerts.push_back(make_alert(ConflictKind::permit_expired, cur.position, cur.ref,
                              std::move(related), permit_id, std::move(explanation)));
}

// An admitted entry using a permit: count it, and raise when it exceeds a limited allowance.
void use_permit(LedgerStateStore& state, const Crossing& c, const Current& cur,
                std::vector<ConflictAlert>& alerts) {
  const std::string& permit_id = *c.permit_id;
  LedgerPermitUse use = state.permit_use(permit_id).value_or(LedgerPermitUse{});
  UMUPAKA_ASSERT(use.uses.size() <= use.entries_used);
  UMUPAKA_ASSERT(use.entries_used < UINT32_MAX);
  const uint32_t earlier_count = use.entries_used;
  use.entries_used += 1;
  if (use.entries_allowed > 0 && use.entries_used > use.entries_allowed) {
    std::string explanation =
        "Permit " + permit_id + " allows " + entries_text(use.entries_allowed) +
        " but was used for entry " + std::to_string(use.entries_used) + ": " +
        crossing_text(c, cur) +
        "; earlier uses in ledger order: " + uses_text(use.uses, earlier_count) + ".";
    alerts.push_back(make_alert(ConflictKind::single_entry_permit_reused, cur.position, cur.ref,
                                use.uses, permit_id, std::move(explanation)));
  }
  if (use.uses.size() < ledger_permit_uses_kept_max) use.uses.push_back(cur.ref);
  state.put_permit_use(permit_id, use);
}

// An admitted exit of a non-citizen after the last day of the stay allowed from their admitted
// entry `previous`, both dated by ledger time.
void check_overstay(const LedgerStateStore& state, const Crossing& c, const std::string& person_key,
                    const LedgerPresence& previous, const Current& cur,
                    std::vector<ConflictAlert>& alerts) {
  const std::string nationality =
      previous.nationality.empty() ? nationality_of(c) : previous.nationality;
  if (nationality == citizen_state || nationality_of(c) == citizen_state) return;
  std::optional<PermitView> permit;
  if (known(previous.permit_id)) {
    const std::optional<LedgerPermitTerms> terms = state.permit_terms(*previous.permit_id);
    // Entered under a permit not in the ledger yet: nothing to judge by.
    if (!terms || terms->pending()) return;
    // Only what allowed_stay reads: the permit's id, kind, stay limit and (extended) validity.
    permit.emplace();
    permit->permit.permit_id = *previous.permit_id;
    permit->permit.kind = terms->kind;
    permit->permit.stay_days_max = terms->stay_days_max;
    permit->permit.valid_until = terms->valid_until;
    permit->valid_until = terms->valid_until;
  }
  const AllowedStay stay = allowed_stay(nationality, date_of(previous.time_ms), permit);
  const int32_t over = date_of(cur.time_ms).days - stay.until.days;
  if (over <= 0) return;
  std::string explanation = "The " + crossing_text(c, cur) + " of " + person_key + " comes " +
                            std::to_string(over) + (over == 1 ? " day" : " days") +
                            " after the stay allowed until " + format_iso_date(stay.until) +
                            " under " + stay.basis + " from the admitted entry at " +
                            previous.post + " on " + format_iso_date(date_of(previous.time_ms)) +
                            " (" + where(previous.position, previous.last) + ").";
  alerts.push_back(make_alert(ConflictKind::overstay, cur.position, cur.ref, {previous.last},
                              person_key, std::move(explanation)));
}

// An admitted crossing moves the person in or out; raise when it contradicts where they are.
void move_person(LedgerStateStore& state, const Crossing& c, const std::string& person_key,
                 const Current& cur, std::vector<ConflictAlert>& alerts) {
  const bool entry = c.direction == Direction::entry;
  const std::optional<LedgerPresence> previous = state.presence(person_key);
  if (previous) {
    UMUPAKA_ASSERT_MSG(previous->position < cur.position, "records applied out of ledger order");
    // Never seen before: no alert either way (their entry may predate the system).
    if (entry && previous->inside) {
      std::string explanation = "The " + crossing_text(c, cur) + " of " + person_key +
                                " follows the admitted entry at " + previous->post + " (" +
                                where(previous->position, previous->last) +
                                ") with no admitted exit in between.";
      alerts.push_back(make_alert(ConflictKind::entry_while_present, cur.position, cur.ref,
                                  {previous->last}, person_key, std::move(explanation)));
    } else if (!entry && !previous->inside) {
      std::string explanation = "The " + crossing_text(c, cur) + " of " + person_key +
                                " follows the admitted exit at " + previous->post + " (" +
                                where(previous->position, previous->last) +
                                ") with no admitted entry in between.";
      alerts.push_back(make_alert(ConflictKind::exit_while_absent, cur.position, cur.ref,
                                  {previous->last}, person_key, std::move(explanation)));
    } else if (!entry && previous->inside) {
      check_overstay(state, c, person_key, *previous, cur, alerts);
    }
  }
  LedgerPresence presence;
  presence.inside = entry;
  presence.last = cur.ref;
  presence.position = cur.position;
  presence.post = c.post;
  presence.time_ms = cur.time_ms;
  if (entry && known(c.permit_id)) presence.permit_id = c.permit_id;
  presence.nationality = nationality_of(c);
  state.put_presence(person_key, presence);
}

void apply_crossing(LedgerStateStore& state, const Crossing& c, const Current& cur,
                    std::vector<ConflictAlert>& alerts) {
  const std::string doc_key = document_key(c.document.country, c.document.number);
  check_document_report(state, c, doc_key, cur, alerts);
  if (c.decision != Decision::admitted) return;  // referred or refused: no state changes

  if (c.direction == Direction::entry && known(c.permit_id)) {
    check_permit_expiry(state, c, cur, alerts);
    use_permit(state, c, cur, alerts);
  }
  std::optional<std::string> nid =
      known(c.national_id) ? c.national_id : state.linked_national_id(doc_key);
  const std::string person_key = known(nid) ? national_id_key(*nid) : doc_key;
  move_person(state, c, person_key, cur, alerts);
}

// Issuance sets the terms and the allowance and never resets the uses: a use ordered before the
// permit counts.
void apply_permit(LedgerStateStore& state, const Permit& p, const Current& cur,
                  std::vector<ConflictAlert>& alerts) {
  LedgerPermitTerms terms{p.kind,       p.stay_days_max, p.valid_until, cur.ref,
                          cur.position, std::nullopt,    p.valid_from};
  // An extension ordered before the first issuance (pending terms) extends it.
  if (const std::optional<LedgerPermitTerms> held = state.permit_terms(p.permit_id);
      held && held->pending()) {
    terms.valid_until = held->valid_until;
    terms.extended = held->extended;
  }
  state.put_permit_terms(p.permit_id, terms);
  std::optional<LedgerPermitUse> use = state.permit_use(p.permit_id);
  if (!use) {
    state.put_permit_use(p.permit_id, LedgerPermitUse{p.entries_allowed, 0, {}});
    return;
  }
  const uint32_t allowed_before = use->entries_allowed;
  use->entries_allowed = p.entries_allowed;
  const bool exceeds = use->entries_allowed > 0 && use->entries_used > use->entries_allowed;
  const bool raised_before = allowed_before > 0 && use->entries_used > allowed_before;
  if (exceeds && !raised_before) {
    std::string explanation = "Permit " + p.permit_id + " issued at " + p.issuing_site + " on " +
                              record_date(cur) + " (" + where(cur.position, cur.ref) + ") allows " +
                              entries_text(use->entries_allowed) + ", but " +
                              std::to_string(use->entries_used) +
                              " admitted entries using it come earlier in ledger order: " +
                              uses_text(use->uses, use->entries_used) + ".";
    alerts.push_back(make_alert(ConflictKind::single_entry_permit_reused, cur.position, cur.ref,
                                use->uses, p.permit_id, std::move(explanation)));
  }
  state.put_permit_use(p.permit_id, *use);
}

// An extension moves valid_until of a permit the ledger holds (or, before its issuance, is kept
// pending for it); nothing else changes its terms.
void apply_permit_status(LedgerStateStore& state, const PermitStatusChange& change,
                         const Current& cur) {
  if (change.action != PermitAction::extend || !change.valid_until) return;
  const std::optional<LedgerPermitTerms> held = state.permit_terms(change.permit_id);
  if (held)
    UMUPAKA_ASSERT_MSG(held->position < cur.position, "records applied out of ledger order");
  // Not issued yet in ledger order: pending terms (no `issued`) at the latest extension's
  // position, for the issuance to take.
  LedgerPermitTerms terms = held.value_or(LedgerPermitTerms{});
  terms.valid_until = *change.valid_until;
  terms.extended = cur.ref;
  if (terms.pending()) terms.position = cur.position;
  state.put_permit_terms(change.permit_id, terms);
}

// The latest report in ledger order is the one crossings are held against.
void apply_document_status(LedgerStateStore& state, const DocumentStatusChange& change,
                           const RecordRef& ref, uint64_t position) {
  const std::string doc_key = document_key(change.country, change.number);
  const std::optional<LedgerDocumentReport> previous = state.document_report(doc_key);
  if (previous) UMUPAKA_ASSERT_MSG(previous->position < position, "records applied out of order");
  state.put_document_report(doc_key, LedgerDocumentReport{change.status, ref, position});
}

// Links the document to its holder's national ID. On the first link, presence recorded under the
// document key (crossings before the link) moves to the national ID key unless that key already
// holds a later crossing.
void apply_travel_document(LedgerStateStore& state, const TravelDocumentIssued& t) {
  if (t.national_id.empty()) return;
  const std::string doc_key = document_key(t.document.country, t.document.number);
  const std::optional<std::string> linked_before = state.linked_national_id(doc_key);
  state.link_national_id(doc_key, t.national_id);
  if (known(linked_before)) return;

  const std::optional<LedgerPresence> by_document = state.presence(doc_key);
  if (!by_document) return;
  const std::string nid_key = national_id_key(t.national_id);
  const std::optional<LedgerPresence> by_nid = state.presence(nid_key);
  if (!by_nid || by_nid->position < by_document->position) {
    state.put_presence(nid_key, *by_document);
  }
}

// A site's revocation takes effect here. Records of its feed past the cut-off that the ledger
// already holds stand (the ledger took them first); the revocation names them for HQ.
void apply_site_revoked(LedgerStateStore& state, const SiteRevoked& r, const Current& cur,
                        std::vector<ConflictAlert>& alerts) {
  state.put_revocation(r.site, LedgerRevocation{r.seq_cutoff, cur.ref, cur.position});
  // The ledger holds a feed's records from seq 1 up without a gap, so those past the cut-off are
  // seqs cut-off+1 .. last: found in O(log n) lookups (a post revoked weeks late may have
  // millions), by doubling and then halving.
  const auto held = [&](uint64_t seq) {
    return seq > r.seq_cutoff && state.position_of(r.site, seq).has_value();
  };
  const uint64_t first = r.seq_cutoff + 1;
  if (!held(first)) return;
  uint64_t last = first;  // held
  uint64_t step = 1;
  while (last + step > last && held(last + step)) {
    last += step;
    step *= 2;
  }
  uint64_t beyond = last + step > last ? last + step : 0;  // not held (0: past the top)
  while (last != UINT64_MAX && (beyond == 0 || beyond - last > 1)) {
    const uint64_t mid = last + (beyond == 0 ? (UINT64_MAX - last) / 2 + 1 : (beyond - last) / 2);
    if (held(mid))
      last = mid;
    else
      beyond = mid;
  }
  const uint64_t n = last - r.seq_cutoff;
  std::vector<RecordRef> stood;
  for (uint64_t seq = first; seq <= last && stood.size() < ledger_revoked_records_named_max; ++seq)
    stood.push_back(RecordRef{r.site, seq});
  const bool more = n > stood.size();
  alerts.push_back(ConflictAlert{
      ConflictKind::revoked_site_record, cur.position, cur.ref, stood, r.site,
      "HQ revoked " + r.site + " after seq " + std::to_string(r.seq_cutoff) + " (" +
          where(cur.position, cur.ref) + "), but the ledger had already taken " +
          std::to_string(n) + (n == 1 ? " record" : " records") + " of its feed past that seq (" +
          refs_text(stood) + (more ? ", ..." : "") + "): they stand; check them"});
}

}  // namespace

uint64_t ledger_time_ms(const Record& record, uint64_t cluster_time_ms) {
  const auto claimed = static_cast<uint64_t>(record.header.hlc.physical_ms());
  if (cluster_time_ms == 0) return claimed;
  return std::min(claimed, cluster_time_ms);
}

std::vector<ConflictAlert> apply_in_ledger_order(LedgerStateStore& state, const Record& record,
                                                 const RecordRef& ref, uint64_t position,
                                                 uint64_t cluster_time_ms) {
  UMUPAKA_ASSERT(!ref.origin.empty());
  UMUPAKA_ASSERT(ref.seq > 0);
  const Current cur{record, ref, position, ledger_time_ms(record, cluster_time_ms)};
  std::vector<ConflictAlert> alerts;
  // A revoked site's record past its cut-off, ordered after the revocation: evidence, void.
  if (const auto rv = state.revocation(ref.origin); rv && ref.seq > rv->cutoff) {
    alerts.push_back(ConflictAlert{
        ConflictKind::revoked_site_record,
        position,
        ref,
        {rv->record},
        ref.origin,
        "record " + ref_text(ref) + " was signed with " + ref.origin +
            "'s key after HQ revoked the site after seq " + std::to_string(rv->cutoff) + " (" +
            where(rv->position, rv->record) + "); it is kept as evidence and has no effect"});
    return alerts;
  }
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, Crossing>) {
          apply_crossing(state, body, cur, alerts);
        } else if constexpr (std::is_same_v<T, Permit>) {
          apply_permit(state, body, cur, alerts);
        } else if constexpr (std::is_same_v<T, PermitStatusChange>) {
          apply_permit_status(state, body, cur);
        } else if constexpr (std::is_same_v<T, DocumentStatusChange>) {
          apply_document_status(state, body, ref, position);
        } else if constexpr (std::is_same_v<T, TravelDocumentIssued>) {
          apply_travel_document(state, body);
        } else if constexpr (std::is_same_v<T, SiteRevoked>) {
          // Only HQ's root feed revokes (validate_header; checked again: it voids a feed).
          if (ref.origin == root_origin) apply_site_revoked(state, body, cur, alerts);
        } else {
          // Watchlist alerts and their lifts are checked at the post against the views;
          // membership records shape the network.
          static_assert(std::is_same_v<T, Alert> || std::is_same_v<T, AlertLift> ||
                        std::is_same_v<T, Genesis> || std::is_same_v<T, SiteCertified>);
        }
      },
      record.body);
  for (const ConflictAlert& alert : alerts) {
    UMUPAKA_ASSERT(alert.position == position);
    UMUPAKA_ASSERT(alert.record == ref);
  }
  return alerts;
}

}  // namespace umupaka

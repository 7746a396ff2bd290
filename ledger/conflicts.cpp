#include "ledger/conflicts.hpp"

#include <type_traits>
#include <utility>

#include "ledger/assert.hpp"

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

// The date of a record by its origin's hybrid logical clock.
std::string record_date(const Record& record) {
  return format_iso_date(date_of_instant_ms(record.header.hlc.physical_ms()));
}

// "ledger position 42, record gatuna/12"
std::string where(uint64_t position, const RecordRef& ref) {
  return "ledger position " + std::to_string(position) + ", record " + ref_text(ref);
}

std::string entries_text(uint32_t n) {
  return std::to_string(n) + (n == 1 ? " entry" : " entries");
}

// "admitted entry at rusumo on 2026-03-02 (ledger position 42, record rusumo/7)"
std::string crossing_text(const Crossing& c, const Record& record, const RecordRef& ref,
                          uint64_t position) {
  std::string text(enum_name(c.decision));
  text.append(" ").append(enum_name(c.direction));
  text.append(" at ").append(c.post).append(" on ").append(record_date(record));
  text.append(" (").append(where(position, ref)).append(")");
  return text;
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
                           const std::string& doc_key, const Record& record, const RecordRef& ref,
                           uint64_t position, std::vector<ConflictAlert>& alerts) {
  const std::optional<LedgerDocumentReport> report = state.document_report(doc_key);
  if (!report) return;
  UMUPAKA_ASSERT_MSG(report->position < position, "records applied out of ledger order");
  std::string explanation = "Document " + doc_key + " was reported " +
                            std::string(enum_name(report->status)) + " (" +
                            where(report->position, report->record) + ") before the " +
                            crossing_text(c, record, ref, position) + " on it.";
  alerts.push_back(make_alert(ConflictKind::crossing_on_reported_document, position, ref,
                              {report->record}, doc_key, std::move(explanation)));
}

// An admitted entry using a permit: count it, and raise when it exceeds a limited allowance.
void use_permit(LedgerStateStore& state, const Crossing& c, const Record& record,
                const RecordRef& ref, uint64_t position, std::vector<ConflictAlert>& alerts) {
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
        crossing_text(c, record, ref, position) +
        "; earlier uses in ledger order: " + uses_text(use.uses, earlier_count) + ".";
    alerts.push_back(make_alert(ConflictKind::single_entry_permit_reused, position, ref, use.uses,
                                permit_id, std::move(explanation)));
  }
  if (use.uses.size() < ledger_permit_uses_kept_max) use.uses.push_back(ref);
  state.put_permit_use(permit_id, use);
}

// An admitted crossing moves the person in or out; raise when it contradicts where they are.
void move_person(LedgerStateStore& state, const Crossing& c, const std::string& person_key,
                 const Record& record, const RecordRef& ref, uint64_t position,
                 std::vector<ConflictAlert>& alerts) {
  const bool entry = c.direction == Direction::entry;
  const std::optional<LedgerPresence> previous = state.presence(person_key);
  if (previous) {
    UMUPAKA_ASSERT_MSG(previous->position < position, "records applied out of ledger order");
    // Never seen before: no alert either way (their entry may predate the system).
    if (entry && previous->inside) {
      std::string explanation = "The " + crossing_text(c, record, ref, position) + " of " +
                                person_key + " follows the admitted entry at " + previous->post +
                                " (" + where(previous->position, previous->last) +
                                ") with no admitted exit in between.";
      alerts.push_back(make_alert(ConflictKind::entry_while_present, position, ref,
                                  {previous->last}, person_key, std::move(explanation)));
    } else if (!entry && !previous->inside) {
      std::string explanation = "The " + crossing_text(c, record, ref, position) + " of " +
                                person_key + " follows the admitted exit at " + previous->post +
                                " (" + where(previous->position, previous->last) +
                                ") with no admitted entry in between.";
      alerts.push_back(make_alert(ConflictKind::exit_while_absent, position, ref, {previous->last},
                                  person_key, std::move(explanation)));
    }
  }
  LedgerPresence presence;
  presence.inside = entry;
  presence.last = ref;
  presence.position = position;
  presence.post = c.post;
  state.put_presence(person_key, presence);
}

void apply_crossing(LedgerStateStore& state, const Crossing& c, const Record& record,
                    const RecordRef& ref, uint64_t position, std::vector<ConflictAlert>& alerts) {
  const std::string doc_key = document_key(c.document.country, c.document.number);
  check_document_report(state, c, doc_key, record, ref, position, alerts);
  if (c.decision != Decision::admitted) return;  // referred or refused: no state changes

  if (c.direction == Direction::entry && known(c.permit_id)) {
    use_permit(state, c, record, ref, position, alerts);
  }
  std::optional<std::string> nid =
      known(c.national_id) ? c.national_id : state.linked_national_id(doc_key);
  const std::string person_key = known(nid) ? national_id_key(*nid) : doc_key;
  move_person(state, c, person_key, record, ref, position, alerts);
}

// Issuance sets the allowance and never resets the uses: a use ordered before the permit counts.
void apply_permit(LedgerStateStore& state, const Permit& p, const Record& record,
                  const RecordRef& ref, uint64_t position, std::vector<ConflictAlert>& alerts) {
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
                              record_date(record) + " (" + where(position, ref) + ") allows " +
                              entries_text(use->entries_allowed) + ", but " +
                              std::to_string(use->entries_used) +
                              " admitted entries using it come earlier in ledger order: " +
                              uses_text(use->uses, use->entries_used) + ".";
    alerts.push_back(make_alert(ConflictKind::single_entry_permit_reused, position, ref, use->uses,
                                p.permit_id, std::move(explanation)));
  }
  state.put_permit_use(p.permit_id, *use);
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

}  // namespace

std::vector<ConflictAlert> apply_in_ledger_order(LedgerStateStore& state, const Record& record,
                                                 const RecordRef& ref, uint64_t position) {
  UMUPAKA_ASSERT(!ref.origin.empty());
  UMUPAKA_ASSERT(ref.seq > 0);
  std::vector<ConflictAlert> alerts;
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, Crossing>) {
          apply_crossing(state, body, record, ref, position, alerts);
        } else if constexpr (std::is_same_v<T, Permit>) {
          apply_permit(state, body, record, ref, position, alerts);
        } else if constexpr (std::is_same_v<T, DocumentStatusChange>) {
          apply_document_status(state, body, ref, position);
        } else if constexpr (std::is_same_v<T, TravelDocumentIssued>) {
          apply_travel_document(state, body);
        } else {
          // Permit status changes (revoke, cancel, extend), watchlist alerts and their lifts are
          // checked at the post against the views; membership records shape the network.
          static_assert(std::is_same_v<T, PermitStatusChange> || std::is_same_v<T, Alert> ||
                        std::is_same_v<T, AlertLift> || std::is_same_v<T, Genesis> ||
                        std::is_same_v<T, SiteCertified> || std::is_same_v<T, SiteRevoked>);
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

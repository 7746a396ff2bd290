#include "ledger/views.hpp"

#include <type_traits>

#include "ledger/assert.hpp"
#include "ledger/countries.hpp"
#include "ledger/limits.hpp"

namespace umupaka {
namespace {

// An optional identifier counts as known only when it holds text.
bool known(const std::optional<std::string>& id) { return id.has_value() && !id->empty(); }

// The national ID that ties `document` to a person: the one given with the record, else the one
// an issuance record linked to the document.
std::optional<std::string> linked_national_id(const ViewReader& views, const DocumentRef& document,
                                              const std::optional<std::string>& national_id) {
  if (known(national_id)) return national_id;
  const std::optional<DocumentView> doc = views.document(document.country, document.number);
  if (doc && known(doc->national_id)) return doc->national_id;
  return std::nullopt;
}

// Indexes `ref` under the document's key and, when one is known, the national ID's key.
void index_person_record(ViewStore& views, std::string_view country, std::string_view number,
                         const std::optional<std::string>& national_id, const RecordRef& ref) {
  views.index_traveller_record(document_key(country, number), ref);
  if (known(national_id)) views.index_traveller_record(national_id_key(*national_id), ref);
}

void apply_crossing(ViewStore& views, const Crossing& c, const RecordHeader& header,
                    const RecordRef& ref) {
  const std::optional<std::string> nid = linked_national_id(views, c.document, c.national_id);
  index_person_record(views, c.document.country, c.document.number, nid, ref);
  if (c.decision != Decision::admitted) return;  // refused or referred: history only

  PresenceView presence;
  presence.inside = c.direction == Direction::entry;
  presence.since = date_of_instant_ms(header.hlc.physical_ms());
  presence.post = c.post;
  presence.last_crossing = ref;
  presence.permit_id = c.permit_id;
  presence.nationality = c.traveller.nationality;
  views.put_presence(presence_key(views, c.document, c.national_id), presence);

  if (c.direction == Direction::entry && known(c.permit_id)) {
    std::optional<PermitView> permit = views.permit(*c.permit_id);
    if (permit) {
      permit->entries_used += 1;
      views.put_permit(*permit);
    }
  }
}

void apply_permit(ViewStore& views, const Permit& p, const RecordRef& ref) {
  // Permit ids are unique by construction (site-prefixed). A second issuance under an id already
  // held is kept in the feed and the traveller index but does not replace the permit in force
  // (which would reset its entry count).
  if (!views.permit(p.permit_id)) {
    PermitView view;
    view.permit = p;
    view.issued_record = ref;
    view.state = PermitState::valid;
    view.valid_until = p.valid_until;
    views.put_permit(view);
  }
  const std::string doc_key = document_key(p.document.country, p.document.number);
  views.index_permit(doc_key, p.permit_id);
  if (known(p.national_id)) views.index_permit(national_id_key(*p.national_id), p.permit_id);
  index_person_record(views, p.document.country, p.document.number, p.national_id, ref);
}

void apply_permit_status(ViewStore& views, const PermitStatusChange& change, const RecordRef& ref) {
  std::optional<PermitView> view = views.permit(change.permit_id);
  if (!view) return;  // unknown here: the record stays in the feed, the views are unchanged
  switch (change.action) {
    case PermitAction::revoke:
      view->state = PermitState::revoked;
      break;
    case PermitAction::cancel:
      view->state = PermitState::cancelled;
      break;
    case PermitAction::extend:
      // Validation requires the new date; a record without it changes no date.
      if (change.valid_until) view->valid_until = *change.valid_until;
      break;
  }
  view->status_records.push_back(ref);
  if (view->status_records.size() > limits::permit_status_records_kept)
    view->status_records.erase(view->status_records.begin(),
                               view->status_records.end() - limits::permit_status_records_kept);
  views.put_permit(*view);
  const Permit& p = view->permit;
  index_person_record(views, p.document.country, p.document.number, p.national_id, ref);
}

void apply_travel_document(ViewStore& views, const TravelDocumentIssued& t, const RecordRef& ref) {
  std::optional<DocumentView> existing = views.document(t.document.country, t.document.number);
  DocumentView view = existing ? *existing : DocumentView{};
  view.country = std::string(normalize_state_code(t.document.country));
  view.number = t.document.number;
  view.kind = t.document.kind;
  if (!t.national_id.empty()) view.national_id = t.national_id;
  view.expiry = t.document.expiry;
  view.issued_record = ref;
  views.put_document(view);
  index_person_record(views, t.document.country, t.document.number, view.national_id, ref);
}

void apply_document_status(ViewStore& views, const DocumentStatusChange& change,
                           const RecordRef& ref) {
  std::optional<DocumentView> existing = views.document(change.country, change.number);
  DocumentView view = existing ? *existing : DocumentView{};
  view.country = std::string(normalize_state_code(change.country));
  view.number = change.number;
  view.status = change.status;
  view.status_record = ref;
  views.put_document(view);
  index_person_record(views, change.country, change.number, view.national_id, ref);
}

void apply_alert(ViewStore& views, const Alert& alert, const RecordRef& ref) {
  // Alert ids are unique by construction; a repeated id does not replace (or un-lift) the alert
  // in force. Alerts are deliberately not put in the traveller index: a person's history must not
  // reveal a watchlist entry (a monitor alert is covert).
  if (!views.alert(alert.alert_id)) {
    AlertView view;
    view.alert = alert;
    view.record = ref;
    views.put_alert(view);
  }
  const AlertSubject& s = alert.subject;
  switch (s.kind) {
    case AlertSubjectKind::document:
      if (known(s.document_country) && known(s.document_number))
        views.index_alert(document_key(*s.document_country, *s.document_number), alert.alert_id);
      break;
    case AlertSubjectKind::national_id:
      if (known(s.national_id)) views.index_alert(national_id_key(*s.national_id), alert.alert_id);
      break;
    case AlertSubjectKind::name:
      views.index_name_alert(s.birth_date.value_or(name_alert_no_birth_date), alert.alert_id);
      break;
  }
}

void apply_alert_lift(ViewStore& views, const AlertLift& lift, const RecordRef& ref) {
  std::optional<AlertView> view = views.alert(lift.alert_id);
  if (!view || view->lifted) return;  // unknown, or already lifted: the first lift stands
  view->lifted = true;
  view->lift_record = ref;
  views.put_alert(*view);
}

}  // namespace

std::string document_key(std::string_view country, std::string_view number) {
  const std::string_view state = normalize_state_code(country);
  std::string key;
  key.reserve(4 + state.size() + 1 + number.size());
  key.append("doc:").append(state).append(":").append(number);
  return key;
}

std::string national_id_key(std::string_view national_id) {
  std::string key("nid:");
  key.append(national_id);
  return key;
}

std::string presence_key(const ViewReader& views, const DocumentRef& document,
                         const std::optional<std::string>& national_id) {
  const std::optional<std::string> nid = linked_national_id(views, document, national_id);
  if (nid) return national_id_key(*nid);
  return document_key(document.country, document.number);
}

void apply_record(ViewStore& views, const Record& record, const RecordRef& ref) {
  UMUPAKA_ASSERT(!ref.origin.empty());
  UMUPAKA_ASSERT(ref.seq > 0);
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, Crossing>) {
          apply_crossing(views, body, record.header, ref);
        } else if constexpr (std::is_same_v<T, Permit>) {
          apply_permit(views, body, ref);
        } else if constexpr (std::is_same_v<T, PermitStatusChange>) {
          apply_permit_status(views, body, ref);
        } else if constexpr (std::is_same_v<T, TravelDocumentIssued>) {
          apply_travel_document(views, body, ref);
        } else if constexpr (std::is_same_v<T, DocumentStatusChange>) {
          apply_document_status(views, body, ref);
        } else if constexpr (std::is_same_v<T, Alert>) {
          apply_alert(views, body, ref);
        } else if constexpr (std::is_same_v<T, AlertLift>) {
          apply_alert_lift(views, body, ref);
        } else {
          // Membership records (Genesis, SiteCertified, SiteRevoked) shape the network
          // (membership.hpp), not the border views.
          static_assert(std::is_same_v<T, Genesis> || std::is_same_v<T, SiteCertified> ||
                        std::is_same_v<T, SiteRevoked>);
        }
      },
      record.body);
}

}  // namespace umupaka

// Views: state derived from records (documents, permits, alerts, presence, the traveller index),
// and the pure logic that applies a record to them. Storage implements ViewStore over LMDB tables;
// tests implement it in memory. Applying the same records in the same order gives the same views
// at every node: apply() reads only the record (its body and header), never a clock.
#pragma once

#include <climits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/records.hpp"

namespace umupaka {

// Where a record lives: its origin's feed and position.
struct RecordRef {
  std::string origin;
  uint64_t seq = 0;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("origin", s.origin);
    v("seq", s.seq);
  }
  friend auto operator<=>(const RecordRef&, const RecordRef&) = default;
};

// The keys that tie records to one person. A person is known by each document they show
// ("doc:RWA:PC1234567") and, where known, by their 16-digit national ID ("nid:1199…").
std::string document_key(std::string_view country, std::string_view number);
std::string national_id_key(std::string_view national_id);

struct DocumentView {
  std::string country;
  std::string number;
  std::optional<DocumentKind> kind;        // set once issued or seen
  std::optional<std::string> national_id;  // linked by an issuance record
  std::optional<Date> expiry;
  std::optional<DocumentStatus> status;  // lost/stolen/revoked; nullopt = no report
  std::optional<RecordRef> status_record;
  std::optional<RecordRef> issued_record;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("country", s.country);
    v("number", s.number);
    v("kind", s.kind);
    v("national_id", s.national_id);
    v("expiry", s.expiry);
    v("status", s.status);
    v("status_record", s.status_record);
    v("issued_record", s.issued_record);
  }
};

enum class PermitState : uint8_t { valid, revoked, cancelled };
UMUPAKA_ENUM_NAMES(PermitState, "valid", "revoked", "cancelled");

struct PermitView {
  Permit permit;  // as issued
  RecordRef issued_record;
  PermitState state = PermitState::valid;
  Date valid_until;                       // as issued or extended
  uint32_t entries_used = 0;              // admitted entries that used this permit
  std::vector<RecordRef> status_records;  // the most recent limits::permit_status_records_kept
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("permit", s.permit);
    v("issued_record", s.issued_record);
    v("state", s.state);
    v("valid_until", s.valid_until);
    v("entries_used", s.entries_used);
    v("status_records", s.status_records);
  }
};

struct AlertView {
  Alert alert;
  RecordRef record;
  bool lifted = false;
  std::optional<RecordRef> lift_record;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("alert", s.alert);
    v("record", s.record);
    v("lifted", s.lifted);
    v("lift_record", s.lift_record);
  }
};

// Whether a person is in the country, by the last admitted crossing.
struct PresenceView {
  bool inside = false;
  Date since;  // date of the last admitted crossing (origin's clock)
  std::string post;
  RecordRef last_crossing;
  std::optional<std::string> permit_id;  // permit used at the last admitted entry
  std::string nationality;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("inside", s.inside);
    v("since", s.since);
    v("post", s.post);
    v("last_crossing", s.last_crossing);
    v("permit_id", s.permit_id);
    v("nationality", s.nationality);
  }
};

// The birth date under which name alerts whose subject gives no birth date are indexed
// (index_name_alert / name_alerts_born). No traveller is born on it; the checks compare the
// alerts kept under it with every traveller by name alone.
inline constexpr Date name_alert_no_birth_date{INT32_MIN};

// Read side of the views, as the checks and queries need it. Lists are returned in key order.
class ViewReader {
 public:
  virtual ~ViewReader() = default;
  virtual std::optional<DocumentView> document(std::string_view country,
                                               std::string_view number) const = 0;
  virtual std::optional<PermitView> permit(std::string_view permit_id) const = 0;
  // Permits indexed under a person key (document_key or national_id_key).
  virtual std::vector<std::string> permits_of(std::string_view person_key) const = 0;
  virtual std::optional<AlertView> alert(std::string_view alert_id) const = 0;
  // Alert ids indexed under a person key, or under a birth date for name alerts.
  virtual std::vector<std::string> alerts_of(std::string_view person_key) const = 0;
  virtual std::vector<std::string> name_alerts_born(Date birth_date) const = 0;
  virtual std::optional<PresenceView> presence(std::string_view person_key) const = 0;
};

// Write side, used only by apply_record inside one storage transaction.
class ViewStore : public ViewReader {
 public:
  virtual void put_document(const DocumentView& view) = 0;
  virtual void put_permit(const PermitView& view) = 0;
  virtual void index_permit(std::string_view person_key, std::string_view permit_id) = 0;
  virtual void put_alert(const AlertView& view) = 0;
  virtual void index_alert(std::string_view person_key, std::string_view alert_id) = 0;
  virtual void index_name_alert(Date birth_date, std::string_view alert_id) = 0;
  virtual void put_presence(std::string_view person_key, const PresenceView& view) = 0;
  virtual void index_traveller_record(std::string_view person_key, const RecordRef& ref) = 0;
};

// The key under which a person's presence is kept: the national ID's key where the crossing or a
// document issuance links one, else the document's key.
std::string presence_key(const ViewReader& views, const DocumentRef& document,
                         const std::optional<std::string>& national_id);

// Applies one stored record to the views. Deterministic in (views, record). Records that refer
// to what the views do not hold (a status change for an unknown permit, say) change nothing but
// the traveller index; they stay in the feed.
void apply_record(ViewStore& views, const Record& record, const RecordRef& ref);

}  // namespace umupaka

// What officers and administrators ask a node to do: the API's request bodies, as plain structs
// with visit() (the JSON mapping walks them; unknown fields are rejected there). Optional fields
// are optional in JSON; every other field is required. The officer is never taken from a request:
// it is the authenticated token's subject.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ledger/records.hpp"

namespace umupaka {

// POST /v1/crossings and POST /v1/checks. Either `mrz` (the lines read from the document) or
// `traveller` and `document` (typed by the officer).
struct CrossingRequest {
  Direction direction = Direction::entry;
  std::optional<std::string> post;  // default: this node's site
  std::optional<TravelMode> mode;   // default: air at an airport, road elsewhere
  std::optional<std::vector<std::string>> mrz;
  std::optional<Person> traveller;
  std::optional<DocumentRef> document;
  std::optional<std::string> national_id;
  std::optional<std::string> permit_id;
  std::optional<Decision> decision;  // default: follows the checks' verdict
  std::optional<std::string> note;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("direction", s.direction);
    v("post", s.post);
    v("mode", s.mode);
    v("mrz", s.mrz);
    v("traveller", s.traveller);
    v("document", s.document);
    v("national_id", s.national_id);
    v("permit_id", s.permit_id);
    v("decision", s.decision);
    v("note", s.note);
  }
};

// POST /v1/permits
struct PermitRequest {
  std::optional<std::string> permit_id;  // default: "<site>-<seq>"
  PermitKind kind = PermitKind::visa_on_arrival;
  Person holder;
  DocumentRef document;
  std::optional<std::string> national_id;
  std::optional<Date> valid_from;           // default: today
  std::optional<Date> valid_until;          // default: by kind (visa on arrival: 30 days)
  std::optional<uint32_t> entries_allowed;  // default: 1 for single-entry kinds, else unlimited (0)
  std::optional<uint32_t> stay_days_max;    // default: by kind
  std::optional<std::string> note;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("permit_id", s.permit_id);
    v("kind", s.kind);
    v("holder", s.holder);
    v("document", s.document);
    v("national_id", s.national_id);
    v("valid_from", s.valid_from);
    v("valid_until", s.valid_until);
    v("entries_allowed", s.entries_allowed);
    v("stay_days_max", s.stay_days_max);
    v("note", s.note);
  }
};

// POST /v1/permits/{id}/status
struct PermitStatusRequest {
  std::string permit_id;  // from the path
  PermitAction action = PermitAction::revoke;
  std::optional<Date> valid_until;
  std::string reason;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("action", s.action);
    v("valid_until", s.valid_until);
    v("reason", s.reason);
  }
};

// POST /v1/travel-documents
struct TravelDocumentRequest {
  DocumentRef document;
  Person holder;
  std::string national_id;
  std::optional<Date> issued_on;  // default: today
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("document", s.document);
    v("holder", s.holder);
    v("national_id", s.national_id);
    v("issued_on", s.issued_on);
  }
};

// POST /v1/travel-documents/{country}/{number}/status
struct DocumentStatusRequest {
  std::string country;  // from the path
  std::string number;   // from the path
  DocumentStatus status = DocumentStatus::lost;
  std::optional<std::string> reason;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("status", s.status);
    v("reason", s.reason);
  }
};

// POST /v1/alerts
struct AlertRequest {
  std::optional<std::string> alert_id;  // default: "<site>-<seq>"
  AlertSubject subject;
  std::string category;
  AlertAction action = AlertAction::refer;
  std::optional<std::string> reason;
  std::optional<Date> expires_on;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("alert_id", s.alert_id);
    v("subject", s.subject);
    v("category", s.category);
    v("action", s.action);
    v("reason", s.reason);
    v("expires_on", s.expires_on);
  }
};

// DELETE /v1/alerts/{id}
struct AlertLiftRequest {
  std::string alert_id;  // from the path
  std::optional<std::string> reason;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("reason", s.reason);
  }
};

using CommandBody =
    std::variant<CrossingRequest, PermitRequest, PermitStatusRequest, TravelDocumentRequest,
                 DocumentStatusRequest, AlertRequest, AlertLiftRequest>;

// An officer's Idempotency-Key (docs/api.md, "Retries"): a retry of a write whose answer was lost
// carries the same key and gets the first answer again instead of a second record.
struct IdempotencyKey {
  std::string key;  // as the client sent it: 1 to limits::idempotency_key_bytes_max printable ASCII
  Hash fingerprint;  // of the request (method, path, body): the same key on another is refused
};

struct Command {
  CommandBody body;
  std::string officer;  // the token's subject
  std::optional<IdempotencyKey> idempotency;
};

}  // namespace umupaka

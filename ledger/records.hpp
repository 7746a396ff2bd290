// The border domain's records: immutable, signed facts. Each body type lists its fields once, in
// a static visit(self, visitor) that the canonical msgpack codec (codec.hpp) and the JSON mapping
// (node/json.hpp) both walk; field order is the encoding order and must never change within a
// record version. Field names are the JSON names of the public API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ledger/date.hpp"
#include "ledger/enum_names.hpp"
#include "ledger/hlc.hpp"
#include "ledger/ids.hpp"

namespace umupaka {

// The kinds of site that run a node.
enum class SiteKind : uint8_t { hq, border_post, airport, embassy };
UMUPAKA_ENUM_NAMES(SiteKind, "hq", "border-post", "airport", "embassy");

enum class Direction : uint8_t { entry, exit };
UMUPAKA_ENUM_NAMES(Direction, "entry", "exit");

// How the traveller crossed. `road` is any vehicle (car, bus, truck); `pedestrian` on foot or
// bicycle (most Rubavu border residents); `water` Lake Kivu; `air` an airport.
enum class TravelMode : uint8_t { air, road, pedestrian, water };
UMUPAKA_ENUM_NAMES(TravelMode, "air", "road", "pedestrian", "water");

enum class Sex : uint8_t { female, male, unspecified };
UMUPAKA_ENUM_NAMES(Sex, "F", "M", "X");

enum class DocumentKind : uint8_t {
  passport,
  national_id_card,
  laissez_passer,
  border_pass,  // EAC/CEPGL border residents' pass
  refugee_travel_document,
  other,
};
UMUPAKA_ENUM_NAMES(DocumentKind, "passport", "national_id_card", "laissez_passer", "border_pass",
                   "refugee_travel_document", "other");

// A check's outcome and the officer's decision.
enum class Verdict : uint8_t { clear, refer, deny };
UMUPAKA_ENUM_NAMES(Verdict, "clear", "refer", "deny");
enum class Decision : uint8_t { admitted, referred, refused };
UMUPAKA_ENUM_NAMES(Decision, "admitted", "referred", "refused");

enum class PermitKind : uint8_t {
  visa_on_arrival,
  single_entry_visa,
  multiple_entry_visa,
  east_africa_tourist_visa,
  residence,
  work,
};
UMUPAKA_ENUM_NAMES(PermitKind, "visa_on_arrival", "single_entry_visa", "multiple_entry_visa",
                   "east_africa_tourist_visa", "residence", "work");

enum class PermitAction : uint8_t { revoke, cancel, extend };
UMUPAKA_ENUM_NAMES(PermitAction, "revoke", "cancel", "extend");

enum class DocumentStatus : uint8_t { lost, stolen, revoked };
UMUPAKA_ENUM_NAMES(DocumentStatus, "lost", "stolen", "revoked");

enum class AlertSubjectKind : uint8_t { document, national_id, name };
UMUPAKA_ENUM_NAMES(AlertSubjectKind, "document", "national_id", "name");

enum class AlertAction : uint8_t { deny, refer, monitor };
UMUPAKA_ENUM_NAMES(AlertAction, "deny", "refer", "monitor");

// --- Building blocks -------------------------------------------------------------------------

// A person as written in their document.
struct Person {
  std::string surname;
  std::string given_names;
  std::string nationality;  // ISO 3166-1 alpha-3 or ICAO code
  std::optional<Date> birth_date;
  Sex sex = Sex::unspecified;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("surname", s.surname);
    v("given_names", s.given_names);
    v("nationality", s.nationality);
    v("birth_date", s.birth_date);
    v("sex", s.sex);
  }
  friend bool operator==(const Person&, const Person&) = default;
};

// A travel document as presented or issued.
struct DocumentRef {
  DocumentKind kind = DocumentKind::passport;
  std::string country;  // issuing state
  std::string number;
  std::optional<Date> expiry;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("kind", s.kind);
    v("country", s.country);
    v("number", s.number);
    v("expiry", s.expiry);
  }
  friend bool operator==(const DocumentRef&, const DocumentRef&) = default;
};

// One check's finding at a crossing, as shown to the officer and kept with the crossing.
struct Finding {
  std::string check;  // "document_status", "alert", "permit", "presence", "overstay", ...
  Verdict verdict = Verdict::clear;
  std::string reason;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("check", s.check);
    v("verdict", s.verdict);
    v("reason", s.reason);
  }
  friend bool operator==(const Finding&, const Finding&) = default;
};

// --- Record bodies ---------------------------------------------------------------------------

// A person crossed (or was refused at) a post. `verdict` and `findings` are what the checks said
// at the post; `decision` is the officer's.
struct Crossing {
  Direction direction = Direction::entry;
  std::string post;  // site id of the post
  TravelMode mode = TravelMode::road;
  Person traveller;
  DocumentRef document;
  std::optional<std::string> national_id;  // 16 digits, where the traveller has one
  std::optional<std::string> permit_id;    // the permit presented or used, if any
  std::string officer;
  Verdict verdict = Verdict::clear;
  std::vector<Finding> findings;
  Decision decision = Decision::admitted;
  std::string note;  // the officer's own words; required to admit against a deny
  bool from_mrz = false;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("direction", s.direction);
    v("post", s.post);
    v("mode", s.mode);
    v("traveller", s.traveller);
    v("document", s.document);
    v("national_id", s.national_id);
    v("permit_id", s.permit_id);
    v("officer", s.officer);
    v("verdict", s.verdict);
    v("findings", s.findings);
    v("decision", s.decision);
    v("note", s.note);
    v("from_mrz", s.from_mrz);
  }
  friend bool operator==(const Crossing&, const Crossing&) = default;
};

// A visa or permit issued. entries_allowed 0 = unlimited; stay_days_max 0 = until valid_until.
struct Permit {
  std::string permit_id;
  PermitKind kind = PermitKind::visa_on_arrival;
  Person holder;
  DocumentRef document;
  std::optional<std::string> national_id;
  Date valid_from;
  Date valid_until;
  uint32_t entries_allowed = 0;
  uint32_t stay_days_max = 0;
  std::string issuing_site;
  std::string officer;
  std::string note;
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
    v("issuing_site", s.issuing_site);
    v("officer", s.officer);
    v("note", s.note);
  }
  friend bool operator==(const Permit&, const Permit&) = default;
};

// A permit revoked, cancelled or extended (new valid_until, required for extend only).
struct PermitStatusChange {
  std::string permit_id;
  PermitAction action = PermitAction::revoke;
  std::optional<Date> valid_until;
  std::string reason;
  std::string officer;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("permit_id", s.permit_id);
    v("action", s.action);
    v("valid_until", s.valid_until);
    v("reason", s.reason);
    v("officer", s.officer);
  }
  friend bool operator==(const PermitStatusChange&, const PermitStatusChange&) = default;
};

// A passport or laissez-passer issued, linked to the holder's 16-digit national ID.
struct TravelDocumentIssued {
  DocumentRef document;
  Person holder;
  std::string national_id;
  Date issued_on;
  std::string issuing_site;
  std::string officer;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("document", s.document);
    v("holder", s.holder);
    v("national_id", s.national_id);
    v("issued_on", s.issued_on);
    v("issuing_site", s.issuing_site);
    v("officer", s.officer);
  }
  friend bool operator==(const TravelDocumentIssued&, const TravelDocumentIssued&) = default;
};

// A document reported lost or stolen, or revoked by its issuer.
struct DocumentStatusChange {
  std::string country;
  std::string number;
  DocumentStatus status = DocumentStatus::lost;
  std::string reason;
  std::string officer;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("country", s.country);
    v("number", s.number);
    v("status", s.status);
    v("reason", s.reason);
    v("officer", s.officer);
  }
  friend bool operator==(const DocumentStatusChange&, const DocumentStatusChange&) = default;
};

// Who a watchlist alert is about: exactly the fields of its kind are set.
struct AlertSubject {
  AlertSubjectKind kind = AlertSubjectKind::document;
  std::optional<std::string> document_country;  // kind document
  std::optional<std::string> document_number;   // kind document
  std::optional<std::string> national_id;       // kind national_id
  std::optional<std::string> surname;           // kind name
  std::optional<std::string> given_names;       // kind name
  std::optional<Date> birth_date;               // kind name
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("kind", s.kind);
    v("document_country", s.document_country);
    v("document_number", s.document_number);
    v("national_id", s.national_id);
    v("surname", s.surname);
    v("given_names", s.given_names);
    v("birth_date", s.birth_date);
  }
  friend bool operator==(const AlertSubject&, const AlertSubject&) = default;
};

// A watchlist entry.
struct Alert {
  std::string alert_id;
  AlertSubject subject;
  std::string category;  // "wanted", "sltd" (stolen/lost documents), "immigration", ...
  AlertAction action = AlertAction::refer;
  std::string reason;
  std::optional<Date> expires_on;
  std::string officer;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("alert_id", s.alert_id);
    v("subject", s.subject);
    v("category", s.category);
    v("action", s.action);
    v("reason", s.reason);
    v("expires_on", s.expires_on);
    v("officer", s.officer);
  }
  friend bool operator==(const Alert&, const Alert&) = default;
};

struct AlertLift {
  std::string alert_id;
  std::string reason;
  std::string officer;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("alert_id", s.alert_id);
    v("reason", s.reason);
    v("officer", s.officer);
  }
  friend bool operator==(const AlertLift&, const AlertLift&) = default;
};

// --- Membership (records of the "root" feed, signed by the network root key) ------------------

// The origin of root-signed records. Not a valid site id for a node.
inline constexpr const char* root_origin = "root";

// Voters run Raft elections and acknowledge ledger entries; learners receive the ledger.
enum class VoterRole : uint8_t { voter, learner };
UMUPAKA_ENUM_NAMES(VoterRole, "voter", "learner");

// A site certified by HQ: its keys and where its peers reach it.
struct SiteEntry {
  std::string site;
  SiteKind kind = SiteKind::border_post;
  VoterRole role = VoterRole::learner;
  PublicKey signing_key{};    // Ed25519: verifies the site's records
  std::string transport_key;  // Curve25519, Z85 (40 characters): ZeroMQ CURVE
  std::string peer;           // "tcp://host:port" where the site's node accepts peers
  std::string api;            // "http://host:port" of its API (informational)
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("site", s.site);
    v("kind", s.kind);
    v("role", s.role);
    v("signing_key", s.signing_key);
    v("transport_key", s.transport_key);
    v("peer", s.peer);
    v("api", s.api);
  }
  friend bool operator==(const SiteEntry&, const SiteEntry&) = default;
};

// root/1: the network's founding record.
struct Genesis {
  std::string network_id;
  PublicKey root_key{};
  std::vector<SiteEntry> sites;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("network_id", s.network_id);
    v("root_key", s.root_key);
    v("sites", s.sites);
  }
  friend bool operator==(const Genesis&, const Genesis&) = default;
};

// A site joins (or changes role or endpoint, with the same keys).
struct SiteCertified {
  SiteEntry entry;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("entry", s.entry);
  }
  friend bool operator==(const SiteCertified&, const SiteCertified&) = default;
};

// A site is revoked: its records after `seq_cutoff` are rejected everywhere and its transport key
// is refused.
struct SiteRevoked {
  std::string site;
  uint64_t seq_cutoff = 0;
  std::string reason;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("site", s.site);
    v("seq_cutoff", s.seq_cutoff);
    v("reason", s.reason);
  }
  friend bool operator==(const SiteRevoked&, const SiteRevoked&) = default;
};

// The body of a record. The variant index + 1 is the record type on the wire; append new types
// at the end only.
using RecordBody =
    std::variant<Crossing, Permit, PermitStatusChange, TravelDocumentIssued, DocumentStatusChange,
                 Alert, AlertLift, Genesis, SiteCertified, SiteRevoked>;

enum class RecordType : uint8_t {
  crossing = 1,
  permit = 2,
  permit_status = 3,
  travel_document = 4,
  document_status = 5,
  alert = 6,
  alert_lift = 7,
  genesis = 8,
  site_certified = 9,
  site_revoked = 10,
};
inline constexpr uint8_t record_type_max = 10;
static_assert(std::variant_size_v<RecordBody> == record_type_max);

const char* record_type_name(RecordType t);
std::optional<RecordType> record_type_from_name(std::string_view name);
inline RecordType type_of(const RecordBody& b) { return static_cast<RecordType>(b.index() + 1); }

// The envelope's signed header. The signature covers the canonical encoding of header and body.
inline constexpr uint32_t record_version = 1;
struct RecordHeader {
  uint32_t version = record_version;
  std::string network_id;
  OriginId origin;
  Seq seq;
  Hash prev_hash = zero_hash;  // zero for seq 1
  Hlc hlc;
  friend bool operator==(const RecordHeader&, const RecordHeader&) = default;
};

struct Record {
  RecordHeader header;
  RecordBody body;
  friend bool operator==(const Record&, const Record&) = default;
};

// A record as stored and sent: its exact signed bytes, the signature and the hash of the bytes.
struct SignedRecord {
  std::string encoded;  // canonical msgpack of the Record (what the signature covers)
  Signature signature{};
  Hash hash{};  // SHA-256(encoded || signature); the feed's next record links to it
};

}  // namespace umupaka

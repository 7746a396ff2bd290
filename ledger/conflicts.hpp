// Conflict detection in ledger order (DESIGN.md §2–3).
//
// Posts record crossings and issue permits independently, even offline, so two records may
// contradict each other: a single-entry visa used at Gatuna and at Rusumo during a partition, a
// second entry with no exit in between, a crossing on a passport reported stolen elsewhere. Both
// records stay in the ledger; nothing is dropped. Once Raft has fixed the global order, applying
// the records in that order raises *conflict alerts* for HQ, the same at every node.
//
// The state read and written here is the ledger's own (LedgerStateStore): it is derived from
// committed records in global order only, never from the provisional views each node keeps for
// the checks at accept time (views.hpp), which see records in arrival order.
//
// Rules (only *admitted* crossings change presence or use permits; referred and refused crossings
// change no state at all):
//   - Permit issued: its allowance is set (uses recorded before it in ledger order are kept).
//     An admitted entry with a permit id uses the permit; the use that exceeds a limited
//     allowance raises single_entry_permit_reused, related = the earlier uses.
//   - Presence, per person key (national ID where the crossing gives one or a TravelDocumentIssued
//     links the document to one, else the document): an admitted entry while inside raises
//     entry_while_present, an admitted exit while outside raises exit_while_absent (never for a
//     person without an earlier admitted crossing: their entry may predate the system); related
//     = the last admitted crossing.
//   - A crossing of any decision on a document reported lost/stolen/revoked EARLIER in ledger
//     order raises crossing_on_reported_document, related = the report. A report later in ledger
//     order than a crossing raises nothing for it: the order decides.
//
// Time (the rules that depend on "when": permit_expired, overstay). Every record is taken to have
// happened at its *ledger time* (ledger_time_ms): its origin's HLC, bounded above by the cluster
// time of the committing entry, which the Raft leader stamped from its clock and which is
// replicated with the entry; no node's own clock is ever read. A record's claimed time cannot be
// later than the entry that covers it, so an HLC beyond the cluster time comes from a post whose
// clock runs ahead, and the cluster time is used instead. An HLC earlier than the cluster time
// stands: posts record crossings offline and the ledger orders them later. Dates are UTC days of
// these instants, as at the post (checks.hpp).
//   - An admitted entry using a permit whose terms are known in ledger order (its issuance, with
//     extensions, comes earlier; an extension ordered before the issuance counts once the
//     issuance is applied) raises permit_expired when the entry's ledger date is after the
//     permit's valid_until; related = the issuance (and the last extension). A use ordered before
//     its issuance is not judged (no terms yet); revocation and cancellation are not expiry.
//   - An admitted exit of a non-citizen whose last admitted crossing in ledger order is an entry
//     raises overstay when the exit's ledger date is after the last day of the stay allowed from
//     that entry's ledger date (allowed_stay in checks.hpp: the permit used at the entry, with
//     extensions ordered before the exit, or the nationality's allowance); related = the entry.
//     An entry under a permit whose issuance is not yet in the ledger is not judged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/enum_names.hpp"
#include "ledger/records.hpp"
#include "ledger/views.hpp"

namespace umupaka {

enum class ConflictKind : uint8_t {
  single_entry_permit_reused,     // a limited permit used for more entries than it allows
  entry_while_present,            // an admitted entry with no admitted exit since the last entry
  crossing_on_reported_document,  // a crossing on a document reported before it in ledger order
  exit_while_absent,              // an admitted exit with no admitted entry since the last exit
  permit_expired,                 // an admitted entry on a permit past its valid_until
  overstay,                       // an admitted exit after the last day of the allowed stay
  forked_feed,  // an origin signed two different records at one seq (equivocation): raised once
                // per origin, when the leader's evidence is committed (ledger_entry.hpp)
  permit_not_yet_valid,  // an admitted entry on a permit before its valid_from
  revoked_site_record,   // a record of a revoked site past its cut-off: ordered after the
                         // revocation, void (evidence only); ordered before it, it stands and
                         // the revocation names it
};
UMUPAKA_ENUM_NAMES(ConflictKind, "single_entry_permit_reused", "entry_while_present",
                   "crossing_on_reported_document", "exit_while_absent", "permit_expired",
                   "overstay", "forked_feed", "permit_not_yet_valid", "revoked_site_record");

// A conflict alert for HQ. Derived data: the same records in the same ledger order give the same
// alerts, field for field, at every node.
struct ConflictAlert {
  ConflictKind kind = ConflictKind::single_entry_permit_reused;
  uint64_t position = 0;           // global position of the record that raised it
  RecordRef record;                // that record
  std::vector<RecordRef> related;  // the earlier record(s) it conflicts with, in ledger order
  std::string subject;             // person key, document key (views.hpp), permit id, or the
                                   // site (forked_feed, revoked_site_record)
  std::string explanation;         // one sentence for HQ: posts, dates, ledger positions
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("kind", s.kind);
    v("position", s.position);
    v("record", s.record);
    v("related", s.related);
    v("subject", s.subject);
    v("explanation", s.explanation);
  }
  friend bool operator==(const ConflictAlert&, const ConflictAlert&) = default;
};

// --- The ledger's deterministic state ---------------------------------------------------------

// Where a person is, by their last admitted crossing in ledger order.
struct LedgerPresence {
  bool inside = false;
  RecordRef last;                        // the last admitted crossing
  uint64_t position = 0;                 // its global position
  std::string post;                      // its post
  uint64_t time_ms = 0;                  // its ledger time (ledger_time_ms)
  std::optional<std::string> permit_id;  // the permit it used, if an entry named one
  std::string nationality;               // the traveller's, as normalize_state_code gives it
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("inside", s.inside);
    v("last", s.last);
    v("position", s.position);
    v("post", s.post);
    v("time_ms", s.time_ms);
    v("permit_id", s.permit_id);
    v("nationality", s.nationality);
  }
  friend bool operator==(const LedgerPresence&, const LedgerPresence&) = default;
};

// The uses of one permit (admitted entries naming it), in ledger order.
// entries_allowed: 0 = unlimited, or no issuance applied yet (uses may precede the permit in
// ledger order: a post that saw the permit can be ordered before the embassy that issued it).
// entries_used counts every use; `uses` keeps the first ledger_permit_uses_kept_max of them.
struct LedgerPermitUse {
  uint32_t entries_allowed = 0;
  uint32_t entries_used = 0;
  std::vector<RecordRef> uses;
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("entries_allowed", s.entries_allowed);
    v("entries_used", s.entries_used);
    v("uses", s.uses);
  }
  friend bool operator==(const LedgerPermitUse&, const LedgerPermitUse&) = default;
};

// A permit's terms as the ledger knows them: its latest issuance in ledger order, with the
// extensions ordered after it (and those ordered before its first issuance). Revocation and
// cancellation do not change them. Before any issuance, an extension is kept as pending terms:
// `issued` empty (no origin), `position` and `extended` the extension's, `valid_until` its date;
// nothing is judged by them (pending()).
struct LedgerPermitTerms {
  PermitKind kind = PermitKind::visa_on_arrival;
  uint32_t stay_days_max = 0;         // 0 = until valid_until
  Date valid_until;                   // as issued or extended
  RecordRef issued;                   // the Permit record
  uint64_t position = 0;              // its global position
  std::optional<RecordRef> extended;  // the last extension applied, if any
  Date valid_from;                    // as issued
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("kind", s.kind);
    v("stay_days_max", s.stay_days_max);
    v("valid_until", s.valid_until);
    v("issued", s.issued);
    v("position", s.position);
    v("extended", s.extended);
    v("valid_from", s.valid_from);
  }
  friend bool operator==(const LedgerPermitTerms&, const LedgerPermitTerms&) = default;
  bool pending() const { return issued.origin.empty(); }
};

// The latest report (lost, stolen, revoked) on a document, in ledger order.
struct LedgerDocumentReport {
  DocumentStatus status = DocumentStatus::lost;
  RecordRef record;       // the DocumentStatusChange
  uint64_t position = 0;  // its global position
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("status", s.status);
    v("record", s.record);
    v("position", s.position);
  }
  friend bool operator==(const LedgerDocumentReport&, const LedgerDocumentReport&) = default;
};

// A site's revocation as the ledger knows it: the SiteRevoked record, its position and the last
// seq of the site's feed that stays valid.
struct LedgerRevocation {
  uint64_t cutoff = 0;
  RecordRef record;       // the SiteRevoked (a root record)
  uint64_t position = 0;  // its global position
  template <typename S, typename V>
  static void visit(S& s, V& v) {
    v("cutoff", s.cutoff);
    v("record", s.record);
    v("position", s.position);
  }
  friend bool operator==(const LedgerRevocation&, const LedgerRevocation&) = default;
};

// Uses of a permit kept by record reference. The state is rewritten at each use, and a
// residence or work permit (unlimited) of a border resident is used daily, so the list is
// bounded; entries_used still counts every use, and a limited permit's allowance is far below
// this (single entry, a handful for a multiple-entry visa), so its alerts name all earlier uses.
inline constexpr size_t ledger_permit_uses_kept_max = 32;

// How many records past its cut-off that stand a revocation's alert names (the rest are counted).
inline constexpr size_t ledger_revoked_records_named_max = 32;

// Storage of the ledger state: LMDB tables in storage/, maps in tests. Keys are person keys and
// document keys (views.hpp) and permit ids. Every call happens inside the one storage
// transaction that applies a record; implementations do not fail (a storage error aborts that
// transaction in storage/, outside this interface). Single-threaded.
class LedgerStateStore {
 public:
  virtual ~LedgerStateStore() = default;
  virtual std::optional<LedgerPresence> presence(std::string_view person_key) const = 0;
  virtual void put_presence(std::string_view person_key, const LedgerPresence& presence) = 0;
  virtual std::optional<LedgerPermitUse> permit_use(std::string_view permit_id) const = 0;
  virtual void put_permit_use(std::string_view permit_id, const LedgerPermitUse& use) = 0;
  virtual std::optional<LedgerPermitTerms> permit_terms(std::string_view permit_id) const = 0;
  virtual void put_permit_terms(std::string_view permit_id, const LedgerPermitTerms& terms) = 0;
  virtual std::optional<LedgerDocumentReport> document_report(
      std::string_view document_key) const = 0;
  virtual void put_document_report(std::string_view document_key,
                                   const LedgerDocumentReport& report) = 0;
  // The national ID a TravelDocumentIssued linked to the document (the latest in ledger order).
  virtual std::optional<std::string> linked_national_id(std::string_view document_key) const = 0;
  virtual void link_national_id(std::string_view document_key, std::string_view national_id) = 0;
  // The global position of record (origin, seq), if the ledger holds it (positions are written
  // before the record at that position is applied).
  virtual std::optional<uint64_t> position_of(std::string_view origin, uint64_t seq) const = 0;
  // A site's revocation, once the ledger applied it (keyed by site id).
  virtual std::optional<LedgerRevocation> revocation(std::string_view site) const = 0;
  virtual void put_revocation(std::string_view site, const LedgerRevocation& revocation) = 0;
};

// How far a record's HLC may run ahead of the cluster time before an explanation says that its
// post's clock was ahead. Wording only: the ledger time is the bound itself (ledger_time_ms).
inline constexpr uint64_t ledger_clock_ahead_note_ms = 5 * 60 * 1000;

// A record's ledger time: the physical milliseconds of its HLC, or `cluster_time_ms` if that is
// earlier (see "Time" above). cluster_time_ms 0 means no cluster time is known: the HLC stands.
uint64_t ledger_time_ms(const Record& record, uint64_t cluster_time_ms);

// Applies one committed record at global `position` to the ledger state and returns the conflict
// alerts it raises (a crossing raises at most one of each kind, in the order
// crossing_on_reported_document, permit_expired, single_entry_permit_reused, then
// entry_while_present, or exit_while_absent or overstay). `cluster_time_ms` is the cluster time
// of the ledger entry that commits the record (as node/ledger_apply.hpp gives it).
//
// Preconditions (asserted): records are applied strictly in increasing position, each once;
// `ref` names the record (non-empty origin, seq > 0). Deterministic in (state, record, ref,
// position, cluster_time_ms): reads no clock; dates in explanations are ledger times.
//
// Beyond the rules above: an issuance never resets a permit's uses, so uses ordered before it
// count against its allowance, and an issuance that finds more uses than it allows raises
// single_entry_permit_reused itself (record = the permit). The first link of a document to a
// national ID carries the presence kept under the document key over to the national ID key
// (unless that key holds a later crossing), so a person's presence continues across the link.
// An extension moves the valid_until of a permit whose terms the ledger holds; one of a permit
// not yet issued in ledger order (the extending site's feed ordered before the issuer's) is kept
// as pending terms, judged by nothing, and its valid_until taken by the issuance when it comes
// (the latest such extension in ledger order). Permit revocations and cancellations,
// watchlist alerts and membership records change no ledger state, but for a site's revocation
// (SiteRevoked), which takes effect at its position: a record of that site past the cut-off,
// ordered after it, raises revoked_site_record (related = the revocation) and nothing else; it
// is in the ledger as evidence of the key's use and void for every rule. One ordered before the
// revocation stands: the ledger took it before the revocation (only a leader that had not yet
// heard of the revocation proposes one; docs/ledger.md, "Revocation in ledger order"); the
// revocation then raises revoked_site_record itself, related = those records (the first
// ledger_revoked_records_named_max of them), for HQ to look at.
std::vector<ConflictAlert> apply_in_ledger_order(LedgerStateStore& state, const Record& record,
                                                 const RecordRef& ref, uint64_t position,
                                                 uint64_t cluster_time_ms);

}  // namespace umupaka

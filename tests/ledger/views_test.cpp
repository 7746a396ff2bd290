#include "ledger/views.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "ledger/assert.hpp"
#include "tests/ledger/memory_views.hpp"

namespace umupaka {
namespace {

using test::dump_view;
using test::MemoryViews;

Date day(const char* iso) {
  const std::optional<Date> d = parse_iso_date(iso);
  UMUPAKA_ASSERT(d.has_value());
  return *d;
}

const std::string kNid = "1199080012345678";

Person smith() { return Person{"SMITH", "JOHN", "USA", day("1980-05-01"), Sex::male}; }
DocumentRef smith_passport() {
  return DocumentRef{DocumentKind::passport, "USA", "123456789", day("2031-01-01")};
}
Person uwase() { return Person{"UWASE", "AIMEE", "RWA", day("1992-02-14"), Sex::female}; }
DocumentRef uwase_passport() {
  return DocumentRef{DocumentKind::passport, "RWA", "PC1234567", day("2030-06-30")};
}
DocumentRef uwase_id_card() {
  return DocumentRef{DocumentKind::national_id_card, "RWA", kNid, std::nullopt};
}

Crossing crossing(Direction direction, const Person& who, const DocumentRef& document,
                  std::optional<std::string> national_id = std::nullopt,
                  std::optional<std::string> permit_id = std::nullopt,
                  Decision decision = Decision::admitted, std::string post = "gatuna") {
  Crossing c;
  c.direction = direction;
  c.post = std::move(post);
  c.traveller = who;
  c.document = document;
  c.national_id = std::move(national_id);
  c.permit_id = std::move(permit_id);
  c.officer = "officer-1";
  c.decision = decision;
  c.verdict = decision == Decision::admitted   ? Verdict::clear
              : decision == Decision::referred ? Verdict::refer
                                               : Verdict::deny;
  return c;
}

Permit permit(std::string id, const Person& holder, const DocumentRef& document, Date from,
              Date until, uint32_t entries_allowed = 0, uint32_t stay_days_max = 0,
              std::optional<std::string> national_id = std::nullopt) {
  Permit p;
  p.permit_id = std::move(id);
  p.kind = PermitKind::single_entry_visa;
  p.holder = holder;
  p.document = document;
  p.national_id = std::move(national_id);
  p.valid_from = from;
  p.valid_until = until;
  p.entries_allowed = entries_allowed;
  p.stay_days_max = stay_days_max;
  p.issuing_site = "embassy-nairobi";
  p.officer = "consul-1";
  return p;
}

Alert document_alert(std::string id, std::string country, std::string number) {
  Alert a;
  a.alert_id = std::move(id);
  a.subject.kind = AlertSubjectKind::document;
  a.subject.document_country = std::move(country);
  a.subject.document_number = std::move(number);
  a.category = "sltd";
  a.action = AlertAction::deny;
  a.officer = "hq-1";
  return a;
}

Alert name_alert(std::string id, std::string surname, std::string given, std::optional<Date> born) {
  Alert a;
  a.alert_id = std::move(id);
  a.subject.kind = AlertSubjectKind::name;
  a.subject.surname = std::move(surname);
  a.subject.given_names = std::move(given);
  a.subject.birth_date = born;
  a.category = "wanted";
  a.action = AlertAction::deny;
  a.officer = "hq-1";
  return a;
}

// Builds records with headers as the feeds would stamp them, and applies them.
class ViewsTest : public ::testing::Test {
 protected:
  static Record make(RecordBody body, std::string origin, uint64_t seq, int64_t physical_ms) {
    RecordHeader h;
    h.network_id = "umupaka-test";
    h.origin = OriginId{std::move(origin)};
    h.seq = Seq{seq};
    h.hlc = Hlc::make(physical_ms, 0);
    return Record{std::move(h), std::move(body)};
  }
  // Applies `body` as the next record of `origin`, stamped at 09:00 UTC on `on`.
  RecordRef apply(RecordBody body, Date on = day("2026-03-10"), std::string origin = "gatuna") {
    const uint64_t seq = ++seqs_[origin];
    const RecordRef ref{origin, seq};
    apply_record(views, make(std::move(body), origin, seq, on.days * ms_per_day + 9 * 3'600'000),
                 ref);
    return ref;
  }

  MemoryViews views;

 private:
  std::map<std::string, uint64_t> seqs_;
};

// --- Keys ------------------------------------------------------------------------------------

TEST(ViewKeys, DocumentKeyNormalizesTheMrzCodeForGermany) {
  EXPECT_EQ(document_key("RWA", "PC1234567"), "doc:RWA:PC1234567");
  EXPECT_EQ(document_key("D", "C01X00T47"), "doc:DEU:C01X00T47");
  EXPECT_EQ(document_key("D<<", "C01X00T47"), document_key("DEU", "C01X00T47"));
  EXPECT_EQ(national_id_key(kNid), "nid:" + kNid);
}

TEST_F(ViewsTest, PresenceKeyPrefersTheGivenNationalId) {
  EXPECT_EQ(presence_key(views, uwase_passport(), kNid), national_id_key(kNid));
}

TEST_F(ViewsTest, PresenceKeyUsesTheNationalIdLinkedByIssuance) {
  EXPECT_EQ(presence_key(views, uwase_passport(), std::nullopt), document_key("RWA", "PC1234567"));
  apply(TravelDocumentIssued{uwase_passport(), uwase(), kNid, day("2025-06-30"), "hq", "c-1"});
  EXPECT_EQ(presence_key(views, uwase_passport(), std::nullopt), national_id_key(kNid));
}

TEST_F(ViewsTest, PresenceKeyFallsBackToTheDocument) {
  EXPECT_EQ(presence_key(views, smith_passport(), std::nullopt), "doc:USA:123456789");
  EXPECT_EQ(presence_key(views, smith_passport(), std::string()), "doc:USA:123456789");
}

// --- Crossing --------------------------------------------------------------------------------

TEST_F(ViewsTest, AdmittedEntrySetsPresenceFromTheRecordClock) {
  const RecordRef ref = apply(crossing(Direction::entry, smith(), smith_passport(), std::nullopt,
                                       std::nullopt, Decision::admitted, "rusumo"),
                              day("2026-03-10"));
  const auto presence = views.presence("doc:USA:123456789");
  ASSERT_TRUE(presence.has_value());
  EXPECT_TRUE(presence->inside);
  EXPECT_EQ(presence->since, day("2026-03-10"));
  EXPECT_EQ(presence->post, "rusumo");
  EXPECT_EQ(presence->last_crossing, ref);
  EXPECT_FALSE(presence->permit_id.has_value());
  EXPECT_EQ(presence->nationality, "USA");
  EXPECT_EQ(views.traveller_records("doc:USA:123456789"), std::vector<RecordRef>{ref});
}

TEST_F(ViewsTest, SinceIsTheUtcDateOfTheHlcPhysicalTime) {
  const Date d = day("2026-03-10");
  const int64_t last_ms = int64_t{d.days} * ms_per_day + ms_per_day - 1;  // 23:59:59.999
  apply_record(views,
               make(crossing(Direction::entry, smith(), smith_passport()), "gatuna", 1, last_ms),
               RecordRef{"gatuna", 1});
  EXPECT_EQ(views.presence("doc:USA:123456789")->since, d);
  apply_record(views,
               make(crossing(Direction::exit, smith(), smith_passport()), "gatuna", 2, last_ms + 1),
               RecordRef{"gatuna", 2});
  EXPECT_EQ(views.presence("doc:USA:123456789")->since, day("2026-03-11"));
}

TEST_F(ViewsTest, AdmittedExitMarksThePersonOutside) {
  apply(crossing(Direction::entry, smith(), smith_passport()), day("2026-03-01"));
  const RecordRef exit = apply(crossing(Direction::exit, smith(), smith_passport(), std::nullopt,
                                        std::nullopt, Decision::admitted, "kagitumba"),
                               day("2026-03-12"));
  const auto presence = views.presence("doc:USA:123456789");
  ASSERT_TRUE(presence.has_value());
  EXPECT_FALSE(presence->inside);
  EXPECT_EQ(presence->since, day("2026-03-12"));
  EXPECT_EQ(presence->post, "kagitumba");
  EXPECT_EQ(presence->last_crossing, exit);
  EXPECT_EQ(views.traveller_records("doc:USA:123456789").size(), 2u);
}

TEST_F(ViewsTest, RefusedAndReferredCrossingsOnlyIndexTheRecord) {
  const RecordRef refused = apply(crossing(Direction::entry, smith(), smith_passport(),
                                           std::nullopt, std::nullopt, Decision::refused));
  const RecordRef referred = apply(crossing(Direction::entry, smith(), smith_passport(),
                                            std::nullopt, std::nullopt, Decision::referred));
  EXPECT_FALSE(views.presence("doc:USA:123456789").has_value());
  EXPECT_EQ(views.presence_count(), 0u);
  EXPECT_EQ(views.traveller_records("doc:USA:123456789"),
            (std::vector<RecordRef>{refused, referred}));
}

TEST_F(ViewsTest, CrossingWithNationalIdIsIndexedAndPresentUnderBothKeys) {
  const RecordRef ref = apply(crossing(Direction::entry, uwase(), uwase_passport(), kNid));
  EXPECT_EQ(views.traveller_records("doc:RWA:PC1234567"), std::vector<RecordRef>{ref});
  EXPECT_EQ(views.traveller_records(national_id_key(kNid)), std::vector<RecordRef>{ref});
  EXPECT_TRUE(views.presence(national_id_key(kNid)).has_value());
  EXPECT_FALSE(views.presence("doc:RWA:PC1234567").has_value());
}

TEST_F(ViewsTest, CrossingUsesTheNationalIdLinkedToTheDocument) {
  apply(TravelDocumentIssued{uwase_passport(), uwase(), kNid, day("2025-06-30"), "hq", "c-1"});
  const RecordRef ref = apply(crossing(Direction::entry, uwase(), uwase_passport()));
  EXPECT_TRUE(views.presence(national_id_key(kNid))->inside);
  EXPECT_EQ(views.traveller_records(national_id_key(kNid)).back(), ref);
  // Leaving on the ID card pairs with the entry on the passport.
  apply(crossing(Direction::exit, uwase(), uwase_id_card(), kNid));
  EXPECT_FALSE(views.presence(national_id_key(kNid))->inside);
}

TEST_F(ViewsTest, AdmittedEntryCountsAgainstThePermit) {
  apply(permit("P-1", smith(), smith_passport(), day("2026-01-01"), day("2026-12-31"), 2));
  const RecordRef entry =
      apply(crossing(Direction::entry, smith(), smith_passport(), std::nullopt, "P-1"));
  EXPECT_EQ(views.permit("P-1")->entries_used, 1u);
  EXPECT_EQ(views.presence("doc:USA:123456789")->permit_id, "P-1");
  EXPECT_EQ(views.presence("doc:USA:123456789")->last_crossing, entry);
  // Exits and refused entries use no entry.
  apply(crossing(Direction::exit, smith(), smith_passport(), std::nullopt, "P-1"));
  apply(crossing(Direction::entry, smith(), smith_passport(), std::nullopt, "P-1",
                 Decision::refused));
  EXPECT_EQ(views.permit("P-1")->entries_used, 1u);
  apply(crossing(Direction::entry, smith(), smith_passport(), std::nullopt, "P-1"));
  EXPECT_EQ(views.permit("P-1")->entries_used, 2u);
}

TEST_F(ViewsTest, EntryUnderAnUnknownPermitStillSetsPresence) {
  apply(crossing(Direction::entry, smith(), smith_passport(), std::nullopt, "P-404"));
  EXPECT_FALSE(views.permit("P-404").has_value());
  EXPECT_EQ(views.presence("doc:USA:123456789")->permit_id, "P-404");
}

// --- Permit ----------------------------------------------------------------------------------

TEST_F(ViewsTest, PermitIsStoredValidAndIndexedUnderItsHolder) {
  const RecordRef ref = apply(
      permit("P-1", uwase(), uwase_passport(), day("2026-01-01"), day("2026-06-30"), 1, 30, kNid));
  const auto view = views.permit("P-1");
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->state, PermitState::valid);
  EXPECT_EQ(view->valid_until, day("2026-06-30"));
  EXPECT_EQ(view->issued_record, ref);
  EXPECT_EQ(view->entries_used, 0u);
  EXPECT_TRUE(view->status_records.empty());
  EXPECT_EQ(view->permit.permit_id, "P-1");
  EXPECT_EQ(views.permits_of("doc:RWA:PC1234567"), std::vector<std::string>{"P-1"});
  EXPECT_EQ(views.permits_of(national_id_key(kNid)), std::vector<std::string>{"P-1"});
  EXPECT_EQ(views.traveller_records("doc:RWA:PC1234567"), std::vector<RecordRef>{ref});
  EXPECT_EQ(views.traveller_records(national_id_key(kNid)), std::vector<RecordRef>{ref});
}

TEST_F(ViewsTest, PermitsOfListsInKeyOrder) {
  apply(permit("P-2", smith(), smith_passport(), day("2026-01-01"), day("2026-06-30")));
  apply(permit("P-1", smith(), smith_passport(), day("2026-01-01"), day("2026-06-30")));
  EXPECT_EQ(views.permits_of("doc:USA:123456789"), (std::vector<std::string>{"P-1", "P-2"}));
  EXPECT_TRUE(views.permits_of("nid:0000").empty());
}

TEST_F(ViewsTest, RepeatedPermitIdDoesNotResetThePermitInForce) {
  const RecordRef first =
      apply(permit("P-1", smith(), smith_passport(), day("2026-01-01"), day("2026-06-30"), 1));
  apply(crossing(Direction::entry, smith(), smith_passport(), std::nullopt, "P-1"));
  const RecordRef second =
      apply(permit("P-1", smith(), smith_passport(), day("2026-01-01"), day("2027-06-30"), 1));
  EXPECT_EQ(views.permit("P-1")->issued_record, first);
  EXPECT_EQ(views.permit("P-1")->entries_used, 1u);
  EXPECT_EQ(views.permit("P-1")->valid_until, day("2026-06-30"));
  EXPECT_EQ(views.traveller_records("doc:USA:123456789").back(), second);
}

// --- PermitStatusChange ----------------------------------------------------------------------

TEST_F(ViewsTest, PermitRevokeCancelAndExtend) {
  apply(permit("P-1", smith(), smith_passport(), day("2026-01-01"), day("2026-06-30")));
  apply(permit("P-2", smith(), smith_passport(), day("2026-01-01"), day("2026-06-30")));
  apply(permit("P-3", smith(), smith_passport(), day("2026-01-01"), day("2026-06-30")));
  const RecordRef revoke =
      apply(PermitStatusChange{"P-1", PermitAction::revoke, std::nullopt, "fraud", "hq-1"});
  const RecordRef cancel =
      apply(PermitStatusChange{"P-2", PermitAction::cancel, std::nullopt, "left", "hq-1"});
  const RecordRef extend =
      apply(PermitStatusChange{"P-3", PermitAction::extend, day("2026-09-30"), "study", "hq-1"});

  EXPECT_EQ(views.permit("P-1")->state, PermitState::revoked);
  EXPECT_EQ(views.permit("P-1")->status_records, std::vector<RecordRef>{revoke});
  EXPECT_EQ(views.permit("P-2")->state, PermitState::cancelled);
  EXPECT_EQ(views.permit("P-2")->status_records, std::vector<RecordRef>{cancel});
  EXPECT_EQ(views.permit("P-3")->state, PermitState::valid);
  EXPECT_EQ(views.permit("P-3")->valid_until, day("2026-09-30"));
  EXPECT_EQ(views.permit("P-3")->permit.valid_until, day("2026-06-30"));  // as issued
  EXPECT_EQ(views.permit("P-3")->status_records, std::vector<RecordRef>{extend});

  const auto history = views.traveller_records("doc:USA:123456789");
  ASSERT_EQ(history.size(), 6u);
  EXPECT_EQ(history[3], revoke);
  EXPECT_EQ(history[5], extend);
}

TEST_F(ViewsTest, PermitStatusChangesAccumulate) {
  apply(permit("P-1", uwase(), uwase_passport(), day("2026-01-01"), day("2026-06-30"), 0, 0, kNid));
  const RecordRef a =
      apply(PermitStatusChange{"P-1", PermitAction::extend, day("2026-07-31"), "", "hq-1"});
  const RecordRef b =
      apply(PermitStatusChange{"P-1", PermitAction::revoke, std::nullopt, "", "hq-1"});
  const auto view = views.permit("P-1");
  EXPECT_EQ(view->state, PermitState::revoked);
  EXPECT_EQ(view->valid_until, day("2026-07-31"));
  EXPECT_EQ(view->status_records, (std::vector<RecordRef>{a, b}));
  EXPECT_EQ(views.traveller_records(national_id_key(kNid)).back(), b);
}

TEST_F(ViewsTest, StatusChangeForAnUnknownPermitChangesNothing) {
  apply(permit("P-1", smith(), smith_passport(), day("2026-01-01"), day("2026-06-30")));
  const std::string before = views.dump();
  apply(PermitStatusChange{"P-404", PermitAction::revoke, std::nullopt, "", "hq-1"});
  apply(PermitStatusChange{"P-405", PermitAction::extend, day("2027-01-01"), "", "hq-1"});
  EXPECT_EQ(views.dump(), before);
  EXPECT_FALSE(views.permit("P-404").has_value());
}

// --- TravelDocumentIssued --------------------------------------------------------------------

TEST_F(ViewsTest, TravelDocumentIssuedLinksTheNationalId) {
  const RecordRef ref =
      apply(TravelDocumentIssued{uwase_passport(), uwase(), kNid, day("2025-06-30"), "hq", "c-1"});
  const auto doc = views.document("RWA", "PC1234567");
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(doc->country, "RWA");
  EXPECT_EQ(doc->number, "PC1234567");
  EXPECT_EQ(doc->kind, DocumentKind::passport);
  EXPECT_EQ(doc->national_id, kNid);
  EXPECT_EQ(doc->expiry, day("2030-06-30"));
  EXPECT_EQ(doc->issued_record, ref);
  EXPECT_FALSE(doc->status.has_value());
  EXPECT_EQ(views.traveller_records("doc:RWA:PC1234567"), std::vector<RecordRef>{ref});
  EXPECT_EQ(views.traveller_records(national_id_key(kNid)), std::vector<RecordRef>{ref});
}

TEST_F(ViewsTest, TravelDocumentIssuedKeepsAnEarlierStatusReport) {
  const RecordRef lost =
      apply(DocumentStatusChange{"RWA", "PC1234567", DocumentStatus::lost, "", "hq-1"});
  const RecordRef issued =
      apply(TravelDocumentIssued{uwase_passport(), uwase(), kNid, day("2025-06-30"), "hq", "c-1"});
  const auto doc = views.document("RWA", "PC1234567");
  EXPECT_EQ(doc->status, DocumentStatus::lost);
  EXPECT_EQ(doc->status_record, lost);
  EXPECT_EQ(doc->issued_record, issued);
  EXPECT_EQ(doc->national_id, kNid);
  EXPECT_EQ(views.document_count(), 1u);
}

TEST_F(ViewsTest, DocumentsIssuedWithTheMrzCodeForGermanyAreFoundUnderDeu) {
  const DocumentRef german{DocumentKind::passport, "D", "C01X00T47", day("2030-01-01")};
  apply(TravelDocumentIssued{german, smith(), "", day("2025-01-01"), "hq", "c-1"});
  const auto doc = views.document("DEU", "C01X00T47");
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(doc->country, "DEU");
  EXPECT_FALSE(doc->national_id.has_value());
}

// --- DocumentStatusChange --------------------------------------------------------------------

TEST_F(ViewsTest, DocumentStatusChangeCreatesTheView) {
  const RecordRef ref =
      apply(DocumentStatusChange{"UTO", "L898902C3", DocumentStatus::stolen, "theft", "hq-1"});
  const auto doc = views.document("UTO", "L898902C3");
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(doc->status, DocumentStatus::stolen);
  EXPECT_EQ(doc->status_record, ref);
  EXPECT_FALSE(doc->kind.has_value());
  EXPECT_FALSE(doc->issued_record.has_value());
  EXPECT_EQ(views.traveller_records("doc:UTO:L898902C3"), std::vector<RecordRef>{ref});
}

TEST_F(ViewsTest, DocumentStatusChangeIsIndexedUnderTheLinkedNationalId) {
  apply(TravelDocumentIssued{uwase_passport(), uwase(), kNid, day("2025-06-30"), "hq", "c-1"});
  const RecordRef ref =
      apply(DocumentStatusChange{"RWA", "PC1234567", DocumentStatus::revoked, "", "hq-1"});
  const auto doc = views.document("RWA", "PC1234567");
  EXPECT_EQ(doc->status, DocumentStatus::revoked);
  EXPECT_EQ(doc->kind, DocumentKind::passport);
  EXPECT_EQ(views.traveller_records(national_id_key(kNid)).back(), ref);
}

// --- Alert and AlertLift ---------------------------------------------------------------------

TEST_F(ViewsTest, AlertsAreIndexedByTheirSubject) {
  const RecordRef doc_ref = apply(document_alert("A-1", "UTO", "L898902C3"));
  Alert by_nid;
  by_nid.alert_id = "A-2";
  by_nid.subject.kind = AlertSubjectKind::national_id;
  by_nid.subject.national_id = kNid;
  by_nid.action = AlertAction::refer;
  apply(by_nid);
  apply(name_alert("A-3", "ERICSON", "ANNA", day("1974-08-12")));

  const auto view = views.alert("A-1");
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->record, doc_ref);
  EXPECT_FALSE(view->lifted);
  EXPECT_EQ(view->alert.category, "sltd");
  EXPECT_EQ(views.alerts_of("doc:UTO:L898902C3"), std::vector<std::string>{"A-1"});
  EXPECT_EQ(views.alerts_of(national_id_key(kNid)), std::vector<std::string>{"A-2"});
  EXPECT_EQ(views.name_alerts_born(day("1974-08-12")), std::vector<std::string>{"A-3"});
  // Watchlist entries stay out of a person's history.
  EXPECT_TRUE(views.traveller_records("doc:UTO:L898902C3").empty());
  EXPECT_TRUE(views.traveller_records(national_id_key(kNid)).empty());
}

TEST_F(ViewsTest, NameAlertWithoutBirthDateIsIndexedUnderTheSentinel) {
  apply(name_alert("A-4", "DOE", "JANE", std::nullopt));
  EXPECT_EQ(views.name_alerts_born(name_alert_no_birth_date), std::vector<std::string>{"A-4"});
  EXPECT_EQ(name_alert_no_birth_date.days, INT32_MIN);
}

TEST_F(ViewsTest, AlertLiftMarksTheAlertLiftedOnce) {
  apply(document_alert("A-1", "UTO", "L898902C3"));
  const RecordRef lift = apply(AlertLift{"A-1", "found", "hq-1"});
  apply(AlertLift{"A-1", "again", "hq-2"});
  const auto view = views.alert("A-1");
  EXPECT_TRUE(view->lifted);
  EXPECT_EQ(view->lift_record, lift);
  // Still indexed: the checks skip lifted alerts.
  EXPECT_EQ(views.alerts_of("doc:UTO:L898902C3"), std::vector<std::string>{"A-1"});
}

TEST_F(ViewsTest, LiftOfAnUnknownAlertChangesNothing) {
  const std::string before = views.dump();
  apply(AlertLift{"A-404", "", "hq-1"});
  EXPECT_EQ(views.dump(), before);
  EXPECT_EQ(views.alert_count(), 0u);
}

TEST_F(ViewsTest, RepeatedAlertIdDoesNotUnliftTheAlert) {
  apply(document_alert("A-1", "UTO", "L898902C3"));
  apply(AlertLift{"A-1", "", "hq-1"});
  apply(document_alert("A-1", "UTO", "L898902C3"));
  EXPECT_TRUE(views.alert("A-1")->lifted);
}

// --- Determinism -----------------------------------------------------------------------------

struct Stamped {
  Record record;
  RecordRef ref;
};

// A day of traffic at three sites, every record type included.
std::vector<Stamped> sample_traffic() {
  std::vector<Stamped> out;
  std::map<std::string, uint64_t> seqs;
  const auto add = [&](RecordBody body, const std::string& origin, Date on, int hour) {
    const uint64_t seq = ++seqs[origin];
    RecordHeader h;
    h.network_id = "umupaka-test";
    h.origin = OriginId{origin};
    h.seq = Seq{seq};
    h.hlc = Hlc::make(int64_t{on.days} * ms_per_day + hour * 3'600'000, 0);
    out.push_back(Stamped{Record{h, std::move(body)}, RecordRef{origin, seq}});
  };
  const Date d0 = day("2026-03-01");
  const Date d1 = day("2026-03-02");
  add(permit("P-1", smith(), smith_passport(), d0, day("2026-04-30"), 1, 30), "embassy-nairobi", d0,
      8);
  add(TravelDocumentIssued{uwase_passport(), uwase(), kNid, d0, "hq", "c-1"}, "hq", d0, 9);
  add(document_alert("A-1", "UTO", "L898902C3"), "hq", d0, 10);
  add(name_alert("A-2", "ERICSON", "ANNA", day("1974-08-12")), "hq", d0, 11);
  add(crossing(Direction::entry, smith(), smith_passport(), std::nullopt, "P-1"), "gatuna", d0, 12);
  add(crossing(Direction::entry, uwase(), uwase_passport()), "kigali-airport", d0, 12);
  add(crossing(Direction::entry, smith(), smith_passport(), std::nullopt, "P-1", Decision::admitted,
               "rusumo"),
      "rusumo", d0,
      13);  // the same single-entry visa used at a second post
  add(PermitStatusChange{"P-1", PermitAction::extend, day("2026-05-31"), "", "hq-1"}, "hq", d1, 8);
  add(DocumentStatusChange{"RWA", "PC1234567", DocumentStatus::lost, "", "hq-1"}, "hq", d1, 9);
  add(AlertLift{"A-1", "", "hq-1"}, "hq", d1, 10);
  add(crossing(Direction::exit, uwase(), uwase_id_card(), kNid), "gatuna", d1, 11);
  add(crossing(Direction::exit, smith(), smith_passport(), std::nullopt, std::nullopt,
               Decision::referred),
      "gatuna", d1, 12);
  add(PermitStatusChange{"P-1", PermitAction::revoke, std::nullopt, "", "hq-1"}, "hq", d1, 13);
  return out;
}

// Shuffles as gossip would deliver, then sorts as the ledger orders: (hlc, origin, seq).
std::string apply_in_ledger_order(std::vector<Stamped> records, uint32_t seed) {
  std::mt19937 rng(seed);
  std::shuffle(records.begin(), records.end(), rng);
  std::sort(records.begin(), records.end(), [](const Stamped& a, const Stamped& b) {
    return std::tie(a.record.header.hlc, a.ref.origin, a.ref.seq) <
           std::tie(b.record.header.hlc, b.ref.origin, b.ref.seq);
  });
  MemoryViews views;
  for (const Stamped& s : records) apply_record(views, s.record, s.ref);
  return views.dump();
}

TEST(ViewsDeterminism, SameRecordsInLedgerOrderGiveIdenticalViews) {
  const std::vector<Stamped> traffic = sample_traffic();
  const std::string reference = apply_in_ledger_order(traffic, 1);
  for (uint32_t seed = 2; seed < 12; ++seed)
    EXPECT_EQ(apply_in_ledger_order(traffic, seed), reference) << "seed " << seed;
  EXPECT_EQ(apply_in_ledger_order(traffic, 7), apply_in_ledger_order(traffic, 7));
}

TEST(ViewsDeterminism, SampleTrafficEndsInTheExpectedState) {
  std::vector<Stamped> traffic = sample_traffic();
  MemoryViews views;
  std::sort(traffic.begin(), traffic.end(), [](const Stamped& a, const Stamped& b) {
    return std::tie(a.record.header.hlc, a.ref.origin, a.ref.seq) <
           std::tie(b.record.header.hlc, b.ref.origin, b.ref.seq);
  });
  for (const Stamped& s : traffic) apply_record(views, s.record, s.ref);
  const auto p1 = views.permit("P-1");
  ASSERT_TRUE(p1.has_value());
  EXPECT_EQ(p1->entries_used, 2u);  // both posts' entries count: HQ sees the conflict
  EXPECT_EQ(p1->state, PermitState::revoked);
  EXPECT_EQ(p1->valid_until, day("2026-05-31"));
  EXPECT_EQ(p1->status_records.size(), 2u);
  EXPECT_TRUE(views.presence("doc:USA:123456789")->inside);  // the referred exit changed nothing
  EXPECT_EQ(views.presence("doc:USA:123456789")->post, "rusumo");
  EXPECT_FALSE(views.presence(national_id_key(kNid))->inside);
  EXPECT_EQ(views.document("RWA", "PC1234567")->status, DocumentStatus::lost);
  EXPECT_TRUE(views.alert("A-1")->lifted);
  EXPECT_FALSE(views.alert("A-2")->lifted);
  EXPECT_EQ(views.traveller_records(national_id_key(kNid)).size(), 4u);
  EXPECT_FALSE(dump_view(*p1).empty());
}

}  // namespace
}  // namespace umupaka

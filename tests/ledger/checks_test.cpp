#include "ledger/checks.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "ledger/assert.hpp"
#include "ledger/limits.hpp"
#include "tests/ledger/memory_views.hpp"

namespace umupaka {
namespace {

using test::MemoryViews;

Date day(const char* iso) {
  const std::optional<Date> d = parse_iso_date(iso);
  UMUPAKA_ASSERT(d.has_value());
  return *d;
}
Date plus(Date d, int32_t days) { return Date{d.days + days}; }

const Date kToday = day("2026-03-10");
const std::string kNid = "1199080012345678";

// Travellers: a US citizen (needs a permit), a Kenyan (EAC), a Nigerian (African), a Rwandan
// citizen, and the ICAO specimen (UTO, needs a permit).
Person smith() { return Person{"SMITH", "JOHN", "USA", day("1980-05-01"), Sex::male}; }
DocumentRef smith_passport() {
  return DocumentRef{DocumentKind::passport, "USA", "123456789", day("2031-01-01")};
}
Person otieno() { return Person{"OTIENO", "BRIAN", "KEN", day("1988-11-03"), Sex::male}; }
DocumentRef otieno_passport() {
  return DocumentRef{DocumentKind::passport, "KEN", "AK0123456", day("2030-01-01")};
}
Person okafor() { return Person{"OKAFOR", "CHIOMA", "NGA", day("1990-07-21"), Sex::female}; }
DocumentRef okafor_passport() {
  return DocumentRef{DocumentKind::passport, "NGA", "A09876543", day("2030-01-01")};
}
Person uwase() { return Person{"UWASE", "AIMEE", "RWA", day("1992-02-14"), Sex::female}; }
DocumentRef uwase_passport() {
  return DocumentRef{DocumentKind::passport, "RWA", "PC1234567", day("2030-06-30")};
}
DocumentRef uwase_id_card() {
  return DocumentRef{DocumentKind::national_id_card, "RWA", kNid, std::nullopt};
}
Person eriksson() { return Person{"ERIKSSON", "ANNA", "UTO", day("1974-08-12"), Sex::female}; }
DocumentRef specimen_passport() {
  return DocumentRef{DocumentKind::passport, "UTO", "L898902C3", day("2031-04-15")};
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
  return c;
}

Permit permit(std::string id, const Person& holder, const DocumentRef& document, Date from,
              Date until, uint32_t entries_allowed = 0, uint32_t stay_days_max = 0,
              std::optional<std::string> national_id = std::nullopt) {
  Permit p;
  p.permit_id = std::move(id);
  p.kind = entries_allowed == 1 ? PermitKind::single_entry_visa : PermitKind::multiple_entry_visa;
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

Alert alert_on_document(std::string id, const DocumentRef& d, AlertAction action) {
  Alert a;
  a.alert_id = std::move(id);
  a.subject.kind = AlertSubjectKind::document;
  a.subject.document_country = d.country;
  a.subject.document_number = d.number;
  a.category = "sltd";
  a.action = action;
  a.officer = "hq-1";
  return a;
}

Alert alert_on_national_id(std::string id, const std::string& nid, AlertAction action) {
  Alert a;
  a.alert_id = std::move(id);
  a.subject.kind = AlertSubjectKind::national_id;
  a.subject.national_id = nid;
  a.category = "immigration";
  a.action = action;
  a.officer = "hq-1";
  return a;
}

Alert alert_on_name(std::string id, std::string surname, std::string given,
                    std::optional<Date> born, AlertAction action = AlertAction::deny) {
  Alert a;
  a.alert_id = std::move(id);
  a.subject.kind = AlertSubjectKind::name;
  a.subject.surname = std::move(surname);
  a.subject.given_names = std::move(given);
  a.subject.birth_date = born;
  a.category = "wanted";
  a.action = action;
  a.reason = "arrest warrant 12/2025";
  a.officer = "hq-1";
  return a;
}

class ChecksTest : public ::testing::Test {
 protected:
  // Applies `body` as the next record of `origin`, stamped at 09:00 UTC on `on`.
  RecordRef apply(RecordBody body, Date on = plus(kToday, -60), std::string origin = "hq") {
    const uint64_t seq = ++seqs_[origin];
    RecordHeader h;
    h.network_id = "umupaka-test";
    h.origin = OriginId{origin};
    h.seq = Seq{seq};
    h.hlc = Hlc::make(int64_t{on.days} * ms_per_day + 9 * 3'600'000, 0);
    const RecordRef ref{origin, seq};
    apply_record(views, Record{h, std::move(body)}, ref);
    return ref;
  }

  static CheckRequest request(Direction direction, const Person& who, const DocumentRef& document,
                              std::optional<std::string> national_id = std::nullopt,
                              std::optional<std::string> permit_id = std::nullopt,
                              Date today = kToday) {
    CheckRequest r;
    r.direction = direction;
    r.post = "gatuna";
    r.traveller = who;
    r.document = document;
    r.national_id = std::move(national_id);
    r.permit_id = std::move(permit_id);
    r.today = today;
    return r;
  }

  CheckResult check(const CheckRequest& r) const { return run_checks(r, views); }

  // Records an admitted entry `days_ago` days before kToday.
  void entered(const Person& who, const DocumentRef& d, int32_t days_ago,
               std::optional<std::string> permit_id = std::nullopt,
               std::optional<std::string> nid = std::nullopt) {
    apply(crossing(Direction::entry, who, d, std::move(nid), std::move(permit_id)),
          plus(kToday, -days_ago), "gatuna");
  }

  MemoryViews views;

 private:
  std::map<std::string, uint64_t> seqs_;
};

std::vector<Finding> of_check(const CheckResult& r, const std::string& check) {
  std::vector<Finding> out;
  for (const Finding& f : r.findings)
    if (f.check == check) out.push_back(f);
  return out;
}

// The single finding of `check`, or a failed expectation.
Finding only(const CheckResult& r, const std::string& check) {
  const std::vector<Finding> found = of_check(r, check);
  EXPECT_EQ(found.size(), 1u) << "findings of " << check;
  return found.empty() ? Finding{} : found.front();
}

std::string all_reasons(const CheckResult& r) {
  std::string out;
  for (const Finding& f : r.findings)
    out += f.check + "/" + std::string(enum_name(f.verdict)) + ": " + f.reason + "\n";
  return out;
}

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

// --- Verdict and decision --------------------------------------------------------------------

TEST(DefaultDecision, FollowsTheVerdict) {
  EXPECT_EQ(default_decision(Verdict::clear), Decision::admitted);
  EXPECT_EQ(default_decision(Verdict::refer), Decision::referred);
  EXPECT_EQ(default_decision(Verdict::deny), Decision::refused);
}

TEST_F(ChecksTest, EastAfricanWithNothingOnFileIsClear) {
  const CheckResult r = check(request(Direction::entry, otieno(), otieno_passport()));
  EXPECT_EQ(r.verdict, Verdict::clear) << all_reasons(r);
  for (const Finding& f : r.findings) EXPECT_EQ(f.verdict, Verdict::clear) << f.reason;
  EXPECT_FALSE(r.permit_id.has_value());
  EXPECT_EQ(r.overstay_days, 0);
}

TEST_F(ChecksTest, VerdictIsTheMostSevereFinding) {
  apply(DocumentStatusChange{"UTO", "L898902C3", DocumentStatus::stolen, "", "hq-1"});
  // Stolen (deny) and no permit (refer): deny.
  const CheckResult r = check(request(Direction::entry, eriksson(), specimen_passport()));
  EXPECT_EQ(only(r, "permit").verdict, Verdict::refer);
  EXPECT_EQ(only(r, "document_status").verdict, Verdict::deny);
  EXPECT_EQ(r.verdict, Verdict::deny);
  EXPECT_EQ(r.findings.front().check, "document_status");  // in check order
}

// --- Document status -------------------------------------------------------------------------

TEST_F(ChecksTest, DocumentWithoutReportIsClear) {
  apply(TravelDocumentIssued{uwase_passport(), uwase(), kNid, day("2025-06-30"), "hq", "c-1"});
  const CheckResult r = check(request(Direction::entry, uwase(), uwase_passport()));
  EXPECT_TRUE(of_check(r, "document_status").empty()) << all_reasons(r);
  EXPECT_EQ(r.verdict, Verdict::clear) << all_reasons(r);
}

TEST_F(ChecksTest, StolenDocumentIsDenied) {
  const RecordRef ref =
      apply(DocumentStatusChange{"UTO", "L898902C3", DocumentStatus::stolen, "", "hq-1"},
            plus(kToday, -5), "gatuna");
  const Finding f =
      only(check(request(Direction::entry, eriksson(), specimen_passport())), "document_status");
  EXPECT_EQ(f.verdict, Verdict::deny);
  EXPECT_CONTAINS(f.reason, "passport UTO L898902C3 reported stolen (record gatuna/" +
                                std::to_string(ref.seq) + ")");
}

TEST_F(ChecksTest, LostAndRevokedDocumentsAreDeniedOnExitToo) {
  apply(DocumentStatusChange{"USA", "123456789", DocumentStatus::lost, "", "hq-1"});
  entered(smith(), smith_passport(), 3);
  Finding f = only(check(request(Direction::exit, smith(), smith_passport())), "document_status");
  EXPECT_EQ(f.verdict, Verdict::deny);
  EXPECT_CONTAINS(f.reason, "passport USA 123456789 reported lost");

  apply(DocumentStatusChange{"USA", "123456789", DocumentStatus::revoked, "", "hq-1"});
  f = only(check(request(Direction::exit, smith(), smith_passport())), "document_status");
  EXPECT_EQ(f.verdict, Verdict::deny);
  EXPECT_CONTAINS(f.reason, "revoked by its issuer");
}

TEST_F(ChecksTest, ExpiredDocumentIsDenied) {
  DocumentRef expired = otieno_passport();
  expired.expiry = plus(kToday, -1);
  const Finding f = only(check(request(Direction::entry, otieno(), expired)), "document_status");
  EXPECT_EQ(f.verdict, Verdict::deny);
  EXPECT_CONTAINS(f.reason, "passport KEN AK0123456 expired on 2026-03-09");
}

TEST_F(ChecksTest, DocumentExpiringTodayIsStillValid) {
  DocumentRef last_day = otieno_passport();
  last_day.expiry = kToday;
  const CheckResult r = check(request(Direction::entry, otieno(), last_day));
  EXPECT_TRUE(of_check(r, "document_status").empty()) << all_reasons(r);
}

TEST_F(ChecksTest, ExpiryIsTakenFromTheIssuanceWhenNotPresented) {
  DocumentRef issued = uwase_passport();
  issued.expiry = plus(kToday, -10);
  apply(TravelDocumentIssued{issued, uwase(), kNid, day("2016-03-01"), "hq", "c-1"});
  DocumentRef presented = uwase_passport();
  presented.expiry = std::nullopt;
  const Finding f = only(check(request(Direction::exit, uwase(), presented)), "document_status");
  EXPECT_EQ(f.verdict, Verdict::deny);
}

TEST_F(ChecksTest, CitizenEnteringOnAnExpiredPassportIsReferredNotRefused) {
  DocumentRef expired = uwase_passport();
  expired.expiry = plus(kToday, -30);
  const CheckResult r = check(request(Direction::entry, uwase(), expired));
  const Finding f = only(r, "document_status");
  EXPECT_EQ(f.verdict, Verdict::refer);
  EXPECT_CONTAINS(f.reason, "expired on");
  EXPECT_CONTAINS(f.reason, "may not refuse entry to its own citizens");
  EXPECT_EQ(r.verdict, Verdict::refer);
}

TEST_F(ChecksTest, CitizenLeavingOnAnExpiredPassportIsDenied) {
  DocumentRef expired = uwase_passport();
  expired.expiry = plus(kToday, -30);
  const CheckResult r = check(request(Direction::exit, uwase(), expired));
  EXPECT_EQ(only(r, "document_status").verdict, Verdict::deny);
  EXPECT_EQ(r.verdict, Verdict::deny);
}

TEST_F(ChecksTest, CitizenEnteringOnAStolenPassportIsReferred) {
  apply(DocumentStatusChange{"RWA", "PC1234567", DocumentStatus::stolen, "", "hq-1"});
  const CheckResult r = check(request(Direction::entry, uwase(), uwase_passport()));
  const Finding f = only(r, "document_status");
  EXPECT_EQ(f.verdict, Verdict::refer);
  EXPECT_CONTAINS(f.reason, "reported stolen");
  EXPECT_CONTAINS(f.reason, "Referred, not refused");
}

// --- Alerts ----------------------------------------------------------------------------------

TEST_F(ChecksTest, DocumentAlertDenies) {
  apply(alert_on_document("A-1", specimen_passport(), AlertAction::deny));
  const Finding f =
      only(check(request(Direction::entry, eriksson(), specimen_passport())), "alert");
  EXPECT_EQ(f.verdict, Verdict::deny);
  EXPECT_CONTAINS(f.reason, "watchlist alert A-1 (sltd, action deny): passport UTO L898902C3");
}

TEST_F(ChecksTest, NationalIdAlertRefersThroughTheDocumentLink) {
  apply(TravelDocumentIssued{uwase_passport(), uwase(), kNid, day("2025-06-30"), "hq", "c-1"});
  apply(alert_on_national_id("A-2", kNid, AlertAction::refer));
  // Leaving on the passport alone: the issuance links it to the national ID.
  const CheckResult r = check(request(Direction::exit, uwase(), uwase_passport()));
  const Finding f = only(r, "alert");
  EXPECT_EQ(f.verdict, Verdict::refer);
  EXPECT_CONTAINS(f.reason, "watchlist alert A-2 (immigration, action refer): national ID " + kNid);
  EXPECT_EQ(r.verdict, Verdict::refer);
}

TEST_F(ChecksTest, NationalIdAlertMatchesTheGivenNationalId) {
  apply(alert_on_national_id("A-2", kNid, AlertAction::deny));
  const CheckResult r = check(request(Direction::exit, uwase(), uwase_id_card(), kNid));
  EXPECT_EQ(only(r, "alert").verdict, Verdict::deny);
}

TEST_F(ChecksTest, NameAlertCatchesASpellingVariant) {
  apply(alert_on_name("A-77", "ERICSON", "ANNA", day("1974-08-12")));
  const CheckResult r = check(request(Direction::entry, eriksson(), specimen_passport()));
  const Finding f = only(r, "alert");
  EXPECT_EQ(f.verdict, Verdict::deny);
  EXPECT_CONTAINS(f.reason,
                  "watchlist alert A-77 (wanted, action deny): name ERIKSSON ANNA ~ "
                  "ERICSON ANNA (score 0.9");
  EXPECT_CONTAINS(f.reason, "birth date 1974-08-12");
  EXPECT_CONTAINS(f.reason, "arrest warrant 12/2025");
  EXPECT_EQ(r.verdict, Verdict::deny);
}

TEST_F(ChecksTest, NameAlertIgnoresADifferentNameOrBirthDate) {
  apply(alert_on_name("A-78", "HANNAH", "ERIKSSON", day("1974-08-12")));  // different given name
  apply(alert_on_name("A-79", "ERIKSSON", "ANNA", day("1974-08-13")));    // born a day later
  const CheckResult r = check(request(Direction::entry, eriksson(), specimen_passport()));
  EXPECT_TRUE(of_check(r, "alert").empty()) << all_reasons(r);
}

TEST_F(ChecksTest, NameAlertWithoutBirthDateIsComparedByName) {
  apply(alert_on_name("A-80", "SMITH", "JOHN", std::nullopt, AlertAction::refer));
  const Finding f = only(check(request(Direction::entry, smith(), smith_passport())), "alert");
  EXPECT_EQ(f.verdict, Verdict::refer);
  EXPECT_CONTAINS(f.reason, "the alert gives no birth date");
  const CheckResult other = check(request(Direction::entry, otieno(), otieno_passport()));
  EXPECT_TRUE(of_check(other, "alert").empty()) << all_reasons(other);
}

TEST_F(ChecksTest, LiftedAlertIsIgnored) {
  apply(alert_on_document("A-1", specimen_passport(), AlertAction::deny));
  apply(alert_on_name("A-77", "ERICSON", "ANNA", day("1974-08-12")));
  apply(AlertLift{"A-1", "document recovered", "hq-1"});
  apply(AlertLift{"A-77", "arrested", "hq-1"});
  const CheckResult r = check(request(Direction::entry, eriksson(), specimen_passport()));
  EXPECT_TRUE(of_check(r, "alert").empty()) << all_reasons(r);
}

TEST_F(ChecksTest, ExpiredAlertIsIgnoredButOneExpiringTodayIsActive) {
  Alert expired = alert_on_document("A-1", specimen_passport(), AlertAction::deny);
  expired.expires_on = plus(kToday, -1);
  apply(expired);
  CheckResult r = check(request(Direction::entry, eriksson(), specimen_passport()));
  EXPECT_TRUE(of_check(r, "alert").empty()) << all_reasons(r);

  Alert today = alert_on_name("A-77", "ERICSON", "ANNA", day("1974-08-12"));
  today.expires_on = kToday;
  apply(today);
  r = check(request(Direction::entry, eriksson(), specimen_passport()));
  EXPECT_EQ(only(r, "alert").verdict, Verdict::deny);
}

TEST_F(ChecksTest, MonitorAlertIsRecordedAsAClearFinding) {
  apply(alert_on_document("A-5", smith_passport(), AlertAction::monitor));
  apply(permit("P-1", smith(), smith_passport(), plus(kToday, -10), plus(kToday, 80)));
  const CheckResult r = check(request(Direction::entry, smith(), smith_passport()));
  const Finding f = only(r, "alert");
  EXPECT_EQ(f.verdict, Verdict::clear);
  EXPECT_CONTAINS(f.reason, "watchlist alert A-5 (sltd, action monitor)");
  EXPECT_EQ(r.verdict, Verdict::clear) << all_reasons(r);
}

TEST_F(ChecksTest, AlertFoundTwoWaysIsReportedOnce) {
  apply(TravelDocumentIssued{uwase_passport(), uwase(), kNid, day("2025-06-30"), "hq", "c-1"});
  apply(alert_on_document("A-9", uwase_passport(), AlertAction::refer));
  // The same alert id re-issued about the national ID: indexed under both keys.
  apply(alert_on_national_id("A-9", kNid, AlertAction::refer));
  ASSERT_EQ(views.alerts_of(national_id_key(kNid)), std::vector<std::string>{"A-9"});
  const CheckResult r = check(request(Direction::exit, uwase(), uwase_passport(), kNid));
  EXPECT_EQ(of_check(r, "alert").size(), 1u) << all_reasons(r);
}

TEST_F(ChecksTest, CitizenEnteringAgainstADenyAlertIsReferred) {
  apply(alert_on_national_id("A-2", kNid, AlertAction::deny));
  const CheckResult r = check(request(Direction::entry, uwase(), uwase_id_card(), kNid));
  const Finding f = only(r, "alert");
  EXPECT_EQ(f.verdict, Verdict::refer);
  EXPECT_CONTAINS(f.reason, "action deny");
  EXPECT_CONTAINS(f.reason, "may not refuse entry to its own citizens");
  EXPECT_EQ(r.verdict, Verdict::refer);
}

TEST_F(ChecksTest, TooManyNameAlertsOnOneBirthDateAreReferredNotDropped) {
  const Date born = day("1974-08-12");
  for (size_t i = 0; i <= limits::alert_candidates_per_birth_date_max; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "N-%04zu", i);
    views.index_name_alert(born, id);  // ids with no alert behind them: only the count matters
  }
  const CheckResult r = check(request(Direction::entry, eriksson(), specimen_passport()));
  const Finding f = only(r, "alert");
  EXPECT_EQ(f.verdict, Verdict::refer);
  EXPECT_CONTAINS(f.reason, "257 name alerts share the birth date 1974-08-12");
}

// --- Permit ----------------------------------------------------------------------------------

TEST_F(ChecksTest, CitizenNeedsNoPermit) {
  const CheckResult r = check(request(Direction::entry, uwase(), uwase_passport()));
  EXPECT_TRUE(of_check(r, "permit").empty()) << all_reasons(r);
  EXPECT_EQ(r.verdict, Verdict::clear);
}

TEST_F(ChecksTest, EastAfricanEntersOnAVisitorPass) {
  const CheckResult r = check(request(Direction::entry, otieno(), otieno_passport()));
  const Finding f = only(r, "permit");
  EXPECT_EQ(f.verdict, Verdict::clear);
  EXPECT_CONTAINS(f.reason, "EAC visitor pass of 180 days");
  EXPECT_EQ(r.allowed_until, plus(kToday, 179));
}

TEST_F(ChecksTest, AfricanEntersVisaFree) {
  const CheckResult r = check(request(Direction::entry, okafor(), okafor_passport()));
  const Finding f = only(r, "permit");
  EXPECT_EQ(f.verdict, Verdict::clear);
  EXPECT_CONTAINS(f.reason, "30 days");
  EXPECT_EQ(r.allowed_until, plus(kToday, 29));
}

TEST_F(ChecksTest, OthersWithoutAPermitAreReferredForAVisaOnArrival) {
  const CheckResult r = check(request(Direction::entry, smith(), smith_passport()));
  const Finding f = only(r, "permit");
  EXPECT_EQ(f.verdict, Verdict::refer);
  EXPECT_CONTAINS(f.reason, "no valid visa or permit; a visa on arrival (30 days) can be issued");
  EXPECT_FALSE(r.permit_id.has_value());
}

TEST_F(ChecksTest, PresentedValidPermitIsUsed) {
  apply(permit("P-1", smith(), smith_passport(), plus(kToday, -10), plus(kToday, 80), 1, 30));
  const CheckResult r =
      check(request(Direction::entry, smith(), smith_passport(), std::nullopt, std::string("P-1")));
  const Finding f = only(r, "permit");
  EXPECT_EQ(f.verdict, Verdict::clear);
  EXPECT_CONTAINS(f.reason, "single-entry visa P-1 is valid until");
  EXPECT_CONTAINS(f.reason, "entry 1 of 1");
  EXPECT_EQ(r.permit_id, "P-1");
  EXPECT_EQ(r.allowed_until, plus(kToday, 29));
  EXPECT_EQ(r.verdict, Verdict::clear);
}

TEST_F(ChecksTest, PresentedUnknownPermitIsReferred) {
  const CheckResult r = check(
      request(Direction::entry, smith(), smith_passport(), std::nullopt, std::string("P-404")));
  const Finding f = only(r, "permit");
  EXPECT_EQ(f.verdict, Verdict::refer);
  EXPECT_CONTAINS(f.reason, "permit P-404 was not found at this node");
  EXPECT_FALSE(r.permit_id.has_value());
}

TEST_F(ChecksTest, PermitOfSomeoneElseIsDenied) {
  apply(permit("P-1", otieno(), otieno_passport(), plus(kToday, -10), plus(kToday, 80)));
  const CheckResult r =
      check(request(Direction::entry, smith(), smith_passport(), std::nullopt, std::string("P-1")));
  const Finding f = only(r, "permit");
  EXPECT_EQ(f.verdict, Verdict::deny);
  EXPECT_CONTAINS(f.reason, "was issued to passport KEN AK0123456 (OTIENO BRIAN)");
  EXPECT_CONTAINS(f.reason, "not to the passport USA 123456789 presented");
  EXPECT_FALSE(r.permit_id.has_value());
}

TEST_F(ChecksTest, PermitHolderMatchesByNationalId) {
  // A foreign resident's permit, issued on an older passport and the resident's national ID.
  DocumentRef old_passport = smith_passport();
  old_passport.number = "987654321";
  apply(permit("P-1", smith(), old_passport, plus(kToday, -100), plus(kToday, 265), 0, 0, kNid));
  const CheckResult r =
      check(request(Direction::entry, smith(), smith_passport(), kNid, std::string("P-1")));
  EXPECT_EQ(only(r, "permit").verdict, Verdict::clear) << all_reasons(r);
  EXPECT_EQ(r.permit_id, "P-1");
}

TEST_F(ChecksTest, RevokedAndCancelledPermitsAreDenied) {
  apply(permit("P-1", smith(), smith_passport(), plus(kToday, -10), plus(kToday, 80)));
  const RecordRef revoke =
      apply(PermitStatusChange{"P-1", PermitAction::revoke, std::nullopt, "fraud", "hq-1"});
  Finding f = only(
      check(request(Direction::entry, smith(), smith_passport(), std::nullopt, std::string("P-1"))),
      "permit");
  EXPECT_EQ(f.verdict, Verdict::deny);
  EXPECT_CONTAINS(f.reason, "P-1 was revoked (record hq/" + std::to_string(revoke.seq) + ")");

  apply(permit("P-2", smith(), smith_passport(), plus(kToday, -10), plus(kToday, 80)));
  apply(PermitStatusChange{"P-2", PermitAction::cancel, std::nullopt, "", "hq-1"});
  f = only(
      check(request(Direction::entry, smith(), smith_passport(), std::nullopt, std::string("P-2"))),
      "permit");
  EXPECT_EQ(f.verdict, Verdict::deny);
  EXPECT_CONTAINS(f.reason, "P-2 was cancelled");
}

TEST_F(ChecksTest, ExpiredPermitIsDeniedUntilExtended) {
  apply(permit("P-1", smith(), smith_passport(), plus(kToday, -100), plus(kToday, -1)));
  Finding f = only(
      check(request(Direction::entry, smith(), smith_passport(), std::nullopt, std::string("P-1"))),
      "permit");
  EXPECT_EQ(f.verdict, Verdict::deny);
  EXPECT_CONTAINS(f.reason, "it was valid until 2026-03-09");

  apply(PermitStatusChange{"P-1", PermitAction::extend, plus(kToday, 30), "", "hq-1"});
  const CheckResult r =
      check(request(Direction::entry, smith(), smith_passport(), std::nullopt, std::string("P-1")));
  EXPECT_EQ(only(r, "permit").verdict, Verdict::clear) << all_reasons(r);
  EXPECT_EQ(r.permit_id, "P-1");
}

TEST_F(ChecksTest, PermitNotYetValidIsDenied) {
  apply(permit("P-1", smith(), smith_passport(), plus(kToday, 1), plus(kToday, 80)));
  const Finding f = only(
      check(request(Direction::entry, smith(), smith_passport(), std::nullopt, std::string("P-1"))),
      "permit");
  EXPECT_EQ(f.verdict, Verdict::deny);
  EXPECT_CONTAINS(f.reason, "is not valid before 2026-03-11");
}

TEST_F(ChecksTest, PermitWithEveryEntryUsedIsDenied) {
  apply(permit("P-1", smith(), smith_passport(), plus(kToday, -30), plus(kToday, 60), 1));
  entered(smith(), smith_passport(), 20, "P-1");
  apply(crossing(Direction::exit, smith(), smith_passport()), plus(kToday, -10), "gatuna");
  const CheckResult r =
      check(request(Direction::entry, smith(), smith_passport(), std::nullopt, std::string("P-1")));
  const Finding f = only(r, "permit");
  EXPECT_EQ(f.verdict, Verdict::deny);
  EXPECT_CONTAINS(f.reason, "allows 1 entry and 1 has been used");
  EXPECT_EQ(r.verdict, Verdict::deny);
}

TEST_F(ChecksTest, UnlimitedPermitIsNeverExhausted) {
  apply(permit("P-1", smith(), smith_passport(), plus(kToday, -30), plus(kToday, 60), 0));
  for (int i = 0; i < 3; ++i) {
    entered(smith(), smith_passport(), 20 - 2 * i, "P-1");
    apply(crossing(Direction::exit, smith(), smith_passport()), plus(kToday, -(19 - 2 * i)),
          "gatuna");
  }
  const CheckResult r =
      check(request(Direction::entry, smith(), smith_passport(), std::nullopt, std::string("P-1")));
  EXPECT_EQ(only(r, "permit").verdict, Verdict::clear) << all_reasons(r);
  EXPECT_CONTAINS(only(r, "permit").reason, "unlimited entries");
}

TEST_F(ChecksTest, PermitOnFileIsFoundWhenNonePresented) {
  apply(permit("P-1", smith(), smith_passport(), plus(kToday, -30), plus(kToday, 60)));
  apply(permit("P-3", smith(), smith_passport(), plus(kToday, -30), plus(kToday, 90)));
  apply(permit("P-2", smith(), smith_passport(), plus(kToday, -30), plus(kToday, 90)));
  apply(permit("P-4", smith(), smith_passport(), plus(kToday, -30), plus(kToday, 120)));
  apply(PermitStatusChange{"P-4", PermitAction::revoke, std::nullopt, "", "hq-1"});
  const CheckResult r = check(request(Direction::entry, smith(), smith_passport()));
  const Finding f = only(r, "permit");
  EXPECT_EQ(f.verdict, Verdict::clear);
  EXPECT_CONTAINS(f.reason, "no permit presented; using multiple-entry visa P-2");
  // Latest valid_until wins (P-4 is revoked); the tie between P-2 and P-3 goes to P-2.
  EXPECT_EQ(r.permit_id, "P-2");
}

TEST_F(ChecksTest, PermitOnFileIsFoundByNationalId) {
  DocumentRef old_passport = smith_passport();
  old_passport.number = "987654321";
  apply(permit("P-9", smith(), old_passport, plus(kToday, -30), plus(kToday, 300), 0, 0, kNid));
  const CheckResult r = check(request(Direction::entry, smith(), smith_passport(), kNid));
  EXPECT_EQ(only(r, "permit").verdict, Verdict::clear) << all_reasons(r);
  EXPECT_EQ(r.permit_id, "P-9");
}

TEST_F(ChecksTest, UnusablePermitsOnFileAreNamedInTheReferral) {
  apply(permit("P-1", smith(), smith_passport(), plus(kToday, -100), plus(kToday, -5)));
  const CheckResult r = check(request(Direction::entry, smith(), smith_passport()));
  const Finding f = only(r, "permit");
  EXPECT_EQ(f.verdict, Verdict::refer);
  EXPECT_CONTAINS(f.reason, "no valid visa or permit");
  EXPECT_CONTAINS(f.reason, "P-1 expired");
  EXPECT_FALSE(r.permit_id.has_value());
}

TEST_F(ChecksTest, ExitSkipsThePermitCheck) {
  entered(smith(), smith_passport(), 3);
  const CheckResult r = check(
      request(Direction::exit, smith(), smith_passport(), std::nullopt, std::string("P-404")));
  EXPECT_TRUE(of_check(r, "permit").empty()) << all_reasons(r);
}

// --- Presence --------------------------------------------------------------------------------

TEST_F(ChecksTest, EntryWhileRecordedInsideIsReferred) {
  entered(otieno(), otieno_passport(), 4);
  const Finding f = only(check(request(Direction::entry, otieno(), otieno_passport())), "presence");
  EXPECT_EQ(f.verdict, Verdict::refer);
  EXPECT_CONTAINS(f.reason, "already recorded as present since 2026-03-06, entered at gatuna");
}

TEST_F(ChecksTest, EntryAfterAnExitIsClear) {
  entered(otieno(), otieno_passport(), 4);
  apply(crossing(Direction::exit, otieno(), otieno_passport(), std::nullopt, std::nullopt,
                 Decision::admitted, "rusumo"),
        plus(kToday, -2), "rusumo");
  const CheckResult r = check(request(Direction::entry, otieno(), otieno_passport()));
  EXPECT_TRUE(of_check(r, "presence").empty()) << all_reasons(r);
  EXPECT_EQ(r.verdict, Verdict::clear);
}

TEST_F(ChecksTest, ExitAfterAnEntryIsClear) {
  entered(otieno(), otieno_passport(), 4);
  const CheckResult r = check(request(Direction::exit, otieno(), otieno_passport()));
  EXPECT_TRUE(of_check(r, "presence").empty()) << all_reasons(r);
  EXPECT_EQ(r.verdict, Verdict::clear) << all_reasons(r);
}

TEST_F(ChecksTest, ExitWithoutEntryIsReferredForForeigners) {
  const Finding f = only(check(request(Direction::exit, otieno(), otieno_passport())), "presence");
  EXPECT_EQ(f.verdict, Verdict::refer);
  EXPECT_CONTAINS(f.reason, "no entry recorded for passport KEN AK0123456");
}

TEST_F(ChecksTest, SecondExitIsReferredForForeigners) {
  entered(otieno(), otieno_passport(), 4);
  apply(crossing(Direction::exit, otieno(), otieno_passport(), std::nullopt, std::nullopt,
                 Decision::admitted, "rusumo"),
        plus(kToday, -2), "rusumo");
  const Finding f = only(check(request(Direction::exit, otieno(), otieno_passport())), "presence");
  EXPECT_EQ(f.verdict, Verdict::refer);
  EXPECT_CONTAINS(f.reason, "no entry recorded since the exit on 2026-03-08 at rusumo");
}

TEST_F(ChecksTest, RefusedEntryDoesNotCountAsPresence) {
  apply(crossing(Direction::entry, otieno(), otieno_passport(), std::nullopt, std::nullopt,
                 Decision::refused),
        plus(kToday, -1), "gatuna");
  EXPECT_EQ(only(check(request(Direction::exit, otieno(), otieno_passport())), "presence").verdict,
            Verdict::refer);
}

TEST_F(ChecksTest, CitizenMayLeaveWithoutARecordedEntry) {
  const CheckResult r = check(request(Direction::exit, uwase(), uwase_passport(), kNid));
  const Finding f = only(r, "presence");
  EXPECT_EQ(f.verdict, Verdict::clear);
  EXPECT_CONTAINS(f.reason, "no entry recorded");
  EXPECT_EQ(r.verdict, Verdict::clear);
}

TEST_F(ChecksTest, PresencePairsAcrossDocumentsByNationalId) {
  // Enters on the passport (linked to the national ID by its issuance), leaves on the ID card.
  apply(TravelDocumentIssued{uwase_passport(), uwase(), kNid, day("2025-06-30"), "hq", "c-1"});
  entered(uwase(), uwase_passport(), 2);
  const CheckResult r = check(request(Direction::entry, uwase(), uwase_id_card(), kNid));
  EXPECT_EQ(only(r, "presence").verdict, Verdict::refer);
  apply(crossing(Direction::exit, uwase(), uwase_id_card(), kNid, std::nullopt, Decision::admitted,
                 "rubavu-corniche"),
        plus(kToday, -1), "rubavu-corniche");
  const CheckResult again = check(request(Direction::entry, uwase(), uwase_passport()));
  EXPECT_TRUE(of_check(again, "presence").empty()) << all_reasons(again);
}

// --- Overstay --------------------------------------------------------------------------------

TEST_F(ChecksTest, OverstayOnAVisaOnArrival) {
  // Entered 35 days ago with no permit recorded: 30 days, the day of entry counting.
  entered(smith(), smith_passport(), 35);
  const CheckResult r = check(request(Direction::exit, smith(), smith_passport()));
  const Finding f = only(r, "overstay");
  EXPECT_EQ(f.verdict, Verdict::refer);
  EXPECT_EQ(r.overstay_days, 6);
  EXPECT_EQ(r.allowed_until, plus(kToday, -35 + 29));
  EXPECT_CONTAINS(f.reason, "overstayed by 6 days");
  EXPECT_CONTAINS(f.reason, "visa on arrival");
  EXPECT_EQ(r.verdict, Verdict::refer);
}

TEST_F(ChecksTest, LastDayOfTheStayIsNoOverstay) {
  entered(smith(), smith_passport(), 29);
  const CheckResult r = check(request(Direction::exit, smith(), smith_passport()));
  const Finding f = only(r, "overstay");
  EXPECT_EQ(f.verdict, Verdict::clear);
  EXPECT_EQ(r.overstay_days, 0);
  EXPECT_EQ(r.allowed_until, kToday);
  EXPECT_CONTAINS(f.reason, "stay allowed until 2026-03-10");
}

TEST_F(ChecksTest, OverstayUnderThePermitsStayLimit) {
  apply(permit("P-1", smith(), smith_passport(), plus(kToday, -60), plus(kToday, 300), 1, 14));
  entered(smith(), smith_passport(), 20, "P-1");
  const CheckResult r = check(request(Direction::exit, smith(), smith_passport()));
  EXPECT_EQ(r.allowed_until, plus(kToday, -20 + 13));
  EXPECT_EQ(r.overstay_days, 7);
  const Finding f = only(r, "overstay");
  EXPECT_EQ(f.verdict, Verdict::refer);
  EXPECT_CONTAINS(f.reason, "overstayed by 7 days");
  EXPECT_CONTAINS(f.reason, "single-entry visa P-1");
}

TEST_F(ChecksTest, OverstayUnderThePermitsValidity) {
  apply(permit("P-1", smith(), smith_passport(), plus(kToday, -60), plus(kToday, -3), 0, 90));
  entered(smith(), smith_passport(), 20, "P-1");
  const CheckResult r = check(request(Direction::exit, smith(), smith_passport()));
  EXPECT_EQ(r.allowed_until, plus(kToday, -3));
  EXPECT_EQ(r.overstay_days, 3);
  EXPECT_EQ(only(r, "overstay").verdict, Verdict::refer);
}

TEST_F(ChecksTest, ExtensionAfterEntryPreventsOverstay) {
  apply(permit("P-1", smith(), smith_passport(), plus(kToday, -60), plus(kToday, -3)));
  entered(smith(), smith_passport(), 20, "P-1");
  apply(PermitStatusChange{"P-1", PermitAction::extend, plus(kToday, 30), "", "hq-1"},
        plus(kToday, -5));
  const CheckResult r = check(request(Direction::exit, smith(), smith_passport()));
  EXPECT_EQ(r.allowed_until, plus(kToday, 30));
  EXPECT_EQ(r.overstay_days, 0);
  EXPECT_EQ(only(r, "overstay").verdict, Verdict::clear);
}

TEST_F(ChecksTest, OverstayOnTheEacVisitorPass) {
  entered(otieno(), otieno_passport(), 200);
  const CheckResult r = check(request(Direction::exit, otieno(), otieno_passport()));
  EXPECT_EQ(r.allowed_until, plus(kToday, -200 + 179));
  EXPECT_EQ(r.overstay_days, 21);
  const Finding f = only(r, "overstay");
  EXPECT_EQ(f.verdict, Verdict::refer);
  EXPECT_CONTAINS(f.reason, "EAC visitor pass");
}

TEST_F(ChecksTest, OverstayOnTheAfricanVisaFreeAllowance) {
  entered(okafor(), okafor_passport(), 31);
  const CheckResult r = check(request(Direction::exit, okafor(), okafor_passport()));
  EXPECT_EQ(r.overstay_days, 2);
  EXPECT_CONTAINS(only(r, "overstay").reason, "visa-free entry for African nationals");
}

TEST_F(ChecksTest, VisaFreeAllowanceOutlastsAShorterPermit) {
  apply(permit("P-1", otieno(), otieno_passport(), plus(kToday, -60), plus(kToday, 300), 0, 14));
  entered(otieno(), otieno_passport(), 40, "P-1");
  const CheckResult r = check(request(Direction::exit, otieno(), otieno_passport()));
  EXPECT_EQ(r.overstay_days, 0);
  EXPECT_EQ(r.allowed_until, plus(kToday, -40 + 179));
}

TEST_F(ChecksTest, PermitUnknownAtThisNodeFallsBackToTheNationality) {
  entered(smith(), smith_passport(), 35, "P-404");
  const CheckResult r = check(request(Direction::exit, smith(), smith_passport()));
  EXPECT_EQ(r.overstay_days, 6);
  EXPECT_CONTAINS(only(r, "overstay").reason, "not known at this node");
}

TEST_F(ChecksTest, CitizensNeverOverstay) {
  entered(uwase(), uwase_passport(), 400, std::nullopt, kNid);
  const CheckResult r = check(request(Direction::exit, uwase(), uwase_passport(), kNid));
  EXPECT_TRUE(of_check(r, "overstay").empty()) << all_reasons(r);
  EXPECT_EQ(r.overstay_days, 0);
  EXPECT_EQ(r.verdict, Verdict::clear) << all_reasons(r);
}

TEST_F(ChecksTest, NoOverstayCheckWithoutARecordedEntry) {
  const CheckResult r = check(request(Direction::exit, smith(), smith_passport()));
  EXPECT_TRUE(of_check(r, "overstay").empty()) << all_reasons(r);
  EXPECT_FALSE(r.allowed_until.has_value());
}

TEST_F(ChecksTest, ChecksAreDeterministic) {
  apply(alert_on_name("A-77", "ERICSON", "ANNA", day("1974-08-12")));
  apply(alert_on_document("A-1", specimen_passport(), AlertAction::refer));
  apply(DocumentStatusChange{"UTO", "L898902C3", DocumentStatus::lost, "", "hq-1"});
  const CheckRequest req = request(Direction::entry, eriksson(), specimen_passport());
  const CheckResult a = check(req);
  const CheckResult b = check(req);
  EXPECT_EQ(a.findings, b.findings);
  EXPECT_EQ(a.verdict, b.verdict);
  EXPECT_EQ(of_check(a, "alert").size(), 2u) << all_reasons(a);
}

}  // namespace
}  // namespace umupaka

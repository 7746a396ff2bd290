#include "ledger/checks.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <string_view>

#include "ledger/assert.hpp"
#include "ledger/countries.hpp"
#include "ledger/limits.hpp"
#include "ledger/names.hpp"

namespace umupaka {
namespace {

// --- Wording ---------------------------------------------------------------------------------

std::string_view document_kind_text(DocumentKind kind) {
  switch (kind) {
    case DocumentKind::passport:
      return "passport";
    case DocumentKind::national_id_card:
      return "national ID card";
    case DocumentKind::laissez_passer:
      return "laissez-passer";
    case DocumentKind::border_pass:
      return "border pass";
    case DocumentKind::refugee_travel_document:
      return "refugee travel document";
    case DocumentKind::other:
      return "travel document";
  }
  return "travel document";
}

std::string_view permit_kind_text(PermitKind kind) {
  switch (kind) {
    case PermitKind::visa_on_arrival:
      return "visa on arrival";
    case PermitKind::single_entry_visa:
      return "single-entry visa";
    case PermitKind::multiple_entry_visa:
      return "multiple-entry visa";
    case PermitKind::east_africa_tourist_visa:
      return "East Africa Tourist Visa";
    case PermitKind::residence:
      return "residence permit";
    case PermitKind::work:
      return "work permit";
  }
  return "permit";
}

// "passport UTO L898902C3"
std::string describe_document(DocumentKind kind, std::string_view country,
                              std::string_view number) {
  std::string out(document_kind_text(kind));
  out.append(" ").append(normalize_state_code(country)).append(" ").append(number);
  return out;
}

std::string describe_document(const DocumentRef& d) {
  return describe_document(d.kind, d.country, d.number);
}

// "single-entry visa P-1"
std::string describe_permit(const Permit& p) {
  std::string out(permit_kind_text(p.kind));
  out.append(" ").append(p.permit_id);
  return out;
}

// "record gatuna/17"
std::string describe_record(const RecordRef& ref) {
  return "record " + ref.origin + "/" + std::to_string(ref.seq);
}

std::string iso(Date d) { return format_iso_date(d); }

std::string plural(uint32_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// "ERIKSSON ANNA", as the name matcher sees it.
std::string display_name(std::string_view surname, std::string_view given_names) {
  std::string out = names::normalize(surname);
  const std::string given = names::normalize(given_names);
  if (!given.empty()) out.append(" ").append(given);
  return out;
}

std::string format_score(double score) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", score);
  return buf;
}

bool known(const std::optional<std::string>& id) { return id.has_value() && !id->empty(); }

// --- Travel rules ----------------------------------------------------------------------------

static_assert(eac_visitor_pass_days > 0 && african_visa_free_days > 0 && visa_on_arrival_days > 0);
static_assert(eac_visitor_pass_days >= african_visa_free_days);

// What a nationality may do without a permit (../docs/travel-rules.md).
struct Allowance {
  bool needs_permit = true;
  uint32_t days = visa_on_arrival_days;
  std::string basis;  // how an officer names it
};

Allowance visa_free_allowance(std::string_view nationality) {
  if (is_eac_partner_state(nationality)) return {false, eac_visitor_pass_days, "EAC visitor pass"};
  if (is_african_state(nationality))
    return {false, african_visa_free_days, "visa-free entry for African nationals"};
  return {true, visa_on_arrival_days, "visa on arrival"};
}

// Last day of a stay of `days` days that starts on `since` (the day of entry counts).
Date last_day_of_stay(Date since, uint32_t days) {
  UMUPAKA_ASSERT(days > 0);
  return Date{since.days + static_cast<int32_t>(days) - 1};
}

// Last day a permit lets its holder stay after entering on `since`.
Date permit_stay_until(const PermitView& view, Date since) {
  Date until = view.valid_until;
  if (view.permit.stay_days_max > 0)
    until = std::min(until, last_day_of_stay(since, view.permit.stay_days_max));
  return until;
}

// Why a permit cannot be used to enter on `today`; empty if it can.
std::vector<std::string> permit_problems(const PermitView& view, Date today) {
  std::vector<std::string> problems;
  const std::string name = describe_permit(view.permit);
  const std::string last_change = view.status_records.empty()
                                      ? std::string()
                                      : " (" + describe_record(view.status_records.back()) + ")";
  if (view.state == PermitState::revoked) problems.push_back(name + " was revoked" + last_change);
  if (view.state == PermitState::cancelled)
    problems.push_back(name + " was cancelled" + last_change);
  if (today < view.permit.valid_from)
    problems.push_back(name + " is not valid before " + iso(view.permit.valid_from));
  if (today > view.valid_until)
    problems.push_back(name + " expired: it was valid until " + iso(view.valid_until));
  const uint32_t allowed = view.permit.entries_allowed;
  if (allowed > 0 && view.entries_used >= allowed)
    problems.push_back(name + " allows " + plural(allowed, "entry", "entries") + " and " +
                       plural(view.entries_used, "has", "have") + " been used");
  return problems;
}

std::string entries_text(const PermitView& view) {
  if (view.permit.entries_allowed == 0) return "unlimited entries";
  return "entry " + std::to_string(view.entries_used + 1) + " of " +
         std::to_string(view.permit.entries_allowed);
}

// --- The checks --------------------------------------------------------------------------------

class Checker {
 public:
  Checker(const CheckRequest& request, const ViewReader& views)
      : req_(request),
        views_(views),
        doc_key_(document_key(request.document.country, request.document.number)),
        doc_view_(views.document(request.document.country, request.document.number)) {
    nationality_ = std::string(normalize_state_code(req_.traveller.nationality));
    if (nationality_.empty())
      nationality_ = std::string(normalize_state_code(req_.document.country));
    citizen_ = nationality_ == citizen_state;
    entry_ = req_.direction == Direction::entry;
    if (known(req_.national_id)) {
      nid_ = req_.national_id;
    } else if (doc_view_ && known(doc_view_->national_id)) {
      nid_ = doc_view_->national_id;
    }
  }

  CheckResult run() {
    check_document_status();
    check_alerts();
    if (entry_) check_permit();
    check_presence();
    if (!entry_) check_overstay();
    apply_citizen_entry_rule();
    for (const Finding& f : result_.findings)
      result_.verdict = std::max(result_.verdict, f.verdict);
    UMUPAKA_ASSERT(result_.overstay_days >= 0);
    UMUPAKA_ASSERT(result_.overstay_days == 0 || result_.verdict != Verdict::clear);
    UMUPAKA_ASSERT(!result_.permit_id || entry_);
    return std::move(result_);
  }

 private:
  void add(std::string_view check, Verdict verdict, std::string reason) {
    result_.findings.push_back(Finding{std::string(check), verdict, std::move(reason)});
  }

  // Lost, stolen or revoked reports, and expiry.
  void check_document_status() {
    const DocumentRef& d = req_.document;
    if (doc_view_ && doc_view_->status) {
      std::string reason = describe_document(d);
      switch (*doc_view_->status) {
        case DocumentStatus::lost:
          reason += " reported lost";
          break;
        case DocumentStatus::stolen:
          reason += " reported stolen";
          break;
        case DocumentStatus::revoked:
          reason += " revoked by its issuer";
          break;
      }
      if (doc_view_->status_record)
        reason += " (" + describe_record(*doc_view_->status_record) + ")";
      reason += "; it is not valid for travel.";
      add("document_status", Verdict::deny, std::move(reason));
    }
    std::optional<Date> expiry = d.expiry;
    if (!expiry && doc_view_) expiry = doc_view_->expiry;
    if (expiry && *expiry < req_.today)
      add("document_status", Verdict::deny,
          describe_document(d) + " expired on " + iso(*expiry) + "; it is not valid for travel.");
  }

  static bool active(const AlertView& view, Date today) {
    return !view.lifted && (!view.alert.expires_on || *view.alert.expires_on >= today);
  }

  void report_alert(const AlertView& view, const std::string& matched) {
    const Alert& a = view.alert;
    std::string reason = "watchlist alert " + a.alert_id + " (";
    if (!a.category.empty()) reason += a.category + ", ";
    reason += "action " + std::string(enum_name(a.action)) + "): " + matched;
    if (!a.reason.empty()) reason += "; alert reason: " + a.reason;
    Verdict verdict = Verdict::clear;
    switch (a.action) {
      case AlertAction::deny:
        verdict = Verdict::deny;
        break;
      case AlertAction::refer:
        verdict = Verdict::refer;
        break;
      case AlertAction::monitor:
        verdict = Verdict::clear;
        reason += "; monitor only: the crossing is recorded for the alert's owner, not a hit";
        break;
    }
    reason += ".";
    add("alert", verdict, std::move(reason));
  }

  // Compares the traveller with the name alerts indexed under `birth_date`.
  void check_name_alerts(Date birth_date, std::set<std::string>& seen) {
    const std::vector<std::string> ids = views_.name_alerts_born(birth_date);
    const bool dated = birth_date != name_alert_no_birth_date;
    const size_t n = std::min(ids.size(), limits::alert_candidates_per_birth_date_max);
    if (ids.size() > n) {
      add("alert", Verdict::refer,
          std::to_string(ids.size()) + " name alerts " +
              (dated ? "share the birth date " + iso(birth_date) : "give no birth date") +
              "; only the first " + std::to_string(n) +
              " were compared with the traveller, so search the watchlist by hand.");
    }
    for (size_t i = 0; i < n; ++i) {
      if (seen.count(ids[i]) > 0) continue;
      const std::optional<AlertView> view = views_.alert(ids[i]);
      if (!view || !active(*view, req_.today)) continue;
      const AlertSubject& s = view->alert.subject;
      if (s.kind != AlertSubjectKind::name) continue;
      const std::string surname = s.surname.value_or("");
      const std::string given = s.given_names.value_or("");
      const names::Match m =
          names::match(req_.traveller.surname, req_.traveller.given_names, surname, given);
      if (!m.matched) continue;
      seen.insert(ids[i]);
      std::string matched =
          "name " + display_name(req_.traveller.surname, req_.traveller.given_names) + " ~ " +
          display_name(surname, given) + " (score " + format_score(m.score) + "), ";
      matched += dated ? "birth date " + iso(birth_date) : "the alert gives no birth date";
      report_alert(*view, matched);
    }
  }

  // Watchlist alerts by document, by national ID, and by name and birth date.
  void check_alerts() {
    std::set<std::string> seen;  // an alert found two ways is reported once
    const auto by_key = [&](const std::string& key, const std::string& matched) {
      for (const std::string& id : views_.alerts_of(key)) {
        if (seen.count(id) > 0) continue;
        const std::optional<AlertView> view = views_.alert(id);
        if (!view || !active(*view, req_.today)) continue;
        seen.insert(id);
        report_alert(*view, matched);
      }
    };
    by_key(doc_key_, describe_document(req_.document));
    if (nid_) by_key(national_id_key(*nid_), "national ID " + *nid_);
    if (req_.traveller.birth_date && *req_.traveller.birth_date != name_alert_no_birth_date)
      check_name_alerts(*req_.traveller.birth_date, seen);
    check_name_alerts(name_alert_no_birth_date, seen);
  }

  bool holder_matches(const Permit& p) const {
    if (document_key(p.document.country, p.document.number) == doc_key_) return true;
    return nid_ && known(p.national_id) && *p.national_id == *nid_;
  }

  void use_permit(const PermitView& view, std::string lead) {
    result_.permit_id = view.permit.permit_id;
    result_.allowed_until = allowed_stay(nationality_, req_.today, view).until;
    add("permit", Verdict::clear,
        std::move(lead) + describe_permit(view.permit) + " is valid until " +
            iso(view.valid_until) + " (" + entries_text(view) + "); stay allowed until " +
            iso(*result_.allowed_until) + ".");
  }

  void check_presented_permit(const std::string& permit_id) {
    const std::optional<PermitView> view = views_.permit(permit_id);
    if (!view) {
      add("permit", Verdict::refer,
          "permit " + permit_id +
              " was not found at this node; it may not have replicated yet, so confirm it with "
              "the issuing site.");
      return;
    }
    const Permit& p = view->permit;
    if (!holder_matches(p)) {
      std::string issued_to = describe_document(p.document);
      const std::string holder = display_name(p.holder.surname, p.holder.given_names);
      if (!holder.empty()) issued_to += " (" + holder + ")";
      add("permit", Verdict::deny,
          describe_permit(p) + " was issued to " + issued_to + ", not to the " +
              describe_document(req_.document) + " presented.");
      return;
    }
    const std::vector<std::string> problems = permit_problems(*view, req_.today);
    for (const std::string& problem : problems)
      add("permit", Verdict::deny, problem + "; it cannot be used to enter.");
    if (problems.empty()) use_permit(*view, "");
  }

  // Looks through the traveller's permits for one usable today: the one valid longest, ties by
  // the smallest permit id. Returns the reasons the others cannot be used when none can.
  std::optional<PermitView> find_usable_permit(std::vector<std::string>& problems) const {
    std::set<std::string> ids;
    const auto collect = [&](const std::string& key) {
      std::vector<std::string> of = views_.permits_of(key);
      if (of.size() > limits::permits_per_holder_max) of.resize(limits::permits_per_holder_max);
      ids.insert(of.begin(), of.end());
    };
    collect(doc_key_);
    if (nid_) collect(national_id_key(*nid_));
    std::optional<PermitView> best;
    for (const std::string& id : ids) {  // ascending ids: a tie keeps the smallest
      const std::optional<PermitView> view = views_.permit(id);
      if (!view || !holder_matches(view->permit)) continue;
      const std::vector<std::string> why = permit_problems(*view, req_.today);
      if (!why.empty()) {
        problems.insert(problems.end(), why.begin(), why.end());
        continue;
      }
      if (!best || view->valid_until > best->valid_until) best = view;
    }
    return best;
  }

  void check_permit() {
    if (citizen_) return;  // citizens need no permit
    if (known(req_.permit_id)) {
      check_presented_permit(*req_.permit_id);
      return;
    }
    std::vector<std::string> problems;
    const std::optional<PermitView> found = find_usable_permit(problems);
    if (found) {
      use_permit(*found, "no permit presented; using ");
      return;
    }
    const Allowance free = visa_free_allowance(nationality_);
    if (!free.needs_permit) {
      result_.allowed_until = last_day_of_stay(req_.today, free.days);
      add("permit", Verdict::clear,
          "no permit needed for a national of " + nationality_ + ": " + free.basis + " of " +
              std::to_string(free.days) + " days, stay allowed until " +
              iso(*result_.allowed_until) + ".");
      return;
    }
    std::string reason = "no valid visa or permit; a visa on arrival (" +
                         std::to_string(visa_on_arrival_days) + " days) can be issued.";
    if (!problems.empty()) {
      reason += " Permits on file cannot be used:";
      for (size_t i = 0; i < problems.size(); ++i) reason += (i ? "; " : " ") + problems[i];
      reason += ".";
    }
    add("permit", Verdict::refer, std::move(reason));
  }

  // Pairs an entry with the last exit and an exit with the last entry.
  void check_presence() {
    presence_ = views_.presence(presence_key(views_, req_.document, req_.national_id));
    if (entry_) {
      if (presence_ && presence_->inside)
        add("presence", Verdict::refer,
            "already recorded as present since " + iso(presence_->since) + ", entered at " +
                presence_->post + " (" + describe_record(presence_->last_crossing) +
                "); the last exit may not have been recorded.");
      return;
    }
    if (presence_ && presence_->inside) return;
    std::string reason = "no entry recorded";
    if (presence_) {
      reason += " since the exit on " + iso(presence_->since) + " at " + presence_->post + " (" +
                describe_record(presence_->last_crossing) + ")";
    } else {
      reason += " for " + describe_document(req_.document);
    }
    if (citizen_) {
      add("presence", Verdict::clear, reason + "; a citizen may leave without one.");
    } else {
      add("presence", Verdict::refer, reason + "; establish when and where the traveller entered.");
    }
  }

  // On exit: days past the allowed stay, from the entry on record.
  void check_overstay() {
    if (citizen_ || !presence_ || !presence_->inside) return;
    std::optional<PermitView> permit;
    if (known(presence_->permit_id)) permit = views_.permit(*presence_->permit_id);
    const std::string nationality = presence_->nationality.empty()
                                        ? nationality_
                                        : std::string(normalize_state_code(presence_->nationality));
    const AllowedStay stay = allowed_stay(nationality, presence_->since, permit);
    result_.allowed_until = stay.until;
    std::string entered = "entered on " + iso(presence_->since) + " at " + presence_->post;
    if (known(presence_->permit_id) && !permit)
      entered += " under permit " + *presence_->permit_id + ", which is not known at this node";
    const int32_t over = req_.today.days - stay.until.days;
    if (over > 0) {
      result_.overstay_days = over;
      add("overstay", Verdict::refer,
          "overstayed by " + plural(static_cast<uint32_t>(over), "day", "days") + ": " + entered +
              ", stay allowed until " + iso(stay.until) + " under " + stay.basis + ".");
    } else {
      add("overstay", Verdict::clear,
          entered + "; stay allowed until " + iso(stay.until) + " under " + stay.basis + ".");
    }
  }

  // A state cannot refuse entry to its own citizens: any deny becomes a referral.
  void apply_citizen_entry_rule() {
    if (!citizen_ || !entry_) return;
    for (Finding& f : result_.findings) {
      if (f.verdict != Verdict::deny) continue;
      f.verdict = Verdict::refer;
      f.reason +=
          " Referred, not refused: Rwanda may not refuse entry to its own citizens; establish "
          "identity and record the case.";
    }
  }

  const CheckRequest& req_;
  const ViewReader& views_;
  const std::string doc_key_;
  const std::optional<DocumentView> doc_view_;
  std::string nationality_;
  bool citizen_ = false;
  bool entry_ = true;
  std::optional<std::string> nid_;  // given, or linked to the document by an issuance
  std::optional<PresenceView> presence_;
  CheckResult result_;
};

}  // namespace

AllowedStay allowed_stay(std::string_view nationality, Date since,
                         const std::optional<PermitView>& permit) {
  const Allowance free = visa_free_allowance(nationality);
  const AllowedStay by_nationality{
      last_day_of_stay(since, free.days),
      free.basis + " (" + std::to_string(free.days) + " days" +
          (free.needs_permit ? ", assumed as no permit was recorded at entry)" : ")")};
  if (!permit) return by_nationality;
  const AllowedStay by_permit{permit_stay_until(*permit, since), describe_permit(permit->permit)};
  if (!free.needs_permit && by_nationality.until > by_permit.until) return by_nationality;
  return by_permit;
}

CheckResult run_checks(const CheckRequest& request, const ViewReader& views) {
  return Checker(request, views).run();
}

Decision default_decision(Verdict verdict) {
  switch (verdict) {
    case Verdict::clear:
      return Decision::admitted;
    case Verdict::refer:
      return Decision::referred;
    case Verdict::deny:
      return Decision::refused;
  }
  UMUPAKA_ASSERT_MSG(false, "unknown verdict");
}

}  // namespace umupaka

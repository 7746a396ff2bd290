// The checks run when a traveller presents at a post. Pure and deterministic: the inputs are the
// request, the views and the date of the crossing (from the record's clock, later the ledger's);
// nothing else. Each check adds findings; the verdict is the most severe finding
// (deny > refer > clear). The officer decides; the decision is recorded with the findings.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/records.hpp"
#include "ledger/views.hpp"

namespace umupaka {

// Entry allowances that need no permit (../docs/travel-rules.md): citizens unlimited; East
// African Community partner states 6 months; other African states 30 days (visa-free since
// November 2023). Everyone else needs a permit; a visa on arrival (30 days) can be issued.
inline constexpr uint32_t eac_visitor_pass_days = 180;
inline constexpr uint32_t african_visa_free_days = 30;
inline constexpr uint32_t visa_on_arrival_days = 30;
inline constexpr const char* citizen_state = "RWA";

struct CheckRequest {
  Direction direction = Direction::entry;
  std::string post;
  TravelMode mode = TravelMode::road;
  Person traveller;
  DocumentRef document;
  std::optional<std::string> national_id;
  std::optional<std::string> permit_id;  // presented by the traveller, if any
  Date today;                            // date of the crossing
};

struct CheckResult {
  Verdict verdict = Verdict::clear;
  std::vector<Finding> findings;         // in check order; clear findings only where informative
  std::optional<std::string> permit_id;  // the permit the entry/stay is under, if one applies
  int32_t overstay_days = 0;             // on exit: days past the allowed stay (0 if none)
  std::optional<Date> allowed_until;     // last day of the allowed stay, where one applies
};

// The stay allowed to a traveller of `nationality` (state code as normalize_state_code gives)
// who entered on `since`, under `permit` if one applies: until its valid_until (as extended), or
// the last day of stay_days_max days if sooner; without one, the nationality's visa-free allowance
// (or a visa on arrival's, assumed). A visa-free national keeps their visa-free allowance when a
// permit gives less. `basis` names the allowance for an officer. Used by the overstay check here
// and by the ledger's overstay rule (conflicts.hpp), so both apply one rule table.
struct AllowedStay {
  Date until;  // the last day of the stay
  std::string basis;
};
AllowedStay allowed_stay(std::string_view nationality, Date since,
                         const std::optional<PermitView>& permit);

// Runs every check: document status and expiry, watchlist alerts (document, national ID, name +
// birth date with spelling tolerance), permit validity, presence pairing, overstay on exit.
CheckResult run_checks(const CheckRequest& request, const ViewReader& views);

// The decision an officer is taken to make when they give none: clear admits, refer refers,
// deny refuses.
Decision default_decision(Verdict verdict);

}  // namespace umupaka

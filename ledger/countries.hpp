// State and organisation codes as they appear in ICAO 9303 machine-readable zones, and the
// regional groupings the border rules need. Pure lookups over constant tables: no allocation,
// no global mutable state, safe from any thread.
#pragma once

#include <string_view>

namespace umupaka {

// True if `code` is an ISO 3166-1 alpha-3 code (the current list, 249 codes) or one of the codes
// ICAO 9303 adds for MRZs: "D" (Germany), "UTO" (specimens), "XXA" (stateless), "XXB"/"XXC"
// (refugees), "XXX" (unspecified nationality), "UNO"/"UNA"/"UNK" (United Nations, Kosovo),
// "EUE" (European Union), the British variants "GBD", "GBN", "GBO", "GBP", "GBS", and the other
// issuing authorities' codes (XBA, XCC, XCE, XCO, XDC, XEC, XES, XIM, XMP, XOM, XPO).
// Trailing filler '<' is ignored ("D<<" is "D"); the comparison is case-sensitive (upper case).
bool is_known_state_code(std::string_view code);

// East African Community partner states: BDI, COD, KEN, RWA, SOM, SSD, TZA, UGA.
// Expects an ISO alpha-3 code (normalize_state_code first if it may be an MRZ code).
bool is_eac_partner_state(std::string_view code);

// The 54 UN-member African states, by ISO alpha-3 code (ESH is not included).
bool is_african_state(std::string_view code);

// States that issue and honour the East Africa Tourist Visa: KEN, RWA, UGA.
bool is_eatv_state(std::string_view code);

// Maps the MRZ code for Germany ("D", also "D<" or "D<<") to "DEU" so that codes compare equal
// to ISO alpha-3; returns `code` unchanged otherwise. The result is either a static string or a
// view into `code`, so it lives as long as `code` does.
std::string_view normalize_state_code(std::string_view code);

}  // namespace umupaka

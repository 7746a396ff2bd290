#include "ledger/countries.hpp"

#include <algorithm>
#include <array>

namespace umupaka {
namespace {

// ISO 3166-1 alpha-3, current list (249 codes), sorted for binary search.
constexpr std::array<std::string_view, 249> kIsoAlpha3 = {
    "ABW", "AFG", "AGO", "AIA", "ALA", "ALB", "AND", "ARE", "ARG", "ARM", "ASM", "ATA", "ATF",
    "ATG", "AUS", "AUT", "AZE", "BDI", "BEL", "BEN", "BES", "BFA", "BGD", "BGR", "BHR", "BHS",
    "BIH", "BLM", "BLR", "BLZ", "BMU", "BOL", "BRA", "BRB", "BRN", "BTN", "BVT", "BWA", "CAF",
    "CAN", "CCK", "CHE", "CHL", "CHN", "CIV", "CMR", "COD", "COG", "COK", "COL", "COM", "CPV",
    "CRI", "CUB", "CUW", "CXR", "CYM", "CYP", "CZE", "DEU", "DJI", "DMA", "DNK", "DOM", "DZA",
    "ECU", "EGY", "ERI", "ESH", "ESP", "EST", "ETH", "FIN", "FJI", "FLK", "FRA", "FRO", "FSM",
    "GAB", "GBR", "GEO", "GGY", "GHA", "GIB", "GIN", "GLP", "GMB", "GNB", "GNQ", "GRC", "GRD",
    "GRL", "GTM", "GUF", "GUM", "GUY", "HKG", "HMD", "HND", "HRV", "HTI", "HUN", "IDN", "IMN",
    "IND", "IOT", "IRL", "IRN", "IRQ", "ISL", "ISR", "ITA", "JAM", "JEY", "JOR", "JPN", "KAZ",
    "KEN", "KGZ", "KHM", "KIR", "KNA", "KOR", "KWT", "LAO", "LBN", "LBR", "LBY", "LCA", "LIE",
    "LKA", "LSO", "LTU", "LUX", "LVA", "MAC", "MAF", "MAR", "MCO", "MDA", "MDG", "MDV", "MEX",
    "MHL", "MKD", "MLI", "MLT", "MMR", "MNE", "MNG", "MNP", "MOZ", "MRT", "MSR", "MTQ", "MUS",
    "MWI", "MYS", "MYT", "NAM", "NCL", "NER", "NFK", "NGA", "NIC", "NIU", "NLD", "NOR", "NPL",
    "NRU", "NZL", "OMN", "PAK", "PAN", "PCN", "PER", "PHL", "PLW", "PNG", "POL", "PRI", "PRK",
    "PRT", "PRY", "PSE", "PYF", "QAT", "REU", "ROU", "RUS", "RWA", "SAU", "SDN", "SEN", "SGP",
    "SGS", "SHN", "SJM", "SLB", "SLE", "SLV", "SMR", "SOM", "SPM", "SRB", "SSD", "STP", "SUR",
    "SVK", "SVN", "SWE", "SWZ", "SXM", "SYC", "SYR", "TCA", "TCD", "TGO", "THA", "TJK", "TKL",
    "TKM", "TLS", "TON", "TTO", "TUN", "TUR", "TUV", "TWN", "TZA", "UGA", "UKR", "UMI", "URY",
    "USA", "UZB", "VAT", "VCT", "VEN", "VGB", "VIR", "VNM", "VUT", "WLF", "WSM", "YEM", "ZAF",
    "ZMB", "ZWE",
};

// Codes ICAO 9303 Part 3 adds for issuing states and nationalities ("D" is handled apart), and
// its codes of other issuing authorities (Part 3, "Codes for other issuing authorities": the
// African Development Bank, Afreximbank, CARICOM, the Council of Europe, COMESA, SADC, ECOWAS,
// the OECS, the Parliamentary Assembly of the Mediterranean, the Order of Malta, Interpol),
// whose laissez-passers an East African post sees.
constexpr std::array<std::string_view, 25> kIcaoExtraCodes = {
    "EUE", "GBD", "GBN", "GBO", "GBP", "GBS", "UNA", "UNK", "UNO", "UTO", "XBA", "XCC", "XCE",
    "XCO", "XDC", "XEC", "XES", "XIM", "XMP", "XOM", "XPO", "XXA", "XXB", "XXC", "XXX",
};

// United Nations member states in Africa.
constexpr std::array<std::string_view, 54> kAfricanStates = {
    "AGO", "BDI", "BEN", "BFA", "BWA", "CAF", "CIV", "CMR", "COD", "COG", "COM",
    "CPV", "DJI", "DZA", "EGY", "ERI", "ETH", "GAB", "GHA", "GIN", "GMB", "GNB",
    "GNQ", "KEN", "LBR", "LBY", "LSO", "MAR", "MDG", "MLI", "MOZ", "MRT", "MUS",
    "MWI", "NAM", "NER", "NGA", "RWA", "SDN", "SEN", "SLE", "SOM", "SSD", "STP",
    "SWZ", "SYC", "TCD", "TGO", "TUN", "TZA", "UGA", "ZAF", "ZMB", "ZWE",
};

constexpr std::array<std::string_view, 8> kEacPartnerStates = {
    "BDI", "COD", "KEN", "RWA", "SOM", "SSD", "TZA", "UGA",
};

constexpr std::array<std::string_view, 3> kEatvStates = {"KEN", "RWA", "UGA"};

template <size_t N>
constexpr bool strictly_sorted(const std::array<std::string_view, N>& table) {
  return std::adjacent_find(table.begin(), table.end(), [](std::string_view a, std::string_view b) {
           return a >= b;
         }) == table.end();
}

template <size_t N>
constexpr bool all_in(const std::array<std::string_view, N>& subset) {
  return std::all_of(subset.begin(), subset.end(), [](std::string_view c) {
    return std::binary_search(kIsoAlpha3.begin(), kIsoAlpha3.end(), c);
  });
}

static_assert(strictly_sorted(kIsoAlpha3));
static_assert(strictly_sorted(kIcaoExtraCodes));
static_assert(strictly_sorted(kAfricanStates));
static_assert(strictly_sorted(kEacPartnerStates));
static_assert(strictly_sorted(kEatvStates));
static_assert(all_in(kAfricanStates) && all_in(kEacPartnerStates) && all_in(kEatvStates));

template <size_t N>
bool contains(const std::array<std::string_view, N>& table, std::string_view code) {
  return std::binary_search(table.begin(), table.end(), code);
}

std::string_view strip_trailing_filler(std::string_view code) {
  while (!code.empty() && code.back() == '<') code.remove_suffix(1);
  return code;
}

}  // namespace

bool is_known_state_code(std::string_view code) {
  code = strip_trailing_filler(code);
  if (code == "D") return true;
  return contains(kIsoAlpha3, code) || contains(kIcaoExtraCodes, code);
}

bool is_eac_partner_state(std::string_view code) { return contains(kEacPartnerStates, code); }

bool is_african_state(std::string_view code) { return contains(kAfricanStates, code); }

bool is_eatv_state(std::string_view code) { return contains(kEatvStates, code); }

std::string_view normalize_state_code(std::string_view code) {
  if (code.size() <= 3 && strip_trailing_filler(code) == "D") return "DEU";
  return code;
}

}  // namespace umupaka

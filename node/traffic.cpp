#include "node/traffic.hpp"

#include "ledger/assert.hpp"
#include "ledger/checks.hpp"
#include "ledger/countries.hpp"
#include "ledger/mrz.hpp"

namespace umupaka {
namespace {

// Hourly shapes. Rubavu: peaks 06-10 and 16-18 (border residents going to work and back).
constexpr std::array<double, 24> resident_peaks = {0.1, 0.1, 0.1, 0.1, 0.2, 0.6, 2.0, 3.0,
                                                   3.0, 2.5, 2.0, 1.2, 1.0, 1.0, 1.1, 1.4,
                                                   2.6, 2.8, 2.2, 1.0, 0.5, 0.3, 0.2, 0.1};
// Trucks run day and night at OSBPs, heavier by day.
constexpr std::array<double, 24> freight = {0.6, 0.5, 0.5, 0.5, 0.6, 0.8, 1.0, 1.2,
                                            1.3, 1.3, 1.3, 1.3, 1.3, 1.3, 1.3, 1.3,
                                            1.3, 1.2, 1.1, 1.0, 0.9, 0.8, 0.7, 0.6};
// Daytime posts open 06-18.
constexpr std::array<double, 24> daytime = {0,   0,   0,   0,   0,   0,   1.0, 1.5,
                                            1.5, 1.3, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2,
                                            1.3, 1.0, 0.3, 0,   0,   0,   0,   0};
// The airport: waves of arrivals and departures around flight banks.
constexpr std::array<double, 24> airport = {0.5, 0.3, 0.2, 0.2, 0.4, 1.0, 1.6, 1.5,
                                            1.2, 1.0, 1.0, 1.1, 1.2, 1.3, 1.3, 1.2,
                                            1.2, 1.4, 1.6, 1.8, 1.9, 1.6, 1.1, 0.8};

// Names by language area: enough variety for realistic lookups and fuzzy-matching cases.
const std::vector<const char*> rw_surnames = {
    "UWIMANA",    "NIYONZIMA",  "HABIMANA",   "MUKAMANA",    "NSENGIYUMVA",  "HAKIZIMANA",
    "MUGISHA",    "IRADUKUNDA", "BIZIMANA",   "MUKESHIMANA", "NDAYISABA",    "UWASE",
    "NIYITEGEKA", "TUYISENGE",  "MANIRAGUHA", "INGABIRE",    "NSHIMIYIMANA", "UMUTONI",
    "KAMANZI",    "RUKUNDO",    "NIYOMUGABO", "MUTONI",      "HABYARIMANA",  "NKURUNZIZA"};
const std::vector<const char*> rw_given = {"JEAN PIERRE", "MARIE CLAIRE", "ERIC",    "DIANE",
                                           "EMMANUEL",    "ALINE",        "PATRICK", "CLAUDINE",
                                           "INNOCENT",    "GRACE",        "OLIVIER", "JOSIANE",
                                           "THEONESTE",   "VESTINE",      "CHANTAL", "FABRICE"};
const std::vector<const char*> cd_surnames = {
    "MUKENDI", "KABILA",  "TSHIBANDA", "MWAMBA", "LUMBALA", "KASONGO", "MBUYI",  "NGOY",
    "BAHATI",  "MUHINDO", "KAMBALE",   "PALUKU", "KAVIRA",  "MASIKA",  "SIKULI", "KAHINDO"};
const std::vector<const char*> cd_given = {"JEAN",      "ESPERANCE", "JOSEPH",  "FURAHA",
                                           "DIEUDONNE", "NEEMA",     "PATIENT", "AMANI",
                                           "FISTON",    "SIFA",      "GLOIRE",  "DORCAS"};
const std::vector<const char*> ea_surnames = {
    "MUGABE", "OCHIENG",  "OTIENO", "KIPRONO", "NAKATO",  "SSEMPA", "WANJIRU", "KAMAU",
    "MWANGI", "NAMUTEBI", "OKELLO", "MUSOKE",  "MOHAMED", "JUMA",   "HASSAN",  "MUTESI"};
const std::vector<const char*> ea_given = {"JOHN",  "MARY",   "PETER",  "GRACE",  "DAVID",
                                           "FAITH", "JOSEPH", "ESTHER", "SAMUEL", "AMINA",
                                           "BRIAN", "HALIMA", "MOSES",  "MERCY"};
const std::vector<const char*> intl_surnames = {"SMITH",   "MULLER", "DUBOIS", "ROSSI",
                                                "GARCIA",  "WANG",   "SHARMA", "KIM",
                                                "JOHNSON", "NOVAK",  "SILVA",  "JANSEN"};
const std::vector<const char*> intl_given = {"JAMES", "ANNA",  "LUCAS", "SOPHIE", "WEI",
                                             "PRIYA", "MARCO", "ELENA", "THOMAS", "LAURA"};

const std::vector<PostProfile>& profiles_table() {
  static const std::vector<PostProfile> table = {
      {"rubavu-corniche",
       "Rubavu Grande Barriere (La Corniche)",
       SiteKind::border_post,
       45000,
       {{"COD", 0.62},
        {"RWA", 0.33},
        {"UGA", 0.01},
        {"KEN", 0.01},
        {"BDI", 0.01},
        {"BEL", 0.01},
        {"USA", 0.01}},
       0.85,
       TravelMode::pedestrian,
       resident_peaks},
      {"rubavu-poids-lourds",
       "Rubavu Petite Barriere (Poids Lourds)",
       SiteKind::border_post,
       6000,
       {{"COD", 0.55}, {"RWA", 0.40}, {"UGA", 0.03}, {"TZA", 0.02}},
       0.8,
       TravelMode::road,
       resident_peaks},
      {"gatuna",
       "Gatuna / Katuna OSBP",
       SiteKind::border_post,
       3500,
       {{"UGA", 0.45},
        {"RWA", 0.35},
        {"KEN", 0.10},
        {"TZA", 0.03},
        {"SSD", 0.03},
        {"COD", 0.02},
        {"GBR", 0.01},
        {"IND", 0.01}},
       0.5,
       TravelMode::road,
       freight},
      {"rusumo",
       "Rusumo OSBP",
       SiteKind::border_post,
       1500,
       {{"TZA", 0.45}, {"RWA", 0.25}, {"KEN", 0.12}, {"UGA", 0.08}, {"BDI", 0.05}, {"COD", 0.05}},
       0.3,
       TravelMode::road,
       freight},
      {"kagitumba",
       "Kagitumba OSBP",
       SiteKind::border_post,
       1200,
       {{"UGA", 0.55}, {"RWA", 0.35}, {"KEN", 0.05}, {"TZA", 0.05}},
       0.5,
       TravelMode::road,
       freight},
      {"nemba",
       "Nemba OSBP",
       SiteKind::border_post,
       1500,
       {{"BDI", 0.55}, {"RWA", 0.40}, {"TZA", 0.03}, {"COD", 0.02}},
       0.6,
       TravelMode::road,
       daytime},
      {"cyanika",
       "Cyanika",
       SiteKind::border_post,
       1200,
       {{"UGA", 0.50}, {"RWA", 0.48}, {"COD", 0.02}},
       0.7,
       TravelMode::pedestrian,
       daytime},
      {"rusizi-1",
       "Rusizi I",
       SiteKind::border_post,
       8000,
       {{"COD", 0.60}, {"RWA", 0.37}, {"BDI", 0.03}},
       0.85,
       TravelMode::pedestrian,
       daytime},
      {"kigali-airport",
       "Kigali International Airport",
       SiteKind::airport,
       2000,
       {{"RWA", 0.30},
        {"KEN", 0.08},
        {"UGA", 0.06},
        {"USA", 0.08},
        {"GBR", 0.06},
        {"BEL", 0.05},
        {"FRA", 0.05},
        {"DEU", 0.04},
        {"NGA", 0.05},
        {"ZAF", 0.03},
        {"IND", 0.05},
        {"CHN", 0.05},
        {"TZA", 0.03},
        {"COD", 0.04},
        {"NLD", 0.03}},
       0.0,
       TravelMode::air,
       airport},
  };
  return table;
}

// Draws by modulo and by the engine's top 53 bits, not <random>'s distributions: the same
// traffic from a seed on every standard library (the engine's output is fixed by the standard,
// the distributions' use of it is not).
std::string pick(std::mt19937_64& rng, const std::vector<const char*>& v) {
  return v[rng() % v.size()];
}

double unit(std::mt19937_64& rng) {  // [0, 1)
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

std::string digits(std::mt19937_64& rng, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + rng() % 10));
  return s;
}

std::string letters(std::mt19937_64& rng, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('A' + rng() % 26));
  return s;
}

// A spelling variant an alert clerk might have typed: one doubled, dropped or swapped letter.
std::string variant(std::mt19937_64& rng, const std::string& name) {
  if (name.size() < 5) return name;
  std::string v = name;
  const size_t i = 1 + rng() % (v.size() - 3);
  switch (rng() % 3) {
    case 0:
      v.insert(i, 1, v[i]);
      break;
    case 1:
      std::swap(v[i], v[i + 1]);
      break;
    default:
      if (v[i] == 'I')
        v[i] = 'Y';
      else if (v[i] == 'Y')
        v[i] = 'I';
      else
        v.insert(i, 1, v[i]);
  }
  return v;
}

}  // namespace

const std::vector<PostProfile>& post_profiles() { return profiles_table(); }

const PostProfile& profile_for(std::string_view site, SiteKind kind) {
  for (const auto& p : profiles_table())
    if (site == p.site) return p;
  if (kind == SiteKind::airport) return profiles_table().back();
  // Small posts on the Uganda border: 50-300 people a day.
  static const PostProfile small = {"small-post",
                                    "small border post",
                                    SiteKind::border_post,
                                    200,
                                    {{"RWA", 0.55}, {"UGA", 0.40}, {"KEN", 0.05}},
                                    0.7,
                                    TravelMode::pedestrian,
                                    daytime};
  return small;
}

double crossings_per_second(const PostProfile& p, int hour) {
  double sum = 0;
  for (double w : p.hourly_weight) sum += w;
  UMUPAKA_ASSERT(sum > 0 && hour >= 0 && hour < 24);
  return p.crossings_per_day * (p.hourly_weight[static_cast<size_t>(hour)] / sum) / 3600.0;
}

TrafficGenerator::TrafficGenerator(const PostProfile& profile, uint64_t seed, size_t population)
    : profile_(profile), rng_(seed) {
  UMUPAKA_ASSERT(population > 0);
  people_.resize(population);
}

TrafficGenerator::Traveller TrafficGenerator::make_person(Date today) {
  Traveller p;
  double r = unit(rng_), acc = 0;
  p.nationality = profile_.nationalities.back().code;
  for (const auto& n : profile_.nationalities) {
    acc += n.share;
    if (r < acc) {
      p.nationality = n.code;
      break;
    }
  }
  const std::string& nat = p.nationality;
  if (nat == "RWA" || nat == "BDI") {
    p.surname = pick(rng_, rw_surnames);
    p.given_names = pick(rng_, rw_given);
  } else if (nat == "COD") {
    p.surname = pick(rng_, cd_surnames);
    p.given_names = pick(rng_, cd_given);
  } else if (is_african_state(nat)) {
    p.surname = pick(rng_, ea_surnames);
    p.given_names = pick(rng_, ea_given);
  } else {
    p.surname = pick(rng_, intl_surnames);
    p.given_names = pick(rng_, intl_given);
  }
  p.sex = rng_() % 2 ? Sex::male : Sex::female;
  const int age_years = 18 + static_cast<int>(rng_() % 55);
  p.birth_date = Date{today.days - age_years * 365 - static_cast<int32_t>(rng_() % 365)};
  // EAC citizens of Kenya, Rwanda and Uganda may travel on ID cards; Congolese and Burundian
  // border residents (CEPGL) on a border pass, which has no MRZ.
  const bool id_card_country = nat == "RWA" || nat == "KEN" || nat == "UGA";
  const bool pass_country = nat == "COD" || nat == "BDI";
  const bool local = unit(rng_) < profile_.id_card_share;
  if (local && id_card_country) {
    p.document_kind = DocumentKind::national_id_card;
    p.document_number = digits(rng_, 9);
  } else if (local && pass_country) {
    p.document_kind = DocumentKind::border_pass;
    p.document_number = "CEPGL" + digits(rng_, 7);
  } else {
    p.document_kind = DocumentKind::passport;
    // Two statements: the operands of + are drawn in an unspecified order.
    p.document_number = letters(rng_, 2);
    p.document_number += digits(rng_, 7);
  }
  // Most documents valid for years; about 1 in 150 expired (a check that should fire).
  p.expiry = Date{today.days + (rng_() % 150 == 0 ? -static_cast<int32_t>(rng_() % 400 + 1)
                                                  : static_cast<int32_t>(rng_() % 3600 + 30))};
  if (nat == "RWA") p.national_id = "1" + digits(rng_, 15);
  // Citizens may start on either side (a citizen's exit needs no recorded entry); everyone else
  // starts abroad, so the demo's first day does not flag every foreign exit.
  p.inside = nat == citizen_state && rng_() % 2 == 0;
  return p;
}

size_t TrafficGenerator::pick_person() { return rng_() % people_.size(); }

std::vector<TrafficEvent> TrafficGenerator::next(Date today) {
  if (population_date_.days == 0) {
    population_date_ = today;
    for (auto& p : people_) p = make_person(today);
  }
  Traveller& p = people_[pick_person()];
  std::vector<TrafficEvent> out;
  const Direction dir = p.inside ? Direction::exit : Direction::entry;
  const bool visa_free = p.nationality == citizen_state || is_african_state(p.nationality);
  if (dir == Direction::entry && !visa_free) {
    PermitRequest voa;
    voa.kind = profile_.kind == SiteKind::airport || rng_() % 4
                   ? PermitKind::visa_on_arrival
                   : PermitKind::east_africa_tourist_visa;
    voa.holder = Person{p.surname, p.given_names, p.nationality, p.birth_date, p.sex};
    voa.document = DocumentRef{p.document_kind, p.nationality, p.document_number, p.expiry};
    voa.note = "issued at " + std::string(profile_.site);
    out.push_back(TrafficEvent{std::move(voa), p.watchlisted});
  }
  CrossingRequest c;
  c.direction = dir;
  c.mode = profile_.mode;
  if (!p.national_id.empty()) c.national_id = p.national_id;
  // Most documents are read from the MRZ; a few typed when the reader fails.
  if (p.document_kind != DocumentKind::border_pass && rng_() % 10 < 8) {
    mrz::Document d;
    d.format = p.document_kind == DocumentKind::passport ? mrz::Format::td3 : mrz::Format::td1;
    d.document_code = p.document_kind == DocumentKind::passport ? "P" : "ID";
    d.issuing_state = p.nationality;
    d.surname = p.surname;
    d.given_names = p.given_names;
    d.document_number = p.document_number;
    d.nationality = p.nationality;
    d.birth_date = p.birth_date;
    d.sex = p.sex == Sex::female ? 'F' : p.sex == Sex::male ? 'M' : 'X';
    d.expiry_date = p.expiry;
    c.mrz = d.format == mrz::Format::td3 ? mrz::compose_td3(d) : mrz::compose_td1(d);
  } else {
    c.traveller = Person{p.surname, p.given_names, p.nationality, p.birth_date, p.sex};
    c.document = DocumentRef{p.document_kind, p.nationality, p.document_number, p.expiry};
  }
  out.push_back(TrafficEvent{std::move(c), p.watchlisted});
  // The generator assumes the officer lets them through; a refusal keeps them where they were,
  // which the next crossing's presence check will then notice, as at a real post.
  p.inside = !p.inside;
  return out;
}

std::vector<CommandBody> TrafficGenerator::watchlist(size_t count, Date today) {
  if (population_date_.days == 0) {
    population_date_ = today;
    for (auto& p : people_) p = make_person(today);
  }
  std::vector<CommandBody> out;
  for (size_t i = 0; i < count; ++i) {
    Traveller& p = people_[pick_person()];
    p.watchlisted = true;
    switch (i % 4) {
      case 0: {  // name + birth date, typed with a spelling variant
        AlertRequest a;
        a.subject.kind = AlertSubjectKind::name;
        a.subject.surname = variant(rng_, p.surname);
        a.subject.given_names = p.given_names;
        a.subject.birth_date = p.birth_date;
        a.category = "wanted";
        a.action = AlertAction::refer;
        a.reason = "interview before admission (demo watchlist)";
        out.emplace_back(std::move(a));
        break;
      }
      case 1: {
        AlertRequest a;
        a.subject.kind = AlertSubjectKind::document;
        a.subject.document_country = p.nationality;
        a.subject.document_number = p.document_number;
        a.category = "sltd";
        a.action = AlertAction::deny;
        a.reason = "document listed in the stolen and lost travel documents database";
        out.emplace_back(std::move(a));
        break;
      }
      case 2: {
        DocumentStatusRequest d;
        d.country = p.nationality;
        d.number = p.document_number;
        d.status = rng_() % 2 ? DocumentStatus::stolen : DocumentStatus::lost;
        d.reason = "reported by the holder at a police station";
        out.emplace_back(std::move(d));
        break;
      }
      default: {
        AlertRequest a;
        a.subject.kind = AlertSubjectKind::name;
        a.subject.surname = p.surname;
        a.subject.given_names = p.given_names;
        a.subject.birth_date = p.birth_date;
        a.category = "immigration";
        a.action = AlertAction::monitor;
        a.reason = "monitor movements (demo watchlist)";
        out.emplace_back(std::move(a));
      }
    }
  }
  (void)today;
  return out;
}

}  // namespace umupaka

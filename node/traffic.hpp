// Realistic border traffic for demos, load tests and the simulator: a seeded, deterministic
// generator of the commands officers send at a post. Pure: no I/O, no clock; the caller gives the
// date. Post profiles carry the public figures of docs/rwanda-posts.md (volumes, peaks, who
// crosses, on which documents).
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "node/commands.hpp"

namespace umupaka {

struct NationalityShare {
  const char* code;  // ISO alpha-3
  double share;
};

struct PostProfile {
  const char* site;
  const char* name;
  SiteKind kind;
  uint32_t crossings_per_day;
  std::vector<NationalityShare> nationalities;
  double id_card_share;  // of EAC nationals (RWA, KEN, UGA), the share crossing on ID cards
  TravelMode mode;
  std::array<double, 24> hourly_weight;  // relative weight of each hour (local time)
};

const std::vector<PostProfile>& post_profiles();
// The profile for a site id; a generic small border post when none matches.
const PostProfile& profile_for(std::string_view site, SiteKind kind);
// Expected crossings per second at `hour` (0..23).
double crossings_per_second(const PostProfile& p, int hour);

struct TrafficEvent {
  CommandBody body;
  bool watchlisted = false;  // the generator planted an alert or a document report for this person
};

class TrafficGenerator {
 public:
  // `population`: distinct travellers who use this post (border residents cross daily).
  TrafficGenerator(const PostProfile& profile, uint64_t seed, size_t population);

  // The commands for the next traveller at the post: usually one crossing (entry if the generator
  // believes them outside, exit if inside); a visa on arrival first for those who need one.
  std::vector<TrafficEvent> next(Date today);

  // What HQ holds on file about some of this post's travellers: name alerts with spelling
  // variants, document alerts and lost/stolen reports (`count` in all). Recorded before traffic
  // starts, they make the checks fire when those people cross.
  std::vector<CommandBody> watchlist(size_t count, Date today);

  const PostProfile& profile() const { return profile_; }

 private:
  struct Traveller {
    std::string surname, given_names, nationality, national_id;
    Date birth_date;
    Sex sex = Sex::unspecified;
    DocumentKind document_kind = DocumentKind::passport;
    std::string document_number;
    Date expiry;
    bool inside = false;
    bool watchlisted = false;
  };
  Traveller make_person(Date today);
  size_t pick_person();

  const PostProfile& profile_;
  std::mt19937_64 rng_;
  std::vector<Traveller> people_;
  Date population_date_{};
};

}  // namespace umupaka

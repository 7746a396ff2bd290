// Name matching for watchlist screening: does a traveller's name denote the same person's name as a
// watchlist alert's name? The alert also requires the exact birth date, which is checked elsewhere;
// this module only compares names. Pure functions: no I/O, no global mutable state, no exceptions,
// safe to call from any thread.
//
// Operators complain about two failure modes, and both count: false hits caused by treating
// distinct names as spellings of one another, and missed hits caused by spelling variants. The rule
// below is built from explicit, explainable categories rather than a single fuzzy score, because a
// generic string similarity (Jaro-Winkler) rewards long shared prefixes, and Kinyarwanda names are
// built from shared morphemes: BIZIMANA/BIZIMUNGU scores 0.88 and ANNA/HANNAH 0.89, above any
// useful cut.
//
// THE MATCHING RULE
//
// 1. Each name (surname + given names) is normalized (see normalize) and split into tokens, surname
//    tokens first. Only the first name_tokens_max tokens take part; tokens longer than
//    token_letters_max letters are compared on their first token_letters_max letters.
// 2. Joined spellings: a run of up to join_tokens_max adjacent tokens from the same field is joined
//    into one token when the joined letters are exactly or phonetically equal to some token of the
//    other name (JEAN PIERRE ~ JEANPIERRE, O NEIL ~ ONEIL, ABDEL RAHMAN ~ ABDULRAHMAN). Joins are
//    decided for both names against the other's unjoined tokens, so the result is symmetric.
// 3. Two tokens are compared into one of these kinds, with a fixed score:
//      exact     1.00  the same letters;
//      phonetic  0.95  equal phonetic_key and compatible initial and stem vowels (see
//                      phonetic_key), or a Swahili final vowel: one token ends in consonant + I or
//                      U and without that vowel is phonetically the other, the stem having at least
//                      swahili_stem_letters_min letters (HASSAN ~ HASSANI, YUSUF ~ YUSUFU,
//                      ZAINAB ~ ZAINABU; JEAN ~ JEANNE is not: E is the French feminine ending);
//      typo      0.90  both at least typo_letters_min letters long, one insertion, deletion,
//                      substitution or swap of adjacent letters apart, and the same last letter
//                      (name endings carry gender and noun class: FRANCOIS/FRANCOISE,
//                      CHRISTIAN/CHRISTIANE, MUGABO/MUGABE are different names, not typos);
//      different 0.80 x jaro_winkler, so at most 0.80: never accepted, but shown to the officer.
//    A token pair is accepted when its score is >= match_threshold, i.e. it is not "different".
// 4. The shorter name's tokens (either name when both have the same count) are assigned one-to-one
//    to the longer name's tokens, in any order (surname and given names may be swapped or mixed),
//    maximising first the number of accepted pairs and then the sum of scores. Exhaustive branch
//    and bound over the injective assignments (at most 6! = 720 for name_tokens_max = 6).
// 5. The names match when every token of the shorter name is in an accepted pair. Unpaired
//    tokens of the longer name (a middle name present on one side only) are allowed. So the
//    surname tokens of the shorter name are always matched, and at least two tokens are matched
//    unless one name has a single token (a mononym, as recorded by some states, matches any name
//    that contains it). A name with no letters matches nothing.
// 6. score = mean of the pair scores over the shorter name's tokens, so 0.90 <= score <= 1.0 on a
//    match and a non-match can still show how close it came.
//
// This is stricter than "mean over tokens >= threshold": a name that differs in any token of the
// shorter side (HABIMANA JEAN PAUL vs HABIMANA JEAN CLAUDE, siblings; HASSAN vs HUSSEIN in an
// Arabic name chain) is not a hit, whatever the other tokens do.
//
// DECISIONS ON AMBIGUOUS PAIRS (pinned by tests/ledger/names_test.cpp)
//
//  - JEAN vs JOHN: no match. They are one name in two languages, not two spellings; the same holds
//    for MARIE/MARIA, JOSEPH/YUSUF. Such equivalents belong on the alert as recorded aliases.
//  - ANNA vs HANNAH: no match. A word-initial H is significant (ANNA/HANNAH, ASSAN/HASSAN); a final
//    H after a vowel is silent (HANNAH = HANNA, ABDALLAH = ABDALLA, SARAH = SARA).
//  - NIYONZIMA/NIYONSENGA, MUGISHA/MUGABO, BIZIMANA/BIZIMUNGU, HABIMANA/HABYARIMANA: no match
//    (different consonants; JW alone would pass some of them).
//  - HASSAN vs HUSSEIN, OMAR vs AMMAR, AMIR vs AMMAR, JEAN vs JOAN: no match (the stem or initial
//    vowel differs); MAHMOUD vs MOHAMED: no match (the consonants differ).
//  - MOHAMED/MUHAMMAD/MOHAMMED, YOUSSEF/YUSUF, ABDULLAH/ABDALLAH, ISMAIL/ISMAEL: match. Vowels
//    after the stem vowel are not compared, because Arabic short vowels are transliterated freely.
//    FATIMA/FATUMA and AISHA/ASHA therefore match too (wanted: the Swahili forms); the price is
//    that SAID/SAAD and HAMID/HAMAD match as well.
//  - Known miss: a typo in a token shorter than typo_letters_min (UWIMANA/UWIMAMA), or in the last
//    letter. Known false hit: long names one letter apart that are really different
//    (NSHIMIYIMANA/NSHIMIRIMANA); the officer sees "typo" and the 0.90 score in the explanation.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace umupaka::names {

// Limits, with their reasons.
// Tokens per name taken into account. Real names rarely exceed 5 tokens; 6 keeps the brute-force
// assignment at <= 720 leaves so that a comparison costs microseconds.
inline constexpr std::size_t name_tokens_max = 6;
// Letters per token taken into account: the TD3 MRZ name field is 39 characters, so no token read
// from an MRZ is longer. Bounds Jaro-Winkler's quadratic worst case on hostile input.
inline constexpr std::size_t token_letters_max = 39;
// A one-letter difference is tolerated only in tokens at least this long: shorter Kinyarwanda and
// European names have real neighbours one edit away (MUGABO/MUGABE, MARIE/MARIO).
inline constexpr std::size_t typo_letters_min = 8;
// Adjacent tokens joined at most (VAN DER BERG ~ VANDERBERG).
inline constexpr std::size_t join_tokens_max = 3;
// Minimum stem length for the Swahili final-vowel variant (HASSAN ~ HASSANI), so that short
// particles (AL ~ ALI) are not caught.
inline constexpr std::size_t swahili_stem_letters_min = 4;

// A token pair is accepted as the same name when its score reaches this. The token scores are fixed
// per kind: exact 1.00, phonetic 0.95, typo 0.90, different <= 0.80. 0.88 sits between the lowest
// accepted kind and the highest rejected score with margin on both sides, so no floating-point
// rounding decides a case; it is also a familiar Jaro-Winkler cut for names.
inline constexpr double match_threshold = 0.88;
inline constexpr double score_exact = 1.0;
inline constexpr double score_phonetic = 0.95;
inline constexpr double score_typo = 0.90;
inline constexpr double score_different_max = 0.80;
static_assert(score_typo >= match_threshold && score_phonetic > score_typo &&
              score_exact > score_phonetic);
static_assert(score_different_max < match_threshold);

// Upper-case ASCII form used everywhere names are compared or stored for matching. Input is UTF-8:
//  - Latin letters with diacritics are transliterated per ICAO 9303 Part 3 recommendations:
//    Ä->AE, Ö->OE, Ü->UE, Å->AA, Æ->AE, Ø->OE, Œ->OE, ß->SS, Þ->TH, Ĳ->IJ; every other accented
//    letter loses its accent (É->E, Ñ->N, Ç->C, Ł->L, Ș->S, Vietnamese Ạ..Ỹ -> base letter).
//    Decomposed input (base letter + combining mark) gives the same result as precomposed input.
//  - Separators become one space: white space, the MRZ filler '<', apostrophes (' ’ ‘ ʼ ʻ ` ´),
//    hyphens and dashes, and commas (ICAO writes a comma as a filler in the MRZ).
//  - Anything else is dropped: digits, other punctuation, letters of non-Latin scripts (the caller
//    supplies the Latin form, as printed in the VIZ or MRZ), and invalid UTF-8 bytes (overlong
//    forms, surrogates, stray continuation bytes, truncated sequences), one byte at a time, never a
//    crash.
//  - Runs of spaces are collapsed and the result trimmed. The result holds only 'A'..'Z' and ' '.
std::string normalize(std::string_view utf8_name);

// Normalized tokens of surname followed by those of the given names (no limit applied).
std::vector<std::string> tokens(std::string_view surname, std::string_view given_names);

struct Match {
  bool matched = false;
  double score = 0.0;       // 0..1, see the rule above
  std::string explanation;  // for the officer, e.g.
  // "ALI, MOHAMED ~ ALI, MUHAMMAD (score 0.97: ALI exact, MOHAMED~MUHAMMAD phonetic)"
  // or "UWASE, ANNA vs UWASE, HANNAH: no match (score 0.86: UWASE exact, ANNA~HANNAH different)"
};

// Compare a traveller's name (a) with a watchlist name (b) by the rule above. Arguments are UTF-8
// and normalized here. Symmetric: match(a, b) and match(b, a) agree on matched, and on score up to
// floating-point rounding; the explanation lists the pairs in the first name's order.
// Deterministic. Cost: a few microseconds for names of usual length.
Match match(std::string_view surname_a, std::string_view given_a, std::string_view surname_b,
            std::string_view given_b);

// Jaro-Winkler similarity in [0, 1] (prefix scale 0.1, prefix up to 4 letters). Two empty strings
// are 1.0; one empty string gives 0.0. Byte-wise; symmetric.
double jaro_winkler(std::string_view a, std::string_view b);

// Phonetic key of one token, folding spelling variants common in Kinyarwanda, Swahili, French,
// English and Arabic transliterations. Letters outside A..Z are ignored (lower case is
// upper-cased).
//  - Consonant spellings: SCH, TCH, CH, SH -> X (CH before R or L -> K: CHRISTIAN); PH -> F;
//    KH -> H; GH -> G; TH -> T; DH -> D; DJ -> J; CK, Q -> K; C before E, I, Y -> S, else K;
//    X -> KS. Doubled consonants are written once (NIYONZIMMA = NIYONZIMA).
//  - H: kept word-initially and between letters; dropped at the end after a vowel (HANNAH, ALLAH).
//  - Y is a vowel (HABIMANA = HABYMANA, HABYARIMANA = HABIYARIMANA), except word-initially before a
//    vowel or between two vowels other than I, where it is the consonant Y (YUSUF, MAYA).
//  - Every run of vowels inside the word becomes 'a'; a run ending the word becomes the class of
//    its last letter: 'a' for A, 'i' for E I Y, 'u' for O U, so MUGABO ('u') is not MUGABE ('i').
// Examples: MOHAMED, MUHAMMAD, MOHAMMED -> "MaHaMaD"; IRADUKUNDA, IRADOUKOUNDA -> "aRaDaKaNDa".
// Equal keys are necessary but not sufficient for a "phonetic" pair in match: the initial vowel (if
// the word starts with one) and the stem vowel (the first vowel after a consonant; in ABD-AL names
// the one after the article) must also be compatible letters, A~E, E~I~Y, O~U, comparing the first
// letter of each vowel run. That keeps HASSAN/HUSSEIN, AMIR/AMMAR and JEAN/JOAN apart.
std::string phonetic_key(std::string_view token);

}  // namespace umupaka::names

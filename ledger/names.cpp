#include "ledger/names.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "ledger/assert.hpp"

namespace umupaka::names {
namespace {

// ---------------------------------------------------------------------------------------------
// UTF-8 decoding

struct Decoded {
  char32_t cp = 0;
  std::size_t length = 1;  // bytes consumed, >= 1
  bool valid = false;
};

bool is_continuation(unsigned char b) { return (b & 0xC0u) == 0x80u; }

// Decodes the code point starting at s[i] (i < s.size()). Rejects overlong forms, surrogates, code
// points above U+10FFFF, stray continuation bytes and truncated sequences; an invalid sequence
// consumes exactly one byte, so decoding resumes at the next byte.
Decoded decode_utf8(std::string_view s, std::size_t i) {
  UMUPAKA_ASSERT(i < s.size());
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80u) return Decoded{b0, 1, true};
  std::size_t length = 0;
  unsigned char lo = 0x80u, hi = 0xBFu;  // allowed range of the second byte
  char32_t cp = 0;
  if (b0 >= 0xC2u && b0 <= 0xDFu) {
    length = 2;
    cp = b0 & 0x1Fu;
  } else if (b0 >= 0xE0u && b0 <= 0xEFu) {
    length = 3;
    cp = b0 & 0x0Fu;
    if (b0 == 0xE0u) lo = 0xA0u;  // overlong
    if (b0 == 0xEDu) hi = 0x9Fu;  // surrogates
  } else if (b0 >= 0xF0u && b0 <= 0xF4u) {
    length = 4;
    cp = b0 & 0x07u;
    if (b0 == 0xF0u) lo = 0x90u;  // overlong
    if (b0 == 0xF4u) hi = 0x8Fu;  // above U+10FFFF
  } else {
    return Decoded{};  // continuation byte, C0/C1 (overlong), F5..FF
  }
  if (i + length > s.size()) return Decoded{};
  const unsigned char b1 = byte(i + 1);
  if (b1 < lo || b1 > hi) return Decoded{};
  cp = (cp << 6) | (b1 & 0x3Fu);
  for (std::size_t k = 2; k < length; ++k) {
    const unsigned char b = byte(i + k);
    if (!is_continuation(b)) return Decoded{};
    cp = (cp << 6) | (b & 0x3Fu);
  }
  return Decoded{cp, length, true};
}

// ---------------------------------------------------------------------------------------------
// Transliteration tables (ICAO 9303 Part 3 recommended transliterations; otherwise accents drop)

// U+00C0..U+00DF; U+00E0..U+00FF reuse it (lower case) except U+00F7 (division sign) and U+00FF.
constexpr std::array<const char*, 32> latin1_upper = {
    "A", "A", "A", "A", "AE", "AA", "AE", "C", "E",  "E", "E", "E", "I",  "I", "I",  "I",
    "D", "N", "O", "O", "O",  "O",  "OE", "",  "OE", "U", "U", "U", "UE", "Y", "TH", "SS",
};

// U+0100..U+017F, one letter each; '?' marks the two-letter ones (IJ, OE) handled in code.
constexpr std::string_view latin_extended_a =
    "AAAAAACCCCCCCCDD"
    "DDEEEEEEEEEEGGGG"
    "GGGGHHHHIIIIIIII"
    "II??JJKKKLLLLLLL"
    "LLLNNNNNNNNNOOOO"
    "OO??RRRRRRSSSSSS"
    "SSTTTTTTUUUUUUUU"
    "UUUUWWYYYZZZZZZS";
static_assert(latin_extended_a.size() == 0x80);

struct Mapping {
  char32_t cp;
  const char* letters;
};

// Scattered letters outside the tables above, sorted by code point: Latin Extended-B and IPA
// letters used in African orthographies (Hausa, Lingala, Akan), Romanian, Vietnamese horn letters,
// pinyin carons, and the dotted letters of Arabic scholarly transliteration.
constexpr Mapping scattered[] = {
    {0x0180, "B"},  {0x0181, "B"},  {0x0186, "O"},  {0x0187, "C"},  {0x0188, "C"},  {0x0189, "D"},
    {0x018A, "D"},  {0x018F, "A"},  {0x0190, "E"},  {0x0191, "F"},  {0x0192, "F"},  {0x0197, "I"},
    {0x0198, "K"},  {0x0199, "K"},  {0x019D, "N"},  {0x019F, "O"},  {0x01A0, "O"},  {0x01A1, "O"},
    {0x01AF, "U"},  {0x01B0, "U"},  {0x01B3, "Y"},  {0x01B4, "Y"},  {0x01B5, "Z"},  {0x01B6, "Z"},
    {0x01CD, "A"},  {0x01CE, "A"},  {0x01CF, "I"},  {0x01D0, "I"},  {0x01D1, "O"},  {0x01D2, "O"},
    {0x01D3, "U"},  {0x01D4, "U"},  {0x01D5, "UE"}, {0x01D6, "UE"}, {0x01D7, "UE"}, {0x01D8, "UE"},
    {0x01D9, "UE"}, {0x01DA, "UE"}, {0x01DB, "UE"}, {0x01DC, "UE"}, {0x01DE, "AE"}, {0x01DF, "AE"},
    {0x01E2, "AE"}, {0x01E3, "AE"}, {0x01E6, "G"},  {0x01E7, "G"},  {0x01E8, "K"},  {0x01E9, "K"},
    {0x01EA, "O"},  {0x01EB, "O"},  {0x01F0, "J"},  {0x01F4, "G"},  {0x01F5, "G"},  {0x01F8, "N"},
    {0x01F9, "N"},  {0x01FA, "AA"}, {0x01FB, "AA"}, {0x01FC, "AE"}, {0x01FD, "AE"}, {0x01FE, "OE"},
    {0x01FF, "OE"}, {0x0218, "S"},  {0x0219, "S"},  {0x021A, "T"},  {0x021B, "T"},  {0x0253, "B"},
    {0x0254, "O"},  {0x0256, "D"},  {0x0257, "D"},  {0x0259, "A"},  {0x025B, "E"},  {0x0268, "I"},
    {0x0272, "N"},  {0x0275, "O"},  {0x1E0C, "D"},  {0x1E0D, "D"},  {0x1E0E, "D"},  {0x1E0F, "D"},
    {0x1E24, "H"},  {0x1E25, "H"},  {0x1E2A, "H"},  {0x1E2B, "H"},  {0x1E62, "S"},  {0x1E63, "S"},
    {0x1E6C, "T"},  {0x1E6D, "T"},  {0x1E6E, "T"},  {0x1E6F, "T"},  {0x1E92, "Z"},  {0x1E93, "Z"},
    {0x1E94, "Z"},  {0x1E95, "Z"},  {0x1E96, "H"},  {0x1E9E, "SS"},
};

constexpr bool sorted_by_code_point() {
  for (std::size_t i = 1; i < std::size(scattered); ++i) {
    if (scattered[i - 1].cp >= scattered[i].cp) return false;
  }
  return true;
}
static_assert(sorted_by_code_point());

// Code points that separate name parts: white space, MRZ filler, apostrophes, hyphens, commas.
bool is_separator(char32_t cp) {
  switch (cp) {
    case U' ':
    case U'\t':
    case U'\n':
    case U'\r':
    case U'\v':
    case U'\f':
    case U'<':
    case U'\'':
    case U'`':
    case U'-':
    case U',':
    case 0x00A0:  // no-break space
    case 0x00B4:  // acute accent used as an apostrophe
    case 0x02BB:
    case 0x02BC:
    case 0x02BE:
    case 0x02BF:  // modifier letter apostrophes; ayn and hamza of Arabic transliteration
    case 0x1680:  // ogham space
    case 0x2018:
    case 0x2019:
    case 0x201B:  // single quotation marks typed as apostrophes
    case 0x2032:  // prime
    case 0x202F:
    case 0x205F:
    case 0x3000:  // narrow no-break, medium mathematical and ideographic spaces
    case 0x2212:  // minus sign
    case 0xFE63:
    case 0xFF07:
    case 0xFF0C:
    case 0xFF0D:  // small and full-width hyphen, apostrophe, comma
      return true;
    default:
      return (cp >= 0x2000 && cp <= 0x200A) ||  // typographic spaces
             (cp >= 0x2010 && cp <= 0x2015);    // hyphens and dashes
  }
}

// Letters for a non-ASCII code point that is neither a separator nor a combining mark; "" drops it.
std::string_view transliterate(char32_t cp) {
  if (cp >= 0xC0 && cp <= 0xDF) return latin1_upper[cp - 0xC0];
  if (cp >= 0xE0 && cp <= 0xFF) {
    if (cp == 0xF7) return "";
    if (cp == 0xFF) return "Y";
    return latin1_upper[cp - 0xE0];
  }
  if (cp >= 0x100 && cp <= 0x17F) {
    switch (cp) {
      case 0x132:
      case 0x133:
        return "IJ";
      case 0x152:
      case 0x153:
        return "OE";
      default:
        return latin_extended_a.substr(cp - 0x100, 1);
    }
  }
  if (cp >= 0x1EA0 && cp <= 0x1EF9) {  // Vietnamese letters with tone marks
    if (cp < 0x1EB8) return "A";
    if (cp < 0x1EC8) return "E";
    if (cp < 0x1ECC) return "I";
    if (cp < 0x1EE4) return "O";
    if (cp < 0x1EF2) return "U";
    return "Y";
  }
  static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  if (cp >= 0xFF21 && cp <= 0xFF3A) return alphabet.substr(cp - 0xFF21, 1);  // full-width
  if (cp >= 0xFF41 && cp <= 0xFF5A) return alphabet.substr(cp - 0xFF41, 1);
  const auto* end = std::end(scattered);
  const auto* it = std::lower_bound(std::begin(scattered), end, cp,
                                    [](const Mapping& m, char32_t c) { return m.cp < c; });
  if (it != end && it->cp == cp) return it->letters;
  return "";
}

// ---------------------------------------------------------------------------------------------
// Phonetic key

bool is_vowel(char c) { return c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U'; }

// Vowel letters written for one another across transliterations: A~E, E~I~Y, O~U. 0 stands for
// "no vowel" and is compatible only with itself.
bool vowels_compatible(char a, char b) {
  if (a == b) return true;
  if (a > b) std::swap(a, b);
  return (a == 'A' && b == 'E') || (a == 'E' && (b == 'I' || b == 'Y')) || (a == 'I' && b == 'Y') ||
         (a == 'O' && b == 'U');
}

struct KeyInfo {
  std::string key;
  // First letter of the word-initial vowel group (OMAR: 'O'); 0 if the word starts otherwise.
  char initial_vowel = 0;
  // First letter of the stem vowel group: the first group after a consonant (MOHAMED: 'O', IBRAHIM:
  // 'A'), skipping the article vowel of ABD-AL names (ABDULLAH: the final 'A'); 0 if none.
  char stem_vowel = 0;
};

bool only_upper_case_letters(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// Precondition: letters holds only 'A'..'Z' (a normalized token without spaces).
KeyInfo phonetic_info(std::string_view letters) {
  UMUPAKA_ASSERT(only_upper_case_letters(letters));
  const std::size_t n = letters.size();
  const auto at = [&](std::size_t k) { return k < n ? letters[k] : '\0'; };

  KeyInfo out;
  out.key.reserve(n + 1);
  constexpr std::size_t groups_tracked = 3;  // initial, article, stem at most
  std::array<char, groups_tracked> group_first{};
  std::size_t groups = 0;
  bool in_vowels = false;
  char last_vowel = 0;
  const auto vowel = [&](char c) {
    if (!in_vowels) {
      if (groups < groups_tracked) group_first[groups] = c;
      ++groups;
      in_vowels = true;
    }
    last_vowel = c;
  };
  const auto consonant = [&](char symbol) {
    if (in_vowels) {
      out.key.push_back('a');
      in_vowels = false;
    }
    if (!out.key.empty() && out.key.back() == symbol) return;  // doubled consonant
    out.key.push_back(symbol);
  };

  for (std::size_t i = 0; i < n; ++i) {
    const char c = letters[i];
    const char next = at(i + 1);
    const char prev = i > 0 ? letters[i - 1] : '\0';
    switch (c) {
      case 'A':
      case 'E':
      case 'I':
      case 'O':
      case 'U':
        vowel(c);
        break;
      case 'Y': {
        // Consonant before a vowel at the start (YUSUF) or between vowels other than I (MAYA);
        // otherwise the vowel I (HABYMANA, NIYONZIMA, HABYARIMANA, NDAYISHIMIYE).
        const bool next_vowel = is_vowel(next) && next != 'I';
        const bool prev_ok = i == 0 || (is_vowel(prev) && prev != 'I');
        if (next_vowel && prev_ok) {
          consonant('Y');
        } else {
          vowel('Y');
        }
        break;
      }
      case 'S':
        if (next == 'C' && at(i + 2) == 'H') {
          consonant('X');
          i += 2;
        } else if (next == 'H') {
          consonant('X');
          i += 1;
        } else {
          consonant('S');
        }
        break;
      case 'T':
        if (next == 'C' && at(i + 2) == 'H') {
          consonant('X');
          i += 2;
        } else if (next == 'H') {
          consonant('T');
          i += 1;
        } else {
          consonant('T');
        }
        break;
      case 'C':
        if (next == 'H') {
          const char after = at(i + 2);
          consonant(after == 'R' || after == 'L' ? 'K' : 'X');
          i += 1;
        } else if (next == 'K') {
          consonant('K');
          i += 1;
        } else if (next == 'E' || next == 'I' || next == 'Y') {
          consonant('S');
        } else {
          consonant('K');
        }
        break;
      case 'P':
        if (next == 'H') i += 1;
        consonant(next == 'H' ? 'F' : 'P');
        break;
      case 'K':
        if (next == 'H') i += 1;
        consonant(next == 'H' ? 'H' : 'K');
        break;
      case 'G':
        if (next == 'H') i += 1;
        consonant('G');
        break;
      case 'D':
        if (next == 'H') {
          i += 1;
          consonant('D');
        } else if (next == 'J') {
          i += 1;
          consonant('J');
        } else {
          consonant('D');
        }
        break;
      case 'Q':
        consonant('K');
        break;
      case 'X':
        consonant('K');
        consonant('S');
        break;
      case 'H':
        if (i + 1 == n && i > 0 && (is_vowel(prev) || prev == 'Y')) break;  // silent final H
        consonant('H');
        break;
      default:
        consonant(c);
        break;
    }
  }
  if (in_vowels) {
    switch (last_vowel) {
      case 'A':
        out.key.push_back('a');
        break;
      case 'O':
      case 'U':
        out.key.push_back('u');
        break;
      default:
        out.key.push_back('i');
        break;
    }
  }
  const bool vowel_initial = !out.key.empty() && out.key[0] == 'a';
  const bool abd_article = out.key.rfind("aBDa", 0) == 0;  // ABDUL, ABDEL, ABDAL, ABDOUL
  const std::size_t stem = (vowel_initial ? 1 : 0) + (abd_article ? 1 : 0);
  static_assert(groups_tracked >= 3);
  if (vowel_initial) out.initial_vowel = group_first[0];
  if (stem < groups && stem < groups_tracked) out.stem_vowel = group_first[stem];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Token comparison

enum class Kind { exact, phonetic, typo, different };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::exact:
      return "exact";
    case Kind::phonetic:
      return "phonetic";
    case Kind::typo:
      return "typo";
    case Kind::different:
      return "different";
  }
  return "different";
}

struct Token {
  std::string text;     // letters A..Z; a joined token has its parts concatenated
  std::string display;  // as shown to the officer; a joined token keeps its spaces
  KeyInfo info;
  bool has_stem = false;  // text = consonant-final stem + I or U (Swahili final vowel)
  KeyInfo stem;
  int field = 0;  // 0 surname, 1 given names
  bool joined = false;
};

void describe(Token& t) {
  t.info = phonetic_info(t.text);
  const std::size_t n = t.text.size();
  t.has_stem = false;
  if (n >= swahili_stem_letters_min + 1 && (t.text[n - 1] == 'I' || t.text[n - 1] == 'U')) {
    const char before = t.text[n - 2];
    if (!is_vowel(before) && before != 'Y') {
      t.has_stem = true;
      t.stem = phonetic_info(std::string_view(t.text).substr(0, n - 1));
    }
  }
}

bool same_sound(const KeyInfo& a, const KeyInfo& b) {
  return a.key == b.key && vowels_compatible(a.initial_vowel, b.initial_vowel) &&
         vowels_compatible(a.stem_vowel, b.stem_vowel);
}

bool phonetic_equivalent(const Token& a, const Token& b) {
  if (same_sound(a.info, b.info)) return true;
  if (a.has_stem && same_sound(a.stem, b.info)) return true;
  return b.has_stem && same_sound(a.info, b.stem);
}

// True if a and b are exactly one insertion, deletion, substitution or adjacent swap apart.
bool one_edit_apart(std::string_view a, std::string_view b) {
  if (a.size() > b.size()) std::swap(a, b);
  if (b.size() - a.size() > 1) return false;
  std::size_t i = 0;
  while (i < a.size() && a[i] == b[i]) ++i;
  if (a.size() == b.size()) {
    if (i == a.size()) return false;  // equal
    if (a.substr(i + 1) == b.substr(i + 1)) return true;
    return i + 1 < a.size() && a[i] == b[i + 1] && a[i + 1] == b[i] &&
           a.substr(i + 2) == b.substr(i + 2);
  }
  return a.substr(i) == b.substr(i + 1);
}

bool typo(std::string_view a, std::string_view b) {
  if (a.size() < typo_letters_min || b.size() < typo_letters_min) return false;
  if (a.back() != b.back()) return false;
  return one_edit_apart(a, b);
}

struct Compared {
  Kind kind = Kind::different;
  double score = 0.0;
};

Compared compare(const Token& a, const Token& b) {
  if (a.text == b.text) return {Kind::exact, score_exact};
  if (phonetic_equivalent(a, b)) return {Kind::phonetic, score_phonetic};
  if (typo(a.text, b.text)) return {Kind::typo, score_typo};
  return {Kind::different, score_different_max * jaro_winkler(a.text, b.text)};
}

bool accepted(Kind k) { return k != Kind::different; }

// ---------------------------------------------------------------------------------------------
// Names

struct Name {
  std::vector<Token> tokens;  // surname tokens first; at most name_tokens_max
  std::string display;        // "SURNAME, GIVEN NAMES"
};

void append_tokens(std::string_view normalized, int field, std::vector<Token>& out) {
  std::size_t start = 0;
  while (start < normalized.size() && out.size() < name_tokens_max) {
    std::size_t end = normalized.find(' ', start);
    if (end == std::string_view::npos) end = normalized.size();
    Token t;
    t.text = std::string(normalized.substr(start, std::min(end - start, token_letters_max)));
    t.display = t.text;
    t.field = field;
    out.push_back(std::move(t));
    start = end + 1;
  }
}

Name make_name(std::string_view surname, std::string_view given) {
  const std::string s = normalize(surname);
  const std::string g = normalize(given);
  Name name;
  name.tokens.reserve(name_tokens_max);
  append_tokens(s, 0, name.tokens);
  append_tokens(g, 1, name.tokens);
  for (Token& t : name.tokens) describe(t);
  name.display = s;
  if (!s.empty() && !g.empty()) name.display += ", ";
  name.display += g;
  if (name.display.empty()) name.display = "(no name)";
  return name;
}

struct Run {
  std::size_t first = 0;
  std::size_t count = 0;
};

// Runs of adjacent same-field tokens of x whose joined letters are exactly or phonetically some
// token of y (unjoined). Greedy from the left, longest run first; runs do not overlap.
std::vector<Run> plan_joins(const std::vector<Token>& x, const std::vector<Token>& y) {
  std::vector<Run> runs;
  std::size_t i = 0;
  while (i + 1 < x.size()) {
    std::size_t joined = 0;
    for (std::size_t count = std::min(join_tokens_max, x.size() - i); count >= 2; --count) {
      if (x[i + count - 1].field != x[i].field) continue;
      Token candidate;
      for (std::size_t k = 0; k < count; ++k) candidate.text += x[i + k].text;
      if (candidate.text.size() > token_letters_max) candidate.text.resize(token_letters_max);
      describe(candidate);
      const bool found = std::any_of(y.begin(), y.end(), [&](const Token& t) {
        return t.text == candidate.text || phonetic_equivalent(candidate, t);
      });
      if (found) {
        joined = count;
        break;
      }
    }
    if (joined > 0) {
      runs.push_back(Run{i, joined});
      i += joined;
    } else {
      ++i;
    }
  }
  return runs;
}

void apply_joins(std::vector<Token>& tokens, const std::vector<Run>& runs) {
  if (runs.empty()) return;
  std::vector<Token> out;
  out.reserve(tokens.size());
  std::size_t next_run = 0;
  for (std::size_t i = 0; i < tokens.size();) {
    if (next_run < runs.size() && runs[next_run].first == i) {
      const Run& r = runs[next_run++];
      Token t = std::move(tokens[i]);
      for (std::size_t k = 1; k < r.count; ++k) {
        t.text += tokens[i + k].text;
        t.display += ' ';
        t.display += tokens[i + k].display;
      }
      if (t.text.size() > token_letters_max) t.text.resize(token_letters_max);
      t.joined = true;
      describe(t);
      out.push_back(std::move(t));
      i += r.count;
    } else {
      out.push_back(std::move(tokens[i]));
      ++i;
    }
  }
  tokens = std::move(out);
}

// Best one-to-one assignment of every row token to a distinct column token (rows <= columns),
// maximising (accepted pairs, sum of scores). Exhaustive branch and bound over at most
// name_tokens_max! assignments; columns are tried best first so that the bound prunes early.
struct Assignment {
  std::array<std::size_t, name_tokens_max> column{};  // per row
  std::size_t accepted = 0;
  double sum = -1.0;
};

class Assigner {
 public:
  Assigner(const std::vector<Token>& rows, const std::vector<Token>& columns)
      : rows_(rows.size()), columns_(columns.size()) {
    UMUPAKA_ASSERT(rows_ >= 1 && rows_ <= columns_ && columns_ <= name_tokens_max);
    for (std::size_t r = 0; r < rows_; ++r) {
      for (std::size_t c = 0; c < columns_; ++c) {
        pairs_[r][c] = compare(rows[r], columns[c]);
        order_[r][c] = c;
      }
      const auto& row = pairs_[r];
      std::stable_sort(order_[r].begin(), order_[r].begin() + columns_,
                       [&](std::size_t x, std::size_t y) { return row[x].score > row[y].score; });
    }
    for (std::size_t r = rows_; r-- > 0;) {
      const Compared& top = pairs_[r][order_[r][0]];
      suffix_accepted_[r] = suffix_accepted_[r + 1] + (accepted(top.kind) ? 1 : 0);
      suffix_score_[r] = suffix_score_[r + 1] + top.score;
    }
  }

  Assignment best() {
    search(0, 0, 0.0);
    UMUPAKA_ASSERT(best_.accepted <= rows_ && best_.sum >= 0.0);
    return best_;
  }

  const Compared& pair(std::size_t r, std::size_t c) const { return pairs_[r][c]; }

 private:
  void search(std::size_t row, std::size_t accepted_count, double sum) {
    if (row == rows_) {
      if (accepted_count > best_.accepted ||
          (accepted_count == best_.accepted && sum > best_.sum)) {
        best_.accepted = accepted_count;
        best_.sum = sum;
        best_.column = current_;
      }
      return;
    }
    // Optimistic bound: every remaining row gets its best column.
    const std::size_t accepted_bound = accepted_count + suffix_accepted_[row];
    if (accepted_bound < best_.accepted) return;
    if (accepted_bound == best_.accepted && sum + suffix_score_[row] <= best_.sum) return;
    for (std::size_t k = 0; k < columns_; ++k) {
      const std::size_t c = order_[row][k];
      if (used_[c]) continue;
      used_[c] = true;
      current_[row] = c;
      const Compared& p = pairs_[row][c];
      search(row + 1, accepted_count + (accepted(p.kind) ? 1 : 0), sum + p.score);
      used_[c] = false;
    }
  }

  std::size_t rows_;
  std::size_t columns_;
  std::array<std::array<Compared, name_tokens_max>, name_tokens_max> pairs_{};
  std::array<std::array<std::size_t, name_tokens_max>, name_tokens_max> order_{};
  std::array<std::size_t, name_tokens_max + 1> suffix_accepted_{};
  std::array<double, name_tokens_max + 1> suffix_score_{};
  std::array<bool, name_tokens_max> used_{};
  std::array<std::size_t, name_tokens_max> current_{};
  Assignment best_;
};

void append_pair(std::string& out, const Token& a, const Token& b, Kind kind) {
  if (kind == Kind::exact && a.display == b.display) {
    out += a.display;
    out += " exact";
    return;
  }
  out += a.display;
  out += '~';
  out += b.display;
  out += ' ';
  if (a.joined || b.joined) {
    out += "joined";
    if (kind == Kind::exact) return;
    out += ' ';
  }
  out += kind_name(kind);
}

std::string format_score(double score) {
  std::array<char, 16> buffer{};
  const int n = std::snprintf(buffer.data(), buffer.size(), "%.2f", score);
  UMUPAKA_ASSERT(n > 0 && static_cast<std::size_t>(n) < buffer.size());
  return std::string(buffer.data(), static_cast<std::size_t>(n));
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::string normalize(std::string_view utf8_name) {
  std::string out;
  out.reserve(utf8_name.size());
  bool pending_space = false;
  char previous_ascii_letter = 0;  // base letter a combining mark may follow, else 0
  const auto emit = [&](std::string_view letters) {
    if (letters.empty()) return;
    if (pending_space && !out.empty()) out.push_back(' ');
    pending_space = false;
    out.append(letters);
  };
  for (std::size_t i = 0; i < utf8_name.size();) {
    const Decoded d = decode_utf8(utf8_name, i);
    UMUPAKA_ASSERT(d.length >= 1 && i + d.length <= utf8_name.size());
    i += d.length;
    if (!d.valid) {
      previous_ascii_letter = 0;
      continue;
    }
    const char32_t cp = d.cp;
    if ((cp >= U'A' && cp <= U'Z') || (cp >= U'a' && cp <= U'z')) {
      const char upper = static_cast<char>(cp >= U'a' ? cp - U'a' + U'A' : cp);
      emit(std::string_view(&upper, 1));
      previous_ascii_letter = upper;
      continue;
    }
    const char base = previous_ascii_letter;
    previous_ascii_letter = 0;
    if (is_separator(cp)) {
      pending_space = true;
    } else if (cp >= 0x300 && cp <= 0x36F) {
      // Combining marks: decomposed input must read like precomposed input (A + U+0308 = Ä = AE).
      if (cp == 0x308 && (base == 'A' || base == 'O' || base == 'U')) emit("E");
      if (cp == 0x30A && base == 'A') emit("A");
      if (cp != 0x308 && cp != 0x30A) previous_ascii_letter = base;  // stacked marks
    } else if (cp >= 0x80) {
      emit(transliterate(cp));
    }
  }
  for (char c : out) UMUPAKA_ASSERT((c >= 'A' && c <= 'Z') || c == ' ');
  UMUPAKA_ASSERT(out.empty() || (out.front() != ' ' && out.back() != ' '));
  return out;
}

std::vector<std::string> tokens(std::string_view surname, std::string_view given_names) {
  std::vector<std::string> out;
  for (std::string_view part : {surname, given_names}) {
    const std::string n = normalize(part);
    std::size_t start = 0;
    while (start < n.size()) {
      std::size_t end = n.find(' ', start);
      if (end == std::string::npos) end = n.size();
      out.emplace_back(n, start, end - start);
      start = end + 1;
    }
  }
  return out;
}

double jaro_winkler(std::string_view a, std::string_view b) {
  // Canonical order makes the result symmetric whatever the greedy matching does.
  if (a.size() > b.size() || (a.size() == b.size() && a > b)) std::swap(a, b);
  if (b.empty()) return 1.0;
  if (a.empty()) return 0.0;
  const std::size_t window = b.size() / 2 > 0 ? b.size() / 2 - 1 : 0;

  constexpr std::size_t inline_size = 64;
  std::array<unsigned char, inline_size> a_inline{};
  std::array<unsigned char, inline_size> b_inline{};
  std::vector<unsigned char> a_heap;
  std::vector<unsigned char> b_heap;
  unsigned char* a_matched = a_inline.data();
  unsigned char* b_matched = b_inline.data();
  if (b.size() > inline_size) {  // b is the longer
    b_heap.assign(b.size(), 0);
    b_matched = b_heap.data();
    if (a.size() > inline_size) {
      a_heap.assign(a.size(), 0);
      a_matched = a_heap.data();
    }
  }

  std::size_t matches = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::size_t lo = i > window ? i - window : 0;
    const std::size_t hi = std::min(i + window + 1, b.size());
    for (std::size_t j = lo; j < hi; ++j) {
      if (b_matched[j] == 0 && a[i] == b[j]) {
        a_matched[i] = 1;
        b_matched[j] = 1;
        ++matches;
        break;
      }
    }
  }
  if (matches == 0) return 0.0;
  std::size_t half_transpositions = 0;
  std::size_t k = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a_matched[i] == 0) continue;
    while (b_matched[k] == 0) ++k;
    if (a[i] != b[k]) ++half_transpositions;
    ++k;
  }
  const double m = static_cast<double>(matches);
  const double t = static_cast<double>(half_transpositions / 2);
  const double jaro =
      (m / static_cast<double>(a.size()) + m / static_cast<double>(b.size()) + (m - t) / m) / 3.0;
  std::size_t prefix = 0;
  while (prefix < 4 && prefix < a.size() && a[prefix] == b[prefix]) ++prefix;
  const double jw = jaro + static_cast<double>(prefix) * 0.1 * (1.0 - jaro);
  UMUPAKA_ASSERT(jw >= 0.0 && jw <= 1.0);
  return jw;
}

std::string phonetic_key(std::string_view token) {
  if (only_upper_case_letters(token)) return phonetic_info(token).key;
  std::string letters;
  letters.reserve(token.size());
  for (char c : token) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c >= 'A' && c <= 'Z') letters.push_back(c);
  }
  return phonetic_info(letters).key;
}

Match match(std::string_view surname_a, std::string_view given_a, std::string_view surname_b,
            std::string_view given_b) {
  Name a = make_name(surname_a, given_a);
  Name b = make_name(surname_b, given_b);
  Match result;
  if (a.tokens.empty() || b.tokens.empty()) {
    result.explanation = a.display + " vs " + b.display + ": no match (a name has no letters)";
    return result;
  }

  // Joins are planned against the other name's unjoined tokens, then applied: symmetric.
  const std::vector<Run> a_runs = plan_joins(a.tokens, b.tokens);
  const std::vector<Run> b_runs = plan_joins(b.tokens, a.tokens);
  apply_joins(a.tokens, a_runs);
  apply_joins(b.tokens, b_runs);

  const bool a_rows = a.tokens.size() <= b.tokens.size();
  const std::vector<Token>& rows = a_rows ? a.tokens : b.tokens;
  const std::vector<Token>& columns = a_rows ? b.tokens : a.tokens;
  Assigner assigner(rows, columns);
  const Assignment best = assigner.best();

  result.matched = best.accepted == rows.size();
  result.score = best.sum / static_cast<double>(rows.size());
  UMUPAKA_ASSERT(result.score >= 0.0 && result.score <= 1.0 + 1e-9);
  UMUPAKA_ASSERT(!result.matched || result.score >= match_threshold);

  // Partner of every token of a and b (npos when unpaired), to explain in a's order.
  constexpr std::size_t none = static_cast<std::size_t>(-1);
  std::array<std::size_t, name_tokens_max> a_partner{};
  std::array<std::size_t, name_tokens_max> b_partner{};
  a_partner.fill(none);
  b_partner.fill(none);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const std::size_t c = best.column[r];
    if (a_rows) {
      a_partner[r] = c;
      b_partner[c] = r;
    } else {
      a_partner[c] = r;
      b_partner[r] = c;
    }
  }

  std::string& text = result.explanation;
  text = a.display;
  text += result.matched ? " ~ " : " vs ";
  text += b.display;
  text += result.matched ? " (score " : ": no match (score ";
  text += format_score(result.score);
  text += ": ";
  bool first = true;
  const auto separator = [&] {
    if (!first) text += ", ";
    first = false;
  };
  for (std::size_t i = 0; i < a.tokens.size(); ++i) {
    separator();
    const std::size_t j = a_partner[i];
    if (j == none) {
      text += a.tokens[i].display;
      text += " unpaired";
      continue;
    }
    const Compared& p = a_rows ? assigner.pair(i, j) : assigner.pair(j, i);
    append_pair(text, a.tokens[i], b.tokens[j], p.kind);
  }
  for (std::size_t j = 0; j < b.tokens.size(); ++j) {
    if (b_partner[j] != none) continue;
    separator();
    text += b.tokens[j].display;
    text += " unpaired";
  }
  text += ')';
  return result;
}

}  // namespace umupaka::names

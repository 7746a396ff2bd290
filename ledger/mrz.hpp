// Machine-readable zones of travel documents (ICAO Doc 9303, 8th edition): parsing with full
// validation of every field and check digit, and composition of TD3 and TD1 zones.
// Pure functions: no clock (today is a parameter), no global mutable state, no exceptions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/date.hpp"
#include "ledger/result.hpp"

namespace umupaka::mrz {

// The five MRZ layouts of Doc 9303.
//   td1   identity card, 3 lines x 30 (Part 5)
//   td2   official travel document, 2 lines x 36 (Part 6)
//   td3   passport, 2 lines x 44 (Part 4)
//   mrv_a visa, 2 lines x 44 (Part 7)
//   mrv_b visa, 2 lines x 36 (Part 7)
enum class Format { td1, td2, td3, mrv_a, mrv_b };

// "TD1", "TD2", "TD3", "MRV-A", "MRV-B".
const char* format_name(Format format);

// The data of one MRZ. Text fields hold MRZ characters ([A-Z0-9<]) with trailing filler removed;
// names hold A-Z and single spaces.
struct Document {
  Format format = Format::td3;
  std::string document_code;    // first two characters, filler stripped: "P", "I", "V", "AC", "PM"
  std::string issuing_state;    // filler stripped: "UTO", "D" (see countries.hpp)
  std::string surname;          // primary identifier, components joined by one space: "ERIKSSON"
  std::string given_names;      // secondary identifier: "ANNA MARIA"; empty if none
  bool name_truncated = false;  // the name field was full, so the name may have been truncated
  std::string document_number;  // full number (TD1/TD2 long numbers joined), filler stripped
  std::string nationality;      // filler stripped
  std::optional<Date> birth_date;  // nullopt if wholly or partly unknown ('<<' for YY, MM or DD)
  char sex = 'X';                  // 'M', 'F' or 'X' ('X' also stands for '<')
  Date expiry_date;
  std::string optional_data;    // TD3 personal number, TD2/MRV optional data, TD1 line 1 optional
                                // data (after any document number continuation); filler stripped
  std::string optional_data_2;  // TD1 line 2 optional data, filler stripped; empty otherwise

  friend bool operator==(const Document&, const Document&) = default;
};

// Parses an MRZ given as its lines (3 for TD1, 2 otherwise).
//
// Each line may carry surrounding whitespace (trimmed) and lower case letters (upper-cased); any
// other character outside [A-Z0-9<] is rejected. The format follows from the line count, the line
// length and the document code: 3 x 30 is TD1; 2 x 44 is MRV-A if the code starts with 'V', else
// TD3; 2 x 36 is MRV-B if the code starts with 'V', else TD2.
//
// `today` resolves two-digit years: a birth year is the latest year <= today's year with those
// last two digits, moved back a century if the birth date would lie after today; an expiry year
// is the one in [today's year - 50, today's year + 50).
//
// Every field is validated. Errors (Error::field names the field):
//   Errc::mrz_format       mrz.lines (count), mrz.line1..3 (length, character),
//                          mrz.document_code (first letter not allowed for the format),
//                          mrz.issuing_state, mrz.nationality (unknown code), mrz.name,
//                          mrz.document_number (empty, malformed long number),
//                          mrz.birth_date, mrz.expiry_date (not a real date), mrz.sex
//   Errc::mrz_check_digit  mrz.document_number, mrz.birth_date, mrz.expiry_date,
//                          mrz.optional_data (TD3 personal number), mrz.composite
// Fields are checked in MRZ order and each field's format before its check digit; the composite
// check digit is checked last, so a corrupted field digit is reported as that field.
//
// Birth date: each of YY, MM and DD is two digits or two fillers (unknown part); the known month
// and day must be possible. A partly unknown birth date parses as nullopt.
//
// Accepted 9303 options: the TD3 personal number check digit may be '<' when the personal number
// is all filler; a TD1 or TD2 document number longer than 9 characters has '<' in its check
// digit position and continues, followed by its check digit (computed over the full number) and
// a filler, at the start of the optional data (TD1: line 1, positions 16-30; TD2: line 2,
// positions 29-35). Blank lines after the last line are not lines of the MRZ.
Result<Document> parse(const std::vector<std::string>& lines, Date today);

// The 9303 check digit of `field`: values 0-9 for digits, A=10 ... Z=35, '<'=0, weights 7, 3, 1
// repeating, sum mod 10. Returns 0..9, or -1 if `field` holds a character outside [0-9A-Z<].
int check_digit(std::string_view field);

// Compose the MRZ lines of a TD3 passport (2 x 44) or a TD1 card (3 x 30) from `document`,
// computing every check digit; `document.format` and `name_truncated` are ignored. A name longer
// than its field is cut at the field's end; where that end falls in a separator, the components
// before it give up letters (the last first, each keeping one) so the field ends in the next
// component's first letter (9303: a cut name ends in a letter). An absent birth date is written
// as "<<<<<<"; sex 'X' is written '<'; an all-filler TD3 personal number gets the check digit '<'.
// Preconditions (asserted): codes and numbers use [A-Z0-9<] as documented on Document; issuing
// state and nationality are 1..3 characters; document_code is 1..2 letters; surname has at least
// one component and names use A-Z and spaces only; sex is 'M', 'F', 'X' or '<'; TD3: document
// number 1..9 characters, optional_data at most 14; TD1: document number 1..9 characters, or
// longer with its continuation, check digit and a filler (if optional_data is not empty) fitting
// with optional_data in 15 characters; optional_data_2 at most 11.
std::vector<std::string> compose_td3(const Document& document);
std::vector<std::string> compose_td1(const Document& document);

}  // namespace umupaka::mrz

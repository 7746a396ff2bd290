#include "ledger/mrz.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "ledger/assert.hpp"
#include "ledger/countries.hpp"

namespace umupaka::mrz {
namespace {

constexpr size_t kTd1LineLength = 30;
constexpr size_t kTd2LineLength = 36;  // also MRV-B
constexpr size_t kTd3LineLength = 44;  // also MRV-A
constexpr size_t kDocumentNumberLength = 9;
constexpr size_t kTd3PersonalNumberLength = 14;
constexpr size_t kTd1OptionalDataLength = 15;
constexpr size_t kTd1OptionalData2Length = 11;
constexpr int kTwoDigitYearWindow = 50;  // expiry years lie in [today - 50, today + 50)

// Field layout shared by line 2 of TD2, TD3, MRV-A and MRV-B (0-based offsets).
constexpr size_t kL2DocumentNumber = 0;
constexpr size_t kL2DocumentNumberDigit = 9;
constexpr size_t kL2Nationality = 10;
constexpr size_t kL2BirthDate = 13;
constexpr size_t kL2BirthDateDigit = 19;
constexpr size_t kL2Sex = 20;
constexpr size_t kL2ExpiryDate = 21;
constexpr size_t kL2ExpiryDateDigit = 27;
constexpr size_t kL2OptionalData = 28;
constexpr size_t kTd3CompositeDigit = 43;
constexpr size_t kTd2CompositeDigit = 35;

// TD1 layout (0-based offsets).
constexpr size_t kTd1DocumentNumber = 5;  // line 1
constexpr size_t kTd1DocumentNumberDigit = 14;
constexpr size_t kTd1OptionalData = 15;
constexpr size_t kTd1BirthDate = 0;  // line 2
constexpr size_t kTd1BirthDateDigit = 6;
constexpr size_t kTd1Sex = 7;
constexpr size_t kTd1ExpiryDate = 8;
constexpr size_t kTd1ExpiryDateDigit = 14;
constexpr size_t kTd1Nationality = 15;
constexpr size_t kTd1OptionalData2 = 18;
constexpr size_t kTd1CompositeDigit = 29;

static_assert(kL2OptionalData + kTd3PersonalNumberLength + 2 == kTd3LineLength);
static_assert(kTd1OptionalData + kTd1OptionalDataLength == kTd1LineLength);
static_assert(kTd1OptionalData2 + kTd1OptionalData2Length + 1 == kTd1LineLength);
static_assert(kTd1DocumentNumber + kDocumentNumberLength == kTd1DocumentNumberDigit);

Error format_error(std::string field, std::string message) {
  return make_error(Errc::mrz_format, std::move(message), std::move(field));
}

std::string describe_char(char c) {
  char buf[16];
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) {
    std::snprintf(buf, sizeof buf, "'%c'", c);
  } else {
    std::snprintf(buf, sizeof buf, "0x%02X", u);
  }
  return buf;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_mrz_char(char c) { return is_digit(c) || is_upper(c) || c == '<'; }
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view strip_filler(std::string_view s) {
  while (!s.empty() && s.back() == '<') s.remove_suffix(1);
  return s;
}

bool all_filler(std::string_view s) { return strip_filler(s).empty(); }

// Verifies that `digit` is the check digit of `data`; `what` names the field in the message.
// Precondition: `data` holds MRZ characters only.
Status verify_check_digit(std::string_view data, char digit, const char* what, const char* field) {
  const int computed = check_digit(data);
  UMUPAKA_ASSERT(computed >= 0);
  if (digit == static_cast<char>('0' + computed)) return {};
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s check digit is %c, computed %d", what, digit, computed);
  return make_error(Errc::mrz_check_digit, buf, field);
}

// Input of the composite check digit (9303 Parts 4 and 6): line 2 positions 1-10, 14-20 and
// 22 up to the composite digit at `digit_at` (0-based; 43 for TD3, 35 for TD2). `line2` may end
// before the composite digit (while composing).
std::string two_line_composite(std::string_view line2, size_t digit_at) {
  UMUPAKA_ASSERT(line2.size() >= digit_at && digit_at > 21);
  std::string data(line2.substr(0, 10));
  data.append(line2.substr(13, 7));
  data.append(line2.substr(21, digit_at - 21));
  return data;
}

// Input of the TD1 composite check digit (9303 Part 5): line 1 positions 6-30, line 2 positions
// 1-7, 9-15 and 19-29. `line2` may end before the composite digit (while composing).
std::string td1_composite(std::string_view line1, std::string_view line2) {
  UMUPAKA_ASSERT(line1.size() == kTd1LineLength && line2.size() >= kTd1CompositeDigit);
  std::string data(line1.substr(5, 25));
  data.append(line2.substr(0, 7));
  data.append(line2.substr(8, 7));
  data.append(line2.substr(18, 11));
  return data;
}

// Trims whitespace, upper-cases ASCII letters and checks the character set.
Result<std::string> normalize_line(const std::string& raw, size_t line_number) {
  std::string_view view = raw;
  while (!view.empty() && is_space(view.front())) view.remove_prefix(1);
  while (!view.empty() && is_space(view.back())) view.remove_suffix(1);
  std::string line(view);
  for (size_t i = 0; i < line.size(); ++i) {
    char& c = line[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!is_mrz_char(c)) {
      return format_error("mrz.line" + std::to_string(line_number),
                          "line " + std::to_string(line_number) + " position " +
                              std::to_string(i + 1) + ": character " + describe_char(c) +
                              " is not allowed (A-Z, 0-9, '<')");
    }
  }
  return line;
}

Status check_line_length(const std::string& line, size_t line_number, size_t expected,
                         const char* format) {
  if (line.size() == expected) return {};
  return format_error("mrz.line" + std::to_string(line_number),
                      "line " + std::to_string(line_number) + " has " +
                          std::to_string(line.size()) + " characters, " + format + " needs " +
                          std::to_string(expected));
}

// Document code: first letter fixed by the format (9303 Parts 4-7), second letter or filler.
Result<std::string> parse_document_code(std::string_view field, Format format) {
  UMUPAKA_ASSERT(field.size() == 2);
  const char first = field[0];
  bool allowed = false;
  switch (format) {
    case Format::td3:
      allowed = first == 'P';
      break;
    case Format::mrv_a:
    case Format::mrv_b:
      allowed = first == 'V';
      break;
    case Format::td1:
    case Format::td2:
      allowed = first == 'A' || first == 'C' || first == 'I';
      break;
  }
  if (!allowed) {
    return format_error("mrz.document_code", std::string("document code ") + describe_char(first) +
                                                 " is not allowed in " + format_name(format));
  }
  if (!is_upper(field[1]) && field[1] != '<') {
    return format_error(
        "mrz.document_code",
        "document code second character " + describe_char(field[1]) + " is not a letter or filler");
  }
  return std::string(strip_filler(field));
}

Result<std::string> parse_state(std::string_view field, const char* what, const char* name) {
  const std::string_view code = strip_filler(field);
  if (!is_known_state_code(code)) {
    return format_error(name, std::string(what) + " \"" + std::string(field) +
                                  "\" is not a known state or organisation code");
  }
  return std::string(code);
}

// Appends the filler-separated components of `part` to `out`, separated by single spaces.
void append_components(std::string_view part, std::string& out) {
  size_t i = 0;
  while (i < part.size()) {
    if (part[i] == '<') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < part.size() && part[j] != '<') ++j;
    if (!out.empty()) out += ' ';
    out.append(part.substr(i, j - i));
    i = j;
  }
}

Status parse_name(std::string_view field, Document& doc) {
  for (size_t i = 0; i < field.size(); ++i) {
    if (!is_upper(field[i]) && field[i] != '<') {
      return format_error("mrz.name", "name position " + std::to_string(i + 1) + " holds " +
                                          describe_char(field[i]) + ", expected A-Z or '<'");
    }
  }
  doc.name_truncated = !field.empty() && field.back() != '<';
  const std::string_view name = strip_filler(field);
  const size_t separator = name.find("<<");
  const std::string_view primary = name.substr(0, separator);
  const std::string_view secondary =
      separator == std::string_view::npos ? std::string_view{} : name.substr(separator + 2);
  doc.surname.clear();
  doc.given_names.clear();
  append_components(primary, doc.surname);
  append_components(secondary, doc.given_names);
  if (doc.surname.empty()) {
    return format_error("mrz.name", "name has no primary identifier");
  }
  return {};
}

// Digits of a YYMMDD field; nullopt if any character is not a digit.
struct TwoDigitDate {
  int32_t yy = 0;
  uint32_t month = 0;
  uint32_t day = 0;
};

std::optional<TwoDigitDate> read_yymmdd(std::string_view field) {
  UMUPAKA_ASSERT(field.size() == 6);
  for (char c : field) {
    if (!is_digit(c)) return std::nullopt;
  }
  auto two = [&](size_t at) { return (field[at] - '0') * 10 + (field[at + 1] - '0'); };
  return TwoDigitDate{two(0), static_cast<uint32_t>(two(2)), static_cast<uint32_t>(two(4))};
}

int32_t floor_mod(int32_t a, int32_t m) { return ((a % m) + m) % m; }

Error impossible_date(const char* what, const char* field, std::string_view text) {
  return format_error(field,
                      std::string(what) + " \"" + std::string(text) + "\" is not a calendar date");
}

Result<std::optional<Date>> parse_birth_date(std::string_view field, Date today) {
  UMUPAKA_ASSERT(field.size() == 6);
  // Each of YY, MM and DD is two digits, or two fillers when that part is unknown.
  bool any_unknown = false;
  for (size_t at = 0; at < 6; at += 2) {
    const char a = field[at];
    const char b = field[at + 1];
    if (a == '<' && b == '<') {
      any_unknown = true;
    } else if (!is_digit(a) || !is_digit(b)) {
      return format_error("mrz.birth_date", "birth date \"" + std::string(field) +
                                                "\" must hold two digits or two fillers in "
                                                "each of year, month and day");
    }
  }
  if (any_unknown) {
    // A partly known date must still name a possible month and day.
    const bool month_known = field[2] != '<';
    const bool day_known = field[4] != '<';
    const int month = month_known ? (field[2] - '0') * 10 + (field[3] - '0') : 1;
    const int day = day_known ? (field[4] - '0') * 10 + (field[5] - '0') : 1;
    // 2000 is a leap year: 29 February is possible while the year is unknown.
    if (!valid_civil(2000, static_cast<uint32_t>(month), static_cast<uint32_t>(day))) {
      return impossible_date("birth date", "mrz.birth_date", field);
    }
    return std::optional<Date>{};
  }
  const TwoDigitDate d = *read_yymmdd(field);
  if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31) {
    return impossible_date("birth date", "mrz.birth_date", field);
  }
  const CivilDate now = civil_from_date(today);
  int32_t year = now.year - floor_mod(now.year - d.yy, 100);
  if (year == now.year && (d.month > now.month || (d.month == now.month && d.day > now.day))) {
    year -= 100;
  }
  if (!valid_civil(year, d.month, d.day)) {
    return impossible_date("birth date", "mrz.birth_date", field);
  }
  return std::optional<Date>{date_from_civil(year, d.month, d.day)};
}

Result<Date> parse_expiry_date(std::string_view field, Date today) {
  const std::optional<TwoDigitDate> d = read_yymmdd(field);
  if (!d) {
    return format_error("mrz.expiry_date",
                        "expiry date \"" + std::string(field) + "\" must be six digits");
  }
  const int32_t lowest_year = civil_from_date(today).year - kTwoDigitYearWindow;
  const int32_t year = lowest_year + floor_mod(d->yy - lowest_year, 100);
  if (!valid_civil(year, d->month, d->day)) {
    return impossible_date("expiry date", "mrz.expiry_date", field);
  }
  return date_from_civil(year, d->month, d->day);
}

Result<char> parse_sex(char c) {
  if (c == 'M' || c == 'F') return c;
  if (c == 'X' || c == '<') return 'X';
  return format_error("mrz.sex", "sex " + describe_char(c) + " is not M, F, X or '<'");
}

Status check_document_number(std::string_view number) {
  if (number.empty() || number.front() == '<') {
    return format_error("mrz.document_number", "document number is empty or starts with '<'");
  }
  return {};
}

// Birth date, its digit, sex, expiry date and its digit, in that order (the shared middle of every
// format). `birth`, `sex` and `expiry` are offsets into `line`.
Status parse_dates_and_sex(std::string_view line, size_t birth, size_t birth_digit, size_t sex,
                           size_t expiry, size_t expiry_digit, Date today, Document& doc) {
  const std::string_view birth_field = line.substr(birth, 6);
  ASSIGN_OR_RETURN(doc.birth_date, parse_birth_date(birth_field, today));
  RETURN_IF_ERROR(
      verify_check_digit(birth_field, line[birth_digit], "birth date", "mrz.birth_date"));
  ASSIGN_OR_RETURN(doc.sex, parse_sex(line[sex]));
  const std::string_view expiry_field = line.substr(expiry, 6);
  ASSIGN_OR_RETURN(doc.expiry_date, parse_expiry_date(expiry_field, today));
  RETURN_IF_ERROR(
      verify_check_digit(expiry_field, line[expiry_digit], "expiry date", "mrz.expiry_date"));
  return {};
}

// The document number at `principal` with its check digit `digit`. TD1 and TD2 (9303 Parts 5 and
// 6) have a long form: a number of more than 9 characters has '<' for the check digit, and its
// rest, its check digit and a filler open the optional data (`optional`). True when the long form
// was read; doc.optional_data is then what follows it.
Result<bool> read_document_number(std::string_view principal, char digit, std::string_view optional,
                                  bool long_form_allowed, Document& doc) {
  RETURN_IF_ERROR(check_document_number(principal));
  if (long_form_allowed && digit == '<') {
    const size_t end = std::min(optional.find('<'), optional.size());
    if (principal.back() == '<' || end < 2) {
      return format_error("mrz.document_number",
                          "document number check digit is '<' but no continuation of a long "
                          "document number follows in the optional data");
    }
    const std::string number = std::string(principal) + std::string(optional.substr(0, end - 1));
    RETURN_IF_ERROR(
        verify_check_digit(number, optional[end - 1], "document number", "mrz.document_number"));
    doc.document_number = number;
    doc.optional_data =
        end < optional.size() ? std::string(strip_filler(optional.substr(end + 1))) : "";
    return true;
  }
  RETURN_IF_ERROR(verify_check_digit(principal, digit, "document number", "mrz.document_number"));
  doc.document_number = std::string(strip_filler(principal));
  return false;
}

// TD2, TD3, MRV-A, MRV-B: line 1 holds code, state and name; line 2 the numbered fields.
Result<Document> parse_two_line(const std::string& l1, const std::string& l2, Format format,
                                Date today) {
  Document doc;
  doc.format = format;
  ASSIGN_OR_RETURN(doc.document_code,
                   parse_document_code(std::string_view(l1).substr(0, 2), format));
  ASSIGN_OR_RETURN(doc.issuing_state, parse_state(std::string_view(l1).substr(2, 3),
                                                  "issuing state", "mrz.issuing_state"));
  RETURN_IF_ERROR(parse_name(std::string_view(l1).substr(5), doc));

  const std::string_view line = l2;
  const std::string_view number_field = line.substr(kL2DocumentNumber, kDocumentNumberLength);
  const std::string_view td2_optional =
      line.substr(kL2OptionalData, kTd2CompositeDigit - kL2OptionalData);
  ASSIGN_OR_RETURN(const bool long_number,
                   read_document_number(number_field, line[kL2DocumentNumberDigit], td2_optional,
                                        format == Format::td2, doc));
  ASSIGN_OR_RETURN(doc.nationality,
                   parse_state(line.substr(kL2Nationality, 3), "nationality", "mrz.nationality"));
  RETURN_IF_ERROR(parse_dates_and_sex(line, kL2BirthDate, kL2BirthDateDigit, kL2Sex, kL2ExpiryDate,
                                      kL2ExpiryDateDigit, today, doc));

  switch (format) {
    case Format::td3: {
      const std::string_view personal = line.substr(kL2OptionalData, kTd3PersonalNumberLength);
      const char digit = line[kL2OptionalData + kTd3PersonalNumberLength];
      if (!(digit == '<' && all_filler(personal))) {
        RETURN_IF_ERROR(verify_check_digit(personal, digit, "optional data", "mrz.optional_data"));
      }
      doc.optional_data = std::string(strip_filler(personal));
      RETURN_IF_ERROR(verify_check_digit(two_line_composite(line, kTd3CompositeDigit),
                                         line[kTd3CompositeDigit], "composite", "mrz.composite"));
      break;
    }
    case Format::td2: {
      if (!long_number) doc.optional_data = std::string(strip_filler(td2_optional));
      RETURN_IF_ERROR(verify_check_digit(two_line_composite(line, kTd2CompositeDigit),
                                         line[kTd2CompositeDigit], "composite", "mrz.composite"));
      break;
    }
    case Format::mrv_a:
    case Format::mrv_b:
      doc.optional_data = std::string(strip_filler(line.substr(kL2OptionalData)));
      break;
    case Format::td1:
      UMUPAKA_ASSERT_MSG(false, "TD1 is not a two-line format");
      break;
  }
  return doc;
}

Result<Document> parse_td1(const std::string& l1, const std::string& l2, const std::string& l3,
                           Date today) {
  Document doc;
  doc.format = Format::td1;
  const std::string_view line1 = l1;
  const std::string_view line2 = l2;
  ASSIGN_OR_RETURN(doc.document_code, parse_document_code(line1.substr(0, 2), Format::td1));
  ASSIGN_OR_RETURN(doc.issuing_state,
                   parse_state(line1.substr(2, 3), "issuing state", "mrz.issuing_state"));

  const std::string_view principal = line1.substr(kTd1DocumentNumber, kDocumentNumberLength);
  const std::string_view optional = line1.substr(kTd1OptionalData, kTd1OptionalDataLength);
  ASSIGN_OR_RETURN(
      const bool long_number,
      read_document_number(principal, line1[kTd1DocumentNumberDigit], optional, true, doc));
  if (!long_number) doc.optional_data = std::string(strip_filler(optional));

  RETURN_IF_ERROR(parse_dates_and_sex(line2, kTd1BirthDate, kTd1BirthDateDigit, kTd1Sex,
                                      kTd1ExpiryDate, kTd1ExpiryDateDigit, today, doc));
  ASSIGN_OR_RETURN(doc.nationality,
                   parse_state(line2.substr(kTd1Nationality, 3), "nationality", "mrz.nationality"));
  doc.optional_data_2 =
      std::string(strip_filler(line2.substr(kTd1OptionalData2, kTd1OptionalData2Length)));
  RETURN_IF_ERROR(parse_name(l3, doc));

  RETURN_IF_ERROR(verify_check_digit(td1_composite(line1, line2), line2[kTd1CompositeDigit],
                                     "composite", "mrz.composite"));
  return doc;
}

// ---- composition ----

bool all_of_chars(std::string_view s, bool (*pred)(char)) {
  for (char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}

bool is_name_char(char c) { return is_upper(c) || c == ' '; }

void pad_to(std::string& s, size_t width) {
  UMUPAKA_ASSERT(s.size() <= width);
  s.append(width - s.size(), '<');
}

std::string padded(std::string_view s, size_t width) {
  std::string out(s);
  pad_to(out, width);
  return out;
}

char digit_char(std::string_view data) {
  const int d = check_digit(data);
  UMUPAKA_ASSERT(d >= 0);
  return static_cast<char>('0' + d);
}

std::string yymmdd(Date date) {
  const CivilDate c = civil_from_date(date);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d%02u%02u", static_cast<int>(floor_mod(c.year, 100)), c.month,
                c.day);
  return buf;
}

std::string encode_name(const Document& doc, size_t width) {
  UMUPAKA_ASSERT(all_of_chars(doc.surname, is_name_char));
  UMUPAKA_ASSERT(all_of_chars(doc.given_names, is_name_char));
  auto components = [](std::string_view text) {
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
      if (text[i] == ' ') {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < text.size() && text[j] != ' ') ++j;
      if (!out.empty()) out += '<';
      out.append(text.substr(i, j - i));
      i = j;
    }
    return out;
  };
  std::string name = components(doc.surname);
  UMUPAKA_ASSERT_MSG(!name.empty(), "surname must have at least one component");
  const std::string given = components(doc.given_names);
  if (!given.empty()) name += "<<" + given;
  if (name.size() > width && name[width - 1] == '<') {
    // A cut in a separator would end the field in a filler, read as a name not cut (9303-3 §4.6:
    // a truncated name ends in a letter). The components before it give up letters, the last
    // first and each keeping one, so that the separator and the next component's first letter
    // end the field ("...CDEF<H", not "...CDEFG<").
    size_t sep = width - 1;  // the separator's run [sep, next) around the cut
    while (sep > 0 && name[sep - 1] == '<') --sep;
    size_t next = width;
    while (name[next] == '<') ++next;  // a component follows: the name ends in a letter
    const size_t sep_len = next - sep;
    std::string prefix = name.substr(0, sep);
    size_t need = sep + sep_len + 1 - width;  // >= 1: the run reaches past the field
    for (size_t end = prefix.size(); need > 0 && end > 0;) {
      size_t start = end;
      while (start > 0 && prefix[start - 1] != '<') --start;
      const size_t take = std::min(need, end - start - 1);
      prefix.erase(end - take, take);
      need -= take;
      end = start;
      while (end > 0 && prefix[end - 1] == '<') --end;
    }
    if (need == 0) name = prefix + name.substr(sep, sep_len) + name[next];
  }
  if (name.size() > width) name.resize(width);
  pad_to(name, width);
  return name;
}

void assert_composable(const Document& doc) {
  UMUPAKA_ASSERT(!doc.document_code.empty() && doc.document_code.size() <= 2);
  UMUPAKA_ASSERT(all_of_chars(doc.document_code, is_upper));
  UMUPAKA_ASSERT(!doc.issuing_state.empty() && doc.issuing_state.size() <= 3);
  UMUPAKA_ASSERT(all_of_chars(doc.issuing_state, is_upper));
  UMUPAKA_ASSERT(!doc.nationality.empty() && doc.nationality.size() <= 3);
  UMUPAKA_ASSERT(all_of_chars(doc.nationality, is_upper));
  UMUPAKA_ASSERT(!doc.document_number.empty() && doc.document_number.front() != '<');
  UMUPAKA_ASSERT(all_of_chars(doc.document_number, is_mrz_char));
  UMUPAKA_ASSERT(all_of_chars(doc.optional_data, is_mrz_char));
  UMUPAKA_ASSERT(all_of_chars(doc.optional_data_2, is_mrz_char));
  UMUPAKA_ASSERT(doc.sex == 'M' || doc.sex == 'F' || doc.sex == 'X' || doc.sex == '<');
}

std::string birth_field(const Document& doc) {
  return doc.birth_date ? yymmdd(*doc.birth_date) : std::string(6, '<');
}

char sex_char(const Document& doc) { return doc.sex == 'X' ? '<' : doc.sex; }

}  // namespace

const char* format_name(Format format) {
  switch (format) {
    case Format::td1:
      return "TD1";
    case Format::td2:
      return "TD2";
    case Format::td3:
      return "TD3";
    case Format::mrv_a:
      return "MRV-A";
    case Format::mrv_b:
      return "MRV-B";
  }
  return "unknown";
}

int check_digit(std::string_view field) {
  static constexpr int kWeights[3] = {7, 3, 1};
  int sum = 0;
  for (size_t i = 0; i < field.size(); ++i) {
    const char c = field[i];
    int value = 0;
    if (is_digit(c)) {
      value = c - '0';
    } else if (is_upper(c)) {
      value = c - 'A' + 10;
    } else if (c != '<') {
      return -1;
    }
    sum = (sum + value * kWeights[i % 3]) % 10;
  }
  return sum;
}

Result<Document> parse(const std::vector<std::string>& lines, Date today) {
  // Blank lines at the end are not lines of the MRZ (a reader's text split on every newline,
  // the last one included): a TD3 with one after it is a TD3, not a TD1 of the wrong width.
  size_t count = lines.size();
  while (count > 0 && std::all_of(lines[count - 1].begin(), lines[count - 1].end(), is_space))
    --count;
  if (count != 2 && count != 3) {
    return format_error("mrz.lines", "an MRZ has 2 or 3 lines, got " + std::to_string(count) +
                                         (count == lines.size() ? "" : " (blank lines aside)"));
  }
  std::vector<std::string> norm;
  norm.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    ASSIGN_OR_RETURN(std::string line, normalize_line(lines[i], i + 1));
    norm.push_back(std::move(line));
  }

  if (norm.size() == 3) {
    for (size_t i = 0; i < 3; ++i) {
      RETURN_IF_ERROR(check_line_length(norm[i], i + 1, kTd1LineLength, "TD1"));
    }
    return parse_td1(norm[0], norm[1], norm[2], today);
  }

  const size_t length = norm[0].size();
  if (length != kTd3LineLength && length != kTd2LineLength) {
    return format_error("mrz.line1", "line 1 has " + std::to_string(length) +
                                         " characters, a two-line MRZ needs 36 or 44");
  }
  const bool visa = norm[0][0] == 'V';
  const Format format = length == kTd3LineLength ? (visa ? Format::mrv_a : Format::td3)
                                                 : (visa ? Format::mrv_b : Format::td2);
  RETURN_IF_ERROR(check_line_length(norm[1], 2, length, format_name(format)));
  return parse_two_line(norm[0], norm[1], format, today);
}

std::vector<std::string> compose_td3(const Document& doc) {
  assert_composable(doc);
  UMUPAKA_ASSERT(doc.document_number.size() <= kDocumentNumberLength);
  UMUPAKA_ASSERT(doc.optional_data.size() <= kTd3PersonalNumberLength);

  std::string line1 = padded(doc.document_code, 2) + padded(doc.issuing_state, 3);
  line1 += encode_name(doc, kTd3LineLength - line1.size());

  const std::string number = padded(doc.document_number, kDocumentNumberLength);
  const std::string birth = birth_field(doc);
  const std::string expiry = yymmdd(doc.expiry_date);
  const std::string personal = padded(doc.optional_data, kTd3PersonalNumberLength);
  std::string line2 = number + digit_char(number) + padded(doc.nationality, 3) + birth +
                      digit_char(birth) + sex_char(doc) + expiry + digit_char(expiry) + personal +
                      (all_filler(personal) ? '<' : digit_char(personal));
  line2 += digit_char(two_line_composite(line2, kTd3CompositeDigit));

  UMUPAKA_ASSERT(line1.size() == kTd3LineLength && line2.size() == kTd3LineLength);
  return {line1, line2};
}

std::vector<std::string> compose_td1(const Document& doc) {
  assert_composable(doc);
  UMUPAKA_ASSERT(doc.optional_data_2.size() <= kTd1OptionalData2Length);

  std::string line1 = padded(doc.document_code, 2) + padded(doc.issuing_state, 3);
  const std::string_view number = doc.document_number;
  if (number.size() <= kDocumentNumberLength) {
    const std::string field = padded(number, kDocumentNumberLength);
    line1 += field + digit_char(field) + padded(doc.optional_data, kTd1OptionalDataLength);
  } else {
    const std::string_view rest = number.substr(kDocumentNumberLength);
    UMUPAKA_ASSERT_MSG(rest.find('<') == std::string_view::npos,
                       "a long document number's continuation cannot hold fillers");
    std::string optional = std::string(rest) + digit_char(number);
    if (!doc.optional_data.empty()) optional += '<' + doc.optional_data;
    UMUPAKA_ASSERT_MSG(optional.size() <= kTd1OptionalDataLength,
                       "long document number and optional data exceed the TD1 field");
    line1 += std::string(number.substr(0, kDocumentNumberLength)) + '<' +
             padded(optional, kTd1OptionalDataLength);
  }

  const std::string birth = birth_field(doc);
  const std::string expiry = yymmdd(doc.expiry_date);
  std::string line2 = birth + digit_char(birth) + sex_char(doc) + expiry + digit_char(expiry) +
                      padded(doc.nationality, 3) +
                      padded(doc.optional_data_2, kTd1OptionalData2Length);
  line2 += digit_char(td1_composite(line1, line2));

  const std::string line3 = encode_name(doc, kTd1LineLength);
  UMUPAKA_ASSERT(line1.size() == kTd1LineLength && line2.size() == kTd1LineLength &&
                 line3.size() == kTd1LineLength);
  return {line1, line2, line3};
}

}  // namespace umupaka::mrz

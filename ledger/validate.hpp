// Field validation of records. Every error names the offending field with its JSON path
// ("traveller.surname", "document.number") so the API can point at it.
#pragma once

#include <string_view>

#include "ledger/records.hpp"
#include "ledger/result.hpp"

namespace umupaka {

// Site ids are slugs: lower-case letters, digits and '-', 1..id_bytes_max, starting with a letter.
bool valid_site_id(std::string_view id);
// Permit, alert and officer ids: letters, digits, '-', '_', '.', 1..id_bytes_max.
bool valid_object_id(std::string_view id);
// Rwanda's national ID number: exactly 16 digits.
bool valid_national_id(std::string_view id);
// Document numbers as printed in the MRZ: A-Z and 0-9, 1..document_number_bytes_max.
bool valid_document_number(std::string_view number);
// Well-formed UTF-8 without control characters.
bool valid_text(std::string_view text, size_t bytes_max);
// A ZeroMQ TCP endpoint as sites give theirs: "tcp://HOST:PORT", HOST a name or IPv4 address
// (letters, digits, '.', '-', '_'), '*', or an IPv6 address in brackets; PORT 1..65535.
bool valid_tcp_endpoint(std::string_view endpoint);
// Whether `text` holds a character a reader can see: not only spaces, or characters drawn as
// nothing (zero-width spaces and joiners, direction marks, the byte-order mark). A field that must
// say something (a surname, the note admitting against a deny) needs one at the origin.
bool has_visible_text(std::string_view text);
// Whether `text` holds a bidirectional embedding, override or isolate (U+202A..U+202E,
// U+2066..U+2069): characters that draw what follows in another order than it is stored, so a
// name could read as one person and match as another. Names in right-to-left scripts need none.
bool has_direction_control(std::string_view text);
// Whether `id` has the form of the ids nodes give permits and alerts by default, `<site>-<seq>`
// ("gatuna-30"): a site id, '-', digits. Such ids are not chosen by hand, or one could take the id
// a node would give later.
bool generated_id_form(std::string_view id);

// The header, and its fit with the body: membership records come only from the "root" feed, the
// genesis only as root/1.
Status validate_header(const RecordHeader& header, const RecordBody& body);
Status validate_body(const RecordBody& body);
inline Status validate_record(const Record& r) {
  RETURN_IF_ERROR(validate_header(r.header, r.body));
  return validate_body(r.body);
}

}  // namespace umupaka

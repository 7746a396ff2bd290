#include "ledger/validate.hpp"

#include <optional>

#include "ledger/countries.hpp"
#include "ledger/crypto.hpp"
#include "ledger/limits.hpp"

namespace umupaka {
namespace {

// Dates outside this window are typing errors, not travellers.
constexpr int32_t year_min = 1900;
constexpr int32_t year_max = 2200;

Error bad(std::string field, std::string message) {
  return make_error(Errc::invalid_field, std::move(message), std::move(field));
}

std::string join(std::string_view prefix, std::string_view name) {
  return prefix.empty() ? std::string(name) : std::string(prefix) + "." + std::string(name);
}

Status check_date(const Date& d, const std::string& field) {
  const CivilDate c = civil_from_date(d);
  if (c.year < year_min || c.year > year_max)
    return bad(field, field + " " + format_iso_date(d) + " is outside " + std::to_string(year_min) +
                          ".." + std::to_string(year_max));
  return {};
}

Status check_state(std::string_view code, const std::string& field) {
  if (!is_known_state_code(code))
    return bad(field,
               field + " '" + std::string(code) + "' is not a known ICAO/ISO 3166 state code");
  return {};
}

Status check_text(std::string_view t, const std::string& field, size_t max, bool required) {
  if (required && t.empty()) return bad(field, field + " is required");
  if (!valid_text(t, max))
    return bad(field, field + " must be UTF-8 text of at most " + std::to_string(max) +
                          " bytes without control characters");
  return {};
}

Status check_site(std::string_view id, const std::string& field) {
  if (!valid_site_id(id))
    return bad(field, field + " must be a site id (lower-case letters, digits and '-')");
  return {};
}

Status check_object_id(std::string_view id, const std::string& field) {
  if (!valid_object_id(id))
    return bad(field, field + " must be 1-64 letters, digits, '-', '_' or '.'");
  return {};
}

Status check_nid(const std::optional<std::string>& nid, const std::string& field) {
  if (nid && !valid_national_id(*nid)) return bad(field, field + " must be exactly 16 digits");
  return {};
}

Status check_person(const Person& p, std::string_view prefix) {
  RETURN_IF_ERROR(check_text(p.surname, join(prefix, "surname"), limits::name_bytes_max, true));
  RETURN_IF_ERROR(
      check_text(p.given_names, join(prefix, "given_names"), limits::name_bytes_max, false));
  RETURN_IF_ERROR(check_state(p.nationality, join(prefix, "nationality")));
  if (p.birth_date) RETURN_IF_ERROR(check_date(*p.birth_date, join(prefix, "birth_date")));
  return {};
}

Status check_document(const DocumentRef& d, std::string_view prefix) {
  RETURN_IF_ERROR(check_state(d.country, join(prefix, "country")));
  if (!valid_document_number(d.number))
    return bad(join(prefix, "number"),
               join(prefix, "number") + " must be 1-24 upper-case letters and digits");
  if (d.expiry) RETURN_IF_ERROR(check_date(*d.expiry, join(prefix, "expiry")));
  return {};
}

Status validate(const Crossing& c) {
  RETURN_IF_ERROR(check_site(c.post, "post"));
  RETURN_IF_ERROR(check_person(c.traveller, "traveller"));
  RETURN_IF_ERROR(check_document(c.document, "document"));
  RETURN_IF_ERROR(check_nid(c.national_id, "national_id"));
  if (c.permit_id) RETURN_IF_ERROR(check_object_id(*c.permit_id, "permit_id"));
  RETURN_IF_ERROR(check_object_id(c.officer, "officer"));
  if (c.findings.size() > limits::reasons_per_record_max)
    return bad("findings", "at most " + std::to_string(limits::reasons_per_record_max) +
                               " findings per crossing");
  for (size_t i = 0; i < c.findings.size(); ++i) {
    const std::string f = "findings[" + std::to_string(i) + "]";
    RETURN_IF_ERROR(check_object_id(c.findings[i].check, f + ".check"));
    RETURN_IF_ERROR(check_text(c.findings[i].reason, f + ".reason", limits::text_bytes_max, false));
  }
  RETURN_IF_ERROR(check_text(c.note, "note", limits::text_bytes_max, false));
  if (c.decision == Decision::admitted && c.verdict == Verdict::deny && c.note.empty())
    return bad("note", "admitting a traveller against a deny verdict requires a note");
  return {};
}

Status validate(const Permit& p) {
  RETURN_IF_ERROR(check_object_id(p.permit_id, "permit_id"));
  RETURN_IF_ERROR(check_person(p.holder, "holder"));
  RETURN_IF_ERROR(check_document(p.document, "document"));
  RETURN_IF_ERROR(check_nid(p.national_id, "national_id"));
  RETURN_IF_ERROR(check_date(p.valid_from, "valid_from"));
  RETURN_IF_ERROR(check_date(p.valid_until, "valid_until"));
  if (p.valid_until < p.valid_from) return bad("valid_until", "valid_until is before valid_from");
  RETURN_IF_ERROR(check_site(p.issuing_site, "issuing_site"));
  RETURN_IF_ERROR(check_object_id(p.officer, "officer"));
  RETURN_IF_ERROR(check_text(p.note, "note", limits::text_bytes_max, false));
  return {};
}

Status validate(const PermitStatusChange& s) {
  RETURN_IF_ERROR(check_object_id(s.permit_id, "permit_id"));
  if (s.action == PermitAction::extend) {
    if (!s.valid_until) return bad("valid_until", "an extension needs the new valid_until");
    RETURN_IF_ERROR(check_date(*s.valid_until, "valid_until"));
  } else if (s.valid_until) {
    return bad("valid_until", "valid_until is only for an extension");
  }
  RETURN_IF_ERROR(check_text(s.reason, "reason", limits::text_bytes_max, true));
  RETURN_IF_ERROR(check_object_id(s.officer, "officer"));
  return {};
}

Status validate(const TravelDocumentIssued& t) {
  if (t.document.kind != DocumentKind::passport && t.document.kind != DocumentKind::laissez_passer)
    return bad("document.kind", "document.kind must be passport or laissez_passer");
  RETURN_IF_ERROR(check_document(t.document, "document"));
  if (!t.document.expiry) return bad("document.expiry", "document.expiry is required");
  RETURN_IF_ERROR(check_person(t.holder, "holder"));
  if (!valid_national_id(t.national_id))
    return bad("national_id", "national_id must be exactly 16 digits");
  RETURN_IF_ERROR(check_date(t.issued_on, "issued_on"));
  if (*t.document.expiry < t.issued_on)
    return bad("document.expiry", "document.expiry is before issued_on");
  RETURN_IF_ERROR(check_site(t.issuing_site, "issuing_site"));
  RETURN_IF_ERROR(check_object_id(t.officer, "officer"));
  return {};
}

Status validate(const DocumentStatusChange& d) {
  RETURN_IF_ERROR(check_state(d.country, "country"));
  if (!valid_document_number(d.number))
    return bad("number", "number must be 1-24 upper-case letters and digits");
  RETURN_IF_ERROR(check_text(d.reason, "reason", limits::text_bytes_max, false));
  RETURN_IF_ERROR(check_object_id(d.officer, "officer"));
  return {};
}

Status validate(const Alert& a) {
  RETURN_IF_ERROR(check_object_id(a.alert_id, "alert_id"));
  const AlertSubject& s = a.subject;
  const bool doc = s.document_country || s.document_number;
  const bool nid = s.national_id.has_value();
  const bool name = s.surname || s.given_names || s.birth_date;
  switch (s.kind) {
    case AlertSubjectKind::document:
      if (!s.document_country || !s.document_number)
        return bad("subject.document_number",
                   "a document alert needs subject.document_country and subject.document_number");
      if (nid || name) return bad("subject.kind", "a document alert names only a document");
      RETURN_IF_ERROR(check_state(*s.document_country, "subject.document_country"));
      if (!valid_document_number(*s.document_number))
        return bad("subject.document_number", "subject.document_number is not a document number");
      break;
    case AlertSubjectKind::national_id:
      if (!nid) return bad("subject.national_id", "a national_id alert needs subject.national_id");
      if (doc || name) return bad("subject.kind", "a national_id alert names only a national ID");
      RETURN_IF_ERROR(check_nid(s.national_id, "subject.national_id"));
      break;
    case AlertSubjectKind::name:
      if (!s.surname || !s.birth_date)
        return bad("subject.surname", "a name alert needs subject.surname and subject.birth_date");
      if (doc || nid) return bad("subject.kind", "a name alert names only a person");
      RETURN_IF_ERROR(check_text(*s.surname, "subject.surname", limits::name_bytes_max, true));
      if (s.given_names)
        RETURN_IF_ERROR(
            check_text(*s.given_names, "subject.given_names", limits::name_bytes_max, false));
      RETURN_IF_ERROR(check_date(*s.birth_date, "subject.birth_date"));
      break;
  }
  RETURN_IF_ERROR(check_object_id(a.category, "category"));
  RETURN_IF_ERROR(check_text(a.reason, "reason", limits::text_bytes_max, false));
  if (a.expires_on) RETURN_IF_ERROR(check_date(*a.expires_on, "expires_on"));
  RETURN_IF_ERROR(check_object_id(a.officer, "officer"));
  return {};
}

Status validate(const AlertLift& l) {
  RETURN_IF_ERROR(check_object_id(l.alert_id, "alert_id"));
  RETURN_IF_ERROR(check_text(l.reason, "reason", limits::text_bytes_max, false));
  RETURN_IF_ERROR(check_object_id(l.officer, "officer"));
  return {};
}

bool valid_transport_key(std::string_view z85) {
  if (z85.size() != 40) return false;
  static constexpr std::string_view alphabet =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  for (char c : z85)
    if (alphabet.find(c) == std::string_view::npos) return false;
  return true;
}

Status check_site_entry(const SiteEntry& e, std::string_view prefix) {
  const std::string site_field = join(prefix, "site");
  RETURN_IF_ERROR(check_site(e.site, site_field));
  if (e.site == root_origin) return bad(site_field, "'root' is reserved for the network root");
  if (!acceptable_public_key(e.signing_key))
    return bad(join(prefix, "signing_key"), "signing_key is not an acceptable Ed25519 key");
  if (!valid_transport_key(e.transport_key))
    return bad(join(prefix, "transport_key"), "transport_key must be 40 Z85 characters");
  if (e.peer.rfind("tcp://", 0) != 0 || e.peer.size() > 128)
    return bad(join(prefix, "peer"), "peer must be tcp://host:port");
  RETURN_IF_ERROR(check_text(e.api, join(prefix, "api"), 128, false));
  return {};
}

Status validate(const Genesis& g) {
  if (!valid_object_id(g.network_id)) return bad("network_id", "network_id is not an id");
  if (!acceptable_public_key(g.root_key))
    return bad("root_key", "root_key is not an acceptable Ed25519 key");
  if (g.sites.empty()) return bad("sites", "a network needs at least one site");
  if (g.sites.size() > limits::genesis_sites_max)
    return bad("sites", "at most " + std::to_string(limits::genesis_sites_max) + " sites");
  size_t voters = 0;
  for (size_t i = 0; i < g.sites.size(); ++i) {
    RETURN_IF_ERROR(check_site_entry(g.sites[i], "sites[" + std::to_string(i) + "]"));
    for (size_t k = 0; k < i; ++k)
      if (g.sites[k].site == g.sites[i].site || g.sites[k].signing_key == g.sites[i].signing_key ||
          g.sites[k].transport_key == g.sites[i].transport_key)
        return bad("sites[" + std::to_string(i) + "]",
                   "site, signing key and transport key must be unique");
    voters += g.sites[i].role == VoterRole::voter;
  }
  if (voters == 0) return bad("sites", "a network needs at least one voter");
  return {};
}

Status validate(const SiteCertified& c) { return check_site_entry(c.entry, "entry"); }

Status validate(const SiteRevoked& r) {
  RETURN_IF_ERROR(check_site(r.site, "site"));
  RETURN_IF_ERROR(check_text(r.reason, "reason", limits::text_bytes_max, false));
  return {};
}

}  // namespace

bool valid_site_id(std::string_view id) {
  if (id.empty() || id.size() > limits::id_bytes_max) return false;
  if (id[0] < 'a' || id[0] > 'z') return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

bool valid_object_id(std::string_view id) {
  if (id.empty() || id.size() > limits::id_bytes_max) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.'))
      return false;
  return true;
}

bool valid_national_id(std::string_view id) {
  if (id.size() != 16) return false;
  for (char c : id)
    if (c < '0' || c > '9') return false;
  return true;
}

bool valid_document_number(std::string_view n) {
  if (n.empty() || n.size() > limits::document_number_bytes_max) return false;
  for (char c : n)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

namespace {

// The code point of the UTF-8 sequence at t[i], advancing i past it; nullopt (i unchanged) for a
// malformed one: a bad lead or continuation byte, a truncated, overlong or surrogate form, or one
// beyond U+10FFFF.
std::optional<uint32_t> next_code_point(std::string_view t, size_t& i) {
  const auto c = static_cast<unsigned char>(t[i]);
  size_t len = 0;
  uint32_t cp = 0;
  if (c < 0x80) {
    ++i;
    return c;
  } else if ((c & 0xe0) == 0xc0) {
    len = 2;
    cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    len = 3;
    cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return std::nullopt;
  }
  if (i + len > t.size()) return std::nullopt;
  for (size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(t[i + k]);
    if ((cc & 0xc0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (cc & 0x3f);
  }
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
      (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
    return std::nullopt;
  i += len;
  return cp;
}

// Spaces, controls, and what is drawn as nothing: the soft hyphen, fillers, zero-width spaces and
// joiners, direction marks and overrides, invisible operators, the Braille blank, variation
// selectors, the byte-order mark, interlinear annotation marks, musical format marks, tags.
bool invisible(uint32_t cp) {
  return cp <= 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0xad || cp == 0x034f || cp == 0x061c ||
         cp == 0x115f || cp == 0x1160 || cp == 0x1680 || (cp >= 0x180b && cp <= 0x180f) ||
         (cp >= 0x2000 && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202f) ||
         (cp >= 0x205f && cp <= 0x206f) || cp == 0x2800 || cp == 0x3000 || cp == 0x3164 ||
         (cp >= 0xfe00 && cp <= 0xfe0f) || cp == 0xfeff || cp == 0xffa0 ||
         (cp >= 0xfff9 && cp <= 0xfffb) || (cp >= 0x1d173 && cp <= 0x1d17a) ||
         (cp >= 0xe0000 && cp <= 0xe0fff);
}

}  // namespace

bool valid_text(std::string_view t, size_t bytes_max) {
  if (t.size() > bytes_max) return false;
  size_t i = 0;
  while (i < t.size()) {
    const std::optional<uint32_t> cp = next_code_point(t, i);
    // C0 and C1 controls and DEL are refused; the rest of what is invisible is text.
    if (!cp || *cp < 0x20 || (*cp >= 0x7f && *cp < 0xa0)) return false;
  }
  return true;
}

bool has_visible_text(std::string_view t) {
  size_t i = 0;
  while (i < t.size()) {
    const std::optional<uint32_t> cp = next_code_point(t, i);
    if (!cp || !invisible(*cp)) return true;  // malformed: valid_text's to refuse
  }
  return false;
}

bool has_direction_control(std::string_view t) {
  size_t i = 0;
  while (i < t.size()) {
    const std::optional<uint32_t> cp = next_code_point(t, i);
    if (!cp) return false;  // malformed: valid_text's to refuse
    if ((*cp >= 0x202a && *cp <= 0x202e) || (*cp >= 0x2066 && *cp <= 0x2069)) return true;
  }
  return false;
}

bool valid_tcp_endpoint(std::string_view e) {
  constexpr std::string_view scheme = "tcp://";
  if (e.size() > 128 || e.substr(0, scheme.size()) != scheme) return false;
  e.remove_prefix(scheme.size());
  const size_t colon = e.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view host = e.substr(0, colon), port = e.substr(colon + 1);
  uint32_t p = 0;
  if (port.empty() || port.size() > 5) return false;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    p = p * 10 + static_cast<uint32_t>(c - '0');
  }
  if (p == 0 || p > 65535) return false;
  if (host == "*") return true;
  const bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
  for (char c : bracketed ? host.substr(1, host.size() - 2) : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    (bracketed ? c == ':' || c == '.' : c == '.' || c == '-' || c == '_');
    if (!ok) return false;
  }
  return true;
}

bool generated_id_form(std::string_view id) {
  const size_t dash = id.rfind('-');
  if (dash == std::string_view::npos || dash + 1 == id.size()) return false;
  for (char c : id.substr(dash + 1))
    if (c < '0' || c > '9') return false;
  return valid_site_id(id.substr(0, dash));
}

Status validate_header(const RecordHeader& h, const RecordBody& body) {
  if (h.version != record_version)
    return bad("version", "unknown record version " + std::to_string(h.version));
  if (!valid_object_id(h.network_id)) return bad("network_id", "network_id is not an id");
  if (!valid_site_id(h.origin.value)) return bad("origin", "origin is not a site id");
  const bool root_body = std::holds_alternative<Genesis>(body) ||
                         std::holds_alternative<SiteCertified>(body) ||
                         std::holds_alternative<SiteRevoked>(body);
  if ((h.origin.value == root_origin) != root_body)
    return bad("origin", "membership records come from the root feed, and only they do");
  if (std::holds_alternative<Genesis>(body) != (root_body && h.seq.value == 1))
    return bad("seq", "the genesis is the root feed's first record, and only it");
  if (h.seq.value == 0) return bad("seq", "seq starts at 1");
  if (h.seq.value == 1 && h.prev_hash != zero_hash)
    return bad("prev_hash", "the first record of a feed has no previous hash");
  return {};
}

Status validate_body(const RecordBody& body) {
  return std::visit([](const auto& b) { return validate(b); }, body);
}

}  // namespace umupaka

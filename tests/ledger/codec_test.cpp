// The canonical msgpack codec (codec.hpp): random valid records of every body type round-trip to
// the same value and the same bytes; every non-canonical or malformed encoding is refused with
// Errc::decode or Errc::limit_exceeded; a fuzz loop never crashes the decoder and whatever it
// accepts re-encodes to the very bytes it was given.
//
// Seeds: each randomized test starts from kDefaultSeed, or from UMUPAKA_TEST_SEED when set, and
// prints its seed on failure (SCOPED_TRACE). Re-run with UMUPAKA_TEST_SEED=<seed> to reproduce.
#include "ledger/codec.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <msgpack.hpp>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/date.hpp"
#include "ledger/ledger_entry.hpp"
#include "ledger/limits.hpp"
#include "ledger/msgpack_visit.hpp"
#include "ledger/validate.hpp"

namespace umupaka {
namespace {

constexpr uint32_t kDefaultSeed = 20260310;

uint32_t test_seed() {
  if (const char* s = std::getenv("UMUPAKA_TEST_SEED"); s != nullptr && *s != '\0')
    return static_cast<uint32_t>(std::strtoul(s, nullptr, 10));
  return kDefaultSeed;
}

std::string hex(std::string_view bytes) {
  return to_hex(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

bool is_rejection(Errc code) { return code == Errc::decode || code == Errc::limit_exceeded; }

// --- A generator of random valid records ---------------------------------------------------

// The border domain's body types (crossing .. alert_lift), whose validation rules the generator
// follows; the membership types after them are generated for the codec only.
constexpr size_t kDomainTypes = 7;

class RecordGen {
 public:
  explicit RecordGen(uint32_t seed) : rng_(seed) {}

  std::mt19937& rng() { return rng_; }

  uint64_t below(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }
  bool coin() { return below(2) == 0; }
  uint64_t u64() { return (uint64_t{rng_()} << 32) | rng_(); }
  // An integer of a random bit length (0..64), so every msgpack integer width appears.
  uint64_t any_width_u64() {
    const uint64_t bits = below(65);
    return bits == 0 ? 0 : u64() >> (64 - bits);
  }

  // Well-formed UTF-8 without controls, at most max_bytes (at least one character if required).
  std::string text(size_t max_bytes, bool required) {
    static const char* const pieces[] = {
        "a",
        "Z",
        "7",
        " ",
        "-",
        "'",
        ".",
        "\xc3\xa9",          // é
        "\xc5\x8b",          // ŋ
        "\xc3\x9c",          // Ü
        "\xc3\x91",          // Ñ
        "\xc2\xa0",          // no-break space
        "\xe4\xb8\xad",      // 中
        "\xe2\x82\xac",      // €
        "\xf0\x9f\x98\x80",  // 😀
        "\xf4\x8f\xbf\xbf",  // U+10FFFF
    };
    const size_t target = required ? 1 + below(max_bytes) : below(max_bytes + 1);
    // Mostly short texts, as officers type them; sometimes up to the limit.
    const size_t len = coin() ? target : std::min<size_t>(target, 1 + below(24));
    std::string out;
    while (out.size() < len) {
      const std::string_view p = pieces[below(std::size(pieces))];
      if (out.size() + p.size() > len) break;
      out += p;
    }
    if (required && out.empty()) out = "A";
    return out;
  }
  std::string site_id() {
    static constexpr std::string_view first = "abcdefghijklmnopqrstuvwxyz";
    static constexpr std::string_view rest = "abcdefghijklmnopqrstuvwxyz0123456789-";
    std::string out(1, first[below(first.size())]);
    const size_t n = below(coin() ? 16 : limits::id_bytes_max);
    for (size_t i = 0; i < n; ++i) out += rest[below(rest.size())];
    return out;
  }
  std::string object_id() {
    static constexpr std::string_view chars =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.";
    std::string out;
    const size_t n = 1 + below(coin() ? 16 : limits::id_bytes_max);
    for (size_t i = 0; i < n; ++i) out += chars[below(chars.size())];
    return out;
  }
  std::string document_number() {
    static constexpr std::string_view chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::string out;
    const size_t n = 1 + below(limits::document_number_bytes_max);
    for (size_t i = 0; i < n; ++i) out += chars[below(chars.size())];
    return out;
  }
  std::string national_id() {
    std::string out;
    for (int i = 0; i < 16; ++i) out += static_cast<char>('0' + below(10));
    return out;
  }
  std::string state() {
    static const char* const codes[] = {"RWA", "UGA", "KEN", "TZA", "BDI", "COD", "USA",
                                        "DEU", "D",   "UTO", "XXA", "GBR", "CHN", "NGA"};
    return codes[below(std::size(codes))];
  }
  Date date() {
    static const int32_t lo = date_from_civil(1900, 1, 1).days;
    static const int32_t hi = date_from_civil(2200, 12, 31).days;
    return Date{lo + static_cast<int32_t>(below(static_cast<uint64_t>(hi - lo) + 1))};
  }
  Date date_from(Date from) {
    static const int32_t hi = date_from_civil(2200, 12, 31).days;
    return Date{from.days + static_cast<int32_t>(below(static_cast<uint64_t>(hi - from.days) + 1))};
  }
  template <typename E>
  E any_enum() {
    return static_cast<E>(below(EnumNames<E>::names.size()));
  }
  template <typename T, typename F>
  std::optional<T> maybe(F&& make) {
    if (coin()) return make();
    return std::nullopt;
  }

  Person person() {
    Person p;
    p.surname = text(limits::name_bytes_max, true);
    p.given_names = text(limits::name_bytes_max, false);
    p.nationality = state();
    p.birth_date = maybe<Date>([&] { return date(); });
    p.sex = any_enum<Sex>();
    return p;
  }
  DocumentRef document() {
    DocumentRef d;
    d.kind = any_enum<DocumentKind>();
    d.country = state();
    d.number = document_number();
    d.expiry = maybe<Date>([&] { return date(); });
    return d;
  }

  Crossing crossing() {
    Crossing c;
    c.direction = any_enum<Direction>();
    c.post = site_id();
    c.mode = any_enum<TravelMode>();
    c.traveller = person();
    c.document = document();
    c.national_id = maybe<std::string>([&] { return national_id(); });
    c.permit_id = maybe<std::string>([&] { return object_id(); });
    c.officer = object_id();
    c.verdict = any_enum<Verdict>();
    const size_t findings = below(limits::reasons_per_record_max + 1);
    for (size_t i = 0; i < findings; ++i)
      c.findings.push_back(
          Finding{object_id(), any_enum<Verdict>(), text(limits::text_bytes_max, false)});
    c.decision = any_enum<Decision>();
    const bool note_required = c.decision == Decision::admitted && c.verdict == Verdict::deny;
    c.note = text(limits::text_bytes_max, note_required);
    c.from_mrz = coin();
    return c;
  }
  Permit permit() {
    Permit p;
    p.permit_id = object_id();
    p.kind = any_enum<PermitKind>();
    p.holder = person();
    p.document = document();
    p.national_id = maybe<std::string>([&] { return national_id(); });
    p.valid_from = date();
    p.valid_until = date_from(p.valid_from);
    p.entries_allowed = static_cast<uint32_t>(any_width_u64());
    p.stay_days_max = static_cast<uint32_t>(any_width_u64());
    p.issuing_site = site_id();
    p.officer = object_id();
    p.note = text(limits::text_bytes_max, false);
    return p;
  }
  PermitStatusChange permit_status() {
    PermitStatusChange s;
    s.permit_id = object_id();
    s.action = any_enum<PermitAction>();
    if (s.action == PermitAction::extend) s.valid_until = date();
    s.reason = text(limits::text_bytes_max, true);
    s.officer = object_id();
    return s;
  }
  TravelDocumentIssued travel_document() {
    TravelDocumentIssued t;
    t.document = document();
    t.document.kind = coin() ? DocumentKind::passport : DocumentKind::laissez_passer;
    t.holder = person();
    t.national_id = national_id();
    t.issued_on = date();
    t.document.expiry = date_from(t.issued_on);
    t.issuing_site = site_id();
    t.officer = object_id();
    return t;
  }
  DocumentStatusChange document_status() {
    DocumentStatusChange d;
    d.country = state();
    d.number = document_number();
    d.status = any_enum<DocumentStatus>();
    d.reason = text(limits::text_bytes_max, false);
    d.officer = object_id();
    return d;
  }
  Alert alert() {
    Alert a;
    a.alert_id = object_id();
    AlertSubject& s = a.subject;
    s.kind = any_enum<AlertSubjectKind>();
    switch (s.kind) {
      case AlertSubjectKind::document:
        s.document_country = state();
        s.document_number = document_number();
        break;
      case AlertSubjectKind::national_id:
        s.national_id = national_id();
        break;
      case AlertSubjectKind::name:
        s.surname = text(limits::name_bytes_max, true);
        s.given_names = maybe<std::string>([&] { return text(limits::name_bytes_max, false); });
        s.birth_date = date();
        break;
    }
    a.category = object_id();
    a.action = any_enum<AlertAction>();
    a.reason = text(limits::text_bytes_max, false);
    a.expires_on = maybe<Date>([&] { return date(); });
    a.officer = object_id();
    return a;
  }
  AlertLift alert_lift() {
    return AlertLift{object_id(), text(limits::text_bytes_max, false), object_id()};
  }
  PublicKey public_key() {
    PublicKey k{};
    for (auto& b : k) b = static_cast<uint8_t>(below(256));
    return k;
  }
  SiteEntry site_entry() {
    static constexpr std::string_view z85 =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
    SiteEntry e;
    e.site = site_id();
    e.kind = any_enum<SiteKind>();
    e.role = any_enum<VoterRole>();
    e.signing_key = public_key();
    for (int i = 0; i < 40; ++i) e.transport_key += z85[below(z85.size())];
    e.peer = "tcp://10.0." + std::to_string(below(256)) + "." + std::to_string(below(256)) + ":" +
             std::to_string(1024 + below(60000));
    e.api = coin() ? "" : "http://" + site_id() + ":8080";
    return e;
  }
  Genesis genesis() {
    Genesis g;
    g.network_id = object_id();
    g.root_key = public_key();
    const size_t sites = below(9);
    for (size_t i = 0; i < sites; ++i) g.sites.push_back(site_entry());
    return g;
  }
  SiteCertified site_certified() { return SiteCertified{site_entry()}; }
  SiteRevoked site_revoked() {
    return SiteRevoked{site_id(), any_width_u64(), text(limits::text_bytes_max, false)};
  }

  RecordBody body(size_t type_index) {
    switch (type_index) {
      case 0:
        return crossing();
      case 1:
        return permit();
      case 2:
        return permit_status();
      case 3:
        return travel_document();
      case 4:
        return document_status();
      case 5:
        return alert();
      case 6:
        return alert_lift();
      case 7:
        return genesis();
      case 8:
        return site_certified();
      case 9:
        return site_revoked();
    }
    ADD_FAILURE() << "no generator for body type " << type_index << ": add one";
    return AlertLift{};
  }

  RecordHeader header() {
    RecordHeader h;
    h.network_id = object_id();
    h.origin = OriginId(site_id());
    h.seq = Seq(std::max<uint64_t>(1, any_width_u64()));
    if (h.seq.value > 1)
      for (auto& b : h.prev_hash) b = static_cast<uint8_t>(below(256));
    h.hlc = Hlc{any_width_u64()};
    return h;
  }

  Record record(size_t type_index) { return Record{header(), body(type_index)}; }
  Record record() { return record(below(std::variant_size_v<RecordBody>)); }

 private:
  std::mt19937 rng_;
};

// --- Building encodings by hand -------------------------------------------------------------

using Packer = msgpack::packer<msgpack::sbuffer>;

std::string packed(const std::function<void(Packer&)>& fn) {
  msgpack::sbuffer buf;
  Packer pk(buf);
  fn(pk);
  return std::string(buf.data(), buf.size());
}
std::string mp_uint(uint64_t v) {
  return packed([&](Packer& pk) { pk.pack_uint64(v); });
}
std::string mp_str(std::string_view s) {
  return packed([&](Packer& pk) {
    pk.pack_str(static_cast<uint32_t>(s.size()));
    pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
  });
}
std::string str_header(size_t n) {
  return packed([&](Packer& pk) { pk.pack_str(static_cast<uint32_t>(n)); });
}
std::string mp_bin(std::string_view s) {
  return packed([&](Packer& pk) {
    pk.pack_bin(static_cast<uint32_t>(s.size()));
    pk.pack_bin_body(s.data(), static_cast<uint32_t>(s.size()));
  });
}
std::string mp_array(uint32_t n) {
  return packed([&](Packer& pk) { pk.pack_array(n); });
}
std::string be(uint64_t v, int bytes) {
  std::string out;
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}
std::string byte(uint8_t b) { return std::string(1, static_cast<char>(b)); }

// The envelope of a record as separately replaceable msgpack pieces. The defaults are the
// canonical encoding of kRawRecord (checked by RawEnvelope.DefaultsAreCanonical).
struct RawEnvelope {
  std::string array_header = mp_array(8);
  std::string version = mp_uint(1);
  std::string network_id = mp_str("rw-border");
  std::string origin = mp_str("gatuna");
  std::string seq = mp_uint(5);
  std::string prev_hash = mp_bin(std::string(32, '\x11'));
  std::string hlc = mp_uint(0x12345678);
  std::string type = mp_uint(7);  // alert_lift
  std::string body = mp_array(3) + mp_str("alert-1") + mp_str("resolved") + mp_str("officer-7");
  std::string extra;  // appended after the body

  std::string bytes() const {
    return array_header + version + network_id + origin + seq + prev_hash + hlc + type + body +
           extra;
  }
};

Record raw_record() {
  Record r;
  r.header.network_id = "rw-border";
  r.header.origin = OriginId("gatuna");
  r.header.seq = Seq(5);
  r.header.prev_hash.fill(0x11);
  r.header.hlc = Hlc{0x12345678};
  r.body = AlertLift{"alert-1", "resolved", "officer-7"};
  return r;
}

// A record whose body carries an enum: PermitStatusChange [permit_id, action, valid_until,
// reason, officer].
std::string permit_status_body(std::string action) {
  return mp_array(5) + mp_str("permit-1") + action + byte(0xc0) + mp_str("fraud") + mp_str("o-1");
}

void expect_decode_error(std::string_view bytes, std::string_view field = {}) {
  const Result<Record> r = decode_record(bytes);
  ASSERT_FALSE(r.ok()) << "accepted " << hex(bytes);
  EXPECT_EQ(r.error().code, Errc::decode) << r.error().message << " for " << hex(bytes);
  if (!field.empty()) {
    EXPECT_EQ(r.error().field, field) << r.error().message;
  }
}

// --- Re-serializing a decoded msgpack tree, one node in another form -----------------------

// The ways one node can be written other than canonically. Every one of them must be refused.
enum class Form {
  canonical,
  uint8,   // 0xcc
  uint16,  // 0xcd
  uint32,  // 0xce
  uint64,  // 0xcf
  int8,    // 0xd0
  int16,   // 0xd1
  int32,   // 0xd2
  int64,   // 0xd3
  float32,
  float64,
  str8,
  str16,
  str32,
  bin16,
  bin32,
  bin_as_str,
  array16,
  array32,
  array_as_map,
  empty_map,
};

const char* form_name(Form f) {
  static const char* const names[] = {
      "canonical", "uint8", "uint16",     "uint32",  "uint64",  "int8",         "int16",
      "int32",     "int64", "float32",    "float64", "str8",    "str16",        "str32",
      "bin16",     "bin32", "bin_as_str", "array16", "array32", "array_as_map", "empty_map"};
  return names[static_cast<size_t>(f)];
}

// The non-canonical forms applicable to a node: longer integer, string, binary and array
// headers; signed forms of unsigned values; floats; maps.
std::vector<Form> other_forms(const msgpack::object& o) {
  std::vector<Form> out;
  switch (o.type) {
    case msgpack::type::POSITIVE_INTEGER: {
      const uint64_t u = o.via.u64;
      const int canonical_width = u < 128           ? 0
                                  : u <= 0xff       ? 1
                                  : u <= 0xffff     ? 2
                                  : u <= 0xffffffff ? 4
                                                    : 8;
      if (u <= 0xff && canonical_width != 1) out.push_back(Form::uint8);
      if (u <= 0xffff && canonical_width != 2) out.push_back(Form::uint16);
      if (u <= 0xffffffff && canonical_width != 4) out.push_back(Form::uint32);
      if (canonical_width != 8) out.push_back(Form::uint64);
      if (u <= 0x7f) out.push_back(Form::int8);
      if (u <= 0x7fff) out.push_back(Form::int16);
      if (u <= 0x7fffffff) out.push_back(Form::int32);
      if (u <= 0x7fffffffffffffff) out.push_back(Form::int64);
      out.push_back(Form::float32);
      out.push_back(Form::float64);
      break;
    }
    case msgpack::type::NEGATIVE_INTEGER: {
      const int64_t i = o.via.i64;
      const int canonical_width = i >= -32         ? 0
                                  : i >= -128      ? 1
                                  : i >= -32768    ? 2
                                  : i >= INT32_MIN ? 4
                                                   : 8;
      if (i >= -128 && canonical_width != 1) out.push_back(Form::int8);
      if (i >= -32768 && canonical_width != 2) out.push_back(Form::int16);
      if (i >= INT32_MIN && canonical_width != 4) out.push_back(Form::int32);
      if (canonical_width != 8) out.push_back(Form::int64);
      out.push_back(Form::float32);
      out.push_back(Form::float64);
      break;
    }
    case msgpack::type::STR: {
      const uint32_t n = o.via.str.size;
      if (n < 32) out.push_back(Form::str8);
      if (n < 256) out.push_back(Form::str16);
      if (n < 65536) out.push_back(Form::str32);
      break;
    }
    case msgpack::type::BIN: {
      const uint32_t n = o.via.bin.size;
      if (n < 256) out.push_back(Form::bin16);
      if (n < 65536) out.push_back(Form::bin32);
      out.push_back(Form::bin_as_str);
      break;
    }
    case msgpack::type::ARRAY: {
      const uint32_t n = o.via.array.size;
      if (n < 16) out.push_back(Form::array16);
      if (n < 65536) out.push_back(Form::array32);
      out.push_back(Form::array_as_map);
      break;
    }
    default:
      break;
  }
  out.push_back(Form::empty_map);
  return out;
}

class Rewriter {
 public:
  Rewriter(size_t node, Form form) : target_(node), form_(form) {}

  std::string write(const msgpack::object& root) {
    out_.clear();
    counter_ = 0;
    put(root);
    return out_;
  }
  size_t nodes() const { return counter_; }

  // Pre-order list of the nodes of a tree.
  static void collect(const msgpack::object& o, std::vector<const msgpack::object*>& out) {
    out.push_back(&o);
    if (o.type == msgpack::type::ARRAY)
      for (uint32_t i = 0; i < o.via.array.size; ++i) collect(o.via.array.ptr[i], out);
  }

 private:
  void put(const msgpack::object& o) {
    const Form f = counter_++ == target_ ? form_ : Form::canonical;
    if (f == Form::empty_map) {
      out_ += byte(0x80);
      return;
    }
    switch (o.type) {
      case msgpack::type::NIL:
        out_ += byte(0xc0);
        return;
      case msgpack::type::BOOLEAN:
        out_ += byte(o.via.boolean ? 0xc3 : 0xc2);
        return;
      case msgpack::type::POSITIVE_INTEGER:
        put_int(o.via.u64, f);
        return;
      case msgpack::type::NEGATIVE_INTEGER:
        put_int(static_cast<uint64_t>(o.via.i64), f, true);
        return;
      case msgpack::type::STR: {
        const std::string_view s(o.via.str.ptr, o.via.str.size);
        if (f == Form::str8)
          out_ += byte(0xd9) + be(s.size(), 1);
        else if (f == Form::str16)
          out_ += byte(0xda) + be(s.size(), 2);
        else if (f == Form::str32)
          out_ += byte(0xdb) + be(s.size(), 4);
        else
          out_ += str_header(s.size());
        out_ += s;
        return;
      }
      case msgpack::type::BIN: {
        const std::string_view s(o.via.bin.ptr, o.via.bin.size);
        if (f == Form::bin16)
          out_ += byte(0xc5) + be(s.size(), 2) + std::string(s);
        else if (f == Form::bin32)
          out_ += byte(0xc6) + be(s.size(), 4) + std::string(s);
        else if (f == Form::bin_as_str)
          out_ += mp_str(s);
        else
          out_ += mp_bin(s);
        return;
      }
      case msgpack::type::ARRAY: {
        const uint32_t n = o.via.array.size;
        if (f == Form::array16)
          out_ += byte(0xdc) + be(n, 2);
        else if (f == Form::array32)
          out_ += byte(0xdd) + be(n, 4);
        else if (f == Form::array_as_map)
          out_ += n < 16 ? byte(static_cast<uint8_t>(0x80 | n)) : byte(0xde) + be(n, 2);
        else
          out_ += mp_array(n);
        for (uint32_t i = 0; i < n; ++i) {
          if (f == Form::array_as_map) out_ += mp_uint(i);
          put(o.via.array.ptr[i]);
        }
        return;
      }
      default:
        ADD_FAILURE() << "unexpected msgpack type " << static_cast<int>(o.type);
        return;
    }
  }

  void put_int(uint64_t bits, Form f, bool negative = false) {
    switch (f) {
      case Form::uint8:
        out_ += byte(0xcc) + be(bits, 1);
        return;
      case Form::uint16:
        out_ += byte(0xcd) + be(bits, 2);
        return;
      case Form::uint32:
        out_ += byte(0xce) + be(bits, 4);
        return;
      case Form::uint64:
        out_ += byte(0xcf) + be(bits, 8);
        return;
      case Form::int8:
        out_ += byte(0xd0) + be(bits, 1);
        return;
      case Form::int16:
        out_ += byte(0xd1) + be(bits, 2);
        return;
      case Form::int32:
        out_ += byte(0xd2) + be(bits, 4);
        return;
      case Form::int64:
        out_ += byte(0xd3) + be(bits, 8);
        return;
      case Form::float32: {
        const float x =
            negative ? static_cast<float>(static_cast<int64_t>(bits)) : static_cast<float>(bits);
        uint32_t raw = 0;
        std::memcpy(&raw, &x, sizeof raw);
        out_ += byte(0xca) + be(raw, 4);
        return;
      }
      case Form::float64: {
        const double x =
            negative ? static_cast<double>(static_cast<int64_t>(bits)) : static_cast<double>(bits);
        uint64_t raw = 0;
        std::memcpy(&raw, &x, sizeof raw);
        out_ += byte(0xcb) + be(raw, 8);
        return;
      }
      default:
        out_ += negative ? packed([&](Packer& pk) { pk.pack_int64(static_cast<int64_t>(bits)); })
                         : mp_uint(bits);
        return;
    }
  }

  size_t target_;
  Form form_;
  size_t counter_ = 0;
  std::string out_;
};

msgpack::object_handle unpack(std::string_view bytes) {
  return msgpack::unpack(bytes.data(), bytes.size());
}

// --- Round trips ----------------------------------------------------------------------------

TEST(CodecRoundTrip, RandomValidRecordsOfEveryTypeDecodeToThemselves) {
  const uint32_t seed = test_seed();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  RecordGen gen(seed);
  constexpr int per_type = 300;
  std::array<int, record_type_max> seen{};
  for (int i = 0; i < per_type; ++i) {
    for (size_t t = 0; t < std::variant_size_v<RecordBody>; ++t) {
      const Record original = gen.record(t);
      if (t < kDomainTypes) {
        const Status valid = validate_record(original);
        ASSERT_TRUE(valid.ok()) << "generator made an invalid record (iteration " << i
                                << "): " << valid.error().field << ": " << valid.error().message;
      }
      const std::string bytes = encode_record(original);
      ASSERT_LE(bytes.size(), limits::record_encoded_bytes_max);
      const Result<Record> decoded = decode_record(bytes);
      ASSERT_TRUE(decoded.ok()) << "iteration " << i << " type " << t << ": "
                                << decoded.error().message << " at " << decoded.error().field
                                << "\n"
                                << hex(bytes);
      ASSERT_EQ(decoded.value(), original) << "iteration " << i << " type " << t;
      ASSERT_EQ(type_of(decoded.value().body), type_of(original.body));
      ASSERT_EQ(encode_record(decoded.value()), bytes) << "iteration " << i << " type " << t;
      ++seen[static_cast<size_t>(type_of(decoded.value().body)) - 1];
    }
  }
  for (size_t t = 0; t < seen.size(); ++t) EXPECT_EQ(seen[t], per_type) << "type " << t + 1;
}

TEST(CodecRoundTrip, EncodingIsTheArrayDescribedInTheHeader) {
  const Record r = raw_record();
  EXPECT_EQ(encode_record(r), RawEnvelope{}.bytes());
  const Result<Record> back = decode_record(RawEnvelope{}.bytes());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back.value(), r);
}

TEST(CodecRoundTrip, OptionalsAbsentAndPresentAreDistinct) {
  Crossing c;
  c.post = "gatuna";
  c.officer = "o";
  Record with{RecordHeader{}, c};
  with.header.seq = Seq(1);
  Record without = with;
  std::get<Crossing>(with.body).national_id = "";  // present but empty is not absent
  std::get<Crossing>(with.body).traveller.birth_date = Date{0};
  const std::string a = encode_record(with), b = encode_record(without);
  EXPECT_NE(a, b);
  ASSERT_TRUE(decode_record(a).ok());
  ASSERT_TRUE(decode_record(b).ok());
  EXPECT_EQ(decode_record(a).value(), with);
  EXPECT_EQ(decode_record(b).value(), without);
  EXPECT_FALSE(std::get<Crossing>(decode_record(b).value().body).national_id.has_value());
}

// Integers take msgpack's shortest form: the record grows by exactly the width of the integer.
TEST(CodecRoundTrip, IntegersAtWidthBoundariesUseTheShortestForm) {
  struct Case {
    uint64_t value;
    size_t extra_bytes;  // beyond a positive fixint
  };
  const Case cases[] = {{0, 0},          {1, 0},           {0x7f, 0},      {0x80, 1},
                        {0xff, 1},       {0x100, 2},       {0xffff, 2},    {0x10000, 4},
                        {0xffffffff, 4}, {0x100000000, 8}, {UINT64_MAX, 8}};
  Record r = raw_record();
  r.header.hlc = Hlc{0};
  const size_t base = encode_record(r).size();
  for (const Case& c : cases) {
    SCOPED_TRACE("value " + std::to_string(c.value));
    r.header.hlc = Hlc{c.value};
    const std::string bytes = encode_record(r);
    EXPECT_EQ(bytes.size(), base + c.extra_bytes);
    const Result<Record> back = decode_record(bytes);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back.value().header.hlc.value, c.value);
    r.header.seq = Seq(c.value);  // seq too, through the same path
    ASSERT_TRUE(decode_record(encode_record(r)).ok());
    EXPECT_EQ(decode_record(encode_record(r)).value().header.seq.value, c.value);
    r.header.seq = Seq(5);
  }
}

TEST(CodecRoundTrip, DatesAtWidthBoundariesIncludingNegative) {
  const int32_t days[] = {0,   1,    127,  128,    255,    256,       65535,     65536, -1, -32,
                          -33, -128, -129, -32768, -32769, INT32_MIN, INT32_MAX, -25567 /* 1900 */};
  for (int32_t d : days) {
    SCOPED_TRACE("days " + std::to_string(d));
    Permit p;
    p.permit_id = "p";
    p.valid_from = Date{d};
    p.valid_until = Date{d};
    p.holder.birth_date = Date{d};
    const Record r{raw_record().header, p};
    const std::string bytes = encode_record(r);
    const Result<Record> back = decode_record(bytes);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back.value(), r);
    EXPECT_EQ(encode_record(back.value()), bytes);
  }
}

// --- Canonical form: hand-built encodings that must be refused -----------------------------

TEST(RawEnvelope, DefaultsAreCanonical) {
  const Result<Record> r = decode_record(RawEnvelope{}.bytes());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value(), raw_record());
  RawEnvelope e;
  e.type = mp_uint(3);
  e.body = permit_status_body(mp_uint(1));  // cancel
  const Result<Record> s = decode_record(e.bytes());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(std::get<PermitStatusChange>(s.value().body).action, PermitAction::cancel);
}

TEST(CodecCanonical, IntegerInALongerFormIsRefused) {
  const std::string longer[] = {
      byte(0xcc) + be(5, 1), byte(0xcd) + be(5, 2), byte(0xce) + be(5, 4), byte(0xcf) + be(5, 8),
      byte(0xd0) + be(5, 1), byte(0xd1) + be(5, 2), byte(0xd2) + be(5, 4), byte(0xd3) + be(5, 8),
  };
  for (const std::string& seq : longer) {
    RawEnvelope e;
    e.seq = seq;
    expect_decode_error(e.bytes());
  }
  RawEnvelope e;
  e.seq = "\xcc\x05";  // the example of the brief, literally
  expect_decode_error(e.bytes());
  e = RawEnvelope{};
  e.version = byte(0xcc) + be(1, 1);
  expect_decode_error(e.bytes());
  e = RawEnvelope{};
  e.hlc = byte(0xcf) + be(0x12345678, 8);  // canonical is 0xce
  expect_decode_error(e.bytes());
  e = RawEnvelope{};
  e.type = byte(0xd0) + be(7, 1);
  expect_decode_error(e.bytes());
}

TEST(CodecCanonical, LongerStringBinaryAndArrayHeadersAreRefused) {
  RawEnvelope e;
  e.network_id = byte(0xd9) + be(9, 1) + "rw-border";  // str8 where fixstr fits
  expect_decode_error(e.bytes());
  e = RawEnvelope{};
  e.origin = byte(0xda) + be(6, 2) + "gatuna";  // str16
  expect_decode_error(e.bytes());
  e = RawEnvelope{};
  e.prev_hash = byte(0xc5) + be(32, 2) + std::string(32, '\x11');  // bin16 where bin8 fits
  expect_decode_error(e.bytes());
  e = RawEnvelope{};
  e.array_header = byte(0xdc) + be(8, 2);  // array16 where fixarray fits
  expect_decode_error(e.bytes());
  e = RawEnvelope{};
  e.body = byte(0xdc) + be(3, 2) + mp_str("alert-1") + mp_str("resolved") + mp_str("officer-7");
  expect_decode_error(e.bytes());
}

TEST(CodecCanonical, WrongTypesAreRefused) {
  RawEnvelope e;
  e.prev_hash = mp_str(std::string(32, '\x11'));  // str, not bin
  expect_decode_error(e.bytes(), "prev_hash");
  e = RawEnvelope{};
  e.prev_hash = mp_bin(std::string(31, '\x11'));
  expect_decode_error(e.bytes(), "prev_hash");
  e = RawEnvelope{};
  e.prev_hash = mp_bin(std::string(33, '\x11'));
  expect_decode_error(e.bytes(), "prev_hash");
  e = RawEnvelope{};
  e.network_id = mp_bin("rw-border");  // bin, not str
  expect_decode_error(e.bytes(), "network_id");
  e = RawEnvelope{};
  e.seq = byte(0xff);  // -1
  expect_decode_error(e.bytes(), "seq");
  e = RawEnvelope{};
  e.body = mp_array(3) + mp_str("alert-1") + byte(0xc0) + mp_str("officer-7");  // nil reason
  expect_decode_error(e.bytes(), "reason");
  e = RawEnvelope{};
  e.body = mp_array(3) + mp_str("alert-1") + byte(0xc3) + mp_str("officer-7");  // bool reason
  expect_decode_error(e.bytes(), "reason");
}

TEST(CodecCanonical, MapInsteadOfArrayIsRefused) {
  RawEnvelope e;
  e.body = byte(0x83) + mp_str("alert_id") + mp_str("alert-1") + mp_str("reason") +
           mp_str("resolved") + mp_str("officer") + mp_str("officer-7");
  expect_decode_error(e.bytes());
  e.body = byte(0x80);  // the empty map passes msgpack's limits but is not an array
  expect_decode_error(e.bytes());
  // The whole envelope as a map of index -> field.
  const RawEnvelope d;
  const std::string pieces[] = {d.version,   d.network_id, d.origin, d.seq,
                                d.prev_hash, d.hlc,        d.type,   d.body};
  std::string as_map = byte(0x88);
  for (size_t i = 0; i < 8; ++i) as_map += mp_uint(i) + pieces[i];
  expect_decode_error(as_map);
}

TEST(CodecCanonical, FloatIsRefused) {
  RawEnvelope e;
  uint64_t raw64 = 0;
  const double five = 5.0;
  std::memcpy(&raw64, &five, sizeof raw64);
  e.seq = byte(0xcb) + be(raw64, 8);
  expect_decode_error(e.bytes(), "seq");
  uint32_t raw32 = 0;
  const float f = 5.0f;
  std::memcpy(&raw32, &f, sizeof raw32);
  e.seq = byte(0xca) + be(raw32, 4);
  expect_decode_error(e.bytes(), "seq");
  // A date as a float.
  Permit p;
  p.permit_id = "p";
  p.valid_from = Date{20000};
  const std::string bytes = encode_record(Record{raw_record().header, p});
  const msgpack::object_handle oh = unpack(bytes);
  std::vector<const msgpack::object*> nodes;
  Rewriter::collect(oh.get(), nodes);
  // valid_from is field 5 of the permit body, the envelope's field 7.
  const msgpack::object& body = oh.get().via.array.ptr[7];
  const msgpack::object* valid_from = &body.via.array.ptr[5];
  size_t index = 0;
  while (index < nodes.size() && nodes[index] != valid_from) ++index;
  ASSERT_LT(index, nodes.size());
  expect_decode_error(Rewriter(index, Form::float64).write(oh.get()), "valid_from");
}

TEST(CodecCanonical, WrongEnvelopeLengthIsRefused) {
  RawEnvelope e;
  e.array_header = mp_array(7);
  e.body.clear();  // 7 fields, no body
  expect_decode_error(e.bytes());
  e = RawEnvelope{};
  e.array_header = mp_array(9);
  e.extra = byte(0xc0);
  expect_decode_error(e.bytes());
  expect_decode_error(mp_array(0));
  expect_decode_error(mp_uint(1));
  expect_decode_error(mp_str("record"));
}

TEST(CodecCanonical, WrongStructFieldCountIsRefused) {
  RawEnvelope e;
  e.body = mp_array(2) + mp_str("alert-1") + mp_str("resolved");
  expect_decode_error(e.bytes());
  e.body = mp_array(4) + mp_str("alert-1") + mp_str("resolved") + mp_str("o") + mp_str("x");
  expect_decode_error(e.bytes());
  e.body = mp_array(0);
  expect_decode_error(e.bytes());
}

TEST(CodecCanonical, UnknownVersionIsRefused) {
  for (uint64_t v : {uint64_t{0}, uint64_t{2}, uint64_t{255}, uint64_t{0xffffffff} + 1}) {
    RawEnvelope e;
    e.version = mp_uint(v);
    expect_decode_error(e.bytes(), "version");
  }
}

TEST(CodecCanonical, UnknownRecordTypeIsRefused) {
  for (uint64_t t :
       {uint64_t{0}, uint64_t{record_type_max} + 1, uint64_t{255}, uint64_t{UINT64_MAX}}) {
    RawEnvelope e;
    e.type = mp_uint(t);
    expect_decode_error(e.bytes(), "type");
  }
  // A known type with another type's body.
  RawEnvelope e;
  e.type = mp_uint(1);
  expect_decode_error(e.bytes());
}

TEST(CodecCanonical, UnknownEnumIndexIsRefused) {
  RawEnvelope e;
  e.type = mp_uint(3);
  e.body = permit_status_body(mp_uint(EnumNames<PermitAction>::names.size()));
  expect_decode_error(e.bytes(), "action");
  e.body = permit_status_body(mp_uint(UINT64_MAX));
  expect_decode_error(e.bytes(), "action");
  e.body = permit_status_body(byte(0xff));  // -1
  expect_decode_error(e.bytes(), "action");
  // An enum nested in a sub-struct: the traveller's sex (Crossing.traveller.sex).
  Crossing c;
  c.post = "gatuna";
  c.officer = "o";
  c.traveller.sex = Sex::unspecified;  // index 2
  const std::string bytes = encode_record(Record{raw_record().header, c});
  const msgpack::object_handle oh = unpack(bytes);
  std::vector<const msgpack::object*> nodes;
  Rewriter::collect(oh.get(), nodes);
  const msgpack::object* sex = &oh.get().via.array.ptr[7].via.array.ptr[3].via.array.ptr[4];
  ASSERT_EQ(sex->type, msgpack::type::POSITIVE_INTEGER);
  ASSERT_EQ(sex->via.u64, 2u);
  // Replace the byte 0x02 of the sex field by 0x03: find the node's offset by re-serializing.
  size_t index = 0;
  while (index < nodes.size() && nodes[index] != sex) ++index;
  ASSERT_LT(index, nodes.size());
  const std::string marked = Rewriter(index, Form::uint8).write(oh.get());  // cc 02 at its place
  const size_t at = marked.find("\xcc\x02");
  ASSERT_NE(at, std::string::npos);
  std::string bad = marked;
  bad.replace(at, 2, "\x03");
  ASSERT_EQ(bad.size(), bytes.size());
  expect_decode_error(bad, "traveller.sex");
}

TEST(CodecCanonical, IntegersOutOfTheirFieldsRangeAreRefused) {
  Permit p;
  p.permit_id = "p";
  p.entries_allowed = UINT32_MAX;
  p.valid_from = Date{INT32_MAX};
  p.valid_until = Date{INT32_MIN};
  const std::string bytes = encode_record(Record{raw_record().header, p});
  ASSERT_TRUE(decode_record(bytes).ok());
  auto replaced = [&](std::string_view from, std::string_view to) {
    const size_t at = bytes.find(from);
    EXPECT_NE(at, std::string::npos);
    EXPECT_EQ(bytes.find(from, at + 1), std::string::npos) << "pattern not unique";
    std::string out = bytes;
    out.replace(at, from.size(), to);
    return out;
  };
  // entries_allowed 2^32 (a u32 field).
  expect_decode_error(replaced(byte(0xce) + be(UINT32_MAX, 4), mp_uint(uint64_t{1} << 32)),
                      "entries_allowed");
  // valid_from INT32_MAX + 1.
  expect_decode_error(replaced(byte(0xce) + be(INT32_MAX, 4), mp_uint(uint64_t{INT32_MAX} + 1)),
                      "valid_from");
  // valid_until INT32_MIN - 1.
  expect_decode_error(replaced(byte(0xd2) + be(0x80000000, 4),
                               byte(0xd3) + be(static_cast<uint64_t>(int64_t{INT32_MIN} - 1), 8)),
                      "valid_until");
}

TEST(CodecCanonical, TrailingBytesAreRefused) {
  const std::string valid = RawEnvelope{}.bytes();
  for (const std::string& tail : {byte(0x00), byte(0xc0), mp_str("x"), valid}) {
    expect_decode_error(valid + tail);
  }
}

TEST(CodecCanonical, EveryTruncationIsRefused) {
  RecordGen gen(test_seed());
  SCOPED_TRACE("seed=" + std::to_string(test_seed()));
  for (size_t t = 0; t < std::variant_size_v<RecordBody>; ++t) {
    const std::string bytes = encode_record(gen.record(t));
    for (size_t n = 0; n < bytes.size(); ++n) {
      const Result<Record> r = decode_record(std::string_view(bytes).substr(0, n));
      ASSERT_FALSE(r.ok()) << "type " << t << " prefix " << n << " of " << bytes.size();
      ASSERT_EQ(r.error().code, Errc::decode) << r.error().message;
    }
  }
}

TEST(CodecLimits, OversizedInputIsRefusedBeforeParsing) {
  // Garbage past the limit is a limit error, not a parse error: msgpack never sees it.
  const std::string garbage(limits::record_encoded_bytes_max + 1, '\xc1');
  const Result<Record> r = decode_record(garbage);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::limit_exceeded);

  // A well-formed record of exactly the limit decodes; one byte more is refused.
  Record big = raw_record();
  AlertLift lift{"alert-1", "", "officer-7"};
  big.body = lift;
  const size_t base = encode_record(big).size();
  // reason as str16 (header 3 bytes, replacing the 1-byte fixstr header).
  const size_t reason = limits::record_encoded_bytes_max - base - 2;
  std::get<AlertLift>(big.body).reason = std::string(reason, 'r');
  const std::string at_limit = encode_record(big);
  ASSERT_EQ(at_limit.size(), limits::record_encoded_bytes_max);
  const Result<Record> ok = decode_record(at_limit);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok.value(), big);
  std::get<AlertLift>(big.body).reason += 'r';
  const std::string over = encode_record(big);
  ASSERT_EQ(over.size(), limits::record_encoded_bytes_max + 1);
  const Result<Record> too_big = decode_record(over);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code, Errc::limit_exceeded);
}

TEST(CodecLimits, NestingDeeperThanTheLimitIsRefused) {
  // The findings list of a crossing holds nested arrays instead of findings; the envelope and
  // body are two levels, so depth counts from there.
  Crossing c;
  c.post = "gatuna";
  c.officer = "o";
  c.findings.push_back(Finding{"x", Verdict::clear, ""});
  const std::string bytes = encode_record(Record{raw_record().header, c});
  const std::string finding = mp_array(3) + mp_str("x") + mp_uint(0) + mp_str("");
  const size_t at = bytes.find(mp_array(1) + finding);
  ASSERT_NE(at, std::string::npos);
  for (size_t depth : {size_t{limits::msgpack_depth_max}, size_t{limits::msgpack_depth_max + 1},
                       size_t{64}, size_t{1000}, size_t{10000}}) {
    SCOPED_TRACE("nested arrays: " + std::to_string(depth));
    std::string nested(depth, '\x91');
    nested += byte(0xc0);
    std::string bad = bytes;
    bad.replace(at + 1, finding.size(), nested);
    expect_decode_error(bad);
  }
  // Pure nesting just under the size limit: no recursion blows the stack.
  std::string deep(limits::record_encoded_bytes_max - 1, '\x91');
  deep += byte(0xc0);
  expect_decode_error(deep);
  std::string deep_maps;
  for (size_t i = 0; i < limits::record_encoded_bytes_max / 2 - 1; ++i) deep_maps += "\x81\xc0";
  deep_maps += byte(0xc0);
  const Result<Record> r = decode_record(deep_maps);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(is_rejection(r.error().code));
}

// Every node of random records of every type, written in each of its non-canonical forms.
TEST(CodecCanonical, EveryNodeInEveryOtherFormIsRefused) {
  const uint32_t seed = test_seed();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  RecordGen gen(seed);
  size_t rewrites = 0;
  for (int i = 0; i < 8; ++i) {
    for (size_t t = 0; t < std::variant_size_v<RecordBody>; ++t) {
      const std::string bytes = encode_record(gen.record(t));
      const msgpack::object_handle oh = unpack(bytes);
      std::vector<const msgpack::object*> nodes;
      Rewriter::collect(oh.get(), nodes);
      ASSERT_EQ(Rewriter(nodes.size(), Form::canonical).write(oh.get()), bytes)
          << "the rewriter does not reproduce the canonical form";
      for (size_t n = 0; n < nodes.size(); ++n) {
        for (Form f : other_forms(*nodes[n])) {
          const std::string bad = Rewriter(n, f).write(oh.get());
          ASSERT_NE(bad, bytes);
          const Result<Record> r = decode_record(bad);
          ASSERT_FALSE(r.ok()) << "accepted node " << n << " as " << form_name(f) << " (type " << t
                               << ", iteration " << i << "): " << hex(bad);
          ASSERT_TRUE(is_rejection(r.error().code)) << r.error().message;
          ++rewrites;
        }
      }
    }
  }
  EXPECT_GT(rewrites, 1000u);
}

// --- Fuzz -----------------------------------------------------------------------------------

void expect_sound(std::string_view input, uint64_t iteration, size_t& accepted) {
  const Result<Record> r = decode_record(input);
  if (r.ok()) {
    ++accepted;
    ASSERT_EQ(encode_record(r.value()), input)
        << "iteration " << iteration << " accepted a form it does not produce: " << hex(input);
  } else {
    ASSERT_TRUE(is_rejection(r.error().code))
        << "iteration " << iteration << ": " << r.error().message << " for " << hex(input);
  }
}

TEST(CodecFuzz, RandomBytesNeverCrashAndAcceptedInputIsCanonical) {
  const uint32_t seed = test_seed();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  RecordGen gen(seed);
  size_t accepted = 0;
  for (uint64_t i = 0; i < 20000; ++i) {
    const size_t len = gen.coin() ? gen.below(48) : gen.below(2048);
    std::string input(len, '\0');
    for (char& c : input) c = static_cast<char>(gen.below(256));
    // Half of them start like an envelope, to get past the first byte.
    if (len > 0 && gen.coin()) input[0] = static_cast<char>(0x98);
    expect_sound(input, i, accepted);
    if (HasFatalFailure()) return;
  }
}

TEST(CodecFuzz, MutatedValidEncodingsNeverCrashAndAcceptedInputIsCanonical) {
  const uint32_t seed = test_seed();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  RecordGen gen(seed);
  std::vector<std::string> pool;
  for (int i = 0; i < 64; ++i) pool.push_back(encode_record(gen.record()));
  static const uint8_t interesting[] = {0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
                                        0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xca,
                                        0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd3, 0xd4, 0xd9,
                                        0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff};
  size_t accepted = 0;
  for (uint64_t i = 0; i < 20000; ++i) {
    std::string s = pool[gen.below(pool.size())];
    const uint64_t mutations = 1 + gen.below(4);
    for (uint64_t m = 0; m < mutations && !s.empty(); ++m) {
      const size_t at = gen.below(s.size());
      switch (gen.below(8)) {
        case 0:
          s[at] = static_cast<char>(s[at] ^ (1 << gen.below(8)));
          break;
        case 1:
          s[at] = static_cast<char>(gen.below(256));
          break;
        case 2:
          s[at] = static_cast<char>(interesting[gen.below(std::size(interesting))]);
          break;
        case 3:
          s.insert(at, 1, static_cast<char>(gen.below(256)));
          break;
        case 4:
          s.erase(at, 1 + gen.below(4));
          break;
        case 5:
          s.resize(at);
          break;
        case 6:
          s.insert(at, s.substr(gen.below(s.size()), gen.below(16)));
          break;
        case 7: {
          // Splice a piece of another record in.
          const std::string& other = pool[gen.below(pool.size())];
          const size_t from = gen.below(other.size());
          s.replace(at, gen.below(16), other.substr(from, gen.below(32)));
          break;
        }
      }
    }
    expect_sound(s, i, accepted);
    if (HasFatalFailure()) return;
  }
  // Mutations inside text fields keep records valid: the loop does reach full decodes.
  EXPECT_GT(accepted, 0u);
}

// A failing field is named by its whole path, array indexes included (the path is spelled out
// only when a field fails).
TEST(MsgpackVisit, AFailingFieldIsNamedByItsPath) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  const std::array<char, 32> hash{};
  pk.pack_array(5);
  pk.pack(uint64_t{ledger_entry_version});
  pk.pack(std::string("hq"));
  pk.pack(uint64_t{1000});
  pk.pack_array(2);
  for (const char* seq : {"", "seven"}) {
    pk.pack_array(3);
    pk.pack(std::string("gatuna"));
    if (*seq == '\0')
      pk.pack(uint64_t{7});
    else
      pk.pack(std::string(seq));
    pk.pack_bin(32);
    pk.pack_bin_body(hash.data(), 32);
  }
  pk.pack_array(0);  // forks
  const auto r =
      msgpack_visit::decode_struct<LedgerEntry>(std::string_view(buf.data(), buf.size()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "items[1].seq");
  EXPECT_EQ(r.error().message, "expected unsigned integer");
}

}  // namespace
}  // namespace umupaka

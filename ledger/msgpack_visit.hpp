// Internal: msgpack-c visitors that encode and decode any struct with a static visit(self, v)
// (records.hpp, views.hpp) in the canonical form described in codec.hpp. Heavy (msgpack-c): include
// only from the few .cpp files that encode, never from a public header.
#pragma once

#include <cstring>
#include <msgpack.hpp>
#include <string>

#include "ledger/limits.hpp"
#include "ledger/records.hpp"
#include "ledger/result.hpp"

namespace umupaka::msgpack_visit {

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {};

struct FieldCounter {
  size_t n = 0;
  template <typename T>
  void operator()(const char*, const T&) {
    ++n;
  }
};

template <typename T>
size_t field_count() {
  FieldCounter c;
  T dummy{};
  T::visit(std::as_const(dummy), c);
  return c.n;
}

// The bytes being encoded, straight into the string that is returned (msgpack::sbuffer
// allocates 8 KiB up front and is copied out after).
struct StringBuffer {
  std::string bytes;
  void write(const char* data, size_t size) { bytes.append(data, size); }
};

using Packer = msgpack::packer<StringBuffer>;

struct Encoder {
  Packer& pk;

  void put(const std::string& s) {
    pk.pack_str(static_cast<uint32_t>(s.size()));
    pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
  }
  void put(bool b) { b ? pk.pack_true() : pk.pack_false(); }
  void put(uint32_t v) { pk.pack_uint64(v); }
  void put(uint64_t v) { pk.pack_uint64(v); }
  void put(Date d) { pk.pack_int64(d.days); }
  template <size_t N>
  void put(const std::array<uint8_t, N>& a) {
    pk.pack_bin(static_cast<uint32_t>(N));
    pk.pack_bin_body(reinterpret_cast<const char*>(a.data()), static_cast<uint32_t>(N));
  }
  template <typename T>
  void put(const std::optional<T>& o) {
    if (o) {
      put(*o);
    } else {
      pk.pack_nil();
    }
  }
  template <typename T>
  void put(const std::vector<T>& v) {
    pk.pack_array(static_cast<uint32_t>(v.size()));
    for (const auto& x : v) put(x);
  }
  template <typename E>
  requires std::is_enum_v<E>
  void put(E e) { pk.pack_uint64(static_cast<uint64_t>(e)); }
  template <typename T>
  requires std::is_class_v<T>
  void put(const T& s) {
    pk.pack_array(static_cast<uint32_t>(field_count<T>()));
    T::visit(s, *this);
  }
  template <typename T>
  void operator()(const char*, const T& value) {
    put(value);
  }
};

// Where a field lies in the value being decoded: linked on the stack as the walk descends, and
// spelled out ("records[2].header.seq") only for the field that fails (building the text for
// every field was most of the cost of decoding a frame).
struct Path {
  const Path* parent = nullptr;
  const char* name = nullptr;  // a field's name; null for an array element or the root
  uint32_t index = 0;
  bool element = false;

  Path() = default;
  Path(const char* field) : name(field) {}  // NOLINT(google-explicit-constructor): a top field
  Path(const Path* p, const char* field) : parent(p), name(field) {}
  Path(const Path* p, uint32_t i) : parent(p), index(i), element(true) {}

  std::string str() const {
    std::string base = parent != nullptr ? parent->str() : std::string();
    if (element) return base + "[" + std::to_string(index) + "]";
    if (name == nullptr || *name == '\0') return base;
    return base.empty() ? std::string(name) : base + "." + name;
  }
};

// Walks a msgpack object tree into a value, recording the dotted path of the first bad field.
struct Decoder {
  const msgpack::object* cur = nullptr;
  std::string path;
  std::string error_field;
  std::string error_message;

  bool fail(const Path& field, std::string msg) {
    if (error_message.empty()) {
      error_field = field.str();
      error_message = std::move(msg);
    }
    return false;
  }

  bool get(const msgpack::object& o, const Path& f, std::string& out) {
    if (o.type != msgpack::type::STR) return fail(f, "expected text");
    out.assign(o.via.str.ptr, o.via.str.size);
    return true;
  }
  bool get(const msgpack::object& o, const Path& f, bool& out) {
    if (o.type != msgpack::type::BOOLEAN) return fail(f, "expected boolean");
    out = o.via.boolean;
    return true;
  }
  bool get(const msgpack::object& o, const Path& f, uint64_t& out) {
    if (o.type != msgpack::type::POSITIVE_INTEGER) return fail(f, "expected unsigned integer");
    out = o.via.u64;
    return true;
  }
  bool get(const msgpack::object& o, const Path& f, uint32_t& out) {
    uint64_t v = 0;
    if (!get(o, f, v)) return false;
    if (v > UINT32_MAX) return fail(f, "integer out of range");
    out = static_cast<uint32_t>(v);
    return true;
  }
  bool get(const msgpack::object& o, const Path& f, Date& out) {
    int64_t v = 0;
    if (o.type == msgpack::type::POSITIVE_INTEGER) {
      if (o.via.u64 > INT32_MAX) return fail(f, "date out of range");
      v = static_cast<int64_t>(o.via.u64);
    } else if (o.type == msgpack::type::NEGATIVE_INTEGER) {
      if (o.via.i64 < INT32_MIN) return fail(f, "date out of range");
      v = o.via.i64;
    } else {
      return fail(f, "expected date (integer days)");
    }
    out = Date{static_cast<int32_t>(v)};
    return true;
  }
  template <size_t N>
  bool get(const msgpack::object& o, const Path& f, std::array<uint8_t, N>& out) {
    if (o.type != msgpack::type::BIN || o.via.bin.size != N)
      return fail(f, "expected " + std::to_string(N) + " bytes");
    std::memcpy(out.data(), o.via.bin.ptr, N);
    return true;
  }
  template <typename T>
  bool get(const msgpack::object& o, const Path& f, std::optional<T>& out) {
    if (o.type == msgpack::type::NIL) {
      out.reset();
      return true;
    }
    T v{};
    if (!get(o, f, v)) return false;
    out = std::move(v);
    return true;
  }
  template <typename T>
  bool get(const msgpack::object& o, const Path& f, std::vector<T>& out) {
    if (o.type != msgpack::type::ARRAY) return fail(f, "expected array");
    out.clear();
    out.reserve(o.via.array.size);
    for (uint32_t i = 0; i < o.via.array.size; ++i) {
      T v{};
      if (!get(o.via.array.ptr[i], Path(&f, i), v)) return false;
      out.push_back(std::move(v));
    }
    return true;
  }
  template <typename E>
  requires std::is_enum_v<E>
  bool get(const msgpack::object& o, const Path& f, E& out) {
    uint64_t v = 0;
    if (!get(o, f, v)) return false;
    auto e = enum_from_index<E>(v);
    if (!e) return fail(f, "unknown enumerator " + std::to_string(v));
    out = *e;
    return true;
  }
  template <typename T>
  requires std::is_class_v<T>
  bool get(const msgpack::object& o, const Path& f, T& out) {
    if (o.type != msgpack::type::ARRAY) return fail(f, "expected array");
    if (o.via.array.size != field_count<T>()) return fail(f, "wrong number of fields");
    StructWalker w{this, &o, &f, 0, true};
    T::visit(out, w);
    return w.ok;
  }

  struct StructWalker {
    Decoder* d;
    const msgpack::object* arr;
    const Path* prefix;
    uint32_t i;
    bool ok;
    template <typename T>
    void operator()(const char* name, T& value) {
      if (!ok) return;
      ok = d->get(arr->via.array.ptr[i++], Path(prefix, name), value);
    }
  };
};

inline msgpack::unpack_limit record_unpack_limit() {
  return msgpack::unpack_limit(limits::msgpack_array_items_max, limits::msgpack_map_pairs_max,
                               limits::msgpack_str_bytes_max, limits::msgpack_bin_bytes_max, 0,
                               limits::msgpack_depth_max);
}

// The order plane's data: ledger entries, snapshots and the ledger state made of them (a
// frontier item or a fork per origin, up to limits::gossip_array_items_max; ids as strings,
// hashes as 32-byte bins).
inline msgpack::unpack_limit order_unpack_limit() {
  return msgpack::unpack_limit(limits::gossip_array_items_max, 0, limits::id_bytes_max, 64, 0,
                               limits::msgpack_depth_max);
}

// Canonical encoding of one visitable struct.
template <typename T>
std::string encode_struct(const T& value) {
  StringBuffer buf;
  Packer pk(buf);
  Encoder e{pk};
  e.put(value);
  return std::move(buf.bytes);
}

// Whether the arrays and maps of `bytes` declare at most `elements_max` elements in all (a map's
// pair counts two) and nest at most `depth_max` deep, found without building the object tree.
// msgpack-c builds its object tree (24 bytes for each element declared, however few bytes declare
// it: a nil is one) before a decoder sees a field, and unpack_limit bounds each container, not
// their sum: 4 MiB of arrays of nils allocated some 200 MiB (120 MiB resident, measured). Bytes
// that do not parse pass: unpack's to say.
bool within_element_budget(std::string_view bytes, size_t elements_max, size_t depth_max);

// Strict decoding of one visitable struct: limits, no trailing bytes, and (unless `canonical` is
// false, for transport frames whose records are checked one by one) canonical form.
template <typename T>
Result<T> decode_struct(std::string_view bytes,
                        const msgpack::unpack_limit& limit = record_unpack_limit(),
                        bool canonical = true) {
  msgpack::object_handle oh;
  size_t offset = 0;
  try {
    oh = msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr, limit);
  } catch (const std::exception& ex) {
    return make_error(Errc::decode, std::string("malformed msgpack: ") + ex.what());
  }
  if (offset != bytes.size()) return make_error(Errc::decode, "trailing bytes");
  Decoder d;
  T value{};
  if (!d.get(oh.get(), "", value)) return make_error(Errc::decode, d.error_message, d.error_field);
  if (canonical && encode_struct(value) != bytes)
    return make_error(Errc::decode, "non-canonical encoding");
  return value;
}

}  // namespace umupaka::msgpack_visit

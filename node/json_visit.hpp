// JSON mapping of every struct with a static visit(self, visitor) (records.hpp, views.hpp,
// commands.hpp), on nlohmann-json. Writing: dates "YYYY-MM-DD", enums by name, absent optionals
// as null. Reading is strict: every non-optional field is required, unknown fields are rejected,
// types must match exactly, and every error names the field by its JSON path. Heavy include: use
// from the API's .cpp files only.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "ledger/date.hpp"
#include "ledger/enum_names.hpp"
#include "ledger/ids.hpp"
#include "ledger/result.hpp"

namespace umupaka::json_visit {

using nlohmann::json;

struct ObjectWriter {
  json& o;
  template <typename F>
  void operator()(const char* name, const F& value);
};

struct Writer {
  static json to(const std::string& s) { return s; }
  static json to(bool b) { return b; }
  static json to(uint32_t v) { return v; }
  static json to(uint64_t v) { return v; }
  static json to(int32_t v) { return v; }
  static json to(Date d) { return format_iso_date(d); }
  template <size_t N>
  static json to(const std::array<uint8_t, N>& a) {
    return to_hex(a);
  }
  template <typename E>
  requires std::is_enum_v<E>
  static json to(E e) { return std::string(enum_name(e)); }
  template <typename T>
  static json to(const std::optional<T>& o) {
    return o ? to(*o) : json(nullptr);
  }
  template <typename T>
  static json to(const std::vector<T>& v) {
    json a = json::array();
    for (const auto& x : v) a.push_back(to(x));
    return a;
  }
  template <typename T>
  requires std::is_class_v<T>
  static json to(const T& s) {
    json o = json::object();
    ObjectWriter f{o};
    T::visit(s, f);
    return o;
  }
};

template <typename F>
void ObjectWriter::operator()(const char* name, const F& value) {
  o[name] = Writer::to(value);
}

template <typename T>
json to_json(const T& value) {
  return Writer::to(value);
}

struct Reader;
struct ObjectReader {
  Reader& r;
  const json& j;
  const std::string& prefix;
  std::set<std::string>& known;
  bool ok = true;
  template <typename F>
  void operator()(const char* name, F& value);
};

struct Reader {
  std::string error_field;
  std::string error_message;

  bool fail(const std::string& field, std::string message) {
    if (error_message.empty()) {
      error_field = field;
      error_message = std::move(message);
    }
    return false;
  }

  bool from(const json& j, const std::string& f, std::string& out) {
    if (!j.is_string()) return fail(f, f + " must be a string");
    out = j.get<std::string>();
    return true;
  }
  bool from(const json& j, const std::string& f, bool& out) {
    if (!j.is_boolean()) return fail(f, f + " must be true or false");
    out = j.get<bool>();
    return true;
  }
  bool from(const json& j, const std::string& f, uint64_t& out) {
    if (!j.is_number_unsigned()) return fail(f, f + " must be a non-negative integer");
    out = j.get<uint64_t>();
    return true;
  }
  bool from(const json& j, const std::string& f, uint32_t& out) {
    uint64_t v = 0;
    if (!from(j, f, v)) return false;
    if (v > UINT32_MAX) return fail(f, f + " is too large");
    out = static_cast<uint32_t>(v);
    return true;
  }
  bool from(const json& j, const std::string& f, Date& out) {
    if (!j.is_string()) return fail(f, f + " must be a date \"YYYY-MM-DD\"");
    auto d = parse_iso_date(j.get_ref<const std::string&>());
    if (!d) return fail(f, f + " must be a real date \"YYYY-MM-DD\"");
    out = *d;
    return true;
  }
  template <size_t N>
  bool from(const json& j, const std::string& f, std::array<uint8_t, N>& out) {
    if (!j.is_string() || !from_hex(j.get_ref<const std::string&>(), out.data(), N))
      return fail(f, f + " must be " + std::to_string(2 * N) + " hex digits");
    return true;
  }
  template <typename E>
  requires std::is_enum_v<E>
  bool from(const json& j, const std::string& f, E& out) {
    if (!j.is_string()) return fail(f, f + " must be a string");
    auto e = enum_from_name<E>(j.get_ref<const std::string&>());
    if (!e) {
      std::string allowed;
      for (auto n : EnumNames<E>::names) allowed += (allowed.empty() ? "" : ", ") + std::string(n);
      return fail(f, f + " must be one of: " + allowed);
    }
    out = *e;
    return true;
  }
  template <typename T>
  bool from(const json& j, const std::string& f, std::optional<T>& out) {
    if (j.is_null()) {
      out.reset();
      return true;
    }
    T v{};
    if (!from(j, f, v)) return false;
    out = std::move(v);
    return true;
  }
  template <typename T>
  bool from(const json& j, const std::string& f, std::vector<T>& out) {
    if (!j.is_array()) return fail(f, f + " must be an array");
    out.clear();
    for (size_t i = 0; i < j.size(); ++i) {
      T v{};
      if (!from(j[i], f + "[" + std::to_string(i) + "]", v)) return false;
      out.push_back(std::move(v));
    }
    return true;
  }
  template <typename T>
  requires std::is_class_v<T>
  bool from(const json& j, const std::string& prefix, T& out) {
    if (!j.is_object())
      return fail(prefix, (prefix.empty() ? std::string("body") : prefix) + " must be an object");
    std::set<std::string> known;
    ObjectReader fields{*this, j, prefix, known};
    T::visit(out, fields);
    if (!fields.ok) return false;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!known.count(it.key())) {
        const std::string f = prefix.empty() ? it.key() : prefix + "." + it.key();
        return fail(f, "unknown field " + f);
      }
    }
    return true;
  }
};

template <typename F>
void ObjectReader::operator()(const char* name, F& value) {
  known.insert(name);
  if (!ok) return;
  const std::string f = prefix.empty() ? std::string(name) : prefix + "." + name;
  auto it = j.find(name);
  if (it == j.end()) {
    if constexpr (requires { value.reset(); }) {
      value.reset();
    } else {
      ok = r.fail(f, f + " is required");
    }
    return;
  }
  ok = r.from(*it, f, value);
}

// A copy of `j` without null members, as a client sends optional fields it leaves out.
inline json without_nulls(const json& j) {
  if (j.is_object()) {
    json o = json::object();
    for (auto it = j.begin(); it != j.end(); ++it)
      if (!it.value().is_null()) o[it.key()] = without_nulls(it.value());
    return o;
  }
  if (j.is_array()) {
    json a = json::array();
    for (const auto& x : j) a.push_back(without_nulls(x));
    return a;
  }
  return j;
}

// Reads `value` from JSON; Errc::invalid_field naming the field on any mismatch.
template <typename T>
Result<T> from_json(const json& j) {
  Reader r;
  T value{};
  if (!r.from(j, "", value)) return make_error(Errc::invalid_field, r.error_message, r.error_field);
  return value;
}

}  // namespace umupaka::json_visit

// An in-memory ViewStore for tests: ordered maps only, so every list comes back in key order and
// two stores that saw the same records in the same order dump to the same text.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ledger/views.hpp"

namespace umupaka::test {

// Writes any value with a static visit(self, v) (records.hpp, views.hpp) as deterministic text.
class ViewDumper {
 public:
  explicit ViewDumper(std::string& out) : out_(out) {}

  void put(const std::string& s) {
    out_ += '"';
    out_ += s;
    out_ += '"';
  }
  void put(bool b) { out_ += b ? "true" : "false"; }
  void put(uint32_t v) { out_ += std::to_string(v); }
  void put(uint64_t v) { out_ += std::to_string(v); }
  void put(Date d) { out_ += std::to_string(d.days); }
  template <typename E>
  requires std::is_enum_v<E>
  void put(E e) { out_ += enum_name(e); }
  template <typename T>
  void put(const std::optional<T>& o) {
    if (o) {
      put(*o);
    } else {
      out_ += "null";
    }
  }
  template <typename T>
  void put(const std::vector<T>& v) {
    out_ += '[';
    for (const auto& x : v) {
      put(x);
      out_ += ' ';
    }
    out_ += ']';
  }
  template <typename T>
  requires std::is_class_v<T>
  void put(const T& s) {
    out_ += '{';
    T::visit(s, *this);
    out_ += '}';
  }
  template <typename T>
  void operator()(const char* name, const T& value) {
    out_ += name;
    out_ += '=';
    put(value);
    out_ += ' ';
  }

 private:
  std::string& out_;
};

template <typename T>
std::string dump_view(const T& value) {
  std::string out;
  ViewDumper(out).put(value);
  return out;
}

class MemoryViews final : public ViewStore {
 public:
  // --- ViewReader ---
  std::optional<DocumentView> document(std::string_view country,
                                       std::string_view number) const override {
    return find(documents_, document_key(country, number));
  }
  std::optional<PermitView> permit(std::string_view permit_id) const override {
    return find(permits_, permit_id);
  }
  std::vector<std::string> permits_of(std::string_view person_key) const override {
    return list(permit_index_, person_key);
  }
  std::optional<AlertView> alert(std::string_view alert_id) const override {
    return find(alerts_, alert_id);
  }
  std::vector<std::string> alerts_of(std::string_view person_key) const override {
    return list(alert_index_, person_key);
  }
  std::vector<std::string> name_alerts_born(Date birth_date) const override {
    const auto it = name_alert_index_.find(birth_date.days);
    if (it == name_alert_index_.end()) return {};
    return {it->second.begin(), it->second.end()};
  }
  std::optional<PresenceView> presence(std::string_view person_key) const override {
    return find(presence_, person_key);
  }

  // --- ViewStore ---
  void put_document(const DocumentView& view) override {
    documents_.insert_or_assign(document_key(view.country, view.number), view);
  }
  void put_permit(const PermitView& view) override {
    permits_.insert_or_assign(view.permit.permit_id, view);
  }
  void index_permit(std::string_view person_key, std::string_view permit_id) override {
    permit_index_[std::string(person_key)].emplace(permit_id);
  }
  void put_alert(const AlertView& view) override {
    alerts_.insert_or_assign(view.alert.alert_id, view);
  }
  void index_alert(std::string_view person_key, std::string_view alert_id) override {
    alert_index_[std::string(person_key)].emplace(alert_id);
  }
  void index_name_alert(Date birth_date, std::string_view alert_id) override {
    name_alert_index_[birth_date.days].emplace(alert_id);
  }
  void put_presence(std::string_view person_key, const PresenceView& view) override {
    presence_.insert_or_assign(std::string(person_key), view);
  }
  void index_traveller_record(std::string_view person_key, const RecordRef& ref) override {
    traveller_records_[std::string(person_key)].push_back(ref);
  }

  // --- Test-only reads ---
  // The records indexed under a person key, in the order they were applied.
  std::vector<RecordRef> traveller_records(std::string_view person_key) const {
    const auto it = traveller_records_.find(person_key);
    if (it == traveller_records_.end()) return {};
    return it->second;
  }
  size_t document_count() const { return documents_.size(); }
  size_t permit_count() const { return permits_.size(); }
  size_t alert_count() const { return alerts_.size(); }
  size_t presence_count() const { return presence_.size(); }

  // Every table as text, in key order.
  std::string dump() const {
    std::string out;
    ViewDumper d(out);
    for (const auto& [k, v] : documents_) d(k.c_str(), v);
    for (const auto& [k, v] : permits_) d(k.c_str(), v);
    for (const auto& [k, v] : permit_index_) d(("permits_of " + k).c_str(), as_vector(v));
    for (const auto& [k, v] : alerts_) d(k.c_str(), v);
    for (const auto& [k, v] : alert_index_) d(("alerts_of " + k).c_str(), as_vector(v));
    for (const auto& [k, v] : name_alert_index_)
      d(("name_alerts " + std::to_string(k)).c_str(), as_vector(v));
    for (const auto& [k, v] : presence_) d(("presence " + k).c_str(), v);
    for (const auto& [k, v] : traveller_records_) d(("records " + k).c_str(), v);
    return out;
  }

 private:
  using Ids = std::set<std::string, std::less<>>;

  template <typename V>
  static std::optional<V> find(const std::map<std::string, V, std::less<>>& table,
                               std::string_view key) {
    const auto it = table.find(key);
    if (it == table.end()) return std::nullopt;
    return it->second;
  }
  static std::vector<std::string> list(const std::map<std::string, Ids, std::less<>>& index,
                                       std::string_view key) {
    const auto it = index.find(key);
    if (it == index.end()) return {};
    return as_vector(it->second);
  }
  static std::vector<std::string> as_vector(const Ids& ids) { return {ids.begin(), ids.end()}; }

  std::map<std::string, DocumentView, std::less<>> documents_;  // by document_key
  std::map<std::string, PermitView, std::less<>> permits_;      // by permit id
  std::map<std::string, Ids, std::less<>> permit_index_;        // person key -> permit ids
  std::map<std::string, AlertView, std::less<>> alerts_;        // by alert id
  std::map<std::string, Ids, std::less<>> alert_index_;         // person key -> alert ids
  std::map<int32_t, Ids> name_alert_index_;                     // birth date -> alert ids
  std::map<std::string, PresenceView, std::less<>> presence_;   // by presence key
  std::map<std::string, std::vector<RecordRef>, std::less<>> traveller_records_;
};

}  // namespace umupaka::test

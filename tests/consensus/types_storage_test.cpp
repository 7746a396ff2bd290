// The vocabulary types (visit lists, conf change encoding) and MemoryStorage's contract.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "consensus/memory_storage.hpp"
#include "consensus/types.hpp"

namespace umupaka::raft {
namespace {

// A visitor that compiles only for the field types the project's codecs accept, and counts.
template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {};
template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};

struct FieldChecker {
  std::vector<std::string> names;
  template <typename T>
  static constexpr void check_type() {
    if constexpr (IsVector<T>::value || IsOptional<T>::value) {
      check_type<typename T::value_type>();
    } else if constexpr (std::is_enum_v<T>) {
      static_assert(std::is_same_v<std::underlying_type_t<T>, uint8_t>);
    } else if constexpr (std::is_class_v<T> && !std::is_same_v<T, std::string>) {
      FieldChecker inner;
      T dummy{};
      T::visit(dummy, inner);
    } else {
      static_assert(std::is_same_v<T, std::string> || std::is_same_v<T, bool> ||
                    std::is_same_v<T, uint32_t> || std::is_same_v<T, uint64_t>);
    }
  }
  template <typename T>
  void operator()(const char* name, const T&) {
    check_type<T>();
    names.emplace_back(name);
  }
};

template <typename T>
std::vector<std::string> fields() {
  FieldChecker c;
  const T value{};
  T::visit(value, c);
  return c.names;
}

TEST(RaftTypes, VisitListsEveryFieldOnceInOrder) {
  EXPECT_EQ(fields<Entry>(), (std::vector<std::string>{"term", "index", "type", "data"}));
  EXPECT_EQ(fields<HardState>(), (std::vector<std::string>{"term", "vote", "commit"}));
  EXPECT_EQ(fields<ConfState>(), (std::vector<std::string>{"voters", "learners"}));
  EXPECT_EQ(fields<ConfChange>(), (std::vector<std::string>{"type", "node", "context"}));
  EXPECT_EQ(fields<SnapshotMeta>(), (std::vector<std::string>{"index", "term", "conf_state"}));
  EXPECT_EQ(fields<Snapshot>(), (std::vector<std::string>{"meta", "data"}));
  EXPECT_EQ(fields<ReadState>(), (std::vector<std::string>{"index", "context"}));
  EXPECT_EQ(fields<Message>(),
            (std::vector<std::string>{"type", "from", "to", "term", "log_term", "index", "entries",
                                      "commit", "reject", "reject_hint", "snapshot", "context"}));
}

TEST(RaftTypes, ConfChangeRoundTripsAndRejectsGarbage) {
  const ConfChange cc{ConfChangeType::promote_learner, "kigali-airport", std::string("\0sig", 4)};
  const std::string bytes = encode_conf_change(cc);
  const auto back = decode_conf_change(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, cc);
  EXPECT_EQ(decode_conf_change("").code(), Errc::decode);
  EXPECT_EQ(decode_conf_change(bytes.substr(0, bytes.size() - 1)).code(), Errc::decode);
  EXPECT_EQ(decode_conf_change(bytes + "x").code(), Errc::decode);
  std::string bad_version = bytes;
  bad_version[0] = 2;
  EXPECT_EQ(decode_conf_change(bad_version).code(), Errc::decode);
  std::string bad_type = bytes;
  bad_type[1] = 9;
  EXPECT_EQ(decode_conf_change(bad_type).code(), Errc::decode);
  std::string huge_len = bytes;
  huge_len[2] = '\xff';
  huge_len[5] = '\x7f';
  EXPECT_EQ(decode_conf_change(huge_len).code(), Errc::decode);
}

TEST(RaftTypes, ConfStateWellFormed) {
  EXPECT_TRUE((ConfState{{"a", "b"}, {"c"}}).well_formed());
  EXPECT_FALSE((ConfState{{"b", "a"}, {}}).well_formed());
  EXPECT_FALSE((ConfState{{"a", "a"}, {}}).well_formed());
  EXPECT_FALSE((ConfState{{"a"}, {"a"}}).well_formed());
  EXPECT_FALSE((ConfState{{""}, {}}).well_formed());
}

std::vector<Entry> ents(LogIndex from, std::vector<Term> terms) {
  std::vector<Entry> out;
  for (Term t : terms) out.push_back(Entry{t, from++, EntryType::normal, "d"});
  return out;
}

TEST(RaftMemoryStorage, AppendTruncatesConflictsAndIgnoresCompacted) {
  MemoryStorage s;
  EXPECT_EQ(s.first_index(), 1u);
  EXPECT_EQ(s.last_index(), 0u);
  s.append(ents(1, {1, 1, 2, 2}));
  EXPECT_EQ(s.last_index(), 4u);
  s.append(ents(3, {3}));  // replaces 3 and drops 4
  EXPECT_EQ(s.last_index(), 3u);
  EXPECT_EQ(*s.term(3), 3u);
  s.append(ents(4, {3, 3}));
  EXPECT_EQ(s.last_index(), 5u);
  ASSERT_TRUE(s.compact(2).ok());
  EXPECT_EQ(s.first_index(), 3u);
  EXPECT_EQ(*s.term(2), 1u);  // the dummy keeps the compacted entry's term
  EXPECT_EQ(s.term(1).code(), Errc::compacted);
  EXPECT_EQ(s.term(6).code(), Errc::unavailable);
  EXPECT_EQ(s.entries(2, 4, UINT64_MAX).code(), Errc::compacted);
  s.append(ents(1, {1, 1, 3}));   // entirely at or below the compacted prefix, then index 3 same
  EXPECT_EQ(s.last_index(), 3u);  // index 3 rewritten (same term) truncates after it
  EXPECT_EQ(s.compact(2).code(), Errc::compacted);
}

TEST(RaftMemoryStorage, EntriesAreCutBySizeButNeverEmpty) {
  MemoryStorage s;
  s.append(ents(1, {1, 1, 1, 1}));
  const uint64_t one = entry_size_bytes(Entry{1, 1, EntryType::normal, "d"});
  EXPECT_EQ(s.entries(1, 5, UINT64_MAX)->size(), 4u);
  EXPECT_EQ(s.entries(1, 5, 2 * one)->size(), 2u);
  EXPECT_EQ(s.entries(1, 5, 2 * one + 1)->size(), 2u);
  EXPECT_EQ(s.entries(1, 5, 0)->size(), 1u);
  EXPECT_EQ(s.entries(2, 2, 0)->size(), 0u);
}

TEST(RaftMemoryStorage, SnapshotsCreateApplyAndGoStale) {
  MemoryStorage s(ConfState{{"a", "b", "c"}, {}});
  s.append(ents(1, {1, 1, 2, 2, 2}));
  const ConfState cs{{"a", "b", "c"}, {"d"}};
  auto snap = s.create_snapshot(3, cs, "state@3");
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->meta.index, 3u);
  EXPECT_EQ(snap->meta.term, 2u);
  EXPECT_EQ(s.create_snapshot(2, cs, "old").code(), Errc::snapshot_out_of_date);
  EXPECT_EQ(s.initial_state()->conf_state, cs);
  MemoryStorage follower;
  ASSERT_TRUE(follower.apply_snapshot(*snap).ok());
  EXPECT_EQ(follower.first_index(), 4u);
  EXPECT_EQ(follower.last_index(), 3u);
  EXPECT_EQ(*follower.term(3), 2u);
  EXPECT_EQ(follower.apply_snapshot(*snap).code(), Errc::snapshot_out_of_date);
  follower.append(ents(4, {2, 3}));
  EXPECT_EQ(follower.last_index(), 5u);
}

}  // namespace
}  // namespace umupaka::raft

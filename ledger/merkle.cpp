#include "ledger/merkle.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <limits>
#include <string>

#include "ledger/assert.hpp"
#include "ledger/crypto.hpp"

namespace umupaka::merkle {

namespace {

// RFC 6962 domain-separation prefixes (§2.1), the only thing that keeps a leaf from passing for an
// interior node and vice versa.
constexpr uint8_t leaf_prefix = 0x00;
constexpr uint8_t node_prefix = 0x01;

// A tree of n < 2^64 leaves has levels 0..63.
constexpr uint32_t levels_max = std::numeric_limits<uint64_t>::digits;

// The k of RFC 6962 §2.1: the largest power of two strictly smaller than n. Precondition: n >= 2.
uint64_t split_point(uint64_t n) {
  UMUPAKA_ASSERT(n >= 2);
  const uint64_t k = std::bit_floor(n - 1);
  UMUPAKA_ASSERT(k < n && n <= 2 * k);
  return k;
}

Error bad_argument(std::string message, std::string field) {
  return make_error(Errc::invalid_field, std::move(message), std::move(field));
}

}  // namespace

Hash leaf_hash(const Hash& record_hash) {
  std::array<uint8_t, 1 + sizeof(Hash)> buf{};
  buf[0] = leaf_prefix;
  std::copy(record_hash.begin(), record_hash.end(), buf.begin() + 1);
  return sha256(buf.data(), buf.size());
}

Hash leaf_hash_of_data(std::string_view data) {
  std::string buf;
  buf.reserve(1 + data.size());
  buf.push_back(static_cast<char>(leaf_prefix));
  buf.append(data);
  return sha256(buf);
}

Hash node_hash(const Hash& left, const Hash& right) {
  std::array<uint8_t, 1 + 2 * sizeof(Hash)> buf{};
  buf[0] = node_prefix;
  std::copy(left.begin(), left.end(), buf.begin() + 1);
  std::copy(right.begin(), right.end(), buf.begin() + 1 + sizeof(Hash));
  return sha256(buf.data(), buf.size());
}

Hash empty_root() { return sha256(std::string_view{}); }

std::vector<Node> on_append(const SubtreeReader& tree, uint64_t size_after, const Hash& leaf) {
  UMUPAKA_ASSERT(size_after >= 1);
  std::vector<Node> nodes;
  uint32_t level = 0;
  uint64_t index = size_after - 1;
  Hash hash = leaf;
  nodes.push_back(Node{level, index, hash});
  // While this subtree is a right child, its left sibling is complete and so is their parent.
  while (index & 1) {
    hash = node_hash(tree.subtree(level, index - 1), hash);
    ++level;
    index >>= 1;
    nodes.push_back(Node{level, index, hash});
  }
  UMUPAKA_ASSERT(nodes.size() == static_cast<size_t>(std::countr_zero(size_after)) + 1);
  UMUPAKA_ASSERT(level < levels_max);
  return nodes;
}

Hash range_root(const SubtreeReader& tree, uint64_t begin, uint64_t end) {
  UMUPAKA_ASSERT(begin <= end);
  const uint64_t n = end - begin;
  if (n == 0) return empty_root();
  UMUPAKA_ASSERT(begin % std::bit_floor(n) == 0);
  // [begin, end) splits into one perfect subtree per set bit of n, largest leftmost, and its MTH
  // is their right fold: node(p0, node(p1, ... node(p_{r-1}, p_r))). Walk from the right end.
  uint64_t at = end;
  Hash hash{};
  bool first = true;
  for (uint32_t level = 0; level < levels_max; ++level) {
    const uint64_t width = uint64_t{1} << level;
    if ((n & width) == 0) continue;
    at -= width;
    UMUPAKA_ASSERT(at % width == 0);
    const Hash piece = tree.subtree(level, at >> level);
    hash = first ? piece : node_hash(piece, hash);
    first = false;
  }
  UMUPAKA_ASSERT(at == begin);
  return hash;
}

Hash root(const SubtreeReader& tree, uint64_t size) { return range_root(tree, 0, size); }

Result<std::vector<Hash>> inclusion_proof(const SubtreeReader& tree, uint64_t m, uint64_t n) {
  if (m >= n) return bad_argument("leaf index must be below the tree size", "index");
  // Descend from the root [0, n) to leaf m, collecting the sibling at each step (root side first).
  std::vector<Hash> path;
  uint64_t begin = 0;
  uint64_t end = n;
  while (end - begin > 1) {
    const uint64_t k = split_point(end - begin);
    if (m < begin + k) {
      path.push_back(range_root(tree, begin + k, end));
      end = begin + k;
    } else {
      path.push_back(range_root(tree, begin, begin + k));
      begin += k;
    }
  }
  UMUPAKA_ASSERT(begin == m && end == m + 1);
  UMUPAKA_ASSERT(path.size() < levels_max);
  std::reverse(path.begin(), path.end());  // PATH lists the leaf's own sibling first
  return path;
}

Result<std::vector<Hash>> consistency_proof(const SubtreeReader& tree, uint64_t m, uint64_t n) {
  if (m == 0) return bad_argument("first tree size must be positive", "size1");
  if (m > n) return bad_argument("first tree size must not exceed the second", "size1");
  // SUBPROOF(m, D[begin:end], complete), iteratively: descend until the old tree's last subtree
  // [begin, m) is a whole node, collecting siblings (root side first).
  std::vector<Hash> siblings;
  uint64_t begin = 0;
  uint64_t end = n;
  bool complete = true;  // the b of SUBPROOF: still on the path of the old root itself
  while (m != end) {
    UMUPAKA_ASSERT(begin < m && m < end);
    const uint64_t k = split_point(end - begin);
    if (m <= begin + k) {
      siblings.push_back(range_root(tree, begin + k, end));
      end = begin + k;
    } else {
      siblings.push_back(range_root(tree, begin, begin + k));
      begin += k;
      complete = false;
    }
  }
  std::vector<Hash> proof;
  proof.reserve(siblings.size() + 1);
  if (!complete) proof.push_back(range_root(tree, begin, end));
  proof.insert(proof.end(), siblings.rbegin(), siblings.rend());
  UMUPAKA_ASSERT(proof.size() <= levels_max + 1);
  return proof;
}

bool verify_inclusion(const Hash& leaf, uint64_t index, uint64_t size,
                      const std::vector<Hash>& proof, const Hash& root) {
  // RFC 9162 §2.1.3.2, step by step.
  if (index >= size) return false;  // 1
  uint64_t fn = index;              // 2
  uint64_t sn = size - 1;
  Hash r = leaf;  // 3
  for (const Hash& p : proof) {
    if (sn == 0) return false;  // 4a
    if ((fn & 1) || fn == sn) {
      r = node_hash(p, r);  // 4b.i
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;  // 4b.ii
        sn >>= 1;
      }
    } else {
      r = node_hash(r, p);  // 4b otherwise
    }
    fn >>= 1;  // 4c
    sn >>= 1;
  }
  return sn == 0 && r == root;  // 5
}

bool verify_consistency(uint64_t size1, uint64_t size2, const Hash& root1, const Hash& root2,
                        const std::vector<Hash>& proof) {
  if (size1 == 0 || size1 > size2) return false;
  if (size1 == size2) return proof.empty() && root1 == root2;
  // RFC 9162 §2.1.4.2, step by step, for 0 < size1 < size2.
  if (proof.empty()) return false;  // 1
  // 2: if size1 is a power of two, root1 is conceptually prepended to the proof.
  size_t next = 0;
  Hash fr = root1;
  if (!std::has_single_bit(size1)) fr = proof[next++];
  Hash sr = fr;             // 5
  uint64_t fn = size1 - 1;  // 3
  uint64_t sn = size2 - 1;
  while (fn & 1) {  // 4
    fn >>= 1;
    sn >>= 1;
  }
  for (; next < proof.size(); ++next) {  // 6
    const Hash& c = proof[next];
    if (sn == 0) return false;  // 6a
    if ((fn & 1) || fn == sn) {
      fr = node_hash(c, fr);  // 6b.i
      sr = node_hash(c, sr);  // 6b.ii
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;  // 6b.iii
        sn >>= 1;
      }
    } else {
      sr = node_hash(sr, c);  // 6b otherwise
    }
    fn >>= 1;  // 6c
    sn >>= 1;
  }
  return fr == root1 && sr == root2 && sn == 0;  // 7
}

void MemoryTree::append(const Hash& leaf) {
  UMUPAKA_ASSERT(size_ < std::numeric_limits<uint64_t>::max());
  const std::vector<Node> nodes = on_append(*this, size_ + 1, leaf);
  for (const Node& node : nodes) {
    UMUPAKA_ASSERT(node.level <= levels_.size());
    if (node.level == levels_.size()) levels_.emplace_back();
    std::vector<Hash>& level = levels_[node.level];
    UMUPAKA_ASSERT(node.index == level.size());  // write-once, in order
    level.push_back(node.hash);
  }
  ++size_;
  UMUPAKA_ASSERT(levels_[0].size() == size_);
}

Hash MemoryTree::subtree(uint32_t level, uint64_t index) const {
  UMUPAKA_ASSERT_MSG(level < levels_.size() && index < levels_[level].size(),
                     "subtree not complete");
  return levels_[level][index];
}

void CompactRange::append(const Hash& leaf) {
  UMUPAKA_ASSERT(size_ < std::numeric_limits<uint64_t>::max());
  // Each trailing 1 bit of the old size is a perfect subtree of the new one's size that the new
  // leaf now completes into one twice as big.
  Hash hash = leaf;
  for (uint64_t s = size_; s & 1; s >>= 1) {
    hash = node_hash(peaks_.back(), hash);
    peaks_.pop_back();
  }
  peaks_.push_back(hash);
  ++size_;
  UMUPAKA_ASSERT(peaks_.size() == static_cast<size_t>(std::popcount(size_)));
}

Hash CompactRange::root() const {
  if (peaks_.empty()) return empty_root();
  // MTH(D[0:n]) = node(MTH(D[0:k]), MTH(D[k:n])), k the largest peak: folded from the right.
  Hash hash = peaks_.back();
  for (size_t i = peaks_.size() - 1; i-- > 0;) hash = node_hash(peaks_[i], hash);
  return hash;
}

}  // namespace umupaka::merkle

// The ledger's Merkle tree (merkle.hpp) against RFC 6962 / RFC 9162.
//
// A reference implementation transcribed literally from RFC 6962 §2.1 (MTH, PATH, PROOF as
// recursive definitions over the list of leaf inputs, hashing with SHA-256 directly rather than
// through merkle.hpp) is compared with the module's O(log n) versions for every tree size 1..130
// and every m, and for random sizes up to 5,000. Every proof must verify with the RFC 9162
// verifiers, and every single altered element, index, size, leaf or root must fail, with the one
// exception RFC 6962 itself has: a claimed size whose audit path has the same shape (see
// verify_inclusion's contract). Known answers: the empty root and certificate-transparency's
// 8-leaf test tree (roots for sizes 1..8 and its published inclusion and consistency proofs),
// each checked against the reference as well.
//
// Seeds: the randomized test starts from kDefaultSeed, or from UMUPAKA_TEST_SEED when set, and
// prints its seed. Re-run with UMUPAKA_TEST_SEED=<seed> to reproduce.
#include "ledger/merkle.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ledger/assert.hpp"
#include "ledger/crypto.hpp"

namespace umupaka::merkle {
namespace {

constexpr uint32_t kDefaultSeed = 20260311;

uint32_t test_seed() {
  if (const char* s = std::getenv("UMUPAKA_TEST_SEED"); s != nullptr && *s != '\0')
    return static_cast<uint32_t>(std::strtoul(s, nullptr, 10));
  return kDefaultSeed;
}

Hash hash_of_hex(std::string_view hex) {
  Hash out{};
  UMUPAKA_ASSERT(from_hex(hex, out.data(), out.size()));
  return out;
}

std::string bytes_of(const Hash& h) { return std::string(h.begin(), h.end()); }

std::vector<std::string> hexes(const std::vector<Hash>& hashes) {
  std::vector<std::string> out;
  for (const Hash& h : hashes) out.push_back(to_hex(h));
  return out;
}

// --- The reference: RFC 6962 §2.1, literally -------------------------------------------------

// One element of PATH or PROOF, and which side of the running hash it goes on.
struct Step {
  Hash hash;
  bool left;  // the element is the left child (MTH(D[0:k])), the running hash the right
};

std::vector<Hash> hashes_of(const std::vector<Step>& steps) {
  std::vector<Hash> out;
  for (const Step& s : steps) out.push_back(s.hash);
  return out;
}

// The shape of a proof: the sides of its elements, which is all a verifier learns from (m, n).
std::string shape_of(const std::vector<Step>& steps) {
  std::string out;
  for (const Step& s : steps) out.push_back(s.left ? 'L' : 'R');
  return out;
}

// MTH, PATH and PROOF over D = the list of leaf inputs, with D[b:e] as (b, e). MTH is memoized,
// which changes nothing but the speed.
class Reference {
 public:
  explicit Reference(std::vector<std::string> inputs) : inputs_(std::move(inputs)) {}

  // "k be the largest power of two smaller than n", found by counting.
  static uint64_t k_of(uint64_t n) {
    uint64_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  }

  Hash mth(uint64_t b, uint64_t e) const {
    UMUPAKA_ASSERT(b <= e && e <= inputs_.size());
    const uint64_t n = e - b;
    if (n == 0) return sha256(std::string_view{});
    if (n == 1) return sha256(std::string(1, '\x00') + inputs_[b]);
    if (auto it = memo_.find({b, e}); it != memo_.end()) return it->second;
    const uint64_t k = k_of(n);
    const Hash h = sha256("\x01" + bytes_of(mth(b, b + k)) + bytes_of(mth(b + k, e)));
    memo_.emplace(std::make_pair(b, e), h);
    return h;
  }

  // PATH(m, D[b:e]), m relative to b.
  std::vector<Step> path(uint64_t m, uint64_t b, uint64_t e) const {
    const uint64_t n = e - b;
    UMUPAKA_ASSERT(m < n);
    if (n == 1) return {};
    const uint64_t k = k_of(n);
    std::vector<Step> out;
    if (m < k) {
      out = path(m, b, b + k);
      out.push_back({mth(b + k, e), false});
    } else {
      out = path(m - k, b + k, e);
      out.push_back({mth(b, b + k), true});
    }
    return out;
  }

  // PROOF(m, D[n]) = SUBPROOF(m, D[n], true). Sides are those the RFC 9162 verifier uses; the
  // first element of a non-complete subproof seeds both hashes and is marked 'R'.
  std::vector<Step> proof(uint64_t m, uint64_t n) const { return subproof(m, 0, n, true); }

  std::vector<Step> subproof(uint64_t m, uint64_t b, uint64_t e, bool complete) const {
    const uint64_t n = e - b;
    if (m == n) {
      if (complete) return {};
      return {{mth(b, e), false}};
    }
    UMUPAKA_ASSERT(m < n);
    const uint64_t k = k_of(n);
    std::vector<Step> out;
    if (m <= k) {
      out = subproof(m, b, b + k, complete);
      out.push_back({mth(b + k, e), false});
    } else {
      out = subproof(m - k, b + k, e, false);
      out.push_back({mth(b, b + k), true});
    }
    return out;
  }

  const std::string& input(uint64_t i) const { return inputs_[i]; }

 private:
  std::vector<std::string> inputs_;
  mutable std::map<std::pair<uint64_t, uint64_t>, Hash> memo_;
};

// A ledger of `n` leaves as production has it: record hashes, appended as leaf_hash(record), with
// the reference over the same record hashes and the reference's root for every size.
struct Ledger {
  Reference reference;
  MemoryTree tree;
  std::vector<Hash> roots;  // roots[s]: reference MTH(D[0:s]), s = 0..n

  Hash record(uint64_t i) const {
    Hash h{};
    std::copy(reference.input(i).begin(), reference.input(i).end(), h.begin());
    return h;
  }
};

Ledger make_ledger(uint64_t n) {
  std::vector<std::string> records;
  MemoryTree tree;
  for (uint64_t i = 0; i < n; ++i) {
    const Hash record = sha256("record " + std::to_string(i));
    records.push_back(bytes_of(record));
    tree.append(leaf_hash(record));
  }
  Ledger ledger{Reference(std::move(records)), std::move(tree), {}};
  for (uint64_t s = 0; s <= n; ++s) ledger.roots.push_back(ledger.reference.mth(0, s));
  return ledger;
}

// Counts the reads made through it.
class CountingReader : public SubtreeReader {
 public:
  explicit CountingReader(const SubtreeReader& inner) : inner_(inner) {}
  Hash subtree(uint32_t level, uint64_t index) const override {
    ++reads;
    return inner_.subtree(level, index);
  }
  mutable uint64_t reads = 0;

 private:
  const SubtreeReader& inner_;
};

Hash flip(Hash h, uint64_t byte) {
  h[byte % h.size()] ^= 0x01;
  return h;
}

// Wrong values to try for an index or size near `x` in a tree of at most `bound`: all of
// [lo, bound] when `all`, else neighbours, powers of two around, and the ends.
std::vector<uint64_t> others(uint64_t x, uint64_t lo, uint64_t bound, bool all) {
  std::vector<uint64_t> out;
  if (all) {
    for (uint64_t v = lo; v <= bound; ++v) out.push_back(v);
  } else {
    for (uint64_t v : {lo, x - 1, x + 1, x ^ 1, x * 2, x / 2, std::bit_floor(x), std::bit_ceil(x),
                       std::bit_floor(x) - 1, std::bit_ceil(x) + 1, bound}) {
      if (v >= lo && v <= bound) out.push_back(v);
    }
  }
  std::erase(out, x);
  return out;
}

// --- Checks shared by the exhaustive and random tests ------------------------------------------

// The inclusion proof of leaf m in the tree of size n: it equals PATH(m, D[n]), it verifies, and
// every single alteration fails, except a claimed size whose path has the same shape.
void check_inclusion(const Ledger& l, uint64_t m, uint64_t n, bool exhaustive) {
  SCOPED_TRACE("inclusion m=" + std::to_string(m) + " n=" + std::to_string(n));
  const uint64_t held = l.tree.size();
  const Hash leaf = l.tree.subtree(0, m);
  const Hash& root_n = l.roots[n];
  const Result<std::vector<Hash>> proof = inclusion_proof(l.tree, m, n);
  ASSERT_TRUE(proof.ok());
  const std::vector<Step> path = l.reference.path(m, 0, n);
  ASSERT_EQ(hexes(*proof), hexes(hashes_of(path)));
  ASSERT_TRUE(verify_inclusion(leaf, m, n, *proof, root_n));

  for (size_t i = 0; i < proof->size(); ++i) {
    std::vector<Hash> bad = *proof;
    bad[i] = flip(bad[i], i * 7 + m);
    EXPECT_FALSE(verify_inclusion(leaf, m, n, bad, root_n)) << "element " << i;
  }
  if (!proof->empty()) {
    const std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
    EXPECT_FALSE(verify_inclusion(leaf, m, n, shorter, root_n));
  }
  std::vector<Hash> longer = *proof;
  longer.push_back(leaf);
  EXPECT_FALSE(verify_inclusion(leaf, m, n, longer, root_n));
  // ... even against the root the longer path leads to (RFC 9162 step 4a).
  EXPECT_FALSE(verify_inclusion(leaf, m, n, longer, node_hash(leaf, root_n)));
  EXPECT_FALSE(verify_inclusion(flip(leaf, m), m, n, *proof, root_n));
  EXPECT_FALSE(verify_inclusion(l.record(m), m, n, *proof, root_n));  // record hash, not leaf
  EXPECT_FALSE(verify_inclusion(leaf, m, n, *proof, flip(root_n, n)));

  for (uint64_t index : others(m, 0, n + 1, exhaustive)) {
    EXPECT_FALSE(verify_inclusion(leaf, index, n, *proof, root_n)) << "index " << index;
  }
  EXPECT_FALSE(verify_inclusion(leaf, m, 0, *proof, root_n));
  for (uint64_t size : others(n, 1, exhaustive ? std::min(held, 2 * n + 1) : held, exhaustive)) {
    // Against that size's real root (a real tree head): always refused.
    EXPECT_FALSE(verify_inclusion(leaf, m, size, *proof, l.roots[size])) << "size " << size;
    // Against this size's root: refused exactly when the path's shape differs (RFC 6962 proofs
    // authenticate only the shape, not the size: see verify_inclusion).
    const bool same_shape = m < size && shape_of(l.reference.path(m, 0, size)) == shape_of(path);
    EXPECT_EQ(verify_inclusion(leaf, m, size, *proof, root_n), same_shape) << "size " << size;
  }
}

// The consistency proof between sizes m and n: it equals PROOF(m, D[n]), it verifies, and every
// single alteration fails, except a claimed second size whose proof has the same shape.
void check_consistency(const Ledger& l, uint64_t m, uint64_t n, bool exhaustive) {
  SCOPED_TRACE("consistency m=" + std::to_string(m) + " n=" + std::to_string(n));
  const uint64_t held = l.tree.size();
  const Hash& root_m = l.roots[m];
  const Hash& root_n = l.roots[n];
  const Result<std::vector<Hash>> proof = consistency_proof(l.tree, m, n);
  ASSERT_TRUE(proof.ok());
  const std::vector<Step> reference = l.reference.proof(m, n);
  ASSERT_EQ(hexes(*proof), hexes(hashes_of(reference)));
  ASSERT_TRUE(verify_consistency(m, n, root_m, root_n, *proof));

  for (size_t i = 0; i < proof->size(); ++i) {
    std::vector<Hash> bad = *proof;
    bad[i] = flip(bad[i], i * 5 + n);
    EXPECT_FALSE(verify_consistency(m, n, root_m, root_n, bad)) << "element " << i;
  }
  if (!proof->empty()) {
    const std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
    EXPECT_FALSE(verify_consistency(m, n, root_m, root_n, shorter));
    const std::vector<Hash> rest(proof->begin() + 1, proof->end());
    EXPECT_FALSE(verify_consistency(m, n, root_m, root_n, rest));
  }
  std::vector<Hash> longer = *proof;
  longer.push_back(root_m);
  EXPECT_FALSE(verify_consistency(m, n, root_m, root_n, longer));
  // ... even against the roots the longer proof leads to (RFC 9162 step 6a).
  EXPECT_FALSE(
      verify_consistency(m, n, node_hash(root_m, root_m), node_hash(root_m, root_n), longer));
  EXPECT_FALSE(verify_consistency(m, n, flip(root_m, m), root_n, *proof));
  EXPECT_FALSE(verify_consistency(m, n, root_m, flip(root_n, n), *proof));
  if (m != n) {
    EXPECT_FALSE(verify_consistency(m, n, root_n, root_m, *proof));
    EXPECT_FALSE(verify_consistency(n, m, root_n, root_m, *proof));
  }
  EXPECT_FALSE(verify_consistency(0, n, root_m, root_n, *proof));

  for (uint64_t size1 : others(m, 1, n, exhaustive)) {
    EXPECT_FALSE(verify_consistency(size1, n, root_m, root_n, *proof)) << "size1 " << size1;
    EXPECT_FALSE(verify_consistency(size1, n, l.roots[size1], root_n, *proof)) << "size1 " << size1;
  }
  for (uint64_t size2 : others(n, m, exhaustive ? std::min(held, 2 * n + 1) : held, exhaustive)) {
    EXPECT_FALSE(verify_consistency(m, size2, root_m, l.roots[size2], *proof)) << "size2 " << size2;
    const bool same_shape = shape_of(l.reference.proof(m, size2)) == shape_of(reference);
    EXPECT_EQ(verify_consistency(m, size2, root_m, root_n, *proof), same_shape && m != size2)
        << "size2 " << size2;
  }
}

// --- Known answers ----------------------------------------------------------------------------

// certificate-transparency's merkle_tree_test.cc test tree: eight leaves of raw data.
const std::vector<std::string> kCtLeaves = {
    std::string(),
    std::string("\x00", 1),
    "\x10",
    "\x20\x21",
    "\x30\x31",
    "\x40\x41\x42\x43",
    "\x50\x51\x52\x53\x54\x55\x56\x57",
    "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
};

// MTH(D[s]) for s = 0..8.
const char* const kCtRoots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct ProofVector {
  uint64_t m;  // leaf index (0-based) or first size
  uint64_t n;
  std::vector<std::string> proof;
};

const std::vector<ProofVector> kCtInclusion = {
    {0, 1, {}},
    {0,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

const std::vector<ProofVector> kCtConsistency = {
    {1, 1, {}},
    {1,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

MemoryTree ct_tree() {
  MemoryTree tree;
  for (const std::string& data : kCtLeaves) tree.append(leaf_hash_of_data(data));
  return tree;
}

TEST(MerkleKnownAnswer, EmptyRootIsSha256OfNothing) {
  EXPECT_EQ(to_hex(empty_root()), kCtRoots[0]);
  EXPECT_EQ(to_hex(empty_root()), to_hex(sha256(std::string_view{})));
  const MemoryTree tree;
  EXPECT_EQ(root(tree, 0), empty_root());
  const MemoryTree ct = ct_tree();
  EXPECT_EQ(range_root(ct, 3, 3), empty_root());
}

TEST(MerkleKnownAnswer, LeafAndNodeHashesArePrefixedSha256) {
  EXPECT_EQ(to_hex(leaf_hash_of_data("")), kCtRoots[1]);  // SHA-256(0x00)
  EXPECT_EQ(to_hex(leaf_hash_of_data(std::string("\x00", 1))),
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7");
  const Hash record = sha256("a record");
  EXPECT_EQ(leaf_hash(record), sha256(std::string(1, '\x00') + bytes_of(record)));
  EXPECT_EQ(leaf_hash(record), leaf_hash_of_data(bytes_of(record)));
  const Hash a = leaf_hash_of_data("a");
  const Hash b = leaf_hash_of_data("b");
  EXPECT_EQ(node_hash(a, b), sha256("\x01" + bytes_of(a) + bytes_of(b)));
  EXPECT_NE(node_hash(a, b), node_hash(b, a));
  // Domain separation: a leaf whose data is left || right is not the node over them.
  EXPECT_NE(node_hash(a, b), leaf_hash_of_data(bytes_of(a) + bytes_of(b)));
}

TEST(MerkleKnownAnswer, CertificateTransparencyRootsForSizes1To8) {
  const Reference reference(kCtLeaves);
  const MemoryTree tree = ct_tree();
  ASSERT_EQ(tree.size(), 8u);
  for (uint64_t s = 0; s <= 8; ++s) {
    SCOPED_TRACE("size " + std::to_string(s));
    EXPECT_EQ(to_hex(reference.mth(0, s)), kCtRoots[s]);  // the reference agrees with CT
    EXPECT_EQ(to_hex(root(tree, s)), kCtRoots[s]);
  }
  EXPECT_EQ(to_hex(tree.subtree(3, 0)), kCtRoots[8]);
}

TEST(MerkleKnownAnswer, CertificateTransparencyInclusionProofs) {
  const Reference reference(kCtLeaves);
  const MemoryTree tree = ct_tree();
  for (const ProofVector& v : kCtInclusion) {
    SCOPED_TRACE("leaf " + std::to_string(v.m) + " of " + std::to_string(v.n));
    EXPECT_EQ(hexes(hashes_of(reference.path(v.m, 0, v.n))), v.proof);
    const Result<std::vector<Hash>> proof = inclusion_proof(tree, v.m, v.n);
    ASSERT_TRUE(proof.ok());
    EXPECT_EQ(hexes(*proof), v.proof);
    std::vector<Hash> published;
    for (const std::string& h : v.proof) published.push_back(hash_of_hex(h));
    EXPECT_TRUE(verify_inclusion(leaf_hash_of_data(kCtLeaves[v.m]), v.m, v.n, published,
                                 hash_of_hex(kCtRoots[v.n])));
  }
}

TEST(MerkleKnownAnswer, CertificateTransparencyConsistencyProofs) {
  const Reference reference(kCtLeaves);
  const MemoryTree tree = ct_tree();
  for (const ProofVector& v : kCtConsistency) {
    SCOPED_TRACE("sizes " + std::to_string(v.m) + " -> " + std::to_string(v.n));
    EXPECT_EQ(hexes(hashes_of(reference.proof(v.m, v.n))), v.proof);
    const Result<std::vector<Hash>> proof = consistency_proof(tree, v.m, v.n);
    ASSERT_TRUE(proof.ok());
    EXPECT_EQ(hexes(*proof), v.proof);
    std::vector<Hash> published;
    for (const std::string& h : v.proof) published.push_back(hash_of_hex(h));
    EXPECT_TRUE(verify_consistency(v.m, v.n, hash_of_hex(kCtRoots[v.m]), hash_of_hex(kCtRoots[v.n]),
                                   published));
  }
}

// RFC 6962 proofs do not authenticate the tree size, only the shape of the path; the signed tree
// head binds size and root. Recorded here so nobody relies on the verifier for it.
TEST(MerkleKnownAnswer, AProofDoesNotAuthenticateTheSizeOnlyTheTreeHeadDoes) {
  const MemoryTree tree = ct_tree();
  const Hash root8 = hash_of_hex(kCtRoots[8]);
  const std::vector<Hash> inclusion = *inclusion_proof(tree, 5, 8);
  EXPECT_TRUE(verify_inclusion(leaf_hash_of_data(kCtLeaves[5]), 5, 7, inclusion, root8));
  EXPECT_FALSE(
      verify_inclusion(leaf_hash_of_data(kCtLeaves[5]), 5, 7, inclusion, hash_of_hex(kCtRoots[7])));
  const std::vector<Hash> consistency = *consistency_proof(tree, 6, 8);
  const Hash root6 = hash_of_hex(kCtRoots[6]);
  EXPECT_TRUE(verify_consistency(6, 7, root6, root8, consistency));
  EXPECT_FALSE(verify_consistency(6, 7, root6, hash_of_hex(kCtRoots[7]), consistency));
}

// --- Appending and roots ----------------------------------------------------------------------

TEST(MerkleAppend, ReturnsExactlyTheSubtreesTheNewLeafCompletes) {
  const Ledger l = make_ledger(130);
  MemoryTree tree;
  for (uint64_t i = 0; i < 130; ++i) {
    SCOPED_TRACE("leaf " + std::to_string(i));
    const Hash leaf = l.tree.subtree(0, i);
    const std::vector<Node> nodes = on_append(tree, i + 1, leaf);
    ASSERT_EQ(nodes.size(), static_cast<size_t>(std::countr_zero(i + 1)) + 1);
    for (size_t j = 0; j < nodes.size(); ++j) {
      const uint32_t level = static_cast<uint32_t>(j);
      EXPECT_EQ(nodes[j].level, level);
      EXPECT_EQ(nodes[j].index, i >> level);
      const uint64_t begin = nodes[j].index << level;
      EXPECT_EQ(begin + (uint64_t{1} << level), i + 1);  // completed by this leaf
      EXPECT_EQ(nodes[j].hash, l.reference.mth(begin, i + 1));
    }
    tree.append(leaf);
    EXPECT_EQ(tree.size(), i + 1);
    EXPECT_EQ(root(tree, i + 1), l.roots[i + 1]);
  }
  // Every perfect subtree held is the reference's, and none changed as the tree grew.
  for (uint32_t level = 0; (uint64_t{1} << level) <= 130; ++level) {
    for (uint64_t j = 0; (j + 1) << level <= 130; ++j) {
      EXPECT_EQ(tree.subtree(level, j), l.reference.mth(j << level, (j + 1) << level))
          << level << "," << j;
    }
  }
}

// The audit's one-pass root: after every append, the reference MTH of the leaves so far, with
// one kept hash per set bit of the size.
TEST(MerkleCompactRange, TheRootAfterEveryAppendIsTheReferenceMth) {
  const Ledger l = make_ledger(300);
  CompactRange range;
  EXPECT_EQ(range.root(), l.roots[0]);
  for (uint64_t i = 0; i < 300; ++i) {
    range.append(leaf_hash(l.record(i)));
    ASSERT_EQ(range.size(), i + 1);
    ASSERT_EQ(range.root(), l.roots[i + 1]) << "size " << i + 1;
  }
}

TEST(MerkleRangeRoot, EveryNodeRangeMatchesTheReferenceWithFewReads) {
  const Ledger l = make_ledger(130);
  for (uint64_t begin = 0; begin <= 130; ++begin) {
    for (uint64_t end = begin; end <= 130; ++end) {
      const uint64_t n = end - begin;
      if (n > 0 && begin % std::bit_floor(n) != 0) continue;  // not a node of any tree
      CountingReader reader(l.tree);
      EXPECT_EQ(range_root(reader, begin, end), l.reference.mth(begin, end))
          << begin << ".." << end;
      EXPECT_EQ(reader.reads, static_cast<uint64_t>(std::popcount(n)));
    }
  }
}

TEST(MerkleRangeRootDeathTest, RefusesARangeThatIsNotANode) {
  const Ledger l = make_ledger(8);
  EXPECT_DEATH((void)range_root(l.tree, 1, 3), "assertion failed");
  EXPECT_DEATH((void)range_root(l.tree, 5, 4), "assertion failed");
  EXPECT_DEATH((void)l.tree.subtree(1, 4), "subtree not complete");
}

// --- Proofs -----------------------------------------------------------------------------------

TEST(MerkleProofs, RefuseBadArguments) {
  const Ledger l = make_ledger(8);
  for (auto [m, n] : std::vector<std::pair<uint64_t, uint64_t>>{{0, 0}, {8, 8}, {9, 8}, {5, 3}}) {
    const Result<std::vector<Hash>> proof = inclusion_proof(l.tree, m, n);
    ASSERT_FALSE(proof.ok()) << m << " " << n;
    EXPECT_EQ(proof.error().code, Errc::invalid_field);
  }
  for (auto [m, n] : std::vector<std::pair<uint64_t, uint64_t>>{{0, 0}, {0, 8}, {9, 8}, {5, 3}}) {
    const Result<std::vector<Hash>> proof = consistency_proof(l.tree, m, n);
    ASSERT_FALSE(proof.ok()) << m << " " << n;
    EXPECT_EQ(proof.error().code, Errc::invalid_field);
  }
  // The verifiers refuse the same arguments, and an empty tree proves nothing.
  EXPECT_FALSE(verify_inclusion(l.tree.subtree(0, 0), 0, 0, {}, empty_root()));
  EXPECT_FALSE(verify_consistency(0, 0, empty_root(), empty_root(), {}));
  EXPECT_FALSE(verify_consistency(0, 8, empty_root(), l.roots[8], {}));
  EXPECT_FALSE(verify_consistency(8, 5, l.roots[8], l.roots[5], {}));
  // Equal sizes: an empty proof and equal roots, nothing else.
  EXPECT_TRUE(verify_consistency(8, 8, l.roots[8], l.roots[8], {}));
  EXPECT_FALSE(verify_consistency(8, 8, l.roots[8], l.roots[8], {l.roots[8]}));
  EXPECT_FALSE(verify_consistency(8, 8, l.roots[7], l.roots[8], {}));
}

TEST(MerkleProofs, EverySizeTo130AndEveryMMatchTheReferenceAndVerify) {
  const uint64_t held = 130;
  const Ledger l = make_ledger(held);
  for (uint64_t n = 1; n <= held; ++n) {
    const bool exhaustive = n <= 40;
    EXPECT_EQ(root(l.tree, n), l.roots[n]) << n;
    for (uint64_t m = 0; m < n; ++m) {
      check_inclusion(l, m, n, exhaustive);
      check_consistency(l, m + 1, n, exhaustive);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(MerkleProofs, ReadsAreLogarithmic) {
  const Ledger l = make_ledger(1100);
  for (uint64_t n :
       {1ull, 2ull, 3ull, 7ull, 8ull, 9ull, 511ull, 512ull, 513ull, 1023ull, 1100ull}) {
    const uint64_t bound = 2 * static_cast<uint64_t>(std::bit_width(n));
    for (uint64_t m = 0; m < n; m += 1 + n / 37) {
      CountingReader a(l.tree);
      ASSERT_TRUE(inclusion_proof(a, m, n).ok());
      EXPECT_LE(a.reads, bound) << m << " of " << n;
      CountingReader c(l.tree);
      ASSERT_TRUE(consistency_proof(c, m + 1, n).ok());
      EXPECT_LE(c.reads, bound) << m + 1 << " to " << n;
    }
  }
}

TEST(MerkleProofs, RandomSizesTo5000MatchTheReferenceAndVerify) {
  const uint32_t seed = test_seed();
  std::printf("MerkleProofs.RandomSizesTo5000: seed=%u (set UMUPAKA_TEST_SEED to change)\n", seed);
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const uint64_t held = 5000;
  const Ledger l = make_ledger(held);
  std::vector<uint64_t> sizes = {4095, 4096, 4097, held};
  for (int i = 0; i < 12; ++i)
    sizes.push_back(std::uniform_int_distribution<uint64_t>(131, held)(rng));
  for (uint64_t n : sizes) {
    EXPECT_EQ(root(l.tree, n), l.roots[n]) << n;
    std::vector<uint64_t> ms = {0, 1, n / 2, n - 1, std::bit_floor(n - 1)};
    for (int i = 0; i < 24; ++i)
      ms.push_back(std::uniform_int_distribution<uint64_t>(0, n - 1)(rng));
    for (uint64_t m : ms) {
      check_inclusion(l, m, n, false);
      check_consistency(l, m + 1, n, false);
      if (HasFatalFailure()) return;
    }
  }
}

}  // namespace
}  // namespace umupaka::merkle

// The ledger's Merkle tree, hashed exactly as RFC 6962 §2.1 / RFC 9162 §2.1 do, so that roots and
// proofs are checkable by any independent implementation of those RFCs.
//
//   leaf hash  = SHA-256(0x00 || d)               d: the 32-byte record hash
//   node hash  = SHA-256(0x01 || left || right)
//   MTH({})    = SHA-256()
//   MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n]))   n > 1, k the largest power of two < n
//
// Storage model: for the leaves appended so far, the node keeps every *perfect aligned subtree*:
// (level 0, index i) is leaf i's hash; (level L, index j) is MTH of leaves [j·2^L, (j+1)·2^L).
// Each is written once, when its last leaf arrives (on_append), and never changes. Production keeps
// them in LMDB; tests and the simulator use MemoryTree. Everything here is pure: the functions read
// through a SubtreeReader and return values; none writes.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "ledger/ids.hpp"
#include "ledger/result.hpp"

namespace umupaka::merkle {

// RFC 6962 leaf hash of a record hash: SHA-256(0x00 || record_hash).
Hash leaf_hash(const Hash& record_hash);
// RFC 6962 leaf hash of arbitrary leaf data: SHA-256(0x00 || data). The ledger's leaves are always
// record hashes (leaf_hash above); this form exists for the published test vectors, whose leaves
// are raw bytes of various lengths.
Hash leaf_hash_of_data(std::string_view data);
// RFC 6962 interior node hash: SHA-256(0x01 || left || right).
Hash node_hash(const Hash& left, const Hash& right);
// MTH of the empty list: SHA-256 of nothing (e3b0c442…b855), not 32 zero bytes.
Hash empty_root();

// Read access to the stored perfect subtrees. Implementations are the LMDB table and MemoryTree.
class SubtreeReader {
 public:
  virtual ~SubtreeReader() = default;
  // Hash of the perfect subtree at (level, index), i.e. MTH of leaves [index·2^level,
  // (index+1)·2^level). Precondition: it is complete (all its leaves have been appended); asking
  // for an incomplete one is a programmer error, and implementations assert.
  virtual Hash subtree(uint32_t level, uint64_t index) const = 0;
};

// One stored perfect subtree.
struct Node {
  uint32_t level = 0;
  uint64_t index = 0;
  Hash hash{};
  friend bool operator==(const Node&, const Node&) = default;
};

// The perfect subtrees completed by appending leaf number `size_after - 1` (0-based) with leaf
// hash `leaf`: level 0 first (the leaf itself), then each parent the new leaf completes, upwards.
// There are countr_zero(size_after) + 1 of them. Reads from `tree` only the left siblings, which
// are already complete; `tree` holds exactly the first `size_after - 1` leaves. The caller stores
// every returned node, in order, before appending the next leaf. Precondition: size_after >= 1.
std::vector<Node> on_append(const SubtreeReader& tree, uint64_t size_after, const Hash& leaf);

// MTH of leaves [begin, end), with at most popcount(end - begin) reads of perfect subtrees.
// Preconditions (asserted): begin <= end; end <= the number of leaves `tree` holds (not checkable
// here); and [begin, end) is a node of a tree grown from leaf 0, i.e. begin is a multiple of the
// largest power of two <= end - begin. Every range in an RFC 6962 proof (and every [0, n)) is.
Hash range_root(const SubtreeReader& tree, uint64_t begin, uint64_t end);
// MTH of the first `size` leaves; empty_root() for size 0. Precondition: size <= leaves held.
Hash root(const SubtreeReader& tree, uint64_t size);

// RFC 6962 §2.1.1 audit path PATH(m, D[n]) for leaf m in the tree of the first n leaves, nearest
// sibling first; empty for n == 1. Errc::invalid_field if m >= n. Precondition: n <= leaves held
// (the caller checks n against its tree size; the reader asserts). O(log n) reads.
Result<std::vector<Hash>> inclusion_proof(const SubtreeReader& tree, uint64_t m, uint64_t n);
// RFC 6962 §2.1.2 consistency proof PROOF(m, D[n]) between the trees of the first m and first n
// leaves; empty for m == n. Errc::invalid_field unless 0 < m <= n. Precondition: n <= leaves held.
// O(log n) reads.
Result<std::vector<Hash>> consistency_proof(const SubtreeReader& tree, uint64_t m, uint64_t n);

// RFC 9162 §2.1.3.2: true iff `proof` proves that the leaf hash `leaf` (leaf_hash(record_hash),
// not the record hash) is leaf number `index` of the tree of `size` leaves whose root is `root`.
// False, never an error, for any malformed input (index >= size, wrong proof length, ...).
//
// As in every RFC 6962 verifier, `size` is not fully authenticated by the proof: the algorithm
// uses only the bits of size - 1 that the path consumes, so a proof may also verify under another
// size with the same path shape against the same root. The signed tree head binds size and root
// together; take both from it, never the size from an unsigned claim.
bool verify_inclusion(const Hash& leaf, uint64_t index, uint64_t size,
                      const std::vector<Hash>& proof, const Hash& root);
// RFC 9162 §2.1.4.2: true iff `proof` proves that the tree of `size1` leaves with root `root1` is
// a prefix of the tree of `size2` leaves with root `root2`. For size1 == size2 the proof must be
// empty and the roots equal. size1 == 0 is refused (false), as consistency_proof refuses it: the
// empty tree is a prefix of every tree and there is nothing to prove. The same caveat on sizes as
// for verify_inclusion applies.
bool verify_consistency(uint64_t size1, uint64_t size2, const Hash& root1, const Hash& root2,
                        const std::vector<Hash>& proof);

// An in-memory SubtreeReader holding every perfect subtree of the leaves appended so far (about
// two hashes per leaf), for tests and the simulator. Not thread-safe; copyable.
class MemoryTree : public SubtreeReader {
 public:
  // Appends the next leaf, given as its leaf hash (leaf_hash(record_hash)), and stores every
  // perfect subtree it completes (on_append).
  void append(const Hash& leaf);
  // Leaves appended so far.
  uint64_t size() const { return size_; }
  // Asserts that (level, index) is complete.
  Hash subtree(uint32_t level, uint64_t index) const override;

 private:
  std::vector<std::vector<Hash>> levels_;  // levels_[L][j]: subtree (L, j)
  uint64_t size_ = 0;
};

// The root of a tree that only grows, in O(log n) memory: the roots of the perfect subtrees that
// make up its leaves so far (one per set bit of the size, largest first), as RFC 9162's verifiers
// and a "compact range" keep them. For a reader that checks a whole ledger in one pass (the audit)
// and needs its root at one size, not proofs.
class CompactRange {
 public:
  // Appends the next leaf, given as its leaf hash.
  void append(const Hash& leaf);
  uint64_t size() const { return size_; }
  // MTH of the leaves appended so far (empty_root() before any).
  Hash root() const;

 private:
  std::vector<Hash> peaks_;  // perfect subtrees' roots, largest (leftmost) first
  uint64_t size_ = 0;
};

}  // namespace umupaka::merkle

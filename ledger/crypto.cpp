#include "ledger/crypto.hpp"

#include <botan/auto_rng.h>
#include <botan/ed25519.h>
#include <botan/hash.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>

#include <algorithm>
#include <cstring>

#include "ledger/assert.hpp"

namespace umupaka {

namespace {
// One hash object per thread (creating one per call was a measurable share of the simulator's
// time); final() resets it for the next call.
Botan::HashFunction& thread_sha256() {
  thread_local const std::unique_ptr<Botan::HashFunction> h =
      Botan::HashFunction::create_or_throw("SHA-256");
  return *h;
}
}  // namespace

Hash sha256(const uint8_t* data, size_t size) {
  Botan::HashFunction& h = thread_sha256();
  h.update(data, size);
  Hash out{};
  h.final(out.data());
  return out;
}

Hash sha256(const std::string_view* parts, size_t count) {
  Botan::HashFunction& h = thread_sha256();
  for (size_t i = 0; i < count; ++i)
    h.update(reinterpret_cast<const uint8_t*>(parts[i].data()), parts[i].size());
  Hash out{};
  h.final(out.data());
  return out;
}

Hash sha256(std::initializer_list<std::string_view> parts) {
  return sha256(parts.begin(), parts.size());
}

Hash sha256(std::string_view bytes) {
  return sha256(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

struct SigningKey::Impl {
  Botan::Ed25519_PrivateKey key;
  Botan::Null_RNG rng;  // Ed25519 signing is deterministic and draws nothing
  Botan::PK_Signer signer;
  explicit Impl(const Botan::secure_vector<uint8_t>& seed) : key(seed), signer(key, rng, "Pure") {}
};

SigningKey::SigningKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  const std::vector<uint8_t>& pub = impl_->key.get_public_key();
  UMUPAKA_ASSERT(pub.size() == public_key_.size());
  std::memcpy(public_key_.data(), pub.data(), pub.size());
}
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;
SigningKey::~SigningKey() = default;

SigningKey SigningKey::from_seed(const SecretSeed& seed) {
  Botan::secure_vector<uint8_t> s(seed.begin(), seed.end());
  return SigningKey(std::make_unique<Impl>(s));
}

Signature SigningKey::sign(std::string_view message) const {
  std::vector<uint8_t> sig = impl_->signer.sign_message(
      reinterpret_cast<const uint8_t*>(message.data()), message.size(), impl_->rng);
  UMUPAKA_ASSERT(sig.size() == Signature{}.size());
  Signature out{};
  std::memcpy(out.data(), sig.data(), out.size());
  return out;
}

namespace {

// RFC 8032 §5.1.7: the scalar half S of a signature must be below the group order L, else the
// signature is malleable (S + L verifies too). Botan 2 does not check; we do.
bool canonical_scalar(const Signature& sig) {
  // L = 2^252 + 27742317777372353535851937790883648493, little-endian.
  static constexpr uint8_t order[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
                                        0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                                        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};
  for (int i = 31; i >= 0; --i) {
    const uint8_t s = sig[32 + static_cast<size_t>(i)];
    if (s < order[i]) return true;
    if (s > order[i]) return false;
  }
  return false;  // S == L
}

}  // namespace

bool verify_signature(const PublicKey& key, std::string_view message, const Signature& signature) {
  if (!canonical_scalar(signature)) return false;
  try {
    Botan::Ed25519_PublicKey pub(std::vector<uint8_t>(key.begin(), key.end()));
    Botan::PK_Verifier verifier(pub, "Pure");
    return verifier.verify_message(reinterpret_cast<const uint8_t*>(message.data()), message.size(),
                                   signature.data(), signature.size());
  } catch (const std::exception&) {
    return false;
  }
}

bool acceptable_public_key(const PublicKey& key) {
  // Encodings of the small-order points of edwards25519, compared with the sign bit cleared (as
  // libsodium does): 0 and 1 (the identity), the two points of order 8, p-1, and the
  // non-canonical p and p+1. Under such a key anyone can forge signatures.
  static const char* const small_order_hex[] = {
      "0000000000000000000000000000000000000000000000000000000000000000",
      "0100000000000000000000000000000000000000000000000000000000000000",
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
      "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  };
  PublicKey masked = key;
  masked[31] &= 0x7f;
  for (const char* hex : small_order_hex) {
    PublicKey bad{};
    UMUPAKA_ASSERT(from_hex(hex, bad.data(), bad.size()));
    if (bad == masked) return false;
  }
  try {
    Botan::Ed25519_PublicKey pub(std::vector<uint8_t>(key.begin(), key.end()));
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

void os_random_bytes(uint8_t* out, size_t size) { Botan::system_rng().randomize(out, size); }

}  // namespace umupaka

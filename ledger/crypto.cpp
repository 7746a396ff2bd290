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

Hash sha256(const uint8_t* data, size_t size) {
  // Botan's hash objects are cheap to create; one per call keeps this thread-safe.
  auto h = Botan::HashFunction::create_or_throw("SHA-256");
  h->update(data, size);
  Hash out{};
  h->final(out.data());
  return out;
}

Hash sha256(std::string_view bytes) {
  return sha256(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

struct SigningKey::Impl {
  Botan::Ed25519_PrivateKey key;
  Botan::Null_RNG rng;  // Ed25519 signing is deterministic and draws nothing
  Botan::PK_Signer signer;
  explicit Impl(const Botan::secure_vector<uint8_t>& seed)
      : key(seed), signer(key, rng, "Pure") {}
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

bool verify_signature(const PublicKey& key, std::string_view message, const Signature& signature) {
  try {
    Botan::Ed25519_PublicKey pub(std::vector<uint8_t>(key.begin(), key.end()));
    Botan::PK_Verifier verifier(pub, "Pure");
    return verifier.verify_message(reinterpret_cast<const uint8_t*>(message.data()),
                                   message.size(), signature.data(), signature.size());
  } catch (const std::exception&) {
    return false;
  }
}

bool acceptable_public_key(const PublicKey& key) {
  // The eight small-order points of edwards25519 in their canonical encodings (and y = 1, the
  // identity, with either sign bit). A node key among them would let anyone forge signatures.
  static const char* const small_order_hex[] = {
      "0100000000000000000000000000000000000000000000000000000000000000",
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "0000000000000000000000000000000000000000000000000000000000000080",
      "0000000000000000000000000000000000000000000000000000000000000000",
      "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
      "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
  };
  for (const char* hex : small_order_hex) {
    PublicKey bad{};
    UMUPAKA_ASSERT(from_hex(hex, bad.data(), bad.size()));
    if (bad == key) return false;
  }
  try {
    Botan::Ed25519_PublicKey pub(std::vector<uint8_t>(key.begin(), key.end()));
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

void os_random_bytes(uint8_t* out, size_t size) {
  Botan::system_rng().randomize(out, size);
}

}  // namespace umupaka

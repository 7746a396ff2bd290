// Hashing and signing (Botan 2 underneath): SHA-256, Ed25519 in its "Pure" form, interoperable
// with libsodium and RFC 8032. Botan exceptions are caught here and never leave this module.
#pragma once

#include <initializer_list>
#include <memory>
#include <string_view>

#include "ledger/ids.hpp"
#include "ledger/result.hpp"

namespace umupaka {

Hash sha256(std::string_view bytes);
Hash sha256(const uint8_t* data, size_t size);
// SHA-256 of the parts concatenated, without concatenating them.
Hash sha256(std::initializer_list<std::string_view> parts);
Hash sha256(const std::string_view* parts, size_t count);

// An Ed25519 signing key, made from its 32-byte seed (the only form ever stored: the 64-byte
// form trusts an embedded public key). Not copyable; movable. Thread-compatible: one signer per
// thread, or external locking.
class SigningKey {
 public:
  static SigningKey from_seed(const SecretSeed& seed);
  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;
  ~SigningKey();

  const PublicKey& public_key() const { return public_key_; }
  Signature sign(std::string_view message) const;

 private:
  struct Impl;
  explicit SigningKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  PublicKey public_key_{};
};

// True iff `signature` is a valid Ed25519 signature of `message` under `key`. A fresh verifier
// per call (Botan 2 keeps state in a reused verifier after a malformed signature).
bool verify_signature(const PublicKey& key, std::string_view message, const Signature& signature);

// Rejects public keys that are not canonical points of the Ed25519 curve's prime-order subgroup
// check that Botan 2 lacks: the all-zero key and the small-order points.
bool acceptable_public_key(const PublicKey& key);

// Fills `out` from the operating system's CSPRNG. I/O: for key and token generation at the edges,
// never inside a replicated core.
void os_random_bytes(uint8_t* out, size_t size);

}  // namespace umupaka

// Per-record costs on one core: seal (encode + sign + hash) and open (hash + decode + verify) of a
// typical crossing; raw Ed25519 sign/verify with Botan 2, and libsodium's verify on the same
// machine as the reference limit. Run: build/release/bench/crypto_bench
#include <benchmark/benchmark.h>
#include <sodium.h>

#include "ledger/codec.hpp"
#include "ledger/crypto.hpp"
#include "ledger/record.hpp"

namespace {

using namespace umupaka;

Record typical_crossing() {
  Record r;
  r.header.network_id = "net-rwanda";
  r.header.origin = OriginId("rubavu-corniche");
  r.header.seq = Seq(123456);
  r.header.prev_hash.fill(7);
  r.header.hlc = Hlc::make(1'790'000'000'000, 3);
  Crossing c;
  c.direction = Direction::entry;
  c.post = "rubavu-corniche";
  c.mode = TravelMode::pedestrian;
  c.traveller = Person{"MUKENDI", "JEAN PIERRE", "COD", Date{5000}, Sex::male};
  c.document = DocumentRef{DocumentKind::passport, "COD", "OP1234567", Date{21000}};
  c.officer = "officer-17";
  c.verdict = Verdict::clear;
  c.findings.push_back(
      Finding{"permit", Verdict::clear, "visa-free (EAC partner state): 180 days"});
  c.decision = Decision::admitted;
  c.from_mrz = true;
  r.body = c;
  return r;
}

SecretSeed seed_of(uint8_t b) {
  SecretSeed s{};
  s.fill(b);
  return s;
}

void BM_Encode(benchmark::State& state) {
  const Record r = typical_crossing();
  for (auto _ : state) benchmark::DoNotOptimize(encode_record(r));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Encode);

void BM_Decode(benchmark::State& state) {
  const std::string bytes = encode_record(typical_crossing());
  for (auto _ : state) benchmark::DoNotOptimize(decode_record(bytes));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Decode);

void BM_Sha256Record(benchmark::State& state) {
  const std::string bytes = encode_record(typical_crossing());
  for (auto _ : state) benchmark::DoNotOptimize(sha256(bytes));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Sha256Record);

void BM_BotanSign(benchmark::State& state) {
  const SigningKey key = SigningKey::from_seed(seed_of(1));
  const std::string bytes = encode_record(typical_crossing());
  for (auto _ : state) benchmark::DoNotOptimize(key.sign(bytes));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BotanSign);

void BM_BotanVerify(benchmark::State& state) {
  const SigningKey key = SigningKey::from_seed(seed_of(1));
  const std::string bytes = encode_record(typical_crossing());
  const Signature sig = key.sign(bytes);
  for (auto _ : state) benchmark::DoNotOptimize(verify_signature(key.public_key(), bytes, sig));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BotanVerify);

void BM_SodiumVerify(benchmark::State& state) {
  if (sodium_init() < 0) state.SkipWithError("sodium_init failed");
  const SigningKey key = SigningKey::from_seed(seed_of(1));
  const std::string bytes = encode_record(typical_crossing());
  const Signature sig = key.sign(bytes);  // Botan's signature, checked by libsodium: interop
  for (auto _ : state) {
    const int rc = crypto_sign_verify_detached(sig.data(),
                                               reinterpret_cast<const unsigned char*>(bytes.data()),
                                               bytes.size(), key.public_key().data());
    if (rc != 0) state.SkipWithError("libsodium rejected Botan's signature");
    benchmark::DoNotOptimize(rc);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SodiumVerify);

void BM_SodiumSign(benchmark::State& state) {
  if (sodium_init() < 0) state.SkipWithError("sodium_init failed");
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  const SecretSeed seed = seed_of(1);
  crypto_sign_seed_keypair(pk, sk, seed.data());
  const std::string bytes = encode_record(typical_crossing());
  unsigned char sig[crypto_sign_BYTES];
  for (auto _ : state) {
    crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(bytes.data()),
                         bytes.size(), sk);
    benchmark::DoNotOptimize(sig);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SodiumSign);

// What the node pays to record one: encode, sign, hash.
void BM_Seal(benchmark::State& state) {
  const SigningKey key = SigningKey::from_seed(seed_of(1));
  const Record r = typical_crossing();
  for (auto _ : state) benchmark::DoNotOptimize(seal(r, key));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Seal);

// What a receiving node pays to verify one: hash, decode (strict), verify.
void BM_Open(benchmark::State& state) {
  const SigningKey key = SigningKey::from_seed(seed_of(1));
  const SignedRecord sr = seal(typical_crossing(), key);
  for (auto _ : state) benchmark::DoNotOptimize(open_record(sr, key.public_key()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Open);

}  // namespace

BENCHMARK_MAIN();

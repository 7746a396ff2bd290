// Sealing and opening records (record.hpp), Ed25519 and SHA-256 interoperability (crypto.hpp),
// and field validation (validate.hpp).
#include "ledger/record.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/assert.hpp"
#include "ledger/crypto.hpp"
#include "ledger/date.hpp"
#include "ledger/limits.hpp"
#include "ledger/validate.hpp"
#include "tests/seeds.hpp"

namespace umupaka {
namespace {

template <size_t N>
std::array<uint8_t, N> from_hex_array(std::string_view hex) {
  std::array<uint8_t, N> out{};
  UMUPAKA_ASSERT(from_hex(hex, out.data(), N));
  return out;
}

std::string bytes_of_hex(std::string_view hex) {
  std::string out(hex.size() / 2, '\0');
  UMUPAKA_ASSERT(from_hex(hex, reinterpret_cast<uint8_t*>(out.data()), out.size()));
  return out;
}

Date day(const char* iso) {
  const std::optional<Date> d = parse_iso_date(iso);
  UMUPAKA_ASSERT(d.has_value());
  return *d;
}

Person uwase() { return Person{"UWASE", "AIMEE", "RWA", day("1992-02-14"), Sex::female}; }
DocumentRef uwase_passport() {
  return DocumentRef{DocumentKind::passport, "RWA", "PC1234567", day("2030-06-30")};
}
const std::string kNid = "1199280012345678";

RecordHeader header(uint64_t seq = 1, Hash prev = zero_hash) {
  RecordHeader h;
  h.network_id = "rw-border";
  h.origin = OriginId("gatuna");
  h.seq = Seq(seq);
  h.prev_hash = prev;
  h.hlc = Hlc::make(1'773'000'000'000, 3);
  return h;
}

Crossing valid_crossing() {
  Crossing c;
  c.direction = Direction::entry;
  c.post = "gatuna";
  c.mode = TravelMode::pedestrian;
  c.traveller = uwase();
  c.document = uwase_passport();
  c.officer = "officer-1";
  c.verdict = Verdict::refer;
  c.findings = {Finding{"alert", Verdict::refer, "name resembles an alert"},
                Finding{"presence", Verdict::clear, ""}, Finding{"overstay", Verdict::clear, ""}};
  c.decision = Decision::admitted;
  c.note = "Umuturage wa Rubavu, yavuganye n'umuyobozi.";
  return c;
}
Permit valid_permit() {
  Permit p;
  p.permit_id = "VOA-2026-000123";
  p.kind = PermitKind::visa_on_arrival;
  p.holder = Person{"SMITH", "JOHN", "USA", day("1980-05-01"), Sex::male};
  p.document = DocumentRef{DocumentKind::passport, "USA", "123456789", day("2031-01-01")};
  p.valid_from = day("2026-03-10");
  p.valid_until = day("2026-04-08");
  p.entries_allowed = 1;
  p.stay_days_max = 30;
  p.issuing_site = "kigali-airport";
  p.officer = "officer-2";
  return p;
}
PermitStatusChange valid_extension() {
  return PermitStatusChange{"VOA-2026-000123", PermitAction::extend, day("2026-05-08"),
                            "medical treatment", "officer-3"};
}
TravelDocumentIssued valid_issuance() {
  TravelDocumentIssued t;
  t.document = uwase_passport();
  t.holder = uwase();
  t.national_id = kNid;
  t.issued_on = day("2025-06-30");
  t.issuing_site = "hq";
  t.officer = "officer-4";
  return t;
}
DocumentStatusChange valid_document_status() {
  return DocumentStatusChange{"RWA", "PC1234567", DocumentStatus::stolen, "reported at Nyamirambo",
                              "officer-5"};
}
Alert valid_document_alert() {
  Alert a;
  a.alert_id = "alert-77";
  a.subject.kind = AlertSubjectKind::document;
  a.subject.document_country = "RWA";
  a.subject.document_number = "PC1234567";
  a.category = "sltd";
  a.action = AlertAction::deny;
  a.reason = "stolen";
  a.officer = "officer-6";
  return a;
}
Alert valid_name_alert() {
  Alert a = valid_document_alert();
  a.subject = AlertSubject{};
  a.subject.kind = AlertSubjectKind::name;
  a.subject.surname = "MUGABO";
  a.subject.birth_date = day("1975-01-01");
  a.category = "wanted";
  return a;
}
Alert valid_national_id_alert() {
  Alert a = valid_document_alert();
  a.subject = AlertSubject{};
  a.subject.kind = AlertSubjectKind::national_id;
  a.subject.national_id = kNid;
  return a;
}
AlertLift valid_lift() { return AlertLift{"alert-77", "recovered", "officer-7"}; }

Record record_of(RecordBody body, uint64_t seq = 1, Hash prev = zero_hash) {
  return Record{header(seq, prev), std::move(body)};
}

// --- Seal and open --------------------------------------------------------------------------

class SealTest : public ::testing::Test {
 protected:
  SigningKey key_ = SigningKey::from_seed(test::counting_seed(1));
  SigningKey other_ = SigningKey::from_seed(test::counting_seed(2));
  Record record_ = record_of(valid_crossing(), 7, from_hex_array<32>(std::string(64, 'a')));
};

TEST_F(SealTest, SealThenOpenGivesTheRecordBack) {
  const SignedRecord sr = seal(record_, key_);
  EXPECT_EQ(sr.encoded, encode_record(record_));
  EXPECT_EQ(sr.hash, record_hash(sr.encoded, sr.signature));
  EXPECT_TRUE(verify_signature(key_.public_key(), sr.encoded, sr.signature));
  const Result<Record> opened = open_record(sr, key_.public_key());
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened.value(), record_);
  // Sealing is deterministic (Ed25519 draws no randomness).
  const SignedRecord again = seal(record_, key_);
  EXPECT_EQ(again.encoded, sr.encoded);
  EXPECT_EQ(again.signature, sr.signature);
  EXPECT_EQ(again.hash, sr.hash);
}

TEST_F(SealTest, EverySealedBodyTypeOpens) {
  const RecordBody bodies[] = {valid_crossing(), valid_permit(),          valid_extension(),
                               valid_issuance(), valid_document_status(), valid_document_alert(),
                               valid_lift()};
  for (const RecordBody& b : bodies) {
    const Record r = record_of(b);
    const Result<Record> opened = open_record(seal(r, key_), key_.public_key());
    ASSERT_TRUE(opened.ok()) << record_type_name(type_of(b)) << ": " << opened.error().message;
    EXPECT_EQ(opened.value(), r);
  }
}

TEST_F(SealTest, EveryFlippedBitOfTheEncodingIsRejected) {
  const SignedRecord sr = seal(record_, key_);
  ASSERT_TRUE(open_record(sr, key_.public_key()).ok());
  size_t rehashed_decode = 0, rehashed_signature = 0;
  for (size_t i = 0; i < sr.encoded.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      SignedRecord bad = sr;
      bad.encoded[i] = static_cast<char>(bad.encoded[i] ^ (1 << bit));
      // As received: the hash no longer matches the bytes.
      const Result<Record> as_is = open_record(bad, key_.public_key());
      ASSERT_FALSE(as_is.ok()) << "byte " << i << " bit " << bit;
      ASSERT_EQ(as_is.error().code, Errc::decode) << "byte " << i << " bit " << bit;
      ASSERT_EQ(as_is.error().field, "hash");
      // An attacker who rehashes: the signature (or the codec) still refuses it.
      bad.hash = record_hash(bad.encoded, bad.signature);
      const Result<Record> rehashed = open_record(bad, key_.public_key());
      ASSERT_FALSE(rehashed.ok()) << "byte " << i << " bit " << bit << " accepted after rehash";
      const Errc code = rehashed.error().code;
      ASSERT_TRUE(code == Errc::decode || code == Errc::bad_signature)
          << "byte " << i << " bit " << bit << ": " << rehashed.error().message;
      (code == Errc::decode ? rehashed_decode : rehashed_signature)++;
    }
  }
  // Flips inside text fields still decode: the signature is what refuses them.
  EXPECT_GT(rehashed_signature, 0u);
  EXPECT_GT(rehashed_decode, 0u);
}

TEST_F(SealTest, EveryFlippedBitOfTheHashIsRejected) {
  const SignedRecord sr = seal(record_, key_);
  for (size_t i = 0; i < sr.hash.size() * 8; ++i) {
    SignedRecord bad = sr;
    bad.hash[i / 8] = static_cast<uint8_t>(bad.hash[i / 8] ^ (1u << (i % 8)));
    const Result<Record> r = open_record(bad, key_.public_key());
    ASSERT_FALSE(r.ok()) << "hash bit " << i;
    EXPECT_EQ(r.error().code, Errc::decode);
  }
}

TEST_F(SealTest, EveryFlippedBitOfTheSignatureIsRejected) {
  const SignedRecord sr = seal(record_, key_);
  for (size_t i = 0; i < sr.signature.size() * 8; ++i) {
    SignedRecord bad = sr;
    bad.signature[i / 8] = static_cast<uint8_t>(bad.signature[i / 8] ^ (1u << (i % 8)));
    // The hash covers the signature: as received, the hash no longer matches.
    const Result<Record> as_is = open_record(bad, key_.public_key());
    ASSERT_FALSE(as_is.ok()) << "signature bit " << i;
    EXPECT_EQ(as_is.error().code, Errc::decode);
    EXPECT_EQ(as_is.error().field, "hash");
    // Rehashed, the signature itself fails.
    bad.hash = record_hash(bad.encoded, bad.signature);
    const Result<Record> r = open_record(bad, key_.public_key());
    ASSERT_FALSE(r.ok()) << "signature bit " << i << " accepted after rehash";
    EXPECT_EQ(r.error().code, Errc::bad_signature);
    EXPECT_EQ(r.error().field, "signature");
  }
}

TEST_F(SealTest, TheHashCoversBytesAndSignature) {
  const SignedRecord sr = seal(record_, key_);
  EXPECT_NE(sr.hash, sha256(sr.encoded));
  std::string both = sr.encoded;
  both.append(reinterpret_cast<const char*>(sr.signature.data()), sr.signature.size());
  EXPECT_EQ(sr.hash, sha256(both));
}

// Because the hash covers the signature, a second valid signature of the same bytes would give
// one (origin, seq) two hashes: a relay could make an honest origin look like it forked its feed.
// The only second signature within reach without the key is s + L; it must not open.
TEST_F(SealTest, AMalleatedSignatureDoesNotOpenUnderANewHash) {
  SignedRecord sr = seal(record_, key_);
  const auto order =
      from_hex_array<32>("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
  unsigned carry = 0;
  for (size_t i = 0; i < 32; ++i) {
    const unsigned sum = sr.signature[32 + i] + order[i] + carry;
    sr.signature[32 + i] = static_cast<uint8_t>(sum & 0xff);
    carry = sum >> 8;
  }
  ASSERT_EQ(carry, 0u);
  sr.hash = record_hash(sr.encoded, sr.signature);
  ASSERT_NE(sr.hash, seal(record_, key_).hash);
  const Result<Record> r = open_record(sr, key_.public_key());
  ASSERT_FALSE(r.ok()) << "the same record opens under a second hash";
  EXPECT_EQ(r.error().code, Errc::bad_signature);
}

TEST_F(SealTest, ARecordSignedByAnotherKeyIsRejected) {
  ASSERT_NE(key_.public_key(), other_.public_key());
  const SignedRecord forged = seal(record_, other_);
  const Result<Record> r = open_record(forged, key_.public_key());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::bad_signature);
  EXPECT_TRUE(open_record(forged, other_.public_key()).ok());
  // A valid signature of another record by the right key does not carry over.
  SignedRecord swapped = seal(record_, key_);
  Record next = record_;
  next.header.seq = Seq(8);
  swapped.signature = seal(next, key_).signature;
  swapped.hash = record_hash(swapped.encoded, swapped.signature);
  const Result<Record> s = open_record(swapped, key_.public_key());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::bad_signature);
}

TEST_F(SealTest, ANonCanonicalEncodingWithAValidSignatureIsRejected) {
  // The origin signs bytes that are not the canonical form (e.g. a buggy or hostile signer):
  // the signature verifies, the hash matches, but the codec refuses the bytes.
  SignedRecord sr = seal(record_, key_);
  std::string bytes = sr.encoded;
  bytes += '\xc0';
  sr.encoded = bytes;
  sr.signature = key_.sign(bytes);
  sr.hash = record_hash(bytes, sr.signature);
  const Result<Record> r = open_record(sr, key_.public_key());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::decode);
}

// --- Chain ----------------------------------------------------------------------------------

TEST(CheckChain, AcceptsTheNextSeqWithTheRightLink) {
  const Hash h5 = sha256("record 5");
  EXPECT_TRUE(check_chain(header(6, h5), 5, h5).ok());
  EXPECT_TRUE(check_chain(header(1, zero_hash), 0, zero_hash).ok());
}

TEST(CheckChain, RejectsAGapARepeatAndAWrongLink) {
  const Hash h5 = sha256("record 5");
  struct Case {
    const char* name;
    RecordHeader next;
    const char* field;
  };
  Hash off_by_one_bit = h5;
  off_by_one_bit[31] ^= 0x01;
  const Case cases[] = {
      {"gap", header(7, h5), "seq"},
      {"repeat", header(5, h5), "seq"},
      {"behind", header(1, zero_hash), "seq"},
      {"wrong prev_hash", header(6, sha256("another record 5")), "prev_hash"},
      {"prev_hash one bit off", header(6, off_by_one_bit), "prev_hash"},
      {"zero prev_hash after seq 1", header(6, zero_hash), "prev_hash"},
      {"seq 0 on an empty feed", header(0, zero_hash), "seq"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const uint64_t head = std::string_view(c.name) == "seq 0 on an empty feed" ? 0 : 5;
    const Hash head_hash = head == 0 ? zero_hash : h5;
    const Status s = check_chain(c.next, head, head_hash);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, Errc::chain_broken);
    EXPECT_EQ(s.error().field, c.field);
  }
  // The first record of a feed must link to zero.
  const Status first = check_chain(header(1, h5), 0, zero_hash);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, Errc::chain_broken);
}

TEST(CheckChain, SealedRecordsLinkByHash) {
  const SigningKey key = SigningKey::from_seed(test::counting_seed(9));
  uint64_t head = 0;
  Hash head_hash = zero_hash;
  for (uint64_t seq = 1; seq <= 20; ++seq) {
    const Record r = record_of(valid_lift(), seq, head_hash);
    ASSERT_TRUE(check_chain(r.header, head, head_hash).ok()) << seq;
    const SignedRecord sr = seal(r, key);
    head = seq;
    head_hash = sr.hash;
  }
  EXPECT_EQ(head, 20u);
}

// --- Crypto interoperability ----------------------------------------------------------------

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(to_hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1'000'000, 'a');
  EXPECT_EQ(to_hex(sha256(million)),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  const std::string abc = "abc";
  EXPECT_EQ(sha256(reinterpret_cast<const uint8_t*>(abc.data()), abc.size()), sha256(abc));
}

struct Rfc8032Vector {
  const char* secret;
  const char* public_key;
  const char* message;
  const char* signature;
};

// RFC 8032 section 7.1, tests 1-3.
const Rfc8032Vector kRfc8032[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
     "b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f1"
     "1d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984d"
     "c6594a7c15e9716ed28dc027beceea1ec40a"},
};

TEST(Ed25519, Rfc8032Vectors) {
  for (const Rfc8032Vector& v : kRfc8032) {
    SCOPED_TRACE(v.secret);
    const SigningKey key = SigningKey::from_seed(from_hex_array<32>(v.secret));
    const PublicKey expected_public = from_hex_array<32>(v.public_key);
    const Signature expected_signature = from_hex_array<64>(v.signature);
    const std::string message = bytes_of_hex(v.message);
    EXPECT_EQ(to_hex(key.public_key()), v.public_key);
    EXPECT_EQ(to_hex(key.sign(message)), v.signature);
    EXPECT_TRUE(verify_signature(expected_public, message, expected_signature));
    EXPECT_TRUE(acceptable_public_key(expected_public));
    // The same signature over another message, or under another key, fails.
    EXPECT_FALSE(verify_signature(expected_public, message + "x", expected_signature));
    const PublicKey other = SigningKey::from_seed(test::counting_seed(3)).public_key();
    EXPECT_FALSE(verify_signature(other, message, expected_signature));
  }
}

TEST(Ed25519, Rfc8032Vector1EmptyMessage) {
  // Test 1 spelled out: the empty message.
  const SecretSeed secret =
      from_hex_array<32>("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  const PublicKey pub =
      from_hex_array<32>("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const Signature sig = from_hex_array<64>(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701c"
      "f9b46bd25bf5f0595bbe24655141438e7a100b");
  const SigningKey key = SigningKey::from_seed(secret);
  EXPECT_EQ(key.public_key(), pub);
  EXPECT_EQ(key.sign(""), sig);
  EXPECT_TRUE(verify_signature(pub, "", sig));
  EXPECT_TRUE(verify_signature(pub, std::string_view(), sig));
  EXPECT_FALSE(verify_signature(pub, std::string(1, '\0'), sig));
}

TEST(Ed25519, MalleatedSignatureWithSPlusTheGroupOrderIsRejected) {
  // RFC 8032 5.1.7: s must be below L. s + L verifies in implementations that skip the check.
  const SigningKey key = SigningKey::from_seed(test::counting_seed(4));
  const std::string message = "crossing";
  const Signature sig = key.sign(message);
  ASSERT_TRUE(verify_signature(key.public_key(), message, sig));
  const auto order =
      from_hex_array<32>("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
  Signature malleated = sig;
  unsigned carry = 0;
  for (size_t i = 0; i < 32; ++i) {
    const unsigned sum = malleated[32 + i] + order[i] + carry;
    malleated[32 + i] = static_cast<uint8_t>(sum & 0xff);
    carry = sum >> 8;
  }
  ASSERT_EQ(carry, 0u);
  EXPECT_FALSE(verify_signature(key.public_key(), message, malleated));
}

TEST(Ed25519, MalformedKeysAndSignaturesFailWithoutThrowing) {
  const SigningKey key = SigningKey::from_seed(test::counting_seed(5));
  const Signature sig = key.sign("m");
  Signature all_ff{};
  all_ff.fill(0xff);
  EXPECT_FALSE(verify_signature(key.public_key(), "m", all_ff));
  EXPECT_FALSE(verify_signature(key.public_key(), "m", Signature{}));
  PublicKey all_ff_key{};
  all_ff_key.fill(0xff);
  EXPECT_FALSE(verify_signature(all_ff_key, "m", sig));
  EXPECT_FALSE(verify_signature(PublicKey{}, "m", sig));
  // A verification that failed does not poison later ones.
  EXPECT_TRUE(verify_signature(key.public_key(), "m", sig));
}

TEST(AcceptablePublicKey, RejectsTheZeroKeyAndTheIdentity) {
  EXPECT_FALSE(acceptable_public_key(PublicKey{}));
  PublicKey identity{};
  identity[0] = 0x01;
  EXPECT_FALSE(acceptable_public_key(identity));
}

TEST(AcceptablePublicKey, AcceptsRealKeys) {
  for (uint8_t s = 0; s < 16; ++s)
    EXPECT_TRUE(acceptable_public_key(SigningKey::from_seed(test::counting_seed(s)).public_key()))
        << int{s};
}

// The small-order points of edwards25519, canonical and non-canonical (y + p for y = 0 and 1,
// where y + p still fits in 255 bits), each with the sign bit clear and set: libsodium's
// blocklist. Under any of them, (R = identity, s = 0) verifies for every message.
const char* const kSmallOrderEncodings[] = {
    "0100000000000000000000000000000000000000000000000000000000000000",  // identity
    "0100000000000000000000000000000000000000000000000000000000000080",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // order 2 (y = -1)
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "0000000000000000000000000000000000000000000000000000000000000000",  // order 4 (y = 0)
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  // order 8
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // y = p (= 0)
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // y = p + 1 (= 1)
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
};

TEST(AcceptablePublicKey, RejectsEverySmallOrderEncoding) {
  for (const char* hex : kSmallOrderEncodings)
    EXPECT_FALSE(acceptable_public_key(from_hex_array<32>(hex))) << hex;
}

// Whatever the list inside acceptable_public_key: no key under which a signature can be forged
// without the secret may pass it. The forgery is R = identity, s = 0, valid for every message
// whenever the key decodes to a point of small order whose multiple by the hash is the identity.
TEST(AcceptablePublicKey, NoKeyUnderWhichAnyoneCanSignPasses) {
  Signature forged{};
  forged[0] = 0x01;  // R = identity (y = 1), s = 0
  for (const char* hex : kSmallOrderEncodings) {
    const PublicKey key = from_hex_array<32>(hex);
    // A point of order n admits the forgery for the messages whose hash is 0 mod n: with 64
    // messages, every small-order key shows it.
    bool forgeable = false;
    for (int m = 0; m < 64 && !forgeable; ++m)
      forgeable = verify_signature(key, "record " + std::to_string(m), forged);
    if (forgeable) {
      EXPECT_FALSE(acceptable_public_key(key)) << "forgeable key accepted: " << hex;
    }
  }
}

// --- Validation -----------------------------------------------------------------------------

struct InvalidCase {
  const char* name;
  std::function<Record()> make;
  const char* field;
};

template <typename B>
std::function<Record()> with(B (*base)(), std::function<void(B&)> change) {
  return [base, change] {
    B b = base();
    change(b);
    return record_of(b);
  };
}

std::function<Record()> header_with(std::function<void(RecordHeader&)> change) {
  return [change] {
    Record r = record_of(valid_lift());
    change(r.header);
    return r;
  };
}

TEST(Validate, TheBaseRecordsAreValid) {
  const RecordBody bodies[] = {valid_crossing(),
                               valid_permit(),
                               valid_extension(),
                               valid_issuance(),
                               valid_document_status(),
                               valid_document_alert(),
                               valid_name_alert(),
                               valid_national_id_alert(),
                               valid_lift()};
  for (const RecordBody& b : bodies) {
    const Status s = validate_record(record_of(b));
    EXPECT_TRUE(s.ok()) << record_type_name(type_of(b)) << ": " << s.error().field << ": "
                        << s.error().message;
  }
}

TEST(Validate, InvalidRecordsNameTheOffendingField) {
  const std::string note_max(limits::text_bytes_max, 'n');
  const InvalidCase cases[] = {
      // Crossing: the traveller and the document.
      {"surname empty",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.traveller.surname = ""; }),
       "traveller.surname"},
      {"surname too long",
       with<Crossing>(
           valid_crossing,
           [](Crossing& c) { c.traveller.surname = std::string(limits::name_bytes_max + 1, 'A'); }),
       "traveller.surname"},
      {"given names with a newline",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.traveller.given_names = "AIMEE\nX"; }),
       "traveller.given_names"},
      {"unknown nationality",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.traveller.nationality = "XYZ"; }),
       "traveller.nationality"},
      {"lower-case nationality",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.traveller.nationality = "rwa"; }),
       "traveller.nationality"},
      {"born before 1900",
       with<Crossing>(valid_crossing,
                      [](Crossing& c) { c.traveller.birth_date = day("1899-12-31"); }),
       "traveller.birth_date"},
      {"document number lower case",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.document.number = "pc1234567"; }),
       "document.number"},
      {"document number empty",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.document.number = ""; }),
       "document.number"},
      {"document number with a dash",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.document.number = "PC-1234567"; }),
       "document.number"},
      {"document number too long",
       with<Crossing>(valid_crossing,
                      [](Crossing& c) {
                        c.document.number = std::string(limits::document_number_bytes_max + 1, '1');
                      }),
       "document.number"},
      {"document country unknown",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.document.country = "ZZZ"; }),
       "document.country"},
      {"document expiry after 2200",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.document.expiry = day("2201-01-01"); }),
       "document.expiry"},
      {"national_id of 15 digits",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.national_id = "119928001234567"; }),
       "national_id"},
      {"national_id of 17 digits",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.national_id = "11992800123456789"; }),
       "national_id"},
      {"national_id with a letter",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.national_id = "119928001234567X"; }),
       "national_id"},
      // Crossing: the post's own fields.
      {"post upper case", with<Crossing>(valid_crossing, [](Crossing& c) { c.post = "Gatuna"; }),
       "post"},
      {"post starting with a digit",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.post = "1gatuna"; }), "post"},
      {"permit_id with a space",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.permit_id = "VOA 1"; }), "permit_id"},
      {"permit_id present but empty",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.permit_id = ""; }), "permit_id"},
      {"officer empty", with<Crossing>(valid_crossing, [](Crossing& c) { c.officer = ""; }),
       "officer"},
      {"officer too long",
       with<Crossing>(valid_crossing,
                      [](Crossing& c) { c.officer = std::string(limits::id_bytes_max + 1, 'o'); }),
       "officer"},
      {"too many findings",
       with<Crossing>(valid_crossing,
                      [](Crossing& c) {
                        c.findings.assign(limits::reasons_per_record_max + 1,
                                          Finding{"alert", Verdict::clear, ""});
                      }),
       "findings"},
      {"finding check empty",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.findings[2].check = ""; }),
       "findings[2].check"},
      {"finding reason invalid UTF-8",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.findings[1].reason = "ok\xff"; }),
       "findings[1].reason"},
      {"admitted against deny without a note",
       with<Crossing>(valid_crossing,
                      [](Crossing& c) {
                        c.verdict = Verdict::deny;
                        c.decision = Decision::admitted;
                        c.note = "";
                      }),
       "note"},
      // Text: UTF-8 well-formedness, controls, length.
      {"note invalid UTF-8 byte",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.note = "seen \xff"; }), "note"},
      {"note lone continuation byte",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.note = "\x80"; }), "note"},
      {"note overlong 2-byte '/'",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.note = "\xc0\xaf"; }), "note"},
      {"note overlong 2-byte NUL",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.note = "\xc0\x80"; }), "note"},
      {"note overlong 3-byte '/'",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.note = "\xe0\x80\xaf"; }), "note"},
      {"note overlong 4-byte '/'",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.note = "\xf0\x80\x80\xaf"; }), "note"},
      {"note UTF-16 surrogate",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.note = "\xed\xa0\x80"; }), "note"},
      {"note beyond U+10FFFF",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.note = "\xf4\x90\x80\x80"; }), "note"},
      {"note 5-byte lead",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.note = "\xf8\x88\x80\x80\x80"; }),
       "note"},
      {"note truncated sequence",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.note = "euro \xe2\x82"; }), "note"},
      {"note control character",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.note = "bell\x07"; }), "note"},
      {"note NUL",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.note = std::string(1, '\0'); }), "note"},
      {"note DEL", with<Crossing>(valid_crossing, [](Crossing& c) { c.note = "\x7f"; }), "note"},
      {"note C1 control U+0085",
       with<Crossing>(valid_crossing, [](Crossing& c) { c.note = "\xc2\x85"; }), "note"},
      {"note too long",
       with<Crossing>(valid_crossing,
                      [](Crossing& c) { c.note = std::string(limits::text_bytes_max + 1, 'n'); }),
       "note"},
      // Permit.
      {"permit valid_until before valid_from",
       with<Permit>(valid_permit, [](Permit& p) { p.valid_until = Date{p.valid_from.days - 1}; }),
       "valid_until"},
      {"permit_id empty", with<Permit>(valid_permit, [](Permit& p) { p.permit_id = ""; }),
       "permit_id"},
      {"permit holder surname empty",
       with<Permit>(valid_permit, [](Permit& p) { p.holder.surname = ""; }), "holder.surname"},
      {"permit document number lower case",
       with<Permit>(valid_permit, [](Permit& p) { p.document.number = "abc"; }), "document.number"},
      {"permit national_id short",
       with<Permit>(valid_permit, [](Permit& p) { p.national_id = "12345"; }), "national_id"},
      {"permit valid_from before 1900",
       with<Permit>(valid_permit, [](Permit& p) { p.valid_from = day("1850-01-01"); }),
       "valid_from"},
      {"permit issuing_site upper case",
       with<Permit>(valid_permit, [](Permit& p) { p.issuing_site = "HQ"; }), "issuing_site"},
      {"permit note invalid UTF-8", with<Permit>(valid_permit, [](Permit& p) { p.note = "\xc3"; }),
       "note"},
      // Permit status changes.
      {"extend without valid_until",
       with<PermitStatusChange>(valid_extension,
                                [](PermitStatusChange& s) { s.valid_until.reset(); }),
       "valid_until"},
      {"revoke with valid_until",
       with<PermitStatusChange>(valid_extension,
                                [](PermitStatusChange& s) { s.action = PermitAction::revoke; }),
       "valid_until"},
      {"extend to after 2200",
       with<PermitStatusChange>(valid_extension,
                                [](PermitStatusChange& s) { s.valid_until = day("2300-01-01"); }),
       "valid_until"},
      {"status change without a reason",
       with<PermitStatusChange>(valid_extension, [](PermitStatusChange& s) { s.reason = ""; }),
       "reason"},
      // Travel document issuance.
      {"issued border pass",
       with<TravelDocumentIssued>(
           valid_issuance,
           [](TravelDocumentIssued& t) { t.document.kind = DocumentKind::border_pass; }),
       "document.kind"},
      {"issued without expiry",
       with<TravelDocumentIssued>(valid_issuance,
                                  [](TravelDocumentIssued& t) { t.document.expiry.reset(); }),
       "document.expiry"},
      {"expiry before issue",
       with<TravelDocumentIssued>(valid_issuance,
                                  [](TravelDocumentIssued& t) { t.issued_on = day("2031-01-01"); }),
       "document.expiry"},
      {"issued with 15-digit national_id",
       with<TravelDocumentIssued>(
           valid_issuance, [](TravelDocumentIssued& t) { t.national_id = "119928001234567"; }),
       "national_id"},
      {"issuing_site empty",
       with<TravelDocumentIssued>(valid_issuance,
                                  [](TravelDocumentIssued& t) { t.issuing_site = ""; }),
       "issuing_site"},
      // Document status.
      {"document status number lower case",
       with<DocumentStatusChange>(valid_document_status,
                                  [](DocumentStatusChange& d) { d.number = "pc1234567"; }),
       "number"},
      {"document status country unknown",
       with<DocumentStatusChange>(valid_document_status,
                                  [](DocumentStatusChange& d) { d.country = "R"; }),
       "country"},
      // Alerts.
      {"document alert with a national_id",
       with<Alert>(valid_document_alert, [](Alert& a) { a.subject.national_id = kNid; }),
       "subject.kind"},
      {"document alert with a surname",
       with<Alert>(valid_document_alert, [](Alert& a) { a.subject.surname = "MUGABO"; }),
       "subject.kind"},
      {"document alert without a number",
       with<Alert>(valid_document_alert, [](Alert& a) { a.subject.document_number.reset(); }),
       "subject.document_number"},
      {"document alert with a bad number",
       with<Alert>(valid_document_alert, [](Alert& a) { a.subject.document_number = "pc-1"; }),
       "subject.document_number"},
      {"document alert with an unknown country",
       with<Alert>(valid_document_alert, [](Alert& a) { a.subject.document_country = "QQQ"; }),
       "subject.document_country"},
      {"national_id alert with a document",
       with<Alert>(valid_national_id_alert, [](Alert& a) { a.subject.document_country = "RWA"; }),
       "subject.kind"},
      {"national_id alert without the national_id",
       with<Alert>(valid_national_id_alert, [](Alert& a) { a.subject.national_id.reset(); }),
       "subject.national_id"},
      {"national_id alert with 15 digits",
       with<Alert>(valid_national_id_alert,
                   [](Alert& a) { a.subject.national_id = "119928001234567"; }),
       "subject.national_id"},
      {"name alert without a birth date",
       with<Alert>(valid_name_alert, [](Alert& a) { a.subject.birth_date.reset(); }),
       "subject.surname"},
      {"name alert with a national_id",
       with<Alert>(valid_name_alert, [](Alert& a) { a.subject.national_id = kNid; }),
       "subject.kind"},
      {"name alert with an empty surname",
       with<Alert>(valid_name_alert, [](Alert& a) { a.subject.surname = ""; }), "subject.surname"},
      {"name alert with overlong UTF-8 in given names",
       with<Alert>(valid_name_alert, [](Alert& a) { a.subject.given_names = "\xc1\xbf"; }),
       "subject.given_names"},
      {"alert category empty", with<Alert>(valid_document_alert, [](Alert& a) { a.category = ""; }),
       "category"},
      {"alert expires before 1900",
       with<Alert>(valid_document_alert, [](Alert& a) { a.expires_on = day("1800-01-01"); }),
       "expires_on"},
      {"alert officer with a slash",
       with<Alert>(valid_document_alert, [](Alert& a) { a.officer = "a/b"; }), "officer"},
      // Alert lifts.
      {"lift without alert_id", with<AlertLift>(valid_lift, [](AlertLift& l) { l.alert_id = ""; }),
       "alert_id"},
      {"lift reason with a tab",
       with<AlertLift>(valid_lift, [](AlertLift& l) { l.reason = "a\tb"; }), "reason"},
      // Header.
      {"version 2", header_with([](RecordHeader& h) { h.version = 2; }), "version"},
      {"network_id empty", header_with([](RecordHeader& h) { h.network_id = ""; }), "network_id"},
      {"origin upper case", header_with([](RecordHeader& h) { h.origin = OriginId("Gatuna"); }),
       "origin"},
      {"seq 0", header_with([](RecordHeader& h) { h.seq = Seq(0); }), "seq"},
      {"seq 1 with a previous hash",
       header_with([](RecordHeader& h) { h.prev_hash = sha256("x"); }), "prev_hash"},
  };
  for (const InvalidCase& c : cases) {
    SCOPED_TRACE(c.name);
    const Status s = validate_record(c.make());
    ASSERT_FALSE(s.ok()) << "accepted";
    EXPECT_EQ(s.error().code, Errc::invalid_field) << s.error().message;
    EXPECT_EQ(s.error().field, c.field) << s.error().message;
    EXPECT_FALSE(s.error().message.empty());
  }
}

TEST(Validate, BoundaryValuesThatAreValid) {
  const std::function<Record()> valid[] = {
      with<Crossing>(
          valid_crossing,
          [](Crossing& c) { c.note = "Muraho! \xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80"; }),
      with<Crossing>(valid_crossing, [](Crossing& c) { c.note = "\xf4\x8f\xbf\xbf"; }),  // U+10FFFF
      with<Crossing>(valid_crossing, [](Crossing& c) { c.note = "\xc2\xa0"; }),          // U+00A0
      with<Crossing>(valid_crossing,
                     [](Crossing& c) { c.note = std::string(limits::text_bytes_max, 'n'); }),
      with<Crossing>(valid_crossing,
                     [](Crossing& c) {
                       c.verdict = Verdict::deny;
                       c.decision = Decision::admitted;
                       c.note = "supervisor approved";
                     }),
      with<Crossing>(valid_crossing,
                     [](Crossing& c) {
                       c.verdict = Verdict::deny;
                       c.decision = Decision::refused;
                       c.note = "";
                     }),
      with<Crossing>(
          valid_crossing,
          [](Crossing& c) {
            c.findings.assign(limits::reasons_per_record_max, Finding{"alert", Verdict::clear, ""});
          }),
      with<Crossing>(valid_crossing,
                     [](Crossing& c) {
                       c.traveller.surname = std::string(limits::name_bytes_max, 'A');
                       c.document.number = std::string(limits::document_number_bytes_max, '9');
                       c.officer = std::string(limits::id_bytes_max, 'o');
                       c.national_id = kNid;
                       c.traveller.birth_date = day("1900-01-01");
                       c.document.expiry = day("2200-12-31");
                     }),
      with<Permit>(valid_permit, [](Permit& p) { p.valid_until = p.valid_from; }),
      with<Alert>(valid_name_alert, [](Alert& a) { a.subject.given_names = "JEAN"; }),
      with<PermitStatusChange>(valid_extension,
                               [](PermitStatusChange& s) {
                                 s.action = PermitAction::cancel;
                                 s.valid_until.reset();
                               }),
      header_with([](RecordHeader& h) {
        h.seq = Seq(2);
        h.prev_hash = sha256("x");
      }),
  };
  for (size_t i = 0; i < std::size(valid); ++i) {
    const Status s = validate_record(valid[i]());
    EXPECT_TRUE(s.ok()) << "case " << i << ": " << s.error().field << ": " << s.error().message;
  }
}

// What an officer's text must hold where something must be said (checked at the origin).
TEST(Validate, VisibleTextIsAnyCharacterDrawnAsSomething) {
  for (const std::string seen :
       {"a", " x ", "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "-", "\xe2\x80\x8b.",
        "\xff" /* malformed: valid_text refuses it, not this */})
    EXPECT_TRUE(has_visible_text(seen)) << seen;
  for (const std::string blank :
       {"", " ", "\t\n", "\xc2\xa0", "\xc2\xad", "\xe2\x80\x8b", "\xe2\x80\x8f\xe2\x80\xae",
        "\xe2\x81\xa0", "\xe3\x80\x80", "\xef\xbb\xbf", "\xe2\xa0\x80" /* U+2800 */,
        "\xef\xb8\x8f" /* U+FE0F */, "\xf3\xa0\x80\x81" /* U+E0001 */,
        " \xe2\x80\x8b\xe2\x80\x8c\xe2\x80\x8d "})
    EXPECT_FALSE(has_visible_text(blank)) << blank;
}

// What reorders a name as it is drawn; marks and right-to-left letters do not.
TEST(Validate, DirectionControlsAreEmbeddingsOverridesAndIsolates) {
  for (const std::string control : {"\xe2\x80\xaa" /* U+202A */, "A\xe2\x80\xae" /* U+202E */,
                                    "\xe2\x81\xa6"
                                    "B" /* U+2066 */,
                                    "\xe2\x81\xa9" /* U+2069 */})
    EXPECT_TRUE(has_direction_control(control)) << control;
  for (const std::string plain : {"", "MUGISHA", "\xe2\x80\x8e" /* U+200E LRM */,
                                  "\xe2\x80\x8f" /* U+200F RLM */, "\xe2\x80\xa9" /* U+2029 */,
                                  "\xe2\x81\xaa" /* U+206A */, "\xd9\x85\xd8\xad\xd9\x85\xd8\xaf",
                                  "\xff\xe2\x80\xae" /* malformed first: valid_text's to refuse */})
    EXPECT_FALSE(has_direction_control(plain)) << plain;
}

// The ids nodes give permits and alerts, `<site>-<seq>`, and what only looks like one.
TEST(Validate, GeneratedIdFormIsASiteIdADashAndDigits) {
  for (const std::string given : {"gatuna-1", "gatuna-30", "kigali-airport-7", "hq-12345678901"})
    EXPECT_TRUE(generated_id_form(given)) << given;
  for (const std::string chosen : {"WP-2026-0001", "gatuna", "gatuna-", "-30", "gatuna-3a",
                                   "Gatuna-30", "9gatuna-30", "gatuna_30", "A-77", "gatuna-30.1"})
    EXPECT_FALSE(generated_id_form(chosen)) << chosen;
}

// Peer endpoints as `init --peer` and node.toml's [peer] listen take them.
TEST(Validate, TcpEndpointsHaveAHostAndAPortFrom1To65535) {
  for (const std::string ok : {"tcp://127.0.0.1:7500", "tcp://*:7500", "tcp://[::1]:7500",
                               "tcp://gatuna.dgie.gov.rw:1", "tcp://hq-1:65535"})
    EXPECT_TRUE(valid_tcp_endpoint(ok)) << ok;
  for (const std::string& bad : std::vector<std::string>{
           "tcp://x:-1", "tcp://a b:1", "tcp://127.0.0.1:99999", "tcp://127.0.0.1:0", "tcp://:7500",
           "tcp://127.0.0.1", "tcp://127.0.0.1:", "udp://127.0.0.1:7500", "tcp://h:75a0",
           "tcp://[::1:7500", "tcp://h;rm:1", "tcp://" + std::string(130, 'h') + ":1"})
    EXPECT_FALSE(valid_tcp_endpoint(bad)) << bad;
}

}  // namespace
}  // namespace umupaka

// ECCSI (RFC 6507): the Appendix A known answers, round trips, and every refusal of validate and verify.
#include "test_support.h"
#include "m2msec/ibc/eccsi.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "m2msec/core/encoding.h"
#include "m2msec/crypto/random.h"

namespace m2msec::ibc {
namespace {

using test::ConstantRng;
using test::h;
using test::QueueRng;
using test::upper;

// RFC 6507 Appendix A (NIST P-256, SHA-256). The same values are reproduced in third-party ECCSI test suites
// and were recomputed independently for /work/shared/spec/spec-A-provisioning.md §8.1.
constexpr std::string_view kKsak = "0000000000000000000000000000000000000000000000000000000000012345";
constexpr std::string_view kV = "0000000000000000000000000000000000000000000000000000000000023456";
constexpr std::string_view kJ = "0000000000000000000000000000000000000000000000000000000000034567";
// "2011-02\0tel:+447700900123\0"
constexpr std::string_view kId = "323031312D30320074656C3A2B34343737303039303031323300";
// "message\0"
constexpr std::string_view kMessage = "6D65737361676500";
constexpr std::string_view kKpak =
    "0450D4670BDE75244F28D2838A0D25558A7A72686D4522D4C8273FB6442AEBFA93"
    "DBDD37551AFD263B5DFD617F3960C65A8C298850FF99F20366DCE7D4367217F4";
constexpr std::string_view kPvt =
    "04758A142779BE89E829E71984CB40EF758CC4AD775FC5B9A3E1C8ED52F6FA36D9"
    "A79D247692F4EDA3A6BDAB77D6AA6474A464AE4934663C5265BA7018BA091F79";
constexpr std::string_view kHs = "490F3FEBBC1C902F6289723D7F8CBF79DB88930849D19F38F0295B5C276C14D1";
constexpr std::string_view kSsk = "23F374AE1F4033F3E9DBDDAAEF20F4CF0B86BBD5A138A5AE9E7E006B34489A0D";
constexpr std::string_view kR = "269D4C8FDEB66A74E4EF8C0D5DCC597DDFE6029C2AFFC4936008CD2CC1045D81";
constexpr std::string_view kS = "E09B528D0EF8D6DF1AA3ECBF80110CFCEC9FC68252CEBB679F4134846940CCFD";

// NIST P-256 (FIPS 186-4 D.1.2.3 / SEC 2 2.4.2): the group order q and the field prime p.
constexpr std::string_view kQ = "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";
constexpr std::string_view kP = "FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF";

void expect_crypto(const Result<void>& r, std::string_view what) {
  ASSERT_FALSE(r.has_value()) << what;
  EXPECT_EQ(r.error().category(), Category::kCrypto) << what << ": " << r.error().to_string();
}
template <typename T>
void expect_crypto(const Result<T>& r, std::string_view what) {
  ASSERT_FALSE(r.has_value()) << what;
  EXPECT_EQ(r.error().category(), Category::kCrypto) << what << ": " << r.error().to_string();
}

EccsiUserKey user_key(ByteView ssk, ByteView pvt) { return {SecretBytes::copy_of(ssk), Bytes(pvt.begin(), pvt.end())}; }

// A KMS, a validated signer for `id` and its KPAK, from the system RNG.
struct Fixture {
  EccsiKms kms;
  EccsiUserKey key;
  EccsiSigner signer;
};
Fixture make_fixture(ByteView id) {
  auto kms = EccsiKms::generate();
  M2MSEC_CHECK(kms.has_value());
  auto key = kms->issue(id);
  M2MSEC_CHECK(key.has_value());
  auto signer = EccsiSigner::validate(kms->kpak(), id, user_key(key->ssk.view(), key->pvt));
  M2MSEC_CHECK(signer.has_value());
  return {std::move(*kms), std::move(*key), std::move(*signer)};
}

// RFC 6507 Appendix A, end to end: KSAK, v and j as the RFC chooses them.
TEST(EccsiRfc6507, AppendixAKnownAnswers) {
  auto kms = EccsiKms::from_secret(h(kKsak));
  ASSERT_TRUE(kms) << kms.error().to_string();
  EXPECT_EQ(upper(kms->kpak()), kKpak);

  QueueRng v_rng({h(kV)});
  auto key = kms->issue(h(kId), v_rng);
  ASSERT_TRUE(key) << key.error().to_string();
  EXPECT_EQ(v_rng.used(), 1u);
  EXPECT_EQ(upper(key->pvt), kPvt);
  EXPECT_EQ(upper(key->ssk.view()), kSsk);

  auto signer = EccsiSigner::validate(kms->kpak(), h(kId), std::move(*key));
  ASSERT_TRUE(signer) << signer.error().to_string();
  EXPECT_EQ(upper(signer->hs()), kHs);
  EXPECT_EQ(upper(signer->pvt()), kPvt);

  QueueRng j_rng({h(kJ)});
  auto sig = signer->sign(h(kMessage), j_rng);
  ASSERT_TRUE(sig) << sig.error().to_string();
  ASSERT_EQ(sig->size(), kEccsiSignatureSize);
  EXPECT_EQ(upper(ByteView(*sig).subspan(0, 32)), kR);
  EXPECT_EQ(upper(ByteView(*sig).subspan(32, 32)), kS);
  EXPECT_EQ(upper(*sig), std::string(kR) + std::string(kS) + std::string(kPvt));

  auto ok = eccsi_verify(h(kKpak), h(kId), h(kMessage), *sig);
  EXPECT_TRUE(ok) << ok.error().to_string();
}

// The RFC's published pair and signature, taken as given (not produced by our KMS or signer).
TEST(EccsiRfc6507, PublishedPairValidatesAndPublishedSignatureVerifies) {
  auto signer = EccsiSigner::validate(h(kKpak), h(kId), user_key(h(kSsk), h(kPvt)));
  ASSERT_TRUE(signer) << signer.error().to_string();
  EXPECT_EQ(upper(signer->hs()), kHs);
  const Bytes sig = concat({h(kR), h(kS), h(kPvt)});
  auto ok = eccsi_verify(h(kKpak), h(kId), h(kMessage), sig);
  EXPECT_TRUE(ok) << ok.error().to_string();
}

// Draws of 0, q and 2^256 - 1 are rejected and drawn again; the result is that of the next draw.
TEST(EccsiRfc6507, RejectionSamplingDrawsAgain) {
  auto kms = EccsiKms::from_secret(h(kKsak));
  ASSERT_TRUE(kms);
  QueueRng v_rng({Bytes(32, 0x00), h(kQ), Bytes(32, 0xFF), h(kV)});
  auto key = kms->issue(h(kId), v_rng);
  ASSERT_TRUE(key) << key.error().to_string();
  EXPECT_EQ(v_rng.used(), 4u);
  EXPECT_EQ(upper(key->pvt), kPvt);
  EXPECT_EQ(upper(key->ssk.view()), kSsk);

  auto signer = EccsiSigner::validate(kms->kpak(), h(kId), std::move(*key));
  ASSERT_TRUE(signer);
  QueueRng j_rng({h(kQ), Bytes(32, 0x00), h(kJ)});
  auto sig = signer->sign(h(kMessage), j_rng);
  ASSERT_TRUE(sig) << sig.error().to_string();
  EXPECT_EQ(j_rng.used(), 3u);
  EXPECT_EQ(upper(*sig), std::string(kR) + std::string(kS) + std::string(kPvt));
}

// An RNG that only ever gives out-of-range values (or fails) makes the operation fail instead of looping.
TEST(EccsiRfc6507, BrokenRngFails) {
  ConstantRng zeros(0x00);
  auto kms = EccsiKms::generate(zeros);
  ASSERT_FALSE(kms);
  EXPECT_EQ(kms.error().category(), Category::kInternal);

  auto good = EccsiKms::from_secret(h(kKsak));
  ASSERT_TRUE(good);
  ConstantRng ones(0xFF);
  auto key = good->issue(h(kId), ones);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().category(), Category::kInternal);

  QueueRng empty({});
  auto key2 = good->issue(h(kId), empty);
  ASSERT_FALSE(key2);
}

TEST(EccsiRoundTrip, SystemRngSeveralIdentitiesAndMessages) {
  auto kms = EccsiKms::generate();
  ASSERT_TRUE(kms) << kms.error().to_string();
  EXPECT_EQ(kms->ksak().size(), kEccsiScalarSize);
  EXPECT_EQ(kms->kpak().size(), kEccsiPointSize);
  for (int i = 0; i < 10; ++i) {
    auto id = crypto::random_bytes(crypto::system_rng(), 1 + static_cast<std::size_t>(i) * 7);
    auto msg = crypto::random_bytes(crypto::system_rng(), static_cast<std::size_t>(i) * 13);
    ASSERT_TRUE(id && msg);
    auto key = kms->issue(*id);
    ASSERT_TRUE(key) << key.error().to_string();
    EXPECT_EQ(key->ssk.size(), kEccsiScalarSize);
    EXPECT_EQ(key->pvt.size(), kEccsiPointSize);
    auto signer = EccsiSigner::validate(kms->kpak(), *id, std::move(*key));
    ASSERT_TRUE(signer) << signer.error().to_string();
    auto sig = signer->sign(*msg);
    ASSERT_TRUE(sig) << sig.error().to_string();
    EXPECT_EQ(sig->size(), kEccsiSignatureSize);
    auto ok = eccsi_verify(kms->kpak(), *id, *msg, *sig);
    EXPECT_TRUE(ok) << ok.error().to_string();
    // Two signatures of one message differ (fresh j) and both verify.
    auto sig2 = signer->sign(*msg);
    ASSERT_TRUE(sig2);
    EXPECT_NE(*sig, *sig2);
    EXPECT_TRUE(eccsi_verify(kms->kpak(), *id, *msg, *sig2));
  }
}

TEST(EccsiKmsInput, KsakRefusals) {
  expect_crypto(EccsiKms::from_secret(Bytes(32, 0x00)), "KSAK = 0");
  expect_crypto(EccsiKms::from_secret(h(kQ)), "KSAK = q");
  expect_crypto(EccsiKms::from_secret(Bytes(32, 0xFF)), "KSAK = 2^256 - 1");
  expect_crypto(EccsiKms::from_secret(Bytes(31, 0x01)), "KSAK of 31 octets");
  expect_crypto(EccsiKms::from_secret(Bytes(33, 0x01)), "KSAK of 33 octets");
  expect_crypto(EccsiKms::from_secret({}), "empty KSAK");
  // q - 1 is the largest KSAK.
  Bytes q_minus_1 = h(kQ);
  q_minus_1.back() -= 1;
  EXPECT_TRUE(EccsiKms::from_secret(q_minus_1));
}

TEST(EccsiVerifyNegative, TamperedSignatureWrongIdMessageKpak) {
  const Bytes id = h(kId);
  const Bytes msg = h(kMessage);
  const Bytes sig = concat({h(kR), h(kS), h(kPvt)});
  ASSERT_TRUE(eccsi_verify(h(kKpak), id, msg, sig));

  // One bit of each part of the signature.
  for (std::size_t pos : {std::size_t{0}, std::size_t{31}, std::size_t{32}, std::size_t{63}, std::size_t{64},
                          std::size_t{65}, std::size_t{96}, std::size_t{97}, std::size_t{128}}) {
    Bytes bad = sig;
    bad[pos] ^= 0x01;
    expect_crypto(eccsi_verify(h(kKpak), id, msg, bad), "flipped octet " + std::to_string(pos));
  }
  // Another identity, another message, another KMS's KPAK.
  Bytes other_id = id;
  other_id[6] = '1';  // "2011-01..."
  expect_crypto(eccsi_verify(h(kKpak), other_id, msg, sig), "wrong identity");
  expect_crypto(eccsi_verify(h(kKpak), id, as_bytes("message"), sig), "message without its NUL");
  expect_crypto(eccsi_verify(h(kKpak), id, concat({msg, Bytes{0}}), sig), "longer message");
  auto other_kms = EccsiKms::generate();
  ASSERT_TRUE(other_kms);
  expect_crypto(eccsi_verify(other_kms->kpak(), id, msg, sig), "another KPAK");
  // A KPAK that is not a point.
  Bytes bad_kpak = h(kKpak);
  bad_kpak.back() ^= 0x01;
  expect_crypto(eccsi_verify(bad_kpak, id, msg, sig), "KPAK off the curve");
  expect_crypto(eccsi_verify(ByteView(h(kKpak)).subspan(1), id, msg, sig), "KPAK without 0x04");
}

TEST(EccsiVerifyNegative, SignatureLengthsAndEncodings) {
  const Bytes sig = concat({h(kR), h(kS), h(kPvt)});
  expect_crypto(eccsi_verify(h(kKpak), h(kId), h(kMessage), ByteView(sig).first(128)), "128 octets");
  expect_crypto(eccsi_verify(h(kKpak), h(kId), h(kMessage), concat({sig, Bytes{0}})), "130 octets");
  expect_crypto(eccsi_verify(h(kKpak), h(kId), h(kMessage), {}), "empty");
  // PVT as 0x00 || ... (an infinity marker) or a compressed prefix, at the right overall length.
  Bytes infinity = sig;
  std::fill(infinity.begin() + 64, infinity.end(), 0x00);
  expect_crypto(eccsi_verify(h(kKpak), h(kId), h(kMessage), infinity), "PVT all zero");
  Bytes compressed = sig;
  compressed[64] = 0x02;
  expect_crypto(eccsi_verify(h(kKpak), h(kId), h(kMessage), compressed), "PVT with prefix 0x02");
  Bytes hybrid = sig;
  hybrid[64] = 0x07;
  expect_crypto(eccsi_verify(h(kKpak), h(kId), h(kMessage), hybrid), "PVT with prefix 0x07");
}

// r and s range checks: r in [1, p-1], s in [1, q-1]. r = s = 0 is the classic forgery against a verifier
// without them (J = O, whose "x" is 0).
TEST(EccsiVerifyNegative, RAndSOutOfRange) {
  const Bytes zero(32, 0x00);
  const Bytes pvt = h(kPvt);
  const Bytes kpak = h(kKpak);
  const Bytes id = h(kId);
  const Bytes msg = h(kMessage);
  expect_crypto(eccsi_verify(kpak, id, msg, concat({zero, zero, pvt})), "r = 0, s = 0");
  expect_crypto(eccsi_verify(kpak, id, msg, concat({zero, h(kS), pvt})), "r = 0");
  expect_crypto(eccsi_verify(kpak, id, msg, concat({h(kR), zero, pvt})), "s = 0");
  expect_crypto(eccsi_verify(kpak, id, msg, concat({h(kR), h(kQ), pvt})), "s = q");
  Bytes q_plus_1 = h(kQ);
  q_plus_1.back() += 1;
  expect_crypto(eccsi_verify(kpak, id, msg, concat({h(kR), q_plus_1, pvt})), "s = q + 1");
  expect_crypto(eccsi_verify(kpak, id, msg, concat({h(kR), Bytes(32, 0xFF), pvt})), "s = 2^256 - 1");
  expect_crypto(eccsi_verify(kpak, id, msg, concat({h(kP), h(kS), pvt})), "r = p");
  expect_crypto(eccsi_verify(kpak, id, msg, concat({Bytes(32, 0xFF), h(kS), pvt})), "r = 2^256 - 1");
  // r with its top bit changed (still in range) no longer matches Jx.
  Bytes r_top = h(kR);
  r_top[0] ^= 0x80;
  expect_crypto(eccsi_verify(kpak, id, msg, concat({r_top, h(kS), pvt})), "r with its top bit flipped");
}

// PVT off the curve (one coordinate octet changed): refused by validate and by verify.
TEST(EccsiValidateNegative, PvtOffCurve) {
  for (std::size_t pos : {std::size_t{1}, std::size_t{20}, std::size_t{33}, std::size_t{64}}) {
    Bytes pvt = h(kPvt);
    pvt[pos] ^= 0x04;
    expect_crypto(EccsiSigner::validate(h(kKpak), h(kId), user_key(h(kSsk), pvt)), "PVT off the curve (validate)");
    expect_crypto(eccsi_verify(h(kKpak), h(kId), h(kMessage), concat({h(kR), h(kS), pvt})),
                  "PVT off the curve (verify)");
  }
}

TEST(EccsiValidateNegative, SskAndEncodingRefusals) {
  const Bytes kpak = h(kKpak);
  const Bytes id = h(kId);
  const Bytes pvt = h(kPvt);
  expect_crypto(EccsiSigner::validate(kpak, id, user_key(Bytes(32, 0x00), pvt)), "SSK = 0");
  expect_crypto(EccsiSigner::validate(kpak, id, user_key(h(kQ), pvt)), "SSK = q");
  expect_crypto(EccsiSigner::validate(kpak, id, user_key(Bytes(32, 0xFF), pvt)), "SSK = 2^256 - 1");
  expect_crypto(EccsiSigner::validate(kpak, id, user_key(ByteView(h(kSsk)).subspan(1), pvt)), "SSK of 31 octets");
  expect_crypto(EccsiSigner::validate(kpak, id, user_key(concat({Bytes{0}, h(kSsk)}), pvt)), "SSK of 33 octets");
  expect_crypto(EccsiSigner::validate(kpak, id, user_key(h(kSsk), ByteView(pvt).subspan(1))), "PVT of 64 octets");
  expect_crypto(EccsiSigner::validate(kpak, id, user_key(h(kSsk), concat({pvt, Bytes{0}}))), "PVT of 66 octets");
  expect_crypto(EccsiSigner::validate(ByteView(kpak).first(33), id, user_key(h(kSsk), pvt)), "KPAK of 33 octets");
  // A different (valid) SSK, identity or KPAK.
  Bytes ssk = h(kSsk);
  ssk.back() ^= 0x02;
  expect_crypto(EccsiSigner::validate(kpak, id, user_key(ssk, pvt)), "another SSK");
  Bytes other_id = id;
  other_id[6] = '1';
  expect_crypto(EccsiSigner::validate(kpak, other_id, user_key(h(kSsk), pvt)), "another identity");
  auto other_kms = EccsiKms::generate();
  ASSERT_TRUE(other_kms);
  expect_crypto(EccsiSigner::validate(other_kms->kpak(), id, user_key(h(kSsk), pvt)), "another KPAK");
}

// The SSK of one issue with the PVT of another issue for the same identity.
TEST(EccsiValidateNegative, SskAndPvtOfDifferentIssues) {
  const ByteView alice = as_bytes("alice@example.org");
  const Bytes id(alice.begin(), alice.end());
  auto kms = EccsiKms::generate();
  ASSERT_TRUE(kms);
  auto a = kms->issue(id);
  auto b = kms->issue(id);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->pvt, b->pvt);
  EXPECT_TRUE(EccsiSigner::validate(kms->kpak(), id, user_key(a->ssk.view(), a->pvt)));
  EXPECT_TRUE(EccsiSigner::validate(kms->kpak(), id, user_key(b->ssk.view(), b->pvt)));
  expect_crypto(EccsiSigner::validate(kms->kpak(), id, user_key(a->ssk.view(), b->pvt)), "SSK a, PVT b");
  expect_crypto(EccsiSigner::validate(kms->kpak(), id, user_key(b->ssk.view(), a->pvt)), "SSK b, PVT a");
}

// Random keys: the signature binds identity, message, KPAK and each of its parts.
TEST(EccsiVerifyNegative, RandomKeysTampering) {
  const Bytes id = h("0102030405");
  Fixture f = make_fixture(id);
  const Bytes msg = h("DEADBEEF");
  auto sig = f.signer.sign(msg);
  ASSERT_TRUE(sig);
  ASSERT_TRUE(eccsi_verify(f.kms.kpak(), id, msg, *sig));
  for (std::size_t pos = 0; pos < sig->size(); pos += 5) {
    Bytes bad = *sig;
    bad[pos] ^= 0x10;
    expect_crypto(eccsi_verify(f.kms.kpak(), id, msg, bad), "flipped octet " + std::to_string(pos));
  }
  expect_crypto(eccsi_verify(f.kms.kpak(), h("0102030406"), msg, *sig), "wrong identity");
  expect_crypto(eccsi_verify(f.kms.kpak(), id, h("DEADBEEE"), *sig), "wrong message");
  expect_crypto(eccsi_verify(f.kms.kpak(), id, {}, *sig), "empty message");
  Fixture other = make_fixture(id);
  expect_crypto(eccsi_verify(other.kms.kpak(), id, msg, *sig), "wrong KPAK");
  // The PVT of another user key for the same identity and KMS, swapped into the signature.
  auto key2 = f.kms.issue(id);
  ASSERT_TRUE(key2);
  Bytes swapped = *sig;
  std::copy(key2->pvt.begin(), key2->pvt.end(), swapped.begin() + 64);
  expect_crypto(eccsi_verify(f.kms.kpak(), id, msg, swapped), "PVT of another issue");
}

}  // namespace
}  // namespace m2msec::ibc

// SAKKE (RFC 6508, parameter set 1 of RFC 6509): the Appendix A known answers (g = <P, P> first), round trips,
// and the refusals of validation and decapsulation.
#include "test_support.h"
#include "m2msec/ibc/sakke.h"

#include <openssl/bn.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
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

// RFC 6509 Appendix A, parameter set 1 (as published; the same text is reproduced in third-party MIKEY-SAKKE
// code). Typed here independently of src/ibc/sakke.cpp.
constexpr std::string_view kP =
    "997ABB1F0A563FDA65C61198DAD0657A416C0CE19CB48261BE9AE358B3E01A2E"
    "F40AAB27E2FC0F1B228730D531A59CB0E791B39FF7C88A19356D27F4A666A6D0"
    "E26C6487326B4CD4512AC5CD65681CE1B6AFF4A831852A82A7CF3C521C3C09AA"
    "9F94D6AF56971F1FFCE3E82389857DB080C5DF10AC7ACE87666D807AFEA85FEB";
constexpr std::string_view kQ =
    "265EAEC7C2958FF69971846636B4195E905B0338672D20986FA6B8D62CF8068B"
    "BD02AAC9F8BF03C6C8A1CC354C69672C39E46CE7FDF222864D5B49FD2999A9B4"
    "389B1921CC9AD335144AB173595A07386DABFD2A0C614AA0A9F3CF14870F026A"
    "A7E535ABD5A5C7C7FF38FA08E2615F6C203177C42B1EB3A1D99B601EBFAA17FB";
constexpr std::string_view kPx =
    "53FC09EE332C29AD0A7990053ED9B52A2B1A2FD60AEC69C698B2F204B6FF7CBF"
    "B5EDB6C0F6CE2308AB10DB9030B09E1043D5F22CDB9DFA55718BD9E7406CE890"
    "9760AF765DD5BCCB337C86548B72F2E1A702C3397A60DE74A7C1514DBA66910D"
    "D5CFB4CC80728D87EE9163A5B63F73EC80EC46C4967E0979880DC8ABEAE63895";
constexpr std::string_view kPy =
    "0A8249063F6009F1F9F1F0533634A135D3E82016029906963D778D821E141178"
    "F5EA69F4654EC2B9E7F7F5E5F0DE55F66B598CCF9A140B2E416CFF0CA9E032B9"
    "70DAE117AD547C6CCAD696B5B7652FE0AC6F1E80164AA989492D979FC5A4D5F2"
    "13515AD7E9CB99A980BDAD5AD5BB4636ADB9B5706A67DCDE75573FD71BEF16D7";
constexpr std::string_view kG =
    "66FC2A432B6EA392148F15867D623068C6A87BD1FB94C41E27FABE658E015A87"
    "371E94744C96FEDA449AE9563F8BC446CBFDA85D5D00EF577072DA8F541721BE"
    "EE0FAED1828EAB90B99DFB0138C7843355DF0460B4A9FD74B4F1A32BCAFA1FFA"
    "D682C033A7942BCCE3720F20B9B7B0403C8CAE87B7A0042ACDE0FAB36461EA46";

// RFC 6508 Appendix A.
constexpr std::string_view kZ = "AFF429D35F84B110D094803B3595A6E2998BC99F";
constexpr std::string_view kZsX =
    "5958EF1B1679BF099B3A030DF255AA6A23C1D8F143D4D23F753E69BD27A832F3"
    "8CB4AD53DDEF4260B0FE8BB45C4C1FF510EFFE300367A37B61F701D914AEF097"
    "24825FA0707D61A6DFF4FBD7273566CDDE352A0B04B7C16A78309BE640697DE7"
    "47613A5FC195E8B9F328852A579DB8F99B1D0034479EA9C5595F47C4B2F54FF2";
constexpr std::string_view kZsY =
    "1508D37514DCF7A8E143A6058C09A6BF2C9858CA37C258065AE6BF7532BC8B5B"
    "63383866E0753C5AC0E72709F8445F2E6178E065857E0EDA10F68206B63505ED"
    "87E534FB2831FF957FB7DC619DAE61301EEACC2FDA3680EA4999258A833CEA8F"
    "C67C6D19487FB449059F26CC8AAB655AB58B7CC796E24E9A394095754F5F8BAE";
// b = "2011-02\0tel:+447700900123\0"
constexpr std::string_view kId = "323031312D30320074656C3A2B34343737303039303031323300";
constexpr std::string_view kRskX =
    "93AF67E5007BA6E6A80DA793DA300FA4B52D0A74E25E6E7B2B3D6EE9D18A9B5C"
    "5023597BD82D8062D34019563BA1D25C0DC56B7B979D74AA50F29FBF11CC2C93"
    "F5DFCA615E609279F6175CEADB00B58C6BEE1E7A2A47C4F0C456F05259A6FA94"
    "A634A40DAE1DF593D4FECF688D5FC678BE7EFC6DF3D6835325B83B2C6E69036B";
constexpr std::string_view kRskY =
    "155F0A27241094B04BFB0BDFAC6C670A65C325D39A069F03659D44CA27D3BE8D"
    "F311172B554160181CBE94A2A783320CED590BC42644702CF371271E496BF20F"
    "588B78A1BC01ECBB6559934BDD2FB65D2884318A33D1A42ADF5E33CC5800280B"
    "28356497F87135BAB9612A17260424409AC15FEE996B744C332151235DECB0F5";
constexpr std::string_view kSsv = "123456789ABCDEF0123456789ABCDEF0";
constexpr std::string_view kR =
    "13EE3E1B8DAC5DB168B1CEB32F0566A4C273693F78BAFFA2A2EE6A686E6BD90F"
    "8206CCAB84E7F42ED39BD4FB131012ECCA2ECD2119414560C17CAB46B956A80F"
    "58A3302EB3E2C9A228FBA7ED34D8ACA2392DA1FFB0B17B2320AE09AAEDFD0235"
    "F6FE0EB65337A63F9CC97728B8E5AD0460FADE144369AA5B2166213247712096";
constexpr std::string_view kRbX =
    "44E8AD44AB8592A6A5A3DDCA5CF896C718043606A01D650DEF37A01F37C228C3"
    "32FC317354E2C274D4DAF8AD001054C76CE57971C6F4486D5723043261C506EB"
    "F5BE438F53DE04F067C776E0DD3B71A6290133283725A532F21AF145126DC1D7"
    "77ECC27BE50835BD28098B8A73D9F801D893793A41FF5C49B87E79F2BE4D56CE";
constexpr std::string_view kRbY =
    "557E134AD85BB1D4B9CE4F8BE4B08A12BABF55B1D6F1D7A638019EA28E15AB1C"
    "9F76375FDD1210D4F4351B9A009486B7F3ED46C965DED2D80DADE4F38C6721D5"
    "2C3AD103A10EBD2959248B4EF006836BF097448E6107C9EDEE9FB704823DF199"
    "F832C905AE45F8A247A072D8EF729EABC5E27574B07739B34BE74A532F747B86";
constexpr std::string_view kGr =
    "7D2A8438E6291C649B6579EB3B79EAE948B1DE9E5F7D1F4070A08F8DB6B3C515"
    "6F2201AFFBB5CB9D82AA3EC0D0398B89ABC78A13A760C0BF3F77E63D0DF3F1A3"
    "41A41B8811DF197FD6CD0F003125606F4F109F400F7292A10D255E3C0EBCCB42"
    "53FB182C68F09CF6CD9C4A53DA6C74AD007AF36B8BCA979D5895E282F483FCD6";
constexpr std::string_view kMask = "9BD4EA1E801D37E62AD2FAB0D4F5BBF7";
constexpr std::string_view kH = "89E0BC661AA1E91638E6ACC84E496507";

Bytes point(std::string_view x, std::string_view y) { return concat({Bytes{0x04}, h(x), h(y)}); }
Bytes generator() { return point(kPx, kPy); }
Bytes rfc_zs() { return point(kZsX, kZsY); }
Bytes rfc_rsk() { return point(kRskX, kRskY); }
Bytes rfc_data() { return concat({point(kRbX, kRbY), h(kH)}); }

struct BnDel {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnDel>;
Bn bn(std::string_view hex) {
  BIGNUM* out = nullptr;
  const std::string text(hex);
  M2MSEC_CHECK(BN_hex2bn(&out, text.c_str()) == static_cast<int>(text.size()));
  return Bn(out);
}
Bytes octets(const BIGNUM* x, int size) {
  Bytes out(static_cast<std::size_t>(size));
  M2MSEC_CHECK(BN_bn2binpad(x, out.data(), size) == size);
  return out;
}

// ---- Parameters -------------------------------------------------------------------------------------------

TEST(SakkeParams, Rfc6509SetOneIsConsistent) {
  Bn p = bn(kP);
  Bn q = bn(kQ);
  BN_CTX* ctx = BN_CTX_new();
  EXPECT_EQ(BN_num_bits(p.get()), 1024);
  EXPECT_EQ(BN_check_prime(p.get(), ctx, nullptr), 1);
  EXPECT_EQ(BN_check_prime(q.get(), ctx, nullptr), 1);
  EXPECT_EQ(BN_mod_word(p.get(), 4), 3u);  // p = 3 mod 4
  Bn four_q(BN_dup(q.get()));
  ASSERT_EQ(BN_mul_word(four_q.get(), 4), 1);
  Bn p_plus_1(BN_dup(p.get()));
  ASSERT_EQ(BN_add_word(p_plus_1.get(), 1), 1);
  EXPECT_EQ(BN_cmp(four_q.get(), p_plus_1.get()), 0);  // q = (p + 1) / 4
  // P on y^2 = x^3 - 3x.
  Bn x = bn(kPx);
  Bn y = bn(kPy);
  Bn lhs(BN_new());
  Bn rhs(BN_new());
  Bn t(BN_new());
  ASSERT_EQ(BN_mod_sqr(lhs.get(), y.get(), p.get(), ctx), 1);
  ASSERT_EQ(BN_mod_sqr(t.get(), x.get(), p.get(), ctx), 1);
  ASSERT_EQ(BN_sub_word(t.get(), 3), 1);
  ASSERT_EQ(BN_mod_mul(rhs.get(), t.get(), x.get(), p.get(), ctx), 1);
  EXPECT_EQ(BN_cmp(lhs.get(), rhs.get()), 0);
  BN_CTX_free(ctx);
}

// ---- RFC 6508 Appendix A ----------------------------------------------------------------------------------

TEST(SakkeKat, PairingOfPWithPIsG) {
  auto w = sakke_internal::pairing(generator(), generator());
  ASSERT_TRUE(w.has_value()) << w.error().detail();
  EXPECT_EQ(upper(*w), kG);
}

TEST(SakkeKat, KmsPublicKeyFromZ) {
  auto kms = SakkeKms::from_secret(h(kZ));
  ASSERT_TRUE(kms.has_value()) << kms.error().detail();
  EXPECT_EQ(upper(kms->public_key()), upper(rfc_zs()));
  EXPECT_EQ(upper(kms->z().view()), kZ);
}

TEST(SakkeKat, ReceiverSecretKeyFromZAndIdentity) {
  auto kms = SakkeKms::from_secret(h(kZ));
  ASSERT_TRUE(kms.has_value());
  auto rsk = kms->receiver_key(h(kId));
  ASSERT_TRUE(rsk.has_value()) << rsk.error().detail();
  EXPECT_EQ(upper(rsk->view()), upper(rfc_rsk()));
}

TEST(SakkeKat, RskValidates) {
  auto ok = sakke_validate_receiver_key(rfc_zs(), h(kId), rfc_rsk());
  EXPECT_TRUE(ok.has_value()) << ok.error().detail();
}

TEST(SakkeKat, HashToIntegerRangeGivesR) {
  auto r = sakke_internal::hash_to_integer_range(concat({h(kSsv), h(kId)}), h(kQ));
  ASSERT_TRUE(r.has_value()) << r.error().detail();
  EXPECT_EQ(upper(r->view()), kR);
}

TEST(SakkeKat, GToTheRAndMask) {
  auto gr = sakke_internal::pf_p_pow(h(kG), h(kR));
  ASSERT_TRUE(gr.has_value()) << gr.error().detail();
  EXPECT_EQ(upper(gr->view()), kGr);
  // 2^n with n = 128.
  auto mask = sakke_internal::hash_to_integer_range(h(kGr), h("0100000000000000000000000000000000"));
  ASSERT_TRUE(mask.has_value());
  EXPECT_EQ(upper(mask->view()), "00" + std::string(kMask));
}

TEST(SakkeKat, PairingOfRAndRskIsGToTheR) {
  auto w = sakke_internal::pairing(point(kRbX, kRbY), rfc_rsk());
  ASSERT_TRUE(w.has_value()) << w.error().detail();
  EXPECT_EQ(upper(*w), kGr);
}

TEST(SakkeKat, EncapsulationWithTheRfcSsv) {
  QueueRng rng({h(kSsv)});
  auto enc = sakke_encapsulate(rfc_zs(), h(kId), rng);
  ASSERT_TRUE(enc.has_value()) << enc.error().detail();
  EXPECT_EQ(rng.used(), 1u);
  EXPECT_EQ(upper(enc->ssv.view()), kSsv);
  ASSERT_EQ(enc->data.size(), kSakkeEncapsulatedSize);
  EXPECT_EQ(upper(ByteView(enc->data).subspan(0, kSakkePointSize)), upper(point(kRbX, kRbY)));
  EXPECT_EQ(upper(ByteView(enc->data).subspan(kSakkePointSize)), kH);
}

TEST(SakkeKat, DecapsulationGivesTheSsv) {
  auto ssv = sakke_decapsulate(rfc_zs(), h(kId), rfc_rsk(), rfc_data());
  ASSERT_TRUE(ssv.has_value()) << ssv.error().detail();
  EXPECT_EQ(upper(ssv->view()), kSsv);
}

// ---- Round trips ------------------------------------------------------------------------------------------

TEST(SakkeRoundTrip, GeneratedKmsEncapsulateDecapsulate) {
  auto kms = SakkeKms::generate();
  ASSERT_TRUE(kms.has_value()) << kms.error().detail();
  const ByteView id_view = as_bytes("test@example.org");
  const Bytes id(id_view.begin(), id_view.end());
  auto rsk = kms->receiver_key(id);
  ASSERT_TRUE(rsk.has_value());
  EXPECT_TRUE(sakke_validate_receiver_key(kms->public_key(), id, rsk->view()).has_value());
  for (int i = 0; i < 3; ++i) {
    auto enc = sakke_encapsulate(kms->public_key(), id);
    ASSERT_TRUE(enc.has_value()) << enc.error().detail();
    auto ssv = sakke_decapsulate(kms->public_key(), id, rsk->view(), enc->data);
    ASSERT_TRUE(ssv.has_value()) << ssv.error().detail();
    EXPECT_EQ(upper(ssv->view()), upper(enc->ssv.view()));
  }
}

TEST(SakkeRoundTrip, PairingIsBilinear) {
  // <[a]P, [c]P> = g^(ac): RSKs of the same KMS give [1/(b+z)]P; use the RFC KMS with two identities.
  auto kms = SakkeKms::from_secret(h(kZ));
  ASSERT_TRUE(kms.has_value());
  auto k1 = kms->receiver_key(as_bytes("alice"));
  auto k2 = kms->receiver_key(as_bytes("bob"));
  ASSERT_TRUE(k1.has_value() && k2.has_value());
  // <K1, K2> = <K2, K1> (symmetric for this pairing on a cyclic group).
  auto w12 = sakke_internal::pairing(k1->view(), k2->view());
  auto w21 = sakke_internal::pairing(k2->view(), k1->view());
  ASSERT_TRUE(w12.has_value() && w21.has_value());
  EXPECT_EQ(*w12, *w21);
}

// ---- KMS --------------------------------------------------------------------------------------------------

TEST(SakkeKms, FromSecretRefusesOutOfRange) {
  EXPECT_FALSE(SakkeKms::from_secret(Bytes{}).has_value());
  EXPECT_FALSE(SakkeKms::from_secret(Bytes(20, 0)).has_value());            // 0
  EXPECT_FALSE(SakkeKms::from_secret(h(kQ)).has_value());                   // q
  EXPECT_FALSE(SakkeKms::from_secret(Bytes(129, 1)).has_value());           // too long
  EXPECT_FALSE(SakkeKms::from_secret(Bytes(128, 0xFF)).has_value());        // > q
  auto one = SakkeKms::from_secret(Bytes{1});
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(upper(one->public_key()), upper(generator()));                 // [1]P = P
}

TEST(SakkeKms, GenerateRejectsDrawsAboveQ) {
  Bytes above(128, 0xFF);  // masked to 2^1022 - 1 > q: rejected
  Bytes good(128, 0);
  good[127] = 7;
  QueueRng rng({above, good});
  auto kms = SakkeKms::generate(rng);
  ASSERT_TRUE(kms.has_value()) << kms.error().detail();
  EXPECT_EQ(rng.used(), 2u);
  auto seven = SakkeKms::from_secret(Bytes{7});
  ASSERT_TRUE(seven.has_value());
  EXPECT_EQ(kms->public_key(), seven->public_key());

  ConstantRng stuck(0xFF);
  EXPECT_FALSE(SakkeKms::generate(stuck).has_value());
}

TEST(SakkeKms, NoKeyWhenBPlusZIsZero) {
  auto kms = SakkeKms::from_secret(Bytes{1});
  ASSERT_TRUE(kms.has_value());
  Bn q_minus_1 = bn(kQ);
  ASSERT_EQ(BN_sub_word(q_minus_1.get(), 1), 1);
  auto rsk = kms->receiver_key(octets(q_minus_1.get(), 128));
  ASSERT_FALSE(rsk.has_value());
  EXPECT_EQ(rsk.error().category(), Category::kCrypto);
}

// ---- Refusals ---------------------------------------------------------------------------------------------

template <typename T>
void expect_crypto_error(const Result<T>& r, std::string_view what) {
  ASSERT_FALSE(r.has_value()) << what;
  EXPECT_EQ(r.error().category(), Category::kCrypto) << what << ": " << r.error().detail();
}

Bytes order_two_point() { return concat({Bytes{0x04}, Bytes(128, 0), Bytes(128, 0)}); }  // (0, 0)

TEST(SakkeDecapsulate, TamperedHIsRefused) {
  Bytes data = rfc_data();
  data.back() ^= 0x01;
  expect_crypto_error(sakke_decapsulate(rfc_zs(), h(kId), rfc_rsk(), data), "tampered H");
}

TEST(SakkeDecapsulate, TamperedRIsRefused) {
  Bytes data = rfc_data();
  data[100] ^= 0x01;  // x changed: off the curve
  expect_crypto_error(sakke_decapsulate(rfc_zs(), h(kId), rfc_rsk(), data), "R off the curve");
  // A point of the curve that is not R: P itself, and the point (0, 0) of order 2.
  Bytes other = concat({generator(), h(kH)});
  expect_crypto_error(sakke_decapsulate(rfc_zs(), h(kId), rfc_rsk(), other), "R = P");
  Bytes two = concat({order_two_point(), h(kH)});
  expect_crypto_error(sakke_decapsulate(rfc_zs(), h(kId), rfc_rsk(), two), "R of order 2");
  Bytes compressed = rfc_data();
  compressed[0] = 0x02;
  expect_crypto_error(sakke_decapsulate(rfc_zs(), h(kId), rfc_rsk(), compressed), "R not 0x04");
}

TEST(SakkeDecapsulate, PointAtInfinityIsRefused) {
  Bytes inf = concat({Bytes(kSakkePointSize, 0), h(kH)});  // 0x00 || ... : not a 0x04 point
  expect_crypto_error(sakke_decapsulate(rfc_zs(), h(kId), rfc_rsk(), inf), "R = O");
  expect_crypto_error(sakke_decapsulate(Bytes{0x00}, h(kId), rfc_rsk(), rfc_data()), "Z = O");
  expect_crypto_error(sakke_decapsulate(rfc_zs(), h(kId), Bytes{0x00}, rfc_data()), "RSK = O");
}

TEST(SakkeDecapsulate, WrongIdentityIsRefused) {
  Bytes id = h(kId);
  id[id.size() - 2] ^= 0x01;  // ...124
  expect_crypto_error(sakke_decapsulate(rfc_zs(), id, rfc_rsk(), rfc_data()), "wrong identity");
}

TEST(SakkeDecapsulate, WrongRskIsRefused) {
  auto kms = SakkeKms::from_secret(h(kZ));
  ASSERT_TRUE(kms.has_value());
  auto other = kms->receiver_key(as_bytes("somebody else"));
  ASSERT_TRUE(other.has_value());
  expect_crypto_error(sakke_decapsulate(rfc_zs(), h(kId), other->view(), rfc_data()), "another identity's RSK");
  Bytes off = rfc_rsk();
  off.back() ^= 0x01;
  expect_crypto_error(sakke_decapsulate(rfc_zs(), h(kId), off, rfc_data()), "RSK off the curve");
  expect_crypto_error(sakke_decapsulate(rfc_zs(), h(kId), order_two_point(), rfc_data()), "RSK of order 2");
  // Another KMS's public key.
  auto kms2 = SakkeKms::from_secret(Bytes{0x42});
  ASSERT_TRUE(kms2.has_value());
  expect_crypto_error(sakke_decapsulate(kms2->public_key(), h(kId), rfc_rsk(), rfc_data()), "wrong Z_S");
}

TEST(SakkeEncapsulate, AZsOfSmallOrderIsRefused) {
  // (0, 0) is on y^2 = x^3 - 3x with order 2: a sender must not encapsulate to it (RFC 6508 2.2: Z_S has order q).
  expect_crypto_error(sakke_encapsulate(order_two_point(), h(kId)), "Z_S of order 2");
  expect_crypto_error(sakke_decapsulate(order_two_point(), h(kId), rfc_rsk(), rfc_data()), "Z_S of order 2");
}

TEST(SakkeDecapsulate, WrongLengthsAreRefused) {
  Bytes data = rfc_data();
  expect_crypto_error(sakke_decapsulate(rfc_zs(), h(kId), rfc_rsk(), ByteView(data).first(data.size() - 1)),
                      "short data");
  Bytes longer = concat({data, Bytes{0}});
  expect_crypto_error(sakke_decapsulate(rfc_zs(), h(kId), rfc_rsk(), longer), "long data");
  expect_crypto_error(sakke_decapsulate(rfc_zs(), h(kId), ByteView(rfc_rsk()).first(kSakkePointSize - 1), data),
                      "short RSK");
  expect_crypto_error(sakke_decapsulate(ByteView(rfc_zs()).first(kSakkePointSize - 1), h(kId), rfc_rsk(), data),
                      "short Z");
  expect_crypto_error(sakke_decapsulate(rfc_zs(), h(kId), rfc_rsk(), Bytes{}), "empty data");
}

TEST(SakkeValidate, RefusesWrongKeys) {
  Bytes id = h(kId);
  Bytes other_id = id;
  other_id[0] ^= 0x01;
  expect_crypto_error(sakke_validate_receiver_key(rfc_zs(), other_id, rfc_rsk()), "wrong identity");
  auto kms2 = SakkeKms::from_secret(Bytes{0x42});
  ASSERT_TRUE(kms2.has_value());
  expect_crypto_error(sakke_validate_receiver_key(kms2->public_key(), id, rfc_rsk()), "wrong Z_S");
  Bytes off = rfc_rsk();
  off[1] ^= 0x80;
  expect_crypto_error(sakke_validate_receiver_key(rfc_zs(), id, off), "RSK off the curve");
  expect_crypto_error(sakke_validate_receiver_key(rfc_zs(), id, order_two_point()), "RSK of order 2");
  expect_crypto_error(sakke_validate_receiver_key(rfc_zs(), id, generator()), "RSK = P (on the curve, not valid)");
  expect_crypto_error(sakke_validate_receiver_key(rfc_zs(), id, Bytes{0x00}), "RSK = O");
  expect_crypto_error(sakke_validate_receiver_key(rfc_zs(), id, ByteView(rfc_rsk()).first(200)), "short RSK");
  // The RFC RSK plus the point T = (0, 0) of order 2 is on the curve but not of order q: refused.
  // K + T: lambda = Ky / Kx, x3 = lambda^2 - Kx, y3 = -lambda x3.
  Bn p = bn(kP);
  Bn kx = bn(kRskX);
  Bn ky = bn(kRskY);
  Bn lambda(BN_new());
  Bn x3(BN_new());
  Bn y3(BN_new());
  BN_CTX* ctx = BN_CTX_new();
  ASSERT_NE(BN_mod_inverse(lambda.get(), kx.get(), p.get(), ctx), nullptr);
  ASSERT_EQ(BN_mod_mul(lambda.get(), lambda.get(), ky.get(), p.get(), ctx), 1);
  ASSERT_EQ(BN_mod_sqr(x3.get(), lambda.get(), p.get(), ctx), 1);
  ASSERT_EQ(BN_mod_sub(x3.get(), x3.get(), kx.get(), p.get(), ctx), 1);
  ASSERT_EQ(BN_mod_mul(y3.get(), lambda.get(), x3.get(), p.get(), ctx), 1);
  ASSERT_EQ(BN_mod_sub(y3.get(), p.get(), y3.get(), p.get(), ctx), 1);
  BN_CTX_free(ctx);
  const Bytes shifted = concat({Bytes{0x04}, octets(x3.get(), 128), octets(y3.get(), 128)});
  expect_crypto_error(sakke_validate_receiver_key(rfc_zs(), id, shifted), "RSK + (0, 0)");
}

TEST(SakkeEncapsulate, RefusesBadPublicKeys) {
  QueueRng rng({h(kSsv)});
  EXPECT_FALSE(sakke_encapsulate(Bytes{0x00}, h(kId), rng).has_value());
  Bytes off = rfc_zs();
  off[5] ^= 0x01;
  EXPECT_FALSE(sakke_encapsulate(off, h(kId), rng).has_value());
  EXPECT_FALSE(sakke_encapsulate(ByteView(rfc_zs()).first(129), h(kId), rng).has_value());
  // An RNG failure gives no encapsulation.
  QueueRng empty({});
  EXPECT_FALSE(sakke_encapsulate(rfc_zs(), h(kId), empty).has_value());
}

}  // namespace
}  // namespace m2msec::ibc

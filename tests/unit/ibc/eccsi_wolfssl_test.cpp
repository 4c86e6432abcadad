// ECCSI against wolfSSL (Debian's libwolfssl, built with WOLFCRYPT_HAVE_ECCSI), an independent implementation
// used as a test-only oracle, in both directions and with keys generated at test time:
//  - a wolfSSL KMS issues (SSK, PVT); we validate and sign; wolfSSL verifies;
//  - our KMS issues; wolfSSL validates the pair, signs, and we verify; wolfSSL verifies our signatures;
//  - the RFC 6507 Appendix A values go through wolfSSL too (HS and the published signature).
// wolfSSL's encodings: KPAK and PVT as 0x04 || x || y when exported with raw = 0, SSK as N octets, signatures
// r || s || PVT (4N + 1 octets) as RFC 6507 §5.2.1 step 7 has them.
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/eccsi.h>

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "m2msec/core/encoding.h"
#include "m2msec/crypto/random.h"
#include "test_support.h"
#include "wolfssl_oracle.h"
#include "m2msec/ibc/eccsi.h"

namespace m2msec::ibc {
namespace {

using test::h;
using test::random;
using test::size32;
using test::WolfPoint;
using test::WolfRng;

constexpr int kRounds = 20;
constexpr auto kSha256 = WC_HASH_TYPE_SHA256;

// wolfSSL refuses a null pointer even for an empty message (BAD_FUNC_ARG); an empty vector may give one.
const byte* nn(ByteView v) {
  static const byte kEmpty = 0;
  return v.empty() ? &kEmpty : v.data();
}

class WolfEccsi {
 public:
  WolfEccsi() { M2MSEC_CHECK(wc_InitEccsiKey(&m_key, nullptr, INVALID_DEVID) == 0); }
  ~WolfEccsi() { wc_FreeEccsiKey(&m_key); }
  WolfEccsi(const WolfEccsi&) = delete;
  WolfEccsi& operator=(const WolfEccsi&) = delete;
  EccsiKey* get() { return &m_key; }

 private:
  EccsiKey m_key{};
};

class WolfMp {
 public:
  WolfMp() { M2MSEC_CHECK(mp_init(&m_mp) == MP_OKAY); }
  ~WolfMp() {
    mp_forcezero(&m_mp);
    mp_free(&m_mp);
  }
  WolfMp(const WolfMp&) = delete;
  WolfMp& operator=(const WolfMp&) = delete;
  mp_int* get() { return &m_mp; }

 private:
  mp_int m_mp{};
};

// Lengths 1..64 (wolfSSL wants a non-null ID) and 0..200 for messages.
Bytes random_id() { return random(1 + random(1)[0] % 64); }
Bytes random_message() { return random(random(1)[0] % 201); }

// A wolfSSL verifier for (KPAK, ID): KPAK imported (and checked), HS computed from the PVT in the signature.
// Returns 1 when wolfSSL accepts, 0 when it rejects, a negative wolfSSL error code on failure.
int wolf_verify(ByteView kpak, ByteView id, ByteView message, ByteView sig) {
  WolfEccsi v;
  int err = wc_ImportEccsiPublicKey(v.get(), kpak.data(), size32(kpak), 0);
  if (err != 0) return err;
  WolfPoint pvt;
  err = wc_DecodeEccsiPvtFromSig(v.get(), sig.data(), size32(sig), pvt.get());
  if (err != 0) return err;
  byte hs[WC_MAX_DIGEST_SIZE];
  byte hs_size = sizeof(hs);
  err = wc_HashEccsiId(v.get(), kSha256, nn(id), size32(id), pvt.get(), hs, &hs_size);
  if (err != 0) return err;
  err = wc_SetEccsiHash(v.get(), hs, hs_size);
  if (err != 0) return err;
  int verified = 0;
  err = wc_VerifyEccsiHash(v.get(), kSha256, nn(message), size32(message), sig.data(), size32(sig), &verified);
  if (err != 0) return err;
  return verified;
}

// wolfSSL's HS for (KPAK, ID, PVT).
Bytes wolf_hs(ByteView kpak, ByteView id, ByteView pvt_octets) {
  WolfEccsi k;
  M2MSEC_CHECK(wc_ImportEccsiPublicKey(k.get(), kpak.data(), size32(kpak), 0) == 0);
  WolfPoint pvt;
  M2MSEC_CHECK(wc_DecodeEccsiPvt(k.get(), pvt_octets.data(), size32(pvt_octets), pvt.get()) == 0);
  byte hs[WC_MAX_DIGEST_SIZE];
  byte hs_size = sizeof(hs);
  M2MSEC_CHECK(wc_HashEccsiId(k.get(), kSha256, nn(id), size32(id), pvt.get(), hs, &hs_size) == 0);
  return Bytes(hs, hs + hs_size);
}

// RFC 6507 Appendix A through wolfSSL: its HS of the RFC's KPAK, ID and PVT, and its verdict on the RFC's
// signature, agree with the RFC and with us.
TEST(EccsiWolfssl, Rfc6507AppendixA) {
  const Bytes kpak = h(
      "0450D4670BDE75244F28D2838A0D25558A7A72686D4522D4C8273FB6442AEBFA93"
      "DBDD37551AFD263B5DFD617F3960C65A8C298850FF99F20366DCE7D4367217F4");
  const Bytes pvt = h(
      "04758A142779BE89E829E71984CB40EF758CC4AD775FC5B9A3E1C8ED52F6FA36D9"
      "A79D247692F4EDA3A6BDAB77D6AA6474A464AE4934663C5265BA7018BA091F79");
  const Bytes id = h("323031312D30320074656C3A2B34343737303039303031323300");
  const Bytes msg = h("6D65737361676500");
  const Bytes sig = concat({h("269D4C8FDEB66A74E4EF8C0D5DCC597DDFE6029C2AFFC4936008CD2CC1045D81"),
                            h("E09B528D0EF8D6DF1AA3ECBF80110CFCEC9FC68252CEBB679F4134846940CCFD"), pvt});
  EXPECT_EQ(hex_encode(wolf_hs(kpak, id, pvt), HexCase::kUpper),
            "490F3FEBBC1C902F6289723D7F8CBF79DB88930849D19F38F0295B5C276C14D1");
  EXPECT_EQ(wolf_verify(kpak, id, msg, sig), 1);
  EXPECT_EQ(wolf_verify(kpak, id, h("6D65737361676501"), sig), 0);  // the oracle does reject

  // KPAK = [KSAK]G for KSAK = 0x12345, computed by wolfSSL's ECC code, equals the RFC's and ours.
  const Bytes ksak = h("0000000000000000000000000000000000000000000000000000000000012345");
  ecc_key ecc;
  ASSERT_EQ(wc_ecc_init(&ecc), 0);
  ASSERT_EQ(wc_ecc_import_private_key_ex(ksak.data(), size32(ksak), nullptr, 0, &ecc, ECC_SECP256R1), 0);
  ASSERT_EQ(wc_ecc_make_pub(&ecc, nullptr), 0);
  Bytes wolf_kpak(kEccsiPointSize);
  word32 wolf_kpak_size = size32(wolf_kpak);
  const int exported = wc_ecc_export_x963(&ecc, wolf_kpak.data(), &wolf_kpak_size);
  wc_ecc_free(&ecc);
  ASSERT_EQ(exported, 0);
  EXPECT_EQ(wolf_kpak, kpak);
  auto ours = EccsiKms::from_secret(ksak);
  ASSERT_TRUE(ours);
  EXPECT_EQ(ours->kpak(), wolf_kpak);
}

// A KMS made by wolfSSL; we validate its pairs and sign; wolfSSL verifies; we verify wolfSSL's signatures.
TEST(EccsiWolfssl, WolfsslKmsOurSignerBothVerifiers) {
  WolfRng rng;
  WolfEccsi kms;
  ASSERT_EQ(wc_MakeEccsiKey(kms.get(), rng.get()), 0);
  Bytes kpak(kEccsiPointSize);
  word32 kpak_size = size32(kpak);
  ASSERT_EQ(wc_ExportEccsiPublicKey(kms.get(), kpak.data(), &kpak_size, 0), 0);
  ASSERT_EQ(kpak_size, kEccsiPointSize);
  ASSERT_EQ(kpak[0], 0x04);

  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const Bytes id = random_id();
    const Bytes msg = round == 0 ? Bytes{} : random_message();  // round 0: the empty message
    WolfMp ssk;
    WolfPoint pvt;
    ASSERT_EQ(wc_MakeEccsiPair(kms.get(), rng.get(), kSha256, nn(id), size32(id), ssk.get(), pvt.get()), 0);
    SecretBytes ssk_octets(kEccsiScalarSize);
    word32 ssk_size = static_cast<word32>(ssk_octets.size());
    ASSERT_EQ(wc_EncodeEccsiSsk(kms.get(), ssk.get(), ssk_octets.data(), &ssk_size), 0);
    ASSERT_EQ(ssk_size, kEccsiScalarSize);
    Bytes pvt_octets(kEccsiPointSize);
    word32 pvt_size = size32(pvt_octets);
    ASSERT_EQ(wc_EncodeEccsiPvt(kms.get(), pvt.get(), pvt_octets.data(), &pvt_size, 0), 0);
    ASSERT_EQ(pvt_size, kEccsiPointSize);

    // Our validation of wolfSSL's pair, and our HS against wolfSSL's.
    auto signer = EccsiSigner::validate(kpak, id, EccsiUserKey{ssk_octets.clone(), pvt_octets});
    ASSERT_TRUE(signer) << signer.error().to_string();
    EXPECT_EQ(signer->hs(), wolf_hs(kpak, id, pvt_octets));

    // Our signature, verified by wolfSSL and by us; wolfSSL rejects it for another message.
    auto sig = signer->sign(msg);
    ASSERT_TRUE(sig) << sig.error().to_string();
    EXPECT_EQ(wolf_verify(kpak, id, msg, *sig), 1);
    EXPECT_TRUE(eccsi_verify(kpak, id, msg, *sig));
    EXPECT_EQ(wolf_verify(kpak, id, concat({msg, Bytes{0x00}}), *sig), 0);

    // wolfSSL's signature with the same pair, verified by us.
    WolfEccsi client;
    ASSERT_EQ(wc_ImportEccsiPublicKey(client.get(), kpak.data(), size32(kpak), 0), 0);
    byte hs[WC_MAX_DIGEST_SIZE];
    byte hs_size = sizeof(hs);
    ASSERT_EQ(wc_HashEccsiId(client.get(), kSha256, nn(id), size32(id), pvt.get(), hs, &hs_size), 0);
    ASSERT_EQ(wc_SetEccsiHash(client.get(), hs, hs_size), 0);
    ASSERT_EQ(wc_SetEccsiPair(client.get(), ssk.get(), pvt.get()), 0);
    Bytes wolf_sig(kEccsiSignatureSize);
    word32 wolf_sig_size = size32(wolf_sig);
    ASSERT_EQ(wc_SignEccsiHash(client.get(), rng.get(), kSha256, nn(msg), size32(msg), wolf_sig.data(),
                               &wolf_sig_size),
              0);
    ASSERT_EQ(wolf_sig_size, kEccsiSignatureSize);
    auto ok = eccsi_verify(kpak, id, msg, wolf_sig);
    EXPECT_TRUE(ok) << ok.error().to_string();
    EXPECT_FALSE(eccsi_verify(kpak, concat({id, Bytes{0x00}}), msg, wolf_sig));
  }
}

// Our KMS: wolfSSL validates our pairs, signs with them (we verify), and verifies our signatures.
TEST(EccsiWolfssl, OurKmsWolfsslValidatesSignsVerifies) {
  WolfRng rng;
  auto kms = EccsiKms::generate();
  ASSERT_TRUE(kms) << kms.error().to_string();
  const Bytes& kpak = kms->kpak();

  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const Bytes id = random_id();
    const Bytes msg = round == 0 ? Bytes{} : random_message();  // round 0: the empty message
    auto key = kms->issue(id);
    ASSERT_TRUE(key) << key.error().to_string();

    WolfEccsi client;
    ASSERT_EQ(wc_ImportEccsiPublicKey(client.get(), kpak.data(), size32(kpak), 0), 0);
    WolfMp ssk;
    WolfPoint pvt;
    ASSERT_EQ(wc_DecodeEccsiSsk(client.get(), key->ssk.data(), static_cast<word32>(key->ssk.size()), ssk.get()), 0);
    ASSERT_EQ(wc_DecodeEccsiPvt(client.get(), key->pvt.data(), size32(key->pvt), pvt.get()), 0);
    int valid = 0;
    ASSERT_EQ(wc_ValidateEccsiPair(client.get(), kSha256, nn(id), size32(id), ssk.get(), pvt.get(), &valid), 0);
    EXPECT_EQ(valid, 1);

    // wolfSSL rejects our SSK with another identity (the oracle does discriminate).
    {
      WolfEccsi other;
      ASSERT_EQ(wc_ImportEccsiPublicKey(other.get(), kpak.data(), size32(kpak), 0), 0);
      const Bytes other_id = concat({id, Bytes{0x01}});
      int other_valid = 1;
      const int err = wc_ValidateEccsiPair(other.get(), kSha256, other_id.data(), size32(other_id), ssk.get(),
                                           pvt.get(), &other_valid);
      EXPECT_TRUE(err != 0 || other_valid == 0);
    }

    // wolfSSL signs with our pair; we verify.
    WolfEccsi signer_key;
    ASSERT_EQ(wc_ImportEccsiPublicKey(signer_key.get(), kpak.data(), size32(kpak), 0), 0);
    byte hs[WC_MAX_DIGEST_SIZE];
    byte hs_size = sizeof(hs);
    ASSERT_EQ(wc_HashEccsiId(signer_key.get(), kSha256, nn(id), size32(id), pvt.get(), hs, &hs_size), 0);
    ASSERT_EQ(wc_SetEccsiHash(signer_key.get(), hs, hs_size), 0);
    ASSERT_EQ(wc_SetEccsiPair(signer_key.get(), ssk.get(), pvt.get()), 0);
    Bytes wolf_sig(kEccsiSignatureSize);
    word32 wolf_sig_size = size32(wolf_sig);
    ASSERT_EQ(wc_SignEccsiHash(signer_key.get(), rng.get(), kSha256, nn(msg), size32(msg), wolf_sig.data(),
                               &wolf_sig_size),
              0);
    auto ok = eccsi_verify(kpak, id, msg, wolf_sig);
    EXPECT_TRUE(ok) << ok.error().to_string();

    // We sign with the pair; wolfSSL verifies; HS agrees.
    auto signer = EccsiSigner::validate(kpak, id, std::move(*key));
    ASSERT_TRUE(signer) << signer.error().to_string();
    EXPECT_EQ(signer->hs(), Bytes(hs, hs + hs_size));
    auto sig = signer->sign(msg);
    ASSERT_TRUE(sig);
    EXPECT_EQ(wolf_verify(kpak, id, msg, *sig), 1);
    Bytes tampered = *sig;
    tampered[40] ^= 0x01;  // in s
    EXPECT_NE(wolf_verify(kpak, id, msg, tampered), 1);
  }
}

}  // namespace
}  // namespace m2msec::ibc

// SAKKE against wolfSSL (Debian's libwolfssl, built with WOLFCRYPT_HAVE_SAKKE), an independent implementation used
// as a test-only oracle, in both directions and with keys generated at test time:
//  - a wolfSSL KMS: we encapsulate to its Z_S and wolfSSL derives our SSV with its RSK; wolfSSL encapsulates and we
//    decapsulate with the RSK our KMS makes from wolfSSL's z_S; each side validates the other's RSK;
//  - our KMS imported into wolfSSL: the same exchanges the other way round;
//  - the RFC 6508 Appendix A values through wolfSSL, to show the oracle agrees with the RFC.
// wolfSSL's encodings (checked below): Z_S and RSKs as 0x04 || x || y with raw = 0 and x || y with raw = 1;
// wc_ExportSakkeKey / wc_ImportSakkeKey use z (128 octets) || x || y; wc_MakeSakkeEncapsulatedSSV writes R_(b,S)
// (0x04 || x || y) to `auth` and turns the SSV buffer into H in place, and wc_DeriveSakkeSSV does the reverse
// (with the TEST check of RFC 6508 §6.2.2).
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/sakke.h>

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "m2msec/core/encoding.h"
#include "m2msec/crypto/random.h"
#include "test_support.h"
#include "wolfssl_oracle.h"
#include "m2msec/ibc/sakke.h"

namespace m2msec::ibc {
namespace {

using test::h;
using test::random;
using test::size32;
using test::upper;
using test::WolfPoint;
using test::WolfRng;

constexpr int kRounds = 3;
constexpr auto kSha256 = WC_HASH_TYPE_SHA256;

word16 size16(ByteView v) { return static_cast<word16>(v.size()); }

class WolfSakke {
 public:
  WolfSakke() { M2MSEC_CHECK(wc_InitSakkeKey_ex(&m_key, 128, ECC_SAKKE_1, nullptr, INVALID_DEVID) == 0); }
  ~WolfSakke() { wc_FreeSakkeKey(&m_key); }
  WolfSakke(const WolfSakke&) = delete;
  WolfSakke& operator=(const WolfSakke&) = delete;
  SakkeKey* get() { return &m_key; }

 private:
  SakkeKey m_key{};
};

// 1..128 octets (wolfSSL's SAKKE_ID_MAX_SIZE).
Bytes random_id() { return random(1 + random(1)[0] % 128); }

Bytes wolf_public_key(SakkeKey* key) {
  Bytes out(kSakkePointSize);
  word32 size = size32(out);
  M2MSEC_CHECK(wc_ExportSakkePublicKey(key, out.data(), &size, 0) == 0 && size == kSakkePointSize);
  return out;
}

// A wolfSSL key holding Z_S only, fresh for each client operation (and RSK validation): in this wolfSSL
// (5.5.4), a KMS key that has run wc_ValidateSakkeRsk, wc_MakeSakkeEncapsulatedSSV or wc_DeriveSakkeSSV
// afterwards makes wrong RSKs with wc_MakeSakkeRsk, so the KMS key only ever makes RSKs.
class WolfClient {
 public:
  explicit WolfClient(ByteView z_s) {
    M2MSEC_CHECK(wc_ImportSakkePublicKey(m_key.get(), z_s.data(), size32(z_s), 0) == 0);
  }
  SakkeKey* get() { return m_key.get(); }

 private:
  WolfSakke m_key;
};

// wolfSSL's RSK for `id`, 0x04 || x || y.
Bytes wolf_rsk(SakkeKey* kms, ByteView id) {
  WolfPoint rsk;
  M2MSEC_CHECK(wc_MakeSakkeRsk(kms, id.data(), size16(id), rsk.get()) == 0);
  Bytes out(kSakkePointSize);
  word32 size = size32(out);
  M2MSEC_CHECK(wc_EncodeSakkeRsk(kms, rsk.get(), out.data(), &size, 0) == 0 && size == kSakkePointSize);
  return out;
}

// wolfSSL's verdict on an RSK: 1 valid, 0 invalid, a negative error code when it cannot tell.
int wolf_validate(ByteView z_s, ByteView id, ByteView rsk_octets) {
  WolfClient client(z_s);
  SakkeKey* key = client.get();
  WolfPoint rsk;
  int err = wc_DecodeSakkeRsk(key, rsk_octets.data(), size32(rsk_octets), rsk.get());
  if (err != 0) return err;
  int valid = -1;
  err = wc_ValidateSakkeRsk(key, id.data(), size16(id), rsk.get(), &valid);
  if (err != 0) return err;
  return valid;
}

// wolfSSL's receiver side: the SSV from R_(b,S) || H with the RSK of `id`; empty when wolfSSL refuses.
Bytes wolf_derive(ByteView z_s, ByteView id, ByteView rsk_octets, ByteView data) {
  WolfClient client(z_s);
  SakkeKey* key = client.get();
  WolfPoint rsk;
  if (wc_DecodeSakkeRsk(key, rsk_octets.data(), size32(rsk_octets), rsk.get()) != 0) return {};
  if (wc_SetSakkeRsk(key, rsk.get(), nullptr, 0) != 0) return {};
  if (wc_SetSakkeIdentity(key, id.data(), size16(id)) != 0) return {};
  const ByteView auth = data.first(kSakkePointSize);
  Bytes ssv(data.begin() + kSakkePointSize, data.end());  // H in, SSV out
  if (wc_DeriveSakkeSSV(key, kSha256, ssv.data(), size16(ssv), auth.data(), size16(auth)) != 0) return {};
  return ssv;
}

// wolfSSL's sender side: (SSV, R_(b,S) || H) to `id` under the key's Z_S.
std::pair<Bytes, Bytes> wolf_encapsulate(ByteView z_s, WC_RNG* rng, ByteView id) {
  WolfClient client(z_s);
  SakkeKey* key = client.get();
  M2MSEC_CHECK(wc_SetSakkeIdentity(key, id.data(), size16(id)) == 0);
  Bytes ssv(kSakkeSsvSize);
  word16 ssv_size = size16(ssv);
  M2MSEC_CHECK(wc_GenerateSakkeSSV(key, rng, ssv.data(), &ssv_size) == 0 && ssv_size == kSakkeSsvSize);
  Bytes h_octets = ssv;  // SSV in, H out
  Bytes auth(kSakkePointSize + 16);
  word16 auth_size = size16(auth);
  M2MSEC_CHECK(wc_MakeSakkeEncapsulatedSSV(key, kSha256, h_octets.data(), size16(h_octets), auth.data(), &auth_size) ==
               0);
  M2MSEC_CHECK(auth_size == kSakkePointSize);
  auth.resize(auth_size);
  return {ssv, concat({auth, h_octets})};
}

// z_S (128 octets) || Z_S without the 0x04, the form of wc_ImportSakkeKey.
Bytes wolf_key_blob(const SakkeKms& kms) {
  Bytes z(128 - kms.z().size(), 0);
  const ByteView pub = ByteView(kms.public_key()).subspan(1);
  return concat({z, kms.z().view(), pub});
}

TEST(SakkeWolfssl, Rfc6508AppendixA) {
  const Bytes z = h("AFF429D35F84B110D094803B3595A6E2998BC99F");
  const Bytes id = h("323031312D30320074656C3A2B34343737303039303031323300");
  auto ours = SakkeKms::from_secret(z);
  ASSERT_TRUE(ours.has_value());
  WolfSakke kms;
  const Bytes blob = wolf_key_blob(*ours);
  ASSERT_EQ(wc_ImportSakkeKey(kms.get(), blob.data(), size32(blob)), 0);
  const Bytes z_s = wolf_public_key(kms.get());
  EXPECT_EQ(z_s, ours->public_key());
  const Bytes rsk = wolf_rsk(kms.get(), id);
  EXPECT_EQ(upper(rsk),
            "04"
            "93AF67E5007BA6E6A80DA793DA300FA4B52D0A74E25E6E7B2B3D6EE9D18A9B5C"
            "5023597BD82D8062D34019563BA1D25C0DC56B7B979D74AA50F29FBF11CC2C93"
            "F5DFCA615E609279F6175CEADB00B58C6BEE1E7A2A47C4F0C456F05259A6FA94"
            "A634A40DAE1DF593D4FECF688D5FC678BE7EFC6DF3D6835325B83B2C6E69036B"
            "155F0A27241094B04BFB0BDFAC6C670A65C325D39A069F03659D44CA27D3BE8D"
            "F311172B554160181CBE94A2A783320CED590BC42644702CF371271E496BF20F"
            "588B78A1BC01ECBB6559934BDD2FB65D2884318A33D1A42ADF5E33CC5800280B"
            "28356497F87135BAB9612A17260424409AC15FEE996B744C332151235DECB0F5");
  EXPECT_EQ(wolf_validate(z_s, id, rsk), 1);
  Bytes other = id;
  other[0] ^= 0x01;
  EXPECT_EQ(wolf_validate(z_s, other, rsk), 0);  // the oracle does reject
  // wolfSSL decapsulates the RFC's Encapsulated Data to the RFC's SSV.
  const Bytes data = h(
      "04"
      "44E8AD44AB8592A6A5A3DDCA5CF896C718043606A01D650DEF37A01F37C228C332FC317354E2C274D4DAF8AD001054C7"
      "6CE57971C6F4486D5723043261C506EBF5BE438F53DE04F067C776E0DD3B71A6290133283725A532F21AF145126DC1D7"
      "77ECC27BE50835BD28098B8A73D9F801D893793A41FF5C49B87E79F2BE4D56CE"
      "557E134AD85BB1D4B9CE4F8BE4B08A12BABF55B1D6F1D7A638019EA28E15AB1C9F76375FDD1210D4F4351B9A009486B7"
      "F3ED46C965DED2D80DADE4F38C6721D52C3AD103A10EBD2959248B4EF006836BF097448E6107C9EDEE9FB704823DF199"
      "F832C905AE45F8A247A072D8EF729EABC5E27574B07739B34BE74A532F747B86"
      "89E0BC661AA1E91638E6ACC84E496507");
  EXPECT_EQ(upper(wolf_derive(z_s, id, rsk, data)), "123456789ABCDEF0123456789ABCDEF0");
}

// A wolfSSL KMS. Sender: us; receiver: wolfSSL. And our validation/decapsulation with wolfSSL's RSKs.
TEST(SakkeWolfssl, WolfsslKmsOurEncapsulation) {
  WolfRng rng;
  WolfSakke kms;
  ASSERT_EQ(wc_MakeSakkeKey(kms.get(), rng.get()), 0);
  const Bytes z_s = wolf_public_key(kms.get());
  ASSERT_EQ(z_s[0], 0x04);
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const Bytes id = random_id();
    const Bytes rsk = wolf_rsk(kms.get(), id);
    auto valid = sakke_validate_receiver_key(z_s, id, rsk);
    EXPECT_TRUE(valid.has_value()) << valid.error().detail();

    auto enc = sakke_encapsulate(z_s, id);
    ASSERT_TRUE(enc.has_value()) << enc.error().detail();
    EXPECT_EQ(upper(wolf_derive(z_s, id, rsk, enc->data)), upper(enc->ssv.view()));
    auto ssv = sakke_decapsulate(z_s, id, rsk, enc->data);
    ASSERT_TRUE(ssv.has_value()) << ssv.error().detail();
    EXPECT_EQ(upper(ssv->view()), upper(enc->ssv.view()));

    // wolfSSL refuses our data once tampered (so its agreement above means something).
    Bytes tampered = enc->data;
    tampered.back() ^= 0x01;
    EXPECT_TRUE(wolf_derive(z_s, id, rsk, tampered).empty());
  }
}

// A wolfSSL KMS whose z_S we take over. Sender: wolfSSL; receiver: us, with the RSK our KMS makes from that z_S.
TEST(SakkeWolfssl, WolfsslEncapsulationOurDecapsulation) {
  WolfRng rng;
  WolfSakke kms;
  ASSERT_EQ(wc_MakeSakkeKey(kms.get(), rng.get()), 0);
  SecretBytes z(128);
  word32 z_size = 128;
  ASSERT_EQ(wc_ExportSakkePrivateKey(kms.get(), z.data(), &z_size), 0);
  ASSERT_EQ(z_size, 128u);
  auto ours = SakkeKms::from_secret(z.view());
  ASSERT_TRUE(ours.has_value()) << ours.error().detail();
  const Bytes z_s = wolf_public_key(kms.get());
  ASSERT_EQ(upper(ours->public_key()), upper(z_s));  // same Z_S = [z_S]P
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const Bytes id = random_id();
    auto rsk = ours->receiver_key(id);
    ASSERT_TRUE(rsk.has_value()) << rsk.error().detail();
    EXPECT_EQ(upper(rsk->view()), upper(wolf_rsk(kms.get(), id)));
    EXPECT_EQ(wolf_validate(z_s, id, rsk->view()), 1);

    auto [ssv, data] = wolf_encapsulate(z_s, rng.get(), id);
    ASSERT_EQ(data.size(), kSakkeEncapsulatedSize);
    auto got = sakke_decapsulate(ours->public_key(), id, rsk->view(), data);
    ASSERT_TRUE(got.has_value()) << got.error().detail();
    EXPECT_EQ(upper(got->view()), upper(ssv));
  }
}

// Our KMS imported into wolfSSL: wolfSSL validates our RSKs, encapsulates to us and receives from us.
TEST(SakkeWolfssl, OurKmsInWolfssl) {
  auto ours = SakkeKms::generate();
  ASSERT_TRUE(ours.has_value()) << ours.error().detail();
  WolfRng rng;
  WolfSakke kms;
  const Bytes blob = wolf_key_blob(*ours);
  ASSERT_EQ(wc_ImportSakkeKey(kms.get(), blob.data(), size32(blob)), 0);
  const Bytes z_s = wolf_public_key(kms.get());
  ASSERT_EQ(upper(z_s), upper(ours->public_key()));
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const Bytes id = random_id();
    auto rsk = ours->receiver_key(id);
    ASSERT_TRUE(rsk.has_value());
    EXPECT_EQ(wolf_validate(z_s, id, rsk->view()), 1);
    Bytes other = id;
    other[0] ^= 0x80;
    EXPECT_EQ(wolf_validate(z_s, other, rsk->view()), 0);

    auto [ssv, data] = wolf_encapsulate(z_s, rng.get(), id);
    auto got = sakke_decapsulate(ours->public_key(), id, rsk->view(), data);
    ASSERT_TRUE(got.has_value()) << got.error().detail();
    EXPECT_EQ(upper(got->view()), upper(ssv));
    // wolfSSL's data to another identity do not decapsulate with this RSK.
    auto [ssv2, data2] = wolf_encapsulate(z_s, rng.get(), other);
    EXPECT_FALSE(sakke_decapsulate(ours->public_key(), id, rsk->view(), data2).has_value());

    auto enc = sakke_encapsulate(ours->public_key(), id);
    ASSERT_TRUE(enc.has_value());
    EXPECT_EQ(upper(wolf_derive(z_s, id, rsk->view(), enc->data)), upper(enc->ssv.view()));
  }
}

}  // namespace
}  // namespace m2msec::ibc

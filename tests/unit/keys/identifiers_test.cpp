#include <gtest/gtest.h>

#include "m2msec/core/encoding.h"
#include "m2msec/keys/identifiers.h"

namespace m2msec::keys {
namespace {

Fqdn fqdn(std::string_view text) { return Fqdn::parse(text).value(); }

TEST(Fqdn, AcceptsDnsNamesAndLowercasesThem) {
  EXPECT_EQ(fqdn("MEF.Example.COM").text(), "mef.example.com");
  EXPECT_EQ(fqdn("localhost").text(), "localhost");
  EXPECT_EQ(fqdn("a-b.c1").text(), "a-b.c1");
  EXPECT_TRUE(Fqdn::parse(std::string(63, 'a') + ".com"));
}

TEST(Fqdn, RefusesMalformedNames) {
  for (std::string bad : {"", ".", "a..b", ".a", "a.", "-a.com", "a-.com", "a_b.com", "a b.com", "é.com", "a@b"}) {
    EXPECT_FALSE(Fqdn::parse(bad)) << bad;
  }
  EXPECT_FALSE(Fqdn::parse(std::string(64, 'a') + ".com"));
  std::string long_name;
  while (long_name.size() < 254) long_name += "abcdefghi.";
  long_name += "com";
  EXPECT_FALSE(Fqdn::parse(long_name));
}

TEST(KeId, FormatsUpperCaseHexAndParsesEitherCase) {
  const Bytes raw = hex_decode("00112233445566778899aabbccddeeff").value();
  const KeId id(RelativeKeId::from(raw).value(), fqdn("mef.example.com"));
  EXPECT_EQ(id.to_string(), "00112233445566778899AABBCCDDEEFF@mef.example.com");
  auto lower = KeId::parse("00112233445566778899aabbccddeeff@MEF.example.com");
  ASSERT_TRUE(lower);
  EXPECT_EQ(*lower, id);
  EXPECT_EQ(KeId::parse(id.to_string()).value(), id);
}

TEST(KeId, RefusesMalformedText) {
  for (const char* bad : {
           "00112233445566778899AABBCCDDEEFF",                    // no '@'
           "00112233445566778899AABBCCDDEEFF@",                   // empty FQDN
           "@mef.example.com",                                    // empty relative part
           "00112233445566778899AABBCCDDEE@mef.example.com",      // 15 octets
           "00112233445566778899AABBCCDDEEFF00@mef.example.com",  // 17 octets
           "0011223344556677889XAABBCCDDEEFF@mef.example.com",    // not hex
           "00112233445566778899AABBCCDDEEFF@mef@example.com",    // two '@'
           "00112233445566778899AABBCCDDEEFF@mef..example.com",   // bad FQDN
       }) {
    auto r = KeId::parse(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().rsc(), Rsc::kBadRequest);
    }
  }
}

TEST(KeyIdentifier, FromKcIdAndFromMafAssignedRelativeKeyId) {
  const KcId kc = KcId::from(hex_decode("0f0e0d0c0b0a09080706050403020100").value()).value();
  EXPECT_EQ(KeyIdentifier::from_kc_id(kc, fqdn("maf.example.com")).to_string(),
            "0F0E0D0C0B0A09080706050403020100@maf.example.com");
  auto assigned = KeyIdentifier::parse("my-key_name.1@maf.example.com");
  ASSERT_TRUE(assigned);
  EXPECT_EQ(assigned->relative_key_id(), "my-key_name.1");
  EXPECT_EQ(assigned->maf().text(), "maf.example.com");
  for (const char* bad : {"my key@maf.example.com", "my/key@maf.example.com", "@maf.example.com", "key@", "key",
                          "a@b@c"}) {
    EXPECT_FALSE(KeyIdentifier::parse(bad)) << bad;
  }
  EXPECT_FALSE(KeyIdentifier::parse(std::string(256, 'k') + "@maf.example.com"));
}

TEST(KmId, RelativePartIsCaseInsensitive) {
  auto a = KmId::parse("Device-42@maf.example.com");
  auto b = KmId::parse("device-42@MAF.example.com");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->to_string(), "Device-42@maf.example.com");
  EXPECT_NE(*a, KmId::parse("device-43@maf.example.com").value());
  EXPECT_FALSE(KmId::parse("dev:42@maf.example.com"));
}

TEST(KpsaId, CaseSensitiveRelativePart) {
  auto a = KpsaId::parse("Kpsa.1@issuer.example.com");
  auto b = KpsaId::parse("kpsa.1@issuer.example.com");
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_FALSE(KpsaId::parse("kpsa@1@issuer.example.com"));
}

TEST(CredentialId, ParsesTheSpecExampleAndEveryDefinedType) {
  auto id = CredentialId::parse("10-thiskey@mymef.com");  // TS-0003 12.2, sec:credentialID example
  ASSERT_TRUE(id);
  EXPECT_EQ(id->type(), CredIdType::kMefSymmetricKey);
  EXPECT_EQ(id->value(), "thiskey@mymef.com");
  EXPECT_EQ(id->to_string(), "10-thiskey@mymef.com");
  for (unsigned t : {10u, 11u, 12u, 13u, 14u, 15u, 16u, 30u, 31u, 32u, 33u, 34u, 41u, 42u, 43u, 44u, 45u, 51u, 52u,
                     53u, 54u, 55u}) {
    EXPECT_TRUE(CredentialId::parse(std::to_string(t) + "-x")) << t;
  }
  // The value may itself contain '-' (only the first '-' separates).
  EXPECT_EQ(CredentialId::parse("12-a-b").value().value(), "a-b");
}

TEST(CredentialId, RefusesMalformedText) {
  for (const char* bad : {"", "10", "10-", "-x", "9-x", "17-x", "40-x", "010-x", "+10-x", "1O-x", "10-a b",
                          "10-a/b", "1000-x", "10-é"}) {
    EXPECT_FALSE(CredentialId::parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace m2msec::keys

// psk_identity syntax per handshake (TS-0003 V3.18.0 1.11 of our digest) and the identity a resolver binds.
#include "m2msec/tls/credentials.h"

#include <gtest/gtest.h>

#include "pair.h"

namespace m2msec::tls {
namespace {

using loopback::key_of;

TEST(PskIdentity, CanonicalFormsPerKind) {
  EXPECT_EQ(*canonical_psk_identity(PskIdentityKind::kKpsaId, "dev1@SP.Example.com"), "dev1@sp.example.com");
  EXPECT_EQ(*canonical_psk_identity(PskIdentityKind::kKmId, "Dev-1@MAF.example.com"), "dev-1@maf.example.com");
  EXPECT_EQ(*canonical_psk_identity(PskIdentityKind::kKeyIdentifier, "0A1B2C@maf.example.com"), "0A1B2C@maf.example.com");
  EXPECT_EQ(*canonical_psk_identity(PskIdentityKind::kKpmId, "kpm-0001"), "kpm-0001");
}

TEST(PskIdentity, WrongSyntaxIsAnAuthFailure) {
  const std::pair<PskIdentityKind, std::string_view> cases[] = {
      {PskIdentityKind::kKpsaId, "no-at-sign"},     {PskIdentityKind::kKpsaId, "a@b@c.example"},
      {PskIdentityKind::kKmId, "@maf.example.com"}, {PskIdentityKind::kKeyIdentifier, "x y@maf.example.com"},
      {PskIdentityKind::kKpmId, ""},                {PskIdentityKind::kKpmId, "has space"},
      {PskIdentityKind::kKpmId, std::string_view("a\0b", 3)},
  };
  for (const auto& [kind, text] : cases) {
    auto canonical = canonical_psk_identity(kind, text);
    ASSERT_FALSE(canonical) << text;
    EXPECT_EQ(canonical.error().category(), Category::kAuth);
  }
  EXPECT_FALSE(canonical_psk_identity(PskIdentityKind::kKpmId, std::string(129, 'a')));
  EXPECT_TRUE(canonical_psk_identity(PskIdentityKind::kKpmId, std::string(128, 'a')));
}

TEST(PskIdentity, KindNames) {
  for (const auto kind : {PskIdentityKind::kKpsaId, PskIdentityKind::kKeyIdentifier, PskIdentityKind::kKpmId,
                          PskIdentityKind::kKmId}) {
    EXPECT_EQ(psk_identity_kind_named(psk_identity_kind_name(kind)), kind);
  }
  EXPECT_FALSE(psk_identity_kind_named("kpsa-id"));
}

TEST(InMemoryPskResolver, BindsTheCredentialIdWhenNoIdentityIsConfigured) {
  //= type=test
  //= TS-0003 V3.18.0 §8.2.2.1
  InMemoryPskResolver kpsa(PskIdentityKind::kKpsaId);
  ASSERT_TRUE(kpsa.add("dev1@sp.example.com", key_of(1)));
  ASSERT_TRUE(kpsa.add("dev2@sp.example.com", key_of(2), "CAE-dev2"));
  auto one = kpsa.resolve("dev1@SP.example.com");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->bound_identity, "12-dev1@sp.example.com");
  EXPECT_TRUE(ct::equal(one->key.view(), key_of(1).view()));
  EXPECT_EQ(kpsa.resolve("dev2@sp.example.com")->bound_identity, "CAE-dev2");

  InMemoryPskResolver km(PskIdentityKind::kKmId);
  ASSERT_TRUE(km.add("Client7@maf.example.com", key_of(3)));
  auto found = km.resolve("CLIENT7@maf.example.com");  // 10.6: not case-sensitive
  ASSERT_TRUE(found);
  EXPECT_EQ(found->bound_identity, "11-client7@maf.example.com");

  InMemoryPskResolver kpm(PskIdentityKind::kKpmId);
  ASSERT_TRUE(kpm.add("kpm-0001", key_of(4)));
  EXPECT_EQ(kpm.resolve("kpm-0001")->bound_identity, "10-kpm-0001");
}

TEST(InMemoryPskResolver, UnknownAndMalformedIdentitiesResolveToNothing) {
  InMemoryPskResolver r(PskIdentityKind::kKpsaId);
  ASSERT_TRUE(r.add("dev1@sp.example.com", key_of(1)));
  EXPECT_FALSE(r.resolve("dev9@sp.example.com"));
  EXPECT_FALSE(r.resolve("dev1@other.example.com"));
  EXPECT_FALSE(r.resolve("garbage"));
  EXPECT_FALSE(r.resolve(""));
}

TEST(InMemoryPskResolver, RefusesBadEntries) {
  InMemoryPskResolver r(PskIdentityKind::kKpsaId);
  EXPECT_EQ(r.add("not-an-id", key_of(1)).error().category(), Category::kUsage);
  EXPECT_EQ(r.add("dev1@sp.example.com", SecretBytes()).error().category(), Category::kUsage);
}

}  // namespace
}  // namespace m2msec::tls

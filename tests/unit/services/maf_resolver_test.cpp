// maf::CredentialResolver and maf::find_credential: KmID lookups (case-insensitive relative part), KeIDs
// fetched from the MEF once and then kept until they expire, and expired credentials resolving to nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "maf_fixture.h"

namespace m2msec::services::test {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

const std::string kKeId = "00112233445566778899AABBCCDDEEFF@" + std::string(kMefFqdn);

TEST_F(MafTest, UnknownIdentitiesResolveToNothing) {
  auto fixed = std::make_shared<FixedCredentialSource>(kKeId, 0x5a, "Cdev-a", w.now() + hours(1));
  use_source(fixed);
  EXPECT_FALSE(resolver->resolve("km-nobody@maf.example.com"));
  EXPECT_FALSE(resolver->resolve(""));
  EXPECT_FALSE(resolver->resolve("not an identity"));
  EXPECT_EQ(fixed->calls, 0);  // none of them is a KeID: the MEF is not asked
  // A KeID the MEF does not know.
  EXPECT_FALSE(resolver->resolve("FFEEDDCCBBAA99887766554433221100@" + std::string(kMefFqdn)));
  EXPECT_EQ(fixed->calls, 1);
  // Without a MEF to ask, a KeID is unknown too.
  use_source(nullptr);
  EXPECT_FALSE(resolver->resolve(kKeId));
}

TEST_F(MafTest, KmIdResolvesCaseInsensitivelyUntilItExpires) {
  add_km_client("km-Src", 0x21, "Csrc", seconds(10));
  for (const char* identity : {"km-src@maf.example.com", "KM-SRC@maf.example.com", "km-Src@MAF.example.com"}) {
    SCOPED_TRACE(identity);
    auto found = resolver->resolve(identity);
    ASSERT_TRUE(found);
    EXPECT_EQ(bytes_of(found->key.view()), bytes_of(key_of(0x21).view()));
    EXPECT_EQ(found->bound_identity, "Csrc");
  }
  w.clock->advance(seconds(9));
  EXPECT_TRUE(resolver->resolve("km-src@maf.example.com"));
  w.clock->advance(seconds(1));
  EXPECT_FALSE(resolver->resolve("km-src@maf.example.com"));
  auto direct = maf::find_credential(*w.store, "km-src@maf.example.com", w.now());
  ASSERT_TRUE(direct);
  EXPECT_FALSE(*direct);
  auto earlier = maf::find_credential(*w.store, "km-src@maf.example.com", w.now() - seconds(1));
  ASSERT_TRUE(earlier && *earlier);
  EXPECT_EQ((*earlier)->client_id, "Csrc");
}

TEST_F(MafTest, KeIdIsFetchedOnceThenKept) {
  auto fixed = std::make_shared<FixedCredentialSource>(kKeId, 0x5a, "Cdev-a", w.now() + hours(1));
  use_source(fixed);
  auto first = resolver->resolve(kKeId);
  ASSERT_TRUE(first);
  EXPECT_EQ(bytes_of(first->key.view()), bytes_of(key_of(0x5a).view()));
  EXPECT_EQ(first->bound_identity, "Cdev-a");
  EXPECT_EQ(fixed->calls, 1);
  EXPECT_EQ(fixed->last_suid, keys::Suid::kRspfMaf);
  // Kept in the store under the KeID (upper-case hex), as the MEF's expiry says.
  auto stored = w.store->find_master_credential(kKeId);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ(bytes_of((*stored)->km.view()), bytes_of(key_of(0x5a).view()));
  EXPECT_EQ((*stored)->client_id, "Cdev-a");
  EXPECT_EQ((*stored)->expires, w.now() + hours(1));

  // Again, and in lower-case hex: from the store, the MEF is not asked again.
  std::string lower = kKeId;
  std::transform(lower.begin(), lower.begin() + 32, lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const std::string& identity : {kKeId, lower}) {
    SCOPED_TRACE(identity);
    auto again = resolver->resolve(identity);
    ASSERT_TRUE(again);
    EXPECT_EQ(bytes_of(again->key.view()), bytes_of(key_of(0x5a).view()));
    EXPECT_EQ(again->bound_identity, "Cdev-a");
  }
  // A resolver of another replica on the same store finds it too.
  maf::CredentialResolver replica(w.store, w.clock, fixed);
  EXPECT_TRUE(replica.resolve(kKeId));
  EXPECT_EQ(fixed->calls, 1);

  // Expired: the stored copy no longer counts, and the MEF's answer (expired too) is refused.
  w.clock->advance(hours(1));
  EXPECT_FALSE(resolver->resolve(kKeId));
  EXPECT_EQ(fixed->calls, 2);
}

TEST_F(MafTest, AnAlreadyExpiredFetchIsNeitherUsedNorKept) {
  auto fixed = std::make_shared<FixedCredentialSource>(kKeId, 0x5a, "Cdev-a", w.now());
  use_source(fixed);
  EXPECT_FALSE(resolver->resolve(kKeId));
  EXPECT_EQ(fixed->calls, 1);
  auto stored = w.store->find_master_credential(kKeId);
  ASSERT_TRUE(stored);
  EXPECT_FALSE(*stored);
}

TEST_F(MafTest, ExpiredKmIdIsRefusedAtTheHandshake) {
  add_km_client("km-old", 0x21, "Cold", seconds(5));
  auto ok = connect_km("km-old", 0x21);
  EXPECT_TRUE(ok->established());
  w.clock->advance(seconds(5));
  auto late = associate(resolver, "km-old@maf.example.com", key_of(0x21), std::string(kMafFqdn));
  EXPECT_FALSE(late->established());
  // An association made before the expiry is refused afterwards, since its credential is checked per request.
  auto r = handle(request(Operation::kRetrieve, "maf", "Cold"), *ok);
  EXPECT_EQ(code(r), 4103) << dump(r);
}

}  // namespace
}  // namespace m2msec::services::test

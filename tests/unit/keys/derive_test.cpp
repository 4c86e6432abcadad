#include <gtest/gtest.h>

#include <type_traits>

#include "m2msec/core/encoding.h"
#include "m2msec/keys/derive.h"
#include "m2msec/keys/export.h"
#include "m2msec/keys/identifiers.h"
#include "vectors.h"

namespace m2msec::keys {
namespace {

// The strong types: a Km is not a Kpsa, keys do not copy and have no ==.
static_assert(!std::is_convertible_v<MasterCredential, ProvisionedScKey>);
static_assert(!std::is_constructible_v<ProvisionedScKey, MasterCredential>);
static_assert(!std::is_copy_constructible_v<EnrolmentKey>);
template <typename T>
concept EqualityComparable = requires(const T& a, const T& b) { a == b; };
static_assert(!EqualityComparable<EnrolmentKey>);
static_assert(!std::is_invocable_v<decltype(&derive_km), const ProvisionedScKey&, std::string_view>,
              "derive_km takes a Ke, nothing else");

EnrolmentKey ke_of(const test::Vector& v) { return EnrolmentKey::from(v.hex("Ke")).value(); }
std::string text_of(const test::Vector& v, const char* field) {
  const Bytes raw = v.hex(field);
  return std::string(as_text(raw));
}

// Known answers from tests/vectors/gen_ts0003.py (Python hmac/hashlib/unicodedata).
TEST(Derive, KnownAnswersFromIndependentScript) {
  int km = 0, kpsa = 0, usage = 0, e2e = 0, esprim = 0;
  test::for_each_vector("ts0003_keys.vec", [&](const test::Vector& v) {
    if (v.section == "Km") {
      auto key = derive_km(ke_of(v), text_of(v, "MafId"));
      ASSERT_TRUE(key) << key.error().to_string();
      EXPECT_EQ(hex_encode(key->view()), v.text("Km"));
      ++km;
    } else if (v.section == "Kpsa") {
      auto key = derive_kpsa(ke_of(v), text_of(v, "PeerId"));
      ASSERT_TRUE(key) << key.error().to_string();
      EXPECT_EQ(hex_encode(key->view()), v.text("Kpsa"));
      ++kpsa;
    } else if (v.section == "UsageKey") {
      const auto suid = suid_from_int(static_cast<unsigned>(std::stoul(v.text("Suid"))));
      ASSERT_TRUE(suid);
      auto key = derive_usage_constrained_key(ke_of(v), *suid, text_of(v, "TargetId"));
      ASSERT_TRUE(key) << key.error().to_string();
      EXPECT_EQ(hex_encode(key->view()), v.text("Key"));
      ++usage;
    } else if (v.section == "E2e") {
      auto kp = ProvisionedScKey::from(v.hex("Kpsa"));
      ASSERT_TRUE(kp);
      auto keys = derive_e2e_keys(*kp, v.hex("Salt"));
      ASSERT_TRUE(keys) << keys.error().to_string();
      EXPECT_EQ(hex_encode(keys->master.view()), v.text("Ke2e_master"));
      EXPECT_EQ(hex_encode(keys->msg_auth.view()), v.text("Ke2e_msg_auth"));
      EXPECT_EQ(hex_encode(keys->msg_conf.view()), v.text("Ke2e_msg_conf"));
      EXPECT_EQ(hex_encode(keys->att_auth.view()), v.text("Ke2e_att_auth"));
      EXPECT_EQ(hex_encode(keys->att_conf.view()), v.text("Ke2e_att_conf"));
      ++e2e;
    } else if (v.section == "SessionEsprim") {
      auto pairwise = PairwiseEsprimKey::from(v.hex("Pairwise"));
      ASSERT_TRUE(pairwise);
      auto key = derive_session_esprim_key(*pairwise, v.hex("ReceiverRand"), v.hex("OriginatorRand"));
      ASSERT_TRUE(key);
      EXPECT_EQ(hex_encode(key->view()), v.text("Key"));
      ++esprim;
    }
  });
  EXPECT_GT(km, 0);
  EXPECT_GT(kpsa, 0);
  EXPECT_GT(usage, 0);
  EXPECT_GT(e2e, 0);
  EXPECT_GT(esprim, 0);
}

TEST(ExportSplit, KnownAnswersFromIndependentScript) {
  int count = 0;
  test::for_each_vector("ts0003_keys.vec", [&](const test::Vector& v) {
    if (v.section != "ExportSplit") return;
    const Bytes exported = v.hex("Exported");
    const std::string& label = v.text("Label");
    if (label == "bootstrap") {
      auto s = split_bootstrap_export(exported);
      ASSERT_TRUE(s);
      EXPECT_EQ(hex_encode(s->key.view()), v.text("Key"));
      EXPECT_EQ(KeId(s->id, Fqdn::parse(v.text("Fqdn")).value()).to_string(), v.text("Id"));
    } else if (label == "connection") {
      auto s = split_connection_export(exported);
      ASSERT_TRUE(s);
      EXPECT_EQ(hex_encode(s->key.view()), v.text("Key"));
      EXPECT_EQ(KeyIdentifier::from_kc_id(s->id, Fqdn::parse(v.text("Fqdn")).value()).to_string(), v.text("Id"));
    } else {
      auto s = split_escertke_export(exported);
      ASSERT_TRUE(s);
      EXPECT_EQ(hex_encode(s->key.view()), v.text("Key"));
      EXPECT_EQ(hex_encode(s->id.view(), kIdentifierHexCase), v.text("Id"));
    }
    ++count;
  });
  EXPECT_EQ(count, 3);
}

TEST(ExportSplit, LabelsAreExact) {
  EXPECT_EQ(exporter_label(ExportLabel::kBootstrap), "EXPORTER-oneM2M-Bootstrap");
  EXPECT_EQ(exporter_label(ExportLabel::kConnection), "EXPORTER-oneM2M-Connection");
  EXPECT_EQ(exporter_label(ExportLabel::kEscertke), "EXPORTER-oneM2M-ESCertKE");
  EXPECT_EQ(export_label_named("connection"), ExportLabel::kConnection);
  EXPECT_FALSE(export_label_named("Bootstrap"));
}

TEST(ExportSplit, RefusesAnyLengthButFortyEight) {
  for (std::size_t n : {0u, 16u, 32u, 47u, 49u, 64u}) {
    auto s = split_bootstrap_export(Bytes(n, 1));
    ASSERT_FALSE(s) << n;
    EXPECT_EQ(s.error().category(), Category::kUsage);
  }
}

TEST(Derive, KeysHaveFixedSizes) {
  EXPECT_FALSE(EnrolmentKey::from(Bytes(31)));
  EXPECT_FALSE(EnrolmentKey::from(Bytes(33)));
  EXPECT_TRUE(EnrolmentKey::from(Bytes(32)));
}

TEST(Derive, NfkcEquivalentIdentitiesGiveTheSameKey) {
  const EnrolmentKey ke = EnrolmentKey::from(Bytes(32, 7)).value();
  auto plain = derive_km(ke, "maf.example.com");
  auto wide = derive_km(ke, "\xef\xbd\x8d\xef\xbd\x81\xef\xbd\x86.example.com");  // full-width "maf"
  ASSERT_TRUE(plain && wide);
  EXPECT_TRUE(ct::equal(plain->view(), wide->view()));
  auto other = derive_km(ke, "maf2.example.com");
  ASSERT_TRUE(other);
  EXPECT_FALSE(ct::equal(plain->view(), other->view()));
}

TEST(Derive, RefusesBadIdentities) {
  const EnrolmentKey ke = EnrolmentKey::from(Bytes(32, 7)).value();
  for (std::string_view bad : {std::string_view(""), std::string_view("\xc0\xaf"),  // overlong '/'
                               std::string_view("\xed\xa0\x80"),                       // UTF-16 surrogate
                               std::string_view("ab\xe2\x82"),                         // truncated sequence
                               std::string_view("\xff")}) {
    auto km = derive_km(ke, bad);
    ASSERT_FALSE(km);
    EXPECT_EQ(km.error().category(), Category::kUsage);
    EXPECT_FALSE(derive_kpsa(ke, bad));
    EXPECT_FALSE(derive_usage_constrained_key(ke, Suid::kRspfSaef, bad));
  }
}

TEST(Suid, OnlyDefinedValuesAndDecimalOctets) {
  EXPECT_EQ(suid_from_int(22), Suid::kRspfSaef);
  for (unsigned bad : {0u, 1u, 9u, 16u, 20u, 26u, 31u, 36u, 46u, 255u, 256u}) EXPECT_FALSE(suid_from_int(bad)) << bad;
  EXPECT_EQ(suid_octets(Suid::kRspfSaef), "22");
  EXPECT_EQ(suid_octets(Suid::kPreProvisionedMef), "10");
}

TEST(Derive, E2eRefusesEmptyInputKeyingMaterial) {
  EXPECT_FALSE(derive_e2e_keys_from_source_random({}, Bytes(16, 1)));
  // A source-generated random value takes Kpsa's place (10.3.6.1 NOTE): same formula, same result.
  auto from_random = derive_e2e_keys_from_source_random(Bytes(32, 9), {});
  auto from_kpsa = derive_e2e_keys(ProvisionedScKey::from(Bytes(32, 9)).value(), {});
  ASSERT_TRUE(from_random && from_kpsa);
  EXPECT_TRUE(ct::equal(from_random->att_conf.view(), from_kpsa->att_conf.view()));
}

}  // namespace
}  // namespace m2msec::keys

// A real maf::Service on a real store, its CredentialResolver as the server's PSK resolver, KmID clients
// (pre-provisioned master credentials) and a CredentialSource test double that counts its calls.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "association.h"
#include "m2msec/maf/service.h"
#include "m2msec/mef/credentials.h"

namespace m2msec::services::test {

inline constexpr std::string_view kMafRoot = "m2m:mafcr";
inline constexpr std::string_view kMafKeyRoot = "m2m:mafkr";

// A MEF that knows one KeID with a fixed Km (a test double of the interface the MAF uses).
class FixedCredentialSource final : public mef::CredentialSource {
 public:
  FixedCredentialSource(std::string ke_id, std::uint8_t fill, std::string enrolee_id, store::Time expires)
      : m_ke_id(std::move(ke_id)), m_fill(fill), m_enrolee_id(std::move(enrolee_id)), m_expires(expires) {}
  Result<mef::FetchedCredential> fetch(const keys::KeId& ke_id, keys::Suid suid) const override {
    ++calls;
    last_suid = suid;
    if (ke_id.to_string() != m_ke_id) {
      return Error(Category::kPolicy, Rsc::kOriginatorHasNoPrivilege, "no credential for this target");
    }
    return mef::FetchedCredential{key_of(m_fill), m_enrolee_id, m_expires};
  }
  mutable std::atomic<int> calls{0};
  mutable std::optional<keys::Suid> last_suid;

 private:
  std::string m_ke_id;
  std::uint8_t m_fill;
  std::string m_enrolee_id;
  store::Time m_expires;
};

class MafTest : public ::testing::Test {
 protected:
  World w;
  std::shared_ptr<maf::Service> maf;
  std::shared_ptr<const mef::CredentialSource> source;
  std::shared_ptr<maf::CredentialResolver> resolver;

  void SetUp() override {
    ASSERT_TRUE(w.store);
    make_service();
  }

  void make_service(std::optional<json::Object> cfg = std::nullopt) {
    maf::ServiceOptions o{.fqdn = fqdn(kMafFqdn), .store = w.store, .clock = w.clock, .client_cfg = std::move(cfg)};
    maf = std::make_shared<maf::Service>(std::move(o));
    resolver = std::make_shared<maf::CredentialResolver>(w.store, w.clock, source);
  }
  void use_source(std::shared_ptr<const mef::CredentialSource> s) {
    source = std::move(s);
    resolver = std::make_shared<maf::CredentialResolver>(w.store, w.clock, source);
  }

  // A pre-provisioned KmID client ("<relative>@maf.example.com").
  void add_km_client(const std::string& relative, std::uint8_t fill, const std::string& client_id,
                     std::chrono::seconds valid = std::chrono::hours(24 * 365)) {
    auto canonical = tls::canonical_psk_identity(tls::PskIdentityKind::kKmId, relative + "@" + std::string(kMafFqdn));
    ASSERT_TRUE(canonical) << canonical.error().to_string();
    auto put = w.store->put_master_credential(
        store::MasterCredential{*canonical, key_of(fill), client_id, w.now() + valid});
    ASSERT_TRUE(put) << put.error().to_string();
  }

  std::unique_ptr<Association> connect(const std::string& identity, SecretBytes key) {
    auto a = associate(resolver, identity, std::move(key), std::string(kMafFqdn));
    EXPECT_TRUE(a->established()) << "the MAF handshake with " << identity << " failed";
    return a;
  }
  std::unique_ptr<Association> connect_km(const std::string& relative, std::uint8_t fill) {
    return connect(relative + "@" + std::string(kMafFqdn), key_of(fill));
  }

  onem2m::Response handle(const onem2m::Request& r, const Association& a) const {
    return maf->handle(r, a.server.get());
  }

  json::Object registration(std::string_view admin = kAdmin, std::chrono::seconds et = std::chrono::hours(24)) const {
    return json::Object{{"fqdn", std::string(kMafFqdn)}, {"et", w.at(et)}, {"adfq", std::string(admin)}};
  }
  onem2m::Response do_register(const Association& a, const std::string& from, std::string_view admin = kAdmin,
                               std::chrono::seconds et = std::chrono::hours(24)) const {
    return handle(create("maf", from, onem2m::ResourceType::kMafClientReg, registration(admin, et)), a);
  }

  json::Object key_registration(unsigned suid, json::Array targets,
                                std::chrono::seconds et = std::chrono::hours(24)) const {
    json::Object o{{"fqdn", std::string(kMafFqdn)}, {"et", w.at(et)}, {"adfq", std::string(kAdmin)},
                   {"suid", static_cast<std::int64_t>(suid)}};
    if (!targets.empty()) o.set("tgis", std::move(targets));
    return o;
  }
  onem2m::Response register_key(const Association& a, const std::string& from, json::Object attributes) const {
    return handle(create("maf", from, onem2m::ResourceType::kMafKeyReg, std::move(attributes)), a);
  }
};

}  // namespace m2msec::services::test

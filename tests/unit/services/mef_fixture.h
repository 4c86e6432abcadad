// A real mef::Service on a real store, its EnroleeResolver as the server's PSK resolver, and enrolees
// (KpmID/Kpm) to connect with.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "association.h"
#include "m2msec/mef/service.h"

namespace m2msec::services::test {

inline constexpr std::string_view kMefRoot = "m2m:mefcr";
inline constexpr std::string_view kCmdRoot = "m2m:mefcc";
inline constexpr std::string_view kMefKeyRoot = "m2m:mefkr";

class MefTest : public ::testing::Test {
 protected:
  World w;
  std::shared_ptr<mef::Service> mef;
  std::shared_ptr<mef::EnroleeResolver> resolver;

  void SetUp() override {
    ASSERT_TRUE(w.store);
    resolver = std::make_shared<mef::EnroleeResolver>(w.store);
    make_service();
  }

  mef::ServiceOptions options() const {
    return mef::ServiceOptions{.fqdn = fqdn(kMefFqdn),
                               .store = w.store,
                               .clock = w.clock,
                               .enrolment_lifetime = std::chrono::hours(24 * 30),
                               .default_target = std::string(kMafFqdn),
                               .retry_duration = std::chrono::minutes(90)};
  }
  void make_service(std::optional<json::Object> cfg = std::nullopt) {
    mef::ServiceOptions o = options();
    o.client_cfg = std::move(cfg);
    mef = std::make_shared<mef::Service>(std::move(o));
  }

  void add_enrolee(const std::string& kpm_id, std::uint8_t fill, const std::string& enrolee_id,
                   const std::string& target = "", std::chrono::seconds lifetime = std::chrono::seconds(0)) {
    store::Enrolee e;
    e.kpm_id = kpm_id;
    e.kpm = key_of(fill);
    e.enrolee_id = enrolee_id;
    e.target_id = target;
    e.lifetime = lifetime;
    auto added = w.store->add_enrolee(e);
    ASSERT_TRUE(added) << added.error().to_string();
  }

  std::unique_ptr<Association> connect(const std::string& kpm_id, std::uint8_t fill) {
    auto a = associate(resolver, kpm_id, key_of(fill));
    EXPECT_TRUE(a->established()) << "the MEF handshake with " << kpm_id << " failed";
    return a;
  }

  onem2m::Response handle(const onem2m::Request& r, const Association& a) const {
    return mef->handle(r, a.server.get());
  }

  json::Object registration(std::string_view admin = kAdmin, std::chrono::seconds et = std::chrono::hours(24)) const {
    return json::Object{{"fqdn", std::string(kMefFqdn)}, {"et", w.at(et)}, {"adfq", std::string(admin)}};
  }

  onem2m::Response do_register(const Association& a, const std::string& from, std::string_view admin = kAdmin,
                               std::chrono::seconds et = std::chrono::hours(24)) const {
    return handle(create("mef", from, onem2m::ResourceType::kMefClientReg, registration(admin, et)), a);
  }

  // The client's own Ke and KeID text (hexBinary(RelativeKeID) "@" MEF-FQDN, upper-case hex).
  struct ClientEnrolment {
    Bytes ke;
    std::string ke_id;
  };
  static ClientEnrolment client_enrolment(const Association& a) {
    SecretBytes exported = a.client_export(keys::ExportLabel::kBootstrap);
    auto split = keys::split_bootstrap_export(exported.view());
    EXPECT_TRUE(split);
    if (!split) return {};
    return ClientEnrolment{bytes_of(split->key.view()),
                           hex_encode(split->id.view(), HexCase::kUpper) + "@" + std::string(kMefFqdn)};
  }
};

}  // namespace m2msec::services::test

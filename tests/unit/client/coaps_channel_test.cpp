// client::Endpoint / Channel with coaps:// URLs (TS-0008 CoAP binding over DTLS 1.2): the DTLS profile of the
// credential's kind is chosen, everything else of the configuration stays; a Channel reaches coap::Server with
// the oneM2M binding, the originator is the PSK's Credential-ID, and both ends export the same keying material.
#include <gtest/gtest.h>

#include <mutex>
#include <optional>

#include "../tls/pair.h"
#include "m2msec/client/channel.h"
#include "m2msec/coap/onem2m.h"
#include "m2msec/coap/server.h"
#include "m2msec/core/text.h"
#include "m2msec/tls/profile.h"

namespace m2msec::client {
namespace {

using tls::loopback::kAuthority;
using tls::loopback::kIdentity;
using tls::loopback::key_of;

TEST(CoapsEndpoint, TheDtlsProfileOfTheSameCredentialKind) {
  auto psk = Endpoint::psk("coaps://127.0.0.1:5684/mef", std::string(kAuthority), tls::PskIdentityKind::kKpsaId,
                           tls::ClientPsk{std::string(kIdentity), key_of(1)});
  ASSERT_TRUE(psk) << psk.error().to_string();
  EXPECT_EQ(psk->binding, Endpoint::Binding::kCoap);
  EXPECT_EQ(psk->tls->config().profile->name, "ts0003-dtls12-psk");
  EXPECT_EQ(psk->tls->config().server_name, kAuthority);
  EXPECT_EQ(psk->target(), "/mef");
  EXPECT_EQ(psk->coap_url.port, 5684);
  // The same call with https keeps the TLS profile.
  auto https = Endpoint::psk("https://127.0.0.1:8443/mef", std::string(kAuthority), tls::PskIdentityKind::kKpsaId,
                             tls::ClientPsk{std::string(kIdentity), key_of(1)});
  ASSERT_TRUE(https);
  EXPECT_EQ(https->binding, Endpoint::Binding::kHttp);
  EXPECT_EQ(https->tls->config().profile->name, "ts0003-tls12-psk");

  // Certificates: the same config (own chain, anchors, flavour), ts0003-dtls12-cert.
  const auto& pki = pki::test::TestPki::shared();
  ASSERT_TRUE(pki.ok());
  tls::Config config;
  config.profile = tls::find_profile("ts0003-tls12-cert");
  config.certificate = tls::CertificateCredential::load(pki.file("client.chain.pem"), pki.file("client.key")).value();
  config.peer_policy = tls::PeerCertificatePolicy{pki::TrustStore::load(pki.file("root.pem"), "").value(),
                                                  pki::Flavour::kFqdn, std::nullopt};
  auto cert = Endpoint::make("coaps://mef.m2m.example.com/mef", std::move(config), "Cclient");
  ASSERT_TRUE(cert) << cert.error().to_string();
  EXPECT_EQ(cert->tls->config().profile->name, "ts0003-dtls12-cert");
  EXPECT_EQ(cert->tls->config().server_name, "mef.m2m.example.com");
  EXPECT_EQ(cert->tls->config().peer_policy->flavour, pki::Flavour::kFqdn);

  // coap:// is plain: not through make/psk; only through plain().
  auto plain = Endpoint::psk("coap://127.0.0.1:5683/mef", std::string(kAuthority), tls::PskIdentityKind::kKpsaId,
                             tls::ClientPsk{std::string(kIdentity), key_of(1)});
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().category(), Category::kUsage);
  auto allowed = Endpoint::plain("coap://127.0.0.1:5683/cse", "CAdmin");
  ASSERT_TRUE(allowed) << allowed.error().to_string();
  EXPECT_EQ(allowed->tls, nullptr);
  EXPECT_FALSE(Endpoint::plain("coaps://127.0.0.1/cse", "CAdmin"));
  // The base resource, as for https.
  EXPECT_FALSE(Endpoint::psk("coaps://127.0.0.1/", std::string(kAuthority), tls::PskIdentityKind::kKpsaId,
                             tls::ClientPsk{std::string(kIdentity), key_of(1)}));
  EXPECT_FALSE(Endpoint::psk("coaps://127.0.0.1/mef/x", std::string(kAuthority), tls::PskIdentityKind::kKpsaId,
                             tls::ClientPsk{std::string(kIdentity), key_of(1)}));
}

// A base resource served by coap::Server over DTLS PSK, read through a Channel (the FQDN of m2m:mefb).
struct BaseResourceServer {
  std::mutex mutex;
  std::optional<onem2m::Request> received;
  std::optional<SecretBytes> exported;
  std::unique_ptr<coap::Server> server;

  explicit BaseResourceServer(std::shared_ptr<const tls::Context> dtls) {
    coap::ServerOptions options;
    options.dtls = std::move(dtls);
    options.handler = coap::primitive_handler([this](const onem2m::Request& request, const coap::Connection& connection) {
      std::lock_guard lock(mutex);
      received = request;
      if (connection.session != nullptr) {
        auto e = connection.session->export_keying_material(tls::loopback::kLabel, 32);
        if (e) exported = std::move(e).value();
      }
      onem2m::Response response;
      response.rqi = request.rqi;
      response.pc = json::Value(json::Object{{"m2m:mefb", json::Value(json::Object{{"fqdn", json::Value("mef.m2m.example.com")}})}});
      return response;
    });
    auto started = coap::Server::start(std::move(options));
    EXPECT_TRUE(started) << started.error().to_string();
    if (started) server = std::move(started).value();
  }
};

TEST(CoapsChannel, ReadsTheBaseResourceOverDtlsPsk) {
  BaseResourceServer base(tls::loopback::psk_server(tls::find_profile("ts0003-dtls12-psk")));
  ASSERT_TRUE(base.server);
  const std::string url = concat({"coaps://127.0.0.1:", std::to_string(base.server->port()), "/mef"});
  auto endpoint = Endpoint::psk(url, std::string(kAuthority), tls::PskIdentityKind::kKpsaId,
                                tls::ClientPsk{std::string(kIdentity), key_of(1)});
  ASSERT_TRUE(endpoint) << endpoint.error().to_string();
  auto channel = Channel::open(*endpoint);
  ASSERT_TRUE(channel) << channel.error().to_string();
  EXPECT_TRUE(channel->secured());
  EXPECT_EQ(channel->base(), "mef");
  auto fqdn = channel->fqdn();
  ASSERT_TRUE(fqdn) << fqdn.error().to_string();
  EXPECT_EQ(fqdn->text(), "mef.m2m.example.com");
  auto mine = channel->session().export_keying_material(tls::loopback::kLabel, 32);
  ASSERT_TRUE(mine);
  std::lock_guard lock(base.mutex);
  ASSERT_TRUE(base.received);
  EXPECT_EQ(base.received->op, onem2m::Operation::kRetrieve);
  EXPECT_EQ(base.received->to, "mef");
  // From: the Credential-ID of the PSK (TS-0003 10.4: type 12 for a KpsaID).
  EXPECT_EQ(base.received->fr, concat({"12-", kIdentity}));
  ASSERT_TRUE(base.exported);
  EXPECT_TRUE(tls::loopback::same(*base.exported, *mine));
}

TEST(CoapsChannel, AWrongKeyFailsTheHandshake) {
  BaseResourceServer base(tls::loopback::psk_server(tls::find_profile("ts0003-dtls12-psk")));
  ASSERT_TRUE(base.server);
  const std::string url = concat({"coaps://127.0.0.1:", std::to_string(base.server->port()), "/mef"});
  tls::Config config;
  config.profile = tls::find_profile("ts0003-tls12-psk");
  config.server_name = std::string(kAuthority);
  config.psk = tls::ClientPsk{std::string(kIdentity), key_of(2)};
  config.dtls_handshake_timeout = tls::loopback::kDtlsTimeout;
  auto endpoint = Endpoint::make(url, std::move(config), "Cx");
  ASSERT_TRUE(endpoint) << endpoint.error().to_string();
  auto channel = Channel::open(*endpoint);
  ASSERT_FALSE(channel);
  std::lock_guard lock(base.mutex);
  EXPECT_FALSE(base.received);
}

}  // namespace
}  // namespace m2msec::client

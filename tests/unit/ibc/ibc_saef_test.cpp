// The IBC-based SAEF (docs/ibc-saef.md): two entities with IBC credentials of one KMS run the two-message exchange,
// then a real TLS-PSK handshake with the derived key, which binds each end to the other's CSE-ID or AE-ID; and every
// refusal: tampered messages, another KMS, an expired or foreign ID_2, the wrong responder, replays.
#include <gtest/gtest.h>

#include "../tls/pair.h"
#include "m2msec/core/encoding.h"
#include "m2msec/ibc/eccsi.h"
#include "m2msec/ibc/identity.h"
#include "m2msec/ibc/saef.h"
#include "m2msec/tls/profile.h"

namespace m2msec::ibc {
namespace {

using std::chrono::sys_days;
const auto kStart = std::chrono::system_clock::time_point(sys_days(std::chrono::year(2030) / 1 / 1));
constexpr std::string_view kMef = "mef.example.com";
constexpr std::string_view kAe = "CAE-A";      // the initiator, an AE
constexpr std::string_view kCse = "/cse-b";    // the responder, a CSE

std::string id2_of(std::string_view fqdn, std::string_view id, int days = 30) {
  IbcIdentity made{std::string(fqdn), Bytes(as_bytes(id).begin(), as_bytes(id).end()),
                   std::chrono::sys_seconds(sys_days(std::chrono::year(2030) / 1 / 1)) + std::chrono::days(days)};
  return made.format().value();
}

SaefCredential credential(const EccsiKms& kms, std::string id2) {
  auto key = kms.issue(as_bytes(id2));
  EXPECT_TRUE(key) << key.error().to_string();
  auto signer = EccsiSigner::validate(kms.kpak(), as_bytes(id2), std::move(*key));
  EXPECT_TRUE(signer) << signer.error().to_string();
  return SaefCredential{std::move(id2), std::move(*signer), kms.kpak()};
}

class IbcSaefTest : public ::testing::Test {
 protected:
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(kStart);
  EccsiKms kms = EccsiKms::generate().value();
  SaefCredential a = credential(kms, id2_of(kMef, kAe));
  SaefCredential b = credential(kms, id2_of(kMef, kCse));
  SaefPolicy policy{{}, clock};

  Bytes start(std::optional<SaefInitiator>& initiator, std::string responder = std::string(kCse)) {
    auto started = SaefInitiator::start(a, std::move(responder), policy);
    EXPECT_TRUE(started) << started.error().to_string();
    if (!started) return {};
    initiator.emplace(std::move(started->first));
    return started->second;
  }
};

void expect_refused(const auto& result, Category category, std::string_view what) {
  ASSERT_FALSE(result) << what;
  EXPECT_EQ(result.error().category(), category) << what << ": " << result.error().to_string();
}

// A TLS 1.2 PSK handshake: the server resolves through `store`, the client offers (identity, key).
tls::loopback::Pair handshake(const std::shared_ptr<SaefKeyStore>& store, const std::string& identity, ByteView key) {
  const tls::SecurityProfile* profile = tls::find_profile("ts0003-tls12-psk");
  tls::Config server;
  server.role = tls::Role::kServer;
  server.profile = profile;
  server.psk_resolver = store;
  tls::Config client;
  client.profile = profile;
  client.server_name = "cse-b.example.com";
  client.psk = tls::ClientPsk{identity, SecretBytes::copy_of(key)};
  return tls::loopback::run_pair(tls::loopback::must(tls::Context::create(std::move(client))),
                                 tls::loopback::must(tls::Context::create(std::move(server))));
}

TEST_F(IbcSaefTest, BothEndsDeriveOneKeyAndTheTlsAssociationBindsThePeers) {
  std::optional<SaefInitiator> initiator;
  const Bytes message1 = start(initiator);
  auto answered = saef_respond(b, policy, message1);
  ASSERT_TRUE(answered) << answered.error().to_string();
  auto key_a = initiator->finish(answered->first);
  ASSERT_TRUE(key_a) << key_a.error().to_string();
  const SaefKey& key_b = answered->second;
  EXPECT_EQ(hex_encode(key_a->psk.view()), hex_encode(key_b.psk.view()));
  EXPECT_EQ(key_a->psk.size(), 32u);
  EXPECT_EQ(key_a->psk_identity, key_b.psk_identity);
  EXPECT_TRUE(key_a->psk_identity.starts_with("ibc-saef:"));
  EXPECT_EQ(key_a->peer_id, kCse);
  EXPECT_EQ(key_b.peer_id, kAe);
  EXPECT_EQ(key_a->peer_id2, b.id2);

  auto store = std::make_shared<SaefKeyStore>(clock, std::chrono::seconds(60), 16);
  store->add(SaefKey{key_b.psk_identity, key_b.psk.clone(), key_b.peer_id, key_b.peer_id2});
  const auto pair = handshake(store, key_a->psk_identity, key_a->psk.view());
  ASSERT_FALSE(pair.client.handshake_error) << pair.client.handshake_error->to_string();
  ASSERT_FALSE(pair.server.handshake_error) << pair.server.handshake_error->to_string();
  ASSERT_TRUE(pair.server.peer);
  EXPECT_EQ(pair.server.peer->identity, kAe);  // the association is bound to A's AE-ID
  ASSERT_TRUE(pair.client.exported && pair.server.exported);
  EXPECT_EQ(hex_encode(pair.client.exported->view()), hex_encode(pair.server.exported->view()));
  EXPECT_EQ(pair.server.received, "ping");
}

TEST_F(IbcSaefTest, TwoExchangesGiveUnrelatedKeys) {
  std::optional<SaefInitiator> first, second;
  auto one = saef_respond(b, policy, start(first));
  auto two = saef_respond(b, policy, start(second));
  ASSERT_TRUE(one && two);
  EXPECT_NE(hex_encode(one->second.psk.view()), hex_encode(two->second.psk.view()));
  EXPECT_NE(one->second.psk_identity, two->second.psk_identity);
}

TEST_F(IbcSaefTest, TamperedMessagesAreRefused) {
  std::optional<SaefInitiator> initiator;
  const Bytes message1 = start(initiator);
  // Every octet after the header changed in turn, in steps (the ID_2, the responder ID, X_A, N_A, the signature).
  for (std::size_t at = 2; at < message1.size(); at += 7) {
    Bytes changed = message1;
    changed[at] ^= 0x20;
    auto answered = saef_respond(b, policy, changed);
    EXPECT_FALSE(answered) << "octet " << at;
  }
  auto answered = saef_respond(b, policy, message1);
  ASSERT_TRUE(answered);
  for (std::size_t at = 2; at < answered->first.size(); at += 7) {
    Bytes changed = answered->first;
    changed[at] ^= 0x20;
    EXPECT_FALSE(initiator->finish(changed)) << "octet " << at;
  }
  // The signature's last octet specifically: a signature failure is kAuth.
  Bytes last = message1;
  last.back() ^= 0x01;
  expect_refused(saef_respond(b, policy, last), Category::kAuth, "message 1 signature");
  Bytes last2 = answered->first;
  last2.back() ^= 0x01;
  expect_refused(initiator->finish(last2), Category::kAuth, "message 2 signature");
}

TEST_F(IbcSaefTest, PeersOfAnotherKmsAreRefused) {
  EccsiKms other = EccsiKms::generate().value();
  SaefCredential mallory = credential(other, id2_of(kMef, kAe));  // A's ID_2, but keys of another KMS
  auto started = SaefInitiator::start(mallory, std::string(kCse), policy);
  ASSERT_TRUE(started);
  expect_refused(saef_respond(b, policy, started->second), Category::kAuth, "initiator of another KMS");
  SaefCredential fake_b = credential(other, id2_of(kMef, kCse));
  std::optional<SaefInitiator> initiator;
  auto answered = saef_respond(fake_b, SaefPolicy{{}, clock}, start(initiator));
  ASSERT_FALSE(answered);  // fake B trusts its own KMS only, so A's message 1 is refused there too
  // A responder of another KMS answering A's message 1 anyway: A refuses message 2.
  SaefCredential lenient_b = credential(other, id2_of(kMef, kCse));
  lenient_b.kpak = kms.kpak();  // it verifies A correctly but signs with keys A's KMS never issued
  auto forged = saef_respond(lenient_b, policy, start(initiator));
  ASSERT_TRUE(forged) << forged.error().to_string();
  expect_refused(initiator->finish(forged->first), Category::kAuth, "responder of another KMS");
}

TEST_F(IbcSaefTest, ExpiredOrForeignIdentitiesAreRefused) {
  SaefCredential short_lived = credential(kms, id2_of(kMef, kAe, 1));
  auto started = SaefInitiator::start(short_lived, std::string(kCse), policy);
  ASSERT_TRUE(started);
  clock->advance(std::chrono::days(2));
  expect_refused(saef_respond(b, policy, started->second), Category::kAuth, "expired initiator");
  // An ID_2 issued by a MEF this responder does not accept, though by the same KMS.
  SaefCredential foreign = credential(kms, id2_of("other-mef.example.com", kAe));
  auto foreign_started = SaefInitiator::start(foreign, std::string(kCse), policy);
  ASSERT_TRUE(foreign_started);
  expect_refused(saef_respond(b, policy, foreign_started->second), Category::kAuth, "foreign FQDN");
  // Accepted when the policy names that FQDN.
  SaefPolicy both{{std::string(kMef), "other-mef.example.com"}, clock};
  EXPECT_TRUE(saef_respond(b, both, foreign_started->second));
}

TEST_F(IbcSaefTest, TheWrongResponderIsRefused) {
  // A wants /cse-c; /cse-b refuses to answer for it.
  std::optional<SaefInitiator> initiator;
  expect_refused(saef_respond(b, policy, start(initiator, "/cse-c")), Category::kAuth, "message 1 for another");
  // Another genuine entity answering a message 1 meant for /cse-b: A refuses message 2.
  SaefCredential c = credential(kms, id2_of(kMef, "/cse-c"));
  std::optional<SaefInitiator> to_b;
  const Bytes message1 = start(to_b);
  auto relayed = saef_respond(c, policy, start(initiator, "/cse-c"));
  ASSERT_TRUE(relayed);
  expect_refused(to_b->finish(relayed->first), Category::kAuth, "message 2 of another responder");
}

TEST_F(IbcSaefTest, ReplaysGiveNothing) {
  std::optional<SaefInitiator> first, second;
  const Bytes message1 = start(first);
  auto answered = saef_respond(b, policy, message1);
  ASSERT_TRUE(answered);
  // Message 2 of one exchange does not complete another.
  start(second);
  expect_refused(second->finish(answered->first), Category::kAuth, "replayed message 2");
  // Message 1 replayed to B: B answers with a fresh key, which the replayer cannot compute; guessing fails the
  // TLS handshake exactly like an unknown identity.
  auto replayed = saef_respond(b, policy, message1);
  ASSERT_TRUE(replayed);
  EXPECT_NE(hex_encode(replayed->second.psk.view()), hex_encode(answered->second.psk.view()));
  const std::string identity = replayed->second.psk_identity;
  auto store = std::make_shared<SaefKeyStore>(clock, std::chrono::seconds(60), 16);
  store->add(std::move(replayed->second));
  auto guessed = handshake(store, identity, answered->second.psk.view());
  EXPECT_TRUE(guessed.server.handshake_error);
  EXPECT_TRUE(guessed.client.handshake_error);
  auto unknown = handshake(store, "ibc-saef:00000000000000000000000000000000", answered->second.psk.view());
  EXPECT_TRUE(unknown.server.handshake_error);
}

TEST_F(IbcSaefTest, MalformedMessagesAreRefused) {
  std::optional<SaefInitiator> initiator;
  const Bytes message1 = start(initiator);
  for (const std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{3}, message1.size() - 1}) {
    expect_refused(saef_respond(b, policy, ByteView(message1).first(cut)), Category::kProtocol, "truncated");
  }
  Bytes longer = message1;
  longer.push_back(0);
  expect_refused(saef_respond(b, policy, longer), Category::kProtocol, "trailing octet");
  Bytes wrong_type = message1;
  wrong_type[1] = 2;
  expect_refused(saef_respond(b, policy, wrong_type), Category::kProtocol, "message 2 where 1 is due");
  expect_refused(initiator->finish(message1), Category::kProtocol, "message 1 where 2 is due");
}

TEST(IbcSaefKeyStore, KeysExpireAndTheOldestMakesRoom) {
  auto clock = std::make_shared<ManualClock>(kStart);
  SaefKeyStore store(clock, std::chrono::seconds(60), 2);
  const auto key = [](std::string name) { return SaefKey{std::move(name), SecretBytes(32), "CAE", "x"}; };
  store.add(key("one"));
  store.add(key("two"));
  ASSERT_TRUE(store.resolve("one"));
  EXPECT_EQ(store.resolve("one")->bound_identity, "CAE");
  store.add(key("three"));
  EXPECT_FALSE(store.resolve("one"));
  EXPECT_TRUE(store.resolve("two") && store.resolve("three"));
  clock->advance(std::chrono::seconds(60));
  EXPECT_FALSE(store.resolve("two"));
  EXPECT_FALSE(store.resolve("three"));
}

}  // namespace
}  // namespace m2msec::ibc

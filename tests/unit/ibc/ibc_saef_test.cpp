// The IBC-based SAEF (docs/ibc-saef.md): two entities with IBC credentials of one KMS run the two-message exchange,
// then a real TLS-PSK handshake with the derived key, which binds each end to the other's CSE-ID or AE-ID; and every
// refusal: tampered messages, another KMS, an expired or foreign ID_2, the wrong responder, replays. The message
// layout and Sig_A/Sig_B are checked against the documented octets with wolfSSL's ECCSI and SHA-256 (an independent
// implementation, test-only oracle).
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/eccsi.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include <gtest/gtest.h>

#include "../tls/pair.h"
#include "m2msec/core/encoding.h"
#include "m2msec/ibc/eccsi.h"
#include "m2msec/ibc/identity.h"
#include "m2msec/ibc/saef.h"
#include "m2msec/tls/profile.h"
#include "wolfssl_oracle.h"

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
  EXPECT_TRUE(unknown.client.handshake_error);
  EXPECT_FALSE(unknown.server.peer);
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

// wolfSSL's ECCSI verification (RFC 6507 §5.2.2): 1 accepts, 0 rejects, negative a wolfSSL error.
int wolf_verify(ByteView kpak, std::string_view id, ByteView message, ByteView sig) {
  EccsiKey key{};
  if (wc_InitEccsiKey(&key, nullptr, INVALID_DEVID) != 0) return -1;
  test::WolfPoint pvt;
  byte hs[WC_MAX_DIGEST_SIZE];
  byte hs_size = sizeof(hs);
  int verified = 0;
  int err = wc_ImportEccsiPublicKey(&key, kpak.data(), test::size32(kpak), 0);
  if (err == 0) err = wc_DecodeEccsiPvtFromSig(&key, sig.data(), test::size32(sig), pvt.get());
  if (err == 0) {
    err = wc_HashEccsiId(&key, WC_HASH_TYPE_SHA256, reinterpret_cast<const byte*>(id.data()),
                         static_cast<word32>(id.size()), pvt.get(), hs, &hs_size);
  }
  if (err == 0) err = wc_SetEccsiHash(&key, hs, hs_size);
  if (err == 0) {
    err = wc_VerifyEccsiHash(&key, WC_HASH_TYPE_SHA256, message.data(), test::size32(message), sig.data(),
                             test::size32(sig), &verified);
  }
  wc_FreeEccsiKey(&key);
  return err != 0 ? err : verified;
}

Bytes wolf_sha256(ByteView data) {
  Bytes out(WC_SHA256_DIGEST_SIZE);
  EXPECT_EQ(wc_Sha256Hash(data.data(), test::size32(data), out.data()), 0);
  return out;
}

// The documented layout read by hand: version 1, the message number, then (2-octet big-endian length, value)
// fields to the last octet.
std::vector<Bytes> fields_of(ByteView message, std::uint8_t number) {
  EXPECT_GE(message.size(), 2u);
  EXPECT_EQ(message[0], 1);
  EXPECT_EQ(message[1], number);
  std::vector<Bytes> out;
  std::size_t at = 2;
  while (at + 2 <= message.size()) {
    const std::size_t length = message[at] * 256u + message[at + 1];
    if (at + 2 + length > message.size()) break;
    out.emplace_back(message.begin() + static_cast<std::ptrdiff_t>(at + 2),
                     message.begin() + static_cast<std::ptrdiff_t>(at + 2 + length));
    at += 2 + length;
  }
  EXPECT_EQ(at, message.size()) << "no octets left over";
  return out;
}

Bytes text_bytes(std::string_view text) { return Bytes(as_bytes(text).begin(), as_bytes(text).end()); }

TEST_F(IbcSaefTest, MessagesHaveTheDocumentedLayoutAndWolfSslAcceptsTheSignatures) {
  std::optional<SaefInitiator> initiator;
  const Bytes message1 = start(initiator);
  const std::vector<Bytes> f1 = fields_of(message1, 1);
  ASSERT_EQ(f1.size(), 5u);
  EXPECT_EQ(f1[0], text_bytes(a.id2));
  EXPECT_EQ(f1[1], text_bytes(kCse));
  ASSERT_EQ(f1[2].size(), 65u);
  EXPECT_EQ(f1[2][0], 0x04);
  EXPECT_EQ(f1[3].size(), 32u);
  ASSERT_EQ(f1[4].size(), 129u);
  // Sig_A over "oneM2M IBC-SAEF 1" || message 1 up to the signature field (its length octets excluded).
  const ByteView signed1 = ByteView(message1).first(message1.size() - 2 - 129);
  EXPECT_EQ(wolf_verify(kms.kpak(), a.id2, concat({as_bytes("oneM2M IBC-SAEF 1"), signed1}), f1[4]), 1);
  EXPECT_EQ(wolf_verify(kms.kpak(), a.id2, concat({as_bytes("oneM2M IBC-SAEF 2"), signed1}), f1[4]), 0);
  EXPECT_EQ(wolf_verify(kms.kpak(), b.id2, concat({as_bytes("oneM2M IBC-SAEF 1"), signed1}), f1[4]), 0);

  auto answered = saef_respond(b, policy, message1);
  ASSERT_TRUE(answered) << answered.error().to_string();
  const Bytes& message2 = answered->first;
  const std::vector<Bytes> f2 = fields_of(message2, 2);
  ASSERT_EQ(f2.size(), 3u);
  EXPECT_EQ(f2[0], text_bytes(b.id2));
  ASSERT_EQ(f2[1].size(), 65u);
  ASSERT_EQ(f2[2].size(), 129u);
  // Sig_B over "oneM2M IBC-SAEF 2" || SHA-256(message 1) || message 2 up to the signature field.
  const ByteView signed2 = ByteView(message2).first(message2.size() - 2 - 129);
  const Bytes hash1 = wolf_sha256(message1);
  EXPECT_EQ(wolf_verify(kms.kpak(), b.id2, concat({as_bytes("oneM2M IBC-SAEF 2"), hash1, signed2}), f2[2]), 1);
  // psk_identity = "ibc-saef:" || hex of the first 16 octets of SHA-256(message 1 || message 2).
  const Bytes transcript = wolf_sha256(concat({message1, message2}));
  EXPECT_EQ(answered->second.psk_identity, "ibc-saef:" + hex_encode(ByteView(transcript).first(16)));

  // The structs read the same fields and write the same octets back.
  auto parsed1 = SaefMessage1::parse(message1);
  ASSERT_TRUE(parsed1) << parsed1.error().to_string();
  EXPECT_EQ(parsed1->initiator_id2, a.id2);
  EXPECT_EQ(parsed1->responder_id, kCse);
  EXPECT_EQ(parsed1->x, f1[2]);
  EXPECT_EQ(parsed1->nonce, f1[3]);
  EXPECT_EQ(parsed1->signature, f1[4]);
  EXPECT_EQ(parsed1->encode().value(), message1);
  EXPECT_EQ(hex_encode(parsed1->signed_part().value()), hex_encode(signed1));
  auto parsed2 = SaefMessage2::parse(message2);
  ASSERT_TRUE(parsed2) << parsed2.error().to_string();
  EXPECT_EQ(parsed2->responder_id2, b.id2);
  EXPECT_EQ(parsed2->encode().value(), message2);
  EXPECT_EQ(hex_encode(parsed2->signed_part().value()), hex_encode(signed2));
}

TEST_F(IbcSaefTest, FieldsOfTheWrongSizeAreMalformed) {
  std::optional<SaefInitiator> initiator;
  const Bytes message1 = start(initiator);
  const SaefMessage1 good = SaefMessage1::parse(message1).value();
  const auto refused_with = [&](auto change, std::string_view what) {
    SaefMessage1 m = good;
    change(m);
    auto encoded = m.encode();
    ASSERT_TRUE(encoded) << what;
    expect_refused(SaefMessage1::parse(*encoded), Category::kProtocol, what);
    expect_refused(saef_respond(b, policy, *encoded), Category::kProtocol, what);
  };
  refused_with([](SaefMessage1& m) { m.x.resize(33); }, "a compressed point's length");
  refused_with([](SaefMessage1& m) { m.x[0] = 0x02; }, "not an uncompressed point");
  refused_with([](SaefMessage1& m) { m.nonce.pop_back(); }, "a 31-octet nonce");
  refused_with([](SaefMessage1& m) { m.signature.pop_back(); }, "a short signature");
  refused_with([](SaefMessage1& m) { m.initiator_id2.clear(); }, "no ID_2");
  refused_with([](SaefMessage1& m) { m.responder_id.clear(); }, "no responder");
  SaefMessage1 huge = good;
  huge.responder_id.assign(70000, 'x');
  expect_refused(huge.encode(), Category::kUsage, "a field longer than 65535 octets");

  auto answered = saef_respond(b, policy, message1);
  ASSERT_TRUE(answered);
  SaefMessage2 short_x = SaefMessage2::parse(answered->first).value();
  short_x.x.resize(64);
  expect_refused(initiator->finish(short_x.encode().value()), Category::kProtocol, "message 2 with a short X_B");
  // X_B changed after B signed it: Sig_B covers X_B.
  SaefMessage2 changed_x = SaefMessage2::parse(answered->first).value();
  changed_x.x.back() ^= 0x01;
  expect_refused(initiator->finish(changed_x.encode().value()), Category::kAuth, "X_B changed");
  EXPECT_TRUE(initiator->finish(answered->first));
}

TEST_F(IbcSaefTest, FinishIsOneShotAndAForgeryDoesNotEndTheExchange) {
  std::optional<SaefInitiator> initiator;
  const Bytes message1 = start(initiator);
  auto answered = saef_respond(b, policy, message1);
  ASSERT_TRUE(answered);
  Bytes forged = answered->first;
  forged[forged.size() - 40] ^= 0x01;  // inside s
  expect_refused(initiator->finish(forged), Category::kAuth, "forged message 2");
  auto key = initiator->finish(answered->first);
  ASSERT_TRUE(key) << key.error().to_string();
  EXPECT_EQ(hex_encode(key->psk.view()), hex_encode(answered->second.psk.view()));
  // The ephemeral key is gone: the same message 2 again gives nothing.
  expect_refused(initiator->finish(answered->first), Category::kUsage, "finish twice");
}

TEST_F(IbcSaefTest, AnExpiredOwnCredentialIsNotUsed) {
  SaefCredential short_a = credential(kms, id2_of(kMef, kAe, 1));
  SaefCredential short_b = credential(kms, id2_of(kMef, kCse, 1));
  auto started = SaefInitiator::start(a, std::string(kCse), policy);
  ASSERT_TRUE(started);
  clock->advance(std::chrono::days(2));
  expect_refused(SaefInitiator::start(short_a, std::string(kCse), policy), Category::kUsage, "own ID_2 expired (A)");
  expect_refused(saef_respond(short_b, policy, started->second), Category::kUsage, "own ID_2 expired (B)");
  SaefCredential garbled = credential(kms, "not an ID_2");
  expect_refused(SaefInitiator::start(garbled, std::string(kCse), policy), Category::kUsage, "own ID_2 garbled");
}

TEST_F(IbcSaefTest, AnIdThatIsNoOneM2MIdIsNotBound) {
  // The KMS signs whatever ID_2 it is asked for; an ID with a control character or a space is refused by B.
  for (const std::string_view id : {std::string_view("CAE\nA"), std::string_view("CAE A")}) {
    SaefCredential odd = credential(kms, id2_of(kMef, id));
    auto started = SaefInitiator::start(odd, std::string(kCse), policy);
    ASSERT_TRUE(started);
    expect_refused(saef_respond(b, policy, started->second), Category::kAuth, "non-printable ID");
  }
}

TEST_F(IbcSaefTest, AReplayedMessage1DisplacesOnlyKeysOfThePeerItNames) {
  auto store = std::make_shared<SaefKeyStore>(clock, std::chrono::seconds(60), 16, 2);
  // C completes an exchange with B; its key waits for C's TLS handshake.
  SaefCredential c = credential(kms, id2_of(kMef, "CAE-C"));
  auto c_started = SaefInitiator::start(c, std::string(kCse), policy);
  ASSERT_TRUE(c_started);
  auto c_answered = saef_respond(b, policy, c_started->second);
  ASSERT_TRUE(c_answered);
  auto c_key = c_started->first.finish(c_answered->first);
  ASSERT_TRUE(c_key);
  store->add(std::move(c_answered->second));
  // An attacker replays a message 1 of A's twenty times; B answers each (it cannot tell), but only two keys of A
  // are kept and C's survives.
  std::optional<SaefInitiator> initiator;
  const Bytes message1 = start(initiator);
  for (int i = 0; i < 20; ++i) {
    auto replayed = saef_respond(b, policy, message1);
    ASSERT_TRUE(replayed);
    store->add(std::move(replayed->second));
  }
  EXPECT_EQ(store->size(), 3u);
  const auto pair = handshake(store, c_key->psk_identity, c_key->psk.view());
  ASSERT_FALSE(pair.server.handshake_error) << pair.server.handshake_error->to_string();
  ASSERT_TRUE(pair.server.peer);
  EXPECT_EQ(pair.server.peer->identity, "CAE-C");
}

}  // namespace
}  // namespace m2msec::ibc

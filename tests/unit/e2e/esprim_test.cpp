// ESPrim (TS-0003 V3.18.0 8.4, 10.3.8; TS-0004 V3.32.0 7.6.2): rand objects and their strict JSON, esrx,
// the sessionESPrimKey against Python's hmac/hashlib, the m2m:seci bodies, a full Originator -> Target ->
// response exchange, every error code of TS-0004 Table 7.6.2-1 the Target can produce, replay and
// reflection, and the Originator's ESPrim Object decrypted by jwcrypto (an independent RFC 7516 reader).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "m2msec/core/encoding.h"
#include "m2msec/crypto/random.h"
#include "m2msec/e2e/esprim.h"
#include "m2msec/e2e/seci.h"
#include "m2msec/jose/jwe.h"
#include "m2msec/json/json.h"
#include "oracle.h"

namespace m2msec::e2e {
namespace {

using namespace std::chrono_literals;

// 2026-01-01T00:00:00Z.
const TimePoint kStart = TimePoint(std::chrono::sys_days(std::chrono::year(2026) / 1 / 1));

const std::string kKid = "13-pk17@keys.example.com";
const std::string kIdentity = "Cae1";

SecretBytes pairwise_key() {
  SecretBytes k(32);
  for (std::size_t i = 0; i < k.size(); ++i) k.data()[i] = static_cast<std::uint8_t>(i);
  return k;
}

std::string text_of(ByteView b) { return std::string(as_text(b)); }

template <typename T>
void expect_rsc(const Result<T>& r, Rsc rsc) {
  ASSERT_FALSE(r.has_value()) << "expected " << rsc_name(rsc);
  ASSERT_TRUE(r.error().rsc().has_value()) << r.error().to_string();
  EXPECT_EQ(*r.error().rsc(), rsc) << r.error().to_string();
}

std::string inner_request(std::string_view from, std::string_view rqi) {
  std::string out = R"({"op":2,"to":"/cse1/cnt1","fr":")";
  out.append(from).append(R"(","rqi":")").append(rqi).append(R"(","rvi":"3"})");
  return out;
}

// The decoded protected header of a compact JWE.
json::Object header_of(const std::string& object) {
  auto jwe = jose::Jwe::parse(object);
  EXPECT_TRUE(jwe) << jwe.error().to_string();
  return jwe->protected_header();
}

std::string b64(std::string_view text) { return base64url_encode(as_bytes(text)); }

// A compact object with any header and random IV, ciphertext and tag: for refusals before decryption.
std::string raw_object(const std::string& header_json) {
  return b64(header_json) + "..AAAAAAAAAAAAAAAA.Y2lwaGVydGV4dA.AAAAAAAAAAAAAAAAAAAAAA";
}

// A JWE compact with exactly the given extra protected members, under `cek`.
std::string craft(const std::string& kid, std::string_view enc, json::Object extras, const SecretBytes& cek,
                  std::string_view plaintext) {
  const jose::Jwk key = jose::Jwk::symmetric(cek.clone(), kid);
  jose::Recipient r{&key, "dir", {}};
  jose::EncryptOptions o;
  o.enc = std::string(enc);
  o.protected_header = std::move(extras);
  o.direct_key = &cek;
  auto jwe = jose::encrypt(as_bytes(plaintext), std::span<const jose::Recipient>(&r, 1), o);
  EXPECT_TRUE(jwe) << jwe.error().to_string();
  auto out = jwe->serialize(jose::Serialization::kCompact);
  EXPECT_TRUE(out) << out.error().to_string();
  return *out;
}

// One Target, one Originator, one provisioned pairwise key, a shared receiver rand object published.
struct Pair {
  explicit Pair(Target::Options target_options = {}, Originator::Options originator_options = {})
      : clock(kStart),
        target(clock, crypto::system_rng(), std::move(target_options)),
        originator(clock, crypto::system_rng(), std::move(originator_options)) {
    EXPECT_TRUE(target.add_pairwise_key(kKid, pairwise_key(), kIdentity));
    EXPECT_TRUE(originator.add_pairwise_key(kKid, pairwise_key()));
    auto shared = target.issue_shared_rand_object();
    EXPECT_TRUE(shared) << shared.error().to_string();
    receiver = *shared;
    EXPECT_TRUE(originator.set_receiver_rand_object(kKid, receiver.text));
  }

  Result<Target::OpenedRequest> deliver(const std::string& object, std::optional<SessionId>* session = nullptr) {
    return target.unprotect_request(object, [](const Target::OpenedRequest& r) { return json_primitive_ids(r.inner.view()); },
                                    session);
  }

  ManualClock clock;
  Target target;
  Originator originator;
  CarriedReceiverRand receiver;
};

// ---------------------------------------------------------------------------------------------------------
// Enumerations, esrx, esrv

TEST(EsprimTypes, ProtocolIdsMapToJweEnc) {
  EXPECT_EQ(jwe_enc(ProtocolAlg::kJweA128Gcm), "A128GCM");
  EXPECT_EQ(jwe_enc(ProtocolAlg::kJweA192Gcm), "A192GCM");
  EXPECT_EQ(jwe_enc(ProtocolAlg::kJweA256Gcm), "A256GCM");
  EXPECT_EQ(protocol_alg_for_enc("A192GCM"), ProtocolAlg::kJweA192Gcm);
  EXPECT_FALSE(protocol_alg_for_enc("A128CBC-HS256"));
  EXPECT_EQ(protocol_alg_from_int(10), ProtocolAlg::kJweA128Gcm);
  EXPECT_EQ(protocol_alg_from_int(12), ProtocolAlg::kJweA256Gcm);
  EXPECT_FALSE(protocol_alg_from_int(13));
  EXPECT_FALSE(protocol_alg_from_int(9));
  EXPECT_EQ(key_gen_alg_from_int(1), KeyGenAlg::kHmacSha256);
  EXPECT_FALSE(key_gen_alg_from_int(2));
  EXPECT_EQ(cek_size(ProtocolAlg::kJweA128Gcm), 16u);
  EXPECT_EQ(cek_size(ProtocolAlg::kJweA192Gcm), 24u);
  EXPECT_EQ(cek_size(ProtocolAlg::kJweA256Gcm), 32u);
}

TEST(EsprimTypes, TimestampIsBasicIso8601Utc) {
  auto text = format_timestamp(kStart + 13h + 4min + 5s + 678ms);
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "20260101T130405");
  auto back = parse_timestamp("20260101T130405");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, kStart + 13h + 4min + 5s);
  auto leap = parse_timestamp("20240229T235959");
  ASSERT_TRUE(leap);
  EXPECT_EQ(*format_timestamp(*leap), "20240229T235959");
  // A peer's "never" saturates instead of overflowing.
  auto never = parse_timestamp("99991231T235959");
  ASSERT_TRUE(never);
  EXPECT_EQ(*never, TimePoint::max());

  for (const char* bad : {"", "20260101", "20260101T0000", "2026-01-01T00:00:00", "20261301T000000",
                          "20260230T000000", "20230229T000000", "20260101T240000", "20260101T006000",
                          "20260101T000060", "20260101t000000", "20260101T000000Z", "20260101T000000,5",
                          "3600000", "+0260101T000000"}) {
    auto r = parse_timestamp(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().category(), Category::kUsage);
    EXPECT_EQ(r.error().rsc(), Rsc::kBadRequest);
  }
}

TEST(EsprimTypes, RandValueIsAnNcName) {
  Bytes value(16);
  for (std::size_t i = 0; i < value.size(); ++i) value[i] = static_cast<std::uint8_t>(0xf0 + i);
  const std::string text = encode_rand_value(value);
  EXPECT_EQ(text, "v8PHy8_T19vf4-fr7_P3-_w");  // base64url of f0..ff, by Python's base64
  auto back = decode_rand_value(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, value);
  for (const char* bad : {"8PHy8_T19vf4-fr7_P3-_w", "w8PHy8_T19vf4-fr7_P3-_w", "v8PHy8_T19vf4-fr7_P3-_x",
                          "v8PHy8_T19vf4-fr7_P3-_w=", "vAAECAwQFBgcICQoLDA0O", "v8PHy8_T19vf4+fr7/P3-_w"}) {
    EXPECT_FALSE(decode_rand_value(bad)) << bad;
  }
  EXPECT_TRUE(is_shared_rand_id("sAbc"));
  EXPECT_FALSE(is_shared_rand_id("uAbc"));
}

// ---------------------------------------------------------------------------------------------------------
// Rand objects

constexpr std::string_view kReceiverText =
    R"({"esri":"sR1","esrv":"vAAECAwQFBgcICQoLDA0ODw","esrx":"20260101T000000","esks":[1],"espa":[12]})";
constexpr std::string_view kOriginatorText =
    R"({"esri":"uO1","esrv":"v8PHy8_T19vf4-fr7_P3-_w","esrx":"20251231T120000","esk":1,"espa":[12,10]})";

TEST(EsprimRandObject, WritesShortNamesInSchemaOrder) {
  ReceiverRandObject r;
  r.id = "sR1";
  for (std::uint8_t i = 0; i < 16; ++i) r.value.push_back(i);
  r.expiry = kStart;
  r.key_gen_alg_ids = {KeyGenAlg::kHmacSha256};
  r.protocol_alg_ids = {ProtocolAlg::kJweA256Gcm};
  auto carried = carry(r);
  ASSERT_TRUE(carried) << carried.error().to_string();
  EXPECT_EQ(carried->text, kReceiverText);

  auto o = parse_originator_rand_object(kOriginatorText);
  ASSERT_TRUE(o) << o.error().to_string();
  EXPECT_EQ(o->object.id, "uO1");
  EXPECT_EQ(o->object.expiry, kStart - 12h);
  EXPECT_EQ(o->object.key_gen_alg_id, KeyGenAlg::kHmacSha256);
  EXPECT_EQ(o->object.protocol_alg_ids, (std::vector<ProtocolAlg>{ProtocolAlg::kJweA256Gcm, ProtocolAlg::kJweA128Gcm}));
  auto again = carry(o->object);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->text, kOriginatorText);

  // Objects that break the rules are not written.
  ReceiverRandObject bad = r;
  bad.value.pop_back();
  EXPECT_FALSE(carry(bad));
  bad = r;
  bad.id = "1abc";
  EXPECT_FALSE(carry(bad));
  bad = r;
  bad.protocol_alg_ids.clear();
  EXPECT_FALSE(carry(bad));
}

TEST(EsprimRandObject, KeepsTheOctetsItArrivedAs) {
  const std::string spaced = "  { \"esri\" : \"sR1\", \"esrv\":\"vAAECAwQFBgcICQoLDA0ODw\", \"esrx\":\"20260101T000000\","
                             " \"esks\":[ 1 ], \"espa\":[12] }\n";
  auto r = parse_receiver_rand_object(spaced);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->text, spaced.substr(2, spaced.size() - 3));  // only the whitespace around it goes
  EXPECT_EQ(r->object.id, "sR1");
}

TEST(EsprimRandObject, ParsingIsStrict) {
  const std::string base_r = std::string(kReceiverText);
  const std::string base_o = std::string(kOriginatorText);
  auto replace = [](std::string s, std::string_view from, std::string_view to) {
    const auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  const std::vector<std::string> bad_receivers = {
      replace(base_r, R"("esri":"sR1",)", ""),                                  // missing member
      replace(base_r, R"("esks":[1],)", ""),
      replace(base_r, R"("espa":[12])", R"("espa":[12],"x":1)"),                // unknown member
      replace(base_r, R"("esks":[1])", R"("esk":1)"),                           // originator member
      replace(base_r, R"("esri":"sR1")", R"("esri":1)"),                        // wrong types
      replace(base_r, R"("esri":"sR1")", R"("esri":"1R")"),                     // not an NCName
      replace(base_r, R"("esri":"sR1")", R"("esri":"")"),
      replace(base_r, R"("esrv":"vAAECAwQFBgcICQoLDA0ODw")", R"("esrv":"000102030405060708090a0b0c0d0e0f")"),
      replace(base_r, R"("esrx":"20260101T000000")", R"("esrx":3600000)"),      // relative form
      replace(base_r, R"("esks":[1])", R"("esks":1)"),
      replace(base_r, R"("esks":[1])", R"("esks":[])"),                         // empty list
      replace(base_r, R"("esks":[1])", R"("esks":[2])"),                        // unknown enumeration value
      replace(base_r, R"("esks":[1])", R"("esks":[1,1])"),                      // repeated entry
      replace(base_r, R"("espa":[12])", R"("espa":[13])"),
      replace(base_r, R"("espa":[12])", R"("espa":["12"])"),
      replace(base_r, R"("espa":[12])", R"("espa":[12.0])"),
      replace(base_r, R"("espa":[12])", R"("espa":[12,12])"),
      "[]",
      "",
      base_r + "x",
  };
  for (const std::string& text : bad_receivers) {
    auto r = parse_receiver_rand_object(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().category(), Category::kUsage) << text;
    EXPECT_EQ(r.error().rsc(), Rsc::kBadRequest) << text;
  }
  const std::vector<std::string> bad_originators = {
      replace(base_o, R"("esk":1,)", ""),
      replace(base_o, R"("esk":1)", R"("esks":[1])"),
      replace(base_o, R"("esk":1)", R"("esk":2)"),
      replace(base_o, R"("esk":1)", R"("esk":"1")"),
      replace(base_o, R"("esk":1)", R"("esk":true)"),
      replace(base_o, R"("espa":[12,10])", R"("espa":[12,9])"),
  };
  for (const std::string& text : bad_originators) {
    auto r = parse_originator_rand_object(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().rsc(), Rsc::kBadRequest) << text;
  }
}

// ---------------------------------------------------------------------------------------------------------
// sessionESPrimKey

// Computed once with /usr/bin/python3 (hmac, hashlib), not with our code:
//   hmac.new(bytes(range(32)), R + O + b"oneM2M HMAC-SHA256 sessionESPrimKey derivation algorithm",
//            hashlib.sha256).hexdigest()
// with R and O the UTF-8 octets of kReceiverText and kOriginatorText.
constexpr std::string_view kSessionKeyHex = "9b02e626a3d9d340615915e5410b0a45bbe67522da4a5951c8468c0da28b9f1a";

TEST(EsprimSessionKey, KnownAnswerFromPython) {
  const SecretBytes pk = pairwise_key();
  auto key = session_esprim_key(pk.view(), kReceiverText, kOriginatorText);
  ASSERT_TRUE(key);
  EXPECT_EQ(hex_encode(key->view()), kSessionKeyHex);
  // The CEKs for A128GCM / A192GCM are the leftmost 16 / 24 octets.
  auto k128 = content_encryption_key(*key, ProtocolAlg::kJweA128Gcm);
  auto k192 = content_encryption_key(*key, ProtocolAlg::kJweA192Gcm);
  auto k256 = content_encryption_key(*key, ProtocolAlg::kJweA256Gcm);
  ASSERT_TRUE(k128 && k192 && k256);
  EXPECT_EQ(hex_encode(k128->view()), kSessionKeyHex.substr(0, 32));
  EXPECT_EQ(hex_encode(k192->view()), kSessionKeyHex.substr(0, 48));
  EXPECT_EQ(hex_encode(k256->view()), kSessionKeyHex);
  // Order matters: receiver object first.
  auto swapped = session_esprim_key(pk.view(), kOriginatorText, kReceiverText);
  ASSERT_TRUE(swapped);
  EXPECT_NE(hex_encode(swapped->view()), kSessionKeyHex);
}

TEST(EsprimSessionKey, KnownAnswerFromPythonAtTestTime) {
  test::TempDir dir("esprim-kat");
  test::write_file(dir.file("r"), as_bytes(kReceiverText));
  test::write_file(dir.file("o"), as_bytes(kOriginatorText));
  const std::string code =
      "import hmac, hashlib, sys; r = open(sys.argv[1], 'rb').read(); o = open(sys.argv[2], 'rb').read(); "
      "sys.stdout.write(hmac.new(bytes(range(32)), r + o + b'oneM2M HMAC-SHA256 sessionESPrimKey derivation algorithm', "
      "hashlib.sha256).hexdigest())";
  ASSERT_EQ(test::run(dir, "(/usr/bin/python3 -c \"" + code + "\" " + dir.file("r") + " " + dir.file("o") + " > " +
                               dir.file("out") + ")"),
            0)
      << test::read_file(dir.file("log"));
  const SecretBytes pk = pairwise_key();
  auto key = session_esprim_key(pk.view(), kReceiverText, kOriginatorText);
  ASSERT_TRUE(key);
  EXPECT_EQ(hex_encode(key->view()), test::read_file(dir.file("out")));
}

// ---------------------------------------------------------------------------------------------------------
// m2m:seci

TEST(EsprimSeci, BuildsAndReadsTheThreeBodies) {
  EXPECT_EQ(build_rand_object_request(), R"({"m2m:seci":{"sit":3}})");
  auto request = parse_esprim_security_info(build_rand_object_request());
  ASSERT_TRUE(request);
  EXPECT_EQ(request->type, SecurityInfoType::kReceiverRandObjectRequest);

  auto receiver = parse_receiver_rand_object(kReceiverText);
  ASSERT_TRUE(receiver);
  const std::string response = build_rand_object_response(*receiver);
  EXPECT_EQ(response, std::string(R"({"m2m:seci":{"sit":4,"ero":)") + std::string(kReceiverText) + "}}");
  auto parsed = parse_esprim_security_info(response);
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_EQ(parsed->type, SecurityInfoType::kReceiverRandObjectResponse);
  ASSERT_TRUE(parsed->rand_object);
  EXPECT_EQ(parsed->rand_object->text, kReceiverText);

  const std::string epo = "eyJhbGciOiJkaXIifQ..AAAA.BBBB.CCCC";
  auto body = build_esprim_object_body(epo);
  ASSERT_TRUE(body);
  EXPECT_EQ(*body, R"({"m2m:seci":{"sit":5,"epo":"eyJhbGciOiJkaXIifQ..AAAA.BBBB.CCCC"}})");
  auto object = parse_esprim_security_info(*body);
  ASSERT_TRUE(object);
  EXPECT_EQ(object->type, SecurityInfoType::kEsprimObject);
  EXPECT_EQ(object->esprim_object, epo);
  EXPECT_FALSE(build_esprim_object_body("a.b.c"));
  EXPECT_FALSE(build_esprim_object_body("..a.b.c"));

  EXPECT_EQ(security_info_type(R"({"m2m:seci":{"sit":1,"dreq":{}}})").value(),
            SecurityInfoType::kDynamicAuthorizationRequest);
}

TEST(EsprimSeci, EroKeepsItsOctetsInsideTheBody) {
  // Whitespace and an escaped name inside "ero" survive: they are the HMAC input.
  const std::string ero =
      R"({ "esri":"sR1", "esrv":"vAAECAwQFBgcICQoLDA0ODw","esrx":"20260101T000000","\u0065sks":[1],"espa":[12]})";
  const std::string body = R"({"m2m:seci" : { "ero" : )" + ero + R"( , "sit" : 4 } })";
  auto parsed = parse_esprim_security_info(body);
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  ASSERT_TRUE(parsed->rand_object);
  EXPECT_EQ(parsed->rand_object->text, ero);
}

TEST(EsprimSeci, ParsingIsStrict) {
  const std::string ero(kReceiverText);
  for (const std::string& bad : std::vector<std::string>{
           "",
           "{}",
           R"({"seci":{"sit":3}})",
           R"({"m2m:seci":{"sit":3},"x":1})",
           R"({"m2m:seci":[]})",
           R"({"m2m:seci":{}})",
           R"({"m2m:seci":{"sit":"3"}})",
           R"({"m2m:seci":{"sit":0}})",
           R"({"m2m:seci":{"sit":9}})",
           R"({"m2m:seci":{"sit":3,"ero":)" + ero + "}}",   // sit 3: nothing else (6.3.5.48 NOTE)
           R"({"m2m:seci":{"sit":4}})",
           R"({"m2m:seci":{"sit":4,"epo":"a..b.c."}})",
           R"({"m2m:seci":{"sit":4,"ero":)" + ero + R"(,"epo":"a..b.c."}})",
           R"({"m2m:seci":{"sit":4,"ero":{"esri":"sR1"}}})",
           R"({"m2m:seci":{"sit":5}})",
           R"({"m2m:seci":{"sit":5,"epo":5}})",
           R"({"m2m:seci":{"sit":5,"epo":"a.b.c"}})",
           R"({"m2m:seci":{"sit":5,"epo":"a..b..c"}})",
           R"({"m2m:seci":{"sit":5,"epo":"a..b.c.d.e"}})",
           R"({"m2m:seci":{"sit":5,"epo":"a..b.c+.d"}})",
           R"({"m2m:seci":{"sit":1,"dreq":{}}})",      // not an ESPrim message
           R"({"m2m:seci":{"sit":6,"eckm":"AA=="}})",
       }) {
    auto r = parse_esprim_security_info(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().rsc(), Rsc::kBadRequest) << bad;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Full exchange

TEST(EsprimExchange, RequestAndResponseRoundTrip) {
  Pair p;
  EXPECT_TRUE(is_shared_rand_id(p.receiver.object.id));
  const std::string inner = inner_request(kIdentity, "req-1");
  auto object = p.originator.protect_request(kKid, as_bytes(inner), {std::nullopt, std::string(kCtyRequestJson)});
  ASSERT_TRUE(object) << object.error().to_string();

  // The header of the first object: "alg", "enc", "kid", then cty, ori, rri and the full "oro".
  const json::Object h = header_of(*object);
  std::vector<std::string> names;
  for (const auto& [name, value] : h) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"alg", "enc", "kid", "cty", "ori", "rri", "oro"}));
  EXPECT_EQ(*h.find("alg")->string(), "dir");
  EXPECT_EQ(*h.find("enc")->string(), "A256GCM");
  EXPECT_EQ(*h.find("kid")->string(), kKid);
  EXPECT_EQ(*h.find("rri")->string(), p.receiver.object.id);
  EXPECT_EQ(*h.find("oro")->find("esri")->string(), *h.find("ori")->string());
  EXPECT_EQ(object->find(".."), object->find('.'));  // empty JWE Encrypted Key

  // Outer NOTIFY body, there and back.
  auto body = build_esprim_object_body(*object);
  ASSERT_TRUE(body);
  auto seci = parse_esprim_security_info(*body);
  ASSERT_TRUE(seci);
  ASSERT_EQ(seci->type, SecurityInfoType::kEsprimObject);

  std::optional<SessionId> session;
  auto opened = p.deliver(*seci->esprim_object, &session);
  ASSERT_TRUE(opened) << opened.error().to_string();
  EXPECT_TRUE(opened->authenticated);
  EXPECT_EQ(text_of(opened->inner.view()), inner);
  EXPECT_EQ(opened->cty, std::string(kCtyRequestJson));
  EXPECT_EQ(opened->identity, kIdentity);
  EXPECT_EQ(opened->session.kid, kKid);
  EXPECT_EQ(opened->session.rri, p.receiver.object.id);
  ASSERT_TRUE(session);
  EXPECT_EQ(*session, opened->session);

  const std::string inner_response = R"({"rsc":2000,"rqi":"req-1","rvi":"3","pc":{"m2m:cin":{"con":"21"}}})";
  auto response = p.target.protect_response(*opened, as_bytes(inner_response), {std::nullopt, std::string(kCtyResponseJson), std::nullopt});
  ASSERT_TRUE(response) << response.error().to_string();
  const json::Object rh = header_of(*response);
  EXPECT_FALSE(rh.contains("oro"));  // the Target never sends it
  EXPECT_EQ(*rh.find("ori")->string(), opened->session.ori);
  EXPECT_EQ(*rh.find("kid")->string(), kKid);
  auto back = p.originator.unprotect_response(*response);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(text_of(back->inner.view()), inner_response);
  EXPECT_EQ(back->session, opened->session);
  EXPECT_EQ(back->cty, std::string(kCtyResponseJson));

  // The session is confirmed: the next object carries "ori" only, in the same session.
  auto second = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "req-2")));
  ASSERT_TRUE(second);
  EXPECT_FALSE(header_of(*second).contains("oro"));
  auto opened2 = p.deliver(*second);
  ASSERT_TRUE(opened2) << opened2.error().to_string();
  EXPECT_EQ(opened2->session, opened->session);
}

TEST(EsprimExchange, OroIsResentUntilAResponseArrives) {
  Pair p;
  auto lost = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "r1")));
  ASSERT_TRUE(lost);
  // The first object never reaches the Target; the second still carries "oro" and opens the session.
  auto second = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "r2")));
  ASSERT_TRUE(second);
  EXPECT_TRUE(header_of(*second).contains("oro"));
  ASSERT_TRUE(p.deliver(*second));
  // The late first object is still a new object of the session.
  ASSERT_TRUE(p.deliver(*lost));
}

TEST(EsprimExchange, UniqueReceiverObjectBySit3AndSit4) {
  Pair p;
  Originator fresh(p.clock, crypto::system_rng());
  ASSERT_TRUE(fresh.add_pairwise_key(kKid, pairwise_key()));
  EXPECT_TRUE(fresh.needs_receiver_rand_object(kKid));
  auto sit4 = p.target.answer_rand_object_request(build_rand_object_request());
  ASSERT_TRUE(sit4) << sit4.error().to_string();
  ASSERT_TRUE(fresh.accept_rand_object_response(kKid, *sit4));
  EXPECT_FALSE(fresh.needs_receiver_rand_object(kKid));
  auto info = parse_esprim_security_info(*sit4);
  ASSERT_TRUE(info && info->rand_object);
  EXPECT_FALSE(is_shared_rand_id(info->rand_object->object.id));
  EXPECT_EQ(info->rand_object->object.id.front(), 'u');
  EXPECT_EQ(info->rand_object->object.expiry, kStart + 1h);

  auto object = fresh.protect_request(kKid, as_bytes(inner_request(kIdentity, "r1")));
  ASSERT_TRUE(object);
  auto opened = p.deliver(*object);
  ASSERT_TRUE(opened) << opened.error().to_string();
  EXPECT_EQ(opened->session.rri, info->rand_object->object.id);

  // Each sit-3 request gets its own object.
  auto other = p.target.answer_rand_object_request(build_rand_object_request());
  ASSERT_TRUE(other);
  EXPECT_NE(*other, *sit4);
  // Only a sit-3 body is answered, only a sit-4 body is accepted.
  EXPECT_FALSE(p.target.answer_rand_object_request(*sit4));
  EXPECT_FALSE(fresh.accept_rand_object_response(kKid, build_rand_object_request()));
}

TEST(EsprimExchange, SharedObjectServesSeveralOriginators) {
  Pair p;
  ASSERT_TRUE(p.target.add_pairwise_key("13-other", pairwise_key(), "Cae2"));
  Originator second(p.clock, crypto::system_rng());
  ASSERT_TRUE(second.add_pairwise_key("13-other", pairwise_key()));
  ASSERT_TRUE(second.set_receiver_rand_object("13-other", p.receiver.text));
  auto a = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "r1")));
  auto b = second.protect_request("13-other", as_bytes(inner_request("Cae2", "r1")));
  ASSERT_TRUE(a && b);
  auto oa = p.deliver(*a);
  auto ob = p.deliver(*b);
  ASSERT_TRUE(oa) << oa.error().to_string();
  ASSERT_TRUE(ob) << ob.error().to_string();
  EXPECT_EQ(oa->session.rri, ob->session.rri);
  EXPECT_NE(oa->session.ori, ob->session.ori);
  EXPECT_EQ(ob->identity, "Cae2");
}

TEST(EsprimExchange, A128GcmAndA192GcmWhenEnabled) {
  Target::Options t;
  t.protocol_alg_ids = {ProtocolAlg::kJweA256Gcm, ProtocolAlg::kJweA192Gcm, ProtocolAlg::kJweA128Gcm};
  Originator::Options o;
  o.protocol_alg_ids = {ProtocolAlg::kJweA128Gcm, ProtocolAlg::kJweA192Gcm};
  Pair p(t, o);
  auto a = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "r1")));
  ASSERT_TRUE(a);
  EXPECT_EQ(*header_of(*a).find("enc")->string(), "A128GCM");
  auto opened = p.deliver(*a);
  ASSERT_TRUE(opened) << opened.error().to_string();
  EXPECT_EQ(opened->enc, ProtocolAlg::kJweA128Gcm);
  auto b = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "r2")), {ProtocolAlg::kJweA192Gcm, std::nullopt});
  ASSERT_TRUE(b);
  EXPECT_EQ(*header_of(*b).find("enc")->string(), "A192GCM");
  ASSERT_TRUE(p.deliver(*b));
  // The response follows the request's "enc" unless told otherwise; both are in the originator's list.
  auto r = p.target.protect_response(*opened, as_bytes("{}"));
  ASSERT_TRUE(r);
  EXPECT_EQ(*header_of(*r).find("enc")->string(), "A128GCM");
  ASSERT_TRUE(p.originator.unprotect_response(*r));
  // A256GCM is not in the originator's list: the Target cannot answer with it.
  expect_rsc(p.target.protect_response(*opened, as_bytes("{}"), {ProtocolAlg::kJweA256Gcm, std::nullopt, std::nullopt}),
             Rsc::kEsprimEncryptionError);
}

TEST(EsprimExchange, RroRefreshesTheReceiverObjectInBand) {
  Pair p;
  auto object = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "r1")));
  ASSERT_TRUE(object);
  auto opened = p.deliver(*object);
  ASSERT_TRUE(opened);
  auto fresh = p.target.issue_unique_rand_object();
  ASSERT_TRUE(fresh);
  auto response = p.target.protect_response(*opened, as_bytes("{}"), {std::nullopt, std::nullopt, *fresh});
  ASSERT_TRUE(response);
  EXPECT_TRUE(header_of(*response).contains("rro"));
  ASSERT_TRUE(p.originator.unprotect_response(*response));
  // The current session goes on; a new one uses the receiver object that came in band.
  auto next = p.originator.start_session(kKid);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->rri, fresh->object.id);
  auto in_new = p.originator.protect_request(*next, as_bytes(inner_request(kIdentity, "r2")), {});
  ASSERT_TRUE(in_new);
  auto opened_new = p.deliver(*in_new);
  ASSERT_TRUE(opened_new) << opened_new.error().to_string();
  EXPECT_EQ(opened_new->session.rri, fresh->object.id);
}

TEST(EsprimExchange, OriginatorStartsNewSessionsNearExpiry) {
  Target::Options t;
  t.shared_lifetime = std::chrono::hours(10);
  Originator::Options o;
  o.rand_lifetime = std::chrono::seconds(600);
  Pair p(t, o);
  auto a = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "r1")));
  ASSERT_TRUE(a);
  auto oa = p.deliver(*a);
  ASSERT_TRUE(oa);
  auto oro = parse_originator_rand_object(json::serialize(*header_of(*a).find("oro")));
  ASSERT_TRUE(oro);
  EXPECT_EQ(oro->object.expiry, kStart + 600s);
  p.clock.advance(590s);  // within the renew margin (30 s)
  auto b = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "r2")));
  ASSERT_TRUE(b);
  auto ob = p.deliver(*b);
  ASSERT_TRUE(ob) << ob.error().to_string();
  EXPECT_NE(ob->session.ori, oa->session.ori);
  EXPECT_EQ(ob->session.rri, oa->session.rri);
}

TEST(EsprimExchange, OriginatorRefusesWhatItCannotUse) {
  ManualClock clock(kStart);
  Originator o(clock, crypto::system_rng());
  ASSERT_TRUE(o.add_pairwise_key(kKid, pairwise_key()));
  EXPECT_FALSE(o.add_pairwise_key("short", SecretBytes(15)));
  EXPECT_FALSE(o.add_pairwise_key("", pairwise_key()));
  EXPECT_FALSE(o.set_receiver_rand_object("13-unknown", kReceiverText));
  // kReceiverText expires at kStart: already expired.
  expect_rsc(o.set_receiver_rand_object(kKid, kReceiverText), Rsc::kEsprimUnknownRecvRandId);
  expect_rsc(o.protect_request(kKid, as_bytes("{}")), Rsc::kEsprimUnknownRecvRandId);
  expect_rsc(o.protect_request("13-unknown", as_bytes("{}")), Rsc::kEsprimUnknownKeyId);
  // No AEAD in common.
  const std::string a128_only =
      R"({"esri":"sR1","esrv":"vAAECAwQFBgcICQoLDA0ODw","esrx":"20270101T000000","esks":[1],"espa":[10]})";
  expect_rsc(o.set_receiver_rand_object(kKid, a128_only), Rsc::kEsprimUnsupportedOption);
}

// ---------------------------------------------------------------------------------------------------------
// Target errors, in the order of TS-0003 8.4.2 C.5-C.7 (TS-0004 Table 7.6.2-1)

TEST(EsprimTargetErrors, GarbageIsBadRequest) {
  Pair p;
  auto good = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "r1")));
  ASSERT_TRUE(good);
  const json::Object h = header_of(*good);
  const std::string ori = *h.find("ori")->string();
  const std::string rri = *h.find("rri")->string();
  const std::string ids = R"("kid":")" + kKid + R"(","ori":")" + ori + R"(","rri":")" + rri + R"(")";
  const std::string flattened = R"({"protected":")" + good->substr(0, good->find('.')) + R"(","iv":"AAAAAAAAAAAAAAAA","ciphertext":"AA","tag":"AAAAAAAAAAAAAAAAAAAAAA"})";
  for (const std::string& bad : std::vector<std::string>{
           "",
           "garbage",
           "a.b.c",                                                     // a JWS
           flattened,                                                   // JSON serialization, not compact
           raw_object("not json"),
           raw_object("[]"),
           raw_object(R"({"alg":"A256KW","enc":"A256GCM",)" + ids + "}"),
           raw_object(R"({"alg":"dir","enc":"A256GCM",)" + ids + R"(,"zip":"DEF"})"),
           raw_object(R"({"alg":"dir","enc":"A256GCM",)" + ids + R"(,"typ":"JOSE"})"),
           raw_object(R"({"alg":"dir","enc":"A256GCM","kid":")" + kKid + R"(","rri":")" + rri + R"("})"),  // no ori
           raw_object(R"({"alg":"dir","enc":"A256GCM","kid":")" + kKid + R"(","ori":"1x","rri":")" + rri + R"("})"),
           raw_object(R"({"alg":"dir","enc":"A256GCM","kid":"","ori":")" + ori + R"(","rri":")" + rri + R"("})"),
           raw_object(R"({"alg":"dir","enc":"A256GCM",)" + ids + R"(,"cty":5})"),
           raw_object(R"({"alg":"dir","enc":"A256GCM",)" + ids + R"(,"oro":{"esri":"x"}})"),
           raw_object(R"({"alg":"dir","enc":"A256GCM",)" + ids + R"(,"rro":)" + p.receiver.text + "}"),  // only the Receiver sends rro
           raw_object(R"({"alg":"dir","enc":"A256GCM",)" + ids + R"(,"alg":"dir"})"),  // duplicate member
           b64(R"({"alg":"dir","enc":"A256GCM",)" + ids + "}") + ".AAAA.AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA",  // encrypted key
           b64(R"({"alg":"dir","enc":"A256GCM",)" + ids + "}") + "..AAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA",  // short IV
           b64(R"({"alg":"dir","enc":"A256GCM",)" + ids + "}") + "..AAAAAAAAAAAAAAAA..AAAAAAAAAAAAAAAAAAAAAA",  // no ciphertext
       }) {
    SCOPED_TRACE(bad);
    expect_rsc(p.deliver(bad), Rsc::kBadRequest);
  }
}

TEST(EsprimTargetErrors, UnknownOrExpiredKeyId) {
  Pair p;
  ASSERT_TRUE(p.originator.add_pairwise_key("13-unprovisioned", pairwise_key()));
  ASSERT_TRUE(p.originator.set_receiver_rand_object("13-unprovisioned", p.receiver.text));
  auto object = p.originator.protect_request("13-unprovisioned", as_bytes(inner_request(kIdentity, "r1")));
  ASSERT_TRUE(object);
  expect_rsc(p.deliver(*object), Rsc::kEsprimUnknownKeyId);

  // A MAF-form ID (KeyIdentifier RelativeKeyID@MAF-FQDN) is not resolved: the reserved string is NOT FOUND.
  ASSERT_TRUE(p.originator.add_pairwise_key("00112233445566778899AABBCCDDEEFF@maf.example.com", pairwise_key()));
  ASSERT_TRUE(p.originator.set_receiver_rand_object("00112233445566778899AABBCCDDEEFF@maf.example.com", p.receiver.text));
  auto maf = p.originator.protect_request("00112233445566778899AABBCCDDEEFF@maf.example.com",
                                          as_bytes(inner_request(kIdentity, "r1")));
  ASSERT_TRUE(maf);
  expect_rsc(p.deliver(*maf), Rsc::kEsprimUnknownKeyId);

  // A key with a lifetime that has run out.
  ASSERT_TRUE(p.target.add_pairwise_key("13-short", pairwise_key(), kIdentity, kStart + 60s));
  ASSERT_TRUE(p.originator.add_pairwise_key("13-short", pairwise_key()));
  ASSERT_TRUE(p.originator.set_receiver_rand_object("13-short", p.receiver.text));
  auto shortlived = p.originator.protect_request("13-short", as_bytes(inner_request(kIdentity, "r1")));
  ASSERT_TRUE(shortlived);
  p.clock.advance(61s);
  expect_rsc(p.deliver(*shortlived), Rsc::kEsprimUnknownKeyId);
}

TEST(EsprimTargetErrors, UnknownOrExpiredReceiverRandId) {
  Pair p;
  // A receiver object from another Target (same pairwise key): its rri is unknown here.
  Target other(p.clock, crypto::system_rng());
  auto foreign = other.issue_shared_rand_object();
  ASSERT_TRUE(foreign);
  ASSERT_TRUE(p.originator.set_receiver_rand_object(kKid, foreign->text));
  auto object = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "r1")));
  ASSERT_TRUE(object);
  expect_rsc(p.deliver(*object), Rsc::kEsprimUnknownRecvRandId);

  // Expired: the checks run in order, so with both objects expired the receiver's is reported.
  ASSERT_TRUE(p.originator.set_receiver_rand_object(kKid, p.receiver.text));
  auto late = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "r2")));
  ASSERT_TRUE(late);
  p.clock.advance(std::chrono::hours(25));
  expect_rsc(p.deliver(*late), Rsc::kEsprimUnknownRecvRandId);
}

// Objects built by hand with a correct key, to reach the checks behind C.6b.1.
struct Crafted : Pair {
  Crafted(Target::Options t = {}) : Pair(std::move(t)) {}

  CarriedOriginatorRand oro(TimePoint expiry, std::vector<ProtocolAlg> espa = {ProtocolAlg::kJweA256Gcm},
                            const std::string& id = "uCrafted") {
    OriginatorRandObject o;
    o.id = id;
    o.value = Bytes(16, 0x42);
    o.expiry = expiry;
    o.protocol_alg_ids = std::move(espa);
    auto c = carry(std::move(o));
    EXPECT_TRUE(c);
    return *c;
  }
  std::string object(const CarriedOriginatorRand& o, std::string_view enc = "A256GCM", bool with_oro = true,
                     std::string_view from = kIdentity, std::string_view rqi = "r1", const std::string* ori = nullptr) {
    auto key = session_esprim_key(pairwise_key().view(), receiver.text, o.text);
    EXPECT_TRUE(key);
    auto alg = protocol_alg_for_enc(enc).value_or(ProtocolAlg::kJweA256Gcm);
    auto cek = content_encryption_key(*key, alg);
    json::Object extras{{"ori", json::Value(ori != nullptr ? *ori : o.object.id)}, {"rri", json::Value(receiver.object.id)}};
    if (with_oro) extras.set("oro", json::parse(o.text).value());
    return craft(kKid, enc, std::move(extras), *cek, inner_request(from, rqi));
  }
};

TEST(EsprimTargetErrors, UnknownOrExpiredOriginatorRandId) {
  Crafted c;
  // "ori" names an object the Target never saw, and no "oro" comes with it.
  const CarriedOriginatorRand unseen = c.oro(kStart + 1h);
  expect_rsc(c.deliver(c.object(unseen, "A256GCM", false)), Rsc::kEsprimUnknownOrigRandId);
  // Expired.
  const CarriedOriginatorRand expired = c.oro(kStart - 1s, {ProtocolAlg::kJweA256Gcm}, "uExpired");
  expect_rsc(c.deliver(c.object(expired)), Rsc::kEsprimUnknownOrigRandId);
  // Later than the receiver object's expiry (C.6b.2 i).
  const CarriedOriginatorRand too_long = c.oro(c.receiver.object.expiry + 1s, {ProtocolAlg::kJweA256Gcm}, "uLong");
  expect_rsc(c.deliver(c.object(too_long)), Rsc::kEsprimUnknownOrigRandId);
  // Exactly the receiver's expiry is allowed ("not later than").
  const CarriedOriginatorRand same = c.oro(c.receiver.object.expiry, {ProtocolAlg::kJweA256Gcm}, "uSame");
  ASSERT_TRUE(c.deliver(c.object(same)));
  // The recorded object now serves objects that name it by "ori" only.
  ASSERT_TRUE(c.deliver(c.object(same, "A256GCM", false, kIdentity, "r2")));
  // After it expires, it is unknown again.
  c.clock.advance(std::chrono::hours(23));
  const CarriedOriginatorRand short_one = c.oro(c.clock.now() + 10s, {ProtocolAlg::kJweA256Gcm}, "uShort");
  ASSERT_TRUE(c.deliver(c.object(short_one)));
  c.clock.advance(11s);
  expect_rsc(c.deliver(c.object(short_one, "A256GCM", false, kIdentity, "r3")), Rsc::kEsprimUnknownOrigRandId);
}

TEST(EsprimTargetErrors, OroThatReusesAnIdIsRefused) {
  Crafted c;
  const CarriedOriginatorRand first = c.oro(kStart + 1h, {ProtocolAlg::kJweA256Gcm}, "uSame");
  ASSERT_TRUE(c.deliver(c.object(first)));
  const CarriedOriginatorRand other = c.oro(kStart + 2h, {ProtocolAlg::kJweA256Gcm}, "uSame");
  expect_rsc(c.deliver(c.object(other, "A256GCM", true, kIdentity, "r2")), Rsc::kBadRequest);
}

TEST(EsprimTargetErrors, UnsupportedOptions) {
  Target::Options t;
  t.protocol_alg_ids = {ProtocolAlg::kJweA256Gcm, ProtocolAlg::kJweA128Gcm};
  Crafted c(t);
  // "enc" not in the originator's list.
  const CarriedOriginatorRand only256 = c.oro(kStart + 1h);
  expect_rsc(c.deliver(c.object(only256, "A128GCM")), Rsc::kEsprimUnsupportedOption);
  // The originator's list is not a subset of the receiver's (A192GCM is not offered).
  const CarriedOriginatorRand wider =
      c.oro(kStart + 1h, {ProtocolAlg::kJweA256Gcm, ProtocolAlg::kJweA192Gcm}, "uWider");
  expect_rsc(c.deliver(c.object(wider)), Rsc::kEsprimUnsupportedOption);
  // An "enc" that is no ESPrim protocol at all.
  const std::string h = R"({"alg":"dir","enc":"A128CBC-HS256","kid":")" + kKid + R"(","ori":"uCrafted","rri":")" +
                        c.receiver.object.id + R"(","oro":)" + only256.text + "}";
  expect_rsc(c.deliver(raw_object(h)), Rsc::kEsprimUnsupportedOption);
  // An "esk" the receiver does not list (C.6b.2 ii) cannot be written while 1 is the only
  // m2m:esprimKeyGenAlgID: a receiver list is never empty and an unknown esk is refused as BAD_REQUEST.
  const std::string esk2 = R"({"alg":"dir","enc":"A256GCM","kid":")" + kKid + R"(","ori":"uX","rri":")" +
                           c.receiver.object.id +
                           R"(","oro":{"esri":"uX","esrv":"v8PHy8_T19vf4-fr7_P3-_w","esrx":"20260101T000100","esk":2,"espa":[12]}})";
  expect_rsc(c.deliver(raw_object(esk2)), Rsc::kBadRequest);
  // And a working one, to show the crafted objects are otherwise right.
  ASSERT_TRUE(c.deliver(c.object(only256)));
}

TEST(EsprimTargetErrors, TamperingIsBadMac) {
  Pair p;
  auto object = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "r1")));
  ASSERT_TRUE(object);
  const std::size_t tag_at = object->rfind('.') + 1;
  const std::size_t ct_at = object->rfind('.', tag_at - 2) + 1;
  auto flip = [](std::string s, std::size_t at) {
    s[at] = s[at] == 'A' ? 'B' : 'A';
    return s;
  };
  expect_rsc(p.deliver(flip(*object, tag_at)), Rsc::kEsprimBadMac);
  expect_rsc(p.deliver(flip(*object, ct_at)), Rsc::kEsprimBadMac);
  // A changed header (here "cty" added) changes the AAD.
  json::Object h = header_of(*object);
  h.set("cty", std::string(kCtyRequestJson));
  const std::string new_header = b64(json::serialize(json::Value(h)));
  expect_rsc(p.deliver(new_header + object->substr(object->find('.'))), Rsc::kEsprimBadMac);
  // Another pairwise key under the same ID.
  Originator wrong(p.clock, crypto::system_rng());
  SecretBytes other_key = pairwise_key();
  other_key.data()[0] ^= 1;
  ASSERT_TRUE(wrong.add_pairwise_key(kKid, std::move(other_key)));
  ASSERT_TRUE(wrong.set_receiver_rand_object(kKid, p.receiver.text));
  auto forged = wrong.protect_request(kKid, as_bytes(inner_request(kIdentity, "r1")));
  ASSERT_TRUE(forged);
  expect_rsc(p.deliver(*forged), Rsc::kEsprimBadMac);
  // The untampered object still opens: failures recorded nothing.
  ASSERT_TRUE(p.deliver(*object));
}

TEST(EsprimTargetErrors, ImpersonationAndItsProtectedErrorResponse) {
  Pair p;
  auto object = p.originator.protect_request(kKid, as_bytes(inner_request("Cmallory", "r1")));
  ASSERT_TRUE(object);
  std::optional<SessionId> session;
  auto r = p.deliver(*object, &session);
  expect_rsc(r, Rsc::kEsprimImpersonationError);
  // The key was usable, so the error goes back inside ESPrim (TS-0001 11.4.2 C.6a).
  ASSERT_TRUE(session);
  auto error_response = p.target.protect_response(*session, as_bytes(R"({"rsc":4116,"rqi":"r1","rvi":"3"})"), {});
  ASSERT_TRUE(error_response) << error_response.error().to_string();
  auto back = p.originator.unprotect_response(*error_response);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(text_of(back->inner.view()), R"({"rsc":4116,"rqi":"r1","rvi":"3"})");

  // The two-step form: open, then check the inner From passed in.
  auto other = p.originator.protect_request(kKid, as_bytes("<not json>"));
  ASSERT_TRUE(other);
  auto opened = p.target.open_request(*other);
  ASSERT_TRUE(opened) << opened.error().to_string();
  EXPECT_FALSE(opened->authenticated);
  expect_rsc(p.target.authenticate(*opened, {"Cmallory", std::nullopt}), Rsc::kEsprimImpersonationError);
  EXPECT_FALSE(opened->authenticated);
  ASSERT_TRUE(p.target.authenticate(*opened, {kIdentity, std::nullopt}));
  EXPECT_TRUE(opened->authenticated);
  // An inner primitive the extractor cannot read is BAD_REQUEST, with the session known.
  auto unreadable = p.originator.protect_request(kKid, as_bytes("<not json>"));
  ASSERT_TRUE(unreadable);
  session.reset();
  expect_rsc(p.deliver(*unreadable, &session), Rsc::kBadRequest);
  EXPECT_TRUE(session);
}

TEST(EsprimTargetErrors, PreKeyErrorsLeaveNoSession) {
  Pair p;
  std::optional<SessionId> session = SessionId{"x", "y", "z"};
  expect_rsc(p.deliver("garbage", &session), Rsc::kBadRequest);
  EXPECT_FALSE(session);
}

// ---------------------------------------------------------------------------------------------------------
// Replay and reflection (not in V3.18.0: our addition, BAD_REQUEST)

TEST(EsprimReplay, SameObjectTwiceIsRefused) {
  Pair p;
  auto object = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "r1")));
  ASSERT_TRUE(object);
  ASSERT_TRUE(p.deliver(*object));
  expect_rsc(p.deliver(*object), Rsc::kBadRequest);
  // Also through open_request alone.
  expect_rsc(p.target.open_request(*object), Rsc::kBadRequest);
  // Still refused later in the session, and after the rand objects expire it is refused as expired.
  p.clock.advance(std::chrono::minutes(30));
  expect_rsc(p.deliver(*object), Rsc::kBadRequest);
  p.clock.advance(std::chrono::hours(2));
  p.target.purge_expired();
  expect_rsc(p.deliver(*object), Rsc::kEsprimUnknownOrigRandId);  // its "oro" has expired
}

TEST(EsprimReplay, SameInnerRequestIdentifierIsRefused) {
  Pair p;
  auto a = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "dup")));
  auto b = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "dup")));
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(p.deliver(*a));
  expect_rsc(p.deliver(*b), Rsc::kBadRequest);
  // A refused impersonation does not consume the identifier.
  auto c = p.originator.protect_request(kKid, as_bytes(inner_request("Cmallory", "fresh")));
  auto d = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "fresh")));
  ASSERT_TRUE(c && d);
  expect_rsc(p.deliver(*c), Rsc::kEsprimImpersonationError);
  ASSERT_TRUE(p.deliver(*d));
}

TEST(EsprimReplay, ReflectionIsRefusedBothWays) {
  Pair p;
  auto object = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "r1")));
  ASSERT_TRUE(object);
  // A request reflected to the Originator as a response (it carries "oro", so it is refused outright)...
  expect_rsc(p.originator.unprotect_response(*object), Rsc::kBadRequest);
  auto opened = p.deliver(*object);
  ASSERT_TRUE(opened);
  auto response = p.target.protect_response(*opened, as_bytes(R"({"rsc":2000,"rqi":"r1","rvi":"3"})"));
  ASSERT_TRUE(response);
  // ...a response reflected to the Target as a request...
  expect_rsc(p.target.open_request(*response), Rsc::kBadRequest);
  ASSERT_TRUE(p.originator.unprotect_response(*response));
  // ...and a response replayed to the Originator.
  expect_rsc(p.originator.unprotect_response(*response), Rsc::kBadRequest);
  // A confirmed session's request (no "oro") reflected to the Originator is its own IV: refused.
  auto second = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "r2")));
  ASSERT_TRUE(second);
  ASSERT_FALSE(header_of(*second).contains("oro"));
  expect_rsc(p.originator.unprotect_response(*second), Rsc::kBadRequest);
}

TEST(EsprimReplay, TablesAreBounded) {
  Target::Options t;
  t.max_sessions = 1;
  t.max_objects_per_session = 2;
  Pair p(t);
  auto a1 = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "r1")));
  auto a2 = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "r2")));
  auto a3 = p.originator.protect_request(kKid, as_bytes(inner_request(kIdentity, "r3")));
  ASSERT_TRUE(a1 && a2 && a3);
  ASSERT_TRUE(p.deliver(*a1));
  ASSERT_TRUE(p.deliver(*a2));
  expect_rsc(p.deliver(*a3), Rsc::kEsprimUnknownOrigRandId);  // the session is used up
  // A second session does not fit.
  auto next = p.originator.start_session(kKid);
  ASSERT_TRUE(next);
  auto b = p.originator.protect_request(*next, as_bytes(inner_request(kIdentity, "r4")), {});
  ASSERT_TRUE(b);
  expect_rsc(p.deliver(*b), Rsc::kEsprimUnknownOrigRandId);
  // Unique receiver objects: a full table drops the one closest to its expiry.
  Target::Options small;
  small.max_unique_rand_objects = 2;
  ManualClock clock(kStart);
  Target target(clock, crypto::system_rng(), small);
  ASSERT_TRUE(target.add_pairwise_key(kKid, pairwise_key(), kIdentity));
  auto u1 = target.issue_unique_rand_object();
  clock.advance(1s);
  auto u2 = target.issue_unique_rand_object();
  auto u3 = target.issue_unique_rand_object();
  ASSERT_TRUE(u1 && u2 && u3);
  auto through = [&](const CarriedReceiverRand& rro) {
    Originator o(clock, crypto::system_rng());
    EXPECT_TRUE(o.add_pairwise_key(kKid, pairwise_key()));
    EXPECT_TRUE(o.set_receiver_rand_object(kKid, rro.text));
    auto object = o.protect_request(kKid, as_bytes(inner_request(kIdentity, "r1")));
    EXPECT_TRUE(object);
    return target.unprotect_request(*object, [](const Target::OpenedRequest& r) { return json_primitive_ids(r.inner.view()); });
  };
  expect_rsc(through(*u1), Rsc::kEsprimUnknownRecvRandId);
  EXPECT_TRUE(through(*u2));
  EXPECT_TRUE(through(*u3));
}

// ---------------------------------------------------------------------------------------------------------
// Independent check: jwcrypto (python3-jwcrypto) decrypts our ESPrim Objects with a session key that Python
// derives itself from the raw "oro" text in the request header and the receiver object's text.

constexpr const char* kJwcryptoCheck = R"PY(
import base64, hashlib, hmac, json, sys
from jwcrypto import jwe, jwk
session_source, rro_file, pk_hex, size, target = sys.argv[1:6]
src = open(session_source).read().strip()
h64 = src.split('.')[0]
hdr = base64.urlsafe_b64decode(h64 + '=' * (-len(h64) % 4)).decode('utf-8')
i = hdr.index('"oro":') + len('"oro":')
_, end = json.JSONDecoder().raw_decode(hdr, i)
oro = hdr[i:end].encode('utf-8')
rro = open(rro_file, 'rb').read()
label = b'oneM2M HMAC-SHA256 sessionESPrimKey derivation algorithm'
key = hmac.new(bytes.fromhex(pk_hex), rro + oro + label, hashlib.sha256).digest()[:int(size)]
k = jwk.JWK(kty='oct', k=base64.urlsafe_b64encode(key).rstrip(b'=').decode())
token = jwe.JWE()
token.deserialize(open(target).read().strip(), key=k)
sys.stdout.buffer.write(token.payload)
)PY";

std::string jwcrypto_decrypt(const test::TempDir& dir, const std::string& session_source, const std::string& rro,
                             std::size_t key_size, const std::string& target) {
  test::write_file(dir.file("check.py"), as_bytes(kJwcryptoCheck));
  test::write_file(dir.file("source"), as_bytes(session_source));
  test::write_file(dir.file("rro"), as_bytes(rro));
  test::write_file(dir.file("target"), as_bytes(target));
  const SecretBytes pk = pairwise_key();
  const int rc = test::run(dir, "(/usr/bin/python3 " + dir.file("check.py") + " " + dir.file("source") + " " +
                                    dir.file("rro") + " " + hex_encode(pk.view()) + " " + std::to_string(key_size) +
                                    " " + dir.file("target") + " > " + dir.file("out") + ")");
  EXPECT_EQ(rc, 0) << test::read_file(dir.file("log"));
  return test::read_file(dir.file("out"));
}

TEST(EsprimInterop, JwcryptoDecryptsRequestAndResponse) {
  test::TempDir dir("esprim-jwcrypto");
  Pair p;
  const std::string inner = inner_request(kIdentity, "r1");
  auto object = p.originator.protect_request(kKid, as_bytes(inner), {std::nullopt, std::string(kCtyRequestJson)});
  ASSERT_TRUE(object);
  EXPECT_EQ(jwcrypto_decrypt(dir, *object, p.receiver.text, 32, *object), inner);

  auto opened = p.deliver(*object);
  ASSERT_TRUE(opened);
  const std::string response_inner = R"({"rsc":2000,"rqi":"r1","rvi":"3"})";
  auto response = p.target.protect_response(*opened, as_bytes(response_inner));
  ASSERT_TRUE(response);
  EXPECT_EQ(jwcrypto_decrypt(dir, *object, p.receiver.text, 32, *response), response_inner);
}

TEST(EsprimInterop, JwcryptoDecryptsA128GcmWithTheLeftmostOctets) {
  test::TempDir dir("esprim-jwcrypto");
  Target::Options t;
  t.protocol_alg_ids = {ProtocolAlg::kJweA128Gcm, ProtocolAlg::kJweA192Gcm};
  Originator::Options o;
  o.protocol_alg_ids = {ProtocolAlg::kJweA128Gcm, ProtocolAlg::kJweA192Gcm};
  Pair p(t, o);
  const std::string inner = inner_request(kIdentity, "r1");
  auto a = p.originator.protect_request(kKid, as_bytes(inner));
  ASSERT_TRUE(a);
  EXPECT_EQ(jwcrypto_decrypt(dir, *a, p.receiver.text, 16, *a), inner);
  auto b = p.originator.protect_request(kKid, as_bytes(inner), {ProtocolAlg::kJweA192Gcm, std::nullopt});
  ASSERT_TRUE(b);
  EXPECT_EQ(jwcrypto_decrypt(dir, *b, p.receiver.text, 24, *b), inner);
}

// The other direction: objects made by Python (hmac for the sessionESPrimKey, cryptography's AESGCM for the
// JWE) for a Target whose RNG counts 00 01 02 ..., as in fuzz/esprim_object.cpp, open in our Target.
class CountingRng final : public Rng {
 public:
  Result<void> fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) b = m_next++;
    return {};
  }

 private:
  std::uint8_t m_next = 0;
};

TEST(EsprimInterop, TargetOpensObjectsMadeByPython) {
  struct Case {
    const char* file;
    std::optional<Rsc> rsc;
  };
  for (const Case& c : {Case{"request_a256", std::nullopt}, Case{"request_a128", std::nullopt},
                        Case{"request_a192", std::nullopt}, Case{"impersonation", Rsc::kEsprimImpersonationError},
                        Case{"bad_tag", Rsc::kEsprimBadMac}, Case{"oro_outlives", Rsc::kEsprimUnknownOrigRandId},
                        Case{"unknown_kid", Rsc::kEsprimUnknownKeyId}}) {
    SCOPED_TRACE(c.file);
    ManualClock clock(kStart);
    CountingRng rng;
    Target::Options options;
    options.protocol_alg_ids = {ProtocolAlg::kJweA256Gcm, ProtocolAlg::kJweA192Gcm, ProtocolAlg::kJweA128Gcm};
    Target target(clock, rng, options);
    ASSERT_TRUE(target.add_pairwise_key("13-fuzz", pairwise_key(), "Cfuzz"));
    auto shared = target.issue_shared_rand_object();
    ASSERT_TRUE(shared);
    ASSERT_EQ(shared->text,
              R"({"esri":"sAAECAwQFBgcI","esrv":"vCQoLDA0ODxAREhMUFRYXGA","esrx":"20260102T000000","esks":[1],"espa":[12,11,10]})");
    const std::string object = test::read_file(std::string(M2MSEC_SOURCE_DIR) + "/fuzz/corpus/esprim_object/" + c.file);
    ASSERT_FALSE(object.empty());
    auto opened = target.unprotect_request(object, [](const Target::OpenedRequest& r) { return json_primitive_ids(r.inner.view()); });
    if (c.rsc) {
      expect_rsc(opened, *c.rsc);
    } else {
      ASSERT_TRUE(opened) << opened.error().to_string();
      EXPECT_EQ(opened->identity, "Cfuzz");
    }
  }
}

}  // namespace
}  // namespace m2msec::e2e

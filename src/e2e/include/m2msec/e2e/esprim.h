// ESPrim, End-to-End Security of Primitives (TS-0003 V3.18.0 clauses 8.4 and 10.3.8; TS-0001 V3.36.0
// 11.4.2; TS-0004 V3.32.0 7.6.2, 6.3.4.2.40/41, 6.3.5.50/51): the rand objects, the sessionESPrimKey, the
// ESPrim Object (a JWE compact serialization with "alg":"dir") and the two end-points, Originator and Target.
// The m2m:seci bodies that carry these are in seci.h.
//
// Every error a Target returns carries exactly one code of TS-0004 Table 7.6.2-1: BAD_REQUEST (4000),
// ESPRIM_UNSUPPORTED_OPTION (4111), ESPRIM_UNKNOWN_KEY_ID (4112), ESPRIM_UNKNOWN_ORIG_RAND_ID (4113),
// ESPRIM_UNKNOWN_RECV_RAND_ID (4114), ESPRIM_BAD_MAC (4115), ESPRIM_IMPERSONATION_ERROR (4116),
// ESPRIM_DECRYPTION_ERROR (5210), ESPRIM_ENCRYPTION_ERROR (5211). Parsers refuse with kUsage / 4000.
//
// Where V3.18.0 leaves a point open, the decision is written next to the code that applies it (esprim*.cpp,
// "ESPrim open point") and listed in docs/conformance.md:
//   - HMAC input: the exact UTF-8 octets of each rand object's JSON as carried (received octets are kept);
//   - A128GCM / A192GCM take the leftmost 16 / 24 octets of the 32-octet sessionESPrimKey;
//   - esrv is "v" followed by base64url (no padding) of the 16 random octets (an xs:NCName);
//   - esri starts with "s" for a shared receiver object and "u" for every other rand object;
//   - esrx is the absolute form YYYYMMDDTHHMMSS (UTC) only;
//   - "oro" / "rro" use the short names, "cty" values are the kCty* constants below;
//   - MAF-form pairwiseESPrimKeyIDs are not resolved (the "reserved string" is NOT FOUND): only provisioned
//     IDs are known, anything else is ESPRIM_UNKNOWN_KEY_ID;
//   - replay (the specification has none): a Target refuses a second object with the same (kid, ori, rri,
//     IV) and a second inner request with the same Request Identifier in one session with BAD_REQUEST.
//
// Thread safety: Originator and Target lock internally; the Clock and Rng they are given must be usable
// from the threads that call them.
#pragma once

#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "m2msec/core/bytes.h"
#include "m2msec/core/clock.h"
#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"
#include "m2msec/jose/jwe.h"
#include "m2msec/json/json.h"

namespace m2msec::e2e {

using TimePoint = Clock::TimePoint;

// m2m:esprimKeyGenAlgID (TS-0004 6.3.4.2.40): 1 = HMAC-SHA256 (TS-0003 10.3.8), the only value.
enum class KeyGenAlg : std::uint8_t { kHmacSha256 = 1 };

// m2m:esprimProtocolAndAlgID (TS-0004 6.3.4.2.41): JWE compact serialization with this "enc".
enum class ProtocolAlg : std::uint8_t { kJweA128Gcm = 10, kJweA192Gcm = 11, kJweA256Gcm = 12 };

// "A128GCM", "A192GCM", "A256GCM".
std::string_view jwe_enc(ProtocolAlg alg);
std::optional<ProtocolAlg> protocol_alg_for_enc(std::string_view enc);
std::optional<ProtocolAlg> protocol_alg_from_int(std::int64_t value);
std::optional<KeyGenAlg> key_gen_alg_from_int(std::int64_t value);
// The content encryption key size of `alg`: 16, 24 or 32 octets.
std::size_t cek_size(ProtocolAlg alg);

// The "cty" of the ESPrim Object: the media type of the inner primitive's serialization (TS-0003
// Table 8.4.3.2-2). ESPrim open point: the values are not specified; we use the oneM2M primitive media types
// without "application/" (RFC 7516 4.1.12 allows dropping it).
inline constexpr std::string_view kCtyRequestJson = "vnd.onem2m-preq+json";
inline constexpr std::string_view kCtyResponseJson = "vnd.onem2m-prsp+json";
inline constexpr std::string_view kCtyRequestXml = "vnd.onem2m-preq+xml";
inline constexpr std::string_view kCtyResponseXml = "vnd.onem2m-prsp+xml";
inline constexpr std::string_view kCtyRequestCbor = "vnd.onem2m-preq+cbor";
inline constexpr std::string_view kCtyResponseCbor = "vnd.onem2m-prsp+cbor";

// TS-0003 8.4.2 B.1 step 1: esprimRandValue is a fresh 128-bit random value.
inline constexpr std::size_t kRandValueSize = 16;

// m2m:receiverESPrimRandObject (TS-0004 6.3.5.51): esri, esrv, esrx, esks, espa.
struct ReceiverRandObject {
  std::string id;                              // esri, an xs:NCName
  Bytes value;                                 // esrv, 16 octets
  TimePoint expiry{};                          // esrx, whole seconds
  std::vector<KeyGenAlg> key_gen_alg_ids;      // esks, non-empty, no repeats
  std::vector<ProtocolAlg> protocol_alg_ids;   // espa, non-empty, no repeats
};

// m2m:originatorESPrimRandObject (TS-0004 6.3.5.50): esri, esrv, esrx, esk, espa.
struct OriginatorRandObject {
  std::string id;
  Bytes value;
  TimePoint expiry{};
  KeyGenAlg key_gen_alg_id = KeyGenAlg::kHmacSha256;  // esk
  std::vector<ProtocolAlg> protocol_alg_ids;
};

// A rand object and the exact JSON text it travels as. The text is what goes into the sessionESPrimKey
// derivation (10.3.8), so received objects keep the octets they arrived as.
template <typename T>
struct Carried {
  T object;
  std::string text;
};
using CarriedReceiverRand = Carried<ReceiverRandObject>;
using CarriedOriginatorRand = Carried<OriginatorRandObject>;

// The JSON form with the short names. Fails (kUsage) when the object breaks the rules its parser enforces.
Result<json::Value> to_json(const ReceiverRandObject& object);
Result<json::Value> to_json(const OriginatorRandObject& object);
// The object together with its compact JSON text.
Result<CarriedReceiverRand> carry(ReceiverRandObject object);
Result<CarriedOriginatorRand> carry(OriginatorRandObject object);

// Strict readers: exactly the members of the type, each of its type, known enumeration values only, no
// repeated list entries, a 16-octet esrv, an NCName esri. Every refusal is kUsage (BAD_REQUEST).
Result<ReceiverRandObject> receiver_rand_object_from_json(const json::Value& value);
Result<OriginatorRandObject> originator_rand_object_from_json(const json::Value& value);
// From JSON text; the Carried text is the input without surrounding whitespace.
Result<CarriedReceiverRand> parse_receiver_rand_object(std::string_view text);
Result<CarriedOriginatorRand> parse_originator_rand_object(std::string_view text);

// esrx: m2m:absRelTimestamp in its absolute form YYYYMMDDTHHMMSS (UTC; core/timestamp.h) as a TimePoint:
// formatting drops sub-seconds, parsing saturates at the ends of TimePoint's range.
Result<std::string> format_timestamp(TimePoint time);
Result<TimePoint> parse_timestamp(std::string_view text);

// The esrv text of 16 octets, and back.
std::string encode_rand_value(ByteView value);
Result<Bytes> decode_rand_value(std::string_view text);
// Whether an esri marks a shared receiver rand object (TS-0003 8.4.2 B.1 step 3).
bool is_shared_rand_id(std::string_view id);

// sessionESPrimKey = HMAC-SHA256(pairwiseESPrimKey, receiverESPrimRandObject || originatorESPrimRandObject ||
// "oneM2M HMAC-SHA256 sessionESPrimKey derivation algorithm") (TS-0003 10.3.8), over the objects' JSON texts.
// 32 octets.
Result<SecretBytes> session_esprim_key(ByteView pairwise_key, std::string_view receiver_object,
                                       std::string_view originator_object);
// The CEK for `alg` from a sessionESPrimKey: the leftmost cek_size(alg) octets.
Result<SecretBytes> content_encryption_key(const SecretBytes& session_key, ProtocolAlg alg);

// The JWE Protected Header of an ESPrim Object (TS-0003 Table 8.4.3.2-2) besides "alg":"dir".
struct EsprimHeader {
  std::string enc;
  std::string kid;                 // pairwiseESPrimKeyID
  std::optional<std::string> cty;
  std::string ori;                 // esri of the originator rand object
  std::string rri;                 // esri of the receiver rand object
  std::optional<CarriedOriginatorRand> oro;
  std::optional<CarriedReceiverRand> rro;
};

struct ParsedEsprimObject {
  jose::Jwe jwe;
  EsprimHeader header;
  std::string iv_b64;  // the IV part of the compact form (replay cache key)
};

// Reads an ESPrim Object: a JWE compact serialization (never JSON), an empty Encrypted Key, "alg":"dir",
// string "enc", "kid", "ori", "rri" (NCNames), an optional string "cty", optional "oro"/"rro" rand objects and
// no other header member. "enc" is not checked here (unsupported values are 4111 later, in step order).
// Every refusal is kUsage (BAD_REQUEST).
Result<ParsedEsprimObject> parse_esprim_object(std::string_view text);

// Which rand objects (and pairwise key) a sessionESPrimKey belongs to: the session identity, TS-0003 8.4.2 C.10.
struct SessionId {
  std::string kid;
  std::string ori;
  std::string rri;
  auto operator<=>(const SessionId&) const = default;
};

// The inner primitive's From and Request Identifier, for the impersonation and replay checks.
struct InnerIds {
  std::string from;
  std::optional<std::string> request_id;
};
// Reads "fr" (required) and "rqi" (optional) from a JSON-serialized inner primitive (TS-0004 8.4.2: not
// wrapped in m2m:rqp). kUsage (BAD_REQUEST) when it is not a JSON object or "fr" is missing or not a string.
Result<InnerIds> json_primitive_ids(ByteView inner);

// The Originator end-point (TS-0003 8.4.2 B.2, C.1-C.4, C.10-C.12).
class Originator {
 public:
  struct Options {
    // esprimProtocolAndAlgIDs offered, in order of preference; intersected with the receiver's list.
    std::vector<ProtocolAlg> protocol_alg_ids{ProtocolAlg::kJweA256Gcm};
    // Upper bound on the life of an originator rand object (it never outlives the receiver's).
    std::chrono::seconds rand_lifetime{3600};
    // A session closer than this to its expiry is not used for new requests, leaving room for the response
    // (8.4.2 C.10).
    std::chrono::seconds renew_margin{30};
  };

  Originator(const Clock& clock, Rng& rng, Options options);
  Originator(const Clock& clock, Rng& rng) : Originator(clock, rng, Options{}) {}

  // A provisioned pairwiseESPrimKey (8.4.2 A); no expiry means it never expires. At least 16 octets.
  Result<void> add_pairwise_key(std::string kid, SecretBytes key, std::optional<TimePoint> expiry = std::nullopt);
  // The receiver rand object to use with `kid`: the "esro" of the Target's e2eSecInfo, or the "ero" of its
  // receiverESPrimRandObject Response, as JSON text (B.2c, B.2f). Refused when it is expired.
  Result<void> set_receiver_rand_object(std::string_view kid, std::string_view json_text);
  // The same from a whole sit-4 NOTIFY response body.
  Result<void> accept_rand_object_response(std::string_view kid, std::string_view seci_body);
  // Whether a new session with `kid` needs a (new) receiver rand object first (B.2c), i.e. a sit-3 request.
  bool needs_receiver_rand_object(std::string_view kid) const;

  // B.2g/B.2h: a new originator rand object and sessionESPrimKey for `kid`; it becomes the current session.
  Result<SessionId> start_session(std::string_view kid);

  struct RequestOptions {
    std::optional<ProtocolAlg> enc;  // default: the first of the session's esprimProtocolAndAlgIDs
    std::optional<std::string> cty;
  };
  // C.3/C.4: the ESPrim Object for a serialized inner request, in the current session with `kid` (one is
  // started when there is none or it is close to its expiry). "oro" is sent until a protected response of
  // the session has arrived: until then this could be the first object the Target sees (8.4.2 C.3).
  Result<std::string> protect_request(std::string_view kid, ByteView inner, const RequestOptions& options);
  Result<std::string> protect_request(std::string_view kid, ByteView inner) { return protect_request(kid, inner, {}); }
  Result<std::string> protect_request(const SessionId& session, ByteView inner, const RequestOptions& options);

  struct Response {
    SessionId session;
    SecretBytes inner;
    std::optional<std::string> cty;
  };
  // C.10-C.12: the inner response. Refused (and to be discarded) when its session is unknown or expired,
  // when it carries "oro" (only the Originator sends it), when it is a replay (or a reflected request) or
  // when it does not decrypt. An "rro" is recorded as the receiver rand object for new sessions with its kid.
  Result<Response> unprotect_response(std::string_view object);

 private:
  struct KeyEntry {
    SecretBytes key;
    std::optional<TimePoint> expiry;
  };
  struct Session {
    SecretBytes key;  // sessionESPrimKey
    CarriedOriginatorRand oro;
    CarriedReceiverRand rro;
    TimePoint expiry{};      // the earliest of the two objects' and the pairwise key's
    bool confirmed = false;  // a protected response arrived: the Target has recorded "oro"
    std::unordered_set<std::string> ivs;  // of objects sent and received (replay and reflection)
  };
  Result<SessionId> start_session_locked(std::string_view kid, TimePoint now);
  Result<std::string> protect_locked(const SessionId& id, ByteView inner, const RequestOptions& options, TimePoint now);
  void purge_locked(TimePoint now);

  const Clock& m_clock;
  Rng& m_rng;
  Options m_options;
  mutable std::mutex m_mutex;
  std::map<std::string, KeyEntry, std::less<>> m_keys;
  std::map<std::string, CarriedReceiverRand, std::less<>> m_receiver_objects;  // by kid
  std::map<SessionId, Session> m_sessions;
  std::map<std::string, SessionId, std::less<>> m_current;  // by kid
};

// The Target end-point (TS-0003 8.4.2 B.1, B.2e/f, C.5-C.9; TS-0004 7.6.2).
class Target {
 public:
  struct Options {
    std::vector<KeyGenAlg> key_gen_alg_ids{KeyGenAlg::kHmacSha256};
    // ESPrim open point: A256GCM only by default, since it uses the whole sessionESPrimKey; A128GCM and
    // A192GCM (key truncation is our interpretation) must be enabled here.
    std::vector<ProtocolAlg> protocol_alg_ids{ProtocolAlg::kJweA256Gcm};
    std::chrono::seconds shared_lifetime{std::chrono::hours(24)};
    std::chrono::seconds unique_lifetime{std::chrono::hours(1)};
    // Bounds on every table; a full table is relieved by dropping expired entries first.
    std::size_t max_unique_rand_objects = 4096;      // then the earliest-expiring unique object is dropped
    std::size_t max_originator_rand_objects = 4096;  // then new ones are refused: 4113
    std::size_t max_sessions = 4096;                 // then new sessions are refused: 4113
    std::size_t max_objects_per_session = 65536;     // then the session is used up: 4113
  };

  Target(const Clock& clock, Rng& rng, Options options);
  Target(const Clock& clock, Rng& rng) : Target(clock, rng, Options{}) {}

  // A provisioned pairwiseESPrimKey and the identity (the inner From) it is bound to; no expiry means it
  // never expires (8.4.2 A). At least 16 octets.
  Result<void> add_pairwise_key(std::string kid, SecretBytes key, std::string identity,
                                std::optional<TimePoint> expiry = std::nullopt);

  // B.1: a fresh shared receiver rand object, to publish as e2eSecInfo/sharedReceiverESPrimRandObject (esro).
  Result<CarriedReceiverRand> issue_shared_rand_object();
  // B.2e: a fresh not-shared receiver rand object.
  Result<CarriedReceiverRand> issue_unique_rand_object();
  // B.2e/f: the sit-4 response body for a sit-3 request body.
  Result<std::string> answer_rand_object_request(std::string_view seci_body);

  struct OpenedRequest {
    SessionId session;
    SecretBytes inner;
    std::optional<std::string> cty;
    ProtocolAlg enc = ProtocolAlg::kJweA256Gcm;
    std::string identity;        // bound to the pairwise key
    bool authenticated = false;  // set by authenticate(): the request's rq_authn
  };
  // C.5-C.6: parse (4000), key (4112), receiver rand object (4114), originator rand object (4113, also when
  // it outlives the receiver's), esk (4111), AEAD lists and "enc" (4111), decryption (4115 tag, 5210 other),
  // then replay (4000). An "oro" is recorded only once the object has decrypted.
  Result<OpenedRequest> open_request(std::string_view object);
  // C.7 / TS-0003 7.2.2: the inner From must be the identity bound to the key (4116); a Request Identifier
  // already accepted in this session is a replay (4000). On success the request is marked authenticated.
  Result<void> authenticate(OpenedRequest& request, const InnerIds& ids);

  using InnerIdsExtractor = std::function<Result<InnerIds>(const OpenedRequest&)>;
  // open_request() then authenticate() with the ids `extract` reads (an extractor error is 4000). When the
  // failure comes after a usable sessionESPrimKey was found, *session_out names that session so that the
  // error response can be sent inside ESPrim (TS-0001 11.4.2 C.6a); otherwise it is left empty and the
  // error goes unprotected.
  Result<OpenedRequest> unprotect_request(std::string_view object, const InnerIdsExtractor& extract,
                                          std::optional<SessionId>* session_out = nullptr);

  struct ResponseOptions {
    std::optional<ProtocolAlg> enc;  // default: the request's, or the first of the originator's list
    std::optional<std::string> cty;
    std::optional<CarriedReceiverRand> rro;  // an in-band receiver rand object for new sessions
  };
  // C.8: the ESPrim Object for a serialized inner response (success or error) in `session`. 5211 when the
  // session is unknown or expired, "enc" is not in the originator's list or encryption fails.
  Result<std::string> protect_response(const SessionId& session, ByteView inner, const ResponseOptions& options);
  Result<std::string> protect_response(const OpenedRequest& request, ByteView inner, ResponseOptions options = {});

  // Drops every expired rand object and session now (it also happens as a side effect of the calls above).
  void purge_expired();

 private:
  struct KeyEntry {
    SecretBytes key;
    std::string identity;
    std::optional<TimePoint> expiry;
  };
  struct IssuedRand {
    CarriedReceiverRand object;
    bool shared = false;
  };
  struct Session {
    SecretBytes key;  // sessionESPrimKey
    CarriedOriginatorRand oro;
    CarriedReceiverRand rro;
    TimePoint expiry{};  // the earliest of the two objects' and the pairwise key's
    std::unordered_set<std::string> ivs;  // of objects received and sent (replay and reflection)
    std::set<std::string> request_ids;    // inner Request Identifiers accepted
  };
  Result<CarriedReceiverRand> issue_locked(bool shared, TimePoint now);
  // Drops expired entries, at most once per second of the clock unless forced (a table is full).
  void purge_locked(TimePoint now, bool force = false);

  const Clock& m_clock;
  Rng& m_rng;
  Options m_options;
  mutable std::mutex m_mutex;
  std::map<std::string, KeyEntry, std::less<>> m_keys;
  std::map<std::string, IssuedRand, std::less<>> m_issued;  // receiver rand objects by esri
  std::size_t m_unique_count = 0;
  std::map<std::pair<std::string, std::string>, CarriedOriginatorRand> m_originator_objects;  // by (kid, esri)
  std::map<SessionId, Session> m_sessions;
  TimePoint m_last_purge{};
};

}  // namespace m2msec::e2e

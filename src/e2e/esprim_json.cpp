// ESPrim data types and their JSON form (TS-0004 V3.32.0 6.3.4.2.40/41, 6.3.5.50/51, 8.2.5 short names):
// enumerations, esrx timestamps, esrv values, the two rand objects, and the raw-text reader.
#include <algorithm>
#include <set>

#include "esprim_internal.h"
#include "m2msec/core/encoding.h"
#include "m2msec/core/timestamp.h"
#include "m2msec/e2e/esprim.h"

namespace m2msec::e2e {
namespace internal {


Error malformed(std::string_view what) { return Error::usage(concat({"ESPrim: ", what})); }

Error esprim_error(Rsc rsc, std::string_view what) {
  Category category = Category::kAuth;
  switch (rsc) {
    case Rsc::kBadRequest: category = Category::kProtocol; break;
    case Rsc::kEsprimUnsupportedOption: category = Category::kUnsupported; break;
    case Rsc::kEsprimBadMac: category = Category::kCrypto; break;
    case Rsc::kEsprimDecryptionError:
    case Rsc::kEsprimEncryptionError: category = Category::kCrypto; break;
    default: category = Category::kAuth; break;
  }
  const bool prefixed = what.substr(0, 8) == "ESPrim: ";
  return Error(category, rsc, prefixed ? std::string(what) : concat({"ESPrim: ", what}));
}

bool is_ascii_ncname(std::string_view text) {
  if (text.empty() || text.size() > 255) return false;
  auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  if (!letter(text.front()) && text.front() != '_') return false;
  return std::all_of(text.begin(), text.end(), [&](char c) {
    return letter(c) || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
  });
}

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A cursor over JSON text that skips values without interpreting them.
class RawScanner {
 public:
  explicit RawScanner(std::string_view text) : m_text(text) {}

  void skip_ws() {
    while (m_pos < m_text.size() && is_ws(m_text[m_pos])) ++m_pos;
  }
  bool at(char c) const { return m_pos < m_text.size() && m_text[m_pos] == c; }
  bool eat(char c) {
    if (!at(c)) return false;
    ++m_pos;
    return true;
  }
  std::size_t pos() const { return m_pos; }
  bool done() const { return m_pos >= m_text.size(); }

  // A string starting at the cursor, quotes included.
  bool skip_string() {
    if (!eat('"')) return false;
    while (m_pos < m_text.size()) {
      const char c = m_text[m_pos++];
      if (c == '\\') {
        if (m_pos >= m_text.size()) return false;
        ++m_pos;  // the escaped character; \uXXXX continues with hex digits, never a quote
      } else if (c == '"') {
        return true;
      }
    }
    return false;
  }

  bool skip_value() {
    skip_ws();
    if (done()) return false;
    const char c = m_text[m_pos];
    if (c == '"') return skip_string();
    if (c == '{' || c == '[') {
      std::size_t depth = 0;
      while (m_pos < m_text.size()) {
        const char d = m_text[m_pos];
        if (d == '"') {
          if (!skip_string()) return false;
          continue;
        }
        ++m_pos;
        if (d == '{' || d == '[') {
          ++depth;
        } else if (d == '}' || d == ']') {
          if (depth == 0) return false;
          if (--depth == 0) return true;
        }
      }
      return false;
    }
    const std::size_t start = m_pos;
    while (m_pos < m_text.size() && !is_ws(m_text[m_pos]) && m_text[m_pos] != ',' && m_text[m_pos] != '}' &&
           m_text[m_pos] != ']')
      ++m_pos;
    return m_pos > start;
  }

 private:
  std::string_view m_text;
  std::size_t m_pos = 0;
};

}  // namespace

std::string_view trim_json_whitespace(std::string_view text) {
  while (!text.empty() && is_ws(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_ws(text.back())) text.remove_suffix(1);
  return text;
}

Result<std::optional<std::string_view>> raw_member(std::string_view object_text, std::string_view name) {
  RawScanner s(object_text);
  const Error bad = malformed("not a JSON object");
  s.skip_ws();
  if (!s.eat('{')) return bad;
  s.skip_ws();
  if (s.eat('}')) return std::optional<std::string_view>();
  for (;;) {
    s.skip_ws();
    const std::size_t name_start = s.pos();
    if (!s.skip_string()) return bad;
    auto decoded = json::parse(object_text.substr(name_start, s.pos() - name_start));
    if (!decoded || decoded->string() == nullptr) return bad;
    s.skip_ws();
    if (!s.eat(':')) return bad;
    s.skip_ws();
    const std::size_t value_start = s.pos();
    if (!s.skip_value()) return bad;
    if (*decoded->string() == name) {
      return std::optional<std::string_view>(object_text.substr(value_start, s.pos() - value_start));
    }
    s.skip_ws();
    if (s.eat('}')) return std::optional<std::string_view>();
    if (!s.eat(',')) return bad;
  }
}

}  // namespace internal

using internal::malformed;

std::string_view jwe_enc(ProtocolAlg alg) {
  switch (alg) {
    case ProtocolAlg::kJweA128Gcm: return "A128GCM";
    case ProtocolAlg::kJweA192Gcm: return "A192GCM";
    case ProtocolAlg::kJweA256Gcm: return "A256GCM";
  }
  return "";
}

std::optional<ProtocolAlg> protocol_alg_for_enc(std::string_view enc) {
  for (ProtocolAlg alg : {ProtocolAlg::kJweA128Gcm, ProtocolAlg::kJweA192Gcm, ProtocolAlg::kJweA256Gcm}) {
    if (jwe_enc(alg) == enc) return alg;
  }
  return std::nullopt;
}

std::optional<ProtocolAlg> protocol_alg_from_int(std::int64_t value) {
  if (value >= 10 && value <= 12) return static_cast<ProtocolAlg>(value);
  return std::nullopt;
}

std::optional<KeyGenAlg> key_gen_alg_from_int(std::int64_t value) {
  if (value == 1) return KeyGenAlg::kHmacSha256;
  return std::nullopt;
}

std::size_t cek_size(ProtocolAlg alg) {
  switch (alg) {
    case ProtocolAlg::kJweA128Gcm: return 16;
    case ProtocolAlg::kJweA192Gcm: return 24;
    case ProtocolAlg::kJweA256Gcm: return 32;
  }
  return 0;
}

// ESPrim open point (TS-0004 6.3.3 m2m:absRelTimestamp): esrx is written and read in the absolute form
// YYYYMMDDTHHMMSS, UTC, whole seconds. The relative form (milliseconds from "now") is refused: a published
// rand object has no "now" both sides agree on. Fractional seconds are refused too.
Result<std::string> format_timestamp(TimePoint time) {
  return format_m2m_timestamp(std::chrono::floor<std::chrono::seconds>(time));
}

Result<TimePoint> parse_timestamp(std::string_view text) {
  using namespace std::chrono;
  M2MSEC_ASSIGN_OR_RETURN(const sys_seconds t, parse_m2m_timestamp(text));
  // Saturated to the range of TimePoint (about 1678-2262), so that a peer's "never" (e.g. 99991231T235959) is a
  // far future instead of an overflow.
  if (t > floor<seconds>(TimePoint::max())) return TimePoint::max();
  if (t < ceil<seconds>(TimePoint::min())) return TimePoint::min();
  return time_point_cast<TimePoint::duration>(t);
}

// ESPrim open point (TS-0004 6.3.5.50/51: esrv is an xs:NCName holding 128 random bits, encoding not given):
// "v" followed by base64url without padding (22 characters). base64url may start with a digit or '-', which an
// NCName may not; the letter prefix makes every value an NCName. Decoding is strict (canonical base64url).
std::string encode_rand_value(ByteView value) { return concat({"v", base64url_encode(value)}); }

Result<Bytes> decode_rand_value(std::string_view text) {
  if (text.size() != 23 || text.front() != 'v') return malformed("esrv is not 'v' + base64url of 16 octets");
  auto bytes = base64url_decode(text.substr(1));
  if (!bytes || bytes->size() != kRandValueSize) return malformed("esrv is not 'v' + base64url of 16 octets");
  return std::move(*bytes);
}

// ESPrim open point (TS-0003 8.4.2 B.1 step 3: the ID shall show whether the object is shared; how is not
// said): esri of a shared receiver rand object starts with "s", every other esri we issue with "u".
bool is_shared_rand_id(std::string_view id) { return !id.empty() && id.front() == 's'; }

namespace {

template <typename Enum>
json::Value id_list(const std::vector<Enum>& ids) {
  json::Array out;
  for (Enum id : ids) out.emplace_back(static_cast<int>(id));
  return json::Value(std::move(out));
}

template <typename Enum>
Result<void> check_list(const std::vector<Enum>& ids, std::string_view name) {
  if (ids.empty()) return malformed(std::string(name) + " is empty");
  std::set<Enum> seen(ids.begin(), ids.end());
  if (seen.size() != ids.size()) return malformed(std::string(name) + " repeats an entry");
  return {};
}

Result<void> check_common(const std::string& id, const Bytes& value) {
  if (!internal::is_ascii_ncname(id)) return malformed("esri is not an NCName");
  if (value.size() != kRandValueSize) return malformed("esrv is not 16 octets");
  return {};
}

// Reads an object with exactly the members in `allowed` (all required).
Result<const json::Object*> exact_object(const json::Value& value, std::initializer_list<std::string_view> allowed,
                                         std::string_view what) {
  const json::Object* o = value.object();
  if (o == nullptr) return malformed(std::string(what) + " is not a JSON object");
  for (const auto& [name, member] : *o) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end())
      return malformed(std::string(what) + " has an unknown member \"" + name + "\"");
  }
  for (std::string_view name : allowed) {
    if (!o->contains(name)) return malformed(concat({what, " lacks \"", name, "\""}));
  }
  return o;
}

Result<std::string> string_member(const json::Object& o, std::string_view name) {
  const json::Value* v = o.find(name);
  if (v == nullptr || v->string() == nullptr) return malformed(concat({"\"", name, "\" is not a string"}));
  return *v->string();
}

template <typename Enum, typename FromInt>
Result<std::vector<Enum>> enum_list(const json::Object& o, std::string_view name, FromInt from_int) {
  const json::Value* v = o.find(name);
  if (v == nullptr || v->array() == nullptr) return malformed(concat({"\"", name, "\" is not an array"}));
  std::vector<Enum> out;
  for (const json::Value& item : *v->array()) {
    const auto n = item.integer();
    if (!n) return malformed(concat({"\"", name, "\" holds a non-integer"}));
    const auto e = from_int(*n);
    if (!e) return malformed(concat({"\"", name, "\" holds the unknown value ", std::to_string(*n)}));
    out.push_back(*e);
  }
  M2MSEC_TRY(check_list(out, name));
  return out;
}

struct Common {
  std::string id;
  Bytes value;
  TimePoint expiry;
  std::vector<ProtocolAlg> protocol_alg_ids;
};

Result<Common> read_common(const json::Object& o) {
  Common c;
  M2MSEC_ASSIGN_OR_RETURN(c.id, string_member(o, "esri"));
  if (!internal::is_ascii_ncname(c.id)) return malformed("esri is not an NCName");
  M2MSEC_ASSIGN_OR_RETURN(const std::string value_text, string_member(o, "esrv"));
  M2MSEC_ASSIGN_OR_RETURN(c.value, decode_rand_value(value_text));
  M2MSEC_ASSIGN_OR_RETURN(const std::string expiry_text, string_member(o, "esrx"));
  M2MSEC_ASSIGN_OR_RETURN(c.expiry, parse_timestamp(expiry_text));
  M2MSEC_ASSIGN_OR_RETURN(c.protocol_alg_ids, enum_list<ProtocolAlg>(o, "espa", protocol_alg_from_int));
  return c;
}

}  // namespace

// ESPrim open point (TS-0003 8.4.3.2: "oro"/"rro" hold the JSON representation; short or long names not
// said): short names, as everywhere in oneM2M JSON (TS-0004 8.4.2), in the XSD order esri, esrv, esrx,
// esk/esks, espa.
Result<json::Value> to_json(const ReceiverRandObject& object) {
  M2MSEC_TRY(check_common(object.id, object.value));
  M2MSEC_TRY(check_list(object.key_gen_alg_ids, "esks"));
  M2MSEC_TRY(check_list(object.protocol_alg_ids, "espa"));
  M2MSEC_ASSIGN_OR_RETURN(std::string expiry, format_timestamp(object.expiry));
  return json::Value(json::Object{{"esri", json::Value(object.id)},
                                  {"esrv", json::Value(encode_rand_value(object.value))},
                                  {"esrx", json::Value(std::move(expiry))},
                                  {"esks", id_list(object.key_gen_alg_ids)},
                                  {"espa", id_list(object.protocol_alg_ids)}});
}

Result<json::Value> to_json(const OriginatorRandObject& object) {
  M2MSEC_TRY(check_common(object.id, object.value));
  M2MSEC_TRY(check_list(object.protocol_alg_ids, "espa"));
  if (!key_gen_alg_from_int(static_cast<int>(object.key_gen_alg_id))) return malformed("unknown esk");
  M2MSEC_ASSIGN_OR_RETURN(std::string expiry, format_timestamp(object.expiry));
  return json::Value(json::Object{{"esri", json::Value(object.id)},
                                  {"esrv", json::Value(encode_rand_value(object.value))},
                                  {"esrx", json::Value(std::move(expiry))},
                                  {"esk", json::Value(static_cast<int>(object.key_gen_alg_id))},
                                  {"espa", id_list(object.protocol_alg_ids)}});
}

Result<CarriedReceiverRand> carry(ReceiverRandObject object) {
  M2MSEC_ASSIGN_OR_RETURN(json::Value v, to_json(object));
  std::string text = json::serialize(v);
  return CarriedReceiverRand{std::move(object), std::move(text)};
}

Result<CarriedOriginatorRand> carry(OriginatorRandObject object) {
  M2MSEC_ASSIGN_OR_RETURN(json::Value v, to_json(object));
  std::string text = json::serialize(v);
  return CarriedOriginatorRand{std::move(object), std::move(text)};
}

Result<ReceiverRandObject> receiver_rand_object_from_json(const json::Value& value) {
  M2MSEC_ASSIGN_OR_RETURN(const json::Object* o,
                          exact_object(value, {"esri", "esrv", "esrx", "esks", "espa"}, "receiverESPrimRandObject"));
  M2MSEC_ASSIGN_OR_RETURN(Common c, read_common(*o));
  M2MSEC_ASSIGN_OR_RETURN(auto esks, enum_list<KeyGenAlg>(*o, "esks", key_gen_alg_from_int));
  return ReceiverRandObject{std::move(c.id), std::move(c.value), c.expiry, std::move(esks),
                            std::move(c.protocol_alg_ids)};
}

Result<OriginatorRandObject> originator_rand_object_from_json(const json::Value& value) {
  M2MSEC_ASSIGN_OR_RETURN(const json::Object* o, exact_object(value, {"esri", "esrv", "esrx", "esk", "espa"},
                                                              "originatorESPrimRandObject"));
  M2MSEC_ASSIGN_OR_RETURN(Common c, read_common(*o));
  const auto n = o->find("esk")->integer();
  if (!n) return malformed("\"esk\" is not an integer");
  const auto esk = key_gen_alg_from_int(*n);
  if (!esk) return malformed(concat({"\"esk\" holds the unknown value ", std::to_string(*n)}));
  return OriginatorRandObject{std::move(c.id), std::move(c.value), c.expiry, *esk, std::move(c.protocol_alg_ids)};
}

Result<CarriedReceiverRand> parse_receiver_rand_object(std::string_view text) {
  const std::string_view trimmed = internal::trim_json_whitespace(text);
  M2MSEC_ASSIGN_OR_RETURN(json::Value v, json::parse(trimmed));
  M2MSEC_ASSIGN_OR_RETURN(ReceiverRandObject object, receiver_rand_object_from_json(v));
  return CarriedReceiverRand{std::move(object), std::string(trimmed)};
}

Result<CarriedOriginatorRand> parse_originator_rand_object(std::string_view text) {
  const std::string_view trimmed = internal::trim_json_whitespace(text);
  M2MSEC_ASSIGN_OR_RETURN(json::Value v, json::parse(trimmed));
  M2MSEC_ASSIGN_OR_RETURN(OriginatorRandObject object, originator_rand_object_from_json(v));
  return CarriedOriginatorRand{std::move(object), std::string(trimmed)};
}

}  // namespace m2msec::e2e

#include "internal.h"

#include <algorithm>
#include <array>

#include "m2msec/core/encoding.h"
#include "m2msec/jose/serialization.h"

namespace m2msec::jose::internal {

Error malformed(std::string_view what) { return Error::usage(concat({"JOSE: ", what})); }


Result<const json::Object*> as_object(const json::Value& value, std::string_view what) {
  if (const json::Object* o = value.object()) return o;
  return malformed(std::string(what) + " is not a JSON object");
}

Result<std::optional<std::string>> optional_string(const json::Object& object, std::string_view name) {
  const json::Value* v = object.find(name);
  if (v == nullptr) return std::optional<std::string>();
  if (v->string() == nullptr) return malformed(concat({"\"", name, "\" is not a string"}));
  return std::optional<std::string>(*v->string());
}

Result<std::string> required_string(const json::Object& object, std::string_view name) {
  M2MSEC_ASSIGN_OR_RETURN(auto s, optional_string(object, name));
  if (!s) return malformed(concat({"\"", name, "\" is missing"}));
  return std::move(*s);
}

Result<std::optional<Bytes>> optional_b64(const json::Object& object, std::string_view name) {
  M2MSEC_ASSIGN_OR_RETURN(auto s, optional_string(object, name));
  if (!s) return std::optional<Bytes>();
  auto bytes = base64url_decode(*s);
  if (!bytes) return malformed(concat({"\"", name, "\" is not base64url"}));
  return std::optional<Bytes>(std::move(*bytes));
}

Result<Bytes> required_b64(const json::Object& object, std::string_view name) {
  M2MSEC_ASSIGN_OR_RETURN(auto b, optional_b64(object, name));
  if (!b) return malformed(concat({"\"", name, "\" is missing"}));
  return std::move(*b);
}

Result<json::Object> decode_header(std::string_view b64) {
  auto raw = base64url_decode(b64);
  if (!raw) return malformed("protected header is not base64url");
  auto value = json::parse(std::string_view(reinterpret_cast<const char*>(raw->data()), raw->size()));
  if (!value) return malformed("protected header is not JSON");
  json::Object* o = value->object();
  if (o == nullptr) return malformed("protected header is not a JSON object");
  return std::move(*o);
}

std::string encode_header(const json::Object& header) {
  const std::string text = json::serialize(json::Value(header));
  return base64url_encode(ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

Result<std::optional<std::string>> header_string(std::initializer_list<const json::Object*> headers,
                                                std::string_view name) {
  for (const json::Object* h : headers) {
    if (h != nullptr && h->contains(name)) return optional_string(*h, name);
  }
  return std::optional<std::string>();
}

Result<void> check_disjoint(std::initializer_list<const json::Object*> headers) {
  for (auto a = headers.begin(); a != headers.end(); ++a) {
    for (auto b = a + 1; b != headers.end(); ++b) {
      if (*a == nullptr || *b == nullptr) continue;
      for (const auto& member : **a) {
        if ((*b)->contains(member.first)) return malformed("header parameter \"" + member.first + "\" appears twice");
      }
    }
  }
  return {};
}

Result<void> check_crit_and_zip(const json::Object& protected_header,
                                std::initializer_list<const json::Object*> unprotected,
                                const AlgorithmPolicy& policy) {
  // Names registered by RFC 7515 clause 4.1 and RFC 7516 clause 4.1 (and RFC 7518's "epk", "apu", "apv").
  static constexpr std::array<std::string_view, 18> kRegistered{
      "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit", "enc", "zip",
      "epk", "apu", "apv", "iv", "tag"};
  for (const json::Object* h : unprotected) {
    if (h != nullptr && h->contains("crit")) return malformed("\"crit\" outside the protected header");
  }
  for (const json::Object* h : unprotected) {
    if (h != nullptr && h->contains("zip")) return Error::unsupported("JOSE: compression (\"zip\") is not permitted");
  }
  if (protected_header.contains("zip")) return Error::unsupported("JOSE: compression (\"zip\") is not permitted");
  const json::Value* crit = protected_header.find("crit");
  if (crit == nullptr) return {};
  const json::Array* names = crit->array();
  if (names == nullptr || names->empty()) return malformed("\"crit\" is not a non-empty array");
  std::vector<std::string_view> seen;
  for (const json::Value& v : *names) {
    const std::string* name = v.string();
    if (name == nullptr) return malformed("\"crit\" holds a non-string");
    if (std::find(kRegistered.begin(), kRegistered.end(), *name) != kRegistered.end())
      return malformed("\"crit\" lists a registered parameter");
    if (std::find(seen.begin(), seen.end(), *name) != seen.end()) return malformed("\"crit\" repeats a name");
    seen.push_back(*name);
    if (!protected_header.contains(*name)) return malformed("\"crit\" names an absent parameter");
    if (std::find(policy.understood_crit.begin(), policy.understood_crit.end(), *name) ==
        policy.understood_crit.end())
      return Error::unsupported("JOSE: critical header parameter \"" + *name + "\" is not understood");
  }
  return {};
}

json::Object ec_public_jwk(std::string_view crv, ByteView point) {
  const std::size_t n = (point.size() - 1) / 2;
  return json::Object{{"kty", json::Value("EC")},
                      {"crv", json::Value(crv)},
                      {"x", json::Value(base64url_encode(point.subspan(1, n)))},
                      {"y", json::Value(base64url_encode(point.subspan(1 + n, n)))}};
}

std::string dotted(std::initializer_list<std::string_view> parts) {
  std::size_t size = parts.size() - 1;
  for (std::string_view p : parts) size += p.size();
  std::string out;
  out.reserve(size);
  bool first = true;
  for (std::string_view p : parts) {
    if (!first) out.push_back('.');
    first = false;
    out.append(p);
  }
  return out;
}

Result<void> check_size(std::string_view text) {
  if (text.size() > kMaxObjectSize) return malformed("object larger than 16 MiB");
  if (text.empty()) return malformed("empty input");
  return {};
}

}  // namespace m2msec::jose::internal

namespace m2msec::jose {

bool is_media_type(std::string_view header_value, std::string_view type) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  auto same = [&](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == y; });
  };
  constexpr std::string_view kApplication = "application/";
  if (header_value.size() > kApplication.size() && same(header_value.substr(0, kApplication.size()), kApplication))
    header_value.remove_prefix(kApplication.size());
  return same(header_value, type);
}

Result<Serialization> serialization_named(std::string_view name) {
  if (name == "compact") return Serialization::kCompact;
  if (name == "flattened") return Serialization::kFlattened;
  if (name == "general") return Serialization::kGeneral;
  return Error::usage(concat({"unknown serialization '", name, "' (compact, flattened, general)"}));
}

}  // namespace m2msec::jose

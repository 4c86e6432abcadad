// m2m:securityInfo bodies for ESPrim (TS-0004 V3.32.0 6.3.5.48, 7.5.1.2.11, 7.6.2).
#include <algorithm>

#include "esprim_internal.h"
#include "m2msec/e2e/seci.h"
#include "m2msec/json/json.h"

namespace m2msec::e2e {

using internal::malformed;

namespace {

bool is_b64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// The "m2m:seci" object of a body that has nothing else, and its "sit".
struct SeciBody {
  json::Value root;
  const json::Object* seci = nullptr;
  std::int64_t sit = 0;
};

Result<SeciBody> read_body(std::string_view body) {
  SeciBody out;
  M2MSEC_ASSIGN_OR_RETURN(out.root, json::parse(body));
  const json::Object* root = out.root.object();
  if (root == nullptr || root->size() != 1 || root->find("m2m:seci") == nullptr)
    return malformed("the body is not {\"m2m:seci\":{...}}");
  out.seci = root->find("m2m:seci")->object();
  if (out.seci == nullptr) return malformed("\"m2m:seci\" is not an object");
  const json::Value* sit = out.seci->find("sit");
  if (sit == nullptr) return malformed("\"sit\" is missing");
  const auto n = sit->integer();
  if (!n || *n < 1 || *n > 8) return malformed("\"sit\" is not a securityInfoType (1-8)");
  out.sit = *n;
  return out;
}

}  // namespace

bool is_e2e_compact_jwe(std::string_view text) {
  std::size_t parts = 1;
  std::size_t part_len = 0;
  for (char c : text) {
    if (c == '.') {
      if ((parts == 1 || parts == 4) && part_len == 0) return false;
      ++parts;
      part_len = 0;
      if (parts > 5) return false;
    } else if (is_b64url_char(c)) {
      ++part_len;
    } else {
      return false;
    }
  }
  return parts == 5;
}

std::string build_rand_object_request() { return R"({"m2m:seci":{"sit":3}})"; }

std::string build_rand_object_response(const CarriedReceiverRand& object) {
  return R"({"m2m:seci":{"sit":4,"ero":)" + object.text + "}}";
}

Result<std::string> build_esprim_object_body(std::string_view esprim_object) {
  if (!is_e2e_compact_jwe(esprim_object)) return malformed("\"epo\" is not an m2m:e2eCompactJWE");
  json::Object seci{{"sit", json::Value(5)}, {"epo", json::Value(esprim_object)}};
  return json::serialize(json::Value(json::Object{{"m2m:seci", json::Value(std::move(seci))}}));
}

Result<SecurityInfoType> security_info_type(std::string_view body) {
  M2MSEC_ASSIGN_OR_RETURN(SeciBody b, read_body(body));
  return static_cast<SecurityInfoType>(b.sit);
}

Result<EsprimSecurityInfo> parse_esprim_security_info(std::string_view body) {
  M2MSEC_ASSIGN_OR_RETURN(SeciBody b, read_body(body));
  EsprimSecurityInfo out;
  auto only = [&](std::string_view member) -> Result<void> {
    const std::size_t expected = member.empty() ? 1 : 2;
    if (b.seci->size() != expected || (!member.empty() && !b.seci->contains(member)))
      return malformed(concat({"securityInfo of type ", std::to_string(b.sit), " must hold \"sit\"",
                                      member.empty() ? "" : " and \"", member, member.empty() ? " only" : "\" only"}));
    return {};
  };
  switch (b.sit) {
    //= TS-0004 V3.32.0 §6.3.5.48
    //# For a receiverESPrimRandObject Request no other element shall be present.
    case 3:
      M2MSEC_TRY(only(""));
      out.type = SecurityInfoType::kReceiverRandObjectRequest;
      return out;
    case 4: {
      M2MSEC_TRY(only("ero"));
      // The object's octets as they arrived: they are the HMAC input of 10.3.8.
      M2MSEC_ASSIGN_OR_RETURN(auto seci_text, internal::raw_member(body, "m2m:seci"));
      if (!seci_text) return malformed("\"m2m:seci\" is missing");
      M2MSEC_ASSIGN_OR_RETURN(auto ero_text, internal::raw_member(*seci_text, "ero"));
      if (!ero_text) return malformed("\"ero\" is missing");
      M2MSEC_ASSIGN_OR_RETURN(CarriedReceiverRand ero, parse_receiver_rand_object(*ero_text));
      out.type = SecurityInfoType::kReceiverRandObjectResponse;
      out.rand_object = std::move(ero);
      return out;
    }
    case 5: {
      M2MSEC_TRY(only("epo"));
      const std::string* epo = b.seci->find("epo")->string();
      if (epo == nullptr || !is_e2e_compact_jwe(*epo)) return malformed("\"epo\" is not an m2m:e2eCompactJWE");
      out.type = SecurityInfoType::kEsprimObject;
      out.esprim_object = *epo;
      return out;
    }
    default:
      return malformed(concat({"securityInfo of type ", std::to_string(b.sit), " is not an ESPrim message"}));
  }
}

}  // namespace m2msec::e2e

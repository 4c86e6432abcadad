#include "m2msec/onem2m/primitive.h"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

namespace m2msec::onem2m {
namespace {

struct StatusRow {
  Rsc rsc;
  unsigned http;
  std::uint8_t coap;  // c.dd as one octet: the class in the 3 high bits, the detail in the 5 low ones (RFC 7252 §3)
};

constexpr std::uint8_t coap(unsigned cls, unsigned detail) { return static_cast<std::uint8_t>((cls << 5) | detail); }

//= TS-0009 V3.9.1 §6.3.2 (Table 6.3.2-1)
//# Every code of our Rsc enum with the HTTP status the table gives it; the original code travels in X-M2M-RSC.
//= TS-0008 V3.9.0 §6.2.4 (Table 6.2.4-1)
//# The CoAP response code of each of them; the original code travels in the oneM2M-RSC option. 2000 has two
//# rows there (2.05 for a RETRIEVE, 2.04 with an empty payload for a NOTIFY): this column holds the RETRIEVE
//# one and the CoAP binding picks 2.04 for a NOTIFY. The two columns differ: 4105 CONFLICT is 409 but 4.03.
constexpr StatusRow kStatuses[] = {
    {Rsc::kOk, 200, coap(2, 5)},
    {Rsc::kCreated, 201, coap(2, 1)},
    {Rsc::kDeleted, 200, coap(2, 2)},
    {Rsc::kUpdated, 200, coap(2, 4)},
    {Rsc::kBadRequest, 400, coap(4, 0)},
    {Rsc::kNotFound, 404, coap(4, 4)},
    {Rsc::kOperationNotAllowed, 405, coap(4, 5)},
    {Rsc::kRequestTimeout, 504, coap(5, 4)},
    {Rsc::kSubscriptionCreatorHasNoPrivilege, 403, coap(4, 3)},
    {Rsc::kContentsUnacceptable, 400, coap(4, 0)},
    {Rsc::kOriginatorHasNoPrivilege, 403, coap(4, 3)},
    {Rsc::kConflict, 409, coap(4, 3)},
    {Rsc::kOriginatorNotAuthenticated, 403, coap(4, 3)},
    {Rsc::kSecurityAssociationRequired, 403, coap(4, 3)},
    {Rsc::kInvalidChildResourceType, 403, coap(4, 3)},
    {Rsc::kGroupMemberTypeInconsistent, 400, coap(4, 0)},
    {Rsc::kEsprimUnsupportedOption, 403, coap(4, 3)},
    {Rsc::kEsprimUnknownKeyId, 403, coap(4, 3)},
    {Rsc::kEsprimUnknownOrigRandId, 403, coap(4, 3)},
    {Rsc::kEsprimUnknownRecvRandId, 403, coap(4, 3)},
    {Rsc::kEsprimBadMac, 403, coap(4, 3)},
    {Rsc::kEsprimImpersonationError, 403, coap(4, 3)},
    {Rsc::kOriginatorHasAlreadyRegistered, 403, coap(4, 3)},
    {Rsc::kAppRuleValidationFailed, 403, coap(4, 3)},
    {Rsc::kInternalServerError, 500, coap(5, 0)},
    {Rsc::kNotImplemented, 501, coap(5, 1)},
    {Rsc::kReceiverHasNoPrivilege, 403, coap(4, 3)},
    {Rsc::kSubscriptionVerificationInitiationFailed, 500, coap(5, 0)},
    {Rsc::kSubscriptionHostHasNoPrivilege, 403, coap(4, 3)},
    {Rsc::kNotAcceptable, 406, coap(4, 6)},
    {Rsc::kEsprimDecryptionError, 500, coap(5, 0)},
    {Rsc::kEsprimEncryptionError, 500, coap(5, 0)},
};

const StatusRow* find_status(std::int64_t value) {
  const auto* found = std::find_if(std::begin(kStatuses), std::end(kStatuses),
                                   [&](const StatusRow& row) { return static_cast<std::int64_t>(row.rsc) == value; });
  return found == std::end(kStatuses) ? nullptr : found;
}

Error bad_primitive(std::string_view what, std::string_view why) {
  return Error::usage(std::string(what) + " primitive: " + std::string(why));
}

// The JSON text of a primitive as an object.
Result<json::Object> primitive_object(std::string_view json_text, std::string_view what) {
  M2MSEC_ASSIGN_OR_RETURN(json::Value value, json::parse(json_text));
  json::Object* object = value.object();
  if (object == nullptr) return bad_primitive(what, "not a JSON object");
  return std::move(*object);
}

Result<std::string> non_empty_string(const json::Value& value, std::string_view name, std::string_view what) {
  const std::string* text = value.string();
  if (text == nullptr || text->empty()) {
    // Appended, not "'" + name: g++ 12 warns (-Wrestrict) about the inlined insert at the front.
    std::string why = "'";
    why.append(name).append("' must be a non-empty string");
    return bad_primitive(what, why);
  }
  return *text;
}

Result<json::Value> content(const json::Value& value, std::string_view what) {
  // A content is {"<root short name>": ...}; we take objects only.
  if (value.object() == nullptr) return bad_primitive(what, "'pc' must be a JSON object");
  return value;
}

// An integer member within [min, max].
template <typename T>
Result<T> integer_in(const json::Value& value, std::string_view name, std::int64_t min, std::string_view what) {
  const std::optional<std::int64_t> number = value.integer();
  if (!number || *number < min || *number > static_cast<std::int64_t>(std::numeric_limits<T>::max())) {
    std::string why = "'";
    why.append(name).append("' must be an integer from ").append(std::to_string(min)).append(" to ");
    why.append(std::to_string(std::numeric_limits<T>::max()));
    return bad_primitive(what, why);
  }
  return static_cast<T>(*number);
}

// A list member: a non-empty JSON array, each element read by `element`.
template <typename T, typename Read>
Result<std::vector<T>> list_of(const json::Value& value, std::string_view name, std::string_view what, Read element) {
  const json::Array* array = value.array();
  if (array == nullptr || array->empty()) {
    std::string why = "'";
    why.append(name).append("' must be a non-empty array");
    return bad_primitive(what, why);
  }
  std::vector<T> out;
  out.reserve(array->size());
  for (const json::Value& item : *array) {
    M2MSEC_ASSIGN_OR_RETURN(T read, element(item));
    out.push_back(std::move(read));
  }
  return out;
}

Result<std::vector<std::string>> string_list(const json::Value& value, std::string_view name, std::string_view what) {
  return list_of<std::string>(value, name, what,
                              [&](const json::Value& item) { return non_empty_string(item, name, what); });
}

json::Value json_strings(const std::vector<std::string>& strings) {
  json::Array out(strings.begin(), strings.end());
  return json::Value(std::move(out));
}

//= TS-0004 V3.32.0 §6.3.5.8 (m2m:filterCriteria)
//# fu, ty, lbl, lim and lvl in their short names; a member we do not evaluate is refused, never ignored
//# (ignoring a condition would widen what a retrieval or a discovery returns).
Result<FilterCriteria> filter_criteria(const json::Value& value, std::string_view what) {
  const json::Object* object = value.object();
  if (object == nullptr) return bad_primitive(what, "'fc' must be a JSON object");
  FilterCriteria fc;
  for (const auto& [name, member] : *object) {
    if (name == "fu") {
      M2MSEC_ASSIGN_OR_RETURN(fc.fu, integer_in<std::uint8_t>(member, "fc.fu", 1, what));
    } else if (name == "ty") {
      M2MSEC_ASSIGN_OR_RETURN(fc.ty, list_of<std::uint32_t>(member, "fc.ty", what, [&](const json::Value& item) {
                                return integer_in<std::uint32_t>(item, "fc.ty", 1, what);
                              }));
    } else if (name == "lbl") {
      M2MSEC_ASSIGN_OR_RETURN(fc.lbl, string_list(member, "fc.lbl", what));
    } else if (name == "lim") {
      M2MSEC_ASSIGN_OR_RETURN(fc.lim, integer_in<std::uint32_t>(member, "fc.lim", 0, what));
    } else if (name == "lvl") {
      M2MSEC_ASSIGN_OR_RETURN(fc.lvl, integer_in<std::uint32_t>(member, "fc.lvl", 0, what));
    } else {
      return bad_primitive(what, "unknown filter criteria member '" + name + "'");
    }
  }
  return fc;
}

json::Value filter_criteria_json(const FilterCriteria& fc) {
  json::Object out;
  out.set("fu", static_cast<std::int64_t>(fc.fu));
  if (!fc.ty.empty()) {
    json::Array types;
    for (const std::uint32_t ty : fc.ty) types.emplace_back(static_cast<std::int64_t>(ty));
    out.set("ty", json::Value(std::move(types)));
  }
  if (!fc.lbl.empty()) out.set("lbl", json_strings(fc.lbl));
  if (fc.lim) out.set("lim", static_cast<std::int64_t>(*fc.lim));
  if (fc.lvl) out.set("lvl", static_cast<std::int64_t>(*fc.lvl));
  return json::Value(std::move(out));
}

}  // namespace

std::string_view operation_name(Operation op) {
  switch (op) {
    case Operation::kCreate: return "CREATE";
    case Operation::kRetrieve: return "RETRIEVE";
    case Operation::kUpdate: return "UPDATE";
    case Operation::kDelete: return "DELETE";
    case Operation::kNotify: return "NOTIFY";
  }
  return "UNKNOWN";
}

std::optional<Operation> operation_from_int(std::int64_t value) {
  if (value < 1 || value > 5) return std::nullopt;
  return static_cast<Operation>(value);
}

Response error_response(const Request& request, const Error& error) {
  // What was wrong with the request itself is told; a failure inside the receiver (storage, crypto
  // backend, I/O, a bug) is not described to the peer.
  const bool about_the_request = error.category() == Category::kUsage || error.category() == Category::kProtocol ||
                                 error.category() == Category::kAuth || error.category() == Category::kPolicy;
  return Response{error.rsc().value_or(Rsc::kInternalServerError), request.rqi,
                  json::Value(json::Object{{"m2m:dbg", about_the_request ? error.detail() : "internal error"}})};
}

Response answer(const Request& request, const std::function<Response()>& handle) {
  Response response;
  try {
    response = handle();
  } catch (...) {
    response = error_response(request, Error::internal("the request could not be handled"));
  }
  response.rqi = request.rqi;
  return response;
}

unsigned http_status(Rsc rsc) {
  const StatusRow* row = find_status(static_cast<std::int64_t>(rsc));
  // Every enumerator has a row (onem2m_test checks it); a value cast from elsewhere is a server error.
  return row == nullptr ? 500 : row->http;
}

std::uint8_t coap_code(Rsc rsc) {
  const StatusRow* row = find_status(static_cast<std::int64_t>(rsc));
  return row == nullptr ? coap(5, 0) : row->coap;
}

std::optional<Rsc> rsc_from_int(std::int64_t value) {
  const StatusRow* row = find_status(value);
  if (row == nullptr) return std::nullopt;
  return row->rsc;
}

std::string serialize(const Request& request) {
  json::Object out;
  out.set("op", static_cast<std::int64_t>(request.op));
  out.set("to", request.to);
  if (!request.fr.empty()) out.set("fr", request.fr);
  out.set("rqi", request.rqi);
  if (request.ty) out.set("ty", static_cast<std::int64_t>(*request.ty));
  if (request.pc) out.set("pc", *request.pc);
  out.set("rvi", request.rvi);
  if (request.rcn) out.set("rcn", static_cast<std::int64_t>(*request.rcn));
  if (request.fc) out.set("fc", filter_criteria_json(*request.fc));
  if (!request.tkns.empty()) out.set("tkns", json_strings(request.tkns));
  if (!request.tids.empty()) out.set("tids", json_strings(request.tids));
  if (!request.rids.empty()) out.set("rids", json_strings(request.rids));
  return json::serialize(json::Value(std::move(out)));
}

//= TS-0004 V3.32.0 §8.2.2 (Table 8.2.2-1, the short names of primitive parameters)
//# op, to, fr, rqi, ty, pc, rvi, rcn, fc, tkns, tids and rids; nothing else is read, and nothing else is
//# accepted. The lists (tkns, tids, rids, fc.ty, fc.lbl) are non-empty JSON arrays when present.
Result<Request> parse_request(std::string_view json_text) {
  constexpr std::string_view kWhat = "request";
  M2MSEC_ASSIGN_OR_RETURN(const json::Object object, primitive_object(json_text, kWhat));
  Request request;
  bool has_op = false;
  bool has_to = false;
  bool has_rqi = false;
  for (const auto& [name, value] : object) {
    if (name == "op") {
      const std::optional<std::int64_t> number = value.integer();
      const std::optional<Operation> op = number ? operation_from_int(*number) : std::nullopt;
      if (!op) return bad_primitive(kWhat, "'op' must be an integer from 1 to 5");
      request.op = *op;
      has_op = true;
    } else if (name == "to") {
      M2MSEC_ASSIGN_OR_RETURN(request.to, non_empty_string(value, name, kWhat));
      has_to = true;
    } else if (name == "fr") {
      M2MSEC_ASSIGN_OR_RETURN(request.fr, non_empty_string(value, name, kWhat));
    } else if (name == "rqi") {
      M2MSEC_ASSIGN_OR_RETURN(request.rqi, non_empty_string(value, name, kWhat));
      has_rqi = true;
    } else if (name == "ty") {
      M2MSEC_ASSIGN_OR_RETURN(request.ty, integer_in<std::uint32_t>(value, name, 1, kWhat));
    } else if (name == "pc") {
      M2MSEC_ASSIGN_OR_RETURN(request.pc, content(value, kWhat));
    } else if (name == "rvi") {
      M2MSEC_ASSIGN_OR_RETURN(request.rvi, non_empty_string(value, name, kWhat));
    } else if (name == "rcn") {
      M2MSEC_ASSIGN_OR_RETURN(request.rcn, integer_in<std::uint8_t>(value, name, 0, kWhat));
    } else if (name == "fc") {
      M2MSEC_ASSIGN_OR_RETURN(request.fc, filter_criteria(value, kWhat));
    } else if (name == "tkns") {
      M2MSEC_ASSIGN_OR_RETURN(request.tkns, string_list(value, name, kWhat));
    } else if (name == "tids") {
      M2MSEC_ASSIGN_OR_RETURN(request.tids, string_list(value, name, kWhat));
    } else if (name == "rids") {
      M2MSEC_ASSIGN_OR_RETURN(request.rids, string_list(value, name, kWhat));
    } else {
      return bad_primitive(kWhat, "unknown member '" + name + "'");
    }
  }
  if (!has_op || !has_to || !has_rqi) return bad_primitive(kWhat, "'op', 'to' and 'rqi' are mandatory");
  // We take CSE-relative targets only (the HTTP binding's "/" + to).
  if (request.to.front() == '/') return bad_primitive(kWhat, "'to' must be CSE-relative (no leading '/')");
  //= TS-0004 V3.32.0 §7.2.1.1
  //# Resource Type is a parameter of CREATE requests only, and there it is mandatory.
  if (request.ty.has_value() != (request.op == Operation::kCreate)) {
    return bad_primitive(kWhat, "'ty' goes with CREATE, and only with CREATE");
  }
  return request;
}

std::string serialize(const Response& response) {
  json::Object out;
  out.set("rsc", static_cast<std::int64_t>(response.rsc));
  out.set("rqi", response.rqi);
  if (response.pc) out.set("pc", *response.pc);
  return json::serialize(json::Value(std::move(out)));
}

Result<Response> parse_response(std::string_view json_text) {
  constexpr std::string_view kWhat = "response";
  M2MSEC_ASSIGN_OR_RETURN(const json::Object object, primitive_object(json_text, kWhat));
  Response response;
  bool has_rsc = false;
  bool has_rqi = false;
  for (const auto& [name, value] : object) {
    if (name == "rsc") {
      const std::optional<std::int64_t> number = value.integer();
      const std::optional<Rsc> rsc = number ? rsc_from_int(*number) : std::nullopt;
      if (!rsc) return bad_primitive(kWhat, "'rsc' must be a response status code this implementation knows");
      response.rsc = *rsc;
      has_rsc = true;
    } else if (name == "rqi") {
      M2MSEC_ASSIGN_OR_RETURN(response.rqi, non_empty_string(value, name, kWhat));
      has_rqi = true;
    } else if (name == "pc") {
      M2MSEC_ASSIGN_OR_RETURN(response.pc, content(value, kWhat));
    } else {
      return bad_primitive(kWhat, "unknown member '" + name + "'");
    }
  }
  if (!has_rsc || !has_rqi) return bad_primitive(kWhat, "'rsc' and 'rqi' are mandatory");
  return response;
}

}  // namespace m2msec::onem2m

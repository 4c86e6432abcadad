#include "m2msec/onem2m/primitive.h"

#include <algorithm>
#include <limits>

namespace m2msec::onem2m {
namespace {

struct StatusRow {
  Rsc rsc;
  unsigned http;
};

//= TS-0009 V3.9.1 §6.3.2 (Table 6.3.2-1)
//# Every code of our Rsc enum with the HTTP status the table gives it; the original code travels in X-M2M-RSC.
constexpr StatusRow kStatuses[] = {
    {Rsc::kOk, 200},
    {Rsc::kCreated, 201},
    {Rsc::kDeleted, 200},
    {Rsc::kUpdated, 200},
    {Rsc::kBadRequest, 400},
    {Rsc::kNotFound, 404},
    {Rsc::kOperationNotAllowed, 405},
    {Rsc::kRequestTimeout, 504},
    {Rsc::kSubscriptionCreatorHasNoPrivilege, 403},
    {Rsc::kContentsUnacceptable, 400},
    {Rsc::kOriginatorHasNoPrivilege, 403},
    {Rsc::kConflict, 409},
    {Rsc::kOriginatorNotAuthenticated, 403},
    {Rsc::kSecurityAssociationRequired, 403},
    {Rsc::kEsprimUnsupportedOption, 403},
    {Rsc::kEsprimUnknownKeyId, 403},
    {Rsc::kEsprimUnknownOrigRandId, 403},
    {Rsc::kEsprimUnknownRecvRandId, 403},
    {Rsc::kEsprimBadMac, 403},
    {Rsc::kEsprimImpersonationError, 403},
    {Rsc::kInternalServerError, 500},
    {Rsc::kNotImplemented, 501},
    {Rsc::kReceiverHasNoPrivilege, 403},
    {Rsc::kSubscriptionHostHasNoPrivilege, 403},
    {Rsc::kEsprimDecryptionError, 500},
    {Rsc::kEsprimEncryptionError, 500},
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

unsigned http_status(Rsc rsc) {
  const StatusRow* row = find_status(static_cast<std::int64_t>(rsc));
  // Every enumerator has a row (onem2m_test checks it); a value cast from elsewhere is a server error.
  return row == nullptr ? 500 : row->http;
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
  return json::serialize(json::Value(std::move(out)));
}

//= TS-0004 V3.32.0 §8.2.2 (Table 8.2.2-1, the short names of primitive parameters)
//# op, to, fr, rqi, ty, pc and rvi; nothing else is read, and nothing else is accepted.
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
      const std::optional<std::int64_t> number = value.integer();
      if (!number || *number < 1 || *number > std::numeric_limits<std::uint32_t>::max()) {
        return bad_primitive(kWhat, "'ty' must be a positive 32-bit integer");
      }
      request.ty = static_cast<std::uint32_t>(*number);
    } else if (name == "pc") {
      M2MSEC_ASSIGN_OR_RETURN(request.pc, content(value, kWhat));
    } else if (name == "rvi") {
      M2MSEC_ASSIGN_OR_RETURN(request.rvi, non_empty_string(value, name, kWhat));
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

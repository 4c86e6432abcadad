// The request parameters that ride in the query of a binding (TS-0009 V3.9.1 §6.2.2.2, Table 6.2.2.2-1 for
// HTTP; TS-0008 V3.9.0 §6.2.2.3 for CoAP, which uses the same short names): what a field means for a request
// primitive, and the fields of a primitive. The wire form (HTTP's '&'-joined, percent-encoded query, CoAP's
// Uri-Query options) stays in the bindings.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/result.h"
#include "m2msec/onem2m/primitive.h"

namespace m2msec::onem2m {

// The fields this implementation maps, by short name: rcn, fu, lim, lvl and op are 0..1 (one value, once); ty,
// lbl, rids, tids and tkns are 0..n (a list; the field may repeat). Each binding names the ones it takes
// (HTTP carries the tokens in a header and the operation in the method).

// One field of a query: its name and its values (one for a 0..1 field), as text, not encoded for any wire.
struct QueryField {
  std::string name;
  std::vector<std::string> values;

  bool operator==(const QueryField&) const = default;
};

// Reads the fields of one query into a request primitive, one field at a time, enforcing the 0..1 rule across
// the fields it has read. Errors are usage ones (BAD_REQUEST) whose detail names the field but not the wire
// form: the binding puts its own prefix before it.
class QueryReader {
 public:
  // `names`: the fields the binding takes, among the ones above; any other is refused. The names are viewed, not
  // copied: they must outlive the reader (a binding's constant array does).
  explicit QueryReader(std::span<const std::string_view> names) : m_names(names) {}

  // A field from its name and its values, already split at '+' and decoded. Refused: a name not taken (names
  // are case-sensitive), an empty value or one holding NUL, a 0..1 field with several values or a second time,
  // a number out of its range (rcn 0-255, fu 1-255, lim and lvl 0-2^32-1, ty 1-2^32-1, op 1-5), a token that
  // is no JWS/JWE compact serialization.
  Result<void> read(std::string_view name, std::span<const std::string> values, Request& primitive);

  // A field as its text "name=value[+value...]": split at the first '=' and at each '+', each value passed
  // through `decode` (nullopt: the value is refused as badly encoded); without `decode` the values are taken as
  // they are.
  using Decode = std::optional<std::string> (*)(std::string_view);
  Result<void> read_field(std::string_view field, Request& primitive, Decode decode = nullptr);

  // The operation an "op" field named, if one was read: the primitive's op comes from the method, so the
  // binding checks that the two agree.
  std::optional<Operation> op() const { return m_op; }

 private:
  std::span<const std::string_view> m_names;
  std::vector<std::string> m_single_seen;
  std::optional<Operation> m_op;
};

// The query fields of a request primitive that are among `names`, in the order of TS-0009 Table 6.2.2.2-1
// (rcn, lbl, ty, lim, fu, lvl, rids, tids), then tkns; numbers in decimal. Filter criteria always give fu (also
// when it is the default). "op" is never written: the method carries the operation. Empty when the primitive
// has none of them.
std::vector<QueryField> query_fields(const Request& primitive, std::span<const std::string_view> names);

// A token of the Tokens parameter (m2m:dynAuthJWT): a JWS or JWE in compact serialization, base64url parts
// joined by '.' (RFC 7515 §7.1, RFC 7516 §7.1). Only the alphabet is checked.
bool is_compact_jose(std::string_view token);

}  // namespace m2msec::onem2m

#include "m2msec/onem2m/query.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "m2msec/core/text.h"

namespace m2msec::onem2m {
namespace {

constexpr std::uint64_t kU8 = std::numeric_limits<std::uint8_t>::max();
constexpr std::uint64_t kU32 = std::numeric_limits<std::uint32_t>::max();

bool contains(std::span<const std::string_view> names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The primitive's filter criteria, created (conditional retrieval) by the first of its elements.
FilterCriteria& filter_criteria(Request& primitive) {
  if (!primitive.fc) primitive.fc = FilterCriteria{};
  return *primitive.fc;
}

}  // namespace

//= TS-0009 V3.9.1 §6.2.2.2 (Table 6.2.2.2-1)
//# Each field has a multiplicity: a 0..1 one (rcn, fu, lim, lvl) appears at most once with a single value; a
//# 0..n one (ty, lbl, rids, tids) may appear again and lists its values joined by '+'.
//= TS-0008 V3.9.0 §6.2.2.3
//# The CoAP query uses the same short names, and adds Tokens (tkns, a list) and the Operation (op, 0..1).
Result<void> QueryReader::read(std::string_view name, std::span<const std::string> values, Request& primitive) {
  const std::string quoted = concat({"'", name, "'"});
  if (!contains(m_names, name)) return Error::usage(concat({"the field ", quoted, " is not supported"}));
  if (values.empty()) return Error::usage(concat({quoted, " has no value"}));
  for (const std::string& value : values) {
    if (value.empty()) return Error::usage(concat({"an empty value of ", quoted}));
    if (value.find('\0') != std::string::npos) return Error::usage(concat({"a NUL in a value of ", quoted}));
  }
  const bool list = name == "ty" || name == "lbl" || name == "rids" || name == "tids" || name == "tkns";
  if (!list) {
    if (values.size() != 1 ||
        std::find(m_single_seen.begin(), m_single_seen.end(), name) != m_single_seen.end()) {
      return Error::usage(concat({quoted, " takes one value, once"}));
    }
    m_single_seen.emplace_back(name);
  }
  const auto number = [&](const std::string& text, std::uint64_t min, std::uint64_t max) -> Result<std::uint64_t> {
    const std::optional<std::uint64_t> value = decimal_in(text, min, max);
    if (!value) {
      return Error::usage(concat({quoted, " must be a decimal number from ", std::to_string(min), " to ",
                                  std::to_string(max)}));
    }
    return *value;
  };
  if (name == "rcn") {
    M2MSEC_ASSIGN_OR_RETURN(const std::uint64_t rcn, number(values.front(), 0, kU8));
    primitive.rcn = static_cast<std::uint8_t>(rcn);
  } else if (name == "fu") {
    M2MSEC_ASSIGN_OR_RETURN(const std::uint64_t fu, number(values.front(), 1, kU8));
    filter_criteria(primitive).fu = static_cast<std::uint8_t>(fu);
  } else if (name == "lim") {
    M2MSEC_ASSIGN_OR_RETURN(const std::uint64_t lim, number(values.front(), 0, kU32));
    filter_criteria(primitive).lim = static_cast<std::uint32_t>(lim);
  } else if (name == "lvl") {
    M2MSEC_ASSIGN_OR_RETURN(const std::uint64_t lvl, number(values.front(), 0, kU32));
    filter_criteria(primitive).lvl = static_cast<std::uint32_t>(lvl);
  } else if (name == "op") {
    M2MSEC_ASSIGN_OR_RETURN(const std::uint64_t op, number(values.front(), 1, 5));
    m_op = operation_from_int(static_cast<std::int64_t>(op));
  } else if (name == "ty") {
    std::vector<std::uint32_t> types;
    for (const std::string& value : values) {
      M2MSEC_ASSIGN_OR_RETURN(const std::uint64_t ty, number(value, 1, kU32));
      types.push_back(static_cast<std::uint32_t>(ty));
    }
    std::vector<std::uint32_t>& ty = filter_criteria(primitive).ty;
    ty.insert(ty.end(), types.begin(), types.end());
  } else if (name == "lbl") {
    std::vector<std::string>& labels = filter_criteria(primitive).lbl;
    labels.insert(labels.end(), values.begin(), values.end());
  } else if (name == "rids") {
    primitive.rids.insert(primitive.rids.end(), values.begin(), values.end());
  } else if (name == "tids") {
    primitive.tids.insert(primitive.tids.end(), values.begin(), values.end());
  } else if (name == "tkns") {
    if (!std::all_of(values.begin(), values.end(), [](const std::string& t) { return is_compact_jose(t); })) {
      return Error::usage(concat({quoted, ": a token must be a JWS/JWE compact serialization"}));
    }
    primitive.tkns.insert(primitive.tkns.end(), values.begin(), values.end());
  } else {
    // A name the binding takes but this implementation does not map.
    return Error::usage(concat({"the field ", quoted, " is not supported"}));
  }
  return {};
}

Result<void> QueryReader::read_field(std::string_view field, Request& primitive, Decode decode) {
  const auto equals = field.find('=');
  if (equals == std::string_view::npos || equals == 0) return Error::usage("a field without a name or a value");
  const std::string_view name = field.substr(0, equals);
  std::vector<std::string> values;
  for (const std::string_view piece : split(field.substr(equals + 1), '+')) {
    if (decode == nullptr) {
      values.emplace_back(piece);
      continue;
    }
    std::optional<std::string> value = decode(piece);
    if (!value) return Error::usage(concat({"a badly encoded value of '", name, "'"}));
    values.push_back(std::move(*value));
  }
  return read(name, values, primitive);
}

std::vector<QueryField> query_fields(const Request& primitive, std::span<const std::string_view> names) {
  std::vector<QueryField> fields;
  const auto add = [&](std::string_view name, std::vector<std::string> values) {
    if (!values.empty() && contains(names, name)) fields.push_back({std::string(name), std::move(values)});
  };
  const auto decimal = [](const auto& numbers) {
    std::vector<std::string> out;
    for (const auto n : numbers) out.push_back(std::to_string(n));
    return out;
  };
  const auto one = [](const auto& number) {
    return number ? std::vector<std::string>{std::to_string(*number)} : std::vector<std::string>{};
  };
  add("rcn", one(primitive.rcn));
  if (const auto& fc = primitive.fc) {
    add("lbl", fc->lbl);
    add("ty", decimal(fc->ty));
    add("lim", one(fc->lim));
    add("fu", {std::to_string(fc->fu)});
    add("lvl", one(fc->lvl));
  }
  add("rids", primitive.rids);
  add("tids", primitive.tids);
  add("tkns", primitive.tkns);
  return fields;
}

bool is_compact_jose(std::string_view token) {
  return !token.empty() && std::all_of(token.begin(), token.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
}

}  // namespace m2msec::onem2m

#include "database.h"

namespace m2msec::store::db {
namespace {

Error wrong_type(std::size_t column, std::string_view wanted) {
  return storage("column " + std::to_string(column) + " is not " + std::string(wanted) +
                 " (a database this build did not write?)");
}

}  // namespace

const Value* Row::at(std::size_t column) const { return column < m_values.size() ? &m_values[column] : nullptr; }

Result<std::string> Row::text(std::size_t column) const {
  const Value* v = at(column);
  if (v == nullptr) return wrong_type(column, "present");
  if (const auto* s = std::get_if<std::string>(v)) return *s;
  return wrong_type(column, "text");
}

Result<std::int64_t> Row::integer(std::size_t column) const {
  const Value* v = at(column);
  if (v == nullptr) return wrong_type(column, "present");
  if (const auto* i = std::get_if<std::int64_t>(v)) return *i;
  return wrong_type(column, "an integer");
}

Result<std::optional<std::int64_t>> Row::optional_integer(std::size_t column) const {
  const Value* v = at(column);
  if (v != nullptr && std::holds_alternative<std::nullptr_t>(*v)) return std::optional<std::int64_t>();
  M2MSEC_ASSIGN_OR_RETURN(const std::int64_t i, integer(column));
  return std::optional<std::int64_t>(i);
}

Result<Bytes> Row::blob(std::size_t column) const {
  const Value* v = at(column);
  if (v == nullptr) return wrong_type(column, "present");
  if (const auto* b = std::get_if<Bytes>(v)) return *b;
  return wrong_type(column, "a blob");
}

std::string ddl(Dialect dialect, std::string_view sql) {
  const bool pg = dialect == Dialect::kPostgres;
  std::string out;
  out.reserve(sql.size() + 16);
  for (std::size_t i = 0; i < sql.size();) {
    if (sql.substr(i).starts_with("{int}")) {
      out += pg ? "BIGINT" : "INTEGER";
      i += 5;
    } else if (sql.substr(i).starts_with("{blob}")) {
      out += pg ? "BYTEA" : "BLOB";
      i += 6;
    } else {
      out += sql[i++];
    }
  }
  return out;
}

Error conflict(std::string detail) { return Error(Category::kPolicy, Rsc::kConflict, std::move(detail)); }

Error storage(std::string detail) { return Error(Category::kStorage, Rsc::kInternalServerError, std::move(detail)); }

bool is_conflict(const Error& error) { return error.category() == Category::kPolicy && error.rsc() == Rsc::kConflict; }

}  // namespace m2msec::store::db

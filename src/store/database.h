// The small SQL layer the store is written on once (store.cpp), with a driver per database: sqlite.cpp and
// postgres.cpp. Not a public header.
//
// SQL is written with `?` placeholders and a common subset of SQLite and PostgreSQL (ON CONFLICT upserts, LIMIT);
// the PostgreSQL driver numbers the placeholders ($1, $2, ...). DDL writes `{int}` and `{blob}` for the two type
// names the dialects spell differently (INTEGER/BIGINT, BLOB/BYTEA): ddl() substitutes them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"

namespace m2msec::store::db {

enum class Dialect : std::uint8_t { kSqlite, kPostgres };

// A positional parameter: NULL, an integer, text or a blob. Views: the data must outlive the call.
using Param = std::variant<std::nullptr_t, std::int64_t, std::string_view, ByteView>;
using Params = std::vector<Param>;

// A column value as read back.
using Value = std::variant<std::nullptr_t, std::int64_t, std::string, Bytes>;

// One result row. The accessors fail with kStorage when the column holds another type (a damaged or foreign
// database), never abort.
class Row {
 public:
  explicit Row(std::vector<Value> values) : m_values(std::move(values)) {}
  std::size_t size() const { return m_values.size(); }
  Result<std::string> text(std::size_t column) const;
  Result<std::int64_t> integer(std::size_t column) const;
  Result<std::optional<std::int64_t>> optional_integer(std::size_t column) const;
  Result<Bytes> blob(std::size_t column) const;

 private:
  const Value* at(std::size_t column) const;
  std::vector<Value> m_values;
};

// One connection inside a transaction (Database::transaction). One statement per call.
class Connection {
 public:
  virtual ~Connection() = default;
  // A statement that returns no rows; the number of rows it inserted, updated or deleted.
  virtual Result<std::int64_t> execute(std::string_view sql, const Params& params = {}) = 0;
  virtual Result<std::vector<Row>> query(std::string_view sql, const Params& params = {}) = 0;
};

enum class Access : std::uint8_t {
  kRead,     // reads only
  kWrite,    // reads and writes; SQLite takes the write lock at BEGIN (no lock upgrade, no deadlock)
  kMigrate,  // schema changes: excludes every other migration of the same database (other processes too)
};

class Database {
 public:
  virtual ~Database() = default;
  virtual Dialect dialect() const = 0;
  // Runs `body` in one transaction on one connection: commits when it succeeds (the commit is durable when
  // this returns), rolls back and returns its error when it fails.
  virtual Result<void> transaction(Access access, const std::function<Result<void>(Connection&)>& body) = 0;
};

// `sql` with `{int}` and `{blob}` spelled in the dialect.
std::string ddl(Dialect dialect, std::string_view sql);

// Runs `body` (Connection& -> Result<T>) in a transaction and returns its value.
template <typename T, typename Body>
Result<T> in_transaction(Database& database, Access access, Body&& body) {
  std::optional<T> out;
  M2MSEC_TRY(database.transaction(access, [&](Connection& connection) -> Result<void> {
    M2MSEC_ASSIGN_OR_RETURN(T value, body(connection));
    out.emplace(std::move(value));
    return {};
  }));
  return std::move(*out);
}

// The two kinds of failure a driver reports: a unique identifier taken, and anything else.
Error conflict(std::string detail);
Error storage(std::string detail);
bool is_conflict(const Error& error);

// The drivers. open_sqlite_database sets WAL, synchronous=FULL, a busy timeout and foreign keys;
// open_postgres_database keeps up to `connections` connections.
Result<std::unique_ptr<Database>> open_sqlite_database(const std::string& path);
Result<std::unique_ptr<Database>> open_postgres_database(const std::string& conninfo, std::size_t connections);

}  // namespace m2msec::store::db

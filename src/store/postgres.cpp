// The PostgreSQL driver (libpq): a pool of connections, each used by one transaction at a time; parameters
// and results in binary format (integers as int8, blobs as bytea), text as UTF-8.
#include <libpq-fe.h>

#include <array>
#include <charconv>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>

#include "database.h"

namespace m2msec::store::db {
namespace {

// Type OIDs of the built-in types (PostgreSQL src/include/catalog/pg_type.dat; stable across versions).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kCharOid = 18;
constexpr Oid kNameOid = 19;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;
constexpr Oid kUnknownOid = 705;
constexpr Oid kBpcharOid = 1042;
constexpr Oid kVarcharOid = 1043;

constexpr std::string_view kUniqueViolation = "23505";
// The key of the advisory lock that serialises migrations (any constant that is the store's alone: "m2msec").
constexpr std::int64_t kMigrationLock = 0x6d326d736563;

struct ResultFree {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultFree>;

void ignore_notice(void*, const char*) {}

// `?` placeholders numbered $1, $2, ... (outside quoted literals and identifiers).
std::string number_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  char quote = 0;
  for (const char c : sql) {
    if (quote != 0) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

std::int64_t read_big_endian(const char* data, std::size_t size) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < size; ++i) v = (v << 8) | static_cast<std::uint8_t>(data[i]);
  // Sign-extend the narrower integer types.
  if (size < 8 && size > 0 && (static_cast<std::uint8_t>(data[0]) & 0x80) != 0) v |= ~std::uint64_t{0} << (8 * size);
  return static_cast<std::int64_t>(v);
}

Value column_value(const PGresult* result, int row, int column) {
  if (PQgetisnull(result, row, column) != 0) return nullptr;
  const char* data = PQgetvalue(result, row, column);
  const auto size = static_cast<std::size_t>(PQgetlength(result, row, column));
  switch (PQftype(result, column)) {
    case kInt8Oid:
    case kInt4Oid:
    case kInt2Oid:
    case kBoolOid:
      if (size != 8 && size != 4 && size != 2 && size != 1) return Bytes(data, data + size);
      return read_big_endian(data, size);
    case kTextOid:
    case kVarcharOid:
    case kBpcharOid:
    case kNameOid:
    case kCharOid:
    case kUnknownOid:
      return std::string(data, size);
    default:  // bytea, and any type the store does not read
      return Bytes(reinterpret_cast<const std::uint8_t*>(data), reinterpret_cast<const std::uint8_t*>(data) + size);
  }
}

class PgConnection final : public Connection {
 public:
  explicit PgConnection(PGconn* conn) : m_conn(conn) {}
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection() override { PQfinish(m_conn); }

  // Usable for the next transaction: connected and outside any transaction.
  bool healthy() const { return PQstatus(m_conn) == CONNECTION_OK && PQtransactionStatus(m_conn) == PQTRANS_IDLE; }
  bool connected() const { return PQstatus(m_conn) == CONNECTION_OK; }

  Result<std::int64_t> execute(std::string_view sql, const Params& params = {}) override {
    M2MSEC_ASSIGN_OR_RETURN(ResultPtr result, run(sql, params));
    const std::string_view tuples = PQcmdTuples(result.get());  // "" for a statement that changes no rows
    std::int64_t changed = 0;
    std::from_chars(tuples.data(), tuples.data() + tuples.size(), changed);
    return changed;
  }

  Result<std::vector<Row>> query(std::string_view sql, const Params& params = {}) override {
    M2MSEC_ASSIGN_OR_RETURN(ResultPtr result, run(sql, params));
    const int rows = PQntuples(result.get());
    const int columns = PQnfields(result.get());
    std::vector<Row> out;
    out.reserve(static_cast<std::size_t>(rows));
    for (int r = 0; r < rows; ++r) {
      std::vector<Value> values;
      values.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) values.push_back(column_value(result.get(), r, c));
      out.emplace_back(std::move(values));
    }
    return out;
  }

 private:
  Result<ResultPtr> run(std::string_view sql, const Params& params) {
    const std::string text = number_placeholders(sql);
    const std::size_t n = params.size();
    std::vector<Oid> types(n, 0);
    std::vector<const char*> values(n, nullptr);
    std::vector<int> lengths(n, 0);
    std::vector<int> formats(n, 0);
    std::vector<std::array<char, 8>> integers(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (const auto* v = std::get_if<std::int64_t>(&params[i])) {
        auto u = static_cast<std::uint64_t>(*v);
        for (int b = 7; b >= 0; --b, u >>= 8) integers[i][static_cast<std::size_t>(b)] = static_cast<char>(u & 0xff);
        types[i] = kInt8Oid;
        values[i] = integers[i].data();
        lengths[i] = 8;
        formats[i] = 1;
      } else if (const auto* s = std::get_if<std::string_view>(&params[i])) {
        if (s->size() > static_cast<std::size_t>(INT32_MAX)) return Error::usage("text too long for the store");
        types[i] = kTextOid;
        values[i] = s->empty() ? "" : s->data();
        lengths[i] = static_cast<int>(s->size());
        formats[i] = 1;  // binary text is the UTF-8 octets, no terminator needed
      } else if (const auto* b = std::get_if<ByteView>(&params[i])) {
        if (b->size() > static_cast<std::size_t>(INT32_MAX)) return Error::usage("blob too long for the store");
        types[i] = kByteaOid;
        values[i] = b->empty() ? "" : reinterpret_cast<const char*>(b->data());
        lengths[i] = static_cast<int>(b->size());
        formats[i] = 1;
      }
    }
    ResultPtr result(PQexecParams(m_conn, text.c_str(), static_cast<int>(n), types.data(), values.data(),
                                  lengths.data(), formats.data(), 1));
    if (!result) return storage("PostgreSQL: " + std::string(PQerrorMessage(m_conn)));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
    const char* state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
    const char* primary = PQresultErrorField(result.get(), PG_DIAG_MESSAGE_PRIMARY);
    // The primary message names the constraint, never the values (those are in the DETAIL field).
    std::string detail = "PostgreSQL: " + std::string(primary != nullptr ? primary : PQerrorMessage(m_conn));
    if (state != nullptr) detail += " (SQLSTATE " + std::string(state) + ")";
    if (state != nullptr && state == kUniqueViolation) return conflict(std::move(detail));
    return storage(std::move(detail));
  }

  PGconn* m_conn;
};

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(std::string conninfo, std::size_t connections)
      : m_conninfo(std::move(conninfo)), m_capacity(connections) {}

  Dialect dialect() const override { return Dialect::kPostgres; }

  Result<void> transaction(Access access, const std::function<Result<void>(Connection&)>& body) override {
    const char* begin = access == Access::kRead ? "BEGIN READ ONLY" : "BEGIN";
    // A pooled connection may have died while idle (server restart): one retry with a fresh connection when
    // BEGIN itself fails for that reason, before anything was done.
    for (int attempt = 0;; ++attempt) {
      M2MSEC_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> connection, acquire());
      Result<std::int64_t> begun = connection->execute(begin);
      if (!begun) {
        const bool retry = attempt == 0 && !connection->connected();
        release(std::move(connection));
        if (retry) continue;
        return std::move(begun).error();
      }
      Result<void> outcome;
      if (access == Access::kMigrate) {
        // Replicas starting together: the second waits here until the first has committed its migration,
        // then finds the schema current.
        Result<std::vector<Row>> locked = connection->query("SELECT pg_advisory_xact_lock(?)", {kMigrationLock});
        if (!locked) outcome = std::move(locked).error();
      }
      if (outcome) outcome = body(*connection);
      if (outcome) {
        Result<std::int64_t> committed = connection->execute("COMMIT");
        if (!committed) outcome = std::move(committed).error();
      } else if (connection->connected()) {
        (void)connection->execute("ROLLBACK");
      }
      release(std::move(connection));
      return outcome;
    }
  }

  Result<std::unique_ptr<PgConnection>> acquire() {
    {
      std::unique_lock lock(m_mutex);
      m_available.wait(lock, [&] { return !m_idle.empty() || m_open < m_capacity; });
      if (!m_idle.empty()) {
        std::unique_ptr<PgConnection> connection = std::move(m_idle.back());
        m_idle.pop_back();
        return connection;
      }
      ++m_open;  // a slot taken; connect outside the lock
    }
    Result<std::unique_ptr<PgConnection>> connection = connect();
    if (!connection) {
      const std::lock_guard lock(m_mutex);
      --m_open;
      m_available.notify_one();
    }
    return connection;
  }

  void release(std::unique_ptr<PgConnection> connection) {
    const bool keep = connection->healthy();
    if (!keep) connection.reset();  // closes it: the next acquire connects afresh
    const std::lock_guard lock(m_mutex);
    if (keep) {
      m_idle.push_back(std::move(connection));
    } else {
      --m_open;
    }
    m_available.notify_one();
  }

 private:
  Result<std::unique_ptr<PgConnection>> connect() const {
    PGconn* conn = PQconnectdb(m_conninfo.c_str());
    if (conn == nullptr) return storage("PostgreSQL: out of memory");
    auto connection = std::make_unique<PgConnection>(conn);
    if (PQstatus(conn) != CONNECTION_OK) {
      std::string message = PQerrorMessage(conn);
      while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
      return storage("PostgreSQL: cannot connect: " + message);
    }
    PQsetNoticeProcessor(conn, ignore_notice, nullptr);  // else libpq prints NOTICEs on stderr
    if (PQsetClientEncoding(conn, "UTF8") != 0) return storage("PostgreSQL: cannot set client_encoding UTF8");
    return connection;
  }

  const std::string m_conninfo;
  const std::size_t m_capacity;
  std::mutex m_mutex;
  std::condition_variable m_available;
  std::vector<std::unique_ptr<PgConnection>> m_idle;
  std::size_t m_open = 0;  // idle and in use
};

}  // namespace

Result<std::unique_ptr<Database>> open_postgres_database(const std::string& conninfo, std::size_t connections) {
  if (connections == 0) return Error::usage("the PostgreSQL store needs at least one connection");
  auto database = std::make_unique<PostgresDatabase>(conninfo, connections);
  // Connect once now: a wrong conninfo fails at start-up, not at the first request.
  M2MSEC_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> first, database->acquire());
  database->release(std::move(first));
  return std::unique_ptr<Database>(std::move(database));
}

}  // namespace m2msec::store::db

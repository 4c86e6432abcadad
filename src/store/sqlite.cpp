// The SQLite driver: one connection guarded by a mutex, prepared statements cached by their text.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "database.h"

namespace m2msec::store::db {
namespace {

constexpr int kBusyTimeoutMs = 10000;

Error sqlite_error(sqlite3* db, std::string_view during) {
  const int code = sqlite3_extended_errcode(db);
  std::string detail = "SQLite " + std::string(during) + ": " + sqlite3_errmsg(db);
  if (code == SQLITE_CONSTRAINT_PRIMARYKEY || code == SQLITE_CONSTRAINT_UNIQUE) return conflict(std::move(detail));
  return storage(std::move(detail));
}

class SqliteDatabase final : public Database, private Connection {
 public:
  explicit SqliteDatabase(sqlite3* db) : m_db(db) {}
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;
  ~SqliteDatabase() override {
    for (auto& [sql, statement] : m_statements) sqlite3_finalize(statement);
    sqlite3_close_v2(m_db);
  }

  Dialect dialect() const override { return Dialect::kSqlite; }

  Result<void> transaction(Access access, const std::function<Result<void>(Connection&)>& body) override {
    const std::lock_guard lock(m_mutex);
    // IMMEDIATE takes the write lock at BEGIN: a deferred transaction that reads and then writes fails with
    // SQLITE_BUSY_SNAPSHOT when another connection wrote in between, without waiting.
    const char* begin = access == Access::kRead    ? "BEGIN DEFERRED"
                        : access == Access::kWrite ? "BEGIN IMMEDIATE"
                                                   : "BEGIN EXCLUSIVE";
    M2MSEC_TRY(execute(begin));
    Result<void> outcome = body(*this);
    if (outcome) {
      Result<std::int64_t> committed = execute("COMMIT");
      if (!committed) outcome = std::move(committed).error();
    }
    if (!outcome && !sqlite3_get_autocommit(m_db)) (void)execute("ROLLBACK");
    return outcome;
  }

  Result<std::int64_t> execute(std::string_view sql, const Params& params = {}) override {
    M2MSEC_ASSIGN_OR_RETURN(sqlite3_stmt * statement, prepare(sql, params));
    Result<void> stepped = run(statement, nullptr);
    if (!stepped) return std::move(stepped).error();
    return static_cast<std::int64_t>(sqlite3_changes(m_db));
  }

  Result<std::vector<Row>> query(std::string_view sql, const Params& params = {}) override {
    M2MSEC_ASSIGN_OR_RETURN(sqlite3_stmt * statement, prepare(sql, params));
    std::vector<Row> rows;
    M2MSEC_TRY(run(statement, &rows));
    return rows;
  }

  Result<void> configure(const std::string& path) {
    const std::lock_guard lock(m_mutex);
    // WAL: readers do not block the writer. synchronous=FULL: the WAL is synced at every commit, so a
    // commit that returned survives a crash of the process and of the machine.
    M2MSEC_ASSIGN_OR_RETURN(const std::vector<Row> mode, query("PRAGMA journal_mode=WAL"));
    M2MSEC_ASSIGN_OR_RETURN(const std::string journal,
                            mode.empty() ? Result<std::string>(std::string()) : mode.front().text(0));
    if (journal != "wal") return storage("SQLite: " + path + " cannot use WAL (journal_mode " + journal + ")");
    M2MSEC_TRY(execute("PRAGMA synchronous=FULL"));
    M2MSEC_TRY(execute("PRAGMA foreign_keys=ON"));
    M2MSEC_TRY(execute("PRAGMA trusted_schema=OFF"));
    return {};
  }

 private:
  Result<sqlite3_stmt*> prepare(std::string_view sql, const Params& params) {
    auto it = m_statements.find(std::string(sql));
    if (it == m_statements.end()) {
      if (sql.size() > static_cast<std::size_t>(INT_MAX)) return Error::internal("SQL too long");
      sqlite3_stmt* statement = nullptr;
      const char* tail = nullptr;
      if (sqlite3_prepare_v3(m_db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &statement,
                             &tail) != SQLITE_OK) {
        return sqlite_error(m_db, "prepare");
      }
      if (statement == nullptr || tail != sql.data() + sql.size()) {
        sqlite3_finalize(statement);
        return Error::internal("store: one SQL statement per call: " + std::string(sql));
      }
      it = m_statements.emplace(std::string(sql), statement).first;
    }
    sqlite3_stmt* statement = it->second;
    if (static_cast<std::size_t>(sqlite3_bind_parameter_count(statement)) != params.size()) {
      return Error::internal("store: parameter count mismatch in " + std::string(sql));
    }
    static constexpr char kEmpty[] = "";
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      int rc = SQLITE_OK;
      if (const auto* n = std::get_if<std::int64_t>(&params[i])) {
        rc = sqlite3_bind_int64(statement, index, *n);
      } else if (const auto* s = std::get_if<std::string_view>(&params[i])) {
        // A null pointer would bind NULL: an empty text is bound from a literal.
        rc = sqlite3_bind_text64(statement, index, s->empty() ? kEmpty : s->data(), s->size(), SQLITE_STATIC,
                                 SQLITE_UTF8);
      } else if (const auto* b = std::get_if<ByteView>(&params[i])) {
        rc = b->empty() ? sqlite3_bind_zeroblob(statement, index, 0)
                        : sqlite3_bind_blob64(statement, index, b->data(), b->size(), SQLITE_STATIC);
      } else {
        rc = sqlite3_bind_null(statement, index);
      }
      if (rc != SQLITE_OK) {
        sqlite3_clear_bindings(statement);
        return sqlite_error(m_db, "bind");
      }
    }
    return statement;
  }

  // Steps to the end, collecting rows when `rows` is given; leaves the statement reset with no bindings (the
  // bound views are not kept past the call).
  Result<void> run(sqlite3_stmt* statement, std::vector<Row>* rows) {
    Result<void> outcome;
    for (;;) {
      const int rc = sqlite3_step(statement);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        outcome = sqlite_error(m_db, "step");
        break;
      }
      if (rows == nullptr) continue;
      const int columns = sqlite3_column_count(statement);
      std::vector<Value> values;
      values.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(statement, c)) {
          case SQLITE_INTEGER:
            values.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(statement, c)));
            break;
          case SQLITE_TEXT: {
            const auto* text = sqlite3_column_text(statement, c);
            const auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement, c));
            values.emplace_back(std::string(reinterpret_cast<const char*>(text), size));
            break;
          }
          case SQLITE_BLOB: {
            const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(statement, c));
            const auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement, c));
            values.emplace_back(data == nullptr ? Bytes() : Bytes(data, data + size));
            break;
          }
          case SQLITE_NULL:
            values.emplace_back(nullptr);
            break;
          default:  // SQLITE_FLOAT: no column the store writes; read as a blob, which the text and
                    // integer accessors refuse
            values.emplace_back(Bytes());
            break;
        }
      }
      rows->emplace_back(std::move(values));
    }
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return outcome;
  }

  sqlite3* m_db;
  std::mutex m_mutex;
  std::unordered_map<std::string, sqlite3_stmt*> m_statements;
};

}  // namespace

Result<std::unique_ptr<Database>> open_sqlite_database(const std::string& path) {
  if (path.empty() || path == ":memory:") {
    return Error::usage("the SQLite store needs the path of a database file");
  }
  // The database holds sealed keys and who enrolled when: created readable by its owner only (SQLite gives
  // the -wal and -shm files the same mode).
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, S_IRUSR | S_IWUSR);
  if (fd < 0) return Error(Category::kIo, "cannot open " + path + ": " + std::strerror(errno));
  ::close(fd);

  sqlite3* handle = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string detail = "SQLite open " + path + ": " + (handle != nullptr ? sqlite3_errmsg(handle) : "out of memory");
    sqlite3_close_v2(handle);
    return storage(std::move(detail));
  }
  auto database = std::make_unique<SqliteDatabase>(handle);
  sqlite3_extended_result_codes(handle, 1);
  sqlite3_busy_timeout(handle, kBusyTimeoutMs);
  M2MSEC_TRY(database->configure(path));
  return std::unique_ptr<Database>(std::move(database));
}

}  // namespace m2msec::store::db

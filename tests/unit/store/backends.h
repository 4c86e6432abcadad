// The two backends the store's contract tests run against, each giving every test a database of its own:
// SQLite, a file in a fresh temporary directory; PostgreSQL, a fresh schema in the database of the throwaway
// cluster that ctest's postgres.start fixture runs (tests/support/pg_cluster.py writes its conninfo to
// M2MSEC_TEST_PG_DIR/conninfo). Without that file the PostgreSQL cases fail: they are never skipped.
//
// raw() runs SQL on the test's database behind the store's back (through sqlite3 or libpq directly), to
// tamper with records and the schema version.
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <ostream>
#include <random>
#include <string>

#include "m2msec/store/store.h"
#include "oracle.h"

#ifndef M2MSEC_TEST_PG_DIR
#error "M2MSEC_TEST_PG_DIR: the directory of the test PostgreSQL cluster (tests/CMakeLists.txt)"
#endif

namespace m2msec::store::test {

enum class Backend { kSqlite, kPostgres };

inline std::string backend_name(Backend b) { return b == Backend::kSqlite ? "sqlite" : "postgresql"; }
inline void PrintTo(Backend b, std::ostream* os) { *os << backend_name(b); }

// A KEK whose 32 octets are all `fill`.
inline Kek test_kek(std::uint8_t fill = 0x4b) {
  SecretBytes key(32);
  for (auto& b : key.writable()) b = fill;
  return std::move(Kek::from_bytes(std::move(key))).value();
}

class Database {
 public:
  explicit Database(Backend backend) : m_backend(backend) {
    if (backend == Backend::kSqlite) {
      m_dir = std::make_unique<m2msec::test::TempDir>("m2msec-store");
      m_location = m_dir->file("store.db");
      return;
    }
    const std::string file = std::string(M2MSEC_TEST_PG_DIR) + "/conninfo";
    std::ifstream in(file);
    std::string base;
    if (!std::getline(in, base) || base.empty()) {
      ADD_FAILURE() << "no PostgreSQL conninfo in " << file
                    << ": run the tests through ctest (fixture postgres.start), or start a cluster with "
                       "tests/support/pg_cluster.py start "
                    << M2MSEC_TEST_PG_DIR;
      return;
    }
    std::random_device rd;
    m_schema = "t_" + std::to_string(::getpid()) + "_" + std::to_string(rd() % 1000000000u);
    m_base = base;
    m_location = base + " options='-c search_path=" + m_schema + "'";
    if (!pg_exec(m_base, "CREATE SCHEMA " + m_schema)) m_location.clear();
  }
  ~Database() {
    if (!m_schema.empty() && !m_location.empty()) pg_exec(m_base, "DROP SCHEMA " + m_schema + " CASCADE");
  }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  bool ready() const { return !m_location.empty(); }
  // The path (SQLite) or conninfo (PostgreSQL) of this test's database.
  const std::string& location() const { return m_location; }

  Result<std::unique_ptr<Store>> open(Kek kek) const {
    if (m_backend == Backend::kSqlite) return open_sqlite(m_location, std::move(kek));
    return open_postgres(m_location, std::move(kek), 4);
  }

  // Runs SQL statements directly; the test fails when they fail.
  bool raw(const std::string& sql) const {
    if (m_backend == Backend::kPostgres) return pg_exec(m_location, sql);
    sqlite3* db = nullptr;
    bool ok = sqlite3_open(m_location.c_str(), &db) == SQLITE_OK;
    char* message = nullptr;
    if (ok) {
      sqlite3_busy_timeout(db, 10000);
      ok = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) == SQLITE_OK;
    }
    if (!ok) ADD_FAILURE() << "sqlite3 " << sql << ": " << (message != nullptr ? message : sqlite3_errmsg(db));
    sqlite3_free(message);
    sqlite3_close(db);
    return ok;
  }

 private:
  static bool pg_exec(const std::string& conninfo, const std::string& sql) {
    PGconn* conn = PQconnectdb(conninfo.c_str());
    bool ok = PQstatus(conn) == CONNECTION_OK;
    if (ok) {
      PQsetNoticeProcessor(
          conn, [](void*, const char*) {}, nullptr);
      PGresult* result = PQexec(conn, sql.c_str());
      ok = PQresultStatus(result) == PGRES_COMMAND_OK || PQresultStatus(result) == PGRES_TUPLES_OK;
      PQclear(result);
    }
    if (!ok) ADD_FAILURE() << "libpq " << sql << ": " << PQerrorMessage(conn);
    PQfinish(conn);
    return ok;
  }

  Backend m_backend;
  std::unique_ptr<m2msec::test::TempDir> m_dir;
  std::string m_base;
  std::string m_schema;
  std::string m_location;
};

}  // namespace m2msec::store::test

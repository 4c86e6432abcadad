// The store, written once on the SQL layer of database.h and run on SQLite or PostgreSQL.
//
// Our design (TS-0003 says what the MEF and MAF keep, not how): one table per record kind; times are integer
// seconds since the Unix epoch; label and target lists are JSON arrays of strings (text columns); every key
// column holds Kek::seal output bound to "<kind>:<id>"; the schema is a list of migrations (migrations()) whose
// count is the version kept in schema_version.
#include "m2msec/store/store.h"

#include <chrono>
#include <limits>
#include <string>
#include <utility>

#include "database.h"
#include "m2msec/core/text.h"
#include "m2msec/json/json.h"

namespace m2msec::store {
namespace {

using db::Access;
using db::Connection;
using db::Params;
using db::Row;

// The schema, one entry per version: migration i takes a database from version i to i + 1. Never edit a
// released entry; append one. `{int}` and `{blob}` are spelled per dialect (db::ddl).
const std::vector<std::vector<std::string_view>>& migrations() {
  static const std::vector<std::vector<std::string_view>> steps = {
      // 1: the records of store.h.
      {
          "CREATE TABLE enrolees (kpm_id TEXT PRIMARY KEY, sealed_kpm {blob} NOT NULL, enrolee_id TEXT NOT NULL,"
          " target_id TEXT NOT NULL, lifetime_s {int} NOT NULL)",
          "CREATE TABLE enrolments (ke_id TEXT PRIMARY KEY, sealed_ke {blob} NOT NULL, kpm_id TEXT NOT NULL,"
          " enrolee_id TEXT NOT NULL, target_id TEXT NOT NULL, created {int} NOT NULL, expires {int} NOT NULL)",
          "CREATE INDEX enrolments_by_age ON enrolments (created, ke_id)",
          // At most one row per (fn, client_id, admin_fqdn): add_registration deletes an expired holder first,
          // so the unique index is what refuses a second live one, also between concurrent replicas.
          "CREATE TABLE registrations (fn {int} NOT NULL, id TEXT NOT NULL, client_id TEXT NOT NULL,"
          " admin_fqdn TEXT NOT NULL, labels TEXT NOT NULL, created {int} NOT NULL, expires {int} NOT NULL,"
          " ke_id TEXT NOT NULL, assigned_key_id TEXT NOT NULL, PRIMARY KEY (fn, id))",
          "CREATE UNIQUE INDEX registrations_holder ON registrations (fn, client_id, admin_fqdn)",
          "CREATE TABLE master_credentials (id TEXT PRIMARY KEY, sealed_km {blob} NOT NULL,"
          " client_id TEXT NOT NULL, expires {int} NOT NULL)",
          "CREATE TABLE key_registrations (fn {int} NOT NULL, relative_key_id TEXT NOT NULL,"
          " sealed_key {blob} NOT NULL, source_client_id TEXT NOT NULL, admin_fqdn TEXT NOT NULL,"
          " labels TEXT NOT NULL, suid {int} NOT NULL, target_ids TEXT NOT NULL, created {int} NOT NULL,"
          " expires {int} NOT NULL, PRIMARY KEY (fn, relative_key_id))",
          "CREATE TABLE commands (client_id TEXT NOT NULL, cmd_id TEXT NOT NULL, seq {int} NOT NULL UNIQUE,"
          " description TEXT NOT NULL, state {int} NOT NULL, status_code {int}, PRIMARY KEY (client_id, cmd_id))",
          "CREATE INDEX commands_queue ON commands (client_id, seq)",
          "CREATE TABLE counters (name TEXT PRIMARY KEY, next_value {int} NOT NULL)",
          "INSERT INTO counters (name, next_value) VALUES ('command', 0)",
          "CREATE TABLE requests (originator TEXT NOT NULL, request_id TEXT NOT NULL, expires {int} NOT NULL,"
          " PRIMARY KEY (originator, request_id))",
          "CREATE INDEX requests_by_expiry ON requests (expires)",
          // A value sealed with the KEK at creation: a store opened with another KEK is refused at once,
          // before it could write records that the right KEK cannot open.
          "CREATE TABLE kek_check (id {int} PRIMARY KEY, sealed {blob} NOT NULL)",
      },
      // 2: the resources of the hosting CSE (CseResource).
      {
          "CREATE TABLE cse_resources (ri TEXT PRIMARY KEY, pi TEXT NOT NULL, ty {int} NOT NULL,"
          " body TEXT NOT NULL)",
      },
      // 3: the IBC identities the MEF issued (IbcIdentityRecord); the primary key makes each ID_2 unique.
      {
          "CREATE TABLE ibc_identities (id2 TEXT PRIMARY KEY, client_id TEXT NOT NULL, created {int} NOT NULL,"
          " expires {int} NOT NULL)",
      },
  };
  return steps;
}

constexpr std::string_view kKekCheckBinding = "kek-check:store";
constexpr std::string_view kKekCheckValue = "m2msec store";

std::int64_t seconds(Time t) { return t.time_since_epoch().count(); }
Time time_at(std::int64_t s) { return Time(std::chrono::seconds(s)); }
std::int64_t function_code(Function f) { return static_cast<std::int64_t>(f); }

std::string_view key_kind(Function f) { return f == Function::kMef ? "mef-key" : "maf-key"; }
std::string binding(std::string_view kind, std::string_view id) { return concat({kind, ":", id}); }

Result<Function> function_from(std::int64_t code) {
  if (code == function_code(Function::kMef)) return Function::kMef;
  if (code == function_code(Function::kMaf)) return Function::kMaf;
  return db::storage("unknown function code " + std::to_string(code) + " in the store");
}

// Lists are JSON arrays of strings: any string round-trips, and the column reads well in a SQL shell.
Result<std::string> list_text(const std::vector<std::string>& list) {
  json::Array array;
  array.reserve(list.size());
  for (const std::string& item : list) array.emplace_back(item);
  std::string text = json::serialize(json::Value(std::move(array)));
  // Only UTF-8 reads back (I-JSON): refuse now rather than write a record that cannot be read.
  if (!json::parse(text)) return Error::usage("a label or target identifier is not UTF-8 text");
  return text;
}

Result<std::vector<std::string>> list_from(const std::string& text) {
  Result<json::Value> value = json::parse(text);
  if (!value || value->array() == nullptr) return db::storage("a stored list is not a JSON array");
  std::vector<std::string> out;
  for (const json::Value& item : *value->array()) {
    if (item.string() == nullptr) return db::storage("a stored list holds a non-string");
    out.push_back(*item.string());
  }
  return out;
}

// A driver's conflict, told in the store's terms; any other error as it is.
Error reworded(Error error, std::string_view what) {
  if (db::is_conflict(error)) return db::conflict(std::string(what));
  return error;
}

template <typename T>
Result<T> checked_range(std::int64_t v, std::string_view what) {
  if (v < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
      v > static_cast<std::int64_t>(std::numeric_limits<T>::max())) {
    return db::storage("stored " + std::string(what) + " out of range");
  }
  return static_cast<T>(v);
}

Result<void> migrate(db::Database& database, const Kek& kek) {
  return database.transaction(Access::kMigrate, [&](Connection& c) -> Result<void> {
    const db::Dialect dialect = database.dialect();
    M2MSEC_TRY(c.execute(db::ddl(dialect, "CREATE TABLE IF NOT EXISTS schema_version (version {int} NOT NULL)")));
    M2MSEC_ASSIGN_OR_RETURN(const std::vector<Row> rows, c.query("SELECT version FROM schema_version"));
    if (rows.size() > 1) return db::storage("schema_version holds more than one row");
    std::int64_t version = 0;
    if (rows.empty()) {
      M2MSEC_TRY(c.execute("INSERT INTO schema_version (version) VALUES (0)"));
    } else {
      M2MSEC_ASSIGN_OR_RETURN(version, rows.front().integer(0));
    }
    const auto current = static_cast<std::int64_t>(schema_version());
    if (version > current || version < 0) {
      return db::storage("the database schema is version " + std::to_string(version) + ", this build knows up to " +
                         std::to_string(current) + ": refusing to open it (a newer m2msec wrote it)");
    }
    for (std::int64_t v = version; v < current; ++v) {
      for (const std::string_view statement : migrations()[static_cast<std::size_t>(v)]) {
        Result<std::int64_t> done = c.execute(db::ddl(dialect, statement));
        if (!done) {
          return db::storage("migration to schema version " + std::to_string(v + 1) +
                             " failed: " + done.error().detail());
        }
      }
    }
    if (version != current) M2MSEC_TRY(c.execute("UPDATE schema_version SET version = ?", {current}));

    M2MSEC_ASSIGN_OR_RETURN(const std::vector<Row> check, c.query("SELECT sealed FROM kek_check WHERE id = 1"));
    if (check.empty()) {
      M2MSEC_ASSIGN_OR_RETURN(const Bytes sealed, kek.seal(kKekCheckBinding, as_bytes(kKekCheckValue)));
      M2MSEC_TRY(c.execute("INSERT INTO kek_check (id, sealed) VALUES (1, ?)", {ByteView(sealed)}));
      return {};
    }
    M2MSEC_ASSIGN_OR_RETURN(const Bytes sealed, check.front().blob(0));
    if (!kek.open(kKekCheckBinding, sealed)) {
      return Error::crypto("the KEK does not open this database (its keys were sealed with another KEK)");
    }
    return {};
  });
}

class SqlStore final : public Store {
 public:
  SqlStore(std::unique_ptr<db::Database> database, Kek kek) : m_db(std::move(database)), m_kek(std::move(kek)) {}

  Result<void> add_enrolee(const Enrolee& enrolee) override {
    M2MSEC_ASSIGN_OR_RETURN(const Bytes sealed, seal_key("kpm", enrolee.kpm_id, enrolee.kpm));
    Result<void> done = m_db->transaction(Access::kWrite, [&](Connection& c) -> Result<void> {
      M2MSEC_TRY(
          c.execute("INSERT INTO enrolees (kpm_id, sealed_kpm, enrolee_id, target_id, lifetime_s)"
                    " VALUES (?, ?, ?, ?, ?)",
                    {enrolee.kpm_id, ByteView(sealed), enrolee.enrolee_id, enrolee.target_id,
                     static_cast<std::int64_t>(enrolee.lifetime.count())}));
      return {};
    });
    if (!done) return reworded(std::move(done).error(), "an enrolee with this KpmID exists");
    return {};
  }

  Result<std::optional<Enrolee>> find_enrolee(std::string_view kpm_id) override {
    M2MSEC_ASSIGN_OR_RETURN(const std::vector<Row> rows,
                            query_rows("SELECT kpm_id, sealed_kpm, enrolee_id, target_id, lifetime_s FROM enrolees"
                                       " WHERE kpm_id = ?",
                                       {kpm_id}));
    if (rows.empty()) return std::optional<Enrolee>();
    const Row& row = rows.front();
    Enrolee e;
    M2MSEC_ASSIGN_OR_RETURN(e.kpm_id, row.text(0));
    M2MSEC_ASSIGN_OR_RETURN(const Bytes sealed, row.blob(1));
    M2MSEC_ASSIGN_OR_RETURN(e.kpm, open_key("kpm", e.kpm_id, sealed));
    M2MSEC_ASSIGN_OR_RETURN(e.enrolee_id, row.text(2));
    M2MSEC_ASSIGN_OR_RETURN(e.target_id, row.text(3));
    M2MSEC_ASSIGN_OR_RETURN(const std::int64_t lifetime, row.integer(4));
    e.lifetime = std::chrono::seconds(lifetime);
    return std::optional<Enrolee>(std::move(e));
  }

  Result<void> add_enrolment(const Enrolment& enrolment) override {
    M2MSEC_ASSIGN_OR_RETURN(const Bytes sealed, seal_key("enrolment", enrolment.ke_id, enrolment.ke));
    Result<void> done = m_db->transaction(
        Access::kWrite, [&](Connection& c) -> Result<void> { return insert_enrolment(c, enrolment, sealed); });
    if (!done) return reworded(std::move(done).error(), "an enrolment with this KeID exists");
    return {};
  }

  Result<std::optional<Enrolment>> find_enrolment(std::string_view ke_id) override {
    M2MSEC_ASSIGN_OR_RETURN(const std::vector<Row> rows,
                            query_rows(concat({kEnrolmentColumns, " WHERE ke_id = ?"}), {ke_id}));
    if (rows.empty()) return std::optional<Enrolment>();
    M2MSEC_ASSIGN_OR_RETURN(Enrolment e, enrolment_from(rows.front()));
    return std::optional<Enrolment>(std::move(e));
  }

  Result<std::vector<Enrolment>> list_enrolments() override {
    M2MSEC_ASSIGN_OR_RETURN(const std::vector<Row> rows,
                            query_rows(concat({kEnrolmentColumns, " ORDER BY created, ke_id"}), {}));
    std::vector<Enrolment> out;
    out.reserve(rows.size());
    for (const Row& row : rows) {
      M2MSEC_ASSIGN_OR_RETURN(Enrolment e, enrolment_from(row));
      out.push_back(std::move(e));
    }
    return out;
  }

  //= TS-0003 V3.18.0 §8.3.5.1
  //# Step 3: one registration per administrating stakeholder (adminFQDN) of a client; an expired one is
  //# replaced by the new registration.
  Result<void> add_registration(const Registration& r, Time now, const Enrolment* enrolment,
                                LiveHolder live_holder) override {
    std::optional<Bytes> sealed_ke;
    if (enrolment != nullptr) {
      M2MSEC_ASSIGN_OR_RETURN(sealed_ke, seal_key("enrolment", enrolment->ke_id, enrolment->ke));
    }
    M2MSEC_ASSIGN_OR_RETURN(const std::string labels, list_text(r.labels));
    Result<void> done = m_db->transaction(Access::kWrite, [&](Connection& c) -> Result<void> {
      if (enrolment != nullptr) {
        Result<void> added = insert_enrolment(c, *enrolment, *sealed_ke);
        if (!added) return reworded(std::move(added).error(), "an enrolment with this KeID exists");
      }
      if (live_holder == LiveHolder::kReplace) {
        // The enrolment of the registration replaced goes with it, unless another registration (of another
        // adminFQDN, made in the same association) still refers to it.
        M2MSEC_TRY(c.execute(
            "DELETE FROM enrolments WHERE ke_id <> ? AND ke_id IN (SELECT ke_id FROM registrations"
            " WHERE fn = ? AND client_id = ? AND admin_fqdn = ?) AND NOT EXISTS (SELECT 1 FROM registrations o"
            " WHERE o.ke_id = enrolments.ke_id AND NOT (o.fn = ? AND o.client_id = ? AND o.admin_fqdn = ?))",
            {r.ke_id, function_code(r.function), r.client_id, r.admin_fqdn, function_code(r.function), r.client_id,
             r.admin_fqdn}));
        M2MSEC_TRY(c.execute("DELETE FROM registrations WHERE fn = ? AND client_id = ? AND admin_fqdn = ?",
                             {function_code(r.function), r.client_id, r.admin_fqdn}));
      } else {
        // A registration expires at its expirationTime: one with expires <= now is no longer held.
        M2MSEC_TRY(
            c.execute("DELETE FROM registrations WHERE fn = ? AND client_id = ? AND admin_fqdn = ?"
                      " AND expires <= ?",
                      {function_code(r.function), r.client_id, r.admin_fqdn, seconds(now)}));
      }
      Result<std::int64_t> inserted = c.execute(
          "INSERT INTO registrations (fn, id, client_id, admin_fqdn, labels, created, expires, ke_id,"
          " assigned_key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {function_code(r.function), r.id, r.client_id, r.admin_fqdn, labels, seconds(r.created), seconds(r.expires),
           r.ke_id, r.assigned_key_id});
      if (!inserted) {
        return reworded(std::move(inserted).error(),
                        "the registration ID is taken, or the client holds an unexpired registration for this "
                        "adminFQDN");
      }
      return {};
    });
    return done;
  }

  Result<std::optional<Registration>> find_registration(Function function, std::string_view id) override {
    M2MSEC_ASSIGN_OR_RETURN(const std::vector<Row> rows,
                            query_rows("SELECT fn, id, client_id, admin_fqdn, labels, created, expires, ke_id,"
                                       " assigned_key_id FROM registrations WHERE fn = ? AND id = ?",
                                       {function_code(function), id}));
    if (rows.empty()) return std::optional<Registration>();
    const Row& row = rows.front();
    Registration r;
    M2MSEC_ASSIGN_OR_RETURN(const std::int64_t code, row.integer(0));
    M2MSEC_ASSIGN_OR_RETURN(r.function, function_from(code));
    M2MSEC_ASSIGN_OR_RETURN(r.id, row.text(1));
    M2MSEC_ASSIGN_OR_RETURN(r.client_id, row.text(2));
    M2MSEC_ASSIGN_OR_RETURN(r.admin_fqdn, row.text(3));
    M2MSEC_ASSIGN_OR_RETURN(const std::string labels, row.text(4));
    M2MSEC_ASSIGN_OR_RETURN(r.labels, list_from(labels));
    M2MSEC_ASSIGN_OR_RETURN(const std::int64_t created, row.integer(5));
    M2MSEC_ASSIGN_OR_RETURN(const std::int64_t expires, row.integer(6));
    r.created = time_at(created);
    r.expires = time_at(expires);
    M2MSEC_ASSIGN_OR_RETURN(r.ke_id, row.text(7));
    M2MSEC_ASSIGN_OR_RETURN(r.assigned_key_id, row.text(8));
    return std::optional<Registration>(std::move(r));
  }

  Result<bool> update_registration(Function function, std::string_view id, const RegistrationChange& change) override {
    std::string labels;
    if (change.labels) {
      M2MSEC_ASSIGN_OR_RETURN(labels, list_text(*change.labels));
    }
    std::string sql = "UPDATE registrations SET ";
    Params params;
    if (change.expires) add_assignment(sql, params, "expires", seconds(*change.expires));
    if (change.labels) add_assignment(sql, params, "labels", std::string_view(labels));
    if (change.assigned_key_id)
      add_assignment(sql, params, "assigned_key_id", std::string_view(*change.assigned_key_id));
    return update("registrations", std::move(sql), std::move(params), "fn = ? AND id = ?",
                  {function_code(function), id});
  }

  Result<bool> delete_registration(Function function, std::string_view id) override {
    return write_count("DELETE FROM registrations WHERE fn = ? AND id = ?", {function_code(function), id});
  }

  Result<void> put_master_credential(const MasterCredential& m) override {
    M2MSEC_ASSIGN_OR_RETURN(const Bytes sealed, seal_key("km", m.id, m.km));
    return m_db->transaction(Access::kWrite, [&](Connection& c) -> Result<void> {
      M2MSEC_TRY(
          c.execute("INSERT INTO master_credentials (id, sealed_km, client_id, expires) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (id) DO UPDATE SET sealed_km = excluded.sealed_km,"
                    " client_id = excluded.client_id, expires = excluded.expires",
                    {m.id, ByteView(sealed), m.client_id, seconds(m.expires)}));
      return {};
    });
  }

  Result<std::optional<MasterCredential>> find_master_credential(std::string_view id) override {
    M2MSEC_ASSIGN_OR_RETURN(
        const std::vector<Row> rows,
        query_rows("SELECT id, sealed_km, client_id, expires FROM master_credentials WHERE id = ?", {id}));
    if (rows.empty()) return std::optional<MasterCredential>();
    const Row& row = rows.front();
    MasterCredential m;
    M2MSEC_ASSIGN_OR_RETURN(m.id, row.text(0));
    M2MSEC_ASSIGN_OR_RETURN(const Bytes sealed, row.blob(1));
    M2MSEC_ASSIGN_OR_RETURN(m.km, open_key("km", m.id, sealed));
    M2MSEC_ASSIGN_OR_RETURN(m.client_id, row.text(2));
    M2MSEC_ASSIGN_OR_RETURN(const std::int64_t expires, row.integer(3));
    m.expires = time_at(expires);
    return std::optional<MasterCredential>(std::move(m));
  }

  Result<void> add_key_registration(const KeyRegistration& k) override {
    M2MSEC_ASSIGN_OR_RETURN(const Bytes sealed, seal_key(key_kind(k.function), k.relative_key_id, k.key));
    M2MSEC_ASSIGN_OR_RETURN(const std::string labels, list_text(k.labels));
    M2MSEC_ASSIGN_OR_RETURN(const std::string targets, list_text(k.target_ids));
    Result<void> done = m_db->transaction(Access::kWrite, [&](Connection& c) -> Result<void> {
      M2MSEC_TRY(
          c.execute("INSERT INTO key_registrations (fn, relative_key_id, sealed_key, source_client_id,"
                    " admin_fqdn, labels, suid, target_ids, created, expires)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    {function_code(k.function), k.relative_key_id, ByteView(sealed), k.source_client_id, k.admin_fqdn,
                     labels, static_cast<std::int64_t>(k.suid), targets, seconds(k.created), seconds(k.expires)}));
      return {};
    });
    if (!done) return reworded(std::move(done).error(), "a key registration with this relative key ID exists");
    return {};
  }

  Result<std::optional<KeyRegistration>> find_key_registration(Function function,
                                                               std::string_view relative_key_id) override {
    M2MSEC_ASSIGN_OR_RETURN(
        const std::vector<Row> rows,
        query_rows("SELECT fn, relative_key_id, sealed_key, source_client_id, admin_fqdn, labels, suid,"
                   " target_ids, created, expires FROM key_registrations"
                   " WHERE fn = ? AND relative_key_id = ?",
                   {function_code(function), relative_key_id}));
    if (rows.empty()) return std::optional<KeyRegistration>();
    const Row& row = rows.front();
    KeyRegistration k;
    M2MSEC_ASSIGN_OR_RETURN(const std::int64_t code, row.integer(0));
    M2MSEC_ASSIGN_OR_RETURN(k.function, function_from(code));
    M2MSEC_ASSIGN_OR_RETURN(k.relative_key_id, row.text(1));
    M2MSEC_ASSIGN_OR_RETURN(const Bytes sealed, row.blob(2));
    M2MSEC_ASSIGN_OR_RETURN(k.key, open_key(key_kind(k.function), k.relative_key_id, sealed));
    M2MSEC_ASSIGN_OR_RETURN(k.source_client_id, row.text(3));
    M2MSEC_ASSIGN_OR_RETURN(k.admin_fqdn, row.text(4));
    M2MSEC_ASSIGN_OR_RETURN(const std::string labels, row.text(5));
    M2MSEC_ASSIGN_OR_RETURN(k.labels, list_from(labels));
    M2MSEC_ASSIGN_OR_RETURN(const std::int64_t suid, row.integer(6));
    M2MSEC_ASSIGN_OR_RETURN(k.suid, checked_range<std::uint32_t>(suid, "SUID"));
    M2MSEC_ASSIGN_OR_RETURN(const std::string targets, row.text(7));
    M2MSEC_ASSIGN_OR_RETURN(k.target_ids, list_from(targets));
    M2MSEC_ASSIGN_OR_RETURN(const std::int64_t created, row.integer(8));
    M2MSEC_ASSIGN_OR_RETURN(const std::int64_t expires, row.integer(9));
    k.created = time_at(created);
    k.expires = time_at(expires);
    return std::optional<KeyRegistration>(std::move(k));
  }

  Result<bool> update_key_registration(Function function, std::string_view relative_key_id,
                                       const KeyRegistrationChange& change) override {
    std::string labels;
    std::string targets;
    if (change.labels) {
      M2MSEC_ASSIGN_OR_RETURN(labels, list_text(*change.labels));
    }
    if (change.target_ids) {
      M2MSEC_ASSIGN_OR_RETURN(targets, list_text(*change.target_ids));
    }
    std::string sql = "UPDATE key_registrations SET ";
    Params params;
    if (change.expires) add_assignment(sql, params, "expires", seconds(*change.expires));
    if (change.labels) add_assignment(sql, params, "labels", std::string_view(labels));
    if (change.target_ids) add_assignment(sql, params, "target_ids", std::string_view(targets));
    return update("key_registrations", std::move(sql), std::move(params), "fn = ? AND relative_key_id = ?",
                  {function_code(function), relative_key_id});
  }

  Result<bool> delete_key_registration(Function function, std::string_view relative_key_id) override {
    return write_count("DELETE FROM key_registrations WHERE fn = ? AND relative_key_id = ?",
                       {function_code(function), relative_key_id});
  }

  //= TS-0003 V3.18.0 §8.3.9
  //# The MEF issues a client's commands one at a time, in the order they were queued.
  // The sequence comes from one counter row, so it is monotonic across replicas (the row lock orders
  // concurrent appends) and never reused.
  Result<void> add_command(const Command& command) override {
    Result<void> done = m_db->transaction(Access::kWrite, [&](Connection& c) -> Result<void> {
      M2MSEC_TRY(c.execute("UPDATE counters SET next_value = next_value + 1 WHERE name = 'command'"));
      M2MSEC_ASSIGN_OR_RETURN(const std::vector<Row> rows,
                              c.query("SELECT next_value FROM counters WHERE name = 'command'"));
      if (rows.empty()) return db::storage("the command counter is missing");
      M2MSEC_ASSIGN_OR_RETURN(const std::int64_t sequence, rows.front().integer(0));
      Params params{command.client_id,
                    command.cmd_id,
                    sequence,
                    command.description_json,
                    static_cast<std::int64_t>(command.state),
                    nullptr};
      if (command.status_code) params.back() = static_cast<std::int64_t>(*command.status_code);
      M2MSEC_TRY(
          c.execute("INSERT INTO commands (client_id, cmd_id, seq, description, state, status_code)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    params));
      return {};
    });
    if (!done) return reworded(std::move(done).error(), "the client has a command with this cmdID");
    return {};
  }

  Result<std::optional<Command>> current_command(std::string_view client_id) override {
    M2MSEC_ASSIGN_OR_RETURN(const std::vector<Row> rows,
                            query_rows("SELECT client_id, cmd_id, seq, description, state, status_code FROM commands"
                                       " WHERE client_id = ? AND state <> ? ORDER BY seq LIMIT 1",
                                       {client_id, static_cast<std::int64_t>(Command::State::kReported)}));
    if (rows.empty()) return std::optional<Command>();
    const Row& row = rows.front();
    Command command;
    M2MSEC_ASSIGN_OR_RETURN(command.client_id, row.text(0));
    M2MSEC_ASSIGN_OR_RETURN(command.cmd_id, row.text(1));
    M2MSEC_ASSIGN_OR_RETURN(command.sequence, row.integer(2));
    M2MSEC_ASSIGN_OR_RETURN(command.description_json, row.text(3));
    M2MSEC_ASSIGN_OR_RETURN(const std::int64_t state, row.integer(4));
    if (state < 0 || state > static_cast<std::int64_t>(Command::State::kReported)) {
      return db::storage("stored command state out of range");
    }
    command.state = static_cast<Command::State>(state);
    M2MSEC_ASSIGN_OR_RETURN(const std::optional<std::int64_t> status, row.optional_integer(5));
    if (status) {
      M2MSEC_ASSIGN_OR_RETURN(command.status_code, checked_range<std::uint32_t>(*status, "status code"));
    }
    return std::optional<Command>(std::move(command));
  }

  Result<bool> set_command_state(std::string_view client_id, std::string_view cmd_id, Command::State state,
                                 std::optional<std::uint32_t> status_code) override {
    Params params{static_cast<std::int64_t>(state), nullptr, client_id, cmd_id};
    if (status_code) params[1] = static_cast<std::int64_t>(*status_code);
    return write_count(
        "UPDATE commands SET state = ?, status_code = COALESCE(?, status_code)"
        " WHERE client_id = ? AND cmd_id = ?",
        std::move(params));
  }

  Result<bool> remember_request(std::string_view originator, std::string_view request_id, Time expires,
                                Time now) override {
    return in_transaction<bool>(*m_db, Access::kWrite, [&](Connection& c) -> Result<bool> {
      M2MSEC_TRY(c.execute("DELETE FROM requests WHERE expires <= ?", {seconds(now)}));
      M2MSEC_ASSIGN_OR_RETURN(const std::int64_t inserted,
                              c.execute("INSERT INTO requests (originator, request_id, expires) VALUES (?, ?, ?)"
                                        " ON CONFLICT DO NOTHING",
                                        {originator, request_id, seconds(expires)}));
      return inserted == 1;
    });
  }

  Result<void> put_resource(const CseResource& r) override {
    return m_db->transaction(Access::kWrite, [&](Connection& c) -> Result<void> {
      M2MSEC_TRY(c.execute("INSERT INTO cse_resources (ri, pi, ty, body) VALUES (?, ?, ?, ?)"
                           " ON CONFLICT (ri) DO UPDATE SET pi = excluded.pi, ty = excluded.ty, body = excluded.body",
                           {r.ri, r.pi, static_cast<std::int64_t>(r.ty), r.body}));
      return {};
    });
  }

  Result<void> delete_resources(std::span<const std::string> ris) override {
    return m_db->transaction(Access::kWrite, [&](Connection& c) -> Result<void> {
      for (const std::string& ri : ris) M2MSEC_TRY(c.execute("DELETE FROM cse_resources WHERE ri = ?", {ri}));
      return {};
    });
  }

  Result<std::vector<CseResource>> load_resources() override {
    M2MSEC_ASSIGN_OR_RETURN(const std::vector<Row> rows,
                            query_rows("SELECT ri, pi, ty, body FROM cse_resources ORDER BY ri", {}));
    std::vector<CseResource> out;
    out.reserve(rows.size());
    for (const Row& row : rows) {
      CseResource r;
      M2MSEC_ASSIGN_OR_RETURN(r.ri, row.text(0));
      M2MSEC_ASSIGN_OR_RETURN(r.pi, row.text(1));
      M2MSEC_ASSIGN_OR_RETURN(const std::int64_t ty, row.integer(2));
      M2MSEC_ASSIGN_OR_RETURN(r.ty, checked_range<std::uint32_t>(ty, "resource type"));
      M2MSEC_ASSIGN_OR_RETURN(r.body, row.text(3));
      out.push_back(std::move(r));
    }
    return out;
  }

  Result<void> add_ibc_identity(const IbcIdentityRecord& r) override {
    Result<void> done = m_db->transaction(Access::kWrite, [&](Connection& c) -> Result<void> {
      M2MSEC_TRY(c.execute("INSERT INTO ibc_identities (id2, client_id, created, expires) VALUES (?, ?, ?, ?)",
                           {r.id2, r.client_id, seconds(r.created), seconds(r.expires)}));
      return {};
    });
    if (!done) return reworded(std::move(done).error(), "this ID_2 was issued before");
    return {};
  }

  Result<std::optional<IbcIdentityRecord>> find_ibc_identity(std::string_view id2) override {
    M2MSEC_ASSIGN_OR_RETURN(const std::vector<Row> rows,
                            query_rows("SELECT id2, client_id, created, expires FROM ibc_identities WHERE id2 = ?",
                                       {id2}));
    if (rows.empty()) return std::optional<IbcIdentityRecord>();
    IbcIdentityRecord r;
    M2MSEC_ASSIGN_OR_RETURN(r.id2, rows.front().text(0));
    M2MSEC_ASSIGN_OR_RETURN(r.client_id, rows.front().text(1));
    M2MSEC_ASSIGN_OR_RETURN(const std::int64_t created, rows.front().integer(2));
    M2MSEC_ASSIGN_OR_RETURN(const std::int64_t expires, rows.front().integer(3));
    r.created = time_at(created);
    r.expires = time_at(expires);
    return std::optional<IbcIdentityRecord>(std::move(r));
  }

  Result<void> ping() override {
    M2MSEC_TRY(query_rows("SELECT 1", {}));
    return {};
  }

  std::string_view backend() const override {
    return m_db->dialect() == db::Dialect::kSqlite ? "sqlite" : "postgresql";
  }

 private:
  static constexpr std::string_view kEnrolmentColumns =
      "SELECT ke_id, sealed_ke, kpm_id, enrolee_id, target_id, created, expires FROM enrolments";

  Result<Bytes> seal_key(std::string_view kind, std::string_view id, const SecretBytes& key) const {
    return m_kek.seal(binding(kind, id), key.view());
  }

  // A key that does not open is never returned: wrong KEK, or a sealed key moved to another record or altered.
  Result<SecretBytes> open_key(std::string_view kind, std::string_view id, const Bytes& sealed) const {
    Result<SecretBytes> key = m_kek.open(binding(kind, id), sealed);
    if (!key) return Error::crypto("the stored key of " + binding(kind, id) + " does not open with the KEK");
    return key;
  }

  Result<std::vector<Row>> query_rows(std::string_view sql, Params params) {
    return db::in_transaction<std::vector<Row>>(*m_db, Access::kRead,
                                                [&](Connection& c) { return c.query(sql, params); });
  }

  // One statement in a write transaction: whether it changed a row.
  Result<bool> write_count(std::string_view sql, Params params) {
    M2MSEC_ASSIGN_OR_RETURN(
        const std::int64_t changed,
        db::in_transaction<std::int64_t>(*m_db, Access::kWrite, [&](Connection& c) { return c.execute(sql, params); }));
    return changed > 0;
  }

  static void add_assignment(std::string& sql, Params& params, std::string_view column, db::Param value) {
    if (!params.empty()) sql += ", ";
    sql += column;
    sql += " = ?";
    params.push_back(value);
  }

  // `sql` is "UPDATE <table> SET a = ?, ..." with `params`; an empty change only tells whether the row exists.
  Result<bool> update(std::string_view table, std::string sql, Params params, std::string_view where,
                      const Params& key) {
    if (params.empty()) {
      M2MSEC_ASSIGN_OR_RETURN(const std::vector<Row> rows,
                              query_rows(concat({"SELECT 1 FROM ", table, " WHERE ", where}), key));
      return !rows.empty();
    }
    sql += " WHERE ";
    sql += where;
    params.insert(params.end(), key.begin(), key.end());
    return write_count(sql, std::move(params));
  }

  static Result<void> insert_enrolment(Connection& c, const Enrolment& e, const Bytes& sealed) {
    M2MSEC_TRY(c.execute(
        "INSERT INTO enrolments (ke_id, sealed_ke, kpm_id, enrolee_id, target_id, created, expires)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        {e.ke_id, ByteView(sealed), e.kpm_id, e.enrolee_id, e.target_id, seconds(e.created), seconds(e.expires)}));
    return {};
  }

  Result<Enrolment> enrolment_from(const Row& row) const {
    Enrolment e;
    M2MSEC_ASSIGN_OR_RETURN(e.ke_id, row.text(0));
    M2MSEC_ASSIGN_OR_RETURN(const Bytes sealed, row.blob(1));
    M2MSEC_ASSIGN_OR_RETURN(e.ke, open_key("enrolment", e.ke_id, sealed));
    M2MSEC_ASSIGN_OR_RETURN(e.kpm_id, row.text(2));
    M2MSEC_ASSIGN_OR_RETURN(e.enrolee_id, row.text(3));
    M2MSEC_ASSIGN_OR_RETURN(e.target_id, row.text(4));
    M2MSEC_ASSIGN_OR_RETURN(const std::int64_t created, row.integer(5));
    M2MSEC_ASSIGN_OR_RETURN(const std::int64_t expires, row.integer(6));
    e.created = time_at(created);
    e.expires = time_at(expires);
    return e;
  }

  std::unique_ptr<db::Database> m_db;
  Kek m_kek;
};

Result<std::unique_ptr<Store>> open_store(Result<std::unique_ptr<db::Database>> database, Kek kek) {
  if (!database) return std::move(database).error();
  M2MSEC_TRY(migrate(**database, kek));
  return std::unique_ptr<Store>(std::make_unique<SqlStore>(std::move(database).value(), std::move(kek)));
}

}  // namespace

int schema_version() { return static_cast<int>(migrations().size()); }

Result<std::unique_ptr<Store>> open_sqlite(const std::string& path, Kek kek) {
  return open_store(db::open_sqlite_database(path), std::move(kek));
}

Result<std::unique_ptr<Store>> open_postgres(const std::string& conninfo, Kek kek, std::size_t connections) {
  return open_store(db::open_postgres_database(conninfo, connections), std::move(kek));
}

}  // namespace m2msec::store

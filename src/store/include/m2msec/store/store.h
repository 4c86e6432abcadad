// The durable state of the MEF and MAF in domain terms, with two implementations behind one interface:
// SQLite (the embedded default: one file, WAL, synchronous commits) and PostgreSQL (libpq; several m2msecd
// replicas may share one database). Both pass one contract test suite (tests/unit/store).
//
// Every call is one transaction: when it returns success the change is durable (it survives the process
// being killed) and visible to every other Store on the same database. Keys are encrypted at rest with a
// key-encryption key (kek.h) and bound to the identifier of the record that holds them, so a key copied
// into another record does not decrypt. A Store is safe to use from several threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"
#include "m2msec/store/kek.h"

namespace m2msec::store {

using Time = std::chrono::sys_seconds;

// Which function a registration belongs to: the MEF (8.3.5) or the MAF (8.8.2) keep separate records.
enum class Function : std::uint8_t { kMef = 1, kMaf = 2 };

// A pre-provisioned Kpm/KpmID and the Bootstrap Instruction Configuration of its enrolee (8.3.2.1 steps 1-2).
struct Enrolee {
  std::string kpm_id;     // canonical (tls::canonical_psk_identity(kKpmId))
  SecretBytes kpm;
  std::string enrolee_id;  // the CSE-ID/AE-ID assigned to the enrolee; empty: none configured
  std::string target_id;   // the Enrolment Target (e.g. a MAF-ID); empty: the MEF's default target
  std::chrono::seconds lifetime{0};  // Enrolment Expiry (10.7); 0: the MEF's default
};

// An Enrolment Key made by a PPSK RSPF handshake (8.3.2.1 step 4): Ke and KeID.
struct Enrolment {
  std::string ke_id;  // KeID text as keys::KeId::to_string() writes it
  SecretBytes ke;
  std::string kpm_id;      // the enrolee it belongs to
  std::string enrolee_id;  // copied from the enrolee at enrolment time ("" when none)
  std::string target_id;   // the Enrolment Target allowed to fetch credentials for it
  Time created{};
  Time expires{};
};

// A MEF or MAF Client Registration record (<mefClientReg>, <mafClientReg>).
struct Registration {
  Function function = Function::kMef;
  std::string id;          // MEFClientRegID / mafClientRegID (the resource ID)
  std::string client_id;   // MEF Client ID / MAF Client ID: the authenticated identity
  std::string admin_fqdn;
  std::vector<std::string> labels;
  Time created{};
  Time expires{};
  std::string ke_id;              // MEF: the enrolment made in the same exchange ("" for none)
  std::string assigned_key_id;    // MAF: assignedSymmKeyID (a KmID) when one was assigned ("" for none)
};

// A symmetric credential a MAF client authenticates with (8.8.2.2): Km under its KmID, or under the KeID the
// client presented before it had a KmID (8.8.2.3, remote provisioning).
struct MasterCredential {
  std::string id;  // canonical KmID, or a KeID
  SecretBytes km;
  std::string client_id;  // the MAF Client ID it authenticates
  Time expires{};
};

// A MEF or MAF Key Registration (8.3.5.2.7, 8.8.2.7).
struct KeyRegistration {
  Function function = Function::kMaf;
  std::string relative_key_id;
  SecretBytes key;
  std::string source_client_id;
  std::string admin_fqdn;
  std::vector<std::string> labels;
  std::uint32_t suid = 0;
  std::vector<std::string> target_ids;
  Time created{};
  Time expires{};
};

// A MEF Client Command queued for a MEF client (8.3.9), in the order it is to be issued.
struct Command {
  enum class State : std::uint8_t { kQueued = 0, kIssued = 1, kReported = 2 };
  std::string client_id;    // the MEF Client ID it is for
  std::string cmd_id;
  std::int64_t sequence = 0;  // assigned by the store: the issue order
  std::string description_json;  // sec:cmdDescription in short names
  State state = State::kQueued;
  std::optional<std::uint32_t> status_code;  // the client's report (sec:cmdStatusCode)
};

// A resource of the hosting CSE (m2msecd role cse): its resource ID, its parent's, its type, and everything
// else as the CSE's own JSON text (the store does not read it). The CSE keeps its tree in memory and writes
// through; the store only makes it survive restarts.
struct CseResource {
  std::string ri;
  std::string pi;  // empty for <CSEBase>
  std::uint32_t ty = 0;
  std::string body;
};

// An IBC identity the MEF issued (seed 002 8.3.7.2 step 2): ID_2 = FQDN@hexBinary(ID)@expirationTime, for the
// MEF client `client_id`. Its keys are not kept: the client holds them; the record keeps ID_2 unique and lets a
// re-provisioning request (8.3.7.3) name a credential this MEF issued.
struct IbcIdentityRecord {
  std::string id2;
  std::string client_id;
  Time created{};
  Time expires{};
};

// A changed record: what an update may change (nullopt: unchanged).
struct RegistrationChange {
  std::optional<Time> expires;
  std::optional<std::vector<std::string>> labels;
  std::optional<std::string> assigned_key_id;
};
struct KeyRegistrationChange {
  std::optional<Time> expires;
  std::optional<std::vector<std::string>> labels;
  std::optional<std::vector<std::string>> target_ids;
};

class Store {
 public:
  virtual ~Store() = default;

  // Errors: kStorage for the database, kConflict-coded (Category::kPolicy, Rsc::kConflict) when a unique
  // identifier is taken. "Not found" is an empty optional or false, never an error.

  virtual Result<void> add_enrolee(const Enrolee& enrolee) = 0;  // conflict: KpmID taken
  virtual Result<std::optional<Enrolee>> find_enrolee(std::string_view kpm_id) = 0;

  virtual Result<void> add_enrolment(const Enrolment& enrolment) = 0;  // conflict: KeID taken
  virtual Result<std::optional<Enrolment>> find_enrolment(std::string_view ke_id) = 0;
  // Every enrolment, oldest first (by created, then KeID), with its key.
  virtual Result<std::vector<Enrolment>> list_enrolments() = 0;

  // What add_registration does with an unexpired registration of the same client for the same adminFQDN
  // in the same function: refuse (conflict; one per administrating stakeholder, 8.3.5.1 step 3), or replace
  // it and delete the enrolment it carried unless another registration still refers to it (a re-enrolment
  // supersedes the previous one).
  enum class LiveHolder : std::uint8_t { kRefuse, kReplace };

  // A registration: conflict when the id is taken, or (kRefuse) when the client holds an unexpired one for
  // this adminFQDN at `now`; an expired one is replaced in any case. With `enrolment`, the enrolment is added
  // in the same transaction (the MEF records Ke and the registration together, or neither).
  virtual Result<void> add_registration(const Registration& registration, Time now,
                                        const Enrolment* enrolment = nullptr,
                                        LiveHolder live_holder = LiveHolder::kRefuse) = 0;
  virtual Result<std::optional<Registration>> find_registration(Function function, std::string_view id) = 0;
  virtual Result<bool> update_registration(Function function, std::string_view id, const RegistrationChange& change) = 0;
  virtual Result<bool> delete_registration(Function function, std::string_view id) = 0;

  // Insert or replace by id.
  virtual Result<void> put_master_credential(const MasterCredential& credential) = 0;
  virtual Result<std::optional<MasterCredential>> find_master_credential(std::string_view id) = 0;

  virtual Result<void> add_key_registration(const KeyRegistration& registration) = 0;  // conflict: id taken
  virtual Result<std::optional<KeyRegistration>> find_key_registration(Function function,
                                                                       std::string_view relative_key_id) = 0;
  virtual Result<bool> update_key_registration(Function function, std::string_view relative_key_id,
                                               const KeyRegistrationChange& change) = 0;
  virtual Result<bool> delete_key_registration(Function function, std::string_view relative_key_id) = 0;

  // Appends a command to the client's queue (sequence assigned here, increasing across the database);
  // conflict: the client already has a command with this cmd_id.
  virtual Result<void> add_command(const Command& command) = 0;
  // The first command of the client that is not kReported, if any.
  virtual Result<std::optional<Command>> current_command(std::string_view client_id) = 0;
  // Sets state (and status) of a command; status_code nullopt keeps the recorded status. False when there is
  // no such command.
  virtual Result<bool> set_command_state(std::string_view client_id, std::string_view cmd_id, Command::State state,
                                         std::optional<std::uint32_t> status_code) = 0;

  // Replay protection for requests that change state: records (originator, request identifier) until
  // `expires`; false when the pair is already recorded (a replay). Pairs past their expiry (expires <= now)
  // are purged first.
  virtual Result<bool> remember_request(std::string_view originator, std::string_view request_id, Time expires,
                                        Time now) = 0;

  // CSE resources: insert or replace by ri; delete a set (a subtree) in one transaction; all of them.
  virtual Result<void> put_resource(const CseResource& resource) = 0;
  virtual Result<void> delete_resources(std::span<const std::string> ris) = 0;
  virtual Result<std::vector<CseResource>> load_resources() = 0;

  // Conflict when this ID_2 is recorded already.
  virtual Result<void> add_ibc_identity(const IbcIdentityRecord& record) = 0;
  virtual Result<std::optional<IbcIdentityRecord>> find_ibc_identity(std::string_view id2) = 0;

  // A cheap round trip to the database (/health).
  virtual Result<void> ping() = 0;
  // "sqlite" or "postgresql" (/metrics labels, logs).
  virtual std::string_view backend() const = 0;
};

// Opens (creating it when absent) the SQLite database at `path` in WAL mode with synchronous=FULL, and
// migrates its schema to the current version. Refuses a database whose schema is newer than this build's.
Result<std::unique_ptr<Store>> open_sqlite(const std::string& path, Kek kek);
// Connects to PostgreSQL (a libpq connection string, "host=127.0.0.1 port=5433 dbname=m2msec user=m2msec",
// or a postgresql:// URI) and migrates the schema (under an advisory lock, so replicas starting together
// migrate once). `connections` bounds the pool.
Result<std::unique_ptr<Store>> open_postgres(const std::string& conninfo, Kek kek, std::size_t connections = 4);

// The current schema version (the number of migrations); the schema_version table holds it.
int schema_version();

}  // namespace m2msec::store

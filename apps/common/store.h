// The store the server and `m2msec admin` share: --data-dir DIR (SQLite in DIR/m2msec.db, key-encryption key
// in DIR/kek) or --database CONNINFO (PostgreSQL; the key-encryption key from --kek-file, or DIR/kek when a
// data directory is given too). Replicas sharing one PostgreSQL database must share the key file.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "args.h"
#include "m2msec/core/result.h"
#include "m2msec/store/store.h"

namespace m2msec::cli {

// The option names open_store reads.
inline const std::vector<std::string_view> kStoreOptions{"data-dir", "database", "kek-file"};

// Creates the data directory (mode 0700) when it does not exist.
Result<std::shared_ptr<store::Store>> open_store(const Options& opts);

}  // namespace m2msec::cli

#include "store.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "m2msec/core/text.h"

namespace m2msec::cli {

Result<std::shared_ptr<store::Store>> open_store(const Options& opts) {
  const auto data_dir = opts.get("data-dir");
  const auto database = opts.get("database");
  if (!data_dir && !database) return Error::usage("give --data-dir DIR (SQLite) or --database CONNINFO (PostgreSQL)");
  if (data_dir && ::mkdir(std::string(*data_dir).c_str(), 0700) != 0 && errno != EEXIST) {
    return Error::usage(concat({"cannot create ", *data_dir, ": ", std::strerror(errno)}));
  }
  std::string kek_path;
  if (const auto kek_file = opts.get("kek-file")) {
    kek_path = std::string(*kek_file);
  } else if (data_dir) {
    kek_path = concat({*data_dir, "/kek"});
  } else {
    return Error::usage("--database needs --kek-file (or --data-dir for DIR/kek)");
  }
  M2MSEC_ASSIGN_OR_RETURN(store::Kek kek, store::Kek::load_or_create(kek_path));
  std::unique_ptr<store::Store> opened;
  if (database) {
    M2MSEC_ASSIGN_OR_RETURN(opened, store::open_postgres(std::string(*database), std::move(kek)));
  } else {
    M2MSEC_ASSIGN_OR_RETURN(opened, store::open_sqlite(concat({*data_dir, "/m2msec.db"}), std::move(kek)));
  }
  return std::shared_ptr<store::Store>(std::move(opened));
}

}  // namespace m2msec::cli

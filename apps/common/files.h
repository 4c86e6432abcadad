// Whole-file reads and writes for the CLI and the server, with errors a user can act on.
#pragma once

#include <string>
#include <string_view>

#include "m2msec/core/result.h"

namespace m2msec::cli {

// The file's content; kUsage when it cannot be read.
Result<std::string> read_file(std::string_view path);
// Writes a new file; a secret (a private key) is readable by its owner only and never replaces an
// existing file.
Result<void> write_file(std::string_view path, std::string_view text, bool secret = false);

}  // namespace m2msec::cli

// Helpers for tests that use a command-line program (openssl, gnutls-cli, ...) as an independent oracle:
// a private temporary directory and a shell runner that logs into it.
#pragma once

#include <filesystem>
#include <string>

#include "m2msec/core/bytes.h"

namespace m2msec::test {

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "m2msec");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (m_path / name).string(); }

 private:
  std::filesystem::path m_path;
};

// Runs a shell command with its output appended to dir.file("log"); returns its exit status (-1 when it
// did not exit normally).
int run(const TempDir& dir, const std::string& cmd);

// Writes the octets to a file (replacing it).
void write_file(const std::string& path, ByteView data);

// The whole content of a file (empty when it cannot be read).
std::string read_file(const std::string& path);

}  // namespace m2msec::test

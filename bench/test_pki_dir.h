// The throwaway test PKI a benchmark uses: tests/support/testpki.py (the openssl CLI) writes it into a
// fresh directory under /tmp at start-up; nothing is checked in.
#pragma once

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#ifndef M2MSEC_SOURCE_DIR
#error "M2MSEC_SOURCE_DIR must name the source tree (for tests/support/testpki.py)"
#endif

namespace m2msec::bench {

// The directory holding the PKI, or nullopt (with a message on stderr) when the generator failed.
inline std::optional<std::filesystem::path> make_test_pki(const char* program) {
  std::string pattern = std::string("/tmp/m2msec-") + program + "-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return std::nullopt;
  const std::string command = std::string("python3 '") + M2MSEC_SOURCE_DIR + "/tests/support/testpki.py' '" +
                              pattern + "' > /dev/null";
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "%s: %s failed\n", program, command.c_str());
    return std::nullopt;
  }
  return std::filesystem::path(pattern);
}

}  // namespace m2msec::bench

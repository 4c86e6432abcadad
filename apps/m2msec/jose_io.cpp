#include "jose_io.h"

#include <iostream>

#include "files.h"
#include "m2msec/jose/serialization.h"

namespace m2msec::cli {

Result<std::vector<jose::Jwk>> read_keys(std::string_view path) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string text, read_file(path));
  auto set = jose::JwkSet::parse(text);
  if (!set) return Error::usage(std::string(path) + ": " + set.error().detail());
  return std::move(set->keys);
}

Result<std::string> read_stdin() {
  std::string input;
  char buffer[65536];
  while (std::cin.read(buffer, sizeof buffer) || std::cin.gcount() > 0) {
    input.append(buffer, static_cast<std::size_t>(std::cin.gcount()));
    if (input.size() > jose::kMaxObjectSize) return Error::usage("input larger than 16 MiB");
  }
  return input;
}

Result<std::string> read_object() {
  M2MSEC_ASSIGN_OR_RETURN(std::string text, read_stdin());
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return Error::usage("no input on stdin");
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

void write_payload(ByteView payload) {
  std::cout.write(reinterpret_cast<const char*>(payload.data()), static_cast<std::streamsize>(payload.size()));
  std::cout.flush();
}

void write_object(std::string_view text) { std::cout << text << '\n' << std::flush; }

}  // namespace m2msec::cli

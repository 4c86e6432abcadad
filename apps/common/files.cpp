#include "files.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

namespace m2msec::cli {

Result<std::string> read_file(std::string_view path) {
  std::ifstream in{std::string(path), std::ios::binary};
  if (!in) return Error::usage("cannot read " + std::string(path));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Result<void> write_file(std::string_view path, std::string_view text, bool secret) {
  const int flags = O_WRONLY | O_CREAT | (secret ? O_EXCL : O_TRUNC);
  const int fd = ::open(std::string(path).c_str(), flags, secret ? 0600 : 0644);
  if (fd < 0) return Error::usage("cannot create " + std::string(path) + (secret ? " (it must not exist yet)" : ""));
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok) return Error(Category::kIo, "cannot write " + std::string(path));
  return {};
}

}  // namespace m2msec::cli

#include "oracle.h"

#include <stdlib.h>
#include <sys/wait.h>

#include <fstream>
#include <iterator>

#include "m2msec/core/result.h"

namespace m2msec::test {

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  M2MSEC_CHECK(mkdtemp(tmpl.data()) != nullptr);
  m_path = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(m_path, ec);
}

int run(const TempDir& dir, const std::string& cmd) {
  const int status = std::system((cmd + " >>" + dir.file("log") + " 2>&1").c_str());
  return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void write_file(const std::string& path, ByteView data) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace m2msec::test

#include "vectors.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "m2msec/core/encoding.h"

namespace m2msec::test {
namespace {
std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}
}  // namespace

const std::string& Vector::text(const std::string& name) const {
  static const std::string kEmpty;
  auto it = fields.find(name);
  if (it == fields.end()) {
    ADD_FAILURE() << where() << ": missing field " << name;
    return kEmpty;
  }
  return it->second;
}

Bytes Vector::hex(const std::string& name) const {
  auto decoded = hex_decode(text(name));
  if (!decoded) {
    ADD_FAILURE() << where() << ": field " << name << " is not hex: " << decoded.error().to_string();
    return {};
  }
  return std::move(decoded).value();
}

std::filesystem::path vector_path(const std::string& name) {
  return std::filesystem::path(M2MSEC_SOURCE_DIR) / "tests" / "vectors" / name;
}

int for_each_vector(const std::string& name, const std::function<void(const Vector&)>& fn) {
  std::ifstream in(vector_path(name));
  if (!in) {
    ADD_FAILURE() << "cannot open vector file " << vector_path(name);
    return 0;
  }
  int count = 0;
  int lineno = 0;
  std::string section;
  Vector current;
  auto flush = [&] {
    if (current.fields.empty()) return;
    current.section = section;
    SCOPED_TRACE(current.where());
    fn(current);
    ++count;
    current = Vector{};
  };
  std::string line;
  while (std::getline(in, line)) {
    ++lineno;
    const std::string t = trim(line);
    if (t.empty()) {
      flush();
      continue;
    }
    if (t[0] == '#') continue;
    if (t.front() == '[' && t.back() == ']') {
      flush();
      section = t.substr(1, t.size() - 2);
      continue;
    }
    const auto eq = t.find('=');
    if (eq == std::string::npos) {
      ADD_FAILURE() << name << ":" << lineno << ": expected 'Name = Value'";
      continue;
    }
    if (current.fields.empty()) {
      current.file = name;
      current.line = lineno;
    }
    current.fields[trim(t.substr(0, eq))] = trim(t.substr(eq + 1));
  }
  flush();
  EXPECT_GT(count, 0) << "no vectors in " << name;
  return count;
}

}  // namespace m2msec::test

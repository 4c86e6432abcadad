// Reader for known-answer vector files (tests/vectors/*.vec).
//
// Format: '#' starts a comment line; "[Section]" starts a section; "Name = Value" sets a field; a blank
// line ends a vector. Each vector is handed to the callback with its section and fields. The header
// comment of each file names where its values come from (an RFC, NIST, or an independent program).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "m2msec/core/bytes.h"

namespace m2msec::test {

struct Vector {
  std::string file;
  int line = 0;  // line of the vector's first field
  std::string section;
  std::map<std::string, std::string> fields;

  // The field's text; fails the current test (and returns "") when the field is missing.
  const std::string& text(const std::string& name) const;
  bool has(const std::string& name) const { return fields.count(name) != 0; }
  // The field decoded from hex (empty string = empty bytes).
  Bytes hex(const std::string& name) const;
  std::string where() const { return file + ":" + std::to_string(line); }
};

// Absolute path of a file under tests/vectors/.
std::filesystem::path vector_path(const std::string& name);

// Calls fn for every vector in the file and returns how many there were (0 fails the test: a vector
// file that yields nothing must never pass silently).
int for_each_vector(const std::string& name, const std::function<void(const Vector&)>& fn);

}  // namespace m2msec::test

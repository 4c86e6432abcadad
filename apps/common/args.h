// A strict option parser for the CLI: "--name value" options and bare "--flag" switches; unknown, repeated
// or value-less options are errors.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/result.h"

namespace m2msec::cli {

class Options {
 public:
  // Parses args (after the sub-command words) accepting only the given option names and flag names
  // (without "--").
  static Result<Options> parse(const std::vector<std::string_view>& args, std::initializer_list<std::string_view> allowed,
                               std::initializer_list<std::string_view> flags = {});

  std::optional<std::string_view> get(std::string_view name) const;
  // The option's value, or a usage error naming the missing option.
  Result<std::string_view> required(std::string_view name) const;
  // Whether the switch was given.
  bool flag(std::string_view name) const { return m_flags.count(name) != 0; }

 private:
  std::map<std::string, std::string, std::less<>> m_values;
  std::set<std::string, std::less<>> m_flags;
};

}  // namespace m2msec::cli

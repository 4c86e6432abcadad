// A strict option parser for the CLI and the server: "--name value" options and bare "--flag" switches; unknown, repeated
// or value-less options are errors.
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "m2msec/core/result.h"

namespace m2msec::cli {

class Options {
 public:
  // Parses args (after the sub-command words) accepting only the given option names and flag names
  // (without "--"), and, when positional is true, other arguments (which then cannot start with "--").
  static Result<Options> parse(const std::vector<std::string_view>& args, const std::vector<std::string_view>& allowed,
                               const std::vector<std::string_view>& flags = {}, bool positional = false);

  std::optional<std::string_view> get(std::string_view name) const;
  // The option's value, or a usage error naming the missing option.
  Result<std::string_view> required(std::string_view name) const;
  // A positive number, or fallback when the option is absent.
  Result<std::size_t> number(std::string_view name, std::size_t fallback) const;
  // Whether the switch was given.
  bool flag(std::string_view name) const { return m_flags.count(name) != 0; }
  const std::vector<std::string>& positional() const { return m_positional; }

 private:
  std::map<std::string, std::string, std::less<>> m_values;
  std::set<std::string, std::less<>> m_flags;
  std::vector<std::string> m_positional;
};

// The items of a comma-separated option value ("a,b"), empty items left out.
std::vector<std::string> comma_list(std::string_view text);

// A command's sub-commands: runs the one named by args[0] with the arguments after it, or explains which
// exist ("cert: expected request, enroll, verify or ni").
using SubCommand = std::function<Result<void>(const std::vector<std::string_view>& args)>;
Result<void> dispatch(std::string_view command, const std::vector<std::string_view>& args,
                      std::initializer_list<std::pair<std::string_view, SubCommand>> sub_commands);

}  // namespace m2msec::cli

#include "args.h"

#include <algorithm>
#include <charconv>

namespace m2msec::cli {

Result<Options> Options::parse(const std::vector<std::string_view>& args, const std::vector<std::string_view>& allowed,
                              const std::vector<std::string_view>& flags, bool positional) {
  Options out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg.size() < 3 || arg.substr(0, 2) != "--") {
      if (!positional) return Error::usage("unexpected argument '" + std::string(arg) + "'");
      out.m_positional.emplace_back(arg);
      continue;
    }
    const std::string_view name = arg.substr(2);
    if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
      if (!out.m_flags.emplace(name).second) return Error::usage("option --" + std::string(name) + " given twice");
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return Error::usage("unknown option --" + std::string(name));
    }
    if (i + 1 >= args.size()) return Error::usage("option --" + std::string(name) + " needs a value");
    if (!out.m_values.emplace(std::string(name), std::string(args[++i])).second) {
      return Error::usage("option --" + std::string(name) + " given twice");
    }
  }
  return out;
}

std::optional<std::string_view> Options::get(std::string_view name) const {
  auto it = m_values.find(name);
  if (it == m_values.end()) return std::nullopt;
  return it->second;
}

Result<std::string_view> Options::required(std::string_view name) const {
  auto v = get(name);
  if (!v) return Error::usage("missing option --" + std::string(name));
  return *v;
}

Result<std::size_t> Options::number(std::string_view name, std::size_t fallback) const {
  const auto text = get(name);
  if (!text) return fallback;
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size() || value == 0) {
    return Error::usage("--" + std::string(name) + " must be a positive number");
  }
  return value;
}

Result<void> dispatch(std::string_view command, const std::vector<std::string_view>& args,
                      std::initializer_list<std::pair<std::string_view, SubCommand>> sub_commands) {
  if (!args.empty()) {
    for (const auto& [name, run] : sub_commands) {
      if (args[0] == name) return run(std::vector<std::string_view>(args.begin() + 1, args.end()));
    }
  }
  std::string names;
  std::size_t i = 0;
  for (const auto& entry : sub_commands) {
    names.append(i == 0 ? "" : i + 1 == sub_commands.size() ? " or " : ", ").append(entry.first);
    ++i;
  }
  std::string what(command);
  what.append(args.empty() ? ": expected " : ": unknown sub-command '");
  if (!args.empty()) what.append(args[0]).append("' (expected ");
  what.append(names);
  if (!args.empty()) what.append(")");
  return Error::usage(what);
}

std::vector<std::string> comma_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const std::string_view item = text.substr(0, text.find(','));
    if (!item.empty()) out.emplace_back(item);
    text.remove_prefix(std::min(text.size(), item.size() + 1));
  }
  return out;
}

}  // namespace m2msec::cli

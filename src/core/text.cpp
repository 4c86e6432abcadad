#include "m2msec/core/text.h"

#include <charconv>

namespace m2msec {

std::string concat(std::initializer_list<std::string_view> parts) {
  std::size_t size = 0;
  for (std::string_view p : parts) size += p.size();
  std::string out;
  out.reserve(size);
  for (std::string_view p : parts) out.append(p);
  return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t from = 0;;) {
    const auto at = text.find(separator, from);
    parts.push_back(text.substr(from, at == std::string_view::npos ? std::string_view::npos : at - from));
    if (at == std::string_view::npos) return parts;
    from = at + 1;
  }
}

std::optional<std::uint64_t> decimal_in(std::string_view text, std::uint64_t min, std::uint64_t max) {
  if (text.empty() || (text.front() == '0' && text.size() > 1)) return std::nullopt;
  std::uint64_t value = 0;
  const char* const end = text.data() + text.size();
  // For an unsigned type from_chars takes digits only (no '+', no '-', no space).
  const auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || stop != end || value < min || value > max) return std::nullopt;
  return value;
}

}  // namespace m2msec

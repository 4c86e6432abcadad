// Building strings from pieces, and taking simple ones apart.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace m2msec {

// The pieces one after the other, in a string sized once. (Also the way around GCC 12's false -Wrestrict
// warnings at -O3 on chains of `"literal" + std::string`.)
std::string concat(std::initializer_list<std::string_view> parts);

// `text` cut at each `separator`, empty pieces kept: "a,,b" -> {"a", "", "b"}, "" -> {""}, "a," -> {"a", ""}.
// The pieces view `text`.
std::vector<std::string_view> split(std::string_view text, char separator);

// `text` as a decimal number within [min, max]: ASCII digits only (no sign, no space), and no leading zero
// ("0" itself is one). nullopt for anything else, an empty text, or a value outside the range.
std::optional<std::uint64_t> decimal_in(std::string_view text, std::uint64_t min, std::uint64_t max);

}  // namespace m2msec

// Building strings from pieces.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace m2msec {

// The pieces one after the other, in a string sized once. (Also the way around GCC 12's false -Wrestrict
// warnings at -O3 on chains of `"literal" + std::string`.)
std::string concat(std::initializer_list<std::string_view> parts);

}  // namespace m2msec

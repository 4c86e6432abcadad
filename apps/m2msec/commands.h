// The CLI's sub-commands. Each returns an Error for the caller to print as one line on stderr.
#pragma once

#include <string_view>
#include <vector>

#include "m2msec/core/result.h"

namespace m2msec::cli {

Result<void> run_derive(const std::vector<std::string_view>& args);
Result<void> run_algorithms(const std::vector<std::string_view>& args);
Result<void> run_saef(const std::vector<std::string_view>& args);
Result<void> run_cert(const std::vector<std::string_view>& args);
Result<void> run_jose(const std::vector<std::string_view>& args);
Result<void> run_esdata(const std::vector<std::string_view>& args);
Result<void> run_token(const std::vector<std::string_view>& args);
Result<void> run_enrol(const std::vector<std::string_view>& args);
Result<void> run_maf(const std::vector<std::string_view>& args);
Result<void> run_admin(const std::vector<std::string_view>& args);
Result<void> run_acp(const std::vector<std::string_view>& args);
Result<void> run_ibc(const std::vector<std::string_view>& args);

}  // namespace m2msec::cli

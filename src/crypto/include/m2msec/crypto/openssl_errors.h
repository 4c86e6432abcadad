// OpenSSL's thread-local error queue as log text, for every module that calls OpenSSL (crypto, pki, tls).
#pragma once

#include <string>
#include <string_view>

namespace m2msec::crypto {

// "<what>: <each queued OpenSSL error, '; '-separated>", or just <what> when the queue is empty. Drains the
// queue, so that the errors of one operation never leak into the next. For Error details (logs) only.
std::string with_openssl_errors(std::string_view what);

}  // namespace m2msec::crypto

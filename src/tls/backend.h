// Internal: the backends behind tls::Context. Context::create (context.cpp) checks the config against
// its profile, then hands it to the backend that can honour it.
#pragma once

#include <memory>

#include "m2msec/tls/session.h"

namespace m2msec::tls::detail {

// PSK and certificate profiles (openssl_*.cpp).
Result<std::shared_ptr<Context>> make_openssl_context(Config config);
// Raw-public-key profiles (gnutls_*.cpp).
Result<std::shared_ptr<Context>> make_gnutls_context(Config config);

// TLS alert descriptions (RFC 8446 6.2), for error texts.
std::string_view alert_name(std::uint8_t alert);
// Whether a fatal alert reports an authentication failure (Category::kAuth) rather than a protocol one.
// One table for both backends, so that a refusal is classified alike whichever backend saw it.
bool is_authentication_alert(std::uint8_t alert);

// accept_datagram: whether to read another datagram. Always on a blocking socket (the read waits for one); on a
// non-blocking one, only when one is queued.
bool more_datagrams(int fd);

}  // namespace m2msec::tls::detail

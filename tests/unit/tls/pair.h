// Runs one security association between two of our own endpoints over a socketpair (stream for TLS,
// datagram for DTLS), the server in a thread, and reports what each side saw.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <csignal>

#include <array>
#include <chrono>
#include <future>
#include <string>

#include "m2msec/tls/session.h"

namespace m2msec::tls::test {

struct Side {
  std::optional<Error> error;  // set when the handshake failed
  AuthenticatedPeer peer{};
  std::string cipher;
  Bytes exported;  // EXPORTER-oneM2M-Bootstrap, 48 octets
  std::string echoed;
};

struct PairOutcome {
  Side client;
  Side server;
};

inline Side run_side(const Context& context, int fd, bool is_client) {
  Side side;
  auto session = context.session(fd);
  if (!session) {
    side.error = session.error();
    return side;
  }
  auto progress = (*session)->handshake();
  if (!progress) {
    side.error = progress.error();
    return side;
  }
  side.peer = (*session)->peer();
  side.cipher = (*session)->cipher_suite();
  if (auto out = (*session)->export_keying_material("EXPORTER-oneM2M-Bootstrap", 48)) {
    side.exported.assign(out->view().begin(), out->view().end());
  }
  // One application-data round trip proves the record layer works with the negotiated keys.
  // In TLS 1.3 a client finishes before the server has judged its certificate: a refusal then arrives
  // here, and the association counts as refused (its exported keys are dropped).
  std::array<std::uint8_t, 64> buffer{};
  Result<std::size_t> got = std::size_t{0};
  if (is_client) {
    if (auto sent = (*session)->write(as_bytes("ping")); !sent) got = std::move(sent).error();
    else got = (*session)->read(buffer);
    if (got) side.echoed.assign(reinterpret_cast<const char*>(buffer.data()), *got);
  } else if (got = (*session)->read(buffer); got && *got > 0) {
    (void)(*session)->write(ByteView(buffer.data(), *got));
  }
  if (!got) {
    side.error = got.error();
    side.exported.clear();
  }
  (*session)->close();
  return side;
}

// Contexts are created by the caller (so that Context::create failures are tested separately).
inline PairOutcome run_pair(const Context& client, const Context& server) {
  // A write to a closed peer must be an error here, not a signal (as in the CLI).
  ::signal(SIGPIPE, SIG_IGN);
  const bool dtls = client.config().profile->transport == Transport::kDtls;
  int fds[2];
  if (::socketpair(AF_UNIX, dtls ? SOCK_DGRAM : SOCK_STREAM, 0, fds) != 0) return {};
  const timeval tv{10, 0};
  for (const int fd : fds) {
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  auto server_side = std::async(std::launch::async, [&] { return run_side(server, fds[1], false); });
  PairOutcome out;
  out.client = run_side(client, fds[0], true);
  // A server still waiting for a client that gave up without a word is released by closing the client's
  // end (not at once: the server must first read what the client sent, an alert say).
  if (server_side.wait_for(std::chrono::seconds(3)) != std::future_status::ready) ::shutdown(fds[0], SHUT_RDWR);
  out.server = server_side.get();
  ::close(fds[0]);
  ::close(fds[1]);
  return out;
}

}  // namespace m2msec::tls::test

// `m2msec saef serve|connect`: security associations (TS-0003 V3.18.0 clause 8.2) for operators and for
// interop tests. Each association prints `peer=`, `cipher=` and, when asked, `export=` lines; a failed
// handshake prints `error=<category> alert=<n|none>` (the detail goes to stderr).
#include <sys/socket.h>
#include <sys/time.h>

#include <iostream>
#include <iterator>

#include "args.h"
#include "commands.h"
#include "credentials.h"
#include "m2msec/core/encoding.h"
#include "m2msec/tls/net.h"
#include "m2msec/tls/session.h"

namespace m2msec::cli {
namespace {

const std::vector<std::string_view> kValueOptions = credential_options({"listen", "connect", "export", "export-len", "count"});
const std::vector<std::string_view> kFlags = credential_flags({});
// A peer that stops talking does not hold the CLI forever.
constexpr int kSocketTimeoutSeconds = 30;
// Application data is sent in pieces that fit one (D)TLS record and one datagram.
constexpr std::size_t kChunk = 1024;

void set_timeout(int fd) {
  const timeval tv{kSocketTimeoutSeconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void print_failure(const Error& error) {
  const auto alert = error.tls_alert();
  std::cout << "error=" << category_name(error.category()) << " alert=" << (alert ? std::to_string(*alert) : "none")
            << std::endl;
}

// Handshakes and prints the association's three lines.
Result<void> establish(tls::Session& session, const Options& opts) {
  M2MSEC_ASSIGN_OR_RETURN(const tls::Progress progress, session.handshake());
  if (progress != tls::Progress::kDone) return Error(Category::kIo, "handshake did not complete");
  std::cout << "peer=" << session.peer().identity << '\n' << "cipher=" << session.cipher_suite() << std::endl;
  if (const auto label = opts.get("export")) {
    M2MSEC_ASSIGN_OR_RETURN(const std::size_t length, opts.number("export-len", 48));
    M2MSEC_ASSIGN_OR_RETURN(const SecretBytes exported, session.export_keying_material(*label, length));
    std::cout << "export=" << hex_encode(exported.view()) << std::endl;
  }
  return {};
}

Result<void> echo(tls::Session& session) {
  std::array<std::uint8_t, 16384> buffer{};
  for (;;) {
    auto got = session.read(buffer);
    // The echo ends when the peer closes, with close_notify (0 octets) or by dropping the transport.
    if (!got && got.error().category() == Category::kIo) return {};
    M2MSEC_TRY(got);
    if (*got == 0) return {};
    M2MSEC_TRY(session.write(ByteView(buffer.data(), *got)));
  }
}

Result<std::unique_ptr<tls::Session>> next_session(const tls::Context& context, const tls::net::Socket& listener,
                                                   tls::net::Socket& connection) {
  if (context.config().profile->transport == tls::Transport::kDtls) return context.accept_datagram(listener.fd());
  M2MSEC_ASSIGN_OR_RETURN(connection, tls::net::accept(listener.fd()));
  set_timeout(connection.fd());
  return context.session(connection.fd());
}

Result<void> serve(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, kValueOptions, kFlags));
  M2MSEC_ASSIGN_OR_RETURN(const std::size_t count, opts.number("count", 1));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view listen_text, opts.required("listen"));
  M2MSEC_ASSIGN_OR_RETURN(const tls::net::Endpoint at, tls::net::Endpoint::parse(listen_text));
  M2MSEC_ASSIGN_OR_RETURN(tls::Config config, tls_config_from(opts, tls::Role::kServer));
  M2MSEC_ASSIGN_OR_RETURN(const auto context, tls::Context::create(std::move(config)));
  const bool dtls = context->config().profile->transport == tls::Transport::kDtls;
  M2MSEC_ASSIGN_OR_RETURN(const tls::net::Socket listener, tls::net::listen(at, dtls));
  M2MSEC_ASSIGN_OR_RETURN(const std::uint16_t port, tls::net::local_port(listener.fd()));
  std::cout << "listening=" << port << std::endl;

  std::size_t failed = 0;
  for (std::size_t i = 0; i < count; ++i) {
    tls::net::Socket connection;
    auto session = next_session(*context, listener, connection);
    Result<void> outcome = session ? establish(**session, opts) : Result<void>(std::move(session).error());
    if (outcome) outcome = echo(**session);
    if (session && outcome) (*session)->close();
    if (dtls) (void)tls::net::disconnect(listener.fd());
    if (!outcome) {
      tls::net::drain_and_close(connection);
      ++failed;
      print_failure(outcome.error());
      std::cerr << "m2msec: association " << i + 1 << ": " << outcome.error().to_string() << std::endl;
    }
  }
  if (failed != 0) return Error(Category::kAuth, std::to_string(failed) + " of " + std::to_string(count) + " associations failed");
  return {};
}

Result<void> connect(const std::vector<std::string_view>& args) {
  M2MSEC_ASSIGN_OR_RETURN(const Options opts, Options::parse(args, kValueOptions, kFlags));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view to_text, opts.required("connect"));
  M2MSEC_TRY(opts.required("sni"));
  M2MSEC_ASSIGN_OR_RETURN(const tls::net::Endpoint to, tls::net::Endpoint::parse(to_text));
  M2MSEC_ASSIGN_OR_RETURN(tls::Config config, tls_config_from(opts, tls::Role::kClient));
  M2MSEC_ASSIGN_OR_RETURN(const auto context, tls::Context::create(std::move(config)));
  M2MSEC_ASSIGN_OR_RETURN(tls::net::Socket socket,
                          tls::net::connect(to, context->config().profile->transport == tls::Transport::kDtls));
  set_timeout(socket.fd());
  M2MSEC_ASSIGN_OR_RETURN(const auto session, context->session(socket.fd()));
  if (auto established = establish(*session, opts); !established) {
    print_failure(established.error());
    tls::net::drain_and_close(socket);
    return std::move(established).error();
  }
  const std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  std::size_t echoed = 0;
  std::array<std::uint8_t, 16384> buffer{};
  for (std::size_t sent = 0; sent < input.size(); sent += kChunk) {
    const ByteView piece = as_bytes(std::string_view(input).substr(sent, kChunk));
    M2MSEC_TRY(session->write(piece));
    // One piece in flight at a time, so a datagram transport never overruns the peer.
    for (std::size_t want = echoed + piece.size(); echoed < want;) {
      M2MSEC_ASSIGN_OR_RETURN(const std::size_t got, session->read(buffer));
      if (got == 0) return Error(Category::kIo, "the peer closed before echoing everything");
      std::cout.write(reinterpret_cast<const char*>(buffer.data()), static_cast<std::streamsize>(got));
      echoed += got;
    }
  }
  std::cout.flush();
  session->close();
  return {};
}

}  // namespace

Result<void> run_saef(const std::vector<std::string_view>& args) {
  return dispatch("saef", args, {{"serve", serve}, {"connect", connect}});
}

}  // namespace m2msec::cli

// `m2msec saef serve|connect`: security associations (TS-0003 V3.18.0 clause 8.2) for operators and for
// interop tests. Each association prints `peer=`, `cipher=` and, when asked, `export=` lines; a failed
// handshake prints `error=<category> alert=<n|none>` (the detail goes to stderr).
#include <sys/socket.h>
#include <sys/time.h>

#include <charconv>
#include <iostream>
#include <iterator>

#include "args.h"
#include "commands.h"
#include "m2msec/core/encoding.h"
#include "m2msec/tls/net.h"
#include "m2msec/tls/session.h"

namespace m2msec::cli {
namespace {

const std::initializer_list<std::string_view> kValueOptions{
    "listen", "connect", "sni", "psk-identity", "psk", "psk-kind", "peer-id", "cert", "key", "ca", "crl",
    "peer-flavour", "peer-key-id", "export", "export-len", "count"};
const std::initializer_list<std::string_view> kFlags{"dtls", "tls1.3", "psk-ke", "rpk"};
// A peer that stops talking does not hold the CLI forever.
constexpr int kSocketTimeoutSeconds = 30;
// Application data is sent in pieces that fit one (D)TLS record and one datagram.
constexpr std::size_t kChunk = 1024;

Result<std::size_t> number_option(const Options& opts, std::string_view name, std::size_t fallback) {
  const auto text = opts.get(name);
  if (!text) return fallback;
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size() || value == 0) {
    return Error::usage("--" + std::string(name) + " must be a positive number");
  }
  return value;
}

Result<tls::CredentialKind> credential_kind(const Options& opts) {
  const int kinds = int{opts.get("psk-identity").has_value()} + int{opts.get("cert").has_value()} + int{opts.flag("rpk")};
  if (kinds != 1) return Error::usage("give exactly one credential: --psk-identity/--psk, --cert/--key/--ca or --rpk/--key");
  if (opts.get("psk-identity")) return tls::CredentialKind::kPsk;
  return opts.get("cert") ? tls::CredentialKind::kCertificate : tls::CredentialKind::kRawPublicKey;
}

Result<void> add_psk(const Options& opts, tls::Config& config) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view identity, opts.required("psk-identity"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view key_text, opts.required("psk"));
  M2MSEC_ASSIGN_OR_RETURN(SecretBytes key, hex_decode_secret(key_text));
  const auto kind = tls::psk_identity_kind_named(opts.get("psk-kind").value_or("kpsa"));
  if (!kind) return Error::usage("--psk-kind must be kpsa, maf, kpm or km");
  const std::string peer_id(opts.get("peer-id").value_or(""));
  if (config.role == tls::Role::kServer) {
    auto resolver = std::make_shared<tls::InMemoryPskResolver>(*kind);
    M2MSEC_TRY(resolver->add(identity, std::move(key), peer_id));
    config.psk_resolver = std::move(resolver);
  } else {
    M2MSEC_TRY(tls::canonical_psk_identity(*kind, identity));
    config.psk = tls::ClientPsk{std::string(identity), std::move(key)};
    config.peer_identity = peer_id;
  }
  return {};
}

Result<void> add_certificate(const Options& opts, tls::Config& config) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view chain, opts.required("cert"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view key, opts.required("key"));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view ca, opts.required("ca"));
  M2MSEC_ASSIGN_OR_RETURN(config.certificate, tls::CertificateCredential::load(std::string(chain), std::string(key)));
  M2MSEC_ASSIGN_OR_RETURN(pki::TrustStore trust,
                          pki::TrustStore::load(std::string(ca), std::string(opts.get("crl").value_or(""))));
  const auto flavour = pki::flavour_named(opts.get("peer-flavour").value_or("cse-id"));
  if (!flavour) return Error::usage("--peer-flavour must be device, node-id, cse-id, ae-id or fqdn");
  tls::PeerCertificatePolicy policy{std::move(trust), *flavour, std::nullopt};
  if (const auto peer_id = opts.get("peer-id")) {
    policy.expected_identifier = std::string(*peer_id);
    if (config.role == tls::Role::kClient) config.peer_identity = std::string(*peer_id);
  }
  config.peer_policy = std::move(policy);
  return {};
}

Result<void> add_raw_public_key(const Options& opts, tls::Config& config) {
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view key, opts.required("key"));
  M2MSEC_ASSIGN_OR_RETURN(pki::PrivateKey own, pki::PrivateKey::load_pem_file(std::string(key)));
  tls::RawPublicKeyCredential credential{std::move(own), std::nullopt};
  if (const auto id = opts.get("peer-key-id")) {
    M2MSEC_ASSIGN_OR_RETURN(credential.expected_peer, pki::PublicKeyId::parse(*id));
  }
  config.raw_public_key = std::move(credential);
  return {};
}

Result<tls::Config> config_from(const Options& opts, tls::Role role) {
  const bool dtls = opts.flag("dtls");
  const bool tls13 = opts.flag("tls1.3");
  if (dtls && tls13) return Error::unsupported("DTLS 1.3 is not available: no Debian 12 TLS library implements it");
  M2MSEC_ASSIGN_OR_RETURN(const tls::CredentialKind kind, credential_kind(opts));
  if (opts.flag("psk-ke") && !(tls13 && kind == tls::CredentialKind::kPsk)) {
    return Error::usage("--psk-ke applies to TLS 1.3 PSK associations only");
  }
  tls::Config config;
  config.role = role;
  config.profile = tls::select_profile(dtls ? tls::Transport::kDtls : tls::Transport::kTls,
                                       tls13 ? tls::Version::kTls13 : tls::Version::kTls12, kind, opts.flag("psk-ke"));
  if (role == tls::Role::kClient) config.server_name = std::string(opts.get("sni").value_or(""));
  switch (kind) {
    case tls::CredentialKind::kPsk: M2MSEC_TRY(add_psk(opts, config)); break;
    case tls::CredentialKind::kCertificate: M2MSEC_TRY(add_certificate(opts, config)); break;
    case tls::CredentialKind::kRawPublicKey: M2MSEC_TRY(add_raw_public_key(opts, config)); break;
  }
  return config;
}

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
    M2MSEC_ASSIGN_OR_RETURN(const std::size_t length, number_option(opts, "export-len", 48));
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
  M2MSEC_ASSIGN_OR_RETURN(const std::size_t count, number_option(opts, "count", 1));
  M2MSEC_ASSIGN_OR_RETURN(const std::string_view listen_text, opts.required("listen"));
  M2MSEC_ASSIGN_OR_RETURN(const tls::net::Endpoint at, tls::net::Endpoint::parse(listen_text));
  M2MSEC_ASSIGN_OR_RETURN(tls::Config config, config_from(opts, tls::Role::kServer));
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
  M2MSEC_ASSIGN_OR_RETURN(tls::Config config, config_from(opts, tls::Role::kClient));
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
  if (args.empty()) return Error::usage("saef needs 'serve' or 'connect'");
  const std::vector<std::string_view> rest(args.begin() + 1, args.end());
  if (args[0] == "serve") return serve(rest);
  if (args[0] == "connect") return connect(rest);
  return Error::usage("unknown saef command '" + std::string(args[0]) + "'");
}

}  // namespace m2msec::cli

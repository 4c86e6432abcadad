// What the MEF and MAF tests share: a real SQLite store in a temporary directory, a ManualClock, a real
// TLS-PSK association over a socketpair (both ends kept, so the server end is what a service sees and the
// client end gives the client's own view of the exported keying material), and request/response helpers.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "m2msec/core/bytes.h"
#include "m2msec/core/clock.h"
#include "m2msec/core/encoding.h"
#include "m2msec/core/secret.h"
#include "m2msec/core/timestamp.h"
#include "m2msec/crypto/random.h"
#include "m2msec/json/json.h"
#include "m2msec/keys/export.h"
#include "m2msec/keys/identifiers.h"
#include "m2msec/onem2m/primitive.h"
#include "m2msec/onem2m/resources.h"
#include "m2msec/store/kek.h"
#include "m2msec/store/store.h"
#include "m2msec/tls/credentials.h"
#include "m2msec/tls/profile.h"
#include "m2msec/tls/session.h"
#include "oracle.h"

namespace m2msec::services::test {

using onem2m::Operation;

inline constexpr std::string_view kMefFqdn = "mef.example.com";
inline constexpr std::string_view kMafFqdn = "maf.example.com";
inline constexpr std::string_view kAdmin = "admin.example.com";

inline Bytes bytes_of(ByteView view) { return Bytes(view.begin(), view.end()); }

inline keys::Fqdn fqdn(std::string_view text) { return std::move(keys::Fqdn::parse(text)).value(); }

// A key of 32 octets all `fill`.
inline SecretBytes key_of(std::uint8_t fill, std::size_t size = 32) {
  SecretBytes key(size);
  for (auto& b : key.writable()) b = fill;
  return key;
}

// A real SQLite store in a fresh temporary directory (a random KEK) and a clock that moves when told.
struct World {
  m2msec::test::TempDir dir{"m2msec-services"};
  std::shared_ptr<ManualClock> clock =
      std::make_shared<ManualClock>(std::chrono::sys_days(std::chrono::year(2030) / 1 / 1));
  std::shared_ptr<store::Store> store;

  World() {
    auto octets = crypto::random_bytes(crypto::system_rng(), 32);
    EXPECT_TRUE(octets);
    auto kek = store::Kek::from_bytes(SecretBytes::copy_of(*octets));
    EXPECT_TRUE(kek) << kek.error().to_string();
    auto opened = store::open_sqlite(dir.file("store.db"), std::move(*kek));
    EXPECT_TRUE(opened) << opened.error().to_string();
    if (opened) store = std::shared_ptr<store::Store>(std::move(*opened));
  }

  store::Time now() const { return std::chrono::time_point_cast<std::chrono::seconds>(clock->now()); }
  // m2m:timestamp of now + d.
  std::string at(std::chrono::seconds d) const { return std::move(format_m2m_timestamp(now() + d)).value(); }
};

// One TLS 1.2 PSK association over a socketpair, both ends handshaken (the server on another thread).
struct Association {
  std::shared_ptr<tls::Context> server_ctx;
  std::shared_ptr<tls::Context> client_ctx;
  int fds[2] = {-1, -1};
  std::unique_ptr<tls::Session> client;
  std::unique_ptr<tls::Session> server;

  Association() = default;
  Association(const Association&) = delete;
  Association& operator=(const Association&) = delete;
  ~Association() {
    client.reset();
    server.reset();
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  bool established() const { return client && server; }

  // The client's own export (its view, independent of anything the server stored).
  SecretBytes client_export(keys::ExportLabel label) const {
    auto out = client->export_keying_material(keys::exporter_label(label), keys::kExportLength);
    EXPECT_TRUE(out) << out.error().to_string();
    return out ? std::move(*out) : SecretBytes();
  }
};

inline const tls::SecurityProfile* psk_profile() {
  const tls::SecurityProfile* p = tls::find_profile("ts0003-tls12-psk");
  EXPECT_NE(p, nullptr);
  return p;
}

inline std::unique_ptr<Association> associate(std::shared_ptr<const tls::PskResolver> resolver, std::string identity,
                                              SecretBytes key, std::string server_name = std::string(kMefFqdn)) {
  ::signal(SIGPIPE, SIG_IGN);
  auto a = std::make_unique<Association>();
  tls::Config server;
  server.role = tls::Role::kServer;
  server.profile = psk_profile();
  server.psk_resolver = std::move(resolver);
  auto server_ctx = tls::Context::create(std::move(server));
  EXPECT_TRUE(server_ctx) << server_ctx.error().to_string();
  tls::Config client;
  client.role = tls::Role::kClient;
  client.profile = psk_profile();
  client.server_name = std::move(server_name);
  client.psk = tls::ClientPsk{std::move(identity), std::move(key)};
  auto client_ctx = tls::Context::create(std::move(client));
  EXPECT_TRUE(client_ctx) << client_ctx.error().to_string();
  if (!server_ctx || !client_ctx) return a;
  a->server_ctx = *server_ctx;
  a->client_ctx = *client_ctx;
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, a->fds), 0);
  // A safety net: an end that waits too long fails instead of hanging the test.
  for (int fd : a->fds) {
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  auto end = [](const std::shared_ptr<tls::Context>& ctx, int fd) -> std::unique_ptr<tls::Session> {
    auto s = ctx->session(fd);
    if (!s) return nullptr;
    auto hs = (*s)->handshake();
    if (!hs || *hs != tls::Progress::kDone) return nullptr;
    return std::move(*s);
  };
  auto server_end = std::async(std::launch::async, end, a->server_ctx, a->fds[1]);
  a->client = end(a->client_ctx, a->fds[0]);
  if (!a->client) ::shutdown(a->fds[0], SHUT_RDWR);
  a->server = server_end.get();
  return a;
}

// ---- requests and responses ----

inline std::string next_rqi() {
  static std::atomic<int> counter{0};
  return "rq-" + std::to_string(++counter);
}

inline onem2m::Request request(Operation op, std::string to, std::string fr,
                               std::optional<json::Value> pc = std::nullopt,
                               std::optional<std::uint32_t> ty = std::nullopt) {
  onem2m::Request r;
  r.op = op;
  r.to = std::move(to);
  r.fr = std::move(fr);
  r.rqi = next_rqi();
  r.ty = ty;
  r.pc = std::move(pc);
  return r;
}

inline onem2m::Request create(std::string to, std::string fr, onem2m::ResourceType type, json::Object attributes) {
  return request(Operation::kCreate, std::move(to), std::move(fr), onem2m::wrap(type, std::move(attributes)),
                 static_cast<std::uint32_t>(type));
}

inline onem2m::Request update(std::string to, std::string fr, onem2m::ResourceType type, json::Object attributes) {
  return request(Operation::kUpdate, std::move(to), std::move(fr), onem2m::wrap(type, std::move(attributes)));
}

inline int code(const onem2m::Response& r) { return static_cast<int>(r.rsc); }

inline std::string dump(const onem2m::Response& r) {
  return std::to_string(code(r)) + " " + (r.pc ? json::serialize(*r.pc) : std::string("(no content)"));
}

// A member of the response's representation {"<root>": {...}} (nullptr when absent).
inline const json::Value* member(const onem2m::Response& r, std::string_view root, std::string_view name) {
  if (!r.pc) return nullptr;
  const json::Value* inner = r.pc->find(root);
  return inner ? inner->find(name) : nullptr;
}

inline std::string text(const onem2m::Response& r, std::string_view root, std::string_view name) {
  const json::Value* v = member(r, root, name);
  return v && v->string() ? *v->string() : std::string();
}

inline std::optional<std::int64_t> number(const onem2m::Response& r, std::string_view root, std::string_view name) {
  const json::Value* v = member(r, root, name);
  return v ? v->integer() : std::nullopt;
}

inline std::string dbg(const onem2m::Response& r) {
  const json::Value* v = r.pc ? r.pc->find("m2m:dbg") : nullptr;
  return v && v->string() ? *v->string() : std::string();
}

inline json::Array strings(std::initializer_list<std::string_view> items) {
  json::Array out;
  for (auto item : items) out.emplace_back(item);
  return out;
}

}  // namespace m2msec::services::test

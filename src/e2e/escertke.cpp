// ESCertKE (TS-0003 V3.18.0 clause 8.7) on the tls module's engine: each end-point runs its Session over
// one end of a private non-blocking socketpair; what the engine writes is read from the other end and
// becomes the next ESCertKE message, and a received message is written into the other end before the
// handshake is resumed. The framing is described in escertke.h.
#include "m2msec/e2e/escertke.h"

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include "m2msec/core/encoding.h"
#include "m2msec/json/json.h"
#include "m2msec/keys/export.h"
#include "m2msec/keys/identifiers.h"
#include "m2msec/tls/net.h"
#include "m2msec/tls/profile.h"

namespace m2msec::e2e {
namespace {

// TLS 1.2 record layer (RFC 5246 6.2.1): type, version (major 3), 16-bit length; a ciphertext fragment is
// at most 2^14 + 2048 octets.
constexpr std::size_t kRecordHeader = 5;
constexpr std::size_t kMaxRecordFragment = (1u << 14) + 2048;
constexpr std::uint8_t kChangeCipherSpec = 20;
constexpr std::uint8_t kAlert = 21;
constexpr std::uint8_t kHandshake = 22;
constexpr std::uint8_t kClientHello = 1;
// ClientHello: handshake type (1), length (3), client_version (2), then the 32-octet random.
constexpr std::size_t kClientRandomOffset = kRecordHeader + 1 + 3 + 2;
constexpr std::size_t kClientRandomSize = 32;
// The longest From kept in the table of pending exchanges.
constexpr std::size_t kMaxFromLength = 2048;

Error protocol_error(std::string detail) { return {Category::kProtocol, Rsc::kBadRequest, std::move(detail)}; }

// The same failure, its detail prefixed with where it happened.
Error annotated(const Error& e, std::string_view where) {
  std::string detail = std::string(where) + ": " + e.detail();
  Error out = e.rsc() ? Error(e.category(), *e.rsc(), std::move(detail)) : Error(e.category(), std::move(detail));
  return e.tls_alert() ? std::move(out).with_tls_alert(*e.tls_alert()) : out;
}

Result<void> check_size(ByteView message, std::string_view name) {
  if (message.empty()) return protocol_error(std::string(name) + " is empty");
  if (message.size() > kMaxMessageSize) {
    return protocol_error(std::string(name) + " has " + std::to_string(message.size()) + " octets, more than the " +
                          std::to_string(kMaxMessageSize) + " allowed");
  }
  return {};
}

// A received message must be a whole number of TLS records of the handshake protocols (handshake,
// change_cipher_spec, alert): then the engine consumes all of it, and a flight cut short is seen as such.
Result<void> check_records(ByteView message, std::string_view name) {
  M2MSEC_TRY(check_size(message, name));
  std::size_t at = 0;
  while (at < message.size()) {
    if (message.size() - at < kRecordHeader) return protocol_error(std::string(name) + " ends inside a TLS record header");
    const std::uint8_t type = message[at];
    const std::size_t length = (std::size_t{message[at + 3]} << 8) | message[at + 4];
    if (type != kHandshake && type != kChangeCipherSpec && type != kAlert) {
      return protocol_error(std::string(name) + " carries a TLS record of content type " + std::to_string(type) +
                            ", not one of a handshake flight");
    }
    if (message[at + 1] != 3) return protocol_error(std::string(name) + " carries a record that is not TLS");
    if (length == 0 || length > kMaxRecordFragment) {
      return protocol_error(std::string(name) + " carries a TLS record of length " + std::to_string(length));
    }
    if (message.size() - at - kRecordHeader < length) return protocol_error(std::string(name) + " ends inside a TLS record");
    at += kRecordHeader + length;
  }
  return {};
}

bool starts_with_client_hello(ByteView message) {
  return message.size() > kRecordHeader && message[0] == kHandshake && message[kRecordHeader] == kClientHello;
}

using ClientRandom = std::array<std::uint8_t, kClientRandomSize>;

Result<ClientRandom> client_random(ByteView message) {
  if (!starts_with_client_hello(message) || message.size() < kClientRandomOffset + kClientRandomSize) {
    return protocol_error("ESCertKE message 1 is not a ClientHello");
  }
  ClientRandom out{};
  std::copy_n(message.begin() + kClientRandomOffset, kClientRandomSize, out.begin());
  return out;
}

bool is_escertke_profile(const tls::SecurityProfile& p) {
  //= TS-0003 V3.18.0 §8.7
  //# The ESCertKE messages carry a TLS v1.2 handshake with the ciphersuites of 10.2.3.
  return p.transport == tls::Transport::kTls && p.version == tls::Version::kTls12 &&
         p.credential == tls::CredentialKind::kCertificate;
}

Result<void> check_config(const tls::Config& c, tls::Role role) {
  if (c.role != role) {
    return Error::usage(role == tls::Role::kClient ? "the ESCertKE Initiator is the TLS client (role kClient)"
                                                   : "the ESCertKE Terminator is the TLS server (role kServer)");
  }
  if (c.profile == nullptr || !is_escertke_profile(*c.profile)) {
    return Error::unsupported("ESCertKE runs TLS 1.2 with certificates (profile ts0003-tls12-cert), not " +
                              std::string(c.profile ? c.profile->name : "no profile"));
  }
  return {};
}

Result<std::shared_ptr<const tls::Context>> make_context(tls::Config config, tls::Role role) {
  if (config.profile == nullptr) {
    config.profile = tls::select_profile(tls::Transport::kTls, tls::Version::kTls12, tls::CredentialKind::kCertificate);
  }
  M2MSEC_TRY(check_config(config, role));
  M2MSEC_ASSIGN_OR_RETURN(std::shared_ptr<tls::Context> context, tls::Context::create(std::move(config)));
  return std::shared_ptr<const tls::Context>(std::move(context));
}

Error io_error(std::string_view what) { return {Category::kIo, std::string(what) + ": " + std::strerror(errno)}; }

// One handshake engine and the socketpair it runs over.
class Pump {
 public:
  static Result<std::unique_ptr<Pump>> open(std::shared_ptr<const tls::Context> context) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) return io_error("socketpair");
    auto pump = std::unique_ptr<Pump>(new Pump(std::move(context), fds[0], fds[1]));
    M2MSEC_ASSIGN_OR_RETURN(pump->m_session, pump->m_context->session(pump->m_engine.fd()));
    return pump;
  }

  // Writes `input` (a whole message, possibly empty) into the engine's end and runs the handshake until it
  // waits for the peer's next flight or is done. Returns the progress and everything the engine wrote.
  Result<std::pair<tls::Progress, Bytes>> step(ByteView input, std::string_view producing) {
    Bytes out;
    std::size_t offset = 0;
    // Every round moves octets one way or the other; the bound only guards against a backend that would not.
    for (int round = 0; round < 100000; ++round) {
      if (offset < input.size()) {
        const ssize_t sent = ::send(m_wire.fd(), input.data() + offset, input.size() - offset, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return io_error("socketpair send");
        if (sent > 0) offset += static_cast<std::size_t>(sent);
      }
      auto progress = m_session->handshake();
      M2MSEC_ASSIGN_OR_RETURN(const std::size_t drained, drain(out, producing));
      if (!progress) return std::move(progress).error();
      if (*progress == tls::Progress::kDone) {
        if (offset < input.size() || unread() > 0) {
          return protocol_error("the handshake completed before the end of the received message");
        }
        return std::make_pair(*progress, std::move(out));
      }
      if (*progress == tls::Progress::kWantWrite) {
        if (drained == 0) return Error::internal("the TLS engine wants to write but wrote nothing");
        continue;
      }
      // kWantRead: everything written so far has been consumed.
      if (offset == input.size()) return std::make_pair(*progress, std::move(out));
    }
    return Error::internal("the TLS engine made no progress");
  }

  const tls::Session& session() const { return *m_session; }

 private:
  Pump(std::shared_ptr<const tls::Context> context, int engine, int wire)
      : m_context(std::move(context)), m_engine(engine), m_wire(wire) {}

  // Reads what the engine wrote (appended to out); refuses a flight over kMaxMessageSize.
  Result<std::size_t> drain(Bytes& out, std::string_view producing) {
    std::size_t total = 0;
    std::array<std::uint8_t, 4096> buffer{};
    for (;;) {
      const ssize_t got = ::recv(m_wire.fd(), buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return total;
      if (got <= 0) return got == 0 ? Error(Category::kInternal, "the TLS engine closed its socket") : io_error("socketpair recv");
      out.insert(out.end(), buffer.begin(), buffer.begin() + got);
      total += static_cast<std::size_t>(got);
      if (out.size() > kMaxMessageSize) {
        return Error(Category::kInternal, std::string(producing) + " would exceed " + std::to_string(kMaxMessageSize) + " octets");
      }
    }
  }

  // Octets written to the engine that it has not read.
  std::size_t unread() const {
    int pending = 0;
    if (::ioctl(m_engine.fd(), FIONREAD, &pending) != 0 || pending < 0) return 0;
    return static_cast<std::size_t>(pending);
  }

  std::shared_ptr<const tls::Context> m_context;
  tls::net::Socket m_engine;  // the session's end
  tls::net::Socket m_wire;    // ours: the messages
  std::unique_ptr<tls::Session> m_session;  // destroyed before the sockets close
};

enum class Stage { kStart, kAwaitingSecond, kAwaitingLast, kDone, kFailed };

Result<PairwiseE2EKey> export_key(const tls::Session& session) {
  //= TS-0003 V3.18.0 §8.7.2.2
  //# On success both end-points export pairwiseE2EKey and pairwiseE2EKeyID (10.3.1, EXPORTER-oneM2M-ESCertKE).
  M2MSEC_ASSIGN_OR_RETURN(const SecretBytes exported, session.export_keying_material(
                                                           keys::exporter_label(keys::ExportLabel::kEscertke),
                                                           keys::kExportLength));
  M2MSEC_ASSIGN_OR_RETURN(const auto split, keys::split_escertke_export(exported.view()));
  return PairwiseE2EKey{hex_encode(split.id.view(), keys::kIdentifierHexCase), SecretBytes::copy_of(split.key.view()),
                        session.peer()};
}

Error out_of_order(std::string_view got, Stage stage, bool initiator) {
  if (stage == Stage::kFailed) return protocol_error(std::string(got) + ": this ESCertKE exchange has already failed");
  if (stage == Stage::kDone) return protocol_error(std::string(got) + ": this ESCertKE exchange is already complete");
  if (initiator) return protocol_error(std::string(got) + " out of order");
  return protocol_error(std::string(got) + (stage == Stage::kStart ? " before message 1" : " out of order"));
}

}  // namespace

// ---- Initiator ----------------------------------------------------------------------------------------

struct EscertkeInitiator::Impl {
  std::unique_ptr<Pump> pump;
  Stage stage = Stage::kStart;
};

EscertkeInitiator::EscertkeInitiator(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
EscertkeInitiator::EscertkeInitiator(EscertkeInitiator&&) noexcept = default;
EscertkeInitiator& EscertkeInitiator::operator=(EscertkeInitiator&&) noexcept = default;
EscertkeInitiator::~EscertkeInitiator() = default;

Result<EscertkeInitiator> EscertkeInitiator::create(tls::Config config) {
  M2MSEC_ASSIGN_OR_RETURN(auto context, make_context(std::move(config), tls::Role::kClient));
  return create(std::move(context));
}

Result<EscertkeInitiator> EscertkeInitiator::create(std::shared_ptr<const tls::Context> context) {
  if (!context) return Error::usage("no TLS context");
  M2MSEC_TRY(check_config(context->config(), tls::Role::kClient));
  auto impl = std::make_unique<Impl>();
  M2MSEC_ASSIGN_OR_RETURN(impl->pump, Pump::open(std::move(context)));
  return EscertkeInitiator(std::move(impl));
}

Result<Bytes> EscertkeInitiator::message1() {
  Impl& s = *m_impl;
  if (s.stage != Stage::kStart) return out_of_order("message 1 requested", s.stage, true);
  s.stage = Stage::kFailed;
  auto step = s.pump->step({}, "ESCertKE message 1");
  if (!step) return annotated(step.error(), "ESCertKE message 1");
  if (step->first != tls::Progress::kWantRead || step->second.empty()) {
    return Error::internal("ESCertKE message 1: the TLS client wrote no ClientHello");
  }
  s.stage = Stage::kAwaitingSecond;
  return std::move(step->second);
}

Result<Bytes> EscertkeInitiator::message3(ByteView message2) {
  Impl& s = *m_impl;
  if (s.stage != Stage::kAwaitingSecond) return out_of_order("ESCertKE message 2", s.stage, true);
  s.stage = Stage::kFailed;
  M2MSEC_TRY(check_records(message2, "ESCertKE message 2"));
  //= TS-0003 V3.18.0 §8.7
  //# Message 2 (ServerHello .. ServerHelloDone) authenticates the Terminator (8.1.2.5); message 3 answers it.
  auto step = s.pump->step(message2, "ESCertKE message 3");
  if (!step) return annotated(step.error(), "ESCertKE message 2");
  if (step->first != tls::Progress::kWantRead || step->second.empty()) {
    return protocol_error("ESCertKE message 2 is incomplete: it does not end with ServerHelloDone");
  }
  s.stage = Stage::kAwaitingLast;
  return std::move(step->second);
}

Result<PairwiseE2EKey> EscertkeInitiator::finish(ByteView message4) {
  Impl& s = *m_impl;
  if (s.stage != Stage::kAwaitingLast) return out_of_order("ESCertKE message 4", s.stage, true);
  s.stage = Stage::kFailed;
  M2MSEC_TRY(check_records(message4, "ESCertKE message 4"));
  auto step = s.pump->step(message4, "nothing");
  if (!step) return annotated(step.error(), "ESCertKE message 4");
  if (step->first != tls::Progress::kDone) {
    return protocol_error("ESCertKE message 4 is incomplete: it does not end with the Terminator's Finished");
  }
  if (!step->second.empty()) return Error::internal("ESCertKE: the TLS client wrote after its handshake");
  auto key = export_key(s.pump->session());
  if (!key) return annotated(key.error(), "ESCertKE key export");
  s.stage = Stage::kDone;
  return key;
}

const tls::Session* EscertkeInitiator::session() const {
  return m_impl && m_impl->stage == Stage::kDone ? &m_impl->pump->session() : nullptr;
}

// ---- Terminator ---------------------------------------------------------------------------------------

struct EscertkeTerminator::Impl {
  std::unique_ptr<Pump> pump;
  Stage stage = Stage::kStart;
  std::optional<PairwiseE2EKey> key;
};

EscertkeTerminator::EscertkeTerminator(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
EscertkeTerminator::EscertkeTerminator(EscertkeTerminator&&) noexcept = default;
EscertkeTerminator& EscertkeTerminator::operator=(EscertkeTerminator&&) noexcept = default;
EscertkeTerminator::~EscertkeTerminator() = default;

Result<EscertkeTerminator> EscertkeTerminator::create(tls::Config config) {
  M2MSEC_ASSIGN_OR_RETURN(auto context, make_context(std::move(config), tls::Role::kServer));
  return create(std::move(context));
}

Result<EscertkeTerminator> EscertkeTerminator::create(std::shared_ptr<const tls::Context> context) {
  if (!context) return Error::usage("no TLS context");
  M2MSEC_TRY(check_config(context->config(), tls::Role::kServer));
  auto impl = std::make_unique<Impl>();
  M2MSEC_ASSIGN_OR_RETURN(impl->pump, Pump::open(std::move(context)));
  return EscertkeTerminator(std::move(impl));
}

Result<Bytes> EscertkeTerminator::message2(ByteView message1) {
  Impl& s = *m_impl;
  if (s.stage != Stage::kStart) return out_of_order("ESCertKE message 1", s.stage, false);
  s.stage = Stage::kFailed;
  M2MSEC_TRY(check_records(message1, "ESCertKE message 1"));
  if (!starts_with_client_hello(message1)) return protocol_error("ESCertKE message 1 is not a ClientHello");
  auto step = s.pump->step(message1, "ESCertKE message 2");
  if (!step) return annotated(step.error(), "ESCertKE message 1");
  if (step->first != tls::Progress::kWantRead || step->second.empty()) {
    return protocol_error("ESCertKE message 1 is incomplete: it holds no whole ClientHello");
  }
  s.stage = Stage::kAwaitingLast;
  return std::move(step->second);
}

Result<Bytes> EscertkeTerminator::message4(ByteView message3) {
  Impl& s = *m_impl;
  if (s.stage != Stage::kAwaitingLast) return out_of_order("ESCertKE message 3", s.stage, false);
  s.stage = Stage::kFailed;
  M2MSEC_TRY(check_records(message3, "ESCertKE message 3"));
  //= TS-0003 V3.18.0 §8.7
  //# Message 3 (Certificate .. Finished) authenticates the Initiator (8.1.2.5); message 4 completes it.
  auto step = s.pump->step(message3, "ESCertKE message 4");
  if (!step) return annotated(step.error(), "ESCertKE message 3");
  if (step->first != tls::Progress::kDone) {
    return protocol_error("ESCertKE message 3 is incomplete: it does not end with the Initiator's Finished");
  }
  if (step->second.empty()) return Error::internal("ESCertKE: the TLS server wrote no Finished");
  auto key = export_key(s.pump->session());
  if (!key) return annotated(key.error(), "ESCertKE key export");
  s.key = std::move(key).value();
  s.stage = Stage::kDone;
  return std::move(step->second);
}

Result<PairwiseE2EKey> EscertkeTerminator::result() const {
  if (!m_impl->key) return Error::usage("the ESCertKE exchange has not completed");
  return m_impl->key->clone();
}

const tls::Session* EscertkeTerminator::session() const {
  return m_impl && m_impl->key ? &m_impl->pump->session() : nullptr;
}

// ---- NOTIFY carriage ----------------------------------------------------------------------------------

Result<std::string> build_escertke_seci(ByteView message) {
  if (message.empty()) return Error::usage("an ESCertKE message is never empty");
  if (message.size() > kMaxMessageSize) return Error::usage("an ESCertKE message is at most 64 KiB");
  //= TS-0004 V3.32.0 §7.5.1.2.12
  //# The NOTIFY content is m2m:securityInfo with securityInfoType 6 and escertkeMessage (base64Binary).
  json::Object seci{{"sit", json::Value(kSecurityInfoTypeEscertke)}, {"eckm", json::Value(base64_encode(message))}};
  return json::serialize(json::Value(json::Object{{"m2m:seci", json::Value(std::move(seci))}}));
}

Result<Bytes> parse_escertke_seci(std::string_view content) {
  // The base64 of kMaxMessageSize octets, and room for the rest of the object.
  constexpr std::size_t kMaxBase64 = (kMaxMessageSize + 2) / 3 * 4;
  if (content.size() > kMaxBase64 + 1024) return Error::usage("m2m:seci: the content is too large for an ESCertKE message");
  M2MSEC_ASSIGN_OR_RETURN(const json::Value root, json::parse(content));
  const json::Object* top = root.object();
  if (top == nullptr || top->size() != 1) return Error::usage("m2m:seci: the content must be one object {\"m2m:seci\":{...}}");
  const json::Value* seci_value = top->find("m2m:seci");
  const json::Object* seci = seci_value ? seci_value->object() : nullptr;
  if (seci == nullptr) return Error::usage("m2m:seci: no m2m:seci object");
  const json::Value* sit = seci->find("sit");
  if (sit == nullptr || sit->integer() != kSecurityInfoTypeEscertke) {
    return Error::usage("m2m:seci: securityInfoType (sit) is not 6 (ESCertKE Message)");
  }
  const json::Value* eckm = seci->find("eckm");
  const std::string* text = eckm ? eckm->string() : nullptr;
  if (text == nullptr) return Error::usage("m2m:seci: no escertkeMessage (eckm) string");
  if (seci->size() != 2) return Error::usage("m2m:seci: an ESCertKE Message has only sit and eckm");
  if (text->size() > kMaxBase64) return Error::usage("m2m:seci: escertkeMessage is over 64 KiB");
  M2MSEC_ASSIGN_OR_RETURN(Bytes message, base64_decode(*text));
  if (message.empty() || message.size() > kMaxMessageSize) {
    return Error::usage("m2m:seci: escertkeMessage must hold 1 to 65536 octets");
  }
  return message;
}

// ---- Responder ----------------------------------------------------------------------------------------

struct EscertkeResponder::Impl {
  struct Pending {
    EscertkeTerminator terminator;
    Clock::TimePoint expires;
  };

  std::shared_ptr<const tls::Context> context;
  EscertkeResponderOptions options;
  mutable std::mutex mutex;
  std::map<std::string, Pending, std::less<>> pending;
  // ClientHello randoms answered, oldest first, and the same as a set.
  std::deque<std::pair<Clock::TimePoint, ClientRandom>> seen_order;
  std::set<ClientRandom> seen;

  // With the mutex held.
  void purge(Clock::TimePoint now) {
    std::erase_if(pending, [now](const auto& entry) { return entry.second.expires <= now; });
    while (!seen_order.empty() &&
           (seen_order.front().first + options.replay_window <= now || seen_order.size() > options.max_remembered)) {
      seen.erase(seen_order.front().second);
      seen_order.pop_front();
    }
  }
  Result<void> room_for(std::string_view from) const {
    if (pending.size() >= options.max_pending && pending.find(from) == pending.end()) {
      return Error(Category::kPolicy, "ESCertKE: " + std::to_string(pending.size()) +
                                          " exchanges are already waiting for their message 3");
    }
    return {};
  }

  Result<std::string> first(std::string_view from, ByteView message1);
  Result<std::string> last(std::string_view from, ByteView message3);
};

EscertkeResponder::EscertkeResponder(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
EscertkeResponder::~EscertkeResponder() = default;

Result<std::unique_ptr<EscertkeResponder>> EscertkeResponder::create(tls::Config terminator,
                                                                     EscertkeResponderOptions options) {
  if (options.max_pending == 0) return Error::usage("max_pending must be at least 1");
  if (options.pending_lifetime.count() <= 0) return Error::usage("pending_lifetime must be positive");
  if (!options.clock) options.clock = std::make_shared<SystemClock>();
  auto impl = std::make_unique<Impl>();
  M2MSEC_ASSIGN_OR_RETURN(impl->context, make_context(std::move(terminator), tls::Role::kServer));
  impl->options = std::move(options);
  return std::unique_ptr<EscertkeResponder>(new EscertkeResponder(std::move(impl)));
}

Result<std::string> EscertkeResponder::handle(std::string_view from, std::string_view content) {
  if (from.empty()) return Error::usage("ESCertKE: the request has no From");
  if (from.size() > kMaxFromLength) return Error::usage("ESCertKE: the From is too long");
  M2MSEC_ASSIGN_OR_RETURN(const Bytes message, parse_escertke_seci(content));
  //= TS-0001 V3.36.0 §11.4.3
  //# Message 1 arrives in the first NOTIFY, message 3 in the second; the Terminator correlates them by From.
  if (starts_with_client_hello(message)) return m_impl->first(from, message);
  return m_impl->last(from, message);
}

Result<std::string> EscertkeResponder::Impl::first(std::string_view from, ByteView message1) {
  M2MSEC_ASSIGN_OR_RETURN(const ClientRandom random, client_random(message1));
  {
    std::lock_guard lock(mutex);
    purge(options.clock->now());
    if (seen.contains(random)) return protocol_error("ESCertKE message 1 replayed: its ClientHello was already answered");
    M2MSEC_TRY(room_for(from));
    seen.insert(random);
    seen_order.emplace_back(options.clock->now(), random);
    purge(options.clock->now());
  }
  M2MSEC_ASSIGN_OR_RETURN(EscertkeTerminator terminator, EscertkeTerminator::create(context));
  M2MSEC_ASSIGN_OR_RETURN(const Bytes message2, terminator.message2(message1));
  M2MSEC_ASSIGN_OR_RETURN(std::string response, build_escertke_seci(message2));
  std::lock_guard lock(mutex);
  const Clock::TimePoint now = options.clock->now();
  purge(now);
  M2MSEC_TRY(room_for(from));
  // A new message 1 from the same From replaces (abandons) its pending exchange.
  pending.insert_or_assign(std::string(from), Pending{std::move(terminator), now + options.pending_lifetime});
  return response;
}

Result<std::string> EscertkeResponder::Impl::last(std::string_view from, ByteView message3) {
  std::optional<EscertkeTerminator> terminator;
  {
    std::lock_guard lock(mutex);
    purge(options.clock->now());
    auto found = pending.find(from);
    if (found == pending.end()) {
      return protocol_error("ESCertKE message 3 from " + std::string(from) +
                            " before message 1 (no pending exchange, or it expired)");
    }
    terminator.emplace(std::move(found->second.terminator));
    pending.erase(found);  // one attempt: a failed message 3 ends the exchange
  }
  M2MSEC_ASSIGN_OR_RETURN(const Bytes message4, terminator->message4(message3));
  M2MSEC_ASSIGN_OR_RETURN(const PairwiseE2EKey key, terminator->result());
  if (options.on_established) {
    if (auto accepted = options.on_established(from, key); !accepted) {
      return annotated(accepted.error(), "ESCertKE: the established key was refused");
    }
  }
  return build_escertke_seci(message4);
}

std::size_t EscertkeResponder::pending() const {
  std::lock_guard lock(m_impl->mutex);
  return m_impl->pending.size();
}

}  // namespace m2msec::e2e

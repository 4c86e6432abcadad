#include "m2msec/coap/server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "m2msec/coap/options.h"
#include "m2msec/core/text.h"
#include "m2msec/tls/net.h"

namespace m2msec::coap {
namespace {

using SteadyClock = std::chrono::steady_clock;

//= RFC 7252 §4.8.2
//# A message ID is remembered for EXCHANGE_LIFETIME (247 s with the default transmission parameters).
constexpr auto kExchangeLifetime = std::chrono::seconds(247);
constexpr std::size_t kRememberedMessages = 512;  // per peer; the oldest is forgotten first
constexpr std::size_t kPlainPeers = 1024;         // plain UDP: peers with message-layer state
constexpr std::size_t kDatagramLimit = 65536;

Message answer(std::uint8_t response_code, std::string_view diagnostic) {
  Message out;
  out.code = response_code;
  out.payload.assign(diagnostic.begin(), diagnostic.end());
  return out;
}

bool is_transfer_option(std::uint16_t number) {
  return number == kOptionBlock1 || number == kOptionBlock2 || number == kOptionSize1 || number == kOptionSize2;
}

// What identifies "the same request" across the blocks of one body: the method and every option but the
// block-wise ones (RFC 7959 §2.3, §2.4).
Bytes request_key(const Message& request) {
  Bytes key{request.code};
  for (const Option& option : request.options) {
    if (is_transfer_option(option.number)) continue;
    key.push_back(static_cast<std::uint8_t>(option.number >> 8));
    key.push_back(static_cast<std::uint8_t>(option.number));
    key.push_back(static_cast<std::uint8_t>(option.value.size() >> 8));
    key.push_back(static_cast<std::uint8_t>(option.value.size()));
    key.insert(key.end(), option.value.begin(), option.value.end());
  }
  return key;
}

// The message layer and block-wise transfer towards one peer: a DTLS association, or one address on plain UDP.
class Exchanges {
 public:
  Exchanges(const ServerOptions& options, Connection connection)
      : m_options(options), m_connection(std::move(connection)), m_szx(szx_of(options.block_size).value_or(6)) {}

  // The datagram to send back, if any.
  std::optional<Bytes> on_datagram(ByteView datagram) {
    auto parsed = parse(datagram);
    if (!parsed) return reject_malformed(datagram);
    const Message& in = *parsed;
    // We send no Confirmable message, so an ACK or a Reset answers nothing here.
    if (in.type == Type::kAcknowledgement || in.type == Type::kReset) return std::nullopt;
    //= RFC 7252 §4.2, §4.3
    //# An Empty Confirmable message ("ping"), or a response where a request belongs, is rejected with a Reset;
    //# the same as Non-confirmable is ignored.
    if (in.code == kEmpty || (in.code >> 5) != 0) {
      if (in.type != Type::kConfirmable) return std::nullopt;
      return serialize_or_nothing(Message{Type::kReset, kEmpty, in.message_id, {}, {}, {}});
    }
    //= RFC 7252 §4.5
    //# A duplicate Confirmable request gets the same answer again, without being processed twice; a duplicate
    //# Non-confirmable one is dropped.
    const SteadyClock::time_point now = SteadyClock::now();
    forget_before(now - kExchangeLifetime);
    if (const auto seen = m_seen.find(in.message_id); seen != m_seen.end()) {
      if (in.type == Type::kConfirmable) return seen->second;
      return std::nullopt;
    }
    Message out = process(in, now);
    out.type = in.type == Type::kConfirmable ? Type::kAcknowledgement : Type::kNonConfirmable;
    out.message_id = in.type == Type::kConfirmable ? in.message_id : m_next_message_id++;
    out.token = in.token;
    auto wire = serialize(out);
    if (!wire) wire = serialize(Message{out.type, code(5, 0), out.message_id, out.token, {}, {}});
    std::optional<Bytes> sent;
    if (wire) sent = std::move(*wire);
    remember(in.message_id, now, sent);
    return sent;
  }

 private:
  struct Upload {
    Bytes key;
    Bytes body;
    SteadyClock::time_point at;
  };
  struct Download {
    Bytes key;
    Message response;
    SteadyClock::time_point at;
  };

  static std::optional<Bytes> serialize_or_nothing(const Message& message) {
    auto wire = serialize(message);
    if (!wire) return std::nullopt;
    return std::move(*wire);
  }

  //= RFC 7252 §4.2, §4.3
  //# A Confirmable message with a format error is rejected with a Reset carrying its message ID; anything else
  //# that does not parse is dropped.
  static std::optional<Bytes> reject_malformed(ByteView datagram) {
    if (datagram.size() < 4 || (datagram[0] >> 6) != 1) return std::nullopt;
    if (static_cast<Type>((datagram[0] >> 4) & 0x3) != Type::kConfirmable) return std::nullopt;
    const auto id = static_cast<std::uint16_t>((datagram[2] << 8) | datagram[3]);
    return serialize_or_nothing(Message{Type::kReset, kEmpty, id, {}, {}, {}});
  }

  void forget_before(SteadyClock::time_point oldest) {
    while (!m_order.empty() && (m_order.front().first < oldest || m_order.size() > kRememberedMessages)) {
      m_seen.erase(m_order.front().second);
      m_order.pop_front();
    }
    if (m_upload && m_upload->at < oldest) m_upload.reset();
    if (m_download && m_download->at < oldest) m_download.reset();
  }

  void remember(std::uint16_t id, SteadyClock::time_point now, std::optional<Bytes> sent) {
    m_seen[id] = std::move(sent);
    m_order.emplace_back(now, id);
  }

  Message too_large() const {
    Message out = answer(code(4, 13), concat({"the body limit is ", std::to_string(m_options.body_limit), " octets"}));
    out.options.push_back(Option{kOptionSize1, encode_uint(static_cast<std::uint32_t>(m_options.body_limit))});
    return out;
  }

  Message process(const Message& in, SteadyClock::time_point now) {
    //= RFC 7959 §4
    //# Size1 announces the whole body: one over our limit is refused before any block is kept.
    if (const Option* size1 = find_option(in, kOptionSize1)) {
      const auto announced = decode_uint(size1->value);
      if (!announced) return answer(code(4, 0), "malformed Size1");
      if (*announced > m_options.body_limit) return too_large();
    }
    std::optional<Block> wanted;  // Block2 of the request: the block of the response it asks for
    if (const Option* block2 = find_option(in, kOptionBlock2)) {
      wanted = decode_block(block2->value);
      if (!wanted) return answer(code(4, 0), "malformed Block2");
      if (wanted->more) return answer(code(4, 0), "Block2 of a request has no M bit");
    }
    const Bytes key = request_key(in);
    if (wanted && wanted->num > 0) {
      //= RFC 7959 §2.4
      //# A later block of a response comes from the representation the first block was cut from; a GET may
      //# be answered again, any other method needs the kept one.
      if (m_download && m_download->key == key) return slice(m_download->response, *wanted);
      if (in.code != code(0, 1)) return answer(code(4, 8), "no response is kept for this block");
    }
    Message whole = in;
    if (const Option* block1 = find_option(in, kOptionBlock1)) {
      if (auto now_answer = assemble(in, *block1, key, now, whole.payload)) return std::move(*now_answer);
    } else if (in.payload.size() > m_options.body_limit) {
      return too_large();
    }
    std::erase_if(whole.options, [](const Option& o) { return is_transfer_option(o.number); });
    Message response = call(whole);
    if (const Option* block1 = find_option(in, kOptionBlock1)) {
      //= RFC 7959 §2.3
      //# The response to the last block of a request body carries the Block1 option of that block.
      response.options.push_back(*block1);
    }
    const Block first{0, false, wanted ? std::min(wanted->szx, m_szx) : m_szx};
    if (!wanted && response.payload.size() <= first.size()) return response;
    m_download = Download{key, response, now};
    return slice(response, wanted ? Block{wanted->num, false, first.szx} : first);
  }

  // One Block1 block: the answer to send now (2.31 Continue, or an error), or nothing once `body` holds the
  // whole body.
  std::optional<Message> assemble(const Message& in, const Option& option, const Bytes& key,
                                  SteadyClock::time_point now, Bytes& body) {
    const auto block = decode_block(option.value);
    if (!block) return answer(code(4, 0), "malformed Block1");
    //= RFC 7959 §2.2
    //# Every block but the last carries exactly the block size; the last carries at most that.
    if (block->more ? in.payload.size() != block->size() : in.payload.size() > block->size()) {
      return answer(code(4, 0), "a block's payload does not match its size");
    }
    if (block->num == 0) {
      m_upload = Upload{key, {}, now};
    } else if (!m_upload || m_upload->key != key || m_upload->body.size() != block->offset()) {
      //= RFC 7959 §2.9.2
      //# A block that does not continue the body being received: 4.08 Request Entity Incomplete.
      m_upload.reset();
      return answer(code(4, 8), "this block does not continue a body being received");
    }
    if (m_upload->body.size() + in.payload.size() > m_options.body_limit) {
      m_upload.reset();
      return too_large();
    }
    m_upload->body.insert(m_upload->body.end(), in.payload.begin(), in.payload.end());
    m_upload->at = now;
    if (block->more) {
      //= RFC 7959 §2.3
      //# 2.31 Continue acknowledges a block and asks for the next.
      Message next;
      next.code = code(2, 31);
      next.options.push_back(Option{kOptionBlock1, encode_block(*block)});
      return next;
    }
    body = std::move(m_upload->body);
    m_upload.reset();
    return std::nullopt;
  }

  Message call(const Message& request) const {
    try {
      return m_options.handler(request, m_connection);
    } catch (...) {
      return answer(code(5, 0), "internal error");
    }
  }

  //= RFC 7959 §2.4
  //# A response larger than one block goes out block by block: Block2 (NUM, M, SZX), and Size2 (the whole
  //# size) with the first block. A block beyond the end is 4.02 Bad Option.
  static Message slice(const Message& response, Block block) {
    const std::size_t offset = block.offset();
    if (offset >= response.payload.size() && !(offset == 0 && response.payload.empty())) {
      return answer(code(4, 2), "Block2 asks for a block beyond the end of the response");
    }
    Message out = response;
    const std::size_t length = std::min(block.size(), response.payload.size() - offset);
    out.payload.assign(response.payload.begin() + static_cast<std::ptrdiff_t>(offset),
                       response.payload.begin() + static_cast<std::ptrdiff_t>(offset + length));
    block.more = offset + length < response.payload.size();
    out.options.push_back(Option{kOptionBlock2, encode_block(block)});
    if (block.num == 0) {
      out.options.push_back(Option{kOptionSize2, encode_uint(static_cast<std::uint32_t>(response.payload.size()))});
    }
    return out;
  }

  const ServerOptions& m_options;
  Connection m_connection;
  std::uint8_t m_szx;
  std::unordered_map<std::uint16_t, std::optional<Bytes>> m_seen;
  std::deque<std::pair<SteadyClock::time_point, std::uint16_t>> m_order;
  std::optional<Upload> m_upload;
  std::optional<Download> m_download;
  std::uint16_t m_next_message_id = static_cast<std::uint16_t>(SteadyClock::now().time_since_epoch().count());
};

Error io_error(std::string_view what) { return Error(Category::kIo, concat({what, ": ", std::strerror(errno)})); }

Result<void> set_blocking(int fd, bool blocking) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return io_error("fcntl");
  if (::fcntl(fd, F_SETFL, blocking ? (flags & ~O_NONBLOCK) : (flags | O_NONBLOCK)) != 0) return io_error("fcntl");
  return {};
}

}  // namespace

struct Server::State {
  ServerOptions options;
  std::uint16_t port = 0;
  std::vector<tls::net::Socket> idle;  // unconnected sockets on the port
  int wake[2] = {-1, -1};              // stop() writes to wake[1]
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> failed_handshakes{0};
  std::thread listener;

  struct Association {
    std::thread thread;
    int fd = -1;
    std::atomic<bool> done{false};
  };
  mutable std::mutex mutex;
  std::list<Association> associations;

  ~State() {
    for (int fd : wake) {
      if (fd >= 0) ::close(fd);
    }
  }

  Result<tls::net::Socket> bind_idle() const {
    M2MSEC_ASSIGN_OR_RETURN(tls::net::Socket socket, tls::net::listen(tls::net::Endpoint{options.host, port}, true));
    M2MSEC_TRY(set_blocking(socket.fd(), false));
    return socket;
  }

  std::size_t live() const {
    std::lock_guard lock(mutex);
    std::size_t n = 0;
    for (const Association& a : associations) n += a.done ? 0 : 1;
    return n;
  }

  void reap() {
    std::lock_guard lock(mutex);
    for (auto it = associations.begin(); it != associations.end();) {
      if (!it->done) {
        ++it;
        continue;
      }
      it->thread.join();
      it = associations.erase(it);
    }
  }

  // The rest of a handshake that began on a non-blocking socket: a backend may have taken that mode from it (GnuTLS
  // does) and then answers kWantRead / kWantWrite instead of waiting; we wait for it, until the context's DTLS
  // handshake timeout.
  bool handshake(int fd, tls::Session& session) const {
    if (!set_blocking(fd, true)) return false;
    const auto deadline = SteadyClock::now() + options.dtls->config().dtls_handshake_timeout;
    for (;;) {
      auto progress = session.handshake();
      if (!progress) return false;
      if (*progress == tls::Progress::kDone) return true;
      if (stopping || SteadyClock::now() > deadline) return false;
      pollfd p{fd, static_cast<short>(*progress == tls::Progress::kWantWrite ? POLLOUT : POLLIN), 0};
      (void)::poll(&p, 1, 100);  // a backend retransmits its flight when called again after its timer
    }
  }

  // One DTLS association: the rest of its handshake, then request after request until it closes, falls
  // silent for idle_timeout, or the server stops.
  void serve(tls::net::Socket socket, std::unique_ptr<tls::Session> session) {
    if (!handshake(socket.fd(), *session)) {
      ++failed_handshakes;
      return;
    }
    const auto idle_us = std::chrono::duration_cast<std::chrono::microseconds>(options.idle_timeout).count();
    const timeval timeout{static_cast<time_t>(idle_us / 1000000), static_cast<suseconds_t>(idle_us % 1000000)};
    ::setsockopt(socket.fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    Exchanges exchanges(options, Connection{session.get(), tls::net::peer_text(socket.fd())});
    std::vector<std::uint8_t> buffer(kDatagramLimit);
    while (!stopping) {
      auto got = session->read(buffer);
      if (!got || *got == 0) break;
      if (auto out = exchanges.on_datagram(ByteView(buffer.data(), *got))) {
        if (!session->write(*out)) break;
      }
    }
    session->close();
  }

  void start_association(std::size_t which, std::unique_ptr<tls::Session> session) {
    // The socket now belongs to this peer; another takes its place for everyone else.
    tls::net::Socket connected = std::move(idle[which]);
    auto replacement = bind_idle();
    if (replacement) idle[which] = std::move(*replacement);
    if (live() >= options.max_associations) return;  // the peer's handshake times out
    std::lock_guard lock(mutex);
    Association& association = associations.emplace_back();
    association.fd = connected.fd();
    association.thread = std::thread([this, &association, socket = std::move(connected),
                                      s = std::move(session)]() mutable {
      serve(std::move(socket), std::move(s));
      association.done = true;
    });
  }

  void listen_dtls() {
    while (!stopping) {
      std::vector<pollfd> fds{{wake[0], POLLIN, 0}};
      for (const tls::net::Socket& s : idle) fds.push_back(pollfd{s.fd(), POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 1000) < 0 && errno != EINTR) return;
      if (stopping) return;
      reap();
      for (std::size_t i = 0; i < idle.size(); ++i) {
        if ((fds[i + 1].revents & POLLIN) == 0 || idle[i].fd() < 0) continue;
        //= RFC 6347 §4.2.1
        //# No state before the cookie: a ClientHello without a valid one gets a HelloVerifyRequest and
        //# nothing is kept; only a valid cookie makes an association (and a thread).
        auto session = options.dtls->accept_datagram(idle[i].fd());
        if (session && *session) start_association(i, std::move(*session));
      }
    }
  }

  void listen_plain() {
    std::map<std::string, Exchanges> peers;
    std::deque<std::string> order;
    std::vector<std::uint8_t> buffer(kDatagramLimit);
    const int fd = idle.front().fd();
    while (!stopping) {
      pollfd fds[2] = {{wake[0], POLLIN, 0}, {fd, POLLIN, 0}};
      if (::poll(fds, 2, 1000) < 0 && errno != EINTR) return;
      if (stopping) return;
      if ((fds[1].revents & POLLIN) == 0) continue;
      sockaddr_storage from{};
      socklen_t length = sizeof from;
      const ssize_t n = ::recvfrom(fd, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from), &length);
      if (n < 0) continue;
      const std::string address = tls::net::address_text(from);
      auto peer = peers.find(address);
      if (peer == peers.end()) {
        if (peers.size() >= kPlainPeers) {
          peers.erase(order.front());
          order.pop_front();
        }
        peer = peers.try_emplace(address, options, Connection{nullptr, address}).first;
        order.push_back(address);
      }
      if (auto out = peer->second.on_datagram(ByteView(buffer.data(), static_cast<std::size_t>(n)))) {
        (void)::sendto(fd, out->data(), out->size(), 0, reinterpret_cast<const sockaddr*>(&from), length);
      }
    }
  }
};

Result<std::unique_ptr<Server>> Server::start(ServerOptions options) {
  if (!options.handler) return Error::usage("a CoAP server needs a handler");
  if (!szx_of(options.block_size)) return Error::usage("the block size must be a power of two from 16 to 1024");
  if (options.dtls && (options.dtls->config().role != tls::Role::kServer ||
                       options.dtls->config().profile->transport != tls::Transport::kDtls)) {
    return Error::usage("a CoAP server needs a DTLS server context");
  }
  auto state = std::make_unique<State>();
  state->options = std::move(options);
  M2MSEC_ASSIGN_OR_RETURN(
      tls::net::Socket first,
      tls::net::listen(tls::net::Endpoint{state->options.host, state->options.port}, true));
  M2MSEC_ASSIGN_OR_RETURN(state->port, tls::net::local_port(first.fd()));
  M2MSEC_TRY(set_blocking(first.fd(), false));
  state->idle.push_back(std::move(first));
  if (state->options.dtls) {
    // A second idle socket, so that a datagram arriving while the other is being connected finds one.
    M2MSEC_ASSIGN_OR_RETURN(tls::net::Socket second, state->bind_idle());
    state->idle.push_back(std::move(second));
  }
  if (::pipe2(state->wake, O_CLOEXEC | O_NONBLOCK) != 0) return io_error("pipe2");
  State* raw = state.get();
  state->listener = std::thread([raw] { raw->options.dtls ? raw->listen_dtls() : raw->listen_plain(); });
  return std::unique_ptr<Server>(new Server(std::move(state)));
}

Server::Server(std::unique_ptr<State> state) : m_state(std::move(state)) {}

Server::~Server() { stop(); }

std::uint16_t Server::port() const { return m_state->port; }

std::string Server::url() const {
  const std::string& host = m_state->options.host;
  const bool v6 = host.find(':') != std::string::npos;
  return concat({m_state->options.dtls ? "coaps://" : "coap://", v6 ? "[" : "", host, v6 ? "]" : "", ":",
                 std::to_string(m_state->port)});
}

std::uint64_t Server::failed_handshakes() const { return m_state->failed_handshakes; }

std::size_t Server::associations() const { return m_state->live(); }

void Server::stop() {
  State& s = *m_state;
  if (s.stopping.exchange(true)) return;
  const char wake = 1;
  (void)::write(s.wake[1], &wake, 1);
  if (s.listener.joinable()) s.listener.join();
  {
    std::lock_guard lock(s.mutex);
    // A blocked read returns at once on a socket shut down for reading.
    for (State::Association& a : s.associations) ::shutdown(a.fd, SHUT_RDWR);
  }
  std::lock_guard lock(s.mutex);
  for (State::Association& a : s.associations) a.thread.join();
  s.associations.clear();
}

}  // namespace m2msec::coap

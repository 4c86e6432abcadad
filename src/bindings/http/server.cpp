#include "m2msec/http/server.h"

#include <sys/socket.h>

#include <atomic>
#include <csignal>
#include <list>
#include <mutex>
#include <system_error>
#include <thread>

#include "m2msec/tls/net.h"
#include "wire.h"

namespace m2msec::http {
namespace {

// A connection refused for capacity is handled on the accept thread: this is how long it may take.
constexpr std::chrono::milliseconds kRefusalPatience{1000};

// A connection's thread, and its socket while stop() may still shut it down.
struct Live {
  explicit Live(int socket_fd) : fd(socket_fd) {}
  int fd;  // -1 once the thread closes the socket
  bool done = false;
  std::thread thread;
};

// The byte stream of an accepted connection: the socket, or the TLS session over it.
struct Link {
  std::unique_ptr<tls::Session> session;
  std::unique_ptr<wire::Channel> channel;
};

// The wire form of a handler's response, or kUsage when the wire cannot carry it.
Result<wire::WireResponse> to_wire(Response response, bool keep_alive) {
  if (response.status < 200 || response.status > 599) {
    return Error::usage("status " + std::to_string(response.status) + " is not a final status");
  }
  //= RFC 9110 §8.6
  //# A server MUST NOT send a Content-Length header field in any response with a status code of 1xx
  //# (Informational) or 204 (No Content).
  // Nor do we in a 304, which has no content either (RFC 9112 6.3).
  const bool bodiless = response.status == 204 || response.status == 304;
  if (bodiless && !response.body.empty()) return Error::usage("a 204 or 304 response has no body");
  wire::WireResponse message;
  message.version(11);
  message.result(response.status);
  M2MSEC_TRY(wire::add_headers(response.headers, message));
  if (!bodiless) message.content_length(response.body.size());
  message.body() = std::move(response.body);
  message.keep_alive(keep_alive && message.keep_alive());
  return message;
}

// Writes the response (500 instead when the wire cannot carry it); whether the connection stays open.
bool answer(wire::Stream& stream, Response response, bool keep_alive, bool head) {
  Result<wire::WireResponse> message = to_wire(std::move(response), keep_alive);
  if (!message) message = to_wire(Response{500, {}, {}}, keep_alive);
  return wire::write(stream, *message, head) && message->keep_alive();
}

}  // namespace

struct Server::State {
  ServerOptions options;
  tls::net::Socket listener;
  std::uint16_t port = 0;
  std::thread acceptor;
  std::atomic<std::uint64_t> failed_handshakes{0};

  std::mutex mutex;  // guards what follows
  bool stopping = false;
  std::list<Live> connections;
  int refusing = -1;  // the socket the accept thread is answering 503 on

  void accept_loop();
  // Joins the threads that are done; the caller holds the mutex.
  void reap();
  // The connection's byte stream, once its TLS handshake (if any) succeeded; a failed one is counted.
  std::optional<Link> open(int fd);
  // A connection's thread: requests and responses until either end closes, then the socket.
  void serve(Live& live, tls::net::Socket socket);
  void exchange(wire::Channel& channel, const Connection& connection);
  // A connection over the limit: 503 and close, on the accept thread.
  void refuse(tls::net::Socket socket);
};

void Server::State::accept_loop() {
  for (;;) {
    Result<tls::net::Socket> accepted = tls::net::accept(listener.fd());
    std::unique_lock lock(mutex);
    if (stopping) return;
    if (!accepted) {
      // A passing failure (ECONNABORTED, EMFILE): try again shortly.
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    reap();
    if (connections.size() >= options.max_connections) {
      refusing = accepted->fd();
      lock.unlock();
      refuse(std::move(*accepted));
      continue;
    }
    Live& live = connections.emplace_back(accepted->fd());
    try {
      live.thread = std::thread(&State::serve, this, std::ref(live), std::move(*accepted));
    } catch (const std::system_error&) {
      connections.pop_back();  // no thread to serve it: the socket closes
    }
  }
}

void Server::State::reap() {
  for (auto it = connections.begin(); it != connections.end();) {
    if (!it->done) {
      ++it;
      continue;
    }
    it->thread.join();
    it = connections.erase(it);
  }
}

std::optional<Link> Server::State::open(int fd) {
  Link link;
  if (!options.tls) {
    link.channel = std::make_unique<wire::SocketChannel>(fd);
    return link;
  }
  auto session = options.tls->session(fd);
  const Result<tls::Progress> handshake = session ? (*session)->handshake() : Result<tls::Progress>(session.error());
  if (!handshake || *handshake != tls::Progress::kDone) {
    ++failed_handshakes;
    return std::nullopt;
  }
  link.session = std::move(*session);
  link.channel = std::make_unique<wire::SessionChannel>(*link.session);
  return link;
}

void Server::State::serve(Live& live, tls::net::Socket socket) {
  wire::set_timeouts(socket.fd(), options.idle_timeout);
  if (std::optional<Link> link = open(socket.fd())) {
    exchange(*link->channel, Connection{link->session.get(), tls::net::peer_text(socket.fd())});
    if (link->session) link->session->close();
  }
  {
    // From here stop() leaves the socket alone: its number may be reused once closed.
    std::lock_guard lock(mutex);
    live.fd = -1;
  }
  tls::net::drain_and_close(socket);
  std::lock_guard lock(mutex);
  live.done = true;
}

void Server::State::exchange(wire::Channel& channel, const Connection& connection) {
  wire::Stream stream(channel);
  boost::beast::flat_buffer buffer;
  for (;;) {
    ParsedRequest parsed = wire::read_request(stream, buffer, options.body_limit, options.header_limit);
    if (!parsed.request) {
      if (parsed.refusal != 0) answer(stream, Response{parsed.refusal, {}, {}}, false, false);
      return;
    }
    Response response;
    try {
      response = options.handler(*parsed.request, connection);
    } catch (...) {
      response = Response{500, {}, {}};
    }
    if (!answer(stream, std::move(response), parsed.keep_alive, parsed.request->method == "HEAD")) return;
  }
}

void Server::State::refuse(tls::net::Socket socket) {
  wire::set_timeouts(socket.fd(), kRefusalPatience);
  if (std::optional<Link> link = open(socket.fd())) {
    wire::Stream stream(*link->channel);
    answer(stream, Response{503, {}, {}}, false, false);
    if (link->session) link->session->close();
  }
  {
    std::lock_guard lock(mutex);
    refusing = -1;
  }
  tls::net::drain_and_close(socket, kRefusalPatience);
}

Server::Server(std::unique_ptr<State> state) : m_state(std::move(state)) {}

Server::~Server() { stop(); }

Result<std::unique_ptr<Server>> Server::start(ServerOptions options) {
  if (!options.handler) return Error::usage("an HTTP server needs a handler");
  if (options.tls && (options.tls->config().role != tls::Role::kServer ||
                      options.tls->config().profile->transport != tls::Transport::kTls)) {
    return Error::usage("an HTTPS server needs a TLS (not DTLS) server context");
  }
  if (options.max_connections == 0 || options.idle_timeout.count() <= 0) {
    return Error::usage("an HTTP server needs a positive connection limit and idle timeout");
  }
  ::signal(SIGPIPE, SIG_IGN);
  auto state = std::make_unique<State>();
  M2MSEC_ASSIGN_OR_RETURN(state->listener, tls::net::listen({options.host, options.port}, false));
  M2MSEC_ASSIGN_OR_RETURN(state->port, tls::net::local_port(state->listener.fd()));
  state->options = std::move(options);
  state->acceptor = std::thread(&State::accept_loop, state.get());
  return std::unique_ptr<Server>(new Server(std::move(state)));
}

std::uint16_t Server::port() const { return m_state->port; }

std::string Server::url() const {
  return std::string(m_state->options.tls ? "https" : "http") + "://" + wire::url_host(m_state->options.host) + ":" +
         std::to_string(m_state->port);
}

std::uint64_t Server::failed_handshakes() const { return m_state->failed_handshakes; }

void Server::stop() {
  State& s = *m_state;
  {
    std::lock_guard lock(s.mutex);
    if (s.stopping) return;
    s.stopping = true;
    // A blocked accept(), read() or handshake returns at once.
    ::shutdown(s.listener.fd(), SHUT_RDWR);
    for (const Live& live : s.connections) {
      if (live.fd >= 0) ::shutdown(live.fd, SHUT_RDWR);
    }
    if (s.refusing >= 0) ::shutdown(s.refusing, SHUT_RDWR);
  }
  s.acceptor.join();
  // The accept thread has ended: nothing adds to the list any more.
  for (Live& live : s.connections) live.thread.join();
  s.connections.clear();
}

}  // namespace m2msec::http

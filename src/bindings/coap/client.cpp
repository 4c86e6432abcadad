#include "m2msec/coap/client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <optional>
#include <random>

#include "m2msec/coap/onem2m.h"
#include "m2msec/core/text.h"
#include "m2msec/crypto/random.h"
#include "m2msec/tls/hello.h"
#include "m2msec/tls/net.h"
#include "m2msec/tls/profile.h"

namespace m2msec::coap {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint8_t kContinue = code(2, 31);
constexpr std::uint8_t kRequestEntityTooLarge = code(4, 13);
// How long one read of a DTLS record may block once poll() said a datagram is there (it may be a record that
// DTLS drops, RFC 6347 4.1.2.7, and then the read waits for the next one).
constexpr std::chrono::milliseconds kRecordWait{200};
// How many acknowledged separate responses are remembered, to acknowledge their retransmissions again.
constexpr std::size_t kRememberedAcks = 32;

unsigned response_class(std::uint8_t c) { return c >> 5; }

Result<std::uint32_t> uint_of(const Option& o, std::string_view what) {
  auto value = decode_uint(o.value);
  if (!value) return Error(Category::kProtocol, concat({what, " option longer than its format allows"}));
  return *value;
}

std::vector<Option> options_without(const std::vector<Option>& options, std::initializer_list<std::uint16_t> numbers) {
  std::vector<Option> out;
  for (const Option& o : options) {
    if (std::find(numbers.begin(), numbers.end(), o.number) == numbers.end()) out.push_back(o);
  }
  return out;
}
bool is_block_or_size(std::uint16_t number) {
  return number == kOptionBlock1 || number == kOptionBlock2 || number == kOptionSize1 || number == kOptionSize2;
}

Option block_option(std::uint16_t number, const Block& block) { return Option{number, encode_block(block)}; }
// The Block1 or Block2 option of a message (RFC 7959 §2.2: 0-3 octets, SZX 7 reserved for BERT, not on UDP).
Result<std::optional<Block>> block_of(const Message& m, std::uint16_t number) {
  const Option* o = find_option(m, number);
  if (o == nullptr) return std::optional<Block>();
  auto block = decode_block(o->value);
  if (!block) return Error(Category::kProtocol, concat({number == kOptionBlock1 ? "Block1" : "Block2", " option malformed"}));
  return std::optional<Block>(*block);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
Result<Bytes> percent_decode(std::string_view text) {
  Bytes out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(static_cast<std::uint8_t>(text[i]));
      continue;
    }
    if (i + 2 >= text.size() || hex_value(text[i + 1]) < 0 || hex_value(text[i + 2]) < 0) {
      return Error::usage(concat({"bad percent-encoding in '", text, "'"}));
    }
    out.push_back(static_cast<std::uint8_t>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
    i += 2;
  }
  return out;
}
Result<void> check_options(const ClientOptions& o) {
  if (o.block_size < 16 || o.block_size > 1024 || (o.block_size & (o.block_size - 1)) != 0) {
    return Error::usage("the CoAP block size must be a power of two from 16 to 1024 (RFC 7959 §2.2)");
  }
  if (o.ack_timeout.count() <= 0 || o.ack_random_factor < 1.0 || o.max_retransmit > 20 ||
      o.separate_response_timeout.count() <= 0) {
    return Error::usage("bad CoAP transmission parameters");
  }
  return {};
}

}  // namespace

// ---- URLs -----------------------------------------------------------------------------------------------

//= RFC 7252 §6.1, §6.2
//# coap URIs default to port 5683; coaps URIs to 5684 and are secured by DTLS. A URI with a fragment cannot be
//# turned into request options (§6.4), and the shared parser refuses one.
Result<Url> Url::parse(std::string_view text) {
  static constexpr std::array<tls::net::Url::Scheme, 2> kSchemes{{{"coap", 5683}, {"coaps", 5684}}};
  M2MSEC_ASSIGN_OR_RETURN(tls::net::Url url, tls::net::Url::parse(text, kSchemes));
  return Url{std::move(url.scheme), std::move(url.host), url.port, std::move(url.target)};
}

std::string Url::authority_url() const {
  const bool v6 = host.find(':') != std::string::npos;
  return concat({scheme, "://", v6 ? "[" : "", host, v6 ? "]" : "", ":", std::to_string(port)});
}

Result<std::vector<Option>> uri_options(std::string_view target) {
  std::vector<Option> out;
  const auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  //= RFC 7252 §6.4
  //# Step 8: a path that is empty or "/" adds no Uri-Path; otherwise each "/"-separated segment, percent-
  //# decoded, is one Uri-Path option. Step 9: each "&"-separated part of the query is one Uri-Query option.
  if (path.starts_with('/')) path.remove_prefix(1);
  if (!path.empty()) {
    for (;;) {
      const auto slash = path.find('/');
      M2MSEC_ASSIGN_OR_RETURN(Bytes segment, percent_decode(path.substr(0, slash)));
      out.push_back(Option{kOptionUriPath, std::move(segment)});
      if (slash == std::string_view::npos) break;
      path.remove_prefix(slash + 1);
    }
  }
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    for (;;) {
      const auto amp = query.find('&');
      M2MSEC_ASSIGN_OR_RETURN(Bytes part, percent_decode(query.substr(0, amp)));
      out.push_back(Option{kOptionUriQuery, std::move(part)});
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  return out;
}

// ---- the connection ----------------------------------------------------------------------------------

struct ClientConnection::State {
  tls::net::Socket socket;
  std::unique_ptr<tls::Session> session;
  ClientOptions options;
  std::uint16_t next_mid = 0;
  std::mt19937 jitter{std::random_device{}()};
  std::deque<std::uint16_t> acknowledged;  // message IDs of Confirmable responses we acknowledged
  std::uint64_t sent = 0;

  Result<void> send_datagram(ByteView datagram) {
    ++sent;
    if (session) {
      auto written = session->write(datagram);
      if (!written) return written.error().tls_alert() ? written.error() : Error(Category::kIo, written.error().detail());
      return {};
    }
    for (;;) {
      const ssize_t n = ::send(socket.fd(), datagram.data(), datagram.size(), 0);
      if (n >= 0) return {};
      if (errno == EINTR) continue;
      return Error(Category::kIo, concat({"send: ", std::strerror(errno)}));
    }
  }
  Result<void> send_message(const Message& m) {
    M2MSEC_ASSIGN_OR_RETURN(const Bytes datagram, serialize(m));
    return send_datagram(datagram);
  }
  Result<void> send_empty(Type type, std::uint16_t mid) { return send_message(Message{type, kEmpty, mid, {}, {}, {}}); }

  // The next datagram, or nothing when `deadline` passed first.
  Result<std::optional<Bytes>> receive(Clock::time_point deadline) {
    std::array<std::uint8_t, 65536> buffer{};
    for (;;) {
      const auto now = Clock::now();
      if (now >= deadline) return std::optional<Bytes>();
      const auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
      pollfd p{socket.fd(), POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(wait.count(), 1 << 30)));
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) return Error(Category::kIo, concat({"poll: ", std::strerror(errno)}));
      if (ready == 0) continue;
      if (session) {
        auto got = session->read(buffer);
        if (!got) {
          // A datagram DTLS discarded (a record that does not authenticate, a stray handshake record): the
          // read gave up after kRecordWait; keep waiting until the deadline.
          if (got.error().category() == Category::kIo && got.error().detail().find("timed out") != std::string::npos) continue;
          return got.error().tls_alert() ? got.error() : Error(Category::kIo, got.error().detail());
        }
        if (*got == 0) return Error(Category::kIo, "the server closed the DTLS association");
        return std::optional<Bytes>(Bytes(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(*got)));
      }
      const ssize_t n = ::recv(socket.fd(), buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      if (n < 0) return Error(Category::kIo, concat({"receive: ", std::strerror(errno)}));
      return std::optional<Bytes>(Bytes(buffer.begin(), buffer.begin() + n));
    }
  }

  void remember_ack(std::uint16_t mid) {
    acknowledged.push_back(mid);
    if (acknowledged.size() > kRememberedAcks) acknowledged.pop_front();
  }

  Result<Bytes> fresh_token() { return crypto::random_bytes(crypto::system_rng(), kMaxTokenSize); }

  // One Confirmable request message and its response (RFC 7252 §4.2, §5.2).
  Result<Message> exchange(Message m) {
    m.type = Type::kConfirmable;
    //= RFC 7252 §4.4
    //# Each new Confirmable message gets a fresh Message ID; the IDs of one endpoint follow each other.
    m.message_id = next_mid++;
    //= RFC 7252 §5.3.1
    //# The token matches a response to its request; without DTLS it should be random (at least 32 bits)
    //# against spoofed responses: we always use 8 random octets.
    M2MSEC_ASSIGN_OR_RETURN(m.token, fresh_token());
    M2MSEC_ASSIGN_OR_RETURN(const Bytes datagram, serialize(m));

    //= RFC 7252 §4.2
    //# The first timeout is a random duration between ACK_TIMEOUT and ACK_TIMEOUT * ACK_RANDOM_FACTOR; each
    //# retransmission doubles it, and after MAX_RETRANSMIT retransmissions the sender gives up.
    std::uniform_real_distribution<double> factor(1.0, options.ack_random_factor);
    auto timeout = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double, std::milli>(static_cast<double>(options.ack_timeout.count()) * factor(jitter)));
    unsigned retransmissions = 0;
    M2MSEC_TRY(send_datagram(datagram));
    auto deadline = Clock::now() + timeout;
    bool acknowledged_empty = false;

    for (;;) {
      M2MSEC_ASSIGN_OR_RETURN(std::optional<Bytes> got, receive(deadline));
      if (!got) {
        if (acknowledged_empty) {
          return Error(Category::kIo, concat({"no separate response within ",
                                              std::to_string(options.separate_response_timeout.count()), " ms"}));
        }
        if (retransmissions >= options.max_retransmit) {
          return Error(Category::kIo, concat({"timed out: no answer from the CoAP server after ",
                                              std::to_string(retransmissions + 1), " transmissions"}));
        }
        ++retransmissions;
        timeout *= 2;
        M2MSEC_TRY(send_datagram(datagram));
        deadline = Clock::now() + timeout;
        continue;
      }
      auto parsed = parse(*got);
      //= RFC 7252 §4.2
      //# A malformed Acknowledgement or Reset is silently ignored (as is any datagram we cannot parse).
      if (!parsed) continue;
      Message in = std::move(parsed).value();
      switch (in.type) {
        case Type::kAcknowledgement:
          // An ACK for another (earlier) message: a duplicate; ignored.
          if (in.message_id != m.message_id) continue;
          if (in.code == kEmpty) {
            //= RFC 7252 §5.2.2
            //# An Empty ACK stops the retransmission; the response follows later in a message of its own.
            if (!acknowledged_empty) {
              acknowledged_empty = true;
              deadline = Clock::now() + options.separate_response_timeout;
            }
            continue;
          }
          //= RFC 7252 §5.3.2
          //# A response matches a request by its token (a piggybacked one also by the Message ID).
          if (in.token != m.token) continue;
          return check_response(std::move(in));
        case Type::kReset:
          //= RFC 7252 §4.2
          //# A Reset that matches the Message ID: the server could not process the request.
          if (in.message_id == m.message_id) {
            return Error(Category::kProtocol, "the CoAP server answered the request with a Reset");
          }
          continue;
        case Type::kConfirmable:
        case Type::kNonConfirmable: {
          const bool is_response = response_class(in.code) >= 2;
          if (is_response && in.token == m.token) {
            //= RFC 7252 §5.2.2
            //# A separate response in a Confirmable message is acknowledged with an Empty ACK (it may even
            //# arrive before the Empty ACK of the request, which it then implies).
            if (in.type == Type::kConfirmable) {
              M2MSEC_TRY(send_empty(Type::kAcknowledgement, in.message_id));
              remember_ack(in.message_id);
            }
            return check_response(std::move(in));
          }
          if (in.type == Type::kConfirmable) {
            //= RFC 7252 §4.5
            //# A duplicate of a Confirmable message we acknowledged is acknowledged again (and not processed);
            //# RFC 7252 §4.2: an unexpected Confirmable message is rejected with a Reset.
            const bool seen = std::find(acknowledged.begin(), acknowledged.end(), in.message_id) != acknowledged.end();
            M2MSEC_TRY(send_empty(seen ? Type::kAcknowledgement : Type::kReset, in.message_id));
          }
          // RFC 7252 §4.3: an unexpected Non-confirmable message is ignored.
          continue;
        }
      }
    }
  }

  static Result<Message> check_response(Message in) {
    const unsigned c = response_class(in.code);
    //= RFC 7252 §5.9
    //# Response codes are of the classes 2 (success), 4 (client error) and 5 (server error).
    if (c != 2 && c != 4 && c != 5) {
      return Error(Category::kProtocol, concat({"the CoAP server answered with code ", code_text(in.code)}));
    }
    return in;
  }

  Result<Message> request(Message req) {
    if (response_class(req.code) != 0 || req.code == kEmpty) {
      return Error::usage(concat({"a CoAP request needs a method code (0.01-0.31), not ", code_text(req.code)}));
    }
    for (const Option& o : req.options) {
      if (is_block_or_size(o.number)) return Error::usage("the block-wise options are the client's to set");
    }
    const std::uint8_t our_szx = *szx_of(options.block_size);
    const Bytes body = std::move(req.payload);
    // RFC 7959 §2.4: asking for smaller Block2 blocks than the default 1024 is done in the request.
    const bool early_block2 = options.block_size < 1024;

    Message response;
    std::size_t size = options.block_size;
    for (;;) {
      if (body.size() <= size) {
        Message single = req;
        single.payload = body;
        if (early_block2) single.options.push_back(block_option(kOptionBlock2, Block{0, false, our_szx}));
        M2MSEC_ASSIGN_OR_RETURN(response, exchange(std::move(single)));
        M2MSEC_ASSIGN_OR_RETURN(const std::optional<Block> wanted, block_of(response, kOptionBlock1));
        //= RFC 7959 §2.9.3
        //# 4.13 with a Block1 option: the server would take the body in blocks of that size; try again so.
        if (response.code == kRequestEntityTooLarge && wanted && wanted->size() < size && wanted->size() < body.size()) {
          size = wanted->size();
          continue;
        }
        break;
      }
      bool restart = false;
      std::size_t offset = 0;
      for (;;) {
        const Block block{static_cast<std::uint32_t>(offset / size), offset + size < body.size(), *szx_of(size)};
        const std::size_t end = std::min(offset + size, body.size());
        Message part = req;
        part.payload.assign(body.begin() + static_cast<std::ptrdiff_t>(offset), body.begin() + static_cast<std::ptrdiff_t>(end));
        //= RFC 7959 §2.5
        //# Block1 in a request describes the block it carries: number, size, and M when more follow.
        part.options.push_back(block_option(kOptionBlock1, block));
        //= RFC 7959 §4
        //# Size1 in a block-wise request tells the server the size of the whole body.
        part.options.push_back(Option{kOptionSize1, encode_uint(static_cast<std::uint32_t>(body.size()))});
        if (!block.more && early_block2) part.options.push_back(block_option(kOptionBlock2, Block{0, false, our_szx}));
        M2MSEC_ASSIGN_OR_RETURN(response, exchange(std::move(part)));
        M2MSEC_ASSIGN_OR_RETURN(const std::optional<Block> answer, block_of(response, kOptionBlock1));
        if (response.code == kRequestEntityTooLarge && answer && answer->size() < size) {
          size = answer->size();
          restart = true;
          break;
        }
        if (!block.more) break;
        //= RFC 7959 §2.3
        //# 2.31 Continue acknowledges a non-final block (its Block1 names it); any other code ends the
        //# transfer. The server's SZX there is its preference, which the following blocks heed.
        if (response.code != kContinue) break;
        if (!answer || answer->num != block.num) {
          return Error(Category::kProtocol, "2.31 Continue without the Block1 option of the block sent");
        }
        offset = end;
        if (answer->size() < size) size = answer->size();
      }
      if (!restart) break;
    }
    if (response.code == kContinue) return Error(Category::kProtocol, "2.31 Continue to the last block of a request");
    return fetch_rest(req, std::move(response));
  }

  // Block2 (RFC 7959 §2.4): the rest of a response body that came in blocks.
  Result<Message> fetch_rest(const Message& req, Message first) {
    M2MSEC_ASSIGN_OR_RETURN(std::optional<Block> block, block_of(first, kOptionBlock2));
    const Option* size2 = find_option(first, kOptionSize2);
    const Option* etag = find_option(first, kOptionETag);
    const bool has_etag = etag != nullptr;
    const Bytes first_etag = has_etag ? etag->value : Bytes();
    if (size2 != nullptr) {
      M2MSEC_ASSIGN_OR_RETURN(const std::uint32_t announced, uint_of(*size2, "Size2"));
      //= RFC 7959 §4
      //# Size2 announces the size of the whole representation: one over the limit is refused before fetching.
      if (announced > options.body_limit) {
        return Error(Category::kProtocol, concat({"the CoAP response body (Size2 ", std::to_string(announced),
                                                  ") is over the limit of ", std::to_string(options.body_limit)}));
      }
    }
    Bytes body = std::move(first.payload);
    Message whole = std::move(first);
    whole.options = options_without(whole.options, {kOptionBlock1, kOptionBlock2, kOptionSize1, kOptionSize2});
    const auto over_limit = [&] {
      return Error(Category::kProtocol, concat({"the CoAP response body is over the limit of ", std::to_string(options.body_limit)}));
    };
    if (body.size() > options.body_limit) return over_limit();
    if (block && block->num != 0) return Error(Category::kProtocol, "the first Block2 block of a response is not block 0");
    while (block && block->more) {
      //= RFC 7959 §2.2
      //# Every block but the last carries exactly the block size (M set); the last may be shorter.
      if (body.size() != block->offset() + block->size()) {
        return Error(Category::kProtocol, "a Block2 block with M set is not of the block size");
      }
      //= RFC 7959 §2.4
      //# The next block is asked for by the same request (no payload) with Block2 giving its number and the
      //# size the server chose; the M bit of a Block2 option in a request is zero.
      Message next = req;
      next.payload.clear();
      const Block wanted{block->num + 1, false, block->szx};
      next.options.push_back(block_option(kOptionBlock2, wanted));
      M2MSEC_ASSIGN_OR_RETURN(Message part, exchange(std::move(next)));
      if (response_class(part.code) != 2) {
        return Error(Category::kProtocol, concat({"the CoAP server answered block ", std::to_string(wanted.num),
                                                  " of the response with ", code_text(part.code)}));
      }
      M2MSEC_ASSIGN_OR_RETURN(block, block_of(part, kOptionBlock2));
      if (!block || block->num != wanted.num || block->szx != wanted.szx) {
        return Error(Category::kProtocol, "the CoAP server did not answer with the Block2 block asked for");
      }
      const Option* part_etag = find_option(part, kOptionETag);
      //= RFC 7959 §2.4
      //# The ETag tells whether the blocks belong to one representation: a change mid-transfer is an error here.
      if ((part_etag != nullptr) != has_etag || (part_etag != nullptr && part_etag->value != first_etag)) {
        return Error(Category::kProtocol, "the representation changed during the Block2 transfer (ETag)");
      }
      if (body.size() + part.payload.size() > options.body_limit) return over_limit();
      body.insert(body.end(), part.payload.begin(), part.payload.end());
      if (!block->more && part.payload.size() > block->size()) {
        return Error(Category::kProtocol, "the last Block2 block is larger than the block size");
      }
    }
    whole.payload = std::move(body);
    return whole;
  }
};

ClientConnection::ClientConnection(std::unique_ptr<State> state) : m_state(std::move(state)) {}
ClientConnection::ClientConnection(ClientConnection&&) noexcept = default;
ClientConnection& ClientConnection::operator=(ClientConnection&&) noexcept = default;
ClientConnection::~ClientConnection() { close(); }

Result<ClientConnection> ClientConnection::open(const tls::net::Endpoint& to, std::shared_ptr<const tls::Context> dtls,
                                                ClientOptions options) {
  M2MSEC_TRY(check_options(options));
  if (dtls) {
    const tls::Config& config = dtls->config();
    if (config.role != tls::Role::kClient || config.profile == nullptr ||
        config.profile->transport != tls::Transport::kDtls) {
      return Error::usage("coaps needs a DTLS client context");
    }
  }
  auto state = std::make_unique<State>();
  state->options = options;
  M2MSEC_ASSIGN_OR_RETURN(state->socket, tls::net::connect(to, true));
  if (dtls) {
    M2MSEC_ASSIGN_OR_RETURN(state->session, dtls->session(state->socket.fd()));
    M2MSEC_ASSIGN_OR_RETURN(const tls::Progress progress, state->session->handshake());
    if (progress != tls::Progress::kDone) return Error::internal("DTLS handshake on a blocking socket did not finish");
    // Reads after poll() said a datagram is there: bounded, in case DTLS drops it (see kRecordWait).
    const timeval tv{0, static_cast<suseconds_t>(kRecordWait.count() * 1000)};
    if (::setsockopt(state->socket.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
      return Error(Category::kIo, concat({"setsockopt: ", std::strerror(errno)}));
    }
  }
  //= RFC 7252 §4.4
  //# The first Message ID is randomized, so that a restarted client does not repeat recent IDs.
  M2MSEC_ASSIGN_OR_RETURN(const Bytes start, crypto::random_bytes(crypto::system_rng(), 2));
  state->next_mid = static_cast<std::uint16_t>((start[0] << 8) | start[1]);
  return ClientConnection(std::move(state));
}

Result<ClientConnection> ClientConnection::open(const Url& url, std::shared_ptr<const tls::Context> dtls,
                                                ClientOptions options) {
  if (url.scheme == "coaps" && !dtls) return Error::usage("a coaps URL needs a DTLS client context");
  if (url.scheme == "coap" && dtls) return Error::usage("a coap URL is plain UDP: no DTLS context");
  in6_addr scratch{};
  if (::inet_pton(AF_INET, url.host.c_str(), &scratch) == 1 || ::inet_pton(AF_INET6, url.host.c_str(), &scratch) == 1) {
    return open(tls::net::Endpoint{url.host, url.port}, std::move(dtls), options);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(url.host.c_str(), nullptr, &hints, &found); rc != 0) {
    return Error(Category::kIo, concat({"resolve ", url.host, ": ", ::gai_strerror(rc)}));
  }
  const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, ::freeaddrinfo);
  // UDP has no connection to fail: the first address is the one used.
  char text[NI_MAXHOST] = {};
  if (::getnameinfo(found->ai_addr, found->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) != 0) {
    return Error(Category::kIo, concat({"no address for ", url.host}));
  }
  return open(tls::net::Endpoint{text, url.port}, std::move(dtls), options);
}

const tls::Session* ClientConnection::session() const { return m_state ? m_state->session.get() : nullptr; }
const ClientOptions& ClientConnection::options() const { return m_state->options; }
std::uint64_t ClientConnection::datagrams_sent() const { return m_state ? m_state->sent : 0; }

Result<Message> ClientConnection::request(Message request) {
  if (!m_state || m_state->socket.fd() < 0) return Error::usage("the CoAP connection is closed");
  return m_state->request(std::move(request));
}

void ClientConnection::close() {
  if (!m_state) return;
  if (m_state->session) {
    m_state->session->close();
    m_state->session.reset();
  }
  m_state->socket = tls::net::Socket();
}

Result<onem2m::Response> send_primitive(ClientConnection& connection, const onem2m::Request& request) {
  M2MSEC_ASSIGN_OR_RETURN(Message message, to_coap_request(request));
  M2MSEC_ASSIGN_OR_RETURN(const Message response, connection.request(std::move(message)));
  return from_coap_response(response, request.rqi);
}

}  // namespace m2msec::coap

// The wire side of the module, private: byte channels (a TLS session, a plain socket), the adapter that
// lets Beast's synchronous parser and serializer run on them, and the steps server and client share.
#pragma once

// Boost 1.74 Asio needs <utility> before its headers under g++ 12 with -std=c++20.
#include <utility>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/buffer_traits.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/system/system_error.hpp>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/http/message.h"
#include "m2msec/tls/session.h"

namespace m2msec::http::wire {

namespace beast = boost::beast;

// A connected byte stream. read() returns 0 octets when the peer closed.
class Channel {
 public:
  virtual ~Channel() = default;
  virtual Result<std::size_t> read(std::span<std::uint8_t> out) = 0;
  virtual Result<std::size_t> write(ByteView data) = 0;
};

// A plain TCP socket (not owned). A timeout (SO_RCVTIMEO / SO_SNDTIMEO) and a reset are kIo errors.
class SocketChannel final : public Channel {
 public:
  explicit SocketChannel(int fd) : m_fd(fd) {}
  Result<std::size_t> read(std::span<std::uint8_t> out) override;
  Result<std::size_t> write(ByteView data) override;

 private:
  int m_fd;
};

// An established TLS association.
class SessionChannel final : public Channel {
 public:
  explicit SessionChannel(tls::Session& session) : m_session(session) {}
  Result<std::size_t> read(std::span<std::uint8_t> out) override { return m_session.read(out); }
  Result<std::size_t> write(ByteView data) override { return m_session.write(data); }

 private:
  tls::Session& m_session;
};

// Beast's SyncReadStream and SyncWriteStream over a Channel. A channel's end is asio's eof; its failure
// is kept (failure()) and reported to Beast as an I/O error.
class Stream {
 public:
  explicit Stream(Channel& channel) : m_channel(channel) {}

  template <class Buffers>
  std::size_t read_some(const Buffers& buffers, boost::system::error_code& ec) {
    for (const auto buffer : beast::buffers_range_ref(buffers)) {
      if (buffer.size() == 0) continue;
      const Result<std::size_t> got = m_channel.read({static_cast<std::uint8_t*>(buffer.data()), buffer.size()});
      if (got && *got == 0) {
        ec = boost::asio::error::eof;
        return 0;
      }
      return settle(got, ec);
    }
    ec = {};
    return 0;
  }
  // The whole buffer sequence in one write (up to one TLS record's worth): Beast hands a header over as
  // many small buffers, and writing them one by one sends a TLS record and a TCP segment per line, each
  // waiting for the peer's delayed ACK (tens of milliseconds per exchange).
  template <class Buffers>
  std::size_t write_some(const Buffers& buffers, boost::system::error_code& ec) {
    const std::size_t total = std::min<std::size_t>(beast::buffer_bytes(buffers), kMaxWrite);
    if (total == 0) {
      ec = {};
      return 0;
    }
    m_gathered.resize(total);
    boost::asio::buffer_copy(boost::asio::buffer(m_gathered), buffers);
    return settle(m_channel.write(ByteView(m_gathered.data(), total)), ec);
  }
  // The stream concepts require the throwing forms too; Beast's synchronous read and write with an
  // error_code do not call them.
  template <class Buffers>
  std::size_t read_some(const Buffers& buffers) {
    boost::system::error_code ec;
    const std::size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  template <class Buffers>
  std::size_t write_some(const Buffers& buffers) {
    boost::system::error_code ec;
    const std::size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

  // The channel's error behind the last failed read or write, if one failed.
  const std::optional<Error>& failure() const { return m_failure; }

 private:
  std::size_t settle(const Result<std::size_t>& done, boost::system::error_code& ec) {
    if (!done) {
      m_failure = done.error();
      ec = boost::asio::error::fault;
      return 0;
    }
    ec = {};
    return *done;
  }

  static constexpr std::size_t kMaxWrite = 16384;  // a TLS record's plaintext (RFC 8446 5.1)
  Channel& m_channel;
  std::optional<Error> m_failure;
  std::vector<std::uint8_t> m_gathered;
};

using WireRequest = beast::http::request<beast::http::string_body>;
using WireResponse = beast::http::response<beast::http::string_body>;

// Beast 1.74 takes Boost's string_view.
inline beast::string_view view(std::string_view text) { return {text.data(), text.size()}; }

// SO_RCVTIMEO and SO_SNDTIMEO: a read or write that waits longer fails.
void set_timeouts(int fd, std::chrono::milliseconds timeout);

// The host as a URL writes it: an IPv6 address in brackets.
std::string url_host(std::string_view host);

// Beast's header limit is 32 bits wide.
inline std::uint32_t header_limit_of(std::size_t limit) {
  return static_cast<std::uint32_t>(std::min<std::size_t>(limit, std::numeric_limits<std::uint32_t>::max()));
}

// RFC 9110 5.6.2 token (methods, header names) and 5.5 field value (no CR, LF, NUL or other controls).
bool is_token(std::string_view text);
bool is_field_value(std::string_view text);

// Adds the headers to a Beast message, except the framing ones (Content-Length, Transfer-Encoding) the
// wire code sets itself. Fails with kUsage on a header the wire cannot carry.
Result<void> add_headers(const std::vector<Header>& headers, beast::http::fields& fields);
std::vector<Header> headers_of(const beast::http::fields& fields);

// Reads the next request (the buffer keeps what arrived beyond it), sending "100 Continue" when the
// request expects it and passed the checks its header allows.
ParsedRequest read_request(Stream& stream, beast::flat_buffer& buffer, std::size_t body_limit,
                           std::size_t header_limit);

// Writes a message; header_only leaves the body out (a response to HEAD).
template <bool kIsRequest>
Result<void> write(Stream& stream, beast::http::message<kIsRequest, beast::http::string_body>& message,
                   bool header_only = false) {
  boost::system::error_code ec;
  beast::http::serializer<kIsRequest, beast::http::string_body> serializer(message);
  if (header_only) {
    beast::http::write_header(stream, serializer, ec);
  } else {
    beast::http::write(stream, serializer, ec);
  }
  if (!ec) return {};
  return stream.failure().value_or(Error(Category::kIo, "write: " + ec.message()));
}

}  // namespace m2msec::http::wire

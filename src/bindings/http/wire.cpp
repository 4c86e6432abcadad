#include "wire.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/beast/http/empty_body.hpp>
#include <cerrno>
#include <cstring>

namespace m2msec::http::wire {
namespace {

namespace bhttp = beast::http;

// Beast keeps a field's name and value in 16-bit sizes, with two octets to spare.
constexpr std::size_t kMaxFieldOctets = 65533;

Error io_error(std::string_view during) {
  const bool timed_out = errno == EAGAIN || errno == EWOULDBLOCK;
  return Error(Category::kIo, std::string(during) + ": " + (timed_out ? "timed out" : std::strerror(errno)));
}

// A read that ended before a request: nothing to answer when the connection ended (or failed); else the
// status that tells the peer what was wrong.
unsigned refusal_for(const Stream& stream, const boost::system::error_code& ec) {
  if (stream.failure() || ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return 0;
  if (ec == bhttp::error::body_limit) return 413;
  if (ec == bhttp::error::header_limit) return 431;
  return 400;
}

}  // namespace

Result<std::size_t> SocketChannel::read(std::span<std::uint8_t> out) {
  for (;;) {
    const ssize_t got = ::recv(m_fd, out.data(), out.size(), 0);
    if (got >= 0) return static_cast<std::size_t>(got);
    if (errno != EINTR) return io_error("recv");
  }
}

Result<std::size_t> SocketChannel::write(ByteView data) {
  for (;;) {
    const ssize_t sent = ::send(m_fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent >= 0) return static_cast<std::size_t>(sent);
    if (errno != EINTR) return io_error("send");
  }
}

void set_timeouts(int fd, std::chrono::milliseconds timeout) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  const timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

std::string url_host(std::string_view host) {
  return host.find(':') == std::string_view::npos ? std::string(host) : "[" + std::string(host) + "]";
}

bool is_token(std::string_view text) {
  constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kSymbols.find(c) != std::string_view::npos;
  });
}

bool is_field_value(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto octet = static_cast<unsigned char>(c);
    return octet == '\t' || (octet >= 0x20 && octet != 0x7f);
  });
}

Result<void> add_headers(const std::vector<Header>& headers, bhttp::fields& fields) {
  for (const Header& header : headers) {
    if (!is_token(header.name) || !is_field_value(header.value) || header.name.size() > kMaxFieldOctets ||
        header.value.size() > kMaxFieldOctets) {
      return Error::usage("header '" + header.name + "' cannot be carried in HTTP/1.1");
    }
    if (beast::iequals(header.name, "Content-Length") || beast::iequals(header.name, "Transfer-Encoding")) continue;
    fields.insert(header.name, header.value);
  }
  return {};
}

std::vector<Header> headers_of(const bhttp::fields& fields) {
  std::vector<Header> out;
  for (const auto& field : fields) out.push_back({std::string(field.name_string()), std::string(field.value())});
  return out;
}

ParsedRequest read_request(Stream& stream, beast::flat_buffer& buffer, std::size_t body_limit,
                           std::size_t header_limit) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.body_limit(body_limit);
  parser.header_limit(header_limit_of(header_limit));
  boost::system::error_code ec;
  bhttp::read_header(stream, buffer, parser, ec);
  if (ec) return {std::nullopt, refusal_for(stream, ec)};
  const auto& header = parser.get();
  //= RFC 9112 §3.2
  //# A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request message that lacks
  //# a Host header field and to any request message that contains more than one Host header field.
  // We ask it of HTTP/1.0 requests too.
  if (header.count(bhttp::field::host) != 1) return {std::nullopt, 400};
  // RFC 9110 10.1.1: an HTTP/1.0 request's expectation is ignored.
  if (header.version() == 11 && !parser.is_done() && beast::iequals(header[bhttp::field::expect], "100-continue")) {
    bhttp::response<bhttp::empty_body> proceed{bhttp::status::continue_, 11};
    bhttp::write(stream, proceed, ec);
    if (ec) return {};
  }
  // The header section's fields only: Beast appends a chunked body's trailer fields, which a recipient may
  // discard (RFC 9112 7.1.2) and must not treat as header fields (RFC 9110 6.5.1).
  std::vector<Header> headers = headers_of(header);
  const bool keep_alive = header.keep_alive();
  bhttp::read(stream, buffer, parser, ec);
  if (ec) return {std::nullopt, refusal_for(stream, ec)};
  WireRequest message = parser.release();
  Request request{std::string(message.method_string()), std::string(message.target()), std::move(headers),
                  std::move(message.body())};
  return {std::move(request), 0, keep_alive};
}

}  // namespace m2msec::http::wire

// HTTP/1.1 messages (RFC 9110, RFC 9112) as plain values: what a handler receives and returns, and what
// the client sends. Framing (Content-Length, Transfer-Encoding) belongs to the wire code, not to these.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace m2msec::http {

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  std::string method;
  std::string target;  // origin-form: "/path?query"
  std::vector<Header> headers;
  std::string body;
  // The value of the first header of that name (names compare case-insensitively).
  std::optional<std::string_view> header(std::string_view name) const;
};

struct Response {
  unsigned status = 200;
  std::vector<Header> headers;
  std::string body;
  std::optional<std::string_view> header(std::string_view name) const;
};

// What the server makes of the octets a connection delivered, before any handler runs.
struct ParsedRequest {
  // A complete HTTP/1.0 or 1.1 request with exactly one Host header and a body within the limit.
  std::optional<Request> request;
  // Without a request: the status answered before closing (400 malformed, another HTTP version, or not
  // exactly one Host; 413 body over the limit; 431 header over the limit), or 0 when the octets end first.
  unsigned refusal = 0;
  // With a request: whether the connection stays open after the response (HTTP/1.1 unless "close").
  bool keep_alive = false;
};

// The server's parse step on octets already received (no socket): the first request in `octets`. A
// request that expects 100-continue is parsed as if the interim response had been sent.
ParsedRequest parse_request(std::string_view octets, std::size_t body_limit, std::size_t header_limit);

}  // namespace m2msec::http

// Fuzz target: http::parse_request, the server's parse step on the octets a connection delivers
// (limits: 256-octet body, 1024-octet header):
//   when it accepts, the request has a token method, a non-empty target, exactly one Host header, header
//     names that are tokens and values without CR, LF or NUL, and a body within the limit; re-sent in the
//     simplest form (request line, Host, Content-Length, body) it parses back to the same method,
//     target, Host and body;
//   when it refuses, the status is one the server answers with (400, 413, 431), or 0 when the octets
//     end before a request does.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "m2msec/http/message.h"

namespace {

constexpr std::size_t kBodyLimit = 256;
constexpr std::size_t kHeaderLimit = 1024;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool is_token(std::string_view text) {
  constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kSymbols.find(c) != std::string_view::npos;
  });
}

bool is_count(const m2msec::http::Request& request, std::string_view name, std::size_t count) {
  return static_cast<std::size_t>(std::count_if(request.headers.begin(), request.headers.end(), [&](const auto& h) {
           return std::equal(h.name.begin(), h.name.end(), name.begin(), name.end(),
                             [](char a, char b) { return (a | 0x20) == (b | 0x20); });
         })) == count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view octets(reinterpret_cast<const char*>(data), size);
  const m2msec::http::ParsedRequest parsed = m2msec::http::parse_request(octets, kBodyLimit, kHeaderLimit);
  if (!parsed.request) {
    check(parsed.refusal == 0 || parsed.refusal == 400 || parsed.refusal == 413 || parsed.refusal == 431);
    return 0;
  }
  const m2msec::http::Request& request = *parsed.request;
  check(parsed.refusal == 0);
  check(is_token(request.method));
  check(!request.target.empty());
  check(request.body.size() <= kBodyLimit);
  check(is_count(request, "host", 1));
  for (const auto& header : request.headers) {
    check(is_token(header.name));
    check(header.value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos);
  }

  const std::string host(*request.header("Host"));
  const std::string again = request.method + " " + request.target + " HTTP/1.1\r\nHost: " + host +
                            "\r\nContent-Length: " + std::to_string(request.body.size()) + "\r\n\r\n" + request.body;
  // The simple form may be longer than the original header (a Content-Length it did not have).
  const m2msec::http::ParsedRequest reparsed = m2msec::http::parse_request(again, kBodyLimit, 2 * kHeaderLimit);
  check(reparsed.request.has_value());
  check(reparsed.request->method == request.method);
  check(reparsed.request->target == request.target);
  check(reparsed.request->header("host") == host);
  check(reparsed.request->body == request.body);
  check(reparsed.keep_alive);
  return 0;
}

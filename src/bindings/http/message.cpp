#include "m2msec/http/message.h"

#include <algorithm>

#include "wire.h"

namespace m2msec::http {
namespace {

std::optional<std::string_view> find_header(const std::vector<Header>& headers, std::string_view name) {
  const auto found = std::find_if(headers.begin(), headers.end(),
                                  [&](const Header& h) { return boost::beast::iequals(h.name, wire::view(name)); });
  if (found == headers.end()) return std::nullopt;
  return found->value;
}

// Octets already received, delivered as a connection would; what the parser writes (100 Continue) is
// dropped.
class OctetsChannel final : public wire::Channel {
 public:
  explicit OctetsChannel(std::string_view octets) : m_rest(octets) {}
  Result<std::size_t> read(std::span<std::uint8_t> out) override {
    const std::size_t n = std::min(out.size(), m_rest.size());
    std::copy_n(m_rest.begin(), n, out.begin());
    m_rest.remove_prefix(n);
    return n;
  }
  Result<std::size_t> write(ByteView data) override { return data.size(); }

 private:
  std::string_view m_rest;
};

}  // namespace

std::optional<std::string_view> Request::header(std::string_view name) const { return find_header(headers, name); }

std::optional<std::string_view> Response::header(std::string_view name) const { return find_header(headers, name); }

ParsedRequest parse_request(std::string_view octets, std::size_t body_limit, std::size_t header_limit) {
  OctetsChannel channel(octets);
  wire::Stream stream(channel);
  boost::beast::flat_buffer buffer;
  return wire::read_request(stream, buffer, body_limit, header_limit);
}

}  // namespace m2msec::http

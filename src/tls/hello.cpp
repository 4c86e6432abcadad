#include "m2msec/tls/hello.h"

#include <algorithm>
#include <optional>

#include "m2msec/core/byte_io.h"

namespace m2msec::tls {
namespace {

constexpr std::uint8_t kDecodeError = 50;
constexpr std::uint8_t kIllegalParameter = 47;
constexpr std::uint8_t kHostName = 0;

Error bad(std::string detail, std::uint8_t alert) {
  return Error(Category::kProtocol, "server_name: " + std::move(detail)).with_tls_alert(alert);
}

}  // namespace

Result<keys::Fqdn> parse_host_name(std::string_view text) {
  M2MSEC_ASSIGN_OR_RETURN(keys::Fqdn name, keys::Fqdn::parse(text));
  const std::string& t = name.text();
  const std::string_view last = std::string_view(t).substr(t.rfind('.') + 1);
  if (last.find_first_not_of("0123456789") == std::string_view::npos) {
    return Error::usage("a host name, not an IP address, is required");
  }
  return name;
}

Result<keys::Fqdn> parse_server_name_extension(ByteView extension_data) {
  ByteReader outer(extension_data);
  auto list = outer.read_prefixed_u16();
  if (!list || !outer.expect_end() || list->empty()) return bad("malformed ServerNameList", kDecodeError);
  ByteReader entries(*list);
  std::optional<keys::Fqdn> host;
  while (!entries.empty()) {
    auto type = entries.read_u8();
    auto name = entries.read_prefixed_u16();
    if (!type || !name || name->empty()) return bad("malformed ServerName", kDecodeError);
    // RFC 6066 clause 3: at most one name of a type; we know only host_name, so any other type is refused.
    if (*type != kHostName || host) return bad("unexpected or repeated name type", kIllegalParameter);
    auto fqdn = parse_host_name(as_text(*name));
    if (!fqdn) return bad("HostName is not a DNS host name", kIllegalParameter);
    host = std::move(*fqdn);
  }
  return std::move(*host);
}

Result<std::vector<std::uint16_t>> parse_server_hello_extensions(ByteView body) {
  const auto malformed = [] { return Error(Category::kProtocol, "malformed ServerHello").with_tls_alert(kDecodeError); };
  ByteReader r(body);
  // server_version, random, session_id, cipher_suite, compression_method (the same fields in DTLS).
  if (!r.read_u16() || !r.read_bytes(32)) return malformed();
  auto session_id = r.read_prefixed_u8();
  if (!session_id || session_id->size() > 32 || !r.read_u16() || !r.read_u8()) return malformed();
  std::vector<std::uint16_t> types;
  if (r.empty()) return types;  // no extensions block at all
  auto block = r.read_prefixed_u16();
  if (!block || !r.expect_end()) return malformed();
  ByteReader extensions(*block);
  while (!extensions.empty()) {
    auto type = extensions.read_u16();
    if (!type || !extensions.read_prefixed_u16()) return malformed();
    if (std::find(types.begin(), types.end(), *type) != types.end()) return malformed();
    types.push_back(*type);
  }
  return types;
}

}  // namespace m2msec::tls

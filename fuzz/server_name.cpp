// Fuzz target: the hello parsers m2msec runs on untrusted handshake octets, over the same input:
//   tls::parse_server_name_extension: when it accepts, the name is a valid host name in lower case, and
//     re-encoding it as a ServerNameList (one host_name entry, written with ByteWriter) gives back the
//     input up to the case of the name's letters and parses back to the same name; when it refuses, the
//     error is kProtocol with alert decode_error (50) or illegal_parameter (47).
//   tls::parse_server_hello_extensions: when it accepts, the extension types are unique and fit in the
//     input (4 octets each after the 38 octets of fixed fields and the block's 2-octet length); when it
//     refuses, the error is kProtocol with alert decode_error.
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>

#include "m2msec/core/byte_io.h"
#include "m2msec/core/bytes.h"
#include "m2msec/tls/hello.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

std::uint8_t lower(std::uint8_t c) { return (c >= 'A' && c <= 'Z') ? static_cast<std::uint8_t>(c - 'A' + 'a') : c; }

bool refused_with(const m2msec::Error& error, std::initializer_list<std::uint8_t> alerts) {
  const auto alert = error.tls_alert();
  return error.category() == m2msec::Category::kProtocol && alert &&
         std::find(alerts.begin(), alerts.end(), *alert) != alerts.end();
}

void server_name(m2msec::ByteView input) {
  auto name = m2msec::tls::parse_server_name_extension(input);
  if (!name) {
    check(refused_with(name.error(), {50, 47}));
    return;
  }
  const std::string& text = name->text();
  auto host = m2msec::tls::parse_host_name(text);
  check(host && host->text() == text);
  check(std::none_of(text.begin(), text.end(), [](char c) { return c >= 'A' && c <= 'Z'; }));

  m2msec::ByteWriter entry;
  entry.write_u8(0);  // host_name
  check(entry.write_prefixed_u16(m2msec::as_bytes(text)).has_value());
  m2msec::ByteWriter list;
  check(list.write_prefixed_u16(entry.bytes()).has_value());
  const m2msec::Bytes& encoded = list.bytes();

  check(encoded.size() == input.size());
  check(std::equal(encoded.begin(), encoded.begin() + 5, input.begin()));  // both lengths and the type
  check(std::equal(encoded.begin() + 5, encoded.end(), input.begin() + 5,
                   [](std::uint8_t ours, std::uint8_t theirs) { return ours == lower(theirs); }));
  auto again = m2msec::tls::parse_server_name_extension(encoded);
  check(again && *again == *name);
}

void server_hello(m2msec::ByteView input) {
  auto types = m2msec::tls::parse_server_hello_extensions(input);
  if (!types) {
    check(refused_with(types.error(), {50}));
    return;
  }
  const std::set<std::uint16_t> unique(types->begin(), types->end());
  check(unique.size() == types->size());
  check(types->empty() || input.size() >= 40 + 4 * types->size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const m2msec::ByteView input(data, size);
  server_name(input);
  server_hello(input);
  return 0;
}

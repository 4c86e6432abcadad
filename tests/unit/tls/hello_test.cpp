// The hello-message pieces m2msec parses itself: server_name (RFC 6066 clause 3) and the ServerHello
// extension list (RFC 5246 7.4.1.3). Inputs are written octet by octet from the RFC layouts.
#include "m2msec/tls/hello.h"

#include <gtest/gtest.h>

#include "m2msec/core/byte_io.h"

namespace m2msec::tls {
namespace {

// ServerNameList with the given (type, name) entries, laid out as RFC 6066 clause 3 says.
Bytes server_name_list(std::initializer_list<std::pair<std::uint8_t, std::string_view>> entries) {
  ByteWriter list;
  for (const auto& [type, name] : entries) {
    list.write_u8(type);
    EXPECT_TRUE(list.write_prefixed_u16(as_bytes(name)));
  }
  ByteWriter out;
  EXPECT_TRUE(out.write_prefixed_u16(list.bytes()));
  return std::move(out).take();
}

TEST(ServerName, OneHostNameIsAcceptedInLowerCase) {
  auto name = parse_server_name_extension(server_name_list({{0, "IN-CSE.m2m.Example.com"}}));
  ASSERT_TRUE(name) << name.error().to_string();
  EXPECT_EQ(name->text(), "in-cse.m2m.example.com");
}

TEST(ServerName, MalformedListsAreDecodeErrors) {
  const Bytes cases[] = {
      {},                                   // no list length
      {0x00},                               // short length
      {0x00, 0x00},                         // empty list
      {0x00, 0x05, 0x00, 0x00, 0x02, 'a'},  // name shorter than its length
      {0x00, 0x03, 0x00, 0x00, 0x00},       // empty name
  };
  for (const Bytes& c : cases) {
    auto name = parse_server_name_extension(c);
    ASSERT_FALSE(name);
    EXPECT_EQ(name.error().category(), Category::kProtocol);
    EXPECT_EQ(name.error().tls_alert(), 50);
  }
  Bytes trailing = server_name_list({{0, "a.example"}});
  trailing.resize(trailing.size() + 1);
  EXPECT_EQ(parse_server_name_extension(trailing).error().tls_alert(), 50);
}

TEST(ServerName, UnknownTypesRepeatsAndNonHostNamesAreIllegal) {
  const Bytes cases[] = {
      server_name_list({{1, "a.example"}}),
      server_name_list({{0, "a.example"}, {0, "b.example"}}),
      server_name_list({{0, "127.0.0.1"}}),       // RFC 6066: no IPv4 literal
      server_name_list({{0, "a.example."}}),      // no trailing dot
      server_name_list({{0, "a_b.example"}}),
      server_name_list({{0, "[::1]"}}),
  };
  for (const Bytes& c : cases) {
    auto name = parse_server_name_extension(c);
    ASSERT_FALSE(name);
    EXPECT_EQ(name.error().tls_alert(), 47);
  }
}

TEST(HostName, IpLiteralsAreRefused) {
  EXPECT_TRUE(parse_host_name("mn-cse.in-cse.m2m.example.com"));
  EXPECT_TRUE(parse_host_name("cse1.example.com"));
  EXPECT_FALSE(parse_host_name("10.0.0.1"));
  EXPECT_FALSE(parse_host_name("localhost.1"));
  EXPECT_FALSE(parse_host_name(""));
}

// A ServerHello body: version, random, session id, suite, compression, then the extensions block.
Bytes server_hello(std::size_t session_id_length, std::initializer_list<std::uint16_t> extension_types,
                   bool with_block = true) {
  ByteWriter out;
  out.write_u16(0x0303);
  out.write_bytes(Bytes(32, 0xAA));
  EXPECT_TRUE(out.write_prefixed_u8(Bytes(session_id_length, 0x11)));
  out.write_u16(0x00AE);
  out.write_u8(0);
  if (!with_block) return std::move(out).take();
  ByteWriter block;
  for (const std::uint16_t type : extension_types) {
    block.write_u16(type);
    block.write_u16(0);
  }
  EXPECT_TRUE(out.write_prefixed_u16(block.bytes()));
  return std::move(out).take();
}

TEST(ServerHello, ExtensionTypesInOrder) {
  auto types = parse_server_hello_extensions(server_hello(32, {0xff01, 23, 11}));
  ASSERT_TRUE(types) << types.error().to_string();
  EXPECT_EQ(*types, (std::vector<std::uint16_t>{0xff01, 23, 11}));
  auto none = parse_server_hello_extensions(server_hello(0, {}, false));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(ServerHello, MalformedOrRepeatedIsDecodeError) {
  Bytes trailing = server_hello(0, {23});
  trailing.resize(trailing.size() + 1);
  Bytes truncated = server_hello(0, {23});
  truncated.resize(truncated.size() - 1);
  const Bytes cases[] = {server_hello(33, {}), server_hello(0, {23, 23}), trailing, truncated, Bytes{0x03, 0x03}};
  for (const Bytes& c : cases) {
    auto types = parse_server_hello_extensions(c);
    ASSERT_FALSE(types);
    EXPECT_EQ(types.error().tls_alert(), 50);
  }
}

}  // namespace
}  // namespace m2msec::tls

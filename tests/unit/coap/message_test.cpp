// CoAP messages (RFC 7252 §3): octets encoded by hand from the RFC's rules, messages from a real peer (libcoap's
// coap-client, Debian's libcoap3-bin) parsed, and every message format error refused.
#include "m2msec/coap/message.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <csignal>
#include <string>

#include "m2msec/core/encoding.h"

namespace m2msec::coap {
namespace {

// Hex with spaces between the fields, for reading.
Bytes h(std::string_view spaced) {
  std::string hex(spaced);
  std::erase(hex, ' ');
  return hex_decode(hex).value();
}
Bytes text(std::string_view s) { return Bytes(as_bytes(s).begin(), as_bytes(s).end()); }

// CON (T=0), TKL=1, 0.01 GET, Message ID 0x1234, token AB; Uri-Path (11) "a": delta 11, length 1 -> 0xB1 'a';
// Uri-Path "bc": delta 0, length 2 -> 0x02 'b' 'c'; option 256: delta 245 -> nibble 13, extension 245 - 13 = 0xE8;
// a 300-octet value: nibble 14, extension 300 - 269 = 0x001F; payload marker 0xFF and "hi".
TEST(CoapMessage, HandEncodedOctets) {
  const Bytes long_value(300, 0x5A);
  const Bytes expected = concat({h("410112 34 AB"), h("B161"), h("026263"), h("DE E8 001F"), long_value, h("FF6869")});
  Message m{Type::kConfirmable, code(0, 1), 0x1234, h("AB"),
            {{11, text("a")}, {11, text("bc")}, {256, long_value}}, text("hi")};
  auto encoded = serialize(m);
  ASSERT_TRUE(encoded) << encoded.error().to_string();
  EXPECT_EQ(hex_encode(*encoded), hex_encode(expected));
  auto parsed = parse(expected);
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_EQ(*parsed, m);
  // The Empty ACK of §4.2: 0x60 0x00 and the Message ID.
  auto ack = serialize(Message{Type::kAcknowledgement, kEmpty, 0xBEEF, {}, {}, {}});
  ASSERT_TRUE(ack);
  EXPECT_EQ(hex_encode(*ack), "6000beef");
}

TEST(CoapMessage, SerializeSortsOptionsAndKeepsRepeatsInOrder) {
  Message m{Type::kNonConfirmable, code(2, 5), 7, {}, {{15, text("q=1")}, {11, text("x")}, {11, text("y")}}, {}};
  auto parsed = parse(serialize(m).value());
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->options.size(), 3u);
  EXPECT_EQ(parsed->options[0], (Option{11, text("x")}));
  EXPECT_EQ(parsed->options[1], (Option{11, text("y")}));
  EXPECT_EQ(parsed->options[2], (Option{15, text("q=1")}));
  EXPECT_EQ(parsed->type, Type::kNonConfirmable);
  EXPECT_EQ(parsed->code, code(2, 5));
}

TEST(CoapMessage, FormatErrorsAreRefused) {
  const auto refused = [](std::string_view hex, std::string_view what) {
    auto parsed = parse(h(hex));
    ASSERT_FALSE(parsed) << what;
    EXPECT_EQ(parsed.error().category(), Category::kProtocol) << what;
  };
  refused("", "empty datagram");
  refused("400100", "three octets");
  refused("81011234", "version 2");
  refused("49011234", "token length 9");
  refused("4F011234", "token length 15");
  refused("42011234AB", "token cut short");
  refused("4000123400", "an Empty message with a trailing octet");
  refused("41001234AB", "an Empty message with a token");
  refused("40011234F1", "delta nibble 15 that is not the marker");
  refused("400112341F", "length nibble 15");
  refused("40011234D0", "one-octet delta extension missing");
  refused("40011234E000", "two-octet delta extension cut short");
}

TEST(CoapMessage, MoreFormatErrors) {
  EXPECT_FALSE(parse(h("40011234B261")));  // a 2-octet value with 1 octet left
  EXPECT_FALSE(parse(h("40011234FF")));    // the payload marker with no payload
  // Option numbers past 65535: delta 65535 + 269 after option 11.
  EXPECT_FALSE(parse(h("40011234B0 E0FFFF")));
  EXPECT_FALSE(serialize(Message{Type::kConfirmable, code(0, 1), 1, Bytes(9, 0), {}, {}}));
  EXPECT_FALSE(serialize(Message{Type::kAcknowledgement, kEmpty, 1, h("01"), {}, {}}));
  EXPECT_FALSE(serialize(Message{Type::kConfirmable, code(0, 1), 1, {}, {{1, Bytes(65535 + 270, 0)}}, {}}));
}

// What libcoap's coap-client sends, caught on a UDP socket of ours.
TEST(CoapMessage, ParsesWhatCoapClientSends) {
  ::signal(SIGPIPE, SIG_IGN);
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t length = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length), 0);
  const timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string url = "coap://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/cse-in/ae1?rcn=1";
  const std::string command = "timeout 5 coap-client-notls -m post -e hello -O 256,CAdmin -B 1 '" + url +
                              "' >/dev/null 2>&1 &";
  ASSERT_EQ(std::system(command.c_str()), 0);
  std::uint8_t buffer[1500];
  const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
  ::close(fd);
  ASSERT_GT(got, 0) << "coap-client sent nothing (is libcoap3-bin installed?)";
  auto parsed = parse(ByteView(buffer, static_cast<std::size_t>(got)));
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_EQ(parsed->type, Type::kConfirmable);
  EXPECT_EQ(parsed->code, code(0, 2));  // POST
  std::vector<Option> expected{{11, text("cse-in")}, {11, text("ae1")}, {15, text("rcn=1")}, {256, text("CAdmin")}};
  std::vector<Option> seen;
  for (const Option& o : parsed->options) {
    if (o.number == 11 || o.number == 15 || o.number == 256) seen.push_back(o);
  }
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(parsed->payload, text("hello"));
  // What we parsed serializes to the very octets coap-client sent.
  auto again = serialize(*parsed);
  ASSERT_TRUE(again);
  EXPECT_EQ(hex_encode(*again), hex_encode(ByteView(buffer, static_cast<std::size_t>(got))));
}

}  // namespace
}  // namespace m2msec::coap

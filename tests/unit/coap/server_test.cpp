// The CoAP server (RFC 7252 message layer, RFC 7959 block-wise transfer, DTLS 1.2): libcoap's coap-client
// (Debian libcoap3-bin: notls, gnutls and openssl flavours) as the peer, raw datagrams for what a well-behaved
// client never sends, and our own DTLS client for the exported keying material.
#include "m2msec/coap/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "../tls/pair.h"
#include "m2msec/coap/options.h"
#include "m2msec/core/encoding.h"
#include "m2msec/core/text.h"
#include "m2msec/tls/net.h"

namespace m2msec::coap {
namespace {

using tls::loopback::kIdentity;

Bytes text(std::string_view s) { return Bytes(as_bytes(s).begin(), as_bytes(s).end()); }
Bytes h(std::string_view hex) { return hex_decode(hex).value(); }

// What a command printed on stdout (stderr joined), and its exit status.
struct Ran {
  int status = -1;
  std::string out;
};
Ran run(const std::string& command) {
  Ran ran;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return ran;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) ran.out.append(buffer, n);
  ran.status = ::pclose(pipe);
  return ran;
}

std::string temp_file(std::string_view name, const Bytes& content) {
  const std::string path = concat({::testing::TempDir(), "coap_server_", name});
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(content.data()),
                                               static_cast<std::streamsize>(content.size()));
  return path;
}

Bytes pattern(std::size_t n) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>('a' + i % 26);
  return out;
}

std::string uri_path(const Message& request) {
  std::string out;
  for (const Option& o : request.options) {
    if (o.number != 11) continue;
    if (!out.empty()) out += '/';
    out += std::string(as_text(o.value));
  }
  return out;
}

// A handler that answers 2.05 with what the test chose and counts its calls.
struct Recorder {
  std::atomic<int> calls{0};
  Bytes last_payload;
  std::function<Message(const Message&, const Connection&)> answer = [](const Message& request, const Connection&) {
    Message out;
    out.code = code(2, 5);
    out.payload = text(uri_path(request));
    return out;
  };
  Handler handler() {
    return [this](const Message& request, const Connection& connection) {
      ++calls;
      last_payload = request.payload;
      return answer(request, connection);
    };
  }
};

std::unique_ptr<Server> start(Recorder& recorder, std::shared_ptr<const tls::Context> dtls = nullptr,
                              std::size_t body_limit = 64 * 1024) {
  ServerOptions options;
  options.handler = recorder.handler();
  options.dtls = std::move(dtls);
  options.body_limit = body_limit;
  auto server = Server::start(std::move(options));
  EXPECT_TRUE(server) << server.error().to_string();
  return server ? std::move(*server) : nullptr;
}

// A UDP socket connected to the server, for datagrams written by hand.
class Raw {
 public:
  explicit Raw(std::uint16_t port) : m_socket(tls::net::connect(tls::net::Endpoint{"127.0.0.1", port}, true).value()) {
    const timeval tv{0, 500000};
    ::setsockopt(m_socket.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void send(const Bytes& datagram) { ASSERT_EQ(::send(m_socket.fd(), datagram.data(), datagram.size(), 0), ssize_t(datagram.size())); }
  void send(const Message& message) { send(serialize(message).value()); }
  // The next datagram, or nothing within 0.5 s.
  std::optional<Bytes> receive() {
    Bytes buffer(2048);
    const ssize_t n = ::recv(m_socket.fd(), buffer.data(), buffer.size(), 0);
    if (n < 0) return std::nullopt;
    buffer.resize(static_cast<std::size_t>(n));
    return buffer;
  }
  Message answer_to(const Message& message) {
    send(message);
    auto got = receive();
    EXPECT_TRUE(got) << "no answer";
    if (!got) return {};
    auto parsed = parse(*got);
    EXPECT_TRUE(parsed);
    return parsed ? *parsed : Message{};
  }
  int fd() const { return m_socket.fd(); }

 private:
  tls::net::Socket m_socket;
};

Message get(std::uint16_t id, std::string_view path, Type type = Type::kConfirmable) {
  return Message{type, code(0, 1), id, h("ab"), {{11, text(path)}}, {}};
}

std::string coap_url(const Server& server, std::string_view path) {
  return concat({server.url(), "/", path});
}

// libcoap puts the URI's host in SNI even when it is an IP literal, which RFC 6066 §3 forbids and our server
// refuses (illegal_parameter, TS-0003 §10.2.1 wants the authority's name): DTLS peers are given a host name.
std::string coaps_url(const Server& server, std::string_view path) {
  return concat({"coaps://localhost:", std::to_string(server.port()), "/", path});
}

TEST(CoapServer, AnswersCoapClientOverPlainUdp) {
  Recorder recorder;
  auto server = start(recorder);
  ASSERT_TRUE(server);
  const Ran ran = run("timeout 10 coap-client-notls -B 5 '" + coap_url(*server, "cse-in/ae1") + "'");
  EXPECT_EQ(ran.status, 0) << ran.out;
  EXPECT_NE(ran.out.find("cse-in/ae1"), std::string::npos) << ran.out;
  EXPECT_EQ(recorder.calls, 1);
}

//= RFC 7252 §4.2, §5.2.1
TEST(CoapServer, PiggybacksOnTheAckAndAnswersNonWithNon) {
  Recorder recorder;
  auto server = start(recorder);
  ASSERT_TRUE(server);
  Raw raw(server->port());
  Message ack = raw.answer_to(get(0x1234, "x"));
  EXPECT_EQ(ack.type, Type::kAcknowledgement);
  EXPECT_EQ(ack.message_id, 0x1234);
  EXPECT_EQ(ack.token, h("ab"));
  EXPECT_EQ(ack.code, code(2, 5));
  EXPECT_EQ(ack.payload, text("x"));
  Message non = raw.answer_to(get(0x2000, "y", Type::kNonConfirmable));
  EXPECT_EQ(non.type, Type::kNonConfirmable);
  EXPECT_EQ(non.token, h("ab"));
  EXPECT_EQ(non.payload, text("y"));
}

//= RFC 7252 §4.5
TEST(CoapServer, DuplicateMessageIdsAreAnsweredOnceAndNotProcessedTwice) {
  Recorder recorder;
  int created = 0;
  recorder.answer = [&created](const Message&, const Connection&) {
    Message out;
    out.code = code(2, 1);
    out.payload = text("created " + std::to_string(++created));
    return out;
  };
  auto server = start(recorder);
  ASSERT_TRUE(server);
  Raw raw(server->port());
  const Message post{Type::kConfirmable, code(0, 2), 0x0777, h("01"), {{11, text("ae")}}, text("body")};
  raw.send(post);
  const auto first = raw.receive();
  raw.send(post);
  const auto second = raw.receive();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, *second);  // the same answer again, octet for octet
  EXPECT_EQ(recorder.calls, 1);
  // A duplicate Non-confirmable request is dropped.
  const Message non{Type::kNonConfirmable, code(0, 2), 0x0888, h("02"), {{11, text("ae")}}, text("body")};
  EXPECT_TRUE(raw.answer_to(non).code == code(2, 1));
  raw.send(non);
  EXPECT_FALSE(raw.receive());
  EXPECT_EQ(recorder.calls, 2);
  // Another message ID is another request.
  EXPECT_EQ(raw.answer_to(Message{post.type, post.code, 0x0778, post.token, post.options, post.payload}).payload,
            text("created 3"));
}

//= RFC 7252 §4.2, §4.3
TEST(CoapServer, FormatErrorsPingsAndStrayResponsesGetResetOrNothing) {
  Recorder recorder;
  auto server = start(recorder);
  ASSERT_TRUE(server);
  Raw raw(server->port());
  const auto reset_for = [&raw](const Bytes& datagram, std::uint16_t id, std::string_view what) {
    raw.send(datagram);
    const auto got = raw.receive();
    ASSERT_TRUE(got) << what;
    EXPECT_EQ(hex_encode(*got), hex_encode(serialize(Message{Type::kReset, kEmpty, id, {}, {}, {}}).value())) << what;
  };
  reset_for(h("40011234d0"), 0x1234, "truncated option (a one-octet delta extension missing)");
  reset_for(h("40011235b261"), 0x1235, "an option value running past the end");
  reset_for(h("40011236ff"), 0x1236, "a payload marker without payload");
  reset_for(h("40001237"), 0x1237, "an Empty Confirmable message (ping)");
  reset_for(h("40451238"), 0x1238, "a 2.05 response sent as a Confirmable request");
  raw.send(h("50011239d0"));  // the same format error, Non-confirmable: dropped
  EXPECT_FALSE(raw.receive());
  raw.send(h("400112"));  // not even a header
  EXPECT_FALSE(raw.receive());
  EXPECT_EQ(recorder.calls, 0);
  // The peer's state survived: a good request is answered.
  EXPECT_EQ(raw.answer_to(get(0x2222, "ok")).payload, text("ok"));
}

//= RFC 7959 §2.4
TEST(CoapServer, LargeResponsesGoBlockWiseToCoapClient) {
  Recorder recorder;
  const Bytes big = pattern(5000);
  recorder.answer = [&big](const Message&, const Connection&) {
    Message out;
    out.code = code(2, 5);
    out.payload = big;
    return out;
  };
  auto server = start(recorder);
  ASSERT_TRUE(server);
  const std::string out_path = concat({::testing::TempDir(), "coap_server_block2.out"});
  const Ran ran = run("timeout 10 coap-client-notls -B 5 -o " + out_path + " '" + coap_url(*server, "big") + "'");
  EXPECT_EQ(ran.status, 0) << ran.out;
  std::ifstream in(out_path, std::ios::binary);
  const std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got, std::string(as_text(big)));
  EXPECT_EQ(recorder.calls, 1);  // later blocks come from the kept representation

  // By hand: the first block carries Block2 (0, M, SZX 6) and Size2; a block past the end is 4.02.
  Raw raw(server->port());
  Message first = raw.answer_to(get(0x3000, "big"));
  ASSERT_TRUE(find_option(first, kOptionBlock2));
  const auto block = decode_block(find_option(first, kOptionBlock2)->value);
  ASSERT_TRUE(block);
  EXPECT_EQ(block->num, 0u);
  EXPECT_TRUE(block->more);
  EXPECT_EQ(block->size(), 1024u);
  EXPECT_EQ(first.payload.size(), 1024u);
  ASSERT_TRUE(find_option(first, kOptionSize2));
  EXPECT_EQ(decode_uint(find_option(first, kOptionSize2)->value), 5000u);
  Message beyond = get(0x3001, "big");
  beyond.options.push_back(Option{kOptionBlock2, encode_block(Block{9, false, 6})});
  EXPECT_EQ(raw.answer_to(beyond).code, code(4, 2));
  // A smaller block size asked for by the client is honoured.
  Message small = get(0x3002, "big");
  small.options.push_back(Option{kOptionBlock2, encode_block(Block{2, false, 2})});
  const Message third = raw.answer_to(small);
  EXPECT_EQ(third.payload, Bytes(big.begin() + 128, big.begin() + 192));
}

//= RFC 7959 §2.3, §2.9.3
TEST(CoapServer, LargeRequestsAreReassembledFromCoapClientBlocks) {
  Recorder recorder;
  auto server = start(recorder, nullptr, 8192);
  ASSERT_TRUE(server);
  const Bytes body = pattern(5000);
  const std::string file = temp_file("block1.in", body);
  Ran ran = run("timeout 10 coap-client-notls -B 5 -b 256 -m put -f " + file + " '" + coap_url(*server, "up") + "'");
  EXPECT_EQ(ran.status, 0) << ran.out;
  EXPECT_EQ(recorder.calls, 1);
  EXPECT_EQ(recorder.last_payload, body);

  // Over the limit: 4.13 Request Entity Too Large, and the handler never sees it.
  const std::string huge = temp_file("block1.huge", pattern(9000));
  ran = run("timeout 10 coap-client-notls -B 5 -b 512 -m put -f " + huge + " '" + coap_url(*server, "up") + "'");
  EXPECT_NE(ran.out.find("4.13"), std::string::npos) << ran.out;
  EXPECT_EQ(recorder.calls, 1);
}

TEST(CoapServer, OversizedMisshapenAndOutOfOrderBlocksAreRefused) {
  Recorder recorder;
  auto server = start(recorder, nullptr, 2048);
  ASSERT_TRUE(server);
  Raw raw(server->port());
  const auto put = [](std::uint16_t id, std::vector<Option> extra, Bytes payload) {
    Message m{Type::kConfirmable, code(0, 3), id, h("0c"), {{11, text("up")}}, std::move(payload)};
    for (Option& o : extra) m.options.push_back(std::move(o));
    return m;
  };
  // Size1 announcing more than the limit: 4.13 with Size1 = the limit.
  Message refused = raw.answer_to(put(1, {{kOptionSize1, encode_uint(100000)}}, pattern(16)));
  EXPECT_EQ(refused.code, code(4, 13));
  ASSERT_TRUE(find_option(refused, kOptionSize1));
  EXPECT_EQ(decode_uint(find_option(refused, kOptionSize1)->value), 2048u);
  // Blocks adding up to more than the limit: 4.13 on the block that crosses it.
  for (std::uint32_t num = 0; num < 2; ++num) {
    EXPECT_EQ(raw.answer_to(put(static_cast<std::uint16_t>(10 + num), {{kOptionBlock1, encode_block(Block{num, true, 6})}},
                                pattern(1024)))
                  .code,
              code(2, 31));
  }
  EXPECT_EQ(raw.answer_to(put(12, {{kOptionBlock1, encode_block(Block{2, false, 6})}}, pattern(10))).code, code(4, 13));
  // SZX 7 (BERT, not for UDP): malformed.
  EXPECT_EQ(raw.answer_to(put(20, {{kOptionBlock1, h("0f")}}, pattern(16))).code, code(4, 0));
  // A block with M set that is shorter than its size, and a last block longer than its size.
  EXPECT_EQ(raw.answer_to(put(21, {{kOptionBlock1, encode_block(Block{0, true, 2})}}, pattern(63))).code, code(4, 0));
  EXPECT_EQ(raw.answer_to(put(22, {{kOptionBlock1, encode_block(Block{0, false, 0})}}, pattern(17))).code, code(4, 0));
  // A block that continues nothing: 4.08 Request Entity Incomplete.
  EXPECT_EQ(raw.answer_to(put(23, {{kOptionBlock1, encode_block(Block{3, false, 0})}}, pattern(16))).code, code(4, 8));
  EXPECT_EQ(recorder.calls, 0);
  // A whole body in two blocks is handed over once, with the last Block1 echoed.
  EXPECT_EQ(raw.answer_to(put(30, {{kOptionBlock1, encode_block(Block{0, true, 0})}}, pattern(16))).code, code(2, 31));
  Message done = raw.answer_to(put(31, {{kOptionBlock1, encode_block(Block{1, false, 0})}}, text("tail")));
  EXPECT_EQ(done.code, code(2, 5));
  ASSERT_TRUE(find_option(done, kOptionBlock1));
  EXPECT_EQ(decode_block(find_option(done, kOptionBlock1)->value)->num, 1u);
  EXPECT_EQ(recorder.calls, 1);
  Bytes expected = pattern(16);
  expected.insert(expected.end(), {'t', 'a', 'i', 'l'});
  EXPECT_EQ(recorder.last_payload, expected);
}

// ---- DTLS ----------------------------------------------------------------------------------------------

constexpr std::string_view kAsciiKey = "m2msec-coaps-test-key";

std::shared_ptr<tls::Context> psk_server() {
  auto resolver = std::make_shared<tls::InMemoryPskResolver>(tls::PskIdentityKind::kKpsaId);
  EXPECT_TRUE(resolver->add(kIdentity, SecretBytes::copy_of(as_bytes(kAsciiKey))));
  tls::Config c;
  c.role = tls::Role::kServer;
  c.profile = tls::find_profile("ts0003-dtls12-psk");
  c.psk_resolver = std::move(resolver);
  c.dtls_handshake_timeout = tls::loopback::kDtlsTimeout;
  return tls::loopback::must(tls::Context::create(std::move(c)));
}

Message who_answer(const Message&, const Connection& connection) {
  Message out;
  out.code = code(2, 5);
  out.payload = text(connection.session == nullptr
                         ? std::string("none")
                         : concat({connection.session->peer().identity, " ", connection.session->cipher_suite()}));
  return out;
}

//= TS-0003 V3.18.0 §10.2.1 (DTLS: TLS_PSK_WITH_AES_128_CCM_8)
TEST(CoapServer, CoapClientsOfBothDtlsLibrariesGetInWithPsk) {
  Recorder recorder;
  recorder.answer = who_answer;
  auto server = start(recorder, psk_server());
  ASSERT_TRUE(server);
  for (const char* tool : {"coap-client-gnutls", "coap-client-openssl"}) {
    const Ran ran = run(concat({"timeout 20 ", tool, " -B 10 -u ", kIdentity, " -k ", kAsciiKey, " '",
                                coaps_url(*server, "who"), "'"}));
    EXPECT_EQ(ran.status, 0) << tool << ": " << ran.out;
    EXPECT_NE(ran.out.find(concat({kIdentity, " TLS_PSK_WITH_AES_128_CCM_8"})), std::string::npos) << tool << ": " << ran.out;
    // A wrong key gets no association (DTLS answers a bad Finished with silence or an alert, never data).
    const Ran wrong = run(concat({"timeout 20 ", tool, " -B 3 -u ", kIdentity, " -k wrong-key '",
                                  coaps_url(*server, "who"), "'"}));
    EXPECT_EQ(wrong.out.find(kIdentity), std::string::npos) << tool << ": " << wrong.out;
  }
  EXPECT_EQ(recorder.calls, 2);
  // The wrong keys' handshakes end when the server's DTLS handshake timeout expires.
  for (int i = 0; i < 50 && server->failed_handshakes() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(server->failed_handshakes(), 2u);
  EXPECT_EQ(server->associations(), 0u);
}

// Our own DTLS client over a connected UDP socket: a request, and the keying material of both ends.
TEST(CoapServer, ExportedKeyingMaterialIsEqualAtBothEnds) {
  Recorder recorder;
  recorder.answer = [](const Message&, const Connection& connection) {
    Message out;
    out.code = code(2, 5);
    const SecretBytes exported = connection.session->export_keying_material(tls::loopback::kLabel, 32).value();
    out.payload.assign(exported.view().begin(), exported.view().end());
    return out;
  };
  auto server = start(recorder, psk_server());
  ASSERT_TRUE(server);
  tls::Config c;
  c.profile = tls::find_profile("ts0003-dtls12-psk");
  c.server_name = std::string(tls::loopback::kAuthority);
  c.psk = tls::ClientPsk{std::string(kIdentity), SecretBytes::copy_of(as_bytes(kAsciiKey))};
  auto context = tls::loopback::must(tls::Context::create(std::move(c)));
  auto socket = tls::net::connect(tls::net::Endpoint{"127.0.0.1", server->port()}, true);
  ASSERT_TRUE(socket);
  auto session = context->session(socket->fd());
  ASSERT_TRUE(session);
  ASSERT_TRUE((*session)->handshake());
  EXPECT_EQ(server->associations(), 1u);
  ASSERT_TRUE((*session)->write(serialize(get(7, "x")).value()));
  Bytes buffer(2048);
  auto got = (*session)->read(buffer);
  ASSERT_TRUE(got);
  auto response = parse(ByteView(buffer.data(), *got));
  ASSERT_TRUE(response);
  const auto mine = (*session)->export_keying_material(tls::loopback::kLabel, 32);
  ASSERT_TRUE(mine);
  EXPECT_EQ(response->payload, Bytes(mine->view().begin(), mine->view().end()));
  (*session)->close();
}

// An independent DTLS peer: the openssl CLI prints the keying material it exports, our server's handler answers
// with its own, and the CoAP request travels as the application data of s_client's stdin.
TEST(CoapServer, OpensslSClientExportsWhatTheServerExports) {
  Recorder recorder;
  recorder.answer = [](const Message&, const Connection& connection) {
    Message out;
    out.code = code(2, 5);
    const SecretBytes exported = connection.session->export_keying_material(tls::loopback::kLabel, 32).value();
    out.payload = text(concat({"exported=", hex_encode(exported.view()), " cipher=", connection.session->cipher_suite()}));
    return out;
  };
  auto server = start(recorder, psk_server());
  ASSERT_TRUE(server);
  const std::string request = temp_file("sclient.in", serialize(get(0x4242, "x")).value());
  const Ran ran = run(concat({"timeout 3 openssl s_client -dtls1_2 -ign_eof -cipher PSK-AES128-CCM8 -psk ",
                              hex_encode(as_bytes(kAsciiKey)), " -psk_identity ", kIdentity,
                              " -servername localhost -connect 127.0.0.1:", std::to_string(server->port()),
                              " -keymatexport ", tls::loopback::kLabel, " -keymatexportlen 32 < ", request}));
  const auto at = ran.out.find("Keying material: ");
  ASSERT_NE(at, std::string::npos) << ran.out;
  std::string theirs = ran.out.substr(at + 17, 64);
  std::transform(theirs.begin(), theirs.end(), theirs.begin(), [](unsigned char c) { return std::tolower(c); });
  EXPECT_NE(ran.out.find(concat({"exported=", theirs, " cipher=TLS_PSK_WITH_AES_128_CCM_8"})), std::string::npos)
      << ran.out;
  EXPECT_EQ(recorder.calls, 1);
}

// The first datagram our DTLS client sends: a ClientHello without a cookie.
Bytes client_hello() {
  const int sink = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(sink, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t length = sizeof addr;
  ::getsockname(sink, reinterpret_cast<sockaddr*>(&addr), &length);
  tls::Config c;
  c.profile = tls::find_profile("ts0003-dtls12-psk");
  c.server_name = "x";
  c.psk = tls::ClientPsk{std::string(kIdentity), SecretBytes::copy_of(as_bytes(kAsciiKey))};
  c.dtls_handshake_timeout = std::chrono::milliseconds(200);
  auto context = tls::loopback::must(tls::Context::create(std::move(c)));
  auto socket = tls::net::connect(tls::net::Endpoint{"127.0.0.1", ntohs(addr.sin_port)}, true).value();
  std::thread client([&] { (void)(*context->session(socket.fd()))->handshake(); });
  Bytes hello(2048);
  const ssize_t n = ::recv(sink, hello.data(), hello.size(), 0);
  client.join();
  ::close(sink);
  hello.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return hello;
}

//= RFC 6347 §4.2.1
TEST(CoapServer, ClientHelloFloodsWithoutCookiesLeaveNoState) {
  Recorder recorder;
  recorder.answer = who_answer;
  auto server = start(recorder, psk_server());
  ASSERT_TRUE(server);
  const Bytes hello = client_hello();
  ASSERT_GT(hello.size(), 13u);
  ASSERT_EQ(hello[0], 22);  // handshake
  ASSERT_EQ(hello[13], 1);  // client_hello
  int verify_requests = 0;
  for (int i = 0; i < 200; ++i) {
    Raw raw(server->port());  // each from another source port
    raw.send(hello);
    if (auto got = raw.receive(); got && got->size() > 13 && (*got)[0] == 22 && (*got)[13] == 3) ++verify_requests;
  }
  EXPECT_EQ(verify_requests, 200);  // each got a HelloVerifyRequest...
  EXPECT_EQ(server->associations(), 0u);  // ...and nothing was kept
  EXPECT_EQ(server->failed_handshakes(), 0u);
  // The server still takes a real client.
  const Ran ran = run(concat({"timeout 20 coap-client-openssl -B 10 -u ", kIdentity, " -k ", kAsciiKey, " '",
                              coaps_url(*server, "who"), "'"}));
  EXPECT_NE(ran.out.find(kIdentity), std::string::npos) << ran.out;
}

TEST(CoapServer, RefusesWhatItCannotServe) {
  ServerOptions options;
  EXPECT_FALSE(Server::start(options));  // no handler
  Recorder recorder;
  options.handler = recorder.handler();
  options.block_size = 100;
  EXPECT_FALSE(Server::start(options));
  options.block_size = 1024;
  options.dtls = tls::loopback::psk_client(tls::find_profile("ts0003-dtls12-psk"));
  EXPECT_FALSE(Server::start(options));  // a client context
  options.dtls = tls::loopback::psk_server(tls::find_profile("ts0003-tls12-psk"));
  EXPECT_FALSE(Server::start(options));  // TLS, not DTLS
}

}  // namespace
}  // namespace m2msec::coap

// The oneM2M CoAP binding (TS-0008 V3.9.0): primitives to CoAP messages and back, checked against octets and
// numbers typed from TS-0008's tables and RFC 7252's encoding rules, against what libcoap's coap-client sends,
// and every refusal.
#include "m2msec/coap/onem2m.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <csignal>
#include <stdexcept>
#include <string>

#include "m2msec/coap/options.h"
#include "m2msec/core/encoding.h"

namespace m2msec::coap {
namespace {

Bytes h(std::string_view spaced) {
  std::string hex(spaced);
  std::erase(hex, ' ');
  return hex_decode(hex).value();
}
Bytes text(std::string_view s) { return Bytes(as_bytes(s).begin(), as_bytes(s).end()); }
Option opt(std::uint16_t number, std::string_view value) { return {number, text(value)}; }
Option raw(std::uint16_t number, std::string_view hex) { return {number, h(hex)}; }

// "c.dd" as the specifications write a code, to the octet of RFC 7252 §3.
std::uint8_t c(std::string_view dotted) {
  return static_cast<std::uint8_t>((dotted[0] - '0') * 32 + (dotted[2] - '0') * 10 + (dotted[3] - '0'));
}

json::Value object(std::string_view json_text) {
  auto value = json::parse(json_text);
  EXPECT_TRUE(value) << value.error().to_string();
  return value ? *value : json::Value();
}

std::vector<std::string> values_of(const Message& m, std::uint16_t number) {
  std::vector<std::string> out;
  for (const Option& o : m.options) {
    if (o.number == number) out.emplace_back(as_text(o.value));
  }
  return out;
}

// A valid oneM2M request message: RETRIEVE of cse-in from CAdmin, rqi req-1.
Message retrieve(std::vector<Option> extra = {}) {
  Message m{Type::kConfirmable, c("0.01"), 0x1234, h("AB"), {opt(11, "cse-in"), opt(279, "CAdmin"), opt(283, "req-1")}, {}};
  m.options.insert(m.options.end(), extra.begin(), extra.end());
  return m;
}

// A POST carrying JSON (Content-Format 50 = 0x32).
Message post(std::vector<Option> extra, std::string_view body = R"({"m2m:ae":{"rn":"a"}})") {
  Message m = retrieve(std::move(extra));
  m.code = c("0.02");
  m.options.push_back(raw(12, "32"));
  m.payload = text(body);
  return m;
}

//= TS-0008 V3.9.0 §6.2.2.4 (Table 6.2.2.4.0-1), §6.2.2.2 (Table 6.2.2.2-1)
//= type=test
TEST(CoapOneM2m, OptionNumbersAndFormatsAreTheTables) {
  EXPECT_EQ(kOptionFr, 279);
  EXPECT_EQ(kOptionRqi, 283);
  EXPECT_EQ(kOptionOt, 259);
  EXPECT_EQ(kOptionRqet, 291);
  EXPECT_EQ(kOptionRset, 295);
  EXPECT_EQ(kOptionOet, 299);
  EXPECT_EQ(kOptionRturi, 263);
  EXPECT_EQ(kOptionEc, 303);
  EXPECT_EQ(kOptionRsc, 307);
  EXPECT_EQ(kOptionGid, 311);
  EXPECT_EQ(kOptionTy, 267);
  EXPECT_EQ(kOptionCto, 319);
  EXPECT_EQ(kOptionCts, 323);
  EXPECT_EQ(kOptionAti, 327);
  EXPECT_EQ(kOptionRvi, 271);
  EXPECT_EQ(kOptionVsi, 331);
  EXPECT_EQ(kOptionGtm, 335);
  EXPECT_EQ(kOptionAus, 339);
  EXPECT_EQ(kOptionAsri, 275);
  EXPECT_EQ(kFormatJson, 50);
  EXPECT_EQ(kFormatXml, 41);
  EXPECT_EQ(kFormatCbor, 60);
  EXPECT_EQ(kFormatOneM2mResJson, 10001);
  EXPECT_EQ(kFormatOneM2mNtfyJson, 10003);
  EXPECT_EQ(kFormatOneM2mResXml, 10014);
  EXPECT_EQ(kFormatOneM2mPrspCbor, 10013);
}

//= TS-0008 V3.9.0 §6.2.1 (Table 6.2.1-1), §6.2.2.3, §6.2.2.4
//= type=test
// A CREATE of an AE, encoded by hand: CON 0.02 (POST), MID 0, no token; Uri-Path (11) "cse-in": delta 11, length
// 6; Content-Format (12) 50: delta 1, length 1, 0x32; Accept (17) 50: delta 5, 0x32; oneM2M-TY (267) 2: delta
// 250 = nibble 13 + 237 (0xED), length 1, 0x02; oneM2M-RVI (271) "3": delta 4; oneM2M-FR (279) "CAdmin": delta 8,
// length 6; oneM2M-RQI (283) "r1": delta 4, length 2; 0xFF and the JSON.
TEST(CoapOneM2m, CreateRequestOctets) {
  onem2m::Request create;
  create.op = onem2m::Operation::kCreate;
  create.to = "cse-in";
  create.fr = "CAdmin";
  create.rqi = "r1";
  create.ty = 2;
  create.pc = object(R"({"m2m:ae":{"rn":"a"}})");
  auto message = to_coap_request(create);
  ASSERT_TRUE(message) << message.error().to_string();
  auto octets = serialize(*message);
  ASSERT_TRUE(octets);
  const Bytes expected = concat({h("40020000"), h("B6"), text("cse-in"), h("1132"), h("5132"), h("D1ED02"), h("41"),
                                 text("3"), h("86"), text("CAdmin"), h("42"), text("r1"), h("FF"),
                                 text(R"({"m2m:ae":{"rn":"a"}})")});
  EXPECT_EQ(hex_encode(*octets), hex_encode(expected));
}

//= TS-0008 V3.9.0 §6.2.1 (Table 6.2.1-1)
//= type=test
TEST(CoapOneM2m, OperationsMapToTheMethodsOfTable621) {
  onem2m::Request r;
  r.to = "CSEBase/ae12/cont27/contInst696";
  r.fr = "C1";
  r.rqi = "q";
  const auto method = [&](onem2m::Operation op, bool content) {
    r.op = op;
    r.ty = op == onem2m::Operation::kCreate ? std::optional<std::uint32_t>(3) : std::nullopt;
    r.pc = content ? std::optional<json::Value>(object(R"({"m2m:cnt":{}})")) : std::nullopt;
    auto m = to_coap_request(r);
    EXPECT_TRUE(m) << m.error().to_string();
    return m ? *m : Message{};
  };
  EXPECT_EQ(method(onem2m::Operation::kCreate, true).code, c("0.02"));
  EXPECT_EQ(method(onem2m::Operation::kRetrieve, false).code, c("0.01"));
  EXPECT_EQ(method(onem2m::Operation::kUpdate, true).code, c("0.03"));
  EXPECT_EQ(method(onem2m::Operation::kDelete, false).code, c("0.04"));
  const Message notify = method(onem2m::Operation::kNotify, true);
  EXPECT_EQ(notify.code, c("0.02"));
  EXPECT_TRUE(values_of(notify, 267).empty());  // NOTIFY: POST without oneM2M-TY
  // Table 6.2.2.3-1, CSE-relative column: one Uri-Path per segment.
  const std::vector<std::string> path = {"CSEBase", "ae12", "cont27", "contInst696"};
  EXPECT_EQ(values_of(notify, 11), path);
  r.to = "cin00856";
  EXPECT_EQ(values_of(method(onem2m::Operation::kRetrieve, false), 11), std::vector<std::string>{"cin00856"});
}

//= TS-0008 V3.9.0 §6.2.1, §6.2.2.3, §6.2.2.4
//= type=test
TEST(CoapOneM2m, RequestMessageToPrimitive) {
  // Table 6.2.1-1 read backwards, with the Receiver's rule for POST: oneM2M-TY present -> CREATE, absent -> NOTIFY.
  auto create = to_request_primitive(post({raw(267, "0002"), opt(271, "3")}));
  ASSERT_TRUE(create) << create.error().to_string();
  EXPECT_EQ(create->op, onem2m::Operation::kCreate);
  EXPECT_EQ(create->ty, 2u);  // a uint may come with a leading zero octet (RFC 7252 §3.2)
  EXPECT_EQ(create->to, "cse-in");
  EXPECT_EQ(create->fr, "CAdmin");
  EXPECT_EQ(create->rqi, "req-1");
  EXPECT_EQ(create->rvi, "3");
  EXPECT_EQ(create->pc, object(R"({"m2m:ae":{"rn":"a"}})"));
  auto notify = to_request_primitive(post({}, R"({"m2m:sgn":{"vrq":true}})"));
  ASSERT_TRUE(notify);
  EXPECT_EQ(notify->op, onem2m::Operation::kNotify);
  EXPECT_FALSE(notify->ty);
  Message put = post({});
  put.code = c("0.03");
  EXPECT_EQ(to_request_primitive(put)->op, onem2m::Operation::kUpdate);
  Message del = retrieve();
  del.code = c("0.04");
  EXPECT_EQ(to_request_primitive(del)->op, onem2m::Operation::kDelete);

  // The query (§6.2.2.3): one field per Uri-Query option, lists repeated or '+'-joined.
  auto get = to_request_primitive(retrieve({opt(11, "cnt1"), opt(15, "rcn=4"), opt(15, "fu=1"), opt(15, "ty=3+4"),
                                            opt(15, "lbl=a&b"), opt(15, "lbl=c"), opt(15, "lim=10"), opt(15, "lvl=2"),
                                            opt(15, "rids=r1+r2"), opt(15, "tids=t1"), opt(15, "tkns=aa.bb.cc"),
                                            opt(15, "op=2")}));
  ASSERT_TRUE(get) << get.error().to_string();
  EXPECT_EQ(get->to, "cse-in/cnt1");
  EXPECT_EQ(get->op, onem2m::Operation::kRetrieve);
  EXPECT_EQ(get->rcn, 4);
  ASSERT_TRUE(get->fc);
  EXPECT_EQ(get->fc->fu, 1);
  EXPECT_EQ(get->fc->ty, (std::vector<std::uint32_t>{3, 4}));
  EXPECT_EQ(get->fc->lbl, (std::vector<std::string>{"a&b", "c"}));  // '&' is no separator inside an option
  EXPECT_EQ(get->fc->lim, 10u);
  EXPECT_EQ(get->fc->lvl, 2u);
  EXPECT_EQ(get->rids, (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(get->tids, (std::vector<std::string>{"t1"}));
  EXPECT_EQ(get->tkns, (std::vector<std::string>{"aa.bb.cc"}));
  // Accepted, not mapped: Uri-Host/Uri-Port, the informative oneM2M-OT and oneM2M-VSI, the oneM2M JSON formats.
  auto extra = to_request_primitive(post({opt(3, "cse.example"), raw(7, "1633"), opt(259, "20230801T120000"),
                                          opt(331, "vendor")}));
  ASSERT_TRUE(extra) << extra.error().to_string();
  for (const std::string_view format : {"2711", "2713"}) {  // 10001, 10003
    Message m = post({});
    std::erase_if(m.options, [](const Option& o) { return o.number == 12; });
    m.options.push_back(raw(12, format));
    EXPECT_TRUE(to_request_primitive(m)) << format;
  }
}

TEST(CoapOneM2m, EveryRefusalNamesWhatIsWrong) {
  const auto refused = [](const Message& m, std::string_view needle, Rsc rsc = Rsc::kBadRequest) {
    auto primitive = to_request_primitive(m);
    ASSERT_FALSE(primitive) << needle;
    EXPECT_EQ(primitive.error().category(), Category::kUsage) << needle;
    EXPECT_EQ(primitive.error().rsc(), rsc) << needle;
    EXPECT_NE(primitive.error().detail().find(needle), std::string::npos) << primitive.error().detail();
  };
  const auto without = [](Message m, std::uint16_t number) {
    std::erase_if(m.options, [&](const Option& o) { return o.number == number; });
    return m;
  };
  refused(without(retrieve(), 279), "oneM2M-FR");
  refused(without(retrieve(), 283), "oneM2M-RQI");
  refused(retrieve({opt(279, "")}), "occurs more than once");  // a second oneM2M-FR
  Message empty_fr = without(retrieve(), 279);
  empty_fr.options.push_back(opt(279, ""));
  refused(empty_fr, "oneM2M-FR option is missing");
  refused(without(retrieve(), 11), "no Uri-Path");
  refused(retrieve({opt(11, "")}), "Uri-Path segment");
  refused(retrieve({opt(11, "..")}), "Uri-Path segment");
  refused(retrieve({opt(11, "a/b")}), "Uri-Path segment");
  Message sp = retrieve();
  sp.options[0] = opt(11, "~");
  sp.options.insert(sp.options.begin() + 1, opt(11, "CSE178"));
  refused(sp, "CSE-relative");
  sp.options[0] = opt(11, "_");
  refused(sp, "CSE-relative");
  // Content formats: xml (41), cbor (60), none, a oneM2M primitive type (10007), and bodies that are not JSON objects.
  for (const std::string_view format : {"29", "3C", "2717", ""}) {
    Message m = without(post({}), 12);
    if (!format.empty()) m.options.push_back(raw(12, format));
    refused(m, "Content-Format");
  }
  refused(post({}, "not json"), "");
  refused(post({}, "[1]"), "JSON object");
  Message no_body = post({});
  no_body.payload.clear();
  refused(no_body, "needs a payload");
  Message get_body = retrieve();
  get_body.payload = text("{}");
  refused(get_body, "takes no payload");
  // Methods: FETCH (0.05) and iPATCH (0.07) are no oneM2M operation: OPERATION_NOT_ALLOWED (RFC 7252 §5.8: 4.05).
  Message fetch = retrieve();
  fetch.code = c("0.05");
  refused(fetch, "maps to no oneM2M operation", Rsc::kOperationNotAllowed);
  fetch.code = c("2.05");
  refused(fetch, "is not a request");
  // oneM2M-TY: only on POST, never 0.
  refused(retrieve({raw(267, "02")}), "POST");
  Message put_ty = post({raw(267, "02")});
  put_ty.code = c("0.03");
  refused(put_ty, "POST");
  refused(post({raw(267, "")}), "positive");
  refused(retrieve({opt(271, "")}), "outside 1-2");  // oneM2M-RVI is 1-2 octets
  // The query.
  refused(retrieve({opt(15, "rcn")}), "without a name or a value");
  refused(retrieve({opt(15, "=1")}), "without a name or a value");
  refused(retrieve({opt(15, "rcn=")}), "empty value");
  refused(retrieve({opt(15, "lbl=a++b")}), "empty value");
  refused(retrieve({opt(15, "rcn=x")}), "decimal number");
  refused(retrieve({opt(15, "rcn=256")}), "decimal number");
  refused(retrieve({opt(15, "lim=-1")}), "decimal number");
  refused(retrieve({opt(15, "fu=0")}), "decimal number");
  refused(retrieve({opt(15, "rcn=1"), opt(15, "rcn=1")}), "once");
  refused(retrieve({opt(15, "rcn=1+2")}), "once");
  refused(retrieve({opt(15, "rt=2")}), "not supported");
  refused(retrieve({opt(15, "drt=1")}), "not supported");
  refused(retrieve({opt(15, "tkns=not a token")}), "compact");
  refused(retrieve({opt(15, "op=1")}), "does not agree");
  // oneM2M options we cannot carry, and response parameters in a request.
  refused(retrieve({opt(291, "20230801T120000")}), "oneM2M-RQET");
  refused(retrieve({opt(311, "g1")}), "oneM2M-GID");
  refused(retrieve({raw(307, "07D0")}), "oneM2M-RSC");
  // Accept a format we cannot answer in: NOT_ACCEPTABLE (§6.2.2.2).
  refused(retrieve({raw(17, "29")}), "Accept", Rsc::kNotAcceptable);
  refused(retrieve({opt(35, "coap://elsewhere/x")}), "not a proxy");
}

TEST(CoapOneM2m, NotifyWithoutOpIsAccepted) {
  auto notify = to_request_primitive(post({opt(15, "op=5")}, R"({"m2m:sgn":{}})"));
  ASSERT_TRUE(notify) << notify.error().to_string();
  EXPECT_EQ(notify->op, onem2m::Operation::kNotify);
}

//= RFC 7252 §5.4.1, §5.4.3, §5.4.5
//= type=test
TEST(CoapOneM2m, CriticalOptions) {
  EXPECT_TRUE(check_critical_options(retrieve({opt(3, "h"), raw(17, "32"), opt(259, "20230801T120000")})));
  EXPECT_FALSE(check_critical_options(retrieve({opt(9, "")})));      // OSCORE: not ours
  EXPECT_FALSE(check_critical_options(retrieve({raw(1, "AA")})));    // If-Match: no conditional requests
  EXPECT_FALSE(check_critical_options(retrieve({opt(5, "")})));      // If-None-Match
  EXPECT_FALSE(check_critical_options(retrieve({opt(65001, "x")})));
  EXPECT_FALSE(check_critical_options(retrieve({opt(283, "again")})));              // a second oneM2M-RQI
  EXPECT_FALSE(check_critical_options(retrieve({opt(279, std::string(256, 'x'))})));  // oneM2M-FR over 255
  EXPECT_FALSE(check_critical_options(retrieve({opt(259, "2023")})));               // oneM2M-OT is 15 long
  EXPECT_FALSE(check_critical_options(retrieve({raw(267, "000002")})));             // oneM2M-TY over 2 octets
  // Elective options (even numbers) we do not know are ignored, whatever their length: No-Response (258), 65000.
  EXPECT_TRUE(check_critical_options(retrieve({raw(258, "1A"), opt(65000, std::string(300, 'x'))})));
  EXPECT_TRUE(to_request_primitive(retrieve({raw(258, "1A"), opt(65000, "x")})));
}

//= TS-0008 V3.9.0 §6.2.4 (Table 6.2.4-1), §6.2.2.4.10, §6.2.3
//= type=test
// An ACK 2.01 (0x41), MID 0, no token; Location-Path (8) "cse-in": delta 8, length 6, and "ae1": delta 0, length 3;
// Content-Format (12) 50: delta 4, length 1, 0x32; oneM2M-RQI (283) "r1": delta 271 = nibble 14 and 271 - 269 = 2
// in two octets, length 2; oneM2M-RSC (307) 2001 = 0x07D1: delta 24 = nibble 13 and 24 - 13 = 11, length 2.
TEST(CoapOneM2m, CreatedResponseOctets) {
  onem2m::Response created{Rsc::kCreated, "r1", object(R"({"m2m:rce":{"uri":"cse-in/ae1","m2m:ae":{"rn":"ae1"}}})")};
  Message m = from_response_primitive(created);
  m.message_id = 0;
  m.type = Type::kAcknowledgement;
  auto octets = serialize(m);
  ASSERT_TRUE(octets);
  const std::string body = json::serialize(*created.pc);
  const Bytes expected = concat({h("60410000"), h("86"), text("cse-in"), h("03"), text("ae1"), h("4132"),
                                 h("E20002"), text("r1"), h("D20B07D1"), h("FF"), text(body)});
  EXPECT_EQ(hex_encode(*octets), hex_encode(expected));
  // SP-relative and absolute URIs go as Table 6.2.2.3-1 writes a To; m2m:uri (rcn 2) too.
  created.pc = object(R"({"m2m:uri":"/CSE178/cin00856"})");
  EXPECT_EQ(values_of(from_response_primitive(created), 8), (std::vector<std::string>{"~", "CSE178", "cin00856"}));
  created.pc = object(R"({"m2m:uri":"//mym2msp.org/CSE178/cin00856"})");
  EXPECT_EQ(values_of(from_response_primitive(created), 8),
            (std::vector<std::string>{"_", "mym2msp.org", "CSE178", "cin00856"}));
  // Not for other codes.
  created.rsc = Rsc::kOk;
  EXPECT_TRUE(values_of(from_response_primitive(created), 8).empty());
}

//= TS-0008 V3.9.0 §6.2.4 (Table 6.2.4-1)
//= type=test
TEST(CoapOneM2m, ResponseCodesFollowTable624) {
  const std::pair<Rsc, std::string_view> rows[] = {
      {Rsc::kOk, "2.05"},       {Rsc::kCreated, "2.01"},    {Rsc::kDeleted, "2.02"},
      {Rsc::kUpdated, "2.04"},  {Rsc::kBadRequest, "4.00"}, {Rsc::kNotFound, "4.04"},
      {Rsc::kConflict, "4.03"}, {Rsc::kRequestTimeout, "5.04"}, {Rsc::kNotAcceptable, "4.06"},
      {Rsc::kInternalServerError, "5.00"}, {Rsc::kReceiverHasNoPrivilege, "4.03"},
  };
  for (const auto& [rsc, code_text] : rows) {
    const Message m = from_response_primitive(onem2m::Response{rsc, "x", std::nullopt});
    EXPECT_EQ(m.code, c(code_text)) << static_cast<unsigned>(rsc);
    // oneM2M-RSC carries the code itself, as a uint (RFC 7252 §3.2: big endian, 2 octets for these).
    const std::uint16_t number = static_cast<std::uint16_t>(rsc);
    EXPECT_EQ(find_option(m, 307)->value, (Bytes{static_cast<std::uint8_t>(number >> 8), static_cast<std::uint8_t>(number)}));
    EXPECT_TRUE(m.payload.empty());
  }
}

TEST(CoapOneM2m, RequestRoundTrips) {
  std::vector<onem2m::Request> requests(4);
  requests[0].op = onem2m::Operation::kCreate;
  requests[0].to = "cse-in";
  requests[0].fr = "CAdmin";
  requests[0].rqi = "req-1";
  requests[0].ty = 2;
  requests[0].pc = object(R"({"m2m:ae":{"rn":"a","api":"Nx","rr":true,"srv":["3"]}})");
  requests[1].op = onem2m::Operation::kRetrieve;
  requests[1].to = "cse-in/ae/cnt";
  requests[1].fr = "C1";
  requests[1].rqi = std::string(255, 'q');
  requests[1].rvi = "2a";
  requests[1].rcn = 4;
  requests[1].fc = onem2m::FilterCriteria{1, {3, 4}, {"x y", "a&b=c"}, 5, 2};
  requests[1].rids = {"r1", "r2"};
  requests[1].tids = {"t1"};
  requests[1].tkns = {"eyJhbGciOiJIUzI1NiJ9.e30.c2ln", "a.b.c.d.e"};
  requests[2].op = onem2m::Operation::kNotify;
  requests[2].to = "ae1";
  requests[2].fr = "/cse1";
  requests[2].rqi = "n";
  requests[2].pc = object(R"({"m2m:sgn":{"nev":{"rep":{}},"sur":"/cse/sub"}})");
  requests[3].op = onem2m::Operation::kDelete;
  requests[3].to = "cse-in/x";
  requests[3].fr = "C2";
  requests[3].rqi = "d";
  for (const onem2m::Request& request : requests) {
    auto message = to_coap_request(request);
    ASSERT_TRUE(message) << message.error().to_string();
    auto datagram = serialize(*message);
    ASSERT_TRUE(datagram);
    auto parsed = parse(*datagram);
    ASSERT_TRUE(parsed);
    auto back = to_request_primitive(*parsed);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(onem2m::serialize(*back), onem2m::serialize(request));
  }
}

TEST(CoapOneM2m, ResponseRoundTrips) {
  const onem2m::Response responses[] = {
      {Rsc::kCreated, "r1", object(R"({"m2m:ae":{"ri":"C1","rn":"a"}})")},
      {Rsc::kOk, "r2", object(R"({"m2m:cin":{"con":"21.5"}})")},
      {Rsc::kDeleted, "r3", std::nullopt},
      {Rsc::kOriginatorHasNoPrivilege, "r4", object(R"({"m2m:dbg":"no"})")},
      {Rsc::kRequestTimeout, "r5", std::nullopt},
  };
  for (const onem2m::Response& response : responses) {
    auto datagram = serialize(from_response_primitive(response));
    ASSERT_TRUE(datagram);
    auto parsed = parse(*datagram);
    ASSERT_TRUE(parsed);
    auto back = from_coap_response(*parsed, response.rqi);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(onem2m::serialize(*back), onem2m::serialize(response));
  }
}

TEST(CoapOneM2m, ClientRefusesWhatItCannotSend) {
  onem2m::Request good;
  good.to = "cse-in";
  good.fr = "C";
  good.rqi = "r";
  ASSERT_TRUE(to_coap_request(good));
  const auto refused = [&](auto change, std::string_view why) {
    onem2m::Request r = good;
    change(r);
    auto m = to_coap_request(r);
    ASSERT_FALSE(m) << why;
    EXPECT_EQ(m.error().category(), Category::kUsage) << why;
  };
  refused([](onem2m::Request& r) { r.op = onem2m::Operation::kCreate; r.pc = object("{}"); }, "CREATE without ty");
  refused([](onem2m::Request& r) { r.ty = 2; }, "ty on RETRIEVE");
  refused([](onem2m::Request& r) { r.op = onem2m::Operation::kCreate; r.ty = 70000; r.pc = object("{}"); }, "ty > 2 octets");
  refused([](onem2m::Request& r) { r.to = "/CSE178/x"; }, "SP-relative");
  refused([](onem2m::Request& r) { r.to = "a//b"; }, "empty segment");
  refused([](onem2m::Request& r) { r.to = "a/.."; }, "dot segment");
  refused([](onem2m::Request& r) { r.to = ""; }, "no target");
  refused([](onem2m::Request& r) { r.rqi = ""; }, "no rqi");
  refused([](onem2m::Request& r) { r.rqi = std::string(256, 'r'); }, "rqi over 255");
  refused([](onem2m::Request& r) { r.fr = std::string(256, 'f'); }, "fr over 255");
  refused([](onem2m::Request& r) { r.rvi = "123"; }, "rvi over 2");
  refused([](onem2m::Request& r) { r.tkns = {"not a jws"}; }, "token");
  refused([](onem2m::Request& r) { r.fc = onem2m::FilterCriteria{}; r.fc->lbl = {"a+b"}; }, "'+' in a label");
  refused([](onem2m::Request& r) { r.rids = {""}; }, "empty rid");
  refused([](onem2m::Request& r) { r.pc = object("{}"); }, "content on RETRIEVE");
  refused([](onem2m::Request& r) { r.op = onem2m::Operation::kUpdate; }, "UPDATE without content");
}

TEST(CoapOneM2m, ClientRefusesBadResponses) {
  const Message good = from_response_primitive(onem2m::Response{Rsc::kOk, "r", object(R"({"m2m:cb":{}})")});
  ASSERT_TRUE(from_coap_response(good, "r"));
  const auto refused = [&](Message m, std::string_view why, std::string_view rqi = "r") {
    auto response = from_coap_response(m, rqi);
    ASSERT_FALSE(response) << why;
    EXPECT_EQ(response.error().category(), Category::kProtocol) << why;
  };
  refused(good, "another rqi", "s");
  Message m = good;
  std::erase_if(m.options, [](const Option& o) { return o.number == 307; });
  refused(m, "no rsc");
  m = good;
  std::erase_if(m.options, [](const Option& o) { return o.number == 283; });
  refused(m, "no rqi");
  m = good;
  for (Option& o : m.options) {
    if (o.number == 307) o.value = h("04D2");  // 1234: no such code
  }
  refused(m, "unknown rsc");
  m = good;
  m.payload = text("<xml/>");
  refused(m, "not JSON");
  m = good;
  for (Option& o : m.options) {
    if (o.number == 12) o.value = h("29");  // application/xml
  }
  refused(m, "xml format");
  m = good;
  m.options.push_back(raw(319, "01"));  // oneM2M-CTO: a partial content we cannot put together
  refused(m, "CTO");
  m = good;
  m.options.push_back(opt(9, ""));
  refused(m, "OSCORE");
  m = good;
  m.code = c("0.01");
  refused(m, "a request code");
  // An unknown elective option is ignored.
  m = good;
  m.options.push_back(opt(2048, "x"));
  EXPECT_TRUE(from_coap_response(m, "r"));
}

Message call(const Handler& handler, const Message& request) { return handler(request, Connection{nullptr, "127.0.0.1:1"}); }

TEST(CoapOneM2m, PrimitiveHandler) {
  std::optional<onem2m::Request> seen;
  const Handler handler = primitive_handler([&](const onem2m::Request& request, const Connection&) {
    seen = request;
    if (request.to == "cse-in/boom") throw std::runtime_error("secret internals");
    if (request.op == onem2m::Operation::kNotify) return onem2m::Response{Rsc::kOk, "", object(R"({"m2m:dbg":"x"})")};
    return onem2m::Response{Rsc::kOk, "ignored", object(R"({"m2m:cb":{"rn":"cse-in"}})")};
  });
  // Success: 2.05, the rqi of the request (not the handler's), rvi echoed, JSON payload with Content-Format 50.
  Message out = call(handler, retrieve({opt(271, "4")}));
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->to, "cse-in");
  EXPECT_EQ(out.code, c("2.05"));
  EXPECT_EQ(values_of(out, 283), std::vector<std::string>{"req-1"});
  EXPECT_EQ(values_of(out, 271), std::vector<std::string>{"4"});
  EXPECT_EQ(find_option(out, 12)->value, h("32"));
  EXPECT_EQ(find_option(out, 307)->value, h("07D0"));
  EXPECT_EQ(as_text(out.payload), R"({"m2m:cb":{"rn":"cse-in"}})");
  // An Accept of 10001 (0x2711) is answered in it.
  out = call(handler, retrieve({raw(17, "2711")}));
  EXPECT_EQ(find_option(out, 12)->value, h("2711"));
  // A NOTIFY's 2000 is 2.04 with an empty payload.
  out = call(handler, post({}, R"({"m2m:sgn":{}})"));
  EXPECT_EQ(out.code, c("2.04"));
  EXPECT_TRUE(out.payload.empty());
  EXPECT_EQ(find_option(out, 12), nullptr);

  // Refusals, without calling the handler.
  const auto refused = [&](const Message& request, std::string_view code_text, std::string_view rsc_hex) {
    seen.reset();
    const Message answer = call(handler, request);
    EXPECT_FALSE(seen) << code_text;
    EXPECT_EQ(answer.code, c(code_text));
    EXPECT_EQ(find_option(answer, 307)->value, h(rsc_hex)) << code_text;
    auto dbg = json::parse(as_text(answer.payload));
    EXPECT_TRUE(dbg && dbg->find("m2m:dbg") != nullptr) << as_text(answer.payload);
    return answer;
  };
  Message answer = refused(retrieve({opt(65001, "x")}), "4.02", "0FA0");  // unknown critical option
  EXPECT_EQ(values_of(answer, 283), std::vector<std::string>{"req-1"});
  refused(retrieve({raw(1, "AA")}), "4.02", "0FA0");                    // If-Match
  refused(retrieve({opt(279, std::string(300, 'x'))}), "4.02", "0FA0");  // oneM2M-FR too long
  answer = refused(retrieve({opt(283, "second")}), "4.02", "0FA0");      // a second oneM2M-RQI
  refused(retrieve({opt(35, "coap://other/x")}), "5.05", "0FA0");        // Proxy-Uri
  answer = refused(retrieve({opt(15, "rt=2")}), "4.00", "0FA0");         // BAD_REQUEST
  EXPECT_EQ(values_of(answer, 283), std::vector<std::string>{"req-1"});
  EXPECT_NE(std::string(as_text(answer.payload)).find("rt=2"), std::string::npos);
  Message no_rqi = retrieve({opt(271, "3"), opt(15, "x=1")});
  std::erase_if(no_rqi.options, [](const Option& o) { return o.number == 283; });
  answer = refused(no_rqi, "4.00", "0FA0");
  EXPECT_TRUE(values_of(answer, 283).empty());
  EXPECT_EQ(values_of(answer, 271), std::vector<std::string>{"3"});  // rvi echoed on a refusal too
  Message fetch = retrieve();
  fetch.code = c("0.05");
  refused(fetch, "4.05", "0FA5");                     // OPERATION_NOT_ALLOWED 4005
  refused(retrieve({raw(17, "3C")}), "4.06", "1457");  // Accept cbor: NOT_ACCEPTABLE 5207
  // An unknown elective option is ignored: the handler is called.
  seen.reset();
  EXPECT_EQ(call(handler, retrieve({opt(65000, "x")})).code, c("2.05"));
  EXPECT_TRUE(seen);
  // A handler that throws: 5.00, 5000, and nothing of what it said.
  Message boom = retrieve();
  boom.options.insert(boom.options.begin() + 1, opt(11, "boom"));
  out = call(handler, boom);
  EXPECT_EQ(out.code, c("5.00"));
  EXPECT_EQ(find_option(out, 307)->value, h("1388"));
  EXPECT_EQ(std::string(as_text(out.payload)).find("secret"), std::string::npos);
  EXPECT_EQ(values_of(out, 283), std::vector<std::string>{"req-1"});
}

// What libcoap's coap-client-notls sends for a oneM2M CREATE (options given by number with -O, Content-Format by
// -t), caught on a UDP socket of ours, parsed and mapped.
struct Caught {
  std::optional<Message> message;
};

Caught catch_coap_client(const std::string& arguments, const std::string& path_and_query) {
  Caught caught;
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return caught;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    ::close(fd);
    return caught;
  }
  const timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string url = "coap://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + path_and_query;
  const std::string command = "timeout 5 coap-client-notls " + arguments + " -B 1 '" + url + "' >/dev/null 2>&1 &";
  if (std::system(command.c_str()) != 0) {
    ::close(fd);
    return caught;
  }
  std::uint8_t buffer[1500];
  const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
  ::close(fd);
  if (got <= 0) return caught;
  auto parsed = parse(ByteView(buffer, static_cast<std::size_t>(got)));
  if (parsed) caught.message = *parsed;
  return caught;
}

TEST(CoapOneM2m, MapsWhatCoapClientSends) {
  ::signal(SIGPIPE, SIG_IGN);
  // oneM2M-TY 267 = 0x0002 (AE), oneM2M-FR 279, oneM2M-RQI 283, oneM2M-RVI 271; -t 50 is application/json.
  const Caught create = catch_coap_client(
      R"(-m post -t 50 -O 267,0x0002 -O 279,CAdmin -O 283,req-77 -O 271,3 -e '{"m2m:ae":{"rn":"sensor","api":"Nsensor","rr":false,"srv":["3"]}}')",
      "/cse-in?rcn=1&lbl=a+b");
  ASSERT_TRUE(create.message) << "coap-client sent nothing parseable (is libcoap3-bin installed?)";
  auto primitive = to_request_primitive(*create.message);
  ASSERT_TRUE(primitive) << primitive.error().to_string();
  EXPECT_EQ(primitive->op, onem2m::Operation::kCreate);
  EXPECT_EQ(primitive->ty, 2u);
  EXPECT_EQ(primitive->to, "cse-in");
  EXPECT_EQ(primitive->fr, "CAdmin");
  EXPECT_EQ(primitive->rqi, "req-77");
  EXPECT_EQ(primitive->rvi, "3");
  EXPECT_EQ(primitive->rcn, 1);
  ASSERT_TRUE(primitive->fc);
  EXPECT_EQ(primitive->fc->lbl, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(primitive->pc, object(R"({"m2m:ae":{"rn":"sensor","api":"Nsensor","rr":false,"srv":["3"]}})"));

  // The same tool with an option number nobody defined (65001, odd: critical): 4.02 through the handler.
  const Caught bad = catch_coap_client("-m get -O 279,CAdmin -O 283,req-78 -O 65001,x", "/cse-in");
  ASSERT_TRUE(bad.message);
  bool called = false;
  const Handler handler = primitive_handler([&](const onem2m::Request&, const Connection&) {
    called = true;
    return onem2m::Response{};
  });
  const Message answer = call(handler, *bad.message);
  EXPECT_FALSE(called);
  EXPECT_EQ(answer.code, c("4.02"));
  EXPECT_EQ(values_of(answer, 283), std::vector<std::string>{"req-78"});
}

}  // namespace
}  // namespace m2msec::coap

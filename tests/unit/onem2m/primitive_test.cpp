// Request and response primitives: the strict JSON form (TS-0004 short names) and the status code table of
// the HTTP and CoAP bindings (TS-0009, TS-0008).
#include "m2msec/onem2m/primitive.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace m2msec::onem2m {
namespace {

json::Value object(std::string_view text) {
  auto value = json::parse(text);
  EXPECT_TRUE(value) << value.error().to_string();
  return value ? *value : json::Value();
}

TEST(Primitive, OperationNamesAndNumbers) {
  EXPECT_EQ(operation_name(Operation::kCreate), "CREATE");
  EXPECT_EQ(operation_name(Operation::kNotify), "NOTIFY");
  for (std::int64_t i = 1; i <= 5; ++i) EXPECT_EQ(static_cast<std::int64_t>(*operation_from_int(i)), i);
  EXPECT_FALSE(operation_from_int(0));
  EXPECT_FALSE(operation_from_int(6));
  EXPECT_FALSE(operation_from_int(-1));
}

TEST(Primitive, RequestRoundTripsThroughJson) {
  Request create{Operation::kCreate, "mef", "C-enrolee", "req-1", 7002,
                 object(R"({"m2m:mefcr":{"fqdn":"mef.example.com"}})"), "3"};
  const std::string text = serialize(create);
  EXPECT_EQ(text, R"({"op":1,"to":"mef","fr":"C-enrolee","rqi":"req-1","ty":7002,)"
                  R"("pc":{"m2m:mefcr":{"fqdn":"mef.example.com"}},"rvi":"3"})");
  auto back = parse_request(text);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->op, Operation::kCreate);
  EXPECT_EQ(back->to, "mef");
  EXPECT_EQ(back->fr, "C-enrolee");
  EXPECT_EQ(back->rqi, "req-1");
  EXPECT_EQ(back->ty, 7002u);
  EXPECT_EQ(back->pc, create.pc);
  EXPECT_EQ(back->rvi, "3");
  EXPECT_EQ(serialize(*back), text);

  // No fr, no ty, no pc; an absent rvi reads as "3".
  auto retrieve = parse_request(R"({"op":2,"to":"mef/cr1","rqi":"r"})");
  ASSERT_TRUE(retrieve) << retrieve.error().to_string();
  EXPECT_EQ(retrieve->op, Operation::kRetrieve);
  EXPECT_TRUE(retrieve->fr.empty());
  EXPECT_FALSE(retrieve->ty);
  EXPECT_FALSE(retrieve->pc);
  EXPECT_EQ(retrieve->rvi, "3");
  EXPECT_EQ(serialize(*retrieve), R"({"op":2,"to":"mef/cr1","rqi":"r","rvi":"3"})");
}

TEST(Primitive, AccessAndFilterParametersRoundTripThroughJson) {
  // The short names of TS-0004 Table 8.2.2-1 (rcn, fc, tkns, tids, rids) and of m2m:filterCriteria.
  const std::string text =
      R"({"op":2,"to":"cse-in","fr":"CAE1","rqi":"r","rvi":"3","rcn":8,)"
      R"("fc":{"fu":1,"ty":[3,4],"lbl":["a b","c"],"lim":0,"lvl":2},)"
      R"("tkns":["h.p.s","a.b.c.d.e"],"tids":["tk1@das.example.com"],"rids":["r1@aa.example.com","r2@aa.example.com"]})";
  auto request = parse_request(text);
  ASSERT_TRUE(request) << request.error().to_string();
  EXPECT_EQ(request->rcn, 8u);
  ASSERT_TRUE(request->fc);
  EXPECT_EQ(request->fc->fu, 1u);
  EXPECT_EQ(request->fc->ty, (std::vector<std::uint32_t>{3, 4}));
  EXPECT_EQ(request->fc->lbl, (std::vector<std::string>{"a b", "c"}));
  EXPECT_EQ(request->fc->lim, 0u);
  EXPECT_EQ(request->fc->lvl, 2u);
  EXPECT_EQ(request->tkns, (std::vector<std::string>{"h.p.s", "a.b.c.d.e"}));
  EXPECT_EQ(request->tids, (std::vector<std::string>{"tk1@das.example.com"}));
  EXPECT_EQ(request->rids, (std::vector<std::string>{"r1@aa.example.com", "r2@aa.example.com"}));
  EXPECT_EQ(serialize(*request), text);

  // An fc without fu is conditional retrieval (fu 2), and says so when written out.
  auto conditional = parse_request(R"({"op":2,"to":"cse-in","rqi":"r","fc":{"lbl":["x"]}})");
  ASSERT_TRUE(conditional) << conditional.error().to_string();
  ASSERT_TRUE(conditional->fc);
  EXPECT_EQ(conditional->fc->fu, 2u);
  EXPECT_TRUE(conditional->fc->ty.empty());
  EXPECT_FALSE(conditional->fc->lim);
  EXPECT_EQ(serialize(*conditional), R"({"op":2,"to":"cse-in","rqi":"r","rvi":"3","fc":{"fu":2,"lbl":["x"]}})");
  // None of them: none written.
  auto plain = parse_request(R"({"op":2,"to":"cse-in","rqi":"r"})");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->rcn);
  EXPECT_FALSE(plain->fc);
  EXPECT_TRUE(plain->tkns.empty() && plain->tids.empty() && plain->rids.empty());
}

TEST(Primitive, ResponseRoundTripsThroughJson) {
  Response created{Rsc::kCreated, "req-1", object(R"({"m2m:mefcr":{"ri":"cr1"}})")};
  const std::string text = serialize(created);
  EXPECT_EQ(text, R"({"rsc":2001,"rqi":"req-1","pc":{"m2m:mefcr":{"ri":"cr1"}}})");
  auto back = parse_response(text);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->rsc, Rsc::kCreated);
  EXPECT_EQ(back->rqi, "req-1");
  EXPECT_EQ(back->pc, created.pc);
  auto deleted = parse_response(R"({"rqi":"x","rsc":2002})");
  ASSERT_TRUE(deleted) << deleted.error().to_string();
  EXPECT_EQ(deleted->rsc, Rsc::kDeleted);
  EXPECT_FALSE(deleted->pc);
}

TEST(Primitive, RequestParsingRefusesEverythingElse) {
  const char* cases[] = {
      "",
      "[]",
      R"("op")",
      R"({"op":2,"to":"mef","rqi":"r",})",                        // not JSON
      R"({"op":2,"to":"mef","rqi":"r","xx":1})",                  // unknown member
      R"({"op":2,"to":"mef","rqi":"r","OP":2})",                  // names are case-sensitive
      R"({"op":0,"to":"mef","rqi":"r"})",                         // op outside 1-5
      R"({"op":6,"to":"mef","rqi":"r"})",
      R"({"op":"2","to":"mef","rqi":"r"})",                       // wrong types
      R"({"op":2.0,"to":"mef","rqi":"r"})",
      R"({"op":2,"to":5,"rqi":"r"})",
      R"({"op":2,"to":"mef","rqi":7})",
      R"({"op":2,"to":"mef","rqi":"r","fr":null})",
      R"({"op":2,"to":"mef","rqi":"r","rvi":3})",
      R"({"op":3,"to":"mef","rqi":"r","pc":"text"})",
      R"({"op":3,"to":"mef","rqi":"r","pc":[1]})",
      R"({"op":2,"to":"","rqi":"r"})",                            // empty to, rqi, fr, rvi
      R"({"op":2,"to":"mef","rqi":""})",
      R"({"op":2,"to":"mef","rqi":"r","fr":""})",
      R"({"op":2,"to":"mef","rqi":"r","rvi":""})",
      R"({"to":"mef","rqi":"r"})",                                // missing op, to, rqi
      R"({"op":2,"rqi":"r"})",
      R"({"op":2,"to":"mef"})",
      R"({"op":2,"to":"/CSE1/mef","rqi":"r"})",                   // not CSE-relative
      R"({"op":2,"to":"mef","rqi":"r","ty":7002})",               // ty without CREATE
      R"({"op":5,"to":"mef","rqi":"r","ty":7002})",
      R"({"op":1,"to":"mef","rqi":"r","pc":{}})",                 // CREATE without ty
      R"({"op":1,"to":"mef","rqi":"r","ty":0,"pc":{}})",          // ty out of range
      R"({"op":1,"to":"mef","rqi":"r","ty":4294967296,"pc":{}})",
      R"({"op":1,"to":"mef","rqi":"r","ty":-3,"pc":{}})",
      R"({"op":2,"to":"mef","rqi":"r","to":"maf"})",              // duplicate member (I-JSON)
      R"({"op":2,"to":"mef","rqi":"r","rcn":-1})",                // rcn outside 0-255 or not an integer
      R"({"op":2,"to":"mef","rqi":"r","rcn":256})",
      R"({"op":2,"to":"mef","rqi":"r","rcn":"1"})",
      R"({"op":2,"to":"mef","rqi":"r","rcn":1.0})",
      R"({"op":2,"to":"mef","rqi":"r","fc":[]})",                 // fc not an object
      R"({"op":2,"to":"mef","rqi":"r","fc":{"cr":"Sam"}})",       // a condition we do not evaluate
      R"({"op":2,"to":"mef","rqi":"r","fc":{"fu":0}})",
      R"({"op":2,"to":"mef","rqi":"r","fc":{"fu":256}})",
      R"({"op":2,"to":"mef","rqi":"r","fc":{"fu":"1"}})",
      R"({"op":2,"to":"mef","rqi":"r","fc":{"ty":3}})",           // lists are arrays
      R"({"op":2,"to":"mef","rqi":"r","fc":{"ty":[]}})",
      R"({"op":2,"to":"mef","rqi":"r","fc":{"ty":[0]}})",
      R"({"op":2,"to":"mef","rqi":"r","fc":{"ty":["3"]}})",
      R"({"op":2,"to":"mef","rqi":"r","fc":{"ty":[4294967296]}})",
      R"({"op":2,"to":"mef","rqi":"r","fc":{"lbl":"a"}})",
      R"({"op":2,"to":"mef","rqi":"r","fc":{"lbl":[""]}})",
      R"({"op":2,"to":"mef","rqi":"r","fc":{"lbl":[1]}})",
      R"({"op":2,"to":"mef","rqi":"r","fc":{"lim":-1}})",
      R"({"op":2,"to":"mef","rqi":"r","fc":{"lim":4294967296}})",
      R"({"op":2,"to":"mef","rqi":"r","fc":{"lvl":1.5}})",
      R"({"op":2,"to":"mef","rqi":"r","fc":{"lvl":null}})",
      R"({"op":2,"to":"mef","rqi":"r","fc":{"fu":1,"fu":2}})",
      R"({"op":2,"to":"mef","rqi":"r","tkns":"a.b.c"})",
      R"({"op":2,"to":"mef","rqi":"r","tkns":[]})",
      R"({"op":2,"to":"mef","rqi":"r","tkns":[""]})",
      R"({"op":2,"to":"mef","rqi":"r","tids":[7]})",
      R"({"op":2,"to":"mef","rqi":"r","tids":{}})",
      R"({"op":2,"to":"mef","rqi":"r","rids":[null]})",
      R"({"op":2,"to":"mef","rqi":"r","rids":["a",""]})",
      R"({"op":2,"to":"mef","rqi":"r","ltids":["x"]})",           // not a parameter we take
  };
  for (const char* text : cases) {
    SCOPED_TRACE(text);
    auto request = parse_request(text);
    ASSERT_FALSE(request);
    EXPECT_EQ(request.error().category(), Category::kUsage);
    EXPECT_EQ(request.error().rsc(), Rsc::kBadRequest);
  }
}

TEST(Primitive, ResponseParsingRefusesEverythingElse) {
  const char* cases[] = {
      "{}",
      R"({"rsc":2000})",
      R"({"rqi":"r"})",
      R"({"rsc":2000,"rqi":""})",
      R"({"rsc":"2000","rqi":"r"})",
      R"({"rsc":2003,"rqi":"r"})",  // not a code we know
      R"({"rsc":200,"rqi":"r"})",
      R"({"rsc":2000,"rqi":"r","pc":true})",
      R"({"rsc":2000,"rqi":"r","to":"x"})",
  };
  for (const char* text : cases) {
    SCOPED_TRACE(text);
    auto response = parse_response(text);
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().category(), Category::kUsage);
  }
}

TEST(Primitive, ErrorResponseCarriesTheCodeAndADebugText) {
  Request request;
  request.rqi = "req-9";
  const Response refused = error_response(request, Error::usage("no such thing"));
  EXPECT_EQ(refused.rsc, Rsc::kBadRequest);
  EXPECT_EQ(refused.rqi, "req-9");
  EXPECT_EQ(refused.pc, object(R"({"m2m:dbg":"no such thing"})"));
  const Response policy = error_response(request, Error(Category::kPolicy, Rsc::kOriginatorHasNoPrivilege, "acp"));
  EXPECT_EQ(policy.rsc, Rsc::kOriginatorHasNoPrivilege);
  // An error without a status code is a server error.
  EXPECT_EQ(error_response(request, Error(Category::kIo, "disk")).rsc, Rsc::kInternalServerError);
}

//= TS-0009 V3.9.1 §6.3.2 (Table 6.3.2-1)
//= type=test
TEST(Primitive, HttpStatusFollowsTs0009Table) {
  EXPECT_EQ(http_status(Rsc::kOk), 200u);
  EXPECT_EQ(http_status(Rsc::kDeleted), 200u);
  EXPECT_EQ(http_status(Rsc::kUpdated), 200u);
  EXPECT_EQ(http_status(Rsc::kCreated), 201u);
  EXPECT_EQ(http_status(Rsc::kBadRequest), 400u);
  EXPECT_EQ(http_status(Rsc::kContentsUnacceptable), 400u);
  EXPECT_EQ(http_status(Rsc::kOriginatorHasNoPrivilege), 403u);
  EXPECT_EQ(http_status(Rsc::kOriginatorNotAuthenticated), 403u);
  EXPECT_EQ(http_status(Rsc::kSecurityAssociationRequired), 403u);
  EXPECT_EQ(http_status(Rsc::kEsprimBadMac), 403u);
  EXPECT_EQ(http_status(Rsc::kReceiverHasNoPrivilege), 403u);
  EXPECT_EQ(http_status(Rsc::kSubscriptionHostHasNoPrivilege), 403u);
  EXPECT_EQ(http_status(Rsc::kNotFound), 404u);
  EXPECT_EQ(http_status(Rsc::kOperationNotAllowed), 405u);
  EXPECT_EQ(http_status(Rsc::kConflict), 409u);
  EXPECT_EQ(http_status(Rsc::kInternalServerError), 500u);
  EXPECT_EQ(http_status(Rsc::kEsprimDecryptionError), 500u);
  EXPECT_EQ(http_status(Rsc::kNotImplemented), 501u);
  EXPECT_EQ(http_status(Rsc::kRequestTimeout), 504u);
  // The codes the hosting CSE added (TS-0009 V3.9.1 Table 6.3.2-1 rows).
  EXPECT_EQ(http_status(Rsc::kInvalidChildResourceType), 403u);
  EXPECT_EQ(http_status(Rsc::kGroupMemberTypeInconsistent), 400u);
  EXPECT_EQ(http_status(Rsc::kOriginatorHasAlreadyRegistered), 403u);
  EXPECT_EQ(http_status(Rsc::kAppRuleValidationFailed), 403u);
  EXPECT_EQ(http_status(Rsc::kSubscriptionVerificationInitiationFailed), 500u);
  EXPECT_EQ(http_status(Rsc::kNotAcceptable), 406u);
}

// "c.dd" as TS-0008 writes a CoAP code, to the code octet of RFC 7252 §3 (class in the 3 high bits).
std::uint8_t coap_octet(std::string_view text) {
  const unsigned cls = static_cast<unsigned>(text[0] - '0');
  const unsigned detail = static_cast<unsigned>((text[2] - '0') * 10 + (text[3] - '0'));
  return static_cast<std::uint8_t>(cls * 32 + detail);
}

//= TS-0008 V3.9.0 §6.2.4 (Table 6.2.4-1)
//= type=test
TEST(Primitive, CoapCodeFollowsTs0008Table) {
  // (oneM2M code, CoAP code) pairs typed from the rows of Table 6.2.4-1.
  const std::pair<std::int64_t, std::string_view> rows[] = {
      {2000, "2.05"},  // the RETRIEVE row (the NOTIFY row, 2.04, is the binding's choice by operation)
      {2001, "2.01"}, {2002, "2.02"}, {2004, "2.04"}, {4000, "4.00"}, {4004, "4.04"}, {4005, "4.05"},
      {4008, "5.04"}, {4101, "4.03"}, {4102, "4.00"}, {4103, "4.03"}, {4105, "4.03"}, {4106, "4.03"},
      {4107, "4.03"}, {4108, "4.03"}, {4110, "4.00"}, {4111, "4.03"}, {4112, "4.03"}, {4113, "4.03"},
      {4114, "4.03"}, {4115, "4.03"}, {4116, "4.03"}, {4117, "4.03"}, {4126, "4.03"}, {5000, "5.00"},
      {5001, "5.01"}, {5105, "4.03"}, {5204, "5.00"}, {5205, "4.03"}, {5207, "4.06"}, {5210, "5.00"},
      {5211, "5.00"},
  };
  for (const auto& [number, coap] : rows) {
    const std::optional<Rsc> rsc = rsc_from_int(number);
    ASSERT_TRUE(rsc) << number;
    EXPECT_EQ(coap_code(*rsc), coap_octet(coap)) << number << " -> " << coap;
  }
  // Octets as RFC 7252 §12.1.2 lists them: 2.05 is 0x45 (69), 4.03 is 0x83 (131), 5.04 is 0xA4 (164).
  EXPECT_EQ(coap_code(Rsc::kOk), 0x45);
  EXPECT_EQ(coap_code(Rsc::kOriginatorHasNoPrivilege), 0x83);
  EXPECT_EQ(coap_code(Rsc::kRequestTimeout), 0xA4);
  // Where the HTTP and CoAP tables part: CONFLICT is 409 on HTTP but 4.03 on CoAP.
  EXPECT_EQ(http_status(Rsc::kConflict), 409u);
  EXPECT_EQ(coap_code(Rsc::kConflict), coap_octet("4.03"));
  // A value cast from outside the enum is a server error.
  EXPECT_EQ(coap_code(static_cast<Rsc>(1234)), coap_octet("5.00"));
}

TEST(Primitive, EveryEnumeratorOfRscHasAStatusAndANumber) {
  // rsc_name's switch names every enumerator of Rsc (-Wswitch): each must map both ways here, nothing more.
  for (std::int64_t value = -1; value < 10000; ++value) {
    const bool enumerator = rsc_name(static_cast<Rsc>(static_cast<std::uint16_t>(value))) != "UNKNOWN_RSC" && value >= 0;
    const std::optional<Rsc> rsc = rsc_from_int(value);
    ASSERT_EQ(rsc.has_value(), enumerator) << value;
    if (!rsc) continue;
    EXPECT_EQ(static_cast<std::int64_t>(*rsc), value);
    // Only statuses the table uses (4008 becomes 504, 5105 and 5205 become 403: the class does not carry over).
    const std::vector<unsigned> table = {200, 201, 400, 403, 404, 405, 406, 409, 500, 501, 504};
    EXPECT_NE(std::find(table.begin(), table.end(), http_status(*rsc)), table.end()) << value;
    // And only CoAP codes of Table 6.2.4-1 (TS-0008 V3.9.0), all of them response classes 2, 4 or 5.
    const std::vector<std::string_view> coap_table = {"2.01", "2.02", "2.04", "2.05", "4.00", "4.03", "4.04",
                                                      "4.05", "4.06", "5.00", "5.01", "5.04"};
    EXPECT_TRUE(std::any_of(coap_table.begin(), coap_table.end(),
                            [&](std::string_view c) { return coap_octet(c) == coap_code(*rsc); }))
        << value;
  }
  EXPECT_FALSE(rsc_from_int(1000));
  EXPECT_FALSE(rsc_from_int(-2000));
  EXPECT_FALSE(rsc_from_int(65536 + 2000));
}

}  // namespace
}  // namespace m2msec::onem2m

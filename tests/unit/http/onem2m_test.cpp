// The oneM2M HTTP binding (TS-0009 V3.9.1): primitives to HTTP messages and back, in both directions, then
// end to end: our server with primitive_handler against our keep-alive client over TLS-PSK, and curl (an
// independent client) speaking raw oneM2M HTTP to it over plain HTTP.
#include "m2msec/http/onem2m.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <stdexcept>

#include "m2msec/tls/profile.h"
#include "oracle.h"

namespace m2msec::http {
namespace {

using onem2m::Operation;
using test::read_file;
using test::run;
using test::TempDir;

constexpr std::string_view kAuthority = "in-cse.m2m.example.com";
constexpr std::string_view kPskIdentity = "dev1@sp.example.com";
constexpr std::uint8_t kPskOctet = 0x3c;

json::Value json_of(std::string_view text) {
  auto value = json::parse(text);
  EXPECT_TRUE(value) << value.error().to_string();
  return value ? *value : json::Value();
}

// A request as a oneM2M HTTP client sends it; `extra` replaces or adds headers.
Request http_request(std::string method, std::string target, std::vector<Header> headers, std::string body = {}) {
  std::vector<Header> all = {{"Host", "cse.example.com"}, {"X-M2M-Origin", "Cenrolee"}, {"X-M2M-RI", "req-1"}};
  for (Header& header : headers) {
    const auto same = std::find_if(all.begin(), all.end(), [&](const Header& h) { return h.name == header.name; });
    if (same != all.end()) {
      *same = std::move(header);
    } else {
      all.push_back(std::move(header));
    }
  }
  std::erase_if(all, [](const Header& h) { return h.value == "<drop>"; });
  return Request{std::move(method), std::move(target), std::move(all), std::move(body)};
}

std::optional<std::string> header_of(const Response& response, std::string_view name) {
  const auto value = response.header(name);
  return value ? std::optional<std::string>(*value) : std::nullopt;
}

// ---- server side: HTTP request -> request primitive --------------------------------------------------

TEST(HttpOnem2m, EachMethodMapsToItsOperation) {
  //= TS-0009 V3.9.1 §6.2.1 (Table 6.2.1-1)
  //= type=test
  const std::string body = R"({"m2m:mefcr":{"fqdn":"mef.example.com"}})";
  auto create = to_request_primitive(
      http_request("POST", "/mef", {{"Content-Type", "application/json;ty=7002"}, {"X-M2M-RVI", "4"}}, body));
  ASSERT_TRUE(create) << create.error().to_string();
  EXPECT_EQ(create->op, Operation::kCreate);
  EXPECT_EQ(create->ty, 7002u);
  EXPECT_EQ(create->to, "mef");
  EXPECT_EQ(create->fr, "Cenrolee");
  EXPECT_EQ(create->rqi, "req-1");
  EXPECT_EQ(create->rvi, "4");
  EXPECT_EQ(create->pc, json_of(body));

  auto notify = to_request_primitive(http_request("POST", "/ae1", {{"Content-Type", "application/json"}}, R"({"m2m:sgn":{}})"));
  ASSERT_TRUE(notify) << notify.error().to_string();
  EXPECT_EQ(notify->op, Operation::kNotify);
  EXPECT_FALSE(notify->ty);

  auto retrieve = to_request_primitive(http_request("GET", "/mef/cr1", {}));
  ASSERT_TRUE(retrieve) << retrieve.error().to_string();
  EXPECT_EQ(retrieve->op, Operation::kRetrieve);
  EXPECT_EQ(retrieve->to, "mef/cr1");
  EXPECT_FALSE(retrieve->pc);
  EXPECT_EQ(retrieve->rvi, "3");  // X-M2M-RVI is optional on input

  auto update = to_request_primitive(
      http_request("PUT", "/mef/cr1", {{"Content-Type", "application/json"}}, R"({"m2m:mefcr":{"lbl":["a"]}})"));
  ASSERT_TRUE(update) << update.error().to_string();
  EXPECT_EQ(update->op, Operation::kUpdate);

  auto remove = to_request_primitive(http_request("DELETE", "/mef/cr1", {}));
  ASSERT_TRUE(remove) << remove.error().to_string();
  EXPECT_EQ(remove->op, Operation::kDelete);
}

TEST(HttpOnem2m, ContentTypesAndTargetsItAccepts) {
  const std::string body = R"({"m2m:mafkr":{}})";
  const struct {
    const char* content_type;
    std::optional<std::uint32_t> ty;
  } types[] = {
      {"application/json", std::nullopt},
      {"application/json;ty=7007", 7007},
      {"application/json; ty=7007", 7007},
      {"application/vnd.onem2m-res+json; ty=3", 3},
      {"APPLICATION/JSON ; TY=7007 ; charset=UTF-8", 7007},
      {"application/json;charset=\"utf-8\"", std::nullopt},
  };
  for (const auto& t : types) {
    SCOPED_TRACE(t.content_type);
    auto primitive = to_request_primitive(http_request("POST", "/maf", {{"Content-Type", t.content_type}}, body));
    ASSERT_TRUE(primitive) << primitive.error().to_string();
    EXPECT_EQ(primitive->ty, t.ty);
    EXPECT_EQ(primitive->op, t.ty ? Operation::kCreate : Operation::kNotify);
  }
  // Header names in any case (TS-0009 5.1); percent-encoded octets decoded.
  auto lower = to_request_primitive(Request{"GET", "/mef/a%20b/%7Ex", {{"x-m2m-origin", "C1"}, {"x-m2m-ri", "r"}}, ""});
  ASSERT_TRUE(lower) << lower.error().to_string();
  EXPECT_EQ(lower->to, "mef/a b/~x");
  EXPECT_EQ(lower->fr, "C1");
}

TEST(HttpOnem2m, RefusesWhatItCannotTranslate) {
  const std::string body = R"({"m2m:mefcr":{}})";
  const std::vector<Header> json = {{"Content-Type", "application/json"}};
  const std::vector<Header> create = {{"Content-Type", "application/json;ty=7002"}};
  const struct {
    const char* name;
    Request request;
  } cases[] = {
      {"PATCH", http_request("PATCH", "/mef", json, body)},
      {"HEAD", http_request("HEAD", "/mef", {})},
      {"no X-M2M-Origin", http_request("GET", "/mef", {{"X-M2M-Origin", "<drop>"}})},
      {"empty X-M2M-Origin", http_request("GET", "/mef", {{"X-M2M-Origin", ""}})},
      {"no X-M2M-RI", http_request("GET", "/mef", {{"X-M2M-RI", "<drop>"}})},
      {"empty X-M2M-RVI", http_request("GET", "/mef", {{"X-M2M-RVI", ""}})},
      // TS-0009 6.2.2.2: fields of Table 6.2.2.2-1 we do not map, attribute conditions, malformed fields.
      {"query rt", http_request("GET", "/mef?rt=1", {})},
      {"query drt", http_request("GET", "/mef?fu=1&drt=2", {})},
      {"query ltids", http_request("GET", "/mef?ltids=lt1", {})},
      {"query tqi", http_request("GET", "/mef?tqi=true", {})},
      {"query attribute", http_request("GET", "/mef?ty=3&cr=Sam&fu=1", {})},
      {"query atrl", http_request("GET", "/mef?atrl=ri+lbl", {})},
      {"query name case", http_request("GET", "/mef?RCN=1", {})},
      {"an empty query", http_request("GET", "/mef?", {})},
      {"an empty field", http_request("GET", "/mef?rcn=1&&fu=1", {})},
      {"a field without value", http_request("GET", "/mef?rcn", {})},
      {"a field with an empty value", http_request("GET", "/mef?rcn=", {})},
      {"a field without name", http_request("GET", "/mef?=1", {})},
      {"0..1 field twice", http_request("GET", "/mef?rcn=1&rcn=1", {})},
      {"0..1 field with a list", http_request("GET", "/mef?fu=1+2", {})},
      {"rcn too big", http_request("GET", "/mef?rcn=256", {})},
      {"rcn negative", http_request("GET", "/mef?rcn=-1", {})},
      {"rcn leading zero", http_request("GET", "/mef?rcn=01", {})},
      {"fu zero", http_request("GET", "/mef?fu=0", {})},
      {"ty zero", http_request("GET", "/mef?ty=3+0", {})},
      {"ty empty list element", http_request("GET", "/mef?ty=2++3", {})},
      {"ty not a number", http_request("GET", "/mef?ty=cnt", {})},
      {"lim too big", http_request("GET", "/mef?lim=4294967296", {})},
      {"lvl not an integer", http_request("GET", "/mef?lvl=1.5", {})},
      {"lbl bad percent-encoding", http_request("GET", "/mef?lbl=a%zz", {})},
      {"lbl %00", http_request("GET", "/mef?lbl=a%00", {})},
      {"lbl a character to encode", http_request("GET", "/mef?lbl=a\"b", {})},
      {"rids empty element", http_request("GET", "/mef?rids=r1@x.example.com+", {})},
      {"a query and a fragment", http_request("GET", "/mef?fu=1#rr", {})},
      // TS-0009 6.4.19: '+'-joined compact serializations, nothing else.
      {"empty Authorization", http_request("GET", "/mef", {{"Authorization", ""}})},
      {"Authorization with a scheme", http_request("GET", "/mef", {{"Authorization", "Bearer a.b.c"}})},
      {"Authorization empty token", http_request("GET", "/mef", {{"Authorization", "a.b.c++d.e.f"}})},
      {"Authorization padding", http_request("GET", "/mef", {{"Authorization", "a.b.c="}})},
      {"Authorization comma", http_request("GET", "/mef", {{"Authorization", "a.b.c,d.e.f"}})},
      {"%00", http_request("GET", "/mef/a%00b", {})},
      {"%2F", http_request("GET", "/mef/a%2fb", {})},
      {"bad percent-encoding", http_request("GET", "/mef/a%4", {})},
      {"bad percent-encoding 2", http_request("GET", "/mef/a%zz", {})},
      {"a character to encode", http_request("GET", "/mef/a\"b", {})},
      {"a fragment", http_request("GET", "/mef#rr", {})},
      {"no target resource", http_request("GET", "/", {})},
      {"SP-relative", http_request("GET", "/~/CSE178/mef", {})},
      {"absolute", http_request("GET", "/_/sp.example.com/CSE178/mef", {})},
      {"double slash", http_request("GET", "//mef", {})},
      {"asterisk form", http_request("GET", "*", {})},
      {"absolute form", http_request("GET", "http://cse.example.com/mef", {})},
      {"POST without a body", http_request("POST", "/mef", create)},
      {"PUT without a body", http_request("PUT", "/mef/cr1", json)},
      {"GET with a body", http_request("GET", "/mef", json, body)},
      {"DELETE with a body", http_request("DELETE", "/mef/cr1", json, body)},
      {"POST without Content-Type", http_request("POST", "/mef", {}, body)},
      {"text/plain", http_request("POST", "/mef", {{"Content-Type", "text/plain"}}, body)},
      {"application/xml", http_request("POST", "/mef", {{"Content-Type", "application/xml;ty=7002"}}, body)},
      {"cbor", http_request("POST", "/mef", {{"Content-Type", "application/vnd.onem2m-res+cbor;ty=7002"}}, body)},
      {"ty=0", http_request("POST", "/mef", {{"Content-Type", "application/json;ty=0"}}, body)},
      {"ty=01", http_request("POST", "/mef", {{"Content-Type", "application/json;ty=01"}}, body)},
      {"ty=abc", http_request("POST", "/mef", {{"Content-Type", "application/json;ty=abc"}}, body)},
      {"ty=-2", http_request("POST", "/mef", {{"Content-Type", "application/json;ty=-2"}}, body)},
      {"ty too big", http_request("POST", "/mef", {{"Content-Type", "application/json;ty=4294967296"}}, body)},
      {"ty empty", http_request("POST", "/mef", {{"Content-Type", "application/json;ty="}}, body)},
      {"two ty", http_request("POST", "/mef", {{"Content-Type", "application/json;ty=2;ty=3"}}, body)},
      {"unknown parameter", http_request("POST", "/mef", {{"Content-Type", "application/json;q=1"}}, body)},
      {"other charset", http_request("POST", "/mef", {{"Content-Type", "application/json;charset=latin1"}}, body)},
      {"trailing semicolon", http_request("POST", "/mef", {{"Content-Type", "application/json;"}}, body)},
      {"ty on PUT", http_request("PUT", "/mef/cr1", {{"Content-Type", "application/json;ty=7002"}}, body)},
      {"ty on GET", http_request("GET", "/mef", {{"Content-Type", "application/json;ty=7002"}})},
      {"a body that is not JSON", http_request("POST", "/mef", create, "{\"m2m:mefcr\":")},
      {"a body that is not an object", http_request("POST", "/mef", create, "[1,2]")},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto primitive = to_request_primitive(c.request);
    ASSERT_FALSE(primitive);
    EXPECT_EQ(primitive.error().category(), Category::kUsage) << primitive.error().to_string();
    EXPECT_EQ(primitive.error().rsc(), Rsc::kBadRequest);
  }
}

//= TS-0009 V3.9.1 §6.2.2.2 (Table 6.2.2.2-1), §6.4.19
//= type=test
TEST(HttpOnem2m, QueryFieldsAndAuthorizationBecomePrimitiveParameters) {
  // TS-0009 6.2.2.2 EXAMPLE 2 without its attribute condition: discovery of containers.
  auto discovery = to_request_primitive(http_request("GET", "/cse-in?ty=3&fu=1", {}));
  ASSERT_TRUE(discovery) << discovery.error().to_string();
  EXPECT_EQ(discovery->to, "cse-in");
  ASSERT_TRUE(discovery->fc);
  EXPECT_EQ(discovery->fc->fu, 1u);
  EXPECT_EQ(discovery->fc->ty, (std::vector<std::uint32_t>{3}));
  EXPECT_TRUE(discovery->fc->lbl.empty());
  EXPECT_FALSE(discovery->fc->lim);
  EXPECT_FALSE(discovery->fc->lvl);
  EXPECT_FALSE(discovery->rcn);

  // "ty=2+3+4" is the list 2 3 4 (6.2.2.2); a 0..n field may also repeat. Values are percent-decoded.
  auto all = to_request_primitive(http_request(
      "GET", "/cse-in/ae1?rcn=0&ty=2+3+4&ty=23&lbl=a%20b+c%2Bd&lbl=e&lim=0&lvl=1&rids=r1@aa.example.com"
             "&tids=tk1@das.example.com+tk2@das.example.com&rids=r2@aa.example.com",
      {{"Authorization", "eyJ0eXAiOiJK.eyJpc3MiOiJqb2UiLA0KIC.dBjftJeZ4CVP+ "
                         "eyJ0eXAiOiJK.eyJpc3MiOiJqb2UiLA0KIC.dBjftJeZ4CVP.5eym8TW_c8SuK.SdiwkIr3a.XFBoMYUZo"}}));
  ASSERT_TRUE(all) << all.error().to_string();
  EXPECT_EQ(all->to, "cse-in/ae1");
  EXPECT_EQ(all->rcn, 0u);
  ASSERT_TRUE(all->fc);
  EXPECT_EQ(all->fc->fu, 2u);  // no fu: conditional retrieval (TS-0004 6.3.5.8)
  EXPECT_EQ(all->fc->ty, (std::vector<std::uint32_t>{2, 3, 4, 23}));
  EXPECT_EQ(all->fc->lbl, (std::vector<std::string>{"a b", "c+d", "e"}));
  EXPECT_EQ(all->fc->lim, 0u);
  EXPECT_EQ(all->fc->lvl, 1u);
  EXPECT_EQ(all->rids, (std::vector<std::string>{"r1@aa.example.com", "r2@aa.example.com"}));
  EXPECT_EQ(all->tids, (std::vector<std::string>{"tk1@das.example.com", "tk2@das.example.com"}));
  // The two tokens of the example in 6.4.19.
  EXPECT_EQ(all->tkns, (std::vector<std::string>{
                           "eyJ0eXAiOiJK.eyJpc3MiOiJqb2UiLA0KIC.dBjftJeZ4CVP",
                           "eyJ0eXAiOiJK.eyJpc3MiOiJqb2UiLA0KIC.dBjftJeZ4CVP.5eym8TW_c8SuK.SdiwkIr3a.XFBoMYUZo"}));

  // rcn alone makes no filter criteria; the query goes with any method.
  auto create = to_request_primitive(http_request("POST", "/cse-in?rcn=3", {{"Content-Type", "application/json;ty=3"}},
                                                  R"({"m2m:cnt":{}})"));
  ASSERT_TRUE(create) << create.error().to_string();
  EXPECT_EQ(create->op, Operation::kCreate);
  EXPECT_EQ(create->rcn, 3u);
  EXPECT_FALSE(create->fc);
  EXPECT_TRUE(create->tkns.empty());
}

// ---- server side: response primitive -> HTTP response -------------------------------------------------

TEST(HttpOnem2m, ResponsePrimitiveBecomesStatusHeadersAndBody) {
  //= TS-0009 V3.9.1 §6.3.2, §6.4.17
  //= type=test
  const Response created = from_response_primitive({Rsc::kCreated, "req-1", json_of(R"({"m2m:mefcr":{"ri":"cr1"}})")});
  EXPECT_EQ(created.status, 201u);
  EXPECT_EQ(header_of(created, "X-M2M-RSC"), "2001");
  EXPECT_EQ(header_of(created, "X-M2M-RI"), "req-1");
  EXPECT_EQ(header_of(created, "Content-Type"), "application/json");
  EXPECT_EQ(created.body, R"({"m2m:mefcr":{"ri":"cr1"}})");

  const Response deleted = from_response_primitive({Rsc::kDeleted, "req-2", std::nullopt});
  EXPECT_EQ(deleted.status, 200u);
  EXPECT_EQ(header_of(deleted, "X-M2M-RSC"), "2002");
  EXPECT_FALSE(deleted.header("Content-Type"));
  EXPECT_TRUE(deleted.body.empty());

  EXPECT_EQ(from_response_primitive({Rsc::kOriginatorHasNoPrivilege, "r", std::nullopt}).status, 403u);
  EXPECT_EQ(from_response_primitive({Rsc::kRequestTimeout, "r", std::nullopt}).status, 504u);
}

TEST(HttpOnem2m, PrimitiveHandlerRefusesThrowsAndEchoes) {
  std::vector<onem2m::Request> seen;
  const Handler handler = primitive_handler([&](const onem2m::Request& request, const Connection&) {
    seen.push_back(request);
    if (request.to == "boom") throw std::runtime_error("internal detail");
    return onem2m::Response{Rsc::kOk, "", json_of(R"({"m2m:mefb":{}})")};
  });
  const Connection connection{nullptr, "127.0.0.1:1"};

  const Response ok = handler(http_request("GET", "/mef", {{"X-M2M-RVI", "3"}}), connection);
  EXPECT_EQ(ok.status, 200u);
  EXPECT_EQ(header_of(ok, "X-M2M-RSC"), "2000");
  EXPECT_EQ(header_of(ok, "X-M2M-RI"), "req-1");  // the request's, though the handler left it empty
  EXPECT_EQ(header_of(ok, "X-M2M-RVI"), "3");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].to, "mef");

  const Response refused = handler(http_request("GET", "/mef?x=1", {{"X-M2M-RI", "req-7"}, {"X-M2M-RVI", "4"}}), connection);
  EXPECT_EQ(refused.status, 400u);
  EXPECT_EQ(header_of(refused, "X-M2M-RSC"), "4000");
  EXPECT_EQ(header_of(refused, "X-M2M-RI"), "req-7");
  EXPECT_EQ(header_of(refused, "X-M2M-RVI"), "4");
  EXPECT_EQ(header_of(refused, "Content-Type"), "application/json");
  auto debug = json::parse(refused.body);
  ASSERT_TRUE(debug);
  ASSERT_NE(debug->find("m2m:dbg"), nullptr);
  EXPECT_NE(debug->find("m2m:dbg")->string()->find("query"), std::string::npos) << refused.body;
  EXPECT_EQ(seen.size(), 1u);  // never reached the handler

  const Response anonymous = handler(http_request("GET", "/mef", {{"X-M2M-RI", "<drop>"}}), connection);
  EXPECT_EQ(anonymous.status, 400u);
  EXPECT_FALSE(anonymous.header("X-M2M-RI"));
  EXPECT_FALSE(anonymous.header("X-M2M-RVI"));

  const Response thrown = handler(http_request("GET", "/boom", {}), connection);
  EXPECT_FALSE(thrown.header("Content-Location"));
  EXPECT_EQ(thrown.status, 500u);
  EXPECT_EQ(header_of(thrown, "X-M2M-RSC"), "5000");
  EXPECT_EQ(header_of(thrown, "X-M2M-RI"), "req-1");
  EXPECT_EQ(thrown.body.find("internal detail"), std::string::npos);
}

//= TS-0009 V3.9.1 §6.4.4
//= type=test
TEST(HttpOnem2m, CreatedResourceUriGoesInContentLocation) {
  json::Value content;
  const Handler handler = primitive_handler([&](const onem2m::Request& request, const Connection&) {
    return onem2m::Response{request.op == Operation::kCreate ? Rsc::kCreated : Rsc::kUpdated, request.rqi, content};
  });
  const Connection connection{nullptr, "127.0.0.1:1"};
  const Request create = http_request("POST", "/cse-in", {{"Content-Type", "application/json;ty=3"}}, R"({"m2m:cnt":{}})");
  const auto location = [&](std::string_view pc, const Request& request) {
    content = json_of(pc);
    return header_of(handler(request, connection), "Content-Location");
  };
  // The three forms of a resource ID become the paths of Table 6.2.2.1-1.
  EXPECT_EQ(location(R"({"m2m:uri":"cse-in/cnt 1"})", create), "/cse-in/cnt%201");
  EXPECT_EQ(location(R"({"m2m:rce":{"m2m:cnt":{"ri":"cnt1"},"uri":"/CSE178/cin00856"}})", create),
            "/~/CSE178/cin00856");
  EXPECT_EQ(location(R"({"m2m:uri":"//mym2msp.org/CSE178/cin00856"})", create), "/_/mym2msp.org/CSE178/cin00856");
  // No URI in the content (resultContent 1), or not a CREATE: none.
  EXPECT_EQ(location(R"({"m2m:cnt":{"ri":"cnt1","rn":"cnt1"}})", create), std::nullopt);
  EXPECT_EQ(location(R"({"m2m:uri":7})", create), std::nullopt);
  EXPECT_EQ(location(R"({"m2m:uri":"cse-in/cnt1"})",
                     http_request("PUT", "/cse-in/cnt1", {{"Content-Type", "application/json"}}, R"({"m2m:cnt":{}})")),
            std::nullopt);
}

// ---- client side ---------------------------------------------------------------------------------------

TEST(HttpOnem2m, RequestPrimitiveBecomesAnHttpRequestAndBack) {
  const onem2m::Request cases[] = {
      {Operation::kCreate, "mef", "Cenrolee", "r1", 7002, json_of(R"({"m2m:mefcr":{"fqdn":"m"}})"), "3"},
      {Operation::kRetrieve, "mef/cr 1/~x%y", "Cenrolee", "r2", std::nullopt, std::nullopt, "4"},
      {Operation::kUpdate, "mef/cr1", "C", "r3", std::nullopt, json_of(R"({"m2m:mefcr":{"lbl":["a"]}})"), "3"},
      {Operation::kDelete, "mef/cr1", "C", "r4", std::nullopt, std::nullopt, "3"},
      {Operation::kNotify, "ae/sub", "C", "r5", std::nullopt, json_of(R"({"m2m:sgn":{"vrq":true}})"), "3"},
  };
  const char* methods[] = {"POST", "GET", "PUT", "DELETE", "POST"};
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    const onem2m::Request& primitive = cases[i];
    SCOPED_TRACE(operation_name(primitive.op));
    Request request = to_http_request(primitive);
    EXPECT_EQ(request.method, methods[i]);
    EXPECT_EQ(request.header("X-M2M-Origin"), primitive.fr);
    EXPECT_EQ(request.header("X-M2M-RI"), primitive.rqi);
    EXPECT_EQ(request.header("X-M2M-RVI"), primitive.rvi);
    request.headers.push_back({"Host", "cse.example.com"});
    auto back = to_request_primitive(request);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(back->op, primitive.op);
    EXPECT_EQ(back->to, primitive.to);
    EXPECT_EQ(back->fr, primitive.fr);
    EXPECT_EQ(back->rqi, primitive.rqi);
    EXPECT_EQ(back->ty, primitive.ty);
    EXPECT_EQ(back->pc, primitive.pc);
    EXPECT_EQ(back->rvi, primitive.rvi);
  }
  EXPECT_EQ(to_http_request(cases[0]).header("Content-Type"), "application/json;ty=7002");
  EXPECT_EQ(to_http_request(cases[1]).target, "/mef/cr%201/~x%25y");
  EXPECT_FALSE(to_http_request(cases[1]).header("Content-Type"));
  EXPECT_EQ(to_http_request(cases[2]).header("Content-Type"), "application/json");
}

//= TS-0009 V3.9.1 §6.2.2.2 (Table 6.2.2.2-1), §6.4.19
//= type=test
TEST(HttpOnem2m, AccessAndFilterParametersGoInTheQueryAndAuthorization) {
  onem2m::Request primitive{Operation::kRetrieve, "cse-in", "CAE1", "r1", std::nullopt, std::nullopt, "3"};
  primitive.rcn = 1;
  primitive.fc = onem2m::FilterCriteria{1, {2, 3, 4}, {"a b", "c+d"}, 5, 2};
  primitive.rids = {"r1@aa.example.com", "r2@aa.example.com"};
  primitive.tids = {"tk1@das.example.com"};
  primitive.tkns = {"h1.p1.s1", "h2.k2.i2.c2.t2"};
  Request request = to_http_request(primitive);
  // Written by hand from the table: field=value pairs joined by '&', lists joined by '+', values
  // percent-encoded (RFC 3986: ' ' is %20, a '+' inside a value %2B, '@' %40).
  EXPECT_EQ(request.target,
            "/cse-in?rcn=1&lbl=a%20b+c%2Bd&ty=2+3+4&lim=5&fu=1&lvl=2&rids=r1%40aa.example.com+r2%40aa.example.com"
            "&tids=tk1%40das.example.com");
  EXPECT_EQ(request.header("Authorization"), "h1.p1.s1+h2.k2.i2.c2.t2");
  request.headers.push_back({"Host", "cse.example.com"});
  auto back = to_request_primitive(request);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->rcn, primitive.rcn);
  ASSERT_TRUE(back->fc);
  EXPECT_EQ(back->fc->fu, 1u);
  EXPECT_EQ(back->fc->ty, primitive.fc->ty);
  EXPECT_EQ(back->fc->lbl, primitive.fc->lbl);
  EXPECT_EQ(back->fc->lim, primitive.fc->lim);
  EXPECT_EQ(back->fc->lvl, primitive.fc->lvl);
  EXPECT_EQ(back->rids, primitive.rids);
  EXPECT_EQ(back->tids, primitive.tids);
  EXPECT_EQ(back->tkns, primitive.tkns);

  // Filter criteria with nothing but the default usage still say so; nothing to say: no query at all.
  primitive = onem2m::Request{Operation::kRetrieve, "cse-in", "CAE1", "r2", std::nullopt, std::nullopt, "3"};
  primitive.fc = onem2m::FilterCriteria{};
  EXPECT_EQ(to_http_request(primitive).target, "/cse-in?fu=2");
  primitive.fc.reset();
  EXPECT_EQ(to_http_request(primitive).target, "/cse-in");
  EXPECT_FALSE(to_http_request(primitive).header("Authorization"));
}

TEST(HttpOnem2m, HttpResponseBecomesAResponsePrimitive) {
  auto good = from_http_response({201, {{"X-M2M-RSC", "2001"}, {"X-M2M-RI", "r1"}}, R"({"m2m:mefcr":{}})"}, "r1");
  ASSERT_TRUE(good) << good.error().to_string();
  EXPECT_EQ(good->rsc, Rsc::kCreated);
  EXPECT_EQ(good->rqi, "r1");
  EXPECT_EQ(good->pc, json_of(R"({"m2m:mefcr":{}})"));
  auto empty = from_http_response({200, {{"x-m2m-rsc", "2002"}, {"x-m2m-ri", "r1"}}, ""}, "r1");
  ASSERT_TRUE(empty) << empty.error().to_string();
  EXPECT_FALSE(empty->pc);

  const Response refused[] = {
      {200, {{"X-M2M-RI", "r1"}}, ""},
      {200, {{"X-M2M-RSC", "2003"}, {"X-M2M-RI", "r1"}}, ""},
      {200, {{"X-M2M-RSC", "02000"}, {"X-M2M-RI", "r1"}}, ""},
      {200, {{"X-M2M-RSC", "ok"}, {"X-M2M-RI", "r1"}}, ""},
      {200, {{"X-M2M-RSC", "2000"}}, ""},
      {200, {{"X-M2M-RSC", "2000"}, {"X-M2M-RI", "r2"}}, ""},
      {200, {{"X-M2M-RSC", "2000"}, {"X-M2M-RI", "r1"}}, "not json"},
      {200, {{"X-M2M-RSC", "2000"}, {"X-M2M-RI", "r1"}}, "[]"},
  };
  for (const Response& response : refused) {
    auto primitive = from_http_response(response, "r1");
    ASSERT_FALSE(primitive);
    EXPECT_EQ(primitive.error().category(), Category::kProtocol) << primitive.error().to_string();
  }
}

// ---- end to end ----------------------------------------------------------------------------------------

// A stand-in service: answers every operation with its success code, the content echoed; remembers on which
// connection each request came.
class Service {
 public:
  PrimitiveHandler handler() {
    return [this](const onem2m::Request& request, const Connection& connection) {
      {
        std::lock_guard lock(m_mutex);
        m_remotes.insert(connection.remote_address);
        m_sessions.insert(connection.session);
        m_peers.insert(connection.session ? connection.session->peer().identity : "");
        ++m_count;
      }
      switch (request.op) {
        case Operation::kCreate: return onem2m::Response{Rsc::kCreated, request.rqi, request.pc};
        case Operation::kUpdate: return onem2m::Response{Rsc::kUpdated, request.rqi, request.pc};
        case Operation::kDelete: return onem2m::Response{Rsc::kDeleted, request.rqi, std::nullopt};
        case Operation::kRetrieve:
          if (request.to == "missing") return onem2m::error_response(request, Error(Category::kPolicy, Rsc::kNotFound, "x"));
          return onem2m::Response{Rsc::kOk, request.rqi, json_of(R"({"m2m:mefb":{"rn":"mef"}})")};
        case Operation::kNotify: break;
      }
      return onem2m::Response{Rsc::kOk, request.rqi, std::nullopt};
    };
  }
  std::size_t connections() const {
    std::lock_guard lock(m_mutex);
    return m_remotes.size();
  }
  std::size_t sessions() const {
    std::lock_guard lock(m_mutex);
    return m_sessions.size();
  }
  std::set<std::string> peers() const {
    std::lock_guard lock(m_mutex);
    return m_peers;
  }
  std::size_t count() const {
    std::lock_guard lock(m_mutex);
    return m_count;
  }

 private:
  mutable std::mutex m_mutex;
  std::set<std::string> m_remotes;
  std::set<const tls::Session*> m_sessions;
  std::set<std::string> m_peers;
  std::size_t m_count = 0;
};

SecretBytes psk_key() {
  SecretBytes key(32);
  std::fill(key.writable().begin(), key.writable().end(), kPskOctet);
  return key;
}

std::shared_ptr<const tls::Context> psk_context(tls::Role role) {
  tls::Config c;
  c.role = role;
  c.profile = tls::find_profile("ts0003-tls12-psk");
  if (role == tls::Role::kServer) {
    auto resolver = std::make_shared<tls::InMemoryPskResolver>(tls::PskIdentityKind::kKpsaId);
    EXPECT_TRUE(resolver->add(kPskIdentity, psk_key()));
    c.psk_resolver = std::move(resolver);
  } else {
    c.server_name = std::string(kAuthority);
    c.psk = tls::ClientPsk{std::string(kPskIdentity), psk_key()};
  }
  auto context = tls::Context::create(std::move(c));
  EXPECT_TRUE(context) << context.error().to_string();
  return context ? *context : nullptr;
}

TEST(HttpOnem2m, KeepAliveClientOverTlsPskUsesOneConnection) {
  Service service;
  auto server = Server::start({.tls = psk_context(tls::Role::kServer), .handler = primitive_handler(service.handler())});
  ASSERT_TRUE(server) << server.error().to_string();
  auto url = Url::parse((*server)->url());
  ASSERT_TRUE(url);
  auto connection = ClientConnection::open(*url, psk_context(tls::Role::kClient));
  ASSERT_TRUE(connection) << connection.error().to_string();
  ClientConnection& c = **connection;
  ASSERT_NE(c.session(), nullptr);
  const tls::Session* session = c.session();

  const json::Value content = json_of(R"({"m2m:mefcr":{"fqdn":"mef.example.com"}})");
  const onem2m::Request requests[] = {
      {Operation::kCreate, "mef", "Cenrolee", "r1", 7002, content, "3"},
      {Operation::kRetrieve, "mef", "Cenrolee", "r2", std::nullopt, std::nullopt, "3"},
      {Operation::kUpdate, "mef/cr1", "Cenrolee", "r3", std::nullopt, content, "3"},
      {Operation::kRetrieve, "missing", "Cenrolee", "r4", std::nullopt, std::nullopt, "3"},
      {Operation::kDelete, "mef/cr1", "Cenrolee", "r5", std::nullopt, std::nullopt, "3"},
  };
  const Rsc expected[] = {Rsc::kCreated, Rsc::kOk, Rsc::kUpdated, Rsc::kNotFound, Rsc::kDeleted};
  for (std::size_t i = 0; i < std::size(requests); ++i) {
    SCOPED_TRACE(requests[i].rqi);
    auto response = send_primitive(c, requests[i]);
    ASSERT_TRUE(response) << response.error().to_string();
    EXPECT_EQ(response->rsc, expected[i]);
    EXPECT_EQ(response->rqi, requests[i].rqi);
    EXPECT_EQ(c.session(), session);
  }
  auto created = send_primitive(c, requests[0]);
  ASSERT_TRUE(created);
  EXPECT_EQ(created->pc, content);

  // What send_primitive refuses is refused before anything is sent.
  const onem2m::Request bad[] = {
      {Operation::kCreate, "mef", "C", "r", std::nullopt, content, "3"},  // CREATE without ty
      {Operation::kUpdate, "mef", "C", "r", 7002, content, "3"},          // ty without CREATE
      {Operation::kRetrieve, "", "C", "r", std::nullopt, std::nullopt, "3"},
      {Operation::kRetrieve, "/CSE1/mef", "C", "r", std::nullopt, std::nullopt, "3"},
      {Operation::kRetrieve, "mef", "C", "", std::nullopt, std::nullopt, "3"},
      {Operation::kRetrieve, "mef", "C", "r", std::nullopt, std::nullopt, "3", {}, {}, {"a.b.c\r\nX: y"}},
      {Operation::kRetrieve, "mef", "C", "r", std::nullopt, std::nullopt, "3", {}, {}, {"a.b.c+d.e.f"}},
  };
  for (const onem2m::Request& request : bad) {
    auto response = send_primitive(c, request);
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().category(), Category::kUsage);
  }
  EXPECT_EQ(service.count(), std::size(requests) + 1);
  EXPECT_EQ(service.connections(), 1u);
  EXPECT_EQ(service.sessions(), 1u);
  // One authenticated peer: the Credential-ID bound to the PSK identity (TS-0003 8.2.2.1 step 4).
  const std::set<std::string> peers = service.peers();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_TRUE(peers.begin()->ends_with(kPskIdentity)) << *peers.begin();
  c.close();
  EXPECT_EQ(c.session(), nullptr);
  auto after = c.send(Request{"GET", "/mef", {}, ""});
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().category(), Category::kIo);
}

TEST(HttpOnem2m, ConnectionTheServerClosesCannotBeReused) {
  auto server = Server::start({.handler = [](const Request& request, const Connection&) {
    if (request.target == "/last") return Response{200, {{"Connection", "close"}}, "bye"};
    return Response{200, {}, "again"};
  }});
  ASSERT_TRUE(server) << server.error().to_string();
  auto connection = ClientConnection::open(*Url::parse((*server)->url()), nullptr);
  ASSERT_TRUE(connection) << connection.error().to_string();
  EXPECT_EQ((*connection)->session(), nullptr);
  auto first = (*connection)->send(Request{"GET", "/one", {}, ""});
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(first->body, "again");
  auto second = (*connection)->send(Request{"GET", "", {}, ""});  // empty target: the URL's
  ASSERT_TRUE(second) << second.error().to_string();
  auto last = (*connection)->send(Request{"GET", "/last", {}, ""});
  ASSERT_TRUE(last) << last.error().to_string();
  EXPECT_EQ(last->body, "bye");
  auto after = (*connection)->send(Request{"GET", "/one", {}, ""});
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().category(), Category::kIo);
}

TEST(HttpOnem2m, CurlSpeaksOneM2mHttpToOurServer) {
  Service service;
  auto server = Server::start({.handler = primitive_handler(service.handler())});
  ASSERT_TRUE(server) << server.error().to_string();
  TempDir dir("m2msec-onem2m");
  const std::string url = (*server)->url();
  const auto curl = [&](const std::string& args, const std::string& out) {
    return run(dir, "curl -sS --max-time 20 -D '" + dir.file(out) + "' -o '" + dir.file(out + ".body") + "' " + args);
  };
  ASSERT_EQ(curl("-X POST -H 'X-M2M-Origin: Cenrolee' -H 'X-M2M-RI: curl-1' -H 'X-M2M-RVI: 3' "
                 "-H 'Content-Type: application/vnd.onem2m-res+json; ty=7002' "
                 "--data '{\"m2m:mefcr\":{\"fqdn\":\"mef.example.com\"}}' " + url + "/mef",
                 "create"),
            0)
      << read_file(dir.file("log"));
  const std::string created = read_file(dir.file("create"));
  EXPECT_NE(created.find("HTTP/1.1 201"), std::string::npos) << created;
  EXPECT_NE(created.find("X-M2M-RSC: 2001\r\n"), std::string::npos) << created;
  EXPECT_NE(created.find("X-M2M-RI: curl-1\r\n"), std::string::npos) << created;
  EXPECT_NE(created.find("X-M2M-RVI: 3\r\n"), std::string::npos) << created;
  EXPECT_EQ(read_file(dir.file("create.body")), R"({"m2m:mefcr":{"fqdn":"mef.example.com"}})");

  // A query field the binding maps (TS-0009 Table 6.2.2.2-1) reaches the service; one it does not, never.
  ASSERT_EQ(curl("-H 'X-M2M-Origin: Cenrolee' -H 'X-M2M-RI: curl-3' '" + url + "/mef?fu=1&ty=3'", "discovery"), 0)
      << read_file(dir.file("log"));
  EXPECT_NE(read_file(dir.file("discovery")).find("HTTP/1.1 200"), std::string::npos);
  EXPECT_EQ(service.count(), 2u);
  ASSERT_EQ(curl("-H 'X-M2M-Origin: Cenrolee' -H 'X-M2M-RI: curl-2' '" + url + "/mef?rt=1'", "query"), 0)
      << read_file(dir.file("log"));
  const std::string query = read_file(dir.file("query"));
  EXPECT_NE(query.find("HTTP/1.1 400"), std::string::npos) << query;
  EXPECT_NE(query.find("X-M2M-RSC: 4000\r\n"), std::string::npos) << query;
  EXPECT_NE(query.find("X-M2M-RI: curl-2\r\n"), std::string::npos) << query;
  EXPECT_EQ(query.find("X-M2M-RVI"), std::string::npos) << query;
  EXPECT_EQ(service.count(), 2u);
}

}  // namespace
}  // namespace m2msec::http

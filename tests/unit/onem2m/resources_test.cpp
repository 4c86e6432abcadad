// The MEF and MAF resource types: the content checks of CREATE and UPDATE (TS-0003 V3.18.0 8.3.5, 8.3.9,
// 8.8.2 parameter tables) and of representations read by a client.
#include "m2msec/onem2m/resources.h"

#include <gtest/gtest.h>

#include <string>

#include "m2msec/core/text.h"

namespace m2msec::onem2m {
namespace {

using T = ResourceType;
using Op = Operation;

json::Value content(std::string_view text) {
  auto value = json::parse(text);
  EXPECT_TRUE(value) << value.error().to_string() << " in " << text;
  return value ? *value : json::Value();
}

// Expects a refusal (kUsage, BAD_REQUEST) whose text names `mentions`.
void expect_refused(T type, Op op, std::string_view text, std::string_view mentions) {
  SCOPED_TRACE(std::string(resource_spec(type).name) + " " + std::string(operation_name(op)) + " " + std::string(text));
  auto checked = check_content(type, op, content(text));
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().category(), Category::kUsage);
  EXPECT_EQ(checked.error().rsc(), Rsc::kBadRequest);
  EXPECT_NE(checked.error().detail().find(mentions), std::string::npos) << checked.error().detail();
}

void expect_accepted(T type, Op op, std::string_view text) {
  SCOPED_TRACE(std::string(resource_spec(type).name) + " " + std::string(operation_name(op)) + " " + std::string(text));
  auto checked = check_content(type, op, content(text));
  ASSERT_TRUE(checked) << checked.error().to_string();
  EXPECT_EQ(json::Value(*checked), *content(text).object()->begin()->second.object());
}

TEST(Resources, TypeCodesAndSpecs) {
  for (std::int64_t code = 7001; code <= 7010; ++code) {
    const auto type = resource_type_from_int(code);
    ASSERT_TRUE(type) << code;
    EXPECT_EQ(resource_spec(*type).type, *type);
    EXPECT_TRUE(resource_spec(*type).root.starts_with("m2m:"));
  }
  EXPECT_FALSE(resource_type_from_int(7000));
  EXPECT_FALSE(resource_type_from_int(7011));
  EXPECT_FALSE(resource_type_from_int(2));
  EXPECT_EQ(resource_spec(T::kMefClientReg).root, "m2m:mefcr");
  EXPECT_EQ(resource_spec(T::kMafKeyReg).name, "mafKeyReg");
}

TEST(Resources, IbcCredentialRequests) {
  const auto with = [](std::string_view root, std::string_view members) {
    return concat({"{\"", root, "\":{", members, "}}"});
  };
  expect_accepted(T::kMefIbcCred, Op::kCreate, with("m2m:mefic", R"("ibid":"CAE01")"));
  expect_accepted(T::kMefIbcCred, Op::kCreate, with("m2m:mefic", R"("ibi1":"mef.example.com@4341453031@20300101T000000")"));
  // What the MEF answers is never sent by the client.
  for (const std::string_view name : {"ibi2", "ssk", "pvt", "kpak", "rsk", "kmsz", "et"}) {
    const std::string_view value = name == "et" ? "20300101T000000" : "AAAA";
    expect_refused(T::kMefIbcCred, Op::kCreate, with("m2m:mefic", concat({"\"", name, "\":\"", value, "\""})), name);
  }
  expect_refused(T::kMefIbcCred, Op::kUpdate, with("m2m:mefic", R"("ibid":"CAE01")"), "ibid");
  expect_accepted(T::kKmsKey, Op::kCreate, with("m2m:kmsk", R"("ibid":"mef.example.com@4341453031@20300101T000000")"));
  expect_refused(T::kKmsKey, Op::kCreate, with("m2m:kmsk", ""), "ibid");
  expect_refused(T::kKmsKey, Op::kCreate, with("m2m:kmsk", R"("ibid":"x","ssk":"AAAA")"), "ssk");
}

TEST(Resources, ClientRegistrationCreateAndUpdate) {
  for (const T type : {T::kMefClientReg, T::kMafClientReg}) {
    const std::string root(resource_spec(type).root);
    const auto with = [&](std::string_view members) { return "{\"" + root + "\":{" + std::string(members) + "}}"; };
    const std::string minimal = R"("fqdn":"mef.example.com","et":"20300101T000000","adfq":"admin.example.com")";
    expect_accepted(type, Op::kCreate, with(minimal));
    expect_accepted(type, Op::kCreate, with(minimal + R"(,"lbl":["a","b"])"));
    expect_accepted(type, Op::kUpdate, with(R"("et":"20310101T000000")"));
    expect_accepted(type, Op::kUpdate, with(R"("lbl":["x"])"));

    expect_refused(type, Op::kCreate, with(R"("et":"20300101T000000","adfq":"a.example.com")"), "'fqdn'");
    expect_refused(type, Op::kCreate, with(R"("fqdn":"m.example.com","adfq":"a.example.com")"), "'et'");
    expect_refused(type, Op::kCreate, with(R"("fqdn":"m.example.com","et":"20300101T000000")"), "'adfq'");
    expect_refused(type, Op::kCreate, with(minimal + R"(,"zz":1)"), "'zz'");                     // unknown
    expect_refused(type, Op::kCreate, with(minimal + R"(,"ri":"cr1")"), "'ri'");                 // read-only
    expect_refused(type, Op::kCreate, with(minimal + R"(,"mcid":"C1")"), "'mcid'");              // the CSE assigns it
    expect_refused(type, Op::kCreate, with(minimal + R"(,"cfg":{})"), "'cfg'");
    expect_refused(type, Op::kCreate, with(minimal + R"(,"ct":"20300101T000000")"), "'ct'");
    expect_refused(type, Op::kCreate, with(R"("fqdn":"m","et":"2030-01-01","adfq":"a")"), "'et'");  // wrong kinds
    expect_refused(type, Op::kCreate, with(R"("fqdn":7,"et":"20300101T000000","adfq":"a")"), "'fqdn'");
    expect_refused(type, Op::kCreate, with(minimal + R"(,"lbl":"a")"), "'lbl'");
    expect_refused(type, Op::kCreate, with(minimal + R"(,"lbl":[])"), "'lbl'");
    expect_refused(type, Op::kCreate, with(minimal + R"(,"lbl":["a",""])"), "'lbl'");
    expect_refused(type, Op::kCreate, with(minimal + R"(,"lbl":["a",1])"), "'lbl'");
    expect_refused(type, Op::kUpdate, with(""), "at least one");                    // update_needs_one
    expect_refused(type, Op::kUpdate, with(R"("fqdn":"m.example.com")"), "'fqdn'");  // not updatable
    expect_refused(type, Op::kUpdate, with(R"("adfq":"a.example.com")"), "'adfq'");
  }
}

TEST(Resources, KeyRegistrationCreateAndUpdate) {
  for (const T type : {T::kMefKeyReg, T::kMafKeyReg}) {
    const std::string root(resource_spec(type).root);
    const auto with = [&](std::string_view members) { return "{\"" + root + "\":{" + std::string(members) + "}}"; };
    const std::string minimal = R"("fqdn":"maf.example.com","et":"20300101T000000","adfq":"admin.example.com","suid":22)";
    expect_accepted(type, Op::kCreate, with(minimal));
    expect_accepted(type, Op::kCreate, with(minimal + R"(,"tgis":["C1","C2"],"kval":"AAECAw==","lbl":["k"])"));
    expect_accepted(type, Op::kUpdate, with(R"("tgis":["C3"])"));

    expect_refused(type, Op::kCreate, with(R"("fqdn":"m","et":"20300101T000000","adfq":"a")"), "'suid'");
    expect_refused(type, Op::kCreate, with(minimal + R"(,"kval":"AAECAw")"), "'kval'");  // unpadded
    expect_refused(type, Op::kCreate, with(minimal + R"(,"kval":"")"), "'kval'");
    expect_refused(type, Op::kCreate, with(minimal + R"(,"kval":"AA!=")"), "'kval'");
    expect_refused(type, Op::kCreate, with(minimal + R"(,"tgis":[])"), "'tgis'");
    expect_refused(type, Op::kCreate, with(minimal + R"(,"rlki":"x")"), "'rlki'");       // assigned by the MAF
    expect_refused(type, Op::kCreate, with(R"("fqdn":"m","et":"20300101T000000","adfq":"a","suid":-1)"), "'suid'");
    expect_refused(type, Op::kCreate, with(R"("fqdn":"m","et":"20300101T000000","adfq":"a","suid":"22")"), "'suid'");
    expect_refused(type, Op::kCreate, with(R"("fqdn":"m","et":"20300101T000000","adfq":"a","suid":2.5)"), "'suid'");
    expect_refused(type, Op::kUpdate, with(R"("kval":"AAECAw==")"), "'kval'");
    expect_refused(type, Op::kUpdate, with(R"("suid":22)"), "'suid'");
    expect_refused(type, Op::kUpdate, with(""), "at least one");
  }
}

TEST(Resources, ClientCommandUpdate) {
  //= TS-0003 V3.18.0 §8.3.9.3
  //= type=test
  expect_accepted(T::kMefClientCmd, Op::kUpdate, R"({"m2m:mefcc":{"cmid":"cmd-1","cmst":0}})");
  expect_refused(T::kMefClientCmd, Op::kUpdate, R"({"m2m:mefcc":{"cmid":"cmd-1"}})", "'cmst'");
  expect_refused(T::kMefClientCmd, Op::kUpdate, R"({"m2m:mefcc":{"cmst":1}})", "'cmid'");
  expect_refused(T::kMefClientCmd, Op::kUpdate, R"({"m2m:mefcc":{"cmid":"c","cmst":"1"}})", "'cmst'");
  expect_refused(T::kMefClientCmd, Op::kUpdate, R"({"m2m:mefcc":{"cmid":"c","cmst":1,"cmdd":{}}})", "'cmdd'");
  expect_refused(T::kMefClientCmd, Op::kCreate, R"({"m2m:mefcc":{"cmid":"c"}})", "'cmid'");
}

TEST(Resources, BasesTakeNoMembers) {
  for (const T type : {T::kMefBase, T::kMafBase}) {
    const std::string root(resource_spec(type).root);
    expect_accepted(type, Op::kUpdate, "{\"" + root + "\":{}}");
    expect_refused(type, Op::kUpdate, "{\"" + root + "\":{\"fqdn\":\"mef.example.com\"}}", "'fqdn'");
    expect_refused(type, Op::kCreate, "{\"" + root + "\":{\"rn\":\"mef\"}}", "'rn'");
  }
}

TEST(Resources, ContentShapeAndOperation) {
  const std::string good = R"({"m2m:mefcr":{"et":"20310101T000000"}})";
  expect_refused(T::kMefClientReg, Op::kUpdate, R"({"m2m:mafcr":{"et":"20310101T000000"}})", "m2m:mefcr");  // other root
  expect_refused(T::kMefClientReg, Op::kUpdate, R"({"m2m:mefcr":{"et":"20310101T000000"},"x":1})", "m2m:mefcr");
  expect_refused(T::kMefClientReg, Op::kUpdate, R"({"m2m:mefcr":[]})", "m2m:mefcr");
  expect_refused(T::kMefClientReg, Op::kUpdate, R"({})", "m2m:mefcr");
  expect_refused(T::kMefClientReg, Op::kUpdate, R"([1])", "m2m:mefcr");
  for (const Op op : {Op::kRetrieve, Op::kDelete, Op::kNotify}) expect_refused(T::kMefClientReg, op, good, "carries no");
}

TEST(Resources, RepresentationsAreCheckedForKindsNotPresence) {
  auto inner = check_representation(T::kMefClientReg, content(R"({"m2m:mefcr":{"ri":"cr1","rn":"cr1","ty":7002,
      "pi":"mef","ct":"20300101T000000","lt":"20300101T000000","mcid":"C-1","cfg":{"x":1},"keid":"AB@mef",
      "ch":[{"nm":"cmd1","typ":7003,"val":"mef/cr1/cmd1"}]}})"));
  ASSERT_TRUE(inner) << inner.error().to_string();
  EXPECT_EQ(*inner->find("mcid")->string(), "C-1");
  EXPECT_TRUE(check_representation(T::kMefClientReg, content(R"({"m2m:mefcr":{}})")));
  EXPECT_TRUE(check_representation(T::kMefClientReg, content(R"({"m2m:mefcr":{"ch":[]}})")));
  const char* refused[] = {
      R"({"m2m:mefcr":{"zz":1}})",
      R"({"m2m:mefcr":{"ty":"7002"}})",
      R"({"m2m:mefcr":{"ct":"yesterday"}})",
      R"({"m2m:mefcr":{"ch":[{"nm":"a","typ":7003}]}})",
      R"({"m2m:mefcr":{"ch":[{"nm":"a","typ":"7003","val":"v"}]}})",
      R"({"m2m:mefcr":{"ch":[{"nm":"a","typ":7003,"val":"v","x":1}]}})",
      R"({"m2m:mefcr":{"ch":[{"nm":"","typ":7003,"val":"v"}]}})",
      R"({"m2m:mefcr":{"ch":{"nm":"a","typ":7003,"val":"v"}}})",
      R"({"m2m:mefkr":{}})",
  };
  for (const char* text : refused) {
    SCOPED_TRACE(text);
    auto checked = check_representation(T::kMefClientReg, content(text));
    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error().category(), Category::kUsage);
  }
}

TEST(Resources, WrapPutsTheRootAround) {
  const json::Value wrapped = wrap(T::kMafKeyReg, json::Object{{"rlki", "k1"}});
  EXPECT_EQ(json::serialize(wrapped), R"({"m2m:mafkr":{"rlki":"k1"}})");
  auto back = check_representation(T::kMafKeyReg, wrapped);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back->find("rlki")->string(), "k1");
}

}  // namespace
}  // namespace m2msec::onem2m

// MEF Client Commands (TS-0003 8.3.9): the queue an operator fills, Command Retrieve (issued 10, reissued 11),
// Command Update (a status only for the issued cmdID) and NO_MORE_COMMANDS with its retryDuration.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "m2msec/onem2m/duration.h"
#include "mef_fixture.h"

namespace m2msec::services::test {
namespace {

using onem2m::ResourceType;

// (state, status_code) of a command, read from the SQLite file behind the store's back.
struct Row {
  int state = -1;
  std::optional<std::int64_t> status;
};
Row command_row(const World& w, const std::string& cmd_id) {
  Row out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(w.dir.file("store.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open the store";
    sqlite3_close(db);
    return out;
  }
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT state, status_code FROM commands WHERE cmd_id = ?", -1, &st, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_bind_text(st, 1, cmd_id.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(st) == SQLITE_ROW) {
    out.state = sqlite3_column_int(st, 0);
    if (sqlite3_column_type(st, 1) != SQLITE_NULL) out.status = sqlite3_column_int64(st, 1);
  } else {
    ADD_FAILURE() << "no command " << cmd_id;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

class MefCommandsTest : public MefTest {
 protected:
  std::unique_ptr<Association> a;
  std::string reg_path;
  std::string cmd1, cmd2;
  const json::Object args1{{"cfg", "first"}};
  const json::Object args2{{"node", "./a/b"}};

  void SetUp() override {
    MefTest::SetUp();
    add_enrolee("kpm-a", 0x11, "Cdev-a");
    auto q1 = mef::queue_command(*w.store, "Cdev-a", mef::CommandClass::kDevCfg, args1);
    ASSERT_TRUE(q1) << q1.error().to_string();
    auto q2 = mef::queue_command(*w.store, "Cdev-a", mef::CommandClass::kMoNode, args2);
    ASSERT_TRUE(q2) << q2.error().to_string();
    cmd1 = *q1;
    cmd2 = *q2;
    a = connect("kpm-a", 0x11);
    ASSERT_TRUE(a->established());
    auto r = do_register(*a, "Cdev-a");
    ASSERT_EQ(code(r), 2001) << dump(r);
    reg_path = "mef/" + text(r, kMefRoot, "ri");
    registration_response = r;
  }

  onem2m::Response retrieve() { return handle(request(Operation::kRetrieve, reg_path + "/cmd", "Cdev-a"), *a); }
  onem2m::Response report(const std::string& cmd_id, std::int64_t status) {
    return handle(update(reg_path + "/cmd", "Cdev-a", ResourceType::kMefClientCmd,
                         json::Object{{"cmid", cmd_id}, {"cmst", status}}),
                  *a);
  }

  onem2m::Response registration_response;
};

TEST_F(MefCommandsTest, RegistrationAnnouncesTheCommandResource) {
  const json::Value* ch = member(registration_response, kMefRoot, "ch");
  ASSERT_NE(ch, nullptr) << dump(registration_response);
  const json::Value expected = json::Array{
      json::Value(json::Object{{"nm", "cmd"}, {"typ", 7003}, {"val", reg_path + "/cmd"}})};
  EXPECT_EQ(*ch, expected) << json::serialize(*ch);
}

TEST_F(MefCommandsTest, IssuedReissuedReportedAndNoMoreCommands) {
  // Command Retrieve: the first command, issued.
  auto r = retrieve();
  ASSERT_EQ(code(r), 2000) << dump(r);
  EXPECT_EQ(text(r, kCmdRoot, "cmid"), cmd1);
  EXPECT_EQ(number(r, kCmdRoot, "cmst"), 10);
  EXPECT_EQ(number(r, kCmdRoot, "ty"), 7003);
  EXPECT_EQ(text(r, kCmdRoot, "rn"), "cmd");
  ASSERT_NE(member(r, kCmdRoot, "cmdd"), nullptr);
  const json::Value description1 =
      json::Object{{"ccid", 2}, {"cmar", json::Object{{"dcca", args1}}}, {"tgid", "Cdev-a"}};
  EXPECT_EQ(*member(r, kCmdRoot, "cmdd"), description1) << dump(r);
  EXPECT_EQ(command_row(w, cmd1).state, 1);  // issued

  // Again without a status: the same command, reissued.
  r = retrieve();
  ASSERT_EQ(code(r), 2000) << dump(r);
  EXPECT_EQ(text(r, kCmdRoot, "cmid"), cmd1);
  EXPECT_EQ(number(r, kCmdRoot, "cmst"), 11);

  // A status for another cmdID is discarded: still the first command.
  r = report("c-0123", 0);
  ASSERT_EQ(code(r), 2004) << dump(r);
  EXPECT_EQ(text(r, kCmdRoot, "cmid"), cmd1);
  EXPECT_EQ(number(r, kCmdRoot, "cmst"), 11);
  EXPECT_EQ(command_row(w, cmd1).state, 1);
  EXPECT_FALSE(command_row(w, cmd1).status);

  // The status for the issued one is recorded; the response carries the next command.
  r = report(cmd1, 3);
  ASSERT_EQ(code(r), 2004) << dump(r);
  EXPECT_EQ(text(r, kCmdRoot, "cmid"), cmd2);
  EXPECT_EQ(number(r, kCmdRoot, "cmst"), 10);
  const json::Value description2 =
      json::Object{{"ccid", 3}, {"cmar", json::Object{{"mnca", args2}}}, {"tgid", "Cdev-a"}};
  ASSERT_NE(member(r, kCmdRoot, "cmdd"), nullptr);
  EXPECT_EQ(*member(r, kCmdRoot, "cmdd"), description2) << dump(r);
  const Row row1 = command_row(w, cmd1);
  EXPECT_EQ(row1.state, 2);  // reported
  EXPECT_EQ(row1.status, 3);
  auto current = w.store->current_command("Cdev-a");
  ASSERT_TRUE(current && *current);
  EXPECT_EQ((*current)->cmd_id, cmd2);

  // A late second status for the first command changes nothing.
  r = report(cmd1, 7);
  ASSERT_EQ(code(r), 2004) << dump(r);
  EXPECT_EQ(text(r, kCmdRoot, "cmid"), cmd2);
  EXPECT_EQ(number(r, kCmdRoot, "cmst"), 11);
  EXPECT_EQ(command_row(w, cmd1).status, 3);

  // After the last: NO_MORE_COMMANDS with the retryDuration (90 minutes).
  r = report(cmd2, 0);
  ASSERT_EQ(code(r), 2004) << dump(r);
  EXPECT_EQ(command_row(w, cmd2).state, 2);
  EXPECT_EQ(command_row(w, cmd2).status, 0);
  EXPECT_EQ(number(r, kCmdRoot, "cmst"), 10);
  EXPECT_NE(text(r, kCmdRoot, "cmid"), cmd2);
  EXPECT_FALSE(text(r, kCmdRoot, "cmid").empty());
  const json::Value no_more =
      json::Object{{"ccid", 0}, {"cmar", json::Object{{"nmca", json::Object{{"rtd", "PT1H30M"}}}}}};
  ASSERT_NE(member(r, kCmdRoot, "cmdd"), nullptr);
  EXPECT_EQ(*member(r, kCmdRoot, "cmdd"), no_more) << dump(r);
  EXPECT_EQ(onem2m::format_duration(std::chrono::minutes(90)), "PT1H30M");
  r = retrieve();
  ASSERT_EQ(code(r), 2000) << dump(r);
  ASSERT_NE(member(r, kCmdRoot, "cmdd"), nullptr);
  EXPECT_EQ(*member(r, kCmdRoot, "cmdd"), no_more) << dump(r);
  current = w.store->current_command("Cdev-a");
  ASSERT_TRUE(current);
  EXPECT_FALSE(*current);
}

TEST_F(MefCommandsTest, AStatusBeforeTheCommandWasIssuedIsDiscarded) {
  // cmd1 is queued but not yet retrieved: a status for it is not the answer to an issued command.
  auto r = report(cmd1, 0);
  ASSERT_EQ(code(r), 2004) << dump(r);
  EXPECT_EQ(text(r, kCmdRoot, "cmid"), cmd1);
  EXPECT_EQ(number(r, kCmdRoot, "cmst"), 10);
  EXPECT_EQ(command_row(w, cmd1).state, 1);
  EXPECT_FALSE(command_row(w, cmd1).status);
}

TEST_F(MefCommandsTest, CommandUpdateContentIsChecked) {
  ASSERT_EQ(code(retrieve()), 2000);
  auto no_content = handle(request(Operation::kUpdate, reg_path + "/cmd", "Cdev-a"), *a);
  EXPECT_EQ(code(no_content), 4000) << dump(no_content);
  auto no_status = handle(
      update(reg_path + "/cmd", "Cdev-a", ResourceType::kMefClientCmd, json::Object{{"cmid", cmd1}}), *a);
  EXPECT_EQ(code(no_status), 4000) << dump(no_status);
  auto wrong_root = handle(update(reg_path + "/cmd", "Cdev-a", ResourceType::kMefClientReg,
                                  json::Object{{"cmid", cmd1}, {"cmst", 0}}),
                           *a);
  EXPECT_EQ(code(wrong_root), 4000) << dump(wrong_root);
  EXPECT_EQ(command_row(w, cmd1).state, 1);
}

TEST_F(MefCommandsTest, CommandsOfAnUnknownRegistrationAreNotFound) {
  auto r = handle(request(Operation::kRetrieve, "mef/mcr-00000000000000000000000000000000/cmd", "Cdev-a"), *a);
  EXPECT_EQ(code(r), 4004) << dump(r);
  EXPECT_EQ(command_row(w, cmd1).state, 0);  // not issued
}

TEST(MefCommandQueue, NoMoreCommandsAndEmptyClientAreNotQueued) {
  World w;
  ASSERT_TRUE(w.store);
  auto none = mef::queue_command(*w.store, "Cdev-a", mef::CommandClass::kNoMoreCommands, json::Object{});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().rsc(), Rsc::kBadRequest);
  auto nobody = mef::queue_command(*w.store, "", mef::CommandClass::kDevCfg, json::Object{});
  ASSERT_FALSE(nobody);
  auto current = w.store->current_command("Cdev-a");
  ASSERT_TRUE(current);
  EXPECT_FALSE(*current);
  EXPECT_EQ(mef::command_class_named("cert-prov"), mef::CommandClass::kCertProv);
  EXPECT_EQ(mef::command_class_named("dev-cfg"), mef::CommandClass::kDevCfg);
  EXPECT_EQ(mef::command_class_named("mo-node"), mef::CommandClass::kMoNode);
  EXPECT_EQ(mef::command_class_named("no-more"), std::nullopt);
}

}  // namespace
}  // namespace m2msec::services::test

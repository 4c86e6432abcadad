// The hosting CSE driven through Service::handle as a binding drives it: each request with the authenticated peer
// of its (simulated) security association, a real SQLite store in a temporary directory, a clock that moves when
// told, and a notifier that is a plain function of the test (the transport seam: it records what the CSE sends
// and answers as a notification target or a DAS Server would).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "m2msec/core/timestamp.h"
#include "m2msec/onem2m/resources.h"
#include "m2msec/crypto/random.h"
#include "m2msec/cse/service.h"
#include "m2msec/json/json.h"
#include "m2msec/store/kek.h"
#include "m2msec/store/store.h"
#include "oracle.h"

namespace m2msec::cse::test {

using onem2m::Operation;

inline json::Value J(std::string_view text) {
  auto v = json::parse(text);
  EXPECT_TRUE(v) << text;
  return v ? std::move(v).value() : json::Value();
}

inline tls::AuthenticatedPeer peer(std::string identifier) {
  return tls::AuthenticatedPeer{tls::CredentialKind::kPsk, std::move(identifier), ""};
}

inline Origin over(std::string identifier) {
  Origin o;
  o.peer = peer(std::move(identifier));
  return o;
}

// What the CSE sent through the notifier, and how the test answers.
class Wire {
 public:
  using Answer = std::function<Result<onem2m::Response>(std::string_view, const onem2m::Request&)>;
  void answer_with(Answer answer) {
    std::lock_guard lock(m_mutex);
    m_answer = std::move(answer);
  }
  Notifier notifier() {
    return [this](std::string_view target, const onem2m::Request& request) -> Result<onem2m::Response> {
      Answer answer;
      {
        std::lock_guard lock(m_mutex);
        m_sent.push_back({std::string(target), request});
        answer = m_answer;
      }
      m_cv.notify_all();
      if (answer) return answer(target, request);
      return onem2m::Response{Rsc::kOk, request.rqi, std::nullopt};
    };
  }
  // Waits (up to 5 s) until at least n requests were sent; returns them all.
  std::vector<std::pair<std::string, onem2m::Request>> wait_for(std::size_t n) {
    std::unique_lock lock(m_mutex);
    m_cv.wait_for(lock, std::chrono::seconds(5), [&] { return m_sent.size() >= n; });
    return m_sent;
  }
  std::vector<std::pair<std::string, onem2m::Request>> sent() {
    std::lock_guard lock(m_mutex);
    return m_sent;
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::vector<std::pair<std::string, onem2m::Request>> m_sent;
  Answer m_answer;
};

inline constexpr std::string_view kAdminCredential = "admin@psk.example.com";
inline constexpr std::string_view kAliceCredential = "alice@psk.example.com";
inline constexpr std::string_view kBobCredential = "bob@psk.example.com";

struct World {
  m2msec::test::TempDir dir{"m2msec-cse"};
  std::shared_ptr<ManualClock> clock =
      std::make_shared<ManualClock>(std::chrono::sys_days(std::chrono::year(2030) / 1 / 1));
  std::shared_ptr<store::Store> store;
  Wire wire;
  ServiceOptions options;
  std::unique_ptr<Service> cse;
  int next_rqi = 0;

  World() {
    auto octets = crypto::random_bytes(crypto::system_rng(), 32);
    EXPECT_TRUE(octets);
    auto kek = store::Kek::from_bytes(SecretBytes::copy_of(*octets));
    EXPECT_TRUE(kek);
    auto opened = store::open_sqlite(dir.file("store.db"), std::move(*kek));
    EXPECT_TRUE(opened) << opened.error().to_string();
    if (opened) store = std::shared_ptr<store::Store>(std::move(*opened));
    options.admin_credentials = {std::string(kAdminCredential)};
    // Alice and Bob: one credential each, App-IDs "Nmyapp*", AE-IDs starting with their initial.
    options.app_rules = {AppRule{std::string(kAliceCredential), {"Nmyapp*"}, {"C*"}, {}},
                         AppRule{std::string(kBobCredential), {"Nmyapp*"}, {"Cbob*"}, {"reader@aa.example.com"}}};
    options.store = store;
    options.clock = clock;
    options.notifier = wire.notifier();
  }

  void open() {
    cse.reset();
    auto opened = Service::open(options);
    ASSERT_TRUE(opened) << opened.error().to_string();
    cse = std::move(opened).value();
  }

  std::string at(std::chrono::seconds d) const {
    return std::move(format_m2m_timestamp(std::chrono::floor<std::chrono::seconds>(clock->now()) + d)).value();
  }

  onem2m::Request request(Operation op, std::string to, std::string fr) {
    onem2m::Request r;
    r.op = op;
    r.to = std::move(to);
    r.fr = std::move(fr);
    r.rqi = "rq-" + std::to_string(++next_rqi);
    return r;
  }

  onem2m::Response send(const onem2m::Request& r, std::string_view credential) {
    return cse->handle(r, over(std::string(credential)));
  }

  onem2m::Response create(std::string_view credential, std::string fr, std::string to, std::uint32_t ty,
                          std::string_view content) {
    onem2m::Request r = request(Operation::kCreate, std::move(to), std::move(fr));
    r.ty = ty;
    r.pc = J(content);
    return send(r, credential);
  }
  onem2m::Response retrieve(std::string_view credential, std::string fr, std::string to) {
    return send(request(Operation::kRetrieve, std::move(to), std::move(fr)), credential);
  }
  onem2m::Response update(std::string_view credential, std::string fr, std::string to, std::string_view content) {
    onem2m::Request r = request(Operation::kUpdate, std::move(to), std::move(fr));
    r.pc = J(content);
    return send(r, credential);
  }
  onem2m::Response remove(std::string_view credential, std::string fr, std::string to) {
    return send(request(Operation::kDelete, std::move(to), std::move(fr)), credential);
  }

  // Alice ("Calice", AE "alice") and Bob ("Cbob", AE "bob") registered with their own credentials.
  void register_alice_and_bob() {
    const auto a = create(kAliceCredential, "Calice", "cse-in", 2,
                          R"({"m2m:ae":{"rn":"alice","api":"Nmyapp-alice","rr":false,"srv":["3"]}})");
    ASSERT_EQ(a.rsc, Rsc::kCreated);
    const auto b = create(kBobCredential, "Cbob", "cse-in", 2,
                          R"({"m2m:ae":{"rn":"bob","api":"Nmyapp-bob","rr":false,"srv":["3"]}})");
    ASSERT_EQ(b.rsc, Rsc::kCreated);
  }

  // The resource ID in a response's representation.
  static std::string ri_of(const onem2m::Response& r) {
    if (!r.pc || r.pc->object() == nullptr || r.pc->object()->empty()) return {};
    const json::Value* ri = r.pc->object()->begin()->second.find("ri");
    return ri != nullptr && ri->string() != nullptr ? *ri->string() : std::string();
  }
  static const json::Value* attribute(const onem2m::Response& r, std::string_view name) {
    if (!r.pc || r.pc->object() == nullptr || r.pc->object()->empty()) return nullptr;
    return r.pc->object()->begin()->second.find(name);
  }
};

}  // namespace m2msec::cse::test

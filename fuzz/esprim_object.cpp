// Fuzz target: the ESPrim readers (TS-0003 V3.18.0 8.4; TS-0004 V3.32.0 7.6.2), on every input:
//   parse_esprim_security_info (m2m:seci, sit 3/4/5, with the raw "ero" text), parse_esprim_object (JWE
//   compact with the ESPrim header, raw "oro"/"rro"), the two rand object readers, and a Target's whole
//   C.5-C.7 processing of the object (alone, or as the "epo" of a sit-5 body). Properties:
//   it never crashes;
//   an accepted rand object writes back to a text that reads as the same object and is a fixed point;
//   an accepted "ero"/"oro"/"rro" keeps a text that reads on its own as the same object;
//   a Target error always carries one of the TS-0004 Table 7.6.2-1 codes;
//   a request the Target opens can be answered (protect_response), and that answer is refused when it is
//   sent back to the Target (reflection) and so is the same request again (replay).
//
// The Target is rebuilt for every input from a counting RNG and a fixed clock, so its shared receiver rand
// object is always {"esri":"sAAECAwQFBgcI","esrv":"vCQoLDA0ODxAREhMUFRYXGA","esrx":"20260102T000000",
// "esks":[1],"espa":[12,11,10]} and pairwise key "13-fuzz" is 00 01 .. 1f bound to "Cfuzz": the corpus holds
// objects made for it with Python (hmac, and AESGCM of the cryptography package), not with our code.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "m2msec/e2e/esprim.h"
#include "m2msec/e2e/seci.h"

namespace {

using namespace m2msec;
using namespace m2msec::e2e;

class CountingRng final : public Rng {
 public:
  Result<void> fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) b = m_next++;
    return {};
  }

 private:
  std::uint8_t m_next = 0;
};

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool esprim_code(const Error& e) {
  if (!e.rsc()) return false;
  switch (*e.rsc()) {
    case Rsc::kBadRequest:
    case Rsc::kEsprimUnsupportedOption:
    case Rsc::kEsprimUnknownKeyId:
    case Rsc::kEsprimUnknownOrigRandId:
    case Rsc::kEsprimUnknownRecvRandId:
    case Rsc::kEsprimBadMac:
    case Rsc::kEsprimImpersonationError:
    case Rsc::kEsprimDecryptionError:
    case Rsc::kEsprimEncryptionError: return true;
    default: return false;
  }
}

bool same(const ReceiverRandObject& a, const ReceiverRandObject& b) {
  return a.id == b.id && a.value == b.value && a.expiry == b.expiry && a.key_gen_alg_ids == b.key_gen_alg_ids &&
         a.protocol_alg_ids == b.protocol_alg_ids;
}
bool same(const OriginatorRandObject& a, const OriginatorRandObject& b) {
  return a.id == b.id && a.value == b.value && a.expiry == b.expiry && a.key_gen_alg_id == b.key_gen_alg_id &&
         a.protocol_alg_ids == b.protocol_alg_ids;
}

template <typename Object, typename Parse>
void check_rand_object(const Carried<Object>& c, Parse parse) {
  auto again = parse(c.text);  // the kept text reads on its own
  check(again.has_value() && same(again->object, c.object) && again->text == c.text);
  // Writing it gives a text that reads back as the same object, and writing that again changes nothing
  // (unless esrx saturated: a far-future esrx is kept as TimePoint::max()).
  if (c.object.expiry == Clock::TimePoint::max()) return;
  auto written = carry(c.object);
  check(written.has_value());
  auto reread = parse(written->text);
  check(reread.has_value() && same(reread->object, c.object));
  auto rewritten = carry(reread->object);
  check(rewritten.has_value() && rewritten->text == written->text);
}

void run_target(std::string_view object) {
  ManualClock clock(Clock::TimePoint(std::chrono::sys_days(std::chrono::year(2026) / 1 / 1)));
  CountingRng rng;
  Target::Options options;
  options.protocol_alg_ids = {ProtocolAlg::kJweA256Gcm, ProtocolAlg::kJweA192Gcm, ProtocolAlg::kJweA128Gcm};
  Target target(clock, rng, options);
  SecretBytes key(32);
  for (std::size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<std::uint8_t>(i);
  check(target.add_pairwise_key("13-fuzz", std::move(key), "Cfuzz").has_value());
  check(target.issue_shared_rand_object().has_value());

  std::optional<SessionId> session;
  auto opened = target.unprotect_request(
      object, [](const Target::OpenedRequest& r) { return json_primitive_ids(r.inner.view()); }, &session);
  if (!opened) {
    check(esprim_code(opened.error()));
    if (!session) return;
    // A failure after the key was found: the error response can go inside ESPrim.
    check(target.protect_response(*session, as_bytes("{\"rsc\":4000}"), {}).has_value());
    return;
  }
  check(opened->authenticated && opened->identity == "Cfuzz");
  auto response = target.protect_response(*opened, as_bytes("{\"rsc\":2000}"));
  check(response.has_value());
  auto reflected = target.open_request(*response);
  check(!reflected.has_value() && esprim_code(reflected.error()));
  auto replayed = target.open_request(object);
  check(!replayed.has_value() && esprim_code(replayed.error()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto r = parse_receiver_rand_object(text)) check_rand_object(*r, parse_receiver_rand_object);
  if (auto o = parse_originator_rand_object(text)) check_rand_object(*o, parse_originator_rand_object);

  if (auto info = parse_esprim_security_info(text)) {
    if (info->rand_object) check_rand_object(*info->rand_object, parse_receiver_rand_object);
    if (info->esprim_object) {
      check(is_e2e_compact_jwe(*info->esprim_object));
      run_target(*info->esprim_object);
    }
  }

  if (auto parsed = parse_esprim_object(text)) {
    const EsprimHeader& h = parsed->header;
    check(!h.kid.empty() && !h.ori.empty() && !h.rri.empty() && !h.enc.empty());
    if (h.oro) check_rand_object(*h.oro, parse_originator_rand_object);
    if (h.rro) check_rand_object(*h.rro, parse_receiver_rand_object);
  }
  if (is_e2e_compact_jwe(text)) run_target(text);
  return 0;
}

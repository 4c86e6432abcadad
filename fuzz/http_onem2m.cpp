// Fuzz target: the oneM2M HTTP binding's server side on raw octets, http::parse_request then
// to_request_primitive (limits as the server's defaults: 64 KiB body, 8 KiB header):
//   a request it translates has a non-empty, CSE-relative to without NUL, a non-empty fr and rqi, ty exactly
//     on CREATE, and a content exactly on CREATE, UPDATE and NOTIFY;
//   translated back (to_http_request) it gives the same primitive again, query fields (rcn, fc, rids, tids)
//     and tokens (Authorization) included;
//   every refusal is kUsage (BAD_REQUEST), and primitive_handler answers it 400 without calling the handler.
#include <cstdint>
#include <string>
#include <string_view>

#include "m2msec/http/message.h"
#include "m2msec/http/onem2m.h"

namespace {

using m2msec::onem2m::Operation;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view octets(reinterpret_cast<const char*>(data), size);
  const m2msec::http::ParsedRequest parsed = m2msec::http::parse_request(octets, 64 * 1024, 8 * 1024);
  if (!parsed.request) return 0;
  const auto primitive = m2msec::http::to_request_primitive(*parsed.request);
  if (!primitive) {
    check(primitive.error().category() == m2msec::Category::kUsage);
    check(primitive.error().rsc() == m2msec::Rsc::kBadRequest);
    bool called = false;
    const auto handler = m2msec::http::primitive_handler([&](const m2msec::onem2m::Request& request, const auto&) {
      called = true;
      return m2msec::onem2m::Response{m2msec::Rsc::kOk, request.rqi, std::nullopt};
    });
    const m2msec::http::Response answer = handler(*parsed.request, m2msec::http::Connection{});
    check(!called && answer.status == 400 && answer.header("X-M2M-RSC") == "4000");
    return 0;
  }
  const m2msec::onem2m::Request& p = *primitive;
  check(!p.to.empty() && p.to.front() != '/' && p.to.find('\0') == std::string::npos);
  check(!p.fr.empty() && !p.rqi.empty() && !p.rvi.empty());
  check(p.ty.has_value() == (p.op == Operation::kCreate));
  check(p.pc.has_value() == (p.op == Operation::kCreate || p.op == Operation::kUpdate || p.op == Operation::kNotify));

  m2msec::http::Request again = m2msec::http::to_http_request(p);
  again.headers.push_back({"Host", "cse.example.com"});
  const auto back = m2msec::http::to_request_primitive(again);
  check(back.has_value());
  check(back->op == p.op && back->to == p.to && back->fr == p.fr && back->rqi == p.rqi && back->ty == p.ty &&
        back->pc == p.pc && back->rvi == p.rvi);
  check(back->rcn == p.rcn && back->fc.has_value() == p.fc.has_value() && back->tkns == p.tkns &&
        back->tids == p.tids && back->rids == p.rids);
  if (p.fc) {
    check(back->fc->fu == p.fc->fu && back->fc->ty == p.fc->ty && back->fc->lbl == p.fc->lbl &&
          back->fc->lim == p.fc->lim && back->fc->lvl == p.fc->lvl);
  }
  return 0;
}

// Fuzz target: the oneM2M CoAP binding (TS-0008) on raw datagrams, coap::parse then to_request_primitive:
//   a request it translates has a non-empty, CSE-relative to without NUL, a non-empty fr and rqi, an rvi of 1-2
//     characters, ty exactly on CREATE, and a content exactly on CREATE, UPDATE and NOTIFY;
//   translated back (to_coap_request, serialize, parse) it gives the same primitive again;
//   every refusal is kUsage with BAD_REQUEST, OPERATION_NOT_ALLOWED or NOT_ACCEPTABLE, and primitive_handler
//     answers it (4.00, 4.02, 4.05, 4.06 or 5.05, always with oneM2M-RSC) without calling the handler;
//   read as a response, whatever from_coap_response accepts survives from_response_primitive unchanged.
#include <cstdint>
#include <string>

#include "m2msec/coap/message.h"
#include "m2msec/coap/onem2m.h"
#include "m2msec/coap/options.h"

namespace {

using m2msec::Rsc;
using m2msec::onem2m::Operation;
namespace coap = m2msec::coap;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void as_response(const coap::Message& message) {
  const coap::Option* rqi = coap::find_option(message, coap::kOptionRqi);
  const std::string expected = rqi == nullptr ? std::string() : std::string(m2msec::as_text(rqi->value));
  const auto response = coap::from_coap_response(message, expected);
  if (!response) {
    check(response.error().category() == m2msec::Category::kProtocol);
    return;
  }
  const auto again = coap::serialize(coap::from_response_primitive(*response));
  check(again.has_value());
  const auto reparsed = coap::parse(*again);
  check(reparsed.has_value());
  const auto back = coap::from_coap_response(*reparsed, expected);
  check(back.has_value());
  check(m2msec::onem2m::serialize(*back) == m2msec::onem2m::serialize(*response));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parsed = coap::parse(m2msec::ByteView(data, size));
  if (!parsed) return 0;
  as_response(*parsed);
  const auto primitive = coap::to_request_primitive(*parsed);
  if (!primitive) {
    const m2msec::Error& error = primitive.error();
    check(error.category() == m2msec::Category::kUsage);
    check(error.rsc() == Rsc::kBadRequest || error.rsc() == Rsc::kOperationNotAllowed ||
          error.rsc() == Rsc::kNotAcceptable);
    bool called = false;
    const coap::Handler handler = coap::primitive_handler([&](const m2msec::onem2m::Request& request, const auto&) {
      called = true;
      return m2msec::onem2m::Response{Rsc::kOk, request.rqi, std::nullopt};
    });
    const coap::Message answer = handler(*parsed, coap::Connection{});
    const std::uint8_t code = answer.code;
    check(!called);
    check(code == coap::code(4, 0) || code == coap::code(4, 2) || code == coap::code(4, 5) ||
          code == coap::code(4, 6) || code == coap::code(5, 5));
    check(coap::find_option(answer, coap::kOptionRsc) != nullptr);
    return 0;
  }
  const m2msec::onem2m::Request& p = *primitive;
  check(!p.to.empty() && p.to.front() != '/' && p.to.find('\0') == std::string::npos);
  check(!p.fr.empty() && !p.rqi.empty() && !p.rvi.empty() && p.rvi.size() <= 2);
  check(p.ty.has_value() == (p.op == Operation::kCreate));
  check(p.pc.has_value() == (p.op == Operation::kCreate || p.op == Operation::kUpdate || p.op == Operation::kNotify));

  const auto message = coap::to_coap_request(p);
  check(message.has_value());
  const auto datagram = coap::serialize(*message);
  check(datagram.has_value());
  const auto reparsed = coap::parse(*datagram);
  check(reparsed.has_value());
  const auto back = coap::to_request_primitive(*reparsed);
  check(back.has_value());
  check(m2msec::onem2m::serialize(*back) == m2msec::onem2m::serialize(p));
  return 0;
}

// Fuzz target: onem2m::parse_request / parse_response, the strict JSON primitives, and check_content on
// what they carry:
//   accepted primitives serialize to text that parses back to the same primitive, and that text is a fixed
//     point (serializing again gives the same octets);
//   check_content never crashes for any type and operation, refuses everything but CREATE and UPDATE, and
//     what it accepts passes check_representation (a request's members are a subset of the representation's).
#include <cstdint>
#include <string>
#include <string_view>

#include "m2msec/onem2m/primitive.h"
#include "m2msec/onem2m/resources.h"

namespace {

using namespace m2msec::onem2m;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

constexpr ResourceType kTypes[] = {ResourceType::kMefBase,   ResourceType::kMefClientReg, ResourceType::kMefClientCmd,
                                   ResourceType::kMefKeyReg, ResourceType::kMafBase,      ResourceType::kMafClientReg,
                                   ResourceType::kMafKeyReg};
constexpr Operation kOperations[] = {Operation::kCreate, Operation::kRetrieve, Operation::kUpdate, Operation::kDelete,
                                     Operation::kNotify};

void check_contents(const m2msec::json::Value& pc) {
  for (const ResourceType type : kTypes) {
    for (const Operation op : kOperations) {
      const auto inner = check_content(type, op, pc);
      check(inner || inner.error().category() == m2msec::Category::kUsage);
      if (!inner) continue;
      check(op == Operation::kCreate || op == Operation::kUpdate);
      check(check_representation(type, pc).has_value());
      check(wrap(type, *inner) == pc);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto request = parse_request(text)) {
    const std::string once = serialize(*request);
    const auto again = parse_request(once);
    check(again.has_value());
    check(again->op == request->op && again->to == request->to && again->fr == request->fr &&
          again->rqi == request->rqi && again->ty == request->ty && again->pc == request->pc &&
          again->rvi == request->rvi && again->rcn == request->rcn && again->tkns == request->tkns &&
          again->tids == request->tids && again->rids == request->rids &&
          again->fc.has_value() == request->fc.has_value());
    if (request->fc) {
      check(again->fc->fu == request->fc->fu && again->fc->ty == request->fc->ty &&
            again->fc->lbl == request->fc->lbl && again->fc->lim == request->fc->lim &&
            again->fc->lvl == request->fc->lvl);
    }
    check(serialize(*again) == once);
    if (request->pc) check_contents(*request->pc);
  }
  if (auto response = parse_response(text)) {
    const std::string once = serialize(*response);
    const auto again = parse_response(once);
    check(again.has_value());
    check(again->rsc == response->rsc && again->rqi == response->rqi && again->pc == response->pc);
    check(serialize(*again) == once);
    if (response->pc) check_contents(*response->pc);
  }
  return 0;
}

#include "m2msec/coap/message.h"

#include "m2msec/core/text.h"

#include <algorithm>
#include <string>

namespace m2msec::coap {
namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kPayloadMarker = 0xFF;
// §3.1: a nibble of 13 or 14 announces one or two extension octets, added to 13 or 269; 15 is reserved.
constexpr unsigned kOneOctet = 13;
constexpr unsigned kTwoOctets = 14;
constexpr unsigned kReserved = 15;
constexpr unsigned kOneOctetBase = 13;
constexpr unsigned kTwoOctetBase = 269;
constexpr std::size_t kMaxOptionValue = 65535 + kTwoOctetBase;

Error format_error(std::string what) { return Error(Category::kProtocol, Rsc::kBadRequest, "CoAP: " + std::move(what)); }

// The value of a delta or length nibble with its extension octets, read from `in` at `at`.
Result<std::size_t> extended(unsigned nibble, ByteView in, std::size_t& at, std::string_view what) {
  if (nibble < kOneOctet) return std::size_t{nibble};
  if (nibble == kReserved) return format_error("the reserved nibble 15 in an option " + std::string(what));
  const std::size_t octets = nibble == kOneOctet ? 1 : 2;
  if (in.size() - at < octets) return format_error("an option " + std::string(what) + " runs past the end");
  const std::size_t value = octets == 1 ? in[at] : (std::size_t{in[at]} << 8 | in[at + 1]);
  at += octets;
  return value + (octets == 1 ? kOneOctetBase : kTwoOctetBase);
}

// The nibble for `value` and its extension octets.
unsigned nibble_of(std::size_t value) {
  if (value < kOneOctetBase) return static_cast<unsigned>(value);
  return value < kTwoOctetBase ? kOneOctet : kTwoOctets;
}
void put_extension(Bytes& out, std::size_t value) {
  if (value < kOneOctetBase) return;
  if (value < kTwoOctetBase) {
    out.push_back(static_cast<std::uint8_t>(value - kOneOctetBase));
    return;
  }
  const std::size_t rest = value - kTwoOctetBase;
  out.push_back(static_cast<std::uint8_t>(rest >> 8));
  out.push_back(static_cast<std::uint8_t>(rest));
}

}  // namespace

Result<Message> parse(ByteView in) {
  //= RFC 7252 §3
  //# Ver (2 bits, 1), T (2), TKL (4, 9-15 reserved), Code (8), Message ID (16), then the token.
  if (in.size() < 4) return format_error("a message shorter than its 4-octet header");
  if ((in[0] >> 6) != kVersion) return format_error("version " + std::to_string(in[0] >> 6));
  Message out;
  out.type = static_cast<Type>((in[0] >> 4) & 0x3);
  const std::size_t token_length = in[0] & 0x0F;
  if (token_length > kMaxTokenSize) return format_error("a token length of " + std::to_string(token_length));
  out.code = in[1];
  out.message_id = static_cast<std::uint16_t>(in[2] << 8 | in[3]);
  //= RFC 7252 §4.1
  //# An Empty message has nothing after the 4-octet header.
  if (out.code == kEmpty && in.size() != 4) return format_error("an Empty message with more than its header");
  if (in.size() - 4 < token_length) return format_error("the token runs past the end");
  out.token.assign(in.begin() + 4, in.begin() + 4 + static_cast<std::ptrdiff_t>(token_length));
  std::size_t at = 4 + token_length;
  std::size_t number = 0;
  while (at < in.size()) {
    const std::uint8_t first = in[at++];
    if (first == kPayloadMarker) {
      //= RFC 7252 §3
      //# The marker followed by a zero-length payload is a message format error.
      if (at == in.size()) return format_error("a payload marker with no payload");
      out.payload.assign(in.begin() + static_cast<std::ptrdiff_t>(at), in.end());
      return out;
    }
    M2MSEC_ASSIGN_OR_RETURN(const std::size_t delta, extended(first >> 4, in, at, "delta"));
    M2MSEC_ASSIGN_OR_RETURN(const std::size_t length, extended(first & 0x0F, in, at, "length"));
    number += delta;
    if (number > 0xFFFF) return format_error("an option number over 65535");
    if (in.size() - at < length) return format_error("an option value runs past the end");
    out.options.push_back(Option{static_cast<std::uint16_t>(number),
                                 Bytes(in.begin() + static_cast<std::ptrdiff_t>(at),
                                       in.begin() + static_cast<std::ptrdiff_t>(at + length))});
    at += length;
  }
  return out;
}

Result<Bytes> serialize(const Message& message) {
  if (message.token.size() > kMaxTokenSize) return Error::usage("CoAP: a token over 8 octets");
  if (message.code == kEmpty && (!message.token.empty() || !message.options.empty() || !message.payload.empty())) {
    return Error::usage("CoAP: an Empty message carries nothing after its header");
  }
  std::vector<Option> options = message.options;
  std::stable_sort(options.begin(), options.end(), [](const Option& a, const Option& b) { return a.number < b.number; });
  Bytes out{static_cast<std::uint8_t>(kVersion << 6 | static_cast<unsigned>(message.type) << 4 | message.token.size()),
            message.code, static_cast<std::uint8_t>(message.message_id >> 8),
            static_cast<std::uint8_t>(message.message_id)};
  out.insert(out.end(), message.token.begin(), message.token.end());
  std::size_t previous = 0;
  for (const Option& option : options) {
    if (option.value.size() > kMaxOptionValue) return Error::usage("CoAP: an option value too long to encode");
    const std::size_t delta = option.number - previous;
    previous = option.number;
    out.push_back(static_cast<std::uint8_t>(nibble_of(delta) << 4 | nibble_of(option.value.size())));
    put_extension(out, delta);
    put_extension(out, option.value.size());
    out.insert(out.end(), option.value.begin(), option.value.end());
  }
  if (!message.payload.empty()) {
    out.push_back(kPayloadMarker);
    out.insert(out.end(), message.payload.begin(), message.payload.end());
  }
  return out;
}

std::string code_text(std::uint8_t c) {
  const unsigned detail = c & 0x1f;
  return concat({std::to_string(c >> 5), ".", detail < 10 ? "0" : "", std::to_string(detail)});
}

}  // namespace m2msec::coap

// CoAP messages (RFC 7252 §3): the 4-octet header, the token, the options in delta encoding and the payload after
// the 0xFF marker. parse() refuses anything that is not a well-formed message (a "message format error", §3 and
// §4.2-4.3, which the caller answers with Reset or drops); serialize() is its inverse. Which options are known or
// critical is the binding's business, not this layer's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"

namespace m2msec::coap {

enum class Type : std::uint8_t { kConfirmable = 0, kNonConfirmable = 1, kAcknowledgement = 2, kReset = 3 };

// A code c.dd (RFC 7252 §3, §12.1): the 3-bit class and the 5-bit detail in one octet.
constexpr std::uint8_t code(unsigned cls, unsigned detail) { return static_cast<std::uint8_t>((cls << 5) | detail); }
inline constexpr std::uint8_t kEmpty = code(0, 0);
// The methods (RFC 7252 §12.1.1).
inline constexpr std::uint8_t kGet = code(0, 1);
inline constexpr std::uint8_t kPost = code(0, 2);
inline constexpr std::uint8_t kPut = code(0, 3);
inline constexpr std::uint8_t kDelete = code(0, 4);
// A code in the "c.dd" notation of RFC 7252 §12.1 ("2.05", "4.13"), for messages.
std::string code_text(std::uint8_t c);

inline constexpr std::size_t kMaxTokenSize = 8;

struct Option {
  std::uint16_t number = 0;
  Bytes value;
  bool operator==(const Option&) const = default;
};

struct Message {
  Type type = Type::kConfirmable;
  std::uint8_t code = kEmpty;
  std::uint16_t message_id = 0;
  Bytes token;                  // 0 to 8 octets
  std::vector<Option> options;  // in the order of their numbers (serialize sorts them, keeping repeats in order)
  Bytes payload;
  bool operator==(const Message&) const = default;
};

// kProtocol for a message format error: fewer than 4 octets, a version other than 1, a token length of 9-15, an
// Empty message (0.00) with anything after the header, the reserved nibble 15 outside the payload marker, an option
// running past the end or past number 65535, a payload marker with no payload.
Result<Message> parse(ByteView datagram);
// kUsage for what cannot be encoded: a token over 8 octets, an option value over 65535 + 269 octets, an Empty
// message with a token, options or payload.
Result<Bytes> serialize(const Message& message);

}  // namespace m2msec::coap

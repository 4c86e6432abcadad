#include "m2msec/est/wire.h"

#include "m2msec/core/encoding.h"

namespace m2msec::est {

std::string mime_base64(ByteView der) {
  const std::string flat = base64_encode(der);
  std::string out;
  for (std::size_t i = 0; i < flat.size(); i += 64) {
    out.append(flat, i, 64);
    out += "\r\n";
  }
  return out;
}

Result<Bytes> mime_base64_decode(std::string_view body) {
  std::string flat;
  flat.reserve(body.size());
  for (char c : body) {
    if (c != '\r' && c != '\n' && c != ' ' && c != '\t') flat.push_back(c);
  }
  auto decoded = base64_decode(flat);
  if (!decoded) return Error(Category::kProtocol, "body is not base64: " + decoded.error().detail());
  return decoded;
}

}  // namespace m2msec::est

// The "certs-only" CMS/PKCS #7 message (a SignedData with certificates and no signers, RFC 7030 clause
// 4.1.3, RFC 5652 clause 5): how EST carries CA certificates and issued certificates.
#pragma once

#include <span>
#include <vector>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/pki/certificate.h"

namespace m2msec::pki {

// DER of a certs-only SignedData holding certs in this order.
Result<Bytes> encode_certs_only(std::span<const Certificate> certs);
// The certificates of a certs-only SignedData (DER, nothing after it), in message order. A message that
// is not a SignedData, carries signers or no certificate is refused (Category::kProtocol).
Result<std::vector<Certificate>> decode_certs_only(ByteView der);

}  // namespace m2msec::pki

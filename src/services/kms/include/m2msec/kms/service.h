// The KMS as a resource of m2msecd (role kms). The interface between a MEF and its KMS is a back end that
// seed 002 does not specify (8.3.7.2 NOTE 2 only says what crosses it); ours, on request primitives:
//   kms               RETRIEVE: <KMSBase> with KPAK and Z_S, for any caller over a security association
//   kms, CREATE ty=7010 {ibid}: SSK, PVT and the RSK of that identity, for the callers the operator lists
//                     (a MEF); anyone else gets ORIGINATOR_HAS_NO_PRIVILEGE.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "m2msec/kms/kms.h"
#include "m2msec/onem2m/primitive.h"
#include "m2msec/tls/session.h"

namespace m2msec::kms {

struct ServiceOptions {
  std::shared_ptr<const LocalIssuer> issuer;
  // The identities (as the association binds them) that may have keys issued: the MEFs this KMS serves.
  std::set<std::string> clients;
};

class Service {
 public:
  explicit Service(ServiceOptions options) : m_options(std::move(options)) {}
  // Never throws. From must be the identity the association authenticated (ORIGINATOR_NOT_AUTHENTICATED).
  onem2m::Response handle(const onem2m::Request& request, const tls::Session* session) const;

 private:
  ServiceOptions m_options;
};

}  // namespace m2msec::kms

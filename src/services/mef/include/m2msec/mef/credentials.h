// What an Enrolment Target obtains from the MEF for an enrolee's KeID (TS-0003 V3.18.0 8.3.2.1 step 6,
// Table 8.3.2.1-5), and where it comes from: the MEF in the same process, or a MEF over the HTTP binding
// (client module). The MAF uses it to learn the Km of a client that presents its KeID (8.8.2.3).
#pragma once

#include <string>

#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"
#include "m2msec/keys/derive.h"
#include "m2msec/keys/identifiers.h"
#include "m2msec/store/store.h"

namespace m2msec::mef {

struct FetchedCredential {
  SecretBytes key;          // Credential
  std::string enrolee_id;   // EnroleeID
  store::Time expires{};    // Lifetime
};

class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  virtual Result<FetchedCredential> fetch(const keys::KeId& ke_id, keys::Suid suid) const = 0;
};

class Service;

// The MEF in this process, asked on behalf of `target_id` (the fetching target's identity).
class LocalCredentialSource final : public CredentialSource {
 public:
  LocalCredentialSource(std::shared_ptr<const Service> mef, std::string target_id)
      : m_mef(std::move(mef)), m_target(std::move(target_id)) {}
  Result<FetchedCredential> fetch(const keys::KeId& ke_id, keys::Suid suid) const override;

 private:
  std::shared_ptr<const Service> m_mef;
  std::string m_target;
};

}  // namespace m2msec::mef

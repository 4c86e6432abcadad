// The Key Management Service of the IBC credentials (seed 002 8.3.7.2 NOTE 2): it holds the master secrets, KSAK
// (ECCSI, RFC 6507) and z_S (SAKKE, RFC 6508), publishes KPAK and Z_S, and issues, for an identity, the pair
// (SSK, PVT) and the Receiver Secret Key K_(ID,S). The MEF asks it for the ID_2 it made.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "m2msec/core/bytes.h"
#include "m2msec/core/result.h"
#include "m2msec/core/secret.h"
#include "m2msec/ibc/eccsi.h"
#include "m2msec/ibc/sakke.h"
#include "m2msec/onem2m/primitive.h"
#include "m2msec/tls/session.h"

namespace m2msec::kms {

struct MasterKeys {
  ibc::EccsiKms eccsi;
  ibc::SakkeKms sakke;
};
Result<MasterKeys> generate_master(Rng& rng = crypto::system_rng());
// The master file: two lines "ksak=<hex>" and "z=<hex>" (secret: the caller writes it readable by its owner only).
SecretBytes master_text(const MasterKeys& keys);
Result<MasterKeys> parse_master(std::string_view text);

struct PublicParameters {
  Bytes kpak;  // ECCSI KPAK
  Bytes z;     // SAKKE Z_S
};
// The keys of one identity, with the public keys they are valid under (one answer, so a KMS over the wire is asked
// once).
struct IssuedKeys {
  ibc::EccsiUserKey eccsi;  // SSK, PVT
  SecretBytes rsk;          // K_(ID,S)
  PublicParameters public_keys;
};

// What the MEF needs from a KMS, in the same process or over the wire.
class Issuer {
 public:
  virtual ~Issuer() = default;
  virtual Result<IssuedKeys> issue(ByteView id) const = 0;
};

class LocalIssuer final : public Issuer {
 public:
  explicit LocalIssuer(MasterKeys keys) : m_keys(std::move(keys)) {}
  PublicParameters parameters() const;
  Result<IssuedKeys> issue(ByteView id) const override;

 private:
  MasterKeys m_keys;
};

}  // namespace m2msec::kms
